import { strict as assert } from "assert";
import { loadCatalog } from "../services/load";
import { platformContractCatalog, receivedEnvironment } from "./helpers/envContract";
import { withCatalogFile, withCatalogFileLayers } from "./helpers/catalogFiles";
import { PLATFORM_ENV, dependencyUrlEnv } from "../services/validate";
import { SENTRY_DSN, devConfig, prodLayers } from "./helpers/stackConfigs";
import { runStack } from "../tools/stackRun";

// Reservei uses every part of the contract; here on the platform's names instead of the seed's own.
const catalogFile = platformContractCatalog("reservei");
const catalog = loadCatalog(catalogFile);

describe("names the platform sets on services", () => {
  it("are exactly the names a catalog may not use (PLATFORM_ENV), on both targets and in every cache mode", async () => {
    const withSentry = { "platform:sentryDsn": SENTRY_DSN };
    // One after the other: the mocks are process-wide.
    const runs = [
      [{ stack: "dev", config: withCatalogFile({ ...devConfig("reservei"), ...withSentry }, catalogFile) }],
      [{ stack: "single", config: withCatalogFile(devConfig("reservei", { cache: { mode: "single" } }), catalogFile) }],
      withCatalogFileLayers(prodLayers("reservei", {}, withSentry), catalogFile),
    ];
    const setByPlatform = new Set<string>();
    for (const layers of runs) {
      const resources = (await runStack(layers)).all;
      const names = (service: string) => Object.keys(receivedEnvironment(resources, service));
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
