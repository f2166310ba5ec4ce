import * as pulumi from "@pulumi/pulumi";
import { Service, ServiceSecret } from "../services/schema";
import { dependencyUrlEnv } from "../services/validate";
import { BrokerCredentials } from "./messaging/BrokerTopology";
import { connectionUrl } from "./data/databasePlan";

/** Values from `pulumi config set --secret`, already wrapped as Pulumi secrets. */
export interface ConfigSecrets {
  /** The catalog's `source: config` secrets: service -> NAME -> value. */
  services: Record<string, Record<string, pulumi.Output<string>>>;
  /** Sentry DSN every service reports errors to, when set. */
  sentryDsn?: pulumi.Output<string>;
}

/** What a target provides a service with; each absent piece simply adds no variables. */
export interface ServiceConnections {
  environment: string;
  otlpEndpoint: string;
  /** Address of a service this one calls. */
  dependencyUrl(dependency: string): pulumi.Input<string>;
  database?: {
    host: pulumi.Input<string>;
    port: number;
    name: pulumi.Input<string>;
    username: pulumi.Input<string>;
    password: pulumi.Output<string>;
    url: pulumi.Output<string>;
  };
  broker?: { vhost: string; user: BrokerCredentials; scheme: string; address: pulumi.Input<string> };
  cache?: { env: Record<string, string>; secretEnv: Record<string, pulumi.Output<string>> };
  /** JWT issuer and secret for services with public routes (jwt gateway auth only). */
  tokenIssuer?: Record<string, pulumi.Input<string>>;
  /** Where services report errors (Sentry), when the stack sets it. */
  sentryDsn?: pulumi.Output<string>;
  /** The value of one of the service's declared secrets. */
  secretValue(secret: ServiceSecret): pulumi.Input<string>;
}

/**
 * The environment of a service on any target: the same variable names everywhere (see README),
 * plain values in `env`, everything holding a credential in `secretEnv`.
 */
export function serviceEnvironment(
  service: Service,
  c: ServiceConnections,
): { env: Record<string, pulumi.Input<string>>; secretEnv: Record<string, pulumi.Input<string>> } {
  const env: Record<string, pulumi.Input<string>> = {
    ...service.env,
    SERVICE_NAME: service.name,
    PORT: String(service.port),
    PLATFORM_ENVIRONMENT: c.environment,
    OTEL_SERVICE_NAME: service.name,
    OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
  };
  const secretEnv: Record<string, pulumi.Input<string>> = {};
  for (const dependency of service.dependsOn) env[dependencyUrlEnv(dependency)] = c.dependencyUrl(dependency);
  if (c.database) {
    Object.assign(env, {
      DB_HOST: c.database.host,
      DB_PORT: String(c.database.port),
      DB_NAME: c.database.name,
      DB_USER: c.database.username,
    });
    Object.assign(secretEnv, { DATABASE_URL: c.database.url, DB_PASSWORD: c.database.password });
  }
  if (c.broker) {
    const { user, vhost, scheme } = c.broker;
    Object.assign(env, {
      RABBITMQ_VHOST: vhost,
      RABBITMQ_USER: user.username,
      RABBITMQ_QUEUES: user.consumerQueues.join(","),
      RABBITMQ_RETRY_EXCHANGE: user.retryExchange ?? "",
    });
    Object.assign(secretEnv, {
      RABBITMQ_URL: pulumi.all([user.password, c.broker.address]).apply(([password, address]) => {
        const [host, port] = address.split(":");
        return connectionUrl(scheme, user.username, password, host, Number(port), vhost);
      }),
      RABBITMQ_PASSWORD: user.password,
    });
  }
  if (c.cache && service.cache) {
    Object.assign(env, c.cache.env);
    Object.assign(secretEnv, c.cache.secretEnv);
  }
  // Services with public routes (login, registration) sign the tokens the gateway checks elsewhere.
  if (c.tokenIssuer && service.routes.some((r) => r.public)) Object.assign(secretEnv, c.tokenIssuer);
  if (c.sentryDsn) {
    // The names Sentry's SDKs read on their own.
    env.SENTRY_ENVIRONMENT = c.environment;
    secretEnv.SENTRY_DSN = c.sentryDsn;
  }
  for (const secret of service.secrets) secretEnv[secret.name] = c.secretValue(secret);
  return { env, secretEnv };
}
