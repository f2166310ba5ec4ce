import { OPEN_CIDRS, ResourceRule, StackRule } from "../rule";
import { T } from "../types";

export const eksHardened: ResourceRule = {
  kind: "resource",
  name: "eks-hardened",
  description: "EKS: secrets encrypted with KMS, control-plane logging, public endpoint off or restricted.",
  severity: "critical",
  remediation: "Keep the EksCluster defaults; list only trusted CIDRs in aws.eks.publicAccessCidrs",
  types: [T.eks],
  check: (props) => {
    const problems: string[] = [];
    if (!(props.encryptionConfig?.resources ?? []).includes("secrets"))
      problems.push("secrets are not encrypted with KMS");
    const logs: string[] = props.enabledClusterLogTypes ?? [];
    for (const log of ["api", "audit", "authenticator"])
      if (!logs.includes(log)) problems.push(`control-plane log ${log} is off`);
    const vpc = props.vpcConfig ?? {};
    if (vpc.endpointPublicAccess !== false) {
      const cidrs: string[] = vpc.publicAccessCidrs ?? [];
      if (cidrs.length === 0 || cidrs.some((c) => OPEN_CIDRS.has(c)))
        problems.push("public API endpoint open to the internet");
    }
    return problems;
  },
};

/** The vpc-cni add-on's configuration turns its network policy agent on. */
function enforcesNetworkPolicies(configurationValues: unknown): boolean {
  try {
    return JSON.parse(String(configurationValues)).enableNetworkPolicy === "true";
  } catch {
    return false;
  }
}

export const networkPoliciesEnforced: StackRule = {
  kind: "stack",
  name: "network-policies-enforced",
  description: "EKS clusters enforce NetworkPolicies: the vpc-cni add-on with enableNetworkPolicy on.",
  severity: "critical",
  remediation: 'Give the cluster the vpc-cni add-on with configurationValues {"enableNetworkPolicy": "true"}',
  check: (resources) =>
    resources
      .filter((r) => r.type === T.eks)
      .filter(
        (cluster) =>
          !resources.some(
            (r) =>
              r.type === T.eksAddon &&
              r.props.addonName === "vpc-cni" &&
              r.dependencies.some((d) => d.urn === cluster.urn) &&
              enforcesNetworkPolicies(r.props.configurationValues),
          ),
      )
      .map((cluster) => ({
        message: `cluster ${cluster.name} does not enforce NetworkPolicies: no vpc-cni add-on with enableNetworkPolicy "true", so every policy (default-deny included) is ignored`,
        urn: cluster.urn,
      })),
};
