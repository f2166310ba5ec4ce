// What the bench evaluates: generated catalogs and the stack config each row runs the program with.
import { loadCatalog } from "../services/load";
// The references a prod team sets once its images exist; the platform layer refuses a name without a registry.
import { publishedImages } from "../test/helpers/stackConfigs";

/** Generated catalog sizes of the scaling rows; the smoke run takes the smallest only. */
export const SIZES = [5, 20, 50, 200];

export type BenchTarget = "docker" | "aws";

/** One stack the program runs for: dev is one, prod is two layers (infrastructure, then platform). */
export interface BenchStack {
  stack: string;
  config: Record<string, string>;
}

/** A valid catalog of n services: each with a database, cache, a route, publishing one key the next consumes. */
export function generatedCatalog(n: number): Record<string, unknown> {
  return {
    name: `bench${n}`,
    services: Array.from({ length: n }, (_, i) => ({
      name: `svc-${i}`,
      image: `bench/svc-${i}:1.0.0`,
      port: 20000 + i,
      resources: { cpu: "100m", memory: "128Mi" },
      database: { kind: "postgres" },
      cache: true,
      events: {
        publishes: [`d${i}.entity.created`],
        consumes:
          i > 0
            ? [
                {
                  name: "upstream",
                  bindings: [`d${i - 1}.entity.created`],
                  retry: { maxAttempts: 2, initialDelayMs: 1000 },
                },
              ]
            : [],
      },
      routes: [{ paths: [`/s${i}`] }],
    })),
  };
}

/** The prod settings every prod row shares (test/helpers/stackConfigs.ts has the same shape). */
const AWS_SETTINGS = {
  region: "eu-west-1",
  owner: "bench",
  costCenter: "bench",
  gatewayCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/bench",
  gatewayDomain: "api.bench.example.com",
};

/** Stand-ins for the receivers a prod stack must have (its secrets set with --secret). */
const ALERTING = {
  email: { to: ["oncall@example.com"], from: "alerts@example.com", smarthost: "smtp.example.com:587" },
};

/**
 * The dev containers' memory limits must fit `docker.memoryBudget` (8 GiB by default), a check about
 * the developer's machine; 200 generated services ask for about 100 GiB. The bench measures the
 * program's evaluation, so its dev stacks declare a budget no generated catalog reaches.
 */
const DOCKER_SETTINGS = { memoryBudget: "1024Gi" };

/** Stand-ins for the values a user sets with `pulumi config set --secret` for the catalog's config secrets. */
function configSecrets(catalogFile: string): Record<string, Record<string, string>> {
  const secrets: Record<string, Record<string, string>> = {};
  for (const service of loadCatalog(catalogFile).services) {
    for (const secret of service.secrets.filter((s) => s.source === "config"))
      (secrets[service.name] ??= {})[secret.name] = "bench-value";
  }
  return secrets;
}

/** The stacks a row runs the program for, as `pulumi up` would get their config. */
export function benchStacks(target: BenchTarget, catalogFile: string): BenchStack[] {
  const shared = {
    "platform:target": target,
    "platform:catalogFile": catalogFile,
    "platform:serviceSecrets": JSON.stringify(configSecrets(catalogFile)),
  };
  if (target === "docker") {
    return [{ stack: "bench", config: { ...shared, "platform:docker": JSON.stringify(DOCKER_SETTINGS) } }];
  }
  const layer = (name: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ ...AWS_SETTINGS, layer: name, ...extra });
  // The generated fleets grow past the default node group; the ceiling is not what the rows measure.
  const fleet = { eks: { maxNodes: 100 } };
  const prodShared = { ...shared, "platform:alerting": JSON.stringify(ALERTING) };
  return [
    {
      stack: "bench-infra",
      config: {
        ...prodShared,
        "platform:aws": layer("infrastructure", { runner: { githubRepository: "bench/platform" }, ...fleet }),
        "platform:environment": "bench",
      },
    },
    {
      stack: "bench",
      config: {
        ...prodShared,
        "platform:aws": layer("platform"),
        "platform:images": JSON.stringify(publishedImages(loadCatalog(catalogFile))),
      },
    },
  ];
}
