import * as pulumi from "@pulumi/pulumi";
import { REDIS } from "../engines";
import { CacheEndpoint } from "../platform";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DataStorePlacement, nodesOnlySecurityGroup, onceReachable } from "./securityGroup";
import { NAME_LIMITS, fitName } from "../naming";

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
  /** One TLS endpoint; failover keeps the primary endpoint's name. */
  readonly endpoint: CacheEndpoint;
  /** The replication group's ID and node count (primary and replicas), which its CloudWatch metrics are named by. */
  readonly replicationGroupId: string;
  readonly nodes: number;

  constructor(name: string, args: ManagedCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:ManagedCache", name, {}, opts);
    const child = { parent: this };
    const subnets = new aws.elasticache.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, child);
    const securityGroup = nodesOnlySecurityGroup(
      `${name}-sg`,
      args,
      { description: "Redis from the EKS nodes only", ports: [REDIS.port] },
      child,
    );
    this.replicationGroupId = fitName(`${args.namePrefix}-redis`, NAME_LIMITS.elastiCacheReplicationGroup);
    this.nodes = args.replicas + 1;
    this.authToken = new random.RandomPassword(`${name}-auth-token`, { length: 64, special: false }, child).result;
    const group = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        replicationGroupId: this.replicationGroupId,
        description: `${args.namePrefix} cache`,
        engine: "redis",
        engineVersion: REDIS.managedVersion,
        nodeType: args.nodeType,
        port: REDIS.port,
        numCacheClusters: this.nodes,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        kmsKeyId: args.kmsKeyArn,
        authToken: this.authToken,
        subnetGroupName: subnets.name,
        securityGroupIds: [securityGroup.id],
        snapshotRetentionLimit: 7,
        // Deleting the group (a teardown) keeps its data in a snapshot.
        finalSnapshotIdentifier: `${this.replicationGroupId}-final`,
        autoMinorVersionUpgrade: true,
      },
      { ...child, protect: args.protect },
    );
    this.primaryEndpoint = onceReachable(group.primaryEndpointAddress, securityGroup);
    this.endpoint = {
      host: this.primaryEndpoint,
      port: REDIS.port,
      tls: true,
      password: this.authToken,
      location: { kind: "vpc" },
    };
    this.registerOutputs({ primaryEndpoint: this.primaryEndpoint });
  }
}
