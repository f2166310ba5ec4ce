import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { webIdentityTrustPolicy } from "../webIdentityTrust";
import { ClusterAccessGrant, grantClusterAccess } from "./clusterAccess";
import { serviceLogGroup } from "./serviceLogGroup";
import { EBS_CSI_MANAGED_POLICY, EBS_CSI_SERVICE_ACCOUNT, ebsCsiDriverRoleName, ebsCsiKeyPolicy } from "./ebsCsiDriver";
import { CLUSTER_AUTOSCALER_SUBJECT, clusterAutoscalerPolicy } from "./clusterAutoscaler";
import { after } from "../ordering";

export interface EksClusterArgs {
  namePrefix: string;
  /** A version of EKS's release calendar (eksVersions.ts); the nodes and add-ons follow it. */
  version: string;
  /** Stay on the version past its standard support (extra cost) rather than be upgraded by EKS at its end. */
  extendedSupport: boolean;
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  /** The private subnets' routes through NAT: nodes reach ECR and the EKS API only through them. */
  privateEgress: pulumi.Resource[];
  /** Public API endpoint for these CIDRs only; none means a private endpoint only. */
  publicAccessCidrs: string[];
  /** Envelope encryption of Kubernetes secrets; the EBS CSI driver encrypts volumes with it too. */
  kmsKeyArn: pulumi.Input<string>;
  nodes: { instanceTypes: string[]; min: number; desired: number; max: number };
  region: string;
  /** Who may reach the Kubernetes API besides the deploy runner (which grants itself). */
  access: ClusterAccessArgs;
  /** How long the control plane's logs are kept. */
  logRetentionDays: number;
  /** Required tags of what the nodes and the EBS CSI driver create (instances, volumes, interfaces): no provider tags those. */
  resourceTags: Record<string, string>;
}

export interface ClusterAccessArgs {
  /** Cluster admin for the identity that first creates the cluster. */
  creatorAdmin: boolean;
  admins: pulumi.Input<string>[];
  viewers: string[];
  /** Where viewers may read. */
  viewerNamespaces: string[];
}

const CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
export const ADDONS = ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"];
/** The add-on that provisions every volume (the StorageClass's provisioner). */
export const EBS_CSI_ADDON = "aws-ebs-csi-driver";
/**
 * Add-on settings beyond the defaults: the VPC CNI enforces NetworkPolicies only when asked (its
 * network policy agent is off by default), and every namespace's default-deny relies on it; the EBS
 * CSI driver tags every volume it creates with the required tags (its chart's
 * `controller.extraVolumeTags`, part of the add-on's configuration schema: `aws eks
 * describe-addon-configuration --addon-name aws-ebs-csi-driver`), which no provider tags.
 */
export function addonConfiguration(resourceTags: Record<string, string>): Record<string, object> {
  return {
    "vpc-cni": { enableNetworkPolicy: "true" },
    [EBS_CSI_ADDON]: { controller: { extraVolumeTags: resourceTags } },
  };
}
/** The nodes' own: volumes are the EBS CSI driver's business, with a role of its own (ebsCsiDriver.ts). */
const NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"];

function assumeRole(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** The nodes' AMI: x86-64, so images built for the cluster are built for NODE_PLATFORM. */
const NODE_AMI_TYPE = "AL2023_x86_64_STANDARD";
/** The OS and architecture the nodes run images for. */
export const NODE_PLATFORM = "linux/amd64";

/** Kubeconfig that gets a token from the AWS CLI; no credentials inside. */
export function kubeconfig(
  clusterName: string,
  endpoint: string,
  certificateAuthority: string,
  region: string,
): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: clusterName, cluster: { server: endpoint, "certificate-authority-data": certificateAuthority } },
    ],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region],
          },
        },
      },
    ],
  });
}

/**
 * EKS with KMS envelope encryption of secrets, every control-plane log, a private endpoint
 * (public only for the configured CIDRs), a managed node group in the private subnets, an OIDC
 * provider for IRSA and the core add-ons. The platform layer builds its Kubernetes provider from
 * the cluster's name, endpoint and certificate authority (`kubeconfig`), from inside the VPC.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  /** Base64 PEM of the cluster's certificate authority. */
  readonly certificateAuthority: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** Security group EKS puts on the control plane and the managed nodes. */
  readonly nodeSecurityGroupId: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** Issuer without https://, as IRSA trust conditions name it. */
  readonly oidcIssuer: pulumi.Output<string>;
  /** Per add-on, its version: resolves once every add-on is active (EKS reports it so on creation). */
  readonly addonVersions: pulumi.Output<Record<string, string>>;
  /** The principals given access, once their policies are associated. */
  readonly access: pulumi.Output<string[]>;
  /** The role the Cluster Autoscaler's service account assumes, once it holds its policy. */
  readonly autoscalerRoleArn: pulumi.Output<string>;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:EksCluster", name, {}, opts);
    const cluster = createControlPlane(name, args, this);
    this.name = cluster.name;
    this.nodeSecurityGroupId = cluster.vpcConfig.apply((vpc) => vpc.clusterSecurityGroupId);
    const oidc = createOidcProvider(name, cluster, this);
    this.oidcProviderArn = oidc.providerArn;
    this.oidcIssuer = oidc.issuer;
    const nodeGroup = createNodeGroup(name, args, cluster, this);
    const ebsCsiDriver = createEbsCsiDriverRole(name, args, oidc, this);
    this.autoscalerRoleArn = createAutoscalerRole(name, args.namePrefix, cluster, oidc, this);
    const addons = createAddons(name, args, { cluster, nodeGroup, ebsCsiDriver }, this);
    this.addonVersions = pulumi.output(Object.fromEntries(ADDONS.map((addon, i) => [addon, addons[i].addonVersion])));
    this.access = pulumi.all(createAccessEntries(name, args.access, cluster, this));
    // The cluster is ready for workloads once its nodes and add-ons are, and reachable once its access entries are.
    this.endpoint = after(cluster.endpoint, nodeGroup.id, ...addons.map((a) => a.id), this.access);
    this.certificateAuthority = cluster.certificateAuthority.apply((ca) => ca.data!);
    this.arn = cluster.arn;

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterName, endpoint, ca]) => kubeconfig(clusterName, endpoint, ca.data!, args.region)),
    );
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig });
  }
}

/** The cluster with its IAM role, created once the role has the EKS cluster policy. */
function createControlPlane(name: string, args: EksClusterArgs, parent: pulumi.Resource): aws.eks.Cluster {
  const clusterRole = new aws.iam.Role(
    `${name}-cluster-role`,
    { assumeRolePolicy: assumeRole("eks.amazonaws.com") },
    { parent },
  );
  const clusterPolicy = new aws.iam.RolePolicyAttachment(
    `${name}-cluster-policy`,
    {
      role: clusterRole.name,
      policyArn: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    },
    { parent },
  );
  const clusterName = `${args.namePrefix}-eks`;
  // Where EKS writes the control plane's logs: https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
  const logGroup = serviceLogGroup(
    `${name}-cluster-logs`,
    `/aws/eks/${clusterName}/cluster`,
    { retentionDays: args.logRetentionDays, kmsKeyArn: args.kmsKeyArn },
    { parent },
  );
  return new aws.eks.Cluster(
    `${name}-cluster`,
    {
      name: clusterName,
      version: args.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: args.privateSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: args.publicAccessCidrs.length > 0,
        publicAccessCidrs: args.publicAccessCidrs.length > 0 ? args.publicAccessCidrs : undefined,
      },
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: args.kmsKeyArn } },
      enabledClusterLogTypes: CONTROL_PLANE_LOGS,
      // STANDARD: at the end of standard support EKS upgrades the cluster instead of billing extended support.
      upgradePolicy: { supportType: args.extendedSupport ? "EXTENDED" : "STANDARD" },
      // Access entries only (createAccessEntries): who may act on the cluster is in code, not in aws-auth.
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
    },
    // The bootstrap flag only counts at creation, and changing it would replace the cluster.
    {
      parent,
      dependsOn: [clusterPolicy, logGroup],
      ignoreChanges: ["accessConfig.bootstrapClusterCreatorAdminPermissions"],
    },
  );
}

/**
 * The access entries: cluster admin for the identity creating the cluster (what EKS's bootstrap flag
 * would give, but visible and removable) and for the configured admins, read-only in the platform's
 * namespaces for viewers. Returns each principal once its policy is associated.
 */
function createAccessEntries(
  name: string,
  access: ClusterAccessArgs,
  cluster: aws.eks.Cluster,
  parent: pulumi.Resource,
): pulumi.Output<string>[] {
  const grant = (key: string, grant: ClusterAccessGrant, opts: pulumi.CustomResourceOptions = {}) =>
    grantClusterAccess(`${name}-${key}`, cluster.name, grant, { parent, ...opts });
  const granted = [
    ...access.admins.map((principalArn, i) =>
      grant(`admin-${i}`, { principalArn, policy: "AmazonEKSClusterAdminPolicy" }),
    ),
    ...access.viewers.map((principalArn, i) =>
      grant(`viewer-${i}`, { principalArn, policy: "AmazonEKSViewPolicy", namespaces: access.viewerNamespaces }),
    ),
  ];
  if (access.creatorAdmin) {
    // An assumed role's session is no principal for EKS: its role (the session context's issuer) is.
    const caller = aws.getCallerIdentityOutput({}, { parent });
    const creator = aws.iam.getSessionContextOutput({ arn: caller.arn }, { parent }).issuerArn;
    // The first creator keeps it: an update by someone else (CI, a colleague) would otherwise move it.
    granted.push(
      grant(
        "creator",
        { principalArn: creator, policy: "AmazonEKSClusterAdminPolicy" },
        { ignoreChanges: ["principalArn"] },
      ),
    );
  }
  return granted;
}

interface OidcProvider {
  providerArn: pulumi.Output<string>;
  /** Issuer without https://. */
  issuer: pulumi.Output<string>;
}

/** The trust policy of a role only the tokens of service account `subject` may assume. */
function serviceAccountTrust(oidc: OidcProvider, subject: string): pulumi.Output<string> {
  return pulumi
    .all([oidc.providerArn, oidc.issuer])
    .apply(([arn, issuer]) => webIdentityTrustPolicy(arn, issuer, subject));
}

/** The IAM OIDC provider for the cluster's issuer, which IRSA roles trust. */
function createOidcProvider(name: string, cluster: aws.eks.Cluster, parent: pulumi.Resource): OidcProvider {
  const issuerUrl = cluster.identities.apply((identities) => identities[0].oidcs[0].issuer);
  const oidc = new aws.iam.OpenIdConnectProvider(
    `${name}-oidc`,
    { url: issuerUrl, clientIdLists: ["sts.amazonaws.com"] },
    { parent },
  );
  return { providerArn: oidc.arn, issuer: issuerUrl.apply((url) => url.replace(/^https:\/\//, "")) };
}

/** What a node's launch creates. */
const NODE_TAGGED_RESOURCES = ["instance", "volume", "network-interface"];

/**
 * What the node group launches with beyond EKS's defaults: the required tags on the instances, their
 * volumes and network interfaces (tags on the node group stay on the node group), and instance
 * metadata for the node itself only (IMDSv2, one hop: pods use their own IRSA roles, never the node's).
 * https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html
 */
function createNodeLaunchTemplate(name: string, args: EksClusterArgs, parent: pulumi.Resource): aws.ec2.LaunchTemplate {
  const tags = { ...args.resourceTags, Name: `${args.namePrefix}-node` };
  return new aws.ec2.LaunchTemplate(
    `${name}-nodes`,
    {
      description: `${args.namePrefix} EKS nodes`,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      tagSpecifications: NODE_TAGGED_RESOURCES.map((resourceType) => ({ resourceType, tags })),
    },
    { parent },
  );
}

/** The managed node group in the private subnets, created once its role has every node policy and the subnets a way out. */
function createNodeGroup(
  name: string,
  args: EksClusterArgs,
  cluster: aws.eks.Cluster,
  parent: pulumi.Resource,
): aws.eks.NodeGroup {
  const nodeRole = new aws.iam.Role(
    `${name}-node-role`,
    { assumeRolePolicy: assumeRole("ec2.amazonaws.com") },
    { parent },
  );
  const nodePolicies = NODE_POLICIES.map(
    (policy) =>
      new aws.iam.RolePolicyAttachment(
        `${name}-node-${policy}`,
        { role: nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` },
        { parent },
      ),
  );
  const launchTemplate = createNodeLaunchTemplate(name, args, parent);
  return new aws.eks.NodeGroup(
    `${name}-nodes`,
    {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: args.privateSubnetIds,
      // The control plane's version once it is updated: EKS never upgrades managed nodes itself.
      version: cluster.version,
      instanceTypes: args.nodes.instanceTypes,
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      scalingConfig: { minSize: args.nodes.min, desiredSize: args.nodes.desired, maxSize: args.nodes.max },
      updateConfig: { maxUnavailable: 1 },
      amiType: NODE_AMI_TYPE,
    },
    // The Cluster Autoscaler moves the desired size between min and max (AwsPlatform.ts): an update
    // setting it back would remove the nodes it added for pending pods. The min and max stay ours.
    { parent, dependsOn: [...nodePolicies, ...args.privateEgress], ignoreChanges: ["scalingConfig.desiredSize"] },
  );
}

/** The EBS CSI driver's controller role: the managed policy and the platform key's use, as the EKS guide lists. */
function createEbsCsiDriverRole(
  name: string,
  args: EksClusterArgs,
  oidc: OidcProvider,
  parent: pulumi.Resource,
): ServiceAccountRole {
  const role = new aws.iam.Role(
    `${name}-ebs-csi-driver`,
    {
      name: ebsCsiDriverRoleName(args.namePrefix),
      assumeRolePolicy: serviceAccountTrust(oidc, EBS_CSI_SERVICE_ACCOUNT),
      description: "EBS CSI driver controller (IRSA)",
    },
    { parent },
  );
  const managed = new aws.iam.RolePolicyAttachment(
    `${name}-ebs-csi-driver`,
    { role: role.name, policyArn: EBS_CSI_MANAGED_POLICY },
    { parent },
  );
  const key = new aws.iam.RolePolicy(
    `${name}-ebs-csi-driver-key`,
    { role: role.id, policy: pulumi.output(args.kmsKeyArn).apply(ebsCsiKeyPolicy) },
    { parent },
  );
  return { arn: role.arn, permissions: [managed, key] };
}

/**
 * The Cluster Autoscaler's role (clusterAutoscaler.ts): its service account's tokens only, and write
 * actions on this cluster's Auto Scaling groups only. Returns its ARN once it holds its policy.
 */
function createAutoscalerRole(
  name: string,
  namePrefix: string,
  cluster: aws.eks.Cluster,
  oidc: OidcProvider,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const role = new aws.iam.Role(
    `${name}-cluster-autoscaler`,
    {
      // Named from the stack's prefix, as the EBS CSI driver's role: the resource name plus the
      // autonaming suffix would pass IAM's 64 characters for long catalog names.
      name: `${namePrefix}-cluster-autoscaler`,
      assumeRolePolicy: serviceAccountTrust(oidc, CLUSTER_AUTOSCALER_SUBJECT),
      description: "Kubernetes Cluster Autoscaler (IRSA)",
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-cluster-autoscaler`,
    { role: role.id, policy: cluster.name.apply(clusterAutoscalerPolicy) },
    { parent },
  );
  return after(role.arn, policy.id);
}

/** A role an add-on's service account assumes, and the policies it must hold before the add-on starts. */
interface ServiceAccountRole {
  arn: pulumi.Output<string>;
  permissions: pulumi.Resource[];
}

/**
 * The core add-ons, installed once there are nodes to run them, each on the version EKS names as its
 * default for the cluster's Kubernetes version (`describe-addon-versions`, read at preview): a version
 * bump moves them along with the control plane, and nothing else does. The EBS CSI driver runs as its
 * own role.
 */
function createAddons(
  name: string,
  args: EksClusterArgs,
  on: { cluster: aws.eks.Cluster; nodeGroup: aws.eks.NodeGroup; ebsCsiDriver: ServiceAccountRole },
  parent: pulumi.Resource,
): aws.eks.Addon[] {
  const roles: Record<string, ServiceAccountRole> = { [EBS_CSI_ADDON]: on.ebsCsiDriver };
  const configuration = addonConfiguration(args.resourceTags);
  return ADDONS.map(
    (addon) =>
      new aws.eks.Addon(
        `${name}-${addon}`,
        {
          clusterName: on.cluster.name,
          addonName: addon,
          addonVersion: aws.eks.getAddonVersionOutput({ addonName: addon, kubernetesVersion: args.version }, { parent })
            .version,
          serviceAccountRoleArn: roles[addon]?.arn,
          configurationValues: configuration[addon] && JSON.stringify(configuration[addon]),
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
        },
        { parent, dependsOn: [on.nodeGroup, ...(roles[addon]?.permissions ?? [])] },
      ),
  );
}
