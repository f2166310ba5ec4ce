import { PolicyResource } from "@pulumi/policy";
import { StackRule } from "../rule";
import { T } from "../types";

export const pdbForReplicatedPods: StackRule = {
  kind: "stack",
  name: "pdb-for-replicated-pods",
  description:
    "Every Deployment with more than one replica (its own, or its autoscaler's minimum) has a PodDisruptionBudget.",
  severity: "medium",
  remediation: "The ServiceWorkload adds one for replicas > 1",
  check: (resources) => {
    const budgets = resources
      .filter((r) => r.type === T.pdb)
      .map((r) => ({ namespace: r.props.metadata?.namespace, selector: r.props.spec?.selector?.matchLabels ?? {} }));
    // An autoscaled Deployment leaves out `replicas`: its HPA's minimum is how many run.
    const minimumOf = (d: PolicyResource) =>
      Math.max(
        d.props.spec?.replicas ?? 1,
        ...resources
          .filter(
            (r) =>
              r.type === T.hpa &&
              r.props.metadata?.namespace === d.props.metadata?.namespace &&
              r.props.spec?.scaleTargetRef?.name === d.props.metadata?.name,
          )
          .map((r) => r.props.spec?.minReplicas ?? 1),
      );
    return resources
      .filter((r) => r.type === T.deployment && minimumOf(r) > 1)
      .filter((d) => {
        const labels = d.props.spec?.template?.metadata?.labels ?? {};
        return !budgets.some(
          (b) =>
            b.namespace === d.props.metadata?.namespace &&
            Object.entries(b.selector).every(([k, v]) => labels[k] === v),
        );
      })
      .map((d) => ({
        message: `deployment ${d.props.metadata?.name} runs ${minimumOf(d)} replicas and has no PodDisruptionBudget`,
        urn: d.urn,
      }));
  },
};
