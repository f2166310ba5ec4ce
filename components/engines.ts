import { DATABASE_VERSIONS, Database } from "../services/schema";

/**
 * The engines the platform runs or connects to, one entry each: image, port, health check and
 * exporter. Every target reads its ports and images from here, so a port or an image is written
 * once (a test keeps engine port literals out of the rest of components/).
 */

/**
 * Every third-party image the platform runs, pinned by digest with the tag kept for reading
 * (`name:tag@sha256:...`): a tag can be pushed again (a rebuilt base layer, or a floating line
 * such as `mongo:7.0`), a digest cannot, so every machine and every replica runs the same build.
 * The digests are the multi-platform index's, so arm64 laptops and amd64 nodes resolve their own
 * image from the same reference. This is the only place a digest is written (test/image-pins.test.ts);
 * docs/image-digests.md says where each was read, README "Pinned images" how to bump one.
 */
export const IMAGES = {
  postgres15: "postgres:15.8-alpine@sha256:8b963ea3038c3b32182ee7f592ccde21242fa7c5fd9d1b72aa333c27f1bfc809",
  postgres16: "postgres:16.4-alpine@sha256:5660c2cbfea50c7a9127d17dc4e48543eedd3d7a41a595a2dfa572471e37e64c",
  mongo70: "mongo:7.0.14@sha256:0032d2ca20db5fa34926f196c8a43b74e34ed239a7f2453ff1505b6f12ba8ea6",
  clickhouse248:
    "clickhouse/clickhouse-server:24.8.14.39-alpine@sha256:b002e56ed5c16e224c312527f6fcba7e77216fec5d7a88a7828f59efc614feb5",
  postgresExporter:
    "quay.io/prometheuscommunity/postgres-exporter:v0.15.0@sha256:386b12d19eab2a37d7cd8ca8b4c7491cc7a830d9581f49af6c98a393da9605e6",
  redis: "redis:7.2.5-alpine@sha256:6aaf3f5e6bc8a592fbfe2cccf19eb36d27c39d12dab4f4b01556b7449e7b1f44",
  /**
   * The -alpine variant: the default tag is FROM scratch on amd64 (no shell, no HTTP client for a
   * healthcheck); v1.65.0 is the first release whose -alpine tag is built for amd64, arm and arm64
   * alike (.github/workflows/release.yml), so Apple-silicon laptops pull it natively.
   */
  redisExporter: "oliver006/redis_exporter:v1.65.0-alpine",
  rabbitmq: "rabbitmq:4.3.6-management-alpine@sha256:ff7352f631348acca9d202c3b69dc06998c4ee1a769febc08f59aaa9f117130b",
  kong: "kong:3.9.1@sha256:76c14b93e989f7f4418039f7f9789ca32564016211c86ac1a18022f4788e7b9c",
  prometheus: "prom/prometheus:v2.54.1@sha256:f6639335d34a77d9d9db382b92eeb7fc00934be8eae81dbc03b31cfe90411a94",
  // The version kube-prometheus-stack 65.8.1 runs on prod (values.yaml alertmanager.alertmanagerSpec.image.tag).
  alertmanager: "prom/alertmanager:v0.27.0@sha256:e13b6ed5cb929eeaee733479dce55e10eb3bc2e9c4586c705a4e8da41e5eacf5",
  grafana: "grafana/grafana:11.2.0@sha256:408afb9726de5122b00a2576763a8a57a3c86d5b0eff5305bc994ceb3eb96c3f",
  // The release Loki's chart 6.18.0 runs (its appVersion, whose config the chart renders); dev runs the same.
  loki: "grafana/loki:3.2.0@sha256:882e30c20683a48a8b7ca123e6c19988980b4bd13d2ff221dfcbef0fdc631694",
  promtail: "grafana/promtail:3.1.1@sha256:48fba41d9f08c6a56a85b078529dc8550a1809d3e7a9674982e9e9bfbdc854c1",
  jaeger: "jaegertracing/all-in-one:1.60.0@sha256:4fd2d70fa347d6a47e79fcb06b1c177e6079f92cba88b083153d56263082135e",
  nodeExporter: "prom/node-exporter:v1.8.2@sha256:4032c6d5bfd752342c3e631c2f1de93ba6b86c41db6b167b9a35372c139e7706",
  jsonExporter:
    "quay.io/prometheuscommunity/json-exporter:v0.7.0@sha256:3a777171d39ad435cb39519e84e0a8b5c63c7e716cc06011f8140cfaabfc1baf",
  // Elasticsearch, Logstash and Kibana as Docker Official Images (built from Elastic's own
  // Dockerfiles): docker-library/repo-info records their index digests; Filebeat has no such image.
  elasticsearch: "elasticsearch:8.15.0@sha256:310b9fc03b0657b0708c22b13cf3920f424c482a23f16a439d93c89636cb564c",
  logstash: "logstash:8.15.0@sha256:b15236b441aabf9418f32022ca5b047c3f0b26acff7e1e2dfd664307c6ca09b3",
  kibana: "kibana:8.15.0@sha256:dc16a859c469deb5904294a216abb30a760942343414fb1a99f958ba2342b102",
  filebeat: "docker.elastic.co/beats/filebeat:8.15.0",
  // The charts' own images beside those above, at the versions the pinned charts run
  // (kube-prometheus-stack 65.8.1 and its Grafana and kube-state-metrics).
  prometheusOperator: "quay.io/prometheus-operator/prometheus-operator:v0.77.2",
  prometheusConfigReloader: "quay.io/prometheus-operator/prometheus-config-reloader:v0.77.2",
  webhookCertgen:
    "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v20221220-controller-v1.5.1-58-g787ea74b6@sha256:4d99688e557396f5baa150e019ff7d5b7334f9b9f9a8dab64038c5c2a006f6b5",
  k8sSidecar: "quay.io/kiwigrid/k8s-sidecar:1.28.0",
  kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0",
  // The Cluster Autoscaler of the cluster's Kubernetes minor (DEFAULT_EKS_VERSION, components/aws/eksVersions.ts):
  // its README asks for the release of the control plane's minor; chart cluster-autoscaler 9.59.0's appVersion.
  clusterAutoscaler:
    "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.0@sha256:2fc9433dd3b47baef0e68d6b1110b770a3c93db10c7bead4c5bc6cb21c72b875",
  curl: "curlimages/curl:8.9.1@sha256:8addc281f0ea517409209f76832b6ddc2cabc3264feb1ebbec2a2521ffad24e4",
  adminer: "adminer:4.8.1@sha256:ea38d6384f8f6f0dc29705d6497ca7d77af3e664288d655e574f433d592030df",
  redisCommander: "ghcr.io/joeferner/redis-commander:0.9.0",
} as const;

/**
 * The images still pulled by tag: no public record of these exact tags' digests could be read when
 * the rest were pinned (docs/image-digests.md, "Awaiting a digest"). Pin each on a machine that
 * reaches its registry (README, "Pinned images") and take it off this list; a test fails on any
 * other tag-only image, and on an entry here that is pinned already.
 */
export const AWAITING_DIGEST: ReadonlyArray<keyof typeof IMAGES> = [
  "redisExporter",
  "filebeat",
  "redisCommander",
  "prometheusOperator",
  "prometheusConfigReloader",
  "k8sSidecar",
  "kubeStateMetrics",
];

/** The administrative login of every database server the platform runs (DocumentDB forbids the underscore). */
export const DATABASE_ADMIN_USER = "platform_admin";

/** A catalog service's database engine, as the catalog names it; each needs a row below. */
export type DatabaseEngine = Exclude<Database["kind"], "none">;

export interface DatabaseEngineSpec {
  /** The official image of a catalog version (one the catalog's validation admits). */
  image(version: string): string;
  /** Port clients connect to (and the URL's port). */
  port: number;
  /** URL scheme clients use. */
  scheme: string;
  /** Where the server keeps its data inside the container. */
  dataPath: string;
  /** A command inside the image that exits 0 once the server answers. */
  ready: string[];
}

/**
 * The server image of each version a catalog may ask for (services/schema.ts, DATABASE_VERSIONS):
 * the catalog names a line, the table one exact release of it. The compiler keeps the two lists equal.
 */
const SERVER_IMAGES: { [E in DatabaseEngine]: Record<(typeof DATABASE_VERSIONS)[E][number], string> } = {
  postgres: { "16": IMAGES.postgres16, "15": IMAGES.postgres15 },
  mongodb: { "7.0": IMAGES.mongo70 },
  clickhouse: { "24.8": IMAGES.clickhouse248 },
};

function serverImage(engine: DatabaseEngine): (version: string) => string {
  const images: Record<string, string> = SERVER_IMAGES[engine];
  return (version) => {
    const image = images[version];
    if (!image) throw new Error(`no ${engine} image for version ${version}: supported are ${Object.keys(images)}`);
    return image;
  };
}

export const DATABASE_ENGINES: Record<DatabaseEngine, DatabaseEngineSpec> = {
  postgres: {
    image: serverImage("postgres"),
    port: 5432,
    scheme: "postgresql",
    dataPath: "/var/lib/postgresql/data",
    ready: ["pg_isready", "-U", DATABASE_ADMIN_USER, "-d", "postgres"],
  },
  mongodb: {
    image: serverImage("mongodb"),
    port: 27017,
    scheme: "mongodb",
    dataPath: "/data/db",
    ready: ["mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"],
  },
  clickhouse: {
    image: serverImage("clickhouse"),
    // The HTTP interface, which the official clients of most languages speak (@clickhouse/client,
    // clickhouse-connect, the JDBC driver); the native protocol (9000) stays inside the server's network.
    port: 8123,
    scheme: "http",
    dataPath: "/var/lib/clickhouse",
    ready: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8123/ping"],
  },
};

/** PostgreSQL images that are not a service's own server: Kong's database and the bootstrap Jobs' client. */
export const POSTGRES_TOOLS_IMAGE = IMAGES.postgres16;
/** mongosh for the DocumentDB login Job. */
export const MONGO_TOOLS_IMAGE = IMAGES.mongo70;

export const POSTGRES_EXPORTER = {
  image: IMAGES.postgresExporter,
  port: 9187,
} as const;

export const REDIS = {
  image: IMAGES.redis,
  port: 6379,
  sentinelPort: 26379,
  /** ElastiCache's engine version, the same major and minor as the dev image. */
  managedVersion: "7.1",
  exporter: { image: IMAGES.redisExporter, port: 9121 },
} as const;

/**
 * RabbitMQ 4.3 on every target: the dev container and the in-cluster nodes run this image, Amazon
 * MQ the same minor. 4.3 is the first whose quorum queues order message priorities (0-31), so
 * the catalog's `maxPriority` holds on the replicated queues (docs/messaging.md).
 */
export const RABBITMQ = {
  image: IMAGES.rabbitmq,
  /** Amazon MQ's engine version, the image's minor (Amazon MQ runs RabbitMQ 4 on mq.m7g instances only). */
  managedVersion: "4.3",
  amqpPort: 5672,
  amqpsPort: 5671,
  managementPort: 15672,
  /** Amazon MQ serves its management API over HTTPS. */
  managedManagementPort: 443,
  prometheusPort: 15692,
  /** Exits 0 once every listener of the node answers (AMQP, management, metrics), its definitions loaded. */
  ready: ["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
} as const;

/**
 * prometheus-community's json_exporter, which turns the RabbitMQ management API's queue list into
 * per-queue depths where the broker has no Prometheus plugin to scrape (Amazon MQ): the RabbitMQ-specific
 * exporter that read the same API (kbudde/rabbitmq_exporter) supports RabbitMQ 3 only and is at its
 * end of life (its issue 383). Its image runs as `nobody` (Dockerfile `USER nobody`).
 */
export const QUEUE_DEPTH_EXPORTER = {
  image: IMAGES.jsonExporter,
  /** Its default `--web.listen-address` (cmd/main.go). */
  port: 7979,
  uid: 65534,
} as const;

/** OTLP over HTTP, what every service exports traces to. */
export const OTLP_HTTP_PORT = 4318;
