import { RunError } from "@pulumi/pulumi";
import type { z } from "zod";

/** One thing wrong with the input, named by its field path (e.g. `services[2].port`). */
export interface Problem {
  path: string;
  message: string;
  severity: "error" | "warning";
}

/** How many problems an error lists; a broken generated catalog must not print megabytes. */
export const MAX_LISTED_PROBLEMS = 50;

/**
 * Thrown before any resource is declared: every problem at once, not the first one found. A
 * RunError, so the Pulumi CLI prints its message alone, without a stack trace.
 */
export class ValidationError extends RunError {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    const errors = problems.filter(isError);
    const listed = errors.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  - ${p.path}: ${p.message}`);
    if (errors.length > MAX_LISTED_PROBLEMS) listed.push(`  ... and ${errors.length - MAX_LISTED_PROBLEMS} more`);
    super(`${source} is invalid (${errors.length} problem(s)):\n${listed.join("\n")}`);
    this.name = "ValidationError";
  }
}

export function isError(problem: Problem): boolean {
  return problem.severity === "error";
}

export function error(path: string, message: string): Problem {
  return { path, message, severity: "error" };
}

export function warning(path: string, message: string): Problem {
  return { path, message, severity: "warning" };
}

/** `services[2].events.consumes[0].name` from a zod issue path. */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(root)";
}

export function zodProblems(zodError: z.ZodError, prefix = ""): Problem[] {
  return zodError.issues.map((issue) => error(formatPath(issue.path, prefix), issue.message));
}

/** Keys a parser keeps but an object literal cannot hold safely: schemas drop them without a word. */
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Every reserved key anywhere in a parsed document, named by its path. */
export function reservedKeyProblems(value: unknown, prefix: string): Problem[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => reservedKeyProblems(item, `${prefix}[${i}]`));
  if (!value || typeof value !== "object") return [];
  return Object.keys(value).flatMap((key) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (RESERVED_KEYS.has(key)) return [error(path, "is a reserved name and cannot be used as a key")];
    return reservedKeyProblems((value as Record<string, unknown>)[key], path);
  });
}

/** The candidate closest to a mistyped name (case, a letter or two), if one is close enough to suggest. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const scored = candidates.map((candidate) => ({
    candidate,
    distance: editDistance(name.toLowerCase(), candidate.toLowerCase()),
  }));
  const best = scored.sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= Math.max(1, Math.floor(best.candidate.length / 4)) ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
