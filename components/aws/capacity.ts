import { Catalog } from "../../services/schema";
import { usesBroker } from "../../services/validate";
import { cpuCores, memoryBytes } from "../../services/quantities";
import { Problem, error } from "../../services/problems";
import { ObservabilitySettings } from "../observability/settings";
import { prodReplicas, resourceRequirements } from "../kubernetes/podSpec";
import { ChartSizes, Requests, chartRequests, withSizes } from "../kubernetes/chartSizes";
import { platformChartSizes } from "../kubernetes/chartValues";
import { inClusterDatabaseRequests } from "../kubernetes/InClusterDatabase";
import { BROKER_OPERATOR_REQUESTS } from "../kubernetes/InClusterBroker";
import { EXPORTER_RESOURCES } from "../kubernetes/QueueDepthExporter";
import { RABBITMQ_CLUSTER } from "../kubernetes/rabbitmqObjects";

/**
 * Node sizes the capacity check knows: vCPUs and memory (GiB) from the EC2 instance type pages, and
 * the default network card's ENIs and IPv4 addresses per ENI as nodeadm's table has them
 * (awslabs/amazon-eks-ami nodeadm/internal/kubelet/instance-info.jsonl, which the AMI's max pods
 * come from).
 */
export const INSTANCE_TYPES: Record<string, { vcpus: number; memoryGiB: number; enis: number; ipsPerEni: number }> = {
  "t3.medium": { vcpus: 2, memoryGiB: 4, enis: 3, ipsPerEni: 6 },
  "t3.large": { vcpus: 2, memoryGiB: 8, enis: 3, ipsPerEni: 12 },
  "t3.xlarge": { vcpus: 4, memoryGiB: 16, enis: 4, ipsPerEni: 15 },
  "m5.large": { vcpus: 2, memoryGiB: 8, enis: 3, ipsPerEni: 10 },
  "m5.xlarge": { vcpus: 4, memoryGiB: 16, enis: 4, ipsPerEni: 15 },
  "m5.2xlarge": { vcpus: 8, memoryGiB: 32, enis: 4, ipsPerEni: 15 },
  "m6i.large": { vcpus: 2, memoryGiB: 8, enis: 3, ipsPerEni: 10 },
  "m6i.xlarge": { vcpus: 4, memoryGiB: 16, enis: 4, ipsPerEni: 15 },
  "m6i.2xlarge": { vcpus: 8, memoryGiB: 32, enis: 4, ipsPerEni: 15 },
  "m6i.4xlarge": { vcpus: 16, memoryGiB: 64, enis: 8, ipsPerEni: 30 },
  "m6a.large": { vcpus: 2, memoryGiB: 8, enis: 3, ipsPerEni: 10 },
  "m6a.xlarge": { vcpus: 4, memoryGiB: 16, enis: 4, ipsPerEni: 15 },
  "m6a.2xlarge": { vcpus: 8, memoryGiB: 32, enis: 4, ipsPerEni: 15 },
  "m7i.large": { vcpus: 2, memoryGiB: 8, enis: 3, ipsPerEni: 10 },
  "m7i.xlarge": { vcpus: 4, memoryGiB: 16, enis: 4, ipsPerEni: 15 },
  "m7i.2xlarge": { vcpus: 8, memoryGiB: 32, enis: 4, ipsPerEni: 15 },
  "c6i.xlarge": { vcpus: 4, memoryGiB: 8, enis: 4, ipsPerEni: 15 },
  "c6i.2xlarge": { vcpus: 8, memoryGiB: 16, enis: 4, ipsPerEni: 15 },
  "r6i.large": { vcpus: 2, memoryGiB: 16, enis: 3, ipsPerEni: 10 },
  "r6i.xlarge": { vcpus: 4, memoryGiB: 32, enis: 4, ipsPerEni: 15 },
  "r6i.2xlarge": { vcpus: 8, memoryGiB: 64, enis: 4, ipsPerEni: 15 },
};

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Share of an instance's memory the hypervisor and kernel keep, so that the node's capacity is
 * below its nominal size: Karpenter's default estimate (VM_MEMORY_OVERHEAD_PERCENT 0.075,
 * https://karpenter.sh/docs/reference/settings/).
 */
const VM_MEMORY_OVERHEAD = 0.075;
/** The kubelet's hard eviction threshold on AL2023 nodes (nodeadm/internal/kubelet/config.go: memory.available 100Mi). */
const EVICTION_HARD_BYTES = 100 * MiB;

/**
 * Pods a node takes with the VPC CNI (no prefix delegation): ENIs × (IPv4 per ENI − 1) + 2, as
 * nodeadm computes it (nodeadm/internal/kubelet/eni_max_pods.go, calculateStandardMaxPods).
 */
export function maxPods(instanceType: string): number {
  const { enis, ipsPerEni } = INSTANCE_TYPES[instanceType];
  return enis * (ipsPerEni - 1) + 2;
}

/**
 * CPU the AL2023 AMI reserves for the kubelet and runtime (kubeReserved): 6% of the first core,
 * 1% of the second, 0.5% of the next two, 0.25% of the rest (nodeadm/internal/kubelet/config.go,
 * getCPUMillicoresToReserve).
 */
function reservedCpu(vcpus: number): number {
  const tiers: Array<[number, number]> = [
    [1, 0.06],
    [2, 0.01],
    [4, 0.005],
    [Infinity, 0.0025],
  ];
  let reserved = 0;
  let from = 0;
  for (const [to, share] of tiers) {
    reserved += Math.max(0, Math.min(vcpus, to) - from) * share;
    from = to;
  }
  return reserved;
}

/**
 * What a node of the type offers pods: its capacity less kubeReserved (CPU tiers; memory 255Mi +
 * 11Mi per pod it may run, nodeadm/internal/kubelet/config.go getMemoryMebibytesToReserve) and the
 * hard eviction threshold.
 */
export function allocatable(instanceType: string): Load {
  const { vcpus, memoryGiB } = INSTANCE_TYPES[instanceType];
  const pods = maxPods(instanceType);
  const kubeReservedMemory = (255 + 11 * pods) * MiB;
  return {
    cpu: vcpus - reservedCpu(vcpus),
    memoryBytes: memoryGiB * GiB * (1 - VM_MEMORY_OVERHEAD) - kubeReservedMemory - EVICTION_HARD_BYTES,
    pods,
  };
}

/** Requests and the pods that make them (a node runs at most `maxPods`, host-network pods included). */
export type Load = Requests & { pods: number };

/**
 * The EKS add-ons' own pods (kube-system), as their manifests request: CoreDNS two replicas of 100m
 * and 70Mi (coredns deployment manifest); the VPC CNI's aws-node 25m (its chart's
 * `resources.requests`) and kube-proxy 100m on every node; the EBS CSI driver's controller two
 * replicas of 10m and 40Mi and its node pod 10m and 40Mi on every node (aws-ebs-csi-driver chart
 * values, controller.resources and node.resources; the sidecars set none); the Pod Identity agent
 * on every node, counted as a pod only.
 */
const EKS_ADDON_REQUESTS: { fixed: Load; perNode: Load } = {
  fixed: { cpu: 2 * 0.1 + 2 * 0.01, memoryBytes: 2 * 70 * MiB + 2 * 40 * MiB, pods: 4 },
  perNode: { cpu: 0.025 + 0.1 + 0.01, memoryBytes: 40 * MiB, pods: 4 },
};

/**
 * The chart releases prod installs, by `platform:observability.logs` (components/kubernetes/PlatformCharts.ts,
 * and the Cluster Autoscaler's in AwsPlatform.ts).
 */
export const PROD_RELEASES: Record<ObservabilitySettings["logs"], string[]> = {
  loki: ["kps", "jaeger", "kong", "loki", "promtail", "cluster-autoscaler"],
  elk: ["kps", "jaeger", "kong", "elasticsearch", "logstash", "filebeat", "kibana", "cluster-autoscaler"],
};

/** One line of the sum: what runs once (`fixed`) and what every node runs (`perNode`). */
export interface RequestPart {
  name: string;
  fixed: Load;
  perNode: Load;
}

const NONE: Load = { cpu: 0, memoryBytes: 0, pods: 0 };
const requests = (cpu: string, memory: string, pods: number): Load => ({
  cpu: cpuCores(cpu) * pods,
  memoryBytes: memoryBytes(memory) * pods,
  pods,
});

/** A chart's requests at its sizes table's own values, with its pods (hook Jobs exit and do not count). */
function chartLoad(name: string, table: ChartSizes): RequestPart {
  const { fixed, perNode } = chartRequests(table, withSizes({}, table));
  const workloads = Object.values(table);
  const fixedPods = workloads.reduce((n, w) => n + (typeof w.pods === "number" ? w.pods : 0), 0);
  const perNodePods = workloads.filter((w) => w.pods === "perNode").length;
  return { name, fixed: { ...fixed, pods: fixedPods }, perNode: { ...perNode, pods: perNodePods } };
}

/** The stores and broker the catalog runs in the cluster on prod (by the stack's modes). */
export interface ClusterStores {
  broker: "amazon-mq" | "in-cluster";
  mongodb: "in-cluster" | "documentdb";
}

/**
 * What a catalog requests on prod, part by part: each service's pods (prodReplicas), the in-cluster
 * databases' members, the in-cluster broker and its operators, the platform charts (their sizes
 * table), and the EKS add-ons. Jobs exit and are not counted.
 */
export function catalogRequests(
  catalog: Catalog,
  stores: ClusterStores,
  observability: Pick<ObservabilitySettings, "logs" | "tracing">,
): RequestPart[] {
  const fixed = (name: string, sum: Load): RequestPart => ({ name, fixed: sum, perNode: NONE });
  const parts = catalog.services.map((service) => {
    const { cpu, memory } = resourceRequirements(service).requests;
    return fixed(`service ${service.name}`, requests(cpu, memory, prodReplicas(service)));
  });
  for (const service of catalog.services) {
    const kind = service.database.kind;
    if (kind === "clickhouse" || (kind === "mongodb" && stores.mongodb === "in-cluster")) {
      const { members, cpu, memory } = inClusterDatabaseRequests(kind);
      parts.push(fixed(`${kind} of ${service.name}`, requests(cpu, memory, members)));
    }
  }
  const sizes = platformChartSizes(observability.tracing.memory);
  if (stores.broker === "in-cluster" && catalog.services.some(usesBroker)) {
    parts.push(chartLoad("broker", sizes[RABBITMQ_CLUSTER]));
    for (const operator of BROKER_OPERATOR_REQUESTS) {
      parts.push(fixed(operator.name, requests(operator.cpu, operator.memory, operator.pods)));
    }
  }
  if (stores.broker === "amazon-mq" && catalog.services.some(usesBroker)) {
    // Amazon MQ's queue depths reach Prometheus through one exporter pod (QueueDepthExporter).
    const { cpu, memory } = EXPORTER_RESOURCES.requests;
    parts.push(fixed("queue-depth exporter", requests(cpu, memory, 1)));
  }
  parts.push(...PROD_RELEASES[observability.logs].map((release) => chartLoad(`chart ${release}`, sizes[release])));
  parts.push({ name: "EKS add-ons", ...EKS_ADDON_REQUESTS });
  return parts;
}

/** The parts added up. */
export function totalRequests(parts: RequestPart[]): { fixed: Load; perNode: Load } {
  const add = (a: Load, b: Load): Load => ({
    pods: a.pods + b.pods,
    cpu: a.cpu + b.cpu,
    memoryBytes: a.memoryBytes + b.memoryBytes,
  });
  return parts.reduce((sum, part) => ({ fixed: add(sum.fixed, part.fixed), perNode: add(sum.perNode, part.perNode) }), {
    fixed: NONE,
    perNode: NONE,
  });
}

/**
 * The fewest nodes whose allocatable CPU and memory, filled to `fill`, and pods hold the fixed load
 * plus every node's DaemonSets; Infinity when the DaemonSets alone fill a node.
 */
export function nodesNeeded(total: { fixed: Load; perNode: Load }, node: Load, fill = 1): number {
  const per = (resource: keyof Load, share: number) => {
    const room = node[resource] * share - total.perNode[resource];
    return room <= 0 ? Infinity : Math.ceil(total.fixed[resource] / room - 1e-9);
  };
  return Math.max(1, per("cpu", fill), per("memoryBytes", fill), per("pods", 1));
}

/** The zones the prod network and its node group spread over (one node in each at least). */
export const PROD_ZONES = 3;
/** Share of the nodes' allocatable the default node count fills, leaving room for a rollout's surge and a node drain. */
export const TARGET_FILL = 0.8;

/** The node group's settings the check reads; min and desired unset mean "size them from the requests". */
export interface NodeGroupSettings {
  nodeInstanceTypes: string[];
  minNodes?: number;
  desiredNodes?: number;
  maxNodes: number;
}

/** The capacity check's figures, and the node counts the node group gets. */
export interface CapacityReport {
  parts: RequestPart[];
  total: { fixed: Load; perNode: Load };
  /** The smallest of the node types (a managed node group may start any of them). */
  instanceType: string;
  allocatable: Load;
  /** Nodes that hold the requests at 100%, and at TARGET_FILL. */
  needed: number;
  recommended: number;
  nodes: { min: number; desired: number; max: number };
  /** Which of min and desired the stack config set (the others were sized here). */
  explicit: { min: boolean; desired: boolean };
}

/**
 * The capacity check of the default node group: what the catalog and the platform request against
 * what its nodes offer. Unset min/desired are sized from the requests (at least one node per zone);
 * set ones stay as they are and are checked. Nothing adds nodes beyond `desiredNodes` (no
 * autoscaler), so the requests must fit them, and `maxNodes` must allow as many.
 */
export function checkCapacity(
  eks: NodeGroupSettings,
  parts: RequestPart[],
  field: (key: string) => string,
): { problems: Problem[]; report?: CapacityReport } {
  const unknown = eks.nodeInstanceTypes.filter((type) => !(type in INSTANCE_TYPES));
  if (unknown.length > 0) {
    const message = `${unknown.join(", ")}: the capacity check knows ${Object.keys(INSTANCE_TYPES).join(", ")} (components/aws/capacity.ts)`;
    return { problems: [error(field("eks.nodeInstanceTypes"), message)] };
  }
  const [instanceType] = [...eks.nodeInstanceTypes].sort(
    (a, b) => allocatable(a).cpu - allocatable(b).cpu || allocatable(a).memoryBytes - allocatable(b).memoryBytes,
  );
  const node = allocatable(instanceType);
  const total = totalRequests(parts);
  const needed = nodesNeeded(total, node);
  const recommended = Math.max(PROD_ZONES, nodesNeeded(total, node, TARGET_FILL));
  const desired = eks.desiredNodes ?? Math.max(eks.minNodes ?? 0, Math.min(recommended, eks.maxNodes));
  const min = eks.minNodes ?? Math.min(desired, Math.max(PROD_ZONES, needed));
  const report: CapacityReport = {
    parts,
    total,
    instanceType,
    allocatable: node,
    needed,
    recommended,
    nodes: { min, desired, max: eks.maxNodes },
    explicit: { min: eks.minNodes !== undefined, desired: eks.desiredNodes !== undefined },
  };
  return { problems: capacityProblems(report, field), report };
}

function capacityProblems(report: CapacityReport, field: (key: string) => string): Problem[] {
  const { needed, nodes, instanceType } = report;
  const figures = `${describeRequests(report)}; a ${instanceType} node offers ${formatRequests(report.allocatable)}`;
  if (!Number.isFinite(needed)) {
    return [
      error(field("eks.nodeInstanceTypes"), `${figures}: the DaemonSets alone fill a node; choose a larger type`),
    ];
  }
  const problems: Problem[] = [];
  if (nodes.max < needed) {
    problems.push(
      error(
        field("eks.maxNodes"),
        `${figures}: ${needed} nodes are needed, maxNodes is ${nodes.max}; raise it or choose a larger type`,
      ),
    );
  }
  if (report.explicit.desired && nodes.desired < needed) {
    problems.push(
      error(
        field("eks.desiredNodes"),
        `${figures}: ${needed} nodes are needed and nothing adds any beyond desiredNodes ${nodes.desired}; raise it or leave it unset to size it from the requests`,
      ),
    );
  }
  return problems;
}

/** "1.95 CPU, 9.3 GiB" (and ", 12 pods" with a count) */
export function formatRequests({ cpu, memoryBytes, pods }: Requests & { pods?: number }): string {
  const count = pods === undefined ? "" : `, ${pods} pods`;
  return `${Number(cpu.toFixed(2))} CPU, ${(memoryBytes / GiB).toFixed(1)} GiB${count}`;
}

/** "the catalog and the platform request 9.1 CPU, 20.3 GiB, plus 0.3 CPU, 0.3 GiB on every node" */
export function describeRequests(report: Pick<CapacityReport, "total">): string {
  const { fixed, perNode } = report.total;
  return `the catalog and the platform request ${formatRequests(fixed)}, plus ${formatRequests(perNode)} on every node`;
}

/** What `npm run plan` prints of the check. */
export function renderCapacity(report: CapacityReport): string[] {
  const { nodes, explicit } = report;
  const source = (set: boolean) => (set ? "stack config" : "sized from the requests");
  return [
    `capacity: ${describeRequests(report)} (DaemonSets)`,
    `  a ${report.instanceType} node offers ${formatRequests(report.allocatable)} after the AMI's reservations`,
    `  nodes needed: ${report.needed} at 100%, ${report.recommended} at ${TARGET_FILL * 100}% (at least ${PROD_ZONES}, one per zone)`,
    `  node group: min ${nodes.min} (${source(explicit.min)}), desired ${nodes.desired} (${source(explicit.desired)}), max ${nodes.max}; no autoscaler adds nodes beyond desired`,
  ];
}
