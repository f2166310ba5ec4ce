import { strict as assert } from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  DEPLOY_SESSION_SECONDS,
  GithubActionsRoles,
  GithubActionsRolesArgs,
} from "../components/aws/GithubActionsRoles";
import { runProgram } from "../stacks/program";
import { MockRun, RecordedResource, ofType, runLayersUnderMocks, runUnderMocks, valueOf } from "../tools/mockRun";
import { prodLayers } from "./helpers/stackConfigs";

const ARGS: GithubActionsRolesArgs = { githubRepository: "acme/Shop-Platform", deployEnvironment: "production" };
/** What the mocks answer for the provider the component makes. */
const PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/ci-oidc";
const EXISTING_PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

const roleNamed = (resources: RecordedResource[], name: string) => {
  const [role] = ofType(resources, "aws:iam/role:Role").filter((r) => r.name === name);
  assert.ok(role, `no role ${name}`);
  return role.inputs;
};
const attachedTo = (resources: RecordedResource[], key: string) =>
  ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((r) => r.name.startsWith(`ci-${key}-`))
    .map((r) => r.inputs.policyArn);

/** The one statement of a role's trust policy whose principal is the given OIDC provider. */
function trustOf(role: Record<string, any>, providerArn: string) {
  const policy = JSON.parse(role.assumeRolePolicy);
  assert.equal(policy.Statement.length, 1);
  const [statement] = policy.Statement;
  assert.deepEqual(statement.Principal, { Federated: providerArn });
  assert.equal(statement.Effect, "Allow");
  assert.equal(statement.Action, "sts:AssumeRoleWithWebIdentity");
  return statement.Condition;
}

describe("GithubActionsRoles (under mocks)", () => {
  let run: MockRun<GithubActionsRoles>;
  before(async () => {
    run = await runUnderMocks("prod-infra", {}, () => new GithubActionsRoles("ci", ARGS));
  });

  it("declares GitHub's OIDC provider, two roles and their policies, every one a child of the component", () => {
    const [component] = ofType(run.resources, "platform:aws:GithubActionsRoles");
    const children = run.resources.filter((r) => r !== component);
    assert.ok(component.urn !== "" && children.every((r) => r.parent === component.urn));
    assert.deepEqual(children.map((r) => `${r.type} ${r.name}`).sort(), [
      "aws:iam/openIdConnectProvider:OpenIdConnectProvider ci-oidc",
      "aws:iam/role:Role ci-deploy",
      "aws:iam/role:Role ci-preview",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment ci-deploy-0",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment ci-preview-0",
    ]);
    assert.deepEqual(ofType(run.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0].inputs, {
      url: "https://token.actions.githubusercontent.com",
      clientIdLists: ["sts.amazonaws.com"],
    });
  });

  it("lets the repository's pull requests assume the read-only role, for STS only", () => {
    const preview = roleNamed(run.resources, "ci-preview");
    assert.deepEqual(trustOf(preview, PROVIDER_ARN), {
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/Shop-Platform:pull_request",
      },
    });
    assert.equal(preview.maxSessionDuration, 3600);
    assert.deepEqual(attachedTo(run.resources, "preview"), ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
  });

  it("lets only jobs of the deploy environment assume the deploy role, for as long as an update may take", () => {
    const deploy = roleNamed(run.resources, "ci-deploy");
    assert.deepEqual(trustOf(deploy, PROVIDER_ARN), {
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/Shop-Platform:environment:production",
      },
    });
    assert.equal(deploy.maxSessionDuration, DEPLOY_SESSION_SECONDS);
    assert.ok(DEPLOY_SESSION_SECONDS <= 12 * 3600, "IAM's maximum");
    assert.deepEqual(attachedTo(run.resources, "deploy"), ["arn:aws:iam::aws:policy/AdministratorAccess"]);
  });

  it("outputs the provider and both roles", async () => {
    assert.equal((await valueOf(run.result.oidcProviderArn)).value, PROVIDER_ARN);
    assert.equal((await valueOf(run.result.previewRoleArn)).value, "arn:aws:iam::123456789012:role/ci-preview");
    assert.equal((await valueOf(run.result.deployRoleArn)).value, "arn:aws:iam::123456789012:role/ci-deploy");
  });

  it("trusts the account's existing provider instead of making one, with the policies given", async () => {
    const policies = {
      previewPolicyArns: ["arn:aws:iam::aws:policy/ViewOnlyAccess", "arn:aws:iam::123456789012:policy/state-read"],
      deployPolicyArns: ["arn:aws:iam::123456789012:policy/platform-deploy"],
    };
    const existing = await runUnderMocks(
      "prod-infra",
      {},
      () => new GithubActionsRoles("ci", { ...ARGS, oidcProviderArn: EXISTING_PROVIDER_ARN, ...policies }),
    );
    assert.deepEqual(ofType(existing.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider"), []);
    for (const name of ["ci-preview", "ci-deploy"]) trustOf(roleNamed(existing.resources, name), EXISTING_PROVIDER_ARN);
    assert.deepEqual(attachedTo(existing.resources, "preview"), policies.previewPolicyArns);
    assert.deepEqual(attachedTo(existing.resources, "deploy"), policies.deployPolicyArns);
    assert.equal((await valueOf(existing.result.oidcProviderArn)).value, EXISTING_PROVIDER_ARN);
  });

  it("refuses a repository or environment that would change the subject's meaning, naming it", async () => {
    const build = (fields: Partial<GithubActionsRolesArgs>) =>
      runUnderMocks("prod-infra", {}, () => new GithubActionsRoles("bad", { ...ARGS, ...fields }));
    await assert.rejects(build({ githubRepository: "acme/*" }), /githubRepository/);
    await assert.rejects(build({ githubRepository: "acme" }), /githubRepository/);
    await assert.rejects(build({ deployEnvironment: "production:*" }), /deployEnvironment/);
    await assert.rejects(build({ deployEnvironment: "" }), /deployEnvironment/);
  });
});

describe("the workflow's roles in the prod program", () => {
  const program = () => runProgram(path.join(__dirname, ".."));

  it("are made by the infrastructure layer with `ci`, for the runner's repository, and are its ciRoles output", async () => {
    const run = await runLayersUnderMocks(prodLayers("bookings", { ci: {} }), program);
    const roles = ofType(run.infrastructure.resources, "platform:aws:GithubActionsRoles");
    assert.equal(roles.length, 1);
    const preview = run.infrastructure.resources.find(
      (r) => r.type === "aws:iam/role:Role" && r.parent === roles[0].urn,
    );
    assert.match(preview!.inputs.assumeRolePolicy, /"repo:acme\/platform:pull_request"/);
    assert.deepEqual(ofType(run.platform.resources, "platform:aws:GithubActionsRoles"), []);
    const { value } = await valueOf(pulumi.output(run.infrastructure.result.ciRoles!));
    assert.deepEqual(Object.keys(value).sort(), ["deployRoleArn", "oidcProviderArn", "previewRoleArn"]);
    assert.match(value.deployRoleArn, /^arn:aws:iam::123456789012:role\/.+-github-deploy$/);
  });

  it("are absent without `ci`: no role, no second OIDC provider, no output", async () => {
    const run = await runUnderMocks("prod-infra", prodLayers("bookings")[0].config, program);
    assert.deepEqual(ofType(run.resources, "platform:aws:GithubActionsRoles"), []);
    assert.equal(ofType(run.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 1, "EKS's");
    assert.equal(run.result.ciRoles, undefined);
  });
});
