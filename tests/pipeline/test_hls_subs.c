/*
 * Subtitle renditions of TargetGroups (WebVTT media playlists named by #EXT-X-MEDIA in the
 * master) and FilterVideo.BurnSubtitle (cues drawn into the picture), on the real files of
 * the corpus: friday.mp4 + friday.vtt (5 cues) and sample_with_ass_subtitles.mkv (an
 * embedded ASS stream). Everything is read back with libavformat and compared with
 * independent references.
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
#include "mc_str.h"
#include "support.h"

static char media[PATH_MAX];

/* friday.vtt's cues (seconds) */
static const double friday_start[5] = {0, 1.0, 1.5, 3.0, 4.3};
static const double friday_end[5] = {0.999, 1.499, 2.999, 4.299, 6.0};

static void expect_near(double got, double want, double tol, const char *what)
{
    if (fabs(got - want) > tol)
        fail_msg("%s: got %.4f, want %.4f +- %.4f", what, got, want, tol);
}

static char *text(const char *key)
{
    size_t len;
    char *t = t_read_all(t_path(key), &len);
    if (!t)
        fail_msg("%s cannot be read", key);
    return t;
}

/* The lines of `s` that start with `prefix`, counted; the first copied to `first`. */
static int lines(const char *s, const char *prefix, char *first, size_t size)
{
    int n = 0;
    for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) != 0)
            continue;
        if (n++ == 0 && first)
            snprintf(first, size, "%.*s", (int)strcspn(p, "\n"), p);
    }
    return n;
}

typedef struct cues {
    int n;
    double start[16], end[16];
} cues;

static cues read_cues(const char *path)
{
    cues c = {0};
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        fail_msg("%s cannot be opened", path);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    assert_int_equal(fmt->nb_streams, 1);
    assert_int_equal(fmt->streams[0]->codecpar->codec_id, AV_CODEC_ID_WEBVTT);
    AVRational tb = fmt->streams[0]->time_base;
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        if (c.n < 16) {
            c.start[c.n] = pkt->pts * av_q2d(tb);
            c.end[c.n] = (pkt->pts + pkt->duration) * av_q2d(tb);
        }
        c.n++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return c;
}

/* The start of the first segment of an HLS media playlist (90 kHz), read independently. */
static int64_t first_segment_start(const char *dir, const char *playlist_key)
{
    char *pl = text(playlist_key);
    char seg[512] = "";
    for (char *p = pl; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (*p != '#' && *p != '\n') {
            snprintf(seg, sizeof(seg), "%.*s", (int)strcspn(p, "\n"), p);
            break;
        }
    free(pl);
    assert_true(seg[0]);
    char path[PATH_MAX + 600];
    snprintf(path, sizeof(path), "%s/%s", dir, seg);
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int64_t first = INT64_MAX;
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (fmt->streams[i]->start_time != AV_NOPTS_VALUE)
            first = FFMIN(first, av_rescale_q(fmt->streams[i]->start_time,
                                              fmt->streams[i]->time_base, (AVRational){1, 90000}));
    avformat_close_input(&fmt);
    return first;
}

static char *group_request(const char *extra_source, const char *src, const char *container,
                           const char *subtitle0, const char *subtitle1)
{
    return mc_asprintf(
        "{\"ProjectName\":\"hs\",\"Sources\":[{\"URI\":\"file://%s/%s\"%s}],\"TargetGroups\":[{"
        "\"URI\":\"oss://output/hs/grp/master.m3u8\",\"Targets\":["
        "{\"URI\":\"oss://output/hs/grp/hi\",\"Container\":\"%s\","
        "\"Segment\":{\"Format\":\"hls\",\"Duration\":2},\"Video\":{\"TranscodeVideo\":{"
        "\"Codec\":\"h264\",\"Resolution\":\"640x360\"}},"
        "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}%s},"
        "{\"URI\":\"oss://output/hs/grp/lo\",\"Container\":\"%s\","
        "\"Segment\":{\"Format\":\"hls\",\"Duration\":2},\"Video\":{\"TranscodeVideo\":{"
        "\"Codec\":\"h264\",\"Resolution\":\"320x180\"}},"
        "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}%s}]}]}",
        media, src, extra_source, container, subtitle0, container, subtitle1);
}

#define EXTRACT(uri) ",\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"vtt\",\"URI\":\"" uri "\"}}"

/* friday.vtt added with a delay and a language: one rendition, 5 cues at the right times. */
static void group_added_file(void **state)
{
    (void)state;
    char *json = group_request(",\"Subtitles\":[{\"URI\":\"file://@/friday.vtt\",\"Language\":"
                               "\"eng\",\"TimeOffset\":0.5}]",
                               "friday.mp4", "ts", EXTRACT("oss://output/hs/grp/subs/s"), "");
    /* the added file's URI names the corpus folder too */
    char *at = strstr(json, "file://@/");
    char *full = mc_asprintf("%.*sfile://%s/%s", (int)(at - json), json, media, at + 9);
    mc_result res = t_run_ok(full);
    free(json);
    free(full);

    char *master = text("output/hs/grp/master.m3u8");
    char line[512];
    assert_int_equal(lines(master, "#EXT-X-MEDIA:TYPE=SUBTITLES", line, sizeof(line)), 1);
    assert_non_null(strstr(line, "GROUP-ID=\"subs\""));
    assert_non_null(strstr(line, "LANGUAGE=\"eng\""));
    assert_non_null(strstr(line, "NAME=\"eng\""));
    assert_non_null(strstr(line, "DEFAULT=YES"));
    assert_non_null(strstr(line, "AUTOSELECT=YES"));
    assert_non_null(strstr(line, "URI=\"subs/s_0.m3u8\""));
    assert_int_equal(lines(master, "#EXT-X-STREAM-INF:", NULL, 0), 2);
    int with_subs = 0;
    for (const char *p = master; (p = strstr(p, "#EXT-X-STREAM-INF:")); p++)
        with_subs +=
            strstr(p, "SUBTITLES=\"subs\"") && strstr(p, "SUBTITLES=\"subs\"") < strchr(p, '\n');
    assert_int_equal(with_subs, 2);
    free(master);

    /* the rendition: one segment, the whole presentation */
    char *pl = text("output/hs/grp/subs/s_0.m3u8");
    assert_true(!strncmp(pl, "#EXTM3U", 7));
    assert_non_null(strstr(pl, "#EXT-X-ENDLIST"));
    assert_int_equal(lines(pl, "#EXTINF:", line, sizeof(line)), 1);
    expect_near(strtod(line + 8, NULL), 6.17, 0.1, "rendition EXTINF");
    assert_int_equal(lines(pl, "s_0.vtt", NULL, 0), 1);
    free(pl);

    /* its WebVTT: X-TIMESTAMP-MAP of the variants as written, and the 5 cues delayed */
    char *vtt = text("output/hs/grp/subs/s_0.vtt");
    assert_true(!strncmp(vtt, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:", 30));
    long long mpegts = strtoll(vtt + 30, NULL, 10);
    assert_non_null(strstr(vtt, ",LOCAL:00:00:00.000\n"));
    free(vtt);
    int64_t want = first_segment_start(t_path("output/hs/grp"), "output/hs/grp/hi.m3u8");
    if (llabs(mpegts - want) > 1)
        fail_msg("X-TIMESTAMP-MAP MPEGTS %lld, the first TS segment starts at %lld", mpegts,
                 (long long)want);
    cues c = read_cues(t_path("output/hs/grp/subs/s_0.vtt"));
    assert_int_equal(c.n, 5);
    for (int i = 0; i < 5; i++) {
        expect_near(c.start[i], friday_start[i] + 0.5, 0.002, "cue start");
        /* the last cue is cut at the end of the video (6.17 s) */
        expect_near(c.end[i], FFMIN(friday_end[i] + 0.5, 6.17), i == 4 ? 0.05 : 0.002, "cue end");
    }
    /* the result lists the WebVTT in the group */
    bool listed = false;
    for (size_t i = 0; i < res.n_outputs; i++)
        if (!strcmp(res.outputs[i].uri, "oss://output/hs/grp/subs/s_0.vtt"))
            listed = res.outputs[i].group == 0;
    assert_true(listed);
    mc_result_clear(&res);
}

/* An embedded ASS stream, fMP4 variants: converted to WebVTT, one cue. */
static void group_embedded_fmp4(void **state)
{
    (void)state;
    char *json = group_request("", "sample_with_ass_subtitles.mkv", "mp4", "",
                               EXTRACT("oss://output/hs/grp/s"));
    /* another folder for this run */
    for (char *p; (p = strstr(json, "/grp/"));)
        memcpy(p, "/gr2/", 5);
    mc_result res = t_run_ok(json);
    mc_result_clear(&res);
    free(json);
    char *master = text("output/hs/gr2/master.m3u8");
    char line[512];
    assert_int_equal(lines(master, "#EXT-X-MEDIA:TYPE=SUBTITLES", line, sizeof(line)), 1);
    assert_non_null(strstr(line, "URI=\"s_0.m3u8\""));
    assert_null(strstr(line, "LANGUAGE=")); /* the stream has no language tag */
    assert_non_null(strstr(line, "NAME=\"Subtitles\""));
    free(master);
    char *vtt = text("output/hs/gr2/s_0.vtt");
    assert_true(!strncmp(vtt, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:", 30));
    free(vtt);
    cues c = read_cues(t_path("output/hs/gr2/s_0.vtt"));
    assert_int_equal(c.n, 1);
    expect_near(c.start[0], 0.0, 0.002, "cue start");
    expect_near(c.end[0], 0.5, 0.002, "cue end");
}

static void expect_failure(const char *json, const char *code, const char *needle,
                           const char *absent)
{
    mc_result res = {0};
    mc_err err;
    if (t_run(json, &res, &err) >= 0)
        fail_msg("expected %s, the request succeeded:\n%s", code, json);
    if (strcmp(err.code, code) != 0 || !strstr(err.msg, needle))
        fail_msg("expected %s with \"%s\", got %s: %s", code, needle, err.code, err.msg);
    if (absent)
        assert_false(t_exists(t_path(absent)));
}

static void group_refusals(void **state)
{
    (void)state;
    char *json = group_request("", "sample_with_ass_subtitles.mkv", "ts",
                               EXTRACT("oss://output/hs/bad/a"), EXTRACT("oss://output/hs/bad/b"));
    for (char *p; (p = strstr(json, "/grp/"));)
        memcpy(p, "/bad/", 5);
    expect_failure(json, "InvalidArgument",
                   "TargetGroups[0].Targets[1].Subtitle.ExtractSubtitle: TargetGroups[0]."
                   "Targets[0] already packages",
                   "output/hs/bad/master.m3u8");
    free(json);
    assert_false(t_exists(t_path("output/hs/bad/a_0.vtt")));
    /* friday.mp4 has no subtitle stream */
    json = group_request("", "friday.mp4", "ts", EXTRACT("oss://output/hs/bad/a"), "");
    for (char *p; (p = strstr(json, "/grp/"));)
        memcpy(p, "/bad/", 5);
    expect_failure(json, "InvalidMedia", "TargetGroups[0].Targets[0].Subtitle.ExtractSubtitle",
                   "output/hs/bad/master.m3u8");
    free(json);
}

/* ---- BurnSubtitle ---- */

typedef struct pics {
    int n, w, h;
    uint8_t **y;
} pics;

static void pics_free(pics *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->y[i]);
    free(p->y);
    memset(p, 0, sizeof(*p));
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
    assert_true(avcodec_parameters_to_context(dec, fmt->streams[vst]->codecpar) >= 0);
    assert_true(avcodec_open2(dec, codec, NULL) >= 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    for (bool eof = false; !eof;) {
        if (av_read_frame(fmt, pkt) < 0)
            eof = true;
        else if (pkt->stream_index != vst) {
            av_packet_unref(pkt);
            continue;
        }
        assert_true(avcodec_send_packet(dec, eof ? NULL : pkt) >= 0);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(dec, f) >= 0) {
            p.y = realloc(p.y, (size_t)(p.n + 1) * sizeof(*p.y));
            uint8_t *y = malloc((size_t)f->width * f->height);
            assert_non_null(y);
            for (int r = 0; r < f->height; r++)
                memcpy(y + (size_t)r * f->width, f->data[0] + (size_t)r * f->linesize[0], f->width);
            p.w = f->width;
            p.h = f->height;
            p.y[p.n++] = y;
            av_frame_unref(f);
        }
    }
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return p;
}

/* Lossless 320x240 h264 of `src`, with `filter` as FilterVideo (NULL: none). */
static pics burn(const char *name, const char *src, const char *filter)
{
    char *json = mc_asprintf(
        "{\"ProjectName\":\"hs\",\"Sources\":[{\"URI\":\"file://%s/%s\"}],\"Targets\":[{"
        "\"URI\":\"oss://output/hs/burn/%s.mkv\",\"Container\":\"mkv\","
        "\"Audio\":{\"DisableAudio\":true},\"Subtitle\":{\"DisableSubtitle\":true},"
        "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"CRF\":0,\"Resolution\":\"320x\"}"
        "%s%s%s}}]}",
        media, src, name, filter ? ",\"FilterVideo\":{" : "", filter ? filter : "",
        filter ? "}" : "");
    mc_result res = t_run_ok(json);
    mc_result_clear(&res);
    free(json);
    char key[256];
    snprintf(key, sizeof(key), "output/hs/burn/%s.mkv", name);
    return decode(t_path(key));
}

/* Mean absolute luma difference of frame k over rows [y0, y1). */
static double mad(const pics *a, const pics *b, int k, int y0, int y1)
{
    double sum = 0;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < a->w; x++)
            sum += abs(a->y[k][y * a->w + x] - b->y[k][y * a->w + x]);
    return sum / ((double)(y1 - y0) * a->w);
}

static void burn_file(void **state)
{
    (void)state;
    char *filter = mc_asprintf("\"BurnSubtitle\":{\"URI\":\"file://%s/friday.vtt\"}", media);
    pics ref = burn("ref", "friday.mp4", NULL), sub = burn("vtt", "friday.mp4", filter);
    free(filter);
    assert_int_equal(ref.n, sub.n);
    assert_int_equal(ref.n, 185);
    assert_int_equal(ref.w, 320);
    int h = ref.h;
    for (int k = 0; k < ref.n; k++) {
        double t = k / 30.0;
        bool shown = false;
        for (int i = 0; i < 5; i++)
            shown |= t >= friday_start[i] + 0.01 && t < friday_end[i] - 0.01;
        bool hidden = t >= 6.0 + 0.01;
        double bottom = mad(&ref, &sub, k, h * 2 / 3, h), top = mad(&ref, &sub, k, 0, h / 3);
        if (shown && bottom < 1.0)
            fail_msg("frame %d (%.3f s) inside a cue: bottom differs by only %.3f", k, t, bottom);
        if (shown && top > 0.05)
            fail_msg("frame %d (%.3f s): the top third changed (%.3f)", k, t, top);
        if (hidden && bottom > 0.05)
            fail_msg("frame %d (%.3f s) after the last cue: differs by %.3f", k, t, bottom);
    }
    pics_free(&ref);
    pics_free(&sub);
}

/* The embedded ASS stream (stream 2): its one event lasts 0 - 0.5 s. */
static void burn_stream(void **state)
{
    (void)state;
    const char *src = "sample_with_ass_subtitles.mkv";
    pics ref = burn("ref-mkv", src, NULL),
         sub = burn("ass", src, "\"BurnSubtitle\":{\"Stream\":2}");
    assert_int_equal(ref.n, sub.n);
    assert_true(ref.n > 20);
    int h = ref.h, inside = 0, outside = 0;
    for (int k = 0; k < ref.n; k++) {
        double d = mad(&ref, &sub, k, h * 2 / 3, h);
        if (k < 10) /* 0 - 0.33 s at about 30 fps */
            inside += d > 1.0;
        else if (k >= 20) /* 0.66 s on */
            outside += d > 0.05;
    }
    assert_int_equal(inside, 10);
    assert_int_equal(outside, 0);
    pics_free(&ref);
    pics_free(&sub);
}

static void burn_refusals(void **state)
{
    (void)state;
    char *json = mc_asprintf(
        "{\"ProjectName\":\"hs\",\"Sources\":[{\"URI\":\"file://%s/sample_with_ass_subtitles.mkv"
        "\"}],\"Targets\":[{\"URI\":\"oss://output/hs/burnbad/a.mp4\",\"Container\":\"mp4\","
        "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"},\"FilterVideo\":{\"BurnSubtitle\":"
        "{\"Stream\":1}}}}]}",
        media);
    expect_failure(json, "InvalidArgument",
                   "Targets[0].Video.FilterVideo.BurnSubtitle.Stream: 1 is not a subtitle stream "
                   "of Sources[0]",
                   "output/hs/burnbad/a.mp4");
    free(json);
    json = mc_asprintf(
        "{\"ProjectName\":\"hs\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"}],\"Targets\":[{"
        "\"URI\":\"oss://output/hs/burnbad/b.mp4\",\"Container\":\"mp4\",\"Video\":{"
        "\"TranscodeVideo\":{\"Codec\":\"h264\"},\"FilterVideo\":{\"BurnSubtitle\":{\"URI\":"
        "\"oss://output/hs/none.srt\"}}}}]}",
        media);
    expect_failure(json, "ResourceNotFound", "Targets[0].Video.FilterVideo.BurnSubtitle.URI",
                   "output/hs/burnbad/b.mp4");
    free(json);
    json = mc_asprintf(
        "{\"ProjectName\":\"hs\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"}],\"Targets\":[{"
        "\"URI\":\"oss://output/hs/burnbad/c.mp4\",\"Container\":\"mp4\",\"Video\":{"
        "\"TranscodeVideo\":{\"Codec\":\"h264\"},\"FilterVideo\":{\"BurnSubtitle\":{\"URI\":"
        "\"file://%s/t-rex-roar.mp3\"}}}}]}",
        media, media);
    expect_failure(json, "InvalidArgument",
                   "Targets[0].Video.FilterVideo.BurnSubtitle.URI: ", "output/hs/burnbad/c.mp4");
    free(json);
    /* the job model's own checks name the field too */
    json = mc_asprintf(
        "{\"ProjectName\":\"hs\",\"Sources\":[{\"URI\":\"file://%s/friday.mp4\"}],\"Targets\":[{"
        "\"URI\":\"oss://output/hs/burnbad/d.mp4\",\"Container\":\"mp4\",\"Video\":{"
        "\"TranscodeVideo\":{\"Codec\":\"h264\"},\"FilterVideo\":{\"BurnSubtitle\":{}}}}]}",
        media);
    expect_failure(json, "InvalidArgument", "Targets[0].Video.FilterVideo.BurnSubtitle",
                   "output/hs/burnbad/d.mp4");
    free(json);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_added_file), cmocka_unit_test(group_embedded_fmp4),
        cmocka_unit_test(group_refusals),   cmocka_unit_test(burn_file),
        cmocka_unit_test(burn_stream),      cmocka_unit_test(burn_refusals),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, setup, NULL);
}
