#!/usr/bin/env bash
# Install dependencies, build, and start mediaconvertd in the foreground on the embedded
# default: http://127.0.0.1:8080, tasks in ./var/tasks.db, objects in ./var/buckets
# (oss://bucket/key is the file var/buckets/bucket/key). Ctrl-C stops it.
# In another terminal, `bash examples/first-request.sh` sends a first task with curl.
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
echo "starting mediaconvertd on http://127.0.0.1:8080 (Ctrl-C stops it);"
echo "send a first task from another terminal: bash examples/first-request.sh"
exec ./build/mediaconvertd --config examples/mediaconvertd.ini
