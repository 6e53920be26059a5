/* pg_track.c: recorded treasury projections with their realized hours, in
 * PostgreSQL (track.h; the same contract as db_track.c), in one read-only
 * snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"
#include "track.h"

typedef struct track_args {
  const char *tenant, *kind, *currency;
  size_t limit;
  gw_track_fn fn;
  void *arg;
} track_args;

/* The realized steps of prediction id into *r (calloc'd; free it). */
static int realized_of(PGconn *c, const char *id, size_t horizon, gw_realized **r, size_t *n, fc_err *err) {
  pg_args a = {0};
  *n = 0;
  if (!(*r = calloc(horizon ? horizon : 1, sizeof **r))) return fc_err_set(err, FC_ENOMEM, "out of memory");
  pg_arg_text(&a, id);
  PGresult *res = pg_exec(c,
                          "SELECT step, at, actual, mean, lo, hi FROM prediction_realized"
                          " WHERE prediction_id = $1 ORDER BY step",
                          &a, "track", err);
  if (!res) return pg_failed(err);
  for (int i = 0; i < PQntuples(res) && *n < horizon; i++) {
    gw_realized *x = &(*r)[(*n)++];
    pg_realized_of(res, i, x);
  }
  PQclear(res);
  return FC_OK;
}

static int one(PGconn *c, const PGresult *res, int i, const track_args *t, fc_err *err) {
  gw_prediction p;
  gw_realized *r = NULL;
  size_t nr = 0;
  int rc = pg_prediction_of(res, i, &p, err);
  if (rc == FC_OK) rc = realized_of(c, p.id, p.horizon, &r, &nr, err);
  if (rc == FC_OK) rc = t->fn(&p, r, nr, t->arg);
  free(r);
  gw_prediction_free(&p);
  return rc;
}

static int track_fn(PGconn *c, void *arg, fc_err *err) {
  track_args *t = arg;
  pg_args a = {0};
  pg_arg_text(&a, t->tenant), pg_arg_text(&a, t->kind), pg_arg_text(&a, t->currency);
  pg_arg_i64(&a, (int64_t)t->limit);
  PGresult *res = pg_exec(c,
                          "SELECT id, tenant_id, kind, currency, granularity, model_source, model_version,"
                          " origin, step, served_at, points, extra FROM predictions"
                          " WHERE tenant_id = $1 AND kind = $2 AND currency = $3"
                          " ORDER BY origin DESC, served_at DESC, id LIMIT $4",
                          &a, "track", err);
  if (!res) return pg_failed(err);
  int rc = FC_OK;
  for (int i = 0; i < PQntuples(res) && rc == FC_OK; i++) rc = one(c, res, i, t, err);
  PQclear(res);
  return rc;
}

int gw_pg_track_each(gw_pg *pg, const char *tenant, const char *kind, const char *currency, size_t limit,
                     gw_track_fn fn, void *arg, fc_err *err) {
  track_args t = {tenant, kind, currency, limit, fn, arg};
  return pg_run(pg, 1, track_fn, &t, err);
}
