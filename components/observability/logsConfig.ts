/** Docker labels every platform container carries; log shippers select and label by them. */
export interface LogSelection {
  stack: string;
  catalog: string;
}

export const LOKI_PORT = 3100;
/** Promtail's HTTP server: `/ready` and `/metrics`. */
export const PROMTAIL_PORT = 9080;
/** Filebeat's HTTP endpoint (off unless configured): `/` answers with the beat's info once it runs. */
export const FILEBEAT_HTTP_PORT = 5066;

/** Where dev's Loki keeps its data: the container's volume. */
const LOKI_DEV_DATA_DIR = "/loki";
/** Both targets keep chunks, index and delete requests on the local filesystem. */
const LOKI_OBJECT_STORE = "filesystem";

/**
 * The compactor applies `limits_config.retention_period`: without `retention_enabled` it only compacts
 * and logs stay forever; Loki 3 refuses retention without a `delete_request_store`. Its working
 * directory (marker files of chunks pending deletion) belongs on the persistent volume at `dataDir`.
 */
export function lokiCompactor(dataDir: string): Record<string, unknown> {
  return {
    working_directory: `${dataDir}/compactor`,
    retention_enabled: true,
    delete_request_store: LOKI_OBJECT_STORE,
  };
}

/** Loki single binary, filesystem storage, TSDB schema v13, 7 days retention. */
export function lokiConfig(): Record<string, unknown> {
  return {
    auth_enabled: false,
    server: { http_listen_port: LOKI_PORT, grpc_listen_port: 9096, log_level: "warn" },
    common: {
      instance_addr: "127.0.0.1",
      path_prefix: LOKI_DEV_DATA_DIR,
      storage: {
        filesystem: { chunks_directory: `${LOKI_DEV_DATA_DIR}/chunks`, rules_directory: `${LOKI_DEV_DATA_DIR}/rules` },
      },
      replication_factor: 1,
      ring: { kvstore: { store: "inmemory" } },
    },
    schema_config: {
      configs: [
        {
          from: "2024-01-01",
          store: "tsdb",
          object_store: LOKI_OBJECT_STORE,
          schema: "v13",
          index: { prefix: "index_", period: "24h" },
        },
      ],
    },
    limits_config: { retention_period: "168h", allow_structured_metadata: true },
    compactor: lokiCompactor(LOKI_DEV_DATA_DIR),
    analytics: { reporting_enabled: false },
  };
}

/** Promtail reads the stack's containers through the Docker API and labels lines by service. */
export function promtailConfig({ stack, catalog }: LogSelection): Record<string, unknown> {
  const label = (name: string, target: string) => ({
    source_labels: [`__meta_docker_container_label_platform_${name}`],
    target_label: target,
  });
  return {
    server: { http_listen_port: PROMTAIL_PORT, grpc_listen_port: 0, log_level: "warn" },
    positions: { filename: "/tmp/positions.yaml" },
    clients: [{ url: `http://loki:${LOKI_PORT}/loki/api/v1/push` }],
    scrape_configs: [
      {
        job_name: "containers",
        docker_sd_configs: [
          {
            host: "unix:///var/run/docker.sock",
            refresh_interval: "5s",
            // Label filters are ANDed: this stack of this catalog only.
            filters: [{ name: "label", values: [`platform.stack=${stack}`, `platform.catalog=${catalog}`] }],
          },
        ],
        relabel_configs: [
          { source_labels: ["__meta_docker_container_name"], regex: "/(.*)", target_label: "container" },
          { source_labels: ["__meta_docker_container_log_stream"], target_label: "stream" },
          label("service", "service"),
          label("component", "component"),
          label("catalog", "catalog"),
        ],
      },
    ],
  };
}

/** Filebeat ships the stack's container logs to Logstash (ELK option). */
export function filebeatConfig({ stack, catalog }: LogSelection): Record<string, unknown> {
  return {
    "filebeat.autodiscover": {
      providers: [
        {
          type: "docker",
          // Filebeat de-dots label names: platform.stack becomes platform_stack.
          templates: [
            {
              condition: {
                and: [
                  { equals: { "docker.container.labels.platform_stack": stack } },
                  { equals: { "docker.container.labels.platform_catalog": catalog } },
                ],
              },
              config: [{ type: "container", paths: ["/var/lib/docker/containers/${data.docker.container.id}/*.log"] }],
            },
          ],
        },
      ],
    },
    processors: [{ add_docker_metadata: { host: "unix:///var/run/docker.sock" } }],
    "output.logstash": { hosts: ["logstash:5044"] },
    logging: { level: "warning" },
    // For the container's healthcheck only: on loopback, not published.
    http: { enabled: true, host: "127.0.0.1", port: FILEBEAT_HTTP_PORT },
  };
}

/** Filebeat on Kubernetes (prod ELK option): the containers of the given namespaces, to Logstash. */
export function filebeatKubernetesConfig(namespaces: string[], logstashHost: string): Record<string, unknown> {
  return {
    "filebeat.autodiscover": {
      providers: [
        {
          type: "kubernetes",
          node: "${NODE_NAME}",
          templates: [
            {
              condition: { or: namespaces.map((namespace) => ({ equals: { "kubernetes.namespace": namespace } })) },
              config: [{ type: "container", paths: ["/var/log/containers/*-${data.kubernetes.container.id}.log"] }],
            },
          ],
        },
      ],
    },
    "output.logstash": { hosts: [logstashHost] },
    logging: { level: "warning" },
  };
}

export const LOGSTASH_WRITER = "logstash_internal";
export const GRAFANA_READER = "grafana_reader";

/**
 * Logstash pipeline: Beats in, Elasticsearch data stream `logs-platform-{catalog}` out. The
 * password is Logstash's `${VAR}` reference to its container env, never written in the file.
 */
export function logstashPipeline(
  catalog: string,
  elasticsearch: { url: string; caFile?: string } = { url: "http://elasticsearch:9200" },
): string {
  const namespace = catalog.replace(/[^a-z0-9]/g, "");
  return [
    "input {",
    "  beats { port => 5044 }",
    "}",
    "filter {",
    // Docker (dev) labels the container; Kubernetes (prod) labels the pod.
    "  if [container][labels][platform_service] {",
    '    mutate { add_field => { "service" => "%{[container][labels][platform_service]}" } }',
    "  } else if [kubernetes][labels][app_kubernetes_io/name] {",
    '    mutate { add_field => { "service" => "%{[kubernetes][labels][app_kubernetes_io/name]}" } }',
    "  }",
    "}",
    "output {",
    "  elasticsearch {",
    `    hosts => ["${elasticsearch.url}"]`,
    ...(elasticsearch.caFile ? [`    ssl_certificate_authorities => ["${elasticsearch.caFile}"]`] : []),
    `    user => "${LOGSTASH_WRITER}"`,
    '    password => "${LOGSTASH_WRITER_PASSWORD}"',
    "    data_stream => true",
    '    data_stream_type => "logs"',
    '    data_stream_dataset => "platform"',
    `    data_stream_namespace => "${namespace}"`,
    "  }",
    "}",
    "",
  ].join("\n");
}

export function logstashSettings(): Record<string, unknown> {
  return { "http.host": "0.0.0.0", "xpack.monitoring.enabled": false, "pipeline.ecs_compatibility": "v8" };
}

/**
 * One-shot setup against a secured Elasticsearch: Kibana's system password, a writer role and
 * login for Logstash (logs-* only) and a read-only login for Grafana. Passwords come from the
 * setup container's env, so the script holds none.
 */
export function elasticsearchSetupScript(): string {
  const call = (method: string, path: string, body: string) =>
    `curl -fsS -u "elastic:$ELASTIC_PASSWORD" -X ${method} "$ES/${path}" -H 'Content-Type: application/json' -d "${body}"`;
  return [
    "#!/bin/sh",
    "set -eu",
    'ES="${ES_URL:-http://elasticsearch:9200}"',
    'until curl -fsS -u "elastic:$ELASTIC_PASSWORD" "$ES/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do sleep 3; done',
    call("POST", "_security/user/kibana_system/_password", '{\\"password\\":\\"$KIBANA_PASSWORD\\"}'),
    call(
      "PUT",
      "_security/role/logstash_writer",
      '{\\"cluster\\":[\\"monitor\\",\\"manage_index_templates\\"],\\"indices\\":[{\\"names\\":[\\"logs-*\\"],\\"privileges\\":[\\"create_doc\\",\\"create_index\\",\\"auto_configure\\",\\"view_index_metadata\\"]}]}',
    ),
    call(
      "PUT",
      `_security/user/${LOGSTASH_WRITER}`,
      `{\\"password\\":\\"$LOGSTASH_WRITER_PASSWORD\\",\\"roles\\":[\\"logstash_writer\\"]}`,
    ),
    call(
      "PUT",
      "_security/role/logs_reader",
      '{\\"indices\\":[{\\"names\\":[\\"logs-*\\"],\\"privileges\\":[\\"read\\",\\"view_index_metadata\\"]}]}',
    ),
    call(
      "PUT",
      `_security/user/${GRAFANA_READER}`,
      `{\\"password\\":\\"$GRAFANA_READER_PASSWORD\\",\\"roles\\":[\\"logs_reader\\"]}`,
    ),
    "echo elasticsearch users ready",
    "",
  ].join("\n");
}
