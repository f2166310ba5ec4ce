import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/** The marker Pulumi's wire format puts on a secret value. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  /** URNs this resource was told to wait for (dependsOn and input dependencies). */
  dependencies: string[];
  provider: string;
  /** Inputs as plain values. */
  inputs: Record<string, any>;
  /** Inputs as sent to the engine, secrets still wrapped; used to prove nothing leaks in plain text. */
  wire: Record<string, unknown>;
}

export interface MockRun<T> {
  result: T;
  resources: RecordedResource[];
  /** Every value a RandomPassword produced in this run. */
  generatedSecrets: string[];
}

export const PROJECT = "microservices-platform";

/**
 * Runs `program` under pulumi.runtime.setMocks with the given stack config and waits until every
 * resource has been registered. Random passwords get distinct, recognisable values.
 */
export async function runUnderMocks<T>(stack: string, config: Record<string, string>, program: () => T): Promise<MockRun<T>> {
  const resources: RecordedResource[] = [];
  const generatedSecrets: string[] = [];
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks({
    newResource(args) {
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "random:index/randomPassword:RandomPassword") {
        const value = `pw${createHash("sha256").update(`${stack}/${args.name}`).digest("hex").slice(0, 24)}`;
        generatedSecrets.push(value);
        // The engine marks `result` secret (additionalSecretOutputs); mocks have no engine, so do it here.
        state.result = pulumi.secret(value);
      }
      if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:${args.inputs.name}`;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      return args.inputs;
    },
  }, PROJECT, stack, false);

  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    const wire = req.getObject().toJavaScript();
    resources.push({
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      custom: req.getCustom(),
      dependencies: req.getDependenciesList(),
      provider: req.getProvider(),
      inputs: unwrapSecrets(wire) as Record<string, any>,
      wire,
    });
    return register(req, callback);
  };

  const result = program();
  // Resolves once every registration the program started (components and children) is done.
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { result, resources, generatedSecrets };
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Paths (`type/name.field...`) where one of `secrets` occurs outside a secret-wrapped value. */
export function plaintextOccurrences(resources: RecordedResource[], secrets: string[]): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === "string") {
      if (secrets.some((secret) => value.includes(secret))) found.push(path);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      if (record[SIG_KEY] === SECRET_SIG) return;
      for (const [k, v] of Object.entries(record)) walk(v, `${path}.${k}`);
    }
  };
  for (const r of resources) walk(r.wire, `${r.type}/${r.name}`);
  return found;
}

export async function valueOf<T>(output: pulumi.Output<T>): Promise<{ value: T; secret: boolean }> {
  const [value, secret] = await Promise.all([
    new Promise<T>((resolve) => output.apply((v) => { resolve(v); return v; })),
    pulumi.isSecret(output),
  ]);
  return { value, secret };
}

export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}
