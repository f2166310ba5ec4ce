import * as path from "path";
import { BUILTIN_CATALOGS, BuiltinCatalog, builtinCatalogPath, loadCatalog } from "../../services/load";
import { Catalog, imageTagOrDigest } from "../../services/schema";
import { unpublishedServices } from "../../components/aws/serviceImages";

/** Values a user would set with `pulumi config set --secret` for the built-in catalogs. */
export const CONFIG_SECRETS: Record<string, Record<string, Record<string, string>>> = {
  finance: { "ai-service": { OPENAI_API_KEY: "sk-config-finance" } },
  reservei: {
    "ai-service": { OPENAI_API_KEY: "sk-config-reservei" },
    "notification-service": { SMTP_PASSWORD: "smtp-config-reservei" },
  },
};

/** Stack config of a dev stack for a built-in catalog, AMQP published so broker URLs show up; `docker` adds settings. */
export function devConfig(catalog: string, docker: Record<string, unknown> = {}): Record<string, string> {
  return {
    "platform:target": "docker",
    "platform:catalog": catalog,
    "platform:docker": JSON.stringify({ hostPorts: { amqp: 5673 }, ...docker }),
    "platform:serviceSecrets": JSON.stringify(CONFIG_SECRETS[catalog] ?? {}),
  };
}

/** A DSN in Sentry's format, for the stacks that report errors. */
export const SENTRY_DSN = "https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/4504";

/** A throwaway self-signed CA (no key kept), standing in for Amazon's RDS CA bundle. */
export const TEST_CA_BUNDLE = path.join(__dirname, "..", "fixtures", "test-ca.pem");

export const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab";

/** The DNS name a prod stack's gateway certificate covers. */
export const gatewayDomain = (catalog: string) => `api.${catalog}.example.com`;

/**
 * Receivers of every kind, as a prod team sets them (the URLs, password and key with --secret):
 * prod requires one that each layer's delivery reaches.
 */
export const ALERTING = {
  slack: { webhookUrl: "https://hooks.slack.com/services/T0000/B0000/slack-webhook-s3cret", channel: "#alerts" },
  email: {
    to: ["oncall@example.com", "platform@example.com"],
    from: "alerts@example.com",
    smarthost: "smtp.example.com:587",
    authUsername: "alerts",
    authPassword: "smtp-relay-app-password",
  },
  pagerduty: {
    routingKey: "0123456789abcdef0123456789abcdef",
    cloudwatchUrl: "https://events.pagerduty.com/integration/fedcba9876543210fedcba9876543210/enqueue",
  },
};

/**
 * A node-group ceiling for tests about something else than capacity, whose stacks run the heavier
 * options (ELK, the in-cluster broker, dozens of services): a team running them raises maxNodes so.
 */
export const ROOMY_NODE_GROUP = { maxNodes: 24 };

export function prodConfig(catalog: string, aws: Record<string, unknown> = {}): Record<string, string> {
  return {
    "platform:target": "aws",
    "platform:catalog": catalog,
    "platform:aws": JSON.stringify({
      region: "eu-west-1",
      owner: "platform-team",
      costCenter: "cc-042",
      gatewayCertificateArn: CERTIFICATE,
      gatewayDomain: gatewayDomain(catalog),
      ...aws,
    }),
    "platform:serviceSecrets": JSON.stringify(CONFIG_SECRETS[catalog] ?? {}),
    "platform:alerting": JSON.stringify(ALERTING),
  };
}

/** The stack's ECR registry as the mocks answer (account 123456789012, eu-west-1). */
export const ECR_REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/**
 * `platform:images` as a prod team sets it once its images exist: every service the program does not
 * build, by its full reference in the service's ECR repository (`{catalog}/{service}`) with the
 * catalog's tag. Without it the platform layer refuses the seeds (their images name no registry).
 */
export function publishedImages(catalog: Catalog): Record<string, string> {
  return Object.fromEntries(
    unpublishedServices(catalog, {}).map((s) => [
      s.name,
      `${ECR_REGISTRY}/${catalog.name}/${s.name}${imageTagOrDigest(s.image!)}`,
    ]),
  );
}

/** The deploy runner's settings every prod infrastructure layer of the tests uses. */
export const RUNNER = { githubRepository: "acme/platform" };

/**
 * The two prod stacks of a catalog: `prod-infra` (infrastructure layer, environment prod) and
 * `prod` (platform layer), the same AWS settings and extra config on both, as a team would keep them;
 * the platform layer runs the catalog's published images (publishedImages).
 */
export function prodLayers(
  catalog: string,
  aws: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): Array<{ stack: string; config: Record<string, string> }> {
  return [
    {
      stack: "prod-infra",
      config: {
        ...prodConfig(catalog, { layer: "infrastructure", runner: RUNNER, ...aws }),
        "platform:environment": "prod",
        ...extra,
      },
    },
    {
      stack: "prod",
      config: {
        ...prodConfig(catalog, { layer: "platform", ...aws }),
        // A name no built-in catalog has is for withCatalogFileLayers, which fills in its file's.
        "platform:images": JSON.stringify(
          BUILTIN_CATALOGS.includes(catalog as BuiltinCatalog)
            ? publishedImages(loadCatalog(builtinCatalogPath(catalog as BuiltinCatalog)))
            : {},
        ),
        ...extra,
      },
    },
  ];
}
