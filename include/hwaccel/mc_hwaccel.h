/*
 * The hardware abstraction layer: which decoder, encoder and scale filter a device uses,
 * and how each is configured. FFmpeg owns the mechanism (device contexts, frame pools,
 * transfers); the HAL owns the policy.
 *
 * Each backend (hwaccel/software.c, later vaapi.c, cuda.c, qsv.c, vulkan.c) exports one
 * const table of function pointers. Only hwaccel/hal.c calls the slots; a NULL slot means
 * "this backend can't do that" and the generic call returns -ENOSYS, which callers treat as
 * a reason to place the work elsewhere. Callers branch on capability bits, never on names.
 */
#ifndef MC_HWACCEL_H
#define MC_HWACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "mc_err.h"

enum mc_hw_cap {
    MC_HW_CAP_DECODE = 1u << 0, /* decodes into device frames */
    MC_HW_CAP_ENCODE = 1u << 1, /* encodes from device frames */
    MC_HW_CAP_SCALE = 1u << 2,  /* has a device scale filter */
};

/* Rate control and GOP structure asked of a video encoder, neutral across encoders. */
typedef struct mc_hw_rate {
    double crf;          /* constant quality; used when bitrate == 0 */
    int64_t bitrate;     /* bit/s, 0 = constant quality */
    int64_t max_bitrate; /* VBV cap, 0 = none */
    int64_t buffer_size; /* VBV buffer, 0 = none */
    int gop_size;
    int bframes;
    int refs;
} mc_hw_rate;

typedef struct mc_hw_backend {
    const char *name;
    unsigned caps; /* enum mc_hw_cap */
    /* Create the device context for `device` (backend-specific name, NULL = default). */
    int (*open)(const char *device, AVBufferRef **device_ctx);
    /* Pick the decoder for a stream. */
    int (*find_decoder)(const AVStream *st, const AVCodec **out);
    /* Configure an allocated decoder context before avcodec_open2(). */
    int (*setup_decoder)(AVCodecContext *dec, AVBufferRef *device_ctx);
    /* Pick the encoder for a codec and bit depth (8, 10). */
    int (*find_encoder)(enum AVCodecID id, int bit_depth, const AVCodec **out);
    /* Configure an encoder context and its private options before avcodec_open2(). */
    int (*setup_encoder)(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate);
    /* Name of the filter that scales frames of this device ("scale", "scale_vaapi"...). */
    const char *scale_filter;
} mc_hw_backend;

extern const mc_hw_backend mc_hw_backend_software;

/* A device a task runs on: a backend plus its FFmpeg device context (NULL for software).
 * Reference-counted; a running task holds a reference for its whole life. */
typedef struct mc_hw_device mc_hw_device;

/* Open a device of the named backend ("software"). *out holds one reference. */
int mc_hw_device_open(const char *backend, const char *device, mc_hw_device **out, mc_err *err);
mc_hw_device *mc_hw_device_ref(mc_hw_device *dev);
void mc_hw_device_unref(mc_hw_device **dev);

const char *mc_hw_device_name(const mc_hw_device *dev);
unsigned mc_hw_device_caps(const mc_hw_device *dev);

int mc_hw_find_decoder(const mc_hw_device *dev, const AVStream *st, const AVCodec **out);
int mc_hw_setup_decoder(const mc_hw_device *dev, AVCodecContext *dec);
int mc_hw_find_encoder(const mc_hw_device *dev, enum AVCodecID id, int bit_depth,
                       const AVCodec **out);
int mc_hw_setup_encoder(const mc_hw_device *dev, AVCodecContext *enc, AVDictionary **opts,
                        const mc_hw_rate *rate);
/* The scale filter's name, or NULL when the backend has none. */
const char *mc_hw_scale_filter(const mc_hw_device *dev);

#endif
