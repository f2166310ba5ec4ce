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
  check(props: Record<string, any>, type: string): string[];
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
