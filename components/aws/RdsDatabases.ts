import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES } from "../engines";
import { DataStorePlacement, NodesOnlyGroup, nodesOnlySecurityGroup, onceReachable } from "./securityGroup";
import { NAME_LIMITS, fitName } from "../naming";
import { serviceLogGroup } from "./serviceLogGroup";

const POSTGRES = DATABASE_ENGINES.postgres;
/** What each instance exports to CloudWatch Logs: the server's log, and the major-version upgrade's. */
const EXPORTED_LOGS = ["postgresql", "upgrade"];

export interface RdsServiceDatabase {
  service: string;
  version: string;
  extensions: string[];
}

export interface RdsDatabasesArgs extends DataStorePlacement {
  namePrefix: string;
  databases: RdsServiceDatabase[];
  /** One instance per service, or one shared instance with a database per service. */
  mode: "per-service" | "shared";
  instanceClass: string;
  allocatedStorageGb: number;
  backupRetentionDays: number;
  /** Whether an update may move an instance to a new major version (RDS refuses one otherwise). */
  allowMajorVersionUpgrade: boolean;
  /** Changes now (a Multi-AZ failover) or in the next maintenance window. */
  applyImmediately: boolean;
  kmsKeyArn: pulumi.Input<string>;
  /** How long the exported PostgreSQL logs are kept. */
  logRetentionDays: number;
  /** Tags that put the instances in the stack's AWS Backup plan. */
  backupTags: Record<string, string>;
}

/**
 * PostgreSQL on RDS for the services: encrypted with KMS, Multi-AZ, backups for at least 7 days,
 * deletion protection, private, SSL forced, IAM auth and Performance Insights, reachable from the
 * cluster nodes only. The services' logins and databases are made by the platform layer
 * (RdsAccess), from inside the VPC.
 */
export class RdsDatabases extends pulumi.ComponentResource {
  /** Per service, the address of the instance holding its database and that instance's key. */
  readonly servers: Record<string, { host: pulumi.Output<string>; instance: string }> = {};
  /** Per instance key, the master password (secret). */
  readonly adminPasswords: Record<string, pulumi.Output<string>> = {};
  readonly instanceIds: pulumi.Output<string>[] = [];
  /** Per instance key, its RDS identifier (what CloudWatch's DBInstanceIdentifier dimension names). */
  readonly identifiers: Record<string, string> = {};

  constructor(name: string, args: RdsDatabasesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:RdsDatabases", name, {}, opts);
    const placement = this.createPlacement(name, args);
    for (const group of instanceGroups(args)) {
      const server = this.createInstance(name, group, placement, args);
      this.instanceIds.push(server.instance.id);
      this.identifiers[group.key] = server.identifier;
      this.adminPasswords[group.key] = server.adminPassword;
      for (const db of group.services)
        this.servers[db.service] = {
          host: onceReachable(server.instance.address, placement.securityGroup),
          instance: group.key,
        };
    }
    this.registerOutputs({});
  }

  /** The private subnets and the nodes-only security group. */
  private createPlacement(name: string, args: RdsDatabasesArgs): InstancePlacement {
    const child = { parent: this };
    const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, child);
    const securityGroup = nodesOnlySecurityGroup(
      `${name}-sg`,
      args,
      { description: "PostgreSQL from the EKS nodes only", ports: [POSTGRES.port] },
      child,
    );
    return { subnetGroupName: subnets.name, securityGroup };
  }

  /** One Multi-AZ instance for the group, on the newest PostgreSQL major version its services ask for. */
  private createInstance(
    name: string,
    group: InstanceGroup,
    placement: InstancePlacement,
    args: RdsDatabasesArgs,
  ): DatabaseServer {
    const child = { parent: this };
    const version = String(Math.max(...group.services.map((s) => Number.parseInt(s.version, 10))));
    const parameters = this.createParameterGroup(`${name}-${group.key}-params`, version);
    const adminPassword = new random.RandomPassword(
      `${name}-${group.key}-admin-password`,
      { length: 32, special: false },
      child,
    );
    const identifier = fitName(`${args.namePrefix}-${group.key}`, NAME_LIMITS.rdsIdentifier);
    const logGroups = this.createLogGroups(`${name}-${group.key}`, identifier, args);
    const instance = new aws.rds.Instance(
      `${name}-${group.key}`,
      {
        identifier,
        engine: "postgres",
        engineVersion: version,
        instanceClass: args.instanceClass,
        allocatedStorage: args.allocatedStorageGb,
        maxAllocatedStorage: args.allocatedStorageGb * 5,
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        multiAz: true,
        backupRetentionPeriod: args.backupRetentionDays,
        copyTagsToSnapshot: true,
        deletionProtection: args.protect,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        publiclyAccessible: false,
        iamDatabaseAuthenticationEnabled: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: args.kmsKeyArn,
        enabledCloudwatchLogsExports: EXPORTED_LOGS,
        autoMinorVersionUpgrade: true,
        // A major bump changes the engine version and the parameter group's family (a new group,
        // made before and deleted after) in one modification, which RDS accepts with this flag only.
        allowMajorVersionUpgrade: args.allowMajorVersionUpgrade,
        applyImmediately: args.applyImmediately,
        dbSubnetGroupName: placement.subnetGroupName,
        vpcSecurityGroupIds: [placement.securityGroup.id],
        parameterGroupName: parameters.name,
        username: DATABASE_ADMIN_USER,
        password: adminPassword.result,
        tags: { service: group.key, ...args.backupTags },
      },
      { ...child, protect: args.protect, dependsOn: logGroups },
    );
    return { instance, identifier, adminPassword: adminPassword.result };
  }

  /**
   * The groups RDS exports the instance's logs to, `/aws/rds/instance/<identifier>/<log type>`
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html).
   */
  private createLogGroups(name: string, identifier: string, args: RdsDatabasesArgs): aws.cloudwatch.LogGroup[] {
    return EXPORTED_LOGS.map((log) =>
      serviceLogGroup(
        `${name}-${log}-logs`,
        `/aws/rds/instance/${identifier}/${log}`,
        { retentionDays: args.logRetentionDays, kmsKeyArn: args.kmsKeyArn },
        { parent: this },
      ),
    );
  }

  private createParameterGroup(name: string, version: string): aws.rds.ParameterGroup {
    return new aws.rds.ParameterGroup(
      name,
      {
        family: `postgres${version}`,
        parameters: [
          { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
          { name: "log_connections", value: "1" },
          { name: "log_disconnections", value: "1" },
        ],
      },
      { parent: this },
    );
  }
}

/** Services sharing one instance: keyed by the service's name, or "shared" holding every service's database. */
interface InstanceGroup {
  key: string;
  services: RdsServiceDatabase[];
}

function instanceGroups(args: RdsDatabasesArgs): InstanceGroup[] {
  return args.mode === "shared"
    ? [{ key: "shared", services: args.databases }]
    : args.databases.map((db) => ({ key: db.service, services: [db] }));
}

interface InstancePlacement {
  subnetGroupName: pulumi.Output<string>;
  securityGroup: NodesOnlyGroup;
}

interface DatabaseServer {
  instance: aws.rds.Instance;
  identifier: string;
  adminPassword: pulumi.Output<string>;
}
