import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Catalog } from "../../services/schema";
import { hasServiceRoutes } from "../../services/validate";
import { CacheEndpoint } from "../platform";
import { GatewayClient, GatewayCredential, RateLimitCounters } from "./kongConfig";
import { DEFAULT_CLIENT, GatewaySettings, GatewayClientSettings, gatewayClients } from "./settings";

/** The gateway's clients as both targets create them. */
export interface GatewayClients {
  /** Every client with its credential (secret): what the Kong config renders. */
  clients: pulumi.Output<GatewayClient[]>;
  /** The `gatewayClients` stack output: per client name, its credential (secret). */
  credentials: pulumi.Output<Record<string, GatewayCredential>>;
  /** The first client's credential: the `gatewayCredential` output stacks had before clients (secret). */
  first: pulumi.Output<GatewayCredential>;
  /** Issuer and secret of the first jwt client, for the services that sign tokens (none without a jwt client). */
  issuerSecretEnv: Record<string, pulumi.Output<string>>;
}

/**
 * The issuer a client's tokens carry (`iss`). The default client keeps the one the single consumer
 * had, so tokens already issued stay valid.
 */
export function clientIssuer(catalog: Catalog, client: string): string {
  return client === DEFAULT_CLIENT ? `${catalog.name}-issuer` : `${catalog.name}-${client}-issuer`;
}

/**
 * One random secret per client (`{name}-{client}`): its HS256 secret or its API key. The default
 * client's is the resource the single consumer's credential was (`{name}`), so it is not replaced.
 */
export function createGatewayClients(
  name: string,
  catalog: Catalog,
  settings: GatewaySettings,
  parent: pulumi.Resource,
): GatewayClients {
  const declared = gatewayClients(settings);
  const secrets = declared.map(
    (client) =>
      new random.RandomPassword(
        `${name}-${client.name}`,
        { length: 48, special: false },
        { parent, aliases: client.name === DEFAULT_CLIENT ? [{ name }] : [] },
      ).result,
  );
  const credential = (client: GatewayClientSettings, value: string): GatewayCredential =>
    client.credential === "jwt"
      ? { kind: "jwt", issuer: clientIssuer(catalog, client.name), secret: value }
      : { kind: "key-auth", key: value };
  const clients = pulumi.secret(
    pulumi.all(secrets).apply((values) =>
      declared.map((client, i): GatewayClient => ({
        name: client.name,
        credential: credential(client, values[i]),
        ...(client.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: client.rateLimitPerMinute }),
      })),
    ),
  );
  const signer = declared.findIndex((client) => client.credential === "jwt");
  return {
    clients,
    credentials: clients.apply((all) => Object.fromEntries(all.map((c) => [c.name, c.credential]))),
    first: clients.apply((all) => all[0].credential),
    issuerSecretEnv:
      signer < 0
        ? {}
        : {
            GATEWAY_JWT_ISSUER: pulumi.output(clientIssuer(catalog, declared[signer].name)),
            GATEWAY_JWT_SECRET: secrets[signer],
          },
  };
}

/**
 * Whether Kong can count in this cache. Kong 3.9's redis record has no Sentinel fields: pointed at a
 * Sentinel group's master by name, it would keep writing to that node after a failover made it a
 * read-only replica, and (fault tolerant) stop limiting without a word.
 */
export function kongCanCountIn(cache: CacheEndpoint | undefined): cache is CacheEndpoint {
  return cache !== undefined && cache.sentinel === undefined;
}

/**
 * Where Kong counts its rate limits: in the cache when it can, so that every Kong replica shares one
 * counter; in each Kong's memory only when there is a single Kong, or no route to limit (a catalog
 * without routes, whose clients are never identified either), where that is exact. Anything else
 * would multiply every limit by the number of replicas, so it is refused.
 */
export function rateLimitCounters(
  cache: CacheEndpoint | undefined,
  kongReplicas: number,
  catalog: Catalog,
): pulumi.Output<RateLimitCounters> {
  if (kongCanCountIn(cache)) {
    return pulumi.all([cache.host, cache.password]).apply(([host, password]): RateLimitCounters => ({
      policy: "redis",
      redis: {
        host,
        port: cache.port,
        password,
        database: 0,
        timeout: 2000,
        ssl: cache.tls,
        ssl_verify: cache.tls,
        ...(cache.tls ? { server_name: host } : {}),
      },
    }));
  }
  if (kongReplicas > 1 && hasServiceRoutes(catalog))
    throw new Error(
      `Kong runs up to ${kongReplicas} replicas: its rate limits need a cache without Sentinel to count in (local counters would allow ${kongReplicas} times each limit)`,
    );
  return pulumi.output<RateLimitCounters>({ policy: "local" });
}
