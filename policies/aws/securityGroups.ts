import { OPEN_CIDRS, ResourceRule } from "../rule";
import { T } from "../types";

export const noOpenIngress: ResourceRule = {
  kind: "resource",
  name: "no-open-ingress",
  description: "Security groups admit 0.0.0.0/0 only on 443 (the gateway's load balancer).",
  severity: "critical",
  remediation: "Admit the cluster's security group or a known CIDR instead",
  types: [T.securityGroup, T.ingressRule],
  check: (props, type) => {
    const rules: any[] =
      type === T.securityGroup
        ? (props.ingress ?? [])
        : [{ ...props, cidrBlocks: [props.cidrIpv4, props.cidrIpv6].filter(Boolean) }];
    return rules
      .filter(
        (r) =>
          [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])].some((c: string) => OPEN_CIDRS.has(c)) &&
          !(r.fromPort === 443 && r.toPort === 443),
      )
      .map((r) => `ingress ${r.fromPort}-${r.toPort} open to the internet`);
  },
};
