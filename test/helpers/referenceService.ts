import { ChildProcess, execFileSync, spawn } from "child_process";
import * as http from "http";
import * as path from "path";
import * as readline from "readline";
import { freePort, hasBinary } from "./servers";

const SERVICE_DIR = path.join(__dirname, "..", "..", "reference-service");
/** Run from source through tsx, as the test runner itself is; the cwd makes it resolve its own node_modules. */
const MAIN = path.join(SERVICE_DIR, "src", "main.ts");

/** The machine's PostgreSQL (127.0.0.1:5432, trust auth) as its superuser. */
export function psql(sql: string, database = "postgres"): string {
  return execFileSync(
    "psql",
    ["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
}

export function hasPostgres(): boolean {
  try {
    return hasBinary("psql") && psql("SELECT 1") === "1";
  } catch {
    return false;
  }
}

export type LogLine = Record<string, unknown> & { msg?: string; time?: string; trace_id?: string };

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The reference service as a plain process whose environment is exactly `env`. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  output = "";
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    readonly env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ["-r", require.resolve("tsx/cjs"), MAIN], {
      cwd: SERVICE_DIR,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    readline.createInterface({ input: this.child.stdout! }).on("line", (line) => {
      this.output += `${line}\n`;
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        /* not a log line */
      }
    });
    this.child.stderr!.on("data", (d) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.env.PORT}${pathname}`;
  }

  async scrape(): Promise<string> {
    const port = this.env.METRICS_PORT ?? this.env.PORT;
    const response = await fetch(`http://127.0.0.1:${port}${this.env.METRICS_PATH ?? "/metrics"}`);
    if (response.status !== 200) throw new Error(`${this.name} /metrics answered ${response.status}`);
    return response.text();
  }

  /** A counter's value (0 before its first increment). */
  async metric(name: string, labels: Record<string, string>): Promise<number> {
    const sample = parseExposition(await this.scrape()).find(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    return sample?.value ?? 0;
  }

  /** SIGTERM, then the exit code and how long the graceful shutdown took. */
  async terminate(): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const code = await this.exited;
    return { code, ms: Date.now() - started };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** An OTLP/HTTP receiver: keeps the body of every `POST /v1/traces`. */
export async function startOtlpReceiver(): Promise<{ port: number; bodies: Buffer[]; close: () => Promise<void> }> {
  const bodies: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") bodies.push(Buffer.concat(chunks));
      res.writeHead(req.url === "/v1/traces" ? 200 : 404, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
