// npm run backup -- <stack> [--dir backups] [--outputs file.json]
// npm run restore -- <stack> <backup folder> [--outputs file.json]
// Dumps every service's PostgreSQL database of a dev stack through its published loopback port
// with pg_dump (custom format), and restores such a folder with pg_restore.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs, readStackOutputs } from "./stackOutputs";
import { runCli } from "./cli";

export interface DatabaseTarget {
  service: string;
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
}

export interface BackupManifest {
  stack: string;
  createdAt: string;
  /** service -> dump file, relative to the folder. */
  dumps: Record<string, string>;
  /** Services whose database pg_dump cannot dump (MongoDB, ClickHouse), with why. */
  skipped: Record<string, string>;
}

const MANIFEST = "manifest.json";

/** The PostgreSQL databases among the stack output `connectionStrings`; the others, with why they are left out. */
export function databaseTargets(connectionStrings: Record<string, { database?: string }>): {
  targets: DatabaseTarget[];
  skipped: Record<string, string>;
} {
  const targets: DatabaseTarget[] = [];
  const skipped: Record<string, string> = {};
  for (const [service, { database }] of Object.entries(connectionStrings)) {
    if (!database) continue;
    const url = new URL(database);
    if (url.protocol !== "postgresql:") {
      skipped[service] = `${url.protocol.slice(0, -1)} is not PostgreSQL; use its own dump tool`;
      continue;
    }
    targets.push({
      service,
      host: url.hostname,
      port: url.port || "5432",
      database: decodeURIComponent(url.pathname.slice(1)),
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    });
  }
  return { targets, skipped };
}

/**
 * Runs a PostgreSQL client tool against one database. The password goes through PGPASSWORD,
 * never the command line (where `ps` would show it). PG_BIN picks the tools of another
 * PostgreSQL version (pg_dump refuses servers newer than itself).
 */
function runPgTool(tool: "pg_dump" | "pg_restore", target: DatabaseTarget, args: string[]): void {
  const binary = process.env.PG_BIN ? path.join(process.env.PG_BIN, tool) : tool;
  execFileSync(
    binary,
    ["--host", target.host, "--port", target.port, "--username", target.username, "--no-password", ...args],
    {
      env: { ...process.env, PGPASSWORD: target.password, PGSSLMODE: "disable" },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
}

export function backup(
  stack: string,
  connectionStrings: Record<string, { database?: string }>,
  parent: string,
  now = new Date(),
): { folder: string; manifest: BackupManifest } {
  const { targets, skipped } = databaseTargets(connectionStrings);
  const folder = path.join(parent, `${stack}-${now.toISOString().replace(/[:.]/g, "-")}`);
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const manifest: BackupManifest = { stack, createdAt: now.toISOString(), dumps: {}, skipped };
  for (const target of targets) {
    const file = `${target.service}.dump`;
    runPgTool("pg_dump", target, [
      "--format=custom",
      "--no-owner",
      "--file",
      path.join(folder, file),
      "--dbname",
      target.database,
    ]);
    manifest.dumps[target.service] = file;
  }
  fs.writeFileSync(path.join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { folder, manifest };
}

/** Replaces each service's database content with its dump; every dump must belong to a service of the stack. */
export function restore(
  stack: string,
  connectionStrings: Record<string, { database?: string }>,
  folder: string,
): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(folder, MANIFEST), "utf8")) as BackupManifest;
  const { targets } = databaseTargets(connectionStrings);
  const byService = new Map(targets.map((t) => [t.service, t]));
  const unknown = Object.keys(manifest.dumps).filter((service) => !byService.has(service));
  if (unknown.length > 0)
    throw new Error(
      `stack '${stack}' has no PostgreSQL database for ${unknown.join(", ")} (backup of stack '${manifest.stack}')`,
    );
  for (const [service, file] of Object.entries(manifest.dumps)) {
    const target = byService.get(service)!;
    runPgTool("pg_restore", target, [
      "--clean",
      "--if-exists",
      "--no-owner",
      "--single-transaction",
      "--dbname",
      target.database,
      path.join(folder, file),
    ]);
  }
  return Object.keys(manifest.dumps);
}

function main(): number {
  const [command, ...rest] = process.argv.slice(2);
  const {
    positional: [stack, folder],
    options,
  } = parseArgs(rest);
  if (!stack || (command === "restore" && !folder) || !["backup", "restore"].includes(command)) {
    console.error("usage: npm run backup -- <stack> [--dir backups]   |   npm run restore -- <stack> <backup folder>");
    return 2;
  }
  const connectionStrings = readStackOutputs(stack, options.outputs, true).connectionStrings as
    Record<string, { database?: string }> | undefined;
  if (!connectionStrings) {
    console.error(`stack '${stack}' has no connectionStrings output (a dev stack after pulumi up has)`);
    return 2;
  }
  if (command === "backup") {
    const { folder: written, manifest } = backup(stack, connectionStrings, options.dir ?? "backups");
    for (const [service, why] of Object.entries(manifest.skipped)) console.log(`skipped ${service}: ${why}`);
    console.log(`${Object.keys(manifest.dumps).length} database(s) dumped to ${written}`);
  } else {
    const restored = restore(stack, connectionStrings, folder);
    console.log(`${restored.length} database(s) restored from ${folder}: ${restored.join(", ")}`);
  }
  return 0;
}

if (require.main === module) runCli(main);
