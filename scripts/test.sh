#!/usr/bin/env bash
# Install dependencies, build with -Werror, AddressSanitizer and UndefinedBehaviorSanitizer,
# and run the whole test suite (unit, pipeline, real-media corpus, damaged inputs, CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMC_WERROR=ON -DMC_SANITIZE=ON -DMC_FAKE_HW=ON
cmake --build build-test -j"$(nproc)"
cd build-test
ctest --output-on-failure -j"$(nproc)"
