/*
** cli_common.c -- helpers shared by every `dl` command: option parsing and
** help text, error reporting, a growable text buffer, and the rendering of
** one typed value as CSV/table text or JSON (see cli.h for the rules).
*/
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

void cli_print_help(const cli_spec *spec, FILE *f) {
    fprintf(f, "usage: dl %s %s\n\n%s", spec->command, spec->synopsis, spec->description);
    if (spec->num_options > 0) fprintf(f, "\noptions:\n");
    for (int i = 0; i < spec->num_options; i++) {
        const cli_option *o = &spec->options[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(f, "  %-22s %s\n", left, o->help);
    }
    fprintf(f, "  %-22s %s\n", "-h, --help", "show this help");
    fprintf(f, "\nexit status: 0 ok, 1 error (message on stderr), 2 usage error\n");
}

int cli_usage_error(const cli_spec *spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dl %s: ", spec->command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: dl %s %s\nTry 'dl %s --help' for more information.\n", spec->command,
            spec->synopsis, spec->command);
    return CLI_EXIT_USAGE;
}

static int find_option(const cli_spec *spec, const char *name, size_t name_len) {
    for (int i = 0; i < spec->num_options; i++)
        if (strlen(spec->options[i].name) == name_len &&
            memcmp(spec->options[i].name, name, name_len) == 0)
            return i;
    return -1;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out) {
    memset(out, 0, sizeof *out);
    out->spec = spec;
    if (spec->num_options > CLI_MAX_OPTIONS) return cli_usage_error(spec, "too many options");
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            cli_print_help(spec, stdout);
            return CLI_EXIT_OK;
        }
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
            int k = find_option(spec, name, name_len);
            if (k < 0) return cli_usage_error(spec, "unknown option '%.*s'", (int)name_len + 2, a);
            const cli_option *o = &spec->options[k];
            if (!o->metavar) {
                if (eq) return cli_usage_error(spec, "option --%s takes no value", o->name);
                out->values[k] = "";
            } else if (eq) {
                out->values[k] = eq + 1;
            } else if (i + 1 < argc) {
                out->values[k] = argv[++i];
            } else {
                return cli_usage_error(spec, "option --%s needs a value (%s)", o->name, o->metavar);
            }
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0')
            return cli_usage_error(spec, "unknown option '%s'", a);
        if (out->num_args >= spec->max_args || out->num_args >= CLI_MAX_ARGS)
            return cli_usage_error(spec, "unexpected argument '%s'", a);
        out->args[out->num_args++] = a;
    }
    if (out->num_args < spec->min_args) return cli_usage_error(spec, "missing argument");
    return CLI_CONTINUE;
}

const char *cli_get(const cli_args *args, const char *name) {
    int k = find_option(args->spec, name, strlen(name));
    return k < 0 ? NULL : args->values[k];
}

bool cli_parse_i64(const char *text, int64_t min, int64_t max, int64_t *out) {
    if (!text || !*text) return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ */
/* Errors and output                                                    */
/* ------------------------------------------------------------------ */

int cli_fail(const dl_error *err) {
    fflush(stdout);
    fprintf(stderr, "dl: %s\n",
            err->message[0] ? err->message : dl_status_name(err->code ? err->code : DL_EINTERNAL));
    return CLI_EXIT_ERROR;
}

int cli_failf(const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return CLI_EXIT_ERROR;
}

int cli_finish_stdout(int exit_code) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dl: cannot write to standard output: %s\n", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    return exit_code;
}

/* ------------------------------------------------------------------ */
/* cli_buf                                                              */
/* ------------------------------------------------------------------ */

static void out_of_memory(size_t n) {
    fflush(stdout);
    fprintf(stderr, "dl: out of memory (asked for %zu bytes)\n", n);
    exit(CLI_EXIT_ERROR);
}

static void check_buf(const cli_buf *b);

void *cli_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

int cli_split_list(const char *text, char **copy, const char ***names) {
    size_t len = strlen(text);
    *copy = cli_xrealloc(NULL, len + 1);
    memcpy(*copy, text, len + 1);
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    *names = cli_xrealloc(NULL, sizeof(char *) * (size_t)n);
    int k = 0;
    for (char *tok = strtok(*copy, ","); tok; tok = strtok(NULL, ",")) (*names)[k++] = tok;
    return k;
}

void cli_buf_reserve(cli_buf *b, size_t extra) {
    dl_text_reserve(b, extra);
    check_buf(b);
}

void cli_buf_put(cli_buf *b, const void *src, size_t n) {
    dl_text_put(b, src, n);
    check_buf(b);
}

void cli_buf_putc(cli_buf *b, char c) {
    dl_text_putc(b, c);
    check_buf(b);
}

void cli_buf_puts(cli_buf *b, const char *s) {
    cli_buf_put(b, s, strlen(s));
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dl_text_vprintf(b, fmt, ap);
    va_end(ap);
    check_buf(b);
}

void cli_buf_free(cli_buf *b) {
    dl_text_free(b);
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

/* The rendering is the library's (dl_text.c); these keep the CLI's
** exit-on-out-of-memory contract for cli_buf. */

static void check_buf(const cli_buf *b) {
    if (b->status != DL_OK) out_of_memory(b->cap * 2);
}

int cli_format_i64(int64_t v, char *buf) {
    return dl_format_i64(v, buf);
}

void cli_append_json_string(cli_buf *b, const uint8_t *s, size_t len) {
    dl_text_json_string(b, s, len);
    check_buf(b);
}

bool cli_type_is_numeric(dl_type type) {
    return dl_type_is_numeric(type);
}

void cli_describe_type(const dl_field *f, char *buf, size_t size) {
    dl_field_describe(f, buf, size);
}

void cli_column_value(const dl_field *f, const dl_column *col, int64_t row, dl_value *out) {
    dl_column_value(f, col, row, out);
}

void cli_append_value(cli_buf *b, const dl_field *f, const dl_value *v, cli_style style) {
    dl_text_value(b, f, v, style);
    check_buf(b);
}

double cli_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
