/*
 * The daemon's configuration: an INI file read with libinih, then command-line overrides.
 *
 *   [server]   listen = 127.0.0.1:8080     data_dir = ./var     http_threads = 4
 *              region = local              account_id = 0
 *   [keys]     <AccessKeyId> = <AccessKeySecret>        (one line per key)
 *   [auth]     max_skew = 900        (seconds; 0 turns the time check off)
 *   [projects] <name> = <description>   (created at start when missing)
 *   [workers]  count = 2
 *   [limits]   task_timeout = 21600  max_attempts = 3  queue_max = 100000
 *              shutdown_grace = 30   project_running_max = 0   (0 = no limit)
 *   [project_limits] <project> = N   (its running tasks at most; 0 = no limit)
 *   [retention] days = 7
 *   [topics]   <MNS or RocketMQ topic name> = <webhook URL>
 *   [notify]   secret = <HMAC key for X-Mc-Signature>   max_attempts = 20
 *   [devices]  backends = auto      (or a list: "cuda, software"; a listed backend that
 *              cannot open stops the start)
 *              <backend>_decode_sessions = N   <backend>_encode_sessions = N
 *              (backend: cuda, vaapi, qsv, vulkan, fake; 0 = the backend's default)
 *   [log]      level = info          (error, warning, info or debug)
 *   [oss]      domains = *.aliyuncs.com   (service endpoints: Host "<bucket>.<domain>" is
 *              virtual-host addressing, Host "<domain>" path style; '*' stands for one label)
 *              max_object_size = 5368709120   (bytes one PUT may store)
 *              sync_timeout = 30   (seconds a synchronous x-oss-process may take)
 *              sync_max = 2        (synchronous x-oss-process jobs at once; more get 503)
 *   [oss_buckets] <bucket> = <IMM project>   (the project x-oss-async-process tasks of the
 *              bucket go to, as AttachOSSBucket does; default: the project named like the
 *              bucket)
 *   [ffmpeg_api] bucket = ffmpeg-api   project = ffmpeg-api   (uploads and outputs; tasks)
 *              allow_hosts =           (more host[:port] names its input URLs may use)
 *              max_upload = 200000000  max_input = 1000000000   (bytes)
 *              max_active = 3          (tasks one caller may have queued or running)
 *              task_timeout = 300      url_expiry = 604800   (seconds)
 *
 * A file holding only [keys] works: everything else has a default. Unknown sections and
 * keys are errors (a typo must not silently leave a default in place).
 */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"

#define MC_CONFIG_NBACKENDS 5

typedef struct mc_config_pair {
    char *name;
    char *value;
} mc_config_pair;

typedef struct mc_config_project_limit {
    char *project;
    int running_max; /* 0 = no limit */
} mc_config_project_limit;

typedef struct mc_config {
    char *listen_host; /* "127.0.0.1" */
    int listen_port;   /* 8080; 0 = pick a free port */
    char *data_dir;    /* "./var" */
    int http_threads;  /* 4 */
    char *region;      /* notification subject's region, "local" */
    char *account_id;  /* notification subject's account, "0" */

    mc_config_pair *keys; /* AccessKeyId -> secret */
    size_t n_keys;
    int64_t max_skew_s; /* 900 */

    mc_config_pair *projects; /* name -> description */
    size_t n_projects;

    int workers;              /* 2 */
    int64_t task_timeout_s;   /* 21600 */
    int max_attempts;         /* 3: runs of a task interrupted by crashes before it fails */
    int64_t queue_max;        /* 100000 */
    int64_t shutdown_grace_s; /* 30 */
    int64_t retention_days;   /* 7 */
    int project_running_max;  /* 0: tasks one project may run at once, 0 = no limit */
    mc_config_project_limit *project_limits; /* overrides of project_running_max */
    size_t n_project_limits;

    mc_config_pair *topics; /* topic -> webhook URL */
    size_t n_topics;
    char *notify_secret;     /* NULL = unsigned */
    int notify_max_attempts; /* 20 */

    char *device_backends; /* "auto" */
    /* Session capacity per backend (mc_config_device_backends order), [0] decode [1] encode;
     * 0 = the backend's default. */
    int device_sessions[MC_CONFIG_NBACKENDS][2];
    int log_level; /* enum mc_log_level: MC_LOG_INFO */

    char *oss_domains;           /* "*.aliyuncs.com": comma-separated endpoint host names */
    int64_t oss_max_object_size; /* 5 GiB */
    int64_t oss_sync_timeout_s;  /* 30 */
    int oss_sync_max;            /* 2 */
    mc_config_pair *oss_buckets; /* bucket -> IMM project */
    size_t n_oss_buckets;

    char *ffapi_bucket;          /* "ffmpeg-api": uploads and outputs of /v1/ffmpeg */
    char *ffapi_project;         /* "ffmpeg-api": its tasks' project (created when missing) */
    char *ffapi_allow_hosts;     /* "": extra host[:port] names allowed in input URLs */
    int64_t ffapi_max_upload;    /* 200000000 bytes */
    int64_t ffapi_max_input;     /* 1000000000 bytes per input file */
    int ffapi_max_active;        /* 3: queued or running tasks per caller */
    int64_t ffapi_task_timeout_s; /* 300 */
    int64_t ffapi_url_expiry_s;   /* 604800: presigned URLs handed out */
} mc_config;

/* The backends whose session capacity the configuration can set, in device_sessions order. */
extern const char *const mc_config_device_backends[MC_CONFIG_NBACKENDS];

/* Fill the embedded defaults. 0, or -ENOMEM. */
int mc_config_defaults(mc_config *cfg);
/* Read an INI file over the current values. -ENOENT / -EINVAL with err naming the line. */
int mc_config_load(mc_config *cfg, const char *path, mc_err *err);
/* Parse "HOST:PORT" (or "[v6]:PORT", or ":PORT" for all addresses) into the config. */
int mc_config_set_listen(mc_config *cfg, const char *hostport, mc_err *err);
/* Replace the data folder. */
int mc_config_set_data_dir(mc_config *cfg, const char *dir);
/* The IMM project a bucket is attached to: its [oss_buckets] entry, else NULL. */
const char *mc_config_oss_project(const mc_config *cfg, const char *bucket);
/* Secret of an AccessKeyId, NULL when unknown. */
const char *mc_config_secret(const mc_config *cfg, const char *access_key_id);
/* True when the listen host is a loopback address (127.0.0.0/8, ::1, localhost). */
bool mc_config_listen_is_loopback(const mc_config *cfg);
void mc_config_clear(mc_config *cfg);

#endif
