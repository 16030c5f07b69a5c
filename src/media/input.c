/* Sources: opening, stream selection, decoders and seeking. */
#include "media_priv.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/avstring.h>

const char *mc_input_field(const mc_input *in, char *buf, size_t size)
{
    snprintf(buf, size, "Sources[%d]", in->source_index);
    return buf;
}

static bool is_mc_code(int rc)
{
    return rc == MC_EMISSING || rc == MC_EJSON || rc == MC_ELIMIT || rc == MC_EUNSUPPORTED ||
           rc == MC_EMEDIA || rc == MC_ECANCELED;
}

int mc_media_error(mc_engine *e, int rc, const char *what, ...)
{
    char msg[MC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, what);
    vsnprintf(msg, sizeof(msg), what, ap);
    va_end(ap);
    bool media = rc == AVERROR_INVALIDDATA || rc == AVERROR_EOF || rc == MC_EMEDIA ||
                 rc == AVERROR_DECODER_NOT_FOUND || rc == AVERROR_DEMUXER_NOT_FOUND;
    int out = media ? MC_EMEDIA : rc;
    const char *code = media ? "InvalidMedia" : mc_err_code_for(rc);
    if (is_mc_code(rc))
        return mc_err_set(e->err, out, code, "%s", msg);
    return mc_err_set(e->err, out, code, "%s (%s)", msg, av_err2str(rc));
}

/*
 * Every file a demuxer opens (an HLS playlist's segments, say) goes through this hook, so a
 * source in the object store can only pull in other files of the store.
 */
static int guarded_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                           AVDictionary **options)
{
    mc_io_guard *g = s->opaque;
    const char *path = url;
    if (!av_strstart(url, "file:", &path) && strchr(url, ':') && url[0] != '/') {
        g->refused++;
        av_log(s, AV_LOG_ERROR, "refusing to open %s: only files of the store\n", url);
        return AVERROR(EPERM);
    }
    char real[PATH_MAX];
    if (!realpath(path, real))
        return AVERROR(errno);
    size_t n = strlen(g->root);
    if (strncmp(real, g->root, n) != 0 || real[n] != '/') {
        g->refused++;
        av_log(s, AV_LOG_ERROR, "refusing to open %s: outside the object store\n", url);
        return AVERROR(EPERM);
    }
    return g->default_open(s, pb, url, flags, options);
}

int mc_open_demuxer(AVFormatContext **out, const char *path, mc_io_guard *guard)
{
    AVFormatContext *fmt = avformat_alloc_context();
    if (!fmt)
        return AVERROR(ENOMEM);
    if (guard && guard->root) {
        guard->default_open = fmt->io_open;
        guard->refused = 0;
        fmt->io_open = guarded_io_open;
        fmt->opaque = guard;
    }
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "protocol_whitelist", "file,crypto,data", 0);
    int rc = avformat_open_input(&fmt, path, NULL, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return rc;
    rc = avformat_find_stream_info(fmt, NULL);
    if (rc < 0) {
        avformat_close_input(&fmt);
        return rc;
    }
    *out = fmt;
    return 0;
}

/* Whether a stream counts as a stream of `type` for selection: attached pictures (cover art)
 * are not video, and streams of an unknown codec cannot be processed. */
static bool selectable(const AVStream *st, enum AVMediaType type)
{
    if (st->codecpar->codec_type != type || st->codecpar->codec_id == AV_CODEC_ID_NONE)
        return false;
    return type != AVMEDIA_TYPE_VIDEO || !(st->disposition & AV_DISPOSITION_ATTACHED_PIC);
}

/* The first selectable stream of `type`, or -1. */
static int first_stream(const AVFormatContext *fmt, enum AVMediaType type)
{
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (selectable(fmt->streams[i], type))
            return (int)i;
    return -1;
}

/* What one target's Stream list picks in this input: the streams of `type` it names that
 * exist (values over 100 mean all of them), in the file's order, at most `max` of them;
 * returns how many it names. */
static int picked_streams(const AVFormatContext *fmt, enum AVMediaType type, const mc_streams *sel,
                          int *picked, int max)
{
    int count = 0;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        if (!selectable(fmt->streams[i], type))
            continue;
        bool named = mc_streams_all(sel);
        for (size_t k = 0; k < sel->n && !named; k++)
            named = sel->index[k] == (int64_t)i;
        if (!named)
            continue;
        if (count < max)
            picked[count] = (int)i;
        count++;
    }
    return count;
}

static void list_text(const int *idx, int n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", k ? "," : "", idx[k]);
}

int mc_input_vtrack(const mc_input *in, int index)
{
    for (int k = 0; index >= 0 && k < in->n_vst; k++)
        if (in->vsts[k] == index)
            return k;
    return -1;
}

AVCodecContext *mc_input_vdec(const mc_input *in, int k)
{
    return k == 0 ? in->vdec : in->vdecs[k];
}

int mc_input_track(const mc_input *in, int index)
{
    for (int k = 0; k < in->n_ast; k++)
        if (in->asts[k] == index)
            return k;
    return -1;
}

/* The sources that are concatenated (not attached). */
static size_t main_sources(const mc_job *job)
{
    size_t n = 0;
    for (size_t i = 0; i < job->n_sources; i++)
        n += !job->sources[i].attached;
    return n;
}

/*
 * The streams of `type` this input feeds its targets with: those each target's Stream
 * selects. Indexes are the file's stream indexes, as ffprobe and IMM's media info number
 * them (the same as Subtitle.Stream); indexes that are not a stream of that type are
 * ignored, and an empty selection means the first stream of the type. An output carries one
 * video stream per selected video stream (several only from a single source) and one audio
 * track per selected audio stream (or their mix), and the input
 * is decoded once for every target, so targets (those of TargetGroups too) must agree.
 */
static int select_streams(mc_engine *e, const mc_input *in, enum AVMediaType type, int *out,
                          int *n_out)
{
    const mc_job *job = e->job;
    bool video = type == AVMEDIA_TYPE_VIDEO;
    const char *kind = video ? "Video" : "Audio";
    /* Several video streams of a concatenation would need every source to have as many. */
    int max = !video ? MC_MAX_ATRACKS : main_sources(job) > 1 ? 1 : MC_MAX_VTRACKS;
    char field[64];
    mc_input_field(in, field, sizeof(field));
    int first = first_stream(in->fmt, type);
    int chosen[MC_MAX_ATRACKS], n_chosen = -1; /* streams picked so far (-1: none yet) */
    char chooser[64] = ""; /* the target that picked them */
    size_t n_all = job->n_targets;
    for (size_t g = 0; g < job->n_target_groups; g++)
        n_all += job->target_groups[g].n_targets;
    for (size_t i = 0, g = 0, gi = 0; i < n_all; i++) {
        const mc_target *t;
        char name[64];
        if (i < job->n_targets) {
            t = &job->targets[i];
            snprintf(name, sizeof(name), "Targets[%zu]", i);
        } else {
            while (gi >= job->target_groups[g].n_targets)
                g++, gi = 0;
            t = &job->target_groups[g].targets[gi];
            snprintf(name, sizeof(name), "TargetGroups[%zu].Targets[%zu]", g, gi);
            gi++;
        }
        if (!t->uri)
            continue; /* image-only targets take the video the others take */
        const mc_streams *sel = video ? &t->video.stream : &t->audio.stream;
        /* Whether the target has a stream of this type at all (an omitted Video or Audio
         * copies the first stream). */
        bool on = video ? !mc_container_is_audio_only(t->container) &&
                              (!t->has_video || (!t->video.disable && t->video.has_transcode))
                        : !t->has_audio || (!t->audio.disable && t->audio.has_transcode);
        if (!on)
            continue;
        int picked[MC_MAX_ATRACKS];
        int count = sel->n ? picked_streams(in->fmt, type, sel, picked, max) : 0;
        if (count > max)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s.%s.Stream: selects %d %s streams of %s (%s); this version "
                              "puts at most %d in an output; allowed: %s",
                              name, kind, count, video ? "video" : "audio", field, in->uri, max,
                              video && max == 1 ? "one stream index when sources are "
                                                  "concatenated"
                                                : "fewer stream indexes");
        if (count == 0 && first >= 0) {
            picked[0] = first; /* nothing that exists: the first */
            count = 1;
        }
        if (n_chosen >= 0 &&
            (count != n_chosen || memcmp(picked, chosen, sizeof(int) * (size_t)count) != 0)) {
            char a[96], b[96];
            list_text(picked, count, a, sizeof(a));
            list_text(chosen, n_chosen, b, sizeof(b));
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s.%s.Stream: selects stream%s %s of %s while %s takes stream%s "
                              "%s; allowed: the same streams in every target",
                              name, kind, count == 1 ? "" : "s", a, field, chooser,
                              n_chosen == 1 ? "" : "s", b);
        }
        memcpy(chosen, picked, sizeof(int) * (size_t)count);
        n_chosen = count;
        snprintf(chooser, sizeof(chooser), "%s", name);
    }
    if (n_chosen < 0) {
        n_chosen = first >= 0;
        chosen[0] = first;
    }
    memcpy(out, chosen, sizeof(int) * (size_t)n_chosen);
    *n_out = n_chosen;
    return 0;
}

static AVRational stream_fps(const AVStream *st)
{
    AVRational r = st->avg_frame_rate;
    if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 240)
        r = st->r_frame_rate;
    if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 240)
        r = (AVRational){0, 1};
    return r;
}

static int64_t input_length(const AVFormatContext *fmt)
{
    if (fmt->duration > 0 && fmt->duration != AV_NOPTS_VALUE)
        return fmt->duration;
    int64_t best = 0;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->duration > 0 && st->duration != AV_NOPTS_VALUE) {
            int64_t d = av_rescale_q(st->duration, st->time_base, AV_TIME_BASE_Q);
            if (d > best)
                best = d;
        }
    }
    return best;
}

int mc_input_open(mc_engine *e, mc_input *in)
{
    char field[64], ufield[80];
    mc_input_field(in, field, sizeof(field));
    snprintf(ufield, sizeof(ufield), "%s.URI", field);

    mc_uri uri;
    int rc = mc_uri_resolve(e->opts->store, in->src->uri, e->opts->uri_flags, ufield, &uri, e->err);
    if (rc < 0)
        return rc;
    in->uri = mc_strdup(in->src->uri);
    in->path = uri.path;
    uri.path = NULL;
    bool in_store = uri.scheme == MC_URI_OSS;
    mc_uri_clear(&uri);
    if (!in->uri)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");

    struct stat sb;
    if (stat(in->path, &sb) < 0 || S_ISDIR(sb.st_mode))
        return mc_err_set(e->err, -ENOENT, "ResourceNotFound", "%s: %s does not exist", ufield,
                          in->uri);

    in->guard.root = in_store ? mc_store_root(e->opts->store) : NULL;
    rc = mc_open_demuxer(&in->fmt, in->path, &in->guard);
    if (rc < 0 && in->guard.refused)
        return mc_err_set(e->err, -EPERM, "InvalidArgument",
                          "%s: %s refers to files outside the object store", field, in->uri);
    if (rc < 0)
        return mc_media_error(e, rc == AVERROR(ENOMEM) ? rc : AVERROR_INVALIDDATA,
                              "%s: %s is not a media file that can be read", field, in->uri);
    AVFormatContext *fmt = in->fmt;

    in->vst = in->ast = -1;
    in->n_ast = 0;
    int n_v = 0;
    if (in->src->attached) {
        /* Its first video and first audio stream; the targets' Stream lists number the
         * main sources. */
        in->vsts[0] = in->src->disable_video ? -1 : first_stream(fmt, AVMEDIA_TYPE_VIDEO);
        n_v = in->vsts[0] >= 0;
        in->ast = in->src->disable_audio ? -1 : first_stream(fmt, AVMEDIA_TYPE_AUDIO);
        in->n_ast = in->ast >= 0;
        in->asts[0] = in->ast;
    } else if (!in->src->disable_video &&
               (rc = select_streams(e, in, AVMEDIA_TYPE_VIDEO, in->vsts, &n_v)) < 0)
        return rc;
    in->n_vst = n_v;
    in->vst = n_v ? in->vsts[0] : -1;
    if (!in->src->attached && !in->src->disable_audio &&
        (rc = select_streams(e, in, AVMEDIA_TYPE_AUDIO, in->asts, &in->n_ast)) < 0)
        return rc;
    in->ast = in->n_ast ? in->asts[0] : -1;
    if (in->vst < 0 && in->ast < 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                          "%s: %s has no %s stream to process", field, in->uri,
                          in->src->disable_video ? "audio"
                          : in->src->disable_audio ? "video"
                                                   : "audio or video");

    in->t0 = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time : 0;
    in->win_start = llrint(in->src->start_time * AV_TIME_BASE);
    in->win_len = in->src->duration > 0 ? llrint(in->src->duration * AV_TIME_BASE) : INT64_MAX;
    int64_t len = input_length(fmt);
    if (len > 0) {
        /* A little slack: container durations are rounded. */
        if (in->win_start > 0 && in->win_start >= len)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.StartTime: %.3f s is at or beyond the end of %s (%.3f s)",
                              field, in->src->start_time, in->uri, (double)len / AV_TIME_BASE);
        in->est_len = FFMIN(len - in->win_start, in->win_len);
    } else {
        in->est_len = in->win_len != INT64_MAX ? in->win_len : 0;
    }
    if (in->vst >= 0) {
        const AVStream *st = fmt->streams[in->vst];
        in->rotation = mc_stream_rotation(st);
        AVRational r = st->avg_frame_rate;
        if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 240)
            r = st->r_frame_rate;
        if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 240)
            r = (AVRational){0, 1};
        in->fps = r;
    }
    for (int k = 0; k < in->n_vst; k++) {
        in->vrot[k] = k ? mc_stream_rotation(fmt->streams[in->vsts[k]]) : in->rotation;
        in->vfps[k] = k ? stream_fps(fmt->streams[in->vsts[k]]) : in->fps;
    }
    return 0;
}

static int open_decoder(mc_engine *e, mc_input *in, int index, AVCodecContext **out)
{
    char field[64];
    mc_input_field(in, field, sizeof(field));
    AVStream *st = in->fmt->streams[index];
    const AVCodec *codec = NULL;
    bool video = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
    int rc = video ? mc_hw_find_decoder(e->dev, st, &codec) : 0;
    if (!video || rc == -ENOSYS) {
        codec = avcodec_find_decoder(st->codecpar->codec_id);
        rc = codec ? 0 : AVERROR_DECODER_NOT_FOUND;
    }
    if (rc < 0)
        return mc_media_error(e, AVERROR_DECODER_NOT_FOUND, "%s: no decoder for %s stream %d (%s)",
                              field, av_get_media_type_string(st->codecpar->codec_type), index,
                              avcodec_get_name(st->codecpar->codec_id));
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    if (!dec)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    rc = avcodec_parameters_to_context(dec, st->codecpar);
    if (rc < 0)
        goto fail;
    dec->pkt_timebase = st->time_base;
    if (video) {
        rc = mc_hw_setup_decoder(e->dev, dec, &in->hw_fallbacks);
        if (rc == -ENOSYS)
            rc = 0;
    } else {
        dec->thread_count = 0;
    }
    if (rc < 0)
        goto fail;
    rc = avcodec_open2(dec, codec, NULL);
    if (rc < 0)
        goto fail;
    if (video && mc_hw_device_decodes(e->dev, dec))
        e->dec_on_dev = true;
    else if (video)
        e->dec_on_cpu = true;
    *out = dec;
    return 0;
fail:
    avcodec_free_context(&dec);
    return mc_media_error(e, rc, "%s: cannot open the %s decoder for stream %d", field,
                          codec->name, index);
}

int mc_input_open_decoders(mc_engine *e, mc_input *in)
{
    int rc = 0;
    if (in->decode_v && !in->vdec)
        rc = open_decoder(e, in, in->vst, &in->vdec);
    for (int k = 1; rc >= 0 && in->decode_v && k < in->n_vst; k++)
        if (!in->vdecs[k])
            rc = open_decoder(e, in, in->vsts[k], &in->vdecs[k]);
    for (int k = 0; rc >= 0 && in->decode_a && k < in->n_ast; k++)
        if (!in->adec[k])
            rc = open_decoder(e, in, in->asts[k], &in->adec[k]);
    return rc;
}

int mc_input_seek(mc_engine *e, mc_input *in)
{
    (void)e;
    if (in->win_start <= 0)
        return 0;
    int64_t ts = in->t0 + in->win_start;
    int rc = avformat_seek_file(in->fmt, -1, INT64_MIN, ts, ts, 0);
    if (rc < 0) {
        /* Not seekable: read from the start; the trim filters drop what comes before. */
        mc_log(MC_LOG_DEBUG, "seek in %s failed (%s), reading from the start", in->uri,
               av_err2str(rc));
    }
    return 0;
}

void mc_input_close(mc_input *in)
{
    avcodec_free_context(&in->vdec);
    for (int k = 0; k < MC_MAX_VTRACKS; k++)
        avcodec_free_context(&in->vdecs[k]);
    for (int k = 0; k < MC_MAX_ATRACKS; k++)
        avcodec_free_context(&in->adec[k]);
    avformat_close_input(&in->fmt);
    mc_freep(&in->uri);
    mc_freep(&in->path);
}
