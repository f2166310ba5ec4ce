import { Catalog, Consumer, Service } from "../../services/schema";
import { domainExchange, domainOf, retryDelays } from "../../services/validate";

/**
 * The broker topology of a catalog as plain data. The BrokerTopology component declares exactly
 * this through @pulumi/rabbitmq, and the same plan renders RabbitMQ definitions for checks on a
 * real broker, so both always agree.
 */
export interface TopologyPlan {
  vhost: string;
  exchanges: ExchangePlan[];
  queues: QueuePlan[];
  bindings: BindingPlan[];
  users: BrokerUserPlan[];
}

export interface ExchangePlan {
  name: string;
  type: "topic" | "direct";
}
export type QueueArguments = Record<string, string | number>;
export interface QueuePlan {
  name: string;
  service: string;
  role: "consumer" | "dead-letter" | "retry";
  /** Every queue's `x-queue-type`, also in `arguments`: the CRDs name it apart (docs/messaging.md). */
  type: typeof QUEUE_TYPE;
  arguments: QueueArguments;
  /**
   * A consumer queue's catalog `maxPriority`: quorum queues order priorities 0-31 with no argument,
   * so it is kept here rather than as `x-max-priority`, which they ignore (docs/messaging.md).
   */
  maxPriority?: number;
}
export interface BindingPlan {
  source: string;
  destination: string;
  routingKey: string;
}
export interface PermissionPlan {
  configure: string;
  write: string;
  read: string;
}
export interface TopicPermissionPlan {
  exchange: string;
  write: string;
  read: string;
}
/** What a service's code needs to know of its part of the topology (docs/env-contract.md). */
export interface ServiceMessaging {
  username: string;
  /** Routing keys it may publish, in catalog order. */
  publishes: string[];
  /** Queues it consumes from, in catalog order. */
  consumerQueues: string[];
  /** Per consumer queue: deliveries before a message is dead-lettered (1 without `retry`). */
  maxAttempts: Record<string, number>;
  /**
   * Its exchange for failed messages: routing key `{queue}.retry.{n}` parks one for retry n,
   * `{queue}.dlq` dead-letters it. Absent for a service that only publishes.
   */
  retryExchange?: string;
}

/** The part of a user's plan its service's env carries. */
export function serviceMessaging(user: BrokerUserPlan): ServiceMessaging {
  const { username, publishes, consumerQueues, maxAttempts, retryExchange } = user;
  return { username, publishes, consumerQueues, maxAttempts, retryExchange };
}

export interface BrokerUserPlan extends ServiceMessaging {
  service: string;
  permissions: PermissionPlan;
  topicPermissions: TopicPermissionPlan[];
}

/** One dead-letter exchange per vhost; each queue dead-letters with its own name as routing key. */
export const DEAD_LETTER_EXCHANGE = "platform.dlx";

/**
 * Every queue the platform declares is a quorum queue: replicated on a quorum of nodes on the
 * 3-node brokers of prod, the same queue type on dev's single node, so both behave alike.
 */
export const QUEUE_TYPE = "quorum";

/**
 * Failed deliveries of one message a consumer queue tolerates outside the retry protocol, which
 * acknowledges every delivery it handles: these are deliveries its consumer never settled (the
 * process crashed, or its connection was lost). Past the limit the broker dead-letters the message
 * into the DLQ, so a message that crashes every consumer stops blocking the queue. A node failover
 * costs a message one such delivery at most.
 */
export const DELIVERY_LIMIT = 10;

export const consumerQueue = (service: string, consumer: Consumer) => `${service}.${consumer.name}`;
/** Ends the name of every DLQ (the DLQ alert selects queues by it). */
export const DEAD_LETTER_SUFFIX = ".dlq";
export const deadLetterQueue = (queue: string) => `${queue}${DEAD_LETTER_SUFFIX}`;
export const retryExchange = (service: string) => `${service}.retry`;
export const retryQueue = (queue: string, attempt: number) => `${queue}.retry.${attempt}`;

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Anchored alternation of exact names; `^$` (matches no resource) for none. */
export function exactNames(names: string[]): string {
  return names.length === 0 ? "^$" : `^(${[...new Set(names)].map(escapeRegex).join("|")})$`;
}

export function planTopology(catalog: Catalog): TopologyPlan {
  const domains = new Set<string>();
  for (const service of catalog.services) {
    service.events.publishes.forEach((key) => domains.add(domainOf(key)));
    service.events.consumes.forEach((c) => c.bindings.forEach((pattern) => domains.add(domainOf(pattern))));
  }
  const exchanges: ExchangePlan[] = [...domains].sort().map((d) => ({ name: domainExchange(d), type: "topic" }));
  const queues: QueuePlan[] = [];
  const bindings: BindingPlan[] = [];
  const users: BrokerUserPlan[] = [];

  if (catalog.services.some((s) => s.events.consumes.length > 0)) {
    exchanges.push({ name: DEAD_LETTER_EXCHANGE, type: "direct" });
  }

  for (const service of catalog.services) {
    const planned = planServiceQueues(service);
    if (planned.retryExchange) exchanges.push({ name: planned.retryExchange, type: "direct" });
    queues.push(...planned.queues);
    bindings.push(...planned.bindings);
    if (service.events.publishes.length === 0 && service.events.consumes.length === 0) continue;
    users.push(planUser(service, planned));
  }
  return { vhost: catalog.name, exchanges, queues, bindings, users };
}

interface ServiceQueues {
  queues: QueuePlan[];
  bindings: BindingPlan[];
  consumerQueues: string[];
  maxAttempts: Record<string, number>;
  retryExchange?: string;
}

function planServiceQueues(service: Service): ServiceQueues {
  const result: ServiceQueues = { queues: [], bindings: [], consumerQueues: [], maxAttempts: {} };
  // The consumer itself republishes a failed message, for a retry or to its DLQ, through this exchange.
  const failures = retryExchange(service.name);
  if (service.events.consumes.length > 0) result.retryExchange = failures;
  for (const consumer of service.events.consumes) {
    const queue = consumerQueue(service.name, consumer);
    const args: QueueArguments = {
      ...deadLettersAtLeastOnce(DEAD_LETTER_EXCHANGE, queue),
      "x-delivery-limit": DELIVERY_LIMIT,
    };
    if (consumer.messageTtlMs !== undefined) args["x-message-ttl"] = consumer.messageTtlMs;
    if (consumer.maxLength !== undefined) args["x-max-length"] = consumer.maxLength;
    const planned: QueuePlan = {
      name: queue,
      service: service.name,
      role: "consumer",
      type: QUEUE_TYPE,
      arguments: args,
    };
    if (consumer.maxPriority !== undefined) planned.maxPriority = consumer.maxPriority;
    result.queues.push(planned);
    result.consumerQueues.push(queue);
    result.maxAttempts[queue] = consumer.retry?.maxAttempts ?? 1;
    for (const pattern of consumer.bindings) {
      result.bindings.push({ source: domainExchange(domainOf(pattern)), destination: queue, routingKey: pattern });
    }

    const dlq = deadLetterQueue(queue);
    result.queues.push({
      name: dlq,
      service: service.name,
      role: "dead-letter",
      type: QUEUE_TYPE,
      arguments: deadLetterArguments(consumer),
    });
    result.bindings.push({ source: DEAD_LETTER_EXCHANGE, destination: dlq, routingKey: queue });
    result.bindings.push({ source: failures, destination: dlq, routingKey: dlq });

    retryDelays(consumer.retry).forEach((delayMs, i) => {
      const name = retryQueue(queue, i + 1);
      // A parked message expires after its delay and is dead-lettered through the default
      // exchange straight back onto the consumer queue.
      result.queues.push({
        name,
        service: service.name,
        role: "retry",
        type: QUEUE_TYPE,
        arguments: { ...deadLettersAtLeastOnce("", queue), "x-message-ttl": delayMs },
      });
      result.bindings.push({ source: failures, destination: name, routingKey: name });
    });
  }
  return result;
}

/**
 * A quorum queue that dead-letters at least once: it keeps a dead letter until the target queue
 * has confirmed it (a failover or a full DLQ delays it, never loses it). RabbitMQ requires
 * `reject-publish` overflow for that (at its `x-max-length` the queue refuses new messages, a
 * publisher with confirms gets a nack); with the default drop-head it would fall back to at most once.
 */
function deadLettersAtLeastOnce(exchange: string, routingKey: string): QueueArguments {
  return {
    "x-queue-type": QUEUE_TYPE,
    "x-dead-letter-exchange": exchange,
    "x-dead-letter-routing-key": routingKey,
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
  };
}

/**
 * At its bound a DLQ refuses the newest message instead of dropping its oldest (drop-head, the
 * default). A publisher with confirms gets a nack; a dead letter stays in the queue it comes from
 * until the DLQ has room (at-least-once dead-lettering): hence the alert on a DLQ holding
 * messages, long before it fills.
 */
function deadLetterArguments(consumer: Consumer): QueueArguments {
  const args: QueueArguments = {
    "x-queue-type": QUEUE_TYPE,
    "x-max-length": consumer.dlq.maxLength,
    "x-overflow": "reject-publish",
  };
  if (consumer.dlq.maxLengthBytes !== undefined) args["x-max-length-bytes"] = consumer.dlq.maxLengthBytes;
  return args;
}

/** Least privilege: a service configures and reads only its own queues and writes only its own keys. */
function planUser(service: Service, planned: ServiceQueues): BrokerUserPlan {
  const ownQueues = planned.queues.map((q) => q.name);
  const readable = planned.queues.filter((q) => q.role !== "retry").map((q) => q.name);
  const publishDomains = [...new Set(service.events.publishes.map(domainOf))].sort();
  const writable = publishDomains.map(domainExchange);
  if (planned.retryExchange) writable.push(planned.retryExchange);
  return {
    service: service.name,
    username: service.name,
    permissions: { configure: exactNames(ownQueues), write: exactNames(writable), read: exactNames(readable) },
    topicPermissions: publishDomains.map((domain) => ({
      exchange: domainExchange(domain),
      write: exactNames(service.events.publishes.filter((key) => domainOf(key) === domain)),
      read: "^$",
    })),
    publishes: service.events.publishes,
    consumerQueues: planned.consumerQueues,
    maxAttempts: planned.maxAttempts,
    retryExchange: planned.retryExchange,
  };
}
