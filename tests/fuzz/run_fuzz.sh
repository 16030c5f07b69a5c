#!/bin/sh
# Run one libFuzzer target for a fixed time from its seed corpus (ctest's fuzz tests).
# usage: run_fuzz.sh BINARY SEED_DIR DICT SECONDS WORK_DIR
# New inputs go to WORK_DIR/corpus, a crashing or leaking input to WORK_DIR/artifacts; the
# exit status is libFuzzer's: non-zero on any crash, leak, timeout or sanitizer report.
set -eu
bin=$1 seeds=$2 dict=$3 secs=$4 work=$5
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=17000 \
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds"
