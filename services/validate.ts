import { BROKER_MAX_TTL_MS, Catalog, CidrEgress, Egress, FRONTEND_PATH, Retry, Service } from "./schema";
import { canonicalCidr, parseIpv4Cidr, rangeContains } from "./cidr";
import { Problem, error, warning } from "./problems";
import { Placeholder, Resource, classifyPlaceholder, parseEnvTemplate } from "./placeholders";
import { cpuCores, memoryBytes } from "./quantities";

/**
 * Environment variables the platform itself sets on every service container;
 * a catalog that sets them too would silently lose its value. test/platform-env.test.ts keeps
 * this list equal to what the targets set.
 */
export const PLATFORM_ENV = [
  "SERVICE_NAME",
  "PORT",
  "PLATFORM_ENVIRONMENT",
  "HEALTH_PATH",
  "READINESS_PATH",
  "METRICS_PATH",
  "METRICS_PORT",
  "DATABASE_URL",
  "DB_HOST",
  "DB_PORT",
  "DB_NAME",
  "DB_USER",
  "DB_PASSWORD",
  "RABBITMQ_URL",
  "RABBITMQ_VHOST",
  "RABBITMQ_USER",
  "RABBITMQ_PASSWORD",
  "RABBITMQ_PUBLISHES",
  "RABBITMQ_QUEUES",
  "RABBITMQ_MAX_ATTEMPTS",
  "RABBITMQ_RETRY_EXCHANGE",
  "REDIS_URL",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_PASSWORD",
  "REDIS_SENTINELS",
  "REDIS_MASTER_NAME",
  "REDIS_SENTINEL_PASSWORD",
  "REDIS_TLS",
  "OTEL_SERVICE_NAME",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "GATEWAY_JWT_ISSUER",
  "GATEWAY_JWT_SECRET",
  "SENTRY_DSN",
  "SENTRY_ENVIRONMENT",
] as const;

/**
 * Hostnames the platform's own containers use on the shared networks; a service with one of
 * these names would be ambiguous.
 */
export const RESERVED_SERVICE_NAMES = [
  "kong",
  "kong-db",
  "rabbitmq",
  "redis",
  "redis-master",
  "redis-replica-1",
  "redis-replica-2",
  "redis-sentinel-1",
  "redis-sentinel-2",
  "redis-sentinel-3",
  "redis-exporter",
  "prometheus",
  "grafana",
  "loki",
  "promtail",
  "jaeger",
  "node-exporter",
  "elasticsearch",
  "elasticsearch-setup",
  "logstash",
  "kibana",
  "filebeat",
] as const;

/** Env var through which a service finds a service it calls synchronously: `hotel-service` -> HOTEL_SERVICE_URL. */
export function dependencyUrlEnv(service: string): string {
  return `${service.replace(/-/g, "_").toUpperCase()}_URL`;
}

/** The loopback port a service is published on in dev. */
export function publishedPort(service: Service): number {
  return service.hostPort ?? service.port;
}

/** Does a topic binding pattern (`*` one word, `#` zero or more) match a routing key? */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const match = (p: string[], k: string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    if (p[0] === "#") return match(p.slice(1), k) || (k.length > 0 && match(p, k.slice(1)));
    return k.length > 0 && (p[0] === "*" || p[0] === k[0]) && match(p.slice(1), k.slice(1));
  };
  return match(pattern.split("."), routingKey.split("."));
}

/**
 * Delay before each retry, whole milliseconds: retry n waits initialDelay * multiplier^(n-1).
 * maxAttempts counts deliveries (the first and the retries), so there are maxAttempts - 1.
 */
export function retryDelays(retry?: Pick<Retry, "maxAttempts" | "initialDelayMs" | "multiplier">): number[] {
  if (!retry) return [];
  const { maxAttempts, initialDelayMs, multiplier } = retry;
  return Array.from({ length: maxAttempts - 1 }, (_, i) => Math.round(initialDelayMs * multiplier ** i));
}

export function domainOf(routingKeyOrPattern: string): string {
  return routingKeyOrPattern.split(".")[0];
}

/** The topic exchange of a domain; services publish to it by this name. */
export const domainExchange = (domain: string) => `${domain}.events`;

/**
 * Exchange names and routing keys are AMQP 0-9-1 short strings, at most 255 bytes
 * (https://www.rabbitmq.com/tutorials/tutorial-five-javascript: "up to the limit of 255 bytes").
 */
const AMQP_NAME_BYTES = 255;

function duplicates<T>(items: T[]): Set<T> {
  const seen = new Set<T>();
  const dup = new Set<T>();
  for (const item of items) (seen.has(item) ? dup : seen).add(item);
  return dup;
}

/** Rules spanning fields or services, on a catalog that already matched the schema. */
export function validateCatalog(catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  const at = (index: number, field: string) => `services[${index}].${field}`;
  const byName = new Map<string, number>();

  // A service's database and exporter take `{name}-db` and `{name}-db-exporter`.
  // A MongoDB replica set also takes `{name}-db-2`, `{name}-db-3` and `{name}-db-init`.
  const derivedNames = new Map(
    catalog.services.flatMap((s) =>
      ["db", "db-exporter", "db-2", "db-3", "db-init"].map((suffix) => [`${s.name}-${suffix}`, s.name]),
    ),
  );
  const reservedNames = new Set<string>(RESERVED_SERVICE_NAMES);
  catalog.services.forEach((service, i) => {
    if (reservedNames.has(service.name))
      problems.push(error(at(i, "name"), `'${service.name}' is the name of a platform container`));
    const owner = derivedNames.get(service.name);
    if (owner) problems.push(error(at(i, "name"), `'${service.name}' is the name of ${owner}'s database container`));
    if (byName.has(service.name)) {
      problems.push(
        error(at(i, "name"), `duplicate service name '${service.name}' (also services[${byName.get(service.name)}])`),
      );
    } else byName.set(service.name, i);
  });

  const hostPortOwner = new Map<number, string>();
  catalog.services.forEach((service, i) => {
    const hostPort = publishedPort(service);
    const owner = hostPortOwner.get(hostPort);
    if (owner !== undefined) {
      problems.push(
        error(
          at(i, service.hostPort === undefined ? "port" : "hostPort"),
          `host port ${hostPort} clashes with service '${owner}' (set hostPort to publish it elsewhere)`,
        ),
      );
    } else hostPortOwner.set(hostPort, service.name);
  });

  catalog.services.forEach((service, i) => {
    problems.push(...validateService(service, i, byName));
  });

  if (catalog.frontend) {
    const name = catalog.frontend.name;
    if (byName.has(name) || reservedNames.has(name) || derivedNames.has(name)) {
      problems.push(error("frontend.name", `'${name}' is already the name of a service or platform container`));
    }
  }
  problems.push(...dependencyCycles(catalog.services));
  problems.push(...routeClashes(catalog.services, catalog.frontend !== undefined));
  problems.push(...eventWiring(catalog.services));
  problems.push(...retryDelayBounds(catalog.services));
  problems.push(...amqpNameLengths(catalog.services));
  return problems;
}

function validateService(service: Service, i: number, byName: Map<string, number>): Problem[] {
  const problems: Problem[] = [];
  const at = (field: string) => `services[${i}].${field}`;

  if (memoryBytes(service.resources.memory) < 4 * 1024 ** 2) {
    problems.push(error(at("resources.memory"), `'${service.resources.memory}' is below the 4Mi a container needs`));
  }
  if (cpuCores(service.resources.cpu) < 0.01) {
    problems.push(error(at("resources.cpu"), `'${service.resources.cpu}' is below 10m`));
  }
  if (service.singleton && service.replicas > 1) {
    problems.push(error(at("replicas"), `is ${service.replicas}, but a singleton (singleton: true) runs one pod`));
  }

  service.dependsOn.forEach((dep, d) => {
    if (dep === service.name) problems.push(error(at(`dependsOn[${d}]`), "a service cannot depend on itself"));
    else if (!byName.has(dep)) problems.push(error(at(`dependsOn[${d}]`), `unknown service '${dep}'`));
  });
  for (const dep of duplicates(service.dependsOn)) problems.push(error(at("dependsOn"), `'${dep}' is listed twice`));

  for (const name of duplicates(service.events.consumes.map((c) => c.name))) {
    problems.push(error(at("events.consumes"), `consumer name '${name}' is used twice`));
  }
  for (const key of duplicates(service.events.publishes)) {
    problems.push(error(at("events.publishes"), `routing key '${key}' is listed twice`));
  }

  // With envContract none the platform sets none of its names, so the service may use any.
  const reserved = new Set<string>(
    service.envContract === "platform" ? [...PLATFORM_ENV, ...service.dependsOn.map(dependencyUrlEnv)] : [],
  );
  for (const name of Object.keys(service.env)) {
    if (reserved.has(name)) problems.push(error(at(`env.${name}`), RESERVED_ENV_MESSAGE));
  }
  problems.push(...envPlaceholderProblems(service, at, byName));
  service.secrets.forEach((secret, s) => {
    if (reserved.has(secret.name)) problems.push(error(at(`secrets[${s}].name`), RESERVED_ENV_MESSAGE));
    if (secret.name in service.env)
      problems.push(error(at(`secrets[${s}].name`), `'${secret.name}' is also a plain env value`));
  });
  for (const name of duplicates(service.secrets.map((s) => s.name))) {
    problems.push(error(at("secrets"), `secret '${name}' is declared twice`));
  }
  problems.push(...egressProblems(service.egress, at));
  return problems;
}

const RESERVED_ENV_MESSAGE =
  "is set by the platform; choose another name, or set envContract: none to set only the service's own names";

/** Why a service cannot use a resource's placeholders, or undefined when it can. */
const RESOURCE_REQUIREMENTS: Record<Resource, (service: Service) => string | undefined> = {
  database: (s) => (s.database.kind === "none" ? "the service has no database (database.kind is none)" : undefined),
  cache: (s) => (s.cache ? undefined : "the service does not use the cache (cache: true)"),
  broker: (s) =>
    usesBroker(s) ? undefined : "the service publishes and consumes no events, so it has no broker login",
  tracing: () => undefined,
  sentry: () => undefined,
  gateway: (s) =>
    s.auth.issuesTokens ? undefined : "only a service with auth.issuesTokens: true holds the gateway's signing secret",
};

/** Why a service may not use a placeholder: what it refers to must be the service's own, or declared. */
function placeholderRefusal(
  placeholder: Placeholder,
  service: Service,
  byName: Map<string, number>,
): string | undefined {
  switch (placeholder.kind) {
    case "resource":
      return RESOURCE_REQUIREMENTS[placeholder.resource](service);
    case "service":
      if (!byName.has(placeholder.service)) return `'${placeholder.service}' is not a service of the catalog`;
      return service.dependsOn.includes(placeholder.service)
        ? undefined
        : `'${placeholder.service}' is not in dependsOn, so no path to it is opened`;
    case "secret":
      return service.secrets.some((s) => s.name === placeholder.name)
        ? undefined
        : `the service declares no secret '${placeholder.name}' (secrets)`;
  }
}

/** Every placeholder must parse, exist, and refer to something the service has. */
function envPlaceholderProblems(
  service: Service,
  at: (field: string) => string,
  byName: Map<string, number>,
): Problem[] {
  return Object.entries(service.env).flatMap(([name, value]) => {
    const { segments, errors } = parseEnvTemplate(value);
    const refusals = segments.flatMap((segment) => {
      if ("text" in segment) return [];
      const placeholder = classifyPlaceholder(segment.placeholder);
      if ("error" in placeholder) return [placeholder.error];
      const refusal = placeholderRefusal(placeholder, service, byName);
      return refusal ? [`\${${segment.placeholder}}: ${refusal}`] : [];
    });
    return [...errors, ...refusals].map((message) => error(at(`env.${name}`), message));
  });
}

/** The instance metadata service: holds the node's credentials, so no egress entry may cover it. */
const METADATA_ADDRESS = "169.254.169.254";

/** A host twice on one port, or a range twice; and each range's own problems. */
function egressProblems(egress: Egress[], at: (field: string) => string): Problem[] {
  const problems: Problem[] = [];
  const first = new Map<string, number>();
  egress.forEach((entry, e) => {
    const key = "host" in entry ? `${entry.host}:${entry.port}` : entry.cidr;
    const previous = first.get(key);
    if (previous !== undefined) problems.push(error(at(`egress[${e}]`), `${key} is already egress[${previous}]`));
    else first.set(key, e);
    if ("cidr" in entry) problems.push(...cidrProblems(entry, at(`egress[${e}]`)));
  });
  return problems;
}

function cidrProblems(entry: CidrEgress, at: string): Problem[] {
  const problems = [...duplicates(entry.ports)].map((port) => error(`${at}.ports`, `port ${port} is listed twice`));
  const range = parseIpv4Cidr(entry.cidr);
  const wrong = !range
    ? "is not an IPv4 CIDR: octets are 0-255, the prefix at most 32"
    : range.prefix === 0
      ? "would open every address: list the hosts the service calls as { host, port } instead"
      : canonicalCidr(range) !== entry.cidr
        ? `must be written ${canonicalCidr(range)}: a range's address has no bits past its prefix`
        : rangeContains(range, METADATA_ADDRESS)
          ? `holds the instance metadata address ${METADATA_ADDRESS}, which no service may reach`
          : undefined;
  return wrong ? [...problems, error(`${at}.cidr`, wrong)] : problems;
}

/** Reports each dependency cycle once, as the path that closes it. */
function dependencyCycles(services: Service[]): Problem[] {
  const problems: Problem[] = [];
  const index = new Map(services.map((s, i) => [s.name, i]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];

  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of services[index.get(name)!].dependsOn) {
      if (!index.has(dep) || dep === name) continue;
      if (state.get(dep) === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        problems.push(error(`services[${index.get(name)}].dependsOn`, `dependency cycle: ${cycle.join(" -> ")}`));
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const service of services) if (!state.has(service.name)) visit(service.name);
  return problems;
}

/** Services in an order where every service comes after those it depends on (catalog must be acyclic). */
export function dependencyOrder(services: Service[]): Service[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const placed = new Set<string>();
  const order: Service[] = [];
  const place = (service: Service): void => {
    if (placed.has(service.name)) return;
    placed.add(service.name);
    for (const dep of service.dependsOn) {
      const target = byName.get(dep);
      if (target) place(target);
    }
    order.push(service);
  };
  services.forEach(place);
  return order;
}

/** A service publishes or consumes events, so it gets a broker user. */
export function usesBroker(service: Service): boolean {
  return service.events.publishes.length > 0 || service.events.consumes.length > 0;
}

/** Some service has gateway routes: then the gateway limits rates and identifies clients. */
export function hasServiceRoutes(catalog: Catalog): boolean {
  return catalog.services.some((s) => s.routes.length > 0);
}

/** The catalog needs the API gateway: some service has routes, or there is a front end to serve at `/`. */
export function needsGateway(catalog: Catalog): boolean {
  return catalog.frontend !== undefined || hasServiceRoutes(catalog);
}

/** Answered by the gateway itself on every target (its own health, for `npm run health` and load balancers). */
export const GATEWAY_HEALTH_PATH = "/platform/health";

/** Every path prefix the gateway answers: the services' route paths and its own health route. */
export function gatewayPaths(services: Service[]): string[] {
  return [...new Set([...services.flatMap((s) => s.routes.flatMap((r) => r.paths)), GATEWAY_HEALTH_PATH])];
}

function routeClashes(services: Service[], hasFrontend: boolean): Problem[] {
  const problems: Problem[] = [];
  const owner = new Map<string, string>([[GATEWAY_HEALTH_PATH, "the gateway's own health check"]]);
  if (hasFrontend) owner.set(FRONTEND_PATH, "the front end");
  services.forEach((service, i) =>
    service.routes.forEach((route, r) =>
      route.paths.forEach((path, p) => {
        const previous = owner.get(path);
        if (previous !== undefined) {
          problems.push(
            error(`services[${i}].routes[${r}].paths[${p}]`, `path '${path}' is already routed to '${previous}'`),
          );
        } else owner.set(path, service.name);
      }),
    ),
  );
  return problems;
}

/**
 * Each retry parks the message in a retry queue whose x-message-ttl is its delay, so every
 * retry's delay is checked against maxDelayMs (a broker refuses a TTL above its ceiling, and a
 * backoff of years is a mistake well below it). Delays never shrink, so the retries over the
 * bound are the last ones: one problem names the first.
 */
function retryDelayBounds(services: Service[]): Problem[] {
  return services.flatMap((service, i) =>
    service.events.consumes.flatMap((consumer, c) => {
      if (!consumer.retry) return [];
      const { maxDelayMs } = consumer.retry;
      const delays = retryDelays(consumer.retry);
      const first = delays.findIndex((delay) => delay > maxDelayMs);
      if (first < 0) return [];
      const others = first + 1 < delays.length ? `retries ${first + 1} to ${delays.length} all do: ` : "";
      return [
        error(
          `services[${i}].events.consumes[${c}].retry`,
          `retry ${first + 1} waits ${delays[first]} ms, above maxDelayMs ${maxDelayMs} ` +
            `(${others}lower initialDelayMs, multiplier or maxAttempts, or raise maxDelayMs up to ${BROKER_MAX_TTL_MS})`,
        ),
      ];
    }),
  );
}

/**
 * Routing keys, binding patterns and their domains' exchanges must fit AMQP's short strings. Services
 * publish with these names themselves, so they cannot be shortened for them.
 */
function amqpNameLengths(services: Service[]): Problem[] {
  const problems: Problem[] = [];
  const check = (field: string, keyOrPattern: string) => {
    const tooLong = [keyOrPattern, domainExchange(domainOf(keyOrPattern))].find(
      (name) => Buffer.byteLength(name) > AMQP_NAME_BYTES,
    );
    if (tooLong) problems.push(error(field, `'${tooLong}' is longer than the ${AMQP_NAME_BYTES} bytes AMQP allows`));
  };
  services.forEach((service, i) => {
    service.events.publishes.forEach((key, k) => check(`services[${i}].events.publishes[${k}]`, key));
    service.events.consumes.forEach((consumer, c) =>
      consumer.bindings.forEach((pattern, b) => check(`services[${i}].events.consumes[${c}].bindings[${b}]`, pattern)),
    );
  });
  return problems;
}

/** Consumers bound to keys nobody publishes are legal (a publisher may come later) but worth a warning. */
function eventWiring(services: Service[]): Problem[] {
  const published = services.flatMap((s) => s.events.publishes);
  const problems: Problem[] = [];
  services.forEach((service, i) =>
    service.events.consumes.forEach((consumer, c) =>
      consumer.bindings.forEach((pattern, b) => {
        if (!published.some((key) => topicMatches(pattern, key))) {
          problems.push(
            warning(
              `services[${i}].events.consumes[${c}].bindings[${b}]`,
              `no service publishes a routing key matching '${pattern}'`,
            ),
          );
        }
      }),
    ),
  );
  return problems;
}
