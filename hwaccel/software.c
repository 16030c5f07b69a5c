/*
 * The software backend: FFmpeg's CPU decoders and the libx264/libx265/libvpx/SVT-AV1
 * encoders. Always present; the fallback for everything the hardware can't do.
 */
#include "mc_hwaccel.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/opt.h>

static int sw_find_encoder(enum AVCodecID id, int bit_depth, const AVCodec **out);

static int sw_open(const char *device, AVBufferRef **ctx, mc_hw_open_info *info)
{
    (void)device;
    (void)ctx;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(info->description, sizeof(info->description), "CPU, %ld cores (FFmpeg codecs)", cores);
    for (int i = 0; i < MC_HW_NCODECS; i++) {
        const AVCodec *c = NULL;
        if (avcodec_find_decoder(mc_hw_codecs[i]))
            info->codec_caps[i] |= MC_HW_DEC8 | MC_HW_DEC10;
        if (sw_find_encoder(mc_hw_codecs[i], 8, &c) == 0)
            info->codec_caps[i] |= MC_HW_ENC8;
        if (sw_find_encoder(mc_hw_codecs[i], 10, &c) == 0 && c->pix_fmts)
            for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
                if (*p == AV_PIX_FMT_YUV420P10LE)
                    info->codec_caps[i] |= MC_HW_ENC10;
    }
    return 0;
}

static int sw_find_decoder(const AVStream *st, const AVCodec **out)
{
    const AVCodec *codec = NULL;
    enum AVCodecID id = st->codecpar->codec_id;
    /* FFmpeg's native VP8/VP9 decoders drop the alpha plane that WebM carries in
     * BlockAdditional; libvpx keeps it. */
    const AVDictionaryEntry *alpha = av_dict_get(st->metadata, "alpha_mode", NULL, 0);
    if (alpha && strcmp(alpha->value, "1") == 0) {
        if (id == AV_CODEC_ID_VP9)
            codec = avcodec_find_decoder_by_name("libvpx-vp9");
        else if (id == AV_CODEC_ID_VP8)
            codec = avcodec_find_decoder_by_name("libvpx");
    }
    if (!codec)
        codec = avcodec_find_decoder(id);
    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    *out = codec;
    return 0;
}

static int sw_setup_decoder(AVCodecContext *dec, AVBufferRef *device_ctx)
{
    (void)device_ctx;
    /* Library users get one decoding thread unless they ask (the ffmpeg program asks). */
    dec->thread_count = 0;
    dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    return 0;
}

static int sw_find_encoder(enum AVCodecID id, int bit_depth, const AVCodec **out)
{
    const char *name;
    switch (id) {
    case AV_CODEC_ID_H264:
        name = "libx264";
        break;
    case AV_CODEC_ID_HEVC:
        name = "libx265";
        break;
    case AV_CODEC_ID_VP9:
        name = "libvpx-vp9";
        break;
    case AV_CODEC_ID_AV1:
        name = "libsvtav1";
        break;
    default:
        return -ENOSYS;
    }
    if (bit_depth > 10)
        return -ENOSYS;
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (!codec)
        return AVERROR_ENCODER_NOT_FOUND;
    *out = codec;
    return 0;
}

static int set_opt(AVDictionary **opts, const char *key, int64_t value)
{
    return av_dict_set_int(opts, key, value, 0);
}

static int sw_setup_encoder(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate)
{
    const char *name = enc->codec->name;
    int rc = 0;

    enc->thread_count = 0;
    enc->gop_size = rate->gop_size;
    enc->max_b_frames = rate->bframes;
    enc->refs = rate->refs;
    if (rate->bitrate > 0) {
        enc->bit_rate = rate->bitrate;
    } else {
        enc->bit_rate = 0;
        if (strcmp(name, "libvpx-vp9") == 0 || strcmp(name, "libsvtav1") == 0)
            rc = set_opt(opts, "crf", (int64_t)(rate->crf + 0.5));
        else {
            char crf[32];
            snprintf(crf, sizeof(crf), "%.2f", rate->crf);
            rc = av_dict_set(opts, "crf", crf, 0);
        }
    }
    if (rc < 0)
        return rc;
    if (rate->max_bitrate > 0)
        enc->rc_max_rate = rate->max_bitrate;
    if (rate->buffer_size > 0)
        enc->rc_buffer_size = (int)rate->buffer_size;

    if (strcmp(name, "libx265") == 0) {
        rc = av_dict_set(opts, "x265-params", "log-level=error", 0);
    } else if (strcmp(name, "libvpx-vp9") == 0) {
        /* libvpx's defaults (cpu-used 1, one thread per frame) are several times slower than
         * what a service can afford; cpu-used 4 with row multithreading is the usual
         * speed/quality point for on-demand VP9. */
        if (rate->bitrate == 0 && rate->max_bitrate > 0)
            enc->bit_rate = rate->max_bitrate; /* constrained quality */
        rc = av_dict_set(opts, "deadline", "good", 0);
        if (rc >= 0)
            rc = set_opt(opts, "cpu-used", 4);
        if (rc >= 0)
            rc = set_opt(opts, "row-mt", 1);
        enc->max_b_frames = 0;
    } else if (strcmp(name, "libsvtav1") == 0) {
        enc->max_b_frames = 0;
        enc->refs = 0;
    }
    return rc < 0 ? rc : 0;
}

const mc_hw_backend mc_hw_backend_software = {
    .name = "software",
    .caps = 0,
    .open = sw_open,
    .find_decoder = sw_find_decoder,
    .setup_decoder = sw_setup_decoder,
    .find_encoder = sw_find_encoder,
    .setup_encoder = sw_setup_encoder,
    .scale_filter = "scale",
};
