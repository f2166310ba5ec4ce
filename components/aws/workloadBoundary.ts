import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/**
 * The permissions boundary of every role the platform layer creates (the services' IRSA roles).
 * The deploy runner may create and edit those roles only with this boundary attached, so a role it
 * makes can never do more than a service's data-plane work, whatever its own policies say: in
 * particular nothing in IAM, STS role chaining, Organizations or account settings.
 */
export function workloadBoundaryDocument(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ServiceDataPlane",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:ListBucket",
          "sqs:SendMessage",
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sns:Publish",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
          "dynamodb:Query",
          "dynamodb:Scan",
          "secretsmanager:GetSecretValue",
          "ssm:GetParameter",
          "ssm:GetParameters",
          "kms:Decrypt",
          "kms:GenerateDataKey",
          "cloudwatch:PutMetricData",
          "xray:PutTraceSegments",
          "xray:PutTelemetryRecords",
          "bedrock:InvokeModel",
        ],
        Resource: "*",
      },
      {
        Sid: "NeverAdministration",
        Effect: "Deny",
        Action: ["iam:*", "sts:AssumeRole", "organizations:*", "account:*"],
        Resource: "*",
      },
    ],
  });
}

export function createWorkloadBoundary(name: string, path: string, parent: pulumi.Resource): aws.iam.Policy {
  return new aws.iam.Policy(
    name,
    {
      path,
      description: "Permissions boundary of the platform layer's workload roles",
      policy: workloadBoundaryDocument(),
    },
    { parent },
  );
}
