import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { skipPromiseStackTraces } from "../stacks/promiseTraces";

/** The marker Pulumi's wire format puts on a secret value. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input value travelled to the engine as a secret. */
export function isSecretOnWire(value: unknown): boolean {
  return typeof value === "object" && value !== null && SIG_KEY in value;
}

export interface RecordedResource {
  /** The stack that declared it (prod runs two layers). */
  stack: string;
  type: string;
  name: string;
  urn: string;
  parent: string;
  custom: boolean;
  /** URNs this resource was told to wait for (dependsOn and input dependencies). */
  dependencies: string[];
  /** Per input, the URNs its value came from (what decides whether a replaced resource replaces this one). */
  propertyDependencies?: Record<string, string[]>;
  provider: string;
  /** Names this resource had before (aliases), which keep its state. */
  aliases?: string[];
  /** Resource options the engine enforces: no delete or replacement; left in the cloud when deleted; inputs whose changes are ignored. */
  protect?: boolean;
  retainOnDelete?: boolean;
  ignoreChanges?: string[];
  /** Inputs whose changes replace the resource rather than update it, and whether it goes before its replacement comes. */
  replaceOnChanges?: string[];
  deleteBeforeReplace?: boolean;
  /** Inputs as plain values. */
  inputs: Record<string, any>;
  /** Inputs as sent to the engine, secrets still wrapped; used to prove nothing leaks in plain text. */
  wire: Record<string, unknown>;
}

export interface MockRun<T> {
  result: T;
  resources: RecordedResource[];
  /** Every value a RandomPassword produced in this run. */
  generatedSecrets: string[];
}

export const PROJECT = "microservices-platform";

/** Outputs the cloud would compute, for the resource types whose outputs the program reads. */
const COMPUTED_OUTPUTS: Record<string, (name: string) => Record<string, unknown>> = {
  "aws:eks/cluster:Cluster": (name) => ({
    arn: `arn:aws:eks:eu-west-1:123456789012:cluster/${name}`,
    endpoint: `https://${name}.gr7.eu-west-1.eks.amazonaws.com`,
    certificateAuthority: { data: "Q0VSVA==" },
    identities: [{ oidcs: [{ issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${name.toUpperCase()}` }] }],
    vpcConfig: { clusterSecurityGroupId: "sg-cluster", subnetIds: [], endpointPrivateAccess: true },
  }),
  "aws:eks/addon:Addon": (name) => ({ arn: `arn:aws:eks:eu-west-1:123456789012:addon/${name}` }),
  "aws:rds/instance:Instance": (name) => ({
    address: `${name}.abc.eu-west-1.rds.amazonaws.com`,
    endpoint: `${name}.abc.eu-west-1.rds.amazonaws.com:5432`,
  }),
  "aws:docdb/cluster:Cluster": (name) => ({ endpoint: `${name}.cluster-abc.eu-west-1.docdb.amazonaws.com` }),
  "aws:elasticache/replicationGroup:ReplicationGroup": (name) => ({
    primaryEndpointAddress: `master.${name}.cache.amazonaws.com`,
  }),
  "aws:mq/broker:Broker": (name) => ({
    instances: [
      {
        consoleUrl: `https://${name}.mq.eu-west-1.amazonaws.com`,
        endpoints: [`amqps://${name}.mq.eu-west-1.amazonaws.com:5671`],
        ipAddress: "",
      },
    ],
  }),
  "aws:ecr/repository:Repository": (name) => ({
    repositoryUrl: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${name}`,
    arn: `arn:aws:ecr:eu-west-1:123456789012:repository/${name}`,
  }),
  "aws:kms/key:Key": (name) => ({ arn: `arn:aws:kms:eu-west-1:123456789012:key/${name}`, keyId: name }),
  "aws:iam/role:Role": (name) => ({ arn: `arn:aws:iam::123456789012:role/${name}`, name: `${name}-7c1e2a9` }),
  "aws:secretsmanager/secret:Secret": (name) => ({
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`,
  }),
  "aws:iam/instanceProfile:InstanceProfile": (name) => ({ arn: `arn:aws:iam::123456789012:instance-profile/${name}` }),
  "aws:iam/serviceLinkedRole:ServiceLinkedRole": (name) => ({
    arn: `arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/${name}`,
  }),
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 3 }),
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (name) => ({
    arn: `arn:aws:iam::123456789012:oidc-provider/${name}`,
  }),
  "aws:cloudwatch/logGroup:LogGroup": (name) => ({ arn: `arn:aws:logs:eu-west-1:123456789012:log-group:${name}` }),
  "aws:sns/topic:Topic": (name) => ({ arn: `arn:aws:sns:eu-west-1:123456789012:${name}` }),
  "aws:s3/bucket:Bucket": (name) => ({
    arn: `arn:aws:s3:::${name}-0123`,
    bucket: `${name}-0123`,
    bucketRegionalDomainName: `${name}-0123.s3.eu-west-1.amazonaws.com`,
  }),
  "aws:cloudfront/distribution:Distribution": (name) => ({
    arn: `arn:aws:cloudfront::123456789012:distribution/${name}`,
    domainName: `${name}.cloudfront.net`,
  }),
  "aws:cloudfront/function:Function": (name) => ({ arn: `arn:aws:cloudfront::123456789012:function/${name}` }),
  "aws:wafv2/webAcl:WebAcl": (name) => ({ arn: `arn:aws:wafv2:us-east-1:123456789012:global/webacl/${name}` }),
  "kubernetes:core/v1:Service": () => ({
    status: { loadBalancer: { ingress: [{ hostname: "kong-proxy-0123.elb.eu-west-1.amazonaws.com" }] } },
  }),
};

/**
 * What the engine reports for a built image: a local build's image ID, or a pushed one's
 * `repository@sha256:...`; a digest of what was built, so a different build gets a different one.
 */
function builtImageDigest(inputs: Record<string, any>): string {
  const digest = `sha256:${createHash("sha256").update(JSON.stringify(inputs)).digest("hex")}`;
  return inputs.skipPush ? digest : `${String(inputs.imageName).replace(/:[^:/]+$/, "")}@${digest}`;
}

/** The version EKS would name as an add-on's for a Kubernetes version: made up, but distinct per add-on and version. */
export function addonVersion(addon: string, kubernetesVersion: string): string {
  return `v${kubernetesVersion}.0-${addon}-eksbuild.1`;
}

/** The value a RandomPassword of `stack` named `name` gets under mocks: distinct, recognisable, reproducible. */
export function mockPassword(stack: string, name: string): string {
  return `pw${createHash("sha256").update(`${stack}/${name}`).digest("hex").slice(0, 24)}`;
}

/** The ECR token's password: secret, so the tests can prove it never shows in plain text. */
export const ECR_TOKEN_PASSWORD = "ecr-token-password-0123456789";

/** Answers of the provider functions the program calls, from their arguments where the answer depends on them. */
const INVOKES: Record<string, Record<string, unknown> | ((inputs: Record<string, any>) => Record<string, unknown>)> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": {
    names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
    id: "eu-west-1",
  },
  "aws:index/getCallerIdentity:getCallerIdentity": {
    accountId: "123456789012",
    arn: "arn:aws:iam::123456789012:user/ci",
    userId: "ci",
    id: "123456789012",
  },
  "aws:index/getPartition:getPartition": { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" },
  // The caller above is an IAM user: its own ARN is the issuer's.
  "aws:iam/getSessionContext:getSessionContext": (inputs) => ({
    arn: inputs.arn,
    issuerArn: inputs.arn,
    issuerId: "ci",
    issuerName: "ci",
    sessionName: "",
    id: inputs.arn,
  }),
  "aws:eks/getAddonVersion:getAddonVersion": (inputs) => ({
    addonName: inputs.addonName,
    kubernetesVersion: inputs.kubernetesVersion,
    version: addonVersion(inputs.addonName, inputs.kubernetesVersion),
    id: inputs.addonName,
  }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
    userName: "AWS",
    password: ECR_TOKEN_PASSWORD,
    authorizationToken: Buffer.from(`AWS:${ECR_TOKEN_PASSWORD}`).toString("base64"),
    proxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    expiresAt: "2030-01-01T00:00:00Z",
    id: "eu-west-1",
  },
};

/**
 * The program run the way Pulumi documents for unit tests, for the tests and for tools that
 * inspect what a stack would declare (the offline policy check, the deploy plan).
 *
 * Runs `program` under pulumi.runtime.setMocks with the given stack config and waits until every
 * resource has been registered. Random passwords get distinct, recognisable values.
 */
export async function runUnderMocks<T>(
  stack: string,
  config: Record<string, string>,
  program: () => T,
  /** What a StackReference reads: the referenced stack's outputs, and which of them are secret. */
  reference?: { outputs: Record<string, unknown>; secretOutputNames: string[] },
): Promise<MockRun<T>> {
  const resources: RecordedResource[] = [];
  const generatedSecrets: string[] = [];
  // Components built outside runProgram (the component tests) get the same fast path.
  skipPromiseStackTraces();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
          const value = mockPassword(stack, args.name);
          generatedSecrets.push(value);
          // The engine marks `result` secret (additionalSecretOutputs); mocks have no engine, so do it here.
          state.result = pulumi.secret(value);
        }
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:${args.inputs.name}`;
        if (args.type === "docker:index/image:Image") state.repoDigest = builtImageDigest(args.inputs);
        // A one-shot container the provider waited for (attach) reports how it exited: here, successfully.
        if (args.type === "docker:index/container:Container" && args.inputs.attach) state.exitCode = 0;
        if (args.type === "pulumi:pulumi:StackReference") {
          if (!reference) throw new Error(`no mock outputs for stack reference ${args.inputs.name}`);
          Object.assign(state, reference);
        }
        Object.assign(state, COMPUTED_OUTPUTS[args.type]?.(args.name));
        return { id: args.id || `${args.name}-id`, state };
      },
      call(args) {
        const answer = INVOKES[args.token];
        if (!answer) throw new Error(`no mock answer for invoke ${args.token}`);
        return typeof answer === "function" ? answer(args.inputs) : answer;
      },
    },
    PROJECT,
    stack,
    false,
    // What the self-managed backends (file, S3) call every stack's organization.
    "organization",
  );

  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    const wire = req.getObject().toJavaScript();
    const record: RecordedResource = {
      stack,
      type: req.getType(),
      name: req.getName(),
      urn: "",
      parent: req.getParent(),
      custom: req.getCustom(),
      dependencies: req.getDependenciesList(),
      propertyDependencies: Object.fromEntries(
        req
          .toObject()
          .propertydependenciesMap.map(([input, deps]: [string, { urnsList: string[] }]) => [input, deps.urnsList]),
      ),
      provider: req.getProvider(),
      aliases: req
        .getAliasesList()
        .map((alias: any) => alias.toObject().spec?.name)
        .filter(Boolean),
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace() ?? false,
      inputs: unwrapSecrets(wire) as Record<string, any>,
      wire,
    };
    resources.push(record);
    return register(req, (err: unknown, response: any) => {
      if (response) record.urn = response.getUrn();
      callback(err, response);
    });
  };

  const result = program();
  // Resolves once every registration the program started (components and children) is done.
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { result, resources, generatedSecrets };
}

/** Both prod layers under mocks: the infrastructure stack, then the platform stack reading its outputs. */
export interface LayeredRun<T> extends MockRun<T> {
  infrastructure: MockRun<T>;
  platform: MockRun<T>;
}

/**
 * Runs the infrastructure stack, hands its outputs (secrets marked) to the platform stack's
 * StackReference, runs the platform stack, and returns both with their resources together.
 */
export async function runLayersUnderMocks<T extends object>(
  layers: { stack: string; config: Record<string, string> }[],
  program: () => T,
): Promise<LayeredRun<T>> {
  const [infrastructureLayer, platformLayer] = layers;
  const infrastructure = await runUnderMocks(infrastructureLayer.stack, infrastructureLayer.config, program);
  const outputs: Record<string, unknown> = {};
  const secretOutputNames: string[] = [];
  for (const [key, value] of Object.entries(infrastructure.result)) {
    if (value === undefined) continue;
    // Resolves nested outputs too (an object of outputs), as the engine does for stack outputs.
    const resolved = await valueOf(pulumi.output(value) as pulumi.Output<unknown>);
    outputs[key] = resolved.value;
    if (resolved.secret) secretOutputNames.push(key);
  }
  const platform = await runUnderMocks(platformLayer.stack, platformLayer.config, program, {
    outputs,
    secretOutputNames,
  });
  return {
    infrastructure,
    platform,
    result: { ...infrastructure.result, ...platform.result },
    resources: [...infrastructure.resources, ...platform.resources],
    generatedSecrets: [...infrastructure.generatedSecrets, ...platform.generatedSecrets],
  };
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Paths (`type/name.field...`) where one of `secrets` occurs outside a secret-wrapped value. */
export function plaintextOccurrences(resources: RecordedResource[], secrets: string[]): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === "string") {
      if (secrets.some((secret) => value.includes(secret))) found.push(path);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      if (record[SIG_KEY] === SECRET_SIG) return;
      for (const [k, v] of Object.entries(record)) walk(v, `${path}.${k}`);
    }
  };
  for (const r of resources) walk(r.wire, `${r.type}/${r.name}`);
  return found;
}

export async function valueOf<T>(output: pulumi.Output<T>): Promise<{ value: T; secret: boolean }> {
  const [value, secret] = await Promise.all([
    new Promise<T>((resolve) =>
      output.apply((v) => {
        resolve(v);
        return v;
      }),
    ),
    pulumi.isSecret(output),
  ]);
  return { value, secret };
}

export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}
