import * as pulumi from "@pulumi/pulumi";
import { Service } from "../../services/schema";
import { RecordedResource, isSecretOnWire, ofType, valueOf } from "../../tools/mockRun";
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

/** One variable as a service receives it, and whether Pulumi keeps it secret on the way. */
export interface ReceivedValue {
  value: string;
  secret: boolean;
}

/**
 * A service's environment as the mocks recorded it: on dev its container's env list (secret as a
 * whole once it holds a credential), on prod its Deployment's plain env and its Secret's keys.
 */
export function receivedEnvironment(resources: RecordedResource[], service: string): Record<string, ReceivedValue> {
  const container = ofType(resources, "docker:index/container:Container").find((c) => c.inputs.hostname === service);
  if (container) {
    const secret = isSecretOnWire(container.wire.envs);
    return Object.fromEntries(
      Object.entries(parseEnvList(container.inputs.envs)).map(([name, value]) => [name, { value, secret }]),
    );
  }
  const named = (type: string) => ofType(resources, type).find((r) => r.inputs.metadata?.name === service)!.inputs;
  const plain = named("kubernetes:apps/v1:Deployment").spec.template.spec.containers[0].env as Array<{
    name: string;
    value: string;
  }>;
  return {
    ...Object.fromEntries(plain.map((e) => [e.name, { value: e.value, secret: false }])),
    ...Object.fromEntries(
      Object.entries(named("kubernetes:core/v1:Secret").stringData as Record<string, string>).map(([k, v]) => [
        k,
        { value: v, secret: true },
      ]),
    ),
  };
}

/** A Docker container's `NAME=value` list by name (a value may hold `=` itself). */
export function parseEnvList(envs: string[]): Record<string, string> {
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** The values alone, as a process reads its environment. */
export function valuesOf(received: Record<string, ReceivedValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(received).map(([name, { value }]) => [name, value]));
}

/** Each value of a computed environment resolved, with its secrecy, as a container would get it. */
export async function resolvedValues(
  values: Record<string, pulumi.Input<string>>,
): Promise<Record<string, ReceivedValue>> {
  const entries = await Promise.all(
    Object.entries(values).map(async ([name, value]) => [name, await valueOf(pulumi.output(value))] as const),
  );
  return Object.fromEntries(entries);
}
