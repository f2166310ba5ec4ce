import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DataStorePlacement, nodesOnlySecurityGroup } from "./securityGroup";

export interface ManagedCacheArgs extends DataStorePlacement {
  namePrefix: string;
  nodeType: string;
  replicas: number;
  kmsKeyArn: pulumi.Input<string>;
}

/** ElastiCache Redis: Multi-AZ with automatic failover, TLS in transit, KMS at rest, AUTH token. */
export class ManagedCache extends pulumi.ComponentResource {
  readonly primaryEndpoint: pulumi.Output<string>;
  readonly authToken: pulumi.Output<string>;

  constructor(name: string, args: ManagedCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:ManagedCache", name, {}, opts);
    const child = { parent: this };
    const subnets = new aws.elasticache.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, child);
    const securityGroup = nodesOnlySecurityGroup(
      `${name}-sg`,
      args,
      { description: "Redis from the EKS nodes only", ports: [6379] },
      child,
    );
    this.authToken = new random.RandomPassword(`${name}-auth-token`, { length: 64, special: false }, child).result;
    const group = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        replicationGroupId: `${args.namePrefix}-redis`.slice(0, 40),
        description: `${args.namePrefix} cache`,
        engine: "redis",
        engineVersion: "7.1",
        nodeType: args.nodeType,
        port: 6379,
        numCacheClusters: args.replicas + 1,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        kmsKeyId: args.kmsKeyArn,
        authToken: this.authToken,
        subnetGroupName: subnets.name,
        securityGroupIds: [securityGroup.id],
        snapshotRetentionLimit: 7,
        autoMinorVersionUpgrade: true,
      },
      child,
    );
    this.primaryEndpoint = group.primaryEndpointAddress;
    this.registerOutputs({ primaryEndpoint: this.primaryEndpoint });
  }

  /** What a service that uses the cache gets: one TLS URL; failover keeps the primary endpoint. */
  clientEnv(): { env: Record<string, string>; secretEnv: Record<string, pulumi.Output<string>> } {
    return {
      env: { REDIS_TLS: "true" },
      secretEnv: {
        REDIS_URL: pulumi
          .all([this.authToken, this.primaryEndpoint])
          .apply(([token, host]) => `rediss://:${token}@${host}:6379/0`),
        REDIS_PASSWORD: this.authToken,
      },
    };
  }
}
