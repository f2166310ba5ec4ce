import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { PlatformLabels, loopbackPort } from "./containerDefaults";
import { platformContainer } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";

/** What a cache client gets from CacheCluster.clientEnv(). */
export interface CacheClientEnv {
  env: Record<string, string>;
  secretEnv: Record<string, pulumi.Output<string>>;
}

export interface DeveloperToolsArgs {
  namePrefix: string;
  tools: { adminer: boolean; redisCommander: boolean };
  images: { adminer: string; redisCommander: string };
  hostPorts: { adminer: number; redisCommander: number };
  /** Networks of the service databases Adminer can log in to (with the credentials of `connectionStrings`). */
  databaseNetworks: docker.Network[];
  /** The cache Redis Commander browses; without one, Redis Commander is not deployed. */
  cache?: { network: docker.Network; client: CacheClientEnv };
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
export function redisCommanderEnv(client: CacheClientEnv): {
  env: Record<string, string>;
  secretEnv: Record<string, pulumi.Output<string>>;
} {
  if (client.env.REDIS_SENTINELS) {
    return {
      env: { SENTINELS: client.env.REDIS_SENTINELS, SENTINEL_NAME: client.env.REDIS_MASTER_NAME },
      secretEnv: {
        REDIS_PASSWORD: client.secretEnv.REDIS_PASSWORD,
        SENTINEL_PASSWORD: client.secretEnv.REDIS_SENTINEL_PASSWORD,
      },
    };
  }
  return {
    env: { REDIS_HOST: client.env.REDIS_HOST, REDIS_PORT: client.env.REDIS_PORT },
    secretEnv: { REDIS_PASSWORD: client.secretEnv.REDIS_PASSWORD },
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
      const connection = redisCommanderEnv(args.cache.client);
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
