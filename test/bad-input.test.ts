// Every case of test/fixtures/bad/ on the dev stack and both prod layers: the program stops with
// one ValidationError naming the expected field, before it declares a single resource.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { RunError } from "@pulumi/pulumi";
import { runProgram } from "../stacks/program";
import { MAX_LISTED_PROBLEMS, ValidationError } from "../services/problems";
import { RecordedResource, runUnderMocks } from "../tools/mockRun";
import { devConfig, prodLayers } from "./helpers/stackConfigs";
import { withCatalogFile } from "./helpers/catalogFiles";

const projectDir = path.join(__dirname, "..");
const fixtures = path.join(__dirname, "fixtures", "bad");

interface BadCase {
  case: string;
  expect: string;
  catalog?: unknown;
  config?: Record<string, unknown>;
  targets?: Array<"dev" | "prod">;
}

/** The stacks a case runs on: dev, and each prod layer on its own (each validates before declaring). */
function stacksOf(
  badCase: BadCase,
  catalogFile: string | undefined,
): Array<{ stack: string; config: Record<string, string> }> {
  const extra = Object.fromEntries(
    Object.entries(badCase.config ?? {}).map(([key, value]) => [`platform:${key}`, JSON.stringify(value)]),
  );
  const withCatalog = (config: Record<string, string>) => {
    if (!catalogFile) return { ...config, ...extra };
    return { ...withCatalogFile(config, catalogFile), ...extra };
  };
  const targets = badCase.targets ?? ["dev", "prod"];
  return [
    ...(targets.includes("dev") ? [{ stack: "dev", config: withCatalog(devConfig("bookings")) }] : []),
    ...(targets.includes("prod")
      ? prodLayers("bookings").map((layer) => ({ stack: layer.stack, config: withCatalog(layer.config) }))
      : []),
  ];
}

/** Runs the program and returns its error's lines with the catalog's temporary path shortened, and what it declared. */
async function failure(stack: string, config: Record<string, string>, catalogFile: string | undefined) {
  let declared: RecordedResource[] = [];
  try {
    declared = (await runUnderMocks(stack, config, () => runProgram(projectDir))).resources;
  } catch (e) {
    assert.ok(e instanceof ValidationError, `${stack}: not a ValidationError: ${e}`);
    // What the CLI's run.js checks to print the message alone, without a stack trace.
    assert.ok(RunError.isInstance(e), `${stack}: not a RunError`);
    const lines = e.problems.map((p) => `${p.path}: ${p.message}`);
    return { lines: catalogFile ? lines.map((l) => l.split(catalogFile).join("catalog.yaml")) : lines, declared };
  }
  assert.fail(`${stack}: declared ${declared.length} resources instead of failing`);
}

describe("bad catalogs and stack configs (test/fixtures/bad)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bad-input-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const file of fs.readdirSync(fixtures).filter((f) => f.endsWith(".yaml"))) {
    const badCase = parse(fs.readFileSync(path.join(fixtures, file), "utf8")) as BadCase;
    it(`${file}: ${badCase.case}`, async () => {
      let catalogFile: string | undefined;
      if (badCase.catalog) {
        fs.writeFileSync(path.join(dir, file), stringify(badCase.catalog));
        catalogFile = path.relative(projectDir, path.join(dir, file));
      }
      for (const { stack, config } of stacksOf(badCase, catalogFile)) {
        const { lines, declared } = await failure(stack, config, catalogFile);
        assert.ok(
          lines.some((line) => line.includes(badCase.expect)),
          `${stack}: expected "${badCase.expect}" among\n${lines.join("\n")}`,
        );
        assert.deepEqual(declared, [], `${stack}: resources declared before the error`);
      }
    });
  }

  it(`lists at most ${MAX_LISTED_PROBLEMS} problems, then how many more`, () => {
    const problems = Array.from({ length: 68_000 }, (_, i) => ({
      path: `services[${i}].port`,
      message: "must be a number",
      severity: "error" as const,
    }));
    const message = new ValidationError("catalog huge", problems).message;
    const lines = message.split("\n");
    assert.equal(lines[0], "catalog huge is invalid (68000 problem(s)):");
    assert.equal(lines.length, 1 + MAX_LISTED_PROBLEMS + 1);
    assert.equal(lines.at(-1), `  ... and ${68_000 - MAX_LISTED_PROBLEMS} more`);
    assert.ok(message.length < 5_000, `${message.length} characters`);
  });
});
