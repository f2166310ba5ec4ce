import { createHmac } from "crypto";
import { Catalog, Service } from "../services/schema";
import { topicMatches } from "../services/validate";
import { consumerQueue } from "../components/messaging/topology";
import { GatewayCredential } from "../components/gateway/kongConfig";

/**
 * What `npm run dev:smoke` checks, decided from the catalog alone (tools/devSmoke.ts does the HTTP):
 * which request shows each service answering, which event to send end to end, and how to read what
 * the consumer and Prometheus report.
 */

type Method = NonNullable<Service["routes"][number]["methods"]>[number];

/** One request that shows a service answers: a route through the gateway, or its health path on loopback. */
export type ServiceProbe =
  { service: string; via: "gateway"; path: string; authenticated: boolean } | { service: string; via: "loopback" };

const allows = (route: Service["routes"][number], method: Method) => !route.methods || route.methods.includes(method);

/** The first path of the first route that takes `method`, public routes first (they need no credential). */
function routeFor(service: Service, method: Method): { path: string; authenticated: boolean } | undefined {
  const routes = service.routes.filter((route) => allows(route, method));
  const route = routes.find((r) => r.public) ?? routes[0];
  return route && { path: route.paths[0], authenticated: !route.public };
}

/** GET one of its routes through Kong; a service without a route Kong sends GETs to answers on its loopback port. */
export function serviceProbe(service: Service): ServiceProbe {
  const route = routeFor(service, "GET");
  return route ? { service: service.name, via: "gateway", ...route } : { service: service.name, via: "loopback" };
}

/** One event sent end to end: POSTed to the publisher through Kong, counted by the consumer's queue. */
export interface EventPair {
  publisher: string;
  path: string;
  authenticated: boolean;
  routingKey: string;
  consumer: string;
  queue: string;
  /** Where the consumer serves its metrics: its own port, published on loopback. */
  metricsPath: string;
}

/**
 * The first publisher (catalog order) with a route Kong sends POSTs to, and the first key it
 * publishes that a consumer binds to, by the broker's topic rules (`*`, `#`). The consumer must
 * serve metrics on its service port: only that port is published on loopback.
 */
export function eventPair(catalog: Catalog): EventPair | undefined {
  const consumers = catalog.services.filter((s) => (s.health.metricsPort ?? s.port) === s.port);
  for (const publisher of catalog.services) {
    const route = routeFor(publisher, "POST");
    if (!route) continue;
    for (const routingKey of publisher.events.publishes) {
      for (const service of consumers) {
        const consumer = service.events.consumes.find((c) => c.bindings.some((b) => topicMatches(b, routingKey)));
        if (!consumer) continue;
        return {
          publisher: publisher.name,
          ...route,
          routingKey,
          consumer: service.name,
          queue: consumerQueue(service.name, consumer),
          metricsPath: service.health.metricsPath,
        };
      }
    }
  }
  return undefined;
}

/** `rabbitmq_messages_consumed_total{queue="..."}` in Prometheus' text format, summed over its other labels; 0 when absent. */
export function consumedCount(metrics: string, queue: string): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    const match = /^rabbitmq_messages_consumed_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.queue === queue) total += Number(match[2]);
  }
  return total;
}

/** One active target of Prometheus' /api/v1/targets, as much of it as the smoke reads. */
interface ActiveTarget {
  labels?: Record<string, string>;
  scrapePool?: string;
  scrapeUrl?: string;
  health?: string;
  lastError?: string;
}

export interface TargetReport {
  up: number;
  /** Not scraped yet: asked again until the wait is over. */
  pending: string[];
  down: Array<{ target: string; error: string }>;
}

/** Which targets are up, down (with Prometheus' error) or not scraped yet; throws on a response of another shape. */
export function evaluateTargets(response: unknown): TargetReport {
  const body = response as { status?: string; data?: { activeTargets?: ActiveTarget[] } };
  const targets = body?.data?.activeTargets;
  if (body?.status !== "success" || !Array.isArray(targets)) {
    throw new Error(`not a Prometheus targets response: ${JSON.stringify(response).slice(0, 200)}`);
  }
  const report: TargetReport = { up: 0, pending: [], down: [] };
  for (const target of targets) {
    const name = `${target.labels?.job ?? target.scrapePool ?? "?"} (${target.labels?.instance ?? target.scrapeUrl ?? "?"})`;
    if (target.health === "up") report.up++;
    else if (target.health === "unknown") report.pending.push(name);
    else report.down.push({ target: name, error: target.lastError || `health ${target.health}` });
  }
  return report;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/**
 * What a client presents on authenticated routes: an HS256 JWT whose `iss` names the client's
 * Kong credential, valid for a few minutes (Kong checks `exp`), or its API key.
 */
export function gatewayHeaders(credential: GatewayCredential, nowSeconds: number): Record<string, string> {
  if (credential.kind === "key-auth") return { apikey: credential.key };
  const unsigned = [
    base64url(JSON.stringify({ alg: "HS256", typ: "JWT" })),
    base64url(JSON.stringify({ iss: credential.issuer, sub: "dev-smoke", exp: nowSeconds + 300 })),
  ].join(".");
  const signature = base64url(createHmac("sha256", credential.secret).update(unsigned).digest());
  return { authorization: `Bearer ${unsigned}.${signature}` };
}
