import { cpuCores, memoryBytes } from "../../services/quantities";

/**
 * What every platform chart's containers request and may use, in one table: the chart values
 * write each entry where its chart reads it, and `npm run plan` adds them up (tools/deployPlan.ts)
 * from the values the program gives the releases. A test keeps the table equal to what the
 * charts render at their pinned versions (test/chart-workloads.test.ts).
 */

export interface ContainerSize {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface ChartWorkload {
  /** Pods it runs: a count, `perNode` for a DaemonSet, `oneShot` for a hook Job that exits. */
  pods: number | "perNode" | "oneShot";
  /**
   * Its containers by name, each with the values path (dot-separated) its chart reads the resources
   * from. Containers that share a path (a chart setting for several sidecars) share its size.
   */
  containers: Record<string, { values: string; size: ContainerSize }>;
}

/** A chart's workloads by name. */
export type ChartSizes = Record<string, ChartWorkload>;

const size = (request: [string, string], limit: [string, string]): ContainerSize => ({
  requests: { cpu: request[0], memory: request[1] },
  limits: { cpu: limit[0], memory: limit[1] },
});

/** The sidecars of Grafana and the operator's config reloader: small, mostly idle watchers. */
const WATCHER = size(["10m", "64Mi"], ["100m", "128Mi"]);
const CONFIG_RELOADER = size(["10m", "32Mi"], ["100m", "64Mi"]);

/** The release name kube-prometheus-stack installs under (PlatformCharts), which names its workloads. */
const KPS = "kps-kube-prometheus-stack";

export const KUBE_PROMETHEUS_STACK_SIZES = {
  [`${KPS}-prometheus`]: {
    pods: 1,
    containers: {
      prometheus: { values: "prometheus.prometheusSpec.resources", size: size(["500m", "2Gi"], ["2", "4Gi"]) },
      "config-reloader": { values: "prometheusOperator.prometheusConfigReloader.resources", size: CONFIG_RELOADER },
    },
  },
  [`${KPS}-alertmanager`]: {
    pods: 1,
    containers: {
      alertmanager: {
        values: "alertmanager.alertmanagerSpec.resources",
        size: size(["50m", "64Mi"], ["200m", "128Mi"]),
      },
      "config-reloader": { values: "prometheusOperator.prometheusConfigReloader.resources", size: CONFIG_RELOADER },
    },
  },
  [`${KPS}-operator`]: {
    pods: 1,
    containers: {
      "kube-prometheus-stack": {
        values: "prometheusOperator.resources",
        size: size(["100m", "128Mi"], ["500m", "256Mi"]),
      },
    },
  },
  [`${KPS}-admission-create`]: {
    pods: "oneShot",
    containers: {
      create: { values: "prometheusOperator.admissionWebhooks.patch.resources", size: CONFIG_RELOADER },
    },
  },
  [`${KPS}-admission-patch`]: {
    pods: "oneShot",
    containers: {
      patch: { values: "prometheusOperator.admissionWebhooks.patch.resources", size: CONFIG_RELOADER },
    },
  },
  "kps-grafana": {
    pods: 1,
    containers: {
      grafana: { values: "grafana.resources", size: size(["100m", "256Mi"], ["500m", "512Mi"]) },
      "grafana-sc-dashboard": { values: "grafana.sidecar.resources", size: WATCHER },
      "grafana-sc-datasources": { values: "grafana.sidecar.resources", size: WATCHER },
    },
  },
  "kps-kube-state-metrics": {
    pods: 1,
    containers: {
      "kube-state-metrics": {
        values: "kube-state-metrics.resources",
        size: size(["50m", "128Mi"], ["200m", "256Mi"]),
      },
    },
  },
  "kps-prometheus-node-exporter": {
    pods: "perNode",
    containers: {
      "node-exporter": {
        values: "prometheus-node-exporter.resources",
        size: size(["50m", "32Mi"], ["200m", "64Mi"]),
      },
    },
  },
} satisfies ChartSizes;

export const LOKI_SIZES = {
  loki: {
    pods: 1,
    containers: { loki: { values: "singleBinary.resources", size: size(["250m", "512Mi"], ["1", "2Gi"]) } },
  },
} satisfies ChartSizes;

export const PROMTAIL_SIZES = {
  promtail: {
    pods: "perNode",
    containers: { promtail: { values: "resources", size: size(["50m", "128Mi"], ["500m", "256Mi"]) } },
  },
} satisfies ChartSizes;

/** Jaeger's memory is the stack's tracing.memory: its traces live in it (components/observability/tracing.ts). */
export function jaegerSizes(memory: string) {
  return {
    jaeger: {
      pods: 1,
      containers: { jaeger: { values: "allInOne.resources", size: size(["100m", memory], ["1", memory]) } },
    },
  } satisfies ChartSizes;
}

/** Kong's proxy; the autoscaler starts at `pods` (KONG_REPLICAS.min). */
export function kongSizes(pods: number) {
  return {
    "kong-kong": {
      pods,
      containers: { proxy: { values: "resources", size: size(["250m", "256Mi"], ["1", "512Mi"]) } },
    },
  } satisfies ChartSizes;
}

export const ELASTICSEARCH_SIZES = {
  "elasticsearch-master": {
    pods: 3,
    containers: {
      elasticsearch: { values: "resources", size: size(["500m", "2Gi"], ["2", "2Gi"]) },
      // The init container that raises vm.max_map_count on the node.
      "configure-sysctl": { values: "initResources", size: size(["10m", "16Mi"], ["100m", "32Mi"]) },
    },
  },
} satisfies ChartSizes;

export const LOGSTASH_SIZES = {
  "logstash-logstash": {
    pods: 2,
    containers: { logstash: { values: "resources", size: size(["100m", "1536Mi"], ["1", "1536Mi"]) } },
  },
} satisfies ChartSizes;

export const FILEBEAT_SIZES = {
  "filebeat-filebeat": {
    pods: "perNode",
    containers: { filebeat: { values: "daemonset.resources", size: size(["100m", "100Mi"], ["1", "200Mi"]) } },
  },
} satisfies ChartSizes;

export const KIBANA_SIZES = {
  "kibana-kibana": {
    pods: 1,
    containers: { kibana: { values: "resources", size: size(["500m", "1Gi"], ["1", "2Gi"]) } },
  },
} satisfies ChartSizes;

/**
 * The Cluster Autoscaler (chart cluster-autoscaler, release `cluster-autoscaler` with
 * `fullnameOverride: cluster-autoscaler`): one Deployment, its container named after the cloud
 * provider and chart (templates/_helpers.tpl "cluster-autoscaler.name"). The request is the AWS
 * example manifest's (cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml: 100m, 600Mi).
 */
export const CLUSTER_AUTOSCALER_SIZES = {
  "cluster-autoscaler": {
    pods: 1,
    containers: {
      "aws-cluster-autoscaler": { values: "resources", size: size(["100m", "600Mi"], ["500m", "600Mi"]) },
    },
  },
} satisfies ChartSizes;

/**
 * The in-cluster broker's RabbitmqCluster, not a chart: the Cluster Operator runs its nodes as the
 * StatefulSet `<cluster>-server` and sizes their `rabbitmq` container from the cluster's
 * spec.resources (cluster-operator 2.22.3, internal/resource/statefulset.go).
 */
export const RABBITMQ_SIZES = {
  "rabbitmq-server": {
    pods: 3,
    containers: { rabbitmq: { values: "resources", size: size(["500m", "1Gi"], ["2", "2Gi"]) } },
  },
} satisfies ChartSizes;

/** Writes each container's size where its chart reads it in `values` (which it returns, changed). */
export function withSizes<V extends Record<string, unknown>>(values: V, sizes: ChartSizes): V {
  for (const workload of Object.values(sizes)) {
    for (const { values: at, size: resources } of Object.values(workload.containers)) {
      const keys = at.split(".");
      let node: Record<string, unknown> = values;
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[keys.at(-1)!] = resources;
    }
  }
  return values;
}

/** What is at a dot-separated path of chart values, if anything. */
export function valueAt(values: unknown, at: string): unknown {
  return at.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
}

export interface Requests {
  cpu: number;
  memoryBytes: number;
}

/**
 * The requests of a chart's workloads as its `values` set them, at the paths the sizes table
 * names: what runs once, and what every node runs (DaemonSets). Hook Jobs exit and are not counted.
 */
export function chartRequests(sizes: ChartSizes, values: unknown): { fixed: Requests; perNode: Requests } {
  const sum = { fixed: { cpu: 0, memoryBytes: 0 }, perNode: { cpu: 0, memoryBytes: 0 } };
  for (const workload of Object.values(sizes)) {
    if (workload.pods === "oneShot") continue;
    const [into, pods] = workload.pods === "perNode" ? [sum.perNode, 1] : [sum.fixed, workload.pods];
    for (const [name, container] of Object.entries(workload.containers)) {
      const requests = (valueAt(values, container.values) as ContainerSize | undefined)?.requests;
      if (!requests) throw new Error(`no resources at ${container.values} for ${name}`);
      into.cpu += cpuCores(requests.cpu) * pods;
      into.memoryBytes += memoryBytes(requests.memory) * pods;
    }
  }
  return sum;
}
