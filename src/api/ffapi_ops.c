/*
 * FFmpeg-API operations as CreateMediaConvertTask requests (ffapi_ops.h).
 *
 * Parameter names follow spec 6.2. This file checks what only it knows (which parameters an
 * operation takes, their JSON types, the URL allowlist, units such as "2M"); ranges and
 * cross-field rules are the job model's, checked once when the request is parsed.
 */
#include "ffapi_ops.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_formats.h"

#define MAX_CONCAT 11

/* One operation's state while its request is built. */
typedef struct op_ctx {
    const char *op;
    const json_t *body;
    const mc_ffapi_ctx *ctx;
    mc_err *err;
} op_ctx;

static int invalid(op_ctx *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(op_ctx *o, const char *fmt, ...)
{
    char msg[MC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return mc_err_set(o->err, -EINVAL, MC_FFAPI_INVALID, "%s: %s", o->op, msg);
}

static int nomem(op_ctx *o)
{
    return mc_err_set(o->err, -ENOMEM, NULL, "out of memory");
}

/* Refuse parameters the operation does not take: a typo must not be silently ignored. */
static int check_keys(op_ctx *o, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o->body, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (ok)
            continue;
        char list[256] = "";
        size_t len = 0;
        for (size_t i = 0; allowed[i] && len < sizeof(list); i++)
            len +=
                (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", allowed[i]);
        return invalid(o, "unknown parameter \"%s\"; allowed: %s", key, list);
    }
    return 0;
}

/* An optional string; 0 when absent, 1 when present. */
static int opt_str(op_ctx *o, const char *name, const char **out)
{
    const json_t *v = json_object_get(o->body, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return invalid(o, "%s must be a non-empty string", name);
    *out = json_string_value(v);
    return 1;
}

/* An optional number in [lo, hi]; 0 when absent, 1 when present. */
static int opt_num(op_ctx *o, const char *name, double lo, double hi, double *out)
{
    const json_t *v = json_object_get(o->body, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return invalid(o, "%s must be a number", name);
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return invalid(o, "%s: %g is out of range; allowed: %g to %g", name, d, lo, hi);
    *out = d;
    return 1;
}

static int opt_int(op_ctx *o, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const json_t *v = json_object_get(o->body, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return invalid(o, "%s must be an integer", name);
    int64_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return invalid(o, "%s: %lld is out of range; allowed: %lld to %lld", name, (long long)i,
                       (long long)lo, (long long)hi);
    *out = i;
    return 1;
}

static int opt_bool(op_ctx *o, const char *name, bool *out)
{
    const json_t *v = json_object_get(o->body, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return invalid(o, "%s must be true or false", name);
    *out = json_is_true(v);
    return 1;
}

/* A bitrate as bit/s: an integer, or a string like "2M", "800k", "128000". */
static int opt_bitrate(op_ctx *o, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const json_t *v = json_object_get(o->body, name);
    if (!v || json_is_null(v))
        return 0;
    double d;
    if (json_is_integer(v)) {
        d = (double)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        d = strtod(s, &end);
        if (end == s || errno || !isfinite(d))
            goto bad;
        if (*end == 'k' || *end == 'K')
            d *= 1e3, end++;
        else if (*end == 'm' || *end == 'M')
            d *= 1e6, end++;
        if (*end)
            goto bad;
    } else {
        goto bad;
    }
    if (d < (double)lo || d > (double)hi)
        return invalid(o, "%s: %.0f bit/s is out of range; allowed: %lld to %lld", name, d,
                       (long long)lo, (long long)hi);
    *out = llround(d);
    return 1;
bad:
    return invalid(o,
                   "%s must be bits per second: an integer or a string such as \"2M\" or "
                   "\"128k\"",
                   name);
}

/* A required input URL, resolved through the allowlist into *uri (a new string). */
static int input_uri(op_ctx *o, const char *name, char **uri)
{
    const char *url = NULL;
    int rc = opt_str(o, name, &url);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return invalid(o, "%s is required", name);
    rc = o->ctx->resolve(url, name, uri, o->ctx->opaque);
    if (rc == -ENOMEM)
        return nomem(o);
    if (rc < 0)
        return mc_err_set(o->err, rc, MC_FFAPI_ALLOWLIST,
                          "%s: %s: non-allowlist url; allowed: URLs of files uploaded to this "
                          "appliance (POST /v1/ffmpeg/upload) and the configured hosts",
                          o->op, name);
    return 0;
}

/* json_object_set_new that reports a failure (NULL value or no memory) as -ENOMEM. */
static int put(op_ctx *o, json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v || json_object_set_new(obj, key, v) < 0)
        return nomem(o);
    return 0;
}

static char *out_uri(op_ctx *o, const char *name, const char *ext)
{
    size_t n = strlen(o->ctx->out_prefix) + strlen(name) + strlen(ext) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s.%s", o->ctx->out_prefix, name, ext);
    return s;
}

/* {"URI": uri} plus optional trim. */
static json_t *source(const char *uri, double start, double duration)
{
    json_t *s = json_pack("{s:s}", "URI", uri);
    if (s && start > 0)
        json_object_set_new(s, "StartTime", json_real(start));
    if (s && duration > 0)
        json_object_set_new(s, "Duration", json_real(duration));
    return s;
}

/* The request around one source and one target (both stolen). */
static int request(op_ctx *o, const char *project, json_t *sources, json_t *target, json_t **out)
{
    json_t *req = json_object();
    json_t *targets = json_array();
    int rc = 0;
    if (!req || !targets || !sources || !target || json_array_append_new(targets, target) < 0) {
        target = NULL;
        rc = nomem(o);
        goto out;
    }
    target = NULL;
    if ((rc = put(o, req, "ProjectName", json_string(project))) < 0 ||
        (rc = put(o, req, "Sources", sources)) < 0)
        goto out;
    sources = NULL;
    rc = put(o, req, "Targets", targets);
    targets = NULL;
    if (rc < 0)
        goto out;
    *out = req;
    req = NULL;
out:
    json_decref(req);
    json_decref(targets);
    json_decref(sources);
    json_decref(target);
    return rc;
}

/* A container target: {"URI", "Container"}. */
static int container_target(op_ctx *o, const char *format, json_t **out)
{
    enum mc_container c;
    if (!mc_container_from_name(format, &c))
        return invalid(o,
                       "format: \"%s\" is not supported; allowed: mp4, mkv, mov, webm, ts, "
                       "flv, avi, mxf, asf, mp3, aac, flac, oga, ac3, opus, amr",
                       format);
    char *uri = out_uri(o, "output", mc_container_ext(c));
    json_t *t = uri ? json_pack("{s:s,s:s}", "URI", uri, "Container", mc_container_name(c)) : NULL;
    free(uri);
    if (!t)
        return nomem(o);
    *out = t;
    return 0;
}

/* Video/Audio objects of a target from the common parameters (video_codec, width...). */
typedef struct av_params {
    const char *vcodec, *acodec;
    double width, height, fps, crf;
    int has_w, has_h, has_fps, has_crf; /* 1: given (int: they hold opt_num()'s result) */
    int64_t vbitrate, abitrate;
    bool keep_aspect;
} av_params;

static int add_video(op_ctx *o, json_t *t, const av_params *p)
{
    json_t *tv = json_pack("{s:s}", "Codec", p->vcodec ? p->vcodec : "h264");
    if (!tv)
        return nomem(o);
    int rc = 0;
    if (p->has_w || p->has_h) {
        char res[48];
        if (p->has_w && p->has_h)
            snprintf(res, sizeof(res), "%.0fx%.0f", p->width, p->height);
        else if (p->has_w)
            snprintf(res, sizeof(res), "%.0fx", p->width);
        else
            snprintf(res, sizeof(res), "x%.0f", p->height);
        rc = put(o, tv, "Resolution", json_string(res));
        if (rc >= 0 && p->has_w && p->has_h)
            rc = put(o, tv, "ScaleType", json_string(p->keep_aspect ? "fit" : "stretch"));
    }
    if (rc >= 0 && p->has_fps)
        rc = put(o, tv, "FrameRate", json_real(p->fps));
    if (rc >= 0 && p->vbitrate)
        rc = put(o, tv, "Bitrate", json_integer(p->vbitrate));
    if (rc >= 0 && p->has_crf)
        rc = put(o, tv, "CRF", json_real(p->crf));
    if (rc < 0) {
        json_decref(tv);
        return rc;
    }
    return put(o, t, "Video", json_pack("{s:o}", "TranscodeVideo", tv));
}

static int add_audio(op_ctx *o, json_t *t, const char *codec, int64_t bitrate)
{
    json_t *ta = json_pack("{s:s}", "Codec", codec);
    if (ta && bitrate && json_object_set_new(ta, "Bitrate", json_integer(bitrate)) < 0) {
        json_decref(ta);
        ta = NULL;
    }
    if (!ta)
        return nomem(o);
    return put(o, t, "Audio", json_pack("{s:o}", "TranscodeAudio", ta));
}

/* The audio codec a container gets when the request names none. */
static const char *default_acodec(const char *format)
{
    enum mc_container c;
    if (!mc_container_from_name(format, &c))
        return "aac";
    return mc_acodec_name(mc_container_default_acodec(c));
}

/* transcode, compress, scale: one input, one re-encoded output. */
static int op_encode(op_ctx *o, const char *project, json_t **out)
{
    static const char *const transcode_keys[] = {
        "input", "format", "video_codec",   "audio_codec",   "width", "height",
        "fps",   "crf",    "video_bitrate", "audio_bitrate", NULL};
    static const char *const compress_keys[] = {"input", "format", "crf", "target_size_mb", NULL};
    static const char *const scale_keys[] = {"input",  "format",      "width",
                                             "height", "keep_aspect", NULL};
    bool is_compress = strcmp(o->op, "compress") == 0, is_scale = strcmp(o->op, "scale") == 0;
    int rc = check_keys(o, is_compress ? compress_keys : is_scale ? scale_keys : transcode_keys);
    if (rc < 0)
        return rc;
    av_params p = {.keep_aspect = true};
    const char *format = "mp4";
    double size_mb = 0;
    int has_size = 0;
    if ((rc = opt_str(o, "format", &format)) < 0 ||
        (rc = opt_str(o, "video_codec", &p.vcodec)) < 0 ||
        (rc = opt_str(o, "audio_codec", &p.acodec)) < 0 ||
        (rc = p.has_w = opt_num(o, "width", 1, 4096, &p.width)) < 0 ||
        (rc = p.has_h = opt_num(o, "height", 1, 4096, &p.height)) < 0 ||
        (rc = p.has_fps = opt_num(o, "fps", 1, 240, &p.fps)) < 0 ||
        (rc = p.has_crf = opt_num(o, "crf", 0, 51, &p.crf)) < 0 ||
        (rc = opt_bitrate(o, "video_bitrate", 10000, 100000000, &p.vbitrate)) < 0 ||
        (rc = opt_bitrate(o, "audio_bitrate", 1000, 10000000, &p.abitrate)) < 0 ||
        (rc = opt_bool(o, "keep_aspect", &p.keep_aspect)) < 0 ||
        (rc = has_size = opt_num(o, "target_size_mb", 0.01, 100000, &size_mb)) < 0)
        return rc;
    if (is_scale && !p.has_w && !p.has_h)
        return invalid(o, "width or height is required");
    if ((p.has_w && p.width != floor(p.width)) || (p.has_h && p.height != floor(p.height)))
        return invalid(o, "width and height must be whole pixels");
    if (p.has_crf && p.vbitrate)
        return invalid(o, "crf and video_bitrate cannot be used together; allowed: one of them");
    char *in = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    if (is_compress) {
        if (has_size && p.has_crf) {
            free(in);
            return invalid(o, "crf and target_size_mb cannot be used together; allowed: one of "
                              "them");
        }
        double secs = has_size && o->ctx->duration ? o->ctx->duration(in, o->ctx->opaque) : 0;
        if (has_size && secs <= 0) {
            free(in);
            return invalid(o, "target_size_mb: the input's duration is unknown; use crf");
        }
        if (has_size) {
            /* 128 kbit/s of audio, the rest for the video */
            double video = size_mb * 8e6 / secs - 128000;
            if (video < 100000) {
                free(in);
                return invalid(o,
                               "target_size_mb: %g MB for %.1f s leaves under 100 kbit/s "
                               "for the video; allowed: at least %.2f MB",
                               size_mb, secs, (228000 * secs) / 8e6);
            }
            p.vbitrate = llround(video);
            p.abitrate = 128000;
        } else if (!p.has_crf) {
            p.has_crf = 1;
            p.crf = 28; /* smaller than the encoder's default of 23, still watchable */
        }
    }
    json_t *t = NULL;
    rc = container_target(o, format, &t);
    enum mc_container c = MC_CONTAINER_NONE;
    mc_container_from_name(format, &c);
    if (rc >= 0 && !mc_container_is_audio_only(c))
        rc = add_video(o, t, &p);
    if (rc >= 0)
        rc = add_audio(o, t, p.acodec ? p.acodec : default_acodec(format), p.abitrate);
    if (rc >= 0)
        rc = request(o, project, json_pack("[o]", source(in, 0, 0)), t, out);
    else
        json_decref(t);
    free(in);
    return rc;
}

/* trim: start plus end or duration, re-encoded so the cut is frame-accurate. */
static int op_trim(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"input", "start", "end", "duration", "format", NULL};
    int rc = check_keys(o, keys);
    double start = 0, end = 0, duration = 0;
    const char *format = "mp4";
    int has_end = 0, has_dur = 0;
    if (rc < 0 || (rc = opt_num(o, "start", 0, 1e7, &start)) < 0 ||
        (rc = has_end = opt_num(o, "end", 0, 1e7, &end)) < 0 ||
        (rc = has_dur = opt_num(o, "duration", 0.001, 1e7, &duration)) < 0 ||
        (rc = opt_str(o, "format", &format)) < 0)
        return rc;
    if (has_end && has_dur)
        return invalid(o, "end and duration cannot be used together; allowed: one of them");
    if (has_end && end <= start)
        return invalid(o, "end: %g is not after start %g", end, start);
    if (has_end)
        duration = end - start;
    char *in = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    json_t *t = NULL;
    av_params p = {0};
    enum mc_container c = MC_CONTAINER_NONE;
    rc = container_target(o, format, &t);
    mc_container_from_name(format, &c);
    if (rc >= 0 && !mc_container_is_audio_only(c))
        rc = add_video(o, t, &p);
    if (rc >= 0)
        rc = add_audio(o, t, default_acodec(format), 0);
    if (rc >= 0)
        rc = request(o, project, json_pack("[o]", source(in, start, duration)), t, out);
    else
        json_decref(t);
    free(in);
    return rc;
}

static int op_extract_audio(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"input", "format", "bitrate", NULL};
    int rc = check_keys(o, keys);
    const char *format = "mp3";
    int64_t bitrate = 0;
    if (rc < 0 || (rc = opt_str(o, "format", &format)) < 0 ||
        (rc = opt_bitrate(o, "bitrate", 1000, 10000000, &bitrate)) < 0)
        return rc;
    enum mc_container c;
    if (!mc_container_from_name(format, &c) || !mc_container_is_audio_only(c))
        return invalid(o,
                       "format: \"%s\" is not an audio format; allowed: mp3, aac, flac, oga, "
                       "ac3, opus, amr",
                       format);
    char *in = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    json_t *t = NULL;
    rc = container_target(o, format, &t);
    if (rc >= 0)
        rc = add_audio(o, t, default_acodec(format), bitrate);
    if (rc >= 0)
        rc = request(o, project, json_pack("[o]", source(in, 0, 0)), t, out);
    else
        json_decref(t);
    free(in);
    return rc;
}

/* An image-only target: {"Image": {kind: [image]}}. */
static int image_request(op_ctx *o, const char *project, const char *in, const char *kind,
                         json_t *image, json_t **out)
{
    json_t *t = image ? json_pack("{s:{s:[o]}}", "Image", kind, image) : NULL;
    if (!t)
        return nomem(o);
    return request(o, project, json_pack("[o]", source(in, 0, 0)), t, out);
}

static int op_to_gif(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"input", "start", "duration", "fps", "width", NULL};
    int rc = check_keys(o, keys);
    double start = 0, duration = 0, fps = 10, width = 0;
    int has_w = 0;
    if (rc < 0 || (rc = opt_num(o, "start", 0, 1e7, &start)) < 0 ||
        (rc = opt_num(o, "duration", 0.1, 600, &duration)) < 0 ||
        (rc = opt_num(o, "fps", 0.1, 50, &fps)) < 0 ||
        (rc = has_w = opt_num(o, "width", 32, 4096, &width)) < 0)
        return rc;
    if (has_w && width != floor(width))
        return invalid(o, "width must be whole pixels");
    char *in = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    char *uri = out_uri(o, "output", "gif");
    json_t *im = uri ? json_pack("{s:s,s:s,s:f,s:f,s:f}", "URI", uri, "Format", "gif", "StartTime",
                                 start, "Interval", 1.0 / fps, "FrameRate", fps)
                     : NULL;
    free(uri);
    if (im && duration > 0)
        json_object_set_new(im, "Number", json_integer((json_int_t)ceil(duration * fps - 1e-9)));
    if (im && has_w)
        json_object_set_new(im, "Width", json_integer((json_int_t)width));
    rc = image_request(o, project, in, "Animations", im, out);
    free(in);
    return rc;
}

static const char *image_format(op_ctx *o, const char *f, int *rc)
{
    static const char *const ok[] = {"jpg", "png", "webp"};
    if (strcmp(f, "jpeg") == 0)
        return "jpg";
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(f, ok[i]) == 0)
            return ok[i];
    *rc = invalid(o, "format: \"%s\" is not supported; allowed: jpg, png, webp", f);
    return NULL;
}

static int op_thumbnail(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"input", "time", "width", "format", NULL};
    int rc = check_keys(o, keys);
    double time = 0, width = 0;
    const char *format = "jpg";
    int has_w = 0;
    if (rc < 0 || (rc = opt_num(o, "time", 0, 1e7, &time)) < 0 ||
        (rc = has_w = opt_num(o, "width", 1, 4096, &width)) < 0 ||
        (rc = opt_str(o, "format", &format)) < 0)
        return rc;
    if (!(format = image_format(o, format, &rc)))
        return rc;
    if (has_w && width != floor(width))
        return invalid(o, "width must be whole pixels");
    char *in = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    char *uri = out_uri(o, "thumbnail", format);
    json_t *im = uri ? json_pack("{s:s,s:s,s:f,s:i}", "URI", uri, "Format", format, "StartTime",
                                 time, "Number", 1)
                     : NULL;
    free(uri);
    if (im && has_w)
        json_object_set_new(im, "Width", json_integer((json_int_t)width));
    rc = image_request(o, project, in, "Snapshots", im, out);
    free(in);
    return rc;
}

static int op_frames(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"input", "interval", "fps", "format", "max", "width", NULL};
    int rc = check_keys(o, keys);
    double interval = 0, fps = 0, width = 0;
    int64_t max = 0;
    const char *format = "jpg";
    int has_i = 0, has_f = 0, has_w = 0;
    if (rc < 0 || (rc = has_i = opt_num(o, "interval", 0.01, 86400, &interval)) < 0 ||
        (rc = has_f = opt_num(o, "fps", 0.001, 120, &fps)) < 0 ||
        (rc = opt_int(o, "max", 1, 100000, &max)) < 0 ||
        (rc = has_w = opt_num(o, "width", 1, 4096, &width)) < 0 ||
        (rc = opt_str(o, "format", &format)) < 0)
        return rc;
    if (has_i && has_f)
        return invalid(o, "interval and fps cannot be used together; allowed: one of them");
    if (!has_i && !has_f)
        return invalid(o, "interval or fps is required");
    if (!(format = image_format(o, format, &rc)))
        return rc;
    if (has_w && width != floor(width))
        return invalid(o, "width must be whole pixels");
    char *in = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    char *uri = out_uri(o, "frame-{index}", format);
    json_t *im = uri ? json_pack("{s:s,s:s,s:f}", "URI", uri, "Format", format, "Interval",
                                 has_i ? interval : 1.0 / fps)
                     : NULL;
    free(uri);
    if (im && max)
        json_object_set_new(im, "Number", json_integer(max));
    if (im && has_w)
        json_object_set_new(im, "Width", json_integer((json_int_t)width));
    rc = image_request(o, project, in, "Snapshots", im, out);
    free(in);
    return rc;
}

/* The common mp4 target of concat, watermark and mux: h264 + aac. */
static int mp4_target(op_ctx *o, json_t **out)
{
    av_params p = {0};
    int rc = container_target(o, "mp4", out);
    if (rc >= 0)
        rc = add_video(o, *out, &p);
    if (rc >= 0)
        rc = add_audio(o, *out, "aac", 0);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int op_concat(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"inputs", NULL};
    int rc = check_keys(o, keys);
    if (rc < 0)
        return rc;
    const json_t *arr = json_object_get(o->body, "inputs");
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n < 2 || n > MAX_CONCAT)
        return invalid(o, "inputs must be an array of 2 to %d URLs", MAX_CONCAT);
    json_t *sources = json_array();
    if (!sources)
        return nomem(o);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        char field[32], *in = NULL;
        snprintf(field, sizeof(field), "inputs[%zu]", i);
        if (!json_is_string(v)) {
            json_decref(sources);
            return invalid(o, "%s must be a URL string", field);
        }
        rc = o->ctx->resolve(json_string_value(v), field, &in, o->ctx->opaque);
        if (rc < 0) {
            json_decref(sources);
            if (rc == -ENOMEM)
                return nomem(o);
            return mc_err_set(o->err, rc, MC_FFAPI_ALLOWLIST,
                              "%s: %s: non-allowlist url; allowed: URLs of files uploaded to "
                              "this appliance and the configured hosts",
                              o->op, field);
        }
        rc = json_array_append_new(sources, source(in, 0, 0));
        free(in);
        if (rc < 0) {
            json_decref(sources);
            return nomem(o);
        }
    }
    json_t *t = NULL;
    if ((rc = mp4_target(o, &t)) < 0) {
        json_decref(sources);
        return rc;
    }
    return request(o, project, sources, t, out);
}

static int refer_pos(op_ctx *o, const char *pos, const char **out)
{
    static const char *const names[][2] = {{"top-left", "topleft"},
                                           {"top-right", "topright"},
                                           {"bottom-left", "bottomleft"},
                                           {"bottom-right", "bottomright"}};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(pos, names[i][0]) == 0 || strcmp(pos, names[i][1]) == 0) {
            *out = names[i][1];
            return 0;
        }
    return invalid(o,
                   "position: \"%s\" is not supported; allowed: top-left, top-right, "
                   "bottom-left, bottom-right",
                   pos);
}

static int op_watermark(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"input",   "image_url", "position", "margin",
                                       "opacity", "width",     NULL};
    int rc = check_keys(o, keys);
    const char *pos = "top-right", *ref = NULL;
    double opacity = 1, width = 0;
    int64_t margin = 10;
    int has_w = 0;
    if (rc < 0 || (rc = opt_str(o, "position", &pos)) < 0 ||
        (rc = opt_int(o, "margin", 0, 4096, &margin)) < 0 ||
        (rc = opt_num(o, "opacity", 0, 1, &opacity)) < 0 ||
        (rc = has_w = opt_num(o, "width", 0.001, 4096, &width)) < 0 ||
        (rc = refer_pos(o, pos, &ref)) < 0)
        return rc;
    /* IMM file watermarks are drawn as the image is, with its own alpha. */
    if (opacity != 1)
        return invalid(o,
                       "opacity: %g is not supported; allowed: 1 (give the image the alpha "
                       "it should have)",
                       opacity);
    if (has_w && width >= 1 && width != floor(width))
        return invalid(o, "width: give whole pixels, or a fraction below 1 of the video's width");
    char *in = NULL, *mark = NULL;
    if ((rc = input_uri(o, "input", &in)) < 0)
        return rc;
    if ((rc = input_uri(o, "image_url", &mark)) < 0) {
        free(in);
        return rc;
    }
    json_t *t = NULL;
    rc = mp4_target(o, &t);
    json_t *wm =
        rc >= 0 ? json_pack("{s:s,s:s,s:s}", "Type", "file", "URI", mark, "ReferPos", ref) : NULL;
    if (rc >= 0 && !wm)
        rc = nomem(o);
    /* Dx/Dy: an integral value is pixels; 0 is the corner itself. */
    if (rc >= 0 && margin > 0 && (rc = put(o, wm, "Dx", json_integer(margin))) >= 0)
        rc = put(o, wm, "Dy", json_integer(margin));
    if (rc >= 0 && has_w)
        rc = put(o, wm, "Width", width < 1 ? json_real(width) : json_integer((json_int_t)width));
    if (rc >= 0) {
        rc = put(o, json_object_get(t, "Video"), "FilterVideo",
                 json_pack("{s:[o]}", "Watermarks", wm));
        wm = NULL;
    }
    json_decref(wm);
    free(mark);
    if (rc >= 0)
        rc = request(o, project, json_pack("[o]", source(in, 0, 0)), t, out);
    else
        json_decref(t);
    free(in);
    return rc;
}

/* mux: the audio of another file into a video, replacing its audio or added to it. */
static int op_mux(op_ctx *o, const char *project, json_t **out)
{
    static const char *const keys[] = {"video", "audio", "mode", NULL};
    int rc = check_keys(o, keys);
    const char *mode = "replace";
    if (rc < 0 || (rc = opt_str(o, "mode", &mode)) < 0)
        return rc;
    bool replace = strcmp(mode, "replace") == 0;
    if (!replace && strcmp(mode, "add") != 0)
        return invalid(o, "mode: \"%s\" is not supported; allowed: replace, add", mode);
    char *video = NULL, *audio = NULL;
    if ((rc = input_uri(o, "video", &video)) < 0)
        return rc;
    if ((rc = input_uri(o, "audio", &audio)) < 0) {
        free(video);
        return rc;
    }
    json_t *main_src = source(video, 0, 0);
    json_t *extra = json_pack("{s:s,s:b,s:s,s:b}", "URI", audio, "Attached", 1, "AlignMode", "pad",
                              "DisableVideo", 1);
    if (main_src && replace)
        json_object_set_new(main_src, "DisableAudio", json_true());
    free(video);
    free(audio);
    json_t *t = NULL;
    if ((rc = mp4_target(o, &t)) < 0) {
        json_decref(main_src);
        json_decref(extra);
        return rc;
    }
    return request(o, project, json_pack("[o,o]", main_src, extra), t, out);
}

typedef int (*op_fn)(op_ctx *o, const char *project, json_t **out);

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {
    {"transcode", op_encode},
    {"compress", op_encode},
    {"scale", op_encode},
    {"trim", op_trim},
    {"extract_audio", op_extract_audio},
    {"to_gif", op_to_gif},
    {"thumbnail", op_thumbnail},
    {"frames", op_frames},
    {"concat", op_concat},
    {"watermark", op_watermark},
    {"mux", op_mux},
};

bool mc_ffapi_is_task_op(const char *op)
{
    for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(op, ops[i].name) == 0)
            return true;
    return false;
}

int mc_ffapi_to_request(const char *op, const json_t *body, const char *project,
                        const mc_ffapi_ctx *ctx, json_t **out, mc_err *err)
{
    op_ctx o = {.op = op ? op : "", .body = body, .ctx = ctx, .err = err};
    for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(op, ops[i].name) != 0)
            continue;
        if (!json_is_object(body))
            return invalid(&o, "the body must be a JSON object");
        return ops[i].fn(&o, project, out);
    }
    return mc_err_set(err, -EINVAL, MC_FFAPI_INVALID,
                      "\"%s\" is not an operation; allowed: upload, probe, transcode, compress, "
                      "scale, trim, extract_audio, to_gif, thumbnail, watermark, concat, mux, "
                      "frames",
                      o.op);
}

int mc_ffapi_credits(const char *op, double output_seconds, int height)
{
    if (!op || !strcmp(op, "upload") || !strcmp(op, "probe") || !strcmp(op, "thumbnail"))
        return 1;
    double res = height <= 0      ? 1.0
                 : height <= 480  ? 0.6
                 : height <= 720  ? 1.0
                 : height <= 1080 ? 1.8
                                  : 3.0;
    double c = ceil(output_seconds * 0.05 * 1.0 * res - 1e-9);
    return c < 1 || !isfinite(c) ? 1 : c > 1e9 ? 1000000000 : (int)c;
}
