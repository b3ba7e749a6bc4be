/*
** dl_table_ops.h -- schema union and table conforming under the lossless
** widening rule (util/dl_table_ops.c), for the lake and the query engine.
** Not public.
*/
#ifndef DL_TABLE_OPS_H
#define DL_TABLE_OPS_H

#include <stdbool.h>

#include "datalake.h"

/* Can a value of type (a, ua) be stored as (b, ub) without loss? */
bool dl_widens_to(dl_type a, dl_time_unit ua, dl_type b, dl_time_unit ub);
/* Merges `incoming` into the union schema *acc (in place): new columns are
** appended, lossless widenings applied, lossy changes refused naming the
** column and both types.  `what` names the data for the message. */
int dl_schema_union(dl_schema *acc, const dl_schema *incoming, const char *what, dl_error *err);
/* A copy of `in` laid out as `target` (same field order): columns missing in
** `in` become all-null, narrower types are widened.  *out is initialised. */
int dl_table_conform(const dl_table *in, const dl_schema *target, dl_table *out, dl_error *err);

#endif
