/*
** cli_lake.c -- `dl init|ls|info|verify|gaps|history|vacuum|read`: the
** lake's metadata and maintenance commands.  Listings answer from the
** catalog only; every listing has --json for scripts.
*/
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_lake.h"
#include "util/dl_timeparse.h"

#define ROOT_OPTION                                                                                \
    { "root", "DIR", "lake root (default $DL_ROOT, else ./lake)" }
#define JSON_OPTION                                                                                \
    { "json", NULL, "print JSON instead of a table" }

const char *cli_lake_root_dir(const cli_args *args) {
    const char *root = cli_get(args, "root");
    if (root && root[0]) return root;
    root = getenv("DL_ROOT");
    return root && root[0] ? root : "lake";
}

static dl_lake *open_lake(const cli_args *args, bool read_only) {
    dl_error err;
    dl_lake *lake = NULL;
    if (dl_lake_open(cli_lake_root_dir(args), read_only, &lake, &err) != DL_OK) {
        cli_fail(&err);
        if (err.code == DL_ENOTFOUND)
            fprintf(stderr,
                    "dl: create it with `dl init --root %s` (or rebuild a lost catalog "
                    "with `dl init --recover`)\n",
                    cli_lake_root_dir(args));
        else if (err.code == DL_ECORRUPT && strstr(err.message, "catalog"))
            fprintf(stderr, "dl: rebuild the catalog with `dl init --recover --root %s`\n",
                    cli_lake_root_dir(args));
        return NULL;
    }
    return lake;
}

static void print_lock_wait(void *ctx, const char *message) {
    (void)ctx;
    fprintf(stderr, "dl: %s\n", message);
}

dl_lake *cli_lake_open(const cli_args *args) {
    dl_lake *lake = open_lake(args, false);
    if (!lake) return NULL;
    const char *v = cli_get(args, "lock-timeout");
    if (!v) v = getenv("DL_LOCK_TIMEOUT");
    char *end = NULL;
    double seconds = v ? strtod(v, &end) : -1;
    if (v && (end == v || *end || seconds < 0 || seconds > 1e9)) {
        fprintf(stderr, "dl: --lock-timeout wants seconds >= 0, got '%s'\n", v);
        dl_lake_close(lake);
        return NULL;
    }
    dl_lake_set_lock_wait(lake, seconds < 0 ? -1 : (int64_t)(seconds * 1000), print_lock_wait,
                          NULL);
    return lake;
}

dl_lake *cli_lake_open_read(const cli_args *args) {
    return open_lake(args, true);
}

bool cli_parse_time_us(const char *text, int64_t *out) {
    dl_error err;
    return text && dl_parse_time_us(text, out, &err) == DL_OK;
}

bool cli_parse_duration_us(const char *text, int64_t *out) {
    if (!text || !isdigit((unsigned char)text[0])) return false;
    char *end;
    long long n = strtoll(text, &end, 10);
    int64_t unit = dl_duration_unit_us(*end);
    if (unit == 0 || end[1] || n <= 0 || n > INT64_MAX / unit) return false;
    *out = n * unit;
    return true;
}

static void format_ts(int64_t us, char *buf, size_t size) {
    if (us == INT64_MAX || us == INT64_MIN)
        snprintf(buf, size, "-");
    else
        dl_format_timestamp(us, DL_UNIT_US, buf, size);
}

static int print_buf(cli_buf *b, int code) {
    fwrite(b->data, 1, b->len, stdout);
    cli_buf_free(b);
    return cli_finish_stdout(code);
}

/* ---- init ---- */

static const cli_option init_options[] = {
    ROOT_OPTION,
    {"force", NULL, "accept a non-empty directory with other (non-lake) content"},
    {"recover", NULL,
     "rebuild a lost, empty or damaged catalog from the backup and the files themselves"},
    JSON_OPTION};
static const cli_spec init_spec = {
    "init",
    "[--root DIR] [--force | --recover [--json]]",
    "Create an empty lake: DIR/.dl/catalog.db (SQLite, WAL) and the .dl/ work\n"
    "directories.  Safe to run on an existing lake.  Refuses /, system and home\n"
    "directories, a directory with other content (unless --force) and a directory\n"
    "holding lake data without a usable catalog: --recover rebuilds that catalog\n"
    "from .dl/catalog.db.bak (written after every commit) and the files (footers,\n"
    "SHA-256, .dl/versions/), marking days whose file is gone as missing.\n",
    init_options,
    (int)(sizeof init_options / sizeof init_options[0]),
    0,
    0};

static int recover_catalog(const char *root, bool json) {
    dl_error err;
    dl_lake_rebuild_result r;
    if (dl_lake_rebuild_catalog(root, &r, &err) != DL_OK) return cli_fail(&err);
    const char *start = r.from_catalog ? "catalog" : r.from_backup ? "backup" : "files";
    if (json)
        printf("{\"start\":\"%s\",\"datasets\":%" PRId64 ",\"files_indexed\":%" PRId64
               ",\"archives_indexed\":%" PRId64 ",\"days_missing\":%" PRId64
               ",\"quarantined\":%" PRId64 "}\n",
               start, r.datasets, r.files_indexed, r.archives_indexed, r.days_missing,
               r.quarantined);
    else
        printf("rebuilt the catalog of %s (from the %s): %" PRId64 " datasets, %" PRId64
               " day files and %" PRId64 " archived files indexed, %" PRId64
               " days missing, %" PRId64 " unreadable files quarantined\n",
               root, start, r.datasets, r.files_indexed, r.archives_indexed, r.days_missing,
               r.quarantined);
    return cli_finish_stdout(0);
}

int cli_cmd_init(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&init_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    const char *root = cli_lake_root_dir(&args);
    bool force = cli_get(&args, "force") != NULL, recover = cli_get(&args, "recover") != NULL;
    if (force && recover)
        return cli_usage_error(&init_spec, "--force and --recover exclude each other");
    if (recover) return recover_catalog(root, cli_get(&args, "json") != NULL);
    dl_error err;
    if (dl_lake_init_flags(root, force ? DL_LAKE_INIT_FORCE : 0, &err) != DL_OK) {
        rc = cli_fail(&err);
        if (err.code == DL_ECONFLICT && strstr(err.message, "rebuild"))
            fprintf(stderr, "dl: to rebuild it: dl init --recover --root %s\n", root);
        else if (err.code == DL_ECONFLICT)
            fprintf(stderr, "dl: to use it anyway: dl init --force --root %s\n", root);
        return rc;
    }
    printf("initialised lake at %s\n", root);
    return cli_finish_stdout(0);
}

/* ---- ls / info ---- */

static const cli_option ls_options[] = {ROOT_OPTION, JSON_OPTION};
static const cli_spec ls_spec = {
    "ls",
    "[--json] [--root DIR]",
    "List the datasets: time range, rows, files, bytes, version, missing periods.\n"
    "Answered from the catalog alone.  JSON times are epoch ms.\n",
    ls_options,
    2,
    0,
    0};

int cli_cmd_ls(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&ls_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    dl_lake *lake = cli_lake_open_read(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_dataset_info *items = NULL;
    int64_t n = 0;
    if (dl_lake_datasets(lake, &items, &n, &err) != DL_OK) {
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    cli_buf b = {0};
    if (cli_get(&args, "json")) {
        dl_json_datasets(&b, items, n);
    } else {
        cli_buf_printf(&b, "%-40s %-24s %-24s %12s %6s %14s %4s %8s\n", "DATASET", "FIRST", "LAST",
                       "ROWS", "FILES", "BYTES", "VER", "MISSING");
        for (int64_t i = 0; i < n; i++) {
            char a[40], z[40];
            format_ts(items[i].ts_min, a, sizeof a);
            format_ts(items[i].ts_max, z, sizeof z);
            cli_buf_printf(&b,
                           "%-40s %-24s %-24s %12" PRId64 " %6" PRId64 " %14" PRId64 " %4" PRId64
                           " %8" PRId64 "\n",
                           items[i].name, a, z, items[i].rows, items[i].files, items[i].bytes,
                           items[i].version, items[i].missing);
        }
    }
    dl_free(items);
    dl_lake_close(lake);
    return print_buf(&b, 0);
}

static const cli_option info_options[] = {ROOT_OPTION, JSON_OPTION};
static const cli_spec info_spec = {
    "info",
    "DATASET [--json] [--root DIR]",
    "Describe one dataset (e.g. BINANCE/SPOT/BTCUSDT/raw/1m): range, rows, files,\n"
    "bytes, version, gaps and its union schema.  Catalog only.\n",
    info_options,
    2,
    1,
    1};

int cli_cmd_info(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&info_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    dl_lake *lake = cli_lake_open_read(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_dataset_info d;
    dl_schema schema;
    dl_schema_init(&schema);
    if (dl_lake_dataset_info(lake, args.args[0], &d, &err) != DL_OK ||
        dl_lake_dataset_schema(lake, args.args[0], &schema, &err) != DL_OK) {
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    cli_buf b = {0};
    if (cli_get(&args, "json")) {
        dl_json_dataset(&b, &d, &schema);
        cli_buf_putc(&b, '\n');
    } else {
        char a[40], z[40];
        format_ts(d.ts_min, a, sizeof a);
        format_ts(d.ts_max, z, sizeof z);
        cli_buf_printf(&b,
                       "dataset   %s\nversion   %" PRId64 "\nrange     %s .. %s\nrows      %" PRId64
                       "\nfiles     %" PRId64 "\nbytes     %" PRId64 "\n",
                       d.name, d.version, a, z, d.rows, d.files, d.bytes);
        if (d.period_us)
            cli_buf_printf(&b, "gaps      %" PRId64 " ranges, %" PRId64 " missing periods\n",
                           d.gap_ranges, d.missing);
        cli_buf_puts(&b, "columns\n");
        for (int i = 0; i < schema.num_fields; i++) {
            char type[64];
            cli_describe_type(&schema.fields[i], type, sizeof type);
            cli_buf_printf(&b, "  %-24s %s\n", schema.fields[i].name, type);
        }
    }
    dl_schema_free(&schema);
    dl_lake_close(lake);
    return print_buf(&b, 0);
}

/* ---- verify ---- */

static const cli_option verify_options[] = {
    ROOT_OPTION,
    JSON_OPTION,
    {"repair", NULL,
     "roll back unfinished commits, remove stray temporary files, quarantine day files "
     "the catalog does not know, and quarantine missing or damaged day files (the day is "
     "marked missing until its source is ingested again)"},
    {"restore", NULL,
     "with --repair: give a missing or damaged day back its newest intact version from "
     ".dl/versions/ instead of marking it missing"},
    CLI_LOCK_TIMEOUT_OPTION};
static const cli_spec verify_spec = {
    "verify",
    "[DATASET] [--repair [--restore]] [--json] [--root DIR]",
    "Re-hash every catalogued file (live and archived versions) against its recorded\n"
    "SHA-256 and walk the live tree for files the catalog does not know (and, without\n"
    "DATASET, that the sources of every live feature version are still readable with\n"
    "the recorded checksums: kind \"lineage\").  Only files\n"
    "of the lake's layout are ever moved (to .dl/quarantine/, never deleted); other\n"
    "files are reported as foreign and left alone.  Read-only lakes are checked\n"
    "read-only.  Exit status 0 when clean (or everything was repaired), 1 when\n"
    "problems remain (a day marked missing stays one until it is written again).\n",
    verify_options,
    (int)(sizeof verify_options / sizeof verify_options[0]),
    0,
    1};

int cli_cmd_verify(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&verify_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    bool restore = cli_get(&args, "restore") != NULL;
    bool repair = restore || cli_get(&args, "repair") != NULL;
    /* Verify rolls back dead writers' unfinished commits as every writable
    ** open does, but also checks a lake it may not write (read-only). */
    char dl_dir[4096];
    snprintf(dl_dir, sizeof dl_dir, "%s/.dl", cli_lake_root_dir(&args));
    bool writable = repair || access(dl_dir, W_OK) == 0;
    dl_lake *lake = writable ? cli_lake_open(&args) : cli_lake_open_read(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_verify_report rep = {0};
    unsigned flags = (repair ? DL_VERIFY_REPAIR : 0) | (restore ? DL_VERIFY_RESTORE : 0);
    if (dl_lake_verify_flags(lake, args.num_args ? args.args[0] : NULL, flags, &rep, &err) !=
            DL_OK ||
        (!args.num_args && dl_features_verify(lake, &rep, &err) != DL_OK)) {
        dl_verify_report_free(&rep);
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    int64_t open_issues = dl_verify_open_issues(&rep);
    cli_buf b = {0};
    if (cli_get(&args, "json")) {
        dl_json_verify(&b, &rep);
    } else {
        for (int64_t i = 0; i < rep.count; i++)
            cli_buf_printf(&b, "%-12s %s: %s%s\n", dl_verify_kind_name(rep.issues[i].kind),
                           rep.issues[i].path, rep.issues[i].detail,
                           rep.issues[i].repaired ? " [repaired]" : "");
        cli_buf_printf(&b,
                       "%s: %" PRId64 " files (%" PRId64 " bytes) checked, %" PRId64 " problem%s\n",
                       open_issues ? "FAILED" : "ok", rep.files_checked, rep.bytes_checked,
                       open_issues, open_issues == 1 ? "" : "s");
    }
    dl_verify_report_free(&rep);
    dl_lake_close(lake);
    return print_buf(&b, open_issues ? CLI_EXIT_ERROR : 0);
}

/* ---- gaps ---- */

static const cli_option gaps_options[] = {ROOT_OPTION, JSON_OPTION};
static const cli_spec gaps_spec = {
    "gaps",
    "DATASET [--json] [--root DIR]",
    "Missing periods of a periodic dataset (1s, 1m, 1h, 1d ...), computed at ingest\n"
    "and stored in the catalog.  JSON: [{\"from_ts\":..,\"to_ts\":..,\"missing\":..}] with\n"
    "from_ts/to_ts the first and last missing period start in epoch ms.\n",
    gaps_options,
    2,
    1,
    1};

int cli_cmd_gaps(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&gaps_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    dl_lake *lake = cli_lake_open_read(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_lake_gap *gaps = NULL;
    int64_t n = 0;
    if (dl_lake_gaps(lake, args.args[0], &gaps, &n, &err) != DL_OK) {
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    cli_buf b = {0};
    if (cli_get(&args, "json")) dl_json_gaps(&b, gaps, n);
    for (int64_t i = 0; i < n && !cli_get(&args, "json"); i++) {
        char a[40], z[40];
        format_ts(gaps[i].from_ts, a, sizeof a);
        format_ts(gaps[i].to_ts, z, sizeof z);
        cli_buf_printf(&b, "%s .. %s  %" PRId64 " missing\n", a, z, gaps[i].missing);
    }
    dl_free(gaps);
    dl_lake_close(lake);
    return print_buf(&b, 0);
}

/* ---- history ---- */

static const cli_option history_options[] = {ROOT_OPTION, JSON_OPTION};
static const cli_spec history_spec = {
    "history",
    "DATASET [--json] [--root DIR]",
    "The versions of a dataset, oldest first: commit time, rows written, files\n"
    "added and replaced, and whether vacuum removed its superseded files.\n",
    history_options,
    2,
    1,
    1};

int cli_cmd_history(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&history_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    dl_lake *lake = cli_lake_open_read(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_lake_version *v = NULL;
    int64_t n = 0;
    if (dl_lake_history(lake, args.args[0], &v, &n, &err) != DL_OK) {
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    cli_buf b = {0};
    if (cli_get(&args, "json")) {
        dl_json_history(&b, v, n);
    } else {
        cli_buf_printf(&b, "%-8s %-28s %10s %6s %8s %s\n", "VERSION", "COMMITTED", "ROWS", "ADDED",
                       "REPLACED", "MESSAGE");
        for (int64_t i = 0; i < n; i++) {
            char t[40];
            format_ts(v[i].committed_at, t, sizeof t);
            cli_buf_printf(&b, "%-8" PRId64 " %-28s %10" PRId64 " %6" PRId64 " %8" PRId64 " %s%s\n",
                           v[i].version, t, v[i].rows_written, v[i].files_added,
                           v[i].files_replaced, v[i].vacuumed ? "(vacuumed) " : "", v[i].message);
        }
    }
    dl_free(v);
    dl_lake_close(lake);
    return print_buf(&b, 0);
}

/* ---- vacuum ---- */

static const cli_option vacuum_options[] = {
    ROOT_OPTION,
    JSON_OPTION,
    {"keep-versions", "N", "keep the newest N versions of each dataset readable"},
    {"older-than", "DURATION", "drop versions superseded more than DURATION ago (30d, 12h, ...)"},
    {"dry-run", NULL, "report what would be removed, remove nothing"},
    {"force", NULL, "also remove source versions that live feature versions were derived from"}};
static const cli_spec vacuum_spec = {
    "vacuum",
    "[DATASET] (--keep-versions N | --older-than DURATION) [--dry-run] [--force] [--json]",
    "Delete archived (superseded) day files that no retained version needs, and\n"
    "mark older versions as vacuumed: `dl read --as-of-version` then refuses them.\n"
    "Live data is never touched.  Source versions that a live feature version was\n"
    "derived from stay readable unless --force.\n",
    vacuum_options,
    (int)(sizeof vacuum_options / sizeof vacuum_options[0]),
    0,
    1};

int cli_cmd_vacuum(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&vacuum_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    dl_lake_vacuum_options vo = {0};
    const char *keep = cli_get(&args, "keep-versions"), *older = cli_get(&args, "older-than");
    if (keep && !cli_parse_i64(keep, 1, INT64_MAX, &vo.keep_versions))
        return cli_usage_error(&vacuum_spec, "--keep-versions needs an integer >= 1");
    if (older && !cli_parse_duration_us(older, &vo.older_than_us))
        return cli_usage_error(&vacuum_spec, "--older-than needs a duration like 30d, 12h, 90m");
    if (!keep && !older)
        return cli_usage_error(&vacuum_spec, "give --keep-versions or --older-than");
    vo.dry_run = cli_get(&args, "dry-run") != NULL;
    vo.force = cli_get(&args, "force") != NULL;
    dl_lake *lake = cli_lake_open(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_lake_vacuum_result vr;
    if (dl_lake_vacuum(lake, args.num_args ? args.args[0] : NULL, &vo, &vr, &err) != DL_OK) {
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    dl_lake_close(lake);
    cli_buf b = {0};
    if (cli_get(&args, "json"))
        cli_buf_printf(&b,
                       "{\"files_removed\":%" PRId64 ",\"bytes_freed\":%" PRId64
                       ",\"versions_vacuumed\":%" PRId64 ",\"dry_run\":%s}\n",
                       vr.files_removed, vr.bytes_freed, vr.versions_vacuumed,
                       vo.dry_run ? "true" : "false");
    else
        cli_buf_printf(
            &b, "%s%" PRId64 " archived files (%" PRId64 " bytes), %" PRId64 " versions vacuumed\n",
            vo.dry_run ? "would remove " : "removed ", vr.files_removed, vr.bytes_freed,
            vr.versions_vacuumed);
    return print_buf(&b, 0);
}

/* ---- read ---- */

static const cli_option read_options[] = {
    ROOT_OPTION,
    {"from", "TIME", "first ts (epoch ms or ISO-8601, inclusive)"},
    {"to", "TIME", "end ts (exclusive)"},
    {"as-of-version", "N", "read the dataset as version N was"},
    {"as-of", "TIME", "read the dataset as it was at TIME"},
    {"format", "FMT", "table, csv (default) or jsonl"},
    {"limit", "N", "print at most N rows"}};
static const cli_spec read_spec = {
    "read",
    "DATASET [--from T] [--to T] [--as-of-version N | --as-of T] [--format F] [--limit N]",
    "Print the rows of a dataset with the uniform view: the union of all columns\n"
    "(missing values null), sorted by ts.  With --as-of-version/--as-of, exactly what\n"
    "was visible then (superseded files are read from .dl/versions/).\n",
    read_options,
    7,
    1,
    1};

int cli_cmd_read(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&read_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    int64_t from = INT64_MIN, to = INT64_MAX, version = 0, limit = -1, at = 0;
    const char *v;
    if ((v = cli_get(&args, "from")) && !cli_parse_time_us(v, &from))
        return cli_usage_error(&read_spec, "--from: not a time: %s", v);
    if ((v = cli_get(&args, "to")) && !cli_parse_time_us(v, &to))
        return cli_usage_error(&read_spec, "--to: not a time: %s", v);
    if ((v = cli_get(&args, "as-of-version")) && !cli_parse_i64(v, 1, INT64_MAX, &version))
        return cli_usage_error(&read_spec, "--as-of-version needs an integer >= 1");
    if ((v = cli_get(&args, "limit")) && !cli_parse_i64(v, 0, INT64_MAX, &limit))
        return cli_usage_error(&read_spec, "--limit needs an integer >= 0");
    const char *as_of = cli_get(&args, "as-of");
    if (as_of && !cli_parse_time_us(as_of, &at))
        return cli_usage_error(&read_spec, "--as-of: not a time: %s", as_of);
    if (as_of && version)
        return cli_usage_error(&read_spec, "give --as-of-version or --as-of, not both");
    if (from > to) return cli_usage_error(&read_spec, "--from is after --to: the range is empty");
    cli_format fmt = CLI_FORMAT_CSV;
    if ((v = cli_get(&args, "format")) && !cli_format_parse(v, &fmt))
        return cli_usage_error(&read_spec, "--format must be table, csv or jsonl");
    dl_lake *lake = cli_lake_open_read(&args);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err;
    dl_table t;
    if ((as_of && dl_lake_version_at(lake, args.args[0], at, &version, &err) != DL_OK) ||
        dl_lake_read(lake, args.args[0], from, to, version, &t, &err) != DL_OK) {
        dl_lake_close(lake);
        return cli_fail(&err);
    }
    dl_lake_close(lake);
    cli_row_writer *w = cli_row_writer_new(fmt, t.schema.fields, t.schema.num_fields, stdout);
    int64_t n = limit >= 0 && limit < t.num_rows ? limit : t.num_rows;
    cli_row_writer_rows(w, t.columns, 0, n);
    cli_row_writer_finish(w);
    dl_table_free(&t);
    return cli_finish_stdout(0);
}
