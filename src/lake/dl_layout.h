/*
** dl_layout.h -- where things live in a lake: day-partition paths, archive
** paths of superseded versions, UTC day arithmetic.  Internal to src/lake.
*/
#ifndef DL_LAYOUT_H
#define DL_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "util/dl_timeparse.h" /* dl_days_from_civil, dl_civil_from_days */

#define DL_US_PER_DAY INT64_C(86400000000)

/* Days since 1970-01-01 of a us timestamp (floor division, so pre-1970
** instants land on the right day). */
static inline int32_t dl_day_of_us(int64_t ts_us) {
    int64_t d = ts_us / DL_US_PER_DAY;
    if (ts_us % DL_US_PER_DAY < 0) d--;
    return (int32_t)d;
}

/* "EXCH/MKT/SYM/TYPE/PERIOD/YYYY/MM/DD/data.parquet" relative to the root. */
int dl_layout_day_path(const char *dataset, int32_t day, char *buf, size_t size);
/* ".dl/versions/EXCH/.../YYYY/MM/DD/v{version}.parquet": where the file a
** version added goes once superseded. */
int dl_layout_archive_path(const char *dataset, int32_t day, int64_t version, char *buf,
                           size_t size);
/* Lock file name of a dataset below .dl/locks ('/' replaced by '~'). */
int dl_layout_lock_name(const char *dataset, char *buf, size_t size);

/* What a directory entry of the live tree is, by its name and its depth
** below the root (0 = exchange ... 4 = period, 5..7 = YYYY/MM/DD, 8 = the
** day file). */
typedef enum dl_layout_kind {
    DL_LAYOUT_DIR,     /* a directory of the layout: walk into it */
    DL_LAYOUT_DAY,     /* a day file name (data.parquet) at its depth */
    DL_LAYOUT_FOREIGN, /* anything else: not the lake's */
} dl_layout_kind;
dl_layout_kind dl_layout_classify(const char *name, int depth, bool is_dir);

#endif
