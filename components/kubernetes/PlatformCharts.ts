import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { Catalog } from "../../services/schema";
import { GatewayClient, renderKongConfig } from "../gateway/kongConfig";
import { rateLimitCounters } from "../gateway/clients";
import { CacheEndpoint } from "../platform";
import { AlertThresholds, QueueDepthSource } from "../observability/alertRules";
import { AlertReceivers } from "../observability/alertingSettings";
import { receiverSecretFiles, receiverSettings, renderAlertmanagerConfig } from "../observability/alertmanagerConfig";
import { catalogDashboards } from "../observability/grafanaDashboards";
import { LogsBackend } from "../observability/grafanaProvisioning";
import { elasticsearchSetupScript } from "../observability/logsConfig";
import { IMAGES, OTLP_HTTP_PORT } from "../engines";
import { TracingSettings } from "../observability/settings";
import { JAEGER_ADMIN_PORT } from "../observability/tracing";
import {
  ELASTICSEARCH_URL,
  KONG_METRICS_JOB,
  GRAFANA_FOLDER_ANNOTATION,
  JAEGER_POD_LABELS,
  KONG_REPLICAS,
  LOGS_READER_SECRET_KEY,
  NAMESPACES,
  elasticsearchValues,
  filebeatValues,
  jaegerValues,
  kibanaValues,
  kongValues,
  logstashValues,
  lokiValues,
  monitoringValues,
  promtailValues,
} from "./chartValues";
import { NAME_LIMITS, logicalName } from "../naming";
import { contentChecksum } from "./checksum";

// Declared beside the chart values that use them; the rest of the platform takes them from here.
export { NAMESPACES };

/** Pinned chart versions; upgrades are deliberate changes. */
export const CHARTS = {
  kong: { chart: "kong", version: "2.47.0", repo: "https://charts.konghq.com" },
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "65.8.1",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  loki: { chart: "loki", version: "6.18.0", repo: "https://grafana.github.io/helm-charts" },
  promtail: { chart: "promtail", version: "6.16.6", repo: "https://grafana.github.io/helm-charts" },
  jaeger: { chart: "jaeger", version: "3.3.1", repo: "https://jaegertracing.github.io/helm-charts" },
  elasticsearch: { chart: "elasticsearch", version: "8.5.1", repo: "https://helm.elastic.co" },
  kibana: { chart: "kibana", version: "8.5.1", repo: "https://helm.elastic.co" },
  logstash: { chart: "logstash", version: "8.5.1", repo: "https://helm.elastic.co" },
  filebeat: { chart: "filebeat", version: "8.5.1", repo: "https://helm.elastic.co" },
  // appVersion 1.35.0: the autoscaler's minor must be the cluster's (engines.ts, IMAGES.clusterAutoscaler).
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    version: "9.59.0",
    repo: "https://kubernetes.github.io/autoscaler",
  },
} as const;

export const OTLP_ENDPOINT_IN_CLUSTER = `http://jaeger-collector.${NAMESPACES.tracing}.svc.cluster.local:${OTLP_HTTP_PORT}`;

export interface PlatformChartsArgs {
  catalog: Catalog;
  appNamespace: string;
  /** One Kong consumer each (secret). */
  gatewayClients: pulumi.Output<GatewayClient[]>;
  /** Where Kong's replicas share their rate-limit counters; required when a route has a limit. */
  gatewayCache?: CacheEndpoint;
  corsOrigins: string[];
  certificateArn: string;
  /**
   * The subnets the gateway's load balancer lands in: Kong's release waits for them, so a destroy
   * uninstalls it (Helm waits for the Service, which the cloud controller's finalizer holds until the
   * NLB is gone) before they go.
   */
  gatewaySubnets: pulumi.Input<string[]>;
  /** Tags of the gateway's load balancer, which the cloud controller creates outside any provider. */
  gatewayTags: Record<string, string>;
  scrapeInterval: string;
  thresholds: AlertThresholds;
  /** Where Alertmanager sends alerts (validation requires one receiver on prod). */
  alerting: AlertReceivers;
  /**
   * Where the broker's queue depths are scraped, when the catalog uses it: the in-cluster RabbitMQ's
   * job, or the exporter reading Amazon MQ's management API. Its job is watched like Kong's.
   */
  brokerMetrics?: QueueDepthSource;
  grafanaAdminPassword: pulumi.Output<string>;
  /** Loki + Promtail, or Elasticsearch, Logstash, Filebeat and Kibana. */
  logs: LogsBackend;
  /** The StorageClass every chart's volumes claim from (Prometheus, Loki or Elasticsearch). */
  storageClass: pulumi.Input<string>;
  /** Jaeger's memory and how many traces it keeps. */
  tracing: TracingSettings;
  provider: k8s.Provider;
}

/** Options of every child that talks to the cluster. */
interface ChildOpts {
  parent: pulumi.Resource;
  provider: k8s.Provider;
}

type Namespaces = Record<string, k8s.core.v1.Namespace>;

/** Declares a chart's release in `namespace`, after that namespace and `dependsOn`. */
type Release = (
  key: keyof typeof CHARTS,
  namespace: string,
  values: pulumi.Input<Record<string, unknown>>,
  dependsOn?: pulumi.Input<pulumi.Resource>[],
) => k8s.helm.v3.Release;

/**
 * The in-cluster platform as Helm releases: Kong (the gateway, behind an NLB with TLS),
 * kube-prometheus-stack with the same alert rules and generated dashboards as dev, Loki and
 * Promtail for logs, Jaeger for traces.
 */
export class PlatformCharts extends pulumi.ComponentResource {
  readonly gatewayHostname: pulumi.Output<string>;
  /** kube-prometheus-stack's release: PodMonitors wait for the CRDs it installs. */
  readonly monitoringRelease: k8s.helm.v3.Release;

  constructor(name: string, args: PlatformChartsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:PlatformCharts", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    const namespaces = createNamespaces(name, k8sOpts);
    const release = releaseDeclarer(name, namespaces, k8sOpts);
    // Monitoring first: the other charts' ServiceMonitors need its CRDs.
    const monitoring = createMonitoring(name, args, namespaces.monitoring, release, k8sOpts);
    this.monitoringRelease = monitoring.release;
    LOG_BACKENDS[args.logs]({
      name,
      release,
      args,
      opts: k8sOpts,
      after: [monitoring.release],
      readerPassword: monitoring.readerPassword,
    });
    createTracing(name, args.tracing, namespaces.tracing, release, monitoring.release, k8sOpts);
    this.gatewayHostname = createGateway(name, args, namespaces.gateway, release, monitoring.release, k8sOpts);
    this.registerOutputs({ gatewayHostname: this.gatewayHostname });
  }
}

/** One namespace per concern, labelled with it. */
function createNamespaces(name: string, opts: ChildOpts): Namespaces {
  return Object.fromEntries(
    Object.entries(NAMESPACES).map(([key, ns]) => [
      key,
      new k8s.core.v1.Namespace(
        `${name}-ns-${ns}`,
        { metadata: { name: ns, labels: { "platform/purpose": key } } },
        opts,
      ),
    ]),
  );
}

function releaseDeclarer(name: string, namespaces: Namespaces, opts: ChildOpts): Release {
  return (key, namespace, values, dependsOn = []) =>
    new k8s.helm.v3.Release(
      `${name}-${key}`,
      {
        name: CHARTS[key].chart === "kube-prometheus-stack" ? "kps" : CHARTS[key].chart,
        chart: CHARTS[key].chart,
        version: CHARTS[key].version,
        repositoryOpts: { repo: CHARTS[key].repo },
        namespace,
        values,
        atomic: true,
        timeout: 900,
      },
      {
        ...opts,
        dependsOn: [
          namespaces[Object.keys(NAMESPACES).find((k) => NAMESPACES[k as keyof typeof NAMESPACES] === namespace)!],
          ...dependsOn,
        ],
      },
    );
}

interface Monitoring {
  release: k8s.helm.v3.Release;
  /** Password of the read-only login Grafana's logs datasource uses. */
  readerPassword: pulumi.Output<string>;
}

/** The Secrets Alertmanager reads: its config, and the receivers' secrets the config names as files. */
const ALERTMANAGER_SECRETS = { config: "alertmanager-platform", receivers: "alertmanager-receivers" } as const;

/**
 * Alertmanager's config and the receivers' secrets as two Secrets; the operator mounts the second
 * at /etc/alertmanager/secrets/<name>/ (prometheus-operator's AlertmanagerSpec.secrets).
 */
function createAlertmanagerSecrets(
  name: string,
  args: PlatformChartsArgs,
  namespace: k8s.core.v1.Namespace,
  opts: ChildOpts,
): k8s.core.v1.Secret[] {
  const secret = (key: string, secretName: string, stringData: Record<string, pulumi.Input<string>>) =>
    new k8s.core.v1.Secret(
      `${name}-${key}`,
      { metadata: { name: secretName, namespace: NAMESPACES.monitoring }, stringData },
      { ...opts, dependsOn: [namespace] },
    );
  const secretsDir = `/etc/alertmanager/secrets/${ALERTMANAGER_SECRETS.receivers}`;
  return [
    secret("alertmanager-config", ALERTMANAGER_SECRETS.config, {
      "alertmanager.yaml": renderAlertmanagerConfig(receiverSettings(args.alerting), secretsDir),
    }),
    secret("alertmanager-receivers", ALERTMANAGER_SECRETS.receivers, receiverSecretFiles(args.alerting)),
  ];
}

/** kube-prometheus-stack with Grafana's admin login, the catalog's dashboards and (ELK) the logs reader's password. */
function createMonitoring(
  name: string,
  args: PlatformChartsArgs,
  namespace: k8s.core.v1.Namespace,
  release: Release,
  opts: ChildOpts,
): Monitoring {
  const grafanaAdmin = new k8s.core.v1.Secret(
    `${name}-grafana-admin`,
    {
      metadata: { name: "grafana-admin", namespace: NAMESPACES.monitoring },
      stringData: { "admin-user": "admin", "admin-password": args.grafanaAdminPassword },
    },
    { ...opts, dependsOn: [namespace] },
  );
  // With ELK, Grafana reads logs with a read-only login the setup Job creates.
  const readerPassword = new random.RandomPassword(
    `${name}-logs-reader`,
    { length: 32, special: false },
    { parent: opts.parent },
  ).result;
  const readerSecret = args.logs === "elk" ? logsReaderSecret(name, readerPassword, namespace, opts) : undefined;
  createDashboards(name, args.catalog, args.logs, namespace, opts);
  const alertmanagerSecrets = createAlertmanagerSecrets(name, args, namespace, opts);
  const values = monitoringValues({
    grafanaAdminSecret: grafanaAdmin.metadata.name,
    logs: args.logs,
    logsReaderSecret: readerSecret?.metadata.name,
    scrapeInterval: args.scrapeInterval,
    appNamespace: args.appNamespace,
    serviceNames: args.catalog.services.map((s) => s.name),
    thresholds: args.thresholds,
    infrastructure: {
      jobs: [KONG_METRICS_JOB, ...(args.brokerMetrics ? [args.brokerMetrics.job] : [])],
      queueDepth: args.brokerMetrics,
    },
    alertmanager: {
      configSecret: alertmanagerSecrets[0].metadata.name,
      receiversSecret: alertmanagerSecrets[1].metadata.name,
    },
    storageClass: args.storageClass,
  });
  return {
    release: release("kubePrometheusStack", NAMESPACES.monitoring, values, [
      ...alertmanagerSecrets,
      ...(readerSecret ? [readerSecret] : []),
    ]),
    readerPassword,
  };
}

/**
 * The logs reader's password where Grafana's container reads it: a Secret, since the chart renders
 * the datasource itself into a ConfigMap (chartValues.ts, logsDatasource).
 */
function logsReaderSecret(
  name: string,
  password: pulumi.Output<string>,
  namespace: k8s.core.v1.Namespace,
  opts: ChildOpts,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    `${name}-grafana-logs-reader`,
    {
      metadata: { name: "grafana-logs-reader", namespace: NAMESPACES.monitoring },
      stringData: { [LOGS_READER_SECRET_KEY]: password },
    },
    { ...opts, dependsOn: [namespace] },
  );
}

/** One ConfigMap per generated dashboard; Grafana's sidecar files it under the catalog's folder. */
function createDashboards(
  name: string,
  catalog: Catalog,
  logs: LogsBackend,
  namespace: k8s.core.v1.Namespace,
  opts: ChildOpts,
): void {
  const dashboards = catalogDashboards(
    catalog.name,
    catalog.services.map((s) => s.name),
    logs,
  );
  for (const [file, json] of Object.entries(dashboards)) {
    new k8s.core.v1.ConfigMap(
      `${name}-dashboard-${file.replace(/\.json$/, "")}`,
      {
        metadata: {
          namespace: NAMESPACES.monitoring,
          labels: { grafana_dashboard: "1" },
          annotations: { [GRAFANA_FOLDER_ANNOTATION]: catalog.name },
        },
        data: { [file]: json },
      },
      { ...opts, dependsOn: [namespace] },
    );
  }
}

/**
 * Jaeger, and Prometheus scraping its admin port. The chart's all-in-one declares no container port
 * 14269 (templates/allinone-deploy.yaml) and a PodMonitor finds declared ports only, so a Service of
 * ours names it for a ServiceMonitor.
 */
function createTracing(
  name: string,
  tracing: TracingSettings,
  namespace: k8s.core.v1.Namespace,
  release: Release,
  monitoring: k8s.helm.v3.Release,
  opts: ChildOpts,
): void {
  release("jaeger", NAMESPACES.tracing, jaegerValues(tracing), [monitoring]);
  const labels = { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/component": "admin" };
  const admin = new k8s.core.v1.Service(
    `${name}-jaeger-admin`,
    {
      metadata: { name: "jaeger-admin", namespace: NAMESPACES.tracing, labels },
      spec: {
        type: "ClusterIP",
        selector: JAEGER_POD_LABELS,
        ports: [{ name: "admin", port: JAEGER_ADMIN_PORT, targetPort: JAEGER_ADMIN_PORT }],
      },
    },
    { ...opts, dependsOn: [namespace] },
  );
  new k8s.apiextensions.CustomResource(
    `${name}-jaeger-monitor`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "jaeger", namespace: NAMESPACES.tracing },
      spec: { selector: { matchLabels: labels }, endpoints: [{ port: "admin", path: "/metrics" }] },
    },
    { ...opts, dependsOn: [admin, monitoring] },
  );
}

/** Kong from its declarative config in a Secret; returns the hostname (or address) of its load balancer. */
function createGateway(
  name: string,
  args: PlatformChartsArgs,
  namespace: k8s.core.v1.Namespace,
  release: Release,
  monitoring: k8s.helm.v3.Release,
  opts: ChildOpts,
): pulumi.Output<string> {
  // Counted in the cache: the autoscaler runs up to KONG_REPLICAS.max Kongs.
  const counters = rateLimitCounters(args.gatewayCache, KONG_REPLICAS.max, args.catalog);
  const config = pulumi.all([args.gatewayClients, counters]).apply(([clients, rateCounters]) =>
    renderKongConfig({
      catalog: args.catalog,
      clients,
      counters: rateCounters,
      corsOrigins: args.corsOrigins,
      // Kong runs in its own namespace: services by their namespaced DNS names.
      serviceHost: (service) => `${service}.${args.appNamespace}.svc.cluster.local`,
    }),
  );
  const declarative = new k8s.core.v1.Secret(
    `${name}-kong-declarative`,
    { metadata: { name: "kong-declarative", namespace: NAMESPACES.gateway }, stringData: { "kong.yml": config } },
    { ...opts, dependsOn: [namespace] },
  );
  // A one-way hash of the config, which holds the clients' keys: no secret, yet a changed file rolls the pods.
  const checksum = contentChecksum(config);
  const subnets = pulumi.output(args.gatewaySubnets).apply(() => declarative);
  const kong = release(
    "kong",
    NAMESPACES.gateway,
    kongValues(args.certificateArn, "kong-declarative", args.gatewayTags, checksum),
    [monitoring, subnets],
  );
  const proxy = k8s.core.v1.Service.get(
    `${name}-kong-proxy`,
    pulumi.interpolate`${NAMESPACES.gateway}/${kong.name}-kong-proxy`,
    { ...opts, dependsOn: [kong] },
  );
  return proxy.status.loadBalancer.ingress.apply((ingress) => ingress?.[0]?.hostname ?? ingress?.[0]?.ip ?? "");
}

interface LogBackendContext {
  name: string;
  release: Release;
  args: PlatformChartsArgs;
  opts: ChildOpts;
  after: pulumi.Resource[];
  /** Password of the read-only login Grafana's logs datasource uses. */
  readerPassword: pulumi.Output<string>;
}

/** Each log option installs its charts; both collect the catalog's namespace. */
const LOG_BACKENDS: Record<LogsBackend, (context: LogBackendContext) => void> = {
  loki: ({ release, args, after }) => {
    release("loki", NAMESPACES.logging, lokiValues(args.storageClass), after);
    release("promtail", NAMESPACES.logging, promtailValues(args.appNamespace), after);
  },
  elk: ({ name, release, args, opts, after, readerPassword }) => {
    // The chart secures Elasticsearch (TLS, generated elastic password in elasticsearch-master-credentials).
    const elasticsearch = release("elasticsearch", NAMESPACES.logging, elasticsearchValues(args.storageClass), after);
    const logins = createLogsLogins(name, readerPassword, elasticsearch, opts);
    const logstash = release("logstash", NAMESPACES.logging, logstashValues(args.catalog.name), [
      elasticsearch,
      logins,
    ]);
    release("filebeat", NAMESPACES.logging, filebeatValues(args.appNamespace), [logstash]);
    release("kibana", NAMESPACES.logging, kibanaValues(), [elasticsearch]);
  },
};

/**
 * The logs-logins Secret (Logstash's writer, Kibana, Grafana's reader) and the Job that creates
 * those logins in Elasticsearch: the same least-privilege logins as dev, made by the same script.
 */
function createLogsLogins(
  name: string,
  readerPassword: pulumi.Output<string>,
  elasticsearch: k8s.helm.v3.Release,
  opts: ChildOpts,
): k8s.core.v1.Secret {
  const password = (purpose: string) =>
    new random.RandomPassword(`${name}-logs-${purpose}`, { length: 32, special: false }, { parent: opts.parent })
      .result;
  const logins = new k8s.core.v1.Secret(
    `${name}-logs-logins`,
    {
      metadata: { name: "logs-logins", namespace: NAMESPACES.logging },
      stringData: {
        LOGSTASH_WRITER_PASSWORD: password("writer"),
        KIBANA_PASSWORD: password("kibana"),
        GRAFANA_READER_PASSWORD: readerPassword,
      },
    },
    opts,
  );
  const script = new k8s.core.v1.ConfigMap(
    `${name}-logs-setup-script`,
    {
      metadata: { namespace: NAMESPACES.logging },
      data: { "setup.sh": elasticsearchSetupScript() },
    },
    opts,
  );
  new k8s.batch.v1.Job(
    // Pulumi names the Job after its logical name.
    logicalName(`${name}-logs-setup`, NAME_LIMITS.job, "kubernetes"),
    { metadata: { namespace: NAMESPACES.logging }, spec: logsSetupJobSpec(logins.metadata.name, script.metadata.name) },
    { ...opts, dependsOn: [elasticsearch] },
  );
  return logins;
}

/** Runs the setup script with the elastic password, the logins to create, and the chart's CA. */
function logsSetupJobSpec(
  loginsSecret: pulumi.Input<string>,
  setupScript: pulumi.Input<string>,
): k8s.types.input.batch.v1.JobSpec {
  return {
    backoffLimit: 10,
    template: {
      spec: {
        restartPolicy: "OnFailure",
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 100, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "setup",
            image: IMAGES.curl,
            command: ["sh", "/setup/setup.sh"],
            env: [
              { name: "ES_URL", value: ELASTICSEARCH_URL },
              { name: "CURL_CA_BUNDLE", value: "/certs/ca.crt" },
              {
                name: "ELASTIC_PASSWORD",
                valueFrom: { secretKeyRef: { name: "elasticsearch-master-credentials", key: "password" } },
              },
            ],
            envFrom: [{ secretRef: { name: loginsSecret } }],
            volumeMounts: [
              { name: "setup", mountPath: "/setup" },
              { name: "certs", mountPath: "/certs" },
            ],
            resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
        volumes: [
          { name: "setup", configMap: { name: setupScript } },
          { name: "certs", secret: { secretName: "elasticsearch-master-certs" } },
        ],
      },
    },
  };
}
