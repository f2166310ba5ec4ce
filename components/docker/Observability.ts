import * as pulumi from "@pulumi/pulumi";
import { OTLP_HTTP_PORT } from "../engines";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { AlertThresholds, ScrapedInfrastructure, renderAlertRules } from "../observability/alertRules";
import { AlertReceivers } from "../observability/alertingSettings";
import {
  ALERTMANAGER_PORT,
  receiverSecretFiles,
  receiverSettings,
  renderAlertmanagerConfig,
} from "../observability/alertmanagerConfig";
import { catalogDashboards } from "../observability/grafanaDashboards";
import {
  DASHBOARDS_DIR,
  LogsBackend,
  grafanaDashboardProvider,
  grafanaDatasources,
} from "../observability/grafanaProvisioning";
import { LogSelection } from "../observability/logsConfig";
import { ScrapeJob, renderPrometheusConfig } from "../observability/prometheusConfig";
import { TracingSettings } from "../observability/settings";
import { JAEGER_ADMIN_PORT, jaegerMemoryEnv } from "../observability/tracing";
import { ElkLogging } from "./ElkLogging";
import { LogsBackendArgs, LokiLogging } from "./LokiLogging";
import { PlatformLabels, healthcheck, httpGet, loopbackPort } from "./containerDefaults";
import { SharedContainerArgs, platformContainer } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";

export interface ObservabilityArgs {
  namePrefix: string;
  selection: LogSelection;
  logs: LogsBackend;
  /** Every catalog service, for alerts and dashboards. */
  services: string[];
  /** What Prometheus scrapes besides the observability stack itself. */
  scrapeJobs: ScrapeJob[];
  /** Which of those jobs report the stores' own state (queue depth, `redis_up`, `pg_up`). */
  storeJobs: Omit<ScrapedInfrastructure, "jobs">;
  scrapeInterval: string;
  thresholds: AlertThresholds;
  /** Where Alertmanager sends alerts; none: they stay in its UI. */
  alerting: AlertReceivers;
  images: LogsBackendArgs["images"] & {
    prometheus: string;
    alertmanager: string;
    grafana: string;
    jaeger: string;
    nodeExporter: string;
  };
  /** The network every scraped or traced container joins. */
  network: docker.Network;
  hostPorts: { grafana: number; prometheus: number; alertmanager: number; jaeger: number; kibana: number };
  labels: PlatformLabels;
  memory: ContainerMemory;
  /** How many traces Jaeger keeps at most; its memory comes from the profile. */
  tracing: Pick<TracingSettings, "maxTraces">;
}

/** OTLP over HTTP at Jaeger, given to every service. */
export const OTLP_ENDPOINT = `http://jaeger:${OTLP_HTTP_PORT}`;

/** Where each program of the stack serves HTTP inside its container (scraped by Prometheus, probed by its healthcheck). */
const PORTS = {
  prometheus: 9090,
  alertmanager: ALERTMANAGER_PORT,
  nodeExporter: 9100,
  grafana: 3000,
  jaegerUi: 16686,
  jaegerAdmin: JAEGER_ADMIN_PORT,
};

type LogsBackendComponent = LokiLogging | ElkLogging;

/** The logs backend each option selects; both expose the same surface to Grafana and Prometheus. */
const LOGS_BACKENDS: Record<
  LogsBackend,
  new (name: string, args: LogsBackendArgs, opts: pulumi.ComponentResourceOptions) => LogsBackendComponent
> = {
  loki: LokiLogging,
  elk: ElkLogging,
};

/**
 * Metrics, logs and traces for the dev stack: Prometheus with the alert rules, Alertmanager
 * delivering them to the stack's receivers, node-exporter,
 * Jaeger all-in-one (OTLP), Grafana provisioned with datasources and one dashboard per service,
 * and Loki/Promtail or ELK for logs.
 */
export class Observability extends pulumi.ComponentResource {
  readonly grafanaUrl: string;
  readonly prometheusUrl: string;
  /** Alertmanager's UI: the alerts firing, silences. */
  readonly alertmanagerUrl: string;
  readonly jaegerUrl: string;
  /** Kibana with ELK; Grafana's Explore with Loki. */
  readonly logsUrl: string;
  readonly grafanaAdminPassword: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:Observability", name, {}, opts);
    const context: ObservabilityContext = {
      name,
      args,
      common: { namePrefix: args.namePrefix, networks: [args.network], labels: args.labels },
      parent: this,
    };
    const logging = logsBackend(context);
    prometheus(context, logging);
    alertmanager(context);
    nodeExporter(context);
    jaeger(context);
    this.grafanaAdminPassword = grafana(context, logging);

    this.grafanaUrl = `http://127.0.0.1:${args.hostPorts.grafana}`;
    this.prometheusUrl = `http://127.0.0.1:${args.hostPorts.prometheus}`;
    this.alertmanagerUrl = `http://127.0.0.1:${args.hostPorts.alertmanager}`;
    this.jaegerUrl = `http://127.0.0.1:${args.hostPorts.jaeger}`;
    this.logsUrl = logging.url ?? `${this.grafanaUrl}/explore`;
    this.registerOutputs({
      grafanaUrl: this.grafanaUrl,
      prometheusUrl: this.prometheusUrl,
      alertmanagerUrl: this.alertmanagerUrl,
      jaegerUrl: this.jaegerUrl,
      logsUrl: this.logsUrl,
    });
  }
}

/** What every phase builds on; `parent` is the Observability component. */
interface ObservabilityContext {
  name: string;
  args: ObservabilityArgs;
  /** Prefix, network and labels that every container of the stack shares. */
  common: SharedContainerArgs;
  parent: pulumi.Resource;
}

function logsBackend({ name, args, parent }: ObservabilityContext): LogsBackendComponent {
  return new LOGS_BACKENDS[args.logs](
    `${name}-logs`,
    {
      namePrefix: args.namePrefix,
      selection: args.selection,
      images: args.images,
      network: args.network,
      kibanaHostPort: args.hostPorts.kibana,
      labels: args.labels,
      memory: args.memory,
    },
    { parent },
  );
}

/** The catalog's jobs, then the observability stack's own exporters. */
function scrapeJobs(args: ObservabilityArgs, logging: LogsBackendComponent): ScrapeJob[] {
  return [
    ...args.scrapeJobs,
    { job: "prometheus", groups: [{ targets: [`localhost:${PORTS.prometheus}`] }] },
    { job: "alertmanager", groups: [{ targets: [`alertmanager:${PORTS.alertmanager}`] }] },
    { job: "node", groups: [{ targets: [`node-exporter:${PORTS.nodeExporter}`] }] },
    { job: "jaeger", groups: [{ targets: [`jaeger:${PORTS.jaegerAdmin}`] }] },
    { job: "grafana", groups: [{ targets: [`grafana:${PORTS.grafana}`] }] },
    ...logging.scrapeJobs,
  ];
}

/** The catalog's alerts, and the infrastructure rules of what this stack scrapes besides the services. */
function alertRulesFile(args: ObservabilityArgs, jobs: ScrapeJob[]): string {
  const services = new Set(args.services);
  return renderAlertRules(args.services, args.thresholds, {
    ...args.storeJobs,
    jobs: jobs.map((job) => job.job).filter((job) => !services.has(job)),
  });
}

function prometheus(context: ObservabilityContext, logging: LogsBackendComponent): void {
  const { args } = context;
  const jobs = scrapeJobs(args, logging);
  prometheusProjectServer(context, {
    host: "prometheus",
    files: {
      "/etc/prometheus/prometheus.yml": renderPrometheusConfig({
        scrapeInterval: args.scrapeInterval,
        externalLabels: { stack: args.selection.stack, catalog: args.selection.catalog },
        jobs,
        ruleFiles: ["/etc/prometheus/rules/*.yml"],
        alertmanagers: [`alertmanager:${PORTS.alertmanager}`],
      }),
      "/etc/prometheus/rules/alerts.yml": alertRulesFile(args, jobs),
    },
    flags: [
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=7d",
      "--web.enable-lifecycle",
    ],
    dataPath: "/prometheus",
  });
}

/** Where Alertmanager reads its config and the receivers' secrets (one file each). */
const ALERTMANAGER_CONFIG_DIR = "/etc/alertmanager";
const ALERTMANAGER_SECRETS_DIR = `${ALERTMANAGER_CONFIG_DIR}/secrets`;

/** Alertmanager, alone (no cluster peers), with the stack's receivers; its secrets are files in the container. */
function alertmanager(context: ObservabilityContext): void {
  const { alerting } = context.args;
  const secrets = Object.entries(receiverSecretFiles(alerting)).map(([file, value]) => [
    `${ALERTMANAGER_SECRETS_DIR}/${file}`,
    value,
  ]);
  prometheusProjectServer(context, {
    host: "alertmanager",
    files: {
      [`${ALERTMANAGER_CONFIG_DIR}/alertmanager.yml`]: renderAlertmanagerConfig(
        receiverSettings(alerting),
        ALERTMANAGER_SECRETS_DIR,
      ),
      ...Object.fromEntries(secrets),
    },
    flags: [
      `--config.file=${ALERTMANAGER_CONFIG_DIR}/alertmanager.yml`,
      "--storage.path=/alertmanager",
      // One instance: no gossip port, no waiting for peers.
      "--cluster.listen-address=",
    ],
    dataPath: "/alertmanager",
  });
}

/**
 * A server of the Prometheus project (Prometheus, Alertmanager): its files, its data on a volume,
 * its HTTP port on loopback, healthy once `/-/ready` answers.
 */
function prometheusProjectServer(
  { name, args, common, parent }: ObservabilityContext,
  server: {
    host: "prometheus" | "alertmanager";
    files: Record<string, pulumi.Input<string>>;
    flags: string[];
    dataPath: string;
  },
): void {
  const { host } = server;
  const data = new docker.Volume(`${name}-${host}-data`, { name: `${args.namePrefix}-${host}-data` }, { parent });
  platformContainer(
    `${name}-${host}`,
    {
      ...common,
      host,
      image: args.images[host],
      files: server.files,
      settings: {
        command: server.flags,
        volumes: [{ volumeName: data.name, containerPath: server.dataPath }],
        ports: [loopbackPort(PORTS[host], args.hostPorts[host])],
        memory: args.memory[host],
        // prom/prometheus and prom/alertmanager are FROM quay.io/prometheus/busybox: busybox wget.
        healthcheck: healthcheck(httpGet("wget", PORTS[host], "/-/ready")),
      },
    },
    { parent },
  );
}

function nodeExporter({ name, args, common, parent }: ObservabilityContext): void {
  platformContainer(
    `${name}-node-exporter`,
    {
      ...common,
      host: "node-exporter",
      image: args.images.nodeExporter,
      settings: {
        command: ["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/rootfs"],
        volumes: [
          { hostPath: "/proc", containerPath: "/host/proc", readOnly: true },
          { hostPath: "/sys", containerPath: "/host/sys", readOnly: true },
          { hostPath: "/", containerPath: "/rootfs", readOnly: true },
        ],
        memory: args.memory.exporter,
        // node_exporter's Dockerfile: FROM quay.io/prometheus/busybox, so busybox wget.
        healthcheck: healthcheck(httpGet("wget", PORTS.nodeExporter, "/metrics"), { interval: "30s" }),
      },
    },
    { parent },
  );
}

function jaeger({ name, args, common, parent }: ObservabilityContext): void {
  platformContainer(
    `${name}-jaeger`,
    {
      ...common,
      host: "jaeger",
      image: args.images.jaeger,
      settings: {
        envs: [
          "COLLECTOR_OTLP_ENABLED=true",
          // Bounded by the memory the profile gives it, as on prod.
          ...Object.entries(jaegerMemoryEnv(args.memory.jaeger * 1024 ** 2, args.tracing.maxTraces)).map(
            ([name, value]) => `${name}=${value}`,
          ),
        ],
        ports: [loopbackPort(PORTS.jaegerUi, args.hostPorts.jaeger)],
        memory: args.memory.jaeger,
        // all-in-one 1.60's base image is alpine (docker/base/Dockerfile): busybox wget.
        healthcheck: healthcheck(httpGet("wget", PORTS.jaegerAdmin, "/")),
      },
    },
    { parent },
  );
}

/** Datasources, the dashboard provider and one dashboard per service, path -> content. */
function grafanaProvisioning(
  args: ObservabilityArgs,
  logging: LogsBackendComponent,
): Record<string, pulumi.Input<string>> {
  const datasources = pulumi
    .output(logging.elasticsearchReader)
    .apply((reader) =>
      stringify(
        grafanaDatasources({ logs: args.logs, scrapeInterval: args.scrapeInterval, elasticsearchReader: reader }),
      ),
    );
  const dashboards = Object.fromEntries(
    Object.entries(catalogDashboards(args.selection.catalog, args.services, args.logs)).map(([file, json]) => [
      `${DASHBOARDS_DIR}/${file}`,
      json,
    ]),
  );
  return {
    // Secret as a whole: with ELK it holds the reader's password.
    "/etc/grafana/provisioning/datasources/platform.yaml": pulumi.secret(datasources),
    "/etc/grafana/provisioning/dashboards/platform.yaml": stringify(grafanaDashboardProvider(args.selection.catalog)),
    ...dashboards,
  };
}

/** Grafana, provisioned and started once the logs backend is up; returns its admin password. */
function grafana(
  { name, args, common, parent }: ObservabilityContext,
  logging: LogsBackendComponent,
): pulumi.Output<string> {
  const adminPassword = new random.RandomPassword(
    `${name}-grafana-admin-password`,
    { length: 32, special: false },
    { parent },
  ).result;
  const files = grafanaProvisioning(args, logging);
  const grafanaData = new docker.Volume(
    `${name}-grafana-data`,
    { name: `${args.namePrefix}-grafana-data` },
    { parent },
  );
  platformContainer(
    `${name}-grafana`,
    {
      ...common,
      host: "grafana",
      image: args.images.grafana,
      files,
      settings: {
        envs: pulumi.secret(
          adminPassword.apply((password) => [
            "GF_SECURITY_ADMIN_USER=admin",
            `GF_SECURITY_ADMIN_PASSWORD=${password}`,
            "GF_USERS_ALLOW_SIGN_UP=false",
            "GF_AUTH_ANONYMOUS_ENABLED=false",
            "GF_ANALYTICS_REPORTING_ENABLED=false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
            "GF_PLUGINS_PLUGIN_ADMIN_ENABLED=false",
          ]),
        ),
        volumes: [{ volumeName: grafanaData.name, containerPath: "/var/lib/grafana" }],
        ports: [loopbackPort(PORTS.grafana, args.hostPorts.grafana)],
        memory: args.memory.grafana,
        // Grafana's Dockerfile installs curl on its alpine base; /api/health checks its database too.
        healthcheck: healthcheck(httpGet("curl", PORTS.grafana, "/api/health"), { startPeriod: "30s" }),
      },
    },
    { parent, dependsOn: [logging] },
  );
  return adminPassword;
}
