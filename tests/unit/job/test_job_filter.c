/* Unit tests of FilterVideo (spec 1.6.2) and the pixel-or-ratio sizes (spec 1.15). */
#include "test_job.h"

static void filter_speed(void **state)
{
    (void)state;
    mc_job *job = job_ok(FV("'Speed':0.75"));
    assert_near(job->targets[0].video.speed, 0.75);
    mc_job_free(&job);
    job = job_ok(FV(""));
    assert_near(job->targets[0].video.speed, 1.0);
    mc_job_free(&job);
    BAD(FV("'Speed':0.3"), P_FV "Speed");
    assert_non_null(strstr(job_last_msg(), "allowed: 0.5 to 1"));
    BAD(FV("'Speed':'fast'"), P_FV "Speed");
    BAD(REQ(MP4(",'Video':{'TranscodeVideo':{'Codec':'h264'},'FilterVideo':[]}")),
        "Targets[0].Video.FilterVideo");
}

static void watermark_text_defaults(void **state)
{
    (void)state;
    mc_job *job = job_ok(WM(""));
    const mc_target_video *v = &job->targets[0].video;
    assert_int_equal(v->n_watermarks, 1);
    const mc_watermark *m = &v->watermarks[0];
    assert_int_equal(m->type, MC_WATERMARK_TEXT);
    assert_null(m->uri);
    assert_string_equal(m->content, "");
    assert_string_equal(m->font_name, "SourceHanSans-Regular");
    assert_int_equal(m->font_size, 16);
    assert_string_equal(m->font_color, "#000000");
    assert_string_equal(m->border_color, "#000000");
    assert_near(m->font_alpha, 1);
    assert_int_equal(m->border_width, 0);
    assert_int_equal(m->refer_pos, MC_REFER_TOPLEFT);
    assert_int_equal(m->dx.kind, MC_DIM_PIXELS);
    assert_near(m->dx.value, 0);
    assert_int_equal(m->width.kind, MC_DIM_UNSET);
    assert_near(m->start_time, 0);
    assert_near(m->duration, 0);
    mc_job_free(&job);
    job = job_ok(FV("'Watermarks':[],'Delogos':[]"));
    assert_int_equal(job->targets[0].video.n_watermarks, 0);
    assert_null(job->targets[0].video.watermarks);
    mc_job_free(&job);
    BAD(FV("'Watermarks':{}"), P_FV "Watermarks");
    BAD(FV("'Watermarks':[{'Type':'text'},'x']"), P_FV "Watermarks[1]");
}

static void watermark_text_fields(void **state)
{
    (void)state;
    mc_job *job = job_ok(WM("'Type':'TEXT','Content':'hello','FontName':'sourcehanserif-bold',"
                            "'FontSize':119,'FontColor':'red','FontApha':0.5,'BorderColor':"
                            "'#FFa000','BorderWidth':4096,'ReferPos':'bottomright','Dx':10,"
                            "'Dy':0.05,'StartTime':1.5,'Duration':3"));
    const mc_watermark *m = &job->targets[0].video.watermarks[0];
    assert_string_equal(m->content, "hello");
    assert_string_equal(m->font_name, "SourceHanSerif-Bold");
    assert_int_equal(m->font_size, 119);
    assert_string_equal(m->font_color, "red");
    assert_near(m->font_alpha, 0.5);
    assert_string_equal(m->border_color, "#FFa000");
    assert_int_equal(m->border_width, 4096);
    assert_int_equal(m->refer_pos, MC_REFER_BOTTOMRIGHT);
    assert_int_equal(m->dx.kind, MC_DIM_PIXELS);
    assert_near(m->dx.value, 10);
    assert_int_equal(m->dy.kind, MC_DIM_RATIO);
    assert_near(m->dy.value, 0.05);
    assert_near(m->start_time, 1.5);
    assert_near(m->duration, 3);
    mc_job_free(&job);
    job = job_ok(WM("'FontSize':5,'FontApha':1,'FontColor':'#000000'"));
    assert_int_equal(job->targets[0].video.watermarks[0].font_size, 5);
    mc_job_free(&job);

    BAD(WM("'FontSize':4"), P_WM "FontSize");
    BAD(WM("'FontSize':120"), P_WM "FontSize");
    assert_non_null(strstr(job_last_msg(), "allowed: 5 to 119"));
    BAD(WM("'FontSize':16.5"), P_WM "FontSize");
    BAD(WM("'FontColor':'#12345'"), P_WM "FontColor");
    assert_non_null(strstr(job_last_msg(), "#RRGGBB"));
    BAD(WM("'FontColor':'#12345G'"), P_WM "FontColor");
    BAD(WM("'BorderColor':'dark red'"), P_WM "BorderColor");
    BAD(WM("'FontApha':0"), P_WM "FontApha");
    BAD(WM("'FontApha':1.01"), P_WM "FontApha");
    BAD(WM("'BorderWidth':4097"), P_WM "BorderWidth");
    BAD(WM("'BorderWidth':-1"), P_WM "BorderWidth");
    BAD(WM("'FontName':'Arial'"), P_WM "FontName");
    assert_non_null(strstr(job_last_msg(), "allowed: SourceHanSans-Regular"));
    BAD(WM("'Type':'image'"), P_WM "Type");
    assert_non_null(strstr(job_last_msg(), "allowed: text, file"));
    BAD(WM("'Content':5"), P_WM "Content");
}

static void watermark_file(void **state)
{
    (void)state;
    mc_job *job = job_ok(WM("'Type':'file','URI':'oss://b/logo.png','Width':0.1,'Content':''"));
    const mc_watermark *m = &job->targets[0].video.watermarks[0];
    assert_int_equal(m->type, MC_WATERMARK_FILE);
    assert_string_equal(m->uri, "oss://b/logo.png");
    assert_null(m->content);
    assert_null(m->font_name);
    assert_int_equal(m->width.kind, MC_DIM_RATIO);
    mc_job_free(&job);
    MISSING(WM("'Type':'file'"), "MissingURI", P_WM "URI");
    MISSING(FV("'Watermarks':[{'Type':'text'},{'Type':'file','URI':''}]"), "MissingURI",
            P_FV "Watermarks[1].URI");
    BAD(WM("'Type':'file','URI':'http://x/logo.png'"), P_WM "URI");
    BAD(WM("'URI':'oss://b/logo.png'"), P_WM "URI");
    assert_non_null(strstr(job_last_msg(), "Type file"));
    BAD(WM("'Type':'file','URI':'oss://b/l.png','FontSize':20"), P_WM "FontSize");
    assert_non_null(strstr(job_last_msg(), "Type text"));
    BAD(WM("'Type':'file','URI':'oss://b/l.png','Content':'x'"), P_WM "Content");
    BAD(WM("'Type':'file','URI':'oss://b/l.png','FontApha':0.5"), P_WM "FontApha");
    BAD(WM("'Type':'file','URI':'oss://b/l.png','BorderColor':'red'"), P_WM "BorderColor");
}

static void watermark_place_and_time(void **state)
{
    (void)state;
    mc_job *job = job_ok(WM("'ReferPos':'TopRight','Height':48,'StartTime':0,'Duration':0"));
    const mc_watermark *m = &job->targets[0].video.watermarks[0];
    assert_int_equal(m->refer_pos, MC_REFER_TOPRIGHT);
    assert_int_equal(m->height.kind, MC_DIM_PIXELS);
    assert_near(m->height.value, 48);
    mc_job_free(&job);
    BAD(WM("'ReferPos':'center'"), P_WM "ReferPos");
    assert_non_null(strstr(job_last_msg(), "allowed: topleft, topright, bottomright, bottomleft"));
    BAD(WM("'StartTime':-1"), P_WM "StartTime");
    BAD(WM("'Duration':-2"), P_WM "Duration");
}

static void sizes(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(WMT("'Width':0.5,'Height':1,'Dx':4096,'Dy':'0'") "," WMT(
        "'Width':100.0,'Height':0.999,'Dx':0.25")));
    const mc_watermark *m = &job->targets[0].video.watermarks[0];
    assert_int_equal(m->width.kind, MC_DIM_RATIO);
    assert_near(m->width.value, 0.5);
    assert_int_equal(m->height.kind, MC_DIM_PIXELS);
    assert_near(m->height.value, 1);
    assert_int_equal(m->dx.kind, MC_DIM_PIXELS);
    assert_near(m->dx.value, 4096);
    assert_int_equal(m->dy.kind, MC_DIM_PIXELS);
    assert_near(m->dy.value, 0);
    m = &job->targets[1].video.watermarks[0];
    assert_int_equal(m->width.kind, MC_DIM_PIXELS);
    assert_near(m->width.value, 100);
    assert_int_equal(m->height.kind, MC_DIM_RATIO);
    assert_int_equal(m->dx.kind, MC_DIM_RATIO);
    mc_job_free(&job);
    BAD(WM("'Width':0"), P_WM "Width");
    assert_non_null(strstr(job_last_msg(), "ratio"));
    BAD(WM("'Width':1.5"), P_WM "Width");
    BAD(WM("'Height':4097"), P_WM "Height");
    BAD(WM("'Dx':-1"), P_WM "Dx");
    BAD(WM("'Dy':-0.5"), P_WM "Dy");
    BAD(WM("'Dy':'left'"), P_WM "Dy");
}

static void delogos(void **state)
{
    (void)state;
    mc_job *job = job_ok(FV("'Delogos':[{},{'ReferPos':'bottomleft','Dx':10,'Dy':0.1,'Width':"
                            "200,'Height':0.2,'StartTime':5,'Duration':10}]"));
    const mc_target_video *v = &job->targets[0].video;
    assert_int_equal(v->n_delogos, 2);
    const mc_delogo *d = &v->delogos[0];
    assert_int_equal(d->refer_pos, MC_REFER_TOPLEFT);
    assert_int_equal(d->dx.kind, MC_DIM_PIXELS);
    assert_near(d->dx.value, 0);
    assert_int_equal(d->width.kind, MC_DIM_RATIO);
    assert_near(d->width.value, 1.0);
    assert_int_equal(d->height.kind, MC_DIM_RATIO);
    assert_near(d->height.value, 1.0);
    d = &v->delogos[1];
    assert_int_equal(d->refer_pos, MC_REFER_BOTTOMLEFT);
    assert_int_equal(d->width.kind, MC_DIM_PIXELS);
    assert_near(d->width.value, 200);
    assert_int_equal(d->height.kind, MC_DIM_RATIO);
    assert_near(d->start_time, 5);
    assert_near(d->duration, 10);
    mc_job_free(&job);
    BAD(FV("'Delogos':[{},{'Height':5000}]"), P_FV "Delogos[1].Height");
    BAD(FV("'Delogos':[{'ReferPos':'middle'}]"), P_FV "Delogos[0].ReferPos");
    BAD(FV("'Delogos':[{'Duration':-1}]"), P_FV "Delogos[0].Duration");
    BAD(FV("'Delogos':[{'StartTime':-1}]"), P_FV "Delogos[0].StartTime");
    BAD(FV("'Delogos':[[]]"), P_FV "Delogos[0]");
}

static void desensitization(void **state)
{
    (void)state;
    mc_job *job = job_ok(FV("'Desensitization':{'Face':{'Confidence':0.8,'MinSize':20,"
                            "'BlurRadius':5},'LicensePlate':{}}"));
    assert_true(job->targets[0].video.has_desensitization);
    mc_job_free(&job);
    job = job_ok(FV("'Desensitization':{}"));
    assert_true(job->targets[0].video.has_desensitization);
    mc_job_free(&job);
    job = job_ok(FV(""));
    assert_false(job->targets[0].video.has_desensitization);
    mc_job_free(&job);
    BAD(FV("'Desensitization':{'Face':{'Confidence':1.5}}"),
        P_FV "Desensitization.Face.Confidence");
    BAD(FV("'Desensitization':{'LicensePlate':{'MinSize':-1}}"),
        P_FV "Desensitization.LicensePlate.MinSize");
    BAD(FV("'Desensitization':{'Face':true}"), P_FV "Desensitization.Face");
    BAD(FV("'Desensitization':'on'"), P_FV "Desensitization");
}

/* BurnSubtitle (extension): a subtitle file or a subtitle stream, drawn into the picture. */
static void burn_subtitle(void **state)
{
    (void)state;
    mc_job *job = job_ok(FV("'BurnSubtitle':{'URI':'oss://b/friday.vtt'}"));
    const mc_target_video *v = &job->targets[0].video;
    assert_true(v->has_burn_subtitle);
    assert_string_equal(v->burn_uri, "oss://b/friday.vtt");
    assert_int_equal(v->burn_stream, -1);
    mc_job_free(&job);
    job = job_ok(FV("'BurnSubtitle':{'Stream':2}"));
    v = &job->targets[0].video;
    assert_true(v->has_burn_subtitle);
    assert_null(v->burn_uri);
    assert_int_equal(v->burn_stream, 2);
    mc_job_free(&job);
    job = job_ok(FV(""));
    assert_false(job->targets[0].video.has_burn_subtitle);
    mc_job_free(&job);
    /* with Codec copy, FilterVideo (BurnSubtitle included) is not read (spec 1.6) */
    job = job_ok(REQ(MP4(",'Video':{'TranscodeVideo':{'Codec':'copy'},'FilterVideo':"
                         "{'BurnSubtitle':{'Stream':-1}}}")));
    assert_false(job->targets[0].video.has_burn_subtitle);
    mc_job_free(&job);

    BAD(FV("'BurnSubtitle':{}"), P_FV "BurnSubtitle");
    assert_non_null(strstr(job_last_msg(), "neither URI nor Stream"));
    BAD(FV("'BurnSubtitle':{'URI':'oss://b/a.srt','Stream':0}"), P_FV "BurnSubtitle");
    assert_non_null(strstr(job_last_msg(), "allowed: one of them"));
    BAD(FV("'BurnSubtitle':{'URI':'http://x/a.srt'}"), P_FV "BurnSubtitle.URI");
    assert_non_null(strstr(job_last_msg(), "allowed: oss://bucket/key"));
    MISSING(FV("'BurnSubtitle':{'URI':''}"), "MissingURI", P_FV "BurnSubtitle.URI");
    BAD(FV("'BurnSubtitle':{'Stream':-1}"), P_FV "BurnSubtitle.Stream");
    assert_non_null(strstr(job_last_msg(), "allowed: 0 to 100"));
    BAD(FV("'BurnSubtitle':{'Stream':'two'}"), P_FV "BurnSubtitle.Stream");
    BAD(FV("'BurnSubtitle':{'Stream':1.5}"), P_FV "BurnSubtitle.Stream");
    BAD(FV("'BurnSubtitle':'oss://b/a.srt'"), P_FV "BurnSubtitle");
}

int test_job_filter(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filter_speed),
        cmocka_unit_test(watermark_text_defaults),
        cmocka_unit_test(watermark_text_fields),
        cmocka_unit_test(watermark_file),
        cmocka_unit_test(watermark_place_and_time),
        cmocka_unit_test(sizes),
        cmocka_unit_test(delogos),
        cmocka_unit_test(desensitization),
        cmocka_unit_test(burn_subtitle),
    };
    return cmocka_run_group_tests_name("job: video filters", tests, NULL, NULL);
}
