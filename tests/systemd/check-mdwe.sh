#!/usr/bin/env bash
# The unit sets MemoryDenyWriteExecute=yes: the engine must work without writable code.
# One request through every library that encodes (x264, AAC, libwebp, libimagequant and
# giflib, mjpeg) runs under mdwe-exec, the kernel's form of the same rule; then the outputs
# are read back.
#
#   check-mdwe.sh MDWE_EXEC MEDIACONVERT STORE
set -euo pipefail
mdwe=$1 cli=$2 store=$3
out="$store/output/mdwe"
rm -rf "$out"
req=$(mktemp)
trap 'rm -f "$req"' EXIT
cat > "$req" <<'JSON'
{"ProjectName":"mdwe","Sources":[{"URI":"oss://fixtures/bframes.mp4"}],
 "Targets":[{"Container":"mp4","URI":"oss://output/mdwe/v.mp4",
             "Video":{"TranscodeVideo":{"Codec":"h264","Resolution":"320x180"}},
             "Audio":{"TranscodeAudio":{"Codec":"aac"}}},
            {"Image":{"Animations":[{"Format":"gif","URI":"oss://output/mdwe/a.gif","Interval":0.5,"Width":160},
                                   {"Format":"webp","URI":"oss://output/mdwe/a.webp","Interval":0.5,"Width":160}],
                      "Snapshots":[{"Format":"jpg","URI":"oss://output/mdwe/s{index}.jpg","Number":2}]}}]}
JSON
rc=0
"$mdwe" "$cli" run -q --store "$store" "$req" > /dev/null || rc=$?
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "mediaconvert failed under MDWE (exit $rc)"; exit 1; }
probe() { ffprobe -v error -select_streams "$2" -show_entries stream=codec_name -of csv=p=0 "$1"; }
[ "$(probe "$out/v.mp4" v)" = h264 ] || { echo "v.mp4: no h264"; exit 1; }
[ "$(probe "$out/v.mp4" a)" = aac ] || { echo "v.mp4: no aac"; exit 1; }
[ "$(probe "$out/a.gif" v)" = gif ] || { echo "a.gif: not a GIF"; exit 1; }
[ "$(head -c 4 "$out/a.webp")" = RIFF ] || { echo "a.webp: not a WebP"; exit 1; }
[ "$(probe "$out/s1.jpg" v)" = mjpeg ] && [ -s "$out/s2.jpg" ] || { echo "snapshots missing"; exit 1; }
echo "every output made under memory-deny-write-execute"
