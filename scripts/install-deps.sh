#!/usr/bin/env bash
# Install the Debian 12 packages mediaconvert needs (run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2046
apt-get install -y --no-install-recommends $(grep -v '^\s*#' packaging/debian-deps.txt)
