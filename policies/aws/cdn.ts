import { ResourceRule, unmet } from "../rule";
import { T } from "../types";

const HTTPS_VIEWER_POLICIES = new Set(["https-only", "redirect-to-https"]);
const OUTDATED_TLS = new Set(["SSLv3", "TLSv1", "TLSv1.1"]);

export const cdnHardened: ResourceRule = {
  kind: "resource",
  name: "cdn-hardened",
  description:
    "CloudFront: HTTPS for viewers on every behavior, a WAF web ACL, origins over TLS 1.2, buckets through origin access control, TLS 1.2 for a custom certificate.",
  severity: "high",
  remediation: "Keep the WebFrontend defaults",
  types: [T.distribution],
  check: (props) => {
    const behaviors: any[] = [props.defaultCacheBehavior ?? {}, ...(props.orderedCacheBehaviors ?? [])];
    const origins: any[] = props.origins ?? [];
    const certificate = props.viewerCertificate ?? {};
    return unmet([
      ...behaviors.map((b): [boolean, string] => [
        HTTPS_VIEWER_POLICIES.has(b.viewerProtocolPolicy),
        `behavior ${b.pathPattern ?? "default"} allows plain HTTP`,
      ]),
      [Boolean(props.webAclId), "no WAF web ACL"],
      ...origins
        .filter((o) => o.customOriginConfig)
        .map((o): [boolean, string] => [
          o.customOriginConfig.originProtocolPolicy === "https-only" &&
            !(o.customOriginConfig.originSslProtocols ?? []).some((p: string) => OUTDATED_TLS.has(p)),
          `origin ${o.originId} is reached without TLS 1.2`,
        ]),
      ...origins
        .filter((o) => !o.customOriginConfig)
        .map((o): [boolean, string] => [
          Boolean(o.originAccessControlId),
          `bucket origin ${o.originId} has no origin access control`,
        ]),
      [
        !certificate.acmCertificateArn || /^TLSv1\.[23]/.test(certificate.minimumProtocolVersion ?? ""),
        `viewer TLS minimum is ${certificate.minimumProtocolVersion ?? "unset"}`,
      ],
    ]);
  },
};
