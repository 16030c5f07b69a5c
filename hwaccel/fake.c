/*
 * A fake hardware backend, compiled only into test builds (MC_FAKE_HW=ON). It runs the
 * software codecs but counts as hardware for placement, and misbehaves on request, so that
 * the scheduler's placement, session limits and fallback are tested on machines without a
 * GPU. Configured by the environment variable MC_FAKE_HW, a comma-separated list of:
 *
 *   absent          no device (the backend reports "no device found"); also when
 *                   MC_FAKE_HW is unset or empty
 *   devices=N       number of devices (default 1)
 *   decode=N        decode sessions per device (default 2)
 *   encode=N        encode sessions per device (default 2)
 *   refuse=C[+C..]  codecs it neither decodes nor encodes (h264, hevc, vp9, av1)
 *   fail_open       opening the device fails (discovery reports it failed)
 *   fail_encoder    opening an encoder on it fails (a task fails at open)
 *   fail_after=N    decoding fails after N frames (a task fails mid-run)
 *   slow=MS         each decoded frame takes MS milliseconds more (a task runs long enough
 *                   to be cancelled, or to hold its session, while a test looks)
 */
#include "mc_hwaccel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fake_cfg {
    bool absent, fail_open, fail_encoder;
    int devices, decode, encode, fail_after, slow_ms;
    char refuse[128];
} fake_cfg;

static fake_cfg read_cfg(void)
{
    fake_cfg c = {.devices = 1, .decode = 2, .encode = 2, .fail_after = -1};
    const char *env = getenv("MC_FAKE_HW");
    if (!env || !*env)
        c.absent = true; /* only tests that ask for it get a fake device */
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", env ? env : "");
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        const char *val = eq ? eq + 1 : "";
        if (eq)
            *eq = 0;
        if (strcmp(tok, "absent") == 0)
            c.absent = true;
        else if (strcmp(tok, "fail_open") == 0)
            c.fail_open = true;
        else if (strcmp(tok, "fail_encoder") == 0)
            c.fail_encoder = true;
        else if (strcmp(tok, "devices") == 0)
            c.devices = (int)strtol(val, NULL, 10);
        else if (strcmp(tok, "decode") == 0)
            c.decode = (int)strtol(val, NULL, 10);
        else if (strcmp(tok, "encode") == 0)
            c.encode = (int)strtol(val, NULL, 10);
        else if (strcmp(tok, "fail_after") == 0)
            c.fail_after = (int)strtol(val, NULL, 10);
        else if (strcmp(tok, "slow") == 0)
            c.slow_ms = (int)strtol(val, NULL, 10);
        else if (strcmp(tok, "refuse") == 0)
            snprintf(c.refuse, sizeof(c.refuse), "+%s+", val);
    }
    return c;
}

static bool refused(const fake_cfg *c, enum AVCodecID id)
{
    char key[40];
    snprintf(key, sizeof(key), "+%s+", avcodec_get_name(id));
    return strstr(c->refuse, key) != NULL;
}

static int fake_probe(char (*names)[MC_HW_NAME_MAX], int max)
{
    fake_cfg c = read_cfg();
    if (c.absent)
        return 0;
    int n = 0;
    for (int i = 0; i < c.devices && n < max; i++)
        snprintf(names[n++], MC_HW_NAME_MAX, "%d", i);
    return n;
}

static int fake_open(const char *device, AVBufferRef **ctx, mc_hw_open_info *info)
{
    (void)ctx;
    fake_cfg c = read_cfg();
    if (c.fail_open)
        return AVERROR(EIO);
    snprintf(info->description, sizeof(info->description), "fake device %s (test build)",
             device ? device : "0");
    for (int i = 0; i < MC_HW_NCODECS; i++) {
        enum AVCodecID id = mc_hw_codecs[i];
        if (refused(&c, id))
            continue;
        info->codec_caps[i] = MC_HW_DEC8 | MC_HW_DEC10;
        if (id == AV_CODEC_ID_H264 || id == AV_CODEC_ID_HEVC)
            info->codec_caps[i] |= MC_HW_ENC8;
    }
    info->decode_sessions = c.decode > 0 ? c.decode : -1;
    info->encode_sessions = c.encode > 0 ? c.encode : -1;
    return 0;
}

/* Fails every frame buffer request once the budget kept in the decoder's opaque runs out:
 * what a device that runs out of surfaces mid-stream does. One decoding thread, so the
 * budget is only touched by one thread. */
static int failing_get_buffer(AVCodecContext *dec, AVFrame *frame, int flags)
{
    intptr_t left = (intptr_t)dec->opaque;
    if (left <= 0)
        return AVERROR_EXTERNAL;
    dec->opaque = (void *)(left - 1);
    return avcodec_default_get_buffer2(dec, frame, flags);
}

/* A slow device: every frame buffer costs the configured time. */
static int slow_get_buffer(AVCodecContext *dec, AVFrame *frame, int flags)
{
    int ms = (int)(intptr_t)dec->opaque;
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
    return avcodec_default_get_buffer2(dec, frame, flags);
}

static int fake_setup_decoder(AVCodecContext *dec, AVBufferRef *device_ctx)
{
    (void)device_ctx;
    fake_cfg c = read_cfg();
    dec->thread_count = 0;
    if (c.fail_after >= 0) {
        dec->thread_count = 1;
        dec->opaque = (void *)(intptr_t)c.fail_after;
        dec->get_buffer2 = failing_get_buffer;
    } else if (c.slow_ms > 0) {
        dec->thread_count = 1;
        dec->opaque = (void *)(intptr_t)c.slow_ms;
        dec->get_buffer2 = slow_get_buffer;
    }
    return 0;
}

static int fake_find_encoder(enum AVCodecID id, int bit_depth, const AVCodec **out)
{
    fake_cfg c = read_cfg();
    if (refused(&c, id) || bit_depth > 8)
        return -ENOSYS;
    return mc_hw_backend_software.find_encoder(id, bit_depth, out);
}

static int fake_setup_encoder(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate)
{
    fake_cfg c = read_cfg();
    if (c.fail_encoder)
        return AVERROR_EXTERNAL;
    return mc_hw_backend_software.setup_encoder(enc, opts, rate);
}

const mc_hw_backend mc_hw_backend_fake = {
    .name = "fake",
    .type = AV_HWDEVICE_TYPE_NONE,
    .caps = MC_HW_CAP_DECODE | MC_HW_CAP_ENCODE,
    .decode_sessions = 2,
    .encode_sessions = 2,
    .probe = fake_probe,
    .open = fake_open,
    .setup_decoder = fake_setup_decoder,
    .find_encoder = fake_find_encoder,
    .setup_encoder = fake_setup_encoder,
    .scale_filter = "scale",
};
