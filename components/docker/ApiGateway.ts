import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { Catalog } from "../../services/schema";
import { CacheEndpoint } from "../platform";
import { GatewayCredential, renderKongConfig } from "../gateway/kongConfig";
import { GatewayClients, createGatewayClients, kongCanCountIn, rateLimitCounters } from "../gateway/clients";
import { GatewaySettings } from "../gateway/settings";
import { DatabaseMonitoring, ServiceDatabase } from "./ServiceDatabase";
import { PlatformLabels, healthcheck, loopbackPort } from "./containerDefaults";
import { OneShot, oneShotContainer, platformContainer, stepsCommand } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";

export interface ApiGatewayArgs {
  catalog: Catalog;
  namePrefix: string;
  image: string;
  /** `postgres`: Kong keeps its config in its own PostgreSQL; `off`: DB-less declarative mode. */
  database: "postgres" | "off";
  /** Image and loopback port of Kong's own PostgreSQL (database mode). */
  databaseImage: string;
  databaseHostPort?: number;
  /** Auth, CORS origins and the clients, one Kong consumer each. */
  gateway: GatewaySettings;
  /** Network the gateway reaches the services on. */
  network: docker.Network;
  /** The platform's cache and its network: Kong counts rate limits there when it can (gateway/clients.ts). */
  cache?: { endpoint: CacheEndpoint; network: docker.Network };
  monitoring: DatabaseMonitoring;
  proxyHostPort: number;
  adminHostPort: number;
  labels: PlatformLabels;
  memory: ContainerMemory;
}

export const KONG_HOST = "kong";
export const KONG_STATUS_PORT = 8100;
const PROXY_PORT = 8000;
const ADMIN_PORT = 8001;
const DECLARATIVE_FILE = "/kong/declarative/kong.yml";

/** Env of every Kong process, whatever the mode. */
const BASE_ENV = [
  `KONG_PROXY_LISTEN=0.0.0.0:${PROXY_PORT}`,
  `KONG_ADMIN_LISTEN=0.0.0.0:${ADMIN_PORT}`,
  `KONG_STATUS_LISTEN=0.0.0.0:${KONG_STATUS_PORT}`,
  "KONG_PROXY_ACCESS_LOG=/dev/stdout",
  "KONG_PROXY_ERROR_LOG=/dev/stderr",
  "KONG_ADMIN_ACCESS_LOG=/dev/stdout",
  "KONG_ADMIN_ERROR_LOG=/dev/stderr",
  // No version banner in responses.
  "KONG_HEADERS=latency_tokens,X-Kong-Request-Id",
];

/** Kong in front of the catalog's routes, with its own PostgreSQL or in DB-less mode. */
export class ApiGateway extends pulumi.ComponentResource {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  /** The first client's credential (secret): JWT issuer and signing secret, or an API key. */
  readonly credential: pulumi.Output<GatewayCredential>;
  /** Per client, what it presents on non-public routes (secret). */
  readonly clientCredentials: pulumi.Output<Record<string, GatewayCredential>>;
  /** Env for the services that sign tokens clients use on authenticated routes (jwt only). */
  readonly issuerSecretEnv: Record<string, pulumi.Output<string>>;
  readonly container: docker.Container;
  /** `host:port` of the exporter of Kong's database (database mode). */
  readonly databaseExporter?: string;

  constructor(name: string, args: ApiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:ApiGateway", name, {}, opts);
    const clients = createGatewayClients(`${name}-credential`, args.catalog, args.gateway, this);
    this.credential = clients.first;
    this.clientCredentials = clients.credentials;
    this.issuerSecretEnv = clients.issuerSecretEnv;
    const declarative = kongConfig(args, clients);
    const mode = args.database === "postgres" ? databaseMode(name, args, declarative, this) : dbLessMode(declarative);
    this.databaseExporter = mode.databaseExporter;
    // On the cache's network only when it counts there.
    const cacheNetwork = kongCanCountIn(args.cache?.endpoint) ? [args.cache!.network] : [];
    this.container = kongContainer(name, args, { ...mode, networks: [...mode.networks, ...cacheNetwork] }, this);

    this.proxyUrl = `http://127.0.0.1:${args.proxyHostPort}`;
    this.adminUrl = `http://127.0.0.1:${args.adminHostPort}`;
    this.registerOutputs({ proxyUrl: this.proxyUrl, adminUrl: this.adminUrl });
  }
}

/** The declarative config (secret): one Kong container, so local counters are exact without a cache it can use. */
function kongConfig(args: ApiGatewayArgs, clients: GatewayClients): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([clients.clients, rateLimitCounters(args.cache?.endpoint, 1, args.catalog)])
      .apply(([all, counters]) =>
        renderKongConfig({ catalog: args.catalog, clients: all, counters, corsOrigins: args.gateway.corsOrigins }),
      ),
  );
}

/** What the configuration mode adds to the Kong container. */
interface KongMode {
  /** Selects the mode (KONG_DATABASE) and whatever it needs; joins the base env. */
  env: pulumi.Output<string[]>;
  /** Besides the services' and the monitoring network: Kong's database network in database mode. */
  networks: docker.Network[];
  /** The declarative config in DB-less mode; database mode imports it into the database instead. */
  files: Record<string, pulumi.Input<string>>;
  /** What has to finish before Kong starts: the bootstrap, exited 0, in database mode. */
  waitFor: pulumi.Input<pulumi.Resource>[];
  /** The exporter of Kong's database, in database mode. */
  databaseExporter?: string;
}

/** The base env followed by the mode's, secret as a whole (database mode carries the login). */
function kongEnv(modeEnv: pulumi.Output<string[]>): pulumi.Output<string[]> {
  return pulumi.secret(modeEnv.apply((env) => [...BASE_ENV, ...env]));
}

function dbLessMode(declarative: pulumi.Output<string>): KongMode {
  return {
    env: pulumi.output(["KONG_DATABASE=off", `KONG_DECLARATIVE_CONFIG=${DECLARATIVE_FILE}`]),
    networks: [],
    files: { [DECLARATIVE_FILE]: declarative },
    waitFor: [],
  };
}

/** Kong's own PostgreSQL, and the bootstrap that loads the declarative config into it. */
function databaseMode(
  name: string,
  args: ApiGatewayArgs,
  declarative: pulumi.Output<string>,
  parent: pulumi.Resource,
): KongMode {
  const kongDb = kongDatabase(name, args, parent);
  const bootstrap = kongBootstrap(name, args, kongDb, declarative, parent);
  return {
    env: kongDb.env,
    networks: [kongDb.network],
    files: {},
    waitFor: [bootstrap.succeeded],
    databaseExporter: kongDb.database.exporterTarget,
  };
}

/** Kong's database on a network of its own, and the env that points Kong at it. */
interface KongDatabase {
  network: docker.Network;
  database: ServiceDatabase;
  env: pulumi.Output<string[]>;
}

function kongDatabase(name: string, args: ApiGatewayArgs, parent: pulumi.Resource): KongDatabase {
  if (args.databaseHostPort === undefined) throw new Error("the gateway's database needs a loopback port");
  const network = new docker.Network(
    `${name}-db-net`,
    { name: `${args.namePrefix}-kong-db`, driver: "bridge" },
    { parent },
  );
  const database = new ServiceDatabase(
    `${name}-db`,
    {
      service: "kong",
      // The image decides the server version; the version here only names a default image.
      database: { kind: "postgres", version: "16", extensions: [] },
      image: args.databaseImage,
      namePrefix: args.namePrefix,
      network,
      hostPort: args.databaseHostPort,
      monitoring: args.monitoring,
      labels: args.labels,
      memory: args.memory,
    },
    { parent },
  );
  const env = pulumi
    .all([database.databaseName, database.username, database.password])
    .apply(([db, user, password]) => [
      "KONG_DATABASE=postgres",
      `KONG_PG_HOST=${database.host}`,
      `KONG_PG_PORT=${database.port}`,
      `KONG_PG_DATABASE=${db}`,
      `KONG_PG_USER=${user}`,
      `KONG_PG_PASSWORD=${password}`,
    ]);
  return { network, database, env };
}

/** The bootstrap's steps, in order: create or upgrade Kong's schema, then load the declarative config. */
const BOOTSTRAP_STEPS = [
  { label: "schema bootstrap", run: "kong migrations bootstrap" },
  { label: "schema migrations", run: "kong migrations up" },
  { label: "finishing the migrations", run: "kong migrations finish" },
  { label: "declarative config import", run: `kong config db_import ${DECLARATIVE_FILE}` },
];

/**
 * One-shot: Kong's schema, then the declarative config loaded into it. Replaced (and so run
 * again) whenever the config changes.
 */
function kongBootstrap(
  name: string,
  args: ApiGatewayArgs,
  kongDb: KongDatabase,
  declarative: pulumi.Output<string>,
  parent: pulumi.Resource,
): OneShot {
  const host = "kong-bootstrap";
  return oneShotContainer(
    `${name}-bootstrap`,
    {
      host,
      image: args.image,
      namePrefix: args.namePrefix,
      networks: [kongDb.network],
      labels: args.labels,
      files: { [DECLARATIVE_FILE]: declarative },
      settings: {
        command: stepsCommand(host, BOOTSTRAP_STEPS),
        envs: kongEnv(kongDb.env),
        memory: args.memory.oneShot,
      },
    },
    // After the database reports healthy (its container waits for that); the login comes through
    // the env's outputs; the exporter need not be up first.
    { parent, dependsOn: [kongDb.database.container] },
  );
}

function kongContainer(name: string, args: ApiGatewayArgs, mode: KongMode, parent: pulumi.Resource): docker.Container {
  return platformContainer(
    `${name}-container`,
    {
      host: KONG_HOST,
      image: args.image,
      namePrefix: args.namePrefix,
      networks: [args.network, args.monitoring.network, ...mode.networks],
      labels: args.labels,
      extraLabels: { "prometheus.io/scrape": "true", "prometheus.io/port": String(KONG_STATUS_PORT) },
      files: mode.files,
      settings: {
        envs: kongEnv(mode.env),
        ports: [loopbackPort(PROXY_PORT, args.proxyHostPort), loopbackPort(ADMIN_PORT, args.adminHostPort)],
        healthcheck: healthcheck(["kong", "health"], { retries: 10, startPeriod: "15s" }),
        memory: args.memory.kong,
      },
    },
    // Database mode: only once the bootstrap exited 0, so Kong never starts on a half-made schema.
    { parent, dependsOn: mode.waitFor },
  );
}
