/**
 * kube-prometheus-stack 65.8.1's default rules and own scrape targets, as `helm template` renders them
 * (release `kps`): which values render each, and which jobs it names or yields. Every value these
 * name defaults to true in the chart's values.yaml, so only an explicit `false` of ours turns one off.
 */

const KPS = "kps-kube-prometheus-stack";

/**
 * The rule files that name a job (templates/prometheus/rules-1.14/<file>, line 1 gates each on
 * defaultRules.create and the values below), with the jobs of their expressions' `job="..."` matchers;
 * etcd.yaml matches `job=~".*etcd.*"`, the chart's `kube-etcd`.
 */
const DEFAULT_RULE_FILES: Array<{ file: string; when: string[]; jobs: string[] }> = [
  { file: "alertmanager.rules.yaml", when: ["defaultRules.rules.alertmanager"], jobs: [`${KPS}-alertmanager`] },
  { file: "etcd.yaml", when: ["kubeEtcd.enabled", "defaultRules.rules.etcd"], jobs: ["kube-etcd"] },
  ...[
    ["k8s.rules.container_cpu_usage_seconds_total.yaml", "k8sContainerCpuUsageSecondsTotal"],
    ["k8s.rules.container_memory_cache.yaml", "k8sContainerMemoryCache"],
    ["k8s.rules.container_memory_rss.yaml", "k8sContainerMemoryRss"],
    ["k8s.rules.container_memory_swap.yaml", "k8sContainerMemorySwap"],
    ["k8s.rules.container_memory_working_set_bytes.yaml", "k8sContainerMemoryWorkingSetBytes"],
  ].map(([file, rule]) => ({ file, when: [`defaultRules.rules.${rule}`], jobs: ["kubelet"] })),
  ...[
    ["k8s.rules.container_resource.yaml", "k8sContainerResource"],
    ["k8s.rules.pod_owner.yaml", "k8sPodOwner"],
    ["kube-state-metrics.yaml", "kubeStateMetrics"],
    ["kubernetes-apps.yaml", "kubernetesApps"],
    ["kubernetes-resources.yaml", "kubernetesResources"],
  ].map(([file, rule]) => ({ file, when: [`defaultRules.rules.${rule}`], jobs: ["kube-state-metrics"] })),
  ...["Availability", "Burnrate", "Histogram"].map((kind) => ({
    file: `kube-apiserver-${kind.toLowerCase()}.rules.yaml`,
    when: ["kubeApiServer.enabled", `defaultRules.rules.kubeApiserver${kind}`],
    jobs: ["apiserver"],
  })),
  {
    file: "kube-scheduler.rules.yaml",
    when: ["kubeScheduler.enabled", "defaultRules.rules.kubeSchedulerRecording"],
    jobs: ["kube-scheduler"],
  },
  {
    file: "kubernetes-system-scheduler.yaml",
    when: ["kubeScheduler.enabled", "defaultRules.rules.kubeSchedulerAlerting"],
    jobs: ["kube-scheduler"],
  },
  {
    file: "kubernetes-system-controller-manager.yaml",
    when: ["kubeControllerManager.enabled", "defaultRules.rules.kubeControllerManager"],
    jobs: ["kube-controller-manager"],
  },
  {
    file: "kubernetes-system-kube-proxy.yaml",
    when: ["kubeProxy.enabled", "defaultRules.rules.kubeProxy"],
    jobs: ["kube-proxy"],
  },
  { file: "kubelet.rules.yaml", when: ["kubelet.enabled", "defaultRules.rules.kubelet"], jobs: ["kubelet"] },
  {
    file: "kubernetes-storage.yaml",
    when: ["defaultRules.rules.kubernetesStorage"],
    jobs: ["kube-state-metrics", "kubelet"],
  },
  { file: "kubernetes-system.yaml", when: ["defaultRules.rules.kubernetesSystem"], jobs: ["apiserver"] },
  { file: "kubernetes-system-apiserver.yaml", when: ["defaultRules.rules.kubernetesSystem"], jobs: ["apiserver"] },
  {
    file: "kubernetes-system-kubelet.yaml",
    when: ["defaultRules.rules.kubernetesSystem"],
    jobs: ["kube-state-metrics", "kubelet"],
  },
  ...[
    ["node-exporter.rules.yaml", "nodeExporterRecording"],
    ["node-exporter.yaml", "nodeExporterAlerting"],
    ["node-network.yaml", "network"],
  ].map(([file, rule]) => ({ file, when: [`defaultRules.rules.${rule}`], jobs: ["node-exporter"] })),
  { file: "node.rules.yaml", when: ["defaultRules.rules.node"], jobs: ["kube-state-metrics", "node-exporter"] },
  {
    file: "prometheus-operator.yaml",
    when: ["defaultRules.rules.prometheusOperator"],
    jobs: [`${KPS}-operator`],
  },
  { file: "prometheus.yaml", when: ["defaultRules.rules.prometheus"], jobs: [`${KPS}-prometheus`] },
];

/**
 * The chart's own ServiceMonitors (its subcharts' node-exporter and kube-state-metrics aside: the
 * alert test's CHART_JOBS has them), the values that render each, the job the operator gives it
 * (its Service's `jobLabel` label, else the Service's name), and whether an EKS cluster has the target.
 */
const KPS_SCRAPE_TARGETS: Array<{ template: string; when: string[]; job: string; onEks: boolean }> = [
  // The `kubernetes` Service in `default`, labelled component=apiserver.
  {
    template: "exporters/kube-api-server/servicemonitor.yaml",
    when: ["kubeApiServer.enabled", "kubernetesServiceMonitors.enabled"],
    job: "apiserver",
    onEks: true,
  },
  {
    template: "exporters/kubelet/servicemonitor.yaml",
    when: ["kubelet.enabled", "kubernetesServiceMonitors.enabled"],
    job: "kubelet",
    onEks: true,
  },
  // EKS's CoreDNS add-on: pods labelled k8s-app=kube-dns, metrics on 9153.
  {
    template: "exporters/core-dns/servicemonitor.yaml",
    when: ["coreDns.enabled", "coreDns.serviceMonitor.enabled", "kubernetesServiceMonitors.enabled"],
    job: "coredns",
    onEks: true,
  },
  // EKS runs the control plane outside the cluster: no pod has these labels.
  ...["kube-controller-manager:kubeControllerManager", "kube-scheduler:kubeScheduler", "kube-etcd:kubeEtcd"].map(
    (entry) => {
      const [job, key] = entry.split(":");
      return {
        template: `exporters/${job}/servicemonitor.yaml`,
        when: [`${key}.enabled`, `${key}.serviceMonitor.enabled`, "kubernetesServiceMonitors.enabled"],
        job,
        onEks: false,
      };
    },
  ),
  // The kube-proxy add-on serves metrics on 127.0.0.1 only, and resets any change to that
  // (aws/containers-roadmap#657).
  {
    template: "exporters/kube-proxy/servicemonitor.yaml",
    when: ["kubeProxy.enabled", "kubeProxy.serviceMonitor.enabled", "kubernetesServiceMonitors.enabled"],
    job: "kube-proxy",
    onEks: false,
  },
  ...["alertmanager", "prometheus", "prometheusOperator"].map((key) => ({
    template: `${key === "prometheusOperator" ? "prometheus-operator" : key}/servicemonitor.yaml`,
    when: [`${key}.enabled`, `${key}.serviceMonitor.selfMonitor`],
    job: `${KPS}-${key === "prometheusOperator" ? "operator" : key}`,
    onEks: true,
  })),
];

const at = (values: any, path: string): unknown => path.split(".").reduce((node, key) => node?.[key], values);
/** A chart switch as our values leave it: on unless set false. */
const enabled = (values: unknown, when: string[]) => when.every((path) => at(values, path) !== false);

/** The jobs the default rules that `values` render name, by rule file. */
export function defaultRuleJobs(values: unknown): Map<string, string[]> {
  const rules = enabled(values, ["defaultRules.create"]) ? DEFAULT_RULE_FILES : [];
  return new Map(rules.filter((r) => enabled(values, r.when)).map((r) => [r.file, r.jobs]));
}

/** The jobs the chart's own ServiceMonitors give an EKS cluster's Prometheus with `values`. */
export function kpsScrapeJobsOnEks(values: unknown): string[] {
  return KPS_SCRAPE_TARGETS.filter((t) => t.onEks && enabled(values, t.when)).map((t) => t.job);
}
