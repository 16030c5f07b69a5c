/*
 * OSS processing actions (spec 5.5-5.10) translated to CreateMediaConvertTask fields:
 * video/convert, audio/convert, video/concat, audio/concat -> a Target with URI and
 * Container; video/animation, video/snapshots, video/sprite -> Target.Image. Times in ms
 * become seconds, percentages become ratios, the 0/1/2 options become fixed/adaptive/fall.
 * The checks here are those OSS documents, worded with OSS names; the job model checks the
 * result again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_formats.h"
#include "mc_str.h"
#include "oss_process_internal.h"

#define OSS_MAX_CLIPS 11 /* concatenation: the request's object and its /pre and /sur */

static const char *const options[] = {"0", "1", "2", NULL};
static const char *const option_names[] = {"fixed", "adaptive", "fall"};
static const char *const bools[] = {"0", "1", NULL};
static const char *const scale_types[] = {"stretch", "crop", "fill", "fit", NULL};

/* ---- audio ----------------------------------------------------------------------------- */

static const int all_rates[] = {8000,  11025, 12000, 16000, 22050, 24000, 32000,
                                44100, 48000, 64000, 88200, 96000, 0};
static const int mp3_rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 0};
static const int ac3_rates[] = {32000, 44100, 48000, 0};
static const int opus_rates[] = {8000, 12000, 16000, 24000, 48000, 0};
static const int amr_rates[] = {8000, 16000, 0};

/* Per-format limits of seed 002 ("Format constraints"), by format or codec name. */
static const struct audio_rule {
    const char *name;
    const char *codec; /* TranscodeAudio.Codec */
    const int *rates;
    int max_channels;
} audio_rules[] = {
    {"mp3", "mp3", mp3_rates, 2},       {"aac", "aac", all_rates, 8},
    {"flac", "flac", all_rates, 8},     {"oga", "vorbis", all_rates, 8},
    {"vorbis", "vorbis", all_rates, 8}, {"ac3", "ac3", ac3_rates, 6},
    {"opus", "opus", opus_rates, 8},    {"amr", "amr", amr_rates, 1},
};

static const char *const audio_formats[] = {"mp3", "aac",  "flac", "oga",
                                            "ac3", "opus", "amr",  NULL};
static const char *const acodecs[] = {"copy", "mp3",  "aac", "flac", "vorbis",
                                      "ac3",  "opus", "amr", NULL};
static const char *const audio_keys[] = {"ar", "ac", "aq", "ab", "abopt", "adepth", NULL};

static const struct audio_rule *audio_rule(const char *name)
{
    for (size_t i = 0; i < sizeof(audio_rules) / sizeof(audio_rules[0]); i++)
        if (strcmp(audio_rules[i].name, name) == 0)
            return &audio_rules[i];
    return NULL;
}

static const char *first_present(const oss_seg *s, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++)
        if (oss_has(s, keys[i]))
            return keys[i];
    return NULL;
}

/* ar, ac, aq, ab, abopt, adepth into TranscodeAudio ta, for the format `fmt` named by
 * parameter fmt_key ("f" or "acodec"). */
static int audio_params(oss_ctx *c, oss_seg *s, const char *fmt_key, const char *fmt, json_t *ta)
{
    const struct audio_rule *rule = audio_rule(fmt);
    char allowed[160];
    int64_t ar, ac, aq, ab, depth;
    int opt, rc;
    if ((rc = oss_int(c, s, "ar", 1, 1000000, &ar)) < 0)
        return rc;
    if (rc > 0 && !mc_rates_contain(all_rates, ar)) {
        mc_rates_text(all_rates, allowed, sizeof(allowed));
        return oss_fail(c, "ar %lld is not supported; allowed: %s", (long long)ar, allowed);
    }
    if (rc > 0 && !mc_rates_contain(rule->rates, ar)) {
        mc_rates_text(rule->rates, allowed, sizeof(allowed));
        return oss_fail(c, "ar %lld is not allowed with %s %s; allowed: %s", (long long)ar, fmt_key,
                        fmt, allowed);
    }
    if (rc > 0)
        oss_put(c, ta, "SampleRate", json_integer(ar));
    if ((rc = oss_int(c, s, "ac", 1, 8, &ac)) < 0)
        return rc;
    if (rc > 0 && ac > rule->max_channels) {
        if (rule->max_channels == 1)
            return oss_fail(c, "ac %lld is not allowed with %s %s; allowed: 1", (long long)ac,
                            fmt_key, fmt);
        return oss_fail(c, "ac %lld is not allowed with %s %s; allowed: 1 to %d", (long long)ac,
                        fmt_key, fmt, rule->max_channels);
    }
    if (rc > 0)
        oss_put(c, ta, "Channel", json_integer(ac));
    if (oss_has(s, "aq") && oss_has(s, "ab"))
        return oss_fail(c, "aq and ab cannot be used together; set one of them");
    if ((rc = oss_int(c, s, "aq", 0, 100, &aq)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, ta, "Quality", json_integer(aq));
    if ((rc = oss_int(c, s, "ab", 1000, 10000000, &ab)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, ta, "Bitrate", json_integer(ab));
    if ((rc = oss_enum(c, s, "abopt", options, &opt)) < 0)
        return rc;
    if (rc > 0 && !oss_has(s, "ab"))
        return oss_fail(c, "abopt requires ab (the bitrate it applies to)");
    if (rc > 0)
        oss_put(c, ta, "BitrateOption", json_string(option_names[opt]));
    if ((rc = oss_int(c, s, "adepth", 0, 64, &depth)) < 0)
        return rc;
    if (rc > 0 && strcmp(rule->codec, "flac") != 0)
        return oss_fail(c, "adepth is only allowed with %s flac, not %s", fmt_key, fmt);
    if (rc > 0 && depth != 16 && depth != 24)
        return oss_fail(c, "adepth %lld is not supported; allowed: 16, 24", (long long)depth);
    if (rc > 0)
        oss_put(c, ta, "BitsPerSample", json_integer(depth));
    return 0;
}

/* ---- video ----------------------------------------------------------------------------- */

static const char *const video_containers[] = {"mp4", "mkv", "mov", "asf",  "avi",
                                               "mxf", "ts",  "flv", "webm", NULL};
static const char *const vcodecs[] = {"copy", "h264", "h265", "vp9", NULL};
static const char *const pixfmts[] = {"yuv420p",     "yuva420p", "yuv420p10le", "yuv422p",
                                      "yuv422p10le", "yuv444p",  "yuv444p10le", NULL};
static const char *const video_keys[] = {"fps",       "fpsopt",  "pixfmt",  "s",  "sopt",
                                         "scaletype", "arotate", "g",       "vb", "vbopt",
                                         "crf",       "maxrate", "bufsize", NULL};

/* One side of s: empty (keep the source's), or even and in [64, 4096]. */
static int read_side(const char *s, size_t n, int *out)
{
    char buf[16];
    long long v;
    if (n == 0) {
        *out = 0;
        return 0;
    }
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (mc_parse_i64(buf, 64, 4096, &v) < 0 || v % 2)
        return -1;
    *out = (int)v;
    return 0;
}

static int read_resolution(oss_ctx *c, oss_seg *s, json_t *tv)
{
    const char *v = oss_get(s, "s");
    if (!v)
        return 0;
    const char *x = strchr(v, 'x');
    int w = 0, h = 0;
    if (!x || read_side(v, (size_t)(x - v), &w) < 0 || read_side(x + 1, strlen(x + 1), &h) < 0 ||
        (w == 0 && h == 0))
        return oss_fail(c,
                        "s \"%.32s\" is not a size; allowed: <w>x<h>, <w>x or x<h>, each "
                        "side even, 64 to 4096",
                        v);
    char text[32];
    if (w && h)
        snprintf(text, sizeof(text), "%dx%d", w, h);
    else if (w)
        snprintf(text, sizeof(text), "%dx", w);
    else
        snprintf(text, sizeof(text), "x%d", h);
    oss_put(c, tv, "Resolution", json_string(text));
    return 1;
}

/* fps ... bufsize into TranscodeVideo tv. */
static int video_params(oss_ctx *c, oss_seg *s, json_t *tv)
{
    double d;
    int64_t n;
    int e, rc, has_s;
    if ((rc = oss_num(c, s, "fps", 0, 240, &d)) < 0)
        return rc;
    if (rc > 0 && d <= 0)
        return oss_fail(c, "fps %g is out of range; allowed: greater than 0, up to 240", d);
    if (rc > 0)
        oss_put(c, tv, "FrameRate", json_real(d));
    if ((rc = oss_enum(c, s, "fpsopt", options, &e)) < 0)
        return rc;
    if (rc > 0 && !oss_has(s, "fps"))
        return oss_fail(c, "fpsopt requires fps");
    if (rc > 0)
        oss_put(c, tv, "FrameRateOption", json_string(option_names[e]));
    if ((rc = oss_enum(c, s, "pixfmt", pixfmts, &e)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "PixelFormat", json_string(pixfmts[e]));
    if ((has_s = read_resolution(c, s, tv)) < 0)
        return has_s;
    static const char *const need_s[] = {"sopt", "scaletype", "arotate", NULL};
    const char *k = first_present(s, need_s);
    if (k && !has_s)
        return oss_fail(c, "%s requires s (the output size)", k);
    if ((rc = oss_enum(c, s, "sopt", options, &e)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "ResolutionOption", json_string(option_names[e]));
    if ((rc = oss_enum(c, s, "scaletype", scale_types, &e)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "ScaleType", json_string(scale_types[e]));
    if ((rc = oss_enum(c, s, "arotate", bools, &e)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "AdaptiveResolutionDirection", json_boolean(e == 1));
    if ((rc = oss_int(c, s, "g", 1, 100000, &n)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "GOPSize", json_integer(n));
    if (oss_has(s, "vb") && oss_has(s, "crf"))
        return oss_fail(c, "vb and crf cannot be used together; set one of them");
    if ((rc = oss_int(c, s, "vb", 1000, 500000000, &n)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "Bitrate", json_integer(n));
    if ((rc = oss_enum(c, s, "vbopt", options, &e)) < 0)
        return rc;
    if (rc > 0 && !oss_has(s, "vb"))
        return oss_fail(c, "vbopt requires vb");
    if (rc > 0)
        oss_put(c, tv, "BitrateOption", json_string(option_names[e]));
    if ((rc = oss_num(c, s, "crf", 0, 51, &d)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "CRF", json_real(d));
    static const char *const vbv[] = {"maxrate", "bufsize", NULL};
    if ((k = first_present(s, vbv)) && oss_has(s, "vb"))
        return oss_fail(c, "%s only applies to crf and cannot be used with vb", k);
    if (oss_has(s, "maxrate") && !oss_has(s, "bufsize"))
        return oss_fail(c, "maxrate requires bufsize");
    if ((rc = oss_int(c, s, "maxrate", 1000, INT32_MAX, &n)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "MaxBitrate", json_integer(n));
    if ((rc = oss_int(c, s, "bufsize", 1000, INT32_MAX, &n)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, tv, "BufferSize", json_integer(n));
    return 0;
}

/* ---- targets with a container ----------------------------------------------------------- */

/* vn/vcodec/... into target t. container is the f value; concat forbids copy. */
static int video_stream(oss_ctx *c, oss_seg *s, const char *container, bool concat, json_t *t)
{
    bool audio_only = audio_rule(container) != NULL;
    int vn = 0, e = -1, rc;
    if ((rc = oss_enum(c, s, "vn", bools, &vn)) < 0)
        return rc;
    const char *k = oss_has(s, "vcodec") ? "vcodec" : first_present(s, video_keys);
    if (vn || audio_only) {
        if (k)
            return oss_fail(c,
                            vn ? "%s cannot be used with vn_1 (no video)"
                               : "%s cannot be used with the audio-only f %s",
                            k, container);
        oss_put(c, t, "Video", json_pack("{s:b}", "DisableVideo", 1));
        return 0;
    }
    if ((rc = oss_enum(c, s, "vcodec", vcodecs, &e)) < 0)
        return rc;
    if (concat && e <= 0)
        return oss_fail(c, "vcodec %s; allowed: h264, h265, vp9 (or vn_1)",
                        rc ? "copy cannot be used when concatenating" : "is required");
    k = first_present(s, video_keys);
    if (e <= 0 && k)
        return oss_fail(c,
                        "%s requires vcodec h264, h265 or vp9 (without vcodec the video is "
                        "copied as it is)",
                        k);
    if (rc == 0)
        return 0; /* no Video: the first video stream is copied */
    json_t *tv = oss_obj(c);
    oss_put(c, tv, "Codec", json_string(vcodecs[e]));
    if (e > 0 && (rc = video_params(c, s, tv)) < 0) {
        json_decref(tv);
        return rc;
    }
    oss_put(c, t, "Video", json_pack("{s:o}", "TranscodeVideo", tv));
    return 0;
}

static int audio_stream(oss_ctx *c, oss_seg *s, bool concat, json_t *t)
{
    int an = 0, e = -1, rc;
    if ((rc = oss_enum(c, s, "an", bools, &an)) < 0)
        return rc;
    const char *k = oss_has(s, "acodec") ? "acodec" : first_present(s, audio_keys);
    if (an) {
        if (k)
            return oss_fail(c, "%s cannot be used with an_1 (no audio)", k);
        oss_put(c, t, "Audio", json_pack("{s:b}", "DisableAudio", 1));
        return 0;
    }
    if ((rc = oss_enum(c, s, "acodec", acodecs, &e)) < 0)
        return rc;
    if (concat && e <= 0)
        return oss_fail(c, "acodec %s; allowed: mp3, aac, flac, vorbis, ac3, opus, amr (or an_1)",
                        rc ? "copy cannot be used when concatenating" : "is required");
    k = first_present(s, audio_keys);
    if (e <= 0 && k)
        return oss_fail(c, "%s requires acodec (without acodec the audio is copied as it is)", k);
    if (rc == 0)
        return 0;
    json_t *ta = oss_obj(c);
    oss_put(c, ta, "Codec", json_string(acodecs[e]));
    if (e > 0 && (rc = audio_params(c, s, "acodec", acodecs[e], ta)) < 0) {
        json_decref(ta);
        return rc;
    }
    oss_put(c, t, "Audio", json_pack("{s:o}", "TranscodeAudio", ta));
    return 0;
}

/* A source {URI, StartTime, Duration} from ss and t. */
static int add_source(oss_ctx *c, oss_seg *s, const char *uri, json_t *sources)
{
    int64_t ss = 0, t = 0;
    int rc;
    if ((rc = oss_int(c, s, "ss", 0, OSS_MAX_MS, &ss)) < 0 ||
        (rc = oss_int(c, s, "t", 0, OSS_MAX_MS, &t)) < 0)
        return rc;
    json_t *src = oss_obj(c);
    oss_put(c, src, "URI", json_string(uri));
    if (ss > 0)
        oss_put(c, src, "StartTime", oss_seconds(ss));
    if (t > 0)
        oss_put(c, src, "Duration", oss_seconds(t));
    oss_push(c, sources, src);
    return 0;
}

/* /pre and /sur of concat: o_ (Base64 key), b_ (bucket, default the request's), ss, t. */
static int add_clip(const char *action, oss_seg *g, const oss_job_in *in, json_t *sources,
                    mc_err *err)
{
    char where[64], *key = NULL, *bucket = NULL, *uri = NULL;
    snprintf(where, sizeof(where), "%s /%s", action, g->name);
    oss_ctx c = {where, err, false};
    int rc = oss_b64(&c, g, "o", &key);
    if (rc == 0)
        rc = oss_missing(&c, "o (the Base64 of the clip's object key) is required");
    if (rc > 0)
        rc = oss_b64(&c, g, "b", &bucket);
    if (rc >= 0 && !(uri = mc_asprintf("oss://%s/%s", bucket ? bucket : in->bucket, key)))
        rc = -ENOMEM;
    if (rc >= 0)
        rc = add_source(&c, g, uri, sources);
    if (rc >= 0)
        rc = oss_check_unused(&c, g, "o, b, ss, t");
    free(key);
    free(bucket);
    free(uri);
    if (c.oom || rc == -ENOMEM)
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
    return rc < 0 ? rc : 0;
}

static int convert(oss_ctx *c, oss_proc *p, const oss_job_in *in, bool audio, bool concat,
                   json_t *req)
{
    oss_seg *a = &p->action;
    json_t *sources = oss_arr(c), *targets = oss_arr(c), *t = oss_obj(c);
    int e, rc;
    const char *const *formats = audio ? audio_formats : NULL;
    static const char *const all_formats[] = {"mp4", "mkv", "mov",  "asf", "avi", "mxf",
                                              "ts",  "flv", "webm", "mp3", "aac", "flac",
                                              "oga", "ac3", "opus", "amr", NULL};
    if (!formats)
        formats = concat ? video_containers : all_formats;
    oss_put(c, req, "Sources", sources);
    oss_put(c, req, "Targets", targets);
    oss_push(c, targets, t);
    if ((rc = oss_enum(c, a, "f", formats, &e)) <= 0)
        return rc < 0 ? rc : oss_missing(c, "f (the output format) is required");
    const char *f = formats[e];
    oss_put(c, t, "URI", json_string(in->out_uri));
    oss_put(c, t, "Container", json_string(f));
    /* Sources: /pre clips, the request's object, /sur clips. */
    size_t n_pre = 0;
    for (size_t i = 0; i < p->n_segs; i++)
        n_pre += strcmp(p->segs[i].name, "pre") == 0;
    if (p->n_segs + 1 > OSS_MAX_CLIPS)
        return mc_err_set(c->err, MC_ELIMIT, "InvalidArgument",
                          "%s: %zu clips are too many; allowed: at most %d with the object "
                          "itself",
                          c->where, p->n_segs + 1, OSS_MAX_CLIPS);
    for (size_t i = 0; i < p->n_segs; i++)
        if (strcmp(p->segs[i].name, "pre") == 0 &&
            (rc = add_clip(a->name, &p->segs[i], in, sources, c->err)) < 0)
            return rc;
    if ((rc = add_source(c, a, in->src_uri, sources)) < 0)
        return rc;
    for (size_t i = 0; i < p->n_segs; i++)
        if (strcmp(p->segs[i].name, "sur") == 0 &&
            (rc = add_clip(a->name, &p->segs[i], in, sources, c->err)) < 0)
            return rc;
    if (concat) {
        int64_t align;
        if ((rc = oss_int(c, a, "align", 0, (int64_t)p->n_segs, &align)) < 0)
            return rc;
        oss_put(c, req, "AlignmentIndex", json_integer(rc ? align : (int64_t)n_pre));
    }
    if (audio) {
        const struct audio_rule *rule = audio_rule(f);
        json_t *ta = oss_obj(c);
        oss_put(c, ta, "Codec", json_string(rule->codec));
        oss_put(c, t, "Video", json_pack("{s:b}", "DisableVideo", 1));
        oss_put(c, t, "Audio", json_pack("{s:o}", "TranscodeAudio", ta));
        if ((rc = audio_params(c, a, "f", f, ta)) < 0)
            return rc;
        return oss_check_unused(c, a,
                                concat ? "f, ss, t, ar, ac, aq, ab, abopt, adepth, align"
                                       : "f, ss, t, ar, ac, aq, ab, abopt, adepth");
    }
    if ((rc = video_stream(c, a, f, concat, t)) < 0 || (rc = audio_stream(c, a, concat, t)) < 0)
        return rc;
    int sn = 0;
    if ((rc = oss_enum(c, a, "sn", bools, &sn)) < 0)
        return rc;
    if (sn)
        oss_put(c, t, "Subtitle", json_pack("{s:b}", "DisableSubtitle", 1));
    return oss_check_unused(c, a,
                            "f, ss, t, vn, vcodec, fps, fpsopt, pixfmt, s, sopt, scaletype, "
                            "arotate, g, vb, vbopt, crf, maxrate, bufsize, an, acodec, ar, ac, "
                            "aq, ab, abopt, adepth, sn");
}

/* ---- image targets --------------------------------------------------------------------- */

/* A size from px (w) or percent (pw) parameters; percent 100 is the source size (omitted). */
static int image_size(oss_ctx *c, oss_seg *s, const char *px_key, const char *pct_key,
                      int64_t min_px, bool one_is_ratio, const char *field, json_t *im)
{
    int64_t v;
    int rc;
    if (oss_has(s, px_key) && oss_has(s, pct_key))
        return oss_fail(c, "%s and %s cannot be used together; set one of them", px_key, pct_key);
    if ((rc = oss_int(c, s, px_key, min_px, 4096, &v)) < 0)
        return rc;
    if (rc > 0) {
        oss_put(c, im, field, json_integer(v));
        return 0;
    }
    if ((rc = oss_int(c, s, pct_key, 1, 100, &v)) < 0)
        return rc;
    if (rc > 0 && (v < 100 || one_is_ratio))
        oss_put(c, im, field, json_real((double)v / 100.0));
    return 0;
}

/* ss, inter, num, scaletype: what every image output samples by. */
static int image_sampling(oss_ctx *c, oss_seg *s, json_t *im)
{
    int64_t v;
    int e, rc;
    if ((rc = oss_int(c, s, "ss", 0, OSS_MAX_MS, &v)) < 0)
        return rc;
    if (rc > 0 && v > 0)
        oss_put(c, im, "StartTime", oss_seconds(v));
    if ((rc = oss_int(c, s, "inter", 1, OSS_MAX_MS, &v)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, im, "Interval", oss_seconds(v));
    if ((rc = oss_int(c, s, "num", 0, 100000, &v)) < 0)
        return rc;
    if (rc > 0 && v > 0)
        oss_put(c, im, "Number", json_integer(v));
    if ((rc = oss_enum(c, s, "scaletype", scale_types, &e)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, im, "ScaleType", json_string(scale_types[e]));
    return 0;
}

/* m and thr of snapshots and sprites. */
static int image_mode(oss_ctx *c, oss_seg *s, json_t *im)
{
    static const char *const modes[] = {"inter",    "key",      "avg",     "dhash",
                                        "interval", "keyframe", "average", NULL};
    static const char *const imm_modes[] = {"interval", "keyframe", "average", "dhash"};
    int64_t thr;
    int e, rc;
    if ((rc = oss_enum(c, s, "m", modes, &e)) < 0)
        return rc;
    if (rc > 0)
        oss_put(c, im, "Mode", json_string(imm_modes[e % 4]));
    if ((rc = oss_int(c, s, "thr", 0, 100, &thr)) < 0)
        return rc;
    if (rc > 0 && !(oss_has(s, "m") && strcmp(oss_get(s, "m"), "dhash") == 0))
        return oss_fail(c, "thr is only used with m_dhash");
    if (rc > 0)
        oss_put(c, im, "Threshold", json_integer(thr));
    return 0;
}

enum image_op { OP_ANIMATION, OP_SNAPSHOTS, OP_SPRITE };

static int image(oss_ctx *c, oss_proc *p, const oss_job_in *in, enum image_op op, json_t *req)
{
    static const char *const stills[] = {"jpg", "png", NULL};
    static const char *const anims[] = {"gif", "webp", NULL};
    static const char *const arrays[] = {"Animations", "Snapshots", "Sprites"};
    oss_seg *a = &p->action;
    json_t *sources = oss_arr(c), *targets = oss_arr(c), *im = oss_obj(c);
    json_t *list = oss_arr(c);
    int e, rc;
    oss_put(c, req, "Sources", sources);
    oss_put(c, req, "Targets", targets);
    oss_push(c, list, im);
    oss_push(c, targets, json_pack("{s:{s:o}}", "Image", arrays[op], list));
    json_t *src = oss_obj(c);
    oss_put(c, src, "URI", json_string(in->src_uri));
    oss_push(c, sources, src);
    if ((rc = oss_enum(c, a, "f", op == OP_ANIMATION ? anims : stills, &e)) <= 0)
        return rc < 0 ? rc
                      : oss_missing(c, "f (the output format) is required; allowed: %s",
                                    op == OP_ANIMATION ? "gif, webp" : "jpg, png");
    oss_put(c, im, "Format", json_string((op == OP_ANIMATION ? anims : stills)[e]));
    oss_put(c, im, "URI", json_string(in->out_uri));
    if ((rc = image_sampling(c, a, im)) < 0)
        return rc;
    if (op == OP_ANIMATION) {
        double fps;
        if ((rc = oss_num(c, a, "fps", 0, 240, &fps)) < 0)
            return rc;
        if (rc > 0 && fps > 0)
            oss_put(c, im, "FrameRate", json_real(fps));
        if ((rc = image_size(c, a, "w", "pw", 32, false, "Width", im)) < 0 ||
            (rc = image_size(c, a, "h", "ph", 32, false, "Height", im)) < 0)
            return rc;
        return oss_check_unused(c, a, "f, ss, num, inter, fps, w, h, pw, ph, scaletype");
    }
    if ((rc = image_mode(c, a, im)) < 0)
        return rc;
    if (op == OP_SNAPSHOTS) {
        if ((rc = image_size(c, a, "w", "pw", 1, false, "Width", im)) < 0 ||
            (rc = image_size(c, a, "h", "ph", 1, false, "Height", im)) < 0)
            return rc;
        return oss_check_unused(c, a, "f, ss, inter, num, m, thr, w, h, pw, ph, scaletype");
    }
    static const struct {
        const char *key, *field;
        int64_t lo, hi;
    } ints[] = {{"tw", "TileWidth", 1, 100},
                {"th", "TileHeight", 1, 100},
                {"pad", "Pad", 0, 256},
                {"margin", "Margin", 0, 256}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int64_t v;
        if ((rc = oss_int(c, a, ints[i].key, ints[i].lo, ints[i].hi, &v)) < 0)
            return rc;
        if (rc > 0)
            oss_put(c, im, ints[i].field, json_integer(v));
    }
    if ((rc = image_size(c, a, "sw", "spw", 2, true, "ScaleWidth", im)) < 0 ||
        (rc = image_size(c, a, "sh", "sph", 2, true, "ScaleHeight", im)) < 0)
        return rc;
    return oss_check_unused(c, a,
                            "f, ss, inter, num, m, thr, sw, sh, spw, sph, tw, th, pad, margin, "
                            "scaletype");
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const char *const action_names[] = {
    "video/convert",   "audio/convert",   "video/concat", "audio/concat",
    "video/animation", "video/snapshots", "video/sprite", NULL};

int oss_action_check(const char *name, mc_err *err)
{
    oss_ctx c = {name, err, false};
    for (int i = 0; action_names[i]; i++)
        if (strcmp(name, action_names[i]) == 0)
            return i;
    if (strcmp(name, "video/snapshot") == 0 || strcmp(name, "video/info") == 0 ||
        strcmp(name, "audio/info") == 0)
        return oss_fail(&c, "is synchronous; send it as x-oss-process, not x-oss-async-process");
    if (mc_str_starts_with(name, "style/"))
        return oss_fail(&c, "saved styles are not supported; write the processing string out");
    return mc_err_set(err, -EINVAL, "InvalidArgument",
                      "x-oss-async-process: unknown action \"%.64s\"; allowed: video/convert, "
                      "audio/convert, video/concat, audio/concat, video/animation, "
                      "video/snapshots, video/sprite",
                      name);
}

int oss_action_to_request(oss_proc *p, const oss_job_in *in, json_t *req, mc_err *err)
{
    const char *name = p->action.name;
    oss_ctx c = {name, err, false};
    int op = oss_action_check(name, err), rc;
    if (op < 0)
        return op;
    if (p->n_segs > 0 && op != 2 && op != 3)
        return oss_fail(&c, "/%s segments are only allowed with video/concat and audio/concat",
                        p->segs[0].name);
    if (op <= 3)
        rc = convert(&c, p, in, op == 1 || op == 3, op >= 2, req);
    else
        rc = image(&c, p, in, op == 4 ? OP_ANIMATION : op == 5 ? OP_SNAPSHOTS : OP_SPRITE, req);
    if (rc == 0 && c.oom)
        rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
    return rc;
}
