import { strict as assert } from "assert";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";

/** The type a `k8s.apiextensions.CustomResource` of kind PodMonitor registers as. */
export const POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";

/** Throws unless the object has the shape the operator's PodMonitor CRD schema accepts. */
export function validatePodMonitor(inputs: Record<string, any>): void {
  new PodMonitor(inputs as ConstructorParameters<typeof PodMonitor>[0]).validate();
}

/** Whether a label selector's matchLabels all hold for these labels (PodMonitors here use matchLabels only). */
export function selects(selector: { matchLabels?: Record<string, string> }, labels: Record<string, string>): boolean {
  assert.ok(selector.matchLabels && Object.keys(selector.matchLabels).length > 0, "an empty selector selects all");
  return Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);
}

export interface RelabelConfig {
  action?: string;
  sourceLabels?: string[];
  separator?: string;
  regex?: string;
  replacement?: string;
  targetLabel?: string;
}

/** Prometheus' `replace` relabeling (the only action the platform uses; any other fails the test). */
export function relabel(labels: Record<string, string>, rules: RelabelConfig[]): Record<string, string> {
  const out = { ...labels };
  for (const rule of rules) {
    const action = (rule.action ?? "replace").toLowerCase();
    assert.equal(action, "replace", `relabel action ${action} is not modelled`);
    const source = (rule.sourceLabels ?? []).map((label) => out[label] ?? "").join(rule.separator ?? ";");
    const match = new RegExp(`^(?:${rule.regex ?? "(.*)"})$`).exec(source);
    if (!match || !rule.targetLabel) continue;
    const value = (rule.replacement ?? "$1").replace(/\$\{?(\d+)\}?/g, (_, group) => match[Number(group)] ?? "");
    if (value === "") delete out[rule.targetLabel];
    else out[rule.targetLabel] = value;
  }
  return out;
}

/**
 * The labels a target of the monitor's first endpoint ends with: what the operator sets
 * (prometheus-operator's generatePodMonitorConfig: job `<namespace>/<name>`, namespace, container,
 * pod, endpoint), then the endpoint's relabelings.
 */
export function targetLabels(monitor: Record<string, any>): Record<string, string> {
  const { name, namespace } = monitor.metadata;
  const [endpoint] = monitor.spec.podMetricsEndpoints;
  const operator = {
    job: `${namespace}/${name}`,
    namespace,
    container: name,
    pod: `${name}-0`,
    endpoint: endpoint.port,
  };
  return relabel(operator, endpoint.relabelings ?? []);
}

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** The label matchers on `labels` in a PromQL expression's selectors (`metric{label="value"}`). */
export function matchersOn(expr: string, labels: string[]): Matcher[] {
  const selectors = [...expr.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
  return selectors.flatMap((selector) =>
    [...selector.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)]
      .map(([, label, op, value]) => ({ label, op: op as Matcher["op"], value }))
      .filter((m) => labels.includes(m.label)),
  );
}

/** The labels a PromQL expression aggregates by (`by (a, b)`). */
export function groupedBy(expr: string): string[] {
  return [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((label) => label.trim()));
}

/** Whether a series with these labels passes the matcher (an absent label is the empty string, as in PromQL). */
function passes(labels: Record<string, string>, m: Matcher): boolean {
  const value = labels[m.label] ?? "";
  if (m.op === "=") return value === m.value;
  if (m.op === "!=") return value !== m.value;
  const matches = new RegExp(`^(?:${m.value})$`).test(value);
  return m.op === "=~" ? matches : !matches;
}

const SERVICE_LABELS = ["job", "service"];

/**
 * Checks the alert rules about services against the labels each service's targets end with
 * (`labelsOf`, by service name). A rule labelled with a service needs that service's targets to
 * pass its job/service matchers (ServiceDown: `up{job="<service>"}`); a rule aggregating by job or
 * service needs every service's targets to carry that label as the service's name. Rules about
 * neither (the infrastructure's) are not the monitors' concern. Returns the rules checked and what
 * failed.
 */
export function checkAlertRules(
  rules: Array<{ alert: string; expr: string; labels?: Record<string, string> }>,
  labelsOf: Map<string, Record<string, string>>,
): { checked: string[]; problems: string[] } {
  const checked: string[] = [];
  const problems: string[] = [];
  for (const rule of rules) {
    const service = rule.labels?.service;
    const grouped = [...new Set(groupedBy(rule.expr))].filter((label) => SERVICE_LABELS.includes(label));
    if (service !== undefined && labelsOf.has(service)) {
      checked.push(`${rule.alert}/${service}`);
      for (const m of matchersOn(rule.expr, SERVICE_LABELS))
        if (!passes(labelsOf.get(service)!, m))
          problems.push(`${rule.alert} for ${service}: no target of it has ${m.label}${m.op}"${m.value}"`);
    } else if (grouped.length > 0) {
      checked.push(rule.alert);
      for (const [name, labels] of labelsOf)
        for (const label of grouped)
          if (labels[label] !== name)
            problems.push(`${rule.alert}: ${name}'s targets have ${label}="${labels[label]}"`);
    }
  }
  return { checked, problems };
}
