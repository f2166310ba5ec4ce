import * as http from "http";
import { App, Backends } from "./app";
import { Broker } from "./broker";
import { Cache } from "./cache";
import { Config, loadConfig } from "./config";
import { Consumer } from "./consumer";
import { openDatabase } from "./db/open";
import { close, listen } from "./http";
import { createLogger, Logger } from "./logger";
import { Metrics } from "./metrics";
import { startTracing, stopTracing } from "./tracing";

/** Under dev's stop timeout and prod's termination grace period (30 s), with room to exit. */
const SHUTDOWN_BUDGET_MS = 25000;

/** At most this long to export the last spans on shutdown. */
const TRACE_FLUSH_MS = 3000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates the table, retrying while the database is not up yet (containers start in any order):
 * the service stays alive and not ready meanwhile, instead of crash-looping.
 */
async function initDatabase(backends: Backends, log: Logger, stopping: () => boolean): Promise<boolean> {
  for (let attempt = 1; !stopping(); attempt++) {
    try {
      await backends.db!.init();
      log.info({ kind: backends.db!.kind }, "database ready");
      return true;
    } catch (err) {
      log.warn({ err: (err as Error).message, attempt }, "database not ready");
      await sleep(Math.min(500 * attempt, 5000));
    }
  }
  return false;
}

interface Running {
  servers: http.Server[];
  backends: Backends;
  consumer?: Consumer;
}

async function start(config: Config, log: Logger, stopping: () => boolean): Promise<Running> {
  const metrics = new Metrics();
  const backends: Backends = {};
  if (config.cache) backends.cache = new Cache(config.cache, log);
  if (config.databaseUrl) backends.db = openDatabase(config.databaseUrl);
  let databaseReady = !config.databaseUrl;
  let consumer: Consumer | undefined;
  if (config.broker) {
    const broker = new Broker(config.broker, config.service, metrics, log, (channel) => consumer!.attach(channel));
    consumer = new Consumer(config.broker, backends.db, metrics, log, () => broker.reconnect());
    backends.broker = broker;
  }
  const app = new App(config, backends, metrics, log, () => databaseReady);
  const servers = [await listen(config.port, app.handle)];
  if (config.metricsPort !== config.port) servers.push(await listen(config.metricsPort, app.handleMetrics));
  log.info({ port: config.port, metricsPort: config.metricsPort }, "listening");
  // Messages are consumed only once they can be recorded.
  void (async () => {
    if (backends.db) databaseReady = await initDatabase(backends, log, stopping);
    if (databaseReady) backends.broker?.start();
  })();
  return { servers, backends, consumer };
}

/** Stop accepting, finish requests and deliveries in flight, then close the backends. */
async function shutdown(running: Running, log: Logger): Promise<void> {
  const deadline = Date.now() + SHUTDOWN_BUDGET_MS;
  await Promise.all([...running.servers.map((server) => close(server, deadline)), running.consumer?.stop()]);
  const { broker, cache, db } = running.backends;
  await Promise.allSettled([broker?.close(), cache?.close(), db?.close()]);
  log.info("stopped");
  // Spans still buffered go out now; an unreachable collector must not hold the exit up for its
  // exporter's retries.
  await Promise.race([stopTracing(), sleep(TRACE_FLUSH_MS)]);
}

async function main(): Promise<void> {
  const config = loadConfig();
  startTracing(config.tracingName);
  const log = createLogger(config.service);
  let stopping = false;
  process.on("unhandledRejection", (err) => log.error({ err: String(err) }, "unhandled rejection"));
  const running = await start(config, log, () => stopping);
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    // Whatever hangs, exit before the orchestrator's SIGKILL.
    setTimeout(() => process.exit(1), SHUTDOWN_BUDGET_MS + 3000).unref();
    shutdown(running, log).then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: Error) => {
  // Before the logger exists (a bad environment): still one JSON line.
  console.error(JSON.stringify({ level: "fatal", time: new Date().toISOString(), msg: err.message }));
  process.exit(1);
});
