/*
 * The delivery thread: takes due messages from the store's outbox, POSTs them with libcurl
 * and records the outcome (delivered, retry later with exponential back-off, or given up).
 * The outbox lives in the database, so a message survives a restart; delivery is at least
 * once (a message whose POST succeeded but whose "done" was not recorded is sent again).
 *
 * libcurl: curl_global_init() runs once per process (pthread_once) in mc_notifier_start();
 * curl_global_cleanup() is never called, as other modules or a later notifier may still
 * use libcurl and a global cleanup is not safe while any thread does.
 */
#include "mc_notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc_log.h"
#include "mc_str.h"
#include "mc_time.h"

#define DEF_MAX_ATTEMPTS 20
#define DEF_BASE_MS      1000
#define DEF_MAX_MS       300000
#define DEF_TIMEOUT_MS   10000
#define IDLE_MAX_MS      1000 /* look at the outbox at least this often */
#define REPLY_KEEP       160  /* bytes of a failed reply kept in last_error */
#define WHAT_MAX         384

struct mc_notifier {
    mc_db *db;
    int64_t base_ms, max_ms, timeout_ms;
    CURL *curl; /* used by the thread only */
    char curl_err[CURL_ERROR_SIZE];
    char reply[REPLY_KEEP + 1]; /* start of the current reply's body */
    size_t reply_len;
    uint64_t rng; /* xorshift state for the jitter */
    bool db_failing;

    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    bool wake;           /* under lock: mc_notifier_wake() since the last look */
    char *secret;        /* under lock (mc_notifier_reconfigure): owned, NULL = unsigned */
    int max_attempts;    /* under lock */
    atomic_bool stop;
    pthread_t thread;
    bool has_lock, has_cond, has_thread;
};

/* ---- libcurl setup ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_reply(char *data, size_t size, size_t nmemb, void *opaque)
{
    mc_notifier *n = opaque;
    size_t len = size * nmemb;
    size_t room = REPLY_KEEP - n->reply_len;
    size_t take = len < room ? len : room;
    memcpy(n->reply + n->reply_len, data, take);
    n->reply_len += take;
    n->reply[n->reply_len] = '\0';
    return len;
}

/* Aborts a transfer in flight when the notifier is stopping. */
static int on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    mc_notifier *n = opaque;
    return atomic_load(&n->stop) ? 1 : 0;
}

/* The options that stay the same for every message. */
static int curl_setup(mc_notifier *n)
{
    CURL *c = n->curl;
    CURLcode cc = CURLE_OK;
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->timeout_ms);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_POST, 1L);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_USERAGENT, "mediaconvertd-notify/1");
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, n->curl_err);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_WRITEDATA, n);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (!cc)
        cc = curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
    return cc == CURLE_OK ? 0 : -EIO;
}

/* ---- one delivery ---- */

/* "t=<unix seconds>,v1=<lowerhex HMAC-SHA256(secret, "<t>.<body>")>" into out. */
static int signature(const char *secret, int64_t t, const char *body, char *out, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    mc_buf msg = {0};
    int rc = -ENOMEM;
    mc_buf_printf(&msg, "%" PRId64 ".", t);
    mc_buf_puts(&msg, body);
    if (msg.oom)
        goto out;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg.data, msg.len,
              md, &md_len)) {
        rc = -EIO;
        goto out;
    }
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[2 * md_len] = '\0';
    snprintf(out, size, "X-Mc-Signature: t=%" PRId64 ",v1=%s", t, hex);
    rc = 0;
out:
    mc_buf_free(&msg);
    return rc;
}

static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int add_header(struct curl_slist **list, const char *h)
{
    struct curl_slist *l = curl_slist_append(*list, h);
    if (!l)
        return -ENOMEM;
    *list = l;
    return 0;
}

/*
 * POST m once. 0 on a 2xx reply; -ECANCELED when stopped mid-way; else a negative code
 * with what went wrong in what.
 */
static int post(mc_notifier *n, const mc_outbox_msg *m, char *what, size_t what_size)
{
    struct curl_slist *hdrs = NULL;
    char line[256];
    long status = 0;
    int rc = add_header(&hdrs, "Content-Type: application/json");
    if (!rc)
        rc = add_header(&hdrs, "Expect:"); /* no 100-continue round trip */
    snprintf(line, sizeof(line), "X-Mc-Delivery: %" PRId64, m->id);
    if (!rc)
        rc = add_header(&hdrs, line);
    if (!rc && m->task_id && header_safe(m->task_id) &&
        snprintf(line, sizeof(line), "X-Mc-Task-Id: %s", m->task_id) < (int)sizeof(line))
        rc = add_header(&hdrs, line);
    pthread_mutex_lock(&n->lock);
    bool sign = !rc && n->secret;
    if (sign)
        rc = signature(n->secret, mc_now_ms() / 1000, m->body, line, sizeof(line));
    pthread_mutex_unlock(&n->lock);
    if (sign && !rc)
        rc = add_header(&hdrs, line);
    if (rc < 0) {
        snprintf(what, what_size, "cannot build the request: %s",
                 rc == -ENOMEM ? "out of memory" : "HMAC failed");
        goto out;
    }
    n->curl_err[0] = '\0';
    n->reply_len = 0;
    n->reply[0] = '\0';
    CURLcode cc = curl_easy_setopt(n->curl, CURLOPT_URL, m->url);
    if (!cc)
        cc = curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, hdrs);
    if (!cc)
        cc = curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(m->body));
    if (!cc)
        cc = curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, m->body);
    if (!cc)
        cc = curl_easy_perform(n->curl);
    if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&n->stop)) {
        snprintf(what, what_size, "stopped");
        rc = -ECANCELED;
        goto out;
    }
    if (cc != CURLE_OK) {
        snprintf(what, what_size, "%s", n->curl_err[0] ? n->curl_err : curl_easy_strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
        goto out;
    }
    curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        for (char *p = n->reply; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = ' ';
        while (n->reply_len > 0 && n->reply[n->reply_len - 1] == ' ')
            n->reply[--n->reply_len] = '\0';
        snprintf(what, what_size, "HTTP %ld%s%s", status, n->reply_len ? ": " : "", n->reply);
        rc = -EPROTO;
        goto out;
    }
    rc = 0;
out:
    /* the list is freed below: the handle must not keep pointing at it */
    curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdrs);
    return rc;
}

static uint64_t rng_next(mc_notifier *n)
{
    uint64_t x = n->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    n->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* min(base * 2^tries_before, max) with +-20% jitter, within [1, max]. */
static int64_t backoff_ms(mc_notifier *n, int tries_before)
{
    int64_t d = n->base_ms;
    for (int i = 0; i < tries_before && d < n->max_ms; i++)
        d = d > n->max_ms / 2 ? n->max_ms : d * 2;
    if (d > n->max_ms)
        d = n->max_ms;
    double f = 0.8 + 0.4 * (double)(rng_next(n) >> 11) / (double)(1ULL << 53);
    d = (int64_t)((double)d * f);
    if (d > n->max_ms)
        d = n->max_ms;
    return d < 1 ? 1 : d;
}

/* The URL for a log line: user:password@ replaced by ***@. */
static void url_for_log(const char *url, char *buf, size_t size)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', end);
    if (!at) {
        snprintf(buf, size, "%s", url);
        return;
    }
    snprintf(buf, size, "%.*s***%s", (int)(host - url), url, at);
}

static void deliver(mc_notifier *n, const mc_outbox_msg *m)
{
    char what[WHAT_MAX] = "", url[512];
    mc_err err;
    mc_err_clear(&err);
    url_for_log(m->url ? m->url : "", url, sizeof(url));
    int rc = m->url && m->body ? post(n, m, what, sizeof(what)) : -EINVAL;
    if (rc == -EINVAL)
        snprintf(what, sizeof(what), "message without url or body");
    if (rc == -ECANCELED)
        return; /* stopping: still due, sent again after the next start */
    if (rc == 0) {
        if (mc_db_outbox_done(n->db, m->id, &err) < 0) {
            mc_log(MC_LOG_ERROR,
                   "notify: delivered but not recorded (will be sent again) task=%s url=%s "
                   "delivery=%" PRId64 ": %s",
                   m->task_id, url, m->id, err.msg);
            n->db_failing = true;
            return;
        }
        mc_log(MC_LOG_DEBUG, "notify: delivered task=%s url=%s delivery=%" PRId64 " tries=%d",
               m->task_id, url, m->id, m->attempts + 1);
        return;
    }
    int tries = m->attempts + 1;
    pthread_mutex_lock(&n->lock);
    int max_attempts = n->max_attempts;
    pthread_mutex_unlock(&n->lock);
    if (tries >= max_attempts) {
        mc_log(MC_LOG_ERROR,
               "notify: giving up task=%s url=%s delivery=%" PRId64 " after %d tries: %s",
               m->task_id, url, m->id, tries, what);
        rc = mc_db_outbox_give_up(n->db, m->id, what, &err);
    } else {
        int64_t delay = backoff_ms(n, m->attempts);
        mc_log(MC_LOG_WARN,
               "notify: delivery failed task=%s url=%s delivery=%" PRId64
               " try=%d/%d: %s; retry in %" PRId64 " ms",
               m->task_id, url, m->id, tries, max_attempts, what, delay);
        rc = mc_db_outbox_retry(n->db, m->id, mc_now_ms() + delay, what, &err);
    }
    if (rc < 0) {
        mc_log(MC_LOG_ERROR, "notify: cannot record the failed try task=%s url=%s: %s", m->task_id,
               url, err.msg);
        n->db_failing = true;
    }
}

/* ---- the thread ---- */

/* Sleep up to ms, or until woken or stopped. */
static void idle(mc_notifier *n, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&n->lock);
    while (!n->wake && !atomic_load(&n->stop))
        if (pthread_cond_timedwait(&n->cond, &n->lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&n->lock);
}

static void *run(void *opaque)
{
    mc_notifier *n = opaque;
    while (!atomic_load(&n->stop)) {
        mc_outbox_msg m = {0};
        mc_err err;
        mc_err_clear(&err);
        pthread_mutex_lock(&n->lock);
        n->wake = false; /* a wake from now on is seen by idle() */
        pthread_mutex_unlock(&n->lock);
        bool was_failing = n->db_failing;
        n->db_failing = false;
        int64_t now = mc_now_ms();
        int rc = mc_db_outbox_next(n->db, now, &m, &err);
        if (rc > 0) {
            deliver(n, &m);
            mc_outbox_msg_clear(&m);
            if (n->db_failing)
                idle(n, IDLE_MAX_MS); /* do not spin on a store that fails */
            continue;
        }
        int64_t due = 0;
        if (rc == 0)
            rc = mc_db_outbox_next_due(n->db, &due, &err);
        if (rc < 0) {
            if (!was_failing)
                mc_log(MC_LOG_ERROR, "notify: cannot read the outbox: %s", err.msg);
            n->db_failing = true;
            idle(n, IDLE_MAX_MS);
            continue;
        }
        int64_t wait = due > 0 ? due - mc_now_ms() : IDLE_MAX_MS;
        if (wait > IDLE_MAX_MS)
            wait = IDLE_MAX_MS;
        if (wait > 0)
            idle(n, wait);
    }
    return NULL;
}

void mc_notifier_wake(mc_notifier *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->lock);
    n->wake = true;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

void mc_notifier_stop(mc_notifier **np)
{
    mc_notifier *n = np ? *np : NULL;
    if (!n)
        return;
    if (n->has_thread) {
        pthread_mutex_lock(&n->lock);
        atomic_store(&n->stop, true);
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
        pthread_join(n->thread, NULL);
    }
    if (n->curl)
        curl_easy_cleanup(n->curl);
    if (n->has_cond)
        pthread_cond_destroy(&n->cond);
    if (n->has_lock)
        pthread_mutex_destroy(&n->lock);
    free(n->secret);
    free(n);
    *np = NULL;
}

/* The settings a reload may change. 0 or -ENOMEM (then nothing changed). */
static int set_cfg(mc_notifier *n, const mc_notify_cfg *cfg)
{
    char *secret = NULL;
    if (cfg->secret && *cfg->secret && !(secret = mc_strdup(cfg->secret)))
        return -ENOMEM;
    pthread_mutex_lock(&n->lock);
    free(n->secret);
    n->secret = secret;
    n->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : DEF_MAX_ATTEMPTS;
    pthread_mutex_unlock(&n->lock);
    return 0;
}

int mc_notifier_reconfigure(mc_notifier *n, const mc_notify_cfg *cfg)
{
    if (!n || !cfg)
        return -EINVAL;
    return set_cfg(n, cfg);
}

int mc_notifier_start(const mc_notify_cfg *cfg, mc_db *db, mc_notifier **out, mc_err *err)
{
    mc_notifier *n = NULL;
    pthread_condattr_t ca;
    int rc;
    if (!cfg || !db || !out)
        return mc_err_set(err, -EINVAL, NULL, "notify: missing argument");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        rc = mc_err_set(err, -EIO, NULL, "notify: curl_global_init: %s",
                        curl_easy_strerror(curl_init_rc));
        goto out;
    }
    if (!(n = calloc(1, sizeof(*n)))) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    n->db = db;
    n->base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : DEF_BASE_MS;
    n->max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : DEF_MAX_MS;
    n->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEF_TIMEOUT_MS;
    if (n->timeout_ms > INT32_MAX)
        n->timeout_ms = INT32_MAX; /* CURLOPT_TIMEOUT_MS takes a long */
    n->rng = (uint64_t)mc_mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)n ^
             (uint64_t)getpid();
    if (!n->rng)
        n->rng = 0x9E3779B97F4A7C15ULL;
    atomic_init(&n->stop, false);
    if (!(n->curl = curl_easy_init()) || curl_setup(n) < 0) {
        rc = mc_err_set(err, -EIO, NULL, "notify: cannot set up a libcurl handle");
        goto out;
    }
    if ((rc = -pthread_mutex_init(&n->lock, NULL)) < 0) {
        mc_err_set(err, rc, NULL, "notify: pthread_mutex_init: %s", strerror(-rc));
        goto out;
    }
    n->has_lock = true;
    if ((rc = set_cfg(n, cfg)) < 0) {
        mc_err_set(err, rc, NULL, "out of memory");
        goto out;
    }
    if ((rc = -pthread_condattr_init(&ca)) < 0) {
        mc_err_set(err, rc, NULL, "notify: pthread_condattr_init: %s", strerror(-rc));
        goto out;
    }
    rc = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!rc)
        rc = -pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc < 0) {
        mc_err_set(err, rc, NULL, "notify: pthread_cond_init: %s", strerror(-rc));
        goto out;
    }
    n->has_cond = true;
    if ((rc = -pthread_create(&n->thread, NULL, run, n)) < 0) {
        mc_err_set(err, rc, NULL, "notify: pthread_create: %s", strerror(-rc));
        goto out;
    }
    n->has_thread = true;
    *out = n;
    n = NULL;
    rc = 0;
out:
    mc_notifier_stop(&n);
    return rc;
}
