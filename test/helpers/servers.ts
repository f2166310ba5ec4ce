import { execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export function hasBinary(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A port the kernel just gave out on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net
      .createServer()
      .listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      })
      .on("error", reject);
  });
}

export function redisCli(port: number, password: string, args: string[]): string {
  return execFileSync(
    "redis-cli",
    ["-h", "127.0.0.1", "-p", String(port), "--no-auth-warning", "-a", password, ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  ).trim();
}

/** Starts redis-server on a config file and resolves, with a stop function, once it answers PING. */
export async function startRedis(config: string, args: string[], port: number, password: string): Promise<() => void> {
  const child = spawn("redis-server", [config, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
  });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
    try {
      if (redisCli(port, password, ["ping"]) === "PONG") return () => child.kill("SIGKILL");
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not answer: ${output}`);
}

/**
 * Polls `probe` (sync or async) every 100 ms until it returns a value; throws after `timeoutMs`,
 * with the probe's last error, so that a timeout says what was still failing.
 */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const last = lastError === undefined ? "" : ` (last: ${lastError instanceof Error ? lastError.message : lastError})`;
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last}`);
}

/** Debian's rabbitmq-server script, before the wrapper that switches to the rabbitmq user. */
const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

export function hasRabbitmqServer(): boolean {
  return fs.existsSync(RABBITMQ_SERVER);
}

/** Debian's rabbitmqctl, before the wrapper that switches to the rabbitmq user (and its HOME, so its cookie). */
const RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";

export interface RabbitmqNode {
  amqpPort: number;
  /** `name@localhost`, for `rabbitmqctl -n`. */
  nodeName: string;
  /** The node's environment (its HOME holds the Erlang cookie the CLI needs). */
  env: NodeJS.ProcessEnv;
  /** rabbitmqctl against this node: `ctl(["stop_app"])` closes every client connection. */
  ctl: (args: string[]) => string;
  stop: () => Promise<void>;
}

export interface RabbitmqFiles {
  enabledPlugins: string;
  config: string;
}

/**
 * A RabbitMQ node of its own (the machine's broker keeps its plugins and config) from these
 * files, its AMQP listener on a free loopback port; resolves once that listener accepts. Its
 * Erlang cookie is in `cookieHome` when given (the nodes of a cluster share one), else its own.
 */
export async function startRabbitmq(
  files: RabbitmqFiles,
  node: { name?: string; cookieHome?: string } = {},
): Promise<RabbitmqNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rabbitmq-"));
  fs.writeFileSync(path.join(dir, "enabled_plugins"), files.enabledPlugins);
  fs.writeFileSync(path.join(dir, "rabbitmq.conf"), files.config);
  const [amqpPort, distPort] = [await freePort(), await freePort()];
  const nodeName = `${node.name ?? `check-${process.pid}-${amqpPort}`}@localhost`;
  const env = {
    ...process.env,
    HOME: node.cookieHome ?? dir,
    RABBITMQ_CONF_ENV_FILE: "/dev/null", // not the machine broker's node name
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_PLUGINS_EXPAND_DIR: path.join(dir, "plugins"),
    ERL_EPMD_ADDRESS: "127.0.0.1",
  };
  // Its own process group: the script and the Erlang VM it starts go together.
  const child = spawn(RABBITMQ_SERVER, [], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A throwaway node: nothing to shut down gracefully.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const ctl = (args: string[]) =>
    execFileSync(RABBITMQCTL, ["-q", "-n", nodeName, ...args], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60000,
    }).trim();
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await accepts(amqpPort)) return { amqpPort, nodeName, env, ctl, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`rabbitmq-server did not start: ${output}`);
}

export interface RabbitmqCluster {
  nodes: RabbitmqNode[];
  /** Stops every node still running and removes their files. */
  stop: () => Promise<void>;
}

/**
 * `size` RabbitMQ nodes started side by side (`cluster-<pid>-a@localhost`, `-b`...), each with its
 * own ports and data directory and one Erlang cookie, then clustered the documented way: each
 * node after the first stops its app, joins the first (`rabbitmqctl join_cluster`) and starts again.
 */
export async function startRabbitmqCluster(size: number, files: RabbitmqFiles): Promise<RabbitmqCluster> {
  const cookieHome = fs.mkdtempSync(path.join(os.tmpdir(), "rabbitmq-cluster-"));
  fs.writeFileSync(path.join(cookieHome, ".erlang.cookie"), randomBytes(20).toString("hex").toUpperCase(), {
    mode: 0o400,
  });
  const names = Array.from({ length: size }, (_, i) => `cluster-${process.pid}-${String.fromCharCode(97 + i)}`);
  const started = await Promise.allSettled(names.map((name) => startRabbitmq(files, { name, cookieHome })));
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    fs.rmSync(cookieHome, { recursive: true, force: true });
  };
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    for (const node of nodes.slice(1)) {
      node.ctl(["stop_app"]);
      node.ctl(["join_cluster", nodes[0].nodeName]);
      node.ctl(["start_app"]);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
