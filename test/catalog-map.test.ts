// The system map (tools/catalogMap.ts, `npm run map`): nodes and edges of a small catalog's diagram, read
// back through a structural Mermaid check; one service's neighbourhood; names Mermaid would misread; the
// command on every seed and on a catalog file, and a catalog change showing in the map.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { stringify } from "yaml";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import { Catalog } from "../services/schema";
import { catalogMap } from "../tools/catalogMap";
import { COMMENT_MARKER, COMMENT_MAX_CHARS, mapComment, tooLarge } from "../tools/map";
import { generatedCatalog } from "../bench/rows";
import { catalogDocument, writeCatalog } from "./helpers/catalogFiles";
import { Flowchart, parseFlowchart } from "./helpers/mermaid";

const projectDir = path.join(__dirname, "..");

let nextPort = 8001;
const service = (name: string, rest: Record<string, unknown>) => ({
  name,
  image: `shop/${name}:1.0.0`,
  port: nextPort++,
  resources: { cpu: "100m", memory: "128Mi" },
  ...rest,
});

/** Four services: exact, `*` and `#` bindings, one binding nothing publishes, dependencies, both kinds of egress. */
const SHOP = {
  name: "shop",
  frontend: { image: "shop/web:1.0.0" },
  services: [
    service("orders", {
      database: { kind: "postgres" },
      cache: true,
      events: {
        publishes: ["sales.order.created", "sales.order.cancelled"],
        consumes: [
          { name: "payments", bindings: ["billing.payment.settled"], retry: { maxAttempts: 3, initialDelayMs: 1000 } },
        ],
      },
      routes: [
        { paths: ["/orders"], rateLimitPerMinute: 120 },
        { paths: ["/catalogue"], public: true },
      ],
      dependsOn: ["billing"],
    }),
    service("billing", {
      database: { kind: "mongodb" },
      events: {
        publishes: ["billing.payment.settled", "billing.invoice.issued"],
        consumes: [{ name: "orders", bindings: ["sales.order.created"] }],
      },
      egress: [{ host: "api.stripe.com", port: 443 }],
    }),
    service("audit", {
      database: { kind: "clickhouse" },
      events: {
        consumes: [
          {
            name: "everything",
            bindings: ["sales.#", "billing.*.settled", "shipping.parcel.sent"],
            retry: { maxAttempts: 4, initialDelayMs: 500, multiplier: 2 },
            dlq: { maxLength: 500 },
          },
        ],
      },
      egress: [{ cidr: "203.0.113.0/24", ports: [5432, 6432] }],
    }),
    service("reports", { dependsOn: ["audit"] }),
  ],
};

function catalogOf(document: unknown): Catalog {
  const { catalog, problems } = parseCatalog(stringify(document));
  assert.ok(catalog, JSON.stringify(problems));
  return catalog;
}

/** The node whose label starts with this line (a service's name, `queue <name>`, an exchange, a host). */
function nodeId(chart: Flowchart, firstLine: string): string {
  const found = [...chart.nodes].filter(([, node]) => node.label.split("\n")[0] === firstLine);
  assert.equal(found.length, 1, `one node labelled ${firstLine}: ${found.map(([id]) => id).join(", ")}`);
  return found[0][0];
}

const label = (chart: Flowchart, id: string) => chart.nodes.get(id)!.label.split("\n")[0];

/**
 * Every publisher to consumer queue path the diagram draws, with the key both of its edges carry:
 * `publisher -> exchange` labelled with the key, then `exchange -> queue` labelled with it too.
 */
function flows(chart: Flowchart): string[] {
  const keys = (edgeLabel?: string) => edgeLabel?.split("\n") ?? [];
  const isExchange = (id: string) => chart.nodes.get(id)!.shape === "{{";
  const published = chart.edges.filter((e) => chart.nodes.get(e.from)!.shape === "(" && isExchange(e.to));
  return published
    .flatMap((pub) =>
      chart.edges
        .filter((e) => e.from === pub.to && !e.dashed)
        .flatMap((delivery) =>
          keys(delivery.label)
            .filter((key) => keys(pub.label).includes(key))
            .map((key) => `${label(chart, pub.from)} ${key} -> ${label(chart, delivery.to).replace(/^queue /, "")}`),
        ),
    )
    .sort();
}

const edgeBetween = (chart: Flowchart, from: string, to: string) =>
  chart.edges.filter((e) => e.from === from && e.to === to);

describe("system map (tools/catalogMap.ts)", () => {
  const shop = catalogOf(SHOP);
  const chart = parseFlowchart(catalogMap(shop));

  it("draws every publisher to consumer flow with its routing key, through the key's domain exchange, and no other", () => {
    assert.deepEqual(flows(chart), [
      "billing billing.payment.settled -> audit.everything", // billing.*.settled
      "billing billing.payment.settled -> orders.payments",
      "orders sales.order.cancelled -> audit.everything", // sales.#
      "orders sales.order.created -> audit.everything",
      "orders sales.order.created -> billing.orders",
    ]);
    const billingEvents = nodeId(chart, "billing.events");
    assert.deepEqual(
      edgeBetween(chart, nodeId(chart, "billing"), billingEvents).map((e) => e.label),
      ["billing.payment.settled\nbilling.invoice.issued"],
      "a publisher's edge carries every key it publishes, consumed or not",
    );
  });

  it("draws no edge for a binding nothing publishes, and names it on the queue", () => {
    const shipping = nodeId(chart, "shipping.events");
    assert.deepEqual(
      chart.edges.filter((e) => e.from === shipping || e.to === shipping),
      [],
    );
    const audit = chart.nodes.get(nodeId(chart, "queue audit.everything"))!;
    assert.match(audit.label, /no publisher for shipping\.parcel\.sent/);
  });

  it("hangs each consumer queue on its service, with its retries, and its DLQ after the last attempt", () => {
    const queue = nodeId(chart, "queue audit.everything");
    assert.equal(chart.nodes.get(queue)!.label.split("\n")[1], "4 attempts, retries after 500 ms, 1 s, 2 s");
    assert.equal(edgeBetween(chart, queue, nodeId(chart, "audit")).length, 1);
    const dlq = nodeId(chart, "DLQ audit.everything.dlq");
    assert.equal(chart.nodes.get(dlq)!.label, "DLQ audit.everything.dlq\nat most 500 messages");
    assert.deepEqual(
      edgeBetween(chart, queue, dlq).map((e) => e.label),
      ["after 4 attempts"],
    );
    assert.match(chart.nodes.get(nodeId(chart, "queue billing.orders"))!.label, /1 attempt, no retry/);
  });

  it("groups services by the domain they publish in, with the domain's exchange; the others together", () => {
    const groupOf = (name: string) => chart.subgraphs.get(chart.nodes.get(nodeId(chart, name))!.subgraph!)!.label;
    assert.equal(groupOf("orders"), "sales domain");
    assert.equal(groupOf("sales.events"), "sales domain");
    assert.equal(groupOf("queue orders.payments"), "sales domain");
    assert.equal(groupOf("billing"), "billing domain");
    assert.equal(groupOf("audit"), "services that publish no events");
    assert.equal(groupOf("reports"), "services that publish no events");
    assert.equal(groupOf("api.stripe.com"), "outside the platform");
  });

  it("labels each service with its database and cache, and the gateway's edge with its routes", () => {
    const labelOf = (name: string) => chart.nodes.get(nodeId(chart, name))!.label;
    assert.equal(labelOf("orders"), "orders\nPostgreSQL 16 · Redis cache");
    assert.equal(labelOf("billing"), "billing\nMongoDB 7.0");
    assert.equal(labelOf("audit"), "audit\nClickHouse 24.8");
    assert.equal(labelOf("reports"), "reports\nno database");
    const gateway = nodeId(chart, "API gateway");
    assert.deepEqual(
      edgeBetween(chart, gateway, nodeId(chart, "orders")).map((e) => e.label),
      ["/orders · authenticated · 120/min\n/catalogue · public · 600/min"],
    );
    assert.deepEqual(
      edgeBetween(chart, gateway, nodeId(chart, "front end web")).map((e) => e.label),
      ["/ · public"],
    );
    assert.equal(chart.edges.filter((e) => e.from === gateway).length, 2, "only routed services and the front end");
  });

  it("draws dependsOn as dashed edges, and declared egress as edges to the outside hosts with their ports", () => {
    const dashed = chart.edges.filter((e) => e.dashed).map((e) => `${label(chart, e.from)} -> ${label(chart, e.to)}`);
    assert.deepEqual(dashed.sort(), ["orders -> billing", "reports -> audit"]);
    assert.deepEqual(
      edgeBetween(chart, nodeId(chart, "billing"), nodeId(chart, "api.stripe.com")).map((e) => e.label),
      ["port 443"],
    );
    assert.deepEqual(
      edgeBetween(chart, nodeId(chart, "audit"), nodeId(chart, "203.0.113.0/24")).map((e) => e.label),
      ["ports 5432, 6432"],
    );
  });

  it("shows one service's neighbourhood: its flows both ways, its dependencies and dependents, its own routes and egress", () => {
    const near = parseFlowchart(catalogMap(shop, { service: "billing" }));
    assert.deepEqual(flows(near), [
      "billing billing.payment.settled -> audit.everything",
      "billing billing.payment.settled -> orders.payments",
      "orders sales.order.created -> billing.orders",
    ]);
    const services = [...near.nodes.values()].filter((n) => n.shape === "(").map((n) => n.label.split("\n")[0]);
    assert.deepEqual(services.sort(), ["audit", "billing", "orders"], "reports neither exchanges events nor depends");
    assert.deepEqual(
      near.edges.filter((e) => e.dashed).map((e) => `${label(near, e.from)} -> ${label(near, e.to)}`),
      ["orders -> billing"],
    );
    const hosts = [...near.nodes.values()].filter((n) => n.shape === "([").map((n) => n.label);
    assert.deepEqual(hosts, ["api.stripe.com"], "audit's range is not billing's egress");
    assert.ok(![...near.nodes.values()].some((n) => n.label === "API gateway"), "billing has no routes");

    const reports = parseFlowchart(catalogMap(shop, { service: "reports" }));
    assert.deepEqual(
      [...reports.nodes.values()].map((n) => n.label.split("\n")[0]).sort(),
      ["audit", "reports"],
      "a service with no events: itself and what it depends on",
    );
  });

  it("gives names Mermaid would misread (keywords, o/x first, lookalikes, long names, #) ids of their own", () => {
    const long = `s${"a".repeat(61)}z`;
    const awkward = catalogOf({
      name: "awkward",
      services: [
        service("end", { events: { publishes: ["a-b.thing.done"] }, dependsOn: ["style"] }),
        service("style", { events: { publishes: ["a_b.thing.done", "a_b-.x.y"] } }),
        service("o-class", {
          events: { consumes: [{ name: "x", bindings: ["a-b.#", "a_b.*.done", "nothing.#"] }] },
          dependsOn: ["x-default"],
        }),
        service("x-default", { dependsOn: ["end", long] }),
        service(long, {}),
      ],
    });
    const text = catalogMap(awkward);
    const parsed = parseFlowchart(text);
    for (const name of ["end", "style", "o-class", "x-default", long, "a-b.events", "a_b.events", "a_b-.events"]) {
      nodeId(parsed, name);
    }
    assert.deepEqual(flows(parsed), ["end a-b.thing.done -> o-class.x", "style a_b.thing.done -> o-class.x"]);
    assert.match(parsed.nodes.get(nodeId(parsed, "queue o-class.x"))!.label, /no publisher for nothing\.#$/);
    assert.equal(parsed.edges.filter((e) => e.dashed).length, 4);
  });

  it("fails the structural check on what Mermaid would misread (the check can fail)", () => {
    const bad: Array<[string, RegExp]> = [
      ['flowchart LR\n  subgraph g ["x"]\n    a("a")', /never closed/],
      ['flowchart LR\n  a("a")\n  a --> b', /b is not declared/],
      ['flowchart LR\n  end_x("a")\n  style_a("b")', /'style_a' is no safe id/],
      ['flowchart LR\n  a("a#b")', /bare #/],
      ['flowchart LR\n  a("a")\n  b("b")\n  a --> b\n  end\n', /closes no subgraph/],
      ['flowchart LR\n  a("a")\n  ox("b")\n  a --> ox', /starts with o or x/],
    ];
    for (const [text, problem] of bad) assert.throws(() => parseFlowchart(text), problem, text);
  });

  it("draws every seed catalog as a flowchart Mermaid reads, every key published and consumed on it", () => {
    for (const name of BUILTIN_CATALOGS) {
      const catalog = loadCatalog(builtinCatalogPath(name));
      const seed = parseFlowchart(catalogMap(catalog));
      const drawn = flows(seed);
      for (const consumer of catalog.services) {
        for (const queue of consumer.events.consumes) {
          const reached = drawn.filter((f) => f.endsWith(` -> ${consumer.name}.${queue.name}`));
          assert.ok(reached.length > 0, `${name}: ${consumer.name}.${queue.name} receives nothing`);
        }
      }
    }
  });

  it("makes the pull-request comment: each changed catalog's map, or why it has none", () => {
    const broken = catalogDocument("finance");
    broken.services[1].events.consumes[0].retry.maxAttempts = 99;
    const files = [builtinCatalogPath("finance"), writeCatalog(broken)];
    const comment = mapComment(files);
    assert.ok(comment.startsWith(`${COMMENT_MARKER}\n`), "the workflow finds its comment by the marker");
    const blocks = comment.split("```mermaid\n").slice(1);
    assert.equal(blocks.length, 1, "one map, for the valid catalog");
    parseFlowchart(blocks[0].split("\n```")[0]);
    assert.match(comment, new RegExp(`### \`${files[1]}\`\n\nNo map: the catalog is invalid\\.`));
    assert.match(comment, /services\[1\]\.events\.consumes\[0\]\.retry\.maxAttempts/);
  });

  it("keeps the comment within what GitHub draws and accepts: no map past Mermaid's limits, none past the comment's", () => {
    const [huge, large] = [generatedCatalog(200), generatedCatalog(60)].map((document) => writeCatalog(document));
    assert.match(tooLarge(catalogMap(loadCatalog(huge)))!, /edges, above the 50000 and 500 Mermaid draws/);
    const hugeComment = mapComment([huge]);
    assert.ok(!hugeComment.includes("```mermaid"));
    assert.ok(hugeComment.includes(`\`npm run map -- ${huge} --service <name>\``));

    const largeMap = catalogMap(loadCatalog(large));
    assert.equal(tooLarge(largeMap), undefined);
    assert.ok(2 * largeMap.length > COMMENT_MAX_CHARS, "two of them do not fit one comment");
    const comment = mapComment([large, large]);
    assert.ok(comment.length <= COMMENT_MAX_CHARS, `${comment.length}`);
    assert.equal(comment.split("```mermaid").length, 2, "the first map only");
    assert.match(comment, /No map: the comment would pass GitHub's 65536 characters\.$/);
  });
});

/** `npm run --silent map -- args`: exit code, standard output and error. */
function npmMap(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "map", "--", ...args], {
      cwd: projectDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run map", function () {
  this.timeout(120000);

  it("draws each seed by name and a catalog file, as the renderer does", async () => {
    const runs: Array<{ code: number | null; stdout: string; stderr: string }> = [];
    for (let i = 0; i < BUILTIN_CATALOGS.length; i += 2) {
      runs.push(...(await Promise.all(BUILTIN_CATALOGS.slice(i, i + 2).map((name) => npmMap([name])))));
    }
    BUILTIN_CATALOGS.forEach((name, i) => {
      assert.equal(runs[i].code, 0, runs[i].stderr);
      assert.equal(runs[i].stdout.trimEnd(), catalogMap(loadCatalog(builtinCatalogPath(name))), name);
    });
    const file = writeCatalog(catalogDocument("erp"));
    const fromFile = await npmMap([file, "--service", "sales-service"]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(fromFile.stdout.trimEnd(), catalogMap(loadCatalog(file), { service: "sales-service" }));
  });

  it("shows a catalog change in the map: a new key reaches the consumers whose bindings match it", async () => {
    const document = catalogDocument("bookings");
    const payment = document.services.find((s: { name: string }) => s.name === "payment-service");
    payment.events.publishes.push("payment.payment.disputed");
    const before = parseFlowchart((await npmMap(["bookings"])).stdout.trimEnd());
    const after = parseFlowchart((await npmMap([writeCatalog(document)])).stdout.trimEnd());
    const disputed = (chart: Flowchart) => flows(chart).filter((f) => f.includes("payment.payment.disputed"));
    assert.deepEqual(disputed(before), []);
    // notification-service binds payment.payment.*; booking-service only processed and failed.
    assert.deepEqual(disputed(after), ["payment-service payment.payment.disputed -> notification-service.all-events"]);
  });
});
