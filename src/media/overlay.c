/*
 * FilterVideo.Watermarks and Delogos: filters appended to a target's video chain after the
 * geometry (scale, crop/pad, rotation), so that pixels and fractions refer to the output
 * picture.
 *
 * - Text watermarks: drawtext with a font file found through fontconfig (Source Han, which
 *   Debian ships as Noto Sans/Serif CJK; DejaVu when those are absent), expansion off.
 * - File watermarks (PNG or MOV/APNG): a movie source, scaled, overlaid. A still picture
 *   is shown for the whole time range; an animated one plays once, then its last frame
 *   stays.
 *   On a device with an overlay filter, a chain whose overlays are all still, opaque
 *   pictures shown for the whole output keeps its frames on the device: each picture is
 *   uploaded once and overlaid there (the device filters have no timeline and, in FFmpeg 5.1,
 *   blend no alpha in the device's format); anything else is drawn in software.
 * - Delogos: the rectangle is cut out, shrunk to 16-pixel cells and blown up again without
 *   interpolation (a mosaic), and overlaid back in place.
 *
 * Everything that can fail for a reason of the request (a missing watermark file, a colour
 * name, a rectangle outside the picture) fails in mc_overlay_plan(), before any output file
 * is created.
 */
#include "media_priv.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <fontconfig/fontconfig.h>
#include <libavutil/avstring.h>
#include <libavutil/bprint.h>
#include <libavutil/parseutils.h>
#include <libavutil/pixdesc.h>

#include "mc_storage.h"

/* The side of a mosaic cell of a delogo rectangle, in pixels. */
#define MC_MOSAIC_CELL 16

typedef struct mc_wm_res {
    char *path; /* text: the font file; file: the picture or video */
    int w, h;   /* file: the watermark's size once scaled */
    bool still; /* file: a single picture */
    bool opaque; /* file: its pixel format has no alpha (nor a palette) */
} mc_wm_res;

typedef struct mc_rect {
    int x, y, w, h;
} mc_rect;

struct mc_overlays {
    size_t n_wm;
    mc_wm_res *wm; /* one per watermark */
    mc_rect *logo; /* one per delogo, clamped to the picture */
    char *burn;    /* BurnSubtitle.URI: the subtitle file (cues on the output timeline) */
    int burn_stream; /* BurnSubtitle.Stream: the stream of each source, -1: none */
};

void mc_overlay_free(mc_overlays **pov)
{
    mc_overlays *ov = *pov;
    if (!ov)
        return;
    for (size_t i = 0; ov->wm && i < ov->n_wm; i++)
        free(ov->wm[i].path);
    free(ov->wm);
    free(ov->logo);
    free(ov->burn);
    free(ov);
    *pov = NULL;
}

/* ---- fonts ---- */

/* FontName -> the fontconfig patterns tried in turn; the first whose family matches wins. */
static const struct font_map {
    const char *name;
    const char *want[2]; /* Source Han under its own name, then Debian's Noto name */
    const char *family[2];
    const char *fallback; /* fonts-dejavu-core */
} font_map[] = {
    {"SourceHanSans-Regular",
     {"Source Han Sans SC:style=Regular", "Noto Sans CJK SC:style=Regular"},
     {"Source Han Sans", "Noto Sans CJK"},
     "DejaVu Sans:style=Book"},
    {"SourceHanSans-Bold",
     {"Source Han Sans SC:style=Bold", "Noto Sans CJK SC:style=Bold"},
     {"Source Han Sans", "Noto Sans CJK"},
     "DejaVu Sans:style=Bold"},
    {"SourceHanSerif-Regular",
     {"Source Han Serif SC:style=Regular", "Noto Serif CJK SC:style=Regular"},
     {"Source Han Serif", "Noto Serif CJK"},
     "DejaVu Serif:style=Book"},
    {"SourceHanSerif-Bold",
     {"Source Han Serif SC:style=Bold", "Noto Serif CJK SC:style=Bold"},
     {"Source Han Serif", "Noto Serif CJK"},
     "DejaVu Serif:style=Bold"},
};
#define N_FONTS (sizeof(font_map) / sizeof(font_map[0]))

static pthread_mutex_t font_lock = PTHREAD_MUTEX_INITIALIZER;
static char *font_cache[N_FONTS]; /* resolved once for the life of the process */
static bool font_fallback_logged;

/* The file fontconfig picks for `pattern`, when its family starts with `family` (NULL: any);
 * a new string. */
static char *fc_file(const char *pattern, const char *family)
{
    char *path = NULL;
    FcPattern *pat = FcNameParse((const FcChar8 *)pattern);
    if (!pat)
        return NULL;
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *match = FcFontMatch(NULL, pat, &res);
    FcChar8 *fam = NULL, *file = NULL;
    if (match && FcPatternGetString(match, FC_FAMILY, 0, &fam) == FcResultMatch &&
        FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch &&
        (!family || mc_str_starts_with((const char *)fam, family)))
        path = mc_strdup((const char *)file);
    if (match)
        FcPatternDestroy(match);
    FcPatternDestroy(pat);
    return path;
}

/* The font file for a FontName (borrowed: cached for the process's life), NULL: none. */
static const char *font_file(const char *name)
{
    size_t k = 0;
    while (k + 1 < N_FONTS && strcmp(font_map[k].name, name) != 0)
        k++;
    pthread_mutex_lock(&font_lock);
    if (!font_cache[k] && FcInit()) {
        const struct font_map *m = &font_map[k];
        for (int i = 0; i < 2 && !font_cache[k]; i++)
            font_cache[k] = fc_file(m->want[i], m->family[i]);
        if (!font_cache[k]) {
            font_cache[k] = fc_file(m->fallback, "DejaVu");
            if (!font_cache[k])
                font_cache[k] = fc_file(m->fallback, NULL);
            if (font_cache[k] && !font_fallback_logged) {
                font_fallback_logged = true;
                mc_log(MC_LOG_WARN,
                       "text watermarks: no Source Han / Noto CJK font is installed (Debian "
                       "package fonts-noto-cjk); using %s, which has no CJK glyphs",
                       font_cache[k]);
            }
        }
    }
    const char *path = font_cache[k];
    pthread_mutex_unlock(&font_lock);
    return path;
}

/* ---- planning ---- */

static int dim_px(mc_dim d, int ref, int dflt)
{
    if (d.kind == MC_DIM_PIXELS)
        return (int)d.value;
    if (d.kind == MC_DIM_RATIO)
        return (int)lround(d.value * ref);
    return dflt;
}

/* Top-left corner of a w x h box placed `dx`, `dy` from the `pos` corner of a W x H picture. */
static void place(enum mc_refer_pos pos, int dx, int dy, int w, int h, int W, int H, int *x, int *y)
{
    bool right = pos == MC_REFER_TOPRIGHT || pos == MC_REFER_BOTTOMRIGHT;
    bool bottom = pos == MC_REFER_BOTTOMRIGHT || pos == MC_REFER_BOTTOMLEFT;
    *x = right ? W - w - dx : dx;
    *y = bottom ? H - h - dy : dy;
}

static int check_color(mc_engine *e, const char *field, const char *key, const char *color)
{
    uint8_t rgba[4];
    if (av_parse_color(rgba, color, -1, NULL) >= 0)
        return 0;
    return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                      "%s.%s: \"%s\" is not a colour this service knows; allowed: #RRGGBB or a "
                      "colour name such as red, white, black",
                      field, key, color);
}

static bool watermark_format_ok(const AVFormatContext *fmt, int vst)
{
    const char *n = fmt->iformat->name;
    enum AVCodecID id = fmt->streams[vst]->codecpar->codec_id;
    if (!strcmp(n, "png_pipe") || !strcmp(n, "apng"))
        return true;
    if (!strcmp(n, "image2"))
        return id == AV_CODEC_ID_PNG;
    return strstr(n, "mov") != NULL; /* "mov,mp4,m4a,3gp,3g2,mj2" */
}

/* Resolve, open and measure a file watermark; fills r. */
static int plan_file(mc_engine *e, const char *field, const mc_watermark *m, int W, int H,
                     mc_wm_res *r)
{
    char ufield[160];
    snprintf(ufield, sizeof(ufield), "%s.URI", field);
    mc_uri uri;
    int rc = mc_uri_resolve(e->opts->store, m->uri, e->opts->uri_flags, ufield, &uri, e->err);
    if (rc < 0)
        return rc;
    r->path = uri.path;
    uri.path = NULL;
    mc_io_guard guard = {.root = uri.scheme == MC_URI_OSS ? mc_store_root(e->opts->store) : NULL};
    mc_uri_clear(&uri);
    struct stat sb;
    if (stat(r->path, &sb) < 0 || S_ISDIR(sb.st_mode))
        return mc_err_set(e->err, -ENOENT, "ResourceNotFound", "%s: %s does not exist", ufield,
                          m->uri);
    AVFormatContext *fmt = NULL;
    rc = mc_open_demuxer(&fmt, r->path, &guard);
    int vst = rc < 0 ? -1 : av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (rc < 0 || vst < 0 || !watermark_format_ok(fmt, vst) ||
        fmt->streams[vst]->codecpar->width <= 0 || fmt->streams[vst]->codecpar->height <= 0) {
        avformat_close_input(&fmt);
        if (rc == AVERROR(ENOMEM))
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: %s cannot be used as a watermark; allowed: a PNG picture or a "
                          "MOV video",
                          ufield, m->uri);
    }
    int fw = fmt->streams[vst]->codecpar->width, fh = fmt->streams[vst]->codecpar->height;
    r->still =
        strcmp(fmt->iformat->name, "png_pipe") == 0 || strcmp(fmt->iformat->name, "image2") == 0;
    const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get(fmt->streams[vst]->codecpar->format);
    r->opaque = pd && !(pd->flags & (AV_PIX_FMT_FLAG_ALPHA | AV_PIX_FMT_FLAG_PAL));
    avformat_close_input(&fmt);
    /* One side given keeps the aspect ratio; neither keeps the file's size. */
    int w = dim_px(m->width, W, 0), h = dim_px(m->height, H, 0);
    if (w && !h)
        h = (int)lround((double)w * fh / fw);
    else if (h && !w)
        w = (int)lround((double)h * fw / fh);
    else if (!w && !h)
        w = fw, h = fh;
    r->w = FFMAX(1, w);
    r->h = FFMAX(1, h);
    return 0;
}

static int plan_delogo(mc_engine *e, const char *field, const mc_delogo *d, int W, int H,
                       mc_rect *out)
{
    int w = dim_px(d->width, W, W), h = dim_px(d->height, H, H);
    int x, y;
    place(d->refer_pos, dim_px(d->dx, W, 0), dim_px(d->dy, H, 0), w, h, W, H, &x, &y);
    int x1 = FFMIN(W, x + w), y1 = FFMIN(H, y + h);
    x = FFMAX(0, x);
    y = FFMAX(0, y);
    /* Even corners: 4:2:0 chroma is cut and pasted in 2x2 blocks. */
    x &= ~1;
    y &= ~1;
    x1 = FFMIN(W, (x1 + 1) & ~1);
    y1 = FFMIN(H, (y1 + 1) & ~1);
    if (x1 - x < 2 || y1 - y < 2)
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: the rectangle (ReferPos, Dx, Dy, Width, Height) lies outside the "
                          "%dx%d output picture; allowed: a rectangle that overlaps it",
                          field, W, H);
    *out = (mc_rect){x, y, x1 - x, y1 - y};
    return 0;
}

/* ---- BurnSubtitle ---- */

/* Demuxers that open further files by themselves: the subtitles filter reads the file
 * without the store's confinement, so these are not taken as subtitle files. */
static bool opens_others(const AVFormatContext *fmt)
{
    static const char *const names[] = {"hls", "dash", "concat", "image2", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcmp(fmt->iformat->name, names[i]) == 0)
            return true;
    return false;
}

static int plan_burn_file(mc_engine *e, const mc_output *out, mc_overlays *ov)
{
    const char *src = out->t->video.burn_uri;
    char field[160];
    snprintf(field, sizeof(field), "%s.Video.FilterVideo.BurnSubtitle.URI", out->field);
    mc_uri uri;
    int rc = mc_uri_resolve(e->opts->store, src, e->opts->uri_flags, field, &uri, e->err);
    if (rc < 0)
        return rc;
    ov->burn = uri.path;
    uri.path = NULL;
    mc_io_guard guard = {.root = uri.scheme == MC_URI_OSS ? mc_store_root(e->opts->store) : NULL};
    mc_uri_clear(&uri);
    struct stat sb;
    if (stat(ov->burn, &sb) < 0 || S_ISDIR(sb.st_mode))
        return mc_err_set(e->err, -ENOENT, "ResourceNotFound", "%s: %s does not exist", field,
                          src);
    AVFormatContext *fmt = NULL;
    rc = mc_open_demuxer(&fmt, ov->burn, &guard);
    int st = rc < 0 ? -1 : av_find_best_stream(fmt, AVMEDIA_TYPE_SUBTITLE, -1, -1, NULL, 0);
    bool ok = st >= 0 && !opens_others(fmt) &&
              fmt->streams[st]->codecpar->codec_id != AV_CODEC_ID_NONE;
    avformat_close_input(&fmt);
    if (rc == AVERROR(ENOMEM))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    if (!ok)
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: %s is not a subtitle file; allowed: srt, vtt or ass files (or a "
                          "media file with a subtitle stream)",
                          field, src);
    return 0;
}

/* BurnSubtitle.Stream must be a subtitle stream of every source (each burns its own). */
static int plan_burn_stream(mc_engine *e, const mc_output *out, mc_overlays *ov)
{
    int want = out->t->video.burn_stream;
    for (size_t i = 0; i < e->n_inputs; i++) {
        const mc_input *in = &e->inputs[i];
        bool ok = want >= 0 && (unsigned)want < in->fmt->nb_streams &&
                  in->fmt->streams[want]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE &&
                  in->fmt->streams[want]->codecpar->codec_id != AV_CODEC_ID_NONE;
        char src[32];
        if (ok && opens_others(in->fmt))
            /* libass reopens the source itself, without the store's confinement */
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.Video.FilterVideo.BurnSubtitle.Stream: %s (%s) is a playlist "
                              "or list of other files, which the subtitle renderer cannot open "
                              "safely; allowed: a single media file, or BurnSubtitle.URI",
                              out->field, mc_input_field(in, src, sizeof(src)), in->uri);
        if (ok)
            continue;
        char allowed[128] = "";
        for (unsigned k = 0; k < in->fmt->nb_streams && strlen(allowed) < 100; k++)
            if (in->fmt->streams[k]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE)
                snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%u",
                         allowed[0] ? ", " : "", k);
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s.Video.FilterVideo.BurnSubtitle.Stream: %d is not a subtitle stream "
                          "of %s (%s); allowed: %s",
                          out->field, want, mc_input_field(in, src, sizeof(src)), in->uri,
                          allowed[0] ? allowed : "none, the source has no subtitle stream");
    }
    ov->burn_stream = want;
    return 0;
}

int mc_overlay_plan(mc_engine *e, mc_output *out)
{
    mc_ostream *os = out->v;
    const mc_target_video *v = &out->t->video;
    /* FilterVideo only exists for transcoded video: the job model does not read it when the
     * video is copied (spec 1.6). */
    if (!os || os->copy || !out->t->has_video ||
        (!v->n_watermarks && !v->n_delogos && !v->has_burn_subtitle))
        return 0;
    int W = os->v.width, H = os->v.height;
    mc_overlays *ov = calloc(1, sizeof(*ov));
    if (!ov)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    ov->wm = calloc(v->n_watermarks + 1, sizeof(*ov->wm));
    ov->n_wm = v->n_watermarks;
    ov->logo = calloc(v->n_delogos + 1, sizeof(*ov->logo));
    os->ovl = ov; /* owned by the ostream from here on, also on failure */
    ov->burn_stream = -1;
    if (!ov->wm || !ov->logo)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    if (v->has_burn_subtitle) {
        int brc = v->burn_uri ? plan_burn_file(e, out, ov) : plan_burn_stream(e, out, ov);
        if (brc < 0)
            return brc;
    }
    char field[128];
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < v->n_watermarks; i++) {
        const mc_watermark *m = &v->watermarks[i];
        snprintf(field, sizeof(field), "%s.Video.FilterVideo.Watermarks[%zu]", out->field, i);
        if (m->type == MC_WATERMARK_FILE) {
            rc = plan_file(e, field, m, W, H, &ov->wm[i]);
            continue;
        }
        rc = check_color(e, field, "FontColor", m->font_color);
        if (rc >= 0)
            rc = check_color(e, field, "BorderColor", m->border_color);
        const char *font = rc >= 0 ? font_file(m->font_name) : NULL;
        if (rc >= 0 && !font)
            rc = mc_err_set(e->err, -ENOENT, "InternalError",
                            "%s.FontName: no font for %s is installed (fonts-noto-cjk or "
                            "fonts-dejavu-core)",
                            field, m->font_name);
        if (rc >= 0 && !(ov->wm[i].path = mc_strdup(font)))
            rc = mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; rc >= 0 && i < v->n_delogos; i++) {
        snprintf(field, sizeof(field), "%s.Video.FilterVideo.Delogos[%zu]", out->field, i);
        rc = plan_delogo(e, field, &v->delogos[i], W, H, &ov->logo[i]);
    }
    return rc;
}

bool mc_overlay_wanted(const mc_ostream *os)
{
    return os->ovl != NULL;
}

/* ---- the filters ---- */

/* `s` as one option value inside a graph description: quoted for the option parser, then
 * backslash-escaped for the graph parser (FFmpeg's filters documentation, "Notes on
 * filtergraph escaping"). */
static int put_quoted(mc_buf *b, const char *s)
{
    char *q = NULL, *g = NULL;
    int rc = av_escape(&q, s, NULL, AV_ESCAPE_MODE_QUOTE, 0);
    if (rc >= 0)
        rc = av_escape(&g, q, "[],;", AV_ESCAPE_MODE_BACKSLASH, 0);
    if (rc >= 0)
        rc = mc_buf_puts(b, g);
    av_free(q);
    av_free(g);
    return rc < 0 ? rc : 0;
}

/* ":enable=..." for a time range on the output timeline; `t0`: output time of the chain's
 * t = 0. Nothing when the range is the whole output. */
static void put_enable(mc_buf *b, double start, double duration, double t0)
{
    if (start <= 0 && duration <= 0)
        return;
    if (duration <= 0)
        mc_buf_printf(b, ":enable=gte(t\\,%.6f)", start - t0);
    else
        mc_buf_printf(b, ":enable=between(t\\,%.6f\\,%.6f)", start - t0, start + duration - t0);
}

/* "0xRRGGBB" for "#RRGGBB" (a '#' reads as a comment in some places), names as they are. */
static void put_color(mc_buf *b, const char *c, double alpha)
{
    mc_buf_printf(b, "%s%s@%.3f", c[0] == '#' ? "0x" : "", c[0] == '#' ? c + 1 : c, alpha);
}

static int text_filter(mc_buf *b, const mc_watermark *m, const mc_wm_res *r, int W, int H,
                       double t0)
{
    mc_buf_puts(b, ",drawtext=expansion=none:fontfile=");
    int rc = put_quoted(b, r->path);
    if (rc >= 0) {
        mc_buf_puts(b, ":text=");
        rc = put_quoted(b, m->content);
    }
    if (rc < 0)
        return rc;
    int dx = dim_px(m->dx, W, 0), dy = dim_px(m->dy, H, 0);
    bool right = m->refer_pos == MC_REFER_TOPRIGHT || m->refer_pos == MC_REFER_BOTTOMRIGHT;
    bool bottom = m->refer_pos == MC_REFER_BOTTOMRIGHT || m->refer_pos == MC_REFER_BOTTOMLEFT;
    mc_buf_printf(b, ":fontsize=%d:fontcolor=", m->font_size);
    put_color(b, m->font_color, m->font_alpha);
    if (m->border_width > 0) {
        mc_buf_printf(b, ":borderw=%d:bordercolor=", m->border_width);
        put_color(b, m->border_color, m->font_alpha);
    }
    mc_buf_printf(b, ":x=%s%d:y=%s%d", right ? "w-tw-" : "", dx, bottom ? "h-th-" : "", dy);
    put_enable(b, m->start_time, m->duration, t0);
    return 0;
}

static int file_filter(mc_buf *b, const mc_watermark *m, const mc_wm_res *r, size_t i, int W, int H,
                       const char *ofmt, double t0)
{
    int x, y;
    place(m->refer_pos, dim_px(m->dx, W, 0), dim_px(m->dy, H, 0), r->w, r->h, W, H, &x, &y);
    mc_buf_printf(b, "[mc_wm%zu_m];movie=filename=", i);
    int rc = put_quoted(b, r->path);
    if (rc < 0)
        return rc;
    /* An animation plays once from when it appears, then its last frame stays (the movie
     * source's own looping restarts timestamps, which the overlay would wait out forever);
     * a still picture is one frame that the overlay repeats. */
    mc_buf_printf(b,
                  ":loop=1,setpts=PTS-STARTPTS+%.6f/TB,scale=%d:%d[mc_wm%zu_w];"
                  "[mc_wm%zu_m][mc_wm%zu_w]overlay=x=%d:y=%d:format=%s:eof_action=repeat",
                  FFMAX(0, m->start_time - t0), r->w, r->h, i, i, i, x, y, ofmt);
    put_enable(b, m->start_time, m->duration, t0);
    return 0;
}

/* The overlay filter's working format for the encoder's pixel format: "auto" would blend
 * an RGBA picture in RGB, converting the whole main picture there and back (lossy). */
static const char *overlay_format(const mc_ostream *os)
{
    enum AVPixelFormat f = os->v.hw_enc ? os->v.hw_sw_fmt : os->v.pix_fmt;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f);
    if (!d || (d->flags & AV_PIX_FMT_FLAG_RGB) || d->nb_components < 3)
        return "auto";
    bool deep = d->comp[0].depth > 8;
    if (d->log2_chroma_w == 1 && d->log2_chroma_h == 1)
        return deep ? "yuv420p10" : "yuv420";
    if (d->log2_chroma_w == 1 && d->log2_chroma_h == 0)
        return deep ? "yuv422p10" : "yuv422";
    return deep ? "auto" : "yuv444";
}

static void delogo_filter(mc_buf *b, const mc_delogo *d, const mc_rect *r, size_t i,
                          const char *ofmt, double t0)
{
    int cw = FFMAX(1, (r->w + MC_MOSAIC_CELL / 2) / MC_MOSAIC_CELL);
    int ch = FFMAX(1, (r->h + MC_MOSAIC_CELL / 2) / MC_MOSAIC_CELL);
    mc_buf_printf(b,
                  "[mc_dl%zu_i];[mc_dl%zu_i]split[mc_dl%zu_m][mc_dl%zu_c];"
                  "[mc_dl%zu_c]crop=%d:%d:%d:%d:exact=1,scale=%d:%d:flags=area,"
                  "scale=%d:%d:flags=neighbor[mc_dl%zu_p];"
                  "[mc_dl%zu_m][mc_dl%zu_p]overlay=x=%d:y=%d:format=%s",
                  i, i, i, i, i, r->w, r->h, r->x, r->y, cw, ch, r->w, r->h, i, i, i, r->x, r->y,
                  ofmt);
    put_enable(b, d->start_time, d->duration, t0);
}

/* The subtitles filter (libass) draws the cues shown at each frame's time; the frames are
 * moved to the subtitle's own timeline around it (`shift` seconds: the output time of the
 * chain's t = 0 for a file, the source's file time for its own stream) and back, by the
 * same whole number of ticks. */
static int burn_filter(mc_buf *b, const mc_overlays *ov, const mc_input *in, double t0)
{
    const char *path = ov->burn ? ov->burn : in->path;
    double shift = t0;
    int si = -1;
    if (!ov->burn) {
        shift = (double)(in->t0 + in->win_start) / AV_TIME_BASE;
        si = 0; /* the filter counts subtitle streams only */
        for (int k = 0; k < ov->burn_stream; k++)
            si += in->fmt->streams[k]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE;
    }
    char ticks[64] = "";
    if (shift != 0)
        snprintf(ticks, sizeof(ticks), "floor(%.6f/TB+0.5)", shift);
    if (ticks[0])
        mc_buf_printf(b, ",setpts=PTS+%s", ticks);
    mc_buf_puts(b, ",subtitles=filename=");
    int rc = put_quoted(b, path);
    if (rc < 0)
        return rc;
    if (si >= 0)
        mc_buf_printf(b, ":stream_index=%d", si);
    if (ticks[0])
        mc_buf_printf(b, ",setpts=PTS-%s", ticks);
    return 0;
}

int mc_overlay_filters(const mc_ostream *os, const mc_input *in, double t0, mc_buf *b)
{
    const mc_overlays *ov = os->ovl;
    if (!ov)
        return 0;
    const mc_target_video *v = &os->out->t->video;
    int W = os->v.width, H = os->v.height;
    /* The main picture in the encoder's format from here on: left to negotiation, the
     * scaler before an overlay with alpha would make yuva420p and round the luma
     * differently from a chain without watermark. */
    mc_buf_printf(b, ",format=pix_fmts=%s",
                  av_get_pix_fmt_name(os->v.hw_enc ? os->v.hw_sw_fmt : os->v.pix_fmt));
    /* Logos are hidden first, so that a watermark put where a logo was stays sharp. */
    for (size_t i = 0; i < v->n_delogos; i++)
        delogo_filter(b, &v->delogos[i], &ov->logo[i], i, overlay_format(os), t0);
    for (size_t i = 0; i < v->n_watermarks; i++) {
        const mc_watermark *m = &v->watermarks[i];
        int rc = 0;
        if (m->type == MC_WATERMARK_FILE)
            rc = file_filter(b, m, &ov->wm[i], i, W, H, overlay_format(os), t0);
        else if (m->content[0])
            rc = text_filter(b, m, &ov->wm[i], W, H, t0);
        if (rc < 0)
            return rc;
    }
    /* Subtitles over everything else, as a player shows them. */
    if (ov->burn || ov->burn_stream >= 0)
        return burn_filter(b, ov, in, t0);
    return 0;
}

/* ---- on the device ---- */

/* Where watermark i of `os` goes, and whether it lies inside the picture. */
static bool wm_place(const mc_ostream *os, size_t i, int *x, int *y)
{
    const mc_watermark *m = &os->out->t->video.watermarks[i];
    const mc_wm_res *r = &os->ovl->wm[i];
    int W = os->v.width, H = os->v.height;
    place(m->refer_pos, dim_px(m->dx, W, 0), dim_px(m->dy, H, 0), r->w, r->h, W, H, x, y);
    return *x >= 0 && *y >= 0 && *x + r->w <= W && *y + r->h <= H;
}

bool mc_overlay_device_ok(const mc_ostream *os, bool alpha)
{
    const mc_overlays *ov = os->ovl;
    const mc_target_video *v = &os->out->t->video;
    if (!ov || !ov->n_wm || v->n_delogos || ov->burn || ov->burn_stream >= 0)
        return false;
    for (size_t i = 0; i < ov->n_wm; i++) {
        const mc_watermark *m = &v->watermarks[i];
        int x, y;
        if (m->type != MC_WATERMARK_FILE || !ov->wm[i].still || (!alpha && !ov->wm[i].opaque) ||
            m->start_time > 0 || m->duration > 0 || !wm_place(os, i, &x, &y))
            return false;
    }
    return true;
}

int mc_overlay_device_filters(const mc_ostream *os, const char *filter, const char *fmt, mc_buf *b)
{
    const mc_overlays *ov = os->ovl;
    for (size_t i = 0; i < ov->n_wm; i++) {
        int x, y;
        wm_place(os, i, &x, &y);
        mc_buf_printf(b, "[mc_wm%zu_m];movie=filename=", i);
        int rc = put_quoted(b, ov->wm[i].path);
        if (rc < 0)
            return rc;
        /* One picture, uploaded once; the overlay repeats it to the end. */
        mc_buf_printf(b,
                      ",scale=%d:%d,format=%s,hwupload[mc_wm%zu_w];"
                      "[mc_wm%zu_m][mc_wm%zu_w]%s=x=%d:y=%d",
                      ov->wm[i].w, ov->wm[i].h, fmt, i, i, i, filter, x, y);
    }
    return (int)ov->n_wm;
}
