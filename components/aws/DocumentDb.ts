import * as pulumi from "@pulumi/pulumi";
import { DATABASE_ENGINES } from "../engines";
import { DatabaseEndpoint } from "../platform";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { connectionUrl, databaseNames } from "../data/databasePlan";
import { renderMongoUserScript } from "../data/mongoInit";
import { oneShotJob } from "../kubernetes/oneShotJob";
import { jobEgressPolicy } from "../kubernetes/networkPolicies";
import { DataStorePlacement, nodesOnlySecurityGroup } from "./securityGroup";

export interface DocumentDbArgs extends DataStorePlacement {
  namePrefix: string;
  /** The MongoDB services: each gets a login and a database of its own. */
  services: string[];
  instanceClass: string;
  instances: number;
  backupRetentionDays: number;
  kmsKeyArn: pulumi.Input<string>;
  /** Where the login Jobs run and the services mount the CA bundle; the namespace denies all traffic by default. */
  kubernetes: { provider: k8s.Provider; namespace: pulumi.Input<string> };
  /** The cluster's addresses lie in it: the Jobs may reach DocumentDB there. */
  vpcCidr: string;
  /** PEM bundle of Amazon's RDS certificate authorities, which sign DocumentDB's certificates. */
  caBundle: string;
  /** An image with mongosh. */
  mongoClientImage: string;
  /** Tags that put the cluster in the stack's AWS Backup plan. */
  backupTags: Record<string, string>;
}

export const DOCUMENTDB_PORT = DATABASE_ENGINES.mongodb.port;
/** Where the services and Jobs find the CA bundle (a ConfigMap volume). */
export const DOCUMENTDB_CA_DIR = "/etc/documentdb-ca";
const CA_FILE = "rds-ca-bundle.pem";
/** DocumentDB's master user name allows letters and digits only. */
const ADMIN_USER = "platformadmin";
const BOOTSTRAP_JOB = "documentdb-bootstrap";

/**
 * MongoDB services on one Amazon DocumentDB cluster: encrypted with the platform key, TLS
 * required (clients verify it with the RDS CA bundle), audit logs, backups kept for the RDS
 * retention, deletion protection and a final snapshot, private and reachable from the cluster
 * nodes only, instances spread over the zones. Each service's login (readWrite on its own
 * database only) is made by a Job inside the VPC.
 */
export class DocumentDb extends pulumi.ComponentResource {
  readonly endpoints: Record<string, DatabaseEndpoint> = {};
  /** The ConfigMap holding the CA bundle, for the services to mount at DOCUMENTDB_CA_DIR. */
  readonly caConfigMap: pulumi.Output<string>;

  constructor(name: string, args: DocumentDbArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:DocumentDb", name, {}, opts);
    const child = { parent: this };
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };
    const identifier = `${args.namePrefix}-docdb`;

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
    const cluster = new aws.docdb.Cluster(
      `${name}-cluster`,
      {
        clusterIdentifier: identifier,
        engine: "docdb",
        engineVersion: "5.0.0",
        masterUsername: ADMIN_USER,
        masterPassword: adminPassword,
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [securityGroup.id],
        dbClusterParameterGroupName: parameters.name,
        enabledCloudwatchLogsExports: ["audit", "profiler"],
        tags: args.backupTags,
      },
      child,
    );
    const instances = Array.from(
      { length: args.instances },
      (_, i) =>
        new aws.docdb.ClusterInstance(
          `${name}-instance-${i + 1}`,
          {
            identifier: `${identifier}-${i + 1}`,
            clusterIdentifier: cluster.id,
            instanceClass: args.instanceClass,
            autoMinorVersionUpgrade: true,
          },
          child,
        ),
    );

    const ca = new k8s.core.v1.ConfigMap(
      `${name}-ca`,
      {
        metadata: { name: "documentdb-ca", namespace: args.kubernetes.namespace },
        data: { [CA_FILE]: args.caBundle },
      },
      k8sOpts,
    );
    this.caConfigMap = ca.metadata.name;
    jobEgressPolicy(
      `${name}-bootstrap-egress`,
      {
        namespace: args.kubernetes.namespace,
        job: BOOTSTRAP_JOB,
        to: { ipBlock: { cidr: args.vpcCidr } },
        port: DOCUMENTDB_PORT,
      },
      k8sOpts,
    );

    // DocumentDB presents itself as replica set rs0 and does not support retryable writes.
    const query = (extra: string) =>
      `tls=true&tlsCAFile=${DOCUMENTDB_CA_DIR}/${CA_FILE}&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false${extra}`;
    for (const service of args.services) {
      const names = databaseNames(service);
      const labels = { "platform/service": service };
      const password = new random.RandomPassword(`${name}-${service}-password`, { length: 32, special: false }, child)
        .result;
      const credentials = new k8s.core.v1.Secret(
        `${name}-${service}-bootstrap-credentials`,
        {
          metadata: { namespace: args.kubernetes.namespace, labels },
          stringData: { ADMIN_PASSWORD: adminPassword, SERVICE_PASSWORD: password },
        },
        k8sOpts,
      );
      const script = new k8s.core.v1.ConfigMap(
        `${name}-${service}-bootstrap-script`,
        {
          metadata: { namespace: args.kubernetes.namespace, labels },
          // The password stays in the Secret: the script reads it from the environment.
          data: {
            "login.js": renderMongoUserScript(names.database, names.username, { env: "SERVICE_PASSWORD" }, "admin"),
          },
        },
        k8sOpts,
      );
      const job = oneShotJob(
        `${name}-${service}-bootstrap`,
        {
          namespace: args.kubernetes.namespace,
          labels,
          job: BOOTSTRAP_JOB,
          image: args.mongoClientImage,
          command: [
            "bash",
            "-c",
            `mongosh --quiet "mongodb://$DOCUMENTDB_HOST:${DOCUMENTDB_PORT}/?${query("")}" ` +
              `--username ${ADMIN_USER} --password "$ADMIN_PASSWORD" --authenticationDatabase admin --file /init/login.js`,
          ],
          env: [{ name: "DOCUMENTDB_HOST", value: cluster.endpoint }],
          envFromSecret: credentials.metadata.name,
          runAsUser: 999,
          mounts: [
            { mountPath: "/init", volume: { configMap: { name: script.metadata.name } } },
            { mountPath: DOCUMENTDB_CA_DIR, volume: { configMap: { name: ca.metadata.name } } },
          ],
        },
        { ...k8sOpts, dependsOn: instances },
      );

      // Through the Job, whatever uses the password waits until the login exists.
      const readyPassword = pulumi.all([password, job.metadata.name]).apply(([pw]) => pw);
      this.endpoints[service] = {
        location: { kind: "vpc" },
        // Amazon's CA signs the cluster's certificate: clients verify it with the bundle.
        trustBundle: { configMap: this.caConfigMap, mountPath: DOCUMENTDB_CA_DIR },
        host: cluster.endpoint,
        port: DOCUMENTDB_PORT,
        name: names.database,
        username: names.username,
        password: readyPassword,
        url: pulumi.secret(
          pulumi
            .all([cluster.endpoint, readyPassword])
            .apply(([host, pw]) =>
              connectionUrl(
                "mongodb",
                names.username,
                pw,
                host,
                DOCUMENTDB_PORT,
                names.database,
                query("&authSource=admin"),
              ),
            ),
        ),
      };
    }
    this.registerOutputs({ endpoint: cluster.endpoint });
  }
}
