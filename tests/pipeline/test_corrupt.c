/*
 * Damaged inputs: real and synthetic files cut in half or with bytes flipped must end in a
 * failed task with a code (never a crash, a hang or a half-written output). ctest's timeout
 * catches hangs; ASan/UBSan catch memory errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc_media.h"
#include "support.h"

enum damage { CUT_HALF, FLIP_BYTES, CUT_HEADER };

/* Write a damaged copy of `src` to the store as damaged/<name>. */
static void make_damaged(const char *src, const char *name, enum damage how)
{
    size_t len;
    char *data = t_read_all(src, &len);
    assert_non_null(data);
    size_t keep = len;
    if (how == CUT_HALF) {
        keep = len / 2;
    } else if (how == CUT_HEADER) {
        keep = len / 50; /* only the beginning: headers, little or no media */
    } else {
        /* Every 97th byte of the middle half inverted: well past any decoder's concealment,
         * far from the container's header and index. */
        for (size_t i = len / 4; i < len * 3 / 4; i += 97)
            data[i] = (char)~data[i];
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/damaged", t_store());
    mkdir(dir, 0755);
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, keep, f), keep);
    fclose(f);
    free(data);
}

static void expect_failed_task(const char *name)
{
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"ProjectName\":\"corrupt\",\"Sources\":[{\"URI\":\"oss://damaged/%s\"}],"
             "\"Targets\":[{\"URI\":\"oss://output/damaged/%s.mp4\",\"Container\":\"mp4\","
             "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}},"
             "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]}",
             name, name);
    char out[300];
    snprintf(out, sizeof(out), "output/damaged/%s.mp4", name);
    unlink(t_path(out)); /* nothing left from an earlier run */
    mc_result res = {0};
    mc_err err;
    int rc = t_run(json, &res, &err);
    if (rc >= 0) {
        mc_result_clear(&res);
        fail_msg("%s: a damaged input was converted as if it were fine", name);
    }
    if (strcmp(err.code, "InvalidMedia") != 0)
        fail_msg("%s: expected InvalidMedia, got %s: %s", name, err.code, err.msg);
    assert_non_null(strstr(err.msg, "Sources[0]"));
    assert_false(t_exists(t_path(out)));
    assert_false(t_has_temp(t_path("output/damaged")));
}

typedef struct damage_case {
    const char *source; /* in the corpus, or NULL for a fixture */
    const char *fixture;
    enum damage how;
} damage_case;

static const damage_case cases[] = {
    {NULL, "bframes.mp4", CUT_HALF},     /* index first (faststart): cut media */
    {NULL, "bframes.mp4", FLIP_BYTES},
    {NULL, "odd.mkv", CUT_HALF},
    {NULL, "tone.wav", CUT_HEADER},
    {"friday.mp4", NULL, CUT_HALF},       /* index last: no index at all */
    {"friday.mp4", NULL, FLIP_BYTES},
    {"fire2.mp4", NULL, FLIP_BYTES},
    {"sample.flv", NULL, CUT_HALF},
    {"flower.webm", NULL, FLIP_BYTES},
    {"bbb_2500ms.ts", NULL, FLIP_BYTES},
    {"sample.avi", NULL, CUT_HALF},
    {"sample_with_increasing_timestamps_360p.mp4", NULL, CUT_HALF},
    {"loop_mika.flac", NULL, FLIP_BYTES},
    {"t-rex-roar.mp3", NULL, CUT_HEADER},
};

static void damaged(void **state)
{
    const damage_case *c = *state;
    char src[4096];
    if (c->source) {
        if (!t_media_dir())
            skip();
        snprintf(src, sizeof(src), "%s/%s", t_media_dir(), c->source);
    } else {
        snprintf(src, sizeof(src), "%s/fixtures/%s", t_store(), c->fixture);
    }
    static const char *const how_names[] = {"half", "flipped", "header"};
    char name[256];
    snprintf(name, sizeof(name), "%s-%s", how_names[c->how], c->source ? c->source : c->fixture);
    make_damaged(src, name, c->how);
    expect_failed_task(name);
}

/* Timestamps that jump by 1,000,000 s (the header agrees): damage, not a very long video to
 * fill with copies of one frame. */
static void timestamp_jump(void **state)
{
    (void)state;
    mc_result res = {0};
    mc_err err;
    int rc = t_run("{\"ProjectName\":\"corrupt\",\"Sources\":[{\"URI\":\"oss://fixtures/jump.mkv\"}],"
                   "\"Targets\":[{\"URI\":\"oss://output/damaged/jump.mp4\",\"Container\":\"mp4\","
                   "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\"}}}]}",
                   &res, &err);
    assert_true(rc < 0);
    assert_string_equal(err.code, "InvalidMedia");
    assert_non_null(strstr(err.msg, "jump"));
    assert_false(t_exists(t_path("output/damaged/jump.mp4")));
}

static int copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = t_read_all(from, &len);
    FILE *f = data ? fopen(to, "wb") : NULL;
    int rc = f && fwrite(data, 1, len, f) == len ? 0 : -1;
    if (f)
        fclose(f);
    free(data);
    return rc;
}

/* An HLS source with a segment missing: the demuxer skips it with a warning; the task fails. */
static void hls_missing_segment(void **state)
{
    (void)state;
    if (!t_media_dir())
        skip();
    const char *files[] = {"playlist.m3u8", "chunk.m3u8", "n_0_0_0.ts", "n_1_0_0.ts",
                           "n_3_0_0.ts",    "n_4_0_0.ts", "n_5_0_0.ts"}; /* no n_2 */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/damaged/hls-gap", t_store());
    mkdir(dir, 0755);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char from[4400], to[4400];
        snprintf(from, sizeof(from), "%s/hls-ts-muxed-aac-h264/%s", t_media_dir(), files[i]);
        snprintf(to, sizeof(to), "%s/%s", dir, files[i]);
        assert_int_equal(copy_file(from, to), 0);
    }
    expect_failed_task("hls-gap/playlist.m3u8");
}

/* A playlist in the store pointing at a file outside it is refused. */
static void playlist_escape(void **state)
{
    (void)state;
    char outside[4096], m3u8[4400];
    snprintf(outside, sizeof(outside), "%s/../outside-the-store.ts", t_store());
    char src[4200];
    snprintf(src, sizeof(src), "%s/fixtures/bframes.mp4", t_store());
    assert_int_equal(copy_file(src, outside), 0);
    snprintf(m3u8, sizeof(m3u8), "%s/damaged/escape.m3u8", t_store());
    FILE *f = fopen(m3u8, "w");
    assert_non_null(f);
    fprintf(f, "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\n../../outside-the-store.ts\n"
               "#EXT-X-ENDLIST\n");
    fclose(f);
    mc_result res = {0};
    mc_err err;
    int rc = t_run("{\"ProjectName\":\"corrupt\",\"Sources\":[{\"URI\":\"oss://damaged/escape.m3u8\"}],"
                   "\"Targets\":[{\"URI\":\"oss://output/damaged/escape.mp4\",\"Container\":\"mp4\"}]}",
                   &res, &err);
    assert_true(rc < 0);
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.msg, "outside the object store"));
    /* and probe refuses it too */
    mc_media_info info = {0};
    char root[4096];
    assert_non_null(realpath(t_store(), root));
    assert_true(mc_probe_file(m3u8, root, &info, &err) < 0);
    assert_non_null(strstr(err.msg, "outside the object store"));
}

int main(void)
{
    size_t n = sizeof(cases) / sizeof(cases[0]);
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];
    static char names[sizeof(cases) / sizeof(cases[0])][128];
    for (size_t i = 0; i < n; i++) {
        static const char *const how_names[] = {"half", "flipped", "header"};
        snprintf(names[i], sizeof(names[i]), "%s %s", how_names[cases[i].how],
                 cases[i].source ? cases[i].source : cases[i].fixture);
        tests[i] = (struct CMUnitTest){
            .name = names[i], .test_func = damaged, .initial_state = (void *)&cases[i]};
    }
    mc_media_init_logging();
    int failed = _cmocka_run_group_tests("corrupt", tests, n, NULL, NULL);
    const struct CMUnitTest more[] = {
        cmocka_unit_test(timestamp_jump),
        cmocka_unit_test(hls_missing_segment),
        cmocka_unit_test(playlist_escape),
    };
    return failed + cmocka_run_group_tests(more, NULL, NULL);
}
