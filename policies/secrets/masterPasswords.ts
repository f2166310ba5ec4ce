import { ResourceRule } from "../rule";
import { T } from "../types";

interface MasterCredential {
  /** Where the resource takes it. */
  paths(props: Record<string, any>): Array<Array<string | number>>;
  /** Whether AWS may keep it instead (manageMasterUserPassword). */
  managed: boolean;
}

const MASTER_CREDENTIALS: Record<string, MasterCredential> = {
  [T.rds]: { paths: () => [["password"]], managed: true },
  [T.rdsCluster]: { paths: () => [["masterPassword"]], managed: true },
  [T.docdb]: { paths: () => [["masterPassword"]], managed: true },
  [T.mq]: {
    paths: (props) => (props.users ?? []).map((_: unknown, i: number) => ["users", i, "password"]),
    managed: false,
  },
  [T.elasticache]: { paths: () => [["authToken"]], managed: false },
};

export const masterPasswordsSecret: ResourceRule = {
  kind: "resource",
  name: "master-passwords-secret",
  description:
    "The master credentials of RDS, DocumentDB, Amazon MQ users and ElastiCache AUTH are Pulumi secrets (a random password or a config secret) or managed by AWS (manageMasterUserPassword), never plain values in the state.",
  severity: "critical",
  remediation:
    "Pass a @pulumi/random password's result or a `pulumi config --secret` value, or set manageMasterUserPassword: true",
  types: Object.keys(MASTER_CREDENTIALS),
  check: (props, type, provenance) => {
    const { paths, managed } = MASTER_CREDENTIALS[type];
    if (managed && props.manageMasterUserPassword === true) return [];
    // Under the engine secrets arrive unwrapped: only the offline check can tell.
    if (!provenance.known) return [];
    return paths(props)
      .filter((path) => path.reduce((v: any, k) => v?.[k], props) !== undefined && !provenance.isSecret(path))
      .map((path) => `${path.join(".")} is not a Pulumi secret`);
  },
};
