/*
 * Internals of the OSS processing-string front end (mc_oss_process.h): the tokenised
 * string (oss_process.c) and the translation of each action (oss_actions.c).
 */
#ifndef OSS_PROCESS_INTERNAL_H
#define OSS_PROCESS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_oss_process.h"

#define OSS_MAX_PARAMS 40            /* parameters of one action or segment */
#define OSS_MAX_SEGS   16            /* /pre and /sur segments of the action stage */
#define OSS_MAX_MS     10000000000LL /* times in ms: MC_JOB_MAX_SECONDS */

/* One key_value parameter; both point into the tokenised copy of the string. */
typedef struct oss_kv {
    const char *key;
    const char *val; /* never empty */
    bool used;       /* read by the action: what is left unread is an unknown parameter */
} oss_kv;

/* An action ("video/convert"), a segment ("pre", "notify") or an output stage
 * ("sys/saveas"), with its parameters in order. */
typedef struct oss_seg {
    const char *name;
    oss_kv kv[OSS_MAX_PARAMS];
    size_t n;
} oss_seg;

/* A tokenised processing string. */
typedef struct oss_proc {
    char *buf; /* the writable copy every pointer points into */
    oss_seg action;
    oss_seg segs[OSS_MAX_SEGS]; /* /pre and /sur, in order */
    size_t n_segs;
    bool has_saveas;
    oss_seg saveas;
    bool has_notify;
    oss_seg notify;
} oss_proc;

/* Where errors are reported from ("video/convert", "sys/saveas"...). oom is set by the
 * JSON helpers, so that building code need not check every call. */
typedef struct oss_ctx {
    const char *where;
    mc_err *err;
    bool oom;
} oss_ctx;

/* Tokenise: strips trailing CR/LF, checks length and NUL bytes, splits stages, segments and
 * parameters. sync selects the output stages allowed (saveas only). */
int oss_tokenise(const char *process, size_t len, bool sync, oss_proc *p, mc_err *err);
void oss_proc_clear(oss_proc *p);

/* InvalidArgument "<where>: <message>"; returns -EINVAL. */
int oss_fail(oss_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* MissingArgument "<where>: <message>"; returns MC_EMISSING. */
int oss_missing(oss_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parameter readers: 1 when present (and valid), 0 when absent, < 0 on error. Each marks
 * the parameter read. */
bool oss_has(const oss_seg *s, const char *key);
const char *oss_get(oss_seg *s, const char *key);
int oss_int(oss_ctx *c, oss_seg *s, const char *key, int64_t lo, int64_t hi, int64_t *out);
int oss_num(oss_ctx *c, oss_seg *s, const char *key, double lo, double hi, double *out);
/* names is NULL-terminated; *out is the index of the match. */
int oss_enum(oss_ctx *c, oss_seg *s, const char *key, const char *const *names, int *out);
/* A Base64 value (either alphabet, padding optional, one trailing newline dropped) that
 * decodes to non-empty UTF-8 without control characters; *out is new (free()). */
int oss_b64(oss_ctx *c, oss_seg *s, const char *key, char **out);
/* Fails on the first parameter no reader took: "unknown parameter x; allowed: <allowed>". */
int oss_check_unused(oss_ctx *c, const oss_seg *s, const char *allowed);

/* JSON helpers: on allocation failure they set c->oom (and free v). */
json_t *oss_obj(oss_ctx *c);
json_t *oss_arr(oss_ctx *c);
void oss_put(oss_ctx *c, json_t *o, const char *key, json_t *v);
void oss_push(oss_ctx *c, json_t *a, json_t *v);
/* Seconds from milliseconds. */
json_t *oss_seconds(int64_t ms);

/* What the actions need to know about the request. */
typedef struct oss_job_in {
    const char *src_uri; /* oss://bucket/key of the request's object */
    const char *bucket;  /* the request's bucket (default of /pre and /sur b_) */
    const char *out_uri; /* oss://<b_ or bucket>/<o_> */
} oss_job_in;

/* The index of a supported async action, or an error naming the allowed ones. */
int oss_action_check(const char *name, mc_err *err);
/* Translate the action of p into Sources, Targets and AlignmentIndex of req. */
int oss_action_to_request(oss_proc *p, const oss_job_in *in, json_t *req, mc_err *err);

#endif
