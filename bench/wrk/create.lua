-- wrk script for bench/api.sh: CreateMediaConvertTask (IMM V2 RPC style, unsigned).
--   wrk -t2 -c32 -d10s -s bench/wrk/create.lua http://127.0.0.1:PORT
-- Every request creates a new durable task: the daemon answers 200 only once the row is
-- committed (SQLite WAL, synchronous=FULL, group commit). The source (MC_SOURCE_URI, default
-- oss://media/none.wav) does not exist, so a worker that takes the task fails it at once
-- (ResourceNotFound) and stays cheap. MC_PROJECT (default "bench") names the project.
-- done() prints one machine-readable "MCRESULT" line (latencies in microseconds) that
-- bench/api.sh parses.
local project = os.getenv("MC_PROJECT") or "bench"

local function urlencode(s)
    return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local source = os.getenv("MC_SOURCE_URI") or "oss://media/none.wav"
local sources = '[{"URI":"' .. source .. '"}]'
local targets = '[{"Container":"mp3","URI":"oss://out/x.mp3"}]'

wrk.method = "POST"
wrk.path = "/?Action=CreateMediaConvertTask&ProjectName=" .. project ..
           "&Sources=" .. urlencode(sources) .. "&Targets=" .. urlencode(targets)
wrk.body = "" -- sends Content-Length: 0

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "MCRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
        "status=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
