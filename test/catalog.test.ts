import { strict as assert } from "assert";
import { stringify } from "yaml";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog, parseCatalog, readCatalogFile } from "../services/load";
import { CatalogInput } from "../services/schema";
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
