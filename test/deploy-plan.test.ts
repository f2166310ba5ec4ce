import { strict as assert } from "assert";
import { RecordedResource } from "../tools/mockRun";
import { creationSeconds, deployPlan, renderDeployPlan } from "../tools/deployPlan";

const node = (
  name: string,
  type: string,
  dependencies: string[] = [],
  inputs: Record<string, unknown> = {},
): RecordedResource => ({
  stack: "test",
  type,
  name,
  urn: `urn:${name}`,
  parent: "",
  custom: true,
  dependencies: dependencies.map((d) => `urn:${d}`),
  provider: "",
  inputs,
  wire: {},
});

describe("deploy plan", () => {
  it("follows the longest chain by estimated seconds, not by count", () => {
    const plan = deployPlan([
      node("vpc", "aws:ec2/vpc:Vpc"),
      node("cluster", "aws:eks/cluster:Cluster", ["vpc"]),
      node("sg", "aws:ec2/securityGroup:SecurityGroup", ["vpc"]),
      node("broker", "aws:mq/broker:Broker", ["sg"]),
      node("a", "aws:iam/role:Role", ["vpc"]),
      node("b", "aws:iam/role:Role", ["a"]),
      node("c", "aws:iam/role:Role", ["b"]),
    ]);
    assert.deepEqual(
      plan.criticalPath.map((s) => s.name),
      ["vpc", "sg", "broker"],
    );
    assert.equal(plan.estimatedSeconds, 5 + 5 + 1200);
    assert.equal(plan.width, 3, "cluster, sg and role a start together");
    assert.equal(plan.resources, 7);
  });

  it("counts a container Pulumi waits on as its healthcheck time, and sums memory of every container, one-shots too", () => {
    const waited = node("db", "docker:index/container:Container", [], { wait: true, memory: 512 });
    const oneShot = node("bootstrap", "docker:index/container:Container", ["db"], { mustRun: false, memory: 256 });
    assert.equal(creationSeconds(waited), 30);
    assert.equal(creationSeconds(oneShot), 5);
    assert.equal(deployPlan([waited, oneShot]).containerMemoryMiB, 768);
  });

  it("tells the prod Deployments of singletons from the others, and names the singletons in its output", () => {
    const deployment = (name: string, annotations?: Record<string, string>) =>
      node(name, "kubernetes:apps/v1:Deployment", [], { metadata: { name, namespace: "shop", annotations } });
    const plan = deployPlan([
      deployment("orders"),
      deployment("scheduler", { "platform/singleton": "true" }),
      deployment("audit", { "platform/singleton": "true" }),
      deployment("payments", { "example.com/owner": "team" }),
    ]);
    assert.deepEqual(plan.deployments, { singletons: ["audit", "scheduler"], replicated: ["orders", "payments"] });
    assert.equal(
      renderDeployPlan("prod", plan).at(-1),
      "services: 2 run at least 2 pods with a disruption budget; singletons (catalog singleton: true; one pod, stopped by a node drain): audit, scheduler",
    );
    const dev = deployPlan([node("db", "docker:index/container:Container", [], { memory: 512 })]);
    assert.ok(!renderDeployPlan("dev", dev).some((line) => line.startsWith("services:")), "dev runs no Deployments");
    assert.match(renderDeployPlan("dev", dev, "6Gi").at(-1)!, /0\.5 GiB in all, budget 6Gi/);
  });

  it("refuses a dependency cycle", () => {
    assert.throws(
      () =>
        deployPlan([
          node("a", "docker:index/network:Network", ["b"]),
          node("b", "docker:index/network:Network", ["a"]),
        ]),
      /dependency cycle/,
    );
  });
});
