import * as pulumi from "@pulumi/pulumi";
import { Catalog } from "../services/schema";
import { GatewaySettings } from "./gateway/settings";
import { ObservabilitySettings } from "./observability/settings";
import { AlertReceivers } from "./observability/alertingSettings";
import { connectionUrl } from "./data/databasePlan";
import { ServiceMessaging } from "./messaging/topology";

/** The stack config namespace (`platform:` keys); settings modules name their fields with it. */
export const CONFIG_NAMESPACE = "platform";

/**
 * The contracts between the platform's endpoints and the services that use them. Every target
 * produces these (a Docker container, RDS, an in-cluster StatefulSet...), and the service
 * components consume them without knowing which component produced them.
 */

/**
 * Where an endpoint lives, so that a target can open the path to it: a private address in the
 * VPC, a namespace of the cluster, or a network of the local Docker engine (where network
 * membership is the path).
 */
export type EndpointLocation = { kind: "vpc" } | { kind: "namespace"; namespace: string } | { kind: "local" };

/** Certificate authorities a client needs beyond its image's, mounted from a ConfigMap. */
export interface TrustBundle {
  configMap: pulumi.Input<string>;
  mountPath: string;
}

export interface DatabaseEndpoint {
  host: pulumi.Input<string>;
  port: number;
  name: pulumi.Input<string>;
  username: pulumi.Input<string>;
  /** Secret; resolves once the service's login exists. */
  password: pulumi.Output<string>;
  /** Secret, with the TLS options the store requires. */
  url: pulumi.Output<string>;
  location: EndpointLocation;
  trustBundle?: TrustBundle;
}

export interface CacheEndpoint {
  /** The single node, or the primary endpoint of a managed group. */
  host: pulumi.Input<string>;
  port: number;
  tls: boolean;
  password: pulumi.Output<string>;
  /** With Sentinel, clients find the master through the sentinels. */
  sentinel?: { addresses: string[]; masterName: string; password: pulumi.Output<string> };
  location: EndpointLocation;
}

export interface BrokerEndpoint {
  host: pulumi.Input<string>;
  port: number;
  tls: boolean;
  vhost: pulumi.Input<string>;
  location: EndpointLocation;
}

/** One service's own login on the broker and what the topology gave it. */
export interface BrokerUser extends ServiceMessaging {
  password: pulumi.Output<string>;
}

export interface TracingEndpoint {
  /** OTLP over HTTP. */
  url: string;
  port: number;
  location: EndpointLocation;
}

/** What a service's env contract holds: plain values, and everything with a credential apart. */
export interface EnvContract {
  env: Record<string, pulumi.Input<string>>;
  secretEnv: Record<string, pulumi.Input<string>>;
}

export function databaseEnv(db: DatabaseEndpoint): EnvContract {
  return {
    env: { DB_HOST: db.host, DB_PORT: String(db.port), DB_NAME: db.name, DB_USER: db.username },
    secretEnv: { DATABASE_URL: db.url, DB_PASSWORD: db.password },
  };
}

/** Sentinel addresses and master name, or one URL (`rediss` with TLS). */
export function cacheEnv(cache: CacheEndpoint): EnvContract {
  if (cache.sentinel) {
    return {
      env: { REDIS_SENTINELS: cache.sentinel.addresses.join(","), REDIS_MASTER_NAME: cache.sentinel.masterName },
      secretEnv: { REDIS_PASSWORD: cache.password, REDIS_SENTINEL_PASSWORD: cache.sentinel.password },
    };
  }
  return {
    env: { REDIS_HOST: cache.host, REDIS_PORT: String(cache.port), ...(cache.tls ? { REDIS_TLS: "true" } : {}) },
    secretEnv: { REDIS_URL: cacheUrl(cache), REDIS_PASSWORD: cache.password },
  };
}

/** The node's URL with its password: with Sentinel, the master at deploy time, which a failover moves. */
export function cacheUrl(cache: CacheEndpoint): pulumi.Output<string> {
  const scheme = cache.tls ? "rediss" : "redis";
  return pulumi.interpolate`${scheme}://:${cache.password}@${cache.host}:${cache.port}/0`;
}

/** The service's own AMQP URL (`amqps` with TLS); secret. */
export function brokerUrl(broker: BrokerEndpoint, user: BrokerUser): pulumi.Output<string> {
  return pulumi
    .all([user.password, broker.host, broker.vhost])
    .apply(([password, host, vhost]) =>
      connectionUrl(broker.tls ? "amqps" : "amqp", user.username, password, host, broker.port, vhost),
    );
}

export function brokerEnv(broker: BrokerEndpoint, user: BrokerUser): EnvContract {
  return {
    env: {
      RABBITMQ_VHOST: broker.vhost,
      RABBITMQ_USER: user.username,
      RABBITMQ_PUBLISHES: user.publishes.join(","),
      RABBITMQ_QUEUES: user.consumerQueues.join(","),
      RABBITMQ_MAX_ATTEMPTS: Object.entries(user.maxAttempts)
        .map(([queue, attempts]) => `${queue}=${attempts}`)
        .join(","),
      RABBITMQ_RETRY_EXCHANGE: user.retryExchange ?? "",
    },
    secretEnv: {
      RABBITMQ_URL: brokerUrl(broker, user),
      RABBITMQ_PASSWORD: user.password,
    },
  };
}

export function tracingEnv(tracing: TracingEndpoint): EnvContract {
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: tracing.url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" },
    secretEnv: {},
  };
}

/** Values from `pulumi config set --secret`, already wrapped as Pulumi secrets. */
export interface ConfigSecrets {
  /** The catalog's `source: config` secrets: service -> NAME -> value. */
  services: Record<string, Record<string, pulumi.Output<string>>>;
  /** Sentry DSN every service reports errors to, when set. */
  sentryDsn?: pulumi.Output<string>;
}

/** What every target's platform component is given, besides its own settings. */
export interface PlatformInputs {
  stack: string;
  /** Label passed to services as PLATFORM_ENVIRONMENT. */
  environment: string;
  catalog: Catalog;
  /** Per-service image overrides. */
  images: Record<string, string>;
  gateway: GatewaySettings;
  observability: ObservabilitySettings;
  /** Where alerts go (`platform:alerting`), secrets wrapped. */
  alerting: AlertReceivers;
  configSecrets: ConfigSecrets;
}
