import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import * as amqp from "amqplib";
import { stringify } from "yaml";
import { DEAD_LETTER_EXCHANGE, QueueArguments, planTopology } from "../components/messaging/topology";
import { retryDelays, topicMatches } from "../services/validate";
import { rabbitPasswordHash, renderDefinitions } from "../components/messaging/definitions";
import { BROKER_MAX_TTL_MS } from "../services/schema";
import { isError } from "../services/problems";

function rabbitmqctl(args: string[], input?: string): string {
  return execFileSync("rabbitmqctl", ["-q", ...args], {
    encoding: "utf8",
    input,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 60000,
  }).trim();
}

/** Definition import finishes in the background: wait until the last queue exists. */
async function waitForQueues(vhost: string, count: number): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    try {
      if (
        rabbitmqctl(["list_queues", "-p", vhost, "name", "--no-table-headers"]).split("\n").filter(Boolean).length >=
        count
      )
        return;
    } catch {
      /* vhost not there yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the import did not declare ${count} queues in ${vhost} within 30 s`);
}

function brokerReachable(): boolean {
  try {
    rabbitmqctl(["status"]);
    return true;
  } catch {
    return false;
  }
}

describe("RabbitMQ definitions", () => {
  it("hashes passwords the way RabbitMQ's sha256 scheme checks them", () => {
    const hash = Buffer.from(rabbitPasswordHash("orders", "s3cret"), "base64");
    const [salt, digest] = [hash.subarray(0, 4), hash.subarray(4)];
    assert.equal(
      digest.toString("hex"),
      createHash("sha256")
        .update(Buffer.concat([salt, Buffer.from("s3cret")]))
        .digest("hex"),
    );
    assert.equal(
      rabbitPasswordHash("orders", "s3cret"),
      rabbitPasswordHash("orders", "s3cret"),
      "stable across renders",
    );
    assert.notEqual(rabbitPasswordHash("orders", "s3cret"), rabbitPasswordHash("billing", "s3cret"));
  });

  it("carries the whole plan: every queue with its arguments, every binding and user", () => {
    const plan = planTopology(loadCatalog(builtinCatalogPath("erp")));
    const passwords = Object.fromEntries(plan.users.map((u) => [u.service, `pw-${u.service}`]));
    const definitions = renderDefinitions(plan, passwords) as any;
    assert.equal(definitions.queues.length, plan.queues.length);
    assert.equal(definitions.bindings.length, plan.bindings.length);
    assert.deepEqual(
      definitions.users.map((u: any) => u.name),
      plan.users.map((u) => u.username),
    );
    for (const queue of definitions.queues) {
      assert.equal(queue.arguments["x-queue-type"], "quorum", queue.name);
      // Quorum queues are durable and never auto-deleted (RabbitMQ refuses the others).
      assert.deepEqual([queue.durable, queue.auto_delete], [true, false], queue.name);
    }
    const dlq = definitions.queues.find((q: any) => q.name === "notification-service.queue.dlq");
    assert.deepEqual(dlq.arguments, {
      "x-queue-type": "quorum",
      "x-max-length": 10000,
      "x-overflow": "reject-publish",
    });
    assert.ok(!JSON.stringify(definitions).includes("pw-sales-service"), "passwords appear only hashed");
    assert.throws(() => renderDefinitions(plan, {}), /no broker password/);
  });

  describe("imported into a real RabbitMQ", function () {
    this.timeout(120000);
    const catalog = loadCatalog(builtinCatalogPath("user-enrichment"));
    // A DLQ small enough to fill in a test.
    const DLQ_BOUND = 2;
    catalog.services.find((s) => s.name === "enrichment-service")!.events.consumes[0].dlq.maxLength = DLQ_BOUND;
    // A vhost and users of this run only, on the machine's broker.
    const plan = planTopology({ ...catalog, name: `defcheck-${process.pid}` });
    plan.users.forEach((user) => {
      user.username = `${user.username}-${process.pid}`;
    });
    const passwords = Object.fromEntries(plan.users.map((u) => [u.service, `pw-${u.service}-${process.pid}`]));
    // Publishes straight to the dead-letter exchange, as no service may.
    const admin = { username: `defcheck-admin-${process.pid}`, password: `pw-admin-${process.pid}`, tags: [] };

    before(async function () {
      if (!brokerReachable()) {
        console.log("    (skipped: no local RabbitMQ reachable with rabbitmqctl; .ci/run starts the machine's broker)");
        this.skip();
      }
      // Through stdin: the CLI may run as the broker's user, who cannot read our temp files.
      rabbitmqctl(["import_definitions"], JSON.stringify(renderDefinitions(plan, passwords, admin)));
      await waitForQueues(plan.vhost, plan.queues.length);
    });

    after(function () {
      if (!brokerReachable()) return;
      const ignoreMissing = (args: string[]) => {
        try {
          rabbitmqctl(args);
        } catch {
          /* already gone */
        }
      };
      ignoreMissing(["delete_vhost", plan.vhost]);
      for (const user of [...plan.users, admin]) ignoreMissing(["delete_user", user.username]);
    });

    it("declares every queue as a quorum queue with its arguments, and every binding", () => {
      const queues = rabbitmqctl([
        "list_queues",
        "-p",
        plan.vhost,
        "name",
        "arguments",
        "type",
        "--no-table-headers",
      ]).split("\n");
      assert.equal(queues.length, plan.queues.length);
      for (const line of queues) assert.match(line, /\tquorum$/, line);
      const retry = queues.find((line) => line.startsWith("enrichment-service.users.retry.2\t"))!;
      assert.match(retry, /x-message-ttl.*2000/);
      const dlq = queues.find((line) => line.startsWith("enrichment-service.users.dlq\t"))!;
      assert.match(dlq, /x-max-length.*2\b/);
      assert.match(dlq, /x-overflow.*reject-publish/);
      const bindings = rabbitmqctl([
        "list_bindings",
        "-p",
        plan.vhost,
        "source_name",
        "destination_name",
        "routing_key",
        "--no-table-headers",
      ]).split("\n");
      for (const binding of plan.bindings) {
        assert.ok(
          bindings.includes(`${binding.source}\t${binding.destination}\t${binding.routingKey}`),
          JSON.stringify(binding),
        );
      }
    });

    const amqpUrl = (username: string, password: string) =>
      `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:5672/${encodeURIComponent(plan.vhost)}`;
    const connections: amqp.ChannelModel[] = [];
    const connect = async (username: string, password: string) => {
      const connection = await amqp.connect(amqpUrl(username, password));
      connections.push(connection);
      connection.on("error", () => undefined);
      return connection;
    };
    const channelOf = async (service: string) => {
      const user = plan.users.find((u) => u.service === service)!;
      const channel = await (await connect(user.username, passwords[service])).createChannel();
      channel.on("error", () => undefined);
      return channel;
    };
    const waitFor = async (channel: amqp.Channel, queue: string, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const message = await channel.get(queue, { noAck: false });
        if (message) return message;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nothing arrived on ${queue} within ${timeoutMs} ms`);
    };
    // The vhost's deletion may already have closed them: do not wait on a dead connection.
    after(async () => {
      await Promise.all(
        connections.map((c) =>
          Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]),
        ),
      );
    });

    it("routes every published key to the consumer queues bound to it, and nowhere else", async () => {
      let checked = 0;
      for (const publisher of catalog.services.filter((s) => s.events.publishes.length > 0)) {
        // With confirms, as the env contract has publishers do: each message is on its queues before it is looked for.
        const user = plan.users.find((u) => u.service === publisher.name)!;
        const channel = await (await connect(user.username, passwords[publisher.name])).createConfirmChannel();
        for (const key of publisher.events.publishes) {
          channel.publish(`${key.split(".")[0]}.events`, key, Buffer.from(key), { persistent: true });
        }
        await channel.waitForConfirms();
        await channel.close();
      }
      for (const consumer of catalog.services.filter((s) => s.events.consumes.length > 0)) {
        const channel = await channelOf(consumer.name);
        for (const binding of consumer.events.consumes) {
          const queue = `${consumer.name}.${binding.name}`;
          const expected = catalog.services
            .flatMap((s) => s.events.publishes)
            .filter((key) => binding.bindings.some((pattern) => topicMatches(pattern, key)))
            .sort();
          const received: string[] = [];
          for (const _ of expected) {
            const message = await waitFor(channel, queue, 5000);
            received.push(message.content.toString());
            channel.ack(message);
          }
          assert.deepEqual(received.sort(), expected, queue);
          assert.equal(await channel.get(queue), false, `${queue} got more than its bindings`);
          checked += expected.length;
        }
      }
      console.log(`      ${checked} routed messages checked`);
      assert.ok(checked > 0);
    });

    it("dead-letters a rejected message into the queue's DLQ", async () => {
      const channel = await channelOf("enrichment-service");
      const publisher = await channelOf("user-service");
      publisher.publish("user.events", "user.user.created", Buffer.from("poison"), { persistent: true });
      const message = await waitFor(channel, "enrichment-service.users", 5000);
      channel.nack(message, false, false);
      const dead = await waitFor(channel, "enrichment-service.users.dlq", 5000);
      assert.equal(dead.content.toString(), "poison");
      channel.ack(dead);
    });

    /** Each queue's depth as the broker counts it, the dead letters it still holds for their target included. */
    const listedDepths = (): Map<string, number> =>
      new Map(
        rabbitmqctl(["list_queues", "-p", plan.vhost, "name", "messages", "--no-table-headers"])
          .split("\n")
          .map((line) => line.split("\t"))
          .map(([name, messages]) => [name, Number(messages)]),
      );

    it("at a DLQ's bound, nacks a confirmed publish and keeps the next dead letters in their queue (at-least-once)", async () => {
      const dlq = plan.queues.find((q) => q.name === "enrichment-service.users.dlq")!;
      const source = "enrichment-service.users";
      assert.deepEqual(dlq.arguments, {
        "x-queue-type": "quorum",
        "x-max-length": DLQ_BOUND,
        "x-overflow": "reject-publish",
      });
      const operator = await (await connect(admin.username, admin.password)).createConfirmChannel();
      await operator.purgeQueue(dlq.name);
      const consumer = await channelOf("enrichment-service");
      const publisher = await channelOf("user-service");
      const DEAD_LETTERS = DLQ_BOUND + 3;
      for (let i = 1; i <= DEAD_LETTERS; i++) {
        const body = `dead ${i}`;
        publisher.publish("user.events", "user.user.created", Buffer.from(body), { persistent: true });
        const message = await waitFor(consumer, source, 5000);
        assert.equal(message.content.toString(), body);
        consumer.nack(message, false, false);
      }
      // Dead-lettering is asynchronous: a second lets the broker finish routing.
      await new Promise((r) => setTimeout(r, 1000));
      const refused = new Promise<Error | undefined>((resolve) =>
        operator.publish(DEAD_LETTER_EXCHANGE, source, Buffer.from("direct"), {}, (err) => resolve(err ?? undefined)),
      );
      assert.match(String(await refused), /nacked/, "a publisher with confirms is told");
      assert.equal(await consumer.get(source), false, "a dead letter held back is not delivered again");

      // The broker's queue statistics lag by a few seconds: wait until they count every dead letter.
      const deadline = Date.now() + 30000;
      let depths = listedDepths();
      const held = () => depths.get(dlq.name)! + depths.get(source)!;
      while (held() < DEAD_LETTERS && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        depths = listedDepths();
      }
      // A quorum queue's reject-publish may let one message past its bound before it refuses.
      const inDlq = depths.get(dlq.name)!;
      assert.ok(inDlq >= DLQ_BOUND && inDlq <= DLQ_BOUND + 1, `the DLQ holds ${inDlq}`);
      assert.equal(held(), DEAD_LETTERS, `no dead letter dropped: ${source} keeps ${depths.get(source)} for the DLQ`);
      console.log(
        `      a full DLQ (x-max-length ${DLQ_BOUND}) nacked a confirmed publish; ${depths.get(source)} dead letter(s) wait in ${source}`,
      );
    });

    it("brings a retried message back after its backoff delay", async () => {
      const channel = await channelOf("enrichment-service");
      const retry = plan.queues.find((q) => q.name === "enrichment-service.users.retry.2")!;
      const sentAt = Date.now();
      channel.publish("enrichment-service.retry", retry.name, Buffer.from("try again"), { persistent: true });
      const back = await waitFor(channel, "enrichment-service.users", 10000);
      const delay = Date.now() - sentAt;
      console.log(`      retry 2 came back after ${delay} ms (x-message-ttl ${retry.arguments["x-message-ttl"]} ms)`);
      assert.equal(back.content.toString(), "try again");
      assert.ok(delay >= Number(retry.arguments["x-message-ttl"]) - 50, `came back after ${delay} ms`);
      channel.ack(back);
    });

    it("refuses a service another service's queue and another service's routing key", async () => {
      const intruder = await channelOf("user-service");
      await assert.rejects(
        intruder.checkQueue("enrichment-service.users").then(() => intruder.get("enrichment-service.users")),
        /ACCESS_REFUSED|403/,
      );
      const publisher = await channelOf("user-service");
      const closed = new Promise<Error>((resolve) => publisher.once("error", resolve));
      publisher.publish("enrichment.events", "enrichment.profile.enriched", Buffer.from("forged"));
      assert.match(String(await closed), /ACCESS_REFUSED|403/);
    });

    it("lets each service log in with its password, and nobody with another's", () => {
      for (const user of plan.users) {
        rabbitmqctl(["authenticate_user", user.username, passwords[user.service]]);
        assert.throws(() => rabbitmqctl(["authenticate_user", user.username, "wrong-password"]));
      }
      const permissions = rabbitmqctl(["list_permissions", "-p", plan.vhost, "--no-table-headers"]).split("\n");
      const enrichment = plan.users.find((u) => u.service === "enrichment-service")!;
      assert.ok(
        permissions.includes(
          `${enrichment.username}\t${enrichment.permissions.configure}\t${enrichment.permissions.write}\t${enrichment.permissions.read}`,
        ),
        permissions.join("\n"),
      );
    });
  });

  describe("x-message-ttl at the real RabbitMQ's ceiling (guest on its default vhost)", function () {
    let connection: amqp.ChannelModel | undefined;
    before(async function () {
      try {
        connection = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
      } catch {
        console.log(
          "    (skipped: no RabbitMQ on 127.0.0.1:5672 for guest/guest; .ci/run starts the machine's broker)",
        );
        this.skip();
      }
      connection.on("error", () => undefined);
    });
    after(async () => connection?.close().catch(() => undefined));

    let declared = 0;
    /**
     * The broker's answer to declaring a throwaway queue with these arguments: named and durable,
     * as quorum queues must be (no server-named or exclusive ones), and deleted again.
     */
    const declare = async (args: QueueArguments): Promise<string> => {
      const channel = await connection!.createChannel();
      channel.on("error", () => undefined);
      const name = `ttl-check-${process.pid}-${++declared}`;
      try {
        await channel.assertQueue(name, { durable: true, arguments: args });
        await channel.deleteQueue(name);
        await channel.close();
        return "declared";
      } catch (e) {
        return (e as Error).message;
      }
    };
    const consumerCatalog = (consumer: Record<string, unknown>) =>
      stringify({
        name: "ttl",
        services: [
          {
            name: "worker",
            image: "ttl/worker:1.0.0",
            port: 8000,
            resources: { cpu: "100m", memory: "64Mi" },
            events: { consumes: [{ name: "jobs", bindings: ["jobs.job.*"], ...consumer }] },
          },
        ],
      });
    const errorsOf = (text: string) =>
      parseCatalog(text)
        .problems.filter(isError)
        .map((p) => `${p.path}: ${p.message}`);
    // 3153600 * 10^5 is exactly the ceiling: the sixth retry (seventh delivery) waits the longest TTL RabbitMQ takes.
    const longest = { maxAttempts: 7, initialDelayMs: 3153600, multiplier: 10, maxDelayMs: BROKER_MAX_TTL_MS };

    it(`declares queues with the longest TTL the catalog accepts, ${BROKER_MAX_TTL_MS} ms`, async () => {
      const text = consumerCatalog({ retry: longest, messageTtlMs: BROKER_MAX_TTL_MS });
      assert.deepEqual(errorsOf(text), []);
      const queues = planTopology(parseCatalog(text).catalog!).queues.filter((q) => "x-message-ttl" in q.arguments);
      assert.deepEqual(
        queues.map((q) => [q.name, q.arguments["x-message-ttl"]]),
        [
          ["worker.jobs", BROKER_MAX_TTL_MS],
          ...retryDelays(longest).map((delay, i) => [`worker.jobs.retry.${i + 1}`, delay]),
        ],
      );
      assert.equal(queues.at(-1)!.arguments["x-message-ttl"], BROKER_MAX_TTL_MS);
      for (const queue of queues) assert.equal(await declare(queue.arguments), "declared", queue.name);
    });

    it("refuses a longer one in the catalog, and the broker refuses to declare it", async () => {
      const over = BROKER_MAX_TTL_MS + 1;
      assert.deepEqual(errorsOf(consumerCatalog({ messageTtlMs: over })), [
        `services[0].events.consumes[0].messageTtlMs: must be at most ${BROKER_MAX_TTL_MS} ms, the longest x-message-ttl RabbitMQ accepts`,
      ]);
      assert.match(await declare({ "x-message-ttl": over }), /PRECONDITION.FAILED.*value_too_large/);

      // The issue's catalog: its tenth retry queue would wait 6e13 ms.
      const issue = { maxAttempts: 10, initialDelayMs: 60000, multiplier: 10 };
      assert.deepEqual(
        errorsOf(consumerCatalog({ retry: issue })).map((e) => e.split(" (")[0]),
        ["services[0].events.consumes[0].retry: retry 5 waits 600000000 ms, above maxDelayMs 86400000"],
      );
      assert.match(await declare({ "x-message-ttl": retryDelays(issue).at(-1)! }), /value_too_large/);
      const seventh = { ...longest, maxAttempts: 8 };
      assert.deepEqual(
        errorsOf(consumerCatalog({ retry: seventh })).map((e) => e.split(" (")[0]),
        [`services[0].events.consumes[0].retry: retry 7 waits 3153600000000 ms, above maxDelayMs ${BROKER_MAX_TTL_MS}`],
      );
      assert.match(await declare({ "x-message-ttl": retryDelays(seventh)[6] }), /value_too_large/);
    });
  });
});
