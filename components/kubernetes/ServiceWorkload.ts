import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { Service } from "../../services/schema";
import { DNS_EGRESS, externalEgress, externalEgressAnnotations } from "./networkPolicies";
import { EndpointLocation } from "../platform";
import { ServiceEndpoints } from "../serviceEnvironment";
import { APP_LABEL, SINGLETON_ANNOTATION, metricsPort, podMonitorSpec, podSpec, prodReplicas } from "./podSpec";
import { NAME_LIMITS, logicalName } from "../naming";
import { IRSA_ROLE_ANNOTATION, webIdentityTrustPolicy } from "../webIdentityTrust";
import { SECRET_CHECKSUM_ANNOTATION, dataChecksum } from "./checksum";

export { APP_LABEL, resourceRequirements } from "./podSpec";

/** Marks the Secret of a service that issues the gateway's tokens (catalog `auth.issuesTokens`). */
export const ISSUER_LABEL = "platform/issues-tokens";

export interface ServiceWorkloadArgs {
  service: Service;
  namespace: pulumi.Input<string>;
  /** Pinned image reference: the catalog's tag in the ECR repository, a pushed build's digest, or a full reference. */
  image: pulumi.Input<string>;
  env: Record<string, pulumi.Input<string>>;
  secretEnv: Record<string, pulumi.Input<string>>;
  /** Services that call this one (ingress allowed from their pods). */
  callers: string[];
  /** Namespaces allowed in: the gateway's and the monitoring one. */
  gatewayNamespace: string;
  monitoringNamespace: string;
  /** The release that installs the Prometheus Operator: the PodMonitor needs its CRD. */
  monitoringRelease: pulumi.Resource;
  /** What the service uses; its pods may reach exactly these (and DNS, and the services it calls). */
  endpoints: ServiceEndpoints;
  /** Endpoints located in the VPC are reached at private addresses in this range. */
  vpcCidr: pulumi.Input<string>;
  /**
   * The cluster's OIDC provider, the IAM path the deploying identity may create roles under, and the
   * permissions boundary those roles must carry.
   */
  irsa: {
    oidcProviderArn: pulumi.Input<string>;
    oidcIssuer: pulumi.Input<string>;
    rolePath: string;
    permissionsBoundary: pulumi.Input<string>;
  };
  provider: k8s.Provider;
}

/** What every phase shares: the component as parent, the cluster's provider and the objects' metadata. */
interface Workload {
  name: string;
  args: ServiceWorkloadArgs;
  parent: pulumi.Resource;
  k8sOpts: pulumi.CustomResourceOptions;
  labels: Record<string, string>;
  metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };
}

/**
 * A catalog service on Kubernetes: ServiceAccount with an IRSA role (no policies until the
 * service needs some), Secret for its credentials, hardened Deployment with probes and limits,
 * Service, a HorizontalPodAutoscaler from at least two pods and a PodDisruptionBudget (a catalog
 * singleton instead runs one pod, replaced by stopping it first), a PodMonitor and a NetworkPolicy
 * admitting only the gateway, monitoring and the services that call it, and letting out only to
 * DNS, what the service uses, and what its catalog entry declares outside.
 */
export class ServiceWorkload extends pulumi.ComponentResource {
  readonly internalUrl: pulumi.Output<string>;

  constructor(name: string, args: ServiceWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:ServiceWorkload", name, {}, opts);
    const { service } = args;
    const labels = { [APP_LABEL]: service.name, "app.kubernetes.io/part-of": "platform" };
    const workload: Workload = {
      name,
      args,
      parent: this,
      k8sOpts: { parent: this, provider: args.provider },
      labels,
      metadata: { name: service.name, namespace: args.namespace, labels },
    };
    const identity = createIdentity(workload, createIrsaRole(workload));
    createDeployment(workload, identity);
    const kubeService = createService(workload);
    if (!service.singleton) {
      createAutoscaler(workload);
      createDisruptionBudget(workload);
    }
    createPodMonitor(workload);
    createNetworkPolicy(workload);

    this.internalUrl = pulumi.interpolate`http://${kubeService.metadata.name}.${args.namespace}.svc.cluster.local:${service.port}`;
    this.registerOutputs({ internalUrl: this.internalUrl });
  }
}

/** The IAM role the service account assumes through the cluster's OIDC provider. */
function createIrsaRole(workload: Workload): aws.iam.Role {
  const { name, args } = workload;
  return new aws.iam.Role(
    // The provider names the role after it.
    logicalName(`${name}-irsa`, NAME_LIMITS.iamRole, "aws"),
    {
      assumeRolePolicy: pulumi
        .all([args.irsa.oidcProviderArn, args.irsa.oidcIssuer, args.namespace])
        .apply(([arn, issuer, namespace]) =>
          webIdentityTrustPolicy(arn, issuer, `system:serviceaccount:${namespace}:${args.service.name}`),
        ),
      path: args.irsa.rolePath,
      permissionsBoundary: args.irsa.permissionsBoundary,
      tags: { service: args.service.name },
    },
    { parent: workload.parent },
  );
}

interface Identity {
  account: k8s.core.v1.ServiceAccount;
  /** The service's credentials, loaded into the pod as env. */
  secret: k8s.core.v1.Secret;
}

function createIdentity(workload: Workload, role: aws.iam.Role): Identity {
  const { name, metadata } = workload;
  const account = new k8s.core.v1.ServiceAccount(
    `${name}-sa`,
    {
      metadata: { ...metadata, annotations: { [IRSA_ROLE_ANNOTATION]: role.arn } },
      automountServiceAccountToken: false,
    },
    workload.k8sOpts,
  );
  const issuer = workload.args.service.auth.issuesTokens;
  const secret = new k8s.core.v1.Secret(
    `${name}-secret`,
    {
      // The policy pack lets only a marked issuer's Secret hold the gateway's signing secret.
      metadata: issuer ? { ...metadata, labels: { ...metadata.labels, [ISSUER_LABEL]: "true" } } : metadata,
      type: "Opaque",
      stringData: workload.args.secretEnv,
    },
    workload.k8sOpts,
  );
  return { account, secret };
}

/** Rolling updates that never drop below the wanted replicas; a singleton's old pod stops before its new one starts. */
function createDeployment(workload: Workload, identity: Identity): k8s.apps.v1.Deployment {
  const { args } = workload;
  const { service } = args;
  return new k8s.apps.v1.Deployment(
    `${workload.name}-deployment`,
    {
      metadata: service.singleton
        ? { ...workload.metadata, annotations: { [SINGLETON_ANNOTATION]: "true" } }
        : workload.metadata,
      spec: {
        // Otherwise no replicas: the HorizontalPodAutoscaler owns the count, and a value here would
        // reset it on every `pulumi up`.
        ...(service.singleton ? { replicas: 1 } : {}),
        selector: { matchLabels: { [APP_LABEL]: service.name } },
        strategy: service.singleton
          ? { type: "Recreate" }
          : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          // No prometheus.io annotations: the PodMonitor says what Prometheus scrapes. The pods read
          // their Secret as env only when they start: its data's hash rolls them when a value changes.
          metadata: {
            labels: workload.labels,
            annotations: { [SECRET_CHECKSUM_ANNOTATION]: dataChecksum(args.secretEnv) },
          },
          spec: podSpec({
            service,
            image: args.image,
            env: args.env,
            serviceAccountName: identity.account.metadata.name,
            secretName: identity.secret.metadata.name,
            trustBundle: args.endpoints.database?.trustBundle,
          }),
        },
      },
    },
    workload.k8sOpts,
  );
}

function createService(workload: Workload): k8s.core.v1.Service {
  const { service } = workload.args;
  return new k8s.core.v1.Service(
    `${workload.name}-service`,
    {
      metadata: workload.metadata,
      spec: {
        selector: { [APP_LABEL]: service.name },
        ports: [{ name: "http", port: service.port, targetPort: "http" }],
      },
    },
    workload.k8sOpts,
  );
}

/** From the prod minimum (the catalog's replicas, at least two) up to three times the catalog's replicas, at 70 % CPU. */
function createAutoscaler(workload: Workload): k8s.autoscaling.v2.HorizontalPodAutoscaler {
  const { service } = workload.args;
  const minReplicas = prodReplicas(service);
  return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    `${workload.name}-hpa`,
    {
      metadata: workload.metadata,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: service.name },
        minReplicas,
        maxReplicas: Math.max(minReplicas, service.replicas * 3),
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ],
      },
    },
    workload.k8sOpts,
  );
}

/** Voluntary disruptions (drains, node upgrades) take at most one pod at a time, however many the autoscaler runs. */
function createDisruptionBudget(workload: Workload): k8s.policy.v1.PodDisruptionBudget {
  const { service } = workload.args;
  return new k8s.policy.v1.PodDisruptionBudget(
    `${workload.name}-pdb`,
    {
      metadata: workload.metadata,
      spec: { maxUnavailable: 1, selector: { matchLabels: { [APP_LABEL]: service.name } } },
    },
    workload.k8sOpts,
  );
}

/** Prometheus (kube-prometheus-stack's, selecting the catalog's namespace) scrapes every pod. */
function createPodMonitor(workload: Workload): k8s.apiextensions.CustomResource {
  const { args } = workload;
  return new k8s.apiextensions.CustomResource(
    `${workload.name}-podmonitor`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: workload.metadata,
      spec: podMonitorSpec(args.service),
    },
    { ...workload.k8sOpts, dependsOn: [args.monitoringRelease] },
  );
}

/**
 * In: the gateway and the callers on the HTTP port, monitoring on the metrics port. Out: DNS,
 * callees, endpoints, and what the catalog's `egress` declares outside.
 */
function createNetworkPolicy(workload: Workload): k8s.networking.v1.NetworkPolicy {
  const { args } = workload;
  const { service } = args;
  const toPods = (names: string[]) => names.map((peer) => ({ podSelector: { matchLabels: { [APP_LABEL]: peer } } }));
  const annotations = externalEgressAnnotations(service.egress, args.vpcCidr);
  return new k8s.networking.v1.NetworkPolicy(
    `${workload.name}-netpol`,
    {
      metadata: { ...workload.metadata, ...(annotations ? { annotations } : {}) },
      spec: {
        podSelector: { matchLabels: { [APP_LABEL]: service.name } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          { from: [fromNamespace(args.gatewayNamespace), ...toPods(args.callers)], ports: [{ port: service.port }] },
          { from: [fromNamespace(args.monitoringNamespace)], ports: [{ port: metricsPort(service) }] },
        ],
        egress: [
          DNS_EGRESS,
          ...(service.dependsOn.length ? [{ to: toPods(service.dependsOn) }] : []),
          ...endpointEgress(usedEndpoints(service, args.endpoints), args.vpcCidr),
          ...externalEgress(service.egress, args.vpcCidr),
        ],
      },
    },
    workload.k8sOpts,
  );
}

const fromNamespace = (namespace: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
});

/** The endpoints a service's pods connect to: tracing, and its database, broker and cache when it has them. */
function usedEndpoints(
  service: Service,
  endpoints: ServiceEndpoints,
): Array<{ location: EndpointLocation; port: number }> {
  return [
    endpoints.tracing,
    endpoints.database,
    endpoints.broker?.endpoint,
    service.cache ? endpoints.cache : undefined,
  ].filter((e) => e !== undefined);
}

/** Egress rules to those endpoints: one rule for every port in the VPC, one per namespace. */
function endpointEgress(endpoints: Array<{ location: EndpointLocation; port: number }>, vpcCidr: pulumi.Input<string>) {
  const vpcPorts = [...new Set(endpoints.filter((e) => e.location.kind === "vpc").map((e) => e.port))];
  const inCluster = endpoints.flatMap((e) =>
    e.location.kind === "namespace" ? [{ ...e.location, port: e.port }] : [],
  );
  return [
    ...(vpcPorts.length ? [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: vpcPorts.map((port) => ({ port })) }] : []),
    ...inCluster.map((peer) => ({
      to: [fromNamespace(peer.namespace)],
      ports: [{ port: peer.port }],
    })),
  ];
}
