/*
 * webp2raw: decode an animated (or still) WebP to raw RGBA frames on stdout, for measuring
 * it with the ffmpeg program (FFmpeg 5.1 cannot decode animated WebP). Without FPS, one
 * picture per animation frame; with FPS, the picture shown at each 1/FPS tick (encoders
 * merge identical frames into longer ones). Prints "WIDTHxHEIGHT PICTURES" to stderr.
 *
 *   cc -O2 -o webp2raw bench/tools/webp2raw.c $(pkg-config --cflags --libs libwebpdemux libwebp)
 *   webp2raw FILE.webp [FPS] > frames.rgba
 */
#include <stdio.h>
#include <stdlib.h>

#include <webp/demux.h>

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: webp2raw FILE.webp [FPS] > frames.rgba\n");
        return 2;
    }
    double fps = argc == 3 ? atof(argv[2]) : 0;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 1;
    }
    fclose(f);
    WebPData data = {buf, (size_t)n};
    WebPAnimDecoderOptions opts;
    WebPAnimDecoderOptionsInit(&opts);
    opts.color_mode = MODE_RGBA;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &opts);
    WebPAnimInfo info;
    if (!dec || !WebPAnimDecoderGetInfo(dec, &info)) {
        fprintf(stderr, "%s: not a WebP file\n", argv[1]);
        return 1;
    }
    int frames = 0;
    while (WebPAnimDecoderHasMoreFrames(dec)) {
        uint8_t *rgba;
        int ts;
        if (!WebPAnimDecoderGetNext(dec, &rgba, &ts)) {
            fprintf(stderr, "%s: frame %d does not decode\n", argv[1], frames);
            return 1;
        }
        /* `ts` is when this frame stops being shown, in ms. */
        size_t size = (size_t)info.canvas_width * info.canvas_height;
        if (fps <= 0) {
            fwrite(rgba, 4, size, stdout);
            frames++;
        }
        while (fps > 0 && frames * 1000.0 / fps < ts - 0.5) {
            fwrite(rgba, 4, size, stdout);
            frames++;
        }
    }
    fprintf(stderr, "%ux%u %d\n", info.canvas_width, info.canvas_height, frames);
    WebPAnimDecoderDelete(dec);
    free(buf);
    return 0;
}
