import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { Service } from "../../services/schema";
import { GATEWAY_HEALTH_PATH, usesBroker } from "../../services/validate";
import { TopologyPlan, planTopology } from "../messaging/topology";
import { GatewayCredential } from "../gateway/kongConfig";
import { GatewayClients, createGatewayClients } from "../gateway/clients";
import { HealthCheck } from "../healthCheck";
import { ServiceWorkload } from "../kubernetes/ServiceWorkload";
import { ServiceEndpoints, serviceEnvironment } from "../serviceEnvironment";
import { CHARTS, NAMESPACES, OTLP_ENDPOINT_IN_CLUSTER, PlatformCharts } from "../kubernetes/PlatformCharts";
import { clusterAutoscalerValues } from "../kubernetes/chartValues";
import { InClusterBroker, RABBITMQ_QUEUE_DEPTH } from "../kubernetes/InClusterBroker";
import { QueueDepthExporter } from "../kubernetes/QueueDepthExporter";
import { MANAGEMENT_API_QUEUE_DEPTH } from "../kubernetes/queueDepthExporterConfig";
import { QueueDepthSource } from "../observability/alertRules";
import { InClusterDatabase } from "../kubernetes/InClusterDatabase";
import { defaultDenyPolicy } from "../kubernetes/networkPolicies";
import { OTLP_HTTP_PORT, REDIS } from "../engines";
import {
  BrokerEndpoint,
  BrokerUser,
  CacheEndpoint,
  DatabaseEndpoint,
  PlatformInputs,
  TracingEndpoint,
} from "../platform";
import { ManagedDatabaseAccess, rdsTrustBundle } from "./rdsTrust";
import { BACKUP_TAG } from "./BackupPlan";
import { EBS_CSI_ADDON, kubeconfig } from "./EksCluster";
import { RdsAccess } from "./RdsAccess";
import { DocumentDbAccess } from "./DocumentDbAccess";
import { AmazonMqTopology } from "./AmazonMqTopology";
import {
  BOOTSTRAP_NAMESPACE,
  DATA_NAMESPACE,
  InfrastructureOutputs,
  InfrastructureReference,
  InfrastructureSecrets,
  needsManagedCache,
  readInfrastructure,
} from "./layers";
import { AwsTargetSettings, namePrefix, requiredTags, workloadRolePath } from "./settings";
import { taggedProvider } from "./taggedProvider";
import { ecrLogin, workloadImage } from "./serviceImages";
import { CLUSTER_AUTOSCALER_NAMESPACE, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } from "./clusterAutoscaler";

export interface AwsPlatformArgs extends PlatformInputs {
  aws: AwsTargetSettings;
  /** The infrastructure stack's name, for its StackReference. */
  infrastructureStack: string;
}

/** Names, on the StorageClass, the EBS CSI driver's version that provisions it. */
export const EBS_CSI_DRIVER_ANNOTATION = "platform/ebs-csi-driver";
export { BOOTSTRAP_NAMESPACE };
const TRACING: TracingEndpoint = {
  url: OTLP_ENDPOINT_IN_CLUSTER,
  port: OTLP_HTTP_PORT,
  location: { kind: "namespace", namespace: NAMESPACES.tracing },
};

/** What every phase shares: the component as parent, naming, the settings and the infrastructure layer's outputs. */
interface Context {
  name: string;
  parent: pulumi.Resource;
  args: AwsPlatformArgs;
  settings: AwsTargetSettings;
  prefix: string;
  infrastructure: InfrastructureReference;
}

/** The cluster as the platform layer reaches it, and the catalog's namespace. */
interface Cluster {
  provider: k8s.Provider;
  k8s: { parent: pulumi.Resource; provider: k8s.Provider };
  /** The catalog's namespace, default-deny. */
  namespace: k8s.core.v1.Namespace;
  /** The cluster's default StorageClass: every volume of the platform claims from it by name. */
  storageClass: pulumi.Output<string>;
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
 * The prod platform layer, deployed from inside the VPC (the deploy runner): on the cluster the
 * infrastructure layer made, the catalog's namespace, the services' database logins, the broker
 * topology, each service as a hardened workload, and the platform charts (Kong,
 * kube-prometheus-stack, Loki, Promtail, Jaeger). Each phase below declares one part and returns
 * what the next needs.
 */
export class AwsPlatform extends pulumi.ComponentResource {
  readonly gatewayUrl: pulumi.Output<string>;
  /** The gateway's own health route and the front end; services are reachable inside the cluster only. */
  readonly healthChecks: HealthCheck[];
  /** Per service: its public base URL through the gateway, else its address inside the cluster. */
  readonly serviceUrls: Record<string, pulumi.Output<string>> = {};
  /** Per service: every public base URL, the in-cluster URL, and a health check an operator can run. */
  readonly services: Record<string, ServiceEndpointsOutput> = {};
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** The first gateway client's credential (secret), as before clients existed. */
  readonly gatewayCredential: pulumi.Output<GatewayCredential>;
  /** Per gateway client, what it presents on authenticated routes (secret). */
  readonly gatewayClients: pulumi.Output<Record<string, GatewayCredential>>;
  readonly frontendUrl?: pulumi.Output<string>;

  constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // IRSA roles are AWS resources too: tagged like the infrastructure layer's.
    super("platform:aws:Platform", name, {}, { ...opts, providers: { aws: taggedProvider(name, args) } });
    const prefix = namePrefix(args);
    const ctx: Context = {
      name,
      parent: this,
      args,
      settings: args.aws,
      prefix,
      infrastructure: readInfrastructure(
        `${name}-infrastructure`,
        args.infrastructureStack,
        { catalog: args.catalog.name, prefix, modes: { broker: args.aws.broker.mode, mongodb: args.aws.mongodb.mode } },
        this,
      ),
    };
    const cluster = connectCluster(ctx);
    createClusterAutoscaler(ctx, cluster);
    const databases = createDatabases(ctx, cluster);
    const cache = managedCache(ctx);
    const gateway = createGatewayClients(`${ctx.name}-gateway-credential`, args.catalog, args.gateway, this);
    const charts = createCharts(ctx, cluster, gateway, cache);
    // The in-cluster broker's ServiceMonitor needs the monitoring chart's CRDs.
    const stores = createSharedStores(ctx, cluster, cache, charts.monitoringRelease);
    createServices(ctx, cluster, databases, stores, gateway, charts);

    this.gatewayCredential = gateway.first;
    this.gatewayClients = gateway.credentials;
    this.grafanaAdminPassword = charts.grafanaAdminPassword;
    // The certificate names the gateway's domain, not the load balancer's own hostname.
    this.gatewayUrl = pulumi.interpolate`https://${ctx.settings.gatewayDomain ?? charts.gatewayHostname}`;
    this.healthChecks = [{ name: "gateway", url: pulumi.interpolate`${this.gatewayUrl}${GATEWAY_HEALTH_PATH}` }];
    if (args.catalog.frontend) {
      this.frontendUrl = infrastructureOutput(ctx, (o) => o.frontend!.url);
      this.healthChecks.push({ name: args.catalog.frontend.name, url: this.frontendUrl });
    }
    for (const service of args.catalog.services) {
      const endpoints = serviceEndpoints(ctx, service, this.gatewayUrl);
      this.services[service.name] = endpoints;
      this.serviceUrls[service.name] = endpoints.publicUrls[0] ?? pulumi.output(endpoints.internalUrl);
    }
    this.registerOutputs({ gatewayUrl: this.gatewayUrl, services: this.services });
  }
}

export interface ServiceEndpointsOutput {
  /** The gateway's base URL of each of its route paths (none without routes). */
  publicUrls: pulumi.Output<string>[];
  internalUrl: string;
  /**
   * A command that checks its health from an operator's machine: port-forwarding reaches the pods
   * through the API server, which the namespace's default-deny NetworkPolicy does not stop.
   */
  healthCheck: string;
}

function serviceEndpoints(ctx: Context, service: Service, gatewayUrl: pulumi.Output<string>): ServiceEndpointsOutput {
  const namespace = ctx.args.catalog.name;
  const localPort = 18000 + (service.port % 1000);
  return {
    publicUrls: service.routes.flatMap((route) => route.paths.map((path) => pulumi.interpolate`${gatewayUrl}${path}`)),
    internalUrl: internalUrl(ctx, service.name),
    healthCheck:
      `kubectl -n ${namespace} port-forward deploy/${service.name} ${localPort}:${service.port} & ` +
      `sleep 2; curl -fsS http://127.0.0.1:${localPort}${service.health.path}; kill %1`,
  };
}

/** One value of the infrastructure layer's outputs. */
function infrastructureOutput<T>(ctx: Context, pick: (outputs: InfrastructureOutputs) => T): pulumi.Output<T> {
  return ctx.infrastructure.outputs.apply((outputs) => pick(outputs)) as pulumi.Output<T>;
}

/** One of its secrets, kept secret. */
function infrastructureSecret<T>(ctx: Context, pick: (secrets: InfrastructureSecrets) => T): pulumi.Output<T> {
  return pulumi.secret(ctx.infrastructure.secrets.apply((secrets) => pick(secrets))) as pulumi.Output<T>;
}

/** A Kubernetes provider for the infrastructure layer's cluster (reachable from inside the VPC), and the catalog's namespace. */
function connectCluster(ctx: Context): Cluster {
  const config = infrastructureOutput(ctx, (o) =>
    kubeconfig(o.cluster.name, o.cluster.endpoint, o.cluster.certificateAuthority, o.region),
  );
  const provider = new k8s.Provider(
    `${ctx.name}-k8s`,
    { kubeconfig: pulumi.secret(config), enableServerSideApply: true },
    { parent: ctx.parent },
  );
  const k8sOpts = { parent: ctx.parent, provider };
  const catalog = ctx.args.catalog.name;
  const namespace = new k8s.core.v1.Namespace(
    `${ctx.name}-ns`,
    { metadata: { name: catalog, labels: { "platform/catalog": catalog } } },
    k8sOpts,
  );
  defaultDenyPolicy(`${ctx.name}-default-deny`, namespace.metadata.name, k8sOpts);
  const storageClass = encryptedStorageClass(ctx, k8sOpts).metadata.name;
  return { provider, k8s: k8sOpts, namespace, storageClass };
}

/**
 * The Cluster Autoscaler, as the role the infrastructure layer made for it: it adds nodes to the
 * managed node group while pods are pending, up to the group's max, and removes idle ones down to its min.
 */
function createClusterAutoscaler(ctx: Context, cluster: Cluster): k8s.helm.v3.Release {
  const { chart, version, repo } = CHARTS.clusterAutoscaler;
  return new k8s.helm.v3.Release(
    `${ctx.name}-cluster-autoscaler`,
    {
      name: chart,
      chart,
      version,
      repositoryOpts: { repo },
      namespace: CLUSTER_AUTOSCALER_NAMESPACE,
      values: clusterAutoscalerValues({
        clusterName: infrastructureOutput(ctx, (o) => o.cluster.name),
        region: infrastructureOutput(ctx, (o) => o.region),
        roleArn: infrastructureOutput(ctx, (o) => o.cluster.autoscalerRoleArn),
        serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
      }),
      atomic: true,
      timeout: 900,
    },
    cluster.k8s,
  );
}

/** Each service's database: its login on RDS or DocumentDB, or its own server on EKS. */
function createDatabases(ctx: Context, cluster: Cluster): Databases {
  // One for RDS and DocumentDB (its namespace and CA bundles included), made when the first of them asks for it.
  let shared: ManagedDatabaseAccess | undefined;
  const access = () => (shared ??= managedDatabaseAccess(ctx, cluster));
  const rds = createRdsAccess(ctx, access);
  const documentDb = createDocumentDbAccess(ctx, access);
  const inCluster = createInClusterDatabases(ctx, cluster, documentDb !== undefined);
  const endpoints = new Map<string, DatabaseEndpoint>([
    ...Object.entries(rds?.endpoints ?? {}),
    ...Object.entries(documentDb?.endpoints ?? {}),
    ...[...inCluster].map(([service, db]): [string, DatabaseEndpoint] => [service, db.endpoint]),
  ]);
  return { endpoints, waitFor: [rds, documentDb].filter((d) => d !== undefined) };
}

/**
 * Where the login Jobs of RDS and DocumentDB run: their own namespace, default-deny, whose Secrets
 * hold the master passwords; the services' namespace gets the CA bundle and nothing of the admin's.
 */
function managedDatabaseAccess(ctx: Context, cluster: Cluster): ManagedDatabaseAccess {
  const jobs = new k8s.core.v1.Namespace(
    `${ctx.name}-bootstrap-ns`,
    { metadata: { name: BOOTSTRAP_NAMESPACE, labels: { "platform/purpose": "database-bootstrap" } } },
    cluster.k8s,
  );
  defaultDenyPolicy(`${ctx.name}-bootstrap-default-deny`, jobs.metadata.name, cluster.k8s);
  const bundle = (name: string, namespace: pulumi.Input<string>) =>
    rdsTrustBundle(name, { namespace, pem: ctx.settings.rdsCaBundle }, cluster.k8s);
  return {
    kubernetes: { provider: cluster.provider, namespace: jobs.metadata.name },
    vpcCidr: infrastructureOutput(ctx, (o) => o.vpcCidr),
    jobTrustBundle: bundle(`${ctx.name}-bootstrap-rds-ca`, jobs.metadata.name),
    trustBundle: bundle(`${ctx.name}-rds-ca`, cluster.namespace.metadata.name),
  };
}

function createRdsAccess(ctx: Context, access: () => ManagedDatabaseAccess): RdsAccess | undefined {
  const postgres = ctx.args.catalog.services.flatMap((s) =>
    s.database.kind === "postgres" ? [{ service: s.name, extensions: s.database.extensions }] : [],
  );
  if (postgres.length === 0) return undefined;
  return new RdsAccess(
    `${ctx.name}-rds`,
    {
      databases: postgres.map((db) => ({
        ...db,
        host: infrastructureOutput(ctx, (o) => o.postgres[db.service].host),
        adminPassword: pulumi
          .all([ctx.infrastructure.outputs, ctx.infrastructure.secrets])
          .apply(([o, s]) => s.postgresAdminPasswords[o.postgres[db.service].instance]),
      })),
      bootstrap: ctx.settings.rds.bootstrap,
      ...access(),
    },
    { parent: ctx.parent },
  );
}

function createDocumentDbAccess(ctx: Context, access: () => ManagedDatabaseAccess): DocumentDbAccess | undefined {
  const mongodb = ctx.args.catalog.services.filter((s) => s.database.kind === "mongodb");
  if (ctx.settings.mongodb.mode !== "documentdb" || mongodb.length === 0) return undefined;
  return new DocumentDbAccess(
    `${ctx.name}-docdb`,
    {
      services: mongodb.map((s) => s.name),
      host: infrastructureOutput(ctx, (o) => o.documentDb!.host),
      adminPassword: infrastructureSecret(ctx, (s) => s.documentDbAdminPassword!),
      ...access(),
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
  cluster: Cluster,
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
  const protect = ctx.settings.protectStatefulResources;
  // Deleting a namespace deletes the claims in it; protect cannot stop a catalog change from dropping it.
  const dataNamespace = new k8s.core.v1.Namespace(
    `${ctx.name}-data-ns`,
    { metadata: { name: DATA_NAMESPACE } },
    { ...cluster.k8s, retainOnDelete: protect },
  );
  // Each database's own policy opens what its members and its service need.
  defaultDenyPolicy(`${ctx.name}-data-default-deny`, dataNamespace.metadata.name, cluster.k8s);
  for (const db of services) {
    const database = new InClusterDatabase(
      `${ctx.name}-${db.service}-db`,
      {
        service: db.service,
        engine: db.kind,
        version: db.version,
        namespace: DATA_NAMESPACE,
        clientNamespace: ctx.args.catalog.name,
        storageClass: cluster.storageClass,
        storageGb: ctx.settings.inClusterDatabases.storageGb,
        protect,
        provider: cluster.provider,
      },
      { parent: ctx.parent, dependsOn: [dataNamespace] },
    );
    databases.set(db.service, database);
  }
  return databases;
}

/**
 * Encrypted gp3 volumes with the platform's key, marked default: EKS (1.30 on) has no default
 * StorageClass, so a claim that names none would stay Pending. The platform's own claims name it, so
 * every volume waits for it, and it for the EBS CSI driver add-on being active (its version, which the
 * infrastructure layer exports only then).
 */
function encryptedStorageClass(
  ctx: Context,
  opts: { parent: pulumi.Resource; provider: k8s.Provider },
): k8s.storage.v1.StorageClass {
  return new k8s.storage.v1.StorageClass(
    `${ctx.name}-encrypted-gp3`,
    {
      metadata: {
        name: "gp3-encrypted",
        annotations: {
          "storageclass.kubernetes.io/is-default-class": "true",
          [EBS_CSI_DRIVER_ANNOTATION]: infrastructureOutput(ctx, (o) => o.cluster.addons[EBS_CSI_ADDON]),
        },
      },
      provisioner: "ebs.csi.aws.com",
      // The EBS CSI driver tags each volume: AWS Backup selects them by that tag (the required tags
      // come from the driver add-on's configuration, changeable in place, unlike these parameters).
      parameters: {
        type: "gp3",
        encrypted: "true",
        kmsKeyId: infrastructureOutput(ctx, (o) => o.kmsKeyArn),
        tagSpecification_1: `${BACKUP_TAG}=${ctx.prefix}`,
      },
      // Deleting a claim must not delete a database's data.
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    },
    { ...opts, protect: ctx.settings.protectStatefulResources },
  );
}

/** The cache's endpoint from the infrastructure layer (services with `cache: true` and Kong use it). */
function managedCache(ctx: Context): CacheEndpoint | undefined {
  return needsManagedCache(ctx.args.catalog)
    ? {
        host: infrastructureOutput(ctx, (o) => o.cache!.host),
        port: REDIS.port,
        tls: true,
        password: infrastructureSecret(ctx, (s) => s.cacheAuthToken!),
        location: { kind: "vpc" },
      }
    : undefined;
}

/** The cache, and the broker's topology, on Amazon MQ or in the cluster. */
function createSharedStores(
  ctx: Context,
  cluster: Cluster,
  cache: CacheEndpoint | undefined,
  monitoringRelease: pulumi.Resource,
): SharedStores {
  const { catalog } = ctx.args;
  if (!catalog.services.some(usesBroker)) return { cache };
  const plan = planTopology(catalog);
  const broker =
    ctx.settings.broker.mode === "amazon-mq"
      ? amazonMq(ctx, cluster, plan, monitoringRelease)
      : new InClusterBroker(
          `${ctx.name}-mq`,
          {
            plan,
            storageClass: cluster.storageClass,
            monitoringRelease,
            protect: ctx.settings.protectStatefulResources,
            provider: cluster.provider,
          },
          { parent: ctx.parent },
        );
  return { cache, broker: { endpoint: broker.endpoint, credentials: broker.credentials } };
}

/** Where Prometheus reads the broker's queue depths (the DLQ alert), by where the broker runs. */
const BROKER_QUEUE_DEPTH: Record<AwsTargetSettings["broker"]["mode"], QueueDepthSource> = {
  "in-cluster": RABBITMQ_QUEUE_DEPTH,
  "amazon-mq": MANAGEMENT_API_QUEUE_DEPTH,
};

/**
 * The topology on Amazon MQ, and the exporter that reads its queue depths from the management API:
 * Amazon MQ publishes none for RabbitMQ 4 brokers.
 */
function amazonMq(
  ctx: Context,
  cluster: Cluster,
  plan: TopologyPlan,
  monitoringRelease: pulumi.Resource,
): AmazonMqTopology {
  const topology = new AmazonMqTopology(
    `${ctx.name}-mq`,
    {
      plan,
      host: infrastructureOutput(ctx, (o) => o.broker!.host),
      managementUrl: infrastructureOutput(ctx, (o) => o.broker!.managementUrl),
      adminPassword: infrastructureSecret(ctx, (s) => s.brokerAdminPassword!),
    },
    { parent: ctx.parent },
  );
  new QueueDepthExporter(
    `${ctx.name}-mq-queues`,
    {
      ...topology.queueMonitor,
      vpcCidr: infrastructureOutput(ctx, (o) => o.vpcCidr),
      monitoringRelease,
      provider: cluster.provider,
    },
    { parent: ctx.parent },
  );
  return topology;
}

/** Per service: a hardened workload wired to its endpoints, scraped through its PodMonitor. */
function createServices(
  ctx: Context,
  cluster: Cluster,
  databases: Databases,
  stores: SharedStores,
  gateway: GatewayClients,
  charts: PlatformCharts,
): void {
  const login = ctx.args.catalog.services.some((s) => s.build) ? ecrLogin(ctx.parent) : undefined;
  for (const service of ctx.args.catalog.services) {
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
    const image = workloadImage(
      `${ctx.name}-${service.name}-image`,
      service,
      ctx.args.images[service.name] ?? service.image,
      infrastructureOutput(ctx, (o) => o.repositories[service.name]),
      login,
      ctx.parent,
    );
    createWorkload(ctx, cluster, service, { image, env, secretEnv, endpoints }, databases.waitFor, charts);
  }
}

/** A catalog service's URL inside the cluster, through its Service. */
function internalUrl(ctx: Context, serviceName: string): string {
  const { catalog } = ctx.args;
  const service = catalog.services.find((s) => s.name === serviceName)!;
  return `http://${service.name}.${catalog.name}.svc.cluster.local:${service.port}`;
}

function createWorkload(
  ctx: Context,
  cluster: Cluster,
  service: Service,
  wiring: {
    image: pulumi.Output<string>;
    env: Record<string, pulumi.Input<string>>;
    secretEnv: Record<string, pulumi.Input<string>>;
    endpoints: ServiceEndpoints;
  },
  waitFor: pulumi.Resource[],
  charts: PlatformCharts,
): ServiceWorkload {
  const { catalog } = ctx.args;
  return new ServiceWorkload(
    `${ctx.name}-${service.name}`,
    {
      service,
      namespace: cluster.namespace.metadata.name,
      image: wiring.image,
      env: wiring.env,
      secretEnv: wiring.secretEnv,
      callers: catalog.services.filter((s) => s.dependsOn.includes(service.name)).map((s) => s.name),
      gatewayNamespace: NAMESPACES.gateway,
      monitoringNamespace: NAMESPACES.monitoring,
      monitoringRelease: charts.monitoringRelease,
      endpoints: wiring.endpoints,
      vpcCidr: infrastructureOutput(ctx, (o) => o.vpcCidr),
      irsa: {
        oidcProviderArn: infrastructureOutput(ctx, (o) => o.cluster.oidcProviderArn),
        oidcIssuer: infrastructureOutput(ctx, (o) => o.cluster.oidcIssuer),
        rolePath: workloadRolePath(ctx.prefix),
        permissionsBoundary: infrastructureOutput(ctx, (o) => o.workloadBoundaryArn),
      },
      provider: cluster.provider,
    },
    { parent: ctx.parent, dependsOn: waitFor },
  );
}

function createCharts(
  ctx: Context,
  cluster: Cluster,
  gateway: GatewayClients,
  cache: CacheEndpoint | undefined,
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
      gatewayClients: gateway.clients,
      gatewayCache: cache,
      corsOrigins: args.gateway.corsOrigins,
      // Config validation requires it on this layer.
      certificateArn: ctx.settings.gatewayCertificateArn!,
      gatewaySubnets: infrastructureOutput(ctx, (o) => o.publicSubnetIds),
      // The cloud controller creates the load balancer outside any provider's default tags.
      gatewayTags: requiredTags(ctx.settings, ctx.args.environment, ctx.args.catalog.name),
      scrapeInterval: args.observability.scrapeInterval,
      thresholds: {
        errorRate: args.observability.errorRateThreshold,
        latencyP95Seconds: args.observability.latencyP95Seconds,
      },
      alerting: args.alerting,
      brokerMetrics: args.catalog.services.some(usesBroker) ? BROKER_QUEUE_DEPTH[ctx.settings.broker.mode] : undefined,
      grafanaAdminPassword,
      logs: args.observability.logs,
      storageClass: cluster.storageClass,
      tracing: args.observability.tracing,
      provider: cluster.provider,
    },
    { parent: ctx.parent, dependsOn: [cluster.namespace] },
  );
  return Object.assign(charts, { grafanaAdminPassword });
}
