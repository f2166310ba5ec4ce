import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { PlatformLabels, healthcheck, httpGet, loopbackPort } from "./containerDefaults";
import { platformContainer } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";
import { CacheEndpoint, EnvContract } from "../platform";

export interface DeveloperToolsArgs {
  namePrefix: string;
  tools: { adminer: boolean; redisCommander: boolean };
  images: { adminer: string; redisCommander: string };
  hostPorts: { adminer: number; redisCommander: number };
  /** Networks of the service databases Adminer can log in to (with the credentials of `connectionStrings`). */
  databaseNetworks: docker.Network[];
  /** The cache Redis Commander browses; without one, Redis Commander is not deployed. */
  cache?: { network: docker.Network; endpoint: CacheEndpoint };
  labels: PlatformLabels;
  memory: ContainerMemory;
}

const ADMINER_PORT = 8080;
const REDIS_COMMANDER_PORT = 8081;
export const REDIS_COMMANDER_USER = "admin";

/**
 * Redis Commander's own variables for the cache the services use: through the sentinels (so it
 * follows a failover) or the single Redis.
 */
export function redisCommanderEnv(cache: CacheEndpoint): EnvContract {
  if (cache.sentinel) {
    return {
      env: { SENTINELS: cache.sentinel.addresses.join(","), SENTINEL_NAME: cache.sentinel.masterName },
      secretEnv: { REDIS_PASSWORD: cache.password, SENTINEL_PASSWORD: cache.sentinel.password },
    };
  }
  return {
    env: { REDIS_HOST: cache.host, REDIS_PORT: String(cache.port) },
    secretEnv: { REDIS_PASSWORD: cache.password },
  };
}

/**
 * Seed 002's developer tools, opt-in and dev only, on 127.0.0.1: Adminer (log in with a
 * service's credentials from `connectionStrings`) and Redis Commander behind a random password.
 */
export class DeveloperTools extends pulumi.ComponentResource {
  readonly adminerUrl?: string;
  readonly redisCommanderUrl?: string;
  /** Redis Commander's HTTP password (user `admin`), secret. */
  readonly redisCommanderPassword?: pulumi.Output<string>;

  constructor(name: string, args: DeveloperToolsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:DeveloperTools", name, {}, opts);
    if (args.tools.adminer) {
      adminer(name, args, this);
      this.adminerUrl = `http://127.0.0.1:${args.hostPorts.adminer}`;
    }
    if (args.tools.redisCommander && args.cache) {
      this.redisCommanderPassword = redisCommander(name, args, args.cache, this);
      this.redisCommanderUrl = `http://127.0.0.1:${args.hostPorts.redisCommander}`;
    }
    this.registerOutputs({ adminerUrl: this.adminerUrl, redisCommanderUrl: this.redisCommanderUrl });
  }
}

function adminer(name: string, args: DeveloperToolsArgs, parent: pulumi.Resource): void {
  platformContainer(
    `${name}-adminer`,
    {
      namePrefix: args.namePrefix,
      labels: args.labels,
      host: "adminer",
      image: args.images.adminer,
      networks: args.databaseNetworks,
      settings: {
        ports: [loopbackPort(ADMINER_PORT, args.hostPorts.adminer)],
        memory: args.memory.devTool,
        // adminer:4.8.1 is FROM php:7.4-alpine (docker-adminer 4/Dockerfile): busybox wget.
        healthcheck: healthcheck(httpGet("wget", ADMINER_PORT, "/")),
      },
    },
    { parent },
  );
}

/** Redis Commander on the cache's network behind a random HTTP password, which it returns (secret). */
function redisCommander(
  name: string,
  args: DeveloperToolsArgs,
  cache: NonNullable<DeveloperToolsArgs["cache"]>,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const password = new random.RandomPassword(
    `${name}-redis-commander-password`,
    { length: 32, special: false },
    { parent },
  ).result;
  const connection = redisCommanderEnv(cache.endpoint);
  const secretEnv = { ...connection.secretEnv, HTTP_PASSWORD: password };
  platformContainer(
    `${name}-redis-commander`,
    {
      namePrefix: args.namePrefix,
      labels: args.labels,
      host: "redis-commander",
      image: args.images.redisCommander,
      networks: [cache.network],
      settings: {
        envs: pulumi.secret(
          pulumi.all(secretEnv).apply((secrets) =>
            Object.entries({
              ...connection.env,
              PORT: String(REDIS_COMMANDER_PORT),
              HTTP_USER: REDIS_COMMANDER_USER,
              ...secrets,
            }).map(([k, v]) => `${k}=${v}`),
          ),
        ),
        ports: [loopbackPort(REDIS_COMMANDER_PORT, args.hostPorts.redisCommander)],
        memory: args.memory.devTool,
        // The image's own HEALTHCHECK (its Dockerfile): bin/healthcheck.js GETs the static /healthcheck, which
        // answers before the HTTP login.
        healthcheck: healthcheck(["/redis-commander/bin/healthcheck.js"], { interval: "30s" }),
      },
    },
    { parent },
  );
  return password;
}
