import * as pulumi from "@pulumi/pulumi";
import { REDIS } from "../engines";
import { CacheEndpoint } from "../platform";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { PlatformLabels, healthcheck, httpGet, platformLabels, shellHealthcheck } from "./containerDefaults";
import { platformContainer } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";
import {
  CacheMode,
  EvictionPolicy,
  MASTER_NAME,
  RedisNode,
  planCacheNodes,
  redisMaxmemoryMiB,
  renderRedisConf,
  renderSentinelConf,
} from "../cache/redisConfig";

export interface CacheClusterArgs {
  mode: CacheMode;
  evictionPolicy: EvictionPolicy;
  namePrefix: string;
  image: string;
  exporterImage: string;
  /** Network shared with the services that use the cache. */
  network: docker.Network;
  /** Network Prometheus scrapes the exporter on. */
  monitoringNetwork: docker.Network;
  labels: PlatformLabels;
  memory: ContainerMemory;
}

export const REDIS_EXPORTER_HOST = "redis-exporter";
export const REDIS_EXPORTER_PORT = REDIS.exporter.port;

/**
 * Redis for the services: with Sentinel, a master, two replicas and three sentinels (quorum 2)
 * whose configuration files are rendered and uploaded; or one Redis in `single` mode. Plus a
 * redis_exporter that Prometheus asks for each data node.
 */
export class CacheCluster extends pulumi.ComponentResource {
  readonly mode: CacheMode;
  /** Data nodes (`redis://host:port`) for the exporter's multi-target scrape. */
  readonly dataNodes: string[];
  readonly password: pulumi.Output<string>;
  readonly sentinelPassword: pulumi.Output<string>;
  /** How services reach the cache: through the sentinels, or the single node. */
  readonly endpoint: CacheEndpoint;

  constructor(name: string, args: CacheClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:CacheCluster", name, {}, opts);
    this.mode = args.mode;
    const randomPassword = (suffix: string) =>
      new random.RandomPassword(`${name}-${suffix}`, { length: 32, special: false }, { parent: this }).result;
    this.password = randomPassword("password");
    this.sentinelPassword = randomPassword("sentinel-password");
    const cache: Cache = {
      name,
      args,
      parent: this,
      nodes: planCacheNodes(args.mode),
      password: this.password,
      sentinelPassword: this.sentinelPassword,
    };

    // Every node after the master waits for it.
    let masterContainer: docker.Container | undefined;
    for (const node of cache.nodes) {
      const container = createNode(cache, node, masterContainer);
      if (node.role === "master") masterContainer = container;
    }
    this.dataNodes = cache.nodes.filter((n) => n.role !== "sentinel").map((n) => `redis://${n.host}:${n.port}`);
    createExporter(cache);
    this.endpoint = cacheEndpoint(cache);
    this.registerOutputs({ mode: this.mode, dataNodes: this.dataNodes });
  }
}

/** What every phase shares: the component as parent, the planned nodes and both passwords. */
interface Cache {
  name: string;
  args: CacheClusterArgs;
  parent: pulumi.Resource;
  nodes: RedisNode[];
  password: pulumi.Output<string>;
  sentinelPassword: pulumi.Output<string>;
}

const masterOf = (nodes: RedisNode[]): RedisNode => nodes.find((n) => n.role === "master")!;

/** A node's rendered configuration file: sentinel.conf for sentinels, redis.conf for the data nodes. */
function nodeConfig(cache: Cache, node: RedisNode): pulumi.Output<string> {
  const master = masterOf(cache.nodes);
  const replicas = cache.nodes.filter((n) => n.role === "replica").length;
  return pulumi.all([cache.password, cache.sentinelPassword]).apply(([password, sentinelPassword]) =>
    node.role === "sentinel"
      ? renderSentinelConf(node, {
          password,
          sentinelPassword,
          masterHost: master.host,
          downAfterMilliseconds: 5000,
          failoverTimeoutMilliseconds: 60000,
        })
      : // With replicas, refuse writes that no replica received: a failover then loses at most 10 s.
        renderRedisConf(node, {
          password,
          masterHost: master.host,
          minReplicasToWrite: replicas > 0 ? 1 : 0,
          minReplicasMaxLagSeconds: 10,
          maxmemoryMiB: redisMaxmemoryMiB(cache.args.memory.redis),
          evictionPolicy: cache.args.evictionPolicy,
        }),
  );
}

/**
 * One Redis or Sentinel container, its configuration uploaded (secret) and a redis-cli healthcheck;
 * `pulumi up` waits until it reports healthy, so what depends on the cache starts after every node answers.
 */
function createNode(cache: Cache, node: RedisNode, masterContainer: docker.Container | undefined): docker.Container {
  const { name, args } = cache;
  const isSentinel = node.role === "sentinel";
  const configFile = isSentinel ? "/data/sentinel.conf" : "/data/redis.conf";
  // Data nodes keep their data on a volume; sentinels only their rewritten config.
  const volume = isSentinel
    ? undefined
    : new docker.Volume(
        `${name}-${node.host}-data`,
        { name: `${args.namePrefix}-${node.host}-data`, labels: platformLabels(args.labels) },
        { parent: cache.parent },
      );
  return platformContainer(
    `${name}-${node.host}`,
    {
      host: node.host,
      image: args.image,
      namePrefix: args.namePrefix,
      networks: [args.network],
      labels: args.labels,
      extraLabels: { "platform.cache.role": node.role },
      files: { [configFile]: pulumi.secret(nodeConfig(cache, node)) },
      settings: {
        // `redis-server` (also for sentinels) lets the image's entrypoint hand /data to the redis
        // user and drop root; Sentinel and CONFIG REWRITE then keep their state in the file.
        command: isSentinel ? ["redis-server", configFile, "--sentinel"] : ["redis-server", configFile],
        envs: pulumi.secret(
          (isSentinel ? cache.sentinelPassword : cache.password).apply((pw) => [`REDISCLI_AUTH=${pw}`]),
        ),
        volumes: volume ? [{ volumeName: volume.name, containerPath: "/data" }] : [],
        healthcheck: shellHealthcheck(`redis-cli -p ${node.port} ping | grep -q PONG`, {
          interval: "5s",
          timeout: "3s",
          retries: 10,
          startPeriod: "5s",
        }),
        wait: true,
        waitTimeout: 60,
        memory: isSentinel ? args.memory.sentinel : args.memory.redis,
      },
    },
    { parent: cache.parent, dependsOn: masterContainer ? [masterContainer] : [] },
  );
}

/** redis_exporter on the cache's network and the monitoring one. */
function createExporter(cache: Cache): docker.Container {
  const { args } = cache;
  return platformContainer(
    `${cache.name}-exporter`,
    {
      host: REDIS_EXPORTER_HOST,
      image: args.exporterImage,
      namePrefix: args.namePrefix,
      networks: [args.network, args.monitoringNetwork],
      labels: args.labels,
      settings: {
        envs: pulumi.secret(cache.password.apply((pw) => [`REDIS_PASSWORD=${pw}`])),
        memory: args.memory.exporter,
        // The -alpine image (engines.ts) has busybox wget; `/health` answers without touching Redis,
        // where `/metrics` would scrape the default localhost:6379 that is not there (targets come per scrape).
        healthcheck: healthcheck(httpGet("wget", REDIS_EXPORTER_PORT, "/health"), { interval: "30s" }),
      },
    },
    { parent: cache.parent },
  );
}

function cacheEndpoint(cache: Cache): CacheEndpoint {
  const master = masterOf(cache.nodes);
  const sentinels = cache.nodes.filter((n) => n.role === "sentinel");
  return {
    host: master.host,
    port: master.port,
    tls: false,
    password: cache.password,
    sentinel: sentinels.length
      ? {
          addresses: sentinels.map((s) => `${s.host}:${s.port}`),
          masterName: MASTER_NAME,
          password: cache.sentinelPassword,
        }
      : undefined,
    location: { kind: "local" },
  };
}
