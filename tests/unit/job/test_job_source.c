/* Unit tests of Sources[] (spec 1.3) and concatenation. */
#include "test_job.h"

#define SOURCE(s) REQS("'Sources':[" s "]", MP4(""))
/* A second, attached source keeps the job from concatenating. */
#define WITH_ATTACHED(s) REQS("'Sources':[{'URI':'oss://b/main.mp4'}," s "]", MP4(""))

static void source_uri(void **state)
{
    (void)state;
    mc_job *job = job_ok(SOURCE("{'URI':'file:///srv/media/in.mov'}"));
    assert_string_equal(job->sources[0].uri, "file:///srv/media/in.mov");
    mc_job_free(&job);
    MISSING(SOURCE("{'StartTime':1}"), "MissingURI", "Sources[0].URI");
    MISSING(SOURCE("{'URI':''}"), "MissingURI", "Sources[0].URI");
    BAD(SOURCE("{'URI':'http://host/in.mp4'}"), "Sources[0].URI");
    assert_non_null(strstr(job_last_msg(), "allowed: oss://"));
    BAD(SOURCE("{'URI':'oss://'}"), "Sources[0].URI");
    BAD(SOURCE("{'URI':['oss://b/a']}"), "Sources[0].URI");
    BAD(WITH_ATTACHED("{'URI':'s3://b/x','Attached':true}"), "Sources[1].URI");
}

static void source_times(void **state)
{
    (void)state;
    mc_job *job = job_ok(SOURCE("{'URI':'oss://b/a','StartTime':2.5,'Duration':30}"));
    assert_near(job->sources[0].start_time, 2.5);
    assert_near(job->sources[0].duration, 30);
    mc_job_free(&job);
    BAD(SOURCE("{'URI':'oss://b/a','StartTime':-1}"), "Sources[0].StartTime");
    assert_non_null(strstr(job_last_msg(), "allowed: 0 to 10000000"));
    /* beyond what timestamps can hold once in microseconds */
    BAD(SOURCE("{'URI':'oss://b/a','StartTime':1e13}"), "Sources[0].StartTime");
    BAD(SOURCE("{'URI':'oss://b/a','Duration':1e13}"), "Sources[0].Duration");
    BAD(SOURCE("{'URI':'oss://b/a','Duration':-0.5}"), "Sources[0].Duration");
    BAD(SOURCE("{'URI':'oss://b/a','Duration':'long'}"), "Sources[0].Duration");
}

static void source_subtitles(void **state)
{
    (void)state;
    mc_job *job = job_ok(SOURCE("{'URI':'oss://b/a','Subtitles':[{'URI':'oss://b/a.srt'},"
                                "{'URI':'file:///s/b.vtt','TimeOffset':-10.5,'Language':'eng'}]}"));
    const mc_source *s = &job->sources[0];
    assert_int_equal(s->n_subtitles, 2);
    assert_string_equal(s->subtitles[0].uri, "oss://b/a.srt");
    assert_null(s->subtitles[0].language);
    assert_near(s->subtitles[0].time_offset, 0);
    assert_near(s->subtitles[1].time_offset, -10.5);
    assert_string_equal(s->subtitles[1].language, "eng");
    mc_job_free(&job);
    MISSING(SOURCE("{'URI':'oss://b/a','Subtitles':[{'URI':'oss://b/a.srt'},{'Language':'eng'}]}"),
            "MissingURI", "Sources[0].Subtitles[1].URI");
    BAD(SOURCE("{'URI':'oss://b/a','Subtitles':[{'URI':'ftp://b/a.srt'}]}"),
        "Sources[0].Subtitles[0].URI");
    BAD(SOURCE("{'URI':'oss://b/a','Subtitles':[{'URI':'oss://b/a.srt','Language':'en'}]}"),
        "Sources[0].Subtitles[0].Language");
    BAD(SOURCE("{'URI':'oss://b/a','Subtitles':[{'URI':'oss://b/a.srt','Language':'e1g'}]}"),
        "Sources[0].Subtitles[0].Language");
    BAD(SOURCE("{'URI':'oss://b/a','Subtitles':[{'URI':'oss://b/a.srt','TimeOffset':'x'}]}"),
        "Sources[0].Subtitles[0].TimeOffset");
    BAD(SOURCE("{'URI':'oss://b/a','Subtitles':{'URI':'oss://b/a.srt'}}"), "Sources[0].Subtitles");
    BAD(SOURCE("{'URI':'oss://b/a','Subtitles':['oss://b/a.srt']}"), "Sources[0].Subtitles[0]");
}

static void source_attached_and_align_mode(void **state)
{
    (void)state;
    mc_job *job = job_ok(
        REQS("'Sources':[{'URI':'oss://b/a'},{'URI':'oss://b/m','Attached':true,'AlignMode':"
             "'LOOP'},{'URI':'oss://b/n','Attached':'true','AlignMode':'pad'},{'URI':'oss://b/o',"
             "'AlignMode':false},{'URI':'oss://b/p','Attached':true,'AlignMode':'false'}]",
             MP4(",'Video':{'TranscodeVideo':{'Codec':'h264'}},'Audio':{'TranscodeAudio':"
                 "{'Codec':'aac'}}")));
    assert_false(job->sources[0].attached);
    assert_true(job->sources[1].attached);
    assert_int_equal(job->sources[1].align_mode, MC_ALIGN_LOOP);
    assert_int_equal(job->sources[2].align_mode, MC_ALIGN_PAD);
    assert_int_equal(job->sources[3].align_mode, MC_ALIGN_FALSE);
    assert_int_equal(job->sources[4].align_mode, MC_ALIGN_FALSE);
    mc_job_free(&job);
    BAD(WITH_ATTACHED("{'URI':'oss://b/m','AlignMode':'loop'}"), "Sources[1].AlignMode");
    assert_non_null(strstr(job_last_msg(), "Attached"));
    BAD(WITH_ATTACHED("{'URI':'oss://b/m','Attached':true,'AlignMode':'stretch'}"),
        "Sources[1].AlignMode");
    assert_non_null(strstr(job_last_msg(), "allowed: false, loop, pad"));
    BAD(WITH_ATTACHED("{'URI':'oss://b/m','Attached':true,'AlignMode':true}"),
        "Sources[1].AlignMode");
    BAD(WITH_ATTACHED("{'URI':'oss://b/m','Attached':'yes'}"), "Sources[1].Attached");
}

static void source_disable(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQS("'Sources':[{'URI':'oss://b/a','DisableVideo':true},"
                              "{'URI':'oss://b/m','Attached':true,'DisableVideo':true,"
                              "'DisableAudio':true}]",
                              MP4("")));
    assert_true(job->sources[0].disable_video);
    assert_false(job->sources[0].disable_audio);
    assert_true(job->sources[1].disable_audio);
    mc_job_free(&job);
    BAD(SOURCE("{'URI':'oss://b/a','DisableVideo':true,'DisableAudio':true}"),
        "Sources[0].DisableAudio");
    assert_non_null(strstr(job_last_msg(), "DisableVideo"));
    BAD(SOURCE("{'URI':'oss://b/a','DisableAudio':0}"), "Sources[0].DisableAudio");
}

static void sources_not_all_attached(void **state)
{
    (void)state;
    BAD(SOURCE("{'URI':'oss://b/a','Attached':true}"), "Sources");
    assert_non_null(strstr(job_last_msg(), "Attached false"));
}

#define T_H264 "'Video':{'TranscodeVideo':{'Codec':'h264'}}"
#define T_AAC  "'Audio':{'TranscodeAudio':{'Codec':'aac'}}"

static void concatenation_needs_codecs(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQS(SRC2, MP4("," T_H264 "," T_AAC)));
    assert_int_equal(job->n_sources, 2);
    assert_int_equal(job->targets[0].video.transcode.codec, MC_VCODEC_H264);
    mc_job_free(&job);
    /* Exempt: disabled streams, audio-only containers (no video), image-only targets. */
    job = job_ok(REQS(
        SRC2,
        MP4(",'Video':{'DisableVideo':true},'Audio':{'DisableAudio':true}") "," OUT(
            "mp3", ",'Audio':{'TranscodeAudio':{'Codec':'mp3'}}") ",{'Image':{'Snapshots':["
                                                                  "{'Format':'jpg','URI':"
                                                                  "'oss://b/s.jpg'}]}}"));
    assert_true(job->targets[0].video.disable);
    assert_true(job->targets[0].audio.disable);
    assert_false(job->targets[1].has_video);
    mc_job_free(&job);
    /* One main source and an attached one is no concatenation: copy is fine. */
    job = job_ok(
        REQS("'Sources':[{'URI':'oss://b/a'},{'URI':'oss://b/b','Attached':true}]", MP4("")));
    assert_false(job->targets[0].has_video);
    mc_job_free(&job);

    BAD(REQS(SRC2, MP4(",'Video':{'TranscodeVideo':{'Codec':'copy'}}," T_AAC)), P_TV "Codec");
    assert_non_null(strstr(job_last_msg(), "set a codec"));
    BAD(REQS(SRC2, MP4(",'Video':{'TranscodeVideo':{}}," T_AAC)), P_TV "Codec");
    BAD(REQS(SRC2, MP4("," T_AAC)), "Targets[0].Video");
    assert_non_null(strstr(job_last_msg(), "set Video.TranscodeVideo.Codec"));
    BAD(REQS(SRC2, MP4("," T_H264)), "Targets[0].Audio");
    assert_non_null(strstr(job_last_msg(), "set Audio.TranscodeAudio.Codec"));
    BAD(REQS(SRC2, MP4("," T_H264 ",'Audio':{'TranscodeAudio':{'Codec':'copy'}}")), P_TA "Codec");
    assert_non_null(strstr(job_last_msg(), "set a codec"));
    BAD(REQS(SRC2, OUT("mp3", "")), "Targets[0].Audio");
}

int test_job_source(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_uri),
        cmocka_unit_test(source_times),
        cmocka_unit_test(source_subtitles),
        cmocka_unit_test(source_attached_and_align_mode),
        cmocka_unit_test(source_disable),
        cmocka_unit_test(sources_not_all_attached),
        cmocka_unit_test(concatenation_needs_codecs),
    };
    return cmocka_run_group_tests_name("job: sources", tests, NULL, NULL);
}
