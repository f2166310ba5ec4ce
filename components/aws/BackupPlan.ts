import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface BackupPlanArgs {
  namePrefix: string;
  kmsKeyArn: pulumi.Input<string>;
  /** AWS Backup schedule expression, e.g. `cron(0 3 * * ? *)` (UTC). */
  schedule: string;
  retentionDays: number;
}

/** Resources carrying this tag (value: the stack's name prefix) are in the stack's backup plan. */
export const BACKUP_TAG = "platform-backup";

/**
 * AWS Backup for the stack's data: a vault encrypted with the platform key, a daily plan with the
 * configured retention, and a selection of every resource tagged `platform-backup=<prefix>`: the
 * RDS instances, the DocumentDB cluster and the EBS volumes of the databases on EKS. RDS and
 * DocumentDB keep their own automated backups (point-in-time recovery) besides.
 */
export class BackupPlan extends pulumi.ComponentResource {
  readonly vaultName: pulumi.Output<string>;

  constructor(name: string, args: BackupPlanArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:BackupPlan", name, {}, opts);
    const child = { parent: this };
    const vault = new aws.backup.Vault(
      `${name}-vault`,
      { name: `${args.namePrefix}-backups`, kmsKeyArn: args.kmsKeyArn },
      child,
    );
    const plan = new aws.backup.Plan(
      `${name}-plan`,
      {
        name: `${args.namePrefix}-daily`,
        rules: [
          {
            ruleName: "daily",
            targetVaultName: vault.name,
            schedule: args.schedule,
            startWindow: 60,
            completionWindow: 360,
            lifecycle: { deleteAfter: args.retentionDays },
          },
        ],
      },
      child,
    );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      child,
    );
    const partition = aws.getPartitionOutput({}, child).partition;
    const attachments = ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${policy}` },
          child,
        ),
    );
    new aws.backup.Selection(
      `${name}-selection`,
      {
        name: `${args.namePrefix}-tagged`,
        planId: plan.id,
        iamRoleArn: role.arn,
        selectionTags: [{ type: "STRINGEQUALS", key: BACKUP_TAG, value: args.namePrefix }],
      },
      { parent: this, dependsOn: attachments },
    );
    this.vaultName = vault.name;
    this.registerOutputs({ vaultName: this.vaultName });
  }
}
