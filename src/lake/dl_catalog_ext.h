/*
** dl_catalog_ext.h -- the catalog connection for modules of other layers
** that keep their own tables in the lake's catalog (the feature store:
** src/features/dl_feat_catalog.c).  Such a module keeps all its SQL in ONE
** file, like dl_catalog.c does for the lake; its tables should be created by
** a migration appended in dl_catalog.c (see the comment there), so the
** stored format stays versioned.  Everything else uses dl_catalog.h.
*/
#ifndef DL_CATALOG_EXT_H
#define DL_CATALOG_EXT_H

#include <sqlite3.h>

#include "lake/dl_catalog.h"

/* The catalog's connection (borrowed; one thread at a time, as the lake). */
sqlite3 *dl_cat_db(dl_catalog *cat);
/* Runs statements that return no rows. */
int dl_cat_exec(sqlite3 *db, const char *sql, dl_error *err);
int dl_cat_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, dl_error *err);
/* Maps a failed sqlite call to DL_EIO with the catalog's message. */
int dl_cat_fail(sqlite3 *db, const char *what, dl_error *err);
/* Steps a statement that returns no rows (DL_OK on SQLITE_DONE or ROW). */
int dl_cat_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, dl_error *err);

#endif
