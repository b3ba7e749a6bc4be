/*
** cli.h -- shared pieces of the `dl` command-line tool: the command-table
** entry, option parsing, error reporting, value formatting and the row
** writers (table / csv / jsonl) used by `dl cat`, `dl demo` and any later
** command that prints rows.  The CLI uses only the public datalake.h API.
**
** Exit codes (every command): 0 ok, 1 error (one line "dl: <message>" on
** stderr), 2 usage error (message plus usage on stderr).
**
** Memory: the CLI's own growable buffers (cli_buf) print "dl: out of
** memory" and exit(1) when an allocation fails -- there is nothing useful a
** command-line process can do after that, and it keeps every formatting
** call infallible.  Library calls report their errors through dl_error.
*/
#ifndef DL_CLI_H
#define DL_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "datalake.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2 };

/* ---- the command table ---- */

/* A command: argv[0] is the command name, argv[1..] its arguments.
** Returns the process exit code. */
typedef int (*cli_handler)(int argc, char **argv);

typedef struct cli_command {
    const char *name;
    cli_handler run;
    const char *summary; /* one line for `dl --help` */
} cli_command;

int cli_cmd_schema(int argc, char **argv);
int cli_cmd_cat(int argc, char **argv);
int cli_cmd_demo(int argc, char **argv);
int cli_demo_parquet(int argc, char **argv); /* `dl demo parquet` */
int cli_cmd_query(int argc, char **argv);
int cli_cmd_resample(int argc, char **argv);
int cli_cmd_join(int argc, char **argv);
int cli_cmd_sync(int argc, char **argv);
int cli_cmd_features(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
int cli_cmd_token(int argc, char **argv);

/* splitmix64: the demos' small deterministic generator (the same values on
** every machine, no libc rand state), and a uniform double in [0, 1). */
static inline uint64_t cli_random_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline double cli_random_unit(uint64_t *state) {
    return (double)(cli_random_next(state) >> 11) * 0x1p-53;
}

/* Monotonic clock in seconds (for timings and progress rates). */
double cli_now_seconds(void);

/* ---- option parsing ---- */

#define CLI_MAX_OPTIONS 32
#define CLI_MAX_ARGS    16

typedef struct cli_option {
    const char *name;    /* long name without dashes: "limit" (--limit N, --limit=N) */
    const char *metavar; /* placeholder of the value ("N"); NULL for a flag */
    const char *help;    /* one line */
} cli_option;

/* Everything `dl COMMAND --help` prints and the parser needs. */
typedef struct cli_spec {
    const char *command;     /* "cat" */
    const char *synopsis;    /* "FILE.parquet [--columns a,b] ..." */
    const char *description; /* paragraphs, each line ending in \n */
    const cli_option *options;
    int num_options;
    int min_args, max_args; /* positional argument counts */
} cli_spec;

typedef struct cli_args {
    const cli_spec *spec;
    const char *values[CLI_MAX_OPTIONS]; /* per option: its value, "" for a flag, NULL if absent */
    const char *args[CLI_MAX_ARGS];      /* positional arguments */
    int num_args;
} cli_args;

/* Parser result meaning "go on and run the command". */
#define CLI_CONTINUE (-1)

/* Parses argv[1..argc) (argv[0] is the command name).  "--" ends options;
** -h/--help prints the help to stdout.  Returns CLI_CONTINUE, or the exit
** code to return right away (0 after --help, 2 after a usage error). */
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out);
void cli_print_help(const cli_spec *spec, FILE *f);
/* The value of option `name` (NULL when absent, "" for a given flag). */
const char *cli_get(const cli_args *args, const char *name);
/* Prints "dl COMMAND: message", the synopsis and a --help hint; returns 2. */
int cli_usage_error(const cli_spec *spec, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Parses a whole decimal integer in [min, max]; false on any junk. */
bool cli_parse_i64(const char *text, int64_t min, int64_t max, int64_t *out);

/* ---- errors ---- */

/* Prints "dl: <message>" (the dl_error's) to stderr; returns 1. */
int cli_fail(const dl_error *err);
int cli_failf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Flushes stdout; reports a write error (full disk, closed pipe) as exit 1. */
int cli_finish_stdout(int exit_code);

/* ---- growable text buffer ---- */

/* The library's text buffer; the cli_buf_* calls exit on out of memory. */
typedef dl_text cli_buf;

void cli_buf_reserve(cli_buf *b, size_t extra);
void cli_buf_put(cli_buf *b, const void *src, size_t n);
void cli_buf_putc(cli_buf *b, char c);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_printf(cli_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_buf_free(cli_buf *b);

/* Exits with "dl: out of memory" when NULL. */
void *cli_xrealloc(void *p, size_t n);
/* Splits a comma-separated list "a,b,c" into *names, pointers into *copy (a
** modified copy of text); empty items are skipped.  Returns the number of
** names.  The caller frees *copy and *names. */
int cli_split_list(const char *text, char **copy, const char ***names);

/* ---- value formatting ---- */

/* Decimal digits of v into buf (>= 21 bytes); returns the length. */
int cli_format_i64(int64_t v, char *buf);

/* How a value is rendered:
**   RAW     CSV: strings as their bytes, binary as base64, nan/inf as is.
**   DISPLAY table: like RAW but control characters and invalid UTF-8 in
**           strings are shown escaped (\n, \t, \x01).
**   JSON    JSON value: strings JSON-escaped in quotes (invalid UTF-8 ->
**           \uFFFD), timestamps and dates as quoted ISO-8601, binary as a
**           quoted base64 string, nan/inf as null, null as null. */
typedef dl_text_style cli_style;
#define CLI_STYLE_RAW     DL_TEXT_RAW
#define CLI_STYLE_DISPLAY DL_TEXT_DISPLAY
#define CLI_STYLE_JSON    DL_TEXT_JSON

/* The value of row `row` of column `col` (field `f`) as a dl_value
** (present false for null).  String bytes are borrowed from the column. */
void cli_column_value(const dl_field *f, const dl_column *col, int64_t row, dl_value *out);
/* Appends the text of v (typed by f) in the given style.  A value that is
** not present appends "" (RAW), "null" (DISPLAY, JSON). */
void cli_append_value(cli_buf *b, const dl_field *f, const dl_value *v, cli_style style);
/* Appends s[0..len) as a quoted, escaped JSON string. */
void cli_append_json_string(cli_buf *b, const uint8_t *s, size_t len);
/* True for types printed right-aligned in tables (numbers). */
bool cli_type_is_numeric(dl_type type);
/* "timestamp[ms, UTC]", "decimal(18,3)", "string" ... */
void cli_describe_type(const dl_field *f, char *buf, size_t size);

/* ---- row writers ---- */

/* The text formats of the library's sinks (same values as dl_sink_format). */
typedef enum cli_format {
    CLI_FORMAT_TABLE = DL_SINK_TABLE,
    CLI_FORMAT_CSV = DL_SINK_CSV,
    CLI_FORMAT_JSONL = DL_SINK_JSONL
} cli_format;
bool cli_format_parse(const char *name, cli_format *out);

typedef struct cli_row_writer cli_row_writer;

/* A writer of rows with the given fields (borrowed; must outlive it) to out. */
cli_row_writer *cli_row_writer_new(cli_format format, const dl_field *fields, int num_fields,
                                   FILE *out);
/* Writes rows [from, from + count) of cols (one column per field). */
void cli_row_writer_rows(cli_row_writer *w, const dl_column *cols, int64_t from, int64_t count);
/* Writes what is buffered (the table) and frees the writer. */
void cli_row_writer_finish(cli_row_writer *w);

/* ---- shared command pieces ---- */

/* Prints the `dl schema` description of an open file (text or JSON).
** Returns DL_OK or the reader's error (chunk metadata it cannot decode). */
int cli_print_schema(FILE *out, const char *path, const dl_parquet_reader *r, bool json,
                     dl_error *err);

/* Streams rows of the selected columns (file column indices) of r to a row
** writer, one row group at a time, stopping after `limit` rows (-1 = all).
** Returns DL_OK or the reader's error. */
int cli_stream_rows(const dl_parquet_reader *r, const int *columns, int num_columns, int64_t limit,
                    cli_row_writer *writer, dl_error *err);

/* ---- result sinks (cli_sink.c): --format/--output/--limit/--tail ---- */

/* The options a command producing result rows lists in its cli_option table. */
/* clang-format off */
#define CLI_SINK_OPTIONS                                                           \
    {"format", "FMT", "table (default), csv, jsonl, parquet or arrow (IPC stream)"}, \
    {"output", "FILE", "write to FILE instead of stdout (required for parquet)"},    \
    {"limit", "N", "at most N rows (the first N)"},                                  \
    {"tail", "N", "only the last N rows"}
/* clang-format on */

typedef struct cli_sink {
    dl_sink_options opts;
    const char *output; /* NULL = stdout */
    dl_sink *sink;      /* after cli_sink_open; dl_sink_put / dl_sink_close */
} cli_sink;

/* Reads the CLI_SINK_OPTIONS of `a` (the table format shows 20 rows unless
** --limit or --tail says otherwise).  Returns CLI_CONTINUE, or the usage
** exit code after printing the problem. */
int cli_sink_parse(cli_sink *s, const cli_args *a);
/* Opens the library sink for rows of `schema` on the output file (checked
** against guard: never inside the lake or onto an input) or stdout. */
int cli_sink_open(cli_sink *s, const dl_schema *schema, const dl_output_guard *guard,
                  dl_error *err);

#endif /* DL_CLI_H */
