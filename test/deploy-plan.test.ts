import { strict as assert } from "assert";
import { RecordedResource } from "../tools/mockRun";
import { creationSeconds, deployPlan, planGantt, renderDeployPlan } from "../tools/deployPlan";
import { criticalPathGantt, startOrderGantt } from "../tools/deployGantt";
import { parseGantt } from "./helpers/mermaid";

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
      node("shop", "kubernetes:core/v1:Namespace", [], {
        metadata: { name: "shop", labels: { "platform/catalog": "shop" } },
      }),
      // The platform's own (the queue-depth exporter) is no catalog service.
      node("exporter", "kubernetes:apps/v1:Deployment", [], { metadata: { name: "exporter", namespace: "messaging" } }),
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

describe("deploy plan as gantt charts (tools/deployGantt.ts)", () => {
  const container = (name: string, deps: string[], inputs: Record<string, unknown> = {}) =>
    node(name, "docker:index/container:Container", deps, inputs);
  // Pull 20 s, a database healthy after 30 s, a local build of 90 s, and a service that needs both.
  const dev = deployPlan([
    node("db-image", "docker:index/remoteImage:RemoteImage"),
    container("db", ["db-image"], { wait: true }),
    container("exporter", ["db"]),
    node("app-image", "docker:index/image:Image"),
    container("app", ["db", "app-image"]),
    node("password", "random:index/randomPassword:RandomPassword"),
  ]);

  it("starts each dev container once what it waits for is there, and marks the critical path with the build on it", () => {
    const { title, tasks } = parseGantt(startOrderGantt("dev", dev)!);
    assert.equal(title, "dev");
    assert.deepEqual(
      tasks.map(({ name, start, end, critical }) => [name, start, end, critical]),
      [
        ["app-image (Image)", 0, 90, true],
        ["db", 20, 50, false],
        ["exporter", 50, 55, false],
        ["app", 90, 95, true],
      ],
    );
    assert.equal(startOrderGantt("prod", deployPlan([node("vpc", "aws:ec2/vpc:Vpc")])), undefined, "no containers");
  });

  it("lays the prod layers' critical paths end to end, leaving out what takes no time", () => {
    const infra = deployPlan([
      node("vpc", "aws:ec2/vpc:Vpc"),
      node("cluster", "aws:eks/cluster:Cluster", ["vpc"]),
      node("secret", "random:index/randomPassword:RandomPassword"),
    ]);
    const platform = deployPlan([
      node("ns", "kubernetes:core/v1:Namespace"),
      node("chart", "kubernetes:helm.sh/v3:Release", ["ns"]),
    ]);
    const { tasks } = parseGantt(
      criticalPathGantt("prod", [
        { name: "prod-infra", plan: infra },
        { name: "prod", plan: platform },
      ]),
    );
    assert.deepEqual(
      tasks.map(({ section, name, start, end }) => [section, name, start, end]),
      [
        ["prod-infra", "vpc (Vpc)", 0, 5],
        ["prod-infra", "cluster (Cluster)", 5, 605],
        ["prod", "ns (Namespace)", 605, 610],
        ["prod", "chart (Release)", 610, 790],
      ],
    );
    assert.equal(tasks.at(-1)!.end, infra.estimatedSeconds + platform.estimatedSeconds);
  });

  it("keeps task text Mermaid would read as syntax out: a colon, a comment, a keyword at the start", () => {
    const plan = deployPlan([node("gantt-eks:x%y", "aws:eks/cluster:Cluster"), node("click", "aws:ec2/vpc:Vpc")]);
    const names = parseGantt(criticalPathGantt("odd", [{ name: "prod", plan }])).tasks.map((t) => t.name);
    assert.deepEqual(names, ["- gantt-eks x y (Cluster)"]);
    assert.throws(
      () => parseGantt("gantt\n  title t\n  dateFormat HH:mm:ss\n  axisFormat %M:%S\n  a :00:00:01, 00:00:02"),
      /no task of a section/,
    );
  });

  it("is what npm run plan adds: the start order on dev, the critical path on prod", () => {
    assert.match(planGantt("dev", dev), /title dev: containers in start order, estimated pulumi up 1 min 35 s\n/);
    const prod = deployPlan([node("vpc", "aws:ec2/vpc:Vpc")]);
    assert.deepEqual(
      parseGantt(planGantt("prod", prod)).tasks.map((t) => t.name),
      ["vpc (Vpc)"],
    );
  });
});
