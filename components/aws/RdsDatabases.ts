import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { renderBootstrapSql } from "../data/bootstrapSql";
import { connectionUrl, databaseNames } from "../data/databasePlan";
import { nodesOnlySecurityGroup } from "./securityGroup";

export interface RdsServiceDatabase {
  service: string;
  version: string;
  extensions: string[];
}

export interface RdsDatabasesArgs {
  namePrefix: string;
  databases: RdsServiceDatabase[];
  /** One instance per service, or one shared instance with a database per service. */
  mode: "per-service" | "shared";
  instanceClass: string;
  allocatedStorageGb: number;
  backupRetentionDays: number;
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  nodeSecurityGroupId: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  /** Where the bootstrap Jobs run: inside the VPC, since the instances are private. */
  kubernetes: { provider: k8s.Provider; namespace: pulumi.Input<string> };
  postgresClientImage: string;
}

export interface RdsConnection {
  host: pulumi.Output<string>;
  port: number;
  database: string;
  username: string;
  password: pulumi.Output<string>;
  /** Secret; TLS required by the parameter group. */
  url: pulumi.Output<string>;
}

const ADMIN_USER = "platform_admin";

/**
 * PostgreSQL on RDS for the services: encrypted with KMS, Multi-AZ, backups for at least 7 days,
 * deletion protection, private, SSL forced, IAM auth and Performance Insights, reachable from the
 * cluster nodes only. Each service's login and database are created by a Kubernetes Job that runs
 * the rendered bootstrap SQL from inside the VPC.
 */
export class RdsDatabases extends pulumi.ComponentResource {
  readonly connections: Record<string, RdsConnection> = {};
  readonly instanceIds: pulumi.Output<string>[] = [];

  constructor(name: string, args: RdsDatabasesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:RdsDatabases", name, {}, opts);
    const child = { parent: this };
    const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, child);
    const securityGroup = nodesOnlySecurityGroup(`${name}-sg`, {
      description: "PostgreSQL from the EKS nodes only", vpcId: args.vpcId, nodeSecurityGroupId: args.nodeSecurityGroupId, ports: [5432],
    }, child);
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };

    // Instances by key: the service's name, or "shared" holding every service's database.
    const groups = args.mode === "shared"
      ? [{ key: "shared", services: args.databases }]
      : args.databases.map((db) => ({ key: db.service, services: [db] }));

    for (const group of groups) {
      const version = String(Math.max(...group.services.map((s) => Number.parseInt(s.version, 10))));
      const parameters = new aws.rds.ParameterGroup(`${name}-${group.key}-params`, {
        family: `postgres${version}`,
        parameters: [
          { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
          { name: "log_connections", value: "1" },
          { name: "log_disconnections", value: "1" },
        ],
      }, child);
      const adminPassword = new random.RandomPassword(`${name}-${group.key}-admin-password`, { length: 32, special: false }, child);
      const identifier = `${args.namePrefix}-${group.key}`.slice(0, 63);
      const instance = new aws.rds.Instance(`${name}-${group.key}`, {
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
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameters.name,
        username: ADMIN_USER,
        password: adminPassword.result,
        tags: { service: group.key },
      }, child);
      this.instanceIds.push(instance.id);

      for (const db of group.services) {
        const names = databaseNames(db.service);
        const password = new random.RandomPassword(`${name}-${db.service}-password`, { length: 32, special: false }, child).result;
        const sql = new k8s.core.v1.ConfigMap(`${name}-${db.service}-bootstrap-sql`, {
          metadata: { namespace: args.kubernetes.namespace, labels: { "platform/service": db.service } },
          data: { "bootstrap.sql": renderBootstrapSql(names, db.extensions) },
        }, k8sOpts);
        const credentials = new k8s.core.v1.Secret(`${name}-${db.service}-bootstrap-credentials`, {
          metadata: { namespace: args.kubernetes.namespace, labels: { "platform/service": db.service } },
          stringData: { PGPASSWORD: adminPassword.result, SERVICE_PASSWORD: password },
        }, k8sOpts);
        new k8s.batch.v1.Job(`${name}-${db.service}-bootstrap`, {
          metadata: { namespace: args.kubernetes.namespace, labels: { "platform/service": db.service } },
          spec: {
            backoffLimit: 6,
            ttlSecondsAfterFinished: 3600,
            template: {
              metadata: { labels: { "platform/job": "database-bootstrap", "platform/service": db.service } },
              spec: {
                restartPolicy: "OnFailure",
                automountServiceAccountToken: false,
                securityContext: { runAsNonRoot: true, runAsUser: 70, seccompProfile: { type: "RuntimeDefault" } },
                containers: [{
                  name: "psql",
                  image: args.postgresClientImage,
                  command: ["sh", "-c", 'psql -v password="$SERVICE_PASSWORD" -d postgres -f /sql/bootstrap.sql'],
                  env: [
                    { name: "PGHOST", value: instance.address },
                    { name: "PGPORT", value: "5432" },
                    { name: "PGUSER", value: ADMIN_USER },
                    { name: "PGSSLMODE", value: "require" },
                  ],
                  envFrom: [{ secretRef: { name: credentials.metadata.name } }],
                  volumeMounts: [{ name: "sql", mountPath: "/sql", readOnly: true }],
                  resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                }],
                volumes: [{ name: "sql", configMap: { name: sql.metadata.name } }],
              },
            },
          },
        }, { ...k8sOpts, dependsOn: [instance] });

        this.connections[db.service] = {
          host: instance.address,
          port: 5432,
          database: names.database,
          username: names.username,
          password,
          url: pulumi.secret(pulumi.all([instance.address, password]).apply(([host, pw]) =>
            connectionUrl("postgresql", names.username, pw, host, 5432, names.database, "sslmode=require"))),
        };
      }
    }
    this.registerOutputs({});
  }
}
