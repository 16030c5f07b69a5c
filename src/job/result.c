#include "mc_result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mc_media_info_clear(mc_media_info *info)
{
    if (!info)
        return;
    free(info->streams);
    memset(info, 0, sizeof(*info));
}

static int set_new(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

static json_t *stream_to_json(const mc_stream_info *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = 0;
    rc |= set_new(o, "index", json_integer(s->index));
    rc |= set_new(o, "type", json_string(s->type));
    rc |= set_new(o, "codec", json_string(s->codec));
    if (s->profile[0])
        rc |= set_new(o, "profile", json_string(s->profile));
    if (strcmp(s->type, "video") == 0) {
        rc |= set_new(o, "width", json_integer(s->width));
        rc |= set_new(o, "height", json_integer(s->height));
        char sar[32];
        snprintf(sar, sizeof(sar), "%d:%d", s->sar_num, s->sar_den);
        rc |= set_new(o, "sample_aspect_ratio", json_string(sar));
        if (s->fps > 0)
            rc |= set_new(o, "fps", json_real(s->fps));
        rc |= set_new(o, "rotation", json_integer(s->rotation));
        if (s->pix_fmt[0])
            rc |= set_new(o, "pix_fmt", json_string(s->pix_fmt));
        if (s->frames > 0)
            rc |= set_new(o, "frames", json_integer(s->frames));
    } else if (strcmp(s->type, "audio") == 0) {
        rc |= set_new(o, "sample_rate", json_integer(s->sample_rate));
        rc |= set_new(o, "channels", json_integer(s->channels));
        if (s->channel_layout[0])
            rc |= set_new(o, "channel_layout", json_string(s->channel_layout));
        if (s->sample_fmt[0])
            rc |= set_new(o, "sample_fmt", json_string(s->sample_fmt));
    }
    if (s->bitrate > 0)
        rc |= set_new(o, "bitrate", json_integer(s->bitrate));
    if (s->duration > 0)
        rc |= set_new(o, "duration", json_real(s->duration));
    if (s->language[0])
        rc |= set_new(o, "language", json_string(s->language));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *mc_media_info_to_json(const mc_media_info *info)
{
    json_t *o = json_object();
    json_t *streams = json_array();
    if (!o || !streams)
        goto fail;
    int rc = 0;
    rc |= set_new(o, "format", json_string(info->format));
    rc |= set_new(o, "format_long", json_string(info->format_long));
    rc |= set_new(o, "duration", json_real(info->duration));
    rc |= set_new(o, "start_time", json_real(info->start_time));
    rc |= set_new(o, "bitrate", json_integer(info->bitrate));
    rc |= set_new(o, "size", json_integer(info->size));
    for (size_t i = 0; i < info->n_streams; i++) {
        json_t *s = stream_to_json(&info->streams[i]);
        if (!s || json_array_append_new(streams, s) < 0)
            goto fail;
    }
    rc |= json_object_set(o, "streams", streams);
    json_decref(streams);
    streams = NULL;
    if (rc)
        goto fail;
    return o;
fail:
    json_decref(streams);
    json_decref(o);
    return NULL;
}

int mc_result_add_output(mc_result *res, int target_index, char *uri, char *container,
                         mc_media_info *info)
{
    mc_output_info *outs = realloc(res->outputs, (res->n_outputs + 1) * sizeof(*outs));
    if (!outs)
        return -ENOMEM;
    res->outputs = outs;
    mc_output_info *o = &outs[res->n_outputs++];
    o->target_index = target_index;
    o->uri = uri;
    o->container = container;
    o->image[0] = '\0';
    o->group = -1;
    o->segment[0] = '\0';
    o->segments = 0;
    o->info = *info;
    memset(info, 0, sizeof(*info));
    return 0;
}

void mc_result_clear(mc_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n_outputs; i++) {
        free(res->outputs[i].uri);
        free(res->outputs[i].container);
        mc_media_info_clear(&res->outputs[i].info);
    }
    free(res->outputs);
    memset(res, 0, sizeof(*res));
}

json_t *mc_result_to_json(const mc_result *res)
{
    json_t *o = json_object();
    json_t *outs = json_array();
    if (!o || !outs)
        goto fail;
    for (size_t i = 0; i < res->n_outputs; i++) {
        const mc_output_info *out = &res->outputs[i];
        json_t *j = mc_media_info_to_json(&out->info);
        if (!j)
            goto fail;
        int rc = set_new(j, "uri", json_string(out->uri));
        rc |= set_new(j, "container", json_string(out->container));
        rc |= set_new(j, "target", json_integer(out->target_index));
        if (out->image[0])
            rc |= set_new(j, "image", json_string(out->image));
        if (out->group >= 0)
            rc |= set_new(j, "group", json_integer(out->group));
        if (out->segment[0]) {
            rc |= set_new(j, "segment", json_string(out->segment));
            rc |= set_new(j, "segments", json_integer(out->segments));
        }
        if (rc || json_array_append_new(outs, j) < 0)
            goto fail;
    }
    int rc = json_object_set(o, "outputs", outs);
    rc |= set_new(o, "device", json_string(res->device));
    rc |= set_new(o, "input_duration", json_real(res->input_duration));
    rc |= set_new(o, "elapsed", json_real(res->elapsed));
    rc |= set_new(o, "frames_decoded", json_integer(res->frames_decoded));
    rc |= set_new(o, "frames_encoded", json_integer(res->frames_encoded));
    json_t *stages = json_object();
    rc |= stages ? 0 : -1;
    if (stages && res->stage_decode[0])
        rc |= set_new(stages, "decode", json_string(res->stage_decode));
    if (stages && res->stage_scale[0])
        rc |= set_new(stages, "scale", json_string(res->stage_scale));
    if (stages && res->stage_overlay[0])
        rc |= set_new(stages, "overlay", json_string(res->stage_overlay));
    if (stages && res->stage_encode[0])
        rc |= set_new(stages, "encode", json_string(res->stage_encode));
    rc |= set_new(o, "stages", stages);
    json_t *copies = json_pack("{sIsIsi}", "uploads", (json_int_t)res->uploads, "downloads",
                               (json_int_t)res->downloads, "decode_fallbacks",
                               res->decode_fallbacks);
    rc |= set_new(o, "copies", copies);
    if (res->fallback_from[0])
        rc |= set_new(o, "fallback", json_pack("{ssss}", "from", res->fallback_from, "reason",
                                               res->fallback_reason));
    json_decref(outs);
    outs = NULL;
    if (rc)
        goto fail;
    return o;
fail:
    json_decref(outs);
    json_decref(o);
    return NULL;
}
