#!/usr/bin/env bash
# Image outputs against the ffmpeg program doing the same job, in the same run: snapshots,
# animated GIF and WebP. Speed (median wall time, rounds alternating which tool goes first),
# peak memory, file size and quality.
#
#   bench/image.sh [--rounds N] [--build DIR] [--out FILE.md] [--short]
#
# Input: a 1080p30 H.264 clip of 60 s with a 2 s GOP, made here from real footage (a corpus
# clip upscaled and looped; testsrc2 when ../shared/media is absent), and corpus clips.
# ffmpeg's jobs are the usual recipes: `-vf fps=1/N` for snapshots,
# `fps=..,scale=..,split[a][b];[a]palettegen[p];[b][p]paletteuse` for GIF and
# `-c:v libwebp_anim` for WebP.
# Quality: each tool's animation is compared frame by frame with its own sampled and scaled
# source frames (lossless PNGs from the same sampling), by SSIM after a gblur of sigma 1 on
# both sides (plain SSIM punishes dithering, which the eye does not).
# --short: one round, a 12 s input, no corpus (CI proves the script works).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
build=build
out=""
short=0
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --short) short=1; rounds=1; shift ;;
    *) echo "usage: bench/image.sh [--rounds N] [--build DIR] [--out FILE.md] [--short]" >&2; exit 2 ;;
    esac
done
mc="$(pwd)/$build/mediaconvert"
[ -x "$mc" ] || { echo "no $mc: build first (cmake -B $build -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }
media=../shared/media
work="$(pwd)/bench/work/image"
store="$work/store"
rm -rf "$work/out"
mkdir -p "$store/bench" "$work/out" "$work/tools"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

webp2raw="$work/tools/webp2raw"
cc -O2 -o "$webp2raw" bench/tools/webp2raw.c $(pkg-config --cflags --libs libwebpdemux libwebp)

len=60
((short)) && len=12
src="$store/bench/in1080-$len.mp4"
if [ ! -f "$src" ]; then
    if [ -f "$media/sample_with_increasing_timestamps_360p.mp4" ]; then
        ff -stream_loop 4 -i "$media/sample_with_increasing_timestamps_360p.mp4" -t "$len" \
           -vf scale=1920:1080:flags=lanczos -c:v libx264 -preset veryfast -crf 20 \
           -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -an "$src"
    else
        ff -f lavfi -i testsrc2=size=1920x1080:rate=30 -t "$len" -c:v libx264 -preset veryfast \
           -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p "$src"
    fi
fi

# job NAME INPUT KIND(snap|gif|webp) INTERVAL WIDTH
jobs=()
add_job() { jobs+=("$*"); }
add_job snap5 "$src" snap 5 0
add_job gif5 "$src" gif 5 480
add_job webp5 "$src" webp 5 480
add_job gif1 "$src" gif 1 480
add_job gif10 "$src" gif 0.1 480
add_job webp10 "$src" webp 0.1 480
if ((!short)) && [ -d "$media" ]; then
    for f in sample_with_increasing_timestamps_360p.mp4 friday.mp4 flower.webm; do
        cp -n "$media/$f" "$store/bench/" 2>/dev/null || true
        add_job "gif10:${f%%.*}" "$store/bench/$f" gif 0.1 320
        add_job "webp10:${f%%.*}" "$store/bench/$f" webp 0.1 320
    done
fi

request() { # name input kind interval width [format]: a request for mediaconvert
    local name=$1 in=$2 kind=$3 inter=$4 width=$5 key uri w=""
    key=${in#"$store"/bench/}
    ((width > 0)) && w=",\"Width\":$width"
    if [ "$kind" = snap ] || [ "$kind" = ref ]; then
        local fmt=jpg
        [ "$kind" = ref ] && fmt=png
        uri="oss://bench/out/$name/mc_{index}.$fmt"
        echo "{\"ProjectName\":\"bench\",\"Sources\":[{\"URI\":\"oss://bench/$key\"}],\"Targets\":[{\"Image\":{\"Snapshots\":[{\"Format\":\"$fmt\",\"URI\":\"$uri\",\"Interval\":$inter$w}]}}]}"
    else
        uri="oss://bench/out/$name/mc.$kind"
        echo "{\"ProjectName\":\"bench\",\"Sources\":[{\"URI\":\"oss://bench/$key\"}],\"Targets\":[{\"Image\":{\"Animations\":[{\"Format\":\"$kind\",\"URI\":\"$uri\",\"Interval\":$inter$w}]}}]}"
    fi
}

ff_job() { # name input kind interval width
    local name=$1 in=$2 kind=$3 inter=$4 width=$5 d="$store/bench/out/$1" rate
    rate=$(awk "BEGIN {print 1 / $inter}")
    mkdir -p "$d"
    case $kind in
    snap) ff -i "$in" -vf "fps=$rate" -q:v 4 "$d/ff_%d.jpg" ;;
    gif) ff -i "$in" -filter_complex \
            "fps=$rate,scale=$width:-2,split[a][b];[a]palettegen[p];[b][p]paletteuse" "$d/ff.gif" ;;
    webp) ff -i "$in" -vf "fps=$rate,scale=$width:-2" -c:v libwebp_anim -loop 0 "$d/ff.webp" ;;
    esac
}

mc_job() {
    "$mc" run -q --store "$store" "$work/$1.json" > /dev/null
}

# time_it LOG FUNCTION ARGS...: wall seconds and peak RSS (KiB) appended to LOG
export -f ff ff_job mc_job
export mc work store
time_it() {
    local log=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time.tmp" bash -c '"$@"' _ "$@"
    cat "$work/time.tmp" >> "$log"
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

ssim() { # decoded-frames-input-args... -- reference pattern
    local args=() ref
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    ref=$2
    ffmpeg -nostdin -hide_banner "${args[@]}" -framerate 1 -i "$ref" -lavfi \
        "[0:v]settb=1,setpts=N,format=rgb24,gblur=sigma=1[a];[1:v]settb=1,setpts=N,format=rgb24,gblur=sigma=1[b];[a][b]ssim" \
        -f null - 2>&1 | sed -n 's/.*All:\([0-9.]*\).*/\1/p' | tail -1
}

frames_of() { # a GIF's frame count
    ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
        -of csv=p=0 "$1"
}

rows=()
for j in "${jobs[@]}"; do
    read -r name in kind inter width <<< "$j"
    safe=${name//:/_}
    request "$safe" "$in" "$kind" "$inter" "$width" > "$work/$safe.json"
    : > "$work/$safe.mc.log"
    : > "$work/$safe.ff.log"
    for ((r = 1; r <= rounds; r++)); do
        rm -rf "$store/bench/out/$safe"
        if ((r % 2)); then
            time_it "$work/$safe.mc.log" mc_job "$safe"
            time_it "$work/$safe.ff.log" ff_job "$safe" "$in" "$kind" "$inter" "$width"
        else
            time_it "$work/$safe.ff.log" ff_job "$safe" "$in" "$kind" "$inter" "$width"
            time_it "$work/$safe.mc.log" mc_job "$safe"
        fi
    done
    t_mc=$(cut -d' ' -f1 "$work/$safe.mc.log" | median)
    t_ff=$(cut -d' ' -f1 "$work/$safe.ff.log" | median)
    rss_mc=$(cut -d' ' -f2 "$work/$safe.mc.log" | sort -n | tail -1)
    rss_ff=$(cut -d' ' -f2 "$work/$safe.ff.log" | sort -n | tail -1)
    d="$store/bench/out/$safe"
    size_mc="" size_ff="" q_mc="" q_ff="" n_mc="" n_ff=""
    if [ "$kind" = snap ]; then
        n_mc=$(ls "$d"/mc_*.jpg | wc -l)
        n_ff=$(ls "$d"/ff_*.jpg | wc -l)
        size_mc=$(cat "$d"/mc_*.jpg | wc -c)
        size_ff=$(cat "$d"/ff_*.jpg | wc -c)
    else
        size_mc=$(stat -c %s "$d/mc.$kind")
        size_ff=$(stat -c %s "$d/ff.$kind")
        # Each tool's own sampled, scaled source frames, lossless.
        request "$safe-ref" "$in" ref "$inter" "$width" > "$work/$safe-ref.json"
        "$mc" run -q --store "$store" "$work/$safe-ref.json" > /dev/null
        rate=$(awk "BEGIN {print 1 / $inter}")
        mkdir -p "$d/ffref"
        ff -i "$in" -vf "fps=$rate,scale=$width:-2" "$d/ffref/%d.png"
        if [ "$kind" = gif ]; then
            n_mc=$(frames_of "$d/mc.gif")
            n_ff=$(frames_of "$d/ff.gif")
            q_mc=$(ssim -i "$d/mc.gif" -- "$store/bench/out/$safe-ref/mc_%d.png")
            q_ff=$(ssim -i "$d/ff.gif" -- "$d/ffref/%d.png")
        else
            geo=$("$webp2raw" "$d/mc.webp" "$rate" 2>&1 > "$d/mc.rgba" | cut -d' ' -f1)
            n_mc=$("$webp2raw" "$d/mc.webp" 2>&1 > /dev/null | cut -d' ' -f2)
            q_mc=$(ssim -f rawvideo -pix_fmt rgba -s "$geo" -i "$d/mc.rgba" -- \
                   "$store/bench/out/$safe-ref/mc_%d.png")
            geo=$("$webp2raw" "$d/ff.webp" "$rate" 2>&1 > "$d/ff.rgba" | cut -d' ' -f1)
            n_ff=$("$webp2raw" "$d/ff.webp" 2>&1 > /dev/null | cut -d' ' -f2)
            q_ff=$(ssim -f rawvideo -pix_fmt rgba -s "$geo" -i "$d/ff.rgba" -- "$d/ffref/%d.png")
        fi
    fi
    speedup=$(awk "BEGIN {printf \"%.2f\", $t_ff / $t_mc}")
    size_ratio=$(awk "BEGIN {printf \"%.2f\", $size_mc / $size_ff}")
    rows+=("| $name | $t_mc | $t_ff | **$speedup** | $n_mc / $n_ff | $size_mc / $size_ff ($size_ratio) | ${q_mc:--} / ${q_ff:--} | $((rss_mc / 1024)) / $((rss_ff / 1024)) |")
    echo "${rows[-1]}" >&2
done

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
    echo "# Image outputs: mediaconvert vs the ffmpeg program"
    echo
    echo "$(date +%F), $cpu, $(nproc) cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3)."
    echo "Input: $(basename "$src") (1080p30 H.264, ${len} s, 2 s GOP) and corpus clips;"
    echo "$rounds round(s), median wall time, the first tool of each pair alternating."
    echo "Speed-up = ffmpeg time / mediaconvert time. Quality: mean SSIM of each file's frames"
    echo "against its own tool's sampled, scaled source frames, after gblur sigma=1 on both."
    echo
    echo "| job | mediaconvert s | ffmpeg s | speed-up | frames mc / ff | bytes mc / ff (ratio) | SSIM mc / ff | peak RSS MiB mc / ff |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} > "$work/result.md"
cat "$work/result.md"
if [ -n "$out" ]; then
    cp "$work/result.md" "$out"
    echo "saved to $out" >&2
fi
