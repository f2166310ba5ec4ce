import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { runProgram } from "../stacks/program";
import { AUTONAME_SUFFIX, NAME_LIMITS } from "../components/naming";
import { RecordedResource, runLayersUnderMocks, runUnderMocks } from "../tools/mockRun";
import { devConfig, prodLayers, ROOMY_NODE_GROUP } from "./helpers/stackConfigs";
import { withCatalogFileLayers } from "./helpers/catalogFiles";

const projectDir = path.join(__dirname, "..");

/** A name given to an engine: its limit, the engine's pattern, and where no other may share it (type and scope). */
interface GivenName {
  type: string;
  /** Absent for names that may repeat (hostnames, label values). */
  scope?: string;
  name: string;
  limit: number;
  pattern?: RegExp;
}
type Named = Omit<GivenName, "type">;

/** Names whose limits the program never has to enforce (they fit by construction), each from the engine's docs. */
const LIMITS = {
  /** https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names */
  kubernetesObject: 253,
  /** Services (RFC 1035 labels) and namespaces (RFC 1123 labels), same page; Deployments, for their pods' hostnames (workloads/controllers/deployment). */
  kubernetesLabelName: 63,
  /** https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set */
  labelValue: 63,
  /** Queues, exchanges, vhosts, users: AMQP short strings (https://www.rabbitmq.com/docs/queues#names). */
  amqp: 255,
  /** The local driver keeps a volume in /var/lib/docker/volumes/<name>: a file name, NAME_MAX bytes. */
  dockerVolume: 255,
  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html, and snapshots (API_CreateDBSnapshot). */
  rdsLongName: 255,
  /** https://docs.aws.amazon.com/documentdb/latest/developerguide/limits.html#limits-naming_constraints */
  documentDbIdentifier: 63,
  /** https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html */
  ecrRepository: 256,
  /** https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html */
  logGroup: 512,
  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html; the provider adds 26 characters to a prefix. */
  secretPrefix: 512 - 26,
  /** https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html (brokerName). */
  mqBroker: 50,
  /** "Must be ... less than or equal to 37 characters" (https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucket/, bucketPrefix). */
  bucketPrefix: 37,
  /** Helm refuses longer release names (helm/helm pkg/chartutil/validate_name.go, maxReleaseNameLen). */
  helmRelease: 53,
};

/** RDS, DocumentDB and ElastiCache identifiers: a letter first, letters, digits and single hyphens. */
const AWS_IDENTIFIER = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What the provider would call a resource it names itself. */
const autoname = (r: RecordedResource, suffix: number) => `${r.name}-${"x".repeat(suffix - 1)}`;

const KUBERNETES_LIMITS: Record<string, number> = {
  "kubernetes:core/v1:Service": LIMITS.kubernetesLabelName,
  "kubernetes:core/v1:Namespace": LIMITS.kubernetesLabelName,
  "kubernetes:apps/v1:Deployment": LIMITS.kubernetesLabelName,
  "kubernetes:apps/v1:StatefulSet": NAME_LIMITS.statefulSet,
  "kubernetes:batch/v1:Job": NAME_LIMITS.job,
};

type Rule = (r: RecordedResource, serverOf: (r: RecordedResource) => string) => Named[];

const one = (scope: string | undefined, name: string, limit: number, pattern?: RegExp): Named[] => [
  { scope, name, limit, pattern },
];

/** Per resource type, the names it gives its engine; Kubernetes objects are handled together below. */
const RULES: Record<string, Rule> = {
  "postgresql:index/role:Role": (r, serverOf) => one(serverOf(r), r.inputs.name, NAME_LIMITS.databaseIdentifier),
  "postgresql:index/database:Database": (r, serverOf) =>
    one(serverOf(r), r.inputs.name, NAME_LIMITS.databaseIdentifier),
  "rabbitmq:index/queue:Queue": (r, serverOf) => one(`${serverOf(r)}/${r.inputs.vhost}`, r.inputs.name, LIMITS.amqp),
  "rabbitmq:index/exchange:Exchange": (r, serverOf) =>
    one(`${serverOf(r)}/${r.inputs.vhost}`, r.inputs.name, LIMITS.amqp),
  "rabbitmq:index/user:User": (r, serverOf) => one(serverOf(r), r.inputs.name, LIMITS.amqp),
  "rabbitmq:index/vHost:VHost": (r, serverOf) => one(serverOf(r), r.inputs.name, LIMITS.amqp),
  // Docker sets no length on container and network names (the Engine API gives a pattern only).
  "docker:index/container:Container": (r) => [
    ...one("", r.inputs.name, Infinity),
    ...one(undefined, r.inputs.hostname, NAME_LIMITS.dnsLabel, DNS_LABEL),
    ...(r.inputs.networksAdvanced as Array<{ name: string; aliases: string[] }>).flatMap((network) =>
      network.aliases.map((alias) => ({
        scope: `alias on ${network.name}`,
        name: alias,
        limit: NAME_LIMITS.dnsLabel,
        pattern: DNS_LABEL,
      })),
    ),
  ],
  "docker:index/network:Network": (r) => one("", r.inputs.name, Infinity),
  "docker:index/volume:Volume": (r) => one("", r.inputs.name, LIMITS.dockerVolume),
  "aws:rds/instance:Instance": (r) => [
    ...one("", r.inputs.identifier, NAME_LIMITS.rdsIdentifier, AWS_IDENTIFIER),
    ...one("snapshot", r.inputs.finalSnapshotIdentifier, LIMITS.rdsLongName, AWS_IDENTIFIER),
  ],
  "aws:rds/parameterGroup:ParameterGroup": (r) =>
    one("", autoname(r, AUTONAME_SUFFIX.aws), LIMITS.rdsLongName, AWS_IDENTIFIER),
  "aws:docdb/cluster:Cluster": (r) => one("", r.inputs.clusterIdentifier, LIMITS.documentDbIdentifier, AWS_IDENTIFIER),
  "aws:docdb/clusterInstance:ClusterInstance": (r) =>
    one("", r.inputs.identifier, LIMITS.documentDbIdentifier, AWS_IDENTIFIER),
  "aws:elasticache/replicationGroup:ReplicationGroup": (r) =>
    one("", r.inputs.replicationGroupId, NAME_LIMITS.elastiCacheReplicationGroup, AWS_IDENTIFIER),
  "aws:iam/role:Role": (r) => one("", r.inputs.name ?? autoname(r, AUTONAME_SUFFIX.aws), NAME_LIMITS.iamRole),
  "aws:ecr/repository:Repository": (r) => one("", r.inputs.name, LIMITS.ecrRepository, ECR_REPOSITORY),
  "aws:cloudwatch/logGroup:LogGroup": (r) => one("", r.inputs.name, LIMITS.logGroup),
  "aws:secretsmanager/secret:Secret": (r) => one("", r.inputs.namePrefix, LIMITS.secretPrefix),
  "aws:mq/broker:Broker": (r) => one("", r.inputs.brokerName, LIMITS.mqBroker),
  "aws:s3/bucket:Bucket": (r) => one("", r.inputs.bucketPrefix, LIMITS.bucketPrefix),
  "kubernetes:helm.sh/v3:Release": (r) => one(r.inputs.namespace, r.inputs.name, LIMITS.helmRelease),
};

/** A Kubernetes object's name (pulumi-kubernetes names the unnamed ones) and every label value in it. */
function kubernetesNames(r: RecordedResource): Named[] {
  const metadata = r.inputs.metadata ?? {};
  const name = metadata.name ?? autoname(r, AUTONAME_SUFFIX.kubernetes);
  const names = one(metadata.namespace ?? "", name, KUBERNETES_LIMITS[r.type] ?? LIMITS.kubernetesObject);
  const walk = (value: unknown): void => {
    if (!value || typeof value !== "object") return;
    for (const [key, child] of Object.entries(value)) {
      if ((key === "labels" || key === "matchLabels") && child && typeof child === "object") {
        for (const label of Object.values(child))
          names.push(...one(undefined, String(label), LIMITS.labelValue, LABEL_VALUE));
      } else walk(child);
    }
  };
  walk(r.inputs);
  return names;
}

const isKubernetesObject = (r: RecordedResource) => r.type.startsWith("kubernetes:");

/** Every name the resources give their engines; a provider's address tells the names on one server apart. */
function givenNames(resources: RecordedResource[]): GivenName[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const serverOf = (r: RecordedResource) => {
    const provider = byUrn.get(r.provider.split("::").slice(0, -1).join("::"))!.inputs;
    return `${provider.host ?? provider.endpoint}:${provider.port ?? ""}`;
  };
  return resources.flatMap((r) => {
    const names = RULES[r.type]?.(r, serverOf) ?? (isKubernetesObject(r) ? kubernetesNames(r) : []);
    return names.map((n) => ({ ...n, type: r.type }));
  });
}

/** Every name over its limit or against its engine's pattern, and every name given twice in one scope. */
function nameProblems(names: GivenName[]): string[] {
  const problems = names
    .filter((n) => Buffer.byteLength(n.name) > n.limit || (n.pattern && !n.pattern.test(n.name)))
    .map((n) => `${n.type}: '${n.name}' (${Buffer.byteLength(n.name)} bytes, limit ${n.limit})`);
  const seen = new Set<string>();
  for (const n of names.filter((n) => n.scope !== undefined)) {
    const key = `${n.type} ${n.scope} ${n.name}`;
    if (seen.has(key)) problems.push(`${n.type}: '${n.name}' given twice${n.scope ? ` in ${n.scope}` : ""}`);
    seen.add(key);
  }
  return problems;
}

/** A DNS label of exactly `length` characters, different for every length (and `end` to make pairs). */
function serviceName(length: number, end = ""): string {
  const name = `s${length}-${"abcdefghij".repeat(7)}`.slice(0, length - end.length) + end;
  return name.replace(/-$/, "x");
}

const DATABASES = [
  { kind: "postgres", extensions: ["pgcrypto"] },
  { kind: "mongodb" },
  { kind: "clickhouse" },
  { kind: "none" },
] as const;
type TestService = { name: string; database: (typeof DATABASES)[number] };

/**
 * Pairs of names that differ only in their last character, each pair with one database kind: at 63
 * everything overflows, at 61 `-db` does, at 60 `_app` does but `-db` just fits, at 56 `_monitor` does.
 */
const PAIRS = [
  { length: 63, database: DATABASES[0] },
  { length: 61, database: DATABASES[1] },
  { length: 60, database: DATABASES[0] },
  { length: 56, database: DATABASES[1] },
];

/**
 * Two catalogs, between them a service name of every length a DNS label allows (each catalog every
 * database kind) and the pairs: one catalog with a short name, one with the longest a catalog may
 * have, which the stack's prefixes and logical names start with.
 */
const CATALOGS = ["limits", `limits-${"x".repeat(53)}-63`].map((name, half) => ({
  name,
  services: [
    ...Array.from({ length: 63 }, (_, i) => serviceName(i + 1))
      .filter((_, i) => i % 2 === half)
      .map((service, i): TestService => ({ name: service, database: DATABASES[i % DATABASES.length] })),
    ...PAIRS.filter((_, i) => i % 2 === half).flatMap(({ length, database }) =>
      ["1", "2"].map((end): TestService => ({ name: serviceName(length, end), database })),
    ),
  ],
}));

/** A catalog of these services, each with a consumer and its retry queue; the cache's names do not depend on them. */
function catalogOf(name: string, services: TestService[]): Record<string, unknown> {
  return {
    name,
    services: services.map((service, i) => ({
      name: service.name,
      image: `example/${service.name}:1.0.0`,
      port: 20000 + i,
      resources: { cpu: "100m", memory: "64Mi" },
      database: service.database,
      cache: i === 0,
      events: {
        publishes: i === 0 ? ["orders.item.created"] : [],
        consumes: [{ name: "inbox", bindings: ["orders.item.*"], retry: { maxAttempts: 1, initialDelayMs: 1000 } }],
      },
    })),
  };
}

type Layer = { stack: string; config: Record<string, string> };

/** The stacks to run for a catalog file: dev, prod, and prod with the other store modes. */
function stacksFor(catalog: string, file: string): Layer[][] {
  return [
    // Dozens of services with their databases: far more than a laptop, which is not what this test is about.
    [{ stack: "dev", config: devConfig(catalog, { memoryBudget: "64Gi" }) }],
    // With the workflow's roles, whose IAM names are made from the catalog's too.
    prodLayers(catalog, { ci: {}, eks: ROOMY_NODE_GROUP }),
    prodLayers(
      catalog,
      {
        rds: { mode: "shared", bootstrap: "provider" },
        broker: { mode: "in-cluster" },
        mongodb: { mode: "documentdb" },
        eks: ROOMY_NODE_GROUP,
      },
      { "platform:observability": JSON.stringify({ logs: "elk" }) },
    ),
  ].map((layers) => withCatalogFileLayers(layers, file));
}

async function resourcesOf(layers: Layer[]): Promise<RecordedResource[]> {
  const program = () => runProgram(projectDir);
  const run =
    layers.length > 1
      ? await runLayersUnderMocks(layers, program)
      : await runUnderMocks(layers[0].stack, layers[0].config, program);
  return run.resources;
}

describe("names derived from the catalog fit their engines", function () {
  this.timeout(120000);
  let problems: string[];

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "name-limits-"));
    problems = [];
    for (const { name, services } of CATALOGS) {
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, stringify(catalogOf(name, services)));
      for (const layers of stacksFor(name, file)) {
        const stack = `${name} ${layers.at(-1)!.stack}`;
        try {
          problems.push(...nameProblems(givenNames(await resourcesOf(layers))).map((p) => `${stack}: ${p}`));
        } catch (e) {
          problems.push(`${stack}: ${(e as Error).message}`);
        }
      }
    }
  });

  it("keeps every name within its limit and unique where it must be, for service names of every length", () => {
    assert.deepEqual(problems, []);
  });
});
