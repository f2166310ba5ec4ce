/**
 * Kong has no binary on these machines, so rendered declarative configs are checked against the
 * fields Kong 3.9's schemas define (Kong/kong tag 3.9.1: kong/plugins/<name>/schema.lua,
 * kong/tools/redis/schema.lua, kong/plugins/jwt/daos.lua, kong/plugins/key-auth/daos.lua).
 */

/** Bundled plugins this platform uses, with the config fields each accepts. */
export const KONG_PLUGIN_FIELDS: Record<string, string[]> = {
  "rate-limiting": [
    "second",
    "minute",
    "hour",
    "day",
    "month",
    "year",
    "limit_by",
    "header_name",
    "path",
    "policy",
    "fault_tolerant",
    "redis",
    "hide_client_headers",
    "error_code",
    "error_message",
    "sync_rate",
  ],
  jwt: [
    "uri_param_names",
    "cookie_names",
    "header_names",
    "key_claim_name",
    "secret_is_base64",
    "claims_to_verify",
    "anonymous",
    "run_on_preflight",
    "maximum_expiration",
    "realm",
  ],
  "key-auth": [
    "key_names",
    "hide_credentials",
    "anonymous",
    "key_in_header",
    "key_in_query",
    "key_in_body",
    "run_on_preflight",
    "realm",
  ],
  "request-termination": ["status_code", "message", "content_type", "body", "echo", "trigger"],
  cors: [
    "origins",
    "methods",
    "headers",
    "exposed_headers",
    "credentials",
    "max_age",
    "preflight_continue",
    "private_network",
  ],
  "correlation-id": ["header_name", "generator", "echo_downstream"],
  prometheus: [
    "per_consumer",
    "status_code_metrics",
    "ai_metrics",
    "latency_metrics",
    "bandwidth_metrics",
    "upstream_health_metrics",
  ],
};

/** The rate-limiting plugin's `redis` record (kong/tools/redis/schema.lua): no Sentinel or Cluster fields in 3.9. */
export const KONG_REDIS_FIELDS = [
  "host",
  "port",
  "timeout",
  "username",
  "password",
  "database",
  "ssl",
  "ssl_verify",
  "server_name",
];

/** In DB-less mode (both targets' prod path) Kong 3.9 offers `local` and `redis`; `cluster` needs a database. */
const RATE_LIMIT_POLICIES = ["local", "redis"];
const LIMIT_BY = ["consumer", "credential", "ip", "service", "header", "path"];

function pluginProblems(plugin: any, where: string): string[] {
  const fields = KONG_PLUGIN_FIELDS[plugin.name];
  if (!fields) return [`${where}: unknown plugin ${plugin.name}`];
  const problems = Object.keys(plugin.config ?? {})
    .filter((key) => !fields.includes(key))
    .map((key) => `${where}: plugin ${plugin.name}: unknown field ${key}`);
  const config = plugin.config ?? {};
  if (plugin.name === "rate-limiting") {
    if (!RATE_LIMIT_POLICIES.includes(config.policy ?? "local")) problems.push(`${where}: rate-limiting policy`);
    if (!LIMIT_BY.includes(config.limit_by ?? "consumer")) problems.push(`${where}: rate-limiting limit_by`);
    for (const key of Object.keys(config.redis ?? {}))
      if (!KONG_REDIS_FIELDS.includes(key)) problems.push(`${where}: rate-limiting redis: unknown field ${key}`);
    // The schema's entity checks: policy redis requires redis.host and redis.port.
    if (config.policy === "redis" && !(config.redis?.host && config.redis?.port > 0))
      problems.push(`${where}: rate-limiting redis needs redis.host and redis.port`);
  }
  if (plugin.name === "correlation-id" && !["uuid", "uuid#counter", "tracker"].includes(config.generator))
    problems.push(`${where}: correlation-id generator`);
  return problems;
}

function consumerProblems(config: any): string[] {
  const problems: string[] = [];
  const usernames = new Set<string>();
  const keys = new Set<string>();
  for (const consumer of config.consumers ?? []) {
    if (!consumer.username || usernames.has(consumer.username)) problems.push("consumer username missing or repeated");
    usernames.add(consumer.username);
    for (const secret of consumer.jwt_secrets ?? [])
      if (!secret.key || !secret.secret || !["HS256", "HS384", "HS512"].includes(secret.algorithm))
        problems.push(`consumer ${consumer.username}: jwt_secrets entry`);
    for (const credential of [...(consumer.jwt_secrets ?? []), ...(consumer.keyauth_credentials ?? [])]) {
      // Both credentials' keys are unique in Kong.
      if (!credential.key || keys.has(credential.key))
        problems.push(`consumer ${consumer.username}: key missing or repeated`);
      keys.add(credential.key);
    }
  }
  return problems;
}

/** What Kong would refuse to load, as far as the documented format and the 3.9 schemas say. */
export function checkKong(config: any): string[] {
  const problems: string[] = [];
  if (config._format_version !== "3.0") problems.push("_format_version must be 3.0");
  const names = new Set<string>();
  const plugins: Array<[any, string]> = (config.plugins ?? []).map((p: any) => [p, "global"]);
  for (const service of config.services ?? []) {
    if (typeof service.name !== "string" || !/^https?:\/\/[^/]+(:\d+)?$/.test(service.url))
      problems.push(`service ${service.name}: name and url (scheme://host:port) required`);
    for (const route of service.routes ?? []) {
      if (names.has(route.name)) problems.push(`route name ${route.name} repeats`);
      names.add(route.name);
      if (!(route.paths ?? []).length || route.paths.some((p: string) => !p.startsWith("/")))
        problems.push(`route ${route.name}: paths must start with /`);
      if ((route.protocols ?? []).some((p: string) => !["http", "https"].includes(p)))
        problems.push(`route ${route.name}: protocols`);
      plugins.push(...(route.plugins ?? []).map((p: any): [any, string] => [p, `route ${route.name}`]));
    }
  }
  for (const consumer of config.consumers ?? [])
    plugins.push(...(consumer.plugins ?? []).map((p: any): [any, string] => [p, `consumer ${consumer.username}`]));
  for (const [plugin, where] of plugins) problems.push(...pluginProblems(plugin, where));
  const usernames = new Set((config.consumers ?? []).map((c: any) => c.username));
  for (const [plugin, where] of plugins)
    if (plugin.config?.anonymous !== undefined && !usernames.has(plugin.config.anonymous))
      problems.push(`${where}: ${plugin.name} anonymous names no consumer`);
  return [...problems, ...consumerProblems(config)];
}
