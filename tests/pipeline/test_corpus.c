/*
 * Every file of the real-media corpus (../shared/media, $MC_MEDIA_DIR) is probed, transcoded
 * to mp4 H.264/AAC and converted to one audio-only format. Each must succeed, or fail with
 * the clear error intended for it (a subtitle file has nothing to transcode, a silent video
 * has no audio for an mp3). Skipped (77) when the corpus is absent.
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
#include <unistd.h>

#include "mc_media.h"
#include "support.h"

typedef struct corpus_file {
    char name[256]; /* relative to the corpus folder */
    char uri[1024]; /* file:// URI */
    char path[1000];
} corpus_file;

static const mc_stream_info *first_stream(const mc_media_info *info, const char *type)
{
    for (size_t i = 0; i < info->n_streams; i++)
        if (!strcmp(info->streams[i].type, type))
            return &info->streams[i];
    return NULL;
}

/* Video that is a real picture (not cover art: MP3s can carry a picture "video" stream). */
static const mc_stream_info *picture_stream(const mc_media_info *info)
{
    const mc_stream_info *v = first_stream(info, "video");
    if (v && (!strcmp(v->codec, "mjpeg") || !strcmp(v->codec, "png")) && v->frames <= 1)
        return NULL;
    return v;
}

static int nearest_even(int v)
{
    return v % 2 ? v - 1 : v;
}

static void transcode_one(void **state)
{
    const corpus_file *cf = *state;
    mc_err err;
    mc_media_info info = {0};
    int rc = mc_probe_file(cf->path, NULL, &info, &err);
    if (rc < 0)
        fail_msg("%s: probe failed: %s %s", cf->name, err.code, err.msg);
    assert_true(info.n_streams > 0);
    const mc_stream_info *v = picture_stream(&info);
    const mc_stream_info *a = first_stream(&info, "audio");

    /* 1. mp4 with H.264 and AAC. */
    char json[4096], out_mp4[300], out_mp3[300];
    snprintf(out_mp4, sizeof(out_mp4), "corpus/%s.mp4", cf->name);
    snprintf(out_mp3, sizeof(out_mp3), "corpus/%s.mp3", cf->name);
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"corpus\",\"Sources\":[{\"URI\":\"%s\"}],"
             "\"Targets\":[{\"URI\":\"oss://output/%s\",\"Container\":\"mp4\","
             "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
             "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]}",
             cf->uri, out_mp4);
    mc_result res = {0};
    rc = t_run(json, &res, &err);
    if (!v && !a) {
        /* Subtitle files: nothing to transcode, said clearly. */
        assert_true(rc < 0);
        if (strcmp(err.code, "InvalidMedia") != 0 || !strstr(err.msg, "no audio or video"))
            fail_msg("%s: expected InvalidMedia (no audio or video), got %s: %s", cf->name,
                     err.code, err.msg);
        mc_media_info_clear(&info);
        return;
    }
    if (rc < 0)
        fail_msg("%s: mp4 transcode failed: %s: %s", cf->name, err.code, err.msg);
    mc_result_clear(&res);

    char path[1024];
    snprintf(path, sizeof(path), "output/%s", out_mp4);
    t_file f, src;
    assert_true(t_read(t_path(path), &f));
    assert_true(t_read(cf->path, &src));
    if (v) {
        /* The coded size turned upright, with the same picture aspect ratio. */
        assert_string_equal(f.video.codec, "h264");
        bool swap = v->rotation == 90 || v->rotation == 270;
        int want_w = nearest_even(swap ? v->height : v->width);
        int want_h = nearest_even(swap ? v->width : v->height);
        if (f.video.width != want_w || f.video.height != want_h)
            fail_msg("%s: %dx%d, want %dx%d (coded size, upright)", cf->name, f.video.width,
                     f.video.height, want_w, want_h);
        double src_dar = (double)src.video.width * src.video.sar_num / src.video.sar_den /
                         src.video.height;
        if (swap)
            src_dar = 1 / src_dar;
        double dar = (double)f.video.width * f.video.sar_num / f.video.sar_den / f.video.height;
        if (fabs(dar - src_dar) > 0.01)
            fail_msg("%s: display aspect %.4f, source %.4f", cf->name, dar, src_dar);
        assert_int_equal(f.video.rotation, 0);
        assert_true(f.video.packets > 0);
    }
    if (a) {
        assert_string_equal(f.audio.codec, "aac");
        assert_true(f.audio.channels == a->channels);
    }
    /* As long as what the source plays: from its start time to its last packet's end (an
     * Ogg pre-roll before zero doesn't play). */
    double want = fmax(v ? src.video.end : 0, a ? src.audio.end : 0) - src.start_time;
    double got = fmax(f.video.duration, f.audio.duration);
    if (fabs(got - want) > fmax(0.15, want * 0.05))
        fail_msg("%s: output lasts %.3f s, source %.3f s", cf->name, got, want);

    /* 2. A remux into Matroska: every packet of the video copied (timestamps a muxer would
     * refuse, like pts before dts in phone recordings, are repaired, not dropped). */
    if (v) {
        char out_mkv[300];
        snprintf(out_mkv, sizeof(out_mkv), "corpus/%s.mkv", cf->name);
        snprintf(json, sizeof(json),
                 "{\"ProjectName\":\"corpus\",\"Sources\":[{\"URI\":\"%s\"}],"
                 "\"Targets\":[{\"URI\":\"oss://output/%s\",\"Container\":\"mkv\"}]}",
                 cf->uri, out_mkv);
        rc = t_run(json, &res, &err);
        if (rc < 0)
            fail_msg("%s: remux to mkv failed: %s: %s", cf->name, err.code, err.msg);
        mc_result_clear(&res);
        snprintf(path, sizeof(path), "output/%s", out_mkv);
        t_file m;
        assert_true(t_read(t_path(path), &m));
        if (m.video.packets != src.video.packets || strcmp(m.video.codec, src.video.codec) != 0)
            fail_msg("%s: remux has %lld %s packets, source %lld %s", cf->name,
                     (long long)m.video.packets, m.video.codec, (long long)src.video.packets,
                     src.video.codec);
    }

    /* 3. An audio-only format. */
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"corpus\",\"Sources\":[{\"URI\":\"%s\"}],"
             "\"Targets\":[{\"URI\":\"oss://output/%s\",\"Container\":\"mp3\"}]}",
             cf->uri, out_mp3);
    rc = t_run(json, &res, &err);
    if (!a) {
        assert_true(rc < 0);
        if (strcmp(err.code, "InvalidArgument") != 0 || !strstr(err.msg, "no audio"))
            fail_msg("%s: expected InvalidArgument (no audio), got %s: %s", cf->name, err.code,
                     err.msg);
    } else {
        if (rc < 0)
            fail_msg("%s: mp3 conversion failed: %s: %s", cf->name, err.code, err.msg);
        mc_result_clear(&res);
        snprintf(path, sizeof(path), "output/%s", out_mp3);
        assert_true(t_read(t_path(path), &f));
        assert_string_equal(f.audio.codec, "mp3");
        assert_false(f.video.present);
        assert_int_equal(f.audio.channels, a->channels > 2 ? 2 : a->channels);
        assert_true(f.audio.sample_rate <= 48000);
    }
    mc_media_info_clear(&info);
}

static int add_file(corpus_file **files, size_t *n, const char *dir, const char *name)
{
    corpus_file *p = realloc(*files, (*n + 1) * sizeof(**files));
    if (!p)
        return -1;
    *files = p;
    corpus_file *cf = &p[(*n)++];
    snprintf(cf->name, sizeof(cf->name), "%s", name);
    snprintf(cf->path, sizeof(cf->path), "%s/%s", dir, name);
    snprintf(cf->uri, sizeof(cf->uri), "file://%s", cf->path);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const corpus_file *)a)->name, ((const corpus_file *)b)->name);
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
    mc_media_init_logging();

    corpus_file *files = NULL;
    size_t n = 0;
    DIR *d = opendir(real);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char p[4600];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", real, de->d_name);
        if (de->d_name[0] == '.' || stat(p, &sb) < 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            /* an HLS folder: its master playlist */
            char pl[4700];
            snprintf(pl, sizeof(pl), "%s/playlist.m3u8", p);
            if (stat(pl, &sb) == 0) {
                char rel[600];
                snprintf(rel, sizeof(rel), "%s/playlist.m3u8", de->d_name);
                add_file(&files, &n, real, rel);
            }
        } else if (strcmp(de->d_name, "MANIFEST.md") != 0) {
            add_file(&files, &n, real, de->d_name);
        }
    }
    if (d)
        closedir(d);
    qsort(files, n, sizeof(*files), by_name);

    struct CMUnitTest *tests = calloc(n ? n : 1, sizeof(*tests));
    if (!tests)
        return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = files[i].name;
        tests[i].test_func = transcode_one;
        tests[i].initial_state = &files[i];
    }
    int failed = _cmocka_run_group_tests("corpus", tests, n, NULL, NULL);
    free(tests);
    free(files);
    return failed;
}
