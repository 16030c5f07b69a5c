/*
 * The HTTP server: libmicrohttpd with an internal thread pool. It keeps each request's raw
 * target (signatures are computed over it), collects headers and body, and routes.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "api_internal.h"
#include "mc_log.h"

/* MHD calls this first, with the request target as received: it becomes the request's
 * context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    api_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->api = cls;
    r->conn = conn;
    r->raw_uri = mc_strdup(uri ? uri : "/");
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_upper(u, r->request_id);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    api_req *r = *req_cls;
    if (!r)
        return;
    api_oss_free(r);
    api_ff_free(r);
    free(r->raw_uri);
    free(r->path);
    free(r->raw_query);
    mc_kvlist_clear(&r->headers);
    mc_buf_free(&r->body);
    free(r);
    *req_cls = NULL;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    api_req *r = cls;
    if (key && mc_kvlist_add(&r->headers, key, strlen(key), value ? value : "",
                             value ? strlen(value) : 0) < 0)
        return MHD_NO;
    return MHD_YES;
}

/* Split the raw target into path and query, and collect the headers. */
static int prepare(api_req *r)
{
    const char *q = strchr(r->raw_uri, '?');
    size_t plen = q ? (size_t)(q - r->raw_uri) : strlen(r->raw_uri);
    r->path = strndup(r->raw_uri, plen);
    r->raw_query = mc_strdup(q ? q + 1 : "");
    if (!r->path || !r->raw_query)
        return -ENOMEM;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_header, r);
    return 0;
}

static enum MHD_Result route(api_req *r)
{
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (strcmp(r->path, "/healthz") == 0 && get) {
        int64_t counts[MC_TASK_NSTATES];
        mc_err err = {0};
        if (mc_db_task_counts(r->api->deps.db, counts, &err) < 0)
            return api_reply_errorf(r, "ServiceUnavailable", "task store: %s", err.msg);
        json_t *o = json_pack("{s:s, s:I, s:I}", "Status", "OK", "Queued",
                              (json_int_t)counts[MC_TASK_QUEUED], "Running",
                              (json_int_t)counts[MC_TASK_RUNNING]);
        return api_reply_json(r, MHD_HTTP_OK, o);
    }
    if (strcmp(r->path, "/metrics") == 0 && get)
        return api_metrics(r);
    if (strcmp(r->path, "/v1/devices") == 0 && get) {
        if (!r->api->deps.devices)
            return api_reply_errorf(r, "ServiceUnavailable", "no device registry");
        json_t *o = mc_hw_registry_to_json(r->api->deps.devices);
        if (!o)
            return api_reply_errorf(r, "InternalError", "out of memory");
        return api_reply_json(r, MHD_HTTP_OK, o);
    }
    if (strcmp(r->path, "/") == 0) {
        if (strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0)
            return api_reply_errorf(r, "UnsupportedHTTPMethod",
                                    "method %s is not allowed on /; allowed: POST, GET", m);
        return api_imm(r);
    }
    return api_reply_errorf(r, "InvalidApi.NotFound",
                            "nothing is served at %s; the API is at / (IMM actions), plus "
                            "/healthz, /metrics, /v1/devices and /v1/ffmpeg/",
                            r->path);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)conn;
    api_req *r = *req_cls;
    if (!r)
        return MHD_NO; /* out of memory in on_uri */
    if (!r->method) {
        /* First call: headers are complete. */
        r->method = method;
        if (prepare(r) < 0)
            return MHD_NO;
        if (api_ff_claim(r))
            return api_ff_begin(r);
        if (api_oss_claim(r))
            return api_oss_begin(r);
        const char *cl = mc_kvlist_get_ci(&r->headers, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY) /* refuse before reading it */
            return api_reply_errorf(r, "RequestEntityTooLarge",
                                    "the request body is %s bytes; allowed: at most %d", cl,
                                    API_MAX_BODY);
        return MHD_YES;
    }
    if (*upload_data_size && r->oss) {
        enum MHD_Result ret = api_oss_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ret;
    }
    if (*upload_data_size && r->ff) {
        enum MHD_Result ret = api_ff_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ret;
    }
    if (*upload_data_size) {
        if (r->body.len + *upload_data_size > API_MAX_BODY)
            r->body_too_big = true; /* keep reading, answer once the body is in */
        else if (mc_buf_append(&r->body, upload_data, *upload_data_size) < 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->oss)
        return api_oss_finish(r);
    if (r->ff)
        return api_ff_finish(r);
    if (strlen(r->raw_uri) > API_MAX_URI)
        return api_reply_errorf(r, "RequestURITooLarge",
                                "the request line is %zu bytes; allowed: at most %d",
                                strlen(r->raw_uri), API_MAX_URI);
    if (r->body_too_big)
        return api_reply_errorf(r, "RequestEntityTooLarge",
                                "the request body is larger than the limit of %d bytes",
                                API_MAX_BODY);
    return route(r);
}

/* libmicrohttpd's own messages (it answers malformed requests itself) go to our log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    mc_log(MC_LOG_WARN, "http: %s", msg);
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
                   mc_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    int g = getaddrinfo(host, service, &hints, &ai);
    if (g != 0 || !ai)
        return mc_err_set(err, -EINVAL, "InvalidConfig", "listen: cannot resolve \"%s\": %s", host,
                          gai_strerror(g));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int mc_api_start(const mc_api_deps *deps, mc_api **out, mc_err *err)
{
    mc_conf *conf = mc_conf_live_get(deps->conf);
    const mc_config *cfg = mc_conf_config(conf);
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    mc_api *api = NULL;
    int rc = resolve(cfg->listen_host, cfg->listen_port, &ss, &sslen, err);
    if (rc < 0)
        goto fail;
    if (!(api = calloc(1, sizeof(*api)))) {
        rc = -ENOMEM;
        goto fail;
    }
    api->deps = *deps;
    for (int i = 0; i < 6; i++)
        atomic_init(&api->http_status[i], 0);
    atomic_init(&api->draining, false);
    atomic_init(&api->sched_users, 0);
    atomic_init(&api->oss_requests, 0);
    if ((rc = mc_nonce_cache_new(2 * (cfg->max_skew_s > 0 ? cfg->max_skew_s : 900), &api->nonces)) <
        0)
        goto fail;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    api->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads, MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, api, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        /* The whole Targets JSON travels in the query: allow long request lines, with some
         * room above API_MAX_URI so that longer ones get our JSON 414. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(API_MAX_URI + API_URI_SLACK),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT, 1000u,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!api->mhd) {
        rc = mc_err_set(err, -EADDRINUSE, "InternalError",
                        "cannot listen on %s:%d (address in use or not permitted)",
                        cfg->listen_host, cfg->listen_port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : cfg->listen_port;
    mc_conf_unref(&conf);
    *out = api;
    return 0;
fail:
    mc_api_stop(&api);
    mc_conf_unref(&conf);
    return rc;
}

void mc_api_drain(mc_api *api)
{
    if (!api)
        return;
    atomic_store(&api->draining, true);
    while (atomic_load(&api->sched_users) > 0) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int mc_api_port(const mc_api *api)
{
    return api->port;
}

void mc_api_quiesce(mc_api *api)
{
    if (api && api->mhd) {
        MHD_socket s = MHD_quiesce_daemon(api->mhd);
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
}

void mc_api_stop(mc_api **ap)
{
    mc_api *api = ap ? *ap : NULL;
    if (!api)
        return;
    if (api->mhd)
        MHD_stop_daemon(api->mhd);
    mc_nonce_cache_free(&api->nonces);
    free(api);
    *ap = NULL;
}
