import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  MASTER_NAME,
  RedisNode,
  planCacheNodes,
  renderRedisConf,
  renderSentinelConf,
} from "../../components/cache/redisConfig";
import { freePort, hasBinary, redisCli, startRedis, until } from "./servers";

export interface SentinelGroupOptions {
  password: string;
  sentinelPassword: string;
  downAfterMs: number;
  failoverTimeoutMs: number;
}

export interface SentinelGroup {
  /** The planned nodes (1 master, 2 replicas, 3 sentinels), each on its own loopback port. */
  nodes: RedisNode[];
  sentinels: RedisNode[];
  /** The node that started as master. */
  initialMaster: RedisNode;
  /** `[host, port]` of the master as the first sentinel names it. */
  masterFromSentinel(): [string, number];
  /** Kills one node (SIGKILL), as a crash would. */
  kill(node: RedisNode): void;
  stop(): void;
}

export function hasRedis(): boolean {
  return hasBinary("redis-server") && hasBinary("redis-cli");
}

/**
 * The group the dev cache runs, from the program's rendered redis.conf and sentinel.conf, on
 * loopback; resolves once both replicas are in sync with the master.
 */
export async function startSentinelGroup(options: SentinelGroupOptions): Promise<SentinelGroup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sentinel-"));
  const nodes: RedisNode[] = await Promise.all(
    planCacheNodes("sentinel").map(async (node) => ({ ...node, host: "127.0.0.1", port: await freePort() })),
  );
  const master = nodes[0];
  const stops = new Map<number, () => void>();
  const stop = () => {
    stops.forEach((kill) => kill());
    stops.clear();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const node of nodes) stops.set(node.port, await startNode(node, master, dir, options));
    // min-replicas-to-write counts replicas that acknowledged within the lag: wait for both.
    await until("both replicas in sync", 10000, () =>
      /min_slaves_good_slaves:2/.test(redisCli(master.port, options.password, ["info", "replication"]))
        ? true
        : undefined,
    );
  } catch (err) {
    stop();
    throw err;
  }
  const sentinels = nodes.filter((n) => n.role === "sentinel");
  return {
    nodes,
    sentinels,
    initialMaster: master,
    masterFromSentinel: () => {
      const [host, port] = redisCli(sentinels[0].port, options.sentinelPassword, [
        "sentinel",
        "get-master-addr-by-name",
        MASTER_NAME,
      ]).split("\n");
      return [host, Number(port)];
    },
    kill: (node) => {
      stops.get(node.port)?.();
      stops.delete(node.port);
    },
    stop,
  };
}

async function startNode(
  node: RedisNode,
  master: RedisNode,
  dir: string,
  options: SentinelGroupOptions,
): Promise<() => void> {
  const dataDir = path.join(dir, String(node.port));
  fs.mkdirSync(dataDir);
  const config =
    node.role === "sentinel"
      ? renderSentinelConf(node, {
          password: options.password,
          sentinelPassword: options.sentinelPassword,
          masterHost: master.host,
          masterPort: master.port,
          dataDir,
          downAfterMilliseconds: options.downAfterMs,
          failoverTimeoutMilliseconds: options.failoverTimeoutMs,
        })
      : renderRedisConf(node, {
          password: options.password,
          masterHost: master.host,
          masterPort: master.port,
          dataDir,
          minReplicasToWrite: 1,
          minReplicasMaxLagSeconds: 10,
          maxmemoryMiB: 64,
          evictionPolicy: "noeviction",
        });
  const file = path.join(dataDir, node.role === "sentinel" ? "sentinel.conf" : "redis.conf");
  fs.writeFileSync(file, `${config}bind 127.0.0.1\n`);
  const sentinel = node.role === "sentinel";
  return startRedis(
    file,
    sentinel ? ["--sentinel"] : [],
    node.port,
    sentinel ? options.sentinelPassword : options.password,
  );
}

/**
 * Every sentinel knows the other two and both replicas: a replica a sentinel has not yet seen in
 * the master's INFO (refreshed every 10 s) is never told to follow a new master.
 */
export async function sentinelsAgree(group: SentinelGroup, sentinelPassword: string, timeoutMs: number) {
  await until("sentinels agreeing on the group", timeoutMs, () =>
    group.sentinels.every((s) => {
      const view = redisCli(s.port, sentinelPassword, ["sentinel", "master", MASTER_NAME]);
      return /num-other-sentinels\n2/.test(view) && /num-slaves\n2/.test(view);
    })
      ? true
      : undefined,
  );
}
