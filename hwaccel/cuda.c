/*
 * The CUDA backend: NVDEC decoding through FFmpeg's cuda hwaccel, scale_cuda, and NVENC
 * encoding only where the chip has it. Data-centre parts such as the H100 and H200 have NVDEC
 * but no NVENC: a one-frame h264_nvenc encode is tried when the device opens, and where it
 * fails the device offers decode and scale only, so tasks on it decode and scale on the GPU,
 * download the small scaled frames and encode in software.
 *
 * NVENC's session limit: consumer GeForce boards allow a few concurrent encode sessions
 * (3 on older drivers, 5-8 on newer ones); data-centre and workstation boards have none. The
 * default here is 8; [devices] cuda_encode_sessions lowers it.
 */
#include "mc_hwaccel.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/opt.h>

#define GPUS_DIR "/proc/driver/nvidia/gpus"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* PCI addresses of the NVIDIA GPUs the driver reports, sorted (CUDA's PCI_BUS_ID order). */
static int list_gpus(char (*pci)[MC_HW_NAME_MAX], int max)
{
    DIR *d = opendir(GPUS_DIR);
    if (!d)
        return 0;
    char *found[MC_HW_MAX_DEVICES];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MC_HW_MAX_DEVICES && n < max)
        if (de->d_name[0] != '.' && (found[n] = strdup(de->d_name)))
            n++;
    closedir(d);
    qsort(found, (size_t)n, sizeof(found[0]), cmp_str);
    for (int i = 0; i < n; i++) {
        snprintf(pci[i], MC_HW_NAME_MAX, "%.60s", found[i]);
        free(found[i]);
    }
    return n;
}

static int cuda_probe(char (*names)[MC_HW_NAME_MAX], int max)
{
    char pci[MC_HW_MAX_DEVICES][MC_HW_NAME_MAX];
    int n = list_gpus(pci, max < MC_HW_MAX_DEVICES ? max : MC_HW_MAX_DEVICES);
    for (int i = 0; i < n; i++)
        snprintf(names[i], MC_HW_NAME_MAX, "%d", i);
    return n;
}

/* "Model: NVIDIA H100 80GB HBM3" from the driver's information file of GPU `index`. */
static void gpu_model(int index, char *out, size_t size)
{
    char pci[MC_HW_MAX_DEVICES][MC_HW_NAME_MAX];
    int n = list_gpus(pci, MC_HW_MAX_DEVICES);
    if (index < 0 || index >= n)
        return;
    char path[256], line[256];
    snprintf(path, sizeof(path), GPUS_DIR "/%s/information", pci[index]);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Model:", 6) == 0) {
            char *p = line + 6;
            while (*p == ' ' || *p == '\t')
                p++;
            p[strcspn(p, "\n")] = 0;
            snprintf(out, size, "%.80s (%.40s)", p, pci[index]);
            break;
        }
    }
    fclose(f);
}

/* Open `name` on this device with one frame of `sw` and encode it: NVENC's presence is only
 * known by trying (the library loads on chips without it and fails at session creation). */
static bool nvenc_works(AVBufferRef *device, const char *name, enum AVPixelFormat sw)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    AVCodecContext *enc = NULL;
    AVBufferRef *frames = NULL;
    AVFrame *f = NULL;
    AVPacket *pkt = NULL;
    bool ok = false;
    if (!codec)
        return false;
    frames = av_hwframe_ctx_alloc(device);
    enc = avcodec_alloc_context3(codec);
    f = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!frames || !enc || !f || !pkt)
        goto out;
    AVHWFramesContext *fc = (AVHWFramesContext *)frames->data;
    fc->format = AV_PIX_FMT_CUDA;
    fc->sw_format = sw;
    fc->width = 256;
    fc->height = 256;
    fc->initial_pool_size = 2;
    if (av_hwframe_ctx_init(frames) < 0)
        goto out;
    enc->width = 256;
    enc->height = 256;
    enc->time_base = (AVRational){1, 25};
    enc->framerate = (AVRational){25, 1};
    enc->pix_fmt = AV_PIX_FMT_CUDA;
    enc->hw_frames_ctx = av_buffer_ref(frames);
    if (!enc->hw_frames_ctx || avcodec_open2(enc, codec, NULL) < 0)
        goto out;
    if (av_hwframe_get_buffer(frames, f, 0) < 0)
        goto out;
    f->pts = 0;
    if (avcodec_send_frame(enc, f) < 0 || avcodec_send_frame(enc, NULL) < 0)
        goto out;
    ok = avcodec_receive_packet(enc, pkt) == 0;
out:
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&enc);
    av_buffer_unref(&frames);
    return ok;
}

static int cuda_open(const char *device, AVBufferRef **ctx, mc_hw_open_info *info)
{
    int rc = av_hwdevice_ctx_create(ctx, AV_HWDEVICE_TYPE_CUDA, device, NULL, 0);
    if (rc < 0)
        return rc;
    gpu_model(device ? (int)strtol(device, NULL, 10) : 0, info->description,
              sizeof(info->description));
    if (!info->description[0])
        snprintf(info->description, sizeof(info->description), "NVIDIA CUDA device %s",
                 device ? device : "0");
    static const struct {
        enum AVCodecID id;
        const char *name;
        enum AVPixelFormat sw;
        unsigned flag;
    } probes[] = {
        {AV_CODEC_ID_H264, "h264_nvenc", AV_PIX_FMT_NV12, MC_HW_ENC8},
        {AV_CODEC_ID_HEVC, "hevc_nvenc", AV_PIX_FMT_NV12, MC_HW_ENC8},
        {AV_CODEC_ID_HEVC, "hevc_nvenc", AV_PIX_FMT_P010, MC_HW_ENC10},
        {AV_CODEC_ID_AV1, "av1_nvenc", AV_PIX_FMT_NV12, MC_HW_ENC8},
    };
    bool any = false;
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        /* No H.264 encoder means no NVENC at all: don't try the others. */
        if (i > 0 && !any)
            break;
        if (!nvenc_works(*ctx, probes[i].name, probes[i].sw))
            continue;
        any = true;
        for (int k = 0; k < MC_HW_NCODECS; k++)
            if (mc_hw_codecs[k] == probes[i].id)
                info->codec_caps[k] |= probes[i].flag;
    }
    size_t len = strlen(info->description);
    snprintf(info->description + len, sizeof(info->description) - len, ", %s",
             any ? "NVDEC + NVENC" : "NVDEC, no NVENC");
    if (!any)
        info->encode_sessions = -1; /* none */
    return 0;
}

static int cuda_setup_decoder(AVCodecContext *dec, AVBufferRef *device_ctx)
{
    (void)device_ctx;
    /* NVDEC decodes on the chip; the CPU only parses. */
    dec->thread_count = 1;
    return 0;
}

static int cuda_find_encoder(enum AVCodecID id, int bit_depth, const AVCodec **out)
{
    const char *name = id == AV_CODEC_ID_H264   ? "h264_nvenc"
                       : id == AV_CODEC_ID_HEVC ? "hevc_nvenc"
                       : id == AV_CODEC_ID_AV1  ? "av1_nvenc"
                                                : NULL;
    if (!name || (id == AV_CODEC_ID_H264 && bit_depth > 8))
        return -ENOSYS;
    const AVCodec *c = avcodec_find_encoder_by_name(name);
    if (!c)
        return -ENOSYS;
    *out = c;
    return 0;
}

static int cuda_setup_encoder(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate)
{
    enc->gop_size = rate->gop_size;
    enc->max_b_frames = rate->bframes;
    enc->refs = rate->refs;
    int rc = av_dict_set(opts, "preset", "p4", 0);
    if (rc >= 0 && rate->bitrate > 0) {
        enc->bit_rate = rate->bitrate;
        rc = av_dict_set(opts, "rc", "vbr", 0);
    } else if (rc >= 0) {
        /* Constant quality: NVENC's cq scale is close to x264's crf. */
        enc->bit_rate = 0;
        rc = av_dict_set(opts, "rc", "vbr", 0);
        if (rc >= 0)
            rc = av_dict_set_int(opts, "cq", (int64_t)(rate->crf + 0.5), 0);
    }
    if (rate->max_bitrate > 0)
        enc->rc_max_rate = rate->max_bitrate;
    if (rate->buffer_size > 0)
        enc->rc_buffer_size = (int)rate->buffer_size;
    return rc < 0 ? rc : 0;
}

const mc_hw_backend mc_hw_backend_cuda = {
    .name = "cuda",
    .type = AV_HWDEVICE_TYPE_CUDA,
    .caps = MC_HW_CAP_DECODE | MC_HW_CAP_SCALE | MC_HW_CAP_ENCODE,
    .decode_sessions = 8,
    .encode_sessions = 8,
    .probe = cuda_probe,
    .open = cuda_open,
    .setup_decoder = cuda_setup_decoder,
    .find_encoder = cuda_find_encoder,
    .setup_encoder = cuda_setup_encoder,
    .scale_filter = "scale_cuda",
    .overlay_filter = "overlay_cuda",
    .overlay_format = "nv12",
    .hw_format = AV_PIX_FMT_CUDA,
};
