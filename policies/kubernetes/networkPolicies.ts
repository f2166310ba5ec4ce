import { OPEN_CIDRS, Requirement, ResourceRule, StackRule, unmet } from "../rule";
import { T } from "../types";
import { WORKLOADS } from "./workloads";

/**
 * The platform's statement on a NetworkPolicy that opens public addresses: the hosts (`host:port,...`)
 * it is for, and the VPC its IPv4 rule leaves out. Written down here rather than imported, since the
 * pack is installed on its own and checks the component instead of trusting it.
 */
const EGRESS_HOSTS_ANNOTATION = "platform/egress-hosts";
const VPC_CIDR_ANNOTATION = "platform/vpc-cidr";
/** Besides the VPC, what egress to every IPv4 address leaves out: private ranges, link-local (instance metadata). */
const NON_PUBLIC_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

/** The peers of an egress rule that reach every address: open ipBlocks; an empty `to` is every destination, nothing left out. */
function openPeers(rule: any): Array<{ cidr: string; except: string[] }> {
  const to: any[] = rule.to ?? [];
  if (to.length === 0) return [{ cidr: "0.0.0.0/0", except: [] }];
  return to
    .filter((peer) => OPEN_CIDRS.has(peer.ipBlock?.cidr))
    .map((peer) => ({ cidr: peer.ipBlock.cidr, except: peer.ipBlock.except ?? [] }));
}

/** An open IPv4 peer leaves out the VPC the policy names and every non-public range. */
function leavesOutNonPublic(except: string[], vpcCidr: string | undefined): Requirement[] {
  return [
    [vpcCidr !== undefined, `egress to 0.0.0.0/0 without the ${VPC_CIDR_ANNOTATION} annotation naming the VPC`],
    ...[...(vpcCidr ? [vpcCidr] : []), ...NON_PUBLIC_RANGES].map((range): Requirement => [
      except.includes(range),
      `egress to 0.0.0.0/0 does not leave out ${range}`,
    ]),
  ];
}

/** Egress to every address names its hosts, opens only their ports, and (IPv4) leaves out the VPC and non-public ranges. */
function internetEgressProblems(props: Record<string, any>): string[] {
  const annotations = props.metadata?.annotations ?? {};
  const hosts = String(annotations[EGRESS_HOSTS_ANNOTATION] ?? "")
    .split(",")
    .map((host) => host.trim())
    .filter(Boolean);
  const hostPorts = new Set(hosts.map((host) => host.split(":").pop()));
  return (props.spec?.egress ?? []).flatMap((rule: any) =>
    openPeers(rule).flatMap(({ cidr, except }) => {
      const ports: string[] = (rule.ports ?? []).map((p: any) => String(p.port));
      return unmet([
        [hosts.length > 0, `egress to ${cidr} without the ${EGRESS_HOSTS_ANNOTATION} annotation naming its hosts`],
        [ports.length > 0, `egress to ${cidr} on every port`],
        ...ports.map((port): Requirement => [
          hostPorts.has(port),
          `egress to ${cidr} on port ${port}, which no host in ${EGRESS_HOSTS_ANNOTATION} uses`,
        ]),
        ...(cidr === "0.0.0.0/0" ? leavesOutNonPublic(except, annotations[VPC_CIDR_ANNOTATION]) : []),
      ]);
    }),
  );
}

/** A policy that selects every pod of its namespace and, for both directions, lets nothing through. */
function deniesAll(props: Record<string, any>): boolean {
  const spec = props.spec ?? {};
  const selector = spec.podSelector ?? {};
  const selectsAll =
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  const types: string[] = spec.policyTypes ?? [];
  return (
    selectsAll &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    (spec.ingress ?? []).length === 0 &&
    (spec.egress ?? []).length === 0
  );
}

export const networkPolicyPerNamespace: StackRule = {
  kind: "stack",
  name: "network-policy-per-namespace",
  description:
    "Every namespace with workloads (any kind) denies traffic by default: a NetworkPolicy selecting all pods, for Ingress and Egress, with no rule (an `ingress: [{}]` is allow-all, not a deny).",
  severity: "high",
  remediation: "Keep the default-deny policy the platform adds to the catalog's namespace",
  check: (resources) => {
    const denied = new Set(
      resources.filter((r) => r.type === T.networkPolicy && deniesAll(r.props)).map((r) => r.props.metadata?.namespace),
    );
    return resources
      .filter((r) => WORKLOADS.includes(r.type) && !denied.has(r.props.metadata?.namespace))
      .map((d) => ({
        message: `namespace ${d.props.metadata?.namespace} of ${d.props.metadata?.name ?? d.name} has no default-deny NetworkPolicy`,
        urn: d.urn,
      }));
  },
};

/** Why an ingress peer admits more than named pods, or undefined. */
function openSource(peer: Record<string, any>): string | undefined {
  if (OPEN_CIDRS.has(peer.ipBlock?.cidr)) return peer.ipBlock.cidr;
  const namespaces = peer.namespaceSelector;
  if (
    namespaces &&
    !peer.podSelector &&
    Object.keys(namespaces.matchLabels ?? {}).length === 0 &&
    (namespaces.matchExpressions ?? []).length === 0
  )
    return "every namespace";
  return undefined;
}

export const networkPolicyIngressRestricted: ResourceRule = {
  kind: "resource",
  name: "network-policy-ingress-restricted",
  description:
    "NetworkPolicy ingress names its sources: no rule without `from` (every source), no ipBlock 0.0.0.0/0 or ::/0, no empty namespaceSelector alone (every namespace).",
  severity: "high",
  remediation:
    "Admit the namespaces and pods that call the service (the ServiceWorkload derives them from the catalog)",
  types: [T.networkPolicy],
  check: (props) =>
    (props.spec?.ingress ?? []).flatMap((rule: any, i: number) => {
      const from: any[] = rule.from ?? [];
      if (from.length === 0) return [`ingress rule ${i} admits every source (no from)`];
      return from.flatMap((peer) => {
        const source = openSource(peer);
        return source ? [`ingress rule ${i} admits ${source}`] : [];
      });
    }),
};

export const internetEgressDeclared: ResourceRule = {
  kind: "resource",
  name: "internet-egress-declared",
  description:
    "NetworkPolicy egress to 0.0.0.0/0 or ::/0 (or to no peer at all) names the hosts it is for (platform/egress-hosts), opens only their ports, and leaves out the VPC (platform/vpc-cidr), the RFC 1918 ranges and 169.254.0.0/16 (instance metadata).",
  severity: "high",
  remediation:
    "Declare the service's outside hosts in its catalog egress (the ServiceWorkload writes the annotations and the except list); open a known range with { cidr, ports } instead",
  types: [T.networkPolicy],
  check: (props) => internetEgressProblems(props),
};
