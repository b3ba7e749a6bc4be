/*
** dl_json.h -- a small JSON (RFC 8259) parser into a read-only tree, and
** the string escaper used by every JSON writer of the library.  Shared by
** the feature store (manifests, lineage, build specs) and any other module
** that reads JSON.  Input is hostile: nesting depth and node count are
** capped, strings must be valid UTF-8 without NUL, errors name the byte
** offset.  Not part of the public API.
*/
#ifndef DL_JSON_H
#define DL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "util/dl_buf.h"

#define DL_JSON_MAX_DEPTH 64
#define DL_JSON_MAX_NODES (1 << 22)

typedef enum dl_json_type {
    DL_JSON_NULL = 0,
    DL_JSON_BOOL,
    DL_JSON_NUMBER,
    DL_JSON_STRING,
    DL_JSON_ARRAY,
    DL_JSON_OBJECT
} dl_json_type;

typedef struct dl_json dl_json;
struct dl_json {
    dl_json_type type;
    bool boolean;
    double number;
    const char *text;  /* STRING: decoded, NUL-terminated; NUMBER: the literal */
    size_t len;        /* bytes of text */
    int64_t count;     /* ARRAY/OBJECT: members */
    dl_json *items;    /* ARRAY/OBJECT: members */
    const char **keys; /* OBJECT: key of each member (decoded) */
};

typedef struct dl_json_doc dl_json_doc;

/* Parses text[0..len) (one value, surrounded by whitespace only).  The
** tree is owned by *out; dl_json_doc_free.  `name` labels messages. */
int dl_json_parse(const char *text, size_t len, const char *name, dl_json_doc **out, dl_error *err);
const dl_json *dl_json_root(const dl_json_doc *doc);
void dl_json_doc_free(dl_json_doc *doc);

/* The member `key` of an object (NULL when absent or not an object). */
const dl_json *dl_json_get(const dl_json *obj, const char *key);
/* The string of v, or NULL when v is not a string. */
const char *dl_json_str(const dl_json *v);
/* An integer-valued number literal of v as int64 (exact). */
bool dl_json_i64(const dl_json *v, int64_t *out);

/* Appends s as a quoted JSON string (control characters escaped). */
int dl_json_append_string(dl_buf *out, const char *s);

#endif
