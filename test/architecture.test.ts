// Architecture checks: the import direction between layers and the size of functions, read straight from the source
// with the TypeScript parser (no type checker, so the whole tree is checked in well under a second).
//
// Layers, outermost first:
//   index.ts → stacks/ → target folders (components/docker, components/aws)
//            → shared areas (every other components/<area>/ folder and the files directly in components/)
//   services/ is the catalog model (schema, validation, loading) and depends on none of the above.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

interface SourceText {
  path: string; // project-relative, with "/" separators
  text: string;
}

const projectDir = path.join(__dirname, "..");
const TARGET_FOLDERS = ["components/docker", "components/aws"];
const MAX_FUNCTION_LINES = 60;

// ---------------------------------------------------------------------------------------------------------------------
// Reading the tree

/** Every .ts file under the given project folders, as project-relative "/" paths with their text. */
function readTree(folders: string[]): SourceText[] {
  const files: SourceText[] = [];
  const walk = (relDir: string): void => {
    for (const entry of fs.readdirSync(path.join(projectDir, relDir), { withFileTypes: true })) {
      const rel = `${relDir}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== "node_modules") walk(rel);
      else if (entry.isFile() && entry.name.endsWith(".ts")) {
        files.push({ path: rel, text: fs.readFileSync(path.join(projectDir, rel), "utf8") });
      }
    }
  };
  folders.filter((folder) => fs.existsSync(path.join(projectDir, folder))).forEach(walk);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

function parse(file: SourceText): ts.SourceFile {
  // setParentNodes: names of arrow functions are taken from their parent (the variable or property they are bound to).
  return ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

// ---------------------------------------------------------------------------------------------------------------------
// 1. Import direction

/** The module specifiers a file depends on: import/export … from, import x = require(…), require(…) and import(…). */
function importSpecifiers(source: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    const specifier = moduleSpecifierOf(node);
    if (specifier !== undefined) specifiers.push(specifier);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

function moduleSpecifierOf(node: ts.Node): string | undefined {
  let literal: ts.Node | undefined;
  if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal = node.moduleSpecifier;
  else if (ts.isExternalModuleReference(node)) literal = node.expression;
  else if (ts.isCallExpression(node) && isRequireOrDynamicImport(node.expression)) literal = node.arguments[0];
  else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal = node.argument.literal;
  return literal && ts.isStringLiteralLike(literal) ? literal.text : undefined;
}

function isRequireOrDynamicImport(callee: ts.Expression): boolean {
  return callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require");
}

/** A relative specifier as a project-relative path ("" is the project root); undefined for package imports. */
function resolveSpecifier(importer: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  return resolved === "." ? "" : resolved.replace(/\/$/, "");
}

/** True when `file` is `folder` itself (a folder import or index) or lies inside it. */
function isIn(file: string, folder: string): boolean {
  return file === folder || file.startsWith(`${folder}/`);
}

/** index.ts at the project root, imported as "../index", "../index.ts" or "../" (the folder's index). */
function isRootIndex(resolved: string): boolean {
  return resolved === "" || resolved === "index" || resolved === "index.ts" || resolved === "index.js";
}

const targetFolderOf = (file: string): string | undefined => TARGET_FOLDERS.find((folder) => isIn(file, folder));

interface LayerRule {
  why: string;
  /** Whether the rule applies to the importing file. */
  importer: (file: string) => boolean;
  /** Whether the importer may not reach the resolved target. */
  forbids: (importer: string, target: string) => boolean;
}

const LAYER_RULES: LayerRule[] = [
  {
    why: "components must not import stacks/ or index.ts",
    importer: (file) => isIn(file, "components"),
    forbids: (_, target) => isIn(target, "stacks") || isRootIndex(target),
  },
  {
    why: "a target folder must not import another target folder",
    importer: (file) => targetFolderOf(file) !== undefined,
    forbids: (importer, target) => {
      const targetFolder = targetFolderOf(target);
      return targetFolder !== undefined && targetFolder !== targetFolderOf(importer);
    },
  },
  {
    why: "a shared area must not import a target folder",
    importer: (file) => isIn(file, "components") && targetFolderOf(file) === undefined,
    forbids: (_, target) => targetFolderOf(target) !== undefined,
  },
  {
    why: "services/ must not import components/ or stacks/",
    importer: (file) => isIn(file, "services"),
    forbids: (_, target) => isIn(target, "components") || isIn(target, "stacks"),
  },
];

/** Every import that points the wrong way, as "file: specifier (rule)", sorted by file. */
function layerViolations(files: SourceText[]): string[] {
  const violations: string[] = [];
  for (const file of files) {
    for (const specifier of importSpecifiers(parse(file))) {
      const target = resolveSpecifier(file.path, specifier);
      if (target === undefined) continue;
      const broken = LAYER_RULES.find((rule) => rule.importer(file.path) && rule.forbids(file.path, target));
      if (broken) violations.push(`${file.path}: ${specifier} (${broken.why})`);
    }
  }
  return violations.sort();
}

// ---------------------------------------------------------------------------------------------------------------------
// 2. Function size

type FunctionNode =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.AccessorDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression;

function isFunctionNode(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isAccessor(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

/** A readable name: the declared name, Class.member, the variable/property an arrow is bound to, or its callee. */
function functionName(node: FunctionNode, source: ts.SourceFile): string {
  const owner = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : "";
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  if (node.name) return owner + node.name.getText(source);
  const parent = node.parent;
  if (
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) &&
    parent.name
  ) {
    return parent.name.getText(source);
  }
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(source).slice(0, 40)}>`;
  return "<anonymous>";
}

function lineOf(source: ts.SourceFile, position: number): number {
  return source.getLineAndCharacterOfPosition(position).line + 1;
}

/**
 * Every function longer than maxLines, as "file:line name (N lines)", longest first. Nested functions are measured
 * on their own as well, and an outer function's length includes them (it is its text that has to be read).
 */
function longFunctions(files: SourceText[], maxLines: number): string[] {
  const found: Array<{ lines: number; label: string }> = [];
  for (const file of files) {
    const source = parse(file);
    const visit = (node: ts.Node): void => {
      if (isFunctionNode(node) && node.body) {
        const start = lineOf(source, node.getStart(source));
        const lines = lineOf(source, node.getEnd()) - start + 1;
        const label = `${file.path}:${start} ${functionName(node, source)} (${lines} lines)`;
        if (lines > maxLines) found.push({ lines, label });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines || a.label.localeCompare(b.label)).map((entry) => entry.label);
}

// ---------------------------------------------------------------------------------------------------------------------
// 3. Engine ports live in components/engines.ts only

const ENGINES_FILE = "components/engines.ts";

/** HTTPS is a protocol every target uses, not an engine's own port. */
const PROTOCOL_PORTS = [443];

/** Every port the engine table defines, read from its source so the check follows the table. */
function enginePorts(engines: SourceText): number[] {
  const ports = new Set<number>();
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAssignment(node) && /port$/i.test(node.name.getText()) && ts.isNumericLiteral(node.initializer)) {
      ports.add(Number(node.initializer.text));
    }
    ts.forEachChild(node, visit);
  };
  visit(parse(engines));
  return [...ports].filter((port) => !PROTOCOL_PORTS.includes(port)).sort((a, b) => a - b);
}

/** Numbers and `:port` in strings that repeat an engine port outside the engine table. */
function enginePortLiterals(files: SourceText[], ports: number[]): string[] {
  const found: string[] = [];
  const inText = new RegExp(`:(${ports.join("|")})\\b`);
  for (const file of files.filter((f) => f.path !== ENGINES_FILE)) {
    const source = parse(file);
    const visit = (node: ts.Node): void => {
      const line = () => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      if (ts.isNumericLiteral(node) && ports.includes(Number(node.text)))
        found.push(`${file.path}:${line()} ${node.text}`);
      // Plain strings, and each piece of a template between its substitutions.
      if ((ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) && inText.test(node.text)) {
        found.push(`${file.path}:${line()} ${JSON.stringify(node.text)}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------------

const listing = (title: string, lines: string[]): string => `${title} (${lines.length}):\n  ${lines.join("\n  ")}`;

/** Fails with every offender listed one a line (a deepEqual against [] would print the same list twice). */
function assertNone(title: string, offenders: string[]): void {
  if (offenders.length > 0) assert.fail(listing(title, offenders));
}

describe("architecture", () => {
  describe("import direction", () => {
    it("components, stacks and services only import inward", () => {
      const violations = layerViolations(readTree(["components", "stacks", "services"]));
      assertNone("Imports against the layering", violations);
    });

    it("reports an import from a wrong layer (the checker can fail)", () => {
      const violations = layerViolations([
        { path: "components/docker/X.ts", text: `import { config } from "../../stacks/config";` },
        {
          path: "components/data/Y.ts",
          text: `export { z } from "../aws/Z";\nimport * as pulumi from "@pulumi/pulumi";`,
        },
        { path: "components/aws/Q.ts", text: `const r = require("../docker/redisConfig");` },
        { path: "services/S.ts", text: `import type { Platform } from "../components/platform";` },
        // Allowed: a target uses a shared area and its own folder, a shared area uses another one.
        { path: "components/docker/Ok.ts", text: `import { a } from "../data/databasePlan";\nimport "./redisConfig";` },
        { path: "components/messaging/Ok.ts", text: `import { b } from "../observability/logsConfig";` },
      ]);
      assert.deepEqual(
        violations.map((violation) => violation.replace(/ \(.*\)$/, "")),
        [
          "components/aws/Q.ts: ../docker/redisConfig",
          "components/data/Y.ts: ../aws/Z",
          "components/docker/X.ts: ../../stacks/config",
          "services/S.ts: ../components/platform",
        ],
        listing("Reported", violations),
      );
    });
  });

  describe("engine ports", () => {
    const engines = readTree(["components"]).find((f) => f.path === ENGINES_FILE)!;

    it("are written once, in the engine table", () => {
      const ports = enginePorts(engines);
      assert.ok(ports.includes(5432) && ports.includes(6379), `engine ports read from the table: ${ports.join(", ")}`);
      assertNone(
        "Engine ports outside components/engines.ts",
        enginePortLiterals(readTree(["components", "stacks"]), ports),
      );
    });

    it("reports a port number or a host:port string outside the table (the checker can fail)", () => {
      const found = enginePortLiterals(
        [{ path: "components/aws/X.ts", text: "const a = 5432;\nconst b = `redis://${host}:6379/0`;\nconst c = 80;" }],
        [5432, 6379],
      );
      // The template's piece after `${host}` is ":6379/0".
      assert.deepEqual(found, ["components/aws/X.ts:1 5432", 'components/aws/X.ts:2 ":6379/0"']);
    });
  });

  describe("function size", () => {
    it(`no function in components/ or stacks/ spans more than ${MAX_FUNCTION_LINES} lines`, () => {
      const offenders = longFunctions(readTree(["components", "stacks"]), MAX_FUNCTION_LINES);
      assertNone(`Functions over ${MAX_FUNCTION_LINES} lines`, offenders);
    });

    it("reports a 61-line function and accepts a 60-line one (the checker can fail)", () => {
      // A function of n lines: the opening line, n - 2 body lines and the closing brace.
      const fn = (name: string, n: number): string =>
        [`function ${name}() {`, ...Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`), "}"].join("\n");
      const text = `${fn("sixty", 60)}\n\nexport const outer = () => {\n${fn("sixtyOne", 61)}\n};\n`;
      assert.deepEqual(longFunctions([{ path: "components/Fake.ts", text }], 60), [
        "components/Fake.ts:62 outer (63 lines)",
        "components/Fake.ts:63 sixtyOne (61 lines)",
      ]);
    });
  });
});
