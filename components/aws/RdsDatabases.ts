import * as pulumi from "@pulumi/pulumi";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES } from "../engines";
import { DatabaseEndpoint } from "../platform";

const POSTGRES = DATABASE_ENGINES.postgres;
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { renderBootstrapSql } from "../data/bootstrapSql";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
import { PostgresAccess } from "../data/PostgresAccess";
import * as postgresql from "@pulumi/postgresql";
import { DataStorePlacement, nodesOnlySecurityGroup } from "./securityGroup";
import { oneShotJob } from "../kubernetes/oneShotJob";
import { jobEgressPolicy } from "../kubernetes/networkPolicies";

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
  kmsKeyArn: pulumi.Input<string>;
  /**
   * How each service's login and database are made: `job`, a Kubernetes Job inside the VPC
   * (the instances are private); or `provider`, @pulumi/postgresql from wherever `pulumi up` runs
   * (a runner inside the VPC, VPN or bastion).
   */
  bootstrap: "job" | "provider";
  /** Where the bootstrap Jobs run; the namespace denies all traffic by default. */
  kubernetes: { provider: k8s.Provider; namespace: pulumi.Input<string> };
  /** The instances' addresses lie in it: the Jobs may reach PostgreSQL there. */
  vpcCidr: string;
  postgresClientImage: string;
  /** Tags that put the instances in the stack's AWS Backup plan. */
  backupTags: Record<string, string>;
}

/**
 * PostgreSQL on RDS for the services: encrypted with KMS, Multi-AZ, backups for at least 7 days,
 * deletion protection, private, SSL forced, IAM auth and Performance Insights, reachable from the
 * cluster nodes only. Each service's login and database are created by a Kubernetes Job that runs
 * the rendered bootstrap SQL from inside the VPC.
 */
export class RdsDatabases extends pulumi.ComponentResource {
  readonly endpoints: Record<string, DatabaseEndpoint> = {};
  readonly instanceIds: pulumi.Output<string>[] = [];

  constructor(name: string, args: RdsDatabasesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:RdsDatabases", name, {}, opts);
    const placement = this.createPlacement(name, args);
    for (const group of instanceGroups(args)) {
      const server = this.createInstance(name, group, placement, args);
      this.instanceIds.push(server.instance.id);
      for (const db of group.services) {
        this.endpoints[db.service] = this.createServiceDatabase(`${name}-${db.service}`, db, server, args);
      }
    }
    this.registerOutputs({});
  }

  /** The private subnets and the nodes-only security group, and the bootstrap Jobs' way out to the instances. */
  private createPlacement(name: string, args: RdsDatabasesArgs): InstancePlacement {
    const child = { parent: this };
    const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, child);
    const securityGroup = nodesOnlySecurityGroup(
      `${name}-sg`,
      args,
      { description: "PostgreSQL from the EKS nodes only", ports: [POSTGRES.port] },
      child,
    );
    if (args.bootstrap === "job") {
      jobEgressPolicy(
        `${name}-bootstrap-egress`,
        {
          namespace: args.kubernetes.namespace,
          job: "database-bootstrap",
          to: { ipBlock: { cidr: args.vpcCidr } },
          port: POSTGRES.port,
        },
        { parent: this, provider: args.kubernetes.provider },
      );
    }
    return { subnetGroupName: subnets.name, securityGroupId: securityGroup.id };
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
    const identifier = `${args.namePrefix}-${group.key}`.slice(0, 63);
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
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        publiclyAccessible: false,
        iamDatabaseAuthenticationEnabled: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: args.kmsKeyArn,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        autoMinorVersionUpgrade: true,
        dbSubnetGroupName: placement.subnetGroupName,
        vpcSecurityGroupIds: [placement.securityGroupId],
        parameterGroupName: parameters.name,
        username: DATABASE_ADMIN_USER,
        password: adminPassword.result,
        tags: { service: group.key, ...args.backupTags },
      },
      child,
    );
    return { instance, adminPassword: adminPassword.result };
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

  /** The service's login and database on the instance, and the endpoint it connects to once they exist. */
  private createServiceDatabase(
    name: string,
    db: RdsServiceDatabase,
    server: DatabaseServer,
    args: RdsDatabasesArgs,
  ): DatabaseEndpoint {
    const names = databaseNames(db.service);
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this })
      .result;
    const connection = {
      host: server.instance.address,
      adminPassword: server.adminPassword,
      instance: server.instance,
      password,
      names,
      extensions: db.extensions,
    };
    const login =
      args.bootstrap === "job"
        ? this.bootstrapJob(name, db.service, connection, args)
        : this.bootstrapProvider(name, connection);
    // Through `login`, whatever uses the password waits until the login exists.
    const readyPassword = pulumi.all([password, login]).apply(([pw]) => pw);
    return {
      location: { kind: "vpc" },
      host: server.instance.address,
      port: POSTGRES.port,
      name: names.database,
      username: names.username,
      password: readyPassword,
      url: pulumi.secret(
        pulumi
          .all([server.instance.address, readyPassword])
          .apply(([host, pw]) =>
            connectionUrl("postgresql", names.username, pw, host, POSTGRES.port, names.database, "sslmode=require"),
          ),
      ),
    };
  }

  private bootstrapJob(
    name: string,
    service: string,
    db: BootstrapTarget,
    args: RdsDatabasesArgs,
  ): pulumi.Output<string> {
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };
    const labels = { "platform/service": service };
    const sql = new k8s.core.v1.ConfigMap(
      `${name}-bootstrap-sql`,
      {
        metadata: { namespace: args.kubernetes.namespace, labels },
        data: { "bootstrap.sql": renderBootstrapSql(db.names, db.extensions) },
      },
      k8sOpts,
    );
    const credentials = new k8s.core.v1.Secret(
      `${name}-bootstrap-credentials`,
      {
        metadata: { namespace: args.kubernetes.namespace, labels },
        stringData: { PGPASSWORD: db.adminPassword, SERVICE_PASSWORD: db.password },
      },
      k8sOpts,
    );
    const job = oneShotJob(
      `${name}-bootstrap`,
      {
        namespace: args.kubernetes.namespace,
        labels,
        job: "database-bootstrap",
        image: args.postgresClientImage,
        command: ["sh", "-c", 'psql -v password="$SERVICE_PASSWORD" -d postgres -f /sql/bootstrap.sql'],
        env: [
          { name: "PGHOST", value: db.host },
          { name: "PGPORT", value: String(POSTGRES.port) },
          { name: "PGUSER", value: DATABASE_ADMIN_USER },
          { name: "PGSSLMODE", value: "require" },
        ],
        envFromSecret: credentials.metadata.name,
        runAsUser: 70,
        mounts: [{ mountPath: "/sql", volume: { configMap: { name: sql.metadata.name } } }],
      },
      { ...k8sOpts, dependsOn: [db.instance] },
    );
    return job.metadata.name;
  }

  private bootstrapProvider(name: string, db: BootstrapTarget): pulumi.Output<string> {
    const provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: db.host,
        port: POSTGRES.port,
        username: DATABASE_ADMIN_USER,
        password: db.adminPassword,
        database: "postgres",
        // The RDS master user is no superuser; the provider grants itself what ownership changes need.
        sslmode: "require",
        superuser: false,
        connectTimeout: 30,
      },
      { parent: this, dependsOn: [db.instance] },
    );
    return new PostgresAccess(
      `${name}-access`,
      { names: db.names, extensions: db.extensions, provider, password: db.password },
      { parent: this },
    ).username;
  }
}

interface BootstrapTarget {
  host: pulumi.Output<string>;
  adminPassword: pulumi.Output<string>;
  instance: aws.rds.Instance;
  password: pulumi.Output<string>;
  names: DatabaseNames;
  extensions: string[];
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
  securityGroupId: pulumi.Output<string>;
}

interface DatabaseServer {
  instance: aws.rds.Instance;
  adminPassword: pulumi.Output<string>;
}
