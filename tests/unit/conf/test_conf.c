/*
 * The live configuration: loading with command-line overrides, what a reload applies and
 * what it keeps until a restart, refusals that leave nothing built, and snapshots that
 * outlive a swap for as long as a reader holds them (ASan/LSan check the frees).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_conf.h"
#include "mc_log.h"
#include "mc_str.h"
#include "tmpdir.h"

/* Write text to <tmp>/name; returns the path (freed by the caller). */
static char *write_file(const char *name, const char *text)
{
    char *path = mc_asprintf("%s/%s", t_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static mc_conf *load_ok(const mc_conf_args *args)
{
    mc_conf *c = NULL;
    mc_err err = {0};
    int rc = mc_conf_load(args, &c, &err);
    if (rc < 0)
        fail_msg("mc_conf_load: %d %s", rc, err.msg);
    return c;
}

static void load_overrides_win(void **state)
{
    (void)state;
    char *path = write_file("over.ini", "[server]\nlisten = 127.0.0.1:9000\ndata_dir = /srv/a\n"
                                        "region = eu\n[workers]\ncount = 3\n"
                                        "[topics]\nt1 = http://127.0.0.1:1/a\n"
                                        "[notify]\nsecret = s3cret\nmax_attempts = 5\n"
                                        "[log]\nlevel = debug\n");
    mc_conf_args args = {.path = path, .listen = "127.0.0.1:0", .data_dir = "/srv/b", .workers = 5};
    mc_conf *c = load_ok(&args);
    const mc_config *cfg = mc_conf_config(c);
    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 0);
    assert_string_equal(cfg->data_dir, "/srv/b");
    assert_int_equal(cfg->workers, 5);
    assert_int_equal(cfg->log_level, MC_LOG_DEBUG);
    const mc_notify_cfg *n = mc_conf_notify(c);
    assert_int_equal(n->n_topics, 1);
    assert_string_equal(n->topics[0].name, "t1");
    assert_string_equal(n->topics[0].url, "http://127.0.0.1:1/a");
    assert_string_equal(n->secret, "s3cret");
    assert_string_equal(n->region, "eu");
    assert_int_equal(n->max_attempts, 5);
    mc_conf_unref(&c);
    assert_null(c);
    mc_conf_unref(&c); /* NULL is fine */

    /* Without a file: the embedded defaults. */
    mc_conf_args none = {0};
    c = load_ok(&none);
    assert_int_equal(mc_conf_config(c)->listen_port, 8080);
    assert_int_equal(mc_conf_config(c)->log_level, MC_LOG_INFO);
    assert_int_equal(mc_conf_notify(c)->n_topics, 0);
    mc_conf_unref(&c);
    free(path);
}

/* [ffmpeg_api]: the seed's limits by default, each one settable. */
static void ffmpeg_api_settings(void **state)
{
    (void)state;
    mc_conf_args none = {0};
    mc_conf *c = load_ok(&none);
    const mc_config *cfg = mc_conf_config(c);
    assert_string_equal(cfg->ffapi_bucket, "ffmpeg-api");
    assert_string_equal(cfg->ffapi_project, "ffmpeg-api");
    assert_string_equal(cfg->ffapi_allow_hosts, "");
    assert_int_equal(cfg->ffapi_max_upload, 200000000);
    assert_int_equal(cfg->ffapi_max_input, 1000000000);
    assert_int_equal(cfg->ffapi_max_active, 3);
    assert_int_equal(cfg->ffapi_task_timeout_s, 300);
    assert_int_equal(cfg->ffapi_url_expiry_s, 604800);
    mc_conf_unref(&c);
    char *path = write_file("ff.ini", "[ffmpeg_api]\nbucket = media-up\nproject = ff\n"
                                      "allow_hosts = cdn.example.com, 10.0.0.5:8080\n"
                                      "max_upload = 1000\nmax_input = 2000\nmax_active = 0\n"
                                      "task_timeout = 1\nurl_expiry = 3600\n");
    mc_conf_args args = {.path = path};
    c = load_ok(&args);
    cfg = mc_conf_config(c);
    assert_string_equal(cfg->ffapi_bucket, "media-up");
    assert_string_equal(cfg->ffapi_project, "ff");
    assert_string_equal(cfg->ffapi_allow_hosts, "cdn.example.com, 10.0.0.5:8080");
    assert_int_equal(cfg->ffapi_max_upload, 1000);
    assert_int_equal(cfg->ffapi_max_input, 2000);
    assert_int_equal(cfg->ffapi_max_active, 0);
    assert_int_equal(cfg->ffapi_task_timeout_s, 1);
    assert_int_equal(cfg->ffapi_url_expiry_s, 3600);
    mc_conf_unref(&c);
    free(path);
    path = write_file("ff.ini", "[ffmpeg_api]\ntask_timeout = 0\n");
    mc_conf_args bad = {.path = path};
    mc_err err = {0};
    assert_int_equal(mc_conf_load(&bad, &c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "ff.ini:2: [ffmpeg_api] task_timeout"));
    free(path);
}

static void load_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
        int rc;
    } cases[] = {
        {"[keys]\nAK = s\n[limits]\ntask_timeout = 0\n", "bad.ini:4: [limits] task_timeout",
         -EINVAL},
        {"[log]\nlevel = loud\n", "bad.ini:2: [log] level = \"loud\"; allowed: error", -EINVAL},
        {"[projects]\np =\n[nonsense]\nx = 1\n", "bad.ini:4: unknown setting [nonsense] x",
         -EINVAL},
        {"[server]\nlisten = 0.0.0.0:8080\n", "refusing to serve 0.0.0.0 without access keys",
         -EPERM},
        {"[limits]\nproject_running_max = -1\n", "bad.ini:2: [limits] project_running_max",
         -EINVAL},
        {"[project_limits]\np = 1\nq = many\n",
         "bad.ini:3: [project_limits] q = \"many\"; allowed: an integer from 0 to 100000", -EINVAL},
        {"[oss_buckets]\nb1 = p\nb2 =\n", "bad.ini:3: [oss_buckets] b2 has no project", -EINVAL},
        {"[oss]\nsync_timeout = 0\n",
         "bad.ini:2: [oss] sync_timeout = \"0\"; allowed: an integer "
         "from 1 to 3600",
         -EINVAL},
        {"[oss]\nsync_max = 0\n", "bad.ini:2: [oss] sync_max", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_file("bad.ini", cases[i].text);
        mc_conf_args args = {.path = path};
        mc_conf *c = NULL;
        mc_err err = {0};
        assert_int_equal(mc_conf_load(&args, &c, &err), cases[i].rc);
        assert_null(c);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        free(path);
    }
    mc_conf_args missing = {.path = "/nonexistent/mediaconvertd.ini"};
    mc_conf *c = NULL;
    mc_err err = {0};
    assert_int_equal(mc_conf_load(&missing, &c, &err), -ENOENT);
    assert_null(c);
    assert_non_null(strstr(err.msg, "/nonexistent/mediaconvertd.ini: cannot open"));
}

static void reload_keeps_restart_only(void **state)
{
    (void)state;
    char *path = write_file("r.ini", "[server]\nlisten = 0.0.0.0:8080\ndata_dir = /srv/a\n"
                                     "http_threads = 4\n[keys]\nAK1 = one\n[auth]\nmax_skew = 900\n"
                                     "[workers]\ncount = 2\n[limits]\ntask_timeout = 100\n"
                                     "[projects]\np =\n[topics]\nt = http://h/1\n");
    mc_conf_args args = {.path = path};
    mc_conf *cur = load_ok(&args);
    char *path2 = write_file(
        "r.ini", "[server]\nlisten = 127.0.0.1:9999\ndata_dir = /srv/b\nhttp_threads = 8\n"
                 "region = eu\n[keys]\nAK2 = two\n[auth]\nmax_skew = 60\n[workers]\ncount = 6\n"
                 "[limits]\ntask_timeout = 200\nqueue_max = 5\nmax_attempts = 9\n"
                 "shutdown_grace = 7\n[retention]\ndays = 2\n[projects]\np =\nq = new\n"
                 "[topics]\nt = http://h/2\nu = http://h/3\n[notify]\nsecret = x\n"
                 "[log]\nlevel = warning\n");
    mc_conf *next = NULL;
    mc_err err = {0};
    char kept[256] = "junk";
    assert_int_equal(mc_conf_reload(&args, cur, &next, kept, sizeof(kept), &err), 0);
    assert_string_equal(kept, "[server] listen, [server] data_dir, [server] http_threads, "
                              "[auth] max_skew, [workers] count, [limits] queue_max, "
                              "[limits] max_attempts");
    const mc_config *n = mc_conf_config(next);
    /* kept: what the running service was started with */
    assert_string_equal(n->listen_host, "0.0.0.0");
    assert_int_equal(n->listen_port, 8080);
    assert_string_equal(n->data_dir, "/srv/a");
    assert_int_equal(n->http_threads, 4);
    assert_int_equal(n->max_skew_s, 900);
    assert_int_equal(n->workers, 2);
    assert_int_equal(n->queue_max, 100000);
    assert_int_equal(n->max_attempts, 3);
    /* applied */
    assert_null(mc_config_secret(n, "AK1"));
    assert_string_equal(mc_config_secret(n, "AK2"), "two");
    assert_int_equal(n->task_timeout_s, 200);
    assert_int_equal(n->shutdown_grace_s, 7);
    assert_int_equal(n->retention_days, 2);
    assert_int_equal(n->n_projects, 2);
    assert_int_equal(n->log_level, MC_LOG_WARN);
    const mc_notify_cfg *nn = mc_conf_notify(next);
    assert_int_equal(nn->n_topics, 2);
    assert_string_equal(nn->topics[0].url, "http://h/2");
    assert_string_equal(nn->secret, "x");
    assert_string_equal(nn->region, "eu");
    /* the old snapshot is untouched */
    assert_string_equal(mc_config_secret(mc_conf_config(cur), "AK1"), "one");
    assert_string_equal(mc_conf_notify(cur)->topics[0].url, "http://h/1");
    mc_conf_unref(&next);

    /* The command line wins over the file at a reload as at start: a --listen that did not
     * change is no difference, whatever the file says. */
    mc_conf_args over = {
        .path = path, .listen = "0.0.0.0:8080", .data_dir = "/srv/a", .workers = 2};
    assert_int_equal(mc_conf_reload(&over, cur, &next, kept, sizeof(kept), &err), 0);
    assert_string_equal(kept, "[server] http_threads, [auth] max_skew, [limits] queue_max, "
                              "[limits] max_attempts");
    mc_conf_unref(&next);
    mc_conf_unref(&cur);
    free(path);
    free(path2);
}

/* [limits] project_running_max and [project_limits] become the store's claim options, and a
 * reload applies them (the scheduler reads them at each claim). */
static void project_limits_view(void **state)
{
    (void)state;
    mc_conf_args none = {0};
    mc_conf *c = load_ok(&none);
    const mc_db_claim_opts *o = mc_conf_claim(c);
    assert_int_equal(o->running_max, 0);
    assert_int_equal(o->n_limits, 0);
    mc_conf_unref(&c);

    char *path = write_file("pl.ini", "[limits]\nproject_running_max = 2\n"
                                      "[project_limits]\nbig = 5\nfree = 0\nbig = 6\n");
    mc_conf_args args = {.path = path};
    mc_conf *cur = load_ok(&args);
    o = mc_conf_claim(cur);
    assert_int_equal(o->running_max, 2);
    assert_int_equal(o->n_limits, 2);
    assert_string_equal(o->limits[0].project, "big");
    assert_int_equal(o->limits[0].running_max, 6); /* the last line wins */
    assert_string_equal(o->limits[1].project, "free");
    assert_int_equal(o->limits[1].running_max, 0);

    char *path2 = write_file("pl.ini", "[limits]\nproject_running_max = 1\n"
                                       "[project_limits]\nsmall = 3\n");
    mc_conf *next = NULL;
    mc_err err = {0};
    char kept[256] = "junk";
    assert_int_equal(mc_conf_reload(&args, cur, &next, kept, sizeof(kept), &err), 0);
    assert_string_equal(kept, "");
    o = mc_conf_claim(next);
    assert_int_equal(o->running_max, 1);
    assert_int_equal(o->n_limits, 1);
    assert_string_equal(o->limits[0].project, "small");
    assert_int_equal(o->limits[0].running_max, 3);
    assert_int_equal(mc_conf_claim(cur)->n_limits, 2); /* the old snapshot is untouched */
    mc_conf_unref(&next);
    mc_conf_unref(&cur);
    free(path);
    free(path2);
}

/* [oss_buckets] attaches buckets to IMM projects, [oss] bounds the synchronous processing;
 * a reload applies both (they are read per request). */
static void oss_buckets_view(void **state)
{
    (void)state;
    mc_conf_args none = {0};
    mc_conf *c = load_ok(&none);
    assert_null(mc_config_oss_project(mc_conf_config(c), "media"));
    assert_int_equal(mc_conf_config(c)->oss_sync_timeout_s, 30);
    assert_int_equal(mc_conf_config(c)->oss_sync_max, 2);
    mc_conf_unref(&c);

    char *path = write_file("ob.ini", "[oss_buckets]\nmedia = proj-a\nother = proj-b\n"
                                      "media = proj-c\n[oss]\nsync_timeout = 5\nsync_max = 7\n");
    mc_conf_args args = {.path = path};
    mc_conf *cur = load_ok(&args);
    const mc_config *cfg = mc_conf_config(cur);
    assert_string_equal(mc_config_oss_project(cfg, "media"), "proj-c"); /* the last line wins */
    assert_string_equal(mc_config_oss_project(cfg, "other"), "proj-b");
    assert_null(mc_config_oss_project(cfg, "none"));
    assert_null(mc_config_oss_project(cfg, NULL));
    assert_int_equal(cfg->oss_sync_timeout_s, 5);
    assert_int_equal(cfg->oss_sync_max, 7);

    char *path2 = write_file("ob.ini", "[oss_buckets]\nother = proj-d\n");
    mc_conf *next = NULL;
    mc_err err = {0};
    char kept[256] = "junk";
    assert_int_equal(mc_conf_reload(&args, cur, &next, kept, sizeof(kept), &err), 0);
    assert_string_equal(kept, "");
    assert_null(mc_config_oss_project(mc_conf_config(next), "media"));
    assert_string_equal(mc_config_oss_project(mc_conf_config(next), "other"), "proj-d");
    assert_int_equal(mc_conf_config(next)->oss_sync_timeout_s, 30);
    assert_string_equal(mc_config_oss_project(cfg, "other"), "proj-b"); /* old one untouched */
    mc_conf_unref(&next);
    mc_conf_unref(&cur);
    free(path);
    free(path2);
}

static void reload_refusals_build_nothing(void **state)
{
    (void)state;
    char *path = write_file("f.ini", "[server]\nlisten = 0.0.0.0:8080\n[keys]\nAK1 = one\n");
    mc_conf_args args = {.path = path};
    mc_conf *cur = load_ok(&args);
    mc_conf *next = NULL;
    char kept[64] = "untouched";

    /* An error half-way: the keys before it are not applied anywhere. */
    free(write_file("f.ini", "[keys]\nAK2 = two\n[limits]\ntask_timeout = soon\n"));
    mc_err err = {0};
    assert_int_equal(mc_conf_reload(&args, cur, &next, kept, sizeof(kept), &err), -EINVAL);
    assert_null(next);
    assert_string_equal(kept, "untouched");
    assert_non_null(strstr(err.msg, "f.ini:4: [limits] task_timeout"));
    assert_null(mc_config_secret(mc_conf_config(cur), "AK2"));

    /* Every key removed while the running service listens beyond loopback (the file's own
     * listen line does not matter: the running one is kept). */
    free(write_file("f.ini", "[server]\nlisten = 127.0.0.1:8080\n"));
    mc_err_clear(&err);
    assert_int_equal(mc_conf_reload(&args, cur, &next, kept, sizeof(kept), &err), -EPERM);
    assert_null(next);
    assert_non_null(strstr(err.msg, "refusing to serve 0.0.0.0 without access keys"));

    /* The file gone. */
    char *gone = mc_asprintf("%s/gone.ini", t_tmpdir());
    mc_conf_args gargs = {.path = gone};
    mc_err_clear(&err);
    assert_int_equal(mc_conf_reload(&gargs, cur, &next, kept, sizeof(kept), &err), -ENOENT);
    assert_null(next);
    mc_conf_unref(&cur);
    free(gone);
    free(path);
}

static void projects_created_once(void **state)
{
    (void)state;
    char *dbp = mc_asprintf("%s/p.db", t_tmpdir());
    mc_db *db = NULL;
    mc_err err = {0};
    assert_int_equal(mc_db_open(dbp, NULL, &db, &err), 0);
    char *path = write_file("p.ini", "[projects]\na = first\nb =\n");
    mc_conf_args args = {.path = path};
    mc_conf *c = load_ok(&args);
    int created = -1;
    assert_int_equal(mc_conf_create_projects(c, db, &created, &err), 0);
    assert_int_equal(created, 2);
    mc_project p = {0};
    assert_int_equal(mc_db_project_get(db, "a", &p, &err), 0);
    assert_string_equal(p.description, "first");
    mc_project_clear(&p);
    assert_int_equal(mc_db_project_get(db, "b", &p, &err), 0);
    assert_null(p.description);
    mc_project_clear(&p);
    mc_conf_unref(&c);

    /* a reload: b dropped from the file, c added: c is made, b stays */
    free(write_file("p.ini", "[projects]\na = first\nc =\n"));
    c = load_ok(&args);
    assert_int_equal(mc_conf_create_projects(c, db, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(mc_db_project_get(db, "c", &p, &err), 0);
    mc_project_clear(&p);
    assert_int_equal(mc_db_project_get(db, "b", &p, &err), 0);
    mc_project_clear(&p);
    mc_conf_unref(&c);
    mc_db_close(&db);
    free(path);
    free(dbp);
}

/* A snapshot stays whole for a reader that holds it across a swap. */
static void live_swap_keeps_readers_snapshot(void **state)
{
    (void)state;
    char *path = write_file("l.ini", "[keys]\nAK1 = one\n");
    mc_conf_args args = {.path = path};
    mc_conf_live *live = NULL;
    assert_int_equal(mc_conf_live_new(load_ok(&args), &live), 0);
    mc_conf *held = mc_conf_live_get(live);
    free(write_file("l.ini", "[keys]\nAK2 = two\n"));
    mc_conf_live_set(live, load_ok(&args));
    /* the old one is still readable (ASan would catch a free) */
    assert_string_equal(mc_config_secret(mc_conf_config(held), "AK1"), "one");
    mc_conf *now = mc_conf_live_get(live);
    assert_null(mc_config_secret(mc_conf_config(now), "AK1"));
    assert_string_equal(mc_config_secret(mc_conf_config(now), "AK2"), "two");
    mc_conf_unref(&held); /* the last reference to the old one: freed here */
    mc_conf_unref(&now);
    mc_conf_live_free(&live);
    assert_null(live);
    mc_conf_live_free(&live);
    free(path);
}

typedef struct reader_arg {
    mc_conf_live *live;
    atomic_bool *stop;
    long reads, bad;
} reader_arg;

/* Takes and drops references while the main thread swaps; every snapshot seen must be
 * whole: the key's secret is the key's name reversed. */
static void *reader(void *opaque)
{
    reader_arg *a = opaque;
    while (!atomic_load(a->stop)) {
        mc_conf *c = mc_conf_live_get(a->live);
        const mc_config *cfg = mc_conf_config(c);
        if (cfg->n_keys != 1 || strlen(cfg->keys[0].name) != 2 ||
            cfg->keys[0].value[0] != cfg->keys[0].name[1] ||
            cfg->keys[0].value[1] != cfg->keys[0].name[0])
            a->bad++;
        a->reads++;
        mc_conf_unref(&c);
    }
    return NULL;
}

static mc_conf *keyed(int i)
{
    char text[64];
    snprintf(text, sizeof(text), "[keys]\n%c%c = %c%c\n", 'a' + i % 26, 'A' + i % 7, 'A' + i % 7,
             'a' + i % 26);
    char *path = write_file("k.ini", text);
    mc_conf_args args = {.path = path};
    mc_conf *c = load_ok(&args);
    free(path);
    return c;
}

static void live_concurrent_swaps(void **state)
{
    (void)state;
    mc_conf_live *live = NULL;
    assert_int_equal(mc_conf_live_new(keyed(0), &live), 0);
    atomic_bool stop;
    atomic_init(&stop, false);
    reader_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (reader_arg){.live = live, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
    }
    for (int i = 1; i <= 300; i++)
        mc_conf_live_set(live, keyed(i));
    atomic_store(&stop, true);
    long reads = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].bad, 0);
        reads += args[i].reads;
    }
    print_message("%ld reads across 300 swaps\n", reads);
    assert_true(reads > 0);
    mc_conf_live_free(&live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_overrides_win),
        cmocka_unit_test(ffmpeg_api_settings),
        cmocka_unit_test(load_errors_name_the_line),
        cmocka_unit_test(reload_keeps_restart_only),
        cmocka_unit_test(project_limits_view),
        cmocka_unit_test(oss_buckets_view),
        cmocka_unit_test(reload_refusals_build_nothing),
        cmocka_unit_test(projects_created_once),
        cmocka_unit_test(live_swap_keeps_readers_snapshot),
        cmocka_unit_test(live_concurrent_swaps),
    };
    return cmocka_run_group_tests(tests, t_tmpdir_group_setup, t_tmpdir_group_teardown);
}
