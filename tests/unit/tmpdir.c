#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int t_tmpdir_make(const char *prefix)
{
    const char *base = getenv("MC_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    if (snprintf(dir, sizeof(dir), "%s/%s-XXXXXX", base, prefix) >= (int)sizeof(dir))
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

int t_tmpdir_remove(void)
{
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int t_tmpdir_group_setup(void **state)
{
    (void)state;
    return t_tmpdir_make(program_invocation_short_name);
}

int t_tmpdir_group_teardown(void **state)
{
    (void)state;
    return t_tmpdir_remove();
}

const char *t_tmpdir(void)
{
    return dir;
}
