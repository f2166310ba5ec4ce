import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { QUEUE_DEPTH_EXPORTER, RABBITMQ } from "../engines";
import { BrokerLogin } from "../messaging/BrokerTopology";
import { MESSAGING_NAMESPACE } from "./InClusterBroker";
import { NAMESPACES } from "./PlatformCharts";
import { DNS_EGRESS, defaultDenyPolicy } from "./networkPolicies";
import { APP_LABEL, HARDENED_CONTAINER, nonRootPod } from "./podSpec";
import { sha256 } from "./checksum";
import {
  QUEUE_DEPTH_EXPORTER_NAME,
  QUEUE_DEPTH_MODULE,
  QUEUE_DEPTH_SCRAPE_INTERVAL,
  queueListUrl,
  renderQueueDepthExporterConfig,
} from "./queueDepthExporterConfig";

export interface QueueDepthExporterArgs {
  /** The broker's HTTPS management API (Amazon MQ's console URL). */
  managementUrl: pulumi.Input<string>;
  /** The catalog's vhost, whose queues it reads. */
  vhost: pulumi.Input<string>;
  /** A login with the `monitoring` tag and no permission on any resource (secret password). */
  login: BrokerLogin;
  /** The VPC's range: the broker's private addresses are in it. */
  vpcCidr: pulumi.Input<string>;
  /** The release that installs the Prometheus Operator: the ServiceMonitor needs its CRD. */
  monitoringRelease: pulumi.Resource;
  provider: k8s.Provider;
}

/** What the exporter's one container asks for and may use: it holds one vhost's queue list at a time. */
export const EXPORTER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } };

/** Where the container reads its config and the login's password. */
const CONFIG_DIR = "/etc/queue-depth-exporter/config";
const LOGIN_DIR = "/etc/queue-depth-exporter/login";

const CONFIG_HASH_ANNOTATION = "platform/config-sha256";

/** Prometheus' pods: prometheus-operator labels them as the chart's Service selects them (kube-prometheus-stack 65.8.1, templates/prometheus/service.yaml). */
const PROMETHEUS_PODS = { [APP_LABEL]: "prometheus" };

/** What the phases share. */
interface Scope {
  name: string;
  args: QueueDepthExporterArgs;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  selector: { matchLabels: Record<string, string> };
  namespace: k8s.core.v1.Namespace;
  /** Every object's: the component's child, through its provider, after the namespace. */
  opts: pulumi.CustomResourceOptions;
}

/**
 * Each queue's depth from a broker that serves no Prometheus metrics of its queues (Amazon MQ for
 * RabbitMQ 4 publishes none to CloudWatch either): json_exporter reads the vhost's queue list from
 * the management API on Prometheus' behalf, once a minute, logged in as a monitoring user. It runs
 * in its own default-deny namespace, hardened, let in from Prometheus only and out to the VPC's
 * HTTPS and DNS only; a ServiceMonitor has Prometheus probe it.
 */
export class QueueDepthExporter extends pulumi.ComponentResource {
  constructor(name: string, args: QueueDepthExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:QueueDepthExporter", name, {}, opts);
    const labels = { [APP_LABEL]: QUEUE_DEPTH_EXPORTER_NAME };
    const k8sOpts = { parent: this, provider: args.provider };
    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: MESSAGING_NAMESPACE, labels: { "platform/purpose": "messaging" } } },
      k8sOpts,
    );
    defaultDenyPolicy(`${name}-default-deny`, namespace.metadata.name, k8sOpts);
    const scope: Scope = {
      name,
      args,
      metadata: { name: QUEUE_DEPTH_EXPORTER_NAME, namespace: MESSAGING_NAMESPACE, labels },
      selector: { matchLabels: labels },
      namespace,
      opts: { ...k8sOpts, dependsOn: [namespace] },
    };
    createDeployment(scope);
    allowTraffic(scope);
    scrapeExporter(scope);
    this.registerOutputs({});
  }
}

/** One exporter (Prometheus dedupes nothing, so more would double every series) on its config and login. */
function createDeployment(scope: Scope): k8s.apps.v1.Deployment {
  const { name, args, metadata, selector, opts } = scope;
  const login = new k8s.core.v1.Secret(
    `${name}-login`,
    {
      metadata: { ...metadata, name: `${QUEUE_DEPTH_EXPORTER_NAME}-login` },
      stringData: { password: args.login.password },
    },
    opts,
  );
  const configFile = renderQueueDepthExporterConfig(args.login.username, `${LOGIN_DIR}/password`);
  const config = new k8s.core.v1.ConfigMap(`${name}-config`, { metadata, data: { "config.yml": configFile } }, opts);
  const probe = { httpGet: { path: "/metrics", port: "http" }, periodSeconds: 20, timeoutSeconds: 3 };
  return new k8s.apps.v1.Deployment(
    `${name}-deployment`,
    {
      metadata,
      spec: {
        replicas: 1,
        selector,
        template: {
          // json_exporter reads its config at start: a changed config rolls the pod.
          metadata: { labels: metadata.labels, annotations: { [CONFIG_HASH_ANNOTATION]: sha256(configFile) } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: nonRootPod(QUEUE_DEPTH_EXPORTER.uid),
            containers: [
              {
                name: "exporter",
                image: QUEUE_DEPTH_EXPORTER.image,
                args: [`--config.file=${CONFIG_DIR}/config.yml`],
                ports: [{ name: "http", containerPort: QUEUE_DEPTH_EXPORTER.port }],
                resources: EXPORTER_RESOURCES,
                // Its own /metrics: up whether or not the broker answers (a probe of the broker fails the scrape instead).
                livenessProbe: probe,
                readinessProbe: probe,
                securityContext: HARDENED_CONTAINER,
                volumeMounts: [
                  { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                  { name: "login", mountPath: LOGIN_DIR, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: config.metadata.name } },
              { name: "login", secret: { secretName: login.metadata.name, defaultMode: 0o440 } },
            ],
          },
        },
      },
    },
    opts,
  );
}

/** In: Prometheus on the exporter's port. Out: DNS, and HTTPS in the VPC, where the broker's management API is. */
function allowTraffic({ name, args, metadata, selector, opts }: Scope): void {
  new k8s.networking.v1.NetworkPolicy(
    `${name}-netpol`,
    {
      metadata,
      spec: {
        podSelector: selector,
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": NAMESPACES.monitoring } },
                podSelector: { matchLabels: PROMETHEUS_PODS },
              },
            ],
            ports: [{ port: QUEUE_DEPTH_EXPORTER.port }],
          },
        ],
        egress: [
          DNS_EGRESS,
          { to: [{ ipBlock: { cidr: args.vpcCidr } }], ports: [{ port: RABBITMQ.managedManagementPort }] },
        ],
      },
    },
    opts,
  );
}

/**
 * The exporter's Service and the ServiceMonitor on it: each scrape is a probe of the vhost's queue
 * list, once a minute. Prometheus reads ServiceMonitors in every namespace (chartValues.ts, monitoringValues).
 */
function scrapeExporter({ name, args, metadata, selector, namespace, opts }: Scope): void {
  new k8s.core.v1.Service(
    `${name}-service`,
    {
      metadata,
      spec: {
        type: "ClusterIP",
        selector: selector.matchLabels,
        ports: [{ name: "http", port: QUEUE_DEPTH_EXPORTER.port, targetPort: "http" }],
      },
    },
    opts,
  );
  new k8s.apiextensions.CustomResource(
    `${name}-servicemonitor`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata,
      spec: {
        selector,
        endpoints: [
          {
            port: "http",
            path: "/probe",
            interval: QUEUE_DEPTH_SCRAPE_INTERVAL,
            scrapeTimeout: "30s",
            params: {
              module: [QUEUE_DEPTH_MODULE],
              target: [pulumi.all([args.managementUrl, args.vhost]).apply(([url, vhost]) => queueListUrl(url, vhost))],
            },
          },
        ],
      },
    },
    { ...opts, dependsOn: [namespace, args.monitoringRelease] },
  );
}
