import { strict as assert } from "assert";
import * as path from "path";
import { parse } from "yaml";
import { runProgram, StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { planTopology } from "../components/messaging/topology";
import { dependencyUrlEnv, publishedPort } from "../services/validate";
import { declaredNames, namesCarrying, parseEnvList, platformContractCatalog } from "./helpers/envContract";
import { withCatalogFile } from "./helpers/catalogFiles";
import { ValidationError } from "../services/problems";
import { CONFIG_SECRETS, SENTRY_DSN, devConfig } from "./helpers/stackConfigs";
import { deployPlan } from "../tools/deployPlan";
import { MEMORY_PROFILES } from "../components/docker/memoryProfile";
import { devMemoryPlan } from "../components/docker/memoryPlan";
import { Produced, SERVICE_METRICS, unproducedReferences } from "./helpers/alertTargets";
import {
  MockRun,
  RecordedResource,
  isSecretOnWire,
  ofType,
  plaintextOccurrences,
  runUnderMocks,
  valueOf,
} from "../tools/mockRun";

const projectDir = path.join(__dirname, "..");
const CONTAINER = "docker:index/container:Container";

/** What each of dev's own scrape jobs produces besides `up`, by the program that serves it. */
const DEV_INFRASTRUCTURE_METRICS: Record<string, Produced> = {
  // The rabbitmq image's rabbitmq_prometheus plugin: /metrics, and /metrics/detailed's families.
  rabbitmq: ["rabbitmq_"],
  "rabbitmq-queues": ["rabbitmq_detailed_"],
  // redis_exporter and postgres_exporter, each in its namespace.
  redis: ["redis_"],
  postgres: ["pg_"],
  node: ["node_"],
  kong: ["kong_"],
  prometheus: ["prometheus_"],
  alertmanager: ["alertmanager_"],
  jaeger: ["jaeger_"],
  grafana: ["grafana_"],
  loki: ["loki_"],
};

const containerNamed = (run: MockRun<unknown>, name: string) =>
  ofType(run.resources, CONTAINER).find((c) => c.inputs.name === name);
const envOf = (container: RecordedResource) => parseEnvList(container.inputs.envs);

describe("dev program (docker target, under mocks)", () => {
  for (const name of BUILTIN_CATALOGS) {
    describe(`catalog ${name}`, () => {
      const catalog = loadCatalog(builtinCatalogPath(name));
      const plan = planTopology(catalog);
      const prefix = `${name}-dev`;
      let run: MockRun<StackOutputs>;
      before(async () => {
        run = await runUnderMocks("dev", devConfig(name), () => runProgram(projectDir));
      });

      it("declares exactly the containers the catalog needs, each named for what it is", () => {
        const expected = catalog.services.flatMap((s) => [
          s.name,
          ...(s.database.kind !== "none" ? [`${s.name}-db`] : []),
          ...(s.database.kind === "postgres" ? [`${s.name}-db-exporter`] : []),
          ...(s.database.kind === "mongodb" ? [`${s.name}-db-2`, `${s.name}-db-3`, `${s.name}-db-init`] : []),
        ]);
        if (plan.users.length > 0) expected.push("rabbitmq");
        if (catalog.services.some((s) => s.cache)) {
          expected.push(
            "redis-master",
            "redis-replica-1",
            "redis-replica-2",
            "redis-sentinel-1",
            "redis-sentinel-2",
            "redis-sentinel-3",
            "redis-exporter",
          );
        }
        if (catalog.services.some((s) => s.routes.length > 0))
          expected.push("kong", "kong-db", "kong-db-exporter", "kong-bootstrap");
        expected.push("prometheus", "alertmanager", "node-exporter", "jaeger", "grafana", "loki", "promtail");
        if (catalog.frontend) expected.push(catalog.frontend.name);
        assert.deepEqual(
          ofType(run.resources, CONTAINER)
            .map((c) => c.inputs.name)
            .sort(),
          expected.map((n) => `${prefix}-${n}`).sort(),
        );
        assert.equal(
          ofType(run.resources, "platform:docker:Microservice").length,
          catalog.services.length + (catalog.frontend ? 1 : 0),
        );
      });

      if (catalog.frontend) {
        it("serves the front end behind the gateway at /, on the edge network and its own loopback port", () => {
          const web = containerNamed(run, `${prefix}-${catalog.frontend!.name}`)!;
          assert.deepEqual(
            web.inputs.networksAdvanced.map((n: any) => n.name),
            [`${prefix}-edge`],
          );
          assert.deepEqual(web.inputs.ports, [{ internal: 8080, external: 8088, ip: "127.0.0.1", protocol: "tcp" }]);
          const kong = parse(containerNamed(run, `${prefix}-kong-bootstrap`)!.inputs.uploads[0].content);
          const route = kong.services.find((s: any) => s.name === catalog.frontend!.name);
          assert.equal(route.url, "http://web:8080");
          assert.deepEqual(route.routes[0].paths, ["/"]);
          assert.ok(!route.routes[0].plugins.some((p: any) => p.name === "jwt"), "public");
          assert.equal(run.result.frontendUrl, "http://127.0.0.1:8000/");
          assert.ok(run.result.healthChecks.some((c) => c.name === "web" && c.url === "http://127.0.0.1:8000/"));
        });
      }

      it("fits the standard memory profile's 8 GiB of container limits, as validation computed before declaring", () => {
        const declared = deployPlan(run.resources).containerMemoryMiB;
        assert.ok(declared <= 8 * 1024, `${declared} MiB`);
        // The budget check runs on this plan before any resource exists: it must match what is declared.
        const planned = devMemoryPlan(catalog, {
          profile: "standard",
          cacheMode: "sentinel",
          gatewayDatabase: "postgres",
          logs: "loki",
          devTools: { adminer: false, redisCommander: false },
        });
        assert.equal(
          planned.reduce((sum, limit) => sum + limit.mib, 0),
          declared,
        );
        const containers = ofType(run.resources, CONTAINER);
        assert.deepEqual(
          planned.map((l) => `${prefix}-${l.container}`).sort(),
          containers.map((c) => c.inputs.name).sort(),
        );
      });

      it("gives every PostgreSQL service its own server, volume, login and database", () => {
        const postgres = catalog.services.filter((s) => s.database.kind === "postgres");
        const roles = ofType(run.resources, "postgresql:index/role:Role");
        const databases = ofType(run.resources, "postgresql:index/database:Database");
        const providers = ofType(run.resources, "pulumi:providers:postgresql");
        // Each server (the services' and Kong's) has an owner login and a pg_monitor-only login.
        assert.equal(roles.filter((r) => r.inputs.name.endsWith("_app")).length, postgres.length + 1);
        assert.equal(roles.filter((r) => r.inputs.name.endsWith("_monitor")).length, postgres.length + 1);
        for (const monitor of roles.filter((r) => r.inputs.name.endsWith("_monitor")))
          assert.deepEqual(monitor.inputs.roles, ["pg_monitor"]);
        assert.equal(providers.length, postgres.length + 1);
        assert.equal(
          new Set(providers.map((p) => p.inputs.port)).size,
          postgres.length + 1,
          "each database has its own port",
        );
        for (const service of postgres) {
          const login = `${service.name.replace(/-/g, "_")}_app`;
          const role = roles.find((r) => r.inputs.name === login);
          assert.ok(role && role.inputs.superuser === false, `${service.name}: least-privilege role`);
          const database = databases.find((d) => d.inputs.owner === login)!;
          assert.equal(database.inputs.name, service.name.replace(/-/g, "_"));
          // the role is created through the provider of this service's own server
          const db = containerNamed(run, `${prefix}-${service.name}-db`)!;
          assert.ok(db, `${service.name}: database container`);
          const port = db.inputs.ports[0].external;
          const provider = providers.find((p) => Number(p.inputs.port) === port)!;
          assert.ok(
            role.provider.startsWith(provider.name) || role.provider.includes(`::${provider.name}::`),
            `${service.name}: role via its own server`,
          );
        }
        const volumes = ofType(run.resources, "docker:index/volume:Volume");
        assert.equal(new Set(volumes.map((v) => v.inputs.name)).size, volumes.length);
      });

      it("wires each service to its database and the broker with secret URLs", () => {
        for (const service of catalog.services) {
          const container = containerNamed(run, `${prefix}-${service.name}`)!;
          const env = envOf(container);
          // Under envContract none, each check reads the names the service declared for that value.
          const carried = (fixed: string) => namesCarrying(service, fixed).map((n) => env[n]);
          if (service.envContract === "none") assert.deepEqual(Object.keys(env).sort(), declaredNames(service));
          else assert.equal(env.SERVICE_NAME, service.name);
          for (const url of carried("DATABASE_URL")) {
            if (service.database.kind === "none") assert.equal(url, undefined);
            else if (service.database.kind === "mongodb") {
              const members = `${service.name}-db:27017,${service.name}-db-2:27017,${service.name}-db-3:27017`;
              assert.match(url, new RegExp(`@${members}/\\w+\\?authSource=\\w+&replicaSet=rs0$`));
            } else assert.match(url, new RegExp(`@${service.name}-db:\\d+/`));
          }
          if (service.database.kind === "postgres") {
            for (const host of carried("DB_HOST")) assert.equal(host, `${service.name}-db`);
          }
          const user = plan.users.find((u) => u.service === service.name);
          for (const url of carried("RABBITMQ_URL")) {
            if (user) {
              assert.match(url, new RegExp(`^amqp://${service.name}:pw[0-9a-f]+@rabbitmq:5672/${catalog.name}$`));
            } else assert.equal(url, undefined);
          }
          for (const queues of carried("RABBITMQ_QUEUES")) assert.equal(queues, user?.consumerQueues.join(","));
          for (const dependency of service.dependsOn) {
            const url = `http://${dependency}:${catalog.services.find((s) => s.name === dependency)!.port}`;
            for (const value of carried(dependencyUrlEnv(dependency))) assert.equal(value, url);
          }
          for (const secret of service.secrets) assert.ok(env[secret.name], `${service.name}: secret ${secret.name}`);
        }
      });

      it("declares a bounded DLQ for every consumer queue on the broker, every queue a quorum queue as on prod", () => {
        const declared = ofType(run.resources, "rabbitmq:index/queue:Queue");
        const queues = declared.map((q) => q.inputs.name as string);
        const bindings = ofType(run.resources, "rabbitmq:index/binding:Binding").map((b) => b.inputs);
        const consumerQueues = catalog.services.flatMap((s) => s.events.consumes.map((c) => `${s.name}.${c.name}`));
        assert.ok(consumerQueues.length > 0);
        for (const queue of consumerQueues) {
          assert.ok(queues.includes(queue), queue);
          assert.ok(queues.includes(`${queue}.dlq`), `${queue}.dlq`);
          const dlq = declared.find((q) => q.inputs.name === `${queue}.dlq`)!;
          assert.deepEqual(JSON.parse(dlq.inputs.settings.argumentsJson), {
            "x-queue-type": "quorum",
            "x-max-length": 10000,
            "x-overflow": "reject-publish",
          });
          assert.ok(
            bindings.some(
              (b) => b.source === "platform.dlx" && b.destination === `${queue}.dlq` && b.routingKey === queue,
            ),
          );
        }
        // The single dev node runs the same queue type as prod's three: dev behaves as prod does.
        for (const queue of declared)
          assert.equal(JSON.parse(queue.inputs.settings.argumentsJson)["x-queue-type"], "quorum", queue.inputs.name);
        assert.equal(ofType(run.resources, "rabbitmq:index/user:User").length, plan.users.length);
      });

      it("keeps every password and config secret out of plain text", () => {
        const configSecrets = Object.values(CONFIG_SECRETS[name] ?? {}).flatMap((values) => Object.values(values));
        assert.ok(run.generatedSecrets.length >= catalog.services.length);
        assert.deepEqual(plaintextOccurrences(run.resources, [...run.generatedSecrets, ...configSecrets]), []);
        for (const value of configSecrets) {
          assert.ok(
            ofType(run.resources, CONTAINER).some((c) =>
              ((c.inputs.envs ?? []) as string[]).some((e) => e.endsWith(`=${value}`)),
            ),
            "config secret reaches its service",
          );
        }
      });

      it("publishes ports on 127.0.0.1 only", () => {
        for (const container of ofType(run.resources, CONTAINER)) {
          for (const port of container.inputs.ports ?? [])
            assert.equal(port.ip, "127.0.0.1", `${container.inputs.name}:${port.external}`);
        }
      });

      it("segments networks: a database shares a network with its own service and exporter only", () => {
        for (const db of ofType(run.resources, CONTAINER).filter((c) => c.inputs.name.endsWith("-db"))) {
          assert.equal(db.inputs.networksAdvanced.length, 1);
          const network = db.inputs.networksAdvanced[0].name;
          const members = ofType(run.resources, CONTAINER).filter((c) =>
            c.inputs.networksAdvanced.some((n: any) => n.name === network),
          );
          const owner = db.inputs.name.replace(/-db$/, "");
          const expected = [db.inputs.name, owner];
          // A MongoDB replica set: the other two members and the one-shot initiation.
          if (members.some((m) => m.inputs.name === `${db.inputs.name}-init`))
            expected.push(`${db.inputs.name}-2`, `${db.inputs.name}-3`, `${db.inputs.name}-init`);
          if (members.some((m) => m.inputs.name === `${db.inputs.name}-exporter`))
            expected.push(`${db.inputs.name}-exporter`);
          if (owner.endsWith("-kong")) expected.push(`${owner}-bootstrap`);
          assert.deepEqual(members.map((m) => m.inputs.name).sort(), expected.sort());
        }
        const broker = containerNamed(run, `${prefix}-rabbitmq`)!;
        const brokerNetwork = broker.inputs.networksAdvanced[0].name;
        for (const service of catalog.services) {
          const onData = containerNamed(run, `${prefix}-${service.name}`)!.inputs.networksAdvanced.some(
            (n: any) => n.name === brokerNetwork,
          );
          assert.equal(
            onData,
            service.cache || plan.users.some((u) => u.service === service.name),
            `${service.name} on the data network`,
          );
        }
      });

      it("starts a service only after its database, the broker topology and the services it calls", () => {
        for (const service of catalog.services) {
          const container = ofType(run.resources, CONTAINER).find(
            (c) => c.name === `${catalog.name}-${service.name}-container`,
          )!;
          const waits = (suffix: string) => container.dependencies.some((urn) => urn.endsWith(`::${suffix}`));
          const database = service.database.kind === "mongodb" ? "db-replica-set-init" : "db-container";
          if (service.database.kind !== "none")
            assert.ok(waits(`${catalog.name}-${service.name}-${database}`), `${service.name} waits for its database`);
          if (plan.users.some((u) => u.service === service.name))
            assert.ok(
              waits(`${catalog.name}-broker-topology-u-${service.name}`),
              `${service.name} waits for its broker user`,
            );
          for (const dependency of service.dependsOn)
            assert.ok(waits(`${catalog.name}-${dependency}-container`), `${service.name} waits for ${dependency}`);
        }
      });

      it("gives every service its OTLP endpoint, and cache users the sentinels", () => {
        for (const service of catalog.services) {
          const env = envOf(containerNamed(run, `${prefix}-${service.name}`)!);
          const carried = (fixed: string) => namesCarrying(service, fixed).map((n) => env[n]);
          for (const endpoint of carried("OTEL_EXPORTER_OTLP_ENDPOINT")) assert.equal(endpoint, "http://jaeger:4318");
          const sentinels = "redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379";
          for (const value of carried("REDIS_SENTINELS")) assert.equal(value, service.cache ? sentinels : undefined);
          for (const value of carried("REDIS_MASTER_NAME"))
            assert.equal(value, service.cache ? "platform-cache" : undefined);
          // The signing secret goes to the marked issuer alone, not to every service with a public route.
          for (const value of carried("GATEWAY_JWT_ISSUER"))
            assert.equal(value, service.auth.issuesTokens ? `${catalog.name}-issuer` : undefined);
          assert.equal(
            carried("GATEWAY_JWT_SECRET").some((value) => value !== undefined),
            service.auth.issuesTokens,
          );
        }
      });

      it("routes every catalog path through Kong, with auth on every non-public route", () => {
        const bootstrap = containerNamed(run, `${prefix}-kong-bootstrap`)!;
        const kong = parse(bootstrap.inputs.uploads[0].content);
        const routes = kong.services.flatMap((s: any) => s.routes);
        for (const service of catalog.services) {
          for (const route of service.routes) {
            const kongRoute = routes.find((r: any) => r.paths.join() === route.paths.join());
            assert.ok(kongRoute, `${service.name} ${route.paths}`);
            assert.equal(
              kongRoute.plugins.some((p: any) => p.name === "jwt"),
              !route.public,
            );
            // One Kong beside Sentinel, which Kong 3.9 cannot follow: its own counters are exact.
            assert.equal(kongRoute.plugins[0].config.policy, "local");
          }
        }
        assert.deepEqual(
          kong.consumers.map((c: any) => [c.username, c.jwt_secrets[0].key]),
          [["default", `${catalog.name}-issuer`]],
          "the default client, with the issuer the single consumer had",
        );
      });

      it("has Prometheus scrape every service, the broker, Redis, Kong and every PostgreSQL", () => {
        const prometheus = containerNamed(run, `${prefix}-prometheus`)!;
        const config = parse(prometheus.inputs.uploads.find((u: any) => u.file.endsWith("prometheus.yml")).content);
        const jobs = new Map<string, any>(config.scrape_configs.map((j: any) => [j.job_name, j]));
        for (const service of catalog.services) {
          assert.deepEqual(jobs.get(service.name).static_configs[0].targets, [
            `${service.name}:${service.health.metricsPort ?? service.port}`,
          ]);
        }
        for (const job of ["rabbitmq", "kong", "node", "prometheus"]) assert.ok(jobs.has(job), job);
        assert.equal(
          jobs.has("redis"),
          catalog.services.some((s) => s.cache),
        );
        const postgresTargets = jobs
          .get("postgres")
          .static_configs.map((g: any) => g.labels.service)
          .sort();
        assert.deepEqual(
          postgresTargets,
          [...catalog.services.filter((s) => s.database.kind === "postgres").map((s) => s.name), "kong"].sort(),
        );
        const rules = parse(prometheus.inputs.uploads.find((u: any) => u.file.endsWith("alerts.yml")).content);
        const down = rules.groups[0].rules
          .filter((r: any) => r.alert === "ServiceDown")
          .map((r: any) => r.labels.service);
        assert.deepEqual(
          down,
          catalog.services.map((s) => s.name),
        );
      });

      it("alerts only on jobs Prometheus scrapes and on metrics those jobs produce, and sends to Alertmanager", () => {
        const prometheus = containerNamed(run, `${prefix}-prometheus`)!;
        const file = (suffix: string) =>
          parse(prometheus.inputs.uploads.find((u: any) => u.file.endsWith(suffix)).content);
        const config = file("prometheus.yml");
        const services = new Set(catalog.services.map((s) => s.name));
        const scraped = new Map<string, Produced>(
          config.scrape_configs.map((job: any): [string, Produced] => {
            const produced = services.has(job.job_name) ? SERVICE_METRICS : DEV_INFRASTRUCTURE_METRICS[job.job_name];
            assert.ok(produced, `what job ${job.job_name} produces is not known to this test`);
            return [job.job_name, produced];
          }),
        );
        const rules = file("alerts.yml").groups.flatMap((g: any) => g.rules);
        assert.deepEqual(unproducedReferences(rules, scraped), []);
        const alerts = new Set(rules.map((r: any) => r.alert));
        for (const alert of ["InfrastructureDown", "PostgresDown"]) assert.ok(alerts.has(alert), alert);
        assert.equal(
          alerts.has("RedisDown"),
          catalog.services.some((s) => s.cache),
        );
        assert.equal(alerts.has("DeadLetterQueueNotEmpty"), plan.users.length > 0);
        assert.deepEqual(config.alerting.alertmanagers[0].static_configs[0].targets, ["alertmanager:9093"]);
        assert.ok(containerNamed(run, `${prefix}-alertmanager`), "an Alertmanager receives them");
        assert.equal(run.result.alertmanagerUrl, "http://127.0.0.1:9093");
      });

      it("puts every scraped container on the monitoring network", () => {
        const monitoring = `${prefix}-monitoring`;
        const onMonitoring = new Set(
          ofType(run.resources, CONTAINER)
            .filter((c) => c.inputs.networksAdvanced.some((n: any) => n.name === monitoring))
            .map((c) => c.inputs.hostname),
        );
        const prometheus = containerNamed(run, `${prefix}-prometheus`)!;
        const config = parse(prometheus.inputs.uploads.find((u: any) => u.file.endsWith("prometheus.yml")).content);
        for (const job of config.scrape_configs) {
          const hosts = job.relabel_configs
            ? [job.relabel_configs.at(-1).replacement]
            : job.static_configs.flatMap((g: any) => g.targets);
          for (const host of hosts.map((t: string) => t.split(":")[0]).filter((h: string) => h !== "localhost")) {
            assert.ok(onMonitoring.has(host), `${job.job_name}: ${host} is not on the monitoring network`);
          }
        }
      });

      it("parents every resource under the platform component", () => {
        const roots = run.resources.filter((r) => !r.parent || r.parent.endsWith("::pulumi:pulumi:Stack"));
        assert.deepEqual(
          roots.map((r) => r.type),
          ["platform:docker:Platform"],
        );
      });

      it("outputs every service URL, the management URL and secret connection strings", async () => {
        const outputs = run.result;
        assert.deepEqual(Object.keys(outputs.serviceUrls).sort(), catalog.services.map((s) => s.name).sort());
        for (const service of catalog.services)
          assert.equal(outputs.serviceUrls[service.name], `http://127.0.0.1:${publishedPort(service)}`);
        assert.equal(outputs.rabbitmqManagementUrl, "http://127.0.0.1:15672");
        assert.equal(outputs.gatewayUrl, "http://127.0.0.1:8000");
        assert.equal(outputs.gatewayAdminUrl, "http://127.0.0.1:18001");
        assert.equal(outputs.grafanaUrl, "http://127.0.0.1:3000");
        assert.equal(outputs.prometheusUrl, "http://127.0.0.1:9090");
        assert.equal(outputs.jaegerUrl, "http://127.0.0.1:16686");
        assert.equal(outputs.logsUrl, "http://127.0.0.1:3000/explore");
        const checks = Object.fromEntries(outputs.healthChecks.map((c) => [c.name, c.url]));
        for (const service of catalog.services)
          assert.equal(checks[service.name], `http://127.0.0.1:${publishedPort(service)}${service.health.path}`);
        assert.equal(checks.gateway, "http://127.0.0.1:8000/platform/health");
        assert.equal(checks["rabbitmq management"], plan.users.length > 0 ? "http://127.0.0.1:15672/" : undefined);
        assert.equal(checks.grafana, "http://127.0.0.1:3000/api/health");
        assert.equal(checks.prometheus, "http://127.0.0.1:9090/-/ready");
        assert.ok((await valueOf(outputs.grafanaAdminPassword!)).secret);
        const credential = await valueOf(outputs.gatewayCredential!);
        const clients = await valueOf(outputs.gatewayClients!);
        assert.ok(credential.secret && clients.secret);
        assert.deepEqual(clients.value, { default: credential.value });
        const connections = await valueOf(outputs.connectionStrings!);
        assert.equal(connections.secret, true);
        for (const service of catalog.services.filter((s) => s.database.kind !== "none")) {
          assert.match(connections.value[service.name].database!, /@127\.0\.0\.1:\d+\//);
        }
        for (const user of plan.users) assert.match(connections.value[user.service].broker!, /@127\.0\.0\.1:5673\//);
      });
    });
  }

  describe("lighter and alternative settings (reservei)", () => {
    let run: MockRun<StackOutputs>;
    before(async () => {
      run = await runUnderMocks(
        "laptop",
        {
          // ELK beside reservei needs about 10 GiB: a machine that has it says so.
          // On the platform's names, which carry the Sentry DSN; the seed's own names need a jwt client.
          ...withCatalogFile(
            devConfig("reservei", { cache: { mode: "single" }, gatewayDatabase: "off", memoryBudget: "12Gi" }),
            platformContractCatalog("reservei"),
          ),
          "platform:gateway": JSON.stringify({ auth: "key-auth" }),
          "platform:observability": JSON.stringify({ logs: "elk" }),
          "platform:sentryDsn": SENTRY_DSN,
        },
        () => runProgram(projectDir),
      );
    });

    it("gives every service the Sentry DSN as a secret, and its environment", () => {
      const services = loadCatalog(builtinCatalogPath("reservei")).services.map((s) =>
        containerNamed(run, `reservei-laptop-${s.name}`)!,
      );
      assert.equal(services.length, 7);
      assert.equal(
        envOf(containerNamed(run, "reservei-laptop-web")!).SENTRY_DSN,
        undefined,
        "the static front end reports nothing",
      );
      for (const container of services) {
        assert.equal(envOf(container).SENTRY_DSN, SENTRY_DSN);
        assert.equal(envOf(container).SENTRY_ENVIRONMENT, "laptop");
      }
      assert.deepEqual(plaintextOccurrences(run.resources, [SENTRY_DSN]), []);
    });

    it("runs one Redis, DB-less Kong and the ELK stack instead", () => {
      const names = new Set(
        ofType(run.resources, CONTAINER).map((c) => (c.inputs.name as string).replace(/^reservei-laptop-/, "")),
      );
      for (const present of ["redis", "kong", "elasticsearch", "logstash", "kibana", "filebeat"])
        assert.ok(names.has(present), present);
      for (const absent of ["redis-master", "redis-sentinel-1", "kong-db", "kong-bootstrap", "loki", "promtail"])
        assert.ok(!names.has(absent), absent);
    });

    it("hands cache users a Redis URL and outputs Kibana as the logs URL", async () => {
      const booking = containerNamed(run, "reservei-laptop-booking-service")!;
      assert.match(envOf(booking).REDIS_URL, /^redis:\/\/:pw[0-9a-f]+@redis:6379\/0$/);
      assert.equal(envOf(booking).REDIS_SENTINELS, undefined);
      assert.equal(run.result.logsUrl, "http://127.0.0.1:5601");
      assert.equal((await valueOf(run.result.gatewayCredential!)).value.kind, "key-auth");
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    });

    it("has Kong count rate limits in the one Redis, on its network", () => {
      const kong = containerNamed(run, "reservei-laptop-kong")!;
      assert.ok(kong.inputs.networksAdvanced.some((n: any) => n.name === "reservei-laptop-data"));
      const config = parse(kong.inputs.uploads.find((u: any) => u.file.endsWith("kong.yml")).content);
      const limits = config.services.flatMap((s: any) => s.routes).map((r: any) => r.plugins[0].config);
      assert.ok(limits.every((c: any) => c.policy === "redis" && c.redis.host === "redis" && c.redis.port === 6379));
    });
  });

  describe("small-laptop settings (reservei)", () => {
    it("fit in 5 GiB with the light profile, one Redis and DB-less Kong, services capped below the catalog's limits", async () => {
      const laptop = await runUnderMocks(
        "laptop",
        {
          ...devConfig("reservei"),
          "platform:docker": JSON.stringify({ profile: "light", cache: { mode: "single" }, gatewayDatabase: "off" }),
        },
        () => runProgram(projectDir),
      );
      assert.ok(
        deployPlan(laptop.resources).containerMemoryMiB <= 5 * 1024,
        `${deployPlan(laptop.resources).containerMemoryMiB} MiB`,
      );
      const analytics = containerNamed(laptop, "reservei-laptop-analytics-service")!;
      assert.equal(
        analytics.inputs.memory,
        MEMORY_PROFILES.light.serviceMax,
        "4G in the catalog, capped for the laptop",
      );
      assert.equal(
        containerNamed(laptop, "reservei-laptop-analytics-service-db")!.inputs.memory,
        MEMORY_PROFILES.light.clickhouse,
      );
    });
  });

  describe("developer tools (finance, seed 002)", () => {
    let run: MockRun<StackOutputs>;
    before(async () => {
      run = await runUnderMocks(
        "dev",
        {
          ...devConfig("finance"),
          "platform:docker": JSON.stringify({ devTools: { adminer: true, redisCommander: true } }),
        },
        () => runProgram(projectDir),
      );
    });

    it("runs Adminer on 127.0.0.1:8080 on the PostgreSQL networks only, with no login of its own", () => {
      const adminer = containerNamed(run, "finance-dev-adminer")!;
      assert.deepEqual(adminer.inputs.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" }]);
      const catalog = loadCatalog(builtinCatalogPath("finance"));
      const postgres = catalog.services
        .filter((s) => s.database.kind === "postgres")
        .map((s) => `finance-dev-${s.name}-db`);
      assert.deepEqual(adminer.inputs.networksAdvanced.map((n: any) => n.name).sort(), postgres.sort());
      assert.equal(adminer.inputs.envs, undefined);
      assert.equal(run.result.adminerUrl, "http://127.0.0.1:8080");
      assert.ok(run.result.healthChecks.some((c) => c.name === "adminer" && c.url === "http://127.0.0.1:8080/"));
    });

    it("runs Redis Commander on 127.0.0.1:8081 through the sentinels, behind a random password", async () => {
      const commander = containerNamed(run, "finance-dev-redis-commander")!;
      assert.deepEqual(commander.inputs.ports, [{ internal: 8081, external: 8081, ip: "127.0.0.1", protocol: "tcp" }]);
      assert.deepEqual(
        commander.inputs.networksAdvanced.map((n: any) => n.name),
        ["finance-dev-data"],
      );
      const env = envOf(commander);
      assert.equal(env.SENTINELS, "redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379");
      assert.equal(env.SENTINEL_NAME, "platform-cache");
      assert.equal(env.HTTP_USER, "admin");
      const password = await valueOf(run.result.redisCommanderPassword!);
      assert.ok(password.secret);
      assert.equal(env.HTTP_PASSWORD, password.value);
      assert.ok(isSecretOnWire(commander.wire.envs), "the env list, passwords in it, is secret");
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    });
  });

  it("declares nothing when the stack config is invalid, and names every problem", async () => {
    let thrown: unknown;
    const run = await runUnderMocks(
      "dev",
      {
        "platform:target": "docker",
        "platform:catalog": "reservei",
        "platform:images": JSON.stringify({ nobody: "x/y:1" }),
      },
      () => {
        try {
          return runProgram(projectDir);
        } catch (e) {
          thrown = e;
          return undefined;
        }
      },
    );
    assert.ok(thrown instanceof ValidationError);
    assert.deepEqual(thrown.problems.map((p) => p.path).sort(), [
      "platform:images.nobody",
      "platform:serviceSecrets.ai-service.OPENAI_API_KEY",
      "platform:serviceSecrets.notification-service.SMTP_PASSWORD",
    ]);
    assert.deepEqual(run.resources, []);
  });
});
