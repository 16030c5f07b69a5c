/*
 * GET /metrics: Prometheus text exposition format 0.0.4.
 */
#include <stdlib.h>

#include "api_internal.h"

enum MHD_Result api_metrics(api_req *r)
{
    const mc_api_deps *d = &r->api->deps;
    mc_err err = {0};
    int64_t counts[MC_TASK_NSTATES] = {0};
    int64_t pending = 0, delivered = 0, failed = 0;
    if (mc_db_task_counts(d->db, counts, &err) < 0 ||
        mc_db_outbox_counts(d->db, &pending, &delivered, &failed, &err) < 0)
        return api_reply_errorf(r, "ServiceUnavailable", "task store: %s", err.msg);
    mc_sched_stats st;
    mc_sched_get_stats(d->sched, &st);

    mc_buf b = {0};
    mc_buf_puts(&b, "# HELP mediaconvertd_tasks Tasks in the store, by phase.\n"
                    "# TYPE mediaconvertd_tasks gauge\n");
    for (int s = 0; s < MC_TASK_NSTATES; s++)
        mc_buf_printf(&b, "mediaconvertd_tasks{phase=\"%s\"} %lld\n",
                      mc_task_state_name((enum mc_task_state)s), (long long)counts[s]);
    mc_buf_printf(&b,
                  "# HELP mediaconvertd_queue_depth Tasks waiting for a worker.\n"
                  "# TYPE mediaconvertd_queue_depth gauge\n"
                  "mediaconvertd_queue_depth %lld\n"
                  "# HELP mediaconvertd_tasks_running Tasks running in this process.\n"
                  "# TYPE mediaconvertd_tasks_running gauge\n"
                  "mediaconvertd_tasks_running %d\n"
                  "# HELP mediaconvertd_workers Worker slots.\n"
                  "# TYPE mediaconvertd_workers gauge\n"
                  "mediaconvertd_workers %d\n",
                  (long long)counts[MC_TASK_QUEUED], st.running, st.workers);
    mc_buf_puts(&b, "# HELP mediaconvertd_tasks_finished_total Tasks finished by this process.\n"
                    "# TYPE mediaconvertd_tasks_finished_total counter\n");
    for (int s = MC_TASK_SUCCEEDED; s < MC_TASK_NSTATES; s++)
        mc_buf_printf(&b, "mediaconvertd_tasks_finished_total{phase=\"%s\"} %lld\n",
                      mc_task_state_name((enum mc_task_state)s), (long long)st.finished[s]);
    mc_buf_puts(&b, "# HELP mediaconvertd_task_duration_seconds Wall-clock time of a task.\n"
                    "# TYPE mediaconvertd_task_duration_seconds histogram\n");
    for (int i = 0; i < MC_SCHED_DURATION_BUCKETS; i++)
        mc_buf_printf(&b, "mediaconvertd_task_duration_seconds_bucket{le=\"%g\"} %lld\n",
                      mc_sched_duration_bounds[i], (long long)st.duration_buckets[i]);
    mc_buf_printf(&b,
                  "mediaconvertd_task_duration_seconds_bucket{le=\"+Inf\"} %lld\n"
                  "mediaconvertd_task_duration_seconds_sum %.3f\n"
                  "mediaconvertd_task_duration_seconds_count %lld\n",
                  (long long)st.duration_count, st.duration_sum, (long long)st.duration_count);
    mc_buf_printf(&b,
                  "# HELP mediaconvertd_input_bytes_total Bytes of input read by finished "
                  "tasks.\n"
                  "# TYPE mediaconvertd_input_bytes_total counter\n"
                  "mediaconvertd_input_bytes_total %lld\n"
                  "# HELP mediaconvertd_output_bytes_total Bytes of output written.\n"
                  "# TYPE mediaconvertd_output_bytes_total counter\n"
                  "mediaconvertd_output_bytes_total %lld\n",
                  (long long)st.bytes_in, (long long)st.bytes_out);
    mc_buf_printf(&b,
                  "# HELP mediaconvertd_notifications Notifications in the outbox, by state.\n"
                  "# TYPE mediaconvertd_notifications gauge\n"
                  "mediaconvertd_notifications{state=\"pending\"} %lld\n"
                  "mediaconvertd_notifications{state=\"delivered\"} %lld\n"
                  "mediaconvertd_notifications{state=\"failed\"} %lld\n",
                  (long long)pending, (long long)delivered, (long long)failed);
    mc_buf_puts(&b, "# HELP mediaconvertd_http_responses_total HTTP responses, by status "
                    "class.\n"
                    "# TYPE mediaconvertd_http_responses_total counter\n");
    for (int c = 1; c < 6; c++)
        mc_buf_printf(&b, "mediaconvertd_http_responses_total{class=\"%dxx\"} %lld\n", c,
                      (long long)atomic_load(&r->api->http_status[c]));
    char *text = mc_buf_steal(&b);
    if (!text)
        return api_reply_errorf(r, "InternalError", "out of memory");
    return api_reply_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text);
}
