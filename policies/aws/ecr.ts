import { ResourceRule, unmet } from "../rule";
import { T } from "../types";

export const ecrHardened: ResourceRule = {
  kind: "resource",
  name: "ecr-hardened",
  description:
    "ECR repositories keep tags immutable (a pushed tag always names the same image) and scan images on push.",
  severity: "high",
  remediation: 'Set imageTagMutability: "IMMUTABLE" and imageScanningConfiguration.scanOnPush: true',
  types: [T.ecrRepository],
  check: (props) =>
    unmet([
      [String(props.imageTagMutability ?? "MUTABLE").startsWith("IMMUTABLE"), "image tags are mutable"],
      [props.imageScanningConfiguration?.scanOnPush === true, "images are not scanned on push"],
    ]),
};
