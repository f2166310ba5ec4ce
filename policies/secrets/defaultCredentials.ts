import { ResourceRule } from "../rule";
import { T } from "../types";
import { DEFAULT_CREDENTIALS, SENSITIVE_NAME, envPairs } from "./credentials";

export const noDefaultCredentials: ResourceRule = {
  kind: "resource",
  name: "no-default-credentials",
  description: "Containers get no default or weak credentials (admin/admin123, guest, changeme, ...).",
  severity: "critical",
  remediation: "Generate the value with @pulumi/random or set it with `pulumi config set --secret`",
  types: [T.container, T.secret],
  check: (props, type) => {
    const pairs =
      type === T.container
        ? envPairs(props.envs)
        : (Object.entries({ ...(props.stringData ?? {}) }) as Array<[string, string]>);
    const isDefault = ([key, value]: [string, string]) =>
      (SENSITIVE_NAME.test(key) && DEFAULT_CREDENTIALS.has(String(value).toLowerCase())) ||
      (/(_USER|USERNAME)$/.test(key) && value === "guest");
    return pairs
      .filter(isDefault)
      .map(([key]) => `${key} holds a default credential`)
      .concat(
        pairs
          .filter(([key, value]) => /PASSWORD$/.test(key) && String(value).length > 0 && String(value).length < 16)
          .map(([key]) => `${key} is shorter than 16 characters`),
      );
  },
};
