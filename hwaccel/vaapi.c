/*
 * The VAAPI backend: every /dev/dri/renderD* node, identified through libva (vendor string)
 * and libdrm (kernel driver). What each device decodes and encodes comes from its VA profiles
 * and entrypoints, not from a table of chips. Decoding goes through FFmpeg's vaapi hwaccel,
 * scaling through scale_vaapi, encoding through h264_vaapi, hevc_vaapi, vp9_vaapi.
 */
#include "mc_hwaccel.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/hwcontext_vaapi.h>
#include <va/va.h>
#include <xf86drm.h>

#include "hw_priv.h"

int mc_hw_render_nodes(char (*names)[MC_HW_NAME_MAX], int max, const char *const *drivers)
{
    DIR *d = opendir("/dev/dri");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        if (strncmp(de->d_name, "renderD", 7) != 0)
            continue;
        if (drivers) {
            char driver[32];
            if (mc_hw_drm_driver(de->d_name, driver, sizeof(driver)) < 0)
                continue;
            bool ok = false;
            for (const char *const *p = drivers; *p; p++)
                ok |= strcmp(*p, driver) == 0;
            if (!ok)
                continue;
        }
        snprintf(names[n++], MC_HW_NAME_MAX, "%.60s", de->d_name);
    }
    closedir(d);
    /* renderD128 before renderD129. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[MC_HW_NAME_MAX];
            memcpy(t, names[j], sizeof(t));
            memcpy(names[j], names[j - 1], sizeof(t));
            memcpy(names[j - 1], t, sizeof(t));
        }
    return n;
}

int mc_hw_drm_driver(const char *node, char *out, size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "/dev/dri/%.60s", node);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    drmVersionPtr v = drmGetVersion(fd);
    close(fd);
    if (!v)
        return -ENODEV;
    snprintf(out, size, "%.*s", v->name_len, v->name);
    drmFreeVersion(v);
    return 0;
}

static int vaapi_probe(char (*names)[MC_HW_NAME_MAX], int max)
{
    return mc_hw_render_nodes(names, max, NULL);
}

/* Which codec and depth each VA profile stands for. */
static const struct {
    VAProfile profile;
    enum AVCodecID id;
    unsigned dec, enc;
} va_profiles[] = {
    {VAProfileH264ConstrainedBaseline, AV_CODEC_ID_H264, MC_HW_DEC8, MC_HW_ENC8},
    {VAProfileH264Main, AV_CODEC_ID_H264, MC_HW_DEC8, MC_HW_ENC8},
    {VAProfileH264High, AV_CODEC_ID_H264, MC_HW_DEC8, MC_HW_ENC8},
    {VAProfileHEVCMain, AV_CODEC_ID_HEVC, MC_HW_DEC8, MC_HW_ENC8},
    {VAProfileHEVCMain10, AV_CODEC_ID_HEVC, MC_HW_DEC10, MC_HW_ENC10},
    {VAProfileVP9Profile0, AV_CODEC_ID_VP9, MC_HW_DEC8, MC_HW_ENC8},
    {VAProfileVP9Profile2, AV_CODEC_ID_VP9, MC_HW_DEC10, MC_HW_ENC10},
    {VAProfileAV1Profile0, AV_CODEC_ID_AV1, MC_HW_DEC8 | MC_HW_DEC10, 0},
    {VAProfileVP8Version0_3, AV_CODEC_ID_VP8, MC_HW_DEC8, MC_HW_ENC8},
    {VAProfileMPEG2Main, AV_CODEC_ID_MPEG2VIDEO, MC_HW_DEC8, MC_HW_ENC8},
};

/* Fill codec_caps from the display's profiles and entrypoints. */
void mc_hw_va_caps(VADisplay dpy, unsigned *codec_caps)
{
    int max = vaMaxNumProfiles(dpy);
    VAProfile *profiles = max > 0 ? calloc((size_t)max, sizeof(*profiles)) : NULL;
    int maxe = vaMaxNumEntrypoints(dpy);
    VAEntrypoint *eps = maxe > 0 ? calloc((size_t)maxe, sizeof(*eps)) : NULL;
    int n = 0;
    if (!profiles || !eps || vaQueryConfigProfiles(dpy, profiles, &n) != VA_STATUS_SUCCESS)
        n = 0;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(va_profiles) / sizeof(va_profiles[0]); k++) {
            if (va_profiles[k].profile != profiles[i])
                continue;
            int ne = 0;
            if (vaQueryConfigEntrypoints(dpy, profiles[i], eps, &ne) != VA_STATUS_SUCCESS)
                continue;
            unsigned flags = 0;
            for (int e = 0; e < ne; e++) {
                if (eps[e] == VAEntrypointVLD)
                    flags |= va_profiles[k].dec;
                if (eps[e] == VAEntrypointEncSlice || eps[e] == VAEntrypointEncSliceLP)
                    flags |= va_profiles[k].enc;
            }
            for (int c = 0; c < MC_HW_NCODECS; c++)
                if (mc_hw_codecs[c] == va_profiles[k].id)
                    codec_caps[c] |= flags;
        }
    }
    free(profiles);
    free(eps);
}

static int vaapi_open(const char *device, AVBufferRef **ctx, mc_hw_open_info *info)
{
    char path[128];
    snprintf(path, sizeof(path), "/dev/dri/%.60s", device ? device : "renderD128");
    int rc = av_hwdevice_ctx_create(ctx, AV_HWDEVICE_TYPE_VAAPI, path, NULL, 0);
    if (rc < 0)
        return rc;
    const AVHWDeviceContext *hw = (const AVHWDeviceContext *)(*ctx)->data;
    const AVVAAPIDeviceContext *va = hw->hwctx;
    char driver[32] = "";
    mc_hw_drm_driver(device ? device : "renderD128", driver, sizeof(driver));
    const char *vendor = vaQueryVendorString(va->display);
    snprintf(info->description, sizeof(info->description), "%.90s (%.30s)",
             vendor ? vendor : "VAAPI", driver[0] ? driver : "unknown driver");
    /* What FFmpeg would try is not what the chip has: ask the driver. */
    memset(info->codec_caps, 0, sizeof(info->codec_caps));
    mc_hw_va_caps(va->display, info->codec_caps);
    return 0;
}

static int vaapi_setup_decoder(AVCodecContext *dec, AVBufferRef *device_ctx)
{
    (void)device_ctx;
    dec->thread_count = 1;
    return 0;
}

static int vaapi_find_encoder(enum AVCodecID id, int bit_depth, const AVCodec **out)
{
    (void)bit_depth;
    const char *name = id == AV_CODEC_ID_H264   ? "h264_vaapi"
                       : id == AV_CODEC_ID_HEVC ? "hevc_vaapi"
                       : id == AV_CODEC_ID_VP9  ? "vp9_vaapi"
                       : id == AV_CODEC_ID_AV1  ? "av1_vaapi"
                                                : NULL;
    const AVCodec *c = name ? avcodec_find_encoder_by_name(name) : NULL;
    if (!c)
        return -ENOSYS;
    *out = c;
    return 0;
}

static int vaapi_setup_encoder(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate)
{
    enc->gop_size = rate->gop_size;
    enc->max_b_frames = rate->bframes;
    enc->refs = rate->refs;
    int rc = 0;
    if (rate->bitrate > 0) {
        enc->bit_rate = rate->bitrate;
        rc = av_dict_set(opts, "rc_mode", "VBR", 0);
    } else {
        /* Constant quality: QP close to the crf asked for. */
        enc->global_quality = (int)(rate->crf + 0.5);
        rc = av_dict_set(opts, "rc_mode", "CQP", 0);
    }
    if (rate->max_bitrate > 0)
        enc->rc_max_rate = rate->max_bitrate;
    if (rate->buffer_size > 0)
        enc->rc_buffer_size = (int)rate->buffer_size;
    return rc < 0 ? rc : 0;
}

const mc_hw_backend mc_hw_backend_vaapi = {
    .name = "vaapi",
    .type = AV_HWDEVICE_TYPE_VAAPI,
    .caps = MC_HW_CAP_DECODE | MC_HW_CAP_SCALE | MC_HW_CAP_ENCODE,
    .decode_sessions = 8,
    .encode_sessions = 4,
    .probe = vaapi_probe,
    .open = vaapi_open,
    .setup_decoder = vaapi_setup_decoder,
    .find_encoder = vaapi_find_encoder,
    .setup_encoder = vaapi_setup_encoder,
    .scale_filter = "scale_vaapi",
    .overlay_filter = "overlay_vaapi",
    .overlay_format = "nv12",
    .hw_format = AV_PIX_FMT_VAAPI,
};
