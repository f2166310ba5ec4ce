import { ResourceRule } from "../rule";
import { T } from "../types";

/** The env name the platform hands token issuers the gateway's HS256 secret under. */
const GATEWAY_SIGNING_SECRET = "GATEWAY_JWT_SECRET";

export const gatewaySecretToIssuers: ResourceRule = {
  kind: "resource",
  name: "gateway-secret-to-issuers",
  description: "Only a service the catalog marks as a token issuer holds the gateway's JWT signing secret.",
  severity: "critical",
  remediation:
    "Mark the service that signs tokens with auth.issuesTokens in the catalog; no other service gets the secret",
  types: [T.secret, T.container],
  check: (props, type) => {
    const issuer =
      type === T.container
        ? (props.labels ?? []).some((l: any) => l.label === "platform.issues-tokens" && l.value === "true")
        : props.metadata?.labels?.["platform/issues-tokens"] === "true";
    const names =
      type === T.container
        ? (props.envs ?? []).map((e: string) => e.split("=")[0])
        : Object.keys({ ...props.stringData, ...props.data });
    const name = type === T.container ? props.name : props.metadata?.name;
    return names.includes(GATEWAY_SIGNING_SECRET) && !issuer
      ? [`${name ?? "a workload"} holds ${GATEWAY_SIGNING_SECRET} but is not a marked token issuer`]
      : [];
  },
};
