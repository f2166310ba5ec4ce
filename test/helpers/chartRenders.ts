/**
 * What the platform's charts render with the values the prod program gives them, written down from
 * `helm template` of each chart at its pinned version (render with ../shared/tools/helm-template):
 * every container, the values path its chart reads its resources from, and the image it runs as its
 * template composes it from the values. Tests check the sizes table and the engine table against this.
 */

type Values = any;

export interface RenderedContainer {
  /** The workload (Deployment, StatefulSet, DaemonSet, hook Job, or the operator's Prometheus/Alertmanager). */
  workload: string;
  container: string;
  /** Where its chart reads its resources, or why it cannot be set. */
  resources: string | { unsettable: string };
  image: (values: Values) => string;
}

const at = (values: Values, path: string): any => path.split(".").reduce((node, key) => node?.[key], values);

/** `<registry>/<repository>:<tag>` and `@sha256:<sha>` when set (kube-prometheus-stack, Grafana). */
const shaHex = (path: string) => (values: Values) => {
  const { registry, repository, tag, sha } = at(values, path);
  return `${registry}/${repository}:${tag}${sha ? `@sha256:${sha}` : ""}`;
};
/** `<registry>/<repository>:<tag>` and `@<sha>` when set (kube-state-metrics), `@<digest>` (node-exporter). */
const suffixed = (path: string, field: "sha" | "digest") => (values: Values) => {
  const image = at(values, path);
  return `${image.registry}/${image.repository}:${image.tag}${image[field] ? `@${image[field]}` : ""}`;
};
/** `<registry>/<repository>@<digest>`, or `:<tag>` without one (Loki's "loki.baseImage", Bitnami's common.images.image). */
const digestOrTag = (path: string) => (values: Values) => {
  const { registry, repository, tag, digest } = at(values, path);
  return `${registry}/${repository}${digest ? `@${digest}` : `:${tag}`}`;
};
/** `<registry>/<repository>:<tag>` with the tag as given (Promtail). */
const tagged = (path: string) => (values: Values) => {
  const { registry, repository, tag } = at(values, path);
  return `${registry}/${repository}:${tag}`;
};
/** `<image>:<imageTag>` (Elastic's charts). */
const elastic = (values: Values) => `${values.image}:${values.imageTag}`;

const KPS = "kps-kube-prometheus-stack";

/** By release name (PlatformCharts), and the in-cluster broker's RabbitmqCluster by its name. */
export const CHART_RENDERS: Record<string, RenderedContainer[]> = {
  // kube-prometheus-stack 65.8.1 with Grafana 8.5.12, kube-state-metrics 5.26.0, node-exporter 4.40.0.
  kps: [
    // templates/prometheus/prometheus.yaml:47-53 (image) and :128-130 (resources); the operator adds
    // config-reloader, sized by --config-reloader-* (templates/prometheus-operator/deployment.yaml:101-104).
    {
      workload: `${KPS}-prometheus`,
      container: "prometheus",
      resources: "prometheus.prometheusSpec.resources",
      image: shaHex("prometheus.prometheusSpec.image"),
    },
    {
      workload: `${KPS}-prometheus`,
      container: "config-reloader",
      resources: "prometheusOperator.prometheusConfigReloader.resources",
      // templates/prometheus-operator/deployment.yaml:96-100 (--prometheus-config-reloader)
      image: shaHex("prometheusOperator.prometheusConfigReloader.image"),
    },
    // templates/alertmanager/alertmanager.yaml:16-22 (image) and :89-91 (resources)
    {
      workload: `${KPS}-alertmanager`,
      container: "alertmanager",
      resources: "alertmanager.alertmanagerSpec.resources",
      image: shaHex("alertmanager.alertmanagerSpec.image"),
    },
    {
      workload: `${KPS}-alertmanager`,
      container: "config-reloader",
      resources: "prometheusOperator.prometheusConfigReloader.resources",
      image: shaHex("prometheusOperator.prometheusConfigReloader.image"),
    },
    // templates/prometheus-operator/deployment.yaml:53-57
    {
      workload: `${KPS}-operator`,
      container: "kube-prometheus-stack",
      resources: "prometheusOperator.resources",
      image: shaHex("prometheusOperator.image"),
    },
    // templates/prometheus-operator/admission-webhooks/job-patch/job-createSecret.yaml:34-39, job-patchWebhook.yaml:34-39
    {
      workload: `${KPS}-admission-create`,
      container: "create",
      resources: "prometheusOperator.admissionWebhooks.patch.resources",
      image: shaHex("prometheusOperator.admissionWebhooks.patch.image"),
    },
    {
      workload: `${KPS}-admission-patch`,
      container: "patch",
      resources: "prometheusOperator.admissionWebhooks.patch.resources",
      image: shaHex("prometheusOperator.admissionWebhooks.patch.image"),
    },
    // charts/grafana/templates/_pod.tpl:870-875 (grafana), :110-115 and :183-188 (the two sidecars
    // the values enable: dashboards, and datasources on by kube-prometheus-stack's default).
    { workload: "kps-grafana", container: "grafana", resources: "grafana.resources", image: shaHex("grafana.image") },
    {
      workload: "kps-grafana",
      container: "grafana-sc-dashboard",
      resources: "grafana.sidecar.resources",
      image: shaHex("grafana.sidecar.image"),
    },
    {
      workload: "kps-grafana",
      container: "grafana-sc-datasources",
      resources: "grafana.sidecar.resources",
      image: shaHex("grafana.sidecar.image"),
    },
    // charts/kube-state-metrics/templates/_helpers.tpl:123-137 ("kube-state-metrics.image")
    {
      workload: "kps-kube-state-metrics",
      container: "kube-state-metrics",
      resources: "kube-state-metrics.resources",
      image: suffixed("kube-state-metrics.image", "sha"),
    },
    // charts/prometheus-node-exporter/templates/_helpers.tpl:77-93 ("prometheus-node-exporter.image")
    {
      workload: "kps-prometheus-node-exporter",
      container: "node-exporter",
      resources: "prometheus-node-exporter.resources",
      image: suffixed("prometheus-node-exporter.image", "digest"),
    },
  ],
  // loki 6.18.0, SingleBinary without gateway, canary, rules sidecar or test:
  // templates/single-binary/statefulset.yaml, image from "loki.lokiImage" (templates/_helpers.tpl:162-179).
  loki: [
    { workload: "loki", container: "loki", resources: "singleBinary.resources", image: digestOrTag("loki.image") },
  ],
  // promtail 6.16.6: templates/_pod.tpl:44
  promtail: [{ workload: "promtail", container: "promtail", resources: "resources", image: tagged("image") }],
  // jaeger 3.3.1: templates/allinone-deploy.yaml:57, "renderImage" (templates/_helpers.tpl:556) over
  // Bitnami's common.images.image (charts/common 2.19.1, templates/_images.tpl:11-30).
  jaeger: [
    { workload: "jaeger", container: "jaeger", resources: "allInOne.resources", image: digestOrTag("allInOne.image") },
  ],
  // kong 2.47.0: templates/deployment.yaml:101 and :290, both containers from .Values.resources, and "kong.getRepoTag"
  // (templates/_helpers.tpl:1291-1297): unifiedRepoTag, else repository:tag.
  kong: ["clear-stale-pid", "proxy"].map((container) => ({
    workload: "kong-kong",
    container,
    resources: "resources",
    image: (values: Values) => values.image.unifiedRepoTag ?? `${values.image.repository}:${values.image.tag}`,
  })),
  // Elastic's 8.5.1 charts: `image: "{{ .Values.image }}:{{ .Values.imageTag }}"` throughout.
  // elasticsearch templates/statefulset.yaml:175-179 (configure-sysctl, initResources) and :234, :306.
  elasticsearch: [
    { workload: "elasticsearch-master", container: "configure-sysctl", resources: "initResources", image: elastic },
    { workload: "elasticsearch-master", container: "elasticsearch", resources: "resources", image: elastic },
  ],
  // logstash templates/statefulset.yaml:166
  logstash: [{ workload: "logstash-logstash", container: "logstash", resources: "resources", image: elastic }],
  // filebeat templates/daemonset.yaml:135 (daemonset.resources)
  filebeat: [
    { workload: "filebeat-filebeat", container: "filebeat", resources: "daemonset.resources", image: elastic },
  ],
  // kibana templates/deployment.yaml:99; the token Jobs (templates/pre-install-job.yaml:21,
  // post-delete-job.yaml:21) take no resources from the values.
  kibana: [
    { workload: "kibana-kibana", container: "kibana", resources: "resources", image: elastic },
    ...["pre-install-kibana-kibana/create-kibana-token", "post-delete-kibana-kibana/clean-kibana-token"].map(
      (name) => ({
        workload: name.split("/")[0],
        container: name.split("/")[1],
        resources: { unsettable: "the chart's hook Job has no resources setting" },
        image: elastic,
      }),
    ),
  ],
  // cluster-autoscaler 9.59.0 with fullnameOverride: one Deployment; templates/deployment.yaml:62-64 (the
  // container, named by "cluster-autoscaler.name", templates/_helpers.tpl:5-7: `<cloudProvider>-<chart>`;
  // image `<repository>:<tag>`) and :296-297 (resources).
  "cluster-autoscaler": [
    {
      workload: "cluster-autoscaler",
      container: "aws-cluster-autoscaler",
      resources: "resources",
      image: (values: Values) => `${values.image.repository}:${values.image.tag}`,
    },
  ],
  // The in-cluster broker's RabbitmqCluster, which the Cluster Operator renders (cluster-operator 2.22.3,
  // internal/resource/statefulset.go): the StatefulSet `<cluster>-server`, its `rabbitmq` container sized
  // from spec.resources, its `setup-container` init container at the operator's fixed size; both run
  // spec.image.
  rabbitmq: [
    { workload: "rabbitmq-server", container: "rabbitmq", resources: "resources", image: (spec: Values) => spec.image },
    {
      workload: "rabbitmq-server",
      container: "setup-container",
      resources: { unsettable: "the operator's init container has a fixed size" },
      image: (spec: Values) => spec.image,
    },
  ],
};
