import { DEPLOYMENT, pod, resource, RuleCase } from "./fixtures";

const QUEUE = "rabbitmq:index/queue:Queue";
const QUEUE_OBJECT = "kubernetes:rabbitmq.com/v1beta1:Queue";
/** What the topology plan renders for a consumer queue (components/messaging/topology.ts). */
const QUORUM_CONSUMER = {
  "x-queue-type": "quorum",
  "x-dead-letter-exchange": "platform.dlx",
  "x-dead-letter-routing-key": "orders.events",
  "x-dead-letter-strategy": "at-least-once",
  "x-overflow": "reject-publish",
};
const pulumiQueue = (args: Record<string, unknown>, durable = true) =>
  resource(QUEUE, { name: "orders.events", settings: { durable, argumentsJson: JSON.stringify(args) } });
const queueObject = (spec: Record<string, unknown>) =>
  resource(QUEUE_OBJECT, {
    apiVersion: "rabbitmq.com/v1beta1",
    kind: "Queue",
    metadata: { name: "orders.events", namespace: "messaging" },
    spec: { name: "orders.events", durable: true, rabbitmqClusterReference: { name: "rabbitmq" }, ...spec },
  });
const DATABASE = "postgresql:index/database:Database";
const STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";
const replicated = resource(
  DEPLOYMENT,
  pod((p) => (p.spec.replicas = 3)),
);

export const PLATFORM_CASES: Record<string, RuleCase> = {
  "consumer-queues-have-dlq": {
    bad: [
      {
        why: "a consumer queue without a dead-letter exchange",
        resources: [resource(QUEUE, { name: "orders.events", settings: { argumentsJson: "{}" } })],
        says: ["queue orders.events has no dead-letter queue"],
      },
    ],
    good: [
      {
        why: "dead-lettered into its DLQ",
        resources: [
          resource(
            QUEUE,
            {
              name: "orders.events",
              settings: {
                argumentsJson: JSON.stringify({
                  "x-dead-letter-exchange": "platform.dlx",
                  "x-dead-letter-routing-key": "orders.events",
                }),
              },
            },
            "a",
          ),
          resource(QUEUE, { name: "orders.events.dlq", settings: { argumentsJson: "{}" } }, "b"),
          resource(
            "rabbitmq:index/binding:Binding",
            { source: "platform.dlx", destination: "orders.events.dlq", routingKey: "orders.events" },
            "c",
          ),
        ],
      },
    ],
  },
  "quorum-queues": {
    bad: [
      {
        why: "a classic queue (no x-queue-type) on Amazon MQ or dev",
        resources: [pulumiQueue({ "x-max-length": 100 })],
        says: ["queue orders.events is not a quorum queue: a node failure loses its messages"],
      },
      {
        why: "a quorum queue that dead-letters at most once (the default drop-head overflow)",
        resources: [pulumiQueue({ ...QUORUM_CONSUMER, "x-overflow": "drop-head" })],
        says: [
          "queue orders.events dead-letters at most once (needs x-dead-letter-strategy at-least-once with x-overflow reject-publish)",
        ],
      },
      {
        why: "a classic, non-durable queue object of the in-cluster broker",
        resources: [queueObject({ type: "classic", durable: false })],
        says: [
          "queue orders.events is not a quorum queue: a node failure loses its messages",
          "queue orders.events is not durable",
        ],
      },
    ],
    good: [
      { why: "a consumer queue as the plan renders it", resources: [pulumiQueue(QUORUM_CONSUMER)] },
      {
        why: "a DLQ, which dead-letters nowhere",
        resources: [pulumiQueue({ "x-queue-type": "quorum", "x-max-length": 10, "x-overflow": "reject-publish" })],
      },
      {
        why: "the in-cluster broker's queue object, its type a field",
        resources: [queueObject({ type: "quorum", arguments: QUORUM_CONSUMER })],
      },
    ],
  },
  "own-database-role": {
    bad: [
      {
        why: "one login owning two databases",
        resources: [
          resource(DATABASE, { name: "a", owner: "shared_app" }, "a"),
          resource(DATABASE, { name: "b", owner: "shared_app" }, "b"),
        ],
        says: ["login shared_app owns 2 databases", "login shared_app owns 2 databases"],
      },
    ],
    good: [
      {
        why: "a login each",
        resources: [
          resource(DATABASE, { name: "a", owner: "a_app" }, "a"),
          resource(DATABASE, { name: "b", owner: "b_app" }, "b"),
        ],
      },
    ],
  },
  "pdb-for-replicated-pods": {
    bad: [
      {
        why: "three replicas, no budget",
        resources: [replicated],
        says: ["deployment orders runs 3 replicas and has no PodDisruptionBudget"],
      },
    ],
    good: [
      {
        why: "a budget selecting its pods",
        resources: [
          replicated,
          resource(
            "kubernetes:policy/v1:PodDisruptionBudget",
            { metadata: { namespace: "shop" }, spec: { selector: { matchLabels: { app: "orders" } } } },
            "pdb",
          ),
        ],
      },
    ],
  },
  "encrypted-storage-classes": {
    bad: [
      {
        why: "EBS without encryption (CSI and in-tree)",
        resources: [
          resource(
            STORAGE_CLASS,
            { metadata: { name: "gp3" }, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3" } },
            "a",
          ),
          resource(
            STORAGE_CLASS,
            { metadata: { name: "gp2" }, provisioner: "kubernetes.io/aws-ebs", parameters: { encrypted: "false" } },
            "b",
          ),
        ],
        says: [
          "StorageClass gp3 provisions unencrypted EBS volumes",
          "StorageClass gp2 provisions unencrypted EBS volumes",
        ],
      },
    ],
    good: [
      {
        why: "encrypted EBS; another provisioner",
        resources: [
          resource(
            STORAGE_CLASS,
            { metadata: { name: "gp3-encrypted" }, provisioner: "ebs.csi.aws.com", parameters: { encrypted: "true" } },
            "a",
          ),
          resource(STORAGE_CLASS, { metadata: { name: "efs" }, provisioner: "efs.csi.aws.com", parameters: {} }, "b"),
        ],
      },
    ],
  },
};
