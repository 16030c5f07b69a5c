/*
 * Atomic output files: written under a hidden temporary name in the destination folder,
 * fsync'ed, renamed over the final name, and the folder fsync'ed, so that a reader sees
 * either the old file, or the whole new one, never a part.
 */
#include "mc_storage.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc_str.h"
#include "storage_internal.h"

#define TMP_SUFFIX     ".part-"
#define TMP_RANDOM_LEN 6 /* the XXXXXX of mkostemp() */
#define FILE_MODE      0644
#define DIR_MODE       0755

struct mc_atomic_file {
    char *final_path;
    char *tmp_path;
    char *dir; /* folder of both, fsync'ed after the rename */
};

int mc_storage_mkdirs(const char *path, mode_t mode)
{
    char *p = NULL;
    int rc = 0;

    if (!path || !*path)
        return -ENOENT;
    p = mc_strdup(path);
    if (!p)
        return -ENOMEM;
    /* Each prefix ending before a '/', then the whole path. */
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0) {
            /* EEXIST, or EACCES/EROFS for a folder that exists where we may not write. */
            int e = errno;
            struct stat st;
            if (stat(p, &st) < 0) {
                rc = -e;
                goto out;
            }
            if (!S_ISDIR(st.st_mode)) {
                rc = -ENOTDIR;
                goto out;
            }
        }
        *s = c;
        if (!c)
            break;
        while (s[1] == '/')
            s++;
        if (!s[1])
            break;
    }
out:
    free(p);
    return rc;
}

const char *mc_atomic_tmp_path(const mc_atomic_file *f)
{
    return f ? f->tmp_path : NULL;
}

const char *mc_atomic_final_path(const mc_atomic_file *f)
{
    return f ? f->final_path : NULL;
}

static void atomic_free(mc_atomic_file **f)
{
    if (!f || !*f)
        return;
    free((*f)->final_path);
    free((*f)->tmp_path);
    free((*f)->dir);
    free(*f);
    *f = NULL;
}

/* "<dir>/.<name>.part-XXXXXX" for mkostemp()/mkdtemp(), the name cut so that the result
 * stays within NAME_MAX however long `name` is. */
static char *tmp_template(const char *dir, const char *name)
{
    size_t keep = NAME_MAX - 1 - strlen(TMP_SUFFIX) - TMP_RANDOM_LEN;
    size_t len = strlen(name);
    return mc_asprintf("%s/.%.*s" TMP_SUFFIX "XXXXXX", dir, (int)(len < keep ? len : keep), name);
}

int mc_tmp_dir_create(const char *dir, const char *name, char **out)
{
    int rc = mc_storage_mkdirs(dir, DIR_MODE);
    if (rc < 0)
        return rc;
    char *path = tmp_template(dir, name);
    if (!path)
        return -ENOMEM;
    if (!mkdtemp(path)) {
        rc = -errno;
        free(path);
        return rc;
    }
    chmod(path, DIR_MODE);
    *out = path;
    return 0;
}

int mc_atomic_open(const char *final_path, mc_atomic_file **out, mc_err *err)
{
    mc_atomic_file *f = NULL;
    int fd;
    int rc;

    if (!final_path || !*final_path) {
        rc = mc_err_set(err, -EINVAL, "InvalidArgument", "output path: empty");
        goto fail;
    }
    const char *slash = strrchr(final_path, '/');
    const char *base = slash ? slash + 1 : final_path;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        rc = mc_err_set(err, -EISDIR, "InvalidArgument", "%s: names a folder, not a file",
                        final_path);
        goto fail;
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "%s: out of memory", final_path);
        goto fail;
    }
    f->final_path = mc_strdup(final_path);
    if (!slash)
        f->dir = mc_strdup(".");
    else if (slash == final_path)
        f->dir = mc_strdup("/");
    else
        f->dir = strndup(final_path, (size_t)(slash - final_path));
    f->tmp_path = f->dir ? tmp_template(f->dir, base) : NULL;
    if (!f->final_path || !f->dir || !f->tmp_path) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "%s: out of memory", final_path);
        goto fail;
    }

    rc = mc_storage_mkdirs(f->dir, DIR_MODE);
    if (rc < 0) {
        mc_err_set(err, rc, rc == -ENOTDIR ? "InvalidArgument" : "InternalError",
                   "%s: cannot create its folder: %s", final_path, strerror(-rc));
        goto fail;
    }
    struct stat st;
    if (stat(final_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = mc_err_set(err, -EISDIR, "InvalidArgument", "%s: a folder of that name exists",
                        final_path);
        goto fail;
    }
    fd = mkostemp(f->tmp_path, O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        mc_err_set(err, rc, "InternalError", "%s: cannot create a temporary file: %s", final_path,
                   strerror(-rc));
        goto fail;
    }
    /* mkostemp() makes the file 0600; outputs are meant to be read by others. The writer
     * reopens the file by name, so the descriptor is not kept. */
    rc = fchmod(fd, FILE_MODE) < 0 ? -errno : 0;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        mc_err_set(err, rc, "InternalError", "%s: cannot set up %s: %s", final_path, f->tmp_path,
                   strerror(-rc));
        unlink(f->tmp_path);
        goto fail;
    }
    *out = f;
    return 0;

fail:
    atomic_free(&f);
    return rc;
}

/* fsync `path` (a file or, with O_DIRECTORY, a folder). 0 or a negative errno. */
static int fsync_path(const char *path, int oflags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | oflags);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    return rc;
}

int mc_atomic_commit(mc_atomic_file **fp, mc_err *err)
{
    mc_atomic_file *f = fp ? *fp : NULL;
    bool renamed = false;
    int rc;

    if (!f)
        return mc_err_set(err, -EINVAL, "InternalError", "commit: no output file");
    rc = fsync_path(f->tmp_path, 0);
    if (rc < 0) {
        mc_err_set(err, rc, "InternalError", "%s: cannot flush %s: %s", f->final_path, f->tmp_path,
                   strerror(-rc));
        goto out;
    }
    if (rename(f->tmp_path, f->final_path) < 0) {
        rc = -errno;
        mc_err_set(err, rc, "InternalError", "%s: cannot rename %s into place: %s", f->final_path,
                   f->tmp_path, strerror(-rc));
        goto out;
    }
    renamed = true;
    rc = fsync_path(f->dir, O_DIRECTORY);
    /* Some file systems cannot fsync a folder (EINVAL); the rename is all they offer. */
    if (rc == -EINVAL)
        rc = 0;
    if (rc < 0)
        mc_err_set(err, rc, "InternalError", "%s: cannot flush folder %s: %s", f->final_path,
                   f->dir, strerror(-rc));
out:
    if (!renamed)
        unlink(f->tmp_path);
    atomic_free(fp);
    return rc;
}

void mc_atomic_abort(mc_atomic_file **f)
{
    if (!f || !*f)
        return;
    unlink((*f)->tmp_path);
    atomic_free(f);
}

bool mc_atomic_is_tmp_name(const char *basename)
{
    if (!basename || basename[0] != '.' || strchr(basename, '/'))
        return false;
    size_t len = strlen(basename);
    size_t tail = strlen(TMP_SUFFIX) + TMP_RANDOM_LEN;
    /* '.', at least one byte of the final name, ".part-", six random characters. */
    if (len < 2 + tail)
        return false;
    const char *s = basename + len - tail;
    if (memcmp(s, TMP_SUFFIX, strlen(TMP_SUFFIX)) != 0)
        return false;
    for (s += strlen(TMP_SUFFIX); *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

typedef struct sweep_ctx {
    int removed;
    int rc;
} sweep_ctx;

/* nftw gives no user pointer: one sweep at a time (it runs once, at service start). */
static sweep_ctx *sweep_state;
static pthread_mutex_t sweep_lock = PTHREAD_MUTEX_INITIALIZER;

/* Everything under a temporary folder, the folder last. */
static int remove_any(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = type == FTW_DP ? rmdir(path) : unlink(path);
    return r == 0 || errno == ENOENT ? 0 : -1;
}

/* Temporary files, and temporary folders (a segmented output's, a synchronous snapshot's)
 * with what they hold: the walk is depth-first, so a folder comes after its content. */
static int sweep_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    if (!mc_atomic_is_tmp_name(path + ftw->base) || (type != FTW_F && type != FTW_DP))
        return 0;
    int r = type == FTW_F ? unlink(path) : nftw(path, remove_any, 8, FTW_DEPTH | FTW_PHYS);
    if (r == 0)
        sweep_state->removed++;
    else if (!sweep_state->rc)
        sweep_state->rc = -errno;
    return 0;
}

int mc_store_sweep_tmp(const mc_store *store, int *removed, mc_err *err)
{
    sweep_ctx c = {0};
    pthread_mutex_lock(&sweep_lock);
    sweep_state = &c;
    int r = nftw(mc_store_root(store), sweep_one, 32, FTW_DEPTH | FTW_PHYS);
    sweep_state = NULL;
    pthread_mutex_unlock(&sweep_lock);
    if (r != 0 && errno != ENOENT)
        return mc_err_set(err, -errno, "InternalError", "cannot scan %s: %s", mc_store_root(store),
                          strerror(errno));
    if (c.rc)
        return mc_err_set(err, c.rc, "InternalError", "cannot remove a temporary file under %s: %s",
                          mc_store_root(store), strerror(-c.rc));
    *removed = c.removed;
    return 0;
}
