/*
 * Attached sources (Sources[].Attached, AlignMode): friday.mp4 (6.17 s, speech) with
 * t-rex-roar.mp3 (2.12 s) attached. Its audio becomes an extra track after the video's own
 * (the only track when the video's audio is disabled); loop repeats it to the video's length,
 * pad fills it with silence, false keeps its length.
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

#include "audio_read.h"
#include "mc_media.h"
#include "support.h"

static char g_dir[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    if (!t_media_dir() || !realpath(t_media_dir(), g_dir))
        g_dir[0] = '\0';
    return 0;
}

/* friday.mp4 with the mp3 attached, into `out` (mp4 unless it says otherwise). */
static void run_attached_with(const char *mode, const char *att_extra, const char *main_extra,
                              const char *out, const char *container, const char *audio)
{
    char json[4 * PATH_MAX];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"%s},"
             "{\"URI\":\"file://%s/t-rex-roar.mp3\",\"Attached\":true,\"AlignMode\":\"%s\"%s}],"
             "\"Targets\":[{\"URI\":\"oss://output/%s\",\"Container\":\"%s\","
             "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"160x120\"}},"
             "\"Audio\":%s}]}",
             g_dir, main_extra, g_dir, mode, att_extra, out, container, audio);
    mc_result res = t_run_ok(json);
    mc_result_clear(&res);
}

static void run_attached(const char *mode, const char *main_extra, const char *out,
                         const char *container, const char *audio)
{
    run_attached_with(mode, "", main_extra, out, container, audio);
}

#define AAC "{\"TranscodeAudio\":{\"Codec\":\"aac\"}}"

/* RMS envelope correlation of two stretches of a track (50 ms windows). */
static double envelope_corr(const t_track *t, double a, double b, double len)
{
    size_t w = (size_t)t->sample_rate / 20;
    int n = (int)(len * 20);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double x = t_rms(t, (size_t)(a * t->sample_rate) + (size_t)i * w, w);
        double y = t_rms(t, (size_t)(b * t->sample_rate) + (size_t)i * w, w);
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    double cov = sxy - sx * sy / n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
    return vx > 0 && vy > 0 ? cov / sqrt(vx * vy) : 0;
}

/* The mp3 as decoded on its own: its length is the loop's period. */
static double mp3_length(void)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/t-rex-roar.mp3", g_dir);
    t_track t;
    int n = t_audio_tracks(path, &t, 1);
    assert_int_equal(n, 1);
    double d = t.duration;
    t_tracks_free(&t, n);
    return d;
}

static void loop_repeats_to_the_video_length(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_attached("loop", "", "att_loop.mp4", "mp4", AAC);
    t_file f;
    assert_true(t_read(t_path("output/att_loop.mp4"), &f));
    assert_int_equal(f.nb_streams, 3);
    t_track tr[3];
    int n = t_audio_tracks(t_path("output/att_loop.mp4"), tr, 3);
    assert_int_equal(n, 2);
    double period = mp3_length();
    print_message("video %.3f s, main audio %.3f s, attached %.3f s (mp3 %.3f s)\n",
                  f.video.duration, tr[0].duration, tr[1].duration, period);
    /* the video's length, within a frame */
    assert_true(fabs(tr[1].duration - f.video.duration) <= 1.0 / 30 + 0.001);
    assert_int_equal(tr[1].sample_rate, 44100);
    /* it repeats: the second pass looks like the first, not like a shifted copy */
    double same = envelope_corr(&tr[1], 0.05, period + 0.05, 1.9);
    double shifted = envelope_corr(&tr[1], 0.05, period + 0.55, 1.4);
    print_message("envelope correlation: %.3f at the period, %.3f half a second off\n", same,
                  shifted);
    assert_true(same > 0.9);
    assert_true(shifted < same - 0.2);
    /* and it is not silent in its third pass */
    assert_true(t_rms(&tr[1], (size_t)((2 * period + 0.1) * 44100), 22050) > 0.01);
    t_tracks_free(tr, n);
}

/* StartTime and Duration of the attached source: the loop repeats that window. */
static void loop_of_a_window(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_attached_with("loop", ",\"StartTime\":0.3,\"Duration\":1.2", "", "att_loopw.mp4", "mp4",
                      AAC);
    t_file f;
    assert_true(t_read(t_path("output/att_loopw.mp4"), &f));
    t_track tr[3];
    int n = t_audio_tracks(t_path("output/att_loopw.mp4"), tr, 3);
    assert_int_equal(n, 2);
    assert_true(fabs(tr[1].duration - f.video.duration) <= 1.0 / 30 + 0.001);
    double same = envelope_corr(&tr[1], 0.05, 1.2 + 0.05, 1.1);
    double later = envelope_corr(&tr[1], 0.05, 3 * 1.2 + 0.05, 1.1);
    double shifted = envelope_corr(&tr[1], 0.05, 1.2 + 0.45, 0.7);
    print_message("window loop: %.3f at 1.2 s, %.3f at 3.6 s, %.3f off by 0.4 s\n", same, later,
                  shifted);
    assert_true(same > 0.9 && later > 0.9);
    assert_true(shifted < same - 0.2);
    t_tracks_free(tr, n);
}

static void pad_fills_with_silence(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_attached("pad", "", "att_pad.mp4", "mp4", AAC);
    t_file f;
    assert_true(t_read(t_path("output/att_pad.mp4"), &f));
    t_track tr[3];
    int n = t_audio_tracks(t_path("output/att_pad.mp4"), tr, 3);
    assert_int_equal(n, 2);
    double period = mp3_length();
    print_message("video %.3f s, attached %.3f s\n", f.video.duration, tr[1].duration);
    assert_true(fabs(tr[1].duration - f.video.duration) <= 1.0 / 30 + 0.001);
    double roar = t_rms(&tr[1], 4410, 44100),
           after = t_rms(&tr[1], (size_t)((period + 0.2) * 44100), 3 * 44100);
    print_message("rms: %.4f in the roar, %.6f after it\n", roar, after);
    assert_true(roar > 0.01);
    assert_true(after < 0.0005);
    t_tracks_free(tr, n);
}

/* AlignMode false: the attached track keeps its own length. */
static void false_keeps_its_length(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_attached("false", "", "att_false.mp4", "mp4", AAC);
    t_track tr[3];
    int n = t_audio_tracks(t_path("output/att_false.mp4"), tr, 3);
    assert_int_equal(n, 2);
    double period = mp3_length();
    print_message("attached %.3f s, mp3 %.3f s, main %.3f s\n", tr[1].duration, period,
                  tr[0].duration);
    assert_true(fabs(tr[1].duration - period) < 0.06);
    assert_true(tr[0].duration > 6.0);
    t_tracks_free(tr, n);
}

/* The video's own audio disabled: the mp3 is the output's audio (the "replace" case). */
static void replaces_disabled_audio(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    run_attached("loop", ",\"DisableAudio\":true", "att_replace.mp4", "mp4", AAC);
    t_file f;
    assert_true(t_read(t_path("output/att_replace.mp4"), &f));
    assert_int_equal(f.nb_streams, 2);
    t_track tr[2];
    int n = t_audio_tracks(t_path("output/att_replace.mp4"), tr, 2);
    assert_int_equal(n, 1);
    assert_true(fabs(tr[0].duration - f.video.duration) <= 1.0 / 30 + 0.001);
    assert_true(envelope_corr(&tr[0], 0.05, mp3_length() + 0.05, 1.9) > 0.9);
    t_tracks_free(tr, n);
}

/* A segmented output carries one audio track: the attached one when the main has none. */
static void segmented_replace(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    char json[4 * PATH_MAX];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\","
             "\"DisableAudio\":true},{\"URI\":\"file://%s/t-rex-roar.mp3\",\"Attached\":true,"
             "\"AlignMode\":\"pad\"}],\"Targets\":[{\"URI\":\"oss://output/att_seg/v.m3u8\","
             "\"Container\":\"ts\",\"Segment\":{\"Format\":\"hls\",\"Duration\":2},"
             "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"160x120\"}},"
             "\"Audio\":" AAC "}]}",
             g_dir, g_dir);
    mc_result res = t_run_ok(json);
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/att_seg/v.m3u8"), &f));
    assert_true(f.audio.present);
    assert_int_equal(f.audio.sample_rate, 44100);
    print_message("segmented: video %.3f s, audio %.3f s\n", f.video.duration, f.audio.duration);
    assert_true(fabs(f.audio.duration - f.video.duration) < 0.1);
}

static void expect_refused(const char *json, const char *needle)
{
    mc_result res = {0};
    mc_err err;
    if (t_run(json, &res, &err) >= 0)
        fail_msg("expected a refusal, the request succeeded:\n%s", json);
    if (strcmp(err.code, "InvalidArgument") != 0 || !strstr(err.msg, needle))
        fail_msg("expected InvalidArgument with \"%s\", got %s: %s", needle, err.code, err.msg);
}

static void refused(void **state)
{
    (void)state;
    if (!g_dir[0])
        skip();
    char json[4 * PATH_MAX];
    /* the AlignmentIndex source (0 by default) cannot be the attached one */
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/t-rex-roar.mp3\","
             "\"Attached\":true,\"AlignMode\":\"loop\"},{\"URI\":\"file://%s/friday.mp4\"}],"
             "\"Targets\":[{\"URI\":\"oss://output/att_r1.mp4\",\"Container\":\"mp4\"}]}",
             g_dir, g_dir);
    expect_refused(json, "AlignmentIndex");
    /* the video of an attached source beside the main one, in a container of one video
     * stream (test_attach_video.c has the rest) */
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"},"
             "{\"URI\":\"file://%s/friday.mp4\",\"Attached\":true}],"
             "\"Targets\":[{\"URI\":\"oss://output/att_r2.flv\",\"Container\":\"flv\"}]}",
             g_dir, g_dir);
    expect_refused(json, "and flv carries one");
    assert_false(t_exists(t_path("output/att_r2.flv")));
    /* a second audio track in a container that carries one */
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"test\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"},"
             "{\"URI\":\"file://%s/t-rex-roar.mp3\",\"Attached\":true}],"
             "\"Targets\":[{\"URI\":\"oss://output/att_r3.mp3\",\"Container\":\"mp3\","
             "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"mp3\"}}}]}",
             g_dir, g_dir);
    expect_refused(json, "and mp3 carries one");
    assert_false(t_exists(t_path("output/att_r3.mp3")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_repeats_to_the_video_length),
        cmocka_unit_test(loop_of_a_window),
        cmocka_unit_test(pad_fills_with_silence),
        cmocka_unit_test(false_keeps_its_length),
        cmocka_unit_test(replaces_disabled_audio),
        cmocka_unit_test(segmented_replace),
        cmocka_unit_test(refused),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, setup, NULL);
}
