/*
 * AMR-NB encoding through libopencore-amrnb, used directly because Debian's FFmpeg is built
 * without its wrapper. 8 kHz mono signed 16-bit, 160 samples (20 ms) per frame; each frame
 * comes out in the storage format (ToC byte + speech bits) that .amr files hold.
 */
#include "media_priv.h"

#include <opencore-amrnb/interf_enc.h>

struct mc_amr_enc {
    void *state;
    enum Mode mode;
};

static const int64_t mode_bitrates[] = {4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200};
#define N_AMR_MODES ((int)(sizeof(mode_bitrates) / sizeof(mode_bitrates[0])))

int mc_amr_open(int64_t bitrate, int quality, mc_amr_enc **out)
{
    mc_amr_enc *amr = calloc(1, sizeof(*amr));
    if (!amr)
        return AVERROR(ENOMEM);
    int m = N_AMR_MODES - 1; /* 12.2 kbit/s unless told otherwise */
    if (bitrate > 0) {
        /* The highest mode not above the requested bitrate (the lowest if all are). */
        m = 0;
        for (int i = 0; i < N_AMR_MODES; i++)
            if (mode_bitrates[i] <= bitrate)
                m = i;
    } else if (quality >= 0) {
        m = quality * (N_AMR_MODES - 1) / 100;
    }
    amr->mode = (enum Mode)m;
    amr->state = Encoder_Interface_init(0);
    if (!amr->state) {
        free(amr);
        return AVERROR(ENOMEM);
    }
    *out = amr;
    return 0;
}

int64_t mc_amr_bitrate(const mc_amr_enc *amr)
{
    return mode_bitrates[amr->mode];
}

int mc_amr_encode(mc_amr_enc *amr, const AVFrame *frame, AVPacket *pkt)
{
    if (frame->nb_samples != 160 || frame->format != AV_SAMPLE_FMT_S16)
        return AVERROR(EINVAL);
    unsigned char buf[64];
    int n = Encoder_Interface_Encode(amr->state, amr->mode, (const short *)frame->data[0], buf, 0);
    if (n <= 0)
        return AVERROR_EXTERNAL;
    av_packet_unref(pkt);
    int rc = av_new_packet(pkt, n);
    if (rc < 0)
        return rc;
    memcpy(pkt->data, buf, (size_t)n);
    pkt->pts = pkt->dts = frame->pts;
    pkt->duration = 160;
    return 0;
}

void mc_amr_free(mc_amr_enc **pamr)
{
    mc_amr_enc *amr = *pamr;
    if (!amr)
        return;
    Encoder_Interface_exit(amr->state);
    free(amr);
    *pamr = NULL;
}
