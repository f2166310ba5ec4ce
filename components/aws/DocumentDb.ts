import * as pulumi from "@pulumi/pulumi";
import { DATABASE_ENGINES } from "../engines";
import { DatabaseEndpoint } from "../platform";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
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

/** DocumentDB presents itself as replica set rs0 and does not support retryable writes. */
function connectionQuery(extra: string): string {
  return `tls=true&tlsCAFile=${DOCUMENTDB_CA_DIR}/${CA_FILE}&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false${extra}`;
}

/** The login Job's command: the host and both passwords come from its environment, the same for every service. */
const LOGIN_COMMAND = [
  "bash",
  "-c",
  `mongosh --quiet "mongodb://$DOCUMENTDB_HOST:${DOCUMENTDB_PORT}/?${connectionQuery("")}" ` +
    `--username ${ADMIN_USER} --password "$ADMIN_PASSWORD" --authenticationDatabase admin --file /init/login.js`,
];

/** What the login Jobs connect to the cluster with. */
interface ClusterAccess {
  host: pulumi.Output<string>;
  adminPassword: pulumi.Output<string>;
  /** The ConfigMap with the CA bundle that verifies the cluster's certificate. */
  caConfigMap: pulumi.Output<string>;
  /** The Jobs wait for them: the cluster serves no connection before an instance runs. */
  instances: aws.docdb.ClusterInstance[];
}

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
    const { cluster, adminPassword } = this.createCluster(name, args);
    const instances = this.createInstances(name, args, cluster);
    this.caConfigMap = this.prepareNamespace(name, args);
    const access = { host: cluster.endpoint, adminPassword, caConfigMap: this.caConfigMap, instances };
    for (const service of args.services) {
      const names = databaseNames(service);
      const password = this.createLogin(`${name}-${service}`, service, names, access, args);
      this.endpoints[service] = serviceEndpoint(names, access, password);
    }
    this.registerOutputs({ endpoint: cluster.endpoint });
  }

  /** The cluster, private behind the nodes-only security group, with TLS and audit logs on. */
  private createCluster(
    name: string,
    args: DocumentDbArgs,
  ): { cluster: aws.docdb.Cluster; adminPassword: pulumi.Output<string> } {
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
    return { cluster, adminPassword };
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

  /** The CA bundle the services and Jobs mount (returns its ConfigMap's name), and the login Jobs' egress. */
  private prepareNamespace(name: string, args: DocumentDbArgs): pulumi.Output<string> {
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };
    const ca = new k8s.core.v1.ConfigMap(
      `${name}-ca`,
      {
        metadata: { name: "documentdb-ca", namespace: args.kubernetes.namespace },
        data: { [CA_FILE]: args.caBundle },
      },
      k8sOpts,
    );
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
    return ca.metadata.name;
  }

  /** The service's password and the Job that makes its login. */
  private createLogin(
    name: string,
    service: string,
    names: DatabaseNames,
    cluster: ClusterAccess,
    args: DocumentDbArgs,
  ): pulumi.Output<string> {
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };
    const labels = { "platform/service": service };
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this })
      .result;
    const credentials = new k8s.core.v1.Secret(
      `${name}-bootstrap-credentials`,
      {
        metadata: { namespace: args.kubernetes.namespace, labels },
        stringData: { ADMIN_PASSWORD: cluster.adminPassword, SERVICE_PASSWORD: password },
      },
      k8sOpts,
    );
    const script = new k8s.core.v1.ConfigMap(
      `${name}-bootstrap-script`,
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
      `${name}-bootstrap`,
      {
        namespace: args.kubernetes.namespace,
        labels,
        job: BOOTSTRAP_JOB,
        image: args.mongoClientImage,
        command: LOGIN_COMMAND,
        env: [{ name: "DOCUMENTDB_HOST", value: cluster.host }],
        envFromSecret: credentials.metadata.name,
        runAsUser: 999,
        mounts: [
          { mountPath: "/init", volume: { configMap: { name: script.metadata.name } } },
          { mountPath: DOCUMENTDB_CA_DIR, volume: { configMap: { name: cluster.caConfigMap } } },
        ],
      },
      { ...k8sOpts, dependsOn: cluster.instances },
    );
    // Through the Job, whatever uses the password waits until the login exists.
    return pulumi.all([password, job.metadata.name]).apply(([pw]) => pw);
  }
}

function clusterIdentifier(args: DocumentDbArgs): string {
  return `${args.namePrefix}-docdb`;
}

function serviceEndpoint(
  names: DatabaseNames,
  { host, caConfigMap }: ClusterAccess,
  password: pulumi.Output<string>,
): DatabaseEndpoint {
  return {
    location: { kind: "vpc" },
    // Amazon's CA signs the cluster's certificate: clients verify it with the bundle.
    trustBundle: { configMap: caConfigMap, mountPath: DOCUMENTDB_CA_DIR },
    host,
    port: DOCUMENTDB_PORT,
    name: names.database,
    username: names.username,
    password,
    url: pulumi.secret(
      pulumi
        .all([host, password])
        .apply(([address, pw]) =>
          connectionUrl(
            "mongodb",
            names.username,
            pw,
            address,
            DOCUMENTDB_PORT,
            names.database,
            connectionQuery("&authSource=admin"),
          ),
        ),
    ),
  };
}
