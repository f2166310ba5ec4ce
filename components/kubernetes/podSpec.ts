// The pod a catalog service runs in, as plain objects: only types come from Pulumi, so it is checked without a program.
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type { Service } from "../../services/schema";
import type { TrustBundle } from "../platform";
import { cpuCores } from "../../services/quantities";

export const APP_LABEL = "app.kubernetes.io/name";

/** Fewest pods a service runs on prod, so that draining a node (or losing one) never stops it. */
export const PROD_MIN_REPLICAS = 2;

/** Marks the Deployment of a catalog singleton: one pod, replaced by stopping it first. */
export const SINGLETON_ANNOTATION = "platform/singleton";

/**
 * How many pods a service runs on prod at least: one for a catalog singleton, else the catalog's
 * replicas but never fewer than PROD_MIN_REPLICAS (dev runs the catalog's count as it is).
 */
export function prodReplicas(service: Service): number {
  return service.singleton ? 1 : Math.max(PROD_MIN_REPLICAS, service.replicas);
}

const PROBE_PERIOD_SECONDS = 10;

/**
 * A startup probe from a check: tried every 10 s for `startSeconds` (at least three tries) before
 * the kubelet restarts the container; liveness and readiness probes wait until it passes.
 */
export function startupProbe<Check extends object>(check: Check, startSeconds: number) {
  return {
    ...check,
    periodSeconds: PROBE_PERIOD_SECONDS,
    failureThreshold: Math.max(3, Math.ceil(startSeconds / PROBE_PERIOD_SECONDS)),
  };
}

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

/** The port Prometheus scrapes: the service's own metrics port, or its HTTP port. */
export function metricsPort(service: Service): number {
  return service.health.metricsPort ?? service.port;
}

/** The container port's name for it: the PodMonitor selects ports by name only. */
export function metricsPortName(service: Service): "http" | "metrics" {
  return metricsPort(service) === service.port ? "http" : "metrics";
}

/** The fields of monitoring.coreos.com/v1 PodMonitor's spec the platform sets. */
export interface PodMonitorSpec {
  selector: { matchLabels: Record<string, string> };
  podMetricsEndpoints: Array<{
    port: string;
    path: string;
    relabelings: Array<{ action: "replace"; targetLabel: string; replacement: string }>;
  }>;
}

/**
 * The PodMonitor's spec: every pod of the service, each on its own (a scrape through the Service
 * would land on one replica at a time and mix their counters), on its named metrics port.
 */
export function podMonitorSpec(service: Service): PodMonitorSpec {
  return {
    selector: { matchLabels: { [APP_LABEL]: service.name } },
    podMetricsEndpoints: [
      {
        port: metricsPortName(service),
        path: service.health.metricsPath,
        // The operator labels a target job="<namespace>/<monitor>" and then applies these
        // (prometheus-operator v0.77.2, pkg/prometheus/promcfg.go, generatePodMonitorConfig): the
        // alert rules and dashboards read job and service as the service's name, as on dev.
        relabelings: ["job", "service"].map((label) => ({
          action: "replace" as const,
          targetLabel: label,
          replacement: service.name,
        })),
      },
    ],
  };
}

/** A container that cannot gain privileges, writes only to its volumes and holds no capability. */
export const HARDENED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ["ALL"] },
};

/** A pod that runs as the image's unprivileged `uid` (its group too), under the runtime's default seccomp profile. */
export function nonRootPod(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** What the pod is given besides the catalog entry. */
export interface PodInputs {
  service: Service;
  image: pulumi.Input<string>;
  env: Record<string, pulumi.Input<string>>;
  serviceAccountName: pulumi.Input<string>;
  /** The Secret whose keys all become env variables (the service's credentials). */
  secretName: pulumi.Input<string>;
  /** CA certificates the database needs beyond the image's. */
  trustBundle?: TrustBundle;
}

/** A non-root pod spread over the zones, with no service account token and scratch space in memory. */
export function podSpec(pod: PodInputs): k8s.types.input.core.v1.PodSpec {
  const { trustBundle } = pod;
  return {
    serviceAccountName: pod.serviceAccountName,
    automountServiceAccountToken: false,
    securityContext: nonRootPod(10001),
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { [APP_LABEL]: pod.service.name } },
      },
    ],
    terminationGracePeriodSeconds: 30,
    containers: [serviceContainer(pod)],
    // The root filesystem is read-only; scratch space lives in memory.
    volumes: [
      { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
      ...(trustBundle ? [{ name: "trust-bundle", configMap: { name: trustBundle.configMap } }] : []),
    ],
  };
}

/** The service's container: probes on its HTTP port, its limits, no privileges beyond the catalog's capabilities. */
function serviceContainer(pod: PodInputs): k8s.types.input.core.v1.Container {
  const { service, trustBundle } = pod;
  const metrics = metricsPort(service);
  return {
    name: service.name,
    image: pod.image,
    ports: [
      { name: "http", containerPort: service.port },
      ...(metricsPortName(service) === "metrics" ? [{ name: "metrics", containerPort: metrics }] : []),
    ],
    env: Object.entries(pod.env).map(([envName, value]) => ({ name: envName, value })),
    envFrom: [{ secretRef: { name: pod.secretName } }],
    resources: resourceRequirements(service),
    startupProbe: startupProbe(httpProbe(service.health.path), service.health.startPeriodSeconds),
    livenessProbe: httpProbe(service.health.path),
    readinessProbe: httpProbe(service.health.readinessPath ?? service.health.path),
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
      ...(trustBundle ? [{ name: "trust-bundle", mountPath: trustBundle.mountPath, readOnly: true }] : []),
    ],
  };
}

function httpProbe(path: string) {
  return {
    httpGet: { path, port: "http" },
    initialDelaySeconds: 0,
    periodSeconds: PROBE_PERIOD_SECONDS,
    timeoutSeconds: 3,
    failureThreshold: 3,
  };
}
