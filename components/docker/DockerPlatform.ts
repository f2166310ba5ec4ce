import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { PlatformConfig, databaseHostPorts } from "../../stacks/config";
import { Service } from "../../services/schema";
import { dependencyOrder, dependencyUrlEnv, publishedPort } from "../../services/validate";
import { planTopology } from "../messaging/topology";
import { connectionUrl } from "../data/databasePlan";
import { AMQP_PORT, MessageBroker } from "./MessageBroker";
import { Microservice } from "./Microservice";
import { ServiceDatabase } from "./ServiceDatabase";
import { PlatformLabels } from "./containerDefaults";

export interface DockerPlatformArgs {
  config: PlatformConfig;
  /** The catalog's `source: config` secrets, already wrapped as Pulumi secrets. */
  configSecrets: Record<string, Record<string, pulumi.Output<string>>>;
}

export interface ServiceEndpoints {
  url: string;
  internalUrl: string;
}

/**
 * The dev environment on local Docker: segmented networks, one database per service,
 * RabbitMQ with the catalog's topology, and every service wired to them.
 */
export class DockerPlatform extends pulumi.ComponentResource {
  readonly services: Record<string, ServiceEndpoints> = {};
  readonly rabbitmqManagementUrl?: string;
  /** Per service: database and broker URLs through loopback, for the developer's tools. Secret. */
  readonly connectionStrings: pulumi.Output<Record<string, { database?: string; broker?: string }>>;

  constructor(name: string, args: DockerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:Platform", name, {}, opts);
    const { config } = args;
    const { catalog, docker: settings } = config;
    const prefix = settings.namePrefix;
    const labels = (component: string, service?: string): PlatformLabels =>
      ({ stack: config.stack, catalog: catalog.name, component, service });

    const network = (key: string, purpose: string) => new docker.Network(`${name}-net-${key}`, {
      name: `${prefix}-${key}`,
      driver: "bridge",
      labels: [
        { label: "platform.stack", value: config.stack },
        { label: "platform.network", value: purpose },
      ],
    }, { parent: this });
    // Membership is the segmentation: a database is on a network with its own service only,
    // the broker with the services that use events. None is `internal`, because Docker
    // publishes loopback ports only through a non-internal bridge.
    const edge = network("edge", "edge");
    const servicesNetwork = network("services", "services");
    const plan = planTopology(catalog);
    const usesBroker = (service: Service) => service.events.publishes.length > 0 || service.events.consumes.length > 0;
    const needsBroker = catalog.services.some(usesBroker);
    const dataNetwork = needsBroker ? network("data", "data") : undefined;

    const broker = needsBroker ? new MessageBroker(`${name}-broker`, {
      namePrefix: prefix,
      image: settings.rabbitmqImage,
      plan,
      network: dataNetwork!,
      managementHostPort: settings.rabbitmqManagementPort,
      amqpHostPort: settings.amqpHostPort,
      labels: labels("broker"),
    }, { parent: this }) : undefined;
    this.rabbitmqManagementUrl = broker?.managementUrl;

    const calledSynchronously = new Set(catalog.services.flatMap((s) => s.dependsOn));
    const dbPorts = databaseHostPorts(catalog, settings.databasePortBase);
    const deployed = new Map<string, Microservice>();
    const connections: Record<string, { database?: pulumi.Output<string>; broker?: pulumi.Output<string> }> = {};

    for (const service of dependencyOrder(catalog.services)) {
      const env: Record<string, pulumi.Input<string>> = {
        ...service.env,
        SERVICE_NAME: service.name,
        OTEL_SERVICE_NAME: service.name,
        PORT: String(service.port),
        PLATFORM_ENVIRONMENT: config.environment,
      };
      const secretEnv: Record<string, pulumi.Input<string>> = {};
      const networks = [edge];
      const waitFor: pulumi.Resource[] = [];
      connections[service.name] = {};

      if (service.dependsOn.length > 0 || calledSynchronously.has(service.name)) networks.push(servicesNetwork);
      for (const dependency of service.dependsOn) {
        const target = deployed.get(dependency)!;
        env[dependencyUrlEnv(dependency)] = target.internalUrl;
        waitFor.push(target);
      }

      if (service.database.kind !== "none") {
        const dbNetwork = network(`${service.name}-db`, "data");
        networks.push(dbNetwork);
        const database = new ServiceDatabase(`${name}-${service.name}-db`, {
          service: service.name,
          database: service.database,
          namePrefix: prefix,
          network: dbNetwork,
          hostPort: dbPorts.get(service.name)!,
          labels: labels("database", service.name),
        }, { parent: this });
        Object.assign(env, { DB_HOST: database.host, DB_PORT: String(database.port), DB_NAME: database.databaseName, DB_USER: database.username });
        Object.assign(secretEnv, { DATABASE_URL: database.url, DB_PASSWORD: database.password });
        connections[service.name].database = database.hostUrl;
        waitFor.push(database);
      }

      const brokerUser = broker?.credentials[service.name];
      if (broker && brokerUser) {
        networks.push(dataNetwork!);
        const amqp = (host: string, port: number) => brokerUser.password.apply((password) =>
          connectionUrl("amqp", brokerUser.username, password, host, port, broker.vhost));
        Object.assign(env, {
          RABBITMQ_VHOST: broker.vhost,
          RABBITMQ_USER: brokerUser.username,
          RABBITMQ_QUEUES: brokerUser.consumerQueues.join(","),
          RABBITMQ_RETRY_EXCHANGE: brokerUser.retryExchange ?? "",
        });
        Object.assign(secretEnv, { RABBITMQ_URL: amqp(broker.host, AMQP_PORT), RABBITMQ_PASSWORD: brokerUser.password });
        if (settings.amqpHostPort !== undefined) connections[service.name].broker = amqp("127.0.0.1", settings.amqpHostPort);
        waitFor.push(broker);
      }

      for (const secret of service.secrets) {
        secretEnv[secret.name] = secret.source === "random"
          ? new random.RandomPassword(`${name}-${service.name}-${secret.name}`, { length: secret.length, special: false }, { parent: this }).result
          : args.configSecrets[service.name][secret.name];
      }

      const microservice = new Microservice(`${name}-${service.name}`, {
        service,
        image: config.images[service.name] ?? service.image,
        namePrefix: prefix,
        networks,
        hostPort: publishedPort(service),
        env,
        secretEnv,
        labels: labels("service", service.name),
      }, { parent: this, dependsOn: waitFor });
      deployed.set(service.name, microservice);
      this.services[service.name] = { url: microservice.url, internalUrl: microservice.internalUrl };
    }

    this.connectionStrings = pulumi.secret(pulumi.output(connections));
    this.registerOutputs({
      services: this.services,
      rabbitmqManagementUrl: this.rabbitmqManagementUrl,
      connectionStrings: this.connectionStrings,
    });
  }
}
