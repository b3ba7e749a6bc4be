/*
** dl_schema_json.c -- the lake's schema <-> JSON text codec, used for the
** `schema` columns of the catalog: [{"name":"ts","type":"TIMESTAMP",
** "unit":"us","utc":true,"nullable":false},..].  The parser accepts exactly
** what the encoder writes and checks every step (a catalog can be damaged).
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"

int dl_schema_to_json(const dl_schema *schema, dl_buf *out, dl_error *err) {
    int rc = dl_buf_append_u8(out, '[');
    for (int i = 0; rc == DL_OK && i < schema->num_fields; i++) {
        const dl_field *f = &schema->fields[i];
        if (i) rc = dl_buf_append_u8(out, ',');
        if (rc == DL_OK) rc = dl_buf_printf(out, "{\"name\":");
        if (rc == DL_OK) rc = dl_json_append_string(out, f->name);
        if (rc == DL_OK) rc = dl_buf_printf(out, ",\"type\":\"%s\"", dl_type_name(f->type));
        if (rc == DL_OK && f->type == DL_TYPE_TIMESTAMP)
            rc = dl_buf_printf(out, ",\"unit\":\"%s\",\"utc\":%s", dl_unit_name(f->unit),
                               f->utc ? "true" : "false");
        if (rc == DL_OK)
            rc = dl_buf_printf(out, ",\"nullable\":%s}", f->nullable ? "true" : "false");
    }
    if (rc == DL_OK) rc = dl_buf_append_u8(out, ']');
    if (rc == DL_OK) rc = dl_buf_append_u8(out, 0);
    if (rc != DL_OK) return dl_error_set(err, DL_ENOMEM, "out of memory encoding a schema");
    out->len--; /* keep the NUL out of the length */
    return DL_OK;
}

/* A tiny parser for exactly the JSON dl_schema_to_json writes; the catalog
** could still be damaged, so every step is checked. */
typedef struct json_cursor {
    const char *p;
} json_cursor;

static void skip_ws(json_cursor *c) {
    while (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' || *c->p == '\r') c->p++;
}
static bool expect(json_cursor *c, char ch) {
    skip_ws(c);
    if (*c->p != ch) return false;
    c->p++;
    return true;
}
static bool parse_string(json_cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (*c->p != '"') return false;
    c->p++;
    size_t n = 0;
    while (*c->p && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            ch = *c->p++;
            if (ch == 'u') {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    if (!isxdigit((unsigned char)*c->p)) return false;
                    char h = *c->p++;
                    v = v * 16 +
                        (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
                }
                if (v > 0x7f) return false;
                ch = (char)v;
            } else if (ch != '"' && ch != '\\') {
                return false;
            }
        }
        if (n + 1 >= cap) return false;
        out[n++] = ch;
    }
    if (*c->p != '"') return false;
    c->p++;
    out[n] = 0;
    return true;
}
static bool parse_bool(json_cursor *c, bool *out) {
    skip_ws(c);
    if (strncmp(c->p, "true", 4) == 0) {
        *out = true;
        c->p += 4;
        return true;
    }
    if (strncmp(c->p, "false", 5) == 0) {
        *out = false;
        c->p += 5;
        return true;
    }
    return false;
}

int dl_schema_from_json(const char *json, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    dl_schema_init(out);
    json_cursor c = {json ? json : ""};
    char name[1024], key[32], val[32];
    if (!expect(&c, '[')) goto bad;
    skip_ws(&c);
    if (*c.p == ']') return DL_OK;
    for (;;) {
        if (!expect(&c, '{')) goto bad;
        dl_field f = {0};
        bool have_name = false, have_type = false;
        for (;;) {
            if (!parse_string(&c, key, sizeof key) || !expect(&c, ':')) goto bad;
            if (strcmp(key, "name") == 0) {
                if (!parse_string(&c, name, sizeof name)) goto bad;
                have_name = true;
            } else if (strcmp(key, "type") == 0 || strcmp(key, "unit") == 0) {
                if (!parse_string(&c, val, sizeof val)) goto bad;
                bool found = false;
                if (key[0] == 't') {
                    for (int t = 0; t < DL_TYPE_COUNT_; t++)
                        if (strcmp(val, dl_type_name((dl_type)t)) == 0) {
                            f.type = (dl_type)t;
                            found = true;
                        }
                    have_type = found;
                } else {
                    for (int u = DL_UNIT_MS; u <= DL_UNIT_NS; u++)
                        if (strcmp(val, dl_unit_name((dl_time_unit)u)) == 0) {
                            f.unit = (dl_time_unit)u;
                            found = true;
                        }
                }
                if (!found) goto bad;
            } else if (strcmp(key, "nullable") == 0) {
                if (!parse_bool(&c, &f.nullable)) goto bad;
            } else if (strcmp(key, "utc") == 0) {
                if (!parse_bool(&c, &f.utc)) goto bad;
            } else {
                goto bad;
            }
            if (expect(&c, ',')) continue;
            if (expect(&c, '}')) break;
            goto bad;
        }
        if (!have_name || !have_type) goto bad;
        if (f.type == DL_TYPE_TIMESTAMP) {
            DL_TRY(dl_schema_add_timestamp(out, name, f.unit, f.nullable, err));
            out->fields[out->num_fields - 1].utc = f.utc;
        } else {
            DL_TRY(dl_schema_add(out, name, f.type, f.nullable, err));
        }
        if (expect(&c, ',')) continue;
        if (expect(&c, ']')) break;
        goto bad;
    }
    return DL_OK;
bad:
    rc = dl_error_set(err, DL_ECORRUPT, "catalog: malformed schema JSON near \"%.40s\"", c.p);
cleanup:
    dl_schema_free(out);
    return rc;
}
