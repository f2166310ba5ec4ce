import { PolicyResource } from "@pulumi/policy";
import { StackRule } from "../rule";
import { T } from "../types";
import { podSpec, WORKLOADS } from "./workloads";

/** `namespace/name` of the service accounts a RoleBinding or ClusterRoleBinding grants something. */
function boundAccounts(resources: PolicyResource[]): Set<string> {
  return new Set(
    resources
      .filter((r) => r.type === T.roleBinding || r.type === T.clusterRoleBinding)
      .flatMap((r) =>
        (r.props.subjects ?? [])
          .filter((s: any) => s.kind === "ServiceAccount")
          .map((s: any) => `${s.namespace ?? r.props.metadata?.namespace}/${s.name}`),
      ),
  );
}

export const serviceAccountTokenNotMounted: StackRule = {
  kind: "stack",
  name: "service-account-token-not-mounted",
  description:
    "Pods mount no Kubernetes API token (automountServiceAccountToken false on the pod, or on its service account) unless a RoleBinding the stack declares grants their service account something to do with it.",
  severity: "high",
  remediation: "Set automountServiceAccountToken: false on the pod spec (the platform's workloads do)",
  check: (resources) => {
    const bound = boundAccounts(resources);
    const accountDenies = (namespace: string, name: string) =>
      resources.some(
        (r) =>
          r.type === T.serviceAccount &&
          r.props.metadata?.namespace === namespace &&
          r.props.metadata?.name === name &&
          r.props.automountServiceAccountToken === false,
      );
    return resources
      .filter((r) => WORKLOADS.includes(r.type))
      .flatMap((r) => {
        const spec = podSpec(r.props, r.type);
        const namespace = r.props.metadata?.namespace ?? "default";
        const account = spec.serviceAccountName ?? "default";
        const mounted =
          spec.automountServiceAccountToken === true ||
          (spec.automountServiceAccountToken === undefined && !accountDenies(namespace, account));
        return mounted && !bound.has(`${namespace}/${account}`)
          ? [
              {
                message: `${r.props.metadata?.name ?? r.name} mounts the API token of service account ${account}, which no RoleBinding grants anything`,
                urn: r.urn,
              },
            ]
          : [];
      });
  },
};
