/*
 * The FFmpeg-API dialect's operations (spec 6, seed 004) as CreateMediaConvertTask requests.
 *
 * POST /v1/ffmpeg/<operation> carries a JSON body ({"input": url, "width": 1280, ...}). Each
 * operation is translated here into the IMM request object the job model validates, so the
 * three front doors share one set of rules and one engine. Pure functions: no HTTP, no
 * FFmpeg; input URLs are turned into object URIs by the caller's resolver (the allowlist).
 */
#ifndef MC_FFAPI_OPS_H
#define MC_FFAPI_OPS_H

#include <jansson.h>
#include <stdbool.h>

#include "mc_err.h"

/* Error codes this module sets (mc_err.code); the endpoint maps them to the envelope's msg. */
#define MC_FFAPI_INVALID   "InvalidParams"   /* 400 "invalid params" */
#define MC_FFAPI_ALLOWLIST "NonAllowlistUrl" /* 400 "non-allowlist url" */

typedef struct mc_ffapi_ctx {
    /*
     * Turn an input URL into an object URI (oss://bucket/key) the engine may read. Returns 0
     * and a new string in *uri, or a negative code when the URL is not on the allowlist
     * (the translation then fails with MC_FFAPI_ALLOWLIST). `field` names the parameter.
     */
    int (*resolve)(const char *url, const char *field, char **uri, void *opaque);
    void *opaque;
    /* Where the task's outputs go: an object URI prefix ending in '/' (e.g.
     * "oss://ffmpeg-api/t_0123/"). */
    const char *out_prefix;
    /* The input's duration in seconds (0: unknown), for compress's target_size_mb; may be
     * NULL. */
    double (*duration)(const char *uri, void *opaque);
} mc_ffapi_ctx;

/* Whether `op` names an operation that becomes a task (probe and upload do not). */
bool mc_ffapi_is_task_op(const char *op);

/*
 * Translate operation `op` with JSON body `body` into a CreateMediaConvertTask request for
 * project `project`. On success *out is a new reference the caller owns. On failure *out
 * is untouched and err names the parameter and the allowed values (code MC_FFAPI_INVALID or
 * MC_FFAPI_ALLOWLIST); the return value is negative.
 */
int mc_ffapi_to_request(const char *op, const json_t *body, const char *project,
                        const mc_ffapi_ctx *ctx, json_t **out, mc_err *err);

/*
 * Credits a task is charged (seed 004): max(1, ceil(output_seconds x 0.05 x op_factor x
 * resolution_factor)), where the resolution factor is 0.6 up to 480 lines, 1.0 up to 720,
 * 1.8 up to 1080 and 3.0 above (1.0 for audio-only outputs, height 0); upload, probe and
 * thumbnail cost a flat 1. The seed gives no per-operation factors: every operation's is
 * 1.0.
 */
int mc_ffapi_credits(const char *op, double output_seconds, int height);

#endif
