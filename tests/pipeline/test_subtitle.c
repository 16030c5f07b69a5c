/*
 * Subtitles through the engine, on the real files of the corpus ($MC_MEDIA_DIR): files of
 * Source.Subtitles added with TimeOffset and Language, embedded streams kept, selected,
 * disabled and converted to what the container stores, ExtractSubtitle files, concatenation
 * and StartTime, and clear errors. Every output is read back with libavformat: subtitle
 * streams, codec, language, cue count and cue times.
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

#include <libavformat/avformat.h>

#include "mc_media.h"
#include "support.h"

#define MAX_SUBS 4
#define MAX_CUES 32

typedef struct sub_stream {
    char codec[32];
    char lang[16];
    int cues;               /* packets with text (mov_text's empty gap samples left out) */
    double start[MAX_CUES]; /* seconds */
    double end[MAX_CUES];
} sub_stream;

typedef struct sub_file {
    int n; /* subtitle streams */
    sub_stream s[MAX_SUBS];
} sub_file;

/* Read every subtitle packet of a file; false when it cannot be opened. */
static bool read_subs(const char *path, sub_file *out)
{
    memset(out, 0, sizeof(*out));
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return false;
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        avformat_close_input(&fmt);
        return false;
    }
    int map[64];
    for (unsigned i = 0; i < fmt->nb_streams && i < 64; i++) {
        const AVStream *st = fmt->streams[i];
        map[i] = -1;
        if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE || out->n == MAX_SUBS)
            continue;
        sub_stream *s = &out->s[out->n];
        map[i] = out->n++;
        snprintf(s->codec, sizeof(s->codec), "%s", avcodec_get_name(st->codecpar->codec_id));
        const AVDictionaryEntry *l = av_dict_get(st->metadata, "language", NULL, 0);
        snprintf(s->lang, sizeof(s->lang), "%s", l ? l->value : "");
    }
    AVPacket *pkt = av_packet_alloc();
    while (pkt && av_read_frame(fmt, pkt) >= 0) {
        int k = pkt->stream_index < 64 ? map[pkt->stream_index] : -1;
        sub_stream *s = k >= 0 ? &out->s[k] : NULL;
        bool empty = s && !strcmp(s->codec, "mov_text") && pkt->size <= 2;
        if (s && !empty && s->cues < MAX_CUES && pkt->pts != AV_NOPTS_VALUE) {
            AVRational tb = fmt->streams[pkt->stream_index]->time_base;
            s->start[s->cues] = pkt->pts * av_q2d(tb);
            s->end[s->cues] = (pkt->pts + pkt->duration) * av_q2d(tb);
            s->cues++;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return true;
}

static void expect_near(double got, double want, double tol, const char *what)
{
    if (fabs(got - want) > tol)
        fail_msg("%s: got %.4f, want %.4f +- %.4f", what, got, want, tol);
}

/* The request with every "@/" replaced by the corpus folder as a file:// URI (malloc'ed). */
static char media[PATH_MAX]; /* the corpus folder, resolved (URIs refuse "..") */

static char *req(const char *tmpl)
{
    const char *dir = media;
    size_t n = 0;
    for (const char *p = tmpl; (p = strstr(p, "@/")); p += 2)
        n++;
    size_t size = strlen(tmpl) + n * (strlen(dir) + 16) + 64, len = 0;
    char *out = malloc(size);
    assert_non_null(out);
    len += (size_t)snprintf(out, size, "{\"ProjectName\":\"sub\",");
    for (const char *p = tmpl; *p;) {
        if (p[0] == '@' && p[1] == '/') {
            len += (size_t)snprintf(out + len, size - len, "file://%s/", dir);
            p += 2;
        } else {
            out[len++] = *p++;
        }
    }
    snprintf(out + len, size - len, "}");
    return out;
}

/* Run a request that must succeed; its result into *out when given. */
static void run_ok_res(const char *tmpl, mc_result *out)
{
    char *json = req(tmpl);
    mc_result res = t_run_ok(json);
    free(json);
    if (out)
        *out = res;
    else
        mc_result_clear(&res);
}

static void run_ok(const char *tmpl)
{
    run_ok_res(tmpl, NULL);
}

static void expect_failure(const char *tmpl, const char *code, const char *needle,
                           const char *needle2, const char *absent)
{
    char *json = req(tmpl);
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    if (rc >= 0)
        fail_msg("expected %s, the request succeeded:\n%s", code, json);
    if (strcmp(err.code, code) != 0 || !strstr(err.msg, needle) ||
        (needle2 && !strstr(err.msg, needle2)))
        fail_msg("expected %s with \"%s\" and \"%s\", got %s: %s", code, needle,
                 needle2 ? needle2 : "", err.code, err.msg);
    free(json);
    if (absent)
        assert_false(t_exists(t_path(absent)));
}

static int setup(void **state)
{
    (void)state;
    if (!t_media_dir() || !realpath(t_media_dir(), media)) {
        fprintf(stderr, "no real-media corpus (MC_MEDIA_DIR): skipped\n");
        exit(77);
    }
    return 0;
}

/* friday.vtt added to friday.mp4 with a delay and a language: an mp4 with mov_text. */
static void added_vtt_into_mp4(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/friday.mp4\",\"Subtitles\":[{\"URI\":\"@/friday.vtt\","
           "\"TimeOffset\":1.5,\"Language\":\"eng\"}]}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/friday.mp4\",\"Container\":\"mp4\"}]");
    sub_file src, f;
    assert_true(read_subs(t_path("output/sub/friday.mp4"), &f));
    char vtt[PATH_MAX + 32];
    snprintf(vtt, sizeof(vtt), "%s/friday.vtt", media);
    assert_true(read_subs(vtt, &src));
    assert_int_equal(src.s[0].cues, 5);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.s[0].codec, "mov_text");
    assert_string_equal(f.s[0].lang, "eng");
    /* the last cue (4.3 s + 1.5 s) is cut where the 6.17 s video ends */
    assert_int_equal(f.s[0].cues, 5);
    for (int i = 0; i < 5; i++)
        expect_near(f.s[0].start[i], src.s[0].start[i] + 1.5, 0.002, "cue start");
    for (int i = 0; i < 4; i++)
        expect_near(f.s[0].end[i], src.s[0].end[i] + 1.5, 0.002, "cue end");
    expect_near(f.s[0].end[4], 6.17, 0.05, "last cue cut at the video's end");
    expect_near(f.s[0].start[0], 1.5, 0.002, "first cue");

    /* That mov_text as a source: copied into mp4, converted to srt for mkv. */
    run_ok("\"Sources\":[{\"URI\":\"oss://output/sub/friday.mp4\"}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/mt.mkv\",\"Container\":\"mkv\"},"
           "{\"URI\":\"oss://output/sub/mt.mp4\",\"Container\":\"mp4\"}]");
    sub_file mkv, mp4;
    assert_true(read_subs(t_path("output/sub/mt.mkv"), &mkv));
    assert_true(read_subs(t_path("output/sub/mt.mp4"), &mp4));
    assert_int_equal(mkv.n, 1);
    assert_string_equal(mkv.s[0].codec, "subrip");
    assert_string_equal(mkv.s[0].lang, "eng");
    assert_int_equal(mkv.s[0].cues, 5);
    assert_string_equal(mp4.s[0].codec, "mov_text");
    assert_int_equal(mp4.s[0].cues, 5);
    for (int i = 0; i < 5; i++) {
        expect_near(mkv.s[0].start[i], f.s[0].start[i], 0.002, "srt from mov_text");
        expect_near(mp4.s[0].start[i], f.s[0].start[i], 0.002, "mov_text copied");
    }
}

/* Source.StartTime cuts the embedded cue (0-0.5 s) to the window: 0-0.25 s. */
static void start_time(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\",\"StartTime\":0.25}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/start.mkv\",\"Container\":\"mkv\","
           "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"320x214\"}},"
           "\"Audio\":{\"DisableAudio\":true}}]");
    sub_file f;
    t_file t;
    assert_true(read_subs(t_path("output/sub/start.mkv"), &f));
    assert_true(t_read(t_path("output/sub/start.mkv"), &t));
    /* the window starts at 0 (its first picture is shown a little later, at the first
     * frame of the source after 0.25 s) */
    assert_true(t.video.start >= 0 && t.video.start < 0.05);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.s[0].cues, 1);
    expect_near(f.s[0].start[0], 0, 0.002, "cue start");
    expect_near(f.s[0].end[0], 0.25, 0.002, "cue end");
}

/* The ASS stream of an MKV: kept as ASS in mkv, converted to mov_text in mp4, by default. */
static void embedded_ass(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\"}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/ass.mkv\",\"Container\":\"mkv\"},"
           "{\"URI\":\"oss://output/sub/ass.mp4\",\"Container\":\"mp4\"},"
           "{\"URI\":\"oss://output/sub/ass.webm\",\"Container\":\"webm\","
           "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"vp9\",\"Resolution\":\"160x108\"}},"
           "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"opus\"}}}]");
    char mkv[PATH_MAX + 64];
    snprintf(mkv, sizeof(mkv), "%s/sample_with_ass_subtitles.mkv", media);
    sub_file src, a, b, c;
    assert_true(read_subs(mkv, &src));
    assert_int_equal(src.n, 1);
    assert_int_equal(src.s[0].cues, 1);
    assert_true(read_subs(t_path("output/sub/ass.mkv"), &a));
    assert_true(read_subs(t_path("output/sub/ass.mp4"), &b));
    assert_true(read_subs(t_path("output/sub/ass.webm"), &c));
    assert_int_equal(a.n, 1);
    assert_string_equal(a.s[0].codec, "ass");
    assert_int_equal(a.s[0].cues, 1);
    expect_near(a.s[0].start[0], src.s[0].start[0], 0.002, "mkv cue start");
    expect_near(a.s[0].end[0], src.s[0].end[0], 0.002, "mkv cue end");
    assert_int_equal(b.n, 1);
    assert_string_equal(b.s[0].codec, "mov_text");
    assert_int_equal(b.s[0].cues, 1);
    expect_near(b.s[0].start[0], src.s[0].start[0], 0.002, "mp4 cue start");
    expect_near(b.s[0].end[0], src.s[0].end[0], 0.002, "mp4 cue end");
    assert_int_equal(c.n, 1);
    assert_string_equal(c.s[0].codec, "webvtt");
    assert_int_equal(c.s[0].cues, 1);
}

/* subtitles.srt (numbered from 0, unpadded times) and an ASS file added to a 17 s video. */
static void added_srt_and_ass_into_mkv(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/sample_with_increasing_timestamps_360p.mp4\","
           "\"Subtitles\":[{\"URI\":\"@/subtitles.srt\"},"
           "{\"URI\":\"@/ttml_example.ass\",\"Language\":\"fre\",\"TimeOffset\":-0.5}]}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/srt.mkv\",\"Container\":\"mkv\"}]");
    sub_file f, ass;
    assert_true(read_subs(t_path("output/sub/srt.mkv"), &f));
    assert_int_equal(f.n, 2);
    assert_string_equal(f.s[0].codec, "subrip");
    assert_int_equal(f.s[0].cues, 5);
    const double starts[5] = {0, 2, 5, 7, 9}, ends[5] = {1, 3.5, 6, 8, 10};
    for (int i = 0; i < 5; i++) {
        expect_near(f.s[0].start[i], starts[i], 0.002, "srt cue start");
        expect_near(f.s[0].end[i], ends[i], 0.002, "srt cue end");
    }
    /* the ASS events, 0.5 s earlier, those that start before the video's end (17.06 s) */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/ttml_example.ass", media);
    assert_true(read_subs(path, &ass));
    assert_int_equal(ass.s[0].cues, 11);
    int want = 0;
    for (int i = 0; i < ass.s[0].cues; i++)
        want += ass.s[0].start[i] - 0.5 < 17.0;
    assert_true(want > 1 && want < 11);
    assert_string_equal(f.s[1].codec, "ass");
    assert_string_equal(f.s[1].lang, "fre");
    assert_int_equal(f.s[1].cues, want);
    expect_near(f.s[1].start[0], ass.s[0].start[0] - 0.5, 0.002, "ass first event");
}

static void expect_cues(const char *key, const char *codec, int cues, double first)
{
    sub_file f;
    if (!read_subs(t_path(key), &f))
        fail_msg("%s cannot be read", key);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.s[0].codec, codec);
    assert_int_equal(f.s[0].cues, cues);
    expect_near(f.s[0].start[0], first, 0.002, key);
}

/* ExtractSubtitle in every format, from the MKV's stream and from an added file;
 * extraction-only targets; <index> counts the target's subtitle tracks. */
static void extract(void **state)
{
    (void)state;
    mc_result res;
    run_ok_res("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\"}],"
               "\"Targets\":[{\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"srt\","
               "\"URI\":\"oss://output/sub/x/mkv\"}}},"
               "{\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"vtt\","
               "\"URI\":\"oss://output/sub/x/mkv\"}}},"
               "{\"URI\":\"oss://output/sub/x/out.mkv\",\"Container\":\"mkv\","
               "\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"ass\","
               "\"URI\":\"oss://output/sub/x/mkv\"}}}]",
               &res);
    /* the result lists every file: the mkv and the three extracted ones */
    assert_int_equal(res.n_outputs, 4);
    int found = 0;
    for (size_t i = 0; i < res.n_outputs; i++) {
        const mc_output_info *o = &res.outputs[i];
        if (!strcmp(o->uri, "oss://output/sub/x/mkv_0.srt")) {
            assert_int_equal(o->target_index, 0);
            assert_string_equal(o->container, "srt");
            assert_int_equal(o->info.n_streams, 1);
            assert_string_equal(o->info.streams[0].type, "subtitle");
            found++;
        }
        found += !strcmp(o->uri, "oss://output/sub/x/mkv_0.vtt") && o->target_index == 1;
        found += !strcmp(o->uri, "oss://output/sub/x/mkv_0.ass") && o->target_index == 2;
    }
    assert_int_equal(found, 3);
    mc_result_clear(&res);
    expect_cues("output/sub/x/mkv_0.srt", "subrip", 1, 0);
    expect_cues("output/sub/x/mkv_0.vtt", "webvtt", 1, 0);
    expect_cues("output/sub/x/mkv_0.ass", "ass", 1, 0);
    expect_cues("output/sub/x/out.mkv", "ass", 1, 0);
    size_t len = 0;
    char *ass = t_read_all(t_path("output/sub/x/mkv_0.ass"), &len);
    assert_non_null(ass);
    assert_non_null(strstr(ass, "This is the first subtitle."));
    free(ass);

    /* The MKV's stream is track 0, the added file track 1. */
    run_ok("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\","
           "\"Subtitles\":[{\"URI\":\"@/friday.vtt\",\"TimeOffset\":-0.5}]}],"
           "\"Targets\":[{\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"ass\","
           "\"URI\":\"oss://output/sub/y/sub\"}}},"
           "{\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"srt\","
           "\"URI\":\"oss://output/sub/y/sub\"}}}]");
    expect_cues("output/sub/y/sub_0.ass", "ass", 1, 0);
    expect_cues("output/sub/y/sub_0.srt", "subrip", 1, 0);
    /* friday's cues 0.5 s earlier within the 1.14 s MKV: 0-0.999 s cut to 0-0.499,
     * 1-1.499 s at 0.5 s, 1.5-2.999 s at 1 s cut to the end; 3 s and later left out */
    expect_cues("output/sub/y/sub_1.ass", "ass", 3, 0);
    expect_cues("output/sub/y/sub_1.srt", "subrip", 3, 0);
    sub_file f;
    assert_true(read_subs(t_path("output/sub/y/sub_1.srt"), &f));
    expect_near(f.s[0].end[0], 0.499, 0.002, "first cue's end");
    expect_near(f.s[0].start[1], 0.5, 0.002, "second cue");
    expect_near(f.s[0].start[2], 1.0, 0.002, "third cue");
    assert_true(f.s[0].end[2] < 1.2);
    assert_false(t_has_temp(t_path("output/sub/y")));
}

/* A snapshot and an extraction in one target without URI: the snapshot alone would stop
 * reading after the first picture of the first source; the second source's file is still
 * extracted where that source plays. */
static void extract_with_images(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/friday.mp4\",\"Duration\":2},"
           "{\"URI\":\"@/friday.mp4\",\"Subtitles\":[{\"URI\":\"@/subtitles.srt\"}]}],"
           "\"Targets\":[{\"Image\":{\"Snapshots\":[{\"Format\":\"jpg\","
           "\"URI\":\"oss://output/sub/img/s.jpg\",\"Number\":1}]},"
           "\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"srt\","
           "\"URI\":\"oss://output/sub/img/sub\"}}}]");
    assert_true(t_exists(t_path("output/sub/img/s.jpg")));
    /* cues at 0, 2 and 5 s of the 6.17 s second source, which starts at 2 s */
    expect_cues("output/sub/img/sub_0.srt", "subrip", 3, 2.0);
}

/* DisableSubtitle, Stream naming the subtitle stream, a stream that is none, all. */
static void selection(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\"}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/sel/off.mkv\",\"Container\":\"mkv\","
           "\"Subtitle\":{\"DisableSubtitle\":true}},"
           "{\"URI\":\"oss://output/sub/sel/s2.mkv\",\"Container\":\"mkv\","
           "\"Subtitle\":{\"Stream\":[2]}},"
           "{\"URI\":\"oss://output/sub/sel/s7.mkv\",\"Container\":\"mkv\","
           "\"Subtitle\":{\"Stream\":[0,7]}},"
           "{\"URI\":\"oss://output/sub/sel/all.mkv\",\"Container\":\"mkv\","
           "\"Subtitle\":{\"Stream\":[101]}},"
           "{\"URI\":\"oss://output/sub/sel/none.ts\",\"Container\":\"ts\"},"
           "{\"URI\":\"oss://output/sub/sel/offx.mkv\",\"Container\":\"mkv\","
           "\"Subtitle\":{\"DisableSubtitle\":true,\"ExtractSubtitle\":{\"Format\":\"srt\","
           "\"URI\":\"oss://output/sub/sel/offx\"}}}]");
    sub_file f;
    t_file t;
    assert_true(read_subs(t_path("output/sub/sel/off.mkv"), &f));
    assert_int_equal(f.n, 0);
    assert_true(t_read(t_path("output/sub/sel/off.mkv"), &t));
    assert_int_equal(t.nb_streams, 2);
    expect_cues("output/sub/sel/s2.mkv", "ass", 1, 0);
    assert_true(read_subs(t_path("output/sub/sel/s7.mkv"), &f));
    assert_int_equal(f.n, 0);
    expect_cues("output/sub/sel/all.mkv", "ass", 1, 0);
    /* DisableSubtitle keeps it out of the container; ExtractSubtitle still extracts */
    assert_true(read_subs(t_path("output/sub/sel/offx.mkv"), &f));
    assert_int_equal(f.n, 0);
    expect_cues("output/sub/sel/offx_0.srt", "subrip", 1, 0);
    /* kept only by default: a ts target leaves it out instead of failing */
    assert_true(read_subs(t_path("output/sub/sel/none.ts"), &f));
    assert_int_equal(f.n, 0);
}

/* Concatenation and StartTime: each file's cues follow its source on the output timeline
 * and are clipped to the source's window. */
static void concat_window(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/friday.mp4\",\"StartTime\":1,"
           "\"Subtitles\":[{\"URI\":\"@/friday.vtt\"}]},"
           "{\"URI\":\"@/friday.mp4\",\"Duration\":5.5,\"Subtitles\":[{\"URI\":\"@/"
           "subtitles.srt\"}]}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/concat.mkv\",\"Container\":\"mkv\","
           "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"160x120\"}},"
           "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]");
    sub_file f;
    t_file t;
    assert_true(read_subs(t_path("output/sub/concat.mkv"), &f));
    assert_true(t_read(t_path("output/sub/concat.mkv"), &t));
    assert_int_equal(f.n, 2);
    /* The muxer moves every stream by the AAC encoder's priming (negative timestamps):
     * times are measured from the video's start. */
    double v0 = t.video.start;
    expect_near(v0, 0.023, 0.03, "video start");
    /* friday.vtt from 1 s on: the first cue (0-0.999 s) is before the window */
    assert_string_equal(f.s[0].codec, "webvtt");
    assert_int_equal(f.s[0].cues, 4);
    expect_near(f.s[0].start[0] - v0, 0, 0.002, "vtt cue 1");
    expect_near(f.s[0].end[0] - v0, 0.499, 0.002, "vtt cue 1 end");
    expect_near(f.s[0].start[3] - v0, 3.3, 0.002, "vtt cue 4");
    /* the second source starts where the first ended (about 5.17 s): cues at 0, 2 and
     * 5 s of its 5.5 s window, the last clipped to the window's end */
    double second = f.s[1].start[0];
    expect_near(second - v0, 5.17, 0.1, "second source's start");
    assert_string_equal(f.s[1].codec, "subrip");
    assert_int_equal(f.s[1].cues, 3);
    expect_near(f.s[1].start[1], second + 2, 0.002, "srt cue 2");
    expect_near(f.s[1].start[2], second + 5, 0.002, "srt cue 3");
    expect_near(f.s[1].end[2], second + 5.5, 0.002, "srt cue 3 clipped");
    assert_true(f.s[1].end[2] <= t.video.end + 0.05);
}

/* Clear errors naming the field, and nothing left behind. */
static void errors(void **state)
{
    (void)state;
    expect_failure(
        "\"Sources\":[{\"URI\":\"@/friday.mp4\",\"Subtitles\":[{\"URI\":\"@/friday.vtt\"}]}],"
        "\"Targets\":[{\"URI\":\"oss://output/sub/err/e1.mp4\",\"Container\":\"mp4\"},"
        "{\"URI\":\"oss://output/sub/err/e1.ts\",\"Container\":\"ts\"}]",
        "InvalidArgument", "Sources[0].Subtitles[0].URI", "mp4, mov, mkv, webm",
        "output/sub/err/e1.ts");
    assert_false(t_exists(t_path("output/sub/err/e1.mp4")));
    expect_failure("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\"}],"
                   "\"Targets\":[{\"URI\":\"oss://output/sub/err/e2.flv\",\"Container\":\"flv\","
                   "\"Subtitle\":{\"Stream\":[2]}}]",
                   "InvalidArgument", "Targets[0].Subtitle.Stream", "mp4, mov, mkv, webm",
                   "output/sub/err/e2.flv");
    expect_failure(
        "\"Sources\":[{\"URI\":\"@/friday.mp4\",\"Subtitles\":[{\"URI\":\"@/nope.srt\"}]}],"
        "\"Targets\":[{\"URI\":\"oss://output/sub/err/e3.mp4\",\"Container\":\"mp4\"}]",
        "ResourceNotFound", "Sources[0].Subtitles[0].URI", NULL, "output/sub/err/e3.mp4");
    expect_failure("\"Sources\":[{\"URI\":\"@/friday.mp4\"},"
                   "{\"URI\":\"@/friday.mp4\",\"Subtitles\":[{\"URI\":\"@/t-rex-roar.mp3\"}]}],"
                   "\"Targets\":[{\"URI\":\"oss://output/sub/err/e4.mkv\",\"Container\":\"mkv\","
                   "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                   "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]",
                   "InvalidArgument", "Sources[1].Subtitles[0].URI", "no subtitle stream",
                   "output/sub/err/e4.mkv");
    /* nothing to extract: the source has no subtitle */
    expect_failure("\"Sources\":[{\"URI\":\"@/friday.mp4\"}],"
                   "\"Targets\":[{\"URI\":\"oss://output/sub/err/e5.mp4\",\"Container\":\"mp4\","
                   "\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"srt\","
                   "\"URI\":\"oss://output/sub/err/e5\"}}}]",
                   "InvalidMedia", "Targets[0].Subtitle.ExtractSubtitle", NULL,
                   "output/sub/err/e5.mp4");
    assert_false(t_exists(t_path("output/sub/err/e5_0.srt")));
    assert_false(t_has_temp(t_path("output/sub/err")));
}

/* Segmented output carries no subtitle stream yet: an embedded one kept only by default is
 * left out (the playlist is written), an added file is refused by name, and extraction
 * beside the playlist works. */
static void segmented(void **state)
{
    (void)state;
    run_ok("\"Sources\":[{\"URI\":\"@/sample_with_ass_subtitles.mkv\"}],"
           "\"Targets\":[{\"URI\":\"oss://output/sub/seg/v\",\"Container\":\"mp4\","
           "\"Segment\":{\"Format\":\"hls\",\"Duration\":1},"
           "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
           "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}},"
           "\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"vtt\","
           "\"URI\":\"oss://output/sub/seg/v\"}}}]");
    assert_true(t_exists(t_path("output/sub/seg/v.m3u8")));
    expect_cues("output/sub/seg/v_0.vtt", "webvtt", 1, 0.0);
    expect_failure(
        "\"Sources\":[{\"URI\":\"@/friday.mp4\",\"Subtitles\":[{\"URI\":\"@/friday.vtt\"}]}],"
        "\"Targets\":[{\"URI\":\"oss://output/sub/seg/f\",\"Container\":\"ts\","
        "\"Segment\":{\"Format\":\"hls\",\"Duration\":2}}]",
        "InvalidArgument", "Sources[0].Subtitles[0]", "Targets[0].Segment",
        "output/sub/seg/f.m3u8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(added_vtt_into_mp4),
        cmocka_unit_test(embedded_ass),
        cmocka_unit_test(start_time),
        cmocka_unit_test(added_srt_and_ass_into_mkv),
        cmocka_unit_test(extract),
        cmocka_unit_test(extract_with_images),
        cmocka_unit_test(segmented),
        cmocka_unit_test(selection),
        cmocka_unit_test(concat_window),
        cmocka_unit_test(errors),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, setup, NULL);
}
