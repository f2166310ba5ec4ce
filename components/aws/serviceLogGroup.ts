import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/**
 * The retention CloudWatch Logs accepts, in days (PutRetentionPolicy's retentionInDays:
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html;
 * 0, "never expire", left out on purpose).
 */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface ServiceLogs {
  retentionDays: number;
  kmsKeyArn: pulumi.Input<string>;
}

/**
 * A log group an AWS service writes to under a name of its own choosing (EKS's control plane, RDS's
 * exports), made before the service: otherwise the service makes it, without retention, key or the
 * provider's required tags.
 */
export function serviceLogGroup(
  name: string,
  logGroupName: string,
  logs: ServiceLogs,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    name,
    { name: logGroupName, retentionInDays: logs.retentionDays, kmsKeyId: logs.kmsKeyArn },
    opts,
  );
}
