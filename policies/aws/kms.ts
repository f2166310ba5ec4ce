import { ResourceRule } from "../rule";
import { T } from "../types";
import { principals, statementName, statements } from "./policyDocuments";

export const kmsKeyRotation: ResourceRule = {
  kind: "resource",
  name: "kms-key-rotation",
  description: "Customer-managed KMS keys rotate.",
  severity: "high",
  remediation: "Set enableKeyRotation: true",
  types: [T.kmsKey],
  check: (props) => (props.enableKeyRotation === true ? [] : ["key rotation is off"]),
};

export const kmsKeyPolicyScoped: ResourceRule = {
  kind: "resource",
  name: "kms-key-policy-scoped",
  description:
    "KMS key policies allow no principal `*` without a condition narrowing it (the account's root, services and roles by name instead).",
  severity: "critical",
  remediation:
    "Name the account root, the service (with kms:ViaService or aws:SourceArn) or the role; keep `*` only under a condition",
  types: [T.kmsKey, T.kmsKeyPolicy],
  check: (props) =>
    statements(props.policy).flatMap((s, i) =>
      s.Effect === "Allow" && principals(s).includes("*") && Object.keys(s.Condition ?? {}).length === 0
        ? [`${statementName(s, i)} lets any principal use the key`]
        : [],
    ),
};
