import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform } from "../components/aws/AwsPlatform";
import { DockerPlatform } from "../components/docker/DockerPlatform";
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
  services?: Record<string, { url: string; internalUrl: string; healthUrl: string }>;
  /** What `npm run health -- <stack>` probes. */
  healthChecks: HealthCheck[];
  gatewayUrl?: pulumi.Input<string>;
  /** The web front end: through the gateway in dev, CloudFront in prod. */
  frontendUrl?: pulumi.Input<string>;
  /** Prod: where the app's pipeline uploads its build, and the distribution to invalidate after. */
  frontendBucket?: pulumi.Output<string>;
  frontendDistributionId?: pulumi.Output<string>;
  gatewayAdminUrl?: string;
  rabbitmqManagementUrl?: string;
  grafanaUrl: string;
  prometheusUrl?: string;
  jaegerUrl?: string;
  /** Kibana with the ELK option, Grafana's Explore with Loki. */
  logsUrl?: string;
  clusterName?: pulumi.Output<string>;
  kubeconfig?: pulumi.Output<string>;
  imageRepositories?: Record<string, pulumi.Output<string>>;
  grafanaAdminPassword: pulumi.Output<string>;
  /** Developer tools (dev, opt-in). */
  adminerUrl?: string;
  redisCommanderUrl?: string;
  redisCommanderPassword?: pulumi.Output<string>;
  gatewayCredential?: pulumi.Output<GatewayCredential>;
  connectionStrings?: pulumi.Output<Record<string, { database?: string; broker?: string }>>;
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
      connectionStrings: platform.connectionStrings,
    };
  },
  aws: (config: PlatformConfig & { target: "aws" }, inputs: PlatformInputs): StackOutputs => {
    const platform = new AwsPlatform(config.catalog.name, { ...inputs, aws: config.aws });
    return {
      target: config.target,
      catalog: config.catalog.name,
      serviceUrls: platform.serviceUrls,
      gatewayUrl: platform.gatewayUrl,
      frontendUrl: platform.frontend?.url,
      frontendBucket: platform.frontend?.bucketName,
      frontendDistributionId: platform.frontend?.distributionId,
      healthChecks: platform.healthChecks,
      // Grafana stays inside the cluster: reach it with kubectl port-forward.
      grafanaUrl: "http://127.0.0.1:3000 after: kubectl -n monitoring port-forward svc/kps-grafana 3000:80",
      grafanaAdminPassword: platform.grafanaAdminPassword,
      gatewayCredential: platform.gatewayCredential,
      clusterName: platform.clusterName,
      kubeconfig: platform.kubeconfig,
      imageRepositories: platform.repositories,
    };
  },
};

/**
 * The whole program: read and validate the stack config and catalog (throwing before any
 * resource exists), then declare the selected target.
 */
export function runProgram(projectDir: string = process.cwd()): StackOutputs {
  skipPromiseStackTraces();
  const stack = pulumi.getStack();
  // Raw values: the engine hands the program decrypted config; secrets are re-wrapped below.
  const { config, warnings } = readPlatformConfig((key) => pulumi.runtime.getConfig(key), stack, projectDir);
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
