/*
 * GET /metrics: Prometheus text exposition format 0.0.4.
 */
#include <stddef.h>
#include <stdlib.h>

#include "api_internal.h"

/* Per-device sessions, throughput, fallbacks and copies. */
static void device_metrics(mc_buf *b, const mc_hw_registry *reg)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"device_sessions_in_use", "gauge", "Sessions in use, by device and kind."},
        {"device_sessions_capacity", "gauge", "Session capacity, by device and kind."},
        {"device_healthy", "gauge", "1 when the device is healthy, 0 when degraded or failing."},
        {"device_tasks_total", "counter", "Tasks run on the device."},
        {"device_frames_total", "counter", "Frames decoded by tasks run on the device."},
        {"device_busy_seconds_total", "counter", "Time tasks ran on the device."},
        {"device_fallbacks_total", "counter",
         "Tasks that failed on the device and succeeded on "
         "software."},
        {"device_copies_total", "counter", "Frames copied between device and system memory."},
    };
    size_t n = mc_hw_registry_count(reg);
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        mc_buf_printf(b, "# HELP mediaconvertd_%s %s\n# TYPE mediaconvertd_%s %s\n", fam[f].name,
                      fam[f].help, fam[f].name, fam[f].type);
        for (size_t i = 0; i < n; i++) {
            const mc_hw_device *dev = mc_hw_registry_device(reg, i);
            const char *nm = mc_hw_device_name(dev);
            mc_hw_device_stats st;
            mc_hw_device_get_stats(dev, &st);
            switch (f) {
            case 0:
            case 1:
                for (int k = 0; k < 2; k++)
                    mc_buf_printf(b, "mediaconvertd_%s{device=\"%s\",kind=\"%s\"} %d\n",
                                  fam[f].name, nm, k ? "encode" : "decode",
                                  f == 0 ? mc_hw_device_in_use(dev, k)
                                         : mc_hw_device_capacity(dev, k));
                break;
            case 2:
                mc_buf_printf(b, "mediaconvertd_%s{device=\"%s\"} %d\n", fam[f].name, nm,
                              mc_hw_device_health(dev) == MC_HW_HEALTHY);
                break;
            case 3:
            case 4:
            case 6:
                mc_buf_printf(b, "mediaconvertd_%s{device=\"%s\"} %lld\n", fam[f].name, nm,
                              (long long)(f == 3   ? st.tasks
                                          : f == 4 ? st.frames
                                                   : st.fallbacks));
                break;
            case 5:
                mc_buf_printf(b, "mediaconvertd_%s{device=\"%s\"} %.3f\n", fam[f].name, nm,
                              st.seconds);
                break;
            default:
                mc_buf_printf(b,
                              "mediaconvertd_%s{device=\"%s\",direction=\"upload\"} %lld\n"
                              "mediaconvertd_%s{device=\"%s\",direction=\"download\"} %lld\n",
                              fam[f].name, nm, (long long)st.uploads, fam[f].name, nm,
                              (long long)st.downloads);
            }
        }
    }
}

/* A label value with \, " and newlines escaped (Prometheus text format). */
static void put_label(mc_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            mc_buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            mc_buf_puts(b, "\\n");
        else
            mc_buf_printf(b, "%c", *s);
    }
}

/* Credits per access key and front door (the usage table: kept when tasks are collected). */
static void usage_metrics(mc_buf *b, const mc_db_usage *u, size_t n)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } series[] = {
        {"mediaconvertd_metered_tasks_total", "Tasks created with an access key.",
         offsetof(mc_db_usage, tasks)},
        {"mediaconvertd_credits_charged_total", "Credits charged when tasks were created.",
         offsetof(mc_db_usage, charged)},
        {"mediaconvertd_credits_refunded_total",
         "Credits given back for tasks that failed or were canceled.",
         offsetof(mc_db_usage, refunded)},
        {"mediaconvertd_metered_calls_total",
         "Billed calls that are not tasks (FFmpeg API upload and probe).",
         offsetof(mc_db_usage, calls)},
    };
    for (size_t k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
        mc_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", series[k].name, series[k].help,
                      series[k].name);
        for (size_t i = 0; i < n; i++) {
            mc_buf_printf(b, "%s{key=\"", series[k].name);
            put_label(b, u[i].owner);
            mc_buf_puts(b, "\",dialect=\"");
            put_label(b, u[i].dialect);
            mc_buf_printf(b, "\"} %lld\n",
                          (long long)*(const int64_t *)((const char *)&u[i] + series[k].off));
        }
    }
}

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
    mc_buf_printf(&b,
                  "# HELP mediaconvertd_oss_requests_total Requests answered by the OSS object "
                  "API.\n"
                  "# TYPE mediaconvertd_oss_requests_total counter\n"
                  "mediaconvertd_oss_requests_total %lld\n",
                  (long long)atomic_load(&r->api->oss_requests));
    if (d->devices)
        device_metrics(&b, d->devices);
    mc_db_usage *usage = NULL;
    size_t n_usage = 0;
    if (mc_db_usage_list(d->db, &usage, &n_usage, &err) < 0) {
        mc_buf_free(&b);
        return api_reply_errorf(r, "ServiceUnavailable", "task store: %s", err.msg);
    }
    usage_metrics(&b, usage, n_usage);
    mc_db_usage_free(&usage, n_usage);
    char *text = mc_buf_steal(&b);
    if (!text)
        return api_reply_errorf(r, "InternalError", "out of memory");
    return api_reply_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text);
}
