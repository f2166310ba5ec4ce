import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * A stack's outputs: from a file (saved `pulumi stack output --json`), or asked of Pulumi through
 * this checkout's local backend. Secrets are shown only when asked for.
 */
export function readStackOutputs(
  stack: string,
  file: string | undefined,
  showSecrets = false,
): Record<string, unknown> {
  if (file) return JSON.parse(fs.readFileSync(file, "utf8"));
  const script = path.join(__dirname, "..", "scripts", "local-pulumi.sh");
  const args = ["stack", "output", "--json", "--stack", stack, ...(showSecrets ? ["--show-secrets"] : [])];
  return JSON.parse(execFileSync(script, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
}

/** `--name value` options and the other (positional) arguments of a tool's command line. */
export function parseArgs(args: string[]): { positional: string[]; options: Record<string, string> } {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("--")) options[args[i].slice(2)] = args[++i];
    else positional.push(args[i]);
  }
  return { positional, options };
}
