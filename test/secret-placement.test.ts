// Secrets of the prod program live in Secrets only, and the master passwords out of the services'
// reach (#25 item 9): no ConfigMap holds a secret value, counting the chart values each chart
// renders into a ConfigMap (policies/secrets/chartConfigMaps.ts names them, by template); the RDS
// and DocumentDB master passwords reach the cluster only as Secrets of the login Jobs' own namespace.
import { strict as assert } from "assert";
import * as path from "path";
import { BUILTIN_CATALOGS } from "../services/load";
import { runProgram } from "../stacks/program";
import { BOOTSTRAP_NAMESPACE } from "../components/aws/AwsPlatform";
import { configMapValues } from "../policies/secrets/chartConfigMaps";
import {
  ECR_TOKEN_PASSWORD,
  LayeredRun,
  RecordedResource,
  mockPassword,
  ofType,
  runLayersUnderMocks,
} from "../tools/mockRun";
import { StackOutputs } from "../stacks/program";
import { ALERTING, CONFIG_SECRETS, prodLayers, ROOMY_NODE_GROUP } from "./helpers/stackConfigs";

const projectDir = path.join(__dirname, "..");
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Both layers of a seed with every store that takes a master password on the cluster's side: RDS and DocumentDB. */
function run(catalog: string, logs: "loki" | "elk"): Promise<LayeredRun<StackOutputs>> {
  const layers = prodLayers(
    catalog,
    { mongodb: { mode: "documentdb" }, eks: ROOMY_NODE_GROUP },
    { "platform:observability": JSON.stringify({ logs }) },
  );
  return runLayersUnderMocks(layers, () => runProgram(projectDir));
}

/** Every secret value of the run: what @pulumi/random made on both layers, and what the stack config set with --secret. */
function secretValues(catalog: string, stack: LayeredRun<StackOutputs>): string[] {
  const configSecrets = Object.values(CONFIG_SECRETS[catalog] ?? {}).flatMap((values) => Object.values(values));
  const receivers = [
    ALERTING.slack.webhookUrl,
    ALERTING.email.authPassword,
    ALERTING.pagerduty.routingKey,
    ALERTING.pagerduty.cloudwatchUrl,
  ];
  return [...stack.generatedSecrets, ...configSecrets, ...receivers, ECR_TOKEN_PASSWORD];
}

/** Where one of `secrets` shows in `value` (as JSON text), named `where`. */
function occurrences(where: string, value: unknown, secrets: string[]): string[] {
  const text = JSON.stringify(value ?? null);
  return secrets.some((secret) => text.includes(secret)) ? [where] : [];
}

/** The values of the master passwords the infrastructure layer made for RDS and DocumentDB. */
function masterPasswords(stack: LayeredRun<StackOutputs>): Array<{ of: string; value: string }> {
  return ofType(stack.infrastructure.resources, "random:index/randomPassword:RandomPassword")
    .filter((r) => /platform:aws:(RdsDatabases|DocumentDb)::/.test(r.parent) && r.name.endsWith("-admin-password"))
    .map((r) => ({ of: r.name, value: mockPassword(r.stack, r.name) }));
}

const kubernetesResources = (resources: RecordedResource[]) =>
  resources.filter((r) => r.type.startsWith("kubernetes:"));

describe("secrets in plain places, prod", function () {
  this.timeout(120_000);

  for (const catalog of BUILTIN_CATALOGS) {
    for (const logs of ["loki", "elk"] as const) {
      it(`${catalog}, logs ${logs}: no ConfigMap, nor a chart value its chart renders into one, holds a secret value`, async () => {
        const stack = await run(catalog, logs);
        const secrets = secretValues(catalog, stack);
        const found = [
          ...ofType(stack.resources, CONFIG_MAP).flatMap((map) =>
            occurrences(`ConfigMap ${map.name}`, map.inputs.data, secrets),
          ),
          ...ofType(stack.resources, RELEASE).flatMap((release) =>
            configMapValues(release.inputs.chart, release.inputs.values).flatMap(({ path: at, value }) =>
              occurrences(`${release.inputs.chart} values ${at.join(".")}`, value, secrets),
            ),
          ),
        ];
        assert.deepEqual(found, []);
        if (logs === "elk") {
          // Not vacuous: Grafana's datasources are among the values looked at, and the reader's password among the secrets.
          const kps = ofType(stack.resources, RELEASE).find((r) => r.inputs.chart === "kube-prometheus-stack")!;
          const datasources = configMapValues(kps.inputs.chart, kps.inputs.values).find(
            ({ path: at }) => at.join(".") === "grafana.additionalDataSources",
          )!.value as Array<Record<string, any>>;
          const elasticsearch = datasources.find((d) => d.type === "elasticsearch")!;
          assert.equal(elasticsearch.secureJsonData.basicAuthPassword, "${GRAFANA_LOGS_READER_PASSWORD}");
          const reader = ofType(stack.resources, SECRET).find(
            (s) => s.inputs.metadata?.name === "grafana-logs-reader",
          )!;
          assert.ok(secrets.includes(reader.inputs.stringData.password), "the reader's password is a generated one");
        }
      });
    }

    it(`${catalog}: the RDS and DocumentDB master passwords reach the cluster only as Secrets of the login Jobs' namespace`, async () => {
      const stack = await run(catalog, "loki");
      const masters = masterPasswords(stack);
      const expected = catalog === "bookings" || catalog === "user-enrichment" ? ["rds", "docdb"] : ["rds"];
      assert.deepEqual(
        expected.filter((kind) => !masters.some((m) => m.of.includes(`-${kind}-`))),
        [],
        masters.map((m) => m.of).join(", "),
      );
      const cluster = kubernetesResources(stack.platform.resources);
      for (const master of masters) {
        const holders = cluster.filter((r) => JSON.stringify(r.inputs).includes(master.value));
        assert.ok(holders.length > 0, `${master.of}: a login Job reads it`);
        for (const holder of holders) {
          assert.deepEqual(
            [holder.type, holder.inputs.metadata?.namespace],
            [SECRET, BOOTSTRAP_NAMESPACE],
            `${master.of} in ${holder.type} ${holder.name}`,
          );
        }
      }
      assert.notEqual(BOOTSTRAP_NAMESPACE, catalog);
      // The namespace denies all traffic but what its Jobs need, and the program grants nobody a role to read it.
      const policies = ofType(cluster, "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter(
        (p) => p.inputs.metadata.namespace === BOOTSTRAP_NAMESPACE,
      );
      assert.ok(
        policies.some(
          (p) => p.inputs.metadata.name === "default-deny" && p.inputs.spec.podSelector.matchLabels === undefined,
        ),
      );
      assert.deepEqual(
        cluster.filter((r) => r.type.includes("rbac.authorization.k8s.io")).map((r) => r.name),
        [],
      );
      // The Jobs that read the Secrets run there too, and nothing of the admin's stays in the services' namespace.
      for (const job of ofType(cluster, "kubernetes:batch/v1:Job").filter((j) => j.name.includes("bootstrap"))) {
        assert.equal(job.inputs.metadata.namespace, BOOTSTRAP_NAMESPACE, job.name);
      }
      assert.deepEqual(
        ofType(cluster, SECRET)
          .filter((s) => s.inputs.metadata?.namespace === catalog)
          .flatMap((s) => Object.keys(s.inputs.stringData ?? {}))
          .filter((key) => /ADMIN|PGPASSWORD/.test(key)),
        [],
      );
    });
  }
});
