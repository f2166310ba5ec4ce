import { strict as assert } from "assert";
import * as path from "path";
import { runProgram, StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { SECRET_CHECKSUM_ANNOTATION } from "../components/kubernetes/checksum";
import { LayeredRun, RecordedResource, isSecretOnWire, ofType, runLayersUnderMocks } from "../tools/mockRun";
import { seedProdRun } from "./helpers/prodRuns";
import { CONFIG_SECRETS, prodLayers } from "./helpers/stackConfigs";
import { dataHash, wireAnnotation } from "./helpers/secretChecksum";

// Kubernetes restarts no pod when a Secret it reads as env changes: without a hash of the Secret's
// data in the pod template, a rotated password or a new credential reaches the pods only once
// something else rolls them.

const projectDir = path.join(__dirname, "..");
const SECRET = "kubernetes:core/v1:Secret";

/** The Secrets a pod template reads: as env (all keys or some) and as files. */
function secretsRead(template: any): string[] {
  const containers = [...(template.spec.initContainers ?? []), ...template.spec.containers];
  return [
    ...new Set([
      ...containers.flatMap((c: any) => (c.envFrom ?? []).map((from: any) => from.secretRef?.name)),
      ...containers.flatMap((c: any) => (c.env ?? []).map((env: any) => env.valueFrom?.secretKeyRef?.name)),
      ...(template.spec.volumes ?? []).map((volume: any) => volume.secret?.secretName),
    ]),
  ].filter((name) => name !== undefined);
}

/** The workloads the program declares itself that read a Secret, each with that Secret. */
function secretReaders(run: LayeredRun<StackOutputs>): Array<{ workload: RecordedResource; secret: RecordedResource }> {
  const secrets = ofType(run.resources, SECRET);
  return ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"]
    .flatMap((type) => ofType(run.resources, type))
    .flatMap((workload) => {
      const { namespace } = workload.inputs.metadata;
      return secretsRead(workload.inputs.spec.template).map((name) => ({
        workload,
        secret: secrets.find((s) => s.inputs.metadata.name === name && s.inputs.metadata.namespace === namespace)!,
      }));
    });
}

const checksumOf = (workload: RecordedResource) =>
  workload.inputs.spec.template.metadata.annotations?.[SECRET_CHECKSUM_ANNOTATION];

/** Each catalog service's checksum, by service. */
function serviceChecksums(run: LayeredRun<StackOutputs>, catalog: string): Record<string, string> {
  return Object.fromEntries(
    ofType(run.resources, "kubernetes:apps/v1:Deployment")
      .filter((d) => d.inputs.metadata.namespace === catalog)
      .map((d) => [d.inputs.metadata.name, checksumOf(d)]),
  );
}

describe("pods roll when the Secret they read as env changes (prod, under mocks)", function () {
  this.timeout(120_000);

  for (const name of BUILTIN_CATALOGS) {
    it(`${name}: every service's and in-cluster database's pods carry the hash of their Secret's data, not secret`, async () => {
      const run = await seedProdRun(name);
      const catalog = loadCatalog(builtinCatalogPath(name));
      const readers = secretReaders(run);
      // The json_exporter's login is a mounted file its HTTP client reads per request; its config has its own hash.
      const env = readers.filter(({ workload }) => workload.inputs.metadata.name !== "queue-depth-exporter");
      const services = env.filter(({ workload }) => workload.inputs.metadata.namespace === catalog.name);
      assert.deepEqual(
        services.map(({ workload }) => workload.inputs.metadata.name).sort(),
        catalog.services.map((s) => s.name).sort(),
        "each service reads its own Secret",
      );
      const databases = ofType(run.resources, "kubernetes:apps/v1:StatefulSet");
      assert.ok(
        databases.every((db) => env.some(({ workload }) => workload === db)),
        "each in-cluster database reads its credentials Secret",
      );
      for (const { workload, secret } of env) {
        const where = `${workload.type} ${workload.inputs.metadata.name}`;
        assert.ok(secret, `${where}: its Secret is the program's`);
        assert.equal(checksumOf(workload), dataHash(secret.inputs.stringData), where);
        assert.ok(!isSecretOnWire(wireAnnotation(workload, SECRET_CHECKSUM_ANNOTATION)), where);
      }
    });
  }

  it("finance: a rotated config secret changes its service's checksum only; the same config changes none", async () => {
    const rotate = (secrets: Record<string, Record<string, string>>) =>
      runLayersUnderMocks(prodLayers("finance", {}, { "platform:serviceSecrets": JSON.stringify(secrets) }), () =>
        runProgram(projectDir),
      );
    const before = serviceChecksums(await seedProdRun("finance"), "finance");
    const same = serviceChecksums(await rotate(CONFIG_SECRETS.finance), "finance");
    const rotated = serviceChecksums(
      await rotate({ "ai-service": { OPENAI_API_KEY: "sk-rotated-finance" } }),
      "finance",
    );
    assert.ok(Object.values(before).every((checksum) => /^[0-9a-f]{64}$/.test(checksum)));
    assert.deepEqual(same, before, "nothing changed, nothing rolls");
    assert.notEqual(rotated["ai-service"], before["ai-service"], "the rotated key rolls its service");
    assert.deepEqual({ ...rotated, "ai-service": undefined }, { ...before, "ai-service": undefined }, "and no other");
  });
});
