// The SDK floor, in a fresh process: the resources a program run declared (evaluate.ts --record),
// declared again straight through the SDKs' resource classes under the same mocks, with the same
// inputs, parents and providers, and none of the platform's code (config, catalog, rendering).
// What the SDKs cost for those resources (class loading, construction, outputs, serialization,
// mocked registration) bounds how close the program can get to the bare SDK load.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { runUnderMocks } from "../tools/mockRun";
import { Declaration, report } from "./report";

const PROVIDER_PACKAGES: Record<string, string> = {
  aws: "@pulumi/aws",
  kubernetes: "@pulumi/kubernetes",
  rabbitmq: "@pulumi/rabbitmq",
  random: "@pulumi/random",
  postgresql: "@pulumi/postgresql",
  docker: "@pulumi/docker",
};

type ResourceClass = new (name: string, args: unknown, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/**
 * The SDK class of a type token: `aws:ec2/vpc:Vpc` is aws.ec2.Vpc, `kubernetes:apps/v1:Deployment`
 * is kubernetes.apps.v1.Deployment, `pulumi:providers:aws` is aws.Provider; undefined for a type
 * without one (custom resource definitions), declared as a generic CustomResource instead.
 */
function resourceClass(type: string): ResourceClass | undefined {
  const [pkg, module, name] = type.split(":");
  if (pkg === "pulumi" && module === "providers") return require(PROVIDER_PACKAGES[name]).Provider;
  if (!PROVIDER_PACKAGES[pkg]) return undefined;
  const [group, version] = module.split("/");
  let scope = require(PROVIDER_PACKAGES[pkg]);
  if (group !== "index") scope = scope[group.split(".")[0]];
  if (pkg === "kubernetes") scope = scope?.[version];
  return scope?.[name];
}

/** A provider reference is `<urn>::<id>`. */
const providerUrn = (reference: string) => reference.slice(0, reference.lastIndexOf("::"));

/** A custom resource definition's objects (PodMonitor) have no SDK class: a generic custom resource. */
class GenericResource extends pulumi.CustomResource {}

function construct(d: Declaration, opts: pulumi.CustomResourceOptions): pulumi.Resource {
  if (!d.custom) return new pulumi.ComponentResource(d.type, d.name, {}, opts);
  const Class = resourceClass(d.type);
  return Class ? new Class(d.name, d.inputs, opts) : new GenericResource(d.type, d.name, d.inputs, opts);
}

function declare(declarations: Declaration[]): void {
  const byUrn = new Map<string, pulumi.Resource>();
  for (const d of declarations) {
    const provider = d.provider ? byUrn.get(providerUrn(d.provider)) : undefined;
    byUrn.set(d.urn, construct(d, { parent: byUrn.get(d.parent), provider: provider as pulumi.ProviderResource }));
  }
}

async function main(): Promise<void> {
  const declarations = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Declaration[];
  let declared = 0;
  for (const stack of new Set(declarations.map((d) => d.stack))) {
    const run = await runUnderMocks(stack, {}, () => declare(declarations.filter((d) => d.stack === stack)));
    declared += run.resources.length;
  }
  report(declared);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
