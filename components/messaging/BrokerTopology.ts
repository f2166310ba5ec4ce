import * as pulumi from "@pulumi/pulumi";
import * as rabbitmq from "@pulumi/rabbitmq";
import * as random from "@pulumi/random";
import { BrokerUser } from "../platform";
import { BindingPlan, BrokerUserPlan, ExchangePlan, QueuePlan, TopologyPlan, serviceMessaging } from "./topology";

export interface BrokerTopologyArgs {
  plan: TopologyPlan;
  /** Provider for the broker's management API (dev container or Amazon MQ). */
  provider: rabbitmq.Provider;
}

/** Declares a TopologyPlan on a RabbitMQ broker: vhost, exchanges, queues, bindings and one user per service. */
export class BrokerTopology extends pulumi.ComponentResource {
  readonly vhost: pulumi.Output<string>;
  /** Per service: its own broker user; passwords are secrets. */
  readonly credentials: Record<string, BrokerUser>;

  constructor(name: string, args: BrokerTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:messaging:BrokerTopology", name, {}, opts);
    const { plan } = args;
    const child: BrokerOptions = { parent: this, provider: args.provider };

    const vhost = new rabbitmq.VHost(`${name}-vhost`, { name: plan.vhost }, child);
    const exchanges = declareExchanges(name, plan.exchanges, vhost, child);
    const queues = declareQueues(name, plan.queues, vhost, child);
    declareBindings(name, plan.bindings, { vhost, exchanges, queues }, child);
    this.credentials = Object.fromEntries(
      plan.users.map((user) => [user.service, declareUser(name, user, vhost, exchanges, child)]),
    );

    this.vhost = vhost.name;
    this.registerOutputs({ vhost: this.vhost });
  }
}

/** Options of every broker object: the component as parent, the broker's management API as provider. */
interface BrokerOptions {
  parent: pulumi.Resource;
  provider: rabbitmq.Provider;
}

/** The plan's exchanges by name. */
function declareExchanges(
  name: string,
  exchanges: ExchangePlan[],
  vhost: rabbitmq.VHost,
  child: BrokerOptions,
): Map<string, rabbitmq.Exchange> {
  return new Map(
    exchanges.map((exchange) => [
      exchange.name,
      new rabbitmq.Exchange(
        `${name}-x-${exchange.name}`,
        {
          name: exchange.name,
          vhost: vhost.name,
          settings: { type: exchange.type, durable: true, autoDelete: false },
        },
        { ...child, dependsOn: [vhost] },
      ),
    ]),
  );
}

/** The plan's queues by name. */
function declareQueues(
  name: string,
  queues: QueuePlan[],
  vhost: rabbitmq.VHost,
  child: BrokerOptions,
): Map<string, rabbitmq.Queue> {
  return new Map(
    queues.map((queue) => [
      queue.name,
      new rabbitmq.Queue(
        `${name}-q-${queue.name}`,
        {
          name: queue.name,
          vhost: vhost.name,
          // JSON keeps numeric arguments numeric (x-message-ttl must be an integer, not "1000").
          settings: { durable: true, autoDelete: false, argumentsJson: JSON.stringify(queue.arguments) },
        },
        { ...child, dependsOn: [vhost] },
      ),
    ]),
  );
}

/**
 * Each binding names its exchange and queue through their outputs, not only waiting for them: a
 * queue whose arguments change is replaced (deleted first, its name being fixed) and RabbitMQ drops
 * its bindings with it; Pulumi replaces the bindings too only when an input comes from the queue.
 */
function declareBindings(
  name: string,
  bindings: BindingPlan[],
  declared: { vhost: rabbitmq.VHost; exchanges: Map<string, rabbitmq.Exchange>; queues: Map<string, rabbitmq.Queue> },
  child: BrokerOptions,
): void {
  for (const binding of bindings) {
    new rabbitmq.Binding(
      `${name}-b-${binding.source}-${binding.destination}-${binding.routingKey}`,
      {
        vhost: declared.vhost.name,
        source: declared.exchanges.get(binding.source)!.name,
        destination: declared.queues.get(binding.destination)!.name,
        destinationType: "queue",
        routingKey: binding.routingKey,
      },
      child,
    );
  }
}

/**
 * A service's broker user with its permissions on the vhost; returns what the service logs in with,
 * its password resolving once the user may use the vhost (so the service waits for both).
 */
function declareUser(
  name: string,
  user: BrokerUserPlan,
  vhost: rabbitmq.VHost,
  exchanges: Map<string, rabbitmq.Exchange>,
  child: BrokerOptions,
): BrokerUser {
  const password = new random.RandomPassword(
    `${name}-${user.username}-password`,
    { length: 32, special: false },
    { parent: child.parent },
  );
  const brokerUser = new rabbitmq.User(
    `${name}-u-${user.username}`,
    { name: user.username, password: password.result, tags: [] },
    child,
  );
  const granted: pulumi.CustomResource[] = [brokerUser];
  granted.push(
    new rabbitmq.Permissions(
      `${name}-p-${user.username}`,
      {
        user: brokerUser.name,
        vhost: vhost.name,
        permissions: user.permissions,
      },
      child,
    ),
  );
  if (user.topicPermissions.length > 0) {
    // One resource per user and vhost: the broker keeps topic permissions per (user, vhost).
    granted.push(
      new rabbitmq.TopicPermissions(
        `${name}-tp-${user.username}`,
        {
          user: brokerUser.name,
          vhost: vhost.name,
          permissions: user.topicPermissions,
        },
        { ...child, dependsOn: user.topicPermissions.map((topic) => exchanges.get(topic.exchange)!) },
      ),
    );
  }
  const ready = pulumi.all(granted.map((resource) => resource.id));
  return { ...serviceMessaging(user), password: pulumi.all([password.result, ready]).apply(([pw]) => pw) };
}
