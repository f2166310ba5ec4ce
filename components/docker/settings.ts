import { z } from "zod";
import { Catalog, MEMORY_QUANTITY, PINNED_IMAGE, frontendService } from "../../services/schema";
import { memoryMiB } from "../../services/quantities";
import { Problem, error } from "../../services/problems";
import { needsGateway, publishedPort, usesBroker } from "../../services/validate";
import { EVICTION_POLICIES } from "../cache/redisConfig";
import { IMAGES, POSTGRES_TOOLS_IMAGE, RABBITMQ } from "../engines";
import { ObservabilitySettings } from "../observability/settings";
import { CONFIG_NAMESPACE } from "../platform";
import { devMemoryPlan, memoryPlanInput } from "./memoryPlan";
import { fitName } from "../naming";

const image = z.string().regex(PINNED_IMAGE, "must be an image with an explicit tag other than latest, or a digest");
const hostPort = z.number().int().min(1024).max(65535);

/** The platform's own containers' images, from the engine table; any of them can be overridden per stack. */
export const DEFAULT_IMAGES = {
  rabbitmq: IMAGES.rabbitmq,
  redis: IMAGES.redis,
  redisExporter: IMAGES.redisExporter,
  postgresExporter: IMAGES.postgresExporter,
  kong: IMAGES.kong,
  kongDatabase: POSTGRES_TOOLS_IMAGE,
  prometheus: IMAGES.prometheus,
  alertmanager: IMAGES.alertmanager,
  grafana: IMAGES.grafana,
  loki: IMAGES.loki,
  promtail: IMAGES.promtail,
  jaeger: IMAGES.jaeger,
  nodeExporter: IMAGES.nodeExporter,
  elasticsearch: IMAGES.elasticsearch,
  logstash: IMAGES.logstash,
  kibana: IMAGES.kibana,
  filebeat: IMAGES.filebeat,
  curl: IMAGES.curl,
  adminer: IMAGES.adminer,
  redisCommander: IMAGES.redisCommander,
} as const;
export type InfraImage = keyof typeof DEFAULT_IMAGES;

const HOST_PORT_DEFAULTS = {
  databaseBase: 15432,
  rabbitmqManagement: RABBITMQ.managementPort,
  gatewayProxy: 8000,
  gatewayAdmin: 18001,
  grafana: 3000,
  prometheus: 9090,
  alertmanager: 9093,
  jaeger: 16686,
  kibana: 5601,
  adminer: 8080,
  redisCommander: 8081,
};

/** Ports published on 127.0.0.1; nothing is published on another address. */
const HostPortsSchema = z
  .object({
    /** Service databases from this port up, one per service with a database. */
    databaseBase: z.number().int().min(1024).max(65000).default(HOST_PORT_DEFAULTS.databaseBase),
    /** RabbitMQ management API and UI (the rabbitmq provider manages the topology through it). */
    rabbitmqManagement: hostPort.default(HOST_PORT_DEFAULTS.rabbitmqManagement),
    /** AMQP, published only when set. */
    amqp: hostPort.optional(),
    gatewayProxy: hostPort.default(HOST_PORT_DEFAULTS.gatewayProxy),
    gatewayAdmin: hostPort.default(HOST_PORT_DEFAULTS.gatewayAdmin),
    grafana: hostPort.default(HOST_PORT_DEFAULTS.grafana),
    prometheus: hostPort.default(HOST_PORT_DEFAULTS.prometheus),
    /** Alertmanager's UI and API: the alerts firing, and silences. */
    alertmanager: hostPort.default(HOST_PORT_DEFAULTS.alertmanager),
    jaeger: hostPort.default(HOST_PORT_DEFAULTS.jaeger),
    /** Kibana, with the ELK log option only. */
    kibana: hostPort.default(HOST_PORT_DEFAULTS.kibana),
    /** The developer tools, when enabled (seed 002's ports). */
    adminer: hostPort.default(HOST_PORT_DEFAULTS.adminer),
    redisCommander: hostPort.default(HOST_PORT_DEFAULTS.redisCommander),
  })
  .strict()
  .default(HOST_PORT_DEFAULTS);

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
  .strict()
  .default({ mode: "sentinel", evictionPolicy: "volatile-lru" });

/** Longest name prefix: what a user may set, and what the default is shortened to. */
const NAME_PREFIX_LENGTH = 31;

/** Stack settings of the local Docker target (`platform:docker`). */
export const DockerSettingsSchema = z
  .object({
    /** Prefix of every container, network and volume name; defaults to `{catalog}-{stack}`. */
    namePrefix: z
      .string()
      .regex(
        new RegExp(`^[a-z][a-z0-9-]{0,${NAME_PREFIX_LENGTH - 1}}$`),
        `must be a lowercase name of at most ${NAME_PREFIX_LENGTH} characters`,
      )
      .optional(),
    hostPorts: HostPortsSchema,
    /** Seed 002's developer tools, off unless asked for: Adminer (PostgreSQL UI) and Redis Commander. */
    devTools: z
      .object({ adminer: z.boolean().default(false), redisCommander: z.boolean().default(false) })
      .strict()
      .default({ adminer: false, redisCommander: false }),
    /**
     * Run the reference service (reference-service/, docs/env-contract.md) in place of every catalog
     * image and the front end's: one image built locally, so the stack runs without the services' own
     * images. Off unless a stack opts in (Pulumi.dev.yaml does).
     */
    referenceService: z.boolean().default(false),
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
    cache: CacheSettingsSchema,
    /** `postgres`: Kong with its own database (the seeds' layout); `off`: DB-less declarative mode. */
    gatewayDatabase: z.enum(["postgres", "off"]).default("postgres"),
    /** What the machine gives the containers: their memory limits may add up to this much (a Kubernetes quantity). */
    memoryBudget: z.string().regex(MEMORY_QUANTITY, "must be a memory quantity such as 8Gi").default("8Gi"),
  })
  .strict();

type DockerSettingsInput = z.output<typeof DockerSettingsSchema>;

/** The Docker target's settings with every default resolved. */
export type DockerSettings = Omit<DockerSettingsInput, "images" | "namePrefix"> & {
  namePrefix: string;
  images: Record<InfraImage, string>;
};

export function resolveDockerSettings(settings: DockerSettingsInput, catalog: Catalog, stack: string): DockerSettings {
  const overrides = Object.entries(settings.images).filter(([, value]) => value !== undefined);
  return {
    ...settings,
    // Two catalogs or stacks that differ only past the cut keep apart prefixes.
    namePrefix: settings.namePrefix ?? fitName(`${catalog.name}-${stack}`.replace(/-+$/, ""), NAME_PREFIX_LENGTH),
    images: { ...DEFAULT_IMAGES, ...Object.fromEntries(overrides) },
  };
}

/** The dev stack must fit its memory budget, and every port it publishes on 127.0.0.1 be distinct. */
export function dockerSettingsProblems(
  settings: DockerSettingsInput,
  catalog: Catalog,
  observability: ObservabilitySettings,
): Problem[] {
  return [
    ...memoryBudgetProblems(settings, catalog, observability),
    ...hostPortProblems(settings, catalog, observability),
  ];
}

const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;

function memoryBudgetProblems(
  settings: DockerSettingsInput,
  catalog: Catalog,
  observability: ObservabilitySettings,
): Problem[] {
  const limits = devMemoryPlan(catalog, memoryPlanInput(settings, observability.logs));
  const total = limits.reduce((sum, limit) => sum + limit.mib, 0);
  const budget = memoryMiB(settings.memoryBudget);
  if (total <= budget) return [];
  const largest = [...limits].sort((a, b) => b.mib - a.mib).slice(0, 5);
  return [
    error(
      `${CONFIG_NAMESPACE}:docker.memoryBudget`,
      `the containers' memory limits add up to ${gib(total)}, above the budget of ${gib(budget)} ` +
        `(largest: ${largest.map((l) => `${l.container} ${l.mib} MiB`).join(", ")}); ` +
        "raise platform:docker.memoryBudget if the machine has it, or shrink the stack: docker.profile light, " +
        "docker.cache.mode single, docker.gatewayDatabase off, observability.logs loki",
    ),
  ];
}

function hostPortProblems(
  settings: DockerSettingsInput,
  catalog: Catalog,
  observability: ObservabilitySettings,
): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<number, string>();
  const claim = (port: number, field: string, what: string) => {
    const owner = owners.get(port);
    if (owner) problems.push(error(field, `host port ${port} (${what}) clashes with ${owner}`));
    else owners.set(port, what);
  };
  for (const service of catalog.services) {
    claim(publishedPort(service), `catalog.services.${service.name}.port`, `service ${service.name}`);
  }
  if (catalog.frontend) {
    claim(
      publishedPort(frontendService(catalog.frontend)),
      "catalog.frontend.hostPort",
      `front end ${catalog.frontend.name}`,
    );
  }
  for (const { port, key, what } of platformHostPorts(settings, catalog, observability)) {
    claim(port, `${CONFIG_NAMESPACE}:docker.hostPorts.${key}`, what);
  }
  databaseHostPorts(catalog, settings.hostPorts.databaseBase, settings.gatewayDatabase === "postgres").forEach(
    (port, name) => claim(port, `${CONFIG_NAMESPACE}:docker.hostPorts.databaseBase`, `database of ${name}`),
  );
  return problems;
}

/**
 * The platform's own loopback ports this stack publishes: the broker's and the gateway's only when
 * the catalog has them, Kibana only with ELK logs, the developer tools when enabled.
 */
function platformHostPorts(
  settings: DockerSettingsInput,
  catalog: Catalog,
  observability: ObservabilitySettings,
): Array<{ port: number; key: string; what: string }> {
  const ports = settings.hostPorts;
  const used: Array<[keyof typeof ports, string]> = [];
  if (catalog.services.some(usesBroker)) used.push(["rabbitmqManagement", "RabbitMQ management"], ["amqp", "AMQP"]);
  if (needsGateway(catalog)) used.push(["gatewayProxy", "gateway proxy"], ["gatewayAdmin", "gateway admin API"]);
  used.push(
    ["grafana", "Grafana"],
    ["prometheus", "Prometheus"],
    ["alertmanager", "Alertmanager"],
    ["jaeger", "Jaeger UI"],
  );
  if (observability.logs === "elk") used.push(["kibana", "Kibana"]);
  if (settings.devTools.adminer) used.push(["adminer", "Adminer"]);
  if (settings.devTools.redisCommander) used.push(["redisCommander", "Redis Commander"]);
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
