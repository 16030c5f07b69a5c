/* Placement classes and the JSON listing of backends and devices (CLI and /v1/devices). */
#include "mc_hwaccel.h"

#include <stdio.h>
#include <string.h>

#define CLASSES "auto, gpu, cpu, or a backend name"

bool mc_hw_device_in_class(const mc_hw_device *dev, const char *cls)
{
    if (!cls || !*cls || strcmp(cls, "auto") == 0)
        return true;
    if (strcmp(cls, "cpu") == 0)
        return mc_hw_device_is_software(dev);
    if (strcmp(cls, "gpu") == 0)
        return !mc_hw_device_is_software(dev) && !mc_hw_device_emulated(dev);
    return strcmp(cls, mc_hw_device_backend(dev)) == 0;
}

int mc_hw_class_check(const char *cls, mc_err *err)
{
    if (!cls || !*cls || strcmp(cls, "auto") == 0 || strcmp(cls, "gpu") == 0 ||
        strcmp(cls, "cpu") == 0)
        return 0;
    for (const char *const *n = mc_hw_backend_names; *n; n++)
        if (strcmp(*n, cls) == 0)
            return 0;
    if (strcmp(cls, "fake") == 0)
        return 0;
    return mc_err_set(err, -EINVAL, "InvalidArgument",
                      "Device: \"%s\" is not a device class; allowed: " CLASSES
                      " (cuda, vaapi, qsv, vulkan, software)",
                      cls);
}

int mc_hw_pick(const mc_hw_registry *reg, const char *cls, mc_hw_device **out, mc_err *err)
{
    int rc = mc_hw_class_check(cls, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < mc_hw_registry_count(reg); i++) {
        mc_hw_device *d = mc_hw_registry_device(reg, i);
        /* "auto" takes real hardware or software, never an emulated device. */
        bool is_auto = !cls || !*cls || strcmp(cls, "auto") == 0;
        if (is_auto && mc_hw_device_emulated(d))
            continue;
        if (mc_hw_device_in_class(d, cls)) {
            *out = mc_hw_device_ref(d);
            return 0;
        }
    }
    return mc_err_set(err, -ENODEV, "InvalidArgument",
                      "Device: no usable device of class \"%s\" on this machine (see "
                      "`mediaconvert devices`)",
                      cls);
}

static json_t *codec_list(const mc_hw_device *dev, unsigned flag)
{
    json_t *a = json_array();
    for (int i = 0; a && i < MC_HW_NCODECS; i++)
        if (mc_hw_codec_caps(dev, mc_hw_codecs[i]) & flag)
            json_array_append_new(a, json_string(avcodec_get_name(mc_hw_codecs[i])));
    return a;
}

json_t *mc_hw_device_to_json(const mc_hw_device *dev)
{
    mc_hw_device_stats st;
    mc_hw_device_get_stats(dev, &st);
    unsigned caps = mc_hw_device_caps(dev);
    const char *scaler = mc_hw_scale_filter(dev);
    double fps = st.seconds > 0 ? (double)st.frames / st.seconds : 0;
    return json_pack(
        "{ss ss ss sb s{so so so so s:s* s:s* sb} s{s{sisi} s{sisi}} ss ss s{sI sI sI sf sf sI sI}}",
        "name", mc_hw_device_name(dev), "backend", mc_hw_device_backend(dev), "description",
        mc_hw_device_description(dev), "emulated", mc_hw_device_emulated(dev), "capabilities",
        "decode", codec_list(dev, MC_HW_DEC8), "decode_10bit", codec_list(dev, MC_HW_DEC10),
        "encode", codec_list(dev, MC_HW_ENC8), "encode_10bit", codec_list(dev, MC_HW_ENC10),
        "scale", (caps & MC_HW_CAP_SCALE) || mc_hw_device_is_software(dev) ? scaler : NULL,
        "overlay", mc_hw_overlay_filter(dev, NULL, NULL), "upload",
        (caps & MC_HW_CAP_UPLOAD) != 0, "sessions", "decode", "capacity",
        mc_hw_device_capacity(dev, false), "in_use", mc_hw_device_in_use(dev, false), "encode",
        "capacity", mc_hw_device_capacity(dev, true), "in_use", mc_hw_device_in_use(dev, true),
        "health", mc_hw_health_name(mc_hw_device_health(dev)), "last_error", st.last_error, "stats",
        "tasks", (json_int_t)st.tasks, "fallbacks", (json_int_t)st.fallbacks, "frames",
        (json_int_t)st.frames, "seconds", st.seconds, "frames_per_second", fps, "uploads",
        (json_int_t)st.uploads, "downloads", (json_int_t)st.downloads);
}

json_t *mc_hw_registry_to_json(const mc_hw_registry *reg)
{
    mc_hw_backend_view views[8];
    size_t n = mc_hw_registry_backends(reg, views, 8);
    json_t *list = json_array();
    for (size_t i = 0; list && i < n && i < 8; i++) {
        json_t *devs = json_array();
        for (size_t k = 0; devs && k < mc_hw_registry_count(reg); k++) {
            const mc_hw_device *d = mc_hw_registry_device(reg, k);
            if (strcmp(mc_hw_device_backend(d), views[i].name) == 0)
                json_array_append_new(devs, mc_hw_device_to_json(d));
        }
        json_t *b = json_pack("{ss sb ss ss so}", "name", views[i].name, "compiled",
                              views[i].compiled, "state", mc_hw_backend_state_name(views[i].state),
                              "detail", views[i].detail, "devices", devs ? devs : json_array());
        if (!b || json_array_append_new(list, b) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list ? json_pack("{so}", "backends", list) : NULL;
}
