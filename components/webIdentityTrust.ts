/** The annotation that names, on an EKS service account, the IAM role its pods assume (IRSA). */
export const IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

/** The audience STS requires in a web-identity token; every trust policy checks it. */
export const STS_AUDIENCE = "sts.amazonaws.com";

/**
 * A role's trust policy for web identities (EKS service accounts, GitHub Actions): only tokens of
 * `issuer` (its host and path, no scheme), for STS, with exactly `subject` may assume it.
 */
export function webIdentityTrustPolicy(providerArn: string, issuer: string, subject: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { [`${issuer}:aud`]: STS_AUDIENCE, [`${issuer}:sub`]: subject } },
      },
    ],
  });
}
