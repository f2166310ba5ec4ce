/**
 * The deploy runner's cloud-init script for Amazon Linux 2023: the tools a `pulumi up` of the platform
 * stack needs, then a GitHub Actions runner registered for one repository and run as a service.
 *
 * Every value is checked against a strict pattern and then single-quoted, so no input reaches the
 * shell as code. The script holds no secret: it reads the GitHub token from Secrets Manager at boot.
 */

/**
 * GitHub Actions runner release and the SHA-256 of its linux-x64 archive, as published in the release
 * notes of https://github.com/actions/runner/releases/tag/v2.337.0 (between `<!-- BEGIN SHA linux-x64 -->`
 * markers). A new version needs both values from that page. The runner updates itself afterwards; the
 * pin fixes what the first boot downloads and checks.
 */
export const RUNNER_VERSION = "2.337.0";
export const RUNNER_SHA256 = "70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613";
/** The Pulumi CLI: the release of the @pulumi/pulumi SDK in package-lock.json, so both speak the same protocol. */
export const PULUMI_VERSION = "3.248.0";

export interface RunnerUserDataInput {
  /** owner/name of the repository whose workflows use the runner. */
  githubRepository: string;
  /** Labels workflows select the runner by (`runs-on: [self-hosted, <label>]`). */
  labels: string[];
  /** Secret holding a GitHub token allowed to create runner registration tokens for the repository. */
  tokenSecretArn: string;
  region: string;
  runnerVersion: string;
  runnerSha256: string;
  pulumiVersion: string;
  /** The platform layer builds images (catalog `build`): a Docker engine the runner's user may use. */
  docker?: boolean;
}

const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const VERSION = /^\d+\.\d+\.\d+$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Throws naming `githubRepository` unless it is a plain owner/name. */
export function checkRepository(githubRepository: string): void {
  const name = githubRepository.split("/")[1];
  if (!REPOSITORY.test(githubRepository) || name === "." || name === "..") {
    throw new Error(
      `githubRepository must be owner/name (letters, digits, . _ -), got ${JSON.stringify(githubRepository)}`,
    );
  }
}

/** Throws naming `labels` unless there is at least one and each is letters, digits, `.`, `_` and `-`. */
export function checkLabels(labels: string[]): void {
  if (labels.length === 0) throw new Error("labels must name at least one label");
  const bad = labels.filter((label) => !LABEL.test(label));
  if (bad.length > 0) {
    throw new Error(`labels must be letters, digits, . _ - (at most 64), got ${JSON.stringify(bad)}`);
  }
}

function checkInput(input: RunnerUserDataInput): void {
  checkRepository(input.githubRepository);
  checkLabels(input.labels);
  const patterns: Array<[keyof RunnerUserDataInput, RegExp]> = [
    ["tokenSecretArn", SECRET_ARN],
    ["region", REGION],
    ["runnerVersion", VERSION],
    ["runnerSha256", SHA256],
    ["pulumiVersion", VERSION],
  ];
  for (const [field, pattern] of patterns) {
    const value = input[field];
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new Error(`${field} does not match ${pattern}, got ${JSON.stringify(value)}`);
    }
  }
}

/** Single quotes; the checks above leave no quote in any value. */
const quoted = (value: string) => `'${value}'`;

function header(input: RunnerUserDataInput): string[] {
  return [
    "#!/bin/bash",
    "# Deploy runner bootstrap, rendered by components/aws/runnerUserData.ts.",
    "# No xtrace: a trace would print the GitHub token and the registration token.",
    "set -euo pipefail",
    "",
    `readonly REPOSITORY=${quoted(input.githubRepository)}`,
    `readonly LABELS=${quoted(input.labels.join(","))}`,
    `readonly TOKEN_SECRET_ARN=${quoted(input.tokenSecretArn)}`,
    `readonly REGION=${quoted(input.region)}`,
    `readonly RUNNER_VERSION=${quoted(input.runnerVersion)}`,
    `readonly RUNNER_SHA256=${quoted(input.runnerSha256)}`,
    `readonly PULUMI_VERSION=${quoted(input.pulumiVersion)}`,
    "readonly RUNNER_USER=runner",
    "readonly RUNNER_HOME=/home/runner",
    "readonly RUNNER_DIR=/home/runner/actions-runner",
    "# The service keeps the PATH config.sh ran with: the tools below, and ldconfig for its dependency check.",
    "readonly RUNNER_PATH=/usr/local/bin:/usr/bin:/usr/local/sbin:/usr/sbin",
    "",
    'log() { printf \'%s deploy-runner: %s\\n\' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }',
    'fail() { log "$*"; exit 1; }',
    "",
  ];
}

function tools(): string[] {
  return [
    "# git, jq and tar for workflows; libicu for the runner (.NET); the AWS CLI v2 and curl ship with AL2023.",
    'log "installing git, jq, tar, libicu and Node.js 20"',
    "dnf install -y git jq tar libicu nodejs20 nodejs20-npm",
    "# AL2023 namespaces Node.js (node-20, npm-20); node and npm are alternatives, pinned here to 20.",
    "alternatives --set node /usr/bin/node-20",
    'node_version="$(node --version)"',
    '[[ "$node_version" == v20.* ]] || fail "node is $node_version, expected v20"',
    "",
    'log "installing the Pulumi CLI $PULUMI_VERSION"',
    'curl -fsSL --retry 5 https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION" --install-root /opt/pulumi --no-edit-path',
    "# The CLI and its bundled language hosts, on the runner's PATH.",
    "ln -sf /opt/pulumi/bin/* /usr/local/bin/",
    'pulumi_version="$(pulumi version)"',
    '[[ "$pulumi_version" == "v$PULUMI_VERSION" ]] || fail "pulumi is $pulumi_version, expected v$PULUMI_VERSION"',
    "",
    "# Jobs run as an unprivileged user: no sudo, no login password.",
    'id -u "$RUNNER_USER" >/dev/null 2>&1 || useradd --create-home --home-dir "$RUNNER_HOME" --shell /bin/bash "$RUNNER_USER"',
    "",
  ];
}

/** Docker from AL2023's repository; its group is root-equivalent on this instance, which only deploys. */
function dockerEngine(): string[] {
  return [
    'log "installing the Docker engine: the platform layer builds and pushes service images"',
    "dnf install -y docker",
    "systemctl enable --now docker",
    'usermod -aG docker "$RUNNER_USER"',
    "",
  ];
}

function runnerDownload(): string[] {
  return [
    'log "downloading the GitHub Actions runner $RUNNER_VERSION"',
    'archive="/tmp/actions-runner-linux-x64-$RUNNER_VERSION.tar.gz"',
    'curl -fsSL --retry 5 -o "$archive" \\',
    '  "https://github.com/actions/runner/releases/download/v$RUNNER_VERSION/actions-runner-linux-x64-$RUNNER_VERSION.tar.gz"',
    'printf \'%s  %s\\n\' "$RUNNER_SHA256" "$archive" | sha256sum --check --strict -',
    'install -d -o "$RUNNER_USER" -g "$RUNNER_USER" -m 0750 "$RUNNER_DIR"',
    'runuser -u "$RUNNER_USER" -- tar -xzf "$archive" -C "$RUNNER_DIR"',
    'rm -f "$archive"',
    "",
  ];
}

/** The operator puts the token into the secret after the first deploy; the first boot may well come before. */
function githubToken(): string[] {
  return [
    'log "reading the GitHub token from $TOKEN_SECRET_ARN"',
    'github_token=""',
    "for attempt in $(seq 1 120); do",
    '  if github_token="$(aws secretsmanager get-secret-value --secret-id "$TOKEN_SECRET_ARN" --region "$REGION" \\',
    '    --query SecretString --output text)" && [[ -n "$github_token" && "$github_token" != None ]]; then',
    "    break",
    "  fi",
    '  github_token=""',
    '  log "no token in the secret yet (attempt $attempt of 120); retrying in 30 s"',
    "  sleep 30",
    "done",
    '[[ -n "$github_token" ]] || fail "no GitHub token after an hour: fill the secret, then terminate this instance"',
    "",
    "# The token reaches curl on stdin (-H @-), never on a command line other users could read.",
    'log "exchanging the GitHub token for a runner registration token"',
    'if ! registration_token="$(',
    "  printf 'Authorization: Bearer %s\\n' \"$github_token\" |",
    "    curl -fsS --retry 5 -X POST -H @- \\",
    "      -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28' \\",
    '      "https://api.github.com/repos/$REPOSITORY/actions/runners/registration-token" |',
    "    jq -r '.token // empty'",
    ')"; then',
    '  fail "GitHub refused the registration token request for $REPOSITORY"',
    "fi",
    "unset github_token",
    '[[ -n "$registration_token" ]] || fail "GitHub returned no registration token for $REPOSITORY"',
    "",
  ];
}

function registration(): string[] {
  return [
    "# The runner is named after its instance (IMDSv2); --replace takes over the name if it is registered already.",
    "imds_session=\"$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)\"",
    'instance_id="$(curl -fsS -H "X-aws-ec2-metadata-token: $imds_session" http://169.254.169.254/latest/meta-data/instance-id)"',
    "",
    'log "registering runner $instance_id for $REPOSITORY with labels $LABELS"',
    'cd "$RUNNER_DIR"',
    "# config.sh reads the registration token from ACTIONS_RUNNER_INPUT_TOKEN (kept off the command line) and masks it.",
    'ACTIONS_RUNNER_INPUT_TOKEN="$registration_token" runuser -u "$RUNNER_USER" -- \\',
    '  env HOME="$RUNNER_HOME" PATH="$RUNNER_PATH" ./config.sh --unattended \\',
    '  --url "https://github.com/$REPOSITORY" --name "$instance_id" --labels "$LABELS" --work _work --replace',
    "unset registration_token",
    "",
    'log "installing and starting the runner service"',
    './svc.sh install "$RUNNER_USER"',
    "./svc.sh start",
    'log "runner $instance_id is up"',
    "",
  ];
}

/**
 * The whole script: tools (git, jq, tar, Node.js 20, the Pulumi CLI), the `runner` user, Docker when
 * asked, the runner
 * archive (checksum checked), the GitHub token (waited for up to an hour), the registration, the service.
 */
export function renderRunnerUserData(input: RunnerUserDataInput): string {
  checkInput(input);
  return [
    ...header(input),
    ...tools(),
    ...(input.docker ? dockerEngine() : []),
    ...runnerDownload(),
    ...githubToken(),
    ...registration(),
  ].join("\n");
}
