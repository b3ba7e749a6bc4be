/*
** dl_connector.c -- connector plugins: find the shared object (a path, or
** a name looked up in $DL_PLUGIN_PATH), dlopen it, check its ABI version
** and struct size, and run a sync: for each symbol whose range the lake
** does not already cover, fetch [from, to) through the plugin and append
** every batch to ONE lake transaction, so any failure writes nothing.
*/
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "connectors/dl_connector_internal.h"

#define PLUGIN_STRUCT_ROOM 4096 /* bytes the entry may fill (a newer, larger struct) */
#define PLUGIN_MAX_COLUMNS 1024

typedef struct plugin_run {
    const dl_plugin_sync_options *opts;
    dl_plugin_sync_result *out;
    dl_lake *lake;
    dl_connector_host host;
    void *handle;
    union {
        dl_connector c;
        unsigned char room[PLUGIN_STRUCT_ROOM];
    } conn;
    bool opened;
    char path[4096];
    /* the fetch in progress */
    dl_lake_txn *txn;
    const char *dataset;
    int64_t from_us, to_us;
    char cursor[DL_CONNECTOR_CURSOR_MAX];
    dl_error *err;
} plugin_run;

#define run_log(o, ...) dl_connector_log((o)->log, (o)->log_ctx, __VA_ARGS__)

/* ---- host services ---- */

static void host_log(void *ctx, int level, const char *line) {
    plugin_run *r = ctx;
    run_log(r->opts, "%s%s: %s", level > 0 ? "warning: " : "", r->out->plugin_name,
            line ? line : "");
}

static int64_t host_now_us(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int host_cancelled(void *ctx) {
    plugin_run *r = ctx;
    return r->opts->cancel && *r->opts->cancel;
}

static int host_http_get(void *ctx, const char *url, int64_t max_bytes, char **body,
                         int64_t *body_len, long *status, char *errbuf, size_t errlen) {
    (void)ctx;
    return dl_connector_http_get(url, max_bytes, body, body_len, status, errbuf, errlen);
}

static void host_free_buffer(void *ctx, void *buffer) {
    (void)ctx;
    free(buffer);
}

/* ---- loading ---- */

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A path with a '/' is taken as is; a bare name is looked up as NAME and
** NAME.so in each directory of $DL_PLUGIN_PATH. */
static int resolve_plugin(const char *name, char *path, size_t size, dl_error *err) {
    if (strchr(name, '/')) {
        snprintf(path, size, "%s", name);
        return DL_OK;
    }
    const char *dirs = getenv("DL_PLUGIN_PATH");
    for (const char *d = dirs; d && *d;) {
        size_t len = strcspn(d, ":");
        if (len > 0) {
            for (int with_so = 0; with_so < 2; with_so++) {
                snprintf(path, size, "%.*s/%s%s", (int)len, d, name, with_so ? ".so" : "");
                if (is_file(path)) return DL_OK;
            }
        }
        d += len + (d[len] == ':');
    }
    return dl_error_set(err, DL_ENOTFOUND,
                        "plugin: '%s' is not in any directory of $DL_PLUGIN_PATH (%s)", name,
                        dirs && *dirs ? dirs : "unset");
}

static int load_plugin(plugin_run *r, dl_error *err) {
    int rc = resolve_plugin(r->opts->plugin, r->path, sizeof r->path, err);
    if (rc != DL_OK) return rc;
    r->handle = dlopen(r->path, RTLD_NOW | RTLD_LOCAL);
    if (!r->handle) {
        const char *why = dlerror();
        return dl_error_set(err, DL_ENOTFOUND, "plugin %s cannot be loaded: %s", r->path,
                            why ? why : "unknown dlopen error");
    }
    dl_connector_entry_fn entry;
    void *sym = dlsym(r->handle, DL_CONNECTOR_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry); /* object -> function pointer, POSIX dlsym */
    if (!sym)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "plugin %s exports no '%s' function: it is not a dl connector", r->path,
                            DL_CONNECTOR_ENTRY_SYMBOL);
    r->host = (dl_connector_host){
        .abi_version = DL_CONNECTOR_ABI_VERSION,
        .struct_size = (uint32_t)sizeof(dl_connector_host),
        .host_ctx = r,
        .log = host_log,
        .now_us = host_now_us,
        .cancelled = host_cancelled,
        .http_get = host_http_get,
        .free_buffer = host_free_buffer,
    };
    snprintf(r->out->plugin_name, sizeof r->out->plugin_name, "plugin");
    char msg[512] = "";
    rc = entry(&r->host, r->opts->plugin_options, &r->conn.c, msg, sizeof msg);
    dl_connector *c = &r->conn.c;
    if (c->abi_version != DL_CONNECTOR_ABI_VERSION)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "plugin %s was built for connector ABI version %u; this library "
                            "speaks version %u: rebuild it against this datalake.h",
                            r->path, (unsigned)c->abi_version, DL_CONNECTOR_ABI_VERSION);
    if (c->struct_size < sizeof(dl_connector) || c->struct_size > PLUGIN_STRUCT_ROOM)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "plugin %s declares a connector struct of %u bytes; this library "
                            "(ABI version %u) needs %zu: rebuild it against this datalake.h",
                            r->path, (unsigned)c->struct_size, DL_CONNECTOR_ABI_VERSION,
                            sizeof(dl_connector));
    if (rc != DL_OK)
        return dl_error_set(err, rc, "plugin %s refused to start: %s", r->path,
                            msg[0] ? msg : dl_status_name(rc));
    r->opened = c->close != NULL;
    if (!c->describe || !c->fetch || !c->close)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "plugin %s lacks a describe, fetch or close callback", r->path);
    return DL_OK;
}

static void unload_plugin(plugin_run *r) {
    if (r->opened) r->conn.c.close(r->conn.c.self);
    if (r->handle) dlclose(r->handle);
}

static int describe_plugin(plugin_run *r, dl_connector_info *info, dl_error *err) {
    char msg[512] = "";
    memset(info, 0, sizeof *info);
    int rc = r->conn.c.describe(r->conn.c.self, info, msg, sizeof msg);
    if (rc != DL_OK)
        return dl_error_set(err, rc, "plugin %s: describe failed: %s", r->path,
                            msg[0] ? msg : dl_status_name(rc));
    if (!info->name || !*info->name || strlen(info->name) >= sizeof r->out->plugin_name ||
        !info->version || strlen(info->version) >= sizeof r->out->plugin_version ||
        info->num_kinds < 1 || info->num_kinds > DL_CONNECTOR_MAX_KINDS)
        return dl_error_set(err, DL_ECORRUPT,
                            "plugin %s describes itself badly (a name under 64 bytes, a version "
                            "under 32 bytes and 1..%d kinds are needed)",
                            r->path, DL_CONNECTOR_MAX_KINDS);
    for (int i = 0; i < info->num_kinds; i++)
        if (!info->kinds[i] || !*info->kinds[i])
            return dl_error_set(err, DL_ECORRUPT, "plugin %s: kind %d has no name", r->path, i);
    snprintf(r->out->plugin_name, sizeof r->out->plugin_name, "%s", info->name);
    snprintf(r->out->plugin_version, sizeof r->out->plugin_version, "%s", info->version);
    return DL_OK;
}

/* ---- the sync ---- */

/* Checks a plugin's batch is a well-formed table whose rows lie in the
** range asked for (a plugin is code we run, but its data is still input). */
static int check_batch(plugin_run *r, const dl_table *t, dl_error *err) {
    if (!t || t->schema.num_fields < 1 || t->schema.num_fields > PLUGIN_MAX_COLUMNS ||
        !t->schema.fields || !t->columns || t->num_rows < 0)
        return dl_error_set(err, DL_ECORRUPT, "plugin %s emitted a malformed batch for %s", r->path,
                            r->dataset);
    int ts = -1;
    for (int i = 0; i < t->schema.num_fields; i++) {
        const dl_column *c = &t->columns[i];
        const dl_field *f = &t->schema.fields[i];
        if (!f->name || c->length != t->num_rows || c->type != f->type ||
            (t->num_rows > 0 && dl_type_width(c->type) > 0 && !c->values))
            return dl_error_set(err, DL_ECORRUPT,
                                "plugin %s emitted a malformed column %d for %s (name, type or "
                                "length disagree with the batch)",
                                r->path, i, r->dataset);
        if (strcmp(f->name, "ts") == 0) ts = i;
    }
    if (ts < 0 || t->schema.fields[ts].type != DL_TYPE_TIMESTAMP ||
        t->schema.fields[ts].unit != DL_UNIT_US || t->columns[ts].validity)
        return dl_error_set(err, DL_ECORRUPT,
                            "plugin %s emitted a batch for %s without a non-null microsecond "
                            "TIMESTAMP column 'ts'",
                            r->path, r->dataset);
    const int64_t *tv = t->columns[ts].values;
    for (int64_t i = 0; i < t->num_rows; i++)
        if (tv[i] < r->from_us || tv[i] >= r->to_us)
            return dl_error_set(err, DL_ECORRUPT,
                                "plugin %s emitted a row of %s at ts %lld us, outside the range "
                                "asked for [%lld, %lld)",
                                r->path, r->dataset, (long long)tv[i], (long long)r->from_us,
                                (long long)r->to_us);
    return DL_OK;
}

static int on_emit(void *ctx, const dl_table *rows, const char *cursor) {
    plugin_run *r = ctx;
    if (host_cancelled(r)) return dl_error_set(r->err, DL_EIO, "sync cancelled; nothing written");
    int rc = check_batch(r, rows, r->err);
    if (rc == DL_OK && rows->num_rows > 0)
        rc = dl_lake_txn_append(r->txn, r->dataset, rows, r->err);
    if (rc != DL_OK) return rc;
    r->out->batches++;
    r->out->rows += rows->num_rows;
    snprintf(r->cursor, sizeof r->cursor, "%s", cursor ? cursor : "");
    return DL_OK;
}

static int dataset_name(const char *prefix, const char *symbol, const char *kind, char *out,
                        dl_error *err) {
    char exchange[DL_LAKE_COMPONENT_MAX + 1] = "", market[DL_LAKE_COMPONENT_MAX + 1] = "";
    const char *slash = strchr(prefix, '/');
    if (!slash || strchr(slash + 1, '/') || slash == prefix || !slash[1] ||
        (size_t)(slash - prefix) > DL_LAKE_COMPONENT_MAX ||
        strlen(slash + 1) > DL_LAKE_COMPONENT_MAX)
        return dl_error_set(err, DL_EINVAL,
                            "plugin sync: the dataset prefix must be EXCHANGE/MARKET, not '%s'",
                            prefix);
    memcpy(exchange, prefix, (size_t)(slash - prefix));
    snprintf(market, sizeof market, "%s", slash + 1);
    dl_dataset_id id;
    int rc = dl_dataset_id_make(exchange, market, symbol, "ticks", kind, &id, err);
    if (rc == DL_OK) dl_dataset_format(&id, out, DL_DATASET_NAME_MAX);
    return rc;
}

static int check_options(const dl_plugin_sync_options *o, dl_error *err) {
    if (!o->plugin || !*o->plugin)
        return dl_error_set(err, DL_EINVAL, "plugin sync: name the plugin to load");
    if (!o->symbols || o->num_symbols <= 0)
        return dl_error_set(err, DL_EINVAL, "plugin sync: name at least one symbol");
    for (int i = 0; i < o->num_symbols; i++)
        if (!o->symbols[i] || !*o->symbols[i])
            return dl_error_set(err, DL_EINVAL, "plugin sync: symbol %d is empty", i + 1);
    if (o->to_day <= o->from_day)
        return dl_error_set(err, DL_EINVAL,
                            "plugin sync: the range is empty (from must be before to)");
    return DL_OK;
}

/* Datasets of the symbols the lake does not cover yet; NULL-named when covered. */
static int plan_datasets(plugin_run *r, const char *prefix, const char *kind,
                         char (*datasets)[DL_DATASET_NAME_MAX], const char **todo, int *num_todo,
                         dl_error *err) {
    const dl_plugin_sync_options *o = r->opts;
    *num_todo = 0;
    for (int i = 0; i < o->num_symbols; i++) {
        int rc = dataset_name(prefix, o->symbols[i], kind, datasets[i], err);
        bool have = false;
        if (rc == DL_OK)
            rc = dl_connector_days_covered(r->lake, datasets[i], o->from_day, o->to_day - 1, &have,
                                           err);
        if (rc != DL_OK) return rc;
        if (have) {
            r->out->symbols_skipped++;
            run_log(o, "already in the lake: %s", datasets[i]);
            todo[i] = NULL;
        } else {
            todo[i] = datasets[i];
            (*num_todo)++;
        }
    }
    return DL_OK;
}

static int fetch_symbol(plugin_run *r, const char *symbol, const char *kind, const char *dataset,
                        dl_error *err) {
    char msg[512] = "";
    r->dataset = dataset;
    r->cursor[0] = 0;
    int rc = r->conn.c.fetch(r->conn.c.self, symbol, kind, r->from_us, r->to_us, "", on_emit, r,
                             msg, sizeof msg);
    if (rc != DL_OK && err->code == DL_OK)
        return dl_error_set(err, rc, "plugin %s: fetching %s failed: %s", r->path, dataset,
                            msg[0] ? msg : dl_status_name(rc));
    if (rc != DL_OK) return err->code;
    if (host_cancelled(r)) return dl_error_set(err, DL_EIO, "sync cancelled; nothing written");
    run_log(r->opts, "fetched %s (cursor '%s')", dataset, r->cursor);
    return DL_OK;
}

int dl_sync_plugin(dl_lake *lake, const dl_plugin_sync_options *o, dl_plugin_sync_result *out,
                   dl_error *err) {
    dl_error local = {0};
    if (!err) err = &local;
    if (!lake || !o || !out) return dl_error_set(err, DL_EINVAL, "plugin sync: missing argument");
    memset(out, 0, sizeof *out);
    dl_error_clear(err);
    int rc = check_options(o, err);
    if (rc != DL_OK) return rc;
    plugin_run *r = calloc(1, sizeof *r);
    char(*datasets)[DL_DATASET_NAME_MAX] = calloc((size_t)o->num_symbols, sizeof *datasets);
    const char **todo = calloc((size_t)o->num_symbols, sizeof *todo);
    if (!r || !datasets || !todo) {
        rc = dl_error_set(err, DL_ENOMEM, "plugin sync: out of memory");
        goto cleanup;
    }
    r->opts = o;
    r->out = out;
    r->lake = lake;
    r->err = err;
    r->from_us = o->from_day * 86400000000LL;
    r->to_us = o->to_day * 86400000000LL;
    if ((rc = load_plugin(r, err)) != DL_OK) goto cleanup;
    dl_connector_info info;
    if ((rc = describe_plugin(r, &info, err)) != DL_OK) goto cleanup;
    const char *kind = o->kind && *o->kind ? o->kind : info.kinds[0];
    bool offered = false;
    for (int i = 0; i < info.num_kinds; i++) offered |= strcmp(info.kinds[i], kind) == 0;
    if (!offered) {
        rc = dl_error_set(err, DL_EINVAL, "plugin %s (%s %s) offers no kind '%s'", r->path,
                          info.name, info.version, kind);
        goto cleanup;
    }
    char prefix[2 * DL_LAKE_COMPONENT_MAX + 8];
    if (o->dataset_prefix && *o->dataset_prefix)
        snprintf(prefix, sizeof prefix, "%s", o->dataset_prefix);
    else
        snprintf(prefix, sizeof prefix, "%.64s/FEED", info.name);
    int num_todo = 0;
    if ((rc = plan_datasets(r, prefix, kind, datasets, todo, &num_todo, err)) != DL_OK)
        goto cleanup;
    if (num_todo == 0) goto cleanup;
    const char **names = calloc((size_t)num_todo, sizeof *names);
    if (!names) {
        rc = dl_error_set(err, DL_ENOMEM, "plugin sync: out of memory");
        goto cleanup;
    }
    for (int i = 0, k = 0; i < o->num_symbols; i++)
        if (todo[i]) names[k++] = todo[i];
    dl_lake_write_options wo;
    dl_lake_write_options_default(&wo);
    wo.command = "sync plugin";
    rc = dl_lake_txn_begin(lake, names, num_todo, &wo, &r->txn, err);
    free(names);
    for (int i = 0; i < o->num_symbols && rc == DL_OK; i++)
        if (todo[i]) rc = fetch_symbol(r, o->symbols[i], kind, todo[i], err);
    if (rc == DL_OK) {
        rc = dl_lake_txn_commit(r->txn, &out->write, err);
        r->txn = NULL;
    }
cleanup:
    if (r && r->txn) dl_lake_txn_abort(r->txn);
    if (r) unload_plugin(r);
    free(r);
    free(datasets);
    free(todo);
    return rc;
}
