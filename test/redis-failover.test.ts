import { strict as assert } from "assert";
import { RedisNode } from "../components/cache/redisConfig";
import { redisCli, until } from "./helpers/servers";
import { SentinelGroup, hasRedis, sentinelsAgree, startSentinelGroup } from "./helpers/sentinel";

const PASSWORD = "cache-password-for-the-failover-check";
const SENTINEL_PASSWORD = "sentinel-password-for-the-failover-check";
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 10000;

describe("Redis Sentinel failover from the rendered files", function () {
  this.timeout(90000);
  let group: SentinelGroup | undefined;
  let nodes: RedisNode[];

  before(async function () {
    if (!hasRedis()) {
      console.log("    (skipped: redis-server/redis-cli not installed; .ci/run installs them)");
      this.skip();
    }
    group = await startSentinelGroup({
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      downAfterMs: DOWN_AFTER_MS,
      failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
    });
    nodes = group.nodes;
  });

  after(() => group?.stop());

  const masterFromSentinel = () => group!.masterFromSentinel();

  it("promotes a replica within the failover timeout and keeps every acknowledged write", async () => {
    await sentinelsAgree(group!, SENTINEL_PASSWORD, 15000);
    const [host, port] = masterFromSentinel();
    assert.equal(port, nodes[0].port);

    // Writes through the master Sentinel names, each acknowledged by both replicas.
    const writes = 200;
    for (let i = 0; i < writes; i++) assert.equal(redisCli(port, PASSWORD, ["set", `key:${i}`, `value-${i}`]), "OK");
    assert.equal(redisCli(port, PASSWORD, ["wait", "2", "2000"]), "2");

    const killedAt = Date.now();
    group!.kill(nodes[0]);
    const promoted = await until("a promoted replica", FAILOVER_TIMEOUT_MS + DOWN_AFTER_MS, () => {
      const [, newPort] = masterFromSentinel();
      return newPort !== nodes[0].port ? newPort : undefined;
    });
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(
      `      failover: replica on ${host}:${promoted} promoted ${seconds.toFixed(1)} s after the master died (down-after ${DOWN_AFTER_MS} ms)`,
    );
    assert.ok(nodes.some((n) => n.role === "replica" && n.port === promoted));
    assert.ok(seconds * 1000 < FAILOVER_TIMEOUT_MS, `failover took ${seconds} s`);

    // Under load a just-promoted replica can miss pings for the 1 s down-after, and the sentinels
    // then elect again: the group has settled once the master they name has the other replica in
    // sync. A replica still loading the master's snapshot is connected but not yet good, and
    // min-replicas-to-write counts only good ones.
    const settled = await until("the master Sentinel names, with the remaining replica following it", 30000, () => {
      const current = masterFromSentinel()[1];
      const replication = redisCli(current, PASSWORD, ["info", "replication"]);
      return /role:master/.test(replication) && /min_slaves_good_slaves:1/.test(replication) ? current : undefined;
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
