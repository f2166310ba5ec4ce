import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { FRONTEND_PATH, Service, buildDockerfile, frontendService } from "../../services/schema";
import { GATEWAY_HEALTH_PATH, dependencyOrder, needsGateway, publishedPort, usesBroker } from "../../services/validate";
import { ServiceEndpoints, serviceEnvironment } from "../serviceEnvironment";
import { planTopology } from "../messaging/topology";
import { connectionUrl } from "../data/databasePlan";
import { GatewayCredential } from "../gateway/kongConfig";
import { HealthCheck } from "../healthCheck";
import { ScrapeJob } from "../observability/prometheusConfig";
import { QUEUE_DEPTH, ScrapedInfrastructure } from "../observability/alertRules";
import { OTLP_HTTP_PORT, RABBITMQ } from "../engines";
import { EnvContract, PlatformInputs, TracingEndpoint } from "../platform";
import { MessageBroker } from "./MessageBroker";
import { Microservice } from "./Microservice";
import { ServiceDatabase } from "./ServiceDatabase";
import { CacheCluster, REDIS_EXPORTER_HOST, REDIS_EXPORTER_PORT } from "./CacheCluster";
import { ApiGateway, KONG_HOST, KONG_STATUS_PORT } from "./ApiGateway";
import { OTLP_ENDPOINT, Observability } from "./Observability";
import { PlatformLabels } from "./containerDefaults";
import { ContainerMemory, MEMORY_PROFILES } from "./memoryProfile";
import { devMemoryPlan, memoryPlanInput } from "./memoryPlan";
import { DeveloperTools } from "./DeveloperTools";
import { REFERENCE_SERVICE_DIR, ServiceImage, localBuild } from "./localImage";
import { DockerSettings, databaseHostPorts } from "./settings";

export interface DockerPlatformArgs extends PlatformInputs {
  docker: DockerSettings;
}

export interface ServiceUrls {
  url: string;
  internalUrl: string;
  /** The catalog's health path on the loopback port. */
  healthUrl: string;
}

/** Loopback URLs of the platform's own tools. */
export interface ToolUrls {
  adminer?: string;
  redisCommander?: string;
  gateway?: string;
  gatewayAdmin?: string;
  rabbitmqManagement?: string;
  grafana: string;
  prometheus: string;
  alertmanager: string;
  jaeger: string;
  logs: string;
}

export interface PlatformContainer {
  name: string;
  oneShot: boolean;
}

type Connections = Record<string, { database?: pulumi.Output<string>; broker?: pulumi.Output<string> }>;

/** What every phase shares: the component as parent, naming, labels and the memory profile. */
interface Context {
  name: string;
  parent: pulumi.Resource;
  args: DockerPlatformArgs;
  prefix: string;
  memory: ContainerMemory;
  labels(component: string, service?: string): PlatformLabels;
  /** Every scrape job Prometheus gets; each phase adds its own. */
  scrapeJobs: ScrapeJob[];
  /** Loopback port of each database, the gateway's ("kong") included. */
  databasePorts: Map<string, number>;
  /** The jobs that report the stores' own state, as each phase adds its store's job. */
  storeJobs: Omit<ScrapedInfrastructure, "jobs">;
  /** Database exporters (the gateway's and each service's), one `postgres` job once all are known. */
  postgresExporters: Array<{ service: string; target: string }>;
  /** With `referenceService`: the reference service's image, built once, which every service container runs. */
  referenceImage?: pulumi.Output<string>;
}

const TRACING: TracingEndpoint = { url: OTLP_ENDPOINT, port: OTLP_HTTP_PORT, location: { kind: "local" } };

/**
 * The dev environment on local Docker: segmented networks, one database per service, RabbitMQ
 * with the catalog's topology, Redis (Sentinel), Kong, the observability stack, and every
 * service wired to them. Each phase below declares one part and returns what the next needs.
 */
export class DockerPlatform extends pulumi.ComponentResource {
  readonly services: Record<string, ServiceUrls>;
  /** The front end through the gateway, when the catalog has one. */
  readonly frontendUrl?: string;
  readonly urls: ToolUrls;
  /** Per service: database and broker URLs through loopback, for the developer's tools. Secret. */
  readonly connectionStrings: pulumi.Output<Record<string, { database?: string; broker?: string }>>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** What `npm run health` probes: every service, the gateway, broker management, Grafana, Prometheus, Jaeger. */
  readonly healthChecks: HealthCheck[];
  /**
   * Every container by its Docker name, one-shot ones marked: what `npm run health` asks Docker
   * about (health status, or exit code). From the memory plan, which a test keeps equal to what is declared.
   */
  readonly containers: PlatformContainer[];
  /** Redis Commander's password (user `admin`) when it is enabled; secret. */
  readonly redisCommanderPassword?: pulumi.Output<string>;
  /** The first gateway client's credential (secret), as before clients existed. */
  readonly gatewayCredential?: pulumi.Output<GatewayCredential>;
  /** Per gateway client, what it presents on authenticated routes (secret). */
  readonly gatewayClients?: pulumi.Output<Record<string, GatewayCredential>>;

  constructor(name: string, args: DockerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:Platform", name, {}, opts);
    const ctx: Context = {
      name,
      parent: this,
      args,
      prefix: args.docker.namePrefix,
      memory: MEMORY_PROFILES[args.docker.profile],
      labels: (component, service) => ({ stack: args.stack, catalog: args.catalog.name, component, service }),
      scrapeJobs: [],
      storeJobs: {},
      postgresExporters: [],
      databasePorts: databaseHostPorts(
        args.catalog,
        args.docker.hostPorts.databaseBase,
        args.docker.gatewayDatabase === "postgres",
      ),
    };
    ctx.referenceImage = args.docker.referenceService ? buildReferenceImage(ctx) : undefined;
    const networks = createNetworks(ctx);
    const stores = { broker: createBroker(ctx, networks), cache: createCache(ctx, networks) };
    const gateway = createGateway(ctx, networks, stores.cache);
    const services = createServices(ctx, networks, stores, gateway);
    this.frontendUrl = gateway && createFrontend(ctx, networks, gateway);
    const observability = createObservability(ctx, networks);
    const tools = createDeveloperTools(ctx, networks, stores.cache, services.postgresNetworks);

    this.services = services.urls;
    this.redisCommanderPassword = tools?.redisCommanderPassword;
    this.urls = {
      adminer: tools?.adminerUrl,
      redisCommander: tools?.redisCommanderUrl,
      gateway: gateway?.proxyUrl,
      gatewayAdmin: gateway?.adminUrl,
      rabbitmqManagement: stores.broker?.managementUrl,
      grafana: observability.grafanaUrl,
      prometheus: observability.prometheusUrl,
      alertmanager: observability.alertmanagerUrl,
      jaeger: observability.jaegerUrl,
      logs: observability.logsUrl,
    };
    this.healthChecks = healthChecks(this.services, this.urls, args, this.frontendUrl);
    this.containers = devMemoryPlan(args.catalog, memoryPlanInput(args.docker, args.observability.logs)).map(
      (planned) => ({ name: `${ctx.prefix}-${planned.container}`, oneShot: planned.oneShot === true }),
    );
    this.grafanaAdminPassword = observability.grafanaAdminPassword;
    this.gatewayCredential = gateway?.credential;
    this.gatewayClients = gateway?.clientCredentials;
    this.connectionStrings = pulumi.secret(pulumi.output(services.connections));
    this.registerOutputs({
      services: this.services,
      urls: this.urls,
      containers: this.containers,
      connectionStrings: this.connectionStrings,
    });
  }
}

interface Networks {
  edge: docker.Network;
  services: docker.Network;
  monitoring: docker.Network;
  /** Broker and cache, with the services that use them; absent when nothing does. */
  data?: docker.Network;
  /** A network shared only by one service and its database. */
  database(service: string): docker.Network;
}

/**
 * Membership is the segmentation: a database shares a network with its own service (and its
 * exporter) only; the broker and cache with the services that use them. None is `internal`,
 * because Docker publishes loopback ports only through a non-internal bridge.
 */
function createNetworks(ctx: Context): Networks {
  const network = (key: string, purpose: string) =>
    new docker.Network(
      `${ctx.name}-net-${key}`,
      {
        name: `${ctx.prefix}-${key}`,
        driver: "bridge",
        labels: [
          { label: "platform.stack", value: ctx.args.stack },
          { label: "platform.network", value: purpose },
        ],
      },
      { parent: ctx.parent },
    );
  const { services } = ctx.args.catalog;
  const needsData = services.some(usesBroker) || services.some((s) => s.cache);
  return {
    edge: network("edge", "edge"),
    services: network("services", "services"),
    monitoring: network("monitoring", "monitoring"),
    data: needsData ? network("data", "data") : undefined,
    database: (service) => network(`${service}-db`, "data"),
  };
}

function createBroker(ctx: Context, networks: Networks): MessageBroker | undefined {
  if (!ctx.args.catalog.services.some(usesBroker)) return undefined;
  const { hostPorts, images } = ctx.args.docker;
  const broker = new MessageBroker(
    `${ctx.name}-broker`,
    {
      namePrefix: ctx.prefix,
      image: images.rabbitmq,
      plan: planTopology(ctx.args.catalog),
      network: networks.data!,
      monitoringNetwork: networks.monitoring,
      managementHostPort: hostPorts.rabbitmqManagement,
      amqpHostPort: hostPorts.amqp,
      labels: ctx.labels("broker"),
      memory: ctx.memory,
    },
    { parent: ctx.parent },
  );
  const groups = [{ targets: [`${broker.host}:${RABBITMQ.prometheusPort}`] }];
  ctx.storeJobs.queueDepth = { job: "rabbitmq-queues", metric: QUEUE_DEPTH.metric };
  ctx.scrapeJobs.push(
    { job: "rabbitmq", groups },
    // Per-queue depth (the DLQ alert), for the catalog's vhost only.
    {
      job: ctx.storeJobs.queueDepth.job,
      groups,
      metricsPath: QUEUE_DEPTH.path,
      params: { family: [QUEUE_DEPTH.family], vhost: [broker.vhost] },
    },
  );
  return broker;
}

function createCache(ctx: Context, networks: Networks): CacheCluster | undefined {
  if (!ctx.args.catalog.services.some((s) => s.cache)) return undefined;
  const { cache: settings, images } = ctx.args.docker;
  const cache = new CacheCluster(
    `${ctx.name}-cache`,
    {
      mode: settings.mode,
      evictionPolicy: settings.evictionPolicy,
      namePrefix: ctx.prefix,
      image: images.redis,
      exporterImage: images.redisExporter,
      network: networks.data!,
      monitoringNetwork: networks.monitoring,
      labels: ctx.labels("cache"),
      memory: ctx.memory,
    },
    { parent: ctx.parent },
  );
  ctx.storeJobs.redisExporterJob = "redis";
  ctx.scrapeJobs.push({
    job: ctx.storeJobs.redisExporterJob,
    groups: [{ targets: cache.dataNodes }],
    metricsPath: "/scrape",
    viaExporter: `${REDIS_EXPORTER_HOST}:${REDIS_EXPORTER_PORT}`,
  });
  return cache;
}

function createGateway(ctx: Context, networks: Networks, cache: CacheCluster | undefined): ApiGateway | undefined {
  const { catalog, docker: settings } = ctx.args;
  if (!needsGateway(catalog)) return undefined;
  const frontend = catalog.frontend && frontendService(catalog.frontend);
  const gateway = new ApiGateway(
    `${ctx.name}-gateway`,
    {
      // The front end is one more public service to Kong, at `/`.
      catalog: frontend ? { ...catalog, services: [...catalog.services, frontend] } : catalog,
      namePrefix: ctx.prefix,
      image: settings.images.kong,
      database: settings.gatewayDatabase,
      databaseImage: settings.images.kongDatabase,
      databaseHostPort: ctx.databasePorts.get("kong"),
      gateway: ctx.args.gateway,
      network: networks.edge,
      cache: cache && { endpoint: cache.endpoint, network: networks.data! },
      monitoring: { network: networks.monitoring, postgresExporterImage: settings.images.postgresExporter },
      proxyHostPort: settings.hostPorts.gatewayProxy,
      adminHostPort: settings.hostPorts.gatewayAdmin,
      labels: ctx.labels("gateway"),
      memory: ctx.memory,
    },
    { parent: ctx.parent },
  );
  ctx.scrapeJobs.push({ job: "kong", groups: [{ targets: [`${KONG_HOST}:${KONG_STATUS_PORT}`] }] });
  if (gateway.databaseExporter) ctx.postgresExporters.push({ service: "kong", target: gateway.databaseExporter });
  return gateway;
}

interface Stores {
  broker?: MessageBroker;
  cache?: CacheCluster;
}

interface DeployedServices {
  urls: Record<string, ServiceUrls>;
  connections: Connections;
  /** Networks of the PostgreSQL databases, which Adminer joins. */
  postgresNetworks: docker.Network[];
}

/** Every catalog service after the ones it calls, each with its database and the shared stores it uses. */
function createServices(
  ctx: Context,
  networks: Networks,
  stores: Stores,
  gateway: ApiGateway | undefined,
): DeployedServices {
  const deployed = new Map<string, Microservice>();
  const result: DeployedServices = { urls: {}, connections: {}, postgresNetworks: [] };
  const calledSynchronously = new Set(ctx.args.catalog.services.flatMap((s) => s.dependsOn));
  for (const service of dependencyOrder(ctx.args.catalog.services)) {
    const placement: ServicePlacement = {
      networks: [networks.edge, networks.monitoring],
      waitFor: service.dependsOn.map((dependency) => deployed.get(dependency)!),
    };
    if (service.dependsOn.length > 0 || calledSynchronously.has(service.name)) {
      placement.networks.push(networks.services);
    }
    const database = createServiceDatabase(ctx, networks, service, placement, result);
    const brokerUser = stores.broker?.credentials[service.name];
    if (brokerUser) placement.waitFor.push(stores.broker!);
    if (stores.cache && service.cache) placement.waitFor.push(stores.cache);
    if (brokerUser || (stores.cache && service.cache)) placement.networks.push(networks.data!);
    const brokerUrl = brokerUser && brokerHostUrl(ctx, stores.broker!, brokerUser);
    result.connections[service.name] = {
      ...(database ? { database: database.hostUrl } : {}),
      ...(brokerUrl ? { broker: brokerUrl } : {}),
    };

    const environment = environmentOf(ctx, service, deployed, gateway, {
      tracing: TRACING,
      database: database?.endpoint,
      broker: brokerUser && { endpoint: stores.broker!.endpoint, user: brokerUser },
      cache: stores.cache?.endpoint,
    });
    const microservice = createMicroservice(ctx, service, placement, environment);
    deployed.set(service.name, microservice);
    result.urls[service.name] = serviceUrls(microservice, service);
    ctx.scrapeJobs.push({
      job: service.name,
      metricsPath: service.health.metricsPath,
      groups: [
        {
          targets: [`${service.name}:${service.health.metricsPort ?? service.port}`],
          labels: { service: service.name },
        },
      ],
    });
  }
  if (ctx.postgresExporters.length > 0) {
    ctx.storeJobs.postgresExporterJob = "postgres";
    ctx.scrapeJobs.push({
      job: ctx.storeJobs.postgresExporterJob,
      groups: ctx.postgresExporters.map((e) => ({ targets: [e.target], labels: { service: e.service } })),
    });
  }
  return result;
}

function environmentOf(
  ctx: Context,
  service: Service,
  deployed: Map<string, Microservice>,
  gateway: ApiGateway | undefined,
  endpoints: ServiceEndpoints,
): EnvContract {
  return serviceEnvironment(service, {
    environment: ctx.args.environment,
    endpoints,
    dependencyUrl: (dependency) => deployed.get(dependency)!.internalUrl,
    tokenIssuer: gateway?.issuerSecretEnv,
    configSecrets: ctx.args.configSecrets,
    secretOwner: { name: ctx.name, parent: ctx.parent },
    runsReferenceService: ctx.referenceImage !== undefined,
  });
}

interface ServicePlacement {
  networks: docker.Network[];
  /**
   * What the container is created after: its database (healthy, or for MongoDB the replica set's
   * initiation exited 0), the broker and the cache (each container healthy: `wait`), the services it calls.
   */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

function createServiceDatabase(
  ctx: Context,
  networks: Networks,
  service: Service,
  placement: ServicePlacement,
  result: DeployedServices,
): ServiceDatabase | undefined {
  if (service.database.kind === "none") return undefined;
  const network = networks.database(service.name);
  placement.networks.push(network);
  if (service.database.kind === "postgres") result.postgresNetworks.push(network);
  const database = new ServiceDatabase(
    `${ctx.name}-${service.name}-db`,
    {
      service: service.name,
      database: service.database,
      namePrefix: ctx.prefix,
      network,
      hostPort: ctx.databasePorts.get(service.name)!,
      monitoring: { network: networks.monitoring, postgresExporterImage: ctx.args.docker.images.postgresExporter },
      labels: ctx.labels("database", service.name),
      memory: ctx.memory,
    },
    { parent: ctx.parent },
  );
  if (database.exporterTarget) ctx.postgresExporters.push({ service: service.name, target: database.exporterTarget });
  // The server, and (through the env's outputs) the login; not the metrics exporter.
  placement.waitFor.push(database.ready);
  return database;
}

/** The broker URL through loopback, when AMQP is published there. */
function brokerHostUrl(
  ctx: Context,
  broker: MessageBroker,
  user: MessageBroker["credentials"][string],
): pulumi.Output<string> | undefined {
  const port = ctx.args.docker.hostPorts.amqp;
  if (port === undefined) return undefined;
  return user.password.apply((password) =>
    connectionUrl("amqp", user.username, password, "127.0.0.1", port, broker.vhost),
  );
}

function createMicroservice(
  ctx: Context,
  service: Service,
  placement: ServicePlacement,
  environment: EnvContract,
): Microservice {
  return new Microservice(
    `${ctx.name}-${service.name}`,
    {
      service,
      image: serviceImage(ctx, service),
      namePrefix: ctx.prefix,
      networks: placement.networks,
      hostPort: publishedPort(service),
      env: environment.env,
      secretEnv: environment.secretEnv,
      labels: ctx.labels("service", service.name),
      memory: ctx.memory,
    },
    { parent: ctx.parent, dependsOn: placement.waitFor },
  );
}

/** The reference service's image, built by the local engine from the project's reference-service/. */
function buildReferenceImage(ctx: Context): pulumi.Output<string> {
  return localBuild(
    `${ctx.name}-reference-image`,
    {
      imageName: `${ctx.prefix}/reference-service:local`,
      context: REFERENCE_SERVICE_DIR,
      dockerfile: path.join(REFERENCE_SERVICE_DIR, "Dockerfile"),
    },
    { parent: ctx.parent },
  ).repoDigest;
}

/**
 * What a service's container runs: the reference service when the stack asks for it; else a local
 * build of the catalog's `build` (tagged as the catalog's `image`, or `{prefix}/{service}:local`);
 * else the catalog's image, or the stack's override of it, pulled.
 */
function serviceImage(ctx: Context, service: Service): ServiceImage {
  if (ctx.referenceImage) return { built: ctx.referenceImage };
  const image = ctx.args.images[service.name] ?? service.image;
  if (!service.build) return { pull: image! };
  return {
    build: {
      imageName: image ?? `${ctx.prefix}/${service.name}:local`,
      context: service.build.context,
      dockerfile: buildDockerfile(service.build),
    },
  };
}

function serviceUrls(microservice: Microservice, service: Service): ServiceUrls {
  return {
    url: microservice.url,
    internalUrl: microservice.internalUrl,
    healthUrl: `${microservice.url}${service.health.path}`,
  };
}

/**
 * A static server: reached by Kong on the edge network, no database, broker or metrics. With the
 * reference service, that stands in for it too (the seeds' front-end images are not published): it
 * answers every GET, given the contract's variables and the tracing network their OTLP URL needs.
 */
function createFrontend(ctx: Context, networks: Networks, gateway: ApiGateway): string | undefined {
  const { catalog } = ctx.args;
  if (!catalog.frontend) return undefined;
  const frontend = frontendService(catalog.frontend);
  const reference = ctx.referenceImage;
  const environment = reference
    ? environmentOf(ctx, frontend, new Map(), undefined, { tracing: TRACING })
    : { env: {}, secretEnv: {} };
  new Microservice(
    `${ctx.name}-${frontend.name}`,
    {
      service: frontend,
      image: reference ? { built: reference } : { pull: ctx.args.images[frontend.name] ?? frontend.image! },
      namePrefix: ctx.prefix,
      networks: reference ? [networks.edge, networks.monitoring] : [networks.edge],
      hostPort: publishedPort(frontend),
      env: environment.env,
      secretEnv: environment.secretEnv,
      labels: ctx.labels("frontend", frontend.name),
      memory: ctx.memory,
    },
    { parent: ctx.parent },
  );
  return `${gateway.proxyUrl}${FRONTEND_PATH}`;
}

function createObservability(ctx: Context, networks: Networks): Observability {
  const { args } = ctx;
  return new Observability(
    `${ctx.name}-observability`,
    {
      namePrefix: ctx.prefix,
      selection: { stack: args.stack, catalog: args.catalog.name },
      logs: args.observability.logs,
      services: args.catalog.services.map((s) => s.name),
      scrapeJobs: ctx.scrapeJobs,
      storeJobs: ctx.storeJobs,
      scrapeInterval: args.observability.scrapeInterval,
      thresholds: {
        errorRate: args.observability.errorRateThreshold,
        latencyP95Seconds: args.observability.latencyP95Seconds,
      },
      alerting: args.alerting,
      images: args.docker.images,
      network: networks.monitoring,
      hostPorts: args.docker.hostPorts,
      labels: ctx.labels("observability"),
      memory: ctx.memory,
      tracing: args.observability.tracing,
    },
    { parent: ctx.parent },
  );
}

function createDeveloperTools(
  ctx: Context,
  networks: Networks,
  cache: CacheCluster | undefined,
  postgresNetworks: docker.Network[],
): DeveloperTools | undefined {
  const { devTools, images, hostPorts } = ctx.args.docker;
  if (!devTools.adminer && !devTools.redisCommander) return undefined;
  return new DeveloperTools(
    `${ctx.name}-devtools`,
    {
      namePrefix: ctx.prefix,
      tools: devTools,
      images,
      hostPorts,
      databaseNetworks: postgresNetworks,
      cache: cache && { network: networks.data!, endpoint: cache.endpoint },
      labels: ctx.labels("devtools"),
      memory: ctx.memory,
    },
    { parent: ctx.parent },
  );
}

function healthChecks(
  services: Record<string, ServiceUrls>,
  urls: ToolUrls,
  args: DockerPlatformArgs,
  frontendUrl: string | undefined,
): HealthCheck[] {
  return [
    ...Object.entries(services).map(([service, endpoints]) => ({ name: service, url: endpoints.healthUrl })),
    ...(frontendUrl ? [{ name: args.catalog.frontend!.name, url: frontendUrl }] : []),
    ...(urls.gateway
      ? [
          { name: "gateway", url: `${urls.gateway}${GATEWAY_HEALTH_PATH}` },
          { name: "gateway admin", url: `${urls.gatewayAdmin}/status` },
        ]
      : []),
    ...(urls.rabbitmqManagement ? [{ name: "rabbitmq management", url: `${urls.rabbitmqManagement}/` }] : []),
    { name: "grafana", url: `${urls.grafana}/api/health` },
    { name: "prometheus", url: `${urls.prometheus}/-/ready` },
    { name: "alertmanager", url: `${urls.alertmanager}/-/ready` },
    { name: "jaeger", url: `${urls.jaeger}/` },
    // Redis Commander answers 401 without its password, so it is not probed.
    ...(urls.adminer ? [{ name: "adminer", url: `${urls.adminer}/` }] : []),
  ];
}
