import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DATABASE_ENGINES } from "../engines";
import { DataStorePlacement, NodesOnlyGroup, nodesOnlySecurityGroup, onceReachable } from "./securityGroup";
import { serviceLogGroup } from "./serviceLogGroup";
import { after } from "../ordering";

export interface DocumentDbArgs extends DataStorePlacement {
  namePrefix: string;
  instanceClass: string;
  instances: number;
  backupRetentionDays: number;
  kmsKeyArn: pulumi.Input<string>;
  /** How long the audit and profiler logs are kept. */
  logRetentionDays: number;
  /** Tags that put the cluster in the stack's AWS Backup plan. */
  backupTags: Record<string, string>;
}

export const DOCUMENTDB_PORT = DATABASE_ENGINES.mongodb.port;
/** What the cluster exports to CloudWatch Logs. */
const EXPORTED_LOGS = ["audit", "profiler"];
/** DocumentDB's master user name allows letters and digits only. */
export const DOCUMENTDB_ADMIN_USER = "platformadmin";

/**
 * One Amazon DocumentDB cluster for the MongoDB services: encrypted with the platform key, TLS
 * required (clients verify it with the RDS CA bundle), audit logs, backups kept for the RDS
 * retention, deletion protection and a final snapshot, private and reachable from the cluster
 * nodes only, instances spread over the zones. The services' logins are made by the platform
 * layer (DocumentDbAccess), from inside the VPC.
 */
export class DocumentDb extends pulumi.ComponentResource {
  /** The cluster endpoint; resolves once every instance exists (no connection is served before). */
  readonly host: pulumi.Output<string>;
  /** Secret. */
  readonly adminPassword: pulumi.Output<string>;
  /** What CloudWatch's DBClusterIdentifier dimension names. */
  readonly clusterIdentifier: string;

  constructor(name: string, args: DocumentDbArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:DocumentDb", name, {}, opts);
    this.clusterIdentifier = clusterIdentifier(args);
    const { cluster, adminPassword, securityGroup } = this.createCluster(name, args);
    const instances = this.createInstances(name, args, cluster);
    this.host = onceReachable(after(cluster.endpoint, ...instances.map((i) => i.id)), securityGroup);
    this.adminPassword = adminPassword;
    this.registerOutputs({ host: this.host });
  }

  /** The cluster, private behind the nodes-only security group, with TLS and audit logs on. */
  private createCluster(
    name: string,
    args: DocumentDbArgs,
  ): { cluster: aws.docdb.Cluster; adminPassword: pulumi.Output<string>; securityGroup: NodesOnlyGroup } {
    const child = { parent: this };
    const identifier = clusterIdentifier(args);
    const subnets = new aws.docdb.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, child);
    const securityGroup = nodesOnlySecurityGroup(
      `${name}-sg`,
      args,
      { description: "DocumentDB from the EKS nodes only", ports: [DOCUMENTDB_PORT] },
      child,
    );
    const parameters = new aws.docdb.ClusterParameterGroup(
      `${name}-params`,
      {
        family: "docdb5.0",
        parameters: [
          { name: "tls", value: "enabled", applyMethod: "pending-reboot" },
          { name: "audit_logs", value: "enabled" },
        ],
      },
      child,
    );
    const adminPassword = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, child)
      .result;
    // Where DocumentDB exports them: /aws/docdb/<cluster>/<log type>
    // (https://docs.aws.amazon.com/documentdb/latest/developerguide/event-auditing.html).
    const logGroups = EXPORTED_LOGS.map((log) =>
      serviceLogGroup(
        `${name}-${log}-logs`,
        `/aws/docdb/${identifier}/${log}`,
        { retentionDays: args.logRetentionDays, kmsKeyArn: args.kmsKeyArn },
        child,
      ),
    );
    const cluster = new aws.docdb.Cluster(
      `${name}-cluster`,
      {
        clusterIdentifier: identifier,
        engine: "docdb",
        engineVersion: "5.0.0",
        masterUsername: DOCUMENTDB_ADMIN_USER,
        masterPassword: adminPassword,
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.protect,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [securityGroup.id],
        dbClusterParameterGroupName: parameters.name,
        enabledCloudwatchLogsExports: EXPORTED_LOGS,
        tags: args.backupTags,
      },
      { ...child, protect: args.protect, dependsOn: logGroups },
    );
    return { cluster, adminPassword, securityGroup };
  }

  private createInstances(name: string, args: DocumentDbArgs, cluster: aws.docdb.Cluster): aws.docdb.ClusterInstance[] {
    return Array.from(
      { length: args.instances },
      (_, i) =>
        new aws.docdb.ClusterInstance(
          `${name}-instance-${i + 1}`,
          {
            identifier: `${clusterIdentifier(args)}-${i + 1}`,
            clusterIdentifier: cluster.id,
            instanceClass: args.instanceClass,
            autoMinorVersionUpgrade: true,
          },
          { parent: this },
        ),
    );
  }
}

function clusterIdentifier(args: DocumentDbArgs): string {
  return `${args.namePrefix}-docdb`;
}
