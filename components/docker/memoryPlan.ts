import { Catalog, Service, frontendService } from "../../services/schema";
import { memoryMiB } from "../../services/quantities";
import { needsGateway, usesBroker } from "../../services/validate";
import { planCacheNodes } from "../cache/redisConfig";
import { ContainerMemory, MemoryProfileName, MEMORY_PROFILES, serviceMemoryMiB } from "./memoryProfile";

/** What decides the dev stack's containers and their limits, read from the stack settings. */
export interface MemoryPlanInput {
  profile: MemoryProfileName;
  cacheMode: "sentinel" | "single";
  gatewayDatabase: "postgres" | "off";
  logs: "loki" | "elk";
  devTools: { adminer: boolean; redisCommander: boolean };
}

export interface ContainerLimit {
  container: string;
  mib: number;
}

/**
 * The memory limit of every long-running container the dev stack will run, known before any
 * resource is declared (one-shot containers exit and hold nothing). A test keeps this list equal
 * to what the Docker components declare, for every seed catalog and option.
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
  const db = `${service.name}-db`;
  switch (service.database.kind) {
    case "postgres":
      return [own, { container: db, mib: memory.postgres }, { container: `${db}-exporter`, mib: memory.exporter }];
    case "mongodb":
      // A three-member replica set.
      return [own, ...[db, `${db}-2`, `${db}-3`].map((container) => ({ container, mib: memory.mongodb }))];
    case "clickhouse":
      return [own, { container: db, mib: memory.clickhouse }];
    case "none":
      return [own];
  }
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
      limits.push(
        { container: "kong-db", mib: memory.postgres },
        { container: "kong-db-exporter", mib: memory.exporter },
      );
    }
  }
  return limits;
}

function observability(input: MemoryPlanInput, memory: ContainerMemory): ContainerLimit[] {
  const logs: Array<keyof ContainerMemory> =
    input.logs === "loki" ? ["loki", "promtail"] : ["elasticsearch", "logstash", "kibana", "filebeat"];
  return [
    { container: "prometheus", mib: memory.prometheus },
    { container: "node-exporter", mib: memory.exporter },
    { container: "jaeger", mib: memory.jaeger },
    { container: "grafana", mib: memory.grafana },
    ...logs.map((container) => ({ container, mib: memory[container] })),
  ];
}
