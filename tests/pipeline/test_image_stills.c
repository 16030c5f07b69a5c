/*
 * Image outputs, part 2 (test_image.c says what part 1 covers): snapshot naming and modes,
 * sprite sheets and their WebVTT index, sparse decoding, errors, the CLI's animate, and
 * image outputs next to a video target. gop2s.mp4 draws its frame number into each frame,
 * so a picture says which frame it is.
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

/* ---- 6. snapshots: naming and modes ---- */

/* gop2s.mp4 draws its frame number (25 fps); read it from a picture file, which must have
 * the source's size, 160x96. */
static int frame_code(const char *path)
{
    ti_pic p;
    if (!ti_read_picture(path, &p))
        fail_msg("%s cannot be read", path);
    if (p.w != 160 || p.h != 96)
        fail_msg("%s: %dx%d, want 160x96", path, p.w, p.h);
    int code = ti_read_code(&p, 10, 16.0 * p.w / 160);
    ti_pic_free(&p);
    return code;
}

static void snapshot_naming(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/gop2s.mp4",
        "\"Snapshots\":["
        "{\"Format\":\"jpg\",\"URI\":\"oss://output/img/snap/s_{index}.jpg\",\"Interval\":5},"
        "{\"Format\":\"png\",\"URI\":\"oss://output/img/snap/noext\",\"Interval\":10},"
        "{\"Format\":\"webp\",\"URI\":\"oss://output/img/snap/last.webp\",\"Interval\":10}]");
    /* {index}: 1-based, one file per point 0, 5, 10, 15, 20. */
    const mc_output_info *outs[16];
    assert_int_equal(ti_outputs_of(&res, "Image.Snapshots[0]", outs, 16), 5);
    for (int k = 0; k < 5; k++) {
        char uri[64];
        snprintf(uri, sizeof(uri), "oss://output/img/snap/s_%d.jpg", k + 1);
        assert_string_equal(outs[k]->uri, uri);
        assert_string_equal(outs[k]->container, "jpg");
        assert_int_equal(frame_code(ti_local(uri)), 125 * k);
    }
    assert_false(t_exists(t_path("output/img/snap/s_6.jpg")));
    assert_false(t_exists(t_path("output/img/snap/s_0.jpg")));
    /* No extension: <uri>_0_<k>.<ext>. */
    assert_int_equal(ti_outputs_of(&res, "Image.Snapshots[1]", outs, 16), 3);
    for (int k = 0; k < 3; k++) {
        char uri[64];
        snprintf(uri, sizeof(uri), "oss://output/img/snap/noext_0_%d.png", k + 1);
        assert_string_equal(outs[k]->uri, uri);
        assert_int_equal(frame_code(ti_local(uri)), 250 * k);
    }
    /* An extension and no {index}: one file, the last picture. */
    const mc_output_info *last = ti_output_of(&res, "Image.Snapshots[2]");
    assert_string_equal(last->uri, "oss://output/img/snap/last.webp");
    assert_int_equal(frame_code(t_path("output/img/snap/last.webp")), 500);
    assert_int_equal(ti_count_files(t_path("output/img/snap"), "last"), 1);
    assert_false(t_has_temp(t_path("output/img/snap")));
    mc_result_clear(&res);
}

/* Mode keyframe (a key frame every 2 s) and Mode average (middles of thirds). */
static void snapshot_modes(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/gop2s.mp4",
        "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/mode/key_{index}.jpg\","
        "\"Mode\":\"keyframe\",\"Interval\":7}]");
    const mc_output_info *outs[32];
    assert_int_equal(ti_outputs_of(&res, "Image.Snapshots[0]", outs, 32), 12);
    for (int k = 0; k < 12; k++)
        assert_int_equal(frame_code(ti_local(outs[k]->uri)), 50 * k);
    print_message("keyframe mode: %lld frames decoded for 12 key frames of 600\n",
                  (long long)res.frames_decoded);
    assert_in_range(res.frames_decoded, 12, 14);
    mc_result_clear(&res);

    res = ti_run_image("oss://fixtures/gop2s.mp4",
                       "\"Snapshots\":[{\"Format\":\"png\",\"URI\":"
                       "\"oss://output/img/mode/avg_{index}.png\",\"Mode\":\"average\","
                       "\"Number\":3}]");
    assert_int_equal(ti_outputs_of(&res, "Image.Snapshots[0]", outs, 32), 3);
    /* 24 s in thirds: the middles are 4, 12 and 20 s, frames 100, 300, 500. */
    for (int k = 0; k < 3; k++) {
        int code = frame_code(ti_local(outs[k]->uri));
        if (abs(code - (100 + 200 * k)) > 1)
            fail_msg("average: picture %d shows frame %d, want %d", k, code, 100 + 200 * k);
    }
    mc_result_clear(&res);
}

/* Mode dhash on three scenes: one picture per scene with a moderate Threshold, more with
 * Threshold 0 (a small block moves within each scene). */
static void snapshot_dhash(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/scenes.mp4",
        "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/dhash/t20_{index}.png\","
        "\"Mode\":\"dhash\",\"Threshold\":20},"
        "{\"Format\":\"png\",\"URI\":\"oss://output/img/dhash/t0_{index}.png\","
        "\"Mode\":\"dhash\"}]");
    const mc_output_info *outs[128];
    size_t n20 = ti_outputs_of(&res, "Image.Snapshots[0]", outs, 128);
    size_t n0 = ti_outputs_of(&res, "Image.Snapshots[1]", NULL, 0);
    print_message("dhash: %zu pictures with Threshold 20, %zu with Threshold 0 (75 frames)\n", n20,
                  n0);
    assert_int_equal(n20, 3);
    assert_true(n0 > 6);
    /* One of each scene, in order: ramp up, ramp down, both (top half up). */
    for (int k = 0; k < 3; k++) {
        ti_pic p;
        assert_true(ti_read_picture(ti_local(outs[k]->uri), &p));
        double tl = ti_mean_level(&p, 10, 60, 20, 20), tr = ti_mean_level(&p, 290, 60, 20, 20);
        double bl = ti_mean_level(&p, 10, 200, 20, 20), br = ti_mean_level(&p, 290, 200, 20, 20);
        bool top_up = tl < tr, bottom_up = bl < br;
        bool want_top = k != 1, want_bottom = k == 0;
        if (top_up != want_top || bottom_up != want_bottom)
            fail_msg("dhash picture %d is not scene %d (levels %.0f %.0f / %.0f %.0f)", k, k, tl,
                     tr, bl, br);
        ti_pic_free(&p);
    }
    mc_result_clear(&res);
}

/* ---- 7. sprites ---- */

struct cue {
    double start, end;
    char sheet[128];
    int x, y, w, h;
};

static double vtt_seconds(const char *s)
{
    int h, m, sec, ms;
    if (sscanf(s, "%d:%d:%d.%d", &h, &m, &sec, &ms) != 4)
        fail_msg("bad WebVTT time \"%.12s\"", s);
    return h * 3600.0 + m * 60.0 + sec + ms / 1000.0;
}

/* Parse a sprite index: "WEBVTT", then cues "a --> b" + "sheet#xywh=x,y,w,h". */
static int parse_vtt(const char *text, struct cue *cues, int max)
{
    if (strncmp(text, "WEBVTT", 6) != 0)
        fail_msg("the index does not start with WEBVTT: %.40s", text);
    int n = 0;
    for (const char *p = strstr(text, " --> "); p; p = strstr(p + 5, " --> ")) {
        assert_true(n < max);
        const char *line = p;
        while (line > text && line[-1] != '\n')
            line--;
        struct cue *c = &cues[n++];
        c->start = vtt_seconds(line);
        c->end = vtt_seconds(p + 5);
        const char *t = strchr(p, '\n');
        assert_non_null(t);
        if (sscanf(t + 1, "%127[^#\n]#xywh=%d,%d,%d,%d", c->sheet, &c->x, &c->y, &c->w, &c->h) != 5)
            fail_msg("cue %d: bad text \"%.60s\"", n, t + 1);
    }
    return n;
}

static void sprites(void **state)
{
    (void)state;
    /* 24 s: Interval 3 gives 8 tiles, 6 on the first 3x2 sheet and 2 on a second. */
    mc_result res = ti_run_image(
        "oss://fixtures/gop2s.mp4",
        "\"Sprites\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/sprite/sp_{index}.png\","
        "\"Interval\":3,\"TileWidth\":3,\"TileHeight\":2,\"ScaleWidth\":80,\"ScaleHeight\":48,"
        "\"Margin\":3,\"Pad\":5},"
        "{\"Format\":\"jpg\",\"URI\":\"oss://output/img/sprite/plain\",\"Interval\":0.5,"
        "\"ScaleWidth\":0.25,\"ScaleHeight\":0.25}],"
        "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/sprite/ref_{index}.png\","
        "\"Interval\":3,\"Width\":80,\"Height\":48}]");
    const mc_output_info *outs[8];
    assert_int_equal(ti_outputs_of(&res, "Image.Sprites[0]", outs, 8), 3);
    assert_string_equal(outs[0]->uri, "oss://output/img/sprite/sp_1.png");
    assert_string_equal(outs[1]->uri, "oss://output/img/sprite/sp_2.png");
    assert_string_equal(outs[2]->uri, "oss://output/img/sprite/sp.vtt");
    assert_false(t_exists(t_path("output/img/sprite/sp_3.png")));
    ti_pic sheet[2];
    for (int s = 0; s < 2; s++)
        assert_true(ti_read_picture(ti_local(outs[s]->uri), &sheet[s]));
    /* 2*Margin + cols*w + (cols-1)*Pad; the last sheet keeps its one used row. */
    assert_int_equal(sheet[0].w, 2 * 3 + 3 * 80 + 2 * 5);
    assert_int_equal(sheet[0].h, 2 * 3 + 2 * 48 + 1 * 5);
    assert_int_equal(sheet[1].w, 2 * 3 + 3 * 80 + 2 * 5);
    assert_int_equal(sheet[1].h, 2 * 3 + 48);
    assert_int_equal(outs[0]->info.streams[0].height, sheet[0].h);
    assert_int_equal(outs[1]->info.streams[0].height, sheet[1].h);

    char *vtt = ti_slurp(t_path("output/img/sprite/sp.vtt"));
    assert_non_null(vtt);
    struct cue cues[64];
    int n = parse_vtt(vtt, cues, 64);
    free(vtt);
    assert_int_equal(n, 8);
    for (int k = 0; k < n; k++) {
        const struct cue *c = &cues[k];
        if (fabs(c->start - (k ? cues[k - 1].end : 0)) > 0.0005 || c->end <= c->start)
            fail_msg("cue %d: %.3f --> %.3f after %.3f", k, c->start, c->end,
                     k ? cues[k - 1].end : 0);
        if (fabs(c->start - 3.0 * k) > 0.05)
            fail_msg("cue %d starts at %.3f, want %.1f", k, c->start, 3.0 * k);
        int s = k / 6, col = k % 6 % 3, row = k % 6 / 3;
        char want_sheet[32];
        snprintf(want_sheet, sizeof(want_sheet), "sp_%d.png", s + 1);
        assert_string_equal(c->sheet, want_sheet);
        if (c->x != 3 + col * 85 || c->y != 3 + row * 53 || c->w != 80 || c->h != 48 ||
            c->x + c->w > sheet[s].w || c->y + c->h > sheet[s].h)
            fail_msg("cue %d: xywh=%d,%d,%d,%d on a %dx%d sheet", k, c->x, c->y, c->w, c->h,
                     sheet[s].w, sheet[s].h);
        /* The tile is the snapshot of the same point. */
        char ref_path[64];
        snprintf(ref_path, sizeof(ref_path), "output/img/sprite/ref_%d.png", k + 1);
        ti_pic ref;
        assert_true(ti_read_picture(t_path(ref_path), &ref));
        double d = ti_mad(&sheet[s], c->x, c->y, &ref, 0, 0, 80, 48);
        if (d > 2)
            fail_msg("tile %d differs from the snapshot of its point: %.2f", k, d);
        assert_int_equal(ti_read_code(&ref, 10, 8), 75 * k);
        ti_pic_free(&ref);
    }
    assert_true(fabs(cues[n - 1].end - 24.0) < 0.05);
    ti_pic_free(&sheet[0]);
    ti_pic_free(&sheet[1]);

    /* Defaults (6x6, Margin 2, Pad 2), 40x24 tiles, 48 of them: a full sheet of 6 rows and
     * one of 2; names with "_0_<k>" and the index "plain.vtt". */
    const mc_output_info *p[8];
    assert_int_equal(ti_outputs_of(&res, "Image.Sprites[1]", p, 8), 3);
    assert_string_equal(p[0]->uri, "oss://output/img/sprite/plain_0_1.jpg");
    assert_string_equal(p[1]->uri, "oss://output/img/sprite/plain_0_2.jpg");
    assert_string_equal(p[2]->uri, "oss://output/img/sprite/plain.vtt");
    ti_pic d0, d1;
    assert_true(ti_read_picture(ti_local(p[0]->uri), &d0));
    assert_true(ti_read_picture(ti_local(p[1]->uri), &d1));
    assert_int_equal(d0.w, 4 + 6 * 40 + 5 * 2);
    assert_int_equal(d0.h, 4 + 6 * 24 + 5 * 2);
    assert_int_equal(d1.w, d0.w);
    assert_int_equal(d1.h, 4 + 2 * 24 + 2);
    vtt = ti_slurp(t_path("output/img/sprite/plain.vtt"));
    assert_non_null(vtt);
    assert_int_equal(parse_vtt(vtt, cues, 64), 48);
    assert_string_equal(cues[47].sheet, "plain_0_2.jpg");
    free(vtt);
    ti_pic_free(&d0);
    ti_pic_free(&d1);
    mc_result_clear(&res);
}

/* ---- 8. sparse decoding ---- */

/* Snapshots every 5 s of 24 s with a key frame every 2 s: few frames decoded, the right
 * ones taken. */
static void sparse_decoding(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/gop2s.mp4",
        "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/sparse/s_{index}.png\","
        "\"Interval\":5,\"StartTime\":1.2}]");
    const mc_output_info *outs[16];
    /* Points 1.2, 6.2, 11.2, 16.2, 21.2: frames 30, 155, 280, 405, 530. */
    assert_int_equal(ti_outputs_of(&res, "Image.Snapshots[0]", outs, 16), 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(frame_code(ti_local(outs[k]->uri)), 30 + 125 * k);
    print_message("sparse: %lld of 600 frames decoded for 5 snapshots\n",
                  (long long)res.frames_decoded);
    if (res.frames_decoded >= 240)
        fail_msg("%lld frames decoded, want fewer than 40%% of 600", (long long)res.frames_decoded);
    mc_result_clear(&res);
}

/* A point in the middle of each 2 s GOP and one on each key frame (1 s apart): once the
 * packets decoded are past a point, the decoder is drained and the skip to the next key
 * frame comes without decoding the frames after the point; the right frames are taken. */
static void sparse_mid_gop(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/gop2s.mp4",
        "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/sparse/m_{index}.png\","
        "\"StartTime\":0.52,\"Interval\":1,\"Number\":9}]");
    const mc_output_info *outs[16];
    assert_int_equal(ti_outputs_of(&res, "Image.Snapshots[0]", outs, 16), 9);
    for (int k = 0; k < 9; k++) /* 0.52 s + k: frame 13 + 25k */
        assert_int_equal(frame_code(ti_local(outs[k]->uri)), 13 + 25 * k);
    mc_result_clear(&res);
}

/* Points just before a key frame (gop2s.mp4 shows key frames at 4, 12, 20 s; with B-frames
 * each is decoded two frames early): the picture is the frame shown at the point, not the
 * key frame after it. */
static void sparse_before_key_frames(void **state)
{
    (void)state;
    mc_result res = ti_run_image(
        "oss://fixtures/gop2s.mp4",
        "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://output/img/sparse/k96_{index}.png\","
        "\"StartTime\":3.96,\"Interval\":8},"
        "{\"Format\":\"png\",\"URI\":\"oss://output/img/sparse/k92_{index}.png\","
        "\"StartTime\":3.92,\"Interval\":8}]");
    char wrong[1024] = "";
    size_t len = 0;
    for (int i = 0; i < 2; i++) {
        const mc_output_info *outs[8];
        assert_int_equal(
            ti_outputs_of(&res, i ? "Image.Snapshots[1]" : "Image.Snapshots[0]", outs, 8), 3);
        for (int k = 0; k < 3; k++) {
            int want = (i ? 98 : 99) + 200 * k, got = frame_code(ti_local(outs[k]->uri));
            if (got != want)
                len += (size_t)snprintf(wrong + len, len < sizeof(wrong) ? sizeof(wrong) - len : 0,
                                        "\n  %.2f s: frame %d, want %d", (i ? 3.92 : 3.96) + 8 * k,
                                        got, want);
        }
    }
    mc_result_clear(&res);
    if (len)
        fail_msg("snapshots just before key frames show another frame:%s", wrong);
}

/* ---- 9. errors ---- */

/* Copy the first `fraction` of a file. */
static bool copy_prefix(const char *from, const char *to, double fraction)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in && out && fseek(in, 0, SEEK_END) == 0;
    long size = ok ? ftell(in) : -1;
    long keep = (long)(size * fraction);
    char *buf = size > 0 ? malloc((size_t)keep) : NULL;
    ok = ok && buf && fseek(in, 0, SEEK_SET) == 0 &&
         fread(buf, 1, (size_t)keep, in) == (size_t)keep &&
         fwrite(buf, 1, (size_t)keep, out) == (size_t)keep;
    free(buf);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok;
}

static void expect_invalid(const char *image, const char *field)
{
    char *json = ti_image_req("oss://fixtures/bframes.mp4", image);
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    free(json);
    if (rc >= 0)
        fail_msg("%s was accepted", image);
    if (strcmp(err.code, "InvalidArgument") != 0 || !strstr(err.msg, field))
        fail_msg("%s: got %s: %s; want InvalidArgument naming %s", image, err.code, err.msg, field);
}

static void errors_parameters(void **state)
{
    (void)state;
    expect_invalid("\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/err/a.gif\","
                   "\"Width\":10}]",
                   "Targets[0].Image.Animations[0].Width");
    expect_invalid("\"Animations\":[{\"Format\":\"webp\",\"URI\":\"oss://output/img/err/a.webp\","
                   "\"Interval\":1,\"FrameRate\":500}]",
                   "Targets[0].Image.Animations[0].FrameRate");
    expect_invalid("\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err/a.jpg\"},"
                   "{\"Format\":\"bmp\",\"URI\":\"oss://output/img/err/a.bmp\"}]",
                   "Targets[0].Image.Snapshots[1].Format");
    expect_invalid("\"Sprites\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err/s.jpg\","
                   "\"Interval\":-1}]",
                   "Targets[0].Image.Sprites[0].Interval");
    expect_invalid("\"Animations\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err/a.jpg\"}]",
                   "Targets[0].Image.Animations[0].Format");
    assert_false(t_exists(t_path("output/img/err")));
}

/* A request that fails while running leaves no picture and no temporary file behind. */
static void expect_run_failure(const char *src, const char *dir, const char *image)
{
    char *json = ti_image_req(src, image);
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    free(json);
    if (rc >= 0)
        fail_msg("%s on %s succeeded", image, src);
    if (strcmp(err.code, "InvalidMedia") != 0 && strcmp(err.code, "InvalidArgument") != 0)
        fail_msg("%s: got %s: %s", src, err.code, err.msg);
    print_message("%s: %s: %s\n", src, err.code, err.msg);
    assert_int_equal(ti_count_files(t_path(dir), ""), 0);
    assert_false(t_has_temp(t_path(dir)));
}

static void errors_media(void **state)
{
    (void)state;
    /* StartTime beyond the end (3 s). */
    expect_run_failure(
        "oss://fixtures/bframes.mp4", "output/img/err2",
        "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err2/s_{index}.jpg\","
        "\"StartTime\":10,\"Interval\":1}],"
        "\"Sprites\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err2/sp_{index}.jpg\","
        "\"StartTime\":10}],"
        "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/err2/a.gif\","
        "\"StartTime\":10}]");
    expect_run_failure(
        "oss://fixtures/bframes.mp4", "output/img/err2",
        "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err2/m_{index}.jpg\","
        "\"StartTime\":10,\"Mode\":\"average\",\"Number\":3}]");
    /* A truncated copy: the header promises 3 s, the data stops half way. Pictures taken
     * before the damage are not left behind. */
    assert_true(
        copy_prefix(t_path("fixtures/bframes.mp4"), t_path("fixtures/img_truncated.mp4"), 0.5));
    expect_run_failure(
        "oss://fixtures/img_truncated.mp4", "output/img/err3",
        "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/err3/s_{index}.jpg\","
        "\"Interval\":0.5}],"
        "\"Animations\":[{\"Format\":\"webp\",\"URI\":\"oss://output/img/err3/a.webp\"}]");
}

/* ---- 10. CLI ---- */

static void cli_animate(void **state)
{
    (void)state;
    const char *cli = getenv("MC_CLI");
    assert_non_null(cli);
    char path[1024];
    const char *src =
        ti_corpus("friday.mp4", path, sizeof(path)) ? path : t_path("fixtures/bframes.mp4");
    int want = strstr(src, "friday") ? 13 : 6;
    char out[1024], err_path[1024];
    snprintf(out, sizeof(out), "%s", t_path("output/img/cli/anim.gif"));
    snprintf(err_path, sizeof(err_path), "%s", t_path("output/img/cli/stderr.txt"));
    assert_true(ti_mkdirs(t_path("output/img/cli")));
    unlink(out);
    const char *ok[] = {cli,          "animate", "-q",      src,   out,
                        "--interval", "0.5",     "--width", "160", NULL};
    int rc = ti_spawn(ok, NULL, err_path);
    if (rc != 0) {
        char *e = ti_slurp(err_path);
        fail_msg("mediaconvert animate exited %d: %s", rc, e ? e : "");
    }
    ti_anim a;
    assert_true(ti_read_gif(out, false, &a));
    assert_int_equal(a.frames, want);
    assert_int_equal(a.width, 160);
    assert_int_equal(a.loop, 0);
    ti_anim_free(&a);

    char bad[1024];
    snprintf(bad, sizeof(bad), "%s", t_path("output/img/cli/bad.gif"));
    const char *fps[] = {cli, "animate", src, bad, "--fps", "500", NULL};
    assert_int_equal(ti_spawn(fps, NULL, err_path), 2);
    char *e = ti_slurp(err_path);
    assert_non_null(e);
    if (!strstr(e, "FrameRate"))
        fail_msg("--fps 500: stderr does not name FrameRate: %s", e);
    free(e);
    assert_false(t_exists(bad));
}

/* ---- 11. an image target next to an mp4 target ---- */

static void with_video_target(void **state)
{
    (void)state;
    mc_result alone = t_run_ok(
        TI_REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
               "\"Targets\":[{\"URI\":\"oss://output/img/mix/alone.mp4\",\"Container\":\"mp4\","
               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
               "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"));
    mc_result res = t_run_ok(TI_REQ(
        "\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
        "\"Targets\":[{\"URI\":\"oss://output/img/mix/v.mp4\",\"Container\":\"mp4\","
        "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
        "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}},"
        "{\"Image\":{\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://output/img/mix/a.gif\","
        "\"Interval\":0.5,\"Width\":160}],"
        "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://output/img/mix/s_{index}.jpg\","
        "\"Interval\":1}]}}]"));
    t_file src, v;
    assert_true(t_read(t_path("fixtures/bframes.mp4"), &src));
    assert_true(t_read(t_path("output/img/mix/v.mp4"), &v));
    assert_int_equal(v.video.packets, 75);
    assert_int_equal(v.nb_streams, 2);
    assert_string_equal(res.outputs[0].uri, "oss://output/img/mix/v.mp4");
    print_message("video + images: %lld frames decoded (video alone: %lld; source: %lld video "
                  "+ %lld audio packets)\n",
                  (long long)res.frames_decoded, (long long)alone.frames_decoded,
                  (long long)src.video.packets, (long long)src.audio.packets);
    /* One decode serves both: as many frames as for the video alone, each once. */
    assert_int_equal(res.frames_decoded, alone.frames_decoded);
    assert_in_range(res.frames_decoded, src.video.packets + src.audio.packets - 2,
                    src.video.packets + src.audio.packets + 2);
    /* The pictures are those of the image-only request: points before the video's end
     * (3 s, whatever the audio's), the frames shown then. */
    ti_anim a = ti_result_anim(&res, "Image.Animations[0]", true);
    size_t n_snap = ti_outputs_of(&res, "Image.Snapshots[0]", NULL, 0);
    if (a.frames != 6 || n_snap != 3)
        fail_msg("next to an mp4 target: %d gif frames and %zu snapshots; want 6 and 3 (points "
                 "0, 0.5 ... 2.5 and 0, 1, 2 of a 3 s video)",
                 a.frames, n_snap);
    assert_int_equal(a.width, 160);
    ti_video frames;
    assert_true(ti_decode_video(t_path("fixtures/bframes.mp4"), 160, 120, &frames));
    double s = ti_worst_ssim(&frames, a.pics, a.frames, 0, 0.5);
    if (s < SSIM_FLOOR_GIF)
        fail_msg("gif next to a video target: SSIM %.4f", s);
    ti_video_free(&frames);
    ti_anim_free(&a);
    mc_result_clear(&alone);
    mc_result_clear(&res);
}

int ti_run_still_tests(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_naming),
        cmocka_unit_test(snapshot_modes),
        cmocka_unit_test(snapshot_dhash),
        cmocka_unit_test(sprites),
        cmocka_unit_test(sparse_decoding),
        cmocka_unit_test(sparse_mid_gop),
        cmocka_unit_test(sparse_before_key_frames),
        cmocka_unit_test(errors_parameters),
        cmocka_unit_test(errors_media),
        cmocka_unit_test(cli_animate),
        cmocka_unit_test(with_video_target),
    };
    /* clang-format on */
    return cmocka_run_group_tests_name("stills", tests, NULL, NULL);
}
