import { strict as assert } from "assert";
import * as path from "path";
import { readPlatformConfig } from "../stacks/config";
import { builtinCatalogPath } from "../services/load";
import { BenchTarget, SIZES, benchStacks, generatedCatalog } from "../bench/rows";
import { writeCatalog } from "./helpers/catalogFiles";

const projectDir = path.join(__dirname, "..");

/** A bench row's stacks read as the program reads them: throws the ValidationError the child would. */
function readStacks(target: BenchTarget, catalogFile: string): void {
  for (const { stack, config } of benchStacks(target, catalogFile)) {
    readPlatformConfig((key) => config[key], stack, projectDir, Object.keys(config));
  }
}

describe("bench rows", () => {
  for (const target of ["docker", "aws"] as const) {
    it(`${target}: the stack config of every generated size passes the program's config checks`, () => {
      for (const n of SIZES) readStacks(target, writeCatalog(generatedCatalog(n)));
    });
  }

  it("aws: the largest seed catalog's two layers pass them too, config secrets set", () => {
    const stacks = benchStacks("aws", builtinCatalogPath("reservei"));
    assert.deepEqual(
      stacks.map((s) => [s.stack, JSON.parse(s.config["platform:aws"]).layer]),
      [
        ["bench-infra", "infrastructure"],
        ["bench", "platform"],
      ],
    );
    readStacks("aws", builtinCatalogPath("reservei"));
  });
});
