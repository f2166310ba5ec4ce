import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { STS_AUDIENCE, webIdentityTrustPolicy } from "../webIdentityTrust";
import { checkRepository } from "./runnerUserData";

/** GitHub's OIDC issuer: the tokens a workflow job gets with `permissions: id-token: write`. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** IAM's default: a preview takes minutes. */
const PREVIEW_SESSION_SECONDS = 3600;
/**
 * An update of the infrastructure layer can outlast an hour (an Amazon MQ cluster, a Multi-AZ RDS
 * change, an EKS upgrade); credentials that expire mid-update leave it half done. The workflow asks
 * for this long.
 */
export const DEPLOY_SESSION_SECONDS = 3 * 3600;
const ENVIRONMENT = /^[A-Za-z0-9_.-]{1,255}$/;

export interface GithubActionsRolesArgs {
  /** `owner/name`, exactly as GitHub spells it in the token's subject. */
  githubRepository: string;
  /** The GitHub environment whose jobs may assume the deploy role (required reviewers are set there). */
  deployEnvironment: string;
  /** The account's IAM OIDC provider for GitHub, when it exists already: IAM holds one per issuer URL. */
  oidcProviderArn?: string;
  /** Default: AWS's ReadOnlyAccess. */
  previewPolicyArns?: string[];
  /** Default: AdministratorAccess, since the infrastructure layer creates IAM roles and key policies. */
  deployPolicyArns?: string[];
}

interface RoleSpec {
  key: "preview" | "deploy";
  /** The token's `sub`: which workflow jobs may assume the role. */
  subject: string;
  policyArns: pulumi.Input<string>[];
  maxSessionDuration: number;
  description: string;
}

/**
 * The AWS identities of the workflow's GitHub-hosted jobs, through GitHub's OIDC tokens rather than
 * long-lived keys: a read-only role that the repository's pull requests assume to preview, and a role
 * that only jobs running in the deploy environment (behind its required reviewers) assume to deploy.
 * Both require the STS audience; each accepts exactly one subject. Fork pull requests get no token.
 */
export class GithubActionsRoles extends pulumi.ComponentResource {
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly previewRoleArn: pulumi.Output<string>;
  readonly deployRoleArn: pulumi.Output<string>;

  constructor(name: string, args: GithubActionsRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:GithubActionsRoles", name, {}, opts);
    checkArgs(args);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const managedPolicy = (policy: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;
    this.oidcProviderArn = args.oidcProviderArn
      ? pulumi.output(args.oidcProviderArn)
      : new aws.iam.OpenIdConnectProvider(
          `${name}-oidc`,
          { url: `https://${GITHUB_OIDC_HOST}`, clientIdLists: [STS_AUDIENCE] },
          { parent: this },
        ).arn;
    const repository = args.githubRepository;
    this.previewRoleArn = createRole(name, this, this.oidcProviderArn, {
      key: "preview",
      subject: `repo:${repository}:pull_request`,
      policyArns: args.previewPolicyArns ?? [managedPolicy("ReadOnlyAccess")],
      maxSessionDuration: PREVIEW_SESSION_SECONDS,
      description: `Previews from pull requests of ${repository}`,
    });
    this.deployRoleArn = createRole(name, this, this.oidcProviderArn, {
      key: "deploy",
      subject: `repo:${repository}:environment:${args.deployEnvironment}`,
      policyArns: args.deployPolicyArns ?? [managedPolicy("AdministratorAccess")],
      maxSessionDuration: DEPLOY_SESSION_SECONDS,
      description: `Deploys from the ${args.deployEnvironment} environment of ${repository}`,
    });
    this.registerOutputs({
      oidcProviderArn: this.oidcProviderArn,
      previewRoleArn: this.previewRoleArn,
      deployRoleArn: this.deployRoleArn,
    });
  }
}

/** Both values end up in the token subject the roles compare exactly: a stray `:` or `*` would change its meaning. */
function checkArgs(args: GithubActionsRolesArgs): void {
  checkRepository(args.githubRepository);
  if (!ENVIRONMENT.test(args.deployEnvironment)) {
    throw new Error(
      `deployEnvironment must be letters, digits, . _ and - (at most 255), got ${JSON.stringify(args.deployEnvironment)}`,
    );
  }
}

function createRole(
  name: string,
  parent: pulumi.Resource,
  providerArn: pulumi.Output<string>,
  spec: RoleSpec,
): pulumi.Output<string> {
  const role = new aws.iam.Role(
    `${name}-${spec.key}`,
    {
      assumeRolePolicy: providerArn.apply((arn) => webIdentityTrustPolicy(arn, GITHUB_OIDC_HOST, spec.subject)),
      maxSessionDuration: spec.maxSessionDuration,
      description: spec.description,
    },
    { parent },
  );
  spec.policyArns.forEach(
    (policyArn, i) =>
      new aws.iam.RolePolicyAttachment(`${name}-${spec.key}-${i}`, { role: role.name, policyArn }, { parent }),
  );
  return role.arn;
}
