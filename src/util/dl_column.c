/*
** dl_column.c -- schemas, column vectors and tables (see datalake.h).
** Columns grow geometrically; appends are amortised O(1) and never
** allocate per row.
*/
#include <stdlib.h>
#include <string.h>

#include "dl_internal.h"

static const size_t type_widths[DL_TYPE_COUNT_] = {1, 4, 8, 4, 8, 0, 0, 8, 4};
static const char *const type_names[DL_TYPE_COUNT_] = {
    "bool", "int32", "int64", "float", "double", "string", "binary", "timestamp", "date"};

size_t dl_type_width(dl_type type) {
    return (unsigned)type < DL_TYPE_COUNT_ ? type_widths[type] : 0;
}

const char *dl_type_name(dl_type type) {
    return (unsigned)type < DL_TYPE_COUNT_ ? type_names[type] : "?";
}

const char *dl_unit_name(dl_time_unit unit) {
    switch (unit) {
    case DL_UNIT_MS:
        return "ms";
    case DL_UNIT_US:
        return "us";
    case DL_UNIT_NS:
        return "ns";
    }
    return "?";
}

static bool is_var_width(dl_type t) {
    return t == DL_TYPE_STRING || t == DL_TYPE_BINARY;
}

/* ---- schema ---- */

void dl_schema_init(dl_schema *schema) {
    DL_REQUIRE_OR_RETURN(schema, );
    schema->num_fields = 0;
    schema->fields = NULL;
}

static int schema_push(dl_schema *schema, const dl_field *f, dl_error *err) {
    dl_field *fields = realloc(schema->fields, sizeof(dl_field) * (size_t)(schema->num_fields + 1));
    if (!fields) return dl_error_set(err, DL_ENOMEM, "out of memory adding column %s", f->name);
    schema->fields = fields;
    char *name = strdup(f->name ? f->name : "");
    if (!name) return dl_error_set(err, DL_ENOMEM, "out of memory adding column");
    fields[schema->num_fields] = *f;
    fields[schema->num_fields].name = name;
    schema->num_fields++;
    return DL_OK;
}

int dl_schema_add(dl_schema *schema, const char *name, dl_type type, bool nullable, dl_error *err) {
    DL_REQUIRE(err, schema && name);
    if ((unsigned)type >= DL_TYPE_COUNT_)
        return dl_error_set(err, DL_EINVAL, "column %s: unknown type %d", name, (int)type);
    dl_field f = {.name = (char *)name, .type = type, .nullable = nullable, .utc = true};
    return schema_push(schema, &f, err);
}

int dl_schema_add_field(dl_schema *schema, const dl_field *field, dl_error *err) {
    DL_REQUIRE(err, schema && field);
    if ((unsigned)field->type >= DL_TYPE_COUNT_)
        return dl_error_set(err, DL_EINVAL, "column %s: unknown type %d", field->name,
                            (int)field->type);
    return schema_push(schema, field, err);
}

int dl_schema_add_timestamp(dl_schema *schema, const char *name, dl_time_unit unit, bool nullable,
                            dl_error *err) {
    DL_REQUIRE(err, schema && name);
    dl_field f = {.name = (char *)name,
                  .type = DL_TYPE_TIMESTAMP,
                  .unit = unit,
                  .utc = true,
                  .nullable = nullable};
    return schema_push(schema, &f, err);
}

int dl_schema_copy(dl_schema *dst, const dl_schema *src, dl_error *err) {
    DL_REQUIRE(err, dst && src);
    dl_schema_init(dst);
    for (int i = 0; i < src->num_fields; i++) {
        int rc = schema_push(dst, &src->fields[i], err);
        if (rc != DL_OK) {
            dl_schema_free(dst);
            return rc;
        }
    }
    return DL_OK;
}

int dl_schema_find(const dl_schema *schema, const char *name) {
    DL_REQUIRE_OR_RETURN(schema && name, -1);
    for (int i = 0; i < schema->num_fields; i++)
        if (strcmp(schema->fields[i].name, name) == 0) return i;
    return -1;
}

void dl_schema_free(dl_schema *schema) {
    DL_REQUIRE_OR_RETURN(schema, );
    for (int i = 0; i < schema->num_fields; i++) free(schema->fields[i].name);
    free(schema->fields);
    schema->fields = NULL;
    schema->num_fields = 0;
}

/* ---- column ---- */

void dl_column_init(dl_column *col, dl_type type, dl_time_unit unit) {
    DL_REQUIRE_OR_RETURN(col, );
    memset(col, 0, sizeof *col);
    col->type = type;
    col->unit = unit;
}

static int grow(void **p, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return DL_OK;
    int64_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    size_t bytes;
    if (dl_size_mul((size_t)c, elem, &bytes) != 0) return DL_ENOMEM;
    /* elem > 0: callers pass a known type's width (dl_column_reserve checks) */
    // NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI)
    void *q = realloc(*p, bytes);
    if (!q) return DL_ENOMEM;
    *p = q;
    *cap = c;
    return DL_OK;
}

int dl_column_reserve(dl_column *col, int64_t rows, int64_t bytes, dl_error *err) {
    DL_REQUIRE(err, col);
    if (rows < 0 || bytes < 0) return dl_error_set(err, DL_EINVAL, "negative reservation");
    if ((unsigned)col->type >= DL_TYPE_COUNT_) /* its width would be 0: realloc(p, 0) */
        return dl_error_set(err, DL_EINVAL, "column has an unknown type %d", (int)col->type);
    /* Bounded here so the sums and doublings below cannot overflow. */
    if (rows > (int64_t)DL_MAX_ALLOC || bytes > (int64_t)DL_MAX_ALLOC)
        return dl_error_set(err, DL_ENOMEM, "reservation of %lld rows / %lld bytes is too large",
                            (long long)rows, (long long)bytes);
    bool var = is_var_width(col->type);
    int64_t need = col->length + rows;
    if (need > col->cap_values || (var && col->offsets == NULL)) {
        int64_t old_cap = col->cap_values, cap;
        int rc;
        if (var) {
            /* offsets has cap_values + 1 slots */
            int64_t slots = col->offsets ? old_cap + 1 : 0;
            void *offs = col->offsets;
            rc = grow(&offs, &slots, need + 1, sizeof(int64_t));
            /* grow allocated: slots was 0 < need + 1 */
            // NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
            if (rc == DL_OK && col->offsets == NULL) ((int64_t *)offs)[0] = 0;
            col->offsets = offs;
            cap = slots - 1;
        } else {
            cap = old_cap;
            rc = grow(&col->values, &cap, need, dl_type_width(col->type));
        }
        if (rc != DL_OK) return dl_error_set(err, DL_ENOMEM, "out of memory growing a column");
        if (col->validity) {
            uint8_t *v = realloc(col->validity, (size_t)(cap + 7) / 8 + 1);
            if (!v) return dl_error_set(err, DL_ENOMEM, "out of memory growing a column");
            size_t old_bytes = (size_t)(old_cap + 7) / 8 + 1, new_bytes = (size_t)(cap + 7) / 8 + 1;
            memset(v + old_bytes, 0xff, new_bytes - old_bytes);
            col->validity = v;
        }
        col->cap_values = cap;
    }
    if (var && bytes > 0) {
        int64_t used = col->offsets[col->length];
        void *data = col->data;
        if (grow(&data, &col->cap_data, used + bytes, 1) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory growing string data");
        col->data = data;
    }
    return DL_OK;
}

/* Creates the validity bitmap (all valid so far) on the first null. */
int dl_column_ensure_validity(dl_column *col) {
    if (col->validity) return DL_OK;
    size_t n = (size_t)(col->cap_values + 7) / 8 + 1;
    col->validity = malloc(n);
    if (!col->validity) return DL_ENOMEM;
    memset(col->validity, 0xff, n);
    return DL_OK;
}

static void mark_valid(dl_column *col) {
    if (col->validity) dl_bitmap_set(col->validity, col->length);
}

int dl_column_append_null(dl_column *col, dl_error *err) {
    DL_REQUIRE(err, col);
    int rc = dl_column_reserve(col, 1, 0, err);
    if (rc != DL_OK) return rc;
    if (dl_column_ensure_validity(col) != DL_OK)
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    dl_bitmap_clear(col->validity, col->length);
    if (is_var_width(col->type)) {
        col->offsets[col->length + 1] = col->offsets[col->length];
    } else {
        size_t w = dl_type_width(col->type);
        memset((uint8_t *)col->values + (size_t)col->length * w, 0, w);
    }
    col->length++;
    col->null_count++;
    return DL_OK;
}

#define DEFINE_APPEND(fn, ctype)                                                                   \
    int fn(dl_column *col, ctype v, dl_error *err) {                                               \
        DL_REQUIRE(err, col);                                                                      \
        if (col->length >= col->cap_values) {                                                      \
            int rc = dl_column_reserve(col, 1, 0, err);                                            \
            if (rc != DL_OK) return rc;                                                            \
        }                                                                                          \
        ((ctype *)col->values)[col->length] = v;                                                   \
        mark_valid(col);                                                                           \
        col->length++;                                                                             \
        return DL_OK;                                                                              \
    }
DEFINE_APPEND(dl_column_append_i32, int32_t)
DEFINE_APPEND(dl_column_append_i64, int64_t)
DEFINE_APPEND(dl_column_append_f64, double)
DEFINE_APPEND(dl_column_append_f32, float)

int dl_column_append_bool(dl_column *col, bool v, dl_error *err) {
    DL_REQUIRE(err, col);
    int rc = dl_column_reserve(col, 1, 0, err);
    if (rc != DL_OK) return rc;
    ((uint8_t *)col->values)[col->length] = v ? 1 : 0;
    mark_valid(col);
    col->length++;
    return DL_OK;
}

int dl_column_append_str(dl_column *col, const char *s, size_t len, dl_error *err) {
    DL_REQUIRE(err, col && (s || len == 0));
    int rc = dl_column_reserve(col, 1, (int64_t)len, err);
    if (rc != DL_OK) return rc;
    int64_t at = col->offsets[col->length];
    if (len) memcpy(col->data + at, s, len);
    col->offsets[col->length + 1] = at + (int64_t)len;
    mark_valid(col);
    col->length++;
    return DL_OK;
}

int dl_column_append_range(dl_column *dst, const dl_column *src, int64_t from, int64_t count,
                           dl_error *err) {
    DL_REQUIRE(err, dst && src);
    if (src->type != dst->type || from < 0 || count < 0 || from + count > src->length)
        return dl_error_set(err, DL_EINVAL, "append_range: type mismatch or range out of bounds");
    if (count == 0) return DL_OK;
    int64_t bytes = 0;
    if (is_var_width(src->type)) bytes = src->offsets[from + count] - src->offsets[from];
    int rc = dl_column_reserve(dst, count, bytes, err);
    if (rc != DL_OK) return rc;
    int64_t base = dst->length;
    if (is_var_width(src->type)) {
        int64_t at = dst->offsets[base], delta = at - src->offsets[from];
        if (bytes) memcpy(dst->data + at, src->data + src->offsets[from], (size_t)bytes);
        for (int64_t i = 1; i <= count; i++)
            dst->offsets[base + i] = src->offsets[from + i] + delta;
    } else {
        size_t w = dl_type_width(src->type);
        memcpy((uint8_t *)dst->values + (size_t)base * w,
               (const uint8_t *)src->values + (size_t)from * w, (size_t)count * w);
    }
    if (src->validity && src->null_count > 0) {
        if (dl_column_ensure_validity(dst) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        int64_t nulls = 0;
        for (int64_t i = 0; i < count; i++) {
            if (dl_bitmap_get(src->validity, from + i)) {
                dl_bitmap_set(dst->validity, base + i);
            } else {
                dl_bitmap_clear(dst->validity, base + i);
                nulls++;
            }
        }
        dst->null_count += nulls;
    } else if (dst->validity) {
        for (int64_t i = 0; i < count; i++) dl_bitmap_set(dst->validity, base + i);
    }
    dst->length += count;
    return DL_OK;
}

void dl_column_clear(dl_column *col) {
    DL_REQUIRE_OR_RETURN(col, );
    col->length = 0;
    col->null_count = 0;
    if (col->validity) memset(col->validity, 0xff, (size_t)(col->cap_values + 7) / 8 + 1);
    if (col->offsets) col->offsets[0] = 0;
}

void dl_column_free(dl_column *col) {
    DL_REQUIRE_OR_RETURN(col, );
    free(col->validity);
    free(col->values);
    free(col->offsets);
    free(col->data);
    dl_column_init(col, col->type, col->unit);
}

/* ---- table ---- */

int dl_table_init(dl_table *table, const dl_schema *schema, dl_error *err) {
    DL_REQUIRE(err, table && schema);
    memset(table, 0, sizeof *table);
    int rc = dl_schema_copy(&table->schema, schema, err);
    if (rc != DL_OK) return rc;
    table->columns =
        calloc((size_t)(schema->num_fields ? schema->num_fields : 1), sizeof(dl_column));
    if (!table->columns) {
        dl_schema_free(&table->schema);
        return dl_error_set(err, DL_ENOMEM, "out of memory creating a table");
    }
    for (int i = 0; i < schema->num_fields; i++)
        dl_column_init(&table->columns[i], schema->fields[i].type, schema->fields[i].unit);
    return DL_OK;
}

int dl_table_seal(dl_table *table, dl_error *err) {
    DL_REQUIRE(err, table);
    int64_t n = table->schema.num_fields ? table->columns[0].length : 0;
    for (int i = 1; i < table->schema.num_fields; i++)
        if (table->columns[i].length != n)
            return dl_error_set(err, DL_EINVAL, "column %s has %lld rows, column %s has %lld",
                                table->schema.fields[i].name, (long long)table->columns[i].length,
                                table->schema.fields[0].name, (long long)n);
    table->num_rows = n;
    return DL_OK;
}

void dl_table_free(dl_table *table) {
    DL_REQUIRE_OR_RETURN(table, );
    if (table->columns)
        for (int i = 0; i < table->schema.num_fields; i++) dl_column_free(&table->columns[i]);
    free(table->columns);
    table->columns = NULL;
    dl_schema_free(&table->schema);
    table->num_rows = 0;
}

static bool fields_equal(const dl_field *a, const dl_field *b) {
    return strcmp(a->name, b->name) == 0 && a->type == b->type && a->nullable == b->nullable &&
           (a->type != DL_TYPE_TIMESTAMP || (a->unit == b->unit && a->utc == b->utc)) &&
           a->decimal_scale == b->decimal_scale && a->decimal_precision == b->decimal_precision;
}

static bool column_same_content(const dl_column *a, const dl_column *b, int64_t n) {
    size_t w = dl_type_width(a->type);
    bool var = w == 0;
    if (!a->validity && !b->validity && a->null_count == 0 && b->null_count == 0) {
        if (!var) return n == 0 || memcmp(a->values, b->values, (size_t)n * w) == 0;
        int64_t bytes = a->offsets[n] - a->offsets[0];
        if (bytes != b->offsets[n] - b->offsets[0]) return false;
        for (int64_t i = 0; i < n; i++)
            if (a->offsets[i + 1] - a->offsets[i] != b->offsets[i + 1] - b->offsets[i])
                return false;
        return bytes == 0 ||
               memcmp(a->data + a->offsets[0], b->data + b->offsets[0], (size_t)bytes) == 0;
    }
    for (int64_t i = 0; i < n; i++) {
        bool va = dl_column_is_valid(a, i);
        if (va != dl_column_is_valid(b, i)) return false;
        if (!va) continue;
        if (var) {
            int64_t la = a->offsets[i + 1] - a->offsets[i];
            if (la != b->offsets[i + 1] - b->offsets[i] ||
                (la && memcmp(a->data + a->offsets[i], b->data + b->offsets[i], (size_t)la) != 0))
                return false;
        } else if (memcmp((const uint8_t *)a->values + (size_t)i * w,
                          (const uint8_t *)b->values + (size_t)i * w, w) != 0) {
            return false;
        }
    }
    return true;
}

bool dl_table_same_content(const dl_table *a, const dl_table *b) {
    if (a->num_rows != b->num_rows || a->schema.num_fields != b->schema.num_fields) return false;
    for (int c = 0; c < a->schema.num_fields; c++) {
        if (!fields_equal(&a->schema.fields[c], &b->schema.fields[c]) ||
            a->columns[c].length != a->num_rows || b->columns[c].length != b->num_rows ||
            !column_same_content(&a->columns[c], &b->columns[c], a->num_rows))
            return false;
    }
    return true;
}
