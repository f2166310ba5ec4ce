import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DeployRunner, DeployRunnerArgs } from "../components/aws/DeployRunner";
import {
  PULUMI_VERSION,
  RUNNER_SHA256,
  RUNNER_VERSION,
  RunnerUserDataInput,
  renderRunnerUserData,
} from "../components/aws/runnerUserData";
import { MockRun, RecordedResource, ofType, runUnderMocks, valueOf } from "../tools/mockRun";
import { hasBinary } from "./helpers/servers";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-prod/deploy-runner/github-token-AbCdEf";

/** Values unlike the pinned constants, so a test can tell the input was used. */
const INPUT: RunnerUserDataInput = {
  githubRepository: "acme/shop-platform",
  labels: ["platform-deploy", "shop-prod"],
  tokenSecretArn: SECRET_ARN,
  region: "eu-central-1",
  runnerVersion: "2.999.1",
  runnerSha256: "ab".repeat(32),
  pulumiVersion: "3.1.2",
};

/** Variables the script keeps a token in, whatever their case. */
const TOKEN_VARIABLES = ["github_token", "registration_token", "ACTIONS_RUNNER_INPUT_TOKEN"];
const mentionsToken = (line: string) =>
  TOKEN_VARIABLES.some((name) => line.includes(`$${name}`) || line.includes(`\${${name}}`));

describe("deploy runner user data (renderRunnerUserData)", () => {
  const script = renderRunnerUserData(INPUT);
  const lines = script.split("\n");

  it("pins the runner, its checksum and the Pulumi CLI to the given versions", () => {
    assert.ok(lines.includes("readonly RUNNER_VERSION='2.999.1'"));
    assert.ok(lines.includes(`readonly RUNNER_SHA256='${"ab".repeat(32)}'`));
    assert.ok(lines.includes("readonly PULUMI_VERSION='3.1.2'"));
    assert.match(script, /releases\/download\/v\$RUNNER_VERSION\/actions-runner-linux-x64-\$RUNNER_VERSION\.tar\.gz/);
    assert.match(script, /printf '%s {2}%s\\n' "\$RUNNER_SHA256" "\$archive" \| sha256sum --check --strict -/);
    assert.match(script, /get\.pulumi\.com \| sh -s -- --version "\$PULUMI_VERSION"/);
    assert.match(script, /^dnf install -y git jq tar libicu nodejs20 nodejs20-npm$/m);
    assert.match(script, /^alternatives --set node \/usr\/bin\/node-20$/m);
    assert.doesNotMatch(script, /2\.337\.0|3\.248\.0/, "the inputs, not the constants, are rendered");
  });

  it("pins real values by default: a runner release with its sha256, the CLI of the installed SDK", () => {
    assert.match(RUNNER_VERSION, /^\d+\.\d+\.\d+$/);
    assert.match(RUNNER_SHA256, /^[0-9a-f]{64}$/);
    const sdk = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")).version;
    assert.equal(PULUMI_VERSION, sdk, "the CLI the runner installs is the SDK's release");
  });

  it("reads the token from the given secret in the given region, for the given repository", () => {
    assert.ok(lines.includes(`readonly TOKEN_SECRET_ARN='${SECRET_ARN}'`));
    assert.ok(lines.includes("readonly REGION='eu-central-1'"));
    assert.match(script, /aws secretsmanager get-secret-value --secret-id "\$TOKEN_SECRET_ARN" --region "\$REGION"/);
    assert.ok(lines.includes("readonly REPOSITORY='acme/shop-platform'"));
    assert.match(script, /"https:\/\/api\.github\.com\/repos\/\$REPOSITORY\/actions\/runners\/registration-token"/);
    assert.match(script, /-X POST -H @-/);
    assert.match(script, /for attempt in \$\(seq 1 120\); do[\s\S]*sleep 30\ndone/, "30 s apart for an hour");
  });

  it("registers unattended with the labels joined, the instance id as name, --replace, then the service", () => {
    assert.ok(lines.includes("readonly LABELS='platform-deploy,shop-prod'"));
    assert.match(script, /\.\/config\.sh --unattended/);
    assert.match(script, /--name "\$instance_id" --labels "\$LABELS" --work _work --replace/);
    assert.match(script, /X-aws-ec2-metadata-token-ttl-seconds: 300' http:\/\/169\.254\.169\.254\/latest\/api\/token/);
    assert.ok(script.indexOf('./svc.sh install "$RUNNER_USER"') > script.indexOf("./config.sh"));
    assert.ok(script.indexOf("./svc.sh start") > script.indexOf("./svc.sh install"));
    assert.match(script, /useradd --create-home --home-dir "\$RUNNER_HOME" --shell \/bin\/bash "\$RUNNER_USER"/);
  });

  it("fails on errors and never traces", () => {
    assert.equal(lines[0], "#!/bin/bash");
    assert.ok(lines.includes("set -euo pipefail"));
    const tracing = lines.filter((line) => /\bset\s+-[a-z]*x|set\s+-o\s+xtrace|bash\s+-[a-z]*x/.test(line));
    assert.deepEqual(tracing, []);
  });

  it("never echoes a token: the only command printing one pipes it into curl", () => {
    // Each simple command of each line (split at ; && || |) that prints and names a token variable.
    const printing = lines.flatMap((line, i) =>
      line
        .split(/;|&&|\|\||\|/)
        .map((command) => command.trim())
        .filter((command) => /^(echo|printf|log|fail|cat|tee)\b/.test(command) && mentionsToken(command))
        .map((command) => ({ command, line, next: lines[i + 1] ?? "" })),
    );
    assert.deepEqual(
      printing.map(({ command }) => command),
      [`printf 'Authorization: Bearer %s\\n' "$github_token"`],
    );
    assert.match(printing[0].line, /\|$/, "piped");
    assert.match(printing[0].next, /^\s*curl .*-H @-/, "into curl, which reads the header from stdin");
    assert.ok(
      lines.filter(mentionsToken).every((line) => !/\becho\b/.test(line)),
      "no echo line mentions a token",
    );
  });

  it("throws naming the field for anything that could reach the shell as code", () => {
    const render = (fields: Partial<RunnerUserDataInput>) => () => renderRunnerUserData({ ...INPUT, ...fields });
    assert.throws(render({ githubRepository: "a/b;rm -rf /" }), /githubRepository/);
    assert.throws(render({ githubRepository: "acme/$(reboot)" }), /githubRepository/);
    assert.throws(render({ githubRepository: "acme/.." }), /githubRepository/);
    assert.throws(render({ labels: ["ok", "bad label"] }), /labels/);
    assert.throws(render({ labels: ["a,b"] }), /labels/);
    assert.throws(render({ labels: ["x'y"] }), /labels/);
    assert.throws(render({ labels: [] }), /labels/);
    assert.throws(render({ tokenSecretArn: `${SECRET_ARN}' ; reboot '` }), /tokenSecretArn/);
    assert.throws(render({ region: "eu-west-1; reboot" }), /region/);
    assert.throws(render({ runnerVersion: "latest" }), /runnerVersion/);
    assert.throws(render({ runnerSha256: "abc" }), /runnerSha256/);
    assert.throws(render({ pulumiVersion: "3.1.2 && reboot" }), /pulumiVersion/);
  });

  it("is valid bash (bash -n)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-user-data-"));
    try {
      const file = path.join(dir, "user-data.sh");
      fs.writeFileSync(file, script);
      execFileSync("bash", ["-n", file], { stdio: "pipe" });
      // The check itself rejects a broken script.
      fs.writeFileSync(file, `${script}\nif true; then\n`);
      assert.throws(() => execFileSync("bash", ["-n", file], { stdio: "pipe" }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// The script run end to end with every system command replaced by a stub that records its arguments.

const GITHUB_TOKEN = "ghp-SECRET-0123456789";
const REGISTRATION_TOKEN = "REG-TOKEN-9876543210";
const ARCHIVE = "fake runner archive\n";

const STUBS: Record<string, string> = {
  node: 'echo "v20.11.1"',
  pulumi: `echo "v${INPUT.pulumiVersion}"`,
  sh: "cat >/dev/null",
  sleep: "true",
  // Misses until the attempt named by AWS_HIT, then answers the token.
  aws: [
    'n=$(( $(cat "$STUB_DIR/aws-calls" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$STUB_DIR/aws-calls"',
    'if [ "$n" -lt "${AWS_HIT:-1000}" ]; then echo "ResourceNotFoundException" >&2; exit 254; fi',
    `echo "${GITHUB_TOKEN}"`,
  ].join("\n"),
  curl: [
    'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done',
    'case "$*" in',
    `  *registration-token*) cat > "$STUB_DIR/curl-stdin"; echo '{"token":"${REGISTRATION_TOKEN}"}' ;;`,
    "  *api/token*) echo imds-session ;;",
    "  *instance-id*) echo i-0abc123 ;;",
    "  *get.pulumi.com*) echo 'echo installer' ;;",
    `  *) [ -n "$out" ] && printf '${ARCHIVE.replace("\n", "\\n")}' > "$out" ;;`,
    "esac",
  ].join("\n"),
  runuser: 'while [ "$1" != "--" ]; do shift; done; shift; exec "$@"',
};
const NO_OPS = ["dnf", "alternatives", "ln", "id", "useradd", "install", "tar", "rm"];

interface StubbedRun {
  status: number | null;
  output: string;
  calls: string[];
  dir: string;
}

/**
 * Writes a stub that appends its name and arguments to calls.log, then does `body`. One write per call:
 * piped stubs (curl | sh) run at once, and their lines must not interleave.
 */
function writeStub(bin: string, name: string, body: string): void {
  const record = `line=${name}; for arg in "$@"; do line+=" $arg"; done; printf '%s\\n' "$line" >> "$STUB_DIR/calls.log"`;
  fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${record}\n${body}\n`, { mode: 0o755 });
}

/** Renders for a scratch home, installs the stubs (and config.sh, svc.sh in the runner folder), runs bash on it. */
function runStubbed(dir: string, env: Record<string, string>, sha256: string): StubbedRun {
  const bin = path.join(dir, "bin");
  const runnerDir = path.join(dir, "home/runner/actions-runner");
  fs.mkdirSync(bin);
  fs.mkdirSync(runnerDir, { recursive: true });
  for (const [name, body] of Object.entries(STUBS)) writeStub(bin, name, body);
  for (const name of NO_OPS) writeStub(bin, name, "true");
  if (!hasBinary("jq")) writeStub(bin, "jq", 'sed -n \'s/.*"token":"\\([^"]*\\)".*/\\1/p\'');
  writeStub(runnerDir, "config.sh", 'printf "%s" "$ACTIONS_RUNNER_INPUT_TOKEN" > "$STUB_DIR/config-token"');
  writeStub(runnerDir, "svc.sh", "true");
  const script = renderRunnerUserData({ ...INPUT, runnerSha256: sha256 })
    .replaceAll("/home/runner", path.join(dir, "home/runner"))
    .replaceAll("/tmp/actions-runner", path.join(dir, "actions-runner"));
  fs.writeFileSync(path.join(dir, "user-data.sh"), script);
  const result = spawnSync("bash", [path.join(dir, "user-data.sh")], {
    env: { PATH: `${bin}:/usr/bin:/bin`, STUB_DIR: dir, ...env },
    encoding: "utf8",
  });
  const log = path.join(dir, "calls.log");
  const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  return { status: result.status, output: `${result.stdout}${result.stderr}`, calls, dir };
}

describe("deploy runner user data, run with stubbed commands", () => {
  const archiveSha = createHash("sha256").update(ARCHIVE).digest("hex");
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-stubbed-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("waits for the token, registers with it through stdin and the environment only, starts the service", () => {
    const run = runStubbed(dir, { AWS_HIT: "3" }, archiveSha);
    assert.equal(run.status, 0, run.output);
    assert.equal(run.calls.filter((c) => c.startsWith("aws ")).length, 3, "two misses, then the token");
    assert.deepEqual(
      run.calls.filter((c) => c.startsWith("sleep")),
      ["sleep 30", "sleep 30"],
    );
    assert.equal(fs.readFileSync(path.join(dir, "curl-stdin"), "utf8"), `Authorization: Bearer ${GITHUB_TOKEN}\n`);
    assert.equal(fs.readFileSync(path.join(dir, "config-token"), "utf8"), REGISTRATION_TOKEN);
    for (const token of [GITHUB_TOKEN, REGISTRATION_TOKEN]) {
      assert.deepEqual(
        run.calls.filter((c) => c.includes(token)),
        [],
        "no command line carries a token",
      );
      assert.ok(!run.output.includes(token), "the output shows no token");
    }
    const config = run.calls.find((c) => c.startsWith("config.sh"));
    assert.equal(
      config,
      "config.sh --unattended --url https://github.com/acme/shop-platform --name i-0abc123 " +
        "--labels platform-deploy,shop-prod --work _work --replace",
    );
    const order = run.calls.map((c) => c.split(" ").slice(0, 2).join(" "));
    assert.ok(order.indexOf("config.sh --unattended") < order.indexOf("svc.sh install"));
    assert.ok(order.indexOf("svc.sh install") < order.indexOf("svc.sh start"));
    assert.ok(run.calls.includes("svc.sh install runner"));
    assert.ok(run.calls.includes("alternatives --set node /usr/bin/node-20"));
    assert.ok(run.calls.includes("sh -s -- --version 3.1.2 --install-root /opt/pulumi --no-edit-path"));
  });

  it("stops before registering when the archive does not match its checksum", () => {
    const run = runStubbed(dir, { AWS_HIT: "1" }, "0".repeat(64));
    assert.notEqual(run.status, 0);
    assert.equal(run.calls.filter((c) => c.startsWith("aws ") || c.startsWith("config.sh")).length, 0);
  });

  it("gives up after 120 attempts when the secret stays empty, without registering", () => {
    const run = runStubbed(dir, {}, archiveSha);
    assert.equal(run.status, 1);
    assert.equal(run.calls.filter((c) => c.startsWith("aws ")).length, 120);
    assert.match(run.output, /no GitHub token after an hour/);
    assert.equal(run.calls.filter((c) => c.startsWith("config.sh") || c.includes("registration-token")).length, 0);
    // 120 stubbed rounds spawn a few hundred processes: slow on a loaded machine, not a hang.
  }).timeout(120_000);
});

// ---------------------------------------------------------------------------------------------------------------------
// The component under mocks

const ARGS: DeployRunnerArgs = {
  namePrefix: "shop-prod",
  region: "eu-west-1",
  vpcId: "vpc-0123",
  vpcCidr: "10.20.0.0/16",
  privateSubnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/platform",
  clusterName: "shop-prod-eks",
  githubRepository: "acme/shop-platform",
  labels: ["platform-deploy", "shop-prod"],
  instanceType: "t3.medium",
  workloadRolePath: "/platform/shop-prod/",
  workloadBoundaryArn: "arn:aws:iam::123456789012:policy/platform/shop-prod/workload-boundary",
  backendPolicyArns: ["arn:aws:iam::123456789012:policy/pulumi-state", "arn:aws:iam::123456789012:policy/pulumi-kms"],
  pushRepositoryArns: [],
  resourceTags: { owner: "platform-team", "cost-center": "cc-042" },
};

const one = (resources: RecordedResource[], type: string): RecordedResource => {
  const found = ofType(resources, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
};

const ROLE_ARN = "arn:aws:iam::123456789012:role/runner-role";
const SECRET_MOCK_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:runner-github-token-AbCdEf";
const LAUNCH_ROLE_ARN = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/runner-asg-role";

describe("DeployRunner (under mocks)", () => {
  let run: MockRun<DeployRunner>;
  before(async () => {
    run = await runUnderMocks("prod", {}, () => {
      return new DeployRunner("runner", ARGS);
    });
  });
  const inputs = (type: string) => one(run.resources, type).inputs;

  it("declares exactly its resources, every one a child of the component", () => {
    const component = one(run.resources, "platform:aws:DeployRunner");
    const children = run.resources.filter((r) => r !== component);
    assert.ok(children.every((r) => r.parent === component.urn) && component.urn !== "");
    const counts: Record<string, number> = {};
    for (const r of children) counts[r.type] = (counts[r.type] ?? 0) + 1;
    assert.deepEqual(counts, {
      "aws:secretsmanager/secret:Secret": 1,
      "aws:ec2/securityGroup:SecurityGroup": 1,
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 3,
      "aws:iam/role:Role": 1,
      "aws:iam/rolePolicy:RolePolicy": 1,
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 3,
      "aws:iam/instanceProfile:InstanceProfile": 1,
      "aws:ec2/launchTemplate:LaunchTemplate": 1,
      "aws:iam/serviceLinkedRole:ServiceLinkedRole": 1,
      "aws:kms/grant:Grant": 1,
      "aws:autoscaling/group:Group": 1,
      "aws:eks/accessEntry:AccessEntry": 1,
      "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": 1,
    });
  });

  it("keeps the GitHub token in a KMS-encrypted secret with a 7-day recovery window", () => {
    const secret = inputs("aws:secretsmanager/secret:Secret");
    assert.equal(secret.kmsKeyId, ARGS.kmsKeyArn);
    assert.equal(secret.recoveryWindowInDays, 7);
    assert.equal(run.resources.filter((r) => r.type.startsWith("aws:secretsmanager/secretVersion")).length, 0);
  });

  it("opens no inbound port, and egress to HTTPS anywhere and HTTPS and PostgreSQL in the VPC only", () => {
    const group = one(run.resources, "aws:ec2/securityGroup:SecurityGroup");
    assert.equal(group.inputs.ingress, undefined);
    assert.equal(group.inputs.egress, undefined, "rules are separate resources, not inline");
    assert.equal(group.inputs.vpcId, ARGS.vpcId);
    assert.deepEqual(
      run.resources.filter((r) => /ingress|securityGroupRule:/i.test(r.type)),
      [],
    );
    const egress = ofType(run.resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map(
      (r) => r.inputs,
    );
    assert.ok(egress.every((rule) => rule.securityGroupId === "runner-sg-id"));
    const byCidrAndPort = (a: Record<string, any>, b: Record<string, any>) =>
      `${a.cidrIpv4}:${a.fromPort}`.localeCompare(`${b.cidrIpv4}:${b.fromPort}`);
    // Every other field (another CIDR, a prefix list, a referenced group) would show up here.
    assert.deepEqual(egress.map(({ description: _d, securityGroupId: _g, ...rule }) => rule).sort(byCidrAndPort), [
      { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
      { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "10.20.0.0/16" },
      { ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "10.20.0.0/16" },
    ]);
  });

  it("lets EC2 assume the role, with SSM and the backend's policies attached", () => {
    const role = inputs("aws:iam/role:Role");
    assert.deepEqual(JSON.parse(role.assumeRolePolicy).Statement, [
      { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    assert.equal(role.managedPolicyArns, undefined);
    assert.equal(role.inlinePolicies, undefined);
    const attachments = ofType(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((r) => r.inputs);
    assert.ok(attachments.every((a) => a.role === "runner-role-7c1e2a9"));
    assert.deepEqual(attachments.map((a) => a.policyArn).sort(), [
      "arn:aws:iam::123456789012:policy/pulumi-kms",
      "arn:aws:iam::123456789012:policy/pulumi-state",
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]);
    assert.equal(inputs("aws:iam/instanceProfile:InstanceProfile").role, "runner-role-7c1e2a9");
  });

  it("grants exactly the listed actions, each on exactly its resource", () => {
    const policy = inputs("aws:iam/rolePolicy:RolePolicy");
    assert.equal(policy.role, "runner-role-id");
    const statements: Array<Record<string, any>> = JSON.parse(policy.policy).Statement;
    const normalized = statements.map(({ Sid: _sid, ...rest }) => ({
      ...rest,
      Action: [rest.Action].flat().sort(),
    }));
    assert.deepEqual(normalized, [
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: SECRET_MOCK_ARN },
      {
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: ARGS.kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      },
      {
        Effect: "Allow",
        Action: ["eks:DescribeCluster"],
        Resource: "arn:aws:eks:eu-west-1:123456789012:cluster/shop-prod-eks",
      },
      {
        Effect: "Allow",
        Action: [
          "iam:DeleteRole",
          "iam:DeleteRolePolicy",
          "iam:GetRole",
          "iam:GetRolePolicy",
          "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
          "iam:ListRolePolicies",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:UpdateAssumeRolePolicy",
        ],
        Resource: "arn:aws:iam::123456789012:role/platform/shop-prod/*",
      },
      {
        // Creating a role or giving it a policy only with the workload boundary on it: no role it makes can do IAM.
        Effect: "Allow",
        Action: ["iam:CreateRole", "iam:PutRolePolicy"],
        Resource: "arn:aws:iam::123456789012:role/platform/shop-prod/*",
        Condition: { StringEquals: { "iam:PermissionsBoundary": ARGS.workloadBoundaryArn } },
      },
    ]);
    const resources = statements.flatMap((s) => [s.Resource].flat());
    assert.ok(resources.every((r) => typeof r === "string" && r !== "*" && !r.endsWith(":*")));
    assert.ok(normalized.every((s) => s.Action.every((a: string) => !a.includes("*"))));
  });

  it("scopes the secret statement to the component's own secret", async () => {
    const { value } = await valueOf(run.result.tokenSecretArn);
    assert.equal(value, SECRET_MOCK_ARN);
    const statement = JSON.parse(inputs("aws:iam/rolePolicy:RolePolicy").policy).Statement[0];
    assert.equal(statement.Resource, value);
  });

  it("launches AL2023 with IMDSv2 only, one hop, a KMS-encrypted gp3 root of 30 GiB and the rendered user data", () => {
    const template = inputs("aws:ec2/launchTemplate:LaunchTemplate");
    assert.equal(template.imageId, "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
    assert.equal(template.instanceType, "t3.medium");
    assert.equal(template.metadataOptions.httpTokens, "required");
    assert.equal(template.metadataOptions.httpPutResponseHopLimit, 1);
    assert.notEqual(template.metadataOptions.httpEndpoint, "disabled");
    assert.deepEqual(template.blockDeviceMappings, [
      {
        deviceName: "/dev/xvda",
        ebs: {
          volumeSize: 30,
          volumeType: "gp3",
          encrypted: "true",
          kmsKeyId: ARGS.kmsKeyArn,
          deleteOnTermination: "true",
        },
      },
    ]);
    assert.deepEqual(template.iamInstanceProfile, { arn: "arn:aws:iam::123456789012:instance-profile/runner-profile" });
    assert.deepEqual(template.vpcSecurityGroupIds, ["runner-sg-id"]);
    assert.equal(template.keyName, undefined, "no SSH key");
    // The provider's default tags stop at the template: the instance and its volume get the required ones here.
    const tags = { ...ARGS.resourceTags, Name: "shop-prod-deploy-runner" };
    assert.deepEqual(template.tagSpecifications, [
      { resourceType: "instance", tags },
      { resourceType: "volume", tags },
    ]);
    const userData = Buffer.from(template.userData, "base64").toString("utf8");
    assert.equal(
      userData,
      renderRunnerUserData({
        githubRepository: ARGS.githubRepository,
        labels: ARGS.labels,
        tokenSecretArn: SECRET_MOCK_ARN,
        region: ARGS.region,
        runnerVersion: RUNNER_VERSION,
        runnerSha256: RUNNER_SHA256,
        pulumiVersion: PULUMI_VERSION,
      }),
    );
  });

  it("keeps exactly one instance over the private subnets, named at launch, launched with the key granted", () => {
    const record = one(run.resources, "aws:autoscaling/group:Group");
    const group = record.inputs;
    assert.equal(group.minSize, 1);
    assert.equal(group.maxSize, 1);
    assert.equal(group.desiredCapacity, 1);
    assert.deepEqual(group.vpcZoneIdentifiers, ARGS.privateSubnetIds);
    assert.deepEqual(group.launchTemplate, { id: "runner-lt-id", version: "3" });
    assert.deepEqual(group.tags, [{ key: "Name", value: "shop-prod-deploy-runner", propagateAtLaunch: true }]);
    assert.equal(group.serviceLinkedRoleArn, LAUNCH_ROLE_ARN);
    const launchRole = inputs("aws:iam/serviceLinkedRole:ServiceLinkedRole");
    assert.deepEqual(launchRole, { awsServiceName: "autoscaling.amazonaws.com", customSuffix: "shop-prod-runner" });
    const grant = one(run.resources, "aws:kms/grant:Grant");
    assert.equal(grant.inputs.keyId, ARGS.kmsKeyArn);
    assert.equal(grant.inputs.granteePrincipal, LAUNCH_ROLE_ARN);
    assert.deepEqual([...grant.inputs.operations].sort(), [
      "CreateGrant",
      "Decrypt",
      "DescribeKey",
      "Encrypt",
      "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext",
      "ReEncryptFrom",
      "ReEncryptTo",
    ]);
    assert.ok(record.dependencies.includes(grant.urn), "the group waits for the grant");
  });

  it("gives the runner's role an EKS access entry with cluster admin over the whole cluster", () => {
    const entry = one(run.resources, "aws:eks/accessEntry:AccessEntry");
    assert.deepEqual(entry.inputs, { clusterName: "shop-prod-eks", principalArn: ROLE_ARN, type: "STANDARD" });
    const association = one(run.resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
    assert.deepEqual(association.inputs, {
      clusterName: "shop-prod-eks",
      principalArn: ROLE_ARN,
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      accessScope: { type: "cluster" },
    });
    assert.ok(association.dependencies.includes(entry.urn), "the association waits for the entry");
  });

  it("outputs the role, the secret, the security group and the labels", async () => {
    assert.equal((await valueOf(run.result.roleArn)).value, ROLE_ARN);
    assert.equal((await valueOf(run.result.tokenSecretArn)).value, SECRET_MOCK_ARN);
    assert.equal((await valueOf(run.result.securityGroupId)).value, "runner-sg-id");
    assert.deepEqual(run.result.labels, ["platform-deploy", "shop-prod"]);
  });

  it("refuses arguments that would widen its reach or inject shell, naming them", async () => {
    const build = (fields: Partial<DeployRunnerArgs>) =>
      runUnderMocks("prod", {}, () => new DeployRunner("bad", { ...ARGS, ...fields }));
    await assert.rejects(build({ workloadRolePath: "/" }), /workloadRolePath/);
    await assert.rejects(build({ workloadRolePath: "/platform/*/" }), /workloadRolePath/);
    await assert.rejects(build({ githubRepository: "a/b;rm -rf /" }), /githubRepository/);
    await assert.rejects(build({ labels: ["deploy", "bad label"] }), /labels/);
    await assert.rejects(build({ backendPolicyArns: ["*"] }), /backendPolicyArns/);
    await assert.rejects(build({ namePrefix: "a-prefix-far-too-long-for-the-role-suffix" }), /namePrefix/);
  });

  it("runs Docker and may log in to ECR and push to exactly the repositories of the services it builds, when there are any", async () => {
    const repository = "arn:aws:ecr:eu-west-1:123456789012:repository/shop/orders";
    const builds = await runUnderMocks(
      "prod",
      {},
      () => new DeployRunner("runner", { ...ARGS, pushRepositoryArns: [repository] }),
    );
    const statements: Array<Record<string, any>> = JSON.parse(
      one(builds.resources, "aws:iam/rolePolicy:RolePolicy").inputs.policy,
    ).Statement;
    assert.deepEqual(statements.slice(-2), [
      { Sid: "LoginToRegistry", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "PushServiceImages",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ],
        Resource: [repository],
      },
    ]);
    const userData = (resources: RecordedResource[]) =>
      Buffer.from(one(resources, "aws:ec2/launchTemplate:LaunchTemplate").inputs.userData, "base64").toString("utf8");
    const script = userData(builds.resources);
    assert.match(script, /^dnf install -y docker\nsystemctl enable --now docker\nusermod -aG docker "\$RUNNER_USER"$/m);
    assert.ok(script.indexOf("useradd") < script.indexOf("usermod -aG docker"), "the user exists by then");
    assert.doesNotMatch(userData(run.resources), /docker/, "no engine without builds");
    assert.ok(
      !JSON.parse(inputs("aws:iam/rolePolicy:RolePolicy").policy).Statement.some((s: any) => /^ecr:/.test(s.Action)),
    );
  });
});
