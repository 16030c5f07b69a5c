/*
 * Conversions through the engine, checked by reading the outputs back with libavformat:
 * codec, container, size, frame rate, duration (within a frame), sample rate, channels,
 * stream count, and that copy really copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mc_media.h"
#include "support.h"

#define REQ(...) "{\"ProjectName\":\"test\"," __VA_ARGS__ "}"

static void expect_near(double got, double want, double tol, const char *what)
{
    if (fabs(got - want) > tol)
        fail_msg("%s: got %.4f, want %.4f +- %.4f", what, got, want, tol);
}

/* H.264/AAC from a B-frame source with default settings: same size, rate, length. */
static void h264_defaults(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/defaults\",\"Container\":\"mp4\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                               "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"));
    assert_int_equal(res.n_outputs, 1);
    assert_string_equal(res.outputs[0].uri, "oss://output/defaults.mp4");
    t_file f;
    assert_true(t_read(t_path("output/defaults.mp4"), &f));
    assert_string_equal(f.format, "mov,mp4,m4a,3gp,3g2,mj2");
    assert_int_equal(f.nb_streams, 2);
    assert_string_equal(f.video.codec, "h264");
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.video.height, 240);
    expect_near(f.video.fps, 25, 0.01, "fps");
    assert_int_equal(f.video.packets, 75);
    expect_near(f.video.duration, 3.0, 0.04, "video duration");
    assert_string_equal(f.audio.codec, "aac");
    assert_int_equal(f.audio.sample_rate, 48000);
    assert_int_equal(f.audio.channels, 2);
    expect_near(f.audio.duration, 3.0, 0.05, "audio duration");
    /* The engine's own read-back agrees. */
    assert_int_equal(res.outputs[0].info.n_streams, 2);
    assert_string_equal(res.outputs[0].info.streams[0].codec, "h264");
    mc_result_clear(&res);
}

struct geometry_case {
    const char *resolution, *scale_type;
    int w, h;
};

/* Resolution and ScaleType: stretch, crop, fill, fit and one-sided sizes. */
static void geometry(void **state)
{
    (void)state;
    static const struct geometry_case cases[] = {
        {"160x", "fit", 160, 120},       /* "160x" keeps the source height: box 160x240 */
        {"x120", "stretch", 320, 120},   /* one side given, stretched */
        {"100x100", "crop", 100, 100},   /* cover then crop */
        {"200x100", "fill", 200, 100},   /* fit then pad */
        {"200x100", "fit", 134, 100},    /* fit: 133.3 rounded up to even */
        {"641x479", "stretch", 640, 478}, /* 4:2:0 needs even sizes */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\",\"Duration\":1}],"
                     "\"Targets\":[{\"URI\":\"oss://output/geom%zu.mp4\",\"Container\":\"mp4\","
                     "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"%s\","
                     "\"ScaleType\":\"%s\"}},\"Audio\":{\"DisableAudio\":true}}]"),
                 i, cases[i].resolution, cases[i].scale_type);
        mc_result res = t_run_ok(json);
        mc_result_clear(&res);
        char path[64];
        snprintf(path, sizeof(path), "output/geom%zu.mp4", i);
        t_file f;
        assert_true(t_read(t_path(path), &f));
        if (f.video.width != cases[i].w || f.video.height != cases[i].h)
            fail_msg("%s %s: got %dx%d, want %dx%d", cases[i].resolution, cases[i].scale_type,
                     f.video.width, f.video.height, cases[i].w, cases[i].h);
        assert_false(f.audio.present);
        assert_int_equal(f.nb_streams, 1);
    }
}

/* Display rotation is applied when transcoding (as the ffmpeg program's autorotate does)
 * and carried as side data when copying. */
static void rotation(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/rotated.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/rot.mkv\",\"Container\":\"mkv\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}}},"
                               "{\"URI\":\"oss://output/rot-copy.mp4\",\"Container\":\"mp4\"}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/rot.mkv"), &f));
    assert_int_equal(f.video.width, 240);
    assert_int_equal(f.video.height, 320);
    assert_int_equal(f.video.rotation, 0);
    double diff = t_first_frame_diff(t_path("output/rot.mkv"), t_path("fixtures/rotated_ref.mkv"));
    if (diff > 6.0)
        fail_msg("rotated picture differs from ffmpeg's autorotate: mean abs diff %.2f", diff);
    t_file c;
    assert_true(t_read(t_path("output/rot-copy.mp4"), &c));
    assert_int_equal(c.video.width, 320);
    assert_int_equal(c.video.height, 240);
    t_file src;
    assert_true(t_read(t_path("fixtures/rotated.mp4"), &src));
    assert_int_not_equal(c.video.rotation, 0);
    assert_int_equal(c.video.rotation, src.video.rotation);
}

/* Omitted Video/Audio copy the streams: packet payloads are identical. */
static void remux_copies(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/remux.mkv\","
                               "\"Container\":\"mkv\"}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/remux.mkv"), &f));
    assert_string_equal(f.format, "matroska,webm");
    assert_int_equal(f.video.packets, 75);
    assert_true(t_same_packets(t_path("fixtures/bframes.mp4"), t_path("output/remux.mkv"), 'v'));
    assert_true(t_same_packets(t_path("fixtures/bframes.mp4"), t_path("output/remux.mkv"), 'a'));
    /* And the check can tell a transcode from a copy. */
    assert_false(t_same_packets(t_path("fixtures/bframes.mp4"), t_path("output/defaults.mp4"), 'v'));
}

/* Frame-accurate trim: StartTime 1 s, Duration 1.2 s of a 25 fps clip = 30 frames. */
static void trim(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\",\"StartTime\":1,"
                               "\"Duration\":1.2}],"
                               "\"Targets\":[{\"URI\":\"oss://output/trim.mp4\",\"Container\":\"mp4\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                               "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/trim.mp4"), &f));
    assert_int_equal(f.video.packets, 30);
    expect_near(f.video.start, 0, 0.001, "video start");
    expect_near(f.video.duration, 1.2, 0.04, "video duration");
    expect_near(f.audio.duration, 1.2, 0.03, "audio duration");
}

/* Concatenation: 3 s at 25 fps + 2 s of 319x239 at 30 fps, aligned to the second source
 * (AlignmentIndex 1): 318x238 (even), 30 fps, 5 s. */
static void concat(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"},"
                               "{\"URI\":\"oss://fixtures/odd.mkv\"}],\"AlignmentIndex\":1,"
                               "\"Targets\":[{\"URI\":\"oss://output/concat.mp4\",\"Container\":\"mp4\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                               "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"));
    expect_near(res.input_duration, 5.0, 0.05, "input duration");
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/concat.mp4"), &f));
    assert_int_equal(f.video.width, 318);
    assert_int_equal(f.video.height, 238);
    expect_near(f.video.fps, 30, 0.01, "fps");
    assert_in_range(f.video.packets, 149, 151);
    expect_near(f.video.duration, 5.0, 0.04, "video duration");
    /* aligned to the second source: 44.1 kHz mono */
    assert_int_equal(f.audio.sample_rate, 44100);
    assert_int_equal(f.audio.channels, 1);
    expect_near(f.audio.duration, 5.0, 0.05, "audio duration");
}

/* A source without audio between sources with audio: its stretch is silence, and the
 * audio after it stays in sync (2 s video-only + 3 s with audio + 2 s video-only). */
static void concat_missing_audio(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/video_only.mp4\"},"
                               "{\"URI\":\"oss://fixtures/bframes.mp4\"},"
                               "{\"URI\":\"oss://fixtures/video_only.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/gap.mp4\",\"Container\":\"mp4\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                               "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/gap.mp4"), &f));
    expect_near(f.video.duration, 7.0, 0.05, "video duration");
    expect_near(f.audio.start, 0, 0.03, "audio start");
    expect_near(f.audio.duration, 7.0, 0.05, "audio duration");
    assert_int_equal(f.audio.sample_rate, 48000);
}

/* FrameRate, Bitrate, GOP and PixelFormat reach the encoder. */
static void video_parameters(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/params.mp4\",\"Container\":\"mp4\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"FrameRate\":10,"
                               "\"Bitrate\":150000,\"GOPSize\":10,\"PixelFormat\":\"yuv444p\"}},"
                               "\"Audio\":{\"DisableAudio\":true}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/params.mp4"), &f));
    expect_near(f.video.fps, 10, 0.01, "fps");
    assert_int_equal(f.video.packets, 30);
    assert_string_equal(f.video.pix_fmt, "yuv444p");
    assert_in_range(f.video.bit_rate, 75000, 300000);
}

/* H.265 in mkv, VP9+Opus in WebM, AV1 in mp4. */
static void other_video_codecs(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\",\"Duration\":1}],"
            "\"Targets\":[{\"URI\":\"oss://output/hevc.mkv\",\"Container\":\"mkv\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h265\",\"CRF\":30,"
            "\"PixelFormat\":\"yuv420p10le\"}}},"
            "{\"URI\":\"oss://output/vp9.webm\",\"Container\":\"webm\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"vp9\",\"CRF\":40}},"
            "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"opus\"}}},"
            "{\"URI\":\"oss://output/av1.mp4\",\"Container\":\"mp4\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"av1\",\"CRF\":45}}}]"));
    assert_int_equal(res.n_outputs, 3);
    mc_result_clear(&res);
    const struct {
        const char *path, *vcodec, *acodec;
    } want[] = {
        {"output/hevc.mkv", "hevc", "aac"},
        {"output/vp9.webm", "vp9", "opus"},
        {"output/av1.mp4", "av1", "aac"},
    };
    for (size_t i = 0; i < 3; i++) {
        t_file f;
        assert_true(t_read(t_path(want[i].path), &f));
        assert_string_equal(f.video.codec, want[i].vcodec);
        assert_string_equal(f.audio.codec, want[i].acodec);
        assert_int_equal(f.video.packets, 25);
    }
    t_file hevc;
    assert_true(t_read(t_path("output/hevc.mkv"), &hevc));
    assert_string_equal(hevc.video.pix_fmt, "yuv420p10le");
}

/* Every container: video encoded, audio omitted (copied where the container takes the
 * source's FLAC, else the container's usual codec). */
static void containers(void **state)
{
    (void)state;
    const struct {
        const char *container, *vcodec, *acodec, *format;
        int rate;
    } want[] = {
        /* odd.mkv's audio is 44.1 kHz FLAC: MXF takes 48 kHz PCM only, Opus 48 kHz */
        {"mov", "h264", "aac", "mov,mp4,m4a,3gp,3g2,mj2", 44100},
        {"asf", "h264", "mp3", "asf", 44100},
        {"avi", "h264", "mp3", "avi", 44100},
        {"mxf", "h264", "pcm_s16le", "mxf", 48000},
        {"ts", "h264", "aac", "mpegts", 44100},
        {"flv", "h264", "aac", "flv", 44100},
        {"webm", "vp9", "opus", "matroska,webm", 48000},
        {"mkv", "h264", "flac", "matroska,webm", 44100},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 REQ("\"Sources\":[{\"URI\":\"oss://fixtures/odd.mkv\",\"Duration\":1}],"
                     "\"Targets\":[{\"URI\":\"oss://output/cont.%s\",\"Container\":\"%s\","
                     "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"%s\"}}}]"),
                 want[i].container, want[i].container, want[i].vcodec);
        mc_result res = t_run_ok(json);
        mc_result_clear(&res);
        char path[64];
        snprintf(path, sizeof(path), "output/cont.%s", want[i].container);
        t_file f;
        assert_true(t_read(t_path(path), &f));
        if (strcmp(f.format, want[i].format) != 0 || strcmp(f.video.codec, want[i].vcodec) != 0 ||
            strcmp(f.audio.codec, want[i].acodec) != 0)
            fail_msg("%s: got %s %s %s", want[i].container, f.format, f.video.codec,
                     f.audio.codec);
        assert_int_equal(f.audio.sample_rate, want[i].rate);
        assert_int_equal(f.audio.channels, 1);
        assert_int_equal(f.video.width, 318);
        assert_in_range(f.video.packets, 29, 31);
    }
}

/* Omitted Video copies, unless the container can't carry the codec: VP8 into mp4 becomes
 * H.264, while the same VP8 is copied into mkv. */
static void video_fallback(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/vp8.webm\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/vp8.mp4\",\"Container\":\"mp4\"},"
                               "{\"URI\":\"oss://output/vp8.mkv\",\"Container\":\"mkv\"}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/vp8.mp4"), &f));
    assert_string_equal(f.video.codec, "h264");
    assert_int_equal(f.video.packets, 25);
    assert_true(t_read(t_path("output/vp8.mkv"), &f));
    assert_string_equal(f.video.codec, "vp8");
    assert_true(t_same_packets(t_path("fixtures/vp8.webm"), t_path("output/vp8.mkv"), 'v'));
}

/* Audio-only outputs with the per-format rules (mp3 2 ch, ac3 <= 6 ch, opus 48 kHz,
 * amr 8 kHz mono, flac 24-bit). */
static void audio_formats(void **state)
{
    (void)state;
    const struct {
        const char *container, *source, *transcode, *codec;
        int rate, channels, bits;
    } want[] = {
        {"mp3", "tone.wav", "", "mp3", 44100, 2, 0},
        {"mp3", "surround.wav", "", "mp3", 48000, 2, 0},
        {"mp3", "tone.wav", ",\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"mp3\",\"SampleRate\":22050,"
                            "\"Channel\":1,\"Bitrate\":64000}}",
         "mp3", 22050, 1, 0},
        {"aac", "tone.wav", "", "aac", 44100, 2, 0},
        {"flac", "tone.wav", ",\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"flac\",\"BitsPerSample\":24}}",
         "flac", 44100, 2, 24},
        {"oga", "tone.wav", "", "vorbis", 44100, 2, 0},
        {"ac3", "surround.wav", "", "ac3", 48000, 6, 0},
        {"opus", "tone.wav", "", "opus", 48000, 2, 0},
        {"amr", "tone.wav", "", "amr_nb", 8000, 1, 0},
        /* 5.1(side), as AC-3 sources have it: remapped to the 5.1 that Opus/Vorbis take */
        {"opus", "surround_side.wav", "", "opus", 48000, 6, 0},
        {"oga", "surround_side.wav", "", "vorbis", 48000, 6, 0},
        {"mp3", "bframes.mp4", ",\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"mp3\",\"Quality\":80}}",
         "mp3", 48000, 2, 0},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 REQ("\"Sources\":[{\"URI\":\"oss://fixtures/%s\"}],"
                     "\"Targets\":[{\"URI\":\"oss://output/audio%zu\",\"Container\":\"%s\"%s}]"),
                 want[i].source, i, want[i].container, want[i].transcode);
        mc_result res = t_run_ok(json);
        char path[64];
        snprintf(path, sizeof(path), "output/audio%zu.%s", i, want[i].container);
        assert_string_equal(res.outputs[0].uri + 6, path);
        mc_result_clear(&res);
        t_file f;
        assert_true(t_read(t_path(path), &f));
        if (strcmp(f.audio.codec, want[i].codec) != 0 || f.audio.sample_rate != want[i].rate ||
            f.audio.channels != want[i].channels)
            fail_msg("%s from %s: got %s %d Hz %d ch", want[i].container, want[i].source,
                     f.audio.codec, f.audio.sample_rate, f.audio.channels);
        assert_false(f.video.present);
        if (want[i].bits)
            assert_int_equal(f.audio.bits_per_raw_sample, want[i].bits);
        double len = strstr(want[i].source, "surround") ? 2.0 : 3.0;
        expect_near(f.audio.duration, len, 0.08, "audio duration");
    }
}

/* StripMetadata removes container tags (the location tag above all); without it they stay. */
static void strip_metadata(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/meta.mp4\",\"Container\":\"mp4\"},"
                               "{\"URI\":\"oss://output/nometa.mp4\",\"Container\":\"mp4\","
                               "\"StripMetadata\":true}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/meta.mp4"), &f));
    assert_true(f.has_metadata_title);
    assert_true(f.has_metadata_location);
    assert_true(t_read(t_path("output/nometa.mp4"), &f));
    assert_false(f.has_metadata_title);
    assert_false(f.has_metadata_location);
}

/* One decode feeds many targets: 3 targets from one source decode each frame once. */
static void one_decode_many_targets(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/video_only.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/fan1.mp4\",\"Container\":\"mp4\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\","
                               "\"Resolution\":\"160x120\"}}},"
                               "{\"URI\":\"oss://output/fan2.mkv\",\"Container\":\"mkv\","
                               "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"FrameRate\":5}}},"
                               "{\"URI\":\"oss://output/fan3.ts\",\"Container\":\"ts\"}]"));
    assert_int_equal(res.n_outputs, 3);
    assert_int_equal(res.frames_decoded, 50); /* 2 s at 25 fps, decoded once */
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/fan1.mp4"), &f));
    assert_int_equal(f.video.packets, 50);
    assert_int_equal(f.video.width, 160);
    assert_true(t_read(t_path("output/fan2.mkv"), &f));
    assert_int_equal(f.video.packets, 10);
    assert_true(t_read(t_path("output/fan3.ts"), &f));
    assert_int_equal(f.video.packets, 50);
}

static void progress_cb(double f, void *opaque)
{
    double *last = opaque;
    if (f < last[0])
        last[1] = 1; /* went backwards */
    last[0] = f;
    last[2]++;
}

/* Progress is a fraction of the input processed, rising to exactly 1. */
static void progress(void **state)
{
    (void)state;
    double seen[3] = {0, 0, 0};
    mc_result res = {0};
    mc_err err;
    int rc = t_run_with(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                            "\"Targets\":[{\"URI\":\"oss://output/progress.mp4\","
                            "\"Container\":\"mp4\",\"Video\":{\"TranscodeVideo\":"
                            "{\"Codec\":\"h264\"}}}]"),
                        progress_cb, seen, NULL, &res, &err);
    assert_int_equal(rc, 0);
    mc_result_clear(&res);
    assert_true(seen[0] == 1.0);
    assert_true(seen[1] == 0);
    assert_true(seen[2] >= 10);
}

typedef struct cancel_state {
    atomic_bool flag;
} cancel_state;

static void cancel_at_half(double f, void *opaque)
{
    cancel_state *c = opaque;
    if (f >= 0.5)
        atomic_store(&c->flag, true);
}

/* Cancellation mid-run fails the task and leaves neither output nor temporary file. */
static void cancel(void **state)
{
    (void)state;
    cancel_state c;
    atomic_init(&c.flag, false);
    mc_result res = {0};
    mc_err err;
    int rc = t_run_with(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                            "\"Targets\":[{\"URI\":\"oss://output/cancel/x.mp4\","
                            "\"Container\":\"mp4\",\"Video\":{\"TranscodeVideo\":"
                            "{\"Codec\":\"h264\"}}}]"),
                        cancel_at_half, &c, &c.flag, &res, &err);
    assert_int_equal(rc, MC_ECANCELED);
    assert_string_equal(err.code, "TaskCanceled");
    assert_false(t_exists(t_path("output/cancel/x.mp4")));
    assert_false(t_has_temp(t_path("output/cancel")));
}

static void expect_failure(const char *json, const char *code, const char *needle,
                           const char *absent_output)
{
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    if (rc >= 0)
        fail_msg("expected %s, the request succeeded:\n%s", code, json);
    if (strcmp(err.code, code) != 0 || !strstr(err.msg, needle))
        fail_msg("expected %s with \"%s\", got %s: %s", code, needle, err.code, err.msg);
    if (absent_output)
        assert_false(t_exists(t_path(absent_output)));
}

/* Failures are clear, name the field, and leave nothing half-written behind. */
static void failures(void **state)
{
    (void)state;
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/nope.mp4\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/f1.mp4\",\"Container\":\"mp4\"}]"),
                   "ResourceNotFound", "Sources[0].URI", "output/f1.mp4");
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/vp8.webm\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/f2.mp4\",\"Container\":\"mp4\","
                       "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"copy\"}}}]"),
                   "InvalidArgument", "Targets[0].Video.TranscodeVideo.Codec", "output/f2.mp4");
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/f3.mp4\",\"Container\":\"mp4\","
                       "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"1280x720\","
                       "\"ResolutionOption\":\"fall\"}}}]"),
                   "InvalidArgument", "ResolutionOption is fall", "output/f3.mp4");
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\",\"StartTime\":30}],"
                       "\"Targets\":[{\"URI\":\"oss://output/f4.mp4\",\"Container\":\"mp4\"}]"),
                   "InvalidArgument", "Sources[0].StartTime", "output/f4.mp4");
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/video_only.mp4\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/f5.mp3\",\"Container\":\"mp3\"}]"),
                   "InvalidArgument", "no audio", "output/f5.mp3");
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/../fx/bframes.mp4\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/f6.mp4\",\"Container\":\"mp4\"}]"),
                   "InvalidArgument", "Sources[0].URI", "output/f6.mp4");
    /* The second target fails after the first could have been written: neither remains.
     * (A folder of its own: other pipeline tests write into output/ at the same time.) */
    expect_failure(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                       "\"Targets\":[{\"URI\":\"oss://output/fail7/f7a.mp4\",\"Container\":"
                       "\"mp4\"},{\"URI\":\"oss://output/fail7/f7a.mp4\",\"Container\":\"mp4\"}]"),
                   "InvalidArgument", "Targets[1].URI", "output/fail7/f7a.mp4");
    assert_false(t_has_temp(t_path("output/fail7")));
}

/* Template variables in the target URI; a variable that expands to nothing (no folder in
 * the source key) does not leave an empty path segment. */
static void uri_template(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/tone.wav\"}],"
                               "\"Tags\":{\"team\":\"audio\"},"
                               "\"Targets\":[{\"URI\":\"oss://output/{tags.team}/{dirname}/"
                               "{barename}-{index}.{autoext}\",\"Container\":\"flac\"}]"));
    assert_string_equal(res.outputs[0].uri, "oss://output/audio/tone-1.flac");
    mc_result_clear(&res);
    assert_true(t_exists(t_path("output/audio/tone-1.flac")));
}

/* Rotation, long x short sizing, and ResolutionOption adaptive. */
static void more_geometry(void **state)
{
    (void)state;
    const struct {
        const char *source, *transcode;
        int w, h;
    } cases[] = {
        /* clockwise 90 on a 320x240 picture */
        {"bframes.mp4", "\"Rotation\":90", 240, 320},
        /* rotated.mp4 displays 240x320 (portrait): "160x120" long x short maps to 120x160 */
        {"rotated.mp4", "\"Resolution\":\"160x120\",\"AdaptiveResolutionDirection\":true", 120,
         160},
        /* the source is smaller than 1280x720: adaptive keeps it */
        {"bframes.mp4", "\"Resolution\":\"1280x720\",\"ResolutionOption\":\"adaptive\"", 320,
         240},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 REQ("\"Sources\":[{\"URI\":\"oss://fixtures/%s\",\"Duration\":0.5}],"
                     "\"Targets\":[{\"URI\":\"oss://output/geo2-%zu.mp4\",\"Container\":\"mp4\","
                     "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",%s}}}]"),
                 cases[i].source, i, cases[i].transcode);
        mc_result res = t_run_ok(json);
        mc_result_clear(&res);
        char path[64];
        snprintf(path, sizeof(path), "output/geo2-%zu.mp4", i);
        t_file f;
        assert_true(t_read(t_path(path), &f));
        if (f.video.width != cases[i].w || f.video.height != cases[i].h)
            fail_msg("%s {%s}: got %dx%d, want %dx%d", cases[i].source, cases[i].transcode,
                     f.video.width, f.video.height, cases[i].w, cases[i].h);
    }
}

/* Whether a file holds a byte string (x264 writes its settings into the stream). */
static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(buf + i, needle, m) == 0)
            return true;
    return false;
}

/* GOPSize, BFrames and Refs reach x264; MaxBitrate/BufferSize cap a CRF encode. */
static void encoder_settings(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
            "\"Targets\":[{\"URI\":\"oss://output/x264opts.mkv\",\"Container\":\"mkv\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"GOPSize\":10,\"BFrames\":1,"
            "\"Refs\":1}}},"
            "{\"URI\":\"oss://output/crf10.mp4\",\"Container\":\"mp4\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"CRF\":10}},"
            "\"Audio\":{\"DisableAudio\":true}},"
            "{\"URI\":\"oss://output/crf10-capped.mp4\",\"Container\":\"mp4\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"CRF\":10,\"MaxBitrate\":150000,"
            "\"BufferSize\":300000}},\"Audio\":{\"DisableAudio\":true}}]"));
    mc_result_clear(&res);
    const char *opts = t_path("output/x264opts.mkv");
    assert_true(file_contains(opts, "keyint=10 "));
    assert_true(file_contains(opts, "bframes=1 "));
    assert_true(file_contains(opts, " ref=1 "));
    assert_false(file_contains(opts, "bframes=3 "));
    t_file open_f, capped;
    assert_true(t_read(t_path("output/crf10.mp4"), &open_f));
    assert_true(t_read(t_path("output/crf10-capped.mp4"), &capped));
    if (!(open_f.video.bit_rate > 400000 && capped.video.bit_rate < 200000))
        fail_msg("CRF 10: %lld bit/s; capped at 150 kbit/s: %lld bit/s",
                 (long long)open_f.video.bit_rate, (long long)capped.video.bit_rate);
}

/* The *Option rules: adaptive keeps the lower source value, fall refuses it. */
static void option_rules(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
            "\"Targets\":[{\"URI\":\"oss://output/fps-adaptive.mp4\",\"Container\":\"mp4\","
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"FrameRate\":50,"
            "\"FrameRateOption\":\"adaptive\"}},"
            "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\",\"SampleRate\":96000,"
            "\"SampleRateOption\":\"adaptive\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/fps-adaptive.mp4"), &f));
    expect_near(f.video.fps, 25, 0.01, "fps");
    assert_int_equal(f.video.packets, 75);
    assert_int_equal(f.audio.sample_rate, 48000);

    mc_err err;
    assert_true(t_run(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                          "\"Targets\":[{\"URI\":\"oss://output/fps-fall.mp4\",\"Container\":\"mp4\","
                          "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"FrameRate\":50,"
                          "\"FrameRateOption\":\"fall\"}}}]"),
                      &res, &err) < 0);
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.msg, "Targets[0].Video.TranscodeVideo.FrameRate"));
    assert_true(t_run(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/tone.wav\"}],"
                          "\"Targets\":[{\"URI\":\"oss://output/sr-fall.aac\",\"Container\":\"aac\","
                          "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\",\"SampleRate\":48000,"
                          "\"SampleRateOption\":\"fall\"}}}]"),
                      &res, &err) < 0);
    assert_non_null(strstr(err.msg, "Targets[0].Audio.TranscodeAudio.SampleRate"));
    assert_false(t_exists(t_path("output/fps-fall.mp4")));
    assert_false(t_exists(t_path("output/sr-fall.aac")));
}

/* Sources[].DisableAudio / DisableVideo drop the stream from every target. */
static void source_disable(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\","
                               "\"DisableAudio\":true}],"
                               "\"Targets\":[{\"URI\":\"oss://output/noaudio.mp4\","
                               "\"Container\":\"mp4\"}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/noaudio.mp4"), &f));
    assert_int_equal(f.nb_streams, 1);
    assert_true(f.video.present);
    assert_false(f.audio.present);
    res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\","
                     "\"DisableVideo\":true}],"
                     "\"Targets\":[{\"URI\":\"oss://output/novideo.mkv\",\"Container\":\"mkv\"}]"));
    mc_result_clear(&res);
    assert_true(t_read(t_path("output/novideo.mkv"), &f));
    assert_int_equal(f.nb_streams, 1);
    assert_true(f.audio.present);
    assert_false(f.video.present);
}

/* Copy with StartTime into a container without edit lists: the video starts at the first
 * keyframe at or after StartTime (bframes.mp4 has one every 2 s), the audio at StartTime;
 * nothing from before the window is written. */
static void copy_trim(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\","
                               "\"StartTime\":1,\"Duration\":1.5}],"
                               "\"Targets\":[{\"URI\":\"oss://output/copytrim.mkv\","
                               "\"Container\":\"mkv\"}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/copytrim.mkv"), &f));
    /* The first audio frame is the one that contains StartTime (it may begin up to one
     * frame, 21 ms, earlier); the video starts at the keyframe 1 s after StartTime. */
    double t0 = f.audio.start;
    expect_near(t0, 0, 0.001, "audio start");
    expect_near(f.video.start - t0, 1.0, 0.022, "video start (keyframe at 2 s)");
    /* A copy ends at the first packet decoded at or after the window's end: reference
     * frames that B-frames inside the window need (up to 3 B-frames: 0.12 s) stay. */
    assert_in_range((int)((f.video.end - t0) * 1000), 1480, 1620);
    assert_in_range(f.video.packets, 13, 16);
    expect_near(f.audio.end - t0, 1.5, 0.045, "audio end (whole frames at both ends)");
    /* A window with no keyframe in it can't be copied, and says so. */
    mc_err err;
    assert_true(t_run(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\","
                          "\"StartTime\":0.5,\"Duration\":1}],"
                          "\"Targets\":[{\"URI\":\"oss://output/copytrim2.mkv\","
                          "\"Container\":\"mkv\"}]"),
                      &res, &err) < 0);
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.msg, "keyframe"));
    assert_false(t_exists(t_path("output/copytrim2.mkv")));
}

/* A later target failing late (its audio ends before the window) leaves no output of the
 * earlier, finished target either. */
static void failed_task_leaves_nothing(void **state)
{
    (void)state;
    mc_result res = {0};
    mc_err err;
    int rc = t_run(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/short_audio.mp4\","
                       "\"StartTime\":2}],"
                       "\"Targets\":[{\"URI\":\"oss://output/late/video.mp4\",\"Container\":\"mp4\","
                       "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                       "\"Audio\":{\"DisableAudio\":true}},"
                       "{\"URI\":\"oss://output/late/audio.mp3\",\"Container\":\"mp3\"}]"),
                   &res, &err);
    assert_true(rc < 0);
    assert_string_equal(err.code, "InvalidMedia");
    assert_non_null(strstr(err.msg, "Targets[1]"));
    assert_false(t_exists(t_path("output/late/video.mp4")));
    assert_false(t_exists(t_path("output/late/audio.mp3")));
    assert_false(t_has_temp(t_path("output/late")));
}

/* AVI takes H.264 only with start codes: a copy from mp4 goes through h264_mp4toannexb. */
static void copy_into_avi(void **state)
{
    (void)state;
    mc_result res = t_run_ok(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/bframes.mp4\"}],"
                               "\"Targets\":[{\"URI\":\"oss://output/copy.avi\","
                               "\"Container\":\"avi\",\"Audio\":{\"TranscodeAudio\":"
                               "{\"Codec\":\"mp3\"}}}]"));
    mc_result_clear(&res);
    t_file f;
    assert_true(t_read(t_path("output/copy.avi"), &f));
    assert_string_equal(f.video.codec, "h264");
    assert_int_equal(f.video.packets, 75);
    assert_string_equal(f.audio.codec, "mp3");
    /* decodable: the first picture matches the source's */
    assert_true(t_first_frame_diff(t_path("output/copy.avi"), t_path("fixtures/bframes.mp4")) <
                0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(h264_defaults),   cmocka_unit_test(geometry),
        cmocka_unit_test(rotation),        cmocka_unit_test(remux_copies),
        cmocka_unit_test(trim),            cmocka_unit_test(concat),
        cmocka_unit_test(video_parameters), cmocka_unit_test(other_video_codecs),
        cmocka_unit_test(containers),      cmocka_unit_test(video_fallback),
        cmocka_unit_test(audio_formats),
        cmocka_unit_test(strip_metadata),  cmocka_unit_test(one_decode_many_targets),
        cmocka_unit_test(progress),        cmocka_unit_test(cancel),
        cmocka_unit_test(failures),        cmocka_unit_test(more_geometry),
        cmocka_unit_test(encoder_settings), cmocka_unit_test(option_rules),
        cmocka_unit_test(source_disable),  cmocka_unit_test(uri_template),
        cmocka_unit_test(concat_missing_audio), cmocka_unit_test(copy_trim),
        cmocka_unit_test(failed_task_leaves_nothing), cmocka_unit_test(copy_into_avi),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
