#!/usr/bin/env bash
# The service unit: `systemd-analyze verify` finds nothing wrong with it (ExecStart pointed
# at the binary just built), and `systemd-analyze security` rates its exposure at most
# MAX_EXPOSURE (systemd's scale: 0 safe .. 10 unsafe; 3.0 or less counts as "OK").
#
#   check-unit.sh UNIT DAEMON_BINARY WORKDIR
set -euo pipefail
unit=$1 daemon=$2 work=$3
MAX_EXPOSURE=3.0
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (package systemd)"; exit 1; }
mkdir -p "$work"
copy="$work/$(basename "$unit")"
# The man pages come with the package: verify would look them up; the rest is as shipped.
sed -e "s#/usr/bin/mediaconvertd#$daemon#" -e '/^Documentation=/d' "$unit" > "$copy"
grep -q "^ExecStart=$daemon " "$copy" || { echo "ExecStart does not start $daemon"; exit 1; }
out=$(systemd-analyze verify "$copy" 2>&1) || { echo "$out"; echo "verify failed"; exit 1; }
[ -z "$out" ] || { echo "$out"; echo "verify complained"; exit 1; }
echo "verify: clean"
report=$(systemd-analyze security --offline=yes "$copy" 2>&1) || true
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<< "$report")
[ -n "$level" ] || { echo "$report"; echo "no exposure level in the report"; exit 1; }
echo "security: exposure $level (at most $MAX_EXPOSURE)"
awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }' || {
    grep '✗' <<< "$report"
    exit 1
}
# What the service relies on, so that a later edit cannot drop it silently.
for want in "Type=notify" "ExecReload=/bin/kill -HUP \$MAINPID" "WatchdogSec=" "DynamicUser=yes" \
            "StateDirectory=mediaconvertd" \
            "ConfigurationDirectory=mediaconvertd" "SupplementaryGroups=render video" \
            "DeviceAllow=char-drm rw" "DeviceAllow=char-nvidia\* rw" "ProtectSystem=strict" \
            "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service"; do
    grep -q "^$want" "$copy" || { echo "the unit lost $want"; exit 1; }
done
