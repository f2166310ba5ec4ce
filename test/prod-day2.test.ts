import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BUILTIN_CATALOGS } from "../services/load";
import { seedProdRun } from "./helpers/prodRuns";
import { volumeClaims } from "./helpers/volumeClaims";
import { InfrastructureOutputs } from "../components/aws/layers";
import { EBS_CSI_DRIVER_ANNOTATION } from "../components/aws/AwsPlatform";
import { MockRun, RecordedResource, ofType, valueOf } from "../tools/mockRun";

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
