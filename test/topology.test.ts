import { strict as assert } from "assert";
import * as fs from "fs";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import { DEAD_LETTER_EXCHANGE, exactNames, planTopology } from "../components/messaging/topology";
import { retryDelays } from "../services/validate";

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

  it("carries priority, TTL and max length from the catalog into queue arguments", () => {
    const notification = erp().queues.find((q) => q.name === "notification-service.queue")!;
    assert.equal(notification.arguments["x-max-priority"], 10);
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
        assert.deepEqual(dlq.arguments, { "x-max-length": 10000, "x-overflow": "reject-publish" }, dlq.name);
    });
  }

  it("takes a DLQ's bounds from its consumer's dlq entry", () => {
    const catalog = loadCatalog(builtinCatalogPath("user-enrichment"));
    const consumer = catalog.services.find((s) => s.name === "enrichment-service")!.events.consumes[0];
    consumer.dlq = { maxLength: 50, maxLengthBytes: 1048576 };
    const dlq = planTopology(catalog).queues.find((q) => q.name === "enrichment-service.users.dlq")!;
    assert.deepEqual(dlq.arguments, {
      "x-max-length": 50,
      "x-max-length-bytes": 1048576,
      "x-overflow": "reject-publish",
    });
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
