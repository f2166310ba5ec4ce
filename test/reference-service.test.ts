import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { randomBytes, randomUUID } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as amqp from "amqplib";
import { parse, stringify } from "yaml";
import { MASTER_NAME } from "../components/cache/redisConfig";
import { connectionUrl, databaseNames } from "../components/data/databasePlan";
import { DATABASE_ENGINES } from "../components/engines";
import { renderDefinitions } from "../components/messaging/definitions";
import { TopologyPlan, planTopology, serviceMessaging } from "../components/messaging/topology";
import { renderAlertRules } from "../components/observability/alertRules";
import { ObservabilitySettingsSchema } from "../components/observability/settings";
import { ServiceEndpoints, serviceEnvironment } from "../components/serviceEnvironment";
import { builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import { Catalog, Service } from "../services/schema";
import { retryDelays } from "../services/validate";
import { runUnderMocks } from "../tools/mockRun";
import {
  LogLine,
  Sample,
  ServiceProcess,
  hasPostgres,
  parseExposition,
  psql,
  startOtlpReceiver,
} from "./helpers/referenceService";
import { resolvedValues, valuesOf } from "./helpers/envContract";
import { SentinelGroup, hasRedis, sentinelsAgree, startSentinelGroup } from "./helpers/sentinel";
import { RabbitmqNode, freePort, hasBinary, hasRabbitmqServer, startRabbitmq, until } from "./helpers/servers";

const RUN = `t${process.pid}`;
const CACHE = {
  password: `cache-password-${RUN}`,
  sentinelPassword: `sentinel-password-${RUN}`,
  downAfterMs: 1000,
  failoverTimeoutMs: 10000,
};

/** 63 characters, the longest service name: every name derived from it (queues, database, login) must still work. */
const LONG_CONSUMER = "refcheck-consumer-with-a-long-name-that-stretches-derived-names";
const RETRY_ROUTING_KEY = "refcheck.item.created";
/** A catalog of this test's: a consumer whose retry schedule (200 ms, 400 ms) keeps the test short. */
const RETRY_CATALOG = `
name: refcheck
description: The reference service's retry check
services:
  - name: refcheck-publisher
    image: refcheck/publisher:1.0.0
    port: 8080
    resources: { cpu: 100m, memory: 128Mi }
    events:
      publishes: [${RETRY_ROUTING_KEY}]
  - name: ${LONG_CONSUMER}
    image: refcheck/consumer:1.0.0
    port: 8081
    resources: { cpu: 100m, memory: 128Mi }
    database: { kind: postgres, version: "15" }
    events:
      consumes:
        - name: items
          bindings: [${RETRY_ROUTING_KEY}]
          retry: { maxAttempts: 3, initialDelayMs: 200, multiplier: 2 }
          # One dead letter fills it: the test of a refused copy.
          dlq: { maxLength: 1 }
    health: { path: /healthz, readinessPath: /readyz, metricsPath: /prom, metricsPort: 9464 }
`;

/** The reservei services this test runs: a publisher with a cache, and a consumer of its events. */
const PUBLISHER = "booking-service";
const CONSUMER = "hotel-service";
const CREATED = "booking.reservation.created";

interface Setup {
  catalogs: { reservei: Catalog; refcheck: Catalog };
  plans: TopologyPlan[];
  passwords: Record<string, string>;
  admin: { username: string; password: string; tags: string[] };
  cache: SentinelGroup;
  broker: RabbitmqNode;
  otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  databases: Record<string, { name: string; username: string; password: string }>;
  services: Record<string, ServiceProcess>;
}

function loadCatalogs(): Setup["catalogs"] {
  const parsed = parseCatalog(RETRY_CATALOG);
  assert.ok(parsed.catalog, JSON.stringify(parsed.problems));
  return { reservei: loadCatalog(builtinCatalogPath("reservei")), refcheck: parsed.catalog };
}

const serviceOf = (catalog: Catalog, name: string): Service => catalog.services.find((s) => s.name === name)!;

/** Each service this test runs gets free loopback ports, set in the catalog the program reads. */
async function assignPorts(catalogs: Setup["catalogs"]): Promise<void> {
  for (const service of [serviceOf(catalogs.reservei, PUBLISHER), serviceOf(catalogs.reservei, CONSUMER)])
    service.port = await freePort();
  const consumer = serviceOf(catalogs.refcheck, LONG_CONSUMER);
  consumer.port = await freePort();
  consumer.health.metricsPort = await freePort();
}

/** Both catalogs' topologies and users, loaded at boot as the in-cluster broker does. */
function definitions(plans: TopologyPlan[], passwords: Record<string, string>, admin: Setup["admin"]) {
  const documents = plans.map((plan) => renderDefinitions(plan, passwords, admin) as Record<string, unknown[]>);
  const merged: Record<string, unknown[]> = {};
  for (const document of documents)
    for (const [key, items] of Object.entries(document)) merged[key] = [...(merged[key] ?? []), ...items];
  const seen = new Set<string>();
  merged.users = merged.users.filter(
    (user) => !seen.has((user as { name: string }).name) && !!seen.add((user as { name: string }).name),
  );
  return merged;
}

async function startBroker(setup: Pick<Setup, "plans" | "passwords" | "admin">, dir: string): Promise<RabbitmqNode> {
  const file = path.join(dir, "definitions.json");
  fs.writeFileSync(file, JSON.stringify(definitions(setup.plans, setup.passwords, setup.admin)));
  return startRabbitmq({ enabledPlugins: "[].", config: `load_definitions = ${file}\n` });
}

/** A database and login of this run for each service that runs. */
function createDatabases(services: string[]): Setup["databases"] {
  const databases: Setup["databases"] = {};
  for (const service of services) {
    const names = databaseNames(`${service}-${RUN}`);
    const password = `db-${randomBytes(8).toString("hex")}`;
    psql(`CREATE ROLE "${names.username}" LOGIN PASSWORD '${password}'`);
    psql(`CREATE DATABASE "${names.database}" OWNER "${names.username}"`);
    databases[service] = { name: names.database, username: names.username, password };
  }
  return databases;
}

function dropDatabases(databases: Setup["databases"]): void {
  for (const { name, username } of Object.values(databases)) {
    psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    psql(`DROP ROLE IF EXISTS "${username}"`);
  }
}

/** The endpoint contracts a target would hand the service, pointing at this test's servers. */
function endpointsOf(setup: Setup, plan: TopologyPlan, service: Service): ServiceEndpoints {
  const local = { kind: "local" as const };
  const endpoints: ServiceEndpoints = {
    tracing: { url: `http://127.0.0.1:${setup.otlp.port}`, port: setup.otlp.port, location: local },
  };
  const db = setup.databases[service.name];
  if (db) {
    const engine = DATABASE_ENGINES.postgres;
    const url = connectionUrl(
      engine.scheme,
      db.username,
      db.password,
      "127.0.0.1",
      engine.port,
      db.name,
      "sslmode=disable",
    );
    endpoints.database = {
      host: "127.0.0.1",
      port: engine.port,
      name: db.name,
      username: db.username,
      password: pulumi.secret(db.password),
      url: pulumi.secret(url),
      location: local,
    };
  }
  const user = plan.users.find((u) => u.service === service.name);
  if (user) {
    endpoints.broker = {
      endpoint: { host: "127.0.0.1", port: setup.broker.amqpPort, tls: false, vhost: plan.vhost, location: local },
      user: { ...serviceMessaging(user), password: pulumi.secret(setup.passwords[service.name]) },
    };
  }
  const master = setup.cache.initialMaster;
  endpoints.cache = {
    host: master.host,
    port: master.port,
    tls: false,
    password: pulumi.secret(CACHE.password),
    sentinel: {
      addresses: setup.cache.sentinels.map((s) => `${s.host}:${s.port}`),
      masterName: MASTER_NAME,
      password: pulumi.secret(CACHE.sentinelPassword),
    },
    location: local,
  };
  return endpoints;
}

/** serviceEnvironment under Pulumi's mocks, each value resolved to the string a container would get. */
async function environments(
  running: Array<{ catalog: Catalog; name: string; endpoints: (service: Service) => ServiceEndpoints }>,
): Promise<Record<string, Record<string, string>>> {
  const { result } = await runUnderMocks("reference-check", {}, () => {
    const owner = new pulumi.ComponentResource("test:index:ReferenceCheck", "reference-check");
    return running.map(({ catalog, name, endpoints }) => {
      const service = serviceOf(catalog, name);
      const contract = serviceEnvironment(service, {
        environment: "test",
        endpoints: endpoints(service),
        dependencyUrl: (dependency) => `http://127.0.0.1:${serviceOf(catalog, dependency).port}`,
        configSecrets: { services: {} },
        secretOwner: { name: "reference-check", parent: owner },
        // As dev runs it in place of a catalog's image: on the fixed names, whatever envContract says.
        runsReferenceService: true,
      });
      return { name, contract };
    });
  });
  const envs: Record<string, Record<string, string>> = {};
  for (const { name, contract } of result) {
    const values = await resolvedValues({ ...contract.env, ...contract.secretEnv });
    envs[name] = valuesOf(values);
  }
  return envs;
}

async function get(service: ServiceProcess, pathname: string, headers: Record<string, string> = {}) {
  const response = await fetch(service.url(pathname), { headers, signal: AbortSignal.timeout(20000) });
  return { status: response.status, body: (await response.json()) as any };
}

async function post(service: ServiceProcess, pathname: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(service.url(pathname), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function waitReady(service: ServiceProcess, timeoutMs: number): Promise<void> {
  try {
    await until(`${service.name} ready`, timeoutMs, async () =>
      (await get(service, service.env.READINESS_PATH)).status === 200 ? true : undefined,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; its output:\n${service.output.slice(-4000)}`);
  }
}

/** The service's log lines about one message, one per delivery, in order. */
const deliveriesOf = (service: ServiceProcess, messageId: string): LogLine[] =>
  service.logs.filter(
    (l) =>
      l.messageId === messageId &&
      ["message handled", "delivery failed; retrying", "dead-lettering a message"].includes(String(l.msg)),
  );

const traceparent = () => {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
};

function hasPromtool(): boolean {
  return hasBinary("promtool");
}

/**
 * `promtool test rules` input: the scraped counters at 1m steps with the labels Prometheus adds
 * (job, instance, and the service label of the dev scrape config), once with the 5xx series and
 * once without them.
 */
function errorRateTests(rules: string, scrapes: Sample[][], publisher: ServiceProcess) {
  const target = { job: PUBLISHER, instance: `${PUBLISHER}:${publisher.env.PORT}`, service: PUBLISHER };
  const keys = [...new Set(scrapes.flat().map((s) => JSON.stringify(s.labels)))];
  const valuesOf = (key: string) =>
    scrapes.map((scrape) => scrape.find((s) => JSON.stringify(s.labels) === key)?.value ?? "_");
  const series = keys.map((key) => {
    const labels = { ...JSON.parse(key), ...target } as Record<string, string>;
    const selector = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    return { key, status: labels.status, series: `http_requests_total{${selector.join(",")}}`, values: valuesOf(key) };
  });
  // The share the rule computes over the last five minutes (the traffic is linear, so rate() agrees).
  const increase = (s: (typeof series)[number]) => Number(s.values.at(-1)) - Number(s.values.at(-6));
  const errors = series.filter((s) => s.status.startsWith("5")).reduce((sum, s) => sum + increase(s), 0);
  const ratio = errors / series.reduce((sum, s) => sum + increase(s), 0);
  const rule = parse(rules).groups[0].rules.find((r: { alert: string }) => r.alert === "HighErrorRate");
  const annotations = {
    summary: rule.annotations.summary.replace("{{ $labels.service }}", PUBLISHER),
    description: rule.annotations.description.replace(
      "{{ $value | humanizePercentage }}",
      `${Number((ratio * 100).toPrecision(4))}%`,
    ),
  };
  const input = (withErrors: boolean) =>
    series
      .filter((s) => withErrors || !s.status.startsWith("5"))
      .map((s) => ({ series: s.series, values: s.values.join(" ") }));
  const evalTime = `${scrapes.length - 1}m`;
  return {
    rule_files: ["alerts.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: input(true),
        alert_rule_test: [
          {
            eval_time: evalTime,
            alertname: "HighErrorRate",
            exp_alerts: [{ exp_labels: { severity: "critical", service: PUBLISHER }, exp_annotations: annotations }],
          },
        ],
      },
      {
        interval: "1m",
        input_series: input(false),
        alert_rule_test: [{ eval_time: evalTime, alertname: "HighErrorRate", exp_alerts: [] }],
      },
    ],
  };
}

describe("the reference service, run with the environment the program computes", function () {
  this.timeout(120000);
  let setup: Setup;
  const cleanups: Array<() => unknown> = [];
  const service = (name: string) => setup.services[name];

  before(async function () {
    const missing = Object.entries({
      "redis-server": hasRedis(),
      "rabbitmq-server": hasRabbitmqServer(),
      "PostgreSQL on 127.0.0.1:5432 with psql": hasPostgres(),
    }).filter(([, present]) => !present);
    if (missing.length > 0) {
      console.log(
        `    (skipped: ${missing.map(([name]) => name).join(", ")} missing; .ci/run installs and starts them)`,
      );
      this.skip();
    }
    const started = Date.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reference-service-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const catalogs = loadCatalogs();
    await assignPorts(catalogs);
    const plans = [planTopology(catalogs.reservei), planTopology(catalogs.refcheck)];
    const passwords = Object.fromEntries(
      plans.flatMap((p) => p.users).map((u) => [u.service, `amqp-${u.service}-${RUN}`]),
    );
    const admin = { username: `reference-check-admin`, password: `admin-${RUN}`, tags: [] };
    const databases = createDatabases([PUBLISHER, CONSUMER, LONG_CONSUMER]);
    cleanups.push(() => dropDatabases(databases));
    const [cache, broker, otlp] = await Promise.all([
      startSentinelGroup(CACHE),
      startBroker({ plans, passwords, admin }, dir),
      startOtlpReceiver(),
    ]);
    cleanups.push(
      () => cache.stop(),
      () => broker.stop(),
      () => otlp.close(),
    );
    setup = { catalogs, plans, passwords, admin, cache, broker, otlp, databases, services: {} };

    const envs = await environments([
      { catalog: catalogs.reservei, name: PUBLISHER, endpoints: (s) => endpointsOf(setup, plans[0], s) },
      { catalog: catalogs.reservei, name: CONSUMER, endpoints: (s) => endpointsOf(setup, plans[0], s) },
      { catalog: catalogs.refcheck, name: LONG_CONSUMER, endpoints: (s) => endpointsOf(setup, plans[1], s) },
    ]);
    for (const [name, env] of Object.entries(envs)) setup.services[name] = new ServiceProcess(name, env);
    cleanups.push(() => Object.values(setup.services).forEach((s) => s.kill()));
    await Promise.all(Object.values(setup.services).map((s) => waitReady(s, 30000)));
    console.log(`      servers and 3 services up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        console.log(`      cleanup: ${(err as Error).message}`);
      }
    }
  });

  /** As the publisher of the test's catalog: its own login, its own routing key. */
  async function publisherChannel(): Promise<amqp.ConfirmChannel> {
    const user = setup.plans[1].users.find((u) => u.service === "refcheck-publisher")!;
    const url = connectionUrl(
      "amqp",
      user.username,
      setup.passwords[user.service],
      "127.0.0.1",
      setup.broker.amqpPort,
      setup.plans[1].vhost,
    );
    const connection = await amqp.connect(url);
    cleanups.push(() => connection.close().catch(() => undefined));
    return connection.createConfirmChannel();
  }

  /** The operator's view of the test catalog's vhost. */
  async function adminChannel(): Promise<amqp.Channel> {
    const { username, password } = setup.admin;
    const url = connectionUrl("amqp", username, password, "127.0.0.1", setup.broker.amqpPort, setup.plans[1].vhost);
    const connection = await amqp.connect(url);
    cleanups.push(() => connection.close().catch(() => undefined));
    return connection.createChannel();
  }

  it("gets the variables the contract names, and serves liveness, readiness and metrics where they say", async () => {
    const publisher = service(PUBLISHER);
    for (const name of ["DATABASE_URL", "REDIS_SENTINELS", "RABBITMQ_URL", "RABBITMQ_PUBLISHES", "READINESS_PATH"])
      assert.ok(publisher.env[name], `${name} not set by serviceEnvironment`);
    assert.equal((await get(publisher, publisher.env.HEALTH_PATH)).status, 200);
    const ready = await get(publisher, publisher.env.READINESS_PATH);
    assert.deepEqual(ready.body.checks, { database: "ok", cache: "ok", broker: "ok" });

    const consumer = service(LONG_CONSUMER);
    assert.deepEqual([consumer.env.HEALTH_PATH, consumer.env.READINESS_PATH], ["/healthz", "/readyz"]);
    assert.notEqual(consumer.env.METRICS_PORT, consumer.env.PORT);
    assert.deepEqual((await get(consumer, "/readyz")).body.checks, { database: "ok", broker: "ok" });
    assert.match(await consumer.scrape(), /^# HELP http_requests_total /m);
    // Its main port does not serve the metrics; any other GET describes the service.
    assert.equal((await get(consumer, "/prom")).body.service, LONG_CONSUMER);
  });

  it("publishes on a POST, and the consumer service records the event within the publisher's trace", async () => {
    const [publisher, consumer] = [service(PUBLISHER), service(CONSUMER)];
    const queue = `${CONSUMER}.bookings`;
    const consumedBefore = await consumer.metric("rabbitmq_messages_consumed_total", { queue });
    const trace = traceparent();
    const reply = await post(publisher, `/bookings?event=${CREATED}`, { room: 12 }, { traceparent: trace.header });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const messageId: string = reply.body.messageIds[CREATED];
    assert.deepEqual(Object.keys(reply.body.messageIds), [CREATED]);

    await until("the consumer handling the event", 10000, async () =>
      (await consumer.metric("rabbitmq_messages_consumed_total", { queue })) > consumedBefore ? true : undefined,
    );
    const db = setup.databases[CONSUMER];
    const row = psql(`SELECT payload->>'routingKey' FROM reference_events WHERE message_id = '${messageId}'`, db.name);
    assert.equal(row, CREATED, "the consumer recorded the message in its database");
    const handled = deliveriesOf(consumer, messageId);
    assert.equal(handled.length, 1);
    assert.equal(handled[0].trace_id, trace.traceId, "the message carried the publisher's traceparent");
    assert.equal((await publisher.metric("rabbitmq_messages_published_total", { routing_key: CREATED })) > 0, true);

    const refused = await post(publisher, "/bookings?event=booking.reservation.forged", {});
    assert.equal(refused.status, 400);
    const all = await post(publisher, "/bookings", { every: "key" });
    assert.equal(all.status, 202);
    assert.deepEqual(Object.keys(all.body.messageIds).sort(), publisher.env.RABBITMQ_PUBLISHES.split(",").sort());
  });

  it("sends its span to the OTLP endpoint and logs the request with that trace_id", async () => {
    const publisher = service(PUBLISHER);
    const trace = traceparent();
    assert.equal((await get(publisher, "/bookings/traced", { traceparent: trace.header })).status, 200);
    const traceBytes = Buffer.from(trace.traceId, "hex");
    const body = await until("the span at the OTLP receiver", 10000, () =>
      setup.otlp.bodies.find((b) => b.includes(traceBytes)),
    );
    assert.ok(body.includes(Buffer.from(PUBLISHER)), "the span's resource names the service");
    const line = publisher.logs.find((l) => l.msg === "request" && l.path === "/bookings/traced")!;
    assert.equal(line.trace_id, trace.traceId);
    assert.equal(line.service, PUBLISHER);
    assert.ok(body.includes(Buffer.from(String(line.span_id), "hex")), "the logged span is the exported one");
  });

  it("exposes metrics that pass promtool check metrics, and from which HighErrorRate fires", async function () {
    if (!hasPromtool()) {
      console.log("      (skipped: promtool not installed; .ci/run installs Debian's prometheus package)");
      return this.skip();
    }
    const publisher = service(PUBLISHER);
    execFileSync("promtool", ["check", "metrics"], {
      input: await publisher.scrape(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    // Each round stands for a minute of traffic: 10 requests, 2 of them answered 500.
    const scrapes: Sample[][] = [];
    for (let minute = 0; minute <= 11; minute++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          get(publisher, "/bookings/search", i < 2 ? { "x-reference-status": "500" } : {}),
        ),
      );
      scrapes.push(parseExposition(await publisher.scrape()).filter((s) => s.name === "http_requests_total"));
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reference-promtool-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const thresholds = ObservabilitySettingsSchema.parse({});
    const rules = renderAlertRules(
      [PUBLISHER],
      { errorRate: thresholds.errorRateThreshold, latencyP95Seconds: thresholds.latencyP95Seconds },
      { jobs: [] },
    );
    fs.writeFileSync(path.join(dir, "alerts.yml"), rules);
    fs.writeFileSync(path.join(dir, "alerts.test.yml"), stringify(errorRateTests(rules, scrapes, publisher)));
    const output = execFileSync("promtool", ["test", "rules", "alerts.test.yml"], { cwd: dir, encoding: "utf8" });
    assert.match(output, /SUCCESS/);
  });

  it("answers 503 on readiness while the broker is down, and publishes and consumes again once it is back", async () => {
    const [publisher, consumer] = [service(PUBLISHER), service(CONSUMER)];
    const stoppedAt = Date.now();
    setup.broker.ctl(["stop_app"]);
    const down = await until("booking-service not ready", 15000, async () => {
      const reply = await get(publisher, publisher.env.READINESS_PATH);
      return reply.status === 503 ? reply.body : undefined;
    });
    assert.equal(down.checks.database, "ok");
    assert.equal(down.checks.cache, "ok");
    assert.notEqual(down.checks.broker, "ok");
    assert.equal((await get(publisher, publisher.env.HEALTH_PATH)).status, 200, "liveness ignores the backends");
    const errorsBefore = await publisher.metric("rabbitmq_messages_publish_errors_total", { routing_key: CREATED });
    assert.equal((await post(publisher, `/bookings?event=${CREATED}`, {})).status, 503);
    assert.equal(
      await publisher.metric("rabbitmq_messages_publish_errors_total", { routing_key: CREATED }),
      errorsBefore + 1,
    );

    setup.broker.ctl(["start_app"]);
    const restartedAt = Date.now();
    await Promise.all([publisher, consumer].map((s) => waitReady(s, 30000)));
    console.log(
      `      broker down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s; ready again ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after it restarted`,
    );
    const queue = `${CONSUMER}.bookings`;
    const consumed = await consumer.metric("rabbitmq_messages_consumed_total", { queue });
    assert.equal((await post(publisher, `/bookings?event=${CREATED}`, { after: "restart" })).status, 202);
    await until("the consumer consuming again", 10000, async () =>
      (await consumer.metric("rabbitmq_messages_consumed_total", { queue })) > consumed ? true : undefined,
    );
  });

  it("counts writes in the cache again within the failover time after the Redis master dies", async () => {
    const publisher = service(PUBLISHER);
    await sentinelsAgree(setup.cache, CACHE.sentinelPassword, 20000);
    const write = () => post(publisher, `/bookings?event=${CREATED}`, { cache: "failover" });
    const first = await write();
    assert.equal(first.status, 202);
    const killedAt = Date.now();
    setup.cache.kill(setup.cache.initialMaster);
    const count = await until("a write through the service after the failover", 30000, async () => {
      const reply = await write();
      // The reply's body names the backend that refused (cache or broker), for a timeout's message.
      if (reply.status !== 202) throw new Error(`${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body.count as number;
    });
    const ms = Date.now() - killedAt;
    const [, master] = setup.cache.masterFromSentinel();
    console.log(`      writes counted again ${(ms / 1000).toFixed(1)} s after the master died (new master :${master})`);
    assert.notEqual(master, setup.cache.initialMaster.port);
    assert.ok(count > first.body.count, `count ${count} after ${first.body.count}: an acknowledged increment was lost`);
    assert.ok(ms < CACHE.failoverTimeoutMs, `took ${ms} ms`);
    assert.equal((await write()).body.count, count + 1);
    await waitReady(publisher, 10000);
  });

  describe("the retry protocol, on a consumer with maxAttempts 3, 200 ms then 400 ms", () => {
    const queue = `${LONG_CONSUMER}.items`;
    const dlq = `${queue}.dlq`;
    let publisher: amqp.ConfirmChannel;
    let operator: amqp.Channel;
    /** Dead letters read so far, by message id. */
    const deadLetters = new Map<string, amqp.GetMessage>();

    before(async () => {
      publisher = await publisherChannel();
      operator = await adminChannel();
    });

    async function publish(content: Buffer, headers: Record<string, string>): Promise<string> {
      const messageId = randomUUID();
      const options = { persistent: true, messageId, contentType: "application/json", headers };
      publisher.publish("refcheck.events", RETRY_ROUTING_KEY, content, options);
      await publisher.waitForConfirms();
      return messageId;
    }

    async function deadLetter(messageId: string, timeoutMs: number): Promise<amqp.GetMessage> {
      return until(`${messageId} in ${dlq}`, timeoutMs, async () => {
        for (let m = await operator.get(dlq, { noAck: true }); m; m = await operator.get(dlq, { noAck: true }))
          deadLetters.set(String(m.properties.messageId), m);
        return deadLetters.get(messageId);
      });
    }

    const counters = async () => {
      const consumer = service(LONG_CONSUMER);
      return {
        consumed: await consumer.metric("rabbitmq_messages_consumed_total", { queue }),
        retried: await consumer.metric("rabbitmq_messages_retried_total", { queue }),
        exhausted: await consumer.metric("rabbitmq_messages_dead_lettered_total", {
          queue,
          reason: "attempts_exhausted",
        }),
        unparseable: await consumer.metric("rabbitmq_messages_dead_lettered_total", { queue, reason: "unparseable" }),
      };
    };

    it("delivers a message that always fails maxAttempts times on the catalog's schedule, then dead-letters it", async () => {
      const consumer = service(LONG_CONSUMER);
      assert.equal(consumer.env.RABBITMQ_MAX_ATTEMPTS, `${queue}=3`);
      const before = await counters();
      const trace = traceparent();
      const body = Buffer.from(JSON.stringify({ item: "always" }));
      const messageId = await publish(body, { "x-reference-fail": "always", traceparent: trace.header });
      const dead = await deadLetter(messageId, 10000);

      const deliveries = deliveriesOf(consumer, messageId);
      assert.deepEqual(
        deliveries.map((d) => d.attempt),
        [1, 2, 3],
      );
      const times = deliveries.map((d) => Date.parse(String(d.time)));
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      const schedule = retryDelays(serviceOf(setup.catalogs.refcheck, LONG_CONSUMER).events.consumes[0].retry);
      console.log(
        `      deliveries ${gaps.map((g) => `+${g} ms`).join(", ")} apart (schedule ${schedule.join(", ")} ms)`,
      );
      assert.deepEqual(schedule, [200, 400]);
      gaps.forEach((gap, i) => assert.ok(gap >= schedule[i] && gap < schedule[i] + 1000, `retry ${i + 1}: ${gap} ms`));

      const headers = dead.properties.headers!;
      assert.equal(dead.content.toString(), body.toString());
      assert.equal(dead.properties.contentType, "application/json");
      assert.equal(headers["x-original-exchange"], "refcheck.events");
      assert.equal(headers["x-original-routing-key"], RETRY_ROUTING_KEY);
      assert.match(String(headers["x-last-error"]), /x-reference-fail: always \(delivery 3\)/);
      assert.equal(headers["x-dead-letter-reason"], "attempts_exhausted");
      assert.equal(headers["x-attempt"], 3);
      assert.equal(headers.traceparent, trace.header);
      // It went through the planned retry queues, each once.
      const parked = (headers["x-death"] as Array<{ queue: string }>).map((d) => d.queue).sort();
      assert.deepEqual(parked, [`${queue}.retry.1`, `${queue}.retry.2`]);
      const after = await counters();
      assert.deepEqual([after.retried - before.retried, after.exhausted - before.exhausted], [2, 1]);
    });

    it("acknowledges a message that fails twice then succeeds, leaving the DLQ empty", async () => {
      const consumer = service(LONG_CONSUMER);
      const before = await counters();
      const messageId = await publish(Buffer.from(JSON.stringify({ item: "twice" })), { "x-reference-fail": "2" });
      await until("the third delivery handled", 10000, () =>
        deliveriesOf(consumer, messageId).some((d) => d.msg === "message handled") ? true : undefined,
      );
      assert.deepEqual(
        deliveriesOf(consumer, messageId).map((d) => [d.attempt, d.msg]),
        [
          [1, "delivery failed; retrying"],
          [2, "delivery failed; retrying"],
          [3, "message handled"],
        ],
      );
      const after = await counters();
      assert.deepEqual([after.consumed - before.consumed, after.retried - before.retried], [1, 2]);
      assert.equal(after.exhausted, before.exhausted);
      assert.equal((await operator.checkQueue(dlq)).messageCount, 0);
      const db = setup.databases[LONG_CONSUMER];
      assert.equal(
        psql(`SELECT payload->>'attempt' FROM reference_events WHERE message_id = '${messageId}'`, db.name),
        "3",
      );
    });

    it("dead-letters a body that is not a JSON object at once", async () => {
      const consumer = service(LONG_CONSUMER);
      const before = await counters();
      const messageId = await publish(Buffer.from("{not json"), {});
      const dead = await deadLetter(messageId, 10000);
      assert.equal(dead.content.toString(), "{not json");
      assert.equal(dead.properties.headers!["x-dead-letter-reason"], "unparseable");
      assert.equal(dead.properties.headers!["x-attempt"], 1);
      assert.equal(dead.properties.headers!["x-original-routing-key"], RETRY_ROUTING_KEY);
      // The service logs before it publishes the copy, but its stdout may reach us after the copy does.
      await until("the dead-lettering log line", 5000, async () =>
        deliveriesOf(consumer, messageId).length > 0 ? true : undefined,
      );
      assert.deepEqual(
        deliveriesOf(consumer, messageId).map((d) => d.msg),
        ["dead-lettering a message"],
      );
      const after = await counters();
      assert.deepEqual([after.unparseable - before.unparseable, after.retried - before.retried], [1, 0]);
    });
    it("keeps a message whose dead-letter copy a full DLQ refuses, and dead-letters it once there is room", async () => {
      const consumer = service(LONG_CONSUMER);
      const before = await counters();
      const refusedLog = (id: string) =>
        consumer.logs.some((l) => l.messageId === id && l.msg === "copy refused; requeueing the delivery");
      // The DLQ holds 1 (x-max-length), but a quorum queue's reject-publish may take a message past
      // its bound before it refuses: dead-letter until a copy is refused.
      const taken: string[] = [];
      let refused: string | undefined;
      while (!refused) {
        assert.ok(taken.length <= 2, `the DLQ took ${taken.length} copies and refused none`);
        const id = await publish(Buffer.from(`dead ${taken.length + 1}`), {});
        const outcome = await until(`the copy of ${id} taken or refused`, 10000, async () => {
          if (refusedLog(id)) return "refused";
          return (await counters()).unparseable - before.unparseable > taken.length ? "taken" : undefined;
        });
        if (outcome === "taken") taken.push(id);
        else refused = id;
      }
      console.log(`      the DLQ (x-max-length 1) took ${taken.length} copies, then refused one`);
      for (const id of taken) await deadLetter(id, 1000);
      // The delivery was handed back to its queue a few seconds later, and dead-lettered then.
      assert.equal((await deadLetter(refused, 15000)).content.toString(), `dead ${taken.length + 1}`);
      const after = await counters();
      assert.equal(after.unparseable - before.unparseable, taken.length + 1, "each counted once, when the DLQ took it");
    });
  });

  // Nested, so that it runs last: mocha runs a block's own tests before its nested blocks.
  describe("shutdown", () => {
    it("exits 0 on SIGTERM within the 30 s grace period", async () => {
      const stopped = await Promise.all(
        Object.values(setup.services).map(async (s) => ({ service: s, ...(await s.terminate()) })),
      );
      for (const { service: s, code, ms } of stopped) {
        assert.equal(code, 0, `${s.name} exited ${code}:\n${s.output.slice(-2000)}`);
        assert.ok(ms < 30000, `${s.name} took ${ms} ms`);
        assert.ok(s.logs.some((l) => l.msg === "stopped"));
      }
      console.log(`      stopped in ${stopped.map((s) => `${s.ms} ms`).join(", ")}`);
    });
  });
});

const STORE_CATALOG = `
name: storecheck
description: The reference service on the other database engines
services:
  - name: clickhouse-store
    image: storecheck/clickhouse:1.0.0
    port: 8080
    resources: { cpu: 100m, memory: 128Mi }
    database: { kind: clickhouse }
    health: { readinessPath: /ready }
  - name: mongodb-store
    image: storecheck/mongodb:1.0.0
    port: 8081
    resources: { cpu: 100m, memory: 128Mi }
    database: { kind: mongodb }
    health: { readinessPath: /ready }
  # No readinessPath: the orchestrator probes readiness and liveness on one path.
  - name: shared-probe-path
    image: storecheck/mongodb:1.0.0
    port: 8082
    resources: { cpu: 100m, memory: 128Mi }
    database: { kind: mongodb }
`;

/** Answers ClickHouse's HTTP interface (`/ping`, and 200 to every query) and keeps what it was sent. */
async function fakeClickHouse() {
  const requests: Array<{ url: URL; authorization?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      requests.push({ url, authorization: req.headers.authorization, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(url.pathname === "/ping" ? "Ok.\n" : "");
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("the reference service's client by DATABASE_URL scheme (ClickHouse's HTTP interface, MongoDB)", function () {
  this.timeout(60000);
  const login = { username: "store_app", password: `store-${RUN}` };
  let clickhouse: Awaited<ReturnType<typeof fakeClickHouse>>;
  const services: Record<string, ServiceProcess> = {};

  before(async () => {
    const catalog = parseCatalog(STORE_CATALOG).catalog!;
    for (const s of catalog.services) s.port = await freePort();
    clickhouse = await fakeClickHouse();
    // Nothing listens there: MongoDB stays unreachable.
    const ports: Record<string, number> = { clickhouse: clickhouse.port, mongodb: await freePort() };
    const endpoints = (service: Service): ServiceEndpoints => {
      const kind = service.database.kind as "clickhouse" | "mongodb";
      const name = databaseNames(service.name).database;
      const url = connectionUrl(
        DATABASE_ENGINES[kind].scheme,
        login.username,
        login.password,
        "127.0.0.1",
        ports[kind],
        name,
      );
      const location = { kind: "local" as const };
      return {
        tracing: { url: `http://127.0.0.1:${ports.mongodb}`, port: ports.mongodb, location },
        database: {
          host: "127.0.0.1",
          port: ports[kind],
          name,
          username: login.username,
          password: pulumi.secret(login.password),
          url: pulumi.secret(url),
          location,
        },
      };
    };
    const envs = await environments(catalog.services.map((s) => ({ catalog, name: s.name, endpoints })));
    for (const [name, env] of Object.entries(envs)) services[name] = new ServiceProcess(name, env);
  });

  after(async () => {
    Object.values(services).forEach((s) => s.kill());
    await clickhouse?.close();
  });

  it("creates its table and records writes through ClickHouse's HTTP interface, with the URL's login and database", async () => {
    const store = services["clickhouse-store"];
    assert.match(store.env.DATABASE_URL, /^http:\/\//);
    await waitReady(store, 20000);
    assert.deepEqual((await get(store, store.env.READINESS_PATH)).body.checks, { database: "ok" });
    assert.equal((await post(store, "/items", { sku: 7 })).status, 202);
    const queries = clickhouse.requests.filter((r) => r.url.pathname !== "/ping");
    const create = queries.find((r) => /CREATE TABLE IF NOT EXISTS reference_events/.test(r.body + r.url.search))!;
    assert.ok(create, JSON.stringify(queries.map((q) => q.url.search)));
    const insert = queries.find((r) => /INSERT INTO reference_events/.test(r.url.searchParams.get("query") ?? ""))!;
    assert.match(insert.body, /"\/items"/);
    for (const request of [create, insert]) {
      assert.equal(request.url.searchParams.get("database"), store.env.DB_NAME);
      assert.equal(
        request.authorization,
        `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`,
      );
    }
  });

  it("uses the MongoDB driver for a mongodb:// URL, and is not ready while MongoDB is unreachable", async () => {
    const store = services["mongodb-store"];
    assert.match(store.env.DATABASE_URL, /^mongodb:\/\//);
    await until("mongodb-store answering", 20000, async () =>
      (await get(store, "/")).status === 200 ? true : undefined,
    );
    assert.equal((await get(store, "/")).body.uses.database, "mongodb");
    const ready = await get(store, store.env.READINESS_PATH);
    assert.equal(ready.status, 503);
    assert.notEqual(ready.body.checks.database, "ok");
    assert.equal((await post(store, "/items", {})).status, 503);
  });

  it("answers liveness on a path that serves both probes, so a database that is down gets nothing restarted", async () => {
    const shared = services["shared-probe-path"];
    assert.equal(shared.env.READINESS_PATH, shared.env.HEALTH_PATH);
    await until("shared-probe-path answering", 20000, async () =>
      (await get(shared, "/")).status === 200 ? true : undefined,
    );
    assert.equal((await post(shared, "/items", {})).status, 503, "its database is unreachable");
    assert.equal((await get(shared, shared.env.HEALTH_PATH)).status, 200);
  });
});
