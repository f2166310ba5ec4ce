/**
 * Every threshold of the managed stores' CloudWatch alarms. Prometheus cannot scrape these stores
 * (no exporter runs next to them, and Amazon MQ has no rabbitmq_prometheus plugin), so prod watches
 * them through the metrics AWS publishes.
 */
export const STORE_ALARM_THRESHOLDS = {
  /** Sustained CPU of an RDS instance, a cache node's Redis thread, DocumentDB or a broker node. */
  cpuPercent: 80,
  /** RDS: free storage below this share of the allocated size (where storage autoscaling starts too). */
  rdsFreeStorageFraction: 0.1,
  /**
   * RDS: open connections. PostgreSQL on RDS allows LEAST(DBInstanceClassMemory/9531392, 5000),
   * about 410 on db.t4g.medium (platform:aws.rds.instanceClass's default): 300 leaves room to react.
   */
  rdsConnections: 300,
  /** ElastiCache: used share of the memory Redis may use (maxmemory). */
  cacheMemoryPercent: 80,
  /** ElastiCache: keys evicted in 5 minutes; volatile-lru drops cache entries, this many mean the cache is too small. */
  cacheEvictions: 1000,
  /** ElastiCache: client connections (Redis accepts 65,000). */
  cacheConnections: 5000,
  /** ElastiCache: how far a replica trails the primary, in seconds. */
  cacheReplicationLagSeconds: 30,
  /** DocumentDB: open connections (db.t4g.medium, the default class, allows 500). */
  documentDbConnections: 400,
  /** DocumentDB: how far the furthest replica trails the primary, in milliseconds. */
  documentDbReplicaLagMs: 5000,
  /** Amazon MQ: messages waiting in all of the broker's queues together. */
  brokerMessages: 10000,
  /** Amazon MQ: a node's memory as a share of RabbitMQ's high watermark, where it blocks every publisher. */
  brokerMemoryOfWatermark: 0.8,
} as const;

/**
 * RabbitMQ 4's vm_memory_high_watermark.relative (0.4 before 4.0), which Amazon MQ keeps at the
 * default: the broker blocks publishers above this share of the node's memory.
 */
const RABBITMQ_MEMORY_WATERMARK = 0.6;

/**
 * Memory (GiB) of the instance types Amazon MQ runs RabbitMQ 4 on: mq.m7g only (Amazon MQ
 * developer guide, "RabbitMQ 4"; mq.m7g.medium is meant for tests).
 */
export const BROKER_INSTANCE_MEMORY_GIB: Record<string, number> = {
  "mq.m7g.medium": 4,
  "mq.m7g.large": 8,
  "mq.m7g.xlarge": 16,
  "mq.m7g.2xlarge": 32,
  "mq.m7g.4xlarge": 64,
  "mq.m7g.8xlarge": 128,
  "mq.m7g.12xlarge": 192,
  "mq.m7g.16xlarge": 256,
};

/** The managed stores of a stack, as the alarms name them. */
export interface ManagedStores {
  rds?: { instances: Array<{ key: string; identifier: string }>; allocatedStorageGb: number };
  /** ElastiCache (cluster mode disabled): the replication group and its node count. */
  cache?: { replicationGroupId: string; nodes: number };
  documentDb?: { clusterIdentifier: string; instances: number };
  broker?: { name: string; instanceType: string };
}

type Statistic = "Average" | "Minimum" | "Maximum" | "Sum";

/** One CloudWatch alarm, before it is declared. */
export interface StoreAlarm {
  /** `{store}-{what}`: the alarm's name after the stack's prefix. */
  name: string;
  description: string;
  /** A metric with its dimensions, or a Metrics Insights query (over nodes whose names AWS picks). */
  metric:
    { namespace: string; name: string; dimensions: Record<string, string>; statistic: Statistic } | { query: string };
  comparison: "GreaterThanThreshold" | "LessThanThreshold";
  threshold: number;
  periodSeconds: number;
  /** Consecutive periods past the threshold before the alarm fires. */
  periods: number;
  /** `notBreaching` where no data is normal: a primary publishes no replication lag, an empty queue no depth. */
  missingData: "missing" | "notBreaching";
}

const T = STORE_ALARM_THRESHOLDS;
/** Three 5-minute periods: a quarter of an hour past the threshold. */
const FIFTEEN_MINUTES = { periodSeconds: 300, periods: 3, missingData: "missing" as const };
type Timing = Pick<StoreAlarm, "periodSeconds" | "periods" | "missingData">;

const alarm =
  (comparison: StoreAlarm["comparison"]) =>
  (
    name: string,
    description: string,
    metric: StoreAlarm["metric"],
    threshold: number,
    timing: Timing = FIFTEEN_MINUTES,
  ): StoreAlarm => ({ name, description, metric, comparison, threshold, ...timing });
const above = alarm("GreaterThanThreshold");
const below = alarm("LessThanThreshold");

const metric = (namespace: string, name: string, dimensions: Record<string, string>, statistic: Statistic) => ({
  namespace,
  name,
  dimensions,
  statistic,
});

/** Every alarm of the stack's managed stores. */
export function storeAlarms(stores: ManagedStores): StoreAlarm[] {
  return [
    ...(stores.rds ? rdsAlarms(stores.rds) : []),
    ...(stores.cache ? cacheAlarms(stores.cache) : []),
    ...(stores.documentDb ? documentDbAlarms(stores.documentDb) : []),
    ...(stores.broker ? brokerAlarms(stores.broker) : []),
  ];
}

/** CPU, free storage and connections of each instance; Multi-AZ standbys publish no ReplicaLag (no read replicas). */
function rdsAlarms(rds: NonNullable<ManagedStores["rds"]>): StoreAlarm[] {
  const freeBytes = rds.allocatedStorageGb * T.rdsFreeStorageFraction * 1024 ** 3;
  return rds.instances.flatMap(({ key, identifier }) => {
    const rdsMetric = (name: string, statistic: Statistic) =>
      metric("AWS/RDS", name, { DBInstanceIdentifier: identifier }, statistic);
    return [
      above(
        `rds-${key}-cpu`,
        `${identifier}: CPU above ${T.cpuPercent}%`,
        rdsMetric("CPUUtilization", "Average"),
        T.cpuPercent,
      ),
      below(
        `rds-${key}-free-storage`,
        `${identifier}: less than ${T.rdsFreeStorageFraction * 100}% of its storage free`,
        rdsMetric("FreeStorageSpace", "Minimum"),
        freeBytes,
      ),
      above(
        `rds-${key}-connections`,
        `${identifier}: more than ${T.rdsConnections} connections`,
        rdsMetric("DatabaseConnections", "Maximum"),
        T.rdsConnections,
      ),
    ];
  });
}

/**
 * Per node of the replication group (`{group}-001`, `-002`... as ElastiCache names the member
 * clusters of a group without cluster mode): Redis' CPU, memory, evictions, connections, and
 * replication lag (published by the replicas only).
 */
function cacheAlarms(cache: NonNullable<ManagedStores["cache"]>): StoreAlarm[] {
  return Array.from(
    { length: cache.nodes },
    (_, i) => `${cache.replicationGroupId}-${String(i + 1).padStart(3, "0")}`,
  ).flatMap((node, i) => {
    const key = `cache-${i + 1}`;
    const cacheMetric = (name: string, statistic: Statistic) =>
      metric("AWS/ElastiCache", name, { CacheClusterId: node }, statistic);
    return [
      above(
        `${key}-cpu`,
        `${node}: Redis CPU above ${T.cpuPercent}%`,
        cacheMetric("EngineCPUUtilization", "Average"),
        T.cpuPercent,
      ),
      above(
        `${key}-memory`,
        `${node}: more than ${T.cacheMemoryPercent}% of its memory used`,
        cacheMetric("DatabaseMemoryUsagePercentage", "Maximum"),
        T.cacheMemoryPercent,
      ),
      above(
        `${key}-evictions`,
        `${node}: more than ${T.cacheEvictions} keys evicted in 5 minutes`,
        cacheMetric("Evictions", "Sum"),
        T.cacheEvictions,
        { ...FIFTEEN_MINUTES, periods: 1 },
      ),
      above(
        `${key}-connections`,
        `${node}: more than ${T.cacheConnections} connections`,
        cacheMetric("CurrConnections", "Maximum"),
        T.cacheConnections,
      ),
      above(
        `${key}-replication-lag`,
        `${node}: more than ${T.cacheReplicationLagSeconds}s behind the primary`,
        cacheMetric("ReplicationLag", "Maximum"),
        T.cacheReplicationLagSeconds,
        { ...FIFTEEN_MINUTES, missingData: "notBreaching" },
      ),
    ];
  });
}

/** The cluster's CPU, connections and replica lag; its volume grows by itself, so no free-storage alarm. */
function documentDbAlarms(documentDb: NonNullable<ManagedStores["documentDb"]>): StoreAlarm[] {
  const id = documentDb.clusterIdentifier;
  const docdbMetric = (name: string, statistic: Statistic) =>
    metric("AWS/DocDB", name, { DBClusterIdentifier: id }, statistic);
  return [
    above("docdb-cpu", `${id}: CPU above ${T.cpuPercent}%`, docdbMetric("CPUUtilization", "Maximum"), T.cpuPercent),
    above(
      "docdb-connections",
      `${id}: more than ${T.documentDbConnections} connections`,
      docdbMetric("DatabaseConnections", "Maximum"),
      T.documentDbConnections,
    ),
    ...(documentDb.instances > 1
      ? [
          above(
            "docdb-replica-lag",
            `${id}: a replica more than ${T.documentDbReplicaLagMs} ms behind`,
            docdbMetric("DBClusterReplicaLagMaximum", "Maximum"),
            T.documentDbReplicaLagMs,
          ),
        ]
      : []),
  ];
}

/**
 * The nodes' CPU and memory (Metrics Insights: Amazon MQ names the nodes) and the messages waiting
 * on the broker. Not each dead-letter queue's depth: Amazon MQ publishes no per-queue metrics for
 * RabbitMQ 4 brokers (Amazon MQ developer guide, "RabbitMQ 4", features not supported), so such an
 * alarm would never see data (docs/messaging.md, "Watching the DLQs on Amazon MQ").
 */
function brokerAlarms(broker: NonNullable<ManagedStores["broker"]>): StoreAlarm[] {
  const nodes = (name: string) =>
    `SELECT MAX(${name}) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) WHERE Broker = '${broker.name}'`;
  // Config validation accepts only the instance types of the table.
  const memoryGib = BROKER_INSTANCE_MEMORY_GIB[broker.instanceType];
  return [
    above(
      "mq-cpu",
      `${broker.name}: a node's CPU above ${T.cpuPercent}%`,
      { query: nodes("SystemCpuUtilization") },
      T.cpuPercent,
    ),
    above(
      "mq-memory",
      `${broker.name}: a node past ${T.brokerMemoryOfWatermark * 100}% of the memory at which RabbitMQ blocks publishers`,
      { query: nodes("RabbitMQMemUsed") },
      Math.round(memoryGib * 1024 ** 3 * RABBITMQ_MEMORY_WATERMARK * T.brokerMemoryOfWatermark),
    ),
    above(
      "mq-messages",
      `${broker.name}: more than ${T.brokerMessages} messages waiting`,
      metric("AWS/AmazonMQ", "MessageCount", { Broker: broker.name }, "Maximum"),
      T.brokerMessages,
    ),
  ];
}
