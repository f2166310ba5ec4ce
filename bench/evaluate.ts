// One measurement in a fresh process: evaluate the program for a catalog under mocks, then
// report peak memory (the parent times the whole process).
import * as path from "path";
import { runLayersUnderMocks, runUnderMocks } from "../tools/mockRun";
import { runProgram } from "../stacks/program";
import { loadCatalog } from "../services/load";

async function main(): Promise<void> {
  const [target, catalogFile] = process.argv.slice(2);
  const config: Record<string, string> = { "platform:target": target, "platform:catalogFile": catalogFile };
  const aws = {
    owner: "bench",
    costCenter: "bench",
    gatewayCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/bench",
    gatewayDomain: "api.bench.example.com",
    runner: { githubRepository: "bench/platform" },
  };
  // Stand-ins for the values a user sets with `pulumi config set --secret`.
  const secrets: Record<string, Record<string, string>> = {};
  for (const service of loadCatalog(catalogFile).services) {
    for (const secret of service.secrets.filter((s) => s.source === "config"))
      (secrets[service.name] ??= {})[secret.name] = "bench-value";
  }
  config["platform:serviceSecrets"] = JSON.stringify(secrets);
  const program = () => runProgram(path.join(__dirname, ".."));
  // Prod is two stacks: the infrastructure layer, then the platform layer reading its outputs.
  const layer = (name: string) => ({ ...config, "platform:aws": JSON.stringify({ ...aws, layer: name }) });
  const run =
    target === "aws"
      ? await runLayersUnderMocks(
          [
            { stack: "bench-infra", config: { ...layer("infrastructure"), "platform:environment": "bench" } },
            { stack: "bench", config: layer("platform") },
          ],
          program,
        )
      : await runUnderMocks("bench", config, program);
  process.stderr.write(`${run.resources.length} resources\n`);
  console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
