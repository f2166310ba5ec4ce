import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { Service } from "../../services/schema";
import { cpuCores } from "../../services/quantities";
import { DNS_EGRESS } from "./networkPolicies";
import { EndpointLocation } from "../platform";
import { ServiceEndpoints } from "../serviceEnvironment";

export interface ServiceWorkloadArgs {
  service: Service;
  namespace: pulumi.Input<string>;
  /** Pinned image reference (ECR repository and the catalog's tag). */
  image: pulumi.Input<string>;
  env: Record<string, pulumi.Input<string>>;
  secretEnv: Record<string, pulumi.Input<string>>;
  /** Services that call this one (ingress allowed from their pods). */
  callers: string[];
  /** Namespaces allowed in: the gateway's and the monitoring one. */
  gatewayNamespace: string;
  monitoringNamespace: string;
  /** What the service uses; its pods may reach exactly these (and DNS, and the services it calls). */
  endpoints: ServiceEndpoints;
  /** Endpoints located in the VPC are reached at private addresses in this range. */
  vpcCidr: string;
  irsa: { oidcProviderArn: pulumi.Input<string>; oidcIssuer: pulumi.Input<string> };
  provider: k8s.Provider;
}

export const APP_LABEL = "app.kubernetes.io/name";

/** Requests: half the CPU limit (bursting allowed), all of the memory limit (no overcommit). */
export function resourceRequirements(service: Service): {
  requests: Record<string, string>;
  limits: Record<string, string>;
} {
  const cpuLimitMilli = Math.round(cpuCores(service.resources.cpu) * 1000);
  return {
    requests: { cpu: `${Math.max(10, Math.round(cpuLimitMilli / 2))}m`, memory: service.resources.memory },
    limits: { cpu: `${cpuLimitMilli}m`, memory: service.resources.memory },
  };
}

/**
 * A catalog service on Kubernetes: ServiceAccount with an IRSA role (no policies until the
 * service needs some), Secret for its credentials, hardened Deployment with probes and limits,
 * Service, HorizontalPodAutoscaler, PodDisruptionBudget (with more than one replica) and a
 * NetworkPolicy admitting only the gateway, monitoring and the services that call it.
 */
export class ServiceWorkload extends pulumi.ComponentResource {
  readonly internalUrl: pulumi.Output<string>;

  constructor(name: string, args: ServiceWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:ServiceWorkload", name, {}, opts);
    const { service } = args;
    const trustBundle = args.endpoints.database?.trustBundle;
    const k8sOpts = { parent: this, provider: args.provider };
    const labels = { [APP_LABEL]: service.name, "app.kubernetes.io/part-of": "platform" };
    const metadata = { name: service.name, namespace: args.namespace, labels };

    const role = new aws.iam.Role(
      `${name}-irsa`,
      {
        assumeRolePolicy: pulumi
          .all([args.irsa.oidcProviderArn, args.irsa.oidcIssuer, args.namespace])
          .apply(([arn, issuer, namespace]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { Federated: arn },
                  Action: "sts:AssumeRoleWithWebIdentity",
                  Condition: {
                    StringEquals: {
                      [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${service.name}`,
                      [`${issuer}:aud`]: "sts.amazonaws.com",
                    },
                  },
                },
              ],
            }),
          ),
        tags: { service: service.name },
      },
      { parent: this },
    );
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: { ...metadata, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
        automountServiceAccountToken: false,
      },
      k8sOpts,
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata,
        type: "Opaque",
        stringData: args.secretEnv,
      },
      k8sOpts,
    );

    const probe = (path: string, initialDelaySeconds: number) => ({
      httpGet: { path, port: "http" },
      initialDelaySeconds,
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    });
    const metricsPort = service.health.metricsPort ?? service.port;
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata,
        spec: {
          replicas: service.replicas,
          selector: { matchLabels: { [APP_LABEL]: service.name } },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels,
              annotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(metricsPort),
                "prometheus.io/path": service.health.metricsPath,
              },
            },
            spec: {
              serviceAccountName: account.metadata.name,
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 10001,
                runAsGroup: 10001,
                fsGroup: 10001,
                seccompProfile: { type: "RuntimeDefault" },
              },
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: { [APP_LABEL]: service.name } },
                },
              ],
              terminationGracePeriodSeconds: 30,
              containers: [
                {
                  name: service.name,
                  image: args.image,
                  ports: [
                    { name: "http", containerPort: service.port },
                    ...(metricsPort !== service.port ? [{ name: "metrics", containerPort: metricsPort }] : []),
                  ],
                  env: Object.entries(args.env).map(([envName, value]) => ({ name: envName, value })),
                  envFrom: [{ secretRef: { name: secret.metadata.name } }],
                  resources: resourceRequirements(service),
                  startupProbe: {
                    ...probe(service.health.path, 0),
                    failureThreshold: Math.max(3, Math.ceil(service.health.startPeriodSeconds / 10)),
                  },
                  livenessProbe: probe(service.health.path, 0),
                  readinessProbe: probe(service.health.readinessPath ?? service.health.path, 0),
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    privileged: false,
                    capabilities: {
                      drop: ["ALL"],
                      ...(service.capabilities.length ? { add: service.capabilities } : {}),
                    },
                  },
                  volumeMounts: [
                    { name: "tmp", mountPath: "/tmp" },
                    ...(trustBundle
                      ? [{ name: "trust-bundle", mountPath: trustBundle.mountPath, readOnly: true }]
                      : []),
                  ],
                },
              ],
              // The root filesystem is read-only; scratch space lives in memory.
              volumes: [
                { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
                ...(trustBundle ? [{ name: "trust-bundle", configMap: { name: trustBundle.configMap } }] : []),
              ],
            },
          },
        },
      },
      k8sOpts,
    );

    const kubeService = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata,
        spec: {
          selector: { [APP_LABEL]: service.name },
          ports: [{ name: "http", port: service.port, targetPort: "http" }],
        },
      },
      k8sOpts,
    );

    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-hpa`,
      {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: service.name },
          minReplicas: service.replicas,
          maxReplicas: service.replicas * 3,
          metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
          ],
        },
      },
      k8sOpts,
    );

    if (service.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata,
          spec: { minAvailable: service.replicas - 1, selector: { matchLabels: { [APP_LABEL]: service.name } } },
        },
        k8sOpts,
      );
    }

    const toPods = (names: string[]) => names.map((peer) => ({ podSelector: { matchLabels: { [APP_LABEL]: peer } } }));
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata,
        spec: {
          podSelector: { matchLabels: { [APP_LABEL]: service.name } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: [fromNamespace(args.gatewayNamespace), ...toPods(args.callers)], ports: [{ port: service.port }] },
            { from: [fromNamespace(args.monitoringNamespace)], ports: [{ port: metricsPort }] },
          ],
          egress: [
            DNS_EGRESS,
            ...(service.dependsOn.length ? [{ to: toPods(service.dependsOn) }] : []),
            ...endpointEgress(usedEndpoints(service, args.endpoints), args.vpcCidr),
          ],
        },
      },
      k8sOpts,
    );

    this.internalUrl = pulumi.interpolate`http://${kubeService.metadata.name}.${args.namespace}.svc.cluster.local:${service.port}`;
    this.registerOutputs({ internalUrl: this.internalUrl });
  }
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
function endpointEgress(endpoints: Array<{ location: EndpointLocation; port: number }>, vpcCidr: string) {
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
