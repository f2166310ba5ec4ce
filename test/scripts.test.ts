// Every npm script, given a user's mistake, ends in one reason and a hint (or its usage line) and a
// non-zero exit, never a stack trace; the scripts that need the Pulumi CLI or Docker say what to
// install before they create anything.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ValidationError } from "../services/problems";
import { UserError, describeFailure } from "../tools/cli";

const projectDir = path.join(__dirname, "..");

/** A PATH with Node.js and the system's tools, plus `extra` first. */
function pathWith(extra: string[] = []): string {
  return [...extra, path.dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(path.delimiter);
}

const onPath = (tool: string, PATH: string) =>
  PATH.split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, tool)));

/** `npm run --silent <script> -- args`, as a user types it: exit code and everything printed. */
function npmRun(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
      cwd: projectDir,
      env: { ...process.env, PLATFORM_DEBUG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** A stand-in `pulumi` that fails the way Pulumi does for a stack that does not exist. */
function pulumiWithoutStacks(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
  const file = path.join(dir, "pulumi");
  fs.writeFileSync(
    file,
    `#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --stack ] && name=$2; shift; done\n` +
      `echo "error: no stack named '$name' found" >&2\nexit 255\n`,
  );
  fs.chmodSync(file, 0o755);
  return dir;
}

const TRACE = /^\s+at .+:\d+:\d+\)?$/m;

interface Mistake {
  script: string;
  args: string[];
  /** The last line(s) the user reads. */
  says: RegExp;
  withPulumi?: boolean;
}

const INSTALL_PULUMI = /'pulumi' is not installed; install the Pulumi CLI: https:\/\/www\.pulumi\.com\/docs\/install\//;
const MISTAKES: Mistake[] = [
  { script: "dev:up", args: [], says: INSTALL_PULUMI },
  { script: "dev:preview", args: [], says: INSTALL_PULUMI },
  { script: "dev:down", args: [], says: INSTALL_PULUMI },
  { script: "health", args: ["nosuch"], says: /^health: 'pulumi' is not installed\n  hint: install the Pulumi CLI/m },
  {
    script: "health",
    args: ["nosuch"],
    withPulumi: true,
    says: /^health: cannot read the outputs of stack 'nosuch': error: no stack named 'nosuch' found\n  hint: deploy the stack first/m,
  },
  { script: "health", args: [], says: /^usage: npm run health -- <stack>/m },
  {
    script: "health",
    args: ["dev", "--outputs", "/nonexistent.json"],
    says: /cannot read \/nonexistent\.json: ENOENT\n  hint:/,
  },
  {
    script: "plan",
    args: ["nosuch"],
    says: /^plan: no stack 'nosuch': Pulumi\.nosuch\.yaml does not exist\n  hint: this project's stacks: .*dev/m,
  },
  {
    script: "map",
    args: ["nosuch"],
    says: /^map: no catalog 'nosuch': neither a built-in catalog nor a file\n  hint: built-in catalogs: bookings, /m,
  },
  {
    script: "map",
    args: ["erp", "--service", "nosuch"],
    says: /^map: catalog erp has no service 'nosuch'\n  hint: its services: auth-service, /m,
  },
  {
    script: "policy:check",
    args: ["nosuch"],
    says: /^policy:check: no stack 'nosuch'.*\n  hint: this project's stacks/m,
  },
  {
    script: "backup",
    args: ["dev", "--outputs", "/nonexistent.json"],
    says: /^backup: cannot read \/nonexistent\.json/m,
  },
  { script: "restore", args: ["dev"], says: /^usage: npm run backup -- <stack>/m },
  {
    script: "dev:smoke",
    args: ["--stack", "nosuch"],
    says: /^FAIL smoke: no stack 'nosuch'.* — hint: this project's stacks/m,
  },
  { script: "dump", args: ["/dev/null/dump"], says: /^dump: ENOTDIR.*\n  hint: check the path \/dev\/null\/dump/m },
];

describe("npm scripts on a user's mistake", function () {
  this.timeout(120000);
  const passphrase = path.join(projectDir, ".pulumi-state", "passphrase");
  let results: Array<{ code: number | null; output: string }>;
  let hadPassphrase: boolean;

  before(async function () {
    if (onPath("pulumi", pathWith())) {
      console.log("    (skipped: a Pulumi CLI is installed system-wide, so its absence cannot be shown)");
      return this.skip();
    }
    hadPassphrase = fs.existsSync(passphrase);
    const fake = pulumiWithoutStacks();
    // Two at a time: each is an npm and a Node.js process.
    results = [];
    for (let i = 0; i < MISTAKES.length; i += 2) {
      results.push(
        ...(await Promise.all(
          MISTAKES.slice(i, i + 2).map((m) =>
            npmRun(
              m.script,
              m.args,
              // With a CLI the script gets as far as the passphrase: the user's, not one generated here.
              m.withPulumi ? { PATH: pathWith([fake]), PULUMI_CONFIG_PASSPHRASE: "test-only" } : { PATH: pathWith() },
            ),
          ),
        )),
      );
    }
  });

  MISTAKES.forEach((mistake, i) => {
    it(`${mistake.script} ${mistake.args.join(" ")}${mistake.withPulumi ? " (Pulumi installed)" : ""}: ${mistake.says.source.slice(0, 60)}`, () => {
      const { code, output } = results[i];
      assert.notEqual(code, 0, output);
      assert.match(output, mistake.says);
      assert.doesNotMatch(output, TRACE, "no stack trace");
    });
  });

  it("covers every script a user runs against a stack or a machine", () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")).scripts);
    // Development commands whose failures are the tools' own reports (tsc, mocha, prettier, the bench's rows).
    const development = [
      "postinstall",
      "typecheck",
      "test",
      "test:unit",
      "format",
      "format:check",
      "bench",
      "docs:figures",
      "lint:workflows",
    ];
    const covered = new Set(MISTAKES.map((m) => m.script));
    assert.deepEqual(
      scripts.filter((s) => !development.includes(s) && !covered.has(s)),
      [],
    );
  });

  it("creates no passphrase file when the Pulumi CLI is missing", () => {
    if (!hadPassphrase) assert.ok(!fs.existsSync(passphrase), passphrase);
  });
});

describe("a failing command's last words", () => {
  it("are the reason and the hint for a user's mistake, the program's report for bad input, and no trace for a bug unless asked", () => {
    const lifecycle = process.env.npm_lifecycle_event;
    process.env.npm_lifecycle_event = "health";
    try {
      assert.deepEqual(describeFailure(new UserError("no stack 'x'", "run npm run dev:up")), {
        text: "health: no stack 'x'\n  hint: run npm run dev:up",
        exitCode: 2,
      });
    } finally {
      process.env.npm_lifecycle_event = lifecycle;
    }
    const report = describeFailure(
      new ValidationError("stack 'dev' configuration", [{ path: "platform:x", message: "bad", severity: "error" }]),
    );
    assert.match(report.text, /stack 'dev' configuration is invalid \(1 problem\(s\)\):\n  - platform:x: bad$/);
    assert.equal(report.exitCode, 2);
    const bug = describeFailure(new TypeError("cannot read properties of undefined"));
    assert.doesNotMatch(bug.text, TRACE);
    assert.match(bug.text, /hint: an error of the tool itself; PLATFORM_DEBUG=1 prints its stack trace$/);
    assert.equal(bug.exitCode, 1);
  });
});
