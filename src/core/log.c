#include "mc_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static mc_log_sink log_sink;
static void *log_opaque;
/* atomic: a reload changes it while other threads log */
static _Atomic int log_level = MC_LOG_INFO;

void mc_log_set_sink(mc_log_sink sink, void *opaque)
{
    pthread_mutex_lock(&log_lock);
    log_sink = sink;
    log_opaque = opaque;
    pthread_mutex_unlock(&log_lock);
}

void mc_log_set_level(enum mc_log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

enum mc_log_level mc_log_get_level(void)
{
    return (enum mc_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

void mc_log(enum mc_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (log_sink)
        log_sink(level, msg, log_opaque);
    else
        fprintf(stderr, "mediaconvert: %s: %s\n", names[level], msg);
    pthread_mutex_unlock(&log_lock);
}

size_t mc_log_fields(const char *msg, mc_log_field out[3])
{
    static const struct {
        const char *key, *name;
    } known[] = {{"task=", "TASK_ID"}, {"project=", "PROJECT"}, {"device=", "DEVICE"}};
    size_t n = 0;
    bool seen[3] = {false};
    for (const char *w = msg; *w;) {
        w += strspn(w, " ");
        size_t len = strcspn(w, " ");
        for (size_t k = 0; k < 3; k++) {
            size_t kl = strlen(known[k].key);
            if (seen[k] || len <= kl || strncmp(w, known[k].key, kl) != 0)
                continue;
            size_t vl = len - kl < sizeof(out[n].value) - 1 ? len - kl : sizeof(out[n].value) - 1;
            out[n].name = known[k].name;
            memcpy(out[n].value, w + kl, vl);
            out[n].value[vl] = '\0';
            seen[k] = true;
            n++;
        }
        w += len;
    }
    return n;
}
