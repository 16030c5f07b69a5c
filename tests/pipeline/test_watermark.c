/*
 * FilterVideo: text and PNG watermarks, delogo mosaics, the Speed hint and the refusals.
 * Every output is encoded losslessly (h264 CRF 0) and decoded again; its pictures are
 * compared with those of the same request without FilterVideo: where the filter should have
 * drawn they differ, everywhere else they are the same.
 */
#include <dlfcn.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "mc_hwaccel.h"
#include "mc_str.h"
#include "support.h"

#define W 320
#define H 180

/* The decoded luma of every frame of a file's video. */
typedef struct pics {
    int n, w, h;
    uint8_t **y;
    double *t;
} pics;

static void pics_free(pics *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->y[i]);
    free(p->y);
    free(p->t);
    memset(p, 0, sizeof(*p));
}

static void keep(pics *p, const AVFrame *f, AVRational tb)
{
    assert_int_equal(f->format, AV_PIX_FMT_YUV420P);
    p->y = realloc(p->y, (size_t)(p->n + 1) * sizeof(*p->y));
    p->t = realloc(p->t, (size_t)(p->n + 1) * sizeof(*p->t));
    assert_non_null(p->y);
    assert_non_null(p->t);
    uint8_t *y = malloc((size_t)f->width * f->height);
    assert_non_null(y);
    for (int r = 0; r < f->height; r++)
        memcpy(y + (size_t)r * f->width, f->data[0] + (size_t)r * f->linesize[0], f->width);
    p->w = f->width;
    p->h = f->height;
    p->y[p->n] = y;
    p->t[p->n] = f->best_effort_timestamp * av_q2d(tb);
    p->n++;
}

static pics decode(const char *path)
{
    pics p = {0};
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    const AVCodec *codec = NULL;
    int vst = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    assert_true(vst >= 0);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    assert_non_null(dec);
    assert_true(avcodec_parameters_to_context(dec, fmt->streams[vst]->codecpar) >= 0);
    assert_true(avcodec_open2(dec, codec, NULL) >= 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    AVRational tb = fmt->streams[vst]->time_base;
    bool eof = false;
    while (!eof) {
        int rc = av_read_frame(fmt, pkt);
        if (rc < 0)
            eof = true;
        else if (pkt->stream_index != vst) {
            av_packet_unref(pkt);
            continue;
        }
        assert_true(avcodec_send_packet(dec, eof ? NULL : pkt) >= 0);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(dec, f) >= 0) {
            keep(&p, f, tb);
            av_frame_unref(f);
        }
    }
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return p;
}

/* The source: real footage when the corpus is there, else a synthetic clip. */
static const char *source_uri(void)
{
    static char uri[4200];
    const char *dir = t_media_dir();
    char real[4096];
    if (dir && realpath(dir, real))
        snprintf(uri, sizeof(uri), "file://%s/sample_with_increasing_timestamps_360p.mp4", real);
    else
        snprintf(uri, sizeof(uri), "oss://fixtures/bframes.mp4");
    return uri;
}

/* A 3 s, 320x180, lossless, video-only request with `filter` as FilterVideo (NULL: none)
 * and `extra` inside Video.TranscodeVideo. */
static char *request(const char *name, const char *filter, const char *extra, const char *container)
{
    return mc_asprintf(
        "{\"ProjectName\":\"p\",\"Sources\":[{\"URI\":\"%s\",\"Duration\":3}],"
        "\"Targets\":[{\"Container\":\"%s\",\"URI\":\"oss://out/wm/%s.%s\","
        "\"Audio\":{\"DisableAudio\":true},"
        "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"CRF\":0,\"Resolution\":\"%dx%d\"%s}"
        "%s%s%s}}]}",
        source_uri(), container, name, container, W, H, extra ? extra : "",
        filter ? ",\"FilterVideo\":{" : "", filter ? filter : "", filter ? "}" : "");
}

static const char *out_path(const char *name, const char *ext)
{
    static char path[4200];
    snprintf(path, sizeof(path), "%s/%s.%s", t_path("out/wm"), name, ext);
    return path;
}

/* Run on `backend` (NULL: the default device); *out (NULL: not wanted) gets the result. */
static pics run_pics_res(const char *backend, const char *name, const char *filter, mc_result *out)
{
    char *req = request(name, filter, NULL, "mp4");
    mc_result res = {0};
    mc_err err;
    int rc = backend ? t_run_on(req, backend, &res, &err) : t_run(req, &res, &err);
    if (rc < 0)
        fail_msg("%s: %s: %s\n%s", name, err.code, err.msg, req);
    free(req);
    if (out)
        *out = res;
    else
        mc_result_clear(&res);
    return decode(out_path(name, "mp4"));
}

static pics run_pics_on(const char *backend, const char *name, const char *filter)
{
    return run_pics_res(backend, name, filter, NULL);
}

static pics run_pics(const char *name, const char *filter)
{
    return run_pics_on(NULL, name, filter);
}

static pics ref_pics;

static pics *reference(void)
{
    if (!ref_pics.n) {
        ref_pics = run_pics("ref", NULL);
        assert_int_equal(ref_pics.w, W);
        assert_int_equal(ref_pics.h, H);
        assert_true(ref_pics.n >= 70 && ref_pics.n <= 95); /* 3 s at 25-30 fps */
    }
    return &ref_pics;
}

/* Where frame k of `p` differs from the reference by more than `tol`: the bounding box
 * (x0, y0 inclusive; x1, y1 exclusive) and the count. */
typedef struct diff {
    int x0, y0, x1, y1;
    long n;
} diff;

static diff compare(const pics *p, int k, int tol)
{
    const pics *ref = reference();
    assert_int_equal(p->n, ref->n);
    assert_int_equal(p->w, ref->w);
    assert_int_equal(p->h, ref->h);
    diff d = {p->w, p->h, 0, 0, 0};
    for (int y = 0; y < p->h; y++) {
        for (int x = 0; x < p->w; x++) {
            int a = p->y[k][y * p->w + x], b = ref->y[k][y * p->w + x];
            if (abs(a - b) <= tol)
                continue;
            d.n++;
            d.x0 = x < d.x0 ? x : d.x0;
            d.y0 = y < d.y0 ? y : d.y0;
            d.x1 = x + 1 > d.x1 ? x + 1 : d.x1;
            d.y1 = y + 1 > d.y1 ? y + 1 : d.y1;
        }
    }
    return d;
}

/* ---- text ---- */

static void text_at_each_corner(void **state)
{
    (void)state;
    static const char *const pos[] = {"topleft", "topright", "bottomright", "bottomleft"};
    /* Dx in pixels, Dy as a fraction of the height (0.1 * 180 = 18 px). */
    const int dx = 10, dy = 18;
    for (int i = 0; i < 4; i++) {
        char filter[512], name[32];
        snprintf(filter, sizeof(filter),
                 "\"Watermarks\":[{\"Type\":\"text\",\"Content\":\"MC 42\",\"FontSize\":40,"
                 "\"FontColor\":\"white\",\"BorderColor\":\"#000000\",\"BorderWidth\":2,"
                 "\"ReferPos\":\"%s\",\"Dx\":%d,\"Dy\":0.1}]",
                 pos[i], dx);
        snprintf(name, sizeof(name), "text_%s", pos[i]);
        pics p = run_pics(name, filter);
        for (int k = 0; k < p.n; k += 30) {
            diff d = compare(&p, k, 0);
            assert_true(d.n > 200);
            /* The text box is about 130x45 px; the change stays inside it, at the corner. */
            assert_true(d.x1 - d.x0 <= 150 && d.y1 - d.y0 <= 60);
            bool right = i == 1 || i == 2, bottom = i == 2 || i == 3;
            int ex = right ? W - dx - d.x1 : d.x0; /* distance from the reference corner */
            int ey = bottom ? H - dy - d.y1 : d.y0 - dy;
            if (!right)
                ex -= dx;
            if (ex < -3 || ex > 8 || ey < -3 || ey > 16)
                fail_msg("%s frame %d: change at x %d-%d y %d-%d (%+d, %+d from the corner)",
                         pos[i], k, d.x0, d.x1, d.y0, d.y1, ex, ey);
        }
        pics_free(&p);
    }
}

static void text_time_range(void **state)
{
    (void)state;
    pics p = run_pics("text_time", "\"Watermarks\":[{\"Content\":\"TIME\",\"FontSize\":48,"
                                   "\"FontColor\":\"#FFFF00\",\"StartTime\":1,\"Duration\":1}]");
    int before = 0, inside = 0, after = 0;
    for (int k = 0; k < p.n; k++) {
        diff d = compare(&p, k, 0);
        if (p.t[k] < 0.97) {
            assert_int_equal(d.n, 0);
            before++;
        } else if (p.t[k] > 1.03 && p.t[k] < 1.97) {
            assert_true(d.n > 200);
            inside++;
        } else if (p.t[k] > 2.03) {
            assert_int_equal(d.n, 0);
            after++;
        }
    }
    assert_true(before >= 25 && inside >= 25 && after >= 25);
    pics_free(&p);
}

/* Quotes, colons, commas, brackets, backslashes and %{...} are text, not syntax. */
static void text_is_escaped(void **state)
{
    (void)state;
    pics a = run_pics("text_esc", "\"Watermarks\":[{\"Content\":\"it's a:b,[c];\\\\ %{pts}\","
                                  "\"FontSize\":20,\"FontColor\":\"white\"}]");
    /* About 22 characters at size 20: a wide box, not text cut at ':' or ','. */
    diff first = compare(&a, 0, 0), later = compare(&a, 45, 0);
    assert_true(first.n > 100);
    assert_true(first.x1 - first.x0 > 150);
    assert_int_equal(first.x1 - first.x0, later.x1 - later.x0);
    /* With %{pts} expanded the digits would change from frame to frame ("0.000000",
     * "1.500000": the same width). The glyphs' white core is the same on every frame. */
    int moved = 0, core = 0;
    for (int y = first.y0; y < first.y1; y++) {
        for (int x = first.x0; x < first.x1; x++) {
            bool c0 = a.y[0][y * a.w + x] >= 225, c1 = a.y[45][y * a.w + x] >= 225,
                 c2 = a.y[a.n - 1][y * a.w + x] >= 225;
            core += c0;
            moved += c0 != c1 || c0 != c2;
        }
    }
    assert_true(core > 100);
    if (moved > core / 20)
        fail_msg("text changed between frames: %d of %d glyph pixels", moved, core);
    pics_free(&a);
}

/* ---- file ---- */

static void png_watermark_scaled_by_fraction(void **state)
{
    (void)state;
    /* 64x64 with a 48x48 white square; Width 0.25 of 320 = 80 px (the square 60 px, its
     * border 10 px), placed 16, 8 px from the bottom right: at 224, 92. */
    pics p = run_pics("png", "\"Watermarks\":[{\"Type\":\"file\","
                             "\"URI\":\"oss://fixtures/wm_square.png\",\"Width\":0.25,"
                             "\"ReferPos\":\"bottomright\",\"Dx\":16,\"Dy\":8}]");
    const int sx = 224 + 10, sy = 92 + 10, side = 60;
    for (int k = 0; k < p.n; k += 20) {
        diff d = compare(&p, k, 2);
        if (abs(d.x0 - sx) > 2 || abs(d.y0 - sy) > 2 || abs(d.x1 - d.x0 - side) > 2 ||
            abs(d.y1 - d.y0 - side) > 2)
            fail_msg("frame %d: changed x %d-%d y %d-%d, want a %d px square at %d, %d", k, d.x0,
                     d.x1, d.y0, d.y1, side, sx, sy);
        /* The square's inside is white. */
        for (int y = sy + 2; y < sy + side - 2; y++)
            for (int x = sx + 2; x < sx + side - 2; x++)
                assert_true(p.y[k][y * W + x] >= 230);
    }
    pics_free(&p);
}

/* A MOV watermark plays once (white for 0.5 s, black for 0.5 s), then its last frame
 * stays. */
static void mov_watermark_plays_once(void **state)
{
    (void)state;
    pics p = run_pics("mov", "\"Watermarks\":[{\"Type\":\"file\","
                             "\"URI\":\"oss://fixtures/wm_anim.mov\",\"Dx\":8,\"Dy\":8}]");
    int white = 0, black = 0;
    for (int k = 0; k < p.n; k++) {
        if (fabs(p.t[k] - 0.5) < 0.1)
            continue;
        int y = p.y[k][24 * W + 24];
        if (p.t[k] < 0.5) {
            if (y < 230)
                fail_msg("t %.3f: luma %d, want white", p.t[k], y);
            white++;
        } else {
            if (y > 25)
                fail_msg("t %.3f: luma %d, want black", p.t[k], y);
            black++;
        }
    }
    assert_true(white >= 10 && black >= 60);
    diff d = compare(&p, 0, 0);
    assert_true(d.x0 >= 8 && d.y0 >= 8 && d.x1 <= 40 && d.y1 <= 40);
    pics_free(&p);
}

/* ---- delogo ---- */

static void check_mosaic(const pics *p, int x, int y, int w, int h)
{
    for (int k = 0; k < p->n; k += 15) {
        diff d = compare(p, k, 0);
        if (d.x0 < x || d.y0 < y || d.x1 > x + w || d.y1 > y + h)
            fail_msg("frame %d: changed x %d-%d y %d-%d, outside %dx%d at %d, %d", k, d.x0, d.x1,
                     d.y0, d.y1, w, h, x, y);
        /* Most of the rectangle changes (a mosaic of real footage). */
        assert_true(d.n > (long)w * h / 3);
        /* Cells of 16 px: neighbours inside a cell are equal. */
        const uint8_t *row = p->y[k] + (size_t)(y + 4) * W;
        int same = 0;
        for (int i = x; i + 1 < x + 16 && i + 1 < x + w; i++)
            same += row[i] == row[i + 1];
        assert_true(same >= 12);
    }
}

static void delogo_pixels(void **state)
{
    (void)state;
    pics p = run_pics("delogo_px", "\"Delogos\":[{\"Dx\":32,\"Dy\":16,\"Width\":96,"
                                   "\"Height\":64}]");
    check_mosaic(&p, 32, 16, 96, 64);
    pics_free(&p);
}

static void delogo_fractions(void **state)
{
    (void)state;
    /* 0.25 x 0.5 of 320x180 = 80x90, 0.1 (32 px, 18 px) from the top right: at 208, 18. */
    pics p = run_pics("delogo_frac", "\"Delogos\":[{\"ReferPos\":\"topright\",\"Dx\":0.1,"
                                     "\"Dy\":0.1,\"Width\":0.25,\"Height\":0.5}]");
    check_mosaic(&p, 208, 18, 80, 90);
    pics_free(&p);
}

/* ---- Speed ---- */

static void check_speed(const char *name, const char *ref, const char *ext, const char *want)
{
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, out_path(name, ext), NULL, NULL), 0);
    const AVDictionaryEntry *e = av_dict_get(fmt->metadata, "speed", NULL, 0);
    if (!e)
        fail_msg("%s.%s has no speed tag", name, ext);
    assert_string_equal(e->value, want);
    avformat_close_input(&fmt);
    /* Metadata only: the same frames over the same time as without it. */
    t_file f, r;
    assert_true(t_read(out_path(name, ext), &f));
    assert_true(t_read(out_path(ref, ext), &r));
    assert_int_equal(f.video.packets, r.video.packets);
    assert_true(fabs(f.video.duration - r.video.duration) < 0.02);
}

static void speed_is_metadata(void **state)
{
    (void)state;
    reference();
    mc_result res = {0};
    char *req = request("speed", "\"Speed\":0.5", NULL, "mp4");
    res = t_run_ok(req);
    free(req);
    mc_result_clear(&res);
    check_speed("speed", "ref", "mp4", "0.5");
    /* Target.Speed, in Matroska (compared with Matroska: it keeps the source's timestamps
     * where mp4 gets a constant frame rate). */
    req = request("tref", NULL, NULL, "mkv");
    res = t_run_ok(req);
    mc_result_clear(&res);
    free(req);
    req = request("tspeed", NULL, NULL, "mkv");
    char *at = strstr(req, "\"Container\"");
    char *req2 = mc_asprintf("%.*s\"Speed\":0.75,%s", (int)(at - req), req, at);
    res = t_run_ok(req2);
    mc_result_clear(&res);
    free(req);
    free(req2);
    check_speed("tspeed", "tref", "mkv", "0.75");
    /* The reference has no tag. */
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, out_path("tref", "mkv"), NULL, NULL), 0);
    assert_null(av_dict_get(fmt->metadata, "speed", NULL, 0));
    avformat_close_input(&fmt);
}

/* ---- refusals ---- */

static void refused(const char *name, const char *filter, const char *extra, const char *code,
                    const char *field)
{
    char *req = request(name, filter, extra, "mp4");
    mc_result res = {0};
    mc_err err;
    int rc = t_run(req, &res, &err);
    free(req);
    if (rc >= 0)
        fail_msg("%s: accepted", name);
    assert_string_equal(err.code, code);
    if (strncmp(err.msg, field, strlen(field)) != 0)
        fail_msg("%s: \"%s\" does not start with %s", name, err.msg, field);
    assert_false(t_exists(out_path(name, "mp4")));
    assert_false(t_has_temp(t_path("out/wm")));
}

static void refusals(void **state)
{
    (void)state;
    refused("desens", "\"Desensitization\":{\"Face\":{\"Confidence\":0.5}}", NULL,
            "InvalidArgument", "Targets[0].Video.FilterVideo.Desensitization:");
    refused("slim", NULL, ",\"VideoSlim\":1", "InvalidArgument",
            "Targets[0].Video.TranscodeVideo.VideoSlim:");
    refused("nowm",
            "\"Watermarks\":[{\"Content\":\"x\"},{\"Type\":\"file\","
            "\"URI\":\"oss://fixtures/no_such_watermark.png\"}]",
            NULL, "ResourceNotFound", "Targets[0].Video.FilterVideo.Watermarks[1].URI:");
    refused("badwm", "\"Watermarks\":[{\"Type\":\"file\",\"URI\":\"oss://fixtures/tone.wav\"}]",
            NULL, "InvalidArgument", "Targets[0].Video.FilterVideo.Watermarks[0].URI:");
    refused("outside", "\"Delogos\":[{\"Dx\":400,\"Width\":50,\"Height\":50}]", NULL,
            "InvalidArgument", "Targets[0].Video.FilterVideo.Delogos[0]:");
    refused("color", "\"Watermarks\":[{\"Content\":\"x\",\"FontColor\":\"blurple\"}]", NULL,
            "InvalidArgument", "Targets[0].Video.FilterVideo.Watermarks[0].FontColor:");
    /* In a TargetGroup the message names the group's target. */
    char *req = mc_asprintf(
        "{\"ProjectName\":\"p\",\"Sources\":[{\"URI\":\"%s\",\"Duration\":3}],"
        "\"TargetGroups\":[{\"URI\":\"oss://out/wm/grp/master.m3u8\",\"Targets\":[{"
        "\"URI\":\"oss://out/wm/grp/v\",\"Container\":\"ts\",\"Segment\":{\"Format\":"
        "\"hls\",\"Duration\":1},\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\","
        "\"Resolution\":\"%dx%d\"},\"FilterVideo\":{\"Delogos\":[{\"Dx\":400,\"Width\":50,"
        "\"Height\":50}]}}}]}]}",
        source_uri(), W, H);
    mc_result res = {0};
    mc_err err;
    assert_true(t_run(req, &res, &err) < 0);
    free(req);
    assert_string_equal(err.code, "InvalidArgument");
    if (strncmp(err.msg, "TargetGroups[0].Targets[0].Video.FilterVideo.Delogos[0]:", 56) != 0)
        fail_msg("group delogo: \"%s\"", err.msg);
    assert_false(t_exists(t_path("out/wm/grp/master.m3u8")));
    assert_false(t_exists(t_path("out/wm/grp/v.m3u8")));
    assert_false(t_exists(t_path("out/wm/grp/v-0.ts")));
}

/* ---- on the Vulkan device ---- */

static void on_the_device(void **state)
{
    (void)state;
    mc_hw_device *dev = NULL;
    mc_err err;
    mc_err_clear(&err);
    if (mc_hw_device_open("vulkan", NULL, &dev, &err) < 0) {
        print_message("skipped: no Vulkan device (%s)\n", err.msg);
        skip();
    }
    mc_hw_device_unref(&dev);
    /* Scaled on the device, downloaded, then mosaic and watermark in software. */
    const char *filter = "\"Delogos\":[{\"Dx\":32,\"Dy\":16,\"Width\":96,\"Height\":64}],"
                         "\"Watermarks\":[{\"Type\":\"file\","
                         "\"URI\":\"oss://fixtures/wm_square.png\",\"Width\":0.25,"
                         "\"ReferPos\":\"bottomright\",\"Dx\":16,\"Dy\":8}]";
    mc_result r;
    pics p = run_pics_res("vulkan", "vk", filter, &r);
    /* A PNG with alpha and a delogo: drawn in software, one copy each way per frame. */
    assert_string_equal(r.stage_scale, "vulkan:0");
    assert_string_equal(r.stage_overlay, "software");
    assert_int_equal(r.uploads, r.frames_encoded);
    assert_int_equal(r.downloads, r.frames_encoded);
    mc_result_clear(&r);
    pics s = run_pics_on("software", "vk_sw", filter);
    assert_int_equal(p.n, s.n);
    /* The square and the mosaic are where the software run put them. */
    for (int y = 104; y < 160; y++)
        for (int x = 236; x < 292; x++)
            assert_true(p.y[0][y * W + x] >= 230);
    long differ = 0;
    for (int i = 0; i < W * H; i++)
        differ += abs(p.y[0][i] - s.y[0][i]);
    assert_true((double)differ / (W * H) < 4.0); /* bilinear vs bicubic scaling */
    pics_free(&p);
    pics_free(&s);
}

static bool have_vulkan(void)
{
    mc_hw_device *dev = NULL;
    mc_err err;
    mc_err_clear(&err);
    if (mc_hw_device_open("vulkan", NULL, &dev, &err) < 0) {
        print_message("skipped: no Vulkan device (%s)\n", err.msg);
        return false;
    }
    mc_hw_device_unref(&dev);
    return true;
}

/* An opaque PNG shown for the whole output: the frames stay on the device from the upload
 * before scale_vulkan to the download the software encoder needs, and overlay_vulkan draws
 * the picture, uploaded once. */
static void overlay_on_the_device(void **state)
{
    (void)state;
    if (!have_vulkan())
        skip();
    const char *filter = "\"Watermarks\":[{\"Type\":\"file\","
                         "\"URI\":\"oss://fixtures/wm_opaque.png\",\"Width\":0.25,"
                         "\"ReferPos\":\"bottomright\",\"Dx\":16,\"Dy\":8}]";
    mc_result r, rs;
    pics p = run_pics_res("vulkan", "vk_ovl", filter, &r);
    pics s = run_pics_res("software", "vk_ovl_sw", filter, &rs);
    print_message("device overlay: %lld frames, %lld uploads, %lld downloads\n",
                  (long long)r.frames_encoded, (long long)r.uploads, (long long)r.downloads);
    assert_string_equal(r.stage_scale, "vulkan:0");
    assert_string_equal(r.stage_overlay, "vulkan:0");
    assert_string_equal(r.stage_encode, "software");
    assert_true(r.frames_encoded >= 70);
    /* One download per frame, after the overlay; one upload per frame plus the picture. */
    assert_int_equal(r.downloads, r.frames_encoded);
    assert_int_equal(r.uploads, r.frames_encoded + 1);
    assert_string_equal(rs.stage_overlay, "software");
    assert_int_equal(rs.uploads, 0);
    assert_int_equal(p.n, s.n);
    assert_int_equal(p.n, (int)r.frames_encoded);
    /* The 80x80 white square at (224, 92) on every frame, as in the software run. */
    for (int k = 0; k < p.n; k++)
        for (int y = 94; y < 170; y++)
            for (int x = 226; x < 302; x++)
                assert_true(p.y[k][y * W + x] >= 230);
    long differ = 0;
    for (int i = 0; i < W * H; i++)
        differ += abs(p.y[0][i] - s.y[0][i]);
    assert_true((double)differ / (W * H) < 4.0); /* bilinear vs bicubic scaling */
    mc_result_clear(&r);
    mc_result_clear(&rs);
    pics_free(&p);
    pics_free(&s);
}

static int teardown(void **state)
{
    (void)state;
    pics_free(&ref_pics);
    return 0;
}

int main(void)
{
    /* As in test_hw.c: lavapipe stays loaded so LeakSanitizer can name it. */
    (void)dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NODELETE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_at_each_corner),
        cmocka_unit_test(text_time_range),
        cmocka_unit_test(text_is_escaped),
        cmocka_unit_test(png_watermark_scaled_by_fraction),
        cmocka_unit_test(mov_watermark_plays_once),
        cmocka_unit_test(delogo_pixels),
        cmocka_unit_test(delogo_fractions),
        cmocka_unit_test(speed_is_metadata),
        cmocka_unit_test(refusals),
        cmocka_unit_test(on_the_device),
        cmocka_unit_test(overlay_on_the_device),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
