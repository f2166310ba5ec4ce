// One measurement in a fresh process: evaluate the program under mocks for the stacks in a JSON
// file (bench/rows.ts), then report what it declared, its CPU time and peak memory (the parent
// times the whole process). `--record <file>` also writes the declared resources for sdkFloor.ts.
import * as fs from "fs";
import * as path from "path";
import { MockRun, runLayersUnderMocks, runUnderMocks } from "../tools/mockRun";
import { StackOutputs, runProgram } from "../stacks/program";
import type { BenchStack } from "./rows";
import { report, writeRecording } from "./report";

async function main(): Promise<void> {
  const [stacksFile, flag, recordFile] = process.argv.slice(2);
  const stacks = JSON.parse(fs.readFileSync(stacksFile, "utf8")) as BenchStack[];
  const program = () => runProgram(path.join(__dirname, ".."));
  // Prod is two stacks: the infrastructure layer, then the platform layer reading its outputs.
  const run: MockRun<StackOutputs> =
    stacks.length === 2
      ? await runLayersUnderMocks(stacks, program)
      : await runUnderMocks(stacks[0].stack, stacks[0].config, program);
  if (flag === "--record") writeRecording(recordFile, run.resources);
  report(run.resources.length);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
