/*
 * Image outputs of a target (spec 1.9): Targets[i].Image.{Snapshots,Sprites,Animations}[].
 *
 * Every element becomes one mc_image in mc_target.images: all Snapshots, then all Sprites,
 * then all Animations, each remembering its kind and its index in its own array. An empty
 * array is "not set" (spec 1.15: the Python SDK always sends the lists) and unknown keys are
 * ignored, so "Mode" on an animation is simply not read.
 *
 * Extensions of ours, accepted on every kind unless noted:
 *   Quality     integer 1..100: the quality of jpg and lossy webp, the quantization quality
 *               of gif; absent = the format's default.
 *   Lossless    boolean, Format webp only: lossless WebP.
 *   AllowMixed  boolean, Animations with Format webp only: let the encoder pick lossy or
 *               lossless per frame. It overrides Lossless, so the two cannot both be true.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job_internal.h"
#include "mc_str.h"

/* Image outputs per target, all kinds together: each one samples the source on its own. */
#define MAX_IMAGES 64
/* Number: frames (sprites: tiles) per output. */
#define MAX_FRAMES 100000
/* A sprite sheet's side in pixels; WebP cannot encode more than 16383 (WEBP_MAX_DIMENSION). */
#define MAX_SHEET      16384
#define MAX_WEBP_SHEET 16383

#define FMT_BIT(f)    (1u << (f))
#define STILL_FORMATS (FMT_BIT(MC_IMAGE_JPG) | FMT_BIT(MC_IMAGE_PNG) | FMT_BIT(MC_IMAGE_WEBP))
#define ANIM_FORMATS  (FMT_BIT(MC_IMAGE_GIF) | FMT_BIT(MC_IMAGE_WEBP))

static const jr_range range_start = {0, MC_JOB_MAX_SECONDS, false, false};
static const jr_range range_interval = {0, MC_JOB_MAX_SECONDS, true, false};
static const char *const scale_names[] = {"stretch", "crop", "fill", "fit", NULL};
/* In the order of enum mc_sample_mode. */
static const char *const mode_names[] = {"interval", "keyframe", "average", "dhash", NULL};

/* Format names, case-insensitive; "jpeg" is another name for jpg. */
static const struct {
    const char *name;
    enum mc_image_format format;
} format_names[] = {
    {"jpg", MC_IMAGE_JPG},   {"jpeg", MC_IMAGE_JPG}, {"png", MC_IMAGE_PNG},
    {"webp", MC_IMAGE_WEBP}, {"gif", MC_IMAGE_GIF},
};

/* What differs between the three kinds, indexed by enum mc_image_kind. */
static const struct kind_info {
    const char *key;     /* the array's name in Image */
    unsigned formats;    /* FMT_BIT() of the allowed formats */
    const char *allowed; /* the same as text */
    int min_px;          /* Width/Height in pixels; 0: ScaleWidth/ScaleHeight instead */
} kinds[] = {
    [MC_IMAGE_SNAPSHOT] = {"Snapshots", STILL_FORMATS, "jpg, png, webp", 1},
    [MC_IMAGE_SPRITE] = {"Sprites", STILL_FORMATS, "jpg, png, webp", 0},
    /* The OSS animation doc's range: an animation side under 32 px is refused. */
    [MC_IMAGE_ANIMATION] = {"Animations", ANIM_FORMATS, "gif, webp", 32},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static const char *format_name(enum mc_image_format f)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (format_names[i].format == f)
            return format_names[i].name;
    return "?";
}

static int read_format(jr *r, const json_t *v, const struct kind_info *k, mc_image *im)
{
    const char *s = NULL;
    int rc = jr_require(r, jr_str(r, v, "Format", &s), "Format");
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcasecmp(s, format_names[i].name) == 0 &&
            (k->formats & FMT_BIT(format_names[i].format))) {
            im->format = format_names[i].format;
            return 1;
        }
    }
    return jr_invalid_at(r, "Format", "\"%s\" is not supported for %s; allowed: %s", s, k->key,
                         k->allowed);
}

/*
 * A picture's side (spec 1.15): a ratio of the source's size, or whole pixels in
 * [min_px, 4096]. Sprites' ScaleWidth/ScaleHeight take ratios up to and including 1
 * (one_is_ratio): 1 is the full size, their default, so pixels start at 2.
 */
static int read_size(jr *r, const json_t *v, const char *key, int min_px, bool one_is_ratio,
                     mc_dim *out)
{
    double d = 0;
    int rc = jr_num(r, v, key, (jr_range){-HUGE_VAL, HUGE_VAL, false, false}, &d);
    if (rc <= 0)
        return rc;
    if (d > 0 && (d < 1 || (d == 1 && one_is_ratio)))
        *out = (mc_dim){MC_DIM_RATIO, d};
    else if (floor(d) == d && d >= min_px && d <= MC_JOB_MAX_DIM)
        *out = (mc_dim){MC_DIM_PIXELS, d};
    else
        return jr_invalid_at(r, key,
                             "%.15g is not a valid size; allowed: a ratio greater than 0 and %s "
                             "1, or whole pixels from %d to %d",
                             d, one_is_ratio ? "at most" : "less than", min_px, MC_JOB_MAX_DIM);
    return 1;
}

/* StartTime, Interval, Number, ScaleType: the same on every kind. */
static int read_sampling(jr *r, const json_t *v, mc_image *im)
{
    int e, rc;
    if ((rc = jr_num(r, v, "StartTime", range_start, &im->start_time)) < 0)
        return rc;
    /* Absent is 0, every frame; a given Interval must be a real step. */
    if ((rc = jr_num(r, v, "Interval", range_interval, &im->interval)) < 0)
        return rc;
    if ((rc = jr_int64(r, v, "Number", 0, MAX_FRAMES, &im->number)) < 0)
        return rc;
    if ((rc = jr_enum(r, v, "ScaleType", scale_names, &e)) < 0)
        return rc;
    if (rc > 0)
        im->scale_type = (enum mc_scale_type)e;
    return 0;
}

/*
 * Mode and Threshold of Snapshots and Sprites. Threshold tunes dhash only, so a non-zero
 * value with another mode is refused rather than silently ignored; average spreads Number
 * frames over the video, so it needs Number. Interval is ignored by keyframe and average
 * (spec 1.9.1) and is accepted with them.
 */
static int read_mode(jr *r, const json_t *v, mc_image *im)
{
    int e, rc;
    if ((rc = jr_enum(r, v, "Mode", mode_names, &e)) < 0)
        return rc;
    if (rc > 0)
        im->mode = (enum mc_sample_mode)e;
    if ((rc = jr_int(r, v, "Threshold", 0, 100, &im->threshold)) < 0)
        return rc;
    if (im->threshold && im->mode != MC_SAMPLE_DHASH)
        return jr_invalid_at(r, "Threshold",
                             "%d is only used with Mode dhash, not %s; allowed: 0 (or no "
                             "Threshold) with Mode %s, or Mode dhash",
                             im->threshold, mode_names[im->mode], mode_names[im->mode]);
    if (im->mode == MC_SAMPLE_AVERAGE && im->number == 0)
        return jr_invalid_at(r, "Number",
                             "is required with Mode average (the frames to spread over the "
                             "video); allowed: 1 to %d",
                             MAX_FRAMES);
    return 0;
}

/*
 * One side of a sprite sheet: Margin on both edges, `tiles` tiles and a Pad between two of
 * them. Only checked when the tile's side is in pixels: a ratio depends on the source, which
 * the engine checks when it knows it.
 */
static int check_sheet(jr *r, const mc_image *im, bool wide)
{
    const char *tiles_key = wide ? "TileWidth" : "TileHeight";
    const char *scale_key = wide ? "ScaleWidth" : "ScaleHeight";
    int tiles = wide ? im->tile_w : im->tile_h;
    mc_dim tile = wide ? im->width : im->height;
    int max = im->format == MC_IMAGE_WEBP ? MAX_WEBP_SHEET : MAX_SHEET;
    if (tile.kind != MC_DIM_PIXELS)
        return 0;
    double side = 2.0 * im->margin + tiles * tile.value + (tiles - 1.0) * im->pad;
    if (side <= max)
        return 0;
    return jr_invalid_at(r, tiles_key,
                         "%d tiles of %.0f px with Pad %d and Margin %d make a sheet %.0f px %s; "
                         "allowed: Margin*2 + %s*%s + (%s-1)*Pad at most %d%s",
                         tiles, tile.value, im->pad, im->margin, side, wide ? "wide" : "high",
                         tiles_key, scale_key, tiles_key, max,
                         im->format == MC_IMAGE_WEBP ? " (the largest WebP picture)" : "");
}

static int read_sprite(jr *r, const json_t *v, mc_image *im)
{
    int rc;
    if ((rc = read_size(r, v, "ScaleWidth", 2, true, &im->width)) < 0 ||
        (rc = read_size(r, v, "ScaleHeight", 2, true, &im->height)) < 0)
        return rc;
    if ((rc = jr_int(r, v, "TileWidth", 1, 100, &im->tile_w)) < 0 ||
        (rc = jr_int(r, v, "TileHeight", 1, 100, &im->tile_h)) < 0)
        return rc;
    if ((rc = jr_int(r, v, "Pad", 0, 256, &im->pad)) < 0 ||
        (rc = jr_int(r, v, "Margin", 0, 256, &im->margin)) < 0)
        return rc;
    if ((rc = check_sheet(r, im, true)) < 0)
        return rc;
    return check_sheet(r, im, false);
}

/* Quality, Lossless, AllowMixed: see the top of this file. */
static int read_encoder(jr *r, const json_t *v, mc_image *im)
{
    int rc;
    if ((rc = jr_int(r, v, "Quality", 1, 100, &im->quality)) < 0)
        return rc;
    if ((rc = jr_bool(r, v, "Lossless", &im->lossless)) < 0)
        return rc;
    if (im->lossless && im->format != MC_IMAGE_WEBP)
        return jr_invalid_at(r, "Lossless",
                             "true is only allowed with Format webp, not %s; allowed: false",
                             format_name(im->format));
    if ((rc = jr_bool(r, v, "AllowMixed", &im->allow_mixed)) < 0)
        return rc;
    if (im->allow_mixed && (im->kind != MC_IMAGE_ANIMATION || im->format != MC_IMAGE_WEBP))
        return jr_invalid_at(r, "AllowMixed",
                             "true is only allowed on Animations with Format webp; allowed: "
                             "false");
    if (im->allow_mixed && im->lossless)
        return jr_invalid_at(r, "AllowMixed",
                             "true picks lossy or lossless per frame and cannot be combined "
                             "with Lossless true; allowed: false, or Lossless false");
    return 0;
}

static int read_one(jr *r, const json_t *v, enum mc_image_kind kind, mc_image *im)
{
    const struct kind_info *k = &kinds[kind];
    int rc;
    if (kind == MC_IMAGE_SPRITE) {
        im->tile_w = im->tile_h = 6;
        im->pad = im->margin = 2;
        im->width = im->height = (mc_dim){MC_DIM_RATIO, 1.0};
    }
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = read_format(r, v, k, im)) < 0)
        return rc;
    if ((rc = jr_require(r, jr_uri(r, v, "URI", &im->uri), "URI")) < 0)
        return rc;
    if ((rc = read_sampling(r, v, im)) < 0)
        return rc;
    if (kind == MC_IMAGE_SPRITE) {
        rc = read_sprite(r, v, im);
    } else {
        /* Either side alone is fine: the other one follows the aspect ratio. */
        if ((rc = read_size(r, v, "Width", k->min_px, false, &im->width)) >= 0)
            rc = read_size(r, v, "Height", k->min_px, false, &im->height);
    }
    if (rc < 0)
        return rc;
    if (kind == MC_IMAGE_ANIMATION)
        rc = jr_num(r, v, "FrameRate", (jr_range){0, 240, true, false}, &im->frame_rate);
    else
        rc = read_mode(r, v, im);
    if (rc < 0)
        return rc;
    return read_encoder(r, v, im);
}

int job_parse_images(jr *r, const json_t *v, mc_target *t)
{
    json_t *arr[N_KINDS] = {NULL};
    size_t total = 0;
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    for (size_t k = 0; k < N_KINDS; k++) {
        if ((rc = jr_array(r, v, kinds[k].key, &arr[k])) < 0)
            return rc;
        total += json_array_size(arr[k]);
    }
    if (total == 0)
        return 0;
    if (total > MAX_IMAGES)
        return jr_fail(r, MC_ELIMIT, "LimitExceededError",
                       "%zu image outputs are more than the limit; allowed: at most %d "
                       "Snapshots, Sprites and Animations together",
                       total, MAX_IMAGES);
    mc_image *images = calloc(total, sizeof(*images));
    if (!images)
        return jr_nomem(r);
    /* Stored before reading, so that job_images_clear() frees a half-read list. */
    t->images = images;
    t->n_images = total;
    t->has_image = true;
    for (size_t k = 0, n = 0; k < N_KINDS && rc >= 0; k++) {
        size_t mark = jr_enter(r, kinds[k].key);
        for (size_t i = 0; i < json_array_size(arr[k]) && rc >= 0; i++, n++) {
            size_t imark = jr_enter_index(r, i);
            images[n].kind = (enum mc_image_kind)k;
            images[n].index = (int)i;
            rc = read_one(r, json_array_get(arr[k], i), (enum mc_image_kind)k, &images[n]);
            jr_leave(r, imark);
        }
        jr_leave(r, mark);
    }
    return rc < 0 ? rc : 0;
}

void job_images_clear(mc_target *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->images && i < t->n_images; i++)
        free(t->images[i].uri);
    mc_freep(&t->images);
    t->n_images = 0;
}
