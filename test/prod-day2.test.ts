import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BUILTIN_CATALOGS } from "../services/load";
import { seedProdRun } from "./helpers/prodRuns";
import { volumeClaims } from "./helpers/volumeClaims";
import { InfrastructureOutputs } from "../components/aws/layers";
import { EBS_CSI_DRIVER_ANNOTATION } from "../components/aws/AwsPlatform";
import { LayeredRun, MockRun, RecordedResource, ofType, runLayersUnderMocks, valueOf } from "../tools/mockRun";
import { runProgram, StackOutputs } from "../stacks/program";
import { prodLayers } from "./helpers/stackConfigs";
import * as path from "path";

/*
 * A prod stack's first deploy and later updates, for every seed catalog, read from the resources both
 * layers register under mocks: what waits for what (their recorded dependencies), the options the
 * engine enforces (protect, retainOnDelete, ignoreChanges), what AWS gets tagged with.
 */

const endingWith = (resources: RecordedResource[], type: string, suffix: string): RecordedResource => {
  const found = ofType(resources, type).filter((r) => r.name.endsWith(suffix));
  assert.equal(found.length, 1, `one ${type} named *${suffix}, found ${found.map((r) => r.name)}`);
  return found[0];
};
const projectDir = path.join(__dirname, "..");
const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
/** Per principal, the access policy associated with it and its scope. */
const accessOf = (run: MockRun<unknown>) =>
  Object.fromEntries(
    ofType(run.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").map((a) => [
      a.inputs.principalArn,
      [a.inputs.policyArn, a.inputs.accessScope.type],
    ]),
  );
const outputs = async (run: MockRun<any>): Promise<InfrastructureOutputs> =>
  (await valueOf(pulumi.output(run.result.infrastructure) as pulumi.Output<InfrastructureOutputs>)).value;

for (const catalog of BUILTIN_CATALOGS) {
  describe(`prod day 2: ${catalog}`, () => {
    it("provisions volumes through the EBS CSI driver's own role, which the platform key lets encrypt", async () => {
      const run = await seedProdRun(catalog);
      const { resources } = run.infrastructure;
      const role = endingWith(resources, "aws:iam/role:Role", "-ebs-csi-driver");
      const driver = ofType(resources, "aws:eks/addon:Addon").find((a) => a.inputs.addonName === "aws-ebs-csi-driver")!;
      assert.equal(driver.inputs.serviceAccountRoleArn, `arn:aws:iam::123456789012:role/${role.name}`);
      // The key names the role before it exists: by the name the role is then given.
      const key = JSON.parse(ofType(resources, "aws:kms/key:Key")[0].inputs.policy);
      const statements = key.Statement.filter(
        (s: any) =>
          s.Condition?.ArnEquals?.["aws:PrincipalArn"] === `arn:aws:iam::123456789012:role/${role.inputs.name}`,
      );
      assert.deepEqual(
        statements.flatMap((s: any) => s.Action),
        [
          "kms:CreateGrant",
          "kms:ListGrants",
          "kms:RevokeGrant",
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
        ],
      );
      const grants = statements.find((s: any) => s.Action.includes("kms:CreateGrant"));
      assert.deepEqual(grants.Condition.Bool, { "kms:GrantIsForAWSResource": "true" });
    });

    it("lets the deploy runner and the cluster's creator in as admins, through access entries only", async () => {
      const run = await seedProdRun(catalog);
      const runnerRole = endingWith(run.infrastructure.resources, "aws:iam/role:Role", "-runner-role");
      const runnerArn = `arn:aws:iam::123456789012:role/${runnerRole.name}`;
      const creator = "arn:aws:iam::123456789012:user/ci";
      assert.deepEqual(accessOf(run.infrastructure), {
        [runnerArn]: [ADMIN_POLICY, "cluster"],
        [creator]: [ADMIN_POLICY, "cluster"],
      });
      assert.deepEqual((await outputs(run.infrastructure)).cluster.access.sort(), [creator, runnerArn].sort());
      const [cluster] = ofType(run.infrastructure.resources, "aws:eks/cluster:Cluster");
      assert.equal(cluster.inputs.accessConfig.authenticationMode, "API");
    });

    it("claims every volume from a StorageClass made from the EBS CSI add-on's version, exported once it is active", async () => {
      const run = await seedProdRun(catalog);
      const [storageClass] = ofType(run.platform.resources, "kubernetes:storage.k8s.io/v1:StorageClass");
      const exported = await outputs(run.infrastructure);
      assert.equal(
        storageClass.inputs.metadata.annotations[EBS_CSI_DRIVER_ANNOTATION],
        exported.cluster.addons["aws-ebs-csi-driver"],
      );
      const claims = volumeClaims(run.platform.resources);
      assert.ok(claims.length > 0);
      for (const claim of claims)
        assert.ok(claim.resource.dependencies.includes(storageClass.urn), `${claim.where} waits for the class`);
    });
  });
}

describe("prod day 2: cluster access from stack config", () => {
  const ADMIN = "arn:aws:iam::123456789012:role/oncall";
  const VIEWER = "arn:aws:iam::123456789012:role/team/developers";

  it("adds admins, viewers in the platform's namespaces, and the CI deploy role where it deploys the platform layer", async () => {
    const run: LayeredRun<StackOutputs> = await runLayersUnderMocks(
      prodLayers("bookings", {
        deployFrom: "public-endpoint",
        broker: { mode: "in-cluster" },
        ci: { githubRepository: "acme/platform" },
        eks: {
          publicAccessCidrs: ["203.0.113.7/32"],
          access: { admins: [ADMIN], viewers: [VIEWER], creatorAdmin: false },
        },
      }),
      () => runProgram(projectDir),
    );
    const deployRole = ofType(run.infrastructure.resources, "aws:iam/role:Role").find((r) =>
      r.name.endsWith("-github-deploy"),
    )!;
    const view = ofType(run.infrastructure.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").find(
      (a) => a.inputs.principalArn === VIEWER,
    )!;
    assert.deepEqual(accessOf(run.infrastructure), {
      [ADMIN]: [ADMIN_POLICY, "cluster"],
      [`arn:aws:iam::123456789012:role/${deployRole.name}`]: [ADMIN_POLICY, "cluster"],
      [VIEWER]: ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "namespace"],
    });
    // Every namespace the platform layer makes, and no other (kube-system stays out of sight).
    const namespaces = ofType(run.platform.resources, "kubernetes:core/v1:Namespace").map(
      (n) => n.inputs.metadata.name,
    );
    assert.ok(namespaces.length > 0);
    for (const namespace of namespaces) assert.ok(view.inputs.accessScope.namespaces.includes(namespace), namespace);
    assert.ok(!view.inputs.accessScope.namespaces.includes("kube-system"));
  });
});
