/*
 * The hardware-frame path on the Vulkan backend: frames uploaded to the device, scaled by
 * scale_vulkan, downloaded after scaling and encoded in software; the same for the pictures
 * of image outputs, of which only the frames taken are copied. On Mesa's lavapipe this runs
 * with no GPU; where no Vulkan device opens at all the test is skipped.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc_hwaccel.h"
#include "support.h"
#include "test_image_util.h"

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

/* ---- image outputs ---- */

static mc_result run_image_on(const char *backend, const char *source_uri, const char *image)
{
    char *json = ti_image_req(source_uri, image);
    mc_result res = {0};
    mc_err err;
    int rc = t_run_on(json, backend, &res, &err);
    if (rc < 0)
        fail_msg("on %s: %s: %s\n%s", backend, err.code, err.msg, json);
    free(json);
    return res;
}

/* Mean absolute difference of the luma (BT.601 weights) of two pictures of the same size. */
static double luma_mad(const ti_pic *a, const ti_pic *b)
{
    if (a->w != b->w || a->h != b->h)
        fail_msg("pictures of %dx%d and %dx%d", a->w, a->h, b->w, b->h);
    double sum = 0;
    for (size_t i = 0; i < (size_t)a->w * a->h; i++) {
        const uint8_t *p = a->rgba + 4 * i, *q = b->rgba + 4 * i;
        sum += fabs(0.299 * (p[0] - q[0]) + 0.587 * (p[1] - q[1]) + 0.114 * (p[2] - q[2]));
    }
    return sum / ((double)a->w * a->h);
}

static ti_pic read_picture(const char *uri)
{
    ti_pic p;
    if (!ti_read_picture(ti_local(uri), &p))
        fail_msg("%s cannot be read", uri);
    return p;
}

/* The pictures of element `image` on Vulkan and on software: as many, of the same sizes, and
 * the first ones alike. Returns how many. */
static size_t same_pictures(const mc_result *vk, const mc_result *sw, const char *image, int w,
                            int h)
{
    const mc_output_info *ov[16], *os[16];
    size_t n = ti_outputs_of(vk, image, ov, 16);
    assert_int_equal(n, ti_outputs_of(sw, image, os, 16));
    assert_true(n > 0 && n <= 16);
    for (size_t k = 0; k < n; k++) {
        ti_pic a = read_picture(ov[k]->uri), b = read_picture(os[k]->uri);
        assert_int_equal(a.w, w);
        assert_int_equal(a.h, h);
        assert_int_equal(b.w, w);
        assert_int_equal(b.h, h);
        double diff = luma_mad(&a, &b);
        print_message("%s %zu: luma differs from software's by %.2f\n", image, k, diff);
        assert_true(diff < 4.0);
        ti_pic_free(&a);
        ti_pic_free(&b);
    }
    return n;
}

/* 2 s at 25 fps: points 0, 0.5, 1, 1.5 s at 160 wide, and 0, 1 s cropped to 120x120. */
#define SNAPSHOTS(dir)                                                                             \
    "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://out/hw/" dir "/s_{index}.jpg\","           \
    "\"Interval\":0.5,\"Width\":160},"                                                             \
    "{\"Format\":\"png\",\"URI\":\"oss://out/hw/" dir "/c_{index}.png\",\"Interval\":1,"           \
    "\"Width\":120,\"Height\":120,\"ScaleType\":\"crop\"}]"

static void snapshots_scale_on_the_device(void **state)
{
    (void)state;
    mc_result vk = run_image_on("vulkan", "oss://fixtures/video_only.mp4", SNAPSHOTS("snap_vk"));
    mc_result sw = run_image_on("software", "oss://fixtures/video_only.mp4", SNAPSHOTS("snap_sw"));
    size_t n = same_pictures(&vk, &sw, "Image.Snapshots[0]", 160, 120);
    assert_int_equal(n, 4);
    size_t c = same_pictures(&vk, &sw, "Image.Snapshots[1]", 120, 120);
    assert_int_equal(c, 2);
    assert_string_equal(vk.stage_scale, "vulkan:0");
    assert_string_equal(vk.stage_decode, "software");
    assert_string_equal(sw.stage_scale, "software");
    /* One copy up and one down for each picture taken, none for the frames decoded only to
     * reach them. */
    print_message("snapshots on vulkan: %lld frames decoded, %lld uploads, %lld downloads\n",
                  (long long)vk.frames_decoded, (long long)vk.uploads, (long long)vk.downloads);
    assert_int_equal(vk.uploads, (int64_t)(n + c));
    assert_int_equal(vk.downloads, (int64_t)(n + c));
    assert_true(vk.frames_decoded > vk.uploads);
    assert_int_equal(sw.uploads, 0);
    assert_int_equal(sw.downloads, 0);
    mc_result_clear(&vk);
    mc_result_clear(&sw);
}

#define ROTATED(dir)                                                                               \
    "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://out/hw/" dir "/r_{index}.jpg\","           \
    "\"Interval\":1,\"Width\":120}]"

/* A source shown rotated: scaled on the device before the rotation, rotated once. */
static void rotated_snapshots_on_the_device(void **state)
{
    (void)state;
    mc_result vk = run_image_on("vulkan", "oss://fixtures/rotated.mp4", ROTATED("rot_vk"));
    mc_result sw = run_image_on("software", "oss://fixtures/rotated.mp4", ROTATED("rot_sw"));
    /* 320x240 shown as 240x320: 120x160 pictures at 0, 1 and 2 s. */
    assert_int_equal(same_pictures(&vk, &sw, "Image.Snapshots[0]", 120, 160), 3);
    assert_string_equal(vk.stage_scale, "vulkan:0");
    assert_int_equal(vk.uploads, 3);
    assert_int_equal(vk.downloads, 3);
    mc_result_clear(&vk);
    mc_result_clear(&sw);
}

#define ANIMATION(name)                                                                            \
    "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://out/hw/" name ".gif\","                   \
    "\"Interval\":0.2,\"Width\":160}]"

static void animation_scales_on_the_device(void **state)
{
    (void)state;
    mc_result vk = run_image_on("vulkan", "oss://fixtures/video_only.mp4", ANIMATION("anim_vk"));
    mc_result sw = run_image_on("software", "oss://fixtures/video_only.mp4", ANIMATION("anim_sw"));
    ti_anim av = ti_result_anim(&vk, "Image.Animations[0]", true);
    ti_anim as = ti_result_anim(&sw, "Image.Animations[0]", true);
    /* 2 s every 0.2 s: 10 frames of 160x120. */
    assert_int_equal(av.frames, 10);
    assert_int_equal(av.frames, as.frames);
    assert_int_equal(av.width, 160);
    assert_int_equal(av.height, 120);
    assert_int_equal(as.width, av.width);
    assert_int_equal(as.height, av.height);
    double diff = luma_mad(&av.pics[0], &as.pics[0]);
    print_message("gif on vulkan: first frame's luma differs from software's by %.2f; "
                  "%lld frames decoded, %lld uploads, %lld downloads\n",
                  diff, (long long)vk.frames_decoded, (long long)vk.uploads,
                  (long long)vk.downloads);
    assert_true(diff < 4.0);
    assert_string_equal(vk.stage_scale, "vulkan:0");
    assert_int_equal(vk.uploads, 10);
    assert_int_equal(vk.downloads, 10);
    assert_true(vk.frames_decoded > vk.uploads);
    ti_anim_free(&av);
    ti_anim_free(&as);
    mc_result_clear(&vk);
    mc_result_clear(&sw);
}

#define DHASH(dir)                                                                                 \
    "\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://out/hw/" dir "/t20_{index}.png\","         \
    "\"Mode\":\"dhash\",\"Threshold\":20,\"Width\":160},"                                          \
    "{\"Format\":\"png\",\"URI\":\"oss://out/hw/" dir "/t0_{index}.png\",\"Mode\":\"dhash\","      \
    "\"Width\":160}]"

/* dhash looks at every frame as it is decoded, whole: the frames it picks are the software
 * path's, and only those are copied. */
static void dhash_picks_the_same_frames(void **state)
{
    (void)state;
    mc_result vk = run_image_on("vulkan", "oss://fixtures/scenes.mp4", DHASH("dhash_vk"));
    mc_result sw = run_image_on("software", "oss://fixtures/scenes.mp4", DHASH("dhash_sw"));
    /* One picture a scene with Threshold 20; with 0, every frame whose block moved. */
    assert_int_equal(same_pictures(&vk, &sw, "Image.Snapshots[0]", 160, 120), 3);
    size_t n0 = ti_outputs_of(&vk, "Image.Snapshots[1]", NULL, 0);
    assert_int_equal(n0, ti_outputs_of(&sw, "Image.Snapshots[1]", NULL, 0));
    assert_true(n0 > 6);
    assert_string_equal(vk.stage_scale, "vulkan:0");
    assert_int_equal(vk.uploads, (int64_t)(3 + n0));
    assert_int_equal(vk.downloads, (int64_t)(3 + n0));
    mc_result_clear(&vk);
    mc_result_clear(&sw);
}

/* Pictures of the source's own size: nothing to scale, nothing copied. */
static void no_image_copy_without_scaling(void **state)
{
    (void)state;
    mc_result r = run_image_on("vulkan", "oss://fixtures/video_only.mp4",
                               "\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://out/hw/same/"
                               "s_{index}.jpg\",\"Interval\":1}]");
    const mc_output_info *o[4];
    assert_int_equal(ti_outputs_of(&r, "Image.Snapshots[0]", o, 4), 2);
    ti_pic p = read_picture(o[0]->uri);
    assert_int_equal(p.w, 320);
    assert_int_equal(p.h, 240);
    ti_pic_free(&p);
    assert_int_equal(r.uploads, 0);
    assert_int_equal(r.downloads, 0);
    assert_string_equal(r.stage_scale, "software");
    mc_result_clear(&r);
}

/* res_change.ts: 1 s of 320x240, then 1 s of 256x144, 25 fps. Both the video chain and the
 * pictures' device chain are rebuilt for the new size, on the device, and go on. */
#define RES_CHANGE(name)                                                                           \
    "{\"ProjectName\":\"p\",\"Sources\":[{\"URI\":\"oss://fixtures/res_change.ts\"}],"             \
    "\"Targets\":[{\"Container\":\"mp4\",\"URI\":\"oss://out/hw/" name ".mp4\","                   \
    "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"160x120\","                \
    "\"ScaleType\":\"stretch\"}},"                                                                 \
    "\"Image\":{\"Snapshots\":[{\"Format\":\"png\",\"URI\":\"oss://out/hw/" name "/{index}.png\"," \
    "\"Interval\":0.5,\"Width\":160}]}}]}"

static void resolution_change_on_the_device(void **state)
{
    (void)state;
    mc_result vk = {0}, sw = {0};
    mc_err err;
    if (t_run_on(RES_CHANGE("res_vk"), "vulkan", &vk, &err) < 0)
        fail_msg("vulkan: %s: %s", err.code, err.msg);
    if (t_run_on(RES_CHANGE("res_sw"), "software", &sw, &err) < 0)
        fail_msg("software: %s: %s", err.code, err.msg);
    t_file f;
    assert_true(t_read(t_path("out/hw/res_vk.mp4"), &f));
    assert_int_equal(f.video.width, 160);
    assert_int_equal(f.video.height, 120);
    assert_int_equal(f.video.packets, 50);
    assert_int_equal(vk.frames_encoded, 50);
    assert_int_equal(vk.frames_encoded, sw.frames_encoded);
    /* Both halves came through the device: every frame once up and down for the video, and
     * each of the 4 pictures (two from each half) once more. */
    assert_string_equal(vk.stage_scale, "vulkan:0");
    assert_int_equal(vk.uploads, 50 + 4);
    assert_int_equal(vk.downloads, 50 + 4);
    assert_int_equal(same_pictures(&vk, &sw, "Image.Snapshots[0]", 160, 120), 4);
    /* A frame of each half looks like the software path's: the chain was rebuilt for the
     * new size, not left garbling it. */
    ti_video a, b;
    assert_true(ti_decode_video(t_path("out/hw/res_vk.mp4"), 0, 0, &a));
    assert_true(ti_decode_video(t_path("out/hw/res_sw.mp4"), 0, 0, &b));
    assert_int_equal(a.n, 50);
    assert_int_equal(b.n, 50);
    for (int k = 10; k < 50; k += 30) {
        double diff = luma_mad(&a.pics[k], &b.pics[k]);
        print_message("res_change frame %d: luma differs from software's by %.2f\n", k, diff);
        assert_true(diff < 4.0);
    }
    ti_video_free(&a);
    ti_video_free(&b);
    mc_result_clear(&vk);
    mc_result_clear(&sw);
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
        cmocka_unit_test(snapshots_scale_on_the_device),
        cmocka_unit_test(rotated_snapshots_on_the_device),
        cmocka_unit_test(animation_scales_on_the_device),
        cmocka_unit_test(dhash_picks_the_same_frames),
        cmocka_unit_test(no_image_copy_without_scaling),
        cmocka_unit_test(resolution_change_on_the_device),
        cmocka_unit_test(unknown_backend_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
