// npm run health -- <stack> [--outputs file.json] [--timeout ms]
// Probes every endpoint of the stack output `healthChecks` and prints a table; exits 1 when
// something is down (seed 002's `make health`).
import { parseArgs, readStackOutputs } from "./stackOutputs";
import { runCli } from "./cli";

export interface HealthCheckOutput {
  name: string;
  url: string;
}

export interface HealthResult extends HealthCheckOutput {
  up: boolean;
  /** HTTP status, or why there was none (refused, timed out). */
  detail: string;
  ms: number;
}

/** One GET: up on a 2xx answer within the timeout. Redirects count as answers, not followed. */
export async function probe(check: HealthCheckOutput, timeoutMs: number): Promise<HealthResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(check.url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return {
      ...check,
      up: response.status >= 200 && response.status < 300,
      detail: `HTTP ${response.status}`,
      ms: elapsed(),
    };
  } catch (e) {
    const error = e as Error & { cause?: { code?: string } };
    const detail =
      error.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (error.cause?.code ?? error.message);
    return { ...check, up: false, detail, ms: elapsed() };
  }
}

export function checkAll(checks: HealthCheckOutput[], timeoutMs: number): Promise<HealthResult[]> {
  return Promise.all(checks.map((check) => probe(check, timeoutMs)));
}

export function renderTable(results: HealthResult[]): string {
  const rows = [
    ["", "name", "url", "result", "ms"],
    ...results.map((r) => [r.up ? "up" : "DOWN", r.name, r.url, r.detail, String(r.ms)]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Prod services answer inside the cluster only: the command that checks each, from the `services` output. */
export function internalChecks(services: unknown): string[] {
  if (!services || typeof services !== "object") return [];
  return Object.entries(services as Record<string, { healthCheck?: unknown }>).flatMap(([name, service]) =>
    typeof service.healthCheck === "string" ? [`  ${name}: ${service.healthCheck}`] : [],
  );
}

async function main(): Promise<number> {
  const {
    positional: [stack],
    options,
  } = parseArgs(process.argv.slice(2));
  if (!stack) {
    console.error("usage: npm run health -- <stack> [--outputs file.json] [--timeout ms]");
    return 2;
  }
  const outputs = readStackOutputs(stack, options.outputs);
  const checks = outputs.healthChecks as HealthCheckOutput[] | undefined;
  if (!Array.isArray(checks) || checks.length === 0) {
    console.error(`stack '${stack}' has no healthChecks output: run pulumi up first`);
    return 2;
  }
  const results = await checkAll(checks, Number(options.timeout ?? 5000));
  console.log(renderTable(results));
  const down = results.filter((r) => !r.up).length;
  console.log(down === 0 ? `\nall ${results.length} healthy` : `\n${down} of ${results.length} down`);
  const internal = internalChecks(outputs.services);
  if (internal.length > 0) console.log(`\ninside the cluster (kubectl with access to it):\n${internal.join("\n")}`);
  return down === 0 ? 0 : 1;
}

if (require.main === module) runCli(main);
