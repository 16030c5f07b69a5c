/*
 * Unit tests of the animated GIF writer (src/imgenc/gif.c) through mc_anim, read back with
 * giflib's DGifSlurp(): frame count, delays, loop extension, screen size, and the pictures
 * a player would show (frames composed honouring transparency and disposal). Files go to a
 * fresh folder under $MC_TEST_TMP, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gif_lib.h>

#include "mc_err.h"
#include "mc_imgenc.h"
#include "mc_str.h"

/* ---- helpers ---- */

/* A path under this run's folder; the caller frees it. */
static char *tmp_path(const char *rel)
{
    char *p = mc_asprintf("%s/%s", t_tmpdir(), rel);
    assert_non_null(p);
    return p;
}

/* Fills frame k (w x h RGBA, stride w*4) of a test animation. */
typedef void frame_fn(uint8_t *rgba, int w, int h, int k);

typedef struct anim_spec {
    int w, h, quality;
    int n;           /* frames added */
    const double *t; /* their start times, or NULL for k / fps */
    double fps;
    double t_end;
    frame_fn *fill;
} anim_spec;

/* Write an animation; returns mc_anim_frames() after finishing. */
static int64_t write_anim(const char *path, const anim_spec *s)
{
    mc_anim_opts o = {.format = MC_ANIM_GIF, .width = s->w, .height = s->h, .quality = s->quality};
    mc_err err;
    mc_err_clear(&err);
    mc_anim *a = NULL;
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    uint8_t *buf = malloc((size_t)s->w * s->h * 4);
    assert_non_null(buf);
    for (int k = 0; k < s->n; k++) {
        s->fill(buf, s->w, s->h, k);
        double t = s->t ? s->t[k] : k / s->fps;
        int rc = mc_anim_add(a, buf, (size_t)s->w * 4, t, &err);
        if (rc != 0)
            fail_msg("frame %d: %d %s", k, rc, err.msg);
    }
    int rc = mc_anim_finish(a, s->t_end, &err);
    if (rc != 0)
        fail_msg("finish: %d %s", rc, err.msg);
    int64_t frames = mc_anim_frames(a);
    mc_anim_free(&a);
    assert_null(a);
    free(buf);
    return frames;
}

static GifFileType *slurp(const char *path)
{
    int e = 0;
    GifFileType *g = DGifOpenFileName(path, &e);
    assert_non_null(g);
    if (DGifSlurp(g) != GIF_OK)
        fail_msg("DGifSlurp: %s", GifErrorString(g->Error));
    return g;
}

static void unslurp(GifFileType *g)
{
    int e = 0;
    DGifCloseFile(g, &e);
}

static GraphicsControlBlock gcb_of(GifFileType *g, int i)
{
    GraphicsControlBlock gcb;
    assert_int_equal(DGifSavedExtensionToGCB(g, i, &gcb), GIF_OK);
    return gcb;
}

/* Sum of all delays, in cs. */
static int total_delay(GifFileType *g)
{
    int sum = 0;
    for (int i = 0; i < g->ImageCount; i++)
        sum += gcb_of(g, i).DelayTime;
    return sum;
}

/* Compose frame i onto canvas (RGB, screen sized) the way a player does; *prev keeps what
 * DISPOSE_PREVIOUS restores. Call for i = 0, 1, ... in order; the canvas then shows frame
 * i. Disposal of frame i-1 is applied first. */
static void compose(GifFileType *g, int i, uint8_t *canvas, uint8_t *prev)
{
    size_t size = (size_t)g->SWidth * g->SHeight * 3;
    if (i > 0) {
        GraphicsControlBlock pg = gcb_of(g, i - 1);
        const GifImageDesc *pd = &g->SavedImages[i - 1].ImageDesc;
        if (pg.DisposalMode == DISPOSE_BACKGROUND)
            for (int y = 0; y < pd->Height; y++)
                memset(canvas + ((size_t)(pd->Top + y) * g->SWidth + pd->Left) * 3, 0,
                       (size_t)pd->Width * 3);
        else if (pg.DisposalMode == DISPOSE_PREVIOUS)
            memcpy(canvas, prev, size);
    }
    GraphicsControlBlock gcb = gcb_of(g, i);
    if (gcb.DisposalMode == DISPOSE_PREVIOUS)
        memcpy(prev, canvas, size);
    const SavedImage *s = &g->SavedImages[i];
    const GifImageDesc *d = &s->ImageDesc;
    const ColorMapObject *cm = d->ColorMap ? d->ColorMap : g->SColorMap;
    assert_non_null(cm);
    assert_true(d->Left + d->Width <= g->SWidth && d->Top + d->Height <= g->SHeight);
    for (int y = 0; y < d->Height; y++)
        for (int x = 0; x < d->Width; x++) {
            int k = s->RasterBits[(size_t)y * d->Width + x];
            if (k == gcb.TransparentColor)
                continue;
            assert_true(k < cm->ColorCount);
            uint8_t *p = canvas + ((size_t)(d->Top + y) * g->SWidth + d->Left + x) * 3;
            p[0] = cm->Colors[k].Red, p[1] = cm->Colors[k].Green, p[2] = cm->Colors[k].Blue;
        }
}

/* How far the shown frames are from the frames added, per channel, in levels. */
typedef struct diff {
    double mean;  /* mean absolute error of pixels, all frames */
    double worst; /* the same, worst frame */
    double block; /* mean absolute error of 4x4 block averages: dithering keeps these */
} diff;

/* Compose every frame and compare it with the frame that was added for it: kept[i] is the
 * index of the added frame that GIF frame i shows (NULL: i). */
static diff compare(GifFileType *g, const anim_spec *s, const int *kept)
{
    int w = s->w, h = s->h;
    uint8_t *canvas = calloc((size_t)w * h, 3), *prev = calloc((size_t)w * h, 3);
    uint8_t *src = malloc((size_t)w * h * 4);
    assert_true(canvas && prev && src);
    diff d = {0};
    double blocks = 0;
    for (int i = 0; i < g->ImageCount; i++) {
        compose(g, i, canvas, prev);
        s->fill(src, w, h, kept ? kept[i] : i);
        double e = 0;
        for (size_t p = 0; p < (size_t)w * h; p++)
            for (int c = 0; c < 3; c++)
                e += abs(canvas[p * 3 + c] - src[p * 4 + c]);
        e /= (double)w * h * 3;
        d.mean += e / g->ImageCount;
        d.worst = e > d.worst ? e : d.worst;
        for (int by = 0; by + 4 <= h; by += 4)
            for (int bx = 0; bx + 4 <= w; bx += 4)
                for (int c = 0; c < 3; c++) {
                    int sum = 0;
                    for (int y = by; y < by + 4; y++)
                        for (int x = bx; x < bx + 4; x++)
                            sum += canvas[((size_t)y * w + x) * 3 + c] -
                                   src[((size_t)y * w + x) * 4 + c];
                    d.block += fabs(sum / 16.0);
                    blocks++;
                }
    }
    d.block /= blocks;
    free(canvas);
    free(prev);
    free(src);
    return d;
}

/* Mean absolute error of the 4x4 block averages whose rows are [y0, y0 + 4), all frames:
 * what dithering keeps, measured along one line of the picture. */
static double row_block_error(GifFileType *g, const anim_spec *s, int y0)
{
    int w = s->w, h = s->h;
    uint8_t *canvas = calloc((size_t)w * h, 3), *prev = calloc((size_t)w * h, 3);
    uint8_t *src = malloc((size_t)w * h * 4);
    assert_true(canvas && prev && src && y0 + 4 <= h);
    double e = 0;
    int n = 0;
    for (int i = 0; i < g->ImageCount; i++) {
        compose(g, i, canvas, prev);
        s->fill(src, w, h, i);
        for (int bx = 0; bx + 4 <= w; bx += 4)
            for (int c = 0; c < 3; c++, n++) {
                int sum = 0;
                for (int y = y0; y < y0 + 4; y++)
                    for (int x = bx; x < bx + 4; x++)
                        sum +=
                            canvas[((size_t)y * w + x) * 3 + c] - src[((size_t)y * w + x) * 4 + c];
                e += fabs(sum / 16.0);
            }
    }
    free(canvas);
    free(prev);
    free(src);
    return e / n;
}

/* ---- frame patterns ---- */

/* A smooth diagonal gradient that drifts with k. */
static void fill_gradient(uint8_t *p, int w, int h, int k)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++, p += 4) {
            p[0] = (uint8_t)((x * 255) / (w - 1));
            p[1] = (uint8_t)((y * 255) / (h - 1));
            p[2] = (uint8_t)(((x + y + 3 * k) * 255) / (w + h + 30) % 256);
            p[3] = 255;
        }
}

/* Flat colours: a background that changes with k and a moving square; alpha left at 0,
 * which the writer must ignore. */
static void fill_flat(uint8_t *p, int w, int h, int k)
{
    static const uint8_t bg[3][3] = {{200, 30, 40}, {10, 90, 220}, {250, 250, 250}};
    const uint8_t *b = bg[(k / 3) % 3];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++, p += 4) {
            bool sq = x >= 4 * k && x < 4 * k + 10 && y >= 5 && y < 15;
            p[0] = sq ? 20 : b[0], p[1] = sq ? 200 : b[1], p[2] = sq ? 60 : b[2];
            p[3] = 0;
        }
}

/* Deterministic noise (a busy picture) that never changes. */
static void fill_static(uint8_t *p, int w, int h, int k)
{
    (void)k;
    uint32_t s = 12345;
    for (int i = 0; i < w * h; i++, p += 4) {
        s = s * 1103515245u + 12345u;
        p[0] = (uint8_t)(s >> 24), p[1] = (uint8_t)(s >> 16), p[2] = (uint8_t)(s >> 8);
        p[3] = 255;
    }
}

/* The busy static picture with a small square moving over it. */
static void fill_static_square(uint8_t *p, int w, int h, int k)
{
    fill_static(p, w, h, 0);
    for (int y = 20; y < 28; y++)
        for (int x = 10 + 2 * k; x < 18 + 2 * k; x++)
            memcpy(p + ((size_t)y * w + x) * 4, (uint8_t[]){255, 255, 0, 255}, 4);
}

/* 256 x 160 flat colours with squares that change only the top half (frame 1), only the
 * bottom half (2, 3), across the middle row (4), nothing (5), everything (6). */
static void fill_halves(uint8_t *p, int w, int h, int k)
{
    const uint8_t bg[3] = {k < 6 ? 30 : 240, 120, k < 6 ? 200 : 20};
    const struct {
        int x, y, from, to; /* drawn in frames [from, to] */
    } sq[] = {{10, 10, 0, 0}, {14, 10, 1, 6}, {100, 120, 2, 2}, {104, 120, 3, 6}, {180, 74, 4, 6}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++, p += 4) {
            p[0] = bg[0], p[1] = bg[1], p[2] = bg[2], p[3] = 255;
            for (size_t i = 0; i < sizeof(sq) / sizeof(sq[0]); i++)
                if (k >= sq[i].from && k <= sq[i].to && x >= sq[i].x && x < sq[i].x + 12 &&
                    y >= sq[i].y && y < sq[i].y + 12)
                    p[0] = 250, p[1] = 220, p[2] = (uint8_t)(40 * i);
        }
}

/* ---- tests ---- */

/* 3 fps: delays 33, 34, 33, ... rounded from the times, summing to the exact duration; one
 * NETSCAPE2.0 loop extension with count 0; the logical screen is the animation's size. */
static void delays_loop_and_screen(void **state)
{
    (void)state;
    char *path = tmp_path("fps3.gif");
    anim_spec s = {.w = 48, .h = 32, .n = 10, .fps = 3, .t_end = 10 / 3.0, .fill = fill_gradient};
    assert_int_equal(write_anim(path, &s), 10);
    GifFileType *g = slurp(path);
    assert_int_equal(g->SWidth, 48);
    assert_int_equal(g->SHeight, 32);
    assert_int_equal(g->ImageCount, 10);
    for (int k = 0; k < 10; k++) {
        int want = (int)(llround((k + 1) * 100 / 3.0) - llround(k * 100 / 3.0));
        assert_int_equal(gcb_of(g, k).DelayTime, want);
        assert_true(want == 33 || want == 34);
    }
    assert_int_equal(gcb_of(g, 1).DelayTime, 34);
    assert_int_equal(total_delay(g), 333);
    /* giflib files extensions before the first image under that image. */
    int loops = 0;
    const SavedImage *first = &g->SavedImages[0];
    for (int i = 0; i < first->ExtensionBlockCount; i++) {
        const ExtensionBlock *e = &first->ExtensionBlocks[i];
        if (e->Function != APPLICATION_EXT_FUNC_CODE || e->ByteCount != 11 ||
            memcmp(e->Bytes, "NETSCAPE2.0", 11) != 0)
            continue;
        assert_true(i + 1 < first->ExtensionBlockCount);
        const ExtensionBlock *sub = &first->ExtensionBlocks[i + 1];
        assert_int_equal(sub->Function, CONTINUE_EXT_FUNC_CODE);
        assert_int_equal(sub->ByteCount, 3);
        assert_int_equal(sub->Bytes[0], 1);
        assert_int_equal(sub->Bytes[1] | sub->Bytes[2] << 8, 0); /* forever */
        loops++;
    }
    assert_int_equal(loops, 1);
    /* The first frame covers the screen, opaque. */
    assert_int_equal(first->ImageDesc.Width, 48);
    assert_int_equal(first->ImageDesc.Height, 32);
    assert_int_equal(gcb_of(g, 0).TransparentColor, NO_TRANSPARENT_COLOR);
    for (int k = 0; k < 10; k++)
        assert_int_equal(gcb_of(g, k).DisposalMode, DISPOSE_DO_NOT);
    unslurp(g);
    /* created like any file (giflib's EGifOpenFileName() would make it 0600) */
    mode_t um = umask(0);
    umask(um);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~um);
    free(path);
}

/* Smooth gradients come back close (dithered); flat colours come back exactly, whatever
 * the input alpha, with later frames reduced to what changed. */
static void pixels_survive(void **state)
{
    (void)state;
    char *path = tmp_path("gradient.gif");
    anim_spec s = {.w = 64, .h = 48, .n = 6, .fps = 10, .t_end = 0.6, .fill = fill_gradient};
    assert_int_equal(write_anim(path, &s), 6);
    GifFileType *g = slurp(path);
    diff df = compare(g, &s, NULL);
    assert_true(df.mean < 5.5); /* dithered: pixels wander, 4x4 averages stay close */
    assert_true(df.worst < 6.5);
    assert_true(df.block < 1.6);
    unslurp(g);
    free(path);

    path = tmp_path("flat.gif");
    anim_spec f = {.w = 60, .h = 20, .n = 12, .fps = 5, .t_end = 12 / 5.0, .fill = fill_flat};
    assert_int_equal(write_anim(path, &f), 12);
    g = slurp(path);
    assert_int_equal(g->ImageCount, 12);
    df = compare(g, &f, NULL);
    assert_true(df.worst == 0.0);
    /* Frame 1 only moves the square: 4 columns left it, 4 joined it. */
    const GifImageDesc *d = &g->SavedImages[1].ImageDesc;
    assert_true(d->Width <= 14 && d->Height <= 10);
    assert_true(gcb_of(g, 1).TransparentColor != NO_TRANSPARENT_COLOR);
    unslurp(g);
    free(path);
}

/* After the first frame a static picture costs a transparent pixel per frame; a small
 * moving square costs about its own rectangle. */
static void static_scene_is_cheap(void **state)
{
    (void)state;
    char *path = tmp_path("static.gif");
    anim_spec s = {.w = 96, .h = 64, .n = 8, .fps = 10, .t_end = 0.8, .fill = fill_static};
    assert_int_equal(write_anim(path, &s), 8);
    GifFileType *g = slurp(path);
    assert_int_equal(g->ImageCount, 8);
    for (int i = 1; i < 8; i++) {
        const GifImageDesc *d = &g->SavedImages[i].ImageDesc;
        assert_int_equal(d->Width * d->Height, 1);
        assert_int_equal(g->SavedImages[i].RasterBits[0], gcb_of(g, i).TransparentColor);
    }
    diff df = compare(g, &s, NULL);
    assert_true(df.worst < 15); /* noise is the worst case for a palette; just not garbage */
    assert_true(df.block < 3.5);
    unslurp(g);
    free(path);

    path = tmp_path("square.gif");
    anim_spec q = {.w = 96, .h = 64, .n = 8, .fps = 10, .t_end = 0.8, .fill = fill_static_square};
    assert_int_equal(write_anim(path, &q), 8);
    g = slurp(path);
    for (int i = 1; i < 8; i++) {
        const GifImageDesc *d = &g->SavedImages[i].ImageDesc;
        /* old and new square: 10 x 8 at most */
        assert_true(d->Width <= 10 && d->Height <= 8);
        assert_true(d->Left >= 10 && d->Top >= 20);
    }
    unslurp(g);
    free(path);
}

/* 60 fps: frames less than 2 cs after the last kept one are dropped, so every delay is at
 * least 2 and the total stays exact; mc_anim_frames() counts what is in the file. */
static void fast_frames_are_dropped(void **state)
{
    (void)state;
    char *path = tmp_path("fps60.gif");
    anim_spec s = {.w = 32, .h = 24, .n = 60, .fps = 60, .t_end = 1.0, .fill = fill_gradient};
    int64_t kept = write_anim(path, &s);
    GifFileType *g = slurp(path);
    assert_int_equal(g->ImageCount, kept);
    assert_true(kept < 60 && kept >= 30);
    int kept_idx[60], n = 0;
    int64_t last = -100;
    for (int k = 0; k < 60; k++) /* the rule, replayed */
        if (llround(k * 100 / 60.0) - last >= 2)
            kept_idx[n++] = k, last = llround(k * 100 / 60.0);
    assert_int_equal(n, kept);
    for (int i = 0; i < g->ImageCount; i++)
        assert_true(gcb_of(g, i).DelayTime >= 2);
    assert_int_equal(total_delay(g), 100);
    diff df = compare(g, &s, kept_idx);
    assert_true(df.mean < 5.5);
    assert_true(df.block < 1.2);
    unslurp(g);
    free(path);
}

/* An end less than 2 cs after the last frame: the last frame starts earlier, the total
 * stays exact; with a single frame the animation lasts 2 cs. */
static void last_frame_gets_two_cs(void **state)
{
    (void)state;
    char *path = tmp_path("short_end.gif");
    static const double t[] = {0, 0.5};
    anim_spec s = {.w = 16, .h = 16, .n = 2, .t = t, .t_end = 0.505, .fill = fill_flat};
    assert_int_equal(write_anim(path, &s), 2);
    GifFileType *g = slurp(path);
    assert_int_equal(g->ImageCount, 2);
    assert_int_equal(gcb_of(g, 0).DelayTime, 49);
    assert_int_equal(gcb_of(g, 1).DelayTime, 2);
    assert_int_equal(total_delay(g), 51);
    unslurp(g);
    free(path);

    path = tmp_path("one.gif");
    static const double t1[] = {0};
    anim_spec o = {.w = 1, .h = 1, .n = 1, .t = t1, .t_end = 0.001, .fill = fill_flat};
    assert_int_equal(write_anim(path, &o), 1);
    g = slurp(path);
    assert_int_equal(g->ImageCount, 1);
    assert_int_equal(gcb_of(g, 0).DelayTime, 2);
    unslurp(g);
    free(path);
}

static long file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

/* quality reaches libimagequant: 10 makes small palettes and a smaller file than 100. */
static void quality_sets_palette(void **state)
{
    (void)state;
    char *hi = tmp_path("q100.gif"), *lo = tmp_path("q10.gif");
    anim_spec s = {
        .w = 64, .h = 48, .quality = 100, .n = 4, .fps = 10, .t_end = 0.4, .fill = fill_gradient};
    assert_int_equal(write_anim(hi, &s), 4);
    s.quality = 10;
    assert_int_equal(write_anim(lo, &s), 4);
    assert_true(file_size(lo) < file_size(hi) * 3 / 4);
    GifFileType *g = slurp(lo);
    for (int i = 0; i < g->ImageCount; i++) {
        const ColorMapObject *cm = g->SavedImages[i].ImageDesc.ColorMap;
        assert_true((cm ? cm : g->SColorMap)->ColorCount <= 16);
    }
    unslurp(g);
    g = slurp(hi);
    assert_true(g->SColorMap->ColorCount > 128);
    unslurp(g);
    free(hi);
    free(lo);
}

/* A picture of 32768 pixels or more is remapped in two bands of rows on two threads; the
 * frames join exactly, each cropped to what changed wherever that is, and the dithering
 * seam in the middle does not show. */
static void two_bands_join(void **state)
{
    (void)state;
    char *path = tmp_path("halves.gif");
    anim_spec s = {.w = 256, .h = 160, .n = 7, .fps = 10, .t_end = 0.7, .fill = fill_halves};
    assert_int_equal(write_anim(path, &s), 7);
    GifFileType *g = slurp(path);
    assert_int_equal(g->ImageCount, 7);
    assert_true(compare(g, &s, NULL).worst == 0.0);
    const GifImageDesc *d = &g->SavedImages[1].ImageDesc; /* the top square moved */
    assert_true(d->Top >= 10 && d->Top + d->Height <= 22 && d->Width <= 16);
    for (int i = 2; i <= 3; i++) { /* the bottom one came, then moved */
        d = &g->SavedImages[i].ImageDesc;
        assert_true(d->Top >= 120 && d->Top + d->Height <= 132 && d->Width <= 16);
    }
    d = &g->SavedImages[4].ImageDesc; /* one square across the middle */
    assert_true(d->Top == 74 && d->Height == 12 && d->Left == 180 && d->Width == 12);
    d = &g->SavedImages[5].ImageDesc;
    assert_int_equal(d->Width * d->Height, 1);
    d = &g->SavedImages[6].ImageDesc; /* new background: everything but the squares */
    assert_true(d->Left == 0 && d->Top == 0 && d->Width == 256 && d->Height == 160);
    unslurp(g);
    free(path);

    path = tmp_path("gradient_bands.gif");
    anim_spec q = {.w = 256, .h = 160, .n = 4, .fps = 10, .t_end = 0.4, .fill = fill_gradient};
    assert_int_equal(write_anim(path, &q), 4);
    g = slurp(path);
    diff df = compare(g, &q, NULL);
    assert_true(df.mean < 5.5);
    assert_true(df.block < 1.5);
    /* 4x4 blocks on the seam (rows 78..81) about as close as inside the top band */
    assert_true(row_block_error(g, &q, 78) < 1.3 * row_block_error(g, &q, 38));
    unslurp(g);
    free(path);
}

/* Every failure comes back as a negative code with a message; nothing leaks, and free
 * works on a writer that failed or never got a frame. */
static void errors(void **state)
{
    (void)state;
    mc_err err;
    mc_anim *a = NULL;
    mc_anim_opts o = {.format = MC_ANIM_GIF, .width = 16, .height = 16};
    uint8_t px[16 * 16 * 4] = {0};

    mc_err_clear(&err);
    char *bad = tmp_path("missing-dir/x.gif");
    assert_int_equal(mc_anim_open(bad, &o, &a, &err), -ENOENT);
    assert_null(a);
    assert_non_null(strstr(err.msg, "cannot create"));
    free(bad);

    mc_err_clear(&err);
    mc_anim_opts big = {.format = MC_ANIM_GIF, .width = 16, .height = 20000};
    char *path = tmp_path("errors.gif");
    assert_int_equal(mc_anim_open(path, &big, &a, &err), -EINVAL);
    mc_anim_opts zero = {.format = MC_ANIM_GIF, .width = 0, .height = 16};
    assert_int_equal(mc_anim_open(path, &zero, &a, &err), -EINVAL);
    mc_anim_opts q = {.format = MC_ANIM_GIF, .width = 16, .height = 16, .quality = 101};
    assert_int_equal(mc_anim_open(path, &q, &a, &err), -EINVAL);
    assert_null(a);

    /* finish without frames, then free */
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    assert_int_equal(mc_anim_finish(a, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "at least one frame"));
    mc_anim_free(&a);
    assert_null(a);
    mc_anim_free(&a); /* NULL is fine */

    /* out of order and repeated times */
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    assert_int_equal(mc_anim_add(a, px, 64, 1.0, &err), 0);
    assert_int_equal(mc_anim_add(a, px, 64, 0.5, &err), -EINVAL);
    assert_int_equal(mc_anim_add(a, px, 64, 1.0, &err), -EINVAL);
    assert_int_equal(mc_anim_add(a, px, 64, -1.0, &err), -EINVAL);
    assert_int_equal(mc_anim_add(a, px, 32, 2.0, &err), -EINVAL); /* stride too small */
    assert_int_equal(mc_anim_finish(a, 1.0, &err), -EINVAL);      /* end not after */
    assert_int_equal(mc_anim_frames(a), 1);
    mc_anim_free(&a); /* unfinished */

    /* unfinished with frames at both stages: the worker is joined, its palettes freed */
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    for (int k = 0; k < 4; k++) {
        px[k * 4] = (uint8_t)(40 * k + 10);
        assert_int_equal(mc_anim_add(a, px, 64, k, &err), 0);
    }
    mc_anim_free(&a);
    memset(px, 0, sizeof(px));

    /* a delay GIF cannot hold, and times too far to count in centiseconds */
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    assert_int_equal(mc_anim_add(a, px, 64, 0, &err), 0);
    assert_int_equal(mc_anim_add(a, px, 64, 700.0, &err), MC_ELIMIT);
    assert_non_null(strstr(err.msg, "655.35"));
    assert_int_equal(mc_anim_add(a, px, 64, 600.0, &err), 0); /* rejected, not broken */
    assert_int_equal(mc_anim_finish(a, 601.0, &err), 0);
    assert_int_equal(mc_anim_frames(a), 2);
    mc_anim_free(&a);
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    assert_int_equal(mc_anim_add(a, px, 64, 0, &err), 0);
    assert_int_equal(mc_anim_finish(a, 1e300, &err), MC_ELIMIT);
    mc_anim_free(&a);
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(path, &o, &a, &err), 0);
    assert_int_equal(mc_anim_add(a, px, 64, 0, &err), 0);
    assert_int_equal(mc_anim_finish(a, 656.0, &err), MC_ELIMIT);
    mc_anim_free(&a);

    /* a full device: written and closed, the error is reported */
    FILE *probe = fopen("/dev/full", "wb");
    if (probe) {
        fclose(probe);
        mc_err_clear(&err);
        assert_int_equal(mc_anim_open("/dev/full", &o, &a, &err), 0);
        assert_int_equal(mc_anim_add(a, px, 64, 0, &err), 0);
        assert_int_equal(mc_anim_finish(a, 1.0, &err), -ENOSPC);
        assert_non_null(strstr(err.msg, "closing the file"));
        mc_anim_free(&a);
    }
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delays_loop_and_screen), cmocka_unit_test(pixels_survive),
        cmocka_unit_test(static_scene_is_cheap),  cmocka_unit_test(fast_frames_are_dropped),
        cmocka_unit_test(last_frame_gets_two_cs), cmocka_unit_test(quality_sets_palette),
        cmocka_unit_test(two_bands_join),         cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, t_tmpdir_group_setup, t_tmpdir_group_teardown);
}
