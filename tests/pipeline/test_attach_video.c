/*
 * The video of an attached source (Sources[].Attached, AlignMode): friday.mp4 (6.17 s, 30 fps)
 * with bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4 (4.0 s, 120 frames, no audio) attached.
 * Its video becomes a second video stream of the output: loop repeats it to 6.17 s, pad adds
 * black frames up to 6.17 s, false keeps its 4 s. Every output frame of it is decoded back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "mc_media.h"
#include "support.h"

#define MAX_FRAMES 600

static char g_dir[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    if (!t_media_dir() || !realpath(t_media_dir(), g_dir))
        g_dir[0] = '\0';
    return 0;
}

/* What the k-th video stream of a file decodes to. */
typedef struct vread {
    int n_video; /* video streams in the file */
    int width, height;
    int frames;
    double end;              /* end of the last frame, seconds */
    double luma[MAX_FRAMES]; /* mean luma of each frame, in presentation order */
} vread;

static double mean_luma(const AVFrame *f)
{
    double sum = 0;
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            sum += f->data[0][(size_t)y * (size_t)f->linesize[0] + (size_t)x];
    return sum / ((double)f->width * f->height);
}

static void read_video(const char *path, int k, vread *r)
{
    memset(r, 0, sizeof(*r));
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int index = -1;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        if (fmt->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
            continue;
        if (r->n_video++ == k)
            index = (int)i;
    }
    assert_true(index >= 0);
    AVStream *st = fmt->streams[index];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    assert_non_null(codec);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    assert_non_null(dec);
    assert_true(avcodec_parameters_to_context(dec, st->codecpar) >= 0);
    assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
    r->width = st->codecpar->width;
    r->height = st->codecpar->height;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    bool eof = false;
    while (!eof) {
        int rc = av_read_frame(fmt, pkt);
        if (rc < 0) {
            eof = true;
            avcodec_send_packet(dec, NULL);
        } else if (pkt->stream_index == index) {
            assert_true(avcodec_send_packet(dec, pkt) >= 0);
        }
        av_packet_unref(pkt);
        while (avcodec_receive_frame(dec, f) >= 0) {
            assert_true(r->frames < MAX_FRAMES);
            r->luma[r->frames++] = mean_luma(f);
            int64_t dur = f->pkt_duration > 0 ? f->pkt_duration : 0;
            double end = (double)(f->best_effort_timestamp + dur) * av_q2d(st->time_base);
            r->end = fmax(r->end, end);
            av_frame_unref(f);
        }
    }
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
}

/* friday.mp4 with the bbb clip attached; `main_extra`/`video`: JSON added to the main source
 * and the target's Video. */
static int run_attached(const char *mode, const char *main_extra, const char *out,
                        const char *container, const char *video, mc_err *err)
{
    char json[4 * PATH_MAX];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"%s},"
             "{\"URI\":\"file://%s/bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4\","
             "\"Attached\":true,\"AlignMode\":\"%s\"}],"
             "\"Targets\":[{\"URI\":\"oss://output/%s\",\"Container\":\"%s\""
             "%s%s,\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]}",
             g_dir, main_extra, g_dir, mode, out, container, video[0] ? ",\"Video\":" : "", video);
    mc_result res = {0};
    int rc = t_run(json, &res, err);
    mc_result_clear(&res);
    return rc;
}

static void run_ok(const char *mode, const char *main_extra, const char *out, const char *container,
                   const char *video)
{
    mc_err err = {0};
    int rc = run_attached(mode, main_extra, out, container, video, &err);
    if (rc < 0)
        print_message("refused: %s\n", err.msg);
    assert_true(rc >= 0);
}

#define FRAME (1.0 / 30)

static void loop_repeats_the_video(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_ok("loop", "", "attv_loop.mkv", "mkv", "");
    vread *main = malloc(sizeof(*main)), *att = malloc(sizeof(*att));
    assert_non_null(main);
    assert_non_null(att);
    read_video(t_path("output/attv_loop.mkv"), 0, main);
    read_video(t_path("output/attv_loop.mkv"), 1, att);
    print_message("main %dx%d %d frames %.3f s; attached %dx%d %d frames %.3f s\n", main->width,
                  main->height, main->frames, main->end, att->width, att->height, att->frames,
                  att->end);
    assert_int_equal(att->n_video, 2);
    assert_int_equal(main->width, 640);
    assert_int_equal(main->height, 480);
    /* no Resolution: the attached video keeps its own size */
    assert_int_equal(att->width, 800);
    assert_int_equal(att->height, 640);
    /* as long as the main timeline (6.17 s, 185 frames at 30 fps), within a frame */
    assert_true(fabs(att->end - 6.17) <= FRAME + 0.002);
    assert_true(abs(att->frames - 185) <= 1);
    /* the second pass starts again: frame 120 + k looks like frame k, not like frame
     * 119 + k nor like the last frames of the first pass */
    double same = 0, other = 0;
    for (int k = 0; k < 60; k++) {
        same += fabs(att->luma[120 + k] - att->luma[k]);
        other += fabs(att->luma[120 + k] - att->luma[119 - k % 30]);
    }
    print_message("pass 2 vs pass 1: mean luma difference %.3f, vs the first pass's end %.3f\n",
                  same / 60, other / 60);
    assert_true(same / 60 < 1.5);
    assert_true(other > 2 * same + 1.0);
    free(main);
    free(att);
}

static void pad_adds_black_frames(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_ok("pad", "", "attv_pad.mp4", "mp4",
           "{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"320x256\"}}");
    vread *att = malloc(sizeof(*att));
    assert_non_null(att);
    read_video(t_path("output/attv_pad.mp4"), 1, att);
    print_message("attached %dx%d %d frames %.3f s, luma %.2f at frame 119, %.2f at 184\n",
                  att->width, att->height, att->frames, att->end, att->luma[119],
                  att->luma[att->frames - 1]);
    assert_int_equal(att->n_video, 2);
    /* the target's Resolution */
    assert_int_equal(att->width, 320);
    assert_int_equal(att->height, 256);
    assert_true(fabs(att->end - 6.17) <= FRAME + 0.002);
    assert_true(abs(att->frames - 185) <= 1);
    /* the picture until 4 s, then black (limited-range luma 16) to the main end */
    assert_true(att->luma[119] > 40.0);
    for (int k = 121; k < att->frames; k++)
        if (fabs(att->luma[k] - 16.0) > 1.5)
            fail_msg("frame %d: luma %.2f, expected black (16)", k, att->luma[k]);
    free(att);
}

static void false_keeps_its_length(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_ok("false", "", "attv_false.mov", "mov", "");
    vread *att = malloc(sizeof(*att));
    assert_non_null(att);
    read_video(t_path("output/attv_false.mov"), 1, att);
    print_message("attached %d frames %.3f s\n", att->frames, att->end);
    assert_int_equal(att->n_video, 2);
    assert_int_equal(att->frames, 120);
    assert_true(fabs(att->end - 4.0) <= FRAME + 0.002);
    free(att);
}

/* The main sources' video disabled: the attached video is the output's only video. */
static void replaces_disabled_video(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_ok("loop", ",\"DisableVideo\":true", "attv_only.mp4", "mp4", "");
    vread *att = malloc(sizeof(*att));
    assert_non_null(att);
    read_video(t_path("output/attv_only.mp4"), 0, att);
    assert_int_equal(att->n_video, 1);
    assert_int_equal(att->width, 800);
    assert_true(fabs(att->end - 6.17) <= FRAME + 0.002);
    free(att);
}

static void refused(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    mc_err err = {0};
    /* flv, ts, avi carry one video stream */
    const char *one[][2] = {{"attv_r.flv", "flv"}, {"attv_r.ts", "ts"}, {"attv_r.avi", "avi"}};
    for (size_t i = 0; i < 3; i++) {
        err = (mc_err){0};
        assert_true(run_attached("loop", "", one[i][0], one[i][1], "", &err) < 0);
        print_message("%s: %s\n", one[i][1], err.msg);
        char want[64];
        snprintf(want, sizeof(want), "and %s carries one", one[i][1]);
        assert_non_null(strstr(err.msg, want));
        assert_non_null(strstr(err.msg, "Targets[0]"));
        char key[64];
        snprintf(key, sizeof(key), "output/%s", one[i][0]);
        assert_false(t_exists(t_path(key)));
    }
    /* a segmented output */
    char json[4 * PATH_MAX];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"},"
             "{\"URI\":\"file://%s/bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4\","
             "\"Attached\":true}],\"Targets\":[{\"URI\":\"oss://output/attv_seg/x.m3u8\","
             "\"Container\":\"ts\",\"Segment\":{\"Format\":\"hls\",\"Duration\":2}}]}",
             g_dir, g_dir);
    mc_result res = {0};
    err = (mc_err){0};
    assert_true(t_run(json, &res, &err) < 0);
    mc_result_clear(&res);
    print_message("segmented: %s\n", err.msg);
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.msg, "segmented output takes no video"));
    assert_false(t_exists(t_path("output/attv_seg/x.m3u8")));
    assert_false(t_exists(t_path("output/attv_seg/x-0.ts")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_repeats_the_video),
        cmocka_unit_test(pad_adds_black_frames),
        cmocka_unit_test(false_keeps_its_length),
        cmocka_unit_test(replaces_disabled_video),
        cmocka_unit_test(refused),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, setup, NULL);
}
