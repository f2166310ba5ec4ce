import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { DATABASE_ENGINES } from "../engines";
import { grantClusterAccess } from "./clusterAccess";
import {
  PULUMI_VERSION,
  RUNNER_SHA256,
  RUNNER_VERSION,
  checkLabels,
  checkRepository,
  renderRunnerUserData,
} from "./runnerUserData";

export interface DeployRunnerArgs {
  namePrefix: string;
  region: string;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  privateSubnetIds: pulumi.Input<string>[];
  kmsKeyArn: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  githubRepository: string; // owner/name
  labels: string[];
  instanceType: string;
  /** IAM path of the roles the platform layer creates (one IRSA role per service): the runner may manage those only. */
  workloadRolePath: string; // e.g. "/platform/shop-prod/"
  /** The boundary those roles must carry: the runner can create or extend a role only with it attached. */
  workloadBoundaryArn: pulumi.Input<string>;
  /** Managed policies for the Pulumi state backend and secrets provider, which the operator chooses. */
  backendPolicyArns: string[];
  /**
   * ECR repositories the platform layer builds and pushes to (catalog `build`): the runner then runs
   * a Docker engine and may push there. None: neither.
   */
  pushRepositoryArns: pulumi.Input<string>[];
  /** Required tags of the instance and its volume, which the launch creates outside the provider's default tags. */
  resourceTags: Record<string, string>;
}

/** What widens a role: allowed only when the role carries the workload boundary. */
const BOUNDED_ROLE_ACTIONS = ["iam:CreateRole", "iam:PutRolePolicy"];

/** The platform layer's IRSA roles: trusted, read, tagged, deleted; nothing broader. */
const WORKLOAD_ROLE_ACTIONS = [
  "iam:DeleteRole",
  "iam:GetRole",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:ListRolePolicies",
  "iam:ListAttachedRolePolicies",
  "iam:ListInstanceProfilesForRole",
  "iam:DeleteRolePolicy",
  "iam:GetRolePolicy",
];

/** Pushing an image: the layers' upload, the manifest, and reading what is there already. */
const PUSH_IMAGE_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:CompleteLayerUpload",
  "ecr:InitiateLayerUpload",
  "ecr:PutImage",
  "ecr:UploadLayerPart",
];

/** What the Auto Scaling service-linked role needs on a customer managed key to launch with encrypted volumes. */
const LAUNCH_KEY_OPERATIONS = [
  "Encrypt",
  "Decrypt",
  "ReEncryptFrom",
  "ReEncryptTo",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
  "DescribeKey",
  "CreateGrant",
];

const AL2023_AMI = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/** IAM path with at least one segment: "/" alone would let the runner manage every role in the account. */
const ROLE_PATH = /^\/([A-Za-z0-9_+=,.@-]+\/)+$/;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[A-Za-z0-9_+=,.@/-]+$/;
/** The service-linked role's suffix: AWSServiceRoleForAutoScaling_ leaves 35 of IAM's 64 characters. */
const SLR_SUFFIX = /^[A-Za-z0-9_+=,.@-]{1,35}$/;

interface Context {
  name: string;
  args: DeployRunnerArgs;
  parent: pulumi.Resource;
  partition: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
}

/**
 * A self-hosted GitHub Actions runner inside the VPC, from which the platform stack is deployed: the
 * EKS API, Amazon MQ and RDS have private endpoints only. One instance in an Auto Scaling group over
 * the private subnets (a failed one is replaced), no inbound port (operators use SSM Session Manager),
 * egress to HTTPS and to PostgreSQL in the VPC, IAM limited to what that deploy touches, and an EKS
 * access entry with cluster admin (the platform layer installs CRDs and cluster-wide objects).
 *
 * After the first deploy, put a GitHub token (fine-grained, Administration: read and write on the
 * repository) into `tokenSecretArn`; the instance waits up to an hour for it, then registers.
 */
export class DeployRunner extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly tokenSecretArn: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly labels: string[];
  /** The runner's role, once it may act on the cluster. */
  readonly clusterAccess: pulumi.Output<string>;

  constructor(name: string, args: DeployRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:DeployRunner", name, {}, opts);
    checkArgs(args);
    const ctx: Context = {
      name,
      args,
      parent: this,
      partition: aws.getPartitionOutput({}, { parent: this }).partition,
      accountId: aws.getCallerIdentityOutput({}, { parent: this }).accountId,
    };
    const secret = createTokenSecret(ctx);
    const securityGroup = createSecurityGroup(ctx);
    const identity = createIdentity(ctx, secret);
    const launchTemplate = createLaunchTemplate(ctx, secret, securityGroup, identity.profile);
    createAutoScalingGroup(ctx, launchTemplate);
    // Cluster admin: the platform layer creates namespaces, CRDs and cluster-wide objects.
    this.clusterAccess = grantClusterAccess(
      name,
      args.clusterName,
      { principalArn: identity.role.arn, policy: "AmazonEKSClusterAdminPolicy" },
      { parent: this },
    );

    this.roleArn = identity.role.arn;
    this.tokenSecretArn = secret.arn;
    this.securityGroupId = securityGroup.id;
    this.labels = args.labels;
    this.registerOutputs({
      roleArn: this.roleArn,
      tokenSecretArn: this.tokenSecretArn,
      securityGroupId: this.securityGroupId,
      labels: this.labels,
    });
  }
}

/** Fails at construction, naming the argument, rather than in the middle of a deploy. */
function checkArgs(args: DeployRunnerArgs): void {
  checkRepository(args.githubRepository);
  checkLabels(args.labels);
  if (!ROLE_PATH.test(args.workloadRolePath)) {
    throw new Error(
      `workloadRolePath must be an IAM path below the root, like "/platform/shop-prod/", got ${JSON.stringify(args.workloadRolePath)}`,
    );
  }
  const badPolicies = args.backendPolicyArns.filter((arn) => !POLICY_ARN.test(arn));
  if (badPolicies.length > 0) {
    throw new Error(`backendPolicyArns must be IAM policy ARNs, got ${JSON.stringify(badPolicies)}`);
  }
  if (!SLR_SUFFIX.test(`${args.namePrefix}-runner`)) {
    throw new Error(`namePrefix must be at most 28 characters of letters, digits and _+=,.@-, got ${args.namePrefix}`);
  }
}

/** Empty at first: the operator fills it after the first deploy, so the token never passes through Pulumi. */
function createTokenSecret(ctx: Context): aws.secretsmanager.Secret {
  return new aws.secretsmanager.Secret(
    `${ctx.name}-github-token`,
    {
      namePrefix: `${ctx.args.namePrefix}/deploy-runner/github-token-`,
      description: `GitHub token that registers the deploy runner with ${ctx.args.githubRepository}`,
      kmsKeyId: ctx.args.kmsKeyArn,
      recoveryWindowInDays: 7,
    },
    { parent: ctx.parent },
  );
}

/**
 * No ingress at all. Egress: HTTPS anywhere (GitHub, AWS APIs, chart and image registries, through
 * NAT), and to the VPC HTTPS (EKS API, Amazon MQ management) and PostgreSQL (RDS, for the logins).
 * The VPC's HTTPS rule is covered by the first today; it keeps the private endpoints reachable if the
 * internet rule is ever narrowed to a proxy. Separate rule resources, as in securityGroup.ts; the
 * provider removes the default allow-all egress rule when it creates the group.
 */
function createSecurityGroup(ctx: Context): aws.ec2.SecurityGroup {
  const { name, args, parent } = ctx;
  const group = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    {
      description: "Deploy runner: no inbound; HTTPS out, PostgreSQL to the VPC",
      vpcId: args.vpcId,
      tags: { Name: `${args.namePrefix}-deploy-runner` },
    },
    { parent },
  );
  const postgres = DATABASE_ENGINES.postgres.port;
  const rules = [
    { key: "https", cidr: "0.0.0.0/0", port: 443, description: "HTTPS: GitHub, AWS APIs, registries" },
    { key: "https-vpc", cidr: args.vpcCidr, port: 443, description: "HTTPS in the VPC: EKS API, Amazon MQ" },
    { key: "postgres-vpc", cidr: args.vpcCidr, port: postgres, description: "PostgreSQL in the VPC: RDS" },
  ];
  for (const rule of rules) {
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-egress-${rule.key}`,
      {
        securityGroupId: group.id,
        ipProtocol: "tcp",
        fromPort: rule.port,
        toPort: rule.port,
        cidrIpv4: rule.cidr,
        description: rule.description,
      },
      { parent },
    );
  }
  return group;
}

const EC2_ASSUME_ROLE = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

interface RunnerPolicyInput {
  secretArn: string;
  kmsKeyArn: string;
  clusterArn: string;
  workloadRolesArn: string;
  workloadBoundaryArn: string;
  region: string;
  pushRepositoryArns: string[];
}

/** The token secret (decrypted through Secrets Manager only), the cluster's description, the workload roles. */
function runnerPolicy(input: RunnerPolicyInput): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadGithubToken", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: input.secretArn },
      {
        Sid: "DecryptGithubToken",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: input.kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${input.region}.amazonaws.com` } },
      },
      { Sid: "DescribeCluster", Effect: "Allow", Action: "eks:DescribeCluster", Resource: input.clusterArn },
      { Sid: "ManageWorkloadRoles", Effect: "Allow", Action: WORKLOAD_ROLE_ACTIONS, Resource: input.workloadRolesArn },
      {
        Sid: "WidenWorkloadRolesWithinBoundary",
        Effect: "Allow",
        Action: BOUNDED_ROLE_ACTIONS,
        Resource: input.workloadRolesArn,
        Condition: { StringEquals: { "iam:PermissionsBoundary": input.workloadBoundaryArn } },
      },
      ...pushStatements(input.pushRepositoryArns),
    ],
  });
}

/** A registry login (ECR grants it on no narrower resource than `*`) and pushes to the given repositories only. */
function pushStatements(repositoryArns: string[]): object[] {
  if (repositoryArns.length === 0) return [];
  return [
    { Sid: "LoginToRegistry", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    { Sid: "PushServiceImages", Effect: "Allow", Action: PUSH_IMAGE_ACTIONS, Resource: repositoryArns },
  ];
}

interface Identity {
  role: aws.iam.Role;
  profile: aws.iam.InstanceProfile;
}

/** The instance's role: SSM for operators, the inline policy above, the backend's policies; and its profile. */
function createIdentity(ctx: Context, secret: aws.secretsmanager.Secret): Identity {
  const { name, args, parent, partition, accountId } = ctx;
  const role = new aws.iam.Role(
    `${name}-role`,
    { assumeRolePolicy: EC2_ASSUME_ROLE, description: `Deploy runner of ${args.githubRepository}` },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.id,
      policy: pulumi
        .all([
          partition,
          accountId,
          secret.arn,
          args.kmsKeyArn,
          args.clusterName,
          args.workloadBoundaryArn,
          pulumi.all(args.pushRepositoryArns),
        ])
        .apply(([part, account, secretArn, kmsKeyArn, clusterName, workloadBoundaryArn, pushRepositoryArns]) =>
          runnerPolicy({
            secretArn,
            kmsKeyArn,
            clusterArn: `arn:${part}:eks:${args.region}:${account}:cluster/${clusterName}`,
            workloadRolesArn: `arn:${part}:iam::${account}:role${args.workloadRolePath}*`,
            workloadBoundaryArn,
            region: args.region,
            pushRepositoryArns,
          }),
        ),
    },
    { parent },
  );
  new aws.iam.RolePolicyAttachment(
    `${name}-ssm`,
    { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` },
    { parent },
  );
  args.backendPolicyArns.forEach(
    (policyArn, i) =>
      new aws.iam.RolePolicyAttachment(`${name}-backend-${i}`, { role: role.name, policyArn }, { parent }),
  );
  const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, { parent });
  return { role, profile };
}

/** AL2023 (latest at each launch), IMDSv2 only with one hop, a KMS-encrypted gp3 root, the user data. */
function createLaunchTemplate(
  ctx: Context,
  secret: aws.secretsmanager.Secret,
  securityGroup: aws.ec2.SecurityGroup,
  profile: aws.iam.InstanceProfile,
): aws.ec2.LaunchTemplate {
  const { name, args, parent } = ctx;
  const userData = secret.arn.apply((tokenSecretArn) => {
    const script = renderRunnerUserData({
      githubRepository: args.githubRepository,
      labels: args.labels,
      tokenSecretArn,
      region: args.region,
      runnerVersion: RUNNER_VERSION,
      runnerSha256: RUNNER_SHA256,
      pulumiVersion: PULUMI_VERSION,
      docker: args.pushRepositoryArns.length > 0,
    });
    return Buffer.from(script, "utf8").toString("base64");
  });
  return new aws.ec2.LaunchTemplate(
    `${name}-lt`,
    {
      description: `Deploy runner of ${args.githubRepository}`,
      imageId: AL2023_AMI,
      instanceType: args.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [securityGroup.id],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          // The provider types these flags as strings.
          ebs: {
            volumeSize: 30,
            volumeType: "gp3",
            encrypted: "true",
            kmsKeyId: args.kmsKeyArn,
            deleteOnTermination: "true",
          },
        },
      ],
      tagSpecifications: ["instance", "volume"].map((resourceType) => ({
        resourceType,
        tags: { ...args.resourceTags, Name: `${args.namePrefix}-deploy-runner` },
      })),
      userData,
      updateDefaultVersion: true,
    },
    { parent },
  );
}

/**
 * Exactly one instance over the private subnets. The group launches through its own service-linked
 * role, granted the platform key: the default one has no right to a customer managed key, so the
 * encrypted root volume would fail every launch. A new template version replaces the instance.
 */
function createAutoScalingGroup(ctx: Context, launchTemplate: aws.ec2.LaunchTemplate): aws.autoscaling.Group {
  const { name, args, parent } = ctx;
  const launchRole = new aws.iam.ServiceLinkedRole(
    `${name}-asg-role`,
    { awsServiceName: "autoscaling.amazonaws.com", customSuffix: `${args.namePrefix}-runner` },
    { parent },
  );
  const keyGrant = new aws.kms.Grant(
    `${name}-asg-key`,
    { keyId: args.kmsKeyArn, granteePrincipal: launchRole.arn, operations: LAUNCH_KEY_OPERATIONS },
    { parent },
  );
  return new aws.autoscaling.Group(
    `${name}-asg`,
    {
      minSize: 1,
      maxSize: 1,
      desiredCapacity: 1,
      vpcZoneIdentifiers: args.privateSubnetIds,
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      serviceLinkedRoleArn: launchRole.arn,
      healthCheckType: "EC2",
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 0 } },
      tags: [{ key: "Name", value: `${args.namePrefix}-deploy-runner`, propagateAtLaunch: true }],
    },
    { parent, dependsOn: [keyGrant] },
  );
}
