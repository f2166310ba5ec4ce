import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { AwsSettings, PlatformConfig } from "../../stacks/config";
import { Service } from "../../services/schema";
import { planTopology } from "../messaging/topology";
import { GatewayCredential } from "../gateway/kongConfig";
import { GATEWAY_HEALTH_PATH, gatewayPaths } from "../../services/validate";
import { HealthCheck } from "../healthCheck";
import { ScrapeJob } from "../observability/prometheusConfig";
import { ServiceWorkload } from "../kubernetes/ServiceWorkload";
import { ConfigSecrets, serviceEnvironment } from "../serviceEnvironment";
import { NAMESPACES, OTLP_ENDPOINT_IN_CLUSTER, PlatformCharts } from "../kubernetes/PlatformCharts";
import { Network } from "./Network";
import { EksCluster } from "./EksCluster";
import { RdsDatabases } from "./RdsDatabases";
import { ManagedCache } from "./ManagedCache";
import { ManagedBroker } from "./ManagedBroker";
import { BACKUP_TAG, BackupPlan } from "./BackupPlan";
import { InClusterBroker, MESSAGING_NAMESPACE } from "../kubernetes/InClusterBroker";
import { InClusterDatabase } from "../kubernetes/InClusterDatabase";
import { defaultDenyPolicy } from "../kubernetes/networkPolicies";
import { WebFrontend } from "./WebFrontend";
import { DOCUMENTDB_CA_DIR, DOCUMENTDB_PORT, DocumentDb } from "./DocumentDb";

export interface AwsPlatformArgs {
  config: PlatformConfig & { aws: AwsSettings };
  configSecrets: ConfigSecrets;
}

/** Ports of the managed data stores the pods may reach in the VPC. */
const DATA_PORTS = [5432, 6379, 5671];
/** Namespace of the databases that run on EKS (MongoDB, ClickHouse). */
const DATA_NAMESPACE = "data";
const POSTGRES_CLIENT_IMAGE = "postgres:16.4-alpine";
const MONGO_CLIENT_IMAGE = "mongo:7.0.14";

/** Tags every AWS resource carries (through the provider's default tags). */
export function requiredTags(config: PlatformConfig & { aws: AwsSettings }): Record<string, string> {
  return {
    environment: config.environment,
    owner: config.aws.owner,
    "cost-center": config.aws.costCenter,
    catalog: config.catalog.name,
    "managed-by": "pulumi",
  };
}

/**
 * The prod environment on AWS: VPC, EKS, RDS, ElastiCache and Amazon MQ for the catalog, ECR
 * repositories, each service as a hardened workload, and the platform charts (Kong,
 * kube-prometheus-stack, Loki, Promtail, Jaeger).
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
  readonly repositories: Record<string, pulumi.Output<string>> = {};
  /** The catalog's web front end on CloudFront, when it has one. */
  readonly frontend?: WebFrontend;

  constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const { config } = args;
    const settings = config.aws;
    const provider = new aws.Provider(`${name}-aws`, {
      region: settings.region as aws.Region,
      defaultTags: { tags: requiredTags(config) },
    });
    super("platform:aws:Platform", name, {}, { ...opts, providers: { aws: provider } });
    const child = { parent: this };
    const { catalog } = config;
    const prefix = `${catalog.name}-${config.stack}`.slice(0, 28).replace(/-+$/, "");

    const key = platformKey(`${name}-key`, settings.region, prefix, this);
    const network = new Network(
      `${name}-network`,
      { cidr: settings.vpcCidr, zones: 3, natGateways: settings.natGateways, kmsKeyArn: key.arn, namePrefix: prefix },
      child,
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
      child,
    );
    this.clusterName = cluster.name;
    this.kubeconfig = cluster.kubeconfig;
    const k8sOpts = { parent: this, provider: cluster.provider };
    const stores = {
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      nodeSecurityGroupId: cluster.nodeSecurityGroupId,
    };
    new BackupPlan(
      `${name}-backup`,
      {
        namePrefix: prefix,
        kmsKeyArn: key.arn,
        schedule: settings.backup.schedule,
        retentionDays: settings.backup.retentionDays,
      },
      child,
    );

    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: catalog.name, labels: { "platform/catalog": catalog.name } } },
      k8sOpts,
    );
    defaultDenyPolicy(`${name}-default-deny`, namespace.metadata.name, k8sOpts);

    const postgres = catalog.services.filter((s) => s.database.kind === "postgres");
    const databases =
      postgres.length > 0
        ? new RdsDatabases(
            `${name}-rds`,
            {
              namePrefix: prefix,
              databases: postgres.map((s) => ({
                service: s.name,
                version: s.database.kind === "postgres" ? s.database.version : "16",
                extensions: s.database.kind === "postgres" ? s.database.extensions : [],
              })),
              mode: settings.rds.mode,
              instanceClass: settings.rds.instanceClass,
              allocatedStorageGb: settings.rds.allocatedStorageGb,
              backupRetentionDays: settings.rds.backupRetentionDays,
              bootstrap: settings.rds.bootstrap,
              kmsKeyArn: key.arn,
              ...stores,
              kubernetes: { provider: cluster.provider, namespace: namespace.metadata.name },
              vpcCidr: settings.vpcCidr,
              postgresClientImage: POSTGRES_CLIENT_IMAGE,
              backupTags: { [BACKUP_TAG]: prefix },
            },
            child,
          )
        : undefined;
    const mongodb = catalog.services.filter((s) => s.database.kind === "mongodb");
    const documentDb =
      settings.mongodb.mode === "documentdb" && mongodb.length > 0
        ? new DocumentDb(
            `${name}-docdb`,
            {
              namePrefix: prefix,
              services: mongodb.map((s) => s.name),
              instanceClass: settings.mongodb.instanceClass,
              instances: settings.mongodb.instances,
              backupRetentionDays: settings.rds.backupRetentionDays,
              kmsKeyArn: key.arn,
              ...stores,
              kubernetes: { provider: cluster.provider, namespace: namespace.metadata.name },
              vpcCidr: settings.vpcCidr,
              // Config validation checked the file and made its path absolute.
              caBundle: fs.readFileSync(settings.mongodb.caBundleFile!, "utf8"),
              mongoClientImage: MONGO_CLIENT_IMAGE,
              backupTags: { [BACKUP_TAG]: prefix },
            },
            child,
          )
        : undefined;
    // ClickHouse, and MongoDB unless on DocumentDB, run on EKS: one StatefulSet per service as in dev, on encrypted gp3 volumes.
    const inClusterServices = catalog.services.filter(
      (s) => s.database.kind === "clickhouse" || (s.database.kind === "mongodb" && !documentDb),
    );
    const inClusterDatabases = new Map<string, InClusterDatabase>();
    if (inClusterServices.length > 0) {
      const dataNamespace = new k8s.core.v1.Namespace(
        `${name}-data-ns`,
        { metadata: { name: DATA_NAMESPACE } },
        k8sOpts,
      );
      // Each database's own policy opens what its members and its service need.
      defaultDenyPolicy(`${name}-data-default-deny`, dataNamespace.metadata.name, k8sOpts);
      const storageClass = new k8s.storage.v1.StorageClass(
        `${name}-encrypted-gp3`,
        {
          metadata: { name: "gp3-encrypted" },
          provisioner: "ebs.csi.aws.com",
          // The EBS CSI driver tags each volume: AWS Backup selects them by that tag.
          parameters: {
            type: "gp3",
            encrypted: "true",
            kmsKeyId: key.arn,
            tagSpecification_1: `${BACKUP_TAG}=${prefix}`,
          },
          // Deleting a claim must not delete a database's data.
          reclaimPolicy: "Retain",
          volumeBindingMode: "WaitForFirstConsumer",
          allowVolumeExpansion: true,
        },
        k8sOpts,
      );
      for (const service of inClusterServices) {
        const database = service.database as { kind: "mongodb" | "clickhouse"; version: string };
        inClusterDatabases.set(
          service.name,
          new InClusterDatabase(
            `${name}-${service.name}-db`,
            {
              service: service.name,
              engine: database.kind,
              version: database.version,
              namespace: DATA_NAMESPACE,
              clientNamespace: catalog.name,
              storageClass: storageClass.metadata.name,
              storageGb: settings.inClusterDatabases.storageGb,
              provider: cluster.provider,
            },
            { parent: this, dependsOn: [dataNamespace] },
          ),
        );
      }
    }

    const cache = catalog.services.some((s) => s.cache)
      ? new ManagedCache(
          `${name}-cache`,
          {
            namePrefix: prefix,
            nodeType: settings.cache.nodeType,
            replicas: settings.cache.replicas,
            kmsKeyArn: key.arn,
            ...stores,
          },
          child,
        )
      : undefined;
    const plan = planTopology(catalog);
    const broker =
      plan.users.length === 0
        ? undefined
        : settings.broker.mode === "amazon-mq"
          ? new ManagedBroker(
              `${name}-mq`,
              { namePrefix: prefix, instanceType: settings.broker.instanceType, plan, ...stores },
              child,
            )
          : new InClusterBroker(`${name}-mq`, { plan, provider: cluster.provider }, child);
    const peerNamespaces: Array<{ namespace: string; port: number }> = [{ namespace: NAMESPACES.tracing, port: 4318 }];
    if (broker instanceof InClusterBroker) peerNamespaces.push({ namespace: MESSAGING_NAMESPACE, port: 5672 });

    const credentialSecret = new random.RandomPassword(
      `${name}-gateway-credential`,
      { length: 48, special: false },
      child,
    ).result;
    const issuer = `${catalog.name}-issuer`;
    this.gatewayCredential = pulumi.secret(
      credentialSecret.apply((value): GatewayCredential =>
        config.gateway.auth === "jwt" ? { kind: "jwt", issuer, secret: value } : { kind: "key-auth", key: value },
      ),
    );
    this.grafanaAdminPassword = new random.RandomPassword(
      `${name}-grafana-admin`,
      { length: 32, special: false },
      child,
    ).result;

    const callers = (service: Service) =>
      catalog.services.filter((s) => s.dependsOn.includes(service.name)).map((s) => s.name);
    const scrapeJobs: ScrapeJob[] = [];
    for (const service of catalog.services) {
      const repository = new aws.ecr.Repository(
        `${name}-${service.name}-repo`,
        {
          name: `${catalog.name}/${service.name}`,
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
          tags: { service: service.name },
        },
        child,
      );
      this.repositories[service.name] = repository.repositoryUrl;
      const reference = (config.images[service.name] ?? service.image).match(/(:[^:/@]+|@sha256:[a-f0-9]{64})$/)![0];

      const inCluster = inClusterDatabases.get(service.name);
      const onDocumentDb = documentDb?.connections[service.name];
      const database =
        databases?.connections[service.name] ??
        onDocumentDb ??
        (inCluster && {
          host: pulumi.output(inCluster.hosts[0]),
          port: inCluster.port,
          database: inCluster.database,
          username: inCluster.username,
          password: inCluster.password,
          url: inCluster.url,
        });
      const brokerUser = broker?.credentials[service.name];
      const { env, secretEnv } = serviceEnvironment(service, {
        environment: config.environment,
        otlpEndpoint: OTLP_ENDPOINT_IN_CLUSTER,
        dependencyUrl: (dependency) =>
          `http://${dependency}.${catalog.name}.svc.cluster.local:${catalog.services.find((s) => s.name === dependency)!.port}`,
        database: database && {
          host: database.host,
          port: database.port,
          name: database.database,
          username: database.username,
          password: database.password,
          url: database.url,
        },
        broker: broker &&
          brokerUser && { vhost: broker.vhost, user: brokerUser, scheme: broker.scheme, address: broker.address },
        cache: cache?.clientEnv(),
        tokenIssuer:
          config.gateway.auth === "jwt"
            ? { GATEWAY_JWT_ISSUER: issuer, GATEWAY_JWT_SECRET: credentialSecret }
            : undefined,
        secretValue: (secret) =>
          secret.source === "random"
            ? new random.RandomPassword(
                `${name}-${service.name}-${secret.name}`,
                { length: secret.length, special: false },
                child,
              ).result
            : args.configSecrets.services[service.name][secret.name],
        sentryDsn: args.configSecrets.sentryDsn,
      });

      new ServiceWorkload(
        `${name}-${service.name}`,
        {
          service,
          namespace: namespace.metadata.name,
          image: pulumi.interpolate`${repository.repositoryUrl}${reference}`,
          env,
          secretEnv,
          callers: callers(service),
          gatewayNamespace: NAMESPACES.gateway,
          monitoringNamespace: NAMESPACES.monitoring,
          peerNamespaces: inCluster
            ? [...peerNamespaces, { namespace: DATA_NAMESPACE, port: inCluster.port }]
            : peerNamespaces,
          vpcCidr: settings.vpcCidr,
          dataPorts: onDocumentDb ? [...DATA_PORTS, DOCUMENTDB_PORT] : DATA_PORTS,
          trustBundle:
            documentDb && onDocumentDb
              ? { configMap: documentDb.caConfigMap, mountPath: DOCUMENTDB_CA_DIR }
              : undefined,
          irsa: { oidcProviderArn: cluster.oidcProviderArn, oidcIssuer: cluster.oidcIssuer },
          provider: cluster.provider,
        },
        { parent: this, dependsOn: [databases, documentDb].filter((d) => d !== undefined) },
      );
      scrapeJobs.push({
        job: service.name,
        metricsPath: service.health.metricsPath,
        groups: [
          {
            targets: [
              `${service.name}.${catalog.name}.svc.cluster.local:${service.health.metricsPort ?? service.port}`,
            ],
            labels: { service: service.name },
          },
        ],
      });
    }

    const charts = new PlatformCharts(
      `${name}-charts`,
      {
        catalog,
        appNamespace: catalog.name,
        gatewayCredential: this.gatewayCredential,
        corsOrigins: config.gateway.corsOrigins,
        certificateArn: settings.gatewayCertificateArn,
        scrapeJobs,
        scrapeInterval: config.observability.scrapeInterval,
        thresholds: {
          errorRate: config.observability.errorRateThreshold,
          latencyP95Seconds: config.observability.latencyP95Seconds,
        },
        grafanaAdminPassword: this.grafanaAdminPassword,
        logs: config.observability.logs,
        provider: cluster.provider,
      },
      { parent: this, dependsOn: [namespace] },
    );
    // The certificate names the gateway's domain, not the load balancer's own hostname.
    this.gatewayUrl = pulumi.interpolate`https://${settings.gatewayDomain ?? charts.gatewayHostname}`;
    this.healthChecks = [{ name: "gateway", url: pulumi.interpolate`${this.gatewayUrl}${GATEWAY_HEALTH_PATH}` }];
    if (catalog.frontend) {
      // Config validation requires gatewayDomain with a front end.
      this.frontend = new WebFrontend(
        `${name}-${catalog.frontend.name}`,
        {
          namePrefix: prefix,
          gatewayDomain: settings.gatewayDomain!,
          gatewayPaths: gatewayPaths(catalog.services),
          assetsDir: catalog.frontend.assetsDir,
          certificateArn: settings.frontend.certificateArn,
          aliases: settings.frontend.aliases,
          rateLimitPer5Minutes: settings.frontend.rateLimitPer5Minutes,
          priceClass: settings.frontend.priceClass,
        },
        child,
      );
      this.healthChecks.push({ name: catalog.frontend.name, url: this.frontend.url });
    }
    for (const service of catalog.services) {
      if (service.routes.length > 0)
        this.serviceUrls[service.name] = pulumi.interpolate`${this.gatewayUrl}${service.routes[0].paths[0]}`;
    }
    this.registerOutputs({
      gatewayUrl: this.gatewayUrl,
      clusterName: this.clusterName,
      frontendUrl: this.frontend?.url,
    });
  }
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
