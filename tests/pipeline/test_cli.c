/*
 * The mediaconvert program as a user runs it: exit status (0 ok, 1 task failed, 2 invalid
 * request), result JSON on stdout, progress and errors on stderr.
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

#include "support.h"

static void run_succeeds(void **state)
{
    (void)state;
    const char *req =
        "{\"ProjectName\":\"cli\",\"Sources\":[{\"URI\":\"oss://fixtures/tone.wav\"}],"
        "\"Targets\":[{\"URI\":\"oss://output/cli/tone\",\"Container\":\"mp3\"}]}";
    const char *args[] = {"run", "--store", t_store(), "-", NULL};
    t_cli r = t_run_cli(args, req);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    assert_non_null(j);
    json_t *outs = json_object_get(j, "outputs");
    assert_int_equal(json_array_size(outs), 1);
    json_t *o = json_array_get(outs, 0);
    assert_string_equal(json_string_value(json_object_get(o, "uri")), "oss://output/cli/tone.mp3");
    assert_string_equal(json_string_value(json_object_get(o, "container")), "mp3");
    assert_true(json_real_value(json_object_get(o, "duration")) > 2.9);
    assert_true(json_integer_value(json_object_get(o, "size")) > 10000);
    json_t *s = json_array_get(json_object_get(o, "streams"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "codec")), "mp3");
    assert_int_equal(json_integer_value(json_object_get(s, "sample_rate")), 44100);
    json_decref(j);
    /* stderr is not a terminal here: plain percentage lines, ending at 100 % */
    assert_non_null(strstr(r.err, "progress: 100%"));
    assert_true(t_exists(t_path("output/cli/tone.mp3")));
    t_cli_free(&r);
}

static void invalid_request_exits_2(void **state)
{
    (void)state;
    const char *args[] = {"run", "--store", t_store(), "-", NULL};
    t_cli r = t_run_cli(args, "{\"ProjectName\":\"cli\",\"Sources\":[");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "InvalidJSON"));
    assert_string_equal(r.out, "");
    t_cli_free(&r);

    r = t_run_cli(args,
                  "{\"ProjectName\":\"cli\",\"Sources\":[{\"URI\":\"oss://fixtures/tone.wav\"}],"
                  "\"Targets\":[{\"URI\":\"oss://output/x.mp3\",\"Container\":\"mp3\","
                  "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"mp3\",\"SampleRate\":96000}}}]}");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "InvalidArgument"));
    assert_non_null(strstr(r.err, "Targets[0].Audio.TranscodeAudio.SampleRate"));
    t_cli_free(&r);

    const char *bad[] = {"frobnicate", "x", NULL};
    r = t_run_cli(bad, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage:"));
    t_cli_free(&r);
}

static void failed_task_exits_1(void **state)
{
    (void)state;
    const char *args[] = {"run", "--store", t_store(), "-", NULL};
    t_cli r = t_run_cli(
        args, "{\"ProjectName\":\"cli\",\"Sources\":[{\"URI\":\"oss://fixtures/none.wav\"}],"
              "\"Targets\":[{\"URI\":\"oss://output/x.mp3\",\"Container\":\"mp3\"}]}");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "ResourceNotFound"));
    assert_non_null(strstr(r.err, "Sources[0].URI"));
    assert_string_equal(r.out, "");
    t_cli_free(&r);
}

static void probe(void **state)
{
    (void)state;
    const char *args[] = {"probe", "--store", t_store(), "oss://fixtures/rotated.mp4", NULL};
    t_cli r = t_run_cli(args, NULL);
    assert_int_equal(r.status, 0);
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    assert_non_null(j);
    assert_true(json_real_value(json_object_get(j, "duration")) > 2.9);
    json_t *v = json_array_get(json_object_get(j, "streams"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "codec")), "h264");
    assert_int_equal(json_integer_value(json_object_get(v, "width")), 320);
    assert_int_not_equal(json_integer_value(json_object_get(v, "rotation")), 0);
    json_t *a = json_array_get(json_object_get(j, "streams"), 1);
    assert_int_equal(json_integer_value(json_object_get(a, "channels")), 2);
    json_decref(j);
    t_cli_free(&r);

    const char *missing[] = {"probe", "/nonexistent/file.mp4", NULL};
    r = t_run_cli(missing, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "ResourceNotFound"));
    t_cli_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_succeeds),
        cmocka_unit_test(invalid_request_exits_2),
        cmocka_unit_test(failed_task_exits_1),
        cmocka_unit_test(probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
