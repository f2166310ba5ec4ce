import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/**
 * The EKS access policies the platform grants: cluster admin to whoever deploys the platform layer or
 * administers the cluster, read-only (no Secrets) to viewers. ARNs:
 * https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
 */
export type ClusterAccessPolicy = "AmazonEKSClusterAdminPolicy" | "AmazonEKSViewPolicy";

export interface ClusterAccessGrant {
  /** The IAM role or user (never an STS session): EKS keeps one access entry per principal. */
  principalArn: pulumi.Input<string>;
  policy: ClusterAccessPolicy;
  /** Namespaces the policy is limited to; the whole cluster without. */
  namespaces?: string[];
}

/**
 * An access entry for the principal and its one access policy; returns the principal's ARN, which
 * resolves once the policy is associated (the principal can then act on the cluster).
 * https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html
 */
export function grantClusterAccess(
  name: string,
  clusterName: pulumi.Input<string>,
  grant: ClusterAccessGrant,
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
  const partition = aws.getPartitionOutput({}, { parent: opts.parent }).partition;
  const entry = new aws.eks.AccessEntry(
    `${name}-access`,
    { clusterName, principalArn: grant.principalArn, type: "STANDARD" },
    opts,
  );
  const association = new aws.eks.AccessPolicyAssociation(
    `${name}-${grant.policy === "AmazonEKSViewPolicy" ? "view" : "cluster-admin"}`,
    {
      clusterName,
      principalArn: grant.principalArn,
      policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${grant.policy}`,
      accessScope: grant.namespaces ? { type: "namespace", namespaces: grant.namespaces } : { type: "cluster" },
    },
    // A policy can only be associated with an existing entry.
    { ...opts, dependsOn: [entry] },
  );
  return association.principalArn;
}
