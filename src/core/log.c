#include "mc_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static mc_log_sink log_sink;
static void *log_opaque;
static enum mc_log_level log_level = MC_LOG_INFO;

void mc_log_set_sink(mc_log_sink sink, void *opaque)
{
    pthread_mutex_lock(&log_lock);
    log_sink = sink;
    log_opaque = opaque;
    pthread_mutex_unlock(&log_lock);
}

void mc_log_set_level(enum mc_log_level level)
{
    log_level = level;
}

enum mc_log_level mc_log_get_level(void)
{
    return log_level;
}

void mc_log(enum mc_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > log_level)
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
