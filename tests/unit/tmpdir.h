/* A scratch folder for one unit test program: "<$MC_TEST_TMP or /tmp>/<prefix>-XXXXXX",
 * made in the cmocka group setup and removed with its contents in the teardown. */
#ifndef MC_TEST_TMPDIR_H
#define MC_TEST_TMPDIR_H

/* Make the folder; 0 or -1. */
int t_tmpdir_make(const char *prefix);
/* Remove it and everything in it; 0 or -1. */
int t_tmpdir_remove(void);
/* The same as cmocka group setup/teardown functions, the prefix being the program's name. */
int t_tmpdir_group_setup(void **state);
int t_tmpdir_group_teardown(void **state);
/* Its path (valid between the two). */
const char *t_tmpdir(void);

#endif
