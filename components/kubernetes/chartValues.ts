import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { AlertThresholds, ScrapedInfrastructure, alertRules } from "../observability/alertRules";
import { LogsBackend } from "../observability/grafanaProvisioning";
import {
  filebeatKubernetesConfig,
  GRAFANA_READER,
  logstashPipeline,
  lokiCompactor,
  lokiConfig,
  SERVICE_LOG_LABEL,
} from "../observability/logsConfig";
import { TracingSettings } from "../observability/settings";
import { jaegerMemoryEnv } from "../observability/tracing";
import { memoryBytes } from "../../services/quantities";
import { APP_LABEL } from "./podSpec";
import { RABBITMQ_CLUSTER } from "./rabbitmqObjects";
import { IMAGES } from "../engines";
import { IRSA_ROLE_ANNOTATION } from "../webIdentityTrust";
import { digestImage, elasticImage, imageReference, shaHexImage, shaImage, taggedDigestImage } from "./chartImages";
import {
  CLUSTER_AUTOSCALER_SIZES,
  ChartSizes,
  ELASTICSEARCH_SIZES,
  FILEBEAT_SIZES,
  KIBANA_SIZES,
  KUBE_PROMETHEUS_STACK_SIZES,
  LOGSTASH_SIZES,
  LOKI_SIZES,
  PROMTAIL_SIZES,
  RABBITMQ_SIZES,
  jaegerSizes,
  kongSizes,
  withSizes,
} from "./chartSizes";

/**
 * Values of the platform's Helm charts, rendered without declaring anything: PlatformCharts installs
 * them. Outputs inside (a Secret's name, a password) are passed through as they are.
 */

export const NAMESPACES = {
  gateway: "kong",
  monitoring: "monitoring",
  logging: "logging",
  tracing: "tracing",
} as const;

/** Elasticsearch's service in the logging namespace; the chart serves it over TLS. */
export const ELASTICSEARCH_URL = "https://elasticsearch-master:9200";

/** How many Kong pods the autoscaler runs: rate limits are counted in the cache so that they share one counter. */
export const KONG_REPLICAS = { min: 2, max: 6 } as const;

/**
 * The job Prometheus gives Kong's metrics. Kong's chart (2.47.0, templates/servicemonitor.yaml)
 * selects the proxy Service and names `jobLabel: <release>`, a label that Service lacks, so the
 * operator keeps the Service's name: `<release>-kong-proxy` (PlatformCharts' release is `kong`).
 */
export const KONG_METRICS_JOB = "kong-kong-proxy";
/** Kong's plain HTTP proxy listener in its container: the load balancer sends it the decrypted traffic. */
const KONG_PROXY_PORT = 8000;

/** Values of the Kong chart: DB-less from our declarative Secret, TLS terminated at an NLB with ACM. */
export function kongValues(
  certificateArn: string,
  declarativeSecret: string,
  loadBalancerTags: Record<string, string>,
  /** A hash of the Secret's declarative config. */
  declarativeChecksum: pulumi.Input<string>,
): Record<string, unknown> {
  const { repository, tag } = imageReference(IMAGES.kong);
  return withSizes(
    {
      // The chart writes unifiedRepoTag as the image (templates/_helpers.tpl "kong.getRepoTag") and
      // reads the version it checks features against from the tag ("kong.effectiveVersion").
      image: { repository, tag, unifiedRepoTag: IMAGES.kong },
      replicaCount: KONG_REPLICAS.min,
      ingressController: { enabled: false },
      dblessConfig: { secret: declarativeSecret },
      // Kong reads the declarative file only when it starts, and the chart checksums only an inline
      // dblessConfig.config (templates/deployment.yaml): a changed config rolls the pods through this.
      podAnnotations: { "checksum/declarative-config": declarativeChecksum },
      env: {
        database: "off",
        headers: "latency_tokens,X-Kong-Request-Id",
        // Rate limits verify ElastiCache's certificate against the image's CAs (lua_ssl_trusted_certificate
        // `system`); Kong's default depth of 1 can stop short of Amazon's root when the chain is cross-signed.
        lua_ssl_verify_depth: "3",
        // Kong Manager would listen on 8002/8445 of every pod (Kong's default; the chart sets it only for
        // Enterprise): nothing uses it, the admin API it drives is on loopback.
        admin_gui_listen: "off",
      },
      admin: { enabled: false },
      // The chart's default renders Kong Manager as a NodePort Service (templates/service-kong-manager.yaml).
      manager: { enabled: false },
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
          // key=value,... (https://cloud-provider-aws.sigs.k8s.io/service_controller/, valid for NLB).
          "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": Object.entries(loadBalancerTags)
            .map(([key, value]) => `${key}=${value}`)
            .join(","),
        },
        // TLS ends at the load balancer, whose 443 forwards to Kong's plain listener: the Service's only
        // port. Kong's own TLS listener is off (nothing would reach it) and no plain port faces out.
        http: { enabled: true, servicePort: 443, containerPort: KONG_PROXY_PORT },
        tls: { enabled: false },
      },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      autoscaling: { enabled: true, minReplicas: KONG_REPLICAS.min, maxReplicas: KONG_REPLICAS.max },
      serviceMonitor: { enabled: true },
    },
    kongSizes(KONG_REPLICAS.min),
  );
}

/** The annotation of a dashboard's ConfigMap that names its Grafana folder. */
export const GRAFANA_FOLDER_ANNOTATION = "grafana-folder";

export interface MonitoringValuesArgs {
  /** Name of the Secret holding Grafana's admin login. */
  grafanaAdminSecret: pulumi.Input<string>;
  logs: LogsBackend;
  /** With ELK: the Secret holding the password of the read-only login Grafana's logs datasource uses. */
  logsReaderSecret?: pulumi.Input<string>;
  scrapeInterval: string;
  /** The catalog's namespace, whose PodMonitors Prometheus reads. */
  appNamespace: string;
  serviceNames: string[];
  thresholds: AlertThresholds;
  /** What Prometheus scrapes of the platform's components besides the chart's own (Kong, an in-cluster broker). */
  infrastructure: ScrapedInfrastructure;
  /** Alertmanager's config (key alertmanager.yaml) and the receivers' secrets, two Secrets in the monitoring namespace. */
  alertmanager: { configSecret: pulumi.Input<string>; receiversSecret: pulumi.Input<string> };
  /** The StorageClass of Prometheus' volume. */
  storageClass: pulumi.Input<string>;
}

/**
 * The chart's scrape targets (templates/exporters/<component>/) and default rules
 * (templates/prometheus/rules-1.14/, each gated on its component) that EKS cannot serve: it runs the
 * controller manager, the scheduler and etcd outside the cluster, and its kube-proxy add-on serves
 * metrics on 127.0.0.1 only, resetting any change to that (aws/containers-roadmap#657). Left on, their
 * Services select nothing and `absent(up{job=...})` alerts fire forever.
 */
export const EKS_CONTROL_PLANE_OFF = {
  kubeControllerManager: { enabled: false },
  kubeScheduler: { enabled: false },
  kubeEtcd: { enabled: false },
  kubeProxy: { enabled: false },
} as const;

/**
 * Values of kube-prometheus-stack: Prometheus scraping the services through the PodMonitors of the
 * catalog's namespace, the services' alert rules and those of what prod scrapes, Alertmanager with
 * the stack's receivers, Grafana with logs and traces.
 */
export function monitoringValues(args: MonitoringValuesArgs): Record<string, unknown> {
  const values = {
    ...EKS_CONTROL_PLANE_OFF,
    grafana: grafanaValues(args),
    "kube-state-metrics": { image: shaImage(IMAGES.kubeStateMetrics) },
    "prometheus-node-exporter": { image: digestImage(IMAGES.nodeExporter) },
    prometheusOperator: {
      image: shaHexImage(IMAGES.prometheusOperator),
      prometheusConfigReloader: { image: shaHexImage(IMAGES.prometheusConfigReloader) },
      admissionWebhooks: { patch: { image: shaHexImage(IMAGES.webhookCertgen) } },
    },
    prometheus: {
      prometheusSpec: {
        image: shaHexImage(IMAGES.prometheus),
        retention: "15d",
        scrapeInterval: args.scrapeInterval,
        serviceMonitorSelectorNilUsesHelmValues: false,
        // The chart (65.8.1, templates/prometheus/prometheus.yaml) would otherwise select only
        // PodMonitors labelled release=<release>; false renders podMonitorSelector: {} (every
        // PodMonitor), and the namespace selector narrows that to the catalog's namespace.
        podMonitorSelectorNilUsesHelmValues: false,
        podMonitorNamespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.appNamespace } },
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: args.storageClass,
              resources: { requests: { storage: "50Gi" } },
            },
          },
        },
      },
    },
    // The chart renders no config of its own (templates/alertmanager/secret.yaml skips it with
    // useExistingSecret); the operator mounts `secrets` at /etc/alertmanager/secrets/<name>/.
    alertmanager: {
      alertmanagerSpec: {
        image: shaHexImage(IMAGES.alertmanager),
        useExistingSecret: true,
        configSecret: args.alertmanager.configSecret,
        secrets: [args.alertmanager.receiversSecret],
      },
    },
    additionalPrometheusRulesMap: { platform: alertRules(args.serviceNames, args.thresholds, args.infrastructure) },
  };
  return withSizes(values, KUBE_PROMETHEUS_STACK_SIZES);
}

/** Grafana in kube-prometheus-stack: its admin login, the dashboards' sidecar, the logs and traces datasources. */
function grafanaValues(args: MonitoringValuesArgs): Record<string, unknown> {
  return {
    image: shaHexImage(IMAGES.grafana),
    // The chart's `helm test` Pod: a Release never runs it.
    testFramework: { enabled: false },
    admin: { existingSecret: args.grafanaAdminSecret, userKey: "admin-user", passwordKey: "admin-password" },
    sidecar: {
      image: shaHexImage(IMAGES.k8sSidecar),
      dashboards: {
        enabled: true,
        label: "grafana_dashboard",
        searchNamespace: NAMESPACES.monitoring,
        // The sidecar files each dashboard under the folder its ConfigMap's annotation names; Grafana
        // makes folders of those directories only with foldersFromFilesStructure.
        folderAnnotation: GRAFANA_FOLDER_ANNOTATION,
        provider: { foldersFromFilesStructure: true },
      },
    },
    ...(args.logsReaderSecret
      ? {
          envValueFrom: {
            [GRAFANA_LOGS_READER_ENV]: { secretKeyRef: { name: args.logsReaderSecret, key: LOGS_READER_SECRET_KEY } },
          },
        }
      : {}),
    additionalDataSources: [
      logsDatasource(args.logs),
      {
        name: "Jaeger",
        uid: "jaeger",
        type: "jaeger",
        url: `http://jaeger-query.${NAMESPACES.tracing}.svc.cluster.local:16686`,
      },
    ],
  };
}

/** The key of the logs reader's password in its Secret. */
export const LOGS_READER_SECRET_KEY = "password";
/** The variable of Grafana's container that holds it (grafana 8.5.12 templates/_pod.tpl:1091-1095, `envValueFrom`). */
const GRAFANA_LOGS_READER_ENV = "GRAFANA_LOGS_READER_PASSWORD";

/**
 * Grafana's logs datasource. kube-prometheus-stack writes `grafana.additionalDataSources` into a
 * ConfigMap (65.8.1, templates/grafana/configmaps-datasources.yaml:81-83): the ELK reader's password
 * is a reference Grafana expands from its environment when it provisions the datasource
 * (https://grafana.com/docs/grafana/latest/administration/provisioning/#use-environment-variables).
 */
function logsDatasource(logs: LogsBackend): Record<string, unknown> {
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
        secureJsonData: { basicAuthPassword: `\${${GRAFANA_LOGS_READER_ENV}}` },
      };
}

/**
 * The labels chart 3.3.1 gives the all-in-one pod of release `jaeger` ("jaeger.selectorLabels",
 * templates/_helpers.tpl:49-52, and the component, templates/allinone-deploy.yaml:23-24).
 */
export const JAEGER_POD_LABELS = {
  "app.kubernetes.io/name": "jaeger",
  "app.kubernetes.io/instance": "jaeger",
  "app.kubernetes.io/component": "all-in-one",
} as const;

/**
 * Jaeger all-in-one receiving OTLP (the chart turns it on itself, templates/allinone-deploy.yaml), its
 * traces in memory and bounded by the memory it is given: one replica, since each would hold its own traces.
 */
export function jaegerValues(tracing: TracingSettings): Record<string, unknown> {
  const env = jaegerMemoryEnv(memoryBytes(tracing.memory), tracing.maxTraces);
  const values = {
    provisionDataStore: { cassandra: false },
    allInOne: {
      enabled: true,
      image: digestImage(IMAGES.jaeger),
      replicas: 1,
      extraEnv: Object.entries(env).map(([name, value]) => ({ name, value })),
      // Over the chart's runAsUser/runAsGroup/fsGroup 10001 (values.yaml allInOne.podSecurityContext).
      podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      // The memory store writes nothing to disk.
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
    },
    storage: { type: "memory" },
    agent: { enabled: false },
    collector: { enabled: false },
    query: { enabled: false },
  };
  return withSizes(values, jaegerSizes(tracing.memory));
}

/** Where the Loki chart mounts the single binary's volume (templates/single-binary/statefulset.yaml). */
const LOKI_CHART_DATA_DIR = "/var/loki";

/** Loki as a single binary on a persistent volume of `storageClass`, with dev's schema, limits and retention. */
export function lokiValues(storageClass: pulumi.Input<string>): Record<string, unknown> {
  const dev = lokiConfig();
  const values = {
    deploymentMode: "SingleBinary",
    loki: {
      image: digestImage(IMAGES.loki),
      auth_enabled: false,
      commonConfig: { replication_factor: 1, path_prefix: LOKI_CHART_DATA_DIR },
      storage: { type: "filesystem" },
      schemaConfig: dev.schema_config as Record<string, unknown>,
      limits_config: dev.limits_config,
      compactor: lokiCompactor(LOKI_CHART_DATA_DIR),
    },
    singleBinary: { replicas: 1, persistence: { enabled: true, size: "50Gi", storageClass } },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    // Promtail and Grafana reach the single binary's Service directly. The gateway (nginx) would be a
    // second way in, and the chart's ServiceMonitor selects its Service too (templates/monitoring/
    // servicemonitor.yaml: every Service of the release) while nginx serves no /metrics: a target down
    // forever. Without it the canary would talk to the single binary ("loki.host"), but it only writes
    // synthetic lines into the services' Loki on every node: nothing reads its metrics.
    gateway: { enabled: false },
    lokiCanary: { enabled: false },
    // The `helm test` Pod (which needs the canary): a Release never runs it.
    test: { enabled: false },
    // The rules sidecar loads Loki ruler rules from labelled ConfigMaps: the platform's alerts are Prometheus'.
    sidecar: { rules: { enabled: false } },
    monitoring: { serviceMonitor: { enabled: true } },
  };
  return withSizes(values, LOKI_SIZES);
}

/** Kubernetes service discovery's name for a pod label: `__meta_kubernetes_pod_label_` and the name with every other character `_`. */
function podLabelMeta(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/**
 * Promtail on every node, shipping to Loki. The chart's kubernetes-pods job labels lines by namespace,
 * app, pod and container only (values.yaml `config.snippets`); the extra rule labels the catalog's pods
 * `service` with their service's name, as dev's Promtail does and the dashboards' log panels read.
 */
export function promtailValues(appNamespace: string): Record<string, unknown> {
  const values = {
    // The chart has no digest field; its version label drops an `@sha...` tag (templates/_helpers.tpl:40).
    image: taggedDigestImage(IMAGES.promtail),
    config: {
      clients: [{ url: `http://loki.${NAMESPACES.logging}.svc.cluster.local:3100/loki/api/v1/push` }],
      snippets: {
        extraRelabelConfigs: [
          {
            // Only in the catalog's namespace: elsewhere the label names a chart's program, not a service.
            action: "replace",
            source_labels: ["__meta_kubernetes_namespace", podLabelMeta(APP_LABEL)],
            separator: ";",
            regex: `${appNamespace};(.+)`,
            target_label: SERVICE_LOG_LABEL,
          },
        ],
      },
    },
    serviceMonitor: { enabled: true },
  };
  return withSizes(values, PROMTAIL_SIZES);
}

/** Three Elasticsearch nodes, each on a volume of `storageClass`. */
export function elasticsearchValues(storageClass: pulumi.Input<string>): Record<string, unknown> {
  return withSizes(
    {
      ...elasticImage(IMAGES.elasticsearch),
      replicas: ELASTICSEARCH_SIZES["elasticsearch-master"].pods,
      esJavaOpts: "-Xms1g -Xmx1g",
      // The chart's `helm test` Pod: a Release never runs it.
      tests: { enabled: false },
      // The chart writes this as each node's claim spec (templates/statefulset.yaml).
      volumeClaimTemplate: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: storageClass,
        resources: { requests: { storage: "100Gi" } },
      },
    },
    ELASTICSEARCH_SIZES,
  );
}

/** Logstash with dev's pipeline, writing to Elasticsearch over verified TLS with the writer login of logs-logins. */
export function logstashValues(catalogName: string): Record<string, unknown> {
  const values = {
    ...elasticImage(IMAGES.logstash),
    replicas: LOGSTASH_SIZES["logstash-logstash"].pods,
    logstashPipeline: {
      "logstash.conf": logstashPipeline(catalogName, {
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
  };
  return withSizes(values, LOGSTASH_SIZES);
}

/** Filebeat collecting the catalog's namespace and the gateway's, shipping to Logstash. */
export function filebeatValues(appNamespace: string): Record<string, unknown> {
  const values = {
    ...elasticImage(IMAGES.filebeat),
    daemonset: {
      filebeatConfig: {
        "filebeat.yml": stringify(
          filebeatKubernetesConfig(
            [appNamespace, NAMESPACES.gateway],
            `logstash-logstash.${NAMESPACES.logging}.svc.cluster.local:5044`,
          ),
        ),
      },
    },
  };
  return withSizes(values, FILEBEAT_SIZES);
}

export function kibanaValues(): Record<string, unknown> {
  return withSizes({ ...elasticImage(IMAGES.kibana), elasticsearchHosts: ELASTICSEARCH_URL }, KIBANA_SIZES);
}

/**
 * Each platform release's workloads and sizes, by release name (PlatformCharts names them), and the
 * in-cluster broker's RabbitmqCluster by its name, for the stack's tracing memory: what `npm run
 * plan` adds up.
 */
export function platformChartSizes(tracingMemory: string): Record<string, ChartSizes> {
  return {
    kps: KUBE_PROMETHEUS_STACK_SIZES,
    loki: LOKI_SIZES,
    promtail: PROMTAIL_SIZES,
    jaeger: jaegerSizes(tracingMemory),
    kong: kongSizes(KONG_REPLICAS.min),
    elasticsearch: ELASTICSEARCH_SIZES,
    logstash: LOGSTASH_SIZES,
    filebeat: FILEBEAT_SIZES,
    kibana: KIBANA_SIZES,
    "cluster-autoscaler": CLUSTER_AUTOSCALER_SIZES,
    [RABBITMQ_CLUSTER]: RABBITMQ_SIZES,
  };
}

export interface ClusterAutoscalerValuesArgs {
  clusterName: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** The IAM role its service account assumes (IRSA). */
  roleArn: pulumi.Input<string>;
  serviceAccount: string;
}

/**
 * The Cluster Autoscaler (chart cluster-autoscaler 9.59.0) for an EKS cluster's managed node groups,
 * found by the tags EKS gives their Auto Scaling groups (`autoDiscovery.clusterName` makes
 * `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>`,
 * templates/deployment.yaml:89 over values.yaml autoDiscovery.tags). It moves each group's desired
 * size between the group's own min and max.
 */
export function clusterAutoscalerValues(args: ClusterAutoscalerValuesArgs): Record<string, unknown> {
  const { image: repository, imageTag: tag } = elasticImage(IMAGES.clusterAutoscaler);
  const values = {
    cloudProvider: "aws",
    awsRegion: args.region,
    autoDiscovery: { clusterName: args.clusterName },
    fullnameOverride: "cluster-autoscaler",
    // templates/deployment.yaml:63 writes `<repository>:<tag>`: the tag carries the digest.
    image: { repository, tag },
    rbac: { serviceAccount: { name: args.serviceAccount, annotations: { [IRSA_ROLE_ANNOTATION]: args.roleArn } } },
    extraArgs: {
      // One group per zone or instance type scales evenly, so pods bound to a zone (EBS volumes) find room there.
      "balance-similar-node-groups": true,
      // Grow the group that leaves the least CPU and memory idle once the pending pods fit.
      expander: "least-waste",
      // Nodes running kube-system pods (CoreDNS, the EBS CSI controller, this autoscaler) may be drained
      // too: with the default (true) the nodes they landed on after a scale-up would never be removed.
      // Evictions still respect PodDisruptionBudgets, and those Deployments run two replicas but this one.
      "skip-nodes-with-system-pods": false,
    },
    // The image runs as nonroot (distroless); fsGroup lets that user read the projected IRSA token.
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      fsGroup: 65534,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containerSecurityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
  };
  return withSizes(values, CLUSTER_AUTOSCALER_SIZES);
}
