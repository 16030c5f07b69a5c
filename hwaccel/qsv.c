/*
 * The Intel Quick Sync backend: a QSV device derived from the VAAPI device of an Intel render
 * node (as FFmpeg's own qsv hwcontext does on Linux), the *_qsv decoders and encoders, and
 * scale_qsv. Only nodes driven by i915 or xe are probed; what they decode and encode comes
 * from the VA profiles of the same node.
 */
#include "mc_hwaccel.h"

#include <stdio.h>
#include <string.h>

#include <libavutil/hwcontext_vaapi.h>

#include "hw_priv.h"

static const char *const intel_drivers[] = {"i915", "xe", NULL};

static int qsv_probe(char (*names)[MC_HW_NAME_MAX], int max)
{
    return mc_hw_render_nodes(names, max, intel_drivers);
}

static int qsv_open(const char *device, AVBufferRef **ctx, mc_hw_open_info *info)
{
    char path[128];
    AVBufferRef *va_ctx = NULL;
    snprintf(path, sizeof(path), "/dev/dri/%.60s", device ? device : "renderD128");
    int rc = av_hwdevice_ctx_create(&va_ctx, AV_HWDEVICE_TYPE_VAAPI, path, NULL, 0);
    if (rc < 0)
        return rc;
    rc = av_hwdevice_ctx_create_derived(ctx, AV_HWDEVICE_TYPE_QSV, va_ctx, 0);
    if (rc >= 0) {
        const AVHWDeviceContext *hw = (const AVHWDeviceContext *)va_ctx->data;
        const AVVAAPIDeviceContext *va = hw->hwctx;
        const char *vendor = vaQueryVendorString(va->display);
        snprintf(info->description, sizeof(info->description), "Quick Sync on %.100s",
                 vendor ? vendor : path);
        memset(info->codec_caps, 0, sizeof(info->codec_caps));
        mc_hw_va_caps(va->display, info->codec_caps);
    }
    av_buffer_unref(&va_ctx); /* the derived device keeps its own reference */
    return rc;
}

static const char *qsv_name(enum AVCodecID id)
{
    switch (id) {
    case AV_CODEC_ID_H264:
        return "h264";
    case AV_CODEC_ID_HEVC:
        return "hevc";
    case AV_CODEC_ID_VP9:
        return "vp9";
    case AV_CODEC_ID_AV1:
        return "av1";
    case AV_CODEC_ID_MPEG2VIDEO:
        return "mpeg2";
    default:
        return NULL;
    }
}

static int qsv_find_decoder(const AVStream *st, const AVCodec **out)
{
    const char *base = qsv_name(st->codecpar->codec_id);
    char name[32];
    if (!base)
        return -ENOSYS;
    snprintf(name, sizeof(name), "%s_qsv", base);
    const AVCodec *c = avcodec_find_decoder_by_name(name);
    if (!c)
        return -ENOSYS;
    *out = c;
    return 0;
}

static int qsv_setup_decoder(AVCodecContext *dec, AVBufferRef *device_ctx)
{
    (void)device_ctx;
    (void)dec;
    return 0;
}

static int qsv_find_encoder(enum AVCodecID id, int bit_depth, const AVCodec **out)
{
    (void)bit_depth;
    const char *base = qsv_name(id);
    char name[32];
    if (!base || id == AV_CODEC_ID_MPEG2VIDEO)
        return -ENOSYS;
    snprintf(name, sizeof(name), "%s_qsv", base);
    const AVCodec *c = avcodec_find_encoder_by_name(name);
    if (!c)
        return -ENOSYS;
    *out = c;
    return 0;
}

static int qsv_setup_encoder(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate)
{
    enc->gop_size = rate->gop_size;
    enc->max_b_frames = rate->bframes;
    enc->refs = rate->refs;
    int rc = av_dict_set(opts, "preset", "medium", 0);
    if (rate->bitrate > 0) {
        enc->bit_rate = rate->bitrate;
    } else {
        /* Intelligent constant quality, on the same scale as crf. */
        enc->global_quality = (int)(rate->crf + 0.5);
    }
    if (rate->max_bitrate > 0)
        enc->rc_max_rate = rate->max_bitrate;
    if (rate->buffer_size > 0)
        enc->rc_buffer_size = (int)rate->buffer_size;
    return rc < 0 ? rc : 0;
}

const mc_hw_backend mc_hw_backend_qsv = {
    .name = "qsv",
    .type = AV_HWDEVICE_TYPE_QSV,
    .caps = MC_HW_CAP_DECODE | MC_HW_CAP_SCALE | MC_HW_CAP_ENCODE,
    .decode_sessions = 8,
    .encode_sessions = 4,
    .probe = qsv_probe,
    .open = qsv_open,
    .find_decoder = qsv_find_decoder,
    .setup_decoder = qsv_setup_decoder,
    .find_encoder = qsv_find_encoder,
    .setup_encoder = qsv_setup_encoder,
    .scale_filter = "scale_qsv",
    .overlay_filter = "overlay_qsv",
    .overlay_format = "nv12",
    .hw_format = AV_PIX_FMT_QSV,
};
