import { strict as assert } from "assert";
import * as fs from "fs";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import {
  DEAD_LETTER_EXCHANGE,
  DELIVERY_LIMIT,
  QUEUE_TYPE,
  exactNames,
  planTopology,
} from "../components/messaging/topology";
import { retryDelays } from "../services/validate";
import { IMAGES, RABBITMQ } from "../components/engines";
import { QUORUM_MAX_PRIORITY } from "../services/schema";
import { isError } from "../services/problems";

const erp = () => planTopology(loadCatalog(builtinCatalogPath("erp")));

describe("broker topology plan", () => {
  it("declares one topic exchange per domain, named {domain}.events as in seed 001", () => {
    const plan = erp();
    const topics = plan.exchanges.filter((e) => e.type === "topic").map((e) => e.name);
    assert.deepEqual(topics, [
      "auth.events",
      "financial.events",
      "inventory.events",
      "logistics.events",
      "sales.events",
    ]);
    assert.equal(plan.vhost, "erp");
  });

  for (const name of BUILTIN_CATALOGS) {
    it(`${name}: every consumer queue dead-letters into its own DLQ`, () => {
      const plan = planTopology(loadCatalog(builtinCatalogPath(name)));
      const consumers = plan.queues.filter((q) => q.role === "consumer");
      assert.ok(consumers.length > 0);
      for (const queue of consumers) {
        assert.equal(queue.arguments["x-dead-letter-exchange"], DEAD_LETTER_EXCHANGE, queue.name);
        const key = queue.arguments["x-dead-letter-routing-key"];
        const dlqBinding = plan.bindings.find((b) => b.source === DEAD_LETTER_EXCHANGE && b.routingKey === key);
        assert.ok(dlqBinding, `no DLQ binding for ${queue.name}`);
        assert.equal(dlqBinding.destination, `${queue.name}.dlq`);
        assert.ok(plan.queues.some((q) => q.name === dlqBinding.destination && q.role === "dead-letter"));
      }
    });

    it(`${name}: every binding joins declared exchanges and queues, and names are unique`, () => {
      const plan = planTopology(loadCatalog(builtinCatalogPath(name)));
      const exchanges = new Set(plan.exchanges.map((e) => e.name));
      const queues = new Set(plan.queues.map((q) => q.name));
      assert.equal(exchanges.size, plan.exchanges.length);
      assert.equal(queues.size, plan.queues.length);
      for (const b of plan.bindings) {
        assert.ok(exchanges.has(b.source), `unknown exchange ${b.source}`);
        assert.ok(queues.has(b.destination), `unknown queue ${b.destination}`);
      }
    });
  }

  it("binds each consumer queue with its patterns on the pattern's domain exchange", () => {
    const plan = erp();
    const bindings = plan.bindings.filter((b) => b.destination === "notification-service.queue");
    assert.deepEqual(bindings.map((b) => `${b.source} ${b.routingKey}`).sort(), [
      "auth.events auth.user.registered",
      "financial.events financial.invoice.issued",
      "logistics.events logistics.shipment.*",
      "sales.events sales.order.*",
    ]);
  });

  it("carries TTL and max length from the catalog into queue arguments, and keeps maxPriority on the plan", () => {
    const notification = erp().queues.find((q) => q.name === "notification-service.queue")!;
    // Quorum queues order priorities without an argument: 3.x brokers refuse x-max-priority on
    // them (PRECONDITION_FAILED, invalid arg), 4.3 ignores it. The catalog's value stays on the plan.
    assert.equal(notification.maxPriority, 10);
    assert.ok(!("x-max-priority" in notification.arguments));
    assert.equal(notification.arguments["x-message-ttl"], 86400000);
    const bookings = planTopology(loadCatalog(builtinCatalogPath("bookings")));
    assert.equal(
      bookings.queues.find((q) => q.name === "notification-service.all-events")!.arguments["x-max-length"],
      100000,
    );
  });

  it("parks retries in delay queues with exponential TTLs that return to the consumer queue (maxAttempts 5: 4 retries)", () => {
    const plan = planTopology(loadCatalog(builtinCatalogPath("user-enrichment")));
    const retries = plan.queues.filter((q) => q.role === "retry" && q.service === "enrichment-service");
    assert.deepEqual(
      retries.map((q) => [q.name, q.arguments["x-message-ttl"]]),
      [
        ["enrichment-service.users.retry.1", 1000],
        ["enrichment-service.users.retry.2", 2000],
        ["enrichment-service.users.retry.3", 4000],
        ["enrichment-service.users.retry.4", 8000],
      ],
    );
    for (const q of retries) {
      assert.equal(q.arguments["x-dead-letter-exchange"], "");
      assert.equal(q.arguments["x-dead-letter-routing-key"], "enrichment-service.users");
      // An expired retry is kept until the consumer queue has confirmed it: no loss on a failover.
      assert.equal(q.arguments["x-dead-letter-strategy"], "at-least-once");
      assert.equal(q.arguments["x-overflow"], "reject-publish");
      assert.ok(
        plan.bindings.some(
          (b) => b.source === "enrichment-service.retry" && b.destination === q.name && b.routingKey === q.name,
        ),
      );
    }
  });

  it("computes backoff delays from initial delay and multiplier", () => {
    // maxAttempts counts deliveries: 4 is the first and 3 retries.
    assert.deepEqual(retryDelays({ maxAttempts: 4, initialDelayMs: 500, multiplier: 3 }), [500, 1500, 4500]);
    assert.deepEqual(retryDelays({ maxAttempts: 1, initialDelayMs: 500, multiplier: 3 }), []);
    assert.deepEqual(retryDelays(undefined), []);
  });

  for (const name of BUILTIN_CATALOGS) {
    it(`${name}: every DLQ is bounded (10000 messages by default) and refuses what it cannot hold`, () => {
      const dlqs = planTopology(loadCatalog(builtinCatalogPath(name))).queues.filter((q) => q.role === "dead-letter");
      assert.ok(dlqs.length > 0);
      for (const dlq of dlqs)
        assert.deepEqual(
          dlq.arguments,
          { "x-queue-type": "quorum", "x-max-length": 10000, "x-overflow": "reject-publish" },
          dlq.name,
        );
    });
  }

  it("takes a DLQ's bounds from its consumer's dlq entry", () => {
    const catalog = loadCatalog(builtinCatalogPath("user-enrichment"));
    const consumer = catalog.services.find((s) => s.name === "enrichment-service")!.events.consumes[0];
    consumer.dlq = { maxLength: 50, maxLengthBytes: 1048576 };
    const dlq = planTopology(catalog).queues.find((q) => q.name === "enrichment-service.users.dlq")!;
    assert.deepEqual(dlq.arguments, {
      "x-queue-type": "quorum",
      "x-max-length": 50,
      "x-max-length-bytes": 1048576,
      "x-overflow": "reject-publish",
    });
  });

  for (const name of BUILTIN_CATALOGS) {
    it(`${name}: every queue is a quorum queue, and every queue that dead-letters does so at least once`, () => {
      const plan = planTopology(loadCatalog(builtinCatalogPath(name)));
      for (const queue of plan.queues) {
        assert.equal(queue.type, QUEUE_TYPE, queue.name);
        assert.equal(queue.arguments["x-queue-type"], "quorum", queue.name);
        // Classic-only arguments a quorum queue refuses or ignores.
        for (const classic of ["x-max-priority", "x-queue-mode", "x-queue-version", "x-queue-master-locator"])
          assert.ok(!(classic in queue.arguments), `${queue.name}: ${classic}`);
        // RabbitMQ keeps to at-least-once only with reject-publish overflow; drop-head falls back to at most once.
        if ("x-dead-letter-exchange" in queue.arguments) {
          assert.equal(queue.arguments["x-dead-letter-strategy"], "at-least-once", queue.name);
          assert.equal(queue.arguments["x-overflow"], "reject-publish", queue.name);
        } else assert.equal(queue.role, "dead-letter", queue.name);
      }
      // The poison-message backstop: consumer queues only (a DLQ has nowhere to send a message on).
      for (const queue of plan.queues)
        assert.equal(queue.arguments["x-delivery-limit"], queue.role === "consumer" ? DELIVERY_LIMIT : undefined);
    });
  }

  it("refuses a maxPriority quorum queues cannot order, naming the field and the limit", () => {
    const text = fs.readFileSync(builtinCatalogPath("erp"), "utf8");
    const withPriority = (value: number) => text.replace(/maxPriority: 10/, `maxPriority: ${value}`);
    const problems = parseCatalog(withPriority(QUORUM_MAX_PRIORITY + 1)).problems.filter(isError);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0].path, /^services\[\d+\]\.events\.consumes\[\d+\]\.maxPriority$/);
    assert.match(problems[0].message, /at most 31: quorum queues order priorities 0-31/);
    assert.deepEqual(parseCatalog(withPriority(QUORUM_MAX_PRIORITY)).problems.filter(isError), []);
  });

  it("runs one RabbitMQ minor on every target: the dev and in-cluster image is Amazon MQ's engine version", () => {
    const tag = /^rabbitmq:(\d+\.\d+)\.\d+-management-alpine@sha256:[a-f0-9]{64}$/.exec(IMAGES.rabbitmq);
    assert.ok(tag, IMAGES.rabbitmq);
    assert.equal(tag[1], RABBITMQ.managedVersion);
    // Strict quorum-queue priorities arrived in 4.3: an older engine would not order maxPriority.
    const [major, minor] = RABBITMQ.managedVersion.split(".").map(Number);
    assert.ok(major > 4 || (major === 4 && minor >= 3), RABBITMQ.managedVersion);
  });

  describe("per-service permissions (least privilege)", () => {
    const plan = erp();
    const user = (service: string) => plan.users.find((u) => u.service === service)!;
    const can = (regex: string, resource: string) => new RegExp(regex).test(resource);

    it("lets a service read and configure its own queues but not another's", () => {
      const sales = user("sales-service");
      assert.ok(can(sales.permissions.read, "sales-service.queue"));
      assert.ok(can(sales.permissions.read, "sales-service.queue.dlq"));
      assert.ok(can(sales.permissions.configure, "sales-service.queue"));
      assert.ok(!can(sales.permissions.read, "inventory-service.queue"));
      assert.ok(!can(sales.permissions.configure, "inventory-service.queue"));
      assert.ok(!can(sales.permissions.read, "sales-service.queueX"), "regex must be anchored");
    });

    it("lets a service write only to the exchanges of domains it publishes and its retry exchange", () => {
      const sales = user("sales-service");
      assert.ok(can(sales.permissions.write, "sales.events"));
      assert.ok(can(sales.permissions.write, "sales-service.retry"));
      assert.ok(!can(sales.permissions.write, "financial.events"));
      assert.ok(!can(sales.permissions.write, "inventory-service.retry"));
      assert.ok(!can(sales.permissions.write, "salesXevents"), "dots must be literal");
      assert.ok(!can(sales.permissions.write, DEAD_LETTER_EXCHANGE));
    });

    it("limits publishing to the service's own routing keys through topic permissions", () => {
      const sales = user("sales-service");
      assert.deepEqual(
        sales.topicPermissions.map((t) => t.exchange),
        ["sales.events"],
      );
      assert.ok(can(sales.topicPermissions[0].write, "sales.order.created"));
      assert.ok(!can(sales.topicPermissions[0].write, "sales.order.refunded"));
    });

    it("gives a consumer-only service no write on any domain exchange", () => {
      const notification = user("notification-service");
      assert.equal(notification.topicPermissions.length, 0);
      for (const exchange of plan.exchanges.filter((e) => e.type === "topic"))
        assert.ok(!can(notification.permissions.write, exchange.name));
    });
  });

  it("gives services without events no broker user, and a catalog without consumers no DLX", () => {
    const text = fs.readFileSync(builtinCatalogPath("finance"), "utf8");
    const catalog = parseCatalog(text).catalog!;
    catalog.services.forEach((s) => {
      s.events.consumes = [];
    });
    catalog.services[3].events.publishes = [];
    const plan = planTopology(catalog);
    assert.ok(!plan.exchanges.some((e) => e.name === DEAD_LETTER_EXCHANGE));
    assert.ok(!plan.users.some((u) => u.service === catalog.services[3].name));
  });

  it("exactNames matches nothing for an empty list", () => {
    assert.equal(exactNames([]), "^$");
    assert.ok(!new RegExp(exactNames([])).test("anything"));
  });
});
