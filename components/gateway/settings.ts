import { z } from "zod";
import { Catalog } from "../../services/schema";
import { Problem, error } from "../../services/problems";
import { placeholdersOf } from "../../services/placeholders";
import { needsGateway } from "../../services/validate";

/** The client every stack has unless it declares its own: what the single consumer was before clients existed. */
export const DEFAULT_CLIENT = "default";
/** Kong's consumer for requests without a valid credential when clients mix jwt and key-auth (kongConfig.ts). */
export const ANONYMOUS_CONSUMER = "anonymous";

const GatewayClientSchema = z
  .object({
    /** Kong consumer name, output key and part of resource names: a DNS label. */
    name: z
      .string()
      .regex(
        /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
        "must be a DNS label: lowercase letters, digits and '-', starting with a letter, at most 63 characters",
      )
      .refine((name) => name !== ANONYMOUS_CONSUMER, {
        message: `'${ANONYMOUS_CONSUMER}' is the gateway's consumer for unauthenticated requests`,
      }),
    /** What the client presents; the gateway's `auth` when unset. */
    credential: z.enum(["jwt", "key-auth"]).optional(),
    /** The client's own budget across all authenticated routes, instead of each route's limit. */
    rateLimitPerMinute: z.number().int().positive().optional(),
  })
  .strict();

/** Stack settings of the API gateway on every target (`platform:gateway`). */
export const GatewaySettingsSchema = z
  .object({
    /** Plugin guarding non-public routes, and the credential of clients that name none. */
    auth: z.enum(["jwt", "key-auth"]).default("jwt"),
    corsOrigins: z
      .array(z.string().regex(/^https?:\/\/[^\s/]+$/, "must be an origin such as http://localhost:5173"))
      .default(["http://localhost:3000", "http://localhost:5173"]),
    /** One Kong consumer each, with its own credential and rate-limit bucket. */
    clients: z
      .array(GatewayClientSchema)
      .min(1, "must list at least one client")
      .default([{ name: DEFAULT_CLIENT }]),
  })
  .strict()
  // Run even when other fields are wrong, so that one error lists every problem.
  .superRefine(
    (settings, ctx) => {
      const seen = new Set<unknown>();
      (Array.isArray(settings.clients) ? settings.clients : []).forEach((client, i) => {
        const name: unknown = client?.name;
        if (typeof name !== "string") return;
        if (seen.has(name))
          ctx.addIssue({ code: "custom", path: ["clients", i, "name"], message: `'${name}' is declared twice` });
        seen.add(name);
      });
    },
    { when: () => true },
  );

export type GatewaySettings = z.output<typeof GatewaySettingsSchema>;

/** A declared client with its credential kind resolved. */
export interface GatewayClientSettings {
  name: string;
  credential: "jwt" | "key-auth";
  rateLimitPerMinute?: number;
}

/** The declared clients, each with the gateway's `auth` as its credential unless it names one. */
export function gatewayClients(settings: GatewaySettings): GatewayClientSettings[] {
  return settings.clients.map((client) => ({ ...client, credential: client.credential ?? settings.auth }));
}

/**
 * `${gateway.jwtIssuer}` and `${gateway.jwtSecret}` resolve only where the gateway exists and
 * checks JWTs: some route or a front end, and a client whose credential is `jwt`. `catalogField`
 * names the catalog in problems, as its own problems are named.
 */
export function gatewaySettingsProblems(settings: GatewaySettings, catalog: Catalog, catalogField: string): Problem[] {
  const signs = needsGateway(catalog) && gatewayClients(settings).some((c) => c.credential === "jwt");
  if (signs) return [];
  return catalog.services.flatMap((service, i) =>
    Object.entries(service.env)
      .filter(([, value]) => placeholdersOf(value).some((p) => p.kind === "resource" && p.resource === "gateway"))
      .map(([name]) =>
        error(
          `${catalogField}.services[${i}].env.${name}`,
          needsGateway(catalog)
            ? "no gateway client uses jwt (platform:gateway.auth, platform:gateway.clients[].credential), so no token is signed"
            : "the catalog has no gateway (no routes, no front end), so no token is signed",
        ),
      ),
  );
}
