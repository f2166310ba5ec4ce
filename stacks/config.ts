import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { BUILTIN_CATALOGS, builtinCatalogPath, readCatalogFile } from "../services/load";
import { Catalog, PINNED_IMAGE, frontendService } from "../services/schema";
import { Problem, ValidationError, error, formatPath, isError } from "../services/problems";
import { gatewayPaths, needsGateway, publishedPort } from "../services/validate";
import { EVICTION_POLICIES } from "../components/docker/redisConfig";

const image = z.string().regex(PINNED_IMAGE, "must be an image with an explicit tag or digest");
const hostPort = z.number().int().min(1024).max(65535);

/** Pinned images of the platform's own containers; any of them can be overridden per stack. */
export const DEFAULT_IMAGES = {
  rabbitmq: "rabbitmq:3.13.7-management-alpine",
  redis: "redis:7.2.5-alpine",
  redisExporter: "oliver006/redis_exporter:v1.62.0",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
  kong: "kong:3.9.1",
  kongDatabase: "postgres:16.4-alpine",
  prometheus: "prom/prometheus:v2.54.1",
  grafana: "grafana/grafana:11.2.0",
  loki: "grafana/loki:3.1.1",
  promtail: "grafana/promtail:3.1.1",
  jaeger: "jaegertracing/all-in-one:1.60.0",
  nodeExporter: "prom/node-exporter:v1.8.2",
  elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
  logstash: "docker.elastic.co/logstash/logstash:8.15.0",
  kibana: "docker.elastic.co/kibana/kibana:8.15.0",
  filebeat: "docker.elastic.co/beats/filebeat:8.15.0",
  curl: "curlimages/curl:8.9.1",
  adminer: "adminer:4.8.1",
  redisCommander: "ghcr.io/joeferner/redis-commander:0.9.0",
} as const;
export type InfraImage = keyof typeof DEFAULT_IMAGES;

/** Stack settings of the local Docker target (`platform:docker`). */
const DockerSettingsSchema = z
  .object({
    /** Prefix of every container, network and volume name; defaults to `{catalog}-{stack}`. */
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,30}$/, "must be a lowercase name of at most 31 characters")
      .optional(),
    /** Ports published on 127.0.0.1; nothing is published on another address. */
    hostPorts: z
      .object({
        /** Service databases from this port up, one per service with a database. */
        databaseBase: z.number().int().min(1024).max(65000).default(15432),
        /** RabbitMQ management API and UI (the rabbitmq provider manages the topology through it). */
        rabbitmqManagement: hostPort.default(15672),
        /** AMQP, published only when set. */
        amqp: hostPort.optional(),
        gatewayProxy: hostPort.default(8000),
        gatewayAdmin: hostPort.default(18001),
        grafana: hostPort.default(3000),
        prometheus: hostPort.default(9090),
        jaeger: hostPort.default(16686),
        /** Kibana, with the ELK log option only. */
        kibana: hostPort.default(5601),
        /** The developer tools, when enabled (seed 002's ports). */
        adminer: hostPort.default(8080),
        redisCommander: hostPort.default(8081),
      })
      .strict()
      .default({
        databaseBase: 15432,
        rabbitmqManagement: 15672,
        gatewayProxy: 8000,
        gatewayAdmin: 18001,
        grafana: 3000,
        prometheus: 9090,
        jaeger: 16686,
        kibana: 5601,
        adminer: 8080,
        redisCommander: 8081,
      }),
    /** Seed 002's developer tools, off unless asked for: Adminer (PostgreSQL UI) and Redis Commander. */
    devTools: z
      .object({
        adminer: z.boolean().default(false),
        redisCommander: z.boolean().default(false),
      })
      .strict()
      .default({ adminer: false, redisCommander: false }),
    /** Container memory limits: `standard` (8 GiB for the largest seed) or `light` for small laptops. */
    profile: z.enum(["standard", "light"]).default("standard"),
    images: z
      .object(
        Object.fromEntries(Object.keys(DEFAULT_IMAGES).map((key) => [key, image.optional()])) as Record<
          InfraImage,
          z.ZodOptional<typeof image>
        >,
      )
      .strict()
      .default({}),
  })
  .strict();

const CacheSettingsSchema = z
  .object({
    /** `sentinel`: master, 2 replicas, 3 sentinels (quorum 2); `single`: one Redis for small laptops. */
    mode: z.enum(["sentinel", "single"]).default("sentinel"),
    /**
     * What Redis does when full (at three quarters of its container's limit). `volatile-lru` evicts
     * the least recently used keys that have a TTL (cache entries) and keeps keys without one
     * (sessions), refusing writes once only those are left.
     */
    evictionPolicy: z.enum(EVICTION_POLICIES).default("volatile-lru"),
  })
  .strict();

const GatewaySettingsSchema = z
  .object({
    /** `postgres`: Kong with its own database (the seeds' layout); `off`: DB-less declarative mode. */
    database: z.enum(["postgres", "off"]).default("postgres"),
    /** Plugin guarding non-public routes. */
    auth: z.enum(["jwt", "key-auth"]).default("jwt"),
    corsOrigins: z
      .array(z.string().regex(/^https?:\/\/[^\s/]+$/, "must be an origin such as http://localhost:5173"))
      .default(["http://localhost:3000", "http://localhost:5173"]),
  })
  .strict();

const ObservabilitySettingsSchema = z
  .object({
    /** `loki`: Loki + Promtail (the seeds' lighter option); `elk`: Elasticsearch, Logstash, Kibana with Filebeat. */
    logs: z.enum(["loki", "elk"]).default("loki"),
    scrapeInterval: z
      .string()
      .regex(/^\d+[smh]$/, "must be a duration such as 15s")
      .default("15s"),
    /** HighErrorRate fires above this share of 5xx responses (0.05 = 5%). */
    errorRateThreshold: z.number().gt(0).lt(1).default(0.05),
    /** HighLatency fires when p95 latency exceeds this many seconds. */
    latencyP95Seconds: z.number().positive().default(1),
  })
  .strict();

const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "must be an IPv4 CIDR such as 10.0.0.0/16");
const domainName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "must be a lowercase DNS name such as api.example.com",
  );
const certificateArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, "must be an ACM certificate ARN");
/** CloudFront reads its viewer certificates from this region only. */
const CLOUDFRONT_CERTIFICATE_REGION = "us-east-1";
/** CloudFront's default quota of cache behaviors per distribution (the default one included). */
export const CLOUDFRONT_MAX_BEHAVIORS = 75;

/** Stack settings of the AWS target (`platform:aws`). */
const AwsSettingsSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1")
      .default("us-east-1"),
    /** Required tags on every AWS resource. */
    owner: z.string().min(1, "is required (tag on every AWS resource)"),
    costCenter: z.string().min(1, "is required (tag on every AWS resource)"),
    vpcCidr: cidr.default("10.0.0.0/16"),
    /** One NAT gateway per AZ (resilient) or a single one (cheaper). */
    natGateways: z.enum(["per-az", "single"]).default("per-az"),
    eks: z
      .object({
        version: z
          .string()
          .regex(/^1\.\d+$/, "must be a Kubernetes minor version such as 1.31")
          .default("1.31"),
        /** Public API endpoint only for these CIDRs; private only when empty. 0.0.0.0/0 is refused. */
        publicAccessCidrs: z
          .array(cidr.refine((c) => !c.endsWith("/0"), "must not open the API to the whole internet"))
          .default([]),
        nodeInstanceTypes: z
          .array(z.string().regex(/^[a-z0-9]+\.[a-z0-9]+$/, "must be an EC2 instance type"))
          .min(1)
          .default(["m6i.large"]),
        minNodes: z.number().int().min(1).default(3),
        desiredNodes: z.number().int().min(1).default(3),
        maxNodes: z.number().int().min(1).default(9),
      })
      .strict()
      .default({
        version: "1.31",
        publicAccessCidrs: [],
        nodeInstanceTypes: ["m6i.large"],
        minNodes: 3,
        desiredNodes: 3,
        maxNodes: 9,
      }),
    rds: z
      .object({
        /** One instance per service, or one shared instance with a database per service. */
        mode: z.enum(["per-service", "shared"]).default("per-service"),
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class")
          .default("db.t4g.medium"),
        allocatedStorageGb: z.number().int().min(20).default(20),
        backupRetentionDays: z.number().int().min(7, "must be at least 7 days").max(35).default(7),
        /** `job`: logins made by a Job in the cluster; `provider`: by @pulumi/postgresql, when `pulumi up` runs inside the VPC. */
        bootstrap: z.enum(["job", "provider"]).default("job"),
      })
      .strict()
      .default({
        mode: "per-service",
        instanceClass: "db.t4g.medium",
        allocatedStorageGb: 20,
        backupRetentionDays: 7,
        bootstrap: "job",
      }),
    cache: z
      .object({
        nodeType: z
          .string()
          .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "must be an ElastiCache node type")
          .default("cache.t4g.small"),
        replicas: z.number().int().min(1).max(5).default(2),
      })
      .strict()
      .default({ nodeType: "cache.t4g.small", replicas: 2 }),
    broker: z
      .object({
        /** Amazon MQ for RabbitMQ (cluster), or a RabbitMQ cluster on EKS. */
        mode: z.enum(["amazon-mq", "in-cluster"]).default("amazon-mq"),
        instanceType: z
          .string()
          .regex(/^mq\.[a-z0-9]+\.[a-z0-9]+$/, "must be an Amazon MQ instance type")
          .default("mq.m5.large"),
      })
      .strict()
      .default({ mode: "amazon-mq", instanceType: "mq.m5.large" }),
    /** AWS Backup of the RDS instances and the databases' volumes on EKS, besides RDS's own automated backups. */
    backup: z
      .object({
        schedule: z
          .string()
          .regex(/^(cron|rate)\(.+\)$/, "must be an AWS schedule expression, e.g. cron(0 3 * * ? *)")
          .default("cron(0 3 * * ? *)"),
        retentionDays: z.number().int().min(7, "must be at least 7 days").default(35),
      })
      .strict()
      .default({ schedule: "cron(0 3 * * ? *)", retentionDays: 35 }),
    /**
     * MongoDB services: `in-cluster`, a replica set per service on EKS as in dev; or `documentdb`, one
     * Amazon DocumentDB cluster with a login and database per service. DocumentDB's certificates
     * come from Amazon's RDS CA: `caBundleFile` is its bundle (global-bundle.pem), relative to the project.
     */
    mongodb: z
      .object({
        mode: z.enum(["in-cluster", "documentdb"]).default("in-cluster"),
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be a DocumentDB instance class")
          .default("db.t4g.medium"),
        instances: z.number().int().min(1).max(16).default(3),
        caBundleFile: z.string().min(1).optional(),
      })
      .strict()
      .default({ mode: "in-cluster", instanceClass: "db.t4g.medium", instances: 3 }),
    /** MongoDB (in-cluster) and ClickHouse run on EKS: the size of each member's encrypted volume. */
    inClusterDatabases: z
      .object({
        storageGb: z.number().int().min(10).default(20),
      })
      .strict()
      .default({ storageGb: 20 }),
    /** ACM certificate for TLS on the gateway's load balancer. */
    gatewayCertificateArn: certificateArn,
    /**
     * The DNS name that certificate covers, pointed (CNAME or alias) at the gateway's load balancer.
     * The gateway URL uses it; CloudFront needs it to reach the gateway over verified TLS.
     */
    gatewayDomain: domainName.optional(),
    /** The catalog's web front end on S3 behind CloudFront and AWS WAF. */
    frontend: z
      .object({
        /** Viewer certificate for `aliases`, issued in us-east-1; CloudFront's own domain and certificate otherwise. */
        certificateArn: certificateArn
          .refine(
            (arn) => arn.split(":")[3] === CLOUDFRONT_CERTIFICATE_REGION,
            `must be a certificate in ${CLOUDFRONT_CERTIFICATE_REGION} (CloudFront reads its certificates there)`,
          )
          .optional(),
        aliases: z.array(domainName).default([]),
        /** WAF blocks an address that sends more requests than this in 5 minutes. */
        rateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000).default(2000),
        priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]).default("PriceClass_100"),
      })
      .strict()
      .default({ aliases: [], rateLimitPer5Minutes: 2000, priceClass: "PriceClass_100" }),
  })
  .strict();

export type AwsSettings = z.output<typeof AwsSettingsSchema>;

const TargetSettingsSchema = z
  .object({
    target: z.enum(["docker", "aws"], { error: "must be 'docker' or 'aws'" }),
    aws: AwsSettingsSchema.optional(),
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be a lowercase name")
      .optional(),
    catalog: z.enum(BUILTIN_CATALOGS, { error: `must be one of ${BUILTIN_CATALOGS.join(", ")}` }).optional(),
    catalogFile: z.string().min(1).optional(),
    /** Per-service image overrides, e.g. a tag built locally. */
    images: z.record(z.string(), image).default({}),
    docker: DockerSettingsSchema.default(DockerSettingsSchema.parse({})),
    cache: CacheSettingsSchema.default(CacheSettingsSchema.parse({})),
    gateway: GatewaySettingsSchema.default(GatewaySettingsSchema.parse({})),
    observability: ObservabilitySettingsSchema.default(ObservabilitySettingsSchema.parse({})),
    /** Values of the catalog's `source: config` secrets: `{ service: { NAME: value } }`, set with --secret. */
    serviceSecrets: z.record(z.string(), z.record(z.string(), z.string())).default({}),
    /** Sentry DSN passed to every service as SENTRY_DSN; set with --secret. */
    sentryDsn: z
      .string()
      .regex(/^https:\/\/[0-9a-f]+@[a-z0-9.-]+(:\d+)?\/\d+$/, "must be a Sentry DSN: https://<key>@<host>/<project id>")
      .optional(),
  })
  .strict();

export type DockerSettings = z.output<typeof DockerSettingsSchema>;

type Settings = z.output<typeof TargetSettingsSchema>;

export interface PlatformConfig {
  target: "docker" | "aws";
  /** Present when the target is aws. */
  aws?: AwsSettings;
  stack: string;
  environment: string;
  catalog: Catalog;
  images: Record<string, string>;
  docker: Omit<DockerSettings, "images"> & { namePrefix: string; images: Record<InfraImage, string> };
  cache: Settings["cache"];
  gateway: Settings["gateway"];
  observability: Settings["observability"];
  /** Plaintext only here, between reading the stack config and wrapping each value in `pulumi.secret`. */
  serviceSecrets: Record<string, Record<string, string>>;
  /** Plaintext only here too. */
  sentryDsn?: string;
}

export const CONFIG_NAMESPACE = "platform";
const KEYS = [
  "target",
  "aws",
  "environment",
  "catalog",
  "catalogFile",
  "images",
  "docker",
  "cache",
  "gateway",
  "observability",
  "serviceSecrets",
  "sentryDsn",
] as const;
const OBJECT_KEYS = new Set<string>(["aws", "images", "docker", "cache", "gateway", "observability", "serviceSecrets"]);

/**
 * Reads and validates the stack config and the catalog it selects. `get` returns a config value as
 * the Pulumi engine stores it (objects as JSON text). Throws one ValidationError listing every
 * problem with the `platform:` key it came from, before anything is declared.
 */
export function readPlatformConfig(
  get: (key: string) => string | undefined,
  stack: string,
  projectDir: string,
): { config: PlatformConfig; warnings: Problem[] } {
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = get(`${CONFIG_NAMESPACE}:${key}`);
    if (value === undefined) continue;
    if (!OBJECT_KEYS.has(key)) {
      raw[key] = value;
      continue;
    }
    try {
      raw[key] = JSON.parse(value);
    } catch {
      problems.push(error(`${CONFIG_NAMESPACE}:${key}`, "must be an object (set it with --path or in the stack file)"));
    }
  }
  const parsed = TargetSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) =>
        error(
          issue.path.length ? `${CONFIG_NAMESPACE}:${formatPath(issue.path)}` : CONFIG_NAMESPACE,
          issue.code === "unrecognized_keys" && issue.path.length === 0
            ? `${issue.message} (known: ${KEYS.join(", ")})`
            : issue.message,
        ),
      ),
    );
  }
  if (raw.target === "aws" && raw.aws === undefined) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:aws`,
        "is required with target aws (owner, costCenter, gatewayCertificateArn at least)",
      ),
    );
  }
  if ((raw.catalog === undefined) === (raw.catalogFile === undefined)) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:catalog`,
        "set exactly one of platform:catalog (a built-in catalog) or platform:catalogFile (a YAML path)",
      ),
    );
  }

  let catalog: Catalog | undefined;
  if (parsed.success && (parsed.data.catalog === undefined) !== (parsed.data.catalogFile === undefined)) {
    const file = parsed.data.catalog
      ? builtinCatalogPath(parsed.data.catalog)
      : path.resolve(projectDir, parsed.data.catalogFile!);
    const prefix = parsed.data.catalog
      ? `catalog ${parsed.data.catalog}`
      : `${CONFIG_NAMESPACE}:catalogFile (${parsed.data.catalogFile})`;
    const result = readCatalogFile(file, prefix);
    problems.push(...result.problems);
    catalog = result.catalog;
  }

  if (parsed.success && catalog)
    problems.push(...crossCheck(parsed.data, catalog), ...documentDbCheck(parsed.data, catalog, projectDir));
  if (problems.some(isError) || !parsed.success || !catalog) {
    throw new ValidationError(`stack '${stack}' configuration`, problems);
  }

  const settings = parsed.data;
  return {
    config: {
      target: settings.target,
      aws: settings.aws,
      stack,
      environment: settings.environment ?? stack,
      catalog,
      images: settings.images,
      docker: {
        ...settings.docker,
        namePrefix: settings.docker.namePrefix ?? `${catalog.name}-${stack}`.slice(0, 31).replace(/-+$/, ""),
        images: { ...DEFAULT_IMAGES, ...definedEntries(settings.docker.images) },
      },
      cache: settings.cache,
      gateway: settings.gateway,
      observability: settings.observability,
      serviceSecrets: settings.serviceSecrets,
      sentryDsn: settings.sentryDsn,
    },
    warnings: problems.filter((p) => !isError(p)),
  };
}

function definedEntries<T>(record: Partial<Record<string, T | undefined>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Record<string, T>;
}

/** Rules between the stack config and the catalog it deploys. */
function crossCheck(settings: Settings, catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  const services = new Map(catalog.services.map((s) => [s.name, s]));

  for (const name of Object.keys(settings.images)) {
    if (!services.has(name) && name !== catalog.frontend?.name)
      problems.push(
        error(`${CONFIG_NAMESPACE}:images.${name}`, `unknown service '${name}' in catalog '${catalog.name}'`),
      );
  }
  for (const [name, values] of Object.entries(settings.serviceSecrets)) {
    const service = services.get(name);
    if (!service) {
      problems.push(
        error(`${CONFIG_NAMESPACE}:serviceSecrets.${name}`, `unknown service '${name}' in catalog '${catalog.name}'`),
      );
      continue;
    }
    const declared = new Set(service.secrets.filter((s) => s.source === "config").map((s) => s.name));
    for (const key of Object.keys(values)) {
      if (!declared.has(key))
        problems.push(
          error(
            `${CONFIG_NAMESPACE}:serviceSecrets.${name}.${key}`,
            `service '${name}' declares no config secret '${key}'`,
          ),
        );
    }
  }
  for (const service of catalog.services) {
    for (const secret of service.secrets.filter((s) => s.source === "config")) {
      if (settings.serviceSecrets[service.name]?.[secret.name] === undefined) {
        problems.push(
          error(
            `${CONFIG_NAMESPACE}:serviceSecrets.${service.name}.${secret.name}`,
            `missing: run pulumi config set --secret --path '${CONFIG_NAMESPACE}:serviceSecrets.${service.name}.${secret.name}' <value>`,
          ),
        );
      }
    }
  }

  if (settings.aws) {
    const { minNodes, desiredNodes, maxNodes } = settings.aws.eks;
    if (!(minNodes <= desiredNodes && desiredNodes <= maxNodes)) {
      problems.push(
        error(
          `${CONFIG_NAMESPACE}:aws.eks`,
          `node counts must satisfy minNodes <= desiredNodes <= maxNodes (got ${minNodes}, ${desiredNodes}, ${maxNodes})`,
        ),
      );
    }
    if (settings.target === "aws" && catalog.frontend) problems.push(...frontendCheck(settings.aws, catalog));
  }

  // Every port the dev stack publishes on 127.0.0.1 must be distinct.
  const owners = new Map<number, string>();
  const claim = (port: number, field: string, what: string) => {
    const owner = owners.get(port);
    if (owner) problems.push(error(field, `host port ${port} (${what}) clashes with ${owner}`));
    else owners.set(port, what);
  };
  for (const service of catalog.services)
    claim(publishedPort(service), `catalog.services.${service.name}.port`, `service ${service.name}`);
  if (catalog.frontend)
    claim(
      publishedPort(frontendService(catalog.frontend)),
      "catalog.frontend.hostPort",
      `front end ${catalog.frontend.name}`,
    );
  for (const { port, key, what } of platformHostPorts(settings))
    claim(port, `${CONFIG_NAMESPACE}:docker.hostPorts.${key}`, what);
  databaseHostPorts(catalog, settings.docker.hostPorts.databaseBase, settings.gateway.database === "postgres").forEach(
    (port, name) => claim(port, `${CONFIG_NAMESPACE}:docker.hostPorts.databaseBase`, `database of ${name}`),
  );
  return problems;
}

/** Where Amazon publishes the RDS CA bundle, which DocumentDB clients verify the cluster with. */
const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/**
 * DocumentDB needs the CA bundle: a readable file of PEM CA certificates that parse. A good file's
 * path is made absolute, since the program reads it again when it declares the cluster.
 */
function documentDbCheck(settings: Settings, catalog: Catalog, projectDir: string): Problem[] {
  const mongodb = settings.aws?.mongodb;
  if (
    settings.target !== "aws" ||
    mongodb?.mode !== "documentdb" ||
    !catalog.services.some((s) => s.database.kind === "mongodb")
  )
    return [];
  const field = `${CONFIG_NAMESPACE}:aws.mongodb.caBundleFile`;
  if (!mongodb.caBundleFile)
    return [error(field, `is required with mode documentdb: download ${RDS_CA_BUNDLE_URL} and set its path`)];
  const file = path.resolve(projectDir, mongodb.caBundleFile);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return [error(field, `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`)];
  }
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certificates.length === 0) return [error(field, `'${file}' holds no PEM certificate`)];
  const broken = certificates.filter((pem) => {
    try {
      return !new X509Certificate(pem).ca;
    } catch {
      return true;
    }
  }).length;
  if (broken > 0)
    return [
      error(field, `'${file}': ${broken} of its ${certificates.length} certificates do not parse as CA certificates`),
    ];
  mongodb.caBundleFile = file;
  return [];
}

/** What the prod front end needs: a verifiable gateway origin, a certificate for its aliases, room for its behaviors. */
function frontendCheck(aws: AwsSettings, catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  if (!aws.gatewayDomain) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:aws.gatewayDomain`,
        "is required when the catalog has a front end: CloudFront reaches the gateway by the DNS name its certificate covers",
      ),
    );
  }
  if (aws.frontend.aliases.length > 0 && !aws.frontend.certificateArn) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:aws.frontend.certificateArn`,
        `is required with aliases (${aws.frontend.aliases.join(", ")})`,
      ),
    );
  }
  const behaviors = gatewayPaths(catalog.services).length + 1;
  if (behaviors > CLOUDFRONT_MAX_BEHAVIORS) {
    problems.push(
      error(
        `catalog ${catalog.name}.services[].routes`,
        `the front end's distribution needs ${behaviors} cache behaviors (one per gateway route path); CloudFront allows ${CLOUDFRONT_MAX_BEHAVIORS}`,
      ),
    );
  }
  return problems;
}

/** The platform's own loopback ports this stack publishes (Kibana only with ELK logs, the developer tools when enabled). */
function platformHostPorts(settings: Settings): Array<{ port: number; key: string; what: string }> {
  const ports = settings.docker.hostPorts;
  const used: Array<[keyof typeof ports, string]> = [
    ["rabbitmqManagement", "RabbitMQ management"],
    ["amqp", "AMQP"],
    ["gatewayProxy", "gateway proxy"],
    ["gatewayAdmin", "gateway admin API"],
    ["grafana", "Grafana"],
    ["prometheus", "Prometheus"],
    ["jaeger", "Jaeger UI"],
  ];
  if (settings.observability.logs === "elk") used.push(["kibana", "Kibana"]);
  if (settings.docker.devTools.adminer) used.push(["adminer", "Adminer"]);
  if (settings.docker.devTools.redisCommander) used.push(["redisCommander", "Redis Commander"]);
  return used.flatMap(([key, what]) => (ports[key] === undefined ? [] : [{ port: ports[key]!, key, what }]));
}

/** Loopback port of each service database, in catalog order from `base`, then the gateway's own ("kong"). */
export function databaseHostPorts(catalog: Catalog, base: number, gatewayDatabase: boolean): Map<string, number> {
  const ports = new Map<string, number>();
  for (const service of catalog.services) {
    if (service.database.kind !== "none") ports.set(service.name, base + ports.size);
  }
  if (gatewayDatabase && needsGateway(catalog)) ports.set("kong", base + ports.size);
  return ports;
}
