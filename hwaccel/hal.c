/* The generic half of the HAL: device handles and the only callers of backend slots. */
#include "mc_hwaccel.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct mc_hw_device {
    atomic_int refs;
    const mc_hw_backend *backend;
    AVBufferRef *device_ctx; /* NULL for backends without a device context */
    char name[64];           /* "software", "vaapi:renderD128" */
};

static const mc_hw_backend *const backends[] = {
    &mc_hw_backend_software,
};

int mc_hw_device_open(const char *backend, const char *device, mc_hw_device **out, mc_err *err)
{
    const mc_hw_backend *be = NULL;
    const char *want = backend && *backend && strcmp(backend, "auto") != 0 ? backend : "software";
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, want) == 0)
            be = backends[i];
    if (!be)
        return mc_err_set(err, -ENODEV, "InvalidArgument",
                          "device backend \"%s\" is not available in this build; allowed: auto, "
                          "software",
                          want);

    mc_hw_device *dev = calloc(1, sizeof(*dev));
    if (!dev)
        return mc_err_set(err, -ENOMEM, NULL, "out of memory opening device %s", want);
    atomic_init(&dev->refs, 1);
    dev->backend = be;
    if (be->open) {
        int rc = be->open(device, &dev->device_ctx);
        if (rc < 0) {
            free(dev);
            return mc_err_set(err, rc, "InternalError", "cannot open %s device %s: %s", be->name,
                              device ? device : "(default)", av_err2str(rc));
        }
    }
    if (device && *device)
        snprintf(dev->name, sizeof(dev->name), "%s:%s", be->name, device);
    else
        snprintf(dev->name, sizeof(dev->name), "%s", be->name);
    *out = dev;
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
    if (atomic_fetch_sub(&dev->refs, 1) != 1)
        return;
    av_buffer_unref(&dev->device_ctx);
    free(dev);
}

const char *mc_hw_device_name(const mc_hw_device *dev)
{
    return dev->name;
}

unsigned mc_hw_device_caps(const mc_hw_device *dev)
{
    return dev->backend->caps;
}

int mc_hw_find_decoder(const mc_hw_device *dev, const AVStream *st, const AVCodec **out)
{
    if (!dev->backend->find_decoder)
        return -ENOSYS;
    return dev->backend->find_decoder(st, out);
}

int mc_hw_setup_decoder(const mc_hw_device *dev, AVCodecContext *dec)
{
    if (!dev->backend->setup_decoder)
        return -ENOSYS;
    return dev->backend->setup_decoder(dec, dev->device_ctx);
}

int mc_hw_find_encoder(const mc_hw_device *dev, enum AVCodecID id, int bit_depth,
                       const AVCodec **out)
{
    if (!dev->backend->find_encoder)
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
