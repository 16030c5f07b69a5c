/*
 * Interfaces between the files of the job parser (job.c, job_source.c, job_target.c,
 * job_video.c, job_audio.c, job_image.c). Each parse function reads the value at the
 * reader's current path, fills a zero-initialised struct and may leave it half-built on
 * failure: the matching *_clear() function frees whatever was stored.
 */
#ifndef MC_JOB_INTERNAL_H
#define MC_JOB_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "job_read.h"
#include "mc_job.h"

/* What a target needs to know about the rest of the request. */
typedef struct job_ctx {
    size_t n_concat;       /* sources that are not attached; > 1 means concatenation */
    const char *group_dir; /* TargetGroup.URI up to and including its last '/', or NULL */
    bool in_group;         /* parsing TargetGroups[].Targets[] */
} job_ctx;

/* Sources[i] */
int job_parse_source(jr *r, const json_t *v, mc_source *s);
void job_source_clear(mc_source *s);

/* Targets[i] and TargetGroups[i].Targets[j] */
void job_target_init(mc_target *t);
int job_parse_target(jr *r, const json_t *v, const job_ctx *ctx, mc_target *t);
void job_target_clear(mc_target *t);
/* TargetGroups[i] */
/* job_parse_target() for jr_each(): initialises the target first; ctx is a job_ctx. */
int job_parse_target_item(jr *r, const json_t *v, void *item, void *ctx);
int job_parse_group(jr *r, const json_t *v, const job_ctx *ctx, mc_target_group *g);
void job_group_clear(mc_target_group *g);
/* VideoSlim=1 allows only one target with a transcoded video stream in the whole job. */
int job_check_video_slim(jr *r, const mc_job *job);

/* Targets[i].Video: the object at the current path. */
int job_parse_video(jr *r, const json_t *v, enum mc_container c, const job_ctx *ctx,
                    mc_target_video *out);
void job_video_clear(mc_target_video *v);

/* Targets[i].Audio: the object at the current path. */
int job_parse_audio(jr *r, const json_t *v, enum mc_container c, const job_ctx *ctx,
                    mc_target_audio *out);
void job_audio_clear(mc_target_audio *a);

/*
 * Targets[i].Image: the object at the current path. Fills t->images / t->n_images (every
 * Snapshot, then every Sprite, then every Animation) and sets t->has_image when at least one
 * element is given; empty arrays are not set.
 */
int job_parse_images(jr *r, const json_t *v, mc_target *t);
/* Frees t->images and each image's URI. */
void job_images_clear(mc_target *t);

/* "copy, h264, h265, vp9, av1" */
void job_vcodec_names_text(char *buf, size_t size);
void job_acodec_names_text(char *buf, size_t size);

#endif
