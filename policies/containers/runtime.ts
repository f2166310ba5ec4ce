import { containersOf, LONG_RUNNING, WORKLOADS } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";

export const containerResourceLimits: ResourceRule = {
  kind: "resource",
  name: "container-resource-limits",
  description: "Every container has a memory limit; every pod of every workload kind memory and CPU limits.",
  severity: "medium",
  remediation: "Set memory (and cpus) on the container, resources.limits on the pod",
  types: [T.container, ...WORKLOADS],
  check: (props, type) => {
    // One-shot containers too: they run during the update, beside everything else.
    if (type === T.container) return props.memory ? [] : ["no memory limit"];
    return containersOf(props, type)
      .filter(({ container }) => !container.resources?.limits?.memory || !container.resources?.limits?.cpu)
      .map(({ container }) => `container ${container.name}: no cpu/memory limits`);
  },
};

export const healthChecks: ResourceRule = {
  kind: "resource",
  name: "health-checks",
  description:
    "Every long-running container has a healthcheck; every long-running pod (Deployment, StatefulSet, DaemonSet) liveness and readiness probes.",
  severity: "medium",
  remediation:
    "Give the container a healthcheck its image can run (a service's follows from health.path in the catalog)",
  types: [T.container, ...LONG_RUNNING],
  check: (props, type) => {
    if (type === T.container) {
      // A one-shot container (mustRun false) exits: its exit code, not a healthcheck, tells how it went.
      return props.mustRun !== false && !props.healthcheck?.tests?.length ? ["container without healthcheck"] : [];
    }
    // Init containers run to completion before the others start: probes are for the long-running ones.
    return containersOf(props, type)
      .filter(
        ({ path, container }) => path.includes("containers") && (!container.livenessProbe || !container.readinessProbe),
      )
      .map(({ container }) => `container ${container.name}: missing liveness or readiness probe`);
  },
};
