import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
import { renderMongoUserScript } from "../data/mongoInit";
import { MONGO_TOOLS_IMAGE } from "../engines";
import { DatabaseEndpoint, TrustBundle } from "../platform";
import { ManagedDatabaseAccess, RDS_CA_PATH } from "./rdsTrust";
import { oneShotJob } from "../kubernetes/oneShotJob";
import { jobEgressPolicy } from "../kubernetes/networkPolicies";
import { DOCUMENTDB_ADMIN_USER, DOCUMENTDB_PORT } from "./DocumentDb";
import { after } from "../ordering";

export interface DocumentDbAccessArgs extends ManagedDatabaseAccess {
  /** The MongoDB services: each gets a login and a database of its own. */
  services: string[];
  /** The cluster from the infrastructure layer. */
  host: pulumi.Input<string>;
  adminPassword: pulumi.Input<string>;
}

const BOOTSTRAP_JOB = "documentdb-bootstrap";

/** DocumentDB presents itself as replica set rs0 and does not support retryable writes. */
function connectionQuery(extra: string): string {
  return `tls=true&tlsCAFile=${RDS_CA_PATH}&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false${extra}`;
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
  /** The CA bundle that verifies the cluster's certificate, in the Jobs' namespace. */
  jobTrustBundle: TrustBundle;
  /** What lets the login Jobs out of the namespace's default-deny: each Job starts after it. */
  egress: k8s.networking.v1.NetworkPolicy;
}

/**
 * Each MongoDB service's login on the DocumentDB cluster (readWrite on its own database only),
 * made by a Job inside the VPC, and the DatabaseEndpoint each connects to once its login exists.
 */
export class DocumentDbAccess extends pulumi.ComponentResource {
  readonly endpoints: Record<string, DatabaseEndpoint> = {};

  constructor(name: string, args: DocumentDbAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:DocumentDbAccess", name, {}, opts);
    const egress = this.allowJobEgress(name, args);
    const access = {
      host: args.host,
      adminPassword: args.adminPassword,
      jobTrustBundle: args.jobTrustBundle,
      egress,
    };
    for (const service of args.services) {
      const names = databaseNames(service);
      const password = this.createLogin(`${name}-${service}`, service, names, access, args);
      this.endpoints[service] = serviceEndpoint(names, args.host, args.trustBundle, password);
    }
    this.registerOutputs({});
  }

  /** The login Jobs' egress to the cluster. */
  private allowJobEgress(name: string, args: DocumentDbAccessArgs): k8s.networking.v1.NetworkPolicy {
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };
    return jobEgressPolicy(
      `${name}-bootstrap-egress`,
      {
        namespace: args.kubernetes.namespace,
        job: BOOTSTRAP_JOB,
        to: { ipBlock: { cidr: args.vpcCidr } },
        port: DOCUMENTDB_PORT,
      },
      k8sOpts,
    );
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
          {
            mountPath: cluster.jobTrustBundle.mountPath,
            volume: { configMap: { name: cluster.jobTrustBundle.configMap } },
          },
        ],
      },
      { ...k8sOpts, dependsOn: [cluster.egress] },
    );
    // Through the Job, whatever uses the password waits until the login exists.
    return after(password, job.metadata.name);
  }
}

function serviceEndpoint(
  names: DatabaseNames,
  host: pulumi.Input<string>,
  /** The bundle in the services' namespace. */
  trustBundle: TrustBundle,
  password: pulumi.Output<string>,
): DatabaseEndpoint {
  return {
    location: { kind: "vpc" },
    // Amazon's CA signs the cluster's certificate: clients verify it with the bundle.
    trustBundle,
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
