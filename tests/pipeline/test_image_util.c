#include "test_image_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gif_lib.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "support.h"

extern char **environ;

void ti_pic_free(ti_pic *p)
{
    if (!p)
        return;
    free(p->rgba);
    p->rgba = NULL;
    p->w = p->h = 0;
}

static bool pic_alloc(ti_pic *p, int w, int h)
{
    p->w = w;
    p->h = h;
    p->rgba = calloc((size_t)w * h, 4);
    return p->rgba != NULL;
}

void ti_anim_free(ti_anim *a)
{
    if (!a)
        return;
    for (int i = 0; a->pics && i < a->frames; i++)
        ti_pic_free(&a->pics[i]);
    free(a->pics);
    free(a->delay);
    memset(a, 0, sizeof(*a));
}

char *ti_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 4096) {
            char *p = realloc(buf, cap *= 2);
            if (!p)
                free(buf);
            buf = p;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* ---- GIF ---- */

/* The NETSCAPE2.0 loop count among a list of extension blocks, or -1. */
static int gif_loop(const ExtensionBlock *b, int n)
{
    for (int i = 0; i + 1 < n; i++)
        if (b[i].Function == APPLICATION_EXT_FUNC_CODE && b[i].ByteCount == 11 &&
            memcmp(b[i].Bytes, "NETSCAPE2.0", 11) == 0 &&
            b[i + 1].Function == CONTINUE_EXT_FUNC_CODE && b[i + 1].ByteCount >= 3 &&
            b[i + 1].Bytes[0] == 1)
            return b[i + 1].Bytes[1] | b[i + 1].Bytes[2] << 8;
    return -1;
}

bool ti_read_gif(const char *path, bool pixels, ti_anim *out)
{
    memset(out, 0, sizeof(*out));
    int e = 0;
    GifFileType *g = DGifOpenFileName(path, &e);
    if (!g)
        return false;
    bool ok = DGifSlurp(g) == GIF_OK && g->ImageCount > 0;
    uint8_t *canvas = NULL, *saved = NULL;
    if (!ok)
        goto out;
    out->width = g->SWidth;
    out->height = g->SHeight;
    out->frames = g->ImageCount;
    out->loop = gif_loop(g->ExtensionBlocks, g->ExtensionBlockCount);
    for (int i = 0; out->loop < 0 && i < g->ImageCount; i++)
        out->loop =
            gif_loop(g->SavedImages[i].ExtensionBlocks, g->SavedImages[i].ExtensionBlockCount);
    out->delay = calloc((size_t)g->ImageCount, sizeof(int));
    size_t bytes = (size_t)g->SWidth * g->SHeight * 4;
    if (pixels) {
        out->pics = calloc((size_t)g->ImageCount, sizeof(ti_pic));
        canvas = calloc(bytes, 1);
        saved = malloc(bytes);
    }
    if (!out->delay || (pixels && (!out->pics || !canvas || !saved))) {
        ok = false;
        goto out;
    }
    for (int i = 0; i < g->ImageCount; i++) {
        GraphicsControlBlock gcb = {.TransparentColor = -1};
        DGifSavedExtensionToGCB(g, i, &gcb);
        out->delay[i] = gcb.DelayTime;
        if (!pixels)
            continue;
        const SavedImage *im = &g->SavedImages[i];
        const GifImageDesc *d = &im->ImageDesc;
        const ColorMapObject *cm = d->ColorMap ? d->ColorMap : g->SColorMap;
        if (!cm || d->Left + d->Width > g->SWidth || d->Top + d->Height > g->SHeight) {
            ok = false;
            goto out;
        }
        if (gcb.DisposalMode == DISPOSE_PREVIOUS)
            memcpy(saved, canvas, bytes);
        for (int y = 0; y < d->Height; y++) {
            for (int x = 0; x < d->Width; x++) {
                int c = im->RasterBits[y * d->Width + x];
                if (c == gcb.TransparentColor || c >= cm->ColorCount)
                    continue;
                uint8_t *px = canvas + ((size_t)(d->Top + y) * g->SWidth + d->Left + x) * 4;
                px[0] = cm->Colors[c].Red;
                px[1] = cm->Colors[c].Green;
                px[2] = cm->Colors[c].Blue;
                px[3] = 255;
            }
        }
        if (!pic_alloc(&out->pics[i], g->SWidth, g->SHeight)) {
            ok = false;
            goto out;
        }
        memcpy(out->pics[i].rgba, canvas, bytes);
        if (gcb.DisposalMode == DISPOSE_BACKGROUND) {
            for (int y = 0; y < d->Height; y++)
                memset(canvas + ((size_t)(d->Top + y) * g->SWidth + d->Left) * 4, 0,
                       (size_t)d->Width * 4);
        } else if (gcb.DisposalMode == DISPOSE_PREVIOUS) {
            memcpy(canvas, saved, bytes);
        }
    }
out:
    free(canvas);
    free(saved);
    DGifCloseFile(g, &e);
    if (!ok)
        ti_anim_free(out);
    return ok;
}

/* ---- WebP ---- */

bool ti_read_webp(const char *path, bool pixels, ti_anim *out)
{
    memset(out, 0, sizeof(*out));
    size_t size = 0;
    uint8_t *bytes = (uint8_t *)t_read_all(path, &size);
    bool ok = bytes != NULL;
    WebPData data = {bytes, size};
    WebPDemuxer *dmx = ok ? WebPDemux(&data) : NULL;
    WebPAnimDecoder *dec = NULL;
    if (!dmx) {
        ok = false;
        goto out;
    }
    out->width = (int)WebPDemuxGetI(dmx, WEBP_FF_CANVAS_WIDTH);
    out->height = (int)WebPDemuxGetI(dmx, WEBP_FF_CANVAS_HEIGHT);
    out->frames = (int)WebPDemuxGetI(dmx, WEBP_FF_FRAME_COUNT);
    out->loop = WebPDemuxGetI(dmx, WEBP_FF_FORMAT_FLAGS) & ANIMATION_FLAG
                    ? (int)WebPDemuxGetI(dmx, WEBP_FF_LOOP_COUNT)
                    : -1;
    out->delay = calloc((size_t)out->frames + 1, sizeof(int));
    if (!out->delay || out->frames < 1) {
        ok = false;
        goto out;
    }
    WebPIterator it;
    if (WebPDemuxGetFrame(dmx, 1, &it)) {
        int i = 0;
        do
            out->delay[i++] = it.duration;
        while (i < out->frames && WebPDemuxNextFrame(&it));
        WebPDemuxReleaseIterator(&it);
    }
    if (!pixels)
        goto out;
    WebPAnimDecoderOptions o;
    WebPAnimDecoderOptionsInit(&o);
    o.color_mode = MODE_RGBA;
    o.use_threads = 0;
    dec = WebPAnimDecoderNew(&data, &o);
    out->pics = calloc((size_t)out->frames, sizeof(ti_pic));
    if (!dec || !out->pics) {
        ok = false;
        goto out;
    }
    for (int i = 0; i < out->frames && ok; i++) {
        uint8_t *buf;
        int ts;
        ok = WebPAnimDecoderGetNext(dec, &buf, &ts) &&
             pic_alloc(&out->pics[i], out->width, out->height);
        if (ok)
            memcpy(out->pics[i].rgba, buf, (size_t)out->width * out->height * 4);
    }
out:
    WebPAnimDecoderDelete(dec);
    WebPDemuxDelete(dmx);
    free(bytes);
    if (!ok)
        ti_anim_free(out);
    return ok;
}

bool ti_read_anim(const char *path, bool pixels, ti_anim *out)
{
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".gif") == 0)
        return ti_read_gif(path, pixels, out);
    return ti_read_webp(path, pixels, out);
}

/* ---- stills and video through libavcodec ---- */

static bool frame_to_pic(const AVFrame *f, int w, int h, ti_pic *out)
{
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, w, h, AV_PIX_FMT_RGBA,
                                            SWS_BICUBIC, NULL, NULL, NULL);
    bool ok = sws && pic_alloc(out, w, h);
    if (ok) {
        uint8_t *dst[4] = {out->rgba};
        int ls[4] = {w * 4};
        sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, ls);
    }
    sws_freeContext(sws);
    return ok;
}

bool ti_pic_scale(const ti_pic *in, int w, int h, ti_pic *out)
{
    AVFrame f = {.width = in->w, .height = in->h, .format = AV_PIX_FMT_RGBA};
    f.data[0] = in->rgba;
    f.linesize[0] = in->w * 4;
    return frame_to_pic(&f, w, h, out);
}

typedef struct decoder {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int index;
    AVPacket *pkt;
    AVFrame *frame;
    bool flushed;
} decoder;

static void decoder_close(decoder *d)
{
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    avcodec_free_context(&d->dec);
    avformat_close_input(&d->fmt);
}

static bool decoder_open(decoder *d, const char *path)
{
    memset(d, 0, sizeof(*d));
    if (avformat_open_input(&d->fmt, path, NULL, NULL) < 0)
        return false;
    const AVCodec *codec = NULL;
    if (avformat_find_stream_info(d->fmt, NULL) < 0 ||
        (d->index = av_find_best_stream(d->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)) < 0 ||
        !(d->dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(d->dec, d->fmt->streams[d->index]->codecpar) < 0 ||
        avcodec_open2(d->dec, codec, NULL) < 0 || !(d->pkt = av_packet_alloc()) ||
        !(d->frame = av_frame_alloc())) {
        decoder_close(d);
        return false;
    }
    return true;
}

/* The next decoded frame into d->frame; false at the end. */
static bool decoder_next(decoder *d)
{
    for (;;) {
        int rc = avcodec_receive_frame(d->dec, d->frame);
        if (rc >= 0)
            return true;
        if (rc != AVERROR(EAGAIN) || d->flushed)
            return false;
        bool got = false;
        while (av_read_frame(d->fmt, d->pkt) >= 0) {
            if (d->pkt->stream_index == d->index) {
                got = true;
                break;
            }
            av_packet_unref(d->pkt);
        }
        if (got) {
            avcodec_send_packet(d->dec, d->pkt);
            av_packet_unref(d->pkt);
        } else {
            avcodec_send_packet(d->dec, NULL);
            d->flushed = true;
        }
    }
}

static bool read_webp_still(const char *path, ti_pic *out)
{
    size_t size = 0;
    char *bytes = t_read_all(path, &size);
    int w = 0, h = 0;
    uint8_t *rgba = bytes ? WebPDecodeRGBA((const uint8_t *)bytes, size, &w, &h) : NULL;
    bool ok;
    ok = rgba && pic_alloc(out, w, h);
    if (ok)
        memcpy(out->rgba, rgba, (size_t)w * h * 4);
    WebPFree(rgba);
    free(bytes);
    return ok;
}

bool ti_read_picture(const char *path, ti_pic *out)
{
    memset(out, 0, sizeof(*out));
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".webp") == 0)
        return read_webp_still(path, out);
    decoder d;
    if (!decoder_open(&d, path))
        return false;
    bool ok = decoder_next(&d) && frame_to_pic(d.frame, d.frame->width, d.frame->height, out);
    decoder_close(&d);
    return ok;
}

void ti_video_free(ti_video *v)
{
    for (int i = 0; v->pics && i < v->n; i++)
        ti_pic_free(&v->pics[i]);
    free(v->pics);
    free(v->t);
    memset(v, 0, sizeof(*v));
}

bool ti_decode_video(const char *path, int w, int h, ti_video *out)
{
    memset(out, 0, sizeof(*out));
    decoder d;
    if (!decoder_open(&d, path))
        return false;
    const AVStream *st = d.fmt->streams[d.index];
    int64_t start = d.fmt->start_time != AV_NOPTS_VALUE ? d.fmt->start_time : 0;
    int cap = 0;
    bool ok = true;
    out->coded_w = st->codecpar->width;
    out->coded_h = st->codecpar->height;
    while (ok && decoder_next(&d)) {
        AVFrame *f = d.frame;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 64;
            double *t = realloc(out->t, (size_t)cap * sizeof(*t));
            ti_pic *p = t ? realloc(out->pics, (size_t)cap * sizeof(*p)) : NULL;
            if (t)
                out->t = t;
            if (p)
                out->pics = p;
            ok = t && p;
        }
        int64_t ts = f->best_effort_timestamp;
        if (ok)
            ok = ts != AV_NOPTS_VALUE &&
                 frame_to_pic(f, w ? w : f->width, h ? h : f->height, &out->pics[out->n]);
        if (ok)
            out->t[out->n++] =
                (double)(av_rescale_q(ts, st->time_base, AV_TIME_BASE_Q) - start) / AV_TIME_BASE;
        av_frame_unref(f);
    }
    decoder_close(&d);
    if (!ok || out->n == 0) {
        ti_video_free(out);
        return false;
    }
    return true;
}

int ti_frame_at(const ti_video *v, double t)
{
    int best = -1;
    for (int i = 0; i < v->n; i++)
        if (v->t[i] <= t + 1e-6 && (best < 0 || v->t[i] >= v->t[best]))
            best = i;
    return best;
}

/* ---- measures ---- */

static AVFrame *pic_frame(const ti_pic *p)
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        return NULL;
    f->width = p->w;
    f->height = p->h;
    f->format = AV_PIX_FMT_RGBA;
    f->pts = 0;
    f->sample_aspect_ratio = (AVRational){1, 1};
    if (av_frame_get_buffer(f, 0) < 0) {
        av_frame_free(&f);
        return NULL;
    }
    for (int y = 0; y < p->h; y++)
        memcpy(f->data[0] + (size_t)y * f->linesize[0], p->rgba + (size_t)y * p->w * 4,
               (size_t)p->w * 4);
    return f;
}

double ti_ssim(const ti_pic *a, const ti_pic *b)
{
    if (!a->rgba || !b->rgba || a->w != b->w || a->h != b->h)
        return -1;
    AVFilterGraph *g = avfilter_graph_alloc();
    AVFilterContext *src[2] = {NULL, NULL}, *sink = NULL;
    AVFilterInOut *outs = NULL, *ins = avfilter_inout_alloc();
    AVFrame *fa = pic_frame(a), *fb = pic_frame(b), *res = av_frame_alloc();
    double ssim = -1;
    char args[160];
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=1/25:pixel_aspect=1/1",
             a->w, a->h, AV_PIX_FMT_RGBA);
    if (!g || !ins || !fa || !fb || !res)
        goto out;
    g->nb_threads = 1;
    static const char *const names[2] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        if (avfilter_graph_create_filter(&src[i], avfilter_get_by_name("buffer"), names[i], args,
                                         NULL, g) < 0)
            goto out;
        AVFilterInOut *o = avfilter_inout_alloc();
        if (!o)
            goto out;
        o->name = av_strdup(names[i]);
        o->filter_ctx = src[i];
        o->next = outs;
        outs = o;
    }
    if (avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", NULL, NULL,
                                     g) < 0)
        goto out;
    ins->name = av_strdup("out");
    ins->filter_ctx = sink;
    if (avfilter_graph_parse_ptr(g,
                                 "[a]format=yuv444p,gblur=sigma=1[a1];"
                                 "[b]format=yuv444p,gblur=sigma=1[b1];[a1][b1]ssim[out]",
                                 &ins, &outs, NULL) < 0 ||
        avfilter_graph_config(g, NULL) < 0)
        goto out;
    if (av_buffersrc_add_frame(src[0], fa) < 0 || av_buffersrc_add_frame(src[1], fb) < 0 ||
        av_buffersrc_add_frame(src[0], NULL) < 0 || av_buffersrc_add_frame(src[1], NULL) < 0)
        goto out;
    if (av_buffersink_get_frame(sink, res) >= 0) {
        const AVDictionaryEntry *e = av_dict_get(res->metadata, "lavfi.ssim.All", NULL, 0);
        if (e)
            ssim = strtod(e->value, NULL);
    }
out:
    av_frame_free(&fa);
    av_frame_free(&fb);
    av_frame_free(&res);
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    avfilter_graph_free(&g);
    return ssim;
}

double ti_mad(const ti_pic *a, int ax, int ay, const ti_pic *b, int bx, int by, int w, int h)
{
    if (w <= 0 || h <= 0 || ax < 0 || ay < 0 || bx < 0 || by < 0 || ax + w > a->w ||
        ay + h > a->h || bx + w > b->w || by + h > b->h)
        return 1e9;
    double sum = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *pa = a->rgba + ((size_t)(ay + y) * a->w + ax) * 4;
        const uint8_t *pb = b->rgba + ((size_t)(by + y) * b->w + bx) * 4;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                sum += abs(pa[x * 4 + c] - pb[x * 4 + c]);
    }
    return sum / ((double)w * h * 3);
}

double ti_mean_level(const ti_pic *p, int x, int y, int w, int h)
{
    if (w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > p->w || y + h > p->h)
        return -1;
    double sum = 0;
    for (int r = y; r < y + h; r++)
        for (int c = x; c < x + w; c++) {
            const uint8_t *px = p->rgba + ((size_t)r * p->w + c) * 4;
            sum += (px[0] + px[1] + px[2]) / 3.0;
        }
    return sum / ((double)w * h);
}

int ti_read_code(const ti_pic *p, int bits, double col_w)
{
    int v = 0;
    int half = (int)fmax(1, col_w / 4);
    for (int k = 0; k < bits; k++) {
        int cx = (int)((k + 0.5) * col_w);
        double l = ti_mean_level(p, cx - half, p->h / 2 - 1, 2 * half, 2);
        if (l > 128)
            v |= 1 << k;
    }
    return v;
}

/* ---- processes and files ---- */

int ti_spawn(const char *const *argv, const char *out_path, const char *err_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ti_count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    size_t len = strlen(prefix);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            strncmp(de->d_name, prefix, len) == 0)
            n++;
    closedir(d);
    return n;
}

bool ti_mkdirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

/* ---- requests ---- */

/* A request for one source and one image-only target with the given Image members. */
char *ti_image_req(const char *source_uri, const char *image)
{
    size_t n = strlen(source_uri) + strlen(image) + 256;
    char *json = malloc(n);
    assert_non_null(json);
    snprintf(json, n, TI_REQ("\"Sources\":[{\"URI\":\"%s\"}],\"Targets\":[{\"Image\":{%s}}]"),
             source_uri, image);
    return json;
}

mc_result ti_run_image(const char *source_uri, const char *image)
{
    char *json = ti_image_req(source_uri, image);
    mc_result res = t_run_ok(json);
    free(json);
    return res;
}

/* A corpus file as a file:// URI (one of 4 static buffers) and its path, or NULL. */
const char *ti_corpus(const char *name, char *path, size_t size)
{
    const char *dir = t_media_dir();
    if (!dir)
        return NULL;
    /* A URI may not hold "..": the corpus folder's real path. */
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return NULL;
    snprintf(path, size, "%s/%s", real, name);
    if (!t_exists(path))
        return NULL;
    static char uri[4][1100];
    static unsigned next;
    char *u = uri[next++ % 4];
    snprintf(u, sizeof(uri[0]), "file://%s", path);
    return u;
}

/* The local path of an oss:// URI of the test store. */
const char *ti_local(const char *uri)
{
    assert_true(strncmp(uri, "oss://", 6) == 0);
    return t_path(uri + 6);
}

/* The outputs of one image element ("Image.Animations[2]"), in the result's order. */
size_t ti_outputs_of(const mc_result *res, const char *image, const mc_output_info **out,
                     size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < res->n_outputs; i++)
        if (strcmp(res->outputs[i].image, image) == 0) {
            if (n < max)
                out[n] = &res->outputs[i];
            n++;
        }
    return n;
}

/* The single output of an image element. */
const mc_output_info *ti_output_of(const mc_result *res, const char *image)
{
    const mc_output_info *o[2];
    size_t n = ti_outputs_of(res, image, o, 2);
    if (n != 1)
        fail_msg("%s: %zu outputs, want 1", image, n);
    return o[0];
}

/* Read the animation an element wrote and check what the result says about it. */
ti_anim ti_result_anim(const mc_result *res, const char *image, bool pixels)
{
    const mc_output_info *o = ti_output_of(res, image);
    ti_anim a;
    if (!ti_read_anim(ti_local(o->uri), pixels, &a))
        fail_msg("%s: %s cannot be read back", image, o->uri);
    assert_int_equal(o->info.n_streams, 1);
    if (o->info.streams[0].width != a.width || o->info.streams[0].height != a.height ||
        o->info.streams[0].frames != a.frames)
        fail_msg("%s: the result says %dx%d, %lld frames; the file has %dx%d, %d frames", image,
                 o->info.streams[0].width, o->info.streams[0].height,
                 (long long)o->info.streams[0].frames, a.width, a.height, a.frames);
    return a;
}

/* Every picture against the source frame at its point, scaled the same way, SSIM after a
 * blur. Returns the lowest. */
double ti_worst_ssim(const ti_video *src, const ti_pic *pics, int n, double start, double interval)
{
    double worst = 1;
    for (int k = 0; k < n; k++) {
        int fi = ti_frame_at(src, start + k * interval);
        assert_true(fi >= 0);
        worst = fmin(worst, ti_ssim(&pics[k], &src->pics[fi]));
    }
    return worst;
}
