#!/usr/bin/env bash
# `pulumi "$@"` against this checkout's local state backend, with a passphrase for stack
# secrets: the developer's (PULUMI_CONFIG_PASSPHRASE[_FILE]) or one generated once beside the
# state and readable by its owner only. A first argument `--docker` also requires the Docker
# engine (the dev stack's preview and destroy talk to it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/require-tools.sh
if [ "${1:-}" = "--docker" ]; then
  shift
  require_tools pulumi docker
else
  require_tools pulumi
fi

mkdir -p .pulumi-state
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  passphrase_file="$PWD/.pulumi-state/passphrase"
  [ -f "$passphrase_file" ] || (umask 077 && head -c 32 /dev/urandom | base64 > "$passphrase_file")
  export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
fi
exec pulumi "$@"
