-- wrk script for bench/api.sh: GetTask on one existing task (IMM V2 RPC style, unsigned).
--   MC_TASK_ID=MediaConvert-... wrk -t2 -c32 -d10s -s bench/wrk/get.lua http://127.0.0.1:PORT
-- MC_PROJECT (default "bench") names the project. done() prints one machine-readable
-- "MCRESULT" line (latencies in microseconds) that bench/api.sh parses.
local project = os.getenv("MC_PROJECT") or "bench"
local task_id = os.getenv("MC_TASK_ID")
if not task_id or task_id == "" then
    error("get.lua: set MC_TASK_ID to an existing task's id")
end

wrk.method = "POST"
wrk.path = "/?Action=GetTask&ProjectName=" .. project .. "&TaskId=" .. task_id ..
           "&TaskType=MediaConvert"
wrk.body = "" -- sends Content-Length: 0

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "MCRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
        "status=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
