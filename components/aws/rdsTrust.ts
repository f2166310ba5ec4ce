import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { TrustBundle } from "../platform";

/**
 * Amazon's RDS certificate authorities sign the certificates of RDS and DocumentDB alike: one
 * ConfigMap holds their bundle, and services and Jobs mount it here to verify either.
 */
export const RDS_CA_DIR = "/etc/rds-ca";
const RDS_CA_FILE = "rds-ca-bundle.pem";
export const RDS_CA_PATH = `${RDS_CA_DIR}/${RDS_CA_FILE}`;

/**
 * TLS verified against that bundle and the server's host name, in the URL query that libpq and
 * node-postgres both read (node-postgres treats `sslmode=require` as verify-full against Node's own
 * CA store, which lacks Amazon's RDS CA).
 */
export const RDS_POSTGRES_TLS = `sslmode=verify-full&sslrootcert=${RDS_CA_PATH}`;

/** What the access components of RDS and DocumentDB share: where their Jobs run, what they reach, how clients verify. */
export interface ManagedDatabaseAccess {
  /**
   * Where the login Jobs run, with the Secrets that hand them the master password: a namespace of
   * their own that denies all traffic by default, never the services' (whose pods and roles must not
   * reach the master password; Secrets are read within their namespace only).
   */
  kubernetes: { provider: k8s.Provider; namespace: pulumi.Input<string> };
  /** The databases' addresses lie in it: the Jobs may reach them there. */
  vpcCidr: pulumi.Input<string>;
  /** Amazon's RDS CA bundle in the Jobs' namespace, which signs the certificates of both. */
  jobTrustBundle: TrustBundle;
  /** The same bundle in the services' namespace, named by the endpoints the services get. */
  trustBundle: TrustBundle;
}

/** The bundle as a ConfigMap in a namespace (the services', the login Jobs'), and where its readers mount it. */
export function rdsTrustBundle(
  name: string,
  args: { namespace: pulumi.Input<string>; pem: string },
  opts: pulumi.CustomResourceOptions,
): TrustBundle {
  const configMap = new k8s.core.v1.ConfigMap(
    name,
    { metadata: { name: "rds-ca", namespace: args.namespace }, data: { [RDS_CA_FILE]: args.pem } },
    opts,
  );
  return { configMap: configMap.metadata.name, mountPath: RDS_CA_DIR };
}
