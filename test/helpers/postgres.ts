import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, hasBinary, until } from "./servers";

/** The newest PostgreSQL server's binaries Debian installed, or "" without a server. */
const POSTGRES_BIN = fs.existsSync("/usr/lib/postgresql")
  ? path.join("/usr/lib/postgresql", fs.readdirSync("/usr/lib/postgresql").sort().at(-1)!, "bin")
  : "";

/** What a throwaway cluster needs: the server's binaries, psql, and runuser to run them as postgres. */
export function canRunPostgresCluster(): boolean {
  return POSTGRES_BIN !== "" && hasBinary("psql") && hasBinary("runuser");
}

export interface PostgresCluster {
  dir: string;
  port: number;
  /** Runs SQL as the superuser, over the cluster's Unix socket. */
  superuser(sql: string): string;
  stop(): void;
}

/**
 * A PostgreSQL cluster of the test's own on 127.0.0.1: TCP logins authenticate with `hostAuth`.
 * `prepare` writes what the server reads (certificates) into the cluster's directory and returns
 * server settings.
 */
export async function startPostgresCluster(options: {
  hostAuth: "trust" | "scram-sha-256";
  prepare?: (dir: string) => Record<string, string>;
}): Promise<PostgresCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-cluster-"));
  fs.chmodSync(dir, 0o755);
  const settings = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dir,
    password_encryption: "scram-sha-256",
    ...options.prepare?.(dir),
  };
  const data = path.join(dir, "data");
  fs.mkdirSync(data);
  execFileSync("chown", ["-R", "postgres", dir]);
  // PostgreSQL refuses to run as root: the machine's postgres user runs this throwaway cluster.
  const asPostgres = (cmd: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", path.join(POSTGRES_BIN, cmd), ...args], { stdio: "ignore" });
  asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth-local=trust", `--auth-host=${options.hostAuth}`]);
  const port = await freePort();
  const flags = Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
  const server = path.join(POSTGRES_BIN, "postgres");
  const child = spawn("runuser", ["-u", "postgres", "--", server, "-D", data, "-p", String(port), ...flags], {
    stdio: "ignore",
  });
  const stop = () => {
    child.kill("SIGINT");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  await until(
    "the cluster accepts connections",
    20000,
    () => execFileSync(path.join(POSTGRES_BIN, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)]) && true,
  ).catch((e) => {
    stop();
    throw e;
  });
  const superuser = (sql: string) =>
    execFileSync("psql", ["-h", dir, "-p", String(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-tAqc", sql], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  return { dir, port, superuser, stop };
}

export interface NodePostgres {
  Client: new (
    config:
      | { connectionString: string; connectionTimeoutMillis: number }
      | {
          host: string;
          port: number;
          database: string;
          user: string;
          password: string;
          connectionTimeoutMillis: number;
        },
  ) => {
    connect(): Promise<void>;
    query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
}

/** node-postgres as the reference service installs it; absent until `npm ci --prefix reference-service`. */
export function nodePostgres(): NodePostgres | undefined {
  try {
    return require(path.join(__dirname, "..", "..", "reference-service", "node_modules", "pg"));
  } catch {
    return undefined;
  }
}
