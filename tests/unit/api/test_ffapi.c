/*
 * FFmpeg-API operations as IMM requests: each operation's parameters land in the right
 * request fields, the request is a valid job for the job model, and bad parameters,
 * non-allowlisted URLs and unknown operations are refused by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ffapi_ops.h"
#include "mc_job.h"
#include "mc_str.h"

#define BASE "http://10.0.0.5:8080/ffmpeg-api/uploads/"

/* The allowlist of these tests: this appliance's upload URLs. */
static int resolve(const char *url, const char *field, char **uri, void *opaque)
{
    (void)field;
    (void)opaque;
    size_t n = strlen("http://10.0.0.5:8080/");
    if (strncmp(url, BASE, strlen(BASE)) != 0)
        return -EPERM;
    char buf[512];
    snprintf(buf, sizeof(buf), "oss://%s", url + n);
    *uri = mc_strdup(buf);
    return *uri ? 0 : -ENOMEM;
}

static double ten_seconds(const char *uri, void *opaque)
{
    (void)uri;
    (void)opaque;
    return 10.0;
}

static const mc_ffapi_ctx ctx = {
    .resolve = resolve, .out_prefix = "oss://ffmpeg-api/t_1/", .duration = ten_seconds};

/* Translate, check the request is a valid job, and return both. */
static json_t *ok(const char *op, const char *body, mc_job **job)
{
    json_error_t je;
    json_t *b = json_loads(body, 0, &je);
    assert_non_null(b);
    json_t *req = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_ffapi_to_request(op, b, "ffapi", &ctx, &req, &err);
    json_decref(b);
    if (rc < 0)
        fail_msg("%s %s: %s: %s", op, body, err.code, err.msg);
    mc_err_clear(&err);
    if (mc_job_from_json(req, job, &err) < 0) {
        char *text = json_dumps(req, JSON_COMPACT);
        print_error("%s\n", text);
        free(text);
        fail_msg("%s: not a valid job: %s: %s", op, err.code, err.msg);
    }
    return req;
}

static void bad(const char *op, const char *body, const char *code, const char *needle)
{
    json_t *b = json_loads(body, 0, NULL);
    assert_non_null(b);
    json_t *req = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_ffapi_to_request(op, b, "ffapi", &ctx, &req, &err);
    json_decref(b);
    if (rc >= 0) {
        json_decref(req);
        fail_msg("%s %s: accepted", op, body);
    }
    assert_null(req);
    if (strcmp(err.code, code) != 0 || !strstr(err.msg, needle))
        fail_msg("%s %s: expected %s with \"%s\", got %s: %s", op, body, code, needle, err.code,
                 err.msg);
}

static void transcode(void **state)
{
    (void)state;
    mc_job *job = NULL;
    json_t *req = ok("transcode",
                     "{\"input\":\"" BASE "a.mp4\",\"format\":\"mkv\",\"video_codec\":\"h265\","
                     "\"audio_codec\":\"opus\",\"width\":1280,\"height\":720,\"fps\":30,"
                     "\"video_bitrate\":\"2M\",\"audio_bitrate\":\"128k\"}",
                     &job);
    assert_string_equal(job->sources[0].uri, "oss://ffmpeg-api/uploads/a.mp4");
    const mc_target *t = &job->targets[0];
    assert_int_equal(t->container, MC_CONTAINER_MKV);
    assert_string_equal(t->uri, "oss://ffmpeg-api/t_1/output.mkv");
    assert_int_equal(t->video.transcode.codec, MC_VCODEC_H265);
    assert_int_equal(t->video.transcode.res_w, 1280);
    assert_int_equal(t->video.transcode.res_h, 720);
    assert_int_equal(t->video.transcode.scale_type, MC_SCALE_FIT); /* keep_aspect defaults on */
    assert_true(fabs(t->video.transcode.frame_rate - 30) < 1e-9);
    assert_int_equal(t->video.transcode.bitrate, 2000000);
    assert_int_equal(t->audio.transcode.codec, MC_ACODEC_OPUS);
    assert_int_equal(t->audio.transcode.bitrate, 128000);
    json_decref(req);
    mc_job_free(&job);

    /* defaults: mp4, h264 + aac at CRF 23 */
    req = ok("transcode", "{\"input\":\"" BASE "a.mov\"}", &job);
    assert_int_equal(job->targets[0].container, MC_CONTAINER_MP4);
    assert_int_equal(job->targets[0].video.transcode.codec, MC_VCODEC_H264);
    assert_true(fabs(job->targets[0].video.transcode.crf - 23) < 1e-9);
    assert_int_equal(job->targets[0].video.transcode.bitrate, 0);
    assert_int_equal(job->targets[0].audio.transcode.codec, MC_ACODEC_AAC);
    json_decref(req);
    mc_job_free(&job);
    /* crf passes through */
    req = ok("transcode", "{\"input\":\"" BASE "a.mov\",\"crf\":20}", &job);
    assert_true(fabs(job->targets[0].video.transcode.crf - 20) < 1e-9);
    json_decref(req);
    mc_job_free(&job);

    /* an audio-only format gets no video */
    req = ok("transcode", "{\"input\":\"" BASE "a.mp4\",\"format\":\"mp3\"}", &job);
    assert_int_equal(job->targets[0].container, MC_CONTAINER_MP3);
    assert_int_equal(job->targets[0].audio.transcode.codec, MC_ACODEC_MP3);
    assert_false(job->targets[0].video.has_transcode);
    json_decref(req);
    mc_job_free(&job);
}

static void compress_and_scale(void **state)
{
    (void)state;
    mc_job *job = NULL;
    json_t *req = ok("compress", "{\"input\":\"" BASE "a.mp4\"}", &job);
    assert_true(fabs(job->targets[0].video.transcode.crf - 28) < 1e-9);
    json_decref(req);
    mc_job_free(&job);
    /* 5 MB over the 10 s the duration callback reports: 4 Mbit/s less 128k of audio */
    req = ok("compress", "{\"input\":\"" BASE "a.mp4\",\"target_size_mb\":5}", &job);
    assert_int_equal(job->targets[0].video.transcode.bitrate, 3872000);
    assert_int_equal(job->targets[0].audio.transcode.bitrate, 128000);
    json_decref(req);
    mc_job_free(&job);
    bad("compress", "{\"input\":\"" BASE "a.mp4\",\"target_size_mb\":0.1}", MC_FFAPI_INVALID,
        "leaves under 100 kbit/s");

    req = ok("scale",
             "{\"input\":\"" BASE "a.mp4\",\"width\":640,\"height\":360,"
             "\"keep_aspect\":false}",
             &job);
    assert_int_equal(job->targets[0].video.transcode.res_w, 640);
    assert_int_equal(job->targets[0].video.transcode.scale_type, MC_SCALE_STRETCH);
    json_decref(req);
    mc_job_free(&job);
    req = ok("scale", "{\"input\":\"" BASE "a.mp4\",\"height\":360}", &job);
    assert_int_equal(job->targets[0].video.transcode.res_w, 0);
    assert_int_equal(job->targets[0].video.transcode.res_h, 360);
    json_decref(req);
    mc_job_free(&job);
    bad("scale", "{\"input\":\"" BASE "a.mp4\"}", MC_FFAPI_INVALID, "width or height is required");
}

static void trim_and_audio(void **state)
{
    (void)state;
    mc_job *job = NULL;
    json_t *req = ok("trim", "{\"input\":\"" BASE "a.mp4\",\"start\":2.5,\"end\":7}", &job);
    assert_true(fabs(job->sources[0].start_time - 2.5) < 1e-9);
    assert_true(fabs(job->sources[0].duration - 4.5) < 1e-9);
    json_decref(req);
    mc_job_free(&job);
    req = ok("trim", "{\"input\":\"" BASE "a.mp4\",\"duration\":3}", &job);
    assert_true(fabs(job->sources[0].duration - 3) < 1e-9);
    json_decref(req);
    mc_job_free(&job);
    bad("trim", "{\"input\":\"" BASE "a.mp4\",\"start\":5,\"end\":4}", MC_FFAPI_INVALID,
        "end: 4 is not after start 5");
    bad("trim", "{\"input\":\"" BASE "a.mp4\",\"end\":5,\"duration\":4}", MC_FFAPI_INVALID,
        "end and duration cannot be used together");

    req = ok("extract_audio", "{\"input\":\"" BASE "a.mp4\",\"format\":\"flac\"}", &job);
    assert_int_equal(job->targets[0].container, MC_CONTAINER_FLAC);
    assert_string_equal(job->targets[0].uri, "oss://ffmpeg-api/t_1/output.flac");
    json_decref(req);
    mc_job_free(&job);
    bad("extract_audio", "{\"input\":\"" BASE "a.mp4\",\"format\":\"mp4\"}", MC_FFAPI_INVALID,
        "\"mp4\" is not an audio format; allowed: mp3, aac");
}

static void images(void **state)
{
    (void)state;
    mc_job *job = NULL;
    json_t *req = ok("to_gif",
                     "{\"input\":\"" BASE "a.mp4\",\"start\":1,\"duration\":3,"
                     "\"fps\":5,\"width\":320}",
                     &job);
    const mc_image *im = &job->targets[0].images[0];
    assert_int_equal(im->kind, MC_IMAGE_ANIMATION);
    assert_int_equal(im->format, MC_IMAGE_GIF);
    assert_true(fabs(im->start_time - 1) < 1e-9);
    assert_true(fabs(im->interval - 0.2) < 1e-9);
    assert_true(fabs(im->frame_rate - 5) < 1e-9);
    assert_int_equal(im->number, 15);
    assert_int_equal(im->width.kind, MC_DIM_PIXELS);
    assert_int_equal((int)im->width.value, 320);
    assert_null(job->targets[0].uri); /* an image-only target */
    json_decref(req);
    mc_job_free(&job);

    req = ok("thumbnail", "{\"input\":\"" BASE "a.mp4\",\"time\":4.2,\"format\":\"png\"}", &job);
    im = &job->targets[0].images[0];
    assert_int_equal(im->kind, MC_IMAGE_SNAPSHOT);
    assert_int_equal(im->format, MC_IMAGE_PNG);
    assert_int_equal(im->number, 1);
    assert_true(fabs(im->start_time - 4.2) < 1e-9);
    assert_string_equal(im->uri, "oss://ffmpeg-api/t_1/thumbnail.png");
    json_decref(req);
    mc_job_free(&job);

    req = ok("frames", "{\"input\":\"" BASE "a.mp4\",\"fps\":2,\"max\":5}", &job);
    im = &job->targets[0].images[0];
    assert_true(fabs(im->interval - 0.5) < 1e-9);
    assert_int_equal(im->number, 5);
    assert_int_equal(im->format, MC_IMAGE_JPG);
    assert_string_equal(im->uri, "oss://ffmpeg-api/t_1/frame-{index}.jpg");
    json_decref(req);
    mc_job_free(&job);
    bad("frames", "{\"input\":\"" BASE "a.mp4\"}", MC_FFAPI_INVALID, "interval or fps");
    bad("frames", "{\"input\":\"" BASE "a.mp4\",\"fps\":1,\"format\":\"bmp\"}", MC_FFAPI_INVALID,
        "\"bmp\" is not supported; allowed: jpg, png, webp");
}

static void several_inputs(void **state)
{
    (void)state;
    mc_job *job = NULL;
    json_t *req =
        ok("concat", "{\"inputs\":[\"" BASE "a.mp4\",\"" BASE "b.mp4\",\"" BASE "c.mov\"]}", &job);
    assert_int_equal(job->n_sources, 3);
    assert_string_equal(job->sources[2].uri, "oss://ffmpeg-api/uploads/c.mov");
    assert_int_equal(job->targets[0].video.transcode.codec, MC_VCODEC_H264);
    json_decref(req);
    mc_job_free(&job);
    bad("concat", "{\"inputs\":[\"" BASE "a.mp4\"]}", MC_FFAPI_INVALID, "2 to 11");
    bad("concat", "{\"inputs\":[\"" BASE "a.mp4\",\"https://evil.example/x.mp4\"]}",
        MC_FFAPI_ALLOWLIST, "inputs[1]: non-allowlist url");

    req = ok("mux", "{\"video\":\"" BASE "v.mp4\",\"audio\":\"" BASE "music.mp3\"}", &job);
    assert_int_equal(job->n_sources, 2);
    assert_true(job->sources[0].disable_audio); /* replace: the video's own audio goes */
    assert_true(job->sources[1].attached);
    assert_int_equal(job->sources[1].align_mode, MC_ALIGN_PAD);
    json_decref(req);
    mc_job_free(&job);
    req = ok("mux", "{\"video\":\"" BASE "v.mp4\",\"audio\":\"" BASE "m.mp3\",\"mode\":\"add\"}",
             &job);
    assert_false(job->sources[0].disable_audio);
    json_decref(req);
    mc_job_free(&job);
    bad("mux", "{\"video\":\"" BASE "v.mp4\",\"audio\":\"" BASE "m.mp3\",\"mode\":\"mix\"}",
        MC_FFAPI_INVALID, "allowed: replace, add");

    req = ok("watermark",
             "{\"input\":\"" BASE "v.mp4\",\"image_url\":\"" BASE "logo.png\","
             "\"position\":\"bottom-left\",\"margin\":16,\"width\":0.2}",
             &job);
    const mc_target_video *v = &job->targets[0].video;
    assert_int_equal(v->n_watermarks, 1);
    assert_int_equal(v->watermarks[0].type, MC_WATERMARK_FILE);
    assert_string_equal(v->watermarks[0].uri, "oss://ffmpeg-api/uploads/logo.png");
    assert_int_equal(v->watermarks[0].refer_pos, MC_REFER_BOTTOMLEFT);
    assert_int_equal(v->watermarks[0].dx.kind, MC_DIM_PIXELS);
    assert_int_equal((int)v->watermarks[0].dx.value, 16);
    assert_int_equal(v->watermarks[0].width.kind, MC_DIM_RATIO);
    json_decref(req);
    mc_job_free(&job);
    bad("watermark",
        "{\"input\":\"" BASE "v.mp4\",\"image_url\":\"" BASE "l.png\","
        "\"opacity\":0.5}",
        MC_FFAPI_INVALID, "opacity: 0.5 is not supported");
    bad("watermark", "{\"input\":\"" BASE "v.mp4\",\"image_url\":\"file:///etc/passwd\"}",
        MC_FFAPI_ALLOWLIST, "image_url: non-allowlist url");
}

static void refused(void **state)
{
    (void)state;
    bad("transcode", "{\"input\":\"http://169.254.169.254/latest\"}", MC_FFAPI_ALLOWLIST,
        "transcode: input: non-allowlist url");
    bad("transcode", "{}", MC_FFAPI_INVALID, "input is required");
    bad("transcode", "{\"input\":\"" BASE "a.mp4\",\"crf\":60}", MC_FFAPI_INVALID,
        "crf: 60 is out of range; allowed: 0 to 51");
    bad("transcode", "{\"input\":\"" BASE "a.mp4\",\"crf\":20,\"video_bitrate\":\"1M\"}",
        MC_FFAPI_INVALID, "crf and video_bitrate cannot be used together");
    bad("transcode", "{\"input\":\"" BASE "a.mp4\",\"video_bitrate\":\"fast\"}", MC_FFAPI_INVALID,
        "video_bitrate must be bits per second");
    bad("transcode", "{\"input\":\"" BASE "a.mp4\",\"widht\":640}", MC_FFAPI_INVALID,
        "unknown parameter \"widht\"; allowed: input, format");
    bad("transcode", "{\"input\":\"" BASE "a.mp4\",\"width\":\"640\"}", MC_FFAPI_INVALID,
        "width must be a number");
    bad("transcode", "{\"input\":\"" BASE "a.mp4\",\"format\":\"wmv\"}", MC_FFAPI_INVALID,
        "format: \"wmv\" is not supported");
    bad("transcode", "[1]", MC_FFAPI_INVALID, "the body must be a JSON object");
    bad("render", "{}", MC_FFAPI_INVALID, "\"render\" is not an operation; allowed: upload");
    assert_true(mc_ffapi_is_task_op("to_gif"));
    assert_false(mc_ffapi_is_task_op("probe"));
    assert_false(mc_ffapi_is_task_op("upload"));
}

/* max(1, ceil(seconds x 0.05 x resolution factor)); upload, probe, thumbnail: 1. */
static void credits(void **state)
{
    (void)state;
    assert_int_equal(mc_ffapi_credits("transcode", 120, 720), 6);
    assert_int_equal(mc_ffapi_credits("transcode", 120, 1080), 11); /* 10.8 */
    assert_int_equal(mc_ffapi_credits("transcode", 120, 480), 4);   /* 3.6 */
    assert_int_equal(mc_ffapi_credits("transcode", 120, 2160), 18);
    assert_int_equal(mc_ffapi_credits("extract_audio", 100, 0), 5);
    assert_int_equal(mc_ffapi_credits("transcode", 1, 720), 1);
    assert_int_equal(mc_ffapi_credits("thumbnail", 3600, 2160), 1);
    assert_int_equal(mc_ffapi_credits("probe", 3600, 2160), 1);
    assert_int_equal(mc_ffapi_credits("upload", 0, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transcode),      cmocka_unit_test(compress_and_scale),
        cmocka_unit_test(trim_and_audio), cmocka_unit_test(images),
        cmocka_unit_test(several_inputs), cmocka_unit_test(refused),
        cmocka_unit_test(credits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
