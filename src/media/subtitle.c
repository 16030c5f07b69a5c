/*
 * Subtitles, planning: which subtitle streams each target takes, what its container (or an
 * ExtractSubtitle file) stores them as, and the files of Source.Subtitles. See
 * subtitle_priv.h for the shape; the packets themselves go through subtitle_io.c.
 *
 * Rules (README, "Subtitles"):
 * - Target.Subtitle omitted: the first subtitle stream of the sources is kept; with it, the
 *   streams Subtitle.Stream lists (absolute stream indexes of the source, as ffprobe numbers
 *   them; unset or any value > 100: all subtitle streams; indexes that are not subtitle
 *   streams are ignored). DisableSubtitle: none in the container (ExtractSubtitle still
 *   extracts).
 * - Source.Subtitles files are added to every target that keeps subtitles, after the
 *   embedded streams.
 * - Text subtitles are converted to what the container stores (mp4/mov: mov_text, webm:
 *   webvtt, mkv: ass/srt/webvtt kept, others to srt); picture subtitles (dvd_sub, pgs, dvb)
 *   only go into mkv. A container that can't carry a subtitle is an error for added files
 *   and for streams Subtitle.Stream names; an embedded stream kept only by default is left
 *   out with a note.
 */
#include "subtitle_priv.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool is_text(enum AVCodecID id)
{
    const AVCodecDescriptor *d = avcodec_descriptor_get(id);
    return d && (d->props & AV_CODEC_PROP_TEXT_SUB);
}

/* What container c stores a subtitle of codec id as; AV_CODEC_ID_NONE: it can't. */
static enum AVCodecID container_codec(enum mc_container c, enum AVCodecID id)
{
    bool text = is_text(id);
    switch (c) {
    case MC_CONTAINER_MP4:
    case MC_CONTAINER_MOV:
        return text ? AV_CODEC_ID_MOV_TEXT : AV_CODEC_ID_NONE;
    case MC_CONTAINER_WEBM:
        return text ? AV_CODEC_ID_WEBVTT : AV_CODEC_ID_NONE;
    case MC_CONTAINER_MKV:
        if (id == AV_CODEC_ID_ASS || id == AV_CODEC_ID_SUBRIP || id == AV_CODEC_ID_WEBVTT ||
            id == AV_CODEC_ID_DVD_SUBTITLE || id == AV_CODEC_ID_HDMV_PGS_SUBTITLE ||
            id == AV_CODEC_ID_DVB_SUBTITLE)
            return id;
        return text ? (id == AV_CODEC_ID_SSA ? AV_CODEC_ID_ASS : AV_CODEC_ID_SUBRIP)
                    : AV_CODEC_ID_NONE;
    default:
        return AV_CODEC_ID_NONE;
    }
}

static const char *allowed_containers(enum AVCodecID id)
{
    return is_text(id) ? "mp4, mov, mkv, webm" : "mkv";
}

/* ExtractSubtitle.Format ("ass", "srt", "webvtt"): codec, muxer, file extension. */
static void extract_format(const char *format, enum AVCodecID *id, const char **muxer,
                           const char **ext)
{
    if (strcmp(format, "ass") == 0) {
        *id = AV_CODEC_ID_ASS;
        *muxer = *ext = "ass";
    } else if (strcmp(format, "srt") == 0) {
        *id = AV_CODEC_ID_SUBRIP;
        *muxer = *ext = "srt";
    } else {
        *id = AV_CODEC_ID_WEBVTT;
        *muxer = "webvtt";
        *ext = "vtt";
    }
}

static int nomem(mc_engine *e)
{
    return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
}

static sub_feed *feed_new(mc_engine *e)
{
    mc_subs *s = e->subs;
    sub_feed **p = realloc(s->feeds, (s->n_feeds + 1) * sizeof(*p));
    if (!p)
        return NULL;
    s->feeds = p;
    sub_feed *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->par = avcodec_parameters_alloc();
    if (!f->par) {
        free(f);
        return NULL;
    }
    s->feeds[s->n_feeds++] = f;
    return f;
}

static int embedded_feed(mc_engine *e, mc_input *in, int stream, sub_feed **out)
{
    for (size_t i = 0; i < e->subs->n_feeds; i++) {
        sub_feed *f = e->subs->feeds[i];
        if (f->in == in && f->stream == stream) {
            *out = f;
            return 0;
        }
    }
    sub_feed *f = feed_new(e);
    if (!f)
        return nomem(e);
    const AVStream *st = in->fmt->streams[stream];
    if (avcodec_parameters_copy(f->par, st->codecpar) < 0)
        return nomem(e);
    f->in = in;
    f->stream = stream;
    f->tb = st->time_base;
    snprintf(f->field, sizeof(f->field), "Sources[%d]", in->source_index);
    *out = f;
    return 0;
}

/* Read subtitle file j of an input: its first subtitle stream, every packet of it. */
static int open_added(mc_engine *e, mc_input *in, size_t j)
{
    const mc_source_subtitle *ss = &in->src->subtitles[j];
    sub_feed *f = feed_new(e);
    if (!f)
        return nomem(e);
    f->in = in;
    f->stream = -1;
    f->offset = llrint(ss->time_offset * AV_TIME_BASE);
    f->language = ss->language;
    snprintf(f->field, sizeof(f->field), "Sources[%d].Subtitles[%zu].URI", in->source_index, j);
    if (!(f->uri = mc_strdup(ss->uri)))
        return nomem(e);
    mc_uri uri;
    int rc = mc_uri_resolve(e->opts->store, ss->uri, e->opts->uri_flags, f->field, &uri, e->err);
    if (rc < 0)
        return rc;
    struct stat sb;
    if (stat(uri.path, &sb) < 0 || S_ISDIR(sb.st_mode)) {
        mc_uri_clear(&uri);
        return mc_err_set(e->err, -ENOENT, "ResourceNotFound", "%s: %s does not exist", f->field,
                          f->uri);
    }
    f->guard.root = uri.scheme == MC_URI_OSS ? mc_store_root(e->opts->store) : NULL;
    rc = mc_open_demuxer(&f->fmt, uri.path, &f->guard);
    mc_uri_clear(&uri);
    if (rc < 0 && f->guard.refused)
        return mc_err_set(e->err, -EPERM, "InvalidArgument",
                          "%s: %s refers to files outside the object store", f->field, f->uri);
    if (rc < 0)
        return mc_media_error(e, rc == AVERROR(ENOMEM) ? rc : AVERROR_INVALIDDATA,
                              "%s: %s is not a subtitle file that can be read", f->field, f->uri);
    int idx = av_find_best_stream(f->fmt, AVMEDIA_TYPE_SUBTITLE, -1, -1, NULL, 0);
    if (idx < 0 || f->fmt->streams[idx]->codecpar->codec_id == AV_CODEC_ID_NONE)
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: %s has no subtitle stream; allowed: srt, vtt and ass files, or "
                          "media files with a subtitle stream (mov_text, dvd_sub, pgs)",
                          f->field, f->uri);
    AVStream *st = f->fmt->streams[idx];
    f->tb = st->time_base;
    if (avcodec_parameters_copy(f->par, st->codecpar) < 0)
        return nomem(e);
    AVPacket *pkt = e->pkt;
    for (;;) {
        rc = av_read_frame(f->fmt, pkt);
        if (rc == AVERROR_EOF)
            break;
        if (rc == AVERROR(EAGAIN))
            continue;
        if (rc < 0)
            return mc_media_error(e, rc == AVERROR(EIO) ? rc : AVERROR_INVALIDDATA,
                                  "%s: reading %s failed", f->field, f->uri);
        if (pkt->stream_index != idx) {
            av_packet_unref(pkt);
            continue;
        }
        AVPacket **p = realloc(f->pkts, (f->n_pkts + 1) * sizeof(*p));
        if (p)
            f->pkts = p;
        if (!p || !(f->pkts[f->n_pkts] = av_packet_clone(pkt))) {
            av_packet_unref(pkt);
            return nomem(e);
        }
        f->n_pkts++;
        av_packet_unref(pkt);
    }
    /* Everything is in memory: the demuxer is not needed any more. */
    avformat_close_input(&f->fmt);
    return 0;
}

static sub_out *out_new(mc_engine *e, int target_index, int track, sub_feed **feeds, size_t n_feeds)
{
    mc_subs *s = e->subs;
    sub_out **p = realloc(s->outs, (s->n_outs + 1) * sizeof(*p));
    if (!p)
        return NULL;
    s->outs = p;
    sub_out *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->feeds = malloc(n_feeds * sizeof(*o->feeds));
    if (!o->feeds) {
        free(o);
        return NULL;
    }
    memcpy(o->feeds, feeds, n_feeds * sizeof(*feeds));
    o->n_feeds = n_feeds;
    o->target_index = target_index;
    o->group = -1;
    o->track = track;
    o->output = -1;
    s->outs[s->n_outs++] = o;
    return o;
}

/* Whether every feed after the first can be turned into `codec` (text into text; a picture
 * subtitle only into its own codec). */
static const sub_feed *unconvertible(sub_feed **feeds, size_t n, enum AVCodecID codec)
{
    for (size_t i = 0; i < n; i++) {
        enum AVCodecID id = feeds[i]->par->codec_id;
        if (id != codec && (!is_text(id) || !is_text(codec)))
            return feeds[i];
    }
    return NULL;
}

/* The subtitle track `track` of a target into its container output. */
static int plan_container(mc_engine *e, size_t oi, int track, sub_feed **feeds, size_t n,
                          bool named)
{
    mc_output *out = &e->outputs[oi];
    const mc_target *t = out->t;
    if (t->has_segment) {
        /* HLS carries subtitles as WebVTT renditions that only a master playlist can name
         * (a TargetGroup writes them), DASH as adaptation sets (not written): a lone media
         * playlist has no place for them. ExtractSubtitle writes the WebVTT beside it. */
        bool added = feeds[0]->stream < 0;
        if (!added && !named) {
            mc_log(MC_LOG_INFO, "Targets[%d]: segmented output carries no subtitle stream; %s "
                   "left out", out->target_index, feeds[0]->field);
            return 0;
        }
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s: a segmented output (Targets[%d].Segment) has no subtitle "
                          "stream (HLS subtitle renditions need a master playlist: use a "
                          "TargetGroup with Subtitle.ExtractSubtitle); allowed: "
                          "Targets[%d].Subtitle.ExtractSubtitle to write them beside the "
                          "playlist, or Subtitle.DisableSubtitle",
                          added ? feeds[0]->field : "Subtitle.Stream", out->target_index,
                          out->target_index);
    }
    enum AVCodecID src = feeds[0]->par->codec_id;
    enum AVCodecID codec = container_codec(t->container, src);
    const sub_feed *bad = codec == AV_CODEC_ID_NONE ? feeds[0] : unconvertible(feeds, n, codec);
    if (bad) {
        enum AVCodecID id = bad->par->codec_id;
        bool added = bad->stream < 0;
        if (!added && !named) {
            mc_log(MC_LOG_INFO, "Targets[%d]: %s cannot carry the %s subtitle of %s; left out",
                   out->target_index, mc_container_name(t->container), avcodec_get_name(id),
                   bad->field);
            return 0;
        }
        char field[96];
        if (added)
            snprintf(field, sizeof(field), "%s", bad->field);
        else
            snprintf(field, sizeof(field), "Targets[%d].Subtitle.Stream", out->target_index);
        if (codec == AV_CODEC_ID_NONE)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: a %s target cannot carry the %s subtitle (%s stream %d); "
                              "allowed containers for it: %s (or set Targets[%d].Subtitle."
                              "DisableSubtitle)",
                              field, mc_container_name(t->container), avcodec_get_name(id),
                              added ? bad->uri : bad->field, added ? 0 : bad->stream,
                              allowed_containers(id), out->target_index);
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: the %s subtitle of %s cannot be converted to %s, the subtitle "
                          "the other sources give track %d",
                          field, avcodec_get_name(id), bad->field, avcodec_get_name(codec), track);
    }
    sub_out *o = out_new(e, out->target_index, track, feeds, n);
    if (!o)
        return nomem(e);
    o->output = (int)oi;
    o->t = t;
    o->codec = codec;
    snprintf(o->field, sizeof(o->field), "Targets[%d].Subtitle", out->target_index);
    return mc_subs_open_codecs(e, o);
}

/* Which target a track plan is for: one of Targets (group -1) or of a TargetGroup. */
typedef struct sub_target {
    const mc_target *t;
    int index; /* in Targets, or in its group's Targets */
    int group; /* TargetGroups index, -1 for Targets */
    char field[64];
} sub_target;

/* The subtitle track `track` of a target into <prefix>_<track>.<ext>; in a TargetGroup a
 * WebVTT rendition (<prefix>_<track>.vtt and its media playlist, subtitle_hls.c). */
static int plan_extract(mc_engine *e, const sub_target *st, int track, sub_feed **feeds,
                        size_t n, bool named)
{
    const mc_target *t = st->t;
    int ti = st->index;
    enum AVCodecID codec;
    const char *muxer, *ext;
    extract_format(t->subtitle.extract_format, &codec, &muxer, &ext);
    char field[96];
    snprintf(field, sizeof(field), "%s.Subtitle.ExtractSubtitle", st->field);
    const sub_feed *bad = unconvertible(feeds, n, codec);
    if (bad) {
        if (!named && bad->stream >= 0) {
            mc_log(MC_LOG_INFO,
                   "%s: the %s subtitle of %s is a picture, not text: not "
                   "extracted",
                   field, avcodec_get_name(bad->par->codec_id), bad->field);
            return 0;
        }
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s.Format: the %s subtitle of %s is a picture and cannot be written "
                          "as %s; allowed: text subtitles (srt, vtt, ass, mov_text)",
                          field, avcodec_get_name(bad->par->codec_id),
                          bad->stream < 0 ? bad->uri : bad->field, t->subtitle.extract_format);
    }
    sub_out *o = out_new(e, ti, track, feeds, n);
    if (!o)
        return nomem(e);
    o->codec = codec;
    o->muxer = muxer;
    o->ext = ext;
    o->group = st->group;
    o->t = t;
    snprintf(o->field, sizeof(o->field), "%s", field);
    char ufield[112], *prefix = NULL;
    snprintf(ufield, sizeof(ufield), "%s.URI", field);
    int rc = mc_expand_uri(e, t->subtitle.extract_uri, ufield, track, ext, NULL, &prefix);
    if (rc < 0)
        return rc;
    o->uri = mc_asprintf("%s_%d.%s", prefix, track, ext);
    free(prefix);
    if (!o->uri)
        return nomem(e);
    mc_uri dst;
    rc = mc_uri_resolve(e->opts->store, o->uri, e->opts->uri_flags, ufield, &dst, e->err);
    if (rc < 0)
        return rc;
    o->path = dst.path;
    dst.path = NULL;
    mc_uri_clear(&dst);
    for (size_t i = 0; i < e->n_outputs; i++)
        if (e->outputs[i].path && strcmp(e->outputs[i].path, o->path) == 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: %s is also the output of %s", ufield, o->uri,
                              e->outputs[i].field);
    for (size_t i = 0; i + 1 < e->subs->n_outs; i++) {
        const sub_out *p = e->subs->outs[i];
        if (p->path && strcmp(p->path, o->path) == 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: %s is also extracted by another target", ufield, o->uri);
    }
    if (o->group >= 0) {
        rc = mc_subs_rendition_plan(e, o, ufield);
        if (rc < 0)
            return rc;
    }
    return mc_subs_open_codecs(e, o);
}

/* Whether Subtitle.Stream of t lists stream i. */
static bool listed(const mc_target *t, unsigned i)
{
    for (size_t k = 0; k < t->subtitle.stream.n; k++)
        if (t->subtitle.stream.index[k] == (int64_t)i)
            return true;
    return false;
}

/* The subtitle streams of `in` that t takes, in stream order, into sel (nb_streams long). */
static size_t select_streams(const mc_target *t, const mc_input *in, int *sel)
{
    size_t n = 0;
    bool all =
        t->has_subtitle && (t->subtitle.stream.n == 0 || mc_streams_all(&t->subtitle.stream));
    for (unsigned i = 0; i < in->fmt->nb_streams; i++) {
        const AVCodecParameters *par = in->fmt->streams[i]->codecpar;
        if (par->codec_type != AVMEDIA_TYPE_SUBTITLE || par->codec_id == AV_CODEC_ID_NONE)
            continue;
        if (!t->has_subtitle) {
            sel[0] = (int)i; /* Subtitle omitted: the first subtitle stream */
            return 1;
        }
        if (all || listed(t, i))
            sel[n++] = (int)i;
    }
    return n;
}

/* One track of a target: to its container output (oi, or none) and to its extraction. */
static int plan_track(mc_engine *e, const sub_target *st, long oi, int track, sub_feed **feeds,
                      size_t n, bool named)
{
    const mc_target *t = st->t;
    int rc = 0;
    if (oi >= 0 && !t->subtitle.disable)
        rc = plan_container(e, (size_t)oi, track, feeds, n, named);
    if (rc >= 0 && t->subtitle.has_extract)
        rc = plan_extract(e, st, track, feeds, n, named);
    return rc;
}

/* The subtitle tracks of a target. A variant of a TargetGroup has no subtitle stream of its
 * own (the job model allows only ExtractSubtitle there): its tracks become renditions. */
static int plan_target(mc_engine *e, const sub_target *st, sub_feed **feeds, int *sel)
{
    const mc_target *t = st->t;
    int ti = st->index;
    long oi = -1;
    for (size_t i = 0; st->group < 0 && i < e->n_outputs; i++)
        if (e->outputs[i].target_index == ti && e->outputs[i].group_index < 0)
            oi = (long)i;
    if ((oi < 0 || t->subtitle.disable) && !t->subtitle.has_extract)
        return 0;
    bool named =
        t->has_subtitle && t->subtitle.stream.n > 0 && !mc_streams_all(&t->subtitle.stream);
    /* Embedded tracks: the k-th selected stream of every input. */
    int track = 0, rc = 0;
    for (size_t k = 0;; k++) {
        size_t n = 0;
        for (size_t i = 0; i < e->n_inputs && rc >= 0; i++) {
            mc_input *in = &e->inputs[i];
            size_t got = select_streams(t, in, sel);
            if (k < got)
                rc = embedded_feed(e, in, sel[k], &feeds[n++]);
        }
        if (rc < 0)
            return rc;
        if (n == 0)
            break;
        rc = plan_track(e, st, oi, track++, feeds, n, named);
        if (rc < 0)
            return rc;
    }
    /* Then every added file, in order. */
    size_t n_feeds = e->subs->n_feeds;
    for (size_t i = 0; i < n_feeds && rc >= 0; i++) {
        sub_feed *f = e->subs->feeds[i];
        if (f->stream < 0)
            rc = plan_track(e, st, oi, track++, &f, 1, true);
    }
    if (rc >= 0 && t->subtitle.has_extract && track == 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                          "%s.Subtitle.ExtractSubtitle: the sources have no subtitle "
                          "stream%s to extract",
                          st->field, named ? " of the indexes in Subtitle.Stream" : "");
    return rc;
}

int mc_subs_plan(mc_engine *e)
{
    if (!(e->subs = calloc(1, sizeof(*e->subs))))
        return nomem(e);
    e->subs->pkt = av_packet_alloc();
    if (!e->subs->pkt)
        return nomem(e);
    int rc = 0;
    size_t max_streams = 1;
    for (size_t i = 0; i < e->n_inputs && rc >= 0; i++) {
        mc_input *in = &e->inputs[i];
        max_streams = FFMAX(max_streams, in->fmt->nb_streams);
        for (size_t j = 0; j < in->src->n_subtitles && rc >= 0; j++)
            rc = open_added(e, in, j);
    }
    if (rc < 0)
        return rc;
    /* a track has at most one feed per input, or one added file */
    sub_feed **feeds = calloc(e->n_inputs + 1, sizeof(*feeds));
    int *sel = calloc(max_streams, sizeof(*sel));
    if (!feeds || !sel)
        rc = nomem(e);
    for (size_t ti = 0; ti < e->job->n_targets && rc >= 0; ti++) {
        sub_target st = {&e->job->targets[ti], (int)ti, -1, ""};
        snprintf(st.field, sizeof(st.field), "Targets[%d]", (int)ti);
        rc = plan_target(e, &st, feeds, sel);
    }
    /* TargetGroups: one target packages every subtitle track as renditions (spec 1.5). */
    for (size_t g = 0; g < e->job->n_target_groups && rc >= 0; g++) {
        const mc_target_group *grp = &e->job->target_groups[g];
        long first = -1;
        for (size_t i = 0; i < grp->n_targets && rc >= 0; i++) {
            const mc_target *t = &grp->targets[i];
            if (!t->has_subtitle || !t->subtitle.has_extract)
                continue;
            if (first >= 0) {
                rc = mc_err_set(e->err, -EINVAL, "InvalidArgument",
                                "TargetGroups[%zu].Targets[%zu].Subtitle.ExtractSubtitle: "
                                "TargetGroups[%zu].Targets[%ld] already packages every "
                                "subtitle track of the group; allowed: ExtractSubtitle on "
                                "one target of a group",
                                g, i, g, first);
                break;
            }
            first = (long)i;
            sub_target st = {t, (int)i, (int)g, ""};
            snprintf(st.field, sizeof(st.field), "TargetGroups[%d].Targets[%d]", (int)g, (int)i);
            rc = plan_target(e, &st, feeds, sel);
        }
    }
    free(feeds);
    free(sel);
    return rc;
}

bool mc_subs_reads(const mc_engine *e, const mc_input *in)
{
    /* Any subtitle track at all: sparse reading stops early and skips later sources,
     * whose cues (embedded or added) a track may need. */
    (void)in;
    return e->subs && e->subs->n_outs > 0;
}
