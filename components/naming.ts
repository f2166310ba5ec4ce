import { createHash } from "crypto";

/**
 * Length limits of the names the platform derives from catalog names and the stack's prefix, where
 * a derived name can outgrow them. Each from the engine's documentation.
 */
export const NAME_LIMITS = {
  /**
   * PostgreSQL keeps NAMEDATALEN-1 = 63 bytes of an identifier and silently cuts the rest
   * (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS); MongoDB
   * database names have fewer than 64 characters
   * (https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-Length-of-Database-Names).
   */
  databaseIdentifier: 63,
  /**
   * A hostname or network alias is a DNS label of at most 63 characters
   * (https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4); Docker's embedded DNS resolves the aliases.
   */
  dnsLabel: 63,
  /**
   * A StatefulSet's pods carry the label controller-revision-hash = `<name>-<10-character hash>`,
   * and a label value has at most 63 characters: longer names create no pods
   * (https://github.com/kubernetes/kubernetes/issues/64023).
   */
  statefulSet: 52,
  /** "Even when the name is a DNS subdomain, the name must be no longer than 63 characters" (https://kubernetes.io/docs/concepts/workloads/controllers/job/#writing-a-job-spec). */
  job: 63,
  /** https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (character limits: role name). */
  iamRole: 64,
  /**
   * 1 to 63 letters, digits or hyphens, a letter first, no trailing or doubled hyphen
   * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html, DBInstanceIdentifier).
   */
  rdsIdentifier: 63,
  /** 1 to 40, the same characters as an RDS identifier (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html). */
  elastiCacheReplicationGroup: 40,
  /** A dashboard uid has at most 40 characters (https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/). */
  grafanaUid: 40,
} as const;

/**
 * What a provider appends to the logical name of a resource it names itself: pulumi-kubernetes
 * `-` and 8 random characters (provider/pkg/metadata/naming.go), the AWS provider `-` and 7, and it
 * refuses a name past the type's limit (pulumi-terraform-bridge AutoName).
 */
export const AUTONAME_SUFFIX = { kubernetes: 9, aws: 8 } as const;

/** A logical name short enough that the name the provider makes of it fits `limit`. */
export function logicalName(name: string, limit: number, provider: keyof typeof AUTONAME_SUFFIX): string {
  return fitName(name, limit - AUTONAME_SUFFIX[provider]);
}

export const HASH_LENGTH = 8;

/** The first HASH_LENGTH hex digits of the name's SHA-256: what a shortened name ends with. */
export const nameHash = (name: string): string => createHash("sha256").update(name).digest("hex").slice(0, HASH_LENGTH);

/**
 * `name` unchanged when it fits `limit` (bytes); otherwise its head, cut to make room, then
 * `separator` (`-` for DNS-style names, `_` for SQL identifiers) and a hash of the whole name. The
 * hash keeps names that differ only past the cut apart, and the same name always gives the same result.
 */
export function fitName(name: string, limit: number, separator = "-"): string {
  if (Buffer.byteLength(name) <= limit) return name;
  const room = limit - separator.length - HASH_LENGTH;
  if (room < 1) throw new Error(`no room for '${name}' in ${limit} bytes`);
  let head = "";
  for (const char of name) {
    if (Buffer.byteLength(head + char) > room) break;
    head += char;
  }
  // A separator before the hash's own would make a doubled one, which RDS and ElastiCache refuse.
  while (head.endsWith(separator)) head = head.slice(0, -separator.length);
  return `${head}${separator}${nameHash(name)}`;
}
