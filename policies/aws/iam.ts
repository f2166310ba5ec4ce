import { PolicyResource } from "@pulumi/policy";
import { ResourceRule, StackRule, unmet } from "../rule";
import { T } from "../types";
import { listOf, principals, statementName, statements } from "./policyDocuments";

/** AWS managed policies that grant every action, or every IAM action (whoever holds it can grant itself the rest). */
const ADMIN_POLICY = /:policy\/(AdministratorAccess|IAMFullAccess)$/;

/**
 * A trust only a protected deployment environment's workflow can pass: every statement a web
 * identity whose `sub` is exactly `repo:<owner>/<name>:environment:<env>`. The one place an admin
 * policy belongs (the infrastructure layer's deploy role: whatever deploys IAM can grant itself more).
 */
function onlyDeployEnvironments(assumeRolePolicy: unknown): boolean {
  const trust = statements(assumeRolePolicy).filter((s) => s.Effect === "Allow");
  return (
    trust.length > 0 &&
    trust.every((s) => {
      const equals: Record<string, unknown> = s.Condition?.StringEquals ?? {};
      const subjects = Object.entries(equals)
        .filter(([key]) => key.endsWith(":sub"))
        .flatMap(([, value]) => listOf(value));
      return (
        listOf(s.Action).every((a) => a === "sts:AssumeRoleWithWebIdentity") &&
        subjects.length > 0 &&
        subjects.every((sub) => /^repo:[^*?:]+\/[^*?:]+:environment:[^*?:]+$/.test(sub)) &&
        !s.Condition?.StringLike
      );
    })
  );
}

/** Admin policies attached to a role, user or group: the resource that attaches each, and the role (none for a user or group). */
function adminAttachments(resources: PolicyResource[]): Array<{ urn: string; arn: string; role?: PolicyResource }> {
  const roleOf = (r: PolicyResource) => r.dependencies.find((d) => d.type === T.iamRole);
  return resources.flatMap((r) => {
    if (r.type === T.iamRole)
      return listOf(r.props.managedPolicyArns)
        .filter((arn) => ADMIN_POLICY.test(arn))
        .map((arn) => ({ urn: r.urn, arn, role: r }));
    if (
      (r.type === T.iamRolePolicyAttachment || r.type === T.iamPolicyAttachment) &&
      ADMIN_POLICY.test(String(r.props.policyArn))
    )
      return [{ urn: r.urn, arn: String(r.props.policyArn), role: roleOf(r) }];
    return [];
  });
}

export const iamNoAdminPolicies: StackRule = {
  kind: "stack",
  name: "iam-no-admin-policies",
  description:
    "No role, user or group holds AdministratorAccess or IAMFullAccess, except a role only a protected deployment environment's workflow can assume (GitHub OIDC, `sub` exactly `repo:<owner>/<name>:environment:<env>`).",
  severity: "critical",
  remediation:
    "Grant the actions the role needs on its own resources (an inline policy), or bound it (permissionsBoundary); admin only for the deploy role of a protected environment",
  check: (resources) =>
    adminAttachments(resources)
      .filter(({ role }) => !role || !onlyDeployEnvironments(role.props.assumeRolePolicy))
      .map(({ urn, arn, role }) => ({
        message: `${role ? `role ${role.name}` : "a user or group"} holds ${arn.split("/").pop()}`,
        urn,
      })),
};

/** The policy documents a resource carries, by where they sit. */
function identityPolicies(props: Record<string, any>, type: string): Array<[string, unknown]> {
  if (type === T.iamRole)
    return (props.inlinePolicies ?? []).map((p: any, i: number): [string, unknown] => [
      `inline policy ${p.name ?? i}`,
      p.policy,
    ]);
  return [["the policy", props.policy]];
}

export const iamNoWildcardActions: ResourceRule = {
  kind: "resource",
  name: "iam-no-wildcard-actions",
  description:
    'Identity policies (managed, inline, role policies) allow no `Action: "*"` or NotAction, and no whole service (`s3:*`) on `Resource: "*"`.',
  severity: "critical",
  remediation: "List the actions the role uses, on the ARNs of its own resources",
  types: [T.iamRole, T.iamPolicy, T.iamRolePolicy, T.iamUserPolicy, T.iamGroupPolicy],
  check: (props, type) =>
    identityPolicies(props, type).flatMap(([where, document]) =>
      statements(document).flatMap((s, i) => {
        if (s.Effect !== "Allow") return [];
        const actions = listOf(s.Action);
        const everywhere = listOf(s.Resource).includes("*") || s.NotResource !== undefined;
        const whole = actions.filter((a) => /^[a-z0-9-]+:\*$/i.test(a));
        return unmet([
          [!actions.includes("*") && s.NotAction === undefined, `${where}: ${statementName(s, i)} allows every action`],
          [
            !(everywhere && whole.length > 0),
            `${where}: ${statementName(s, i)} allows ${whole.join(", ")} on every resource`,
          ],
        ]);
      }),
    ),
};

/** A web identity's condition keys, per issuer: `oidc.eks...:sub` and `:aud`. */
function conditionKeys(statement: Record<string, any>): Array<[key: string, values: string[]]> {
  return Object.values(statement.Condition ?? {}).flatMap((operator: any) =>
    Object.entries(operator ?? {}).map(([key, value]): [string, string[]] => [key, listOf(value)]),
  );
}

export const iamTrustScoped: ResourceRule = {
  kind: "resource",
  name: "iam-trust-scoped",
  description:
    "Role trust policies name who may assume them: no principal `*`, and a web identity (IRSA, GitHub OIDC) only with both a `sub` (the service account or the workflow) and an `aud` condition.",
  severity: "critical",
  remediation:
    "Condition the trust on `<issuer>:sub` = `system:serviceaccount:<namespace>:<name>` (or the workflow's subject) and `<issuer>:aud` = `sts.amazonaws.com`",
  types: [T.iamRole],
  check: (props) =>
    statements(props.assumeRolePolicy).flatMap((s, i) => {
      if (s.Effect !== "Allow") return [];
      const name = statementName(s, i);
      const webIdentity =
        listOf(s.Action).includes("sts:AssumeRoleWithWebIdentity") || s.Principal?.Federated !== undefined;
      const keys = conditionKeys(s);
      const scoped = (suffix: string) =>
        keys.some(
          ([key, values]) => key.endsWith(suffix) && values.length > 0 && values.every((v) => !/^[*?]+$/.test(v)),
        );
      return unmet([
        [!principals(s).includes("*") || keys.length > 0, `${name} lets any AWS principal assume the role`],
        ...(webIdentity
          ? ([
              [
                scoped(":sub"),
                `${name} trusts a web identity without a sub condition: any identity of the issuer may assume the role`,
              ],
              [scoped(":aud"), `${name} trusts a web identity without an aud condition`],
            ] as Array<[boolean, string]>)
          : []),
      ]);
    }),
};
