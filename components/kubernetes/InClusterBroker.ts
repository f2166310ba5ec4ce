import * as pulumi from "@pulumi/pulumi";
import { RABBITMQ } from "../engines";
import { BrokerEndpoint, BrokerUser } from "../platform";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { renderDefinitions } from "../messaging/definitions";
import { TopologyPlan, serviceMessaging } from "../messaging/topology";
import { QUEUE_DEPTH } from "../observability/alertRules";
import { startupProbe } from "./podSpec";
import { rabbitmqChartValues } from "./chartValues";

export interface InClusterBrokerArgs {
  plan: TopologyPlan;
  /** The StorageClass of the nodes' volumes. */
  storageClass: pulumi.Input<string>;
  /** Leave the namespace, and the nodes' claims in it, in the cluster when the broker leaves the program. */
  retainOnDelete: boolean;
  provider: k8s.Provider;
}

export const MESSAGING_NAMESPACE = "messaging";
/**
 * The job Prometheus gives the broker's metrics: Bitnami's chart (14.7.0,
 * templates/servicemonitor.yaml) selects the `rabbitmq` Service with `jobLabel: ""`, so the operator
 * names the job after that Service, for `/metrics` and `/metrics/detailed` alike.
 */
export const RABBITMQ_METRICS_JOB = "rabbitmq";
export const RABBITMQ_CHART = {
  chart: "oci://registry-1.docker.io/bitnamicharts/rabbitmq",
  version: "14.7.0",
} as const;
/** How long a node may take to boot, join the cluster and load the definitions. */
const NODE_START_SECONDS = 300;

/**
 * RabbitMQ on EKS instead of Amazon MQ: a 3-node cluster from the Bitnami chart with persistent
 * volumes, a PodDisruptionBudget and metrics, loading the catalog's topology at boot from
 * definitions rendered from the same plan as the dev broker's.
 */
export class InClusterBroker extends pulumi.ComponentResource {
  /** The plan's vhost, once the broker runs with the definitions that declare it. */
  readonly vhost: pulumi.Output<string>;
  readonly credentials: Record<string, BrokerUser> = {};
  readonly endpoint: BrokerEndpoint;

  constructor(name: string, args: InClusterBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:InClusterBroker", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: MESSAGING_NAMESPACE } },
      { ...k8sOpts, retainOnDelete: args.retainOnDelete },
    );
    const passwords: Record<string, pulumi.Output<string>> = {};
    for (const user of args.plan.users) passwords[user.service] = this.password(`${name}-${user.username}-password`);
    const secrets = this.createSecrets(name, args.plan, passwords, { ...k8sOpts, dependsOn: [namespace] });
    const release = this.installRabbitmq(name, args, { ...k8sOpts, dependsOn: secrets });

    // The chart loads the users and the vhost at boot: services wait for the release (atomic: all nodes ready).
    const running = <T>(value: pulumi.Input<T>) => pulumi.all([value, release.status]).apply(([v]) => v as T);
    for (const user of args.plan.users) {
      this.credentials[user.service] = { ...serviceMessaging(user), password: running(passwords[user.service]) };
    }
    this.vhost = running(args.plan.vhost);
    this.endpoint = {
      host: `rabbitmq.${MESSAGING_NAMESPACE}.svc.cluster.local`,
      port: RABBITMQ.amqpPort,
      tls: false,
      vhost: this.vhost,
      location: { kind: "namespace", namespace: MESSAGING_NAMESPACE },
    };
    this.registerOutputs({});
  }

  private password(name: string): pulumi.Output<string> {
    return new random.RandomPassword(name, { length: 32, special: false }, { parent: this }).result;
  }

  /** The admin's login and Erlang cookie, and the definitions (topology and every user) the broker loads at boot. */
  private createSecrets(
    name: string,
    plan: TopologyPlan,
    passwords: Record<string, pulumi.Output<string>>,
    opts: pulumi.CustomResourceOptions,
  ): k8s.core.v1.Secret[] {
    const adminPassword = this.password(`${name}-admin-password`);
    const admin = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: { name: "rabbitmq-admin", namespace: MESSAGING_NAMESPACE },
        stringData: {
          "rabbitmq-password": adminPassword,
          "rabbitmq-erlang-cookie": this.password(`${name}-erlang-cookie`),
        },
      },
      opts,
    );
    const definitions = new k8s.core.v1.Secret(
      `${name}-definitions`,
      {
        metadata: { name: "rabbitmq-definitions", namespace: MESSAGING_NAMESPACE },
        stringData: {
          "load_definition.json": pulumi.all([pulumi.all(passwords), adminPassword]).apply(([values, adminValue]) =>
            JSON.stringify(
              renderDefinitions(plan, values, {
                username: "platform-admin",
                password: adminValue,
                tags: ["administrator"],
              }),
            ),
          ),
        },
      },
      opts,
    );
    return [admin, definitions];
  }

  /** The Bitnami chart, reading the admin's login and the definitions from the Secrets above. */
  private installRabbitmq(
    name: string,
    args: InClusterBrokerArgs,
    opts: pulumi.CustomResourceOptions,
  ): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
      `${name}-rabbitmq`,
      {
        name: "rabbitmq",
        chart: RABBITMQ_CHART.chart,
        version: RABBITMQ_CHART.version,
        namespace: MESSAGING_NAMESPACE,
        atomic: true,
        timeout: 900,
        values: {
          // Three nodes, the image from the engine table and the sizes from the chart sizes table.
          ...rabbitmqChartValues(),
          auth: {
            username: "platform-admin",
            existingPasswordSecret: "rabbitmq-admin",
            existingErlangSecret: "rabbitmq-admin",
          },
          loadDefinition: { enabled: true, existingSecret: "rabbitmq-definitions" },
          extraConfiguration: "load_definitions = /app/load_definition.json\n",
          // The chart's common.storage.class names it in the claim template (templates/statefulset.yaml).
          persistence: { enabled: true, size: "20Gi", storageClass: args.storageClass },
          pdb: { create: true, minAvailable: 2 },
          // The chart renders customStartupProbe as given (templates/statefulset.yaml); its own
          // startupProbe is off by default and only opens a TCP socket.
          customStartupProbe: startupProbe(
            { exec: { command: [...RABBITMQ.ready] }, timeoutSeconds: 20 },
            NODE_START_SECONDS,
          ),
          metrics: {
            enabled: true,
            // `/metrics` for the node, and per-queue depth of the catalog's vhost for the DLQ alert.
            serviceMonitor: {
              default: { enabled: true },
              detailed: { enabled: true, family: [QUEUE_DEPTH.family], vhost: [args.plan.vhost] },
            },
          },
        },
      },
      opts,
    );
  }
}
