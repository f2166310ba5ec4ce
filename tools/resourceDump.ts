import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../stacks/program";
import { BUILTIN_CATALOGS } from "../services/load";
import { runLayersUnderMocks, runUnderMocks } from "./mockRun";
import { TEST_CA_BUNDLE, devConfig, prodLayers } from "../test/helpers/stackConfigs";

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
        mongodb: { mode: "documentdb", caBundleFile: TEST_CA_BUNDLE },
      }),
  ],
];

async function main(outDir: string): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  const projectDir = path.join(__dirname, "..");
  for (const [variant, layersOf] of VARIANTS) {
    for (const catalog of BUILTIN_CATALOGS) {
      const layers = layersOf(catalog);
      const program = () => runProgram(projectDir);
      const run =
        layers.length > 1
          ? await runLayersUnderMocks(layers, program)
          : await runUnderMocks(layers[0].stack, layers[0].config, program);
      const urnName = (urn: string) => urn.split("::").slice(-1)[0];
      const rows = run.resources
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

main(process.argv[2] ?? "resource-dump").catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
