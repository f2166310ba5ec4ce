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

  /** Runs a script in a fresh node started as the language host starts it, and returns what it printed. */
  const underLoader = (script: string) =>
    execFileSync(process.execPath, [...nodeArgs, "-e", script], { cwd: root, encoding: "utf8" }).trim();

  it("hands the TypeScript to the project's loader instead of Pulumi's built-in ts-node", () => {
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.runtime.options.typescript, false);
    const loader = nodeArgs[nodeArgs.indexOf("--require") + 1];
    assert.ok(loader?.startsWith("./"), "nodeargs requires a file of the project, relative to the project directory");
    assert.ok(fs.existsSync(path.join(root, loader)), `${loader} exists`);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    assert.ok(manifest.dependencies.tsx, "tsx, whose esbuild the loader uses, is installed wherever pulumi up runs");
    assert.ok(fs.existsSync(path.join(root, manifest.main)), "package.json main is the program Pulumi loads");
  });

  it("maps traces to the .ts lines, without reading the source maps of node_modules", () => {
    const out = underLoader(`
      const { findSourceMap } = require("module");
      let trace = "";
      try { require("./stacks/config.ts").readPlatformConfig(() => undefined, "x", "."); } catch (e) { trace = e.stack; }
      console.log(JSON.stringify({
        trace,
        projectMap: findSourceMap(require.resolve("./stacks/config.ts")) !== undefined,
        sdkMap: findSourceMap(require.resolve("@pulumi/pulumi/runtime/rpc.js")) !== undefined,
      }));`);
    const { trace, projectMap, sdkMap } = JSON.parse(out);
    const throwLine = fs
      .readFileSync(path.join(root, "stacks", "config.ts"), "utf8")
      .split("\n")
      .findIndex((line) => line.includes("throw new ValidationError"));
    assert.match(trace, new RegExp(`stacks/config\\.ts:${throwLine + 1}:`), "the frame names the line that throws");
    assert.deepEqual({ projectMap, sdkMap }, { projectMap: true, sdkMap: false });
  });

  it("transpiles a file once: the next run takes it from the cache without starting esbuild", () => {
    const esbuildLoaded =
      'require("./stacks/program.ts"); console.log(Object.keys(require.cache).some((f) => f.includes("esbuild")))';
    underLoader(esbuildLoaded);
    assert.equal(underLoader(esbuildLoaded), "false");
  });

  it("loads the program's modules through that loader the way the language host starts node", () => {
    assert.equal(underLoader("console.log(typeof require('./stacks/program.ts').runProgram)"), "function");
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
