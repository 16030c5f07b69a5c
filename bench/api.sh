#!/usr/bin/env bash
# Control-plane throughput of mediaconvertd on loopback, measured with wrk.
#
#   MC_DAEMON=build/mediaconvertd bench/api.sh [--duration S] [--warmup S] [--conns "8 32 64"]
#       [--threads N] [--http-threads N] [--worker fail|park] [--out FILE.md | --no-save]
#
# Starts the daemon on 127.0.0.1 (port 0, unsigned requests: no [keys]) with a fresh data
# folder under bench/work/, then measures, at each connection count:
#   - GetTask on one existing task (a read: the pool of read connections),
#   - CreateMediaConvertTask, durable: the daemon answers 200 only once the row is committed
#     (SQLite WAL, synchronous=FULL, group commit), so this measures the commit path.
# Each measurement follows a warm-up run at the same connection count. Any response other
# than 200 (wrk's "Non-2xx or 3xx" count and the daemon's own /metrics counters), or any
# socket error, fails the run. Afterwards it reports the daemon's peak RSS (VmHWM), counts
# the tasks stored (GET /metrics while running, then sqlite3 on the file after a SIGKILL,
# where sqlite3 is installed) and checks that every create answered 200 is there.
#
# One worker runs (the configuration's minimum). --worker fail (default): the tasks name a
# source that does not exist, so the worker fails each one at once (ResourceNotFound) and
# drains the queue; its claim and finish writes share the writer with the creates, as in
# production. --worker park: the tasks name a FIFO, so the worker blocks opening the first
# one and the rest stay queued: the create figures without a worker's writes.
#
# Prints a Markdown table; saves it to bench/results/<date>-api-<cpu>-<N>core.md unless
# --out names another file or --no-save is given (a run with errors is never saved).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
warmup=2
conns="8 32 64"
threads=2
http_threads=4
worker=fail
out=""
save=1
usage() {
    cat >&2 <<'EOF'
usage: [MC_DAEMON=PATH] bench/api.sh [--duration S] [--warmup S] [--conns "8 32 64"]
           [--threads N] [--http-threads N] [--worker fail|park] [--out FILE.md | --no-save]

MC_DAEMON is the mediaconvertd binary to measure (default build/mediaconvertd). Build a
release binary first, e.g.:
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMC_BUILD_TESTS=OFF
  cmake --build build -j --target mediaconvertd
Needs wrk and curl; sqlite3 (optional) recounts the tasks in the file after the run.
EOF
}
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --conns) conns="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --http-threads) http_threads="$2"; shift 2 ;;
    --worker) worker="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-save) save=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
    esac
done
case "$worker" in fail | park) ;; *) usage; exit 2 ;; esac
for n in $duration $warmup $threads $http_threads $conns; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "api.sh: \"$n\" is not a whole number" >&2; exit 2; }
done

bin="${MC_DAEMON:-build/mediaconvertd}"
if [ ! -x "$bin" ]; then
    echo "api.sh: no daemon at $bin" >&2
    usage
    exit 2
fi
for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "api.sh: $tool is not installed (apt-get install $tool)" >&2; exit 2; }
done

# ---- machine and build ----
ncpu=$(nproc)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/ *$//')
# "AMD EPYC 7B13 64-Core Processor" -> epyc-7b13; "Intel(R) Xeon(R) Platinum 8375C CPU @
# 2.90GHz" -> xeon-platinum-8375c; "AMD EPYC" -> epyc.
cpu_short=$(echo "$cpu" | tr 'A-Z' 'a-z' | sed -E 's/\((r|tm)\)//g; s/@.*//; s/[0-9]+-core//g;
    s/\b(amd|intel|processor|cpu|genuine|authentic)\b//g; s/[^a-z0-9]+/-/g; s/^-+//; s/-+$//')
[ -n "$cpu_short" ] || cpu_short=cpu
cache="$(dirname "$bin")/CMakeCache.txt"
build_type=unknown
if [ -f "$cache" ]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
    flags=$(sed -n "s/^CMAKE_C_FLAGS_$(echo "${build_type:-none}" | tr a-z A-Z):[A-Z]*=//p" "$cache")
    [ -n "$flags" ] && build_type="$build_type ($flags)"
    grep -q '^MC_SANITIZE:BOOL=ON' "$cache" && build_type="$build_type, SANITIZERS ON"
fi
case "$build_type" in
Release* | RelWithDebInfo*) ;;
*) echo "api.sh: warning: $bin is a \"$build_type\" build; the figures want a Release build" >&2 ;;
esac
wrk_version=$(wrk --version 2>&1 | head -1 | awk '{print $2}' || true)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the daemon ----
mkdir -p bench/work
# On the repository's file system, not /tmp: fsync on a tmpfs costs nothing.
dir=$(mktemp -d "${MC_BENCH_DIR:-$PWD/bench/work}/api.XXXXXX")
fstype=$(df --output=fstype "$dir" | tail -1)
[ "$fstype" = tmpfs ] && echo "api.sh: warning: $dir is on tmpfs: fsync is free there" >&2
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    [ -n "${MC_BENCH_KEEP:-}" ] && echo "api.sh: kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/buckets/media" "$dir/buckets/out"
if [ "$worker" = park ]; then
    mkfifo "$dir/buckets/media/park.wav"
    source_uri=oss://media/park.wav
else
    source_uri=oss://media/none.wav
fi
cat > "$dir/config.ini" <<EOF
[projects]
bench =
[server]
http_threads = $http_threads
[workers]
count = 1
[limits]
queue_max = 10000000
EOF
"$bin" --config "$dir/config.ini" --listen 127.0.0.1:0 --data-dir "$dir" --port-file "$dir/port" \
    >"$dir/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    [ -s "$dir/port" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "api.sh: the daemon exited:" >&2; cat "$dir/daemon.log" >&2; exit 1; }
    sleep 0.1
done
[ -s "$dir/port" ] || { echo "api.sh: no port file after 10 s" >&2; cat "$dir/daemon.log" >&2; exit 1; }
port=$(cat "$dir/port")
base="http://127.0.0.1:$port"
echo "daemon $bin (pid $pid) on $base, data in $dir ($fstype), worker mode $worker" >&2

# ---- helpers ----
urlenc() { # the one string argument, percent-encoded
    local s="$1" i c o=""
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        case "$c" in [a-zA-Z0-9.~_-]) o+="$c" ;; *) printf -v c '%%%02X' "'$c"; o+="$c" ;; esac
    done
    echo "$o"
}
metric() { # name: the sum of a metric's series (all labels) from GET /metrics
    curl -sf "$base/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {print s + 0}'
}
bad_responses() { # responses of any class but 2xx that the daemon has sent so far
    curl -sf "$base/metrics" | awk '/^mediaconvertd_http_responses_total/ && !/2xx/ {s += $2} END {print s + 0}'
}
thread_ticks() { # "http other": CPU ticks of the daemon's HTTP threads and of all its others
    local f
    for f in /proc/"$pid"/task/*/stat; do cat "$f" 2>/dev/null || true; done |
        awk '{c = $0; sub(/^[0-9]+ \(/, "", c); name = substr(c, 1, index(c, ") ") - 1);
              rest = substr($0, index($0, ") ") + 2); split(rest, f, " ");
              t = f[12] + f[13]; if (name == "MHD-worker") h += t; else o += t}
              END {print h + 0, o + 0}'
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)
ms() { awk -v us="$1" 'BEGIN {printf "%.2f", us / 1000}'; }

# One wrk run. Sets: r_rps r_req r_p50 r_p99 r_max r_status r_sock r_bad (daemon-side
# non-2xx during the run) r_http r_other r_wrk r_busy (CPU, % of one core).
run_wrk() { # script conns seconds
    local script="$1" c="$2" secs="$3" t=$threads log="$dir/wrk.out"
    ((t > c)) && t=$c
    local bad0 h0 o0 h1 o1 busy0 busy1 t0 t1 u s
    bad0=$(bad_responses)
    read -r h0 o0 < <(thread_ticks)
    busy0=$(busy_ticks)
    t0=$(date +%s.%N)
    local TIMEFORMAT='%U %S'
    { time env MC_TASK_ID="${task_id:-}" MC_SOURCE_URI="$source_uri" \
        wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "bench/wrk/$script" "$base" >"$log" 2>&1; } 2>"$dir/time.out" ||
        { echo "api.sh: wrk failed:" >&2; cat "$log" >&2; exit 1; }
    t1=$(date +%s.%N)
    busy1=$(busy_ticks)
    read -r h1 o1 < <(thread_ticks)
    r_bad=$(($(bad_responses) - bad0))
    local line
    line=$(grep '^MCRESULT' "$log") || { echo "api.sh: no result from wrk:" >&2; cat "$log" >&2; exit 1; }
    eval "$(echo "$line" | tr ' ' '\n' | grep = | sed 's/^/w_/')"
    r_req=$w_requests
    r_rps=$(awk -v n="$w_requests" -v us="$w_duration_us" 'BEGIN {printf "%.0f", n / (us / 1e6)}')
    r_p50=$(ms "$w_p50_us")
    r_p99=$(ms "$w_p99_us")
    r_max=$(ms "$w_max_us")
    # wrk counts a status above 399 here; it prints it as "Non-2xx or 3xx responses".
    r_status=$w_status
    local non2xx
    non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *//p' "$log")
    [ -n "$non2xx" ] && ((non2xx > r_status)) && r_status=$non2xx
    r_sock=$((w_connect + w_read + w_write + w_timeout))
    local wall
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
    r_http=$(awk -v d=$((h1 - h0)) -v hz="$hz" -v w="$wall" 'BEGIN {printf "%.0f", 100 * d / hz / w}')
    r_other=$(awk -v d=$((o1 - o0)) -v hz="$hz" -v w="$wall" 'BEGIN {printf "%.0f", 100 * d / hz / w}')
    r_busy=$(awk -v d=$((busy1 - busy0)) -v hz="$hz" -v w="$wall" 'BEGIN {printf "%.0f", 100 * d / hz / w}')
    read -r u s <"$dir/time.out"
    r_wrk=$(awk -v u="$u" -v s="$s" -v w="$wall" 'BEGIN {printf "%.0f", 100 * (u + s) / w}')
}

errors=0
rows=()
created=0 # creates that wrk saw answered (all 200, or the run fails), warm-ups included
inflight=0 # requests that may have been in flight when a wrk run stopped
declare -A best_rps best_c best_p99 met
measure() { # label script
    local label="$1" script="$2" c
    best_rps[$label]=0
    for c in $conns; do
        echo "$label: warm-up ${warmup}s, then ${duration}s at $c connections..." >&2
        if ((warmup > 0)); then
            run_wrk "$script" "$c" "$warmup"
            [ "$script" = create.lua ] && created=$((created + r_req - r_status)) && inflight=$((inflight + c))
            if ((r_status + r_sock + r_bad > 0)); then
                echo "api.sh: ERROR: $label warm-up at $c connections: $r_status non-2xx (wrk)," \
                    "$r_bad non-2xx (daemon), $r_sock socket errors" >&2
                errors=$((errors + 1))
            fi
        fi
        local q0 q1
        q0=$(metric mediaconvertd_queue_depth)
        run_wrk "$script" "$c" "$duration"
        q1=$(metric mediaconvertd_queue_depth)
        [ "$script" = create.lua ] && created=$((created + r_req - r_status)) && inflight=$((inflight + c))
        local nb=$((r_status > r_bad ? r_status : r_bad))
        if ((r_status + r_sock + r_bad > 0)); then
            echo "api.sh: ERROR: $label at $c connections: $r_status non-2xx (wrk)," \
                "$r_bad non-2xx (daemon), $r_sock socket errors" >&2
            sed -n '1,/^MCRESULT/p' "$dir/wrk.out" >&2
            errors=$((errors + 1))
        fi
        rows+=("| $label | $c | $r_rps | $r_p50 | $r_p99 | $r_max | $nb | $r_sock | $r_http / $r_other | $r_wrk | $r_busy | $q0 -> $q1 |")
        if ((r_rps > best_rps[$label])); then
            best_rps[$label]=$r_rps
            best_c[$label]=$c
            best_p99[$label]=$r_p99
        fi
    done
}

# ---- a task to read ----
sources=$(urlenc "[{\"URI\":\"$source_uri\"}]")
targets=$(urlenc '[{"Container":"mp3","URI":"oss://out/x.mp3"}]')
reply=$(curl -s -w '\n%{http_code}' -X POST \
    "$base/?Action=CreateMediaConvertTask&ProjectName=bench&Sources=$sources&Targets=$targets")
code=$(echo "$reply" | tail -1)
task_id=$(echo "$reply" | head -1 | sed -n 's/.*"TaskId" *: *"\([^"]*\)".*/\1/p')
if [ "$code" != 200 ] || [ -z "$task_id" ]; then
    echo "api.sh: CreateMediaConvertTask answered $code: $(echo "$reply" | head -1)" >&2
    exit 1
fi
created=1
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    "$base/?Action=GetTask&ProjectName=bench&TaskId=$task_id&TaskType=MediaConvert")
[ "$code" = 200 ] || { echo "api.sh: GetTask $task_id answered $code" >&2; exit 1; }

measure GetTask get.lua
measure CreateMediaConvertTask create.lua

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- what the daemon holds afterwards ----
# Creates that were in flight when wrk stopped still commit: wait until the count settles.
count_tasks() { curl -sf "$base/metrics" | awk '/^mediaconvertd_tasks\{/ {s += $2} END {print s + 0}'; }
prev=-1
for _ in $(seq 50); do
    now=$(count_tasks)
    [ "$now" = "$prev" ] && break
    prev=$now
    sleep 0.2
done
hwm_kb=$(awk '/^VmHWM/ {print $2}' /proc/"$pid"/status)
rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
declare -A phase
total=0
while read -r name n; do
    phase[$name]=$n
    total=$((total + n))
done < <(curl -sf "$base/metrics" | sed -n 's/^mediaconvertd_tasks{phase="\([A-Za-z]*\)"} \([0-9]*\)$/\1 \2/p')
workers_running=$(metric mediaconvertd_tasks_running)
log_errors=$(grep -c '^mediaconvertd: error:' "$dir/daemon.log" || true)
log_lines=$(wc -l <"$dir/daemon.log")
# No clean shutdown: what was answered 200 must already be in the file.
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=""
file_count="(sqlite3 not installed)"
if command -v sqlite3 >/dev/null; then
    file_count=$(sqlite3 "$dir/tasks.db" 'SELECT count(*) FROM tasks') || file_count="(sqlite3 failed)"
fi
db_mb=$(du -cm "$dir"/tasks.db* | tail -1 | cut -f1)

if ((total < created)); then
    echo "api.sh: ERROR: $created creates were answered 200 but the store holds $total tasks" >&2
    errors=$((errors + 1))
elif ((total > created + inflight)); then
    echo "api.sh: ERROR: the store holds $total tasks, more than the $created creates" \
        "answered plus $inflight that may have been in flight" >&2
    errors=$((errors + 1))
fi
if [[ "$file_count" =~ ^[0-9]+$ ]] && ((file_count != total)); then
    echo "api.sh: ERROR: /metrics counted $total tasks, the file after SIGKILL $file_count" >&2
    errors=$((errors + 1))
fi
if ((log_errors > 0)); then
    echo "api.sh: ERROR: the daemon logged $log_errors errors:" >&2
    grep '^mediaconvertd: error:' "$dir/daemon.log" | head -5 >&2
    errors=$((errors + 1))
fi

verdict() { # label target-rps p99-limit-ms (empty: none)
    local label="$1" want="$2" lim="$3" row c rps p99 ok=""
    for row in "${rows[@]}"; do
        IFS='|' read -r _ l c rps _ p99 _ <<<"$row"
        [ "$(echo $l)" = "$label" ] || continue
        if ((rps >= want)) && { [ -z "$lim" ] || awk -v p="$p99" -v l="$lim" 'BEGIN {exit !(p < l)}'; }; then
            ok="${ok:+$ok, }$(echo $c) connections"
        fi
    done
    [ -n "$ok" ] && echo "met at $ok" || echo "NOT met"
}
if [ "$worker" = park ]; then
    worker_note="1 worker, parked: it blocks opening the first task's source (a FIFO), so the other tasks stay queued and the worker writes nothing"
else
    worker_note="1 worker, running: every task names a source that does not exist, so the worker fails it at once (ResourceNotFound); its claim and finish writes share the writer with the creates"
fi
report=$(
    echo "# mediaconvertd control plane (HTTP API on loopback), $(date +%F)"
    echo
    echo "Machine: $cpu, $ncpu cores (nproc), load average $load_start at the start, $load_end at the end."
    echo "Daemon: $(basename "$bin"), $build_type build; $http_threads HTTP threads;" \
        "$worker_note. Task store on $fstype: SQLite WAL, synchronous=FULL, group commit."
    echo "Load: wrk $wrk_version, $threads threads, ${duration} s per run after a ${warmup} s warm-up at" \
        "the same connection count; V2 RPC requests (POST /?Action=...), unsigned. Latencies" \
        "from wrk --latency; CPU in % of one core over the run (daemon: HTTP threads / its other" \
        "threads; machine: all busy time, other processes included). Queued tasks: the queue" \
        "depth before and after the measured run (the worker drains it, or not when parked)."
    echo
    echo "| action | connections | req/s | p50 ms | p99 ms | max ms | non-2xx | socket errors | daemon CPU % | wrk CPU % | machine CPU % | queued tasks |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "- GetTask: best ${best_rps[GetTask]} req/s at ${best_c[GetTask]} connections" \
        "(p99 ${best_p99[GetTask]} ms); target >= 5,000/s with p99 < 10 ms:" \
        "$(verdict GetTask 5000 10)."
    echo "- CreateMediaConvertTask: best ${best_rps[CreateMediaConvertTask]} creates/s at" \
        "${best_c[CreateMediaConvertTask]} connections (p99 ${best_p99[CreateMediaConvertTask]} ms);" \
        "target >= 500/s: $(verdict CreateMediaConvertTask 500 "")."
    echo "- Daemon peak RSS (VmHWM): $((hwm_kb / 1024)) MiB ($((rss_kb / 1024)) MiB at the end)."
    states=""
    for s in Queued Running Succeeded Failed Canceled; do
        [ "${phase[$s]:-0}" -gt 0 ] && states="${states:+$states, }$s ${phase[$s]}"
    done
    echo "- Tasks stored afterwards: $total by GET /metrics ($states; worker busy at the end: $workers_running of 1);" \
        "$file_count counted by sqlite3 in the file after a SIGKILL of the daemon. Creates" \
        "answered 200: $created (1 seed + wrk's counts, warm-ups included; up to $inflight more" \
        "may have been in flight when wrk stopped). Database with WAL: $db_mb MiB."
    echo "- Daemon log: $log_lines lines, $log_errors errors."
)
echo "$report"
if ((errors > 0)); then
    echo "api.sh: FAILED: $errors check(s) failed (see above); nothing saved" >&2
    exit 1
fi
if ((save)); then
    [ -n "$out" ] || out="bench/results/$(date +%F)-api-$cpu_short-${ncpu}core.md"
    mkdir -p "$(dirname "$out")"
    echo "$report" >"$out"
    echo "saved $out" >&2
fi
