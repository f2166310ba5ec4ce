import { DEPLOYMENT, pod, resource, RuleCase } from "./fixtures";

const QUEUE = "rabbitmq:index/queue:Queue";
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
