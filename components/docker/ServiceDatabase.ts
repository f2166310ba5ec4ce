import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import { Database } from "../../services/schema";
import { DatabaseEndpoint } from "../platform";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES, DatabaseEngineSpec, POSTGRES_EXPORTER } from "../engines";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
import { PostgresAccess } from "../data/PostgresAccess";
import {
  KEYFILE_UPLOAD,
  REPLICA_SET_NAME,
  mongodReplicaSetCommand,
  renderMongoUserScript,
  renderReplicaSetInit,
  replicaSetMembers,
} from "../data/mongoInit";
import { PlatformLabels, healthcheck, httpGet, loopbackPort, platformLabels } from "./containerDefaults";
import { databaseHost, exporterHost, replicaSetInitHost } from "./containerNames";
import { oneShotContainer, platformContainer, stepsCommand } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";

type Engine = Exclude<Database["kind"], "none">;

/** What Docker adds to the engine table: the query of the service's URL and how the image makes its accounts. */
interface DockerEngineSpec {
  urlQuery(database: string): string;
  /** Container env that creates the admin account (and, where the image does it, the service's account). */
  env(admin: string, adminPassword: string, database: string, username: string, password: string): string[];
}

const DOCKER_ENGINES: Record<Engine, DockerEngineSpec> = {
  postgres: {
    urlQuery: () => "sslmode=disable",
    // The service's login and database are created through @pulumi/postgresql, not by the image.
    env: (admin, adminPassword) => [
      `POSTGRES_USER=${admin}`,
      `POSTGRES_PASSWORD=${adminPassword}`,
      "POSTGRES_DB=postgres",
    ],
  },
  mongodb: {
    urlQuery: (database) => `authSource=${database}`,
    env: (admin, adminPassword, database) => [
      `MONGO_INITDB_ROOT_USERNAME=${admin}`,
      `MONGO_INITDB_ROOT_PASSWORD=${adminPassword}`,
      `MONGO_INITDB_DATABASE=${database}`,
    ],
  },
  clickhouse: {
    urlQuery: () => "",
    // The image creates exactly this user and database; the default user is disabled.
    env: (_admin, _adminPassword, database, username, password) => [
      `CLICKHOUSE_DB=${database}`,
      `CLICKHOUSE_USER=${username}`,
      `CLICKHOUSE_PASSWORD=${password}`,
      "CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=0",
    ],
  },
};

/** The engine table's entry with what Docker adds. */
type EngineSpec = DatabaseEngineSpec & DockerEngineSpec;

/** Where the database's metrics exporter runs, when there is one. */
export interface DatabaseMonitoring {
  network: docker.Network;
  postgresExporterImage: string;
}

export interface ServiceDatabaseArgs {
  service: string;
  database: Exclude<Database, { kind: "none" }>;
  /** Image to run instead of the engine's default for the catalog's version. */
  image?: string;
  namePrefix: string;
  /** The network shared only by this database and its service. */
  network: docker.Network;
  hostPort: number;
  /** PostgreSQL gets a postgres_exporter with a pg_monitor-only login. */
  monitoring?: DatabaseMonitoring;
  labels: PlatformLabels;
  memory: ContainerMemory;
}

/** One database server per service on Docker, with a volume, a healthcheck and the service's own login. */
export class ServiceDatabase extends pulumi.ComponentResource {
  /** Hostname of the database on its network. */
  readonly host: string;
  readonly port: number;
  readonly databaseName: pulumi.Output<string>;
  readonly username: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
  /** URL for the service container (secret). */
  readonly url: pulumi.Output<string>;
  /** What the service connects to. */
  readonly endpoint: DatabaseEndpoint;
  /** URL through the loopback port, for the developer's tools (secret). */
  readonly hostUrl: pulumi.Output<string>;
  readonly container: docker.Container;
  /** What a service waits for: the healthy server, or for MongoDB the replica set's initiation once it exited 0. */
  readonly ready: pulumi.Input<pulumi.Resource>;
  /** `host:port` of this database's metrics exporter, when it has one. */
  readonly exporterTarget?: string;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:ServiceDatabase", name, {}, opts);
    const engine = { ...DATABASE_ENGINES[args.database.kind], ...DOCKER_ENGINES[args.database.kind] };
    this.host = databaseHost(args.service);
    this.port = engine.port;
    const randomPassword = (suffix: string, length: number) =>
      new random.RandomPassword(`${name}-${suffix}`, { length, special: false }, { parent: this }).result;
    const server: Server = {
      name,
      args,
      parent: this,
      engine,
      image: args.image ?? engine.image(args.database.version),
      host: this.host,
      names: databaseNames(args.service),
      adminPassword: randomPassword("admin-password", 32),
      servicePassword: randomPassword("service-password", 32),
    };
    // MongoDB runs as a three-member replica set whose members authenticate with a shared keyfile.
    const replicaSet: ReplicaSet | undefined =
      args.database.kind === "mongodb"
        ? {
            members: replicaSetMembers(this.host),
            keyfile: { [KEYFILE_UPLOAD]: randomPassword("keyfile", 756) },
            command: mongodReplicaSetCommand(),
          }
        : undefined;

    this.container = createFirstMember(server, replicaSet);
    this.ready = replicaSet ? createReplicaSet(server, replicaSet, this.container) : this.container;
    const access =
      args.database.kind === "postgres"
        ? createPostgresAccess(server, args.database.extensions, this.container)
        : undefined;
    if (access && args.monitoring) this.exporterTarget = createPostgresExporter(server, args.monitoring, access);
    // The other images create the service's login themselves, from the container's env or init script.
    this.databaseName = access?.database ?? pulumi.output(server.names.database);
    this.username = access?.username ?? pulumi.output(server.names.username);
    this.password = access?.password ?? server.servicePassword;

    const login: ServiceLogin = { databaseName: this.databaseName, username: this.username, password: this.password };
    // Services find the primary through the member list; tools on the host reach the first member only.
    const serviceHosts = replicaSet?.members ?? [this.host];
    this.url = serviceUrl(engine, login, serviceHosts, engine.port, replicaSet ? `replicaSet=${REPLICA_SET_NAME}` : "");
    this.hostUrl = serviceUrl(engine, login, ["127.0.0.1"], args.hostPort, replicaSet ? "directConnection=true" : "");
    this.endpoint = {
      host: this.host,
      port: this.port,
      name: this.databaseName,
      username: this.username,
      password: this.password,
      url: this.url,
      location: { kind: "local" },
    };
    this.registerOutputs({ host: this.host, url: this.url, hostUrl: this.hostUrl });
  }
}

/** What every phase shares: the component as parent, the engine and its image, the names and the passwords. */
interface Server {
  name: string;
  args: ServiceDatabaseArgs;
  parent: pulumi.Resource;
  engine: EngineSpec;
  image: string;
  /** Hostname of the only server, or of the replica set's first member. */
  host: string;
  names: DatabaseNames;
  adminPassword: pulumi.Output<string>;
  servicePassword: pulumi.Output<string>;
}

/** MongoDB's members (the first one first), the keyfile upload they share and the command each runs. */
interface ReplicaSet {
  members: string[];
  keyfile: Record<string, pulumi.Output<string>>;
  command: string[];
}

interface ServiceLogin {
  databaseName: pulumi.Output<string>;
  username: pulumi.Output<string>;
  password: pulumi.Output<string>;
}

/** The only server, or MongoDB's first member: its env makes the accounts, and only it publishes the loopback port. */
function createFirstMember(server: Server, replicaSet: ReplicaSet | undefined): docker.Container {
  const { args, engine, names } = server;
  const envs = pulumi
    .all([server.adminPassword, server.servicePassword])
    .apply(([admin, service]) => engine.env(DATABASE_ADMIN_USER, admin, names.database, names.username, service));
  const files: Record<string, pulumi.Input<string>> = replicaSet
    ? {
        ...replicaSet.keyfile,
        "/docker-entrypoint-initdb.d/10-service-user.js": server.servicePassword.apply((pw) =>
          renderMongoUserScript(names.database, names.username, { value: pw }),
        ),
      }
    : {};
  return createMember(
    server,
    { container: `${server.name}-container`, volume: `${server.name}-data` },
    server.host,
    files,
    { envs: pulumi.secret(envs), command: replicaSet?.command, ports: [loopbackPort(engine.port, args.hostPort)] },
  );
}

/** A server (or replica-set member) on its own volume, checked with the engine's readiness command. */
function createMember(
  server: Server,
  resourceNames: { container: string; volume: string },
  host: string,
  files: Record<string, pulumi.Input<string>>,
  own: Pick<docker.ContainerArgs, "envs" | "command" | "ports">,
): docker.Container {
  const { args, engine } = server;
  const volume = new docker.Volume(
    resourceNames.volume,
    { name: `${args.namePrefix}-${host}-data`, labels: platformLabels(args.labels) },
    { parent: server.parent },
  );
  return platformContainer(
    resourceNames.container,
    {
      host,
      image: server.image,
      namePrefix: args.namePrefix,
      networks: [args.network],
      labels: args.labels,
      files,
      settings: {
        envs: own.envs,
        command: own.command,
        volumes: [{ volumeName: volume.name, containerPath: engine.dataPath }],
        ports: own.ports,
        healthcheck: healthcheck(engine.ready, { interval: "5s", retries: 12 }),
        memory: args.memory[args.database.kind],
        // Wait for healthy: PostgreSQL's login is made through the port, the replica set initiated over the network.
        wait: true,
        waitTimeout: 120,
      },
    },
    { parent: server.parent },
  );
}

/** The other members, then the replica set's initiation once all are healthy; its success is what services wait for. */
function createReplicaSet(
  server: Server,
  replicaSet: ReplicaSet,
  firstMember: docker.Container,
): pulumi.Output<docker.Container> {
  const { args, name } = server;
  const secondaries = replicaSet.members
    .slice(1)
    .map((host, i) =>
      createMember(
        server,
        { container: `${name}-member-${i + 2}`, volume: `${name}-member-${i + 2}-data` },
        host,
        replicaSet.keyfile,
        { command: replicaSet.command },
      ),
    );
  const host = replicaSetInitHost(server.host);
  return oneShotContainer(
    `${name}-replica-set-init`,
    {
      host,
      image: server.image,
      namePrefix: args.namePrefix,
      networks: [args.network],
      labels: args.labels,
      files: { "/init/replica-set.js": renderReplicaSetInit(replicaSet.members, server.engine.port) },
      settings: {
        command: stepsCommand(host, [
          {
            label: "replica-set initiation",
            run: `mongosh --quiet --host ${server.host} --username ${DATABASE_ADMIN_USER} --password "$MONGO_ADMIN_PASSWORD" --authenticationDatabase admin --file /init/replica-set.js`,
          },
        ]),
        envs: pulumi.secret(server.adminPassword.apply((pw) => [`MONGO_ADMIN_PASSWORD=${pw}`])),
        memory: args.memory.oneShot,
      },
    },
    // The members report healthy first (wait: true): mongosh reaches each over the network.
    { parent: server.parent, dependsOn: [firstMember, ...secondaries] },
  ).succeeded;
}

/** The service's PostgreSQL login and database, made as the admin through the loopback port. */
function createPostgresAccess(server: Server, extensions: string[], container: docker.Container): PostgresAccess {
  const { args, name } = server;
  const provider = new postgresql.Provider(
    `${name}-admin`,
    {
      host: "127.0.0.1",
      port: args.hostPort,
      username: DATABASE_ADMIN_USER,
      password: server.adminPassword,
      database: "postgres",
      sslmode: "disable",
      superuser: true,
      connectTimeout: 30,
    },
    { parent: server.parent, dependsOn: [container] },
  );
  // Login and database go through the provider, which waits for a healthy container.
  return new PostgresAccess(
    `${name}-access`,
    { names: server.names, extensions, provider, monitoringLogin: args.monitoring !== undefined },
    { parent: server.parent },
  );
}

/** postgres_exporter with the pg_monitor-only login, on the database's network and the monitoring one; its target. */
function createPostgresExporter(server: Server, monitoring: DatabaseMonitoring, access: PostgresAccess): string {
  const { args, engine } = server;
  const host = exporterHost(server.host);
  platformContainer(
    `${server.name}-exporter`,
    {
      host,
      image: monitoring.postgresExporterImage,
      namePrefix: args.namePrefix,
      networks: [args.network, monitoring.network],
      labels: args.labels,
      settings: {
        envs: pulumi.secret(
          pulumi
            .all([access.monitoringUsername!, access.monitoringPassword!])
            .apply(([user, password]) => [
              `DATA_SOURCE_NAME=${connectionUrl("postgresql", user, password, server.host, engine.port, "postgres", "sslmode=disable")}`,
            ]),
        ),
        memory: args.memory.exporter,
        // The image is FROM quay.io/prometheus/busybox (postgres_exporter's Dockerfile): busybox wget.
        healthcheck: healthcheck(httpGet("wget", POSTGRES_EXPORTER.port, "/metrics"), { interval: "30s" }),
      },
    },
    { parent: server.parent, dependsOn: [access] },
  );
  return `${host}:${POSTGRES_EXPORTER.port}`;
}

/** The service's URL (secret) through these hosts and port, with the engine's query and `extraQuery`. */
function serviceUrl(
  engine: EngineSpec,
  login: ServiceLogin,
  hosts: string[],
  port: number,
  extraQuery: string,
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([login.username, login.password, login.databaseName])
      .apply(([user, pw, db]) =>
        connectionUrl(
          engine.scheme,
          user,
          pw,
          hosts,
          port,
          db,
          [engine.urlQuery(db), extraQuery].filter(Boolean).join("&"),
        ),
      ),
  );
}
