import { StackRule } from "../rule";
import { T } from "../types";

export const consumerQueuesHaveDlq: StackRule = {
  kind: "stack",
  name: "consumer-queues-have-dlq",
  description: "Every consumer queue dead-letters into a DLQ bound on its dead-letter exchange.",
  severity: "high",
  remediation: "Declare the consumer in the catalog; the topology adds its DLQ",
  check: (resources) => {
    const queues = resources
      .filter((r) => r.type === T.queue)
      .map((r) => ({
        urn: r.urn,
        name: r.props.name as string,
        args: JSON.parse(r.props.settings?.argumentsJson ?? "{}"),
      }));
    const bindings = resources.filter((r) => r.type === T.binding).map((r) => r.props);
    // In-cluster brokers load the same topology from a definitions Secret.
    for (const secret of resources.filter((r) => r.type === T.secret && r.props.stringData?.["load_definition.json"])) {
      const definitions = JSON.parse(secret.props.stringData["load_definition.json"]);
      queues.push(...definitions.queues.map((q: any) => ({ urn: secret.urn, name: q.name, args: q.arguments })));
      bindings.push(
        ...definitions.bindings.map((b: any) => ({
          source: b.source,
          destination: b.destination,
          routingKey: b.routing_key,
        })),
      );
    }
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
