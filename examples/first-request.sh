#!/usr/bin/env bash
# A first task against a running mediaconvertd (scripts/quickstart.sh starts one): transcode
# oss://media/sample.mp4 to a 640x360 mp4 and an MP3, then poll GetTask until it ends.
set -euo pipefail
API=${API:-http://127.0.0.1:8080}

reply=$(curl -sS -X POST "$API/?Action=CreateMediaConvertTask&ProjectName=demo" \
  --data-urlencode 'Sources=[{"URI":"oss://media/sample.mp4"}]' \
  --data-urlencode 'Targets=[{"Container":"mp4","URI":"oss://out/sample-360p.mp4",
      "Video":{"TranscodeVideo":{"Codec":"h264","Resolution":"640x360"}},
      "Audio":{"TranscodeAudio":{"Codec":"aac","Bitrate":96000}}},
     {"Container":"mp3","URI":"oss://out/sample.mp3",
      "Audio":{"TranscodeAudio":{"Codec":"mp3","Channel":1}}}]')
echo "$reply"
task=$(printf '%s' "$reply" | sed -n 's/.*"TaskId":"\([^"]*\)".*/\1/p')
[ -n "$task" ] || exit 1
while :; do
  status=$(curl -sS -X POST "$API/?Action=GetTask&ProjectName=demo&TaskId=$task")
  case "$status" in
    *'"Status":"Running"'*) sleep 0.5 ;;
    *) echo "$status"; break ;;
  esac
done
case "$status" in *'"Status":"Succeeded"'*) echo "outputs are in var/buckets/out/" ;; *) exit 1 ;; esac
