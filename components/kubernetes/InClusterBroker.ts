import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { RABBITMQ } from "../engines";
import { BrokerEndpoint, BrokerUser } from "../platform";
import { BrokerUserPlan, TopologyPlan, serviceMessaging } from "../messaging/topology";
import { QUEUE_DEPTH, QueueDepthSource } from "../observability/alertRules";
import { RABBITMQ_CLUSTER, RabbitmqObject, objectName, topologyObjects } from "./rabbitmqObjects";
import { RABBITMQ_SIZES, withSizes } from "./chartSizes";
import { after } from "../ordering";

export { RABBITMQ_CLUSTER };

export interface InClusterBrokerArgs {
  plan: TopologyPlan;
  /** The StorageClass of the nodes' volumes. */
  storageClass: pulumi.Input<string>;
  /** The release that installs the Prometheus Operator: the broker's ServiceMonitor needs its CRD. */
  monitoringRelease: pulumi.Resource;
  /**
   * Refuse to delete or replace the RabbitmqCluster, and leave the namespace (with the nodes' claims)
   * in the cluster if the broker leaves the program.
   */
  protect: boolean;
  provider: k8s.Provider;
}

export const MESSAGING_NAMESPACE = "messaging";
/**
 * The queue depths of the nodes' rabbitmq_prometheus, under the job Prometheus gives the broker's
 * metrics: prometheus-operator names a ServiceMonitor's job after the Service it scrapes, the
 * cluster's client Service, for `/metrics` and `/metrics/detailed` alike.
 */
export const RABBITMQ_QUEUE_DEPTH: QueueDepthSource = { job: RABBITMQ_CLUSTER, metric: QUEUE_DEPTH.metric };

/** A GitHub release asset at a pinned tag: what `pulumi up` applies, the same file on every run. */
const releaseAsset = (repo: string, tag: string, file: string) => ({
  version: tag,
  manifest: `https://github.com/${repo}/releases/download/${tag}/${file}`,
});

/**
 * The maintained parts the broker runs on, pinned, each installed from the manifest its release
 * publishes (the documented installation of each; the RabbitMQ team ships no Helm chart of its
 * operators), which names its images at that release (ghcr.io/rabbitmq/cluster-operator:2.22.3,
 * ghcr.io/rabbitmq/messaging-topology-operator:1.20.1, quay.io/jetstack/cert-manager-*:v1.20.3).
 * Both operators' manifests carry cert-manager Certificates for their admission webhooks, so
 * cert-manager comes first.
 */
export const BROKER_OPERATORS = {
  certManager: releaseAsset("cert-manager/cert-manager", "v1.20.3", "cert-manager.yaml"),
  clusterOperator: releaseAsset("rabbitmq/cluster-operator", "v2.22.3", "cluster-operator.yml"),
  topologyOperator: releaseAsset(
    "rabbitmq/messaging-topology-operator",
    "v1.20.1",
    "messaging-topology-operator-with-certmanager.yaml",
  ),
} as const;

/**
 * What the operators' Deployments run and request, as their manifests at those tags set it:
 * cluster-operator config/manager/manager.yaml (one pod, 200m, 500Mi), messaging-topology-operator
 * config/manager/manager.yaml (one pod, 300m, 128Mi); cert-manager's static manifest runs three
 * Deployments (controller, cainjector, webhook) of one pod each and sets no requests.
 */
export const BROKER_OPERATOR_REQUESTS = [
  { name: "rabbitmq-cluster-operator", pods: 1, cpu: "200m", memory: "500Mi" },
  { name: "messaging-topology-operator", pods: 1, cpu: "300m", memory: "128Mi" },
  { name: "cert-manager", pods: 3, cpu: "0", memory: "0" },
] as const;

/** How long three nodes may take to start and form the cluster before `pulumi up` gives up. */
const CLUSTER_START = "20m";
/** pulumi-kubernetes waits for this condition of an object before its dependents (the `pulumi.com/waitFor` annotation). */
const waitFor = (condition: string) => ({ "pulumi.com/waitFor": `condition=${condition}` });

/**
 * RabbitMQ on EKS instead of Amazon MQ: the Cluster Operator runs a 3-node RabbitmqCluster on the
 * engine table's image, with persistent volumes, a PodDisruptionBudget and metrics, and the
 * Messaging Topology Operator declares the catalog's topology on it from the same plan as dev's
 * and Amazon MQ's: quorum queues, exchanges, bindings, one user per service.
 */
export class InClusterBroker extends pulumi.ComponentResource {
  /** The plan's vhost, once the operator reports it declared. */
  readonly vhost: pulumi.Output<string>;
  readonly credentials: Record<string, BrokerUser> = {};
  readonly endpoint: BrokerEndpoint;

  constructor(name: string, args: InClusterBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:InClusterBroker", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: MESSAGING_NAMESPACE } },
      { ...k8sOpts, retainOnDelete: args.protect },
    );
    const operators = installOperators(name, k8sOpts);
    const cluster = createCluster(name, args, {
      ...k8sOpts,
      dependsOn: [namespace, operators.cluster],
      protect: args.protect,
    });
    scrapeCluster(name, args, { ...k8sOpts, dependsOn: [namespace, args.monitoringRelease] });

    const passwords = args.plan.users.map(
      (user) =>
        new random.RandomPassword(`${name}-${user.username}-password`, { length: 32, special: false }, { parent: this })
          .result,
    );
    const logins = args.plan.users.map((user, i) =>
      createLogin(name, user, passwords[i], { ...k8sOpts, dependsOn: [namespace] }),
    );
    const declared = declareTopology(name, args.plan, k8sOpts, [operators.topology, cluster, ...logins]);

    // Services wait for the vhost, and each for its own user and permissions on it.
    const once = <T>(value: pulumi.Input<T>, objects: Declared[]) => after(value, ...objects.map((d) => d.resource.id));
    const vhost = declared.filter((d) => d.object.kind === "Vhost");
    args.plan.users.forEach((user, i) => {
      const own = declared.filter((d) => belongsTo(d.object, objectName(user.username)));
      this.credentials[user.service] = { ...serviceMessaging(user), password: once(passwords[i], [...vhost, ...own]) };
    });
    this.vhost = once(args.plan.vhost, vhost);
    this.endpoint = {
      host: `${RABBITMQ_CLUSTER}.${MESSAGING_NAMESPACE}.svc.cluster.local`,
      port: RABBITMQ.amqpPort,
      tls: false,
      vhost: this.vhost,
      location: { kind: "namespace", namespace: MESSAGING_NAMESPACE },
    };
    this.registerOutputs({});
  }
}

/**
 * cert-manager, then the Cluster Operator, then the Topology Operator (which runs in the former's
 * namespace). A ConfigFile waits for what it applies: each Deployment rolled out, each webhook serving.
 */
function installOperators(
  name: string,
  opts: pulumi.CustomResourceOptions,
): { cluster: pulumi.Resource; topology: pulumi.Resource } {
  const { certManager, clusterOperator, topologyOperator } = BROKER_OPERATORS;
  const manifest = (part: string, file: string, after: pulumi.Resource[]) =>
    new k8s.yaml.v2.ConfigFile(`${name}-${part}`, { file }, { ...opts, dependsOn: after });
  const certs = manifest("cert-manager", certManager.manifest, []);
  const cluster = manifest("cluster-operator", clusterOperator.manifest, [certs]);
  const topology = manifest("topology-operator", topologyOperator.manifest, [certs, cluster]);
  return { cluster, topology };
}

/**
 * Three nodes on the engine table's image (the dev container's), spread over the cluster's nodes,
 * each on its own encrypted volume; at most one of them down at a time for voluntary disruptions,
 * so every quorum queue keeps its majority.
 */
function createCluster(
  name: string,
  args: InClusterBrokerArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  const nodeLabels = { "app.kubernetes.io/name": RABBITMQ_CLUSTER };
  const cluster = new k8s.apiextensions.CustomResource(
    `${name}-cluster`,
    {
      apiVersion: "rabbitmq.com/v1beta1",
      kind: "RabbitmqCluster",
      metadata: { name: RABBITMQ_CLUSTER, namespace: MESSAGING_NAMESPACE, annotations: waitFor("AllReplicasReady") },
      // Its nodes and their size from the platform's sizes table (spec.resources).
      spec: withSizes(
        {
          replicas: RABBITMQ_SIZES[`${RABBITMQ_CLUSTER}-server`].pods,
          image: RABBITMQ.image,
          persistence: { storageClassName: args.storageClass, storage: "20Gi" },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchLabels: nodeLabels },
                    topologyKey: "kubernetes.io/hostname",
                  },
                },
              ],
            },
          },
        },
        RABBITMQ_SIZES,
      ),
    },
    { ...opts, customTimeouts: { create: CLUSTER_START, update: CLUSTER_START } },
  );
  new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    {
      metadata: { name: RABBITMQ_CLUSTER, namespace: MESSAGING_NAMESPACE },
      spec: { maxUnavailable: 1, selector: { matchLabels: nodeLabels } },
    },
    opts,
  );
  return cluster;
}

/**
 * The nodes' `/metrics`, and the per-queue depth of the catalog's vhost (`/metrics/detailed`) that
 * the DLQ alert reads, on the client Service's `prometheus` port (cluster-operator
 * internal/resource/service.go; the operator's own observability/prometheus/monitors/rabbitmq-servicemonitor.yml).
 */
function scrapeCluster(name: string, args: InClusterBrokerArgs, opts: pulumi.CustomResourceOptions): void {
  new k8s.apiextensions.CustomResource(
    `${name}-servicemonitor`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: RABBITMQ_CLUSTER, namespace: MESSAGING_NAMESPACE },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": RABBITMQ_CLUSTER } },
        endpoints: [
          { port: "prometheus", path: "/metrics" },
          {
            port: "prometheus",
            path: "/metrics/detailed",
            params: { family: [QUEUE_DEPTH.family], vhost: [args.plan.vhost] },
          },
        ],
      },
    },
    opts,
  );
}

/** The Secret a service's User imports its login from (the operator reads `username` and `password`). */
function createLogin(
  name: string,
  user: BrokerUserPlan,
  password: pulumi.Output<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    `${name}-${user.username}-login`,
    {
      metadata: { name: loginSecret(user), namespace: MESSAGING_NAMESPACE },
      stringData: { username: user.username, password },
    },
    opts,
  );
}

const loginSecret = (user: BrokerUserPlan) => objectName(`${user.username}-broker-login`);

/**
 * Waves of the topology: what each kind needs to exist first. The operator would retry an object
 * declared too early, but with a growing backoff; in waves, each object is declared once it can be.
 */
const TOPOLOGY_WAVES: ReadonlyArray<ReadonlyArray<RabbitmqObject["kind"]>> = [
  ["Vhost"],
  ["Exchange", "Queue", "User"],
  ["Binding", "Permission", "TopicPermission"],
];

/** A topology object as declared, with the resource that declared it. */
interface Declared {
  object: RabbitmqObject;
  resource: k8s.apiextensions.CustomResource;
}

/** Whether the object is a user's own: its User, or a permission that references it. */
function belongsTo(object: RabbitmqObject, user: string): boolean {
  if (object.kind === "User") return object.metadata.name === user;
  return (object.spec.userReference as { name?: string } | undefined)?.name === user;
}

function specPaths(...fields: string[]): string[] {
  return fields.map((field) => `spec.${field}`);
}

/**
 * The spec fields of each kind that the Topology Operator's validating webhook refuses to change
 * (messaging-topology-operator v1.20.1 internal/webhook/v1beta1/*_webhook.go, ValidateUpdate): a
 * change to one of them replaces the object, deleted first since its name stays the same.
 * - Queue (queue_webhook.go:59-134): name, vhost and rabbitmqClusterReference forbidden; type,
 *   autoDelete, durable and arguments invalid, so the catalog's TTL, max length, delivery limit or
 *   retry delay (all queue arguments) replace the queue.
 * - Exchange (exchange_webhook.go:49-86): the same but arguments, which may change in place.
 * - Binding (binding_webhook.go:68-116): every field of its spec (vhost, rabbitmqClusterReference,
 *   source, destination, destinationType, routingKey, arguments). The whole `spec`, not its fields:
 *   when its queue or exchange is replaced, Pulumi asks whether the binding must be replaced too
 *   with its whole `spec` unknown (step_generator.go, calculateDependentReplacements), a change at
 *   `spec` that a path such as `spec.source` does not contain.
 */
const IMMUTABLE_FIELDS: Partial<Record<RabbitmqObject["kind"], string[]>> = {
  Queue: specPaths("name", "vhost", "rabbitmqClusterReference", "type", "durable", "autoDelete", "arguments"),
  Exchange: specPaths("name", "vhost", "rabbitmqClusterReference", "type", "durable", "autoDelete"),
  Binding: ["spec"],
};

/** Replacement, delete first, for a change the webhook refuses as an update. */
function replacementOptions(kind: RabbitmqObject["kind"]): pulumi.CustomResourceOptions {
  const replaceOnChanges = IMMUTABLE_FIELDS[kind];
  return replaceOnChanges ? { replaceOnChanges, deleteBeforeReplace: true } : {};
}

/** The broker name an Exchange or Queue object declared, from its live object. */
const declaredName = (resource: k8s.apiextensions.CustomResource): pulumi.Output<string> =>
  (resource as unknown as { spec: pulumi.Output<{ name: string }> }).spec.apply((spec) => spec.name);

/**
 * A binding's spec naming its exchange and queue through their objects' outputs, not only waiting
 * for them: a replaced queue (or exchange) is deleted with its bindings in RabbitMQ, and Pulumi
 * replaces the Binding objects too only when an input comes from the replaced one.
 */
function bindingSpec(object: RabbitmqObject, declared: Declared[]): RabbitmqObject["spec"] {
  const resourceOf = (kind: RabbitmqObject["kind"], brokerName: unknown) =>
    declared.find((d) => d.object.kind === kind && d.object.spec.name === brokerName)!.resource;
  return {
    ...object.spec,
    source: declaredName(resourceOf("Exchange", object.spec.source)),
    destination: declaredName(resourceOf("Queue", object.spec.destination)),
  };
}

/** The plan as the Topology Operator's objects, after `first`, each waited for until the operator reports it declared. */
function declareTopology(
  name: string,
  plan: TopologyPlan,
  opts: pulumi.CustomResourceOptions,
  first: pulumi.Resource[],
): Declared[] {
  const objects = topologyObjects(plan, {
    cluster: RABBITMQ_CLUSTER,
    namespace: MESSAGING_NAMESPACE,
    credentialsSecret: loginSecret,
  });
  const declared: Declared[] = [];
  let previous = first;
  for (const kinds of TOPOLOGY_WAVES) {
    const wave = objects
      .filter((object) => kinds.includes(object.kind))
      .map((object) => ({
        object,
        resource: new k8s.apiextensions.CustomResource(
          `${name}-${object.kind.toLowerCase()}-${object.metadata.name}`,
          {
            ...object,
            metadata: { ...object.metadata, annotations: waitFor("Ready") },
            spec: object.kind === "Binding" ? bindingSpec(object, declared) : object.spec,
          },
          { ...opts, ...replacementOptions(object.kind), dependsOn: previous },
        ),
      }));
    if (wave.length > 0) previous = wave.map((d) => d.resource);
    declared.push(...wave);
  }
  return declared;
}
