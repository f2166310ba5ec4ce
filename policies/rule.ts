import { PolicyResource } from "@pulumi/policy";

/**
 * A policy as plain data plus a check returning the problems it finds, so the pack (index.ts), the
 * offline check (tools/policyCheck.ts) and the tests evaluate the very same rules. Rules match type
 * tokens (types.ts), not provider classes, so the pack does not load the provider SDKs.
 */
export type Severity = "low" | "medium" | "high" | "critical";

interface RuleBase {
  name: string;
  description: string;
  severity: Severity;
  remediation: string;
}

export interface ResourceRule extends RuleBase {
  kind: "resource";
  types: string[];
  check(props: Record<string, any>, type: string, provenance: Provenance): string[];
}

export interface StackRule extends RuleBase {
  kind: "stack";
  check(resources: PolicyResource[]): Array<{ message: string; urn?: string }>;
}

export type Rule = ResourceRule | StackRule;

export type Requirement = [holds: boolean, message: string];

/** The messages of the requirements that do not hold. */
export function unmet(requirements: Requirement[]): string[] {
  return requirements.filter(([holds]) => !holds).map(([, message]) => message);
}

/** Addresses that mean "anyone on the internet". */
export const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);

/**
 * Which inputs travelled as Pulumi secrets: a random password, a config secret, or a value made from
 * one. The engine unwraps secrets before a pack sees the props, so under `pulumi preview` nothing is
 * `known` and the rules judge by names and values alone; the offline check (tools/policyCheck.ts)
 * reads the markers the mock run records, so there a secret is told by where it comes from.
 */
export interface Provenance {
  readonly known: boolean;
  /** Whether the value at `path` (or an object or list holding it) is a secret. */
  isSecret(path: ReadonlyArray<string | number>): boolean;
}

/** Paths of the inputs that travelled as secrets, as the offline check hands them to the rules. */
export type SecretPaths = ReadonlyArray<ReadonlyArray<string | number>>;

/** A resource as the offline check presents it: what the engine would, plus the secrets' paths. */
export interface WithSecretPaths {
  secretPaths?: SecretPaths;
}

export function provenanceOf(resource: WithSecretPaths): Provenance {
  const paths = resource.secretPaths;
  if (!paths) return { known: false, isSecret: () => false };
  return {
    known: true,
    isSecret: (path) =>
      paths.some((secret) => secret.length <= path.length && secret.every((key, i) => String(key) === String(path[i]))),
  };
}
