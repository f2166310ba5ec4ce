import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
import { renderMongoUserScript } from "../data/mongoInit";
import { MONGO_TOOLS_IMAGE } from "../engines";
import { DatabaseEndpoint } from "../platform";
import { oneShotJob } from "../kubernetes/oneShotJob";
import { jobEgressPolicy } from "../kubernetes/networkPolicies";
import { DOCUMENTDB_ADMIN_USER, DOCUMENTDB_PORT } from "./DocumentDb";

export interface DocumentDbAccessArgs {
  /** The MongoDB services: each gets a login and a database of its own. */
  services: string[];
  /** The cluster from the infrastructure layer. */
  host: pulumi.Input<string>;
  adminPassword: pulumi.Input<string>;
  /** Where the login Jobs run and the services mount the CA bundle; the namespace denies all traffic by default. */
  kubernetes: { provider: k8s.Provider; namespace: pulumi.Input<string> };
  /** The cluster's addresses lie in it: the Jobs may reach DocumentDB there. */
  vpcCidr: pulumi.Input<string>;
  /** PEM bundle of Amazon's RDS certificate authorities, which sign DocumentDB's certificates. */
  caBundle: string;
}

/** Where the services and Jobs find the CA bundle (a ConfigMap volume). */
export const DOCUMENTDB_CA_DIR = "/etc/documentdb-ca";
const CA_FILE = "rds-ca-bundle.pem";
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
    `--username ${DOCUMENTDB_ADMIN_USER} --password "$ADMIN_PASSWORD" --authenticationDatabase admin --file /init/login.js`,
];

/** What the login Jobs connect to the cluster with. */
interface ClusterAccess {
  host: pulumi.Input<string>;
  adminPassword: pulumi.Input<string>;
  /** The ConfigMap with the CA bundle that verifies the cluster's certificate. */
  caConfigMap: pulumi.Output<string>;
}

/**
 * Each MongoDB service's login on the DocumentDB cluster (readWrite on its own database only),
 * made by a Job inside the VPC, the CA bundle the services verify the cluster with, and the
 * DatabaseEndpoint each connects to once its login exists.
 */
export class DocumentDbAccess extends pulumi.ComponentResource {
  readonly endpoints: Record<string, DatabaseEndpoint> = {};
  /** The ConfigMap holding the CA bundle, for the services to mount at DOCUMENTDB_CA_DIR. */
  readonly caConfigMap: pulumi.Output<string>;

  constructor(name: string, args: DocumentDbAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:DocumentDbAccess", name, {}, opts);
    this.caConfigMap = this.prepareNamespace(name, args);
    const access = { host: args.host, adminPassword: args.adminPassword, caConfigMap: this.caConfigMap };
    for (const service of args.services) {
      const names = databaseNames(service);
      const password = this.createLogin(`${name}-${service}`, service, names, access, args);
      this.endpoints[service] = serviceEndpoint(names, access, password);
    }
    this.registerOutputs({});
  }

  /** The CA bundle the services and Jobs mount (returns its ConfigMap's name), and the login Jobs' egress. */
  private prepareNamespace(name: string, args: DocumentDbAccessArgs): pulumi.Output<string> {
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
    args: DocumentDbAccessArgs,
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
        image: MONGO_TOOLS_IMAGE,
        command: LOGIN_COMMAND,
        env: [{ name: "DOCUMENTDB_HOST", value: cluster.host }],
        envFromSecret: credentials.metadata.name,
        runAsUser: 999,
        mounts: [
          { mountPath: "/init", volume: { configMap: { name: script.metadata.name } } },
          { mountPath: DOCUMENTDB_CA_DIR, volume: { configMap: { name: cluster.caConfigMap } } },
        ],
      },
      k8sOpts,
    );
    // Through the Job, whatever uses the password waits until the login exists.
    return pulumi.all([password, job.metadata.name]).apply(([pw]) => pw);
  }
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
