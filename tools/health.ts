// npm run health -- <stack> [--outputs file.json] [--timeout ms]
// Probes every endpoint of the stack output `healthChecks` and, on dev, asks Docker for the state of
// every container of the output `containers`; prints a table of each and exits 1 when something is
// down (seed 002's `make health`).
import { spawnSync } from "child_process";
import { parseArgs, readStackOutputs } from "./stackOutputs";
import { UserError, runCli } from "./cli";

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

/** A dev container as the stack output `containers` lists it. */
export interface ContainerOutput {
  name: string;
  /** Runs once to completion: fine once it exited 0, where a long-running one must be healthy. */
  oneShot: boolean;
}

export interface ContainerState extends ContainerOutput {
  up: boolean;
  /** Docker's health status, or how the container exited, or why there is neither. */
  state: string;
}

/** Name, status, exit code and health status (`none` without a healthcheck), one line per container. */
const INSPECT_FORMAT =
  "{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}";

/** Every container's state from one `docker inspect`; a container Docker does not know is `missing`. */
export function inspectContainers(containers: ContainerOutput[]): ContainerState[] {
  const inspected = spawnSync("docker", ["inspect", "--format", INSPECT_FORMAT, ...containers.map((c) => c.name)], {
    encoding: "utf8",
  });
  if ((inspected.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new UserError(
      "'docker' is not installed",
      "install Docker (https://docs.docker.com/get-docker/) to read the dev containers' health, on the machine that runs the stack",
    );
  }
  if (inspected.error) throw inspected.error;
  const reported = new Map(
    inspected.stdout
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => {
        const [name, ...fields] = line.trim().split(" ");
        return [name.replace(/^\//, ""), fields] as const;
      }),
  );
  // Docker answers for the containers it has and names the others "No such object"; anything else is Docker's own trouble.
  const said = inspected.stderr.trim().split("\n").pop() ?? "";
  if (reported.size === 0 && inspected.status !== 0 && !/no such object/i.test(said)) {
    throw new UserError(`docker cannot inspect the stack's containers: ${said}`, "start Docker, then run it again");
  }
  return containers.map((container) => containerState(container, reported.get(container.name)));
}

/** Up: a long-running container running and healthy, a one-shot one exited 0. */
function containerState(container: ContainerOutput, fields: readonly string[] | undefined): ContainerState {
  if (!fields) return { ...container, up: false, state: "missing" };
  const [status, exitCode, health] = fields;
  if (container.oneShot) {
    return status === "exited"
      ? { ...container, up: exitCode === "0", state: `exited ${exitCode}` }
      : { ...container, up: false, state: status };
  }
  if (status !== "running") return { ...container, up: false, state: `${status} (exit ${exitCode})` };
  return { ...container, up: health === "healthy", state: health === "none" ? "running, no healthcheck" : health };
}

export function renderTable(results: HealthResult[]): string {
  return renderRows([
    ["", "name", "url", "result", "ms"],
    ...results.map((r) => [r.up ? "up" : "DOWN", r.name, r.url, r.detail, String(r.ms)]),
  ]);
}

export function renderContainerTable(states: ContainerState[]): string {
  return renderRows([["", "container", "state"], ...states.map((s) => [s.up ? "up" : "DOWN", s.name, s.state])]);
}

/** Columns padded to their widest cell. */
function renderRows(rows: string[][]): string {
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
  const containers = outputs.containers as ContainerOutput[] | undefined;
  // Docker first: without it the command stops in one line before probing anything.
  const states = Array.isArray(containers) && containers.length > 0 ? inspectContainers(containers) : [];
  const results = await checkAll(checks, Number(options.timeout ?? 5000));
  console.log(renderTable(results));
  if (states.length > 0) console.log(`\n${renderContainerTable(states)}`);
  const all = [...results, ...states];
  const down = all.filter((r) => !r.up).length;
  console.log(down === 0 ? `\nall ${all.length} healthy` : `\n${down} of ${all.length} down`);
  const internal = internalChecks(outputs.services);
  if (internal.length > 0) console.log(`\ninside the cluster (kubectl with access to it):\n${internal.join("\n")}`);
  return down === 0 ? 0 : 1;
}

if (require.main === module) runCli(main);
