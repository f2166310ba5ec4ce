import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { isExactVersion } from "../policies/containers/images";
import { RULES, isPinnedImage } from "../policies/rules";
import { namesCredential } from "../policies/secrets/credentials";
import { BUILTIN_CATALOGS } from "../services/load";
import { runUnderMocks } from "../tools/mockRun";
import {
  asPolicyResources,
  checkStack,
  enforcementFor,
  evaluate,
  policyTable,
  secretOutputViolations,
} from "../tools/policyCheck";
import { devConfig, prodLayers } from "./helpers/stackConfigs";
import { AWS_CASES, addonOf, cluster } from "./helpers/policyCases/aws";
import { DEPLOYMENT, pod, resource, RuleCase } from "./helpers/policyCases/fixtures";
import { GATEWAY_CASES } from "./helpers/policyCases/gateway";
import { NETWORK_CASES } from "./helpers/policyCases/network";
import { PLATFORM_CASES } from "./helpers/policyCases/platform";
import { SECRET_CASES } from "./helpers/policyCases/secrets";
import { WORKLOAD_CASES } from "./helpers/policyCases/workloads";

/** For every policy, what it says about resources that break it, and that it is silent on resources that keep it. */
const CASES: Record<string, RuleCase> = {
  ...SECRET_CASES,
  ...WORKLOAD_CASES,
  ...NETWORK_CASES,
  ...GATEWAY_CASES,
  ...AWS_CASES,
  ...PLATFORM_CASES,
};

const mandatory = () => "mandatory" as const;

describe("policy pack", () => {
  it("has a violating and a passing case for every policy", () => {
    assert.deepEqual(Object.keys(CASES).sort(), RULES.map((r) => r.name).sort());
  });

  it("describes every policy with severity and remediation, under a unique name", () => {
    for (const rule of RULES) {
      assert.ok(rule.description.length > 20 && rule.remediation.length > 10, rule.name);
      assert.ok(["low", "medium", "high", "critical"].includes(rule.severity));
    }
    assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length);
  });

  for (const [policy, { bad, good }] of Object.entries(CASES)) {
    describe(policy, () => {
      const rule = RULES.find((r) => r.name === policy)!;
      for (const { why, resources, says } of bad) {
        it(`says what is wrong: ${why}`, async () => {
          const found = (await evaluate(resources, mandatory)).filter((v) => v.policy === policy);
          // Every violation ends with the remediation and names one of the resources it is about.
          for (const v of found) {
            assert.ok(v.message.endsWith(`. ${rule.remediation}.`), v.message);
            assert.ok(
              resources.some((r) => r.urn === v.urn),
              `${v.urn} is none of the case's resources`,
            );
          }
          assert.deepEqual(
            found.map((v) => v.message.slice(0, -(rule.remediation.length + 3))).sort(),
            [...says].sort(),
          );
        });
      }
      for (const { why, resources } of good) {
        it(`is silent: ${why}`, async () => {
          assert.deepEqual(
            (await evaluate(resources, mandatory)).filter((v) => v.policy === policy).map((v) => v.message),
            [],
          );
        });
      }
    });
  }

  it("accepts tags and digests, refuses latest and bare names; accepts exact versions in any semver form", () => {
    assert.ok(isPinnedImage("registry:5000/team/app:1.2"));
    assert.ok(isPinnedImage(`app@sha256:${"a".repeat(64)}`));
    assert.ok(!isPinnedImage("registry:5000/team/app"));
    assert.ok(!isPinnedImage("app:latest"));
    for (const exact of ["2.47.0", "v1.16.1", "2.47.0-rc.1", "1.0.0-alpha.1+build.7"])
      assert.ok(isExactVersion(exact), exact);
    for (const loose of ["", "2", "2.47", "^2.47.0", "~2.47.0", "2.x", ">=1.0.0", "latest", "2.47.0 || 2.48.0"])
      assert.ok(!isExactVersion(loose), loose);
  });

  it("tells a credential's name from a setting's, in any case", () => {
    const credentials = [
      "DB_PASSWORD",
      "admin-password",
      "adminPassword",
      "PGPASSWORD",
      "JWT_SECRET",
      "API_KEY",
      "apiKey",
    ];
    const more = [
      "AWS_SECRET_ACCESS_KEY",
      "SECRET_KEY_BASE",
      "REDIS_PASS",
      "OPENAI_API_KEY",
      "jwt_secrets",
      "GITHUB_TOKENS",
    ];
    for (const name of [...credentials, ...more]) assert.ok(namesCredential(name), name);
    const settings = ["TOKEN_TTL_SECONDS", "PASSWORD_MIN_LENGTH", "AWS_SECRET_NAME", "JWT_SECRET_FILE", "secretName"];
    const others = ["existingSecret", "passwordKey", "TOKENIZER_MODEL", "DATABASE_URL", "ACCESS_KEY_ID", "PUBLIC_KEY"];
    for (const name of [...settings, ...others]) assert.ok(!namesCredential(name), name);
  });

  it("is mandatory in prod and advisory in dev", () => {
    for (const rule of RULES) {
      assert.equal(enforcementFor("prod")(rule.name), "mandatory");
      assert.equal(enforcementFor("dev")(rule.name), "advisory");
    }
    for (const stack of ["prod", "dev"])
      assert.equal(enforcementFor(stack)("network-policies-enforced"), stack === "prod" ? "mandatory" : "advisory");
  });

  it("renders the README's table from the pack: every policy, what it checks, its severity and level per stack", () => {
    const table = policyTable().split("\n");
    assert.equal(table[0], "| policy | checks | severity | dev | prod |");
    for (const rule of RULES)
      assert.ok(
        table.includes(
          `| \`${rule.name}\` | ${rule.description.replace(/\|/g, "\\|")} | ${rule.severity} | advisory | mandatory |`,
        ),
        rule.name,
      );
    assert.equal(table.length, RULES.length + 2);
  });

  it("counts an autoscaled Deployment's replicas from its autoscaler's minimum", async () => {
    const autoscaled = resource(
      DEPLOYMENT,
      pod((p) => delete p.spec.replicas),
    );
    const hpa = (minReplicas: number) =>
      resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {
        metadata: { name: "orders", namespace: "shop" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "orders" }, minReplicas },
      });
    const budgetViolations = async (resources: Parameters<typeof evaluate>[0]) =>
      (await evaluate(resources, enforcementFor("prod"))).filter((v) => v.policy === "pdb-for-replicated-pods");
    const [violation] = await budgetViolations([autoscaled, hpa(2)]);
    assert.match(violation?.message ?? "", /deployment orders runs 2 replicas and has no PodDisruptionBudget/);
    assert.deepEqual(await budgetViolations([autoscaled, hpa(1)]), []);
  });

  it("reports a dev violation as advisory", async () => {
    const found = await evaluate([cluster, addonOf("vpc-cni", undefined)], enforcementFor("dev"));
    assert.ok(found.length > 0 && found.every((v) => v.level === "advisory"));
  });

  it("tells a secret by where it comes from: a random password in a ConfigMap, recorded under mocks, whatever its key", async () => {
    const run = await runUnderMocks("test", {}, () => {
      const password = new random.RandomPassword("login", { length: 24 });
      new k8s.core.v1.ConfigMap("settings", {
        metadata: { name: "settings" },
        data: { LOGIN: password.result, LEVEL: "info" },
      });
    });
    const [configMap] = asPolicyResources(run.resources).filter((r) => r.type === "kubernetes:core/v1:ConfigMap");
    const found = (await evaluate([configMap], mandatory)).filter((v) => v.policy === "no-credentials-in-configmaps");
    assert.deepEqual(
      found.map((v) => v.message.split(". ")[0]),
      ["ConfigMap settings: LOGIN holds a Pulumi secret"],
    );
    // The engine hands the pack no secret markers: there the same ConfigMap's LOGIN is just a value.
    const { secretPaths, ...asTheEngineSeesIt } = configMap;
    assert.ok(secretPaths && secretPaths.length > 0);
    assert.deepEqual(
      (await evaluate([asTheEngineSeesIt as typeof configMap], mandatory)).filter(
        (v) => v.policy === "no-credentials-in-configmaps",
      ),
      [],
    );
  });

  /** Both layers of a prod program through the pack, each stack on its own as `pulumi preview` runs it. */
  const checkLayers = async (layers: ReturnType<typeof prodLayers>) => [
    ...(await checkStack(layers[0].stack, layers.slice(0, 1))),
    ...(await checkStack(layers[1].stack, layers)),
  ];

  it("passes the whole prod program (stack files, all options at their defaults)", async () => {
    assert.deepEqual([...(await checkStack("prod-infra")), ...(await checkStack("prod"))], []);
  });

  it("passes every seed catalog's prod layers and dev stack, and the prod options that change what is declared", async function () {
    this.timeout(120_000);
    for (const catalog of BUILTIN_CATALOGS) {
      assert.deepEqual(await checkLayers(prodLayers(catalog)), [], `prod ${catalog}`);
      assert.deepEqual(await checkStack("dev", [{ stack: "dev", config: devConfig(catalog) }]), [], `dev ${catalog}`);
    }
    const variants = {
      natGateways: "single",
      rds: { mode: "shared", bootstrap: "provider" },
      broker: { mode: "in-cluster" },
    };
    assert.deepEqual(await checkLayers(prodLayers("bookings", { ...variants, mongodb: { mode: "documentdb" } })), []);
  });

  it("passes the dev program of the stack file", async () => {
    assert.deepEqual(await checkStack("dev"), []);
  });

  it("flags stack outputs that carry credentials in plain text", async () => {
    const violations = await secretOutputViolations(
      {
        grafanaAdminPassword: pulumi.output("plain"),
        kubeconfig: pulumi.secret("k"),
        gatewayUrl: pulumi.output("https://x"),
        gatewayClients: pulumi.output({ partner: { kind: "key-auth", key: "k" } }),
      },
      "mandatory",
    );
    assert.deepEqual(
      violations.map((v) => v.message),
      [
        "stack output grafanaAdminPassword holds credentials but is not a secret",
        "stack output gatewayClients holds credentials but is not a secret",
      ],
    );
  });

  it("links resources to their parents for stack policies", () => {
    const record = { stack: "test", custom: true, provider: "", inputs: {}, wire: {} };
    const policyResources = asPolicyResources([
      { ...record, type: "platform:x:Parent", name: "p", urn: "urn:p", parent: "", dependencies: [] },
      {
        ...record,
        type: "docker:index/container:Container",
        name: "c",
        urn: "urn:c",
        parent: "urn:p",
        dependencies: ["urn:p"],
      },
    ]);
    assert.equal((policyResources[1] as any).parent.urn, "urn:p");
    assert.equal(policyResources[1].dependencies[0].urn, "urn:p");
  });
});
