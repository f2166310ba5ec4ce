// The TypeScript loader `pulumi up` starts the program with (Pulumi.yaml runtime.options.nodeargs).
// JavaScript, because nothing can load TypeScript before it runs.
//
// Only the project's .ts files are transpiled, by the esbuild that tsx ships (no type-checking;
// `npm test` runs tsc). tsx, the tests' loader, also reads every .js file of node_modules looking
// for ESM syntax, and turns on Node's source maps for all of them, so Node reads and parses every
// SDK file's source map: together about 30% of the prod program's run (bench/RESULTS.md).
// Here node_modules loads as plain Node.js loads it; source maps stay on for the project's files,
// so stack traces and resource source positions still name .ts lines. Each transpiled file is
// kept in a cache keyed by everything its output depends on: after the first run, esbuild does
// not even start.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const projectDir = path.join(__dirname, "..");
const esbuildDir = path.dirname(
  require.resolve("esbuild/package.json", { paths: [path.dirname(require.resolve("tsx/package.json"))] }),
);
const esbuildVersion = JSON.parse(fs.readFileSync(path.join(esbuildDir, "package.json"), "utf8")).version;
const tsconfig = fs.readFileSync(path.join(projectDir, "tsconfig.json"), "utf8");
const TRANSFORM = {
  loader: "ts",
  format: "cjs",
  target: `node${process.versions.node}`,
  sourcemap: "inline",
  sourcesContent: false,
};
// Inside the project, not the shared temporary directory, where another user could plant code.
const cacheDir = path.join(projectDir, "node_modules", ".cache", "typescript-loader");

/** The cached output for a file's source, or undefined when there is none yet. */
function cached(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Written under a temporary name first, so that a concurrent run never reads half a file. */
function store(file, code) {
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const partial = `${file}.${process.pid}`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, file);
  } catch {
    // No cache where node_modules is read-only: every run transpiles.
  }
}

function transpiled(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto
    .createHash("sha256")
    .update(JSON.stringify([esbuildVersion, TRANSFORM, tsconfig, filename, source]))
    .digest("hex");
  const file = path.join(cacheDir, `${key}.js`);
  const hit = cached(file);
  if (hit !== undefined) return hit;
  const { code } = require(esbuildDir).transformSync(source, {
    ...TRANSFORM,
    tsconfigRaw: tsconfig,
    sourcefile: filename,
  });
  store(file, code);
  return code;
}

/** Node reads a file's source map when it compiles the file, if source maps are on at that moment. */
function withSourceMaps(enabled, load) {
  const before = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(enabled);
  try {
    load();
  } finally {
    process.setSourceMapsEnabled(before);
  }
}

const loadJavaScript = require.extensions[".js"];
require.extensions[".js"] = (module, filename) => withSourceMaps(false, () => loadJavaScript(module, filename));
require.extensions[".ts"] = (module, filename) =>
  withSourceMaps(true, () => module._compile(transpiled(filename), filename));
// On while the program runs, so that the traces it formats use the maps of the project's files.
process.setSourceMapsEnabled(true);
