import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { parseCatalog } from "../services/load";
import { Catalog, Service } from "../services/schema";
import {
  MockRun,
  RecordedResource,
  addonVersion,
  isSecretOnWire,
  ofType,
  plaintextOccurrences,
  runUnderMocks,
  valueOf,
} from "../tools/mockRun";
import {
  DATABASE_ADMIN_USER,
  DATABASE_ENGINES,
  IMAGES,
  MONGO_TOOLS_IMAGE,
  OTLP_HTTP_PORT,
  POSTGRES_TOOLS_IMAGE,
  RABBITMQ,
  REDIS,
} from "../components/engines";
import {
  BrokerEndpoint,
  CacheEndpoint,
  DatabaseEndpoint,
  EndpointLocation,
  TracingEndpoint,
  brokerEnv,
  cacheEnv,
} from "../components/platform";
import { ServiceEndpoints } from "../components/serviceEnvironment";
import { TopologyPlan } from "../components/messaging/topology";
import { renderBootstrapSql } from "../components/data/bootstrapSql";
import { renderMongoUserScript, renderReplicaSetInit } from "../components/data/mongoInit";
import { DNS_EGRESS } from "../components/kubernetes/networkPolicies";
import { GRAFANA_READER } from "../components/observability/logsConfig";
import { Network } from "../components/aws/Network";
import { EksCluster } from "../components/aws/EksCluster";
import { ebsCsiDriverRoleName } from "../components/aws/ebsCsiDriver";
import { BACKUP_TAG, BackupPlan } from "../components/aws/BackupPlan";
import { ManagedCache } from "../components/aws/ManagedCache";
import { MANAGED_BROKER_ADMIN, ManagedBroker } from "../components/aws/ManagedBroker";
import { AmazonMqTopology, QUEUE_MONITOR_USER } from "../components/aws/AmazonMqTopology";
import { RdsDatabases } from "../components/aws/RdsDatabases";
import { RdsAccess } from "../components/aws/RdsAccess";
import { DOCUMENTDB_ADMIN_USER, DocumentDb } from "../components/aws/DocumentDb";
import { DocumentDbAccess } from "../components/aws/DocumentDbAccess";
import { RDS_CA_DIR, RDS_CA_PATH } from "../components/aws/rdsTrust";
import { WebFrontend } from "../components/aws/WebFrontend";
import { MANAGED_POLICIES, gatewayPathPatterns, renderSpaRewrite, wafRules } from "../components/aws/webFrontendConfig";
import { ServiceWorkload } from "../components/kubernetes/ServiceWorkload";
import { SECRET_CHECKSUM_ANNOTATION } from "../components/kubernetes/checksum";
import { dataHash, wireAnnotation } from "./helpers/secretChecksum";
import { asPolicyResources, evaluate } from "../tools/policyCheck";
import { InClusterDatabase } from "../components/kubernetes/InClusterDatabase";
import { renderClickHouseLogin } from "../components/kubernetes/clickhouseServerFiles";
import {
  BROKER_OPERATORS,
  InClusterBroker,
  MESSAGING_NAMESPACE,
  RABBITMQ_CLUSTER,
} from "../components/kubernetes/InClusterBroker";
import { objectName } from "../components/kubernetes/rabbitmqObjects";
import { RABBITMQ_SIZES } from "../components/kubernetes/chartSizes";
import { kubernetesSchemaProblems } from "./helpers/kubernetesSchemas";
import { CHARTS, NAMESPACES, PlatformCharts } from "../components/kubernetes/PlatformCharts";
import { kongValues } from "../components/kubernetes/chartValues";
import { POD_MONITOR, targetLabels, validatePodMonitor } from "./helpers/podMonitors";

/*
 * Each prod component (components/aws, components/kubernetes) built on its own under Pulumi mocks
 * from small hand-written arguments: what it declares, that it declares it under itself, and the
 * endpoint contracts (components/platform.ts) it hands on.
 */

const KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/platform";
const VPC_CIDR = "10.20.0.0/16";
const PREFIX = "shop-prod";
const placement = {
  vpcId: "vpc-0123",
  privateSubnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  nodeSecurityGroupId: "sg-nodes",
  protect: true,
};
/** Where RDS and DocumentDB clients find Amazon's CA bundle (the platform's rds-ca ConfigMap). */
const RDS_TRUST = { configMap: "rds-ca", mountPath: RDS_CA_DIR };
/** The same bundle in the login Jobs' namespace (a ConfigMap of its own there). */
const JOB_TRUST = { configMap: "bootstrap-rds-ca", mountPath: RDS_CA_DIR };
const K8S_PROVIDER = "pulumi:providers:kubernetes";
/** The required tags, as the stack's settings make them (requiredTags). */
const TAGS = { owner: "platform-team", "cost-center": "cc-042", environment: "prod" };

/** The Kubernetes provider components are given; mocks never contact a cluster. */
const kubernetesProvider = () => new k8s.Provider("k", { kubeconfig: "{}" });

const build = <T>(program: () => T): Promise<MockRun<T>> => runUnderMocks("components", {}, program);

const one = (resources: RecordedResource[], type: string): RecordedResource => {
  const found = ofType(resources, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
};
/** The resource of `type` with the given Pulumi name. */
const named = (resources: RecordedResource[], type: string, name: string): RecordedResource => {
  const found = ofType(resources, type).find((r) => r.name === name);
  assert.ok(found, `no ${type} named ${name}`);
  return found;
};
/** Registration order follows when inputs resolve, not the code: lists of resources are compared sorted. */
const sorted = <T>(items: T[]): T[] => [...items].sort();
const namesOf = (resources: RecordedResource[], type: string) => sorted(ofType(resources, type).map((r) => r.name));
const dependsOn = (resource: RecordedResource, other: RecordedResource) => resource.dependencies.includes(other.urn);

const CONSUMER = "test:index:Consumer";
/** A resource of no provider's, that only takes `value`. */
class Consumer extends pulumi.CustomResource {
  constructor(name: string, value: pulumi.Input<unknown>) {
    super(CONSUMER, name, { value });
  }
}
/**
 * The component, and outside it one resource per value `values` picks from it, taking that value as
 * its input: what whatever uses the value waits for shows in that resource's dependencies (waitsFor).
 */
function withConsumers<T>(component: T, values?: (component: T) => Record<string, pulumi.Input<unknown>>): T {
  for (const [name, value] of Object.entries(values?.(component) ?? {})) new Consumer(`consumer-${name}`, value);
  return component;
}
/** The resources that whatever uses the value withConsumers named `name` waits for. */
const waitsFor = (run: MockRun<unknown>, name: string): RecordedResource[] => {
  const consumer = named(run.resources, CONSUMER, `consumer-${name}`);
  return run.resources.filter((r) => dependsOn(consumer, r));
};

/** Names of the resources neither the component nor declared under it (directly or through a child component). */
function outsideComponent(run: MockRun<unknown>, componentType: string): string[] {
  const component = one(run.resources, componentType);
  const parentOf = new Map(run.resources.map((r) => [r.urn, r.parent]));
  const under = (r: RecordedResource) => {
    for (let p = r.parent; p; p = parentOf.get(p) ?? "") if (p === component.urn) return true;
    return false;
  };
  return run.resources.filter((r) => r !== component && !under(r)).map((r) => r.name);
}

/** Kubernetes objects the component declared through some other provider than the one it was given. */
function bypassingProvider(run: MockRun<unknown>): string[] {
  const provider = one(run.resources, K8S_PROVIDER);
  return run.resources
    .filter((r) => r.type.startsWith("kubernetes:") && !r.provider.startsWith(`${provider.urn}::`))
    .map((r) => r.name);
}

const resolved = async <T>(input: pulumi.Input<T>): Promise<T> =>
  (await valueOf(pulumi.output(input) as pulumi.Output<T>)).value;

interface ExpectedDatabase {
  host: string;
  port: number;
  name: string;
  username: string;
  password: string;
  url: string;
  location: EndpointLocation;
  trustBundle?: { configMap: string; mountPath: string };
}

/** A DatabaseEndpoint with these values, its password and URL secret. */
async function assertDatabaseEndpoint(endpoint: DatabaseEndpoint, expected: ExpectedDatabase): Promise<void> {
  const password = await valueOf(endpoint.password);
  const url = await valueOf(endpoint.url);
  assert.ok(password.secret, "the password is a secret");
  assert.ok(url.secret, "the URL is a secret");
  assert.deepEqual(
    {
      host: await resolved(endpoint.host),
      port: endpoint.port,
      name: await resolved(endpoint.name),
      username: await resolved(endpoint.username),
      password: password.value,
      url: url.value,
      location: endpoint.location,
      trustBundle: endpoint.trustBundle && {
        configMap: await resolved(endpoint.trustBundle.configMap),
        mountPath: endpoint.trustBundle.mountPath,
      },
    },
    { trustBundle: undefined, ...expected },
  );
}

/** A catalog without a catalog file: the services as written, checked by the schema and validation. */
function catalogOf(services: Record<string, unknown>[]): Catalog {
  const parsed = parseCatalog(JSON.stringify({ name: "shop", services }));
  assert.deepEqual(parsed.problems, []);
  return parsed.catalog!;
}
const serviceSpec = (name: string, port: number, fields: Record<string, unknown> = {}) => ({
  name,
  image: `shop/${name}:1.2.3`,
  port,
  resources: { cpu: "500m", memory: "256Mi" },
  ...fields,
});

/** Two services on the broker: `orders` publishes, `mailer` consumes with a dead-letter queue. */
const PLAN: TopologyPlan = {
  vhost: "shop",
  exchanges: [
    { name: "sales.events", type: "topic" },
    { name: "platform.dlx", type: "direct" },
  ],
  queues: [
    {
      name: "mailer.orders",
      service: "mailer",
      role: "consumer",
      type: "quorum",
      arguments: {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "platform.dlx",
        "x-dead-letter-routing-key": "mailer.orders",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 10,
      },
      maxPriority: 5,
    },
    {
      name: "mailer.orders.dlq",
      service: "mailer",
      role: "dead-letter",
      type: "quorum",
      arguments: { "x-queue-type": "quorum", "x-max-length": 10000, "x-overflow": "reject-publish" },
    },
  ],
  bindings: [
    { source: "sales.events", destination: "mailer.orders", routingKey: "sales.order.*" },
    { source: "platform.dlx", destination: "mailer.orders.dlq", routingKey: "mailer.orders" },
  ],
  users: [
    {
      service: "orders",
      username: "orders",
      permissions: { configure: "^$", write: "^(sales\\.events)$", read: "^$" },
      topicPermissions: [{ exchange: "sales.events", write: "^(sales\\.order\\.created)$", read: "^$" }],
      publishes: ["sales.order.created"],
      consumerQueues: [],
      maxAttempts: {},
    },
    {
      service: "mailer",
      username: "mailer",
      permissions: {
        configure: "^(mailer\\.orders|mailer\\.orders\\.dlq)$",
        write: "^$",
        read: "^(mailer\\.orders|mailer\\.orders\\.dlq)$",
      },
      topicPermissions: [],
      publishes: [],
      consumerQueues: ["mailer.orders"],
      maxAttempts: { "mailer.orders": 1 },
    },
  ],
};

/** A managed store's security group admits exactly `ports` from the EKS nodes. */
function assertNodesOnly(run: MockRun<unknown>, ports: number[]): void {
  const group = one(run.resources, "aws:ec2/securityGroup:SecurityGroup");
  assert.equal(group.inputs.vpcId, placement.vpcId);
  assert.equal(group.inputs.ingress, undefined, "no inline rules");
  const rules = ofType(run.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
  assert.deepEqual(
    sorted(
      rules.map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.ipProtocol, r.inputs.referencedSecurityGroupId]),
    ),
    sorted(ports.map((port) => [port, port, "tcp", placement.nodeSecurityGroupId])),
  );
  for (const rule of rules) assert.equal(rule.inputs.securityGroupId, `${group.name}-id`);
}

describe("Network (under mocks)", () => {
  const network = (natGateways: "per-az" | "single") =>
    build(
      () =>
        new Network("net", {
          cidr: VPC_CIDR,
          zones: 3,
          natGateways,
          kmsKeyArn: KMS_KEY,
          logRetentionDays: 90,
          namePrefix: PREFIX,
        }),
    );

  it("spreads a public and a private /20 over three zones, private routes through a NAT per zone", async () => {
    const run = await network("per-az");
    assert.equal(one(run.resources, "aws:ec2/vpc:Vpc").inputs.cidrBlock, VPC_CIDR);
    const subnet = (name: string) => named(run.resources, "aws:ec2/subnet:Subnet", name).inputs;
    for (const [i, zone] of ["eu-west-1a", "eu-west-1b", "eu-west-1c"].entries()) {
      const pub = subnet(`net-public-${i}`);
      assert.deepEqual(
        [pub.cidrBlock, pub.availabilityZone, pub.mapPublicIpOnLaunch, pub.tags["kubernetes.io/role/elb"]],
        [`10.20.${16 * i}.0/20`, zone, false, "1"],
      );
      const priv = subnet(`net-private-${i}`);
      assert.deepEqual(
        [priv.cidrBlock, priv.availabilityZone, priv.tags["kubernetes.io/role/internal-elb"]],
        [`10.20.${128 + 16 * i}.0/20`, zone, "1"],
      );
      const nat = named(run.resources, "aws:ec2/natGateway:NatGateway", `net-nat-${i}`);
      assert.equal(nat.inputs.subnetId, `net-public-${i}-id`, "each NAT in its zone's public subnet");
      assert.ok(dependsOn(nat, one(run.resources, "aws:ec2/internetGateway:InternetGateway")));
      assert.deepEqual(named(run.resources, "aws:ec2/routeTable:RouteTable", `net-private-rt-${i}`).inputs.routes, [
        { cidrBlock: "0.0.0.0/0", natGatewayId: `net-nat-${i}-id` },
      ]);
    }
    assert.equal(ofType(run.resources, "aws:ec2/subnet:Subnet").length, 6);
    assert.equal(ofType(run.resources, "aws:ec2/eip:Eip").length, 3);
    assert.deepEqual(named(run.resources, "aws:ec2/routeTable:RouteTable", "net-public-rt").inputs.routes, [
      { cidrBlock: "0.0.0.0/0", gatewayId: "net-igw-id" },
    ]);
    assert.deepEqual(
      ofType(run.resources, "aws:ec2/routeTableAssociation:RouteTableAssociation")
        .map((a) => [a.inputs.subnetId, a.inputs.routeTableId])
        .sort(),
      [
        ["net-private-0-id", "net-private-rt-0-id"],
        ["net-private-1-id", "net-private-rt-1-id"],
        ["net-private-2-id", "net-private-rt-2-id"],
        ["net-public-0-id", "net-public-rt-id"],
        ["net-public-1-id", "net-public-rt-id"],
        ["net-public-2-id", "net-public-rt-id"],
      ],
    );
  });

  it("routes every private subnet through the one NAT when NAT is single", async () => {
    const run = await network("single");
    assert.deepEqual(namesOf(run.resources, "aws:ec2/natGateway:NatGateway"), ["net-nat-0"]);
    assert.equal(ofType(run.resources, "aws:ec2/eip:Eip").length, 1);
    for (const i of [0, 1, 2])
      assert.deepEqual(named(run.resources, "aws:ec2/routeTable:RouteTable", `net-private-rt-${i}`).inputs.routes, [
        { cidrBlock: "0.0.0.0/0", natGatewayId: "net-nat-0-id" },
      ]);
  });

  it("logs every flow to a KMS-encrypted log group through a role that may write only there", async () => {
    const run = await network("per-az");
    const logGroup = one(run.resources, "aws:cloudwatch/logGroup:LogGroup").inputs;
    assert.deepEqual(
      [logGroup.name, logGroup.retentionInDays, logGroup.kmsKeyId],
      [`/platform/${PREFIX}/vpc-flow-logs`, 90, KMS_KEY],
    );
    const logGroupArn = "arn:aws:logs:eu-west-1:123456789012:log-group:net-flow-logs";
    const flowLog = one(run.resources, "aws:ec2/flowLog:FlowLog").inputs;
    assert.deepEqual(
      [flowLog.vpcId, flowLog.trafficType, flowLog.logDestinationType, flowLog.logDestination, flowLog.iamRoleArn],
      ["net-vpc-id", "ALL", "cloud-watch-logs", logGroupArn, "arn:aws:iam::123456789012:role/net-flow-logs"],
    );
    const trust = JSON.parse(one(run.resources, "aws:iam/role:Role").inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: "vpc-flow-logs.amazonaws.com" });
    const policy = JSON.parse(one(run.resources, "aws:iam/rolePolicy:RolePolicy").inputs.policy);
    assert.deepEqual(
      policy.Statement.map((s: any) => s.Resource),
      [`${logGroupArn}:*`],
    );
  });

  it("declares everything under itself and exposes the VPC and subnets", async () => {
    const run = await network("per-az");
    assert.deepEqual(outsideComponent(run, "platform:aws:Network"), []);
    const net = run.result;
    assert.equal(await resolved(net.vpcId), "net-vpc-id");
    assert.equal(net.cidr, VPC_CIDR);
    assert.deepEqual(await resolved(pulumi.all(net.publicSubnetIds)), [
      "net-public-0-id",
      "net-public-1-id",
      "net-public-2-id",
    ]);
    assert.deepEqual(await resolved(pulumi.all(net.privateSubnetIds)), [
      "net-private-0-id",
      "net-private-1-id",
      "net-private-2-id",
    ]);
  });
});

describe("EksCluster (under mocks)", () => {
  const ADMIN = "arn:aws:iam::123456789012:role/platform/oncall";
  const VIEWER = "arn:aws:iam::123456789012:role/developers";
  const ACCESS = { creatorAdmin: true, admins: [ADMIN], viewers: [VIEWER], viewerNamespaces: ["shop", "monitoring"] };
  const cluster = (
    publicAccessCidrs: string[] = [],
    consume?: (eks: EksCluster) => Record<string, pulumi.Input<unknown>>,
    access = ACCESS,
  ) =>
    build(() =>
      withConsumers(
        new EksCluster("eks", {
          namePrefix: PREFIX,
          version: "1.35",
          extendedSupport: false,
          vpcId: placement.vpcId,
          privateSubnetIds: placement.privateSubnetIds,
          privateEgress: [new Consumer("nat-route", "0.0.0.0/0")],
          publicAccessCidrs,
          kmsKeyArn: KMS_KEY,
          nodes: { instanceTypes: ["m6i.large"], min: 2, desired: 3, max: 6 },
          region: "eu-west-1",
          access,
          logRetentionDays: 30,
          resourceTags: TAGS,
        }),
        consume,
      ),
    );

  it("runs a private control plane with KMS-encrypted secrets and every log type", async () => {
    const run = await cluster();
    const record = one(run.resources, "aws:eks/cluster:Cluster");
    const eks = record.inputs;
    assert.deepEqual(
      [eks.name, eks.version, eks.roleArn],
      [`${PREFIX}-eks`, "1.35", "arn:aws:iam::123456789012:role/eks-cluster-role"],
    );
    assert.deepEqual(eks.vpcConfig, {
      subnetIds: placement.privateSubnetIds,
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
    });
    assert.deepEqual(eks.encryptionConfig, { resources: ["secrets"], provider: { keyArn: KMS_KEY } });
    assert.deepEqual(eks.enabledClusterLogTypes, ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    assert.ok(
      dependsOn(
        record,
        named(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "eks-cluster-policy"),
      ),
    );
    const trust = JSON.parse(named(run.resources, "aws:iam/role:Role", "eks-cluster-role").inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: "eks.amazonaws.com" });
  });

  it("opens the public endpoint to the given CIDRs only", async () => {
    const eks = one((await cluster(["203.0.113.0/24"])).resources, "aws:eks/cluster:Cluster").inputs;
    assert.equal(eks.vpcConfig.endpointPublicAccess, true);
    assert.deepEqual(eks.vpcConfig.publicAccessCidrs, ["203.0.113.0/24"]);
  });

  it("runs the nodes in the private subnets, then the core add-ons", async () => {
    const run = await cluster();
    const nodes = one(run.resources, "aws:eks/nodeGroup:NodeGroup");
    assert.deepEqual(
      [nodes.inputs.clusterName, nodes.inputs.subnetIds, nodes.inputs.instanceTypes, nodes.inputs.scalingConfig],
      [`${PREFIX}-eks`, placement.privateSubnetIds, ["m6i.large"], { minSize: 2, desiredSize: 3, maxSize: 6 }],
    );
    assert.equal(nodes.inputs.nodeRoleArn, "arn:aws:iam::123456789012:role/eks-node-role");
    const nodePolicies = ofType(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) =>
      a.name.startsWith("eks-node-"),
    );
    assert.deepEqual(sorted(nodePolicies.map((a) => a.inputs.policyArn)), [
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]);
    for (const policy of nodePolicies) assert.ok(dependsOn(nodes, policy), `nodes wait for ${policy.name}`);
    assert.ok(dependsOn(nodes, named(run.resources, CONSUMER, "nat-route")), "nodes wait for the way out through NAT");
    const addons = ofType(run.resources, "aws:eks/addon:Addon");
    assert.deepEqual(
      sorted(addons.map((a) => a.inputs.addonName)),
      sorted(["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"]),
    );
    for (const addon of addons) assert.ok(dependsOn(addon, nodes), `${addon.name} waits for the nodes`);
  });

  it("runs the EBS CSI driver as its own IRSA role: the managed policy and the guide's use of the platform key", async () => {
    const run = await cluster();
    const role = named(run.resources, "aws:iam/role:Role", "eks-ebs-csi-driver");
    assert.equal(role.inputs.name, ebsCsiDriverRoleName(PREFIX), "the name the key policy allows");
    const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EKS-CLUSTER";
    assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0], {
      Effect: "Allow",
      Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/eks-oidc" },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${issuer}:aud`]: "sts.amazonaws.com",
          [`${issuer}:sub`]: "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        },
      },
    });
    const managed = named(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "eks-ebs-csi-driver");
    // https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html: the managed policy lives under service-role/.
    assert.equal(managed.inputs.policyArn, "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy");
    const key = JSON.parse(
      named(run.resources, "aws:iam/rolePolicy:RolePolicy", "eks-ebs-csi-driver-key").inputs.policy,
    );
    assert.deepEqual(key.Statement, [
      {
        Effect: "Allow",
        Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        Resource: [KMS_KEY],
      },
      {
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: [KMS_KEY],
      },
    ]);
    const addons = ofType(run.resources, "aws:eks/addon:Addon");
    const driver = addons.find((a) => a.inputs.addonName === "aws-ebs-csi-driver")!;
    assert.equal(driver.inputs.serviceAccountRoleArn, "arn:aws:iam::123456789012:role/eks-ebs-csi-driver");
    for (const permission of [managed, named(run.resources, "aws:iam/rolePolicy:RolePolicy", "eks-ebs-csi-driver-key")])
      assert.ok(dependsOn(driver, permission), `the driver starts once its role has ${permission.name}`);
    for (const other of addons.filter((a) => a !== driver))
      assert.equal(other.inputs.serviceAccountRoleArn, undefined, `${other.inputs.addonName} needs no role`);
  });

  it("hands out the add-ons' versions only once every add-on is active", async () => {
    const run = await cluster([], (eks) => ({ addons: eks.addonVersions }));
    const addons = ofType(run.resources, "aws:eks/addon:Addon");
    for (const addon of addons) assert.ok(waitsFor(run, "addons").includes(addon), `waits for ${addon.name}`);
    assert.equal(
      (await resolved(run.result.addonVersions))["aws-ebs-csi-driver"],
      addonVersion("aws-ebs-csi-driver", "1.35"),
    );
  });

  it("lets in access entries only: admins, read-only viewers in the given namespaces, and the creator", async () => {
    const run = await cluster([], (eks) => ({ endpoint: eks.endpoint, access: eks.access }));
    const eks = one(run.resources, "aws:eks/cluster:Cluster");
    assert.deepEqual(eks.inputs.accessConfig, {
      authenticationMode: "API",
      bootstrapClusterCreatorAdminPermissions: false,
    });
    assert.deepEqual(eks.ignoreChanges, ["accessConfig.bootstrapClusterCreatorAdminPermissions"]);
    const policy = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;
    const associations = ofType(run.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
    const byPrincipal = (rows: unknown[][]) => [...rows].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    assert.deepEqual(
      byPrincipal(associations.map((a) => [a.inputs.principalArn, a.inputs.policyArn, a.inputs.accessScope])),
      byPrincipal([
        [ADMIN, policy("AmazonEKSClusterAdminPolicy"), { type: "cluster" }],
        [VIEWER, policy("AmazonEKSViewPolicy"), { type: "namespace", namespaces: ["shop", "monitoring"] }],
        // The mocked caller, an IAM user: its own ARN is its session context's issuer.
        ["arn:aws:iam::123456789012:user/ci", policy("AmazonEKSClusterAdminPolicy"), { type: "cluster" }],
      ]),
    );
    const entries = ofType(run.resources, "aws:eks/accessEntry:AccessEntry");
    for (const association of associations) {
      const entry = entries.find((e) => e.inputs.principalArn === association.inputs.principalArn)!;
      assert.equal(entry.inputs.type, "STANDARD");
      assert.ok(dependsOn(association, entry), "a policy is associated with an existing entry");
      for (const consumer of ["endpoint", "access"])
        assert.ok(waitsFor(run, consumer).includes(association), `the ${consumer} waits for ${association.name}`);
    }
    const creator = entries.filter((e) => e.inputs.principalArn.endsWith(":user/ci"));
    const creatorPolicy = associations.filter((a) => a.inputs.principalArn.endsWith(":user/ci"));
    for (const kept of [...creator, ...creatorPolicy])
      assert.deepEqual(kept.ignoreChanges, ["principalArn"], `${kept.name} stays with the first creator`);
    assert.deepEqual(
      sorted(await resolved(run.result.access)),
      sorted([ADMIN, VIEWER, "arn:aws:iam::123456789012:user/ci"]),
    );
  });

  it("gives the creator no entry when turned off", async () => {
    const run = await cluster([], undefined, { ...ACCESS, creatorAdmin: false, viewers: [] });
    assert.deepEqual(
      ofType(run.resources, "aws:eks/accessEntry:AccessEntry").map((e) => e.inputs.principalArn),
      [ADMIN],
    );
  });

  it("tags what the nodes launch and the volumes the EBS CSI driver makes, and keeps the nodes' credentials from pods", async () => {
    const run = await cluster();
    const template = one(run.resources, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.deepEqual(template.inputs.tagSpecifications, [
      { resourceType: "instance", tags: { ...TAGS, Name: `${PREFIX}-node` } },
      { resourceType: "volume", tags: { ...TAGS, Name: `${PREFIX}-node` } },
      { resourceType: "network-interface", tags: { ...TAGS, Name: `${PREFIX}-node` } },
    ]);
    assert.deepEqual(template.inputs.metadataOptions, {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
    });
    const nodes = one(run.resources, "aws:eks/nodeGroup:NodeGroup");
    assert.deepEqual(nodes.inputs.launchTemplate, { id: `${template.name}-id`, version: "3" });
    const driver = ofType(run.resources, "aws:eks/addon:Addon").find(
      (a) => a.inputs.addonName === "aws-ebs-csi-driver",
    )!;
    assert.deepEqual(JSON.parse(driver.inputs.configurationValues), { controller: { extraVolumeTags: TAGS } });
  });

  it("makes the control plane's log group before the cluster: retention, the platform key", async () => {
    const run = await cluster();
    const logGroup = one(run.resources, "aws:cloudwatch/logGroup:LogGroup");
    assert.deepEqual(
      [logGroup.inputs.name, logGroup.inputs.retentionInDays, logGroup.inputs.kmsKeyId],
      [`/aws/eks/${PREFIX}-eks/cluster`, 30, KMS_KEY],
    );
    assert.ok(dependsOn(one(run.resources, "aws:eks/cluster:Cluster"), logGroup));
  });

  it("keeps the nodes and every add-on on the cluster's version, and lets EKS upgrade it at the end of standard support", async () => {
    const run = await cluster();
    const eks = one(run.resources, "aws:eks/cluster:Cluster");
    assert.deepEqual(eks.inputs.upgradePolicy, { supportType: "STANDARD" });
    const nodes = one(run.resources, "aws:eks/nodeGroup:NodeGroup");
    assert.equal(nodes.inputs.version, "1.35", "the nodes follow the control plane");
    assert.ok(dependsOn(nodes, eks));
    for (const addon of ofType(run.resources, "aws:eks/addon:Addon"))
      assert.equal(
        addon.inputs.addonVersion,
        addonVersion(addon.inputs.addonName, "1.35"),
        `${addon.inputs.addonName} on EKS's version for 1.35`,
      );
  });

  it("trusts the cluster's OIDC issuer for IRSA and exposes it without https://", async () => {
    const run = await cluster();
    const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EKS-CLUSTER";
    const oidc = one(run.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs;
    assert.deepEqual([oidc.url, oidc.clientIdLists], [`https://${issuer}`, ["sts.amazonaws.com"]]);
    assert.equal(await resolved(run.result.oidcIssuer), issuer);
    assert.equal(await resolved(run.result.oidcProviderArn), "arn:aws:iam::123456789012:oidc-provider/eks-oidc");
    assert.equal(await resolved(run.result.nodeSecurityGroupId), "sg-cluster");
  });

  it("hands out a secret, credential-free kubeconfig, the endpoint, certificate authority and ARN, and no provider", async () => {
    const run = await cluster();
    const kubeconfig = await valueOf(run.result.kubeconfig);
    assert.ok(kubeconfig.secret);
    const config = JSON.parse(kubeconfig.value);
    assert.deepEqual(config.clusters[0].cluster, {
      server: "https://eks-cluster.gr7.eu-west-1.eks.amazonaws.com",
      "certificate-authority-data": "Q0VSVA==",
    });
    assert.deepEqual(config.users[0].user.exec.args, [
      "eks",
      "get-token",
      "--cluster-name",
      `${PREFIX}-eks`,
      "--region",
      "eu-west-1",
    ]);
    assert.ok(!/"token"|password|client-key/.test(kubeconfig.value), "no credentials in the kubeconfig");
    assert.equal(await resolved(run.result.endpoint), "https://eks-cluster.gr7.eu-west-1.eks.amazonaws.com");
    assert.equal(await resolved(run.result.certificateAuthority), "Q0VSVA==");
    assert.equal(await resolved(run.result.arn), "arn:aws:eks:eu-west-1:123456789012:cluster/eks-cluster");
    assert.equal(ofType(run.resources, K8S_PROVIDER).length, 0, "the platform layer makes the provider");
    assert.equal(await resolved(run.result.name), `${PREFIX}-eks`);
    assert.deepEqual(outsideComponent(run, "platform:aws:EksCluster"), ["nat-route"], "the route is the network's");
  });

  it("hands out the endpoint only once the nodes and every add-on exist", async () => {
    const run = await cluster([], (eks) => ({ endpoint: eks.endpoint }));
    const waited = waitsFor(run, "endpoint");
    const addons = ofType(run.resources, "aws:eks/addon:Addon");
    assert.equal(addons.length, 5);
    for (const dependency of [one(run.resources, "aws:eks/nodeGroup:NodeGroup"), ...addons])
      assert.ok(waited.includes(dependency), `the endpoint waits for ${dependency.name}`);
  });
});

describe("BackupPlan (under mocks)", () => {
  const plan = () =>
    build(
      () =>
        new BackupPlan("backup", {
          namePrefix: PREFIX,
          kmsKeyArn: KMS_KEY,
          schedule: "cron(0 3 * * ? *)",
          retentionDays: 35,
        }),
    );

  it("backs up every resource tagged with the prefix, daily, into a KMS-encrypted vault", async () => {
    const run = await plan();
    const vault = one(run.resources, "aws:backup/vault:Vault").inputs;
    assert.deepEqual([vault.name, vault.kmsKeyArn], [`${PREFIX}-backups`, KMS_KEY]);
    const rules = one(run.resources, "aws:backup/plan:Plan").inputs.rules;
    assert.equal(rules.length, 1);
    assert.deepEqual(
      [rules[0].targetVaultName, rules[0].schedule, rules[0].lifecycle],
      [`${PREFIX}-backups`, "cron(0 3 * * ? *)", { deleteAfter: 35 }],
    );
    const selection = one(run.resources, "aws:backup/selection:Selection");
    assert.deepEqual(selection.inputs.selectionTags, [{ type: "STRINGEQUALS", key: BACKUP_TAG, value: PREFIX }]);
    assert.deepEqual(
      [selection.inputs.planId, selection.inputs.iamRoleArn],
      ["backup-plan-id", "arn:aws:iam::123456789012:role/backup-role"],
    );
    const attachments = ofType(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    assert.deepEqual(sorted(attachments.map((a) => a.inputs.policyArn)), [
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]);
    for (const attachment of attachments) assert.ok(dependsOn(selection, attachment));
    const trust = JSON.parse(one(run.resources, "aws:iam/role:Role").inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: "backup.amazonaws.com" });
    assert.equal(await resolved(run.result.vaultName), `${PREFIX}-backups`);
    assert.deepEqual(outsideComponent(run, "platform:aws:BackupPlan"), []);
  });
});

describe("ManagedCache (under mocks)", () => {
  const cache = () =>
    build(
      () =>
        new ManagedCache("cache", {
          namePrefix: PREFIX,
          nodeType: "cache.t4g.small",
          replicas: 2,
          kmsKeyArn: KMS_KEY,
          ...placement,
        }),
    );

  it("runs Multi-AZ Redis with failover, TLS in transit, the KMS key at rest and a generated AUTH token", async () => {
    const run = await cache();
    const record = one(run.resources, "aws:elasticache/replicationGroup:ReplicationGroup");
    const group = record.inputs;
    assert.deepEqual(
      [group.replicationGroupId, group.engine, group.engineVersion, group.nodeType, group.port],
      [`${PREFIX}-redis`, "redis", REDIS.managedVersion, "cache.t4g.small", REDIS.port],
    );
    assert.equal(group.numCacheClusters, 3, "a primary and the two replicas");
    assert.deepEqual(
      [
        group.automaticFailoverEnabled,
        group.multiAzEnabled,
        group.transitEncryptionEnabled,
        group.atRestEncryptionEnabled,
      ],
      [true, true, true, true],
    );
    assert.equal(group.kmsKeyId, KMS_KEY);
    assert.deepEqual(run.generatedSecrets, [group.authToken]);
    assert.deepEqual(group.securityGroupIds, ["cache-sg-id"]);
    assert.deepEqual(
      one(run.resources, "aws:elasticache/subnetGroup:SubnetGroup").inputs.subnetIds,
      placement.privateSubnetIds,
    );
    assertNodesOnly(run, [REDIS.port]);
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:ManagedCache"), []);
  });

  it("hands services a TLS CacheEndpoint on the primary endpoint with the secret token", async () => {
    const run = await cache();
    const endpoint: CacheEndpoint = run.result.endpoint;
    const token = one(run.resources, "aws:elasticache/replicationGroup:ReplicationGroup").inputs.authToken;
    assert.equal(await resolved(endpoint.host), "master.cache-redis.cache.amazonaws.com");
    assert.deepEqual(
      [endpoint.port, endpoint.tls, endpoint.location, endpoint.sentinel],
      [REDIS.port, true, { kind: "vpc" }, undefined],
    );
    const password = await valueOf(endpoint.password);
    assert.ok(password.secret);
    assert.equal(password.value, token);
    const url = await valueOf(pulumi.output(cacheEnv(endpoint).secretEnv.REDIS_URL));
    assert.ok(url.secret);
    assert.equal(url.value, `rediss://:${token}@master.cache-redis.cache.amazonaws.com:${REDIS.port}/0`);
  });
});

describe("ManagedBroker (under mocks)", () => {
  const broker = () =>
    build(() => new ManagedBroker("mq", { namePrefix: PREFIX, instanceType: "mq.m7g.large", ...placement }));
  const host = "mq-broker.mq.eu-west-1.amazonaws.com";

  it("runs a private, Multi-AZ Amazon MQ for RabbitMQ cluster reachable from the nodes on AMQPS and HTTPS", async () => {
    const run = await broker();
    const mq = one(run.resources, "aws:mq/broker:Broker").inputs;
    assert.deepEqual(
      [mq.brokerName, mq.engineType, mq.engineVersion, mq.hostInstanceType, mq.deploymentMode, mq.publiclyAccessible],
      [`${PREFIX}-rabbitmq`, "RabbitMQ", RABBITMQ.managedVersion, "mq.m7g.large", "CLUSTER_MULTI_AZ", false],
    );
    assert.deepEqual([mq.subnetIds, mq.securityGroups], [placement.privateSubnetIds, ["mq-sg-id"]]);
    assert.deepEqual(mq.encryptionOptions, { useAwsOwnedKey: true });
    assert.equal(mq.users.length, 1);
    assert.equal(mq.users[0].username, MANAGED_BROKER_ADMIN);
    assertNodesOnly(run, [RABBITMQ.amqpsPort, RABBITMQ.managedManagementPort]);
    assert.deepEqual(
      run.resources.filter((r) => r.type.includes("rabbitmq")).map((r) => r.name),
      [],
      "no topology: the platform layer declares it",
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:ManagedBroker"), []);
  });

  it("hands out the host of the broker's amqps URL, its management URL and the admin password as a secret", async () => {
    const run = await broker();
    assert.equal(await resolved(run.result.host), host);
    assert.equal(await resolved(run.result.managementUrl), `https://${host}`);
    const adminPassword = await valueOf(run.result.adminPassword);
    assert.ok(adminPassword.secret);
    assert.equal(adminPassword.value, one(run.resources, "aws:mq/broker:Broker").inputs.users[0].password);
    assert.deepEqual(run.generatedSecrets, [adminPassword.value]);
  });
});

describe("AmazonMqTopology (under mocks)", () => {
  const host = "mq-broker.mq.eu-west-1.amazonaws.com";
  const MANAGEMENT_URL = `https://${host}`;
  /** The broker's admin password, as the infrastructure layer hands it over. */
  const ADMIN_PASSWORD = "mq-admin-s3cret";
  const topology = (consume?: (topology: AmazonMqTopology) => Record<string, pulumi.Input<unknown>>) =>
    build(() =>
      withConsumers(
        new AmazonMqTopology("mq", {
          plan: PLAN,
          host: pulumi.output(host),
          managementUrl: pulumi.output(MANAGEMENT_URL),
          adminPassword: pulumi.secret(ADMIN_PASSWORD),
        }),
        consume,
      ),
    );

  it("declares the plan through the management API of the broker, with the admin login", async () => {
    const run = await topology();
    const provider = one(run.resources, "pulumi:providers:rabbitmq");
    assert.equal(provider.name, "mq-admin");
    assert.equal(provider.inputs.endpoint, MANAGEMENT_URL);
    assert.equal(provider.inputs.username, MANAGED_BROKER_ADMIN);
    assert.equal(provider.inputs.password, ADMIN_PASSWORD);
    assert.equal(one(run.resources, "rabbitmq:index/vHost:VHost").inputs.name, "shop");
    assert.deepEqual(namesOf(run.resources, "rabbitmq:index/queue:Queue"), [
      "mq-topology-q-mailer.orders",
      "mq-topology-q-mailer.orders.dlq",
    ]);
    const dlq = named(run.resources, "rabbitmq:index/queue:Queue", "mq-topology-q-mailer.orders.dlq");
    assert.deepEqual(JSON.parse(dlq.inputs.settings.argumentsJson), {
      "x-queue-type": "quorum",
      "x-max-length": 10000,
      "x-overflow": "reject-publish",
    });
    assert.deepEqual(sorted(ofType(run.resources, "rabbitmq:index/user:User").map((u) => u.inputs.name)), [
      "mailer",
      "orders",
      QUEUE_MONITOR_USER,
    ]);
    for (const r of run.resources.filter((r) => r.type.startsWith("rabbitmq:")))
      assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name} goes through the broker's provider`);
    assert.deepEqual(plaintextOccurrences(run.resources, [ADMIN_PASSWORD, ...run.generatedSecrets]), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:AmazonMqTopology"), []);
  });

  it("hands services an AMQPS BrokerEndpoint on the broker's host, and their own logins", async () => {
    const run = await topology();
    const endpoint: BrokerEndpoint = run.result.endpoint;
    assert.deepEqual(
      {
        host: await resolved(endpoint.host),
        port: endpoint.port,
        tls: endpoint.tls,
        vhost: await resolved(endpoint.vhost),
        location: endpoint.location,
      },
      { host, port: 5671, tls: true, vhost: "shop", location: { kind: "vpc" } },
    );
    assert.equal(endpoint.port, RABBITMQ.amqpsPort);
    const orders = run.result.credentials.orders;
    const password = await valueOf(orders.password);
    assert.ok(password.secret);
    assert.ok(run.generatedSecrets.includes(password.value));
    assert.equal(
      password.value,
      named(run.resources, "rabbitmq:index/user:User", "mq-topology-u-orders").inputs.password,
    );
    const url = await valueOf(pulumi.output(brokerEnv(endpoint, orders).secretEnv.RABBITMQ_URL));
    assert.equal(url.value, `amqps://orders:${password.value}@${host}:5671/shop`);
    assert.deepEqual(run.result.credentials.mailer.consumerQueues, ["mailer.orders"]);
  });

  it("hands out the vhost from the declared VHost, so services wait until it exists", async () => {
    const run = await topology((mq) => ({ vhost: mq.endpoint.vhost }));
    assert.ok(waitsFor(run, "vhost").includes(one(run.resources, "rabbitmq:index/vHost:VHost")));
  });

  it("hands out each service's password once its user and permissions exist, so the service waits for them", async () => {
    const run = await topology((mq) => ({ orders: mq.credentials.orders.password }));
    const waited = waitsFor(run, "orders");
    for (const type of ["user:User", "permissions:Permissions", "topicPermissions:TopicPermissions"]) {
      const granted = ofType(run.resources, `rabbitmq:index/${type}`).find((r) => r.name.endsWith("-orders"))!;
      assert.ok(waited.includes(granted), `orders waits for ${granted.name}`);
    }
    assert.ok(!waited.some((r) => r.name.endsWith("-mailer")), "not for another service's user");
  });

  it("hands the queue-depth exporter the management API and a monitoring login that may touch no resource", async () => {
    const run = await topology((mq) => ({ monitorVhost: mq.queueMonitor.vhost }));
    const { managementUrl, login } = run.result.queueMonitor;
    assert.equal(await resolved(managementUrl), MANAGEMENT_URL);
    assert.equal(login.username, QUEUE_MONITOR_USER);
    const password = await valueOf(login.password);
    assert.ok(password.secret && run.generatedSecrets.includes(password.value));
    const user = named(run.resources, "rabbitmq:index/user:User", `mq-topology-u-${QUEUE_MONITOR_USER}`).inputs;
    assert.deepEqual([user.password, user.tags], [password.value, ["monitoring"]]);
    const permissions = named(
      run.resources,
      "rabbitmq:index/permissions:Permissions",
      `mq-topology-p-${QUEUE_MONITOR_USER}`,
    );
    assert.deepEqual(permissions.inputs.permissions, { configure: "^$", write: "^$", read: "^$" });
    assert.ok(waitsFor(run, "monitorVhost").includes(one(run.resources, "rabbitmq:index/vHost:VHost")));
    // The services' logins stay untagged: the management API is not theirs.
    const tagged = ofType(run.resources, "rabbitmq:index/user:User").filter((u) => (u.inputs.tags ?? []).length > 0);
    assert.deepEqual(
      tagged.map((u) => u.inputs.name),
      [QUEUE_MONITOR_USER],
    );
  });
});

describe("RdsDatabases (under mocks)", () => {
  const INSTANCE = "aws:rds/instance:Instance";
  const rds = (
    mode: "per-service" | "shared",
    consume?: (rds: RdsDatabases) => Record<string, pulumi.Input<unknown>>,
  ) =>
    build(() =>
      withConsumers(
        new RdsDatabases("rds", {
          namePrefix: PREFIX,
          databases: [
            { service: "orders", version: "16", extensions: ["pgcrypto"] },
            { service: "billing-api", version: "15", extensions: [] },
          ],
          mode,
          instanceClass: "db.t4g.medium",
          allocatedStorageGb: 20,
          backupRetentionDays: 14,
          allowMajorVersionUpgrade: false,
          applyImmediately: true,
          logRetentionDays: 30,
          kmsKeyArn: KMS_KEY,
          backupTags: { [BACKUP_TAG]: PREFIX },
          ...placement,
        }),
        consume,
      ),
    );

  /** Each instance: hardened, on its own parameter group that forces SSL for its major version; nothing else. */
  function assertInstances(run: MockRun<RdsDatabases>, expected: Array<[key: string, version: string]>): void {
    assert.deepEqual(
      sorted(ofType(run.resources, INSTANCE).map((i) => [i.name, i.inputs.identifier, i.inputs.engineVersion])),
      sorted(expected.map(([key, version]) => [`rds-${key}`, `${PREFIX}-${key}`, version])),
    );
    assert.equal(ofType(run.resources, "aws:rds/parameterGroup:ParameterGroup").length, expected.length);
    for (const [key, version] of expected) {
      const record = named(run.resources, INSTANCE, `rds-${key}`);
      const instance = record.inputs;
      const params = named(run.resources, "aws:rds/parameterGroup:ParameterGroup", `rds-${key}-params`);
      assert.equal(params.inputs.family, `postgres${version}`);
      assert.deepEqual(
        params.inputs.parameters.find((p: any) => p.name === "rds.force_ssl"),
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
      );
      assert.deepEqual(
        [instance.engine, instance.storageEncrypted, instance.kmsKeyId, instance.multiAz, instance.deletionProtection],
        ["postgres", true, KMS_KEY, true, true],
      );
      assert.deepEqual(
        [instance.publiclyAccessible, instance.backupRetentionPeriod, instance.performanceInsightsKmsKeyId],
        [false, 14, KMS_KEY],
      );
      assert.deepEqual([instance.instanceClass, instance.allocatedStorage], ["db.t4g.medium", 20]);
      assert.deepEqual(
        [instance.allowMajorVersionUpgrade, instance.applyImmediately],
        [false, true],
        "no major upgrade unless asked for; changes applied by the update itself",
      );
      assert.deepEqual(instance.vpcSecurityGroupIds, ["rds-sg-id"]);
      assert.deepEqual(instance.tags, { service: key, [BACKUP_TAG]: PREFIX });
      assert.equal(instance.username, DATABASE_ADMIN_USER);
      assert.ok(run.generatedSecrets.includes(instance.password), "a generated admin password");
    }
    assert.deepEqual(
      one(run.resources, "aws:rds/subnetGroup:SubnetGroup").inputs.subnetIds,
      placement.privateSubnetIds,
    );
    assertNodesOnly(run, [DATABASE_ENGINES.postgres.port]);
    assert.deepEqual(
      run.resources.filter((r) => r.type.startsWith("kubernetes:") || r.type.includes("postgresql")).map((r) => r.name),
      [],
      "no logins: the platform layer makes them",
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:RdsDatabases"), []);
  }

  /**
   * Each service's server: the address of the instance `instanceOf` it, that instance's key; and per
   * instance key, its admin password, a secret.
   */
  async function assertServers(run: MockRun<RdsDatabases>, instanceOf: (service: string) => string): Promise<void> {
    const { servers, adminPasswords } = run.result;
    assert.deepEqual(Object.keys(servers), ["orders", "billing-api"]);
    for (const service of ["orders", "billing-api"]) {
      const key = instanceOf(service);
      assert.deepEqual(
        { host: await resolved(servers[service].host), instance: servers[service].instance },
        { host: `rds-${key}.abc.eu-west-1.rds.amazonaws.com`, instance: key },
      );
    }
    const keys = [...new Set(["orders", "billing-api"].map(instanceOf))];
    assert.deepEqual(sorted(Object.keys(adminPasswords)), sorted(keys));
    for (const key of keys) {
      const password = await valueOf(adminPasswords[key]);
      assert.ok(password.secret, `${key}: the admin password is a secret`);
      assert.equal(password.value, named(run.resources, INSTANCE, `rds-${key}`).inputs.password);
    }
  }

  it("per service: an instance per service on its own major version, hardened and reachable from the nodes only", async () => {
    const run = await rds("per-service");
    assertInstances(run, [
      ["orders", "16"],
      ["billing-api", "15"],
    ]);
    assert.notEqual(
      named(run.resources, INSTANCE, "rds-orders").inputs.password,
      named(run.resources, INSTANCE, "rds-billing-api").inputs.password,
    );
  });

  it("shared: one instance on the highest version holds every service's database", async () => {
    const run = await rds("shared");
    assertInstances(run, [["shared", "16"]]);
  });

  it("per service: hands out each service's own instance address, and each instance's admin password as a secret", async () => {
    await assertServers(await rds("per-service"), (service) => service);
  });

  it("shared: hands out the shared instance's address for every service, and its one admin password as a secret", async () => {
    await assertServers(await rds("shared"), () => "shared");
  });

  it("makes each instance's log groups before it: retention, the platform key", async () => {
    const run = await rds("per-service");
    for (const key of ["orders", "billing-api"]) {
      const instance = named(run.resources, INSTANCE, `rds-${key}`);
      const groups = ofType(run.resources, "aws:cloudwatch/logGroup:LogGroup").filter((g) =>
        g.inputs.name.startsWith(`/aws/rds/instance/${PREFIX}-${key}/`),
      );
      assert.deepEqual(
        sorted(groups.map((g) => [g.inputs.name, g.inputs.retentionInDays, g.inputs.kmsKeyId])),
        sorted(
          instance.inputs.enabledCloudwatchLogsExports.map((log: string) => [
            `/aws/rds/instance/${PREFIX}-${key}/${log}`,
            30,
            KMS_KEY,
          ]),
        ),
      );
      for (const group of groups) assert.ok(dependsOn(instance, group), `${key} waits for ${group.inputs.name}`);
    }
  });

  it("hands out an address only once the nodes may reach it: login Jobs never try a closed port", async () => {
    const run = await rds("per-service", (databases) => ({ host: databases.servers.orders.host }));
    const rules = ofType(run.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    assert.equal(rules.length, 1);
    assert.ok(waitsFor(run, "host").includes(rules[0]));
  });
});

describe("RdsAccess (under mocks)", () => {
  const SECRET = "kubernetes:core/v1:Secret";
  const JOB = "kubernetes:batch/v1:Job";
  const POSTGRES_PORT = DATABASE_ENGINES.postgres.port;
  const address = (key: string) => `rds-${key}.abc.eu-west-1.rds.amazonaws.com`;
  /** Per instance key, its admin password as the infrastructure layer hands it over. */
  const adminPassword = (key: string) => `${key}-admin-s3cret`;
  const ADMIN_PASSWORDS = ["orders", "billing-api", "shared"].map(adminPassword);
  const perService = (service: string) => service;
  const shared = () => "shared";
  /** The logins of `orders` and `billing-api`, on the instance `instanceOf` each service. */
  const access = (
    bootstrap: "job" | "provider",
    instanceOf: (service: string) => string,
    consume?: (access: RdsAccess) => Record<string, pulumi.Input<unknown>>,
  ) =>
    build(() => {
      const provider = kubernetesProvider();
      const databases = [
        { service: "orders", extensions: ["pgcrypto"] },
        { service: "billing-api", extensions: [] },
      ];
      return withConsumers(
        new RdsAccess("rds", {
          databases: databases.map((db) => ({
            ...db,
            host: pulumi.output(address(instanceOf(db.service))),
            adminPassword: pulumi.secret(adminPassword(instanceOf(db.service))),
          })),
          bootstrap,
          kubernetes: { provider, namespace: "shop" },
          vpcCidr: VPC_CIDR,
          jobTrustBundle: JOB_TRUST,
          trustBundle: RDS_TRUST,
        }),
        consume,
      );
    });

  /** Each service's endpoint: its login on its instance, with the password its bootstrap set. */
  async function assertEndpoints(
    run: MockRun<RdsAccess>,
    instanceOf: (service: string) => string,
    passwords: Record<string, string>,
  ) {
    assert.deepEqual(Object.keys(run.result.endpoints), ["orders", "billing-api"]);
    for (const [service, database] of [
      ["orders", "orders"],
      ["billing-api", "billing_api"],
    ]) {
      const host = address(instanceOf(service));
      const password = passwords[service];
      assert.ok(run.generatedSecrets.includes(password), `${service}: a generated password`);
      await assertDatabaseEndpoint(run.result.endpoints[service], {
        host,
        port: POSTGRES_PORT,
        name: database,
        username: `${database}_app`,
        password,
        // TLS verified against Amazon's CA and the host name, with the bundle the service mounts.
        url: `postgresql://${database}_app:${password}@${host}:${POSTGRES_PORT}/${database}?sslmode=verify-full&sslrootcert=${RDS_CA_PATH}`,
        location: { kind: "vpc" },
        trustBundle: RDS_TRUST,
      });
    }
    assert.notEqual(passwords.orders, passwords["billing-api"]);
  }

  /** Per service, the bootstrap Job's Secret: [admin password, service password]. */
  const jobCredentials = (run: MockRun<unknown>, service: string): [string, string] => {
    const data = named(run.resources, SECRET, `rds-${service}-bootstrap-credentials`).inputs.stringData;
    return [data.PGPASSWORD, data.SERVICE_PASSWORD];
  };

  it("per service with Jobs: a Job per service runs the bootstrap SQL on its instance as its admin, from inside the VPC", async () => {
    const run = await access("job", perService);
    assert.deepEqual(namesOf(run.resources, JOB), ["rds-billing-api-bootstrap", "rds-orders-bootstrap"]);
    for (const [service, database, extensions] of [
      ["orders", "orders", ["pgcrypto"]],
      ["billing-api", "billing_api", []],
    ] as const) {
      const [admin, servicePassword] = jobCredentials(run, service);
      assert.equal(admin, adminPassword(service), "the Job logs in as its instance's admin");
      assert.notEqual(servicePassword, admin);
      const sql = named(run.resources, "kubernetes:core/v1:ConfigMap", `rds-${service}-bootstrap-sql`).inputs;
      assert.equal(
        sql.data["bootstrap.sql"],
        renderBootstrapSql({ database, username: `${database}_app` }, [...extensions]),
      );
      assert.equal(sql.metadata.namespace, "shop");
      const job = named(run.resources, JOB, `rds-${service}-bootstrap`);
      const pod = job.inputs.spec.template;
      const container = pod.spec.containers[0];
      assert.equal(container.image, POSTGRES_TOOLS_IMAGE);
      assert.deepEqual(
        container.env.filter((e: any) => e.name.startsWith("PG")),
        [
          { name: "PGHOST", value: address(service) },
          { name: "PGPORT", value: String(POSTGRES_PORT) },
          { name: "PGUSER", value: DATABASE_ADMIN_USER },
          { name: "PGSSLMODE", value: "require" },
        ],
      );
      const credentials = named(run.resources, SECRET, `rds-${service}-bootstrap-credentials`);
      assert.ok(dependsOn(job, credentials), "the Job reads its Secret");
      assert.equal(pod.metadata.labels["platform/job"], "database-bootstrap");
    }
    const egressPolicy = one(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    for (const job of ofType(run.resources, JOB))
      assert.ok(dependsOn(job, egressPolicy), `${job.name} starts once the namespace lets it out`);
    const egress = egressPolicy.inputs;
    assert.deepEqual(egress.metadata, { name: "database-bootstrap", namespace: "shop" });
    assert.deepEqual(egress.spec.podSelector, { matchLabels: { "platform/job": "database-bootstrap" } });
    assert.deepEqual(egress.spec.egress, [
      DNS_EGRESS,
      { to: [{ ipBlock: { cidr: VPC_CIDR } }], ports: [{ port: POSTGRES_PORT }] },
    ]);
    assert.equal(ofType(run.resources, "pulumi:providers:postgresql").length, 0);
    assert.deepEqual(bypassingProvider(run), []);
    assert.deepEqual(plaintextOccurrences(run.resources, [...ADMIN_PASSWORDS, ...run.generatedSecrets]), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:RdsAccess"), ["k"]);
    await assertEndpoints(run, perService, {
      orders: jobCredentials(run, "orders")[1],
      "billing-api": jobCredentials(run, "billing-api")[1],
    });
  });

  it("shared with Jobs: every service's Job on the one instance, as its admin", async () => {
    const run = await access("job", shared);
    assert.deepEqual(namesOf(run.resources, JOB), ["rds-billing-api-bootstrap", "rds-orders-bootstrap"]);
    for (const service of ["orders", "billing-api"]) {
      const container = named(run.resources, JOB, `rds-${service}-bootstrap`).inputs.spec.template.spec.containers[0];
      assert.equal(container.env.find((e: any) => e.name === "PGHOST").value, address("shared"));
      assert.equal(jobCredentials(run, service)[0], adminPassword("shared"));
    }
    assert.deepEqual(plaintextOccurrences(run.resources, [...ADMIN_PASSWORDS, ...run.generatedSecrets]), []);
    await assertEndpoints(run, shared, {
      orders: jobCredentials(run, "orders")[1],
      "billing-api": jobCredentials(run, "billing-api")[1],
    });
  });

  /** Per service, the PostgresAccess login: [its provider's record, the login's password]. */
  const providerLogin = (run: MockRun<unknown>, service: string, username: string) => {
    const provider = named(run.resources, "pulumi:providers:postgresql", `rds-${service}-admin`);
    const role = ofType(run.resources, "postgresql:index/role:Role").find((r) => r.inputs.name === username)!;
    assert.ok(role.provider.startsWith(`${provider.urn}::`), `${username} is made through its instance's provider`);
    return { provider, password: role.inputs.password as string };
  };

  it("per service with the provider: a PostgresAccess per service through an SSL admin connection, no Jobs", async () => {
    const run = await access("provider", perService);
    assert.deepEqual(namesOf(run.resources, "platform:data:PostgresAccess"), [
      "rds-billing-api-access",
      "rds-orders-access",
    ]);
    const passwords: Record<string, string> = {};
    for (const [service, username] of [
      ["orders", "orders_app"],
      ["billing-api", "billing_api_app"],
    ]) {
      const { provider, password } = providerLogin(run, service, username);
      assert.deepEqual(
        [provider.inputs.host, provider.inputs.port, provider.inputs.username, provider.inputs.sslmode],
        [address(service), String(POSTGRES_PORT), DATABASE_ADMIN_USER, "require"],
      );
      assert.equal(provider.inputs.password, adminPassword(service));
      passwords[service] = password;
    }
    assert.deepEqual(
      ofType(run.resources, "postgresql:index/extension:Extension").map((e) => [e.inputs.name, e.inputs.database]),
      [["pgcrypto", "orders"]],
    );
    assert.deepEqual(
      run.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.name),
      [],
      "no Job, ConfigMap, Secret or NetworkPolicy",
    );
    assert.deepEqual(plaintextOccurrences(run.resources, [...ADMIN_PASSWORDS, ...run.generatedSecrets]), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:RdsAccess"), ["k"]);
    await assertEndpoints(run, perService, passwords);
  });

  it("shared with the provider: every login on the one instance, as its admin", async () => {
    const run = await access("provider", shared);
    const passwords: Record<string, string> = {};
    for (const [service, username] of [
      ["orders", "orders_app"],
      ["billing-api", "billing_api_app"],
    ]) {
      const { provider, password } = providerLogin(run, service, username);
      assert.deepEqual([provider.inputs.host, provider.inputs.password], [address("shared"), adminPassword("shared")]);
      passwords[service] = password;
    }
    assert.equal(ofType(run.resources, JOB).length, 0);
    assert.deepEqual(plaintextOccurrences(run.resources, [...ADMIN_PASSWORDS, ...run.generatedSecrets]), []);
    await assertEndpoints(run, shared, passwords);
  });

  it("hands out each service's password and URL only once its login exists, made by a Job or the provider", async () => {
    const consume = (rds: RdsAccess) => ({
      "orders-password": rds.endpoints.orders.password,
      "orders-url": rds.endpoints.orders.url,
      "billing-api-password": rds.endpoints["billing-api"].password,
    });
    const jobs = await access("job", perService, consume);
    const provided = await access("provider", perService, consume);
    for (const [service, username, value] of [
      ["orders", "orders_app", "password"],
      ["orders", "orders_app", "url"],
      ["billing-api", "billing_api_app", "password"],
    ]) {
      const job = named(jobs.resources, JOB, `rds-${service}-bootstrap`);
      assert.ok(waitsFor(jobs, `${service}-${value}`).includes(job), `${service}'s ${value} waits for its Job`);
      const role = ofType(provided.resources, "postgresql:index/role:Role").find((r) => r.inputs.name === username)!;
      assert.ok(waitsFor(provided, `${service}-${value}`).includes(role), `${service}'s ${value} waits for its role`);
    }
  });
});

describe("DocumentDb (under mocks)", () => {
  const docdb = (consume?: (docdb: DocumentDb) => Record<string, pulumi.Input<unknown>>) =>
    build(() =>
      withConsumers(
        new DocumentDb("docdb", {
          namePrefix: PREFIX,
          instanceClass: "db.r6g.large",
          instances: 2,
          backupRetentionDays: 14,
          kmsKeyArn: KMS_KEY,
          logRetentionDays: 30,
          backupTags: { [BACKUP_TAG]: PREFIX },
          ...placement,
        }),
        consume,
      ),
    );
  const host = "docdb-cluster.cluster-abc.eu-west-1.docdb.amazonaws.com";
  const CLUSTER = "aws:docdb/cluster:Cluster";
  const CLUSTER_INSTANCE = "aws:docdb/clusterInstance:ClusterInstance";

  it("runs an encrypted, TLS-only, audited cluster with deletion protection over the instances asked for", async () => {
    const run = await docdb();
    const record = one(run.resources, CLUSTER);
    const cluster = record.inputs;
    assert.deepEqual(
      [cluster.clusterIdentifier, cluster.engine, cluster.masterUsername, cluster.storageEncrypted, cluster.kmsKeyId],
      [`${PREFIX}-docdb`, "docdb", DOCUMENTDB_ADMIN_USER, true, KMS_KEY],
    );
    assert.equal(DOCUMENTDB_ADMIN_USER, "platformadmin");
    assert.deepEqual(
      [
        cluster.backupRetentionPeriod,
        cluster.deletionProtection,
        cluster.skipFinalSnapshot,
        cluster.finalSnapshotIdentifier,
      ],
      [14, true, false, `${PREFIX}-docdb-final`],
    );
    assert.deepEqual(cluster.enabledCloudwatchLogsExports, ["audit", "profiler"]);
    assert.deepEqual(cluster.tags, { [BACKUP_TAG]: PREFIX });
    assert.deepEqual(cluster.vpcSecurityGroupIds, ["docdb-sg-id"]);
    assert.ok(run.generatedSecrets.includes(cluster.masterPassword));
    const params = one(run.resources, "aws:docdb/clusterParameterGroup:ClusterParameterGroup");
    assert.deepEqual(params.inputs.parameters, [
      { name: "tls", value: "enabled", applyMethod: "pending-reboot" },
      { name: "audit_logs", value: "enabled" },
    ]);
    assert.deepEqual(
      sorted(
        ofType(run.resources, CLUSTER_INSTANCE).map((i) => [
          i.inputs.identifier,
          i.inputs.clusterIdentifier,
          i.inputs.instanceClass,
        ]),
      ),
      [
        [`${PREFIX}-docdb-1`, "docdb-cluster-id", "db.r6g.large"],
        [`${PREFIX}-docdb-2`, "docdb-cluster-id", "db.r6g.large"],
      ],
    );
    assertNodesOnly(run, [DATABASE_ENGINES.mongodb.port]);
    assert.deepEqual(
      run.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.name),
      [],
      "no logins: the platform layer makes them",
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:DocumentDb"), []);
  });

  it("hands out the cluster endpoint as its host only once every instance exists, and the admin password as a secret", async () => {
    const run = await docdb((db) => ({ host: db.host }));
    assert.equal(await resolved(run.result.host), host);
    const waited = waitsFor(run, "host");
    const instances = ofType(run.resources, CLUSTER_INSTANCE);
    assert.equal(instances.length, 2);
    for (const dependency of [one(run.resources, CLUSTER), ...instances])
      assert.ok(waited.includes(dependency), `the host waits for ${dependency.name}`);
    const adminPassword = await valueOf(run.result.adminPassword);
    assert.ok(adminPassword.secret);
    assert.equal(adminPassword.value, one(run.resources, CLUSTER).inputs.masterPassword);
  });
});

describe("DocumentDbAccess (under mocks)", () => {
  const SERVICES = ["notes", "audit-log"];
  const host = "docdb-cluster.cluster-abc.eu-west-1.docdb.amazonaws.com";
  /** The cluster's admin password, as the infrastructure layer hands it over. */
  const ADMIN_PASSWORD = "docdb-admin-s3cret";
  const access = (consume?: (access: DocumentDbAccess) => Record<string, pulumi.Input<unknown>>) =>
    build(() => {
      const provider = kubernetesProvider();
      return withConsumers(
        new DocumentDbAccess("docdb", {
          services: SERVICES,
          host: pulumi.output(host),
          adminPassword: pulumi.secret(ADMIN_PASSWORD),
          kubernetes: { provider, namespace: "shop" },
          vpcCidr: VPC_CIDR,
          jobTrustBundle: JOB_TRUST,
          trustBundle: RDS_TRUST,
        }),
        consume,
      );
    });
  const MONGO_PORT = DATABASE_ENGINES.mongodb.port;
  const CA_FILE = RDS_CA_PATH;

  it("makes each login with a Job that verifies TLS with the mounted RDS CA bundle and reads the passwords from its Secret", async () => {
    const run = await access();
    assert.deepEqual(namesOf(run.resources, "kubernetes:batch/v1:Job"), [
      "docdb-audit-log-bootstrap",
      "docdb-notes-bootstrap",
    ]);
    for (const service of SERVICES) {
      const database = service.replace(/-/g, "_");
      const credentials = named(run.resources, "kubernetes:core/v1:Secret", `docdb-${service}-bootstrap-credentials`);
      assert.equal(credentials.inputs.stringData.ADMIN_PASSWORD, ADMIN_PASSWORD);
      assert.ok(run.generatedSecrets.includes(credentials.inputs.stringData.SERVICE_PASSWORD));
      const script = named(run.resources, "kubernetes:core/v1:ConfigMap", `docdb-${service}-bootstrap-script`).inputs;
      assert.equal(
        script.data["login.js"],
        renderMongoUserScript(database, `${database}_app`, { env: "SERVICE_PASSWORD" }, "admin"),
      );
      const job = named(run.resources, "kubernetes:batch/v1:Job", `docdb-${service}-bootstrap`);
      const container = job.inputs.spec.template.spec.containers[0];
      assert.equal(container.image, MONGO_TOOLS_IMAGE);
      assert.deepEqual(container.env[0], { name: "DOCUMENTDB_HOST", value: host });
      assert.ok(dependsOn(job, credentials), "the Job reads its Secret");
      assert.match(container.command[2], new RegExp(`tls=true&tlsCAFile=${CA_FILE}&`));
      assert.match(container.command[2], new RegExp(`--username ${DOCUMENTDB_ADMIN_USER} `));
      assert.ok(container.volumeMounts.some((m: any) => m.mountPath === RDS_CA_DIR));
      assert.ok(
        job.inputs.spec.template.spec.volumes.some((v: any) => v.configMap?.name === JOB_TRUST.configMap),
        "the bundle of the Jobs' own namespace",
      );
    }
    const egressPolicy = one(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    for (const job of ofType(run.resources, "kubernetes:batch/v1:Job"))
      assert.ok(dependsOn(job, egressPolicy), `${job.name} starts once the namespace lets it out`);
    const egress = egressPolicy.inputs;
    assert.deepEqual(egress.metadata, { name: "documentdb-bootstrap", namespace: "shop" });
    assert.deepEqual(egress.spec.podSelector, { matchLabels: { "platform/job": "documentdb-bootstrap" } });
    assert.deepEqual(egress.spec.egress, [
      DNS_EGRESS,
      { to: [{ ipBlock: { cidr: VPC_CIDR } }], ports: [{ port: MONGO_PORT }] },
    ]);
    assert.deepEqual(bypassingProvider(run), []);
    assert.deepEqual(plaintextOccurrences(run.resources, [ADMIN_PASSWORD, ...run.generatedSecrets]), []);
    assert.deepEqual(outsideComponent(run, "platform:aws:DocumentDbAccess"), ["k"]);
  });

  it("hands each service a DatabaseEndpoint with TLS verified against the mounted bundle", async () => {
    const run = await access();
    assert.deepEqual(Object.keys(run.result.endpoints), SERVICES);
    for (const service of SERVICES) {
      const database = service.replace(/-/g, "_");
      const password = named(run.resources, "kubernetes:core/v1:Secret", `docdb-${service}-bootstrap-credentials`)
        .inputs.stringData.SERVICE_PASSWORD;
      await assertDatabaseEndpoint(run.result.endpoints[service], {
        host,
        port: MONGO_PORT,
        name: database,
        username: `${database}_app`,
        password,
        url:
          `mongodb://${database}_app:${password}@${host}:${MONGO_PORT}/${database}` +
          `?tls=true&tlsCAFile=${CA_FILE}&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false&authSource=admin`,
        location: { kind: "vpc" },
        trustBundle: RDS_TRUST,
      });
    }
  });

  it("hands out each service's password and URL only once its login Job exists", async () => {
    const run = await access((docdb) =>
      Object.fromEntries(
        SERVICES.flatMap((s) => [
          [`${s}-password`, docdb.endpoints[s].password],
          [`${s}-url`, docdb.endpoints[s].url],
        ]),
      ),
    );
    for (const service of SERVICES) {
      const job = named(run.resources, "kubernetes:batch/v1:Job", `docdb-${service}-bootstrap`);
      for (const value of ["password", "url"])
        assert.ok(waitsFor(run, `${service}-${value}`).includes(job), `${service}'s ${value} waits for its Job`);
    }
  });
});

describe("WebFrontend (under mocks)", () => {
  const frontend = (extra: { certificateArn?: string; aliases?: string[]; assetsDir?: string } = {}) =>
    build(
      () =>
        new WebFrontend("web", {
          namePrefix: PREFIX,
          gatewayDomain: "api.shop.example.com",
          gatewayPaths: ["/orders", "/platform/health"],
          aliases: [],
          rateLimitPer5Minutes: 500,
          priceClass: "PriceClass_100",
          ...extra,
        }),
    );
  const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";

  it("keeps the app in a private, encrypted, versioned bucket that only the distribution reads, over TLS", async () => {
    const run = await frontend();
    assert.equal(one(run.resources, "aws:s3/bucket:Bucket").inputs.bucketPrefix, `${PREFIX}-web-`);
    const block = one(run.resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    assert.deepEqual(
      ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].map((k) => block.inputs[k]),
      [true, true, true, true],
    );
    assert.deepEqual(
      one(run.resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .inputs.rules[0].applyServerSideEncryptionByDefault,
      { sseAlgorithm: "AES256" },
    );
    assert.equal(
      one(run.resources, "aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration.status,
      "Enabled",
    );
    const policyRecord = one(run.resources, "aws:s3/bucketPolicy:BucketPolicy");
    const [read, tlsOnly] = JSON.parse(policyRecord.inputs.policy).Statement;
    assert.deepEqual(
      [read.Effect, read.Principal, read.Resource, read.Condition],
      [
        "Allow",
        { Service: "cloudfront.amazonaws.com" },
        "arn:aws:s3:::web-assets-0123/*",
        { StringEquals: { "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/web-cdn" } },
      ],
    );
    assert.deepEqual([tlsOnly.Effect, tlsOnly.Condition], ["Deny", { Bool: { "aws:SecureTransport": "false" } }]);
    assert.ok(dependsOn(policyRecord, block));
    const oac = one(run.resources, "aws:cloudfront/originAccessControl:OriginAccessControl").inputs;
    assert.deepEqual(
      [oac.originAccessControlOriginType, oac.signingBehavior, oac.signingProtocol],
      ["s3", "always", "sigv4"],
    );
  });

  it("serves the app from the bucket and forwards the gateway's paths uncached, behind a CloudFront WAF", async () => {
    const run = await frontend();
    const waf = one(run.resources, "aws:wafv2/webAcl:WebAcl").inputs;
    assert.deepEqual([waf.scope, waf.region], ["CLOUDFRONT", "us-east-1"]);
    assert.deepEqual(
      waf.rules.map((r: any) => r.name),
      wafRules(PREFIX, 500).map((r) => r.name),
    );
    const spa = one(run.resources, "aws:cloudfront/function:Function").inputs;
    assert.deepEqual([spa.runtime, spa.code, spa.publish], ["cloudfront-js-2.0", renderSpaRewrite(), true]);
    const cdn = one(run.resources, DISTRIBUTION).inputs;
    assert.equal(cdn.webAclId, "arn:aws:wafv2:us-east-1:123456789012:global/webacl/web-waf");
    assert.deepEqual(
      cdn.origins.map((o: any) => [
        o.originId,
        o.domainName,
        o.originAccessControlId,
        o.customOriginConfig?.originProtocolPolicy,
      ]),
      [
        ["app", "web-assets-0123.s3.eu-west-1.amazonaws.com", "web-oac-id", undefined],
        ["gateway", "api.shop.example.com", undefined, "https-only"],
      ],
    );
    assert.deepEqual(
      [cdn.defaultCacheBehavior.targetOriginId, cdn.defaultCacheBehavior.viewerProtocolPolicy],
      ["app", "redirect-to-https"],
    );
    assert.deepEqual(cdn.defaultCacheBehavior.functionAssociations, [
      { eventType: "viewer-request", functionArn: "arn:aws:cloudfront::123456789012:function/web-spa-rewrite" },
    ]);
    assert.deepEqual(
      cdn.orderedCacheBehaviors.map((b: any) => [
        b.pathPattern,
        b.targetOriginId,
        b.viewerProtocolPolicy,
        b.cachePolicyId,
      ]),
      gatewayPathPatterns(["/orders", "/platform/health"]).map((p) => [
        p,
        "gateway",
        "https-only",
        MANAGED_POLICIES.cachingDisabled,
      ]),
    );
    assert.deepEqual(cdn.viewerCertificate, { cloudfrontDefaultCertificate: true });
    assert.deepEqual(cdn.aliases, []);
    assert.equal(
      ofType(run.resources, "aws:s3/bucketObjectv2:BucketObjectv2").length,
      0,
      "the app's pipeline fills it",
    );
    assert.equal(await resolved(run.result.url), "https://web-cdn.cloudfront.net/");
    assert.equal(await resolved(run.result.bucketName), "web-assets-0123");
    assert.equal(await resolved(run.result.distributionId), "web-cdn-id");
    assert.deepEqual(outsideComponent(run, "platform:aws:WebFrontend"), []);
  });

  it("answers on its alias with the ACM certificate and uploads the built app when given", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-assets-"));
    fs.mkdirSync(path.join(dir, "assets"));
    fs.writeFileSync(path.join(dir, "index.html"), "<html></html>");
    fs.writeFileSync(path.join(dir, "assets", "app.js"), "1");
    try {
      const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/web";
      const run = await frontend({ certificateArn, aliases: ["www.shop.example.com"], assetsDir: dir });
      const cdn = one(run.resources, DISTRIBUTION).inputs;
      assert.deepEqual(cdn.aliases, ["www.shop.example.com"]);
      assert.deepEqual(cdn.viewerCertificate, {
        acmCertificateArn: certificateArn,
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1.2_2021",
      });
      const objects = ofType(run.resources, "aws:s3/bucketObjectv2:BucketObjectv2");
      assert.deepEqual(sorted(objects.map((o) => [o.inputs.key, o.inputs.contentType, o.inputs.cacheControl])), [
        ["assets/app.js", "text/javascript; charset=utf-8", "public, max-age=86400"],
        ["index.html", "text/html; charset=utf-8", "no-cache"],
      ]);
      const ownership = one(run.resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls");
      for (const object of objects) assert.ok(dependsOn(object, ownership));
      assert.equal(await resolved(run.result.url), "https://www.shop.example.com/");
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe("ServiceWorkload (under mocks)", () => {
  const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
  const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
  const catalog = catalogOf([
    serviceSpec("orders", 8080, {
      replicas: 2,
      cache: true,
      database: { kind: "postgres" },
      health: { path: "/healthz", metricsPort: 9100 },
      dependsOn: ["payments"],
    }),
    serviceSpec("payments", 8081),
    serviceSpec("reminders", 8083, { singleton: true }),
    serviceSpec("checkout", 8082, {
      egress: [
        { host: "api.stripe.com", port: 443 },
        { cidr: "203.0.113.0/24", ports: [443, 8443] },
        { host: "smtp.sendgrid.net", port: 587 },
        { host: "hooks.stripe.com", port: 443 },
      ],
    }),
  ]);
  const service = (name: string): Service => catalog.services.find((s) => s.name === name)!;
  const tracing: TracingEndpoint = {
    url: `http://jaeger-collector.tracing.svc.cluster.local:${OTLP_HTTP_PORT}`,
    port: OTLP_HTTP_PORT,
    location: { kind: "namespace", namespace: "tracing" },
  };
  const password = pulumi.secret("s3cret-password");
  const database = (location: EndpointLocation, port: number, trustBundle?: DatabaseEndpoint["trustBundle"]) => ({
    host: "db.internal",
    port,
    name: "orders",
    username: "orders_app",
    password,
    url: pulumi.secret("postgresql://orders_app:s3cret-password@db.internal/orders"),
    location,
    trustBundle,
  });
  const broker = (location: EndpointLocation, port: number) => ({
    endpoint: { host: "mq.internal", port, tls: port === RABBITMQ.amqpsPort, vhost: "shop", location },
    user: { username: "orders", password, publishes: [], consumerQueues: [], maxAttempts: {} },
  });
  const cache: CacheEndpoint = {
    host: "cache.internal",
    port: REDIS.port,
    tls: true,
    password,
    location: { kind: "vpc" },
  };
  const WORKLOAD_BOUNDARY = "arn:aws:iam::123456789012:policy/platform/shop-prod/workload-boundary";
  const ROLE_PATH = `/platform/${PREFIX}/`;
  const DATABASE_URL = "postgresql://orders_app:s3cret-password@db.internal/orders";
  const workload = (
    name: string,
    endpoints: Omit<ServiceEndpoints, "tracing">,
    secretEnv: Record<string, pulumi.Input<string>> = { DATABASE_URL: pulumi.secret(DATABASE_URL) },
  ) =>
    build(() => {
      const provider = kubernetesProvider();
      // Stands in for PlatformCharts' kube-prometheus-stack release.
      const monitoringRelease = new k8s.helm.v3.Release("kps", { chart: "kube-prometheus-stack" }, { provider });
      return new ServiceWorkload(name, {
        service: service(name),
        namespace: "shop",
        image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/${name}:1.2.3`,
        env: { PORT: "8080", DB_HOST: "db.internal" },
        secretEnv,
        callers: name === "payments" ? ["orders"] : [],
        gatewayNamespace: "kong",
        monitoringNamespace: "monitoring",
        monitoringRelease,
        endpoints: { tracing, ...endpoints },
        vpcCidr: VPC_CIDR,
        irsa: {
          oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/eks",
          oidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/ABC",
          rolePath: ROLE_PATH,
          permissionsBoundary: WORKLOAD_BOUNDARY,
        },
        provider,
      });
    });
  const toNamespace = (namespace: string) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  });
  const TRACING_EGRESS = { to: [toNamespace("tracing")], ports: [{ port: OTLP_HTTP_PORT }] };
  const vpcTrust = RDS_TRUST;

  it("opens egress to exactly the VPC ports of its database, broker and cache as one ipBlock, and to the services it calls", async () => {
    const run = await workload("orders", {
      database: database({ kind: "vpc" }, DATABASE_ENGINES.postgres.port, vpcTrust),
      broker: broker({ kind: "vpc" }, RABBITMQ.amqpsPort),
      cache,
    });
    const policy = one(run.resources, NETPOL).inputs;
    assert.deepEqual(policy.spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "orders" } });
    assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policy.spec.egress, [
      DNS_EGRESS,
      { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "payments" } } }] },
      {
        to: [{ ipBlock: { cidr: VPC_CIDR } }],
        ports: [{ port: DATABASE_ENGINES.postgres.port }, { port: RABBITMQ.amqpsPort }, { port: REDIS.port }],
      },
      TRACING_EGRESS,
    ]);
    assert.deepEqual(policy.spec.ingress, [
      { from: [toNamespace("kong")], ports: [{ port: 8080 }] },
      { from: [toNamespace("monitoring")], ports: [{ port: 9100 }] },
    ]);
  });

  it("opens egress to in-cluster stores by their namespace and port", async () => {
    const run = await workload("orders", {
      database: database({ kind: "namespace", namespace: "data" }, DATABASE_ENGINES.mongodb.port),
      broker: broker({ kind: "namespace", namespace: MESSAGING_NAMESPACE }, RABBITMQ.amqpPort),
    });
    assert.deepEqual(one(run.resources, NETPOL).inputs.spec.egress, [
      DNS_EGRESS,
      { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "payments" } } }] },
      TRACING_EGRESS,
      { to: [toNamespace("data")], ports: [{ port: DATABASE_ENGINES.mongodb.port }] },
      { to: [toNamespace(MESSAGING_NAMESPACE)], ports: [{ port: RABBITMQ.amqpPort }] },
    ]);
  });

  it("opens only DNS and tracing for a service without a database, broker or cache (even when a cache exists)", async () => {
    const run = await workload("payments", { cache });
    const policy = one(run.resources, NETPOL).inputs;
    assert.deepEqual(policy.spec.egress, [DNS_EGRESS, TRACING_EGRESS]);
    assert.equal(policy.metadata.annotations, undefined, "no egress declared, nothing to annotate");
    assert.deepEqual(policy.spec.ingress[0], {
      from: [toNamespace("kong"), { podSelector: { matchLabels: { "app.kubernetes.io/name": "orders" } } }],
      ports: [{ port: 8081 }],
    });
    assert.deepEqual(policy.spec.ingress[1], { from: [toNamespace("monitoring")], ports: [{ port: 8081 }] });
  });

  it("opens its hosts' ports to public addresses only and its ranges' ports to those ranges, naming the hosts", async () => {
    const run = await workload("checkout", {});
    const policy = one(run.resources, NETPOL).inputs;
    assert.deepEqual(policy.metadata.annotations, {
      "platform/egress-hosts": "api.stripe.com:443,smtp.sendgrid.net:587,hooks.stripe.com:443",
      "platform/vpc-cidr": VPC_CIDR,
    });
    assert.deepEqual(policy.spec.egress, [
      DNS_EGRESS,
      TRACING_EGRESS,
      {
        to: [
          {
            ipBlock: {
              cidr: "0.0.0.0/0",
              except: [VPC_CIDR, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
            },
          },
        ],
        ports: [{ port: 443 }, { port: 587 }],
      },
      { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ port: 443 }, { port: 8443 }] },
    ]);
    const violations = await evaluate(asPolicyResources(run.resources), () => "mandatory");
    assert.deepEqual(
      violations.filter((v) => v.policy === "internet-egress-declared"),
      [],
    );
  });

  it("runs a hardened Deployment with probes, limits and its secrets from its own Secret", async () => {
    const run = await workload("orders", { database: database({ kind: "vpc" }, DATABASE_ENGINES.postgres.port) });
    const deployment = one(run.resources, DEPLOYMENT).inputs;
    assert.equal(deployment.metadata.name, "orders");
    assert.equal(deployment.spec.replicas, undefined, "the autoscaler owns the replica count");
    assert.equal(one(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec.minReplicas, 2);
    const pod = deployment.spec.template;
    assert.deepEqual(
      Object.keys(pod.metadata.annotations),
      [SECRET_CHECKSUM_ANNOTATION],
      "the PodMonitor, not annotations, says what is scraped",
    );
    assert.equal(pod.spec.serviceAccountName, "orders");
    assert.equal(pod.spec.automountServiceAccountToken, false);
    assert.deepEqual([pod.spec.securityContext.runAsNonRoot, pod.spec.securityContext.runAsUser], [true, 10001]);
    const container = pod.spec.containers[0];
    assert.equal(container.image, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/orders:1.2.3");
    assert.deepEqual(container.ports, [
      { name: "http", containerPort: 8080 },
      { name: "metrics", containerPort: 9100 },
    ]);
    assert.deepEqual(container.env, [
      { name: "PORT", value: "8080" },
      { name: "DB_HOST", value: "db.internal" },
    ]);
    assert.deepEqual(container.envFrom, [{ secretRef: { name: "orders" } }]);
    assert.deepEqual(container.resources, {
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    assert.deepEqual(container.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }], "no trust bundle without one");
    assert.deepEqual(pod.spec.volumes, [{ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } }]);
    const secret = one(run.resources, "kubernetes:core/v1:Secret").inputs;
    assert.deepEqual(secret.stringData, {
      DATABASE_URL: "postgresql://orders_app:s3cret-password@db.internal/orders",
    });
    assert.deepEqual(plaintextOccurrences(run.resources, ["s3cret-password"]), []);
  });

  it("rolls its pods when a value of its Secret changes: the data's hash, not secret, as a pod annotation", async () => {
    const checksumOf = async (secretEnv: Record<string, pulumi.Input<string>>) => {
      const run = await workload("orders", {}, secretEnv);
      const deployment = one(run.resources, DEPLOYMENT);
      const secret = one(run.resources, "kubernetes:core/v1:Secret").inputs.stringData;
      const annotation = deployment.inputs.spec.template.metadata.annotations[SECRET_CHECKSUM_ANNOTATION];
      assert.equal(annotation, dataHash(secret));
      assert.ok(!isSecretOnWire(wireAnnotation(deployment, SECRET_CHECKSUM_ANNOTATION)));
      assert.deepEqual(plaintextOccurrences(run.resources, ["s3cret-password", "rotated-password"]), []);
      return annotation;
    };
    const rotatedUrl = DATABASE_URL.replace("s3cret-password", "rotated-password");
    const original = await checksumOf({ DATABASE_URL: pulumi.secret(DATABASE_URL) });
    assert.equal(await checksumOf({ DATABASE_URL: pulumi.secret(DATABASE_URL) }), original, "nothing changed");
    assert.notEqual(await checksumOf({ DATABASE_URL: pulumi.secret(rotatedUrl) }), original, "a rotated password");
    const withBroker = { DATABASE_URL: pulumi.secret(DATABASE_URL), AMQP_URL: pulumi.secret("amqp://orders@mq") };
    assert.notEqual(await checksumOf(withBroker), original, "a new credential");
  });

  it("mounts the database endpoint's trust bundle read-only where the endpoint says", async () => {
    const run = await workload("orders", {
      database: database({ kind: "vpc" }, DATABASE_ENGINES.mongodb.port, vpcTrust),
    });
    const pod = one(run.resources, DEPLOYMENT).inputs.spec.template.spec;
    assert.deepEqual(pod.containers[0].volumeMounts, [
      { name: "tmp", mountPath: "/tmp" },
      { name: "trust-bundle", mountPath: RDS_CA_DIR, readOnly: true },
    ]);
    assert.deepEqual(pod.volumes[1], { name: "trust-bundle", configMap: { name: "rds-ca" } });
  });

  it("gets an IRSA role under the given path for its own service account, a Service, an autoscaler and a disruption budget", async () => {
    const run = await workload("orders", {});
    const role = one(run.resources, "aws:iam/role:Role").inputs;
    assert.equal(role.path, ROLE_PATH);
    assert.equal(role.permissionsBoundary, WORKLOAD_BOUNDARY, "the runner may only create roles with the boundary");
    const trust = JSON.parse(role.assumeRolePolicy).Statement[0];
    assert.deepEqual(trust.Principal, { Federated: "arn:aws:iam::123456789012:oidc-provider/eks" });
    assert.deepEqual(trust.Condition.StringEquals, {
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:shop:orders",
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    });
    const account = one(run.resources, "kubernetes:core/v1:ServiceAccount").inputs;
    assert.equal(
      account.metadata.annotations["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/orders-irsa",
    );
    assert.equal(account.automountServiceAccountToken, false);
    const kubeService = one(run.resources, "kubernetes:core/v1:Service").inputs.spec;
    assert.deepEqual(kubeService.ports, [{ name: "http", port: 8080, targetPort: "http" }]);
    const hpa = one(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec;
    assert.deepEqual([hpa.minReplicas, hpa.maxReplicas, hpa.scaleTargetRef.name], [2, 6, "orders"]);
    assert.equal(one(run.resources, "kubernetes:policy/v1:PodDisruptionBudget").inputs.spec.maxUnavailable, 1);
    assert.equal(await resolved(run.result.internalUrl), "http://orders.shop.svc.cluster.local:8080");
    assert.deepEqual(bypassingProvider(run), []);
    assert.deepEqual(outsideComponent(run, "platform:kubernetes:ServiceWorkload"), ["k", "kps"]);
  });

  it("is scraped pod by pod through a PodMonitor, on its own metrics port by name, after the operator's CRDs", async () => {
    const run = await workload("orders", {});
    const monitor = one(run.resources, POD_MONITOR);
    validatePodMonitor(monitor.inputs);
    const deployment = one(run.resources, DEPLOYMENT).inputs;
    assert.deepEqual(monitor.inputs.metadata, deployment.metadata);
    assert.deepEqual(monitor.inputs.spec, {
      selector: deployment.spec.selector,
      podMetricsEndpoints: [
        {
          port: "metrics",
          path: "/metrics",
          relabelings: [
            { action: "replace", targetLabel: "job", replacement: "orders" },
            { action: "replace", targetLabel: "service", replacement: "orders" },
          ],
        },
      ],
    });
    assert.deepEqual(targetLabels(monitor.inputs), {
      job: "orders",
      service: "orders",
      namespace: "shop",
      container: "orders",
      pod: "orders-0",
      endpoint: "metrics",
    });
    assert.ok(dependsOn(monitor, named(run.resources, "kubernetes:helm.sh/v3:Release", "kps")));
    const payments = await workload("payments", {});
    assert.equal(one(payments.resources, POD_MONITOR).inputs.spec.podMetricsEndpoints[0].port, "http");
    assert.deepEqual(one(payments.resources, DEPLOYMENT).inputs.spec.template.spec.containers[0].ports, [
      { name: "http", containerPort: 8081 },
    ]);
  });

  it("runs a service of one replica in the catalog as two pods at least, one of which a drain may take", async () => {
    const run = await workload("payments", {});
    const deployment = one(run.resources, DEPLOYMENT).inputs;
    assert.equal(deployment.spec.replicas, undefined, "the autoscaler owns the count");
    assert.equal(deployment.spec.strategy.type, "RollingUpdate");
    const hpa = one(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec;
    assert.deepEqual([hpa.minReplicas, hpa.maxReplicas], [2, 3]);
    const budget = one(run.resources, "kubernetes:policy/v1:PodDisruptionBudget").inputs;
    assert.deepEqual(budget.spec, { maxUnavailable: 1, selector: deployment.spec.selector });
    assert.equal(budget.metadata.namespace, "shop");
  });

  it("runs a catalog singleton as one pod, stopped before its replacement starts, with no autoscaler or budget", async () => {
    const run = await workload("reminders", {});
    const deployment = one(run.resources, DEPLOYMENT).inputs;
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: "Recreate" });
    assert.deepEqual(deployment.metadata.annotations, { "platform/singleton": "true" });
    assert.equal(ofType(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").length, 0);
    assert.equal(ofType(run.resources, "kubernetes:policy/v1:PodDisruptionBudget").length, 0);
  });
});

describe("InClusterDatabase (under mocks)", () => {
  const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
  const database = (service: string, engine: "mongodb" | "clickhouse", version: string) =>
    build(() => {
      const provider = kubernetesProvider();
      return new InClusterDatabase(`${service}-db`, {
        service,
        engine,
        version,
        namespace: "data",
        clientNamespace: "shop",
        storageClass: "gp3-encrypted",
        storageGb: 20,
        protect: true,
        provider,
      });
    });

  describe("mongodb", () => {
    const MONGO_PORT = DATABASE_ENGINES.mongodb.port;
    const hosts = [0, 1, 2].map((i) => `notes-db-${i}.notes-db.data.svc.cluster.local`);
    /** The service's password, as the first member's init script creates the login with it. */
    const servicePassword = (run: MockRun<unknown>) => {
      const script: string = named(run.resources, "kubernetes:core/v1:Secret", "notes-db-credentials").inputs
        .stringData["10-service-user.js"];
      const password = run.generatedSecrets.find((s) => script.includes(s));
      assert.ok(password);
      assert.equal(script, renderMongoUserScript("notes", "notes_app", { value: password }));
      return password;
    };

    it("runs a three-member replica set with a keyfile on encrypted volumes, and a Job that initiates it", async () => {
      const run = await database("notes", "mongodb", "7.0");
      const statefulSet = one(run.resources, STATEFULSET);
      const spec = statefulSet.inputs.spec;
      assert.deepEqual([statefulSet.inputs.metadata.name, statefulSet.inputs.metadata.namespace], ["notes-db", "data"]);
      assert.deepEqual([spec.replicas, spec.serviceName], [3, "notes-db"]);
      const container = spec.template.spec.containers[0];
      assert.equal(container.image, DATABASE_ENGINES.mongodb.image("7.0"));
      assert.match(container.command[2], /--replSet rs0 --keyFile \/etc\/mongo-keyfile\/keyfile/);
      assert.deepEqual(container.ports, [{ name: "db", containerPort: MONGO_PORT }]);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(spec.template.spec.securityContext.runAsUser, 999);
      assert.deepEqual(spec.volumeClaimTemplates[0].spec, {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "gp3-encrypted",
        resources: { requests: { storage: "20Gi" } },
      });
      const headless = one(run.resources, "kubernetes:core/v1:Service").inputs.spec;
      assert.deepEqual([headless.clusterIP, headless.ports], ["None", [{ name: "db", port: MONGO_PORT }]]);
      assert.equal(one(run.resources, "kubernetes:policy/v1:PodDisruptionBudget").inputs.spec.minAvailable, 2);
      const credentials = named(run.resources, "kubernetes:core/v1:Secret", "notes-db-credentials").inputs.stringData;
      assert.deepEqual(Object.keys(credentials).sort(), ["10-service-user.js", "ADMIN_PASSWORD", "keyfile"]);
      servicePassword(run);
      const init = named(run.resources, "kubernetes:core/v1:ConfigMap", "notes-db-replica-set-init").inputs;
      assert.equal(init.data["replica-set.js"], renderReplicaSetInit(hosts, MONGO_PORT));
      const job = one(run.resources, "kubernetes:batch/v1:Job");
      assert.ok(dependsOn(job, statefulSet), "the set is initiated once its members run");
      assert.match(job.inputs.spec.template.spec.containers[0].command[2], new RegExp(`--host ${hosts[0]} `));
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
      assert.deepEqual(bypassingProvider(run), []);
      assert.deepEqual(outsideComponent(run, "platform:kubernetes:InClusterDatabase"), ["k"]);
    });

    it("admits its service's pods and its own members only, and lets the init Job reach its members only", async () => {
      const run = await database("notes", "mongodb", "7.0");
      const policy = (name: string) =>
        named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", name).inputs;
      const [own, init] = [policy("notes-db-netpol"), policy("notes-db-replica-set-init")];
      assert.ok(
        dependsOn(
          one(run.resources, "kubernetes:batch/v1:Job"),
          named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "notes-db-replica-set-init"),
        ),
        "the init Job starts once it may reach the members",
      );
      const members = { podSelector: { matchLabels: { "app.kubernetes.io/name": "notes-db" } } };
      assert.deepEqual(own.spec.podSelector, members.podSelector);
      assert.deepEqual(own.spec.egress, [DNS_EGRESS, { to: [members], ports: [{ port: MONGO_PORT }] }]);
      assert.deepEqual(own.spec.ingress, [
        { from: [{ podSelector: { matchLabels: { "platform/service": "notes" } } }], ports: [{ port: MONGO_PORT }] },
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "notes" } },
            },
          ],
          ports: [{ port: MONGO_PORT }],
        },
      ]);
      assert.deepEqual(init.spec.podSelector, {
        matchLabels: { "platform/job": "replica-set-init", "platform/service": "notes" },
      });
      assert.deepEqual(init.spec.egress, [DNS_EGRESS, { to: [members], ports: [{ port: MONGO_PORT }] }]);
    });

    it("hands the service a DatabaseEndpoint on the replica set, in the data namespace", async () => {
      const run = await database("notes", "mongodb", "7.0");
      const password = servicePassword(run);
      await assertDatabaseEndpoint(run.result.endpoint, {
        host: hosts[0],
        port: MONGO_PORT,
        name: "notes",
        username: "notes_app",
        password,
        url: `mongodb://notes_app:${password}@${hosts.map((h) => `${h}:${MONGO_PORT}`).join(",")}/notes?authSource=notes&replicaSet=rs0`,
        location: { kind: "namespace", namespace: "data" },
      });
    });
  });

  describe("clickhouse", () => {
    const CLICKHOUSE_PORT = DATABASE_ENGINES.clickhouse.port;
    const host = "events-db-0.events-db.data.svc.cluster.local";

    it("runs one server with only the service's login, read from a users.d file the image's entrypoint leaves alone", async () => {
      const run = await database("events", "clickhouse", "24.8");
      const spec = one(run.resources, STATEFULSET).inputs.spec;
      assert.equal(spec.replicas, 1);
      const container = spec.template.spec.containers[0];
      assert.equal(container.image, DATABASE_ENGINES.clickhouse.image("24.8"));
      assert.deepEqual(container.ports, [{ name: "db", containerPort: CLICKHOUSE_PORT }]);
      assert.deepEqual(container.env, [
        { name: "CLICKHOUSE_DB", value: "events" },
        { name: "CLICKHOUSE_USER", value: "events_app" },
        { name: "CLICKHOUSE_PASSWORD", valueFrom: { secretKeyRef: { name: "events-db", key: "CLICKHOUSE_PASSWORD" } } },
        { name: "CLICKHOUSE_SKIP_USER_SETUP", value: "1" },
      ]);
      assert.equal(container.envFrom, undefined, "the Secret's files are no variables");
      assert.equal(container.command, undefined);
      assert.equal(spec.template.spec.securityContext.runAsUser, 101);
      const credentials = one(run.resources, "kubernetes:core/v1:Secret").inputs.stringData;
      assert.deepEqual(Object.keys(credentials).sort(), [
        "CLICKHOUSE_PASSWORD",
        "console-logging.xml",
        "service-user.xml",
      ]);
      assert.equal(
        credentials["service-user.xml"],
        renderClickHouseLogin("events_app", credentials.CLICKHOUSE_PASSWORD),
        "the login of the password the service is given",
      );
      assert.deepEqual(
        container.volumeMounts.filter((m: any) => m.name === "server-files"),
        [
          {
            name: "server-files",
            mountPath: "/etc/clickhouse-server/users.d/service-user.xml",
            subPath: "service-user.xml",
            readOnly: true,
          },
          {
            name: "server-files",
            mountPath: "/etc/clickhouse-server/config.d/console-logging.xml",
            subPath: "console-logging.xml",
            readOnly: true,
          },
        ],
      );
      assert.equal(ofType(run.resources, "kubernetes:policy/v1:PodDisruptionBudget").length, 0);
      assert.equal(ofType(run.resources, "kubernetes:batch/v1:Job").length, 0);
      const policy = one(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs;
      assert.deepEqual(
        policy.spec.ingress.map((rule: any) => rule.ports),
        [[{ port: CLICKHOUSE_PORT }], [{ port: CLICKHOUSE_PORT }]],
      );
      assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
      assert.deepEqual(outsideComponent(run, "platform:kubernetes:InClusterDatabase"), ["k"]);
    });

    it("hands the service a DatabaseEndpoint with the password the server was given", async () => {
      const run = await database("events", "clickhouse", "24.8");
      const password = one(run.resources, "kubernetes:core/v1:Secret").inputs.stringData.CLICKHOUSE_PASSWORD;
      assert.ok(run.generatedSecrets.includes(password));
      await assertDatabaseEndpoint(run.result.endpoint, {
        host,
        port: CLICKHOUSE_PORT,
        name: "events",
        username: "events_app",
        password,
        url: `http://events_app:${password}@${host}:${CLICKHOUSE_PORT}/events`,
        location: { kind: "namespace", namespace: "data" },
      });
    });
  });
});

describe("InClusterBroker (under mocks)", () => {
  const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";
  const rabbitmq = (kind: string) => `kubernetes:rabbitmq.com/v1beta1:${kind}`;
  const broker = (consume?: (broker: InClusterBroker) => Record<string, pulumi.Input<unknown>>) =>
    build(() => {
      const provider = kubernetesProvider();
      // Stands for kube-prometheus-stack's release, which installs the ServiceMonitor CRD.
      const monitoringRelease = new k8s.core.v1.Namespace("monitoring-crds", {}, { provider });
      return withConsumers(
        new InClusterBroker("mq", {
          plan: PLAN,
          storageClass: "gp3-encrypted",
          monitoringRelease,
          protect: true,
          provider,
        }),
        consume,
      );
    });
  const waitsForCondition = (r: RecordedResource) => r.inputs.metadata.annotations?.["pulumi.com/waitFor"];

  it("installs cert-manager, then the RabbitMQ Cluster and Topology Operators, from their pinned release manifests", async () => {
    const run = await broker();
    const [certManager, clusterOperator, topologyOperator] = [
      "cert-manager",
      "cluster-operator",
      "topology-operator",
    ].map((part) => named(run.resources, CONFIG_FILE, `mq-${part}`));
    assert.deepEqual(
      [certManager, clusterOperator, topologyOperator].map((file) => file.inputs.file),
      [
        "https://github.com/cert-manager/cert-manager/releases/download/v1.20.3/cert-manager.yaml",
        "https://github.com/rabbitmq/cluster-operator/releases/download/v2.22.3/cluster-operator.yml",
        "https://github.com/rabbitmq/messaging-topology-operator/releases/download/v1.20.1/messaging-topology-operator-with-certmanager.yaml",
      ],
    );
    assert.deepEqual(
      Object.values(BROKER_OPERATORS).map((o) => o.manifest),
      [certManager, clusterOperator, topologyOperator].map((file) => file.inputs.file),
    );
    // Both operators' manifests carry cert-manager Certificates; the topology operator runs in the
    // cluster operator's namespace.
    assert.ok(dependsOn(clusterOperator, certManager));
    assert.ok(dependsOn(topologyOperator, certManager) && dependsOn(topologyOperator, clusterOperator));
    assert.equal(ofType(run.resources, "kubernetes:helm.sh/v3:Release").length, 0, "no chart: Bitnami's is gone");
  });

  it("runs three nodes on the engine table's image, one voluntary disruption at a time, scraped for the DLQ alert", async () => {
    const run = await broker();
    const cluster = one(run.resources, rabbitmq("RabbitmqCluster"));
    assert.deepEqual(cluster.inputs.metadata, {
      name: RABBITMQ_CLUSTER,
      namespace: MESSAGING_NAMESPACE,
      annotations: { "pulumi.com/waitFor": "condition=AllReplicasReady" },
    });
    const { replicas, image, persistence, resources } = cluster.inputs.spec;
    // The dev container's image, pinned by digest: one RabbitMQ on every target.
    assert.deepEqual([replicas, image, persistence.storageClassName], [3, IMAGES.rabbitmq, "gp3-encrypted"]);
    // Sized from the platform's sizes table, which `npm run plan` adds up.
    assert.deepEqual(resources, RABBITMQ_SIZES["rabbitmq-server"].containers.rabbitmq.size);
    assert.ok(dependsOn(cluster, named(run.resources, CONFIG_FILE, "mq-cluster-operator")));
    assert.ok(dependsOn(cluster, named(run.resources, "kubernetes:core/v1:Namespace", "mq-ns")));
    // A quorum queue of three keeps its majority with one node down, not two.
    const pdb = one(run.resources, "kubernetes:policy/v1:PodDisruptionBudget");
    assert.deepEqual(pdb.inputs.spec, {
      maxUnavailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": RABBITMQ_CLUSTER } },
    });
    const monitor = one(run.resources, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
    assert.deepEqual(monitor.inputs.spec.endpoints, [
      { port: "prometheus", path: "/metrics" },
      { port: "prometheus", path: "/metrics/detailed", params: { family: ["queue_coarse_metrics"], vhost: ["shop"] } },
    ]);
    assert.ok(dependsOn(monitor, named(run.resources, "kubernetes:core/v1:Namespace", "monitoring-crds")));
    assert.deepEqual(kubernetesSchemaProblems([cluster]), []);
  });

  it("declares the plan as the Topology Operator's objects, every queue a durable quorum queue, in dependency waves", async () => {
    const run = await broker();
    const count = (kind: string) => ofType(run.resources, rabbitmq(kind)).length;
    assert.deepEqual(["Vhost", "Exchange", "Queue", "Binding", "User", "Permission", "TopicPermission"].map(count), [
      1,
      PLAN.exchanges.length,
      PLAN.queues.length,
      PLAN.bindings.length,
      2,
      2,
      1,
    ]);
    const vhost = one(run.resources, rabbitmq("Vhost"));
    assert.deepEqual(vhost.inputs.spec, {
      name: "shop",
      defaultQueueType: "quorum",
      rabbitmqClusterReference: { name: RABBITMQ_CLUSTER },
    });
    for (const queue of ofType(run.resources, rabbitmq("Queue"))) {
      const planned = PLAN.queues.find((q) => q.name === queue.inputs.spec.name)!;
      assert.deepEqual(
        [queue.inputs.spec.type, queue.inputs.spec.durable, queue.inputs.spec.arguments],
        ["quorum", true, planned.arguments],
      );
      assert.ok(dependsOn(queue, vhost), `${queue.name} waits for the vhost`);
    }
    const binding = ofType(run.resources, rabbitmq("Binding")).find(
      (b) => b.inputs.spec.routingKey === "sales.order.*",
    )!;
    assert.deepEqual(
      binding.inputs.metadata.name.split("-").slice(0, -1).join("-"),
      "sales.events.mailer.orders.sales.order",
    );
    assert.ok(ofType(run.resources, rabbitmq("Queue")).every((q) => dependsOn(binding, q)));
    // The first wave waits for the operator (its CRDs and webhook), the running cluster and the logins.
    for (const first of [CONFIG_FILE, rabbitmq("RabbitmqCluster"), "kubernetes:core/v1:Secret"])
      assert.ok(
        ofType(run.resources, first).some((r) => dependsOn(vhost, r)),
        `the vhost waits for ${first}`,
      );
    const objects = run.resources.filter(
      (r) => r.type.startsWith("kubernetes:rabbitmq.com/") && r.inputs.kind !== "RabbitmqCluster",
    );
    for (const object of objects) assert.equal(waitsForCondition(object), "condition=Ready", object.name);
    assert.deepEqual(kubernetesSchemaProblems(objects), []);
  });

  it("gives each service its own login, imported by its User from a Secret, and hands them a plain AMQP BrokerEndpoint", async () => {
    const run = await broker();
    for (const service of ["orders", "mailer"]) {
      const user = ofType(run.resources, rabbitmq("User")).find((u) => u.inputs.metadata.name === service)!;
      const secret = ofType(run.resources, "kubernetes:core/v1:Secret").find(
        (s) => s.inputs.metadata.name === user.inputs.spec.importCredentialsSecret.name,
      )!;
      assert.equal(secret.inputs.metadata.namespace, MESSAGING_NAMESPACE);
      const password = await valueOf(run.result.credentials[service].password);
      assert.ok(password.secret);
      assert.deepEqual(secret.inputs.stringData, { username: service, password: password.value });
      const permission = ofType(run.resources, rabbitmq("Permission")).find(
        (p) => p.inputs.spec.userReference.name === service,
      )!;
      assert.deepEqual(permission.inputs.spec.permissions, PLAN.users.find((u) => u.service === service)!.permissions);
    }
    assert.deepEqual(one(run.resources, rabbitmq("TopicPermission")).inputs.spec.permissions, {
      exchange: "sales.events",
      write: "^(sales\\.order\\.created)$",
      read: "^$",
    });
    assert.deepEqual(run.result.credentials.mailer.consumerQueues, ["mailer.orders"]);
    const endpoint: BrokerEndpoint = run.result.endpoint;
    assert.deepEqual(
      { ...endpoint, vhost: await resolved(endpoint.vhost) },
      {
        host: `${RABBITMQ_CLUSTER}.${MESSAGING_NAMESPACE}.svc.cluster.local`,
        port: RABBITMQ.amqpPort,
        tls: false,
        vhost: "shop",
        location: { kind: "namespace", namespace: "messaging" },
      },
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    assert.deepEqual(bypassingProvider(run), []);
    assert.deepEqual(outsideComponent(run, "platform:kubernetes:InClusterBroker"), ["k", "monitoring-crds"]);
  });

  it("names each broker object validly and apart, whatever characters its broker name has", () => {
    assert.equal(objectName("sales.events"), "sales.events");
    assert.equal(objectName("orders.payments.retry.1"), "orders.payments.retry.1");
    const names = [
      objectName("sales.events", "orders.q", "sales.order.*"),
      objectName("sales.events", "orders.q", "sales.order.#"),
      objectName("sales.events", "orders.q", "sales.order.-"),
      objectName("my_domain.events"),
      objectName("my-domain.events"),
      objectName(`${"a".repeat(200)}.events`, `${"b".repeat(200)}.q`, "a.b.c"),
    ];
    assert.equal(new Set(names).size, names.length, names.join(", "));
    for (const name of names)
      assert.match(name, /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });

  it("hands out the vhost once declared, and each login once its user and permissions on it are", async () => {
    const run = await broker((mq) => ({ vhost: mq.endpoint.vhost, orders: mq.credentials.orders.password }));
    const vhost = one(run.resources, rabbitmq("Vhost"));
    assert.ok(waitsFor(run, "vhost").includes(vhost));
    const waited = waitsFor(run, "orders");
    for (const kind of ["User", "Permission", "TopicPermission"]) {
      const own = ofType(run.resources, rabbitmq(kind)).filter((r) => r.inputs.metadata.name.startsWith("orders"));
      assert.equal(own.length, 1, kind);
      assert.ok(waited.includes(own[0]), `orders waits for its ${kind}`);
    }
    assert.ok(waited.includes(vhost));
    assert.ok(!waited.some((r) => r.inputs.metadata?.name?.startsWith("mailer")), "not for another service's user");
    assert.ok((await valueOf(run.result.credentials.orders.password)).secret);
  });

  it("protects the RabbitmqCluster and keeps its namespace, with the nodes' claims, when the broker leaves", async () => {
    const run = await broker();
    assert.equal(one(run.resources, rabbitmq("RabbitmqCluster")).protect, true);
    const namespace = ofType(run.resources, "kubernetes:core/v1:Namespace").find((n) => n.name === "mq-ns")!;
    assert.equal(namespace.retainOnDelete, true);
  });
});

describe("PlatformCharts (under mocks)", () => {
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  const catalog = catalogOf([
    serviceSpec("orders", 8080, { routes: [{ paths: ["/orders"] }] }),
    serviceSpec("mailer", 8083),
  ]);
  const JWT_SECRET = "jwt-signing-s3cret";
  const CACHE_HOST = "master.shop-redis.cache.amazonaws.com";
  const CACHE_TOKEN = "elasticache-auth-t0ken";
  const GRAFANA_PASSWORD = "grafana-admin-s3cret";
  const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/gateway";
  const SLACK_URL = "https://hooks.slack.com/services/T0/B0/slack-s3cret";
  const ROUTING_KEY = "0123456789abcdef0123456789abcdef";
  const charts = (logs: "loki" | "elk") =>
    build(
      () =>
        new PlatformCharts("charts", {
          catalog,
          appNamespace: "shop",
          gatewayClients: pulumi.secret([
            { name: "default", credential: { kind: "jwt" as const, issuer: "shop-issuer", secret: JWT_SECRET } },
          ]),
          gatewayCache: {
            host: pulumi.output(CACHE_HOST),
            port: 6379,
            tls: true,
            password: pulumi.secret(CACHE_TOKEN),
            location: { kind: "vpc" },
          },
          corsOrigins: ["https://www.shop.example.com"],
          certificateArn: CERTIFICATE,
          gatewaySubnets: pulumi.all([new Consumer("public-subnet", "subnet-public").id]),
          gatewayTags: TAGS,
          scrapeInterval: "30s",
          thresholds: { errorRate: 0.05, latencyP95Seconds: 1 },
          alerting: {
            slack: { webhookUrl: pulumi.secret(SLACK_URL) },
            pagerduty: { routingKey: pulumi.secret(ROUTING_KEY) },
          },
          grafanaAdminPassword: pulumi.secret(GRAFANA_PASSWORD),
          logs,
          storageClass: "gp3-encrypted",
          tracing: { memory: "512Mi", maxTraces: 5000 },
          provider: kubernetesProvider(),
        }),
    );
  const release = (run: MockRun<unknown>, name: string) =>
    ofType(run.resources, RELEASE).find((r) => r.inputs.name === name)!;

  it("installs the pinned charts in their namespaces, monitoring first", async () => {
    const run = await charts("loki");
    assert.deepEqual(
      sorted(ofType(run.resources, "kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name)),
      sorted(Object.values(NAMESPACES)),
    );
    const installed = sorted(
      ofType(run.resources, RELEASE).map((r) => [r.inputs.name, r.inputs.chart, r.inputs.version, r.inputs.namespace]),
    );
    assert.deepEqual(
      installed,
      sorted([
        ["kps", CHARTS.kubePrometheusStack.chart, CHARTS.kubePrometheusStack.version, NAMESPACES.monitoring],
        ["loki", CHARTS.loki.chart, CHARTS.loki.version, NAMESPACES.logging],
        ["promtail", CHARTS.promtail.chart, CHARTS.promtail.version, NAMESPACES.logging],
        ["jaeger", CHARTS.jaeger.chart, CHARTS.jaeger.version, NAMESPACES.tracing],
        ["kong", CHARTS.kong.chart, CHARTS.kong.version, NAMESPACES.gateway],
      ]),
    );
    const monitoring = release(run, "kps");
    for (const name of ["loki", "promtail", "jaeger", "kong"])
      assert.ok(dependsOn(release(run, name), monitoring), `${name} waits for the monitoring CRDs`);
    assert.equal(await resolved(run.result.monitoringRelease.urn), monitoring.urn, "what PodMonitors wait for");
    for (const r of ofType(run.resources, RELEASE)) assert.equal(r.inputs.atomic, true);
    // Atomic: its uninstall waits for the proxy Service, held by the load balancer's finalizer, before
    // the subnets may go.
    const kong = release(run, "kong");
    assert.ok(dependsOn(kong, named(run.resources, CONSUMER, "public-subnet")), "Kong waits for the NLB's subnets");
    assert.ok(dependsOn(kong, named(run.resources, "kubernetes:core/v1:Secret", "charts-kong-declarative")));
    assert.deepEqual(bypassingProvider(run), []);
    assert.deepEqual(sorted(outsideComponent(run, "platform:kubernetes:PlatformCharts")), ["k", "public-subnet"]);
  });

  it("provisions Grafana from a Secret, with a dashboard per service, Loki and Jaeger, and the platform's alert rules", async () => {
    const run = await charts("loki");
    const admin = named(run.resources, "kubernetes:core/v1:Secret", "charts-grafana-admin").inputs;
    assert.deepEqual(admin.stringData, { "admin-user": "admin", "admin-password": GRAFANA_PASSWORD });
    assert.deepEqual(
      sorted(ofType(run.resources, "kubernetes:core/v1:ConfigMap").map((c) => Object.keys(c.inputs.data)[0])),
      ["overview.json", "service-mailer.json", "service-orders.json"],
    );
    const values = release(run, "kps").inputs.values;
    assert.equal(values.grafana.admin.existingSecret, "grafana-admin");
    assert.deepEqual(
      values.grafana.additionalDataSources.map((d: any) => [d.type, d.url]),
      [
        ["loki", "http://loki.logging.svc.cluster.local:3100"],
        ["jaeger", "http://jaeger-query.tracing.svc.cluster.local:16686"],
      ],
    );
    const prometheus = values.prometheus.prometheusSpec;
    assert.equal(prometheus.scrapeInterval, "30s");
    // The services' PodMonitors, in their namespace only; no scrape through their Services.
    assert.deepEqual(
      [
        prometheus.podMonitorSelectorNilUsesHelmValues,
        prometheus.podMonitorSelector,
        prometheus.podMonitorNamespaceSelector,
      ],
      [false, undefined, { matchLabels: { "kubernetes.io/metadata.name": "shop" } }],
    );
    assert.equal(prometheus.additionalScrapeConfigs, undefined);
    const alerts = values.additionalPrometheusRulesMap.platform.groups.flatMap((g: any) => g.rules);
    assert.ok(alerts.some((a: any) => a.alert === "ServiceDown" && a.labels.service === "mailer"));
    assert.deepEqual(plaintextOccurrences(run.resources, [GRAFANA_PASSWORD, JWT_SECRET, ...run.generatedSecrets]), []);
  });

  it("files the catalog's dashboards in a Grafana folder named by their ConfigMaps' annotation", async () => {
    const run = await charts("loki");
    const dashboards = release(run, "kps").inputs.values.grafana.sidecar.dashboards;
    // The grafana chart kube-prometheus-stack 65.8.1 bundles (8.5.x, 8.5.12 at its release): the
    // sidecar saves each dashboard under the directory its folderAnnotation names
    // (templates/_pod.tpl:479-481, FOLDER_ANNOTATION), and the provider turns directories into
    // folders only with foldersFromFilesStructure (templates/_config.tpl:151-160, default false).
    assert.equal(dashboards.provider.foldersFromFilesStructure, true);
    const configMaps = ofType(run.resources, "kubernetes:core/v1:ConfigMap");
    assert.ok(configMaps.length > 0);
    for (const configMap of configMaps) {
      assert.equal(configMap.inputs.metadata.labels[dashboards.label], "1", "the sidecar picks it up");
      assert.equal(configMap.inputs.metadata.annotations[dashboards.folderAnnotation], "shop");
    }
  });

  it("runs Kong DB-less from a secret declarative config that reaches services by their namespaced names", async () => {
    const run = await charts("loki");
    const declarative = named(run.resources, "kubernetes:core/v1:Secret", "charts-kong-declarative");
    const config = parse(declarative.inputs.stringData["kong.yml"]);
    assert.deepEqual(
      config.services.map((s: any) => [s.name, s.url]),
      [["orders", "http://orders.shop.svc.cluster.local:8080"]],
    );
    assert.deepEqual(config.consumers[0].jwt_secrets, [{ key: "shop-issuer", secret: JWT_SECRET, algorithm: "HS256" }]);
    // Up to six Kongs share one counter in ElastiCache, over verified TLS with the AUTH token.
    assert.deepEqual(config.services[0].routes[0].plugins[0].config.redis, {
      host: CACHE_HOST,
      port: 6379,
      password: CACHE_TOKEN,
      database: 0,
      timeout: 2000,
      ssl: true,
      ssl_verify: true,
      server_name: CACHE_HOST,
    });
    const kong = release(run, "kong");
    const checksum = createHash("sha256").update(declarative.inputs.stringData["kong.yml"]).digest("hex");
    assert.deepEqual(kong.inputs.values, kongValues(CERTIFICATE, "kong-declarative", TAGS, checksum));
    assert.ok(dependsOn(kong, declarative));
    assert.equal(await resolved(run.result.gatewayHostname), "kong-proxy-0123.elb.eu-west-1.amazonaws.com");
    assert.deepEqual(plaintextOccurrences(run.resources, [JWT_SECRET, CACHE_TOKEN]), []);
  });

  it("swaps Loki for a secured ELK stack whose logins a Job makes, Grafana reading with its own login", async () => {
    const run = await charts("elk");
    assert.deepEqual(
      sorted(ofType(run.resources, RELEASE).map((r) => r.inputs.name)),
      sorted(["kps", "elasticsearch", "logstash", "filebeat", "kibana", "jaeger", "kong"]),
    );
    const elasticsearch = release(run, "elasticsearch");
    const logins = named(run.resources, "kubernetes:core/v1:Secret", "charts-logs-logins");
    assert.deepEqual(Object.keys(logins.inputs.stringData).sort(), [
      "GRAFANA_READER_PASSWORD",
      "KIBANA_PASSWORD",
      "LOGSTASH_WRITER_PASSWORD",
    ]);
    const kps = ofType(run.resources, RELEASE).find((r) => r.inputs.name === "kps")!;
    const reader = kps.inputs.values.grafana.additionalDataSources.find((d: any) => d.type === "elasticsearch");
    // The datasource lands in a ConfigMap (kube-prometheus-stack 65.8.1, templates/grafana/configmaps-datasources.yaml):
    // it names the variable Grafana's container gets from the reader's Secret (grafana 8.5.12, templates/_pod.tpl, envValueFrom).
    assert.deepEqual(
      [reader.basicAuthUser, reader.secureJsonData.basicAuthPassword],
      [GRAFANA_READER, "${GRAFANA_LOGS_READER_PASSWORD}"],
    );
    const readerSecret = named(run.resources, "kubernetes:core/v1:Secret", "charts-grafana-logs-reader");
    assert.deepEqual(
      [readerSecret.inputs.metadata, readerSecret.inputs.stringData],
      [
        { name: "grafana-logs-reader", namespace: "monitoring" },
        { password: logins.inputs.stringData.GRAFANA_READER_PASSWORD },
      ],
    );
    assert.deepEqual(kps.inputs.values.grafana.envValueFrom, {
      GRAFANA_LOGS_READER_PASSWORD: { secretKeyRef: { name: "grafana-logs-reader", key: "password" } },
    });
    assert.ok(dependsOn(kps, readerSecret), "Grafana starts once its Secret exists");
    const setup = one(run.resources, "kubernetes:batch/v1:Job");
    assert.ok(dependsOn(setup, elasticsearch));
    assert.deepEqual(setup.inputs.spec.template.spec.containers[0].envFrom, [{ secretRef: { name: "logs-logins" } }]);
    const logstash = release(run, "logstash");
    assert.ok(dependsOn(logstash, elasticsearch) && dependsOn(logstash, logins));
    assert.ok(dependsOn(release(run, "filebeat"), logstash));
    const filebeat = parse(release(run, "filebeat").inputs.values.daemonset.filebeatConfig["filebeat.yml"]);
    assert.match(JSON.stringify(filebeat), /"shop"/);
    assert.match(JSON.stringify(filebeat), /"kong"/);
    assert.deepEqual(plaintextOccurrences(run.resources, [GRAFANA_PASSWORD, JWT_SECRET, ...run.generatedSecrets]), []);
  });
});
