import * as pulumi from "@pulumi/pulumi";
import { OTLP_HTTP_PORT } from "../engines";
import * as k8s from "@pulumi/kubernetes";
import { Catalog } from "../../services/schema";
import { GatewayCredential, renderKongConfig } from "../gateway/kongConfig";
import { AlertThresholds, alertRules } from "../observability/alertRules";
import { catalogDashboards } from "../observability/grafanaDashboards";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { LogsBackend } from "../observability/grafanaProvisioning";
import {
  elasticsearchSetupScript,
  filebeatKubernetesConfig,
  GRAFANA_READER,
  logstashPipeline,
  lokiConfig,
} from "../observability/logsConfig";
import { ScrapeJob, prometheusConfig } from "../observability/prometheusConfig";

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
} as const;

export const NAMESPACES = {
  gateway: "kong",
  monitoring: "monitoring",
  logging: "logging",
  tracing: "tracing",
} as const;
export const OTLP_ENDPOINT_IN_CLUSTER = `http://jaeger-collector.${NAMESPACES.tracing}.svc.cluster.local:${OTLP_HTTP_PORT}`;

export interface PlatformChartsArgs {
  catalog: Catalog;
  appNamespace: string;
  gatewayCredential: pulumi.Output<GatewayCredential>;
  corsOrigins: string[];
  certificateArn: string;
  /** Scrape jobs for the catalog's services (in-cluster DNS names). */
  scrapeJobs: ScrapeJob[];
  scrapeInterval: string;
  thresholds: AlertThresholds;
  grafanaAdminPassword: pulumi.Output<string>;
  /** Loki + Promtail, or Elasticsearch, Logstash, Filebeat and Kibana. */
  logs: LogsBackend;
  provider: k8s.Provider;
}

/** Values of the Kong chart: DB-less from our declarative Secret, TLS terminated at an NLB with ACM. */
export function kongValues(certificateArn: string, declarativeSecret: string): Record<string, unknown> {
  return {
    replicaCount: 2,
    ingressController: { enabled: false },
    dblessConfig: { secret: declarativeSecret },
    env: { database: "off", headers: "latency_tokens,X-Kong-Request-Id" },
    admin: { enabled: false },
    status: { enabled: true, http: { enabled: true, containerPort: 8100 } },
    proxy: {
      type: "LoadBalancer",
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": certificateArn,
        "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "443",
        "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp",
      },
      http: { enabled: false },
      // TLS ends at the load balancer, which forwards to Kong's plain proxy port.
      tls: { enabled: true, servicePort: 443, overrideServiceTargetPort: 8000 },
    },
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 },
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    serviceMonitor: { enabled: true },
  };
}

/**
 * The in-cluster platform as Helm releases: Kong (the gateway, behind an NLB with TLS),
 * kube-prometheus-stack with the same alert rules and generated dashboards as dev, Loki and
 * Promtail for logs, Jaeger for traces.
 */
export class PlatformCharts extends pulumi.ComponentResource {
  readonly gatewayHostname: pulumi.Output<string>;

  constructor(name: string, args: PlatformChartsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:PlatformCharts", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    const namespaces = Object.fromEntries(
      Object.entries(NAMESPACES).map(([key, ns]) => [
        key,
        new k8s.core.v1.Namespace(
          `${name}-ns-${ns}`,
          { metadata: { name: ns, labels: { "platform/purpose": key } } },
          k8sOpts,
        ),
      ]),
    );
    const release = (
      key: keyof typeof CHARTS,
      namespace: string,
      values: pulumi.Input<Record<string, unknown>>,
      dependsOn: pulumi.Resource[] = [],
    ) =>
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
          ...k8sOpts,
          dependsOn: [
            namespaces[Object.keys(NAMESPACES).find((k) => NAMESPACES[k as keyof typeof NAMESPACES] === namespace)!],
            ...dependsOn,
          ],
        },
      );

    // Monitoring first: the other charts' ServiceMonitors need its CRDs.
    const grafanaAdmin = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: "grafana-admin", namespace: NAMESPACES.monitoring },
        stringData: { "admin-user": "admin", "admin-password": args.grafanaAdminPassword },
      },
      { ...k8sOpts, dependsOn: [namespaces.monitoring] },
    );
    // With ELK, Grafana reads logs with a read-only login the setup Job creates.
    const readerPassword = new random.RandomPassword(
      `${name}-logs-reader`,
      { length: 32, special: false },
      { parent: this },
    ).result;
    for (const [file, json] of Object.entries(
      catalogDashboards(
        args.catalog.name,
        args.catalog.services.map((s) => s.name),
        args.logs,
      ),
    )) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${file.replace(/\.json$/, "")}`,
        {
          metadata: {
            namespace: NAMESPACES.monitoring,
            labels: { grafana_dashboard: "1" },
            annotations: { "grafana-folder": args.catalog.name },
          },
          data: { [file]: json },
        },
        { ...k8sOpts, dependsOn: [namespaces.monitoring] },
      );
    }
    const monitoring = release("kubePrometheusStack", NAMESPACES.monitoring, {
      grafana: {
        admin: { existingSecret: grafanaAdmin.metadata.name, userKey: "admin-user", passwordKey: "admin-password" },
        sidecar: {
          dashboards: {
            enabled: true,
            label: "grafana_dashboard",
            searchNamespace: NAMESPACES.monitoring,
            folderAnnotation: "grafana-folder",
          },
        },
        additionalDataSources: [
          logsDatasource(args.logs, readerPassword),
          {
            name: "Jaeger",
            uid: "jaeger",
            type: "jaeger",
            url: `http://jaeger-query.${NAMESPACES.tracing}.svc.cluster.local:16686`,
          },
        ],
      },
      prometheus: {
        prometheusSpec: {
          retention: "15d",
          scrapeInterval: args.scrapeInterval,
          serviceMonitorSelectorNilUsesHelmValues: false,
          additionalScrapeConfigs: prometheusConfig({
            scrapeInterval: args.scrapeInterval,
            externalLabels: {},
            jobs: args.scrapeJobs,
            ruleFiles: [],
          }).scrape_configs,
          storageSpec: {
            volumeClaimTemplate: {
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } } },
            },
          },
        },
      },
      additionalPrometheusRulesMap: {
        platform: alertRules(
          args.catalog.services.map((s) => s.name),
          args.thresholds,
        ),
      },
    });

    LOG_BACKENDS[args.logs]({
      name,
      release,
      args,
      parent: this,
      provider: args.provider,
      after: [monitoring],
      readerPassword,
    });
    release(
      "jaeger",
      NAMESPACES.tracing,
      {
        provisionDataStore: { cassandra: false },
        allInOne: { enabled: true, extraEnv: [{ name: "COLLECTOR_OTLP_ENABLED", value: "true" }] },
        storage: { type: "memory" },
        agent: { enabled: false },
        collector: { enabled: false },
        query: { enabled: false },
      },
      [monitoring],
    );

    const declarative = new k8s.core.v1.Secret(
      `${name}-kong-declarative`,
      {
        metadata: { name: "kong-declarative", namespace: NAMESPACES.gateway },
        stringData: {
          "kong.yml": args.gatewayCredential.apply((credential) =>
            renderKongConfig({
              catalog: args.catalog,
              credential,
              corsOrigins: args.corsOrigins,
              // Kong runs in its own namespace: services by their namespaced DNS names.
              serviceHost: (service) => `${service}.${args.appNamespace}.svc.cluster.local`,
            }),
          ),
        },
      },
      { ...k8sOpts, dependsOn: [namespaces.gateway] },
    );
    const kong = release("kong", NAMESPACES.gateway, kongValues(args.certificateArn, "kong-declarative"), [
      monitoring,
      declarative,
    ]);

    const proxy = k8s.core.v1.Service.get(
      `${name}-kong-proxy`,
      pulumi.interpolate`${NAMESPACES.gateway}/${kong.name}-kong-proxy`,
      { ...k8sOpts, dependsOn: [kong] },
    );
    this.gatewayHostname = proxy.status.loadBalancer.ingress.apply(
      (ingress) => ingress?.[0]?.hostname ?? ingress?.[0]?.ip ?? "",
    );
    this.registerOutputs({ gatewayHostname: this.gatewayHostname });
  }
}

type Release = (
  key: keyof typeof CHARTS,
  namespace: string,
  values: pulumi.Input<Record<string, unknown>>,
  dependsOn?: pulumi.Resource[],
) => k8s.helm.v3.Release;
interface LogBackendContext {
  name: string;
  release: Release;
  args: PlatformChartsArgs;
  parent: pulumi.Resource;
  provider: k8s.Provider;
  after: pulumi.Resource[];
  /** Password of the read-only login Grafana's logs datasource uses. */
  readerPassword: pulumi.Output<string>;
}

const ELASTICSEARCH_URL = "https://elasticsearch-master:9200";

function logsDatasource(logs: LogsBackend, readerPassword: pulumi.Output<string>): Record<string, unknown> {
  return logs === "loki"
    ? { name: "Loki", uid: "loki", type: "loki", url: `http://loki.${NAMESPACES.logging}.svc.cluster.local:3100` }
    : {
        name: "Elasticsearch",
        uid: "elasticsearch",
        type: "elasticsearch",
        url: `https://elasticsearch-master.${NAMESPACES.logging}.svc.cluster.local:9200`,
        basicAuth: true,
        basicAuthUser: GRAFANA_READER,
        jsonData: { index: "logs-*", timeField: "@timestamp", tlsSkipVerify: false, tlsAuthWithCACert: false },
        secureJsonData: { basicAuthPassword: readerPassword },
      };
}

/** Each log option installs its charts; both collect the catalog's namespace. */
const LOG_BACKENDS: Record<LogsBackend, (context: LogBackendContext) => void> = {
  loki: ({ release, after }) => {
    release(
      "loki",
      NAMESPACES.logging,
      {
        deploymentMode: "SingleBinary",
        loki: {
          auth_enabled: false,
          commonConfig: { replication_factor: 1 },
          storage: { type: "filesystem" },
          schemaConfig: lokiConfig().schema_config as Record<string, unknown>,
          limits_config: lokiConfig().limits_config,
        },
        singleBinary: { replicas: 1, persistence: { enabled: true, size: "50Gi" } },
        read: { replicas: 0 },
        write: { replicas: 0 },
        backend: { replicas: 0 },
        chunksCache: { enabled: false },
        resultsCache: { enabled: false },
        monitoring: { serviceMonitor: { enabled: true } },
      },
      after,
    );
    release(
      "promtail",
      NAMESPACES.logging,
      {
        config: { clients: [{ url: `http://loki.${NAMESPACES.logging}.svc.cluster.local:3100/loki/api/v1/push` }] },
        serviceMonitor: { enabled: true },
      },
      after,
    );
  },
  elk: ({ name, release, args, parent, provider, after, readerPassword }) => {
    const opts = { parent, provider };
    // The chart secures Elasticsearch (TLS, generated elastic password in elasticsearch-master-credentials).
    const elasticsearch = release(
      "elasticsearch",
      NAMESPACES.logging,
      {
        replicas: 3,
        esJavaOpts: "-Xms1g -Xmx1g",
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        volumeClaimTemplate: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "100Gi" } } },
      },
      after,
    );
    const password = (purpose: string) =>
      new random.RandomPassword(`${name}-logs-${purpose}`, { length: 32, special: false }, { parent }).result;
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
    // The same least-privilege logins as dev, made by the same script.
    new k8s.batch.v1.Job(
      `${name}-logs-setup`,
      {
        metadata: { namespace: NAMESPACES.logging },
        spec: {
          backoffLimit: 10,
          template: {
            spec: {
              restartPolicy: "OnFailure",
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: 100, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: "setup",
                  image: "curlimages/curl:8.9.1",
                  command: ["sh", "/setup/setup.sh"],
                  env: [
                    { name: "ES_URL", value: ELASTICSEARCH_URL },
                    { name: "CURL_CA_BUNDLE", value: "/certs/ca.crt" },
                    {
                      name: "ELASTIC_PASSWORD",
                      valueFrom: { secretKeyRef: { name: "elasticsearch-master-credentials", key: "password" } },
                    },
                  ],
                  envFrom: [{ secretRef: { name: logins.metadata.name } }],
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
                { name: "setup", configMap: { name: script.metadata.name } },
                { name: "certs", secret: { secretName: "elasticsearch-master-certs" } },
              ],
            },
          },
        },
      },
      { ...opts, dependsOn: [elasticsearch] },
    );
    const logstash = release(
      "logstash",
      NAMESPACES.logging,
      {
        replicas: 2,
        logstashPipeline: {
          "logstash.conf": logstashPipeline(args.catalog.name, {
            url: ELASTICSEARCH_URL,
            caFile: "/usr/share/logstash/config/certs/ca.crt",
          }),
        },
        envFrom: [{ secretRef: { name: "logs-logins" } }],
        secretMounts: [
          {
            name: "elasticsearch-master-certs",
            secretName: "elasticsearch-master-certs",
            path: "/usr/share/logstash/config/certs",
          },
        ],
        service: { type: "ClusterIP", ports: [{ name: "beats", port: 5044, protocol: "TCP", targetPort: 5044 }] },
      },
      [elasticsearch, logins],
    );
    release(
      "filebeat",
      NAMESPACES.logging,
      {
        daemonset: {
          filebeatConfig: {
            "filebeat.yml": stringify(
              filebeatKubernetesConfig(
                [args.appNamespace, NAMESPACES.gateway],
                `logstash-logstash.${NAMESPACES.logging}.svc.cluster.local:5044`,
              ),
            ),
          },
        },
      },
      [logstash],
    );
    release("kibana", NAMESPACES.logging, { elasticsearchHosts: ELASTICSEARCH_URL }, [elasticsearch]);
  },
};
