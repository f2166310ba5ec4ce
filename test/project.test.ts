import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { skipPromiseStackTraces } from "../stacks/promiseTraces";

const root = path.join(__dirname, "..");

describe("Pulumi project file", () => {
  const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
  const nodeArgs: string[] = String(project.runtime.options.nodeargs).split(/\s+/);

  it("hands the TypeScript to an installed loader instead of Pulumi's built-in ts-node", () => {
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.runtime.options.typescript, false);
    const loader = nodeArgs[nodeArgs.indexOf("--require") + 1];
    assert.ok(loader, "nodeargs names a --require loader");
    const packageName = loader.split("/")[0];
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    assert.ok(
      manifest.dependencies[packageName],
      `${packageName} is a runtime dependency, installed wherever pulumi up runs`,
    );
    assert.ok(fs.existsSync(path.join(root, manifest.main)), "package.json main is the program Pulumi loads");
  });

  it("loads the program's modules through that loader the way the language host starts node", () => {
    const out = execFileSync(
      process.execPath,
      [...nodeArgs, "-e", "console.log(typeof require('./stacks/program.ts').runProgram)"],
      { cwd: root, encoding: "utf8" },
    );
    assert.equal(out.trim(), "function");
  });
});

describe("promise stack traces", () => {
  it("records SDK promises without frames while thrown errors keep theirs", () => {
    skipPromiseStackTraces();
    const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable");
    const recorded: Promise<number> & { _debugStackTrace?: string } = Promise.resolve(1);
    debuggablePromise(recorded, "test");
    assert.equal(recorded._debugStackTrace, "Error", "no frames formatted for the leak diagnostics");
    assert.match(new Error("boom").stack ?? "", /\n\s+at /, "ordinary errors still have a stack");
  });
});
