import * as fs from "fs";
import * as path from "path";

/** CloudFront's managed policies: the same IDs in every account (CloudFront developer guide). */
export const MANAGED_POLICIES = {
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  /** Forwards everything the viewer sent except Host, which must name the origin for its TLS. */
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
  /** HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, X-XSS-Protection. */
  securityHeaders: "67f7725c-6f97-4210-82d7-5512b31e9d03",
} as const;

/**
 * CloudFront path patterns that send a gateway path to the gateway. Kong matches route paths as
 * prefixes, so `/api/users` covers `/api/users/42` too.
 */
export function gatewayPathPatterns(paths: string[]): string[] {
  return paths.map((p) => `${p}*`);
}

/**
 * A CloudFront Function (cloudfront-js-2.0) for the front end's behavior: a path that names no file
 * (no extension in its last segment) is a route of the single-page app, served by /index.html. Done
 * here rather than with custom error responses, which would also rewrite the API's own 403 and 404.
 */
export function renderSpaRewrite(): string {
  return `function handler(event) {
  var request = event.request;
  var lastSegment = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (lastSegment.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
`;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};

export interface AssetFile {
  /** Object key: the path under the assets folder, with `/` separators. */
  key: string;
  source: string;
  contentType: string;
  cacheControl: string;
}

/**
 * The built app's files as S3 objects. HTML is revalidated on every load so a deploy shows at once;
 * other files are cached for a day (a build tool's hashed names make them safe to cache longer, but
 * nothing here can tell that a name is hashed).
 */
export function assetFiles(dir: string): AssetFile[] {
  const files: AssetFile[] = [];
  const walk = (folder: string) => {
    // Code-unit order: the same on every machine, whatever its locale.
    for (const entry of fs
      .readdirSync(folder, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const extension = path.extname(entry.name).toLowerCase();
        files.push({
          key: path.relative(dir, full).split(path.sep).join("/"),
          source: full,
          contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
          cacheControl: extension === ".html" ? "no-cache" : "public, max-age=86400",
        });
      }
    }
  };
  walk(dir);
  return files;
}

/** AWS managed rule groups the front end's web ACL applies: common exploits incl. XSS, known bad inputs, SQL injection. */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesSQLiRuleSet",
] as const;

const visibility = (metricName: string) => ({
  cloudwatchMetricsEnabled: true,
  sampledRequestsEnabled: true,
  metricName,
});

/** The web ACL's rules: the rate limit per client address first, then the managed rule groups. */
export function wafRules(metricPrefix: string, rateLimitPer5Minutes: number) {
  return [
    {
      name: "rate-limit-per-ip",
      priority: 0,
      action: { block: {} },
      statement: {
        rateBasedStatement: { limit: rateLimitPer5Minutes, aggregateKeyType: "IP", evaluationWindowSec: 300 },
      },
      visibilityConfig: visibility(`${metricPrefix}-rate-limit`),
    },
    ...MANAGED_RULE_GROUPS.map((group, i) => ({
      name: group,
      priority: i + 1,
      // Keep each group's own actions (block), rather than overriding them to count.
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: "AWS",
          name: group,
          // The common set blocks bodies over 8 KB; API requests through the CDN legitimately exceed that.
          ruleActionOverrides:
            group === "AWSManagedRulesCommonRuleSet"
              ? [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }]
              : [],
        },
      },
      visibilityConfig: visibility(`${metricPrefix}-${group}`),
    })),
  ];
}
