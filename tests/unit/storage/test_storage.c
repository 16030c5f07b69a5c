/*
 * Unit tests of the storage module: URI resolution, atomic output files, URI templates.
 * Everything happens in a fresh folder under $MC_TEST_TMP, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc_err.h"
#include "mc_storage.h"
#include "mc_str.h"

static mc_store *g_store;

/* ---- helpers ---- */

static int group_setup(void **state)
{
    (void)state;
    if (t_tmpdir_make("storage") < 0)
        return -1;
    char *root = mc_asprintf("%s/store", t_tmpdir());
    mc_err err;
    mc_err_clear(&err);
    int rc = root ? mc_store_open(root, &g_store, &err) : -ENOMEM;
    free(root);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    mc_store_free(&g_store);
    return t_tmpdir_remove();
}

/* A path under this run's folder; the caller frees it. */
static char *tmp_path(const char *rel)
{
    char *p = mc_asprintf("%s/%s", t_tmpdir(), rel);
    assert_non_null(p);
    return p;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* The whole content of a small file, in a static buffer. */
static const char *read_file(const char *path)
{
    static char buf[4096];
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Number of entries of folder `path`, "." and ".." aside. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- the store ---- */

static void store_open_creates_canonical_root(void **state)
{
    (void)state;
    mc_store *store = NULL;
    mc_err err;
    mc_err_clear(&err);
    char *messy = tmp_path("roots/./a//b/store");
    char *clean = tmp_path("roots/a/b/store");
    char *real_tmp = realpath(t_tmpdir(), NULL);
    char *want = mc_asprintf("%s/roots/a/b/store", real_tmp);

    assert_false(exists(clean));
    assert_int_equal(mc_store_open(messy, &store, &err), 0);
    assert_int_equal(err.rc, 0);
    assert_true(exists(clean));
    assert_string_equal(mc_store_root(store), want);
    /* Opening an existing root works too. */
    mc_store *again = NULL;
    assert_int_equal(mc_store_open(clean, &again, &err), 0);
    assert_string_equal(mc_store_root(again), want);

    mc_store_free(&store);
    mc_store_free(&again);
    assert_null(store);
    mc_store_free(&store);
    mc_store_free(NULL);
    assert_null(mc_store_root(NULL));
    free(messy);
    free(clean);
    free(real_tmp);
    free(want);
}

static void store_open_on_a_file_fails(void **state)
{
    (void)state;
    char *file = tmp_path("plainfile");
    char *under = tmp_path("plainfile/store");
    write_file(file, "x");
    mc_store *store = (mc_store *)(uintptr_t)0x1;
    mc_err err;
    mc_err_clear(&err);

    assert_int_equal(mc_store_open(under, &store, &err), -ENOTDIR);
    assert_ptr_equal(store, (mc_store *)(uintptr_t)0x1);
    assert_string_equal(err.code, "InternalError");
    assert_non_null(strstr(err.msg, under));

    mc_err_clear(&err);
    assert_int_equal(mc_store_open("", &store, &err), -EINVAL);
    assert_string_equal(err.code, "InvalidArgument");
    free(file);
    free(under);
}

/* ---- URI resolution ---- */

static void expect_oss(const char *uri, const char *bucket, const char *key)
{
    mc_uri u;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_uri_resolve(g_store, uri, 0, "URI", &u, &err), 0);
    assert_int_equal(err.rc, 0);
    assert_int_equal(u.scheme, MC_URI_OSS);
    assert_string_equal(u.bucket, bucket);
    assert_string_equal(u.key, key);
    char *path = mc_asprintf("%s/%s/%s", mc_store_root(g_store), bucket, key);
    assert_string_equal(u.path, path);
    free(path);
    mc_uri_clear(&u);
    assert_null(u.bucket);
    assert_null(u.key);
    assert_null(u.path);
}

static void resolve_ok(void **state)
{
    (void)state;
    expect_oss("oss://my-bucket/a.mp4", "my-bucket", "a.mp4");
    expect_oss("oss://b0b/x/y/z/file name (1).mp4", "b0b", "x/y/z/file name (1).mp4");
    expect_oss("oss://bkt/视频/café/ファイル.mp4", "bkt", "视频/café/ファイル.mp4");
    expect_oss("oss://bkt/emoji-\xf0\x9f\x8e\xac.mp4", "bkt", "emoji-\xf0\x9f\x8e\xac.mp4");
    /* Dots are fine inside names; only whole "." and ".." segments are refused. */
    expect_oss("oss://bkt/..a/a..b/.hidden/x.", "bkt", "..a/a..b/.hidden/x.");
    expect_oss("oss://abc/k", "abc", "k");
    expect_oss("oss://0-9/k", "0-9", "k");

    char bucket[MC_BUCKET_MAX + 1];
    memset(bucket, 'b', MC_BUCKET_MAX);
    bucket[MC_BUCKET_MAX] = '\0';
    char *uri = mc_asprintf("oss://%s/k", bucket);
    expect_oss(uri, bucket, "k");
    free(uri);

    /* A key of exactly 1023 bytes, in segments of 200. */
    char key[MC_KEY_MAX + 1];
    memset(key, 'k', MC_KEY_MAX);
    for (int i = 200; i < MC_KEY_MAX; i += 201)
        key[i] = '/';
    key[MC_KEY_MAX] = '\0';
    uri = mc_asprintf("oss://bkt/%s", key);
    expect_oss(uri, "bkt", key);
    free(uri);
}

static void resolve_file(void **state)
{
    (void)state;
    mc_uri u;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(
        mc_uri_resolve(g_store, "file:///srv/media/in put.mp4", MC_URI_ALLOW_FILE, "in", &u, &err),
        0);
    assert_int_equal(u.scheme, MC_URI_FILE);
    assert_null(u.bucket);
    assert_string_equal(u.key, "/srv/media/in put.mp4");
    assert_string_equal(u.path, "/srv/media/in put.mp4");
    mc_uri_clear(&u);
    /* The CLI may have no store at all for local files. */
    assert_int_equal(mc_uri_resolve(NULL, "file:///x.mp4", MC_URI_ALLOW_FILE, "in", &u, &err), 0);
    assert_string_equal(u.path, "/x.mp4");
    mc_uri_clear(&u);
    mc_uri_clear(NULL);
}

struct reject_case {
    const char *uri;
    unsigned flags;
    const char *why; /* a piece of the expected message */
};

static void resolve_rejects(void **state)
{
    (void)state;
    static const struct reject_case cases[] = {
        {"oss://bkt/../x", 0, "'.' and '..'"},
        {"oss://bkt/a/../../x", 0, "'.' and '..'"},
        {"oss://bkt/a/..", 0, "'.' and '..'"},
        {"oss://bkt/..", 0, "'.' and '..'"},
        {"oss://bkt/.", 0, "'.' and '..'"},
        {"oss://bkt/a/./b", 0, "'.' and '..'"},
        {"oss://bkt/a//b", 0, "empty path segment"},
        {"oss://bkt/a/", 0, "must not end with '/'"},
        {"oss://bkt//a", 0, "must not start with '/'"},
        {"oss://bkt/a\\b", 0, "backslash"},
        {"oss://bkt/..\\x", 0, "backslash"},
        {"oss://bkt/a\x01"
         "b",
         0, "control characters"},
        {"oss://bkt/a\tb", 0, "control characters"},
        {"oss://bkt/a\nb", 0, "control characters"},
        {"oss://bkt/a\x7f", 0, "control characters"},
        {"oss://bkt/\xff", 0, "UTF-8"},
        {"oss://bkt/\xc0\xaf", 0, "UTF-8"},         /* overlong '/' */
        {"oss://bkt/\xed\xa0\x80", 0, "UTF-8"},     /* surrogate */
        {"oss://bkt/\xe4\xb8", 0, "UTF-8"},         /* cut short */
        {"oss://bkt/\xf4\x90\x80\x80", 0, "UTF-8"}, /* beyond U+10FFFF */
        {"oss://bkt", 0, "missing object key"},
        {"oss://bkt/", 0, "missing object key"},
        {"oss://", 0, "missing bucket"},
        {"oss:///x", 0, "missing bucket"},
        {"oss://ab/x", 0, "3-63"},
        {"oss://Bkt/x", 0, "a-z, 0-9"},
        {"oss://bk_t/x", 0, "a-z, 0-9"},
        {"oss://bk.t/x", 0, "a-z, 0-9"},
        {"oss://-bkt/x", 0, "start or end with '-'"},
        {"oss://bkt-/x", 0, "start or end with '-'"},
        {"oss://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/x", 0, "3-63"},
        {"http://bkt/x", 0, "unsupported scheme"},
        {"OSS://bkt/x", 0, "unsupported scheme"},
        {"bkt/x", 0, "not a URI"},
        {"/abs/path.mp4", 0, "not a URI"},
        {"", 0, "not a URI"},
        {"file:///etc/passwd", 0, "not allowed here"},
        {"file://rel/path.mp4", MC_URI_ALLOW_FILE, "absolute"},
        {"file://", MC_URI_ALLOW_FILE, "absolute"},
        {"file:///a/../etc/passwd", MC_URI_ALLOW_FILE, "'.' and '..'"},
        {"file:///a/./b", MC_URI_ALLOW_FILE, "'.' and '..'"},
        {"file:///a//b", MC_URI_ALLOW_FILE, "empty path segment"},
        {"file:///a/", MC_URI_ALLOW_FILE, "must not end with '/'"},
        {"file:///", MC_URI_ALLOW_FILE, "empty path segment"},
        {"file:///a\\b", MC_URI_ALLOW_FILE, "backslash"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct reject_case *c = &cases[i];
        mc_uri u = {.scheme = MC_URI_FILE, .key = (char *)"untouched"};
        mc_err err;
        mc_err_clear(&err);
        int rc = mc_uri_resolve(g_store, c->uri, c->flags, "Targets[2].URI", &u, &err);
        if (rc != -EINVAL || !strstr(err.msg, c->why))
            print_error("case %zu (%s): rc %d, message: %s\n", i, c->uri, rc, err.msg);
        assert_int_equal(rc, -EINVAL);
        assert_int_equal(err.rc, -EINVAL);
        assert_string_equal(err.code, "InvalidArgument");
        assert_true(mc_str_starts_with(err.msg, "Targets[2].URI: "));
        assert_non_null(strstr(err.msg, c->why));
        assert_non_null(strstr(err.msg, "expected oss://bucket/key"));
        /* out is written only on success. */
        assert_int_equal(u.scheme, MC_URI_FILE);
        assert_null(u.bucket);
        assert_string_equal(u.key, "untouched");
        assert_null(u.path);
    }
}

static void resolve_rejects_long_key(void **state)
{
    (void)state;
    char key[MC_KEY_MAX + 2];
    memset(key, 'k', MC_KEY_MAX + 1);
    for (int i = 200; i < MC_KEY_MAX; i += 201)
        key[i] = '/';
    key[MC_KEY_MAX + 1] = '\0';
    char *uri = mc_asprintf("oss://bkt/%s", key);
    mc_uri u;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_uri_resolve(g_store, uri, 0, "URI", &u, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "longer than 1023"));
    /* The URI echoed in the message is cut short. */
    assert_true(strlen(err.msg) < 400);
    assert_non_null(strstr(err.msg, "..."));
    free(uri);

    /* A segment no file system would take. */
    memset(key, 's', 256);
    key[256] = '\0';
    uri = mc_asprintf("oss://bkt/%s", key);
    mc_err_clear(&err);
    assert_int_equal(mc_uri_resolve(g_store, uri, 0, "URI", &u, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "255"));
    free(uri);
}

static void resolve_message(void **state)
{
    (void)state;
    mc_uri u;
    mc_err err;
    mc_err_clear(&err);
    mc_uri_resolve(g_store, "oss://bkt/../x", 0, "Sources[0].URI", &u, &err);
    assert_string_equal(err.msg, "Sources[0].URI: oss://bkt/../x: '.' and '..' segments are not "
                                 "allowed; expected oss://bucket/key");
    /* Control characters and broken UTF-8 are escaped in the message, never copied. */
    mc_err_clear(&err);
    mc_uri_resolve(g_store, "oss://bkt/a\x01\xff", MC_URI_ALLOW_FILE, "URI", &u, &err);
    assert_string_equal(err.msg, "URI: oss://bkt/a\\x01\\xff: control characters are not allowed; "
                                 "expected oss://bucket/key or file:///abs/path");
    mc_err_clear(&err);
    mc_uri_resolve(g_store, "oss://bkt/\x7f", 0, "URI", &u, &err);
    assert_non_null(strstr(err.msg, "oss://bkt/\\x7f: control"));
    /* The first error is kept. */
    mc_uri_resolve(g_store, "http://x", 0, "Other", &u, &err);
    assert_true(mc_str_starts_with(err.msg, "URI: oss://bkt/\\x7f: "));
    /* No field given: a generic one. */
    mc_err_clear(&err);
    assert_int_equal(mc_uri_resolve(g_store, NULL, 0, NULL, &u, &err), -EINVAL);
    assert_true(mc_str_starts_with(err.msg, "URI: "));
}

/* ---- atomic files ---- */

static void atomic_commit_publishes(void **state)
{
    (void)state;
    char *final = tmp_path("out/a/b/c.mp4");
    char *dir = tmp_path("out/a/b");
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    assert_false(exists(dir));
    assert_int_equal(mc_atomic_open(final, &f, &err), 0);
    assert_non_null(f);
    assert_string_equal(mc_atomic_final_path(f), final);
    const char *tmp = mc_atomic_tmp_path(f);
    char *tmp_copy = mc_strdup(tmp);
    /* A hidden, empty file next to the final one, readable by others. */
    assert_true(mc_str_starts_with(tmp, dir));
    assert_ptr_equal(strrchr(tmp, '/'), tmp + strlen(dir));
    assert_true(mc_str_starts_with(basename_of(tmp), ".c.mp4.part-"));
    assert_true(mc_atomic_is_tmp_name(basename_of(tmp)));
    struct stat st;
    assert_int_equal(stat(tmp, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_false(exists(final));

    write_file(tmp, "frame data");
    assert_false(exists(final));
    assert_int_equal(count_entries(dir), 1);

    assert_int_equal(mc_atomic_commit(&f, &err), 0);
    assert_int_equal(err.rc, 0);
    assert_null(f);
    assert_string_equal(read_file(final), "frame data");
    assert_false(exists(tmp_copy));
    assert_int_equal(count_entries(dir), 1);
    free(tmp_copy);
    free(final);
    free(dir);
}

static void atomic_commit_replaces(void **state)
{
    (void)state;
    char *final = tmp_path("replace/out.ts");
    char *dir = tmp_path("replace");
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(final, "old");
    assert_int_equal(mc_atomic_open(final, &f, &err), 0);
    write_file(mc_atomic_tmp_path(f), "new content");
    /* Readers see the old file, whole, until the commit. */
    assert_string_equal(read_file(final), "old");
    assert_int_equal(count_entries(dir), 2);
    assert_int_equal(mc_atomic_commit(&f, &err), 0);
    assert_string_equal(read_file(final), "new content");
    assert_int_equal(count_entries(dir), 1);
    free(final);
    free(dir);
}

static void atomic_abort_leaves_nothing(void **state)
{
    (void)state;
    char *final = tmp_path("abort/x/y.jpg");
    char *dir = tmp_path("abort/x");
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    assert_int_equal(mc_atomic_open(final, &f, &err), 0);
    write_file(mc_atomic_tmp_path(f), "half a picture");
    assert_int_equal(count_entries(dir), 1);
    mc_atomic_abort(&f);
    assert_null(f);
    assert_false(exists(final));
    assert_int_equal(count_entries(dir), 0);
    mc_atomic_abort(&f);
    mc_atomic_abort(NULL);
    assert_null(mc_atomic_tmp_path(NULL));
    assert_null(mc_atomic_final_path(NULL));
    free(final);
    free(dir);
}

static void atomic_open_on_folder_fails(void **state)
{
    (void)state;
    char *final = tmp_path("isdir/out.mp4");
    char *dir = tmp_path("isdir");
    mc_atomic_file *f = (mc_atomic_file *)(uintptr_t)0x1;
    mc_err err;
    mc_err_clear(&err);

    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mkdir(final, 0755), 0);
    assert_int_equal(mc_atomic_open(final, &f, &err), -EISDIR);
    assert_ptr_equal(f, (mc_atomic_file *)(uintptr_t)0x1);
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.msg, final));
    assert_int_equal(count_entries(dir), 1); /* no temporary file left behind */

    char *slash = tmp_path("isdir/");
    mc_err_clear(&err);
    assert_int_equal(mc_atomic_open(slash, &f, &err), -EISDIR);
    assert_string_equal(err.code, "InvalidArgument");
    mc_err_clear(&err);
    assert_int_equal(mc_atomic_open("", &f, &err), -EINVAL);
    assert_ptr_equal(f, (mc_atomic_file *)(uintptr_t)0x1);
    free(slash);
    free(final);
    free(dir);
}

static void atomic_open_under_file_fails(void **state)
{
    (void)state;
    char *file = tmp_path("blocker");
    char *final = tmp_path("blocker/sub/out.mp4");
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    write_file(file, "I am a file");
    assert_int_equal(mc_atomic_open(final, &f, &err), -ENOTDIR);
    assert_null(f);
    assert_non_null(strstr(err.msg, final));
    assert_string_equal(read_file(file), "I am a file");
    free(file);
    free(final);
}

static void atomic_commit_failure_cleans_up(void **state)
{
    (void)state;
    char *final = tmp_path("fail/out.mp4");
    char *dir = tmp_path("fail");
    char *inside = tmp_path("fail/out.mp4/keep");
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    /* The writer lost the temporary file. */
    assert_int_equal(mc_atomic_open(final, &f, &err), 0);
    assert_int_equal(unlink(mc_atomic_tmp_path(f)), 0);
    assert_int_equal(mc_atomic_commit(&f, &err), -ENOENT);
    assert_null(f);
    assert_string_equal(err.code, "InternalError");
    assert_non_null(strstr(err.msg, final));
    assert_false(exists(final));

    /* A folder took the final name after open: the rename fails, the temp is removed. */
    mc_err_clear(&err);
    assert_int_equal(mc_atomic_open(final, &f, &err), 0);
    write_file(mc_atomic_tmp_path(f), "data");
    assert_int_equal(mkdir(final, 0755), 0);
    write_file(inside, "x");
    int rc = mc_atomic_commit(&f, &err);
    assert_true(rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST);
    assert_null(f);
    assert_string_equal(err.code, "InternalError");
    assert_int_equal(count_entries(dir), 1); /* only the folder */
    assert_string_equal(read_file(inside), "x");

    mc_atomic_file *none = NULL;
    mc_err_clear(&err);
    assert_true(mc_atomic_commit(&none, &err) < 0);
    assert_true(mc_atomic_commit(NULL, &err) < 0);
    free(final);
    free(dir);
    free(inside);
}

static void atomic_long_name(void **state)
{
    (void)state;
    char name[256];
    memset(name, 'n', 251);
    memcpy(name + 251, ".mp4", 5); /* 255 bytes: the most a file name may have */
    char *dir = tmp_path("long");
    char *final = mc_asprintf("%s/%s", dir, name);
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    assert_int_equal(mc_atomic_open(final, &f, &err), 0);
    const char *tmp_base = basename_of(mc_atomic_tmp_path(f));
    assert_true(strlen(tmp_base) <= 255);
    assert_true(mc_atomic_is_tmp_name(tmp_base));
    write_file(mc_atomic_tmp_path(f), "long");
    assert_int_equal(mc_atomic_commit(&f, &err), 0);
    assert_string_equal(read_file(final), "long");
    assert_int_equal(count_entries(dir), 1);
    free(dir);
    free(final);
}

static void atomic_relative_path(void **state)
{
    (void)state;
    char *cwd = getcwd(NULL, 0);
    assert_non_null(cwd);
    assert_int_equal(chdir(t_tmpdir()), 0);
    mc_atomic_file *f = NULL;
    mc_err err;
    mc_err_clear(&err);

    assert_int_equal(mc_atomic_open("here.txt", &f, &err), 0);
    assert_true(mc_str_starts_with(mc_atomic_tmp_path(f), "./.here.txt.part-"));
    write_file(mc_atomic_tmp_path(f), "rel");
    assert_int_equal(mc_atomic_commit(&f, &err), 0);
    assert_string_equal(read_file("here.txt"), "rel");
    assert_int_equal(chdir(cwd), 0);
    free(cwd);
}

static void atomic_tmp_names(void **state)
{
    (void)state;
    assert_true(mc_atomic_is_tmp_name(".a.mp4.part-Ab12Z9"));
    assert_true(mc_atomic_is_tmp_name(".x.part-000000"));
    assert_false(mc_atomic_is_tmp_name("..part-abcdef")); /* no final name */
    assert_false(mc_atomic_is_tmp_name("a.mp4"));
    assert_false(mc_atomic_is_tmp_name(".hidden.mp4"));
    assert_false(mc_atomic_is_tmp_name("a.mp4.part-abcdef")); /* not hidden */
    assert_false(mc_atomic_is_tmp_name(".part-abcdef"));      /* no final name */
    assert_false(mc_atomic_is_tmp_name(".a.part-abcde"));     /* five random characters */
    assert_false(mc_atomic_is_tmp_name(".a.part-abcdefg"));   /* seven */
    assert_false(mc_atomic_is_tmp_name(".a.part-abc_de"));
    assert_false(mc_atomic_is_tmp_name(".a.prt-abcdef"));
    assert_false(mc_atomic_is_tmp_name("d/.a.part-abcdef"));
    assert_false(mc_atomic_is_tmp_name(""));
    assert_false(mc_atomic_is_tmp_name(NULL));
}

/* The start-up sweep removes temporary files and temporary folders with what they hold (a
 * segmented output's, a synchronous snapshot's), and nothing else. */
static void sweep_removes_tmp_files_and_folders(void **state)
{
    (void)state;
    const char *root = mc_store_root(g_store);
    char *keep = mc_asprintf("%s/sw/keep.mp4", root);
    char *keep2 = mc_asprintf("%s/sw/dir/keep.ts", root);
    char *tmpf = mc_asprintf("%s/sw/.a.mp4.part-Ab12Z9", root);
    char *segdir = mc_asprintf("%s/sw/.v.part-abc123", root);
    char *seg = mc_asprintf("%s/sw/.v.part-abc123/v-0.ts", root);
    char *nested = mc_asprintf("%s/sw/.v.part-abc123/sub", root);
    char *nested_f = mc_asprintf("%s/sw/.v.part-abc123/sub/x", root);
    char *syncdir = mc_asprintf("%s/sw/.mc-sync-0123.part-fedcba", root);
    char *sync_f = mc_asprintf("%s/sw/.mc-sync-0123.part-fedcba/snapshot.jpg", root);
    char *dirs[] = {mc_asprintf("%s/sw", root), mc_asprintf("%s/sw/dir", root), segdir, nested,
                    syncdir};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        assert_int_equal(mkdir(dirs[i], 0755), 0);
    const char *files[] = {keep, keep2, tmpf, seg, nested_f, sync_f};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        write_file(files[i], "x");
    int removed = -1;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_store_sweep_tmp(g_store, &removed, &err), 0);
    assert_int_equal(removed, 3);
    assert_true(exists(keep));
    assert_true(exists(keep2));
    assert_false(exists(tmpf));
    assert_false(exists(segdir));
    assert_false(exists(syncdir));
    free(keep);
    free(keep2);
    free(tmpf);
    free(seg);
    free(nested_f);
    free(sync_f);
    free(dirs[0]);
    free(dirs[1]);
    free(segdir);
    free(nested);
    free(syncdir);
}

/* ---- templates ---- */

static const char *tag_lookup(void *opaque, const char *name)
{
    int *calls = opaque;
    (*calls)++;
    if (!strcmp(name, "lang"))
        return "zh-CN";
    if (!strcmp(name, "empty"))
        return "";
    return NULL;
}

static void full_vars(mc_template_vars *v, int *calls)
{
    mc_template_vars_init(v);
    v->bucket = "test-bucket";
    v->key = "path1/path2/name.png";
    v->source_mtime = 1650638305; /* 2022-04-22 14:38:25 UTC */
    v->task_time = 981173106;     /* 2001-02-03 04:05:06 UTC */
    v->index = 1;
    v->stream_index = 0;
    v->resolution = "1920x1080";
    v->autoext = "ts";
    v->tag = tag_lookup;
    v->tag_opaque = calls;
}

static void expect_expand(const mc_template_vars *v, const char *tmpl, const char *want)
{
    char *out = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_template_expand(tmpl, v, "URI", &out, &err);
    if (rc != 0)
        print_error("%s: %s\n", tmpl, err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(err.rc, 0);
    assert_string_equal(out, want);
    free(out);
}

static void template_variables(void **state)
{
    (void)state;
    int calls = 0;
    mc_template_vars v;
    full_vars(&v, &calls);

    expect_expand(&v, "{bucket}", "test-bucket");
    expect_expand(&v, "{key}", "path1/path2/name.png");
    expect_expand(&v, "{dirname}", "path1/path2");
    expect_expand(&v, "{basename}", "name.png");
    expect_expand(&v, "{barename}", "name");
    expect_expand(&v, "{ext}", "png");
    expect_expand(&v, "{year}-{mon}-{day} {hour}:{min}:{sec}", "2022-04-22 14:38:25");
    expect_expand(&v, "{t_year}-{t_mon}-{t_day} {t_hour}:{t_min}:{t_sec}", "2001-02-03 04:05:06");
    expect_expand(&v, "{index}", "1");
    expect_expand(&v, "{streamindex}", "0");
    expect_expand(&v, "{resolution}", "1920x1080");
    expect_expand(&v, "{autoext}", "ts");
    expect_expand(&v, "{tags.lang}", "zh-CN");
    expect_expand(&v, "[{tags.empty}]", "[]");
    assert_int_equal(calls, 2);
    expect_expand(&v, "oss://{bucket}/out/{dirname}/{barename}_{index}.{autoext}",
                  "oss://test-bucket/out/path1/path2/name_1.ts");
    expect_expand(&v, "no variables at all", "no variables at all");
    expect_expand(&v, "", "");

    v.index = 1234567890123;
    v.stream_index = 7;
    expect_expand(&v, "{index}/{streamindex}", "1234567890123/7");
}

static void template_key_parts(void **state)
{
    (void)state;
    mc_template_vars v;
    mc_template_vars_init(&v);
    const char *t = "[{dirname}|{basename}|{barename}|{ext}]";

    v.key = "name.mp4";
    expect_expand(&v, t, "[|name.mp4|name|mp4]");
    v.key = "a/b.tar.gz";
    expect_expand(&v, t, "[a|b.tar.gz|b.tar|gz]");
    v.key = "dir.v2/README";
    expect_expand(&v, t, "[dir.v2|README|README|]");
    v.key = "x/.profile";
    expect_expand(&v, t, "[x|.profile|.profile|]");
    v.key = "x/name.";
    expect_expand(&v, t, "[x|name.|name|]");
    v.key = "视频/电影.mkv";
    expect_expand(&v, t, "[视频|电影.mkv|电影|mkv]");
}

static void template_escapes(void **state)
{
    (void)state;
    mc_template_vars v;
    mc_template_vars_init(&v);
    v.index = 3;

    expect_expand(&v, "{{index}}", "{index}");
    expect_expand(&v, "a}}b{{c", "a}b{c");
    expect_expand(&v, "{{{index}}}", "{3}");
    expect_expand(&v, "{{}}", "{}");
    expect_expand(&v, "x{{", "x{");
}

/* Expanding tmpl fails with InvalidArgument, a message containing `want`, out untouched. */
static void expect_template_error(const mc_template_vars *v, const char *tmpl, const char *want)
{
    char *out = (char *)"untouched";
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_template_expand(tmpl, v, "T.URI", &out, &err);
    if (rc != -EINVAL || !strstr(err.msg, want))
        print_error("%s: rc %d, message: %s\n", tmpl, rc, err.msg);
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err.code, "InvalidArgument");
    assert_true(mc_str_starts_with(err.msg, "T.URI: "));
    assert_non_null(strstr(err.msg, want));
    assert_string_equal(out, "untouched");
}

static void template_errors(void **state)
{
    (void)state;
    int calls = 0;
    mc_template_vars full;
    full_vars(&full, &calls);
    mc_template_vars none;
    mc_template_vars_init(&none);

    expect_template_error(&full, "a/{foo}.mp4",
                          "T.URI: unknown template variable {foo}; allowed: bucket, key, dirname, "
                          "barename, basename, ext, year, mon, day, hour, min, sec, t_year, t_mon, "
                          "t_day, t_hour, t_min, t_sec, index, streamindex, resolution, autoext, "
                          "tags.<name>");
    static const char *const unknown[] = {"Index",   "tags.",   "tags",      "t_",
                                          "t_index", " index ", "index:03d", "\x01"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        char *tmpl = mc_asprintf("{%s}", unknown[i]);
        expect_template_error(&full, tmpl, "unknown template variable {");
        free(tmpl);
    }

    /* Every variable, with nothing set: an error that names it. */
    static const char *const vars[] = {
        "bucket", "key",   "dirname", "basename",    "barename",   "ext",     "year",     "mon",
        "day",    "hour",  "min",     "sec",         "t_year",     "t_mon",   "t_day",    "t_hour",
        "t_min",  "t_sec", "index",   "streamindex", "resolution", "autoext", "tags.lang"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        char *tmpl = mc_asprintf("ok/{%s}.jpg", vars[i]);
        char *want = mc_asprintf("T.URI: {%s} is not available for this output", vars[i]);
        expect_template_error(&none, tmpl, want);
        free(tmpl);
        free(want);
    }

    expect_template_error(&full, "a{index",
                          "T.URI: a{index: unmatched '{' at offset 1; write {{ and }} for literal "
                          "braces");
    expect_template_error(&full, "index}", "index}: unmatched '}' at offset 5");
    expect_template_error(&full, "x{}", "x{}: empty {} at offset 1");
    static const char *const malformed[] = {"a{b{index}}", "}{", "{", "}", "{{{", "{index}}"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        expect_template_error(&full, malformed[i], "for literal braces");

    /* A tag the request does not have. */
    char *out = NULL;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_template_expand("{tags.nope}", &full, "T", &out, &err), -EINVAL);
    assert_string_equal(err.msg, "T: {tags.nope} is not available for this output");
    assert_null(out);
    /* A time before the epoch counts as unknown. */
    full.source_mtime = -5;
    mc_err_clear(&err);
    assert_int_equal(mc_template_expand("{year}", &full, "T", &out, &err), -EINVAL);
    assert_null(out);
    mc_err_clear(&err);
    assert_int_equal(mc_template_expand(NULL, &full, "T", &out, &err), -EINVAL);
    assert_null(out);
}

static void template_uses(void **state)
{
    (void)state;
    assert_true(mc_template_uses("a/{index}.jpg", "index"));
    assert_true(mc_template_uses("{{{index}}}", "index"));
    assert_true(mc_template_uses("{bucket}/{tags.lang}", "tags.lang"));
    assert_true(mc_template_uses("{{x}}/{streamindex}", "streamindex"));
    assert_false(mc_template_uses("a/{{index}}.jpg", "index"));
    assert_false(mc_template_uses("a/{streamindex}.jpg", "index"));
    assert_false(mc_template_uses("a/{indexes}.jpg", "index"));
    assert_false(mc_template_uses("a/{inde}.jpg", "index"));
    assert_false(mc_template_uses("a/index.jpg", "index"));
    assert_false(mc_template_uses("a/{index", "index"));
    assert_false(mc_template_uses("{}/{index}", "index")); /* malformed: no endless loop */
    assert_false(mc_template_uses("}/{index}", "index"));
    assert_false(mc_template_uses("", "index"));
    assert_false(mc_template_uses(NULL, "index"));
    assert_false(mc_template_uses("{index}", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_open_creates_canonical_root),
        cmocka_unit_test(store_open_on_a_file_fails),
        cmocka_unit_test(resolve_ok),
        cmocka_unit_test(resolve_file),
        cmocka_unit_test(resolve_rejects),
        cmocka_unit_test(resolve_rejects_long_key),
        cmocka_unit_test(resolve_message),
        cmocka_unit_test(atomic_commit_publishes),
        cmocka_unit_test(atomic_commit_replaces),
        cmocka_unit_test(atomic_abort_leaves_nothing),
        cmocka_unit_test(atomic_open_on_folder_fails),
        cmocka_unit_test(atomic_open_under_file_fails),
        cmocka_unit_test(atomic_commit_failure_cleans_up),
        cmocka_unit_test(atomic_long_name),
        cmocka_unit_test(atomic_relative_path),
        cmocka_unit_test(atomic_tmp_names),
        cmocka_unit_test(sweep_removes_tmp_files_and_folders),
        cmocka_unit_test(template_variables),
        cmocka_unit_test(template_key_parts),
        cmocka_unit_test(template_escapes),
        cmocka_unit_test(template_errors),
        cmocka_unit_test(template_uses),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
