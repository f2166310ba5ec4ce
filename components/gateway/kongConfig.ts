import { stringify } from "yaml";
import { Catalog, Service } from "../../services/schema";
import { GATEWAY_HEALTH_PATH } from "../../services/validate";

export type GatewayAuth = "jwt" | "key-auth";

/** Credentials of the one consumer that non-public routes accept. */
export type GatewayCredential = { kind: "jwt"; issuer: string; secret: string } | { kind: "key-auth"; key: string };

export interface KongConfigInput {
  catalog: Catalog;
  credential: GatewayCredential;
  corsOrigins: string[];
  /** How Kong reaches a service; the container hostname (its name) unless told otherwise. */
  serviceHost?: (service: string) => string;
}

export const CORRELATION_HEADER = "X-Correlation-ID";
/** Consumer name of the catalog's clients. */
export const consumerName = (catalog: Catalog) => `${catalog.name}-clients`;

/**
 * Kong declarative configuration (format 3.0) for a catalog: one Kong service per catalog service
 * with routes, rate limits per route, an auth plugin on every non-public route, and CORS,
 * correlation-id and Prometheus globally. Used as is in DB-less mode and imported in DB mode.
 */
export function kongDeclarativeConfig({
  catalog,
  credential,
  corsOrigins,
  serviceHost = (service) => service,
}: KongConfigInput): Record<string, unknown> {
  // One object shared by every non-public route: the YAML writes it once and refers back to it.
  const auth = authPlugin(credential);
  const services = catalog.services
    .filter((s) => s.routes.length > 0)
    .map((service) => kongService(service, catalog, serviceHost, auth));
  return {
    _format_version: "3.0",
    _transform: true,
    services,
    routes: [healthRoute()],
    consumers: [kongConsumer(catalog, credential)],
    plugins: globalPlugins(corsOrigins),
  };
}

type KongPlugin = { name: string; config: Record<string, unknown> };
type Route = Service["routes"][number];

function authPlugin(credential: GatewayCredential): KongPlugin {
  return credential.kind === "jwt"
    ? { name: "jwt", config: { key_claim_name: "iss", claims_to_verify: ["exp"] } }
    : { name: "key-auth", config: { key_names: ["apikey"], hide_credentials: true } };
}

function kongService(
  service: Service,
  catalog: Catalog,
  serviceHost: (service: string) => string,
  auth: KongPlugin,
): Record<string, unknown> {
  return {
    name: service.name,
    url: `http://${serviceHost(service.name)}:${service.port}`,
    connect_timeout: 5000,
    read_timeout: 60000,
    retries: 2,
    tags: ["platform", catalog.name],
    routes: service.routes.map((route, i) => kongRoute(`${service.name}-${i}`, route, auth)),
  };
}

function kongRoute(name: string, route: Route, auth: KongPlugin): Record<string, unknown> {
  return {
    name,
    paths: route.paths,
    ...(route.methods ? { methods: route.methods } : {}),
    strip_path: route.stripPath,
    preserve_host: false,
    protocols: ["http", "https"],
    tags: [route.public ? "public" : "authenticated"],
    plugins: [
      {
        name: "rate-limiting",
        // Authenticated routes count per consumer; public ones per client address.
        config: {
          minute: route.rateLimitPerMinute,
          policy: "local",
          limit_by: route.public ? "ip" : "consumer",
          fault_tolerant: true,
        },
      },
      ...(route.public ? [] : [auth]),
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

/** The catalog's clients: the one consumer holding the credential. */
function kongConsumer(catalog: Catalog, credential: GatewayCredential): Record<string, unknown> {
  const consumer: Record<string, unknown> = { username: consumerName(catalog) };
  if (credential.kind === "jwt")
    consumer.jwt_secrets = [{ key: credential.issuer, secret: credential.secret, algorithm: "HS256" }];
  else consumer.keyauth_credentials = [{ key: credential.key }];
  return consumer;
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
