/*
 * The FFmpeg API (/v1/ffmpeg) end to end: a real file is uploaded as multipart/form-data,
 * every operation runs on it through the daemon, the outputs are downloaded through the
 * URLs the API hands out and read back with libavformat. Also: Bearer auth, the allowlist,
 * the upload limit (a 201 MB body streamed in chunks leaves nothing on disk), the per-caller
 * task limit (429), a task timeout, credits in /metrics, and the keyless anonymous mode.
 */
#include <curl/curl.h>
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "mc_str.h"
#include "support.h"

#define TOK1     "Authorization: Bearer ff-secret-one"
#define TOK2     "Authorization: Bearer ff-secret-two"
#define BOUNDARY "mcFFapiBoundary7d1f3a"

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
    return mc_buf_append(opaque, p, size * n) < 0 ? 0 : size * n;
}

/* One request with a binary body (NULL: none) and up to two extra headers. */
static void ff_http(const e2e_daemon *d, const char *method, const char *target, const char *h1,
                    const char *h2, const char *body, size_t len, e2e_resp *out)
{
    char *url = mc_asprintf("http://127.0.0.1:%d%s", d->port, target);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (h1)
        h = curl_slist_append(h, h1);
    if (h2)
        h = curl_slist_append(h, h2);
    CURL *c = curl_easy_init();
    mc_buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(c);
    memset(out, 0, sizeof(*out));
    assert_int_equal(cc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->raw = mc_buf_steal(&b);
    if (!out->raw)
        out->raw = mc_strdup("");
    out->body = json_loads(out->raw, 0, NULL);
    mc_buf_free(&b);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(url);
}

/* The envelope's code equals the HTTP status and msg is as expected; returns data. */
static json_t *envelope(const e2e_resp *r, long status, const char *msg)
{
    if (r->status != status || !r->body)
        fprintf(stderr, "HTTP %ld: %s\n", r->status, r->raw);
    assert_int_equal(r->status, status);
    assert_non_null(r->body);
    assert_int_equal(json_integer_value(json_object_get(r->body, "code")), status);
    assert_string_equal(e2e_str(r->body, "msg"), msg);
    return json_object_get(r->body, "data");
}

/* POST /v1/ffmpeg/upload of `len` bytes as the multipart field "file". */
static void upload_bytes(const e2e_daemon *d, const char *tok, const char *name, const char *data,
                         size_t len, e2e_resp *out)
{
    mc_buf b = {0};
    mc_buf_printf(&b,
                  "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
                  "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
                  "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                  name);
    mc_buf_append(&b, data, len);
    mc_buf_puts(&b, "\r\n--" BOUNDARY "--\r\n");
    assert_false(b.oom);
    ff_http(d, "POST", "/v1/ffmpeg/upload", tok,
            "Content-Type: multipart/form-data; boundary=" BOUNDARY, b.data, b.len, out);
    mc_buf_free(&b);
}

/* Upload a file; returns the URL (caller frees) after checking the answer. */
static char *upload_file(const e2e_daemon *d, const char *tok, const char *path, const char *name)
{
    size_t len = 0;
    char *data = t_read_all(path, &len);
    assert_non_null(data);
    e2e_resp r;
    upload_bytes(d, tok, name, data, len, &r);
    json_t *dt = envelope(&r, 200, "success");
    assert_int_equal(json_integer_value(json_object_get(dt, "size")), (json_int_t)len);
    assert_int_equal(json_integer_value(json_object_get(dt, "credits")), 1); /* flat */
    char *url = mc_strdup(e2e_str(dt, "url"));
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%d/ffmpeg-api/uploads/", d->port);
    assert_true(mc_str_starts_with(url, prefix));
    e2e_resp_clear(&r);
    free(data);
    return url;
}

/* GET a URL the API handed out into `dest`; returns the HTTP status. */
static long download(const char *url, const char *dest)
{
    FILE *f = fopen(dest, "wb");
    assert_non_null(f);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    fclose(f);
    assert_int_equal(cc, CURLE_OK);
    return status;
}

/* POST /v1/ffmpeg/<op> with a JSON body; the reply in out. */
static void submit(const e2e_daemon *d, const char *tok, const char *op, const char *json,
                   e2e_resp *out)
{
    char target[128];
    snprintf(target, sizeof(target), "/v1/ffmpeg/%s", op);
    ff_http(d, "POST", target, tok, "Content-Type: application/json", json, strlen(json), out);
}

/* Submit and return the taskId (caller frees); adds the credits to *credits. */
static char *submit_ok(const e2e_daemon *d, const char *tok, const char *op, const char *json,
                       json_int_t *credits)
{
    e2e_resp r;
    submit(d, tok, op, json, &r);
    json_t *dt = envelope(&r, 200, "success");
    char *id = mc_strdup(e2e_str(dt, "taskId"));
    assert_true(strlen(id) > 10);
    json_int_t c = json_integer_value(json_object_get(dt, "credits"));
    assert_true(c >= 1);
    if (credits)
        *credits += c;
    e2e_resp_clear(&r);
    return id;
}

/* Poll info until the task is succeeded or failed; returns data (caller decrefs). */
static json_t *wait_info(const e2e_daemon *d, const char *tok, const char *id, double timeout_s)
{
    char target[256];
    snprintf(target, sizeof(target), "/v1/ffmpeg/info?id=%s", id);
    double end = e2e_now_s() + timeout_s;
    while (e2e_now_s() < end) {
        e2e_resp r;
        ff_http(d, "GET", target, tok, NULL, NULL, 0, &r);
        json_t *dt = envelope(&r, 200, "success");
        const char *st = e2e_str(dt, "status");
        assert_true(!strcmp(st, "pending") || !strcmp(st, "processing") ||
                    !strcmp(st, "succeeded") || !strcmp(st, "failed"));
        if (!strcmp(st, "succeeded") || !strcmp(st, "failed")) {
            json_t *keep = json_incref(dt);
            e2e_resp_clear(&r);
            return keep;
        }
        e2e_resp_clear(&r);
        usleep(200000);
    }
    fail_msg("task %s did not finish in %.0f s", id, timeout_s);
    return NULL;
}

/* Run an operation to success; the output read back in *out (its URL downloaded through
 * the daemon), and its info data returned (caller decrefs). */
static json_t *run_op(const e2e_daemon *d, const char *op, const char *json, const char *ext,
                      t_file *out, json_int_t *credits)
{
    char *id = submit_ok(d, TOK1, op, json, credits);
    json_t *info = wait_info(d, TOK1, id, 240);
    if (strcmp(e2e_str(info, "status"), "succeeded") != 0)
        fail_msg("%s failed: %s", op, e2e_str(info, "errorMsg"));
    assert_string_equal(e2e_str(info, "operation"), op);
    assert_string_equal(e2e_str(info, "taskId"), id);
    assert_int_equal(json_integer_value(json_object_get(info, "progress")), 100);
    assert_true(strlen(e2e_str(info, "createdAt")) == 20);
    assert_true(strlen(e2e_str(info, "finishedAt")) == 20);
    assert_true(json_is_null(json_object_get(info, "errorMsg")));
    json_t *o = json_object_get(info, "output");
    const char *url = e2e_str(o, "url");
    assert_true(strstr(url, "/ffmpeg-api/outputs/") != NULL);
    assert_true(strstr(url, "OSSAccessKeyId=AKFFONE") != NULL); /* presigned for the owner */
    char dest[600];
    snprintf(dest, sizeof(dest), "%s/dl-%s.%s",
             getenv("MC_TEST_TMP") ? getenv("MC_TEST_TMP") : "/tmp", op, ext);
    assert_int_equal(download(url, dest), 200);
    if (out)
        assert_true(t_read(dest, out));
    free(id);
    return info;
}

static void start(e2e_daemon *d, const char *name, const char *config)
{
    e2e_daemon_init(d, name);
    snprintf(d->config, sizeof(d->config), "%s", config);
    assert_int_equal(e2e_daemon_start(d), 0);
}

static int n_files;
static int count_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)ftw;
    if (type == FTW_F)
        n_files++;
    return 0;
}

/* Regular files under a folder (temporary files included). */
static int files_under(const char *dir)
{
    n_files = 0;
    nftw(dir, count_file, 16, FTW_PHYS);
    return n_files;
}

/* A multipart body of `total` file bytes, produced in chunks (curl sends it chunked). */
typedef struct stream_src {
    size_t head_len, file_left, tail_len, pos;
    char head[512], tail[64];
} stream_src;

static size_t stream_read(char *buf, size_t size, size_t n, void *opaque)
{
    stream_src *s = opaque;
    size_t cap = size * n, k = 0;
    while (k < cap) {
        if (s->pos < s->head_len) {
            buf[k++] = s->head[s->pos++];
        } else if (s->file_left > 0) {
            size_t m = cap - k < s->file_left ? cap - k : s->file_left;
            memset(buf + k, 'x', m);
            k += m;
            s->file_left -= m;
        } else if (s->pos - s->head_len < s->tail_len) {
            buf[k++] = s->tail[s->pos++ - s->head_len];
        } else {
            break;
        }
    }
    return k;
}

static void big_upload(const e2e_daemon *d, size_t total, e2e_resp *out)
{
    stream_src s = {.file_left = total};
    snprintf(s.head, sizeof(s.head),
             "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
             "filename=\"big.mp4\"\r\n\r\n");
    s.head_len = strlen(s.head);
    snprintf(s.tail, sizeof(s.tail), "\r\n--" BOUNDARY "--\r\n");
    s.tail_len = strlen(s.tail);
    char *url = mc_asprintf("http://127.0.0.1:%d/v1/ffmpeg/upload", d->port);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    h = curl_slist_append(h, TOK1);
    h = curl_slist_append(h, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "Content-Type: multipart/form-data; boundary=" BOUNDARY);
    CURL *c = curl_easy_init();
    mc_buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, stream_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode cc = curl_easy_perform(c);
    assert_int_equal(cc, CURLE_OK);
    memset(out, 0, sizeof(*out));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->raw = mc_buf_steal(&b);
    out->body = out->raw ? json_loads(out->raw, 0, NULL) : NULL;
    assert_int_equal(s.file_left, 0); /* the whole body was read (drained) */
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(url);
}

/* Send only the headers of an upload declaring `length` bytes; the answer must come
 * before any body byte is sent. Returns the response text (caller frees). */
static char *declared_upload(const e2e_daemon *d, long long length)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "POST /v1/ffmpeg/upload HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" TOK1 "\r\n"
                     "Content-Type: multipart/form-data; boundary=" BOUNDARY "\r\n"
                     "Content-Length: %lld\r\n\r\n",
                     d->port, length);
    assert_int_equal(write(fd, req, (size_t)n), n);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    mc_buf b = {0};
    char buf[4096];
    ssize_t k;
    while ((k = read(fd, buf, sizeof(buf))) > 0) {
        mc_buf_append(&b, buf, (size_t)k);
        if (strstr(b.data, "}}"))
            break;
    }
    close(fd);
    char *text = mc_buf_steal(&b);
    assert_non_null(text);
    return text;
}

/* The value of a /metrics line starting with `prefix`, -1 when absent. */
static long long metric(const e2e_daemon *d, const char *prefix)
{
    e2e_resp r;
    ff_http(d, "GET", "/metrics", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    long long v = -1;
    const char *p = strstr(r.raw, prefix);
    if (p)
        v = strtoll(p + strlen(prefix), NULL, 10);
    e2e_resp_clear(&r);
    return v;
}

static void near(double got, double want, double tol, const char *what)
{
    if (fabs(got - want) > tol)
        fail_msg("%s: %.3f, expected %.3f +- %.3f", what, got, want, tol);
}

static void test_operations(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "ffapi", "[keys]\nAKFFONE = ff-secret-one\nAKFFTWO = ff-secret-two\n");
    char media[1024], png[1024];
    snprintf(media, sizeof(media), "%s/friday.mp4", t_media_dir());
    snprintf(png, sizeof(png), "%s/fixtures/wm_square.png", t_store());
    e2e_resp r;

    /* Auth: no token, a wrong one. */
    upload_bytes(&d, NULL, "a.mp4", "abc", 3, &r);
    envelope(&r, 401, "unauthorized");
    e2e_resp_clear(&r);
    upload_bytes(&d, "Authorization: Bearer ff-secret-on", "a.mp4", "abc", 3, &r);
    envelope(&r, 401, "unauthorized");
    e2e_resp_clear(&r);

    char *url = upload_file(&d, TOK1, media, "my friday (1).mp4");
    assert_true(strstr(url, "/my_friday__1_.mp4?OSSAccessKeyId=AKFFONE&Expires=") != NULL);
    char *wm = upload_file(&d, TOK1, png, "wm.png");
    /* The URL serves the stored bytes; a tampered signature does not. */
    char dest[600];
    snprintf(dest, sizeof(dest), "%s/ffapi-up.mp4", getenv("MC_TEST_TMP"));
    assert_int_equal(download(url, dest), 200);
    assert_true(t_same_packets(dest, media, 'v'));
    char *bad = mc_asprintf("%sx", url);
    assert_int_equal(download(bad, dest), 403);
    free(bad);

    /* probe answers at once. */
    char json[2048];
    snprintf(json, sizeof(json), "{\"input\":\"%s\"}", url);
    submit(&d, TOK1, "probe", json, &r);
    json_t *p = envelope(&r, 200, "success");
    assert_int_equal(json_integer_value(json_object_get(p, "credits")), 1); /* flat */
    near(json_number_value(json_object_get(p, "duration")), 6.166, 0.02, "probe duration");
    assert_int_equal(json_integer_value(json_object_get(p, "size")), 515198);
    assert_int_equal(json_integer_value(json_object_get(p, "width")), 640);
    assert_int_equal(json_integer_value(json_object_get(p, "height")), 480);
    assert_int_equal(json_array_size(json_object_get(p, "streams")), 2);
    assert_non_null(strstr(e2e_str(p, "format"), "mp4"));
    e2e_resp_clear(&r);

    /* The allowlist: no other host, no other scheme; nothing is fetched. */
    const char *refused[] = {"http://169.254.169.254/latest/meta-data/iam", "file:///etc/passwd",
                             "http://evil.example/ffmpeg-api/a.mp4",
                             "ftp://127.0.0.1/ffmpeg-api/a.mp4"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(json, sizeof(json), "{\"input\":\"%s\"}", refused[i]);
        submit(&d, TOK1, "transcode", json, &r);
        json_t *dt = envelope(&r, 400, "non-allowlist url");
        assert_non_null(strstr(e2e_str(dt, "errorMsg"), "input"));
        e2e_resp_clear(&r);
    }
    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"image_url\":\"%s\"}", url,
             "http://169.254.169.254/x.png");
    submit(&d, TOK1, "watermark", json, &r);
    envelope(&r, 400, "non-allowlist url");
    e2e_resp_clear(&r);
    /* Invalid params: a missing size, an unknown parameter, a missing object. */
    snprintf(json, sizeof(json), "{\"input\":\"%s\"}", url);
    submit(&d, TOK1, "scale", json, &r);
    assert_non_null(strstr(e2e_str(envelope(&r, 400, "invalid params"), "errorMsg"), "width"));
    e2e_resp_clear(&r);
    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"widht\":320}", url);
    submit(&d, TOK1, "scale", json, &r);
    assert_non_null(strstr(e2e_str(envelope(&r, 400, "invalid params"), "errorMsg"), "widht"));
    e2e_resp_clear(&r);
    snprintf(json, sizeof(json), "{\"input\":\"http://127.0.0.1:%d/ffmpeg-api/uploads/none.mp4\"}",
             d.port);
    submit(&d, TOK1, "transcode", json, &r);
    envelope(&r, 400, "invalid params");
    e2e_resp_clear(&r);
    submit(&d, TOK1, "sharpen", "{}", &r);
    envelope(&r, 404, "not found");
    e2e_resp_clear(&r);

    json_int_t credits = 0;
    t_file f;
    json_t *info;

    snprintf(json, sizeof(json),
             "{\"input\":\"%s\",\"format\":\"mov\",\"video_codec\":\"h264\",\"audio_codec\":"
             "\"aac\",\"fps\":15}",
             url);
    info = run_op(&d, "transcode", json, "mov", &f, &credits);
    assert_non_null(strstr(f.format, "mov"));
    assert_string_equal(f.video.codec, "h264");
    assert_string_equal(f.audio.codec, "aac");
    near(f.video.fps, 15, 0.01, "transcode fps");
    assert_true(f.video.packets >= 90 && f.video.packets <= 94);
    near(json_number_value(json_object_get(json_object_get(info, "output"), "duration")), 6.17,
         0.15, "info duration");
    json_decref(info);

    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"width\":320,\"height\":240}", url);
    info = run_op(&d, "scale", json, "mp4", &f, &credits);
    char *scale_id = mc_strdup(e2e_str(info, "taskId"));
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.video.height, 240);
    near(f.duration, 6.17, 0.15, "scale duration");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(info, "output"), "width")),
                     320);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(info, "output"), "height")),
                     240);
    json_decref(info);

    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"start\":1,\"duration\":2}", url);
    json_decref(run_op(&d, "trim", json, "mp4", &f, &credits));
    near(f.video.duration, 2.0, 0.1, "trim video duration");
    assert_true(f.video.packets >= 58 && f.video.packets <= 62);
    assert_int_equal(f.video.width, 640);

    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"format\":\"mp3\"}", url);
    json_decref(run_op(&d, "extract_audio", json, "mp3", &f, &credits));
    assert_int_equal(f.nb_streams, 1);
    assert_false(f.video.present);
    assert_string_equal(f.audio.codec, "mp3");
    near(f.duration, 6.15, 0.15, "extract_audio duration");

    snprintf(json, sizeof(json),
             "{\"input\":\"%s\",\"start\":1,\"duration\":2,\"fps\":5,\"width\":160}", url);
    json_decref(run_op(&d, "to_gif", json, "gif", &f, &credits));
    assert_string_equal(f.video.codec, "gif");
    assert_int_equal(f.video.width, 160);
    assert_int_equal(f.video.height, 120);
    assert_int_equal(f.video.packets, 10);

    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"time\":2,\"width\":320,\"format\":\"png\"}",
             url);
    json_int_t before = credits;
    json_decref(run_op(&d, "thumbnail", json, "png", &f, &credits));
    assert_int_equal(credits - before, 1); /* flat */
    assert_string_equal(f.video.codec, "png");
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.video.height, 240);

    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"fps\":1,\"max\":3,\"format\":\"jpg\"}", url);
    info = run_op(&d, "frames", json, "jpg", &f, &credits);
    assert_string_equal(f.video.codec, "mjpeg");
    assert_int_equal(f.video.width, 640);
    json_t *urls = json_object_get(json_object_get(info, "output"), "urls");
    assert_int_equal(json_array_size(urls), 3);
    for (size_t i = 0; i < 3; i++) {
        snprintf(dest, sizeof(dest), "%s/ffapi-frame%zu.jpg", getenv("MC_TEST_TMP"), i);
        assert_int_equal(download(json_string_value(json_array_get(urls, i)), dest), 200);
        assert_true(t_read(dest, &f));
        assert_int_equal(f.video.height, 480);
    }
    json_decref(info);

    snprintf(json, sizeof(json), "{\"inputs\":[\"%s\",\"%s\"]}", url, url);
    json_decref(run_op(&d, "concat", json, "mp4", &f, &credits));
    near(f.video.duration, 12.33, 0.2, "concat duration");
    assert_true(f.video.packets >= 368 && f.video.packets <= 372);
    assert_string_equal(f.audio.codec, "aac");

    snprintf(json, sizeof(json),
             "{\"input\":\"%s\",\"image_url\":\"%s\",\"position\":\"bottom-right\",\"margin\":0}",
             url, wm);
    json_decref(run_op(&d, "watermark", json, "mp4", &f, &credits));
    assert_int_equal(f.video.width, 640);
    assert_int_equal(f.video.height, 480);
    near(f.video.duration, 6.17, 0.15, "watermark duration");
    /* The same encode without the mark: only the 48x48 white square differs. */
    snprintf(json, sizeof(json), "{\"input\":\"%s\"}", url);
    json_decref(run_op(&d, "transcode", json, "plain.mp4", NULL, &credits));
    char marked[600], plain[600];
    snprintf(marked, sizeof(marked), "%s/dl-watermark.mp4", getenv("MC_TEST_TMP"));
    snprintf(plain, sizeof(plain), "%s/dl-transcode.plain.mp4", getenv("MC_TEST_TMP"));
    double diff = t_first_frame_diff(marked, plain);
    if (diff < 0.5) /* measured: 1.6 (the same encode without it: 0) */
        fail_msg("watermark: mean luma difference %.3f, expected > 0.5", diff);

    /* mux: the mp3 replaces friday's audio, padded with silence to the video's length; or
     * is added as a second track. */
    char mp3[1024];
    snprintf(mp3, sizeof(mp3), "%s/t-rex-roar.mp3", t_media_dir());
    char *roar = upload_file(&d, TOK1, mp3, "roar.mp3");
    snprintf(json, sizeof(json), "{\"video\":\"%s\",\"audio\":\"%s\"}", url, roar);
    json_decref(run_op(&d, "mux", json, "mp4", &f, &credits));
    assert_int_equal(f.nb_streams, 2);
    near(f.audio.duration, f.video.duration, 0.1, "mux (replace) audio length");
    snprintf(json, sizeof(json), "{\"video\":\"%s\",\"audio\":\"%s\",\"mode\":\"add\"}", url, roar);
    json_decref(run_op(&d, "mux", json, "add.mp4", &f, &credits));
    assert_int_equal(f.nb_streams, 3);
    free(roar);

    /* Another caller sees none of it; an unknown id is not found either. */
    ff_http(&d, "GET", "/v1/ffmpeg/info?id=MediaConvert-nope", TOK1, NULL, NULL, 0, &r);
    envelope(&r, 404, "not found");
    e2e_resp_clear(&r);
    char target[256];
    snprintf(target, sizeof(target), "/v1/ffmpeg/info?id=%s", scale_id);
    ff_http(&d, "GET", target, TOK2, NULL, NULL, 0, &r);
    envelope(&r, 404, "not found");
    e2e_resp_clear(&r);
    free(scale_id);

    /* 201 MB, streamed in chunks: refused, nothing stays, not even a temporary file. */
    const char *bucket = e2e_object_path(&d, "ffmpeg-api");
    int files = files_under(bucket);
    big_upload(&d, (size_t)201 * 1000 * 1000, &r);
    assert_non_null(strstr(e2e_str(envelope(&r, 400, "invalid params"), "errorMsg"), "max_upload"));
    e2e_resp_clear(&r);
    assert_int_equal(files_under(bucket), files);
    /* A declared length over the limit is refused before the body is read. */
    char *text = declared_upload(&d, 300LL * 1000 * 1000);
    assert_non_null(strstr(text, "HTTP/1.1 400"));
    assert_non_null(strstr(text, "\"msg\":\"invalid params\""));
    assert_non_null(strstr(text, "300000000 bytes, over the upload limit"));
    free(text);
    assert_int_equal(files_under(bucket), files);

    /* Credits per key: the tasks', and 1 for each of 3 uploads and 1 probe (refused uploads
     * and calls cost nothing). */
    assert_int_equal(metric(&d, "mediaconvertd_credits_charged_total{key=\"AKFFONE\","
                                "dialect=\"ffmpeg\"} "),
                     (long long)credits + 4);
    assert_int_equal(metric(&d, "mediaconvertd_metered_calls_total{key=\"AKFFONE\","
                                "dialect=\"ffmpeg\"} "),
                     4);
    free(url);
    free(wm);
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
}

static void test_limits_anonymous(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "ffapi-limits",
          "[workers]\ncount = 1\n[ffmpeg_api]\ntask_timeout = 1\n"
          "allow_hosts = cdn.example.com, other.example:8443\n");
    char media[1024];
    snprintf(media, sizeof(media), "%s/friday.mp4", t_media_dir());
    /* No keys: no token needed, and the URL is a plain object URL that GET serves. */
    char *url = upload_file(&d, NULL, media, "friday.mp4");
    assert_null(strchr(url, '?'));
    char dest[600];
    snprintf(dest, sizeof(dest), "%s/ffapi-anon.mp4", getenv("MC_TEST_TMP"));
    assert_int_equal(download(url, dest), 200);
    assert_true(t_same_packets(dest, media, 'a'));

    /* allow_hosts: another name of this appliance (a proxy in front of it, https). */
    const char *key = strstr(url, "/ffmpeg-api/");
    char json[2048];
    e2e_resp r;
    snprintf(json, sizeof(json), "{\"input\":\"https://CDN.example.com%s\"}", key);
    submit(&d, NULL, "probe", json, &r);
    assert_int_equal(json_integer_value(json_object_get(envelope(&r, 200, "success"), "size")),
                     515198);
    e2e_resp_clear(&r);
    snprintf(json, sizeof(json), "{\"input\":\"http://other.example:8443%s\"}", key);
    submit(&d, NULL, "probe", json, &r);
    envelope(&r, 200, "success");
    e2e_resp_clear(&r);
    snprintf(json, sizeof(json), "{\"input\":\"http://other.example:8444%s\"}", key);
    submit(&d, NULL, "probe", json, &r);
    envelope(&r, 400, "non-allowlist url");
    e2e_resp_clear(&r);
    snprintf(json, sizeof(json), "{\"input\":\"http://user@cdn.example.com%s\"}", key);
    submit(&d, NULL, "probe", json, &r);
    envelope(&r, 400, "non-allowlist url");
    e2e_resp_clear(&r);

    /* Work that takes far longer than 1 s: three are accepted, the fourth is refused. */
    snprintf(json, sizeof(json),
             "{\"input\":\"%s\",\"video_codec\":\"h265\",\"width\":1920,\"height\":1080,"
             "\"crf\":10}",
             url);
    json_int_t credits = 0;
    char *ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = submit_ok(&d, NULL, "transcode", json, &credits);
    submit(&d, NULL, "transcode", json, &r);
    assert_true(json_is_null(envelope(&r, 429, "Task limit reached")));
    assert_string_equal(r.raw, "{\"code\":429,\"msg\":\"Task limit reached\",\"data\":null}");
    e2e_resp_clear(&r);
    /* Each one times out (credits refunded); the limit frees up. */
    for (int i = 0; i < 3; i++) {
        json_t *info = wait_info(&d, NULL, ids[i], 120);
        assert_string_equal(e2e_str(info, "status"), "failed");
        assert_true(mc_str_starts_with(e2e_str(info, "errorMsg"), "timeout"));
        assert_true(json_is_null(json_object_get(info, "output")));
        json_decref(info);
        free(ids[i]);
    }
    /* the three tasks, plus the upload and the two probes that answered */
    assert_int_equal(metric(&d, "mediaconvertd_credits_charged_total{key=\"anonymous\","
                                "dialect=\"ffmpeg\"} "),
                     (long long)credits + 3);
    assert_int_equal(metric(&d, "mediaconvertd_credits_refunded_total{key=\"anonymous\","
                                "dialect=\"ffmpeg\"} "),
                     (long long)credits);
    snprintf(json, sizeof(json), "{\"input\":\"%s\",\"time\":1}", url);
    char *again = submit_ok(&d, NULL, "thumbnail", json, NULL);
    free(again);
    free(url);
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
}

int main(void)
{
    if (!t_media_dir()) {
        fprintf(stderr, "no media folder ($MC_MEDIA_DIR): skipped\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_limits_anonymous),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
