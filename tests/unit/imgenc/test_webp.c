/*
 * Unit tests of the WebP writers (src/imgenc/webp.c): animations through mc_anim, read back
 * with libwebp's demuxer and animation decoder (FFmpeg 5.1 cannot decode animated WebP), and
 * still pictures through mc_webp_write(). Files go to a fresh folder under $MC_TEST_TMP,
 * removed at the end.
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

#include <webp/decode.h>
#include <webp/demux.h>

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

/* The whole file, malloc'ed (the caller frees .bytes). */
static WebPData read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    assert_true(size > 0);
    rewind(fp);
    uint8_t *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    return (WebPData){bytes, (size_t)size};
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Test pictures: opaque RGBA, `stride` bytes a row. */
typedef struct picture {
    int w, h;
    size_t stride;
    uint8_t *px;
} picture;

static picture pic_new(int w, int h, size_t pad)
{
    picture p = {w, h, (size_t)w * 4 + pad, NULL};
    p.px = calloc(p.stride, (size_t)h);
    assert_non_null(p.px);
    return p;
}

static uint8_t *pix(const picture *p, int x, int y)
{
    return p->px + (size_t)y * p->stride + (size_t)x * 4;
}

/* Smooth gradients with a soft bump of light that moves with `k`: easy for lossy, and every
 * k differs. Alpha is left at 0: the writers must treat pictures as opaque whatever it holds. */
static void draw_scene(picture *p, int k)
{
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            double dx = x - (12 + 6 * k), dy = y - p->h / 2;
            int bump = (int)lround(50 * exp(-(dx * dx + dy * dy) / 50.0));
            uint8_t *q = pix(p, x, y);
            q[0] = (uint8_t)(40 + x * 160 / p->w + bump);
            q[1] = (uint8_t)(40 + y * 160 / p->h + bump);
            q[2] = (uint8_t)(90 + 20 * k + bump);
            q[3] = 0;
        }
}

/* Pseudo-random colours (many of them), seeded with k. */
static void draw_noise(picture *p, uint32_t k)
{
    uint32_t s = 2463534242u ^ (k * 2654435761u);
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            uint8_t *q = pix(p, x, y);
            q[0] = (uint8_t)s, q[1] = (uint8_t)(s >> 8), q[2] = (uint8_t)(s >> 16), q[3] = 255;
        }
}

static void draw_flat(picture *p, uint8_t r, uint8_t g, uint8_t b)
{
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            uint8_t *q = pix(p, x, y);
            q[0] = r, q[1] = g, q[2] = b, q[3] = 255;
        }
}

/* PSNR of the RGB of `dec` (packed RGBA) against `p`; 99 when equal. */
static double psnr(const picture *p, const uint8_t *dec)
{
    double se = 0;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++)
            for (int c = 0; c < 3; c++) {
                double d = (double)pix(p, x, y)[c] - dec[((size_t)y * p->w + x) * 4 + c];
                se += d * d;
            }
    double mse = se / ((double)p->w * p->h * 3);
    return mse == 0 ? 99 : 10 * log10(255.0 * 255.0 / mse);
}

static bool same_rgb(const picture *p, const uint8_t *dec)
{
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++)
            if (memcmp(pix(p, x, y), dec + ((size_t)y * p->w + x) * 4, 3) ||
                dec[((size_t)y * p->w + x) * 4 + 3] != 255)
                return false;
    return true;
}

/* What the file says, frame by frame, through the demuxer. */
#define MAX_FRAMES 16
typedef struct anim_info {
    int canvas_w, canvas_h, loop_count, frames;
    int duration[MAX_FRAMES]; /* ms */
    int format[MAX_FRAMES];   /* 1 lossy, 2 lossless (WebPBitstreamFeatures.format) */
    bool animated;
} anim_info;

static anim_info demux_info(const char *path)
{
    anim_info ai = {0};
    WebPData data = read_all(path);
    WebPDemuxer *dmux = WebPDemux(&data);
    assert_non_null(dmux);
    ai.canvas_w = (int)WebPDemuxGetI(dmux, WEBP_FF_CANVAS_WIDTH);
    ai.canvas_h = (int)WebPDemuxGetI(dmux, WEBP_FF_CANVAS_HEIGHT);
    ai.loop_count = (int)WebPDemuxGetI(dmux, WEBP_FF_LOOP_COUNT);
    ai.frames = (int)WebPDemuxGetI(dmux, WEBP_FF_FRAME_COUNT);
    ai.animated = WebPDemuxGetI(dmux, WEBP_FF_FORMAT_FLAGS) & ANIMATION_FLAG;
    assert_in_range(ai.frames, 1, MAX_FRAMES);
    WebPIterator it;
    assert_true(WebPDemuxGetFrame(dmux, 1, &it));
    int i = 0;
    do {
        WebPBitstreamFeatures f;
        assert_int_equal(WebPGetFeatures(it.fragment.bytes, it.fragment.size, &f), VP8_STATUS_OK);
        ai.duration[i] = it.duration;
        ai.format[i] = f.format;
        i++;
    } while (WebPDemuxNextFrame(&it));
    assert_int_equal(i, ai.frames);
    WebPDemuxReleaseIterator(&it);
    WebPDemuxDelete(dmux);
    free((void *)data.bytes);
    return ai;
}

/* Every frame decoded onto the canvas (RGBA), with its end time in ms. */
typedef struct anim_frames {
    int n, w, h;
    int end_ms[MAX_FRAMES];
    uint8_t *rgba[MAX_FRAMES];
} anim_frames;

static anim_frames decode_all(const char *path)
{
    anim_frames af = {0};
    WebPData data = read_all(path);
    WebPAnimDecoderOptions o;
    assert_true(WebPAnimDecoderOptionsInit(&o));
    o.color_mode = MODE_RGBA;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &o);
    assert_non_null(dec);
    WebPAnimInfo info;
    assert_true(WebPAnimDecoderGetInfo(dec, &info));
    af.w = (int)info.canvas_width;
    af.h = (int)info.canvas_height;
    size_t size = (size_t)af.w * af.h * 4;
    while (WebPAnimDecoderHasMoreFrames(dec)) {
        uint8_t *buf;
        assert_true(af.n < MAX_FRAMES);
        assert_true(WebPAnimDecoderGetNext(dec, &buf, &af.end_ms[af.n]));
        af.rgba[af.n] = malloc(size);
        assert_non_null(af.rgba[af.n]);
        memcpy(af.rgba[af.n], buf, size);
        af.n++;
    }
    WebPAnimDecoderDelete(dec);
    free((void *)data.bytes);
    return af;
}

static void frames_free(anim_frames *af)
{
    for (int i = 0; i < af->n; i++)
        free(af->rgba[i]);
    af->n = 0;
}

static mc_anim *open_webp(const char *path, int w, int h, int quality, bool lossless, bool mixed)
{
    mc_anim_opts o = {.format = MC_ANIM_WEBP,
                      .width = w,
                      .height = h,
                      .quality = quality,
                      .lossless = lossless,
                      .allow_mixed = mixed};
    mc_err err;
    mc_err_clear(&err);
    mc_anim *a = NULL;
    int rc = mc_anim_open(path, &o, &a, &err);
    if (rc < 0)
        fail_msg("mc_anim_open: %s", err.msg);
    return a;
}

static void add(mc_anim *a, const picture *p, double t)
{
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_anim_add(a, p->px, p->stride, t, &err);
    if (rc < 0)
        fail_msg("mc_anim_add(%.4f): %s", t, err.msg);
}

static void finish(mc_anim *a, double t_end)
{
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_anim_finish(a, t_end, &err);
    if (rc < 0)
        fail_msg("mc_anim_finish: %s", err.msg);
}

/* ---- animations ---- */

/* 3 fps: each time is rounded on its own, so 333, 334, 333 ms and exactly 2 s in all. */
static void anim_times_do_not_drift(void **state)
{
    (void)state;
    char *path = tmp_path("3fps.webp");
    picture p = pic_new(64, 32, 0);
    mc_anim *a = open_webp(path, p.w, p.h, 0, false, false);
    for (int k = 0; k < 6; k++) {
        draw_scene(&p, k);
        add(a, &p, k / 3.0);
    }
    assert_int_equal(mc_anim_frames(a), 6);
    finish(a, 2.0);
    mc_anim_free(&a);
    assert_null(a);

    anim_info ai = demux_info(path);
    assert_true(ai.animated);
    assert_int_equal(ai.canvas_w, 64);
    assert_int_equal(ai.canvas_h, 32);
    assert_int_equal(ai.loop_count, 0);
    assert_int_equal(ai.frames, 6);
    static const int want[] = {333, 334, 333, 333, 334, 333};
    int total = 0;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(ai.duration[i], want[i]);
        total += ai.duration[i];
    }
    assert_int_equal(total, 2000);

    anim_frames af = decode_all(path);
    assert_int_equal(af.n, 6);
    static const int end[] = {333, 667, 1000, 1333, 1667, 2000};
    for (int i = 0; i < 6; i++)
        assert_int_equal(af.end_ms[i], end[i]);
    frames_free(&af);
    free(p.px);
    free(path);
}

/* Lossy frames decode close to what went in, whatever the stride. */
static void anim_lossy_close(void **state)
{
    (void)state;
    char *path = tmp_path("lossy.webp");
    picture p = pic_new(96, 48, 12);
    mc_anim *a = open_webp(path, p.w, p.h, 0, false, false);
    for (int k = 0; k < 4; k++) {
        draw_scene(&p, k);
        add(a, &p, 0.1 * k);
    }
    finish(a, 0.4);
    mc_anim_free(&a);

    anim_frames af = decode_all(path);
    assert_int_equal(af.n, 4);
    assert_int_equal(af.w, 96);
    assert_int_equal(af.h, 48);
    for (int k = 0; k < 4; k++) {
        draw_scene(&p, k);
        double db = psnr(&p, af.rgba[k]);
        if (db < 35)
            fail_msg("frame %d: PSNR %.1f dB", k, db);
        assert_false(same_rgb(&p, af.rgba[k])); /* it is lossy */
        for (size_t i = 3; i < (size_t)af.w * af.h * 4; i += 4)
            assert_int_equal(af.rgba[k][i], 255); /* opaque, though alpha was 0 */
    }
    frames_free(&af);
    free(p.px);
    free(path);
}

/* Lossless frames come back exactly, noise included. */
static void anim_lossless_exact(void **state)
{
    (void)state;
    char *path = tmp_path("lossless.webp");
    picture p = pic_new(40, 30, 4);
    mc_anim *a = open_webp(path, p.w, p.h, 0, true, false);
    for (int k = 0; k < 3; k++) {
        draw_noise(&p, (uint32_t)k);
        /* Half of the picture stays still from frame to frame. */
        if (k > 0)
            for (int y = 0; y < p.h / 2; y++)
                memset(pix(&p, 0, y), 200, (size_t)p.w * 4);
        add(a, &p, 0.25 * k);
    }
    finish(a, 0.75);
    mc_anim_free(&a);

    anim_info ai = demux_info(path);
    assert_int_equal(ai.frames, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ai.format[i], 2);
        assert_int_equal(ai.duration[i], 250);
    }
    anim_frames af = decode_all(path);
    assert_int_equal(af.n, 3);
    for (int k = 0; k < 3; k++) {
        draw_noise(&p, (uint32_t)k);
        if (k > 0)
            for (int y = 0; y < p.h / 2; y++)
                memset(pix(&p, 0, y), 200, (size_t)p.w * 4);
        for (int y = 0; y < p.h; y++)
            for (int x = 0; x < p.w; x++)
                pix(&p, x, y)[3] = 255;
        assert_true(same_rgb(&p, af.rgba[k]));
    }
    frames_free(&af);
    free(p.px);
    free(path);
}

/* Flat content costs next to nothing lossless. */
static void anim_lossless_flat_is_small(void **state)
{
    (void)state;
    char *path = tmp_path("flat.webp");
    picture p = pic_new(320, 240, 0);
    mc_anim *a = open_webp(path, p.w, p.h, 0, true, false);
    for (int k = 0; k < 8; k++) {
        draw_flat(&p, (uint8_t)(30 * k), 100, 200);
        add(a, &p, 0.1 * k);
    }
    finish(a, 0.8);
    mc_anim_free(&a);
    long raw = 320L * 240 * 4 * 8;
    long size = file_size(path);
    assert_true(size > 0);
    if (size * 100 > raw)
        fail_msg("%ld bytes for %ld of pixels", size, raw);
    anim_info ai = demux_info(path);
    assert_int_equal(ai.frames, 8);
    free(p.px);
    free(path);
}

/* allow_mixed: flat frames lossless, noisy ones lossy; without it, all lossy. */
static void anim_allow_mixed(void **state)
{
    (void)state;
    for (int mixed = 0; mixed <= 1; mixed++) {
        char *path = tmp_path(mixed ? "mixed.webp" : "unmixed.webp");
        picture p = pic_new(64, 64, 0);
        mc_anim *a = open_webp(path, p.w, p.h, 0, false, mixed);
        draw_flat(&p, 10, 20, 30);
        add(a, &p, 0);
        draw_noise(&p, 7);
        add(a, &p, 0.5);
        draw_flat(&p, 250, 20, 30);
        add(a, &p, 1.0);
        finish(a, 1.5);
        mc_anim_free(&a);

        anim_info ai = demux_info(path);
        assert_int_equal(ai.frames, 3);
        assert_int_equal(ai.format[0], mixed ? 2 : 1);
        assert_int_equal(ai.format[1], 1);
        assert_int_equal(ai.format[2], mixed ? 2 : 1);
        anim_frames af = decode_all(path);
        assert_int_equal(af.n, 3);
        draw_flat(&p, 250, 20, 30);
        if (mixed)
            assert_true(same_rgb(&p, af.rgba[2]));
        else
            assert_true(psnr(&p, af.rgba[2]) > 35);
        frames_free(&af);
        free(p.px);
        free(path);
    }
}

/* Times closer than 1 ms still give every frame at least 1 ms, and the next frame takes
 * back the difference. */
static void anim_close_times(void **state)
{
    (void)state;
    char *path = tmp_path("close.webp");
    picture p = pic_new(48, 32, 0);
    mc_anim *a = open_webp(path, p.w, p.h, 0, false, false);
    static const double t[] = {0, 0.0004, 0.0006, 0.5};
    for (int k = 0; k < 4; k++) {
        draw_scene(&p, k);
        add(a, &p, t[k]);
    }
    finish(a, 1.0);
    mc_anim_free(&a);
    anim_info ai = demux_info(path);
    assert_int_equal(ai.frames, 4);
    static const int want[] = {1, 1, 498, 500};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ai.duration[i], want[i]);
    free(p.px);
    free(path);
}

/* A single frame is a valid file of the right size (libwebp may store it as a still). */
static void anim_single_frame(void **state)
{
    (void)state;
    char *path = tmp_path("one.webp");
    picture p = pic_new(33, 17, 0);
    draw_scene(&p, 1);
    mc_anim *a = open_webp(path, p.w, p.h, 90, false, false);
    add(a, &p, 0);
    finish(a, 2.5);
    mc_anim_free(&a);
    anim_frames af = decode_all(path);
    assert_int_equal(af.n, 1);
    assert_int_equal(af.w, 33);
    assert_int_equal(af.h, 17);
    assert_true(psnr(&p, af.rgba[0]) > 35);
    frames_free(&af);
    free(p.px);
    free(path);
}

/* The smallest picture, and the widest WebP allows, in both modes. */
static void anim_extreme_sizes(void **state)
{
    (void)state;
    static const int size[][2] = {{1, 1}, {16383, 2}, {3, 5}};
    for (size_t i = 0; i < sizeof(size) / sizeof(size[0]); i++)
        for (int lossless = 0; lossless <= 1; lossless++) {
            char *path = tmp_path("extreme.webp");
            picture p = pic_new(size[i][0], size[i][1], 0);
            mc_anim *a = open_webp(path, p.w, p.h, 0, lossless, false);
            draw_flat(&p, 0, 0, 0);
            add(a, &p, 0);
            draw_noise(&p, 3);
            add(a, &p, 0.04);
            finish(a, 0.08);
            mc_anim_free(&a);
            anim_frames af = decode_all(path);
            assert_int_equal(af.n, 2);
            assert_int_equal(af.w, p.w);
            assert_int_equal(af.h, p.h);
            assert_int_equal(af.end_ms[1], 80);
            if (lossless)
                assert_true(same_rgb(&p, af.rgba[1]));
            frames_free(&af);
            free(p.px);
            free(path);
        }
}

static void anim_errors(void **state)
{
    (void)state;
    mc_err err;
    picture p = pic_new(16, 16, 0);
    draw_scene(&p, 0);

    /* An unwritable path fails at open, and *out is left alone. */
    char *bad = tmp_path("no/such/folder/x.webp");
    mc_anim_opts o = {.format = MC_ANIM_WEBP, .width = 16, .height = 16};
    mc_anim *a = NULL;
    mc_err_clear(&err);
    assert_int_equal(mc_anim_open(bad, &o, &a, &err), -ENOENT);
    assert_null(a);
    assert_non_null(strstr(err.msg, bad));
    assert_int_equal(file_size(bad), -1);
    free(bad);

    /* The file is there from open on; finishing without a frame fails. */
    char *path = tmp_path("errors.webp");
    a = open_webp(path, 16, 16, 0, false, false);
    assert_int_equal(file_size(path), 0);
    mc_err_clear(&err);
    assert_int_equal(mc_anim_finish(a, 1.0, &err), -EINVAL);
    assert_true(err.msg[0] != '\0');
    mc_anim_free(&a);

    /* Times beyond what the format holds are refused, and the writer carries on. */
    a = open_webp(path, 16, 16, 0, false, false);
    add(a, &p, 0);
    mc_err_clear(&err);
    assert_int_equal(mc_anim_add(a, p.px, p.stride, 20000.0, &err), MC_ELIMIT); /* 5.6 h */
    assert_non_null(strstr(err.msg, "webp"));
    mc_err_clear(&err);
    assert_int_equal(mc_anim_add(a, p.px, p.stride, 1e300, &err), MC_ELIMIT);
    draw_scene(&p, 1);
    add(a, &p, 1.0);
    mc_err_clear(&err);
    assert_int_equal(mc_anim_finish(a, 1e12, &err), MC_ELIMIT);
    mc_anim_free(&a);

    a = open_webp(path, 16, 16, 0, false, false);
    add(a, &p, 0);
    draw_scene(&p, 0);
    add(a, &p, 1.0);
    finish(a, 2.0);
    assert_int_equal(mc_anim_frames(a), 2);
    mc_anim_free(&a);
    anim_info ai = demux_info(path);
    assert_int_equal(ai.frames, 2);
    assert_int_equal(ai.duration[0], 1000);
    assert_int_equal(ai.duration[1], 1000);

    /* Freeing an unfinished animation, with or without frames, leaks nothing. */
    a = open_webp(path, 16, 16, 0, false, false);
    mc_anim_free(&a);
    a = open_webp(path, 16, 16, 0, true, true);
    add(a, &p, 0);
    mc_anim_free(&a);
    mc_anim_free(&a); /* NULL is fine */
    mc_anim_free(NULL);

    free(path);
    free(p.px);
}

/* ---- still pictures ---- */

static void still_round_trip(void **state)
{
    (void)state;
    char *path = tmp_path("still.webp");
    picture p = pic_new(50, 40, 8);
    mc_err err;

    for (int lossless = 0; lossless <= 1; lossless++) {
        draw_scene(&p, 2);
        mc_err_clear(&err);
        int rc = mc_webp_write(path, p.px, p.stride, p.w, p.h, 0, lossless, &err);
        if (rc < 0)
            fail_msg("mc_webp_write: %s", err.msg);
        WebPData data = read_all(path);
        WebPBitstreamFeatures f;
        assert_int_equal(WebPGetFeatures(data.bytes, data.size, &f), VP8_STATUS_OK);
        assert_int_equal(f.format, lossless ? 2 : 1);
        assert_false(f.has_animation);
        assert_false(f.has_alpha);
        int w = 0, h = 0;
        uint8_t *dec = WebPDecodeRGBA(data.bytes, data.size, &w, &h);
        assert_non_null(dec);
        assert_int_equal(w, 50);
        assert_int_equal(h, 40);
        if (lossless)
            assert_true(same_rgb(&p, dec));
        else if (psnr(&p, dec) < 35)
            fail_msg("PSNR %.1f dB", psnr(&p, dec));
        WebPFree(dec);
        free((void *)data.bytes);
    }
    /* Higher quality, bigger file. */
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(path, p.px, p.stride, p.w, p.h, 10, false, &err), 0);
    long low = file_size(path);
    assert_int_equal(mc_webp_write(path, p.px, p.stride, p.w, p.h, 100, false, &err), 0);
    assert_true(file_size(path) > low);
    free(path);
    free(p.px);
}

static void still_errors(void **state)
{
    (void)state;
    picture p = pic_new(8, 8, 0);
    mc_err err;

    char *bad = tmp_path("no/such/folder/still.webp");
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(bad, p.px, p.stride, 8, 8, 0, false, &err), -ENOENT);
    assert_non_null(strstr(err.msg, bad));
    free(bad);

    char *path = tmp_path("bad-args.webp");
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(path, p.px, p.stride, 0, 8, 0, false, &err), -EINVAL);
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(path, p.px, p.stride, 16384, 8, 0, false, &err), -EINVAL);
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(path, p.px, p.stride, 8, 8, 101, false, &err), -EINVAL);
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(path, p.px, 31, 8, 8, 0, false, &err), -EINVAL);
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write(path, NULL, p.stride, 8, 8, 0, false, &err), -EINVAL);
    mc_err_clear(&err);
    assert_int_equal(mc_webp_write("", p.px, p.stride, 8, 8, 0, false, &err), -EINVAL);
    assert_int_equal(mc_webp_write(path, p.px, p.stride, 8, 8, -1, false, NULL), -EINVAL);
    assert_int_equal(file_size(path), -1); /* nothing written */
    free(path);
    free(p.px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(anim_times_do_not_drift),
        cmocka_unit_test(anim_lossy_close),
        cmocka_unit_test(anim_lossless_exact),
        cmocka_unit_test(anim_lossless_flat_is_small),
        cmocka_unit_test(anim_allow_mixed),
        cmocka_unit_test(anim_close_times),
        cmocka_unit_test(anim_single_frame),
        cmocka_unit_test(anim_extreme_sizes),
        cmocka_unit_test(anim_errors),
        cmocka_unit_test(still_round_trip),
        cmocka_unit_test(still_errors),
    };
    return cmocka_run_group_tests(tests, t_tmpdir_group_setup, t_tmpdir_group_teardown);
}
