// npm run dev:smoke [-- --stack dev] [--outputs file.json] [--wait ms]
// After `npm run dev:up`: every service answers through the gateway (or on its loopback port when
// it has no route), one event goes from a publisher to a consumer, and every Prometheus target is
// up. One line per check; a failure says what to look at. Exits 1 when anything failed.
import * as path from "path";
import { BUILTIN_CATALOGS, BuiltinCatalog, builtinCatalogPath, loadCatalog } from "../services/load";
import { Catalog } from "../services/schema";
import { GatewayCredential } from "../components/gateway/kongConfig";
import { parseArgs, readStackOutputs } from "./stackOutputs";
import { stackConfig } from "./stackConfig";
import {
  EventPair,
  ServiceProbe,
  consumedCount,
  evaluateTargets,
  eventPair,
  gatewayHeaders,
  serviceProbe,
} from "./smokePlan";
import { UserError, runCli } from "./cli";

/** A check's outcome: nothing wrong, or one line saying what and where to look. */
export type Failure = { check: string; detail: string; hint: string };

/** What the smoke reads from the dev stack's outputs. */
export interface SmokeOutputs {
  catalog: string;
  gatewayUrl?: string;
  frontendUrl?: string;
  prometheusUrl: string;
  rabbitmqManagementUrl?: string;
  services: Record<string, { url: string; healthUrl: string }>;
  gatewayCredential?: GatewayCredential;
}

const PROJECT_DIR = path.join(__dirname, "..");
const REQUEST_TIMEOUT_MS = 5000;
const POLL_MS = 1000;

/** The answer's status and body, or why there was none (refused, timed out) as an Error. */
async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init });
    return { status: response.status, body: await response.text() };
  } catch (e) {
    const error = e as Error & { cause?: { code?: string } };
    throw new Error(
      error.name === "TimeoutError" ? `no answer in ${REQUEST_TIMEOUT_MS} ms` : (error.cause?.code ?? error.message),
    );
  }
}

const ok = (status: number) => status >= 200 && status < 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const containerHint = (service: string) =>
  `look at its container: docker ps -a --filter label=platform.service=${service}, then docker logs <name>`;

/** GET the probe's URL: through Kong with the client's credential on an authenticated route, or on loopback. */
export async function checkService(
  probe: ServiceProbe,
  outputs: SmokeOutputs,
  now = Date.now(),
): Promise<Failure | undefined> {
  const check = `service ${probe.service}`;
  const url =
    probe.via === "gateway" ? `${outputs.gatewayUrl}${probe.path}` : outputs.services[probe.service]?.healthUrl;
  if (!url) return { check, detail: "not in the stack outputs", hint: "run npm run dev:up: the stack predates it" };
  const headers = probe.via === "gateway" && probe.authenticated ? authHeaders(outputs, now) : {};
  try {
    const { status } = await request(url, { headers });
    if (ok(status)) return undefined;
    const hint =
      status === 401 || status === 403
        ? "the gateway refused the stack's gatewayCredential: was the stack updated since (npm run dev:up)?"
        : status === 404
          ? "Kong has no such route: apply the catalog with npm run dev:up"
          : containerHint(probe.service);
    return { check, detail: `GET ${url}: HTTP ${status}`, hint };
  } catch (e) {
    return {
      check,
      detail: `GET ${url}: ${(e as Error).message}`,
      hint: `is the stack up? npm run dev:up; ${containerHint(probe.service)}`,
    };
  }
}

function authHeaders(outputs: SmokeOutputs, now: number): Record<string, string> {
  return outputs.gatewayCredential ? gatewayHeaders(outputs.gatewayCredential, Math.floor(now / 1000)) : {};
}

/** The consumer's count for the queue, read from its metrics on loopback. */
async function consumed(pair: EventPair, outputs: SmokeOutputs): Promise<number> {
  const { status, body } = await request(`${outputs.services[pair.consumer].url}${pair.metricsPath}`);
  if (!ok(status)) throw new Error(`metrics of ${pair.consumer}: HTTP ${status}`);
  return consumedCount(body, pair.queue);
}

/** POST the event to the publisher through Kong, then wait for the consumer's count of the queue to go up. */
export async function checkEvent(pair: EventPair, outputs: SmokeOutputs, waitMs: number): Promise<Failure | undefined> {
  const check = `event ${pair.routingKey} from ${pair.publisher} to ${pair.queue}`;
  const url = `${outputs.gatewayUrl}${pair.path}?event=${encodeURIComponent(pair.routingKey)}`;
  try {
    const before = await consumed(pair, outputs);
    const headers = pair.authenticated ? authHeaders(outputs, Date.now()) : {};
    const { status, body } = await request(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: "{}",
    });
    if (!ok(status)) {
      return {
        check,
        detail: `POST ${url}: HTTP ${status} ${body.slice(0, 200)}`,
        hint: containerHint(pair.publisher),
      };
    }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; await sleep(POLL_MS)) {
      if ((await consumed(pair, outputs)) > before) return undefined;
    }
    const where = outputs.rabbitmqManagementUrl ? ` (${outputs.rabbitmqManagementUrl}/#/queues)` : "";
    return {
      check,
      detail: `published, but ${pair.consumer} counted nothing on ${pair.queue} in ${waitMs} ms`,
      hint: `look at ${pair.queue} and ${pair.queue}.dlq in RabbitMQ's management UI${where}; ${containerHint(pair.consumer)}`,
    };
  } catch (e) {
    return {
      check,
      detail: (e as Error).message,
      hint: `is the stack up? npm run dev:up; ${containerHint(pair.consumer)}`,
    };
  }
}

/** Every target Prometheus scrapes is up; targets not scraped yet are asked about again until the wait is over. */
export async function checkTargets(prometheusUrl: string, waitMs: number): Promise<Failure[]> {
  const url = `${prometheusUrl}/api/v1/targets?state=active`;
  const hint = "the container behind it does not answer its metrics path: docker ps -a, then its logs";
  try {
    for (const deadline = Date.now() + waitMs; ; await sleep(POLL_MS)) {
      const { status, body } = await request(url);
      if (!ok(status))
        return [
          {
            check: "prometheus targets",
            detail: `GET ${url}: HTTP ${status}`,
            hint: "is Prometheus up? npm run health -- dev",
          },
        ];
      const report = evaluateTargets(JSON.parse(body));
      if (report.pending.length > 0 && Date.now() < deadline) continue;
      return [
        ...report.down.map(({ target, error }) => ({ check: `prometheus target ${target}`, detail: error, hint })),
        ...report.pending.map((target) => ({
          check: `prometheus target ${target}`,
          detail: `not scraped in ${waitMs} ms`,
          hint: "Prometheus has not reached it yet: run the smoke again in a scrape interval",
        })),
      ];
    }
  } catch (e) {
    return [
      {
        check: "prometheus targets",
        detail: `GET ${url}: ${(e as Error).message}`,
        hint: "is Prometheus up? npm run health -- dev",
      },
    ];
  }
}

/** The front end answers at the gateway's `/`. */
async function checkFrontend(name: string, url: string): Promise<Failure | undefined> {
  try {
    const { status } = await request(url);
    if (ok(status)) return undefined;
    return { check: `front end ${name}`, detail: `GET ${url}: HTTP ${status}`, hint: containerHint(name) };
  } catch (e) {
    return { check: `front end ${name}`, detail: `GET ${url}: ${(e as Error).message}`, hint: containerHint(name) };
  }
}

/** The catalog the stack file selects: a built-in one, or a file relative to the project. */
function stackCatalog(config: Record<string, string>): Catalog {
  const name = config["platform:catalog"];
  if (name) {
    if (!BUILTIN_CATALOGS.includes(name as BuiltinCatalog))
      throw new Error(`platform:catalog ${name} is not a built-in catalog`);
    return loadCatalog(builtinCatalogPath(name as BuiltinCatalog));
  }
  const file = config["platform:catalogFile"];
  if (!file) throw new Error("the stack file sets neither platform:catalog nor platform:catalogFile");
  return loadCatalog(path.resolve(PROJECT_DIR, file));
}

/** Every check, one after the other (the event check reads counters the service checks do not touch). */
async function smoke(
  catalog: Catalog,
  outputs: SmokeOutputs,
  waitMs: number,
): Promise<{ passed: string[]; failures: Failure[] }> {
  const passed: string[] = [];
  const failures: Failure[] = [];
  const record = (check: string, failure: Failure | undefined) =>
    failure ? failures.push(failure) : passed.push(check);
  for (const service of catalog.services)
    record(`service ${service.name}`, await checkService(serviceProbe(service), outputs));
  if (catalog.frontend && outputs.frontendUrl) {
    record(`front end ${catalog.frontend.name}`, await checkFrontend(catalog.frontend.name, outputs.frontendUrl));
  }
  const pair = eventPair(catalog);
  if (pair) record(`event ${pair.routingKey} to ${pair.queue}`, await checkEvent(pair, outputs, waitMs));
  const targets = await checkTargets(outputs.prometheusUrl, waitMs);
  failures.push(...targets);
  if (targets.length === 0) passed.push("prometheus targets");
  return { passed, failures };
}

async function main(): Promise<number> {
  const { options } = parseArgs(process.argv.slice(2));
  const stack = options.stack ?? "dev";
  const waitMs = Number(options.wait ?? 30000);
  try {
    const catalog = stackCatalog(stackConfig(stack));
    const outputs = readStackOutputs(stack, options.outputs, true) as unknown as SmokeOutputs;
    if (outputs.catalog !== catalog.name) {
      console.log(
        `FAIL stack ${stack}: deployed catalog ${outputs.catalog}, Pulumi.${stack}.yaml selects ${catalog.name} — hint: npm run dev:up`,
      );
      return 1;
    }
    const { passed, failures } = await smoke(catalog, outputs, waitMs);
    for (const check of passed) console.log(`ok   ${check}`);
    for (const f of failures) console.log(`FAIL ${f.check}: ${f.detail} — hint: ${f.hint}`);
    console.log(`\nsmoke of stack ${stack}: ${passed.length} checks ok, ${failures.length} failed`);
    return failures.length === 0 ? 0 : 1;
  } catch (e) {
    const hint = e instanceof UserError ? e.hint : "is the stack up? npm run dev:up";
    console.log(`FAIL smoke: ${(e as Error).message.split("\n")[0]} — hint: ${hint}`);
    return 1;
  }
}

if (require.main === module) runCli(main);
