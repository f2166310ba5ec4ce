import { isSpanContextValid, trace } from "@opentelemetry/api";
import pino from "pino";

/**
 * JSON lines on stdout with `level`, `time`, `msg` and `service`. A line written while a span is
 * active (a request, a message) carries its `trace_id` and `span_id`, which Grafana turns into a
 * link to the trace.
 */
export function createLogger(service: string): pino.Logger {
  return pino({
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Label, not pino's number: Loki and people filter on `level="error"`.
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
    },
  });
}

export type Logger = pino.Logger;
