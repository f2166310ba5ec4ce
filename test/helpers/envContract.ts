import { Service } from "../../services/schema";
import { BuiltinCatalog } from "../../services/load";
import { catalogDocument, writeCatalog } from "./catalogFiles";
import { dependencyUrlEnv } from "../../services/validate";

/** The fixed name of the contract (docs/env-contract.md) that carries what each placeholder stands for. */
const FIXED_NAME_OF_PLACEHOLDER: Record<string, string> = {
  "database.url": "DATABASE_URL",
  "database.host": "DB_HOST",
  "database.port": "DB_PORT",
  "database.name": "DB_NAME",
  "database.user": "DB_USER",
  "database.password": "DB_PASSWORD",
  "cache.url": "REDIS_URL",
  "cache.host": "REDIS_HOST",
  "cache.port": "REDIS_PORT",
  "cache.password": "REDIS_PASSWORD",
  "cache.sentinels": "REDIS_SENTINELS",
  "broker.url": "RABBITMQ_URL",
  "broker.user": "RABBITMQ_USER",
  "broker.password": "RABBITMQ_PASSWORD",
  "broker.vhost": "RABBITMQ_VHOST",
  "tracing.url": "OTEL_EXPORTER_OTLP_ENDPOINT",
  "gateway.jwtIssuer": "GATEWAY_JWT_ISSUER",
  "gateway.jwtSecret": "GATEWAY_JWT_SECRET",
  "sentry.dsn": "SENTRY_DSN",
};

/** The fixed name a declared value stands in for: its template is exactly one placeholder that has one. */
export function fixedNameOf(template: string): string | undefined {
  const placeholder = /^\$\{([^}]+)\}$/.exec(template)?.[1];
  if (placeholder === undefined) return undefined;
  const dependency = /^service\.([^.]+)\.url$/.exec(placeholder)?.[1];
  return dependency ? dependencyUrlEnv(dependency) : FIXED_NAME_OF_PLACEHOLDER[placeholder];
}

/**
 * The names under which a service receives what the contract calls `fixed`: that name on the
 * platform contract; under envContract none, each declared name set to exactly its placeholder.
 */
export function namesCarrying(service: Service, fixed: string): string[] {
  if (service.envContract === "platform") return [fixed];
  return Object.entries(service.env)
    .filter(([, template]) => fixedNameOf(template) === fixed)
    .map(([name]) => name);
}

/** Everything a service on envContract none gets: its declared env and secrets. */
export function declaredNames(service: Service): string[] {
  return [...Object.keys(service.env), ...service.secrets.map((s) => s.name)].sort();
}

/** The built-in catalog with every service on the platform's fixed names and no env of its own. */
export function platformContractCatalog(name: BuiltinCatalog): string {
  const document = catalogDocument(name);
  for (const service of document.services) {
    delete service.envContract;
    delete service.env;
  }
  return writeCatalog(document);
}
