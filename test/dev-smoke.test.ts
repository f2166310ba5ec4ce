import { strict as assert } from "assert";
import { execFile } from "child_process";
import { createHmac } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import { Catalog } from "../services/schema";
import { topicMatches } from "../services/validate";
import { planTopology } from "../components/messaging/topology";
import { consumedCount, evaluateTargets, eventPair, gatewayHeaders, serviceProbe } from "../tools/smokePlan";
import { SmokeOutputs, checkEvent, checkService, checkTargets } from "../tools/devSmoke";
import { freePort } from "./helpers/servers";

/** A catalog written for the cases the seeds lack; `services` are merged over a minimal entry each. */
function catalogOf(services: Record<string, unknown>[]): Catalog {
  const parsed = parseCatalog(
    JSON.stringify({
      name: "shop",
      services: services.map((s, i) => ({
        port: 9000 + i,
        resources: { cpu: "100m", memory: "64Mi" },
        image: "shop/x:1.0.0",
        ...s,
      })),
    }),
  );
  assert.deepEqual(
    parsed.problems.filter((p) => p.severity === "error"),
    [],
  );
  return parsed.catalog!;
}

async function startServer(handler: http.RequestListener): Promise<{ url: string; close(): void }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Kong's jwt plugin as configured (key_claim_name iss, claims_to_verify exp): HS256 over the first two parts. */
function verifyJwt(header: string | undefined, issuer: string, secret: string): boolean {
  const [head, payload, signature] = (header ?? "").replace(/^Bearer /, "").split(".");
  if (!signature) return false;
  const expected = createHmac("sha256", secret).update(`${head}.${payload}`).digest("base64url");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  const alg = JSON.parse(Buffer.from(head, "base64url").toString()).alg;
  return expected === signature && alg === "HS256" && claims.iss === issuer && claims.exp > Date.now() / 1000;
}

/** Prometheus 2.54's /api/v1/targets, trimmed to three targets: one up, one down, one not scraped yet. */
const TARGETS_RESPONSE = {
  status: "success",
  data: {
    activeTargets: [
      {
        discoveredLabels: { __address__: "booking-service:8001", __metrics_path__: "/metrics", job: "booking-service" },
        labels: { instance: "booking-service:8001", job: "booking-service", service: "booking-service" },
        scrapePool: "booking-service",
        scrapeUrl: "http://booking-service:8001/metrics",
        globalUrl: "http://booking-service:8001/metrics",
        lastError: "",
        lastScrape: "2026-11-29T23:40:01.123Z",
        lastScrapeDuration: 0.004,
        health: "up",
        scrapeInterval: "15s",
        scrapeTimeout: "10s",
      },
      {
        discoveredLabels: { __address__: "rabbitmq:15692", job: "rabbitmq" },
        labels: { instance: "rabbitmq:15692", job: "rabbitmq" },
        scrapePool: "rabbitmq",
        scrapeUrl: "http://rabbitmq:15692/metrics",
        globalUrl: "http://rabbitmq:15692/metrics",
        lastError: 'Get "http://rabbitmq:15692/metrics": dial tcp: lookup rabbitmq: no such host',
        lastScrape: "2026-11-29T23:40:02.456Z",
        lastScrapeDuration: 0.001,
        health: "down",
        scrapeInterval: "15s",
        scrapeTimeout: "10s",
      },
      {
        discoveredLabels: { __address__: "kong:8100", job: "kong" },
        labels: { instance: "kong:8100", job: "kong" },
        scrapePool: "kong",
        scrapeUrl: "http://kong:8100/metrics",
        globalUrl: "http://kong:8100/metrics",
        lastError: "",
        lastScrape: "0001-01-01T00:00:00Z",
        lastScrapeDuration: 0,
        health: "unknown",
        scrapeInterval: "15s",
        scrapeTimeout: "10s",
      },
    ],
    droppedTargets: [],
    droppedTargetCounts: { "booking-service": 0, rabbitmq: 0, kong: 0 },
  },
};

describe("dev smoke (tools/devSmoke.ts)", () => {
  describe("what it calls, from the catalog", () => {
    for (const name of BUILTIN_CATALOGS) {
      it(`${name}: a GET route through Kong per service, else its health path on loopback; one event a consumer binds`, () => {
        const catalog = loadCatalog(builtinCatalogPath(name));
        for (const service of catalog.services) {
          const probe = serviceProbe(service);
          const getRoutes = service.routes.filter((r) => !r.methods || r.methods.includes("GET"));
          if (getRoutes.length === 0) {
            assert.deepEqual(probe, { service: service.name, via: "loopback" });
            continue;
          }
          assert.equal(probe.via, "gateway");
          const route = getRoutes.find((r) => probe.via === "gateway" && r.paths.includes(probe.path))!;
          assert.ok(route, `${service.name}: ${JSON.stringify(probe)} is one of its routes`);
          assert.equal(probe.via === "gateway" && probe.authenticated, !route.public);
        }
        const pair = eventPair(catalog)!;
        assert.ok(pair, "every seed has a publisher with a route and a consumer of one of its keys");
        const publisher = catalog.services.find((s) => s.name === pair.publisher)!;
        assert.ok(publisher.events.publishes.includes(pair.routingKey));
        assert.ok(publisher.routes.some((r) => r.paths.includes(pair.path)));
        const queue = planTopology(catalog).bindings.filter((b) => b.destination === pair.queue);
        assert.ok(
          queue.some((b) => topicMatches(b.routingKey, pair.routingKey)),
          `${pair.queue} is bound to ${pair.routingKey}`,
        );
      });
    }

    it("bookings: GETs its reservations with the client's token and its login without one; the reservation goes to payments", () => {
      const catalog = loadCatalog(builtinCatalogPath("bookings"));
      const probe = (name: string) => serviceProbe(catalog.services.find((s) => s.name === name)!);
      assert.deepEqual(probe("booking-service"), {
        service: "booking-service",
        via: "gateway",
        path: "/reservations",
        authenticated: true,
      });
      assert.deepEqual(probe("auth-service"), {
        service: "auth-service",
        via: "gateway",
        path: "/auth/login",
        authenticated: false,
      });
      assert.deepEqual(eventPair(catalog), {
        publisher: "booking-service",
        path: "/reservations",
        authenticated: true,
        routingKey: "booking.reservation.created",
        consumer: "payment-service",
        queue: "payment-service.reservations",
        metricsPath: "/metrics",
      });
    });

    it("goes by methods, wildcard bindings and where the consumer's metrics are published", () => {
      const catalog = catalogOf([
        { name: "worker" },
        {
          name: "orders",
          routes: [
            { paths: ["/orders/search"], methods: ["GET"] },
            { paths: ["/orders"], methods: ["POST"], public: true },
          ],
          events: { publishes: ["shop.order.created"] },
        },
        {
          name: "audit",
          health: { metricsPort: 9100, metricsPath: "/prom" },
          events: { consumes: [{ name: "all", bindings: ["shop.#"] }] },
        },
        {
          name: "mailer",
          health: { metricsPath: "/prom" },
          events: { consumes: [{ name: "orders", bindings: ["shop.*.created"] }] },
        },
        { name: "upload", routes: [{ paths: ["/upload"], methods: ["POST"] }] },
      ]);
      const probe = (name: string) => serviceProbe(catalog.services.find((s) => s.name === name)!);
      assert.deepEqual(probe("worker"), { service: "worker", via: "loopback" }, "no route");
      assert.deepEqual(probe("upload"), { service: "upload", via: "loopback" }, "Kong sends it POSTs only");
      assert.deepEqual(probe("orders"), {
        service: "orders",
        via: "gateway",
        path: "/orders/search",
        authenticated: true,
      });
      assert.deepEqual(eventPair(catalog), {
        publisher: "orders",
        path: "/orders",
        authenticated: false,
        routingKey: "shop.order.created",
        // audit binds shop.# first, but its metrics port is not published on loopback.
        consumer: "mailer",
        queue: "mailer.orders",
        metricsPath: "/prom",
      });
      assert.equal(eventPair(catalogOf([{ name: "a", events: { publishes: ["shop.order.created"] } }])), undefined);
    });

    it("counts a queue's consumed messages in Prometheus' text format, 0 before the first", () => {
      const metrics = [
        "# HELP rabbitmq_messages_consumed_total Deliveries handled successfully",
        "# TYPE rabbitmq_messages_consumed_total counter",
        'rabbitmq_messages_consumed_total{queue="mailer.orders"} 3',
        'rabbitmq_messages_consumed_total{queue="mailer.orders.other"} 40',
        'rabbitmq_messages_consumed_total{service="mailer",queue="mailer.orders"} 2',
        'rabbitmq_messages_retried_total{queue="mailer.orders"} 7',
        'http_requests_total{route="/x \\"y\\"",queue="mailer.orders"} 100',
      ].join("\n");
      assert.equal(consumedCount(metrics, "mailer.orders"), 5);
      assert.equal(consumedCount("# nothing consumed yet\n", "mailer.orders"), 0);
    });

    it("reads Prometheus' targets as up, down with its error, or not scraped yet, and refuses another shape", () => {
      assert.deepEqual(evaluateTargets(TARGETS_RESPONSE), {
        up: 1,
        pending: ["kong (kong:8100)"],
        down: [
          {
            target: "rabbitmq (rabbitmq:15692)",
            error: 'Get "http://rabbitmq:15692/metrics": dial tcp: lookup rabbitmq: no such host',
          },
        ],
      });
      assert.throws(() => evaluateTargets({ status: "error", error: "bad" }), /not a Prometheus targets response/);
    });

    it("signs a JWT Kong's jwt plugin accepts for the client's issuer, or sends the API key", () => {
      const credential = { kind: "jwt" as const, issuer: "bookings-issuer", secret: "s3cret-s3cret" };
      const { authorization } = gatewayHeaders(credential, Math.floor(Date.now() / 1000));
      assert.ok(verifyJwt(authorization, "bookings-issuer", "s3cret-s3cret"));
      assert.ok(!verifyJwt(authorization, "bookings-issuer", "another"));
      const expired = gatewayHeaders(credential, Math.floor(Date.now() / 1000) - 3600).authorization;
      assert.ok(!verifyJwt(expired, "bookings-issuer", "s3cret-s3cret"), "valid for minutes only");
      assert.deepEqual(gatewayHeaders({ kind: "key-auth", key: "k-123" }, 0), { apikey: "k-123" });
    });
  });

  describe("over HTTP, against local stand-ins", () => {
    const servers: Array<{ close(): void }> = [];
    const serve = async (handler: http.RequestListener) => {
      const server = await startServer(handler);
      servers.push(server);
      return server.url;
    };
    after(() => servers.forEach((s) => s.close()));
    const credential = { kind: "jwt" as const, issuer: "shop-issuer", secret: "kong-secret" };

    it("passes a service Kong answers with the client's token, and names the refusal of a stale one", async () => {
      const gateway = await serve((req, res) =>
        res.writeHead(verifyJwt(req.headers.authorization, credential.issuer, credential.secret) ? 200 : 401).end(),
      );
      const outputs: SmokeOutputs = {
        catalog: "shop",
        gatewayUrl: gateway,
        prometheusUrl: "",
        services: {},
        gatewayCredential: credential,
      };
      const probe = { service: "orders", via: "gateway" as const, path: "/orders", authenticated: true };
      assert.equal(await checkService(probe, outputs), undefined);
      const stale = await checkService(probe, { ...outputs, gatewayCredential: { ...credential, secret: "old" } });
      assert.match(stale!.detail, /^GET http:\/\/127\.0\.0\.1:\d+\/orders: HTTP 401$/);
      assert.match(stale!.hint, /gatewayCredential/);
    });

    it("sees an event through: POST through Kong, then the consumer's count of the queue goes up", async () => {
      let consumed = 0;
      const consumer = await serve((_req, res) =>
        res.writeHead(200).end(`rabbitmq_messages_consumed_total{queue="mailer.orders"} ${consumed}\n`),
      );
      const posted: string[] = [];
      const gateway = await serve((req, res) => {
        posted.push(`${req.method} ${req.url}`);
        // The consumer gets it a little later, as through the broker.
        setTimeout(() => consumed++, 300);
        res.writeHead(202).end('{"messageIds":["m-1"]}');
      });
      const pair = eventPair(
        catalogOf([
          {
            name: "orders",
            routes: [{ paths: ["/orders"], public: true }],
            events: { publishes: ["shop.order.created"] },
          },
          { name: "mailer", events: { consumes: [{ name: "orders", bindings: ["shop.*.created"] }] } },
        ]),
      )!;
      const outputs: SmokeOutputs = {
        catalog: "shop",
        gatewayUrl: gateway,
        prometheusUrl: "",
        rabbitmqManagementUrl: "http://127.0.0.1:15672",
        services: { mailer: { url: consumer, healthUrl: `${consumer}/health` } },
      };
      assert.equal(await checkEvent(pair, outputs, 5000), undefined);
      assert.deepEqual(posted, ["POST /orders?event=shop.order.created"]);

      const lost = await checkEvent(
        pair,
        { ...outputs, gatewayUrl: await serve((_q, res) => res.writeHead(202).end()) },
        1500,
      );
      assert.equal(lost!.detail, "published, but mailer counted nothing on mailer.orders in 1500 ms");
      assert.match(
        lost!.hint,
        /mailer\.orders and mailer\.orders\.dlq in RabbitMQ's management UI \(http:\/\/127\.0\.0\.1:15672\/#\/queues\)/,
      );
    });

    it("waits for targets Prometheus has not scraped yet, then reports each down one with its error", async () => {
      let calls = 0;
      const prometheus = await serve((_req, res) => {
        calls++;
        const targets = TARGETS_RESPONSE.data.activeTargets.map((t) =>
          t.health === "unknown" && calls > 1 ? { ...t, health: "up" } : t,
        );
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ ...TARGETS_RESPONSE, data: { ...TARGETS_RESPONSE.data, activeTargets: targets } }));
      });
      const failures = await checkTargets(prometheus, 10000);
      assert.equal(calls, 2, "asked again once kong was not scraped yet");
      assert.deepEqual(
        failures.map((f) => [f.check, f.detail]),
        [
          [
            "prometheus target rabbitmq (rabbitmq:15692)",
            'Get "http://rabbitmq:15692/metrics": dial tcp: lookup rabbitmq: no such host',
          ],
        ],
      );
      const stillPending = await checkTargets(
        await serve((_q, res) => res.writeHead(200).end(JSON.stringify(TARGETS_RESPONSE))),
        0,
      );
      assert.deepEqual(
        stillPending.map((f) => f.check),
        ["prometheus target rabbitmq (rabbitmq:15692)", "prometheus target kong (kong:8100)"],
      );
    });

    it("prints one line per failure with a hint, and exits 1 without a stack trace, when the stack is not up", async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const catalog = loadCatalog(builtinCatalogPath("bookings"));
      const outputs = {
        catalog: "bookings",
        gatewayUrl: closed,
        prometheusUrl: closed,
        services: Object.fromEntries(
          catalog.services.map((s) => [s.name, { url: closed, healthUrl: `${closed}/health` }]),
        ),
        gatewayCredential: credential,
      };
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "smoke-")), "outputs.json");
      fs.writeFileSync(file, JSON.stringify(outputs));
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ["--require", "tsx/cjs", "tools/devSmoke.ts", "--stack", "dev", "--outputs", file, "--wait", "500"],
          { cwd: path.join(__dirname, "..") },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
      assert.equal(code, 1);
      assert.equal(stderr, "");
      const failures = stdout.split("\n").filter((line) => line.startsWith("FAIL "));
      // Each service, the event, and Prometheus.
      assert.equal(failures.length, catalog.services.length + 2, stdout);
      for (const line of failures) assert.match(line, /^FAIL [^:]+: .*ECONNREFUSED.* — hint: \S/);
      assert.doesNotMatch(stdout, /^\s+at /m, "no stack trace");
      assert.match(stdout, new RegExp(`smoke of stack dev: 0 checks ok, ${failures.length} failed`));
    });
  });
});
