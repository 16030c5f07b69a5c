/* FFmpeg's log lines, routed into ours. FFmpeg reports many recoverable conditions as
 * errors; the engine decides what is fatal, so they are logged as warnings. */
#include "media_priv.h"

#include <pthread.h>
#include <string.h>

static void av_log_to_mc(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > av_log_get_level())
        return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (!n)
        return;
    enum mc_log_level ml = level <= AV_LOG_ERROR ? MC_LOG_WARN : MC_LOG_DEBUG;
    mc_log(ml, "ffmpeg: %s", line);
}

static void init_once(void)
{
    av_log_set_level(mc_log_get_level() >= MC_LOG_DEBUG ? AV_LOG_WARNING : AV_LOG_ERROR);
    av_log_set_callback(av_log_to_mc);
}

void mc_media_init_logging(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}
