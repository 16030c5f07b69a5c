/*
 * Segmented outputs (Target.Segment: HLS with TS or fMP4 segments, DASH) and TargetGroups
 * (HLS master playlists), read back with libavformat and by parsing the playlists' text.
 * Uses the real-media corpus ($MC_MEDIA_DIR); skipped when it is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "support.h"

#define SAMPLE "sample_with_increasing_timestamps_360p.mp4" /* 17 s H.264/AAC, ~30 fps */
#define FRAME  (1.0 / 30.0)

static char sample_uri[4200], friday_uri[4200], media_dir[4096];

static char *read_text(const char *path)
{
    size_t len;
    return t_read_all(path, &len);
}

typedef struct playlist {
    int media_sequence;
    char map[256]; /* EXT-X-MAP URI */
    double extinf[64];
    char uri[64][256];
    int n;
    bool endlist;
} playlist;

static void parse_playlist(const char *path, playlist *pl)
{
    memset(pl, 0, sizeof(*pl));
    pl->media_sequence = -1;
    char *text = read_text(path);
    if (!text)
        fail_msg("%s: cannot be read", path);
    assert_true(!strncmp(text, "#EXTM3U", 7));
    double dur = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "#EXT-X-MEDIA-SEQUENCE:", 22))
            pl->media_sequence = atoi(line + 22);
        else if (!strncmp(line, "#EXT-X-MAP:URI=\"", 16))
            snprintf(pl->map, sizeof(pl->map), "%.*s", (int)strcspn(line + 16, "\""), line + 16);
        else if (!strncmp(line, "#EXTINF:", 8))
            dur = strtod(line + 8, NULL);
        else if (!strcmp(line, "#EXT-X-ENDLIST"))
            pl->endlist = true;
        else if (line[0] != '#' && dur >= 0) {
            assert_true(pl->n < 64);
            pl->extinf[pl->n] = dur;
            snprintf(pl->uri[pl->n++], 256, "%s", line);
            dur = -1;
        }
    }
    free(text);
}

/* Decode a file's video: frames decoded, and whether its first video packet is a key frame. */
static int64_t decode_video(const char *path, bool *first_key, int *w, int *h)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        fail_msg("%s: cannot be opened", path);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int vst = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    assert_true(vst >= 0);
    const AVCodecParameters *par = fmt->streams[vst]->codecpar;
    AVCodecContext *dec = avcodec_alloc_context3(avcodec_find_decoder(par->codec_id));
    assert_non_null(dec);
    assert_int_equal(avcodec_parameters_to_context(dec, par), 0);
    assert_int_equal(avcodec_open2(dec, dec->codec, NULL), 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int64_t frames = 0, packets = 0;
    bool eof = false;
    while (!eof) {
        int rc = av_read_frame(fmt, pkt);
        if (rc < 0)
            eof = true;
        else if (pkt->stream_index != vst) {
            av_packet_unref(pkt);
            continue;
        }
        if (!eof && packets++ == 0 && first_key)
            *first_key = pkt->flags & AV_PKT_FLAG_KEY;
        assert_true(avcodec_send_packet(dec, eof ? NULL : pkt) >= 0);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(dec, f) >= 0) {
            assert_int_equal(f->decode_error_flags, 0);
            if (w)
                *w = f->width;
            if (h)
                *h = f->height;
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

/* An fMP4 segment with its init segment in front, as a player reads it. */
static void join_fmp4(const char *init, const char *seg, const char *out)
{
    size_t a, b;
    char *x = t_read_all(init, &a), *y = t_read_all(seg, &b);
    assert_non_null(x);
    assert_non_null(y);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(x, 1, a, f), a);
    assert_int_equal(fwrite(y, 1, b, f), b);
    fclose(f);
    free(x);
    free(y);
}

static double source_video_duration(void)
{
    t_file src;
    char p[4200];
    snprintf(p, sizeof(p), "%s/" SAMPLE, t_media_dir());
    assert_true(t_read(p, &src));
    return src.video.duration;
}

/* Every segment of a media playlist: exists, decodes, starts with a key frame; the
 * durations are Duration apart from the last; returns the frames decoded. */
static int64_t check_hls(const char *dir, const char *name, double duration, int start, bool fmp4,
                         bool exact)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    playlist pl;
    parse_playlist(path, &pl);
    assert_true(pl.endlist);
    assert_int_equal(pl.media_sequence, start);
    assert_true(pl.n >= 2);
    if (fmp4)
        assert_true(pl.map[0] != '\0');
    int64_t frames = 0;
    double sum = 0;
    for (int i = 0; i < pl.n; i++) {
        /* names: <stem>-<n>.ts / .m4s, n from StartNumber */
        char want[300];
        snprintf(want, sizeof(want), "-%d.%s", start + i, fmp4 ? "m4s" : "ts");
        assert_non_null(strstr(pl.uri[i], want));
        char seg[4700], joined[4800];
        snprintf(seg, sizeof(seg), "%s/%s", dir, pl.uri[i]);
        assert_true(t_exists(seg));
        if (fmp4) {
            char init[4700];
            snprintf(init, sizeof(init), "%s/%s", dir, pl.map);
            snprintf(joined, sizeof(joined), "%s.joined.mp4", seg);
            join_fmp4(init, seg, joined);
        }
        bool key = false;
        int64_t n = decode_video(fmp4 ? joined : seg, &key, NULL, NULL);
        if (fmp4)
            remove(joined);
        assert_true(n > 0);
        if (!key)
            fail_msg("%s does not start with a key frame", seg);
        frames += n;
        sum += pl.extinf[i];
        if (!exact)
            continue;
        if (i < pl.n - 1 && fabs(pl.extinf[i] - duration) > FRAME + 0.01)
            fail_msg("%s: EXTINF %.3f, Duration %.3f", seg, pl.extinf[i], duration);
        if (i == pl.n - 1)
            assert_true(pl.extinf[i] <= duration + FRAME);
    }
    /* libavformat's hls muxer times the last segment to its last packet in decoding order:
     * up to two frames short. */
    double src = source_video_duration();
    if (fabs(sum - src) > 2 * FRAME + 0.01)
        fail_msg("%s: EXTINF sum %.3f, source %.3f", name, sum, src);
    return frames;
}

static const char *seg_request(char *buf, size_t size, const char *src, const char *uri,
                               const char *container, const char *segment, bool encode)
{
    snprintf(buf, size,
             "{\"ProjectName\":\"seg\",\"Sources\":[{\"URI\":\"%s\"}],"
             "\"Targets\":[{\"URI\":\"%s\",\"Container\":\"%s\",\"Segment\":%s%s}]}",
             src, uri, container, segment,
             encode ? ",\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
                      "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}"
                    : "");
    return buf;
}

/* HLS, TS segments, URI without extension, StartNumber 7. */
static void hls_ts(void **state)
{
    (void)state;
    char json[8192];
    mc_result res =
        t_run_ok(seg_request(json, sizeof(json), sample_uri, "oss://output/seg/ts/v", "ts",
                             "{\"Format\":\"hls\",\"Duration\":4,"
                             "\"StartNumber\":7}",
                             true));
    assert_int_equal(res.n_outputs, 1);
    assert_string_equal(res.outputs[0].uri, "oss://output/seg/ts/v.m3u8");
    assert_string_equal(res.outputs[0].segment, "hls");
    assert_string_equal(res.outputs[0].info.format, "hls");
    int64_t frames = check_hls(t_path("output/seg/ts"), "v.m3u8", 4, 7, false, true);
    assert_int_equal(frames, res.frames_encoded);
    assert_int_equal(res.outputs[0].segments, 5); /* 17 s in 4 s pieces */
    assert_true(t_exists(t_path("output/seg/ts/v-7.ts")));
    assert_false(t_has_temp(t_path("output/seg/ts")));
    mc_result_clear(&res);
}

/* HLS, fMP4 segments, URI with the .m3u8 extension. */
static void hls_fmp4(void **state)
{
    (void)state;
    char json[8192];
    mc_result res =
        t_run_ok(seg_request(json, sizeof(json), sample_uri, "oss://output/seg/fmp4/list.m3u8",
                             "mp4", "{\"Format\":\"hls\",\"Duration\":4}", true));
    assert_string_equal(res.outputs[0].uri, "oss://output/seg/fmp4/list.m3u8");
    int64_t frames = check_hls(t_path("output/seg/fmp4"), "list.m3u8", 4, 0, true, true);
    assert_int_equal(frames, res.frames_encoded);
    assert_true(t_exists(t_path("output/seg/fmp4/list-init.mp4")));
    assert_false(t_exists(t_path("output/seg/fmp4/list.m3u8.m3u8")));
    /* libavformat reads the playlist through: the whole duration */
    t_file f;
    assert_true(t_read(t_path("output/seg/fmp4/list.m3u8"), &f));
    assert_true(fabs(f.video.duration - source_video_duration()) < 2 * FRAME + 0.01);
    mc_result_clear(&res);
}

/* Copy: cuts only at the source's key frames (gop2s.mp4: every 2 s, 24 s long). */
static void hls_copy(void **state)
{
    (void)state;
    char json[8192];
    mc_result res = t_run_ok(seg_request(json, sizeof(json), "oss://fixtures/gop2s.mp4",
                                         "oss://output/seg/copy/c", "ts",
                                         "{\"Format\":\"hls\",\"Duration\":3}", false));
    playlist pl;
    parse_playlist(t_path("output/seg/copy/c.m3u8"), &pl);
    double sum = 0;
    for (int i = 0; i < pl.n; i++) {
        sum += pl.extinf[i];
        double k = pl.extinf[i] / 2;
        if (i < pl.n - 1 && fabs(k - round(k)) > 0.02)
            fail_msg("segment %d lasts %.3f s: not a cut at a key frame", i, pl.extinf[i]);
        char seg[4400];
        snprintf(seg, sizeof(seg), "%s/%s", t_path("output/seg/copy"), pl.uri[i]);
        bool key = false;
        assert_true(decode_video(seg, &key, NULL, NULL) > 0);
        assert_true(key);
    }
    assert_true(pl.n >= 6);
    assert_true(fabs(sum - 24) < 2 * 0.04 + 0.01);
    assert_int_equal(res.frames_encoded, 0); /* copied, not re-encoded */
    mc_result_clear(&res);
}

/* DASH: well-formed MPD that libavformat's dash demuxer reads with the right frames. */
static void dash(void **state)
{
    (void)state;
    char json[8192];
    mc_result res = t_run_ok(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/dash/d",
                                         "mp4", "{\"Format\":\"dash\",\"Duration\":2}", true));
    assert_string_equal(res.outputs[0].uri, "oss://output/seg/dash/d.mpd");
    assert_string_equal(res.outputs[0].segment, "dash");
    assert_string_equal(res.outputs[0].info.format, "dash");
    char *mpd = read_text(t_path("output/seg/dash/d.mpd"));
    assert_non_null(mpd);
    assert_true(!strncmp(mpd, "<?xml", 5));
    assert_non_null(strstr(mpd, "<MPD"));
    assert_non_null(strstr(mpd, "</MPD>"));
    assert_non_null(strstr(mpd, "media=\"d-$RepresentationID$-$Number$.m4s\""));
    free(mpd);
    assert_true(t_exists(t_path("output/seg/dash/d-init-0.m4s")));
    assert_true(t_exists(t_path("output/seg/dash/d-0-1.m4s")));
    /* The video representation's segments, joined behind its init segment, hold every
     * frame encoded, each segment starting with a key frame. */
    char joined[4400];
    snprintf(joined, sizeof(joined), "%s/joined.mp4", t_path("output/seg"));
    int64_t total = 0;
    for (int n = 1;; n++) {
        char seg[4400];
        snprintf(seg, sizeof(seg), "%s/d-0-%d.m4s", t_path("output/seg/dash"), n);
        if (!t_exists(seg))
            break;
        join_fmp4(t_path("output/seg/dash/d-init-0.m4s"), seg, joined);
        bool key = false;
        total += decode_video(joined, &key, NULL, NULL);
        assert_true(key);
    }
    remove(joined);
    assert_int_equal(total, res.frames_encoded);
    /* libavformat's dash demuxer reads the MPD and its segments; the muxer writes the
     * MPD's total duration rounded down to 0.1 s, which the demuxer stops at. */
    bool key = false;
    int64_t frames = decode_video(t_path("output/seg/dash/d.mpd"), &key, NULL, NULL);
    assert_true(key);
    assert_true(frames <= res.frames_encoded && frames >= res.frames_encoded - 3);
    mc_result_clear(&res);
}

static int expected_level_profile(const char *ts, char *codecs, size_t size, int *w, int *h)
{
    AVFormatContext *fmt = NULL;
    assert_true(avformat_open_input(&fmt, ts, NULL, NULL) >= 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int v = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    int a = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    assert_true(v >= 0 && a >= 0);
    const AVCodecParameters *vp = fmt->streams[v]->codecpar, *ap = fmt->streams[a]->codecpar;
    assert_int_equal(vp->codec_id, AV_CODEC_ID_H264);
    assert_int_equal(ap->codec_id, AV_CODEC_ID_AAC);
    /* x264's High profile sets no constraint flags */
    snprintf(codecs, size, "avc1.%02x00%02x,mp4a.40.%d", vp->profile & 0xff, vp->level,
             ap->profile + 1);
    *w = vp->width;
    *h = vp->height;
    avformat_close_input(&fmt);
    return 0;
}

static const char *attr(const char *line, const char *name, char *out, size_t size)
{
    char key[64];
    snprintf(key, sizeof(key), "%s=", name);
    const char *p = line;
    while ((p = strstr(p, key)) && p != line && p[-1] != ',' && p[-1] != ':')
        p++;
    if (!p)
        return NULL;
    p += strlen(key);
    size_t n = *p == '"' ? strcspn(p + 1, "\"") : strcspn(p, ",");
    snprintf(out, size, "%.*s", (int)n, *p == '"' ? p + 1 : p);
    return out;
}

/* Two variants from one decode, and a master playlist with measured values. */
static void group(void **state)
{
    (void)state;
    char json[8192];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"seg\",\"Sources\":[{\"URI\":\"%s\"}],\"TargetGroups\":[{"
             "\"URI\":\"oss://output/seg/grp/master.m3u8\",\"Targets\":["
             "{\"URI\":\"oss://output/seg/grp/hi/v.m3u8\",\"Container\":\"ts\","
             "\"Segment\":{\"Format\":\"hls\",\"Duration\":4},\"Video\":{\"TranscodeVideo\":{"
             "\"Codec\":\"h264\",\"Resolution\":\"640x360\",\"Bitrate\":800000}},"
             "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\",\"Bitrate\":96000}}},"
             "{\"URI\":\"oss://output/seg/grp/lo\",\"Container\":\"ts\","
             "\"Segment\":{\"Format\":\"hls\",\"Duration\":4},\"Video\":{\"TranscodeVideo\":{"
             "\"Codec\":\"h264\",\"Resolution\":\"320x180\",\"Bitrate\":300000}},"
             "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\",\"Bitrate\":64000}}}]}]}",
             sample_uri);
    mc_result res = t_run_ok(json);
    /* decoded once: the same frames as one plain transcode of the source */
    char one[8192];
    snprintf(one, sizeof(one),
             "{\"ProjectName\":\"seg\",\"Sources\":[{\"URI\":\"%s\"}],\"Targets\":[{"
             "\"URI\":\"oss://output/seg/grp-one.mp4\",\"Container\":\"mp4\","
             "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"320x180\"}},"
             "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]}",
             sample_uri);
    mc_result single = t_run_ok(one);
    assert_true(res.frames_decoded > 0);
    assert_int_equal(res.frames_decoded, single.frames_decoded);
    mc_result_clear(&single);
    assert_int_equal(res.n_outputs, 3); /* two variants, the master */
    assert_string_equal(res.outputs[2].uri, "oss://output/seg/grp/master.m3u8");
    assert_int_equal(res.outputs[2].group, 0);

    const char *dir = t_path("output/seg/grp");
    char *master = read_text(t_path("output/seg/grp/master.m3u8"));
    assert_non_null(master);
    assert_true(!strncmp(master, "#EXTM3U", 7));
    const char *want_uri[2] = {"hi/v.m3u8", "lo.m3u8"};
    int want_w[2] = {640, 320}, want_h[2] = {360, 180}, k = 0;
    char *save = NULL;
    for (char *line = strtok_r(master, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "#EXT-X-STREAM-INF:", 18))
            continue;
        assert_true(k < 2);
        char *uri = strtok_r(NULL, "\n", &save);
        assert_non_null(uri);
        assert_string_equal(uri, want_uri[k]);
        char v[128], pl_path[4400];
        snprintf(pl_path, sizeof(pl_path), "%s/%s", dir, uri);
        playlist pl;
        parse_playlist(pl_path, &pl);
        char vdir[4400];
        snprintf(vdir, sizeof(vdir), "%s", pl_path);
        *strrchr(vdir, '/') = '\0';
        /* measured: bits of all segments over their duration */
        double bits = 0, dur = 0;
        for (int i = 0; i < pl.n; i++) {
            char seg[4700];
            struct stat st;
            snprintf(seg, sizeof(seg), "%s/%s", vdir, pl.uri[i]);
            assert_int_equal(stat(seg, &st), 0);
            bits += 8.0 * (double)st.st_size;
            dur += pl.extinf[i];
        }
        double measured = bits / dur;
        double bw = atof(attr(line, "BANDWIDTH", v, sizeof(v)));
        double avg = atof(attr(line, "AVERAGE-BANDWIDTH", v, sizeof(v)));
        if (fabs(measured - avg) > 0.2 * avg)
            fail_msg("variant %d: measured %.0f bit/s, AVERAGE-BANDWIDTH %.0f", k, measured, avg);
        assert_true(bw >= avg);
        /* RESOLUTION is what the segments decode to */
        char first[4700], codecs[64];
        int dw = 0, dh = 0, sw, sh;
        snprintf(first, sizeof(first), "%s/%s", vdir, pl.uri[0]);
        assert_true(decode_video(first, NULL, &dw, &dh) > 0);
        snprintf(v, sizeof(v), "%dx%d", dw, dh);
        assert_string_equal(attr(line, "RESOLUTION", one, sizeof(one)), v);
        assert_int_equal(dw, want_w[k]);
        assert_int_equal(dh, want_h[k]);
        expected_level_profile(first, codecs, sizeof(codecs), &sw, &sh);
        assert_string_equal(attr(line, "CODECS", v, sizeof(v)), codecs);
        assert_non_null(attr(line, "FRAME-RATE", v, sizeof(v)));
        assert_true(fabs(atof(v) - 30.0) < 0.1);
        k++;
    }
    assert_int_equal(k, 2);
    free(master);
    /* libavformat reads the master and its variants */
    t_file f;
    assert_true(t_read(t_path("output/seg/grp/master.m3u8"), &f));
    assert_true(f.video.present);
    mc_result_clear(&res);
}

static void cancel_half(double f, void *opaque)
{
    if (f > 0.5)
        atomic_store((atomic_bool *)opaque, true);
}

static bool dir_empty_or_missing(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return true;
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = false;
    closedir(d);
    return empty;
}

/* A canceled task and a failing one leave neither playlists nor segments behind. */
static void failure_leaves_nothing(void **state)
{
    (void)state;
    char json[8192];
    atomic_bool cancel = false;
    mc_result res = {0};
    mc_err err;
    int rc = t_run_with(seg_request(json, sizeof(json), sample_uri, "oss://output/seg/cancel/v",
                                    "ts", "{\"Format\":\"hls\",\"Duration\":2}", true),
                        cancel_half, &cancel, &cancel, &res, &err);
    assert_true(rc < 0);
    assert_true(atomic_load(&cancel));
    assert_true(dir_empty_or_missing(t_path("output/seg/cancel")));

    /* the master fails after the variants were written: an unknown {tags.x} in its URI */
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"seg\",\"Sources\":[{\"URI\":\"%s\"}],\"TargetGroups\":[{"
             "\"URI\":\"oss://output/seg/failg/{tags.nosuch}m.m3u8\",\"Targets\":["
             "{\"URI\":\"oss://output/seg/failg/v\",\"Container\":\"ts\","
             "\"Segment\":{\"Format\":\"hls\",\"Duration\":2},\"Video\":{\"TranscodeVideo\":{"
             "\"Codec\":\"h264\",\"Resolution\":\"160x90\"}}}]}]}",
             friday_uri);
    rc = t_run(json, &res, &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err.msg, "TargetGroups[0].URI"));
    assert_true(dir_empty_or_missing(t_path("output/seg/failg")));
}

static void expect_invalid(const char *json, const char *field, const char *text)
{
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    if (rc >= 0)
        fail_msg("accepted: %s", json);
    assert_string_equal(err.code, "InvalidArgument");
    if (!strstr(err.msg, field) || !strstr(err.msg, text))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.msg, field, text);
}

static void bad_requests(void **state)
{
    (void)state;
    char json[8192];
    expect_invalid(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/bad/a", "mkv",
                               "{\"Format\":\"hls\",\"Duration\":4}", false),
                   "Targets[0].Segment.Format", "ts or mp4");
    expect_invalid(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/bad/a", "ts",
                               "{\"Format\":\"hls\",\"Duration\":0}", false),
                   "Targets[0].Segment.Duration", "");
    expect_invalid(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/bad/a", "ts",
                               "{\"Format\":\"hls\",\"Duration\":-1}", false),
                   "Targets[0].Segment.Duration", "");
    expect_invalid(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/bad/a.mpd", "ts",
                               "{\"Format\":\"hls\",\"Duration\":4}", false),
                   "Targets[0].URI", "allowed: a URI ending in .m3u8");
    expect_invalid(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/bad/a", "mp4",
                               "{\"Format\":\"dash\",\"Duration\":4,\"StartNumber\":3}", false),
                   "Targets[0].Segment.StartNumber", "allowed with dash: 0");
    /* the hls muxer reads '%' as a number template: refused, nothing written */
    expect_invalid(seg_request(json, sizeof(json), friday_uri, "oss://output/seg/bad/p%d", "ts",
                               "{\"Format\":\"hls\",\"Duration\":4}", false),
                   "Targets[0].URI", "'%' cannot be in the name or folder of an HLS output");
    assert_false(t_exists(t_path("output/seg/bad/p%d.m3u8")));
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"seg\",\"Sources\":[{\"URI\":\"%s\"}],\"TargetGroups\":[{"
             "\"URI\":\"oss://output/seg/bad/m.m3u8\",\"Targets\":[{\"URI\":"
             "\"oss://output/seg/bad/v\",\"Container\":\"mp4\",\"Segment\":{\"Format\":\"dash\","
             "\"Duration\":4}}]}]}",
             friday_uri);
    expect_invalid(json, "TargetGroups[0].Targets[0].Segment.Format", "allowed: hls");
    assert_true(dir_empty_or_missing(t_path("output/seg/bad")));
}

/* The corpus's HLS folder as a source. */
static void hls_source(void **state)
{
    (void)state;
    char json[8192];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"seg\",\"Sources\":[{\"URI\":\"file://%s/hls-ts-muxed-aac-h264/"
             "playlist.m3u8\"}],\"Targets\":[{\"URI\":\"oss://output/seg/from-hls\","
             "\"Container\":\"mp4\",\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\","
             "\"Resolution\":\"320x\"}},\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]}",
             media_dir);
    mc_result res = t_run_ok(json);
    t_file f;
    assert_true(t_read(t_path("output/seg/from-hls.mp4"), &f));
    if (fabs(f.duration - 36) > 0.1)
        fail_msg("duration %.3f, expected 36", f.duration);
    mc_result_clear(&res);
}

int main(void)
{
    const char *dir = t_media_dir();
    if (!dir) {
        fprintf(stderr, "no real-media corpus (MC_MEDIA_DIR): skipped\n");
        return 77;
    }
    char real[4096];
    if (!realpath(dir, real))
        return 1;
    snprintf(media_dir, sizeof(media_dir), "%s", real);
    snprintf(sample_uri, sizeof(sample_uri), "file://%s/" SAMPLE, real);
    snprintf(friday_uri, sizeof(friday_uri), "file://%s/friday.mp4", real);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hls_ts),       cmocka_unit_test(hls_fmp4),
        cmocka_unit_test(hls_copy),     cmocka_unit_test(dash),
        cmocka_unit_test(group),        cmocka_unit_test(failure_leaves_nothing),
        cmocka_unit_test(bad_requests), cmocka_unit_test(hls_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
