// One measurement in a fresh process: evaluate a program under mocks and report time and memory.
import * as path from "path";

async function main(): Promise<void> {
  const [what, target, catalogFile] = process.argv.slice(2);
  const started = process.hrtime.bigint();
  if (what === "sdk-load") {
    for (const sdk of ["@pulumi/pulumi", "@pulumi/docker", "@pulumi/aws", "@pulumi/kubernetes", "@pulumi/random", "@pulumi/rabbitmq", "@pulumi/postgresql"]) require(sdk);
  } else {
    const { runUnderMocks } = await import("../tools/mockRun");
    const { runProgram } = await import("../stacks/program");
    const config: Record<string, string> = { "platform:target": target, "platform:catalogFile": catalogFile };
    if (target === "aws") {
      config["platform:aws"] = JSON.stringify({ owner: "bench", costCenter: "bench", gatewayCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/bench" });
    }
    // Stand-ins for the values a user sets with `pulumi config set --secret`.
    const { loadCatalog } = await import("../services/load");
    const secrets: Record<string, Record<string, string>> = {};
    for (const service of loadCatalog(catalogFile).services) {
      for (const secret of service.secrets.filter((s) => s.source === "config")) (secrets[service.name] ??= {})[secret.name] = "bench-value";
    }
    config["platform:serviceSecrets"] = JSON.stringify(secrets);
    const run = await runUnderMocks("bench", config, () => runProgram(path.join(__dirname, "..")));
    process.stderr.write(`${run.resources.length} resources\n`);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((e) => { console.error(e); process.exit(1); });
