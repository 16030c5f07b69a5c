#include "mc_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mc_log.h"
#include "mc_str.h"

int mc_config_defaults(mc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen_port = 8080;
    cfg->http_threads = 4;
    cfg->max_skew_s = 900;
    cfg->workers = 2;
    if (!(cfg->device_backends = strdup("auto")))
        return -ENOMEM;
    cfg->task_timeout_s = 21600;
    cfg->max_attempts = 3;
    cfg->queue_max = 100000;
    cfg->shutdown_grace_s = 30;
    cfg->retention_days = 7;
    cfg->notify_max_attempts = 20;
    cfg->log_level = MC_LOG_INFO;
    cfg->listen_host = mc_strdup("127.0.0.1");
    cfg->data_dir = mc_strdup("./var");
    cfg->region = mc_strdup("local");
    cfg->account_id = mc_strdup("0");
    cfg->oss_domains = mc_strdup("*.aliyuncs.com");
    cfg->oss_max_object_size = (int64_t)5 << 30;
    cfg->oss_sync_timeout_s = 30;
    cfg->oss_sync_max = 2;
    cfg->ffapi_bucket = mc_strdup("ffmpeg-api");
    cfg->ffapi_project = mc_strdup("ffmpeg-api");
    cfg->ffapi_allow_hosts = mc_strdup("");
    cfg->ffapi_max_upload = 200000000;
    cfg->ffapi_max_input = 1000000000;
    cfg->ffapi_max_active = 3;
    cfg->ffapi_task_timeout_s = 300;
    cfg->ffapi_url_expiry_s = 7 * 86400;
    if (!cfg->listen_host || !cfg->data_dir || !cfg->region || !cfg->account_id ||
        !cfg->oss_domains || !cfg->ffapi_bucket || !cfg->ffapi_project ||
        !cfg->ffapi_allow_hosts) {
        mc_config_clear(cfg);
        return -ENOMEM;
    }
    return 0;
}

static void pairs_free(mc_config_pair **pairs, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*pairs)[i].name);
        free((*pairs)[i].value);
    }
    free(*pairs);
    *pairs = NULL;
    *n = 0;
}

void mc_config_clear(mc_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->listen_host);
    free(cfg->data_dir);
    free(cfg->region);
    free(cfg->account_id);
    free(cfg->notify_secret);
    free(cfg->device_backends);
    free(cfg->oss_domains);
    free(cfg->ffapi_bucket);
    free(cfg->ffapi_project);
    free(cfg->ffapi_allow_hosts);
    pairs_free(&cfg->keys, &cfg->n_keys);
    pairs_free(&cfg->projects, &cfg->n_projects);
    pairs_free(&cfg->topics, &cfg->n_topics);
    pairs_free(&cfg->oss_buckets, &cfg->n_oss_buckets);
    for (size_t i = 0; i < cfg->n_project_limits; i++)
        free(cfg->project_limits[i].project);
    free(cfg->project_limits);
    memset(cfg, 0, sizeof(*cfg));
}

/* Add or replace name -> value. */
static int pairs_set(mc_config_pair **pairs, size_t *n, const char *name, const char *value)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*pairs)[i].name, name) == 0) {
            char *v = mc_strdup(value);
            if (!v)
                return -ENOMEM;
            free((*pairs)[i].value);
            (*pairs)[i].value = v;
            return 0;
        }
    }
    mc_config_pair *grown = realloc(*pairs, (*n + 1) * sizeof(**pairs));
    if (!grown)
        return -ENOMEM;
    *pairs = grown;
    char *k = mc_strdup(name), *v = mc_strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    grown[*n].name = k;
    grown[*n].value = v;
    (*n)++;
    return 0;
}

#define PROJECT_LIMIT_MAX 100000

/* [project_limits] <project> = N: add or replace the project's limit. */
static int set_project_limit(mc_config *cfg, const char *project, const char *value, mc_err *err)
{
    long long v = 0;
    if (mc_parse_i64(value, 0, PROJECT_LIMIT_MAX, &v) < 0)
        return mc_err_set(err, -EINVAL, "InvalidConfig",
                          "[project_limits] %s = \"%s\"; allowed: an integer from 0 to %d "
                          "(0 = no limit)",
                          project, value, PROJECT_LIMIT_MAX);
    for (size_t i = 0; i < cfg->n_project_limits; i++) {
        if (strcmp(cfg->project_limits[i].project, project) == 0) {
            cfg->project_limits[i].running_max = (int)v;
            return 0;
        }
    }
    mc_config_project_limit *grown =
        realloc(cfg->project_limits, (cfg->n_project_limits + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    cfg->project_limits = grown;
    char *name = mc_strdup(project);
    if (!name)
        return -ENOMEM;
    grown[cfg->n_project_limits++] =
        (mc_config_project_limit){.project = name, .running_max = (int)v};
    return 0;
}

static int set_str(char **dst, const char *value)
{
    char *v = mc_strdup(value);
    if (!v)
        return -ENOMEM;
    free(*dst);
    *dst = v;
    return 0;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    long long v = 0;
    int rc = mc_parse_i64(s, lo, hi, &v);
    if (rc == 0)
        *out = v;
    return rc;
}

int mc_config_set_listen(mc_config *cfg, const char *hostport, mc_err *err)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "listen: \"%s\" is not HOST:PORT (e.g. 127.0.0.1:8080)", hostport);
    int64_t port = 0;
    if (parse_i64(colon + 1, 0, 65535, &port) < 0)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "listen: port \"%s\" is not a number from 0 to 65535", colon + 1);
    const char *h = hostport;
    size_t hl = (size_t)(colon - hostport);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *host = hl ? strndup(h, hl) : mc_strdup("0.0.0.0");
    if (!host)
        return -ENOMEM;
    free(cfg->listen_host);
    cfg->listen_host = host;
    cfg->listen_port = (int)port;
    return 0;
}

int mc_config_set_data_dir(mc_config *cfg, const char *dir)
{
    return set_str(&cfg->data_dir, dir);
}

const char *mc_config_oss_project(const mc_config *cfg, const char *bucket)
{
    for (size_t i = 0; bucket && i < cfg->n_oss_buckets; i++)
        if (strcmp(cfg->oss_buckets[i].name, bucket) == 0)
            return cfg->oss_buckets[i].value;
    return NULL;
}

const char *mc_config_secret(const mc_config *cfg, const char *access_key_id)
{
    if (!access_key_id)
        return NULL;
    for (size_t i = 0; i < cfg->n_keys; i++)
        if (strcmp(cfg->keys[i].name, access_key_id) == 0)
            return cfg->keys[i].value;
    return NULL;
}

bool mc_config_listen_is_loopback(const mc_config *cfg)
{
    /* What the name resolves to, not how it is spelt ("127.evil.example" is not loopback). */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(cfg->listen_host, NULL, &hints, &ai) != 0 || !ai)
        return false;
    bool loopback = true;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)a->ai_addr;
            loopback &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (a->ai_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a->ai_addr;
            loopback &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        } else {
            loopback = false;
        }
    }
    freeaddrinfo(ai);
    return loopback;
}

typedef struct load_ctx {
    mc_config *cfg;
    mc_err *err;
    const char *path;
    int rc;
} load_ctx;

struct num_key {
    const char *section, *name;
    int64_t lo, hi;
    size_t offset;
    bool is_int; /* int field, else int64_t */
};

#define NUM(sec, key, lo, hi, field, isint)                                                        \
    {                                                                                              \
        sec, key, lo, hi, offsetof(mc_config, field), isint                                        \
    }
static const struct num_key num_keys[] = {
    NUM("server", "http_threads", 1, 256, http_threads, true),
    NUM("auth", "max_skew", 0, 86400, max_skew_s, false),
    NUM("workers", "count", 1, 256, workers, true),
    NUM("limits", "task_timeout", 1, 30 * 86400, task_timeout_s, false),
    NUM("limits", "max_attempts", 1, 100, max_attempts, true),
    NUM("limits", "queue_max", 1, 100000000, queue_max, false),
    NUM("limits", "shutdown_grace", 0, 3600, shutdown_grace_s, false),
    NUM("limits", "project_running_max", 0, PROJECT_LIMIT_MAX, project_running_max, true),
    NUM("retention", "days", 1, 3650, retention_days, false),
    NUM("notify", "max_attempts", 1, 1000, notify_max_attempts, true),
    NUM("oss", "max_object_size", 1, (int64_t)1 << 42, oss_max_object_size, false),
    NUM("oss", "sync_timeout", 1, 3600, oss_sync_timeout_s, false),
    NUM("oss", "sync_max", 1, 256, oss_sync_max, true),
    NUM("ffmpeg_api", "max_upload", 1, (int64_t)1 << 42, ffapi_max_upload, false),
    NUM("ffmpeg_api", "max_input", 1, (int64_t)1 << 42, ffapi_max_input, false),
    NUM("ffmpeg_api", "max_active", 0, 100000, ffapi_max_active, true),
    NUM("ffmpeg_api", "task_timeout", 1, 30 * 86400, ffapi_task_timeout_s, false),
    NUM("ffmpeg_api", "url_expiry", 60, 10 * 365 * 86400LL, ffapi_url_expiry_s, false),
    NUM("devices", "cuda_decode_sessions", 0, 256, device_sessions[0][0], true),
    NUM("devices", "cuda_encode_sessions", 0, 256, device_sessions[0][1], true),
    NUM("devices", "vaapi_decode_sessions", 0, 256, device_sessions[1][0], true),
    NUM("devices", "vaapi_encode_sessions", 0, 256, device_sessions[1][1], true),
    NUM("devices", "qsv_decode_sessions", 0, 256, device_sessions[2][0], true),
    NUM("devices", "qsv_encode_sessions", 0, 256, device_sessions[2][1], true),
    NUM("devices", "vulkan_decode_sessions", 0, 256, device_sessions[3][0], true),
    NUM("devices", "vulkan_encode_sessions", 0, 256, device_sessions[3][1], true),
    NUM("devices", "fake_decode_sessions", 0, 256, device_sessions[4][0], true),
    NUM("devices", "fake_encode_sessions", 0, 256, device_sessions[4][1], true),
};

const char *const mc_config_device_backends[MC_CONFIG_NBACKENDS] = {"cuda", "vaapi", "qsv",
                                                                     "vulkan", "fake"};

/* Errors are recorded without a line number: inih (built without INI_HANDLER_LINENO) tells
 * the line of the first error when ini_parse returns, and mc_config_load adds it. */
static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    mc_config *cfg = c->cfg;
    int rc = 0;
    if (!name) /* a section header alone */
        return 1;
    if (strcmp(section, "keys") == 0) {
        if (!*value)
            rc = mc_err_set(c->err, -EINVAL, "InvalidConfig", "key %s has no secret", name);
        else
            rc = pairs_set(&cfg->keys, &cfg->n_keys, name, value);
    } else if (strcmp(section, "projects") == 0) {
        rc = pairs_set(&cfg->projects, &cfg->n_projects, name, value);
    } else if (strcmp(section, "project_limits") == 0) {
        rc = set_project_limit(cfg, name, value, c->err);
    } else if (strcmp(section, "topics") == 0) {
        rc = pairs_set(&cfg->topics, &cfg->n_topics, name, value);
    } else if (strcmp(section, "oss_buckets") == 0) {
        if (!*value)
            rc = mc_err_set(c->err, -EINVAL, "InvalidConfig",
                            "[oss_buckets] %s has no project; allowed: an IMM project name", name);
        else
            rc = pairs_set(&cfg->oss_buckets, &cfg->n_oss_buckets, name, value);
    } else if (strcmp(section, "server") == 0 && strcmp(name, "listen") == 0) {
        rc = mc_config_set_listen(cfg, value, c->err);
    } else if (strcmp(section, "server") == 0 && strcmp(name, "data_dir") == 0) {
        rc = set_str(&cfg->data_dir, value);
    } else if (strcmp(section, "server") == 0 && strcmp(name, "region") == 0) {
        rc = set_str(&cfg->region, value);
    } else if (strcmp(section, "server") == 0 && strcmp(name, "account_id") == 0) {
        rc = set_str(&cfg->account_id, value);
    } else if (strcmp(section, "notify") == 0 && strcmp(name, "secret") == 0) {
        rc = set_str(&cfg->notify_secret, value);
    } else if (strcmp(section, "oss") == 0 && strcmp(name, "domains") == 0) {
        rc = set_str(&cfg->oss_domains, value);
    } else if (strcmp(section, "ffmpeg_api") == 0 && strcmp(name, "bucket") == 0) {
        rc = set_str(&cfg->ffapi_bucket, value);
    } else if (strcmp(section, "ffmpeg_api") == 0 && strcmp(name, "project") == 0) {
        rc = set_str(&cfg->ffapi_project, value);
    } else if (strcmp(section, "ffmpeg_api") == 0 && strcmp(name, "allow_hosts") == 0) {
        rc = set_str(&cfg->ffapi_allow_hosts, value);
    } else if (strcmp(section, "devices") == 0 && strcmp(name, "backends") == 0) {
        rc = set_str(&cfg->device_backends, value);
    } else if (strcmp(section, "log") == 0 && strcmp(name, "level") == 0) {
        static const char *const levels[] = {"error", "warning", "info", "debug"};
        rc = -EINVAL;
        for (int i = 0; i < 4; i++)
            if (strcmp(value, levels[i]) == 0) {
                cfg->log_level = i;
                rc = 0;
            }
        if (rc < 0)
            mc_err_set(c->err, rc, "InvalidConfig",
                       "[log] level = \"%s\"; allowed: error, warning, info, debug", value);
    } else {
        const struct num_key *k = NULL;
        for (size_t i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++)
            if (strcmp(num_keys[i].section, section) == 0 && strcmp(num_keys[i].name, name) == 0)
                k = &num_keys[i];
        if (!k) {
            rc = mc_err_set(c->err, -EINVAL, "InvalidConfig", "unknown setting [%s] %s", section,
                            name);
        } else {
            int64_t v = 0;
            if (parse_i64(value, k->lo, k->hi, &v) < 0) {
                rc = mc_err_set(c->err, -EINVAL, "InvalidConfig",
                                "[%s] %s = \"%s\"; allowed: an integer from %lld to %lld", section,
                                name, value, (long long)k->lo, (long long)k->hi);
            } else if (k->is_int) {
                *(int *)((char *)cfg + k->offset) = (int)v;
            } else {
                *(int64_t *)((char *)cfg + k->offset) = v;
            }
        }
    }
    if (rc < 0) {
        if (rc == -ENOMEM)
            mc_err_set(c->err, rc, "InternalError", "out of memory reading %s", c->path);
        else
            mc_err_set(c->err, rc, "InvalidConfig", "bad value for [%s] %s", section, name);
        if (!c->rc)
            c->rc = rc;
        return 0;
    }
    return 1;
}

int mc_config_load(mc_config *cfg, const char *path, mc_err *err)
{
    load_ctx c = {.cfg = cfg, .err = err, .path = path};
    int r = ini_parse(path, on_entry, &c);
    if (r == -1)
        return mc_err_set(err, -ENOENT, "InvalidConfig", "%s: cannot open: %s", path,
                          strerror(errno));
    if (r == -2)
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory reading %s", path);
    if (c.rc && err) {
        char *msg = mc_asprintf("%s:%d: %s", path, r, err->msg);
        if (msg) {
            snprintf(err->msg, sizeof(err->msg), "%.*s", (int)sizeof(err->msg) - 1, msg);
            free(msg);
        }
    }
    if (c.rc)
        return c.rc;
    if (r > 0)
        return mc_err_set(err, -EINVAL, "InvalidConfig", "%s:%d: syntax error", path, r);
    return 0;
}
