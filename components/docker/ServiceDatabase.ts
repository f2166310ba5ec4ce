import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import { Database } from "../../services/schema";
import { DatabaseEndpoint } from "../platform";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES, POSTGRES_EXPORTER } from "../engines";
import { connectionUrl, databaseNames } from "../data/databasePlan";
import { PostgresAccess } from "../data/PostgresAccess";
import {
  KEYFILE_UPLOAD,
  REPLICA_SET_NAME,
  mongodReplicaSetCommand,
  renderMongoUserScript,
  renderReplicaSetInit,
  replicaSetMembers,
} from "../data/mongoInit";
import { PlatformLabels, loopbackPort, platformLabels } from "./containerDefaults";
import { platformContainer } from "./hostContainer";
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
  /** What a service waits for: the server, or for MongoDB the replica set's initiation. */
  readonly ready: docker.Container;
  /** `host:port` of this database's metrics exporter, when it has one. */
  readonly exporterTarget?: string;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:ServiceDatabase", name, {}, opts);
    const engine = { ...DATABASE_ENGINES[args.database.kind], ...DOCKER_ENGINES[args.database.kind] };
    const healthcheck = ["CMD", ...engine.ready];
    const names = databaseNames(args.service);
    this.host = `${args.service}-db`;
    this.port = engine.port;

    const adminPassword = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const servicePassword = new random.RandomPassword(
      `${name}-service-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const volume = new docker.Volume(
      `${name}-data`,
      {
        name: `${args.namePrefix}-${this.host}-data`,
        labels: platformLabels(args.labels),
      },
      { parent: this },
    );
    const envs = pulumi
      .all([adminPassword.result, servicePassword.result])
      .apply(([admin, service]) => engine.env(DATABASE_ADMIN_USER, admin, names.database, names.username, service));
    // MongoDB runs as a three-member replica set whose members authenticate with a shared keyfile.
    const replicaSet =
      args.database.kind === "mongodb"
        ? {
            members: replicaSetMembers(this.host),
            keyfile: {
              [KEYFILE_UPLOAD]: new random.RandomPassword(
                `${name}-keyfile`,
                { length: 756, special: false },
                { parent: this },
              ).result,
            },
            command: mongodReplicaSetCommand(),
          }
        : undefined;
    const files: Record<string, pulumi.Input<string>> = replicaSet
      ? {
          ...replicaSet.keyfile,
          "/docker-entrypoint-initdb.d/10-service-user.js": servicePassword.result.apply((pw) =>
            renderMongoUserScript(names.database, names.username, { value: pw }),
          ),
        }
      : {};

    this.container = platformContainer(
      `${name}-container`,
      {
        host: this.host,
        image: args.image ?? engine.image(args.database.version),
        namePrefix: args.namePrefix,
        networks: [args.network],
        labels: args.labels,
        files,
        settings: {
          envs: pulumi.secret(envs),
          command: replicaSet?.command,
          volumes: [{ volumeName: volume.name, containerPath: engine.dataPath }],
          ports: [loopbackPort(engine.port, args.hostPort)],
          healthcheck: { tests: healthcheck, interval: "5s", timeout: "5s", retries: 12, startPeriod: "10s" },
          memory: args.memory[args.database.kind],
          // Wait for healthy: the login below is created through this container's port.
          wait: true,
          waitTimeout: 120,
        },
      },
      { parent: this },
    );
    this.ready = this.container;

    if (replicaSet) {
      const secondaries = replicaSet.members.slice(1).map((host, i) =>
        platformContainer(
          `${name}-member-${i + 2}`,
          {
            host,
            image: args.image ?? engine.image(args.database.version),
            namePrefix: args.namePrefix,
            networks: [args.network],
            labels: args.labels,
            files: replicaSet.keyfile,
            settings: {
              command: replicaSet.command,
              volumes: [
                {
                  volumeName: new docker.Volume(
                    `${name}-member-${i + 2}-data`,
                    { name: `${args.namePrefix}-${host}-data`, labels: platformLabels(args.labels) },
                    { parent: this },
                  ).name,
                  containerPath: engine.dataPath,
                },
              ],
              healthcheck: {
                tests: healthcheck,
                interval: "5s",
                timeout: "5s",
                retries: 12,
                startPeriod: "10s",
              },
              memory: args.memory.mongodb,
              wait: true,
              waitTimeout: 120,
            },
          },
          { parent: this },
        ),
      );
      // One-shot, attached: `pulumi up` waits for it and fails if it does.
      this.ready = platformContainer(
        `${name}-replica-set-init`,
        {
          host: `${this.host}-init`,
          image: args.image ?? engine.image(args.database.version),
          namePrefix: args.namePrefix,
          networks: [args.network],
          labels: args.labels,
          files: { "/init/replica-set.js": renderReplicaSetInit(replicaSet.members, engine.port) },
          settings: {
            command: [
              "bash",
              "-c",
              `mongosh --quiet --host ${this.host} --username ${DATABASE_ADMIN_USER} --password "$MONGO_ADMIN_PASSWORD" --authenticationDatabase admin --file /init/replica-set.js`,
            ],
            envs: pulumi.secret(adminPassword.result.apply((pw) => [`MONGO_ADMIN_PASSWORD=${pw}`])),
            restart: "no",
            mustRun: false,
            attach: true,
            logs: true,
          },
        },
        { parent: this, dependsOn: [this.container, ...secondaries] },
      );
    }

    if (args.database.kind === "postgres") {
      const provider = new postgresql.Provider(
        `${name}-admin`,
        {
          host: "127.0.0.1",
          port: args.hostPort,
          username: DATABASE_ADMIN_USER,
          password: adminPassword.result,
          database: "postgres",
          sslmode: "disable",
          superuser: true,
          connectTimeout: 30,
        },
        { parent: this, dependsOn: [this.container] },
      );
      // Login and database go through the provider, which waits for a healthy container.
      const access = new PostgresAccess(
        `${name}-access`,
        {
          names,
          extensions: args.database.extensions,
          provider,
          monitoringLogin: args.monitoring !== undefined,
        },
        { parent: this },
      );
      if (args.monitoring) {
        const exporterHost = `${args.service}-db-exporter`;
        platformContainer(
          `${name}-exporter`,
          {
            host: exporterHost,
            image: args.monitoring.postgresExporterImage,
            namePrefix: args.namePrefix,
            networks: [args.network, args.monitoring.network],
            labels: args.labels,
            settings: {
              envs: pulumi.secret(
                pulumi
                  .all([access.monitoringUsername!, access.monitoringPassword!])
                  .apply(([user, password]) => [
                    `DATA_SOURCE_NAME=${connectionUrl("postgresql", user, password, this.host, engine.port, "postgres", "sslmode=disable")}`,
                  ]),
              ),
              memory: args.memory.exporter,
            },
          },
          { parent: this, dependsOn: [access] },
        );
        this.exporterTarget = `${exporterHost}:${POSTGRES_EXPORTER.port}`;
      }
      this.databaseName = access.database;
      this.username = access.username;
      this.password = access.password;
    } else {
      this.databaseName = pulumi.output(names.database);
      this.username = pulumi.output(names.username);
      this.password = servicePassword.result;
    }

    const url = (hosts: string[], port: number, extraQuery: string) =>
      pulumi.secret(
        pulumi
          .all([this.username, this.password, this.databaseName])
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
    // Services find the primary through the member list; tools on the host reach the first member only.
    this.url = url(replicaSet?.members ?? [this.host], engine.port, replicaSet ? `replicaSet=${REPLICA_SET_NAME}` : "");
    this.hostUrl = url(["127.0.0.1"], args.hostPort, replicaSet ? "directConnection=true" : "");
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
