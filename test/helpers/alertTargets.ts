import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { matchersOn } from "./podMonitors";

/**
 * What every catalog service exposes at its metrics path (docs/env-contract.md, "Metrics"; the
 * reference service's src/metrics.ts): a histogram brings its _bucket, _sum and _count series.
 */
export const SERVICE_METRICS = [
  "http_requests_total",
  "http_request_duration_seconds_bucket",
  "http_request_duration_seconds_sum",
  "http_request_duration_seconds_count",
  "rabbitmq_messages_publish_errors_total",
];

/** What one scrape job produces: exact metric names, or prefixes (an exporter's namespace, `node_`). */
export type Produced = string[];

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
]);

/** The metric names a PromQL expression selects, and the jobs its matchers name. */
export function promqlReferences(expr: string): { metrics: string[]; jobs: string[] } {
  const jobs = matchersOn(expr, ["job"]).flatMap((m) => {
    if (m.op === "=") return [m.value];
    if (m.op === "=~") return m.value.split("|").map((alternative) => alternative.replaceAll("[.]", "."));
    throw new Error(`${expr}: a negative job matcher names no job`);
  });
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^{}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without)\s*\([^)]*\)/g, " ");
  const metrics = [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)]
    .map((m) => m[1])
    .filter((token) => !KEYWORDS.has(token));
  return { metrics: [...new Set(metrics)], jobs: [...new Set(jobs)] };
}

const produces = (produced: Produced, metric: string) =>
  metric === "up" || produced.some((p) => (p.endsWith("_") ? metric.startsWith(p) : metric === p));

/**
 * What each rule names that the target does not scrape or produce: a job no scrape job has, or a
 * metric none of the jobs it names (every job, if it names none) produces. `up` is Prometheus' own,
 * per target.
 */
export function unproducedReferences(
  rules: Array<{ alert: string; expr: string }>,
  scraped: Map<string, Produced>,
): string[] {
  return rules.flatMap((rule) => {
    const { metrics, jobs } = promqlReferences(rule.expr);
    const missingJobs = jobs.filter((job) => !scraped.has(job)).map((job) => `${rule.alert}: no scrape job '${job}'`);
    const sources = jobs.length ? jobs.flatMap((job) => scraped.get(job) ?? []) : [...scraped.values()].flat();
    const missingMetrics = metrics
      .filter((metric) => !produces(sources, metric))
      .map((metric) => `${rule.alert}: '${metric}' is not produced by ${jobs.length ? jobs.join(", ") : "any job"}`);
    return [...missingJobs, ...missingMetrics];
  });
}

/** `promtool check rules` over a rule file's content; throws with promtool's output when it refuses it. */
export function promtoolCheckRules(rules: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rules-"));
  try {
    fs.writeFileSync(path.join(dir, "rules.yml"), typeof rules === "string" ? rules : stringify(rules));
    return execFileSync("promtool", ["check", "rules", "rules.yml"], { cwd: dir, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    const failure = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool check rules failed:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
