/*
 * The hardware abstraction layer: which devices exist, what each can do, how many sessions
 * each takes, and which decoder, encoder and scale filter a device uses. FFmpeg owns the
 * mechanism (device contexts, frame pools, transfers); the HAL owns the policy.
 *
 * Each backend (hwaccel/software.c, vaapi.c, cuda.c, qsv.c, vulkan.c, and fake.c in test
 * builds) exports one const table of function pointers. Only hwaccel/hal.c calls the slots; a
 * NULL slot means "this backend can't do that" and the generic call returns -ENOSYS, which
 * callers treat as a reason to use the software path for that stage. Callers branch on
 * capability bits, never on backend names.
 *
 * Devices are discovered once (mc_hw_discover) into a registry that counts sessions in use,
 * health and throughput; the scheduler places tasks with it. A task holds a reference to its
 * device for its whole life.
 */
#ifndef MC_HWACCEL_H
#define MC_HWACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/hwcontext.h>

#include <jansson.h>

#include "mc_err.h"

#define MC_HW_NAME_MAX    64
#define MC_HW_MAX_DEVICES 16

enum mc_hw_cap {
    MC_HW_CAP_DECODE = 1u << 0, /* decodes into device frames */
    MC_HW_CAP_ENCODE = 1u << 1, /* encodes from device frames */
    MC_HW_CAP_SCALE = 1u << 2,  /* has a device scale filter */
    MC_HW_CAP_UPLOAD = 1u << 3, /* worth uploading system frames to, for scaling */
};

/* Per-codec abilities of a device (mc_hw_codec_caps). */
enum mc_hw_codec_flag {
    MC_HW_DEC8 = 1u << 0,
    MC_HW_DEC10 = 1u << 1,
    MC_HW_ENC8 = 1u << 2,
    MC_HW_ENC10 = 1u << 3,
};

/* The video codecs the HAL reports on, in listing order. */
#define MC_HW_NCODECS 6
extern const enum AVCodecID mc_hw_codecs[MC_HW_NCODECS];

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

/* What a backend learns about a device when it opens it. */
typedef struct mc_hw_open_info {
    char description[128];                /* vendor / driver / model, for people */
    bool emulated;                        /* a CPU implementation of the device API (lavapipe) */
    unsigned codec_caps[MC_HW_NCODECS];   /* mc_hw_codec_flag per mc_hw_codecs[i] */
    int decode_sessions, encode_sessions; /* capacity; 0 = the backend's default */
} mc_hw_open_info;

typedef struct mc_hw_backend {
    const char *name;
    enum AVHWDeviceType type; /* AV_HWDEVICE_TYPE_NONE for software */
    unsigned caps;            /* enum mc_hw_cap */
    int decode_sessions;      /* default capacity per device */
    int encode_sessions;
    /* List the devices this backend could open (names such as "renderD128", "0"); returns
     * how many were written to names[0..max), or a negative error. */
    int (*probe)(char (*names)[MC_HW_NAME_MAX], int max);
    /* Create the device context for `device` and describe it. */
    int (*open)(const char *device, AVBufferRef **device_ctx, mc_hw_open_info *info);
    /* Pick the decoder for a stream (NULL slot: FFmpeg's default decoder). */
    int (*find_decoder)(const AVStream *st, const AVCodec **out);
    /* Configure an allocated decoder context before avcodec_open2(). */
    int (*setup_decoder)(AVCodecContext *dec, AVBufferRef *device_ctx);
    /* Pick the encoder for a codec and bit depth (8, 10). */
    int (*find_encoder)(enum AVCodecID id, int bit_depth, const AVCodec **out);
    /* Configure an encoder context and its private options before avcodec_open2(). */
    int (*setup_encoder)(AVCodecContext *enc, AVDictionary **opts, const mc_hw_rate *rate);
    /* Filter that scales frames of this device ("scale", "scale_vaapi"...); its options are
     * w, h and format. */
    const char *scale_filter;
    /* Filter that overlays one picture of this device on another ("overlay_vulkan"...), NULL:
     * none; its options are x and y, both inputs hold overlay_format, and it has no timeline
     * (enable) support. overlay_alpha: it blends by the overlay's alpha in that format. */
    const char *overlay_filter;
    const char *overlay_format;
    bool overlay_alpha;
    /* Pixel format of this device's frames; AV_PIX_FMT_NONE for software. */
    enum AVPixelFormat hw_format;
} mc_hw_backend;

extern const mc_hw_backend mc_hw_backend_software;
extern const mc_hw_backend mc_hw_backend_vaapi;
extern const mc_hw_backend mc_hw_backend_cuda;
extern const mc_hw_backend mc_hw_backend_qsv;
extern const mc_hw_backend mc_hw_backend_vulkan;
extern const mc_hw_backend mc_hw_backend_fake; /* test builds only */

/* A device a task runs on: a backend plus its FFmpeg device context (NULL for software),
 * with its session counts, health and statistics. Reference-counted. */
typedef struct mc_hw_device mc_hw_device;

/* Open one device outside any registry (the CLI's --device): backend "auto" or NULL =
 * software. *out holds one reference. */
int mc_hw_device_open(const char *backend, const char *device, mc_hw_device **out, mc_err *err);
mc_hw_device *mc_hw_device_ref(mc_hw_device *dev);
void mc_hw_device_unref(mc_hw_device **dev);

const char *mc_hw_device_name(const mc_hw_device *dev); /* "software", "vaapi:renderD128" */
const char *mc_hw_device_backend(const mc_hw_device *dev);
unsigned mc_hw_device_caps(const mc_hw_device *dev);
bool mc_hw_device_is_software(const mc_hw_device *dev);
bool mc_hw_device_emulated(const mc_hw_device *dev);
/* The device context (borrowed), NULL for software. */
AVBufferRef *mc_hw_device_ctx(const mc_hw_device *dev);
enum AVPixelFormat mc_hw_device_format(const mc_hw_device *dev);
/* mc_hw_codec_flag bits for a codec (0 for codecs the HAL does not list). */
unsigned mc_hw_codec_caps(const mc_hw_device *dev, enum AVCodecID id);

int mc_hw_find_decoder(const mc_hw_device *dev, const AVStream *st, const AVCodec **out);
/*
 * Configure a decoder: for a device that decodes this codec, frames come out as device frames
 * (get_format picks the device format; when FFmpeg offers none, or the device refuses the
 * stream, it picks a software format and counts the fallback on *sw_fallbacks, which must
 * outlive the decoder).
 */
int mc_hw_setup_decoder(const mc_hw_device *dev, AVCodecContext *dec, int *sw_fallbacks);
/* Whether an opened decoder decodes on the device (rather than in software). */
bool mc_hw_device_decodes(const mc_hw_device *dev, const AVCodecContext *dec);
int mc_hw_find_encoder(const mc_hw_device *dev, enum AVCodecID id, int bit_depth,
                       const AVCodec **out);
int mc_hw_setup_encoder(const mc_hw_device *dev, AVCodecContext *enc, AVDictionary **opts,
                        const mc_hw_rate *rate);
/* The scale filter's name, or NULL when the backend has none. */
const char *mc_hw_scale_filter(const mc_hw_device *dev);
/* The device overlay filter's name and the software format both its inputs hold ("nv12"),
 * or NULL when the device has none; *alpha: it blends by alpha (may be NULL). */
const char *mc_hw_overlay_filter(const mc_hw_device *dev, const char **format, bool *alpha);

/* Statistics a finished task adds to its device. */
void mc_hw_device_account(mc_hw_device *dev, int64_t frames, double seconds, int64_t uploads,
                          int64_t downloads);

/* --- The registry: every backend, compiled or not, and its devices ------------------- */

enum mc_hw_backend_state {
    MC_HW_NOT_COMPILED, /* not in this build */
    MC_HW_NO_DEVICE,    /* compiled, no device found */
    MC_HW_FAILED,       /* devices found, none opened */
    MC_HW_READY,        /* at least one device ready */
};

enum mc_hw_health {
    MC_HW_HEALTHY,
    MC_HW_DEGRADED, /* a task failed on it and then succeeded on software */
    MC_HW_FAILING,  /* several in a row: left out of automatic placement for a while */
};

typedef struct mc_hw_registry mc_hw_registry;

/* Per-backend capacity overrides from the configuration (0 = the backend's default). */
typedef struct mc_hw_limits {
    const char *backend;
    int decode_sessions, encode_sessions;
} mc_hw_limits;

typedef struct mc_hw_discover_cfg {
    /* Backends to use: NULL or "auto" = every compiled backend, failures reported only;
     * otherwise a comma-separated list, and a named backend that fails is an error. */
    const char *backends;
    int cpu_slots; /* concurrent tasks on the software device */
    const mc_hw_limits *limits;
    size_t n_limits;
} mc_hw_discover_cfg;

/* Find and open every device. Fails only when a backend named in cfg->backends is unknown
 * or has no usable device. */
int mc_hw_discover(const mc_hw_discover_cfg *cfg, mc_hw_registry **out, mc_err *err);
void mc_hw_registry_free(mc_hw_registry **reg);

/* Devices in placement order: real hardware first, then software, then emulated devices. */
size_t mc_hw_registry_count(const mc_hw_registry *reg);
mc_hw_device *mc_hw_registry_device(const mc_hw_registry *reg, size_t i);
mc_hw_device *mc_hw_registry_software(const mc_hw_registry *reg);

/* Session counting. A task takes a decode and/or encode session on its device; try_take
 * takes both or neither and returns false when the device lacks room. Callers serialize
 * take/release with their own lock (the scheduler's). */
bool mc_hw_sessions_try_take(mc_hw_device *dev, bool decode, bool encode);
void mc_hw_sessions_release(mc_hw_device *dev, bool decode, bool encode);
int mc_hw_device_capacity(const mc_hw_device *dev, bool encode);
int mc_hw_device_in_use(const mc_hw_device *dev, bool encode);

/* Health: a confirmed hardware failure (the task then succeeded on software), or a success. */
void mc_hw_device_report(mc_hw_device *dev, bool ok, const char *why);
enum mc_hw_health mc_hw_device_health(const mc_hw_device *dev);
const char *mc_hw_health_name(enum mc_hw_health h);

/* Read-only views for listings. */
typedef struct mc_hw_backend_view {
    const char *name;
    bool compiled;
    enum mc_hw_backend_state state;
    char detail[192]; /* why it has no device / failed */
} mc_hw_backend_view;

size_t mc_hw_registry_backends(const mc_hw_registry *reg, mc_hw_backend_view *out, size_t max);
const char *mc_hw_backend_state_name(enum mc_hw_backend_state s);

typedef struct mc_hw_device_stats {
    int64_t tasks, fallbacks, frames, uploads, downloads;
    double seconds; /* time spent running tasks */
    char last_error[160];
} mc_hw_device_stats;

void mc_hw_device_get_stats(const mc_hw_device *dev, mc_hw_device_stats *out);
const char *mc_hw_device_description(const mc_hw_device *dev);

/* Placement classes: "auto" (any), "gpu" (hardware, not emulated), "cpu" (software) or a
 * backend name. mc_hw_class_check says which names are valid. */
bool mc_hw_device_in_class(const mc_hw_device *dev, const char *cls);
int mc_hw_class_check(const char *cls, mc_err *err);
/* The first device of a class in placement order, ignoring sessions ("auto" skips emulated
 * devices). *out holds a reference. */
int mc_hw_pick(const mc_hw_registry *reg, const char *cls, mc_hw_device **out, mc_err *err);

/* {"backends":[{"name","compiled","state","detail","devices":[...]}]}: every backend, its
 * devices, capabilities, sessions, health and throughput. New reference, NULL on OOM. */
json_t *mc_hw_registry_to_json(const mc_hw_registry *reg);
json_t *mc_hw_device_to_json(const mc_hw_device *dev);

/* Every backend the HAL knows, compiled into this build or not. */
extern const char *const mc_hw_backend_names[];

#endif
