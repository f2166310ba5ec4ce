import { stringify } from "yaml";

/** One Prometheus scrape job: static targets, or targets probed through a multi-target exporter. */
export interface TargetGroup {
  targets: string[];
  labels?: Record<string, string>;
}

export interface ScrapeJob {
  job: string;
  groups: TargetGroup[];
  metricsPath?: string;
  /** Query parameters of every scrape, e.g. `{ family: ["queue_coarse_metrics"] }`. */
  params?: Record<string, string[]>;
  /** `host:port` of an exporter that scrapes each target for Prometheus (`/scrape?target=`). */
  viaExporter?: string;
}

export interface PrometheusConfigInput {
  scrapeInterval: string;
  externalLabels: Record<string, string>;
  jobs: ScrapeJob[];
  ruleFiles: string[];
  /** `host:port` of each Alertmanager the alerts are sent to. */
  alertmanagers?: string[];
}

export function prometheusConfig({
  scrapeInterval,
  externalLabels,
  jobs,
  ruleFiles,
  alertmanagers = [],
}: PrometheusConfigInput): Record<string, unknown> {
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.job)) throw new Error(`duplicate scrape job '${job.job}'`);
    names.add(job.job);
  }
  return {
    global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval, external_labels: externalLabels },
    ...(alertmanagers.length > 0 && {
      alerting: { alertmanagers: [{ static_configs: [{ targets: alertmanagers }] }] },
    }),
    rule_files: ruleFiles,
    scrape_configs: jobs.map((job) => ({
      job_name: job.job,
      ...(job.metricsPath ? { metrics_path: job.metricsPath } : {}),
      ...(job.params ? { params: job.params } : {}),
      static_configs: job.groups.map((group) => ({
        targets: group.targets,
        ...(group.labels ? { labels: group.labels } : {}),
      })),
      ...(job.viaExporter
        ? {
            relabel_configs: [
              { source_labels: ["__address__"], target_label: "__param_target" },
              { source_labels: ["__param_target"], target_label: "instance" },
              { target_label: "__address__", replacement: job.viaExporter },
            ],
          }
        : {}),
    })),
  };
}

export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  return stringify(prometheusConfig(input));
}
