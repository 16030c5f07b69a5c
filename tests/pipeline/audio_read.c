#include "audio_read.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

static bool append(t_track *t, const float *p, int n)
{
    float *s = realloc(t->samples, (t->n + (size_t)n) * sizeof(float));
    if (!s)
        return false;
    memcpy(s + t->n, p, (size_t)n * sizeof(float));
    t->samples = s;
    t->n += (size_t)n;
    return true;
}

/* Decode the first channel of stream `index` of the file. */
static bool decode_track(const char *path, int index, t_track *t)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return false;
    bool ok = avformat_find_stream_info(fmt, NULL) >= 0;
    const AVStream *st = ok ? fmt->streams[index] : NULL;
    const AVCodec *codec = ok ? avcodec_find_decoder(st->codecpar->codec_id) : NULL;
    AVCodecContext *dec = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    float *buf = NULL;
    ok = dec && pkt && f && avcodec_parameters_to_context(dec, st->codecpar) >= 0 &&
         avcodec_open2(dec, codec, NULL) >= 0;
    bool eof = false;
    while (ok) {
        int rc = eof ? AVERROR_EOF : av_read_frame(fmt, pkt);
        if (rc == AVERROR_EOF && !eof) {
            eof = true;
            avcodec_send_packet(dec, NULL);
        } else if (rc < 0 && rc != AVERROR_EOF) {
            ok = false;
            break;
        } else if (rc >= 0) {
            if (pkt->stream_index == index)
                avcodec_send_packet(dec, pkt);
            av_packet_unref(pkt);
        }
        while ((rc = avcodec_receive_frame(dec, f)) >= 0) {
            int ch = f->ch_layout.nb_channels;
            buf = realloc(buf, (size_t)f->nb_samples * sizeof(float));
            if (!buf) {
                ok = false;
                break;
            }
            for (int i = 0; i < f->nb_samples; i++) {
                double v = 0;
                switch (f->format) {
                case AV_SAMPLE_FMT_FLTP:
                    v = ((const float *)f->extended_data[0])[i];
                    break;
                case AV_SAMPLE_FMT_FLT:
                    v = ((const float *)f->data[0])[i * ch];
                    break;
                case AV_SAMPLE_FMT_S16P:
                    v = ((const int16_t *)f->extended_data[0])[i] / 32768.0;
                    break;
                case AV_SAMPLE_FMT_S16:
                    v = ((const int16_t *)f->data[0])[i * ch] / 32768.0;
                    break;
                case AV_SAMPLE_FMT_S32P:
                    v = ((const int32_t *)f->extended_data[0])[i] / 2147483648.0;
                    break;
                case AV_SAMPLE_FMT_S32:
                    v = ((const int32_t *)f->data[0])[i * ch] / 2147483648.0;
                    break;
                default:
                    ok = false;
                    break;
                }
                buf[i] = (float)v;
            }
            if (ok && !append(t, buf, f->nb_samples))
                ok = false;
            t->sample_rate = f->sample_rate;
            t->channels = ch;
            av_frame_unref(f);
        }
        if (eof && rc == AVERROR_EOF)
            break;
    }
    if (ok && st) {
        snprintf(t->codec, sizeof(t->codec), "%s", avcodec_get_name(st->codecpar->codec_id));
        t->index = index;
        t->duration = t->sample_rate > 0 ? (double)t->n / t->sample_rate : 0;
    }
    free(buf);
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return ok;
}

int t_audio_tracks(const char *path, t_track *out, int max)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return -1;
    int n = 0;
    if (avformat_find_stream_info(fmt, NULL) < 0)
        n = -1;
    for (unsigned i = 0; n >= 0 && i < fmt->nb_streams && n < max; i++) {
        if (fmt->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
            continue;
        memset(&out[n], 0, sizeof(out[n]));
        if (!decode_track(path, (int)i, &out[n])) {
            t_tracks_free(out, n + 1);
            n = -1;
            break;
        }
        n++;
    }
    avformat_close_input(&fmt);
    return n;
}

void t_tracks_free(t_track *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(t[i].samples);
        t[i].samples = NULL;
        t[i].n = 0;
    }
}

double t_tone_power(const t_track *t, double freq, size_t from, size_t len)
{
    if (from >= t->n || !t->sample_rate)
        return 0;
    len = from + len > t->n ? t->n - from : len;
    double w = 2 * M_PI * freq / t->sample_rate, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < len; i++) {
        double s0 = t->samples[from + i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return len ? p / ((double)len * (double)len) : 0;
}

double t_rms(const t_track *t, size_t from, size_t len)
{
    if (from >= t->n)
        return 0;
    len = from + len > t->n ? t->n - from : len;
    double sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (double)t->samples[from + i] * t->samples[from + i];
    return len ? sqrt(sum / (double)len) : 0;
}
