#!/usr/bin/env bash
# Install the Debian 12 packages mediaconvertd needs (run as root). With --test, also the
# npm packages of the official Alibaba Cloud client that the end-to-end tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2046
apt-get install -y --no-install-recommends $(grep -v '^\s*#' packaging/debian-deps.txt)
if [ "${1:-}" = "--test" ]; then
    # Debian's nodejs ships npm separately; NodeSource's includes it.
    command -v npm >/dev/null || apt-get install -y --no-install-recommends npm
    bash scripts/install-node-deps.sh
fi
