/*
 * Image outputs (Targets[].Image: Snapshots, Sprites, Animations) through the engine, read
 * back independently of it (test_image_util.h). This file: animations (frame counts,
 * delays, loop), picture sizes per ScaleType, rotation, VFR sampling (fixtures draw their
 * own time), and picture quality (SSIM); test_image_stills.c: snapshots, sprites, sparse
 * decoding, errors, the CLI, and images next to a video target.
 *
 * Synthetic fixtures come from tests/fixtures/make-fixtures.sh; the parts that use the
 * real-media corpus ($MC_MEDIA_DIR) are skipped when it is absent.
 *
 * SSIM measured (after a sigma=1 blur, against the source frame scaled here) when these
 * floors were set: GIF 0.992-0.999 (friday 0.9976, testsrc2 0.9980, fire2 0.9919,
 * no_duration 0.9951, portrait_4k60 0.9939), WebP 0.976-0.996 (testsrc2 0.9764, friday
 * 0.9955, portrait_4k60 0.9882), JPG 0.989-0.998 (portrait_4k60 0.9887, testsrc2 0.9962,
 * friday 0.9977).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc_media.h"
#include "support.h"
#include "test_image_util.h"

/* ---- helpers ---- */

/* Frame delays in a file's unit (cs for GIF, ms for WebP) for playback at `fps`: every
 * delay is one of the two roundings and the running sum follows the exact time (+-1). */
static void expect_delays(const ti_anim *a, double fps, int unit_per_s, const char *what)
{
    long sum = 0;
    for (int i = 0; i < a->frames; i++) {
        double d = unit_per_s / fps;
        if (a->delay[i] != (int)floor(d) && a->delay[i] != (int)ceil(d))
            fail_msg("%s: frame %d delay %d, want %.2f rounded", what, i, a->delay[i], d);
        sum += a->delay[i];
        double exact = (i + 1) * d;
        if (fabs(sum - exact) > 1.0)
            fail_msg("%s: delays up to frame %d sum to %ld, want %.2f +- 1", what, i, sum, exact);
    }
}

static void expect_anim(const mc_result *res, const char *image, int frames, int w, int h,
                        double fps)
{
    ti_anim a = ti_result_anim(res, image, false);
    bool gif = strstr(ti_output_of(res, image)->uri, ".gif") != NULL;
    if (a.frames != frames)
        fail_msg("%s: %d frames, want %d", image, a.frames, frames);
    if ((w && a.width != w) || (h && a.height != h))
        fail_msg("%s: %dx%d, want %dx%d", image, a.width, a.height, w, h);
    if (a.loop != 0)
        fail_msg("%s: loop count %d, want 0 (forever)", image, a.loop);
    expect_delays(&a, fps, gif ? 100 : 1000, image);
    ti_anim_free(&a);
}

/* The number of sample points start + k * interval before `end`. */
static int points_before(double start, double interval, double end)
{
    int n = 0;
    while (start + n * interval < end - 1e-9)
        n++;
    return n;
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

/* A copy of a picture turned by 180 degrees. */
static bool turn_half(const ti_pic *in, ti_pic *out)
{
    size_t n = (size_t)in->w * in->h;
    out->rgba = malloc(n * 4);
    if (!out->rgba)
        return false;
    out->w = in->w;
    out->h = in->h;
    for (size_t i = 0; i < n; i++)
        memcpy(out->rgba + 4 * i, in->rgba + 4 * (n - 1 - i), 4);
    return true;
}

/* ---- 1. animation frame counts and timing ---- */

/* friday.mp4 (6.17 s, 30 fps): Interval 0.5 gives the points 0, 0.5 ... 6.0. */
static void animation_counts_friday(void **state)
{
    (void)state;
    char path[1024];
    const char *src = ti_corpus("friday.mp4", path, sizeof(path));
    if (!src)
        skip();
    mc_result res = ti_run_image(
        src, "\"Animations\":["
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/fr_i05.gif\",\"Interval\":0.5,"
             "\"Width\":160},"
             "{\"Format\":\"webp\",\"URI\":\"oss://output/img/anim/fr_i05.webp\",\"Interval\":0.5,"
             "\"Width\":160},"
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/fr_n5.gif\",\"Interval\":0.5,"
             "\"Number\":5,\"Width\":160},"
             "{\"Format\":\"webp\",\"URI\":\"oss://output/img/anim/fr_s2\",\"Interval\":0.5,"
             "\"StartTime\":2,\"Width\":160},"
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/fr_fps3.gif\",\"Interval\":0.5,"
             "\"FrameRate\":3,\"Width\":160},"
             "{\"Format\":\"webp\",\"URI\":\"oss://output/img/anim/fr_fps3.webp\","
             "\"Interval\":0.5,\"FrameRate\":3,\"Width\":160},"
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/fr_all.gif\",\"Width\":64}]");
    expect_anim(&res, "Image.Animations[0]", 13, 160, 120, 2);
    expect_anim(&res, "Image.Animations[1]", 13, 160, 120, 2);
    expect_anim(&res, "Image.Animations[2]", 5, 160, 120, 2);
    /* No extension: the format's is added. */
    assert_string_equal(ti_output_of(&res, "Image.Animations[3]")->uri,
                        "oss://output/img/anim/fr_s2.webp");
    expect_anim(&res, "Image.Animations[3]", 9, 160, 120, 2);
    expect_anim(&res, "Image.Animations[4]", 13, 160, 120, 3);
    expect_anim(&res, "Image.Animations[5]", 13, 160, 120, 3);
    /* No Interval: every source frame, played at the source's rate. */
    expect_anim(&res, "Image.Animations[6]", 185, 64, 48, 30);
    mc_result_clear(&res);
}

/* The same rules on a synthetic clip (3 s at 25 fps, 75 frames), corpus or not. */
static void animation_counts_synthetic(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/bframes.mp4",
        "\"Animations\":["
        "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/bf_i05.gif\",\"Interval\":0.5},"
        "{\"Format\":\"webp\",\"URI\":\"oss://output/img/anim/bf_i05.webp\",\"Interval\":0.5},"
        "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/bf_all.gif\",\"Width\":80},"
        "{\"Format\":\"webp\",\"URI\":\"oss://output/img/anim/bf_all.webp\",\"Width\":80},"
        "{\"Format\":\"gif\",\"URI\":\"oss://output/img/anim/bf_fps3.gif\",\"Interval\":0.25,"
        "\"FrameRate\":3,\"StartTime\":0.5,\"Number\":7}]");
    expect_anim(&res, "Image.Animations[0]", 6, 320, 240, 2);
    expect_anim(&res, "Image.Animations[1]", 6, 320, 240, 2);
    expect_anim(&res, "Image.Animations[2]", 75, 80, 60, 25);
    expect_anim(&res, "Image.Animations[3]", 75, 80, 60, 25);
    expect_anim(&res, "Image.Animations[4]", 7, 320, 240, 3);
    mc_result_clear(&res);
}

/* ---- 2. sizes per ScaleType ---- */

struct size_case {
    const char *size; /* JSON members */
    const char *type;
    int w, h;
};

/* A 640x480 source into boxes: exact sizes, and the pictures hold what they should. */
static void sizes(void **state)
{
    (void)state;
    static const struct size_case cases[] = {
        {"\"Width\":320,\"Height\":180", "stretch", 320, 180}, /* 0 */
        {"\"Width\":320,\"Height\":180", "crop", 320, 180},    /* 1 */
        {"\"Width\":320,\"Height\":180", "fill", 320, 180},    /* 2: bars left and right */
        {"\"Width\":320,\"Height\":180", "fit", 240, 180},     /* 3 */
        {"\"Width\":160,\"Height\":200", "fill", 160, 200},    /* 4: bars top and bottom */
        {"\"Width\":160,\"Height\":200", "crop", 160, 200},    /* 5 */
        {"\"Width\":160,\"Height\":200", "fit", 160, 120},     /* 6 */
        {"\"Width\":0.5,\"Height\":0.5", "stretch", 320, 240}, /* 7 */
        {"\"Width\":200", "fill", 200, 150},                   /* 8: height follows */
        {"\"Height\":90", "crop", 120, 90},                    /* 9: width follows */
        {"\"Width\":0.5", "fit", 320, 240},                    /* 10 */
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    char image[8192];
    size_t len = (size_t)snprintf(image, sizeof(image), "\"Snapshots\":[");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(image + len, sizeof(image) - len,
                                "%s{\"Format\":\"png\",\"URI\":\"oss://output/img/size/s%d.png\","
                                "\"Number\":1,%s,\"ScaleType\":\"%s\"}",
                                i ? "," : "", i, cases[i].size, cases[i].type);
    snprintf(image + len, sizeof(image) - len,
             "],\"Animations\":["
             "{\"Format\":\"webp\",\"URI\":\"oss://output/img/size/a0.webp\",\"Number\":2,"
             "\"Width\":320,\"Height\":180,\"ScaleType\":\"fill\",\"Lossless\":true},"
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/size/a1.gif\",\"Number\":2,"
             "\"Width\":320,\"Height\":180,\"ScaleType\":\"crop\"},"
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/size/a2.gif\",\"Number\":2,"
             "\"Width\":320,\"Height\":180,\"ScaleType\":\"fit\"}]");
    mc_result res = ti_run_image("oss://fixtures/box43.mp4", image);

    ti_pic pics[N];
    for (int i = 0; i < N; i++) {
        char path[64];
        snprintf(path, sizeof(path), "output/img/size/s%d.png", i);
        if (!ti_read_picture(t_path(path), &pics[i]))
            fail_msg("case %d: %s cannot be read", i, path);
        if (pics[i].w != cases[i].w || pics[i].h != cases[i].h)
            fail_msg("case %d (%s %s): %dx%d, want %dx%d", i, cases[i].size, cases[i].type,
                     pics[i].w, pics[i].h, cases[i].w, cases[i].h);
        char image_name[32];
        snprintf(image_name, sizeof(image_name), "Image.Snapshots[%d]", i);
        const mc_output_info *o = ti_output_of(&res, image_name);
        assert_int_equal(o->info.streams[0].width, cases[i].w);
        assert_int_equal(o->info.streams[0].height, cases[i].h);
    }
    /* The content, against the source scaled here. */
    ti_video src;
    assert_true(ti_decode_video(t_path("fixtures/box43.mp4"), 0, 0, &src));
    struct {
        int w, h;
    } refs[] = {{320, 180}, {320, 240}, {240, 180}, {160, 120}, {267, 200}};
    ti_pic ref[5];
    for (int i = 0; i < 5; i++)
        assert_true(ti_pic_scale(&src.pics[0], refs[i].w, refs[i].h, &ref[i]));
    struct {
        int pic, ref, px, py, rx, ry, w, h;
        const char *what;
    } same[] = {
        {0, 0, 0, 0, 0, 0, 320, 180, "stretch"},
        {1, 1, 0, 0, 0, 30, 320, 180, "crop: the middle rows"},
        {2, 2, 44, 0, 4, 0, 232, 180, "fill: the picture between the bars"},
        {3, 2, 0, 0, 0, 0, 240, 180, "fit"},
        {4, 3, 0, 44, 0, 4, 160, 112, "fill: the picture between the bars"},
        {5, 4, 0, 0, 53, 0, 160, 200, "crop: the middle columns"},
        {6, 3, 0, 0, 0, 0, 160, 120, "fit"},
        {7, 1, 0, 0, 0, 0, 320, 240, "ratio 0.5"},
        {10, 1, 0, 0, 0, 0, 320, 240, "ratio 0.5, fit"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        double d = ti_mad(&pics[same[i].pic], same[i].px, same[i].py, &ref[same[i].ref], same[i].rx,
                          same[i].ry, same[i].w, same[i].h);
        if (d > 4)
            fail_msg("case %d %s: mean abs diff %.2f from the source scaled here", same[i].pic,
                     same[i].what, d);
    }
    /* No black bars where the picture should fill the box (the source's darkest is ~60). */
    int fills[] = {0, 1, 3, 5, 7, 8, 9};
    for (size_t k = 0; k < sizeof(fills) / sizeof(fills[0]); k++) {
        const ti_pic *p = &pics[fills[k]];
        double edges[4] = {ti_mean_level(p, 0, 0, p->w, 2), ti_mean_level(p, 0, p->h - 2, p->w, 2),
                           ti_mean_level(p, 0, 0, 2, p->h), ti_mean_level(p, p->w - 2, 0, 2, p->h)};
        for (int e = 0; e < 4; e++)
            if (edges[e] < 40)
                fail_msg("case %d: edge %d is black (level %.1f)", fills[k], e, edges[e]);
    }
    /* Fill: black bars, 40 px each side: columns for the wide box, rows for the tall one. */
    const ti_pic *wide = &pics[2], *tall = &pics[4];
    double bars[4] = {ti_mean_level(wide, 0, 0, 36, 180), ti_mean_level(wide, 284, 0, 36, 180),
                      ti_mean_level(tall, 0, 0, 160, 36), ti_mean_level(tall, 0, 164, 160, 36)};
    for (int e = 0; e < 4; e++)
        if (bars[e] > 12)
            fail_msg("fill: bar %d is not black (level %.1f)", e, bars[e]);
    for (int y = 0; y < 200; y++) {
        /* Row by row: black rows exactly outside 40..159. */
        double l = ti_mean_level(tall, 0, y, 160, 1);
        bool bar = y < 38 || y >= 162, picture = y >= 42 && y < 158;
        if ((bar && l > 12) || (picture && l < 40))
            fail_msg("fill 160x200: row %d level %.1f", y, l);
    }

    /* Animations: the same geometry. */
    ti_anim a0 = ti_result_anim(&res, "Image.Animations[0]", true);
    ti_anim a1 = ti_result_anim(&res, "Image.Animations[1]", true);
    ti_anim a2 = ti_result_anim(&res, "Image.Animations[2]", true);
    assert_int_equal(a0.width, 320);
    assert_int_equal(a0.height, 180);
    assert_int_equal(a1.width, 320);
    assert_int_equal(a1.height, 180);
    assert_int_equal(a2.width, 240);
    assert_int_equal(a2.height, 180);
    assert_true(ti_mean_level(&a0.pics[0], 0, 0, 36, 180) < 12);
    assert_true(ti_mad(&a0.pics[0], 44, 0, &ref[2], 4, 0, 232, 180) < 4);
    assert_true(ti_mad(&a1.pics[0], 0, 0, &ref[1], 0, 30, 320, 180) < 6);
    assert_true(ti_mad(&a2.pics[0], 0, 0, &ref[2], 0, 0, 240, 180) < 6);
    ti_anim_free(&a0);
    ti_anim_free(&a1);
    ti_anim_free(&a2);
    for (int i = 0; i < 5; i++)
        ti_pic_free(&ref[i]);
    for (int i = 0; i < N; i++)
        ti_pic_free(&pics[i]);
    ti_video_free(&src);
    mc_result_clear(&res);
}

/* ---- 3. rotation ---- */

/* Display rotation 90 (rotated.mp4, coded 320x240): pictures come out 240x320 and match
 * what the ffmpeg program's autorotate made (rotated_ref.mkv). */
static void rotation_synthetic(void **state)
{
    (void)state;
    mc_result res =
        ti_run_image("oss://fixtures/rotated.mp4",
                     "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/rot/s.png\","
                     "\"Number\":1}],"
                     "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/rot/a.gif\","
                     "\"Interval\":0.5,\"Number\":2}]");
    ti_video ref;
    assert_true(ti_decode_video(t_path("fixtures/rotated_ref.mkv"), 0, 0, &ref));
    ti_pic snap;
    assert_true(ti_read_picture(t_path("output/img/rot/s.png"), &snap));
    assert_int_equal(snap.w, 240);
    assert_int_equal(snap.h, 320);
    ti_anim a = ti_result_anim(&res, "Image.Animations[0]", true);
    assert_int_equal(a.width, 240);
    assert_int_equal(a.height, 320);
    double s1 = ti_ssim(&snap, &ref.pics[0]), s2 = ti_ssim(&a.pics[0], &ref.pics[0]);
    print_message("rotation 90: SSIM png %.4f, gif %.4f against ffmpeg's autorotate\n", s1, s2);
    if (s1 < 0.97 || s2 < SSIM_FLOOR_GIF)
        fail_msg("rotated pictures differ from ffmpeg's autorotate: SSIM %.4f, %.4f", s1, s2);
    ti_pic_free(&snap);
    ti_anim_free(&a);
    ti_video_free(&ref);
    mc_result_clear(&res);
}

/* portrait_4k60.mp4: coded 3840x2160, rotation -90, comes out portrait; the reference is
 * the ffmpeg program's own autorotate, scaled to the same size. */
static void rotation_portrait(void **state)
{
    (void)state;
    char path[1024];
    const char *src = ti_corpus("portrait_4k60.mp4", path, sizeof(path));
    if (!src)
        skip();
    const char *ref_path = t_path("output/img/rot/portrait_ref.png");
    const char *ff[] = {"ffmpeg",    "-nostdin", "-y",  "-loglevel",     "error",  "-i", path,
                        "-frames:v", "1",        "-vf", "scale=270:480", ref_path, NULL};
    unlink(ref_path);
    assert_int_equal(ti_spawn(ff, NULL, NULL), 0);
    mc_result res = ti_run_image(
        src, "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/rot/p.jpg\","
             "\"Number\":1,\"Width\":0.125,\"Height\":0.125}],"
             "\"Animations\":[{\"Format\":\"webp\",\"URI\":\"oss://output/img/rot/p.webp\","
             "\"Width\":0.125},"
             "{\"Format\":\"gif\",\"URI\":\"oss://output/img/rot/p.gif\",\"Height\":480}]");
    ti_pic ref, snap;
    assert_true(ti_read_picture(ref_path, &ref));
    assert_true(ti_read_picture(t_path("output/img/rot/p.jpg"), &snap));
    assert_true(snap.h > snap.w);
    assert_int_equal(snap.w, 270);
    assert_int_equal(snap.h, 480);
    ti_anim webp = ti_result_anim(&res, "Image.Animations[0]", true);
    ti_anim gif = ti_result_anim(&res, "Image.Animations[1]", true);
    assert_int_equal(webp.width, 270);
    assert_int_equal(webp.height, 480);
    assert_int_equal(gif.width, 270);
    assert_int_equal(gif.height, 480);
    /* Every source frame; a GIF cannot show frames under 2 cs apart, so at 60 fps it keeps
     * fewer, but plays as long (0.30 s). */
    assert_int_equal(webp.frames, 18);
    assert_in_range(gif.frames, 12, 18);
    int gif_cs = 0;
    for (int i = 0; i < gif.frames; i++)
        gif_cs += gif.delay[i];
    assert_in_range(gif_cs, 29, 31);
    double s[3] = {ti_ssim(&snap, &ref), ti_ssim(&webp.pics[0], &ref), ti_ssim(&gif.pics[0], &ref)};
    print_message("portrait_4k60: SSIM jpg %.4f, webp %.4f, gif %.4f against ffmpeg's "
                  "autorotate\n",
                  s[0], s[1], s[2]);
    if (s[0] < SSIM_FLOOR_JPG || s[1] < SSIM_FLOOR_WEBP || s[2] < SSIM_FLOOR_GIF)
        fail_msg("portrait pictures differ from ffmpeg's autorotate: SSIM %.4f %.4f %.4f", s[0],
                 s[1], s[2]);
    ti_pic_free(&ref);
    ti_pic_free(&snap);
    ti_anim_free(&webp);
    ti_anim_free(&gif);
    mc_result_clear(&res);
}

/* ---- 4. VFR: evenly spaced in time ---- */

/* vfr_code.mp4 draws its time (cs) into each frame; picture k of every output must show
 * the frame displayed at StartTime + k * Interval. */
static void vfr_times(void **state)
{
    (void)state;
    /* Intervals longer than the longest frame (0.22 s): each point has its own frame. */
    static const struct {
        double start, interval;
    } runs[] = {{0, 0.25}, {0.33, 0.3}, {1.05, 0.5}};
    ti_video src;
    assert_true(ti_decode_video(t_path("fixtures/vfr_code.mp4"), 0, 0, &src));
    for (int i = 0; i < src.n; i++)
        if (ti_read_code(&src.pics[i], 10, 32) != (int)lrint(src.t[i] * 100))
            fail_msg("fixture: frame %d at %.3f s draws %d", i, src.t[i],
                     ti_read_code(&src.pics[i], 10, 32));
    t_file f;
    assert_true(t_read(t_path("fixtures/vfr_code.mp4"), &f));
    double end = f.video.end - f.start_time;
    /* Irregular enough: gaps from 10 ms to well over 100 ms. */
    double gmin = 1, gmax = 0;
    for (int i = 1; i < src.n; i++) {
        gmin = min_d(gmin, src.t[i] - src.t[i - 1]);
        gmax = fmax(gmax, src.t[i] - src.t[i - 1]);
    }
    assert_true(gmin < 0.03 && gmax > 0.1);

    char image[4096];
    size_t len = 0;
    for (int r = 0; r < 3; r++)
        len += (size_t)snprintf(
            image + len, sizeof(image) - len,
            "%s{\"Format\":\"png\",\"URI\":\"oss://output/img/vfr/s%d_{index}.png\","
            "\"StartTime\":%g,\"Interval\":%g}",
            r ? "," : "\"Snapshots\":[", r, runs[r].start, runs[r].interval);
    for (int r = 0; r < 3; r++)
        len += (size_t)snprintf(
            image + len, sizeof(image) - len,
            "%s{\"Format\":\"%s\",\"URI\":\"oss://output/img/vfr/a%d.%s\",\"StartTime\":%g,"
            "\"Interval\":%g%s}",
            r ? "," : "],\"Animations\":[", r == 1 ? "webp" : "gif", r, r == 1 ? "webp" : "gif",
            runs[r].start, runs[r].interval, r == 1 ? ",\"Lossless\":true" : "");
    snprintf(image + len, sizeof(image) - len, "]");
    mc_result res = ti_run_image("oss://fixtures/vfr_code.mp4", image);
    for (int r = 0; r < 3; r++) {
        int want = points_before(runs[r].start, runs[r].interval, end);
        char name[32];
        snprintf(name, sizeof(name), "Image.Snapshots[%d]", r);
        const mc_output_info *outs[64];
        size_t n = ti_outputs_of(&res, name, outs, 64);
        snprintf(name, sizeof(name), "Image.Animations[%d]", r);
        ti_anim a = ti_result_anim(&res, name, true);
        if ((int)n != want || a.frames != want)
            fail_msg("start %g interval %g: %zu snapshots and %d animation frames, want %d",
                     runs[r].start, runs[r].interval, n, a.frames, want);
        for (int k = 0; k < want; k++) {
            double t = runs[r].start + k * runs[r].interval;
            int fi = ti_frame_at(&src, t);
            assert_true(fi >= 0);
            int expect = (int)lrint(src.t[fi] * 100);
            ti_pic p;
            assert_true(ti_read_picture(ti_local(outs[k]->uri), &p));
            int got_snap = ti_read_code(&p, 10, 32), got_anim = ti_read_code(&a.pics[k], 10, 32);
            if (got_snap != expect || got_anim != expect)
                fail_msg("start %g interval %g, point %d (%.3f s): snapshot shows the frame at "
                         "%.2f s, animation %.2f s; want the frame shown then, from %.2f s",
                         runs[r].start, runs[r].interval, k, t, got_snap / 100.0, got_anim / 100.0,
                         expect / 100.0);
            ti_pic_free(&p);
        }
        ti_anim_free(&a);
    }
    mc_result_clear(&res);
    ti_video_free(&src);
}

/* The same frames with B-frames (vfr_code_b.mp4), snapshots only, so that the engine decodes
 * sparsely: where a point falls just before a key frame, or after a B-frame that the file's
 * sample durations (DTS gaps) make look short, the picture is still the frame shown then. */
static void vfr_bframes(void **state)
{
    (void)state;
    static const double starts[] = {0, 0.07, 0.11};
    ti_video src;
    assert_true(ti_decode_video(t_path("fixtures/vfr_code_b.mp4"), 0, 0, &src));
    t_file f;
    assert_true(t_read(t_path("fixtures/vfr_code_b.mp4"), &f));
    double end = f.video.end - f.start_time;
    char wrong[2048] = "";
    size_t len = 0;
    int n_wrong = 0;
    for (size_t r = 0; r < sizeof(starts) / sizeof(starts[0]); r++) {
        char image[512];
        snprintf(
            image, sizeof(image),
            "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/vfrb/r%zu_{index}.png\","
            "\"StartTime\":%g,\"Interval\":0.25}]",
            r, starts[r]);
        mc_result res = ti_run_image("oss://fixtures/vfr_code_b.mp4", image);
        const mc_output_info *outs[64];
        size_t n = ti_outputs_of(&res, "Image.Snapshots[0]", outs, 64);
        assert_int_equal((int)n, points_before(starts[r], 0.25, end));
        for (size_t k = 0; k < n; k++) {
            double t = starts[r] + (double)k * 0.25;
            int expect = (int)lrint(src.t[ti_frame_at(&src, t)] * 100);
            ti_pic p;
            assert_true(ti_read_picture(ti_local(outs[k]->uri), &p));
            int got = ti_read_code(&p, 10, 32);
            ti_pic_free(&p);
            if (got != expect) {
                n_wrong++;
                len += (size_t)snprintf(wrong + len, len < sizeof(wrong) ? sizeof(wrong) - len : 0,
                                        "\n  point %.2f s: the frame from %.2f s, want %.2f s", t,
                                        got / 100.0, expect / 100.0);
            }
        }
        mc_result_clear(&res);
    }
    ti_video_free(&src);
    if (n_wrong)
        fail_msg("VFR with B-frames: %d snapshots show another frame than the one shown at "
                 "their point:%s",
                 n_wrong, wrong);
}

/* Phone VFR files of the corpus: frame counts follow the points before the end, and (fire2,
 * rotation 180) each frame is the source frame shown at its point, turned. */
static void vfr_corpus(void **state)
{
    (void)state;
    static const char *const names[] = {"fire2.mp4", "no_duration.webm"};
    bool any = false;
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        const char *src = ti_corpus(names[i], path, sizeof(path));
        if (!src)
            continue;
        any = true;
        t_file f;
        assert_true(t_read(path, &f));
        double end = f.video.end - f.start_time;
        mc_result res = ti_run_image(
            src, "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/vfr/c.gif\","
                 "\"Interval\":0.5,\"Width\":160},"
                 "{\"Format\":\"webp\",\"URI\":\"oss://output/img/vfr/c.webp\","
                 "\"Interval\":0.3,\"StartTime\":0.2,\"Width\":160}]");
        int want0 = points_before(0, 0.5, end), want1 = points_before(0.2, 0.3, end);
        ti_anim a0 = ti_result_anim(&res, "Image.Animations[0]", true);
        print_message("%s: video ends at %.3f s: gif %d frames (want %d)\n", names[i], end,
                      a0.frames, want0);
        if (a0.frames != want0)
            fail_msg("%s: gif %d frames, want %d", names[i], a0.frames, want0);
        ti_video v;
        assert_true(ti_decode_video(path, a0.width, a0.height, &v));
        double worst = 1;
        for (int k = 0; k < a0.frames; k++) {
            const ti_pic *ref = &v.pics[ti_frame_at(&v, k * 0.5)];
            ti_pic turned = {0};
            if (f.video.rotation == 180) {
                assert_true(turn_half(ref, &turned));
                ref = &turned;
            }
            worst = min_d(worst, ti_ssim(&a0.pics[k], ref));
            ti_pic_free(&turned);
        }
        print_message("%s: gif frames against the source frames at their points: min SSIM "
                      "%.4f\n",
                      names[i], worst);
        if (worst < SSIM_FLOOR_GIF)
            fail_msg("%s: a gif frame is not the source frame at its point (SSIM %.4f)", names[i],
                     worst);
        ti_video_free(&v);
        ti_anim_free(&a0);
        /* libwebp merges a frame identical to the one before into a longer frame: the
         * file may hold fewer frames, but it plays exactly as long. */
        ti_anim a1 = ti_result_anim(&res, "Image.Animations[1]", false);
        int played = 0;
        for (int k = 0; k < a1.frames; k++)
            played += a1.delay[k];
        print_message("%s: webp %d frames playing %d ms (want %d points)\n", names[i],
                      a1.frames, played, want1);
        if (a1.frames > want1 || a1.frames < 1 || abs(played - (int)lround(want1 * 300.0)) > 1)
            fail_msg("%s: webp %d frames playing %d ms, want %d points of 300 ms", names[i],
                     a1.frames, played, want1);
        ti_anim_free(&a1);
        mc_result_clear(&res);
    }
    if (!any)
        skip();
}

/* The frame an animation shows at playback time `t` seconds (by its delays), or -1. */
static int frame_at_playback(const ti_anim *a, double t, int unit_per_s)
{
    double end = 0;
    for (int i = 0; i < a->frames; i++) {
        end += (double)a->delay[i] / unit_per_s;
        if (t < end)
            return i;
    }
    return -1;
}

/* Points closer together than a long frame of a VFR source (vfr_code.mp4 has frames of up
 * to 0.22 s; Interval 0.15): each point still gets its picture (the {index} of a snapshot
 * says its time), and an animation played at 1/Interval keeps the source's pace. */
static void points_share_frames(void **state)
{
    (void)state;
    ti_video src;
    assert_true(ti_decode_video(t_path("fixtures/vfr_code.mp4"), 0, 0, &src));
    t_file f;
    assert_true(t_read(t_path("fixtures/vfr_code.mp4"), &f));
    double end = f.video.end - f.start_time;
    int want = points_before(0, 0.15, end);
    bool shared = false;
    for (int k = 1; k < want; k++)
        shared |= ti_frame_at(&src, k * 0.15) == ti_frame_at(&src, (k - 1) * 0.15);
    assert_true(shared); /* the fixture has what this test is about */

    mc_result res = ti_run_image(
        "oss://fixtures/vfr_code.mp4",
        "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/share/s_{index}.png\","
        "\"Interval\":0.15}],"
        "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/share/a.gif\","
        "\"Interval\":0.15}]");
    ti_anim a = ti_result_anim(&res, "Image.Animations[0]", true);
    double played = 0;
    for (int i = 0; i < a.frames; i++)
        played += a.delay[i] / 100.0;
    const mc_output_info *outs[64];
    size_t n = ti_outputs_of(&res, "Image.Snapshots[0]", outs, 64);
    print_message("Interval 0.15 on VFR: %zu snapshots and %d gif frames playing %.2f s for %d "
                  "points (%.2f s)\n",
                  n, a.frames, played, want, want * 0.15);
    for (int k = 0; k < want; k++) {
        int fi = ti_frame_at(&src, k * 0.15);
        int expect = (int)lrint(src.t[fi] * 100);
        int gi = frame_at_playback(&a, k * 0.15 + 0.005, 100);
        int got_anim = gi >= 0 ? ti_read_code(&a.pics[gi], 10, 32) : -1;
        int got_snap = -1;
        if ((size_t)k < n) {
            ti_pic p;
            assert_true(ti_read_picture(ti_local(outs[k]->uri), &p));
            got_snap = ti_read_code(&p, 10, 32);
            ti_pic_free(&p);
        }
        if (got_snap != expect || got_anim != expect)
            fail_msg("point %d (%.2f s): snapshot %d shows %.2f s, the gif at %.2f s of playback "
                     "shows %.2f s; want the frame shown then, from %.2f s (%zu snapshots, "
                     "%d gif frames playing %.2f s, for %d points)",
                     k, k * 0.15, k + 1, got_snap / 100.0, k * 0.15, got_anim / 100.0,
                     expect / 100.0, n, a.frames, played, want);
    }
    assert_int_equal((int)n, want);
    ti_anim_free(&a);
    mc_result_clear(&res);
    ti_video_free(&src);
}

/* A 25 fps clip sampled every 0.02 s at the default FrameRate (50) plays as long as the
 * clip, not twice as fast (whether by repeating frames or by longer delays). */
static void interval_below_frame_interval(void **state)
{
    (void)state;
    mc_result res =
        ti_run_image("oss://fixtures/bframes.mp4",
                     "\"Animations\":[{\"Format\":\"gif\",\"URI\":"
                     "\"oss://output/img/share/fast.gif\",\"Interval\":0.02,\"Width\":80}]");
    ti_anim a = ti_result_anim(&res, "Image.Animations[0]", false);
    double played = 0;
    for (int i = 0; i < a.frames; i++)
        played += a.delay[i] / 100.0;
    print_message("Interval 0.02 on 25 fps: %d gif frames playing %.2f s for a 3 s clip\n",
                  a.frames, played);
    if (fabs(played - 3.0) > 0.05)
        fail_msg("Interval 0.02, FrameRate 50 (default) on a 3 s 25 fps clip: %d frames play "
                 "%.2f s, want 3.00 s",
                 a.frames, played);
    ti_anim_free(&a);
    mc_result_clear(&res);
}

/* A still picture (box43.mp4: 1 s, 10 identical frames) sampled 10 times: 10 frames in the
 * GIF, as the result says. libwebp merges identical frames: the WebP holds what the result
 * says (here a single picture, which libwebp stores as a still image). */
static void animation_static_source(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/box43.mp4",
        "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/static/a.gif\","
        "\"Interval\":0.1,\"Width\":64},"
        "{\"Format\":\"webp\",\"URI\":\"oss://output/img/static/a.webp\","
        "\"Interval\":0.1,\"Width\":64}]");
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "Image.Animations[1]" : "Image.Animations[0]";
        const mc_output_info *o = ti_output_of(&res, name);
        ti_anim a;
        assert_true(ti_read_anim(ti_local(o->uri), false, &a));
        int total = 0;
        for (int k = 0; k < a.frames; k++)
            total += a.delay[k];
        print_message("%s: %d frames in the file (result: %lld), playing %d %s\n", o->uri, a.frames,
                      (long long)o->info.streams[0].frames, total, i ? "ms" : "cs");
        if (i == 1) {
            if (a.frames < 1 || o->info.streams[0].frames != a.frames ||
                (a.frames > 1 && (total != 1000 || a.loop != 0)))
                fail_msg("%s: %d frames playing %d ms, %lld in the result", o->uri, a.frames,
                         total, (long long)o->info.streams[0].frames);
        } else if (a.frames != 10 || o->info.streams[0].frames != 10 || a.loop != 0)
            fail_msg("%s: %d frames in the file (loop count %d), %lld in the result; want 10, "
                     "looping forever",
                     o->uri, a.frames, a.loop, (long long)o->info.streams[0].frames);
        ti_anim_free(&a);
    }
    mc_result_clear(&res);
}

/* Three sources in a row, gray / colour / gray (the colour part needs other palettes than
 * the gray): 12 frames, each the right picture. The GIF writer switches between local
 * colour maps and the global one here; LeakSanitizer watches that nothing is lost doing so. */
static void gif_palette_changes(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        TI_REQ("\"Sources\":[{\"URI\":\"oss://fixtures/box43.mp4\"},"
               "{\"URI\":\"oss://fixtures/bframes.mp4\",\"Duration\":1},"
               "{\"URI\":\"oss://fixtures/box43.mp4\"}],"
               "\"Targets\":[{\"Image\":{\"Animations\":[{\"Format\":\"gif\","
               "\"URI\":\"oss://output/img/palette/abab.gif\",\"Interval\":0.25,\"Width\":160,"
               "\"Height\":120}]}}]"));
    ti_anim a = ti_result_anim(&res, "Image.Animations[0]", true);
    assert_int_equal(a.frames, 12);
    ti_video gray, colour;
    assert_true(ti_decode_video(t_path("fixtures/box43.mp4"), 160, 120, &gray));
    assert_true(ti_decode_video(t_path("fixtures/bframes.mp4"), 160, 120, &colour));
    double worst = 1;
    for (int k = 0; k < 12; k++) {
        const ti_video *v = k / 4 == 1 ? &colour : &gray;
        worst = min_d(worst, ti_ssim(&a.pics[k], &v->pics[ti_frame_at(v, (k % 4) * 0.25)]));
    }
    print_message("gray/colour/gray gif: min SSIM %.4f\n", worst);
    if (worst < SSIM_FLOOR_GIF)
        fail_msg("gray/colour/gray gif: a frame is not its source frame (SSIM %.4f)", worst);
    ti_video_free(&gray);
    ti_video_free(&colour);
    ti_anim_free(&a);
    mc_result_clear(&res);
}

/* ---- 5. quality ---- */

static void quality_of(const char *name, const char *src_uri, const char *src_path, int w, int h)
{
    char image[2048];
    snprintf(image, sizeof(image),
             "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/q/%s_{index}.jpg\","
             "\"Interval\":1,\"Width\":%d,\"Height\":%d}],"
             "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/q/%s.gif\","
             "\"Interval\":1,\"Width\":%d,\"Height\":%d},"
             "{\"Format\":\"webp\",\"URI\":\"oss://output/img/q/%s.webp\","
             "\"Interval\":1,\"Width\":%d,\"Height\":%d}]",
             name, w, h, name, w, h, name, w, h);
    mc_result res = ti_run_image(src_uri, image);
    ti_video src;
    assert_true(ti_decode_video(src_path, w, h, &src));
    ti_anim gif = ti_result_anim(&res, "Image.Animations[0]", true);
    ti_anim webp = ti_result_anim(&res, "Image.Animations[1]", true);
    const mc_output_info *outs[64];
    size_t n = ti_outputs_of(&res, "Image.Snapshots[0]", outs, 64);
    assert_int_equal((int)n, gif.frames);
    assert_int_equal(webp.frames, gif.frames);
    ti_pic jpg[64];
    for (size_t k = 0; k < n; k++)
        assert_true(ti_read_picture(ti_local(outs[k]->uri), &jpg[k]));
    double s_gif = ti_worst_ssim(&src, gif.pics, gif.frames, 0, 1);
    double s_webp = ti_worst_ssim(&src, webp.pics, webp.frames, 0, 1);
    double s_jpg = ti_worst_ssim(&src, jpg, (int)n, 0, 1);
    print_message("%s %dx%d, %d frames: lowest SSIM gif %.4f, webp %.4f, jpg %.4f\n", name, w, h,
                  gif.frames, s_gif, s_webp, s_jpg);
    if (s_gif < SSIM_FLOOR_GIF || s_webp < SSIM_FLOOR_WEBP || s_jpg < SSIM_FLOOR_JPG)
        fail_msg("%s: SSIM gif %.4f (floor %.2f), webp %.4f (%.2f), jpg %.4f (%.2f)", name, s_gif,
                 SSIM_FLOOR_GIF, s_webp, SSIM_FLOOR_WEBP, s_jpg, SSIM_FLOOR_JPG);
    for (size_t k = 0; k < n; k++)
        ti_pic_free(&jpg[k]);
    ti_anim_free(&gif);
    ti_anim_free(&webp);
    ti_video_free(&src);
    mc_result_clear(&res);
}

static void quality_synthetic(void **state)
{
    (void)state;
    quality_of("testsrc2", "oss://fixtures/bframes.mp4", t_path("fixtures/bframes.mp4"), 320, 240);
}

static void quality_friday(void **state)
{
    (void)state;
    char path[1024];
    const char *src = ti_corpus("friday.mp4", path, sizeof(path));
    if (!src)
        skip();
    quality_of("friday", src, path, 320, 240);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(animation_counts_synthetic),
        cmocka_unit_test(animation_counts_friday),
        cmocka_unit_test(animation_static_source),
        cmocka_unit_test(sizes),
        cmocka_unit_test(rotation_synthetic),
        cmocka_unit_test(rotation_portrait),
        cmocka_unit_test(vfr_times),
        cmocka_unit_test(vfr_bframes),
        cmocka_unit_test(vfr_corpus),
        cmocka_unit_test(points_share_frames),
        cmocka_unit_test(interval_below_frame_interval),
        cmocka_unit_test(gif_palette_changes),
        cmocka_unit_test(quality_synthetic),
        cmocka_unit_test(quality_friday),
    };
    int failed = cmocka_run_group_tests_name("animations", tests, NULL, NULL);
    return failed + ti_run_still_tests();
}
