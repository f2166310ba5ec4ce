import * as path from "path";
import { runProgram } from "../stacks/program";
import { MockRun, RecordedResource, runLayersUnderMocks, runUnderMocks } from "./mockRun";
import { stackLayers } from "./stackConfig";

/**
 * A stack's program under mocks, with its infrastructure stack first when it is a prod platform
 * layer. `resources` and `result` are the stack's own; `all` holds both layers' resources.
 */
export async function runStack(
  layers: ReturnType<typeof stackLayers>,
): Promise<MockRun<ReturnType<typeof runProgram>> & { all: RecordedResource[] }> {
  const program = () => runProgram(path.join(__dirname, ".."));
  if (layers.length === 1) {
    const run = await runUnderMocks(layers[0].stack, layers[0].config, program);
    return { ...run, all: run.resources };
  }
  const run = await runLayersUnderMocks(layers, program);
  return { ...run.platform, all: run.resources };
}
