// Placeholders in a service's env (services/placeholders.ts): parsed, validated with field paths
// before any resource, resolved per target with credentials kept secret, and accepted by a real
// PostgreSQL in the shapes Laravel and Spring read.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { RDS_CA_DIR, RDS_POSTGRES_TLS } from "../components/aws/rdsTrust";
import { connectionUrl, databaseNames } from "../components/data/databasePlan";
import { DatabaseEndpoint } from "../components/platform";
import { serviceEnvironment } from "../components/serviceEnvironment";
import { BuiltinCatalog, builtinCatalogPath, loadCatalog, parseCatalog } from "../services/load";
import {
  RESOURCE_FIELDS,
  classifyPlaceholder,
  isSecretPlaceholder,
  parseEnvTemplate,
  placeholdersOf,
  renderEnvTemplate,
} from "../services/placeholders";
import { Catalog, Service } from "../services/schema";
import { ofType, plaintextOccurrences, runUnderMocks } from "../tools/mockRun";
import { runStack } from "../tools/stackRun";
import { withCatalogFileLayers, writeCatalog } from "./helpers/catalogFiles";
import {
  ReceivedValue,
  declaredNames,
  fixedNameOf,
  platformContractCatalog,
  receivedEnvironment,
  resolvedValues,
  valuesOf,
} from "./helpers/envContract";
import {
  NodePostgres,
  PostgresCluster,
  canRunPostgresCluster,
  nodePostgres,
  startPostgresCluster,
} from "./helpers/postgres";
import { devConfig, prodLayers } from "./helpers/stackConfigs";

const catalogOf = (yaml: string): Catalog => {
  const parsed = parseCatalog(yaml);
  assert.ok(parsed.catalog, JSON.stringify(parsed.problems));
  return parsed.catalog;
};

describe("env placeholders: the resolver", () => {
  it("splits text from placeholders, writes $${ as a literal ${, and names a placeholder left open", () => {
    assert.deepEqual(parseEnvTemplate("jdbc:postgresql://${database.host}:${database.port}/x").segments, [
      { text: "jdbc:postgresql://" },
      { placeholder: "database.host" },
      { text: ":" },
      { placeholder: "database.port" },
      { text: "/x" },
    ]);
    assert.deepEqual(parseEnvTemplate("$${HOME}/a$b${cache.url}").segments, [
      { text: "${HOME}/a$b" },
      { placeholder: "cache.url" },
    ]);
    assert.deepEqual(parseEnvTemplate("plain").segments, [{ text: "plain" }]);
    assert.deepEqual(parseEnvTemplate("x${database.host").errors, [
      "'${database.host' is not closed with } (write $${ for a literal ${)",
    ]);
  });

  it("knows every resource field, another service's URL and the service's own secrets, and lists what exists when a name is wrong", () => {
    for (const [resource, fields] of Object.entries(RESOURCE_FIELDS)) {
      for (const field of Object.keys(fields)) {
        assert.deepEqual(classifyPlaceholder(`${resource}.${field}`), { kind: "resource", resource, field });
      }
    }
    assert.deepEqual(classifyPlaceholder("service.fx-quotes.url"), { kind: "service", service: "fx-quotes" });
    assert.deepEqual(classifyPlaceholder("secret.STRIPE_KEY"), { kind: "secret", name: "STRIPE_KEY" });
    assert.deepEqual(classifyPlaceholder("database.hots"), {
      error: "unknown placeholder ${database.hots}; database has host, port, name, user, password, url, options",
    });
    assert.match((classifyPlaceholder("db.host") as { error: string }).error, /^unknown placeholder \$\{db\.host\}; /);
    assert.ok("error" in classifyPlaceholder("service.fx-quotes"), "a service's URL only");
    assert.ok("error" in classifyPlaceholder("secret."), "a secret's name");
  });

  it("counts as secret exactly what holds a credential", () => {
    const secret = (key: string) => isSecretPlaceholder(classifyPlaceholder(key) as never);
    assert.deepEqual(
      Object.entries(RESOURCE_FIELDS).flatMap(([r, fields]) =>
        Object.keys(fields)
          .map((f) => `${r}.${f}`)
          .filter(secret),
      ),
      [
        "database.password",
        "database.url",
        "cache.password",
        "cache.url",
        "broker.password",
        "broker.url",
        "gateway.jwtSecret",
        "sentry.dsn",
      ],
    );
    assert.ok(secret("secret.ANY"));
    assert.ok(!secret("service.any.url"));
  });

  it("renders each placeholder in place, in order, and refuses a value validation would refuse", () => {
    const seen: string[] = [];
    const rendered = renderEnvTemplate("$${x}:${database.host}/${database.name}", (p, index) => {
      seen.push(JSON.stringify(p));
      return `<${index}>`;
    });
    assert.equal(rendered, "${x}:<0>/<1>");
    assert.equal(seen.length, 2);
    assert.throws(() => renderEnvTemplate("${a.b}", () => "x"), /unknown placeholder \$\{a\.b\}/);
  });
});

describe("env placeholders: validation", () => {
  it("names every placeholder a service cannot use, with its field, in one pass", () => {
    const parsed = parseCatalog(`
name: atlas
services:
  - name: fx-quotes
    image: atlas/fx:1.0.0
    port: 8000
    resources: { cpu: 100m, memory: 128Mi }
    env: { DB_HOST: "\${tracing.url}" }
  - name: ledger
    image: atlas/ledger:1.0.0
    port: 8080
    resources: { cpu: 100m, memory: 128Mi }
    envContract: none
    env:
      A: \${database.host}
      B: \${cache.url}
      C: amqp via \${broker.url}
      D: \${service.fx-quotes.url}
      E: \${service.pricing.url}
      F: \${secret.STRIPE_KEY}
      G: \${gateway.jwtSecret}
      H: \${database.hots}
      I: x\${tracing.url
      DB_HOST: \${tracing.url}
      SENTRY_DSN: \${sentry.dsn}
`);
    assert.equal(parsed.catalog, undefined);
    assert.deepEqual(
      parsed.problems.map((p) => `${p.path}: ${p.message}`),
      [
        "services[0].env.DB_HOST: is set by the platform; choose another name, or set envContract: none to set only the service's own names",
        "services[1].env.A: ${database.host}: the service has no database (database.kind is none)",
        "services[1].env.B: ${cache.url}: the service does not use the cache (cache: true)",
        "services[1].env.C: ${broker.url}: the service publishes and consumes no events, so it has no broker login",
        "services[1].env.D: ${service.fx-quotes.url}: 'fx-quotes' is not in dependsOn, so no path to it is opened",
        "services[1].env.E: ${service.pricing.url}: 'pricing' is not a service of the catalog",
        "services[1].env.F: ${secret.STRIPE_KEY}: the service declares no secret 'STRIPE_KEY' (secrets)",
        "services[1].env.G: ${gateway.jwtSecret}: only a service with auth.issuesTokens: true holds the gateway's signing secret",
        "services[1].env.H: unknown placeholder ${database.hots}; database has host, port, name, user, password, url, options",
        "services[1].env.I: '${tracing.url' is not closed with } (write $${ for a literal ${)",
      ],
      "DB_HOST and SENTRY_DSN are the service's own under envContract none",
    );
  });
});

/** Dev, and both prod layers, for a built-in catalog. */
const TARGETS = {
  dev: (catalog: BuiltinCatalog) => [{ stack: "dev", config: devConfig(catalog) }],
  prod: (catalog: BuiltinCatalog) => prodLayers(catalog),
};

describe("env placeholders: the seeds' own names, under mocks", function () {
  this.timeout(240000);

  for (const seed of ["erp", "reservei"] as const) {
    for (const [target, layersOf] of Object.entries(TARGETS)) {
      it(`${seed} on ${target}: each service gets exactly its own names, with the values the fixed names carry on the same target, credentials secret`, async () => {
        const catalog = loadCatalog(builtinCatalogPath(seed));
        const own = await runStack(layersOf(seed));
        const fixed = await runStack(withCatalogFileLayers(layersOf(seed), platformContractCatalog(seed)));
        const compared = new Map<string, string[]>();
        for (const service of catalog.services) {
          assert.equal(service.envContract, "none", service.name);
          const received = receivedEnvironment(own.all, service.name);
          const reference = receivedEnvironment(fixed.all, service.name);
          assert.deepEqual(Object.keys(received).sort(), declaredNames(service), `${service.name}: nothing else`);
          const names: string[] = [];
          for (const [name, template] of Object.entries(service.env)) {
            if (placeholdersOf(template).some(isSecretPlaceholder)) {
              assert.ok(received[name].secret, `${service.name}: ${name} is secret`);
            }
            const fixedName = fixedNameOf(template);
            if (fixedName === undefined || !(fixedName in reference)) continue;
            assert.equal(received[name].value, reference[fixedName].value, `${service.name}: ${name} = ${fixedName}`);
            names.push(name);
          }
          compared.set(service.name, names);
        }
        assert.deepEqual(plaintextOccurrences(own.all, own.generatedSecrets), []);
        if (seed === "erp") {
          const auth = compared.get("auth-service")!;
          for (const name of ["DB_DATABASE", "DB_USERNAME", "DB_PASSWORD", "RABBITMQ_PASSWORD", "JWT_SECRET"]) {
            assert.ok(auth.includes(name), `auth-service: ${name} compared (${auth})`);
          }
          assert.equal(receivedEnvironment(own.all, "auth-service").DB_CONNECTION.value, "pgsql");
        } else {
          assert.ok(compared.get("booking-service")!.includes("DATABASE_URL"));
          assert.ok(compared.get("analytics-service")!.includes("CLICKHOUSE_URL"), "ClickHouse's URL");
          // Dev's Sentinel group has no fixed REDIS_URL: the seed's name reads the master's URL.
          const redisUrl = receivedEnvironment(own.all, "booking-service").REDIS_URL.value;
          if (target === "dev") assert.match(redisUrl, /^redis:\/\/:pw[0-9a-f]+@redis-master:6379\/0$/);
          else assert.ok(compared.get("booking-service")!.includes("REDIS_URL"));
        }
      });
    }
  }
});

/** A system no seed has: Spring Boot on its own names, FastAPI on both, a secret inside a value, a literal ${. */
const ATLAS = `
name: atlas
services:
  - name: ledger-reconciliation-and-settlement-service
    description: Spring Boot, reading its own names only
    image: atlas/ledger:2.3.1
    port: 8080
    resources: { cpu: 250m, memory: 512Mi }
    database: { kind: postgres, version: "16" }
    cache: true
    events: { publishes: [ledger.entry.posted] }
    secrets: [{ name: STRIPE_KEY, source: random, length: 32 }]
    dependsOn: [fx-quotes]
    envContract: none
    env:
      SPRING_DATASOURCE_URL: jdbc:postgresql://\${database.host}:\${database.port}/\${database.name}?\${database.options}
      SPRING_DATASOURCE_USERNAME: \${database.user}
      SPRING_DATASOURCE_PASSWORD: \${database.password}
      SPRING_DATA_REDIS_SENTINEL_NODES: \${cache.sentinels}
      SPRING_DATA_REDIS_SSL_ENABLED: \${cache.tls}
      SPRING_RABBITMQ_ADDRESSES: \${broker.url}
      SPRING_RABBITMQ_SSL_ENABLED: \${broker.tls}
      PAYMENTS_CONFIG: provider=stripe;key=\${secret.STRIPE_KEY}
      QUOTES_URL: \${service.fx-quotes.url}/v1/rates
      REPORT_DIR: $\${HOME}/reports
  - name: fx-quotes
    description: FastAPI, the platform's names and its own
    image: atlas/fx:1.0.0
    port: 8000
    resources: { cpu: 100m, memory: 128Mi }
    database: { kind: postgres, version: "16" }
    env:
      SQLALCHEMY_DATABASE_URI: postgresql+psycopg://\${database.user}:\${database.password}@\${database.host}:\${database.port}/\${database.name}?\${database.options}
`;
const LEDGER = "ledger-reconciliation-and-settlement-service";

describe("env placeholders: a catalog of our own (Spring Boot, FastAPI), under mocks", function () {
  this.timeout(240000);
  const file = writeCatalog(parse(ATLAS));
  const layers = {
    dev: withCatalogFileLayers(TARGETS.dev("bookings"), file),
    prod: withCatalogFileLayers(TARGETS.prod("bookings"), file),
  };
  const ledgerDatabase = databaseNames(LEDGER).database;

  /** FastAPI's URL, built from the fixed names it also gets: the same login, host and database. */
  const sqlalchemyFrom = (env: Record<string, ReceivedValue>, options: string) =>
    `postgresql+psycopg://${env.DB_USER.value}:${env.DB_PASSWORD.value}@${env.DB_HOST.value}:${env.DB_PORT.value}/${env.DB_NAME.value}?${options}`;

  it("dev: a JDBC URL without TLS, the sentinels, the dependency's URL, a literal ${, and the env list secret", async () => {
    const run = await runStack(layers.dev);
    const ledger = receivedEnvironment(run.all, LEDGER);
    assert.equal(
      ledger.SPRING_DATASOURCE_URL.value,
      `jdbc:postgresql://${LEDGER}-db:5432/${ledgerDatabase}?sslmode=disable`,
    );
    assert.equal(
      ledger.SPRING_DATA_REDIS_SENTINEL_NODES.value,
      "redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379",
    );
    assert.deepEqual(
      [ledger.SPRING_DATA_REDIS_SSL_ENABLED.value, ledger.SPRING_RABBITMQ_SSL_ENABLED.value],
      ["false", "false"],
    );
    assert.match(
      ledger.SPRING_RABBITMQ_ADDRESSES.value,
      new RegExp(`^amqp://${LEDGER}:pw[0-9a-f]+@rabbitmq:5672/atlas$`),
    );
    assert.match(ledger.PAYMENTS_CONFIG.value, /^provider=stripe;key=pw[0-9a-f]+$/);
    assert.equal(ledger.QUOTES_URL.value, "http://fx-quotes:8000/v1/rates");
    assert.equal(ledger.REPORT_DIR.value, "${HOME}/reports");
    assert.ok(ledger.PAYMENTS_CONFIG.secret, "the container's env list is secret");
    const fx = receivedEnvironment(run.all, "fx-quotes");
    assert.equal(fx.SERVICE_NAME.value, "fx-quotes", "the platform's names beside its own");
    assert.equal(fx.SQLALCHEMY_DATABASE_URI.value, sqlalchemyFrom(fx, "sslmode=disable"));
    assert.deepEqual(plaintextOccurrences(run.all, run.generatedSecrets), []);
  });

  it("prod: the JDBC URL verifies RDS with the mounted bundle, plain values in the Deployment, anything with a credential in the Secret", async () => {
    const run = await runStack(layers.prod);
    const ledger = receivedEnvironment(run.all, LEDGER);
    const jdbc = ledger.SPRING_DATASOURCE_URL;
    assert.match(jdbc.value, new RegExp(`^jdbc:postgresql://[^/]+\\.rds\\.amazonaws\\.com:5432/${ledgerDatabase}\\?`));
    assert.ok(jdbc.value.endsWith(`?${RDS_POSTGRES_TLS}`), jdbc.value);
    assert.equal(jdbc.secret, false, "no credential in it: a plain value");
    const deployment = ofType(run.all, "kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === LEDGER)!;
    assert.ok(
      deployment.inputs.spec.template.spec.containers[0].volumeMounts.some((m: any) => m.mountPath === RDS_CA_DIR),
      "the bundle the URL names is mounted",
    );
    for (const name of ["SPRING_DATASOURCE_PASSWORD", "SPRING_RABBITMQ_ADDRESSES", "PAYMENTS_CONFIG"]) {
      assert.equal(ledger[name].secret, true, name);
    }
    assert.deepEqual(
      [
        ledger.SPRING_DATA_REDIS_SENTINEL_NODES.value,
        ledger.SPRING_DATA_REDIS_SSL_ENABLED.value,
        ledger.SPRING_RABBITMQ_SSL_ENABLED.value,
      ],
      ["", "true", "true"],
      "ElastiCache has no Sentinel; both stores use TLS",
    );
    assert.match(ledger.SPRING_RABBITMQ_ADDRESSES.value, /^amqps:\/\//);
    assert.match(ledger.QUOTES_URL.value, /^http:\/\/fx-quotes\.atlas\.svc\.cluster\.local:8000\/v1\/rates$/);
    const fx = receivedEnvironment(run.all, "fx-quotes");
    assert.equal(fx.SQLALCHEMY_DATABASE_URI.secret, true);
    assert.equal(fx.SQLALCHEMY_DATABASE_URI.value, sqlalchemyFrom(fx, RDS_POSTGRES_TLS));
    assert.deepEqual(plaintextOccurrences(run.all, run.generatedSecrets), []);
  });
});

describe("env placeholders against a real PostgreSQL (Laravel's names, a JDBC URL)", function () {
  this.timeout(60000);
  let cluster: PostgresCluster;
  let pg: NodePostgres;
  const login = { database: "orders", username: "orders_app", password: randomBytes(16).toString("hex") };
  let env: Record<string, string>;

  before(async function () {
    const client = nodePostgres();
    if (!canRunPostgresCluster() || !client) {
      console.log(
        "    (skipped: PostgreSQL server binaries, psql, runuser or node-postgres missing; .ci/run installs them)",
      );
      return this.skip();
    }
    pg = client;
    cluster = await startPostgresCluster({ hostAuth: "scram-sha-256" });
    cluster.superuser(`CREATE ROLE ${login.username} LOGIN PASSWORD '${login.password}'`);
    cluster.superuser(`CREATE DATABASE ${login.database} OWNER ${login.username}`);
    env = await resolvedEnvironment(
      catalogOf(`
name: shop
services:
  - name: orders
    image: shop/orders:1.0.0
    port: 8000
    resources: { cpu: 100m, memory: 128Mi }
    database: { kind: postgres }
    envContract: none
    env:
      DB_CONNECTION: pgsql
      DB_HOST: \${database.host}
      DB_PORT: \${database.port}
      DB_DATABASE: \${database.name}
      DB_USERNAME: \${database.user}
      DB_PASSWORD: \${database.password}
      SPRING_DATASOURCE_URL: jdbc:postgresql://\${database.host}:\${database.port}/\${database.name}?\${database.options}
      SPRING_DATASOURCE_USERNAME: \${database.user}
      SPRING_DATASOURCE_PASSWORD: \${database.password}
`).services[0],
      {
        host: "127.0.0.1",
        port: cluster.port,
        name: login.database,
        username: login.username,
        password: pulumi.secret(login.password),
        url: pulumi.secret(
          connectionUrl(
            "postgresql",
            login.username,
            login.password,
            "127.0.0.1",
            cluster.port,
            login.database,
            "sslmode=disable",
          ),
        ),
        location: { kind: "local" },
      },
    );
  });

  after(() => cluster?.stop());

  /** Who and where node-postgres lands with these parts, or why it was refused. */
  const whoAmI = async (config: { host: string; port: number; database: string; user: string; password: string }) => {
    const client = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      const row = (await client.query("select current_user, current_database()")).rows[0];
      return `${row.current_user}@${row.current_database}`;
    } catch (e) {
      return String((e as Error).message);
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it("Laravel's DB_* log in exactly as given, and the server checks the password", async () => {
    assert.equal(env.DB_CONNECTION, "pgsql");
    const laravel = {
      host: env.DB_HOST,
      port: Number(env.DB_PORT),
      database: env.DB_DATABASE,
      user: env.DB_USERNAME,
      password: env.DB_PASSWORD,
    };
    assert.equal(await whoAmI(laravel), "orders_app@orders");
    assert.match(await whoAmI({ ...laravel, password: "wrong" }), /password authentication failed/);
  });

  it("the JDBC URL names the same server, database and TLS mode, and its parts log in with Spring's user and password", async () => {
    const jdbc = /^jdbc:postgresql:\/\/([^:/]+):(\d+)\/([^?]+)\?(.*)$/.exec(env.SPRING_DATASOURCE_URL);
    assert.ok(jdbc, env.SPRING_DATASOURCE_URL);
    const [, host, port, database, query] = jdbc;
    assert.deepEqual([host, Number(port), database], ["127.0.0.1", cluster.port, "orders"]);
    assert.equal(new URLSearchParams(query).get("sslmode"), "disable");
    const spring = {
      host,
      port: Number(port),
      database,
      user: env.SPRING_DATASOURCE_USERNAME,
      password: env.SPRING_DATASOURCE_PASSWORD,
    };
    assert.equal(await whoAmI(spring), "orders_app@orders");
  });
});

/** What a service's container would get, for a database endpoint of the test's own. */
async function resolvedEnvironment(service: Service, database: DatabaseEndpoint): Promise<Record<string, string>> {
  const { result } = await runUnderMocks("placeholders", {}, () => {
    const owner = new pulumi.ComponentResource("test:index:Placeholders", "placeholders");
    const tracing = { url: "http://127.0.0.1:4318", port: 4318, location: { kind: "local" as const } };
    return serviceEnvironment(service, {
      environment: "test",
      endpoints: { tracing, database },
      dependencyUrl: () => assert.fail("no dependencies"),
      configSecrets: { services: {} },
      secretOwner: { name: "placeholders", parent: owner },
    });
  });
  const values = await resolvedValues({ ...result.env, ...result.secretEnv });
  assert.equal(values.DB_PASSWORD.secret, true, "the password stays a Pulumi secret");
  assert.equal(values.DB_HOST.secret, false);
  return valuesOf(values);
}
