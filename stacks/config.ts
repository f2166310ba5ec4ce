import * as path from "path";
import { z } from "zod";
import { BUILTIN_CATALOGS, builtinCatalogPath, readCatalogFile } from "../services/load";
import { Catalog, PINNED_IMAGE } from "../services/schema";
import { Problem, ValidationError, error, formatPath, isError } from "../services/problems";
import { publishedPort } from "../services/validate";

/** Stack settings of the local Docker target (`platform:docker`). */
const DockerSettingsSchema = z.object({
  /** Prefix of every container, network and volume name; defaults to `{catalog}-{stack}`. */
  namePrefix: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be a lowercase name of at most 31 characters").optional(),
  /** Service databases are published on 127.0.0.1 from this port up, one per service with a database. */
  databasePortBase: z.number().int().min(1024).max(65000).default(15432),
  /** RabbitMQ management API and UI on 127.0.0.1 (the rabbitmq provider manages the topology through it). */
  rabbitmqManagementPort: z.number().int().min(1024).max(65535).default(15672),
  /** AMQP is published on 127.0.0.1 only when a port is given here. */
  amqpHostPort: z.number().int().min(1024).max(65535).optional(),
  rabbitmqImage: z.string().regex(PINNED_IMAGE, "must be an image with an explicit tag").default("rabbitmq:3.13.7-management-alpine"),
}).strict();

const TargetSettingsSchema = z.object({
  target: z.enum(["docker"], { error: "must be 'docker' (the aws target is not available yet)" }),
  environment: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be a lowercase name").optional(),
  catalog: z.enum(BUILTIN_CATALOGS, { error: `must be one of ${BUILTIN_CATALOGS.join(", ")}` }).optional(),
  catalogFile: z.string().min(1).optional(),
  /** Per-service image overrides, e.g. a tag built locally. */
  images: z.record(z.string(), z.string().regex(PINNED_IMAGE, "must be an image with an explicit tag or digest")).default({}),
  docker: DockerSettingsSchema.default(DockerSettingsSchema.parse({})),
  /** Values of the catalog's `source: config` secrets: `{ service: { NAME: value } }`, set with --secret. */
  serviceSecrets: z.record(z.string(), z.record(z.string(), z.string())).default({}),
}).strict();

export type DockerSettings = z.output<typeof DockerSettingsSchema>;

export interface PlatformConfig {
  target: "docker";
  stack: string;
  environment: string;
  catalog: Catalog;
  images: Record<string, string>;
  docker: DockerSettings & { namePrefix: string };
  /** Plaintext only here, between reading the stack config and wrapping each value in `pulumi.secret`. */
  serviceSecrets: Record<string, Record<string, string>>;
}

export const CONFIG_NAMESPACE = "platform";
const KEYS = ["target", "environment", "catalog", "catalogFile", "images", "docker", "serviceSecrets"] as const;
const OBJECT_KEYS = new Set<string>(["images", "docker", "serviceSecrets"]);

/**
 * Reads and validates the stack config and the catalog it selects. `get` returns a config value as
 * the Pulumi engine stores it (objects as JSON text). Throws one ValidationError listing every
 * problem with the `platform:` key it came from, before anything is declared.
 */
export function readPlatformConfig(get: (key: string) => string | undefined, stack: string, projectDir: string): { config: PlatformConfig; warnings: Problem[] } {
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = get(`${CONFIG_NAMESPACE}:${key}`);
    if (value === undefined) continue;
    if (!OBJECT_KEYS.has(key)) { raw[key] = value; continue; }
    try {
      raw[key] = JSON.parse(value);
    } catch {
      problems.push(error(`${CONFIG_NAMESPACE}:${key}`, "must be an object (set it with --path or in the stack file)"));
    }
  }
  const parsed = TargetSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => error(
      issue.path.length ? `${CONFIG_NAMESPACE}:${formatPath(issue.path)}` : CONFIG_NAMESPACE,
      issue.code === "unrecognized_keys" ? `${issue.message} (known: ${KEYS.join(", ")})` : issue.message)));
  }
  if ((raw.catalog === undefined) === (raw.catalogFile === undefined)) {
    problems.push(error(`${CONFIG_NAMESPACE}:catalog`, "set exactly one of platform:catalog (a built-in catalog) or platform:catalogFile (a YAML path)"));
  }

  let catalog: Catalog | undefined;
  if (parsed.success && (parsed.data.catalog === undefined) !== (parsed.data.catalogFile === undefined)) {
    const file = parsed.data.catalog ? builtinCatalogPath(parsed.data.catalog) : path.resolve(projectDir, parsed.data.catalogFile!);
    const prefix = parsed.data.catalog ? `catalog ${parsed.data.catalog}` : `${CONFIG_NAMESPACE}:catalogFile (${parsed.data.catalogFile})`;
    const result = readCatalogFile(file, prefix);
    problems.push(...result.problems);
    catalog = result.catalog;
  }

  if (parsed.success && catalog) problems.push(...crossCheck(parsed.data, catalog));
  if (problems.some(isError) || !parsed.success || !catalog) {
    throw new ValidationError(`stack '${stack}' configuration`, problems);
  }

  const settings = parsed.data;
  return {
    config: {
      target: settings.target,
      stack,
      environment: settings.environment ?? stack,
      catalog,
      images: settings.images,
      docker: { ...settings.docker, namePrefix: settings.docker.namePrefix ?? `${catalog.name}-${stack}`.slice(0, 31).replace(/-+$/, "") },
      serviceSecrets: settings.serviceSecrets,
    },
    warnings: problems.filter((p) => !isError(p)),
  };
}

/** Rules between the stack config and the catalog it deploys. */
function crossCheck(settings: z.output<typeof TargetSettingsSchema>, catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  const services = new Map(catalog.services.map((s) => [s.name, s]));

  for (const name of Object.keys(settings.images)) {
    if (!services.has(name)) problems.push(error(`${CONFIG_NAMESPACE}:images.${name}`, `unknown service '${name}' in catalog '${catalog.name}'`));
  }
  for (const [name, values] of Object.entries(settings.serviceSecrets)) {
    const service = services.get(name);
    if (!service) {
      problems.push(error(`${CONFIG_NAMESPACE}:serviceSecrets.${name}`, `unknown service '${name}' in catalog '${catalog.name}'`));
      continue;
    }
    const declared = new Set(service.secrets.filter((s) => s.source === "config").map((s) => s.name));
    for (const key of Object.keys(values)) {
      if (!declared.has(key)) problems.push(error(`${CONFIG_NAMESPACE}:serviceSecrets.${name}.${key}`, `service '${name}' declares no config secret '${key}'`));
    }
  }
  for (const service of catalog.services) {
    for (const secret of service.secrets.filter((s) => s.source === "config")) {
      if (settings.serviceSecrets[service.name]?.[secret.name] === undefined) {
        problems.push(error(`${CONFIG_NAMESPACE}:serviceSecrets.${service.name}.${secret.name}`,
          `missing: run pulumi config set --secret --path '${CONFIG_NAMESPACE}:serviceSecrets.${service.name}.${secret.name}' <value>`));
      }
    }
  }

  // Every port the dev stack publishes on 127.0.0.1 must be distinct.
  const owners = new Map<number, string>();
  const claim = (port: number, field: string, what: string) => {
    const owner = owners.get(port);
    if (owner) problems.push(error(field, `host port ${port} (${what}) clashes with ${owner}`));
    else owners.set(port, what);
  };
  for (const service of catalog.services) claim(publishedPort(service), `catalog.services.${service.name}.port`, `service ${service.name}`);
  claim(settings.docker.rabbitmqManagementPort, `${CONFIG_NAMESPACE}:docker.rabbitmqManagementPort`, "RabbitMQ management");
  if (settings.docker.amqpHostPort !== undefined) claim(settings.docker.amqpHostPort, `${CONFIG_NAMESPACE}:docker.amqpHostPort`, "AMQP");
  databaseHostPorts(catalog, settings.docker.databasePortBase).forEach((port, name) =>
    claim(port, `${CONFIG_NAMESPACE}:docker.databasePortBase`, `database of ${name}`));
  return problems;
}

/** Loopback port of each service database, in catalog order from `base`. */
export function databaseHostPorts(catalog: Catalog, base: number): Map<string, number> {
  const ports = new Map<string, number>();
  for (const service of catalog.services) {
    if (service.database.kind !== "none") ports.set(service.name, base + ports.size);
  }
  return ports;
}
