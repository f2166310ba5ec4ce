import { z } from "zod";
import { MEMORY_QUANTITY } from "../../services/schema";
import { memoryBytes } from "../../services/quantities";
import { MIN_JAEGER_MEMORY_BYTES, TRACE_KIB, TRACES_SHARE, tracesThatFit } from "./tracing";

/**
 * Jaeger all-in-one with its traces in memory, bounded: the newest `maxTraces` are kept and a restart
 * loses them (the README says what to run at scale instead).
 */
const TracingSettingsSchema = z
  .object({
    /** Prod's Jaeger memory (request and limit); dev's comes from platform:docker.profile. */
    memory: z
      .string()
      .regex(MEMORY_QUANTITY, "must be a memory quantity such as 1Gi")
      .refine(
        (quantity) => !MEMORY_QUANTITY.test(quantity) || memoryBytes(quantity) >= MIN_JAEGER_MEMORY_BYTES,
        "must be at least 128Mi",
      )
      .default("1Gi"),
    /** Fewer traces than the memory holds (for large traces); default: as many as it holds. */
    maxTraces: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine(({ memory, maxTraces }, ctx) => {
    if (maxTraces === undefined || !MEMORY_QUANTITY.test(memory)) return;
    const fit = tracesThatFit(memoryBytes(memory));
    if (maxTraces > fit)
      ctx.addIssue({
        code: "custom",
        path: ["maxTraces"],
        message: `${maxTraces} traces of ~${TRACE_KIB} KiB do not fit in ${TRACES_SHARE * 100}% of tracing.memory ${memory} (${fit} do): raise tracing.memory or lower maxTraces`,
      });
  });

/** Stack settings of the observability stack on every target (`platform:observability`). */
export const ObservabilitySettingsSchema = z
  .object({
    /** `loki`: Loki + Promtail (the seeds' lighter option); `elk`: Elasticsearch, Logstash, Kibana with Filebeat. */
    logs: z.enum(["loki", "elk"]).default("loki"),
    scrapeInterval: z
      .string()
      .regex(/^\d+[smh]$/, "must be a duration such as 15s")
      .default("15s"),
    /** HighErrorRate fires above this share of 5xx responses (0.05 = 5%). */
    errorRateThreshold: z.number().gt(0).lt(1).default(0.05),
    /** HighLatency fires when p95 latency exceeds this many seconds. */
    latencyP95Seconds: z.number().positive().default(1),
    tracing: TracingSettingsSchema.default(TracingSettingsSchema.parse({})),
  })
  .strict();

export type ObservabilitySettings = z.output<typeof ObservabilitySettingsSchema>;
export type TracingSettings = ObservabilitySettings["tracing"];
