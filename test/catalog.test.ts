import { strict as assert } from "assert";
import { stringify } from "yaml";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog, parseCatalog, readCatalogFile } from "../services/load";
import { CatalogInput, DATABASE_VERSIONS } from "../services/schema";
import { dependencyOrder, topicMatches } from "../services/validate";
import { ValidationError } from "../services/problems";
import { cpuCores, memoryBytes, memoryMiB } from "../services/quantities";

/** A small valid catalog that each test breaks in one or more ways. */
function catalog(overrides: (c: any) => void = () => undefined): string {
  const c: CatalogInput = {
    name: "shop",
    services: [
      {
        name: "orders",
        image: "shop/orders:1.0.0",
        port: 8001,
        resources: { cpu: "500m", memory: "256Mi" },
        database: { kind: "postgres" },
        events: { publishes: ["sales.order.created"], consumes: [] },
        routes: [{ paths: ["/orders"] }],
      },
      {
        name: "mailer",
        image: "shop/mailer:1.0.0",
        port: 8002,
        resources: { cpu: "0.25", memory: "128Mi" },
        events: { publishes: [], consumes: [{ name: "orders", bindings: ["sales.order.*"] }] },
        dependsOn: ["orders"],
      },
    ],
  };
  overrides(c);
  return stringify(c);
}

function problemsOf(text: string) {
  return parseCatalog(text).problems.map((p) => `${p.severity} ${p.path}: ${p.message}`);
}

describe("service catalog", () => {
  for (const name of BUILTIN_CATALOGS) {
    it(`built-in catalog '${name}' is valid and has no warnings`, () => {
      const result = parseCatalog(require("fs").readFileSync(builtinCatalogPath(name), "utf8"));
      assert.deepEqual(result.problems, []);
      assert.ok(result.catalog!.services.length >= 2);
    });
  }

  it("fills defaults: one replica, no database, /health and /metrics", () => {
    const parsed = parseCatalog(catalog()).catalog!;
    const mailer = parsed.services[1];
    assert.equal(mailer.replicas, 1);
    assert.deepEqual(mailer.database, { kind: "none" });
    assert.equal(mailer.health.path, "/health");
    assert.equal(mailer.health.metricsPath, "/metrics");
    assert.equal(parsed.services[0].database.kind === "postgres" && parsed.services[0].database.version, "16");
  });

  it("reports every structural problem at once, each with its field path", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].name = "Orders_Service";
        c.services[0].database = { kind: "oracle" };
        c.services[0].resources.memory = "lots";
        c.services[1].resources.cpu = "two";
        c.services[1].image = "shop/mailer";
        c.services[0].events.publishes = ["order-created"];
      }),
    );
    const expectPath = (path: string, text: RegExp) =>
      assert.ok(
        problems.some((p) => p.startsWith(`error ${path}:`) && text.test(p)),
        `${path} missing in:\n${problems.join("\n")}`,
      );
    expectPath("services[0].name", /DNS-1123/);
    expectPath("services[0].database.kind", /unknown database kind/);
    expectPath("services[0].resources.memory", /memory quantity/);
    expectPath("services[1].resources.cpu", /CPU quantity/);
    expectPath("services[1].image", /explicit tag/);
    expectPath("services[0].events.publishes[0]", /\{domain\}\.\{entity\}\.\{action\}/);
    assert.equal(problems.length, 6);
  });

  it("refuses a database version the engine table has no image for, naming the field and the supported versions", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].database = { kind: "postgres", version: "17" };
        c.services[1].database = { kind: "mongodb", version: 7 };
      }),
    );
    assert.equal(problems.length, 2, problems.join("\n"));
    const [postgres, mongodb] = problems;
    assert.match(
      postgres,
      /^error services\[0\]\.database\.version: "17" is not supported; supported PostgreSQL versions: /,
    );
    assert.match(
      mongodb,
      /^error services\[1\]\.database\.version: must be a quoted version; supported MongoDB versions: /,
    );
    for (const version of DATABASE_VERSIONS.postgres) assert.ok(postgres.includes(`"${version}"`), postgres);
    for (const version of DATABASE_VERSIONS.mongodb) assert.ok(mongodb.includes(`"${version}"`), mongodb);
    const clickhouse = problemsOf(catalog((c) => (c.services[0].database = { kind: "clickhouse", version: "23.3" })));
    assert.deepEqual(clickhouse, [
      `error services[0].database.version: "23.3" is not supported; supported ClickHouse versions: ${DATABASE_VERSIONS.clickhouse.map((v) => `"${v}"`).join(", ")} (each runs one exact image, pinned in components/engines.ts)`,
    ]);
  });

  it("rejects unknown fields instead of ignoring a typo", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].replica = 3;
      }),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0], /services\[0\].*replica/);
  });

  it("rejects duplicate names, port clashes and unknown dependencies together", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services.push({ ...c.services[1], dependsOn: ["billing"] });
      }),
    );
    assert.ok(
      problems.some((p) => /services\[2\]\.name: duplicate service name 'mailer'/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /services\[2\]\.port: host port 8002 clashes with service 'mailer'/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /services\[2\]\.dependsOn\[0\]: unknown service 'billing'/.test(p)),
      problems.join("\n"),
    );
  });

  it("rejects names taken by platform containers or another service's database", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].name = "grafana";
        c.services[1].name = "grafana-db";
        c.services[1].dependsOn = [];
      }),
    );
    assert.ok(
      problems.some((p) => /services\[0\]\.name: 'grafana' is the name of a platform container/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /services\[1\]\.name: 'grafana-db' is the name of grafana's database container/.test(p)),
      problems.join("\n"),
    );
  });

  it("lets services share a container port when their host ports differ", () => {
    const text = catalog((c) => {
      c.services[1].port = 8001;
      c.services[1].hostPort = 9002;
    });
    assert.deepEqual(problemsOf(text), []);
  });

  it("reports a dependency cycle with its path", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].dependsOn = ["mailer"];
      }),
    );
    assert.ok(
      problems.some((p) => /dependency cycle: (orders -> mailer -> orders|mailer -> orders -> mailer)/.test(p)),
      problems.join("\n"),
    );
  });

  it("gives the front end defaults, resolves its assets beside the catalog, and keeps / and its name for it", () => {
    const parsed = parseCatalog(
      catalog((c) => {
        c.frontend = { image: "shop/web:2.0.0" };
      }),
    );
    assert.deepEqual(parsed.catalog!.frontend, {
      name: "web",
      image: "shop/web:2.0.0",
      port: 8080,
      resources: { cpu: "250m", memory: "128Mi" },
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-"));
    fs.writeFileSync(
      path.join(dir, "shop.yaml"),
      catalog((c) => {
        c.frontend = { image: "shop/web:2.0.0", assetsDir: "web/dist" };
      }),
    );
    assert.equal(
      readCatalogFile(path.join(dir, "shop.yaml")).catalog!.frontend!.assetsDir,
      path.join(dir, "web", "dist"),
    );
    assert.match(
      problemsOf(
        catalog((c) => {
          c.frontend = { image: "shop/web" };
        }),
      ).join("\n"),
      /error frontend.image: must be an image reference with an explicit tag/,
    );
    const problems = problemsOf(
      catalog((c) => {
        c.frontend = { name: "orders", image: "shop/web:2.0.0" };
        c.services[1].routes = [{ paths: ["/"] }];
      }),
    );
    for (const expected of [
      /error frontend.name: 'orders' is already the name of a service/,
      /error services\[1\]\.routes\[0\]\.paths\[0\]: path '\/' is already routed to 'the front end'/,
    ])
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} not in\n${problems.join("\n")}`,
      );
  });

  it("rejects a self dependency, env that the platform sets, and duplicate routes", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].dependsOn = ["orders"];
        c.services[0].env = { DATABASE_URL: "postgres://x" };
        c.services[1].env = { ORDERS_URL: "http://elsewhere" };
        c.services[1].routes = [{ paths: ["/orders", "/platform/health"] }];
      }),
    );
    for (const expected of [
      /services\[0\]\.dependsOn\[0\]: a service cannot depend on itself/,
      /services\[0\]\.env\.DATABASE_URL: is set by the platform/,
      /services\[1\]\.env\.ORDERS_URL: is set by the platform/,
      /services\[1\]\.routes\[0\]\.paths\[0\]: path '\/orders' is already routed to 'orders'/,
      /services\[1\]\.routes\[0\]\.paths\[1\]: path '\/platform\/health' is already routed to 'the gateway's own health check'/,
    ])
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} not in\n${problems.join("\n")}`,
      );
  });

  it("reads egress as hosts on a port and ranges on ports; a service without it calls nothing outside", () => {
    const egress = [
      { host: "api.stripe.com", port: 443 },
      { host: "api.stripe.com", port: 8443 },
      { cidr: "203.0.113.0/24", ports: [443, 8443] },
      { cidr: "198.51.100.7/32", ports: [22] },
    ];
    const result = parseCatalog(
      catalog((c) => {
        c.services[0].egress = egress;
      }),
    );
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.catalog!.services[0].egress, egress);
    assert.deepEqual(result.catalog!.services[1].egress, []);
  });

  it("rejects malformed egress entries, each by its field path", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].egress = [
          { host: "API.stripe.com", port: 443 },
          { host: "localhost", port: 443 },
          { host: "10.1.2.3", port: 443 },
          { host: "api.stripe.com", port: 0 },
          { cidr: "203.0.113.0/24", ports: [65536] },
          { cidr: "2001:db8::/32", ports: [443] },
          { cidr: "203.0.113.0/24", ports: [] },
          { host: "api.stripe.com", ports: [443] },
          { host: "api.stripe.com", cidr: "203.0.113.0/24", port: 443 },
        ];
      }),
    );
    const host = "must be a lowercase DNS name such as api.stripe.com (an address is a cidr: x.x.x.x/32)";
    const shape = "an entry is { host, port } or { cidr, ports }";
    assert.deepEqual(problems, [
      `error services[0].egress[0].host: ${host}`,
      `error services[0].egress[1].host: ${host}`,
      `error services[0].egress[2].host: ${host}`,
      "error services[0].egress[3].port: Too small: expected number to be >=1",
      "error services[0].egress[4].ports[0]: Too big: expected number to be <=65535",
      "error services[0].egress[5].cidr: must be an IPv4 CIDR such as 203.0.113.0/24",
      "error services[0].egress[6].ports: Too small: expected array to have >=1 items",
      `error services[0].egress[7]: must be one of: ${shape}`,
      `error services[0].egress[8]: unknown key cidr: ${shape}`,
    ]);
  });

  it("rejects egress that opens every address, the metadata service, a bad range, or an entry twice", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[0].egress = [
          { cidr: "0.0.0.0/0", ports: [443] },
          { cidr: "203.0.113.7/24", ports: [443] },
          { cidr: "300.1.2.0/24", ports: [443] },
          { cidr: "169.254.0.0/16", ports: [80] },
          { cidr: "128.0.0.0/1", ports: [443] },
          { cidr: "198.51.100.0/24", ports: [443, 8443, 443] },
          { host: "api.stripe.com", port: 443 },
          { host: "api.stripe.com", port: 443 },
          { cidr: "198.51.100.0/24", ports: [22] },
        ];
      }),
    );
    assert.deepEqual(problems, [
      "error services[0].egress[0].cidr: would open every address: list the hosts the service calls as { host, port } instead",
      "error services[0].egress[1].cidr: must be written 203.0.113.0/24: a range's address has no bits past its prefix",
      "error services[0].egress[2].cidr: is not an IPv4 CIDR: octets are 0-255, the prefix at most 32",
      "error services[0].egress[3].cidr: holds the instance metadata address 169.254.169.254, which no service may reach",
      "error services[0].egress[4].cidr: holds the instance metadata address 169.254.169.254, which no service may reach",
      "error services[0].egress[5].ports: port 443 is listed twice",
      "error services[0].egress[7]: api.stripe.com:443 is already egress[6]",
      "error services[0].egress[8]: 198.51.100.0/24 is already egress[5]",
    ]);
  });

  it("warns, without failing, when a consumer binds a key that nobody publishes", () => {
    const result = parseCatalog(
      catalog((c) => {
        c.services[1].events.consumes[0].bindings = ["billing.invoice.paid"];
      }),
    );
    assert.ok(result.catalog, "a warning must not reject the catalog");
    assert.deepEqual(
      result.problems.map((p) => [p.severity, p.path]),
      [["warning", "services[1].events.consumes[0].bindings[0]"]],
    );
  });

  it("rejects binding patterns whose domain is a wildcard (no exchange to bind to)", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[1].events.consumes[0].bindings = ["*.order.created"];
      }),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0], /bindings\[0\]: must be a binding pattern/);
  });

  it("defaults a retry's maxDelayMs to 24 hours and a DLQ's bound to 10000 messages", () => {
    const consumer = parseCatalog(
      catalog((c) => {
        c.services[1].events.consumes[0].retry = { maxAttempts: 2, initialDelayMs: 1000 };
      }),
    ).catalog!.services[1].events.consumes[0];
    assert.deepEqual(consumer.retry, { maxAttempts: 2, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 86400000 });
    assert.deepEqual(consumer.dlq, { maxLength: 10000 });
  });

  it("checks the delay of every retry attempt against maxDelayMs, naming the consumer and the first attempt over it", () => {
    const text = catalog((c) => {
      c.services[1].events.consumes = [
        {
          name: "orders",
          bindings: ["sales.order.*"],
          retry: { maxAttempts: 10, initialDelayMs: 60000, multiplier: 10 },
        },
        {
          name: "refunds",
          bindings: ["sales.order.*"],
          retry: { maxAttempts: 4, initialDelayMs: 5000, maxDelayMs: 9000 },
        },
        // The last retry waits exactly maxDelayMs: allowed.
        {
          name: "audit",
          bindings: ["sales.order.*"],
          retry: { maxAttempts: 3, initialDelayMs: 4500, maxDelayMs: 9000 },
        },
      ];
    });
    const advice = "lower initialDelayMs, multiplier or maxAttempts, or raise maxDelayMs up to 315360000000";
    assert.deepEqual(problemsOf(text), [
      "error services[1].events.consumes[0].retry: retry 5 waits 600000000 ms, above maxDelayMs 86400000 " +
        `(retries 5 to 9 all do: ${advice})`,
      "error services[1].events.consumes[1].retry: retry 2 waits 10000 ms, above maxDelayMs 9000 " +
        `(retries 2 to 3 all do: ${advice})`,
    ]);
    assert.equal(parseCatalog(text).catalog, undefined, "nothing to deploy");
  });

  it("caps maxDelayMs and messageTtlMs at RabbitMQ's x-message-ttl ceiling, 315360000000 ms", () => {
    const withTtl = (ttl: number) =>
      problemsOf(
        catalog((c) => {
          c.services[1].events.consumes[0].retry = { maxAttempts: 1, initialDelayMs: 1000, maxDelayMs: ttl };
          c.services[1].events.consumes[0].messageTtlMs = ttl;
        }),
      );
    assert.deepEqual(withTtl(315360000000), []);
    const message = "must be at most 315360000000 ms, the longest x-message-ttl RabbitMQ accepts";
    assert.deepEqual(withTtl(315360000001), [
      `error services[1].events.consumes[0].retry.maxDelayMs: ${message}`,
      `error services[1].events.consumes[0].messageTtlMs: ${message}`,
    ]);
  });

  it("rejects a DLQ bound that is not a positive count, and unknown DLQ fields", () => {
    const problems = problemsOf(
      catalog((c) => {
        c.services[1].events.consumes[0].dlq = { maxLength: 0, maxLengthBytes: 1.5, overflow: "drop-head" };
      }),
    );
    assert.equal(problems.length, 3, problems.join("\n"));
    for (const field of ["maxLength", "maxLengthBytes"])
      assert.ok(problems.some((p) => p.startsWith(`error services[1].events.consumes[0].dlq.${field}:`)));
    assert.ok(problems.some((p) => /dlq.*overflow/.test(p)));
  });

  it("rejects routing keys, binding patterns and domain exchanges longer than AMQP allows", () => {
    const key = `sales.order.${"c".repeat(244)}`;
    const domain = "d".repeat(249);
    const errors = (publish: string, bind: string) =>
      problemsOf(
        catalog((c) => {
          c.services[0].events.publishes = [publish];
          c.services[1].events.consumes[0].bindings = [bind, "sales.order.*"];
        }),
      ).filter((p) => p.startsWith("error"));
    assert.deepEqual(errors(key, `${domain}.#`), [
      `error services[0].events.publishes[0]: '${key}' is longer than the 255 bytes AMQP allows`,
      `error services[1].events.consumes[0].bindings[0]: '${domain}.events' is longer than the 255 bytes AMQP allows`,
    ]);
    // At the limit: a 255-byte key, and a domain whose exchange has 255 bytes.
    assert.deepEqual(errors(key.slice(1), `${domain.slice(1)}.#`), []);
  });

  it("rejects an extension name PostgreSQL would cut", () => {
    const problems = problemsOf(catalog((c) => (c.services[0].database.extensions = ["e".repeat(64)])));
    assert.deepEqual(problems, [
      "error services[0].database.extensions[0]: must be at most 63 characters (PostgreSQL's identifier limit)",
    ]);
  });

  it("refuses a singleton with more than one replica, and defaults to none", () => {
    assert.deepEqual(
      problemsOf(
        catalog((c) => {
          c.services[1].singleton = true;
          c.services[1].replicas = 3;
        }),
      ),
      ["error services[1].replicas: is 3, but a singleton (singleton: true) runs one pod"],
    );
    assert.deepEqual(problemsOf(catalog((c) => (c.services[1].singleton = true))), []);
    assert.equal(parseCatalog(catalog()).catalog!.services[0].singleton, false);
  });

  it("rejects invalid YAML with the source named", () => {
    const problems = parseCatalog("services: [unclosed", "platform:catalogFile").problems;
    assert.equal(problems.length, 1);
    assert.match(problems[0].path, /platform:catalogFile/);
    assert.match(problems[0].message, /not valid YAML/);
  });

  it("loadCatalog throws one ValidationError listing every problem", () => {
    const fs = require("fs") as typeof import("fs");
    const file = require("path").join(require("os").tmpdir(), `catalog-${process.pid}.yaml`);
    fs.writeFileSync(
      file,
      catalog((c) => {
        c.services[0].port = 0;
        c.services[1].replicas = 0;
      }),
    );
    try {
      assert.throws(
        () => loadCatalog(file),
        (e: unknown) => {
          assert.ok(e instanceof ValidationError);
          assert.equal(e.problems.length, 2);
          assert.match(e.message, /services\[0\]\.port/);
          assert.match(e.message, /services\[1\]\.replicas/);
          return true;
        },
      );
    } finally {
      fs.unlinkSync(file);
    }
  });

  it("orders services after their dependencies", () => {
    const parsed = parseCatalog(
      catalog((c) => {
        c.services.reverse();
      }),
    ).catalog!;
    assert.deepEqual(
      dependencyOrder(parsed.services).map((s) => s.name),
      ["orders", "mailer"],
    );
  });
});

describe("topic matching", () => {
  const cases: Array<[string, string, boolean]> = [
    ["sales.order.created", "sales.order.created", true],
    ["sales.order.*", "sales.order.created", true],
    ["sales.*.created", "sales.invoice.created", true],
    ["sales.*", "sales.order.created", false],
    ["sales.#", "sales.order.created", true],
    ["sales.#", "sales", true],
    ["sales.order.#", "sales.order.created", true],
    ["sales.order.created", "sales.order.cancelled", false],
    ["billing.#", "sales.order.created", false],
  ];
  for (const [pattern, key, expected] of cases) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${key}`, () =>
      assert.equal(topicMatches(pattern, key), expected));
  }
});

describe("resource quantities", () => {
  it("parses binary and decimal memory units", () => {
    assert.equal(memoryBytes("512Mi"), 512 * 1024 * 1024);
    assert.equal(memoryBytes("1G"), 1e9);
    assert.equal(memoryBytes("1.5Gi"), 1.5 * 1024 ** 3);
    assert.equal(memoryMiB("1G"), 954);
    assert.equal(memoryMiB("100"), 1);
    assert.throws(() => memoryBytes("1TB"), /invalid memory quantity/);
  });

  it("parses millicores and cores", () => {
    assert.equal(cpuCores("500m"), 0.5);
    assert.equal(cpuCores("1.5"), 1.5);
    assert.throws(() => cpuCores("half"), /invalid cpu quantity/);
  });
});
