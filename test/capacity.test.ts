import { strict as assert } from "assert";
import * as path from "path";
import { PlatformConfig, readPlatformConfig } from "../stacks/config";
import { ValidationError } from "../services/problems";
import { cpuCores, memoryBytes } from "../services/quantities";
import { BUILTIN_CATALOGS, readCatalogFile } from "../services/load";
import { RecordedResource, runLayersUnderMocks } from "../tools/mockRun";
import { runProgram } from "../stacks/program";
import { deployPlan } from "../tools/deployPlan";
import { platformChartSizes } from "../components/kubernetes/chartValues";
import { BROKER_OPERATOR_REQUESTS } from "../components/kubernetes/InClusterBroker";
import { Load, PROD_RELEASES, allocatable, catalogRequests, maxPods, totalRequests } from "../components/aws/capacity";
import { RABBITMQ_CLUSTER } from "../components/kubernetes/rabbitmqObjects";
import { seedProdRun } from "./helpers/prodRuns";
import { catalogDocument, withCatalogFile, writeCatalog } from "./helpers/catalogFiles";
import { prodLayers } from "./helpers/stackConfigs";

const projectDir = path.join(__dirname, "..");
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** A layer's config as the program reads it: its AWS settings resolved, or the one error listing every problem. */
function resolve(config: Record<string, string>, stack = "prod-infra") {
  const { config: read } = readPlatformConfig((key) => config[key], stack, projectDir);
  return (read as Extract<PlatformConfig, { target: "aws" }>).aws;
}
function problemsOf(config: Record<string, string>): string[] {
  try {
    resolve(config);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

/** The containers' requests of a pod template, times its pods. */
function podRequests(containers: any[], pods: number): Load {
  return containers.reduce(
    (sum: Load, c: any) => ({
      cpu: sum.cpu + cpuCores(c.resources.requests.cpu) * pods,
      memoryBytes: sum.memoryBytes + memoryBytes(c.resources.requests.memory) * pods,
      pods: sum.pods,
    }),
    { cpu: 0, memoryBytes: 0, pods },
  );
}
const add = (a: Load, b: Load): Load => ({
  cpu: a.cpu + b.cpu,
  memoryBytes: a.memoryBytes + b.memoryBytes,
  pods: a.pods + b.pods,
});

/**
 * What the platform layer declares, read from its recorded resources rather than from the capacity
 * module's tables: each Deployment's containers × its HPA's minReplicas (1 for a singleton), each
 * StatefulSet's containers × its replicas, the RabbitmqCluster and the chart releases (by their values).
 */
function declaredRequests(platform: RecordedResource[]): { fixed: Load; perNode: Load } {
  const minReplicas = new Map(
    platform
      .filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
      .map((r) => [r.inputs.spec.scaleTargetRef.name, r.inputs.spec.minReplicas]),
  );
  let fixed: Load = { cpu: 0, memoryBytes: 0, pods: 0 };
  for (const r of platform) {
    if (r.type === "kubernetes:apps/v1:Deployment") {
      const pods = r.inputs.spec.replicas ?? minReplicas.get(r.inputs.metadata.name);
      fixed = add(fixed, podRequests(r.inputs.spec.template.spec.containers, pods));
    }
    if (r.type === "kubernetes:apps/v1:StatefulSet") {
      fixed = add(fixed, podRequests(r.inputs.spec.template.spec.containers, r.inputs.spec.replicas));
    }
  }
  const charts = deployPlan(platform, platformChartSizes("1Gi")).platformRequests!;
  // Pods of the releases and the RabbitmqCluster the program declares, by the workloads each runs.
  const sizes = platformChartSizes("1Gi");
  const workloads = [
    ...platform.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.name),
    ...platform.filter((r) => r.type === "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster").map(() => RABBITMQ_CLUSTER),
  ].flatMap((release) => Object.values(sizes[release]));
  const pods = (which: "fixed" | "perNode") =>
    workloads.reduce(
      (n, w) => n + (which === "perNode" ? Number(w.pods === "perNode") : typeof w.pods === "number" ? w.pods : 0),
      0,
    );
  return {
    fixed: add(fixed, { ...charts.fixed, pods: pods("fixed") }),
    perNode: { ...charts.perNode, pods: pods("perNode") },
  };
}

/** The kube-system pods and the broker's operators: what the program applies from manifests it does not render. */
function addonsAndOperators(parts: ReturnType<typeof catalogRequests>) {
  const named = new Set(["EKS add-ons", ...BROKER_OPERATOR_REQUESTS.map((o) => o.name)]);
  return totalRequests(parts.filter((p) => named.has(p.name)));
}

function assertClose(actual: Load, expected: Load, what: string) {
  assert.equal(actual.pods, expected.pods, `${what} pods`);
  assert.ok(Math.abs(actual.cpu - expected.cpu) < 1e-6, `${what} cpu: ${actual.cpu} vs ${expected.cpu}`);
  assert.ok(
    Math.abs(actual.memoryBytes - expected.memoryBytes) < 1,
    `${what} memory: ${actual.memoryBytes} vs ${expected.memoryBytes}`,
  );
}

/** Nodes that hold `fixed` plus `perNode` on each, at `fill` of `node`, computed directly. */
function expectedNodes(total: { fixed: Load; perNode: Load }, node: Load, fill: number): number {
  let nodes = 1;
  const fits = (n: number) =>
    (["cpu", "memoryBytes"] as const).every(
      (k) => total.fixed[k] + n * total.perNode[k] <= n * node[k] * fill + 1e-6,
    ) && total.fixed.pods + n * total.perNode.pods <= n * node.pods;
  while (!fits(nodes)) nodes++;
  return nodes;
}

describe("capacity check of the default node group (components/aws/capacity.ts)", function () {
  this.timeout(600_000);

  it("gives an m6i.large what the AL2023 AMI leaves to pods", () => {
    // 3 ENIs × (10 IPv4 − 1) + 2 (nodeadm's table and formula).
    assert.equal(maxPods("m6i.large"), 29);
    const node = allocatable("m6i.large");
    // kubeReserved CPU: 6% of the first core, 1% of the second.
    assert.ok(Math.abs(node.cpu - (2 - 0.06 - 0.01)) < 1e-9);
    // 8 GiB less the VM overhead (7.5%), kubeReserved 255Mi + 11Mi × 29 pods, eviction 100Mi.
    assert.equal(node.memoryBytes, 8 * GiB * 0.925 - (255 + 11 * 29) * MiB - 100 * MiB);
    // 4 vCPUs: 60m + 10m + 2 × 5m.
    assert.ok(Math.abs(allocatable("m6i.xlarge").cpu - (4 - 0.08)) < 1e-9);
  });

  for (const catalog of BUILTIN_CATALOGS) {
    it(`${catalog}: counts what the prod program declares, and sizes the node group from it`, async () => {
      const run = await seedProdRun(catalog);
      const aws = resolve(prodLayers(catalog)[0].config);
      const report = aws.capacity!;
      const platform = run.resources.filter((r) => r.stack === "prod");
      const declared = declaredRequests(platform);
      const extra = addonsAndOperators(report.parts);
      assertClose(report.total.fixed, add(declared.fixed, extra.fixed), "fixed");
      assertClose(report.total.perNode, add(declared.perNode, extra.perNode), "per node");

      const node = allocatable("m6i.large");
      const needed = expectedNodes(report.total, node, 1);
      const desired = Math.min(aws.eks.maxNodes, Math.max(3, expectedNodes(report.total, node, 0.8)));
      assert.equal(report.needed, needed);
      const nodeGroup = run.resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup")!;
      assert.deepEqual(nodeGroup.inputs.scalingConfig, {
        minSize: Math.min(desired, Math.max(3, needed)),
        desiredSize: desired,
        maxSize: aws.eks.maxNodes,
      });
    });
  }

  it("counts the in-cluster broker, its operators and the ELK charts when the stack runs them", async () => {
    const layers = prodLayers(
      "bookings",
      { broker: { mode: "in-cluster" } },
      {
        "platform:observability": JSON.stringify({ logs: "elk" }),
      },
    );
    const run = await runLayersUnderMocks(layers, () => runProgram(projectDir));
    const report = resolve(layers[0].config).capacity!;
    const platform = run.resources.filter((r) => r.stack === "prod");
    const declared = declaredRequests(platform);
    const extra = addonsAndOperators(report.parts);
    assert.ok(extra.fixed.cpu > totalRequests(report.parts.filter((p) => p.name === "EKS add-ons")).fixed.cpu);
    assertClose(report.total.fixed, add(declared.fixed, extra.fixed), "fixed");
    assertClose(report.total.perNode, add(declared.perNode, extra.perNode), "per node");
    const releases = platform.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.name);
    assert.deepEqual(releases.sort(), [...PROD_RELEASES.elk].sort());
  });

  it("installs the releases it counts for Loki", async () => {
    const run = await seedProdRun("bookings");
    const releases = run.resources
      .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
      .map((r) => r.inputs.name)
      .sort();
    assert.deepEqual(releases, [...PROD_RELEASES.loki].sort());
  });

  it("refuses a catalog that cannot fit maxNodes, with the numbers, naming the field", () => {
    const document = catalogDocument("bookings");
    // Ten replicas of 4 CPU (a 2 CPU request each) and 6Gi: 20 CPU and 60 GiB for this service alone.
    document.services.push({
      name: "batch-scorer",
      image: "me/scorer:1.0.0",
      port: 9000,
      replicas: 10,
      resources: { cpu: "4", memory: "6Gi" },
    });
    const file = writeCatalog(document);
    const problems = problemsOf(withCatalogFile(prodLayers("bookings")[0].config, file));
    assert.equal(problems.length, 1, problems.join("\n"));
    const [problem] = problems;
    assert.match(problem, /^platform:aws\.eks\.maxNodes: /);
    const stores = { broker: "amazon-mq", mongodb: "in-cluster" } as const;
    const observability = { logs: "loki", tracing: { memory: "1Gi" } } as const;
    const total = totalRequests(catalogRequests(readCatalogFile(file).catalog!, stores, observability));
    const needed = expectedNodes(total, allocatable("m6i.large"), 1);
    assert.ok(needed > 9);
    assert.ok(problem.includes(`${needed} nodes are needed, maxNodes is 9`), problem);
    assert.ok(problem.includes(`request ${Number(total.fixed.cpu.toFixed(2))} CPU`), problem);
    assert.ok(problem.includes("a m6i.large node offers 1.93 CPU"), problem);
    // The same catalog fits larger nodes.
    const larger = prodLayers("bookings", { eks: { nodeInstanceTypes: ["m6i.4xlarge"] } })[0].config;
    assert.deepEqual(problemsOf(withCatalogFile(larger, file)), []);
  });

  it("counts pods against what the VPC CNI lets a node run, when they bind before CPU and memory", () => {
    const services = Array.from({ length: 60 }, (_, i) => ({
      name: `tiny-${i}`,
      image: "me/tiny:1.0.0",
      port: 9000 + i,
      resources: { cpu: "20m", memory: "32Mi" },
    }));
    const file = writeCatalog({ name: "tiny", services });
    const stores = { broker: "amazon-mq", mongodb: "in-cluster" } as const;
    const total = totalRequests(
      catalogRequests(readCatalogFile(file).catalog!, stores, { logs: "loki", tracing: { memory: "1Gi" } }),
    );
    const node = allocatable("m6i.large");
    const byPods = Math.ceil(total.fixed.pods / (node.pods - total.perNode.pods));
    const byCpu = Math.ceil(total.fixed.cpu / (node.cpu - total.perNode.cpu));
    assert.ok(byPods > byCpu, `pods bind: ${byPods} nodes by pods, ${byCpu} by CPU`);
    const problems = problemsOf(withCatalogFile(prodLayers("tiny", { eks: { maxNodes: byPods - 1 } })[0].config, file));
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.ok(problems[0].includes(`${byPods} nodes are needed, maxNodes is ${byPods - 1}`), problems[0]);
    assert.ok(problems[0].includes(`${total.fixed.pods} pods`), problems[0]);
  });

  it("keeps explicit node counts, and refuses a desiredNodes the requests do not fit (nothing adds nodes)", () => {
    const sized = (eks: Record<string, unknown>) => resolve(prodLayers("erp", { eks })[0].config).eks;
    const auto = sized({});
    assert.ok(auto.desiredNodes > 3, "erp needs more than one node per zone");
    const explicit = sized({ minNodes: 4, desiredNodes: 12, maxNodes: 15 });
    assert.deepEqual([explicit.minNodes, explicit.desiredNodes, explicit.maxNodes], [4, 12, 15]);
    // Only min set: desired is sized, never below it.
    const onlyMin = sized({ minNodes: 9, maxNodes: 20 });
    assert.equal(onlyMin.minNodes, 9);
    assert.ok(onlyMin.desiredNodes >= 9);
    const problems = problemsOf(prodLayers("erp", { eks: { desiredNodes: 3 } })[0].config);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(
      problems[0],
      /^platform:aws\.eks\.desiredNodes: .* nodes are needed and nothing adds any beyond desiredNodes 3/,
    );
  });

  it("checks on the infrastructure layer only (the platform layer's node settings are unused)", () => {
    const tight = { eks: { maxNodes: 1 } };
    assert.ok(problemsOf(prodLayers("erp", tight)[0].config).some((p) => p.startsWith("platform:aws.eks.maxNodes")));
    assert.doesNotThrow(() => resolve(prodLayers("erp", tight)[1].config, "prod"));
  });

  it("refuses a node type it has no figures for, listing those it has", () => {
    const problems = problemsOf(prodLayers("bookings", { eks: { nodeInstanceTypes: ["x9.huge"] } })[0].config);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^platform:aws\.eks\.nodeInstanceTypes: x9\.huge: the capacity check knows .*m6i\.large/);
  });
});
