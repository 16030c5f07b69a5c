/*
 * Shared between the files of the API layer: the request as received, replies, and the
 * one table that maps error codes to HTTP statuses.
 */
#ifndef MC_API_INTERNAL_H
#define MC_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "mc_api.h"
#include "mc_str.h"
#include "sign.h"

#define API_MAX_BODY (1024 * 1024) /* request bodies larger than this are refused */
/* Request lines larger than this are refused with a JSON 414. libmicrohttpd keeps each
 * connection's request in a pool it zeroes after every request (keep-alive), so the pool
 * (API_MAX_URI + API_URI_SLACK) is a cost per request: lines longer than the pool get
 * libmicrohttpd's own 414. Real Targets run to tens of KB. */
#define API_MAX_URI        (256 * 1024)
#define API_URI_SLACK      (64 * 1024)
#define API_REQUEST_ID_LEN 37

struct mc_api {
    mc_api_deps deps;
    struct MHD_Daemon *mhd;
    int port;
    mc_nonce_cache *nonces;
    atomic_llong http_status[6]; /* requests answered, by status class 1xx..5xx */
    atomic_bool draining;        /* shutting down: no more work for the scheduler */
    atomic_int sched_users;      /* requests inside an action that calls the scheduler */
    atomic_llong oss_requests;   /* requests answered by the OSS object API */
};

struct oss_req;
struct ff_req;

typedef struct api_req {
    mc_api *api;
    struct MHD_Connection *conn;
    char *raw_uri; /* request target exactly as received */
    const char *method;
    char *path;      /* raw path, before '?' */
    char *raw_query; /* after '?', "" when none */
    mc_kvlist headers;
    mc_buf body;
    bool body_too_big;
    char request_id[API_REQUEST_ID_LEN];
    char action[64];     /* for the log */
    struct oss_req *oss; /* set when the request belongs to the OSS object API (oss.c) */
    struct ff_req *ff;   /* set when it belongs to the FFmpeg API (/v1/ffmpeg/, ffapi.c) */
} api_req;

/* Send `body` (a JSON object, reference stolen) with status; adds x-acs-request-id. */
enum MHD_Result api_reply_json(api_req *r, unsigned status, json_t *body);
/* Send plain text (used by /metrics). */
enum MHD_Result api_reply_text(api_req *r, unsigned status, const char *ctype, char *text);
/* The IMM error envelope for err (status from the code table). */
enum MHD_Result api_reply_error(api_req *r, const mc_err *err);
/* Same, from a code and a formatted message. */
enum MHD_Result api_reply_errorf(api_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A JSON string of s; bytes that are not UTF-8 become '?'. NULL only on OOM. */
json_t *api_json_str(const char *s);
/* HTTP status for an error code. */
unsigned api_status_for(const char *code);

/* "/" : the IMM dialect. */
enum MHD_Result api_imm(api_req *r);
/* The OSS object API (oss.c). claim: once the headers are in, whether the request is OSS
 * (then r->oss is set); begin: right after a claim (signature, names, starts a PUT's upload);
 * body: each chunk of the body; finish: once the body is in, the answer. free: in the
 * request's clean-up. */
bool api_oss_claim(api_req *r);
enum MHD_Result api_oss_begin(api_req *r);
enum MHD_Result api_oss_body(api_req *r, const char *data, size_t size);
enum MHD_Result api_oss_finish(api_req *r);
void api_oss_free(api_req *r);
/* The FFmpeg API (ffapi.c), the same four steps as OSS: claim (the path is under
 * /v1/ffmpeg/), begin (auth, method, uploads start), body per chunk, finish; free in the
 * request's clean-up. */
bool api_ff_claim(api_req *r);
enum MHD_Result api_ff_begin(api_req *r);
enum MHD_Result api_ff_body(api_req *r, const char *data, size_t size);
enum MHD_Result api_ff_finish(api_req *r);
void api_ff_free(api_req *r);
/* GET /metrics */
enum MHD_Result api_metrics(api_req *r);

/* submit.c: storing a new task for any front door. */
#define API_TASK_TYPE     "MediaConvert"
#define API_TASK_ID_MAX   64
#define API_EVENT_ID_MAX  40

/* Who asks for a task, through which front door, and what it may cost. */
typedef struct api_submit {
    const char *owner;    /* AccessKeyId, or NULL when unauthenticated */
    const char *dialect;  /* "imm", "oss" or "ffmpeg" */
    int64_t timeout_s;    /* its own time limit, 0 = the service's */
    int64_t credits;      /* charged now, refunded if it fails */
    int owner_active_max; /* > 0: TaskLimitReached (-EBUSY) when the owner has this many */
} api_submit;

/*
 * Validate a CreateMediaConvertTask request object (the job model, every URI inside the
 * object store, the project, the notification against `conf`) and store it as a new queued
 * task; the scheduler is woken. On success id and eid hold the task and event ids; the reply
 * is the caller's. On failure err has the code and message (Throttling.User when the queue
 * is full, TaskLimitReached from owner_active_max).
 */
int api_submit_task(api_req *r, mc_conf *conf, const json_t *req, const api_submit *sub,
                    char id[API_TASK_ID_MAX], char eid[API_EVENT_ID_MAX], mc_err *err);

#endif
