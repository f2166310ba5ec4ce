// npm run docs:figures [-- --check]: every figure README.md quotes, computed, between
// `<!-- figures:NAME -->` and `<!-- /figures:NAME -->`. `--check` rewrites nothing and exits 1
// when a block is stale (CI runs it). Only counts and totals the program determines; timings,
// which vary by machine, live in bench/RESULTS.md.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { devMemoryPlan, MemoryPlanInput } from "../components/docker/memoryPlan";
import { BUILTIN_CATALOGS, BuiltinCatalog, builtinCatalogPath, loadCatalog } from "../services/load";
import { ValidationError } from "../services/problems";
import { readPlatformConfig } from "../stacks/config";
import { devConfig, prodLayers } from "../test/helpers/stackConfigs";
import { runCli } from "./cli";
import { catalogMap } from "./catalogMap";
import { criticalPathGantt } from "./deployGantt";
import { DeployPlan, deployPlan } from "./deployPlan";
import { policyTable } from "./policyCheck";
import { runStack } from "./stackRun";

const projectDir = path.join(__dirname, "..");
const README = path.join(projectDir, "README.md");

const STANDARD: MemoryPlanInput = {
  profile: "standard",
  cacheMode: "sentinel",
  gatewayDatabase: "postgres",
  logs: "loki",
  devTools: { adminer: false, redisCommander: false },
};
const MEMORY_SETUPS: Array<[string, MemoryPlanInput]> = [
  ["standard (default)", STANDARD],
  ["standard, ELK", { ...STANDARD, logs: "elk" }],
  ["light, one Redis, DB-less Kong", { ...STANDARD, profile: "light", cacheMode: "single", gatewayDatabase: "off" }],
];

const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;

/** The dev containers' memory limits added up, as config validation adds them against the budget. */
function memoryTable(): string {
  const rows = BUILTIN_CATALOGS.map((name) => {
    const catalog = loadCatalog(builtinCatalogPath(name));
    const totals = MEMORY_SETUPS.map(([, input]) => devMemoryPlan(catalog, input).reduce((sum, l) => sum + l.mib, 0));
    return `| ${name} | ${totals.map(gib).join(" | ")} |`;
  });
  return [
    `| catalog | ${MEMORY_SETUPS.map(([label]) => label).join(" | ")} |`,
    `| --- |${" --- |".repeat(3)}`,
    ...rows,
  ].join("\n");
}

const minutes = (s: number) => `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;

interface SeedPlans {
  catalog: BuiltinCatalog;
  dev: DeployPlan;
  infra: DeployPlan;
  platform: DeployPlan;
}

/** Each seed's dev stack and both prod layers under mocks, planned as `npm run plan` plans them. */
async function seedPlans(): Promise<SeedPlans[]> {
  const plans: SeedPlans[] = [];
  for (const catalog of BUILTIN_CATALOGS) {
    const dev = deployPlan((await runStack([{ stack: "dev", config: devConfig(catalog) }])).resources);
    const prod = await runStack(prodLayers(catalog));
    const infra = deployPlan(prod.all.filter((r) => r.stack === "prod-infra"));
    plans.push({ catalog, dev, infra, platform: deployPlan(prod.resources) });
  }
  return plans;
}

/** Resources and the estimated `pulumi up` (critical path) of each stack, as `npm run plan` prints them. */
function planTable(plans: SeedPlans[]): string {
  const cell = (p: DeployPlan) => `${p.resources} | ${minutes(p.estimatedSeconds)}`;
  return [
    "| catalog | dev resources | dev estimate | prod-infra resources | prod-infra estimate | prod resources | prod estimate |",
    `| --- |${" --- |".repeat(6)}`,
    ...plans.map(
      ({ catalog, dev, infra, platform }) => `| ${catalog} | ${cell(dev)} | ${cell(infra)} | ${cell(platform)} |`,
    ),
  ].join("\n");
}

/** Per seed, folded: its system map (`npm run map`) and the critical path of a first prod deploy, both layers. */
function seedPictures(plans: SeedPlans[]): string {
  return plans
    .map(({ catalog, infra, platform }) => {
      const total = minutes(infra.estimatedSeconds + platform.estimatedSeconds);
      const timeline = criticalPathGantt(`${catalog}: first prod deploy, critical path, ${total}`, [
        { name: "prod-infra", plan: infra },
        { name: "prod", plan: platform },
      ]);
      return [
        "<details>",
        `<summary><b>${catalog}</b>: system map and prod deploy timeline</summary>`,
        "",
        "```mermaid",
        catalogMap(loadCatalog(builtinCatalogPath(catalog))),
        "```",
        "",
        "```mermaid",
        timeline,
        "```",
        "",
        "</details>",
      ].join("\n");
    })
    .join("\n");
}

/** The error the README shows, as the program prints it for that config (the CLI prefixes `error:`). */
function exampleError(): string {
  const config: Record<string, string> = {
    "platform:target": "docker",
    "platform:catalog": "reservei",
    "platform:observabilty": JSON.stringify({ logs: "elk" }),
    "platform:images": JSON.stringify({ nobody: "acme/nobody:1.0.0" }),
    "platform:docker": JSON.stringify({ memoryBudget: "4Gi" }),
  };
  try {
    readPlatformConfig((key) => config[key], "dev", projectDir, Object.keys(config));
  } catch (e) {
    if (e instanceof ValidationError) return ["```", `error: ${e.message}`, "```"].join("\n");
    throw e;
  }
  throw new Error("the README's example config passed validation");
}

/** How many tests `npm test` defines (mocha's dry run: nothing executed). */
function testCount(): string {
  const run = spawnSync(
    process.execPath,
    [require.resolve("mocha/bin/mocha.js"), "--dry-run", "--no-parallel", "--reporter", "json", "test/**/*.test.ts"],
    { cwd: projectDir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`mocha --dry-run failed: ${run.stderr.trim().split("\n").pop()}`);
  const { stats } = JSON.parse(run.stdout) as { stats: { tests: number; suites: number } };
  return `${stats.tests} tests in ${stats.suites} suites`;
}

/** `text` with each marked block's body replaced. */
export function replaceBlocks(text: string, blocks: Record<string, string>): string {
  let result = text;
  for (const [name, body] of Object.entries(blocks)) {
    const pattern = new RegExp(`(<!-- figures:${name} -->)[\\s\\S]*?(<!-- /figures:${name} -->)`);
    if (!pattern.test(result)) throw new Error(`README.md has no block figures:${name}`);
    result = result.replace(pattern, (_, open: string, close: string) => `${open}\n${body}\n${close}`);
  }
  return result;
}

async function main(): Promise<number> {
  const check = process.argv.includes("--check");
  const plans = await seedPlans();
  const blocks = {
    "dev-memory": memoryTable(),
    "deploy-plan": planTable(plans),
    "seed-pictures": seedPictures(plans),
    "config-error": exampleError(),
    policies: policyTable(),
    tests: testCount(),
  };
  const current = fs.readFileSync(README, "utf8");
  const updated = replaceBlocks(current, blocks);
  if (check) {
    if (updated === current) return 0;
    console.error("docs:figures: README.md's figures are stale\n  hint: run npm run docs:figures and commit README.md");
    return 1;
  }
  fs.writeFileSync(README, updated);
  console.log(`docs:figures: ${Object.keys(blocks).length} blocks written to README.md`);
  return 0;
}

if (require.main === module) runCli(main);
