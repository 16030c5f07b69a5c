#!/usr/bin/env bash
# Install dependencies, build mediaconvert, and run a first job on the embedded default: a
# local object store under ./var/buckets (oss://bucket/key is var/buckets/bucket/key).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMC_BUILD_TESTS=OFF -DMC_SANITIZE=OFF
cmake --build build -j"$(nproc)"
mkdir -p var/buckets/media
if [ ! -f var/buckets/media/sample.mp4 ]; then
    # A 10 s 1280x720 clip with a tone, made with the ffmpeg program.
    ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30 \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 10 -c:v libx264 -pix_fmt yuv420p \
        -c:a aac var/buckets/media/sample.mp4
fi
./build/mediaconvert run --store var/buckets examples/first-request.json
echo "outputs are in var/buckets/out/"
