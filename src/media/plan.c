/*
 * Planning: for every container target, decide before decoding anything whether each stream
 * is copied or encoded, and with exactly which size, frame rate, pixel format, sample rate,
 * channel layout and encoder. The filter chains are then built to produce exactly that, so
 * encoders and muxers can be opened up front and mid-stream changes are absorbed.
 */
#include "media_priv.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>

const char *mc_container_muxer(enum mc_container c)
{
    static const char *const names[MC_CONTAINER__COUNT] = {
        [MC_CONTAINER_MP4] = "mp4",  [MC_CONTAINER_MKV] = "matroska", [MC_CONTAINER_MOV] = "mov",
        [MC_CONTAINER_ASF] = "asf",  [MC_CONTAINER_AVI] = "avi",      [MC_CONTAINER_MXF] = "mxf",
        [MC_CONTAINER_TS] = "mpegts", [MC_CONTAINER_FLV] = "flv",     [MC_CONTAINER_WEBM] = "webm",
        [MC_CONTAINER_MP3] = "mp3",  [MC_CONTAINER_AAC] = "adts",     [MC_CONTAINER_FLAC] = "flac",
        [MC_CONTAINER_OGA] = "oga",  [MC_CONTAINER_AC3] = "ac3",      [MC_CONTAINER_OPUS] = "opus",
        [MC_CONTAINER_AMR] = "amr",
    };
    return c > MC_CONTAINER_NONE && c < MC_CONTAINER__COUNT ? names[c] : NULL;
}

static enum AVCodecID vcodec_id(enum mc_vcodec c)
{
    switch (c) {
    case MC_VCODEC_H264:
        return AV_CODEC_ID_H264;
    case MC_VCODEC_H265:
        return AV_CODEC_ID_HEVC;
    case MC_VCODEC_VP9:
        return AV_CODEC_ID_VP9;
    case MC_VCODEC_AV1:
        return AV_CODEC_ID_AV1;
    default:
        return AV_CODEC_ID_NONE;
    }
}

void mc_engine_device_use(const mc_job *job, const mc_hw_device *dev, bool *video, bool *encode)
{
    bool any = false, all_enc = true, some_enc = false;
    for (size_t i = 0; i < job->n_targets; i++) {
        const mc_target *t = &job->targets[i];
        if (t->n_images)
            any = true;
        if (!t->uri || !t->has_video || !t->video.has_transcode)
            continue;
        enum AVCodecID id = vcodec_id(t->video.transcode.codec);
        if (id == AV_CODEC_ID_NONE)
            continue;
        any = some_enc = true;
        if (!(mc_hw_codec_caps(dev, id) & MC_HW_ENC8) || mc_hw_device_capacity(dev, true) == 0)
            all_enc = false;
    }
    *video = any;
    *encode = some_enc && all_enc && !mc_hw_device_is_software(dev);
}

const mc_input *mc_ref_input(const mc_engine *e, enum AVMediaType type)
{
    const mc_input *a = &e->inputs[e->align];
    if ((type == AVMEDIA_TYPE_VIDEO ? a->vst : a->ast) >= 0)
        return a;
    for (size_t i = 0; i < e->n_inputs; i++)
        if ((type == AVMEDIA_TYPE_VIDEO ? e->inputs[i].vst : e->inputs[i].ast) >= 0)
            return &e->inputs[i];
    return NULL;
}

const mc_input *mc_track_input(const mc_engine *e, int k)
{
    const mc_input *a = &e->inputs[e->align];
    if (a->n_ast > k)
        return a;
    for (size_t i = 0; i < e->n_inputs; i++)
        if (e->inputs[i].n_ast > k)
            return &e->inputs[i];
    return NULL;
}

int64_t mc_source_bitrate(const mc_input *in, int index)
{
    const AVStream *st = in->fmt->streams[index];
    if (st->codecpar->bit_rate > 0)
        return st->codecpar->bit_rate;
    return in->fmt->bit_rate > 0 ? in->fmt->bit_rate : 0;
}

/* The multiple of the chroma subsampling nearest to v (ties down, so an exact odd box side
 * never grows past the box). */
static int round_even(double v, int log2_sub)
{
    int m = 1 << log2_sub;
    int r = (int)ceil(v / m - 0.5) * m;
    return r < m ? m : r;
}

static AVRational valid_sar(AVRational sar)
{
    if (sar.num <= 0 || sar.den <= 0)
        return (AVRational){1, 1};
    av_reduce(&sar.num, &sar.den, sar.num, sar.den, INT_MAX);
    return sar;
}

/*
 * Output size and pixel aspect. Without Resolution the coded size and the sample aspect
 * ratio are kept (an anamorphic source is not upscaled to square pixels); with Resolution
 * the request speaks of display pixels, so the output has square pixels.
 */
static int plan_geometry(mc_engine *e, mc_ostream *os, const mc_input *ref,
                         const mc_video_transcode *tv, const char *field)
{
    const AVStream *st = ref->fmt->streams[ref->vsts[os->track]];
    int rot = (ref->vrot[os->track] + tv->rotation) % 360;
    bool swap = rot == 90 || rot == 270;
    AVRational sar = valid_sar(st->codecpar->sample_aspect_ratio);
    int cw = st->codecpar->width, ch = st->codecpar->height;
    if (cw <= 0 || ch <= 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia", "Sources[%d]: video has no size",
                          ref->source_index);
    /* display size, after rotation */
    int dw = (int)lround((double)cw * sar.num / sar.den), dh = ch;
    if (swap) {
        FFSWAP(int, dw, dh);
        FFSWAP(int, cw, ch);
        sar = av_inv_q(sar);
    }

    double w = cw, h = ch;
    os->v.sar = sar;
    os->v.scale_given = tv->has_resolution;
    os->v.scale_type = tv->scale_type;
    os->v.user_rotation = tv->rotation;
    if (tv->has_resolution) {
        int bw = tv->res_w, bh = tv->res_h;
        if (tv->adaptive_direction) {
            /* LongxShort, mapped onto the source's orientation. */
            int lng = bw ? bw : FFMAX(dw, dh), sht = bh ? bh : FFMIN(dw, dh);
            bw = dw >= dh ? lng : sht;
            bh = dw >= dh ? sht : lng;
        } else {
            bw = bw ? bw : dw;
            bh = bh ? bh : dh;
        }
        bool smaller = (int64_t)dw * dh < (int64_t)bw * bh;
        if (smaller && tv->resolution_option == MC_OPTION_FALL)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.Resolution: the source is %dx%d, smaller than %dx%d, and "
                              "ResolutionOption is fall",
                              field, dw, dh, bw, bh);
        if (smaller && tv->resolution_option == MC_OPTION_ADAPTIVE) {
            os->v.scale_given = false; /* keep the source's size */
        } else if (tv->scale_type == MC_SCALE_FIT) {
            double s = fmin((double)bw / dw, (double)bh / dh);
            w = dw * s;
            h = dh * s;
            os->v.sar = (AVRational){1, 1};
        } else {
            w = bw;
            h = bh;
            os->v.sar = (AVRational){1, 1};
        }
    }
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(os->v.hw_enc ? os->v.hw_sw_fmt
                                                                   : os->v.pix_fmt);
    os->v.width = round_even(w, d ? d->log2_chroma_w : 1);
    os->v.height = round_even(h, d ? d->log2_chroma_h : 1);
    return 0;
}

static enum AVPixelFormat requested_pix_fmt(enum mc_pix_fmt p)
{
    switch (p) {
    case MC_PIXFMT_YUV420P:
        return AV_PIX_FMT_YUV420P;
    case MC_PIXFMT_YUV422P:
        return AV_PIX_FMT_YUV422P;
    case MC_PIXFMT_YUV444P:
        return AV_PIX_FMT_YUV444P;
    case MC_PIXFMT_YUV420P10LE:
        return AV_PIX_FMT_YUV420P10LE;
    case MC_PIXFMT_YUV422P10LE:
        return AV_PIX_FMT_YUV422P10LE;
    case MC_PIXFMT_YUV444P10LE:
        return AV_PIX_FMT_YUV444P10LE;
    case MC_PIXFMT_YUVA420P:
        return AV_PIX_FMT_YUVA420P;
    default:
        return AV_PIX_FMT_NONE;
    }
}

static bool pix_fmt_supported(const AVCodec *codec, enum AVPixelFormat fmt)
{
    if (!codec->pix_fmts)
        return true;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == fmt)
            return true;
    return false;
}

static int plan_video(mc_engine *e, mc_output *out, mc_ostream *os, enum mc_vcodec vc,
                      const AVOutputFormat *ofmt)
{
    const mc_input *ref = os->att_in ? os->att_in : mc_ref_input(e, AVMEDIA_TYPE_VIDEO);
    const mc_target *t = out->t;
    static const mc_video_transcode defaults = {
        .crf = 23, .gop_size = 150, .bframes = 3, .refs = 2};
    const mc_video_transcode *tv =
        t->has_video && t->video.has_transcode ? &t->video.transcode : &defaults;
    char field[96];
    snprintf(field, sizeof(field), "%s.Video.TranscodeVideo", out->field);
    const AVStream *st = ref->fmt->streams[ref->vsts[os->track]];

    enum AVPixelFormat want = requested_pix_fmt(tv->pixel_format);
    enum AVPixelFormat src_fmt = st->codecpar->format;
    enum AVPixelFormat fmt = want != AV_PIX_FMT_NONE ? want : src_fmt;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    int depth = d ? d->comp[0].depth : 8;
    const AVCodec *codec = NULL;
    /* The device's encoder when it has one for this codec, depth and pixel format; else
     * software, fed with frames downloaded after scaling. */
    os->v.enc_dev = e->dev;
    int rc = mc_hw_find_encoder(e->dev, vcodec_id(vc), depth > 8 ? 10 : 8, &codec);
    enum AVPixelFormat hwf = mc_hw_device_format(e->dev);
    bool hw_enc = rc >= 0 && hwf != AV_PIX_FMT_NONE && codec->pix_fmts &&
                  pix_fmt_supported(codec, hwf);
    if (hw_enc && want != AV_PIX_FMT_NONE && want != AV_PIX_FMT_YUV420P &&
        want != AV_PIX_FMT_NV12 && want != AV_PIX_FMT_YUV420P10LE && want != AV_PIX_FMT_P010LE)
        rc = -ENOSYS; /* the device encodes 4:2:0 only */
    if (rc == -ENOSYS && e->dev != e->sw) {
        os->v.enc_dev = e->sw;
        hw_enc = false;
        rc = mc_hw_find_encoder(e->sw, vcodec_id(vc), depth > 8 ? 10 : 8, &codec);
    }
    if (rc < 0)
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s.Codec: no %s encoder for %d-bit video on %s", field,
                          mc_vcodec_name(vc), depth, mc_hw_device_name(e->dev));
    if (hw_enc) {
        os->v.hw_enc = true;
        os->v.hw_sw_fmt = depth > 8 ? AV_PIX_FMT_P010LE : AV_PIX_FMT_NV12;
        os->v.codec = codec;
        os->v.pix_fmt = hwf;
        want = AV_PIX_FMT_NONE;
        fmt = hwf;
    }
    if (want != AV_PIX_FMT_NONE && !pix_fmt_supported(codec, want))
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s.PixelFormat: %s cannot encode %s", field, codec->name,
                          av_get_pix_fmt_name(want));
    if (!hw_enc && (fmt == AV_PIX_FMT_NONE || !pix_fmt_supported(codec, fmt)))
        fmt = codec->pix_fmts ? avcodec_find_best_pix_fmt_of_list(
                                    codec->pix_fmts, src_fmt == AV_PIX_FMT_NONE
                                                         ? AV_PIX_FMT_YUV420P
                                                         : src_fmt,
                                    0, NULL)
                              : AV_PIX_FMT_YUV420P;
    os->v.codec = codec;
    os->v.pix_fmt = fmt;
    rc = plan_geometry(e, os, ref, tv, field);
    if (rc < 0)
        return rc;

    /* Frame rate: the request's, else the source's. Timestamps pass through unchanged
     * (variable frame rate) unless inputs are concatenated or the container wants CFR. */
    AVRational src_fps = ref->vfps[os->track];
    if (tv->frame_rate > 0) {
        AVRational want_fps = av_d2q(tv->frame_rate, 1001000);
        bool lower = src_fps.num > 0 && av_cmp_q(src_fps, want_fps) < 0;
        if (lower && tv->frame_rate_option == MC_OPTION_FALL)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.FrameRate: the source runs at %.3f fps, below %.3f, and "
                              "FrameRateOption is fall",
                              field, av_q2d(src_fps), tv->frame_rate);
        os->v.fps = lower && tv->frame_rate_option == MC_OPTION_ADAPTIVE ? src_fps : want_fps;
    } else if (e->n_inputs > 1 || os->att_in || !(ofmt->flags & AVFMT_VARIABLE_FPS)) {
        /* An attached video runs at a constant rate: its passes (loop) and its held last
         * frame (pad) are made by the fps filter. */
        os->v.fps = src_fps.num > 0 ? src_fps : (AVRational){25, 1};
    } else {
        os->v.fps = (AVRational){0, 1};
    }

    os->v.rate = (mc_hw_rate){
        .crf = tv->crf,
        .bitrate = tv->bitrate,
        .max_bitrate = tv->max_bitrate,
        .buffer_size = tv->buffer_size,
        .gop_size = tv->gop_size,
        .bframes = tv->bframes,
        .refs = tv->refs,
    };
    if (tv->bitrate > 0) {
        int64_t sb = mc_source_bitrate(ref, ref->vsts[os->track]);
        bool lower = sb > 0 && sb < tv->bitrate;
        if (lower && tv->bitrate_option == MC_OPTION_FALL)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.Bitrate: the source's %" PRId64 " bit/s is below %" PRId64
                              " and BitrateOption is fall",
                              field, sb, tv->bitrate);
        if (lower && tv->bitrate_option == MC_OPTION_ADAPTIVE)
            os->v.rate.bitrate = sb;
    }
    return 0;
}


bool mc_uri_has_extension(const char *uri)
{
    const char *base = strrchr(uri, '/');
    base = base ? base + 1 : uri;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1] || strlen(dot + 1) > 5)
        return false;
    for (const char *p = dot + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

static const char *job_tag(void *opaque, const char *name)
{
    return mc_job_tag(opaque, name);
}

int mc_expand_uri(mc_engine *e, const char *tmpl, const char *field, int64_t index,
                  const char *autoext, const char *resolution, char **out)
{
    const mc_input *primary = &e->inputs[e->align];
    mc_uri src;
    int rc = mc_uri_resolve(e->opts->store, primary->src->uri, e->opts->uri_flags, "Sources",
                            &src, e->err);
    if (rc < 0)
        return rc;
    mc_template_vars vars;
    mc_template_vars_init(&vars);
    vars.bucket = src.bucket;
    vars.key = src.scheme == MC_URI_OSS ? src.key : src.key + 1;
    struct stat sb;
    if (stat(src.path, &sb) == 0)
        vars.source_mtime = sb.st_mtime;
    vars.task_time = e->opts->task_time ? e->opts->task_time : time(NULL);
    vars.index = index;
    vars.stream_index = 0;
    vars.resolution = resolution;
    vars.autoext = autoext;
    vars.tag = job_tag;
    vars.tag_opaque = (void *)e->job;
    char *uri = NULL;
    rc = mc_template_expand(tmpl, &vars, field, &uri, e->err);
    mc_uri_clear(&src);
    if (rc < 0)
        return rc;
    /* "oss://{bucket}/{dirname}/{barename}.mp4" for a key without a folder expands to an
     * empty segment: variables that expand to nothing don't leave "//" behind. */
    if (strchr(tmpl, '{') && mc_str_starts_with(uri, "oss://")) {
        char *w = uri + 6;
        for (const char *r = uri + 6; *r; r++)
            if (*r != '/' || (w > uri + 6 && w[-1] != '/'))
                *w++ = *r;
        *w = '\0';
    }
    *out = uri;
    return 0;
}

/* Expand the target URI's template, add the extension it lacks, and resolve it. */
static int plan_uri(mc_engine *e, mc_output *out, const char *resolution)
{
    char field[64];
    snprintf(field, sizeof(field), "%s.URI", out->field);
    const mc_target *t = out->t;
    const char *ext = !t->has_segment                       ? mc_container_ext(t->container)
                      : t->segment.format == MC_SEGMENT_HLS ? "m3u8"
                                                            : "mpd";
    char *uri = NULL;
    int rc = mc_expand_uri(e, t->uri, field, 1, ext, resolution, &uri);
    if (rc < 0)
        return rc;
    if (t->has_segment)
        return mc_segment_plan(e, out, uri);
    if (!mc_uri_has_extension(uri)) {
        char *u = mc_asprintf("%s.%s", uri, ext);
        free(uri);
        if (!(uri = u))
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    mc_uri dst;
    rc = mc_uri_resolve(e->opts->store, uri, e->opts->uri_flags, field, &dst, e->err);
    if (rc < 0) {
        free(uri);
        return rc;
    }
    out->uri = uri;
    out->path = dst.path;
    dst.path = NULL;
    mc_uri_clear(&dst);
    for (size_t i = 0; i < e->n_outputs && &e->outputs[i] != out; i++)
        if (e->outputs[i].path && strcmp(e->outputs[i].path, out->path) == 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: %s is also the output of %s", field, out->uri,
                              e->outputs[i].field);
    return 0;
}

static mc_ostream *new_ostream(mc_output *out, enum AVMediaType type)
{
    mc_ostream *os = calloc(1, sizeof(*os));
    if (!os)
        return NULL;
    os->out = out;
    os->type = type;
    os->cfg_input = -1;
    os->copy_index = -1;
    os->a.quality = -1;
    os->seg_end = INT64_MAX;
    os->last_dts = AV_NOPTS_VALUE;
    os->frame = av_frame_alloc();
    os->pkt = av_packet_alloc();
    if (!os->frame || !os->pkt) {
        av_frame_free(&os->frame);
        av_packet_free(&os->pkt);
        free(os);
        return NULL;
    }
    return os;
}

/* Whether a copy of input stream `index` can go into the target's container. Codecs the
 * job model knows follow its container table; others need the muxer's own yes. */
static bool copy_possible(const mc_input *in, int index, enum mc_container c,
                          const AVOutputFormat *ofmt)
{
    enum AVCodecID id = in->fmt->streams[index]->codecpar->codec_id;
    static const struct {
        enum AVCodecID id;
        bool video;
        int codec;
    } known[] = {
        {AV_CODEC_ID_H264, true, MC_VCODEC_H264},   {AV_CODEC_ID_HEVC, true, MC_VCODEC_H265},
        {AV_CODEC_ID_VP9, true, MC_VCODEC_VP9},     {AV_CODEC_ID_AV1, true, MC_VCODEC_AV1},
        {AV_CODEC_ID_AAC, false, MC_ACODEC_AAC},    {AV_CODEC_ID_MP3, false, MC_ACODEC_MP3},
        {AV_CODEC_ID_OPUS, false, MC_ACODEC_OPUS},  {AV_CODEC_ID_VORBIS, false, MC_ACODEC_VORBIS},
        {AV_CODEC_ID_FLAC, false, MC_ACODEC_FLAC},  {AV_CODEC_ID_AC3, false, MC_ACODEC_AC3},
        {AV_CODEC_ID_AMR_NB, false, MC_ACODEC_AMR},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].id == id)
            return known[i].video ? mc_container_allows_vcodec(c, (enum mc_vcodec)known[i].codec)
                                  : mc_container_allows_acodec(c, (enum mc_acodec)known[i].codec);
    /* Other codecs: Matroska's own answer is reliable; elsewhere only pairs known to work
     * (libavformat's answer is yes for pairs its muxers then refuse: VP8 in mov, MPEG-4
     * Part 2 in flv). */
    static const struct {
        enum mc_container c;
        enum AVCodecID id;
    } extra[] = {
        {MC_CONTAINER_TS, AV_CODEC_ID_MPEG2VIDEO},  {MC_CONTAINER_TS, AV_CODEC_ID_MPEG1VIDEO},
        {MC_CONTAINER_TS, AV_CODEC_ID_MP2},         {MC_CONTAINER_MP4, AV_CODEC_ID_MPEG4},
        {MC_CONTAINER_MOV, AV_CODEC_ID_MPEG4},      {MC_CONTAINER_AVI, AV_CODEC_ID_MPEG4},
        {MC_CONTAINER_MP4, AV_CODEC_ID_MP2},        {MC_CONTAINER_AVI, AV_CODEC_ID_MP2},
        {MC_CONTAINER_ASF, AV_CODEC_ID_WMAV1},      {MC_CONTAINER_ASF, AV_CODEC_ID_WMAV2},
        {MC_CONTAINER_ASF, AV_CODEC_ID_WMV1},       {MC_CONTAINER_ASF, AV_CODEC_ID_WMV2},
        {MC_CONTAINER_ASF, AV_CODEC_ID_WMV3},
    };
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        if (extra[i].c == c && extra[i].id == id)
            return true;
    return c == MC_CONTAINER_MKV && avformat_query_codec(ofmt, id, FF_COMPLIANCE_NORMAL) == 1;
}

/* Plan the video stream (track 0), or the audio stream that takes the track-th selected
 * audio stream of the sources (-1: all of them, mixed). */
static int plan_stream(mc_engine *e, mc_output *out, const AVOutputFormat *ofmt,
                       enum AVMediaType type, int track, const mc_input *att, mc_ostream **dst)
{
    const mc_target *t = out->t;
    bool video = type == AVMEDIA_TYPE_VIDEO;
    bool present = video ? t->has_video : t->has_audio;
    bool disable = video ? t->video.disable : t->audio.disable;
    bool transcode = video ? t->video.has_transcode : t->audio.has_transcode;
    if (video && mc_container_is_audio_only(t->container))
        return 0;
    if (present && (disable || !transcode))
        return 0; /* DisableVideo, or Video without TranscodeVideo: no such stream */
    if (!att && !mc_ref_input(e, type))
        return 0; /* no source has one */

    int vc = video ? (present ? (int)t->video.transcode.codec : MC_VCODEC_COPY)
                   : (present ? (int)t->audio.transcode.codec : MC_ACODEC_COPY);
    mc_ostream *os = new_ostream(out, type);
    if (!os)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    *dst = os;
    os->track = track;
    os->att_in = att;
    if (att && vc == 0) {
        /* An attached stream is encoded: it is looped, padded and cut on the output's
         * timeline. */
        vc = video ? (int)mc_container_default_vcodec(t->container)
                   : (int)mc_container_default_acodec(t->container);
        mc_log(MC_LOG_INFO, "%s: the attached %s is encoded as %s", out->field, att->uri,
               video ? mc_vcodec_name(vc) : mc_acodec_name(vc));
    }

    if (vc == 0) { /* copy */
        /* Copy is refused for concatenation, so there is one input, and it has the stream
         * (ref_input() found one). */
        const mc_input *in = &e->inputs[0];
        int index = video ? (track < in->n_vst ? in->vsts[track] : -1)
                          : track >= 0 && track < in->n_ast ? in->asts[track] : -1;
        if (index < 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: nothing to copy from Sources[0]", out->field);
        if (copy_possible(in, index, t->container, ofmt)) {
            os->copy = true;
            os->copy_index = index;
            return 0;
        }
        const char *codec = avcodec_get_name(in->fmt->streams[index]->codecpar->codec_id);
        char allowed[128];
        if (present) {
            if (video)
                mc_container_vcodecs_text(t->container, allowed, sizeof(allowed));
            else
                mc_container_acodecs_text(t->container, allowed, sizeof(allowed));
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.%s.Transcode%s.Codec: copy cannot put %s %s into %s; "
                              "allowed: %s",
                              out->field, video ? "Video" : "Audio",
                              video ? "Video" : "Audio", codec, video ? "video" : "audio",
                              mc_container_name(t->container), allowed);
        }
        /* Omitted stream settings mean copy; where the container can't carry the source's
         * codec, the container's usual codec is used instead. */
        vc = video ? (int)mc_container_default_vcodec(t->container)
                   : (int)mc_container_default_acodec(t->container);
        mc_log(MC_LOG_INFO, "%s: %s cannot carry %s %s; encoding %s instead",
               out->field, mc_container_name(t->container), codec,
               video ? "video" : "audio",
               video ? mc_vcodec_name(vc) : mc_acodec_name(vc));
    }
    return video ? plan_video(e, out, os, (enum mc_vcodec)vc, ofmt)
                 : mc_plan_audio(e, out, os, (enum mc_acodec)vc);
}

/* Several selected audio streams: one track each, or one that mixes them (FilterAudio.Mixing,
 * which the job model keeps only with a codec to encode with). */
static int plan_main_audio(mc_engine *e, mc_output *out, const AVOutputFormat *ofmt)
{
    const mc_target *t = out->t;
    int n = 0;
    for (size_t i = 0; i < e->n_inputs; i++)
        n = FFMAX(n, e->inputs[i].n_ast);
    bool mix = n > 1 && t->has_audio && t->audio.mixing;
    if (!mix) {
        for (int k = 0; k < n; k++) {
            mc_ostream *os = NULL;
            int rc = plan_stream(e, out, ofmt, AVMEDIA_TYPE_AUDIO, k, NULL, &os);
            if (os) {
                out->a[out->n_a++] = os;
                out->at[out->n_at++] = os;
            }
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    mc_ostream *os = NULL;
    int rc = plan_stream(e, out, ofmt, AVMEDIA_TYPE_AUDIO, -1, NULL, &os);
    if (os)
        out->a[out->n_a++] = os;
    if (rc < 0 || !os)
        return rc;
    if (os->copy)
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s.Audio.FilterAudio.Mixing: mixing needs the audio encoded; "
                          "allowed: a TranscodeAudio.Codec other than copy",
                          out->field);
    for (int k = 0; k < n; k++) {
        mc_ostream *f = new_ostream(out, AVMEDIA_TYPE_AUDIO);
        if (!f)
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
        os->feed[os->n_feed++] = f;
        out->at[out->n_at++] = f;
        f->track = k;
        f->mix_into = os;
        f->mix_slot = k;
        f->a = os->a;
        f->a.layout = (AVChannelLayout){0};
        rc = av_channel_layout_copy(&f->a.layout, &os->a.layout);
        f->enc_tb = (AVRational){1, os->a.sample_rate};
        f->frame_size = 1024;
        f->fifo = av_audio_fifo_alloc(f->a.sample_fmt, f->a.layout.nb_channels, 4096);
        if (rc < 0 || !f->fifo)
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    return 0;
}

/* Whether the container carries one audio stream at most. */
static bool one_audio_track(const mc_output *out)
{
    return out->seg || out->t->container == MC_CONTAINER_FLV ||
           mc_container_is_audio_only(out->t->container);
}

/* The audio tracks: the selected streams of the sources (or their mix), then the audio of
 * every attached source. */
static int plan_audio_tracks(mc_engine *e, mc_output *out, const AVOutputFormat *ofmt)
{
    int rc = plan_main_audio(e, out, ofmt);
    for (size_t j = 0; rc >= 0 && j < e->n_attached; j++) {
        const mc_input *att = &e->inputs[e->n_inputs + j];
        if (att->ast < 0)
            continue;
        if (out->n_a >= MC_MAX_ATRACKS)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s: more than %d audio tracks (selected streams and attached "
                              "sources); allowed: at most %d",
                              out->field, MC_MAX_ATRACKS, MC_MAX_ATRACKS);
        mc_ostream *os = NULL;
        rc = plan_stream(e, out, ofmt, AVMEDIA_TYPE_AUDIO, 0, att, &os);
        if (os) {
            out->a[out->n_a++] = os;
            out->att[att->att_slot] = os;
            out->n_att = att->att_slot + 1;
        }
    }
    if (rc >= 0 && out->n_a > 1 && one_audio_track(out))
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s: would carry %d audio tracks (%d selected stream%s, %d from "
                          "attached sources), and %s carries one; allowed: one audio stream "
                          "(Audio.Stream, FilterAudio.Mixing true, DisableAudio on the "
                          "sources)",
                          out->field, out->n_a, out->n_at, out->n_at == 1 ? "" : "s",
                          out->n_att, out->seg ? "a segmented output"
                                               : mc_container_name(out->t->container));
    return rc;
}

/* The video streams: the selected ones of the sources (several only from a single source),
 * then the video of every attached source. Only containers that carry several video streams
 * take more than one. */
static int plan_video_streams(mc_engine *e, mc_output *out, const AVOutputFormat *ofmt)
{
    enum mc_container c = out->t->container;
    bool several = c == MC_CONTAINER_MKV || c == MC_CONTAINER_MP4 || c == MC_CONTAINER_MOV;
    int rc = plan_stream(e, out, ofmt, AVMEDIA_TYPE_VIDEO, 0, NULL, &out->v);
    if (rc < 0)
        return rc;
    int n_video = out->v != NULL;
    const mc_input *in = &e->inputs[0];
    for (int k = 1; out->v && e->n_inputs == 1 && k < in->n_vst; k++) {
        mc_ostream *os = NULL;
        rc = plan_stream(e, out, ofmt, AVMEDIA_TYPE_VIDEO, k, NULL, &os);
        out->vx[k] = os;
        out->n_vx = k + 1;
        n_video += os != NULL;
        if (rc < 0)
            return rc;
    }
    if (n_video > 1 && (out->t->has_segment || !several))
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s.Video.Stream: selects %d video streams of %s, and %s carries "
                          "one; allowed: Container mkv, mp4 or mov (not segmented), or one "
                          "stream index",
                          out->field, n_video, in->uri,
                          out->t->has_segment ? "a segmented output" : mc_container_name(c));
    for (size_t j = 0; j < e->n_attached; j++) {
        const mc_input *att = &e->inputs[e->n_inputs + j];
        if (att->vst < 0)
            continue;
        mc_ostream *os = NULL;
        rc = plan_stream(e, out, ofmt, AVMEDIA_TYPE_VIDEO, 0, att, &os);
        if (os) {
            out->vatt[att->att_slot] = os;
            out->n_vatt = att->att_slot + 1;
            n_video++;
        }
        if (rc < 0)
            return rc;
        if (os && out->t->has_segment)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s: a segmented output takes no video of an attached source "
                              "(%s); allowed: DisableVideo on the attached source",
                              out->field, att->uri);
        if (os && n_video > 1 && !several)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s: would carry %d video streams (the video of the attached "
                              "%s is one), and %s carries one; allowed: Container mkv, mp4 or "
                              "mov, or DisableVideo on the attached source",
                              out->field, n_video, att->uri, mc_container_name(c));
    }
    return 0;
}

int mc_plan_outputs(mc_engine *e)
{
    for (size_t i = 0; i < e->n_outputs; i++) {
        mc_output *out = &e->outputs[i];
        const AVOutputFormat *ofmt = av_guess_format(mc_container_muxer(out->t->container), NULL,
                                                     NULL);
        if (!ofmt)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s.Container: this build cannot write %s",
                              out->field, mc_container_name(out->t->container));
        int rc = plan_video_streams(e, out, ofmt);
        if (rc >= 0)
            rc = plan_audio_tracks(e, out, ofmt);
        if (rc < 0)
            return rc;
        if (!out->v && !out->n_a && !out->n_vatt)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: nothing to write: the sources have no %s stream for "
                              "%s",
                              out->field,
                              mc_container_is_audio_only(out->t->container) ? "audio"
                                                                           : "audio or video",
                              mc_container_name(out->t->container));
        rc = mc_keep_plan(e, out, ofmt);
        if (rc < 0)
            return rc;
        char res[32] = "";
        if (out->v && !out->v->copy)
            snprintf(res, sizeof(res), "%dx%d", out->v->v.width, out->v->v.height);
        rc = plan_uri(e, out, res[0] ? res : NULL);
        if (rc < 0)
            return rc;
        for (size_t k = 0; k < e->n_inputs; k++) {
            mc_input *in = &e->inputs[k];
            /* Every input is decoded once for all targets that encode its streams. */
            if (out->v && !out->v->copy && in->vst >= 0)
                in->decode_v = true;
            for (int j = 1; j < out->n_vx; j++)
                if (out->vx[j] && !out->vx[j]->copy)
                    in->decode_v = true;
            for (int j = 0; j < out->n_a; j++)
                if (!out->a[j]->copy && !out->a[j]->att_in && in->n_ast > 0)
                    in->decode_a = true;
        }
        for (int j = 0; j < out->n_att; j++)
            if (out->att[j])
                e->inputs[e->n_inputs + (size_t)j].decode_a = true;
        for (int j = 0; j < out->n_vatt; j++)
            if (out->vatt[j])
                e->inputs[e->n_inputs + (size_t)j].decode_v = true;
    }
    return 0;
}
