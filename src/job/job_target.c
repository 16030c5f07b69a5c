/* Target and TargetGroup (spec 1.4, 1.5, 1.8). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "mc_str.h"

static const char *const segment_formats[] = {"hls", "dash", NULL};
/* ExtractSubtitle.Format; "vtt" is stored as "webvtt". */
static const char *const subtitle_formats[] = {"ass", "srt", "webvtt", "vtt", NULL};

void job_target_init(mc_target *t)
{
    t->speed = 1.0;
    t->video.speed = 1.0;
    t->video.transcode.crf = 23;
    t->video.transcode.gop_size = 150;
    t->video.transcode.bframes = 3;
    t->video.transcode.refs = 2;
    t->audio.transcode.quality = -1;
}

static int read_container(jr *r, const json_t *v, bool in_group, enum mc_container *out)
{
    char allowed[160];
    const char *s = NULL;
    enum mc_container c;
    int rc = jr_str(r, v, "Container", &s);
    if (rc <= 0)
        return rc;
    if (!mc_container_from_name(s, &c)) {
        const char *names[MC_CONTAINER__COUNT];
        size_t n = 0;
        for (int i = MC_CONTAINER_NONE + 1; i < MC_CONTAINER__COUNT; i++)
            names[n++] = mc_container_name((enum mc_container)i);
        names[n] = NULL;
        jr_names_text(names, allowed, sizeof(allowed));
        return jr_invalid_at(r, "Container", "\"%s\" is not supported; allowed: %s", s, allowed);
    }
    if (in_group && c != MC_CONTAINER_MP4 && c != MC_CONTAINER_TS)
        return jr_invalid_at(r, "Container",
                             "%s is not supported in a TargetGroup; allowed: mp4, ts", s);
    *out = c;
    return 1;
}

/* A variant's URI must lie in the group's folder or below it, without "..". */
static int check_in_group_dir(jr *r, const char *key, const char *uri, const char *dir)
{
    size_t n = strlen(dir);
    const char *rest = uri + n;
    if (strncmp(uri, dir, n) != 0 || *rest == '\0' || strstr(rest, "/../") ||
        mc_str_starts_with(rest, "../") || mc_str_ends_with(rest, "/.."))
        return jr_invalid_at(r, key,
                             "\"%s\" is not inside the TargetGroup's folder; allowed: "
                             "a URI starting with %s",
                             uri, dir);
    return 0;
}

static int read_segment(jr *r, const json_t *v, enum mc_container c, const job_ctx *ctx,
                        mc_target *t)
{
    json_t *seg;
    int e, rc = jr_object(r, v, "Segment", &seg);
    if (rc <= 0)
        return ctx->in_group ? jr_require(r, rc, "Segment") : rc;
    mc_segment *s = &t->segment;
    size_t mark = jr_enter(r, "Segment");
    if ((rc = jr_require(r, jr_enum(r, seg, "Format", segment_formats, &e), "Format")) < 0)
        goto out;
    s->format = (enum mc_segment_format)e;
    if (ctx->in_group && s->format != MC_SEGMENT_HLS) {
        rc = jr_invalid_at(r, "Format", "dash is not supported in a TargetGroup; allowed: hls");
        goto out;
    }
    if (s->format == MC_SEGMENT_HLS && c != MC_CONTAINER_TS && c != MC_CONTAINER_MP4) {
        rc = jr_invalid_at(r, "Format", "hls needs Container ts or mp4, not %s",
                           mc_container_name(c));
        goto out;
    }
    if (s->format == MC_SEGMENT_DASH && c != MC_CONTAINER_MP4 && c != MC_CONTAINER_WEBM) {
        rc = jr_invalid_at(r, "Format", "dash needs Container mp4 or webm, not %s",
                           mc_container_name(c));
        goto out;
    }
    rc = jr_num(r, seg, "Duration", (jr_range){0, MC_JOB_MAX_SECONDS, true, false}, &s->duration);
    if ((rc = jr_require(r, rc, "Duration")) < 0)
        goto out;
    if ((rc = jr_int(r, seg, "StartNumber", 0, INT32_MAX, &s->start_number)) < 0)
        goto out;
    if (s->start_number && s->format == MC_SEGMENT_DASH) {
        rc =
            jr_invalid_at(r, "StartNumber", "only meaningful for Format hls; allowed with dash: 0");
        goto out;
    }
    t->has_segment = true;
    rc = 1;
out:
    jr_leave(r, mark);
    return rc;
}

static int read_subtitle(jr *r, const json_t *v, const job_ctx *ctx, mc_target *t)
{
    json_t *sub, *ex;
    int e = 0, rc = jr_object(r, v, "Subtitle", &sub);
    if (rc <= 0)
        return rc;
    mc_target_subtitle *s = &t->subtitle;
    t->has_subtitle = true;
    size_t mark = jr_enter(r, "Subtitle");
    if ((rc = jr_bool(r, sub, "DisableSubtitle", &s->disable)) < 0)
        goto out;
    if ((rc = jr_streams(r, sub, "Stream", 0, &s->stream)) < 0)
        goto out;
    if ((rc = jr_object(r, sub, "ExtractSubtitle", &ex)) < 0)
        goto out;
    if (rc == 0) {
        if (ctx->in_group && !s->disable)
            rc = jr_invalid(r, "in a TargetGroup subtitles are packaged only through "
                               "ExtractSubtitle; allowed: ExtractSubtitle with Format vtt");
        goto out;
    }
    size_t emark = jr_enter(r, "ExtractSubtitle");
    rc = jr_require(r, jr_enum(r, ex, "Format", subtitle_formats, &e), "Format");
    if (rc > 0 && ctx->in_group && e != 2 && e != 3)
        rc =
            jr_invalid_at(r, "Format", "%s is not supported in a TargetGroup; allowed: vtt, webvtt",
                          subtitle_formats[e]);
    if (rc > 0 && !(s->extract_format = mc_strdup(subtitle_formats[e == 3 ? 2 : e])))
        rc = jr_nomem(r);
    if (rc > 0)
        rc = jr_require(r, jr_uri(r, ex, "URI", &s->extract_uri), "URI");
    if (rc > 0 && ctx->in_group)
        rc = check_in_group_dir(r, "URI", s->extract_uri, ctx->group_dir);
    jr_leave(r, emark);
    if (rc >= 0)
        s->has_extract = true;
out:
    jr_leave(r, mark);
    return rc;
}

/* Image: Snapshots, Sprites and Animations (job_image.c); has_image only when one is given. */
static int read_image(jr *r, const json_t *v, mc_target *t)
{
    json_t *img;
    int rc = jr_object(r, v, "Image", &img);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, "Image");
    rc = job_parse_images(r, img, t);
    jr_leave(r, mark);
    return rc;
}

/* Data / AttachedPicture: {Stream: int[]} with -1 = all; an empty Stream keeps none. */
static int read_kept_streams(jr *r, const json_t *v, const char *key, mc_streams *out, bool *has)
{
    json_t *obj;
    int rc = jr_object(r, v, key, &obj);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, key);
    rc = jr_streams(r, obj, "Stream", -1, out);
    jr_leave(r, mark);
    if (rc > 0)
        *has = true;
    return rc;
}

static int read_extras(jr *r, const json_t *v, enum mc_container c, mc_target *t)
{
    int rc;
    if ((rc = read_image(r, v, t)) < 0)
        return rc;
    if ((rc = read_kept_streams(r, v, "Data", &t->data, &t->has_data)) < 0)
        return rc;
    if (t->has_data && c != MC_CONTAINER_MP4)
        return jr_invalid_at(r, "Data", "only allowed with Container mp4, not %s",
                             c ? mc_container_name(c) : "none");
    rc = read_kept_streams(r, v, "AttachedPicture", &t->attached_picture, &t->has_attached_picture);
    if (rc < 0)
        return rc;
    if (t->has_attached_picture && c != MC_CONTAINER_MP4 && c != MC_CONTAINER_MKV)
        return jr_invalid_at(r, "AttachedPicture", "only allowed with Container mp4 or mkv, not %s",
                             c ? mc_container_name(c) : "none");
    return 0;
}

/* URI, Container and, in a group, where the URI lies. */
static int read_output(jr *r, const json_t *v, const job_ctx *ctx, mc_target *t)
{
    int rc;
    enum mc_container c = MC_CONTAINER_NONE;
    if ((rc = jr_uri(r, v, "URI", &t->uri)) < 0)
        return rc;
    if (ctx->in_group && (rc = jr_require(r, rc, "URI")) < 0)
        return rc;
    if ((rc = read_container(r, v, ctx->in_group, &c)) < 0)
        return rc;
    if (ctx->in_group && (rc = jr_require(r, rc, "Container")) < 0)
        return rc;
    char here[JR_PATH_MAX];
    snprintf(here, sizeof(here), "%s", r->path);
    if (t->uri && c == MC_CONTAINER_NONE)
        return jr_invalid_at(r, "Container",
                             "is required when %s.URI is given (URI and "
                             "Container must be given together)",
                             here);
    if (!t->uri && c != MC_CONTAINER_NONE)
        return jr_invalid_at(r, "URI",
                             "is required when %s.Container is given (URI and "
                             "Container must be given together)",
                             here);
    t->container = c;
    if (ctx->in_group)
        return check_in_group_dir(r, "URI", t->uri, ctx->group_dir);
    return 0;
}

/* Video, Audio: parse, or when omitted, make sure copying is possible. */
static int read_streams(jr *r, const json_t *v, const job_ctx *ctx, mc_target *t)
{
    json_t *obj;
    size_t mark;
    int rc;
    enum mc_container c = t->container;
    if ((rc = jr_object(r, v, "Video", &obj)) < 0)
        return rc;
    if (rc > 0) {
        t->has_video = true;
        mark = jr_enter(r, "Video");
        rc = job_parse_video(r, obj, c, ctx, &t->video);
        jr_leave(r, mark);
        if (rc < 0)
            return rc;
    } else if (ctx->n_concat > 1 && !mc_container_is_audio_only(c)) {
        return jr_invalid_at(r, "Video",
                             "an omitted Video copies the video stream, and copy cannot be used "
                             "when concatenating %zu sources; set Video.TranscodeVideo.Codec or "
                             "Video.DisableVideo",
                             ctx->n_concat);
    }
    if ((rc = jr_object(r, v, "Audio", &obj)) < 0)
        return rc;
    if (rc > 0) {
        t->has_audio = true;
        mark = jr_enter(r, "Audio");
        rc = job_parse_audio(r, obj, c, ctx, &t->audio);
        jr_leave(r, mark);
        return rc < 0 ? rc : 0;
    }
    if (ctx->n_concat > 1)
        return jr_invalid_at(r, "Audio",
                             "an omitted Audio copies the audio stream, and copy cannot be used "
                             "when concatenating %zu sources; set Audio.TranscodeAudio.Codec or "
                             "Audio.DisableAudio",
                             ctx->n_concat);
    return 0;
}

int job_parse_target(jr *r, const json_t *v, const job_ctx *ctx, mc_target *t)
{
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = read_output(r, v, ctx, t)) < 0)
        return rc;
    /* Without URI and Container, Segment, Video, Audio and Speed are ignored (spec 1.4). */
    if (t->uri) {
        rc = jr_num(r, v, "Speed", (jr_range){0.5, 1.0, false, false}, &t->speed);
        if (rc < 0)
            return rc;
        if ((rc = read_segment(r, v, t->container, ctx, t)) < 0)
            return rc;
        if ((rc = read_streams(r, v, ctx, t)) < 0)
            return rc;
    }
    if ((rc = read_subtitle(r, v, ctx, t)) < 0)
        return rc;
    if ((rc = jr_bool(r, v, "StripMetadata", &t->strip_metadata)) < 0)
        return rc;
    if (!ctx->in_group && (rc = read_extras(r, v, t->container, t)) < 0)
        return rc;
    if (!t->uri && !t->has_image && !t->subtitle.has_extract)
        return jr_invalid(r, "nothing to produce; allowed: URI with Container, a non-empty Image, "
                             "or Subtitle.ExtractSubtitle");
    return 0;
}

void job_target_clear(mc_target *t)
{
    if (!t)
        return;
    mc_freep(&t->uri);
    job_video_clear(&t->video);
    job_audio_clear(&t->audio);
    mc_freep(&t->subtitle.stream.index);
    mc_freep(&t->subtitle.extract_format);
    mc_freep(&t->subtitle.extract_uri);
    mc_freep(&t->data.index);
    mc_freep(&t->attached_picture.index);
    job_images_clear(t);
}

int job_parse_target_item(jr *r, const json_t *v, void *item, void *ctx)
{
    job_target_init(item);
    return job_parse_target(r, v, ctx, item);
}

int job_parse_group(jr *r, const json_t *v, const job_ctx *ctx, mc_target_group *g)
{
    json_t *arr = NULL;
    char *dir = NULL;
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = jr_require(r, jr_uri(r, v, "URI", &g->uri), "URI")) < 0)
        return rc;
    if (!mc_str_ends_with(g->uri, ".m3u8"))
        return jr_invalid_at(r, "URI",
                             "\"%s\" is not a master playlist; allowed: a URI ending "
                             "in .m3u8",
                             g->uri);
    if ((rc = jr_require(r, jr_array(r, v, "Targets", &arr), "Targets")) < 0)
        return rc;
    size_t n = json_array_size(arr);
    if (n > MC_JOB_MAX_TARGETS) {
        size_t lmark = jr_enter(r, "Targets");
        jr_fail(r, MC_ELIMIT, "LimitExceededError",
                "%zu entries are more than the limit; allowed: at most %d", n, MC_JOB_MAX_TARGETS);
        jr_leave(r, lmark);
        return MC_ELIMIT;
    }
    size_t len = (size_t)(strrchr(g->uri, '/') - g->uri) + 1;
    if (!(dir = mc_strdup(g->uri)))
        return jr_nomem(r);
    dir[len] = '\0';
    job_ctx sub = *ctx;
    sub.in_group = true;
    sub.group_dir = dir;
    rc = jr_each(r, arr, "Targets", sizeof(*g->targets), job_parse_target_item, &sub,
                 (void **)&g->targets, &g->n_targets);
    free(dir);
    return rc < 0 ? rc : 0;
}

void job_group_clear(mc_target_group *g)
{
    if (!g)
        return;
    mc_freep(&g->uri);
    for (size_t i = 0; g->targets && i < g->n_targets; i++)
        job_target_clear(&g->targets[i]);
    mc_freep(&g->targets);
    g->n_targets = 0;
}

static bool transcodes_video(const mc_target *t)
{
    return t->uri && t->has_video && !t->video.disable && t->video.has_transcode &&
           t->video.transcode.codec != MC_VCODEC_COPY;
}

/* The path of the first target with VideoSlim=1, entered into r; false when none. */
static bool enter_slim_target(jr *r, const mc_job *job)
{
    for (size_t i = 0; i < job->n_targets; i++) {
        if (transcodes_video(&job->targets[i]) && job->targets[i].video.transcode.video_slim) {
            jr_enter(r, "Targets");
            jr_enter_index(r, i);
            return true;
        }
    }
    for (size_t g = 0; g < job->n_target_groups; g++) {
        const mc_target_group *grp = &job->target_groups[g];
        for (size_t i = 0; i < grp->n_targets; i++) {
            if (transcodes_video(&grp->targets[i]) && grp->targets[i].video.transcode.video_slim) {
                jr_enter(r, "TargetGroups");
                jr_enter_index(r, g);
                jr_enter(r, "Targets");
                jr_enter_index(r, i);
                return true;
            }
        }
    }
    return false;
}

int job_check_video_slim(jr *r, const mc_job *job)
{
    size_t n = 0;
    for (size_t i = 0; i < job->n_targets; i++)
        n += transcodes_video(&job->targets[i]);
    for (size_t g = 0; g < job->n_target_groups; g++)
        for (size_t i = 0; i < job->target_groups[g].n_targets; i++)
            n += transcodes_video(&job->target_groups[g].targets[i]);
    if (n <= 1)
        return 0;
    size_t mark = r->len;
    int rc = 0;
    if (enter_slim_target(r, job))
        rc = jr_invalid_at(r, "Video.TranscodeVideo.VideoSlim",
                           "1 is not allowed when the job has %zu targets that transcode video; "
                           "allowed: 0, or a single video target",
                           n);
    jr_leave(r, mark);
    return rc;
}
