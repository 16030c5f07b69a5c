/*
 * The hardware-frame path on the Vulkan backend: frames uploaded to the device, scaled by
 * scale_vulkan, downloaded after scaling and encoded in software. On Mesa's lavapipe this
 * runs with no GPU; where no Vulkan device opens at all the test is skipped.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc_hwaccel.h"
#include "support.h"

static const char *out_dir(void)
{
    return t_path("out/hw");
}

/* Run a transcode of video_only.mp4 (320x240, 2 s at 25 fps) to `w`x`h` on `backend`. */
static mc_result run_scaled(const char *backend, const char *name, int w, int h,
                            const char *scale_type)
{
    char req[1024];
    snprintf(req, sizeof(req),
             "{\"ProjectName\":\"p\",\"Sources\":[{\"URI\":\"oss://fixtures/video_only.mp4\"}],"
             "\"Targets\":[{\"Container\":\"mp4\",\"URI\":\"oss://out/hw/%s.mp4\","
             "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"%dx%d\","
             "\"ScaleType\":\"%s\"}}}]}",
             name, w, h, scale_type);
    mc_result res = {0};
    mc_err err;
    int rc = t_run_on(req, backend, &res, &err);
    if (rc < 0)
        fail_msg("%s on %s: %s: %s", name, backend, err.code, err.msg);
    return res;
}

static void scales_on_the_device(void **state)
{
    (void)state;
    mc_result vk = run_scaled("vulkan", "vk", 160, 120, "stretch");
    mc_result sw = run_scaled("software", "sw", 160, 120, "stretch");
    char vk_path[512], sw_path[512];
    snprintf(vk_path, sizeof(vk_path), "%s/vk.mp4", out_dir());
    snprintf(sw_path, sizeof(sw_path), "%s/sw.mp4", out_dir());
    t_file f;
    assert_true(t_read(vk_path, &f));
    assert_int_equal(f.video.width, 160);
    assert_int_equal(f.video.height, 120);
    assert_string_equal(f.video.codec, "h264");
    assert_int_equal(f.video.packets, 50);
    /* Which device ran each stage, and one copy up and one down per frame. */
    assert_string_equal(vk.device, "vulkan:0");
    assert_string_equal(vk.stage_scale, "vulkan:0");
    assert_string_equal(vk.stage_decode, "software");
    assert_string_equal(vk.stage_encode, "software");
    assert_int_equal(vk.uploads, 50);
    assert_int_equal(vk.downloads, 50);
    assert_int_equal(vk.frames_encoded, sw.frames_encoded);
    assert_int_equal(sw.uploads, 0);
    assert_string_equal(sw.stage_scale, "software");
    /* The same picture as the software scaler's, within bilinear-vs-bicubic differences. */
    double diff = t_first_frame_diff(vk_path, sw_path);
    assert_true(diff < 4.0);
    mc_result_clear(&vk);
    mc_result_clear(&sw);
}

static void no_copy_without_scaling(void **state)
{
    (void)state;
    mc_result r = run_scaled("vulkan", "same", 320, 240, "stretch");
    /* Nothing to scale: uploading would only cost two copies. */
    assert_int_equal(r.uploads, 0);
    assert_int_equal(r.downloads, 0);
    assert_string_equal(r.stage_scale, "software");
    mc_result_clear(&r);
}

static void crop_after_device_scaling(void **state)
{
    (void)state;
    mc_result r = run_scaled("vulkan", "crop", 120, 120, "crop");
    char path[512];
    snprintf(path, sizeof(path), "%s/crop.mp4", out_dir());
    t_file f;
    assert_true(t_read(path, &f));
    assert_int_equal(f.video.width, 120);
    assert_int_equal(f.video.height, 120);
    /* Scaled on the device to 160x120, downloaded, cropped in software. */
    assert_string_equal(r.stage_scale, "vulkan:0");
    assert_int_equal(r.downloads, 50);
    mc_result_clear(&r);
}

static void unknown_backend_is_refused(void **state)
{
    (void)state;
    mc_hw_device *dev = NULL;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_hw_device_open("nosuch", NULL, &dev, &err), -ENODEV);
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.msg, "allowed: auto"));
    assert_null(dev);
}

int main(void)
{
    /* Keep Mesa's lavapipe loaded to the end, so that LeakSanitizer can name it in the
     * stacks of what it keeps for the life of the process (tests/lsan.supp). */
    (void)dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NODELETE);
    mc_hw_device *dev = NULL;
    mc_err err;
    mc_err_clear(&err);
    if (mc_hw_device_open("vulkan", NULL, &dev, &err) < 0) {
        printf("skipped: no Vulkan device (%s)\n", err.msg);
        return 77;
    }
    mc_hw_device_unref(&dev);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scales_on_the_device),
        cmocka_unit_test(no_copy_without_scaling),
        cmocka_unit_test(crop_after_device_scaling),
        cmocka_unit_test(unknown_backend_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
