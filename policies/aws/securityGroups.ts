import { OPEN_CIDRS, ResourceRule } from "../rule";
import { T } from "../types";

/** One ingress permission, whichever resource type declares it. */
interface Ingress {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrs: string[];
}

/** The ingress permissions a security group, a group rule (ec2 or vpc) declares. */
function ingressOf(props: Record<string, any>, type: string): Ingress[] {
  const cidrs = (...lists: unknown[]) => lists.flat().filter((c): c is string => typeof c === "string");
  if (type === T.securityGroup)
    return (props.ingress ?? []).map((r: any) => ({
      protocol: String(r.protocol ?? "-1"),
      fromPort: r.fromPort,
      toPort: r.toPort,
      cidrs: cidrs(r.cidrBlocks ?? [], r.ipv6CidrBlocks ?? []),
    }));
  if (type === T.securityGroupRule)
    return props.type === "ingress"
      ? [
          {
            protocol: String(props.protocol ?? "-1"),
            fromPort: props.fromPort,
            toPort: props.toPort,
            cidrs: cidrs(props.cidrBlocks ?? [], props.ipv6CidrBlocks ?? []),
          },
        ]
      : [];
  return [
    {
      protocol: String(props.ipProtocol ?? "-1"),
      fromPort: props.fromPort,
      toPort: props.toPort,
      cidrs: cidrs(props.cidrIpv4, props.cidrIpv6),
    },
  ];
}

/** Every protocol and port: -1 (or "all"), whatever fromPort/toPort say. */
const isAllTraffic = (protocol: string) => protocol === "-1" || protocol.toLowerCase() === "all";
const isTcp = (protocol: string) => protocol.toLowerCase() === "tcp" || protocol === "6";

function describePermission(rule: Ingress): string {
  if (isAllTraffic(rule.protocol)) return "all traffic";
  const ports = rule.fromPort === rule.toPort ? `port ${rule.fromPort}` : `ports ${rule.fromPort}-${rule.toPort}`;
  const remote = [22, 3389].filter((port) => rule.fromPort <= port && port <= rule.toPort);
  return `${rule.protocol} ${ports}${remote.length ? ` (remote login: ${remote.join(", ")})` : ""}`;
}

export const noOpenIngress: ResourceRule = {
  kind: "resource",
  name: "no-open-ingress",
  description:
    "Security groups (inline ingress, ec2 SecurityGroupRule, vpc SecurityGroupIngressRule) admit 0.0.0.0/0 or ::/0 only on TCP 443 (a public load balancer); never all traffic (protocol -1), SSH or any other port.",
  severity: "critical",
  remediation: "Admit the cluster's security group or a known CIDR instead",
  types: [T.securityGroup, T.securityGroupRule, T.ingressRule],
  check: (props, type) =>
    ingressOf(props, type)
      .filter((rule) => rule.cidrs.some((c) => OPEN_CIDRS.has(c)))
      .filter(
        (rule) =>
          isAllTraffic(rule.protocol) || !(isTcp(rule.protocol) && rule.fromPort === 443 && rule.toPort === 443),
      )
      .map(
        (rule) =>
          `ingress of ${describePermission(rule)} open to the internet (${rule.cidrs.filter((c) => OPEN_CIDRS.has(c)).join(", ")})`,
      ),
};

export const nodeRemoteAccessRestricted: ResourceRule = {
  kind: "resource",
  name: "node-remote-access-restricted",
  description:
    "EKS node groups with SSH access name the security groups it comes from (without them, AWS opens port 22 to 0.0.0.0/0).",
  severity: "critical",
  remediation: "Drop remoteAccess (use SSM Session Manager), or set remoteAccess.sourceSecurityGroupIds",
  types: [T.nodeGroup],
  check: (props) =>
    props.remoteAccess && (props.remoteAccess.sourceSecurityGroupIds ?? []).length === 0
      ? ["remote access (SSH) is open to the internet: no source security groups"]
      : [],
};
