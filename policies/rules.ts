import { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { cdnHardened } from "./aws/cdn";
import { documentdbHardened, elasticacheHardened, mqNotPublic, rdsForceSsl, rdsHardened } from "./aws/dataStores";
import { eksHardened, networkPoliciesEnforced } from "./aws/eks";
import { kmsKeyRotation } from "./aws/kms";
import { s3Private } from "./aws/s3";
import { noOpenIngress } from "./aws/securityGroups";
import { requiredTags } from "./aws/tags";
import { pinnedImages } from "./containers/images";
import { containerResourceLimits, healthChecks } from "./containers/runtime";
import { ownDatabaseRole } from "./data/databaseOwners";
import { noPrivilegedContainers, portsOnLoopbackOnly } from "./docker/containers";
import { gatewayRoutesProtected } from "./gateway/routes";
import { gatewaySecretToIssuers } from "./gateway/signingSecret";
import { pdbForReplicatedPods } from "./kubernetes/disruption";
import { internetEgressDeclared, networkPolicyPerNamespace } from "./kubernetes/networkPolicies";
import { podSecurity } from "./kubernetes/podSecurity";
import { consumerQueuesHaveDlq } from "./messaging/deadLetters";
import { Rule } from "./rule";
import { noDefaultCredentials } from "./secrets/defaultCredentials";
import { noPlaintextSecretEnv } from "./secrets/plainValues";

export type { ResourceRule, Rule, Severity, StackRule } from "./rule";
export { isPinnedImage } from "./containers/images";

/**
 * Every policy of the pack, one list: the pack (index.ts), the offline check (tools/policyCheck.ts)
 * and the tests read this. Each area (aws/, kubernetes/, secrets/, gateway/, docker/, containers/,
 * messaging/, data/) holds its rules, one exported rule per concern.
 */
export const RULES: Rule[] = [
  noDefaultCredentials,
  noPlaintextSecretEnv,
  gatewaySecretToIssuers,
  portsOnLoopbackOnly,
  pinnedImages,
  containerResourceLimits,
  healthChecks,
  podSecurity,
  noPrivilegedContainers,
  rdsHardened,
  rdsForceSsl,
  documentdbHardened,
  elasticacheHardened,
  mqNotPublic,
  eksHardened,
  networkPoliciesEnforced,
  noOpenIngress,
  cdnHardened,
  s3Private,
  kmsKeyRotation,
  requiredTags,
  consumerQueuesHaveDlq,
  ownDatabaseRole,
  pdbForReplicatedPods,
  networkPolicyPerNamespace,
  internetEgressDeclared,
  gatewayRoutesProtected,
];

function describe(rule: Rule): string {
  return `${rule.description} [severity: ${rule.severity}] Remediation: ${rule.remediation}.`;
}

/** The rules as @pulumi/policy policies. */
export function toPolicies(rules: Rule[] = RULES): Array<ResourceValidationPolicy | StackValidationPolicy> {
  return rules.map((rule) =>
    rule.kind === "resource"
      ? {
          name: rule.name,
          description: describe(rule),
          validateResource: (args: { type: string; props: Record<string, any> }, report: ReportViolation) => {
            if (!rule.types.includes(args.type)) return;
            for (const problem of rule.check(args.props, args.type)) report(`${problem}. ${rule.remediation}.`);
          },
        }
      : {
          name: rule.name,
          description: describe(rule),
          validateStack: (args: { resources: PolicyResource[] }, report: ReportViolation) => {
            for (const problem of rule.check(args.resources))
              report(`${problem.message}. ${rule.remediation}.`, problem.urn);
          },
        },
  );
}
