import { context, propagation, Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

let provider: NodeTracerProvider | undefined;

/**
 * Traces over OTLP/HTTP protobuf (the contract's OTEL_EXPORTER_OTLP_PROTOCOL is always
 * `http/protobuf`). The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and posts to
 * `{endpoint}/v1/traces`; register() installs the AsyncLocalStorage context manager (the active
 * span follows awaits, so log lines find it) and the W3C trace-context propagator.
 */
export function startTracing(service: string): void {
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    // A reference service sends little: export within a second so a trace shows up while one looks.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
}

/** Exports what is buffered; part of a graceful shutdown. */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
}

const tracer = () => trace.getTracer("reference-service");

type Carrier = Record<string, unknown>;

/**
 * Runs `work` in a new span that continues the trace of `carrier`'s `traceparent` (HTTP headers
 * or AMQP message headers), ending it with an error status when `work` throws.
 */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  carrier: Carrier,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier, {
    keys: (c) => Object.keys(c),
    get: (c, key) => {
      const value = c[key];
      if (Array.isArray(value)) return value.map(String);
      return value === undefined || value === null ? undefined : String(value);
    },
  });
  return tracer().startActiveSpan(name, { kind }, parent, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active context's `traceparent` (and `tracestate`), for a message this service publishes. */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}
