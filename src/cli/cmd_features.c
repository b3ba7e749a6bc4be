/*
** cmd_features.c -- `dl features SUBCOMMAND`: the feature store.
**   import   publish a CSV/Parquet file as NAME@VERSION
**   get      point-in-time retrieval for an entity file (+ manifests)
**   alias    point an alias at a version (or list / show history)
**   ls, versions, info, lineage, delete
** Every subcommand has --help and --json; the work is libdatalake's
** dl_features_* calls.
*/
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lake.h"

#define ROOT_OPT                                                                                   \
    { "root", "DIR", "lake root (default $DL_ROOT, else ./lake)" }
#define JSON_OPT                                                                                   \
    { "json", NULL, "print JSON" }
#define ASOF_OPT                                                                                   \
    {                                                                                              \
        "as-of-system-time", "TIME",                                                               \
            "what the catalog knew at TIME: later versions, alias changes and deletions are "      \
            "hidden"                                                                               \
    }

static void json_str(cli_buf *b, const char *s) {
    cli_append_json_string(b, (const uint8_t *)s, strlen(s));
}

static void put_time(cli_buf *b, int64_t us, bool json) {
    char t[48];
    if (us == 0 || us == INT64_MAX || us == INT64_MIN) {
        cli_buf_puts(b, json ? "null" : "-");
        return;
    }
    dl_format_timestamp(us, DL_UNIT_US, t, sizeof t);
    if (json)
        json_str(b, t);
    else
        cli_buf_puts(b, t);
}

static int print_buf(cli_buf *b) {
    fwrite(b->data, 1, b->len, stdout);
    cli_buf_free(b);
    return cli_finish_stdout(CLI_EXIT_OK);
}

/* "NAME@REF" -> name, ref (ref "" when absent). */
static bool split_ref(const char *text, char *name, size_t nsize, char *ref, size_t rsize) {
    const char *at = strchr(text, '@');
    size_t n = at ? (size_t)(at - text) : strlen(text);
    if (n == 0 || n >= nsize || (at && strlen(at + 1) >= rsize)) return false;
    memcpy(name, text, n);
    name[n] = 0;
    snprintf(ref, rsize, "%s", at ? at + 1 : "");
    return true;
}

static bool parse_asof(const cli_args *a, const cli_spec *spec, int64_t *out, int *exit_code) {
    const char *v = cli_get(a, "as-of-system-time");
    *out = 0;
    if (v && !cli_parse_time_us(v, out)) {
        *exit_code =
            cli_usage_error(spec, "--as-of-system-time wants an ISO-8601 time, got '%s'", v);
        return false;
    }
    return true;
}

/* ---- import ---- */

static const cli_option import_options[] = {
    {"name", "NAME", "feature set name (letters, digits, _ -)"},
    {"version", "SEMVER", "version to publish (SemVer 2.0: 1.0.0, 1.2.0-experimental)"},
    {"entity-col", "COL", "column holding the entity (symbol)"},
    {"ts-col", "COL", "event time column (ISO-8601 UTC or epoch ms in CSV)"},
    {"available-at-col", "COL", "when each value became knowable (default ts + interval + lag)"},
    {"derived-from", "DATASET[@V],...", "source datasets (lake versions) recorded as lineage"},
    {"interval", "DURATION",
     "source bar interval added to ts (default: the first source's period)"},
    {"lag", "DURATION", "declared publication lag added to ts (default 0)"},
    {"message", "TEXT", "recorded with the version"},
    {"no-fsync", NULL, "skip syncfs (a power cut may lose the last commit)"},
    JSON_OPT,
    ROOT_OPT,
};

static const cli_spec import_spec = {
    "features import",
    "FILE --name NAME --version SEMVER --entity-col COL --ts-col COL [--available-at-col COL] "
    "[--derived-from DATASET[@VERSION],...]",
    "Publish FILE (CSV with a header, or Parquet) as version SEMVER of feature set NAME.\n"
    "Columns other than the entity, ts and available_at columns are the features.\n"
    "A published version is immutable: importing the same content again does nothing,\n"
    "different content under an existing version is refused (exit 1, nothing changes).\n",
    import_options,
    (int)(sizeof import_options / sizeof import_options[0]),
    1,
    1,
};

static int cmd_import(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&import_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_features_import_options o;
    dl_features_import_options_default(&o);
    o.name = cli_get(&a, "name");
    o.version = cli_get(&a, "version");
    o.entity_column = cli_get(&a, "entity-col");
    o.ts_column = cli_get(&a, "ts-col");
    o.available_at_column = cli_get(&a, "available-at-col");
    o.message = cli_get(&a, "message");
    o.durable = cli_get(&a, "no-fsync") == NULL;
    if (!o.name || !o.version || !o.entity_column || !o.ts_column)
        return cli_usage_error(&import_spec,
                               "--name, --version, --entity-col and --ts-col are required");
    const char *v;
    if ((v = cli_get(&a, "interval")) && !cli_parse_duration_us(v, &o.interval_us))
        return cli_usage_error(&import_spec, "--interval needs a duration like 1m, 1h; got '%s'",
                               v);
    if ((v = cli_get(&a, "lag")) && !cli_parse_duration_us(v, &o.lag_us))
        return cli_usage_error(&import_spec, "--lag needs a duration like 30s, 5m; got '%s'", v);
    char *copy = NULL;
    const char **srcs = NULL;
    if ((v = cli_get(&a, "derived-from"))) {
        o.num_derived_from = cli_split_list(v, &copy, &srcs);
        o.derived_from = srcs;
    }
    dl_error err = {0};
    dl_features_publish_result r;
    dl_lake *lake = cli_lake_open(&a);
    int rc = lake ? dl_features_import(lake, a.args[0], &o, &r, &err) : DL_EIO;
    dl_lake_close(lake);
    free(copy);
    free(srcs);
    if (!lake) return CLI_EXIT_ERROR;
    if (rc != DL_OK) return cli_fail(&err);
    cli_buf b = {0};
    if (cli_get(&a, "json")) {
        cli_buf_puts(&b, "{\"name\":");
        json_str(&b, r.name);
        cli_buf_puts(&b, ",\"version\":");
        json_str(&b, r.version);
        cli_buf_printf(&b,
                       ",\"identity\":\"%s\",\"unchanged\":%s,\"rows\":%" PRId64
                       ",\"symbols\":%" PRId64 "}\n",
                       r.identity, r.unchanged ? "true" : "false", r.rows, r.symbols);
    } else if (r.unchanged) {
        cli_buf_printf(
            &b, "%s@%s is already published with this content (identity %.12s); nothing changed\n",
            r.name, r.version, r.identity);
    } else {
        cli_buf_printf(&b,
                       "published %s@%s: %" PRId64 " rows, %" PRId64 " symbols (identity %.12s)\n",
                       r.name, r.version, r.rows, r.symbols, r.identity);
    }
    return print_buf(&b);
}

/* ---- get ---- */

static const cli_option get_options[] = {
    {"entities", "FILE", "CSV with header symbol,ts (ts ISO-8601 UTC or epoch ms)"},
    {"features", "NAME@REF,...", "feature sets: NAME@1.2.0, NAME@production, NAME@latest"},
    {"ttl", "DURATION", "ignore feature rows older than this before the entity time (90m, 2h)"},
    ASOF_OPT,
    {"format", "FMT", "csv (default), jsonl or table"},
    {"output", "FILE", "write to FILE instead of stdout"},
    {"manifest", "FILE",
     "with --entities/--features: write a manifest; alone: reproduce the manifest's output"},
    ROOT_OPT,
};

static const cli_spec get_spec = {
    "features get",
    "--entities FILE --features NAME@REF[,NAME@REF...] [--ttl DURATION] [--as-of-system-time ISO] "
    "--format csv [--output FILE] [--manifest FILE]",
    "Point-in-time retrieval: for every entity row (symbol, ts), in the entity file's\n"
    "order, the feature row of that symbol with the greatest ts among those with\n"
    "ts <= entity ts and available_at <= entity ts (and entity ts - ts <= TTL),\n"
    "ties by the greatest available_at; empty when none.  Output columns: symbol, ts,\n"
    "then NAME__COLUMN per feature column.\n"
    "\n"
    "--manifest FILE with --entities and --features records the entity file's hash,\n"
    "the resolved versions, lake versions, options and the output's hash.  Given\n"
    "alone, it reproduces that output byte for byte (exit 1 if it cannot).\n",
    get_options,
    (int)(sizeof get_options / sizeof get_options[0]),
    0,
    0,
};

/* Renders the table, hashes the bytes, writes them out. */
static int write_rows(const dl_table *t, cli_format fmt, const char *output, char sha[65],
                      dl_error *err) {
    char *mem = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&mem, &len);
    if (!m) return dl_error_set(err, DL_ENOMEM, "out of memory");
    cli_row_writer *w = cli_row_writer_new(fmt, t->schema.fields, t->schema.num_fields, m);
    cli_row_writer_rows(w, t->columns, 0, t->num_rows);
    cli_row_writer_finish(w);
    fclose(m);
    dl_sha256_hex(mem, len, sha);
    int rc = DL_OK;
    FILE *f = output ? fopen(output, "wb") : stdout;
    if (!f) {
        rc = dl_error_set(err, DL_EIO, "%s: cannot create: %s", output, strerror(errno));
    } else {
        if (fwrite(mem, 1, len, f) != len)
            rc = dl_error_set(err, DL_EIO, "%s: write error", output ? output : "stdout");
        if (output && fclose(f) != 0 && rc == DL_OK)
            rc = dl_error_set(err, DL_EIO, "%s: write error", output);
    }
    free(mem);
    return rc;
}

typedef struct get_job {
    const char *entities;
    const char **refs;
    int num_refs;
    dl_features_get_options opts;
    cli_format format;
    const char *format_name;
    const char *output;
} get_job;

static int run_get(dl_lake *lake, const get_job *j, dl_feature_resolved *resolved, char out_sha[65],
                   char ent_sha[65], dl_error *err) {
    dl_table ents, out;
    memset(&out, 0, sizeof out);
    int rc = dl_sha256_file(j->entities, ent_sha, err);
    if (rc != DL_OK) return rc;
    rc = dl_features_read_entities(j->entities, &ents, err);
    if (rc != DL_OK) return rc;
    rc = dl_features_get(lake, &ents, j->refs, j->num_refs, &j->opts, &out, resolved, err);
    if (rc == DL_OK) rc = write_rows(&out, j->format, j->output, out_sha, err);
    dl_table_free(&ents);
    dl_table_free(&out);
    return rc;
}

/* Reproduces a manifest: same entity bytes, exact versions, same options. */
static int reproduce(dl_lake *lake, const char *path, const cli_args *a, dl_error *err) {
    dl_features_manifest m;
    int rc = dl_features_manifest_read(path, &m, err);
    if (rc != DL_OK) return rc;
    get_job j = {0};
    char ent_sha[65], out_sha[65];
    char(*refs)[DL_FEATURE_NAME_MAX + DL_FEATURE_VERSION_MAX + 2] =
        calloc((size_t)m.num_features, sizeof *refs);
    j.refs = calloc((size_t)m.num_features, sizeof *j.refs);
    if (!refs || !j.refs) {
        rc = dl_error_set(err, DL_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < m.num_features; i++) {
        snprintf(refs[i], sizeof refs[i], "%s@%s", m.features[i].name, m.features[i].version);
        j.refs[i] = refs[i];
    }
    j.num_refs = m.num_features;
    j.entities = cli_get(a, "entities") ? cli_get(a, "entities") : m.entities_path;
    j.opts.ttl_us = m.ttl_us;
    j.opts.as_of_system_time = m.as_of_system_time;
    j.output = cli_get(a, "output");
    j.format_name = m.format;
    if (!cli_format_parse(m.format, &j.format)) {
        rc = dl_error_set(err, DL_ECORRUPT, "%s: unknown format '%s'", path, m.format);
        goto cleanup;
    }
    dl_feature_resolved *res = calloc((size_t)m.num_features, sizeof *res);
    if (!res) {
        rc = dl_error_set(err, DL_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = dl_sha256_file(j.entities, ent_sha, err);
    if (rc == DL_OK && strcmp(ent_sha, m.entities_sha256) != 0)
        rc = dl_error_set(
            err, DL_ECONFLICT,
            "entity file %s has changed since the manifest was written (SHA-256 %.12s, "
            "manifest %.12s)",
            j.entities, ent_sha, m.entities_sha256);
    if (rc == DL_OK) rc = run_get(lake, &j, res, out_sha, ent_sha, err);
    for (int i = 0; rc == DL_OK && i < m.num_features; i++)
        if (strcmp(res[i].identity, m.features[i].identity) != 0)
            rc = dl_error_set(err, DL_ECONFLICT,
                              "%s@%s has another identity than the manifest records", res[i].name,
                              res[i].version);
    if (rc == DL_OK && strcmp(out_sha, m.output_sha256) != 0)
        rc = dl_error_set(err, DL_ECONFLICT,
                          "the output differs from the manifest's (SHA-256 %.12s, manifest %.12s)",
                          out_sha, m.output_sha256);
    free(res);
cleanup:
    free(refs);
    free(j.refs);
    dl_features_manifest_free(&m);
    return rc;
}

static int cmd_get(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&get_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    get_job j = {0};
    j.entities = cli_get(&a, "entities");
    const char *features = cli_get(&a, "features"), *manifest = cli_get(&a, "manifest"), *v;
    j.output = cli_get(&a, "output");
    j.format_name = cli_get(&a, "format") ? cli_get(&a, "format") : "csv";
    if (!cli_format_parse(j.format_name, &j.format))
        return cli_usage_error(&get_spec, "--format wants csv, jsonl or table, got '%s'",
                               j.format_name);
    if ((v = cli_get(&a, "ttl")) && !cli_parse_duration_us(v, &j.opts.ttl_us))
        return cli_usage_error(&get_spec, "--ttl needs a duration like 90m or 2h; got '%s'", v);
    if (!parse_asof(&a, &get_spec, &j.opts.as_of_system_time, &prc)) return prc;
    bool replay = manifest && !features;
    if (!replay && (!j.entities || !features))
        return cli_usage_error(&get_spec,
                               "--entities and --features are required (or --manifest alone)");
    dl_error err = {0};
    dl_lake *lake = NULL;
    int rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    char *copy = NULL;
    dl_feature_resolved *res = NULL;
    if (rc == DL_OK && replay) {
        rc = reproduce(lake, manifest, &a, &err);
    } else if (rc == DL_OK) {
        j.num_refs = cli_split_list(features, &copy, &j.refs);
        res = calloc((size_t)(j.num_refs ? j.num_refs : 1), sizeof *res);
        char ent_sha[65], out_sha[65];
        rc = run_get(lake, &j, res, out_sha, ent_sha, &err);
        if (rc == DL_OK && manifest) {
            dl_features_manifest m = {0};
            snprintf(m.entities_path, sizeof m.entities_path, "%s", j.entities);
            memcpy(m.entities_sha256, ent_sha, 65);
            memcpy(m.output_sha256, out_sha, 65);
            m.features = res;
            m.num_features = j.num_refs;
            m.ttl_us = j.opts.ttl_us;
            m.as_of_system_time = j.opts.as_of_system_time;
            snprintf(m.format, sizeof m.format, "%s", j.format_name);
            rc = dl_features_manifest_write(lake, &m, manifest, &err);
        }
    }
    free(res);
    free(copy);
    free(j.refs);
    dl_lake_close(lake);
    if (rc != DL_OK) return cli_fail(&err);
    return cli_finish_stdout(CLI_EXIT_OK);
}

/* ---- alias ---- */

static const cli_option alias_options[] = {
    {"remove", NULL, "remove ALIAS (no VERSION)"},
    {"history", NULL, "list every alias change of NAME with its time"},
    ASOF_OPT,
    JSON_OPT,
    ROOT_OPT,
};

static const cli_spec alias_spec = {
    "features alias",
    "NAME ALIAS VERSION | NAME ALIAS --remove | NAME [--history] [--as-of-system-time T]",
    "Point ALIAS (production, staging, any name) of feature set NAME at VERSION.\n"
    "The swap is atomic and recorded with its time; with NAME alone, list the\n"
    "aliases (as they stood at --as-of-system-time), or every change (--history).\n",
    alias_options,
    (int)(sizeof alias_options / sizeof alias_options[0]),
    1,
    3,
};

static int cmd_alias(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&alias_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    int64_t as_of;
    if (!parse_asof(&a, &alias_spec, &as_of, &prc)) return prc;
    bool remove = cli_get(&a, "remove") != NULL, json = cli_get(&a, "json") != NULL;
    if (a.num_args == 2 && !remove)
        return cli_usage_error(&alias_spec,
                               "give the VERSION the alias should point at, or --remove");
    if (a.num_args == 3 && remove) return cli_usage_error(&alias_spec, "--remove takes no VERSION");
    dl_lake *lake = cli_lake_open(&a);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err = {0};
    int rc;
    cli_buf b = {0};
    if (a.num_args >= 2) {
        const char *version = a.num_args == 3 ? a.args[2] : NULL;
        rc = dl_features_alias_set(lake, a.args[0], a.args[1], version, &err);
        if (rc == DL_OK) {
            if (json) {
                cli_buf_puts(&b, "{\"name\":");
                json_str(&b, a.args[0]);
                cli_buf_puts(&b, ",\"alias\":");
                json_str(&b, a.args[1]);
                cli_buf_puts(&b, ",\"version\":");
                if (version)
                    json_str(&b, version);
                else
                    cli_buf_puts(&b, "null");
                cli_buf_puts(&b, "}\n");
            } else if (version) {
                cli_buf_printf(&b, "%s@%s -> %s\n", a.args[0], a.args[1], version);
            } else {
                cli_buf_printf(&b, "removed alias %s of %s\n", a.args[1], a.args[0]);
            }
        }
    } else {
        dl_feature_alias *al = NULL;
        int64_t n = 0;
        rc = dl_features_aliases(lake, a.args[0], as_of, cli_get(&a, "history") != NULL, &al, &n,
                                 &err);
        if (json) cli_buf_puts(&b, "[");
        for (int64_t i = 0; rc == DL_OK && i < n; i++) {
            if (json) {
                cli_buf_puts(&b, i ? ",{\"alias\":" : "{\"alias\":");
                json_str(&b, al[i].alias);
                cli_buf_puts(&b, ",\"version\":");
                if (al[i].version[0])
                    json_str(&b, al[i].version);
                else
                    cli_buf_puts(&b, "null");
                cli_buf_puts(&b, ",\"set_at\":");
                put_time(&b, al[i].set_at, true);
                cli_buf_puts(&b, "}");
            } else {
                cli_buf_printf(&b, "%-16s %-24s ", al[i].alias,
                               al[i].version[0] ? al[i].version : "(removed)");
                put_time(&b, al[i].set_at, false);
                cli_buf_putc(&b, '\n');
            }
        }
        if (json) cli_buf_puts(&b, "]\n");
        dl_features_free(al);
    }
    dl_lake_close(lake);
    if (rc != DL_OK) {
        cli_buf_free(&b);
        return cli_fail(&err);
    }
    return print_buf(&b);
}

/* ---- ls / versions ---- */

static void version_json(cli_buf *b, const dl_feature_version *v) {
    cli_buf_puts(b, "{\"name\":");
    json_str(b, v->name);
    cli_buf_puts(b, ",\"version\":");
    json_str(b, v->version);
    cli_buf_printf(b,
                   ",\"identity\":\"%s\",\"rows\":%" PRId64 ",\"symbols\":%" PRId64
                   ",\"columns\":%d,\"ts_min\":",
                   v->identity, v->rows, v->symbols, v->num_columns);
    put_time(b, v->ts_min, true);
    cli_buf_puts(b, ",\"ts_max\":");
    put_time(b, v->ts_max, true);
    cli_buf_puts(b, ",\"committed_at\":");
    put_time(b, v->committed_at, true);
    cli_buf_puts(b, ",\"deleted_at\":");
    put_time(b, v->deleted_at, true);
    cli_buf_puts(b, ",\"message\":");
    json_str(b, v->message);
    cli_buf_puts(b, "}");
}

static void version_line(cli_buf *b, const dl_feature_version *v) {
    cli_buf_printf(b, "%-20s %-22s %10" PRId64 " %6" PRId64 "  ", v->name, v->version, v->rows,
                   v->symbols);
    put_time(b, v->committed_at, false);
    if (v->deleted_at) cli_buf_puts(b, "  (deleted)");
    cli_buf_putc(b, '\n');
}

static const cli_option versions_options[] = {
    {"all", NULL, "include deleted versions"},
    ASOF_OPT,
    JSON_OPT,
    ROOT_OPT,
};

static const cli_spec versions_spec = {
    "features versions",
    "NAME [--all] [--as-of-system-time T] [--json]",
    "The versions of feature set NAME in SemVer precedence order.\n",
    versions_options,
    (int)(sizeof versions_options / sizeof versions_options[0]),
    1,
    1,
};

static const cli_spec ls_spec = {
    "features ls",
    "[--all] [--as-of-system-time T] [--json]",
    "Every version of every feature set (name, version, rows, symbols, commit time).\n",
    versions_options,
    (int)(sizeof versions_options / sizeof versions_options[0]),
    0,
    0,
};

static int list_versions(const cli_spec *spec, int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    int64_t as_of;
    if (!parse_asof(&a, spec, &as_of, &prc)) return prc;
    dl_lake *lake = NULL;
    dl_error err = {0};
    dl_feature_version *vs = NULL;
    int64_t n = 0;
    int rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    if (rc == DL_OK)
        rc = dl_features_versions(lake, a.num_args ? a.args[0] : NULL, as_of,
                                  cli_get(&a, "all") != NULL, &vs, &n, &err);
    dl_lake_close(lake);
    if (rc != DL_OK) return cli_fail(&err);
    cli_buf b = {0};
    bool json = cli_get(&a, "json") != NULL;
    if (json)
        cli_buf_puts(&b, "[");
    else
        cli_buf_printf(&b, "%-20s %-22s %10s %6s  %s\n", "NAME", "VERSION", "ROWS", "SYMS",
                       "COMMITTED");
    for (int64_t i = 0; i < n; i++) {
        if (json) {
            if (i) cli_buf_putc(&b, ',');
            version_json(&b, &vs[i]);
        } else {
            version_line(&b, &vs[i]);
        }
    }
    if (json) cli_buf_puts(&b, "]\n");
    dl_features_free(vs);
    return print_buf(&b);
}

static int cmd_versions(int argc, char **argv) {
    return list_versions(&versions_spec, argc, argv);
}
static int cmd_ls(int argc, char **argv) {
    return list_versions(&ls_spec, argc, argv);
}

/* ---- info / lineage / delete: one NAME@REF argument ---- */

static const cli_option ref_options[] = {ASOF_OPT, JSON_OPT, ROOT_OPT};

static const cli_spec info_spec = {
    "features info",
    "NAME@REF [--json]",
    "One version: identity, rows, range, columns, aliases pointing at it.  REF is a\n"
    "version, an alias or latest.\n",
    ref_options,
    (int)(sizeof ref_options / sizeof ref_options[0]),
    1,
    1,
};

static const cli_spec lineage_spec = {
    "features lineage",
    "NAME@REF [--json]",
    "Where a version came from: its transform (kernels and parameters, or the imported\n"
    "file and its SHA-256), the dl version, message, time, and every source dataset\n"
    "with its lake version and the SHA-256 of every source file.\n",
    ref_options,
    (int)(sizeof ref_options / sizeof ref_options[0]),
    1,
    1,
};

static const cli_spec delete_spec = {
    "features delete",
    "NAME@VERSION [--json]",
    "Hide a version from listings and resolution (aliases pointing at it are removed).\n"
    "Its data stays, so --as-of-system-time before the deletion still reproduces; a\n"
    "deleted version string is never reused.\n",
    ref_options + 1,
    2,
    1,
    1,
};

/* Parses and resolves the NAME@REF argument. */
static int resolve_arg(dl_lake *lake, const char *arg, int64_t as_of, char *name, char *version,
                       dl_error *err) {
    char ref[DL_FEATURE_VERSION_MAX + 1];
    if (!split_ref(arg, name, DL_FEATURE_NAME_MAX + 1, ref, sizeof ref))
        return dl_error_set(err, DL_EINVAL, "'%s' is not NAME@VERSION, NAME@ALIAS or NAME@latest",
                            arg);
    return dl_features_resolve(lake, name, ref[0] ? ref : "latest", as_of, version, err);
}

static int cmd_info(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&info_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    int64_t as_of;
    if (!parse_asof(&a, &info_spec, &as_of, &prc)) return prc;
    dl_lake *lake = NULL;
    dl_error err = {0};
    char name[DL_FEATURE_NAME_MAX + 1], version[DL_FEATURE_VERSION_MAX + 1];
    dl_feature_version *vs = NULL;
    dl_feature_alias *al = NULL;
    int64_t nv = 0, na = 0;
    dl_schema cols;
    dl_schema_init(&cols);
    cli_buf b = {0};
    bool json = cli_get(&a, "json") != NULL;
    int rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    if (rc == DL_OK) rc = resolve_arg(lake, a.args[0], as_of, name, version, &err);
    if (rc == DL_OK) rc = dl_features_versions(lake, name, as_of, true, &vs, &nv, &err);
    if (rc == DL_OK) rc = dl_features_aliases(lake, name, as_of, false, &al, &na, &err);
    if (rc == DL_OK) rc = dl_features_schema(lake, name, version, &cols, &err);
    const dl_feature_version *v = NULL;
    for (int64_t i = 0; rc == DL_OK && i < nv; i++)
        if (strcmp(vs[i].version, version) == 0) v = &vs[i];
    if (rc == DL_OK && !v) {
        dl_error_set(&err, DL_ENOTFOUND, "%s@%s not found", name, version);
        rc = DL_ENOTFOUND;
    }
    if (rc == DL_OK) {
        if (json) {
            cli_buf_puts(&b, "{\"version\":");
            version_json(&b, v);
            cli_buf_puts(&b, ",\"columns\":[");
        } else {
            version_line(&b, v);
            cli_buf_printf(&b, "identity: %s\ncolumns:\n", v->identity);
        }
        for (int c = 0; c < cols.num_fields; c++) {
            char type[64];
            cli_describe_type(&cols.fields[c], type, sizeof type);
            if (json) {
                cli_buf_puts(&b, c ? ",{\"name\":" : "{\"name\":");
                json_str(&b, cols.fields[c].name);
                cli_buf_puts(&b, ",\"type\":");
                json_str(&b, type);
                cli_buf_puts(&b, "}");
            } else {
                cli_buf_printf(&b, "  %-24s %s\n", cols.fields[c].name, type);
            }
        }
        cli_buf_puts(&b, json ? "],\"aliases\":[" : "aliases:");
        int k = 0;
        for (int64_t i = 0; i < na; i++) {
            if (strcmp(al[i].version, version) != 0) continue;
            if (json) {
                if (k) cli_buf_putc(&b, ',');
                json_str(&b, al[i].alias);
            } else {
                cli_buf_printf(&b, " %s", al[i].alias);
            }
            k++;
        }
        cli_buf_puts(&b, json ? "]}\n" : "\n");
    }
    dl_features_free(vs);
    dl_features_free(al);
    dl_schema_free(&cols);
    dl_lake_close(lake);
    if (rc != DL_OK) {
        cli_buf_free(&b);
        return cli_fail(&err);
    }
    return print_buf(&b);
}

static int cmd_lineage(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&lineage_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    int64_t as_of;
    if (!parse_asof(&a, &lineage_spec, &as_of, &prc)) return prc;
    dl_lake *lake = NULL;
    dl_error err = {0};
    char name[DL_FEATURE_NAME_MAX + 1], version[DL_FEATURE_VERSION_MAX + 1];
    char *json = NULL;
    int rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    if (rc == DL_OK) rc = resolve_arg(lake, a.args[0], as_of, name, version, &err);
    if (rc == DL_OK) rc = dl_features_lineage(lake, name, version, &json, &err);
    dl_lake_close(lake);
    if (rc != DL_OK) return cli_fail(&err);
    cli_buf b = {0};
    if (cli_get(&a, "json")) {
        cli_buf_puts(&b, json);
        cli_buf_putc(&b, '\n');
    } else {
        char *text = NULL;
        rc = dl_features_lineage_text(json, &text, &err);
        if (rc == DL_OK) cli_buf_puts(&b, text);
        dl_features_free(text);
    }
    dl_features_free(json);
    if (rc != DL_OK) {
        cli_buf_free(&b);
        return cli_fail(&err);
    }
    return print_buf(&b);
}

static int cmd_delete(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&delete_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    char name[DL_FEATURE_NAME_MAX + 1], ref[DL_FEATURE_VERSION_MAX + 1];
    if (!split_ref(a.args[0], name, sizeof name, ref, sizeof ref) || !ref[0])
        return cli_usage_error(&delete_spec, "'%s' is not NAME@VERSION", a.args[0]);
    dl_lake *lake = cli_lake_open(&a);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err = {0};
    int rc = dl_features_delete(lake, name, ref, &err);
    dl_lake_close(lake);
    if (rc != DL_OK) return cli_fail(&err);
    cli_buf b = {0};
    if (cli_get(&a, "json")) {
        cli_buf_puts(&b, "{\"name\":");
        json_str(&b, name);
        cli_buf_puts(&b, ",\"version\":");
        json_str(&b, ref);
        cli_buf_puts(&b, ",\"deleted\":true}\n");
    } else {
        cli_buf_printf(&b, "deleted %s@%s\n", name, ref);
    }
    return print_buf(&b);
}

/* ---- build ---- */

static const cli_option build_options[] = {
    {"no-fsync", NULL, "skip syncfs (a power cut may lose the last commit)"},
    JSON_OPT,
    ROOT_OPT,
};

static const cli_spec build_spec = {
    "features build",
    "SPEC.json [--json] [--no-fsync]",
    "Compute a feature set from lake datasets with the built-in kernels and publish\n"
    "it as a version.  SPEC is JSON:\n"
    "  {\"name\": \"bars\", \"version\": \"1.0.0\", \"sources\": [\"BINANCE/SPOT/*USDT/raw/1m\"],\n"
    "   \"from\": \"2024-01-01\", \"to\": \"2024-03-01\", \"lag\": \"0s\",\n"
    "   \"kernels\": [{\"kernel\": \"returns\", \"column\": \"close\", \"bars\": 1},\n"
    "               {\"kernel\": \"rolling_std\", \"column\": \"close\", \"window\": \"1h\"},\n"
    "               {\"kernel\": \"ema\", \"span\": 20}, {\"kernel\": \"atr\", \"window\": "
    "\"14m\"}]}\n"
    "Kernels: returns, log_returns (bars), rolling_mean|std|min|max|sum|count, zscore,\n"
    "vwap, realized_vol, atr, taker_imbalance (window), ema (span or alpha), true_range;\n"
    "\"as\" names the output column.  available_at = ts + the source period + lag.\n"
    "The same spec on the same sources again is a no-op; a different spec or changed\n"
    "sources under a published version are refused.\n",
    build_options,
    (int)(sizeof build_options / sizeof build_options[0]),
    1,
    1,
};

static int read_spec_file(const char *path, cli_buf *b, dl_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return dl_error_set(err, DL_ENOTFOUND, "%s: cannot open: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    int rc = DL_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > (16u << 20)) {
            rc = dl_error_set(err, DL_EINVAL, "%s: larger than 16 MiB; not a spec", path);
            break;
        }
        cli_buf_put(b, chunk, n);
    }
    fclose(f);
    return rc;
}

static int cmd_build(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&build_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_error err = {0};
    cli_buf spec = {0};
    int rc = read_spec_file(a.args[0], &spec, &err);
    if (rc != DL_OK) return cli_fail(&err);
    dl_lake *lake = cli_lake_open(&a);
    if (!lake) {
        cli_buf_free(&spec);
        return CLI_EXIT_ERROR;
    }
    dl_features_build_result r;
    double t0 = cli_now_seconds();
    rc = dl_features_build(lake, spec.data ? spec.data : "", spec.len, a.args[0],
                           cli_get(&a, "no-fsync") == NULL, &r, &err);
    double secs = cli_now_seconds() - t0;
    dl_lake_close(lake);
    cli_buf_free(&spec);
    if (rc != DL_OK) return cli_fail(&err);
    const dl_features_publish_result *p = &r.publish;
    cli_buf b = {0};
    if (cli_get(&a, "json")) {
        cli_buf_puts(&b, "{\"name\":");
        json_str(&b, p->name);
        cli_buf_puts(&b, ",\"version\":");
        json_str(&b, p->version);
        cli_buf_printf(&b,
                       ",\"identity\":\"%s\",\"unchanged\":%s,\"rows_in\":%" PRId64
                       ",\"rows\":%" PRId64 ",\"symbols\":%" PRId64 ",\"seconds\":%.3f}\n",
                       p->identity, p->unchanged ? "true" : "false", r.rows_in, p->rows, p->symbols,
                       secs);
    } else if (p->unchanged) {
        cli_buf_printf(
            &b, "%s@%s is already built from these sources with this spec (identity %.12s)\n",
            p->name, p->version, p->identity);
    } else {
        cli_buf_printf(&b,
                       "built %s@%s: %" PRId64 " bars -> %" PRId64 " rows, %" PRId64
                       " symbols in %.2f s (identity %.12s)\n",
                       p->name, p->version, r.rows_in, p->rows, p->symbols, secs, p->identity);
    }
    return print_buf(&b);
}

/* ---- dispatch ---- */

static const cli_command subcommands[] = {
    {"import", cmd_import, "publish a CSV or Parquet file as NAME@VERSION"},
    {"build", cmd_build, "compute a feature set from lake datasets with built-in kernels"},
    {"get", cmd_get, "point-in-time retrieval for an entity file (symbol,ts)"},
    {"alias", cmd_alias, "point an alias at a version; list aliases or their history"},
    {"ls", cmd_ls, "every version of every feature set"},
    {"versions", cmd_versions, "the versions of one feature set"},
    {"info", cmd_info, "one version: identity, rows, columns, aliases"},
    {"lineage", cmd_lineage, "sources, transform and file checksums of a version"},
    {"delete", cmd_delete, "hide a version (its data stays for reproducibility)"},
};

static void features_usage(FILE *f) {
    fprintf(f, "usage: dl features SUBCOMMAND [ARGS]   (dl features SUBCOMMAND --help)\n\n"
               "The feature store: versioned feature sets with aliases, lineage and\n"
               "point-in-time retrieval.\n\nsubcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
}

int cli_cmd_features(int argc, char **argv) {
    if (argc < 2) {
        features_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        features_usage(stdout);
        return cli_finish_stdout(CLI_EXIT_OK);
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dl features: unknown subcommand '%s'\n", argv[1]);
    features_usage(stderr);
    return CLI_EXIT_USAGE;
}
