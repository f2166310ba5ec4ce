// What each measured child process reports to bench/run.ts, and the resources a program run
// declared, recorded for the SDK floor (sdkFloor.ts).
import * as fs from "fs";
import type { RecordedResource } from "../tools/mockRun";

/** The last line a measured child prints: its own CPU time and peak memory, and how much it declared. */
export interface ChildReport {
  resources: number;
  cpuMs: number;
  maxRssMiB: number;
}

export function report(resources: number): void {
  const cpu = process.cpuUsage();
  const line: ChildReport = {
    resources,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(line));
}

/** What the SDK floor declares again: each resource's stack, type, name, place in the tree and inputs. */
export type Declaration = Pick<
  RecordedResource,
  "stack" | "type" | "name" | "urn" | "parent" | "custom" | "provider" | "inputs"
>;

export function writeRecording(file: string, resources: RecordedResource[]): void {
  const declarations: Declaration[] = resources.map(({ stack, type, name, urn, parent, custom, provider, inputs }) => ({
    stack,
    type,
    name,
    urn,
    parent,
    custom,
    provider,
    inputs,
  }));
  fs.writeFileSync(file, JSON.stringify(declarations));
}
