/* Unit tests of Targets[].Image: Snapshots, Sprites and Animations (spec 1.9). */
#include "test_job.h"

#define IMG(x)        REQ("{'Image':{" x "}}")
#define SNAPF(fmt, f) IMG("'Snapshots':[{'Format':'" fmt "','URI':'oss://b/s/{index}.jpg'" f "}]")
#define SPRITEF(fmt, f)                                                                            \
    IMG("'Sprites':[{'Format':'" fmt "','URI':'oss://b/sprite/{index}.{autoext}'" f "}]")
#define ANIMF(fmt, f) IMG("'Animations':[{'Format':'" fmt "','URI':'oss://b/a.{autoext}'" f "}]")
#define SNAP(f)       SNAPF("jpg", f)
#define SPRITE(f)     SPRITEF("jpg", f)
#define ANIM(f)       ANIMF("gif", f)

#define P_SNAP   "Targets[0].Image.Snapshots[0]."
#define P_SPRITE "Targets[0].Image.Sprites[0]."
#define P_ANIM   "Targets[0].Image.Animations[0]."

#define assert_msg_has(text) assert_non_null(strstr(job_last_msg(), text))

static void assert_dim(mc_dim d, enum mc_dim_kind kind, double value)
{
    assert_int_equal(d.kind, kind);
    assert_near(d.value, value);
}

/* The first image of the only target of a request that must parse; the caller frees job. */
static const mc_image *first_image(const char *request, mc_job **job)
{
    *job = job_ok(request);
    assert_int_equal((*job)->n_targets, 1);
    assert_true((*job)->targets[0].has_image);
    assert_true((*job)->targets[0].n_images >= 1);
    return &(*job)->targets[0].images[0];
}

static void order_kinds_and_defaults(void **state)
{
    (void)state;
    /* Written Animations first: stored Snapshots, then Sprites, then Animations. */
    mc_job *job = job_ok(IMG("'Animations':[{'Format':'gif','URI':'oss://b/a0.gif'},"
                             "{'Format':'webp','URI':'oss://b/a1.webp'}],"
                             "'Sprites':[{'Format':'png','URI':'oss://b/sp.png'}],"
                             "'Snapshots':[{'Format':'jpg','URI':'oss://b/s0.jpg'},"
                             "{'Format':'png','URI':'oss://b/s1.png'}]"));
    const mc_target *t = &job->targets[0];
    assert_null(t->uri);
    assert_true(t->has_image);
    assert_int_equal(t->n_images, 5);
    static const enum mc_image_kind kinds[] = {MC_IMAGE_SNAPSHOT, MC_IMAGE_SNAPSHOT,
                                               MC_IMAGE_SPRITE, MC_IMAGE_ANIMATION,
                                               MC_IMAGE_ANIMATION};
    static const int indexes[] = {0, 1, 0, 0, 1};
    static const enum mc_image_format formats[] = {MC_IMAGE_JPG, MC_IMAGE_PNG, MC_IMAGE_PNG,
                                                   MC_IMAGE_GIF, MC_IMAGE_WEBP};
    static const char *const uris[] = {"oss://b/s0.jpg", "oss://b/s1.png", "oss://b/sp.png",
                                       "oss://b/a0.gif", "oss://b/a1.webp"};
    for (size_t i = 0; i < t->n_images; i++) {
        const mc_image *im = &t->images[i];
        assert_int_equal(im->kind, kinds[i]);
        assert_int_equal(im->index, indexes[i]);
        assert_int_equal(im->format, formats[i]);
        assert_string_equal(im->uri, uris[i]);
        assert_near(im->start_time, 0);
        assert_near(im->interval, 0);
        assert_int_equal(im->number, 0);
        assert_int_equal(im->mode, MC_SAMPLE_INTERVAL);
        assert_int_equal(im->threshold, 0);
        assert_int_equal(im->scale_type, MC_SCALE_STRETCH);
        assert_near(im->frame_rate, 0);
        assert_int_equal(im->quality, 0);
        assert_false(im->lossless);
        assert_false(im->allow_mixed);
    }
    /* Snapshots and animations: the source's size; sprites: full-size tiles, 6x6, 2 px. */
    assert_int_equal(t->images[0].width.kind, MC_DIM_UNSET);
    assert_int_equal(t->images[4].height.kind, MC_DIM_UNSET);
    const mc_image *sp = &t->images[2];
    assert_dim(sp->width, MC_DIM_RATIO, 1.0);
    assert_dim(sp->height, MC_DIM_RATIO, 1.0);
    assert_int_equal(sp->tile_w, 6);
    assert_int_equal(sp->tile_h, 6);
    assert_int_equal(sp->pad, 2);
    assert_int_equal(sp->margin, 2);
    assert_int_equal(t->images[0].tile_w, 0);
    mc_job_free(&job);
}

static void image_next_to_container(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4(",'Image':{'Sprites':[{'Format':'webp','URI':'oss://b/s.webp',"
                                 "'Interval':10}],'Snapshots':[]}")));
    const mc_target *t = &job->targets[0];
    assert_string_equal(t->uri, "oss://b/out");
    assert_int_equal(t->n_images, 1);
    assert_int_equal(t->images[0].kind, MC_IMAGE_SPRITE);
    assert_int_equal(t->images[0].index, 0);
    assert_near(t->images[0].interval, 10);
    mc_job_free(&job);
}

static void empty_arrays_are_not_set(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4(",'Image':{'Snapshots':[],'Sprites':[],'Animations':[]}")));
    assert_false(job->targets[0].has_image);
    assert_int_equal(job->targets[0].n_images, 0);
    assert_null(job->targets[0].images);
    mc_job_free(&job);
    job = job_ok(REQ(MP4(",'Image':{}")));
    assert_false(job->targets[0].has_image);
    mc_job_free(&job);
    job = job_ok(IMG("'Snapshots':[],'Sprites':null,'Animations':[{'Format':'gif','URI':"
                     "'oss://b/a.gif'}]"));
    assert_int_equal(job->targets[0].n_images, 1);
    assert_int_equal(job->targets[0].images[0].kind, MC_IMAGE_ANIMATION);
    assert_int_equal(job->targets[0].images[0].index, 0);
    mc_job_free(&job);
    /* Nothing at all to produce is still refused. */
    BAD(IMG("'Snapshots':[],'Sprites':[],'Animations':[]"), "Targets[0]");
    assert_msg_has("nothing to produce");
    BAD(IMG("'Snapshots':[7]"), "Targets[0].Image.Snapshots[0]");
    BAD(IMG("'Animations':'x'"), "Targets[0].Image.Animations");
}

/* The Python SDK's shrunk Targets with every list present. */
static void shrunk_targets(void **state)
{
    (void)state;
    mc_job *job = job_ok("{'ProjectName':'p'," SRC1 ",'Targets':'[{`Image`:{`Snapshots`:[{"
                         "`Format`:`png`,`URI`:`oss://b/s/{index}.png`,`Interval`:0.5,"
                         "`Width`:0.5,`Number`:3}],`Sprites`:[],`Animations`:[]}}]'}");
    const mc_image *im = &job->targets[0].images[0];
    assert_int_equal(job->targets[0].n_images, 1);
    assert_int_equal(im->format, MC_IMAGE_PNG);
    assert_string_equal(im->uri, "oss://b/s/{index}.png");
    assert_near(im->interval, 0.5);
    assert_int_equal(im->number, 3);
    assert_dim(im->width, MC_DIM_RATIO, 0.5);
    mc_job_free(&job);
    BAD("{'ProjectName':'p'," SRC1 ",'Targets':'[{`Image`:{`Animations`:[{`Format`:`gif`,"
        "`URI`:`oss://b/a.gif`,`FrameRate`:500}]}}]'}",
        P_ANIM "FrameRate");
}

static void formats(void **state)
{
    (void)state;
    mc_job *job;
    assert_int_equal(first_image(SNAPF("jpeg", ""), &job)->format, MC_IMAGE_JPG);
    mc_job_free(&job);
    assert_int_equal(first_image(SNAPF("PNG", ""), &job)->format, MC_IMAGE_PNG);
    mc_job_free(&job);
    assert_int_equal(first_image(SPRITEF("JPEG", ""), &job)->format, MC_IMAGE_JPG);
    mc_job_free(&job);
    assert_int_equal(first_image(ANIMF("WebP", ""), &job)->format, MC_IMAGE_WEBP);
    mc_job_free(&job);

    BAD(SNAPF("bmp", ""), P_SNAP "Format");
    assert_msg_has("\"bmp\" is not supported for Snapshots; allowed: jpg, png, webp");
    BAD(SPRITEF("gif", ""), P_SPRITE "Format");
    assert_msg_has("allowed: jpg, png, webp");
    BAD(ANIMF("jpg", ""), P_ANIM "Format");
    assert_msg_has("allowed: gif, webp");
    BAD(ANIMF("png", ""), P_ANIM "Format");
    BAD(SNAPF("jpg", ",'Format':7"), P_SNAP "Format");
    MISSING(IMG("'Snapshots':[{'URI':'oss://b/s.jpg'}]"), "MissingFormat", P_SNAP "Format");
    MISSING(IMG("'Sprites':[{'Format':'jpg'}]"), "MissingURI", P_SPRITE "URI");
    MISSING(IMG("'Animations':[{'Format':'gif','URI':''}]"), "MissingURI", P_ANIM "URI");
    BAD(IMG("'Snapshots':[{'Format':'jpg','URI':'http://b/s.jpg'}]"), P_SNAP "URI");
    assert_msg_has("allowed: oss://bucket/key, file:///path");
}

static void sampling(void **state)
{
    (void)state;
    mc_job *job;
    const mc_image *im = first_image(
        SNAP(",'StartTime':'1.5','Interval':0.25,'Number':100000,'ScaleType':'FIT'"), &job);
    assert_near(im->start_time, 1.5);
    assert_near(im->interval, 0.25);
    assert_int_equal(im->number, 100000);
    assert_int_equal(im->scale_type, MC_SCALE_FIT);
    mc_job_free(&job);
    im = first_image(ANIM(",'Number':10.0,'ScaleType':'crop'"), &job);
    assert_int_equal(im->number, 10);
    assert_int_equal(im->scale_type, MC_SCALE_CROP);
    mc_job_free(&job);

    BAD(SNAP(",'Interval':-1"), P_SNAP "Interval");
    assert_msg_has("-1 is out of range; allowed: greater than 0 and at most 10000000");
    BAD(SPRITE(",'Interval':0"), P_SPRITE "Interval");
    assert_msg_has("0 is out of range; allowed: greater than 0");
    BAD(ANIM(",'Interval':1e8"), P_ANIM "Interval");
    BAD(SNAP(",'StartTime':-0.5"), P_SNAP "StartTime");
    assert_msg_has("allowed: 0 to 10000000");
    BAD(SNAP(",'Number':-1"), P_SNAP "Number");
    assert_msg_has("-1 is out of range; allowed: 0 to 100000");
    BAD(ANIM(",'Number':100001"), P_ANIM "Number");
    BAD(SPRITE(",'Number':2.5"), P_SPRITE "Number");
    assert_msg_has("must be an integer");
    BAD(SNAP(",'ScaleType':'bogus'"), P_SNAP "ScaleType");
    assert_msg_has("\"bogus\" is not supported; allowed: stretch, crop, fill, fit");
}

static void snapshot_and_animation_sizes(void **state)
{
    (void)state;
    mc_job *job;
    const mc_image *im = first_image(SNAP(",'Width':0.5,'Height':1"), &job);
    assert_dim(im->width, MC_DIM_RATIO, 0.5);
    assert_dim(im->height, MC_DIM_PIXELS, 1);
    mc_job_free(&job);
    /* One side alone: the other follows the aspect ratio. */
    im = first_image(ANIM(",'Width':320.0"), &job);
    assert_dim(im->width, MC_DIM_PIXELS, 320);
    assert_int_equal(im->height.kind, MC_DIM_UNSET);
    mc_job_free(&job);
    im = first_image(ANIM(",'Height':32,'Width':4096"), &job);
    assert_dim(im->height, MC_DIM_PIXELS, 32);
    assert_dim(im->width, MC_DIM_PIXELS, 4096);
    mc_job_free(&job);

    BAD(ANIM(",'Width':10"), P_ANIM "Width");
    assert_msg_has("10 is not a valid size; allowed: a ratio greater than 0 and less than 1, or "
                   "whole pixels from 32 to 4096");
    BAD(ANIM(",'Height':31"), P_ANIM "Height");
    BAD(SNAP(",'Width':4097"), P_SNAP "Width");
    assert_msg_has("whole pixels from 1 to 4096");
    BAD(SNAP(",'Height':1.5"), P_SNAP "Height");
    BAD(SNAP(",'Width':0"), P_SNAP "Width");
    BAD(SNAP(",'Width':-0.5"), P_SNAP "Width");
    BAD(SNAP(",'Width':'wide'"), P_SNAP "Width");
}

static void sprites(void **state)
{
    (void)state;
    mc_job *job;
    const mc_image *im = first_image(SPRITE(",'ScaleWidth':1,'ScaleHeight':0.25,'TileWidth':10,"
                                            "'TileHeight':1,'Pad':0,'Margin':256"),
                                     &job);
    assert_dim(im->width, MC_DIM_RATIO, 1.0);
    assert_dim(im->height, MC_DIM_RATIO, 0.25);
    assert_int_equal(im->tile_w, 10);
    assert_int_equal(im->tile_h, 1);
    assert_int_equal(im->pad, 0);
    assert_int_equal(im->margin, 256);
    mc_job_free(&job);
    im = first_image(SPRITE(",'ScaleWidth':2,'ScaleHeight':180.0"), &job);
    assert_dim(im->width, MC_DIM_PIXELS, 2);
    assert_dim(im->height, MC_DIM_PIXELS, 180);
    assert_int_equal(im->tile_w, 6);
    mc_job_free(&job);

    BAD(SPRITE(",'ScaleWidth':1.5"), P_SPRITE "ScaleWidth");
    assert_msg_has("allowed: a ratio greater than 0 and at most 1, or whole pixels from 2 to "
                   "4096");
    BAD(SPRITE(",'ScaleHeight':0"), P_SPRITE "ScaleHeight");
    BAD(SPRITE(",'ScaleHeight':4097"), P_SPRITE "ScaleHeight");
    BAD(SPRITE(",'TileWidth':0"), P_SPRITE "TileWidth");
    assert_msg_has("allowed: 1 to 100");
    BAD(SPRITE(",'TileHeight':101"), P_SPRITE "TileHeight");
    BAD(SPRITE(",'Pad':257"), P_SPRITE "Pad");
    assert_msg_has("allowed: 0 to 256");
    BAD(SPRITE(",'Margin':-1"), P_SPRITE "Margin");
}

static void sprite_sheet_size(void **state)
{
    (void)state;
    mc_job *job;
    /* 0*2 + 4*4096 + 3*0 = 16384: the largest jpg sheet, one pixel too many for WebP. */
    const char *fits = ",'ScaleWidth':4096,'ScaleHeight':4096,'TileWidth':4,'TileHeight':4,"
                       "'Pad':0,'Margin':0";
    char *req = job_text(SPRITE("%s"), fits);
    first_image(req, &job);
    free(req);
    mc_job_free(&job);
    req = job_text(SPRITEF("webp", "%s"), fits);
    BAD(req, P_SPRITE "TileWidth");
    free(req);
    assert_msg_has("allowed: Margin*2 + TileWidth*ScaleWidth + (TileWidth-1)*Pad at most 16383 "
                   "(the largest WebP picture)");

    /* 2*2 + 50*400 + 49*2 = 20102 px wide. */
    BAD(SPRITE(",'ScaleWidth':400,'ScaleHeight':300,'TileWidth':50"), P_SPRITE "TileWidth");
    assert_msg_has("50 tiles of 400 px with Pad 2 and Margin 2 make a sheet 20102 px wide; "
                   "allowed: Margin*2 + TileWidth*ScaleWidth + (TileWidth-1)*Pad at most 16384");
    /* The default 6 rows of 4096 px: 2*2 + 6*4096 + 5*2 = 24590 px high. */
    BAD(SPRITE(",'ScaleWidth':100,'ScaleHeight':4096"), P_SPRITE "TileHeight");
    assert_msg_has("make a sheet 24590 px high");
    assert_msg_has("TileHeight*ScaleHeight");
    /* A side in pixels is checked even when the other one is a ratio. */
    BAD(SPRITE(",'ScaleWidth':4000"), P_SPRITE "TileWidth");
    /* Ratios depend on the source: not checked here. */
    job = job_ok(SPRITE(",'ScaleWidth':1,'ScaleHeight':1,'TileWidth':100,'TileHeight':100"));
    mc_job_free(&job);
}

static void modes_and_threshold(void **state)
{
    (void)state;
    mc_job *job;
    const mc_image *im = first_image(SNAP(",'Mode':'DHash','Threshold':25"), &job);
    assert_int_equal(im->mode, MC_SAMPLE_DHASH);
    assert_int_equal(im->threshold, 25);
    mc_job_free(&job);
    im = first_image(SPRITE(",'Mode':'average','Number':36,'Interval':3"), &job);
    assert_int_equal(im->mode, MC_SAMPLE_AVERAGE);
    assert_int_equal(im->number, 36);
    mc_job_free(&job);
    im = first_image(SPRITE(",'Mode':'keyframe','Threshold':0"), &job);
    assert_int_equal(im->mode, MC_SAMPLE_KEYFRAME);
    mc_job_free(&job);
    /* Animations have no Mode: like any unknown key it is ignored. */
    im = first_image(ANIM(",'Mode':'bogus','Threshold':'x'"), &job);
    assert_int_equal(im->mode, MC_SAMPLE_INTERVAL);
    assert_int_equal(im->threshold, 0);
    mc_job_free(&job);

    BAD(SNAP(",'Threshold':10"), P_SNAP "Threshold");
    assert_msg_has("10 is only used with Mode dhash, not interval");
    BAD(SPRITE(",'Mode':'keyframe','Threshold':5"), P_SPRITE "Threshold");
    assert_msg_has("only used with Mode dhash");
    BAD(SNAP(",'Mode':'dhash','Threshold':101"), P_SNAP "Threshold");
    assert_msg_has("allowed: 0 to 100");
    BAD(SNAP(",'Mode':'average'"), P_SNAP "Number");
    assert_msg_has("is required with Mode average");
    assert_msg_has("allowed: 1 to 100000");
    BAD(SPRITE(",'Mode':'average','Number':0"), P_SPRITE "Number");
    BAD(SNAP(",'Mode':'scene'"), P_SNAP "Mode");
    assert_msg_has("allowed: interval, keyframe, average, dhash");
}

static void animation_frame_rate(void **state)
{
    (void)state;
    mc_job *job;
    assert_near(first_image(ANIM(",'FrameRate':12.5,'Interval':0.5"), &job)->frame_rate, 12.5);
    mc_job_free(&job);
    assert_near(first_image(ANIM(",'FrameRate':240"), &job)->frame_rate, 240);
    mc_job_free(&job);
    BAD(ANIM(",'FrameRate':500"), P_ANIM "FrameRate");
    assert_msg_has("500 is out of range; allowed: greater than 0 and at most 240");
    BAD(ANIM(",'FrameRate':0"), P_ANIM "FrameRate");
    /* The path of a later element of a later target. */
    BAD(REQ(MP4("") ",{'Image':{'Animations':[{'Format':'gif','URI':'oss://b/a.gif'},"
                    "{'Format':'gif','URI':'oss://b/b.gif','FrameRate':500}]}}"),
        "Targets[1].Image.Animations[1].FrameRate");
}

static void encoder_extensions(void **state)
{
    (void)state;
    mc_job *job;
    assert_int_equal(first_image(SNAP(",'Quality':1"), &job)->quality, 1);
    mc_job_free(&job);
    const mc_image *im = first_image(SNAPF("webp", ",'Lossless':true,'Quality':100"), &job);
    assert_true(im->lossless);
    assert_int_equal(im->quality, 100);
    mc_job_free(&job);
    im = first_image(ANIMF("webp", ",'AllowMixed':'true','Quality':60"), &job);
    assert_true(im->allow_mixed);
    assert_false(im->lossless);
    mc_job_free(&job);
    assert_int_equal(first_image(ANIM(",'Quality':90,'Lossless':false"), &job)->quality, 90);
    mc_job_free(&job);

    BAD(SNAP(",'Quality':0"), P_SNAP "Quality");
    assert_msg_has("0 is out of range; allowed: 1 to 100");
    BAD(ANIM(",'Quality':101"), P_ANIM "Quality");
    assert_msg_has("101 is out of range; allowed: 1 to 100");
    BAD(SNAP(",'Lossless':true"), P_SNAP "Lossless");
    assert_msg_has("only allowed with Format webp, not jpg");
    BAD(ANIM(",'Lossless':true"), P_ANIM "Lossless");
    BAD(SNAPF("webp", ",'Lossless':'sure'"), P_SNAP "Lossless");
    BAD(ANIM(",'AllowMixed':true"), P_ANIM "AllowMixed");
    assert_msg_has("only allowed on Animations with Format webp");
    BAD(SPRITEF("webp", ",'AllowMixed':true"), P_SPRITE "AllowMixed");
    BAD(ANIMF("webp", ",'AllowMixed':true,'Lossless':true"), P_ANIM "AllowMixed");
    assert_msg_has("cannot be combined with Lossless true");
}

/* At most 64 image outputs per target, all kinds together. */
static void image_limit(void **state)
{
    (void)state;
    mc_buf snaps = {0}, anims = {0};
    for (int i = 0; i < 32; i++) {
        mc_buf_printf(&snaps, "%s{'Format':'jpg','URI':'oss://b/s%d.jpg'}", i ? "," : "", i);
        mc_buf_printf(&anims, "%s{'Format':'gif','URI':'oss://b/a%d.gif'}", i ? "," : "", i);
    }
    char *s = mc_buf_steal(&snaps), *a = mc_buf_steal(&anims);
    char *req = job_text(IMG("'Snapshots':[%s],'Animations':[%s]"), s, a);
    mc_job *job = job_ok(req);
    free(req);
    const mc_target *t = &job->targets[0];
    assert_int_equal(t->n_images, 64);
    assert_int_equal(t->images[63].kind, MC_IMAGE_ANIMATION);
    assert_int_equal(t->images[63].index, 31);
    assert_string_equal(t->images[63].uri, "oss://b/a31.gif");
    mc_job_free(&job);
    req = job_text(IMG("'Snapshots':[%s],'Sprites':[{'Format':'png','URI':'oss://b/x.png'}],"
                       "'Animations':[%s]"),
                   s, a);
    LIMIT(req, "Targets[0].Image");
    free(req);
    assert_msg_has("65 image outputs are more than the limit; allowed: at most 64");
    /* A failure after some images were read leaves nothing behind (ASan checks). */
    req = job_text(IMG("'Snapshots':[%s],'Animations':[{'Format':'gif','URI':'oss://b/x.gif',"
                       "'Width':5}]"),
                   s);
    BAD(req, P_ANIM "Width");
    free(req);
    free(s);
    free(a);
}

int test_job_image(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_kinds_and_defaults),
        cmocka_unit_test(image_next_to_container),
        cmocka_unit_test(empty_arrays_are_not_set),
        cmocka_unit_test(shrunk_targets),
        cmocka_unit_test(formats),
        cmocka_unit_test(sampling),
        cmocka_unit_test(snapshot_and_animation_sizes),
        cmocka_unit_test(sprites),
        cmocka_unit_test(sprite_sheet_size),
        cmocka_unit_test(modes_and_threshold),
        cmocka_unit_test(animation_frame_rate),
        cmocka_unit_test(encoder_extensions),
        cmocka_unit_test(image_limit),
    };
    return cmocka_run_group_tests_name("job: image outputs", tests, NULL, NULL);
}
