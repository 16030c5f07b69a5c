/*
 * Image outputs: planning and frame selection (image_priv.h says how the parts fit).
 *
 * Sampling rules (spec 1.9 and the OSS video/animation, video/snapshots and video/sprite
 * documents), on the output timeline (0 = the start of the first source's window):
 * - interval: the frame shown at each point StartTime + k * Interval, so a variable frame
 *   rate is sampled evenly in time (a frame shown across two points is taken twice). An
 *   Interval below the source's frame interval counts as the frame interval (OSS: "the
 *   source interval is used"); no Interval takes every frame once. Points are computed
 *   from k, never from the previous point, so nothing drifts.
 * - average: Number frames shown at the middles of Number equal parts of the video after
 *   StartTime.
 * - keyframe: every key frame from StartTime on.
 * - dhash: every frame from StartTime on whose difference hash (9x8 luma gradients) differs
 *   from the last taken frame's in more than Threshold percent of its 64 bits; the first
 *   frame is always taken.
 * Number caps what is taken (0: no cap).
 */
#include "image_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* Timestamps are rounded to their stream's time base: a point this close before a frame
 * belongs to it (AV_TIME_BASE units). */
#define POINT_SLACK 100

static const char *const kind_names[] = {"Snapshots", "Sprites", "Animations"};
static const char *const exts[] = {"jpg", "png", "webp", "gif"};

/* Time of sample point k (interval and average modes); INT64_MAX past the last one. */
static int64_t point_at(const mc_isink *s, int64_t k)
{
    const mc_image *img = s->img;
    if (img->mode == MC_SAMPLE_AVERAGE) /* the middles of Number equal parts of the span */
        return k >= img->number ? INT64_MAX
                                : s->t0 + av_rescale(2 * k + 1, s->span, 2 * img->number);
    return s->t0 + av_rescale(k * s->step.num, AV_TIME_BASE, s->step.den);
}

/* The size pictures would have unscaled: the source's display size, rotation applied. */
static void display_size(const mc_input *in, int *w, int *h)
{
    AVStream *st = in->fmt->streams[in->vst];
    AVRational sar = av_guess_sample_aspect_ratio(in->fmt, st, NULL);
    int dw = st->codecpar->width, dh = st->codecpar->height;
    if (sar.num > 0 && sar.den > 0 && av_cmp_q(sar, (AVRational){1, 1}) != 0)
        dw = (int)FFMAX(1, lrint((double)dw * sar.num / sar.den));
    if (in->rotation == 90 || in->rotation == 270)
        FFSWAP(int, dw, dh);
    *w = dw;
    *h = dh;
}

static int dim_pixels(const mc_dim *d, int ref)
{
    if (d->kind == MC_DIM_PIXELS)
        return (int)d->value;
    return FFMAX(1, (int)lrint(d->value * ref));
}

/* Picture size from Width/Height (pixels or ratios of the display size) and ScaleType. */
static void plan_size(mc_isink *s, int dw, int dh)
{
    const mc_image *img = s->img;
    bool hw = img->width.kind != MC_DIM_UNSET, hh = img->height.kind != MC_DIM_UNSET;
    int w = hw ? dim_pixels(&img->width, dw) : dw;
    int h = hh ? dim_pixels(&img->height, dh) : dh;
    s->type = img->scale_type;
    if (hw && !hh)
        h = FFMAX(1, (int)lrint((double)w * dh / dw));
    else if (hh && !hw)
        w = FFMAX(1, (int)lrint((double)h * dw / dh));
    if (!hw || !hh) {
        s->type = MC_SCALE_STRETCH; /* the aspect ratio is already kept */
    } else if (s->type == MC_SCALE_FIT) {
        /* Inside the box, aspect kept, no padding: the picture is as small as it needs. */
        if ((double)dw / dh > (double)w / h)
            h = FFMAX(1, (int)lrint((double)w * dh / dw));
        else
            w = FFMAX(1, (int)lrint((double)h * dw / dh));
        s->type = MC_SCALE_STRETCH;
    }
    s->width = w;
    s->height = h;
}

static int plan_sink(mc_engine *e, mc_isink *s, const mc_input *ref)
{
    const mc_image *img = s->img;
    int dw, dh;
    display_size(ref, &dw, &dh);
    plan_size(s, dw, dh);
    s->ext = exts[img->format];
    s->t0 = llrint(img->start_time * AV_TIME_BASE);
    s->next = s->t0;
    if (img->interval > 0 && img->mode == MC_SAMPLE_INTERVAL) {
        s->step = av_d2q(img->interval, 1000000);
        /* Below the source's frame interval, the frame interval is the step. */
        if (ref->fps.num > 0 && av_cmp_q(s->step, av_inv_q(ref->fps)) < 0)
            s->step = av_inv_q(ref->fps);
    }
    if (img->kind == MC_IMAGE_ANIMATION) {
        if (s->width > 16383 || s->height > 16383)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: %dx%d is too large for an animation; allowed: up to 16383 "
                              "pixels a side",
                              s->field, s->width, s->height);
        s->fps = img->frame_rate > 0 ? img->frame_rate
                 : s->step.num > 0   ? av_q2d(av_inv_q(s->step))
                 : ref->fps.num > 0  ? av_q2d(ref->fps)
                                     : 25;
        s->pix_fmt = AV_PIX_FMT_RGBA;
    } else if (img->kind == MC_IMAGE_SPRITE) {
        int64_t sw = 2LL * img->margin + (int64_t)img->tile_w * s->width +
                     (int64_t)(img->tile_w - 1) * img->pad;
        int64_t sh = 2LL * img->margin + (int64_t)img->tile_h * s->height +
                     (int64_t)(img->tile_h - 1) * img->pad;
        if (sw > 16384 || sh > 16384)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: a sheet of %dx%d tiles of %dx%d pixels would be %" PRId64
                              "x%" PRId64 "; allowed: up to 16384x16384 (lower TileWidth, "
                              "TileHeight, ScaleWidth or ScaleHeight)",
                              s->field, img->tile_w, img->tile_h, s->width, s->height, sw, sh);
        s->sheet_w = (int)sw;
        s->sheet_h = (int)sh;
        s->pix_fmt = AV_PIX_FMT_RGBA;
    } else {
        s->pix_fmt = img->format == MC_IMAGE_JPG   ? AV_PIX_FMT_YUVJ420P
                     : img->format == MC_IMAGE_PNG ? AV_PIX_FMT_RGB24
                                                   : AV_PIX_FMT_RGBA;
    }
    if (img->mode == MC_SAMPLE_AVERAGE) {
        if (e->total_len <= 0)
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s.Mode: average needs the video's duration, which the "
                              "source does not state; allowed here: interval, keyframe, dhash",
                              s->field);
        s->span = e->total_len - s->t0;
        if (s->span <= 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.StartTime: %.3f s is at or beyond the end of the video "
                              "(%.3f s)",
                              s->field, img->start_time, (double)e->total_len / AV_TIME_BASE);
        s->next = point_at(s, 0);
    }
    mc_log(MC_LOG_DEBUG, "%s: %dx%d %s pictures", s->field, s->width, s->height, s->ext);
    return 0;
}

int mc_images_plan(mc_engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->job->n_targets; i++)
        n += e->job->targets[i].n_images;
    if (!n)
        return 0;
    const mc_input *ref = mc_ref_input(e, AVMEDIA_TYPE_VIDEO);
    e->sinks = calloc(n, sizeof(*e->sinks));
    if (!e->sinks)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < e->job->n_targets; i++) {
        const mc_target *t = &e->job->targets[i];
        for (size_t j = 0; j < t->n_images; j++) {
            const mc_image *img = &t->images[j];
            mc_isink *s = calloc(1, sizeof(*s));
            if (!s)
                return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
            e->sinks[e->n_sinks++] = s;
            s->img = img;
            s->target_index = (int)i;
            snprintf(s->field, sizeof(s->field), "Targets[%zu].Image.%s[%d]", i,
                     kind_names[img->kind], img->index);
            if (!ref)
                return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                                  "%s: the sources have no video stream to take pictures from",
                                  s->field);
            int rc = plan_sink(e, s, ref);
            if (rc < 0)
                return rc;
        }
    }
    for (size_t k = 0; k < e->n_inputs; k++)
        if (e->inputs[k].vst >= 0)
            e->inputs[k].decode_v = true;
    return mc_images_start(e);
}

/* Count a taken picture; the sink is done once it has Number of them. */
static void count_taken(mc_isink *s)
{
    s->taken++;
    if (s->img->number > 0 && s->taken >= s->img->number)
        s->done = true;
}

/* Move to the next sample point; `t` is where the frame just taken ends (every-frame mode:
 * the next frame is the next point). */
static void advance(mc_isink *s, int64_t t)
{
    s->k++;
    if (s->img->mode == MC_SAMPLE_AVERAGE || s->step.num > 0)
        s->next = point_at(s, s->k);
    else
        s->next = t;
    if (s->next == INT64_MAX)
        s->done = true;
}

/* Pictures are made in system memory: a device frame is held as it is (one surface a sink)
 * and copied down only when it is taken (scaled on the device first: image_device.c) or
 * hashed. */
static int take(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f, int64_t t)
{
    bool shaped = false;
    int rc = mc_isink_shape(e, s, in, f, &f, &shaped);
    if (rc >= 0)
        rc = mc_images_queue(e, s, in, f, t, s->taken, shaped);
    if (rc >= 0)
        count_taken(s);
    return rc;
}

/* The difference hash of a frame: 64 bits, one per horizontal luma gradient of a 9x8
 * thumbnail. */
static int frame_hash(mc_engine *e, mc_isink *s, const AVFrame *f, uint64_t *out)
{
    uint8_t thumb[9 * 8];
    uint8_t *dst[4] = {thumb};
    int dst_ls[4] = {9};
    int rc = mc_frame_to_system(e, f, &f);
    if (rc < 0)
        return rc;
    s->hash_sws = sws_getCachedContext(s->hash_sws, f->width, f->height, f->format, 9, 8,
                                       AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
    if (!s->hash_sws)
        return mc_err_set(e->err, -ENOMEM, NULL, "%s: cannot hash %s frames", s->field,
                          av_get_pix_fmt_name(f->format));
    sws_scale(s->hash_sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_ls);
    uint64_t h = 0;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            h = h << 1 | (thumb[y * 9 + x] < thumb[y * 9 + x + 1]);
    *out = h;
    return 0;
}

static int push_one(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f, int64_t t)
{
    const mc_image *img = s->img;
    int rc = 0;
    switch (img->mode) {
    case MC_SAMPLE_KEYFRAME:
        if (t >= s->t0 && (f->key_frame || f->pict_type == AV_PICTURE_TYPE_I))
            rc = take(e, s, in, f, t);
        return rc;
    case MC_SAMPLE_DHASH: {
        if (t < s->t0)
            return 0;
        uint64_t h = 0;
        if ((rc = frame_hash(e, s, f, &h)) < 0)
            return rc;
        int changed = s->hashed ? __builtin_popcountll(h ^ s->hash) * 100 / 64 : 100;
        if (changed <= img->threshold)
            return 0;
        s->hash = h;
        s->hashed = true;
        return take(e, s, in, f, t);
    }
    case MC_SAMPLE_INTERVAL:
    case MC_SAMPLE_AVERAGE:
        break;
    }
    /* The held frame covers the sample points before this frame's start (a point a hair
     * before a frame's timestamp, from rounding, belongs to that frame). */
    while (s->held && s->next + POINT_SLACK < t) {
        if ((rc = take(e, s, in, s->held, s->next)) < 0 || s->done)
            return rc;
        advance(s, t);
    }
    if (!s->held && !(s->held = av_frame_alloc()))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    av_frame_unref(s->held);
    if ((rc = av_frame_ref(s->held, f)) < 0)
        return mc_err_set(e->err, rc, NULL, "out of memory");
    s->held_t = t;
    return 0;
}

int mc_images_push(mc_engine *e, const mc_input *in, const AVFrame *f, int64_t t)
{
    for (size_t i = 0; i < e->n_sinks; i++) {
        mc_isink *s = e->sinks[i];
        if (s->done)
            continue;
        int rc = push_one(e, s, in, f, t);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mc_images_cover(mc_engine *e, const mc_input *in, int64_t until)
{
    for (size_t i = 0; i < e->n_sinks; i++) {
        mc_isink *s = e->sinks[i];
        int rc = 0;
        while (rc >= 0 && !s->done && s->held && s->next + POINT_SLACK < until) {
            rc = take(e, s, in, s->held, s->next);
            if (rc >= 0 && !s->done)
                advance(s, until);
            if (s->step.num == 0 && s->img->mode == MC_SAMPLE_INTERVAL)
                break; /* every frame: this one once */
        }
        av_frame_free(&s->held);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mc_images_end_input(mc_engine *e, const mc_input *in, int64_t end)
{
    /* The last frame is shown until the video ends: it covers the points left before. */
    int rc = mc_images_cover(e, in, end);
    for (size_t i = 0; i < e->n_sinks; i++) {
        e->sinks[i]->end = FFMAX(e->sinks[i]->end, end);
        /* Its device chain holds on to the input decoder's frame pool. */
        mc_isink_free_device(e->sinks[i]);
    }
    return rc;
}

mc_want mc_images_want(const mc_engine *e)
{
    mc_want w = {MC_WANT_NONE, INT64_MAX};
    for (size_t i = 0; i < e->n_sinks; i++) {
        const mc_isink *s = e->sinks[i];
        if (s->done)
            continue;
        enum mc_want_kind k = MC_WANT_AT;
        int64_t at = s->next;
        if (s->img->mode == MC_SAMPLE_KEYFRAME) {
            k = MC_WANT_KEYS;
            at = s->t0;
        } else if (s->img->mode == MC_SAMPLE_DHASH) {
            k = MC_WANT_ALL;
            at = s->t0;
        } else if (s->step.num == 0 && s->img->mode == MC_SAMPLE_INTERVAL && s->taken > 0) {
            k = MC_WANT_ALL; /* every frame, once the first one is found */
        }
        /* Key frames for one output and points for another: decode everything. */
        w.kind = w.kind == MC_WANT_NONE || w.kind == k ? k : MC_WANT_ALL;
        w.at = FFMIN(w.at, at);
    }
    return w;
}

/* The first sample point of `s` at or after `lo` (interval and average modes). */
static int64_t first_point_from(const mc_isink *s, int64_t lo)
{
    lo = FFMAX(lo, s->next);
    if (lo <= s->t0)
        return s->next;
    /* An estimate of the point's number from below, then at most a step or two up. */
    int64_t k = s->img->mode == MC_SAMPLE_AVERAGE
                    ? av_rescale_rnd(lo - s->t0, 2 * s->img->number, s->span, AV_ROUND_DOWN) / 2
                    : av_rescale_rnd(lo - s->t0, s->step.den, (int64_t)s->step.num * AV_TIME_BASE,
                                     AV_ROUND_DOWN);
    k = FFMAX(k, s->k);
    int64_t t;
    while ((t = point_at(s, k)) < lo)
        k++;
    return t;
}

int64_t mc_images_next(const mc_engine *e, int64_t from)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < e->n_sinks; i++) {
        const mc_isink *s = e->sinks[i];
        if (s->done)
            continue;
        if (s->img->mode == MC_SAMPLE_KEYFRAME || s->img->mode == MC_SAMPLE_DHASH ||
            (s->img->mode == MC_SAMPLE_INTERVAL && s->step.num == 0))
            return from;
        best = FFMIN(best, first_point_from(s, from));
    }
    return best;
}

void mc_images_drop_held(mc_engine *e)
{
    for (size_t i = 0; i < e->n_sinks; i++)
        av_frame_free(&e->sinks[i]->held);
}

static int add_result(mc_engine *e, const mc_isink *s, const mc_ifile *f, mc_result *res)
{
    mc_media_info info = {0};
    info.streams = calloc(1, sizeof(*info.streams));
    char *uri = mc_strdup(f->uri), *container = mc_strdup(f->ext);
    if (!info.streams || !uri || !container)
        goto nomem;
    info.n_streams = 1;
    bool vtt = strcmp(f->ext, "vtt") == 0;
    snprintf(info.format, sizeof(info.format), "%s", vtt ? "webvtt" : f->ext);
    snprintf(info.format_long, sizeof(info.format_long), "%s", s->field);
    info.duration = f->duration;
    struct stat sb;
    if (stat(mc_atomic_tmp_path(f->file), &sb) == 0)
        info.size = sb.st_size;
    mc_stream_info *st = &info.streams[0];
    snprintf(st->type, sizeof(st->type), "%s", vtt ? "subtitle" : "video");
    snprintf(st->codec, sizeof(st->codec), "%s",
             vtt                          ? "webvtt"
             : strcmp(f->ext, "jpg") == 0 ? "mjpeg"
                                          : f->ext);
    st->width = f->width;
    st->height = f->height;
    st->sar_num = st->sar_den = 1;
    st->frames = f->frames;
    st->duration = f->duration;
    if (f->frames > 1 && f->duration > 0)
        st->fps = s->fps;
    if (mc_result_add_output(res, s->target_index, uri, container, &info) < 0)
        goto nomem;
    snprintf(res->outputs[res->n_outputs - 1].image, sizeof(res->outputs[0].image), "%s",
             s->field + strcspn(s->field, "I"));
    return 0;
nomem:
    free(uri);
    free(container);
    mc_media_info_clear(&info);
    return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
}

int mc_images_finish(mc_engine *e, int64_t end, mc_result *res)
{
    int rc = mc_images_sync(e);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < e->n_sinks; i++) {
        mc_isink *s = e->sinks[i];
        if (s->end > 0)
            end = s->end; /* where the video ended, which the audio may outlast */
        rc = mc_isink_finish(e, s, end);
        if (rc < 0)
            return rc;
        if (s->n_files == 0)
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s: no frame of the video matches: it ends at %.3f s, before "
                              "StartTime %.3f s or the first sample",
                              s->field, (double)end / AV_TIME_BASE, s->img->start_time);
        for (size_t k = 0; k < s->n_files; k++) {
            /* Every picture is written; the result lists the first ones and the index. */
            if (k >= MC_IMAGE_LIST_MAX && strcmp(s->files[k].ext, "vtt") != 0)
                continue;
            if ((rc = add_result(e, s, &s->files[k], res)) < 0)
                return rc;
        }
        if (s->n_files > MC_IMAGE_LIST_MAX)
            mc_log(MC_LOG_INFO, "%s: %zu files written, the first %d listed", s->field, s->n_files,
                   MC_IMAGE_LIST_MAX);
    }
    return 0;
}

int mc_images_commit(mc_engine *e)
{
    for (size_t i = 0; i < e->n_sinks; i++) {
        mc_isink *s = e->sinks[i];
        for (size_t k = 0; k < s->n_files; k++) {
            if (!s->files[k].file)
                continue;
            int rc = mc_atomic_commit(&s->files[k].file, e->err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void mc_images_free(mc_engine *e)
{
    mc_images_stop(e);
    for (size_t i = 0; i < e->n_sinks; i++) {
        mc_isink *s = e->sinks[i];
        if (!s)
            continue;
        mc_isink_free_writers(s);
        mc_isink_free_device(s);
        av_frame_free(&s->held);
        sws_freeContext(s->hash_sws);
        for (size_t k = 0; k < s->n_files; k++) {
            mc_atomic_abort(&s->files[k].file);
            free(s->files[k].uri);
        }
        free(s->files);
        free(s);
    }
    free(e->sinks);
    e->sinks = NULL;
    e->n_sinks = 0;
}

bool mc_images_need(const mc_engine *e, int64_t from, int64_t to)
{
    return mc_images_next(e, from) < to;
}
