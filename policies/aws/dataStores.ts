import { ResourceRule, unmet } from "../rule";
import { T } from "../types";

export const rdsHardened: ResourceRule = {
  kind: "resource",
  name: "rds-hardened",
  description: "RDS: encrypted, Multi-AZ, backups for at least 7 days, deletion protection, not publicly accessible.",
  severity: "critical",
  remediation: "Keep the RdsDatabases defaults (they set all of these)",
  types: [T.rds],
  check: (props) =>
    unmet([
      [props.storageEncrypted === true, "storage is not encrypted"],
      [props.multiAz === true, "not Multi-AZ"],
      [(props.backupRetentionPeriod ?? 0) >= 7, `backups kept ${props.backupRetentionPeriod ?? 0} days`],
      [props.deletionProtection === true, "no deletion protection"],
      [props.publiclyAccessible !== true, "publicly accessible"],
    ]),
};

export const rdsForceSsl: ResourceRule = {
  kind: "resource",
  name: "rds-force-ssl",
  description: "PostgreSQL parameter groups force SSL.",
  severity: "high",
  remediation: "Set rds.force_ssl = 1",
  types: [T.rdsParameters],
  check: (props) =>
    !String(props.family ?? "").startsWith("postgres") ||
    (props.parameters ?? []).some((p: any) => p.name === "rds.force_ssl" && String(p.value) === "1")
      ? []
      : ["rds.force_ssl is not 1"],
};

export const documentdbHardened: ResourceRule = {
  kind: "resource",
  name: "documentdb-hardened",
  description:
    "DocumentDB: encrypted, backups for at least 7 days, deletion protection, audit logs exported, TLS required by its parameter group.",
  severity: "critical",
  remediation: "Keep the DocumentDb defaults",
  types: [T.docdb, T.docdbParameters],
  check: (props, type) =>
    type === T.docdbParameters
      ? (props.parameters ?? []).some((p: any) => p.name === "tls" && p.value === "enabled")
        ? []
        : ["tls is not enabled"]
      : unmet([
          [props.storageEncrypted === true, "storage is not encrypted"],
          [(props.backupRetentionPeriod ?? 1) >= 7, `backups kept ${props.backupRetentionPeriod ?? 1} days`],
          [props.deletionProtection === true, "no deletion protection"],
          [(props.enabledCloudwatchLogsExports ?? []).includes("audit"), "audit logs are not exported"],
        ]),
};

export const elasticacheHardened: ResourceRule = {
  kind: "resource",
  name: "elasticache-hardened",
  description: "ElastiCache: encryption in transit and at rest, an AUTH token, automatic failover.",
  severity: "critical",
  remediation: "Keep the ManagedCache defaults",
  types: [T.elasticache],
  check: (props) =>
    unmet([
      [props.transitEncryptionEnabled === true, "no encryption in transit"],
      [props.atRestEncryptionEnabled === true, "no encryption at rest"],
      [Boolean(props.authToken), "no AUTH token"],
      [props.automaticFailoverEnabled === true, "no automatic failover"],
    ]),
};

export const mqNotPublic: ResourceRule = {
  kind: "resource",
  name: "mq-not-public",
  description: "Amazon MQ brokers are not publicly accessible.",
  severity: "critical",
  remediation: "Set publiclyAccessible: false and private subnets",
  types: [T.mq],
  check: (props) => (props.publiclyAccessible === true ? ["broker is publicly accessible"] : []),
};

export const finalSnapshots: ResourceRule = {
  kind: "resource",
  name: "final-snapshots",
  description:
    "Deleting a database (RDS instance or cluster, DocumentDB) keeps a final snapshot: skipFinalSnapshot is never true.",
  severity: "high",
  remediation: "Leave skipFinalSnapshot false and name the finalSnapshotIdentifier",
  types: [T.rds, T.rdsCluster, T.docdb],
  check: (props) => (props.skipFinalSnapshot === true ? ["skipFinalSnapshot is true: deleting it loses the data"] : []),
};
