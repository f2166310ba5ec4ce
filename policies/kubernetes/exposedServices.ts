import type { PolicyResource } from "@pulumi/policy";
import { StackRule } from "../rule";
import { T } from "../types";

/**
 * Services reachable from outside the cluster: type NodePort (a port on every node) or LoadBalancer.
 * Only the gateway's proxy may be one. A Helm release's Services are not resources of the stack, so
 * its values are read together with the chart's defaults for the blocks those defaults expose.
 */

const EXTERNAL_TYPES = new Set(["NodePort", "LoadBalancer"]);

type Values = Record<string, any>;

interface ServiceBlock {
  /** The chart's defaults of the block (values.yaml): `enabled`, `type`, and whether its http and tls listeners are on. */
  enabled: boolean;
  type: string;
  http?: boolean;
  tls?: boolean;
  /** Its template's condition besides `enabled`, on the block as merged and the release's values. */
  renders: (block: Values, values: Values) => boolean;
}

/** Kong 2.47.0 (templates/service-kong-{proxy,admin,manager}.yaml): an enabled block with a listener, when Kong itself is deployed. */
const kongListening = (block: Values, values: Values) =>
  values.deployment?.kong?.enabled !== false && (block.http.enabled || block.tls.enabled);
/** Kong Enterprise's portal Services (templates/service-kong-portal*.yaml) need enterprise.enabled (off by default). */
const kongEnterprise = (block: Values, values: Values) =>
  values.enterprise?.enabled === true && kongListening(block, values);
/** The hybrid-mode Services (templates/service-kong-cluster*.yaml) render with their TLS listener only. */
const kongTls = (block: Values, values: Values) => values.deployment?.kong?.enabled !== false && block.tls.enabled;

/**
 * The Service blocks of the pinned charts whose defaults matter: every block of Kong 2.47.0 (values.yaml:
 * proxy :281, admin :152, cluster :246, udpProxy :409, manager :1087, portal :1134, portalapi :1181,
 * clustertelemetry :1228), and kube-prometheus-stack 65.8.1's prometheus.thanosServiceExternal (a
 * LoadBalancer once enabled). Every other Service of these and the other charts defaults to ClusterIP,
 * so only a `type` our values set can expose it.
 */
const CHART_SERVICE_BLOCKS: Record<string, Record<string, ServiceBlock>> = {
  kong: {
    proxy: { enabled: true, type: "LoadBalancer", http: true, tls: true, renders: kongListening },
    admin: { enabled: false, type: "NodePort", http: false, tls: true, renders: kongListening },
    manager: { enabled: true, type: "NodePort", http: true, tls: true, renders: kongListening },
    portal: { enabled: true, type: "NodePort", http: true, tls: true, renders: kongEnterprise },
    portalapi: { enabled: true, type: "NodePort", http: true, tls: true, renders: kongEnterprise },
    cluster: { enabled: false, type: "ClusterIP", tls: false, renders: kongTls },
    clustertelemetry: { enabled: false, type: "ClusterIP", tls: false, renders: kongTls },
    udpProxy: { enabled: false, type: "LoadBalancer", renders: () => true },
  },
  "kube-prometheus-stack": {
    "prometheus.thanosServiceExternal": { enabled: false, type: "LoadBalancer", renders: () => true },
  },
};

/** The block as Helm merges our values over the chart's defaults. */
function mergedBlock(spec: ServiceBlock, given: Values): Values {
  return {
    enabled: given.enabled ?? spec.enabled,
    type: given.type ?? spec.type,
    http: { enabled: given.http?.enabled ?? spec.http ?? false },
    tls: { enabled: given.tls?.enabled ?? spec.tls ?? false },
  };
}

/** The gateway's own: the Kong chart's proxy block. */
const GATEWAY_PROXY = { chart: "kong", block: "proxy" };

const at = (values: Values, path: string): Values | undefined =>
  path.split(".").reduce<any>((value, key) => value?.[key], values);

const releaseName = (release: PolicyResource): string => release.props.name ?? release.name;

/** The chart's name without its repository (`oci://.../rabbitmq` is `rabbitmq`). */
const chartName = (release: PolicyResource) =>
  String(release.props.chart ?? "")
    .split("/")
    .pop()!;

/** Kong's proxy Service, `<release>-<chart>-proxy` unless overridden (templates/_helpers.tpl:19-22 "kong.fullname"). */
function gatewayProxyName(release: PolicyResource): { name: string; namespace?: string } {
  const values: Values = release.props.values ?? {};
  const fullName = values.fullnameOverride || `${releaseName(release)}-${values.nameOverride || GATEWAY_PROXY.chart}`;
  return { name: `${fullName}-${GATEWAY_PROXY.block}`, namespace: release.props.namespace };
}

/** The table's blocks of a release that render an external Service, other than the gateway's proxy. */
function tableProblems(release: PolicyResource, chart: string): string[] {
  const values: Values = release.props.values ?? {};
  return Object.entries(CHART_SERVICE_BLOCKS[chart] ?? {}).flatMap(([path, spec]) => {
    if (chart === GATEWAY_PROXY.chart && path === GATEWAY_PROXY.block) return [];
    const given = at(values, path) ?? {};
    const block = mergedBlock(spec, given);
    if (!block.enabled || !spec.renders(block, values) || !EXTERNAL_TYPES.has(block.type)) return [];
    const source = given.type ? `${path}.type in the values` : "the chart's default type";
    return [
      `release ${releaseName(release)} (chart ${chart}) renders its ${path} Service as ${block.type} (${source})`,
    ];
  });
}

/** Any other block of the values named like a Service and given an external type (charts default to ClusterIP). */
function valuesProblems(release: PolicyResource, chart: string, values: Values, prefix = ""): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    if (!value || typeof value !== "object" || Array.isArray(value)) return [];
    const path = `${prefix}${key}`;
    if (CHART_SERVICE_BLOCKS[chart]?.[path]) return [];
    const exposed = /service/i.test(key) && EXTERNAL_TYPES.has(value.type) && value.enabled !== false;
    return [
      ...(exposed ? [`release ${releaseName(release)} (chart ${chart}) sets ${path}.type ${value.type}`] : []),
      ...valuesProblems(release, chart, value, `${path}.`),
    ];
  });
}

/** Every NodePort or LoadBalancer Service the stack declares or its releases render, but the gateway's proxy. */
function exposedServiceProblems(resources: PolicyResource[]): Array<{ message: string; urn: string }> {
  const releases = resources.filter((r) => r.type === T.helmRelease);
  const gatewayProxies = releases.filter((r) => chartName(r) === GATEWAY_PROXY.chart).map(gatewayProxyName);
  const fromReleases = releases.flatMap((release) => {
    const chart = chartName(release);
    return [...tableProblems(release, chart), ...valuesProblems(release, chart, release.props.values ?? {})].map(
      (message) => ({ message, urn: release.urn }),
    );
  });
  const services = resources
    .filter((r) => r.type === T.service && EXTERNAL_TYPES.has(r.props.spec?.type))
    .filter(
      ({ props: { metadata } }) =>
        !gatewayProxies.some(
          (p) => p.name === metadata?.name && (p.namespace ?? metadata?.namespace) === metadata?.namespace,
        ),
    )
    .map((r) => ({
      message: `Service ${r.props.metadata?.namespace ?? "default"}/${r.props.metadata?.name ?? r.name} is of type ${r.props.spec.type}`,
      urn: r.urn,
    }));
  return [...fromReleases, ...services];
}

export const noExposedServices: StackRule = {
  kind: "stack",
  name: "no-exposed-services",
  description:
    "Nothing but the gateway's proxy is reachable from outside the cluster: no Service of type NodePort or LoadBalancer, declared or rendered by a Helm release (its values over the chart's defaults, such as Kong's manager).",
  severity: "high",
  remediation:
    "Keep the Service ClusterIP or turn the chart's block off (Kong: manager.enabled: false); reach an internal UI with kubectl port-forward",
  check: exposedServiceProblems,
};
