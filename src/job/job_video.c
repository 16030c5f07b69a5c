/* TargetVideo: TranscodeVideo and FilterVideo (spec 1.6). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "mc_str.h"

static const char *const option_names[] = {"fixed", "adaptive", "fall", NULL};
static const char *const scale_names[] = {"stretch", "crop", "fill", "fit", NULL};
/* In the order of enum mc_pix_fmt, from MC_PIXFMT_YUV420P. */
static const char *const pixfmt_names[] = {"yuv420p",     "yuv422p",     "yuv444p",  "yuv420p10le",
                                           "yuv422p10le", "yuv444p10le", "yuva420p", NULL};
static const char *const refer_names[] = {"topleft", "topright", "bottomright", "bottomleft", NULL};
static const char *const watermark_types[] = {"text", "file", NULL};
static const char *const font_names[] = {"SourceHanSans-Regular", "SourceHanSans-Bold",
                                         "SourceHanSerif-Regular", "SourceHanSerif-Bold", NULL};

static const jr_range range_nonneg = {0, MC_JOB_MAX_SECONDS, false, false};

void job_vcodec_names_text(char *buf, size_t size)
{
    const char *names[MC_VCODEC__COUNT + 1];
    for (int i = 0; i < MC_VCODEC__COUNT; i++)
        names[i] = mc_vcodec_name((enum mc_vcodec)i);
    names[MC_VCODEC__COUNT] = NULL;
    jr_names_text(names, buf, size);
}

/* Codec: known, and allowed by the container. Absent means copy. */
static int read_codec(jr *r, const json_t *tv, enum mc_container c, enum mc_vcodec *out)
{
    char allowed[128];
    const char *s = NULL;
    enum mc_vcodec v = MC_VCODEC_COPY;
    int rc = jr_str(r, tv, "Codec", &s);
    if (rc < 0)
        return rc;
    if (rc > 0 && !mc_vcodec_from_name(s, &v)) {
        job_vcodec_names_text(allowed, sizeof(allowed));
        return jr_invalid_at(r, "Codec", "\"%s\" is not supported; allowed: %s", s, allowed);
    }
    if (!mc_container_allows_vcodec(c, v)) {
        mc_container_vcodecs_text(c, allowed, sizeof(allowed));
        return jr_invalid_at(r, "Codec", "%s is not supported in Container %s; allowed: %s",
                             mc_vcodec_name(v), mc_container_name(c), allowed);
    }
    *out = v;
    return 0;
}

/* One side of "WxH": empty (0 = keep the source's value) or an integer in (0, 4096]. */
static bool resolution_side(const char *s, size_t n, int *out)
{
    int v = 0;
    if (n > 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (n && (v < 1 || v > MC_JOB_MAX_DIM))
        return false;
    *out = v;
    return true;
}

static int read_resolution(jr *r, const json_t *tv, mc_video_transcode *t)
{
    const char *s = NULL;
    int rc = jr_str(r, tv, "Resolution", &s);
    if (rc <= 0)
        return rc;
    const char *x = strpbrk(s, "xX");
    int w = 0, h = 0;
    if (!x || strpbrk(x + 1, "xX") || (x == s && x[1] == '\0') ||
        !resolution_side(s, (size_t)(x - s), &w) || !resolution_side(x + 1, strlen(x + 1), &h))
        return jr_invalid_at(r, "Resolution",
                             "\"%s\" is not a resolution; allowed: WxH, Wx or xH with each side "
                             "an integer from 1 to %d",
                             s, MC_JOB_MAX_DIM);
    t->has_resolution = true;
    t->res_w = w;
    t->res_h = h;
    return 1;
}

static int requires(jr *r, const json_t *obj, const char *key, bool given, const char *needed)
{
    if (jr_has(obj, key) && !given)
        return jr_invalid_at(r, key, "requires %s", needed);
    return 0;
}

static int read_rate_control(jr *r, const json_t *tv, mc_video_transcode *t)
{
    int e, rc;
    bool has_bitrate = false, has_crf = false;
    if ((rc = jr_int64(r, tv, "Bitrate", 1000, 500000000, &t->bitrate)) < 0)
        return rc;
    has_bitrate = rc > 0;
    if ((rc = jr_enum(r, tv, "BitrateOption", option_names, &e)) < 0)
        return rc;
    if (rc > 0)
        t->bitrate_option = (enum mc_option)e;
    if ((rc = requires(r, tv, "BitrateOption", has_bitrate, "Bitrate")) < 0)
        return rc;
    if ((rc = jr_num(r, tv, "CRF", (jr_range){0, 51, false, false}, &t->crf)) < 0)
        return rc;
    has_crf = rc > 0;
    if (has_crf && has_bitrate)
        return jr_invalid_at(r, "CRF", "cannot be combined with Bitrate; set one of them");
    if (has_bitrate)
        t->crf = 0;
    if ((rc = jr_int64(r, tv, "MaxBitrate", 1, INT32_MAX, &t->max_bitrate)) < 0)
        return rc;
    if (rc > 0 && has_bitrate)
        return jr_invalid_at(r, "MaxBitrate", "only allowed with CRF, not with Bitrate");
    if ((rc = jr_int64(r, tv, "BufferSize", 1, INT32_MAX, &t->buffer_size)) < 0)
        return rc;
    if (rc > 0 && has_bitrate)
        return jr_invalid_at(r, "BufferSize", "only allowed with CRF, not with Bitrate");
    if (t->max_bitrate && !t->buffer_size)
        return jr_invalid_at(r, "MaxBitrate", "requires BufferSize");
    return 0;
}

static int read_transcode(jr *r, const json_t *tv, enum mc_container c, const job_ctx *ctx,
                          mc_video_transcode *t)
{
    char allowed[128];
    int e, rc;
    if ((rc = read_codec(r, tv, c, &t->codec)) < 0)
        return rc;
    if (t->codec == MC_VCODEC_COPY) {
        /* Every other field is ignored with copy, but copy cannot join several sources. */
        if (ctx->n_concat > 1) {
            mc_container_vcodecs_text(c, allowed, sizeof(allowed));
            return jr_invalid_at(r, "Codec",
                                 "copy cannot be used when concatenating %zu sources; set a "
                                 "codec; allowed: %s",
                                 ctx->n_concat, allowed);
        }
        return 0;
    }
    if ((rc = read_resolution(r, tv, t)) < 0)
        return rc;
    if ((rc = jr_enum(r, tv, "ResolutionOption", option_names, &e)) < 0)
        return rc;
    if (rc > 0)
        t->resolution_option = (enum mc_option)e;
    if ((rc = requires(r, tv, "ResolutionOption", t->has_resolution, "Resolution")) < 0)
        return rc;
    if ((rc = jr_enum(r, tv, "ScaleType", scale_names, &e)) < 0)
        return rc;
    if (rc > 0)
        t->scale_type = (enum mc_scale_type)e;
    if ((rc = requires(r, tv, "ScaleType", t->has_resolution, "Resolution")) < 0)
        return rc;
    if ((rc = jr_bool(r, tv, "AdaptiveResolutionDirection", &t->adaptive_direction)) < 0)
        return rc;
    if ((rc = jr_num(r, tv, "FrameRate", (jr_range){0, 240, true, false}, &t->frame_rate)) < 0)
        return rc;
    if ((rc = jr_enum(r, tv, "FrameRateOption", option_names, &e)) < 0)
        return rc;
    if (rc > 0)
        t->frame_rate_option = (enum mc_option)e;
    if ((rc = requires(r, tv, "FrameRateOption", t->frame_rate > 0, "FrameRate")) < 0)
        return rc;
    if ((rc = read_rate_control(r, tv, t)) < 0)
        return rc;
    if ((rc = jr_int(r, tv, "GOPSize", 1, 100000, &t->gop_size)) < 0)
        return rc;
    if ((rc = jr_int(r, tv, "BFrames", 0, 16, &t->bframes)) < 0)
        return rc;
    if ((rc = jr_int(r, tv, "Refs", 1, 16, &t->refs)) < 0)
        return rc;
    if ((rc = jr_enum(r, tv, "PixelFormat", pixfmt_names, &e)) < 0)
        return rc;
    if (rc > 0)
        t->pixel_format = (enum mc_pix_fmt)(MC_PIXFMT_YUV420P + e);
    if (t->pixel_format == MC_PIXFMT_YUVA420P && t->codec != MC_VCODEC_VP9)
        return jr_invalid_at(r, "PixelFormat", "yuva420p is only allowed with Codec vp9");
    if ((rc = jr_int(r, tv, "Rotation", INT32_MIN, INT32_MAX, &t->rotation)) < 0)
        return rc;
    if (t->rotation % 90 || t->rotation < 0 || t->rotation > 270)
        return jr_invalid_at(r, "Rotation", "%d is not supported; allowed: 0, 90, 180, 270",
                             t->rotation);
    if ((rc = jr_int(r, tv, "VideoSlim", 0, 1, &t->video_slim)) < 0)
        return rc;
    if (t->video_slim) {
        if (t->codec != MC_VCODEC_H264 && t->codec != MC_VCODEC_H265)
            return jr_invalid_at(r, "VideoSlim", "1 requires Codec h264 or h265, got %s",
                                 mc_vcodec_name(t->codec));
        if (t->pixel_format != MC_PIXFMT_SOURCE && t->pixel_format != MC_PIXFMT_YUV420P)
            return jr_invalid_at(r, "VideoSlim", "1 requires PixelFormat yuv420p (or unset)");
        if (ctx->n_concat > 1)
            return jr_invalid_at(r, "VideoSlim", "1 is not allowed when concatenating %zu sources",
                                 ctx->n_concat);
    }
    return 0;
}

/*
 * mc_dim (spec 1.15): (0, 1) is a ratio, an integral value in [1, 4096] is pixels, and 0 is
 * 0 pixels where zero_ok (offsets).
 */
static int read_dim(jr *r, const json_t *obj, const char *key, bool zero_ok, mc_dim *out)
{
    double d = 0;
    int rc = jr_num(r, obj, key, (jr_range){-HUGE_VAL, HUGE_VAL, false, false}, &d);
    if (rc <= 0)
        return rc;
    if ((d == 0 && zero_ok) || (d >= 1 && d <= MC_JOB_MAX_DIM && floor(d) == d))
        *out = (mc_dim){MC_DIM_PIXELS, d};
    else if (d > 0 && d < 1)
        *out = (mc_dim){MC_DIM_RATIO, d};
    else
        return jr_invalid_at(r, key,
                             "%.15g is not a valid size; allowed: %sa ratio greater than 0 and "
                             "less than 1, or whole pixels from 1 to %d",
                             d, zero_ok ? "0, " : "", MC_JOB_MAX_DIM);
    return 1;
}

static int read_time_window(jr *r, const json_t *obj, double *start, double *duration)
{
    int rc = jr_num(r, obj, "StartTime", range_nonneg, start);
    if (rc >= 0)
        rc = jr_num(r, obj, "Duration", range_nonneg, duration);
    return rc < 0 ? rc : 0;
}

static int read_place(jr *r, const json_t *obj, enum mc_refer_pos *pos, mc_dim *dx, mc_dim *dy,
                      mc_dim *w, mc_dim *h)
{
    int e, rc;
    if ((rc = jr_enum(r, obj, "ReferPos", refer_names, &e)) < 0)
        return rc;
    if (rc > 0)
        *pos = (enum mc_refer_pos)e;
    if ((rc = read_dim(r, obj, "Dx", true, dx)) < 0 || (rc = read_dim(r, obj, "Dy", true, dy)) < 0)
        return rc;
    if ((rc = read_dim(r, obj, "Width", false, w)) < 0 ||
        (rc = read_dim(r, obj, "Height", false, h)) < 0)
        return rc;
    return 0;
}

/* "#RRGGBB" or a colour name made of letters. */
static int read_color(jr *r, const json_t *obj, const char *key, char **out)
{
    const char *s = NULL;
    int rc = jr_str(r, obj, key, &s);
    if (rc <= 0)
        return rc;
    size_t n = strlen(s), ok = 0;
    if (s[0] == '#' && n == 7)
        while (ok < 6 && isxdigit((unsigned char)s[1 + ok]))
            ok++;
    else
        while (ok < n && isalpha((unsigned char)s[ok]))
            ok++;
    if (ok != (s[0] == '#' ? 6 : n) || n > 32)
        return jr_invalid_at(r, key, "\"%s\" is not a colour; allowed: #RRGGBB or a colour name",
                             s);
    char *d = mc_strdup(s);
    if (!d)
        return jr_nomem(r);
    free(*out);
    *out = d;
    return 1;
}

/* A non-empty value: what "given" means for the text-only fields of a file watermark. */
static bool given(const json_t *obj, const char *key)
{
    json_t *v = jr_get(obj, key);
    return v && !(json_is_string(v) && json_string_length(v) == 0);
}

static int read_watermark_text(jr *r, const json_t *w, mc_watermark *m)
{
    int e, rc;
    if ((rc = jr_strdup(r, w, "Content", &m->content)) < 0)
        return rc;
    if (!m->content && !(m->content = mc_strdup("")))
        return jr_nomem(r);
    if ((rc = jr_enum(r, w, "FontName", font_names, &e)) < 0)
        return rc;
    if (!(m->font_name = mc_strdup(font_names[rc > 0 ? e : 0])))
        return jr_nomem(r);
    if ((rc = jr_int(r, w, "FontSize", 5, 119, &m->font_size)) < 0)
        return rc;
    if (!(m->font_color = mc_strdup("#000000")) || !(m->border_color = mc_strdup("#000000")))
        return jr_nomem(r);
    if ((rc = read_color(r, w, "FontColor", &m->font_color)) < 0)
        return rc;
    if ((rc = jr_num(r, w, "FontApha", (jr_range){0, 1, true, false}, &m->font_alpha)) < 0)
        return rc;
    if ((rc = read_color(r, w, "BorderColor", &m->border_color)) < 0)
        return rc;
    if ((rc = jr_int(r, w, "BorderWidth", 0, MC_JOB_MAX_DIM, &m->border_width)) < 0)
        return rc;
    return 0;
}

static int read_watermark(jr *r, const json_t *w, void *item, void *ctx)
{
    (void)ctx;
    mc_watermark *m = item;
    static const char *const text_only[] = {"Content",  "FontName",    "FontSize",    "FontColor",
                                            "FontApha", "BorderColor", "BorderWidth", NULL};
    int e, rc;
    m->font_size = 16;
    m->font_alpha = 1;
    m->dx = m->dy = (mc_dim){MC_DIM_PIXELS, 0};
    if ((rc = jr_v_object(r, w)) < 0)
        return rc;
    if ((rc = jr_enum(r, w, "Type", watermark_types, &e)) < 0)
        return rc;
    if (rc > 0)
        m->type = (enum mc_watermark_type)e;
    if (m->type == MC_WATERMARK_FILE) {
        if ((rc = jr_require(r, jr_uri(r, w, "URI", &m->uri), "URI")) < 0)
            return rc;
        for (size_t i = 0; text_only[i]; i++)
            if (given(w, text_only[i]))
                return jr_invalid_at(r, text_only[i], "only allowed with Type text");
    } else {
        if (given(w, "URI"))
            return jr_invalid_at(r, "URI", "only allowed with Type file");
        if ((rc = read_watermark_text(r, w, m)) < 0)
            return rc;
    }
    if ((rc = read_place(r, w, &m->refer_pos, &m->dx, &m->dy, &m->width, &m->height)) < 0)
        return rc;
    return read_time_window(r, w, &m->start_time, &m->duration);
}

static int read_delogo(jr *r, const json_t *v, void *item, void *ctx)
{
    (void)ctx;
    mc_delogo *d = item;
    int rc;
    d->dx = d->dy = (mc_dim){MC_DIM_PIXELS, 0};
    d->width = d->height = (mc_dim){MC_DIM_RATIO, 1.0};
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = read_place(r, v, &d->refer_pos, &d->dx, &d->dy, &d->width, &d->height)) < 0)
        return rc;
    return read_time_window(r, v, &d->start_time, &d->duration);
}

static int read_desensitization(jr *r, const json_t *fv, mc_target_video *out)
{
    static const char *const kinds[] = {"Face", "LicensePlate", NULL};
    json_t *ds, *k;
    int rc = jr_object(r, fv, "Desensitization", &ds);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, "Desensitization");
    for (size_t i = 0; kinds[i] && rc >= 0; i++) {
        if ((rc = jr_object(r, ds, kinds[i], &k)) <= 0)
            continue;
        size_t kmark = jr_enter(r, kinds[i]);
        double confidence;
        int min_size;
        rc = jr_num(r, k, "Confidence", (jr_range){0, 1, false, false}, &confidence);
        if (rc >= 0)
            rc = jr_int(r, k, "MinSize", 0, INT32_MAX, &min_size);
        jr_leave(r, kmark);
    }
    jr_leave(r, mark);
    if (rc < 0)
        return rc;
    out->has_desensitization = true;
    return 0;
}

/* BurnSubtitle (our extension): {"URI": "oss://..."} or {"Stream": <index>}, not both. */
static int read_burn_subtitle(jr *r, const json_t *fv, mc_target_video *out)
{
    json_t *bs;
    int rc = jr_object(r, fv, "BurnSubtitle", &bs);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, "BurnSubtitle");
    bool has_uri = jr_has(bs, "URI"), has_stream = jr_has(bs, "Stream");
    int stream = -1;
    if (has_uri && has_stream)
        rc = jr_invalid(r, "URI and Stream are both set; allowed: one of them (a subtitle file, "
                           "or a subtitle stream index of the sources)");
    else if (!has_uri && !has_stream)
        rc = jr_invalid(r, "neither URI nor Stream is set; allowed: {\"URI\": "
                           "\"oss://bucket/file.srt|.vtt|.ass\"} or {\"Stream\": <subtitle "
                           "stream index>}");
    else if (has_uri)
        rc = jr_require(r, jr_uri(r, bs, "URI", &out->burn_uri), "URI");
    else
        rc = jr_int(r, bs, "Stream", 0, 100, &stream);
    jr_leave(r, mark);
    if (rc < 0)
        return rc;
    out->has_burn_subtitle = true;
    out->burn_stream = stream;
    return 0;
}

static int read_filter(jr *r, const json_t *v, mc_target_video *out)
{
    json_t *fv, *arr;
    int rc = jr_object(r, v, "FilterVideo", &fv);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, "FilterVideo");
    if ((rc = jr_num(r, fv, "Speed", (jr_range){0.5, 1.0, false, false}, &out->speed)) < 0)
        goto out;
    if ((rc = jr_array(r, fv, "Watermarks", &arr)) < 0)
        goto out;
    if (rc > 0 && (rc = jr_each(r, arr, "Watermarks", sizeof(*out->watermarks), read_watermark,
                                NULL, (void **)&out->watermarks, &out->n_watermarks)) < 0)
        goto out;
    if ((rc = jr_array(r, fv, "Delogos", &arr)) < 0)
        goto out;
    if (rc > 0 && (rc = jr_each(r, arr, "Delogos", sizeof(*out->delogos), read_delogo, NULL,
                                (void **)&out->delogos, &out->n_delogos)) < 0)
        goto out;
    if ((rc = read_desensitization(r, fv, out)) < 0)
        goto out;
    rc = read_burn_subtitle(r, fv, out);
out:
    jr_leave(r, mark);
    return rc;
}

int job_parse_video(jr *r, const json_t *v, enum mc_container c, const job_ctx *ctx,
                    mc_target_video *out)
{
    json_t *tv;
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = jr_bool(r, v, "DisableVideo", &out->disable)) < 0)
        return rc;
    if (out->disable)
        return 0; /* no video stream: the rest does not matter */
    if ((rc = jr_streams(r, v, "Stream", 0, &out->stream)) < 0)
        return rc;
    if ((rc = jr_object(r, v, "TranscodeVideo", &tv)) <= 0)
        return rc; /* without TranscodeVideo the output has no video; FilterVideo is ignored */
    if (mc_container_is_audio_only(c))
        return jr_invalid_at(r, "TranscodeVideo",
                             "not allowed with the audio-only Container %s; set "
                             "DisableVideo to true or remove TranscodeVideo",
                             mc_container_name(c));
    out->has_transcode = true;
    size_t mark = jr_enter(r, "TranscodeVideo");
    rc = read_transcode(r, tv, c, ctx, &out->transcode);
    jr_leave(r, mark);
    if (rc < 0 || out->transcode.codec == MC_VCODEC_COPY)
        return rc < 0 ? rc : 0;
    return read_filter(r, v, out);
}

void job_video_clear(mc_target_video *v)
{
    if (!v)
        return;
    mc_freep(&v->stream.index);
    v->stream.n = 0;
    for (size_t i = 0; v->watermarks && i < v->n_watermarks; i++) {
        mc_watermark *m = &v->watermarks[i];
        free(m->uri);
        free(m->content);
        free(m->font_name);
        free(m->font_color);
        free(m->border_color);
    }
    mc_freep(&v->watermarks);
    mc_freep(&v->delogos);
    v->n_watermarks = v->n_delogos = 0;
    mc_freep(&v->burn_uri);
    v->has_burn_subtitle = false;
}
