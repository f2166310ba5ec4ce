import * as pulumi from "@pulumi/pulumi";
import * as rabbitmq from "@pulumi/rabbitmq";
import { BrokerTopology } from "../messaging/BrokerTopology";
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
 * The catalog's topology on Amazon MQ (the same BrokerTopology as dev: vhost, exchanges, queues,
 * DLQs, one user per service), through the private management API: this runs in the platform
 * layer, deployed from inside the VPC.
 */
export class AmazonMqTopology extends pulumi.ComponentResource {
  readonly credentials: Record<string, BrokerUser>;
  /** AMQPS on the broker's private endpoint; the vhost is the topology's, so services wait for it. */
  readonly endpoint: BrokerEndpoint;

  constructor(name: string, args: AmazonMqTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:AmazonMqTopology", name, {}, opts);
    const provider = new rabbitmq.Provider(
      `${name}-admin`,
      { endpoint: args.managementUrl, username: MANAGED_BROKER_ADMIN, password: args.adminPassword },
      { parent: this },
    );
    const topology = new BrokerTopology(`${name}-topology`, { plan: args.plan, provider }, { parent: this });
    this.credentials = topology.credentials;
    this.endpoint = {
      host: args.host,
      port: RABBITMQ.amqpsPort,
      tls: true,
      vhost: topology.vhost,
      location: { kind: "vpc" },
    };
    this.registerOutputs({});
  }
}
