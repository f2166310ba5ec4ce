import { containersOf, objectName, WORKLOADS } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";
import { credentialReason, credentialsInDocument } from "./credentials";

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
    "ConfigMaps hold no credentials: no Pulumi secret, URL with a password, private key, value under a credential's name (any case), nor a config file with one.",
  severity: "critical",
  remediation: "Move the value to a Secret (mounted or referenced the same way) and keep the ConfigMap for settings",
  types: [T.configMap],
  check: (props, _type, provenance) => {
    const name = objectName(props, T.configMap);
    return Object.entries({ ...(props.data ?? {}) }).flatMap(([key, value]) => {
      const reason = credentialReason(key, value, provenance.isSecret(["data", key]));
      if (reason) return [`${name}: ${key} holds ${reason}`];
      return credentialsInDocument(String(value)).map((at) => `${name}: ${key} holds a credential at ${at}`);
    });
  },
};
