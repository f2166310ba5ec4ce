import { SpanKind } from "@opentelemetry/api";
import * as http from "http";
import { Broker } from "./broker";
import { Cache } from "./cache";
import { Config } from "./config";
import { Database } from "./db/database";
import { BodyTooLargeError, Reply, readBody } from "./http";
import { Logger } from "./logger";
import { Metrics } from "./metrics";
import { inSpan } from "./tracing";

/** Each readiness check gets this long: the probe must answer before the orchestrator's timeout. */
const CHECK_TIMEOUT_MS = 2000;
/** Distinct `route` label values; more would be a scanner's paths, not the service's routes. */
const MAX_ROUTES = 50;
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** What the service uses, as the environment says; each absent piece is simply not used. */
export interface Backends {
  db?: Database;
  cache?: Cache;
  broker?: Broker;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The status `x-reference-status` asks for, when it is a valid one. */
function requestedStatus(req: http.IncomingMessage): number | undefined {
  const status = Number(req.headers["x-reference-status"]);
  return Number.isInteger(status) && status >= 200 && status <= 599 ? status : undefined;
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return null;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return raw.toString("utf8");
  }
}

export class App {
  private readonly routes = new Set<string>();

  constructor(
    private readonly config: Config,
    private readonly backends: Backends,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** False until the database's table exists (and always true without a database). */
    private readonly databaseReady: () => boolean,
  ) {}

  /** The main port: probes, metrics when they share the port, and everything else traced and counted. */
  handle = async (req: http.IncomingMessage, url: URL): Promise<Reply> => {
    const { healthPath, readinessPath, metricsPath, metricsPort, port } = this.config;
    // Probes and scrapes are not traffic: counting them would dilute the 5xx share HighErrorRate reads.
    // Liveness wins a shared path: a backend that is down must not get the service restarted.
    if (url.pathname === healthPath) return { status: 200, body: { status: "ok" } };
    if (url.pathname === readinessPath) return this.readiness();
    if (url.pathname === metricsPath && metricsPort === port) return this.scrape();
    return this.traced(req, url);
  };

  /** The metrics port, when it is not the main one. */
  handleMetrics = async (_req: http.IncomingMessage, url: URL): Promise<Reply> =>
    url.pathname === this.config.metricsPath ? this.scrape() : { status: 404, body: { error: "not found" } };

  private async scrape(): Promise<Reply> {
    return { status: 200, body: await this.metrics.registry.metrics(), contentType: this.metrics.registry.contentType };
  }

  /** Every reachable backend the service uses answers; the body says which did not. */
  async readiness(): Promise<Reply> {
    const { db, cache, broker } = this.backends;
    const checks: Record<string, () => Promise<unknown>> = {};
    if (this.config.databaseUrl) {
      checks.database = async () => {
        if (!db || !this.databaseReady()) throw new Error("not initialised yet");
        await db.ping();
      };
    }
    if (cache) checks.cache = () => cache.ping();
    if (broker) checks.broker = async () => broker.ping();
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, "ok"] as const;
        } catch (err) {
          return [name, (err as Error).message] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result === "ok");
    return {
      status: ready ? 200 : 503,
      body: { status: ready ? "ready" : "unavailable", checks: Object.fromEntries(results) },
    };
  }

  /** `/bookings/42` counts as route `/bookings`: bounded label values, still per resource. */
  private routeOf(pathname: string): string {
    const route = `/${pathname.split("/")[1] ?? ""}`;
    if (this.routes.has(route)) return route;
    if (this.routes.size >= MAX_ROUTES) return "other";
    this.routes.add(route);
    return route;
  }

  private async traced(req: http.IncomingMessage, url: URL): Promise<Reply> {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const route = this.routeOf(url.pathname);
    return inSpan(`${method} ${route}`, SpanKind.SERVER, req.headers, async (span) => {
      span.setAttributes({ "http.request.method": method, "url.path": url.pathname, "http.route": route });
      const reply = await this.answer(req, url);
      span.setAttribute("http.response.status_code", reply.status);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.observeRequest(method, route, reply.status, seconds);
      this.log.info({ method, path: url.pathname, status: reply.status, durationMs: seconds * 1000 }, "request");
      return reply;
    });
  }

  private async answer(req: http.IncomingMessage, url: URL): Promise<Reply> {
    const status = requestedStatus(req);
    if (status !== undefined) return { status, body: { status, reason: "x-reference-status" } };
    const method = req.method ?? "GET";
    if (method === "GET" || method === "HEAD") return { status: 200, body: this.describe(url) };
    if (!WRITE_METHODS.has(method)) return { status: 405, body: { error: `${method} is not supported` } };
    try {
      return await this.write(req, url);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return { status: 413, body: { error: err.message } };
      this.log.error({ err: (err as Error).message }, "write failed");
      // A backend failed: the same request may well succeed in a moment.
      return { status: 503, body: { error: (err as Error).message } };
    }
  }

  private describe(url: URL): Record<string, unknown> {
    const { service, environment, cache, broker } = this.config;
    return {
      service,
      environment,
      path: url.pathname,
      uses: {
        database: this.backends.db?.kind ?? null,
        cache: cache ? (cache.sentinels ? "sentinel" : "single") : null,
        broker: broker ? { publishes: broker.publishes, queues: broker.queues } : null,
      },
    };
  }

  /** Records the request, counts it in the cache, publishes the events; 202 with their message ids. */
  private async write(req: http.IncomingMessage, url: URL): Promise<Reply> {
    const publishes = this.config.broker?.publishes ?? [];
    const event = url.searchParams.get("event");
    if (event !== null && !publishes.includes(event)) {
      return { status: 400, body: { error: `${event} is not one of RABBITMQ_PUBLISHES`, publishes } };
    }
    const payload = {
      service: this.config.service,
      method: req.method,
      path: url.pathname,
      body: parseJson(await readBody(req)),
      receivedAt: new Date().toISOString(),
    };
    const { db, cache, broker } = this.backends;
    if (this.config.databaseUrl && (!db || !this.databaseReady())) throw new Error("database not initialised yet");
    await db?.record({ source: "http", name: url.pathname, payload });
    const count = cache ? await cache.incr(`${this.config.service}:writes`) : null;
    const messageIds: Record<string, string> = {};
    for (const key of event === null ? publishes : [event]) messageIds[key] = await broker!.publish(key, payload);
    return { status: 202, body: { messageIds, count } };
  }
}
