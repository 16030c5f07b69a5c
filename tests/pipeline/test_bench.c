/*
 * mediaconvert bench in its short mode: every workload runs on every device against the
 * ffmpeg program, the outputs of both have the same shape, the results come out as JSON,
 * Markdown and SVG, and bad options or a failing ffmpeg give the documented exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_str.h"
#include "support.h"

static char work[1024], prefix[1100];

/* Room for a prefix and a suffix. */
#define PATH_ROOM 1300

static const char *const video_workloads[] = {"h264_720p",  "hevc_1080p", "gif_1fps", "gif_10fps",
                                              "webp_10fps", "snapshots",  "multi"};
static const char *const audio_workloads[] = {"mp3", "aac", "opus"};

static json_t *run_of(json_t *doc, const char *device, const char *workload, int n)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "runs"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "device")), device) == 0 &&
            strcmp(json_string_value(json_object_get(r, "workload")), workload) == 0 &&
            json_integer_value(json_object_get(r, "concurrency")) == n)
            return r;
    }
    return NULL;
}

static bool has_device(json_t *doc, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(doc, "devices"), i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
            return true;
    }
    return false;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A measured point: both tools ran and the figures are there. */
static void assert_point(json_t *doc, const char *device, const char *workload, int n, bool video)
{
    json_t *r = run_of(doc, device, workload, n);
    if (!r)
        fail_msg("no run for %s %s x%d", device, workload, n);
    json_t *mc = json_object_get(r, "mediaconvert"), *ff = json_object_get(r, "ffmpeg");
    if (!json_is_true(json_object_get(mc, "ok")) || !json_is_true(json_object_get(ff, "ok")))
        fail_msg("%s %s x%d: %s %s", device, workload, n,
                 json_string_value(json_object_get(mc, "error")),
                 json_string_value(json_object_get(ff, "error")));
    assert_true(json_real_value(json_object_get(mc, "median_s")) > 0);
    assert_true(json_real_value(json_object_get(ff, "median_s")) > 0);
    assert_true(json_real_value(json_object_get(mc, "realtime")) > 0);
    assert_true(json_real_value(json_object_get(r, "ratio")) > 0);
    assert_true(json_real_value(json_object_get(mc, "peak_rss_mib")) > 1);
    assert_true(json_real_value(json_object_get(ff, "peak_rss_mib")) > 1);
    assert_int_equal(json_is_real(json_object_get(mc, "frames_per_s")), video);
    assert_non_null(strstr(json_string_value(json_object_get(ff, "command")), "ffmpeg"));
    if (n == 1) {
        json_t *ck = json_object_get(r, "check");
        if (!json_is_true(json_object_get(ck, "same_shape")))
            fail_msg("%s %s: outputs differ: %s", device, workload,
                     json_string_value(json_object_get(ck, "detail")));
    }
}

static void short_run(void **state)
{
    (void)state;
    const char *args[] = {"bench", "--short", "--work", work, "--out", prefix, NULL};
    t_cli r = t_run_cli(args, NULL);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    t_cli_free(&r);

    char path[PATH_ROOM];
    snprintf(path, sizeof(path), "%s.json", prefix);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(doc, "short")));
    assert_true(json_integer_value(json_object_get(json_object_get(doc, "machine"), "cores")) > 0);
    assert_true(has_device(doc, "software"));
    int runs = 0;
    for (int n = 1; n <= 2; n++) {
        for (size_t i = 0; i < sizeof(video_workloads) / sizeof(*video_workloads); i++, runs++)
            assert_point(doc, "software", video_workloads[i], n, true);
        for (size_t i = 0; i < sizeof(audio_workloads) / sizeof(*audio_workloads); i++, runs++)
            assert_point(doc, "software", audio_workloads[i], n, false);
    }
    /* Software decodes, scales and encodes everything itself: no copies. */
    json_t *mc = json_object_get(run_of(doc, "software", "h264_720p", 1), "mediaconvert");
    assert_string_equal(json_string_value(json_object_get(json_object_get(mc, "stages"), "scale")),
                        "software");
    assert_int_equal(json_integer_value(json_object_get(mc, "downloads_per_task")), 0);

    /* On lavapipe (CI installs it) the hardware-frame path runs and ffmpeg repeats it. */
    if (has_device(doc, "vulkan:0")) {
        for (int n = 1; n <= 2; n++)
            for (size_t i = 0; i < sizeof(video_workloads) / sizeof(*video_workloads); i++, runs++)
                assert_point(doc, "vulkan:0", video_workloads[i], n, true);
        assert_null(run_of(doc, "vulkan:0", "mp3", 1)); /* audio is software's alone */
        json_t *vk = run_of(doc, "vulkan:0", "h264_720p", 1);
        mc = json_object_get(vk, "mediaconvert");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(mc, "stages"), "scale")), "vulkan:0");
        json_int_t frames = json_integer_value(
            json_object_get(json_array_get(json_object_get(doc, "sources"), 0), "frames"));
        assert_int_equal(frames, 60);
        assert_int_equal(json_integer_value(json_object_get(mc, "uploads_per_task")), frames);
        assert_int_equal(json_integer_value(json_object_get(mc, "downloads_per_task")), frames);
        assert_non_null(
            strstr(json_string_value(json_object_get(json_object_get(vk, "ffmpeg"), "command")),
                   "scale_vulkan=w=320:h=180"));
    } else {
        print_message("no vulkan:0 device: the hardware-frame bench was not run\n");
    }
    assert_int_equal(json_array_size(json_object_get(doc, "runs")), runs);

    /* The report: a table row per point and a line per device and tool in each panel. */
    snprintf(path, sizeof(path), "%s.md", prefix);
    size_t len = 0;
    char *md = t_read_all(path, &len);
    assert_non_null(md);
    assert_non_null(strstr(md, "| software | h264_720p | 1 | "));
    assert_non_null(strstr(md, "| software | opus | 2 | "));
    assert_int_equal(count(md, "| yes |"), runs / 2);
    snprintf(path, sizeof(path), "%s.svg", prefix);
    char *svg = t_read_all(path, &len);
    assert_non_null(svg);
    assert_true(mc_str_ends_with(svg, "</svg>\n"));
    size_t devices = json_array_size(json_object_get(doc, "devices"));
    /* 10 panels; two lines for each device in the 7 video ones, two for software in audio */
    assert_int_equal(count(svg, "<polyline"), (int)(7 * 2 * devices + 3 * 2));

    /* --report renders the saved JSON again, the same. */
    char again[1200];
    snprintf(again, sizeof(again), "%s-again", prefix);
    snprintf(path, sizeof(path), "%s.json", prefix);
    const char *rargs[] = {"bench", "--report", path, "--out", again, NULL};
    r = t_run_cli(rargs, NULL);
    assert_int_equal(r.status, 0);
    t_cli_free(&r);
    snprintf(path, sizeof(path), "%s.md", again);
    char *md2 = t_read_all(path, &len);
    assert_non_null(md2);
    /* the same but for the plot's file name */
    char *plot = strstr(md, "!["), *plot2 = strstr(md2, "![");
    assert_non_null(plot);
    assert_non_null(plot2);
    assert_int_equal(plot - md, plot2 - md2);
    assert_memory_equal(md, md2, (size_t)(plot - md));
    assert_non_null(strstr(plot2, "(results-again.svg)"));
    free(md);
    free(md2);
    free(svg);
    json_decref(doc);
}

static void failing_ffmpeg_exits_1(void **state)
{
    (void)state;
    /* The sources exist from short_run: ffmpeg is only run for the comparison, and fails. */
    const char *args[] = {"bench",    "--short",    "--work", work,          "--out",
                          prefix,     "--devices",  "cpu",    "--workloads", "mp3",
                          "--ffmpeg", "/bin/false", NULL};
    t_cli r = t_run_cli(args, NULL);
    assert_int_equal(r.status, 1);
    t_cli_free(&r);
    char path[PATH_ROOM];
    snprintf(path, sizeof(path), "%s.json", prefix);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    json_t *run = run_of(doc, "software", "mp3", 1);
    assert_non_null(run);
    assert_true(json_is_true(json_object_get(json_object_get(run, "mediaconvert"), "ok")));
    json_t *ff = json_object_get(run, "ffmpeg");
    assert_false(json_is_true(json_object_get(ff, "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(ff, "error")), "status 1"));
    assert_null(run_of(doc, "software", "mp3", 2)); /* a failed point ends the workload */
    json_decref(doc);
}

static void bad_options_exit_2(void **state)
{
    (void)state;
    static const char *const cases[][8] = {
        {"bench", "--concurrency", "0", NULL},
        {"bench", "--concurrency", "1,x", NULL},
        {"bench", "--rounds", "99", NULL},
        {"bench", "--workloads", "h264_720p,nope", NULL},
        {"bench", "--devices", "tpu", "--work", work, NULL},
        {"bench", "extra", NULL},
        {"bench", "--report", "/nonexistent.json", NULL},
    };
    static const char *const says[] = {"--concurrency",    "--concurrency", "--rounds",
                                       "\"nope\"",         "tpu",           "usage",
                                       "/nonexistent.json"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        t_cli r = t_run_cli(cases[i], NULL);
        if (r.status != 2 || !strstr(r.err, says[i]))
            fail_msg("case %zu: exit %d, stderr: %s", i, r.status, r.err);
        t_cli_free(&r);
    }
}

int main(void)
{
    const char *base = getenv("MC_BENCH_WORK");
    snprintf(work, sizeof(work), "%s", base && *base ? base : "/tmp/mc-bench-test");
    snprintf(prefix, sizeof(prefix), "%s/results", work);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_options_exit_2),
        cmocka_unit_test(short_run),
        cmocka_unit_test(failing_ffmpeg_exits_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
