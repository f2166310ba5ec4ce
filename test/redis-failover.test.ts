import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  MASTER_NAME,
  RedisNode,
  planCacheNodes,
  renderRedisConf,
  renderSentinelConf,
} from "../components/cache/redisConfig";
import { freePort, hasBinary, redisCli, startRedis, until } from "./helpers/servers";

const PASSWORD = "cache-password-for-the-failover-check";
const SENTINEL_PASSWORD = "sentinel-password-for-the-failover-check";
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 10000;

describe("Redis Sentinel failover from the rendered files", function () {
  this.timeout(90000);
  const stops: Array<() => void> = [];
  let dir: string;
  let nodes: RedisNode[];

  before(async function () {
    if (!hasBinary("redis-server") || !hasBinary("redis-cli")) {
      console.log("    (skipped: redis-server/redis-cli not installed; .ci/run installs them)");
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sentinel-"));
    // The planned group (1 master, 2 replicas, 3 sentinels), each on its own loopback port.
    nodes = await Promise.all(
      planCacheNodes("sentinel").map(async (node) => ({ ...node, host: "127.0.0.1", port: await freePort() })),
    );
    const master = nodes[0];
    for (const node of nodes) {
      const dataDir = path.join(dir, String(node.port));
      fs.mkdirSync(dataDir);
      const config =
        node.role === "sentinel"
          ? renderSentinelConf(node, {
              password: PASSWORD,
              sentinelPassword: SENTINEL_PASSWORD,
              masterHost: master.host,
              masterPort: master.port,
              dataDir,
              downAfterMilliseconds: DOWN_AFTER_MS,
              failoverTimeoutMilliseconds: FAILOVER_TIMEOUT_MS,
            })
          : renderRedisConf(node, {
              password: PASSWORD,
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
      stops.push(
        await startRedis(
          file,
          node.role === "sentinel" ? ["--sentinel"] : [],
          node.port,
          node.role === "sentinel" ? SENTINEL_PASSWORD : PASSWORD,
        ),
      );
    }
    // min-replicas-to-write counts replicas that acknowledged within the lag: wait for both.
    await until("both replicas in sync", 10000, () =>
      /min_slaves_good_slaves:2/.test(redisCli(master.port, PASSWORD, ["info", "replication"])) ? true : undefined,
    );
  });

  after(() => {
    stops.forEach((stop) => stop());
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const sentinels = () => nodes.filter((n) => n.role === "sentinel");
  const masterFromSentinel = () =>
    redisCli(sentinels()[0].port, SENTINEL_PASSWORD, ["sentinel", "get-master-addr-by-name", MASTER_NAME]).split("\n");

  it("promotes a replica within the failover timeout and keeps every acknowledged write", async () => {
    // Every sentinel must know the other two and both replicas: a replica a sentinel has not yet
    // seen in the master's INFO (refreshed every 10 s) is never told to follow the new master.
    await until("sentinels agreeing on the group", 15000, () =>
      sentinels().every((s) => {
        const view = redisCli(s.port, SENTINEL_PASSWORD, ["sentinel", "master", MASTER_NAME]);
        return /num-other-sentinels\n2/.test(view) && /num-slaves\n2/.test(view);
      })
        ? true
        : undefined,
    );
    const [host, port] = masterFromSentinel();
    assert.equal(Number(port), nodes[0].port);

    // Writes through the master Sentinel names, each acknowledged by both replicas.
    const writes = 200;
    for (let i = 0; i < writes; i++)
      assert.equal(redisCli(Number(port), PASSWORD, ["set", `key:${i}`, `value-${i}`]), "OK");
    assert.equal(redisCli(Number(port), PASSWORD, ["wait", "2", "2000"]), "2");

    const killedAt = Date.now();
    stops[0]();
    const promoted = await until("a promoted replica", FAILOVER_TIMEOUT_MS + DOWN_AFTER_MS, () => {
      const [, newPort] = masterFromSentinel();
      return Number(newPort) !== nodes[0].port ? Number(newPort) : undefined;
    });
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(
      `      failover: replica on ${host}:${promoted} promoted ${seconds.toFixed(1)} s after the master died (down-after ${DOWN_AFTER_MS} ms)`,
    );
    assert.ok(nodes.some((n) => n.role === "replica" && n.port === promoted));
    assert.ok(seconds * 1000 < FAILOVER_TIMEOUT_MS, `failover took ${seconds} s`);

    // Under load a just-promoted replica can miss pings for the 1 s down-after, and the sentinels
    // then elect again: the group has settled once the master they name has the other replica.
    const settled = await until("the master Sentinel names, with the remaining replica following it", 30000, () => {
      const current = Number(masterFromSentinel()[1]);
      const replication = redisCli(current, PASSWORD, ["info", "replication"]);
      return /role:master/.test(replication) && /connected_slaves:1/.test(replication) ? current : undefined;
    });
    if (settled !== promoted)
      console.log(`      the sentinels elected again: replica on ${host}:${settled} is the master`);
    assert.ok(nodes.some((n) => n.role === "replica" && n.port === settled));
    let kept = 0;
    for (let i = 0; i < writes; i++) if (redisCli(settled, PASSWORD, ["get", `key:${i}`]) === `value-${i}`) kept++;
    console.log(`      ${kept}/${writes} acknowledged writes found on the new master`);
    assert.equal(kept, writes);
    // The other replica follows it, so writes are acknowledged (min-replicas-to-write) again.
    assert.equal(redisCli(settled, PASSWORD, ["set", "after-failover", "ok"]), "OK");
  });
});
