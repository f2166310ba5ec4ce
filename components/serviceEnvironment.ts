import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Service, ServiceSecret } from "../services/schema";
import { dependencyUrlEnv } from "../services/validate";
import {
  Placeholder,
  ResourceValues,
  isSecretPlaceholder,
  placeholdersOf,
  renderEnvTemplate,
} from "../services/placeholders";
import {
  BrokerEndpoint,
  BrokerUser,
  CacheEndpoint,
  ConfigSecrets,
  DatabaseEndpoint,
  EnvContract,
  TracingEndpoint,
  brokerEnv,
  brokerUrl,
  cacheEnv,
  cacheUrl,
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
  /** JWT issuer and secret, for the services that issue tokens (jwt gateway auth only). */
  tokenIssuer?: Record<string, pulumi.Input<string>>;
  /** The stack's `--secret` values: the catalog's `source: config` secrets and the Sentry DSN. */
  configSecrets: ConfigSecrets;
  /** Random secrets are made as `{name}-{service}-{SECRET}` under this parent. */
  secretOwner: { name: string; parent: pulumi.Resource };
  /** The container runs the reference service, which reads the fixed names whatever `envContract` says. */
  runsReferenceService?: boolean;
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

/** What each `${resource.field}` placeholder stands for on this target, for the resources the service has. */
function resourceValues(c: ServiceConnections): Partial<ResourceValues<pulumi.Input<string>>> {
  const { database, cache, broker, tracing } = c.endpoints;
  const issuer = c.tokenIssuer;
  return {
    tracing: { url: tracing.url },
    sentry: { dsn: c.configSecrets.sentryDsn ?? "" },
    ...(database && {
      database: {
        host: database.host,
        port: String(database.port),
        name: database.name,
        user: database.username,
        password: database.password,
        url: database.url,
        // The query holds options only (connectionUrl puts credentials in the userinfo).
        options: pulumi.unsecret(
          database.url.apply((url) => (url.includes("?") ? url.slice(url.indexOf("?") + 1) : "")),
        ),
      },
    }),
    ...(cache && {
      cache: {
        host: cache.host,
        port: String(cache.port),
        password: cache.password,
        url: cacheUrl(cache),
        sentinels: cache.sentinel?.addresses.join(",") ?? "",
        tls: String(cache.tls),
      },
    }),
    ...(broker && {
      broker: {
        host: broker.endpoint.host,
        port: String(broker.endpoint.port),
        user: broker.user.username,
        password: broker.user.password,
        url: brokerUrl(broker.endpoint, broker.user),
        vhost: broker.endpoint.vhost,
        tls: String(broker.endpoint.tls),
      },
    }),
    ...(issuer?.GATEWAY_JWT_SECRET !== undefined && {
      gateway: { jwtIssuer: issuer.GATEWAY_JWT_ISSUER, jwtSecret: issuer.GATEWAY_JWT_SECRET },
    }),
  };
}

/** The service's declared env with its placeholders resolved; a value built with a credential goes to `secretEnv`. */
function declaredEnvironment(service: Service, c: ServiceConnections, secrets: EnvContract["secretEnv"]): EnvContract {
  // Built on first use: most services use no resource placeholder, and each value is an Output.
  let resources: ReturnType<typeof resourceValues> | undefined;
  const valueOf = (p: Placeholder): pulumi.Input<string> | undefined => {
    if (p.kind === "secret") return secrets[p.name];
    if (p.kind === "service") return c.dependencyUrl(p.service);
    resources ??= resourceValues(c);
    const fields: Record<string, pulumi.Input<string>> | undefined = resources[p.resource];
    return fields?.[p.field];
  };
  const result: EnvContract = { env: {}, secretEnv: {} };
  for (const [name, template] of Object.entries(service.env)) {
    const placeholders = placeholdersOf(template);
    const values = placeholders.map((p) => {
      const value = valueOf(p);
      // Validation refuses a placeholder the service cannot have; this is the engine's last word.
      if (value === undefined)
        throw new Error(`${service.name}: env.${name} refers to what this target does not provide`);
      return value;
    });
    const rendered = pulumi.all(values).apply((resolved) => renderEnvTemplate(template, (_, index) => resolved[index]));
    if (placeholders.some(isSecretPlaceholder)) result.secretEnv[name] = pulumi.secret(rendered);
    else result.env[name] = placeholders.length === 0 ? renderEnvTemplate(template, () => "") : rendered;
  }
  return result;
}

/** The contract's fixed names (docs/env-contract.md) for what the service uses. */
function platformEnvironment(service: Service, c: ServiceConnections): EnvContract[] {
  const { endpoints } = c;
  const parts: EnvContract[] = [
    {
      env: {
        SERVICE_NAME: service.name,
        PORT: String(service.port),
        PLATFORM_ENVIRONMENT: c.environment,
        OTEL_SERVICE_NAME: service.name,
        // Where the platform probes and scrapes, so the service serves exactly there.
        HEALTH_PATH: service.health.path,
        READINESS_PATH: service.health.readinessPath ?? service.health.path,
        METRICS_PATH: service.health.metricsPath,
        METRICS_PORT: String(service.health.metricsPort ?? service.port),
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
  // Only the services the catalog marks as issuers (login, registration) sign the gateway's tokens.
  if (c.tokenIssuer && service.auth.issuesTokens) parts.push({ env: {}, secretEnv: c.tokenIssuer });
  const sentryDsn = c.configSecrets.sentryDsn;
  if (sentryDsn) {
    // The names Sentry's SDKs read on their own.
    parts.push({ env: { SENTRY_ENVIRONMENT: c.environment }, secretEnv: { SENTRY_DSN: sentryDsn } });
  }
  return parts;
}

/** Later parts win, across both maps: a name is either plain or secret, never both. */
function mergeEnvironments(parts: EnvContract[]): EnvContract {
  const merged: EnvContract = { env: {}, secretEnv: {} };
  for (const part of parts) {
    for (const name of Object.keys(part.env)) delete merged.secretEnv[name];
    for (const name of Object.keys(part.secretEnv)) delete merged.env[name];
    Object.assign(merged.env, part.env);
    Object.assign(merged.secretEnv, part.secretEnv);
  }
  return merged;
}

/**
 * The environment of a service on any target (docs/env-contract.md): its declared `env` with
 * placeholders resolved, its `secrets`, and, unless it sets `envContract: none`, the contract's
 * fixed names. Plain values in `env`, everything holding a credential in `secretEnv`.
 */
export function serviceEnvironment(service: Service, c: ServiceConnections): EnvContract {
  const secrets = Object.fromEntries(service.secrets.map((s) => [s.name, secretValue(service, s, c)]));
  const declared = declaredEnvironment(service, c, secrets);
  const fixed = service.envContract === "platform" || c.runsReferenceService ? platformEnvironment(service, c) : [];
  // Fixed names win: they clash with declared ones only when the reference service stands in for the image.
  return mergeEnvironments([declared, { env: {}, secretEnv: secrets }, ...fixed]);
}
