import type { z } from "zod";

/** One thing wrong with the input, named by its field path (e.g. `services[2].port`). */
export interface Problem {
  path: string;
  message: string;
  severity: "error" | "warning";
}

/** Thrown before any resource is declared: every problem at once, not the first one found. */
export class ValidationError extends Error {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(
      `${source} is invalid (${problems.filter(isError).length} problem(s)):\n` +
        problems
          .filter(isError)
          .map((p) => `  - ${p.path}: ${p.message}`)
          .join("\n"),
    );
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
