import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Service, ServiceSecret } from "../services/schema";
import { dependencyUrlEnv } from "../services/validate";
import {
  BrokerEndpoint,
  BrokerUser,
  CacheEndpoint,
  ConfigSecrets,
  DatabaseEndpoint,
  EnvContract,
  TracingEndpoint,
  brokerEnv,
  cacheEnv,
  databaseEnv,
  tracingEnv,
} from "./platform";
import { consumerQueue } from "./messaging/topology";

/** The endpoints one service uses; each absent piece simply adds no variables. */
export interface ServiceEndpoints {
  tracing: TracingEndpoint;
  database?: DatabaseEndpoint;
  broker?: { endpoint: BrokerEndpoint; user: BrokerUser };
  /** Only for services that declare `cache: true`. */
  cache?: CacheEndpoint;
}

/** What a target provides a service with besides its endpoints. */
export interface ServiceConnections {
  environment: string;
  endpoints: ServiceEndpoints;
  /** Address of a service this one calls. */
  dependencyUrl(dependency: string): pulumi.Input<string>;
  /** JWT issuer and secret, for the services that issue tokens (jwt gateway auth only). */
  tokenIssuer?: Record<string, pulumi.Input<string>>;
  /** The stack's `--secret` values: the catalog's `source: config` secrets and the Sentry DSN. */
  configSecrets: ConfigSecrets;
  /** Random secrets are made as `{name}-{service}-{SECRET}` under this parent. */
  secretOwner: { name: string; parent: pulumi.Resource };
}

/** A declared secret's value: a random password made for the service, or the stack's config value. */
function secretValue(service: Service, secret: ServiceSecret, c: ServiceConnections): pulumi.Input<string> {
  if (secret.source !== "random") return c.configSecrets.services[service.name][secret.name];
  return new random.RandomPassword(
    `${c.secretOwner.name}-${service.name}-${secret.name}`,
    { length: secret.length, special: false },
    { parent: c.secretOwner.parent },
  ).result;
}

/** Where the service answers the orchestrator's probes and Prometheus (docs/env-contract.md). */
function probeEnv(service: Service): Record<string, string> {
  const { health } = service;
  return {
    HEALTH_PATH: health.path,
    READINESS_PATH: health.readinessPath ?? health.path,
    METRICS_PATH: health.metricsPath,
    METRICS_PORT: String(health.metricsPort ?? service.port),
  };
}

/** What the service publishes, and how many deliveries each of its queues gets before its DLQ. */
function eventEnv(service: Service): EnvContract {
  const attempts = service.events.consumes.map((c) => `${consumerQueue(service.name, c)}=${c.retry?.maxAttempts ?? 1}`);
  return {
    env: { RABBITMQ_PUBLISHES: service.events.publishes.join(","), RABBITMQ_MAX_ATTEMPTS: attempts.join(",") },
    secretEnv: {},
  };
}

/**
 * The environment of a service on any target: the same variable names everywhere (see README),
 * plain values in `env`, everything holding a credential in `secretEnv`.
 */
export function serviceEnvironment(service: Service, c: ServiceConnections): EnvContract {
  const { endpoints } = c;
  const parts: EnvContract[] = [
    {
      env: {
        ...service.env,
        SERVICE_NAME: service.name,
        PORT: String(service.port),
        PLATFORM_ENVIRONMENT: c.environment,
        OTEL_SERVICE_NAME: service.name,
        ...probeEnv(service),
      },
      secretEnv: {},
    },
    tracingEnv(endpoints.tracing),
    {
      env: Object.fromEntries(service.dependsOn.map((d) => [dependencyUrlEnv(d), c.dependencyUrl(d)])),
      secretEnv: {},
    },
  ];
  if (endpoints.database) parts.push(databaseEnv(endpoints.database));
  if (endpoints.broker) parts.push(brokerEnv(endpoints.broker.endpoint, endpoints.broker.user), eventEnv(service));
  if (endpoints.cache && service.cache) parts.push(cacheEnv(endpoints.cache));
  // Only the services the catalog marks as issuers (login, registration) sign the gateway's tokens.
  if (c.tokenIssuer && service.auth.issuesTokens) parts.push({ env: {}, secretEnv: c.tokenIssuer });
  const sentryDsn = c.configSecrets.sentryDsn;
  if (sentryDsn) {
    // The names Sentry's SDKs read on their own.
    parts.push({ env: { SENTRY_ENVIRONMENT: c.environment }, secretEnv: { SENTRY_DSN: sentryDsn } });
  }
  parts.push({
    env: {},
    secretEnv: Object.fromEntries(service.secrets.map((s) => [s.name, secretValue(service, s, c)])),
  });
  return {
    env: Object.assign({}, ...parts.map((p) => p.env)),
    secretEnv: Object.assign({}, ...parts.map((p) => p.secretEnv)),
  };
}
