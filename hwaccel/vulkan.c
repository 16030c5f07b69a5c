/*
 * The Vulkan backend: FFmpeg's Vulkan hwcontext, frames uploaded from system memory, scaled by
 * scale_vulkan and downloaded for a software encoder (FFmpeg 5.1 has no Vulkan decoders or
 * encoders; where a newer FFmpeg's decoder offers Vulkan frames, the generic HAL uses them).
 * On Mesa's lavapipe (a CPU implementation) it runs with no GPU at all: the device is marked
 * emulated, automatic placement ranks it below software, and CI uses it to exercise the
 * hardware-frame path (device context, frame pools, upload, device filters, download).
 */
#include "mc_hwaccel.h"

#include <stdio.h>
#include <string.h>

#include <libavutil/hwcontext_vulkan.h>

static int vk_probe(char (*names)[MC_HW_NAME_MAX], int max)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "mediaconvertd",
        .apiVersion = VK_API_VERSION_1_2,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
    };
    VkInstance inst = VK_NULL_HANDLE;
    if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS)
        return 0; /* no loader or no driver: no device */
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst, &n, NULL);
    vkDestroyInstance(inst, NULL);
    if (r != VK_SUCCESS)
        return 0;
    int count = 0;
    for (uint32_t i = 0; i < n && count < max; i++)
        snprintf(names[count++], MC_HW_NAME_MAX, "%u", i);
    return count;
}

static int vk_open(const char *device, AVBufferRef **ctx, mc_hw_open_info *info)
{
    int rc = av_hwdevice_ctx_create(ctx, AV_HWDEVICE_TYPE_VULKAN, device, NULL, 0);
    if (rc < 0)
        return rc;
    const AVHWDeviceContext *hw = (const AVHWDeviceContext *)(*ctx)->data;
    const AVVulkanDeviceContext *vk = hw->hwctx;
    PFN_vkGetPhysicalDeviceProperties props_fn =
        (PFN_vkGetPhysicalDeviceProperties)vk->get_proc_addr(vk->inst,
                                                             "vkGetPhysicalDeviceProperties");
    if (props_fn) {
        VkPhysicalDeviceProperties p;
        props_fn(vk->phys_dev, &p);
        snprintf(info->description, sizeof(info->description), "%.100s (Vulkan %u.%u)",
                 p.deviceName, VK_VERSION_MAJOR(p.apiVersion), VK_VERSION_MINOR(p.apiVersion));
        info->emulated = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    }
    return 0;
}

static int vk_setup_decoder(AVCodecContext *dec, AVBufferRef *device_ctx)
{
    (void)device_ctx;
    dec->thread_count = 0;
    dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    return 0;
}

const mc_hw_backend mc_hw_backend_vulkan = {
    .name = "vulkan",
    .type = AV_HWDEVICE_TYPE_VULKAN,
    .caps = MC_HW_CAP_DECODE | MC_HW_CAP_SCALE | MC_HW_CAP_UPLOAD,
    .decode_sessions = 4,
    .encode_sessions = 0,
    .probe = vk_probe,
    .open = vk_open,
    .setup_decoder = vk_setup_decoder,
    .scale_filter = "scale_vulkan",
    /* FFmpeg 5.1's overlay_vulkan wants both inputs in one format and blends no alpha in
     * nv12 (4-plane yuva420p frames come back empty from lavapipe). */
    .overlay_filter = "overlay_vulkan",
    .overlay_format = "nv12",
    .hw_format = AV_PIX_FMT_VULKAN,
};
