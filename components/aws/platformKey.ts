import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { EBS_CSI_KEY_GRANTS, EBS_CSI_KEY_USE, ebsCsiDriverRoleName } from "./ebsCsiDriver";

/**
 * Customer-managed key with yearly rotation; CloudWatch Logs may use it for the flow logs, and
 * CloudWatch alarms to publish to the store alarms' encrypted SNS topic; the EBS CSI driver's role
 * (EksCluster) to encrypt the volumes it creates, as the EKS guide lists for customer managed keys.
 */
export function platformKey(
  name: string,
  args: { region: string; prefix: string; protect: boolean },
  parent: pulumi.Resource,
): aws.kms.Key {
  const { region, prefix } = args;
  const account = aws.getCallerIdentityOutput({}, { parent });
  const partition = aws.getPartitionOutput({}, { parent });
  const key = new aws.kms.Key(
    name,
    {
      description: `${prefix} platform data`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi
        .all([account.accountId, partition.partition])
        .apply(([accountId, part]) => keyPolicy({ accountId, partition: part, region, prefix })),
    },
    // Deleting it makes every snapshot, backup and volume it encrypted unreadable.
    { parent, protect: args.protect },
  );
  new aws.kms.Alias(name, { name: `alias/${prefix}-platform`, targetKeyId: key.keyId }, { parent });
  return key;
}

function keyPolicy(args: { accountId: string; partition: string; region: string; prefix: string }): string {
  const account = `arn:${args.partition}:iam::${args.accountId}:root`;
  // The role is made after the key (its trust needs the cluster the key encrypts): named, not referenced.
  const ebsCsiDriver = {
    Effect: "Allow",
    Principal: { AWS: account },
    Resource: "*",
    Condition: {
      ArnEquals: {
        "aws:PrincipalArn": `arn:${args.partition}:iam::${args.accountId}:role/${ebsCsiDriverRoleName(args.prefix)}`,
      },
    },
  };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministration", Effect: "Allow", Principal: { AWS: account }, Action: "kms:*", Resource: "*" },
      {
        Sid: "CloudWatchLogs",
        Effect: "Allow",
        Principal: { Service: `logs.${args.region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
      },
      {
        Sid: "CloudWatchAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
      },
      {
        Sid: "EbsCsiDriverGrants",
        ...ebsCsiDriver,
        Action: EBS_CSI_KEY_GRANTS.Action,
        Condition: { ...ebsCsiDriver.Condition, ...EBS_CSI_KEY_GRANTS.Condition },
      },
      { Sid: "EbsCsiDriverUse", ...ebsCsiDriver, Action: EBS_CSI_KEY_USE.Action },
    ],
  });
}
