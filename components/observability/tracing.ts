/**
 * Jaeger all-in-one keeps traces in memory: without a bound it grows until the kernel kills it and every
 * trace is lost. These size the bound from the memory the container is given, on both targets.
 */

const MIB = 1024 ** 2;

/** Jaeger's admin server: health at `/` (200 once ready), Prometheus metrics at `/metrics`. */
export const JAEGER_ADMIN_PORT = 14269;

/** What one trace is taken to hold in Jaeger's memory store: some 20 spans with their tags, and the indexes. */
export const TRACE_KIB = 32;
/** The share of Jaeger's memory limit the traces may fill; the rest is the process (receivers, query, Go runtime). */
export const TRACES_SHARE = 0.5;
/** Where Go's garbage collector starts working harder (GOMEMLIMIT), short of the container's limit. */
const GO_MEMORY_SHARE = 0.9;
/** Below this all-in-one does not start reliably. */
export const MIN_JAEGER_MEMORY_BYTES = 128 * MIB;

/** How many traces of TRACE_KIB fit in their share of `memoryBytes`. */
export function tracesThatFit(memoryBytes: number): number {
  return Math.floor((memoryBytes * TRACES_SHARE) / (TRACE_KIB * 1024));
}

/**
 * The env that holds Jaeger to `memoryBytes`: MEMORY_MAX_TRACES (`--memory.max-traces`; the oldest trace
 * goes first) at `maxTraces`, never more than fit, and GOMEMLIMIT so that the heap is collected before it
 * doubles past the limit (Go's default lets it grow to twice what is live).
 */
export function jaegerMemoryEnv(memoryBytes: number, maxTraces?: number): Record<string, string> {
  return {
    MEMORY_MAX_TRACES: String(Math.min(maxTraces ?? Infinity, tracesThatFit(memoryBytes))),
    GOMEMLIMIT: `${Math.floor((memoryBytes * GO_MEMORY_SHARE) / MIB)}MiB`,
  };
}
