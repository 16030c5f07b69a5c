#!/usr/bin/env bash
# Install the npm packages of the SDK end-to-end test (tests/e2e/sdk): the official Alibaba
# Cloud OpenAPI Node clients, at the exact versions pinned in package-lock.json. Needs node
# (>= 18), npm and access to the npm registry. Without these modules ctest skips e2e_sdk.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/sdk"
if ! command -v npm >/dev/null 2>&1; then
    echo "install-node-deps.sh: npm not found (apt-get install nodejs npm)" >&2
    exit 1
fi
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi
