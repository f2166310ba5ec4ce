import { strict as assert } from "assert";
import { loadCatalog } from "../services/load";
import { platformContractCatalog } from "./helpers/envContract";
import { withCatalogFile, withCatalogFileLayers } from "./helpers/catalogFiles";
import { PLATFORM_ENV, dependencyUrlEnv } from "../services/validate";
import { SENTRY_DSN, devConfig, prodLayers } from "./helpers/stackConfigs";
import { RecordedResource, ofType } from "../tools/mockRun";
import { runStack } from "../tools/stackRun";

// Reservei uses every part of the contract; here on the platform's names instead of the seed's own.
const catalogFile = platformContractCatalog("reservei");
const catalog = loadCatalog(catalogFile);

/** Names of the variables a service's container gets, on each target. */
const dockerEnvNames = (resources: RecordedResource[], container: string) =>
  (
    (ofType(resources, "docker:index/container:Container").find((c) => c.inputs.name === container)?.inputs.envs ??
      []) as string[]
  ).map((e) => e.slice(0, e.indexOf("=")));
const kubernetesEnvNames = (resources: RecordedResource[], service: string) => {
  const named = (type: string) =>
    ofType(resources, type).find(
      (r) => r.inputs.metadata?.name === service && r.inputs.metadata?.namespace === catalog.name,
    )!.inputs;
  return [
    ...named("kubernetes:apps/v1:Deployment").spec.template.spec.containers[0].env.map((e: { name: string }) => e.name),
    ...Object.keys(named("kubernetes:core/v1:Secret").stringData),
  ];
};

describe("names the platform sets on services", () => {
  it("are exactly the names a catalog may not use (PLATFORM_ENV), on both targets and in every cache mode", async () => {
    const withSentry = { "platform:sentryDsn": SENTRY_DSN };
    // One after the other: the mocks are process-wide.
    const runs = [
      {
        layers: [{ stack: "dev", config: withCatalogFile({ ...devConfig("reservei"), ...withSentry }, catalogFile) }],
        names: (r: RecordedResource[], s: string) => dockerEnvNames(r, `reservei-dev-${s}`),
      },
      {
        layers: [
          {
            stack: "single",
            config: withCatalogFile(devConfig("reservei", { cache: { mode: "single" } }), catalogFile),
          },
        ],
        names: (r: RecordedResource[], s: string) => dockerEnvNames(r, `reservei-single-${s}`),
      },
      {
        layers: withCatalogFileLayers(prodLayers("reservei", {}, withSentry), catalogFile),
        names: kubernetesEnvNames,
      },
    ];
    const setByPlatform = new Set<string>();
    for (const run of runs) {
      const resources = (await runStack(run.layers)).all;
      const names = (service: string) => run.names(resources, service);
      for (const service of catalog.services) {
        const own = new Set([
          ...Object.keys(service.env),
          ...service.secrets.map((s) => s.name),
          ...service.dependsOn.map(dependencyUrlEnv),
        ]);
        const found = names(service.name);
        assert.ok(found.length > 0, `no environment found for ${service.name}`);
        for (const name of found) if (!own.has(name)) setByPlatform.add(name);
      }
    }
    const reserved = new Set<string>(PLATFORM_ENV);
    assert.deepEqual(
      [...setByPlatform].filter((name) => !reserved.has(name)).sort(),
      [],
      "set by the platform but not reserved: a catalog could set it and lose its value",
    );
    assert.deepEqual(
      [...reserved].filter((name) => !setByPlatform.has(name)).sort(),
      [],
      "reserved but never set: a stale name",
    );
  });
});
