/* Unit tests of the OSS processing-string grammar: sys/saveas, notify, Base64, malformed
 * strings, POST bodies and synchronous x-oss-process strings. */
#include "oss_test.h"

/* ---- sys/saveas, notify, Base64 -------------------------------------------------------- */

void saveas_and_base64(void **state)
{
    (void)state;
    /* Both alphabets, with and without padding, give the same key "dir/ÿþ>>?.mp4". */
    const char *forms[] = {"ZGlyL8O_w74-Pj8ubXA0", "ZGlyL8O/w74+Pj8ubXA0",
                           "ZGlyL8O/w74 Pj8ubXA0" /* '+' after form decoding */};
    for (size_t i = 0; i < 3; i++) {
        char s[256];
        snprintf(s, sizeof(s), "video/convert,f_mp4|sys/saveas,o_%s/notify,topic_dG9waWM",
                 forms[i]);
        json_t *r = req_ok(s);
        assert_str_at(r, "Targets[0].URI", "oss://media-bucket/dir/\xc3\xbf\xc3\xbe>>?.mp4");
        assert_string_equal(g_topic, "topic");
        json_decref(r);
    }
    json_t *r = req_ok("video/convert,f_mp4|sys/saveas,o_b3V0L2EuZ2lm,b_b3V0YnVja2V0");
    assert_str_at(r, "Targets[0].URI", "oss://outbucket/out/a.gif");
    json_decref(r);
    r = req_ok("video/convert,f_mp4|sys/saveas,b_b3V0YnVja2V0,o_b3V0L2EuZ2lm");
    assert_str_at(r, "Targets[0].URI", "oss://outbucket/out/a.gif");
    json_decref(r);
    /* A stray trailing newline of the whole string (CRLF too) is dropped. */
    r = req_ok("video/convert,f_mp4" SAVEAS "\r\n");
    assert_str_at(r, "Targets[0].URI", "oss://media-bucket/out/video.mp4");
    json_decref(r);
    /* The short notify forms, as a stage of their own. */
    r = req_ok("video/convert,f_mp4" SAVEAS "|notify,topic_dG9waWM=");
    assert_string_equal(g_topic, "topic");
    assert_str_at(r, "Notification.MNS.TopicName", "topic");
    json_decref(r);
    r = req_ok("video/convert,f_mp4" SAVEAS "|sys/notify,topic_dG9waWM");
    assert_string_equal(g_topic, "topic");
    json_decref(r);

    bad("video/convert,f_mp4|sys/saveas,o_!!!!", INVALID,
        "sys/saveas: o \"!!!!\" is not Base64; allowed: URL-safe or standard Base64");
    bad("video/convert,f_mp4|sys/saveas,o_b3V0L", INVALID, "is not Base64");
    bad("video/convert,f_mp4|sys/saveas,o_b3V0L2EuZ2lm===", INVALID, "is not Base64");
    bad("video/convert,f_mp4|sys/saveas,o__w", INVALID,
        "decodes to bytes that are not clean UTF-8");
    bad("video/convert,f_mp4|sys/saveas,o_Cg", INVALID, "decodes to nothing");      /* "\n" */
    bad("video/convert,f_mp4|sys/saveas,o_AA", INVALID, "not clean UTF-8");         /* NUL */
    bad("video/convert,f_mp4|sys/saveas,o_L2Eu", INVALID, "not starting with '/'"); /* "/a." */
    bad("video/convert,f_mp4|sys/saveas,o_b3V0L3tub3BlfS5tcDQ=", INVALID, "{nope}");
    bad("video/convert,f_mp4|sys/saveas,b_b3V0YnVja2V0", MISSING,
        "sys/saveas: o (the Base64 of the output object key) is required");
    bad("video/convert,f_mp4|sys/saveas,o_b3V0L2EuZ2lm,b_Yi9j", INVALID, "is not a bucket name");
    bad("video/convert,f_mp4|sys/saveas,o_b3V0L2EuZ2lm,x_1", INVALID,
        "sys/saveas: unknown parameter x; allowed: o, b");
    bad("video/convert,f_mp4" SAVEAS "/notify", MISSING, "notify: topic");
    bad("video/convert,f_mp4" SAVEAS "/notify,topic_!", INVALID,
        "notify: topic \"!\" is not Base64");
    bad("video/convert,f_mp4" SAVEAS "/notify,topic_dG9waWM,x_1", INVALID, "unknown parameter x");
    bad("video/convert,f_mp4" SAVEAS SAVEAS, INVALID, "sys/saveas is given twice");
    bad("video/convert,f_mp4" SAVEAS "|notify,topic_dG9waWM|notify,topic_dG9waWM", INVALID,
        "too many '|' stages");
    bad("video/convert,f_mp4" SAVEAS "/notify,topic_dG9waWM|notify,topic_dG9waWM", INVALID,
        "notify is given twice");
    bad("video/convert,f_mp4" SAVEAS "|notify,topic_dG9waWM/notify,topic_dG9waWM", INVALID,
        "notify is given twice");
    bad("video/convert,f_mp4|sys/delete,o_b3V0L2EuZ2lm", INVALID,
        "\"sys/delete\" is not an output stage; allowed: sys/saveas, sys/notify, notify");
}

/* ---- the grammar's failures ------------------------------------------------------------ */

void malformed(void **state)
{
    (void)state;
    bad("", MISSING, "processing string: empty");
    bad("\r\n", MISSING, "processing string: empty");
    bad_len(NULL, 0, MISSING, "empty");
    bad("video/", INVALID, "\"video/\" names no operation");
    bad("video", INVALID, "unknown action \"video\"");
    bad("video/transmogrify,f_mp4" SAVEAS, INVALID,
        "x-oss-async-process: unknown action \"video/transmogrify\"; allowed: video/convert, "
        "audio/convert");
    bad("doc/convert,target_pdf" SAVEAS, INVALID, "unknown action \"doc/convert\"");
    bad("style/my-style" SAVEAS, INVALID, "saved styles are not supported");
    bad("video/snapshot,t_1000,f_jpg" SAVEAS, INVALID,
        "video/snapshot: is synchronous; send it as x-oss-process");
    bad("Video/Convert,f_mp4" SAVEAS, INVALID, "a stage must start with an action");
    bad("video/convert!,f_mp4" SAVEAS, INVALID, "is not an action name");
    bad("video/convert,f_" SAVEAS, INVALID, "video/convert: f has an empty value");
    bad("video/convert,f" SAVEAS, INVALID,
        "parameter \"f\" has no value; parameters are written key_value");
    bad("video/convert,_mp4" SAVEAS, INVALID, "parameter \"_mp4\" has no name");
    bad("video/convert,F_mp4" SAVEAS, INVALID, "parameter name \"F\" is not valid");
    bad("video/convert,f_mp4,,vcodec_h264" SAVEAS, INVALID, "empty parameter");
    bad("video/convert,f_mp4," SAVEAS, INVALID, "empty parameter");
    bad("video/convert,f_mp4,f_mkv" SAVEAS, INVALID, "f is given twice");
    /* A '/' that starts no known segment stays in the value (standard Base64 has '/'). */
    bad("video/convert,f_mp4/bogus,x_1" SAVEAS, INVALID, "f \"mp4/bogus\" is not supported");
    bad("video/convert/bogus,f_mp4" SAVEAS, INVALID, "unexpected '/' before \"bogus,f_mp4\"");
    bad("video/convert,f_mp4", MISSING,
        "video/convert: the output is missing; append |sys/saveas,o_<base64 object key>");
    bad("video/convert,f_mp4|", INVALID, "stage 2 is empty (a '|' with nothing after it)");
    bad(SAVEAS, INVALID, "stage 1 is empty (a '|' with nothing before it)");
    bad("video/convert,f_mp4||sys/saveas,o_b3V0L2EuZ2lm", INVALID, "stage 2 is empty");
    /* Parameters split at the first '_': the value keeps its own '_' (here a wrong pixfmt). */
    bad("video/convert,f_mp4,vcodec_h264,pixfmt_yuv_420p" SAVEAS, INVALID,
        "pixfmt \"yuv_420p\" is not supported");
    /* Embedded NUL bytes: the length is what counts. */
    static const char nul[] = "video/convert,f_mp4\0,vcodec_h264" SAVEAS;
    bad_len(nul, sizeof(nul) - 1, INVALID, "contains a NUL byte at offset 19");
    /* Too long, and long but within the limit. */
    size_t n = MC_OSS_PROCESS_MAX + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    bad(big, INVALID, "bytes is too long; allowed: at most 16384");
    assert_int_equal(g_err.rc, MC_ELIMIT);
    memcpy(big, "video/convert,f_mp4,x_", 22);
    big[MC_OSS_PROCESS_MAX] = '\0';
    bad(big, MISSING, "the output is missing");
    for (size_t i = 0; i < MC_OSS_PROCESS_MAX; i++)
        big[i] = i % 4 == 3 ? ',' : 'a' + (char)(i % 3);
    memcpy(big, "video/convert,", 14);
    bad(big, INVALID, "has no value");
    free(big);
    /* Too many parameters and segments. */
    char params[2048] = "video/convert,f_mp4";
    for (int i = 0; i < 45; i++)
        snprintf(params + strlen(params), sizeof(params) - strlen(params), ",p%d_1", i);
    strcat(params, SAVEAS);
    bad(params, INVALID, "more than 40 parameters");
    char segs[2048] = "video/concat,f_mp4";
    for (int i = 0; i < 17; i++)
        strcat(segs, "/sur,o_aW4vaW50cm8ubXA0");
    strcat(segs, SAVEAS);
    bad(segs, INVALID, "more than 16 segments");
    /* A bucket and key are required. */
    json_t *req = NULL;
    mc_err err = {0};
    const char *ok = "video/convert,f_mp4" SAVEAS;
    assert_true(mc_oss_async_to_request(ok, strlen(ok), "", KEY, NULL, &req, NULL, &err) < 0);
    assert_null(req);
    /* Without a project the request has no ProjectName (the route adds the attachment's). */
    assert_int_equal(mc_oss_async_to_request(ok, strlen(ok), BUCKET, KEY, NULL, &req, NULL, &err),
                     0);
    assert_null(json_object_get(req, "ProjectName"));
    json_decref(req);
}

/* ---- the POST body --------------------------------------------------------------------- */

void body(void **state)
{
    (void)state;
    char *s = NULL;
    size_t n = 0;
    mc_err err = {0};
    /* As the Go, Python and C++ SDKs send it: not encoded, standard Base64 '+' kept. */
    const char *raw = "x-oss-async-process=video/convert,f_mp4|sys/saveas,o_ZGlyL8O/w74+Pj8ubXA0";
    assert_int_equal(
        mc_oss_process_from_body(raw, strlen(raw), "x-oss-async-process", &s, &n, &err), 0);
    assert_string_equal(s, "video/convert,f_mp4|sys/saveas,o_ZGlyL8O/w74+Pj8ubXA0");
    assert_int_equal(n, strlen(s));
    free(s);
    /* ali-oss processObjectSave (sdk-wire 3.3): percent-encoded. */
    const char *enc = "x-oss-process=video%2Fsnapshot%2Ct_1000%2Cf_jpg%2Cw_320%7Csys%2Fsaveas%2C"
                      "o_b3V0L3NuYXAuanBn";
    assert_int_equal(mc_oss_process_from_body(enc, strlen(enc), "x-oss-process", &s, &n, &err), 0);
    assert_string_equal(s, "video/snapshot,t_1000,f_jpg,w_320|sys/saveas,o_b3V0L3NuYXAuanBn");
    mc_oss_sync sync;
    assert_int_equal(mc_oss_sync_parse(s, n, &sync, &err), 0);
    assert_string_equal(sync.saveas_key, "out/snap.jpg");
    assert_null(sync.saveas_bucket);
    mc_oss_sync_clear(&sync);
    free(s);
    const char *enc2 = "x-oss-process=image%2Fresize%2Cw_100%7Csys%2Fsaveas%2C"
                       "o_b3V0L3RodW1iIMO8LmpwZw%3D%3D%2Cb_b3RoZXItYnVja2V0";
    assert_int_equal(mc_oss_process_from_body(enc2, strlen(enc2), "x-oss-process", &s, &n, &err),
                     0);
    assert_string_equal(s, "image/resize,w_100|sys/saveas,o_b3V0L3RodW1iIMO8LmpwZw==,"
                           "b_b3RoZXItYnVja2V0");
    assert_true(mc_oss_sync_parse(s, n, &sync, &err) < 0);
    assert_non_null(strstr(err.msg, "unknown action \"image/resize\""));
    free(s);
    /* An encoded async body, through to the request. */
    const char *enc3 = "x-oss-async-process=audio%2Fconvert%2Cf_mp3%2Cab_128000%7Csys%2Fsaveas"
                       "%2Co_ZGlyL8O%2Fw74%2BPj8ubXA0";
    assert_int_equal(
        mc_oss_process_from_body(enc3, strlen(enc3), "x-oss-async-process", &s, &n, &err), 0);
    json_t *r = req_ok(s);
    assert_str_at(r, "Targets[0].URI", "oss://media-bucket/dir/\xc3\xbf\xc3\xbe>>?.mp4");
    json_decref(r);
    free(s);

    mc_err_clear(&err);
    assert_true(mc_oss_process_from_body("video/convert,f_mp4", 19, "x-oss-async-process", &s, &n,
                                         &err) < 0);
    assert_string_equal(err.code, "MissingArgument");
    mc_err_clear(&err);
    assert_true(mc_oss_process_from_body("x-oss-process=a%2", 17, "x-oss-process", &s, &n, &err) <
                0);
    assert_non_null(strstr(err.msg, "bad percent-encoding"));
    mc_err_clear(&err);
    assert_true(mc_oss_process_from_body("x-oss-process=a%00b", 19, "x-oss-process", &s, &n, &err) <
                0);
    assert_true(mc_oss_process_from_body(NULL, 0, "x-oss-process", &s, &n, &err) < 0);
}

/* ---- synchronous x-oss-process --------------------------------------------------------- */

void sync_snapshot(void **state)
{
    (void)state;
    mc_oss_sync s;
    mc_err err = {0};
    const char *a = "video/snapshot,t_7000,f_jpg,w_800,h_600,m_fast";
    assert_int_equal(mc_oss_sync_parse(a, strlen(a), &s, &err), 0);
    assert_int_equal(s.op, MC_OSS_SYNC_SNAPSHOT);
    assert_int_equal(s.time_ms, 7000);
    assert_string_equal(s.format, "jpg");
    assert_int_equal(s.width, 800);
    assert_int_equal(s.height, 600);
    assert_true(s.fast);
    assert_int_equal(s.rotate, MC_OSS_ROTATE_NONE);
    assert_null(s.saveas_key);
    mc_oss_sync_clear(&s);
    const char *b = "video/snapshot,t_50000,f_png,w_800,h_600,ar_auto";
    assert_int_equal(mc_oss_sync_parse(b, strlen(b), &s, &err), 0);
    assert_int_equal(s.time_ms, 50000);
    assert_string_equal(s.format, "png");
    assert_false(s.fast);
    assert_int_equal(s.rotate, MC_OSS_ROTATE_AUTO);
    mc_oss_sync_clear(&s);
    const char *c = "video/snapshot,t_1000,f_jpg,w_800\n";
    assert_int_equal(mc_oss_sync_parse(c, strlen(c), &s, &err), 0);
    assert_int_equal(s.width, 800);
    assert_int_equal(s.height, 0);
    mc_oss_sync_clear(&s);
    const char *d = "video/snapshot,t_0,f_jpg|sys/saveas,o_b3V0L2EuZ2lm,b_b3V0YnVja2V0";
    assert_int_equal(mc_oss_sync_parse(d, strlen(d), &s, &err), 0);
    assert_string_equal(s.saveas_bucket, "outbucket");
    assert_string_equal(s.saveas_key, "out/a.gif");
    mc_oss_sync_clear(&s);
    const char *e = "video/info";
    assert_int_equal(mc_oss_sync_parse(e, strlen(e), &s, &err), 0);
    assert_int_equal(s.op, MC_OSS_SYNC_VIDEO_INFO);
    const char *f = "audio/info";
    assert_int_equal(mc_oss_sync_parse(f, strlen(f), &s, &err), 0);
    assert_int_equal(s.op, MC_OSS_SYNC_AUDIO_INFO);

    static const struct {
        const char *in, *code, *part;
    } bads[] = {
        {"video/snapshot,f_jpg", MISSING, "video/snapshot: t (the time in ms) is required"},
        {"video/snapshot,t_1000", MISSING, "f is required; allowed: jpg, png"},
        {"video/snapshot,t_1000,f_gif", INVALID, "f \"gif\" is not supported; allowed: jpg, png"},
        {"video/snapshot,t_1000,f_jpg,w_5000", INVALID,
         "w 5000 is out of range; allowed: 0 to 4096"},
        {"video/snapshot,t_-1,f_jpg", INVALID, "t -1 is out of range"},
        {"video/snapshot,t_1000,f_jpg,m_slow", INVALID,
         "m \"slow\" is not supported; allowed: fast"},
        {"video/snapshot,t_1000,f_jpg,ar_x", INVALID, "allowed: auto, h, w"},
        {"video/snapshot,t_1000,f_jpg,q_90", INVALID,
         "unknown parameter q; allowed: t, f, w, h, m, ar"},
        {"video/snapshot,t_1000,f_jpg|sys/saveas,b_b3V0YnVja2V0", MISSING, "o (the Base64"},
        {"video/snapshot,t_1000,f_jpg|notify,topic_dG9waWM", INVALID, "allowed: sys/saveas"},
        {"video/info,x_1", INVALID, "unknown parameter x; allowed: none"},
        {"video/info|sys/saveas,o_b3V0L2EuZ2lm", INVALID, "sys/saveas is not allowed"},
        {"video/convert,f_mp4", INVALID, "x-oss-process: unknown action \"video/convert\""},
        {"video/concat,f_mp4/pre,o_YS9iLm1wMw==", INVALID, "/pre segments are only allowed"},
        {"", MISSING, "empty"},
        {"video/", INVALID, "names no operation"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        mc_err_clear(&err);
        memset(&s, 0x5a, sizeof(s));
        if (mc_oss_sync_parse(bads[i].in, strlen(bads[i].in), &s, &err) >= 0)
            fail_msg("\"%s\" was accepted", bads[i].in);
        if (strcmp(err.code, bads[i].code) != 0 || !strstr(err.msg, bads[i].part))
            fail_msg("\"%s\": got %s: %s; want %s: ...%s...", bads[i].in, err.code, err.msg,
                     bads[i].code, bads[i].part);
        assert_null(s.saveas_key); /* zeroed on failure */
    }
}
