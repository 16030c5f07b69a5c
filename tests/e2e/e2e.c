#include "e2e.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "mc_str.h"
#include "sign.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

void e2e_daemon_init(e2e_daemon *d, const char *name)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "%s/e2e-%s-%d", env_or("MC_TEST_TMP", "/tmp"), name,
             (int)getpid());
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/buckets'", d->dir, d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot make %s\n", d->dir);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int e2e_daemon_write_config(const e2e_daemon *d)
{
    char cfg[700], tmp[710];
    snprintf(cfg, sizeof(cfg), "%s/config.ini", d->dir);
    snprintf(tmp, sizeof(tmp), "%s.new", cfg);
    /* whole or not at all: a reload must never read a half-written file */
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    bool ok = fputs(d->config, f) >= 0;
    ok &= fclose(f) == 0;
    return ok && rename(tmp, cfg) == 0 ? 0 : -1;
}

int e2e_daemon_start(e2e_daemon *d)
{
    char cfg[700], port_file[700], log[700];
    snprintf(cfg, sizeof(cfg), "%s/config.ini", d->dir);
    snprintf(port_file, sizeof(port_file), "%s/port", d->dir);
    snprintf(log, sizeof(log), "%s/daemon.log", d->dir);
    if (e2e_daemon_write_config(d) < 0)
        return -1;
    unlink(port_file);
    const char *bin = getenv("MC_DAEMON");
    if (!bin) {
        fprintf(stderr, "MC_DAEMON is not set\n");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execl(bin, bin, "--config", cfg, "--listen", "127.0.0.1:0", "--data-dir", d->dir,
              "--port-file", port_file, (char *)NULL);
        _exit(127);
    }
    d->pid = pid;
    for (int i = 0; i < 600; i++) { /* up to 30 s: sanitizer builds start slowly */
        FILE *pf = fopen(port_file, "r");
        if (pf) {
            int port = 0;
            int ok = fscanf(pf, "%d", &port);
            fclose(pf);
            if (ok == 1 && port > 0) {
                d->port = port;
                return 0;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = 0;
            e2e_daemon_dump_log(d);
            return -1;
        }
        sleep_ms(50);
    }
    return -1;
}

int e2e_daemon_stop(e2e_daemon *d, int sig)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    int st = 0;
    waitpid(d->pid, &st, 0);
    d->pid = 0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

void e2e_daemon_dump_log(const e2e_daemon *d)
{
    char log[700];
    snprintf(log, sizeof(log), "%s/daemon.log", d->dir);
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[2048];
    fprintf(stderr, "---- daemon log %s ----\n", log);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

const char *e2e_object_path(const e2e_daemon *d, const char *bucket_key)
{
    static __thread char buf[4][1200];
    static __thread int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/buckets/%s", d->dir, bucket_key);
    return b;
}

int e2e_put_fixture(const e2e_daemon *d, const char *fixture, const char *bucket_key)
{
    const char *store = env_or("MC_TEST_STORE", "tests/store");
    char cmd[3000];
    const char *dst = e2e_object_path(d, bucket_key);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s/fixtures/%s' '%s'", dst,
             store, fixture, dst);
    return system(cmd) == 0 ? 0 : -1;
}

void e2e_resp_clear(e2e_resp *r)
{
    json_decref(r->body);
    free(r->raw);
    memset(r, 0, sizeof(*r));
}

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
    mc_buf *b = opaque;
    mc_buf_append(b, p, size * n);
    return size * n;
}

static int perform(const char *url, const char *method, struct curl_slist *headers,
                   const char *body, e2e_resp *out)
{
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    mc_buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    memset(out, 0, sizeof(*out));
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        out->raw = mc_buf_steal(&b);
        if (!out->raw)
            out->raw = mc_strdup("");
        out->body = json_loads(out->raw, 0, NULL);
    } else {
        fprintf(stderr, "curl %s: %s\n", url, curl_easy_strerror(cc));
    }
    mc_buf_free(&b);
    curl_easy_cleanup(c);
    return cc == CURLE_OK ? 0 : -1;
}

int e2e_http(const e2e_daemon *d, const char *method, const char *target, const char *extra_header,
             const char *body, e2e_resp *out)
{
    char *url = mc_asprintf("http://127.0.0.1:%d%s", d->port, target);
    struct curl_slist *h = NULL;
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    h = curl_slist_append(h, "Expect:");
    int rc = perform(url, method, h, body, out);
    curl_slist_free_all(h);
    free(url);
    return rc;
}

static void random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    FILE *f = fopen("/dev/urandom", "rb");
    for (size_t i = 0; i < n; i++) {
        int c = f ? fgetc(f) : rand();
        out[i] = hex[c & 15];
    }
    out[n] = '\0';
    if (f)
        fclose(f);
}

static void iso_now(char *buf, size_t size, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Query string of a parameter list, RFC 3986-encoded. */
static char *query_of(const mc_kvlist *l)
{
    mc_buf q = {0};
    for (size_t i = 0; i < l->n; i++) {
        char *k = mc_rfc3986(l->items[i].key, strlen(l->items[i].key));
        char *v = mc_rfc3986(l->items[i].value, strlen(l->items[i].value));
        mc_buf_printf(&q, "%s%s=%s", i ? "&" : "", k, v);
        free(k);
        free(v);
    }
    char *s = mc_buf_steal(&q);
    return s ? s : mc_strdup("");
}

int e2e_imm_v(const e2e_daemon *d, const e2e_key *key, const char *action, const char *const *pairs,
              size_t n, e2e_resp *out)
{
    mc_kvlist params = {0}, headers = {0};
    struct curl_slist *h = NULL;
    char host[64], date[32], nonce[40], hdr[4096];
    time_t now = time(NULL) + (key ? key->date_offset_s : 0);
    snprintf(host, sizeof(host), "127.0.0.1:%d", d->port);
    iso_now(date, sizeof(date), now);
    random_hex(nonce, 32);
    if (key && key->nonce)
        snprintf(nonce, sizeof(nonce), "%s", key->nonce);
    if (key && key->v2) {
        const char *common[] = {"Action",           action,       "Format",          "json",
                                "Version",          "2020-09-30", "Timestamp",       date,
                                "SignatureNonce",   nonce,        "SignatureMethod", "HMAC-SHA1",
                                "SignatureVersion", "1.0",        "AccessKeyId",     key->id};
        for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i += 2)
            mc_kvlist_add(&params, common[i], strlen(common[i]), common[i + 1],
                          strlen(common[i + 1]));
    }
    for (size_t i = 0; i < n; i++)
        mc_kvlist_add(&params, pairs[2 * i], strlen(pairs[2 * i]), pairs[2 * i + 1],
                      strlen(pairs[2 * i + 1]));
    if (key && key->v2) {
        char *sig = mc_sign_rpc_v2_signature("POST", &params, key->secret);
        mc_kvlist_add(&params, "Signature", 9, sig, strlen(sig));
        free(sig);
    }
    char *query = query_of(&params);
    if (!key || !key->v2) {
        const char *hv[][2] = {
            {"host", host},
            {"x-acs-action", action},
            {"x-acs-version", "2020-09-30"},
            {"x-acs-date", date},
            {"x-acs-signature-nonce", nonce},
            {"x-acs-content-sha256",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        };
        for (size_t i = 0; i < sizeof(hv) / sizeof(hv[0]); i++) {
            mc_kvlist_add(&headers, hv[i][0], strlen(hv[i][0]), hv[i][1], strlen(hv[i][1]));
            if (i > 0) { /* curl sends Host itself */
                snprintf(hdr, sizeof(hdr), "%s: %s", hv[i][0], hv[i][1]);
                h = curl_slist_append(h, hdr);
            }
        }
        if (key) {
            mc_sign_req sr = {
                .method = "POST", .path = "/", .raw_query = query, .headers = &headers};
            char *auth = mc_sign_acs3_authorization(&sr, &params, key->id, key->secret);
            snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
            h = curl_slist_append(h, hdr);
            free(auth);
        }
    }
    if (key && key->extra_header)
        h = curl_slist_append(h, key->extra_header);
    h = curl_slist_append(h, "Expect:");
    char *url = mc_asprintf("http://127.0.0.1:%d/?%s", d->port, query);
    int rc = perform(url, "POST", h, NULL, out);
    free(url);
    free(query);
    curl_slist_free_all(h);
    mc_kvlist_clear(&params);
    mc_kvlist_clear(&headers);
    return rc;
}

int e2e_imm(const e2e_daemon *d, const e2e_key *key, const char *action, e2e_resp *out, ...)
{
    const char *pairs[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, out);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k || n >= 31)
            break;
        pairs[2 * n] = k;
        pairs[2 * n + 1] = va_arg(ap, const char *);
        n++;
    }
    va_end(ap);
    return e2e_imm_v(d, key, action, pairs, n, out);
}

void e2e_create_project(const e2e_daemon *d, const e2e_key *key, const char *name)
{
    e2e_resp r;
    if (e2e_imm(d, key, "CreateProject", &r, "ProjectName", name, NULL) < 0 || r.status != 200)
        fprintf(stderr, "CreateProject %s: %ld %s\n", name, r.status, r.raw ? r.raw : "");
    e2e_resp_clear(&r);
}

char *e2e_create_task(const e2e_daemon *d, const e2e_key *key, const char *project,
                      const char *sources, const char *targets, const char *extra_name,
                      const char *extra_value)
{
    e2e_resp r;
    const char *pairs[8] = {"ProjectName", project, "Sources",  sources,
                            "Targets",     targets, extra_name, extra_value};
    char *id = NULL;
    if (e2e_imm_v(d, key, "CreateMediaConvertTask", pairs, extra_name ? 4 : 3, &r) == 0 &&
        r.status == 200)
        id = mc_strdup(json_string_value(json_object_get(r.body, "TaskId")));
    else
        fprintf(stderr, "CreateMediaConvertTask: %ld %s\n", r.status, r.raw ? r.raw : "");
    e2e_resp_clear(&r);
    return id;
}

json_t *e2e_wait_task(const e2e_daemon *d, const e2e_key *key, const char *project, const char *id,
                      double timeout_s)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        e2e_resp r;
        if (e2e_imm(d, key, "GetTask", &r, "ProjectName", project, "TaskId", id, "TaskType",
                    "MediaConvert", NULL) == 0 &&
            r.status == 200) {
            const char *st = json_string_value(json_object_get(r.body, "Status"));
            if (st && strcmp(st, "Running") != 0) {
                json_t *b = json_incref(r.body);
                e2e_resp_clear(&r);
                return b;
            }
        }
        e2e_resp_clear(&r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > timeout_s)
            return NULL;
        sleep_ms(100);
    }
}

const char *e2e_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int e2e_count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".part-"))
            n++;
    closedir(d);
    return n;
}

/* ---- systemd's notify socket ---- */

double e2e_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int e2e_bind_dgram(const char *path, struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
    unlink(sun->sun_path);
    if (fd < 0 || bind(fd, (struct sockaddr *)sun, sizeof(*sun)) != 0) {
        fprintf(stderr, "cannot bind a datagram socket at %s: %s\n", path, strerror(errno));
        abort();
    }
    return fd;
}

int e2e_notify_socket(struct sockaddr_un *sun)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/mc-notify-%d.sock", (int)getpid());
    return e2e_bind_dgram(path, sun);
}

bool e2e_notify_next(int fd, char *buf, size_t size, double timeout_s)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)(timeout_s * 1000)) != 1)
        return false;
    ssize_t n = recv(fd, buf, size - 1, 0);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

bool e2e_notify_wait_for(int fd, const char *what, double timeout_s, int *pings, char *last,
                         size_t size)
{
    double end = e2e_now_s() + timeout_s;
    while (e2e_now_s() < end) {
        if (!e2e_notify_next(fd, last, size, end - e2e_now_s()))
            return false;
        if (pings && strstr(last, "WATCHDOG=1"))
            (*pings)++;
        if (strstr(last, what))
            return true;
    }
    return false;
}

/* ---- webhook receiver ---- */

typedef struct hook_msg {
    char *body;
    char *task_id;
} hook_msg;

struct e2e_hook {
    struct MHD_Daemon *mhd;
    int port;
    pthread_mutex_t lock;
    int fail_first_n;
    size_t received;
    hook_msg *msgs;
    size_t n_msgs;
};

typedef struct hook_req {
    mc_buf body;
} hook_req;

static enum MHD_Result hook_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **req_cls)
{
    (void)url;
    (void)method;
    (void)version;
    e2e_hook *h = cls;
    hook_req *r = *req_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        mc_buf_append(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    const char *task = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Mc-Task-Id");
    unsigned status = 200;
    pthread_mutex_lock(&h->lock);
    h->received++;
    if ((int)h->received <= h->fail_first_n) {
        status = 503;
    } else {
        hook_msg *grown = realloc(h->msgs, (h->n_msgs + 1) * sizeof(*grown));
        if (grown) {
            h->msgs = grown;
            grown[h->n_msgs].body = mc_strdup(r->body.data ? r->body.data : "");
            grown[h->n_msgs].task_id = mc_strdup(task ? task : "");
            h->n_msgs++;
        }
    }
    pthread_mutex_unlock(&h->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void hook_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    hook_req *r = *req_cls;
    if (r) {
        mc_buf_free(&r->body);
        free(r);
        *req_cls = NULL;
    }
}

e2e_hook *e2e_hook_start(int fail_first_n)
{
    e2e_hook *h = calloc(1, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    h->fail_first_n = fail_first_n;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                              NULL, NULL, hook_request, h, MHD_OPTION_SOCK_ADDR, &sa,
                              MHD_OPTION_NOTIFY_COMPLETED, hook_done, h, MHD_OPTION_END);
    if (!h->mhd) {
        free(h);
        return NULL;
    }
    h->port = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
    return h;
}

int e2e_hook_port(const e2e_hook *h)
{
    return h->port;
}

size_t e2e_hook_count(e2e_hook *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->received;
    pthread_mutex_unlock(&h->lock);
    return n;
}

bool e2e_hook_get(e2e_hook *h, size_t i, char **body, char **task_id)
{
    bool ok = false;
    pthread_mutex_lock(&h->lock);
    if (i < h->n_msgs) {
        *body = mc_strdup(h->msgs[i].body);
        *task_id = mc_strdup(h->msgs[i].task_id);
        ok = true;
    }
    pthread_mutex_unlock(&h->lock);
    return ok;
}

size_t e2e_hook_distinct_tasks(e2e_hook *h)
{
    size_t distinct = 0;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_msgs; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(h->msgs[i].task_id, h->msgs[j].task_id) == 0;
        if (!seen)
            distinct++;
    }
    pthread_mutex_unlock(&h->lock);
    return distinct;
}

void e2e_hook_stop(e2e_hook **hp)
{
    e2e_hook *h = hp ? *hp : NULL;
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    for (size_t i = 0; i < h->n_msgs; i++) {
        free(h->msgs[i].body);
        free(h->msgs[i].task_id);
    }
    free(h->msgs);
    pthread_mutex_destroy(&h->lock);
    free(h);
    *hp = NULL;
}
