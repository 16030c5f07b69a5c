/* Source (spec 1.3). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "mc_str.h"

static const char *const align_names[] = {"false", "loop", "pad", NULL};

static int read_language(jr *r, const json_t *v, char **out)
{
    const char *s = NULL;
    int rc = jr_str(r, v, "Language", &s);
    if (rc <= 0)
        return rc;
    bool ok = strlen(s) == 3;
    for (size_t i = 0; ok && i < 3; i++)
        ok = isalpha((unsigned char)s[i]) && (unsigned char)s[i] < 0x80;
    if (!ok)
        return jr_invalid_at(r, "Language",
                             "\"%s\" is not a language code; allowed: 3 letters of ISO 639-2, "
                             "e.g. eng",
                             s);
    if (!(*out = mc_strdup(s)))
        return jr_nomem(r);
    return 1;
}

static int read_subtitle(jr *r, const json_t *v, void *item, void *ctx)
{
    (void)ctx;
    mc_source_subtitle *sub = item;
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = jr_require(r, jr_uri(r, v, "URI", &sub->uri), "URI")) < 0)
        return rc;
    rc = jr_num(r, v, "TimeOffset",
                (jr_range){-MC_JOB_MAX_SECONDS, MC_JOB_MAX_SECONDS, false, false},
                &sub->time_offset);
    if (rc < 0)
        return rc;
    return read_language(r, v, &sub->language);
}

static int read_subtitles(jr *r, const json_t *v, mc_source *s)
{
    json_t *arr = NULL;
    int rc = jr_array(r, v, "Subtitles", &arr);
    if (rc <= 0)
        return rc;
    return jr_each(r, arr, "Subtitles", sizeof(*s->subtitles), read_subtitle, NULL,
                   (void **)&s->subtitles, &s->n_subtitles);
}

/* AlignMode: "false" | "loop" | "pad", or JSON false (the SDK default is the string). */
static int read_align_mode(jr *r, const json_t *v, enum mc_align_mode *out)
{
    json_t *am = jr_get(v, "AlignMode");
    int e, rc;
    if (json_is_false(am)) {
        *out = MC_ALIGN_FALSE;
        return 1;
    }
    if (json_is_true(am))
        return jr_invalid_at(r, "AlignMode", "true is not supported; allowed: false, loop, pad");
    if ((rc = jr_enum(r, v, "AlignMode", align_names, &e)) > 0)
        *out = (enum mc_align_mode)e;
    return rc;
}

int job_parse_source(jr *r, const json_t *v, mc_source *s)
{
    static const jr_range nonneg = {0, MC_JOB_MAX_SECONDS, false, false};
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = jr_require(r, jr_uri(r, v, "URI", &s->uri), "URI")) < 0)
        return rc;
    if ((rc = jr_num(r, v, "StartTime", nonneg, &s->start_time)) < 0)
        return rc;
    if ((rc = jr_num(r, v, "Duration", nonneg, &s->duration)) < 0)
        return rc;
    if ((rc = read_subtitles(r, v, s)) < 0)
        return rc;
    if ((rc = jr_bool(r, v, "Attached", &s->attached)) < 0)
        return rc;
    if ((rc = read_align_mode(r, v, &s->align_mode)) < 0)
        return rc;
    if (s->align_mode != MC_ALIGN_FALSE && !s->attached)
        return jr_invalid_at(r, "AlignMode",
                             "%s is only allowed with Attached true; allowed: false",
                             align_names[s->align_mode]);
    if ((rc = jr_bool(r, v, "DisableVideo", &s->disable_video)) < 0)
        return rc;
    if ((rc = jr_bool(r, v, "DisableAudio", &s->disable_audio)) < 0)
        return rc;
    if (!s->attached && s->disable_video && s->disable_audio)
        return jr_invalid_at(r, "DisableAudio",
                             "cannot be true together with DisableVideo on a source that is not "
                             "attached (nothing left to process)");
    return 0;
}

void job_source_clear(mc_source *s)
{
    if (!s)
        return;
    mc_freep(&s->uri);
    for (size_t i = 0; s->subtitles && i < s->n_subtitles; i++) {
        free(s->subtitles[i].uri);
        free(s->subtitles[i].language);
    }
    mc_freep(&s->subtitles);
    s->n_subtitles = 0;
}
