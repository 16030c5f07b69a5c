#!/usr/bin/env bash
# The Debian package, built and installed the way a host gets it:
#
#  1. a Release build of SRC in a folder of its own, `cpack -G DEB`;
#  2. the control fields (version = the changelog's, Depends from dpkg-shlibdeps) and
#     `lintian`, which must report no error;
#  3. a clean Debian 12 root made by `debootstrap --variant=minbase` (kept as a tarball in
#     CACHE after the first run, which needs the Debian mirror): `dpkg --root --force-depends`
#     installs, re-installs, removes (configuration and state stay) and purges (they go)
#     the package there. The root has none of the libraries, so the installed programs are
#     run from the host, on the host's libraries;
#  4. when the mirror answers, a fresh copy of the root installs the package with apt, which
#     must find every dependency; the programs and the service on the installed
#     configuration run inside the root (chroot), and `apt-get purge` cleans up.
#
#   check-deb.sh SRC WORKDIR CACHE
#
# Needs root (dpkg --root runs the maintainer scripts in a chroot), debootstrap, lintian and
# dpkg-dev; skips (77) without them, or when no root can be made (no cache and no mirror).
# MC_DEBIAN_MIRROR picks the mirror (default http://deb.debian.org/debian).
set -euo pipefail
src=$1 work=$2 cache=$3
mirror=${MC_DEBIAN_MIRROR:-http://deb.debian.org/debian}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg --root runs maintainer scripts in a chroot)"
for tool in cmake cpack dpkg-deb dpkg-shlibdeps lintian debootstrap curl; do
    command -v "$tool" >/dev/null || skip "$tool is missing (packaging/debian-deps.txt)"
done

mkdir -p "$work"
tmp=$(mktemp -d "$work/check-deb.XXXXXX")
daemon_pid=
cleanup() {
    [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
start=$SECONDS
step() { echo "--- $* ($((SECONDS - start)) s)"; }

# 1. The package, from a Release build of its own (never the sanitizer build of the tests).
step "Release build and cpack"
cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DMC_BUILD_TESTS=OFF >/dev/null
cmake --build "$tmp/build" -j"$(nproc)" >/dev/null
(cd "$tmp/build" && cpack -G DEB >/dev/null)
debs=("$tmp"/build/mediaconvertd_*.deb)
if [ "${#debs[@]}" != 1 ] || [ ! -f "${debs[0]}" ]; then
    fail "cpack made no single .deb: ${debs[*]}"
fi
deb=${debs[0]}
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"

# 2. Control fields and lintian.
step "control fields"
field() { dpkg-deb -f "$deb" "$1"; }
project_version=$(sed -n 's/^project(mediaconvertd VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
changelog_version=$(sed -n '1s/^mediaconvertd (\([^)]*\)).*/\1/p' "$src/packaging/debian/changelog")
version=$(field Version)
[ "$version" = "$changelog_version" ] ||
    fail "package version $version, packaging/debian/changelog says $changelog_version"
[ "${version%-*}" = "$project_version" ] ||
    fail "package version $version is not project() version $project_version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for lib in libavcodec59 libavformat59 libmicrohttpd12 libsqlite3-0 libjansson4 libsystemd0; do
    grep -q "\b$lib\b" <<< "$depends" || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
echo "Depends: $depends"

step "lintian"
lrc=0
report=$(lintian --tag-display-limit 0 "$deb" 2>&1) || lrc=$?
report=$(grep -v '^running with root privileges' <<< "$report" || true)
echo "${report:-(nothing)}"
grep -q '^E: ' <<< "$report" && fail "lintian reports errors"
[ "$lrc" = 0 ] || fail "lintian exited with $lrc"
echo "lintian: $(grep -c '^E: ' <<< "$report" || true) errors," \
    "$(grep -c '^W: ' <<< "$report" || true) warnings"

# 3. A clean Debian 12 root, then install, re-install, remove and purge with dpkg --root.
if [ ! -f "$cache" ]; then
    step "debootstrap --variant=minbase bookworm (first run; cached in $cache)"
    mkdir -p "$(dirname "$cache")"
    debootstrap --variant=minbase bookworm "$tmp/bootstrap" "$mirror" > "$tmp/debootstrap.log" 2>&1 || {
        tail -5 "$tmp/debootstrap.log"
        skip "debootstrap could not make a Debian 12 root from $mirror"
    }
    tar -C "$tmp/bootstrap" -cf "$cache.part" . && mv "$cache.part" "$cache"
    rm -rf "$tmp/bootstrap"
fi
root=$tmp/root
mkdir "$root"
tar -C "$root" -xf "$cache"

step "dpkg --root install"
rdpkg() { dpkg --root="$root" --force-depends "$@"; }
status() { dpkg-query --root="$root" -W -f='${db:Status-Abbrev}' mediaconvertd 2>/dev/null || true; }
rdpkg -i "$deb" > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i"; }
[ "$(status)" = "ii " ] || fail "after install the package is '$(status)', not ii"
for f in usr/bin/mediaconvert usr/bin/mediaconvertd; do
    [ -x "$root/$f" ] || fail "/$f is not installed"
done
for f in lib/systemd/system/mediaconvertd.service etc/mediaconvertd/mediaconvertd.conf \
    usr/share/man/man1/mediaconvert.1.gz usr/share/man/man8/mediaconvertd.8.gz \
    usr/share/doc/mediaconvertd/copyright usr/share/doc/mediaconvertd/changelog.Debian.gz; do
    [ -f "$root/$f" ] || fail "/$f is not installed"
done
conffiles=$(dpkg-query --root="$root" -W -f='${Conffiles}' mediaconvertd)
grep -q '^ /etc/mediaconvertd/mediaconvertd.conf [0-9a-f]\{32\}$' <<< "$conffiles" ||
    fail "the configuration is not a conffile: '$conffiles'"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$root/lib/systemd/system/mediaconvertd.service")
[ -x "$root$exec_start" ] || fail "the unit's ExecStart=$exec_start is not in the package"
grep -q -- "--config /etc/mediaconvertd/mediaconvertd.conf" \
    "$root/lib/systemd/system/mediaconvertd.service" || fail "the unit does not read the conffile"
wants=$root/etc/systemd/system/multi-user.target.wants/mediaconvertd.service
[ "$(readlink "$wants")" = /lib/systemd/system/mediaconvertd.service ] ||
    fail "postinst did not enable the unit (no $wants link)"
zcat "$root/usr/share/man/man8/mediaconvertd.8.gz" | grep -q "^\.TH MEDIACONVERTD 8 .*$project_version" ||
    fail "mediaconvertd(8) does not carry version $project_version"

step "the installed programs (host libraries)"
"$root/usr/bin/mediaconvertd" --help | grep -q '^usage: mediaconvertd' || fail "mediaconvertd --help"
[ "$("$root/usr/bin/mediaconvert" --version)" = "mediaconvert $project_version" ] ||
    fail "mediaconvert --version"
"$root/usr/bin/mediaconvert" --help | grep -q '^usage: mediaconvert run' || fail "mediaconvert --help"

# The service starts on the installed configuration, and on it with every commented-out
# example setting switched on (so the examples in the file are valid), and serves /healthz.
serve() { # serve CONFIG: start, wait for the port, GET /healthz, SIGTERM, exit status 0
    local conf=$1 data port
    data=$(mktemp -d "$tmp/data.XXXXXX")
    "$root/usr/bin/mediaconvertd" --config "$conf" --data-dir "$data" --listen 127.0.0.1:0 \
        --port-file "$data/port" 2> "$data/log" &
    daemon_pid=$!
    for _ in $(seq 100); do
        [ -s "$data/port" ] || ! kill -0 "$daemon_pid" 2>/dev/null && break
        sleep 0.1
    done
    port=$(cat "$data/port" 2>/dev/null || true)
    [ -n "$port" ] || { cat "$data/log"; fail "mediaconvertd did not start on $conf"; }
    curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"Status":"OK"' ||
        { cat "$data/log"; fail "no /healthz from mediaconvertd on $conf"; }
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || { cat "$data/log"; fail "mediaconvertd on $conf exited with $?"; }
    daemon_pid=
}
serve "$root/etc/mediaconvertd/mediaconvertd.conf"
sed -E -e 's/^;(\[[a-z_]+\])$/\1/' -e 's/^;([A-Za-z0-9_-]+ = )/\1/' \
    "$root/etc/mediaconvertd/mediaconvertd.conf" > "$tmp/examples.conf"
grep -q '^\[keys\]' "$tmp/examples.conf" || fail "the configuration lost its [keys] example"
serve "$tmp/examples.conf"

# The service's state as systemd makes it under DynamicUser=, and a local edit.
mkdir -p "$root/var/lib/private/mediaconvertd/buckets"
touch "$root/var/lib/private/mediaconvertd/tasks.db"
ln -s private/mediaconvertd "$root/var/lib/mediaconvertd"
echo "; local edit" >> "$root/etc/mediaconvertd/mediaconvertd.conf"

step "dpkg --root re-install keeps the edit"
rdpkg -i "$deb" > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i again"; }
grep -q '^; local edit$' "$root/etc/mediaconvertd/mediaconvertd.conf" ||
    fail "re-installing overwrote the edited configuration"
[ -L "$wants" ] || fail "re-installing lost the enable link"

step "dpkg --root -r"
rdpkg -r mediaconvertd > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -r"; }
[ "$(status)" = "rc " ] || fail "after remove the package is '$(status)', not rc"
for f in usr/bin/mediaconvert usr/bin/mediaconvertd lib/systemd/system/mediaconvertd.service; do
    [ ! -e "$root/$f" ] || fail "remove left /$f"
done
grep -q '^; local edit$' "$root/etc/mediaconvertd/mediaconvertd.conf" ||
    fail "remove did not keep the configuration"
[ -f "$root/var/lib/mediaconvertd/tasks.db" ] || fail "remove did not keep the state"

step "dpkg --root -P"
rdpkg -P mediaconvertd > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -P"; }
[ -z "$(status)" ] || [ "$(status)" = "un " ] || fail "after purge the package is '$(status)'"
for f in etc/mediaconvertd var/lib/mediaconvertd var/lib/private/mediaconvertd; do
    if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then fail "purge left /$f"; fi
done
left=$(find "$root/etc/systemd" "$root/var/lib/systemd" -name '*mediaconvertd*' 2>/dev/null)
[ -z "$left" ] || fail "purge left unit links or state: $left"

# 4. apt in a fresh copy of the root: Depends complete, programs run inside the root.
step "apt-get install in a clean root"
rm -rf "$root" && mkdir "$root" && tar -C "$root" -xf "$cache"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
if ! in_root apt-get update -q > "$tmp/apt.log" 2>&1; then
    tail -3 "$tmp/apt.log"
    echo "NOTE: the mirror does not answer: apt stage left out (dpkg --root stages passed)"
    exit 0
fi
in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb")" \
    > "$tmp/apt.log" 2>&1 || { tail -20 "$tmp/apt.log"; fail "apt-get install"; }
grep -E 'newly installed' "$tmp/apt.log"
in_root mediaconvertd --help | grep -q '^usage: mediaconvertd' || fail "mediaconvertd --help in the root"
[ "$(in_root mediaconvert --version)" = "mediaconvert $project_version" ] ||
    fail "mediaconvert --version in the root"
# shellcheck disable=SC2016 # expanded by the root's shell
in_root sh -c 'mediaconvertd --config /etc/mediaconvertd/mediaconvertd.conf \
    --data-dir /tmp/data --listen 127.0.0.1:0 --port-file /tmp/port & pid=$!
    for i in $(seq 100); do [ -s /tmp/port ] && break; sleep 0.1; done
    kill -TERM $pid; wait $pid && [ -s /tmp/port ] && [ -f /tmp/data/tasks.db ]' 2> "$tmp/run.log" ||
    { cat "$tmp/run.log"; fail "mediaconvertd did not serve inside the root"; }
in_root apt-get purge -y -q mediaconvertd > "$tmp/apt.log" 2>&1 || { tail "$tmp/apt.log"; fail "apt-get purge"; }
[ ! -e "$root/etc/mediaconvertd" ] || fail "apt-get purge left /etc/mediaconvertd"
step "done"
