import * as pulumi from "@pulumi/pulumi";
import { RABBITMQ } from "../engines";
import { BrokerEndpoint, BrokerUser } from "../platform";
import * as docker from "@pulumi/docker";
import * as rabbitmq from "@pulumi/rabbitmq";
import * as random from "@pulumi/random";
import { BrokerTopology } from "../messaging/BrokerTopology";
import { TopologyPlan } from "../messaging/topology";
import { renderEnabledPlugins } from "./rabbitmqConfig";
import { PlatformLabels, healthcheck, loopbackPort, platformLabels } from "./containerDefaults";
import { platformContainer } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";

export interface MessageBrokerArgs {
  namePrefix: string;
  image: string;
  plan: TopologyPlan;
  /** The data network the services reach the broker on. */
  network: docker.Network;
  /** Prometheus scrapes the broker's metrics here. */
  monitoringNetwork: docker.Network;
  managementHostPort: number;
  /** Publish AMQP on 127.0.0.1 at this port; not published when absent. */
  amqpHostPort?: number;
  labels: PlatformLabels;
  memory: ContainerMemory;
}

// The administrator exists only for the platform's provider; services get their own users.
const ADMIN_USER = "platform-admin";

/** RabbitMQ with the management and Prometheus plugins on Docker, and the catalog's topology on it. */
export class MessageBroker extends pulumi.ComponentResource {
  /** Hostname of the broker on the data network. */
  readonly host = "rabbitmq";
  readonly vhost: string;
  readonly managementUrl: string;
  readonly credentials: Record<string, BrokerUser>;
  /** Where services connect, on the data network. */
  readonly endpoint: BrokerEndpoint;
  readonly container: docker.Container;

  constructor(name: string, args: MessageBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:MessageBroker", name, {}, opts);
    const adminPassword = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 32, special: false },
      { parent: this },
    ).result;
    this.container = createServer(name, args, adminPassword, this);
    this.managementUrl = `http://127.0.0.1:${args.managementHostPort}`;
    const provider = new rabbitmq.Provider(
      `${name}-admin`,
      { endpoint: this.managementUrl, username: ADMIN_USER, password: adminPassword },
      { parent: this, dependsOn: [this.container] },
    );

    // Topology resources use the provider, which waits for a healthy container.
    const topology = new BrokerTopology(`${name}-topology`, { plan: args.plan, provider }, { parent: this });
    this.vhost = args.plan.vhost;
    this.endpoint = {
      host: this.host,
      port: RABBITMQ.amqpPort,
      tls: false,
      vhost: this.vhost,
      location: { kind: "local" },
    };
    this.credentials = topology.credentials;
    this.registerOutputs({ managementUrl: this.managementUrl, vhost: this.vhost });
  }
}

/** RabbitMQ on its volume, management on the loopback port (AMQP too when asked), healthy before `pulumi up` goes on. */
function createServer(
  name: string,
  args: MessageBrokerArgs,
  adminPassword: pulumi.Output<string>,
  broker: MessageBroker,
): docker.Container {
  const volume = new docker.Volume(
    `${name}-data`,
    { name: `${args.namePrefix}-rabbitmq-data`, labels: platformLabels(args.labels) },
    { parent: broker },
  );
  const ports = [loopbackPort(RABBITMQ.managementPort, args.managementHostPort)];
  if (args.amqpHostPort !== undefined) ports.push(loopbackPort(RABBITMQ.amqpPort, args.amqpHostPort));
  return platformContainer(
    `${name}-container`,
    {
      host: broker.host,
      image: args.image,
      namePrefix: args.namePrefix,
      networks: [args.network, args.monitoringNetwork],
      labels: args.labels,
      extraLabels: { "prometheus.io/scrape": "true", "prometheus.io/port": String(RABBITMQ.prometheusPort) },
      files: { "/etc/rabbitmq/enabled_plugins": renderEnabledPlugins() },
      settings: {
        envs: pulumi.secret(
          adminPassword.apply((password) => [
            `RABBITMQ_DEFAULT_USER=${ADMIN_USER}`,
            `RABBITMQ_DEFAULT_PASS=${password}`,
          ]),
        ),
        volumes: [{ volumeName: volume.name, containerPath: "/var/lib/rabbitmq" }],
        ports,
        // Healthy once every listener answers, the management API included, which the provider needs.
        healthcheck: healthcheck([...RABBITMQ.ready], {
          timeout: "10s",
          retries: 12,
          startPeriod: "20s",
        }),
        wait: true,
        waitTimeout: 180,
        memory: args.memory.rabbitmq,
      },
    },
    { parent: broker },
  );
}
