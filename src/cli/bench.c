/*
 * mediaconvert bench: throughput of the standard workloads on each device the HAL finds, at
 * 1..N concurrent tasks, against the ffmpeg program doing the same work, in the same run.
 *
 * For each device, workload and concurrency, every round runs N engine tasks at once in this
 * process (threads, as the daemon's workers do) and N ffmpeg processes at once, the tool
 * that goes first alternating round by round so both see the same machine state. ffmpeg is
 * given the placement the engine chose: a stage the engine ran on the device (decode, scale,
 * encode, read back from its result) runs on the same device in ffmpeg (-hwaccel, the
 * backend's scale filter, its encoder), and everything else in software, so the two do the
 * same work. The first round at one task also reads both tools' outputs back and checks
 * they have the same shape (dimensions, codec, picture count, duration).
 *
 * Sources are made with the ffmpeg program (testsrc2 and sine tones) and kept in the work
 * folder between runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "mc_err.h"
#include "mc_hwaccel.h"
#include "mc_job.h"
#include "mc_log.h"
#include "mc_media.h"
#include "mc_result.h"
#include "mc_storage.h"
#include "mc_str.h"

extern char **environ;

#define MAX_CONC   16
#define MAX_ROUNDS 15

enum src_id { SRC_HD, SRC_UHD, SRC_WAV, SRC__COUNT };

typedef struct source {
    const char *key;
    const char *what;
    char *path;
    int w, h; /* video size; 0 for audio */
    double duration;
    int64_t frames; /* video frames, 0 for audio */
} source;

enum wkind { W_TRANSCODE, W_GIF, W_WEBP, W_SNAP, W_AUDIO, W_MULTI };

typedef struct workload {
    const char *name;
    const char *title;
    enum wkind kind;
    enum src_id src;
    int w, h;          /* output picture size at full scale; 0 = the source's */
    double interval;   /* seconds between pictures */
    const char *codec; /* the request's video or audio codec */
    const char *ext;
} workload;

static const workload workloads[] = {
    {"h264_720p", "1080p -> 720p H.264", W_TRANSCODE, SRC_HD, 1280, 720, 0, "h264", "mp4"},
    {"hevc_1080p", "4K -> 1080p HEVC", W_TRANSCODE, SRC_UHD, 1920, 1080, 0, "h265", "mp4"},
    {"gif_1fps", "1080p -> 480p GIF, 1 fps", W_GIF, SRC_HD, 854, 480, 1, NULL, "gif"},
    {"gif_10fps", "1080p -> 480p GIF, 10 fps", W_GIF, SRC_HD, 854, 480, 0.1, NULL, "gif"},
    {"webp_10fps", "1080p -> 480p WebP, 10 fps", W_WEBP, SRC_HD, 854, 480, 0.1, NULL, "webp"},
    {"snapshots", "1080p JPEG snapshots every 5 s", W_SNAP, SRC_HD, 0, 0, 5, NULL, "jpg"},
    {"mp3", "WAV -> MP3 128 kbit/s", W_AUDIO, SRC_WAV, 0, 0, 0, "mp3", "mp3"},
    {"aac", "WAV -> AAC 128 kbit/s", W_AUDIO, SRC_WAV, 0, 0, 0, "aac", "aac"},
    {"opus", "WAV -> Opus 128 kbit/s", W_AUDIO, SRC_WAV, 0, 0, 0, "opus", "opus"},
    {"multi", "1080p -> 720p MP4 + snapshots every 5 s + 10-frame GIF preview", W_MULTI, SRC_HD,
     1280, 720, 5, "h264", "mp4"},
};
#define N_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

typedef struct bench {
    bool quick;
    bool with_ffmpeg;
    int rounds;
    int conc[MAX_CONC];
    int n_conc;
    int div; /* every size is divided by this (4 in --short) */
    const char *ffmpeg;
    char *work;
    char *prefix;
    bool want_workload[N_WORKLOADS];
    source src[SRC__COUNT];
    mc_store *store;
} bench;

static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, true);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int even(double v)
{
    int i = (int)lround(v / 2) * 2;
    return i < 2 ? 2 : i;
}

/* --- argument vectors ------------------------------------------------------------------ */

typedef struct strv {
    char **v;
    size_t n, cap;
    bool oom;
} strv;

static void strv_push(strv *s, const char *arg)
{
    if (s->oom)
        return;
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **v = realloc(s->v, cap * sizeof(*v));
        if (!v) {
            s->oom = true;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n] = mc_strdup(arg);
    if (!s->v[s->n]) {
        s->oom = true;
        return;
    }
    s->v[++s->n] = NULL;
}

static void strv_pushf(strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strv_pushf(strv *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *str = NULL;
    if (vasprintf(&str, fmt, ap) < 0)
        str = NULL;
    va_end(ap);
    if (!str) {
        s->oom = true;
        return;
    }
    strv_push(s, str);
    free(str);
}

/* Push every argument up to a NULL. */
static void strv_pushl(strv *s, ...)
{
    va_list ap;
    va_start(ap, s);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        strv_push(s, a);
    va_end(ap);
}

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (strv){0};
}

/* The command line as one string, for the report. */
static char *strv_join(const strv *s)
{
    mc_buf b = {0};
    for (size_t i = 0; i < s->n; i++) {
        bool quote = strpbrk(s->v[i], " ;[]'()\\$*?&|<>") != NULL;
        mc_buf_printf(&b, "%s%s%s%s", i ? " " : "", quote ? "'" : "", s->v[i], quote ? "'" : "");
    }
    return mc_buf_steal(&b);
}

/* --- child processes ------------------------------------------------------------------- */

typedef struct child_result {
    int status; /* wait status */
    double cpu_s;
} child_result;

static int spawn(char *const argv[], const char *log_path, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log_path ? log_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? 0 : -rc;
}

/*
 * Wait for a child. A stop asked for meanwhile (SIGINT/SIGTERM interrupt the wait: the
 * handler has no SA_RESTART, and only this thread takes those signals) is passed on to the
 * child. A failed wait counts as a failed run (status -1). `exited`, when given, is set once
 * the child has exited but before its pid is freed.
 */
static void reap(pid_t pid, child_result *out, atomic_bool *exited)
{
    struct rusage ru = {0};
    int status = -1;
    siginfo_t si;
    bool forwarded = false;
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
            break;
        if (errno != EINTR)
            break;
        if (atomic_load(&stop_requested) && !forwarded) {
            kill(pid, SIGTERM);
            forwarded = true;
        }
    }
    if (exited)
        atomic_store(exited, true);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    out->status = status;
    out->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Run the ffmpeg program once to completion; 0 when it exited 0. */
static int run_ffmpeg_once(const bench *b, strv *args, const char *log_path)
{
    strv full = {0};
    strv_pushl(&full, b->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", NULL);
    for (size_t i = 0; i < args->n; i++)
        strv_push(&full, args->v[i]);
    int rc = -ENOMEM;
    pid_t pid;
    if (!full.oom && (rc = spawn(full.v, log_path, &pid)) == 0) {
        child_result cr;
        reap(pid, &cr, NULL);
        rc = cr.status != -1 && WIFEXITED(cr.status) && WEXITSTATUS(cr.status) == 0 ? 0 : -EIO;
    }
    strv_free(&full);
    return rc;
}

/* --- files ----------------------------------------------------------------------------- */

static int mkdirs(const char *path)
{
    char *p = mc_strdup(path);
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            free(p);
            return -errno;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
    free(p);
    return rc;
}

/* Empty a folder of plain files (outputs of an earlier round). */
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = mc_asprintf("%s/%s", dir, e->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    closedir(d);
}

static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += mc_str_starts_with(e->d_name, prefix);
    if (d)
        closedir(d);
    return n;
}

/* A WebP file's canvas size from its VP8X chunk (FFmpeg 5.1 cannot read animated WebP). */
static bool webp_canvas(const char *path, int *w, int *h)
{
    unsigned char hd[30];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(hd, 1, sizeof(hd), f) : 0;
    if (f)
        fclose(f);
    if (n < sizeof(hd) || memcmp(hd, "RIFF", 4) || memcmp(hd + 8, "WEBPVP8X", 8))
        return false;
    *w = 1 + (hd[24] | hd[25] << 8 | hd[26] << 16);
    *h = 1 + (hd[27] | hd[28] << 8 | hd[29] << 16);
    return true;
}

/* --- the machine ----------------------------------------------------------------------- */

static char *first_line_of(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char line[512] = "";
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    return mc_strdup(line);
}

static json_t *machine_json(const bench *b)
{
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        if (mc_str_starts_with(line, "model name")) {
            const char *v = strchr(line, ':');
            if (v) {
                snprintf(cpu, sizeof(cpu), "%s", v + 2);
                cpu[strcspn(cpu, "\n")] = '\0';
            }
            break;
        }
    }
    if (f)
        fclose(f);
    struct utsname u = {0};
    uname(&u);
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    char *cmd = mc_asprintf("'%s' -hide_banner -version 2>/dev/null", b->ffmpeg);
    char *ff = cmd ? first_line_of(cmd) : NULL;
    free(cmd);
    /* "ffmpeg version 5.1.6-0+deb12u1 Copyright..." -> "ffmpeg version 5.1.6-0+deb12u1" */
    char *cut = ff ? strstr(ff, " Copyright") : NULL;
    if (cut)
        *cut = '\0';
    json_t *j = json_pack("{s:s, s:I, s:f, s:s, s:s?}", "cpu", cpu, "cores",
                          (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "memory_gib",
                          round(mem / (1 << 30) * 10) / 10, "kernel", u.release, "ffmpeg", ff);
    free(ff);
    return j;
}

/* --- sources --------------------------------------------------------------------------- */

static int make_sources(bench *b)
{
    double hd_s = b->quick ? 2 : 20, uhd_s = b->quick ? 1 : 10, wav_s = b->quick ? 10 : 300;
    int d = b->div;
    b->src[SRC_HD] = (source){.key = "hd", .w = even(1920.0 / d), .h = even(1080.0 / d)};
    b->src[SRC_UHD] = (source){.key = "uhd", .w = even(3840.0 / d), .h = even(2160.0 / d)};
    b->src[SRC_WAV] = (source){.key = "wav"};
    for (int i = 0; i < SRC__COUNT; i++) {
        source *s = &b->src[i];
        strv a = {0};
        if (i == SRC_HD) {
            s->what = "testsrc2 30 fps H.264 (2 s GOP) + AAC stereo, MP4";
            s->path = mc_asprintf("%s/src/hd-%dx%d-%gs.mp4", b->work, s->w, s->h, hd_s);
            strv_pushl(&a, "-f", "lavfi", "-i", NULL);
            strv_pushf(&a, "testsrc2=size=%dx%d:rate=30", s->w, s->h);
            strv_pushl(&a, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", NULL);
            strv_pushf(&a, "%g", hd_s);
            strv_pushl(&a, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "60",
                       "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", NULL);
        } else if (i == SRC_UHD) {
            s->what = "testsrc2 30 fps HEVC (2 s GOP), MP4";
            s->path = mc_asprintf("%s/src/uhd-%dx%d-%gs.mp4", b->work, s->w, s->h, uhd_s);
            strv_pushl(&a, "-f", "lavfi", "-i", NULL);
            strv_pushf(&a, "testsrc2=size=%dx%d:rate=30", s->w, s->h);
            strv_push(&a, "-t");
            strv_pushf(&a, "%g", uhd_s);
            strv_pushl(&a, "-c:v", "libx265", "-preset", "ultrafast", "-crf", "22", "-g", "60",
                       "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
                       NULL);
        } else {
            s->what = "two sine tones, 44.1 kHz stereo 16-bit WAV";
            s->path = mc_asprintf("%s/src/tones-%gs.wav", b->work, wav_s);
            strv_pushl(&a, "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-f",
                       "lavfi", "-i", "sine=frequency=500:sample_rate=44100", "-filter_complex",
                       "amerge", "-t", NULL);
            strv_pushf(&a, "%g", wav_s);
            strv_pushl(&a, "-c:a", "pcm_s16le", NULL);
        }
        if (!s->path || a.oom) {
            strv_free(&a);
            return -ENOMEM;
        }
        struct stat st;
        if (stat(s->path, &st) != 0) {
            char *tmp = mc_asprintf("%s.part.%s", s->path, strrchr(s->path, '.') + 1);
            char *log = mc_asprintf("%s/src/make.log", b->work);
            strv_push(&a, tmp ? tmp : "");
            fprintf(stderr, "bench: making %s\n", s->path);
            int rc = tmp && log && !a.oom ? run_ffmpeg_once(b, &a, log) : -ENOMEM;
            if (rc == 0 && rename(tmp, s->path) != 0)
                rc = -errno;
            if (rc < 0) {
                fprintf(stderr, "bench: cannot make %s with %s (see %s)\n", s->path, b->ffmpeg,
                        log ? log : "");
                if (tmp)
                    unlink(tmp);
            }
            free(tmp);
            free(log);
            if (rc < 0) {
                strv_free(&a);
                return rc;
            }
        }
        strv_free(&a);
        mc_media_info info = {0};
        mc_err err;
        mc_err_clear(&err);
        if (mc_probe_file(s->path, NULL, &info, &err) < 0) {
            fprintf(stderr, "bench: %s: %s\n", s->path, err.msg);
            return -EIO;
        }
        s->duration = info.duration;
        for (size_t k = 0; k < info.n_streams; k++) {
            const mc_stream_info *si = &info.streams[k];
            if (strcmp(si->type, "video") == 0)
                s->frames = si->frames > 0 ? si->frames : llround(si->duration * si->fps);
        }
        mc_media_info_clear(&info);
    }
    return 0;
}

/* --- how ffmpeg repeats the engine's placement ----------------------------------------- */

typedef struct ffplan {
    bool dec, scale, enc; /* the stage ran on the device */
    const char *type;     /* FFmpeg device type: "cuda", "vaapi", "qsv", "vulkan" */
    char devarg[96];      /* -init_hw_device's device: "0", "/dev/dri/renderD128" */
    const char *scaler;   /* the device's scale filter */
    const char *dec_fmt;  /* what decoded device frames hold */
    const char *fmt;      /* what the device scaler produces, what is uploaded */
    char encoder[32];     /* the device's encoder, when enc */
} ffplan;

static void plan_for(const mc_result *r, mc_hw_device *dev, const workload *w, ffplan *p)
{
    *p = (ffplan){0};
    AVBufferRef *ctx = mc_hw_device_ctx(dev);
    if (mc_hw_device_is_software(dev) || !ctx)
        return;
    const char *name = mc_hw_device_name(dev);
    p->dec = strcmp(r->stage_decode, name) == 0;
    p->scale = strcmp(r->stage_scale, name) == 0;
    p->enc = strcmp(r->stage_encode, name) == 0;
    enum AVHWDeviceType type = ((AVHWDeviceContext *)ctx->data)->type;
    p->type = av_hwdevice_get_type_name(type);
    p->scaler = mc_hw_scale_filter(dev);
    const char *node = strchr(name, ':') ? strchr(name, ':') + 1 : "0";
    bool dri = type == AV_HWDEVICE_TYPE_VAAPI || type == AV_HWDEVICE_TYPE_QSV;
    if (type == AV_HWDEVICE_TYPE_QSV)
        snprintf(p->devarg, sizeof(p->devarg), "hw_any,child_device=/dev/dri/%s", node);
    else
        snprintf(p->devarg, sizeof(p->devarg), "%s%s", dri ? "/dev/dri/" : "", node);
    p->dec_fmt = "nv12";
    p->fmt = dri ? "nv12" : "yuv420p";
    const AVCodec *enc = NULL;
    if (p->enc && w->codec &&
        mc_hw_find_encoder(dev, strcmp(w->codec, "h265") == 0 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264,
                           8, &enc) >= 0 &&
        enc)
        snprintf(p->encoder, sizeof(p->encoder), "%s", enc->name);
    else
        p->enc = false;
}

/* The device flags that go before -i. */
static void plan_input_args(const ffplan *p, strv *a)
{
    if (!p->dec && !p->scale && !p->enc)
        return;
    strv_push(a, "-init_hw_device");
    strv_pushf(a, "%s=hw:%s", p->type, p->devarg);
    strv_pushl(a, "-filter_hw_device", "hw", NULL);
    if (p->dec) {
        strv_pushl(a, "-hwaccel", p->type, "-hwaccel_device", "hw", "-hwaccel_output_format",
                   p->type, NULL);
    }
}

/*
 * Append the filters that take decoded frames to w x h (0: unscaled) where the engine did:
 * on the device when it scaled there (uploading first if decoding was in software), and
 * ending on the device only for a device encoder (keep_on_device), otherwise downloaded.
 */
static void plan_chain(const ffplan *p, mc_buf *f, int w, int h, bool keep_on_device)
{
    bool on_dev = p->dec;
    const char *fmt = p->dec_fmt;
    if (w > 0 && p->scale) {
        if (!on_dev)
            mc_buf_printf(f, ",format=%s,hwupload", p->fmt);
        mc_buf_printf(f, ",%s=w=%d:h=%d:format=%s", p->scaler, w, h, p->fmt);
        on_dev = true;
        fmt = p->fmt;
    } else if (w > 0) {
        if (on_dev)
            mc_buf_printf(f, ",hwdownload,format=%s", fmt);
        on_dev = false;
        mc_buf_printf(f, ",scale=%d:%d", w, h);
    }
    if (on_dev && !keep_on_device)
        mc_buf_printf(f, ",hwdownload,format=%s", fmt);
    else if (!on_dev && keep_on_device)
        mc_buf_printf(f, ",format=%s,hwupload", p->fmt);
}

/* --- the two tools' jobs --------------------------------------------------------------- */

typedef struct job_size {
    int w, h;   /* the workload's output size (0 = the source's) */
    int pw, ph; /* the multi-target job's GIF preview */
} job_size;

static job_size sizes_of(const bench *b, const workload *w)
{
    job_size s = {0};
    if (w->w) {
        s.w = even((double)w->w / b->div);
        s.h = even((double)w->h / b->div);
    }
    s.pw = even(480.0 / b->div);
    s.ph = even(270.0 / b->div);
    return s;
}

static void video_rate_json(mc_buf *r, const workload *w)
{
    bool hevc = strcmp(w->codec, "h265") == 0;
    mc_buf_printf(r, "\"Codec\":\"%s\",\"CRF\":%d,\"GOPSize\":150,\"BFrames\":%d,\"Refs\":%d",
                  w->codec, hevc ? 28 : 23, hevc ? 4 : 3, hevc ? 3 : 2);
}

static void video_rate_args(strv *a, const workload *w, const ffplan *p)
{
    bool hevc = strcmp(w->codec, "h265") == 0;
    strv_push(a, "-c:v");
    strv_push(a, p->enc ? p->encoder : hevc ? "libx265" : "libx264");
    if (!p->enc) {
        strv_push(a, "-crf");
        strv_push(a, hevc ? "28" : "23");
    }
    strv_pushl(a, "-g", "150", "-bf", NULL);
    strv_push(a, hevc ? "4" : "3");
    strv_push(a, "-refs");
    strv_push(a, hevc ? "3" : "2");
    if (hevc && !p->enc) {
        strv_pushl(a, "-x265-params", "log-level=error", "-tag:v", "hvc1", NULL);
    }
}

/* The request the engine runs, writing into dir. */
static char *mc_request(const bench *b, const workload *w, const char *dir)
{
    job_size s = sizes_of(b, w);
    mc_buf r = {0};
    mc_buf_printf(&r,
                  "{\"ProjectName\":\"bench\",\"Sources\":[{\"URI\":\"file://%s\"}],\"Targets\":[{",
                  b->src[w->src].path);
    switch (w->kind) {
    case W_TRANSCODE:
    case W_MULTI:
        mc_buf_printf(&r,
                      "\"URI\":\"file://%s/out.mp4\",\"Container\":\"mp4\","
                      "\"Video\":{\"TranscodeVideo\":{\"Resolution\":\"%dx%d\",",
                      dir, s.w, s.h);
        video_rate_json(&r, w);
        mc_buf_puts(&r, "}}");
        if (w->kind == W_MULTI)
            mc_buf_printf(&r,
                          ",\"Image\":{\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"file://%s/"
                          "snap-{index}.jpg\",\"Interval\":%g}],\"Animations\":[{\"Format\":"
                          "\"gif\",\"URI\":\"file://%s/preview.gif\",\"Interval\":1,\"Number\":"
                          "10,\"Width\":%d,\"Height\":%d}]}",
                          dir, w->interval, dir, s.pw, s.ph);
        break;
    case W_GIF:
    case W_WEBP:
        mc_buf_printf(&r,
                      "\"Image\":{\"Animations\":[{\"Format\":\"%s\",\"URI\":\"file://%s/out.%s\","
                      "\"Interval\":%g,\"Width\":%d,\"Height\":%d}]}",
                      w->ext, dir, w->ext, w->interval, s.w, s.h);
        break;
    case W_SNAP:
        mc_buf_printf(&r,
                      "\"Image\":{\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"file://%s/"
                      "snap-{index}.jpg\",\"Interval\":%g}]}",
                      dir, w->interval);
        break;
    case W_AUDIO:
        mc_buf_printf(&r,
                      "\"URI\":\"file://%s/out.%s\",\"Container\":\"%s\",\"Audio\":"
                      "{\"TranscodeAudio\":{\"Codec\":\"%s\",\"Bitrate\":128000}}",
                      dir, w->ext, w->ext, w->codec);
        break;
    }
    mc_buf_puts(&r, "}]}");
    return mc_buf_steal(&r);
}

/* Snapshots every N seconds from the first frame, as the engine takes them. (`fps=1/N`, the
 * usual recipe, emits nothing for a clip shorter than N/2 and places its pictures between
 * ticks.) Used with -fps_mode vfr. */
#define SNAP_SELECT "select=isnan(prev_selected_t)+gte(t-prev_selected_t\\,%g)"

/* The ffmpeg program's arguments (after the common ones) for the same work into dir. */
static void ff_args(const bench *b, const workload *w, const ffplan *p, const char *dir, strv *a)
{
    job_size s = sizes_of(b, w);
    mc_buf f = {0};
    plan_input_args(p, a);
    strv_pushl(a, "-i", b->src[w->src].path, NULL);
    switch (w->kind) {
    case W_TRANSCODE:
        plan_chain(p, &f, s.w, s.h, p->enc);
        strv_push(a, "-vf");
        strv_push(a, f.data ? f.data + 1 : "null");
        video_rate_args(a, w, p);
        strv_pushl(a, "-c:a", "copy", "-movflags", "+faststart", NULL);
        strv_pushf(a, "%s/out.mp4", dir);
        break;
    case W_GIF:
        mc_buf_printf(&f, "[0:v]fps=%g", 1 / w->interval);
        plan_chain(p, &f, s.w, s.h, false);
        mc_buf_puts(&f, ",split[a][b];[a]palettegen[p];[b][p]paletteuse");
        strv_push(a, "-filter_complex");
        strv_push(a, f.data ? f.data : "");
        strv_pushf(a, "%s/out.gif", dir);
        break;
    case W_WEBP:
        mc_buf_printf(&f, "fps=%g", 1 / w->interval);
        plan_chain(p, &f, s.w, s.h, false);
        strv_push(a, "-vf");
        strv_push(a, f.data ? f.data : "");
        strv_pushl(a, "-c:v", "libwebp_anim", "-loop", "0", NULL);
        strv_pushf(a, "%s/out.webp", dir);
        break;
    case W_SNAP:
        mc_buf_printf(&f, SNAP_SELECT, w->interval);
        plan_chain(p, &f, 0, 0, false);
        strv_push(a, "-vf");
        strv_push(a, f.data ? f.data : "");
        strv_pushl(a, "-fps_mode", "vfr", "-q:v", "4", NULL);
        strv_pushf(a, "%s/snap-%%d.jpg", dir);
        break;
    case W_AUDIO:
        strv_push(a, "-c:a");
        strv_push(a, strcmp(w->codec, "mp3") == 0    ? "libmp3lame"
                     : strcmp(w->codec, "opus") == 0 ? "libopus"
                                                     : "aac");
        strv_pushl(a, "-b:a", "128k", NULL);
        strv_pushf(a, "%s/out.%s", dir, w->ext);
        break;
    case W_MULTI:
        mc_buf_puts(&f, "[0:v]split=3[t][s][g];[t]null");
        plan_chain(p, &f, s.w, s.h, p->enc);
        mc_buf_printf(&f, "[v];[s]" SNAP_SELECT, w->interval);
        plan_chain(p, &f, 0, 0, false);
        mc_buf_puts(&f, "[snap];[g]fps=1");
        plan_chain(p, &f, s.pw, s.ph, false);
        mc_buf_puts(&f, ",split[g1][g2];[g1]palettegen[p];[g2][p]paletteuse[gif]");
        strv_push(a, "-filter_complex");
        strv_push(a, f.data ? f.data : "");
        strv_pushl(a, "-map", "[v]", "-map", NULL);
        strv_push(a, "0:a?");
        video_rate_args(a, w, p);
        strv_pushl(a, "-c:a", "copy", "-movflags", "+faststart", NULL);
        strv_pushf(a, "%s/out.mp4", dir);
        strv_pushl(a, "-map", "[snap]", "-fps_mode", "vfr", "-q:v", "4", NULL);
        strv_pushf(a, "%s/snap-%%d.jpg", dir);
        strv_pushl(a, "-map", "[gif]", "-frames:v", "10", NULL);
        strv_pushf(a, "%s/preview.gif", dir);
        break;
    }
    if (f.oom)
        a->oom = true;
    mc_buf_free(&f);
}

/* --- running N at once ----------------------------------------------------------------- */

typedef struct sample {
    bool ok;
    double wall, cpu;
    long rss_kib;
    char error[MC_ERR_MSG_MAX + 96];
} sample;

typedef struct mc_task {
    const bench *b;
    mc_hw_device *dev;
    mc_job *job;
    mc_result res;
    mc_err err;
    int rc;
} mc_task;

static void *mc_task_main(void *arg)
{
    mc_task *t = arg;
    mc_engine_opts o = {
        .store = t->b->store,
        .uri_flags = MC_URI_ALLOW_FILE,
        .device = t->dev,
        .cancel = &stop_requested,
    };
    mc_err_clear(&t->err);
    t->rc = mc_engine_run(t->job, &o, &t->res, &t->err);
    return NULL;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* A process's peak resident set (VmHWM), KiB; 0 when it is gone. reset_peak_rss() starts a
 * new peak for this process. */
static long proc_hwm_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void reset_peak_rss(void)
{
    /* Hand freed heap back first, or the new peak starts from what earlier points left. */
    malloc_trim(0);
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) < 0)
            mc_log(MC_LOG_DEBUG, "bench: cannot reset the peak RSS: %s", strerror(errno));
        close(fd);
    }
}

/* The folder of one tool's ("mc" or "ff") task i. */
static char *task_dir_path(const bench *b, mc_hw_device *dev, const workload *w, const char *tool,
                           int i)
{
    char slug[MC_HW_NAME_MAX + 16];
    snprintf(slug, sizeof(slug), "%s", mc_hw_device_name(dev));
    for (char *c = slug; *c; c++)
        if (*c == ':' || *c == '/')
            *c = '-';
    return mc_asprintf("%s/out/%s/%s/%s-%d", b->work, slug, w->name, tool, i);
}

/* The same folder, made and emptied of an earlier round's outputs. */
static char *task_dir(const bench *b, mc_hw_device *dev, const workload *w, const char *tool, int i)
{
    char *dir = task_dir_path(b, dev, w, tool, i);
    if (dir && mkdirs(dir) < 0) {
        free(dir);
        return NULL;
    }
    if (dir)
        clear_dir(dir);
    return dir;
}

/*
 * Run the engine n times at once on dev. On success *first holds task 0's result (for the
 * placement ffmpeg copies and the output check), which the caller clears.
 */
static void run_mc(const bench *b, mc_hw_device *dev, const workload *w, int n, sample *s,
                   mc_result *first)
{
    mc_task tasks[MAX_CONC];
    pthread_t th[MAX_CONC];
    int started = 0;
    *s = (sample){.ok = true};
    memset(tasks, 0, sizeof(tasks));
    for (int i = 0; i < n && s->ok; i++) {
        char *dir = task_dir(b, dev, w, "mc", i);
        char *req = dir ? mc_request(b, w, dir) : NULL;
        mc_err err;
        mc_err_clear(&err);
        if (!req || mc_job_parse(req, strlen(req), &tasks[i].job, &err) < 0) {
            s->ok = false;
            snprintf(s->error, sizeof(s->error), "request: %s", req ? err.msg : "out of memory");
        }
        tasks[i].b = b;
        tasks[i].dev = dev;
        free(req);
        free(dir);
    }
    reset_peak_rss();
    double cpu0 = self_cpu_s(), t0 = now_s();
    for (int i = 0; i < n && s->ok; i++) {
        if (pthread_create(&th[i], NULL, mc_task_main, &tasks[i]) != 0) {
            s->ok = false;
            snprintf(s->error, sizeof(s->error), "cannot start a thread");
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    s->wall = now_s() - t0;
    s->cpu = self_cpu_s() - cpu0;
    s->rss_kib = proc_hwm_kib(getpid());
    for (int i = 0; i < n; i++) {
        if (i < started && tasks[i].rc < 0 && s->ok) {
            s->ok = false;
            snprintf(s->error, sizeof(s->error), "%s: %s", tasks[i].err.code, tasks[i].err.msg);
        }
        if (i == 0 && s->ok)
            *first = tasks[0].res;
        else
            mc_result_clear(&tasks[i].res);
        mc_job_free(&tasks[i].job);
    }
}

/*
 * Peak RSS of running children. wait4()'s ru_maxrss cannot be used: a spawned child's
 * maximum starts from this process's own peak (the address space it had before exec), so
 * the children's VmHWM is sampled from /proc while they run instead.
 */
typedef struct rss_sampler {
    pid_t pids[MAX_CONC];
    atomic_bool reaped[MAX_CONC];
    long peak_kib[MAX_CONC];
    int n;
    atomic_bool stop;
} rss_sampler;

static void *rss_sampler_main(void *arg)
{
    rss_sampler *r = arg;
    while (!atomic_load(&r->stop)) {
        for (int i = 0; i < r->n; i++) {
            long kib = atomic_load(&r->reaped[i]) ? 0 : proc_hwm_kib(r->pids[i]);
            if (kib > r->peak_kib[i])
                r->peak_kib[i] = kib;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return NULL;
}

/* Run ffmpeg n times at once. *cmd gets task 0's command line. */
static void run_ff(const bench *b, mc_hw_device *dev, const workload *w, const ffplan *p, int n,
                   sample *s, char **cmd)
{
    pid_t pids[MAX_CONC];
    int started = 0;
    char *logs[MAX_CONC] = {0};
    *s = (sample){.ok = true};
    strv argv[MAX_CONC];
    memset(argv, 0, sizeof(argv));
    for (int i = 0; i < n; i++) {
        char *dir = task_dir(b, dev, w, "ff", i);
        logs[i] = dir ? mc_asprintf("%s/ffmpeg.log", dir) : NULL;
        strv_pushl(&argv[i], b->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                   NULL);
        if (dir)
            ff_args(b, w, p, dir, &argv[i]);
        if (!dir || !logs[i] || argv[i].oom) {
            s->ok = false;
            snprintf(s->error, sizeof(s->error), "out of memory");
        }
        free(dir);
    }
    if (cmd && s->ok)
        *cmd = strv_join(&argv[0]);
    rss_sampler *rs = calloc(1, sizeof(*rs));
    pthread_t sampler;
    bool sampling = false;
    if (!rs) {
        s->ok = false;
        snprintf(s->error, sizeof(s->error), "out of memory");
    }
    double t0 = now_s();
    for (int i = 0; i < n && s->ok; i++) {
        int rc = spawn(argv[i].v, logs[i], &pids[i]);
        if (rc < 0) {
            s->ok = false;
            snprintf(s->error, sizeof(s->error), "cannot run %s: %s", b->ffmpeg, strerror(-rc));
            break;
        }
        rs->pids[i] = pids[i];
        started++;
    }
    if (rs) {
        /* The sampler blocks SIGINT/SIGTERM (inherited mask), so they interrupt the wait. */
        sigset_t stop, old;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, &old);
        rs->n = started;
        sampling = pthread_create(&sampler, NULL, rss_sampler_main, rs) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    int status[MAX_CONC];
    for (int i = 0; i < started; i++) {
        child_result cr;
        reap(pids[i], &cr, &rs->reaped[i]);
        s->cpu += cr.cpu_s;
        status[i] = cr.status;
    }
    s->wall = now_s() - t0;
    if (sampling) {
        atomic_store(&rs->stop, true);
        pthread_join(sampler, NULL);
    }
    for (int i = 0; i < started; i++) {
        s->rss_kib += rs->peak_kib[i]; /* separate processes: their peaks add up */
        if (s->ok && !(status[i] != -1 && WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0)) {
            s->ok = false;
            char msg[200] = "";
            FILE *lf = fopen(logs[i], "r");
            if (lf && !fgets(msg, sizeof(msg), lf))
                msg[0] = '\0';
            if (lf)
                fclose(lf);
            msg[strcspn(msg, "\n")] = '\0';
            snprintf(s->error, sizeof(s->error), "ffmpeg exited with status %d: %s",
                     status[i] == -1        ? -1
                     : WIFEXITED(status[i]) ? WEXITSTATUS(status[i])
                                            : 128 + WTERMSIG(status[i]),
                     msg);
        }
    }
    free(rs);
    for (int i = 0; i < n; i++) {
        free(logs[i]);
        strv_free(&argv[i]);
    }
}

/* --- reading both tools' outputs back -------------------------------------------------- */

typedef struct shape {
    bool ok;
    char vcodec[32], acodec[32];
    int w, h, audio_streams;
    double duration;
} shape;

static shape shape_of(const char *path)
{
    shape s = {0};
    mc_media_info info = {0};
    mc_err err;
    mc_err_clear(&err);
    if (mc_probe_file(path, NULL, &info, &err) < 0)
        return s;
    s.ok = true;
    s.duration = info.duration;
    for (size_t i = 0; i < info.n_streams; i++) {
        const mc_stream_info *si = &info.streams[i];
        if (strcmp(si->type, "video") == 0 && !s.vcodec[0]) {
            snprintf(s.vcodec, sizeof(s.vcodec), "%s", si->codec);
            s.w = si->width;
            s.h = si->height;
        } else if (strcmp(si->type, "audio") == 0) {
            if (!s.audio_streams++)
                snprintf(s.acodec, sizeof(s.acodec), "%s", si->codec);
        }
    }
    mc_media_info_clear(&info);
    return s;
}

/* Both video files exist with the expected size and the same codec and audio (and, with
 * tol >= 0, durations within tol seconds of each other). */
static bool same_video(const char *mc_path, const char *ff_path, int w, int h, double tol,
                       mc_buf *why)
{
    shape a = shape_of(mc_path), b = shape_of(ff_path);
    if (!a.ok || !b.ok) {
        mc_buf_printf(why, "cannot read %s back; ", !a.ok ? mc_path : ff_path);
        return false;
    }
    bool same = a.w == w && a.h == h && b.w == w && b.h == h && strcmp(a.vcodec, b.vcodec) == 0 &&
                a.audio_streams == b.audio_streams &&
                (tol < 0 || fabs(a.duration - b.duration) <= tol);
    mc_buf_printf(why, "%dx%d %s %.2f s, %d audio / %dx%d %s %.2f s, %d audio; ", a.w, a.h,
                  a.vcodec, a.duration, a.audio_streams, b.w, b.h, b.vcodec, b.duration,
                  b.audio_streams);
    return same;
}

static bool same_count(const char *mc_dir, const char *ff_dir, const char *prefix, mc_buf *why)
{
    int a = count_prefixed(mc_dir, prefix), b = count_prefixed(ff_dir, prefix);
    mc_buf_printf(why, "%d / %d %s* files; ", a, b, prefix);
    return a > 0 && b > 0 && abs(a - b) <= 1; /* where the first and last fall may differ */
}

/* The first round at one task: do both tools' outputs have the same shape? */
static bool check_outputs(const bench *b, mc_hw_device *dev, const workload *w, char **detail)
{
    job_size s = sizes_of(b, w);
    char *md = task_dir_path(b, dev, w, "mc", 0), *fd = task_dir_path(b, dev, w, "ff", 0);
    mc_buf why = {0};
    bool ok = md && fd;
    char a[PATH_MAX + 64], f[PATH_MAX + 64];
    if (!ok || strlen(md) > PATH_MAX || strlen(fd) > PATH_MAX) {
        free(md);
        free(fd);
        *detail = mc_strdup("out of memory, or a work folder path too long");
        return false;
    }
    switch (w->kind) {
    case W_TRANSCODE:
    case W_MULTI:
        snprintf(a, sizeof(a), "%s/out.mp4", md);
        snprintf(f, sizeof(f), "%s/out.mp4", fd);
        ok = ok && same_video(a, f, s.w, s.h, 0.25, &why);
        if (w->kind == W_MULTI) {
            ok = same_count(md, fd, "snap-", &why) && ok;
            snprintf(a, sizeof(a), "%s/preview.gif", md);
            snprintf(f, sizeof(f), "%s/preview.gif", fd);
            ok = same_video(a, f, s.pw, s.ph, -1, &why) && ok;
        }
        break;
    case W_GIF:
        snprintf(a, sizeof(a), "%s/out.gif", md);
        snprintf(f, sizeof(f), "%s/out.gif", fd);
        ok = ok && same_video(a, f, s.w, s.h, -1, &why);
        break;
    case W_WEBP: {
        int aw = 0, ah = 0, fw = 0, fh = 0;
        snprintf(a, sizeof(a), "%s/out.webp", md);
        snprintf(f, sizeof(f), "%s/out.webp", fd);
        bool ra = webp_canvas(a, &aw, &ah), rf = webp_canvas(f, &fw, &fh);
        mc_buf_printf(&why, "canvas %dx%d / %dx%d; ", aw, ah, fw, fh);
        ok = ok && ra && rf && aw == s.w && ah == s.h && fw == s.w && fh == s.h;
        break;
    }
    case W_SNAP:
        ok = ok && same_count(md, fd, "snap-", &why);
        break;
    case W_AUDIO: {
        snprintf(a, sizeof(a), "%s/out.%s", md, w->ext);
        snprintf(f, sizeof(f), "%s/out.%s", fd, w->ext);
        shape x = shape_of(a), y = shape_of(f);
        double src = b->src[w->src].duration;
        mc_buf_printf(&why, "%s %.2f s / %s %.2f s; ", x.acodec, x.duration, y.acodec, y.duration);
        /* Raw ADTS has no duration: it is estimated from the bitrate (3 % long here, on
         * both sides alike). */
        ok = ok && x.ok && y.ok && strcmp(x.acodec, y.acodec) == 0 &&
             fabs(x.duration - y.duration) < 0.1 && fabs(x.duration - src) < fmax(0.5, src / 20);
        break;
    }
    }
    free(md);
    free(fd);
    if (why.len >= 2)
        why.data[why.len - 2] = '\0';
    *detail = mc_buf_steal(&why);
    return ok;
}

/* --- measuring ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof(*v));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

typedef struct tool_runs {
    int n; /* rounds that succeeded */
    double wall[MAX_ROUNDS], cpu[MAX_ROUNDS];
    long rss_kib;
    char error[MC_ERR_MSG_MAX + 96];
} tool_runs;

static void add_sample(tool_runs *t, const sample *s)
{
    if (!s->ok) {
        if (!t->error[0])
            snprintf(t->error, sizeof(t->error), "%s", s->error);
        return;
    }
    t->wall[t->n] = s->wall;
    t->cpu[t->n] = s->cpu;
    t->n++;
    if (s->rss_kib > t->rss_kib)
        t->rss_kib = s->rss_kib;
}

static double round3(double v)
{
    return round(v * 1000) / 1000;
}

/* A tool's figures at concurrency n: throughput over all n tasks, from the median wall. */
static json_t *tool_json(const tool_runs *t, const source *src, int n)
{
    json_t *walls = json_array();
    for (int i = 0; i < t->n; i++)
        json_array_append_new(walls, json_real(round3(t->wall[i])));
    if (t->n == 0 || t->error[0])
        return json_pack("{s:b, s:s, s:o}", "ok", 0, "error", t->error[0] ? t->error : "no run",
                         "wall_s", walls);
    double wall = median(t->wall, t->n);
    json_t *j =
        json_pack("{s:b, s:o, s:f, s:f, s:f, s:f}", "ok", 1, "wall_s", walls, "median_s",
                  round3(wall), "realtime", round3(n * src->duration / wall), "cpu_s",
                  round3(median(t->cpu, t->n)), "peak_rss_mib", round(t->rss_kib / 102.4) / 10);
    if (j && src->frames > 0)
        json_object_set_new(j, "frames_per_s", json_real(round(n * src->frames / wall * 10) / 10));
    return j;
}

static bool device_wanted(mc_hw_device *dev, const char *list)
{
    if (!list)
        return true;
    char *copy = mc_strdup(list), *save = NULL;
    bool want = false;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !want;
         t = strtok_r(NULL, ",", &save))
        want = strcmp(t, mc_hw_device_name(dev)) == 0 || mc_hw_device_in_class(dev, t);
    free(copy);
    return want;
}

/* One device, one workload, every concurrency: appends to runs; false when anything failed. */
static bool bench_workload(const bench *b, mc_hw_device *dev, const workload *w, json_t *runs)
{
    const source *src = &b->src[w->src];
    ffplan plan = {0};
    bool planned = false, all_ok = true;
    json_t *stages = NULL;
    int64_t ups = 0, downs = 0;
    for (int c = 0; c < b->n_conc && !atomic_load(&stop_requested); c++) {
        int n = b->conc[c];
        tool_runs mc = {0}, ff = {0};
        char *cmd = NULL, *detail = NULL;
        int check = -1; /* -1 not checked, 0 mismatch, 1 same shape */
        /* A warm-up pair before the first measured round (not in --short). */
        int first_round = (!b->quick && c == 0) ? -1 : 0;
        for (int r = first_round; r < b->rounds && !atomic_load(&stop_requested); r++) {
            bool mc_first = r % 2 == 0 || !planned; /* ffmpeg needs the engine's placement */
            for (int k = 0; k < 2; k++) {
                sample s;
                if ((k == 0) == mc_first) {
                    mc_result res = {0};
                    run_mc(b, dev, w, n, &s, &res);
                    if (s.ok && !planned) {
                        plan_for(&res, dev, w, &plan);
                        planned = true;
                        stages = json_pack("{s:s, s:s, s:s}", "decode", res.stage_decode, "scale",
                                           res.stage_scale, "encode", res.stage_encode);
                    }
                    if (s.ok) {
                        ups = res.uploads;
                        downs = res.downloads;
                    }
                    mc_result_clear(&res);
                    if (r >= 0)
                        add_sample(&mc, &s);
                } else if (planned) {
                    run_ff(b, dev, w, &plan, n, &s, cmd ? NULL : &cmd);
                    if (r >= 0)
                        add_sample(&ff, &s);
                }
            }
            if (n == 1 && check < 0 && mc.n > 0 && ff.n > 0)
                check = check_outputs(b, dev, w, &detail);
            if (mc.error[0] || ff.error[0])
                break;
        }
        json_t *jm = tool_json(&mc, src, n), *jf = tool_json(&ff, src, n);
        if (jm && json_is_true(json_object_get(jm, "ok"))) {
            json_object_set(jm, "stages", stages ? stages : json_null());
            json_object_set_new(jm, "uploads_per_task", json_integer(ups));
            json_object_set_new(jm, "downloads_per_task", json_integer(downs));
        }
        if (jf && cmd)
            json_object_set_new(jf, "command", json_string(cmd));
        json_t *run =
            json_pack("{s:s, s:s, s:i, s:o, s:o}", "device", mc_hw_device_name(dev), "workload",
                      w->name, "concurrency", n, "mediaconvert", jm, "ffmpeg", jf);
        bool ok = mc.n > 0 && ff.n > 0 && !mc.error[0] && !ff.error[0] && check != 0;
        if (run && mc.n > 0 && ff.n > 0 && !mc.error[0] && !ff.error[0])
            json_object_set_new(run, "ratio",
                                json_real(round3(median(ff.wall, ff.n) / median(mc.wall, mc.n))));
        if (run && check >= 0)
            json_object_set_new(
                run, "check",
                json_pack("{s:b, s:s}", "same_shape", check, "detail", detail ? detail : ""));
        if (run)
            json_array_append_new(runs, run);
        if (mc.n && ff.n)
            fprintf(stderr, "bench: %-14s %-11s x%-2d mediaconvert %7.2f s  ffmpeg %7.2f s  %.3f\n",
                    mc_hw_device_name(dev), w->name, n, median(mc.wall, mc.n),
                    median(ff.wall, ff.n), median(ff.wall, ff.n) / median(mc.wall, mc.n));
        else
            fprintf(stderr, "bench: %-14s %-11s x%-2d failed\n", mc_hw_device_name(dev), w->name,
                    n);
        if (check == 0)
            fprintf(stderr, "bench:   outputs differ: %s\n", detail ? detail : "");
        if (mc.error[0])
            fprintf(stderr, "bench:   mediaconvert: %s\n", mc.error);
        if (ff.error[0])
            fprintf(stderr, "bench:   ffmpeg: %s\n", ff.error);
        free(cmd);
        free(detail);
        all_ok = all_ok && ok;
        if (!ok)
            break;
    }
    json_decref(stages);
    return all_ok;
}

/* --- the command ----------------------------------------------------------------------- */

static void bench_usage(FILE *f)
{
    fputs("usage: mediaconvert bench [--short] [--devices LIST] [--workloads LIST]\n"
          "           [--concurrency N,N...] [--rounds N] [--work DIR] [--out PREFIX]\n"
          "           [--ffmpeg PROGRAM] [-q|-v]\n"
          "       mediaconvert bench --report RESULTS.json [--out PREFIX]\n"
          "\n"
          "Runs the standard workloads on every device the HAL finds (or those in --devices:\n"
          "names such as vulkan:0, backends, gpu, cpu), with 1, 2, 4... tasks at once, and the\n"
          "ffmpeg program doing the same work with the same device stages, alternately.\n"
          "Writes PREFIX.json, PREFIX.md and PREFIX.svg (default PREFIX:\n"
          "./mediaconvert-bench-DATE). --report renders a saved JSON again.\n"
          "\n"
          "--short          small sources (1/4 size, 1-2 s) and 1,2 tasks, one round: proves\n"
          "                 the harness works in seconds\n"
          "--workloads      h264_720p,hevc_1080p,gif_1fps,gif_10fps,webp_10fps,snapshots,\n"
          "                 mp3,aac,opus,multi (default: all)\n"
          "--concurrency    tasks at once (default: powers of two up to the cores, at most 16)\n"
          "--rounds         measured rounds per point, median reported (default 3, 1-15)\n"
          "--work DIR       sources and outputs (default /var/tmp/mediaconvert-bench)\n"
          "\n"
          "exit status: 0 every run succeeded with outputs of the same shape, 1 otherwise,\n"
          "2 usage\n",
          f);
}

static int parse_list_ints(const char *s, int *out, int max)
{
    int n = 0;
    char *copy = mc_strdup(s), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        long long v;
        if (n == max || mc_parse_i64(t, 1, MAX_CONC, &v) < 0) {
            free(copy);
            return -EINVAL;
        }
        out[n++] = (int)v;
    }
    free(copy);
    return n > 0 ? n : -EINVAL;
}

static int parse_workloads(const char *s, bool *want)
{
    char *copy = mc_strdup(s), *save = NULL;
    int n = 0;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < N_WORKLOADS && strcmp(workloads[i].name, t) != 0)
            i++;
        if (i == N_WORKLOADS) {
            fprintf(stderr, "mediaconvert bench: unknown workload \"%s\"\n", t);
            free(copy);
            return -EINVAL;
        }
        want[i] = true;
        n++;
    }
    free(copy);
    return n > 0 ? 0 : -EINVAL;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "mediaconvert bench: cannot write %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

/* PREFIX.json (unless from_report), PREFIX.md and PREFIX.svg. */
static int write_reports(const json_t *doc, const char *prefix, bool json_too)
{
    char *jp = mc_asprintf("%s.json", prefix), *mp = mc_asprintf("%s.md", prefix),
         *sp = mc_asprintf("%s.svg", prefix);
    const char *base = sp ? strrchr(sp, '/') : NULL;
    char *md = mc_bench_markdown(doc, base ? base + 1 : sp);
    char *svg = mc_bench_svg(doc);
    int rc = jp && mp && sp && md && svg ? 0 : -ENOMEM;
    if (rc == 0 && json_too && json_dump_file(doc, jp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "mediaconvert bench: cannot write %s\n", jp);
        rc = -EIO;
    }
    if (rc == 0)
        rc = write_text(mp, md);
    if (rc == 0)
        rc = write_text(sp, svg);
    if (rc == 0)
        fprintf(stderr, "bench: wrote %s%s%s and %s\n", json_too ? jp : "", json_too ? ", " : "",
                mp, sp);
    free(jp);
    free(mp);
    free(sp);
    free(md);
    free(svg);
    return rc;
}

static char *default_prefix(void)
{
    char date[16];
    time_t t = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%Y-%m-%d", localtime_r(&t, &tm));
    return mc_asprintf("mediaconvert-bench-%s", date);
}

int mc_cli_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"short", no_argument, NULL, 'S'},
        {"devices", required_argument, NULL, 'D'},
        {"workloads", required_argument, NULL, 'W'},
        {"concurrency", required_argument, NULL, 'C'},
        {"rounds", required_argument, NULL, 'R'},
        {"work", required_argument, NULL, 'w'},
        {"out", required_argument, NULL, 'o'},
        {"ffmpeg", required_argument, NULL, 'f'},
        {"report", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    bench b = {.rounds = 0, .div = 1, .ffmpeg = "ffmpeg"};
    const char *devices = NULL, *workload_list = NULL, *conc = NULL, *report = NULL;
    const char *work = "/var/tmp/mediaconvert-bench", *out = NULL;
    long long rounds = 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+hqv", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            mc_log_set_level(MC_LOG_ERROR);
            break;
        case 'v':
            mc_log_set_level(MC_LOG_DEBUG);
            break;
        case 'S':
            b.quick = true;
            break;
        case 'D':
            devices = optarg;
            break;
        case 'W':
            workload_list = optarg;
            break;
        case 'C':
            conc = optarg;
            break;
        case 'R':
            if (mc_parse_i64(optarg, 1, MAX_ROUNDS, &rounds) < 0) {
                fprintf(stderr, "mediaconvert bench: --rounds must be 1 to %d\n", MAX_ROUNDS);
                return 2;
            }
            break;
        case 'w':
            work = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'f':
            b.ffmpeg = optarg;
            break;
        case 'r':
            report = optarg;
            break;
        case 'h':
            bench_usage(stdout);
            return 0;
        default:
            bench_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        bench_usage(stderr);
        return 2;
    }
    char *prefix = out ? mc_strdup(out) : default_prefix();
    if (!prefix)
        return 1;
    if (report) {
        json_error_t jerr;
        json_t *doc = json_load_file(report, 0, &jerr);
        if (!doc || !json_is_array(json_object_get(doc, "runs"))) {
            fprintf(stderr, "mediaconvert bench: %s: not a bench results file%s%s\n", report,
                    doc ? "" : ": ", doc ? "" : jerr.text);
            json_decref(doc);
            free(prefix);
            return 2;
        }
        int rc = write_reports(doc, prefix, false);
        json_decref(doc);
        free(prefix);
        return rc < 0 ? 1 : 0;
    }

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    b.rounds = rounds ? (int)rounds : b.quick ? 1 : 3;
    b.div = b.quick ? 4 : 1;
    if (conc) {
        b.n_conc = parse_list_ints(conc, b.conc, MAX_CONC);
        if (b.n_conc < 0) {
            fprintf(stderr,
                    "mediaconvert bench: --concurrency takes numbers 1 to %d, like "
                    "1,2,4\n",
                    MAX_CONC);
            free(prefix);
            return 2;
        }
    } else {
        for (int n = 1; n <= (b.quick ? 2 : cores < 1 ? 1 : cores) && n <= MAX_CONC; n *= 2)
            b.conc[b.n_conc++] = n;
    }
    if (workload_list ? parse_workloads(workload_list, b.want_workload) < 0 : false) {
        free(prefix);
        return 2;
    }
    for (size_t i = 0; i < N_WORKLOADS && !workload_list; i++)
        b.want_workload[i] = true;

    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int status = 1;
    mc_err err;
    mc_err_clear(&err);
    mc_hw_registry *reg = NULL;
    json_t *doc = NULL;
    char *srcdir = mc_asprintf("%s/src", work);
    if (!srcdir || mkdirs(srcdir) < 0) {
        fprintf(stderr, "mediaconvert bench: cannot make %s: %s\n", work, strerror(errno));
        goto out;
    }
    /* Requests name files by absolute file:// URIs, written into JSON text as they are. */
    b.work = realpath(work, NULL);
    if (!b.work || strpbrk(b.work, "\"\\") || strlen(b.work) > PATH_MAX - 256) {
        fprintf(stderr, "mediaconvert bench: --work %s: %s\n", work,
                b.work ? "a folder path without quotes or backslashes, please" : strerror(errno));
        status = 2;
        goto out;
    }
    if (mc_store_open(b.work, &b.store, &err) < 0)
        goto fail;
    mc_hw_discover_cfg cfg = {.cpu_slots = (int)(cores < 1 ? 1 : cores)};
    if (mc_hw_discover(&cfg, &reg, &err) < 0)
        goto fail;
    mc_hw_device *devs[MC_HW_MAX_DEVICES + 1];
    size_t n_devs = 0;
    for (size_t d = 0; d < mc_hw_registry_count(reg) && n_devs < MC_HW_MAX_DEVICES + 1; d++)
        if (device_wanted(mc_hw_registry_device(reg, d), devices))
            devs[n_devs++] = mc_hw_registry_device(reg, d);
    if (n_devs == 0) {
        fprintf(stderr,
                "mediaconvert bench: no device matches --devices %s (see `mediaconvert "
                "devices`)\n",
                devices);
        status = 2;
        goto out;
    }
    if (make_sources(&b) < 0)
        goto out;

    json_t *jdev = json_array(), *jw = json_array(), *jsrc = json_array(), *runs = json_array();
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M %Z", localtime_r(&now, &tm));
    json_t *conc_list = json_array();
    for (int i = 0; i < b.n_conc; i++)
        json_array_append_new(conc_list, json_integer(b.conc[i]));
    doc = json_pack("{s:s, s:s, s:b, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "tool",
                    "mediaconvert bench", "date", date, "short", b.quick, "rounds", b.rounds,
                    "concurrency", conc_list, "machine", machine_json(&b), "sources", jsrc,
                    "devices", jdev, "workloads", jw, "runs", runs);
    if (!doc)
        goto out;
    for (int i = 0; i < SRC__COUNT; i++)
        json_array_append_new(
            jsrc, json_pack("{s:s, s:s, s:i, s:i, s:f, s:I}", "name", b.src[i].key, "what",
                            b.src[i].what, "width", b.src[i].w, "height", b.src[i].h, "duration",
                            round3(b.src[i].duration), "frames", (json_int_t)b.src[i].frames));
    for (size_t i = 0; i < N_WORKLOADS; i++)
        if (b.want_workload[i])
            json_array_append_new(jw, json_pack("{s:s, s:s, s:s, s:b}", "name", workloads[i].name,
                                                "title", workloads[i].title, "source",
                                                b.src[workloads[i].src].key, "video",
                                                workloads[i].kind != W_AUDIO));

    bool all_ok = true;
    for (size_t d = 0; d < n_devs && !atomic_load(&stop_requested); d++) {
        mc_hw_device *dev = devs[d];
        json_array_append_new(
            jdev, json_pack("{s:s, s:s, s:s?, s:b}", "name", mc_hw_device_name(dev), "backend",
                            mc_hw_device_backend(dev), "description", mc_hw_device_description(dev),
                            "emulated", mc_hw_device_emulated(dev)));
        for (size_t i = 0; i < N_WORKLOADS && !atomic_load(&stop_requested); i++) {
            const workload *w = &workloads[i];
            /* Audio has nothing for a video device to do: software only. */
            if (!b.want_workload[i] || (w->kind == W_AUDIO && !mc_hw_device_is_software(dev)))
                continue;
            all_ok = bench_workload(&b, dev, w, runs) && all_ok;
        }
    }
    if (atomic_load(&stop_requested)) {
        fprintf(stderr, "mediaconvert bench: interrupted\n");
        goto out;
    }
    if (write_reports(doc, prefix, true) == 0 && all_ok)
        status = 0;
    goto out;
fail:
    fprintf(stderr, "mediaconvert bench: %s: %s\n", err.code, err.msg);
out:
    json_decref(doc);
    mc_hw_registry_free(&reg);
    mc_store_free(&b.store);
    for (int i = 0; i < SRC__COUNT; i++)
        free(b.src[i].path);
    free(b.work);
    free(srcdir);
    free(prefix);
    return status;
}
