import { z } from "zod";

/** Stack settings of the API gateway on every target (`platform:gateway`). */
export const GatewaySettingsSchema = z
  .object({
    /** Plugin guarding non-public routes. */
    auth: z.enum(["jwt", "key-auth"]).default("jwt"),
    corsOrigins: z
      .array(z.string().regex(/^https?:\/\/[^\s/]+$/, "must be an origin such as http://localhost:5173"))
      .default(["http://localhost:3000", "http://localhost:5173"]),
  })
  .strict();

export type GatewaySettings = z.output<typeof GatewaySettingsSchema>;
