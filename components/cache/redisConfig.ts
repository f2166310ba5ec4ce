import { REDIS } from "../engines";
/**
 * Redis and Sentinel configuration files for the cache, as plain text. Nodes find each other by
 * container hostname (resolve/announce-hostnames), which works across Docker networks and
 * survives container re-creation with new addresses.
 */
export type CacheMode = "sentinel" | "single";
export type RedisRole = "master" | "replica" | "sentinel";

export interface RedisNode {
  /** Container hostname, also how the others reach it. */
  host: string;
  role: RedisRole;
  port: number;
}

export const REDIS_PORT = REDIS.port;
export const SENTINEL_PORT = REDIS.sentinelPort;
export const MASTER_NAME = "platform-cache";
export const SENTINEL_QUORUM = 2;

/** The nodes of each mode: 1 master + 2 replicas + 3 sentinels, or one standalone Redis. */
export function planCacheNodes(mode: CacheMode): RedisNode[] {
  if (mode === "single") return [{ host: "redis", role: "master", port: REDIS_PORT }];
  return [
    { host: "redis-master", role: "master", port: REDIS_PORT },
    { host: "redis-replica-1", role: "replica", port: REDIS_PORT },
    { host: "redis-replica-2", role: "replica", port: REDIS_PORT },
    { host: "redis-sentinel-1", role: "sentinel", port: SENTINEL_PORT },
    { host: "redis-sentinel-2", role: "sentinel", port: SENTINEL_PORT },
    { host: "redis-sentinel-3", role: "sentinel", port: SENTINEL_PORT },
  ];
}

/** Redis's config syntax: arguments separated by spaces, double-quoted with escapes when needed. */
function quote(value: string | number): string {
  const text = String(value);
  return /^[A-Za-z0-9._:\/-]+$/.test(text) ? text : `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function render(lines: Array<Array<string | number>>): string {
  return lines.map((parts) => parts.map(quote).join(" ")).join("\n") + "\n";
}

/** Redis's eviction policies (maxmemory-policy). */
export const EVICTION_POLICIES = [
  "noeviction",
  "volatile-lru",
  "allkeys-lru",
  "volatile-lfu",
  "allkeys-lfu",
  "volatile-random",
  "allkeys-random",
  "volatile-ttl",
] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

/**
 * Redis's own memory ceiling for a container limit: three quarters of it. The rest is headroom for
 * what maxmemory does not count (the fork of an AOF rewrite copying pages, replication and client
 * buffers, fragmentation), so Redis evicts or refuses writes before the kernel kills it.
 */
export function redisMaxmemoryMiB(containerLimitMiB: number): number {
  return Math.floor(containerLimitMiB * 0.75);
}

export interface RedisSettings {
  password: string;
  /** Master a replica follows at start; Sentinel moves it on failover. */
  masterHost: string;
  masterPort?: number;
  /** Where data and rewritten config live (the container's /data volume). */
  dataDir?: string;
  /** With replicas: refuse writes unless this many replicas are connected and not lagging. */
  minReplicasToWrite: number;
  minReplicasMaxLagSeconds: number;
  maxmemoryMiB: number;
  /** What Redis does at maxmemory: evict keys (which ones), or refuse writes (`noeviction`). */
  evictionPolicy: EvictionPolicy;
}

/** redis.conf of a master or replica. Every data node carries masterauth, since any may become a replica. */
export function renderRedisConf(node: RedisNode, settings: RedisSettings): string {
  if (node.role === "sentinel") throw new Error(`${node.host} is a sentinel; use renderSentinelConf`);
  const lines: Array<Array<string | number>> = [
    ["port", node.port],
    ["dir", settings.dataDir ?? "/data"],
    ["appendonly", "yes"],
    ["maxmemory", `${settings.maxmemoryMiB}mb`],
    ["maxmemory-policy", settings.evictionPolicy],
    ["requirepass", settings.password],
    ["masterauth", settings.password],
    ["replica-announce-ip", node.host],
    ["replica-announce-port", node.port],
  ];
  if (settings.minReplicasToWrite > 0) {
    lines.push(
      ["min-replicas-to-write", settings.minReplicasToWrite],
      ["min-replicas-max-lag", settings.minReplicasMaxLagSeconds],
    );
  }
  if (node.role === "replica")
    lines.push(["replicaof", settings.masterHost, settings.masterPort ?? REDIS_PORT], ["replica-read-only", "yes"]);
  return render(lines);
}

export interface SentinelSettings {
  password: string;
  sentinelPassword: string;
  masterHost: string;
  masterPort?: number;
  dataDir?: string;
  downAfterMilliseconds: number;
  failoverTimeoutMilliseconds: number;
}

/** sentinel.conf; hostname resolution must be on before `sentinel monitor` names a host. */
export function renderSentinelConf(node: RedisNode, settings: SentinelSettings): string {
  if (node.role !== "sentinel") throw new Error(`${node.host} is not a sentinel`);
  return render([
    ["port", node.port],
    ["dir", settings.dataDir ?? "/data"],
    ["sentinel", "resolve-hostnames", "yes"],
    ["sentinel", "announce-hostnames", "yes"],
    ["sentinel", "announce-ip", node.host],
    ["sentinel", "announce-port", node.port],
    ["sentinel", "monitor", MASTER_NAME, settings.masterHost, settings.masterPort ?? REDIS_PORT, SENTINEL_QUORUM],
    ["sentinel", "auth-pass", MASTER_NAME, settings.password],
    ["sentinel", "down-after-milliseconds", MASTER_NAME, settings.downAfterMilliseconds],
    ["sentinel", "failover-timeout", MASTER_NAME, settings.failoverTimeoutMilliseconds],
    ["sentinel", "parallel-syncs", MASTER_NAME, 1],
    ["requirepass", settings.sentinelPassword],
    ["sentinel", "sentinel-pass", settings.sentinelPassword],
  ]);
}
