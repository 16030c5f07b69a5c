/*
 * Synchronous work (OSS x-oss-process: video/snapshot, video/info, audio/info): a job run on
 * the caller's thread, outside the queue, so that an HTTP request can answer with its result.
 *
 * Bounds: at most `max_running` such runs at once (the caller passes the live setting; a run
 * beyond it is refused at once with -EBUSY rather than waiting, so that HTTP threads are not
 * tied up behind one another), and each run is stopped through the engine's cancel flag once
 * its time limit has passed (-ETIMEDOUT; the engine removes what it had written). One small
 * watchdog thread checks the deadlines of the runs in progress.
 */
#include "sched_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mc_log.h"
#include "mc_media.h"
#include "mc_time.h"

#define SYNC_TICK_MS 50

typedef struct sync_run {
    atomic_bool cancel;
    int64_t deadline_ms; /* monotonic */
    bool timed_out;
    struct sync_run *next;
} sync_run;

struct mc_sync {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    int active;
    sync_run *runs;
    pthread_t thread;
    bool started;
};

static struct timespec tick_deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += SYNC_TICK_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void *watchdog(void *arg)
{
    mc_sync *y = arg;
    pthread_mutex_lock(&y->lock);
    while (!y->stopping) {
        int64_t now = mc_mono_ms();
        for (sync_run *r = y->runs; r; r = r->next) {
            if (!r->timed_out && now > r->deadline_ms) {
                r->timed_out = true;
                atomic_store(&r->cancel, true);
            }
        }
        if (y->active == 0) {
            pthread_cond_wait(&y->wake, &y->lock);
        } else {
            struct timespec ts = tick_deadline();
            pthread_cond_timedwait(&y->wake, &y->lock, &ts);
        }
    }
    pthread_mutex_unlock(&y->lock);
    return NULL;
}

int mc_sync_new(mc_sync **out)
{
    mc_sync *y = calloc(1, sizeof(*y));
    if (!y)
        return -ENOMEM;
    pthread_mutex_init(&y->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&y->wake, &ca);
    pthread_condattr_destroy(&ca);
    int rc = -pthread_create(&y->thread, NULL, watchdog, y);
    if (rc < 0) {
        mc_sync_free(&y);
        return rc;
    }
    y->started = true;
    *out = y;
    return 0;
}

void mc_sync_free(mc_sync **yp)
{
    mc_sync *y = yp ? *yp : NULL;
    if (!y)
        return;
    pthread_mutex_lock(&y->lock);
    y->stopping = true;
    for (sync_run *r = y->runs; r; r = r->next)
        atomic_store(&r->cancel, true);
    pthread_cond_broadcast(&y->wake);
    pthread_mutex_unlock(&y->lock);
    if (y->started)
        pthread_join(y->thread, NULL);
    pthread_cond_destroy(&y->wake);
    pthread_mutex_destroy(&y->lock);
    free(y);
    *yp = NULL;
}

/* Take a place among the runs in progress; -EBUSY when max_running are already running. */
static int enter(mc_sync *y, sync_run *r, const mc_sync_limits *lim, mc_err *err)
{
    int rc = 0;
    atomic_init(&r->cancel, false);
    r->deadline_ms = mc_mono_ms() + lim->timeout_ms;
    r->timed_out = false;
    pthread_mutex_lock(&y->lock);
    if (y->stopping) {
        rc = mc_err_set(err, -ESHUTDOWN, "ServiceUnavailable",
                        "the service is shutting down; retry in a moment");
    } else if (y->active >= lim->max_running) {
        rc = mc_err_set(err, -EBUSY, "ServiceUnavailable",
                        "%d synchronous processing request(s) are already running, the "
                        "limit ([oss] sync_max); retry in a moment",
                        y->active);
    } else {
        r->next = y->runs;
        y->runs = r;
        y->active++;
        pthread_cond_broadcast(&y->wake);
    }
    pthread_mutex_unlock(&y->lock);
    return rc;
}

/* Leave; true when the run was stopped by its deadline. */
static bool leave(mc_sync *y, sync_run *r)
{
    pthread_mutex_lock(&y->lock);
    for (sync_run **p = &y->runs; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    y->active--;
    bool late = r->timed_out || mc_mono_ms() > r->deadline_ms;
    pthread_mutex_unlock(&y->lock);
    return late;
}

static int timeout_error(const mc_sync_limits *lim, mc_err *err)
{
    mc_err_clear(err);
    return mc_err_set(err, -ETIMEDOUT, "RequestTimeout",
                      "the processing took longer than the limit of %lld ms ([oss] "
                      "sync_timeout); nothing was written",
                      (long long)lim->timeout_ms);
}

int mc_sync_run(mc_sync *y, const mc_job *job, const mc_store *store, mc_hw_device *dev,
                const mc_sync_limits *lim, mc_result *result, mc_err *err)
{
    sync_run r;
    int rc = enter(y, &r, lim, err);
    if (rc < 0)
        return rc;
    mc_engine_opts opts = {.store = store, .device = dev, .cancel = &r.cancel};
    rc = mc_engine_run(job, &opts, result, err);
    bool late = leave(y, &r);
    /* A run that finished just as its time ran out keeps its result: it is whole. */
    if (rc == MC_ECANCELED && late)
        rc = timeout_error(lim, err);
    return rc;
}

int mc_sync_probe(mc_sync *y, const char *path, const char *root, const mc_sync_limits *lim,
                  mc_media_info *out, mc_err *err)
{
    sync_run r;
    int rc = enter(y, &r, lim, err);
    if (rc < 0)
        return rc;
    rc = mc_probe_file(path, root, out, err);
    leave(y, &r);
    return rc;
}
