import { Catalog, Service, frontendService } from "../../services/schema";
import { memoryMiB } from "../../services/quantities";
import { needsGateway, usesBroker } from "../../services/validate";
import { planCacheNodes } from "../cache/redisConfig";
import { replicaSetMembers } from "../data/mongoInit";
import { databaseHost, exporterHost, replicaSetInitHost } from "./containerNames";
import { ContainerMemory, MemoryProfileName, MEMORY_PROFILES, serviceMemoryMiB } from "./memoryProfile";

/** What decides the dev stack's containers and their limits, read from the stack settings. */
export interface MemoryPlanInput {
  profile: MemoryProfileName;
  cacheMode: "sentinel" | "single";
  gatewayDatabase: "postgres" | "off";
  logs: "loki" | "elk";
  devTools: { adminer: boolean; redisCommander: boolean };
}

/** The plan's input from the Docker settings and the logs option. */
export function memoryPlanInput(
  docker: Pick<MemoryPlanInput, "profile" | "gatewayDatabase" | "devTools"> & {
    cache: { mode: MemoryPlanInput["cacheMode"] };
  },
  logs: MemoryPlanInput["logs"],
): MemoryPlanInput {
  return {
    profile: docker.profile,
    cacheMode: docker.cache.mode,
    gatewayDatabase: docker.gatewayDatabase,
    logs,
    devTools: docker.devTools,
  };
}

export interface ContainerLimit {
  /** The container's name after the stack's prefix. */
  container: string;
  mib: number;
  /** Runs once to completion (a bootstrap, an initiation); counted all the same, since it runs during `pulumi up`. */
  oneShot?: true;
}

/**
 * Every container the dev stack will run with its memory limit, known before any resource is
 * declared: config validation adds them up against the budget, and the stack output `containers`
 * (what `npm run health` asks Docker about) lists them. A test keeps this list equal to what the
 * Docker components declare, for every seed catalog and option.
 */
export function devMemoryPlan(catalog: Catalog, input: MemoryPlanInput): ContainerLimit[] {
  const memory = MEMORY_PROFILES[input.profile];
  const frontend = catalog.frontend && needsGateway(catalog) ? [frontendService(catalog.frontend)] : [];
  return [
    ...[...catalog.services, ...frontend].flatMap((service) => serviceContainers(service, memory)),
    ...sharedStores(catalog, input, memory),
    ...observability(input, memory),
    ...(input.devTools.adminer ? [{ container: "adminer", mib: memory.devTool }] : []),
    ...(input.devTools.redisCommander && catalog.services.some((s) => s.cache)
      ? [{ container: "redis-commander", mib: memory.devTool }]
      : []),
  ];
}

/** A service, and its own database server(s) and exporter. */
function serviceContainers(service: Service, memory: ContainerMemory): ContainerLimit[] {
  const own = { container: service.name, mib: serviceMemoryMiB(memoryMiB(service.resources.memory), memory) };
  const db = databaseHost(service.name);
  switch (service.database.kind) {
    case "postgres":
      return [own, ...postgresContainers(db, memory)];
    case "mongodb":
      // A three-member replica set, and the one-shot container that initiates it.
      return [
        own,
        ...replicaSetMembers(db).map((container) => ({ container, mib: memory.mongodb })),
        { container: replicaSetInitHost(db), mib: memory.oneShot, oneShot: true },
      ];
    case "clickhouse":
      return [own, { container: db, mib: memory.clickhouse }];
    case "none":
      return [own];
  }
}

/** A PostgreSQL server and its metrics exporter. */
function postgresContainers(db: string, memory: ContainerMemory): ContainerLimit[] {
  return [
    { container: db, mib: memory.postgres },
    { container: exporterHost(db), mib: memory.exporter },
  ];
}

function sharedStores(catalog: Catalog, input: MemoryPlanInput, memory: ContainerMemory): ContainerLimit[] {
  const limits: ContainerLimit[] = [];
  if (catalog.services.some(usesBroker)) limits.push({ container: "rabbitmq", mib: memory.rabbitmq });
  if (catalog.services.some((s) => s.cache)) {
    for (const node of planCacheNodes(input.cacheMode)) {
      limits.push({ container: node.host, mib: node.role === "sentinel" ? memory.sentinel : memory.redis });
    }
    limits.push({ container: "redis-exporter", mib: memory.exporter });
  }
  if (needsGateway(catalog)) {
    limits.push({ container: "kong", mib: memory.kong });
    if (input.gatewayDatabase === "postgres") {
      limits.push(...postgresContainers(databaseHost("kong"), memory), {
        container: "kong-bootstrap",
        mib: memory.oneShot,
        oneShot: true,
      });
    }
  }
  return limits;
}

function observability(input: MemoryPlanInput, memory: ContainerMemory): ContainerLimit[] {
  const logs: Array<keyof ContainerMemory> =
    input.logs === "loki" ? ["loki", "promtail"] : ["elasticsearch", "logstash", "kibana", "filebeat"];
  return [
    { container: "prometheus", mib: memory.prometheus },
    { container: "alertmanager", mib: memory.alertmanager },
    { container: "node-exporter", mib: memory.exporter },
    { container: "jaeger", mib: memory.jaeger },
    { container: "grafana", mib: memory.grafana },
    ...logs.map((container) => ({ container, mib: memory[container] })),
    // ELK's one-shot setup of the least-privilege logins.
    ...(input.logs === "elk"
      ? [{ container: "elasticsearch-setup", mib: memory.oneShot, oneShot: true as const }]
      : []),
  ];
}
