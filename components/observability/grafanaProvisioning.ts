import { SERVICE_LOG_LABEL } from "./logsConfig";

export type LogsBackend = "loki" | "elk";

export interface DatasourceInput {
  logs: LogsBackend;
  scrapeInterval: string;
  /** Read-only Elasticsearch login for the ELK option (secret). */
  elasticsearchReader?: { username: string; password: string };
}

export const PROMETHEUS_UID = "prometheus";
export const JAEGER_UID = "jaeger";
export const logsDatasourceUid = (logs: LogsBackend) => (logs === "loki" ? "loki" : "elasticsearch");

/** provisioning/datasources/datasources.yaml: Prometheus (default), the logs backend, Jaeger linked to logs. */
export function grafanaDatasources({
  logs,
  scrapeInterval,
  elasticsearchReader,
}: DatasourceInput): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: PROMETHEUS_UID,
        type: "prometheus",
        access: "proxy",
        url: "http://prometheus:9090",
        isDefault: true,
        jsonData: { timeInterval: scrapeInterval },
      },
      logsDatasource(logs, elasticsearchReader),
      {
        name: "Jaeger",
        uid: JAEGER_UID,
        type: "jaeger",
        access: "proxy",
        url: "http://jaeger:16686",
        jsonData: {
          tracesToLogsV2: {
            datasourceUid: logsDatasourceUid(logs),
            // A span's service.name (OTEL_SERVICE_NAME) is the label the log pipelines set; Grafana's
            // default would ask for service_name, which no line carries.
            tags: [{ key: "service.name", value: SERVICE_LOG_LABEL }],
            filterByTraceID: true,
            spanStartTimeShift: "-5m",
            spanEndTimeShift: "5m",
          },
        },
      },
    ],
  };
}

function logsDatasource(
  logs: LogsBackend,
  elasticsearchReader: DatasourceInput["elasticsearchReader"],
): Record<string, unknown> {
  if (logs === "loki") {
    return {
      name: "Loki",
      uid: "loki",
      type: "loki",
      access: "proxy",
      url: "http://loki:3100",
      jsonData: { maxLines: 1000 },
    };
  }
  if (!elasticsearchReader) throw new Error("the ELK option needs an Elasticsearch reader login");
  return {
    name: "Elasticsearch",
    uid: "elasticsearch",
    type: "elasticsearch",
    access: "proxy",
    url: "http://elasticsearch:9200",
    basicAuth: true,
    basicAuthUser: elasticsearchReader.username,
    jsonData: {
      index: "logs-*",
      timeField: "@timestamp",
      logMessageField: "message",
      logLevelField: "log.level",
    },
    secureJsonData: { basicAuthPassword: elasticsearchReader.password },
  };
}

export const DASHBOARDS_DIR = "/var/lib/grafana/dashboards";

/** provisioning/dashboards/platform.yaml: load the generated dashboards, read-only, into one folder. */
export function grafanaDashboardProvider(folder: string): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "platform",
        folder,
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: DASHBOARDS_DIR },
      },
    ],
  };
}
