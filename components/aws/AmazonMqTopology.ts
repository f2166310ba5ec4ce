import * as pulumi from "@pulumi/pulumi";
import * as rabbitmq from "@pulumi/rabbitmq";
import { BrokerLogin, BrokerTopology } from "../messaging/BrokerTopology";
import { TopologyPlan } from "../messaging/topology";
import { RABBITMQ } from "../engines";
import { BrokerEndpoint, BrokerUser } from "../platform";
import { MANAGED_BROKER_ADMIN } from "./ManagedBroker";

export interface AmazonMqTopologyArgs {
  plan: TopologyPlan;
  /** The broker from the infrastructure layer. */
  host: pulumi.Input<string>;
  managementUrl: pulumi.Input<string>;
  adminPassword: pulumi.Input<string>;
}

/**
 * The login the queue-depth exporter reads the management API with. A service's login is named
 * after it, a DNS label, which has no underscore: no catalog can take this name.
 */
export const QUEUE_MONITOR_USER = "platform_queue_monitor";

/**
 * The catalog's topology on Amazon MQ (the same BrokerTopology as dev: vhost, exchanges, queues,
 * DLQs, one user per service), through the private management API: this runs in the platform
 * layer, deployed from inside the VPC.
 */
export class AmazonMqTopology extends pulumi.ComponentResource {
  readonly credentials: Record<string, BrokerUser>;
  /** AMQPS on the broker's private endpoint; the vhost is the topology's, so services wait for it. */
  readonly endpoint: BrokerEndpoint;
  /**
   * What reads the vhost's queue depths (Amazon MQ publishes none for RabbitMQ 4): the management
   * API and a login with the `monitoring` tag that may touch no resource.
   */
  readonly queueMonitor: { managementUrl: pulumi.Input<string>; vhost: pulumi.Output<string>; login: BrokerLogin };

  constructor(name: string, args: AmazonMqTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:AmazonMqTopology", name, {}, opts);
    const provider = new rabbitmq.Provider(
      `${name}-admin`,
      { endpoint: args.managementUrl, username: MANAGED_BROKER_ADMIN, password: args.adminPassword },
      { parent: this },
    );
    const topology = new BrokerTopology(
      `${name}-topology`,
      { plan: args.plan, provider, monitoringUser: QUEUE_MONITOR_USER },
      { parent: this },
    );
    this.credentials = topology.credentials;
    this.endpoint = {
      host: args.host,
      port: RABBITMQ.amqpsPort,
      tls: true,
      vhost: topology.vhost,
      location: { kind: "vpc" },
    };
    this.queueMonitor = { managementUrl: args.managementUrl, vhost: topology.vhost, login: topology.monitoring! };
    this.registerOutputs({});
  }
}
