import { stringify } from "yaml";
import { Catalog, Service } from "../../services/schema";
import { GATEWAY_HEALTH_PATH } from "../../services/validate";
import { ANONYMOUS_CONSUMER } from "./settings";

export type GatewayAuth = "jwt" | "key-auth";

/** What one client presents on non-public routes: a JWT issuer and HS256 secret, or an API key. */
export type GatewayCredential = { kind: "jwt"; issuer: string; secret: string } | { kind: "key-auth"; key: string };

/** One Kong consumer: its credential, and its own per-minute budget when it has one. */
export interface GatewayClient {
  name: string;
  credential: GatewayCredential;
  rateLimitPerMinute?: number;
}

/**
 * Kong 3.9's `config.redis` record of the rate-limiting plugin, as kong/tools/redis/schema.lua
 * (Kong/kong, tag 3.9.1) names its fields: host, port, timeout, username, password, database, ssl,
 * ssl_verify, server_name. It has no Sentinel or Cluster fields (those are Kong Enterprise's).
 */
export interface KongRedis {
  host: string;
  port: number;
  password: string;
  database: number;
  timeout: number;
  ssl: boolean;
  ssl_verify: boolean;
  /** The name the server's certificate is checked against (TLS only). */
  server_name?: string;
}

/** Where Kong counts requests: one Redis every Kong shares, or each Kong's own memory. */
export type RateLimitCounters = { policy: "redis"; redis: KongRedis } | { policy: "local" };

export interface KongConfigInput {
  catalog: Catalog;
  /** At least one; names are unique (gateway settings). */
  clients: GatewayClient[];
  counters: RateLimitCounters;
  corsOrigins: string[];
  /** How Kong reaches a service; the container hostname (its name) unless told otherwise. */
  serviceHost?: (service: string) => string;
}

export const CORRELATION_HEADER = "X-Correlation-ID";

/**
 * Kong declarative configuration (format 3.0) for a catalog: one Kong service per catalog service
 * with routes, a rate limit per route (per consumer on authenticated routes, per client address on
 * public ones), the auth plugins of the clients' credentials on every non-public route, one
 * consumer per client, and CORS, correlation-id and Prometheus globally. Used as is in DB-less
 * mode and imported in DB mode.
 */
export function kongDeclarativeConfig({
  catalog,
  clients,
  counters,
  corsOrigins,
  serviceHost = (service) => service,
}: KongConfigInput): Record<string, unknown> {
  const kinds = [...new Set(clients.map((c) => c.credential.kind))].sort();
  // Shared by every non-public route: the YAML writes each plugin once and refers back to it.
  const auth = kinds.map((kind) => authPlugin(kind, kinds.length > 1));
  const services = catalog.services
    .filter((s) => s.routes.length > 0)
    .map((service) => kongService(service, catalog, serviceHost, auth, counters));
  return {
    _format_version: "3.0",
    _transform: true,
    services,
    routes: [healthRoute()],
    consumers: [
      ...clients.map((client) => kongConsumer(client, counters)),
      ...(kinds.length > 1 ? [anonymousConsumer()] : []),
    ],
    plugins: globalPlugins(corsOrigins),
  };
}

type KongPlugin = { name: string; config: Record<string, unknown> };
type Route = Service["routes"][number];

/**
 * With clients of both kinds, a route must accept either credential: each plugin then lets a
 * request it cannot authenticate through as the anonymous consumer, which Kong refuses (Kong's
 * "logical OR" of auth plugins; a plugin skips once another has authenticated the request).
 */
function authPlugin(kind: GatewayAuth, either: boolean): KongPlugin {
  const anonymous = either ? { anonymous: ANONYMOUS_CONSUMER } : {};
  return kind === "jwt"
    ? { name: "jwt", config: { key_claim_name: "iss", claims_to_verify: ["exp"], ...anonymous } }
    : { name: "key-auth", config: { key_names: ["apikey"], hide_credentials: true, ...anonymous } };
}

/** A per-minute limit counted per `limitBy`, in the counters every Kong shares (or its own). */
function rateLimiting(minute: number, limitBy: "consumer" | "ip", counters: RateLimitCounters): KongPlugin {
  return {
    name: "rate-limiting",
    // Field names of Kong 3.9's kong/plugins/rate-limiting/schema.lua (the `redis` record replaced redis_host & co.).
    config: { minute, limit_by: limitBy, fault_tolerant: true, ...counters },
  };
}

function kongService(
  service: Service,
  catalog: Catalog,
  serviceHost: (service: string) => string,
  auth: KongPlugin[],
  counters: RateLimitCounters,
): Record<string, unknown> {
  return {
    name: service.name,
    url: `http://${serviceHost(service.name)}:${service.port}`,
    connect_timeout: 5000,
    read_timeout: 60000,
    retries: 2,
    tags: ["platform", catalog.name],
    routes: service.routes.map((route, i) => kongRoute(`${service.name}-${i}`, route, auth, counters)),
  };
}

function kongRoute(
  name: string,
  route: Route,
  auth: KongPlugin[],
  counters: RateLimitCounters,
): Record<string, unknown> {
  return {
    name,
    paths: route.paths,
    ...(route.methods ? { methods: route.methods } : {}),
    strip_path: route.stripPath,
    preserve_host: false,
    protocols: ["http", "https"],
    tags: [route.public ? "public" : "authenticated"],
    // Public routes have no consumer to count by: they count per client address.
    plugins: [
      rateLimiting(route.rateLimitPerMinute, route.public ? "ip" : "consumer", counters),
      ...(route.public ? [] : auth),
    ],
  };
}

/** Answered by Kong itself, so it says whether the gateway is up whatever the services do. */
function healthRoute(): Record<string, unknown> {
  return {
    name: "platform-health",
    paths: [GATEWAY_HEALTH_PATH],
    methods: ["GET", "HEAD"],
    protocols: ["http", "https"],
    tags: ["platform"],
    plugins: [
      {
        name: "request-termination",
        config: { status_code: 200, content_type: "application/json", body: '{"status":"ok"}' },
      },
    ],
  };
}

/**
 * One client: its credential and, with its own budget, a rate limit scoped to it. Kong prefers a
 * consumer's plugin to a route's, and counts it once across routes (a consumer-only plugin has no
 * route in its counter key).
 */
function kongConsumer(client: GatewayClient, counters: RateLimitCounters): Record<string, unknown> {
  const { credential } = client;
  return {
    username: client.name,
    ...(credential.kind === "jwt"
      ? { jwt_secrets: [{ key: credential.issuer, secret: credential.secret, algorithm: "HS256" }] }
      : { keyauth_credentials: [{ key: credential.key }] }),
    ...(client.rateLimitPerMinute === undefined
      ? {}
      : { plugins: [rateLimiting(client.rateLimitPerMinute, "consumer", counters)] }),
  };
}

/** Who a request is when no auth plugin accepted it: refused, as it would be with one auth plugin. */
function anonymousConsumer(): Record<string, unknown> {
  return {
    username: ANONYMOUS_CONSUMER,
    plugins: [{ name: "request-termination", config: { status_code: 401, message: "Unauthorized" } }],
  };
}

function globalPlugins(corsOrigins: string[]): KongPlugin[] {
  return [
    {
      name: "cors",
      config: {
        origins: corsOrigins,
        methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        headers: ["Accept", "Authorization", "Content-Type", "apikey", CORRELATION_HEADER],
        exposed_headers: [CORRELATION_HEADER],
        credentials: true,
        max_age: 3600,
      },
    },
    {
      name: "correlation-id",
      config: { header_name: CORRELATION_HEADER, generator: "uuid#counter", echo_downstream: true },
    },
    {
      name: "prometheus",
      config: {
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
      },
    },
  ];
}

export function renderKongConfig(input: KongConfigInput): string {
  return stringify(kongDeclarativeConfig(input));
}
