import { createHash } from "crypto";
import { RecordedResource } from "../../tools/mockRun";

/** The SHA-256 of a Secret's data, worked out here on its own: its entries by key, as JSON. */
export function dataHash(data: Record<string, string>): string {
  const entries = Object.keys(data)
    .sort()
    .map((key) => [key, data[key]]);
  return createHash("sha256").update(JSON.stringify(entries)).digest("hex");
}

/** A pod template annotation as it travelled to the engine, secret-wrapped or not. */
export const wireAnnotation = (workload: RecordedResource, key: string): unknown =>
  (workload.wire as any).spec.template.metadata.annotations[key];
