/* Unit tests of the job parser: helpers, main, and the request's top level (spec 1.2). */
#include "test_job.h"

#include <stdio.h>

static char last_msg[MC_ERR_MSG_MAX];
static mc_job untouched; /* *out must keep pointing here after a failure */

static char *unquote(const char *s)
{
    mc_buf b = {0};
    for (; *s; s++) {
        if (*s == '\'')
            mc_buf_puts(&b, "\"");
        else if (*s == '`')
            mc_buf_puts(&b, "\\\"");
        else
            mc_buf_append(&b, s, 1);
    }
    char *t = mc_buf_steal(&b);
    assert_non_null(t);
    return t;
}

mc_job *job_ok(const char *request)
{
    char *text = unquote(request);
    mc_err err;
    mc_err_clear(&err);
    mc_job *job = NULL;
    int rc = mc_job_parse(text, strlen(text), &job, &err);
    if (rc != 0)
        print_error("unexpected failure: %s: %s\nrequest: %s\n", err.code, err.msg, text);
    free(text);
    assert_int_equal(rc, 0);
    assert_int_equal(err.rc, 0);
    assert_non_null(job);
    return job;
}

void assert_names_path(const char *msg, const char *path)
{
    size_t n = strlen(path);
    for (const char *p = strstr(msg, path); p; p = strstr(p + 1, path)) {
        char next = p[n];
        bool at_start = p == msg || p[-1] == ' ' || p[-1] == '(';
        if (at_start && (next == ':' || next == ' ' || next == ',' || next == '\0'))
            return;
    }
    fail_msg("message \"%s\" does not name the field %s", msg, path);
}

void job_fails(const char *request, int rc, const char *code, const char *path)
{
    char *text = unquote(request);
    mc_err err;
    mc_err_clear(&err);
    mc_job *job = &untouched;
    int got = mc_job_parse(text, strlen(text), &job, &err);
    if (got != rc || strcmp(err.code, code) != 0)
        print_error("expected %s, got %d %s: %s\nrequest: %s\n", code, got, err.code, err.msg,
                    text);
    free(text);
    snprintf(last_msg, sizeof(last_msg), "%s", err.msg);
    assert_int_equal(got, rc);
    assert_int_equal(err.rc, rc);
    assert_string_equal(err.code, code);
    assert_ptr_equal(job, &untouched);
    assert_names_path(err.msg, path);
}

const char *job_last_msg(void)
{
    return last_msg;
}

char *job_text(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* A request built at run time: parse it, expecting success (ok) or a failure. */
static mc_job *text_ok(char *request)
{
    mc_job *job = job_ok(request);
    free(request);
    return job;
}

static void text_fails(char *request, int rc, const char *code, const char *path)
{
    job_fails(request, rc, code, path);
    free(request);
}

/* ---- the whole request -------------------------------------------------------------- */

static void minimal_request_defaults(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4("")));
    assert_string_equal(job->project_name, "p");
    assert_int_equal(job->n_sources, 1);
    assert_string_equal(job->sources[0].uri, "oss://b/in.mp4");
    assert_near(job->sources[0].start_time, 0);
    assert_false(job->sources[0].attached);
    assert_int_equal(job->sources[0].align_mode, MC_ALIGN_FALSE);
    assert_int_equal(job->n_targets, 1);
    const mc_target *t = &job->targets[0];
    assert_string_equal(t->uri, "oss://b/out");
    assert_int_equal(t->container, MC_CONTAINER_MP4);
    assert_near(t->speed, 1.0);
    assert_false(t->has_video);
    assert_false(t->has_audio);
    assert_false(t->has_segment);
    assert_false(t->has_image);
    assert_int_equal(t->audio.transcode.quality, -1);
    assert_int_equal(job->alignment_index, 0);
    assert_null(job->user_data);
    assert_int_equal(job->n_tags, 0);
    assert_false(job->has_notification);
    assert_null(job->service_role);
    assert_int_equal(job->n_target_groups, 0);
    mc_job_free(&job);
    assert_null(job);
}

static void invalid_json(void **state)
{
    (void)state;
    BADJSON("{'ProjectName':", "request");
    assert_non_null(strstr(job_last_msg(), "parsing error"));
    BADJSON("[1, 2]", "request");
    BADJSON("'text'", "request");

    mc_err err;
    mc_err_clear(&err);
    mc_job *job = &untouched;
    json_t *arr = json_array();
    assert_int_equal(mc_job_from_json(arr, &job, &err), MC_EJSON);
    assert_string_equal(err.code, "InvalidJSON");
    assert_ptr_equal(job, &untouched);
    json_decref(arr);
}

static void from_json_object(void **state)
{
    (void)state;
    json_t *req =
        json_pack("{s:s, s:[{s:s}], s:[{s:s, s:s}]}", "ProjectName", "proj", "Sources", "URI",
                  "file:///media/a.mov", "Targets", "URI", "file:///out/a", "Container", "mkv");
    assert_non_null(req);
    mc_err err;
    mc_err_clear(&err);
    mc_job *job = NULL;
    assert_int_equal(mc_job_from_json(req, &job, &err), 0);
    assert_string_equal(job->sources[0].uri, "file:///media/a.mov");
    assert_int_equal(job->targets[0].container, MC_CONTAINER_MKV);
    mc_job_free(&job);
    json_object_del(req, "ProjectName");
    job = &untouched;
    assert_int_equal(mc_job_from_json(req, &job, &err), MC_EMISSING);
    assert_string_equal(err.code, "MissingProjectName");
    assert_ptr_equal(job, &untouched);
    json_decref(req);
}

static void project_name(void **state)
{
    (void)state;
    mc_job *job = job_ok("{'ProjectName':'a_B-9'," SRC1 ",'Targets':[" MP4("") "]}");
    assert_string_equal(job->project_name, "a_B-9");
    mc_job_free(&job);
    char *name = job_text("%0128d", 0);
    job = text_ok(job_text("{'ProjectName':'%s'," SRC1 ",'Targets':[" MP4("") "]}", name));
    assert_int_equal(strlen(job->project_name), 128);
    mc_job_free(&job);
    text_fails(job_text("{'ProjectName':'%s1'," SRC1 ",'Targets':[" MP4("") "]}", name), -EINVAL,
               "InvalidArgument", "ProjectName");
    free(name);
    MISSING("{" SRC1 ",'Targets':[" MP4("") "]}", "MissingProjectName", "ProjectName");
    MISSING("{'ProjectName':''," SRC1 ",'Targets':[" MP4("") "]}", "MissingProjectName",
            "ProjectName");
    MISSING("{'ProjectName':null," SRC1 ",'Targets':[" MP4("") "]}", "MissingProjectName",
            "ProjectName");
    BAD("{'ProjectName':'a b'," SRC1 ",'Targets':[" MP4("") "]}", "ProjectName");
    BAD("{'ProjectName':'caf\\u00e9'," SRC1 ",'Targets':[" MP4("") "]}", "ProjectName");
    BAD("{'ProjectName':7," SRC1 ",'Targets':[" MP4("") "]}", "ProjectName");
}

static void sources_required_and_limited(void **state)
{
    (void)state;
    MISSING("{'ProjectName':'p','Targets':[" MP4("") "]}", "MissingSources", "Sources");
    MISSING("{'ProjectName':'p','Sources':[],'Targets':[" MP4("") "]}", "MissingSources",
            "Sources");
    MISSING("{'ProjectName':'p','Sources':null,'Targets':[" MP4("") "]}", "MissingSources",
            "Sources");
    MISSING("{'ProjectName':'p','Sources':'','Targets':[" MP4("") "]}", "MissingSources",
            "Sources");
    BAD("{'ProjectName':'p','Sources':{'URI':'oss://b/a'},'Targets':[" MP4("") "]}", "Sources");
    BAD("{'ProjectName':'p','Sources':[7],'Targets':[" MP4("") "]}", "Sources[0]");

    /* 11 sources (one concatenated, ten attached) pass, 12 are too many. */
    mc_buf b = {0};
    for (int i = 0; i < 12; i++)
        mc_buf_printf(&b, "%s{'URI':'oss://b/%d.mp4'%s}", i ? "," : "", i,
                      i ? ",'Attached':true" : "");
    char *twelve = mc_buf_steal(&b);
    char *eleven = job_text("%.*s", (int)(strrchr(twelve, '{') - twelve - 1), twelve);
    mc_job *job =
        text_ok(job_text("{'ProjectName':'p','Sources':[%s],'Targets':[" MP4("") "]}", eleven));
    assert_int_equal(job->n_sources, 11);
    assert_true(job->sources[10].attached);
    mc_job_free(&job);
    text_fails(job_text("{'ProjectName':'p','Sources':[%s],'Targets':[" MP4("") "]}", twelve),
               MC_ELIMIT, "LimitExceededError", "Sources");
    free(eleven);
    free(twelve);
}

static void targets_required_and_limited(void **state)
{
    (void)state;
    MISSING("{'ProjectName':'p'," SRC1 "}", "MissingTargets", "Targets");
    MISSING("{'ProjectName':'p'," SRC1 ",'Targets':[]}", "MissingTargets", "Targets");
    MISSING("{'ProjectName':'p'," SRC1 ",'Targets':[],'TargetGroups':[]}", "MissingTargets",
            "Targets");
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':[7]}", "Targets[0]");
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':true}", "Targets");

    mc_buf b = {0};
    for (int i = 0; i < 33; i++)
        mc_buf_printf(&b, "%s{'URI':'oss://b/o%d','Container':'mp4'}", i ? "," : "", i);
    char *many = mc_buf_steal(&b);
    char *thirty_two = job_text("%.*s", (int)(strrchr(many, '{') - many - 1), many);
    mc_job *job = text_ok(job_text("{'ProjectName':'p'," SRC1 ",'Targets':[%s]}", thirty_two));
    assert_int_equal(job->n_targets, MC_JOB_MAX_TARGETS);
    assert_string_equal(job->targets[31].uri, "oss://b/o31");
    mc_job_free(&job);
    text_fails(job_text("{'ProjectName':'p'," SRC1 ",'Targets':[%s]}", many), MC_ELIMIT,
               "LimitExceededError", "Targets");
    free(thirty_two);
    free(many);
}

static void shrunk_values(void **state)
{
    (void)state;
    mc_job *job = job_ok("{'ProjectName':'p','Sources':'[{`URI`:`oss://b/a.mp4`}]',"
                         "'Targets':'[{`URI`:`oss://b/o`,`Container`:`ts`}]',"
                         "'TargetGroups':'[{`URI`:`oss://b/g/m.m3u8`,`Targets`:[{`URI`:"
                         "`oss://b/g/v.m3u8`,`Container`:`ts`,`Segment`:{`Format`:`hls`,"
                         "`Duration`:6}}]}]',"
                         "'Tags':'{`team`:`video`}',"
                         "'Notification':'{`MNS`:{`TopicName`:`done`}}',"
                         "'CredentialConfig':'{`ServiceRole`:`Role1`}'}");
    assert_string_equal(job->sources[0].uri, "oss://b/a.mp4");
    assert_int_equal(job->targets[0].container, MC_CONTAINER_TS);
    assert_int_equal(job->n_target_groups, 1);
    assert_string_equal(job->target_groups[0].targets[0].uri, "oss://b/g/v.m3u8");
    assert_string_equal(mc_job_tag(job, "team"), "video");
    assert_string_equal(job->notification.mns_topic, "done");
    assert_string_equal(job->service_role, "Role1");
    mc_job_free(&job);

    BADJSON("{'ProjectName':'p','Sources':'[{`URI`:','Targets':[" MP4("") "]}", "Sources");
    assert_non_null(strstr(job_last_msg(), "Sources: array parsing error: "));
    assert_non_null(strstr(job_last_msg(), "column"));
    BADJSON("{'ProjectName':'p','Sources':'{`URI`:`oss://b/a`}','Targets':[" MP4("") "]}",
            "Sources");
    BADJSON(REQ(MP4("")) "x", "request");
    BADJSON("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'Notification':'[1]'}",
            "Notification");
    assert_non_null(strstr(job_last_msg(), "object parsing error"));
    BADJSON("{'ProjectName':'p'," SRC1 ",'Targets':'nope'}", "Targets");
    BADJSON("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'Tags':'{'}", "Tags");
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'Tags':[1]}", "Tags");
}

/* What the Python SDK sends: shrunk values, every list present, empty ones as []. */
static void python_sdk_request(void **state)
{
    (void)state;
    mc_job *job = job_ok(
        "{'ProjectName':'p','Sources':'[{`URI`:`oss://b/a.mp4`,`Subtitles`:[]}]',"
        "'Targets':'[{`URI`:`oss://b/o`,`Container`:`mp4`,`Video`:{`TranscodeVideo`:"
        "{`Codec`:`h264`},`FilterVideo`:{`Watermarks`:[],`Delogos`:[]}},`Image`:{`Snapshots`:"
        "[],`Sprites`:[],`Animations`:[]},`Subtitle`:{`Stream`:[]}}]',"
        "'UserData':null,'Unknown':{'x':1},'AlignmentIndex':'0'}");
    const mc_target *t = &job->targets[0];
    assert_int_equal(job->sources[0].n_subtitles, 0);
    assert_int_equal(t->video.n_watermarks, 0);
    assert_int_equal(t->video.n_delogos, 0);
    assert_false(t->has_image);
    assert_true(t->has_subtitle);
    assert_int_equal(t->subtitle.stream.n, 0);
    assert_null(job->user_data);
    mc_job_free(&job);
    /* ...but the same empty arrays where something is required are missing. */
    MISSING("{'ProjectName':'p','Sources':'[]','Targets':[" MP4("") "]}", "MissingSources",
            "Sources");
}

static void lenient_values(void **state)
{
    (void)state;
    mc_job *job = job_ok(TV("'Codec':'H264','GOPSize':250.0,'BFrames':'4','CRF':'20.5',"
                            "'AdaptiveResolutionDirection':'TRUE','Resolution':'640x'"));
    const mc_video_transcode *tv = &job->targets[0].video.transcode;
    assert_int_equal(tv->codec, MC_VCODEC_H264);
    assert_int_equal(tv->gop_size, 250);
    assert_int_equal(tv->bframes, 4);
    assert_near(tv->crf, 20.5);
    assert_true(tv->adaptive_direction);
    mc_job_free(&job);
    job = job_ok(REQ("{'URI':'oss://b/o','Container':'MP4','StripMetadata':'false'}"));
    assert_int_equal(job->targets[0].container, MC_CONTAINER_MP4);
    assert_false(job->targets[0].strip_metadata);
    mc_job_free(&job);

    BAD(TV("'Codec':'h264','GOPSize':25.5"), P_TV "GOPSize");
    assert_non_null(strstr(job_last_msg(), "must be an integer"));
    BAD(TV("'Codec':'h264','GOPSize':'25x'"), P_TV "GOPSize");
    BAD(TV("'Codec':'h264','GOPSize':'0x10'"), P_TV "GOPSize");
    BAD(TV("'Codec':'h264','GOPSize':true"), P_TV "GOPSize");
    BAD(TV("'Codec':'h264','CRF':'nan'"), P_TV "CRF");
    BAD(TV("'Codec':'h264','AdaptiveResolutionDirection':1"), P_TV "AdaptiveResolutionDirection");
    BAD(TV("'Codec':'h264','AdaptiveResolutionDirection':'yes'"),
        P_TV "AdaptiveResolutionDirection");
    BAD(TV("'Codec':7"), P_TV "Codec");
}

static void alignment_index(void **state)
{
    (void)state;
    const char *two = "'Sources':[{'URI':'oss://b/a.mp4'},{'URI':'oss://b/b.mp4'}]";
    const char *target = "{'URI':'oss://b/o','Container':'mp4','Video':{'TranscodeVideo':"
                         "{'Codec':'h264'}},'Audio':{'TranscodeAudio':{'Codec':'aac'}}}";
    mc_job *job =
        text_ok(job_text("{'ProjectName':'p',%s,'Targets':[%s],'AlignmentIndex':1}", two, target));
    assert_int_equal(job->alignment_index, 1);
    mc_job_free(&job);
    job = text_ok(
        job_text("{'ProjectName':'p',%s,'Targets':[%s],'AlignmentIndex':'1'}", two, target));
    assert_int_equal(job->alignment_index, 1);
    mc_job_free(&job);
    text_fails(job_text("{'ProjectName':'p',%s,'Targets':[%s],'AlignmentIndex':2}", two, target),
               -EINVAL, "InvalidArgument", "AlignmentIndex");
    assert_non_null(strstr(job_last_msg(), "allowed: 0 to 1"));
    text_fails(job_text("{'ProjectName':'p',%s,'Targets':[%s],'AlignmentIndex':-1}", two, target),
               -EINVAL, "InvalidArgument", "AlignmentIndex");
    text_fails(job_text("{'ProjectName':'p',%s,'Targets':[%s],'AlignmentIndex':0.5}", two, target),
               -EINVAL, "InvalidArgument", "AlignmentIndex");

    /* Not on an attached source, whether given or by default. */
    const char *attached = "'Sources':[{'URI':'oss://b/a.mp4','Attached':true},"
                           "{'URI':'oss://b/b.mp4'}]";
    job = text_ok(
        job_text("{'ProjectName':'p',%s,'Targets':[" MP4("") "],'AlignmentIndex':1}", attached));
    assert_int_equal(job->alignment_index, 1);
    assert_true(job->sources[0].attached);
    mc_job_free(&job);
    text_fails(
        job_text("{'ProjectName':'p',%s,'Targets':[" MP4("") "],'AlignmentIndex':0}", attached),
        -EINVAL, "InvalidArgument", "AlignmentIndex");
    text_fails(job_text("{'ProjectName':'p',%s,'Targets':[" MP4("") "]}", attached), -EINVAL,
               "InvalidArgument", "AlignmentIndex");
}

static void user_data(void **state)
{
    (void)state;
    char *data = job_text("%02048d", 7);
    mc_job *job = text_ok(
        job_text("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'UserData':'%s'}", data));
    assert_int_equal(strlen(job->user_data), MC_JOB_MAX_USER_DATA);
    mc_job_free(&job);
    text_fails(
        job_text("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'UserData':'%s8'}", data),
        MC_ELIMIT, "LimitExceededError", "UserData");
    free(data);
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'UserData':{'a':1}}", "UserData");
}

static void tags(void **state)
{
    (void)state;
    mc_job *job = job_ok("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4(
        "") "],'Tags':{"
            "'s':'v','n':42,'f':1.5,'b':true,'o':{'k':[1,'x']},'z':null}}");
    assert_int_equal(job->n_tags, 5);
    assert_string_equal(mc_job_tag(job, "s"), "v");
    assert_string_equal(mc_job_tag(job, "n"), "42");
    assert_string_equal(mc_job_tag(job, "f"), "1.5");
    assert_string_equal(mc_job_tag(job, "b"), "true");
    assert_string_equal(mc_job_tag(job, "o"), "{\"k\":[1,\"x\"]}");
    assert_null(mc_job_tag(job, "z"));
    assert_null(mc_job_tag(job, "missing"));
    mc_job_free(&job);

    mc_buf b = {0};
    for (int i = 0; i < 101; i++)
        mc_buf_printf(&b, "%s'k%d':%d", i ? "," : "", i, i);
    char *many = mc_buf_steal(&b);
    char *hundred = job_text("%.*s", (int)(strrchr(many, ',') - many), many);
    job = text_ok(
        job_text("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'Tags':{%s}}", hundred));
    assert_int_equal(job->n_tags, 100);
    assert_string_equal(mc_job_tag(job, "k99"), "99");
    mc_job_free(&job);
    text_fails(job_text("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'Tags':{%s}}", many),
               MC_ELIMIT, "LimitExceededError", "Tags");
    free(hundred);
    free(many);
}

#define NOTIFY(n) "{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'Notification':" n "}"

static void notification(void **state)
{
    (void)state;
    mc_job *job = job_ok(NOTIFY("{'MNS':{'TopicName':'t1'},'RocketMQ':{'InstanceId':'MQ_1',"
                                "'TopicName':'t2','Endpoint':'http://x'},"
                                "'ExtendedMessageURI':'oss://b/r.json'}"));
    assert_true(job->has_notification);
    assert_string_equal(job->notification.mns_topic, "t1");
    assert_string_equal(job->notification.rocketmq_instance, "MQ_1");
    assert_string_equal(job->notification.rocketmq_topic, "t2");
    assert_string_equal(job->notification.extended_message_uri, "oss://b/r.json");
    mc_job_free(&job);
    MISSING(NOTIFY("{'MNS':{}}"), "MissingTopicName", "Notification.MNS.TopicName");
    MISSING(NOTIFY("{'MNS':{'TopicName':''}}"), "MissingTopicName", "Notification.MNS.TopicName");
    MISSING(NOTIFY("{'RocketMQ':{'TopicName':'t'}}"), "MissingInstanceId",
            "Notification.RocketMQ.InstanceId");
    MISSING(NOTIFY("{'RocketMQ':{'InstanceId':'i'}}"), "MissingTopicName",
            "Notification.RocketMQ.TopicName");
    BAD(NOTIFY("{'ExtendedMessageURI':'file:///r.json'}"), "Notification.ExtendedMessageURI");
    BAD(NOTIFY("{'MNS':'topic'}"), "Notification.MNS");
}

static void credential_config(void **state)
{
    (void)state;
    mc_job *job = job_ok("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4(
        "") "],"
            "'CredentialConfig':{'ServiceRole':'AliyunIMMRole','Policy':'{}',"
            "'Chain':[{'Role':'r','RoleType':'user'}]}}");
    assert_string_equal(job->service_role, "AliyunIMMRole");
    mc_job_free(&job);
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],'CredentialConfig':{"
                                                          "'ServiceRole':5}}",
        "CredentialConfig.ServiceRole");
}

/* Priority (extension): 0..9, default 5; a number or one in a string (API parameters). */
static void priority(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4("")));
    assert_int_equal(job->priority, MC_JOB_PRIORITY_DEFAULT);
    assert_int_equal(job->priority, 5);
    mc_job_free(&job);
    static const struct {
        const char *field;
        int want;
    } ok[] = {
        {"'Priority':9", 9}, {"'Priority':'0'", 0}, {"'Priority':'9'", 9},
        {"'Priority':1", 1}, {"'Priority':''", 5},  {"'Priority':null", 5},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        job = text_ok(
            job_text("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],%s}", ok[i].field));
        assert_int_equal(job->priority, ok[i].want);
        mc_job_free(&job);
    }
    static const char *const bad[] = {"'Priority':10",   "'Priority':'10'",  "'Priority':-1",
                                      "'Priority':'x'",  "'Priority':'5.5'", "'Priority':4.5",
                                      "'Priority':true", "'Priority':[1]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        text_fails(job_text("{'ProjectName':'p'," SRC1 ",'Targets':[" MP4("") "],%s}", bad[i]),
                   -EINVAL, "InvalidArgument", "Priority");
        /* The message names the allowed range. */
        assert_non_null(strstr(job_last_msg(), "0 to 9"));
    }
}

static void free_and_helpers(void **state)
{
    (void)state;
    mc_job_free(NULL);
    mc_job *job = NULL;
    mc_job_free(&job);
    assert_null(job);
    assert_null(mc_job_tag(NULL, "x"));
    int64_t few[] = {0, 3}, all[] = {1, 101};
    mc_streams s = {few, 2};
    assert_false(mc_streams_all(&s));
    s.index = all;
    assert_true(mc_streams_all(&s));
    assert_false(mc_streams_all(NULL));
    /* Only the first error is kept. */
    mc_err err;
    mc_err_clear(&err);
    const char *bad = "{\"ProjectName\":\"a b\"}";
    job = &untouched;
    assert_int_equal(mc_job_parse(bad, strlen(bad), &job, &err), -EINVAL);
    assert_int_equal(mc_job_parse("{", 1, &job, &err), MC_EJSON);
    assert_string_equal(err.code, "InvalidArgument");
    assert_ptr_equal(job, &untouched);
}

int test_job_top(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_request_defaults),
        cmocka_unit_test(invalid_json),
        cmocka_unit_test(from_json_object),
        cmocka_unit_test(project_name),
        cmocka_unit_test(sources_required_and_limited),
        cmocka_unit_test(targets_required_and_limited),
        cmocka_unit_test(shrunk_values),
        cmocka_unit_test(python_sdk_request),
        cmocka_unit_test(lenient_values),
        cmocka_unit_test(alignment_index),
        cmocka_unit_test(user_data),
        cmocka_unit_test(tags),
        cmocka_unit_test(notification),
        cmocka_unit_test(credential_config),
        cmocka_unit_test(priority),
        cmocka_unit_test(free_and_helpers),
    };
    return cmocka_run_group_tests_name("job: request", tests, NULL, NULL);
}

int main(void)
{
    int failed = 0;
    failed += test_job_top();
    failed += test_job_source();
    failed += test_job_target();
    failed += test_job_video();
    failed += test_job_filter();
    failed += test_job_audio();
    failed += test_job_image();
    return failed ? 1 : 0;
}
