// npm run bench: program evaluation under mocks for growing catalogs, and for the largest seed
// catalog next to the bare SDK load, the SDKs' own cost for the same resources and Pulumi's default
// TypeScript path (ts-node with type-checking). Writes bench/RESULTS.md.
// `npm run bench -- --smoke` (or BENCH_SMOKE=1): every row once, smallest catalogs only, nothing
// written; exits 1 with the failing child's stderr, so CI knows that every row still runs.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ChildReport } from "./report";
import { BenchTarget, SIZES, benchStacks, generatedCatalog } from "./rows";

const root = path.join(__dirname, "..");

/** One fresh process: wall time from spawn to exit (as a user waits for it), then what it reported. */
interface Sample extends ChildReport {
  wallMs: number;
}

/** A row whose process failed: its exit and stderr, which say why. */
class RowFailure extends Error {}

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

/** Plain Node.js, no TypeScript loader: require the SDK packages and report as the other children do. */
const BARE_SDK_LOAD = [
  "-e",
  `for (const p of ${JSON.stringify(SDK_PACKAGES)}) require(p);
   const cpu = process.cpuUsage();
   console.log(JSON.stringify({ resources: 0, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }))`,
];

/** A bench script run through the given loader arguments. */
const script = (loader: string[], file: string, ...args: string[]): string[] => [
  ...loader,
  path.join(__dirname, file),
  ...args,
];

function measure(label: string, nodeArgs: string[]): Sample {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, nodeArgs, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, "tsconfig.json") },
    maxBuffer: 64 << 20,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) {
    const exit = child.status ?? child.signal ?? child.error?.message;
    throw new RowFailure(`bench row "${label}" failed (exit ${exit}): node ${nodeArgs.join(" ")}\n${child.stderr}`);
  }
  const reported = JSON.parse(child.stdout.trim().split("\n").pop()!) as ChildReport;
  return { wallMs, ...reported };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values: number[], digits: number) =>
  values.length > 1 ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})` : "";

/** A table row: median wall time with its range over the runs, median CPU time and peak memory. */
function tableRow(what: string, target: string, samples: Sample[]): string {
  const wall = samples.map((s) => s.wallMs);
  const cpu = median(samples.map((s) => s.cpuMs));
  const rss = median(samples.map((s) => s.maxRssMiB));
  return `| ${what} | ${target} | ${median(wall).toFixed(0)}${spread(wall, 0)} | ${cpu.toFixed(0)} | ${rss.toFixed(0)} |`;
}

/** Where a row's stacks are written for its child process (evaluate.ts reads them). */
function stacksFile(dir: string, name: string, target: BenchTarget, catalogFile: string): string {
  const file = path.join(dir, `${name}-${target}.json`);
  fs.writeFileSync(file, JSON.stringify(benchStacks(target, catalogFile)));
  return file;
}

/** The generated catalogs, both programs, each size `repeat` times: the scaling rows. */
function scalingRows(dir: string, sizes: number[], repeat: number, loader: string[]) {
  const samples: Record<string, Sample[]> = {};
  const rows: string[] = [];
  for (const target of ["docker", "aws"] as const) {
    for (const n of sizes) {
      const catalogFile = path.join(dir, `bench-${n}.yaml`);
      fs.writeFileSync(catalogFile, stringify(generatedCatalog(n)));
      const stacks = stacksFile(dir, `bench-${n}`, target, catalogFile);
      const label = `${target === "docker" ? "dev" : "prod"} program, ${n} services`;
      samples[`${target}-${n}`] = Array.from({ length: repeat }, () =>
        measure(label, script(loader, "evaluate.ts", stacks)),
      );
      rows.push(tableRow(label, target, samples[`${target}-${n}`]));
      console.log(rows[rows.length - 1]);
    }
  }
  return { rows, samples };
}

/**
 * The largest seed catalog's prod program next to the bare SDK load, the SDK floor and the
 * type-checking path, in rounds of one run each, so that the machine's load at the time weighs on
 * all four alike; each ratio is taken within a round.
 */
function seedComparison(dir: string, repeat: number, loader: string[]) {
  const seed = path.join(root, "services", "catalogs", "reservei.yaml");
  const stacks = stacksFile(dir, "reservei", "aws", seed);
  const recording = path.join(dir, "reservei-resources.json");
  // Untimed: records what the floor declares again, and fills the loader's cache as a user's first run would.
  measure("record reservei resources", script(loader, "evaluate.ts", stacks, "--record", recording));
  // Object literals evaluate in order: one run of each, one after another.
  const round = () => ({
    bare: measure("bare SDK load", BARE_SDK_LOAD),
    program: measure("prod program, reservei", script(loader, "evaluate.ts", stacks)),
    floor: measure("SDK floor, reservei", script(loader, "sdkFloor.ts", recording)),
    checked: measure("prod program, reservei, ts-node", script(TS_NODE_TYPE_CHECKED, "evaluate.ts", stacks)),
  });
  const rounds = Array.from({ length: repeat }, round);
  const of = (kind: keyof ReturnType<typeof round>) => rounds.map((r) => r[kind]);
  const resources = rounds[0].program.resources;
  const rows = [
    tableRow(`bare SDK load, plain node (${SDK_PACKAGES.join(", ")})`, "-", of("bare")),
    tableRow(
      `prod program, largest seed catalog (reservei, ${resources} resources), as \`pulumi up\` loads it (node ${loader.join(" ")})`,
      "aws",
      of("program"),
    ),
    tableRow(
      "SDK floor: the same resources declared straight through the SDK classes, no platform code",
      "aws",
      of("floor"),
    ),
    tableRow("prod program, reservei, Pulumi's default path (ts-node with type-checking)", "aws", of("checked")),
  ];
  rows.forEach((row) => console.log(row));
  return { rows, rounds };
}

type Round = ReturnType<typeof seedComparison>["rounds"][number];

/** A ratio of two kinds of run, taken within each round: its median, and its range when there are several. */
function roundRatio(rounds: Round[], over: keyof Round, under: keyof Round, of: "wallMs" | "cpuMs"): string {
  const ratios = rounds.map((round) => round[over][of] / round[under][of]);
  return `${median(ratios).toFixed(2)}${spread(ratios, 2)}`;
}

function scalingRatio(samples: Record<string, Sample[]>, target: BenchTarget, of: keyof Sample): string {
  const at = (n: number) => median(samples[`${target}-${n}`].map((s) => s[of]));
  return (at(200) / at(20)).toFixed(2);
}

function ratioLines(rounds: Round[], samples: Record<string, Sample[]>): string[] {
  const both = (over: keyof Round, under: keyof Round) =>
    `wall ${roundRatio(rounds, over, under, "wallMs")}, CPU ${roundRatio(rounds, over, under, "cpuMs")}`;
  const lines = [
    `Ratios of the seed comparison, each taken within a round (median over ${rounds.length} rounds, range in brackets):`,
    `- prod program for the largest seed catalog / bare SDK load: ${both("program", "bare")} (target <= 1.5)`,
    `- SDK floor / bare SDK load: ${both("floor", "bare")} (what the SDKs alone cost for the same resources)`,
    `- prod program / SDK floor: ${both("program", "floor")} (what the platform's own code adds)`,
    `- default ts-node path / this project's loader: ${both("checked", "program")} (target >= 5)`,
  ];
  if (!samples["docker-200"]) return lines;
  return [
    ...lines,
    `- 200 / 20 services, time: dev wall ${scalingRatio(samples, "docker", "wallMs")}, CPU ${scalingRatio(samples, "docker", "cpuMs")}; prod wall ${scalingRatio(samples, "aws", "wallMs")}, CPU ${scalingRatio(samples, "aws", "cpuMs")} (target <= 10)`,
    `- 200 / 20 services, memory: dev ${scalingRatio(samples, "docker", "maxRssMiB")}, prod ${scalingRatio(samples, "aws", "maxRssMiB")} (target <= 10)`,
  ];
}

function resultsText(rows: string[], ratios: string[], repeat: number): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return [
    "# Benchmark results",
    "",
    `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `Each row is ${repeat} runs, each a fresh process: wall time from spawn to exit (median, range in brackets),`,
    "the CPU time (user and system) the process reports at its end, and its peak RSS (medians).",
    "",
    "| what | target | wall ms | CPU ms | peak MiB |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    ...ratios,
    "",
  ].join("\n");
}

/** Where the hand-written analysis of the results starts in RESULTS.md. */
const ANALYSIS_HEADING = "## Analysis";

/** The table replaces the previous one; the analysis written below it stays. */
function writeResults(text: string): void {
  const resultsFile = path.join(__dirname, "RESULTS.md");
  const analysis = fs.existsSync(resultsFile)
    ? fs.readFileSync(resultsFile, "utf8").split(ANALYSIS_HEADING)[1]
    : undefined;
  fs.writeFileSync(resultsFile, analysis === undefined ? text : `${text}\n${ANALYSIS_HEADING}${analysis}`);
}

function main(): void {
  const smoke = process.argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";
  const repeat = smoke ? 1 : Number(process.env.BENCH_REPEAT ?? 5);
  const loader = pulumiNodeArgs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  try {
    const seed = seedComparison(dir, repeat, loader);
    const scaling = scalingRows(dir, smoke ? SIZES.slice(0, 1) : SIZES, repeat, loader);
    const text = resultsText([...seed.rows, ...scaling.rows], ratioLines(seed.rounds, scaling.samples), repeat);
    console.log(text);
    if (smoke) console.log("bench smoke: every row ran (one run each, smallest catalogs; RESULTS.md untouched)");
    else writeResults(text);
  } catch (e) {
    if (!(e instanceof RowFailure)) throw e;
    console.error(e.message);
    process.exitCode = 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
