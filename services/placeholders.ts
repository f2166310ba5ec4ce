/**
 * Placeholders in a service's `env` values, resolved per target (docs/env-contract.md): a service
 * keeps its framework's variable names (`DB_DATABASE`, `SPRING_DATASOURCE_URL`) and the platform
 * fills in what only it knows. `${database.host}`, `${service.hotel-service.url}`,
 * `${secret.API_KEY}`; `$${` writes a literal `${`.
 */

/** Whether a field's value holds a credential: a value using one becomes a secret itself. */
type Sensitivity = "plain" | "secret";

/** Every `${resource.field}` there is; each target supplies every field of the resources a service has. */
export const RESOURCE_FIELDS = {
  database: {
    host: "plain",
    port: "plain",
    name: "plain",
    user: "plain",
    password: "secret",
    url: "secret",
    /** The URL's query (TLS options, replica set), for building a URL of another scheme (JDBC). */
    options: "plain",
  },
  /** `sentinels`: `host:port,...`, empty where the cache has no Sentinel; `tls`: `true` or `false`. */
  cache: { host: "plain", port: "plain", password: "secret", url: "secret", sentinels: "plain", tls: "plain" },
  broker: {
    host: "plain",
    port: "plain",
    user: "plain",
    password: "secret",
    url: "secret",
    vhost: "plain",
    tls: "plain",
  },
  tracing: { url: "plain" },
  gateway: { jwtIssuer: "plain", jwtSecret: "secret" },
  /** The stack's `platform:sentryDsn`; empty when unset, which Sentry's SDKs read as "off". */
  sentry: { dsn: "secret" },
} as const satisfies Record<string, Record<string, Sensitivity>>;

export type Resource = keyof typeof RESOURCE_FIELDS;
export type ResourceField<R extends Resource> = keyof (typeof RESOURCE_FIELDS)[R] & string;
/** What a target hands the resolver for one resource: a value for every field. */
export type ResourceValues<V> = { [R in Resource]: Record<ResourceField<R>, V> };

export type Placeholder =
  | { kind: "resource"; resource: Resource; field: string }
  | { kind: "service"; service: string }
  | { kind: "secret"; name: string };

export type EnvSegment = { text: string } | { placeholder: string };

const RESOURCES = Object.keys(RESOURCE_FIELDS) as Resource[];
const KNOWN = [...RESOURCES.map((r) => `${r}.*`), "service.<name>.url", "secret.<NAME>"].join(", ");

function isResource(name: string): name is Resource {
  return Object.hasOwn(RESOURCE_FIELDS, name);
}

/** Splits a value into text and placeholders; `errors` names each placeholder that is not closed. */
export function parseEnvTemplate(value: string): { segments: EnvSegment[]; errors: string[] } {
  const segments: EnvSegment[] = [];
  const errors: string[] = [];
  let text = "";
  let i = 0;
  while (i < value.length) {
    if (value.startsWith("$${", i)) {
      text += "${";
      i += 3;
    } else if (value.startsWith("${", i)) {
      const end = value.indexOf("}", i + 2);
      if (end < 0) {
        errors.push(`'${value.slice(i)}' is not closed with } (write $\${ for a literal \${)`);
        text += value.slice(i);
        break;
      }
      if (text) segments.push({ text });
      text = "";
      segments.push({ placeholder: value.slice(i + 2, end) });
      i = end + 1;
    } else {
      text += value[i++];
    }
  }
  if (text) segments.push({ text });
  return { segments, errors };
}

/** What a placeholder refers to, or why it refers to nothing. */
export function classifyPlaceholder(key: string): Placeholder | { error: string } {
  const parts = key.split(".");
  const [head, ...rest] = parts;
  if (head === "service" && rest.length === 2 && rest[1] === "url" && rest[0]) {
    return { kind: "service", service: rest[0] };
  }
  if (head === "secret" && rest.length === 1 && rest[0]) return { kind: "secret", name: rest[0] };
  if (isResource(head) && rest.length === 1) {
    if (Object.hasOwn(RESOURCE_FIELDS[head], rest[0])) return { kind: "resource", resource: head, field: rest[0] };
    const fields = Object.keys(RESOURCE_FIELDS[head]).join(", ");
    return { error: `unknown placeholder \${${key}}; ${head} has ${fields}` };
  }
  return { error: `unknown placeholder \${${key}}; placeholders are ${KNOWN}` };
}

/** A value built with a credential is itself a credential. */
export function isSecretPlaceholder(placeholder: Placeholder): boolean {
  if (placeholder.kind === "secret") return true;
  if (placeholder.kind === "service") return false;
  const fields: Record<string, Sensitivity> = RESOURCE_FIELDS[placeholder.resource];
  return fields[placeholder.field] === "secret";
}

/** A value's text and placeholders; throws on one that does not parse (validation rejects those first). */
function compile(value: string): Array<{ text: string } | { placeholder: Placeholder }> {
  const { segments, errors } = parseEnvTemplate(value);
  const compiled = segments.map((s) => ("text" in s ? s : { placeholder: classifyPlaceholder(s.placeholder) }));
  const problem =
    errors[0] ??
    compiled.flatMap((s) => ("placeholder" in s && "error" in s.placeholder ? [s.placeholder.error] : []))[0];
  if (problem !== undefined) throw new Error(`env value '${value}': ${problem}`);
  return compiled as Array<{ text: string } | { placeholder: Placeholder }>;
}

export function placeholdersOf(value: string): Placeholder[] {
  return compile(value).flatMap((s) => ("placeholder" in s ? [s.placeholder] : []));
}

/** The value with every placeholder replaced by what `lookup` gives it (`index`: its place among them). */
export function renderEnvTemplate(value: string, lookup: (placeholder: Placeholder, index: number) => string): string {
  let index = 0;
  return compile(value)
    .map((s) => ("text" in s ? s.text : lookup(s.placeholder, index++)))
    .join("");
}
