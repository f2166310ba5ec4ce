#!/usr/bin/env bash
# One command for the dev stack: install dependencies, create the `dev` stack on the local
# backend if needed, `pulumi up` (extra arguments go to it), then print every service's URL.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in node npm pulumi docker; do
  command -v "$tool" >/dev/null || { echo "dev-up: '$tool' is not installed (see README, Quick start)" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "dev-up: the Docker engine is not reachable (is Docker running?)" >&2; exit 1; }

npm ci --no-audit --no-fund
scripts/local-pulumi.sh stack select dev --create --secrets-provider passphrase
scripts/local-pulumi.sh up --stack dev --yes "$@"
scripts/local-pulumi.sh stack output --stack dev serviceUrls
echo "dev-up: done; npm run dev:smoke checks every service, one event end to end and the Prometheus targets"
