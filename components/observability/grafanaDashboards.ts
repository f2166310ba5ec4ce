import { LogsBackend, PROMETHEUS_UID, logsDatasourceUid } from "./grafanaProvisioning";
import { SERVICE_LOG_LABEL } from "./logsConfig";
import { NAME_LIMITS, fitName } from "../naming";

/** A Grafana dashboard as JSON-ready data (schemaVersion 39, Grafana 10/11). */
export type Dashboard = Record<string, unknown>;

interface PanelSpec {
  title: string;
  type: "timeseries" | "stat" | "logs";
  expr: string;
  unit?: string;
  legend?: string;
}

const GRID_WIDTH = 24;

function panels(specs: PanelSpec[], logs: LogsBackend, width = 12): Record<string, unknown>[] {
  const perRow = GRID_WIDTH / width;
  return specs.map((spec, i) => {
    const isLogs = spec.type === "logs";
    const datasource = isLogs
      ? { type: logs === "loki" ? "loki" : "elasticsearch", uid: logsDatasourceUid(logs) }
      : { type: "prometheus", uid: PROMETHEUS_UID };
    const target =
      isLogs && logs === "elk"
        ? {
            refId: "A",
            datasource,
            query: spec.expr,
            metrics: [{ type: "logs", id: "1" }],
            bucketAggs: [],
            timeField: "@timestamp",
          }
        : { refId: "A", datasource, expr: spec.expr, ...(spec.legend ? { legendFormat: spec.legend } : {}) };
    return {
      id: i + 1,
      title: spec.title,
      type: spec.type,
      datasource,
      gridPos: { x: (i % perRow) * width, y: Math.floor(i / perRow) * 8, w: isLogs ? GRID_WIDTH : width, h: 8 },
      targets: [target],
      ...(spec.unit ? { fieldConfig: { defaults: { unit: spec.unit }, overrides: [] } } : {}),
    };
  });
}

function dashboard(uid: string, title: string, tags: string[], panelList: Record<string, unknown>[]): Dashboard {
  return {
    uid,
    title,
    tags,
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    timezone: "browser",
    panels: panelList,
  };
}

function uidFor(prefix: string, name: string): string {
  return fitName(`${prefix}-${name}`, NAME_LIMITS.grafanaUid);
}

/** Overview of every service: availability, request rate, 5xx share and p95 latency by service. */
export function overviewDashboard(catalogName: string, services: string[], logs: LogsBackend): Dashboard {
  const selector = `service=~"${services.join("|")}"`;
  return dashboard(
    uidFor("overview", catalogName),
    `${catalogName}: overview`,
    ["platform", catalogName],
    panels(
      [
        { title: "Services up", type: "stat", expr: `sum(up{${selector}})`, unit: "none" },
        {
          title: "Requests per second",
          type: "timeseries",
          expr: `sum by (service) (rate(http_requests_total{${selector}}[5m]))`,
          unit: "reqps",
          legend: "{{service}}",
        },
        {
          title: "5xx share",
          type: "timeseries",
          expr: `sum by (service) (rate(http_requests_total{${selector},status=~"5.."}[5m])) / sum by (service) (rate(http_requests_total{${selector}}[5m]))`,
          unit: "percentunit",
          legend: "{{service}}",
        },
        {
          title: "p95 latency",
          type: "timeseries",
          expr: `histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{${selector}}[5m])))`,
          unit: "s",
          legend: "{{service}}",
        },
      ],
      logs,
    ),
  );
}

/** One service: its traffic, errors, latency percentiles, availability and logs. */
export function serviceDashboard(catalogName: string, service: string, logs: LogsBackend): Dashboard {
  const s = `service="${service}"`;
  const logQuery = logs === "loki" ? `{${SERVICE_LOG_LABEL}="${service}"}` : `${SERVICE_LOG_LABEL}:"${service}"`;
  return dashboard(
    uidFor(catalogName, service),
    `${catalogName}: ${service}`,
    ["platform", catalogName, service],
    panels(
      [
        { title: "Up", type: "stat", expr: `up{${s}}`, unit: "none" },
        {
          title: "Requests per second by status",
          type: "timeseries",
          expr: `sum by (status) (rate(http_requests_total{${s}}[5m]))`,
          unit: "reqps",
          legend: "{{status}}",
        },
        {
          title: "5xx share",
          type: "timeseries",
          expr: `sum(rate(http_requests_total{${s},status=~"5.."}[5m])) / sum(rate(http_requests_total{${s}}[5m]))`,
          unit: "percentunit",
        },
        {
          title: "p95 latency",
          type: "timeseries",
          expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${s}}[5m])))`,
          unit: "s",
          legend: "p95",
        },
        { title: "Logs", type: "logs", expr: logQuery },
      ],
      logs,
    ),
  );
}

/** File name -> dashboard JSON, one overview and one per service. */
export function catalogDashboards(catalogName: string, services: string[], logs: LogsBackend): Record<string, string> {
  const files: Record<string, string> = {
    "overview.json": JSON.stringify(overviewDashboard(catalogName, services, logs), null, 2),
  };
  for (const service of services)
    files[`service-${service}.json`] = JSON.stringify(serviceDashboard(catalogName, service, logs), null, 2);
  return files;
}
