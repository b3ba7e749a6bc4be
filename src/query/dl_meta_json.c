/*
** dl_meta_json.c -- the JSON renderings of the lake's metadata: dataset
** listings and descriptions (`dl ls`/`dl info --json`), version history,
** gaps and verify reports.  One rendering for the CLI and the data server,
** so scripts see the same documents from both.  Times are epoch
** milliseconds (the lake stores microseconds), strings JSON-escaped.
*/
#include <inttypes.h>
#include <string.h>

#include "util/dl_internal.h"

static void json_str(dl_text *t, const char *s) {
    dl_text_json_string(t, s, strlen(s));
}

/* "{...}" of one dataset, without the closing brace. */
static void dataset_fields(dl_text *t, const dl_dataset_info *d) {
    dl_text_puts(t, "{\"dataset\":");
    json_str(t, d->name);
    const char *keys[] = {"exchange", "market", "symbol", "type", "period"};
    const char *values[] = {d->id.exchange, d->id.market, d->id.symbol, d->id.type, d->id.period};
    for (int i = 0; i < 5; i++) {
        dl_text_printf(t, ",\"%s\":", keys[i]);
        json_str(t, values[i]);
    }
    dl_text_printf(
        t, ",\"version\":%" PRId64 ",\"files\":%" PRId64 ",\"rows\":%" PRId64 ",\"bytes\":%" PRId64,
        d->version, d->files, d->rows, d->bytes);
    if (d->files > 0)
        dl_text_printf(t, ",\"first_ts\":%" PRId64 ",\"last_ts\":%" PRId64, d->ts_min / 1000,
                       d->ts_max / 1000);
    else
        dl_text_puts(t, ",\"first_ts\":null,\"last_ts\":null");
    dl_text_printf(t, ",\"gap_ranges\":%" PRId64 ",\"missing\":%" PRId64, d->gap_ranges,
                   d->missing);
}

int dl_json_dataset(dl_text *t, const dl_dataset_info *d, const dl_schema *schema) {
    DL_REQUIRE_OR_RETURN(t && d, DL_EINVAL);
    dataset_fields(t, d);
    if (schema) {
        dl_text_puts(t, ",\"columns\":[");
        for (int i = 0; i < schema->num_fields; i++) {
            char type[64];
            dl_field_describe(&schema->fields[i], type, sizeof type);
            dl_text_puts(t, i ? ",{\"name\":" : "{\"name\":");
            json_str(t, schema->fields[i].name);
            dl_text_puts(t, ",\"type\":");
            json_str(t, type);
            dl_text_putc(t, '}');
        }
        dl_text_putc(t, ']');
    }
    dl_text_putc(t, '}');
    return t->status;
}

int dl_json_datasets(dl_text *t, const dl_dataset_info *items, int64_t count) {
    DL_REQUIRE_OR_RETURN(t && (items || count == 0), DL_EINVAL);
    dl_text_putc(t, '[');
    for (int64_t i = 0; i < count; i++) {
        if (i) dl_text_putc(t, ',');
        dl_json_dataset(t, &items[i], NULL);
    }
    dl_text_puts(t, "]\n");
    return t->status;
}

int dl_json_history(dl_text *t, const dl_lake_version *v, int64_t count) {
    DL_REQUIRE_OR_RETURN(t && (v || count == 0), DL_EINVAL);
    dl_text_putc(t, '[');
    for (int64_t i = 0; i < count; i++) {
        dl_text_printf(t,
                       "%s{\"version\":%" PRId64 ",\"committed_at\":%" PRId64 ",\"run_id\":%" PRId64
                       ",\"rows_written\":%" PRId64 ",\"files_added\":%" PRId64
                       ",\"files_replaced\":%" PRId64 ",\"vacuumed\":%s,\"message\":",
                       i ? "," : "", v[i].version, v[i].committed_at / 1000, v[i].run_id,
                       v[i].rows_written, v[i].files_added, v[i].files_replaced,
                       v[i].vacuumed ? "true" : "false");
        json_str(t, v[i].message);
        dl_text_putc(t, '}');
    }
    dl_text_puts(t, "]\n");
    return t->status;
}

int dl_json_gaps(dl_text *t, const dl_lake_gap *g, int64_t count) {
    DL_REQUIRE_OR_RETURN(t && (g || count == 0), DL_EINVAL);
    dl_text_putc(t, '[');
    for (int64_t i = 0; i < count; i++)
        dl_text_printf(t,
                       "%s{\"from_ts\":%" PRId64 ",\"to_ts\":%" PRId64 ",\"missing\":%" PRId64 "}",
                       i ? "," : "", g[i].from_ts / 1000, g[i].to_ts / 1000, g[i].missing);
    dl_text_puts(t, "]\n");
    return t->status;
}

int64_t dl_verify_open_issues(const dl_verify_report *r) {
    DL_REQUIRE_OR_RETURN(r, 0);
    int64_t open = 0;
    /* a foreign file is reported but is not the lake's problem */
    for (int64_t i = 0; i < r->count; i++)
        open += !r->issues[i].repaired && r->issues[i].kind != DL_VERIFY_FOREIGN;
    return open;
}

int dl_json_verify(dl_text *t, const dl_verify_report *r) {
    DL_REQUIRE_OR_RETURN(t && r, DL_EINVAL);
    dl_text_printf(
        t, "{\"files_checked\":%" PRId64 ",\"bytes_checked\":%" PRId64 ",\"ok\":%s,\"issues\":[",
        r->files_checked, r->bytes_checked, dl_verify_open_issues(r) ? "false" : "true");
    for (int64_t i = 0; i < r->count; i++) {
        dl_text_printf(t, "%s{\"kind\":\"%s\",\"path\":", i ? "," : "",
                       dl_verify_kind_name(r->issues[i].kind));
        json_str(t, r->issues[i].path);
        dl_text_puts(t, ",\"detail\":");
        json_str(t, r->issues[i].detail);
        dl_text_printf(t, ",\"repaired\":%s}", r->issues[i].repaired ? "true" : "false");
    }
    dl_text_puts(t, "]}\n");
    return t->status;
}
