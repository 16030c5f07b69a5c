/* FFmpeg's log lines, routed into ours. FFmpeg reports many recoverable conditions as
 * errors; the engine decides what is fatal, so they are logged as warnings.
 *
 * Demuxers skip over damage they can resync past and only log it; the engine wants to know,
 * so errors logged by a demuxer are also counted for the thread that is reading (demuxing
 * runs inside av_read_frame(), on the engine's thread). */
#include "media_priv.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static _Thread_local int demux_errors;
static _Thread_local char demux_first_error[256];

void mc_demux_errors_reset(void)
{
    demux_errors = 0;
    demux_first_error[0] = '\0';
}

int mc_demux_errors(const char **first)
{
    if (first)
        *first = demux_first_error;
    return demux_errors;
}

/* av_default_get_category() returns the class's static category; an AVFormatContext only
 * knows it is a demuxer through get_category(). */
static AVClassCategory category_of(void *avcl)
{
    const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
    if (!cls)
        return AV_CLASS_CATEGORY_NA;
    return cls->get_category ? cls->get_category(avcl) : cls->category;
}

static void av_log_to_mc(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > av_log_get_level() && level > AV_LOG_WARNING)
        return;
    char line[1024];
    int print_prefix = 1;
    va_list vl2;
    va_copy(vl2, vl);
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (!n) {
        va_end(vl2);
        return;
    }
    /* The HLS demuxer skips a segment it cannot open with only a warning: a missing piece of
     * the source all the same. */
    bool damage = category_of(avcl) == AV_CLASS_CATEGORY_DEMUXER &&
                  (level <= AV_LOG_ERROR ||
                   (level <= AV_LOG_WARNING && strstr(fmt, "Failed to open segment")));
    if (damage && demux_errors++ == 0) {
        /* the message alone, without FFmpeg's "[demuxer @ 0x...]" prefix */
        vsnprintf(demux_first_error, sizeof(demux_first_error), fmt, vl2);
        size_t m = strlen(demux_first_error);
        while (m && (demux_first_error[m - 1] == '\n' || demux_first_error[m - 1] == '.'))
            demux_first_error[--m] = '\0';
    }
    va_end(vl2);
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
