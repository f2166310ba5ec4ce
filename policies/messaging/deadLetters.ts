import { PolicyResource } from "@pulumi/policy";
import { Requirement, ResourceRule, StackRule, unmet } from "../rule";
import { T } from "../types";

interface DeclaredQueue {
  urn: string;
  name: string;
  type?: string;
  durable?: boolean;
  args: Record<string, unknown>;
}

/**
 * A queue as either form declares it: a @pulumi/rabbitmq Queue (dev, Amazon MQ; its type among
 * the arguments) or a Messaging Topology Operator Queue (in-cluster; its type a field of its own).
 */
function declaredQueue(type: string, props: Record<string, any>, urn = ""): DeclaredQueue {
  if (type === T.queueObject) {
    const spec = props.spec ?? {};
    return {
      urn,
      name: spec.name,
      type: spec.type ?? spec.arguments?.["x-queue-type"],
      durable: spec.durable,
      args: spec.arguments ?? {},
    };
  }
  const args = JSON.parse(props.settings?.argumentsJson ?? "{}");
  return { urn, name: props.name, type: args["x-queue-type"], durable: props.settings?.durable, args };
}

const bindingOf = (r: PolicyResource) => (r.type === T.bindingObject ? (r.props.spec ?? {}) : r.props);

export const consumerQueuesHaveDlq: StackRule = {
  kind: "stack",
  name: "consumer-queues-have-dlq",
  description: "Every consumer queue dead-letters into a DLQ bound on its dead-letter exchange.",
  severity: "high",
  remediation: "Declare the consumer in the catalog; the topology adds its DLQ",
  check: (resources) => {
    const queues = resources
      .filter((r) => r.type === T.queue || r.type === T.queueObject)
      .map((r) => declaredQueue(r.type, r.props, r.urn));
    const bindings = resources.filter((r) => r.type === T.binding || r.type === T.bindingObject).map(bindingOf);
    const consumers = queues.filter((q) => !/\.(dlq|retry\.\d+)$/.test(q.name));
    return consumers
      .filter((q) => {
        const dlx = q.args["x-dead-letter-exchange"];
        const key = q.args["x-dead-letter-routing-key"] ?? q.name;
        return (
          !dlx || !bindings.some((b) => b.source === dlx && b.routingKey === key && b.destination === `${q.name}.dlq`)
        );
      })
      .map((q) => ({ message: `queue ${q.name} has no dead-letter queue`, urn: q.urn }));
  },
};

export const quorumQueues: ResourceRule = {
  kind: "resource",
  name: "quorum-queues",
  description:
    "Every queue is a durable quorum queue, replicated on a multi-node broker (dev's single node runs the same type), " +
    "and one that dead-letters does so at least once.",
  severity: "high",
  remediation:
    "Declare queues from the topology plan (components/messaging/topology.ts), which renders x-queue-type quorum and " +
    "at-least-once dead-lettering; see docs/messaging.md",
  types: [T.queue, T.queueObject],
  check: (props, type) => {
    const queue = declaredQueue(type, props);
    const requirements: Requirement[] = [
      [queue.type === "quorum", `queue ${queue.name} is not a quorum queue: a node failure loses its messages`],
      [queue.durable === true, `queue ${queue.name} is not durable`],
    ];
    if (queue.args["x-dead-letter-exchange"] !== undefined)
      requirements.push([
        queue.args["x-dead-letter-strategy"] === "at-least-once" && queue.args["x-overflow"] === "reject-publish",
        `queue ${queue.name} dead-letters at most once (needs x-dead-letter-strategy at-least-once with x-overflow reject-publish)`,
      ]);
    return unmet(requirements);
  },
};
