import { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { exposedServiceProblems } from "./exposedServices";

/**
 * The seeds' security checklist as policies. Each is plain data plus a check returning the
 * problems it finds, so the pack (index.ts), the offline check (tools/policyCheck.ts) and the
 * tests evaluate the very same rules. Rules match type tokens, not provider classes, so the pack
 * does not load the provider SDKs.
 */
export type Severity = "low" | "medium" | "high" | "critical";

interface RuleBase {
  name: string;
  description: string;
  severity: Severity;
  remediation: string;
}

export interface ResourceRule extends RuleBase {
  kind: "resource";
  types: string[];
  check(props: Record<string, any>, type: string): string[];
}

export interface StackRule extends RuleBase {
  kind: "stack";
  check(resources: PolicyResource[]): Array<{ message: string; urn?: string }>;
}

export type Rule = ResourceRule | StackRule;

/** The env name the platform hands token issuers the gateway's HS256 secret under. */
const GATEWAY_SIGNING_SECRET = "GATEWAY_JWT_SECRET";

const T = {
  container: "docker:index/container:Container",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  secret: "kubernetes:core/v1:Secret",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  rds: "aws:rds/instance:Instance",
  rdsParameters: "aws:rds/parameterGroup:ParameterGroup",
  docdb: "aws:docdb/cluster:Cluster",
  docdbParameters: "aws:docdb/clusterParameterGroup:ClusterParameterGroup",
  elasticache: "aws:elasticache/replicationGroup:ReplicationGroup",
  mq: "aws:mq/broker:Broker",
  eks: "aws:eks/cluster:Cluster",
  eksAddon: "aws:eks/addon:Addon",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  kmsKey: "aws:kms/key:Key",
  distribution: "aws:cloudfront/distribution:Distribution",
  bucket: "aws:s3/bucket:Bucket",
  bucketPublicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  awsProvider: "pulumi:providers:aws",
  queue: "rabbitmq:index/queue:Queue",
  binding: "rabbitmq:index/binding:Binding",
  pgDatabase: "postgresql:index/database:Database",
} as const;

const SENSITIVE_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|_PASS$|^DATABASE_URL$|^REDIS_URL$|^RABBITMQ_URL$)/;
/** The seeds' examples of what must never ship. */
const DEFAULT_CREDENTIALS = new Set([
  "admin",
  "admin123",
  "password",
  "guest",
  "changeme",
  "secret",
  "root",
  "postgres",
  "kong",
  "redis123",
  "123456",
]);

function envPairs(envs: unknown): Array<[string, string]> {
  return (Array.isArray(envs) ? envs : [])
    .filter((e): e is string => typeof e === "string")
    .map((e) => {
      const i = e.indexOf("=");
      return [e.slice(0, i), e.slice(i + 1)];
    });
}

function podContainers(props: Record<string, any>): any[] {
  const spec = props.spec?.template?.spec ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** An image reference that names a tag other than latest, or a digest. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return true;
  const tag = /:([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(image.split("/").pop() ?? "")?.[1];
  return tag !== undefined && tag !== "latest";
}

const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);
const HTTPS_VIEWER_POLICIES = new Set(["https-only", "redirect-to-https"]);
const OUTDATED_TLS = new Set(["SSLv3", "TLSv1", "TLSv1.1"]);

/**
 * The platform's statement on a NetworkPolicy that opens public addresses: the hosts (`host:port,...`)
 * it is for, and the VPC its IPv4 rule leaves out. Written down here rather than imported, since the
 * pack is installed on its own and checks the component instead of trusting it.
 */
const EGRESS_HOSTS_ANNOTATION = "platform/egress-hosts";
const VPC_CIDR_ANNOTATION = "platform/vpc-cidr";
/** Besides the VPC, what egress to every IPv4 address leaves out: private ranges, link-local (instance metadata). */
const NON_PUBLIC_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

/** The peers of an egress rule that reach every address: open ipBlocks; an empty `to` is every destination, nothing left out. */
function openPeers(rule: any): Array<{ cidr: string; except: string[] }> {
  const to: any[] = rule.to ?? [];
  if (to.length === 0) return [{ cidr: "0.0.0.0/0", except: [] }];
  return to
    .filter((peer) => OPEN_CIDRS.has(peer.ipBlock?.cidr))
    .map((peer) => ({ cidr: peer.ipBlock.cidr, except: peer.ipBlock.except ?? [] }));
}

type Requirement = [holds: boolean, message: string];

/** An open IPv4 peer leaves out the VPC the policy names and every non-public range. */
function leavesOutNonPublic(except: string[], vpcCidr: string | undefined): Requirement[] {
  return [
    [vpcCidr !== undefined, `egress to 0.0.0.0/0 without the ${VPC_CIDR_ANNOTATION} annotation naming the VPC`],
    ...[...(vpcCidr ? [vpcCidr] : []), ...NON_PUBLIC_RANGES].map((range): Requirement => [
      except.includes(range),
      `egress to 0.0.0.0/0 does not leave out ${range}`,
    ]),
  ];
}

/** Egress to every address names its hosts, opens only their ports, and (IPv4) leaves out the VPC and non-public ranges. */
function internetEgressProblems(props: Record<string, any>): string[] {
  const annotations = props.metadata?.annotations ?? {};
  const hosts = String(annotations[EGRESS_HOSTS_ANNOTATION] ?? "")
    .split(",")
    .map((host) => host.trim())
    .filter(Boolean);
  const hostPorts = new Set(hosts.map((host) => host.split(":").pop()));
  return (props.spec?.egress ?? []).flatMap((rule: any) =>
    openPeers(rule).flatMap(({ cidr, except }) => {
      const ports: string[] = (rule.ports ?? []).map((p: any) => String(p.port));
      return unmet([
        [hosts.length > 0, `egress to ${cidr} without the ${EGRESS_HOSTS_ANNOTATION} annotation naming its hosts`],
        [ports.length > 0, `egress to ${cidr} on every port`],
        ...ports.map((port): Requirement => [
          hostPorts.has(port),
          `egress to ${cidr} on port ${port}, which no host in ${EGRESS_HOSTS_ANNOTATION} uses`,
        ]),
        ...(cidr === "0.0.0.0/0" ? leavesOutNonPublic(except, annotations[VPC_CIDR_ANNOTATION]) : []),
      ]);
    }),
  );
}

/** The messages of the requirements that do not hold. */
/** The vpc-cni add-on's configuration turns its network policy agent on. */
function enforcesNetworkPolicies(configurationValues: unknown): boolean {
  try {
    return JSON.parse(String(configurationValues)).enableNetworkPolicy === "true";
  } catch {
    return false;
  }
}

function unmet(requirements: Requirement[]): string[] {
  return requirements.filter(([holds]) => !holds).map(([, message]) => message);
}

export const RULES: Rule[] = [
  {
    kind: "resource",
    name: "no-default-credentials",
    description: "Containers get no default or weak credentials (admin/admin123, guest, changeme, ...).",
    severity: "critical",
    remediation: "Generate the value with @pulumi/random or set it with `pulumi config set --secret`",
    types: [T.container, T.secret],
    check: (props, type) => {
      const pairs =
        type === T.container
          ? envPairs(props.envs)
          : (Object.entries({ ...(props.stringData ?? {}) }) as Array<[string, string]>);
      const isDefault = ([key, value]: [string, string]) =>
        (SENSITIVE_NAME.test(key) && DEFAULT_CREDENTIALS.has(String(value).toLowerCase())) ||
        (/(_USER|USERNAME)$/.test(key) && value === "guest");
      return pairs
        .filter(isDefault)
        .map(([key]) => `${key} holds a default credential`)
        .concat(
          pairs
            .filter(([key, value]) => /PASSWORD$/.test(key) && String(value).length > 0 && String(value).length < 16)
            .map(([key]) => `${key} is shorter than 16 characters`),
        );
    },
  },
  {
    kind: "resource",
    name: "no-plaintext-secret-env",
    description: "Pod credentials come from Kubernetes Secrets, never as plain env values.",
    severity: "critical",
    remediation: "Put the value in the service's Secret and use envFrom/secretKeyRef",
    types: [T.deployment],
    check: (props) =>
      podContainers(props).flatMap((c) =>
        (c.env ?? [])
          .filter((e: any) => SENSITIVE_NAME.test(e.name) && e.value !== undefined)
          .map((e: any) => `container ${c.name}: ${e.name} is a plain env value`),
      ),
  },
  {
    kind: "resource",
    name: "gateway-secret-to-issuers",
    description: "Only a service the catalog marks as a token issuer holds the gateway's JWT signing secret.",
    severity: "critical",
    remediation:
      "Mark the service that signs tokens with auth.issuesTokens in the catalog; no other service gets the secret",
    types: [T.secret, T.container],
    check: (props, type) => {
      const issuer =
        type === T.container
          ? (props.labels ?? []).some((l: any) => l.label === "platform.issues-tokens" && l.value === "true")
          : props.metadata?.labels?.["platform/issues-tokens"] === "true";
      const names =
        type === T.container
          ? (props.envs ?? []).map((e: string) => e.split("=")[0])
          : Object.keys({ ...props.stringData, ...props.data });
      const name = type === T.container ? props.name : props.metadata?.name;
      return names.includes(GATEWAY_SIGNING_SECRET) && !issuer
        ? [`${name ?? "a workload"} holds ${GATEWAY_SIGNING_SECRET} but is not a marked token issuer`]
        : [];
    },
  },
  {
    kind: "resource",
    name: "ports-on-loopback-only",
    description: "Docker containers publish ports on 127.0.0.1 only, never on 0.0.0.0.",
    severity: "critical",
    remediation: "Set ip: 127.0.0.1 on every published port",
    types: [T.container],
    check: (props) =>
      (props.ports ?? [])
        .filter((p: any) => p.external !== undefined && !["127.0.0.1", "::1"].includes(p.ip))
        .map((p: any) => `port ${p.external} is published on ${p.ip ?? "0.0.0.0"}`),
  },
  {
    kind: "resource",
    name: "pinned-images",
    description: "Images name an explicit tag (not latest) or digest; Helm charts an exact version.",
    severity: "high",
    remediation: "Pin the image tag or digest, and the chart version",
    types: [T.remoteImage, T.deployment, T.helmRelease],
    check: (props, type) => {
      if (type === T.remoteImage) return isPinnedImage(props.name ?? "") ? [] : [`image ${props.name} is not pinned`];
      if (type === T.helmRelease)
        return /^\d+\.\d+\.\d+$/.test(props.version ?? "") ? [] : [`chart ${props.chart} has no exact version`];
      return podContainers(props)
        .filter((c) => !isPinnedImage(String(c.image ?? "")))
        .map((c) => `container ${c.name}: image ${c.image} is not pinned`);
    },
  },
  {
    kind: "resource",
    name: "container-resource-limits",
    description: "Every container has a memory limit; every pod memory and CPU limits.",
    severity: "medium",
    remediation: "Set memory (and cpus) on the container, resources.limits on the pod",
    types: [T.container, T.deployment],
    check: (props, type) => {
      // One-shot containers too: they run during the update, beside everything else.
      if (type === T.container) return props.memory ? [] : ["no memory limit"];
      return podContainers(props)
        .filter((c) => !c.resources?.limits?.memory || !c.resources?.limits?.cpu)
        .map((c) => `container ${c.name}: no cpu/memory limits`);
    },
  },
  {
    kind: "resource",
    name: "health-checks",
    description: "Every long-running container has a healthcheck; every pod liveness and readiness probes.",
    severity: "medium",
    remediation:
      "Give the container a healthcheck its image can run (a service's follows from health.path in the catalog)",
    types: [T.container, T.deployment],
    check: (props, type) => {
      if (type === T.container) {
        // A one-shot container (mustRun false) exits: its exit code, not a healthcheck, tells how it went.
        return props.mustRun !== false && !props.healthcheck?.tests?.length ? ["container without healthcheck"] : [];
      }
      return podContainers(props)
        .filter((c) => !c.livenessProbe || !c.readinessProbe)
        .map((c) => `container ${c.name}: missing liveness or readiness probe`);
    },
  },
  {
    kind: "resource",
    name: "pod-security",
    description:
      "Pods run as non-root with a read-only root filesystem, no privilege escalation, not privileged, no host network.",
    severity: "critical",
    remediation:
      "Set runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation: false; drop privileged and hostNetwork",
    types: [T.deployment],
    check: (props) => {
      const spec = props.spec?.template?.spec ?? {};
      const problems: string[] = [];
      if (spec.hostNetwork) problems.push("pod uses the host network");
      for (const c of podContainers(props)) {
        const sc = c.securityContext ?? {};
        if (!(spec.securityContext?.runAsNonRoot || sc.runAsNonRoot))
          problems.push(`container ${c.name}: may run as root`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`container ${c.name}: writable root filesystem`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`container ${c.name}: privilege escalation allowed`);
        if (sc.privileged) problems.push(`container ${c.name}: privileged`);
      }
      return problems;
    },
  },
  {
    kind: "resource",
    name: "no-privileged-containers",
    description: "Docker containers are not privileged and do not share the host network.",
    severity: "critical",
    remediation: "Remove privileged and networkMode: host",
    types: [T.container],
    check: (props) =>
      unmet([
        [!props.privileged, "container is privileged"],
        [props.networkMode !== "host", "container uses the host network"],
      ]),
  },
  {
    kind: "resource",
    name: "rds-hardened",
    description: "RDS: encrypted, Multi-AZ, backups for at least 7 days, deletion protection, not publicly accessible.",
    severity: "critical",
    remediation: "Keep the RdsDatabases defaults (they set all of these)",
    types: [T.rds],
    check: (props) =>
      unmet([
        [props.storageEncrypted === true, "storage is not encrypted"],
        [props.multiAz === true, "not Multi-AZ"],
        [(props.backupRetentionPeriod ?? 0) >= 7, `backups kept ${props.backupRetentionPeriod ?? 0} days`],
        [props.deletionProtection === true, "no deletion protection"],
        [props.publiclyAccessible !== true, "publicly accessible"],
      ]),
  },
  {
    kind: "resource",
    name: "rds-force-ssl",
    description: "PostgreSQL parameter groups force SSL.",
    severity: "high",
    remediation: "Set rds.force_ssl = 1",
    types: [T.rdsParameters],
    check: (props) =>
      !String(props.family ?? "").startsWith("postgres") ||
      (props.parameters ?? []).some((p: any) => p.name === "rds.force_ssl" && String(p.value) === "1")
        ? []
        : ["rds.force_ssl is not 1"],
  },
  {
    kind: "resource",
    name: "documentdb-hardened",
    description:
      "DocumentDB: encrypted, backups for at least 7 days, deletion protection, audit logs exported, TLS required by its parameter group.",
    severity: "critical",
    remediation: "Keep the DocumentDb defaults",
    types: [T.docdb, T.docdbParameters],
    check: (props, type) =>
      type === T.docdbParameters
        ? (props.parameters ?? []).some((p: any) => p.name === "tls" && p.value === "enabled")
          ? []
          : ["tls is not enabled"]
        : unmet([
            [props.storageEncrypted === true, "storage is not encrypted"],
            [(props.backupRetentionPeriod ?? 1) >= 7, `backups kept ${props.backupRetentionPeriod ?? 1} days`],
            [props.deletionProtection === true, "no deletion protection"],
            [(props.enabledCloudwatchLogsExports ?? []).includes("audit"), "audit logs are not exported"],
          ]),
  },
  {
    kind: "resource",
    name: "elasticache-hardened",
    description: "ElastiCache: encryption in transit and at rest, an AUTH token, automatic failover.",
    severity: "critical",
    remediation: "Keep the ManagedCache defaults",
    types: [T.elasticache],
    check: (props) =>
      unmet([
        [props.transitEncryptionEnabled === true, "no encryption in transit"],
        [props.atRestEncryptionEnabled === true, "no encryption at rest"],
        [Boolean(props.authToken), "no AUTH token"],
        [props.automaticFailoverEnabled === true, "no automatic failover"],
      ]),
  },
  {
    kind: "resource",
    name: "mq-not-public",
    description: "Amazon MQ brokers are not publicly accessible.",
    severity: "critical",
    remediation: "Set publiclyAccessible: false and private subnets",
    types: [T.mq],
    check: (props) => (props.publiclyAccessible === true ? ["broker is publicly accessible"] : []),
  },
  {
    kind: "resource",
    name: "eks-hardened",
    description: "EKS: secrets encrypted with KMS, control-plane logging, public endpoint off or restricted.",
    severity: "critical",
    remediation: "Keep the EksCluster defaults; list only trusted CIDRs in aws.eks.publicAccessCidrs",
    types: [T.eks],
    check: (props) => {
      const problems: string[] = [];
      if (!(props.encryptionConfig?.resources ?? []).includes("secrets"))
        problems.push("secrets are not encrypted with KMS");
      const logs: string[] = props.enabledClusterLogTypes ?? [];
      for (const log of ["api", "audit", "authenticator"])
        if (!logs.includes(log)) problems.push(`control-plane log ${log} is off`);
      const vpc = props.vpcConfig ?? {};
      if (vpc.endpointPublicAccess !== false) {
        const cidrs: string[] = vpc.publicAccessCidrs ?? [];
        if (cidrs.length === 0 || cidrs.some((c) => OPEN_CIDRS.has(c)))
          problems.push("public API endpoint open to the internet");
      }
      return problems;
    },
  },
  {
    kind: "stack",
    name: "network-policies-enforced",
    description: "EKS clusters enforce NetworkPolicies: the vpc-cni add-on with enableNetworkPolicy on.",
    severity: "critical",
    remediation: 'Give the cluster the vpc-cni add-on with configurationValues {"enableNetworkPolicy": "true"}',
    check: (resources) =>
      resources
        .filter((r) => r.type === T.eks)
        .filter(
          (cluster) =>
            !resources.some(
              (r) =>
                r.type === T.eksAddon &&
                r.props.addonName === "vpc-cni" &&
                r.dependencies.some((d) => d.urn === cluster.urn) &&
                enforcesNetworkPolicies(r.props.configurationValues),
            ),
        )
        .map((cluster) => ({
          message: `cluster ${cluster.name} does not enforce NetworkPolicies: no vpc-cni add-on with enableNetworkPolicy "true", so every policy (default-deny included) is ignored`,
          urn: cluster.urn,
        })),
  },
  {
    kind: "resource",
    name: "no-open-ingress",
    description: "Security groups admit 0.0.0.0/0 only on 443 (the gateway's load balancer).",
    severity: "critical",
    remediation: "Admit the cluster's security group or a known CIDR instead",
    types: [T.securityGroup, T.ingressRule],
    check: (props, type) => {
      const rules: any[] =
        type === T.securityGroup
          ? (props.ingress ?? [])
          : [{ ...props, cidrBlocks: [props.cidrIpv4, props.cidrIpv6].filter(Boolean) }];
      return rules
        .filter(
          (r) =>
            [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])].some((c: string) => OPEN_CIDRS.has(c)) &&
            !(r.fromPort === 443 && r.toPort === 443),
        )
        .map((r) => `ingress ${r.fromPort}-${r.toPort} open to the internet`);
    },
  },
  {
    kind: "resource",
    name: "cdn-hardened",
    description:
      "CloudFront: HTTPS for viewers on every behavior, a WAF web ACL, origins over TLS 1.2, buckets through origin access control, TLS 1.2 for a custom certificate.",
    severity: "high",
    remediation: "Keep the WebFrontend defaults",
    types: [T.distribution],
    check: (props) => {
      const behaviors: any[] = [props.defaultCacheBehavior ?? {}, ...(props.orderedCacheBehaviors ?? [])];
      const origins: any[] = props.origins ?? [];
      const certificate = props.viewerCertificate ?? {};
      return unmet([
        ...behaviors.map((b): [boolean, string] => [
          HTTPS_VIEWER_POLICIES.has(b.viewerProtocolPolicy),
          `behavior ${b.pathPattern ?? "default"} allows plain HTTP`,
        ]),
        [Boolean(props.webAclId), "no WAF web ACL"],
        ...origins
          .filter((o) => o.customOriginConfig)
          .map((o): [boolean, string] => [
            o.customOriginConfig.originProtocolPolicy === "https-only" &&
              !(o.customOriginConfig.originSslProtocols ?? []).some((p: string) => OUTDATED_TLS.has(p)),
            `origin ${o.originId} is reached without TLS 1.2`,
          ]),
        ...origins
          .filter((o) => !o.customOriginConfig)
          .map((o): [boolean, string] => [
            Boolean(o.originAccessControlId),
            `bucket origin ${o.originId} has no origin access control`,
          ]),
        [
          !certificate.acmCertificateArn || /^TLSv1\.[23]/.test(certificate.minimumProtocolVersion ?? ""),
          `viewer TLS minimum is ${certificate.minimumProtocolVersion ?? "unset"}`,
        ],
      ]);
    },
  },
  {
    kind: "stack",
    name: "s3-private",
    description: "Every S3 bucket blocks public access (all four settings) and is encrypted by default.",
    severity: "critical",
    remediation:
      "Give the bucket a BucketPublicAccessBlock with every setting true and a BucketServerSideEncryptionConfiguration",
    check: (resources) => {
      const dependents = (bucket: PolicyResource, type: string) =>
        resources.filter((r) => r.type === type && r.dependencies.some((d) => d.urn === bucket.urn));
      return resources
        .filter((r) => r.type === T.bucket)
        .flatMap((bucket) =>
          unmet([
            [
              dependents(bucket, T.bucketPublicAccess).some((b) =>
                ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
                  (k) => b.props[k] === true,
                ),
              ),
              `bucket ${bucket.name} does not block public access`,
            ],
            [dependents(bucket, T.bucketEncryption).length > 0, `bucket ${bucket.name} has no default encryption`],
          ]).map((message) => ({ message, urn: bucket.urn })),
        );
    },
  },
  {
    kind: "resource",
    name: "kms-key-rotation",
    description: "Customer-managed KMS keys rotate.",
    severity: "high",
    remediation: "Set enableKeyRotation: true",
    types: [T.kmsKey],
    check: (props) => (props.enableKeyRotation === true ? [] : ["key rotation is off"]),
  },
  {
    kind: "resource",
    name: "required-tags",
    description: "Every AWS resource is tagged with environment, owner and cost-center (the provider's default tags).",
    severity: "medium",
    remediation: "Set platform:aws.owner and platform:aws.costCenter",
    types: [T.awsProvider],
    check: (props) => {
      const defaultTags = typeof props.defaultTags === "string" ? JSON.parse(props.defaultTags) : props.defaultTags;
      const tags = defaultTags?.tags ?? {};
      return ["environment", "owner", "cost-center"]
        .filter((tag) => !tags[tag])
        .map((tag) => `default tag ${tag} is missing`);
    },
  },
  {
    kind: "stack",
    name: "consumer-queues-have-dlq",
    description: "Every consumer queue dead-letters into a DLQ bound on its dead-letter exchange.",
    severity: "high",
    remediation: "Declare the consumer in the catalog; the topology adds its DLQ",
    check: (resources) => {
      const queues = resources
        .filter((r) => r.type === T.queue)
        .map((r) => ({
          urn: r.urn,
          name: r.props.name as string,
          args: JSON.parse(r.props.settings?.argumentsJson ?? "{}"),
        }));
      const bindings = resources.filter((r) => r.type === T.binding).map((r) => r.props);
      // In-cluster brokers load the same topology from a definitions Secret.
      for (const secret of resources.filter(
        (r) => r.type === T.secret && r.props.stringData?.["load_definition.json"],
      )) {
        const definitions = JSON.parse(secret.props.stringData["load_definition.json"]);
        queues.push(...definitions.queues.map((q: any) => ({ urn: secret.urn, name: q.name, args: q.arguments })));
        bindings.push(
          ...definitions.bindings.map((b: any) => ({
            source: b.source,
            destination: b.destination,
            routingKey: b.routing_key,
          })),
        );
      }
      const consumers = queues.filter((q) => !/\.(dlq|retry\.\d+)$/.test(q.name));
      return consumers
        .filter((q) => {
          const dlx = q.args["x-dead-letter-exchange"];
          const key = q.args["x-dead-letter-routing-key"] ?? q.name;
          return (
            !dlx || !bindings.some((b) => b.source === dlx && b.routingKey === key && b.destination === `${q.name}.dlq`)
          );
        })
        .map((q) => ({ message: `queue ${q.name} has no dead-letter queue`, urn: q.urn }));
    },
  },
  {
    kind: "stack",
    name: "own-database-role",
    description: "Every service database is owned by a login of its own.",
    severity: "high",
    remediation: "Give each service its own database in the catalog",
    check: (resources) => {
      const owners = new Map<string, string[]>();
      for (const db of resources.filter((r) => r.type === T.pgDatabase)) {
        const owner = String(db.props.owner ?? "");
        owners.set(owner, [...(owners.get(owner) ?? []), db.urn]);
      }
      return [...owners.entries()].flatMap(([owner, urns]) =>
        owner === "" || urns.length > 1
          ? urns.map((urn) => ({
              message: owner ? `login ${owner} owns ${urns.length} databases` : "database has no owner of its own",
              urn,
            }))
          : [],
      );
    },
  },
  {
    kind: "stack",
    name: "pdb-for-replicated-pods",
    description:
      "Every Deployment with more than one replica (its own, or its autoscaler's minimum) has a PodDisruptionBudget.",
    severity: "medium",
    remediation: "The ServiceWorkload adds one for replicas > 1",
    check: (resources) => {
      const budgets = resources
        .filter((r) => r.type === T.pdb)
        .map((r) => ({ namespace: r.props.metadata?.namespace, selector: r.props.spec?.selector?.matchLabels ?? {} }));
      // An autoscaled Deployment leaves out `replicas`: its HPA's minimum is how many run.
      const minimumOf = (d: PolicyResource) =>
        Math.max(
          d.props.spec?.replicas ?? 1,
          ...resources
            .filter(
              (r) =>
                r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" &&
                r.props.metadata?.namespace === d.props.metadata?.namespace &&
                r.props.spec?.scaleTargetRef?.name === d.props.metadata?.name,
            )
            .map((r) => r.props.spec?.minReplicas ?? 1),
        );
      return resources
        .filter((r) => r.type === T.deployment && minimumOf(r) > 1)
        .filter((d) => {
          const labels = d.props.spec?.template?.metadata?.labels ?? {};
          return !budgets.some(
            (b) =>
              b.namespace === d.props.metadata?.namespace &&
              Object.entries(b.selector).every(([k, v]) => labels[k] === v),
          );
        })
        .map((d) => ({
          message: `deployment ${d.props.metadata?.name} runs ${minimumOf(d)} replicas and has no PodDisruptionBudget`,
          urn: d.urn,
        }));
    },
  },
  {
    kind: "stack",
    name: "network-policy-per-namespace",
    description: "Every namespace with workloads denies traffic by default (a NetworkPolicy selecting all pods).",
    severity: "high",
    remediation: "Keep the default-deny policy the platform adds to the catalog's namespace",
    check: (resources) => {
      const denied = new Set(
        resources
          .filter(
            (r) =>
              r.type === T.networkPolicy &&
              Object.keys(r.props.spec?.podSelector ?? {}).length === 0 &&
              Object.keys(r.props.spec?.podSelector?.matchLabels ?? {}).length === 0,
          )
          .map((r) => r.props.metadata?.namespace),
      );
      return resources
        .filter(
          (r) => (r.type === T.deployment || r.type === T.statefulSet) && !denied.has(r.props.metadata?.namespace),
        )
        .map((d) => ({
          message: `namespace ${d.props.metadata?.namespace} of ${d.props.metadata?.name} has no default-deny NetworkPolicy`,
          urn: d.urn,
        }));
    },
  },
  {
    kind: "resource",
    name: "internet-egress-declared",
    description:
      "NetworkPolicy egress to 0.0.0.0/0 or ::/0 (or to no peer at all) names the hosts it is for (platform/egress-hosts), opens only their ports, and leaves out the VPC (platform/vpc-cidr), the RFC 1918 ranges and 169.254.0.0/16 (instance metadata).",
    severity: "high",
    remediation:
      "Declare the service's outside hosts in its catalog egress (the ServiceWorkload writes the annotations and the except list); open a known range with { cidr, ports } instead",
    types: [T.networkPolicy],
    check: (props) => internetEgressProblems(props),
  },
  {
    kind: "stack",
    name: "gateway-routes-protected",
    description:
      "Every non-public gateway route has an auth plugin (an anonymous fallback only to a consumer Kong refuses), and every route a rate limit, counted in a shared store (not policy local) when more than one Kong runs the config.",
    severity: "critical",
    remediation:
      "Mark only login/registration-style routes public in the catalog; when Kong runs more than one replica, count rate limits in the platform's cache (policy redis)",
    check: (resources) =>
      kongConfigs(resources).flatMap(({ urn, text, replicas }) =>
        kongConfigProblems(parseYaml(text), replicas).map((message) => ({ message, urn })),
      ),
  },
  {
    kind: "stack",
    name: "no-exposed-services",
    description:
      "Nothing but the gateway's proxy is reachable from outside the cluster: no Service of type NodePort or LoadBalancer, declared or rendered by a Helm release (its values over the chart's defaults, such as Kong's manager).",
    severity: "high",
    remediation:
      "Keep the Service ClusterIP or turn the chart's block off (Kong: manager.enabled: false); reach an internal UI with kubectl port-forward",
    check: (resources) => exposedServiceProblems(resources),
  },
];

/** Every Kong declarative config the stack ships, with the most Kong processes that run it. */
function kongConfigs(resources: PolicyResource[]): Array<{ urn: string; text: string; replicas: number }> {
  const configs: Array<{ urn: string; text: string; replicas: number }> = [];
  for (const r of resources) {
    // A Docker container is one Kong (or the bootstrap importing the config for one).
    if (r.type === T.container)
      for (const upload of r.props.uploads ?? [])
        if (String(upload.file).endsWith("kong.yml")) configs.push({ urn: r.urn, text: upload.content, replicas: 1 });
    if (r.type === T.secret && r.props.stringData?.["kong.yml"])
      configs.push({ urn: r.urn, text: r.props.stringData["kong.yml"], replicas: kongReplicas(resources, r.props) });
  }
  return configs;
}

/** Pods of the Kong chart releases that run DB-less from this Secret: the autoscaler's maximum, or replicaCount. */
function kongReplicas(resources: PolicyResource[], secret: Record<string, any>): number {
  const counts = resources
    .filter(
      (r) =>
        r.type === T.helmRelease &&
        r.props.chart === "kong" &&
        r.props.values?.dblessConfig?.secret === secret.metadata?.name &&
        (r.props.namespace ?? secret.metadata?.namespace) === secret.metadata?.namespace,
    )
    .map(({ props: { values } }) =>
      // The chart's defaults: one replica, or up to 5 with autoscaling.
      values.autoscaling?.enabled ? Number(values.autoscaling.maxReplicas ?? 5) : Number(values.replicaCount ?? 1),
    );
  return Math.max(1, ...counts);
}

const AUTH_PLUGINS = new Set(["jwt", "key-auth"]);

/** Routes without auth or rate limit, anonymous fallbacks Kong lets through, and per-Kong counters under several Kongs. */
function kongConfigProblems(config: any, replicas: number): string[] {
  const refused = new Set(
    (config.consumers ?? [])
      .filter((c: any) =>
        (c.plugins ?? []).some(
          (p: any) => p.name === "request-termination" && [401, 403].includes(p.config?.status_code),
        ),
      )
      .flatMap((c: any) => [c.username, c.id]),
  );
  const routeProblems = (config.services ?? []).flatMap((service: any) =>
    (service.routes ?? []).flatMap((route: any) => {
      const plugins = [...(route.plugins ?? []), ...(service.plugins ?? [])];
      const names = new Set(plugins.map((p: any) => p.name));
      const isPublic = (route.tags ?? []).includes("public");
      const open = plugins.filter(
        (p: any) => AUTH_PLUGINS.has(p.name) && p.config?.anonymous && !refused.has(p.config.anonymous),
      );
      return unmet([
        [names.has("rate-limiting"), `route ${route.name} has no rate limit`],
        [
          isPublic || [...AUTH_PLUGINS].some((a) => names.has(a)),
          `route ${route.name} is not public and has no auth plugin`,
        ],
        [
          isPublic || open.length === 0,
          `route ${route.name} lets requests without a valid credential through as consumer ${open[0]?.config?.anonymous}, which nothing refuses`,
        ],
      ]);
    }),
  );
  return [...routeProblems, ...localCounterProblems(config, replicas)];
}

/** Kong 3.9's rate-limiting defaults to policy local: each Kong counts alone, so N Kongs allow N times the limit. */
function localCounterProblems(config: any, replicas: number): string[] {
  if (replicas <= 1) return [];
  const scoped = (where: string, plugins: any[] | undefined) =>
    (plugins ?? [])
      .filter((p: any) => p.name === "rate-limiting" && (p.config?.policy ?? "local") === "local")
      .map(
        () =>
          `rate limit of ${where} counts per Kong (policy local) while up to ${replicas} Kongs run this config, each allowing the whole limit`,
      );
  return [
    ...scoped("the whole gateway", config.plugins),
    ...(config.services ?? []).flatMap((s: any) => [
      ...scoped(`service ${s.name}`, s.plugins),
      ...(s.routes ?? []).flatMap((r: any) => scoped(`route ${r.name}`, r.plugins)),
    ]),
    ...(config.routes ?? []).flatMap((r: any) => scoped(`route ${r.name}`, r.plugins)),
    ...(config.consumers ?? []).flatMap((c: any) => scoped(`consumer ${c.username}`, c.plugins)),
  ];
}

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
          validateResource: (args: { type: string; props: Record<string, any> }, report: ReportViolation) => {
            if (!rule.types.includes(args.type)) return;
            for (const problem of rule.check(args.props, args.type)) report(`${problem}. ${rule.remediation}.`);
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
