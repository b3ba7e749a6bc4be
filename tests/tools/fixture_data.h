/*
** fixture_data.h -- what the fixture writers (dl_fixtures.c for Parquet,
** dl_ipc_fixture.c for Arrow IPC) share: the hash their data is a pure
** function of, schema building, and the lossless JSON form of the expected
** values that the interop tests compare engines against.  Static inline so
** that each tool stays a single .c file, as the Makefile builds them.
*/
#ifndef FIXTURE_DATA_H
#define FIXTURE_DATA_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "datalake.h"

/* splitmix64 finaliser: rows and columns hash to well-mixed bits. */
static inline uint64_t fixture_mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Adds one field; timestamps carry their unit. */
static inline int fixture_schema_add(dl_schema *schema, const char *name, dl_type type,
                                     dl_time_unit unit, bool nullable, dl_error *err) {
    return type == DL_TYPE_TIMESTAMP ? dl_schema_add_timestamp(schema, name, unit, nullable, err)
                                     : dl_schema_add(schema, name, type, nullable, err);
}

/* A JSON string: '"' and '\\' escaped, control characters as \u00XX,
** everything else (UTF-8 included) as is. */
static inline void fixture_json_string(FILE *f, const char *s, size_t len) {
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Row i of col, losslessly: bool true/false; int32 and date JSON numbers;
** int64 (decimals: unscaled) and timestamps decimal strings; float and
** double the IEEE bit pattern as a hex string; string a JSON string;
** binary lowercase hex; null for null. */
static inline void fixture_json_value(FILE *f, const dl_column *col, int64_t i) {
    if (!dl_column_is_valid(col, i)) {
        fputs("null", f);
        return;
    }
    switch (col->type) {
    case DL_TYPE_BOOL:
        fputs(((const uint8_t *)col->values)[i] ? "true" : "false", f);
        break;
    case DL_TYPE_INT32:
    case DL_TYPE_DATE:
        fprintf(f, "%" PRId32, ((const int32_t *)col->values)[i]);
        break;
    case DL_TYPE_INT64:
    case DL_TYPE_TIMESTAMP:
        fprintf(f, "\"%" PRId64 "\"", ((const int64_t *)col->values)[i]);
        break;
    case DL_TYPE_FLOAT: {
        uint32_t bits;
        memcpy(&bits, (const float *)col->values + i, sizeof bits);
        fprintf(f, "\"0x%08" PRIx32 "\"", bits);
        break;
    }
    case DL_TYPE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, (const double *)col->values + i, sizeof bits);
        fprintf(f, "\"0x%016" PRIx64 "\"", bits);
        break;
    }
    case DL_TYPE_STRING:
        fixture_json_string(f, col->data + col->offsets[i],
                            (size_t)(col->offsets[i + 1] - col->offsets[i]));
        break;
    case DL_TYPE_BINARY:
        fputc('"', f);
        for (int64_t k = col->offsets[i]; k < col->offsets[i + 1]; k++)
            fprintf(f, "%02x", (unsigned char)col->data[k]);
        fputc('"', f);
        break;
    default:
        fputs("null", f);
        break;
    }
}

#endif /* FIXTURE_DATA_H */
