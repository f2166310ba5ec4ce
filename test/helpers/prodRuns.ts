import * as path from "path";
import { runProgram, StackOutputs } from "../../stacks/program";
import { LayeredRun, runLayersUnderMocks } from "../../tools/mockRun";
import { prodLayers } from "./stackConfigs";

const runs = new Map<string, Promise<LayeredRun<StackOutputs>>>();

/**
 * Both prod layers of a built-in catalog with the test settings (prodLayers), run under mocks once
 * per test process and shared by the files that only read them.
 */
export function seedProdRun(catalog: string): Promise<LayeredRun<StackOutputs>> {
  if (!runs.has(catalog)) {
    runs.set(
      catalog,
      runLayersUnderMocks(prodLayers(catalog), () => runProgram(path.join(__dirname, "..", ".."))),
    );
  }
  return runs.get(catalog)!;
}
