import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform, ServiceEndpointsOutput } from "../components/aws/AwsPlatform";
import { AwsInfrastructure } from "../components/aws/AwsInfrastructure";
import {
  INFRASTRUCTURE_OUTPUT,
  INFRASTRUCTURE_SECRETS_OUTPUT,
  InfrastructureOutputs,
  InfrastructureSecrets,
} from "../components/aws/layers";
import { DockerPlatform, PlatformContainer } from "../components/docker/DockerPlatform";
import { GatewayCredential } from "../components/gateway/kongConfig";
import { ConfigSecrets, PlatformInputs } from "../components/platform";
import { HealthCheck } from "../components/healthCheck";
import { PlatformConfig, readPlatformConfig } from "./config";
import { skipPromiseStackTraces } from "./promiseTraces";

/** What `pulumi stack output` shows for every target. */
export interface StackOutputs {
  target: string;
  catalog: string;
  serviceUrls: Record<string, pulumi.Input<string>>;
  /** Dev: loopback and internal URLs; prod: public base URLs, in-cluster URL and an operator's health check. */
  services?:
    Record<string, { url: string; internalUrl: string; healthUrl: string }> | Record<string, ServiceEndpointsOutput>;
  /** What `npm run health -- <stack>` probes. */
  healthChecks: HealthCheck[];
  /** Dev: every container by its Docker name, one-shot ones marked, whose state `npm run health` reads from Docker. */
  containers?: PlatformContainer[];
  gatewayUrl?: pulumi.Input<string>;
  /** The web front end: through the gateway in dev, CloudFront in prod. */
  frontendUrl?: pulumi.Input<string>;
  /** Prod: where the app's pipeline uploads its build, and the distribution to invalidate after. */
  frontendBucket?: pulumi.Output<string>;
  frontendDistributionId?: pulumi.Output<string>;
  gatewayAdminUrl?: string;
  rabbitmqManagementUrl?: string;
  grafanaUrl?: string;
  prometheusUrl?: string;
  jaegerUrl?: string;
  /** Kibana with the ELK option, Grafana's Explore with Loki. */
  logsUrl?: string;
  clusterName?: pulumi.Output<string>;
  kubeconfig?: pulumi.Output<string>;
  imageRepositories?: Record<string, pulumi.Output<string>>;
  grafanaAdminPassword?: pulumi.Output<string>;
  /** Prod: which of the two stacks this is, and what the infrastructure layer hands the platform layer. */
  layer?: "infrastructure" | "platform";
  infrastructure?: pulumi.Output<InfrastructureOutputs>;
  infrastructureSecrets?: pulumi.Output<InfrastructureSecrets>;
  /** Prod infrastructure: the runner the platform layer is deployed from, and the secret its GitHub token goes in. */
  deployRunner?: { roleArn: pulumi.Output<string>; tokenSecretArn: pulumi.Output<string>; labels: string[] };
  /** Prod infrastructure: the roles the workflow assumes (its variables AWS_PREVIEW_ROLE_ARN and AWS_DEPLOY_ROLE_ARN). */
  ciRoles?: {
    previewRoleArn: pulumi.Output<string>;
    deployRoleArn: pulumi.Output<string>;
    oidcProviderArn: pulumi.Output<string>;
  };
  /** Developer tools (dev, opt-in). */
  adminerUrl?: string;
  redisCommanderUrl?: string;
  redisCommanderPassword?: pulumi.Output<string>;
  /** The first gateway client's credential, as before clients existed (secret). */
  gatewayCredential?: pulumi.Output<GatewayCredential>;
  /** Per gateway client (`platform:gateway.clients`), its credential (secret). */
  gatewayClients?: pulumi.Output<Record<string, GatewayCredential>>;
  connectionStrings?: pulumi.Output<Record<string, { database?: string; broker?: string }>>;
}

/** The prod infrastructure layer: AWS resources only, deployable from anywhere with AWS credentials. */
function awsInfrastructure(config: PlatformConfig & { target: "aws" }, inputs: PlatformInputs): StackOutputs {
  const infrastructure = new AwsInfrastructure(config.catalog.name, { ...inputs, aws: config.aws });
  return {
    target: config.target,
    layer: "infrastructure",
    catalog: config.catalog.name,
    serviceUrls: {},
    healthChecks: infrastructure.frontend
      ? [{ name: config.catalog.frontend!.name, url: infrastructure.frontend.url }]
      : [],
    frontendUrl: infrastructure.frontend?.url,
    frontendBucket: infrastructure.frontend?.bucketName,
    frontendDistributionId: infrastructure.frontend?.distributionId,
    clusterName: infrastructure.outputs.cluster.name,
    kubeconfig: infrastructure.kubeconfig,
    imageRepositories: infrastructure.outputs.repositories,
    deployRunner: infrastructure.runner && {
      roleArn: infrastructure.runner.roleArn,
      tokenSecretArn: infrastructure.runner.tokenSecretArn,
      labels: infrastructure.runner.labels,
    },
    ciRoles: infrastructure.ciRoles && {
      previewRoleArn: infrastructure.ciRoles.previewRoleArn,
      deployRoleArn: infrastructure.ciRoles.deployRoleArn,
      oidcProviderArn: infrastructure.ciRoles.oidcProviderArn,
    },
    [INFRASTRUCTURE_OUTPUT]: infrastructure.outputs,
    [INFRASTRUCTURE_SECRETS_OUTPUT]: infrastructure.secrets,
  };
}

/** The prod platform layer: the cluster's workloads, from the deploy runner inside the VPC. */
function awsPlatform(config: PlatformConfig & { target: "aws" }, inputs: PlatformInputs): StackOutputs {
  const infrastructureStack =
    config.aws.infrastructureStack ?? `${pulumi.getOrganization()}/${pulumi.getProject()}/${config.stack}-infra`;
  const platform = new AwsPlatform(config.catalog.name, { ...inputs, aws: config.aws, infrastructureStack });
  return {
    target: config.target,
    layer: "platform",
    catalog: config.catalog.name,
    serviceUrls: platform.serviceUrls,
    services: platform.services,
    gatewayUrl: platform.gatewayUrl,
    frontendUrl: platform.frontendUrl,
    healthChecks: platform.healthChecks,
    // Grafana stays inside the cluster: reach it with kubectl port-forward.
    grafanaUrl: "http://127.0.0.1:3000 after: kubectl -n monitoring port-forward svc/kps-grafana 3000:80",
    grafanaAdminPassword: platform.grafanaAdminPassword,
    gatewayCredential: platform.gatewayCredential,
    gatewayClients: platform.gatewayClients,
  };
}

/** One entry per deploy target; the stack's `platform:target` picks it. */
const TARGETS = {
  docker: (config: PlatformConfig & { target: "docker" }, inputs: PlatformInputs): StackOutputs => {
    const platform = new DockerPlatform(config.catalog.name, { ...inputs, docker: config.docker });
    return {
      target: config.target,
      catalog: config.catalog.name,
      serviceUrls: Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s.url])),
      services: platform.services,
      frontendUrl: platform.frontendUrl,
      healthChecks: platform.healthChecks,
      containers: platform.containers,
      gatewayUrl: platform.urls.gateway,
      gatewayAdminUrl: platform.urls.gatewayAdmin,
      rabbitmqManagementUrl: platform.urls.rabbitmqManagement,
      grafanaUrl: platform.urls.grafana,
      prometheusUrl: platform.urls.prometheus,
      jaegerUrl: platform.urls.jaeger,
      logsUrl: platform.urls.logs,
      grafanaAdminPassword: platform.grafanaAdminPassword,
      adminerUrl: platform.urls.adminer,
      redisCommanderUrl: platform.urls.redisCommander,
      redisCommanderPassword: platform.redisCommanderPassword,
      gatewayCredential: platform.gatewayCredential,
      gatewayClients: platform.gatewayClients,
      connectionStrings: platform.connectionStrings,
    };
  },
  aws: (config: PlatformConfig & { target: "aws" }, inputs: PlatformInputs): StackOutputs =>
    config.aws.layer === "infrastructure" ? awsInfrastructure(config, inputs) : awsPlatform(config, inputs),
};

/**
 * The whole program: read and validate the stack config and catalog (throwing before any
 * resource exists), then declare the selected target.
 */
export function runProgram(projectDir: string = process.cwd()): StackOutputs {
  skipPromiseStackTraces();
  const stack = pulumi.getStack();
  // Raw values: the engine hands the program decrypted config; secrets are re-wrapped below.
  const { config, warnings } = readPlatformConfig(
    (key) => pulumi.runtime.getConfig(key),
    stack,
    projectDir,
    Object.keys(pulumi.runtime.allConfig()),
  );
  for (const warning of warnings) pulumi.log.warn(`${warning.path}: ${warning.message}`);

  const configSecrets: ConfigSecrets = {
    services: Object.fromEntries(
      Object.entries(config.serviceSecrets).map(([service, values]) => [
        service,
        Object.fromEntries(Object.entries(values).map(([key, value]) => [key, pulumi.secret(value)])),
      ]),
    ),
    sentryDsn: config.sentryDsn === undefined ? undefined : pulumi.secret(config.sentryDsn),
  };
  const inputs: PlatformInputs = {
    stack: config.stack,
    environment: config.environment,
    catalog: config.catalog,
    images: config.images,
    gateway: config.gateway,
    observability: config.observability,
    configSecrets,
  };
  return config.target === "docker" ? TARGETS.docker(config, inputs) : TARGETS.aws(config, inputs);
}
