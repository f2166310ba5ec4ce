import { strict as assert } from "assert";
import { RelabelConfig, relabel } from "./podMonitors";

/**
 * What each target's log shippers make of a container or pod: the labels Promtail gives its lines
 * (service discovery, then the rendered relabel rules) and the fields Filebeat and Logstash give
 * Elasticsearch documents. The shippers' own behaviour is written down here, each part naming its source.
 */

type Labels = Record<string, string>;

/** A relabel rule as Promtail's YAML spells it. */
interface PromtailRelabel {
  action?: string;
  source_labels?: string[];
  separator?: string;
  regex?: string;
  replacement?: string;
  target_label?: string;
}

/** Promtail's rules through the same `replace` relabeling as Prometheus'; `__` labels are dropped after it. */
export function promtailLabels(meta: Labels, rules: PromtailRelabel[]): Labels {
  const camel: RelabelConfig[] = rules.map((rule) => ({
    action: rule.action,
    sourceLabels: rule.source_labels,
    separator: rule.separator,
    regex: rule.regex,
    replacement: rule.replacement,
    targetLabel: rule.target_label,
  }));
  return Object.fromEntries(Object.entries(relabel(meta, camel)).filter(([label]) => !label.startsWith("__")));
}

/** Prometheus' SanitizeLabelName (util/strutil): every character outside [a-zA-Z0-9_] becomes `_`. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

/**
 * The chart's kubernetes-pods job (promtail 6.16.6, values.yaml `config.snippets.scrapeConfigs`,
 * :507-532): app, instance and component from the pod's labels, the controller or the pod name.
 */
const PROMTAIL_CHART_POD_RULES: PromtailRelabel[] = [
  {
    source_labels: ["__meta_kubernetes_pod_controller_name"],
    regex: "([0-9a-z-.]+?)(-[0-9a-f]{8,10})?",
    target_label: "__tmp_controller_name",
  },
  {
    source_labels: [
      "__meta_kubernetes_pod_label_app_kubernetes_io_name",
      "__meta_kubernetes_pod_label_app",
      "__tmp_controller_name",
      "__meta_kubernetes_pod_name",
    ],
    regex: "^;*([^;]+)(;.*)?$",
    target_label: "app",
  },
  {
    source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_instance", "__meta_kubernetes_pod_label_instance"],
    regex: "^;*([^;]+)(;.*)?$",
    target_label: "instance",
  },
  {
    source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_component", "__meta_kubernetes_pod_label_component"],
    regex: "^;*([^;]+)(;.*)?$",
    target_label: "component",
  },
];

/** The chart's `config.snippets.common` (values.yaml :440-479), which the job appends (:537). */
const PROMTAIL_CHART_COMMON: PromtailRelabel[] = [
  { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node_name" },
  { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
  { source_labels: ["namespace", "app"], separator: "/", replacement: "$1", target_label: "job" },
  { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
  { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
  {
    source_labels: ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"],
    separator: "/",
    replacement: "/var/log/pods/*$1/*.log",
    target_label: "__path__",
  },
  {
    source_labels: [
      "__meta_kubernetes_pod_annotationpresent_kubernetes_io_config_hash",
      "__meta_kubernetes_pod_annotation_kubernetes_io_config_hash",
      "__meta_kubernetes_pod_container_name",
    ],
    separator: "/",
    regex: "true/(.*)",
    replacement: "/var/log/pods/*$1/*.log",
    target_label: "__path__",
  },
];

/** The kubernetes-pods job's relabel rules as the chart renders them from our values: its own, `common`, then `extraRelabelConfigs` (:538-540). */
export function promtailChartPodRules(values: any): PromtailRelabel[] {
  const snippets = values.config?.snippets ?? {};
  return [
    ...PROMTAIL_CHART_POD_RULES,
    ...(snippets.common ?? PROMTAIL_CHART_COMMON),
    ...(snippets.extraRelabelConfigs ?? []),
  ];
}

export interface PodTemplate {
  namespace: string;
  /** The Deployment's (or StatefulSet's) name: its ReplicaSet and pods are named after it. */
  controller: string;
  labels: Labels;
  container: string;
}

/** The meta labels Kubernetes service discovery (role pod) gives a container of a pod of this template (Prometheus discovery/kubernetes/pod.go). */
export function kubernetesPodMeta(pod: PodTemplate): Labels {
  const replicaSet = `${pod.controller}-6d4cf56db6`;
  return {
    __meta_kubernetes_namespace: pod.namespace,
    __meta_kubernetes_pod_name: `${replicaSet}-x7k2p`,
    __meta_kubernetes_pod_uid: "0f1e2d3c-0000-4000-8000-000000000000",
    __meta_kubernetes_pod_node_name: "ip-10-0-1-10.eu-west-1.compute.internal",
    __meta_kubernetes_pod_controller_kind: "ReplicaSet",
    __meta_kubernetes_pod_controller_name: replicaSet,
    __meta_kubernetes_pod_container_name: pod.container,
    ...Object.fromEntries(
      Object.entries(pod.labels).flatMap(([label, value]) => [
        [`__meta_kubernetes_pod_label_${sanitize(label)}`, value],
        [`__meta_kubernetes_pod_labelpresent_${sanitize(label)}`, "true"],
      ]),
    ),
  };
}

/** The meta labels Docker service discovery gives a container (Prometheus discovery/moby/docker.go): its name with Docker's leading `/`, its labels. */
export function dockerContainerMeta(name: string, labels: Labels): Labels {
  return {
    __meta_docker_container_name: `/${name}`,
    __meta_docker_container_log_stream: "stdout",
    ...Object.fromEntries(
      Object.entries(labels).map(([label, value]) => [`__meta_docker_container_label_${sanitize(label)}`, value]),
    ),
  };
}

/** The equality matchers of a LogQL stream selector (`{a="b", c="d"}`); any other matcher fails the test. */
export function lokiStreamMatchers(query: string): Labels {
  const selector = /^\{([^}]*)\}/.exec(query.trim());
  assert.ok(selector, `${query}: a LogQL stream selector`);
  const matchers = selector[1].split(",").map((m) => /^\s*([a-zA-Z_]\w*)\s*=\s*"([^"]*)"\s*$/.exec(m));
  assert.ok(matchers.length > 0 && matchers.every(Boolean), `${query}: only label="value" matchers are modelled`);
  return Object.fromEntries(matchers.map((m) => [m![1], m![2]]));
}

/** The `field:"value"` terms of a Lucene query joined by AND (what the ELK log panels send). */
export function luceneTerms(query: string): Labels {
  const terms = query.split(/\s+AND\s+/).map((t) => /^\s*([\w.@/]+):"([^"]*)"\s*$/.exec(t));
  assert.ok(terms.every(Boolean), `${query}: only field:"value" terms are modelled`);
  return Object.fromEntries(terms.map((t) => [t![1], t![2]]));
}

/** libbeat common.DeDot: dots in label names become `_` (Filebeat's docker and kubernetes metadata default to it). */
const dedot = (labels: Labels): Labels =>
  Object.fromEntries(Object.entries(labels).map(([label, value]) => [label.replace(/\./g, "_"), value]));

/**
 * The event Filebeat sends for a line of a Docker container: add_docker_metadata's `container.labels`,
 * de-dotted (libbeat/processors/add_docker_metadata/config.go: `DeDot: true` by default; the docker
 * autodiscover provider's config.go likewise).
 */
export function filebeatDockerEvent(labels: Labels): Record<string, unknown> {
  return { container: { labels: dedot(labels) } };
}

/**
 * The event Filebeat's kubernetes autodiscover provider annotates a pod's line with: `kubernetes.namespace`
 * and `kubernetes.labels`, de-dotted (libbeat/autodiscover/providers/kubernetes/config.go InitDefaults:
 * `LabelsDedot = true`), so `app.kubernetes.io/name` is `app_kubernetes_io/name`.
 */
export function filebeatKubernetesEvent(pod: PodTemplate): Record<string, unknown> {
  return { kubernetes: { namespace: pod.namespace, labels: dedot(pod.labels), container: { name: pod.container } } };
}

const fieldAt = (event: any, path: string[]): unknown => path.reduce((value, key) => value?.[key], event);
/** `[a][b][c]` -> ["a", "b", "c"]. */
const fieldPath = (reference: string): string[] => [...reference.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]);

/**
 * What a Logstash pipeline's filter adds to an event, for the one shape the platform writes: a chain of
 * `if [field] { mutate { add_field => { "name" => "%{[field]}" } } } else if ...`. The first branch whose
 * field the event has applies (a field reference is true when the field exists).
 */
export function logstashAddedFields(pipeline: string, event: Record<string, unknown>): Labels {
  const filter = /filter \{([\s\S]*?)\n\}/.exec(pipeline)?.[1] ?? "";
  const branches = [
    ...filter.matchAll(/if (\[[^\s{]+\]) \{\s*mutate \{ add_field => \{ "([^"]+)" => "%\{(\[[^}]+\])\}" \} \}\s*\}/g),
  ];
  assert.ok(branches.length > 0, "the pipeline's filter has add_field branches");
  for (const [, condition, field, reference] of branches) {
    if (fieldAt(event, fieldPath(condition)) === undefined) continue;
    return { [field]: String(fieldAt(event, fieldPath(reference))) };
  }
  return {};
}
