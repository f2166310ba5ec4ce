import { PolicyResource } from "@pulumi/policy";
import { StackRule, unmet } from "../rule";
import { T } from "../types";

export const s3Private: StackRule = {
  kind: "stack",
  name: "s3-private",
  description: "Every S3 bucket blocks public access (all four settings) and is encrypted by default.",
  severity: "critical",
  remediation:
    "Give the bucket a BucketPublicAccessBlock with every setting true and a BucketServerSideEncryptionConfiguration",
  check: (resources) => {
    const dependents = (bucket: PolicyResource, type: string) =>
      resources.filter((r) => r.type === type && r.dependencies.some((d) => d.urn === bucket.urn));
    return resources
      .filter((r) => r.type === T.bucket)
      .flatMap((bucket) =>
        unmet([
          [
            dependents(bucket, T.bucketPublicAccess).some((b) =>
              ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
                (k) => b.props[k] === true,
              ),
            ),
            `bucket ${bucket.name} does not block public access`,
          ],
          [dependents(bucket, T.bucketEncryption).length > 0, `bucket ${bucket.name} has no default encryption`],
        ]).map((message) => ({ message, urn: bucket.urn })),
      );
  },
};
