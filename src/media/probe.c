/* Reading a media file's properties (mediaconvert probe, and outputs read back). */
#include "media_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

int mc_stream_rotation(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 0;
    double theta = -round(av_display_rotation_get((const int32_t *)m));
    if (isnan(theta))
        return 0;
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    int deg = (int)(lround(theta / 90.0) * 90) % 360;
    return deg < 0 ? deg + 360 : deg;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void fill_stream(const AVStream *st, mc_stream_info *s)
{
    const AVCodecParameters *par = st->codecpar;
    s->index = st->index;
    copy_str(s->type, sizeof(s->type), av_get_media_type_string(par->codec_type));
    copy_str(s->codec, sizeof(s->codec), avcodec_get_name(par->codec_id));
    copy_str(s->profile, sizeof(s->profile), avcodec_profile_name(par->codec_id, par->profile));
    s->bitrate = par->bit_rate;
    if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        s->duration = (double)st->duration * av_q2d(st->time_base);
    const AVDictionaryEntry *lang = av_dict_get(st->metadata, "language", NULL, 0);
    if (lang && strcmp(lang->value, "und") != 0)
        copy_str(s->language, sizeof(s->language), lang->value);
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        s->width = par->width;
        s->height = par->height;
        AVRational sar = av_guess_sample_aspect_ratio(NULL, (AVStream *)st, NULL);
        s->sar_num = sar.num > 0 && sar.den > 0 ? sar.num : 1;
        s->sar_den = sar.num > 0 && sar.den > 0 ? sar.den : 1;
        AVRational r = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
        s->fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
        s->rotation = mc_stream_rotation(st);
        copy_str(s->pix_fmt, sizeof(s->pix_fmt), av_get_pix_fmt_name(par->format));
        s->frames = st->nb_frames;
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
        s->sample_rate = par->sample_rate;
        s->channels = par->ch_layout.nb_channels;
        av_channel_layout_describe(&par->ch_layout, s->channel_layout, sizeof(s->channel_layout));
        copy_str(s->sample_fmt, sizeof(s->sample_fmt), av_get_sample_fmt_name(par->format));
    }
}

int mc_probe_fill(AVFormatContext *fmt, mc_media_info *out)
{
    mc_media_info info = {0};
    if (fmt->nb_streams) {
        info.streams = calloc(fmt->nb_streams, sizeof(*info.streams));
        if (!info.streams)
            return AVERROR(ENOMEM);
    }
    copy_str(info.format, sizeof(info.format), fmt->iformat->name);
    copy_str(info.format_long, sizeof(info.format_long), fmt->iformat->long_name);
    if (fmt->duration > 0 && fmt->duration != AV_NOPTS_VALUE)
        info.duration = (double)fmt->duration / AV_TIME_BASE;
    if (fmt->start_time != AV_NOPTS_VALUE)
        info.start_time = (double)fmt->start_time / AV_TIME_BASE;
    info.bitrate = fmt->bit_rate;
    if (fmt->pb) {
        int64_t size = avio_size(fmt->pb);
        info.size = size > 0 ? size : 0;
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        fill_stream(fmt->streams[i], &info.streams[i]);
    info.n_streams = fmt->nb_streams;
    *out = info;
    return 0;
}

int mc_probe_file(const char *path, const char *root, mc_media_info *out, mc_err *err)
{
    AVFormatContext *fmt = NULL;
    mc_io_guard guard = {.root = root};
    int rc = mc_open_demuxer(&fmt, path, &guard);
    if (rc < 0) {
        if (guard.refused)
            return mc_err_set(err, -EPERM, "InvalidArgument",
                              "%s refers to files outside the object store", path);
        rc = rc == AVERROR(ENOENT) ? -ENOENT : MC_EMEDIA;
        return mc_err_set(err, rc, NULL, "%s: cannot be read as media", path);
    }
    rc = mc_probe_fill(fmt, out);
    if (rc < 0)
        mc_err_set(err, rc, NULL, "%s: out of memory", path);
    avformat_close_input(&fmt);
    return rc;
}
