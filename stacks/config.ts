import * as path from "path";
import { z } from "zod";
import { BUILTIN_CATALOGS, builtinCatalogPath, readCatalogFile } from "../services/load";
import { BUILD_TAG_MESSAGE, Catalog, PINNED_IMAGE } from "../services/schema";
import {
  Problem,
  ValidationError,
  closestName,
  error,
  formatPath,
  isError,
  reservedKeyProblems,
} from "../services/problems";
import { CONFIG_NAMESPACE, PlatformInputs } from "../components/platform";
import { GatewaySettingsSchema, gatewaySettingsProblems } from "../components/gateway/settings";
import { ObservabilitySettingsSchema } from "../components/observability/settings";
import {
  AlertDelivery,
  AlertingSettings,
  AlertingSettingsSchema,
  alertingProblems,
} from "../components/observability/alertingSettings";
import {
  DockerSettings,
  DockerSettingsSchema,
  dockerSettingsProblems,
  resolveDockerSettings,
} from "../components/docker/settings";
import { AwsSettingsSchema, AwsTargetSettings, checkAwsSettings } from "../components/aws/settings";
import { unpublishedImageProblems } from "../components/aws/serviceImages";

export { CONFIG_NAMESPACE };

/**
 * The stack config: what every target shares (catalog, images, gateway, observability, secrets)
 * here, and each target's own settings from its settings module (`platform:docker`,
 * `platform:aws`), which also checks them against the catalog.
 */
const StackSettingsSchema = z
  .object({
    target: z.enum(["docker", "aws"], { error: "must be 'docker' or 'aws'" }),
    aws: AwsSettingsSchema.optional(),
    docker: DockerSettingsSchema.default(DockerSettingsSchema.parse({})),
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be a lowercase name")
      .optional(),
    catalog: z.enum(BUILTIN_CATALOGS, { error: `must be one of ${BUILTIN_CATALOGS.join(", ")}` }).optional(),
    catalogFile: z.string().min(1).optional(),
    /** Per-service image overrides, e.g. a tag built locally. */
    images: z
      .record(
        z.string(),
        z.string().regex(PINNED_IMAGE, "must be an image with an explicit tag other than latest, or a digest"),
      )
      .default({}),
    gateway: GatewaySettingsSchema.default(GatewaySettingsSchema.parse({})),
    observability: ObservabilitySettingsSchema.default(ObservabilitySettingsSchema.parse({})),
    /** Where alerts go: Slack, e-mail, PagerDuty (secrets set with --secret). */
    alerting: AlertingSettingsSchema.default({}),
    /** Values of the catalog's `source: config` secrets: `{ service: { NAME: value } }`, set with --secret. */
    serviceSecrets: z.record(z.string(), z.record(z.string(), z.string())).default({}),
    /** Sentry DSN passed to every service as SENTRY_DSN; set with --secret. */
    sentryDsn: z
      .string()
      .regex(/^https:\/\/[0-9a-f]+@[a-z0-9.-]+(:\d+)?\/\d+$/, "must be a Sentry DSN: https://<key>@<host>/<project id>")
      .optional(),
  })
  .strict();

type StackSettings = z.output<typeof StackSettingsSchema>;

/** Keys that moved into a target's settings: named in the error so that a user knows where. */
const MOVED_KEYS: Record<string, string> = {
  cache: "platform:docker.cache (the dev Redis; prod uses ElastiCache)",
  "gateway.database": "platform:docker.gatewayDatabase (Kong's own database in dev)",
  "aws.mongodb.caBundleFile": "platform:aws.rdsCaBundleFile (it verifies RDS as well as DocumentDB)",
};

/** What every target is given (components/platform.ts), with the secrets still plain. */
type SharedConfig = Omit<PlatformInputs, "configSecrets" | "alerting"> & {
  /** Plaintext only here too; the program wraps the receivers' secrets. */
  alerting: AlertingSettings;
  /** Plaintext only here, between reading the stack config and wrapping each value in `pulumi.secret`. */
  serviceSecrets: Record<string, Record<string, string>>;
  /** Plaintext only here too. */
  sentryDsn?: string;
};

export type PlatformConfig = SharedConfig &
  ({ target: "docker"; docker: DockerSettings } | { target: "aws"; aws: AwsTargetSettings });

const KEYS = Object.keys(StackSettingsSchema.shape);
const OBJECT_KEYS = new Set(["aws", "images", "docker", "gateway", "observability", "alerting", "serviceSecrets"]);

/**
 * Reads and validates the stack config and the catalog it selects. `get` returns a config value as
 * the Pulumi engine stores it (objects as JSON text). Throws one ValidationError listing every
 * problem with the `platform:` key it came from, before anything is declared.
 */
export function readPlatformConfig(
  get: (key: string) => string | undefined,
  stack: string,
  projectDir: string,
  /** Every key the stack sets (all namespaces): a `platform:` key the program does not know is a typo. */
  configKeys: string[] = [],
): { config: PlatformConfig; warnings: Problem[] } {
  const { raw, problems } = readRaw(get);
  problems.push(
    ...unknownKeyProblems(configKeys),
    ...reservedKeyProblems(raw, "").map((p) => ({ ...p, path: `${CONFIG_NAMESPACE}:${p.path}` })),
  );
  const parsed = StackSettingsSchema.safeParse(raw);
  if (!parsed.success) problems.push(...settingsProblems(parsed.error));
  if (raw.target === "aws" && raw.aws === undefined) {
    problems.push(
      error(`${CONFIG_NAMESPACE}:aws`, "is required with target aws (layer, owner and costCenter at least)"),
    );
  }
  if ((raw.catalog === undefined) === (raw.catalogFile === undefined)) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:catalog`,
        "set exactly one of platform:catalog (a built-in catalog) or platform:catalogFile (a YAML path)",
      ),
    );
  }
  const catalog = parsed.success ? readSelectedCatalog(parsed.data, projectDir, problems) : undefined;
  const config = parsed.success && catalog ? compose(parsed.data, catalog, stack, projectDir, problems) : undefined;
  if (!config || problems.some(isError)) throw new ValidationError(`stack '${stack}' configuration`, problems);
  return { config, warnings: problems.filter((p) => !isError(p)) };
}

function readRaw(get: (key: string) => string | undefined): { raw: Record<string, unknown>; problems: Problem[] } {
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = {};
  for (const key of [...KEYS, ...Object.keys(MOVED_KEYS).filter((k) => !k.includes("."))]) {
    const value = get(`${CONFIG_NAMESPACE}:${key}`);
    if (value === undefined) continue;
    if (!OBJECT_KEYS.has(key) && !(key in MOVED_KEYS)) {
      raw[key] = value;
      continue;
    }
    try {
      raw[key] = JSON.parse(value);
    } catch {
      problems.push(error(`${CONFIG_NAMESPACE}:${key}`, "must be an object (set it with --path or in the stack file)"));
    }
  }
  return { raw, problems };
}

/** `platform:` keys nobody reads: named, with the key meant when one is close. */
function unknownKeyProblems(configKeys: string[]): Problem[] {
  const known = [...KEYS, ...Object.keys(MOVED_KEYS).filter((k) => !k.includes("."))];
  return configKeys.flatMap((fullKey) => {
    const [namespace, key] = fullKey.split(":", 2);
    if (namespace !== CONFIG_NAMESPACE || key === undefined || known.includes(key)) return [];
    return [error(fullKey, unknownKeyMessage(key, known))];
  });
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const meant = closestName(key, known);
  return meant ? `unknown key: did you mean ${meant}?` : `unknown key (known: ${known.join(", ")})`;
}

/** The keys the settings schema knows at a path of nested objects (through defaults and optionals). */
function knownKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  let schema: unknown = StackSettingsSchema;
  const unwrap = (s: any): any =>
    s?.def?.type === "default" || s?.def?.type === "optional" ? unwrap(s.def.innerType) : s;
  // A list's items (gateway clients) are the list's element schema.
  const step = (s: any, key: PropertyKey): unknown =>
    typeof key === "number" && s?.def?.type === "array" ? s.def.element : s?.shape?.[String(key)];
  for (const key of path) schema = step(unwrap(schema), key);
  return Object.keys(unwrap(schema)?.shape ?? {});
}

function settingsProblems(zodError: z.ZodError): Problem[] {
  return zodError.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      const prefix = issue.path.length ? `${formatPath(issue.path)}.` : "";
      return issue.keys.map((key) => {
        const moved = MOVED_KEYS[`${prefix}${key}`];
        const field = `${CONFIG_NAMESPACE}:${prefix}${key}`;
        return error(field, moved ? `moved to ${moved}` : unknownKeyMessage(key, knownKeysAt(issue.path)));
      });
    }
    const field = issue.path.length ? `${CONFIG_NAMESPACE}:${formatPath(issue.path)}` : CONFIG_NAMESPACE;
    return [error(field, issue.message)];
  });
}

function readSelectedCatalog(settings: StackSettings, projectDir: string, problems: Problem[]): Catalog | undefined {
  if ((settings.catalog === undefined) === (settings.catalogFile === undefined)) return undefined;
  const file = settings.catalog
    ? builtinCatalogPath(settings.catalog)
    : path.resolve(projectDir, settings.catalogFile!);
  const prefix = catalogPrefix(settings);
  const result = readCatalogFile(file, prefix);
  problems.push(...result.problems);
  return result.catalog;
}

/** How problems name the selected catalog's fields: `catalog erp.services[0]...`. */
function catalogPrefix(settings: StackSettings): string {
  return settings.catalog ? `catalog ${settings.catalog}` : `${CONFIG_NAMESPACE}:catalogFile (${settings.catalogFile})`;
}

/** The config a target is given: shared settings, and the selected target's own, checked against the catalog. */
function compose(
  settings: StackSettings,
  catalog: Catalog,
  stack: string,
  projectDir: string,
  problems: Problem[],
): PlatformConfig {
  problems.push(
    ...secretAndImageProblems(settings, catalog),
    ...gatewaySettingsProblems(settings.gateway, catalog, catalogPrefix(settings)),
  );
  const shared: SharedConfig = {
    stack,
    environment: settings.environment ?? stack,
    catalog,
    images: settings.images,
    gateway: settings.gateway,
    observability: settings.observability,
    alerting: settings.alerting,
    serviceSecrets: settings.serviceSecrets,
    sentryDsn: settings.sentryDsn,
  };
  problems.push(...alertingProblems(settings.alerting, ...alertDelivery(settings)));
  if (settings.target === "aws" && settings.aws) {
    const aws = checkAwsSettings(settings.aws, catalog, projectDir, shared.environment, settings.observability);
    problems.push(...aws.problems);
    // The platform layer runs the services; the infrastructure layer makes the repositories to push to first.
    if (aws.resolved.layer === "platform") {
      problems.push(
        ...unpublishedImageProblems(catalog, settings.images, catalogPrefix(settings), aws.resolved.region),
      );
    }
    return { ...shared, target: "aws", aws: aws.resolved };
  }
  if (settings.target === "docker") {
    problems.push(...dockerSettingsProblems(settings.docker, catalog, settings.observability));
  }
  return { ...shared, target: "docker", docker: resolveDockerSettings(settings.docker, catalog, stack) };
}

/**
 * How the stack delivers alerts, and whether it must reach someone: prod's platform layer through
 * Alertmanager, its infrastructure layer (the managed stores' CloudWatch alarms) through SNS; dev
 * may keep them in its local Alertmanager.
 */
function alertDelivery(settings: StackSettings): [AlertDelivery, boolean] {
  if (settings.target === "docker") return ["alertmanager", false];
  return [settings.aws?.layer === "infrastructure" ? "sns" : "alertmanager", true];
}

/** Image overrides and secrets must name the catalog's services and secrets, and every config secret be set. */
function secretAndImageProblems(settings: StackSettings, catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  const services = new Map(catalog.services.map((s) => [s.name, s]));
  const unknown = (field: string, name: string) =>
    error(`${CONFIG_NAMESPACE}:${field}.${name}`, `unknown service '${name}' in catalog '${catalog.name}'`);
  for (const [name, image] of Object.entries(settings.images)) {
    if (!services.has(name) && name !== catalog.frontend?.name) problems.push(unknown("images", name));
    if (services.get(name)?.build && image.includes("@")) {
      problems.push(error(`${CONFIG_NAMESPACE}:images.${name}`, BUILD_TAG_MESSAGE));
    }
  }
  for (const [name, values] of Object.entries(settings.serviceSecrets)) {
    const service = services.get(name);
    if (!service) {
      problems.push(unknown("serviceSecrets", name));
      continue;
    }
    const declared = new Set(service.secrets.filter((s) => s.source === "config").map((s) => s.name));
    for (const key of Object.keys(values).filter((k) => !declared.has(k))) {
      problems.push(
        error(
          `${CONFIG_NAMESPACE}:serviceSecrets.${name}.${key}`,
          `service '${name}' declares no config secret '${key}'`,
        ),
      );
    }
  }
  for (const service of catalog.services) {
    for (const secret of service.secrets.filter((s) => s.source === "config")) {
      if (settings.serviceSecrets[service.name]?.[secret.name] !== undefined) continue;
      const field = `${CONFIG_NAMESPACE}:serviceSecrets.${service.name}.${secret.name}`;
      problems.push(error(field, `missing: run pulumi config set --secret --path '${field}' <value>`));
    }
  }
  return problems;
}
