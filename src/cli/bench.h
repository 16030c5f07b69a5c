/*
 * mediaconvert bench: the standard workloads on every device the HAL finds, at rising
 * concurrency, against the ffmpeg program doing the same work in the same run.
 *
 * bench.c runs the work and writes the results as JSON; bench_report.c turns that JSON
 * into the Markdown table and the SVG plot (and can do so again from a saved file).
 */
#ifndef MC_CLI_BENCH_H
#define MC_CLI_BENCH_H

#include <jansson.h>

/* `mediaconvert bench ARGS...` (argv[0] is "bench"); returns the process exit status. */
int mc_cli_bench(int argc, char **argv);

/* The Markdown report of a results document (bench.c's JSON); NULL on OOM. */
char *mc_bench_markdown(const json_t *doc, const char *svg_name);
/* Throughput against concurrency, one panel per workload, one line per device and tool. */
char *mc_bench_svg(const json_t *doc);

#endif
