import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import { renderBootstrapSql } from "../data/bootstrapSql";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
import { PostgresAccess } from "../data/PostgresAccess";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES, POSTGRES_TOOLS_IMAGE } from "../engines";
import { DatabaseEndpoint } from "../platform";
import { ManagedDatabaseAccess, RDS_POSTGRES_TLS } from "./rdsTrust";
import { oneShotJob } from "../kubernetes/oneShotJob";
import { jobEgressPolicy } from "../kubernetes/networkPolicies";
import { after } from "../ordering";

const POSTGRES = DATABASE_ENGINES.postgres;
const BOOTSTRAP_JOB = "database-bootstrap";

export interface RdsServiceAccess {
  service: string;
  extensions: string[];
  /** The instance holding the service's database, from the infrastructure layer. */
  host: pulumi.Input<string>;
  adminPassword: pulumi.Input<string>;
}

export interface RdsAccessArgs extends ManagedDatabaseAccess {
  databases: RdsServiceAccess[];
  /**
   * How each service's login and database are made: `job`, a Kubernetes Job in the cluster; or
   * `provider`, @pulumi/postgresql from the deploy runner inside the VPC.
   */
  bootstrap: "job" | "provider";
}

/**
 * Each PostgreSQL service's own login and database on its RDS instance (least privilege: the
 * rendered bootstrap SQL, proved on a real server in the tests), and the DatabaseEndpoint the
 * service connects to once they exist.
 */
export class RdsAccess extends pulumi.ComponentResource {
  readonly endpoints: Record<string, DatabaseEndpoint> = {};
  /** What lets the bootstrap Jobs out of the namespace's default-deny: each Job starts after it. */
  private bootstrapEgress?: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: RdsAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:RdsAccess", name, {}, opts);
    if (args.bootstrap === "job") {
      this.bootstrapEgress = jobEgressPolicy(
        `${name}-bootstrap-egress`,
        {
          namespace: args.kubernetes.namespace,
          job: BOOTSTRAP_JOB,
          to: { ipBlock: { cidr: args.vpcCidr } },
          port: POSTGRES.port,
        },
        { parent: this, provider: args.kubernetes.provider },
      );
    }
    for (const db of args.databases) {
      this.endpoints[db.service] = this.createServiceDatabase(`${name}-${db.service}`, db, args);
    }
    this.registerOutputs({});
  }

  /** The service's login and database, and the endpoint it connects to once they exist. */
  private createServiceDatabase(name: string, db: RdsServiceAccess, args: RdsAccessArgs): DatabaseEndpoint {
    const names = databaseNames(db.service);
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this })
      .result;
    const target: BootstrapTarget = { ...db, password, names };
    const login =
      args.bootstrap === "job" ? this.bootstrapJob(name, target, args) : this.bootstrapProvider(name, target);
    // Through `login`, whatever uses the password waits until the login exists.
    const readyPassword = after(password, login);
    return {
      location: { kind: "vpc" },
      trustBundle: args.trustBundle,
      host: db.host,
      port: POSTGRES.port,
      name: names.database,
      username: names.username,
      password: readyPassword,
      url: pulumi.secret(
        pulumi
          .all([db.host, readyPassword])
          .apply(([host, pw]) =>
            connectionUrl("postgresql", names.username, pw, host, POSTGRES.port, names.database, RDS_POSTGRES_TLS),
          ),
      ),
    };
  }

  private bootstrapJob(name: string, db: BootstrapTarget, args: RdsAccessArgs): pulumi.Output<string> {
    const k8sOpts = { parent: this, provider: args.kubernetes.provider };
    const labels = { "platform/service": db.service };
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
        job: BOOTSTRAP_JOB,
        image: POSTGRES_TOOLS_IMAGE,
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
      { ...k8sOpts, dependsOn: [this.bootstrapEgress!] },
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
      { parent: this },
    );
    return new PostgresAccess(
      `${name}-access`,
      { names: db.names, extensions: db.extensions, provider, password: db.password },
      { parent: this },
    ).username;
  }
}

interface BootstrapTarget extends RdsServiceAccess {
  password: pulumi.Output<string>;
  names: DatabaseNames;
}
