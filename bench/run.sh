#!/usr/bin/env bash
# The device benchmark, saved where results are kept: builds a release mediaconvert when
# there is none, then runs `mediaconvert bench` (every HAL device, every standard workload,
# 1..N tasks at once, against the ffmpeg program) into bench/results/<date>-<machine>.{md,json,svg}.
#
#   bench/run.sh [--build DIR] [--label NAME] [mediaconvert bench options...]
#
# The label names the machine: the GPU's model when nvidia-smi knows one, else the CPU's
# vendor and family with the core count ("epyc-2core").
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-rel
label=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
    esac
done
if [ ! -x "$build/mediaconvert" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMC_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build" -j"$(nproc)" --target mediaconvert
fi
if [ -z "$label" ]; then
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
    if [ -n "$gpu" ]; then
        label=$(echo "$gpu" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
    else
        cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo | awk '{print $2}')
        label="$(echo "${cpu:-cpu}" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9')-$(nproc)core"
    fi
fi
mkdir -p bench/results
exec "$build/mediaconvert" bench --out "bench/results/$(date +%F)-$label" ${args[@]+"${args[@]}"}
