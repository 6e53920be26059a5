/* db_track.c: recorded treasury projections with their realized hours, in
 * SQLite (track.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "track.h"

/* The realized steps of prediction id into *r (malloc'd; free it). */
static int realized_of(sqlite3 *c, const char *id, size_t horizon, gw_realized **r, size_t *n, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = FC_OK, s;
  *n = 0;
  if (!(*r = calloc(horizon ? horizon : 1, sizeof **r))) return fc_err_set(err, FC_ENOMEM, "out of memory");
  if (sqlite3_prepare_v2(c,
                         "SELECT step, at, actual, mean, lo, hi FROM prediction_realized"
                         " WHERE prediction_id = ?1 ORDER BY step",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "track");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  while ((s = sqlite3_step(st)) == SQLITE_ROW && *n < horizon) {
    gw_realized *x = &(*r)[(*n)++];
    gw__realized_of(st, x);
  }
  if (s != SQLITE_DONE && s != SQLITE_ROW) rc = gw__sql_err(c, err, "track");
  sqlite3_finalize(st);
  return rc;
}

/* One prediction row into p (its points parsed), realized, then fn. */
static int one(sqlite3 *c, sqlite3_stmt *st, gw_track_fn fn, void *arg, fc_err *err) {
  gw_prediction p;
  gw_realized *r = NULL;
  size_t nr = 0;
  int rc = gw__prediction_of(st, &p, err);
  if (rc == FC_OK) rc = realized_of(c, p.id, p.horizon, &r, &nr, err);
  if (rc == FC_OK) rc = fn(&p, r, nr, arg);
  free(r);
  gw_prediction_free(&p);
  return rc;
}

int gw_db_track_each(gw_db *db, const char *tenant, const char *kind, const char *currency, size_t limit,
                     gw_track_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_track_each(pg_, tenant, kind, currency, limit, fn, arg, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), s = SQLITE_DONE;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT id, tenant_id, kind, currency, granularity, model_source, model_version,"
                         " origin, step, served_at, points, extra FROM predictions"
                         " WHERE tenant_id = ?1 AND kind = ?2 AND currency = ?3"
                         " ORDER BY origin DESC, served_at DESC, id LIMIT ?4",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "track");
  } else {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    while (rc == FC_OK && (s = sqlite3_step(st)) == SQLITE_ROW) rc = one(c, st, fn, arg, err);
    if (rc == FC_OK && s != SQLITE_DONE) rc = gw__sql_err(c, err, "track");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}
