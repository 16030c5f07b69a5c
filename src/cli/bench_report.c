/*
 * The bench results as people read them: a Markdown table and an SVG plot of throughput
 * against concurrency, both made from the JSON document bench.c writes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "mc_str.h"

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double num_of(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* A number with `prec` decimals, or "-" when absent. */
static void cell(mc_buf *b, const json_t *o, const char *key, int prec)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_number(v))
        mc_buf_printf(b, "%.*f", prec, json_number_value(v));
    else
        mc_buf_puts(b, "-");
}

/* Text inside a table cell: no column breaks, no line breaks. */
static void md_text(mc_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            mc_buf_puts(b, "\\|");
        else
            mc_buf_append(b, *s == '\n' || *s == '\r' ? " " : s, 1);
    }
}

static const char *title_of(const json_t *doc, const char *workload)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(doc, "workloads"), i, w)
    {
        if (strcmp(str_of(w, "name"), workload) == 0)
            return str_of(w, "title");
    }
    return workload;
}

char *mc_bench_markdown(const json_t *doc, const char *svg_name)
{
    mc_buf b = {0};
    const json_t *m = json_object_get(doc, "machine");
    mc_buf_printf(&b, "# mediaconvert bench, %s\n\n", str_of(doc, "date"));
    mc_buf_printf(&b, "Machine: %s, %lld cores, %.1f GiB, Linux %s. %s.\n", str_of(m, "cpu"),
                  (long long)json_integer_value(json_object_get(m, "cores")),
                  num_of(m, "memory_gib"), str_of(m, "kernel"), str_of(m, "ffmpeg"));
    if (json_is_true(json_object_get(doc, "short")))
        mc_buf_puts(&b, "\n**Short mode** (sources at 1/4 size, 1-2 s): proves the harness "
                        "works; the figures mean nothing.\n");
    mc_buf_puts(&b, "\nDevices:\n\n");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "devices"), i, v)
    {
        mc_buf_printf(&b, "- `%s`: %s%s\n", str_of(v, "name"), str_of(v, "description"),
                      json_is_true(json_object_get(v, "emulated"))
                          ? " (emulated: a CPU implementation of the device API)"
                          : "");
    }
    mc_buf_puts(&b, "\nSources (made with the ffmpeg program):\n\n");
    json_array_foreach(json_object_get(doc, "sources"), i, v)
    {
        mc_buf_printf(&b, "- `%s`: %s", str_of(v, "name"), str_of(v, "what"));
        if (json_integer_value(json_object_get(v, "width")) > 0)
            mc_buf_printf(&b, ", %lldx%lld, %lld frames",
                          (long long)json_integer_value(json_object_get(v, "width")),
                          (long long)json_integer_value(json_object_get(v, "height")),
                          (long long)json_integer_value(json_object_get(v, "frames")));
        mc_buf_printf(&b, ", %.1f s\n", num_of(v, "duration"));
    }
    mc_buf_printf(
        &b,
        "\nEach point: N tasks at once (mediaconvert: N engine tasks in one process, as the "
        "daemon runs them; ffmpeg: N processes), %lld measured round(s), the median batch wall "
        "time, the tool that goes first alternating. frames/s and realtime are aggregate: N x "
        "the source's frames (or seconds) / wall. **ratio** = ffmpeg wall / mediaconvert wall "
        "(above 1: mediaconvert is faster). Peak RSS: mediaconvert's process (VmHWM, every "
        "task); ffmpeg's, the sum of its processes' peaks. Copies: frames copied from device to "
        "system memory per task (uploads in parentheses). Stages: where decode / scale / encode "
        "ran; ffmpeg is given the same device flags.\n\n",
        (long long)json_integer_value(json_object_get(doc, "rounds")));
    mc_buf_puts(&b, "| device | workload | tasks | mc s | ffmpeg s | mc frames/s | ffmpeg "
                    "frames/s | mc realtime | ffmpeg realtime | ratio | peak RSS MiB mc / "
                    "ffmpeg | copies | stages | same shape |\n"
                    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    json_array_foreach(json_object_get(doc, "runs"), i, v)
    {
        const json_t *mc = json_object_get(v, "mediaconvert"), *ff = json_object_get(v, "ffmpeg");
        mc_buf_printf(&b, "| %s | %s | %lld | ", str_of(v, "device"), str_of(v, "workload"),
                      (long long)json_integer_value(json_object_get(v, "concurrency")));
        /* tool 0: mediaconvert, 1: ffmpeg, 2: the run itself */
        static const struct {
            int tool;
            const char *key;
            int prec;
            const char *before, *after;
        } cols[] = {
            {0, "median_s", 2, "", " | "},          {1, "median_s", 2, "", " | "},
            {0, "frames_per_s", 1, "", " | "},      {1, "frames_per_s", 1, "", " | "},
            {0, "realtime", 1, "", "x | "},         {1, "realtime", 1, "", "x | "},
            {2, "ratio", 3, "**", "** | "},         {0, "peak_rss_mib", 0, "", " / "},
            {1, "peak_rss_mib", 0, "", " | "},      {0, "downloads_per_task", 0, "", " ("},
            {0, "uploads_per_task", 0, "", ") | "},
        };
        for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
            const json_t *o = cols[k].tool == 0 ? mc : cols[k].tool == 1 ? ff : v;
            mc_buf_puts(&b, cols[k].before);
            cell(&b, o, cols[k].key, cols[k].prec);
            mc_buf_puts(&b, cols[k].after);
        }
        const json_t *st = json_object_get(mc, "stages");
        mc_buf_printf(&b, "%s / %s / %s | ", *str_of(st, "decode") ? str_of(st, "decode") : "-",
                      *str_of(st, "scale") ? str_of(st, "scale") : "-",
                      *str_of(st, "encode") ? str_of(st, "encode") : "-");
        const json_t *ck = json_object_get(v, "check");
        mc_buf_puts(&b, !ck                                               ? ""
                        : json_is_true(json_object_get(ck, "same_shape")) ? "yes"
                                                                          : "**no**");
        mc_buf_puts(&b, " |\n");
        if (!json_is_true(json_object_get(mc, "ok")) || !json_is_true(json_object_get(ff, "ok"))) {
            mc_buf_puts(&b, "| | failed: ");
            md_text(&b, *str_of(mc, "error") ? str_of(mc, "error") : "-");
            mc_buf_puts(&b, " / ");
            md_text(&b, *str_of(ff, "error") ? str_of(ff, "error") : "-");
            mc_buf_puts(&b, " | | | | | | | | | | | | |\n");
        }
    }
    if (json_array_size(json_object_get(doc, "notes")) > 0)
        mc_buf_puts(&b, "\nNotes:\n\n");
    json_array_foreach(json_object_get(doc, "notes"), i, v)
    {
        mc_buf_printf(&b, "- %s\n", json_string_value(v) ? json_string_value(v) : "");
    }
    if (svg_name)
        mc_buf_printf(&b, "\n![aggregate realtime multiple against tasks at once](%s)\n", svg_name);
    mc_buf_puts(&b, "\n## What each workload is\n\n");
    json_array_foreach(json_object_get(doc, "workloads"), i, v)
    {
        mc_buf_printf(&b, "- `%s`: %s (source `%s`)\n", str_of(v, "name"), str_of(v, "title"),
                      str_of(v, "source"));
    }
    mc_buf_puts(&b, "\n## The ffmpeg commands (one task)\n\n");
    json_array_foreach(json_object_get(doc, "runs"), i, v)
    {
        const char *cmd = str_of(json_object_get(v, "ffmpeg"), "command");
        if (json_integer_value(json_object_get(v, "concurrency")) == 1 && *cmd)
            mc_buf_printf(&b, "- %s on `%s`: `%s`\n", str_of(v, "workload"), str_of(v, "device"),
                          cmd);
    }
    return mc_buf_steal(&b);
}

/* --- the plot -------------------------------------------------------------------------- */

#define PANEL_W 330
#define PANEL_H 220
#define COLS    3
#define PAD_L   48
#define PAD_R   12
#define PAD_T   28
#define PAD_B   34

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                     "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

static void xml_text(mc_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            mc_buf_puts(b, "&lt;");
        else if (*s == '>')
            mc_buf_puts(b, "&gt;");
        else if (*s == '&')
            mc_buf_puts(b, "&amp;");
        else
            mc_buf_append(b, s, 1);
    }
}

/* A "nice" axis top at or above v: 1, 2 or 5 times a power of ten. */
static double nice_top(double v)
{
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    for (int k = 0; k < 3; k++) {
        double c = (k == 0 ? 1 : k == 1 ? 2 : 5) * p;
        if (c >= v)
            return c;
    }
    return 10 * p;
}

static int conc_index(const json_t *conc, json_int_t n)
{
    size_t i;
    json_t *v;
    json_array_foreach(conc, i, v)
    {
        if (json_integer_value(v) == n)
            return (int)i;
    }
    return -1;
}

static void panel(mc_buf *b, const json_t *doc, const char *workload, int px, int py)
{
    const json_t *conc = json_object_get(doc, "concurrency");
    const json_t *runs = json_object_get(doc, "runs");
    int nx = (int)json_array_size(conc);
    double top = 0;
    size_t i;
    json_t *r;
    json_array_foreach(runs, i, r)
    {
        if (strcmp(str_of(r, "workload"), workload) != 0)
            continue;
        top = fmax(top, num_of(json_object_get(r, "mediaconvert"), "realtime"));
        top = fmax(top, num_of(json_object_get(r, "ffmpeg"), "realtime"));
    }
    top = nice_top(top);
    int x0 = px + PAD_L, y0 = py + PANEL_H - PAD_B, pw = PANEL_W - PAD_L - PAD_R,
        ph = PANEL_H - PAD_T - PAD_B;
    mc_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"t\">", px + PAD_L, py + 16);
    xml_text(b, title_of(doc, workload));
    mc_buf_puts(b, "</text>\n");
    mc_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"f\"/>\n", x0,
                  y0 - ph, pw, ph);
    for (int k = 0; k <= 5; k++) {
        int y = y0 - ph * k / 5;
        mc_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"g\"/>", x0, y,
                      x0 + pw, y);
        mc_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"end\">%g</text>\n",
                      x0 - 4, y + 4, top * k / 5);
    }
    size_t k;
    json_t *c;
    json_array_foreach(conc, k, c)
    {
        int x = nx > 1 ? x0 + (int)(pw * k / (nx - 1)) : x0 + pw / 2;
        mc_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"middle\">%lld</text>",
                      x, y0 + 14, (long long)json_integer_value(c));
    }
    mc_buf_printf(b,
                  "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"middle\">tasks at "
                  "once</text>\n",
                  x0 + pw / 2, y0 + 28);
    /* One line per device and tool. */
    size_t d;
    json_t *dev;
    json_array_foreach(json_object_get(doc, "devices"), d, dev)
    {
        for (int tool = 0; tool < 2; tool++) {
            mc_buf pts = {0};
            int n = 0;
            json_array_foreach(runs, i, r)
            {
                if (strcmp(str_of(r, "workload"), workload) != 0 ||
                    strcmp(str_of(r, "device"), str_of(dev, "name")) != 0)
                    continue;
                const json_t *t = json_object_get(r, tool ? "ffmpeg" : "mediaconvert");
                int xi = conc_index(conc, json_integer_value(json_object_get(r, "concurrency")));
                if (!json_is_number(json_object_get(t, "realtime")) || xi < 0)
                    continue;
                int x = nx > 1 ? x0 + pw * xi / (nx - 1) : x0 + pw / 2;
                int y = y0 - (int)lround(ph * num_of(t, "realtime") / top);
                mc_buf_printf(&pts, "%s%d,%d", n++ ? " " : "", x, y);
            }
            const char *color = colors[d % (sizeof(colors) / sizeof(colors[0]))];
            if (n > 0)
                mc_buf_printf(b, "<polyline points=\"%s\" stroke=\"%s\" class=\"%s\"/>\n", pts.data,
                              color, tool ? "ff" : "mc");
            mc_buf_free(&pts);
        }
    }
}

char *mc_bench_svg(const json_t *doc)
{
    const json_t *ws = json_object_get(doc, "workloads");
    const json_t *devs = json_object_get(doc, "devices");
    int nw = (int)json_array_size(ws), nd = (int)json_array_size(devs);
    int rows = (nw + COLS - 1) / COLS;
    int legend_h = 24 + 16 * (nd + 1);
    int width = COLS * PANEL_W, height = legend_h + rows * PANEL_H + 8;
    mc_buf b = {0};
    mc_buf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
                  "<style>.t{font-size:13px;font-weight:bold}.a{font-size:10px;fill:#444}"
                  ".l{font-size:12px}.f{fill:#fafafa;stroke:#999}.g{stroke:#ddd}"
                  ".mc{fill:none;stroke-width:2}.ff{fill:none;stroke-width:1.5;"
                  "stroke-dasharray:5 4}</style>\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  width, height, width, height);
    mc_buf_puts(&b, "<text x=\"12\" y=\"18\" class=\"t\">Aggregate realtime multiple against "
                    "tasks at once (");
    xml_text(&b, str_of(doc, "date"));
    mc_buf_puts(&b, ") - solid: mediaconvert, dashed: ffmpeg</text>\n");
    size_t i;
    json_t *v;
    json_array_foreach(devs, i, v)
    {
        int y = 24 + 16 * (int)(i + 1);
        const char *color = colors[i % (sizeof(colors) / sizeof(colors[0]))];
        mc_buf_printf(&b,
                      "<line x1=\"12\" y1=\"%d\" x2=\"40\" y2=\"%d\" stroke=\"%s\" "
                      "class=\"mc\"/><text x=\"46\" y=\"%d\" class=\"l\">",
                      y - 4, y - 4, color, y);
        xml_text(&b, str_of(v, "name"));
        mc_buf_puts(&b, ": ");
        xml_text(&b, str_of(v, "description"));
        mc_buf_puts(&b, "</text>\n");
    }
    json_array_foreach(ws, i, v)
    {
        int px = (int)(i % COLS) * PANEL_W, py = legend_h + (int)(i / COLS) * PANEL_H;
        panel(&b, doc, str_of(v, "name"), px, py);
    }
    mc_buf_puts(&b, "</svg>\n");
    return mc_buf_steal(&b);
}
