/**
 * The Amazon EBS CSI driver add-on's identity: its controller's service account assumes a role of its
 * own (IRSA). The nodes' role is no way round: managed nodes keep the instance metadata hop limit at
 * 1, so pods cannot reach the node's credentials.
 * Source: https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html (step 1, "Create an IAM role"),
 * the same text as https://docs.aws.amazon.com/eks/latest/userguide/csi-iam-role.html.
 */

/** The add-on's controller service account, which the guide's `eksctl create iamserviceaccount` names. */
export const EBS_CSI_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:ebs-csi-controller-sa";

/** The AWS managed policy the guide attaches (under the service-role/ path). */
export const EBS_CSI_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";

/** A fixed name, so that the platform key's policy can name the role before the role exists. */
export function ebsCsiDriverRoleName(namePrefix: string): string {
  return `${namePrefix}-ebs-csi-driver`;
}

/**
 * What the guide adds for volumes encrypted with a customer managed key: grants for AWS resources
 * only (EBS attaching the volume), and use of the key.
 */
export const EBS_CSI_KEY_GRANTS = {
  Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
  Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
};
export const EBS_CSI_KEY_USE = {
  Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
};

/** The guide's policy document for `keyArn`, attached to the driver's role. */
export function ebsCsiKeyPolicy(keyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [EBS_CSI_KEY_GRANTS, EBS_CSI_KEY_USE].map((statement) => ({
      Effect: "Allow",
      ...statement,
      Resource: [keyArn],
    })),
  });
}
