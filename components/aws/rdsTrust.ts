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

/** The bundle as a ConfigMap in the services' namespace, and where its readers mount it. */
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
