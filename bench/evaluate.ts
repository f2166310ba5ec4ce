// One measurement in a fresh process: evaluate the program for a catalog under mocks, then
// report peak memory (the parent times the whole process).
import * as path from "path";
import { runUnderMocks } from "../tools/mockRun";
import { runProgram } from "../stacks/program";
import { loadCatalog } from "../services/load";

async function main(): Promise<void> {
  const [target, catalogFile] = process.argv.slice(2);
  const config: Record<string, string> = { "platform:target": target, "platform:catalogFile": catalogFile };
  if (target === "aws") {
    config["platform:aws"] = JSON.stringify({
      owner: "bench",
      costCenter: "bench",
      gatewayCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/bench",
    });
  }
  // Stand-ins for the values a user sets with `pulumi config set --secret`.
  const secrets: Record<string, Record<string, string>> = {};
  for (const service of loadCatalog(catalogFile).services) {
    for (const secret of service.secrets.filter((s) => s.source === "config"))
      (secrets[service.name] ??= {})[secret.name] = "bench-value";
  }
  config["platform:serviceSecrets"] = JSON.stringify(secrets);
  const run = await runUnderMocks("bench", config, () => runProgram(path.join(__dirname, "..")));
  process.stderr.write(`${run.resources.length} resources\n`);
  console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
