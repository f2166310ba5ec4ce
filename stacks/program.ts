import * as pulumi from "@pulumi/pulumi";
// Types only: each target's modules load when the stack selects that target (declareTarget).
import type { ServiceEndpointsOutput } from "../components/aws/AwsPlatform";
import type { InfrastructureOutputs, InfrastructureSecrets } from "../components/aws/layers";
import type { GatewayCredential } from "../components/gateway/kongConfig";
import type { ConfigSecrets, PlatformInputs } from "../components/platform";
import type { HealthCheck } from "../components/healthCheck";
import type { PlatformContainer } from "../components/docker/DockerPlatform";
import { PlatformConfig, readPlatformConfig } from "./config";
import { skipPromiseStackTraces } from "./promiseTraces";
import { alertReceivers } from "../components/observability/alertingSettings";

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
  /** Dev: Alertmanager's UI (where alerts go without a receiver). */
  alertmanagerUrl?: string;
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

/**
 * The selected target's stack. Its modules are required here, not imported above, so that the
 * prod program never loads the Docker components and the dev program neither the AWS nor the
 * Kubernetes ones, nor their SDKs (bench/RESULTS.md).
 */
function declareTarget(config: PlatformConfig, inputs: PlatformInputs): StackOutputs {
  if (config.target === "docker") {
    return (require("./dockerStack") as typeof import("./dockerStack")).dockerStack(config, inputs);
  }
  return (require("./awsStack") as typeof import("./awsStack")).awsStack(config, inputs);
}

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
    alerting: alertReceivers(config.alerting),
    configSecrets,
  };
  return declareTarget(config, inputs);
}
