import * as path from "path";
import { stackLayers } from "./stackConfig";
import { RecordedResource } from "./mockRun";
import { runStack } from "./stackRun";
import { runCli } from "./cli";
import { criticalPathGantt, startOrderGantt } from "./deployGantt";
import { PROD_MIN_REPLICAS, SINGLETON_ANNOTATION } from "../components/kubernetes/podSpec";
import { ChartSizes, Requests, chartRequests } from "../components/kubernetes/chartSizes";
import { platformChartSizes } from "../components/kubernetes/chartValues";
import { ObservabilitySettingsSchema } from "../components/observability/settings";
import { formatRequests, renderCapacity } from "../components/aws/capacity";
import { readPlatformConfig } from "../stacks/config";

/**
 * Typical creation times in seconds, by resource type (prefix match, longest first). Sources:
 * AWS's documented/observed provisioning times (EKS control plane 8-12 min, Multi-AZ RDS
 * 10-15 min, Amazon MQ cluster 15-25 min, ElastiCache 8-12 min, NAT gateway 1-2 min, DocumentDB
 * cluster 5-10 min and each instance 8-12 min, a CloudFront distribution deployed to every edge
 * location 5-10 min) and local
 * Docker (image pull ~20 s, a local build of a small Node.js service with its `npm ci` and
 * compile ~90 s, a container with a healthcheck it waits for ~30 s).
 */
/** A ConfigFile is a component the provider implements: its objects are created, unlike a local component's. */
const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";

export const CREATION_SECONDS: Array<[string, number]> = [
  ["aws:eks/cluster:Cluster", 600],
  ["aws:eks/nodeGroup:NodeGroup", 300],
  ["aws:eks/addon:Addon", 60],
  ["aws:rds/instance:Instance", 900],
  ["aws:mq/broker:Broker", 1200],
  ["aws:elasticache/replicationGroup:ReplicationGroup", 600],
  ["aws:ec2/natGateway:NatGateway", 120],
  ["aws:docdb/cluster:Cluster", 420],
  ["aws:docdb/clusterInstance:ClusterInstance", 600],
  ["aws:cloudfront/distribution:Distribution", 420],
  ["aws:", 5],
  ["kubernetes:helm.sh/v3:Release", 180],
  // A release manifest applied whole, awaited until its operator's Deployment serves (the broker's
  // operators, cert-manager); the broker's three nodes starting and forming their cluster.
  [CONFIG_FILE, 120],
  ["kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", 300],
  ["kubernetes:batch/v1:Job", 60],
  ["kubernetes:", 5],
  ["docker:index/remoteImage:RemoteImage", 20],
  ["docker:index/image:Image", 90],
  ["docker:index/container:Container", 5],
  ["docker:", 1],
  ["random:", 0],
  ["pulumi:providers:", 0],
  ["", 1],
];

export function creationSeconds(resource: RecordedResource): number {
  // A container Pulumi waits on (wait: true) takes as long as its healthcheck needs to pass.
  if (resource.type === "docker:index/container:Container" && resource.inputs.wait) return 30;
  return CREATION_SECONDS.find(([prefix]) => resource.type.startsWith(prefix))![1];
}

/** One resource's creation: when it can start (all it needs created) and how long it takes, in seconds. */
export interface PlannedStep {
  name: string;
  type: string;
  start: number;
  seconds: number;
}

export interface DeployPlan {
  resources: number;
  /** Longest chain of dependent creations, by estimated seconds. */
  criticalPath: PlannedStep[];
  /** Every resource, in declaration order, started as soon as what it depends on is created. */
  schedule: PlannedStep[];
  estimatedSeconds: number;
  /** Most resources that can be created at the same dependency depth. */
  width: number;
  /** Sum of container memory limits (dev), one-shot containers included, MiB. */
  containerMemoryMiB: number;
  /** The catalog's services as Kubernetes Deployments (prod): those that run one pod, and the others. */
  deployments: { singletons: string[]; replicated: string[] };
  /** What the platform's chart releases request (prod): their pods once, and their DaemonSets' on every node. */
  platformRequests?: { fixed: Requests; perNode: Requests };
}

const RELEASE = "kubernetes:helm.sh/v3:Release";
const RABBITMQ_CLUSTER = "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster";

/** What each resource waits for: its dependencies and its provider, among the planned resources. */
function dependencyEdges(nodes: RecordedResource[], byUrn: Map<string, RecordedResource>): Map<string, string[]> {
  return new Map(
    nodes.map((r) => {
      const provider = r.provider ? r.provider.split("::").slice(0, -1).join("::") : "";
      const deps = [...r.dependencies, ...(provider ? [provider] : [])].filter(
        (urn) => byUrn.has(urn) && urn !== r.urn,
      );
      return [r.urn, [...new Set(deps)]];
    }),
  );
}

/**
 * Dependency graph of the custom resources (components are only grouping), and with `chartSizes`
 * (by release name) the chart releases' requests, read from their values where the table puts them.
 */
export function deployPlan(recorded: RecordedResource[], chartSizes?: Record<string, ChartSizes>): DeployPlan {
  const nodes = recorded.filter((r) => r.custom || r.type.startsWith("pulumi:providers:") || r.type === CONFIG_FILE);
  const byUrn = new Map(nodes.map((r) => [r.urn, r]));
  const edges = dependencyEdges(nodes, byUrn);
  const finish = new Map<string, { seconds: number; via?: string; depth: number }>();
  const visit = (urn: string, trail: Set<string>): { seconds: number; depth: number } => {
    const known = finish.get(urn);
    if (known) return known;
    if (trail.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    trail.add(urn);
    let start = 0;
    let via: string | undefined;
    let depth = 0;
    for (const dep of edges.get(urn)!) {
      const done = visit(dep, trail);
      if (done.seconds >= start) {
        start = done.seconds;
        via = dep;
      }
      depth = Math.max(depth, done.depth + 1);
    }
    trail.delete(urn);
    const result = { seconds: start + creationSeconds(byUrn.get(urn)!), via, depth };
    finish.set(urn, result);
    return result;
  };
  nodes.forEach((r) => visit(r.urn, new Set()));

  let last = [...finish.entries()].reduce((a, b) => (b[1].seconds > a[1].seconds ? b : a))[0] as string | undefined;
  const step = (urn: string): PlannedStep => {
    const resource = byUrn.get(urn)!;
    const seconds = creationSeconds(resource);
    return { name: resource.name, type: resource.type, start: finish.get(urn)!.seconds - seconds, seconds };
  };
  const criticalPath: PlannedStep[] = [];
  while (last) {
    criticalPath.unshift(step(last));
    last = finish.get(last)!.via;
  }
  const levels = new Map<number, number>();
  for (const { depth } of finish.values()) levels.set(depth, (levels.get(depth) ?? 0) + 1);
  return {
    resources: nodes.length,
    criticalPath,
    schedule: nodes.map((r) => step(r.urn)),
    estimatedSeconds: criticalPath.reduce((sum, step) => sum + step.seconds, 0),
    width: Math.max(...levels.values()),
    containerMemoryMiB: recorded
      .filter((r) => r.type === "docker:index/container:Container")
      .reduce((sum, r) => sum + (r.inputs.memory ?? 0), 0),
    deployments: deploymentsByReplication(recorded),
    platformRequests: chartSizes && platformRequests(recorded, chartSizes),
  };
}

/**
 * What the platform's releases request as their values size them, and the in-cluster broker's
 * RabbitmqCluster as its spec does (the operator sizes its nodes from spec.resources).
 */
function platformRequests(
  recorded: RecordedResource[],
  chartSizes: Record<string, ChartSizes>,
): DeployPlan["platformRequests"] {
  const sized = [
    ...recorded.filter((r) => r.type === RELEASE).map((r) => ({ name: r.inputs.name, values: r.inputs.values })),
    ...recorded
      .filter((r) => r.type === RABBITMQ_CLUSTER)
      .map((r) => ({ name: r.inputs.metadata.name, values: r.inputs.spec })),
  ];
  if (sized.length === 0) return undefined;
  const sum = { fixed: { cpu: 0, memoryBytes: 0 }, perNode: { cpu: 0, memoryBytes: 0 } };
  for (const { name, values } of sized) {
    const sizes = chartSizes[name];
    if (!sizes) throw new Error(`release ${name} has no entry in the chart sizes table`);
    const requests = chartRequests(sizes, values);
    for (const part of ["fixed", "perNode"] as const) {
      sum[part].cpu += requests[part].cpu;
      sum[part].memoryBytes += requests[part].memoryBytes;
    }
  }
  return sum;
}

/** The catalog's Deployments: those in its namespace (labelled `platform/catalog`), not the platform's own. */
function deploymentsByReplication(recorded: RecordedResource[]): DeployPlan["deployments"] {
  const catalogNamespaces = new Set(
    recorded
      .filter((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata?.labels?.["platform/catalog"])
      .map((r) => r.inputs.metadata.name),
  );
  const deployments = recorded.filter(
    (r) => r.type === "kubernetes:apps/v1:Deployment" && catalogNamespaces.has(r.inputs.metadata?.namespace),
  );
  const names = (singleton: boolean) =>
    deployments
      .filter((d) => (d.inputs.metadata?.annotations?.[SINGLETON_ANNOTATION] === "true") === singleton)
      .map((d) => String(d.inputs.metadata?.name))
      .sort();
  return { singletons: names(true), replicated: names(false) };
}

export const minutes = (s: number) => `${Math.floor(s / 60)} min ${s % 60} s`;

/** What `npm run plan` prints; `memoryBudget` is the dev stack's platform:docker.memoryBudget. */
export function renderDeployPlan(stack: string, plan: DeployPlan, memoryBudget = "8Gi"): string[] {
  const lines = [
    `deploy plan of stack '${stack}': ${plan.resources} resources, width ${plan.width}, estimated pulumi up ${minutes(plan.estimatedSeconds)} (unbounded parallelism)`,
    "critical path:",
    ...plan.criticalPath
      .filter((s) => s.seconds > 0)
      .map((step) => `  ${String(step.seconds).padStart(5)} s  ${step.name} (${step.type})`),
  ];
  if (plan.containerMemoryMiB > 0) {
    // The same figure config validation holds against platform:docker.memoryBudget.
    lines.push(
      `container memory limits: ${(plan.containerMemoryMiB / 1024).toFixed(1)} GiB in all, ` +
        `budget ${memoryBudget} (platform:docker.memoryBudget)`,
    );
  }
  if (plan.platformRequests) {
    const { fixed, perNode } = plan.platformRequests;
    lines.push(
      `platform charts request ${formatRequests(fixed)}, plus ${formatRequests(perNode)} on every node (DaemonSets); ` +
        "as the releases' values set them (components/kubernetes/chartSizes.ts)",
    );
  }
  const { singletons, replicated } = plan.deployments;
  if (singletons.length + replicated.length > 0) {
    lines.push(
      `services: ${replicated.length} run at least ${PROD_MIN_REPLICAS} pods with a disruption budget; ` +
        (singletons.length
          ? `singletons (catalog singleton: true; one pod, stopped by a node drain): ${singletons.join(", ")}`
          : "no singletons"),
    );
  }
  return lines;
}

/** The chart `npm run plan` adds: a dev stack's containers in start order, or a prod layer's critical path. */
export function planGantt(stack: string, plan: DeployPlan): string {
  const estimate = `estimated pulumi up ${minutes(plan.estimatedSeconds)}`;
  return (
    startOrderGantt(`${stack}: containers in start order, ${estimate}`, plan) ??
    criticalPathGantt(`${stack}: critical path, ${estimate}`, [{ name: stack, plan }])
  );
}

/** The capacity check of the layer that makes the node group (prod's infrastructure layer), if it is an AWS one. */
export function capacityLines(layer: { stack: string; config: Record<string, string> }): string[] {
  const { config } = readPlatformConfig((key) => layer.config[key], layer.stack, path.join(__dirname, ".."));
  if (config.target !== "aws" || !config.aws.capacity) return [];
  return [`node group of stack '${layer.stack}':`, ...renderCapacity(config.aws.capacity)];
}

async function main(): Promise<number> {
  const stack = process.argv[2];
  if (!stack) {
    console.error("usage: npm run plan -- <stack>");
    return 2;
  }
  const layers = stackLayers(stack);
  const run = await runStack(layers);
  const docker = JSON.parse(layers[0].config["platform:docker"] ?? "{}") as { memoryBudget?: string };
  const { tracing } = ObservabilitySettingsSchema.parse(
    JSON.parse(layers.at(-1)!.config["platform:observability"] ?? "{}"),
  );
  const plan = deployPlan(run.resources, platformChartSizes(tracing.memory));
  for (const line of renderDeployPlan(stack, plan, docker.memoryBudget)) console.log(line);
  for (const line of capacityLines(layers[0])) console.log(line);
  console.log(["", "```mermaid", planGantt(stack, plan), "```"].join("\n"));
  return 0;
}

if (require.main === module) runCli(main);
