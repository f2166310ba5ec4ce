import { DockerPlatform } from "../components/docker/DockerPlatform";
import { PlatformInputs } from "../components/platform";
import { PlatformConfig } from "./config";
import type { StackOutputs } from "./program";

/** The dev stack: the catalog on the local Docker engine, and the URLs to reach it. */
export function dockerStack(config: PlatformConfig & { target: "docker" }, inputs: PlatformInputs): StackOutputs {
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
    alertmanagerUrl: platform.urls.alertmanager,
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
}
