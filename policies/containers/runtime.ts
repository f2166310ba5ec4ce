import { podContainers } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";

export const containerResourceLimits: ResourceRule = {
  kind: "resource",
  name: "container-resource-limits",
  description: "Every container has a memory limit; every pod memory and CPU limits.",
  severity: "medium",
  remediation: "Set memory (and cpus) on the container, resources.limits on the pod",
  types: [T.container, T.deployment],
  check: (props, type) => {
    // One-shot containers too: they run during the update, beside everything else.
    if (type === T.container) return props.memory ? [] : ["no memory limit"];
    return podContainers(props)
      .filter((c) => !c.resources?.limits?.memory || !c.resources?.limits?.cpu)
      .map((c) => `container ${c.name}: no cpu/memory limits`);
  },
};

export const healthChecks: ResourceRule = {
  kind: "resource",
  name: "health-checks",
  description: "Every long-running container has a healthcheck; every pod liveness and readiness probes.",
  severity: "medium",
  remediation:
    "Give the container a healthcheck its image can run (a service's follows from health.path in the catalog)",
  types: [T.container, T.deployment],
  check: (props, type) => {
    if (type === T.container) {
      // A one-shot container (mustRun false) exits: its exit code, not a healthcheck, tells how it went.
      return props.mustRun !== false && !props.healthcheck?.tests?.length ? ["container without healthcheck"] : [];
    }
    return podContainers(props)
      .filter((c) => !c.livenessProbe || !c.readinessProbe)
      .map((c) => `container ${c.name}: missing liveness or readiness probe`);
  },
};
