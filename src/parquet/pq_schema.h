/*
** pq_schema.h -- mapping between dl_field (our logical columns) and Parquet
** schema elements (physical type + logical/converted annotations), shared
** by the reader and the writer so both agree on one convention.
*/
#ifndef PQ_SCHEMA_H
#define PQ_SCHEMA_H

#include "datalake.h"
#include "pq_meta.h"

/* Fills a leaf schema element for `field` (name borrowed from field). */
int dl_pq_element_from_field(const dl_field *field, dl_pq_schema_element *out, dl_error *err);

/* How a leaf is decoded: its physical type and the conversion to apply. */
typedef enum dl_pq_convert {
    DL_PQ_CONV_NONE = 0,    /* physical value stored as is */
    DL_PQ_CONV_INT96_NS,    /* INT96 (Impala) -> int64 ns */
    DL_PQ_CONV_U32_TO_I64,  /* UINT_32 -> int64 */
    DL_PQ_CONV_FLBA_BINARY, /* FIXED_LEN_BYTE_ARRAY -> binary */
} dl_pq_convert;

typedef struct dl_pq_leaf {
    int schema_index; /* index into file_meta.schema */
    int32_t physical; /* DL_PQ_* physical type */
    int32_t type_length;
    int max_def; /* 0 required, 1 optional */
    dl_pq_convert convert;
    char logical_desc[64]; /* "TIMESTAMP(MICROS,UTC)", "STRING", "" */
} dl_pq_leaf;

/* Derives the field (name borrowed from the element) and leaf info from a
** leaf element.  Unsupported shapes give DL_EUNSUPPORTED. */
int dl_pq_field_from_element(const dl_pq_schema_element *el, dl_field *field, dl_pq_leaf *leaf,
                             dl_error *err);

#endif /* PQ_SCHEMA_H */
