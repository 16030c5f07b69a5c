#include "mc_sched.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mc_hwaccel.h"
#include "mc_job.h"
#include "mc_log.h"
#include "mc_media.h"
#include "mc_str.h"
#include "mc_time.h"
#include "sched_sync.h"

const double mc_sched_duration_bounds[MC_SCHED_DURATION_BUCKETS] = {
    0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200,
};

enum stop_reason {
    STOP_NONE = 0,
    STOP_CANCEL,
    STOP_TIMEOUT,
    STOP_SHUTDOWN,
};

/* What one worker is running. Guarded by mc_sched.lock, except `cancel`. */
typedef struct slot {
    char *task_id; /* NULL when idle */
    atomic_bool cancel;
    enum stop_reason reason;
    int64_t timeout_s;   /* [limits] task_timeout when the task started, or the task's own */
    bool own_timeout;    /* timeout_s is the task's own limit */
    int64_t deadline_ms; /* monotonic */
} slot;

typedef struct worker {
    mc_sched *s;
    int index;
    pthread_t thread;
    bool started;
} worker;

struct mc_sched {
    const mc_sched_cfg *cfg;
    mc_db *db;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* new work or stopping */
    pthread_cond_t idle;  /* a task finished (shutdown waits on it) */
    pthread_cond_t freed; /* device sessions were given back */
    bool stopping;
    int running;
    slot *slots;
    worker *workers;
    pthread_t watchdog;
    bool watchdog_started;
    mc_sched_stats stats;
    int n_workers; /* CPU slots plus every hardware device's sessions */
    mc_hw_registry *devices;
    mc_hw_registry *own_devices; /* made here when the configuration gave none */
    mc_sync *sync;               /* synchronous runs (sync.c) */
};

/* An absolute CLOCK_MONOTONIC time ms from now (the condition variables use that clock, so
 * a step of the wall clock neither stalls nor hurries the waits). */
static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void finish_log(const mc_task *t, enum mc_task_state st, const mc_err *e, double secs)
{
    if (st == MC_TASK_SUCCEEDED)
        mc_log(MC_LOG_INFO, "task=%s project=%s finished state=%s in %.2fs", t->id, t->project,
               mc_task_state_name(st), secs);
    else
        mc_log(MC_LOG_WARN, "task=%s project=%s finished state=%s code=%s: %s", t->id, t->project,
               mc_task_state_name(st), e->code, e->msg);
}

/*
 * Record the outcome of a task and queue its notifications, in one store transaction.
 * `t` carries the task as claimed; its state/code/message/result/ended_ms are filled here.
 */
static int record_finish(mc_sched *s, mc_task *t, enum mc_task_state st, const mc_err *e,
                         const char *result_json)
{
    mc_err err = {0};
    mc_outbox_msg *msgs = NULL;
    size_t n_msgs = 0;
    int64_t now = mc_now_ms();
    t->state = st;
    t->ended_ms = now;
    if (st == MC_TASK_SUCCEEDED)
        t->progress = 100;
    free(t->code);
    free(t->message);
    t->code = st == MC_TASK_SUCCEEDED ? NULL : mc_strdup(e->code[0] ? e->code : "InternalError");
    t->message = st == MC_TASK_SUCCEEDED ? NULL : mc_strdup(e->msg);
    free(t->result);
    t->result = result_json ? mc_strdup(result_json) : NULL;

    mc_conf *conf = mc_conf_live_get(s->cfg->conf);
    int rc = mc_notify_messages(mc_conf_notify(conf), t, now, &msgs, &n_msgs, &err);
    mc_conf_unref(&conf);
    if (rc < 0) {
        /* The task's outcome matters more than its notification: record it anyway. */
        mc_log(MC_LOG_ERROR, "task=%s cannot build its notification: %s", t->id, err.msg);
        mc_err_clear(&err);
        n_msgs = 0;
    }
    rc = mc_db_task_finish(s->db, t->id, st, t->code, t->message, t->result, now, msgs, n_msgs,
                           &err);
    if (rc == -ENOENT)
        mc_log(MC_LOG_WARN, "task=%s ended %s but is no longer in the store (project deleted?)",
               t->id, mc_task_state_name(st));
    else if (rc < 0)
        mc_log(MC_LOG_ERROR, "task=%s cannot record its end: %s", t->id, err.msg);
    if (rc == 0 && n_msgs && s->cfg->notifier)
        mc_notifier_wake(s->cfg->notifier);
    mc_outbox_msgs_free(&msgs, n_msgs);
    return rc;
}

/* Take sessions on the best device of the job's class that has room; NULL when none has. */
static mc_hw_device *try_place(mc_sched *s, const mc_job *job, const char *cls, bool *enc)
{
    bool automatic = !cls || strcmp(cls, "auto") == 0;
    for (size_t i = 0; i < mc_hw_registry_count(s->devices); i++) {
        mc_hw_device *d = mc_hw_registry_device(s->devices, i);
        if (!mc_hw_device_in_class(d, cls))
            continue;
        if (mc_hw_device_is_software(d)) {
            if (mc_hw_sessions_try_take(d, true, false)) {
                *enc = false;
                return d;
            }
            continue;
        }
        bool video, encode;
        mc_engine_device_use(job, d, &video, &encode);
        /* Automatic placement: real hardware that is healthy and has video work to do. */
        if (automatic &&
            (mc_hw_device_emulated(d) || !video || mc_hw_device_health(d) == MC_HW_FAILING))
            continue;
        if (mc_hw_sessions_try_take(d, true, encode)) {
            *enc = encode;
            return d;
        }
    }
    return NULL;
}

/*
 * Place a claimed task: the best device of its class with free sessions, waiting for one to
 * free up. Fails at once when no device of the class exists; returns MC_ECANCELED when the
 * task is canceled, times out or the service stops while it waits.
 */
static int place(mc_sched *s, int index, const mc_job *job, mc_hw_device **out, bool *enc,
                 mc_err *err)
{
    const char *cls = job->device ? job->device : "auto";
    mc_hw_device *any = NULL;
    int rc = mc_hw_pick(s->devices, strcmp(cls, "auto") == 0 ? "auto" : cls, &any, err);
    if (rc < 0)
        return rc;
    mc_hw_device_unref(&any);
    slot *sl = &s->slots[index];
    pthread_mutex_lock(&s->lock);
    for (;;) {
        mc_hw_device *d = try_place(s, job, cls, enc);
        if (d) {
            *out = mc_hw_device_ref(d);
            break;
        }
        if (atomic_load(&sl->cancel) || s->stopping) {
            rc = mc_err_set(err, MC_ECANCELED, NULL, "stopped while waiting for a device");
            break;
        }
        /* Woken when a task gives its sessions back. */
        struct timespec ts = deadline_in(500);
        pthread_cond_timedwait(&s->freed, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Give back the sessions a task holds on a device (and wake the tasks waiting for one). */
static void release(mc_sched *s, mc_hw_device *dev, bool dec, bool enc)
{
    if (!dev || (!dec && !enc))
        return;
    pthread_mutex_lock(&s->lock);
    mc_hw_sessions_release(dev, dec, enc);
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

/* Whether a failure on a hardware device may be the device's fault, so that a run on
 * software is worth it (outputs are atomic: nothing of the failed run is left). */
static bool retry_on_software(int rc, const mc_err *err)
{
    if (rc == MC_ECANCELED)
        return false;
    return strcmp(err->code, "InvalidArgument") != 0 && strncmp(err->code, "Missing", 7) != 0 &&
           strcmp(err->code, "LimitExceededError") != 0;
}

typedef struct progress_ctx {
    mc_sched *s;
    const char *task_id;
    int last_pct;
    int64_t last_ms;
} progress_ctx;

static void on_progress(double fraction, void *opaque)
{
    progress_ctx *p = opaque;
    int pct = (int)(fraction * 100.0);
    if (pct < 0)
        pct = 0;
    if (pct > 99) /* 100 is for Succeeded */
        pct = 99;
    int64_t now = mc_mono_ms();
    if (pct == p->last_pct || now - p->last_ms < 500)
        return;
    mc_err err = {0};
    if (mc_db_task_progress(p->s->db, p->task_id, pct, &err) == 0) {
        p->last_pct = pct;
        p->last_ms = now;
    }
}

/* Bytes of the inputs a job reads (for /metrics). */
static int64_t input_bytes(const mc_store *objects, const mc_job *job)
{
    int64_t total = 0;
    for (size_t i = 0; i < job->n_sources; i++) {
        mc_uri u = {0};
        struct stat st;
        if (mc_uri_resolve(objects, job->sources[i].uri, 0, "Sources", &u, NULL) == 0 &&
            stat(u.path, &st) == 0)
            total += st.st_size;
        mc_uri_clear(&u);
    }
    return total;
}

static void account(mc_sched *s, enum mc_task_state st, double secs, int64_t in, int64_t out)
{
    mc_sched_stats *x = &s->stats;
    x->finished[st]++;
    x->duration_count++;
    x->duration_sum += secs;
    for (int i = 0; i < MC_SCHED_DURATION_BUCKETS; i++)
        if (secs <= mc_sched_duration_bounds[i])
            x->duration_buckets[i]++;
    x->bytes_in += in;
    x->bytes_out += out;
}

/* Run one claimed task to its end. */
static void run_task(mc_sched *s, int index, mc_task *t)
{
    slot *sl = &s->slots[index];
    mc_err err = {0};
    mc_job *job = NULL;
    mc_result result = {0};
    char *result_json = NULL;
    int64_t t0 = mc_mono_ms();
    int64_t in_bytes = 0, out_bytes = 0;
    enum mc_task_state st;

    mc_hw_device *dev = NULL;
    bool dev_dec = false, dev_enc = false; /* sessions held on dev */
    int rc = mc_job_parse(t->request, strlen(t->request), &job, &err);
    if (rc == 0) {
        in_bytes = input_bytes(s->cfg->objects, job);
        rc = place(s, index, job, &dev, &dev_enc, &err);
        dev_dec = rc == 0;
    }
    if (rc == 0) {
        progress_ctx pc = {.s = s, .task_id = t->id, .last_pct = -1};
        mc_engine_opts opts = {
            .store = s->cfg->objects,
            .device = dev,
            .task_time = (time_t)(t->created_ms / 1000),
            .progress = on_progress,
            .progress_opaque = &pc,
            .cancel = &sl->cancel,
        };
        mc_err e2 = {0};
        if (mc_db_task_device(s->db, t->id, mc_hw_device_name(dev), &e2) < 0)
            mc_log(MC_LOG_WARN, "task=%s cannot record its device: %s", t->id, e2.msg);
        mc_log(MC_LOG_INFO, "task=%s project=%s priority=%d device=%s attempt=%d started", t->id,
               t->project, t->priority, mc_hw_device_name(dev), t->attempts);
        rc = mc_engine_run(job, &opts, &result, &err);
        if (rc < 0 && !mc_hw_device_is_software(dev) && retry_on_software(rc, &err)) {
            /* The device failed: run it again on software. Only a success there shows the
             * device was at fault, and only then does it count against its health. */
            char why[160];
            snprintf(why, sizeof(why), "%.40s: %.110s", err.code[0] ? err.code : "InternalError",
                     err.msg);
            mc_hw_device *failed = dev;
            mc_log(MC_LOG_WARN, "task=%s device=%s failed (%s); running it on software", t->id,
                   mc_hw_device_name(failed), why);
            release(s, failed, dev_dec, dev_enc);
            /* The task keeps its worker: software runs it even when its slots are full. */
            dev = mc_hw_device_ref(mc_hw_registry_software(s->devices));
            dev_enc = false;
            pthread_mutex_lock(&s->lock);
            dev_dec = mc_hw_sessions_try_take(dev, true, false);
            pthread_mutex_unlock(&s->lock);
            mc_err_clear(&err);
            mc_result_clear(&result);
            opts.device = dev;
            if (mc_db_task_device(s->db, t->id, mc_hw_device_name(dev), &e2) < 0)
                mc_log(MC_LOG_WARN, "task=%s cannot record its device: %s", t->id, e2.msg);
            rc = mc_engine_run(job, &opts, &result, &err);
            if (rc == 0) {
                mc_hw_device_report(failed, false, why);
                snprintf(result.fallback_from, sizeof(result.fallback_from), "%s",
                         mc_hw_device_name(failed));
                snprintf(result.fallback_reason, sizeof(result.fallback_reason), "%s", why);
            }
            mc_hw_device_unref(&failed);
        } else if (rc == 0 && !mc_hw_device_is_software(dev)) {
            mc_hw_device_report(dev, true, NULL);
        }
    }
    release(s, dev, dev_dec, dev_enc);
    mc_hw_device_unref(&dev);

    pthread_mutex_lock(&s->lock);
    enum stop_reason reason = sl->reason;
    int64_t timeout_s = sl->timeout_s;
    bool own_timeout = sl->own_timeout;
    pthread_mutex_unlock(&s->lock);

    if (rc == 0) {
        st = MC_TASK_SUCCEEDED;
        json_t *rj = mc_result_to_json(&result);
        result_json = rj ? json_dumps(rj, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(rj);
        for (size_t i = 0; i < result.n_outputs; i++)
            out_bytes += result.outputs[i].info.size;
    } else if (rc == MC_ECANCELED && reason == STOP_SHUTDOWN) {
        mc_err e2 = {0};
        if (mc_db_task_requeue(s->db, t->id, &e2) < 0)
            mc_log(MC_LOG_ERROR, "task=%s cannot re-queue it: %s", t->id, e2.msg);
        else
            mc_log(MC_LOG_INFO, "task=%s stopped by shutdown, re-queued", t->id);
        goto out;
    } else if (rc == MC_ECANCELED && reason == STOP_TIMEOUT) {
        st = MC_TASK_FAILED;
        mc_err_clear(&err);
        mc_err_set(&err, rc, "TaskTimeout", "the task ran longer than the limit of %lld s (%s)",
                   (long long)timeout_s,
                   own_timeout ? "its own limit" : "[limits] task_timeout");
    } else if (rc == MC_ECANCELED) {
        st = MC_TASK_CANCELED;
        mc_err_clear(&err);
        mc_err_set(&err, rc, "TaskCanceled", "the task was canceled by CancelTask");
    } else {
        st = MC_TASK_FAILED;
        if (!err.code[0])
            mc_err_set(&err, rc, NULL, "the task failed (error %d)", rc);
    }
    double secs = (double)(mc_mono_ms() - t0) / 1000.0;
    record_finish(s, t, st, &err, result_json);
    finish_log(t, st, &err, secs);
    pthread_mutex_lock(&s->lock);
    account(s, st, secs, in_bytes, out_bytes);
    pthread_mutex_unlock(&s->lock);
out:
    free(result_json);
    mc_result_clear(&result);
    mc_job_free(&job);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    mc_sched *s = w->s;
    slot *sl = &s->slots[w->index];
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        mc_task t = {0};
        mc_err err = {0};
        /* Claim under the lock so that a cancel never falls between claim and slot. The
         * device is recorded once the task is placed. The per-project limits are read now,
         * so that a reload applies to the next claim. */
        mc_conf *conf = mc_conf_live_get(s->cfg->conf);
        int got = mc_db_task_claim(s->db, mc_now_ms(), "", mc_conf_claim(conf), &t, &err);
        if (got < 0)
            mc_log(MC_LOG_ERROR, "worker=%d cannot claim a task: %s", w->index, err.msg);
        if (got <= 0) {
            mc_conf_unref(&conf);
            struct timespec ts = deadline_in(1000);
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
            continue;
        }
        sl->task_id = mc_strdup(t.id);
        atomic_store(&sl->cancel, t.cancel_requested);
        sl->reason = t.cancel_requested ? STOP_CANCEL : STOP_NONE;
        sl->timeout_s = mc_conf_config(conf)->task_timeout_s;
        sl->own_timeout = t.timeout_s > 0 && t.timeout_s < sl->timeout_s;
        if (sl->own_timeout)
            sl->timeout_s = t.timeout_s; /* the task's own, shorter limit */
        mc_conf_unref(&conf);
        sl->deadline_ms = mc_mono_ms() + sl->timeout_s * 1000;
        s->running++;
        pthread_mutex_unlock(&s->lock);

        run_task(s, w->index, &t);
        mc_task_clear(&t);

        pthread_mutex_lock(&s->lock);
        free(sl->task_id);
        sl->task_id = NULL;
        sl->reason = STOP_NONE;
        atomic_store(&sl->cancel, false);
        s->running--;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Deletes finished tasks older than the retention period. Called without the lock. */
static void collect(mc_sched *s)
{
    mc_err err = {0};
    int removed = 0;
    mc_conf *conf = mc_conf_live_get(s->cfg->conf);
    int64_t retention_s = mc_conf_config(conf)->retention_days * 86400;
    mc_conf_unref(&conf);
    int64_t cutoff = mc_now_ms() - retention_s * 1000;
    if (mc_db_gc(s->db, cutoff, &removed, &err) < 0)
        mc_log(MC_LOG_ERROR, "cannot collect old tasks: %s", err.msg);
    else if (removed)
        mc_log(MC_LOG_INFO, "collected %d task(s) finished more than %llds ago", removed,
               (long long)retention_s);
}

/* Enforces task timeouts and collects old tasks. */
static void *watchdog_main(void *arg)
{
    mc_sched *s = arg;
    int64_t next_gc = 0;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = mc_mono_ms();
        if (now >= next_gc) {
            pthread_mutex_unlock(&s->lock);
            collect(s);
            pthread_mutex_lock(&s->lock);
            next_gc = now + 600 * 1000;
            continue;
        }
        for (int i = 0; i < s->n_workers; i++) {
            slot *sl = &s->slots[i];
            if (sl->task_id && sl->reason == STOP_NONE && now > sl->deadline_ms) {
                sl->reason = STOP_TIMEOUT;
                atomic_store(&sl->cancel, true);
                mc_log(MC_LOG_WARN, "task=%s timed out, stopping it", sl->task_id);
            }
        }
        struct timespec ts = deadline_in(250);
        pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Fail the tasks that crashes interrupted too many times. */
static int recover(mc_sched *s, mc_err *err)
{
    int requeued = 0;
    char **exhausted = NULL;
    size_t n = 0;
    int swept = 0;
    int rc = mc_store_sweep_tmp(s->cfg->objects, &swept, err);
    if (rc < 0)
        return rc;
    if (swept)
        mc_log(MC_LOG_INFO, "removed %d partial output(s) left by an interrupted run", swept);
    rc = mc_db_recover(s->db, s->cfg->max_attempts, &requeued, &exhausted, &n, err);
    if (rc < 0)
        return rc;
    if (requeued)
        mc_log(MC_LOG_INFO, "re-queued %d task(s) that were running when the service stopped",
               requeued);
    for (size_t i = 0; i < n; i++) {
        mc_task t = {0};
        mc_err e = {0};
        if (mc_db_task_get(s->db, NULL, exhausted[i], &t, &e) < 0) {
            mc_log(MC_LOG_ERROR, "task=%s cannot read it back: %s", exhausted[i], e.msg);
            continue;
        }
        mc_err_set(&e, -EINTR, "TaskInterrupted",
                   "the service stopped %d times while running this task; giving up", t.attempts);
        record_finish(s, &t, MC_TASK_FAILED, &e, NULL);
        finish_log(&t, MC_TASK_FAILED, &e, 0);
        mc_task_clear(&t);
    }
    mc_strv_free(&exhausted, n);
    return 0;
}

int mc_sched_start(const mc_sched_cfg *cfg, mc_db *db, mc_sched **out, mc_err *err)
{
    mc_sched *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = cfg;
    s->db = db;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->idle, &ca);
    pthread_cond_init(&s->freed, &ca);
    pthread_condattr_destroy(&ca);
    int rc = 0;
    s->devices = cfg->devices;
    if (!s->devices) {
        mc_hw_discover_cfg dc = {.backends = "software", .cpu_slots = cfg->workers};
        rc = mc_hw_discover(&dc, &s->own_devices, err);
        if (rc < 0)
            goto fail_quiet;
        s->devices = s->own_devices;
    }
    /* One worker per place a task can run: a task waiting for a device holds a worker. */
    s->n_workers = cfg->workers;
    for (size_t i = 0; i < mc_hw_registry_count(s->devices); i++) {
        const mc_hw_device *d = mc_hw_registry_device(s->devices, i);
        /* Emulated devices run on the CPU slots' cores: no workers of their own. */
        if (!mc_hw_device_is_software(d) && !mc_hw_device_emulated(d))
            s->n_workers += mc_hw_device_capacity(d, false);
    }
    if (s->n_workers > 256)
        s->n_workers = 256;
    s->stats.workers = s->n_workers;
    rc = recover(s, err);
    if (rc < 0)
        goto fail;
    if ((rc = mc_sync_new(&s->sync)) < 0)
        goto fail;
    s->slots = calloc((size_t)s->n_workers, sizeof(*s->slots));
    s->workers = calloc((size_t)s->n_workers, sizeof(*s->workers));
    if (!s->slots || !s->workers) {
        rc = -ENOMEM;
        goto fail;
    }
    for (int i = 0; i < s->n_workers; i++) {
        atomic_init(&s->slots[i].cancel, false);
        s->workers[i] = (worker){.s = s, .index = i};
        if ((rc = -pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i])) < 0)
            goto fail;
        s->workers[i].started = true;
    }
    if ((rc = -pthread_create(&s->watchdog, NULL, watchdog_main, s)) < 0)
        goto fail;
    s->watchdog_started = true;
    *out = s;
    return 0;
fail:
    mc_err_set(err, rc, "InternalError", "cannot start the scheduler: %s", strerror(-rc));
fail_quiet:
    mc_sched_stop(&s, 0);
    return rc;
}

void mc_sched_kick(mc_sched *s)
{
    /* Without the lock: a create must not wait behind a claim's commit. A wake-up that
     * races with a worker going to sleep is caught by its one-second poll. */
    pthread_cond_broadcast(&s->wake);
}

int mc_sched_cancel(mc_sched *s, const char *project, const char *id, mc_err *err)
{
    enum mc_task_state before;
    int rc;
    pthread_mutex_lock(&s->lock);
    rc = mc_db_task_request_cancel(s->db, project, id, &before, err);
    if (rc < 0)
        goto out;
    if (before == MC_TASK_QUEUED) {
        mc_task t = {0};
        if ((rc = mc_db_task_get(s->db, project, id, &t, err)) == 0) {
            mc_err e = {0};
            mc_err_set(&e, MC_ECANCELED, "TaskCanceled", "the task was canceled by CancelTask");
            record_finish(s, &t, MC_TASK_CANCELED, &e, NULL);
            finish_log(&t, MC_TASK_CANCELED, &e, 0);
            s->stats.finished[MC_TASK_CANCELED]++;
        }
        mc_task_clear(&t);
    } else if (before == MC_TASK_RUNNING) {
        for (int i = 0; s->slots && i < s->n_workers; i++) {
            slot *sl = &s->slots[i];
            if (sl->task_id && strcmp(sl->task_id, id) == 0 && sl->reason == STOP_NONE) {
                sl->reason = STOP_CANCEL;
                atomic_store(&sl->cancel, true);
            }
        }
    } else {
        rc = mc_err_set(err, -EALREADY, "TaskFinished", "task %s has already finished (%s)", id,
                        mc_task_state_name(before));
    }
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int mc_sched_run_sync(mc_sched *s, const mc_job *job, const mc_sync_limits *lim,
                      mc_result *result, mc_err *err)
{
    return mc_sync_run(s->sync, job, s->cfg->objects, mc_hw_registry_software(s->devices), lim,
                       result, err);
}

int mc_sched_probe_sync(mc_sched *s, const char *path, const mc_sync_limits *lim,
                        mc_media_info *out, mc_err *err)
{
    return mc_sync_probe(s->sync, path, mc_store_root(s->cfg->objects), lim, out, err);
}

void mc_sched_get_stats(mc_sched *s, mc_sched_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->running = s->running;
    pthread_mutex_unlock(&s->lock);
}

void mc_sched_stop(mc_sched **sp, int64_t grace_s)
{
    mc_sched *s = sp ? *sp : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->freed);
    if (s->running && grace_s > 0)
        mc_log(MC_LOG_INFO, "waiting up to %llds for %d running task(s)", (long long)grace_s,
               s->running);
    struct timespec until = deadline_in(grace_s * 1000);
    while (s->running > 0) {
        if (pthread_cond_timedwait(&s->idle, &s->lock, &until) == ETIMEDOUT)
            break;
    }
    for (int i = 0; s->slots && i < s->n_workers; i++) {
        if (s->slots[i].task_id && s->slots[i].reason == STOP_NONE) {
            s->slots[i].reason = STOP_SHUTDOWN;
            atomic_store(&s->slots[i].cancel, true);
        }
    }
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; s->workers && i < s->n_workers; i++)
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
    if (s->watchdog_started)
        pthread_join(s->watchdog, NULL);
    mc_sync_free(&s->sync);
    for (int i = 0; s->slots && i < s->n_workers; i++)
        free(s->slots[i].task_id);
    free(s->slots);
    free(s->workers);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
    mc_hw_registry_free(&s->own_devices);
    free(s);
    *sp = NULL;
}
