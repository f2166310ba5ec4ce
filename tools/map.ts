// npm run map -- [catalog] [--service <name>]
// The system map of a catalog (tools/catalogMap.ts) as Mermaid text on standard output. The catalog is a
// built-in one's name or a catalog file; without one, the dev stack's. `--service` draws one service's
// neighbourhood. `npm run map -- --comment <file>...` writes instead the Markdown of the pull-request
// comment the workflow posts when catalog files change: each file's map, or why it cannot be drawn.
import * as fs from "fs";
import * as path from "path";
import { BUILTIN_CATALOGS, BuiltinCatalog, builtinCatalogPath, loadCatalog } from "../services/load";
import { ValidationError } from "../services/problems";
import { Catalog } from "../services/schema";
import { catalogMap } from "./catalogMap";
import { UserError, runCli } from "./cli";
import { stackConfig } from "./stackConfig";

const projectDir = path.join(__dirname, "..");

/** Opens the workflow's comment, which it finds by this line to edit it on the next push. */
export const COMMENT_MARKER = "<!-- catalog-map -->";

/**
 * Mermaid's defaults maxTextSize and maxEdges, which GitHub keeps: a larger diagram shows an error
 * instead (https://mermaid.js.org/config/schema-docs/config.html#maxtextsize).
 */
export const MERMAID_MAX_TEXT = 50_000;
export const MERMAID_MAX_EDGES = 500;

/** A built-in catalog's name, or a catalog file's path; without either, the one the dev stack deploys. */
export function catalogFile(name: string | undefined): string {
  if (name === undefined) {
    const config = stackConfig("dev");
    const builtin = config["platform:catalog"];
    return builtin
      ? builtinCatalogPath(builtin as BuiltinCatalog)
      : path.resolve(projectDir, config["platform:catalogFile"]);
  }
  if ((BUILTIN_CATALOGS as readonly string[]).includes(name)) return builtinCatalogPath(name as BuiltinCatalog);
  if (fs.existsSync(name) && fs.statSync(name).isFile()) return path.resolve(name);
  throw new UserError(
    `no catalog '${name}': neither a built-in catalog nor a file`,
    `built-in catalogs: ${BUILTIN_CATALOGS.join(", ")}; or the path of a catalog YAML file`,
  );
}

/** The map of `catalog`, or of one service's neighbourhood when it names one of the catalog's services. */
export function mapOf(catalog: Catalog, service: string | undefined): string {
  if (service !== undefined && !catalog.services.some((s) => s.name === service)) {
    throw new UserError(
      `catalog ${catalog.name} has no service '${service}'`,
      `its services: ${catalog.services.map((s) => s.name).join(", ")}`,
    );
  }
  return catalogMap(catalog, { service });
}

/** GitHub refuses a comment longer than this (the REST API answers 422, "body is too long"). */
export const COMMENT_MAX_CHARS = 65_536;

/** Why GitHub would not draw a map, or undefined when it would. */
export function tooLarge(map: string): string | undefined {
  const edges = map.split("\n").filter((line) => / (-->|-\.->)/.test(line)).length;
  if (map.length <= MERMAID_MAX_TEXT && edges <= MERMAID_MAX_EDGES) return undefined;
  return (
    `${map.length} characters and ${edges} edges, above the ${MERMAID_MAX_TEXT} and ${MERMAID_MAX_EDGES} ` +
    "Mermaid draws by default (GitHub shows an error instead)"
  );
}

/** A changed catalog's part of the comment: its map, or why there is none. */
function commentSection(file: string): string {
  let catalog: Catalog;
  try {
    catalog = loadCatalog(file);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    // The `checks` job fails on it too; the comment says why there is no map.
    return ["No map: the catalog is invalid.", "", "```", e.message, "```"].join("\n");
  }
  const map = catalogMap(catalog);
  const large = tooLarge(map);
  if (large) return `No map: ${large}. \`npm run map -- ${file} --service <name>\` draws one service's neighbourhood.`;
  return ["```mermaid", map, "```"].join("\n");
}

/** The pull-request comment: per changed catalog file, its map, or why it has none; within GitHub's size. */
export function mapComment(files: string[]): string {
  const lines = [
    COMMENT_MARKER,
    "## System map of the changed catalogs",
    "",
    'Drawn by `npm run map` from this pull request\'s catalogs (README, "System map").',
  ];
  let length = lines.join("\n").length;
  for (const file of files) {
    const heading = `\n\n### \`${file}\`\n\n`;
    let section = heading + commentSection(file);
    // Leaves room for the headings still to come, each with its note.
    if (length + section.length > COMMENT_MAX_CHARS - 300 * files.length) {
      section = `${heading}No map: the comment would pass GitHub's ${COMMENT_MAX_CHARS} characters.`;
    }
    length += section.length;
    lines.push(section.slice(1));
  }
  return lines.join("\n");
}

function main(): number {
  const args = process.argv.slice(2);
  if (args[0] === "--comment") {
    console.log(mapComment(args.slice(1)));
    return 0;
  }
  const serviceAt = args.indexOf("--service");
  const service = serviceAt >= 0 ? args[serviceAt + 1] : undefined;
  const positional = args.filter((_, i) => serviceAt < 0 || (i !== serviceAt && i !== serviceAt + 1));
  if (positional.length > 1 || (serviceAt >= 0 && service === undefined) || positional[0]?.startsWith("--")) {
    console.error("usage: npm run map -- [catalog] [--service <name>]   (or --comment <catalog file>...)");
    return 2;
  }
  const map = mapOf(loadCatalog(catalogFile(positional[0])), service);
  console.log(map);
  const large = tooLarge(map);
  if (large) console.error(`map: ${large}\n  hint: draw one service's neighbourhood with --service <name>`);
  return 0;
}

if (require.main === module) runCli(main);
