import { BrokerUserPlan, TopologyPlan } from "../messaging/topology";
import { HASH_LENGTH, fitName, nameHash } from "../naming";

/**
 * The catalog's broker topology as the objects of the RabbitMQ Messaging Topology Operator
 * (rabbitmq.com/v1beta1: Vhost, Exchange, Queue, Binding, User, Permission, TopicPermission), and
 * the RabbitmqCluster of the Cluster Operator they are declared on. Pure: InClusterBroker
 * declares exactly these. The fields are those of the operators' CRDs at the pinned releases
 * (messaging-topology-operator v1.20.1 api/v1beta1/*_types.go, cluster-operator v2.22.3
 * api/v1beta1/rabbitmqcluster_types.go); test/helpers/rabbitmqCrds.ts checks them.
 */
export const RABBITMQ_API_VERSION = "rabbitmq.com/v1beta1";
/** The in-cluster broker's RabbitmqCluster; the Cluster Operator names its client Service (and the nodes' label) after it. */
export const RABBITMQ_CLUSTER = "rabbitmq";

export interface RabbitmqObject {
  apiVersion: typeof RABBITMQ_API_VERSION;
  kind: "RabbitmqCluster" | "Vhost" | "Exchange" | "Queue" | "Binding" | "User" | "Permission" | "TopicPermission";
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

/** What a topology object needs to know of the cluster it is declared on. */
export interface TopologyTarget {
  /** The RabbitmqCluster's name (also its client Service's). */
  cluster: string;
  namespace: string;
  /** The Secret holding a user's `username` and `password`, which its User imports. */
  credentialsSecret: (user: BrokerUserPlan) => string;
}

/** A DNS subdomain of at most 253 characters: what most Kubernetes object names must be. */
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A Kubernetes object name for broker names (`sales.events`, `orders.payments.retry.1`): the
 * name itself when it is a valid one, else its characters made valid and a hash of the original
 * appended, so that two names that differ only in invalid characters (`*` and `#` of binding
 * keys, `_` of domains) never share an object.
 */
export function objectName(...parts: string[]): string {
  const name = parts.join(".");
  if (SUBDOMAIN.test(name)) return name;
  const labels = name
    .toLowerCase()
    .split(".")
    .map((label) => label.replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, ""))
    .filter(Boolean);
  const head = fitName(labels.join(".") || "x", 253 - HASH_LENGTH - 1).replace(/[.-]+$/, "");
  return `${head}-${nameHash(name)}`;
}

type ObjectOf = (kind: RabbitmqObject["kind"], name: string, spec: Record<string, unknown>) => RabbitmqObject;

/** Every object of the plan, the vhost first, then exchanges, queues, bindings, users and their permissions. */
export function topologyObjects(plan: TopologyPlan, target: TopologyTarget): RabbitmqObject[] {
  const object: ObjectOf = (kind, name, spec) => ({
    apiVersion: RABBITMQ_API_VERSION,
    kind,
    metadata: { name, namespace: target.namespace },
    spec: { ...spec, rabbitmqClusterReference: { name: target.cluster } },
  });
  const vhost = plan.vhost;
  return [
    // A queue declared without a type (by a client library, say) is a quorum queue too.
    object("Vhost", objectName(vhost), { name: vhost, defaultQueueType: "quorum" }),
    ...plan.exchanges.map((e) =>
      object("Exchange", objectName(e.name), { name: e.name, vhost, type: e.type, durable: true, autoDelete: false }),
    ),
    ...plan.queues.map((q) =>
      object("Queue", objectName(q.name), {
        name: q.name,
        vhost,
        type: q.type,
        // The operator declares a queue non-durable unless told (internal/queue_settings.go), and
        // its webhook refuses a quorum queue that is not durable (queue_webhook.go).
        durable: true,
        autoDelete: false,
        arguments: q.arguments,
      }),
    ),
    ...plan.bindings.map((b) =>
      object("Binding", objectName(b.source, b.destination, b.routingKey), {
        vhost,
        source: b.source,
        destination: b.destination,
        destinationType: "queue",
        routingKey: b.routingKey,
      }),
    ),
    ...plan.users.flatMap((user) => userObjects(user, vhost, target.credentialsSecret(user), object)),
  ];
}

/** A service's User (its login imported from its Secret), its permissions on the vhost and its topic permissions. */
function userObjects(user: BrokerUserPlan, vhost: string, secret: string, object: ObjectOf): RabbitmqObject[] {
  const name = objectName(user.username);
  // Referenced, not named: the operator takes the username from the User once it exists.
  const userReference = { name };
  return [
    object("User", name, { tags: [], importCredentialsSecret: { name: secret } }),
    object("Permission", name, { vhost, userReference, permissions: user.permissions }),
    ...user.topicPermissions.map((topic) =>
      object("TopicPermission", objectName(user.username, topic.exchange), {
        vhost,
        userReference,
        permissions: topic,
      }),
    ),
  ];
}
