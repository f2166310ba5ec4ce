// npm run bench: program evaluation under mocks for growing catalogs, next to the bare SDK load
// and to Pulumi's default TypeScript path (ts-node with type-checking). Writes bench/RESULTS.md.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";

const root = path.join(__dirname, "..");
const SIZES = [5, 20, 50, 200];

/** A valid catalog of n services: each with a database, cache, a route, publishing one key the next consumes. */
function generatedCatalog(n: number): Record<string, unknown> {
  return {
    name: `bench${n}`,
    services: Array.from({ length: n }, (_, i) => ({
      name: `svc-${i}`,
      image: `bench/svc-${i}:1.0.0`,
      port: 20000 + i,
      resources: { cpu: "100m", memory: "128Mi" },
      database: { kind: "postgres" },
      cache: true,
      events: {
        publishes: [`d${i}.entity.created`],
        consumes:
          i > 0
            ? [
                {
                  name: "upstream",
                  bindings: [`d${i - 1}.entity.created`],
                  retry: { maxAttempts: 2, initialDelayMs: 1000 },
                },
              ]
            : [],
      },
      routes: [{ paths: [`/s${i}`] }],
    })),
  };
}

interface Sample {
  ms: number;
  maxRssMiB: number;
}

/** The Node.js arguments `pulumi up` starts the program with (Pulumi.yaml runtime.options.nodeargs). */
function pulumiNodeArgs(): string[] {
  const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    runtime: { options?: { nodeargs?: string } };
  };
  return (project.runtime.options?.nodeargs ?? "").split(/\s+/).filter(Boolean);
}

/** Pulumi's default TypeScript path: ts-node registered with type-checking against tsconfig.json. */
const TS_NODE_TYPE_CHECKED = ["-r", "ts-node/register"];

const SDK_PACKAGES = [
  "@pulumi/pulumi",
  "@pulumi/docker",
  "@pulumi/aws",
  "@pulumi/kubernetes",
  "@pulumi/random",
  "@pulumi/rabbitmq",
  "@pulumi/postgresql",
];

/** Plain Node.js, no TypeScript loader: require the SDK packages and report peak RSS. */
const BARE_SDK_LOAD = [
  "-e",
  `for (const p of ${JSON.stringify(SDK_PACKAGES)}) require(p); console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }))`,
];

/** `evaluate.ts` run through the given loader arguments. */
const evaluate = (loader: string[], ...args: string[]): string[] => [
  ...loader,
  path.join(__dirname, "evaluate.ts"),
  ...args,
];

/** Wall time of a whole fresh process, from spawn to exit, as a user waits for it; peak RSS as it reports. */
function measure(nodeArgs: string[]): Sample {
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, nodeArgs, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, "tsconfig.json") },
    maxBuffer: 1 << 20,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, maxRssMiB: JSON.parse(out.trim().split("\n").pop()!).maxRssMiB };
}

/** Where the hand-written analysis of the results starts in RESULTS.md. */
const ANALYSIS_HEADING = "## Analysis";

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const repeat = Number(process.env.BENCH_REPEAT ?? 3);
  const rows: string[] = [];
  const loader = pulumiNodeArgs();
  const sdk = median(Array.from({ length: repeat }, () => measure(BARE_SDK_LOAD)));
  rows.push(
    `| bare SDK load, plain node (${SDK_PACKAGES.join(", ")}) | - | ${sdk.ms.toFixed(0)} | ${sdk.maxRssMiB.toFixed(0)} |`,
  );
  const results: Record<string, Sample> = {};
  for (const target of ["docker", "aws"]) {
    for (const n of SIZES) {
      const file = path.join(dir, `bench-${n}.yaml`);
      fs.writeFileSync(file, stringify(generatedCatalog(n)));
      const sample = median(Array.from({ length: repeat }, () => measure(evaluate(loader, target, file))));
      results[`${target}-${n}`] = sample;
      rows.push(
        `| ${target === "docker" ? "dev" : "prod"} program, ${n} services | ${target} | ${sample.ms.toFixed(0)} | ${sample.maxRssMiB.toFixed(0)} |`,
      );
      console.log(rows[rows.length - 1]);
    }
  }
  const seed = path.join(root, "services", "catalogs", "reservei.yaml");
  const fast = median(Array.from({ length: repeat }, () => measure(evaluate(loader, "aws", seed))));
  const checked = median(Array.from({ length: repeat }, () => measure(evaluate(TS_NODE_TYPE_CHECKED, "aws", seed))));
  rows.push(
    `| prod program, largest seed catalog (reservei), as \`pulumi up\` loads it (node ${loader.join(" ")}) | aws | ${fast.ms.toFixed(0)} | ${fast.maxRssMiB.toFixed(0)} |`,
  );
  rows.push(
    `| same, Pulumi's default path (ts-node with type-checking) | aws | ${checked.ms.toFixed(0)} | ${checked.maxRssMiB.toFixed(0)} |`,
  );
  const ratio = (a: Sample, b: Sample) => (a.ms / b.ms).toFixed(2);
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const text = [
    "# Benchmark results",
    "",
    `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `Each number is the median of ${repeat} runs, each a fresh process: wall time from spawn to exit, and peak RSS.`,
    "",
    "| what | target | ms | peak MiB |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    "Ratios against the targets of issue #7:",
    `- prod program for the largest seed catalog / bare SDK load: ${ratio(fast, sdk)} (target <= 1.5)`,
    `- default ts-node path / this project's loader: ${ratio(checked, fast)} (target >= 5)`,
    `- 200 / 20 services, time: dev ${ratio(results["docker-200"], results["docker-20"])}, prod ${ratio(results["aws-200"], results["aws-20"])} (target <= 10)`,
    `- 200 / 20 services, memory: dev ${(results["docker-200"].maxRssMiB / results["docker-20"].maxRssMiB).toFixed(2)}, prod ${(results["aws-200"].maxRssMiB / results["aws-20"].maxRssMiB).toFixed(2)} (target <= 10)`,
    "",
  ].join("\n");
  // The table replaces the previous one; the analysis written below it stays.
  const resultsFile = path.join(__dirname, "RESULTS.md");
  const analysis = fs.existsSync(resultsFile)
    ? fs.readFileSync(resultsFile, "utf8").split(ANALYSIS_HEADING)[1]
    : undefined;
  fs.writeFileSync(resultsFile, analysis === undefined ? text : `${text}\n${ANALYSIS_HEADING}${analysis}`);
  console.log(text);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) main();
