import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { PlatformConfig, databaseHostPorts } from "../../stacks/config";
import { FRONTEND_PATH, Service, frontendService } from "../../services/schema";
import { GATEWAY_HEALTH_PATH, dependencyOrder, needsGateway, publishedPort } from "../../services/validate";
import { ConfigSecrets, serviceEnvironment } from "../serviceEnvironment";
import { planTopology } from "../messaging/topology";
import { connectionUrl } from "../data/databasePlan";
import { GatewayCredential } from "../gateway/kongConfig";
import { HealthCheck } from "../healthCheck";
import { ScrapeJob } from "../observability/prometheusConfig";
import { AMQP_PORT, MessageBroker, RABBITMQ_PROMETHEUS_PORT } from "./MessageBroker";
import { Microservice } from "./Microservice";
import { ServiceDatabase } from "./ServiceDatabase";
import { CacheCluster, REDIS_EXPORTER_HOST, REDIS_EXPORTER_PORT } from "./CacheCluster";
import { ApiGateway, KONG_HOST, KONG_STATUS_PORT } from "./ApiGateway";
import { OTLP_ENDPOINT, Observability } from "./Observability";
import { PlatformLabels } from "./containerDefaults";
import { MEMORY_PROFILES } from "./memoryProfile";
import { DeveloperTools } from "./DeveloperTools";

export interface DockerPlatformArgs {
  config: PlatformConfig;
  /** The catalog's `source: config` secrets, already wrapped as Pulumi secrets. */
  configSecrets: ConfigSecrets;
}

export interface ServiceEndpoints {
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
  jaeger: string;
  logs: string;
}

/**
 * The dev environment on local Docker: segmented networks, one database per service, RabbitMQ
 * with the catalog's topology, Redis (Sentinel), Kong, the observability stack, and every
 * service wired to them.
 */
export class DockerPlatform extends pulumi.ComponentResource {
  readonly services: Record<string, ServiceEndpoints> = {};
  /** The front end through the gateway, when the catalog has one. */
  readonly frontendUrl?: string;
  readonly urls: ToolUrls;
  /** Per service: database and broker URLs through loopback, for the developer's tools. Secret. */
  readonly connectionStrings: pulumi.Output<Record<string, { database?: string; broker?: string }>>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** What `npm run health` probes: every service, the gateway, broker management, Grafana, Prometheus, Jaeger. */
  readonly healthChecks: HealthCheck[];
  /** Redis Commander's password (user `admin`) when it is enabled; secret. */
  readonly redisCommanderPassword?: pulumi.Output<string>;
  /** What clients present on authenticated gateway routes (secret). */
  readonly gatewayCredential?: pulumi.Output<GatewayCredential>;

  constructor(name: string, args: DockerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:Platform", name, {}, opts);
    const { config } = args;
    const { catalog, docker: settings } = config;
    const { images, hostPorts, namePrefix: prefix } = settings;
    const memory = MEMORY_PROFILES[settings.profile];
    const labels = (component: string, service?: string): PlatformLabels => ({
      stack: config.stack,
      catalog: catalog.name,
      component,
      service,
    });

    const network = (key: string, purpose: string) =>
      new docker.Network(
        `${name}-net-${key}`,
        {
          name: `${prefix}-${key}`,
          driver: "bridge",
          labels: [
            { label: "platform.stack", value: config.stack },
            { label: "platform.network", value: purpose },
          ],
        },
        { parent: this },
      );
    // Membership is the segmentation: a database shares a network with its own service (and its
    // exporter) only; the broker and cache with the services that use them. None is `internal`,
    // because Docker publishes loopback ports only through a non-internal bridge.
    const usesBroker = (service: Service) => service.events.publishes.length > 0 || service.events.consumes.length > 0;
    const brokerUsers = catalog.services.filter(usesBroker);
    const cacheUsers = catalog.services.filter((s) => s.cache);
    const edge = network("edge", "edge");
    const servicesNetwork = network("services", "services");
    const monitoring = network("monitoring", "monitoring");
    const dataNetwork = brokerUsers.length + cacheUsers.length > 0 ? network("data", "data") : undefined;
    const scrapeJobs: ScrapeJob[] = [];
    const dbMonitoring = { network: monitoring, postgresExporterImage: images.postgresExporter };
    const dbPorts = databaseHostPorts(catalog, hostPorts.databaseBase, config.gateway.database === "postgres");

    const broker =
      brokerUsers.length > 0
        ? new MessageBroker(
            `${name}-broker`,
            {
              namePrefix: prefix,
              image: images.rabbitmq,
              plan: planTopology(catalog),
              network: dataNetwork!,
              monitoringNetwork: monitoring,
              managementHostPort: hostPorts.rabbitmqManagement,
              amqpHostPort: hostPorts.amqp,
              labels: labels("broker"),
              memory,
            },
            { parent: this },
          )
        : undefined;
    if (broker)
      scrapeJobs.push({ job: "rabbitmq", groups: [{ targets: [`${broker.host}:${RABBITMQ_PROMETHEUS_PORT}`] }] });

    const cache =
      cacheUsers.length > 0
        ? new CacheCluster(
            `${name}-cache`,
            {
              mode: config.cache.mode,
              evictionPolicy: config.cache.evictionPolicy,
              namePrefix: prefix,
              image: images.redis,
              exporterImage: images.redisExporter,
              network: dataNetwork!,
              monitoringNetwork: monitoring,
              labels: labels("cache"),
              memory,
            },
            { parent: this },
          )
        : undefined;
    if (cache)
      scrapeJobs.push({
        job: "redis",
        groups: [{ targets: cache.dataNodes }],
        metricsPath: "/scrape",
        viaExporter: `${REDIS_EXPORTER_HOST}:${REDIS_EXPORTER_PORT}`,
      });

    const frontend = catalog.frontend && frontendService(catalog.frontend);
    const gateway = needsGateway(catalog)
      ? new ApiGateway(
          `${name}-gateway`,
          {
            // The front end is one more public service to Kong, at `/`.
            catalog: frontend ? { ...catalog, services: [...catalog.services, frontend] } : catalog,
            namePrefix: prefix,
            image: images.kong,
            database: config.gateway.database,
            databaseImage: images.kongDatabase,
            databaseHostPort: dbPorts.get("kong"),
            auth: config.gateway.auth,
            corsOrigins: config.gateway.corsOrigins,
            network: edge,
            monitoring: dbMonitoring,
            proxyHostPort: hostPorts.gatewayProxy,
            adminHostPort: hostPorts.gatewayAdmin,
            labels: labels("gateway"),
            memory,
          },
          { parent: this },
        )
      : undefined;
    if (gateway) scrapeJobs.push({ job: "kong", groups: [{ targets: [`${KONG_HOST}:${KONG_STATUS_PORT}`] }] });
    const postgresExporters: Array<{ service: string; target: string }> = [];
    if (gateway?.databaseExporter) postgresExporters.push({ service: "kong", target: gateway.databaseExporter });

    const calledSynchronously = new Set(catalog.services.flatMap((s) => s.dependsOn));
    const deployed = new Map<string, Microservice>();
    const connections: Record<string, { database?: pulumi.Output<string>; broker?: pulumi.Output<string> }> = {};
    const postgresNetworks: docker.Network[] = [];

    for (const service of dependencyOrder(catalog.services)) {
      const networks = [edge, monitoring];
      const waitFor: pulumi.Resource[] = service.dependsOn.map((dependency) => deployed.get(dependency)!);
      connections[service.name] = {};
      if (service.dependsOn.length > 0 || calledSynchronously.has(service.name)) networks.push(servicesNetwork);

      let database: ServiceDatabase | undefined;
      if (service.database.kind !== "none") {
        const dbNetwork = network(`${service.name}-db`, "data");
        networks.push(dbNetwork);
        if (service.database.kind === "postgres") postgresNetworks.push(dbNetwork);
        database = new ServiceDatabase(
          `${name}-${service.name}-db`,
          {
            service: service.name,
            database: service.database,
            namePrefix: prefix,
            network: dbNetwork,
            hostPort: dbPorts.get(service.name)!,
            monitoring: dbMonitoring,
            labels: labels("database", service.name),
            memory,
          },
          { parent: this },
        );
        connections[service.name].database = database.hostUrl;
        if (database.exporterTarget) postgresExporters.push({ service: service.name, target: database.exporterTarget });
        // The server, and (through the env's outputs) the login; not the metrics exporter.
        waitFor.push(database.ready);
      }
      const brokerUser = broker?.credentials[service.name];
      if (broker && brokerUser) {
        if (hostPorts.amqp !== undefined) {
          connections[service.name].broker = brokerUser.password.apply((password) =>
            connectionUrl("amqp", brokerUser.username, password, "127.0.0.1", hostPorts.amqp!, broker.vhost),
          );
        }
        waitFor.push(broker);
      }
      if (cache && service.cache) waitFor.push(cache);
      if ((broker && brokerUser) || (cache && service.cache)) networks.push(dataNetwork!);

      const { env, secretEnv } = serviceEnvironment(service, {
        environment: config.environment,
        otlpEndpoint: OTLP_ENDPOINT,
        dependencyUrl: (dependency) => deployed.get(dependency)!.internalUrl,
        database: database && {
          host: database.host,
          port: database.port,
          name: database.databaseName,
          username: database.username,
          password: database.password,
          url: database.url,
        },
        broker: broker &&
          brokerUser && {
            vhost: broker.vhost,
            user: brokerUser,
            scheme: "amqp",
            address: `${broker.host}:${AMQP_PORT}`,
          },
        cache: cache?.clientEnv(),
        tokenIssuer: gateway?.issuerSecretEnv,
        secretValue: (secret) =>
          secret.source === "random"
            ? new random.RandomPassword(
                `${name}-${service.name}-${secret.name}`,
                { length: secret.length, special: false },
                { parent: this },
              ).result
            : args.configSecrets.services[service.name][secret.name],
        sentryDsn: args.configSecrets.sentryDsn,
      });

      const microservice = new Microservice(
        `${name}-${service.name}`,
        {
          service,
          image: config.images[service.name] ?? service.image,
          namePrefix: prefix,
          networks,
          hostPort: publishedPort(service),
          env,
          secretEnv,
          labels: labels("service", service.name),
          memory,
        },
        { parent: this, dependsOn: waitFor },
      );
      deployed.set(service.name, microservice);
      this.services[service.name] = {
        url: microservice.url,
        internalUrl: microservice.internalUrl,
        healthUrl: `${microservice.url}${service.health.path}`,
      };
      scrapeJobs.push({
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
    if (frontend && gateway) {
      // A static server: reached by Kong on the edge network, no database, broker or metrics.
      new Microservice(
        `${name}-${frontend.name}`,
        {
          service: frontend,
          image: config.images[frontend.name] ?? frontend.image,
          namePrefix: prefix,
          networks: [edge],
          hostPort: publishedPort(frontend),
          env: {},
          secretEnv: {},
          labels: labels("frontend", frontend.name),
          memory,
        },
        { parent: this },
      );
      this.frontendUrl = `${gateway.proxyUrl}${FRONTEND_PATH}`;
    }
    if (postgresExporters.length > 0) {
      scrapeJobs.push({
        job: "postgres",
        groups: postgresExporters.map((e) => ({ targets: [e.target], labels: { service: e.service } })),
      });
    }

    const observability = new Observability(
      `${name}-observability`,
      {
        namePrefix: prefix,
        selection: { stack: config.stack, catalog: catalog.name },
        logs: config.observability.logs,
        services: catalog.services.map((s) => s.name),
        scrapeJobs,
        scrapeInterval: config.observability.scrapeInterval,
        thresholds: {
          errorRate: config.observability.errorRateThreshold,
          latencyP95Seconds: config.observability.latencyP95Seconds,
        },
        images,
        network: monitoring,
        hostPorts,
        labels: labels("observability"),
        memory,
      },
      { parent: this },
    );

    const { devTools } = settings;
    const tools =
      devTools.adminer || devTools.redisCommander
        ? new DeveloperTools(
            `${name}-devtools`,
            {
              namePrefix: prefix,
              tools: devTools,
              images,
              hostPorts,
              databaseNetworks: postgresNetworks,
              cache: cache && { network: dataNetwork!, client: cache.clientEnv() },
              labels: labels("devtools"),
              memory,
            },
            { parent: this },
          )
        : undefined;
    this.redisCommanderPassword = tools?.redisCommanderPassword;

    this.urls = {
      adminer: tools?.adminerUrl,
      redisCommander: tools?.redisCommanderUrl,
      gateway: gateway?.proxyUrl,
      gatewayAdmin: gateway?.adminUrl,
      rabbitmqManagement: broker?.managementUrl,
      grafana: observability.grafanaUrl,
      prometheus: observability.prometheusUrl,
      jaeger: observability.jaegerUrl,
      logs: observability.logsUrl,
    };
    this.healthChecks = [
      ...Object.entries(this.services).map(([service, endpoints]) => ({ name: service, url: endpoints.healthUrl })),
      ...(this.frontendUrl ? [{ name: catalog.frontend!.name, url: this.frontendUrl }] : []),
      ...(gateway
        ? [
            { name: "gateway", url: `${gateway.proxyUrl}${GATEWAY_HEALTH_PATH}` },
            { name: "gateway admin", url: `${gateway.adminUrl}/status` },
          ]
        : []),
      ...(broker ? [{ name: "rabbitmq management", url: `${broker.managementUrl}/` }] : []),
      { name: "grafana", url: `${observability.grafanaUrl}/api/health` },
      { name: "prometheus", url: `${observability.prometheusUrl}/-/ready` },
      { name: "jaeger", url: `${observability.jaegerUrl}/` },
      // Redis Commander answers 401 without its password, so it is not probed.
      ...(tools?.adminerUrl ? [{ name: "adminer", url: `${tools.adminerUrl}/` }] : []),
    ];
    this.grafanaAdminPassword = observability.grafanaAdminPassword;
    this.gatewayCredential = gateway?.credential;
    this.connectionStrings = pulumi.secret(pulumi.output(connections));
    this.registerOutputs({ services: this.services, urls: this.urls, connectionStrings: this.connectionStrings });
  }
}
