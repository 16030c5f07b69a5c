/*
 * Image outputs: taken frames become pictures of the output's size (a small libavfilter
 * chain: scale, crop or pad, rotate, convert), and pictures become files:
 * - snapshots: one jpg/png (FFmpeg's encoders) or webp (libwebp) file per picture;
 * - sprites: pictures tiled row by row onto sheets of TileWidth x TileHeight, each sheet a
 *   file, plus a WebVTT index whose cues map time ranges to "sheet#xywh=x,y,w,h" (what
 *   players use for scrubbing previews);
 * - animations: every picture a frame of one GIF or WebP file (src/imgenc).
 *
 * File names (spec 1.10, 5.3): a URI with {index} numbers the files from 1; a URI without
 * an extension gets "_0_<index>.<ext>" for snapshots and sheets ("_<stream>_<index>", as
 * OSS does) and ".<ext>" for an animation; a URI with an extension and no {index} names one
 * file, so each picture replaces the one before and the last one stays.
 * The sprite index is named after the sheets' URI with {index} (and the separator before
 * it) left out and the extension replaced by ".vtt": sprite_{index}.jpg -> sprite.vtt.
 */
#include "image_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* ---- files ---- */

static mc_ifile *new_file_slot(mc_engine *e, mc_isink *s)
{
    if (s->n_files == s->cap_files) {
        size_t cap = s->cap_files ? 2 * s->cap_files : 8;
        mc_ifile *f = realloc(s->files, cap * sizeof(*f));
        if (!f) {
            mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
            return NULL;
        }
        s->files = f;
        s->cap_files = cap;
    }
    mc_ifile *f = &s->files[s->n_files++];
    memset(f, 0, sizeof(*f));
    return f;
}

/* Resolve `uri` and start its temporary file in a new slot (or in the last one, when the
 * name is the same: the newer picture replaces the older). */
static int open_file(mc_engine *e, mc_isink *s, char *uri, const char *ext, mc_ifile **out)
{
    char field[96];
    snprintf(field, sizeof(field), "%s.URI", s->field);
    mc_uri dst;
    int rc = mc_uri_resolve(e->opts->store, uri, e->opts->uri_flags, field, &dst, e->err);
    if (rc < 0) {
        free(uri);
        return rc;
    }
    mc_ifile *f = NULL;
    if (s->n_files && strcmp(s->files[s->n_files - 1].uri, uri) == 0 &&
        strcmp(s->files[s->n_files - 1].ext, ext) == 0) {
        f = &s->files[s->n_files - 1];
        mc_atomic_abort(&f->file);
        free(f->uri);
        memset(f, 0, sizeof(*f));
    } else if (!(f = new_file_slot(e, s))) {
        rc = -ENOMEM;
        goto out;
    }
    f->uri = uri;
    f->ext = ext;
    uri = NULL;
    rc = mc_atomic_open(dst.path, &f->file, e->err);
    if (rc >= 0)
        *out = f;
out:
    free(uri);
    mc_uri_clear(&dst);
    return rc;
}

/* The URI of picture (or sheet) number `index`, counting from 1. */
static int picture_uri(mc_engine *e, mc_isink *s, int64_t index, char **out)
{
    char field[96], res[32];
    snprintf(field, sizeof(field), "%s.URI", s->field);
    snprintf(res, sizeof(res), "%dx%d", s->width, s->height);
    char *uri = NULL;
    int rc = mc_expand_uri(e, s->img->uri, field, index, s->ext, res, &uri);
    if (rc < 0)
        return rc;
    if (!mc_uri_has_extension(uri)) {
        char *u = s->img->kind == MC_IMAGE_ANIMATION
                      ? mc_asprintf("%s.%s", uri, s->ext)
                      : mc_asprintf("%s_0_%" PRId64 ".%s", uri, index, s->ext);
        free(uri);
        if (!(uri = u))
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    *out = uri;
    return 0;
}

static int open_picture(mc_engine *e, mc_isink *s, int64_t index, mc_ifile **out)
{
    char *uri = NULL;
    int rc = picture_uri(e, s, index, &uri);
    return rc < 0 ? rc : open_file(e, s, uri, s->ext, out);
}

/* The sprite index's URI: the sheets' template without {index}, ending in ".vtt". */
static int index_uri(mc_engine *e, mc_isink *s, char **out)
{
    mc_buf b = {0};
    const char *t = s->img->uri;
    for (const char *p = t; *p;) {
        if (strncmp(p, "{{", 2) == 0 || strncmp(p, "}}", 2) == 0) {
            mc_buf_append(&b, p, 2);
            p += 2;
        } else if (strncmp(p, "{index}", 7) == 0) {
            if (b.len && strchr("_-.", b.data[b.len - 1]))
                b.data[--b.len] = '\0';
            p += 7;
        } else {
            mc_buf_append(&b, p++, 1);
        }
    }
    char *tmpl = mc_buf_steal(&b);
    if (!tmpl)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    char field[96], *uri = NULL;
    snprintf(field, sizeof(field), "%s.URI", s->field);
    int rc = mc_expand_uri(e, tmpl, field, -1, "vtt", NULL, &uri);
    free(tmpl);
    if (rc < 0)
        return rc;
    /* Drop the extension ("{index}.jpg" leaves just ".jpg"); an empty name is "sprite". */
    char *base = strrchr(uri, '/');
    base = base ? base + 1 : uri;
    char *dot = strrchr(base, '.');
    if (dot && (mc_uri_has_extension(uri) || dot == base))
        *dot = '\0';
    char *u = mc_asprintf("%s%s.vtt", uri, *base ? "" : "sprite");
    free(uri);
    if (!u)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    *out = u;
    return 0;
}

static int write_bytes(mc_engine *e, const mc_isink *s, const mc_ifile *f, const void *data,
                       size_t n)
{
    const char *path = mc_atomic_tmp_path(f->file);
    FILE *fp = fopen(path, "wb");
    int rc = 0;
    if (!fp || fwrite(data, 1, n, fp) != n)
        rc = -errno;
    if (fp && fclose(fp) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        return mc_err_set(e->err, rc ? rc : -EIO, "InternalError", "%s: writing %s failed: %s",
                          s->field, f->uri, strerror(-rc));
    return 0;
}

/* ---- pictures ---- */

static void free_chain(mc_isink *s)
{
    avfilter_graph_free(&s->graph);
    s->src = s->sink = NULL;
}

/* A chain for frames like `f` shown rotated by `rot` degrees (0 for a frame already shaped on
 * the device: it only converts). */
static int build_chain(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f, int rot)
{
    AVRational tb = in->fmt->streams[in->vst]->time_base;
    AVRational sar = f->sample_aspect_ratio.num > 0 ? f->sample_aspect_ratio : (AVRational){1, 1};
    char args[256];
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             f->width, f->height, f->format, tb.num, tb.den, sar.num, sar.den);
    mc_buf b = {0};
    mc_buf_puts(&b, "null");
    mc_geometry_filters(&b, f, rot, s->width, s->height, (AVRational){1, 1}, s->type, NULL);
    mc_buf_printf(&b, ",format=pix_fmts=%s", av_get_pix_fmt_name(s->pix_fmt));
    char *desc = mc_buf_steal(&b);
    AVFilterInOut *outs = avfilter_inout_alloc(), *ins = avfilter_inout_alloc();
    int rc = AVERROR(ENOMEM);
    free_chain(s);
    if (!desc || !outs || !ins || !(s->graph = avfilter_graph_alloc()))
        goto out;
    /* One picture at a time: threads would only add start-up cost. */
    s->graph->nb_threads = 1;
    rc = avfilter_graph_create_filter(&s->src, avfilter_get_by_name("buffer"), "src", args, NULL,
                                      s->graph);
    if (rc >= 0)
        rc = avfilter_graph_create_filter(&s->sink, avfilter_get_by_name("buffersink"), "sink",
                                          NULL, NULL, s->graph);
    if (rc < 0)
        goto out;
    outs->name = av_strdup("in");
    outs->filter_ctx = s->src;
    ins->name = av_strdup("out");
    ins->filter_ctx = s->sink;
    rc = !outs->name || !ins->name ? AVERROR(ENOMEM)
                                   : avfilter_graph_parse_ptr(s->graph, desc, &ins, &outs, NULL);
    if (rc >= 0)
        rc = avfilter_graph_config(s->graph, NULL);
    if (rc >= 0) {
        s->cfg_w = f->width;
        s->cfg_h = f->height;
        s->cfg_fmt = f->format;
        s->cfg_sar = f->sample_aspect_ratio;
        s->cfg_rot = rot;
        mc_log(MC_LOG_DEBUG, "%s picture chain: %s", s->field, desc);
    }
out:
    if (rc < 0) {
        mc_media_error(e, rc, "%s: cannot build the picture chain \"%s\"", s->field,
                       desc ? desc : "");
        free_chain(s);
    }
    free(desc);
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    return rc;
}

/* The picture of frame `f`, in s->pic. */
static int make_picture(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f,
                        bool shaped)
{
    int rc;
    int rot = shaped ? 0 : in->rotation;
    /* A new input or new frame parameters (a mid-stream resolution change): a new chain. */
    if (!s->graph || f->width != s->cfg_w || f->height != s->cfg_h || f->format != s->cfg_fmt ||
        av_cmp_q(f->sample_aspect_ratio, s->cfg_sar) != 0 || s->cfg_input != in ||
        rot != s->cfg_rot) {
        if ((rc = build_chain(e, s, in, f, rot)) < 0)
            return rc;
        s->cfg_input = in;
    }
    if (!s->pic && !(s->pic = av_frame_alloc()))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    av_frame_unref(s->pic);
    rc = av_buffersrc_add_frame_flags(s->src, (AVFrame *)f, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (rc >= 0)
        rc = av_buffersink_get_frame(s->sink, s->pic);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: making a %dx%d picture failed", s->field, s->width,
                              s->height);
    return 0;
}

/* ---- stills ---- */

static int quality_or(const mc_isink *s, int dflt)
{
    return s->img->quality > 0 ? s->img->quality : dflt;
}

static int open_still_encoder(mc_engine *e, mc_isink *s, int w, int h)
{
    if (s->enc && s->enc->width == w && s->enc->height == h)
        return 0;
    avcodec_free_context(&s->enc);
    bool jpg = s->img->format == MC_IMAGE_JPG;
    const AVCodec *codec = avcodec_find_encoder(jpg ? AV_CODEC_ID_MJPEG : AV_CODEC_ID_PNG);
    if (!codec || !(s->enc = avcodec_alloc_context3(codec)))
        return mc_err_set(e->err, codec ? -ENOMEM : MC_EUNSUPPORTED, NULL,
                          "%s: no %s encoder in this build", s->field, s->ext);
    AVCodecContext *enc = s->enc;
    enc->width = w;
    enc->height = h;
    enc->time_base = (AVRational){1, 25};
    enc->pix_fmt = jpg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_RGB24;
    if (jpg) {
        /* Quality 100 -> qscale 1 (best), 1 -> 31; the default 90 is qscale 4. */
        int q = 1 + (100 - quality_or(s, 90)) * 30 / 99;
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * q;
        enc->color_range = AVCOL_RANGE_JPEG;
    }
    int rc = avcodec_open2(enc, codec, NULL);
    if (rc < 0) {
        avcodec_free_context(&s->enc);
        return mc_media_error(e, rc, "%s: cannot open the %s encoder for %dx%d", s->field,
                              codec->name, w, h);
    }
    if (!s->pkt && !(s->pkt = av_packet_alloc()))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    return 0;
}

/* Encode one picture in the encoder's format into file `f`. */
static int encode_still(mc_engine *e, mc_isink *s, AVFrame *pic, const mc_ifile *f)
{
    int rc = open_still_encoder(e, s, pic->width, pic->height);
    if (rc < 0)
        return rc;
    pic->quality = s->enc->global_quality;
    pic->pts = AV_NOPTS_VALUE;
    pic->pict_type = AV_PICTURE_TYPE_NONE;
    rc = avcodec_send_frame(s->enc, pic);
    if (rc >= 0)
        rc = avcodec_receive_packet(s->enc, s->pkt);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: encoding %s failed", s->field, f->uri);
    rc = write_bytes(e, s, f, s->pkt->data, (size_t)s->pkt->size);
    av_packet_unref(s->pkt);
    return rc;
}

/* Write an RGBA picture (a sprite sheet, a webp snapshot) as the sink's format. */
static int write_rgba(mc_engine *e, mc_isink *s, const uint8_t *rgba, int stride, int w, int h,
                      const mc_ifile *f)
{
    if (s->img->format == MC_IMAGE_WEBP)
        return mc_webp_write(mc_atomic_tmp_path(f->file), rgba, (size_t)stride, w, h,
                             s->img->quality, s->img->lossless, e->err);
    bool jpg = s->img->format == MC_IMAGE_JPG;
    enum AVPixelFormat fmt = jpg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_RGB24;
    if (!s->conv && !(s->conv = av_frame_alloc()))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    if (s->conv->width != w || s->conv->height != h) {
        av_frame_unref(s->conv);
        s->conv->width = w;
        s->conv->height = h;
        s->conv->format = fmt;
        if (av_frame_get_buffer(s->conv, 0) < 0)
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    s->conv->color_range = jpg ? AVCOL_RANGE_JPEG : AVCOL_RANGE_UNSPECIFIED;
    s->conv_sws = sws_getCachedContext(s->conv_sws, w, h, AV_PIX_FMT_RGBA, w, h, fmt, SWS_BICUBIC,
                                       NULL, NULL, NULL);
    if (!s->conv_sws)
        return mc_err_set(e->err, -ENOMEM, NULL, "%s: cannot convert pictures", s->field);
    const uint8_t *src[4] = {rgba};
    int src_ls[4] = {stride};
    sws_scale(s->conv_sws, src, src_ls, 0, h, s->conv->data, s->conv->linesize);
    return encode_still(e, s, s->conv, f);
}

static int write_snapshot(mc_engine *e, mc_isink *s, int64_t index)
{
    mc_ifile *f = NULL;
    int rc = open_picture(e, s, index + 1, &f);
    if (rc < 0)
        return rc;
    f->width = s->pic->width;
    f->height = s->pic->height;
    f->frames = 1;
    if (s->img->format == MC_IMAGE_WEBP)
        return mc_webp_write(mc_atomic_tmp_path(f->file), s->pic->data[0],
                             (size_t)s->pic->linesize[0], s->pic->width, s->pic->height,
                             s->img->quality, s->img->lossless, e->err);
    return encode_still(e, s, s->pic, f);
}

/* ---- sprites ---- */

static void vtt_time(mc_buf *b, int64_t t)
{
    int64_t ms = av_rescale(FFMAX(t, 0), 1000, AV_TIME_BASE);
    mc_buf_printf(b, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64, ms / 3600000,
                  ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

static void close_cue(mc_isink *s, int64_t end)
{
    if (!s->cue_open)
        return;
    if (!s->vtt.len)
        mc_buf_puts(&s->vtt, "WEBVTT\n");
    mc_buf_puts(&s->vtt, "\n");
    vtt_time(&s->vtt, s->cue_t);
    mc_buf_puts(&s->vtt, " --> ");
    vtt_time(&s->vtt, FFMAX(end, s->cue_t + AV_TIME_BASE / 1000));
    mc_buf_printf(&s->vtt, "\n%s\n", s->cue_ref);
    s->cue_open = false;
}

/* How a cue names a sheet: by its file name when the index sits in the same folder. */
static const char *sheet_ref(const char *sheet, const char *index)
{
    const char *sb = strrchr(sheet, '/'), *ib = strrchr(index, '/');
    if (sb && ib && sb - sheet == ib - index && strncmp(sheet, index, (size_t)(sb - sheet)) == 0)
        return sb + 1;
    return sheet;
}

static int flush_sheet(mc_engine *e, mc_isink *s)
{
    if (!s->on_sheet)
        return 0;
    const mc_image *img = s->img;
    /* The last sheet keeps only the rows it uses. */
    int rows = (s->on_sheet + img->tile_w - 1) / img->tile_w;
    int h = FFMIN(s->sheet_h, 2 * img->margin + rows * s->height + (rows - 1) * img->pad);
    mc_ifile *f = &s->files[s->n_files - 1];
    f->width = s->sheet_w;
    f->height = h;
    f->frames = s->on_sheet;
    s->on_sheet = 0;
    s->sheets++;
    return write_rgba(e, s, s->sheet, s->sheet_w * 4, s->sheet_w, h, f);
}

static int add_tile(mc_engine *e, mc_isink *s, int64_t t)
{
    const mc_image *img = s->img;
    int rc;
    if (!s->sheet) {
        s->sheet = malloc((size_t)s->sheet_w * s->sheet_h * 4);
        if (!s->sheet)
            return mc_err_set(e->err, -ENOMEM, NULL, "%s: no memory for a %dx%d sheet", s->field,
                              s->sheet_w, s->sheet_h);
    }
    mc_ifile *f = NULL;
    if (s->on_sheet == 0) {
        /* A new sheet: black, opaque, and its file named now so cues can point at it. */
        for (size_t i = 0; i < (size_t)s->sheet_w * s->sheet_h; i++)
            memcpy(s->sheet + 4 * i, "\0\0\0\xff", 4);
        if ((rc = open_picture(e, s, s->sheets + 1, &f)) < 0)
            return rc;
    }
    f = &s->files[s->n_files - 1];
    int col = s->on_sheet % img->tile_w, row = s->on_sheet / img->tile_w;
    int x = img->margin + col * (s->width + img->pad);
    int y = img->margin + row * (s->height + img->pad);
    for (int r = 0; r < s->height; r++)
        memcpy(s->sheet + ((size_t)(y + r) * s->sheet_w + x) * 4,
               s->pic->data[0] + (size_t)r * s->pic->linesize[0], (size_t)s->width * 4);

    if (!s->vtt_uri && (rc = index_uri(e, s, &s->vtt_uri)) < 0)
        return rc;
    close_cue(s, t);
    free(s->cue_ref);
    s->cue_ref = mc_asprintf("%s#xywh=%d,%d,%d,%d", sheet_ref(f->uri, s->vtt_uri), x, y, s->width,
                             s->height);
    if (!s->cue_ref)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    s->cue_open = true;
    s->cue_t = t;
    if (++s->on_sheet == img->tile_w * img->tile_h)
        return flush_sheet(e, s);
    return 0;
}

static int finish_sprites(mc_engine *e, mc_isink *s, int64_t end)
{
    int rc = flush_sheet(e, s);
    if (rc < 0 || !s->cue_open)
        return rc;
    close_cue(s, end);
    char *uri = s->vtt_uri;
    s->vtt_uri = NULL;
    mc_ifile *f = NULL;
    if ((rc = open_file(e, s, uri, "vtt", &f)) < 0)
        return rc;
    f->frames = s->taken;
    f->duration = (double)end / AV_TIME_BASE;
    return write_bytes(e, s, f, s->vtt.data, s->vtt.len);
}

/* ---- animations ---- */

static int add_frame(mc_engine *e, mc_isink *s, int64_t index)
{
    int rc;
    if (!s->anim) {
        mc_ifile *f = NULL;
        if ((rc = open_picture(e, s, 1, &f)) < 0)
            return rc;
        f->width = s->width;
        f->height = s->height;
        mc_anim_opts o = {
            .format = s->img->format == MC_IMAGE_GIF ? MC_ANIM_GIF : MC_ANIM_WEBP,
            .width = s->width,
            .height = s->height,
            .quality = s->img->quality,
            .lossless = s->img->lossless,
            .allow_mixed = s->img->allow_mixed,
        };
        if ((rc = mc_anim_open(mc_atomic_tmp_path(f->file), &o, &s->anim, e->err)) < 0)
            return rc;
    }
    rc = mc_anim_add(s->anim, s->pic->data[0], (size_t)s->pic->linesize[0], (double)index / s->fps,
                     e->err);
    return rc < 0 ? rc : 0;
}

static int finish_animation(mc_engine *e, mc_isink *s)
{
    if (!s->anim)
        return 0;
    double end = (double)s->taken / s->fps;
    int rc = mc_anim_finish(s->anim, end, e->err);
    if (rc < 0)
        return rc;
    mc_ifile *f = &s->files[s->n_files - 1];
    f->frames = mc_anim_frames(s->anim);
    f->duration = end;
    mc_anim_free(&s->anim);
    return 0;
}

/* ---- the sink's interface ---- */

int mc_isink_write(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f, int64_t t,
                   int64_t index, bool shaped)
{
    /* A frame shown across several sample points is taken for each: its picture is made
     * once. Each is queued as a new reference (a new AVBufferRef), so the frame is known by
     * its data. (A pool buffer reused by a later frame comes with another timestamp.) */
    int rc = 0;
    if (!s->pic || !s->pic->buf[0] || s->pic_src != f->data[0] || s->pic_pts != f->pts ||
        s->pic_input != in) {
        rc = make_picture(e, s, in, f, shaped);
        s->pic_src = rc >= 0 ? f->data[0] : NULL;
        s->pic_pts = f->pts;
        s->pic_input = in;
    }
    if (rc < 0)
        return rc;
    switch (s->img->kind) {
    case MC_IMAGE_SNAPSHOT:
        rc = write_snapshot(e, s, index);
        break;
    case MC_IMAGE_SPRITE:
        rc = add_tile(e, s, t);
        break;
    case MC_IMAGE_ANIMATION:
        rc = add_frame(e, s, index);
        break;
    }
    return rc;
}

int mc_isink_finish(mc_engine *e, mc_isink *s, int64_t end)
{
    switch (s->img->kind) {
    case MC_IMAGE_SPRITE:
        return finish_sprites(e, s, end);
    case MC_IMAGE_ANIMATION:
        return finish_animation(e, s);
    case MC_IMAGE_SNAPSHOT:
        break;
    }
    return 0;
}

void mc_isink_free_writers(mc_isink *s)
{
    free_chain(s);
    av_frame_free(&s->pic);
    avcodec_free_context(&s->enc);
    av_packet_free(&s->pkt);
    sws_freeContext(s->conv_sws);
    s->conv_sws = NULL;
    av_frame_free(&s->conv);
    mc_anim_free(&s->anim);
    mc_freep(&s->sheet);
    mc_buf_free(&s->vtt);
    mc_freep(&s->cue_ref);
    mc_freep(&s->vtt_uri);
}
