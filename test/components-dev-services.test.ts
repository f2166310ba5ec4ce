import { strict as assert } from "assert";
import * as docker from "@pulumi/docker";
import { parse } from "yaml";
import { builtinCatalogPath, loadCatalog } from "../services/load";
import { CacheCluster } from "../components/docker/CacheCluster";
import { ApiGateway } from "../components/docker/ApiGateway";
import { Observability } from "../components/docker/Observability";
import { AlertReceivers } from "../components/observability/alertingSettings";
import { DEFAULT_IMAGES } from "../components/docker/settings";
import { GatewaySettings, GatewaySettingsSchema } from "../components/gateway/settings";
import { GatewayCredential } from "../components/gateway/kongConfig";
import { rateLimitCounters } from "../components/gateway/clients";
import { cacheEnv } from "../components/platform";
import {
  RecordedResource,
  isSecretOnWire,
  ofType,
  plaintextOccurrences,
  runUnderMocks,
  valueOf,
} from "../tools/mockRun";
import { MEMORY_PROFILES } from "../components/docker/memoryProfile";
import { redisCommanderEnv } from "../components/docker/DeveloperTools";
import * as pulumi from "@pulumi/pulumi";

const labels = { stack: "test", catalog: "bookings", component: "test" };
const memory = MEMORY_PROFILES.standard;
const CONTAINER = "docker:index/container:Container";
const containers = (resources: RecordedResource[]) =>
  new Map(ofType(resources, CONTAINER).map((c) => [c.inputs.name as string, c]));
const upload = (container: RecordedResource, file: string): string =>
  container.inputs.uploads.find((u: any) => u.file === file)?.content;

describe("CacheCluster (under mocks)", () => {
  const cluster = (mode: "sentinel" | "single") => {
    let cache!: CacheCluster;
    return runUnderMocks("components", {}, () => {
      cache = new CacheCluster("cache", {
        mode,
        evictionPolicy: "volatile-lru",
        namePrefix: "shop",
        image: DEFAULT_IMAGES.redis,
        exporterImage: DEFAULT_IMAGES.redisExporter,
        network: new docker.Network("data", { name: "shop-data" }),
        monitoringNetwork: new docker.Network("mon", { name: "shop-monitoring" }),
        labels,
        memory,
      });
    }).then((run) => ({ run, cache }));
  };

  it("runs a master, two replicas and three sentinels from uploaded, secret config files", async () => {
    const { run } = await cluster("sentinel");
    const byName = containers(run.resources);
    assert.deepEqual([...byName.keys()].sort(), [
      "shop-redis-exporter",
      "shop-redis-master",
      "shop-redis-replica-1",
      "shop-redis-replica-2",
      "shop-redis-sentinel-1",
      "shop-redis-sentinel-2",
      "shop-redis-sentinel-3",
    ]);
    const replica = byName.get("shop-redis-replica-2")!;
    assert.deepEqual(replica.inputs.command, ["redis-server", "/data/redis.conf"]);
    assert.match(upload(replica, "/data/redis.conf"), /^replicaof redis-master 6379$/m);
    assert.match(
      upload(replica, "/data/redis.conf"),
      new RegExp(`^maxmemory ${Math.floor(memory.redis * 0.75)}mb$`, "m"),
      "below the container's limit",
    );
    assert.equal(replica.inputs.memory, memory.redis);
    assert.ok(
      isSecretOnWire(replica.wire.uploads) || isSecretOnWire((replica.wire.uploads as any[])[0]?.content),
      "config holds the password",
    );
    const sentinel = byName.get("shop-redis-sentinel-3")!;
    assert.deepEqual(sentinel.inputs.command, ["redis-server", "/data/sentinel.conf", "--sentinel"]);
    assert.match(upload(sentinel, "/data/sentinel.conf"), /^sentinel monitor platform-cache redis-master 6379 2$/m);
    assert.match(upload(sentinel, "/data/sentinel.conf"), /^sentinel announce-ip redis-sentinel-3$/m);
    assert.ok(
      replica.dependencies.some((urn) => urn.endsWith("::cache-redis-master")),
      "replicas start after the master",
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    // data nodes keep their data; sentinels keep only their rewritten config
    assert.deepEqual(
      ofType(run.resources, "docker:index/volume:Volume")
        .map((v) => v.inputs.name)
        .sort(),
      ["shop-redis-master-data", "shop-redis-replica-1-data", "shop-redis-replica-2-data"],
    );
  });

  it("hands services the sentinel addresses and master name, not a single host", async () => {
    const { cache, run } = await cluster("sentinel");
    const client = cacheEnv(cache.endpoint);
    assert.deepEqual(client.env, {
      REDIS_SENTINELS: "redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379",
      REDIS_MASTER_NAME: "platform-cache",
    });
    assert.deepEqual(Object.keys(client.secretEnv).sort(), ["REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD"]);
    const password = await valueOf(pulumi.output(client.secretEnv.REDIS_PASSWORD));
    assert.ok(password.secret && run.generatedSecrets.includes(password.value));
    assert.deepEqual(cache.dataNodes, [
      "redis://redis-master:6379",
      "redis://redis-replica-1:6379",
      "redis://redis-replica-2:6379",
    ]);
  });

  it("runs one Redis in single mode and gives services a secret URL", async () => {
    const { cache, run } = await cluster("single");
    assert.deepEqual([...containers(run.resources).keys()].sort(), ["shop-redis", "shop-redis-exporter"]);
    assert.ok(!upload(containers(run.resources).get("shop-redis")!, "/data/redis.conf").includes("min-replicas"));
    const url = await valueOf(pulumi.output(cacheEnv(cache.endpoint).secretEnv.REDIS_URL));
    assert.ok(url.secret);
    assert.match(url.value, /^redis:\/\/:pw[0-9a-f]+@redis:6379\/0$/);
  });
});

describe("ApiGateway (under mocks)", () => {
  const catalog = loadCatalog(builtinCatalogPath("bookings"));
  const gateway = (
    database: "postgres" | "off",
    auth: "jwt" | "key-auth" = "jwt",
    options: { clients?: GatewaySettings["clients"]; cache?: "sentinel" | "single" } = {},
  ) => {
    let component!: ApiGateway;
    let cache: CacheCluster | undefined;
    return runUnderMocks("components", {}, () => {
      const monitoring = new docker.Network("mon", { name: "shop-monitoring" });
      const data = new docker.Network("data", { name: "shop-data" });
      cache =
        options.cache &&
        new CacheCluster("cache", {
          mode: options.cache,
          evictionPolicy: "volatile-lru",
          namePrefix: "shop",
          image: DEFAULT_IMAGES.redis,
          exporterImage: DEFAULT_IMAGES.redisExporter,
          network: data,
          monitoringNetwork: monitoring,
          labels,
          memory,
        });
      component = new ApiGateway("gw", {
        catalog,
        namePrefix: "shop",
        image: DEFAULT_IMAGES.kong,
        database,
        databaseImage: DEFAULT_IMAGES.kongDatabase,
        databaseHostPort: 15440,
        gateway: GatewaySettingsSchema.parse({
          auth,
          corsOrigins: ["http://localhost:5173"],
          clients: options.clients,
        }),
        network: new docker.Network("edge", { name: "shop-edge" }),
        cache: cache && { endpoint: cache.endpoint, network: data },
        monitoring: { network: monitoring, postgresExporterImage: DEFAULT_IMAGES.postgresExporter },
        proxyHostPort: 8000,
        adminHostPort: 18001,
        labels,
        memory,
      });
    }).then((run) => ({ run, component, cache }));
  };

  it("runs Kong with its own PostgreSQL, bootstrapped once per config, admin API on loopback", async () => {
    const { run, component } = await gateway("postgres");
    const byName = containers(run.resources);
    const kong = byName.get("shop-kong")!;
    assert.deepEqual(
      kong.inputs.ports.map((p: any) => [p.internal, p.external, p.ip]),
      [
        [8000, 8000, "127.0.0.1"],
        [8001, 18001, "127.0.0.1"],
      ],
    );
    assert.ok(kong.inputs.envs.includes("KONG_DATABASE=postgres"));
    assert.ok(kong.inputs.envs.includes("KONG_PG_USER=kong_app"));
    const bootstrap = byName.get("shop-kong-bootstrap")!;
    assert.equal(bootstrap.inputs.mustRun, false);
    assert.equal(bootstrap.inputs.attach, true);
    assert.equal(bootstrap.inputs.memory, memory.oneShot);
    // Each step in order, the first failure named in the last log line.
    assert.match(
      bootstrap.inputs.command.join(" "),
      /kong migrations bootstrap \|\| fail .*\nkong migrations up .*\nkong migrations finish .*\nkong config db_import \/kong\/declarative\/kong.yml \|\| fail/,
    );
    const declarative = parse(upload(bootstrap, "/kong/declarative/kong.yml"));
    assert.deepEqual(
      declarative.services.map((s: any) => s.name),
      catalog.services.filter((s) => s.routes.length).map((s) => s.name),
    );
    assert.ok(
      kong.dependencies.some((urn) => urn.endsWith("::gw-bootstrap")),
      "Kong starts after its schema exists",
    );
    assert.ok(byName.has("shop-kong-db") && byName.has("shop-kong-db-exporter"));
    assert.equal(component.proxyUrl, "http://127.0.0.1:8000");
    assert.equal(component.adminUrl, "http://127.0.0.1:18001");
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("runs DB-less from the uploaded declarative file when the database is off", async () => {
    const { run } = await gateway("off");
    const byName = containers(run.resources);
    assert.deepEqual([...byName.keys()], ["shop-kong"]);
    const kong = byName.get("shop-kong")!;
    assert.ok(kong.inputs.envs.includes("KONG_DATABASE=off"));
    assert.ok(kong.inputs.envs.includes("KONG_DECLARATIVE_CONFIG=/kong/declarative/kong.yml"));
    assert.ok(parse(upload(kong, "/kong/declarative/kong.yml")).consumers[0].jwt_secrets);
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("shares the JWT signing secret with token issuers, and issues an API key with key-auth", async () => {
    const jwt = await gateway("off", "jwt");
    const credential = await valueOf(jwt.component.credential);
    assert.ok(credential.secret);
    assert.equal(credential.value.kind, "jwt");
    const issuerSecret = await valueOf(jwt.component.issuerSecretEnv.GATEWAY_JWT_SECRET);
    assert.equal(issuerSecret.value, (credential.value as any).secret);
    const keyAuth = await gateway("off", "key-auth");
    assert.deepEqual(Object.keys(keyAuth.component.issuerSecretEnv), []);
    assert.equal((await valueOf(keyAuth.component.credential)).value.kind, "key-auth");
    // The default client's secret is the single consumer's of older stacks, renamed: not regenerated.
    const secrets = ofType(jwt.run.resources, "random:index/randomPassword:RandomPassword");
    assert.deepEqual(
      secrets.map((r) => [r.name, r.aliases]),
      [["gw-credential-default", ["gw-credential"]]],
    );
  });
  const TWO_CLIENTS = [
    { name: "mobile-app" },
    { name: "partner", credential: "key-auth" as const, rateLimitPerMinute: 900 },
  ];

  it("gives two clients two consumers with distinct secret credentials, none of them in plain text", async () => {
    const { run, component } = await gateway("off", "jwt", { clients: TWO_CLIENTS, cache: "single" });
    const declarative = parse(upload(containers(run.resources).get("shop-kong")!, "/kong/declarative/kong.yml"));
    const credentials = await valueOf(component.clientCredentials);
    assert.ok(credentials.secret);
    assert.deepEqual(Object.keys(credentials.value), ["mobile-app", "partner"]);
    const mobile = credentials.value["mobile-app"] as Extract<GatewayCredential, { kind: "jwt" }>;
    const partner = credentials.value.partner as Extract<GatewayCredential, { kind: "key-auth" }>;
    assert.equal(mobile.issuer, "bookings-mobile-app-issuer");
    assert.notEqual(mobile.secret, partner.key);
    assert.ok(run.generatedSecrets.includes(mobile.secret) && run.generatedSecrets.includes(partner.key));
    assert.deepEqual(
      declarative.consumers.map((c: any) => [c.username, c.jwt_secrets?.[0].secret ?? c.keyauth_credentials?.[0].key]),
      [
        ["mobile-app", mobile.secret],
        ["partner", partner.key],
        ["anonymous", undefined],
      ],
    );
    assert.equal(declarative.consumers[1].plugins[0].config.minute, 900, "the partner's own budget");
    assert.deepEqual((await valueOf(component.credential)).value, mobile, "gatewayCredential: the first client's");
    const issuer = await valueOf(component.issuerSecretEnv.GATEWAY_JWT_SECRET);
    assert.equal(issuer.value, mobile.secret, "token issuers sign for the first jwt client");
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("counts rate limits in a single Redis it joins the data network for, with the cache's address and password", async () => {
    const { run, cache } = await gateway("postgres", "jwt", { cache: "single" });
    const byName = containers(run.resources);
    const kong = byName.get("shop-kong")!;
    assert.ok(
      kong.inputs.networksAdvanced.some((n: any) => n.name === "shop-data"),
      "Kong reaches Redis",
    );
    const declarative = parse(upload(byName.get("shop-kong-bootstrap")!, "/kong/declarative/kong.yml"));
    const limits = declarative.services.flatMap((s: any) => s.routes).map((r: any) => r.plugins[0].config);
    const password = (await valueOf(cache!.password)).value;
    for (const config of limits) {
      assert.equal(config.policy, "redis");
      assert.deepEqual(config.redis, {
        host: "redis",
        port: 6379,
        password,
        database: 0,
        timeout: 2000,
        ssl: false,
        ssl_verify: false,
      });
    }
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("keeps counting in its own memory, off the data network, beside Sentinel (Kong 3.9 cannot follow a failover)", async () => {
    const { run } = await gateway("off", "jwt", { cache: "sentinel" });
    const kong = containers(run.resources).get("shop-kong")!;
    assert.ok(!kong.inputs.networksAdvanced.some((n: any) => n.name === "shop-data"));
    const declarative = parse(upload(kong, "/kong/declarative/kong.yml"));
    const policies = declarative.services.flatMap((s: any) => s.routes).map((r: any) => r.plugins[0].config.policy);
    assert.deepEqual([...new Set(policies)], ["local"], "exact: dev runs one Kong");
    assert.throws(
      () => rateLimitCounters(undefined, 2, catalog),
      /Kong runs up to 2 replicas: its rate limits need a cache without Sentinel/,
    );
    // A catalog without routes has nothing to count: every Kong's own memory is exact.
    const unrouted = { ...catalog, services: catalog.services.map((s) => ({ ...s, routes: [] })) };
    assert.deepEqual((await valueOf(rateLimitCounters(undefined, 2, unrouted))).value, { policy: "local" });
  });
});

describe("Observability (under mocks)", () => {
  const observability = (logs: "loki" | "elk", alerting: AlertReceivers = {}) => {
    let component!: Observability;
    return runUnderMocks("components", {}, () => {
      component = new Observability("obs", {
        namePrefix: "shop",
        selection: { stack: "dev", catalog: "bookings" },
        logs,
        services: ["orders", "mailer"],
        scrapeJobs: [{ job: "orders", groups: [{ targets: ["orders:8080"], labels: { service: "orders" } }] }],
        storeJobs: {},
        scrapeInterval: "15s",
        thresholds: { errorRate: 0.05, latencyP95Seconds: 1 },
        alerting,
        images: DEFAULT_IMAGES,
        network: new docker.Network("mon", { name: "shop-monitoring" }),
        hostPorts: { grafana: 3000, prometheus: 9090, alertmanager: 9093, jaeger: 16686, kibana: 5601 },
        labels,
        memory,
        tracing: {},
      });
    }).then((run) => ({ run, component }));
  };

  it("runs Prometheus with the rendered config and rules, Grafana provisioned, Jaeger with OTLP, Loki and Promtail", async () => {
    const { run, component } = await observability("loki");
    const byName = containers(run.resources);
    assert.deepEqual([...byName.keys()].sort(), [
      "shop-alertmanager",
      "shop-grafana",
      "shop-jaeger",
      "shop-loki",
      "shop-node-exporter",
      "shop-prometheus",
      "shop-promtail",
    ]);
    const prometheus = byName.get("shop-prometheus")!;
    const config = parse(upload(prometheus, "/etc/prometheus/prometheus.yml"));
    assert.deepEqual(
      config.scrape_configs.map((j: any) => j.job_name),
      ["orders", "prometheus", "alertmanager", "node", "jaeger", "grafana", "loki"],
    );
    const rules = parse(upload(prometheus, "/etc/prometheus/rules/alerts.yml"));
    assert.ok(rules.groups[0].rules.some((r: any) => r.alert === "ServiceDown" && r.labels.service === "mailer"));
    const grafana = byName.get("shop-grafana")!;
    const files = grafana.inputs.uploads.map((u: any) => u.file).sort();
    assert.deepEqual(files, [
      "/etc/grafana/provisioning/dashboards/platform.yaml",
      "/etc/grafana/provisioning/datasources/platform.yaml",
      "/var/lib/grafana/dashboards/overview.json",
      "/var/lib/grafana/dashboards/service-mailer.json",
      "/var/lib/grafana/dashboards/service-orders.json",
    ]);
    assert.ok(grafana.inputs.envs.some((e: string) => /^GF_SECURITY_ADMIN_PASSWORD=pw[0-9a-f]+$/.test(e)));
    assert.ok(
      !grafana.inputs.envs.some((e: string) => /=admin(123)?$/.test(e) && e.startsWith("GF_SECURITY_ADMIN_PASSWORD")),
    );
    assert.ok(byName.get("shop-jaeger")!.inputs.envs.includes("COLLECTOR_OTLP_ENABLED=true"));
    const promtail = byName.get("shop-promtail")!;
    assert.deepEqual(promtail.inputs.volumes, [
      { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true },
    ]);
    for (const c of byName.values()) for (const p of c.inputs.ports ?? []) assert.equal(p.ip, "127.0.0.1");
    assert.equal(component.logsUrl, "http://127.0.0.1:3000/explore");
    assert.ok((await valueOf(component.grafanaAdminPassword)).secret);
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("runs Alertmanager with the stack's receivers, their secrets in files only, and Prometheus sending to it", async () => {
    const webhook = "https://hooks.slack.com/services/T0/B0/dev-slack-s3cret";
    const password = "dev-smtp-s3cret";
    const { run, component } = await observability("loki", {
      slack: { webhookUrl: pulumi.secret(webhook) },
      email: {
        to: ["dev@example.com"],
        from: "alerts@example.com",
        smarthost: "smtp.example.com:587",
        authUsername: "alerts",
        authPassword: pulumi.secret(password),
      },
    });
    const alertmanager = containers(run.resources).get("shop-alertmanager")!;
    assert.deepEqual(alertmanager.inputs.ports, [{ internal: 9093, external: 9093, ip: "127.0.0.1", protocol: "tcp" }]);
    assert.equal(alertmanager.inputs.memory, memory.alertmanager);
    assert.ok(alertmanager.inputs.command.includes("--cluster.listen-address="), "one instance, no gossip");
    assert.match(alertmanager.inputs.healthcheck.tests.join(" "), /wget .*9093\/-\/ready/);
    assert.deepEqual(alertmanager.inputs.uploads.map((u: any) => u.file).sort(), [
      "/etc/alertmanager/alertmanager.yml",
      "/etc/alertmanager/secrets/slack-webhook-url",
      "/etc/alertmanager/secrets/smtp-password",
    ]);
    assert.equal(upload(alertmanager, "/etc/alertmanager/secrets/slack-webhook-url"), webhook);
    const config = parse(upload(alertmanager, "/etc/alertmanager/alertmanager.yml"));
    assert.equal(config.receivers[0].slack_configs[0].api_url_file, "/etc/alertmanager/secrets/slack-webhook-url");
    assert.equal(config.receivers[0].email_configs[0].auth_password_file, "/etc/alertmanager/secrets/smtp-password");
    assert.ok(
      isSecretOnWire(alertmanager.wire.uploads) ||
        (alertmanager.wire.uploads as any[]).some((u) => isSecretOnWire(u) || isSecretOnWire(u.content)),
      "the secrets travel as secrets",
    );
    assert.deepEqual(plaintextOccurrences(run.resources, [webhook, password]), []);
    const prometheus = parse(
      upload(containers(run.resources).get("shop-prometheus")!, "/etc/prometheus/prometheus.yml"),
    );
    assert.deepEqual(prometheus.alerting, {
      alertmanagers: [{ static_configs: [{ targets: ["alertmanager:9093"] }] }],
    });
    assert.equal(component.alertmanagerUrl, "http://127.0.0.1:9093");
  });

  it("swaps Loki for a secured ELK stack when asked", async () => {
    const { run, component } = await observability("elk");
    const byName = containers(run.resources);
    assert.deepEqual([...byName.keys()].sort(), [
      "shop-alertmanager",
      "shop-elasticsearch",
      "shop-elasticsearch-setup",
      "shop-filebeat",
      "shop-grafana",
      "shop-jaeger",
      "shop-kibana",
      "shop-logstash",
      "shop-node-exporter",
      "shop-prometheus",
    ]);
    const es = byName.get("shop-elasticsearch")!;
    assert.ok(es.inputs.envs.includes("xpack.security.enabled=true"));
    assert.ok(es.inputs.envs.some((e: string) => /^ELASTIC_PASSWORD=pw[0-9a-f]+$/.test(e)));
    assert.ok(byName.get("shop-logstash")!.dependencies.some((urn) => urn.endsWith("::obs-logs-setup")));
    assert.deepEqual(byName.get("shop-kibana")!.inputs.ports, [
      { internal: 5601, external: 5601, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    const datasources = parse(
      upload(byName.get("shop-grafana")!, "/etc/grafana/provisioning/datasources/platform.yaml"),
    );
    assert.equal(datasources.datasources[1].type, "elasticsearch");
    assert.equal(component.logsUrl, "http://127.0.0.1:5601");
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });
});

describe("Redis Commander connection", () => {
  it("connects to the single Redis by host and port when there are no sentinels", () => {
    const password = pulumi.output("pw");
    const { env, secretEnv } = redisCommanderEnv({
      host: "redis",
      port: 6379,
      tls: false,
      password,
      location: { kind: "local" },
    });
    assert.deepEqual(env, { REDIS_HOST: "redis", REDIS_PORT: "6379" });
    assert.deepEqual(Object.keys(secretEnv), ["REDIS_PASSWORD"]);
  });
});
