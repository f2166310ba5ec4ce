import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vm from "vm";
import {
  MANAGED_RULE_GROUPS,
  assetFiles,
  gatewayPathPatterns,
  renderSpaRewrite,
  wafRules,
} from "../components/aws/webFrontendConfig";
import { builtinCatalogPath, loadCatalog } from "../services/load";
import { gatewayPaths } from "../services/validate";

/** Runs the CloudFront Function's handler the way CloudFront calls it: with a viewer-request event. */
function rewrite(uri: string): string {
  const context = vm.createContext({});
  vm.runInContext(renderSpaRewrite(), context);
  const handler = context.handler as (event: unknown) => { uri: string; headers: unknown };
  const request = {
    method: "GET",
    uri,
    querystring: {},
    headers: { host: { value: "d111.cloudfront.net" } },
    cookies: {},
  };
  const result = handler({
    version: "1.0",
    context: { eventType: "viewer-request" },
    viewer: { ip: "198.51.100.7" },
    request,
  });
  assert.deepEqual(result.headers, request.headers, "headers pass through untouched");
  return result.uri;
}

describe("web front end renderers", () => {
  it("sends the app's routes to /index.html and leaves files alone", () => {
    for (const route of ["/", "/login", "/users/42", "/users/42/"]) assert.equal(rewrite(route), "/index.html", route);
    for (const file of [
      "/index.html",
      "/assets/app.1a2b.js",
      "/favicon.ico",
      "/manifest.webmanifest",
      "/v1.2/notes.txt",
    ])
      assert.equal(rewrite(file), file, file);
  });

  it("forwards every route path of the catalog and the gateway's health route, each as a prefix", () => {
    const catalog = loadCatalog(builtinCatalogPath("user-enrichment"));
    const patterns = gatewayPathPatterns(gatewayPaths(catalog.services));
    const routePaths = catalog.services.flatMap((s) => s.routes.flatMap((r) => r.paths));
    assert.ok(routePaths.length > 0);
    for (const p of routePaths) assert.ok(patterns.includes(`${p}*`), p);
    assert.ok(patterns.includes("/platform/health*"));
    assert.equal(new Set(patterns).size, patterns.length, "no duplicate behaviors");
    assert.ok(!patterns.includes("/*"), "the front end keeps every other path");
  });

  it("lists the built app's files with their content types, HTML revalidated and the rest cached", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "assets-"));
    fs.mkdirSync(path.join(dir, "assets", "fonts"), { recursive: true });
    for (const file of [
      "index.html",
      "assets/app.js",
      "assets/app.CSS",
      "assets/fonts/a.woff2",
      "robots.txt",
      "LICENSE",
    ])
      fs.writeFileSync(path.join(dir, file), "x");
    assert.deepEqual(
      assetFiles(dir).map((f) => [f.key, f.contentType, f.cacheControl]),
      [
        ["LICENSE", "application/octet-stream", "public, max-age=86400"],
        ["assets/app.CSS", "text/css; charset=utf-8", "public, max-age=86400"],
        ["assets/app.js", "text/javascript; charset=utf-8", "public, max-age=86400"],
        ["assets/fonts/a.woff2", "font/woff2", "public, max-age=86400"],
        ["index.html", "text/html; charset=utf-8", "no-cache"],
        ["robots.txt", "text/plain; charset=utf-8", "public, max-age=86400"],
      ],
    );
    assert.equal(assetFiles(dir)[4].source, path.join(dir, "index.html"));
    fs.rmSync(dir, { recursive: true });
  });

  it("rate-limits per address first, then applies the XSS, bad-input and SQL injection rule groups with their own actions", () => {
    const rules = wafRules("shop-prod", 750);
    assert.deepEqual(
      rules.map((r) => r.priority),
      [0, 1, 2, 3],
    );
    assert.equal(new Set(rules.map((r) => r.visibilityConfig.metricName)).size, rules.length, "one metric per rule");
    const [rate, ...groups] = rules as any[];
    assert.deepEqual(rate.statement.rateBasedStatement, {
      limit: 750,
      aggregateKeyType: "IP",
      evaluationWindowSec: 300,
    });
    assert.ok(rate.action.block);
    assert.deepEqual(
      groups.map((g) => g.statement.managedRuleGroupStatement.name),
      [...MANAGED_RULE_GROUPS],
    );
    assert.ok(
      groups.every((g) => g.overrideAction.none !== undefined),
      "managed groups block, not just count",
    );
    const common = groups[0].statement.managedRuleGroupStatement;
    assert.deepEqual(
      common.ruleActionOverrides,
      [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }],
      "only the body-size rule is relaxed",
    );
  });
});
