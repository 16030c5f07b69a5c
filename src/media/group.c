/*
 * Master playlists of TargetGroups (spec 1.5). Each variant is an HLS output of the engine
 * like any other (same decode); once all are written and read back, every group's master
 * gets one #EXT-X-STREAM-INF per variant with values measured on what was written:
 * BANDWIDTH is the peak bit rate of a segment (size over its EXTINF), AVERAGE-BANDWIDTH
 * the bits of all segments over their total duration, RESOLUTION and FRAME-RATE those of
 * the video stream as encoded (or copied), CODECS RFC 6381 strings made from the streams'
 * own parameters (left out when a codec has no known string).
 */
#include "media_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/intreadwrite.h>

typedef struct mc_master {
    int group;
    char *uri;
    char *path;
    mc_atomic_file *file;
} mc_master;

/* The start of the first NAL of `type` in Annex B data (after its start code), or NULL. */
static const uint8_t *find_nal(const uint8_t *p, const uint8_t *end, int type, bool hevc)
{
    for (; p + 3 < end; p++) {
        if (p[0] || p[1] || p[2] != 1)
            continue;
        int t = hevc ? (p[3] >> 1) & 0x3f : p[3] & 0x1f;
        if (t == type)
            return p + 3;
    }
    return NULL;
}

/* Up to `n` bytes of a NAL's payload without emulation-prevention bytes. */
static size_t unescape(const uint8_t *p, const uint8_t *end, uint8_t *out, size_t n)
{
    size_t k = 0;
    int zeros = 0;
    for (; p < end && k < n; p++) {
        if (zeros >= 2 && *p == 3) {
            zeros = 0;
            continue;
        }
        zeros = *p == 0 ? zeros + 1 : 0;
        out[k++] = *p;
    }
    return k;
}

static bool avc_string(const AVCodecParameters *par, char *buf, size_t size)
{
    const uint8_t *d = par->extradata, *end = d + par->extradata_size;
    uint8_t b[3];
    if (par->extradata_size >= 4 && d[0] == 1) { /* avcC */
        memcpy(b, d + 1, 3);
    } else {
        const uint8_t *sps = d ? find_nal(d, end, 7, false) : NULL;
        if (!sps || unescape(sps + 1, end, b, 3) < 3)
            return false;
    }
    snprintf(buf, size, "avc1.%02x%02x%02x", b[0], b[1], b[2]);
    return true;
}

/* profile_tier_level: space/tier/idc, 4 bytes compatibility, 6 bytes constraints, level */
static bool hevc_string(const AVCodecParameters *par, char *buf, size_t size)
{
    const uint8_t *d = par->extradata, *end = d + par->extradata_size;
    uint8_t ptl[12];
    if (par->extradata_size >= 13 && d[0] == 1) { /* hvcC */
        memcpy(ptl, d + 1, 12);
    } else {
        const uint8_t *sps = d ? find_nal(d, end, 33, true) : NULL;
        /* NAL header (2 bytes), then sps_video_parameter_set_id, max_sub_layers, nesting */
        if (!sps || unescape(sps + 3, end, ptl, 12) < 12)
            return false;
    }
    int space = ptl[0] >> 6, tier = (ptl[0] >> 5) & 1, idc = ptl[0] & 0x1f;
    uint32_t compat = AV_RB32(ptl + 1), rev = 0;
    for (int i = 0; i < 32; i++)
        rev |= ((compat >> i) & 1u) << (31 - i);
    const char *tag = par->codec_tag == MKTAG('h', 'v', 'c', '1') ? "hvc1" : "hev1";
    int n = snprintf(buf, size, "%s.%s%d.%X.%c%d", tag,
                     space ? (const char[]){(char)('A' + space - 1), 0} : "", idc, rev,
                     tier ? 'H' : 'L', ptl[11]);
    int last = 5;
    while (last >= 0 && ptl[5 + last] == 0)
        last--;
    for (int i = 0; i <= last && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, ".%02X", ptl[5 + i]);
    return n > 0 && (size_t)n < size;
}

bool mc_codec_string(const AVCodecParameters *par, char *buf, size_t size)
{
    switch (par->codec_id) {
    case AV_CODEC_ID_H264:
        return avc_string(par, buf, size);
    case AV_CODEC_ID_HEVC:
        return hevc_string(par, buf, size);
    case AV_CODEC_ID_AAC: {
        /* The audio object type of the AudioSpecificConfig (2: LC, 5: HE) */
        int aot = par->extradata_size >= 1 ? par->extradata[0] >> 3
                  : par->profile >= 0      ? par->profile + 1
                                           : 0;
        if (aot <= 0 || aot == 31)
            return false;
        snprintf(buf, size, "mp4a.40.%d", aot);
        return true;
    }
    case AV_CODEC_ID_MP3:
        snprintf(buf, size, "mp4a.40.34");
        return true;
    case AV_CODEC_ID_AC3:
        snprintf(buf, size, "ac-3");
        return true;
    case AV_CODEC_ID_EAC3:
        snprintf(buf, size, "ec-3");
        return true;
    case AV_CODEC_ID_OPUS:
        snprintf(buf, size, "Opus");
        return true;
    case AV_CODEC_ID_FLAC:
        snprintf(buf, size, "fLaC");
        return true;
    default:
        return false;
    }
}

/* A small text file, NUL-terminated (the caller frees it), NULL when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    mc_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        mc_buf_append(&b, chunk, n);
    bool bad = ferror(f) || b.oom || !b.data;
    fclose(f);
    if (bad) {
        mc_buf_free(&b);
        return NULL;
    }
    return mc_buf_steal(&b);
}

/* Peak and average bit rate of a written media playlist's segments. */
static int measure(mc_engine *e, const mc_output *out, int64_t *peak, int64_t *avg)
{
    char *pl = mc_segment_tmp_playlist(out);
    char *text = pl ? read_text(pl) : NULL;
    free(pl);
    if (!text)
        return mc_err_set(e->err, -EIO, "InternalError", "%s: cannot read back the playlist of %s",
                          out->field, out->uri);
    double dur = -1, total_dur = 0, total_bits = 0, max = 0;
    int rc = 0;
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line && rc >= 0;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (!strncmp(line, "#EXTINF:", 8)) {
            dur = strtod(line + 8, NULL);
            continue;
        }
        if (line[0] == '#' || dur < 0)
            continue;
        char *path = mc_asprintf("%s/%s", out->seg->tmp, line);
        struct stat st;
        if (!path || stat(path, &st) < 0)
            rc = mc_err_set(e->err, -EIO, "InternalError", "%s: segment %s of %s is missing",
                            out->field, line, out->uri);
        free(path);
        if (rc < 0)
            break;
        double bits = (double)st.st_size * 8;
        total_bits += bits;
        total_dur += dur;
        if (dur > 0)
            max = fmax(max, bits / dur);
        dur = -1;
    }
    free(text);
    if (rc >= 0 && total_dur <= 0)
        rc = mc_err_set(e->err, MC_EMEDIA, "InvalidMedia", "%s: %s has no segments", out->field,
                        out->uri);
    if (rc < 0)
        return rc;
    *peak = (int64_t)ceil(max);
    *avg = (int64_t)ceil(total_bits / total_dur);
    return 0;
}

/* One #EXT-X-STREAM-INF and its URI (relative to the master's folder `dir`). */
static int variant_entry(mc_engine *e, const mc_output *out, const char *dir, bool subs,
                         mc_buf *b)
{
    int64_t peak, avg;
    int rc = measure(e, out, &peak, &avg);
    if (rc < 0)
        return rc;
    if (strncmp(out->uri, dir, strlen(dir)) != 0)
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s.URI: %s is not inside the folder of the TargetGroup's URI (%s)",
                          out->field, out->uri, dir);
    mc_buf_printf(b, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRId64 ",AVERAGE-BANDWIDTH=%" PRId64, peak,
                  avg);
    char codecs[64] = "", s[48];
    bool known = true;
    const mc_ostream *streams[2] = {out->v, out->n_a ? out->a[0] : NULL};
    for (int i = 0; i < 2; i++) {
        if (!streams[i])
            continue;
        if (!mc_codec_string(streams[i]->st->codecpar, s, sizeof(s)))
            known = false;
        else
            snprintf(codecs + strlen(codecs), sizeof(codecs) - strlen(codecs), "%s%s",
                     codecs[0] ? "," : "", s);
    }
    if (known && codecs[0])
        mc_buf_printf(b, ",CODECS=\"%s\"", codecs);
    if (subs)
        mc_buf_puts(b, ",SUBTITLES=\"subs\"");
    if (out->v) {
        const AVStream *st = out->v->st;
        mc_buf_printf(b, ",RESOLUTION=%dx%d", st->codecpar->width, st->codecpar->height);
        AVRational r = out->v->copy ? st->avg_frame_rate : out->v->v.fps;
        if (r.num <= 0 || r.den <= 0)
            r = mc_ref_input(e, AVMEDIA_TYPE_VIDEO)->fps;
        if (r.num > 0 && r.den > 0)
            mc_buf_printf(b, ",FRAME-RATE=%.3f", av_q2d(r));
    }
    mc_buf_printf(b, "\n%s\n", out->uri + strlen(dir));
    return 0;
}

static int prepare_one(mc_engine *e, size_t g, mc_master *m)
{
    const mc_target_group *grp = &e->job->target_groups[g];
    char field[48];
    snprintf(field, sizeof(field), "TargetGroups[%zu].URI", g);
    m->group = (int)g;
    int rc = mc_expand_uri(e, grp->uri, field, 1, "m3u8", NULL, &m->uri);
    if (rc < 0)
        return rc;
    mc_uri dst;
    rc = mc_uri_resolve(e->opts->store, m->uri, e->opts->uri_flags, field, &dst, e->err);
    if (rc < 0)
        return rc;
    m->path = dst.path;
    dst.path = NULL;
    mc_uri_clear(&dst);
    for (size_t i = 0; i < e->n_outputs; i++)
        if (e->outputs[i].path && !strcmp(e->outputs[i].path, m->path))
            return mc_err_set(e->err, -EINVAL, "InvalidArgument", "%s: %s is also the output of %s",
                              field, m->uri, e->outputs[i].field);
    char *dir = strndup(m->uri, (size_t)(strrchr(m->uri, '/') - m->uri) + 1);
    mc_buf b = {0};
    if (!dir)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    mc_buf_printf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    /* Subtitle renditions first (subtitle_hls.c), then the variants that refer to them. */
    int n_subs = mc_subs_group_media(e, (int)g, dir, &b);
    if (n_subs < 0)
        rc = n_subs;
    for (size_t i = 0; rc >= 0 && i < e->n_outputs; i++)
        if (e->outputs[i].group_index == (int)g)
            rc = variant_entry(e, &e->outputs[i], dir, n_subs > 0, &b);
    free(dir);
    if (rc >= 0 && (b.oom || !b.data))
        rc = mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    if (rc >= 0)
        rc = mc_atomic_open(m->path, &m->file, e->err);
    if (rc >= 0) {
        FILE *f = fopen(mc_atomic_tmp_path(m->file), "w");
        bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok)
            rc = mc_err_set(e->err, -EIO, "InternalError", "%s: cannot write %s", field, m->uri);
    }
    mc_buf_free(&b);
    return rc;
}

int mc_groups_prepare(mc_engine *e)
{
    size_t n = e->job->n_target_groups;
    if (!n)
        return 0;
    e->masters = calloc(n, sizeof(*e->masters));
    if (!e->masters)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    e->n_masters = n;
    for (size_t g = 0; g < n; g++) {
        int rc = prepare_one(e, g, &e->masters[g]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mc_groups_commit(mc_engine *e, mc_result *res)
{
    for (size_t g = 0; g < e->n_masters; g++) {
        mc_master *m = &e->masters[g];
        int rc = mc_subs_group_commit(e, (int)g);
        if (rc >= 0)
            rc = mc_atomic_commit(&m->file, e->err);
        if (rc < 0)
            return rc;
        /* Read back through the hls demuxer: the master and every variant it names. */
        mc_media_info info = {0};
        rc = mc_probe_file(m->path, NULL, &info, e->err);
        if (rc < 0)
            return rc;
        char *uri = mc_strdup(m->uri), *container = mc_strdup("m3u8");
        if (!uri || !container || mc_result_add_output(res, -1, uri, container, &info) < 0) {
            free(uri);
            free(container);
            mc_media_info_clear(&info);
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
        }
        res->outputs[res->n_outputs - 1].group = (int)g;
    }
    return 0;
}

void mc_groups_free(mc_engine *e)
{
    for (size_t g = 0; g < e->n_masters; g++) {
        mc_atomic_abort(&e->masters[g].file);
        free(e->masters[g].uri);
        free(e->masters[g].path);
    }
    free(e->masters);
    e->masters = NULL;
    e->n_masters = 0;
}
