/* Unit tests of TargetVideo and TranscodeVideo (spec 1.6, 1.6.1). */
#include "test_job.h"

static void video_stream_and_disable(void **state)
{
    (void)state;
    mc_job *job =
        job_ok(REQ(MP4(",'Video':{'Stream':[0,101],'TranscodeVideo':{'Codec':'h264'}}") "," MP4(
            ",'Video':{'DisableVideo':true,'TranscodeVideo':{'Codec':'nonsense'}}") "," MP4(",'"
                                                                                            "Video'"
                                                                                            ":{'"
                                                                                            "Stream"
                                                                                            "':[1]"
                                                                                            "}")));
    const mc_target *t = job->targets;
    assert_true(t[0].has_video);
    assert_int_equal(t[0].video.stream.n, 2);
    assert_int_equal(t[0].video.stream.index[1], 101);
    assert_true(mc_streams_all(&t[0].video.stream));
    assert_true(t[1].video.disable);
    assert_false(t[1].video.has_transcode);
    /* Video without TranscodeVideo: no video stream. */
    assert_true(t[2].has_video);
    assert_false(t[2].video.has_transcode);
    assert_false(mc_streams_all(&t[2].video.stream));
    mc_job_free(&job);
    BAD(REQ(MP4(",'Video':{'Stream':[-1]}")), "Targets[0].Video.Stream[0]");
    BAD(REQ(MP4(",'Video':{'Stream':'0'}")), "Targets[0].Video.Stream");
    BAD(REQ(MP4(",'Video':{'DisableVideo':'nope'}")), "Targets[0].Video.DisableVideo");
    BAD(REQ(MP4(",'Video':[]")), "Targets[0].Video");
    BAD(REQ(MP4(",'Video':{'TranscodeVideo':'h264'}")), "Targets[0].Video.TranscodeVideo");
}

static void video_in_audio_only_container(void **state)
{
    (void)state;
    mc_job *job = job_ok(
        REQ(OUT("mp3", ",'Video':{'DisableVideo':true,'TranscodeVideo':{'Codec':'h264'}}") "," OUT(
            "aac", ",'Video':{}")));
    assert_true(job->targets[0].video.disable);
    assert_true(job->targets[1].has_video);
    assert_false(job->targets[1].video.has_transcode);
    mc_job_free(&job);
    BAD(REQ(OUT("mp3", ",'Video':{'TranscodeVideo':{'Codec':'h264'}}")),
        "Targets[0].Video.TranscodeVideo");
    assert_non_null(strstr(job_last_msg(), "audio-only"));
    BAD(REQ(OUT("flac", ",'Video':{'DisableVideo':false,'TranscodeVideo':{}}")),
        "Targets[0].Video.TranscodeVideo");
}

static void video_codec(void **state)
{
    (void)state;
    mc_job *job = job_ok(TV(""));
    const mc_video_transcode *tv = &job->targets[0].video.transcode;
    assert_true(job->targets[0].video.has_transcode);
    assert_int_equal(tv->codec, MC_VCODEC_COPY);
    mc_job_free(&job);
    job = job_ok(REQ(VT("'Codec':'h265'") "," VTC("webm", "'Codec':'AV1'")));
    assert_int_equal(job->targets[0].video.transcode.codec, MC_VCODEC_H265);
    mc_job_free(&job);
    job = job_ok(TVC("webm", "'Codec':'av1'"));
    assert_int_equal(job->targets[0].video.transcode.codec, MC_VCODEC_AV1);
    mc_job_free(&job);
    /* copy: every sibling and FilterVideo are ignored. */
    job = job_ok(REQ(MP4(",'Video':{'TranscodeVideo':{'Codec':'copy','CRF':99,'Resolution':"
                         "'huge','GOPSize':-1},'FilterVideo':{'Speed':7,'Watermarks':'x'}}")));
    tv = &job->targets[0].video.transcode;
    assert_int_equal(tv->codec, MC_VCODEC_COPY);
    assert_false(tv->has_resolution);
    assert_int_equal(tv->gop_size, 150);
    assert_near(job->targets[0].video.speed, 1.0);
    assert_int_equal(job->targets[0].video.n_watermarks, 0);
    mc_job_free(&job);

    BAD(TV("'Codec':'x264'"), P_TV "Codec");
    assert_non_null(strstr(job_last_msg(), "allowed: copy, h264, h265, vp9, av1"));
    BAD(TVC("mov", "'Codec':'vp9'"), P_TV "Codec");
    assert_non_null(strstr(job_last_msg(), "allowed: h264, h265"));
    BAD(TVC("webm", "'Codec':'h264'"), P_TV "Codec");
    assert_non_null(strstr(job_last_msg(), "allowed: vp9, av1"));
}

static void transcode_defaults(void **state)
{
    (void)state;
    mc_job *job = job_ok(TV("'Codec':'h264'"));
    const mc_video_transcode *tv = &job->targets[0].video.transcode;
    assert_false(tv->has_resolution);
    assert_int_equal(tv->res_w, 0);
    assert_int_equal(tv->scale_type, MC_SCALE_STRETCH);
    assert_int_equal(tv->resolution_option, MC_OPTION_FIXED);
    assert_near(tv->frame_rate, 0);
    assert_int_equal(tv->bitrate, 0);
    assert_near(tv->crf, 23);
    assert_int_equal(tv->max_bitrate, 0);
    assert_int_equal(tv->gop_size, 150);
    assert_int_equal(tv->bframes, 3);
    assert_int_equal(tv->refs, 2);
    assert_int_equal(tv->pixel_format, MC_PIXFMT_SOURCE);
    assert_int_equal(tv->rotation, 0);
    assert_int_equal(tv->video_slim, 0);
    assert_near(job->targets[0].video.speed, 1.0);
    mc_job_free(&job);
}

static void resolution(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(VT("'Codec':'h264','Resolution':'1280x720'") "," VT(
        "'Codec':'h264','Resolution':'1280x'") "," VT("'Codec':'h264','Resolution':'x4096'")));
    const mc_target *t = job->targets;
    assert_true(t[0].video.transcode.has_resolution);
    assert_int_equal(t[0].video.transcode.res_w, 1280);
    assert_int_equal(t[0].video.transcode.res_h, 720);
    assert_int_equal(t[1].video.transcode.res_w, 1280);
    assert_int_equal(t[1].video.transcode.res_h, 0);
    assert_int_equal(t[2].video.transcode.res_w, 0);
    assert_int_equal(t[2].video.transcode.res_h, 4096);
    mc_job_free(&job);
    static const char *const bad[] = {"0x720",  "4097x", "x",     "1280",     "axb",
                                      "12x34x", "-5x10", "1e3x1", "1280 x720"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *req = job_text(TV("'Codec':'h264','Resolution':'%s'"), bad[i]);
        job_fails(req, -EINVAL, "InvalidArgument", P_TV "Resolution");
        free(req);
    }
    assert_non_null(strstr(job_last_msg(), "allowed: WxH, Wx or xH"));
    BAD(TV("'Codec':'h264','Resolution':1280"), P_TV "Resolution");
}

static void resolution_options(void **state)
{
    (void)state;
    mc_job *job = job_ok(TV("'Codec':'h264','Resolution':'x720','ResolutionOption':'Adaptive',"
                            "'ScaleType':'fit','AdaptiveResolutionDirection':true"));
    const mc_video_transcode *tv = &job->targets[0].video.transcode;
    assert_int_equal(tv->resolution_option, MC_OPTION_ADAPTIVE);
    assert_int_equal(tv->scale_type, MC_SCALE_FIT);
    assert_true(tv->adaptive_direction);
    mc_job_free(&job);
    BAD(TV("'Codec':'h264','ResolutionOption':'fall'"), P_TV "ResolutionOption");
    assert_non_null(strstr(job_last_msg(), "requires Resolution"));
    BAD(TV("'Codec':'h264','ScaleType':'crop'"), P_TV "ScaleType");
    BAD(TV("'Codec':'h264','Resolution':'x720','ScaleType':'zoom'"), P_TV "ScaleType");
    assert_non_null(strstr(job_last_msg(), "allowed: stretch, crop, fill, fit"));
    BAD(TV("'Codec':'h264','Resolution':'x720','ResolutionOption':'always'"),
        P_TV "ResolutionOption");
    BAD(TV("'Codec':'h264','AdaptiveResolutionDirection':'x'"), P_TV "AdaptiveResolutionDirection");
}

static void frame_rate(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(VT("'Codec':'h264','FrameRate':29.97,'FrameRateOption':'fall'") "," VT(
        "'Codec':'h264','FrameRate':240")));
    assert_near(job->targets[0].video.transcode.frame_rate, 29.97);
    assert_int_equal(job->targets[0].video.transcode.frame_rate_option, MC_OPTION_FALL);
    assert_near(job->targets[1].video.transcode.frame_rate, 240);
    mc_job_free(&job);
    BAD(TV("'Codec':'h264','FrameRate':0"), P_TV "FrameRate");
    assert_non_null(strstr(job_last_msg(), "greater than 0 and at most 240"));
    BAD(TV("'Codec':'h264','FrameRate':240.5"), P_TV "FrameRate");
    BAD(TV("'Codec':'h264','FrameRateOption':'fixed'"), P_TV "FrameRateOption");
}

static void bitrate_and_crf(void **state)
{
    (void)state;
    mc_job *job = job_ok(
        REQ(VT("'Codec':'h264','Bitrate':2000000,'BitrateOption':'adaptive'") "," VT("'Codec':'"
                                                                                     "h264','"
                                                                                     "Bitrate':"
                                                                                     "1000") "," VT(
            "'Codec':'h264','CRF':18.5") "," VT("'Codec':'h264','Bitrate':500000000") "," VT("'Code"
                                                                                             "c':'"
                                                                                             "h264'"
                                                                                             ",'"
                                                                                             "CRF':"
                                                                                             "0")));
    const mc_target *t = job->targets;
    assert_int_equal(t[0].video.transcode.bitrate, 2000000);
    assert_int_equal(t[0].video.transcode.bitrate_option, MC_OPTION_ADAPTIVE);
    assert_int_equal(t[1].video.transcode.bitrate, 1000);
    assert_near(t[2].video.transcode.crf, 18.5);
    assert_int_equal(t[2].video.transcode.bitrate, 0);
    assert_int_equal(t[3].video.transcode.bitrate, 500000000);
    assert_near(t[4].video.transcode.crf, 0);
    mc_job_free(&job);
    BAD(TV("'Codec':'h264','Bitrate':999"), P_TV "Bitrate");
    BAD(TV("'Codec':'h264','Bitrate':500000001"), P_TV "Bitrate");
    assert_non_null(strstr(job_last_msg(), "allowed: 1000 to 500000000"));
    BAD(TV("'Codec':'h264','BitrateOption':'fixed'"), P_TV "BitrateOption");
    BAD(TV("'Codec':'h264','Bitrate':2000000,'BitrateOption':'max'"), P_TV "BitrateOption");
    BAD(TV("'Codec':'h264','CRF':60"), P_TV "CRF");
    assert_string_equal(
        job_last_msg(),
        "Targets[0].Video.TranscodeVideo.CRF: 60 is out of range; allowed: 0 to 51");
    BAD(TV("'Codec':'h264','CRF':-1"), P_TV "CRF");
    BAD(TV("'Codec':'h264','CRF':23,'Bitrate':2000000"), P_TV "CRF");
    assert_non_null(strstr(job_last_msg(), "Bitrate"));
    /* The path carries the right target index. */
    BAD(REQ(MP4("") "," MP4(",'Video':{'TranscodeVideo':{'Codec':'h264','CRF':60}}")),
        "Targets[1].Video.TranscodeVideo.CRF");
}

static void max_bitrate_and_buffer_size(void **state)
{
    (void)state;
    mc_job *job =
        job_ok(REQ(VT("'Codec':'h264','CRF':26,'MaxBitrate':3000000,'BufferSize':6000000") "," VT(
            "'Codec':'h264','MaxBitrate':1000,'BufferSize':2000") "," VT("'Codec':'h264','"
                                                                         "BufferSize':2000")));
    const mc_target *t = job->targets;
    assert_int_equal(t[0].video.transcode.max_bitrate, 3000000);
    assert_int_equal(t[0].video.transcode.buffer_size, 6000000);
    assert_near(t[1].video.transcode.crf, 23);
    assert_int_equal(t[1].video.transcode.max_bitrate, 1000);
    assert_int_equal(t[2].video.transcode.buffer_size, 2000);
    mc_job_free(&job);
    BAD(TV("'Codec':'h264','CRF':26,'MaxBitrate':3000000"), P_TV "MaxBitrate");
    assert_non_null(strstr(job_last_msg(), "requires BufferSize"));
    BAD(TV("'Codec':'h264','Bitrate':2000000,'MaxBitrate':3000000,'BufferSize':6000000"),
        P_TV "MaxBitrate");
    BAD(TV("'Codec':'h264','Bitrate':2000000,'BufferSize':6000000"), P_TV "BufferSize");
    BAD(TV("'Codec':'h264','MaxBitrate':0,'BufferSize':1"), P_TV "MaxBitrate");
    BAD(TV("'Codec':'h264','BufferSize':-5"), P_TV "BufferSize");
}

static void gop_bframes_refs(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(VT("'Codec':'h264','GOPSize':1,'BFrames':0,'Refs':16") "," VT(
        "'Codec':'h264','GOPSize':100000,'BFrames':16,'Refs':1")));
    const mc_target *t = job->targets;
    assert_int_equal(t[0].video.transcode.gop_size, 1);
    assert_int_equal(t[0].video.transcode.bframes, 0);
    assert_int_equal(t[0].video.transcode.refs, 16);
    assert_int_equal(t[1].video.transcode.gop_size, 100000);
    assert_int_equal(t[1].video.transcode.bframes, 16);
    assert_int_equal(t[1].video.transcode.refs, 1);
    mc_job_free(&job);
    BAD(TV("'Codec':'h264','GOPSize':0"), P_TV "GOPSize");
    BAD(TV("'Codec':'h264','GOPSize':100001"), P_TV "GOPSize");
    BAD(TV("'Codec':'h264','BFrames':17"), P_TV "BFrames");
    assert_non_null(strstr(job_last_msg(), "allowed: 0 to 16"));
    BAD(TV("'Codec':'h264','Refs':0"), P_TV "Refs");
}

static void pixel_format_and_rotation(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(VT("'Codec':'h265','PixelFormat':'yuv420p10le','Rotation':90") "," VTC(
        "webm", "'Codec':'vp9','PixelFormat':'YUVA420P','Rotation':'270'")));
    assert_int_equal(job->targets[0].video.transcode.pixel_format, MC_PIXFMT_YUV420P10LE);
    assert_int_equal(job->targets[0].video.transcode.rotation, 90);
    assert_int_equal(job->targets[1].video.transcode.pixel_format, MC_PIXFMT_YUVA420P);
    assert_int_equal(job->targets[1].video.transcode.rotation, 270);
    mc_job_free(&job);
    BAD(TV("'Codec':'h264','PixelFormat':'yuva420p'"), P_TV "PixelFormat");
    assert_non_null(strstr(job_last_msg(), "vp9"));
    BAD(TV("'Codec':'h264','PixelFormat':'rgb24'"), P_TV "PixelFormat");
    BAD(TV("'Codec':'h264','Rotation':45"), P_TV "Rotation");
    assert_non_null(strstr(job_last_msg(), "allowed: 0, 90, 180, 270"));
    BAD(TV("'Codec':'h264','Rotation':360"), P_TV "Rotation");
    BAD(TV("'Codec':'h264','Rotation':-90"), P_TV "Rotation");
}

static void video_slim(void **state)
{
    (void)state;
    /* One transcoding target with VideoSlim; copies and image targets do not count. */
    mc_job *job = job_ok(REQ(VT("'Codec':'h264','VideoSlim':1,'PixelFormat':'yuv420p'") "," VT(
        "'Codec':'copy'") ",{'Image':{'Sprites':[{'Format':'jpg','URI':'oss://b/s.jpg'}]}}"));
    assert_int_equal(job->targets[0].video.transcode.video_slim, 1);
    mc_job_free(&job);
    job = job_ok(REQ(VT("'Codec':'h265','VideoSlim':0") "," VT("'Codec':'h264'")));
    assert_int_equal(job->targets[0].video.transcode.video_slim, 0);
    mc_job_free(&job);
    BAD(TVC("webm", "'Codec':'vp9','VideoSlim':1"), P_TV "VideoSlim");
    assert_non_null(strstr(job_last_msg(), "h264 or h265"));
    BAD(TV("'Codec':'h264','VideoSlim':1,'PixelFormat':'yuv422p'"), P_TV "VideoSlim");
    BAD(TV("'Codec':'h264','VideoSlim':2"), P_TV "VideoSlim");
    BAD(REQS(SRC2, MP4(",'Video':{'TranscodeVideo':{'Codec':'h264','VideoSlim':1}},'Audio':{"
                       "'TranscodeAudio':{'Codec':'aac'}}")),
        P_TV "VideoSlim");
    assert_non_null(strstr(job_last_msg(), "concatenating"));
    BAD(REQ(VT("'Codec':'h264'") "," VT("'Codec':'h264','VideoSlim':1")),
        "Targets[1].Video.TranscodeVideo.VideoSlim");
    assert_non_null(strstr(job_last_msg(), "2 targets"));
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':[" VT(
            "'Codec':'h264','VideoSlim':1") "],"
                                            "'TargetGroups':[{'URI':'oss://b/h/"
                                            "m.m3u8','Targets':[{'URI':'oss://b/h/v.m3u8',"
                                            "'Container':'ts','Segment':{'Format':'hls','Duration':"
                                            "6},'Video':{'TranscodeVideo':"
                                            "{'Codec':'h264'}}}]}]}",
        P_TV "VideoSlim");
}

int test_job_video(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(video_stream_and_disable),
        cmocka_unit_test(video_in_audio_only_container),
        cmocka_unit_test(video_codec),
        cmocka_unit_test(transcode_defaults),
        cmocka_unit_test(resolution),
        cmocka_unit_test(resolution_options),
        cmocka_unit_test(frame_rate),
        cmocka_unit_test(bitrate_and_crf),
        cmocka_unit_test(max_bitrate_and_buffer_size),
        cmocka_unit_test(gop_bframes_refs),
        cmocka_unit_test(pixel_format_and_rotation),
        cmocka_unit_test(video_slim),
    };
    return cmocka_run_group_tests_name("job: video", tests, NULL, NULL);
}
