#include "support.h"

#include "mc_hwaccel.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "mc_job.h"
#include "mc_media.h"
#include "mc_storage.h"

const char *t_store(void)
{
    const char *s = getenv("MC_TEST_STORE");
    return s && *s ? s : "/tmp/mc-test-store";
}

const char *t_media_dir(void)
{
    const char *d = getenv("MC_MEDIA_DIR");
    struct stat sb;
    if (!d || !*d || stat(d, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return NULL;
    return d;
}

const char *t_path(const char *bucket_key)
{
    /* Several calls may appear in one expression: rotate through a few buffers. */
    static char bufs[4][4096];
    static unsigned next;
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof(bufs[0]), "%s/%s", t_store(), bucket_key);
    return buf;
}

static int run_on(const char *json, mc_hw_device *dev, void (*progress)(double, void *),
                  void *opaque, atomic_bool *cancel, mc_result *res, mc_err *err);

int t_run_on(const char *json, const char *backend, mc_result *res, mc_err *err)
{
    mc_err_clear(err);
    mc_hw_device *dev = NULL;
    int rc = mc_hw_device_open(backend, NULL, &dev, err);
    if (rc < 0)
        return rc;
    rc = run_on(json, dev, NULL, NULL, NULL, res, err);
    mc_hw_device_unref(&dev);
    return rc;
}

int t_run_with(const char *json, void (*progress)(double, void *), void *opaque,
               atomic_bool *cancel, mc_result *res, mc_err *err)
{
    return run_on(json, NULL, progress, opaque, cancel, res, err);
}

static int run_on(const char *json, mc_hw_device *dev, void (*progress)(double, void *),
                  void *opaque, atomic_bool *cancel, mc_result *res, mc_err *err)
{
    mc_err_clear(err);
    mc_job *job = NULL;
    int rc = mc_job_parse(json, strlen(json), &job, err);
    if (rc < 0)
        return rc;
    mc_store *store = NULL;
    rc = mc_store_open(t_store(), &store, err);
    if (rc >= 0) {
        mc_engine_opts opts = {
            .store = store,
            .uri_flags = MC_URI_ALLOW_FILE,
            .device = dev,
            .progress = progress,
            .progress_opaque = opaque,
            .cancel = cancel,
        };
        rc = mc_engine_run(job, &opts, res, err);
    }
    mc_store_free(&store);
    mc_job_free(&job);
    return rc;
}

int t_run(const char *json, mc_result *res, mc_err *err)
{
    return t_run_with(json, NULL, NULL, NULL, res, err);
}

static int rotation_of(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 0;
    double r = -av_display_rotation_get((const int32_t *)m);
    int deg = (int)lround(r) % 360;
    return deg < 0 ? deg + 360 : deg;
}

static void fill_stream(const AVStream *st, t_stream *s)
{
    const AVCodecParameters *par = st->codecpar;
    s->present = true;
    s->index = st->index;
    snprintf(s->codec, sizeof(s->codec), "%s", avcodec_get_name(par->codec_id));
    s->bit_rate = par->bit_rate;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        s->width = par->width;
        s->height = par->height;
        AVRational sar =
            st->sample_aspect_ratio.num ? st->sample_aspect_ratio : par->sample_aspect_ratio;
        s->sar_num = sar.num > 0 && sar.den > 0 ? sar.num : 1;
        s->sar_den = sar.num > 0 && sar.den > 0 ? sar.den : 1;
        const char *pf = av_get_pix_fmt_name(par->format);
        snprintf(s->pix_fmt, sizeof(s->pix_fmt), "%s", pf ? pf : "");
        s->fps = st->avg_frame_rate.den ? av_q2d(st->avg_frame_rate) : 0;
        s->rotation = rotation_of(st);
    } else {
        s->sample_rate = par->sample_rate;
        s->channels = par->ch_layout.nb_channels;
        s->bits_per_raw_sample = par->bits_per_raw_sample;
        const char *sf = av_get_sample_fmt_name(par->format);
        snprintf(s->sample_fmt, sizeof(s->sample_fmt), "%s", sf ? sf : "");
    }
}

bool t_read(const char *path, t_file *out)
{
    memset(out, 0, sizeof(*out));
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return false;
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        avformat_close_input(&fmt);
        return false;
    }
    snprintf(out->format, sizeof(out->format), "%s", fmt->iformat->name);
    out->nb_streams = (int)fmt->nb_streams;
    out->duration = fmt->duration > 0 ? (double)fmt->duration / AV_TIME_BASE : 0;
    out->start_time =
        fmt->start_time != AV_NOPTS_VALUE ? (double)fmt->start_time / AV_TIME_BASE : 0;
    out->has_metadata_title = av_dict_get(fmt->metadata, "title", NULL, 0) != NULL;
    out->has_metadata_location = av_dict_get(fmt->metadata, "location", NULL, 0) != NULL;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        t_stream *s = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO   ? &out->video
                      : st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO ? &out->audio
                                                                       : NULL;
        if (s && !s->present)
            fill_stream(st, s);
    }
    int64_t first[2] = {INT64_MAX, INT64_MAX}, last[2] = {INT64_MIN, INT64_MIN};
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        t_stream *s = NULL;
        int k = 0;
        if (out->video.present && pkt->stream_index == out->video.index) {
            s = &out->video;
            k = 0;
        } else if (out->audio.present && pkt->stream_index == out->audio.index) {
            s = &out->audio;
            k = 1;
        }
        /* Some containers (ASF) store only decoding timestamps. */
        int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (s && ts != AV_NOPTS_VALUE) {
            AVRational tb = fmt->streams[pkt->stream_index]->time_base;
            int64_t a = av_rescale_q(ts, tb, AV_TIME_BASE_Q);
            int64_t b = av_rescale_q(ts + pkt->duration, tb, AV_TIME_BASE_Q);
            if (a < first[k])
                first[k] = a;
            if (b > last[k])
                last[k] = b;
            s->packets++;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    t_stream *ss[2] = {&out->video, &out->audio};
    for (int k = 0; k < 2; k++) {
        if (ss[k]->packets) {
            ss[k]->start = (double)first[k] / AV_TIME_BASE;
            ss[k]->duration = (double)(last[k] - first[k]) / AV_TIME_BASE;
            ss[k]->end = (double)last[k] / AV_TIME_BASE;
        }
    }
    avformat_close_input(&fmt);
    return true;
}

static AVFormatContext *open_stream(const char *path, char type, int *index)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return NULL;
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        avformat_close_input(&fmt);
        return NULL;
    }
    enum AVMediaType mt = type == 'v' ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO;
    *index = av_find_best_stream(fmt, mt, -1, -1, NULL, 0);
    if (*index < 0)
        avformat_close_input(&fmt);
    return fmt;
}

static bool next_packet(AVFormatContext *fmt, int index, AVPacket *pkt)
{
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == index)
            return true;
        av_packet_unref(pkt);
    }
    return false;
}

bool t_same_packets(const char *a, const char *b, char type)
{
    int ia = -1, ib = -1;
    AVFormatContext *fa = open_stream(a, type, &ia);
    AVFormatContext *fb = open_stream(b, type, &ib);
    AVPacket *pa = av_packet_alloc(), *pb = av_packet_alloc();
    bool same = fa && fb;
    int64_t n = 0;
    while (same) {
        bool ga = next_packet(fa, ia, pa);
        bool gb = next_packet(fb, ib, pb);
        if (!ga || !gb) {
            same = ga == gb;
            break;
        }
        same = pa->size == pb->size && memcmp(pa->data, pb->data, (size_t)pa->size) == 0;
        n++;
        av_packet_unref(pa);
        av_packet_unref(pb);
    }
    av_packet_free(&pa);
    av_packet_free(&pb);
    avformat_close_input(&fa);
    avformat_close_input(&fb);
    return same && n > 0;
}

static AVFrame *first_frame(const char *path)
{
    int index;
    AVFormatContext *fmt = open_stream(path, 'v', &index);
    if (!fmt)
        return NULL;
    const AVCodec *codec = avcodec_find_decoder(fmt->streams[index]->codecpar->codec_id);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    bool got = false;
    if (avcodec_parameters_to_context(dec, fmt->streams[index]->codecpar) >= 0 &&
        avcodec_open2(dec, codec, NULL) >= 0) {
        while (!got && next_packet(fmt, index, pkt)) {
            avcodec_send_packet(dec, pkt);
            av_packet_unref(pkt);
            got = avcodec_receive_frame(dec, frame) >= 0;
        }
        if (!got) {
            avcodec_send_packet(dec, NULL);
            got = avcodec_receive_frame(dec, frame) >= 0;
        }
    }
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    if (!got)
        av_frame_free(&frame);
    return frame;
}

double t_first_frame_diff(const char *a, const char *b)
{
    AVFrame *fa = first_frame(a), *fb = first_frame(b);
    double diff = 1e9;
    if (fa && fb && fa->width == fb->width && fa->height == fb->height) {
        double sum = 0;
        for (int y = 0; y < fa->height; y++)
            for (int x = 0; x < fa->width; x++)
                sum += fabs((double)fa->data[0][y * fa->linesize[0] + x] -
                            (double)fb->data[0][y * fb->linesize[0] + x]);
        diff = sum / ((double)fa->width * fa->height);
    }
    av_frame_free(&fa);
    av_frame_free(&fb);
    return diff;
}

bool t_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

bool t_has_temp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] == '.' && strstr(de->d_name, ".part-"))
            found = true;
    closedir(d);
    return found;
}

char *t_read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    *len = buf ? (size_t)n : 0;
    return buf;
}

mc_result t_run_ok(const char *json)
{
    mc_result res = {0};
    mc_err err;
    if (t_run(json, &res, &err) < 0)
        fail_msg("request failed: %s: %s\n%s", err.code, err.msg, json);
    return res;
}

extern char **environ;

static char *slurp(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 1024) {
            char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Run the CLI with argv (NULL-terminated, without the program), optional stdin text. */
t_cli t_run_cli(const char *const *args, const char *stdin_text)
{
    const char *prog = getenv("MC_CLI");
    assert_non_null(prog);
    char *argv[32];
    size_t n = 0;
    argv[n++] = (char *)prog;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;

    char outp[] = "/tmp/mc-cli-out-XXXXXX", errp[] = "/tmp/mc-cli-err-XXXXXX",
         inp[] = "/tmp/mc-cli-in-XXXXXX";
    int ofd = mkstemp(outp), efd = mkstemp(errp), ifd = mkstemp(inp);
    assert_true(ofd >= 0 && efd >= 0 && ifd >= 0);
    if (stdin_text)
        assert_int_equal(write(ifd, stdin_text, strlen(stdin_text)), (ssize_t)strlen(stdin_text));
    lseek(ifd, 0, SEEK_SET);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ifd, 0);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, prog, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    t_cli r = {.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)};
    lseek(ofd, 0, SEEK_SET);
    lseek(efd, 0, SEEK_SET);
    r.out = slurp(ofd);
    r.err = slurp(efd);
    close(ofd);
    close(efd);
    close(ifd);
    unlink(outp);
    unlink(errp);
    unlink(inp);
    return r;
}

void t_cli_free(t_cli *r)
{
    free(r->out);
    free(r->err);
}
