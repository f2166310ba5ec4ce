import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { UserError } from "./cli";

const projectDir = path.join(__dirname, "..");

/**
 * A stack's config as the engine would hand it over: the stack file, plus
 * `policies/check-values/<stack>.json` for what only a real account has (certificate ARN,
 * `--secret` values), deep-merged over it.
 */
export function stackConfig(stack: string): Record<string, string> {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const stacks = fs
      .readdirSync(projectDir)
      .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [])
      .join(", ");
    throw new UserError(`no stack '${stack}': Pulumi.${stack}.yaml does not exist`, `this project's stacks: ${stacks}`);
  }
  const stackFile = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const extraFile = path.join(projectDir, "policies", "check-values", `${stack}.json`);
  const extra: Record<string, unknown> = fs.existsSync(extraFile) ? JSON.parse(fs.readFileSync(extraFile, "utf8")) : {};
  const merge = (a: unknown, b: unknown): unknown =>
    a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a)
      ? Object.fromEntries(
          [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, merge((a as any)[k], (b as any)[k])]),
        )
      : (b ?? a);
  const merged = merge(stackFile.config ?? {}, extra) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/**
 * The stacks a stack's program needs under mocks: itself, preceded by its infrastructure stack
 * (`<stack>-infra`) when it is a prod platform layer, whose outputs it reads.
 */
export function stackLayers(
  stack: string,
  config = stackConfig(stack),
): Array<{ stack: string; config: Record<string, string> }> {
  const aws = config["platform:aws"] ? (JSON.parse(config["platform:aws"]) as { layer?: string }) : {};
  if (aws.layer !== "platform") return [{ stack, config }];
  const infrastructure = `${stack}-infra`;
  return [
    { stack: infrastructure, config: stackConfig(infrastructure) },
    { stack, config },
  ];
}
