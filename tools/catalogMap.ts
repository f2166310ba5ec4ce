// The system map of a catalog as a Mermaid flowchart, which GitHub renders in Markdown: services grouped by
// the domain they publish in, each with its database and cache, the gateway's routes, the event flow through
// the domains' topic exchanges (from the broker topology the platform declares), each consumer's retries and
// DLQ, `dependsOn`, and the hosts outside the platform a service calls. A pure function of the catalog.
import { ENGINE_NAMES, Catalog, Egress, Service } from "../services/schema";
import { domainExchange, domainOf, topicMatches } from "../services/validate";
import { TopologyPlan, deadLetterQueue, planTopology } from "../components/messaging/topology";

/** One routing key a service publishes, to its domain's exchange. */
interface Publication {
  service: string;
  exchange: string;
  key: string;
}

/** A consumer's queue as the topology declares it. */
interface ConsumerQueue {
  name: string;
  service: string;
  maxAttempts: number;
  /** Wait before each retry (the retry queues' x-message-ttl), ms. */
  retryDelaysMs: number[];
  deadLetterQueue: string;
  deadLetterMaxLength: number;
  /** Binding patterns no published key matches: the queue receives nothing through them. */
  unmatched: string[];
}

/** A published key that a queue's binding matches: a message of that key reaches the queue. */
interface Delivery {
  exchange: string;
  queue: string;
  key: string;
}

/** What a map shows: the whole catalog, or one service's neighbourhood of it. */
interface CatalogGraph {
  services: Service[];
  exchanges: string[];
  publications: Publication[];
  queues: ConsumerQueue[];
  deliveries: Delivery[];
  dependencies: Array<{ from: string; to: string }>;
  /** Services whose gateway routes and egress are drawn. */
  detailed: Set<string>;
  frontend?: string;
}

export interface MapOptions {
  /** Only this service, what it exchanges events with, what it depends on and what depends on it. */
  service?: string;
}

export function catalogMap(catalog: Catalog, options: MapOptions = {}): string {
  const graph = catalogGraph(catalog);
  return renderFlowchart(options.service === undefined ? graph : neighbourhood(graph, options.service));
}

function catalogGraph(catalog: Catalog): CatalogGraph {
  const topology = planTopology(catalog);
  const publications = catalog.services.flatMap((service) =>
    service.events.publishes.map((key) => ({ service: service.name, exchange: exchangeOf(key), key })),
  );
  const { queues, deliveries } = consumerQueues(topology, publications);
  return {
    services: catalog.services,
    exchanges: topology.exchanges.filter((e) => e.type === "topic").map((e) => e.name),
    publications,
    queues,
    deliveries,
    dependencies: catalog.services.flatMap((s) => s.dependsOn.map((to) => ({ from: s.name, to }))),
    detailed: new Set(catalog.services.map((s) => s.name)),
    frontend: catalog.frontend?.name,
  };
}

/** The topic exchange of a key's or a binding pattern's domain. */
const exchangeOf = (keyOrPattern: string) => domainExchange(domainOf(keyOrPattern));

/** Every consumer queue with its retries and DLQ, and the published keys its bindings really match. */
function consumerQueues(
  topology: TopologyPlan,
  publications: Publication[],
): { queues: ConsumerQueue[]; deliveries: Delivery[] } {
  const queues: ConsumerQueue[] = [];
  const deliveries: Delivery[] = [];
  const maxAttempts = Object.assign({}, ...topology.users.map((u) => u.maxAttempts)) as Record<string, number>;
  for (const queue of topology.queues.filter((q) => q.role === "consumer")) {
    const bindings = topology.bindings.filter((b) => b.destination === queue.name);
    const matched = (pattern: string, exchange: string) =>
      publications.filter((p) => p.exchange === exchange && topicMatches(pattern, p.key));
    for (const binding of bindings) {
      for (const { key } of matched(binding.routingKey, binding.source)) {
        if (!deliveries.some((d) => d.queue === queue.name && d.key === key)) {
          deliveries.push({ exchange: binding.source, queue: queue.name, key });
        }
      }
    }
    const dlq = deadLetterQueue(queue.name);
    queues.push({
      name: queue.name,
      service: queue.service,
      maxAttempts: maxAttempts[queue.name],
      // A retry queue dead-letters back onto the queue it parks messages for.
      retryDelaysMs: topology.queues
        .filter((q) => q.role === "retry" && q.arguments["x-dead-letter-routing-key"] === queue.name)
        .map((q) => Number(q.arguments["x-message-ttl"])),
      deadLetterQueue: dlq,
      deadLetterMaxLength: Number(topology.queues.find((q) => q.name === dlq)!.arguments["x-max-length"]),
      unmatched: bindings.filter((b) => matched(b.routingKey, b.source).length === 0).map((b) => b.routingKey),
    });
  }
  return { queues, deliveries };
}

/** One service, the services it exchanges events with, those it depends on and those depending on it. */
function neighbourhood(graph: CatalogGraph, name: string): CatalogGraph {
  const ownQueues = new Set(graph.queues.filter((q) => q.service === name).map((q) => q.name));
  const ownKeys = new Set(graph.publications.filter((p) => p.service === name).map((p) => p.key));
  const deliveries = graph.deliveries.filter((d) => ownQueues.has(d.queue) || ownKeys.has(d.key));
  const received = new Set(deliveries.filter((d) => ownQueues.has(d.queue)).map((d) => d.key));
  const publications = graph.publications.filter((p) => p.service === name || received.has(p.key));
  const queueNames = new Set([...ownQueues, ...deliveries.map((d) => d.queue)]);
  const queues = graph.queues.filter((q) => queueNames.has(q.name));
  const dependencies = graph.dependencies.filter((d) => d.from === name || d.to === name);
  const shown = new Set([
    name,
    ...publications.map((p) => p.service),
    ...queues.map((q) => q.service),
    ...dependencies.flatMap((d) => [d.from, d.to]),
  ]);
  // An own binding that matches nothing still names the exchange the queue is bound to.
  const unmatched = graph.queues.filter((q) => q.service === name).flatMap((q) => q.unmatched.map(exchangeOf));
  const exchanges = new Set([
    ...publications.map((p) => p.exchange),
    ...deliveries.map((d) => d.exchange),
    ...unmatched,
  ]);
  return {
    services: graph.services.filter((s) => shown.has(s.name)),
    exchanges: graph.exchanges.filter((e) => exchanges.has(e)),
    publications,
    queues,
    deliveries,
    dependencies,
    detailed: new Set([name]),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Mermaid text

/**
 * A node or subgraph id Mermaid reads as one plain word: a kind prefix, then the name with `-` written `_`
 * and any other character but a-z and 0-9 as `X<hex>X`, so that distinct names never share an id, and no id
 * is a keyword (`end`, `style`, `class`...) or starts with the `o`/`x` that would turn an arrow into a circle
 * or a cross.
 */
export function mermaidId(prefix: string, name: string): string {
  const encoded = name.replace(/[^a-z0-9]/g, (c) => (c === "-" ? "_" : `X${c.charCodeAt(0).toString(16)}X`));
  return `${prefix}_${encoded}`;
}

const ENTITIES: Record<string, string> = { "#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;" };

/** Lines of text as a quoted Mermaid label: entity codes for what Mermaid would read as syntax, `<br/>` between lines. */
export function mermaidLabel(...lines: string[]): string {
  return `"${lines.map((line) => line.replace(/[#"<>&]/g, (c) => ENTITIES[c])).join("<br/>")}"`;
}

const serviceId = (name: string) => mermaidId("svc", name);
const exchangeId = (name: string) => mermaidId("ex", name);
const queueId = (name: string) => mermaidId("q", name);
const dlqId = (name: string) => mermaidId("dlq", name);
const hostId = (egress: Egress) => mermaidId("ext", "host" in egress ? egress.host : egress.cidr);
const GATEWAY = "gateway";
const FRONTEND = "frontend";

/** The domain a service belongs to: the one most of its keys are published in (the first on a tie). */
function serviceDomain(service: Service): string | undefined {
  const counts = new Map<string, number>();
  service.events.publishes.forEach((key) => counts.set(domainOf(key), (counts.get(domainOf(key)) ?? 0) + 1));
  return [...counts.entries()].reduce<[string, number] | undefined>(
    (a, b) => (a && a[1] >= b[1] ? a : b),
    undefined,
  )?.[0];
}

function renderFlowchart(graph: CatalogGraph): string {
  const lines = ["flowchart LR"];
  const entry = entryNodes(graph);
  lines.push(...entry.nodes);
  lines.push(...domainGroups(graph));
  const outside = outsideHosts(graph);
  lines.push(...outside.nodes);
  lines.push(...entry.edges, ...eventEdges(graph), ...dependencyEdges(graph), ...outside.edges);
  return lines.join("\n");
}

/** The gateway and the front end, with an edge to each service for its routes. */
function entryNodes(graph: CatalogGraph): { nodes: string[]; edges: string[] } {
  const routed = graph.services.filter((s) => graph.detailed.has(s.name) && s.routes.length > 0);
  if (routed.length === 0 && !graph.frontend) return { nodes: [], edges: [] };
  const nodes = [`  ${GATEWAY}[/${mermaidLabel("API gateway")}\\]`];
  const edges = routed.map((s) => `  ${GATEWAY} -->|${mermaidLabel(...s.routes.map(routeText))}| ${serviceId(s.name)}`);
  if (graph.frontend) {
    nodes.push(`  ${FRONTEND}[${mermaidLabel(`front end ${graph.frontend}`)}]`);
    edges.push(`  ${GATEWAY} -->|${mermaidLabel("/ · public")}| ${FRONTEND}`);
  }
  return { nodes, edges };
}

function routeText(route: Service["routes"][number]): string {
  const methods = route.methods ? `${route.methods.join(", ")} ` : "";
  const access = route.public ? "public" : "authenticated";
  return `${methods}${route.paths.join(", ")} · ${access} · ${route.rateLimitPerMinute}/min`;
}

/** A subgraph per domain (its exchange, its services, their queues and DLQs), and one for the services that publish nothing. */
function domainGroups(graph: CatalogGraph): string[] {
  const groups = new Map<string, { title: string; lines: string[] }>();
  const group = (domain: string | undefined) => {
    const id = domain === undefined ? "others" : mermaidId("dom", domain);
    if (!groups.has(id))
      groups.set(id, {
        title: domain === undefined ? "services that publish no events" : `${domain} domain`,
        lines: [],
      });
    return groups.get(id)!.lines;
  };
  for (const exchange of graph.exchanges) {
    group(domainOf(exchange)).push(`    ${exchangeId(exchange)}{{${mermaidLabel(exchange, "topic exchange")}}}`);
  }
  for (const service of graph.services) {
    const lines = group(serviceDomain(service));
    lines.push(`    ${serviceId(service.name)}(${mermaidLabel(service.name, ...serviceFacts(service))})`);
    for (const queue of graph.queues.filter((q) => q.service === service.name)) {
      lines.push(`    ${queueId(queue.name)}[[${mermaidLabel(`queue ${queue.name}`, ...queueFacts(queue))}]]`);
      lines.push(
        `    ${dlqId(queue.name)}[(${mermaidLabel(`DLQ ${queue.deadLetterQueue}`, `at most ${queue.deadLetterMaxLength} messages`)})]`,
      );
    }
  }
  return [...groups.entries()].flatMap(([id, { title, lines }]) => [
    `  subgraph ${id} [${mermaidLabel(title)}]`,
    ...lines,
    "  end",
  ]);
}

function serviceFacts(service: Service): string[] {
  const { database } = service;
  const facts = [database.kind === "none" ? "no database" : `${ENGINE_NAMES[database.kind]} ${database.version}`];
  if (service.cache) facts.push("Redis cache");
  return [facts.join(" · ")];
}

function queueFacts(queue: ConsumerQueue): string[] {
  const attempts = queue.maxAttempts === 1 ? "1 attempt, no retry" : `${queue.maxAttempts} attempts`;
  const retries = queue.retryDelaysMs.length ? `, retries after ${queue.retryDelaysMs.map(duration).join(", ")}` : "";
  const facts = [`${attempts}${retries}`];
  if (queue.unmatched.length) facts.push(`no publisher for ${queue.unmatched.join(", ")}`);
  return facts;
}

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Publisher to exchange with the keys it publishes there; exchange to queue with the keys the queue's bindings match. */
function eventEdges(graph: CatalogGraph): string[] {
  const edges: string[] = [];
  const grouped = <T>(items: T[], by: (item: T) => string) => {
    const map = new Map<string, T[]>();
    items.forEach((item) => map.set(by(item), [...(map.get(by(item)) ?? []), item]));
    return [...map.values()];
  };
  for (const group of grouped(graph.publications, (p) => `${p.service} ${p.exchange}`)) {
    const { service, exchange } = group[0];
    edges.push(`  ${serviceId(service)} -->|${mermaidLabel(...group.map((p) => p.key))}| ${exchangeId(exchange)}`);
  }
  for (const group of grouped(graph.deliveries, (d) => `${d.exchange} ${d.queue}`)) {
    const { exchange, queue } = group[0];
    edges.push(`  ${exchangeId(exchange)} -->|${mermaidLabel(...group.map((d) => d.key))}| ${queueId(queue)}`);
  }
  for (const queue of graph.queues) {
    edges.push(`  ${queueId(queue.name)} --> ${serviceId(queue.service)}`);
    const after = queue.maxAttempts === 1 ? "on failure" : `after ${queue.maxAttempts} attempts`;
    edges.push(`  ${queueId(queue.name)} -->|${mermaidLabel(after)}| ${dlqId(queue.name)}`);
  }
  return edges;
}

function dependencyEdges(graph: CatalogGraph): string[] {
  return graph.dependencies.map(
    ({ from, to }) => `  ${serviceId(from)} -.->|${mermaidLabel("depends on")}| ${serviceId(to)}`,
  );
}

/** The hosts and address ranges the detailed services call, in one subgraph, with an edge per service and port. */
function outsideHosts(graph: CatalogGraph): { nodes: string[]; edges: string[] } {
  const calls = graph.services
    .filter((s) => graph.detailed.has(s.name))
    .flatMap((s) => s.egress.map((egress) => ({ service: s.name, egress })));
  if (calls.length === 0) return { nodes: [], edges: [] };
  const hosts = new Map(calls.map(({ egress }) => [hostId(egress), "host" in egress ? egress.host : egress.cidr]));
  const nodes = [
    `  subgraph outside [${mermaidLabel("outside the platform")}]`,
    ...[...hosts].map(([id, name]) => `    ${id}([${mermaidLabel(name)}])`),
    "  end",
  ];
  const edges = calls.map(({ service, egress }) => {
    const ports = "host" in egress ? [egress.port] : egress.ports;
    return `  ${serviceId(service)} -->|${mermaidLabel(`port${ports.length > 1 ? "s" : ""} ${ports.join(", ")}`)}| ${hostId(egress)}`;
  });
  return { nodes, edges };
}
