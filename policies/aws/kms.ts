import { ResourceRule } from "../rule";
import { T } from "../types";

export const kmsKeyRotation: ResourceRule = {
  kind: "resource",
  name: "kms-key-rotation",
  description: "Customer-managed KMS keys rotate.",
  severity: "high",
  remediation: "Set enableKeyRotation: true",
  types: [T.kmsKey],
  check: (props) => (props.enableKeyRotation === true ? [] : ["key rotation is off"]),
};
