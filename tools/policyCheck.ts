import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RULES, SecretPaths, toPolicies, WithSecretPaths } from "../policies/rules";
import { isSecretOnWire, RecordedResource } from "./mockRun";
import { stackLayers } from "./stackConfig";
import { runStack } from "./stackRun";
import { runCli } from "./cli";

export type EnforcementLevel = "mandatory" | "advisory" | "disabled";

export interface Violation {
  policy: string;
  level: EnforcementLevel;
  message: string;
  urn: string;
}

const projectDir = path.join(__dirname, "..");

/** The paths of the inputs that travelled to the engine as secrets (outermost wrapped value on each path). */
export function secretPathsOf(wire: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (isSecretOnWire(wire)) return [at];
  if (Array.isArray(wire)) return wire.flatMap((v, i) => secretPathsOf(v, [...at, i]));
  if (wire && typeof wire === "object")
    return Object.entries(wire as Record<string, unknown>).flatMap(([k, v]) => secretPathsOf(v, [...at, k]));
  return [];
}

/** A recorded resource, its secrets' paths worked out already (or changed, as the mutation tests do). */
export type CheckedRecord = RecordedResource & { secretPaths?: SecretPaths };

/**
 * Recorded resources as the policy engine presents them (props, parent links, dependencies), plus
 * what the engine drops: which inputs were secrets, so the rules can tell a secret by where it came from.
 */
export function asPolicyResources(recorded: CheckedRecord[]): Array<PolicyResource & WithSecretPaths> {
  const byUrn = new Map<string, PolicyResource>();
  const resources = recorded.map((r) => {
    const resource = {
      type: r.type,
      props: r.inputs,
      secretPaths: r.secretPaths ?? secretPathsOf(r.wire),
      urn: r.urn,
      name: r.name,
      opts: {
        protect: r.protect ?? false,
        ignoreChanges: r.ignoreChanges ?? [],
        aliases: [],
        additionalSecretOutputs: [],
        parent: r.parent || undefined,
      },
      dependencies: [] as PolicyResource[],
      propertyDependencies: {},
    } as unknown as PolicyResource;
    byUrn.set(r.urn, resource);
    return resource;
  });
  recorded.forEach((r, i) => {
    const resource = resources[i] as { parent?: PolicyResource; dependencies: PolicyResource[] };
    resource.parent = byUrn.get(r.parent);
    resource.dependencies = r.dependencies
      .map((urn) => byUrn.get(urn))
      .filter((d): d is PolicyResource => d !== undefined);
  });
  return resources;
}

/** Evaluates the pack's policies over every resource and then the whole stack. */
export async function evaluate(
  resources: PolicyResource[],
  levelOf: (policy: string) => EnforcementLevel,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const policy of toPolicies(RULES)) {
    const level = levelOf(policy.name);
    if (level === "disabled") continue;
    const report = (fallbackUrn: string) => (message: string, urn?: string) =>
      violations.push({ policy: policy.name, level, message, urn: urn ?? fallbackUrn });
    if ("validateStack" in policy) {
      await (policy as StackValidationPolicy).validateStack(
        { resources, stackTags: new Map(), getConfig: () => ({}) } as never,
        report(""),
      );
    } else {
      const validate = (policy as ResourceValidationPolicy).validateResource as (
        args: unknown,
        report: (m: string, u?: string) => void,
      ) => void;
      for (const resource of resources) validate({ ...resource, stackTags: new Map() }, report(resource.urn));
    }
  }
  return violations;
}

/** The pack's enforcement config of a stack (`policies/config/<stack>.json`); mandatory when absent. */
export function enforcementFor(stack: string): (policy: string) => EnforcementLevel {
  // Both prod layers take the prod enforcement (`prod-infra` reads prod.json).
  const file = path.join(projectDir, "policies", "config", `${stack.replace(/-infra$/, "")}.json`);
  const config: Record<string, unknown> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  return (policy) => {
    const entry = config[policy] ?? config.all ?? "mandatory";
    return (
      typeof entry === "string" ? entry : ((entry as { enforcementLevel?: string }).enforcementLevel ?? "mandatory")
    ) as EnforcementLevel;
  };
}

/** The README's table of the pack: every policy, what it checks, its severity and its level in each stack. */
export function policyTable(): string {
  const dev = enforcementFor("dev");
  const prod = enforcementFor("prod");
  return [
    "| policy | checks | severity | dev | prod |",
    "| --- | --- | --- | --- | --- |",
    ...RULES.map(
      (rule) =>
        `| \`${rule.name}\` | ${rule.description.replace(/\|/g, "\\|")} | ${rule.severity} | ${dev(rule.name)} | ${prod(rule.name)} |`,
    ),
  ].join("\n");
}

/** Output names that carry credentials (gatewayClients: every client's); the policy engine never sees outputs, so this check does. */
const SENSITIVE_OUTPUT = /(password|credential|kubeconfig|connection|secret|token|^gatewayClients$)/i;

export async function secretOutputViolations(
  outputs: Record<string, unknown>,
  level: EnforcementLevel,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const [name, value] of Object.entries(outputs)) {
    if (!SENSITIVE_OUTPUT.test(name) || value === undefined) continue;
    if (!(pulumi.Output.isInstance(value) && (await pulumi.isSecret(value)))) {
      violations.push({
        policy: "secret-stack-outputs",
        level,
        message: `stack output ${name} holds credentials but is not a secret`,
        urn: "",
      });
    }
  }
  return violations;
}

/** The stack's own resources and outputs through the pack (a platform layer's infrastructure stack is checked on its own). */
export async function checkStack(stack: string, layers = stackLayers(stack)): Promise<Violation[]> {
  const run = await runStack(layers);
  const levelOf = enforcementFor(stack);
  return [
    ...(await evaluate(asPolicyResources(run.resources), levelOf)),
    ...(await secretOutputViolations(
      run.result as unknown as Record<string, unknown>,
      levelOf("secret-stack-outputs"),
    )),
  ];
}

async function main(): Promise<number> {
  const stack = process.argv[2];
  if (!stack) {
    console.error("usage: npm run policy:check -- <stack>");
    return 2;
  }
  const violations = await checkStack(stack);
  if (violations.length > 0) {
    console.log("Policy Violations:");
    for (const v of violations) {
      console.log(`    [${v.level}]  platform-security  ${v.policy}  (${v.urn.split("::").pop() || "stack"})`);
      console.log(`    ${v.message}`);
    }
  }
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  console.log(
    `policy check of stack '${stack}': ${RULES.length} policies, ${mandatory} mandatory and ${violations.length - mandatory} advisory violations`,
  );
  return mandatory > 0 ? 1 : 0;
}

if (require.main === module) runCli(main);
