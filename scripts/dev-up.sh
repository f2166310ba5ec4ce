#!/usr/bin/env bash
# One command for the dev stack: install dependencies, create the `dev` stack on the local
# backend if needed, `pulumi up` (extra arguments go to it), then print every service's URL.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/require-tools.sh
require_tools node npm pulumi docker

npm ci --no-audit --no-fund
scripts/local-pulumi.sh stack select dev --create --secrets-provider passphrase
scripts/local-pulumi.sh up --stack dev --yes "$@"
scripts/local-pulumi.sh stack output --stack dev serviceUrls
echo "dev-up: done; npm run dev:smoke checks every service, one event end to end and the Prometheus targets"
