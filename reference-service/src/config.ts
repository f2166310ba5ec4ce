/**
 * The service's whole configuration, read from the platform's environment contract
 * (docs/env-contract.md) and nothing else: what is set decides what the service uses.
 */

export interface CacheConfig {
  /** Sentinel mode: the master is found through these, and followed across failovers. */
  sentinels?: { host: string; port: number }[];
  masterName?: string;
  sentinelPassword?: string;
  /** Single node (dev `cache.mode: single`, ElastiCache): `redis://` or `rediss://` (TLS). */
  url?: string;
  password?: string;
}

export interface BrokerConfig {
  url: string;
  /** Routing keys this service may publish. */
  publishes: string[];
  /** Queues it consumes. */
  queues: string[];
  /** Deliveries per queue before a message is dead-lettered; 1 when the queue is not listed. */
  maxAttempts: Record<string, number>;
  /** `{service}.retry`; empty for a service that only publishes. */
  retryExchange: string;
}

export interface Config {
  service: string;
  /** The traces' `service.name`: OTEL_SERVICE_NAME, as OpenTelemetry's SDKs read it (the platform sets it to SERVICE_NAME). */
  tracingName: string;
  environment: string;
  port: number;
  healthPath: string;
  readinessPath: string;
  metricsPath: string;
  metricsPort: number;
  databaseUrl?: string;
  cache?: CacheConfig;
  broker?: BrokerConfig;
}

type Env = Record<string, string | undefined>;

/** A set variable; an empty string counts as unset, as the platform writes "" for "none". */
function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function required(env: Env, name: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new Error(`${name} is not set (docs/env-contract.md)`);
  return value;
}

function portOf(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${value} is not a port`);
  return port;
}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** `host:port,host:port`, as REDIS_SENTINELS holds them. */
function parseSentinels(value: string): { host: string; port: number }[] {
  return list(value).map((address) => {
    const at = address.lastIndexOf(":");
    if (at < 0) return { host: address, port: 26379 };
    return { host: address.slice(0, at), port: portOf(address.slice(at + 1), "REDIS_SENTINELS") };
  });
}

/** `queue=attempts,queue=attempts`. */
function parseMaxAttempts(value: string | undefined): Record<string, number> {
  const result: Record<string, number> = {};
  for (const pair of list(value)) {
    const at = pair.lastIndexOf("=");
    const attempts = Number(pair.slice(at + 1));
    if (at < 0 || !Number.isInteger(attempts) || attempts < 1) throw new Error(`RABBITMQ_MAX_ATTEMPTS: bad "${pair}"`);
    result[pair.slice(0, at)] = attempts;
  }
  return result;
}

function cacheConfig(env: Env): CacheConfig | undefined {
  const sentinels = optional(env, "REDIS_SENTINELS");
  if (sentinels) {
    return {
      sentinels: parseSentinels(sentinels),
      masterName: required(env, "REDIS_MASTER_NAME"),
      password: optional(env, "REDIS_PASSWORD"),
      sentinelPassword: optional(env, "REDIS_SENTINEL_PASSWORD"),
    };
  }
  const url = optional(env, "REDIS_URL");
  return url ? { url, password: optional(env, "REDIS_PASSWORD") } : undefined;
}

function brokerConfig(env: Env): BrokerConfig | undefined {
  const url = optional(env, "RABBITMQ_URL");
  if (!url) return undefined;
  return {
    url,
    publishes: list(env.RABBITMQ_PUBLISHES),
    queues: list(env.RABBITMQ_QUEUES),
    maxAttempts: parseMaxAttempts(env.RABBITMQ_MAX_ATTEMPTS),
    retryExchange: optional(env, "RABBITMQ_RETRY_EXCHANGE") ?? "",
  };
}

export function loadConfig(env: Env = process.env): Config {
  const port = portOf(required(env, "PORT"), "PORT");
  const healthPath = optional(env, "HEALTH_PATH") ?? "/health";
  const metricsPort = optional(env, "METRICS_PORT");
  const service = required(env, "SERVICE_NAME");
  return {
    service,
    tracingName: optional(env, "OTEL_SERVICE_NAME") ?? service,
    environment: optional(env, "PLATFORM_ENVIRONMENT") ?? "unknown",
    port,
    healthPath,
    readinessPath: optional(env, "READINESS_PATH") ?? healthPath,
    metricsPath: optional(env, "METRICS_PATH") ?? "/metrics",
    metricsPort: metricsPort ? portOf(metricsPort, "METRICS_PORT") : port,
    databaseUrl: optional(env, "DATABASE_URL"),
    cache: cacheConfig(env),
    broker: brokerConfig(env),
  };
}

/** Attempts for a queue: a queue without `retry` in the catalog is delivered once. */
export const maxAttemptsOf = (broker: BrokerConfig, queue: string): number => broker.maxAttempts[queue] ?? 1;
