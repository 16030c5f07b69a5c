/*
 * HLS over HTTP: the real daemon (no keys, loopback) runs a TargetGroup task with a subtitle
 * rendition made through the IMM API, then libavformat plays the master playlist from the
 * daemon's own OSS object API (GET /<bucket>/<key>, path style): every variant is decoded
 * in full, and the subtitle rendition playlist is fetched and its WebVTT parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "e2e.h"
#include "support.h"

static e2e_daemon D;

static int put_media(const char *name, const char *bucket_key)
{
    char cmd[4096];
    const char *dst = e2e_object_path(&D, bucket_key);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s/%s' '%s'", dst,
             t_media_dir(), name, dst);
    return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    if (!t_media_dir()) {
        fprintf(stderr, "no real-media corpus (MC_MEDIA_DIR): skipped\n");
        exit(77);
    }
    e2e_daemon_init(&D, "hls");
    snprintf(D.config, sizeof(D.config), "[workers]\ncount = 1\n[projects]\nproj = e2e\n");
    if (put_media("friday.mp4", "media/friday.mp4") < 0 ||
        put_media("friday.vtt", "media/friday.vtt") < 0)
        return -1;
    return e2e_daemon_start(&D);
}

static int teardown(void **state)
{
    (void)state;
    if (D.pid > 0)
        e2e_daemon_stop(&D, SIGKILL);
    return 0;
}

/* HTTP options of every request libavformat makes: none. A plain player sends unsigned
 * path-style GETs with no OSS header, and the daemon (without access keys) serves them as
 * object reads because the bucket exists. */
static AVDictionary *http_opts(void)
{
    return NULL;
}

/* Decode every video frame of an HTTP URL (a media playlist); the count. */
static int decode_all(const char *url)
{
    AVFormatContext *fmt = NULL;
    AVDictionary *opts = http_opts();
    int orc = avformat_open_input(&fmt, url, NULL, &opts);
    av_dict_free(&opts);
    if (orc < 0)
        fail_msg("cannot open %s", url);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    const AVCodec *codec = NULL;
    int vst = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    assert_true(vst >= 0);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    assert_true(avcodec_parameters_to_context(dec, fmt->streams[vst]->codecpar) >= 0);
    assert_true(avcodec_open2(dec, codec, NULL) >= 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int frames = 0;
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
            frames++;
            av_frame_unref(f);
        }
    }
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return frames;
}

static void test_group_over_http(void **state)
{
    (void)state;
    char groups[2048];
    snprintf(
        groups, sizeof(groups),
        "[{\"URI\":\"oss://out/hls/master.m3u8\",\"Targets\":["
        "{\"URI\":\"oss://out/hls/hi\",\"Container\":\"ts\",\"Segment\":{\"Format\":\"hls\","
        "\"Duration\":2},\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":"
        "\"640x360\"}},\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}},"
        "\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"vtt\",\"URI\":\"oss://out/hls/sub\"}}},"
        "{\"URI\":\"oss://out/hls/lo\",\"Container\":\"mp4\",\"Segment\":{\"Format\":\"hls\","
        "\"Duration\":2},\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":"
        "\"320x180\"}},\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]}]");
    char *id = e2e_create_task(&D, NULL, "proj",
                               "[{\"URI\":\"oss://media/friday.mp4\",\"Subtitles\":[{\"URI\":"
                               "\"oss://media/friday.vtt\",\"Language\":\"eng\"}]}]",
                               "[]", "TargetGroups", groups);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&D, NULL, "proj", id, 180);
    assert_non_null(t);
    if (strcmp(e2e_str(t, "Status"), "Succeeded") != 0) {
        fprintf(stderr, "task: %s\n", json_dumps(t, 0));
        e2e_daemon_dump_log(&D);
    }
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    json_decref(t);
    free(id);

    /* the master over HTTP: libavformat's hls demuxer reads it and both variants */
    char base[128], url[256];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/out/hls/", D.port);
    snprintf(url, sizeof(url), "%smaster.m3u8", base);
    AVFormatContext *fmt = NULL;
    AVDictionary *opts = http_opts();
    assert_int_equal(avformat_open_input(&fmt, url, NULL, &opts), 0);
    av_dict_free(&opts);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    assert_string_equal(fmt->iformat->name, "hls");
    assert_true(fmt->nb_programs == 2); /* one program per variant */
    avformat_close_input(&fmt);
    /* each variant decoded in full: friday.mp4 has 185 frames at 30 fps */
    const char *variants[2] = {"hi.m3u8", "lo.m3u8"};
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof(url), "%s%s", base, variants[i]);
        assert_int_equal(decode_all(url), 185);
    }
    /* the master names the rendition; its playlist and WebVTT come over HTTP too */
    e2e_resp r = {0};
    assert_int_equal(e2e_http(&D, "GET", "/out/hls/master.m3u8", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw,
                           "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"eng\","
                           "LANGUAGE=\"eng\",DEFAULT=YES,AUTOSELECT=YES,URI=\"sub_0.m3u8\""));
    e2e_resp_clear(&r);
    /* the service's temporary names are not objects: neither readable nor writable */
    assert_int_equal(e2e_http(&D, "GET", "/out/hls/.v.part-abc123/v-0.ts", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.raw, "<Code>InvalidObjectName</Code>"));
    e2e_resp_clear(&r);
    assert_int_equal(e2e_http(&D, "PUT", "/out/.x.mp4.part-Ab12Z9", "x-oss-meta-a: b", "data", &r),
                     0);
    assert_int_equal(r.status, 400);
    e2e_resp_clear(&r);
    struct stat sb;
    assert_int_equal(stat(e2e_object_path(&D, "out/.x.mp4.part-Ab12Z9"), &sb), -1);
    snprintf(url, sizeof(url), "%ssub_0.m3u8", base);
    opts = http_opts();
    av_dict_set(&opts, "strict", "experimental", 0);
    fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, url, NULL, &opts), 0);
    av_dict_free(&opts);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    assert_int_equal(fmt->nb_streams, 1);
    assert_int_equal(fmt->streams[0]->codecpar->codec_id, AV_CODEC_ID_WEBVTT);
    AVPacket *pkt = av_packet_alloc();
    int cues = 0;
    while (av_read_frame(fmt, pkt) >= 0) {
        cues++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    assert_int_equal(cues, 5);
}

static void test_shutdown(void **state)
{
    (void)state;
    int st = e2e_daemon_stop(&D, SIGTERM);
    if (st != 0)
        e2e_daemon_dump_log(&D);
    assert_int_equal(st, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_over_http),
        cmocka_unit_test(test_shutdown),
    };
    avformat_network_init();
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    avformat_network_deinit();
    return rc;
}
