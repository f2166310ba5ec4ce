import * as path from "path";
import { ValidationError } from "../services/problems";

/** A mistake the user can fix (a stack that does not exist, a missing file): one line and a hint, no trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** The npm script's name (`health`), or the tool's file when it was started directly. */
function commandName(): string {
  return process.env.npm_lifecycle_event ?? path.basename(process.argv[1] ?? "tool", ".ts");
}

/** What a failed command prints: the reason and a hint; a trace only for our own bugs, and only when asked. */
export function describeFailure(error: unknown): { text: string; exitCode: number } {
  const name = commandName();
  if (error instanceof UserError) return { text: `${name}: ${error.message}\n  hint: ${error.hint}`, exitCode: 2 };
  // The program's own report: every problem by field, already written for the user.
  if (error instanceof ValidationError) return { text: `${name}: ${error.message}`, exitCode: 2 };
  const failedCall = error as NodeJS.ErrnoException;
  if (failedCall?.syscall && failedCall.path) {
    return {
      text: `${name}: ${failedCall.message}\n  hint: check the path ${failedCall.path} and its permissions`,
      exitCode: 2,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const trace = process.env.PLATFORM_DEBUG && error instanceof Error ? `\n${error.stack}` : "";
  return {
    text: `${name}: ${message.split("\n")[0]}\n  hint: an error of the tool itself; PLATFORM_DEBUG=1 prints its stack trace${trace}`,
    exitCode: 1,
  };
}

/** Runs a command's main and exits with its code; a failure ends in one reason and a hint. */
export function runCli(main: () => Promise<number> | number): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code),
      (error: unknown) => {
        const { text, exitCode } = describeFailure(error);
        console.error(text);
        process.exit(exitCode);
      },
    );
}
