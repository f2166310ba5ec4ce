/**
 * Pulumi's SDK records a stack trace on every promise it makes for a resource (four per output
 * property) so that PULUMI_DEBUG_PROMISE_LEAKS can say where a leaked promise came from. Under
 * ts-node or tsx every trace is source-mapped, and formatting them was two thirds of the prod
 * program's run (bench/RESULTS.md). Unless leak debugging is on, those promises get a trace
 * without frames; thrown errors and resource source positions keep their source-mapped traces.
 *
 * `runtime/debuggable` is internal to the SDK: if its shape changes, this does nothing.
 */
export function skipPromiseStackTraces(): void {
  const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise?: (...args: unknown[]) => unknown;
    debugPromiseLeaks?: boolean;
  };
  const record = debuggable.debuggablePromise;
  if (
    typeof record !== "function" ||
    debuggable.debugPromiseLeaks ||
    (record as { framesSkipped?: boolean }).framesSkipped
  )
    return;
  const withoutFrames = (...args: unknown[]): unknown => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return record(...args);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  debuggable.debuggablePromise = Object.assign(withoutFrames, { framesSkipped: true });
}
