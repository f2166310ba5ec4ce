import { ResourceRule } from "../rule";
import { T } from "../types";

export const requiredTags: ResourceRule = {
  kind: "resource",
  name: "required-tags",
  description: "Every AWS resource is tagged with environment, owner and cost-center (the provider's default tags).",
  severity: "medium",
  remediation: "Set platform:aws.owner and platform:aws.costCenter",
  types: [T.awsProvider],
  check: (props) => {
    const defaultTags = typeof props.defaultTags === "string" ? JSON.parse(props.defaultTags) : props.defaultTags;
    const tags = defaultTags?.tags ?? {};
    return ["environment", "owner", "cost-center"]
      .filter((tag) => !tags[tag])
      .map((tag) => `default tag ${tag} is missing`);
  },
};
