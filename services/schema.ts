import * as path from "path";
import { z } from "zod";

/**
 * The service catalog: the one description of a microservices system that every target
 * (local Docker, AWS) deploys. Structural rules live here; rules that span services
 * (duplicates, cycles, port clashes, event wiring) live in validate.ts.
 */

/** DNS-1123 label: usable as a container name, a Kubernetes object name and a hostname. */
const dnsLabel = z
  .string()
  .regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)");

const segment = "[a-z][a-z0-9_-]*";
/** `{domain}.{entity}.{action}`, the seeds' routing-key convention. */
export const ROUTING_KEY = new RegExp(`^${segment}\\.${segment}\\.${segment}$`);
/**
 * A binding pattern that can match a `{domain}.{entity}.{action}` key: the domain literal, then
 * either exactly two more segments (each may be `*`), or up to two closed by `#`. `sales.order`
 * alone could never match a three-segment key.
 */
export const BINDING_PATTERN = new RegExp(`^${segment}((\\.(${segment}|\\*)){2}|(\\.(${segment}|\\*)){0,2}\\.#)$`);

/** Quantities follow Kubernetes notation so one value serves Docker limits and pod resources. */
export const CPU_QUANTITY = /^(\d+m|\d+(\.\d+)?)$/;
export const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|K|M|G)?$/;

/** An image's repository: an optional registry host (with a port), then lowercase path parts. */
const IMAGE_REPOSITORY = String.raw`(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*`;
/** A tag as Docker allows it, except `latest`: neither an implicit nor an explicit `latest` is reproducible. */
const IMAGE_TAG = String.raw`(?!latest(?:@|$))[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`;
const IMAGE_DIGEST = String.raw`@sha256:[a-f0-9]{64}`;

/** An image reference that names its tag, its digest, or both (`name:tag@sha256:...`, the digest decides). */
export const PINNED_IMAGE = new RegExp(`^${IMAGE_REPOSITORY}(?::${IMAGE_TAG}(?:${IMAGE_DIGEST})?|${IMAGE_DIGEST})$`);

/** A third-party image as the platform pins it: the tag for the reader, the digest for the engine. */
export const TAGGED_DIGEST_IMAGE = new RegExp(`^${IMAGE_REPOSITORY}:${IMAGE_TAG}${IMAGE_DIGEST}$`);

/** The form of an IPv4 CIDR; for catalog egress, validate.ts also checks its octets, prefix and host bits. */
export const IPV4_CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/**
 * A lowercase DNS name of at least two labels whose last one starts with a letter, so that an IP
 * address is not mistaken for a host (it is a CIDR, `/32`).
 */
export const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const networkPort = z.number().int().min(1).max(65535);
const httpPath = z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, "must be an absolute URL path such as /health");
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name (A-Z, 0-9, _)");

/**
 * The server versions a catalog may ask for, by engine, the default first. The engine table
 * (components/engines.ts) pins each to one exact release by digest, so a version means the same
 * build on every machine and every replica; a version joins this list together with its image.
 */
export const DATABASE_VERSIONS = {
  postgres: ["16", "15"],
  mongodb: ["7.0"],
  clickhouse: ["24.8"],
} as const;

/** How the docs and tools name each engine. */
export const ENGINE_NAMES = { postgres: "PostgreSQL", mongodb: "MongoDB", clickhouse: "ClickHouse" } as const;

/** A database's `version`: one of the engine's supported versions, named in the error when it is not. */
function engineVersion(engine: keyof typeof DATABASE_VERSIONS) {
  const versions = DATABASE_VERSIONS[engine];
  const supported =
    `supported ${ENGINE_NAMES[engine]} versions: ${versions.map((v) => `"${v}"`).join(", ")} ` +
    "(each runs one exact image, pinned in components/engines.ts)";
  return z
    .enum(versions, {
      error: (issue) =>
        typeof issue.input === "string"
          ? `"${issue.input}" is not supported; ${supported}`
          : `must be a quoted version; ${supported}`,
    })
    .default(versions[0]);
}

export const DatabaseSchema = z.discriminatedUnion(
  "kind",
  [
    z
      .object({
        kind: z.literal("postgres"),
        version: engineVersion("postgres"),
        extensions: z
          .array(
            z
              .string()
              .regex(/^[a-z][a-z0-9_-]*$/, "must be an extension name")
              // PostgreSQL keeps 63 bytes of an identifier (NAMEDATALEN - 1); a longer name is no extension's.
              .max(63, "must be at most 63 characters (PostgreSQL's identifier limit)"),
          )
          .default([]),
      })
      .strict(),
    z.object({ kind: z.literal("mongodb"), version: engineVersion("mongodb") }).strict(),
    z.object({ kind: z.literal("clickhouse"), version: engineVersion("clickhouse") }).strict(),
    z.object({ kind: z.literal("none") }).strict(),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? "unknown database kind: expected postgres, mongodb, clickhouse or none"
        : undefined,
  },
);

/**
 * The longest x-message-ttl RabbitMQ accepts: rabbit_misc:check_expiry/1 refuses more than
 * 315,360,000,000 ms (10 years) with PRECONDITION_FAILED `value_too_large` (rabbitmq-server
 * pull request 4836, in 3.10 and later: every broker the targets run; test/definitions.test.ts
 * proves it on the machine's broker).
 */
export const BROKER_MAX_TTL_MS = 315_360_000_000;

/**
 * The highest priority a quorum queue orders by: RabbitMQ 4.3 quorum queues keep 32 levels (0-31),
 * always on, and clamp a higher priority to 31 (rabbitmq-website
 * versioned_docs/version-4.3/quorum-queues/index.md, "Message Priorities").
 */
export const QUORUM_MAX_PRIORITY = 31;

/** A queue's x-message-ttl in milliseconds. */
const messageTtl = z
  .number()
  .int()
  .positive()
  .max(BROKER_MAX_TTL_MS, `must be at most ${BROKER_MAX_TTL_MS} ms, the longest x-message-ttl RabbitMQ accepts`);

export const RetrySchema = z
  .object({
    /** Deliveries in all: the first and maxAttempts - 1 retries (docs/env-contract.md). */
    maxAttempts: z.number().int().min(1).max(10),
    initialDelayMs: z.number().int().min(100).max(3_600_000),
    multiplier: z.number().min(1).max(10).default(2),
    /** Longest wait of any attempt (validate.ts checks each one), so a backoff cannot park a message for years. */
    maxDelayMs: messageTtl.default(86_400_000),
  })
  .strict();

/** Dead letters a DLQ holds unless the catalog says otherwise. */
export const DEFAULT_DLQ_MAX_LENGTH = 10_000;

/**
 * The bounds of a consumer's dead-letter queue. At a bound the DLQ refuses what would be added
 * (`x-overflow: reject-publish`) rather than dropping its oldest dead letters.
 */
export const DeadLetterQueueSchema = z
  .object({
    maxLength: z.number().int().positive().default(DEFAULT_DLQ_MAX_LENGTH),
    maxLengthBytes: z.number().int().positive().optional(),
  })
  .strict();

export const ConsumerSchema = z
  .object({
    /** Queue suffix: the queue is `{service}.{name}`. */
    name: dnsLabel,
    bindings: z
      .array(
        z
          .string()
          .regex(
            BINDING_PATTERN,
            "must be a binding pattern that can match {domain}.{entity}.{action} keys: three segments such as sales.order.* or sales.*.created, or one ending in .# such as sales.#",
          ),
      )
      .min(1),
    retry: RetrySchema.optional(),
    /**
     * Highest message priority its publishers use. The queue is a quorum queue, which orders
     * priorities 0-31 strictly without an argument (RabbitMQ 4.3, every target): see
     * docs/messaging.md, "Priorities".
     */
    maxPriority: z
      .number()
      .int()
      .min(1)
      .max(
        QUORUM_MAX_PRIORITY,
        `must be at most ${QUORUM_MAX_PRIORITY}: quorum queues order priorities 0-${QUORUM_MAX_PRIORITY} and serve a higher one as ${QUORUM_MAX_PRIORITY} (docs/messaging.md, "Priorities")`,
      )
      .optional(),
    messageTtlMs: messageTtl.optional(),
    maxLength: z.number().int().positive().optional(),
    dlq: DeadLetterQueueSchema.default({ maxLength: DEFAULT_DLQ_MAX_LENGTH }),
  })
  .strict();

export const RouteSchema = z
  .object({
    paths: z.array(httpPath).min(1),
    methods: z.array(z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])).optional(),
    public: z.boolean().default(false),
    rateLimitPerMinute: z.number().int().positive().default(600),
    stripPath: z.boolean().default(false),
  })
  .strict();

export const SecretSchema = z
  .object({
    name: envName,
    /** `random`: generated by @pulumi/random; `config`: `pulumi config set --secret --path 'platform:serviceSecrets.<service>.<NAME>'`. */
    source: z.enum(["random", "config"]),
    length: z.number().int().min(16).max(256).default(48),
  })
  .strict();

const EGRESS_SHAPE = "an entry is { host, port } or { cidr, ports }";
/** A stray key (a host entry with a `cidr`) is reported with the two shapes an entry may take. */
const egressEntry = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown key ${issue.keys.join(", ")}: ${EGRESS_SHAPE}` : undefined,
  });

/**
 * Something outside the platform a service calls: a provider's host on one port, or an address
 * range on some ports. A NetworkPolicy cannot name a host, so on prod a host entry opens its port
 * to every public address and is listed in an annotation; a range opens exactly that range.
 */
export const EgressSchema = z.union(
  [
    egressEntry({
      host: z
        .string()
        .regex(HOST_NAME, "must be a lowercase DNS name such as api.stripe.com (an address is a cidr: x.x.x.x/32)"),
      port: networkPort,
    }),
    egressEntry({
      cidr: z.string().regex(IPV4_CIDR, "must be an IPv4 CIDR such as 203.0.113.0/24"),
      ports: z.array(networkPort).min(1),
    }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? `must be one of: ${EGRESS_SHAPE}` : undefined) },
);

/** A build is tagged, then pushed under that tag: a digest is what comes out, not a name to give. */
export const BUILD_TAG_MESSAGE = "with build, must be the name and tag to build as (a digest is what a build produces)";

export const ServiceSchema = z
  .object({
    name: dnsLabel,
    description: z.string().optional(),
    /**
     * The image to run: `org/name:tag` (prod pulls it from the stack's ECR repository, with that
     * tag), or a full reference with a registry host, `ghcr.io/org/name:1.2` (used as is). With
     * `build`, optional: the name and tag to build as (dev) and the tag to push to ECR (prod).
     */
    image: z
      .string()
      .regex(PINNED_IMAGE, "must be an image reference with an explicit tag other than latest, or a digest")
      .optional(),
    /** Build the image from source: dev builds it locally, prod builds it and pushes it to the stack's ECR. */
    build: z
      .object({
        /** Relative to the catalog file. */
        context: z.string().min(1),
        /** Relative to the context; default `Dockerfile`. */
        dockerfile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Port the service listens on inside its container or pod. */
    port: networkPort,
    /** Port published on 127.0.0.1 in dev; defaults to `port`. Lets services that all listen on 8000 coexist. */
    hostPort: z.number().int().min(1024).max(65535).optional(),
    /** Pods on prod, at least 2 there (with a PodDisruptionBudget) unless `singleton`; dev runs one container. */
    replicas: z.number().int().min(1).max(100).default(1),
    /**
     * Must never run twice at once (a scheduler, a single consumer that keeps order): one pod
     * everywhere, replaced by stopping it first, no autoscaler; a node drain stops it.
     */
    singleton: z.boolean().default(false),
    resources: z
      .object({
        cpu: z.string().regex(CPU_QUANTITY, "must be a CPU quantity such as 500m or 1.5"),
        memory: z.string().regex(MEMORY_QUANTITY, "must be a memory quantity such as 512Mi or 1G"),
      })
      .strict(),
    database: DatabaseSchema.default({ kind: "none" }),
    cache: z.boolean().default(false),
    events: z
      .object({
        publishes: z
          .array(z.string().regex(ROUTING_KEY, "must be a routing key {domain}.{entity}.{action}"))
          .default([]),
        consumes: z.array(ConsumerSchema).default([]),
      })
      .strict()
      .default({ publishes: [], consumes: [] }),
    routes: z.array(RouteSchema).default([]),
    /**
     * `issuesTokens`: the service signs the JWTs the gateway checks (login, registration), so it
     * alone gets the gateway's signing secret; no other service ever holds it.
     */
    auth: z
      .object({ issuesTokens: z.boolean().default(false) })
      .strict()
      .default({ issuesTokens: false }),
    health: z
      .object({
        path: httpPath.default("/health"),
        readinessPath: httpPath.optional(),
        metricsPath: httpPath.default("/metrics"),
        metricsPort: networkPort.optional(),
        startPeriodSeconds: z.number().int().min(0).max(600).default(30),
      })
      .strict()
      .default({ path: "/health", metricsPath: "/metrics", startPeriodSeconds: 30 }),
    /** Values may hold placeholders the target resolves: `${database.host}`, `${secret.API_KEY}` (services/placeholders.ts). */
    env: z.record(envName, z.string()).default({}),
    /**
     * `platform`: the contract's fixed names (docs/env-contract.md) besides `env`. `none`: only `env`
     * and `secrets`, for an image that reads its framework's names (Laravel, Spring) and nothing else.
     */
    envContract: z.enum(["platform", "none"]).default("platform"),
    secrets: z.array(SecretSchema).default([]),
    dependsOn: z.array(dnsLabel).default([]),
    /** What the service calls outside the platform (payment, mail, SMS, AI providers); see EgressSchema. */
    egress: z.array(EgressSchema).default([]),
    /** Linux capabilities the container keeps (e.g. SETUID for images that drop root themselves); all others are dropped. */
    capabilities: z
      .array(z.string().regex(/^[A-Z_]+$/, "must be a capability name such as NET_BIND_SERVICE"))
      .default([]),
  })
  .strict()
  // Runs even when other fields are wrong, so that one error lists every problem.
  .superRefine(
    (service, ctx) => {
      if (service?.image === undefined && service?.build === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["image"],
          message: "is required unless the service has build: { context }",
        });
      }
      if (service?.build !== undefined && typeof service.image === "string" && service.image.includes("@")) {
        ctx.addIssue({ code: "custom", path: ["image"], message: BUILD_TAG_MESSAGE });
      }
    },
    { when: () => true },
  );

/**
 * The system's web front end (a single-page app): in dev a container serving the built app behind
 * the gateway at `/`; in prod its built files on S3 behind CloudFront.
 */
export const FrontendSchema = z
  .object({
    name: dnsLabel.default("web"),
    /** Image that serves the built app on `port` (dev). */
    image: z
      .string()
      .regex(PINNED_IMAGE, "must be an image reference with an explicit tag other than latest, or a digest"),
    port: networkPort.default(8080),
    /** Port published on 127.0.0.1 in dev besides the gateway's `/`; defaults to `port`. */
    hostPort: z.number().int().min(1024).max(65535).optional(),
    resources: z
      .object({
        cpu: z.string().regex(CPU_QUANTITY, "must be a CPU quantity such as 500m or 1.5").default("250m"),
        memory: z.string().regex(MEMORY_QUANTITY, "must be a memory quantity such as 512Mi or 1G").default("128Mi"),
      })
      .strict()
      .default({ cpu: "250m", memory: "128Mi" }),
    /** The built app (index.html and assets), uploaded to S3 in prod; relative to the catalog file. */
    assetsDir: z.string().min(1).optional(),
  })
  .strict();

export const CatalogSchema = z
  .object({
    name: dnsLabel,
    description: z.string().optional(),
    services: z.array(ServiceSchema).min(1),
    frontend: FrontendSchema.optional(),
  })
  .strict();

/** Where the front end lives in the gateway: everything no service route claims. */
export const FRONTEND_PATH = "/";

/** The front end as the gateway and the dev container see it: a public service at `/`. */
export function frontendService(frontend: Frontend): Service {
  return ServiceSchema.parse({
    name: frontend.name,
    image: frontend.image,
    port: frontend.port,
    hostPort: frontend.hostPort,
    resources: frontend.resources,
    routes: [{ paths: [FRONTEND_PATH], public: true }],
    health: { path: "/", startPeriodSeconds: 10 },
  });
}

/** The Dockerfile a build uses: `build.dockerfile` (default `Dockerfile`) inside its context. */
export function buildDockerfile(build: NonNullable<Service["build"]>): string {
  return path.resolve(build.context, build.dockerfile ?? "Dockerfile");
}

/**
 * Whether an image reference names its registry (`ghcr.io/org/x:1.2`, `localhost:5000/x:1`): as
 * Docker reads a reference, the first of several path parts is a registry host when it has a `.` or
 * a `:`, or is `localhost`; `org/x:1.2` is a repository on the default registry.
 */
export function hasRegistryHost(image: string): boolean {
  const parts = image.split("/");
  return parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
}

/** The tag (`:1.2.3`), digest (`@sha256:...`) or both an image reference ends with, separators included. */
export function imageTagOrDigest(image: string): string {
  return /(:[^:/@]+(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$/.exec(image)![0];
}

export type CatalogInput = z.input<typeof CatalogSchema>;
export type Catalog = z.output<typeof CatalogSchema>;
export type Service = z.output<typeof ServiceSchema>;
export type Frontend = z.output<typeof FrontendSchema>;
export type Consumer = z.output<typeof ConsumerSchema>;
export type Retry = z.output<typeof RetrySchema>;
export type Database = z.output<typeof DatabaseSchema>;
export type ServiceSecret = z.output<typeof SecretSchema>;
export type Egress = z.output<typeof EgressSchema>;
export type HostEgress = Extract<Egress, { host: string }>;
export type CidrEgress = Extract<Egress, { cidr: string }>;
