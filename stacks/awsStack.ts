import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform } from "../components/aws/AwsPlatform";
import { AwsInfrastructure } from "../components/aws/AwsInfrastructure";
import { INFRASTRUCTURE_OUTPUT, INFRASTRUCTURE_SECRETS_OUTPUT } from "../components/aws/layers";
import { PlatformInputs } from "../components/platform";
import { PlatformConfig } from "./config";
import type { StackOutputs } from "./program";

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

/** A prod stack: the layer its `platform:aws.layer` names. */
export function awsStack(config: PlatformConfig & { target: "aws" }, inputs: PlatformInputs): StackOutputs {
  return config.aws.layer === "infrastructure" ? awsInfrastructure(config, inputs) : awsPlatform(config, inputs);
}
