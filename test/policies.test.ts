import { strict as assert } from "assert";
import { PolicyResource } from "@pulumi/policy";
import { stringify } from "yaml";
import { RULES, isPinnedImage } from "../policies/rules";
import { asPolicyResources, checkStack, enforcementFor, evaluate, secretOutputViolations } from "../tools/policyCheck";
import { prodLayers } from "./helpers/stackConfigs";
import { kongValues } from "../components/kubernetes/chartValues";

type Props = Record<string, any>;
const resource = (type: string, props: Props, name = "r"): PolicyResource =>
  ({
    type,
    props,
    urn: `urn:pulumi:test::p::${type}::${name}`,
    name,
    opts: {},
    dependencies: [],
    propertyDependencies: {},
  }) as unknown as PolicyResource;

const goodPod = {
  metadata: { name: "orders", namespace: "shop" },
  spec: {
    replicas: 1,
    template: {
      metadata: { labels: { app: "orders" } },
      spec: {
        securityContext: { runAsNonRoot: true },
        containers: [
          {
            name: "orders",
            image: "repo/orders:1.2.3",
            env: [
              { name: "LOG_LEVEL", value: "info" },
              { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "orders", key: "p" } } },
            ],
            resources: { limits: { cpu: "500m", memory: "256Mi" } },
            livenessProbe: { httpGet: { path: "/health" } },
            readinessProbe: { httpGet: { path: "/ready" } },
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          },
        ],
      },
    },
  },
};
const pod = (change: (p: any) => void) => {
  const copy = JSON.parse(JSON.stringify(goodPod));
  change(copy);
  return copy;
};
const kong = (routePlugins: string[], tags: string[]) =>
  stringify({
    services: [
      { name: "orders", routes: [{ name: "orders-0", tags, plugins: routePlugins.map((name) => ({ name })) }] },
    ],
  });
/** A DB-less Kong config in the Secret a chart release runs with `replicas` pods at most. */
const kongFleet = (name: string, replicas: number, config: Record<string, unknown>) => [
  resource(
    "kubernetes:core/v1:Secret",
    { metadata: { name, namespace: "kong" }, stringData: { "kong.yml": stringify(config) } },
    name,
  ),
  resource(
    "kubernetes:helm.sh/v3:Release",
    {
      chart: "kong",
      namespace: "kong",
      values: { dblessConfig: { secret: name }, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: replicas } },
    },
    `${name}-release`,
  ),
];
/** One authenticated route limited with `limit`, guarded by jwt and key-auth falling back to `anonymous`. */
const kongConfig = (limit: Record<string, unknown>, consumers: unknown[] = [], anonymous?: string) => ({
  services: [
    {
      name: "orders",
      routes: [
        {
          name: "orders-0",
          tags: ["authenticated"],
          plugins: [
            { name: "rate-limiting", config: { minute: 60, limit_by: "consumer", ...limit } },
            { name: "jwt", config: anonymous ? { anonymous } : {} },
            { name: "key-auth", config: anonymous ? { anonymous } : {} },
          ],
        },
      ],
    },
  ],
  consumers,
});
const REFUSED = { username: "anonymous", plugins: [{ name: "request-termination", config: { status_code: 401 } }] };
const REDIS = { policy: "redis", redis: { host: "master.cache.amazonaws.com", port: 6379, ssl: true } };

const CDN = "aws:cloudfront/distribution:Distribution";
const goodDistribution = {
  webAclId: "arn:aws:wafv2:us-east-1:1:global/webacl/x",
  origins: [
    { originId: "app", originAccessControlId: "oac-1" },
    {
      originId: "gateway",
      customOriginConfig: { originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
    },
  ],
  defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
  orderedCacheBehaviors: [{ pathPattern: "/api/*", viewerProtocolPolicy: "https-only" }],
  viewerCertificate: { cloudfrontDefaultCertificate: true },
};
const distribution = (change: (d: any) => void) => {
  const copy = JSON.parse(JSON.stringify(goodDistribution));
  change(copy);
  return copy;
};
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const blockAll = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
};
const bucket = resource("aws:s3/bucket:Bucket", {}, "web");
/** A resource that depends on the bucket, as a bucket setting does through its `bucket` input. */
const dependent = (type: string, props: Props) =>
  ({ ...resource(type, props, `${type}-web`), dependencies: [bucket] }) as PolicyResource;

const cluster = resource("aws:eks/cluster:Cluster", {}, "platform");
/** An add-on of the cluster, which depends on it through its clusterName input. */
const addonOf = (addonName: string, configurationValues: string | undefined) =>
  ({
    ...resource("aws:eks/addon:Addon", { addonName, configurationValues }, `platform-${addonName}`),
    dependencies: [cluster],
  }) as PolicyResource;

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const VPC = "10.20.0.0/16";
/** A service's policy as the platform writes it for two hosts and one range. */
const goodEgressPolicy = {
  metadata: {
    name: "payments",
    namespace: "shop",
    annotations: { "platform/egress-hosts": "api.stripe.com:443,smtp.sendgrid.net:587", "platform/vpc-cidr": VPC },
  },
  spec: {
    podSelector: { matchLabels: { app: "payments" } },
    policyTypes: ["Ingress", "Egress"],
    egress: [
      { to: [{ namespaceSelector: {} }], ports: [{ port: 53, protocol: "UDP" }] },
      {
        to: [
          {
            ipBlock: {
              cidr: "0.0.0.0/0",
              except: [VPC, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
            },
          },
        ],
        ports: [{ port: 443 }, { port: 587 }],
      },
      { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ port: 8443 }] },
    ],
  },
};
const egressPolicy = (change: (p: any) => void) => {
  const copy = JSON.parse(JSON.stringify(goodEgressPolicy));
  change(copy);
  return copy;
};
const internetRule = (p: any) => p.spec.egress[1];
const without = (range: string) => (p: any) => {
  internetRule(p).to[0].ipBlock.except = internetRule(p).to[0].ipBlock.except.filter((r: string) => r !== range);
};
/** Each way a policy can open the internet wrongly, with exactly what the policy must say about it. */
const BAD_EGRESS: Array<{ why: string; props: Props; messages: string[] }> = [
  {
    why: "no hosts named",
    props: egressPolicy((p) => delete p.metadata.annotations["platform/egress-hosts"]),
    messages: [
      "egress to 0.0.0.0/0 without the platform/egress-hosts annotation naming its hosts",
      "egress to 0.0.0.0/0 on port 443, which no host in platform/egress-hosts uses",
      "egress to 0.0.0.0/0 on port 587, which no host in platform/egress-hosts uses",
    ],
  },
  {
    why: "a port no host uses",
    props: egressPolicy((p) => internetRule(p).ports.push({ port: 22 })),
    messages: ["egress to 0.0.0.0/0 on port 22, which no host in platform/egress-hosts uses"],
  },
  {
    why: "every port",
    props: egressPolicy((p) => delete internetRule(p).ports),
    messages: ["egress to 0.0.0.0/0 on every port"],
  },
  {
    why: "the metadata range reachable",
    props: egressPolicy(without("169.254.0.0/16")),
    messages: ["egress to 0.0.0.0/0 does not leave out 169.254.0.0/16"],
  },
  {
    why: "an RFC 1918 range reachable",
    props: egressPolicy(without("172.16.0.0/12")),
    messages: ["egress to 0.0.0.0/0 does not leave out 172.16.0.0/12"],
  },
  {
    why: "the VPC reachable",
    props: egressPolicy(without(VPC)),
    messages: [`egress to 0.0.0.0/0 does not leave out ${VPC}`],
  },
  {
    why: "no VPC named",
    props: egressPolicy((p) => delete p.metadata.annotations["platform/vpc-cidr"]),
    messages: ["egress to 0.0.0.0/0 without the platform/vpc-cidr annotation naming the VPC"],
  },
  {
    why: "IPv6 everywhere without hosts",
    props: egressPolicy((p) => {
      delete p.metadata.annotations;
      p.spec.egress = [{ to: [{ ipBlock: { cidr: "::/0" } }], ports: [{ port: 443 }] }];
    }),
    messages: [
      "egress to ::/0 without the platform/egress-hosts annotation naming its hosts",
      "egress to ::/0 on port 443, which no host in platform/egress-hosts uses",
    ],
  },
  {
    why: "a rule without peers, which reaches everything",
    props: egressPolicy((p) => (p.spec.egress = [{ ports: [{ port: 443 }] }])),
    messages: [VPC, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"].map(
      (range) => `egress to 0.0.0.0/0 does not leave out ${range}`,
    ),
  },
];

/** For every policy, resources that violate it and resources that pass. */
const RELEASE = "kubernetes:helm.sh/v3:Release";
/** The gateway's release as the program declares it, and as it was before Kong Manager was turned off. */
const gatewayValues = kongValues("arn:aws:acm:eu-west-1:123456789012:certificate/gateway", "kong-declarative", {
  owner: "platform-team",
});
const { manager: _, ...gatewayValuesWithManager } = gatewayValues;
const kongRelease = (values: Props, name = "kong") =>
  resource(RELEASE, { name: "kong", chart: "kong", namespace: "kong", values }, name);
/** The Service the program reads back for the load balancer's address: the release's own proxy. */
const gatewayProxy = resource(
  "kubernetes:core/v1:Service",
  { metadata: { name: "kong-kong-proxy", namespace: "kong" }, spec: { type: "LoadBalancer" } },
  "kong-proxy",
);
const EXPOSED: PolicyResource[] = [
  kongRelease(gatewayValuesWithManager, "kong-with-manager"),
  kongRelease({ ...gatewayValues, enterprise: { enabled: true }, admin: { enabled: true } }, "kong-enterprise"),
  resource(
    RELEASE,
    { name: "kps", chart: "kube-prometheus-stack", values: { grafana: { service: { type: "LoadBalancer" } } } },
    "kps",
  ),
  resource(
    "kubernetes:core/v1:Service",
    { metadata: { name: "grafana", namespace: "monitoring" }, spec: { type: "NodePort" } },
    "grafana-nodeport",
  ),
];

const CASES: Record<string, { bad: PolicyResource[]; good: PolicyResource[] }> = {
  "no-default-credentials": {
    bad: [
      resource("docker:index/container:Container", { envs: ["RABBITMQ_DEFAULT_PASS=admin123"] }),
      resource("kubernetes:core/v1:Secret", { stringData: { DB_PASSWORD: "short" } }),
    ],
    good: [
      resource("docker:index/container:Container", {
        envs: ["RABBITMQ_DEFAULT_PASS=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "GF_SECURITY_ADMIN_USER=admin"],
      }),
    ],
  },
  "no-plaintext-secret-env": {
    bad: [
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.template.spec.containers[0].env.push({ name: "API_TOKEN", value: "t" });
        }),
      ),
    ],
    good: [resource("kubernetes:apps/v1:Deployment", goodPod)],
  },
  "gateway-secret-to-issuers": {
    bad: [
      resource("kubernetes:core/v1:Secret", {
        metadata: { name: "hotel-service", labels: { "app.kubernetes.io/name": "hotel-service" } },
        stringData: { GATEWAY_JWT_SECRET: "from-a-random-password", DB_PASSWORD: "x" },
      }),
      resource("docker:index/container:Container", {
        name: "shop-dev-catalog",
        envs: ["PORT=8000", "GATEWAY_JWT_SECRET=from-a-random-password"],
        labels: [{ label: "platform.service", value: "catalog" }],
      }),
    ],
    good: [
      resource("kubernetes:core/v1:Secret", {
        metadata: { name: "auth-service", labels: { "platform/issues-tokens": "true" } },
        stringData: { GATEWAY_JWT_SECRET: "from-a-random-password" },
      }),
      resource("kubernetes:core/v1:Secret", { metadata: { name: "hotel-service" }, stringData: { DB_PASSWORD: "x" } }),
      resource("docker:index/container:Container", {
        name: "shop-dev-auth",
        envs: ["GATEWAY_JWT_SECRET=from-a-random-password"],
        labels: [{ label: "platform.issues-tokens", value: "true" }],
      }),
    ],
  },
  "ports-on-loopback-only": {
    bad: [resource("docker:index/container:Container", { ports: [{ internal: 5432, external: 5432 }] })],
    good: [
      resource("docker:index/container:Container", { ports: [{ internal: 5432, external: 15432, ip: "127.0.0.1" }] }),
    ],
  },
  "pinned-images": {
    bad: [
      resource("docker:index/remoteImage:RemoteImage", { name: "prom/prometheus:latest" }),
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.template.spec.containers[0].image = "repo/orders";
        }),
      ),
      resource("kubernetes:helm.sh/v3:Release", { chart: "kong", version: "^2" }),
    ],
    good: [
      resource("docker:index/remoteImage:RemoteImage", { name: "localhost:5000/orders:1.0" }),
      resource("kubernetes:helm.sh/v3:Release", { chart: "kong", version: "2.47.0" }),
    ],
  },
  "container-resource-limits": {
    bad: [
      resource("docker:index/container:Container", {}),
      resource("docker:index/container:Container", { mustRun: false }),
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          delete p.spec.template.spec.containers[0].resources;
        }),
      ),
    ],
    good: [
      resource("docker:index/container:Container", { memory: 256 }),
      resource("docker:index/container:Container", { mustRun: false, memory: 256 }),
    ],
  },
  "health-checks": {
    bad: [
      resource("docker:index/container:Container", { labels: [{ label: "platform.component", value: "service" }] }),
      resource("docker:index/container:Container", {
        labels: [{ label: "platform.component", value: "observability" }],
      }),
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          delete p.spec.template.spec.containers[0].readinessProbe;
        }),
      ),
    ],
    good: [
      resource("docker:index/container:Container", {
        labels: [{ label: "platform.component", value: "service" }],
        healthcheck: { tests: ["CMD", "true"] },
      }),
      resource("docker:index/container:Container", { mustRun: false }),
    ],
  },
  "pod-security": {
    bad: [
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.template.spec.securityContext = {};
        }),
      ),
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.template.spec.hostNetwork = true;
        }),
      ),
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.template.spec.containers[0].securityContext.privileged = true;
        }),
      ),
    ],
    good: [resource("kubernetes:apps/v1:Deployment", goodPod)],
  },
  "no-privileged-containers": {
    bad: [
      resource("docker:index/container:Container", { privileged: true }),
      resource("docker:index/container:Container", { networkMode: "host" }),
    ],
    good: [resource("docker:index/container:Container", { networkMode: "shop-edge" })],
  },
  "rds-hardened": {
    bad: [
      resource("aws:rds/instance:Instance", {
        storageEncrypted: true,
        multiAz: true,
        backupRetentionPeriod: 3,
        deletionProtection: true,
      }),
    ],
    good: [
      resource("aws:rds/instance:Instance", {
        storageEncrypted: true,
        multiAz: true,
        backupRetentionPeriod: 7,
        deletionProtection: true,
        publiclyAccessible: false,
      }),
    ],
  },
  "rds-force-ssl": {
    bad: [
      resource("aws:rds/parameterGroup:ParameterGroup", {
        family: "postgres16",
        parameters: [{ name: "rds.force_ssl", value: "0" }],
      }),
    ],
    good: [
      resource("aws:rds/parameterGroup:ParameterGroup", {
        family: "postgres16",
        parameters: [{ name: "rds.force_ssl", value: "1" }],
      }),
    ],
  },
  "documentdb-hardened": {
    bad: [
      resource("aws:docdb/cluster:Cluster", {
        storageEncrypted: true,
        backupRetentionPeriod: 7,
        deletionProtection: true,
      }),
      resource("aws:docdb/clusterParameterGroup:ClusterParameterGroup", {
        family: "docdb5.0",
        parameters: [{ name: "tls", value: "disabled" }],
      }),
    ],
    good: [
      resource("aws:docdb/cluster:Cluster", {
        storageEncrypted: true,
        backupRetentionPeriod: 7,
        deletionProtection: true,
        enabledCloudwatchLogsExports: ["audit", "profiler"],
      }),
      resource("aws:docdb/clusterParameterGroup:ClusterParameterGroup", {
        family: "docdb5.0",
        parameters: [{ name: "tls", value: "enabled" }],
      }),
    ],
  },
  "elasticache-hardened": {
    bad: [
      resource("aws:elasticache/replicationGroup:ReplicationGroup", {
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        automaticFailoverEnabled: true,
      }),
    ],
    good: [
      resource("aws:elasticache/replicationGroup:ReplicationGroup", {
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        automaticFailoverEnabled: true,
        authToken: "t",
      }),
    ],
  },
  "mq-not-public": {
    bad: [resource("aws:mq/broker:Broker", { publiclyAccessible: true })],
    good: [resource("aws:mq/broker:Broker", { publiclyAccessible: false })],
  },
  "eks-hardened": {
    bad: [
      resource("aws:eks/cluster:Cluster", {
        encryptionConfig: { resources: ["secrets"] },
        enabledClusterLogTypes: ["api", "audit", "authenticator"],
        vpcConfig: {},
      }),
    ],
    good: [
      resource("aws:eks/cluster:Cluster", {
        encryptionConfig: { resources: ["secrets"] },
        enabledClusterLogTypes: ["api", "audit", "authenticator"],
        vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
      }),
    ],
  },
  "network-policies-enforced": {
    bad: [cluster, addonOf("vpc-cni", undefined)],
    good: [cluster, addonOf("vpc-cni", JSON.stringify({ enableNetworkPolicy: "true" }))],
  },
  "no-open-ingress": {
    bad: [
      resource("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [{ fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }],
      }),
    ],
    good: [
      resource("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [
          { fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
          { fromPort: 5432, toPort: 5432, securityGroups: ["sg-1"] },
        ],
      }),
    ],
  },
  "cdn-hardened": {
    bad: [
      resource(
        CDN,
        distribution((d) => {
          d.orderedCacheBehaviors[0].viewerProtocolPolicy = "allow-all";
        }),
      ),
      resource(
        CDN,
        distribution((d) => {
          delete d.webAclId;
        }),
      ),
      resource(
        CDN,
        distribution((d) => {
          d.origins[1].customOriginConfig.originSslProtocols = ["TLSv1", "TLSv1.2"];
        }),
      ),
      resource(
        CDN,
        distribution((d) => {
          delete d.origins[0].originAccessControlId;
        }),
      ),
      resource(
        CDN,
        distribution((d) => {
          d.viewerCertificate = {
            acmCertificateArn: "arn:aws:acm:us-east-1:1:certificate/x",
            minimumProtocolVersion: "TLSv1_2016",
          };
        }),
      ),
    ],
    good: [
      resource(
        CDN,
        distribution(() => undefined),
      ),
    ],
  },
  "s3-private": {
    bad: [bucket, dependent(BLOCK, { ...blockAll, restrictPublicBuckets: false }), dependent(ENCRYPTION, {})],
    good: [bucket, dependent(BLOCK, blockAll), dependent(ENCRYPTION, {})],
  },
  "kms-key-rotation": {
    bad: [resource("aws:kms/key:Key", {})],
    good: [resource("aws:kms/key:Key", { enableKeyRotation: true })],
  },
  "required-tags": {
    bad: [resource("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { environment: "prod" } }) })],
    good: [
      resource("pulumi:providers:aws", {
        defaultTags: { tags: { environment: "prod", owner: "o", "cost-center": "c" } },
      }),
    ],
  },
  "consumer-queues-have-dlq": {
    bad: [resource("rabbitmq:index/queue:Queue", { name: "orders.events", settings: { argumentsJson: "{}" } })],
    good: [
      resource("rabbitmq:index/queue:Queue", {
        name: "orders.events",
        settings: {
          argumentsJson: JSON.stringify({
            "x-dead-letter-exchange": "platform.dlx",
            "x-dead-letter-routing-key": "orders.events",
          }),
        },
      }),
      resource("rabbitmq:index/queue:Queue", { name: "orders.events.dlq", settings: { argumentsJson: "{}" } }),
      resource("rabbitmq:index/binding:Binding", {
        source: "platform.dlx",
        destination: "orders.events.dlq",
        routingKey: "orders.events",
      }),
    ],
  },
  "own-database-role": {
    bad: [
      resource("postgresql:index/database:Database", { name: "a", owner: "shared_app" }, "a"),
      resource("postgresql:index/database:Database", { name: "b", owner: "shared_app" }, "b"),
    ],
    good: [
      resource("postgresql:index/database:Database", { name: "a", owner: "a_app" }, "a"),
      resource("postgresql:index/database:Database", { name: "b", owner: "b_app" }, "b"),
    ],
  },
  "pdb-for-replicated-pods": {
    bad: [
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.replicas = 3;
        }),
      ),
    ],
    good: [
      resource(
        "kubernetes:apps/v1:Deployment",
        pod((p) => {
          p.spec.replicas = 3;
        }),
      ),
      resource("kubernetes:policy/v1:PodDisruptionBudget", {
        metadata: { namespace: "shop" },
        spec: { selector: { matchLabels: { app: "orders" } } },
      }),
    ],
  },
  "network-policy-per-namespace": {
    bad: [
      resource("kubernetes:apps/v1:Deployment", goodPod),
      resource("kubernetes:apps/v1:StatefulSet", { metadata: { name: "orders-db", namespace: "data" } }),
    ],
    good: [
      resource("kubernetes:apps/v1:Deployment", goodPod),
      resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", {
        metadata: { namespace: "shop" },
        spec: { podSelector: {} },
      }),
    ],
  },
  "internet-egress-declared": {
    bad: BAD_EGRESS.map(({ why, props }) => resource(NETPOL, props, why.replace(/\W+/g, "-"))),
    good: [
      resource(NETPOL, goodEgressPolicy),
      resource(NETPOL, {
        metadata: { name: "orders", namespace: "shop" },
        spec: { egress: [{ to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ port: 443 }] }] },
      }),
      resource(
        NETPOL,
        egressPolicy((p) => (p.spec.egress = [{ to: [{ ipBlock: { cidr: "::/0" } }], ports: [{ port: 443 }] }])),
      ),
    ],
  },
  "no-exposed-services": {
    bad: EXPOSED,
    good: [
      kongRelease(gatewayValues),
      gatewayProxy,
      resource(
        "kubernetes:core/v1:Service",
        { metadata: { name: "orders", namespace: "shop" }, spec: { type: "ClusterIP" } },
        "orders",
      ),
      resource(RELEASE, { name: "kps", chart: "kube-prometheus-stack", values: { grafana: { service: {} } } }, "kps"),
    ],
  },
  "gateway-routes-protected": {
    bad: [
      resource("kubernetes:core/v1:Secret", { stringData: { "kong.yml": kong(["rate-limiting"], ["authenticated"]) } }),
      resource("docker:index/container:Container", {
        uploads: [{ file: "/kong/declarative/kong.yml", content: kong(["jwt"], ["authenticated"]) }],
      }),
      // Six Kongs each counting alone: six times the limit (policy local, or unset: Kong's default).
      ...kongFleet(
        "local-counters",
        6,
        kongConfig({ policy: "local" }, [
          { username: "a", plugins: [{ name: "rate-limiting", config: { minute: 5 } }] },
        ]),
      ),
      // A failed credential passes as a consumer nothing refuses.
      ...kongFleet("open-anonymous", 2, kongConfig(REDIS, [{ username: "anonymous" }], "anonymous")),
    ],
    good: [
      resource("kubernetes:core/v1:Secret", {
        stringData: { "kong.yml": kong(["rate-limiting", "jwt"], ["authenticated"]) },
      }),
      resource("kubernetes:core/v1:Secret", { stringData: { "kong.yml": kong(["rate-limiting"], ["public"]) } }),
      ...kongFleet("shared-counters", 6, kongConfig(REDIS, [REFUSED], "anonymous")),
      // One Kong container: its own counters are exact.
      resource("docker:index/container:Container", {
        uploads: [{ file: "/kong/declarative/kong.yml", content: stringify(kongConfig({ policy: "local" })) }],
      }),
    ],
  },
};

const mandatory = () => "mandatory" as const;

describe("policy pack", () => {
  it("has a violating and a passing case for every policy", () => {
    assert.deepEqual(Object.keys(CASES).sort(), RULES.map((r) => r.name).sort());
  });

  it("lists every policy in the README's table", () => {
    const readme = require("fs").readFileSync(require("path").join(__dirname, "..", "README.md"), "utf8") as string;
    for (const rule of RULES) assert.ok(readme.includes(`| \`${rule.name}\` |`), rule.name);
  });

  it("describes every policy with severity and remediation", () => {
    for (const rule of RULES) {
      assert.ok(rule.description.length > 20 && rule.remediation.length > 10, rule.name);
      assert.ok(["low", "medium", "high", "critical"].includes(rule.severity));
    }
  });

  for (const [policy, { bad, good }] of Object.entries(CASES)) {
    it(`${policy}: flags the violating resources and passes the good ones`, async () => {
      // Resource policies judge each resource alone; stack policies the resources together.
      const isStackRule = RULES.find((r) => r.name === policy)!.kind === "stack";
      for (const violating of isStackRule ? [] : bad) {
        const found = (await evaluate([violating], mandatory)).filter((v) => v.policy === policy);
        assert.ok(found.length > 0, `${policy} missed ${JSON.stringify(violating.props).slice(0, 200)}`);
        assert.ok(
          found.every((v) => v.urn === violating.urn || bad.some((b) => b.urn === v.urn)),
          "violation names its resource",
        );
      }
      if (isStackRule) {
        const found = (await evaluate(bad, mandatory)).filter((v) => v.policy === policy);
        assert.ok(
          found.length > 0 && found.every((v) => bad.some((b) => b.urn === v.urn)),
          `${policy} missed the violating stack`,
        );
      }
      const passing = (await evaluate(good, mandatory)).filter((v) => v.policy === policy);
      assert.deepEqual(passing, []);
    });
  }

  it("internet-egress-declared: says what each wrong internet rule lacks, and nothing more", () => {
    const rule = RULES.find((r) => r.name === "internet-egress-declared")!;
    assert.equal(rule.kind, "resource");
    for (const { why, props, messages } of BAD_EGRESS) {
      assert.deepEqual(rule.kind === "resource" && rule.check(props, NETPOL), messages, why);
    }
  });

  it("accepts tags and digests, refuses latest and bare names", () => {
    assert.ok(isPinnedImage("registry:5000/team/app:1.2"));
    assert.ok(isPinnedImage(`app@sha256:${"a".repeat(64)}`));
    assert.ok(!isPinnedImage("registry:5000/team/app"));
    assert.ok(!isPinnedImage("app:latest"));
  });

  it("is mandatory in prod and advisory in dev", () => {
    for (const rule of RULES) {
      assert.equal(enforcementFor("prod")(rule.name), "mandatory");
      assert.equal(enforcementFor("dev")(rule.name), "advisory");
    }
  });

  it("counts an autoscaled Deployment's replicas from its autoscaler's minimum", async () => {
    const autoscaled = resource(
      "kubernetes:apps/v1:Deployment",
      pod((p) => delete p.spec.replicas),
    );
    const hpa = (minReplicas: number) =>
      resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {
        metadata: { name: "orders", namespace: "shop" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "orders" }, minReplicas },
      });
    const budgetViolations = async (resources: PolicyResource[]) =>
      (await evaluate(resources, enforcementFor("prod"))).filter((v) => v.policy === "pdb-for-replicated-pods");
    const [violation] = await budgetViolations([autoscaled, hpa(2)]);
    assert.match(violation?.message ?? "", /deployment orders runs 2 replicas and has no PodDisruptionBudget/);
    assert.deepEqual(await budgetViolations([autoscaled, hpa(1)]), []);
  });

  it("network-policies-enforced: names the cluster whose vpc-cni add-on leaves NetworkPolicies unenforced", async () => {
    const found = (
      await evaluate(
        [cluster, addonOf("vpc-cni", JSON.stringify({ enableNetworkPolicy: "false" }))],
        enforcementFor("prod"),
      )
    ).filter((v) => v.policy === "network-policies-enforced");
    assert.deepEqual(
      found.map((v) => v.message),
      [
        'cluster platform does not enforce NetworkPolicies: no vpc-cni add-on with enableNetworkPolicy "true", so every policy (default-deny included) is ignored. Give the cluster the vpc-cni add-on with configurationValues {"enableNetworkPolicy": "true"}.',
      ],
    );
    assert.equal(found[0].level, "mandatory");
  });

  /** Both layers of a prod program through the pack, each stack on its own as `pulumi preview` runs it. */
  const checkLayers = async (layers: ReturnType<typeof prodLayers>) => [
    ...(await checkStack(layers[0].stack, layers.slice(0, 1))),
    ...(await checkStack(layers[1].stack, layers)),
  ];

  it("passes the whole prod program (stack files, all options at their defaults)", async () => {
    assert.deepEqual([...(await checkStack("prod-infra")), ...(await checkStack("prod"))], []);
  });

  it("passes the prod programs of a catalog with a front end (bucket, CDN, WAF) and of MongoDB on DocumentDB", async () => {
    assert.deepEqual(await checkLayers(prodLayers("user-enrichment")), []);
    assert.deepEqual(await checkLayers(prodLayers("bookings", { mongodb: { mode: "documentdb" } })), []);
  });

  it("passes the dev program, and reports anything it would find in dev as advisory", async () => {
    assert.deepEqual(await checkStack("dev"), []);
    const dev = await evaluate(CASES["ports-on-loopback-only"].bad, enforcementFor("dev"));
    assert.ok(dev.length > 0 && dev.every((v) => v.level === "advisory"));
  });

  it("names the local counters and the open anonymous fallback it finds", async () => {
    const rule = RULES.find((r) => r.name === "gateway-routes-protected")!;
    const found = rule.kind === "stack" ? rule.check(CASES["gateway-routes-protected"].bad.slice(2)) : [];
    assert.deepEqual(
      found.map((f) => `${f.urn?.split("::").pop()}: ${f.message}`),
      [
        "local-counters: rate limit of route orders-0 counts per Kong (policy local) while up to 6 Kongs run this config, each allowing the whole limit",
        "local-counters: rate limit of consumer a counts per Kong (policy local) while up to 6 Kongs run this config, each allowing the whole limit",
        "open-anonymous: route orders-0 lets requests without a valid credential through as consumer anonymous, which nothing refuses",
      ],
    );
  });

  it("no-exposed-services: names every Service a release renders or the stack declares that faces out, but the gateway's proxy", () => {
    const rule = RULES.find((r) => r.name === "no-exposed-services")!;
    const found = rule.kind === "stack" ? rule.check([...EXPOSED, gatewayProxy]) : [];
    assert.deepEqual(
      found.map((f) => `${f.urn?.split("::").pop()}: ${f.message}`),
      [
        "kong-with-manager: release kong (chart kong) renders its manager Service as NodePort (the chart's default type)",
        "kong-enterprise: release kong (chart kong) renders its admin Service as NodePort (the chart's default type)",
        "kong-enterprise: release kong (chart kong) renders its portal Service as NodePort (the chart's default type)",
        "kong-enterprise: release kong (chart kong) renders its portalapi Service as NodePort (the chart's default type)",
        "kps: release kps (chart kube-prometheus-stack) sets grafana.service.type LoadBalancer",
        "grafana-nodeport: Service monitoring/grafana is of type NodePort",
      ],
    );
  });

  it("flags stack outputs that carry credentials in plain text", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const violations = await secretOutputViolations(
      {
        grafanaAdminPassword: pulumi.output("plain"),
        kubeconfig: pulumi.secret("k"),
        gatewayUrl: pulumi.output("https://x"),
        gatewayClients: pulumi.output({ partner: { kind: "key-auth", key: "k" } }),
      },
      "mandatory",
    );
    assert.deepEqual(
      violations.map((v) => v.message),
      [
        "stack output grafanaAdminPassword holds credentials but is not a secret",
        "stack output gatewayClients holds credentials but is not a secret",
      ],
    );
  });

  it("links resources to their parents for stack policies", () => {
    const policyResources = asPolicyResources([
      {
        stack: "test",
        type: "platform:x:Parent",
        name: "p",
        urn: "urn:p",
        parent: "",
        custom: false,
        dependencies: [],
        provider: "",
        inputs: {},
        wire: {},
      },
      {
        stack: "test",
        type: "docker:index/container:Container",
        name: "c",
        urn: "urn:c",
        parent: "urn:p",
        custom: true,
        dependencies: ["urn:p"],
        provider: "",
        inputs: {},
        wire: {},
      },
    ]);
    assert.equal((policyResources[1] as any).parent.urn, "urn:p");
    assert.equal(policyResources[1].dependencies[0].urn, "urn:p");
  });
});
