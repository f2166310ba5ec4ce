/** Memory limits (MiB) of the dev containers, by what runs in them. */
export interface ContainerMemory {
  /**
   * Ceiling on a service container. A catalog's limits are sized for production, where they
   * apply unchanged; a dev machine runs the same services with little data and traffic.
   */
  serviceMax: number;
  postgres: number;
  mongodb: number;
  clickhouse: number;
  rabbitmq: number;
  redis: number;
  sentinel: number;
  kong: number;
  prometheus: number;
  alertmanager: number;
  grafana: number;
  jaeger: number;
  loki: number;
  promtail: number;
  /** The JVM containers keep room above their fixed heaps (-Xmx in ElkLogging). */
  elasticsearch: number;
  logstash: number;
  kibana: number;
  filebeat: number;
  /** Each metrics exporter (PostgreSQL, Redis, node). */
  exporter: number;
  /** Adminer and Redis Commander, when enabled. */
  devTool: number;
  /**
   * Each one-shot container (Kong's bootstrap, MongoDB's replica-set initiation, the ELK login
   * setup): mongosh, a Node.js program, is the largest of them.
   */
  oneShot: number;
}

export type MemoryProfileName = "standard" | "light";

/**
 * `standard` fits every seed catalog, the largest (reservei) included, with Sentinel, Kong's
 * database and Loki in 8 GiB; `light`, for small laptops, fits reservei in 5 GiB together with
 * `cache.mode: single` and `gateway.database: off` (test/dev-program.test.ts keeps both budgets).
 */
export const MEMORY_PROFILES: Record<MemoryProfileName, ContainerMemory> = {
  standard: {
    serviceMax: 384,
    postgres: 256,
    mongodb: 512,
    clickhouse: 768,
    rabbitmq: 512,
    redis: 128,
    sentinel: 32,
    kong: 384,
    prometheus: 384,
    alertmanager: 64,
    grafana: 256,
    jaeger: 256,
    loki: 256,
    promtail: 128,
    elasticsearch: 1536,
    logstash: 768,
    kibana: 1024,
    filebeat: 128,
    exporter: 48,
    devTool: 128,
    oneShot: 256,
  },
  light: {
    serviceMax: 256,
    postgres: 160,
    mongodb: 384,
    clickhouse: 512,
    rabbitmq: 384,
    redis: 64,
    sentinel: 32,
    kong: 256,
    prometheus: 256,
    alertmanager: 48,
    grafana: 192,
    jaeger: 128,
    loki: 192,
    promtail: 64,
    elasticsearch: 1024,
    logstash: 640,
    kibana: 768,
    filebeat: 128,
    exporter: 32,
    devTool: 96,
    oneShot: 192,
  },
};

/** A service's dev limit: its catalog limit, never above the profile's ceiling. */
export function serviceMemoryMiB(catalogLimitMiB: number, memory: ContainerMemory): number {
  return Math.min(catalogLimitMiB, memory.serviceMax);
}
