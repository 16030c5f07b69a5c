/*
 * mediaconvert: run one CreateMediaConvertTask request from the command line, or probe a
 * media file.
 *
 *   mediaconvert run [--store DIR] [--device BACKEND] REQUEST.json
 *   mediaconvert probe [--store DIR] FILE|URI
 *   mediaconvert devices [--json]
 *   mediaconvert bench [options]          (bench.c)
 *
 * Exit status: 0 success, 1 the task failed, 2 the request or the command line is invalid.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mc_err.h"
#include "mc_hwaccel.h"
#include "mc_job.h"
#include "mc_log.h"
#include "mc_media.h"
#include "mc_result.h"
#include "mc_storage.h"
#include "mc_str.h"

#define EXIT_TASK_FAILED 1
#define EXIT_INVALID     2
#define MAX_REQUEST      (4 << 20)

static atomic_bool cancel_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&cancel_requested, true);
}

static void usage(FILE *f)
{
    fputs("usage: mediaconvert run [--store DIR] [--device BACKEND] [-v|-q] REQUEST.json\n"
          "       mediaconvert animate [options] INPUT OUTPUT.gif|OUTPUT.webp\n"
          "           [--start S] [--interval S] [--fps N] [--num N] [--width W]\n"
          "           [--height H] [--scale-type stretch|crop|fill|fit] [--quality Q]\n"
          "       mediaconvert probe [--store DIR] FILE|oss://bucket/key|file:///path\n"
          "       mediaconvert devices [--json]\n"
          "       mediaconvert bench [--short] [--devices LIST] [--workloads LIST] ...\n"
          "       mediaconvert --version\n"
          "\n"
          "run      executes a CreateMediaConvertTask request (JSON object form; '-' reads\n"
          "         stdin) and prints the result as JSON on stdout.\n"
          "animate  turns a video into an animated GIF or WebP: the same job as a request\n"
          "         with one Targets[].Image.Animations[] entry (sampling every --interval\n"
          "         seconds from --start, at most --num frames, played at --fps; sizes in\n"
          "         pixels, or below 1 as a fraction of the video's). INPUT and OUTPUT are\n"
          "         files or oss:// URIs.\n"
          "probe    prints a media file's container and streams as JSON.\n"
          "devices  lists every device backend (cuda, vaapi, qsv, vulkan, software), compiled\n"
          "         or not, with its devices, what they decode, scale and encode, and their\n"
          "         session capacity.\n"
          "bench    runs the standard workloads on every device against the ffmpeg program\n"
          "         and writes JSON, Markdown and SVG results (mediaconvert bench --help).\n"
          "\n"
          "--store DIR     object store root: oss://bucket/key is DIR/bucket/key\n"
          "                (default: $MEDIACONVERT_STORE, else ./var/buckets)\n"
          "--device NAME   where to run: auto (default: the first hardware device, else\n"
          "                software), gpu, cpu, or a backend (cuda, vaapi, qsv, vulkan,\n"
          "                software)\n"
          "-v, --verbose   more log output; -q, --quiet: errors only, no progress\n"
          "\n"
          "exit status: 0 success, 1 the task failed, 2 invalid request or usage\n",
          f);
}

typedef struct progress_state {
    bool tty;
    bool quiet;
    int last;
} progress_state;

static void on_progress(double fraction, void *opaque)
{
    progress_state *p = opaque;
    int pct10 = (int)(fraction * 1000 + 0.5);
    /* A terminal gets a bar redrawn every 0.1 %; a log gets a line every 5 %. */
    int step = p->tty ? 1 : 50;
    if (p->quiet || (pct10 / step == p->last / step && pct10 < 1000) || pct10 == p->last)
        return;
    p->last = pct10;
    if (p->tty) {
        char bar[41];
        int filled = pct10 * 40 / 1000;
        for (int i = 0; i < 40; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[40] = '\0';
        fprintf(stderr, "\r[%s] %5.1f%%", bar, pct10 / 10.0);
        if (pct10 >= 1000)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "progress: %d%%\n", pct10 / 10);
    }
    fflush(stderr);
}

static char *read_request(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    mc_buf b = {0};
    char chunk[65536];
    size_t n;
    bool too_big = false;
    while (!too_big && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        too_big = b.len + n > MAX_REQUEST || mc_buf_append(&b, chunk, n) < 0;
    bool failed = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (failed || too_big) {
        mc_buf_free(&b);
        errno = too_big ? EFBIG : EIO;
        return NULL;
    }
    *len = b.len;
    return b.data ? mc_buf_steal(&b) : mc_strdup(""); /* empty: the parser says InvalidJSON */
}

static int print_json(json_t *j)
{
    if (!j)
        return -ENOMEM;
    int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(j);
    return rc;
}

static void print_error(const mc_err *err)
{
    fprintf(stderr, "mediaconvert: %s: %s\n", err->code[0] ? err->code : "InternalError",
            err->msg[0] ? err->msg : "unknown error");
}

static const char *default_store(void)
{
    const char *env = getenv("MEDIACONVERT_STORE");
    return env && *env ? env : "var/buckets";
}

/* The device a class or backend name stands for: classes go through discovery (the same
 * order the daemon places tasks in), a backend name opens that backend's first device. */
static int open_device(const char *name, mc_hw_device **out, mc_err *err)
{
    if (strcmp(name, "auto") != 0 && strcmp(name, "gpu") != 0 && strcmp(name, "cpu") != 0)
        return mc_hw_device_open(name, NULL, out, err);
    mc_hw_registry *reg = NULL;
    mc_hw_discover_cfg cfg = {.cpu_slots = 1};
    int rc = mc_hw_discover(&cfg, &reg, err);
    if (rc >= 0)
        rc = mc_hw_pick(reg, name, out, err);
    mc_hw_registry_free(&reg);
    return rc;
}

/* List the backends and their devices. */
static int cmd_devices(bool as_json)
{
    mc_err err;
    mc_err_clear(&err);
    mc_hw_registry *reg = NULL;
    mc_hw_discover_cfg cfg = {.cpu_slots = 1};
    if (mc_hw_discover(&cfg, &reg, &err) < 0) {
        print_error(&err);
        return EXIT_TASK_FAILED;
    }
    json_t *j = mc_hw_registry_to_json(reg);
    int status = 0;
    if (as_json) {
        status = print_json(j) < 0 ? EXIT_TASK_FAILED : 0;
        j = NULL;
    } else {
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(j, "backends"), i, b)
        {
            printf("%-9s %-13s %s\n", json_string_value(json_object_get(b, "name")),
                   json_string_value(json_object_get(b, "state")),
                   json_string_value(json_object_get(b, "detail")));
            size_t k;
            json_t *d;
            json_array_foreach(json_object_get(b, "devices"), k, d)
            {
                json_t *caps = json_object_get(d, "capabilities");
                json_t *ses = json_object_get(d, "sessions");
                char *dec = json_dumps(json_object_get(caps, "decode"), JSON_COMPACT);
                char *enc = json_dumps(json_object_get(caps, "encode"), JSON_COMPACT);
                printf("  %-18s %s%s\n    decode %s  encode %s  scale %s\n"
                       "    sessions: decode %lld, encode %lld  health %s\n",
                       json_string_value(json_object_get(d, "name")),
                       json_string_value(json_object_get(d, "description")),
                       json_is_true(json_object_get(d, "emulated")) ? " (emulated)" : "",
                       dec ? dec : "[]", enc ? enc : "[]",
                       json_string_value(json_object_get(caps, "scale"))
                           ? json_string_value(json_object_get(caps, "scale"))
                           : "-",
                       json_integer_value(
                           json_object_get(json_object_get(ses, "decode"), "capacity")),
                       json_integer_value(
                           json_object_get(json_object_get(ses, "encode"), "capacity")),
                       json_string_value(json_object_get(d, "health")));
                free(dec);
                free(enc);
            }
        }
    }
    json_decref(j);
    mc_hw_registry_free(&reg);
    return status;
}

/* Run a parsed job (taking it) and print its result. */
static int run_job(mc_job *job, const char *store_dir, const char *device, bool quiet)
{
    mc_err err;
    mc_err_clear(&err);
    mc_store *store = NULL;
    int rc = mc_store_open(store_dir, &store, &err);
    if (rc < 0) {
        print_error(&err);
        mc_job_free(&job);
        return EXIT_TASK_FAILED;
    }

    /* The first Ctrl-C cancels cleanly (no output left behind); a second one kills. */
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    mc_hw_device *dev = NULL;
    rc = open_device(device, &dev, &err);
    if (rc < 0) {
        print_error(&err);
        mc_store_free(&store);
        mc_job_free(&job);
        return EXIT_INVALID;
    }
    progress_state prog = {.tty = isatty(STDERR_FILENO), .quiet = quiet, .last = -10};
    mc_engine_opts opts = {
        .store = store,
        .uri_flags = MC_URI_ALLOW_FILE,
        .device = dev,
        .progress = on_progress,
        .progress_opaque = &prog,
        .cancel = &cancel_requested,
    };
    mc_result result = {0};
    rc = mc_engine_run(job, &opts, &result, &err);
    if (prog.tty && !quiet && prog.last >= 0 && prog.last < 1000)
        fputc('\n', stderr);
    int status = 0;
    if (rc < 0) {
        print_error(&err);
        status = EXIT_TASK_FAILED;
    } else if (print_json(mc_result_to_json(&result)) < 0) {
        fprintf(stderr, "mediaconvert: cannot print the result\n");
        status = EXIT_TASK_FAILED;
    }
    mc_result_clear(&result);
    mc_hw_device_unref(&dev);
    mc_store_free(&store);
    mc_job_free(&job);
    return status;
}

/* The options every command takes (-s -d -v -q); false for any other. */
static bool common_option(int c, const char **store, const char **device, bool *quiet)
{
    switch (c) {
    case 's':
        *store = optarg;
        return true;
    case 'd':
        *device = optarg;
        return true;
    case 'v':
        mc_log_set_level(MC_LOG_DEBUG);
        return true;
    case 'q':
        *quiet = true;
        mc_log_set_level(MC_LOG_ERROR);
        return true;
    }
    return false;
}

static int cmd_run(const char *store_dir, const char *device, const char *path, bool quiet)
{
    mc_err err;
    mc_err_clear(&err);
    size_t len = 0;
    char *text = read_request(path, &len);
    if (!text) {
        fprintf(stderr, "mediaconvert: cannot read %s: %s\n", path, strerror(errno));
        return EXIT_INVALID;
    }
    mc_job *job = NULL;
    int rc = mc_job_parse(text, len, &job, &err);
    free(text);
    if (rc < 0) {
        print_error(&err);
        return EXIT_INVALID;
    }
    return run_job(job, store_dir, device, quiet);
}

/* A file name as a file:// URI (absolute); oss:// and file:// URIs stay as they are. */
static char *as_uri(const char *name)
{
    if (strstr(name, "://"))
        return mc_strdup(name);
    if (name[0] == '/')
        return mc_asprintf("file://%s", name);
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    return mc_asprintf("file://%s/%s", cwd, name);
}

/* A number option into the animation object; the job model checks its range. */
static int set_number(json_t *obj, const char *key, const char *opt, const char *value)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(d)) {
        fprintf(stderr, "mediaconvert: %s: \"%s\" is not a number\n", opt, value);
        return -EINVAL;
    }
    return json_object_set_new(obj, key, d == floor(d) && fabs(d) < 1e15
                                             ? json_integer((json_int_t)d)
                                             : json_real(d));
}

static int cmd_animate(int argc, char **argv, const char *store_dir, const char *device,
                       bool quiet)
{
    static const struct option longopts[] = {
        {"start", required_argument, NULL, 'S'},      {"interval", required_argument, NULL, 'i'},
        {"fps", required_argument, NULL, 'f'},        {"num", required_argument, NULL, 'n'},
        {"width", required_argument, NULL, 'W'},      {"height", required_argument, NULL, 'H'},
        {"scale-type", required_argument, NULL, 't'}, {"quality", required_argument, NULL, 'Q'},
        {"store", required_argument, NULL, 's'},      {"device", required_argument, NULL, 'd'},
        {"verbose", no_argument, NULL, 'v'},          {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        int opt;
        const char *key, *name;
    } numbers[] = {
        {'S', "StartTime", "--start"}, {'i', "Interval", "--interval"},
        {'f', "FrameRate", "--fps"},   {'n', "Number", "--num"},
        {'W', "Width", "--width"},     {'H', "Height", "--height"},
        {'Q', "Quality", "--quality"},
    };
    json_t *anim = json_object();
    int c, rc = 0;
    while (rc >= 0 && (c = getopt_long(argc, argv, "s:d:vq", longopts, NULL)) != -1) {
        bool known = false;
        for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
            if (c == numbers[i].opt) {
                rc = set_number(anim, numbers[i].key, numbers[i].name, optarg);
                known = true;
            }
        }
        if (known)
            continue;
        if (c == 't')
            rc = json_object_set_new(anim, "ScaleType", json_string(optarg));
        else if (!common_option(c, &store_dir, &device, &quiet))
            rc = -EINVAL;
    }
    if (rc < 0 || optind + 2 != argc) {
        json_decref(anim);
        usage(stderr);
        return EXIT_INVALID;
    }
    const char *out = argv[optind + 1];
    const char *dot = strrchr(out, '.');
    char *in_uri = as_uri(argv[optind]), *out_uri = as_uri(out);
    json_t *req = json_pack("{s:s, s:[{s:s?}], s:[{s:{s:[o]}}]}", "ProjectName", "cli",
                            "Sources", "URI", in_uri, "Targets", "Image", "Animations", anim);
    if (req) {
        json_object_set_new(anim, "URI", json_string(out_uri ? out_uri : ""));
        /* The format comes from OUTPUT's extension; the job model names what is allowed. */
        json_object_set_new(anim, "Format", json_string(dot ? dot + 1 : ""));
    }
    free(in_uri);
    free(out_uri);
    mc_err err;
    mc_err_clear(&err);
    mc_job *job = NULL;
    rc = req ? mc_job_from_json(req, &job, &err) : mc_err_set(&err, -ENOMEM, NULL, "out of memory");
    json_decref(req);
    if (rc < 0) {
        print_error(&err);
        return EXIT_INVALID;
    }
    return run_job(job, store_dir, device, quiet);
}

static int cmd_probe(const char *store_dir, const char *what)
{
    mc_err err;
    mc_err_clear(&err);
    char *path = NULL, *root = NULL;
    int status = 0;
    if (strstr(what, "://")) {
        mc_store *store = NULL;
        mc_uri uri;
        bool oss = strncmp(what, "oss://", 6) == 0;
        int rc = oss ? mc_store_open(store_dir, &store, &err) : 0;
        if (rc >= 0)
            rc = mc_uri_resolve(store, what, MC_URI_ALLOW_FILE, "URI", &uri, &err);
        /* An object of the store may only refer to other objects of the store. */
        if (rc >= 0 && oss)
            root = mc_strdup(mc_store_root(store));
        mc_store_free(&store);
        if (rc < 0) {
            print_error(&err);
            return EXIT_INVALID;
        }
        path = uri.path;
        uri.path = NULL;
        mc_uri_clear(&uri);
    } else {
        path = mc_strdup(what);
    }
    mc_media_info info = {0};
    if (!path || mc_probe_file(path, root, &info, &err) < 0) {
        print_error(&err);
        status = EXIT_TASK_FAILED;
    } else if (print_json(mc_media_info_to_json(&info)) < 0) {
        status = EXIT_TASK_FAILED;
    }
    mc_media_info_clear(&info);
    free(path);
    free(root);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'}, {"device", required_argument, NULL, 'd'},
        {"verbose", no_argument, NULL, 'v'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *store = default_store();
    const char *device = "auto";
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+s:d:vqhV", longopts, NULL)) != -1) {
        if (common_option(c, &store, &device, &quiet))
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("mediaconvert %s\n", MC_VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_INVALID;
        }
    }
    /* Options may also follow the command word. */
    if (optind >= argc) {
        usage(stderr);
        return EXIT_INVALID;
    }
    const char *cmd = argv[optind++];
    if (strcmp(cmd, "animate") == 0) {
        mc_media_init_logging();
        /* Its options may come anywhere after the command word: a fresh scan (optind 0
         * makes getopt start over) of the arguments from there on. */
        int first = optind - 1;
        optind = 0;
        return cmd_animate(argc - first, argv + first, store, device, quiet);
    }
    if (strcmp(cmd, "bench") == 0) {
        if (quiet)
            mc_log_set_level(MC_LOG_ERROR);
        mc_media_init_logging();
        return mc_cli_bench(argc - optind + 1, argv + optind - 1);
    }
    if (strcmp(cmd, "devices") == 0) {
        bool as_json = optind < argc && strcmp(argv[optind], "--json") == 0;
        if (optind + as_json != argc) {
            usage(stderr);
            return EXIT_INVALID;
        }
        mc_media_init_logging();
        return cmd_devices(as_json);
    }
    while ((c = getopt_long(argc, argv, "+s:d:vq", longopts, NULL)) != -1) {
        if (!common_option(c, &store, &device, &quiet)) {
            usage(stderr);
            return EXIT_INVALID;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return EXIT_INVALID;
    }
    mc_media_init_logging();
    if (strcmp(cmd, "run") == 0)
        return cmd_run(store, device, argv[optind], quiet);
    if (strcmp(cmd, "probe") == 0)
        return cmd_probe(store, argv[optind]);
    fprintf(stderr, "mediaconvert: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return EXIT_INVALID;
}
