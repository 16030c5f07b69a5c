/*
 * Stream selection (Video.Stream, Audio.Stream): indexes are the file's stream indexes (as
 * ffprobe and Subtitle.Stream number them), indexes that are not a stream of the type are
 * ignored, and what cannot be done is refused by name.
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

#include <inttypes.h>

#include <libavformat/avformat.h>

#include "audio_read.h"
#include "mc_media.h"
#include "support.h"

#define REQ(...) "{\"ProjectName\":\"test\"," __VA_ARGS__ "}"
#define MULTI    "\"Sources\":[{\"URI\":\"oss://fixtures/multi.mkv\"}],"

static void expect_failure(const char *json, const char *needle, const char *absent_output)
{
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    if (rc >= 0)
        fail_msg("expected InvalidArgument, the request succeeded:\n%s", json);
    if (strcmp(err.code, "InvalidArgument") != 0 || !strstr(err.msg, needle))
        fail_msg("expected InvalidArgument with \"%s\", got %s: %s", needle, err.code, err.msg);
    assert_false(t_exists(t_path(absent_output)));
}

/* Without Stream, the first stream of each type; the file's other streams are left out. */
static void first_by_default(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/sel0.mkv\","
                                       "\"Container\":\"mkv\"}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/sel0.mkv"), &f));
    assert_int_equal(f.nb_streams, 2);
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.audio.sample_rate, 48000);
    assert_int_equal(f.audio.channels, 2);
}

/* multi.mkv holds video 0, audio 1, video 2, audio 3: [2] and [3] are the second ones,
 * copied or encoded. */
static void second_streams(void **state)
{
    (void)state;
    mc_result res =
        t_run_ok(REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/sel1.mkv\",\"Container\":\"mkv\","
                           "\"Video\":{\"Stream\":[2],\"TranscodeVideo\":{\"Codec\":\"copy\"}},"
                           "\"Audio\":{\"Stream\":[3],\"TranscodeAudio\":{\"Codec\":\"copy\"}}},"
                           "{\"URI\":\"oss://output/sel1.mp4\",\"Container\":\"mp4\","
                           "\"Video\":{\"Stream\":[2],\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                           "\"Audio\":{\"Stream\":[3],\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/sel1.mkv"), &f));
    assert_int_equal(f.nb_streams, 2);
    assert_int_equal(f.video.width, 160);
    assert_int_equal(f.video.height, 120);
    assert_int_equal(f.audio.sample_rate, 22050);
    assert_int_equal(f.audio.channels, 1);
    assert_true(t_read(t_path("output/sel1.mp4"), &f));
    assert_int_equal(f.video.width, 160);
    /* 50 frames, the last one held until the longer audio ends */
    assert_in_range(f.video.packets, 50, 51);
    assert_int_equal(f.audio.sample_rate, 22050);
    assert_int_equal(f.audio.channels, 1);
}

/* Indexes the file lacks are ignored: [7] selects nothing, so the first stream is used; a
 * value over 100 means "all", which is one stream in a file that has one. */
static void missing_and_all(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/sel7.mkv\",\"Container\":\"mkv\","
                  "\"Video\":{\"Stream\":[7],\"TranscodeVideo\":{\"Codec\":\"copy\"}},"
                  "\"Audio\":{\"Stream\":[7,3],\"TranscodeAudio\":{\"Codec\":\"copy\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/sel7.mkv"), &f));
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.audio.sample_rate, 22050);

    res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/sel_all.mp4\",\"Container\":\"mp4\","
                       "\"Audio\":{\"Stream\":[101],\"FilterAudio\":{\"Mixing\":true},"
                       "\"TranscodeAudio\":{\"Codec\":\"aac\",\"SampleRate\":44100}}}]"));
    mc_result_clear(&res);
    assert_true(t_read(t_path("output/sel_all.mp4"), &f));
    assert_int_equal(f.audio.sample_rate, 44100);
    assert_true(f.video.present);
}

/* friday.mp4 has its audio as file stream 0 and its video as file stream 1: Video.Stream
 * [1] and Audio.Stream [0] name them; Video.Stream [0] names no video stream, so it is
 * ignored and the first video stream is used. */
static void file_indexes_on_real_media(void **state)
{
    (void)state;
    if (!t_media_dir())
        skip();
    char dir[PATH_MAX], json[PATH_MAX + 512];
    assert_non_null(realpath(t_media_dir(), dir));
    snprintf(json, sizeof(json),
             REQ("\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"}],"
                 "\"Targets\":[{\"URI\":\"oss://output/friday_v0.mp4\",\"Container\":\"mp4\","
                 "\"Video\":{\"Stream\":[1],\"TranscodeVideo\":{\"Codec\":\"h264\","
                 "\"Resolution\":\"320x240\"}},\"Audio\":{\"Stream\":[0],"
                 "\"TranscodeAudio\":{\"Codec\":\"aac\"}}},"
                 "{\"URI\":\"oss://output/friday_v1.mkv\",\"Container\":\"mkv\","
                 "\"Video\":{\"Stream\":[0],\"TranscodeVideo\":{\"Codec\":\"copy\"}},"
                 "\"Audio\":{\"Stream\":[1],\"TranscodeAudio\":{\"Codec\":\"copy\"}}}]"),
             dir);
    mc_result res = t_run_ok(json);
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/friday_v0.mp4"), &f));
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.video.height, 240);
    assert_string_equal(f.audio.codec, "aac");
    assert_int_equal(f.audio.sample_rate, 44100);
    /* the indexes that name no stream of the type were ignored: both streams are there */
    assert_true(t_read(t_path("output/friday_v1.mkv"), &f));
    assert_int_equal(f.video.width, 640);
    assert_int_equal(f.audio.sample_rate, 44100);
}

/* Power of a tone in the middle second of a track. */
static double mid_tone(const t_track *t, double freq)
{
    return t_tone_power(t, freq, (size_t)t->sample_rate / 2, (size_t)t->sample_rate);
}

/* multi.mkv's audio: stream 1 is a 440 Hz tone at 48 kHz stereo, stream 3 an 880 Hz tone at
 * 22.05 kHz mono. Each track holds its own tone and not the other's. */
static void assert_multi_tracks(const t_track *tr, int n, double len)
{
    assert_int_equal(n, 2);
    assert_int_equal(tr[0].sample_rate, 48000);
    assert_int_equal(tr[0].channels, 2);
    assert_int_equal(tr[1].sample_rate, 22050);
    assert_int_equal(tr[1].channels, 1);
    for (int k = 0; k < 2; k++) {
        if (fabs(tr[k].duration - len) > 0.2) /* AAC priming and padding, per source */
            fail_msg("track %d lasts %.3f s, expected %.3f s", k, tr[k].duration, len);
        double own = mid_tone(&tr[k], k ? 880 : 440), other = mid_tone(&tr[k], k ? 440 : 880);
        if (own < 0.001 || other > own / 100)
            fail_msg("track %d: own tone %g, other tone %g", k, own, other);
    }
}

/* Several selected audio streams: one track each, in the file's order, encoded or copied;
 * with concatenation, track k takes the k-th selected stream of every source. */
static void all_audio_tracks(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/all_a.mkv\",\"Container\":\"mkv\","
                  "\"Audio\":{\"Stream\":[101],\"TranscodeAudio\":{\"Codec\":\"aac\"}}},"
                  "{\"URI\":\"oss://output/all_a_copy.mkv\",\"Container\":\"mkv\","
                  "\"Audio\":{\"Stream\":[3,1],\"TranscodeAudio\":{\"Codec\":\"copy\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    t_track tr[4];
    const char *outs[] = {"output/all_a.mkv", "output/all_a_copy.mkv"};
    for (int i = 0; i < 2; i++) {
        assert_true(t_read(t_path(outs[i]), &f));
        assert_int_equal(f.nb_streams, 3);
        assert_int_equal(f.video.width, 320);
        int n = t_audio_tracks(t_path(outs[i]), tr, 4);
        assert_multi_tracks(tr, n, 2.0);
        t_tracks_free(tr, n);
    }

    res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/multi.mkv\"},"
                       "{\"URI\":\"oss://fixtures/multi.mkv\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/all_a_concat.mp4\","
                       "\"Container\":\"mp4\",\"Video\":{\"TranscodeVideo\":{\"Codec\":"
                       "\"h264\"}},\"Audio\":{\"Stream\":[101],\"TranscodeAudio\":{\"Codec\":"
                       "\"aac\"}}}]"));
    mc_result_clear(&res);
    int n = t_audio_tracks(t_path("output/all_a_concat.mp4"), tr, 4);
    assert_multi_tracks(tr, n, 4.0);
    /* the second source's tones follow the first's in each track */
    for (int k = 0; k < 2; k++)
        assert_true(t_tone_power(&tr[k], k ? 880 : 440, (size_t)(2.5 * tr[k].sample_rate),
                                 (size_t)tr[k].sample_rate) > 0.001);
    t_tracks_free(tr, n);
}

/* FilterAudio.Mixing: the selected tracks become one, which holds both tones (amix with
 * normalize: each at half its level), in the first track's rate and layout. Measured: 440 Hz
 * at 0.249 of its own track's power, 880 Hz at 0.124. */
static void mixing(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/mixed.mp4\",\"Container\":\"mp4\","
                  "\"Audio\":{\"Stream\":[1,3],\"FilterAudio\":{\"Mixing\":true},"
                  "\"TranscodeAudio\":{\"Codec\":\"aac\"}}},"
                  "{\"URI\":\"oss://output/unmixed.mkv\",\"Container\":\"mkv\","
                  "\"Audio\":{\"Stream\":[1,3],\"TranscodeAudio\":{\"Codec\":\"flac\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/mixed.mp4"), &f));
    assert_int_equal(f.nb_streams, 2);
    t_track mix[2], sep[3];
    int n = t_audio_tracks(t_path("output/mixed.mp4"), mix, 2);
    assert_int_equal(n, 1);
    int m = t_audio_tracks(t_path("output/unmixed.mkv"), sep, 3);
    assert_int_equal(m, 2);
    assert_int_equal(mix[0].sample_rate, 48000);
    assert_int_equal(mix[0].channels, 2);
    if (fabs(mix[0].duration - 2.0) > 0.1)
        fail_msg("the mix lasts %.3f s", mix[0].duration);
    double p440 = mid_tone(&mix[0], 440), p880 = mid_tone(&mix[0], 880);
    double r440 = p440 / mid_tone(&sep[0], 440), r880 = p880 / mid_tone(&sep[1], 880);
    print_message("mix: 440 Hz %g (%.3f of the track), 880 Hz %g (%.3f), 660 Hz %g\n", p440, r440,
                  p880, r880, mid_tone(&mix[0], 660));
    /* amplitude halved: power a quarter of the separate track's; the mono 880 Hz track is
     * upmixed to stereo at -3 dB on top of that: an eighth */
    assert_true(r440 > 0.15 && r440 < 0.4);
    assert_true(r880 > 0.08 && r880 < 0.2);
    assert_true(mid_tone(&mix[0], 660) < p440 / 100);
    t_tracks_free(mix, n);
    t_tracks_free(sep, m);
}

/* Size and packet count of every video stream of a file; how many there are. */
static int video_streams(const char *path, int *w, int *h, int64_t *packets, int max)
{
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int map[16], n = 0;
    for (unsigned i = 0; i < fmt->nb_streams && i < 16; i++) {
        map[i] = -1;
        const AVCodecParameters *par = fmt->streams[i]->codecpar;
        if (par->codec_type != AVMEDIA_TYPE_VIDEO || n >= max)
            continue;
        map[i] = n;
        w[n] = par->width;
        h[n] = par->height;
        packets[n++] = 0;
    }
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index < 16 && map[pkt->stream_index] >= 0)
            packets[map[pkt->stream_index]]++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return n;
}

/* Video.Stream [0,2] and "all" (101): one video stream each, in the file's order, each at its
 * own size; the audio takes the first audio stream as before. */
static void several_video_streams(void **state)
{
    (void)state;
    const char *reqs[][2] = {
        {REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/v2.mkv\",\"Container\":\"mkv\","
                   "\"Video\":{\"Stream\":[0,2],\"TranscodeVideo\":{\"Codec\":\"h264\"}}}]"),
         "output/v2.mkv"},
        {REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/vall.mp4\",\"Container\":\"mp4\","
                   "\"Video\":{\"Stream\":[101],\"TranscodeVideo\":{\"Codec\":\"h264\"}}}]"),
         "output/vall.mp4"},
    };
    for (size_t i = 0; i < 2; i++) {
        mc_result res = t_run_ok(reqs[i][0]);
        mc_result_clear(&res);
        int w[4], h[4];
        int64_t packets[4];
        int n = video_streams(t_path(reqs[i][1]), w, h, packets, 4);
        print_message("%s: %d video streams, %dx%d %" PRId64 " frames, %dx%d %" PRId64 " frames\n",
                      reqs[i][1], n, w[0], h[0], packets[0], w[1], h[1], packets[1]);
        assert_int_equal(n, 2);
        assert_int_equal(w[0], 320);
        assert_int_equal(h[0], 240);
        assert_int_equal(w[1], 160);
        assert_int_equal(h[1], 120);
        /* 2 s at 25 fps each (mp4 keeps the source's timestamps: a frame more or less) */
        assert_true(llabs(packets[0] - 50) <= 1);
        assert_int_equal(packets[1], packets[0]);
        t_file f;
        assert_true(t_read(t_path(reqs[i][1]), &f));
        assert_int_equal(f.nb_streams, 3);
        assert_int_equal(f.audio.channels, 2);
    }
}

/* Several video streams only where the container carries them and from a single source; one
 * choice per source for all targets. */
static void refused(void **state)
{
    (void)state;
    expect_failure(REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/r3.flv\",\"Container\":"
                             "\"flv\",\"Video\":{\"Stream\":[0,2],"
                             "\"TranscodeVideo\":{\"Codec\":\"h264\"}}}]"),
                   "Targets[0].Video.Stream: selects 2 video streams of oss://fixtures/multi.mkv, "
                   "and flv carries one",
                   "output/r3.flv");
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/multi.mkv\"},"
                       "{\"URI\":\"oss://fixtures/multi.mkv\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/r9.mkv\",\"Container\":"
                       "\"mkv\",\"Video\":{\"Stream\":[0,2],"
                       "\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                       "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"),
                   "Targets[0].Video.Stream: selects 2 video streams", "output/r9.mkv");
    expect_failure(REQ(MULTI "\"Targets\":[{\"URI\":\"oss://output/r8.mp3\",\"Container\":"
                             "\"mp3\",\"Audio\":{\"Stream\":[101],"
                             "\"TranscodeAudio\":{\"Codec\":\"mp3\"}}}]"),
                   "Targets[0]: would carry 2 audio tracks (2 selected streams, 0 from attached "
                   "sources), and mp3 carries one",
                   "output/r8.mp3");
    expect_failure(REQ(MULTI
                       "\"Targets\":[{\"URI\":\"oss://output/r6.mkv\",\"Container\":"
                       "\"mkv\"},{\"URI\":\"oss://output/r7.mkv\",\"Container\":\"mkv\","
                       "\"Audio\":{\"Stream\":[1,3],\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"),
                   "Targets[1].Audio.Stream: selects streams 1,3 of Sources[0] while Targets[0] "
                   "takes stream 1",
                   "output/r6.mkv");
    expect_failure(REQ(MULTI
                       "\"Targets\":[{\"URI\":\"oss://output/r4.mkv\",\"Container\":"
                       "\"mkv\"},{\"URI\":\"oss://output/r5.mkv\",\"Container\":\"mkv\","
                       "\"Video\":{\"Stream\":[2],\"TranscodeVideo\":{\"Codec\":\"h264\"}}}]"),
                   "Targets[1].Video.Stream: selects stream 2 of Sources[0] while Targets[0] "
                   "takes stream 0",
                   "output/r4.mkv");
    assert_false(t_exists(t_path("output/r5.mkv")));
    assert_false(t_exists(t_path("output/r7.mkv")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_by_default),      cmocka_unit_test(second_streams),
        cmocka_unit_test(missing_and_all),       cmocka_unit_test(file_indexes_on_real_media),
        cmocka_unit_test(all_audio_tracks),      cmocka_unit_test(mixing),
        cmocka_unit_test(several_video_streams), cmocka_unit_test(refused),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
