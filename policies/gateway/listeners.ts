import { ResourceRule, unmet } from "../rule";
import { T } from "../types";

/**
 * What the Kong chart (2.47, values.yaml) does when a value is left out: the proxy is a LoadBalancer
 * Service with a plain HTTP listener on 80 (port name kong-proxy) and a TLS one on 443
 * (kong-proxy-tls); the Admin API, once enabled, a NodePort Service. The AWS load balancer
 * annotations terminate TLS with the ACM certificate on the ssl-ports (all ports when unset), with
 * ELBSecurityPolicy-2016-08 (TLS 1.0 and up) when no negotiation policy is named.
 */
const ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-";
const EXPOSED_TYPES = new Set(["LoadBalancer", "NodePort"]);
/** TLS 1.3 with 1.2 as the floor (or 1.3 only), the AWS policies of that family. */
const MODERN_TLS_POLICY = /^ELBSecurityPolicy-TLS13-1-[23]-/;
const AWS_DEFAULT_TLS_POLICY = "ELBSecurityPolicy-2016-08";

const isKong = (props: Record<string, any>) => props.chart === "kong";

/** The proxy Service's settings with the chart's defaults filled in. */
function proxyOf(props: Record<string, any>) {
  const proxy = props.values?.proxy ?? {};
  const annotations: Record<string, string> = proxy.annotations ?? {};
  return {
    exposed: proxy.enabled !== false && EXPOSED_TYPES.has(proxy.type ?? "LoadBalancer"),
    type: proxy.type ?? "LoadBalancer",
    http: { enabled: proxy.http?.enabled !== false, port: Number(proxy.http?.servicePort ?? 80) },
    certificate: annotations[`${ANNOTATION}ssl-cert`],
    sslPorts: String(annotations[`${ANNOTATION}ssl-ports`] ?? "*")
      .split(",")
      .map((p) => p.trim()),
    negotiationPolicy: annotations[`${ANNOTATION}ssl-negotiation-policy`],
  };
}

export const gatewayTlsOnly: ResourceRule = {
  kind: "resource",
  name: "gateway-tls-only",
  description:
    "The gateway's public Service (the Kong chart's proxy, LoadBalancer or NodePort) serves no plain HTTP: every exposed HTTP listener is behind the load balancer's TLS, with an ACM certificate (aws-load-balancer-ssl-cert) on its port (aws-load-balancer-ssl-ports).",
  severity: "critical",
  remediation:
    "Keep the kongValues defaults: the NLB terminates TLS with gatewayCertificateArn on 443 and forwards to Kong's HTTP listener; set proxy.http.servicePort to a port in ssl-ports, or 0",
  types: [T.helmRelease],
  check: (props) => {
    if (!isKong(props)) return [];
    const proxy = proxyOf(props);
    if (!proxy.exposed || !proxy.http.enabled || proxy.http.port === 0) return [];
    const tlsOnPort = proxy.sslPorts.some((p) => p === "*" || p === String(proxy.http.port) || p === "kong-proxy");
    return unmet([
      [
        Boolean(proxy.certificate),
        `the ${proxy.type} proxy serves plain HTTP on port ${proxy.http.port}: no ACM certificate (aws-load-balancer-ssl-cert)`,
      ],
      [
        !proxy.certificate || tlsOnPort,
        `the ${proxy.type} proxy serves plain HTTP on port ${proxy.http.port}: not among aws-load-balancer-ssl-ports (${proxy.sslPorts.join(",")})`,
      ],
    ]);
  },
};

export const gatewayTlsPolicy: ResourceRule = {
  kind: "resource",
  name: "gateway-tls-policy",
  description:
    "The gateway's load balancer negotiates TLS 1.2 or later: aws-load-balancer-ssl-negotiation-policy is one of the ELBSecurityPolicy-TLS13-1-2 (or -1-3) family, never unset (AWS then uses ELBSecurityPolicy-2016-08, TLS 1.0).",
  severity: "high",
  remediation: 'Set the annotation to "ELBSecurityPolicy-TLS13-1-2-2021-06" (kongValues does)',
  types: [T.helmRelease],
  check: (props) => {
    if (!isKong(props)) return [];
    const proxy = proxyOf(props);
    if (!proxy.exposed || !proxy.certificate) return [];
    const policy = proxy.negotiationPolicy ?? AWS_DEFAULT_TLS_POLICY;
    return MODERN_TLS_POLICY.test(policy)
      ? []
      : [`the load balancer negotiates with ${policy}, which allows TLS below 1.2`];
  },
};

export const gatewayAdminPrivate: ResourceRule = {
  kind: "resource",
  name: "gateway-admin-private",
  description:
    "Kong's Admin API, when enabled, is a ClusterIP Service (the chart's default is NodePort) and has no Ingress: it reconfigures the gateway.",
  severity: "critical",
  remediation:
    'Leave admin.enabled false (DB-less Kong needs none), or set admin.type: "ClusterIP" and no admin.ingress',
  types: [T.helmRelease],
  check: (props) => {
    const admin = props.values?.admin ?? {};
    if (!isKong(props) || admin.enabled !== true) return [];
    return unmet([
      [(admin.type ?? "NodePort") === "ClusterIP", `the Admin API is a ${admin.type ?? "NodePort"} Service`],
      [admin.ingress?.enabled !== true, "the Admin API has an Ingress"],
    ]);
  },
};
