import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { freePort, hasBinary, startRedis } from "./helpers/servers";
import { builtinCatalogPath, loadCatalog } from "../services/load";
import {
  MASTER_NAME,
  SENTINEL_QUORUM,
  planCacheNodes,
  redisMaxmemoryMiB,
  renderRedisConf,
  renderSentinelConf,
} from "../components/cache/redisConfig";
import {
  GatewayClient,
  KongRedis,
  RateLimitCounters,
  kongDeclarativeConfig,
  renderKongConfig,
} from "../components/gateway/kongConfig";
import { prometheusConfig, renderPrometheusConfig } from "../components/observability/prometheusConfig";
import { alertRules } from "../components/observability/alertRules";
import { storeAlarms } from "../components/aws/storeAlarms";
import { grafanaDashboardProvider, grafanaDatasources } from "../components/observability/grafanaProvisioning";
import { catalogDashboards, serviceDashboard } from "../components/observability/grafanaDashboards";
import {
  elasticsearchSetupScript,
  filebeatConfig,
  filebeatKubernetesConfig,
  logstashPipeline,
  lokiConfig,
  promtailConfig,
} from "../components/observability/logsConfig";

const bookings = loadCatalog(builtinCatalogPath("bookings"));
const directives = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((line) => line.split(" "));

describe("Redis and Sentinel config", () => {
  const settings = {
    password: "p4ss",
    masterHost: "redis-master",
    minReplicasToWrite: 1,
    minReplicasMaxLagSeconds: 10,
    maxmemoryMiB: 96,
    evictionPolicy: "volatile-lru" as const,
  };

  it("plans 1 master, 2 replicas and 3 sentinels, or a single node", () => {
    assert.deepEqual(
      planCacheNodes("sentinel").map((n) => n.role),
      ["master", "replica", "replica", "sentinel", "sentinel", "sentinel"],
    );
    assert.deepEqual(
      planCacheNodes("single").map((n) => n.host),
      ["redis"],
    );
  });

  it("makes replicas follow the master, announce their hostname and protect writes", () => {
    const replica = planCacheNodes("sentinel")[1];
    const lines = directives(renderRedisConf(replica, settings));
    assert.deepEqual(
      lines.find((l) => l[0] === "replicaof"),
      ["replicaof", "redis-master", "6379"],
    );
    assert.deepEqual(
      lines.find((l) => l[0] === "replica-announce-ip"),
      ["replica-announce-ip", "redis-replica-1"],
    );
    assert.deepEqual(
      lines.find((l) => l[0] === "min-replicas-to-write"),
      ["min-replicas-to-write", "1"],
    );
    assert.deepEqual(
      lines.find((l) => l[0] === "masterauth"),
      ["masterauth", "p4ss"],
    );
    const master = directives(renderRedisConf(planCacheNodes("sentinel")[0], settings));
    assert.equal(
      master.find((l) => l[0] === "replicaof"),
      undefined,
    );
    assert.deepEqual(
      master.find((l) => l[0] === "requirepass"),
      ["requirepass", "p4ss"],
    );
  });

  it("caps Redis below its container's limit and evicts by the configured policy", () => {
    assert.equal(redisMaxmemoryMiB(128), 96);
    assert.equal(redisMaxmemoryMiB(65), 48);
    const lines = directives(
      renderRedisConf(planCacheNodes("single")[0], { ...settings, maxmemoryMiB: 48, evictionPolicy: "allkeys-lfu" }),
    );
    assert.deepEqual(
      lines.filter((l) => l[0].startsWith("maxmemory")),
      [
        ["maxmemory", "48mb"],
        ["maxmemory-policy", "allkeys-lfu"],
      ],
    );
  });

  it("leaves min-replicas-to-write out when there are no replicas", () => {
    assert.ok(
      !renderRedisConf(planCacheNodes("single")[0], { ...settings, minReplicasToWrite: 0 }).includes("min-replicas"),
    );
  });

  it("turns hostname resolution on before the sentinel names its master, with quorum 2", () => {
    const text = renderSentinelConf(planCacheNodes("sentinel")[3], {
      password: "p",
      sentinelPassword: "s",
      masterHost: "redis-master",
      downAfterMilliseconds: 5000,
      failoverTimeoutMilliseconds: 60000,
    });
    const lines = text.trim().split("\n");
    const resolve = lines.indexOf("sentinel resolve-hostnames yes");
    const monitor = lines.indexOf(`sentinel monitor ${MASTER_NAME} redis-master 6379 ${SENTINEL_QUORUM}`);
    assert.ok(resolve >= 0 && monitor > resolve, text);
    assert.ok(lines.includes("sentinel announce-ip redis-sentinel-1"));
    assert.ok(lines.includes(`sentinel auth-pass ${MASTER_NAME} p`));
    assert.ok(lines.includes("requirepass s") && lines.includes("sentinel sentinel-pass s"));
  });

  it("quotes values Redis would split", () => {
    assert.ok(
      renderRedisConf(planCacheNodes("single")[0], { ...settings, password: 'a b"c' }).includes(
        'requirepass "a b\\"c"',
      ),
    );
  });

  it("refuses to render a sentinel as a data node and the reverse", () => {
    assert.throws(() => renderRedisConf(planCacheNodes("sentinel")[3], settings), /sentinel/);
    assert.throws(
      () =>
        renderSentinelConf(planCacheNodes("sentinel")[0], {
          password: "p",
          sentinelPassword: "s",
          masterHost: "m",
          downAfterMilliseconds: 1,
          failoverTimeoutMilliseconds: 1,
        }),
      /not a sentinel/,
    );
  });

  describe("accepted by a real redis-server", function () {
    before(function () {
      if (!hasBinary("redis-server") || !hasBinary("redis-cli")) {
        console.log("    (skipped: redis-server/redis-cli not installed; .ci/run installs them)");
        this.skip();
      }
    });

    it("starts a master and a sentinel from the rendered files", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-conf-"));
      const [masterPort, sentinelPort] = [await freePort(), await freePort()];
      // Same renderer, local addresses: the files must parse and the servers must run with them.
      const masterConf = renderRedisConf(
        { host: "127.0.0.1", role: "master", port: masterPort },
        { ...settings, minReplicasToWrite: 0, dataDir: dir },
      );
      const sentinelConf = renderSentinelConf(
        { host: "127.0.0.1", role: "sentinel", port: sentinelPort },
        {
          password: "p4ss",
          sentinelPassword: "s3nt",
          masterHost: "localhost",
          masterPort,
          dataDir: dir,
          downAfterMilliseconds: 5000,
          failoverTimeoutMilliseconds: 60000,
        },
      );
      fs.writeFileSync(path.join(dir, "redis.conf"), masterConf + "bind 127.0.0.1\n");
      fs.writeFileSync(path.join(dir, "sentinel.conf"), sentinelConf + "bind 127.0.0.1\n");
      const stopMaster = await startRedis(path.join(dir, "redis.conf"), [], masterPort, "p4ss");
      try {
        const stopSentinel = await startRedis(path.join(dir, "sentinel.conf"), ["--sentinel"], sentinelPort, "s3nt");
        try {
          const master = execFileSync(
            "redis-cli",
            [
              "-p",
              String(sentinelPort),
              "--no-auth-warning",
              "-a",
              "s3nt",
              "sentinel",
              "get-master-addr-by-name",
              MASTER_NAME,
            ],
            { encoding: "utf8" },
          );
          assert.deepEqual(master.trim().split("\n"), ["localhost", String(masterPort)]);
          const memory = execFileSync(
            "redis-cli",
            ["-p", String(masterPort), "--no-auth-warning", "-a", "p4ss", "config", "get", "maxmemory*"],
            { encoding: "utf8" },
          );
          const values = Object.fromEntries(
            memory
              .trim()
              .split("\n")
              .reduce<string[][]>(
                (pairs, line, i) => (i % 2 ? pairs[pairs.length - 1].push(line) : pairs.push([line]), pairs),
                [],
              ),
          );
          assert.equal(values.maxmemory, String(96 * 1024 * 1024), "96mb as Redis reads it");
          assert.equal(values["maxmemory-policy"], "volatile-lru");
        } finally {
          stopSentinel();
        }
      } finally {
        stopMaster();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("Kong declarative config", () => {
  const single: GatewayClient[] = [
    { name: "default", credential: { kind: "jwt", issuer: "bookings-issuer", secret: "s3cret" } },
  ];
  const local: RateLimitCounters = { policy: "local" };
  const elastiCacheRedis: KongRedis = {
    host: "master.shop.cache.amazonaws.com",
    port: 6379,
    password: "t0ken",
    database: 0,
    timeout: 2000,
    ssl: true,
    ssl_verify: true,
    server_name: "master.shop.cache.amazonaws.com",
  };
  const elastiCache: RateLimitCounters = { policy: "redis", redis: elastiCacheRedis };
  const jwt = kongDeclarativeConfig({
    catalog: bookings,
    clients: single,
    counters: local,
    corsOrigins: ["http://localhost:5173"],
  }) as any;
  /** Two clients of both kinds, one with a budget of its own, counting in ElastiCache. */
  const mixed = kongDeclarativeConfig({
    catalog: bookings,
    clients: [
      { name: "mobile-app", credential: { kind: "jwt", issuer: "bookings-mobile-app-issuer", secret: "m0bile" } },
      { name: "partner", credential: { kind: "key-auth", key: "p4rtner" }, rateLimitPerMinute: 1200 },
    ],
    counters: elastiCache,
    corsOrigins: [],
  }) as any;
  const routePlugins = (config: any, service: string, i: number) =>
    Object.fromEntries(
      config.services.find((s: any) => s.name === service).routes[i].plugins.map((p: any) => [p.name, p.config]),
    );

  it("turns every catalog route into a Kong service and route", () => {
    const routed = bookings.services.filter((s) => s.routes.length > 0);
    assert.deepEqual(
      jwt.services.map((s: any) => s.name),
      routed.map((s) => s.name),
    );
    const auth = jwt.services.find((s: any) => s.name === "auth-service");
    assert.equal(auth.url, "http://auth-service:8004");
    assert.deepEqual(
      auth.routes.map((r: any) => r.paths),
      [["/auth/login", "/auth/register", "/auth/refresh"], ["/users"]],
    );
  });

  it("puts the auth plugin on every non-public route, and a rate limit per consumer there and per address on public ones", () => {
    for (const service of bookings.services) {
      service.routes.forEach((route, i) => {
        const plugins = routePlugins(jwt, service.name, i);
        assert.equal(plugins["rate-limiting"].minute, route.rateLimitPerMinute);
        assert.equal(plugins["rate-limiting"].limit_by, route.public ? "ip" : "consumer");
        assert.equal("jwt" in plugins, !route.public, `${service.name} route ${i}`);
      });
    }
  });

  it("counts in each Kong's memory with local counters, and in the shared Redis with its TLS name and AUTH token", () => {
    const plain = routePlugins(jwt, "auth-service", 1)["rate-limiting"];
    assert.equal(plain.policy, "local");
    assert.equal(plain.redis, undefined);
    const shared = mixed.services.flatMap((s: any) => s.routes).map((r: any) => r.plugins[0].config);
    assert.ok(shared.length > 0);
    for (const config of shared) {
      assert.equal(config.policy, "redis");
      assert.deepEqual(config.redis, elastiCacheRedis);
    }
    const dev = kongDeclarativeConfig({
      catalog: bookings,
      clients: single,
      counters: {
        policy: "redis",
        redis: { host: "redis", port: 6379, password: "pw", database: 0, timeout: 2000, ssl: false, ssl_verify: false },
      },
      corsOrigins: [],
    }) as any;
    const devRedis = routePlugins(dev, "auth-service", 0)["rate-limiting"].redis;
    assert.deepEqual(
      [devRedis.host, devRedis.ssl, devRedis.ssl_verify, "server_name" in devRedis],
      ["redis", false, false, false],
    );
  });

  it("makes one consumer per client with its own credential, and a client's own budget a rate limit scoped to it", () => {
    assert.deepEqual(mixed.consumers, [
      {
        username: "mobile-app",
        jwt_secrets: [{ key: "bookings-mobile-app-issuer", secret: "m0bile", algorithm: "HS256" }],
      },
      {
        username: "partner",
        keyauth_credentials: [{ key: "p4rtner" }],
        plugins: [
          {
            name: "rate-limiting",
            config: { minute: 1200, limit_by: "consumer", fault_tolerant: true, ...elastiCache },
          },
        ],
      },
      {
        username: "anonymous",
        plugins: [{ name: "request-termination", config: { status_code: 401, message: "Unauthorized" } }],
      },
    ]);
    assert.deepEqual(jwt.consumers, [
      { username: "default", jwt_secrets: [{ key: "bookings-issuer", secret: "s3cret", algorithm: "HS256" }] },
    ]);
  });

  it("accepts either credential when clients mix them, refusing requests neither plugin authenticated", () => {
    const guarded = routePlugins(mixed, "auth-service", 1);
    assert.equal(guarded.jwt.anonymous, "anonymous");
    assert.equal(guarded["key-auth"].anonymous, "anonymous");
    assert.equal(routePlugins(mixed, "auth-service", 0).jwt, undefined, "public routes stay open");
    assert.equal(routePlugins(jwt, "auth-service", 1).jwt.anonymous, undefined, "one kind: a failed check is a 401");
  });

  it("answers the gateway's own health route in Kong, without a service behind it", () => {
    assert.deepEqual(jwt.routes, [
      {
        name: "platform-health",
        paths: ["/platform/health"],
        methods: ["GET", "HEAD"],
        protocols: ["http", "https"],
        tags: ["platform"],
        plugins: [
          {
            name: "request-termination",
            config: { status_code: 200, content_type: "application/json", body: '{"status":"ok"}' },
          },
        ],
      },
    ]);
  });

  it("enables CORS, correlation-id and Prometheus globally", () => {
    assert.deepEqual(
      jwt.plugins.map((p: any) => p.name),
      ["cors", "correlation-id", "prometheus"],
    );
    assert.deepEqual(jwt.plugins[0].config.origins, ["http://localhost:5173"]);
  });

  it("guards with key-auth alone when every client has an API key", () => {
    const keyAuth = parse(
      renderKongConfig({
        catalog: bookings,
        clients: [{ name: "default", credential: { kind: "key-auth", key: "k3y" } }],
        counters: local,
        corsOrigins: [],
      }),
    );
    assert.deepEqual(keyAuth.consumers, [{ username: "default", keyauth_credentials: [{ key: "k3y" }] }]);
    const guarded = keyAuth.services
      .flatMap((s: any) => s.routes)
      .filter((r: any) => r.plugins.some((p: any) => p.name === "key-auth"));
    assert.equal(guarded.length, bookings.services.flatMap((s) => s.routes).filter((r) => !r.public).length);
  });

  it("renders YAML that reads back to the same document", () => {
    for (const clients of [single, [{ name: "a", credential: { kind: "key-auth", key: "k" } } as GatewayClient]])
      assert.deepEqual(
        parse(renderKongConfig({ catalog: bookings, clients, counters: elastiCache, corsOrigins: [] })),
        kongDeclarativeConfig({ catalog: bookings, clients, counters: elastiCache, corsOrigins: [] }),
      );
    assert.equal(jwt._format_version, "3.0");
  });
});

describe("Prometheus config and alert rules", () => {
  it("renders static jobs and multi-target exporter jobs", () => {
    const config = parse(
      renderPrometheusConfig({
        scrapeInterval: "15s",
        externalLabels: { stack: "dev" },
        ruleFiles: ["/etc/prometheus/rules/*.yml"],
        jobs: [
          {
            job: "orders",
            metricsPath: "/prom",
            groups: [{ targets: ["orders:8080"], labels: { service: "orders" } }],
          },
          {
            job: "redis",
            metricsPath: "/scrape",
            groups: [{ targets: ["redis://redis-master:6379"] }],
            viaExporter: "redis-exporter:9121",
          },
        ],
      }),
    );
    assert.equal(config.global.scrape_interval, "15s");
    assert.deepEqual(config.scrape_configs[0], {
      job_name: "orders",
      metrics_path: "/prom",
      static_configs: [{ targets: ["orders:8080"], labels: { service: "orders" } }],
    });
    assert.deepEqual(config.scrape_configs[1].relabel_configs.at(-1), {
      target_label: "__address__",
      replacement: "redis-exporter:9121",
    });
  });

  it("refuses two jobs with one name", () => {
    assert.throws(
      () =>
        prometheusConfig({
          scrapeInterval: "15s",
          externalLabels: {},
          ruleFiles: [],
          jobs: [
            { job: "a", groups: [] },
            { job: "a", groups: [] },
          ],
        }),
      /duplicate scrape job 'a'/,
    );
  });

  it("has the seeds' alerts with the configured thresholds and one ServiceDown per service", () => {
    const rules = (
      alertRules(["orders", "mailer"], { errorRate: 0.1, latencyP95Seconds: 0.5 }, { jobs: [] }) as any
    ).groups.flatMap((g: any) => g.rules);
    const byName = (name: string) => rules.filter((r: any) => r.alert === name);
    assert.match(byName("HighErrorRate")[0].expr, /status=~"5\.\."\}\[5m\]\)\) \/ sum by \(service\) .* > 0\.1$/);
    assert.match(
      byName("HighLatency")[0].expr,
      /^histogram_quantile\(0\.95, .*http_request_duration_seconds_bucket.* > 0\.5$/,
    );
    assert.match(byName("RabbitMQPublishErrors")[0].expr, /rabbitmq_messages_publish_errors_total\[5m\]\)\) > 0$/);
    assert.deepEqual(
      byName("ServiceDown").map((r: any) => r.expr),
      ['up{job="orders"} == 0', 'up{job="mailer"} == 0'],
    );
  });
});

describe("alerts per target", () => {
  const thresholds = { errorRate: 0.05, latencyP95Seconds: 1 };
  const rulesOf = (infrastructure: Parameters<typeof alertRules>[2]) =>
    new Map<string, any>(
      (alertRules(["orders"], thresholds, infrastructure) as any).groups
        .flatMap((g: any) => g.rules)
        .map((r: any) => [r.alert === "ServiceDown" ? `ServiceDown/${r.labels.service}` : r.alert, r]),
    );

  it("watches only the jobs a target scrapes, and the stores' own alerts only where their exporters are", () => {
    const prod = rulesOf({ jobs: ["kong-kong-proxy"] });
    assert.deepEqual(
      [...prod.keys()],
      ["HighErrorRate", "HighLatency", "RabbitMQPublishErrors", "ServiceDown/orders", "InfrastructureDown"],
    );
    assert.equal(prod.get("InfrastructureDown").expr, 'up{job=~"kong-kong-proxy"} == 0');
    const dev = rulesOf({
      jobs: ["rabbitmq", "rabbitmq-queues", "redis", "postgres", "node.local"],
      queueDepth: { job: "rabbitmq-queues", metric: "rabbitmq_detailed_queue_messages" },
      redisExporterJob: "redis",
      postgresExporterJob: "postgres",
    });
    assert.equal(
      dev.get("InfrastructureDown").expr,
      'up{job=~"rabbitmq|rabbitmq-queues|redis|postgres|node[.]local"} == 0',
    );
    assert.equal(dev.get("RedisDown").expr, 'redis_up{job="redis"} == 0');
    assert.equal(dev.get("PostgresDown").expr, 'pg_up{job="postgres"} == 0');
    assert.match(
      dev.get("DeadLetterQueueNotEmpty").expr,
      /^max by \(vhost, queue\) \(rabbitmq_detailed_queue_messages\{job="rabbitmq-queues",/,
    );
    assert.deepEqual([...rulesOf({ jobs: [] }).keys()].slice(-1), ["ServiceDown/orders"], "no empty group");
  });

  it("alarms on the managed stores with the table's thresholds, each where its metric exists", () => {
    const alarms = new Map(
      storeAlarms({
        rds: { instances: [{ key: "orders", identifier: "shop-prod-orders" }], allocatedStorageGb: 20 },
        documentDb: { clusterIdentifier: "shop-prod-docdb", instances: 1 },
        broker: { name: "shop-prod-rabbitmq", instanceType: "mq.m7g.large" },
      }).map((a) => [a.name, a]),
    );
    const storage = alarms.get("rds-orders-free-storage")!;
    assert.deepEqual([storage.comparison, storage.threshold], ["LessThanThreshold", 2 * 1024 ** 3], "10% of 20 GB");
    assert.ok(!alarms.has("docdb-replica-lag"), "one instance has no replica to lag");
    // RabbitMQ 4 blocks publishers at 60% of the node's 8 GiB; the alarm fires at 80% of that.
    assert.equal(alarms.get("mq-memory")!.threshold, Math.round(8 * 1024 ** 3 * 0.6 * 0.8));
    // RabbitMQ 4 brokers publish no per-queue metrics: no DLQ alarm that would never see data.
    assert.deepEqual(
      [...alarms.keys()].filter((name) => name.startsWith("mq-")),
      ["mq-cpu", "mq-memory", "mq-messages"],
    );
    assert.deepEqual(alarms.get("mq-messages")!.metric, {
      namespace: "AWS/AmazonMQ",
      name: "MessageCount",
      dimensions: { Broker: "shop-prod-rabbitmq" },
      statistic: "Maximum",
    });
  });
});

describe("Grafana provisioning", () => {
  it("provisions Prometheus as default, the logs backend, and Jaeger linked to logs", () => {
    const loki = grafanaDatasources({ logs: "loki", scrapeInterval: "15s" }) as any;
    assert.deepEqual(
      loki.datasources.map((d: any) => d.type),
      ["prometheus", "loki", "jaeger"],
    );
    assert.equal(loki.datasources[0].isDefault, true);
    assert.equal(loki.datasources[2].jsonData.tracesToLogsV2.datasourceUid, "loki");
    const elk = grafanaDatasources({
      logs: "elk",
      scrapeInterval: "15s",
      elasticsearchReader: { username: "grafana_reader", password: "r" },
    }) as any;
    assert.equal(elk.datasources[1].type, "elasticsearch");
    assert.deepEqual(elk.datasources[1].secureJsonData, { basicAuthPassword: "r" });
    assert.throws(() => grafanaDatasources({ logs: "elk", scrapeInterval: "15s" }), /reader login/);
  });

  it("generates an overview and one dashboard per service with unique uids", () => {
    const services = bookings.services.map((s) => s.name);
    const files = catalogDashboards("bookings", services, "loki");
    assert.deepEqual(Object.keys(files).sort(), ["overview.json", ...services.map((s) => `service-${s}.json`)].sort());
    const uids = Object.values(files).map((json) => JSON.parse(json).uid);
    assert.equal(new Set(uids).size, uids.length);
    assert.ok(uids.every((uid) => uid.length <= 40));
    const overview = JSON.parse(files["overview.json"]);
    assert.ok(
      overview.panels.some((p: any) =>
        p.targets[0].expr.includes('service=~"booking-service|payment-service|notification-service|auth-service"'),
      ),
    );
  });

  it("queries a service's own metrics and logs in its dashboard", () => {
    const board = serviceDashboard("bookings", "auth-service", "loki") as any;
    assert.ok(
      board.panels
        .filter((p: any) => p.type !== "logs")
        .every((p: any) => p.targets[0].expr.includes('service="auth-service"')),
    );
    assert.equal(board.panels.find((p: any) => p.type === "logs").targets[0].expr, '{service="auth-service"}');
    const elk = serviceDashboard("bookings", "auth-service", "elk") as any;
    assert.equal(elk.panels.find((p: any) => p.type === "logs").targets[0].query, 'service:"auth-service"');
  });

  it("loads dashboards read-only into the catalog's folder", () => {
    const provider = (grafanaDashboardProvider("bookings") as any).providers[0];
    assert.equal(provider.folder, "bookings");
    assert.equal(provider.allowUiUpdates, false);
  });
});

describe("log pipeline config", () => {
  it("stores Loki data on its volume with the v13 TSDB schema", () => {
    const config = lokiConfig() as any;
    assert.equal(config.auth_enabled, false);
    assert.equal(config.schema_config.configs[0].schema, "v13");
    assert.equal(config.common.path_prefix, "/loki");
  });

  it("has Promtail read only this stack's containers and label them by service", () => {
    const config = promtailConfig({ stack: "dev", catalog: "bookings" }) as any;
    const job = config.scrape_configs[0];
    assert.deepEqual(job.docker_sd_configs[0].filters, [
      { name: "label", values: ["platform.stack=dev", "platform.catalog=bookings"] },
    ]);
    assert.ok(
      job.relabel_configs.some(
        (r: any) =>
          r.source_labels[0] === "__meta_docker_container_label_platform_service" && r.target_label === "service",
      ),
    );
    assert.equal(config.clients[0].url, "http://loki:3100/loki/api/v1/push");
  });

  it("has Filebeat ship this stack's containers to Logstash", () => {
    const config = filebeatConfig({ stack: "dev", catalog: "bookings" }) as any;
    const conditions = config["filebeat.autodiscover"].providers[0].templates[0].condition.and;
    assert.deepEqual(
      conditions.map((c: any) => Object.values(c.equals)[0]),
      ["dev", "bookings"],
    );
    assert.deepEqual(config["output.logstash"].hosts, ["logstash:5044"]);
  });

  it("has Filebeat on Kubernetes collect only the given namespaces", () => {
    const config = filebeatKubernetesConfig(["shop", "kong"], "logstash:5044") as any;
    const provider = config["filebeat.autodiscover"].providers[0];
    assert.equal(provider.type, "kubernetes");
    assert.deepEqual(
      provider.templates[0].condition.or.map((c: any) => c.equals["kubernetes.namespace"]),
      ["shop", "kong"],
    );
    assert.deepEqual(config["output.logstash"].hosts, ["logstash:5044"]);
  });

  it("points Logstash at a TLS Elasticsearch with its CA when given one", () => {
    const pipeline = logstashPipeline("shop", { url: "https://es:9200", caFile: "/certs/ca.crt" });
    assert.match(pipeline, /hosts => \["https:\/\/es:9200"\]/);
    assert.match(pipeline, /ssl_certificate_authorities => \["\/certs\/ca.crt"\]/);
    assert.ok(!logstashPipeline("shop").includes("ssl_certificate_authorities"));
  });

  it("keeps the writer password out of the Logstash pipeline", () => {
    const pipeline = logstashPipeline("user-enrichment");
    assert.match(pipeline, /password => "\$\{LOGSTASH_WRITER_PASSWORD\}"/);
    assert.match(pipeline, /data_stream_namespace => "userenrichment"/);
    assert.equal((pipeline.match(/\{/g) ?? []).length, (pipeline.match(/\}/g) ?? []).length);
  });

  it("sets up Elasticsearch logins with valid JSON and passwords only from the environment", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es-setup-"));
    try {
      // A stand-in curl records each call; the script's own quoting decides what it receives.
      fs.writeFileSync(
        path.join(dir, "curl"),
        `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> "${dir}/calls"; printf -- '--\\n' >> "${dir}/calls"\n`,
        { mode: 0o755 },
      );
      fs.writeFileSync(path.join(dir, "setup.sh"), elasticsearchSetupScript());
      execFileSync("sh", [path.join(dir, "setup.sh")], {
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          ELASTIC_PASSWORD: "e1",
          KIBANA_PASSWORD: "k2",
          LOGSTASH_WRITER_PASSWORD: "w3",
          GRAFANA_READER_PASSWORD: "r4",
        },
      });
      const calls = fs
        .readFileSync(path.join(dir, "calls"), "utf8")
        .split("--\n")
        .filter(Boolean)
        .map((c) => c.trim().split("\n"));
      const bodies = calls.filter((c) => c.includes("-d")).map((c) => JSON.parse(c[c.indexOf("-d") + 1]));
      assert.deepEqual(bodies[0], { password: "k2" });
      assert.deepEqual(bodies[1].indices[0].names, ["logs-*"]);
      assert.deepEqual(bodies[2], { password: "w3", roles: ["logstash_writer"] });
      assert.deepEqual(bodies[4], { password: "r4", roles: ["logs_reader"] });
      assert.ok(calls.every((c) => c.includes("elastic:e1")));
      assert.ok(!elasticsearchSetupScript().match(/e1|k2|w3|r4/));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
