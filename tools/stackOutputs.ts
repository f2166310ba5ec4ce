import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { UserError } from "./cli";

/**
 * A stack's outputs: from a file (saved `pulumi stack output --json`), or asked of Pulumi through
 * this checkout's local backend. Secrets are shown only when asked for.
 */
export function readStackOutputs(
  stack: string,
  file: string | undefined,
  showSecrets = false,
): Record<string, unknown> {
  if (file) return readOutputsFile(file);
  const script = path.join(__dirname, "..", "scripts", "local-pulumi.sh");
  const args = ["stack", "output", "--json", "--stack", stack, ...(showSecrets ? ["--show-secrets"] : [])];
  try {
    return JSON.parse(execFileSync(script, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  } catch (e) {
    // Pulumi's (or the CLI check's) own words: its last line says what is wrong.
    const said =
      String((e as { stderr?: string }).stderr ?? "")
        .trim()
        .split("\n")
        .pop() ?? "";
    const missingTool = /'([\w-]+)' is not installed; (.*)$/.exec(said);
    if (missingTool) throw new UserError(`'${missingTool[1]}' is not installed`, missingTool[2]);
    throw new UserError(
      `cannot read the outputs of stack '${stack}': ${said || (e as Error).message}`,
      `deploy the stack first (npm run dev:up for dev), or pass --outputs <file> holding 'pulumi stack output --json'`,
    );
  }
}

function readOutputsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      "check the --outputs path",
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${file} is not JSON`, "save it with: pulumi stack output --json --show-secrets > <file>");
  }
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
