import { podContainers } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";
import { SENSITIVE_NAME } from "./credentials";

export const noPlaintextSecretEnv: ResourceRule = {
  kind: "resource",
  name: "no-plaintext-secret-env",
  description: "Pod credentials come from Kubernetes Secrets, never as plain env values.",
  severity: "critical",
  remediation: "Put the value in the service's Secret and use envFrom/secretKeyRef",
  types: [T.deployment],
  check: (props) =>
    podContainers(props).flatMap((c) =>
      (c.env ?? [])
        .filter((e: any) => SENSITIVE_NAME.test(e.name) && e.value !== undefined)
        .map((e: any) => `container ${c.name}: ${e.name} is a plain env value`),
    ),
};
