/*
 * OSS media processing strings (spec api-spec.md section 5): the front end that turns
 *
 *   video/convert,f_mp4,vcodec_h264|sys/saveas,b_<b64>,o_<b64>/notify,topic_<b64>
 *
 * into an IMM CreateMediaConvertTask request (a jansson object with Sources, Targets,
 * AlignmentIndex, Notification...), which the caller then hands to the job model
 * (mc_job_from_json) exactly like an IMM request: every rule is checked there once more.
 * This layer checks what OSS documents (parameter names, ranges, per-format limits) so
 * that errors name the OSS parameter and its allowed values.
 *
 * Grammar: stages separated by '|'; in a stage, the action ("video/convert") or segment
 * ("/pre", "/sur", "/notify") is followed by ','-separated parameters key_value, split at
 * the first '_'. b_, o_ and topic_ are Base64 in either alphabet (standard or URL-safe),
 * with or without '=' padding; one trailing "\n" or "\r\n" of the decoded text is dropped.
 * Template variables ({autoext}, {index}... spec 1.10) in o_ are kept for the engine.
 *
 * Errors: every function returns 0 or a negative code and fills err (code InvalidArgument
 * or MissingArgument, both HTTP 400; InternalError on out of memory) with a message that
 * names the action and the parameter, e.g.
 *   "audio/convert: ar 44100 is not allowed with f amr; allowed: 8000, 16000".
 * Out-parameters are only written on success.
 */
#ifndef MC_OSS_PROCESS_H
#define MC_OSS_PROCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"

/* Longest processing string accepted (bytes, after the body prefix is removed). */
#define MC_OSS_PROCESS_MAX 16384

/*
 * The processing string of a POST body "<name>=<process>" (name "x-oss-async-process" or
 * "x-oss-process"). Most SDKs send the value as it is; ali-oss' processObjectSave and
 * form-encoding clients percent-encode it ("video%2Fconvert%2C..."): a value with no '/'
 * but a '%' is percent-decoded ('+' as a space, which the Base64 reader takes back as '+').
 * On success *out is a new NUL-terminated string (free()) of *out_len bytes.
 */
int mc_oss_process_from_body(const char *body, size_t len, const char *name, char **out,
                             size_t *out_len, mc_err *err);

/*
 * Parse an x-oss-async-process string (len bytes; NUL bytes inside are an error) for the
 * object oss://<bucket>/<key> (the object of the request URL). project, when not NULL,
 * becomes ProjectName (the IMM project the bucket is attached to; the job model requires
 * one). On success *out is a new request object (json_decref()) and, when topic is not
 * NULL, *topic a new string (free()) with the notify topic, or NULL when there is no
 * /notify. The topic is also in the request as Notification.MNS.TopicName.
 *
 * Operations: video/convert, video/animation, video/snapshots, video/sprite,
 * video/concat, audio/convert, audio/concat; each needs |sys/saveas,o_<b64>[,b_<b64>].
 */
int mc_oss_async_to_request(const char *process, size_t len, const char *bucket, const char *key,
                            const char *project, json_t **out, char **topic, mc_err *err);

enum mc_oss_sync_op {
    MC_OSS_SYNC_SNAPSHOT = 0, /* video/snapshot */
    MC_OSS_SYNC_VIDEO_INFO,   /* video/info */
    MC_OSS_SYNC_AUDIO_INFO,   /* audio/info */
};

enum mc_oss_rotate {
    MC_OSS_ROTATE_NONE = 0, /* ar omitted */
    MC_OSS_ROTATE_AUTO,     /* ar_auto: follow the rotation metadata */
    MC_OSS_ROTATE_H,        /* ar_h: portrait (height > width) */
    MC_OSS_ROTATE_W,        /* ar_w: landscape */
};

/* A synchronous x-oss-process request (spec 5.11). Strings are owned by the struct. */
typedef struct mc_oss_sync {
    enum mc_oss_sync_op op;
    /* video/snapshot */
    int64_t time_ms; /* t, required, >= 0 */
    int width;       /* w, 0 = from the aspect ratio (both 0: the source size) */
    int height;      /* h, 0 = from the aspect ratio */
    bool fast;       /* m_fast: the key frame at or before t */
    char format[8];  /* f: "jpg" or "png" */
    enum mc_oss_rotate rotate;
    /* |sys/saveas (POST x-oss-process, e.g. ali-oss processObjectSave) */
    char *saveas_bucket; /* NULL: the source bucket (or no saveas) */
    char *saveas_key;    /* NULL: no saveas, reply with the bytes */
} mc_oss_sync;

/* Parse a synchronous x-oss-process string. On success *out is filled (mc_oss_sync_clear()
 * frees its strings); on failure *out is zeroed. */
int mc_oss_sync_parse(const char *process, size_t len, mc_oss_sync *out, mc_err *err);
void mc_oss_sync_clear(mc_oss_sync *s);

#endif
