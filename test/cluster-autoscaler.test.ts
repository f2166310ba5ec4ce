// The Cluster Autoscaler on prod: a pinned release of the official chart that finds the cluster's
// managed node group by its tags, runs as its own IRSA role (trusted by its service account only,
// allowed to resize this cluster's groups only), and a node group whose desired size `pulumi up`
// leaves to it.
import { strict as assert } from "assert";
import { BUILTIN_CATALOGS } from "../services/load";
import { seedProdRun } from "./helpers/prodRuns";
import { prodLayers } from "./helpers/stackConfigs";
import { RecordedResource, ofType } from "../tools/mockRun";
import { IMAGES } from "../components/engines";
import { CHARTS } from "../components/kubernetes/PlatformCharts";
import { DEFAULT_EKS_VERSION } from "../components/aws/eksVersions";
import {
  CLUSTER_AUTOSCALER_MINOR,
  CLUSTER_AUTOSCALER_READ_ACTIONS,
  autoscalerVersionProblems,
  CLUSTER_AUTOSCALER_WRITE_ACTIONS,
  clusterAutoscalerPolicy,
} from "../components/aws/clusterAutoscaler";
import { IRSA_ROLE_ANNOTATION, STS_AUDIENCE } from "../components/webIdentityTrust";

const RELEASE = "kubernetes:helm.sh/v3:Release";

const endingWith = (resources: RecordedResource[], type: string, suffix: string): RecordedResource => {
  const found = ofType(resources, type).filter((r) => r.name.endsWith(suffix));
  assert.equal(found.length, 1, `one ${type} named *${suffix}, found ${found.map((r) => r.name)}`);
  return found[0];
};

/** The Kubernetes minor of an image tag such as `v1.35.0@sha256:...`. */
const tagMinor = (tag: string) => /^v(\d+\.\d+)\./.exec(tag)?.[1];

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe("cluster autoscaler policy", () => {
  it("allows the write actions on this cluster's tagged groups only, and nothing but reads on every resource", () => {
    const policy = JSON.parse(clusterAutoscalerPolicy("shop-prod-eks"));
    const unconditioned = policy.Statement.filter((s: any) => !s.Condition).flatMap((s: any) => asArray(s.Action));
    assert.deepEqual(unconditioned.sort(), [...CLUSTER_AUTOSCALER_READ_ACTIONS].sort());
    assert.ok(
      unconditioned.every((a: string) => /^[a-z0-9]+:(Describe|Get)[A-Za-z]+$/.test(a)),
      unconditioned,
    );
    const writes = policy.Statement.filter((s: any) =>
      asArray(s.Action).some((a: string) => CLUSTER_AUTOSCALER_WRITE_ACTIONS.includes(a)),
    );
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0].Condition, {
      StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/shop-prod-eks": "owned" },
    });
  });
});

describe("cluster autoscaler version", () => {
  it("is pinned for the default EKS version, and warns, naming the field, when the cluster runs another minor", () => {
    assert.equal(CLUSTER_AUTOSCALER_MINOR, DEFAULT_EKS_VERSION);
    assert.deepEqual(autoscalerVersionProblems(DEFAULT_EKS_VERSION, "platform:aws.eks.version"), []);
    const [problem, ...rest] = autoscalerVersionProblems("1.34", "platform:aws.eks.version");
    assert.equal(rest.length, 0);
    assert.equal(problem.severity, "warning");
    assert.equal(problem.path, "platform:aws.eks.version");
    assert.match(
      problem.message,
      new RegExp(`pinned for Kubernetes ${DEFAULT_EKS_VERSION.replace(".", "\\.")} .* runs 1\\.34`),
    );
  });
});

for (const catalog of BUILTIN_CATALOGS) {
  describe(`cluster autoscaler on prod: ${catalog}`, function () {
    this.timeout(120000);
    const region = JSON.parse(prodLayers(catalog)[0].config["platform:aws"]).region;

    it("installs the official chart, pinned, with the image of the cluster's Kubernetes minor", async () => {
      const run = await seedProdRun(catalog);
      const release = ofType(run.platform.resources, RELEASE).find((r) => r.inputs.chart === "cluster-autoscaler")!;
      assert.ok(release, "a cluster-autoscaler release");
      assert.equal(release.inputs.version, CHARTS.clusterAutoscaler.version);
      assert.equal(release.inputs.repositoryOpts.repo, "https://kubernetes.github.io/autoscaler");
      const { image } = release.inputs.values;
      // templates/deployment.yaml:63 composes `<repository>:<tag>`.
      assert.equal(`${image.repository}:${image.tag}`, IMAGES.clusterAutoscaler);
      assert.match(image.tag, /@sha256:[0-9a-f]{64}$/);
      // The autoscaler README asks for the release of the control plane's minor.
      const cluster = ofType(run.infrastructure.resources, "aws:eks/cluster:Cluster")[0];
      assert.equal(cluster.inputs.version, DEFAULT_EKS_VERSION);
      assert.equal(tagMinor(image.tag), cluster.inputs.version);
    });

    it("discovers the cluster's node groups in its region, balanced, least waste, draining system pods too", async () => {
      const run = await seedProdRun(catalog);
      const release = ofType(run.platform.resources, RELEASE).find((r) => r.inputs.chart === "cluster-autoscaler")!;
      const cluster = ofType(run.infrastructure.resources, "aws:eks/cluster:Cluster")[0];
      const { values } = release.inputs;
      assert.equal(values.cloudProvider, "aws");
      assert.equal(values.autoDiscovery.clusterName, cluster.inputs.name);
      assert.equal(values.awsRegion, region);
      assert.deepEqual(
        {
          balance: values.extraArgs["balance-similar-node-groups"],
          expander: values.extraArgs.expander,
          systemPods: values.extraArgs["skip-nodes-with-system-pods"],
        },
        { balance: true, expander: "least-waste", systemPods: false },
      );
      assert.deepEqual(values.securityContext, {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        fsGroup: 65534,
        seccompProfile: { type: "RuntimeDefault" },
      });
      assert.deepEqual(values.containerSecurityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    });

    it("runs as its IRSA role, which only its service account's tokens for STS may assume", async () => {
      const run = await seedProdRun(catalog);
      const release = ofType(run.platform.resources, RELEASE).find((r) => r.inputs.chart === "cluster-autoscaler")!;
      const role = endingWith(run.infrastructure.resources, "aws:iam/role:Role", "-cluster-autoscaler");
      const { serviceAccount } = release.inputs.values.rbac;
      assert.equal(serviceAccount.annotations[IRSA_ROLE_ANNOTATION], `arn:aws:iam::123456789012:role/${role.name}`);
      const oidc = ofType(run.infrastructure.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0];
      const issuer = oidc.inputs.url.replace(/^https:\/\//, "");
      const trust = JSON.parse(role.inputs.assumeRolePolicy);
      assert.equal(trust.Statement.length, 1);
      const [statement] = trust.Statement;
      assert.equal(statement.Action, "sts:AssumeRoleWithWebIdentity");
      assert.equal(statement.Principal.Federated, `arn:aws:iam::123456789012:oidc-provider/${oidc.name}`);
      // The subject is the service account the chart creates, in the release's namespace.
      assert.deepEqual(statement.Condition, {
        StringEquals: {
          [`${issuer}:aud`]: STS_AUDIENCE,
          [`${issuer}:sub`]: `system:serviceaccount:${release.inputs.namespace}:${serviceAccount.name}`,
        },
      });
    });

    it("lets the role resize and shrink only the groups tagged as this cluster's", async () => {
      const run = await seedProdRun(catalog);
      const cluster = ofType(run.infrastructure.resources, "aws:eks/cluster:Cluster")[0];
      const policy = endingWith(run.infrastructure.resources, "aws:iam/rolePolicy:RolePolicy", "-cluster-autoscaler");
      const statements = JSON.parse(policy.inputs.policy).Statement;
      for (const action of CLUSTER_AUTOSCALER_WRITE_ACTIONS) {
        const granting = statements.filter((s: any) => asArray(s.Action).includes(action));
        assert.equal(granting.length, 1, action);
        assert.deepEqual(granting[0].Condition, {
          StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster.inputs.name}`]: "owned" },
        });
      }
    });

    it("leaves the node group's desired size to the autoscaler, between its min and max", async () => {
      const run = await seedProdRun(catalog);
      const [nodes] = ofType(run.infrastructure.resources, "aws:eks/nodeGroup:NodeGroup");
      assert.deepEqual(nodes.ignoreChanges, ["scalingConfig.desiredSize"]);
      const { minSize, desiredSize, maxSize } = nodes.inputs.scalingConfig;
      assert.ok(
        minSize <= desiredSize && desiredSize <= maxSize && minSize < maxSize,
        `${minSize}/${desiredSize}/${maxSize}`,
      );
    });
  });
}
