/**
 * Chart values that a chart writes into a ConfigMap as they are, by chart name and at the chart
 * version the platform pins (components/kubernetes/PlatformCharts.ts, InClusterBroker.ts): a value
 * there is as readable as any ConfigMap, whatever the Release's own inputs say. Values the charts
 * render into Secrets (Promtail's `config`, RabbitMQ's `configuration`) are not listed.
 */
export interface ConfigMapValues {
  /** The values path, as keys (a key may hold a dot: `grafana.ini`). */
  path: string[];
  /** The template that renders it, for the reader. */
  template: string;
  /** When the chart renders it into a ConfigMap only under a setting. */
  when?: (values: Record<string, any>) => boolean;
}

/** The Grafana chart's (8.5.12) ConfigMap: templates/configmap.yaml, its data "grafana.configData" (templates/_config.tpl). */
const GRAFANA: ConfigMapValues[] = [
  ...["plugins", "grafana.ini", "datasources", "notifiers", "alerting", "dashboardProviders", "dashboards"].map(
    (key) => ({ path: [key], template: "grafana 8.5.12 templates/configmap.yaml (_config.tpl grafana.configData)" }),
  ),
];

export const CHART_CONFIGMAP_VALUES: Record<string, ConfigMapValues[]> = {
  "kube-prometheus-stack": [
    // 65.8.1: the datasources of the Grafana sidecar, with the extra ones appended (lines 81-83).
    { path: ["grafana", "additionalDataSources"], template: "templates/grafana/configmaps-datasources.yaml" },
    // The Grafana subchart's own values, under `grafana`.
    ...GRAFANA.map((entry) => ({ ...entry, path: ["grafana", ...entry.path] })),
  ],
  grafana: GRAFANA,
  kong: [{ path: ["dblessConfig", "config"], template: "kong 2.47.0 templates/config-dbless.yaml" }],
  loki: [
    // helm-loki 6.18.0: the whole `loki` block makes "loki.calculatedConfig", a ConfigMap by default.
    {
      path: ["loki"],
      template: "templates/config.yaml",
      when: (values) => values.loki?.configStorageType !== "Secret",
    },
  ],
  promtail: [
    {
      path: ["config"],
      template: "promtail 6.16.6 templates/configmap.yaml (a Secret, templates/secret.yaml, unless configmap.enabled)",
      when: (values) => values.configmap?.enabled === true,
    },
  ],
  jaeger: [
    { path: ["allInOne", "samplingConfig"], template: "jaeger 3.3.1 templates/allinone-configmap.yaml" },
    { path: ["collector", "samplingConfig"], template: "templates/collector-configmap.yaml" },
    { path: ["query", "config"], template: "templates/query-configmap.yaml" },
    { path: ["query", "oAuthSidecar", "config"], template: "templates/oauth-sidecar-configmap.yaml" },
  ],
  // Elastic's charts 8.5.1.
  elasticsearch: [
    { path: ["esConfig"], template: "elasticsearch templates/configmap.yaml" },
    { path: ["esJvmOptions"], template: "elasticsearch templates/configmap.yaml" },
  ],
  logstash: [
    { path: ["logstashConfig"], template: "logstash templates/configmap-config.yaml" },
    { path: ["logstashPattern"], template: "logstash templates/configmap-pattern.yaml" },
    { path: ["logstashPipeline"], template: "logstash templates/configmap-pipeline.yaml" },
  ],
  filebeat: ["filebeatConfig", "daemonset.filebeatConfig", "deployment.filebeatConfig"].map((path) => ({
    path: path.split("."),
    template: "filebeat templates/configmap.yaml",
  })),
  kibana: [{ path: ["kibanaConfig"], template: "kibana templates/configmap.yaml" }],
  // Bitnami's 14.7.0: `configuration` goes to a Secret (templates/config-secret.yaml), init scripts to a ConfigMap.
  rabbitmq: [{ path: ["initScripts"], template: "rabbitmq templates/init-configmap.yaml" }],
};

/** A Release's chart by name: `kube-prometheus-stack`, or an OCI reference's last part (`rabbitmq`). */
export function chartName(chart: unknown): string {
  return String(chart ?? "")
    .split("/")
    .pop()!;
}

/** The values a Release's chart renders into ConfigMaps, each with its path under `values`. */
export function configMapValues(
  chart: unknown,
  values: Record<string, any> | undefined,
): Array<{ path: string[]; value: unknown }> {
  return (CHART_CONFIGMAP_VALUES[chartName(chart)] ?? [])
    .filter((entry) => values && (entry.when?.(values) ?? true))
    .map((entry) => ({ path: entry.path, value: entry.path.reduce((node: any, key) => node?.[key], values) }))
    .filter(({ value }) => value !== undefined);
}
