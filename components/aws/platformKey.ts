import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/**
 * Customer-managed key with yearly rotation; CloudWatch Logs may use it for the flow logs, and
 * CloudWatch alarms to publish to the store alarms' encrypted SNS topic.
 */
export function platformKey(name: string, region: string, prefix: string, parent: pulumi.Resource): aws.kms.Key {
  const account = aws.getCallerIdentityOutput({}, { parent });
  const partition = aws.getPartitionOutput({}, { parent });
  const key = new aws.kms.Key(
    name,
    {
      description: `${prefix} platform data`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi.all([account.accountId, partition.partition]).apply(([accountId, part]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountAdministration",
              Effect: "Allow",
              Principal: { AWS: `arn:${part}:iam::${accountId}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "CloudWatchLogs",
              Effect: "Allow",
              Principal: { Service: `logs.${region}.amazonaws.com` },
              Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
              Resource: "*",
            },
            {
              Sid: "CloudWatchAlarms",
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
          ],
        }),
      ),
    },
    { parent },
  );
  new aws.kms.Alias(name, { name: `alias/${prefix}-platform`, targetKeyId: key.keyId }, { parent });
  return key;
}
