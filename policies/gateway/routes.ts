import { PolicyResource } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { StackRule, unmet } from "../rule";
import { T } from "../types";

export const gatewayRoutesProtected: StackRule = {
  kind: "stack",
  name: "gateway-routes-protected",
  description:
    "Every non-public gateway route has an auth plugin (an anonymous fallback only to a consumer Kong refuses), and every route a rate limit, counted in a shared store (not policy local) when more than one Kong runs the config.",
  severity: "critical",
  remediation:
    "Mark only login/registration-style routes public in the catalog; when Kong runs more than one replica, count rate limits in the platform's cache (policy redis)",
  check: (resources) =>
    kongConfigs(resources).flatMap(({ urn, text, replicas }) =>
      kongConfigProblems(parseYaml(text), replicas).map((message) => ({ message, urn })),
    ),
};

/** Every Kong declarative config the stack ships, with the most Kong processes that run it. */
function kongConfigs(resources: PolicyResource[]): Array<{ urn: string; text: string; replicas: number }> {
  const configs: Array<{ urn: string; text: string; replicas: number }> = [];
  for (const r of resources) {
    // A Docker container is one Kong (or the bootstrap importing the config for one).
    if (r.type === T.container)
      for (const upload of r.props.uploads ?? [])
        if (String(upload.file).endsWith("kong.yml")) configs.push({ urn: r.urn, text: upload.content, replicas: 1 });
    if (r.type === T.secret && r.props.stringData?.["kong.yml"])
      configs.push({ urn: r.urn, text: r.props.stringData["kong.yml"], replicas: kongReplicas(resources, r.props) });
  }
  return configs;
}

/** Pods of the Kong chart releases that run DB-less from this Secret: the autoscaler's maximum, or replicaCount. */
function kongReplicas(resources: PolicyResource[], secret: Record<string, any>): number {
  const counts = resources
    .filter(
      (r) =>
        r.type === T.helmRelease &&
        r.props.chart === "kong" &&
        r.props.values?.dblessConfig?.secret === secret.metadata?.name &&
        (r.props.namespace ?? secret.metadata?.namespace) === secret.metadata?.namespace,
    )
    .map(({ props: { values } }) =>
      // The chart's defaults: one replica, or up to 5 with autoscaling.
      values.autoscaling?.enabled ? Number(values.autoscaling.maxReplicas ?? 5) : Number(values.replicaCount ?? 1),
    );
  return Math.max(1, ...counts);
}

const AUTH_PLUGINS = new Set(["jwt", "key-auth"]);

/** Routes without auth or rate limit, anonymous fallbacks Kong lets through, and per-Kong counters under several Kongs. */
function kongConfigProblems(config: any, replicas: number): string[] {
  const refused = new Set(
    (config.consumers ?? [])
      .filter((c: any) =>
        (c.plugins ?? []).some(
          (p: any) => p.name === "request-termination" && [401, 403].includes(p.config?.status_code),
        ),
      )
      .flatMap((c: any) => [c.username, c.id]),
  );
  const routeProblems = (config.services ?? []).flatMap((service: any) =>
    (service.routes ?? []).flatMap((route: any) => {
      const plugins = [...(route.plugins ?? []), ...(service.plugins ?? [])];
      const names = new Set(plugins.map((p: any) => p.name));
      const isPublic = (route.tags ?? []).includes("public");
      const open = plugins.filter(
        (p: any) => AUTH_PLUGINS.has(p.name) && p.config?.anonymous && !refused.has(p.config.anonymous),
      );
      return unmet([
        [names.has("rate-limiting"), `route ${route.name} has no rate limit`],
        [
          isPublic || [...AUTH_PLUGINS].some((a) => names.has(a)),
          `route ${route.name} is not public and has no auth plugin`,
        ],
        [
          isPublic || open.length === 0,
          `route ${route.name} lets requests without a valid credential through as consumer ${open[0]?.config?.anonymous}, which nothing refuses`,
        ],
      ]);
    }),
  );
  return [...routeProblems, ...localCounterProblems(config, replicas)];
}

/** Kong 3.9's rate-limiting defaults to policy local: each Kong counts alone, so N Kongs allow N times the limit. */
function localCounterProblems(config: any, replicas: number): string[] {
  if (replicas <= 1) return [];
  const scoped = (where: string, plugins: any[] | undefined) =>
    (plugins ?? [])
      .filter((p: any) => p.name === "rate-limiting" && (p.config?.policy ?? "local") === "local")
      .map(
        () =>
          `rate limit of ${where} counts per Kong (policy local) while up to ${replicas} Kongs run this config, each allowing the whole limit`,
      );
  return [
    ...scoped("the whole gateway", config.plugins),
    ...(config.services ?? []).flatMap((s: any) => [
      ...scoped(`service ${s.name}`, s.plugins),
      ...(s.routes ?? []).flatMap((r: any) => scoped(`route ${r.name}`, r.plugins)),
    ]),
    ...(config.routes ?? []).flatMap((r: any) => scoped(`route ${r.name}`, r.plugins)),
    ...(config.consumers ?? []).flatMap((c: any) => scoped(`consumer ${c.username}`, c.plugins)),
  ];
}
