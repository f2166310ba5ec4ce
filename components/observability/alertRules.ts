import { stringify } from "yaml";
import { DEAD_LETTER_SUFFIX } from "../messaging/topology";

export interface AlertThresholds {
  /** Share of 5xx responses (0.05 = 5%). */
  errorRate: number;
  /** p95 latency in seconds. */
  latencyP95Seconds: number;
}

/**
 * Messages per queue from the rabbitmq_prometheus plugin. Its `/metrics` sums over all queues
 * (no `queue` label) unless `prometheus.return_per_object_metrics` turns every metric per object;
 * `/metrics/detailed` returns just the families asked for, labelled `vhost` and `queue`.
 */
export const QUEUE_DEPTH = {
  metric: "rabbitmq_detailed_queue_messages",
  path: "/metrics/detailed",
  family: "queue_coarse_metrics",
} as const;

/** Where a target's Prometheus reads each queue's message count: the scrape job, and the metric (labelled `vhost`, `queue`). */
export interface QueueDepthSource {
  job: string;
  metric: string;
}

/** How long a DLQ may hold a message before DeadLetterQueueNotEmpty fires. */
export const DEAD_LETTER_ALERT_AFTER = "5m";

/**
 * What a target scrapes of the platform's own components (not the catalog's services), by job name:
 * its infrastructure rules name only these, so that every rule can fire where it is loaded.
 */
export interface ScrapedInfrastructure {
  /** Every job of the platform's components; InfrastructureDown watches them. */
  jobs: string[];
  /**
   * Where each queue's depth comes from, where the target has it: rabbitmq_prometheus' QUEUE_DEPTH
   * (dev, the in-cluster broker), or an exporter reading the management API (Amazon MQ).
   */
  queueDepth?: QueueDepthSource;
  /** The job of redis_exporter, which reports `redis_up` for each Redis it scrapes. */
  redisExporterJob?: string;
  /** The job of the postgres_exporters, which report `pg_up`. */
  postgresExporterJob?: string;
}

/**
 * The seeds' alerts (HighErrorRate, HighLatency, RabbitMQPublishErrors) over the services' HTTP
 * metrics (`http_requests_total{status}`, `http_request_duration_seconds_bucket`), one
 * ServiceDown per service: on every target. Then the target's own: down alerts for the
 * infrastructure it scrapes, and the dead-letter alert where it scrapes RabbitMQ's queues.
 */
export function alertRules(
  services: string[],
  thresholds: AlertThresholds,
  infrastructure: ScrapedInfrastructure,
): Record<string, unknown> {
  const groups = [serviceAlerts(services, thresholds), infrastructureAlerts(infrastructure)];
  if (infrastructure.queueDepth) groups.push(messagingAlerts(infrastructure.queueDepth));
  return { groups: groups.filter((group) => (group.rules as unknown[]).length > 0) };
}

function serviceAlerts(services: string[], thresholds: AlertThresholds): Record<string, unknown> {
  const percent = `${Math.round(thresholds.errorRate * 1000) / 10}%`;
  return {
    name: "platform-services",
    rules: [
      {
        alert: "HighErrorRate",
        expr: `sum by (service) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (service) (rate(http_requests_total[5m])) > ${thresholds.errorRate}`,
        for: "5m",
        labels: { severity: "critical" },
        annotations: {
          summary: "{{ $labels.service }}: more than " + percent + " of requests fail",
          description: "5xx share is {{ $value | humanizePercentage }} over 5 minutes.",
        },
      },
      {
        alert: "HighLatency",
        expr: `histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m]))) > ${thresholds.latencyP95Seconds}`,
        for: "5m",
        labels: { severity: "warning" },
        annotations: {
          summary: `{{ $labels.service }}: p95 latency above ${thresholds.latencyP95Seconds}s`,
          description: "p95 latency is {{ $value | humanizeDuration }}.",
        },
      },
      {
        alert: "RabbitMQPublishErrors",
        expr: "sum by (service) (rate(rabbitmq_messages_publish_errors_total[5m])) > 0",
        for: "1m",
        labels: { severity: "critical" },
        annotations: {
          summary: "{{ $labels.service }}: publishing to RabbitMQ fails",
          description: "{{ $value }} publish errors per second.",
        },
      },
      ...services.map((service) => ({
        alert: "ServiceDown",
        expr: `up{job="${service}"} == 0`,
        for: "1m",
        labels: { severity: "critical", service },
        annotations: {
          summary: `${service} is down`,
          description: `Prometheus cannot scrape ${service} for 1 minute.`,
        },
      })),
    ],
  };
}

function infrastructureAlerts(infrastructure: ScrapedInfrastructure): Record<string, unknown> {
  const { jobs, redisExporterJob, postgresExporterJob } = infrastructure;
  const rules = [
    jobs.length > 0 &&
      criticalRule("InfrastructureDown", `up{job=~"${exactJobs(jobs)}"} == 0`, "2m", {
        summary: "{{ $labels.job }} target {{ $labels.instance }} is down",
        description: "Not scraped for 2 minutes.",
      }),
    redisExporterJob &&
      criticalRule("RedisDown", `redis_up{job="${redisExporterJob}"} == 0`, "1m", {
        summary: "Redis {{ $labels.instance }} is down",
        description: "redis_exporter cannot reach it.",
      }),
    postgresExporterJob &&
      criticalRule("PostgresDown", `pg_up{job="${postgresExporterJob}"} == 0`, "1m", {
        summary: "PostgreSQL of {{ $labels.service }} is down",
        description: "postgres_exporter cannot reach it.",
      }),
  ];
  return { name: "platform-infrastructure", rules: rules.filter(Boolean) };
}

function criticalRule(
  alert: string,
  expr: string,
  forDuration: string,
  annotations: { summary: string; description: string },
): Record<string, unknown> {
  return { alert, expr, for: forDuration, labels: { severity: "critical" }, annotations };
}

/** A regex matching exactly these job names (`[.]` for a dot, without PromQL's string escapes). */
function exactJobs(jobs: string[]): string {
  return [...new Set(jobs)].map((job) => job.replaceAll(".", "[.]")).join("|");
}

/**
 * A dead letter is a message a consumer gave up on: someone should look within minutes, and a
 * full DLQ refuses what is dead-lettered next, which then waits in its queue (see
 * deadLetterArguments in messaging/topology.ts).
 */
function messagingAlerts(queueDepth: QueueDepthSource): Record<string, unknown> {
  // `[.]` is a literal dot without PromQL's string escapes.
  const dlq = `.+${DEAD_LETTER_SUFFIX.replaceAll(".", "[.]")}`;
  return {
    name: "platform-messaging",
    rules: [
      {
        alert: "DeadLetterQueueNotEmpty",
        expr: `max by (vhost, queue) (${queueDepth.metric}{job="${queueDepth.job}",queue=~"${dlq}"}) > 0`,
        for: DEAD_LETTER_ALERT_AFTER,
        labels: { severity: "warning" },
        annotations: {
          summary: "{{ $labels.queue }} holds dead letters",
          description: `{{ $value }} message(s) for ${DEAD_LETTER_ALERT_AFTER}: inspect, replay or purge them before the DLQ fills.`,
        },
      },
    ],
  };
}

export function renderAlertRules(
  services: string[],
  thresholds: AlertThresholds,
  infrastructure: ScrapedInfrastructure,
): string {
  return stringify(alertRules(services, thresholds, infrastructure));
}
