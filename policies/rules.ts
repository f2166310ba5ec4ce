import { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { cdnHardened } from "./aws/cdn";
import {
  documentdbHardened,
  elasticacheHardened,
  finalSnapshots,
  mqNotPublic,
  rdsForceSsl,
  rdsHardened,
} from "./aws/dataStores";
import { ecrHardened } from "./aws/ecr";
import { eksHardened, networkPoliciesEnforced } from "./aws/eks";
import { iamNoAdminPolicies, iamNoWildcardActions, iamTrustScoped } from "./aws/iam";
import { kmsKeyPolicyScoped, kmsKeyRotation } from "./aws/kms";
import { s3Private } from "./aws/s3";
import { nodeRemoteAccessRestricted, noOpenIngress } from "./aws/securityGroups";
import { requiredTags } from "./aws/tags";
import { pinnedImages } from "./containers/images";
import { containerResourceLimits, healthChecks } from "./containers/runtime";
import { ownDatabaseRole } from "./data/databaseOwners";
import { noPrivilegedContainers, portsOnLoopbackOnly } from "./docker/containers";
import { gatewayAdminPrivate, gatewayTlsOnly, gatewayTlsPolicy } from "./gateway/listeners";
import { gatewayRoutesProtected } from "./gateway/routes";
import { gatewaySecretToIssuers } from "./gateway/signingSecret";
import { pdbForReplicatedPods } from "./kubernetes/disruption";
import {
  internetEgressDeclared,
  networkPolicyIngressRestricted,
  networkPolicyPerNamespace,
} from "./kubernetes/networkPolicies";
import { podSecurity } from "./kubernetes/podSecurity";
import { serviceAccountTokenNotMounted } from "./kubernetes/serviceAccounts";
import { encryptedStorageClasses } from "./kubernetes/storage";
import { noExposedServices } from "./kubernetes/exposedServices";
import { consumerQueuesHaveDlq, quorumQueues } from "./messaging/deadLetters";
import { provenanceOf, Rule, WithSecretPaths } from "./rule";
import { noDefaultCredentials } from "./secrets/defaultCredentials";
import { masterPasswordsSecret } from "./secrets/masterPasswords";
import { noCredentialsInConfigMaps, noPlaintextSecretEnv } from "./secrets/plainValues";

export type { ResourceRule, Rule, SecretPaths, Severity, StackRule, WithSecretPaths } from "./rule";
export { isPinnedImage } from "./containers/images";

/**
 * Every policy of the pack, one list: the pack (index.ts), the offline check (tools/policyCheck.ts)
 * and the tests read this. Each area (aws/, kubernetes/, secrets/, gateway/, docker/, containers/,
 * messaging/, data/) holds its rules, one exported rule per concern.
 */
export const RULES: Rule[] = [
  // secrets/
  noDefaultCredentials,
  noPlaintextSecretEnv,
  noCredentialsInConfigMaps,
  masterPasswordsSecret,
  // docker/, containers/
  portsOnLoopbackOnly,
  noPrivilegedContainers,
  pinnedImages,
  containerResourceLimits,
  healthChecks,
  // kubernetes/
  podSecurity,
  serviceAccountTokenNotMounted,
  pdbForReplicatedPods,
  networkPolicyPerNamespace,
  networkPolicyIngressRestricted,
  internetEgressDeclared,
  encryptedStorageClasses,
  noExposedServices,
  // gateway/
  gatewayRoutesProtected,
  gatewaySecretToIssuers,
  gatewayTlsOnly,
  gatewayTlsPolicy,
  gatewayAdminPrivate,
  // aws/
  iamNoAdminPolicies,
  iamNoWildcardActions,
  iamTrustScoped,
  kmsKeyRotation,
  kmsKeyPolicyScoped,
  ecrHardened,
  noOpenIngress,
  nodeRemoteAccessRestricted,
  rdsHardened,
  rdsForceSsl,
  documentdbHardened,
  elasticacheHardened,
  mqNotPublic,
  finalSnapshots,
  eksHardened,
  networkPoliciesEnforced,
  cdnHardened,
  s3Private,
  requiredTags,
  // messaging/, data/
  consumerQueuesHaveDlq,
  quorumQueues,
  ownDatabaseRole,
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
          validateResource: (
            args: { type: string; props: Record<string, any> } & WithSecretPaths,
            report: ReportViolation,
          ) => {
            if (!rule.types.includes(args.type)) return;
            for (const problem of rule.check(args.props, args.type, provenanceOf(args)))
              report(`${problem}. ${rule.remediation}.`);
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
