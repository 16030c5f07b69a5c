#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mc_err.h"
#include "mc_log.h"
#include "mc_str.h"

static void err_keeps_first(void **state)
{
    (void)state;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_err_set(&err, -EINVAL, NULL, "first %d", 1), -EINVAL);
    assert_int_equal(mc_err_set(&err, MC_EJSON, NULL, "second"), MC_EJSON);
    assert_int_equal(err.rc, -EINVAL);
    assert_string_equal(err.code, "InvalidArgument");
    assert_string_equal(err.msg, "first 1");
}

static void err_code_table(void **state)
{
    (void)state;
    assert_string_equal(mc_err_code_for(MC_EJSON), "InvalidJSON");
    assert_string_equal(mc_err_code_for(MC_ELIMIT), "LimitExceededError");
    assert_string_equal(mc_err_code_for(-ENOENT), "ResourceNotFound");
    assert_string_equal(mc_err_code_for(-12345), "InternalError");
    mc_err err;
    mc_err_clear(&err);
    mc_err_set(&err, MC_EMISSING, "MissingProjectName", "ProjectName is required");
    assert_string_equal(err.code, "MissingProjectName");
    /* A NULL error buffer is allowed and the code still comes back. */
    assert_int_equal(mc_err_set(NULL, -EIO, NULL, "x"), -EIO);
}

static void buf_grows(void **state)
{
    (void)state;
    mc_buf b = {0};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(mc_buf_printf(&b, "%d,", i), 0);
    assert_true(mc_str_starts_with(b.data, "0,1,2,"));
    assert_true(mc_str_ends_with(b.data, "998,999,"));
    assert_int_equal(b.len, strlen(b.data));
    char *s = mc_buf_steal(&b);
    assert_non_null(s);
    assert_null(b.data);
    free(s);
    char *t = mc_asprintf("%s-%03d", "x", 7);
    assert_string_equal(t, "x-007");
    mc_freep(&t);
    assert_null(t);
}

/* The journal fields of a log line: whole words only, the first of each key, values cut. */
static void log_fields(void **state)
{
    (void)state;
    mc_log_field f[3];
    assert_int_equal(
        mc_log_fields("task=MediaConvert-1a2b project=demo finished state=Succeeded in 1.20s", f),
        2);
    assert_string_equal(f[0].name, "TASK_ID");
    assert_string_equal(f[0].value, "MediaConvert-1a2b");
    assert_string_equal(f[1].name, "PROJECT");
    assert_string_equal(f[1].value, "demo");
    assert_int_equal(mc_log_fields("notify: delivered task=T1 url=http://h/ device=cuda:0 "
                                   "task=T2",
                                   f),
                     2);
    assert_string_equal(f[0].value, "T1");
    assert_string_equal(f[1].name, "DEVICE");
    assert_string_equal(f[1].value, "cuda:0");
    assert_int_equal(mc_log_fields("subtask=x project= listening on http://127.0.0.1", f), 0);
    char big[400] = "task=";
    memset(big + 5, 'a', 300);
    assert_int_equal(mc_log_fields(big, f), 1);
    assert_int_equal(strlen(f[0].value), 127);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(err_keeps_first),
        cmocka_unit_test(err_code_table),
        cmocka_unit_test(buf_grows),
        cmocka_unit_test(log_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
