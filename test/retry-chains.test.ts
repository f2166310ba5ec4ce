// The retry protocol of docs/env-contract.md, followed through the topology each target really
// declares: @pulumi/rabbitmq resources (dev, Amazon MQ) or the Messaging Topology Operator's
// objects (the in-cluster broker). Each failed delivery is routed the way RabbitMQ would route
// it, from the consumer's republish to the queue the message lands in next.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILTIN_CATALOGS, BuiltinCatalog, loadCatalog } from "../services/load";
import { Catalog } from "../services/schema";
import { topicMatches } from "../services/validate";
import { RecordedResource, ofType } from "../tools/mockRun";
import { runStack } from "../tools/stackRun";
import { devConfig, prodLayers } from "./helpers/stackConfigs";
import { platformContractCatalog, receivedEnvironment, valuesOf } from "./helpers/envContract";
import { withCatalogFileLayers } from "./helpers/catalogFiles";

interface Declared {
  exchanges: Map<string, string>;
  queues: Map<string, Record<string, string | number>>;
  bindings: Array<{ source: string; destination: string; routingKey: string }>;
  /** Per broker user: the regex of exchanges it may write to. */
  writable: Map<string, string>;
}

/** What the broker holds once the stack is up, read from whichever form the target declares it in. */
function declaredTopology(resources: RecordedResource[]): Declared {
  const crs = (kind: string) => ofType(resources, `kubernetes:rabbitmq.com/v1beta1:${kind}`).map((r) => r.inputs.spec);
  if (crs("Queue").length > 0) {
    // The in-cluster broker: the Messaging Topology Operator's objects. A Permission names its User
    // object, whose login Secret holds the username.
    const users = new Map(
      ofType(resources, "kubernetes:rabbitmq.com/v1beta1:User").map((u) => [
        u.inputs.metadata.name,
        ofType(resources, "kubernetes:core/v1:Secret").find(
          (s) => s.inputs.metadata.name === u.inputs.spec.importCredentialsSecret.name,
        )!.inputs.stringData.username,
      ]),
    );
    return {
      exchanges: new Map(crs("Exchange").map((e) => [e.name, e.type])),
      queues: new Map(crs("Queue").map((q) => [q.name, { ...q.arguments, "x-queue-type": q.type }])),
      bindings: crs("Binding").map((b) => ({ source: b.source, destination: b.destination, routingKey: b.routingKey })),
      writable: new Map(crs("Permission").map((p) => [users.get(p.userReference.name), p.permissions.write])),
    };
  }
  return {
    exchanges: new Map(
      ofType(resources, "rabbitmq:index/exchange:Exchange").map((e) => [e.inputs.name, e.inputs.settings.type]),
    ),
    queues: new Map(
      ofType(resources, "rabbitmq:index/queue:Queue").map((q) => [
        q.inputs.name,
        JSON.parse(q.inputs.settings.argumentsJson),
      ]),
    ),
    bindings: ofType(resources, "rabbitmq:index/binding:Binding").map(({ inputs }) => ({
      source: inputs.source,
      destination: inputs.destination,
      routingKey: inputs.routingKey,
    })),
    writable: new Map(
      ofType(resources, "rabbitmq:index/permissions:Permissions").map((p) => [
        p.inputs.user,
        p.inputs.permissions.write,
      ]),
    ),
  };
}

/** The queues a message published to an exchange with a key lands in, as RabbitMQ routes it. */
function route(declared: Declared, exchange: string, key: string): string[] {
  // The default exchange delivers to the queue named by the key.
  if (exchange === "") return declared.queues.has(key) ? [key] : [];
  const type = declared.exchanges.get(exchange);
  assert.ok(type, `exchange ${exchange} is declared`);
  return declared.bindings
    .filter((b) => b.source === exchange && (type === "topic" ? topicMatches(b.routingKey, key) : b.routingKey === key))
    .map((b) => b.destination);
}

/**
 * Where a message parked in a queue goes when it expires or is rejected, and after how long. The
 * queue is a quorum queue that hands it on at least once (kept until the target has it), so a
 * broker node lost on the way does not lose it.
 */
function deadLetter(declared: Declared, queue: string): { to: string[]; afterMs?: number } {
  const args = declared.queues.get(queue)!;
  assert.deepEqual(
    [args["x-queue-type"], args["x-dead-letter-strategy"], args["x-overflow"]],
    ["quorum", "at-least-once", "reject-publish"],
    `${queue} is replicated and dead-letters at least once`,
  );
  const key = String(args["x-dead-letter-routing-key"] ?? queue);
  const ttl = args["x-message-ttl"];
  return { to: route(declared, String(args["x-dead-letter-exchange"]), key), afterMs: ttl as number | undefined };
}

/** Each service's env on a target, by name. */
function envOf(resources: RecordedResource[], service: string): Record<string, string> {
  return valuesOf(receivedEnvironment(resources, service));
}

/** A catalog the seeds do not have: one service, three consumers, one without retry, one on a wildcard. */
function ownCatalog(dir: string): string {
  const file = path.join(dir, "ledger.yaml");
  fs.writeFileSync(
    file,
    `name: ledger
services:
  - name: ledger-reconciliation-and-settlement-service
    image: ledger/settlement:1.0.0
    port: 8080
    resources: { cpu: 100m, memory: 128Mi }
    events:
      publishes: [ledger.entry.posted]
      consumes:
        - { name: entries, bindings: [ledger.entry.*], retry: { maxAttempts: 6, initialDelayMs: 250, multiplier: 3 } }
        - { name: audit, bindings: [ledger.#] }
        - { name: once, bindings: [ledger.entry.posted], retry: { maxAttempts: 1, initialDelayMs: 100 } }
`,
  );
  return file;
}

describe("retry chains as each target declares them (docs/env-contract.md)", function () {
  this.timeout(240000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chains-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const own = "a catalog of our own (one service, three consumers, one without retry, one with maxAttempts 1)";
  for (const name of [...BUILTIN_CATALOGS, own]) {
    it(`${name}: every failed delivery retries on the catalog's schedule and the last one lands in the DLQ, on dev, Amazon MQ and the in-cluster broker`, async () => {
      // The protocol's env is the platform contract's: seeds on their own names run it on the platform's here.
      const file = name === own ? ownCatalog(dir) : platformContractCatalog(name as BuiltinCatalog);
      const layersOf = (layers: Array<{ stack: string; config: Record<string, string> }>) =>
        withCatalogFileLayers(layers, file);
      const catalog = loadCatalog(file);
      const consumers = catalog.services.flatMap((s) =>
        s.events.consumes.map((consumer) => ({ service: s, consumer })),
      );
      assert.ok(consumers.length > 0, "the catalog has consumers");
      // Our own catalog replaces a built-in one's in the same stack config.
      const base = name === own ? "bookings" : (name as BuiltinCatalog);
      const targets = {
        dev: layersOf([{ stack: "dev", config: devConfig(base) }]),
        "amazon-mq": layersOf(prodLayers(base)),
        "in-cluster": layersOf(prodLayers(base, { broker: { mode: "in-cluster" } })),
      };
      const published = catalog.services.flatMap((s) => s.events.publishes);
      for (const [target, layers] of Object.entries(targets)) {
        const resources = (await runStack(layers)).all;
        const declared = declaredTopology(resources);
        for (const { service, consumer } of consumers) {
          const where = `${target} ${service.name}.${consumer.name}`;
          followChain(declared, envOf(resources, service.name), service.name, consumer, where);
          // A key the catalog publishes reaches the queue through its domain's exchange.
          for (const key of published.filter((k) => consumer.bindings.some((b) => topicMatches(b, k)))) {
            const queues = route(declared, `${key.split(".")[0]}.events`, key);
            assert.ok(queues.includes(`${service.name}.${consumer.name}`), `${where}: ${key} reaches it`);
          }
        }
      }
    });
  }
});

/** One message through every delivery a consumer makes of it, as the protocol republishes it. */
function followChain(
  declared: Declared,
  env: Record<string, string>,
  service: string,
  consumer: Catalog["services"][number]["events"]["consumes"][number],
  where: string,
): void {
  const queue = `${service}.${consumer.name}`;
  const maxAttempts = consumer.retry?.maxAttempts ?? 1;
  const exchange = env.RABBITMQ_RETRY_EXCHANGE;
  assert.equal(exchange, `${service}.retry`, `${where}: RABBITMQ_RETRY_EXCHANGE`);
  assert.ok(
    env.RABBITMQ_MAX_ATTEMPTS.split(",").includes(`${queue}=${maxAttempts}`),
    `${where}: RABBITMQ_MAX_ATTEMPTS names ${queue}=${maxAttempts} (${env.RABBITMQ_MAX_ATTEMPTS})`,
  );
  assert.ok(env.RABBITMQ_QUEUES.split(",").includes(queue), `${where}: RABBITMQ_QUEUES`);
  assert.match(
    exchange,
    new RegExp(declared.writable.get(env.RABBITMQ_USER)!),
    `${where}: the service may write to it`,
  );

  for (let attempt = 1; attempt < maxAttempts; attempt++) {
    const parked = route(declared, exchange, `${queue}.retry.${attempt}`);
    assert.deepEqual(parked, [`${queue}.retry.${attempt}`], `${where}: failed delivery ${attempt} is parked once`);
    const back = deadLetter(declared, parked[0]);
    const { initialDelayMs, multiplier } = consumer.retry!;
    assert.equal(
      back.afterMs,
      Math.round(initialDelayMs * multiplier ** (attempt - 1)),
      `${where}: retry ${attempt}'s delay`,
    );
    assert.deepEqual(back.to, [queue], `${where}: retry ${attempt} returns to ${queue}`);
  }
  assert.deepEqual(
    route(declared, exchange, `${queue}.retry.${maxAttempts}`),
    [],
    `${where}: no retry after delivery ${maxAttempts}`,
  );
  assert.deepEqual(route(declared, exchange, `${queue}.dlq`), [`${queue}.dlq`], `${where}: the last failure's copy`);
  // A message the consumer rejects, or one that expires in the queue, reaches the same DLQ.
  assert.deepEqual(deadLetter(declared, queue).to, [`${queue}.dlq`], `${where}: the broker's own dead letters`);
}
