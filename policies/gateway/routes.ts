import { PolicyResource } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { StackRule, unmet } from "../rule";
import { T } from "../types";
import { dblessSource, isKongContainer, kongReleases, kongYamlOf, releasesReading } from "./kong";

export const gatewayRoutesProtected: StackRule = {
  kind: "stack",
  name: "gateway-routes-protected",
  description:
    "Every non-public gateway route has an auth plugin (an anonymous fallback only to a consumer Kong refuses), and every route a rate limit, counted in a shared store (not policy local) when more than one Kong runs the config; a gateway whose config the policy cannot find fails instead of passing.",
  severity: "critical",
  remediation:
    "Mark only login/registration-style routes public in the catalog; when Kong runs more than one replica, count rate limits in the platform's cache (policy redis)",
  check: (resources) => {
    const configs = kongConfigs(resources);
    return [
      ...missingConfigs(resources, configs),
      ...configs.flatMap(({ urn, text, replicas }) =>
        kongConfigProblems(parseYaml(text), replicas).map((message) => ({ message, urn })),
      ),
    ];
  },
};

interface KongConfig {
  urn: string;
  text: string;
  /** The most Kong processes that run it. */
  replicas: number;
  /** Uploaded into a Docker container (rather than held by a Secret or ConfigMap). */
  uploaded: boolean;
}

/** Every Kong declarative config the stack ships: uploaded into containers, held by a Secret or ConfigMap, or inline in a release's values. */
function kongConfigs(resources: PolicyResource[]): KongConfig[] {
  return resources.flatMap((r): KongConfig[] => {
    // A Docker container is one Kong (or the bootstrap importing the config for one).
    if (r.type === T.container)
      return (r.props.uploads ?? [])
        .filter((upload: any) => String(upload.file).endsWith("kong.yml"))
        .map((upload: any) => ({ urn: r.urn, text: upload.content, replicas: 1, uploaded: true }));
    const inline = kongReleases([r]).map((release) => release.props.values?.dblessConfig?.config);
    if (typeof inline[0] === "string")
      return [{ urn: r.urn, text: inline[0], replicas: kongReplicas([r]), uploaded: false }];
    const text = kongYamlOf(r);
    return text === undefined
      ? []
      : [{ urn: r.urn, text, replicas: kongReplicas(releasesReading(resources, r)), uploaded: false }];
  });
}

/** Pods of the Kong chart releases that run a config: the autoscaler's maximum, or replicaCount. */
function kongReplicas(releases: PolicyResource[]): number {
  const counts = releases.map(({ props: { values } }) =>
    // The chart's defaults: one replica, or up to 5 with autoscaling.
    values.autoscaling?.enabled ? Number(values.autoscaling.maxReplicas ?? 5) : Number(values.replicaCount ?? 1),
  );
  return Math.max(1, ...counts);
}

/**
 * Gateways whose config this policy cannot find, so their routes would go unchecked: a release
 * whose DB-less source holds no kong.yml, or Kong containers without any config uploaded.
 */
function missingConfigs(resources: PolicyResource[], configs: KongConfig[]): Array<{ message: string; urn: string }> {
  const holders = resources.filter((r) => kongYamlOf(r) !== undefined);
  const releases = kongReleases(resources).flatMap((release) => {
    const source = dblessSource(release);
    if (typeof release.props.values?.dblessConfig?.config === "string") return [];
    if (source && holders.some((h) => releasesReading(resources, h).includes(release))) return [];
    const where = source
      ? `${source.kind} ${source.name}, which holds no kong.yml`
      : "no DB-less config (dblessConfig)";
    return [
      { message: `gateway release ${release.name} reads ${where}: its routes cannot be checked`, urn: release.urn },
    ];
  });
  const [kong] = resources.filter(isKongContainer);
  const uploaded = configs.some((c) => c.uploaded);
  const dockerMissing =
    kong && !uploaded
      ? [
          {
            message: `gateway container ${kong.name} runs Kong, but no container uploads a kong.yml: its routes cannot be checked`,
            urn: kong.urn,
          },
        ]
      : [];
  return [...releases, ...dockerMissing];
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
