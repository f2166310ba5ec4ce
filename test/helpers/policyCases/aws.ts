import { PolicyResource } from "@pulumi/policy";
import { changed, resource, RuleCase } from "./fixtures";

const ROLE = "aws:iam/role:Role";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
const document = (...Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC";
/** An IRSA trust as the ServiceWorkload writes it. */
const irsaTrust = (
  conditions: Record<string, string> = {
    [`${ISSUER}:sub`]: "system:serviceaccount:shop:orders",
    [`${ISSUER}:aud`]: "sts.amazonaws.com",
  },
) =>
  document({
    Effect: "Allow",
    Principal: { Federated: `arn:aws:iam::1:oidc-provider/${ISSUER}` },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: { StringEquals: conditions },
  });
const githubTrust = (sub: string) =>
  document({
    Effect: "Allow",
    Principal: { Federated: "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": sub,
      },
    },
  });
const serviceTrust = (service: string) =>
  document({ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" });
/** A role and an attachment of `policyArn` to it (the attachment depends on the role, as through its `role` input). */
const attached = (name: string, trust: string, policyArn: string): PolicyResource[] => {
  const role = resource(ROLE, { assumeRolePolicy: trust }, name);
  return [role, resource(ATTACHMENT, { policyArn, role: name }, `${name}-0`, { dependencies: [role] })];
};

const CDN = "aws:cloudfront/distribution:Distribution";
const goodDistribution = {
  webAclId: "arn:aws:wafv2:us-east-1:1:global/webacl/x",
  origins: [
    { originId: "app", originAccessControlId: "oac-1" },
    {
      originId: "gateway",
      customOriginConfig: { originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
    },
  ],
  defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
  orderedCacheBehaviors: [{ pathPattern: "/api/*", viewerProtocolPolicy: "https-only" }],
  viewerCertificate: { cloudfrontDefaultCertificate: true },
};
const distribution = (change: (d: any) => void) => resource(CDN, changed(goodDistribution, change));
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const blockAll = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
};
const bucket = resource("aws:s3/bucket:Bucket", {}, "web");
/** A resource that depends on the bucket, as a bucket setting does through its `bucket` input. */
const onBucket = (type: string, props: Record<string, unknown>) =>
  resource(type, props, `${type}-web`, { dependencies: [bucket] });
export const cluster = resource("aws:eks/cluster:Cluster", {}, "platform");
/** An add-on of the cluster, which depends on it through its clusterName input. */
export const addonOf = (addonName: string, configurationValues: string | undefined) =>
  resource("aws:eks/addon:Addon", { addonName, configurationValues }, `platform-${addonName}`, {
    dependencies: [cluster],
  });
const RDS = "aws:rds/instance:Instance";
const goodRds = {
  storageEncrypted: true,
  multiAz: true,
  backupRetentionPeriod: 7,
  deletionProtection: true,
  publiclyAccessible: false,
};
const goodDocdb = {
  storageEncrypted: true,
  backupRetentionPeriod: 7,
  deletionProtection: true,
  enabledCloudwatchLogsExports: ["audit", "profiler"],
};
const EKS_LOGS = ["api", "audit", "authenticator"];

export const AWS_CASES: Record<string, RuleCase> = {
  "iam-no-admin-policies": {
    bad: [
      {
        why: "a node role, a pull-request role, a role's own managed list, an attachment to no role of the stack",
        resources: [
          ...attached("nodes", serviceTrust("ec2.amazonaws.com"), ADMIN),
          ...attached("preview", githubTrust("repo:acme/platform:pull_request"), ADMIN),
          resource(
            ROLE,
            { assumeRolePolicy: irsaTrust(), managedPolicyArns: ["arn:aws:iam::aws:policy/IAMFullAccess"] },
            "orders",
          ),
          resource("aws:iam/policyAttachment:PolicyAttachment", { policyArn: ADMIN, users: ["ops"] }, "ops"),
        ],
        says: [
          "role nodes holds AdministratorAccess",
          "role preview holds AdministratorAccess",
          "role orders holds IAMFullAccess",
          "a user or group holds AdministratorAccess",
        ],
      },
      {
        why: "a deploy environment matched by a wildcard",
        resources: attached("deploy", githubTrust("repo:acme/*:environment:production"), ADMIN),
        says: ["role deploy holds AdministratorAccess"],
      },
    ],
    good: [
      {
        why: "the deploy role of a protected environment; read-only elsewhere",
        resources: [
          ...attached("deploy", githubTrust("repo:acme/platform:environment:production"), ADMIN),
          ...attached(
            "preview",
            githubTrust("repo:acme/platform:pull_request"),
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
          ),
        ],
      },
    ],
  },
  "iam-no-wildcard-actions": {
    bad: [
      {
        why: "every action in a managed policy, a service on everything in a role policy, NotAction inline",
        resources: [
          resource(
            "aws:iam/policy:Policy",
            { policy: document({ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }) },
            "a",
          ),
          resource(
            "aws:iam/rolePolicy:RolePolicy",
            { policy: document({ Effect: "Allow", Action: ["s3:*", "sqs:SendMessage"], Resource: "*" }) },
            "b",
          ),
          resource(
            ROLE,
            {
              assumeRolePolicy: irsaTrust(),
              inlinePolicies: [
                { name: "ops", policy: document({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }) },
              ],
            },
            "c",
          ),
        ],
        says: [
          "the policy: statement Admin allows every action",
          "the policy: statement 0 allows s3:* on every resource",
          "inline policy ops: statement 0 allows every action",
        ],
      },
    ],
    good: [
      {
        why: "listed actions on *, a service on its own ARNs, a Deny of iam:*",
        resources: [
          resource(
            "aws:iam/policy:Policy",
            {
              policy: document(
                { Effect: "Allow", Action: ["s3:GetObject", "kms:Decrypt"], Resource: "*" },
                { Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::uploads/*" },
                { Effect: "Deny", Action: ["iam:*"], Resource: "*" },
              ),
            },
            "a",
          ),
        ],
      },
    ],
  },
  "iam-trust-scoped": {
    bad: [
      {
        why: "IRSA without sub, without aud; a wildcard sub; anyone",
        resources: [
          resource(ROLE, { assumeRolePolicy: irsaTrust({ [`${ISSUER}:aud`]: "sts.amazonaws.com" }) }, "a"),
          resource(
            ROLE,
            { assumeRolePolicy: irsaTrust({ [`${ISSUER}:sub`]: "system:serviceaccount:shop:orders" }) },
            "b",
          ),
          resource(
            ROLE,
            { assumeRolePolicy: irsaTrust({ [`${ISSUER}:sub`]: "*", [`${ISSUER}:aud`]: "sts.amazonaws.com" }) },
            "c",
          ),
          resource(
            ROLE,
            {
              assumeRolePolicy: document({
                Sid: "Anyone",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "sts:AssumeRole",
              }),
            },
            "d",
          ),
        ],
        says: [
          "statement 0 trusts a web identity without a sub condition: any identity of the issuer may assume the role",
          "statement 0 trusts a web identity without an aud condition",
          "statement 0 trusts a web identity without a sub condition: any identity of the issuer may assume the role",
          "statement Anyone lets any AWS principal assume the role",
        ],
      },
    ],
    good: [
      {
        why: "IRSA scoped; a service; GitHub's environment; any principal of one organization",
        resources: [
          resource(ROLE, { assumeRolePolicy: irsaTrust() }, "a"),
          resource(ROLE, { assumeRolePolicy: serviceTrust("eks.amazonaws.com") }, "b"),
          resource(ROLE, { assumeRolePolicy: githubTrust("repo:acme/platform:environment:production") }, "c"),
          resource(
            ROLE,
            {
              assumeRolePolicy: document({
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc" } },
              }),
            },
            "d",
          ),
        ],
      },
    ],
  },
  "kms-key-policy-scoped": {
    bad: [
      {
        why: "principal * without a condition, as a string and in AWS",
        resources: [
          resource(
            "aws:kms/key:Key",
            { policy: document({ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }) },
            "a",
          ),
          resource(
            "aws:kms/keyPolicy:KeyPolicy",
            {
              policy: document({
                Sid: "Open",
                Effect: "Allow",
                Principal: { AWS: ["*"] },
                Action: "kms:*",
                Resource: "*",
              }),
            },
            "b",
          ),
        ],
        says: ["statement 0 lets any principal use the key", "statement Open lets any principal use the key"],
      },
    ],
    good: [
      {
        why: "the account root, a service, * under kms:ViaService",
        resources: [
          resource("aws:kms/key:Key", {
            policy: document(
              { Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:root" }, Action: "kms:*", Resource: "*" },
              {
                Effect: "Allow",
                Principal: { Service: "logs.eu-west-1.amazonaws.com" },
                Action: "kms:Encrypt*",
                Resource: "*",
              },
              {
                Effect: "Allow",
                Principal: "*",
                Action: "kms:Decrypt",
                Resource: "*",
                Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
              },
            ),
          }),
        ],
      },
    ],
  },
  "kms-key-rotation": {
    bad: [{ why: "rotation off", resources: [resource("aws:kms/key:Key", {})], says: ["key rotation is off"] }],
    good: [{ why: "rotation on", resources: [resource("aws:kms/key:Key", { enableKeyRotation: true })] }],
  },
  "ecr-hardened": {
    bad: [
      {
        why: "the provider's defaults: mutable, no scan",
        resources: [resource("aws:ecr/repository:Repository", {})],
        says: ["image tags are mutable", "images are not scanned on push"],
      },
    ],
    good: [
      {
        why: "immutable (with exclusions too), scanned",
        resources: [
          resource(
            "aws:ecr/repository:Repository",
            { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } },
            "a",
          ),
          resource(
            "aws:ecr/repository:Repository",
            { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageScanningConfiguration: { scanOnPush: true } },
            "b",
          ),
        ],
      },
    ],
  },
  "rds-hardened": {
    bad: [
      {
        why: "three days of backups, public, no retention set",
        resources: [resource(RDS, { ...goodRds, backupRetentionPeriod: 3, publiclyAccessible: true })],
        says: ["backups kept 3 days", "publicly accessible"],
      },
      {
        why: "nothing set",
        resources: [resource(RDS, {})],
        says: ["storage is not encrypted", "not Multi-AZ", "backups kept 0 days", "no deletion protection"],
      },
    ],
    good: [{ why: "the RdsDatabases defaults", resources: [resource(RDS, goodRds)] }],
  },
  "rds-force-ssl": {
    bad: [
      {
        why: "force_ssl 0",
        resources: [
          resource("aws:rds/parameterGroup:ParameterGroup", {
            family: "postgres16",
            parameters: [{ name: "rds.force_ssl", value: "0" }],
          }),
        ],
        says: ["rds.force_ssl is not 1"],
      },
    ],
    good: [
      {
        why: "force_ssl 1; another engine",
        resources: [
          resource(
            "aws:rds/parameterGroup:ParameterGroup",
            { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "1" }] },
            "a",
          ),
          resource("aws:rds/parameterGroup:ParameterGroup", { family: "mysql8.0", parameters: [] }, "b"),
        ],
      },
    ],
  },
  "final-snapshots": {
    bad: [
      {
        why: "RDS and DocumentDB skipping the final snapshot",
        resources: [
          resource(RDS, { ...goodRds, skipFinalSnapshot: true }, "a"),
          resource("aws:docdb/cluster:Cluster", { ...goodDocdb, skipFinalSnapshot: true }, "b"),
        ],
        says: [
          "skipFinalSnapshot is true: deleting it loses the data",
          "skipFinalSnapshot is true: deleting it loses the data",
        ],
      },
    ],
    good: [
      {
        why: "a final snapshot named",
        resources: [resource(RDS, { ...goodRds, skipFinalSnapshot: false, finalSnapshotIdentifier: "x-final" })],
      },
    ],
  },
  "documentdb-hardened": {
    bad: [
      {
        why: "no audit logs; TLS disabled",
        resources: [
          resource("aws:docdb/cluster:Cluster", { ...goodDocdb, enabledCloudwatchLogsExports: [] }, "a"),
          resource(
            "aws:docdb/clusterParameterGroup:ClusterParameterGroup",
            { family: "docdb5.0", parameters: [{ name: "tls", value: "disabled" }] },
            "b",
          ),
        ],
        says: ["audit logs are not exported", "tls is not enabled"],
      },
    ],
    good: [
      {
        why: "the DocumentDb defaults",
        resources: [
          resource("aws:docdb/cluster:Cluster", goodDocdb, "a"),
          resource(
            "aws:docdb/clusterParameterGroup:ClusterParameterGroup",
            { family: "docdb5.0", parameters: [{ name: "tls", value: "enabled" }] },
            "b",
          ),
        ],
      },
    ],
  },
  "elasticache-hardened": {
    bad: [
      {
        why: "no AUTH token",
        resources: [
          resource("aws:elasticache/replicationGroup:ReplicationGroup", {
            transitEncryptionEnabled: true,
            atRestEncryptionEnabled: true,
            automaticFailoverEnabled: true,
          }),
        ],
        says: ["no AUTH token"],
      },
    ],
    good: [
      {
        why: "the ManagedCache defaults",
        resources: [
          resource("aws:elasticache/replicationGroup:ReplicationGroup", {
            transitEncryptionEnabled: true,
            atRestEncryptionEnabled: true,
            automaticFailoverEnabled: true,
            authToken: "t",
          }),
        ],
      },
    ],
  },
  "mq-not-public": {
    bad: [
      {
        why: "public",
        resources: [resource("aws:mq/broker:Broker", { publiclyAccessible: true })],
        says: ["broker is publicly accessible"],
      },
    ],
    good: [{ why: "private", resources: [resource("aws:mq/broker:Broker", { publiclyAccessible: false })] }],
  },
  "eks-hardened": {
    bad: [
      {
        why: "a public endpoint without CIDRs",
        resources: [
          resource("aws:eks/cluster:Cluster", {
            encryptionConfig: { resources: ["secrets"] },
            enabledClusterLogTypes: EKS_LOGS,
            vpcConfig: {},
          }),
        ],
        says: ["public API endpoint open to the internet"],
      },
    ],
    good: [
      {
        why: "a public endpoint for one range",
        resources: [
          resource("aws:eks/cluster:Cluster", {
            encryptionConfig: { resources: ["secrets"] },
            enabledClusterLogTypes: EKS_LOGS,
            vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
          }),
        ],
      },
    ],
  },
  "network-policies-enforced": {
    bad: [
      {
        why: "vpc-cni without its network policy agent",
        resources: [cluster, addonOf("vpc-cni", undefined)],
        says: [
          'cluster platform does not enforce NetworkPolicies: no vpc-cni add-on with enableNetworkPolicy "true", so every policy (default-deny included) is ignored',
        ],
      },
    ],
    good: [
      {
        why: "the agent on",
        resources: [cluster, addonOf("vpc-cni", JSON.stringify({ enableNetworkPolicy: "true" }))],
      },
    ],
  },
  "cdn-hardened": {
    bad: [
      {
        why: "plain HTTP, no WAF, TLS 1.0 to an origin, a bucket without OAC, an old viewer TLS",
        resources: [
          distribution((d) => (d.orderedCacheBehaviors[0].viewerProtocolPolicy = "allow-all")),
          distribution((d) => delete d.webAclId),
          distribution((d) => (d.origins[1].customOriginConfig.originSslProtocols = ["TLSv1", "TLSv1.2"])),
          distribution((d) => delete d.origins[0].originAccessControlId),
          distribution(
            (d) =>
              (d.viewerCertificate = {
                acmCertificateArn: "arn:aws:acm:us-east-1:1:certificate/x",
                minimumProtocolVersion: "TLSv1_2016",
              }),
          ),
        ].map((r, i) => Object.assign(r, { urn: `${r.urn}-${i}` })),
        says: [
          "behavior /api/* allows plain HTTP",
          "no WAF web ACL",
          "origin gateway is reached without TLS 1.2",
          "bucket origin app has no origin access control",
          "viewer TLS minimum is TLSv1_2016",
        ],
      },
    ],
    good: [{ why: "the WebFrontend defaults", resources: [distribution(() => undefined)] }],
  },
  "s3-private": {
    bad: [
      {
        why: "one public access setting off",
        resources: [bucket, onBucket(BLOCK, { ...blockAll, restrictPublicBuckets: false }), onBucket(ENCRYPTION, {})],
        says: ["bucket web does not block public access"],
      },
    ],
    good: [{ why: "all blocked, encrypted", resources: [bucket, onBucket(BLOCK, blockAll), onBucket(ENCRYPTION, {})] }],
  },
  "required-tags": {
    bad: [
      {
        why: "owner and cost-center missing",
        resources: [
          resource("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { environment: "prod" } }) }),
        ],
        says: ["default tag owner is missing", "default tag cost-center is missing"],
      },
    ],
    good: [
      {
        why: "all three",
        resources: [
          resource("pulumi:providers:aws", {
            defaultTags: { tags: { environment: "prod", owner: "o", "cost-center": "c" } },
          }),
        ],
      },
    ],
  },
};
