/*
 * Authentication end to end: a daemon with access keys accepts requests signed the way the
 * official clients sign them (ACS3-HMAC-SHA256 and the legacy V2 HMAC-SHA1) and refuses the
 * rest with the gateway's codes. Without keys it refuses to listen beyond loopback.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"

static e2e_daemon D;
static const e2e_key K3 = {
    .id = "LTAI5tDummyAccessKeyId01", .secret = "DummyAccessKeySecret0123456789ab", .v2 = false};
static const e2e_key K2 = {
    .id = "LTAI5tDummyAccessKeyId01", .secret = "DummyAccessKeySecret0123456789ab", .v2 = true};
static const e2e_key WRONG = {
    .id = "LTAI5tDummyAccessKeyId01", .secret = "not-the-secret", .v2 = false};
static const e2e_key WRONG2 = {
    .id = "LTAI5tDummyAccessKeyId01", .secret = "not-the-secret", .v2 = true};
static const e2e_key UNKNOWN = {.id = "LTAInobody", .secret = "whatever", .v2 = false};

static int setup(void **state)
{
    (void)state;
    e2e_daemon_init(&D, "auth");
    snprintf(D.config, sizeof(D.config),
             "[keys]\nLTAI5tDummyAccessKeyId01 = DummyAccessKeySecret0123456789ab\n"
             "[projects]\nimmtest =\n");
    return e2e_daemon_start(&D);
}

static int teardown(void **state)
{
    (void)state;
    if (D.pid > 0)
        e2e_daemon_stop(&D, SIGKILL);
    return 0;
}

static void test_shutdown(void **state)
{
    (void)state;
    int st = e2e_daemon_stop(&D, SIGTERM);
    if (st != 0)
        e2e_daemon_dump_log(&D);
    assert_int_equal(st, 0);
}

static const char *code_of(e2e_resp *r)
{
    const char *s = json_string_value(json_object_get(r->body, "Code"));
    return s ? s : "";
}

static void expect(const e2e_key *key, long status, const char *code)
{
    e2e_resp r;
    assert_int_equal(e2e_imm(&D, key, "GetProject", &r, "ProjectName", "immtest", NULL), 0);
    if (r.status != status)
        fprintf(stderr, "got %ld %s\n", r.status, r.raw);
    assert_int_equal(r.status, status);
    if (code)
        assert_string_equal(code_of(&r), code);
    e2e_resp_clear(&r);
}

static void test_signed(void **state)
{
    (void)state;
    expect(&K3, 200, NULL);
    expect(&K2, 200, NULL);
    /* Characters the canonical query re-encodes survive signing. */
    e2e_resp r;
    assert_int_equal(e2e_imm(&D, &K3, "ListTasks", &r, "ProjectName", "immtest", "TagSelector",
                             "note=\xc3\xa4 + / ? & = * ( ) ' ! ~", NULL),
                     0);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
}

static void test_refused(void **state)
{
    (void)state;
    expect(NULL, 400, "IncompleteSignature");
    expect(&WRONG, 400, "SignatureDoesNotMatch");
    expect(&WRONG2, 400, "SignatureDoesNotMatch");
    expect(&UNKNOWN, 404, "InvalidAccessKeyId.NotFound");
}

/* A task created with a key counts in that key's usage on /metrics (IMM tasks carry no
 * credits). */
static void test_usage_per_key(void **state)
{
    (void)state;
    assert_int_equal(e2e_put_fixture(&D, "tone.wav", "media/tone.wav"), 0);
    e2e_resp r;
    assert_int_equal(e2e_imm(&D, &K3, "CreateMediaConvertTask", &r, "ProjectName", "immtest",
                             "Sources", "[{\"URI\":\"oss://media/tone.wav\"}]", "Targets",
                             "[{\"URI\":\"oss://out/tone.mp3\",\"Container\":\"mp3\"}]", NULL),
                     0);
    if (r.status != 200)
        fprintf(stderr, "got %ld %s\n", r.status, r.raw);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    assert_int_equal(e2e_http(&D, "GET", "/metrics", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "mediaconvertd_metered_tasks_total{key=\"LTAI5tDummyAccessKeyId01"
                                  "\",dialect=\"imm\"} 1\n"));
    assert_non_null(strstr(r.raw,
                           "mediaconvertd_credits_charged_total{key=\"LTAI5tDummyAccessKeyId01"
                           "\",dialect=\"imm\"} 0\n"));
    e2e_resp_clear(&r);
}

/* Replays and stale clocks. */
static void test_replay_and_skew(void **state)
{
    (void)state;
    e2e_key fixed = K3, fixed2 = K2, stale = K3, stale2 = K2, near = K3;
    fixed.nonce = "0123456789abcdef0123456789abcdef";
    fixed2.nonce = "fedcba9876543210fedcba9876543210";
    stale.date_offset_s = -3600;
    stale2.date_offset_s = 3600;
    near.date_offset_s = -600; /* within the 15 minutes allowed */
    expect(&fixed, 200, NULL);
    expect(&fixed, 400, "SignatureNonceUsed");
    expect(&fixed2, 200, NULL);
    expect(&fixed2, 400, "SignatureNonceUsed");
    expect(&stale, 400, "InvalidTimeStamp.Expired");
    expect(&stale2, 400, "InvalidTimeStamp.Expired");
    expect(&near, 200, NULL);
    /* A forged request does not burn the nonce of a real one. */
    e2e_key forged = WRONG, real = K3;
    forged.nonce = real.nonce = "aaaabbbbccccddddaaaabbbbccccdddd";
    expect(&forged, 400, "SignatureDoesNotMatch");
    expect(&real, 200, NULL);
}

/* A V2 signature covers the parameters only: an added x-acs-action header must not turn a
 * signed GetProject into a DeleteProject. */
static void test_v2_action_is_the_signed_one(void **state)
{
    (void)state;
    e2e_key swapped = K2;
    swapped.extra_header = "x-acs-action: DeleteProject";
    expect(&swapped, 400, "InvalidArgument");
    expect(&K2, 200, NULL); /* the project is still there */
}

static void test_open_without_keys_refused(void **state)
{
    (void)state;
    e2e_daemon o;
    e2e_daemon_init(&o, "open");
    pid_t pid = fork();
    if (pid == 0) {
        char cfg[700];
        snprintf(cfg, sizeof(cfg), "%s/empty.ini", o.dir);
        FILE *f = fopen(cfg, "w");
        if (f)
            fclose(f);
        freopen("/dev/null", "w", stderr);
        execl(getenv("MC_DAEMON"), "mediaconvertd", "--config", cfg, "--listen", "0.0.0.0:0",
              "--data-dir", o.dir, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_usage_per_key),
        cmocka_unit_test(test_replay_and_skew),
        cmocka_unit_test(test_v2_action_is_the_signed_one),
        cmocka_unit_test(test_open_without_keys_refused),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
