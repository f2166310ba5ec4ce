import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { Catalog, CatalogSchema, buildDockerfile } from "./schema";
import { Problem, ValidationError, error, isError, reservedKeyProblems, zodProblems } from "./problems";
import { validateCatalog } from "./validate";

/** The seed systems, shipped as catalogs in services/catalogs/<name>.yaml. */
export const BUILTIN_CATALOGS = ["bookings", "erp", "finance", "reservei", "user-enrichment"] as const;
export type BuiltinCatalog = (typeof BUILTIN_CATALOGS)[number];

export function builtinCatalogPath(name: BuiltinCatalog): string {
  return path.join(__dirname, "catalogs", `${name}.yaml`);
}

export interface ParsedCatalog {
  catalog?: Catalog;
  problems: Problem[];
}

/** Schema and cross-service rules over a YAML document; problems are prefixed with `prefix`. */
export function parseCatalog(yamlText: string, prefix = ""): ParsedCatalog {
  let document: unknown;
  try {
    document = parseYaml(yamlText, { prettyErrors: true, merge: true });
  } catch (e) {
    return { problems: [error(prefix || "(catalog)", `is not valid YAML: ${(e as Error).message}`)] };
  }
  const reserved = reservedKeyProblems(document, prefix);
  const parsed = CatalogSchema.safeParse(document);
  if (!parsed.success) return { problems: [...reserved, ...zodProblems(parsed.error, prefix)] };
  if (reserved.length > 0) return { problems: reserved };
  const problems = validateCatalog(parsed.data).map((p) => ({ ...p, path: prefix ? `${prefix}.${p.path}` : p.path }));
  return { catalog: problems.some(isError) ? undefined : parsed.data, problems };
}

export function readCatalogFile(file: string, prefix = ""): ParsedCatalog {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return {
      problems: [
        error(prefix || file, `cannot read catalog file '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`),
      ],
    };
  }
  const parsed = parseCatalog(text, prefix);
  // A build context (and the front end's assets) is relative to the catalog file that names it.
  parsed.catalog?.services.forEach((service) => {
    if (service.build) service.build.context = path.resolve(path.dirname(file), service.build.context);
  });
  const frontend = parsed.catalog?.frontend;
  if (frontend?.assetsDir) frontend.assetsDir = path.resolve(path.dirname(file), frontend.assetsDir);
  const missing = missingDockerfiles(parsed.catalog, prefix);
  if (missing.length === 0) return parsed;
  return { problems: [...parsed.problems, ...missing] };
}

/** A build whose Dockerfile is not there would fail in the middle of `pulumi up`: named here instead. */
function missingDockerfiles(catalog: Catalog | undefined, prefix: string): Problem[] {
  return (catalog?.services ?? []).flatMap((service, i) => {
    if (!service.build) return [];
    const dockerfile = buildDockerfile(service.build);
    if (fs.existsSync(dockerfile)) return [];
    const field = `${prefix ? `${prefix}.` : ""}services[${i}].build`;
    return [error(field, `no Dockerfile at ${dockerfile} (context relative to the catalog file)`)];
  });
}

/** For tools and tests: a catalog or one ValidationError listing every problem. */
export function loadCatalog(file: string): Catalog {
  const { catalog, problems } = readCatalogFile(file);
  if (!catalog) throw new ValidationError(`catalog ${file}`, problems);
  return catalog;
}
