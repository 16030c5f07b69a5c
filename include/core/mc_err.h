/*
 * Error reporting shared by every module.
 *
 * Fallible functions return int: 0, or a negative errno / FFmpeg AVERROR / MC_E* code,
 * passed through unchanged. When there is more to say than a code, they also fill a
 * caller-provided mc_err: the first error set wins, later ones are ignored, so a failed
 * task keeps the message of what went wrong first.
 */
#ifndef MC_ERR_H
#define MC_ERR_H

#include <errno.h>

/* Project error codes, negative and disjoint from errno and AVERROR tags. */
#define MC_ERRTAG(a, b, c, d)                                                                      \
    (-(int)((unsigned)(a) | ((unsigned)(b) << 8) | ((unsigned)(c) << 16) | ((unsigned)(d) << 24)))
#define MC_EMISSING     MC_ERRTAG('m', 'c', 'M', 'S') /* a required field is absent */
#define MC_EJSON        MC_ERRTAG('m', 'c', 'J', 'S') /* malformed JSON document */
#define MC_ELIMIT       MC_ERRTAG('m', 'c', 'L', 'M') /* a count or size is beyond a limit */
#define MC_EUNSUPPORTED MC_ERRTAG('m', 'c', 'U', 'S') /* valid request this engine can't do */
#define MC_EMEDIA       MC_ERRTAG('m', 'c', 'M', 'D') /* input media unreadable or corrupt */
#define MC_ECANCELED    MC_ERRTAG('m', 'c', 'C', 'N') /* stopped on request */

#define MC_ERR_CODE_MAX 64
#define MC_ERR_MSG_MAX  768

typedef struct mc_err {
    int rc;                     /* code of the first error, 0 while none */
    char code[MC_ERR_CODE_MAX]; /* IMM-style error code, e.g. "InvalidArgument" */
    char msg[MC_ERR_MSG_MAX];   /* human message naming the field and the allowed values */
} mc_err;

void mc_err_clear(mc_err *err);

/*
 * Record an error unless one is already recorded. code may be NULL: it is then derived
 * from rc with mc_err_code_for(). err may be NULL. Returns rc so that callers can write
 * `return mc_err_set(err, -EINVAL, NULL, "...")`.
 */
int mc_err_set(mc_err *err, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The IMM error code for a return code (the one table of this mapping). */
const char *mc_err_code_for(int rc);

#endif
