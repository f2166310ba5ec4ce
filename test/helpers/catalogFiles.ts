import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { BuiltinCatalog, builtinCatalogPath, readCatalogFile } from "../../services/load";
import { publishedImages } from "./stackConfigs";

/** A built-in catalog as a plain document (merge keys applied), to change and write back. */
export function catalogDocument(name: BuiltinCatalog): any {
  return parse(fs.readFileSync(builtinCatalogPath(name), "utf8"), { merge: true });
}

/** Writes a catalog document into a directory of its own; the file is for `platform:catalogFile`. */
export function writeCatalog(document: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "catalog-")), "catalog.yaml");
  fs.writeFileSync(file, stringify(document));
  return file;
}

/** A stack config that reads `file` instead of its built-in catalog. */
export function withCatalogFile(config: Record<string, string>, file: string): Record<string, string> {
  const result: Record<string, string> = { ...config, "platform:catalogFile": file };
  delete result["platform:catalog"];
  return result;
}

/**
 * Stack layers that read `file` instead of their built-in catalog; a layer that names images runs
 * the file's published ones (a catalog the program refuses keeps them, to be refused for itself).
 */
export function withCatalogFileLayers<L extends { config: Record<string, string> }>(layers: L[], file: string): L[] {
  const { catalog } = readCatalogFile(file);
  return layers.map((layer) => {
    const config = withCatalogFile(layer.config, file);
    if (config["platform:images"] && catalog) config["platform:images"] = JSON.stringify(publishedImages(catalog));
    return { ...layer, config };
  });
}
