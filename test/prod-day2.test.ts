import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BUILTIN_CATALOGS } from "../services/load";
import { seedProdRun } from "./helpers/prodRuns";
import { volumeClaims } from "./helpers/volumeClaims";
import { InfrastructureOutputs } from "../components/aws/layers";
import { AwsSettings, requiredTags } from "../components/aws/settings";
import { EBS_CSI_DRIVER_ANNOTATION } from "../components/aws/AwsPlatform";
import { QUEUE_MONITOR_USER } from "../components/aws/AmazonMqTopology";
import { QUEUE_DEPTH_EXPORTER_NAME } from "../components/kubernetes/queueDepthExporterConfig";
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
/** Everything `resource` waits for, directly or through what it waits for. */
function waitsFor(resources: RecordedResource[], resource: RecordedResource): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const visit = (urns: string[]) => {
    for (const urn of urns) {
      if (seen.has(urn)) continue;
      seen.add(urn);
      visit(byUrn.get(urn)?.dependencies ?? []);
    }
  };
  visit(resource.dependencies);
  return seen;
}
/** Whether a NetworkPolicy's pod selector picks pods with `labels`. */
const selects = (policy: RecordedResource, labels: Record<string, string>) =>
  Object.entries(policy.inputs.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
/** Per principal, the access policy associated with it and its scope. */
const accessOf = (run: MockRun<unknown>) =>
  Object.fromEntries(
    ofType(run.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").map((a) => [
      a.inputs.principalArn,
      [a.inputs.policyArn, a.inputs.accessScope.type],
    ]),
  );
/** What holds data, or decrypts it: Pulumi must refuse to delete or replace these. */
const STATEFUL = [
  "aws:rds/instance:Instance",
  "aws:docdb/cluster:Cluster",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:mq/broker:Broker",
  "aws:kms/key:Key",
  "kubernetes:storage.k8s.io/v1:StorageClass",
  // Only the in-cluster databases register StatefulSets themselves (the charts' are inside their releases).
  "kubernetes:apps/v1:StatefulSet",
  // The in-cluster broker's nodes, which the Cluster Operator runs.
  "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster",
];
const statefulOf = (run: MockRun<unknown>) => run.resources.filter((r) => STATEFUL.includes(r.type));
/** Namespaces whose deletion would delete volume claims: those of the Kubernetes objects that hold data. */
const claimNamespacesOf = (run: MockRun<unknown>) => {
  const holding = new Set(
    statefulOf(run)
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => r.inputs.metadata?.namespace),
  );
  return ofType(run.resources, "kubernetes:core/v1:Namespace").filter((n) => holding.has(n.inputs.metadata.name));
};
/** AWS's own deletion guard, where the service has one. */
const deletionGuards = (run: MockRun<unknown>) =>
  run.resources
    .filter((r) => r.type === "aws:rds/instance:Instance" || r.type === "aws:docdb/cluster:Cluster")
    .map((r) => r.inputs.deletionProtection);
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

    it("starts the nodes once the private subnets route through NAT", async () => {
      const { resources } = (await seedProdRun(catalog)).infrastructure;
      const [nodes] = ofType(resources, "aws:eks/nodeGroup:NodeGroup");
      const privateRoutes = ofType(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter((a) =>
        a.name.includes("-private-"),
      );
      assert.equal(privateRoutes.length, 3);
      const waited = waitsFor(resources, nodes);
      for (const route of privateRoutes) assert.ok(nodes.dependencies.includes(route.urn), route.name);
      for (const nat of ofType(resources, "aws:ec2/natGateway:NatGateway")) assert.ok(waited.has(nat.urn), nat.name);
    });

    it("starts every one-shot Job once a NetworkPolicy lets its pods out of the namespace's default-deny", async () => {
      const { resources } = (await seedProdRun(catalog)).platform;
      // The database logins and replica-set initiations: their pods carry the label their egress policy selects.
      const jobs = ofType(resources, "kubernetes:batch/v1:Job").filter(
        (job) => job.inputs.spec.template.metadata?.labels?.["platform/job"],
      );
      assert.ok(jobs.length > 0);
      const policies = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
      for (const job of jobs) {
        const egress = policies.filter(
          (p) =>
            p.inputs.metadata.namespace === job.inputs.metadata.namespace &&
            p.inputs.spec.podSelector.matchLabels?.["platform/job"] &&
            selects(p, job.inputs.spec.template.metadata.labels),
        );
        assert.ok(egress.length > 0, `${job.name}: a policy for its pods`);
        assert.ok(
          egress.some((p) => job.dependencies.includes(p.urn)),
          `${job.name} waits for its egress policy`,
        );
      }
    });

    it("starts each broker service once its broker user may use the vhost", async () => {
      const { resources } = (await seedProdRun(catalog)).platform;
      const users = ofType(resources, "rabbitmq:index/user:User");
      const [vhost] = ofType(resources, "rabbitmq:index/vHost:VHost");
      for (const user of users) {
        // The monitoring login is the queue-depth exporter's; every other one is a catalog service's.
        const runs = user.inputs.name === QUEUE_MONITOR_USER ? QUEUE_DEPTH_EXPORTER_NAME : user.inputs.name;
        const deployment = ofType(resources, "kubernetes:apps/v1:Deployment").find(
          (d) => d.inputs.metadata.labels?.["platform/service"] === runs || d.inputs.metadata.name === runs,
        );
        assert.ok(deployment, `a Deployment for broker user ${user.inputs.name}`);
        const waited = waitsFor(resources, deployment);
        const permissions = ofType(resources, "rabbitmq:index/permissions:Permissions").find(
          (p) => p.inputs.user === user.inputs.name,
        )!;
        for (const needed of [user, permissions, vhost])
          assert.ok(waited.has(needed.urn), `${deployment.name} waits for ${needed.name}`);
      }
    });

    it("declares Kong's release, whose load balancer lands in the infrastructure's public subnets, after their hand-over", async () => {
      const { resources } = (await seedProdRun(catalog)).platform;
      const kong = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kong")!;
      // The infrastructure layer's outputs arrive through the StackReference (a read, not registered).
      assert.ok(kong.dependencies.some((urn) => urn.includes("$pulumi:pulumi:StackReference::")));
      assert.equal(kong.inputs.atomic, true, "its uninstall waits until the Service, and so the NLB, is gone");
    });

    it("protects whatever holds data by default, and keeps the namespaces of volume claims when dropped", async () => {
      const run = await seedProdRun(catalog);
      const stateful = statefulOf(run);
      assert.ok(stateful.some((r) => r.type === "aws:kms/key:Key"));
      for (const resource of stateful) assert.equal(resource.protect, true, `${resource.type} ${resource.name}`);
      assert.ok(deletionGuards(run).every((guard) => guard === true));
      for (const group of ofType(run.resources, "aws:elasticache/replicationGroup:ReplicationGroup"))
        assert.equal(group.inputs.finalSnapshotIdentifier, `${group.inputs.replicationGroupId}-final`);
      for (const namespace of claimNamespacesOf(run)) assert.equal(namespace.retainOnDelete, true);
    });

    it("applies RDS changes during the update, refuses a major version move unless asked, keeps StatefulSets on resize", async () => {
      const run = await seedProdRun(catalog);
      for (const instance of ofType(run.resources, "aws:rds/instance:Instance"))
        assert.deepEqual([instance.inputs.applyImmediately, instance.inputs.allowMajorVersionUpgrade], [true, false]);
      // Claim templates are immutable: a new storageGb must not replace the members (Kubernetes' provider would).
      for (const statefulSet of ofType(run.resources, "kubernetes:apps/v1:StatefulSet"))
        assert.deepEqual(statefulSet.ignoreChanges, ["spec.volumeClaimTemplates"]);
    });

    it("tags the nodes, their volumes, the driver's volumes and the NLB with the required tags; logs kept and encrypted", async () => {
      const run = await seedProdRun(catalog);
      // What the test stacks set (helpers/stackConfigs.ts prodConfig), environment prod on both layers.
      const tags = requiredTags({ owner: "platform-team", costCenter: "cc-042" } as AwsSettings, "prod", catalog);
      const infra = run.infrastructure.resources;
      const [template] = ofType(infra, "aws:ec2/launchTemplate:LaunchTemplate").filter((t) =>
        t.name.endsWith("-nodes"),
      );
      for (const spec of template.inputs.tagSpecifications)
        assert.deepEqual({ ...spec.tags, Name: undefined }, { ...tags, Name: undefined }, spec.resourceType);
      const [nodes] = ofType(infra, "aws:eks/nodeGroup:NodeGroup");
      assert.ok(nodes.dependencies.includes(template.urn));
      const driver = ofType(infra, "aws:eks/addon:Addon").find((a) => a.inputs.addonName === "aws-ebs-csi-driver")!;
      assert.deepEqual(JSON.parse(driver.inputs.configurationValues).controller.extraVolumeTags, tags);
      const kong = ofType(run.platform.resources, "kubernetes:helm.sh/v3:Release").find(
        (r) => r.inputs.name === "kong",
      )!;
      const annotation =
        kong.inputs.values.proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags"];
      assert.deepEqual(Object.fromEntries(annotation.split(",").map((pair: string) => pair.split("="))), tags);

      const [key] = ofType(infra, "aws:kms/key:Key");
      const logGroups = new Map(ofType(infra, "aws:cloudwatch/logGroup:LogGroup").map((g) => [g.inputs.name, g]));
      const [cluster] = ofType(infra, "aws:eks/cluster:Cluster");
      const expected: Array<[RecordedResource, string]> = [
        [cluster, `/aws/eks/${cluster.inputs.name}/cluster`],
        ...ofType(infra, "aws:rds/instance:Instance").flatMap((instance) =>
          instance.inputs.enabledCloudwatchLogsExports.map((log: string): [RecordedResource, string] => [
            instance,
            `/aws/rds/instance/${instance.inputs.identifier}/${log}`,
          ]),
        ),
      ];
      for (const [writer, name] of expected) {
        const group = logGroups.get(name);
        assert.ok(group, `${name} is made`);
        assert.deepEqual(
          [group.inputs.retentionInDays, group.inputs.kmsKeyId],
          [90, `arn:aws:kms:eu-west-1:123456789012:key/${key.name}`],
        );
        assert.ok(writer.dependencies.includes(group.urn), `${writer.name} waits for ${name}`);
      }
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
          // Listing admins leaves the creator's own entry out (EKS takes one entry per principal).
          access: { admins: [ADMIN], viewers: [VIEWER] },
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

  it("keeps the creator beside the listed admins when creatorAdmin says so", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("bookings", { eks: { access: { admins: [ADMIN], viewers: [], creatorAdmin: true } } }),
      () => runProgram(projectDir),
    );
    const admins = Object.keys(accessOf(run.infrastructure));
    assert.ok(admins.includes(ADMIN));
    assert.ok(admins.includes("arn:aws:iam::123456789012:user/ci"), "the creator (the mocks' caller)");
  });
});

describe("prod day 2: upgrades", () => {
  it("lets an update move PostgreSQL to a new major version, in the maintenance window, when the settings say so", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("bookings", { rds: { allowMajorVersionUpgrade: true, applyImmediately: false } }),
      () => runProgram(projectDir),
    );
    const instances = ofType(run.resources, "aws:rds/instance:Instance");
    assert.ok(instances.length > 0);
    for (const instance of instances)
      assert.deepEqual([instance.inputs.allowMajorVersionUpgrade, instance.inputs.applyImmediately], [true, false]);
  });
});

describe("prod day 2: stateful protection, and turning it off to tear a test stack down", () => {
  // The stores the seed runs above leave out: DocumentDB, and RabbitMQ on EKS.
  const layers = (protectStatefulResources?: boolean) =>
    runLayersUnderMocks(
      prodLayers("bookings", {
        broker: { mode: "in-cluster" },
        mongodb: { mode: "documentdb" },
        ...(protectStatefulResources === undefined ? {} : { protectStatefulResources }),
      }),
      () => runProgram(projectDir),
    );

  it("protects DocumentDB and keeps the in-cluster broker's namespace like the managed stores", async () => {
    const run = await layers();
    const [cluster] = ofType(run.resources, "aws:docdb/cluster:Cluster");
    assert.deepEqual([cluster.protect, cluster.inputs.deletionProtection], [true, true]);
    // Its exports' log groups, made before it like RDS's.
    for (const log of cluster.inputs.enabledCloudwatchLogsExports) {
      const group = ofType(run.resources, "aws:cloudwatch/logGroup:LogGroup").find(
        (g) => g.inputs.name === `/aws/docdb/${cluster.inputs.clusterIdentifier}/${log}`,
      );
      assert.ok(group && cluster.dependencies.includes(group.urn), log);
    }
    const [messaging] = claimNamespacesOf(run).filter((n) => n.inputs.metadata.name === "messaging");
    assert.equal(messaging.retainOnDelete, true);
    const [broker] = ofType(run.resources, "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster");
    assert.equal(broker.protect, true);
  });

  it("with protectStatefulResources false, lets destroy delete everything (AWS's deletion protection off too)", async () => {
    const run = await layers(false);
    const stateful = statefulOf(run);
    assert.ok(stateful.length > 0);
    for (const resource of stateful) assert.equal(resource.protect, false, `${resource.type} ${resource.name}`);
    assert.ok(deletionGuards(run).length > 1, "RDS and DocumentDB");
    assert.ok(deletionGuards(run).every((guard) => guard === false));
    assert.ok(claimNamespacesOf(run).length > 0);
    for (const namespace of claimNamespacesOf(run)) assert.equal(namespace.retainOnDelete, false);
  });
});
