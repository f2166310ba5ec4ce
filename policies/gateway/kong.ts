import { PolicyResource } from "@pulumi/policy";
import { fromBase64 } from "../secrets/credentials";
import { T } from "../types";

/** The Kong chart's releases in the stack. */
export function kongReleases(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.type === T.helmRelease && r.props.chart === "kong");
}

/** A Docker container running Kong (or importing its config): the image's KONG_ settings in its env. */
export function isKongContainer(resource: PolicyResource): boolean {
  return (
    resource.type === T.container && (resource.props.envs ?? []).some((e: unknown) => String(e).startsWith("KONG_"))
  );
}

/** The `kong.yml` a Secret or ConfigMap holds (plain or base64 data), if any. */
export function kongYamlOf(resource: PolicyResource): string | undefined {
  const props = resource.props;
  if (resource.type === T.secret && props.stringData?.["kong.yml"]) return props.stringData["kong.yml"];
  if (resource.type === T.secret && props.data?.["kong.yml"]) return fromBase64(props.data["kong.yml"]);
  if (resource.type === T.configMap && props.data?.["kong.yml"]) return props.data["kong.yml"];
  return undefined;
}

/** Where a Kong release reads its DB-less config from (chart values `dblessConfig`), if it runs DB-less. */
export function dblessSource(release: PolicyResource): { kind: "Secret" | "ConfigMap"; name: string } | undefined {
  const values = release.props.values ?? {};
  const source = values.dblessConfig ?? {};
  if (source.secret) return { kind: "Secret", name: source.secret };
  if (source.configMap) return { kind: "ConfigMap", name: source.configMap };
  return undefined;
}

/** The release a Secret or ConfigMap feeds (same namespace, named by its dblessConfig). */
export function releasesReading(resources: PolicyResource[], holder: PolicyResource): PolicyResource[] {
  const kind = holder.type === T.secret ? "Secret" : "ConfigMap";
  const { name, namespace } = holder.props.metadata ?? {};
  return kongReleases(resources).filter((release) => {
    const source = dblessSource(release);
    return source?.kind === kind && source.name === name && (release.props.namespace ?? namespace) === namespace;
  });
}
