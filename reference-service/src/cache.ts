import Redis, { RedisOptions } from "ioredis";
import { CacheConfig } from "./config";
import { Logger } from "./logger";

/**
 * Shared by both modes. While the master is unreachable (a Sentinel failover takes a few
 * seconds) commands wait in the offline queue and go out once the client has reconnected;
 * `maxRetriesPerRequest` reconnections, about 15 s with this backoff, bound that wait.
 */
const RESILIENCE: RedisOptions = {
  // Reconnect at least every second, so a promoted replica is picked up promptly.
  retryStrategy: (times) => Math.min(times * 100, 1000),
  maxRetriesPerRequest: 20,
  connectTimeout: 2000,
  // A master demoted under a connected client answers writes with READONLY: reconnect (the
  // sentinels name the new master) and send the command again.
  reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
};

function createClient(config: CacheConfig): Redis {
  if (config.sentinels) {
    return new Redis({
      ...RESILIENCE,
      sentinels: config.sentinels,
      name: config.masterName,
      password: config.password,
      sentinelPassword: config.sentinelPassword,
      // Listen for +switch-master on the sentinels instead of waiting for the master's socket to fail.
      failoverDetector: true,
      sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
    });
  }
  const url = config.url!;
  // ioredis does not turn TLS on for `rediss://` by itself; ElastiCache's certificates chain to
  // the public CAs Node already trusts.
  const tls = new URL(url).protocol === "rediss:" ? { tls: {} } : {};
  return new Redis(url, { ...RESILIENCE, ...tls, ...(config.password ? { password: config.password } : {}) });
}

export class Cache {
  private readonly client: Redis;

  constructor(config: CacheConfig, log: Logger) {
    this.client = createClient(config);
    // Errors while reconnecting are expected during a failover; without a listener they would crash.
    this.client.on("error", (err: Error) => log.warn({ err: err.message }, "cache connection error"));
  }

  incr(key: string): Promise<number> {
    return this.client.incr(key);
  }

  /** Fails at once while disconnected instead of queueing: readiness must be current. */
  async ping(): Promise<void> {
    if (this.client.status !== "ready") throw new Error(`cache connection is ${this.client.status}`);
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
