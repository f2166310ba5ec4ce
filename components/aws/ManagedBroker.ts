import * as pulumi from "@pulumi/pulumi";
import { RABBITMQ } from "../engines";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DataStorePlacement, nodesOnlySecurityGroup, onceReachable } from "./securityGroup";

export interface ManagedBrokerArgs extends DataStorePlacement {
  namePrefix: string;
  instanceType: string;
}

/** The broker's administrator, which the platform layer declares the topology with. */
export const MANAGED_BROKER_ADMIN = "platform-admin";

/**
 * Amazon MQ for RabbitMQ as a private Multi-AZ cluster, encrypted at rest. The catalog's topology
 * is declared by the platform layer (AmazonMqTopology) through the management API, from the
 * deploy runner inside the VPC.
 */
export class ManagedBroker extends pulumi.ComponentResource {
  /** The broker's private host name (AMQPS and the management API). */
  readonly host: pulumi.Output<string>;
  /** HTTPS management API, for the topology. */
  readonly managementUrl: pulumi.Output<string>;
  /** Secret. */
  readonly adminPassword: pulumi.Output<string>;
  /** What CloudWatch's Broker dimension names. */
  readonly brokerName: string;

  constructor(name: string, args: ManagedBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:ManagedBroker", name, {}, opts);
    this.brokerName = `${args.namePrefix}-rabbitmq`;
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
    const broker = new aws.mq.Broker(
      `${name}-broker`,
      {
        brokerName: this.brokerName,
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
        users: [{ username: MANAGED_BROKER_ADMIN, password: adminPassword }],
      },
      { ...child, protect: args.protect },
    );

    // The endpoint is `amqps://host:port`; the contract keeps host and port apart.
    this.host = onceReachable(
      broker.instances.apply((instances) => new URL(instances[0].endpoints[0]).hostname),
      securityGroup,
    );
    this.managementUrl = onceReachable(
      broker.instances.apply((instances) => instances[0].consoleUrl),
      securityGroup,
    );
    this.adminPassword = adminPassword;
    this.registerOutputs({ host: this.host });
  }
}
