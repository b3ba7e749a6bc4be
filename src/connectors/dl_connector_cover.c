/*
** dl_connector_cover.c -- coverage of a day range by a dataset's day files:
** what lets every connector skip work the lake already holds, so a re-run
** fetches nothing and changes nothing.
*/
#include "connectors/dl_connector_internal.h"

int dl_connector_days_covered(dl_lake *lake, const char *dataset, int64_t first_day,
                              int64_t last_day, bool *out, dl_error *err) {
    dl_lake_file_list list = {0};
    *out = false;
    int rc = dl_lake_files(lake, dataset, first_day * 86400000000LL, (last_day + 1) * 86400000000LL,
                           0, &list, err);
    if (rc == DL_ENOTFOUND) {
        dl_error_clear(err);
        return DL_OK;
    }
    if (rc != DL_OK) return rc;
    int64_t want = last_day - first_day + 1, have = 0;
    for (int64_t i = 0; i < list.count; i++)
        if (list.files[i].day >= first_day && list.files[i].day <= last_day) have++;
    dl_lake_file_list_free(&list);
    *out = have == want;
    return DL_OK;
}
