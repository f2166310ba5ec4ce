import * as fs from "fs";
import * as path from "path";
import { BUILTIN_CATALOGS } from "../services/load";
import { runStack } from "./stackRun";
import { runCli } from "./cli";
import { devConfig, prodLayers } from "../test/helpers/stackConfigs";

/**
 * Writes, per built-in catalog and stack (dev, prod), every resource the program declares under
 * mocks: type, name, parent, dependencies and inputs, sorted. Two dumps diffed show what a change
 * did to the rendered resources (`npm run dump -- <dir>`, then `diff -r`).
 */
type Layers = Array<{ stack: string; config: Record<string, string> }>;

const VARIANTS: Array<[string, (catalog: string) => Layers]> = [
  ["dev", (catalog) => [{ stack: "dev", config: devConfig(catalog) }]],
  [
    "dev-light-elk",
    (catalog) => [
      {
        stack: "dev",
        config: {
          ...devConfig(catalog),
          "platform:docker": JSON.stringify({
            profile: "light",
            devTools: { adminer: true, redisCommander: true },
            hostPorts: { adminer: 18080, redisCommander: 18081 },
            cache: { mode: "single" },
            gatewayDatabase: "off",
          }),
          "platform:gateway": JSON.stringify({ auth: "key-auth" }),
          "platform:observability": JSON.stringify({ logs: "elk" }),
        },
      },
    ],
  ],
  ["prod", (catalog) => prodLayers(catalog)],
  [
    "prod-variants",
    (catalog) =>
      prodLayers(catalog, {
        natGateways: "single",
        rds: { mode: "shared", bootstrap: "provider" },
        broker: { mode: "in-cluster" },
        mongodb: { mode: "documentdb" },
      }),
  ],
];

async function main(outDir: string): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [variant, layersOf] of VARIANTS) {
    for (const catalog of BUILTIN_CATALOGS) {
      // Every layer's resources: a prod dump holds the infrastructure and the platform stack.
      const { all } = await runStack(layersOf(catalog));
      const urnName = (urn: string) => urn.split("::").slice(-1)[0];
      const rows = all
        .map((r) => ({
          type: r.type,
          name: r.name,
          parent: urnName(r.parent),
          dependencies: r.dependencies.map(urnName).sort(),
          inputs: r.inputs,
        }))
        .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
      fs.writeFileSync(path.join(outDir, `${variant}-${catalog}.json`), JSON.stringify(rows, null, 1));
      console.log(`${variant} ${catalog}: ${rows.length} resources`);
    }
  }
}

runCli(() => main(process.argv[2] ?? "resource-dump").then(() => 0));
