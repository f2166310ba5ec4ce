import { Database } from "../services/schema";

/**
 * The engines the platform runs or connects to, one entry each: image, port, health check and
 * exporter. Every target reads its ports and images from here, so a port or an image is written
 * once (a test keeps engine port literals out of the rest of components/).
 */

/** The administrative login of every database server the platform runs (DocumentDB forbids the underscore). */
export const DATABASE_ADMIN_USER = "platform_admin";

/** A catalog service's database engine, as the catalog names it; each needs a row below. */
export type DatabaseEngine = Exclude<Database["kind"], "none">;

export interface DatabaseEngineSpec {
  /** The official image for the catalog's version. */
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

export const DATABASE_ENGINES: Record<DatabaseEngine, DatabaseEngineSpec> = {
  postgres: {
    image: (version) => `postgres:${version}-alpine`,
    port: 5432,
    scheme: "postgresql",
    dataPath: "/var/lib/postgresql/data",
    ready: ["pg_isready", "-U", DATABASE_ADMIN_USER, "-d", "postgres"],
  },
  mongodb: {
    image: (version) => `mongo:${version}`,
    port: 27017,
    scheme: "mongodb",
    dataPath: "/data/db",
    ready: ["mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"],
  },
  clickhouse: {
    image: (version) => `clickhouse/clickhouse-server:${version}-alpine`,
    // The HTTP interface, which the official clients of most languages speak (@clickhouse/client,
    // clickhouse-connect, the JDBC driver); the native protocol (9000) stays inside the server's network.
    port: 8123,
    scheme: "http",
    dataPath: "/var/lib/clickhouse",
    ready: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8123/ping"],
  },
};

/** PostgreSQL images that are not a service's own server: Kong's database and the bootstrap Jobs' client. */
export const POSTGRES_TOOLS_IMAGE = "postgres:16.4-alpine";
/** mongosh for the DocumentDB login Job. */
export const MONGO_TOOLS_IMAGE = "mongo:7.0.14";

export const POSTGRES_EXPORTER = {
  image: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
  port: 9187,
} as const;

export const REDIS = {
  image: "redis:7.2.5-alpine",
  port: 6379,
  sentinelPort: 26379,
  /** ElastiCache's engine version, the same major and minor as the dev image. */
  managedVersion: "7.1",
  /**
   * The -alpine variant: the default tag is FROM scratch on amd64 (no shell, no HTTP client for a
   * healthcheck); v1.65.0 is the first release whose -alpine tag is built for amd64, arm and arm64
   * alike (.github/workflows/release.yml), so Apple-silicon laptops pull it natively.
   */
  exporter: { image: "oliver006/redis_exporter:v1.65.0-alpine", port: 9121 },
} as const;

export const RABBITMQ = {
  image: "rabbitmq:3.13.7-management-alpine",
  /** Amazon MQ's engine version, the dev image's minor. */
  managedVersion: "3.13",
  amqpPort: 5672,
  amqpsPort: 5671,
  managementPort: 15672,
  /** Amazon MQ serves its management API over HTTPS. */
  managedManagementPort: 443,
  prometheusPort: 15692,
  /** Exits 0 once every listener of the node answers (AMQP, management, metrics), its definitions loaded. */
  ready: ["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
} as const;

/** OTLP over HTTP, what every service exports traces to. */
export const OTLP_HTTP_PORT = 4318;
