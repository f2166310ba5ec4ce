// Where each prod layer is deployed from, and whether it can reach every endpoint its providers talk
// to. The EKS API, Amazon MQ and RDS are private: only the platform layer may use their providers,
// and the workflow must run that layer on the deploy runner inside the VPC.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { runProgram } from "../stacks/program";
import { BUILTIN_CATALOGS } from "../services/load";
import { RecordedResource, runLayersUnderMocks } from "../tools/mockRun";
import { stackConfig } from "../tools/stackConfig";
import { prodLayers } from "./helpers/stackConfigs";

const projectDir = path.join(__dirname, "..");

/**
 * Where the API each provider package talks to lives. A new package must be classified here
 * before either layer may use it.
 */
const PROVIDER_ENDPOINTS: Record<string, "public" | "private" | "none"> = {
  // AWS APIs, and the state backend a StackReference reads.
  aws: "public",
  pulumi: "public",
  random: "none",
  // The cluster's API (endpointPublicAccess false), Amazon MQ's management API (publiclyAccessible
  // false) and RDS (publiclyAccessible false).
  kubernetes: "private",
  rabbitmq: "private",
  postgresql: "private",
};

/** The package whose provider a resource goes through: its type's package, or the provider's own. */
function packageOf(resource: RecordedResource): string {
  const provider = /^pulumi:providers:(.+)$/.exec(resource.type);
  return provider ? provider[1] : resource.type.split(":")[0];
}

/** Resources of a layer that need an endpoint the place it is deployed from cannot reach, or that nobody classified. */
function unreachable(resources: RecordedResource[], reachesPrivate: boolean): string[] {
  return resources.flatMap((resource) => {
    const endpoint = PROVIDER_ENDPOINTS[packageOf(resource)];
    // Component resources make no API call of their own.
    if (!resource.custom && !resource.type.startsWith("pulumi:providers:")) return [];
    if (endpoint === undefined) return [`${resource.type} ${resource.name}: package not classified`];
    if (endpoint === "private" && !reachesPrivate) return [`${resource.type} ${resource.name}: private endpoint`];
    return [];
  });
}

interface WorkflowJob {
  "runs-on": string | string[];
  steps: Array<{ run?: string; with?: Record<string, unknown> }>;
}

/** Every workflow job that deploys or previews a stack, with the stack, the command and where it runs. */
function deployJobs(): Array<{ job: string; stack: string; command?: string; runsOn: string[] }> {
  const workflow = parse(fs.readFileSync(path.join(projectDir, ".github", "workflows", "ci.yml"), "utf8")) as {
    jobs: Record<string, WorkflowJob>;
  };
  return Object.entries(workflow.jobs).flatMap(([job, spec]) =>
    spec.steps.flatMap((step) => {
      const stack = (step.with?.["stack-name"] as string | undefined) ?? /--stack (\S+)/.exec(step.run ?? "")?.[1];
      const command = (step.with?.command as string | undefined) ?? /pulumi (\w+)/.exec(step.run ?? "")?.[1];
      const runsOn = Array.isArray(spec["runs-on"]) ? spec["runs-on"] : [spec["runs-on"]];
      return stack ? [{ job, stack, command, runsOn }] : [];
    }),
  );
}

describe("where each prod layer is deployed from", () => {
  const variants: Array<[string, Record<string, unknown>]> = [
    ["defaults", {}],
    [
      "in-cluster broker, shared RDS by provider, DocumentDB",
      {
        broker: { mode: "in-cluster" },
        rds: { mode: "shared", bootstrap: "provider" },
        mongodb: { mode: "documentdb" },
      },
    ],
  ];
  for (const catalog of BUILTIN_CATALOGS) {
    for (const [variant, aws] of variants) {
      it(`${catalog} (${variant}): the infrastructure layer uses public endpoints only`, async () => {
        const run = await runLayersUnderMocks(prodLayers(catalog, aws), () => runProgram(projectDir));
        assert.deepEqual(unreachable(run.infrastructure.resources, false), []);
        // The platform layer reaches the private ones from the runner; it still uses nothing unclassified.
        assert.deepEqual(unreachable(run.platform.resources, true), []);
        assert.ok(
          run.platform.resources.some((r) => packageOf(r) === "kubernetes"),
          "the platform layer holds the cluster's workloads",
        );
      });
    }
  }

  it("reports a private-endpoint provider in the outside layer, and an unclassified one anywhere (the check can fail)", () => {
    const resource = (type: string): RecordedResource => ({
      stack: "prod-infra",
      type,
      name: "x",
      urn: "",
      parent: "",
      custom: true,
      dependencies: [],
      provider: "",
      inputs: {},
      wire: {},
    });
    assert.deepEqual(
      unreachable(
        [
          resource("kubernetes:core/v1:Namespace"),
          resource("pulumi:providers:rabbitmq"),
          resource("aws:ec2/vpc:Vpc"),
          resource("mysql:index/database:Database"),
        ],
        false,
      ),
      [
        "kubernetes:core/v1:Namespace x: private endpoint",
        "pulumi:providers:rabbitmq x: private endpoint",
        "mysql:index/database:Database x: package not classified",
      ],
    );
  });

  it("the workflow runs the platform stack on the deploy runner and the infrastructure stack anywhere", () => {
    const runner = JSON.parse(stackConfig("prod-infra")["platform:aws"]).runner as { labels: string[] };
    const platformConfig = JSON.parse(stackConfig("prod")["platform:aws"]) as { layer: string; deployFrom?: string };
    assert.equal(platformConfig.layer, "platform");
    assert.equal(platformConfig.deployFrom ?? "runner", "runner");
    const jobs = deployJobs();
    const platformJobs = jobs.filter((j) => j.stack === "prod");
    assert.ok(platformJobs.length >= 2, "the platform layer is previewed on pull requests and deployed on main");
    for (const job of platformJobs) {
      assert.ok(
        job.runsOn.includes("self-hosted") && runner.labels.every((label) => job.runsOn.includes(label)),
        `${job.job} runs the platform stack on ${job.runsOn.join(", ")}, not the deploy runner (${runner.labels.join(", ")})`,
      );
    }
    assert.ok(
      jobs.some((j) => j.stack === "prod-infra"),
      "the infrastructure layer is deployed by the workflow",
    );
    assert.deepEqual(
      jobs.filter((j) => !["prod", "prod-infra", "dev"].includes(j.stack)),
      [],
      "every job that runs a stack runs a known one",
    );
    assert.deepEqual(
      jobs.filter((j) => j.stack === "dev").map((j) => j.command),
      ["preview"],
      "dev is only previewed, against the GitHub runner's own Docker engine",
    );
  });
});
