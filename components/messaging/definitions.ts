import { createHash } from "crypto";
import { TopologyPlan } from "./topology";

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ password)) with a
 * 4-byte salt. The salt is derived from the user and password so the same inputs always render
 * the same file (no spurious diff on every `pulumi up`).
 */
export function rabbitPasswordHash(username: string, password: string): string {
  const salt = createHash("sha256").update(`platform-salt:${username}:${password}`).digest().subarray(0, 4);
  const digest = createHash("sha256")
    .update(Buffer.concat([salt, Buffer.from(password, "utf8")]))
    .digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

export interface DefinitionUser {
  username: string;
  password: string;
  tags: string[];
}

/**
 * The same topology as the @pulumi/rabbitmq resources and the in-cluster broker's objects, as a
 * definitions document that a broker loads at boot (`load_definitions`) or through `rabbitmqctl
 * import_definitions`: how the tests put the plan on real brokers (a single node, and the 3-node
 * cluster of test/broker-failover.test.ts). Holds password hashes: treat it as a secret.
 */
export function renderDefinitions(
  plan: TopologyPlan,
  passwords: Record<string, string>,
  admin?: DefinitionUser,
): Record<string, unknown> {
  const users: DefinitionUser[] = plan.users.map((user) => {
    const password = passwords[user.service];
    if (password === undefined) throw new Error(`no broker password for ${user.service}`);
    return { username: user.username, password, tags: [] };
  });
  if (admin) users.push(admin);
  const vhost = plan.vhost;
  return {
    vhosts: [{ name: vhost }],
    users: users.map((user) => ({
      name: user.username,
      password_hash: rabbitPasswordHash(user.username, user.password),
      hashing_algorithm: "rabbit_password_hashing_sha256",
      tags: user.tags.join(","),
    })),
    permissions: [
      ...plan.users.map((user) => ({ user: user.username, vhost, ...user.permissions })),
      ...(admin ? [{ user: admin.username, vhost, configure: ".*", write: ".*", read: ".*" }] : []),
    ],
    topic_permissions: plan.users.flatMap((user) =>
      user.topicPermissions.map((topic) => ({ user: user.username, vhost, ...topic })),
    ),
    exchanges: plan.exchanges.map((exchange) => ({
      name: exchange.name,
      vhost,
      type: exchange.type,
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    })),
    queues: plan.queues.map((queue) => ({
      name: queue.name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: queue.arguments,
    })),
    bindings: plan.bindings.map((binding) => ({
      source: binding.source,
      vhost,
      destination: binding.destination,
      destination_type: "queue",
      routing_key: binding.routingKey,
      arguments: {},
    })),
  };
}
