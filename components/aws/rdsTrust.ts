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
