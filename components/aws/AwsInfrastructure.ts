import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Service } from "../../services/schema";
import { gatewayPaths, usesBroker } from "../../services/validate";
import { PlatformInputs } from "../platform";
import { Network } from "./Network";
import { ClusterAccessArgs, EksCluster } from "./EksCluster";
import { RdsDatabases } from "./RdsDatabases";
import { ManagedCache } from "./ManagedCache";
import { ManagedBroker } from "./ManagedBroker";
import { BACKUP_TAG, BackupPlan } from "./BackupPlan";
import { WebFrontend } from "./WebFrontend";
import { DocumentDb } from "./DocumentDb";
import { DeployRunner } from "./DeployRunner";
import { GithubActionsRoles } from "./GithubActionsRoles";
import { ManagedStoreAlarms } from "./ManagedStoreAlarms";
import { ManagedStores } from "./storeAlarms";
import { createWorkloadBoundary } from "./workloadBoundary";
import { InfrastructureOutputs, InfrastructureSecrets, needsManagedCache, platformNamespaces } from "./layers";
import { platformKey } from "./platformKey";
import { PROD_ZONES } from "./capacity";
import { AwsTargetSettings, ciRepository, namePrefix, requiredTags, workloadRolePath } from "./settings";
import { taggedProvider } from "./taggedProvider";
import { AUTONAME_SUFFIX, NAME_LIMITS, fitName } from "../naming";
import { after } from "../ordering";

export interface AwsInfrastructureArgs extends PlatformInputs {
  aws: AwsTargetSettings;
}

/**
 * The children are named after the component, and the provider names IAM roles after their logical
 * names: the longest, `{name}-network-flow-logs`, must leave room for its suffix within IAM's limit.
 */
const CHILD_NAME_LENGTH = NAME_LIMITS.iamRole - AUTONAME_SUFFIX.aws - "-network-flow-logs".length;

/** What every phase shares: the component as parent, naming and the settings. */
interface Context {
  name: string;
  parent: pulumi.Resource;
  args: AwsInfrastructureArgs;
  settings: AwsTargetSettings;
  prefix: string;
}

interface Foundation {
  key: aws.kms.Key;
  network: Network;
  cluster: EksCluster;
  /** Where data stores go: the VPC's private subnets, reachable from the EKS nodes only. */
  placement: {
    vpcId: pulumi.Output<string>;
    privateSubnetIds: pulumi.Output<string>[];
    nodeSecurityGroupId: pulumi.Output<string>;
  };
}

/**
 * The prod infrastructure layer: everything that only AWS APIs create, deployable from anywhere
 * with AWS credentials. KMS, VPC, EKS, RDS, DocumentDB, ElastiCache, Amazon MQ and their CloudWatch
 * alarms, ECR, backups, the
 * web front end, the deploy runner from which the platform layer is deployed inside the VPC, and the
 * roles the workflow's GitHub-hosted jobs assume.
 * Its outputs are the typed objects of layers.ts.
 */
export class AwsInfrastructure extends pulumi.ComponentResource {
  readonly outputs: pulumi.Output<InfrastructureOutputs>;
  /** Secret. */
  readonly secrets: pulumi.Output<InfrastructureSecrets>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly frontend?: WebFrontend;
  readonly runner?: DeployRunner;
  readonly ciRoles?: GithubActionsRoles;

  constructor(name: string, args: AwsInfrastructureArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:Infrastructure", name, {}, { ...opts, providers: { aws: taggedProvider(name, args) } });
    const ctx: Context = {
      name: fitName(name, CHILD_NAME_LENGTH),
      parent: this,
      args,
      settings: args.aws,
      prefix: namePrefix(args),
    };
    // Before the cluster: with deployFrom public-endpoint, the CI deploy role deploys the platform layer.
    this.ciRoles = createCiRoles(ctx);
    const foundation = createFoundation(ctx, this.ciRoles);
    const stores = createDataStores(ctx, foundation);
    createStoreAlarms(ctx, foundation, stores);
    const repositories = createRepositories(ctx, foundation);
    this.frontend = createFrontend(ctx);
    // Every role the platform layer makes carries it, whoever deploys that layer.
    const boundary = createWorkloadBoundary(`${ctx.name}-workload-boundary`, workloadRolePath(ctx.prefix), this);
    this.runner = createRunner(ctx, foundation, boundary, repositories);
    this.kubeconfig = foundation.cluster.kubeconfig;
    this.outputs = layerOutputs(ctx, foundation, stores, repositories.urls, boundary, this.frontend, this.runner);
    this.secrets = pulumi.secret(
      pulumi.output({
        postgresAdminPasswords: stores.rds?.adminPasswords ?? {},
        documentDbAdminPassword: stores.documentDb?.adminPassword,
        cacheAuthToken: stores.cache?.authToken,
        brokerAdminPassword: stores.broker?.adminPassword,
      }),
    );
    this.registerOutputs({ outputs: this.outputs, secrets: this.secrets });
  }
}

/**
 * Who may reach the Kubernetes API besides the deploy runner: the configured admins and viewers, the
 * cluster's creator unless turned off, and the CI deploy role where it deploys the platform layer
 * (deployFrom public-endpoint; otherwise it deploys this layer only, which makes no Kubernetes object).
 */
function clusterAccess(ctx: Context, ciRoles: GithubActionsRoles | undefined): ClusterAccessArgs {
  const { access } = ctx.settings.eks;
  const ciDeploys = ciRoles && ctx.settings.deployFrom === "public-endpoint";
  return {
    creatorAdmin: access.creatorAdmin ?? access.admins.length === 0,
    admins: [...access.admins, ...(ciDeploys ? [ciRoles.deployRoleArn] : [])],
    viewers: access.viewers,
    viewerNamespaces: platformNamespaces(ctx.args.catalog.name),
  };
}

/** KMS key, VPC, EKS and backups. */
function createFoundation(ctx: Context, ciRoles: GithubActionsRoles | undefined): Foundation {
  const { name, parent, settings, prefix } = ctx;
  const key = platformKey(
    `${name}-key`,
    { region: settings.region, prefix, protect: settings.protectStatefulResources },
    parent,
  );
  const network = new Network(
    `${name}-network`,
    {
      cidr: settings.vpcCidr,
      zones: PROD_ZONES,
      natGateways: settings.natGateways,
      kmsKeyArn: key.arn,
      logRetentionDays: settings.logRetentionDays,
      namePrefix: prefix,
    },
    { parent },
  );
  const cluster = new EksCluster(
    `${name}-eks`,
    {
      namePrefix: prefix,
      version: settings.eks.version,
      extendedSupport: settings.eks.extendedSupport,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      privateEgress: network.privateEgress,
      publicAccessCidrs: settings.eks.publicAccessCidrs,
      kmsKeyArn: key.arn,
      region: settings.region,
      access: clusterAccess(ctx, ciRoles),
      logRetentionDays: settings.logRetentionDays,
      resourceTags: requiredTags(settings, ctx.args.environment, ctx.args.catalog.name),
      nodes: {
        instanceTypes: settings.eks.nodeInstanceTypes,
        min: settings.eks.minNodes,
        desired: settings.eks.desiredNodes,
        max: settings.eks.maxNodes,
      },
    },
    { parent },
  );
  const backup = settings.backup;
  new BackupPlan(
    `${name}-backup`,
    { namePrefix: prefix, kmsKeyArn: key.arn, schedule: backup.schedule, retentionDays: backup.retentionDays },
    { parent },
  );
  const placement = {
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    nodeSecurityGroupId: cluster.nodeSecurityGroupId,
  };
  return { key, network, cluster, placement };
}

interface DataStores {
  rds?: RdsDatabases;
  documentDb?: DocumentDb;
  cache?: ManagedCache;
  broker?: ManagedBroker;
}

/** What every managed store is given: where it lives, its key, its logs' retention, its protection. */
type StoreCommon = Foundation["placement"] & {
  namePrefix: string;
  kmsKeyArn: pulumi.Output<string>;
  logRetentionDays: number;
  protect: boolean;
};

/** RDS for PostgreSQL, DocumentDB when chosen, ElastiCache and Amazon MQ, each only when a service (or Kong, for ElastiCache) needs it. */
function createDataStores(ctx: Context, foundation: Foundation): DataStores {
  const { name, parent, settings, prefix } = ctx;
  const { services } = ctx.args.catalog;
  const common: StoreCommon = {
    namePrefix: prefix,
    kmsKeyArn: foundation.key.arn,
    logRetentionDays: settings.logRetentionDays,
    protect: settings.protectStatefulResources,
    ...foundation.placement,
  };
  const mongodb = services.some((s) => s.database.kind === "mongodb") && settings.mongodb.mode === "documentdb";
  return {
    rds: createRds(ctx, common),
    documentDb: mongodb
      ? new DocumentDb(
          `${name}-docdb`,
          {
            ...common,
            instanceClass: settings.mongodb.instanceClass,
            instances: settings.mongodb.instances,
            backupRetentionDays: settings.rds.backupRetentionDays,
            backupTags: { [BACKUP_TAG]: prefix },
          },
          { parent },
        )
      : undefined,
    cache: needsManagedCache(ctx.args.catalog)
      ? new ManagedCache(
          `${name}-cache`,
          { ...common, nodeType: settings.cache.nodeType, replicas: settings.cache.replicas },
          { parent },
        )
      : undefined,
    broker:
      services.some(usesBroker) && settings.broker.mode === "amazon-mq"
        ? new ManagedBroker(
            `${name}-mq`,
            {
              ...foundation.placement,
              namePrefix: prefix,
              instanceType: settings.broker.instanceType,
              protect: common.protect,
            },
            { parent },
          )
        : undefined,
  };
}

/** The PostgreSQL services' instances, when the catalog has any. */
function createRds(ctx: Context, common: StoreCommon): RdsDatabases | undefined {
  const { rds } = ctx.settings;
  const postgres = ctx.args.catalog.services.flatMap((s) =>
    s.database.kind === "postgres"
      ? [{ service: s.name, version: s.database.version, extensions: s.database.extensions }]
      : [],
  );
  if (postgres.length === 0) return undefined;
  return new RdsDatabases(
    `${ctx.name}-rds`,
    {
      ...common,
      databases: postgres,
      mode: rds.mode,
      instanceClass: rds.instanceClass,
      allocatedStorageGb: rds.allocatedStorageGb,
      backupRetentionDays: rds.backupRetentionDays,
      allowMajorVersionUpgrade: rds.allowMajorVersionUpgrade,
      applyImmediately: rds.applyImmediately,
      backupTags: { [BACKUP_TAG]: ctx.prefix },
    },
    { parent: ctx.parent },
  );
}

/** The stores' CloudWatch alarms: what watches them on prod, where no Prometheus exporter runs beside them. */
function createStoreAlarms(ctx: Context, foundation: Foundation, stores: DataStores): ManagedStoreAlarms {
  const { settings } = ctx;
  const watched: ManagedStores = {
    rds: stores.rds && {
      instances: Object.entries(stores.rds.identifiers).map(([key, identifier]) => ({ key, identifier })),
      allocatedStorageGb: settings.rds.allocatedStorageGb,
    },
    cache: stores.cache && { replicationGroupId: stores.cache.replicationGroupId, nodes: stores.cache.nodes },
    documentDb: stores.documentDb && {
      clusterIdentifier: stores.documentDb.clusterIdentifier,
      instances: settings.mongodb.instances,
    },
    broker: stores.broker && brokerWatched(ctx, stores.broker),
  };
  return new ManagedStoreAlarms(
    `${ctx.name}-alarms`,
    { namePrefix: ctx.prefix, kmsKeyArn: foundation.key.arn, alerting: ctx.args.alerting, stores: watched },
    { parent: ctx.parent },
  );
}

/** The broker, as its alarms name it. */
function brokerWatched(ctx: Context, broker: ManagedBroker): ManagedStores["broker"] {
  return { name: broker.brokerName, instanceType: ctx.settings.broker.instanceType };
}

interface Repositories {
  /** Per service, its repository's URL. */
  urls: Record<string, pulumi.Output<string>>;
  /** The repositories of the services the platform layer builds and pushes (catalog `build`). */
  pushedArns: pulumi.Output<string>[];
}

/**
 * One immutable, scanned, KMS-encrypted ECR repository per service, which CI pushes to before the
 * platform layer, or the platform layer itself for a service with `build`.
 */
function createRepositories(ctx: Context, foundation: Foundation): Repositories {
  const repository = (service: Service) =>
    new aws.ecr.Repository(
      `${ctx.name}-${service.name}-repo`,
      {
        name: `${ctx.args.catalog.name}/${service.name}`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: foundation.key.arn }],
        tags: { service: service.name },
      },
      { parent: ctx.parent },
    );
  const made = ctx.args.catalog.services.map((service) => ({ service, repository: repository(service) }));
  return {
    urls: Object.fromEntries(made.map(({ service, repository }) => [service.name, repository.repositoryUrl])),
    pushedArns: made.filter(({ service }) => service.build).map(({ repository }) => repository.arn),
  };
}

/** The catalog's web front end; config validation requires gatewayDomain with one. */
function createFrontend(ctx: Context): WebFrontend | undefined {
  const { catalog } = ctx.args;
  if (!catalog.frontend) return undefined;
  const { settings } = ctx;
  return new WebFrontend(
    `${ctx.name}-${catalog.frontend.name}`,
    {
      namePrefix: ctx.prefix,
      gatewayDomain: settings.gatewayDomain!,
      gatewayPaths: gatewayPaths(catalog.services),
      assetsDir: catalog.frontend.assetsDir,
      certificateArn: settings.frontend.certificateArn,
      aliases: settings.frontend.aliases,
      rateLimitPer5Minutes: settings.frontend.rateLimitPer5Minutes,
      priceClass: settings.frontend.priceClass,
    },
    { parent: ctx.parent },
  );
}

/** The runner the platform layer is deployed from, in the private subnets (config validation requires its settings). */
function createRunner(
  ctx: Context,
  foundation: Foundation,
  boundary: aws.iam.Policy,
  repositories: Repositories,
): DeployRunner | undefined {
  const { settings } = ctx;
  if (settings.deployFrom !== "runner" || !settings.runner) return undefined;
  return new DeployRunner(
    `${ctx.name}-runner`,
    {
      namePrefix: ctx.prefix,
      region: settings.region,
      vpcId: foundation.network.vpcId,
      vpcCidr: settings.vpcCidr,
      privateSubnetIds: foundation.network.privateSubnetIds,
      kmsKeyArn: foundation.key.arn,
      clusterName: foundation.cluster.name,
      githubRepository: settings.runner.githubRepository,
      labels: settings.runner.labels,
      instanceType: settings.runner.instanceType,
      workloadRolePath: workloadRolePath(ctx.prefix),
      workloadBoundaryArn: boundary.arn,
      backendPolicyArns: settings.runner.backendPolicyArns,
      pushRepositoryArns: repositories.pushedArns,
      resourceTags: requiredTags(settings, ctx.args.environment, ctx.args.catalog.name),
    },
    { parent: ctx.parent },
  );
}

/** The workflow's AWS roles, when `ci` is set (config validation requires a repository then). */
function createCiRoles(ctx: Context): GithubActionsRoles | undefined {
  const { ci } = ctx.settings;
  if (!ci) return undefined;
  return new GithubActionsRoles(
    `${ctx.name}-github`,
    {
      githubRepository: ciRepository(ctx.settings)!,
      deployEnvironment: ci.deployEnvironment,
      oidcProviderArn: ci.oidcProviderArn,
      previewPolicyArns: ci.previewPolicyArns,
      deployPolicyArns: ci.deployPolicyArns,
    },
    { parent: ctx.parent },
  );
}

function layerOutputs(
  ctx: Context,
  foundation: Foundation,
  stores: DataStores,
  repositories: Record<string, pulumi.Output<string>>,
  boundary: aws.iam.Policy,
  frontend: WebFrontend | undefined,
  runner: DeployRunner | undefined,
): pulumi.Output<InfrastructureOutputs> {
  const { cluster } = foundation;
  const access = pulumi
    .all([cluster.access, runner?.clusterAccess])
    .apply(([granted, runnerRole]) => (runnerRole ? [...granted, runnerRole] : granted));
  return pulumi.output({
    catalog: ctx.args.catalog.name,
    prefix: ctx.prefix,
    modes: { broker: ctx.settings.broker.mode, mongodb: ctx.settings.mongodb.mode },
    region: ctx.settings.region,
    vpcCidr: ctx.settings.vpcCidr,
    publicSubnetIds: foundation.network.publicSubnetIds,
    kmsKeyArn: foundation.key.arn,
    cluster: {
      name: cluster.name,
      // Handed out once every principal with access, the deploy runner included, may act on the cluster.
      endpoint: after(cluster.endpoint, access),
      certificateAuthority: cluster.certificateAuthority,
      oidcProviderArn: cluster.oidcProviderArn,
      oidcIssuer: cluster.oidcIssuer,
      addons: cluster.addonVersions,
      autoscalerRoleArn: cluster.autoscalerRoleArn,
      access,
    },
    repositories,
    workloadBoundaryArn: boundary.arn,
    postgres: stores.rds?.servers ?? {},
    documentDb: stores.documentDb && { host: stores.documentDb.host },
    cache: stores.cache && { host: stores.cache.primaryEndpoint },
    broker: stores.broker && { host: stores.broker.host, managementUrl: stores.broker.managementUrl },
    frontend: frontend && { url: frontend.url, bucket: frontend.bucketName, distributionId: frontend.distributionId },
    runner: runner && { roleArn: runner.roleArn, tokenSecretArn: runner.tokenSecretArn, labels: runner.labels },
  });
}
