import { z } from "zod";

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
  })
  .strict();

export type ObservabilitySettings = z.output<typeof ObservabilitySettingsSchema>;
