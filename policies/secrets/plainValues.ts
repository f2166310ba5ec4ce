import { containersOf, objectName, WORKLOADS } from "../kubernetes/workloads";
import { Provenance, ResourceRule } from "../rule";
import { T } from "../types";
import { chartName, configMapValues } from "./chartConfigMaps";
import { credentialReason, credentialsInDocument, leaves } from "./credentials";

export const noPlaintextSecretEnv: ResourceRule = {
  kind: "resource",
  name: "no-plaintext-secret-env",
  description:
    "Pod credentials (a Pulumi secret, a URL with a password, a value under a credential's name) come from Kubernetes Secrets, never as plain env values, on every workload kind.",
  severity: "critical",
  remediation: "Put the value in the service's Secret and use envFrom/secretKeyRef",
  types: WORKLOADS,
  check: (props, type, provenance) =>
    containersOf(props, type).flatMap(({ container, path }) =>
      (container.env ?? []).flatMap((e: any, i: number) => {
        if (e.value === undefined) return [];
        const reason = credentialReason(e.name, e.value, provenance.isSecret([...path, "env", i, "value"]));
        return reason ? [`container ${container.name}: ${e.name} is a plain env value holding ${reason}`] : [];
      }),
    ),
};

export const noCredentialsInConfigMaps: ResourceRule = {
  kind: "resource",
  name: "no-credentials-in-configmaps",
  description:
    "ConfigMaps hold no credentials: no Pulumi secret, URL with a password, private key, value under a credential's name (any case), nor a config file with one; neither do the chart values a chart renders into a ConfigMap (Grafana's datasources, Loki's config, Logstash's pipelines...).",
  severity: "critical",
  remediation:
    "Move the value to a Secret (mounted or referenced the same way) and keep the ConfigMap for settings; in chart values, name a variable or file the pod reads from a Secret (Grafana: envValueFrom and ${VAR})",
  types: [T.configMap, T.helmRelease],
  check: (props, type, provenance) => {
    if (type === T.helmRelease) return chartConfigMapCredentials(props, provenance);
    const name = objectName(props, T.configMap);
    return Object.entries({ ...(props.data ?? {}) }).flatMap(([key, value]) =>
      credentialsIn(`${name}: ${key}`, key, value, provenance.isSecret(["data", key])),
    );
  },
};

/** Why a ConfigMap's value (a setting, or a config file) holds a credential, as messages about `where`. */
function credentialsIn(where: string, key: string, value: unknown, secret: boolean): string[] {
  const reason = credentialReason(key, value, secret);
  if (reason) return [`${where} holds ${reason}`];
  return credentialsInDocument(String(value)).map((at) => `${where} holds a credential at ${at}`);
}

/** The same about the values a Release's chart writes into ConfigMaps (chartConfigMaps.ts). */
function chartConfigMapCredentials(props: Record<string, any>, provenance: Provenance): string[] {
  return configMapValues(props.chart, props.values).flatMap(({ path, value }) =>
    leaves(value, path).flatMap(([at, leaf]) => {
      const key = String([...at].reverse().find((k) => typeof k === "string") ?? "");
      const where = `${chartName(props.chart)} values ${at.join(".")} (rendered into a ConfigMap)`;
      return credentialsIn(where, key, leaf, provenance.isSecret(["values", ...at]));
    }),
  );
}
