/*
 * Kept streams: Target.Data (mp4) and Target.AttachedPicture (mp4, mkv) copied from the
 * source. Fixtures: cover.m4a (AAC + a PNG cover), gpmd.mov (H.264, AAC and a 4 KiB binary
 * "gpmd" data track).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>

#include "mc_media.h"
#include "support.h"

#define REQ(...) "{\"ProjectName\":\"test\"," __VA_ARGS__ "}"

typedef struct kstream {
    enum AVMediaType type;
    char codec[32];
    bool attached_pic;
    uint8_t *pic; /* the attached picture's bytes */
    int pic_size;
    int64_t bytes, packets; /* of the packets read */
    uint32_t sum;           /* a checksum of those bytes */
} kstream;

/* Every stream of a file, its packets read through. */
static int read_streams(const char *path, kstream *out, int max)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return -1;
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        avformat_close_input(&fmt);
        return -1;
    }
    int n = (int)fmt->nb_streams < max ? (int)fmt->nb_streams : max;
    for (int i = 0; i < n; i++) {
        const AVStream *st = fmt->streams[i];
        memset(&out[i], 0, sizeof(out[i]));
        out[i].type = st->codecpar->codec_type;
        snprintf(out[i].codec, sizeof(out[i].codec), "%s",
                 avcodec_get_name(st->codecpar->codec_id));
        out[i].attached_pic = (st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
        if (out[i].attached_pic && st->attached_pic.size > 0) {
            out[i].pic = malloc((size_t)st->attached_pic.size);
            assert_non_null(out[i].pic);
            memcpy(out[i].pic, st->attached_pic.data, (size_t)st->attached_pic.size);
            out[i].pic_size = st->attached_pic.size;
        }
    }
    AVPacket *pkt = av_packet_alloc();
    while (pkt && av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index < n) {
            kstream *k = &out[pkt->stream_index];
            k->packets++;
            k->bytes += pkt->size;
            for (int b = 0; b < pkt->size; b++)
                k->sum = k->sum * 31 + pkt->data[b];
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return n;
}

static void free_streams(kstream *k, int n)
{
    for (int i = 0; i < n; i++)
        free(k[i].pic);
}

static void expect_refused(const char *json, const char *needle, const char *absent)
{
    mc_result res = {0};
    mc_err err;
    if (t_run(json, &res, &err) >= 0)
        fail_msg("expected a refusal, the request succeeded:\n%s", json);
    if (strcmp(err.code, "InvalidArgument") != 0 || !strstr(err.msg, needle))
        fail_msg("expected InvalidArgument with \"%s\", got %s: %s", needle, err.code, err.msg);
    assert_false(t_exists(t_path(absent)));
}

/* The cover of cover.m4a, byte for byte, in mp4 (attached_pic stream, the covr tag) and in
 * mkv (an attachment, read back as an attached picture). */
static void cover_kept(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ("\"Sources\":[{\"URI\":\"oss://fixtures/cover.m4a\"}],\"Targets\":["
            "{\"URI\":\"oss://output/cover.mp4\",\"Container\":\"mp4\",\"AttachedPicture\":"
            "{\"Stream\":[-1]},\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}},"
            "{\"URI\":\"oss://output/cover.mkv\",\"Container\":\"mkv\",\"AttachedPicture\":"
            "{\"Stream\":[1]}},"
            "{\"URI\":\"oss://output/nocover.mp4\",\"Container\":\"mp4\"},"
            "{\"URI\":\"oss://output/nocover7.mkv\",\"Container\":\"mkv\",\"AttachedPicture\":"
            "{\"Stream\":[7]}}]"));
    mc_result_clear(&res);
    kstream src[4], k[4];
    int ns = read_streams(t_path("fixtures/cover.m4a"), src, 4);
    assert_int_equal(ns, 2);
    assert_true(src[1].attached_pic && src[1].pic_size > 0);
    const char *with[] = {"output/cover.mp4", "output/cover.mkv"};
    for (int i = 0; i < 2; i++) {
        int n = read_streams(t_path(with[i]), k, 4);
        assert_int_equal(n, 2);
        assert_int_equal(k[0].type, AVMEDIA_TYPE_AUDIO);
        assert_true(k[1].attached_pic);
        assert_string_equal(k[1].codec, "png");
        assert_int_equal(k[1].pic_size, src[1].pic_size);
        assert_memory_equal(k[1].pic, src[1].pic, (size_t)src[1].pic_size);
        free_streams(k, n);
    }
    /* left out, or an index that is no stream: no picture */
    const char *without[] = {"output/nocover.mp4", "output/nocover7.mkv"};
    for (int i = 0; i < 2; i++) {
        int n = read_streams(t_path(without[i]), k, 4);
        assert_int_equal(n, 1);
        assert_int_equal(k[0].type, AVMEDIA_TYPE_AUDIO);
        free_streams(k, n);
    }
    free_streams(src, ns);
}

/* The gpmd track of gpmd.mov, its packets' bytes unchanged; [] and no field keep none. */
static void data_kept(void **state)
{
    (void)state;
    mc_result res = t_run_ok(
        REQ("\"Sources\":[{\"URI\":\"oss://fixtures/gpmd.mov\"}],\"Targets\":["
            "{\"URI\":\"oss://output/data.mp4\",\"Container\":\"mp4\",\"Data\":{\"Stream\":[-1]}},"
            "{\"URI\":\"oss://output/data2.mp4\",\"Container\":\"mp4\",\"Data\":{\"Stream\":[2]},"
            "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
            "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}},"
            "{\"URI\":\"oss://output/nodata.mp4\",\"Container\":\"mp4\",\"Data\":{\"Stream\":[]}},"
            "{\"URI\":\"oss://output/nodata2.mp4\",\"Container\":\"mp4\"}]"));
    mc_result_clear(&res);
    kstream src[4], k[4];
    int ns = read_streams(t_path("fixtures/gpmd.mov"), src, 4);
    assert_int_equal(ns, 3);
    assert_int_equal(src[2].type, AVMEDIA_TYPE_DATA);
    assert_true(src[2].bytes >= 1024);
    const char *with[] = {"output/data.mp4", "output/data2.mp4"};
    for (int i = 0; i < 2; i++) {
        int n = read_streams(t_path(with[i]), k, 4);
        assert_int_equal(n, 3);
        assert_int_equal(k[2].type, AVMEDIA_TYPE_DATA);
        assert_string_equal(k[2].codec, "bin_data");
        assert_int_equal(k[2].bytes, src[2].bytes);
        assert_int_equal(k[2].packets, src[2].packets);
        assert_int_equal(k[2].sum, src[2].sum);
        free_streams(k, n);
    }
    const char *without[] = {"output/nodata.mp4", "output/nodata2.mp4"};
    for (int i = 0; i < 2; i++) {
        int n = read_streams(t_path(without[i]), k, 4);
        assert_int_equal(n, 2);
        free_streams(k, n);
    }
    free_streams(src, ns);
}

static void refused(void **state)
{
    (void)state;
    expect_refused(REQ("\"Sources\":[{\"URI\":\"oss://fixtures/gpmd.mov\"},"
                       "{\"URI\":\"oss://fixtures/gpmd.mov\"}],\"Targets\":["
                       "{\"URI\":\"oss://output/data_r1.mp4\",\"Container\":\"mp4\","
                       "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                       "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}},"
                       "\"Data\":{\"Stream\":[-1]}}]"),
                   "Targets[0].Data.Stream: data streams are kept only from a single source",
                   "output/data_r1.mp4");
    if (!t_media_dir())
        return;
    /* QuickTime metadata tracks (mebx): the mp4 muxer cannot carry them */
    char dir[PATH_MAX], json[PATH_MAX + 256];
    assert_non_null(realpath(t_media_dir(), dir));
    snprintf(json, sizeof(json),
             REQ("\"Sources\":[{\"URI\":\"file://%s/dolbyVision-hdr.MOV\"}],\"Targets\":["
                 "{\"URI\":\"oss://output/data_r2.mp4\",\"Container\":\"mp4\","
                 "\"Data\":{\"Stream\":[101]}}]"),
             dir);
    expect_refused(json, "Targets[0].Data.Stream: stream 2 of Sources[0] (none data, tagged mebx)",
                   "output/data_r2.mp4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cover_kept),
        cmocka_unit_test(data_kept),
        cmocka_unit_test(refused),
    };
    mc_media_init_logging();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
