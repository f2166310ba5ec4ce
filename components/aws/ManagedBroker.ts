import * as pulumi from "@pulumi/pulumi";
import { RABBITMQ } from "../engines";
import { BrokerEndpoint } from "../platform";
import * as aws from "@pulumi/aws";
import * as rabbitmq from "@pulumi/rabbitmq";
import * as random from "@pulumi/random";
import { BrokerCredentials, BrokerTopology } from "../messaging/BrokerTopology";
import { TopologyPlan } from "../messaging/topology";
import { DataStorePlacement, nodesOnlySecurityGroup } from "./securityGroup";

export interface ManagedBrokerArgs extends DataStorePlacement {
  namePrefix: string;
  instanceType: string;
  plan: TopologyPlan;
}

/**
 * Amazon MQ for RabbitMQ as a private Multi-AZ cluster, encrypted at rest, with the catalog's
 * topology declared through its management API (the same BrokerTopology as dev). The provider
 * needs network access to the private broker: run `pulumi up` from inside the VPC (CI runner,
 * VPN or bastion).
 */
export class ManagedBroker extends pulumi.ComponentResource {
  readonly vhost: string;
  readonly credentials: Record<string, BrokerCredentials>;
  /** AMQPS on the broker's private endpoint. */
  readonly endpoint: BrokerEndpoint;

  constructor(name: string, args: ManagedBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:ManagedBroker", name, {}, opts);
    const child = { parent: this };
    const securityGroup = nodesOnlySecurityGroup(
      `${name}-sg`,
      args,
      {
        description: "AMQPS and management from the EKS nodes only",
        ports: [RABBITMQ.amqpsPort, RABBITMQ.managedManagementPort],
      },
      child,
    );
    const adminPassword = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, child)
      .result;
    const adminUser = "platform-admin";
    const broker = new aws.mq.Broker(
      `${name}-broker`,
      {
        brokerName: `${args.namePrefix}-rabbitmq`,
        engineType: "RabbitMQ",
        engineVersion: RABBITMQ.managedVersion,
        autoMinorVersionUpgrade: true,
        hostInstanceType: args.instanceType,
        deploymentMode: "CLUSTER_MULTI_AZ",
        publiclyAccessible: false,
        subnetIds: args.privateSubnetIds,
        securityGroups: [securityGroup.id],
        // Amazon MQ for RabbitMQ encrypts at rest with an AWS-owned KMS key.
        encryptionOptions: { useAwsOwnedKey: true },
        logs: { general: true },
        users: [{ username: adminUser, password: adminPassword }],
      },
      child,
    );

    const provider = new rabbitmq.Provider(
      `${name}-admin`,
      {
        endpoint: broker.instances.apply((instances) => instances[0].consoleUrl),
        username: adminUser,
        password: adminPassword,
      },
      child,
    );
    const topology = new BrokerTopology(`${name}-topology`, { plan: args.plan, provider }, child);
    this.vhost = args.plan.vhost;
    this.credentials = topology.credentials;
    this.endpoint = {
      // The endpoint is `amqps://host:port`; the contract keeps host and port apart.
      host: broker.instances.apply((instances) => new URL(instances[0].endpoints[0]).hostname),
      port: RABBITMQ.amqpsPort,
      tls: true,
      vhost: this.vhost,
      location: { kind: "vpc" },
    };
    this.registerOutputs({ host: this.endpoint.host });
  }
}
