import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { Service } from "../../services/schema";
import { GATEWAY_HEALTH_PATH, gatewayPaths } from "../../services/validate";
import { planTopology } from "../messaging/topology";
import { GatewayCredential } from "../gateway/kongConfig";
import { HealthCheck } from "../healthCheck";
import { ScrapeJob } from "../observability/prometheusConfig";
import { ServiceWorkload } from "../kubernetes/ServiceWorkload";
import { ServiceEndpoints, serviceEnvironment } from "../serviceEnvironment";
import { NAMESPACES, OTLP_ENDPOINT_IN_CLUSTER, PlatformCharts } from "../kubernetes/PlatformCharts";
import { InClusterBroker } from "../kubernetes/InClusterBroker";
import { InClusterDatabase } from "../kubernetes/InClusterDatabase";
import { defaultDenyPolicy } from "../kubernetes/networkPolicies";
import { MONGO_TOOLS_IMAGE, OTLP_HTTP_PORT, POSTGRES_TOOLS_IMAGE } from "../engines";
import {
  BrokerEndpoint,
  BrokerUser,
  CacheEndpoint,
  DatabaseEndpoint,
  PlatformInputs,
  TracingEndpoint,
} from "../platform";
import { Network } from "./Network";
import { EksCluster } from "./EksCluster";
import { RdsDatabases } from "./RdsDatabases";
import { ManagedCache } from "./ManagedCache";
import { ManagedBroker } from "./ManagedBroker";
import { BACKUP_TAG, BackupPlan } from "./BackupPlan";
import { WebFrontend } from "./WebFrontend";
import { DocumentDb } from "./DocumentDb";
import { AwsTargetSettings, requiredTags } from "./settings";

export interface AwsPlatformArgs extends PlatformInputs {
  aws: AwsTargetSettings;
}

/** Namespace of the databases that run on EKS (MongoDB, ClickHouse). */
const DATA_NAMESPACE = "data";
const TRACING: TracingEndpoint = {
  url: OTLP_ENDPOINT_IN_CLUSTER,
  port: OTLP_HTTP_PORT,
  location: { kind: "namespace", namespace: NAMESPACES.tracing },
};

/** What every phase shares: the component as parent, naming and the settings. */
interface Context {
  name: string;
  parent: pulumi.Resource;
  args: AwsPlatformArgs;
  settings: AwsTargetSettings;
  prefix: string;
}

/** The account-level base every other phase builds on. */
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
  k8s: { parent: pulumi.Resource; provider: k8s.Provider };
  /** The catalog's namespace, default-deny. */
  namespace: k8s.core.v1.Namespace;
}

/** Per service, what its database is, and the components its workload waits for. */
interface Databases {
  endpoints: Map<string, DatabaseEndpoint>;
  waitFor: pulumi.Resource[];
}

interface SharedStores {
  cache?: CacheEndpoint;
  broker?: { endpoint: BrokerEndpoint; credentials: Record<string, BrokerUser> };
}

/**
 * The prod environment on AWS: VPC, EKS, RDS, ElastiCache and Amazon MQ for the catalog, ECR
 * repositories, each service as a hardened workload, and the platform charts (Kong,
 * kube-prometheus-stack, Loki, Promtail, Jaeger). Each phase below declares one part and returns
 * what the next needs.
 */
export class AwsPlatform extends pulumi.ComponentResource {
  readonly gatewayUrl: pulumi.Output<string>;
  /** The gateway's own health route; services and tools are reachable inside the cluster only. */
  readonly healthChecks: HealthCheck[];
  readonly serviceUrls: Record<string, pulumi.Output<string>> = {};
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
  readonly gatewayCredential: pulumi.Output<GatewayCredential>;
  readonly repositories: Record<string, pulumi.Output<string>>;
  /** The catalog's web front end on CloudFront, when it has one. */
  readonly frontend?: WebFrontend;

  constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const provider = new aws.Provider(`${name}-aws`, {
      region: args.aws.region as aws.Region,
      defaultTags: { tags: requiredTags(args.aws, args.environment, args.catalog.name) },
    });
    super("platform:aws:Platform", name, {}, { ...opts, providers: { aws: provider } });
    const ctx: Context = {
      name,
      parent: this,
      args,
      settings: args.aws,
      prefix: `${args.catalog.name}-${args.stack}`.slice(0, 28).replace(/-+$/, ""),
    };
    const foundation = createFoundation(ctx);
    const databases = createDatabases(ctx, foundation);
    const stores = createSharedStores(ctx, foundation);
    const gateway = createGatewayCredential(ctx);
    const services = createServices(ctx, foundation, databases, stores, gateway);
    const charts = createCharts(ctx, foundation, services.scrapeJobs, gateway);

    this.clusterName = foundation.cluster.name;
    this.kubeconfig = foundation.cluster.kubeconfig;
    this.repositories = services.repositories;
    this.gatewayCredential = gateway.credential;
    this.grafanaAdminPassword = charts.grafanaAdminPassword;
    // The certificate names the gateway's domain, not the load balancer's own hostname.
    this.gatewayUrl = pulumi.interpolate`https://${ctx.settings.gatewayDomain ?? charts.gatewayHostname}`;
    this.healthChecks = [{ name: "gateway", url: pulumi.interpolate`${this.gatewayUrl}${GATEWAY_HEALTH_PATH}` }];
    this.frontend = createFrontend(ctx);
    if (this.frontend) this.healthChecks.push({ name: args.catalog.frontend!.name, url: this.frontend.url });
    for (const service of args.catalog.services) {
      if (service.routes.length > 0) {
        this.serviceUrls[service.name] = pulumi.interpolate`${this.gatewayUrl}${service.routes[0].paths[0]}`;
      }
    }
    this.registerOutputs({
      gatewayUrl: this.gatewayUrl,
      clusterName: this.clusterName,
      frontendUrl: this.frontend?.url,
    });
  }
}

/** KMS key, VPC, EKS, backups and the catalog's namespace. */
function createFoundation(ctx: Context): Foundation {
  const { name, parent, settings, prefix } = ctx;
  const key = platformKey(`${name}-key`, settings.region, prefix, parent);
  const network = new Network(
    `${name}-network`,
    { cidr: settings.vpcCidr, zones: 3, natGateways: settings.natGateways, kmsKeyArn: key.arn, namePrefix: prefix },
    { parent },
  );
  const cluster = new EksCluster(
    `${name}-eks`,
    {
      namePrefix: prefix,
      version: settings.eks.version,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      publicAccessCidrs: settings.eks.publicAccessCidrs,
      kmsKeyArn: key.arn,
      region: settings.region,
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
  const k8sOpts = { parent, provider: cluster.provider };
  const catalog = ctx.args.catalog.name;
  const namespace = new k8s.core.v1.Namespace(
    `${name}-ns`,
    { metadata: { name: catalog, labels: { "platform/catalog": catalog } } },
    k8sOpts,
  );
  defaultDenyPolicy(`${name}-default-deny`, namespace.metadata.name, k8sOpts);
  const placement = {
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    nodeSecurityGroupId: cluster.nodeSecurityGroupId,
  };
  return { key, network, cluster, placement, k8s: k8sOpts, namespace };
}

/** Each service's database: RDS for PostgreSQL, DocumentDB or EKS for MongoDB, EKS for ClickHouse. */
function createDatabases(ctx: Context, foundation: Foundation): Databases {
  const rds = createRds(ctx, foundation);
  const documentDb = createDocumentDb(ctx, foundation);
  const inCluster = createInClusterDatabases(ctx, foundation, documentDb !== undefined);
  const endpoints = new Map<string, DatabaseEndpoint>([
    ...Object.entries(rds?.endpoints ?? {}),
    ...Object.entries(documentDb?.endpoints ?? {}),
    ...[...inCluster].map(([service, db]): [string, DatabaseEndpoint] => [service, db.endpoint]),
  ]);
  return { endpoints, waitFor: [rds, documentDb].filter((d) => d !== undefined) };
}

function createRds(ctx: Context, foundation: Foundation): RdsDatabases | undefined {
  const { settings } = ctx;
  const postgres = ctx.args.catalog.services.flatMap((s) =>
    s.database.kind === "postgres" ? [{ service: s.name, ...s.database }] : [],
  );
  if (postgres.length === 0) return undefined;
  return new RdsDatabases(
    `${ctx.name}-rds`,
    {
      namePrefix: ctx.prefix,
      databases: postgres.map((db) => ({ service: db.service, version: db.version, extensions: db.extensions })),
      mode: settings.rds.mode,
      instanceClass: settings.rds.instanceClass,
      allocatedStorageGb: settings.rds.allocatedStorageGb,
      backupRetentionDays: settings.rds.backupRetentionDays,
      bootstrap: settings.rds.bootstrap,
      kmsKeyArn: foundation.key.arn,
      ...foundation.placement,
      kubernetes: { provider: foundation.cluster.provider, namespace: foundation.namespace.metadata.name },
      vpcCidr: settings.vpcCidr,
      postgresClientImage: POSTGRES_TOOLS_IMAGE,
      backupTags: { [BACKUP_TAG]: ctx.prefix },
    },
    { parent: ctx.parent },
  );
}

function createDocumentDb(ctx: Context, foundation: Foundation): DocumentDb | undefined {
  const { settings } = ctx;
  const mongodb = ctx.args.catalog.services.filter((s) => s.database.kind === "mongodb");
  if (settings.mongodb.mode !== "documentdb" || mongodb.length === 0) return undefined;
  return new DocumentDb(
    `${ctx.name}-docdb`,
    {
      namePrefix: ctx.prefix,
      services: mongodb.map((s) => s.name),
      instanceClass: settings.mongodb.instanceClass,
      instances: settings.mongodb.instances,
      backupRetentionDays: settings.rds.backupRetentionDays,
      kmsKeyArn: foundation.key.arn,
      ...foundation.placement,
      kubernetes: { provider: foundation.cluster.provider, namespace: foundation.namespace.metadata.name },
      vpcCidr: settings.vpcCidr,
      // Config validation read and checked the bundle.
      caBundle: settings.documentDbCaBundle!,
      mongoClientImage: MONGO_TOOLS_IMAGE,
      backupTags: { [BACKUP_TAG]: ctx.prefix },
    },
    { parent: ctx.parent },
  );
}

/**
 * Every database that no managed AWS store holds (PostgreSQL is on RDS, MongoDB on DocumentDB when
 * chosen): one StatefulSet per service as in dev, on encrypted gp3 volumes.
 */
function createInClusterDatabases(
  ctx: Context,
  foundation: Foundation,
  mongoOnDocumentDb: boolean,
): Map<string, InClusterDatabase> {
  const databases = new Map<string, InClusterDatabase>();
  const services = ctx.args.catalog.services.flatMap((s) => {
    const { database } = s;
    if (database.kind === "none" || database.kind === "postgres") return [];
    if (database.kind === "mongodb" && mongoOnDocumentDb) return [];
    return [{ service: s.name, ...database }];
  });
  if (services.length === 0) return databases;
  const dataNamespace = new k8s.core.v1.Namespace(
    `${ctx.name}-data-ns`,
    { metadata: { name: DATA_NAMESPACE } },
    foundation.k8s,
  );
  // Each database's own policy opens what its members and its service need.
  defaultDenyPolicy(`${ctx.name}-data-default-deny`, dataNamespace.metadata.name, foundation.k8s);
  const storageClass = encryptedStorageClass(ctx, foundation);
  for (const db of services) {
    const database = new InClusterDatabase(
      `${ctx.name}-${db.service}-db`,
      {
        service: db.service,
        engine: db.kind,
        version: db.version,
        namespace: DATA_NAMESPACE,
        clientNamespace: ctx.args.catalog.name,
        storageClass: storageClass.metadata.name,
        storageGb: ctx.settings.inClusterDatabases.storageGb,
        provider: foundation.cluster.provider,
      },
      { parent: ctx.parent, dependsOn: [dataNamespace] },
    );
    databases.set(db.service, database);
  }
  return databases;
}

function encryptedStorageClass(ctx: Context, foundation: Foundation): k8s.storage.v1.StorageClass {
  return new k8s.storage.v1.StorageClass(
    `${ctx.name}-encrypted-gp3`,
    {
      metadata: { name: "gp3-encrypted" },
      provisioner: "ebs.csi.aws.com",
      // The EBS CSI driver tags each volume: AWS Backup selects them by that tag.
      parameters: {
        type: "gp3",
        encrypted: "true",
        kmsKeyId: foundation.key.arn,
        tagSpecification_1: `${BACKUP_TAG}=${ctx.prefix}`,
      },
      // Deleting a claim must not delete a database's data.
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    },
    foundation.k8s,
  );
}

/** ElastiCache when a service uses the cache; Amazon MQ (or RabbitMQ on EKS) when one uses events. */
function createSharedStores(ctx: Context, foundation: Foundation): SharedStores {
  const { name, parent, settings, prefix } = ctx;
  const cache = ctx.args.catalog.services.some((s) => s.cache)
    ? new ManagedCache(
        `${name}-cache`,
        {
          namePrefix: prefix,
          nodeType: settings.cache.nodeType,
          replicas: settings.cache.replicas,
          kmsKeyArn: foundation.key.arn,
          ...foundation.placement,
        },
        { parent },
      )
    : undefined;
  const plan = planTopology(ctx.args.catalog);
  const instanceType = settings.broker.instanceType;
  const broker =
    plan.users.length === 0
      ? undefined
      : settings.broker.mode === "amazon-mq"
        ? new ManagedBroker(
            `${name}-mq`,
            { namePrefix: prefix, instanceType, plan, ...foundation.placement },
            { parent },
          )
        : new InClusterBroker(`${name}-mq`, { plan, provider: foundation.cluster.provider }, { parent });
  return {
    cache: cache?.endpoint,
    broker: broker && { endpoint: broker.endpoint, credentials: broker.credentials },
  };
}

interface Gateway {
  credential: pulumi.Output<GatewayCredential>;
  /** What token-issuing services get with jwt auth. */
  issuerSecretEnv?: Record<string, pulumi.Input<string>>;
}

function createGatewayCredential(ctx: Context): Gateway {
  const secret = new random.RandomPassword(
    `${ctx.name}-gateway-credential`,
    { length: 48, special: false },
    { parent: ctx.parent },
  ).result;
  const issuer = `${ctx.args.catalog.name}-issuer`;
  const jwt = ctx.args.gateway.auth === "jwt";
  return {
    credential: pulumi.secret(
      secret.apply((value): GatewayCredential =>
        jwt ? { kind: "jwt", issuer, secret: value } : { kind: "key-auth", key: value },
      ),
    ),
    issuerSecretEnv: jwt ? { GATEWAY_JWT_ISSUER: issuer, GATEWAY_JWT_SECRET: secret } : undefined,
  };
}

interface DeployedServices {
  repositories: Record<string, pulumi.Output<string>>;
  scrapeJobs: ScrapeJob[];
}

/** Per service: an ECR repository and a hardened workload wired to its endpoints. */
function createServices(
  ctx: Context,
  foundation: Foundation,
  databases: Databases,
  stores: SharedStores,
  gateway: Gateway,
): DeployedServices {
  const { catalog } = ctx.args;
  const result: DeployedServices = { repositories: {}, scrapeJobs: [] };
  for (const service of catalog.services) {
    const repository = imageRepository(ctx, foundation, service);
    result.repositories[service.name] = repository.repositoryUrl;
    const brokerUser = stores.broker?.credentials[service.name];
    const endpoints: ServiceEndpoints = {
      tracing: TRACING,
      database: databases.endpoints.get(service.name),
      broker: brokerUser && { endpoint: stores.broker!.endpoint, user: brokerUser },
      cache: stores.cache,
    };
    const { env, secretEnv } = serviceEnvironment(service, {
      environment: ctx.args.environment,
      endpoints,
      dependencyUrl: (dependency) => internalUrl(ctx, dependency),
      tokenIssuer: gateway.issuerSecretEnv,
      configSecrets: ctx.args.configSecrets,
      secretOwner: { name: ctx.name, parent: ctx.parent },
    });
    createWorkload(ctx, foundation, service, repository, { env, secretEnv, endpoints }, databases.waitFor);
    result.scrapeJobs.push({
      job: service.name,
      metricsPath: service.health.metricsPath,
      groups: [{ targets: [internalAddress(ctx, service.name, true)], labels: { service: service.name } }],
    });
  }
  return result;
}

function imageRepository(ctx: Context, foundation: Foundation, service: Service): aws.ecr.Repository {
  return new aws.ecr.Repository(
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
}

/** `host:port` of a catalog service inside the cluster: its service port, or its metrics port. */
function internalAddress(ctx: Context, serviceName: string, metrics = false): string {
  const { catalog } = ctx.args;
  const service = catalog.services.find((s) => s.name === serviceName)!;
  const port = metrics ? (service.health.metricsPort ?? service.port) : service.port;
  return `${service.name}.${catalog.name}.svc.cluster.local:${port}`;
}

function internalUrl(ctx: Context, serviceName: string): string {
  return `http://${internalAddress(ctx, serviceName)}`;
}

function createWorkload(
  ctx: Context,
  foundation: Foundation,
  service: Service,
  repository: aws.ecr.Repository,
  wiring: {
    env: Record<string, pulumi.Input<string>>;
    secretEnv: Record<string, pulumi.Input<string>>;
    endpoints: ServiceEndpoints;
  },
  waitFor: pulumi.Resource[],
): ServiceWorkload {
  const { catalog } = ctx.args;
  // The catalog's tag or digest, on the stack's own repository.
  const reference = (ctx.args.images[service.name] ?? service.image).match(/(:[^:/@]+|@sha256:[a-f0-9]{64})$/)![0];
  return new ServiceWorkload(
    `${ctx.name}-${service.name}`,
    {
      service,
      namespace: foundation.namespace.metadata.name,
      image: pulumi.interpolate`${repository.repositoryUrl}${reference}`,
      env: wiring.env,
      secretEnv: wiring.secretEnv,
      callers: catalog.services.filter((s) => s.dependsOn.includes(service.name)).map((s) => s.name),
      gatewayNamespace: NAMESPACES.gateway,
      monitoringNamespace: NAMESPACES.monitoring,
      endpoints: wiring.endpoints,
      vpcCidr: ctx.settings.vpcCidr,
      irsa: { oidcProviderArn: foundation.cluster.oidcProviderArn, oidcIssuer: foundation.cluster.oidcIssuer },
      provider: foundation.cluster.provider,
    },
    { parent: ctx.parent, dependsOn: waitFor },
  );
}

function createCharts(
  ctx: Context,
  foundation: Foundation,
  scrapeJobs: ScrapeJob[],
  gateway: Gateway,
): PlatformCharts & { grafanaAdminPassword: pulumi.Output<string> } {
  const { args } = ctx;
  const grafanaAdminPassword = new random.RandomPassword(
    `${ctx.name}-grafana-admin`,
    { length: 32, special: false },
    { parent: ctx.parent },
  ).result;
  const charts = new PlatformCharts(
    `${ctx.name}-charts`,
    {
      catalog: args.catalog,
      appNamespace: args.catalog.name,
      gatewayCredential: gateway.credential,
      corsOrigins: args.gateway.corsOrigins,
      certificateArn: ctx.settings.gatewayCertificateArn,
      scrapeJobs,
      scrapeInterval: args.observability.scrapeInterval,
      thresholds: {
        errorRate: args.observability.errorRateThreshold,
        latencyP95Seconds: args.observability.latencyP95Seconds,
      },
      grafanaAdminPassword,
      logs: args.observability.logs,
      provider: foundation.cluster.provider,
    },
    { parent: ctx.parent, dependsOn: [foundation.namespace] },
  );
  return Object.assign(charts, { grafanaAdminPassword });
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

/** Customer-managed key with yearly rotation; CloudWatch Logs may use it for the flow logs. */
function platformKey(name: string, region: string, prefix: string, parent: pulumi.Resource): aws.kms.Key {
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
          ],
        }),
      ),
    },
    { parent },
  );
  new aws.kms.Alias(name, { name: `alias/${prefix}-platform`, targetKeyId: key.keyId }, { parent });
  return key;
}
