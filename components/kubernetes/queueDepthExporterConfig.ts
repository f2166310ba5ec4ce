import { stringify } from "yaml";
import { QueueDepthSource } from "../observability/alertRules";

/**
 * What the queue-depth exporter (prometheus-community json_exporter, QUEUE_DEPTH_EXPORTER in the
 * engine table) is told, as plain data: its config file, and what Prometheus asks it to probe. The
 * fields are json_exporter v0.7.0's (config/config.go: a module's `metrics` and `http_client_config`,
 * a metric's name, type, help, path, valuetype, labels and values).
 */

/** The Service, and so the job: prometheus-operator names a ServiceMonitor's job after the Service it selects. */
export const QUEUE_DEPTH_EXPORTER_NAME = "queue-depth-exporter";

/** The config's one module, which each scrape names in `?module=`. */
export const QUEUE_DEPTH_MODULE = "rabbitmq_queues";

/** The object metric; json_exporter names each of its values' series `<name>_<value key>` (exporter/util.go, MakeMetricName). */
const QUEUE_METRIC = "rabbitmq_management_queue";

/** Each queue's message count (ready and unacknowledged) under the exporter's job, labelled `vhost` and `queue`. */
export const MANAGEMENT_API_QUEUE_DEPTH: QueueDepthSource = {
  job: QUEUE_DEPTH_EXPORTER_NAME,
  metric: `${QUEUE_METRIC}_messages`,
};

/**
 * How often Prometheus has the exporter read the management API: Amazon MQ asks for queue metrics
 * to be queried there "at a frequency of one minute or longer" (developer guide, "RabbitMQ 4").
 */
export const QUEUE_DEPTH_SCRAPE_INTERVAL = "60s";

/**
 * The config: one module reading the management API's queue list (a JSON array of queues, each
 * with `vhost`, `name` and `messages`) into one gauge per queue, logged in with basic auth whose
 * password json_exporter reads from a file (prometheus/common's HTTPClientConfig, `password_file`).
 */
export function renderQueueDepthExporterConfig(username: string, passwordFile: string): string {
  return stringify({
    modules: {
      [QUEUE_DEPTH_MODULE]: {
        metrics: [
          {
            name: QUEUE_METRIC,
            type: "object",
            help: "Messages in the queue, ready and unacknowledged, from the RabbitMQ management API",
            path: "{ [*] }",
            valuetype: "gauge",
            labels: { vhost: "{ .vhost }", queue: "{ .name }" },
            values: { messages: "{ .messages }" },
          },
        ],
        http_client_config: { basic_auth: { username, password_file: passwordFile } },
      },
    },
  });
}

/**
 * The management API's queue list of one vhost, only the columns the module reads (the API's
 * `columns` parameter); what each scrape passes as `?target=`.
 */
export function queueListUrl(managementUrl: string, vhost: string): string {
  return `${managementUrl.replace(/\/+$/, "")}/api/queues/${encodeURIComponent(vhost)}?columns=vhost,name,messages`;
}
