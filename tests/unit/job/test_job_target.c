/* Unit tests of Targets[] (spec 1.4, 1.8) and TargetGroups[] (spec 1.5). */
#include "test_job.h"

static mc_job *container_job(const char *name)
{
    char *req = job_text(REQ("{'URI':'oss://b/o','Container':'%s'}"), name);
    mc_job *job = job_ok(req);
    free(req);
    return job;
}

static void uri_and_container(void **state)
{
    (void)state;
    static const char *const names[] = {"mp4",  "mkv", "mov", "asf",  "avi", "mxf", "ts",   "flv",
                                        "webm", "mp3", "aac", "flac", "oga", "ac3", "opus", "amr"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        mc_job *job = container_job(names[i]);
        enum mc_container c;
        assert_true(mc_container_from_name(names[i], &c));
        assert_int_equal(job->targets[0].container, c);
        mc_job_free(&job);
    }
    BAD(REQ("{'URI':'oss://b/o'}"), "Targets[0].Container");
    assert_non_null(strstr(job_last_msg(), "Targets[0].URI"));
    BAD(REQ(MP4("") ",{'Container':'mp4'}"), "Targets[1].URI");
    assert_non_null(strstr(job_last_msg(), "Targets[1].Container"));
    BAD(REQ(OUT("mkx", "")), "Targets[0].Container");
    assert_non_null(strstr(job_last_msg(), "allowed: mp4, mkv, mov"));
    BAD(REQ("{'URI':'https://b/o','Container':'mp4'}"), "Targets[0].URI");
    BAD(REQ("{'URI':'oss://b/o','Container':4}"), "Targets[0].Container");
}

static void image_or_extraction_only(void **state)
{
    (void)state;
    /* Without URI and Container, Segment, Video, Audio and Speed are not even looked at. */
    mc_job *job = job_ok(REQ("{'Image':{'Snapshots':[{'Format':'jpg','URI':'oss://b/s.jpg'}],"
                             "'Sprites':[]},"
                             "'Speed':9,'Segment':{'Format':'x'},'Video':'bad','Audio':7}"));
    const mc_target *t = &job->targets[0];
    assert_null(t->uri);
    assert_int_equal(t->container, MC_CONTAINER_NONE);
    assert_true(t->has_image);
    assert_near(t->speed, 1.0);
    assert_false(t->has_segment);
    assert_false(t->has_video);
    assert_false(t->has_audio);
    mc_job_free(&job);
    job = job_ok(REQ("{'Subtitle':{'ExtractSubtitle':{'Format':'srt','URI':'oss://b/sub'}}}"));
    assert_true(job->targets[0].subtitle.has_extract);
    assert_false(job->targets[0].has_image);
    mc_job_free(&job);
    job = job_ok(REQ(MP4(",'Image':{'Animations':[{'Format':'gif','URI':'oss://b/a.gif'}]}")));
    assert_true(job->targets[0].has_image);
    mc_job_free(&job);

    BAD(REQ("{'Image':{'Snapshots':[],'Sprites':[],'Animations':[]}}"), "Targets[0]");
    assert_non_null(strstr(job_last_msg(), "nothing to produce"));
    BAD(REQ(MP4("") ",{'Subtitle':{'DisableSubtitle':true}}"), "Targets[1]");
    BAD(REQ("{'Image':{'Snapshots':{}}}"), "Targets[0].Image.Snapshots");
    BAD(REQ("{'Image':[]}"), "Targets[0].Image");
}

static void target_speed(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4(",'Speed':0.5")));
    assert_near(job->targets[0].speed, 0.5);
    mc_job_free(&job);
    BAD(REQ(MP4(",'Speed':1.1")), "Targets[0].Speed");
    assert_non_null(strstr(job_last_msg(), "allowed: 0.5 to 1"));
    BAD(REQ(MP4(",'Speed':0.49")), "Targets[0].Speed");
}

static void segment(void **state)
{
    (void)state;
    mc_job *job =
        job_ok(REQ(OUT("ts", ",'Segment':{'Format':'HLS','Duration':6.5,'StartNumber':3}") "," OUT(
            "mp4", ",'Segment':{'Format':'dash','Duration':'4'}") "," OUT("webm",
                                                                          ",'Segment':{'Format':'"
                                                                          "dash','Duration':2,'"
                                                                          "StartNumber':0}")));
    const mc_target *t = job->targets;
    assert_true(t[0].has_segment);
    assert_int_equal(t[0].segment.format, MC_SEGMENT_HLS);
    assert_near(t[0].segment.duration, 6.5);
    assert_int_equal(t[0].segment.start_number, 3);
    assert_int_equal(t[1].segment.format, MC_SEGMENT_DASH);
    assert_near(t[1].segment.duration, 4);
    assert_int_equal(t[1].segment.start_number, 0);
    assert_int_equal(t[2].container, MC_CONTAINER_WEBM);
    mc_job_free(&job);

    MISSING(REQ(OUT("ts", ",'Segment':{'Duration':6}")), "MissingFormat",
            "Targets[0].Segment.Format");
    MISSING(REQ(OUT("ts", ",'Segment':{'Format':'hls'}")), "MissingDuration",
            "Targets[0].Segment.Duration");
    BAD(REQ(OUT("ts", ",'Segment':{'Format':'hls','Duration':0}")), "Targets[0].Segment.Duration");
    BAD(REQ(OUT("ts", ",'Segment':{'Format':'smooth','Duration':6}")), "Targets[0].Segment.Format");
    assert_non_null(strstr(job_last_msg(), "allowed: hls, dash"));
    BAD(REQ(OUT("ts", ",'Segment':{'Format':'hls','Duration':6,'StartNumber':-1}")),
        "Targets[0].Segment.StartNumber");
    BAD(REQ(OUT("ts", ",'Segment':{'Format':'hls','Duration':6,'StartNumber':1.5}")),
        "Targets[0].Segment.StartNumber");
    BAD(REQ(OUT("mp4", ",'Segment':{'Format':'dash','Duration':6,'StartNumber':5}")),
        "Targets[0].Segment.StartNumber");
    BAD(REQ(OUT("mkv", ",'Segment':{'Format':'hls','Duration':6}")), "Targets[0].Segment.Format");
    assert_non_null(strstr(job_last_msg(), "ts or mp4"));
    BAD(REQ(OUT("ts", ",'Segment':{'Format':'dash','Duration':6}")), "Targets[0].Segment.Format");
    assert_non_null(strstr(job_last_msg(), "mp4 or webm"));
    BAD(REQ(OUT("ts", ",'Segment':[]")), "Targets[0].Segment");
}

static void strip_metadata(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4(",'StripMetadata':true")));
    assert_true(job->targets[0].strip_metadata);
    mc_job_free(&job);
    BAD(REQ(MP4(",'StripMetadata':'maybe'")), "Targets[0].StripMetadata");
}

static void data_and_attached_picture(void **state)
{
    (void)state;
    mc_job *job =
        job_ok(REQ(MP4(",'Data':{'Stream':[-1]},'AttachedPicture':{'Stream':[0,2]}") "," OUT(
            "mkv", ",'AttachedPicture':{'Stream':[-1]},'Data':{}")));
    const mc_target *t = job->targets;
    assert_true(t[0].has_data);
    assert_int_equal(t[0].data.n, 1);
    assert_int_equal(t[0].data.index[0], -1);
    assert_true(t[0].has_attached_picture);
    assert_int_equal(t[0].attached_picture.n, 2);
    assert_int_equal(t[0].attached_picture.index[1], 2);
    assert_true(t[1].has_attached_picture);
    assert_false(t[1].has_data);
    mc_job_free(&job);
    BAD(REQ(OUT("mkv", ",'Data':{'Stream':[0]}")), "Targets[0].Data");
    assert_non_null(strstr(job_last_msg(), "mp4"));
    BAD(REQ(OUT("mov", ",'AttachedPicture':{'Stream':[-1]}")), "Targets[0].AttachedPicture");
    BAD(REQ(MP4(",'Data':{'Stream':[-2]}")), "Targets[0].Data.Stream[0]");
    BAD(REQ(MP4(",'AttachedPicture':{'Stream':[0,'x']}")), "Targets[0].AttachedPicture.Stream[1]");
    BAD(REQ(MP4(",'Data':{'Stream':5}")), "Targets[0].Data.Stream");
}

static void target_subtitle(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(
        MP4(",'Subtitle':{'Stream':[101]}") "," MP4(",'Subtitle':{'DisableSubtitle':true}") "," MP4(
            ",'Subtitle':{'ExtractSubtitle':{'Format':'VTT','URI':'oss://b/s'}}") ","
                                                                                  "{'Subtitle':{'"
                                                                                  "ExtractSubtitle'"
                                                                                  ":{'Format':'ass'"
                                                                                  ",'URI':'file:///"
                                                                                  "o/s'}}}"));
    const mc_target *t = job->targets;
    assert_true(t[0].has_subtitle);
    assert_true(mc_streams_all(&t[0].subtitle.stream));
    assert_true(t[1].subtitle.disable);
    assert_true(t[2].subtitle.has_extract);
    assert_string_equal(t[2].subtitle.extract_format, "webvtt");
    assert_string_equal(t[2].subtitle.extract_uri, "oss://b/s");
    assert_string_equal(t[3].subtitle.extract_format, "ass");
    mc_job_free(&job);
    MISSING(REQ(MP4(",'Subtitle':{'ExtractSubtitle':{'Format':'srt'}}")), "MissingURI",
            "Targets[0].Subtitle.ExtractSubtitle.URI");
    MISSING(REQ(MP4(",'Subtitle':{'ExtractSubtitle':{'URI':'oss://b/s'}}")), "MissingFormat",
            "Targets[0].Subtitle.ExtractSubtitle.Format");
    BAD(REQ(MP4(",'Subtitle':{'ExtractSubtitle':{'Format':'sub','URI':'oss://b/s'}}")),
        "Targets[0].Subtitle.ExtractSubtitle.Format");
    assert_non_null(strstr(job_last_msg(), "allowed: ass, srt, webvtt, vtt"));
    BAD(REQ(MP4(",'Subtitle':{'ExtractSubtitle':{'Format':'srt','URI':'b/s'}}")),
        "Targets[0].Subtitle.ExtractSubtitle.URI");
    BAD(REQ(MP4(",'Subtitle':{'DisableSubtitle':'no'}")), "Targets[0].Subtitle.DisableSubtitle");
    BAD(REQ(MP4(",'Subtitle':{'Stream':[-1]}")), "Targets[0].Subtitle.Stream[0]");
}

#define GROUP(g) "{'ProjectName':'p'," SRC1 ",'TargetGroups':[" g "]}"
#define VARIANT(x)                                                                                 \
    "{'URI':'oss://b/hls/v1.m3u8','Container':'ts','Segment':{'Format':'hls','Duration':6}" x "}"
#define G1(v) GROUP("{'URI':'oss://b/hls/master.m3u8','Targets':[" v "]}")

static void target_groups(void **state)
{
    (void)state;
    mc_job *job = job_ok(GROUP("{'URI':'oss://b/hls/master.m3u8','Targets':[" VARIANT(
        ",'Speed':0.5,'StripMetadata':true,'Video':{'TranscodeVideo':{'Codec':'h264',"
        "'Resolution':'x720'}},'Subtitle':{'ExtractSubtitle':{'Format':'vtt','URI':"
        "'oss://b/hls/subs/s'}}") ","
                                  "{'URI':'oss://b/hls/720/"
                                  "v2.m3u8','Container':'MP4','Segment':{'Format':'hls',"
                                  "'Duration':4,'StartNumber':1},'Subtitle':{'DisableSubtitle':"
                                  "true}}]}"));
    assert_int_equal(job->n_targets, 0);
    assert_int_equal(job->n_target_groups, 1);
    const mc_target_group *g = &job->target_groups[0];
    assert_string_equal(g->uri, "oss://b/hls/master.m3u8");
    assert_int_equal(g->n_targets, 2);
    assert_int_equal(g->targets[0].container, MC_CONTAINER_TS);
    assert_near(g->targets[0].speed, 0.5);
    assert_true(g->targets[0].strip_metadata);
    assert_int_equal(g->targets[0].video.transcode.res_h, 720);
    assert_string_equal(g->targets[0].subtitle.extract_format, "webvtt");
    assert_int_equal(g->targets[1].container, MC_CONTAINER_MP4);
    assert_int_equal(g->targets[1].segment.start_number, 1);
    mc_job_free(&job);

    MISSING(GROUP("{'Targets':[" VARIANT("") "]}"), "MissingURI", "TargetGroups[0].URI");
    BAD(GROUP("{'URI':'oss://b/hls/master.mpd','Targets':[" VARIANT("") "]}"),
        "TargetGroups[0].URI");
    assert_non_null(strstr(job_last_msg(), ".m3u8"));
    BAD(GROUP("{'URI':'http://b/hls/master.m3u8','Targets':[" VARIANT("") "]}"),
        "TargetGroups[0].URI");
    MISSING(GROUP("{'URI':'oss://b/hls/master.m3u8'}"), "MissingTargets",
            "TargetGroups[0].Targets");
    MISSING(G1(""), "MissingTargets", "TargetGroups[0].Targets");
    BAD(GROUP("7"), "TargetGroups[0]");
}

static void target_group_variants(void **state)
{
    (void)state;
    MISSING(G1(VARIANT("") ",{'Container':'ts','Segment':{'Format':'hls','Duration':6}}"),
            "MissingURI", "TargetGroups[0].Targets[1].URI");
    MISSING(G1("{'URI':'oss://b/hls/v.m3u8','Segment':{'Format':'hls','Duration':6}}"),
            "MissingContainer", "TargetGroups[0].Targets[0].Container");
    BAD(G1("{'URI':'oss://b/hls/v.m3u8','Container':'mkv','Segment':{'Format':'hls',"
           "'Duration':6}}"),
        "TargetGroups[0].Targets[0].Container");
    assert_non_null(strstr(job_last_msg(), "allowed: mp4, ts"));
    MISSING(G1("{'URI':'oss://b/hls/v.m3u8','Container':'ts'}"), "MissingSegment",
            "TargetGroups[0].Targets[0].Segment");
    BAD(G1("{'URI':'oss://b/hls/v.m3u8','Container':'mp4','Segment':{'Format':'dash',"
           "'Duration':6}}"),
        "TargetGroups[0].Targets[0].Segment.Format");
    BAD(G1("{'URI':'oss://b/hls/v.m3u8','Container':'ts','Segment':{'Format':'hls',"
           "'Duration':-6}}"),
        "TargetGroups[0].Targets[0].Segment.Duration");
    BAD(G1("{'URI':'oss://b/other/v.m3u8','Container':'ts','Segment':{'Format':'hls',"
           "'Duration':6}}"),
        "TargetGroups[0].Targets[0].URI");
    assert_non_null(strstr(job_last_msg(), "oss://b/hls/"));
    BAD(G1("{'URI':'oss://b/hls/../x/v.m3u8','Container':'ts','Segment':{'Format':'hls',"
           "'Duration':6}}"),
        "TargetGroups[0].Targets[0].URI");
    BAD(G1(VARIANT(",'Speed':2")), "TargetGroups[0].Targets[0].Speed");
    BAD(G1(VARIANT(",'Video':{'TranscodeVideo':{'Codec':'vp9'}}")),
        "TargetGroups[0].Targets[0].Video.TranscodeVideo.Codec");
    BAD(G1(VARIANT(",'Audio':{'TranscodeAudio':{'Codec':'aac','Channel':9}}")),
        "TargetGroups[0].Targets[0].Audio.TranscodeAudio.Channel");

    /* Subtitles only through ExtractSubtitle with vtt, inside the group's folder. */
    BAD(G1(VARIANT(",'Subtitle':{'ExtractSubtitle':{'Format':'srt','URI':'oss://b/hls/s'}}")),
        "TargetGroups[0].Targets[0].Subtitle.ExtractSubtitle.Format");
    assert_non_null(strstr(job_last_msg(), "allowed: vtt, webvtt"));
    BAD(G1(VARIANT(",'Subtitle':{'ExtractSubtitle':{'Format':'webvtt','URI':'oss://b/s'}}")),
        "TargetGroups[0].Targets[0].Subtitle.ExtractSubtitle.URI");
    BAD(G1(VARIANT(",'Subtitle':{'Stream':[0]}")), "TargetGroups[0].Targets[0].Subtitle");
    assert_non_null(strstr(job_last_msg(), "ExtractSubtitle"));

    mc_buf b = {0};
    for (int i = 0; i < 33; i++)
        mc_buf_printf(&b, "%s" VARIANT(""), i ? "," : "");
    char *many = mc_buf_steal(&b);
    char *req = job_text(G1("%s"), many);
    job_fails(req, MC_ELIMIT, "LimitExceededError", "TargetGroups[0].Targets");
    free(req);
    free(many);
}

int test_job_target(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uri_and_container),     cmocka_unit_test(image_or_extraction_only),
        cmocka_unit_test(target_speed),          cmocka_unit_test(segment),
        cmocka_unit_test(strip_metadata),        cmocka_unit_test(data_and_attached_picture),
        cmocka_unit_test(target_subtitle),       cmocka_unit_test(target_groups),
        cmocka_unit_test(target_group_variants),
    };
    return cmocka_run_group_tests_name("job: targets", tests, NULL, NULL);
}
