import * as pulumi from "@pulumi/pulumi";
import { Service, ServiceSecret } from "../services/schema";
import { dependencyUrlEnv } from "../services/validate";
import {
  BrokerEndpoint,
  BrokerUser,
  CacheEndpoint,
  DatabaseEndpoint,
  EnvContract,
  TracingEndpoint,
  brokerEnv,
  cacheEnv,
  databaseEnv,
  tracingEnv,
} from "./platform";

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
  if (endpoints.broker) parts.push(brokerEnv(endpoints.broker.endpoint, endpoints.broker.user));
  if (endpoints.cache && service.cache) parts.push(cacheEnv(endpoints.cache));
  // Services with public routes (login, registration) sign the tokens the gateway checks elsewhere.
  if (c.tokenIssuer && service.routes.some((r) => r.public)) parts.push({ env: {}, secretEnv: c.tokenIssuer });
  if (c.sentryDsn) {
    // The names Sentry's SDKs read on their own.
    parts.push({ env: { SENTRY_ENVIRONMENT: c.environment }, secretEnv: { SENTRY_DSN: c.sentryDsn } });
  }
  parts.push({ env: {}, secretEnv: Object.fromEntries(service.secrets.map((s) => [s.name, c.secretValue(s)])) });
  return {
    env: Object.assign({}, ...parts.map((p) => p.env)),
    secretEnv: Object.assign({}, ...parts.map((p) => p.secretEnv)),
  };
}
