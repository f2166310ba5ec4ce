import { strict as assert } from "assert";
import * as vm from "vm";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { parseCatalog } from "../services/load";
import { Service } from "../services/schema";
import { Microservice } from "../components/docker/Microservice";
import { ServiceDatabase } from "../components/docker/ServiceDatabase";
import { MessageBroker } from "../components/docker/MessageBroker";
import { planTopology } from "../components/messaging/topology";
import { KEYFILE_UPLOAD, renderMongoUserScript, renderReplicaSetInit } from "../components/data/mongoInit";
import { renderEnabledPlugins } from "../components/docker/rabbitmqConfig";
import {
  RecordedResource,
  isSecretOnWire,
  ofType,
  plaintextOccurrences,
  runUnderMocks,
  valueOf,
} from "../tools/mockRun";
import { MEMORY_PROFILES } from "../components/docker/memoryProfile";
import { DATABASE_ENGINES } from "../components/engines";

const labels = { stack: "test", catalog: "shop", component: "test" };
const memory = MEMORY_PROFILES.standard;

function service(fields: Record<string, unknown>): Service {
  const parsed = parseCatalog(
    JSON.stringify({
      name: "shop",
      services: [
        {
          name: "orders",
          image: "shop/orders:1.2.3",
          port: 8080,
          resources: { cpu: "250m", memory: "300Mi" },
          ...fields,
        },
      ],
    }),
  );
  assert.deepEqual(parsed.problems, []);
  return parsed.catalog!.services[0];
}

const one = (resources: RecordedResource[], type: string) => {
  const found = ofType(resources, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
};

describe("components on Docker (under mocks)", () => {
  describe("Microservice", () => {
    it("runs the service hardened, limited, health-checked and published on loopback only", async () => {
      const run = await runUnderMocks("components", {}, () => {
        const net = new docker.Network("edge", { name: "shop-edge" });
        const db = new docker.Network("db", { name: "shop-orders-db" });
        return new Microservice("orders", {
          service: service({
            health: { path: "/healthz", metricsPath: "/prom", metricsPort: 9100 },
            capabilities: ["NET_BIND_SERVICE"],
          }),
          image: { pull: "shop/orders:1.2.3" },
          namePrefix: "shop-test",
          networks: [net, db],
          hostPort: 18080,
          env: { PORT: "8080" },
          secretEnv: { API_TOKEN: pulumi.secret("tok-123") },
          labels,
          memory,
        });
      });
      const container = one(run.resources, "docker:index/container:Container").inputs;
      assert.equal(container.name, "shop-test-orders");
      assert.equal(container.memory, 300);
      assert.equal(container.cpus, "0.25");
      assert.equal(container.restart, "unless-stopped");
      assert.deepEqual(container.ports, [{ internal: 8080, external: 18080, ip: "127.0.0.1", protocol: "tcp" }]);
      assert.deepEqual(container.capabilities, { drops: ["ALL"], adds: ["NET_BIND_SERVICE"] });
      assert.deepEqual(container.securityOpts, ["no-new-privileges:true"]);
      assert.match(container.healthcheck.tests[1], /http:\/\/127\.0\.0\.1:8080\/healthz/);
      assert.equal(
        container.networkMode,
        undefined,
        "a network in both networkMode and networksAdvanced is joined twice",
      );
      assert.deepEqual(
        container.networksAdvanced.map((n: any) => [n.name, n.aliases]),
        [
          ["shop-edge", ["orders"]],
          ["shop-orders-db", ["orders"]],
        ],
      );
      const label = (key: string) => container.labels.find((l: any) => l.label === key)?.value;
      assert.equal(label("platform.service"), undefined, "service label comes from the labels argument");
      assert.equal(label("prometheus.io/port"), "9100");
      assert.equal(label("prometheus.io/path"), "/prom");
      assert.deepEqual([...container.envs].sort(), ["API_TOKEN=tok-123", "PORT=8080"]);
      const wire = ofType(run.resources, "docker:index/container:Container")[0].wire;
      assert.ok(isSecretOnWire(wire.envs), "env holding a secret must be a secret");
      assert.deepEqual(plaintextOccurrences(run.resources, ["tok-123"]), []);
      assert.equal(run.result.url, "http://127.0.0.1:18080");
      assert.equal(run.result.internalUrl, "http://orders:8080");
    });

    it("keeps env plain when it holds no secret, and builds from a context locally when asked", async () => {
      const run = await runUnderMocks(
        "components",
        {},
        () =>
          new Microservice("orders", {
            service: service({ build: { context: "/src/orders", dockerfile: "Dockerfile.prod" } }),
            image: {
              build: {
                imageName: "shop/orders:dev",
                context: "/src/orders",
                dockerfile: "/src/orders/Dockerfile.prod",
              },
            },
            namePrefix: "shop",
            networks: [new docker.Network("edge", {})],
            hostPort: 18080,
            env: { PORT: "8080" },
            secretEnv: {},
            labels,
            memory,
          }),
      );
      assert.deepEqual(ofType(run.resources, "docker:index/remoteImage:RemoteImage"), [], "nothing is pulled");
      const image = one(run.resources, "docker:index/image:Image").inputs;
      assert.deepEqual(image.build, { context: "/src/orders", dockerfile: "/src/orders/Dockerfile.prod" });
      assert.equal(image.imageName, "shop/orders:dev");
      assert.equal(image.skipPush, true, "a local build is never pushed");
      assert.equal(image.registry, undefined);
      const container = one(run.resources, "docker:index/container:Container");
      assert.match(container.inputs.image, /^sha256:[a-f0-9]{64}$/, "runs the build's local image ID");
      assert.ok(!isSecretOnWire(container.wire.envs));
    });

    it("makes the container itself wait for what the service depends on", async () => {
      const run = await runUnderMocks("components", {}, () => {
        const database = new docker.Container("database", { image: "postgres:16-alpine" });
        return new Microservice(
          "orders",
          {
            service: service({}),
            image: { pull: "shop/orders:1.2.3" },
            namePrefix: "shop",
            networks: [new docker.Network("edge", {})],
            hostPort: 18080,
            env: {},
            secretEnv: {},
            labels,
            memory,
          },
          { dependsOn: [database] },
        );
      });
      const container = run.resources.find((r) => r.name === "orders-container")!;
      assert.ok(
        container.dependencies.some((urn) => urn.endsWith("::database")),
        container.dependencies.join("\n"),
      );
    });
  });

  describe("ServiceDatabase", () => {
    const postgres = () =>
      runUnderMocks(
        "components",
        {},
        () =>
          new ServiceDatabase("orders-db", {
            service: "orders",
            database: { kind: "postgres", version: "16", extensions: ["pgcrypto", "citext"] },
            namePrefix: "shop",
            network: new docker.Network("orders-db-net", { name: "shop-orders-db" }),
            hostPort: 15432,
            labels,
            memory,
          }),
      );

    it("runs PostgreSQL with a volume, a healthcheck, and a port on 127.0.0.1 only", async () => {
      const run = await postgres();
      const container = one(run.resources, "docker:index/container:Container").inputs;
      assert.equal(container.image, `sha256:${DATABASE_ENGINES.postgres.image("16")}`);
      assert.deepEqual(container.ports, [{ internal: 5432, external: 15432, ip: "127.0.0.1", protocol: "tcp" }]);
      assert.equal(container.wait, true);
      assert.match(container.healthcheck.tests.join(" "), /pg_isready/);
      assert.deepEqual(container.volumes, [
        { volumeName: "shop-orders-db-data", containerPath: "/var/lib/postgresql/data" },
      ]);
      assert.deepEqual(container.networksAdvanced, [{ name: "shop-orders-db", aliases: ["orders-db"] }]);
      assert.ok(container.envs.some((e: string) => e.startsWith("POSTGRES_PASSWORD=pw")));
      assert.ok(
        !container.envs.some((e: string) => /=(postgres|admin|password)$/.test(e) && e.startsWith("POSTGRES_PASSWORD")),
      );
    });

    it("creates a least-privilege login that owns only its database, through a loopback provider", async () => {
      const run = await postgres();
      const provider = one(run.resources, "pulumi:providers:postgresql").inputs;
      assert.equal(provider.host, "127.0.0.1");
      assert.equal(provider.port, "15432", "providers receive their config as strings");
      const role = one(run.resources, "postgresql:index/role:Role");
      assert.equal(role.inputs.name, "orders_app");
      assert.equal(role.inputs.login, true);
      for (const privilege of ["superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"]) {
        assert.equal(role.inputs[privilege], false, privilege);
      }
      assert.ok(
        role.provider.includes("pulumi:providers:postgresql"),
        "role must be created through the container's provider",
      );
      const database = one(run.resources, "postgresql:index/database:Database").inputs;
      assert.deepEqual([database.name, database.owner], ["orders", "orders_app"]);
      const revoke = one(run.resources, "postgresql:index/grant:Grant").inputs;
      assert.deepEqual(
        [revoke.role, revoke.objectType, revoke.privileges, revoke.database],
        ["public", "database", [], "orders"],
      );
      assert.deepEqual(
        ofType(run.resources, "postgresql:index/extension:Extension").map((e) => [e.inputs.name, e.inputs.database]),
        [
          ["pgcrypto", "orders"],
          ["citext", "orders"],
        ],
      );
      const providerRecord = one(run.resources, "pulumi:providers:postgresql");
      assert.ok(
        providerRecord.dependencies.some((urn) => urn.endsWith("orders-db-container")),
        "provider must wait for the container",
      );
    });

    it("exposes secret URLs for the service and for loopback tools", async () => {
      let db!: ServiceDatabase;
      const run = await runUnderMocks("components", {}, () => {
        db = new ServiceDatabase("orders-db", {
          service: "orders",
          database: { kind: "postgres", version: "16", extensions: [] },
          namePrefix: "shop",
          network: new docker.Network("n", { name: "shop-orders-db" }),
          hostPort: 15433,
          labels,
          memory,
        });
      });
      const url = await valueOf(db.url);
      const hostUrl = await valueOf(db.hostUrl);
      assert.ok(url.secret && hostUrl.secret);
      const password = run.generatedSecrets.find((s) => url.value.includes(s));
      assert.ok(password, "URL carries the service login's generated password");
      assert.equal(url.value, `postgresql://orders_app:${password}@orders-db:5432/orders?sslmode=disable`);
      assert.equal(hostUrl.value, `postgresql://orders_app:${password}@127.0.0.1:15433/orders?sslmode=disable`);
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    });

    it("runs MongoDB as a keyfile-authenticated three-member replica set with the service's readWrite user", async () => {
      const run = await runUnderMocks(
        "components",
        {},
        () =>
          new ServiceDatabase("notes-db", {
            service: "notes",
            database: { kind: "mongodb", version: "7.0" },
            namePrefix: "shop",
            network: new docker.Network("n", { name: "shop-notes-db" }),
            hostPort: 15434,
            labels,
            memory,
          }),
      );
      const containers = ofType(run.resources, "docker:index/container:Container");
      const byName = new Map(containers.map((c) => [c.inputs.name as string, c]));
      assert.deepEqual([...byName.keys()].sort(), [
        "shop-notes-db",
        "shop-notes-db-2",
        "shop-notes-db-3",
        "shop-notes-db-init",
      ]);
      const first = byName.get("shop-notes-db")!;
      assert.equal(first.inputs.image, `sha256:${DATABASE_ENGINES.mongodb.image("7.0")}`);
      const upload = (c: RecordedResource, file: string) => c.inputs.uploads.find((u: any) => u.file === file)?.content;
      assert.match(upload(first, "/docker-entrypoint-initdb.d/10-service-user.js"), /createUser\(\{ user: "notes_app"/);
      const keyfile = upload(first, KEYFILE_UPLOAD);
      assert.ok(run.generatedSecrets.includes(keyfile), "the keyfile is a generated secret");
      for (const member of ["shop-notes-db", "shop-notes-db-2", "shop-notes-db-3"]) {
        const c = byName.get(member)!;
        assert.equal(upload(c, KEYFILE_UPLOAD), keyfile, `${member}: same keyfile`);
        assert.match(c.inputs.command.join(" "), /--replSet rs0 --keyFile \/etc\/mongo\/keyfile/);
        assert.equal(c.inputs.wait, true);
      }
      assert.deepEqual(byName.get("shop-notes-db-2")!.inputs.ports, undefined, "only the first member is published");
      const init = byName.get("shop-notes-db-init")!;
      assert.equal(init.inputs.attach, true, "pulumi up waits for the initiation and fails with it");
      assert.match(upload(init, "/init/replica-set.js"), /notes-db-3:27017/);
      const urn = (n: string) => containers.find((c) => c.inputs.name === n)!.urn;
      for (const member of ["shop-notes-db", "shop-notes-db-2", "shop-notes-db-3"])
        assert.ok(init.dependencies.includes(urn(member)), `init waits for ${member}`);
      const db = run.result;
      const password = run.generatedSecrets.find((s) =>
        upload(first, "/docker-entrypoint-initdb.d/10-service-user.js").includes(s),
      )!;
      assert.equal(
        (await valueOf(db.url)).value,
        `mongodb://notes_app:${password}@notes-db:27017,notes-db-2:27017,notes-db-3:27017/notes?authSource=notes&replicaSet=rs0`,
      );
      assert.equal(
        (await valueOf(db.hostUrl)).value,
        `mongodb://notes_app:${password}@127.0.0.1:15434/notes?authSource=notes&directConnection=true`,
      );
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
      assert.equal(ofType(run.resources, "pulumi:providers:postgresql").length, 0);
    });

    it("bootstraps ClickHouse with only the service's user and access management off", async () => {
      const run = await runUnderMocks(
        "components",
        {},
        () =>
          new ServiceDatabase("events-db", {
            service: "events",
            database: { kind: "clickhouse", version: "24.8" },
            namePrefix: "shop",
            network: new docker.Network("n", { name: "shop-events-db" }),
            hostPort: 15435,
            labels,
            memory,
          }),
      );
      const envs: string[] = one(run.resources, "docker:index/container:Container").inputs.envs;
      assert.ok(envs.includes("CLICKHOUSE_USER=events_app"));
      assert.ok(envs.includes("CLICKHOUSE_DB=events"));
      assert.ok(envs.includes("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=0"));
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    });
  });

  describe("MessageBroker", () => {
    const catalog = parseCatalog(
      require("fs").readFileSync(require("../services/load").builtinCatalogPath("erp"), "utf8"),
    ).catalog!;
    const plan = planTopology(catalog);
    const broker = (amqpHostPort?: number) =>
      runUnderMocks(
        "components",
        {},
        () =>
          new MessageBroker("mq", {
            namePrefix: "erp-dev",
            image: "rabbitmq:4.3.6-management-alpine",
            plan,
            network: new docker.Network("data", { name: "erp-dev-data" }),
            monitoringNetwork: new docker.Network("monitoring", { name: "erp-dev-monitoring" }),
            managementHostPort: 15672,
            amqpHostPort,
            labels,
            memory,
          }),
      );

    it("publishes management on loopback and AMQP only when asked", async () => {
      const closed = one((await broker()).resources, "docker:index/container:Container").inputs;
      assert.deepEqual(closed.ports, [{ internal: 15672, external: 15672, ip: "127.0.0.1", protocol: "tcp" }]);
      const open = one((await broker(5673)).resources, "docker:index/container:Container").inputs;
      assert.deepEqual(
        open.ports.map((p: any) => [p.internal, p.external, p.ip]),
        [
          [15672, 15672, "127.0.0.1"],
          [5672, 5673, "127.0.0.1"],
        ],
      );
    });

    it("enables management and Prometheus plugins and has no default credentials", async () => {
      const run = await broker();
      const container = one(run.resources, "docker:index/container:Container");
      assert.deepEqual(container.inputs.uploads, [
        { file: "/etc/rabbitmq/enabled_plugins", content: "[rabbitmq_management,rabbitmq_prometheus].\n" },
      ]);
      assert.ok(isSecretOnWire(container.wire.envs));
      assert.ok(!container.inputs.envs.some((e: string) => /guest|admin123/.test(e)));
      assert.equal(container.inputs.wait, true);
    });

    it("declares the whole plan through a provider on the management port", async () => {
      const run = await broker();
      const provider = one(run.resources, "pulumi:providers:rabbitmq");
      assert.equal(provider.inputs.endpoint, "http://127.0.0.1:15672");
      assert.ok(provider.dependencies.some((urn) => urn.endsWith("mq-container")));
      assert.equal(ofType(run.resources, "rabbitmq:index/exchange:Exchange").length, plan.exchanges.length);
      assert.equal(ofType(run.resources, "rabbitmq:index/queue:Queue").length, plan.queues.length);
      assert.equal(ofType(run.resources, "rabbitmq:index/binding:Binding").length, plan.bindings.length);
      assert.equal(ofType(run.resources, "rabbitmq:index/user:User").length, plan.users.length);
      for (const type of [
        "rabbitmq:index/exchange:Exchange",
        "rabbitmq:index/queue:Queue",
        "rabbitmq:index/user:User",
        "rabbitmq:index/permissions:Permissions",
      ]) {
        for (const r of ofType(run.resources, type))
          assert.ok(r.provider.includes("pulumi:providers:rabbitmq::mq-admin"), `${r.name} bypasses the provider`);
      }
      const queue = ofType(run.resources, "rabbitmq:index/queue:Queue").find(
        (q) => q.inputs.name === "notification-service.queue",
      )!;
      // A quorum queue: durable, never auto-deleted, no x-max-priority (it orders priorities without one).
      assert.deepEqual([queue.inputs.settings.durable, queue.inputs.settings.autoDelete], [true, false]);
      assert.deepEqual(JSON.parse(queue.inputs.settings.argumentsJson), {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "platform.dlx",
        "x-dead-letter-routing-key": "notification-service.queue",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 10,
        "x-message-ttl": 86400000,
      });
      const permissions = ofType(run.resources, "rabbitmq:index/permissions:Permissions").find(
        (p) => p.inputs.user === "sales-service",
      )!;
      assert.equal(permissions.inputs.vhost, "erp");
      assert.equal(permissions.inputs.permissions.read, "^(sales-service\\.queue|sales-service\\.queue\\.dlq)$");
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    });

    it("names each binding's queue and exchange through their outputs, so a replaced queue takes its bindings along", async () => {
      // A queue whose arguments change is replaced delete-first (its name is fixed), and RabbitMQ
      // drops its bindings with it. Pulumi replaces a dependent too only when one of its inputs comes
      // from the replaced resource (step_generator.go, calculateDependentReplacements): dependsOn
      // alone would leave the bindings in the state and gone from the broker, routing nothing.
      const run = await broker();
      const urnOf = (type: string) =>
        new Map(ofType(run.resources, type).map((r): [string, string] => [r.inputs.name, r.urn]));
      const queues = urnOf("rabbitmq:index/queue:Queue");
      const exchanges = urnOf("rabbitmq:index/exchange:Exchange");
      const bindings = ofType(run.resources, "rabbitmq:index/binding:Binding");
      assert.equal(bindings.length, plan.bindings.length);
      for (const binding of bindings) {
        const { source, destination } = binding.inputs;
        assert.deepEqual(binding.propertyDependencies?.destination, [queues.get(destination)], binding.name);
        assert.deepEqual(binding.propertyDependencies?.source, [exchanges.get(source)], binding.name);
      }
    });
  });
});

describe("renderers", () => {
  it("creates the service's login on its own database, or updates it on a re-run, with every value quoted", () => {
    // mongosh's globals, stubbed: a user store per database.
    const run = (script: string, existing: string[], env: Record<string, string> = {}) => {
      const calls: string[] = [];
      const database = (name: string) => ({
        getUser: (user: string) => (existing.includes(`${name}.${user}`) ? { user } : null),
        createUser: (spec: any) => calls.push(`create ${name}.${spec.user} ${spec.pwd} ${JSON.stringify(spec.roles)}`),
        updateUser: (user: string, spec: any) =>
          calls.push(`update ${name}.${user} ${spec.pwd} ${JSON.stringify(spec.roles)}`),
      });
      vm.runInNewContext(script, { db: { getSiblingDB: database }, process: { env } });
      return calls;
    };
    const tricky = `p"w'\\`;
    assert.deepEqual(run(renderMongoUserScript("notes", "notes_app", { value: tricky }), []), [
      `create notes.notes_app ${tricky} [{"role":"readWrite","db":"notes"}]`,
    ]);
    assert.deepEqual(run(renderMongoUserScript("notes", "notes_app", { value: "new" }), ["notes.notes_app"]), [
      'update notes.notes_app new [{"role":"readWrite","db":"notes"}]',
    ]);
    const documentDb = renderMongoUserScript("notes", "notes_app", { env: "SERVICE_PASSWORD" }, "admin");
    assert.ok(!documentDb.includes("s3cret"));
    assert.deepEqual(run(documentDb, [], { SERVICE_PASSWORD: "s3cret" }), [
      'create admin.notes_app s3cret [{"role":"readWrite","db":"notes"}]',
    ]);
  });

  it("initiates the replica set once, with the first member preferred as primary, and rethrows other errors", () => {
    const script = renderReplicaSetInit(["notes-db", "notes-db-2", "notes-db-3"], 27017);
    // mongosh's globals, stubbed: rs.status() throws until the set is initiated.
    const run = (status: () => unknown) => {
      const initiated: any[] = [];
      vm.runInNewContext(script, {
        rs: { status, initiate: (config: unknown) => initiated.push(config) },
        print: () => undefined,
      });
      return JSON.parse(JSON.stringify(initiated)); // plain objects of this realm
    };
    const fresh = run(() => {
      throw Object.assign(new Error("no replset config"), { codeName: "NotYetInitialized" });
    });
    assert.deepEqual(fresh, [
      {
        _id: "rs0",
        members: [
          { _id: 0, host: "notes-db:27017", priority: 2 },
          { _id: 1, host: "notes-db-2:27017", priority: 1 },
          { _id: 2, host: "notes-db-3:27017", priority: 1 },
        ],
      },
    ]);
    assert.deepEqual(
      run(() => ({ ok: 1 })),
      [],
      "a second run changes nothing",
    );
    assert.throws(
      () =>
        run(() => {
          throw Object.assign(new Error("auth failed"), { codeName: "Unauthorized" });
        }),
      /auth failed/,
    );
  });

  it("renders enabled_plugins as an Erlang list and refuses odd names", () => {
    assert.equal(renderEnabledPlugins(["a_b", "c"]), "[a_b,c].\n");
    assert.throws(() => renderEnabledPlugins(["x]."]), /invalid RabbitMQ plugin name/);
  });
});
