/*
** dl_arrow_export.c -- exports a dl_table through the Arrow C Data
** Interface (CDataInterface.rst) as a struct array ("+s") with one child per
** column, so pyarrow, Polars, DuckDB or nanoarrow take our results without
** a copy on their side.
**
** Ownership follows the spec: the consumer owns the base structs and calls
** only their release; every child has its own release and its own
** allocation, because a consumer may move a child out (bitwise copy, then
** mark the source released) and keep it after releasing the parent.  So:
**   - parent schema/array: one block holding the child structs and the
**     pointer array to them; release releases the children not yet moved
**     out (release != NULL), then frees the block;
**   - child schema: one block with its format and name strings;
**   - child array: one 64-byte-aligned block with the buffer pointer array
**     and the converted buffers (see dl_arrow_layout.c), each buffer at a
**     64-byte boundary as Arrow recommends.
*/
#include <stdlib.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "util/dl_internal.h"

#define EXPORT_ALIGN 64

static size_t round_up(size_t n) {
    return (n + EXPORT_ALIGN - 1) & ~(size_t)(EXPORT_ALIGN - 1);
}

/* ---- release callbacks ---- */

static void release_leaf_schema(struct ArrowSchema *s) {
    free(s->private_data);
    s->release = NULL;
}

static void release_struct_schema(struct ArrowSchema *s) {
    for (int64_t i = 0; i < s->n_children; i++)
        if (s->children[i]->release) s->children[i]->release(s->children[i]);
    free(s->private_data);
    s->release = NULL;
}

static void release_leaf_array(struct ArrowArray *a) {
    free(a->private_data);
    a->release = NULL;
}

static void release_struct_array(struct ArrowArray *a) {
    for (int64_t i = 0; i < a->n_children; i++)
        if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->private_data);
    a->release = NULL;
}

/* ---- schema ---- */

static int export_field_schema(const dl_field *f, const dl_arrow_type *type,
                               struct ArrowSchema *out, dl_error *err) {
    size_t format_len = strlen(type->format), name_len = strlen(f->name);
    char *block = malloc(format_len + 1 + name_len + 1);
    if (!block)
        return dl_error_set(err, DL_ENOMEM, "arrow export: out of memory (column %s)", f->name);
    memcpy(block, type->format, format_len + 1);
    memcpy(block + format_len + 1, f->name, name_len + 1);
    *out = (struct ArrowSchema){.format = block,
                                .name = block + format_len + 1,
                                .flags = f->nullable ? ARROW_FLAG_NULLABLE : 0,
                                .release = release_leaf_schema,
                                .private_data = block};
    return DL_OK;
}

/* ---- arrays ---- */

static int export_column_array(const dl_column *col, int64_t from, int64_t count,
                               const dl_arrow_type *type, const char *name, struct ArrowArray *out,
                               dl_error *err) {
    int rc = DL_OK;
    dl_arrow_slice slice;
    DL_TRY(dl_arrow_slice_init(&slice, col, type, from, count, err));
    size_t total = round_up(sizeof(void *) * DL_ARROW_MAX_BUFFERS);
    for (int i = 0; i < slice.n_buffers; i++) {
        total += round_up(slice.size[i]);
        if (total > DL_MAX_ALLOC)
            DL_FAIL(err, DL_ENOMEM, "arrow export: column %s needs more than %zu bytes", name,
                    (size_t)DL_MAX_ALLOC);
    }
    uint8_t *block = aligned_alloc(EXPORT_ALIGN, total);
    if (!block)
        DL_FAIL(err, DL_ENOMEM, "arrow export: out of memory for column %s (%zu bytes)", name,
                total);
    const void **buffers = (const void **)block;
    size_t at = round_up(sizeof(void *) * DL_ARROW_MAX_BUFFERS);
    for (int i = 0; i < slice.n_buffers; i++) {
        /* validity may be NULL without nulls; other buffers always point
        ** somewhere valid, even when empty, since some consumers insist */
        buffers[i] = (i == 0 && slice.size[0] == 0) ? NULL : block + at;
        dl_arrow_slice_fill(&slice, i, block + at);
        at += round_up(slice.size[i]);
    }
    *out = (struct ArrowArray){.length = count,
                               .null_count = slice.null_count,
                               .n_buffers = slice.n_buffers,
                               .buffers = buffers,
                               .release = release_leaf_array,
                               .private_data = block};
cleanup:
    return rc;
}

/* One zeroed block: n child structs (so every child starts released), then
** n + extra pointers, the first n pointing at the structs. */
static void *alloc_children(int64_t n, int64_t extra, size_t struct_size, void ***ptrs) {
    size_t bytes = (size_t)n * struct_size + (size_t)(n + extra) * sizeof(void *);
    uint8_t *block = calloc(1, bytes ? bytes : 1);
    if (!block) return NULL;
    *ptrs = (void **)(block + (size_t)n * struct_size);
    for (int64_t i = 0; i < n; i++) (*ptrs)[i] = block + (size_t)i * struct_size;
    return block;
}

/* The parent struct schema, its children not filled in yet (released). */
static int alloc_struct_schema(int64_t n, struct ArrowSchema *out, dl_error *err) {
    void **children;
    void *block = alloc_children(n, 0, sizeof(struct ArrowSchema), &children);
    if (!block) return dl_error_set(err, DL_ENOMEM, "arrow export: out of memory");
    *out = (struct ArrowSchema){.format = "+s",
                                .name = "",
                                .n_children = n,
                                .children = (struct ArrowSchema **)children,
                                .release = release_struct_schema,
                                .private_data = block};
    return DL_OK;
}

int dl_arrow_export_schema(const dl_schema *schema, struct ArrowSchema *out, dl_error *err) {
    DL_REQUIRE(err, schema && out);
    int rc = DL_OK;
    memset(out, 0, sizeof *out);
    DL_TRY(alloc_struct_schema(schema->num_fields, out, err));
    for (int i = 0; i < schema->num_fields; i++) {
        dl_arrow_type type;
        DL_TRY(dl_arrow_type_of(&schema->fields[i], false, &type, err));
        DL_TRY(export_field_schema(&schema->fields[i], &type, out->children[i], err));
    }
cleanup:
    if (rc != DL_OK && out->release) out->release(out);
    return rc;
}

int dl_arrow_export_rows(const dl_table *t, int64_t from, int64_t count,
                         int64_t max_small_var_bytes, struct ArrowSchema *schema_out,
                         struct ArrowArray *array_out, dl_error *err) {
    int rc = DL_OK;
    if (schema_out) memset(schema_out, 0, sizeof *schema_out);
    memset(array_out, 0, sizeof *array_out);
    DL_TRY(dl_arrow_check_table(t, err));
    if (from < 0 || count < 0 || from > t->num_rows || count > t->num_rows - from)
        DL_FAIL(err, DL_EINVAL, "arrow export: rows [%lld, +%lld) outside a table of %lld",
                (long long)from, (long long)count, (long long)t->num_rows);
    int64_t n = t->schema.num_fields;

    /* The parents first, so that a failure midway is undone by their own
    ** release callbacks (which skip children not yet filled in). */
    if (schema_out) DL_TRY(alloc_struct_schema(n, schema_out, err));
    /* the struct's buffer list, [validity = NULL], is the one extra pointer */
    void **array_children;
    void *array_block = alloc_children(n, 1, sizeof(struct ArrowArray), &array_children);
    if (!array_block) DL_FAIL(err, DL_ENOMEM, "arrow export: out of memory");
    *array_out = (struct ArrowArray){.length = count,
                                     .n_buffers = 1,
                                     .n_children = n,
                                     .buffers = (const void **)&array_children[n],
                                     .children = (struct ArrowArray **)array_children,
                                     .release = release_struct_array,
                                     .private_data = array_block};

    for (int64_t i = 0; i < n; i++) {
        const dl_field *f = &t->schema.fields[i];
        const dl_column *col = &t->columns[i];
        dl_arrow_type type;
        bool large = dl_arrow_var_bytes(col, from, count) > max_small_var_bytes;
        DL_TRY(dl_arrow_type_of(f, large, &type, err));
        if (schema_out) DL_TRY(export_field_schema(f, &type, schema_out->children[i], err));
        DL_TRY(export_column_array(col, from, count, &type, f->name, array_out->children[i], err));
    }
cleanup:
    if (rc != DL_OK) {
        if (schema_out && schema_out->release) schema_out->release(schema_out);
        if (array_out->release) array_out->release(array_out);
    }
    return rc;
}

int dl_arrow_export(const dl_table *t, struct ArrowSchema *schema_out, struct ArrowArray *array_out,
                    dl_error *err) {
    DL_REQUIRE(err, t && schema_out && array_out);
    return dl_arrow_export_rows(t, 0, t->num_rows, DL_ARROW_MAX_SMALL_VAR_BYTES, schema_out,
                                array_out, err);
}
