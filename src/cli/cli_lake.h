/*
** cli_lake.h -- the lake commands of `dl` (cli_lake.c, cli_ingest.c) and
** the helpers they share: lake root resolution, time and duration parsing.
*/
#ifndef DL_CLI_LAKE_H
#define DL_CLI_LAKE_H

#include <stdint.h>

#include "cli.h"

int cli_cmd_init(int argc, char **argv);
int cli_cmd_ls(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);
int cli_cmd_verify(int argc, char **argv);
int cli_cmd_gaps(int argc, char **argv);
int cli_cmd_history(int argc, char **argv);
int cli_cmd_vacuum(int argc, char **argv);
int cli_cmd_read(int argc, char **argv);
int cli_cmd_ingest(int argc, char **argv);

/* --lock-timeout SECONDS of the writing commands (also $DL_LOCK_TIMEOUT):
** read by cli_lake_open. */
#define CLI_LOCK_TIMEOUT_OPTION                                                                    \
    {                                                                                              \
        "lock-timeout", "SECONDS",                                                                 \
            "wait at most this long for a dataset another writer holds (default: for ever; "       \
            "the waiting command says who holds it)"                                               \
    }

/* --root DIR, else $DL_ROOT, else ./lake. */
const char *cli_lake_root_dir(const cli_args *args);
/* Opens the lake at the resolved root for writing (printing the error); NULL
** on failure. */
dl_lake *cli_lake_open(const cli_args *args);
/* The same, read-only: no write to the lake, works on read-only media. */
dl_lake *cli_lake_open_read(const cli_args *args);
/* dl_parse_time_us without the message: epoch ms or ISO-8601 -> us. */
bool cli_parse_time_us(const char *text, int64_t *out);
/* "90s", "15m", "12h", "30d", "2w" -> us. */
bool cli_parse_duration_us(const char *text, int64_t *out);

#endif
