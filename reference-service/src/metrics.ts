import { Counter, Histogram, Registry } from "prom-client";

/**
 * The names and labels the platform's alert rules and dashboards read (docs/env-contract.md,
 * "Metrics"). Prometheus adds `service` from its scrape config, so it is no label here.
 */
// Only the contract's metrics, no collectDefaultMetrics(): prom-client's defaults include gauges
// named `*_total` (nodejs_active_handles_total), which `promtool check metrics` rejects.
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer an HTTP request.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: "rabbitmq_messages_published_total",
    help: "Messages the broker confirmed, by routing key.",
    labelNames: ["routing_key"] as const,
    registers: [this.registry],
  });
  readonly publishErrors = new Counter({
    name: "rabbitmq_messages_publish_errors_total",
    help: "Publishes that failed or that the broker refused, by routing key.",
    labelNames: ["routing_key"] as const,
    registers: [this.registry],
  });
  readonly consumed = new Counter({
    name: "rabbitmq_messages_consumed_total",
    help: "Deliveries handled successfully, by queue.",
    labelNames: ["queue"] as const,
    registers: [this.registry],
  });
  readonly retried = new Counter({
    name: "rabbitmq_messages_retried_total",
    help: "Failed deliveries sent to a retry queue, by queue.",
    labelNames: ["queue"] as const,
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: "rabbitmq_messages_dead_lettered_total",
    help: "Deliveries sent to the dead-letter queue, by queue and reason.",
    labelNames: ["queue", "reason"] as const,
    registers: [this.registry],
  });

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }
}
