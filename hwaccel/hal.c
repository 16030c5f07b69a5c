/* The generic half of the HAL: devices, the registry, and the only callers of backend slots. */
#include "mc_hwaccel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/pixdesc.h>

#include "mc_log.h"

const enum AVCodecID mc_hw_codecs[MC_HW_NCODECS] = {
    AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_VP9,
    AV_CODEC_ID_AV1,  AV_CODEC_ID_VP8,  AV_CODEC_ID_MPEG2VIDEO,
};

const char *const mc_hw_backend_names[] = {"cuda", "vaapi", "qsv", "vulkan", "software", NULL};

/* Failures in a row after which automatic placement leaves a device out for a while. */
#define FAILING_AFTER   3
#define FAILING_PAUSE_S 60

struct mc_hw_device {
    atomic_int refs;
    const mc_hw_backend *backend;
    AVBufferRef *device_ctx; /* NULL for backends without a device context */
    char name[MC_HW_NAME_MAX + 16];
    mc_hw_open_info info;
    int capacity[2]; /* [0] decode, [1] encode sessions */

    pthread_mutex_t lock; /* guards what follows */
    int in_use[2];
    int failures_in_row;
    enum mc_hw_health health;
    int64_t failing_until; /* monotonic seconds */
    mc_hw_device_stats stats;
};

struct mc_hw_registry {
    mc_hw_device *devices[MC_HW_MAX_DEVICES + 1];
    size_t n_devices;
    mc_hw_device *software;
    mc_hw_backend_view views[8];
    size_t n_views;
};

static const mc_hw_backend *const backends[] = {
#ifdef MC_HAVE_CUDA
    &mc_hw_backend_cuda,
#endif
#ifdef MC_HAVE_VAAPI
    &mc_hw_backend_vaapi,
#endif
#ifdef MC_HAVE_QSV
    &mc_hw_backend_qsv,
#endif
#ifdef MC_HAVE_VULKAN
    &mc_hw_backend_vulkan,
#endif
#ifdef MC_HAVE_FAKE_HW
    &mc_hw_backend_fake,
#endif
    &mc_hw_backend_software,
};
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static const mc_hw_backend *find_backend(const char *name)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

static void allowed_names(char *buf, size_t size)
{
    size_t off = (size_t)snprintf(buf, size, "auto");
    for (size_t i = 0; i < N_BACKENDS && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, ", %s", backends[i]->name);
}

/* Decoding abilities FFmpeg offers for a device type: a decoder with a device-context
 * hardware configuration. Backends refine this when they open a device. */
/* The pixel format in which FFmpeg's decoder hands frames of a device type over, given a
 * device context; AV_PIX_FMT_NONE when it cannot. */
static enum AVPixelFormat device_format_of(const AVCodec *codec, enum AVHWDeviceType type)
{
    for (int i = 0;; i++) {
        const AVCodecHWConfig *cfg = avcodec_get_hw_config(codec, i);
        if (!cfg)
            return AV_PIX_FMT_NONE;
        if (cfg->device_type == type && (cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX))
            return cfg->pix_fmt;
    }
}

/* Decoding abilities FFmpeg offers for a device type; backends refine this when they open a
 * device. */
static unsigned generic_decode_caps(enum AVHWDeviceType type, enum AVCodecID id)
{
    const AVCodec *c = avcodec_find_decoder(id);
    if (!c || type == AV_HWDEVICE_TYPE_NONE)
        return 0;
    return device_format_of(c, type) != AV_PIX_FMT_NONE ? MC_HW_DEC8 | MC_HW_DEC10 : 0;
}

static void device_free(mc_hw_device *dev)
{
    if (!dev)
        return;
    av_buffer_unref(&dev->device_ctx);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

static int device_create(const mc_hw_backend *be, const char *device, mc_hw_device **out, char *why,
                         size_t why_size)
{
    mc_hw_device *dev = calloc(1, sizeof(*dev));
    if (!dev)
        return -ENOMEM;
    atomic_init(&dev->refs, 1);
    pthread_mutex_init(&dev->lock, NULL);
    dev->backend = be;
    if (be->type != AV_HWDEVICE_TYPE_NONE)
        for (int i = 0; i < MC_HW_NCODECS; i++)
            dev->info.codec_caps[i] = generic_decode_caps(be->type, mc_hw_codecs[i]);
    if (be->open) {
        int rc = be->open(device, &dev->device_ctx, &dev->info);
        if (rc < 0) {
            if (why)
                snprintf(why, why_size, "cannot open %s device %s: %s", be->name,
                         device && *device ? device : "(default)", av_err2str(rc));
            device_free(dev);
            return rc;
        }
    }
    if (!(be->caps & MC_HW_CAP_DECODE))
        for (int i = 0; i < MC_HW_NCODECS; i++)
            dev->info.codec_caps[i] &= ~(unsigned)(MC_HW_DEC8 | MC_HW_DEC10);
    if (device && *device)
        snprintf(dev->name, sizeof(dev->name), "%s:%s", be->name, device);
    else
        snprintf(dev->name, sizeof(dev->name), "%s", be->name);
    /* The device's own numbers (negative: none) win over the backend's defaults. */
    int dec = dev->info.decode_sessions, enc = dev->info.encode_sessions;
    dev->capacity[0] = dec > 0 ? dec : dec < 0 ? 0 : be->decode_sessions;
    dev->capacity[1] = enc > 0 ? enc : enc < 0 ? 0 : be->encode_sessions;
    *out = dev;
    return 0;
}

int mc_hw_device_open(const char *backend, const char *device, mc_hw_device **out, mc_err *err)
{
    const char *want = backend && *backend && strcmp(backend, "auto") != 0 ? backend : "software";
    const mc_hw_backend *be = find_backend(want);
    if (!be) {
        char allowed[160];
        allowed_names(allowed, sizeof(allowed));
        return mc_err_set(err, -ENODEV, "InvalidArgument",
                          "device backend \"%s\" is not available in this build; allowed: %s", want,
                          allowed);
    }
    char names[1][MC_HW_NAME_MAX];
    if (!device && be->probe) {
        int n = be->probe(names, 1);
        if (n <= 0)
            return mc_err_set(err, -ENODEV, "InvalidArgument", "the %s backend has no device",
                              be->name);
        device = names[0];
    }
    char why[192];
    int rc = device_create(be, device, out, why, sizeof(why));
    if (rc < 0)
        return mc_err_set(err, rc, "InternalError", "%s", rc == -ENOMEM ? "out of memory" : why);
    return 0;
}

mc_hw_device *mc_hw_device_ref(mc_hw_device *dev)
{
    if (dev)
        atomic_fetch_add(&dev->refs, 1);
    return dev;
}

void mc_hw_device_unref(mc_hw_device **pdev)
{
    mc_hw_device *dev = pdev ? *pdev : NULL;
    if (!dev)
        return;
    *pdev = NULL;
    if (atomic_fetch_sub(&dev->refs, 1) == 1)
        device_free(dev);
}

const char *mc_hw_device_name(const mc_hw_device *dev)
{
    return dev->name;
}

const char *mc_hw_device_backend(const mc_hw_device *dev)
{
    return dev->backend->name;
}

unsigned mc_hw_device_caps(const mc_hw_device *dev)
{
    return dev->backend->caps;
}

bool mc_hw_device_is_software(const mc_hw_device *dev)
{
    return dev->backend == &mc_hw_backend_software;
}

bool mc_hw_device_emulated(const mc_hw_device *dev)
{
    return dev->info.emulated;
}

AVBufferRef *mc_hw_device_ctx(const mc_hw_device *dev)
{
    return dev->device_ctx;
}

enum AVPixelFormat mc_hw_device_format(const mc_hw_device *dev)
{
    return dev->device_ctx ? dev->backend->hw_format : AV_PIX_FMT_NONE;
}

const char *mc_hw_device_description(const mc_hw_device *dev)
{
    return dev->info.description;
}

unsigned mc_hw_codec_caps(const mc_hw_device *dev, enum AVCodecID id)
{
    for (int i = 0; i < MC_HW_NCODECS; i++)
        if (mc_hw_codecs[i] == id)
            return dev->info.codec_caps[i];
    return 0;
}

int mc_hw_find_decoder(const mc_hw_device *dev, const AVStream *st, const AVCodec **out)
{
    if (!dev->backend->find_decoder)
        return -ENOSYS;
    /* A device-specific decoder only for what the device decodes. */
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(st->codecpar->format);
    unsigned need = d && d->comp[0].depth > 8 ? MC_HW_DEC10 : MC_HW_DEC8;
    if (dev->backend != &mc_hw_backend_software &&
        !(mc_hw_codec_caps(dev, st->codecpar->codec_id) & need))
        return -ENOSYS;
    return dev->backend->find_decoder(st, out);
}

/* Device frames when the decoder offers the device's format, else the first software one. */
static enum AVPixelFormat get_format(AVCodecContext *dec, const enum AVPixelFormat *fmts)
{
    const AVHWDeviceContext *hw = (const AVHWDeviceContext *)dec->hw_device_ctx->data;
    enum AVPixelFormat want = device_format_of(dec->codec, hw->type);
    enum AVPixelFormat sw = AV_PIX_FMT_NONE;
    for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++) {
        if (*p == want)
            return want;
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(*p);
        if (sw == AV_PIX_FMT_NONE && d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL))
            sw = *p;
    }
    /* Offered no device format (an unsupported profile or size, or the device refused the
     * stream when FFmpeg tried it): decode in software and say so. */
    int *fallbacks = dec->opaque;
    if (fallbacks)
        (*fallbacks)++;
    return sw;
}

bool mc_hw_device_decodes(const mc_hw_device *dev, const AVCodecContext *dec)
{
    if (!(dev->backend->caps & MC_HW_CAP_DECODE) ||
        !(mc_hw_codec_caps(dev, dec->codec_id) & (MC_HW_DEC8 | MC_HW_DEC10)))
        return false;
    return dev->device_ctx ? dec->hw_device_ctx != NULL : true;
}

int mc_hw_setup_decoder(const mc_hw_device *dev, AVCodecContext *dec, int *sw_fallbacks)
{
    if (!dev->backend->setup_decoder)
        return -ENOSYS;
    int rc = dev->backend->setup_decoder(dec, dev->device_ctx);
    if (rc < 0 || !dev->device_ctx || !(dev->backend->caps & MC_HW_CAP_DECODE))
        return rc;
    if (!(mc_hw_codec_caps(dev, dec->codec_id) & (MC_HW_DEC8 | MC_HW_DEC10)))
        return 0; /* the device does not decode this codec: software frames */
    if (device_format_of(dec->codec, dev->backend->type) == AV_PIX_FMT_NONE) {
        /* It does, but FFmpeg's decoder cannot hand it over: software, counted. */
        if (sw_fallbacks)
            (*sw_fallbacks)++;
        return 0;
    }
    dec->hw_device_ctx = av_buffer_ref(dev->device_ctx);
    if (!dec->hw_device_ctx)
        return AVERROR(ENOMEM);
    dec->opaque = sw_fallbacks;
    dec->get_format = get_format;
    return 0;
}

int mc_hw_find_encoder(const mc_hw_device *dev, enum AVCodecID id, int bit_depth,
                       const AVCodec **out)
{
    if (!dev->backend->find_encoder)
        return -ENOSYS;
    /* A hardware device encodes only what it showed it can when it opened. */
    unsigned need = bit_depth > 8 ? MC_HW_ENC10 : MC_HW_ENC8;
    if (dev->backend != &mc_hw_backend_software && !(mc_hw_codec_caps(dev, id) & need))
        return -ENOSYS;
    return dev->backend->find_encoder(id, bit_depth, out);
}

int mc_hw_setup_encoder(const mc_hw_device *dev, AVCodecContext *enc, AVDictionary **opts,
                        const mc_hw_rate *rate)
{
    if (!dev->backend->setup_encoder)
        return -ENOSYS;
    return dev->backend->setup_encoder(enc, opts, rate);
}

const char *mc_hw_scale_filter(const mc_hw_device *dev)
{
    return dev->backend->scale_filter;
}

const char *mc_hw_overlay_filter(const mc_hw_device *dev, const char **format, bool *alpha)
{
    const mc_hw_backend *b = dev->backend;
    if (!dev->device_ctx || !b->overlay_filter || !b->overlay_format)
        return NULL;
    if (format)
        *format = b->overlay_format;
    if (alpha)
        *alpha = b->overlay_alpha;
    return b->overlay_filter;
}

void mc_hw_device_account(mc_hw_device *dev, int64_t frames, double seconds, int64_t uploads,
                          int64_t downloads)
{
    pthread_mutex_lock(&dev->lock);
    dev->stats.tasks++;
    dev->stats.frames += frames;
    dev->stats.seconds += seconds;
    dev->stats.uploads += uploads;
    dev->stats.downloads += downloads;
    pthread_mutex_unlock(&dev->lock);
}

void mc_hw_device_get_stats(const mc_hw_device *dev, mc_hw_device_stats *out)
{
    mc_hw_device *d = (mc_hw_device *)dev;
    pthread_mutex_lock(&d->lock);
    *out = d->stats;
    pthread_mutex_unlock(&d->lock);
}

/* --- sessions and health --------------------------------------------------------------- */

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

bool mc_hw_sessions_try_take(mc_hw_device *dev, bool decode, bool encode)
{
    pthread_mutex_lock(&dev->lock);
    bool ok = (!decode || dev->in_use[0] < dev->capacity[0]) &&
              (!encode || dev->in_use[1] < dev->capacity[1]);
    if (ok) {
        dev->in_use[0] += decode;
        dev->in_use[1] += encode;
    }
    pthread_mutex_unlock(&dev->lock);
    return ok;
}

void mc_hw_sessions_release(mc_hw_device *dev, bool decode, bool encode)
{
    pthread_mutex_lock(&dev->lock);
    dev->in_use[0] -= decode;
    dev->in_use[1] -= encode;
    pthread_mutex_unlock(&dev->lock);
}

int mc_hw_device_capacity(const mc_hw_device *dev, bool encode)
{
    return dev->capacity[encode];
}

int mc_hw_device_in_use(const mc_hw_device *dev, bool encode)
{
    mc_hw_device *d = (mc_hw_device *)dev;
    pthread_mutex_lock(&d->lock);
    int n = d->in_use[encode];
    pthread_mutex_unlock(&d->lock);
    return n;
}

void mc_hw_device_report(mc_hw_device *dev, bool ok, const char *why)
{
    pthread_mutex_lock(&dev->lock);
    if (ok) {
        dev->failures_in_row = 0;
        if (dev->health == MC_HW_FAILING)
            dev->health = MC_HW_DEGRADED;
    } else {
        dev->stats.fallbacks++;
        dev->failures_in_row++;
        dev->health = dev->failures_in_row >= FAILING_AFTER ? MC_HW_FAILING : MC_HW_DEGRADED;
        if (dev->health == MC_HW_FAILING)
            dev->failing_until = mono_s() + FAILING_PAUSE_S;
        snprintf(dev->stats.last_error, sizeof(dev->stats.last_error), "%s", why ? why : "");
    }
    pthread_mutex_unlock(&dev->lock);
}

enum mc_hw_health mc_hw_device_health(const mc_hw_device *dev)
{
    mc_hw_device *d = (mc_hw_device *)dev;
    pthread_mutex_lock(&d->lock);
    enum mc_hw_health h = d->health;
    if (h == MC_HW_FAILING && mono_s() >= d->failing_until)
        h = MC_HW_DEGRADED; /* the pause is over: automatic placement tries it again */
    pthread_mutex_unlock(&d->lock);
    return h;
}

const char *mc_hw_health_name(enum mc_hw_health h)
{
    switch (h) {
    case MC_HW_HEALTHY:
        return "healthy";
    case MC_HW_DEGRADED:
        return "degraded";
    case MC_HW_FAILING:
        return "failing";
    }
    return "unknown";
}

const char *mc_hw_backend_state_name(enum mc_hw_backend_state s)
{
    switch (s) {
    case MC_HW_NOT_COMPILED:
        return "not-compiled";
    case MC_HW_NO_DEVICE:
        return "no-device";
    case MC_HW_FAILED:
        return "failed";
    case MC_HW_READY:
        return "ready";
    }
    return "unknown";
}

/* --- discovery ------------------------------------------------------------------------ */

/* Whether `name` is in the comma-separated list (NULL/"auto": every backend). */
static bool listed(const char *list, const char *name)
{
    if (!list || !*list || strcmp(list, "auto") == 0)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
            return true;
        p = e;
    }
    return false;
}

static bool explicit_list(const char *list)
{
    return list && *list && strcmp(list, "auto") != 0;
}

static void apply_limits(const mc_hw_discover_cfg *cfg, mc_hw_device *dev)
{
    if (dev->backend == &mc_hw_backend_software) {
        int n = cfg->cpu_slots > 0 ? cfg->cpu_slots : 1;
        dev->capacity[0] = dev->capacity[1] = n;
    }
    for (size_t i = 0; i < cfg->n_limits; i++) {
        const mc_hw_limits *l = &cfg->limits[i];
        if (!l->backend || strcmp(l->backend, dev->backend->name) != 0)
            continue;
        if (l->decode_sessions > 0)
            dev->capacity[0] = l->decode_sessions;
        if (l->encode_sessions > 0)
            dev->capacity[1] = l->encode_sessions;
    }
}

/* Placement order: real hardware, software, emulated hardware. */
static int rank(const mc_hw_device *d)
{
    if (d->backend == &mc_hw_backend_software)
        return 1;
    return d->info.emulated ? 2 : 0;
}

static int discover_backend(mc_hw_registry *reg, const mc_hw_backend *be,
                            const mc_hw_discover_cfg *cfg, mc_hw_backend_view *v)
{
    char names[MC_HW_MAX_DEVICES][MC_HW_NAME_MAX];
    int n = 1;
    if (be->probe) {
        n = be->probe(names, MC_HW_MAX_DEVICES);
        if (n < 0) {
            v->state = MC_HW_FAILED;
            snprintf(v->detail, sizeof(v->detail), "probing failed: %s", av_err2str(n));
            return 0;
        }
        if (n == 0) {
            v->state = MC_HW_NO_DEVICE;
            snprintf(v->detail, sizeof(v->detail), "no device found");
            return 0;
        }
    }
    v->state = MC_HW_FAILED;
    for (int i = 0; i < n && reg->n_devices < MC_HW_MAX_DEVICES; i++) {
        mc_hw_device *dev = NULL;
        char why[192];
        int rc = device_create(be, be->probe ? names[i] : NULL, &dev, why, sizeof(why));
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0) {
            snprintf(v->detail, sizeof(v->detail), "%s", why);
            mc_log(MC_LOG_WARN, "hwaccel: %s", why);
            continue;
        }
        apply_limits(cfg, dev);
        reg->devices[reg->n_devices++] = dev;
        v->state = MC_HW_READY;
        v->detail[0] = 0;
        mc_log(MC_LOG_INFO, "hwaccel: device=%s ready (%s%s), sessions decode %d encode %d",
               dev->name, dev->info.description[0] ? dev->info.description : be->name,
               dev->info.emulated ? ", emulated" : "", dev->capacity[0], dev->capacity[1]);
    }
    return 0;
}

/* List one backend (be NULL: not compiled) and open its devices when it is wanted. */
static int discover_view(mc_hw_registry *reg, const mc_hw_discover_cfg *cfg, const char *name,
                         const mc_hw_backend *be, mc_err *err)
{
    if (reg->n_views >= sizeof(reg->views) / sizeof(reg->views[0]))
        return 0;
    mc_hw_backend_view *v = &reg->views[reg->n_views++];
    v->name = name;
    v->compiled = be != NULL;
    if (!be) {
        v->state = MC_HW_NOT_COMPILED;
        snprintf(v->detail, sizeof(v->detail), "not compiled into this build");
        return 0;
    }
    if (be != &mc_hw_backend_software && !listed(cfg->backends, be->name)) {
        v->state = MC_HW_NO_DEVICE;
        snprintf(v->detail, sizeof(v->detail), "not listed in [devices] backends");
        return 0;
    }
    int rc = discover_backend(reg, be, cfg, v);
    if (rc < 0)
        return mc_err_set(err, rc, NULL, "out of memory");
    if (v->state != MC_HW_READY && explicit_list(cfg->backends))
        return mc_err_set(err, -ENODEV, "InvalidArgument",
                          "[devices] backends names %s, which has no usable device: %s", be->name,
                          v->detail);
    return 0;
}

int mc_hw_discover(const mc_hw_discover_cfg *cfg, mc_hw_registry **out, mc_err *err)
{
    mc_hw_registry *reg = calloc(1, sizeof(*reg));
    int rc = 0;
    if (!reg)
        return mc_err_set(err, -ENOMEM, NULL, "out of memory");
    if (explicit_list(cfg->backends)) {
        /* Every name given must be a backend this program knows. */
        const char *p = cfg->backends;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *e = p;
            while (*e && *e != ',' && *e != ' ')
                e++;
            char name[32];
            snprintf(name, sizeof(name), "%.*s", (int)(e - p), p);
            if (*name && !find_backend(name)) {
                char allowed[160];
                allowed_names(allowed, sizeof(allowed));
                rc = mc_err_set(err, -ENODEV, "InvalidArgument",
                                "[devices] backends: \"%s\" is not in this build; allowed: %s",
                                name, allowed);
                goto fail;
            }
            p = e;
        }
    }
    /* The standard backends in listing order, then those of test builds. */
    for (const char *const *nm = mc_hw_backend_names; *nm; nm++) {
        rc = discover_view(reg, cfg, *nm, find_backend(*nm), err);
        if (rc < 0)
            goto fail;
    }
    for (size_t i = 0; i < N_BACKENDS; i++) {
        bool known = false;
        for (const char *const *nm = mc_hw_backend_names; *nm; nm++)
            known |= strcmp(*nm, backends[i]->name) == 0;
        if (!known && (rc = discover_view(reg, cfg, backends[i]->name, backends[i], err)) < 0)
            goto fail;
    }
    /* Stable sort into placement order. */
    for (size_t i = 1; i < reg->n_devices; i++)
        for (size_t j = i; j > 0 && rank(reg->devices[j - 1]) > rank(reg->devices[j]); j--) {
            mc_hw_device *t = reg->devices[j];
            reg->devices[j] = reg->devices[j - 1];
            reg->devices[j - 1] = t;
        }
    for (size_t i = 0; i < reg->n_devices; i++)
        if (reg->devices[i]->backend == &mc_hw_backend_software)
            reg->software = reg->devices[i];
    if (!reg->software) {
        rc = mc_err_set(err, -ENODEV, "InternalError", "the software backend did not open");
        goto fail;
    }
    *out = reg;
    return 0;
fail:
    mc_hw_registry_free(&reg);
    return rc;
}

void mc_hw_registry_free(mc_hw_registry **preg)
{
    mc_hw_registry *reg = preg ? *preg : NULL;
    if (!reg)
        return;
    *preg = NULL;
    for (size_t i = 0; i < reg->n_devices; i++)
        mc_hw_device_unref(&reg->devices[i]);
    free(reg);
}

size_t mc_hw_registry_count(const mc_hw_registry *reg)
{
    return reg->n_devices;
}

mc_hw_device *mc_hw_registry_device(const mc_hw_registry *reg, size_t i)
{
    return i < reg->n_devices ? reg->devices[i] : NULL;
}

mc_hw_device *mc_hw_registry_software(const mc_hw_registry *reg)
{
    return reg->software;
}

size_t mc_hw_registry_backends(const mc_hw_registry *reg, mc_hw_backend_view *out, size_t max)
{
    size_t n = reg->n_views < max ? reg->n_views : max;
    memcpy(out, reg->views, n * sizeof(*out));
    return reg->n_views;
}
