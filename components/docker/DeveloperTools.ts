import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { PlatformLabels, loopbackPort } from "./containerDefaults";
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
    const common = { namePrefix: args.namePrefix, labels: args.labels };

    if (args.tools.adminer) {
      platformContainer(
        `${name}-adminer`,
        {
          ...common,
          host: "adminer",
          image: args.images.adminer,
          networks: args.databaseNetworks,
          settings: { ports: [loopbackPort(ADMINER_PORT, args.hostPorts.adminer)], memory: args.memory.devTool },
        },
        { parent: this },
      );
      this.adminerUrl = `http://127.0.0.1:${args.hostPorts.adminer}`;
    }

    if (args.tools.redisCommander && args.cache) {
      const password = new random.RandomPassword(
        `${name}-redis-commander-password`,
        { length: 32, special: false },
        { parent: this },
      ).result;
      const connection = redisCommanderEnv(args.cache.endpoint);
      const secretEnv = { ...connection.secretEnv, HTTP_PASSWORD: password };
      platformContainer(
        `${name}-redis-commander`,
        {
          ...common,
          host: "redis-commander",
          image: args.images.redisCommander,
          networks: [args.cache.network],
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
          },
        },
        { parent: this },
      );
      this.redisCommanderUrl = `http://127.0.0.1:${args.hostPorts.redisCommander}`;
      this.redisCommanderPassword = password;
    }
    this.registerOutputs({ adminerUrl: this.adminerUrl, redisCommanderUrl: this.redisCommanderUrl });
  }
}
