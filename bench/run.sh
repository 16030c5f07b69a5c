#!/usr/bin/env bash
# Throughput of mediaconvert against the ffmpeg program doing the same job, in the same run.
#
#   bench/run.sh [--rounds N] [--build DIR] [--out FILE.md]
#
# Jobs: a 1080p -> 720p H.264 transcode (CRF 23, GOP 150, 3 B-frames, 2 refs, audio copied,
# index first) and a WAV -> MP3 conversion (128 kbit/s). Each round runs mediaconvert and
# ffmpeg back to back, the first of the pair alternating, so both see the same machine state;
# the ratio is the median wall time of mediaconvert over ffmpeg's (below 1.00: mediaconvert is
# faster).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5
build=build
out=""
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: bench/run.sh [--rounds N] [--build DIR] [--out FILE.md]" >&2; exit 2 ;;
    esac
done
mc="$build/mediaconvert"
[ -x "$mc" ] || { echo "no $mc: build first (cmake -B $build -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }

work=bench/work
store="$work/store"
mkdir -p "$store/bench" "$work/ff"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
if [ ! -f "$store/bench/src1080.mp4" ]; then
    ff -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i "sine=frequency=440:sample_rate=48000" \
       -t 20 -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -c:a aac "$store/bench/src1080.mp4"
fi
if [ ! -f "$store/bench/speech.wav" ]; then
    ff -f lavfi -i "sine=frequency=300:sample_rate=44100" -f lavfi -i "sine=frequency=500:sample_rate=44100" \
       -filter_complex amerge -t 300 -c:a pcm_s16le "$store/bench/speech.wav"
fi
cat > "$work/transcode.json" <<'JSON'
{"ProjectName":"bench","Sources":[{"URI":"oss://bench/src1080.mp4"}],
 "Targets":[{"URI":"oss://bench/out720.mp4","Container":"mp4",
   "Video":{"TranscodeVideo":{"Codec":"h264","Resolution":"1280x720","CRF":23,"GOPSize":150,"BFrames":3,"Refs":2}}}]}
JSON
cat > "$work/mp3.json" <<'JSON'
{"ProjectName":"bench","Sources":[{"URI":"oss://bench/speech.wav"}],
 "Targets":[{"URI":"oss://bench/speech.mp3","Container":"mp3",
   "Audio":{"TranscodeAudio":{"Codec":"mp3","Bitrate":128000}}}]}
JSON

now() { date +%s.%N; }
declare -A times
timed() { # tool job: run "<tool>_<job>" once and record its wall time
    local t0 t1
    t0=$(now); "$1_$2"; t1=$(now)
    times[$2,$1]+="$(awk "BEGIN {print $t1 - $t0}") "
}
run_pair() { # job: alternate the tools, and which of them goes first, round by round
    for ((r = 1; r <= rounds; r++)); do
        if ((r % 2)); then timed mc "$1"; timed ff "$1"; else timed ff "$1"; timed mc "$1"; fi
    done
}
mc_transcode() { "$mc" run -q --store "$store" "$work/transcode.json" >/dev/null; }
ff_transcode() {
    ff -i "$store/bench/src1080.mp4" -vf scale=1280:720 -c:v libx264 -crf 23 -g 150 -bf 3 \
       -refs 2 -c:a copy -movflags +faststart "$work/ff/out720.mp4"
}
mc_mp3() { "$mc" run -q --store "$store" "$work/mp3.json" >/dev/null; }
ff_mp3() { ff -i "$store/bench/speech.wav" -c:a libmp3lame -b:a 128k "$work/ff/speech.mp3"; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "warming up..." >&2
mc_transcode; ff_transcode; mc_mp3; ff_mp3
run_pair transcode
run_pair mp3

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
report=$(
    echo "# mediaconvert vs ffmpeg, $(date -u +%Y-%m-%d)"
    echo
    echo "Machine: $cpu, $(nproc) cores. FFmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3)."
    echo "Rounds: $rounds, alternating; wall-clock medians in seconds."
    echo
    echo "| job | mediaconvert | ffmpeg | ratio (mc/ffmpeg) |"
    echo "|---|---|---|---|"
    for job in transcode mp3; do
        m=$(echo "${times[$job,mc]}" | median)
        f=$(echo "${times[$job,ff]}" | median)
        label=$([ "$job" = transcode ] && echo "1080p -> 720p H.264, 20 s" || echo "WAV -> MP3 128k, 300 s")
        printf '| %s | %.3f | %.3f | %.3f |\n' "$label" "$m" "$f" "$(awk "BEGIN {print $m / $f}")"
    done
    echo
    for job in transcode mp3; do
        echo "- $job runs, mediaconvert: ${times[$job,mc]}"
        echo "- $job runs, ffmpeg: ${times[$job,ff]}"
    done
)
echo "$report"
if [ -n "$out" ]; then
    mkdir -p "$(dirname "$out")"
    echo "$report" > "$out"
fi
