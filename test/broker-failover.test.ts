// Messages survive a broker node loss (docs/messaging.md, "The proof"): a real 3-node RabbitMQ
// cluster on loopback, the rendered topology of a seed catalog imported into it, the node that
// leads the consumer queue killed, and the queues' surviving replicas carrying on.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as amqp from "amqplib";
import { builtinCatalogPath, loadCatalog } from "../services/load";
import { DEAD_LETTER_SUFFIX, planTopology, retryExchange, retryQueue } from "../components/messaging/topology";
import { renderDefinitions } from "../components/messaging/definitions";
import { RabbitmqCluster, RabbitmqNode, hasRabbitmqServer, startRabbitmqCluster, until } from "./helpers/servers";

const plan = planTopology(loadCatalog(builtinCatalogPath("user-enrichment")));
const PUBLISHER = "user-service";
const CONSUMER = "enrichment-service";
const QUEUE = `${CONSUMER}.users`;
const DLQ = `${QUEUE}${DEAD_LETTER_SUFFIX}`;
/** Confirmed before the failover; every one must be consumed after it. */
const MESSAGES = 300;

const delayOf = (retry: number) =>
  Number(plan.queues.find((q) => q.name === retryQueue(QUEUE, retry))!.arguments["x-message-ttl"]);

interface Delivery {
  body: string;
  messageId: string;
  at: number;
}

describe("messages survive a broker node loss (a 3-node RabbitMQ cluster, quorum queues)", function () {
  this.timeout(180_000);
  let cluster: RabbitmqCluster | undefined;
  const connections: amqp.ChannelModel[] = [];
  const passwords = Object.fromEntries(plan.users.map((u) => [u.service, randomBytes(12).toString("hex")]));

  before(async function () {
    if (!hasRabbitmqServer()) {
      console.log("    (skipped: no rabbitmq-server here; .ci/run installs it)");
      this.skip();
    }
    const startedAt = Date.now();
    cluster = await startRabbitmqCluster(3, { enabledPlugins: "[].", config: "" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "failover-"));
    const file = path.join(dir, "definitions.json");
    fs.writeFileSync(file, JSON.stringify(renderDefinitions(plan, passwords)));
    cluster.nodes[0].ctl(["import_definitions", file]);
    fs.rmSync(dir, { recursive: true, force: true });
    await until("every queue replicated on the three nodes", 30_000, () => {
      const queues = listQueues(cluster!.nodes[0], ["name", "type", "members"]);
      const replicated = queues.filter(([, type, members]) => type === "quorum" && members.split(",").length === 3);
      return replicated.length === plan.queues.length ? true : undefined;
    });
    console.log(
      `      3 nodes clustered and the topology imported in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
  });

  after(async () => {
    await Promise.all(connections.map((c) => Promise.race([c.close().catch(() => undefined), sleep(1000)])));
    await cluster?.stop();
  });

  /** `rabbitmqctl list_queues` of the catalog's vhost, a row of the asked columns per queue. */
  const listQueues = (node: RabbitmqNode, columns: string[]): string[][] =>
    node
      .ctl(["list_queues", "-p", plan.vhost, ...columns, "--no-table-headers"])
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t").map((cell) => cell.replace(/[[\]\s]/g, "")));
  const leaderOf = (node: RabbitmqNode, queue: string) =>
    listQueues(node, ["name", "leader"]).find(([name]) => name === queue)?.[1];

  const connect = async (node: RabbitmqNode, service: string) => {
    const connection = await amqp.connect(
      `amqp://${service}:${passwords[service]}@127.0.0.1:${node.amqpPort}/${encodeURIComponent(plan.vhost)}`,
    );
    connection.on("error", () => undefined);
    connections.push(connection);
    const channel = await connection.createConfirmChannel();
    channel.on("error", () => undefined);
    return channel;
  };
  /** Publishes with confirms; resolves once the broker has confirmed (a quorum of replicas holds it). */
  const publishConfirmed = (channel: amqp.ConfirmChannel, exchange: string, key: string, body: string) =>
    new Promise<void>((resolve, reject) =>
      channel.publish(exchange, key, Buffer.from(body), { persistent: true, messageId: body }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );

  it("loses no confirmed message, dead-letters a rejected one and keeps retry delays when the queue's leader dies", async () => {
    const [a] = cluster!.nodes;
    const leader = cluster!.nodes.find((n) => n.nodeName === leaderOf(a, QUEUE))!;
    assert.ok(leader, `${QUEUE} has a leader`);
    const survivors = cluster!.nodes.filter((n) => n !== leader);
    // The clients use a node that survives: the test is about the queues, not about reconnecting.
    const publisher = await connect(survivors[0], PUBLISHER);
    const consumer = await connect(survivors[1], CONSUMER);

    const sent = Array.from({ length: MESSAGES }, (_, i) => `m-${i}`);
    for (const body of sent)
      publisher.publish("user.events", "user.user.created", Buffer.from(body), {
        persistent: true,
        messageId: body,
      });
    await publisher.waitForConfirms();
    // Parked for its delay when the leader dies: it must still wait out its delay, then come back.
    // Timed from before the publish: the broker starts the delay when it enqueues, after that.
    const parkedAt = Date.now();
    await publishConfirmed(consumer, retryExchange(CONSUMER), retryQueue(QUEUE, 2), "parked-before");

    await leader.stop(); // SIGKILL: the node is gone, no orderly hand-over
    const failoverStarted = Date.now();
    const newLeader = await until(`a new leader of ${QUEUE}`, 60_000, () => {
      const name = leaderOf(survivors[0], QUEUE);
      return name && name !== leader.nodeName && survivors.some((n) => n.nodeName === name) ? name : undefined;
    });
    console.log(
      `      ${leader.nodeName} killed; ${QUEUE} led by ${newLeader} ${Date.now() - failoverStarted} ms later`,
    );

    const deliveries: Delivery[] = [];
    await consumer.prefetch(50);
    await consumer.consume(
      QUEUE,
      (message) => {
        if (!message) return;
        const body = message.content.toString();
        deliveries.push({ body, messageId: String(message.properties.messageId), at: Date.now() });
        // A failing consumer rejects without requeue: the broker dead-letters it (at least once).
        if (body === "poison") consumer.nack(message, false, false);
        else consumer.ack(message);
      },
      { noAck: false },
    );
    const received = () => new Set(deliveries.map((d) => d.body).filter((b) => b.startsWith("m-")));
    await until(`all ${MESSAGES} confirmed messages consumed`, 60_000, () =>
      received().size === MESSAGES ? true : undefined,
    );
    const duplicates = deliveries.filter((d) => d.body.startsWith("m-")).length - MESSAGES;
    console.log(
      `      ${MESSAGES} of ${MESSAGES} confirmed messages consumed after the failover (${duplicates} duplicate(s))`,
    );
    assert.deepEqual([...received()].sort(), [...sent].sort());

    // The retry parked across the failover returns after its delay, not before.
    const parked = await until("the parked retry back in its queue", 60_000, () =>
      deliveries.find((d) => d.body === "parked-before"),
    );
    const waited = parked.at - parkedAt;
    console.log(`      a retry parked across the failover came back after ${waited} ms (delay ${delayOf(2)} ms)`);
    assert.ok(waited >= delayOf(2), `back after ${waited} ms, before its delay`);

    // After the failover: a rejected message reaches the DLQ, and a new retry keeps its delay.
    await publishConfirmed(publisher, "user.events", "user.user.created", "poison");
    const parkedAfterAt = Date.now();
    await publishConfirmed(consumer, retryExchange(CONSUMER), retryQueue(QUEUE, 1), "parked-after");
    const dead = await until(`the rejected message in ${DLQ}`, 30_000, async () => {
      const message = await consumer.get(DLQ, { noAck: false });
      if (!message) return undefined;
      consumer.ack(message);
      return message;
    });
    assert.equal(dead.content.toString(), "poison");
    assert.equal((dead.properties.headers?.["x-death"] as Array<{ reason: string }>)[0].reason, "rejected");
    const parkedAfter = await until("the retry parked after the failover", 30_000, () =>
      deliveries.find((d) => d.body === "parked-after"),
    );
    assert.ok(parkedAfter.at - parkedAfterAt >= delayOf(1), `back after ${parkedAfter.at - parkedAfterAt} ms`);

    // Every queue still has its other two replicas, one of them leading.
    for (const [name, leaderNode, online] of listQueues(survivors[0], ["name", "leader", "online"]))
      assert.ok(
        survivors.some((n) => n.nodeName === leaderNode) && online.split(",").length === 2,
        `${name}: leader ${leaderNode}, online ${online}`,
      );
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
