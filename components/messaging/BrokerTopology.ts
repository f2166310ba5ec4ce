import * as pulumi from "@pulumi/pulumi";
import * as rabbitmq from "@pulumi/rabbitmq";
import * as random from "@pulumi/random";
import { BrokerUser } from "../platform";
import {
  BindingPlan,
  BrokerUserPlan,
  ExchangePlan,
  PermissionPlan,
  QueuePlan,
  TopologyPlan,
  serviceMessaging,
} from "./topology";
import { after } from "../ordering";

export interface BrokerTopologyArgs {
  plan: TopologyPlan;
  /** Provider for the broker's management API (dev container or Amazon MQ). */
  provider: rabbitmq.Provider;
  /** The username of a login that reads the vhost's queues through the management API, where one is wanted. */
  monitoringUser?: string;
}

/** A broker login made by the program; the password is a secret. */
export interface BrokerLogin {
  username: string;
  password: pulumi.Output<string>;
}

/** Configure, write and read nothing: `^$` matches no resource name. */
const NO_RESOURCES: PermissionPlan = { configure: "^$", write: "^$", read: "^$" };

/** Declares a TopologyPlan on a RabbitMQ broker: vhost, exchanges, queues, bindings and one user per service. */
export class BrokerTopology extends pulumi.ComponentResource {
  readonly vhost: pulumi.Output<string>;
  /** Per service: its own broker user; passwords are secrets. */
  readonly credentials: Record<string, BrokerUser>;
  /** The monitoring login, when `monitoringUser` asked for one. */
  readonly monitoring?: BrokerLogin;

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
    if (args.monitoringUser) this.monitoring = declareMonitoringLogin(name, args.monitoringUser, vhost, child);

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
  const login = declareLogin(name, { username: user.username, tags: [], permissions: user.permissions }, vhost, child);
  const granted: pulumi.CustomResource[] = [...login.granted];
  if (user.topicPermissions.length > 0) {
    // One resource per user and vhost: the broker keeps topic permissions per (user, vhost).
    granted.push(
      new rabbitmq.TopicPermissions(
        `${name}-tp-${user.username}`,
        {
          user: login.user.name,
          vhost: vhost.name,
          permissions: user.topicPermissions,
        },
        { ...child, dependsOn: user.topicPermissions.map((topic) => exchanges.get(topic.exchange)!) },
      ),
    );
  }
  // The password is handed out once the login can do what the service needs.
  return { ...serviceMessaging(user), password: after(login.password, ...granted.map((resource) => resource.id)) };
}

/**
 * A login that reads what the management API shows of the vhost, and may touch none of its
 * resources. The `monitoring` tag lets it in to the API; the API lists a vhost's queues only to a
 * user with a permission entry on that vhost (rabbitmq-server, rabbit_mgmt_wm_queues:is_authorized
 * through rabbit_web_dispatch_access_control:user_matches_vhost, which asks check_vhost_access: any
 * entry will do), so it gets one that matches no resource.
 */
function declareMonitoringLogin(
  name: string,
  username: string,
  vhost: rabbitmq.VHost,
  child: BrokerOptions,
): BrokerLogin {
  const login = declareLogin(name, { username, tags: ["monitoring"], permissions: NO_RESOURCES }, vhost, child);
  return { username, password: after(login.password, ...login.granted.map((resource) => resource.id)) };
}

/** A user with a generated password, its tags, and its permissions on the vhost. */
function declareLogin(
  name: string,
  login: { username: string; tags: string[]; permissions: PermissionPlan },
  vhost: rabbitmq.VHost,
  child: BrokerOptions,
): { user: rabbitmq.User; password: pulumi.Output<string>; granted: pulumi.CustomResource[] } {
  const password = new random.RandomPassword(
    `${name}-${login.username}-password`,
    { length: 32, special: false },
    { parent: child.parent },
  ).result;
  const user = new rabbitmq.User(
    `${name}-u-${login.username}`,
    { name: login.username, password, tags: login.tags },
    child,
  );
  const permissions = new rabbitmq.Permissions(
    `${name}-p-${login.username}`,
    { user: user.name, vhost: vhost.name, permissions: login.permissions },
    child,
  );
  return { user, password, granted: [user, permissions] };
}
