import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import * as amqp from "amqplib";
import { renderAlertRules } from "../components/observability/alertRules";
import { renderDefinitions } from "../components/messaging/definitions";
import { planTopology } from "../components/messaging/topology";
import { RABBITMQ } from "../components/engines";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { runProgram } from "../stacks/program";
import { RecordedResource, runUnderMocks } from "../tools/mockRun";
import { devConfig } from "./helpers/stackConfigs";
import { freePort, hasRabbitmqServer, startRabbitmq } from "./helpers/servers";
import { checkKong } from "./helpers/kongSchema";
import { lokiRetentionProblems } from "./helpers/lokiRetention";

function hasPromtool(): boolean {
  try {
    execFileSync("promtool", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync("promtool", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const failure = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  }
}

const series = (name: string, values: string) => ({ series: name, values });

/** One mocked dev run per catalog, shared by every check in this file. */
const runs = new Map<string, Promise<RecordedResource[]>>();
function devRun(catalog: string): Promise<{ resources: RecordedResource[] }> {
  if (!runs.has(catalog))
    runs.set(
      catalog,
      runUnderMocks("dev", devConfig(catalog), () => runProgram(path.join(__dirname, ".."))).then(
        (run) => run.resources,
      ),
    );
  return runs.get(catalog)!.then((resources) => ({ resources }));
}

/** The files the dev program uploads into a container, by path. */
const uploadsOf = (resources: RecordedResource[], container: string): Record<string, string> =>
  Object.fromEntries(
    (
      resources.find((r) => r.inputs.name === container)!.inputs.uploads as Array<{ file: string; content: string }>
    ).map((u) => [u.file, u.content]),
  );

/** Traffic of one service for 20 minutes: `errorsPerMinute` of 100 requests fail, latency in one bucket. */
function traffic(errorsPerMinute: number, latencyBucket: "1" | "2", publishErrorsPerMinute: number, up: 0 | 1) {
  return [
    series('http_requests_total{service="orders",status="200"}', `0+${100 - errorsPerMinute}x20`),
    series('http_requests_total{service="orders",status="500"}', `0+${errorsPerMinute}x20`),
    series('http_request_duration_seconds_bucket{service="orders",le="0.5"}', "0x20"),
    series(
      'http_request_duration_seconds_bucket{service="orders",le="1"}',
      latencyBucket === "1" ? "0+100x20" : "0x20",
    ),
    series('http_request_duration_seconds_bucket{service="orders",le="2"}', "0+100x20"),
    series('http_request_duration_seconds_bucket{service="orders",le="+Inf"}', "0+100x20"),
    series('rabbitmq_messages_publish_errors_total{service="orders"}', `0+${publishErrorsPerMinute}x20`),
    series('up{job="orders"}', `${up}x20`),
  ];
}

describe("Prometheus config and alert rules with promtool", function () {
  let dir: string;
  before(function () {
    if (!hasPromtool()) {
      console.log("    (skipped: promtool not installed; .ci/run installs Debian's prometheus package)");
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  for (const catalog of BUILTIN_CATALOGS) {
    it(`accepts the prometheus.yml and rules the dev program renders for ${catalog}`, async () => {
      const run = await devRun(catalog);
      const prometheus = run.resources.find((r) => r.inputs.name === `${catalog}-dev-prometheus`)!;
      const file = (suffix: string) =>
        prometheus.inputs.uploads.find((u: any) => u.file.endsWith(suffix)).content as string;
      const config = parse(file("prometheus.yml"));
      config.rule_files = [path.join(dir, `${catalog}-alerts.yml`)];
      fs.writeFileSync(path.join(dir, `${catalog}-alerts.yml`), file("alerts.yml"));
      fs.writeFileSync(path.join(dir, `${catalog}-prometheus.yml`), stringify(config));
      const output = promtool(["check", "config", `${catalog}-prometheus.yml`], dir);
      assert.match(output, /SUCCESS/);
      assert.match(promtool(["check", "rules", `${catalog}-alerts.yml`], dir), /SUCCESS: \d+ rules found/);
    });
  }

  it("fires each alert when it should and stays quiet otherwise (promtool test rules)", () => {
    fs.writeFileSync(
      path.join(dir, "alerts.yml"),
      renderAlertRules(["orders"], { errorRate: 0.05, latencyP95Seconds: 1 }, { jobs: [] }),
    );
    const expect = (alertname: string, labels: Record<string, string>, summary: string, description: string) => ({
      eval_time: "15m",
      alertname,
      exp_alerts: [{ exp_labels: labels, exp_annotations: { summary, description } }],
    });
    const quiet = (alertname: string) => ({ eval_time: "15m", alertname, exp_alerts: [] });
    const alerts = ["HighErrorRate", "HighLatency", "RabbitMQPublishErrors", "ServiceDown"];
    fs.writeFileSync(
      path.join(dir, "alerts.test.yml"),
      stringify({
        rule_files: ["alerts.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            // 10% errors, p95 of 1.95 s, one publish error a second, target down
            interval: "1m",
            input_series: traffic(10, "2", 60, 0),
            alert_rule_test: [
              expect(
                "HighErrorRate",
                { severity: "critical", service: "orders" },
                "orders: more than 5% of requests fail",
                "5xx share is 10% over 5 minutes.",
              ),
              expect(
                "HighLatency",
                { severity: "warning", service: "orders" },
                "orders: p95 latency above 1s",
                "p95 latency is 1.95s.",
              ),
              expect(
                "RabbitMQPublishErrors",
                { severity: "critical", service: "orders" },
                "orders: publishing to RabbitMQ fails",
                "1 publish errors per second.",
              ),
              expect(
                "ServiceDown",
                { severity: "critical", service: "orders", job: "orders" },
                "orders is down",
                "Prometheus cannot scrape orders for 1 minute.",
              ),
            ],
          },
          {
            // 1% errors (under 5%), p95 under 1 s, no publish errors, target up
            interval: "1m",
            input_series: traffic(1, "1", 0, 1),
            alert_rule_test: alerts.map(quiet),
          },
        ],
      }),
    );
    assert.match(promtool(["test", "rules", "alerts.test.yml"], dir), /SUCCESS/);
  });

  it("fires DeadLetterQueueNotEmpty when a DLQ holds messages for longer than 5m, and only then", () => {
    fs.writeFileSync(
      path.join(dir, "dlq-alerts.yml"),
      renderAlertRules(
        ["orders"],
        { errorRate: 0.05, latencyP95Seconds: 1 },
        {
          jobs: ["rabbitmq", "rabbitmq-queues"],
          queueDepth: { job: "rabbitmq-queues", metric: "rabbitmq_detailed_queue_messages" },
        },
      ),
    );
    const depth = (queue: string, values: string) =>
      series(`rabbitmq_detailed_queue_messages{job="rabbitmq-queues",vhost="shop",queue="${queue}"}`, values);
    const firing = {
      exp_labels: { severity: "warning", vhost: "shop", queue: "orders.payments.dlq" },
      exp_annotations: {
        summary: "orders.payments.dlq holds dead letters",
        description: "1 message(s) for 5m: inspect, replay or purge them before the DLQ fills.",
      },
    };
    fs.writeFileSync(
      path.join(dir, "dlq-alerts.test.yml"),
      stringify({
        rule_files: ["dlq-alerts.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              depth("orders.payments.dlq", "0 0 1x12"), // a dead letter from minute 2 on
              depth("orders.refunds.dlq", "0 1 1 1 0x10"), // one, replayed after 3 minutes
              depth("orders.payments", "5x14"), // a backlog on a consumer queue is not a dead letter
            ],
            alert_rule_test: [
              { eval_time: "6m", alertname: "DeadLetterQueueNotEmpty", exp_alerts: [] },
              { eval_time: "8m", alertname: "DeadLetterQueueNotEmpty", exp_alerts: [firing] },
            ],
          },
        ],
      }),
    );
    assert.match(promtool(["test", "rules", "dlq-alerts.test.yml"], dir), /SUCCESS/);
  });
});

describe("the DLQ alert's metric as the dev Prometheus scrapes it (a RabbitMQ node of its own)", function () {
  this.timeout(120000);
  before(function () {
    if (!hasRabbitmqServer()) {
      console.log("    (skipped: rabbitmq-server not installed; .ci/run installs Debian's package)");
      this.skip();
    }
  });

  it("the rabbitmq-queues job's path and params return each DLQ's depth with vhost and queue labels", async () => {
    const catalog = "user-enrichment";
    const { resources } = await devRun(catalog);
    const uploads = (container: string) => uploadsOf(resources, `${catalog}-dev-${container}`);
    const prometheus = uploads("prometheus");
    const file = (suffix: string) => Object.entries(prometheus).find(([name]) => name.endsWith(suffix))![1];
    const job = parse(file("prometheus.yml")).scrape_configs.find((j: any) => j.job_name === "rabbitmq-queues");
    assert.deepEqual(job.static_configs, [{ targets: [`rabbitmq:${RABBITMQ.prometheusPort}`] }]);
    const rule = parse(file("alerts.yml"))
      .groups.flatMap((g: any) => g.rules)
      .find((r: any) => r.alert === "DeadLetterQueueNotEmpty");
    const metric = /rabbitmq_\w+/.exec(rule.expr)![0];

    // The broker container's plugins, and the catalog's topology loaded at boot as the in-cluster broker does.
    const plan = planTopology(loadCatalog(builtinCatalogPath(catalog)));
    const admin = { username: "check-admin", password: `pw-${process.pid}`, tags: ["administrator"] };
    const passwords = Object.fromEntries(plan.users.map((u) => [u.service, `pw-${u.service}`]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "definitions-"));
    const definitions = path.join(dir, "definitions.json");
    fs.writeFileSync(definitions, JSON.stringify(renderDefinitions(plan, passwords, admin)));
    const [metricsPort, managementPort] = [await freePort(), await freePort()];
    const node = await startRabbitmq({
      enabledPlugins: uploads("rabbitmq")["/etc/rabbitmq/enabled_plugins"],
      config: [
        `prometheus.tcp.port = ${metricsPort}`,
        "prometheus.tcp.ip = 127.0.0.1",
        `management.tcp.port = ${managementPort}`,
        "management.tcp.ip = 127.0.0.1",
        `load_definitions = ${definitions}`,
      ].join("\n"),
    });
    try {
      const connection = await amqp.connect(
        `amqp://${admin.username}:${admin.password}@127.0.0.1:${node.amqpPort}/${encodeURIComponent(plan.vhost)}`,
      );
      const channel = await connection.createConfirmChannel();
      channel.sendToQueue("enrichment-service.users.dlq", Buffer.from("dead"));
      await channel.waitForConfirms();
      await connection.close();

      const query = new URLSearchParams(
        Object.entries(job.params as Record<string, string[]>).flatMap(([k, vs]) =>
          vs.map((v): [string, string] => [k, v]),
        ),
      );
      const url = `http://127.0.0.1:${metricsPort}${job.metrics_path}?${query}`;
      const sample = `${metric}{vhost="${plan.vhost}",queue="enrichment-service.users.dlq"} 1`;
      // The plugin refreshes queue statistics every few seconds.
      const deadline = Date.now() + 30000;
      let body = await (await fetch(url)).text();
      while (!body.split("\n").includes(sample) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        body = await (await fetch(url)).text();
      }
      assert.ok(body.split("\n").includes(sample), `${sample} not in\n${body}`);
      for (const queue of plan.queues.filter((q) => q.role === "dead-letter"))
        assert.ok(body.includes(`queue="${queue.name}"`), queue.name);
      const aggregate = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.ok(!aggregate.includes('queue="'), "the rabbitmq job's /metrics has no per-queue series");
      console.log(`      ${job.metrics_path}?${query} served ${sample}`);
    } finally {
      await node.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Kong, Grafana, Loki and Promtail have no binary on these machines, so the files the dev program
 * uploads are checked against the fields and values their documentation defines (Kong's: its 3.9
 * schemas, test/helpers/kongSchema.ts).
 */

function checkGrafana(datasources: any, dashboards: any[]): string[] {
  const problems: string[] = [];
  if (datasources.apiVersion !== 1) problems.push("datasources apiVersion must be 1");
  const uids = new Set<string>();
  for (const ds of datasources.datasources ?? []) {
    if (!ds.name || !ds.type || !/^https?:\/\//.test(ds.url) || !["proxy", "direct"].includes(ds.access))
      problems.push(`datasource ${ds.name}: name, type, url, access`);
    if (!ds.uid || ds.uid.length > 40 || uids.has(ds.uid)) problems.push(`datasource ${ds.name}: uid`);
    uids.add(ds.uid);
  }
  if (datasources.datasources.filter((d: any) => d.isDefault).length !== 1)
    problems.push("exactly one default datasource");
  for (const board of dashboards) {
    if (!board.uid || board.uid.length > 40 || !board.title || typeof board.schemaVersion !== "number")
      problems.push(`dashboard ${board.title}: uid, title, schemaVersion`);
    for (const panel of board.panels ?? []) {
      const { x, w } = panel.gridPos ?? {};
      if (!(x >= 0 && w > 0 && x + w <= 24))
        problems.push(`${board.uid} panel ${panel.title}: gridPos outside the 24 columns`);
      if (!uids.has(panel.datasource?.uid))
        problems.push(`${board.uid} panel ${panel.title}: datasource ${panel.datasource?.uid} is not provisioned`);
    }
  }
  return problems;
}

function checkLoki(config: any): string[] {
  const problems: string[] = [];
  for (const period of config.schema_config?.configs ?? []) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(period.from)) problems.push("schema from must be YYYY-MM-DD");
    if (period.store === "tsdb" && (period.schema !== "v13" || period.index?.period !== "24h"))
      problems.push("tsdb needs schema v13 and a 24h index period");
  }
  if (!(config.server?.http_listen_port > 0)) problems.push("server.http_listen_port");
  if (!config.common?.storage?.filesystem?.chunks_directory) problems.push("filesystem storage needs chunks_directory");
  return problems;
}

function checkPromtail(config: any): string[] {
  const problems: string[] = [];
  if (!(config.clients ?? []).every((c: any) => /^https?:\/\/.+\/loki\/api\/v1\/push$/.test(c.url)))
    problems.push("clients need the push URL");
  if (!config.positions?.filename) problems.push("positions.filename");
  const jobs = (config.scrape_configs ?? []).map((j: any) => j.job_name);
  if (new Set(jobs).size !== jobs.length) problems.push("job names repeat");
  for (const job of config.scrape_configs ?? []) {
    for (const sd of job.docker_sd_configs ?? [])
      if (!/^(unix|tcp):\/\//.test(sd.host)) problems.push("docker_sd host must be unix:// or tcp://");
    for (const relabel of job.relabel_configs ?? [])
      if (!relabel.target_label || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(relabel.target_label))
        problems.push(`target_label ${relabel.target_label}`);
  }
  return problems;
}

describe("rendered files against their documented formats (no binary here)", () => {
  for (const catalog of BUILTIN_CATALOGS) {
    it(`${catalog}: Kong, Grafana, Loki and Promtail files have the documented fields and values`, async () => {
      const run = await devRun(catalog);
      const prefix = `${catalog}-dev`;
      assert.deepEqual(
        checkKong(parse(uploadsOf(run.resources, `${prefix}-kong-bootstrap`)["/kong/declarative/kong.yml"])),
        [],
      );
      const grafana = uploadsOf(run.resources, `${prefix}-grafana`);
      const dashboards = Object.entries(grafana)
        .filter(([file]) => file.endsWith(".json"))
        .map(([, json]) => JSON.parse(json));
      assert.deepEqual(
        checkGrafana(parse(grafana["/etc/grafana/provisioning/datasources/platform.yaml"]), dashboards),
        [],
      );
      const loki = parse(uploadsOf(run.resources, `${prefix}-loki`)["/etc/loki/local-config.yaml"]);
      assert.deepEqual(checkLoki(loki), []);
      const lokiVolume = run.resources.find((r) => r.inputs.name === `${prefix}-loki`)!.inputs.volumes[0];
      assert.ok(lokiVolume.volumeName, "Loki's data on a named volume");
      assert.deepEqual(lokiRetentionProblems(loki, lokiVolume.containerPath), [], "retention applies");
      assert.deepEqual(
        checkPromtail(parse(uploadsOf(run.resources, `${prefix}-promtail`)["/etc/promtail/config.yml"])),
        [],
      );
    });
  }

  it("a stack with clients of both kinds and one Redis: Kong's consumers, credentials and redis counters have Kong 3.9's fields", async () => {
    const run = await runUnderMocks(
      "dev",
      {
        ...devConfig("bookings", { cache: { mode: "single" }, gatewayDatabase: "off" }),
        "platform:gateway": JSON.stringify({
          clients: [{ name: "mobile-app" }, { name: "partner", credential: "key-auth", rateLimitPerMinute: 100 }],
        }),
      },
      () => runProgram(path.join(__dirname, "..")),
    );
    const config = parse(uploadsOf(run.resources, "bookings-dev-kong")["/kong/declarative/kong.yml"]);
    assert.deepEqual(checkKong(config), []);
    assert.deepEqual(
      config.consumers.map((c: any) => c.username),
      ["mobile-app", "partner", "anonymous"],
    );
    assert.equal(config.services[0].routes[0].plugins[0].config.redis.host, "redis");
  });

  it("the checks catch what they look for", () => {
    assert.ok(
      checkKong({
        _format_version: "2.1",
        services: [
          {
            name: "a",
            url: "a:1",
            routes: [
              {
                name: "r",
                paths: ["x"],
                plugins: [{ name: "rate-limiting", config: { minute: 1, policy: "global", limit_by: "ip" } }],
              },
            ],
          },
        ],
      }).length >= 3,
    );
    // Sentinel fields are Kong Enterprise's; a redis policy needs its host; anonymous must be a consumer.
    assert.deepEqual(
      checkKong({
        _format_version: "3.0",
        consumers: [
          {
            username: "a",
            keyauth_credentials: [{ key: "k" }],
            plugins: [
              { name: "rate-limiting", config: { minute: 1, policy: "redis", redis: { sentinel_master: "m" } } },
            ],
          },
          { username: "b", keyauth_credentials: [{ key: "k" }] },
        ],
        plugins: [{ name: "key-auth", config: { anonymous: "nobody" } }],
      }),
      [
        "consumer a: rate-limiting redis: unknown field sentinel_master",
        "consumer a: rate-limiting redis needs redis.host and redis.port",
        "global: key-auth anonymous names no consumer",
        "consumer b: key missing or repeated",
      ],
    );
    assert.ok(
      checkGrafana(
        { apiVersion: 1, datasources: [{ name: "P", type: "prometheus", access: "proxy", url: "http://p", uid: "p" }] },
        [
          {
            uid: "d",
            title: "D",
            schemaVersion: 39,
            panels: [{ title: "x", gridPos: { x: 12, w: 24 }, datasource: { uid: "loki" } }],
          },
        ],
      ).length >= 3,
    );
    assert.ok(
      checkLoki({ schema_config: { configs: [{ from: "yesterday", store: "tsdb", schema: "v12" }] } }).length >= 3,
    );
    assert.ok(
      checkPromtail({ clients: [{ url: "http://loki" }], scrape_configs: [{ job_name: "a" }, { job_name: "a" }] })
        .length >= 3,
    );
  });
});
