import * as pulumi from "@pulumi/pulumi";
import * as rabbitmq from "@pulumi/rabbitmq";
import * as random from "@pulumi/random";
import { TopologyPlan } from "./topology";

export interface BrokerTopologyArgs {
  plan: TopologyPlan;
  /** Provider for the broker's management API (dev container or Amazon MQ). */
  provider: rabbitmq.Provider;
}

export interface BrokerCredentials {
  username: string;
  password: pulumi.Output<string>;
  consumerQueues: string[];
  retryExchange?: string;
}

/** Declares a TopologyPlan on a RabbitMQ broker: vhost, exchanges, queues, bindings and one user per service. */
export class BrokerTopology extends pulumi.ComponentResource {
  readonly vhost: pulumi.Output<string>;
  /** Per service: its own broker user; passwords are secrets. */
  readonly credentials: Record<string, BrokerCredentials>;

  constructor(name: string, args: BrokerTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:messaging:BrokerTopology", name, {}, opts);
    const { plan } = args;
    const child = { parent: this, provider: args.provider };

    const vhost = new rabbitmq.VHost(`${name}-vhost`, { name: plan.vhost }, child);
    const onVhost = { ...child, dependsOn: [vhost] };

    const exchanges = new Map(
      plan.exchanges.map((exchange) => [
        exchange.name,
        new rabbitmq.Exchange(
          `${name}-x-${exchange.name}`,
          {
            name: exchange.name,
            vhost: vhost.name,
            settings: { type: exchange.type, durable: true, autoDelete: false },
          },
          onVhost,
        ),
      ]),
    );

    const queues = new Map(
      plan.queues.map((queue) => [
        queue.name,
        new rabbitmq.Queue(
          `${name}-q-${queue.name}`,
          {
            name: queue.name,
            vhost: vhost.name,
            // JSON keeps numeric arguments numeric (x-message-ttl must be an integer, not "1000").
            settings: { durable: true, autoDelete: false, argumentsJson: JSON.stringify(queue.arguments) },
          },
          onVhost,
        ),
      ]),
    );

    for (const binding of plan.bindings) {
      new rabbitmq.Binding(
        `${name}-b-${binding.source}-${binding.destination}-${binding.routingKey}`,
        {
          vhost: vhost.name,
          source: binding.source,
          destination: binding.destination,
          destinationType: "queue",
          routingKey: binding.routingKey,
        },
        { ...child, dependsOn: [exchanges.get(binding.source)!, queues.get(binding.destination)!] },
      );
    }

    this.credentials = {};
    for (const user of plan.users) {
      const password = new random.RandomPassword(
        `${name}-${user.username}-password`,
        { length: 32, special: false },
        { parent: this },
      );
      const brokerUser = new rabbitmq.User(
        `${name}-u-${user.username}`,
        { name: user.username, password: password.result, tags: [] },
        child,
      );
      new rabbitmq.Permissions(
        `${name}-p-${user.username}`,
        {
          user: brokerUser.name,
          vhost: vhost.name,
          permissions: user.permissions,
        },
        child,
      );
      if (user.topicPermissions.length > 0) {
        // One resource per user and vhost: the broker keeps topic permissions per (user, vhost).
        new rabbitmq.TopicPermissions(
          `${name}-tp-${user.username}`,
          {
            user: brokerUser.name,
            vhost: vhost.name,
            permissions: user.topicPermissions,
          },
          { ...child, dependsOn: user.topicPermissions.map((topic) => exchanges.get(topic.exchange)!) },
        );
      }
      this.credentials[user.service] = {
        username: user.username,
        password: password.result,
        consumerQueues: user.consumerQueues,
        retryExchange: user.retryExchange,
      };
    }

    this.vhost = vhost.name;
    this.registerOutputs({ vhost: this.vhost });
  }
}
