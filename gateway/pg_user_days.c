/* pg_user_days.c: reads of the per-customer daily rollups in PostgreSQL
 * (db_user_days.h); migration_user_daily's trigger keeps them. The same
 * rows as db_user_days.c's read (their order does not matter: the core
 * sorts them). */
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

typedef struct user_days_args {
  const char *tenant, *zone, *currency, *partner; /* zone NULL: UTC days */
  int64_t from_day, to_day;
  gw_user_days *out;
} user_days_args;

/* Row i into s's rows (room made by the caller); 0, or FC_ENOMEM. */
static int push(gw_user_days *s, const PGresult *r, int i, fc_err *err) {
  fc_seg_day *x = &s->rows[s->n];
  memset(x, 0, sizeof *x);
  static const int column[GW_UD_COLS] = {0, 1, 3, 4}; /* of the SELECT */
  const char **field[GW_UD_COLS] = {&x->partner_id, &x->user_id, &x->transaction_type, &x->category};
  for (int c = 0; c < GW_UD_COLS; c++) {
    const char *t = pg_text(r, i, column[c]);
    if (!(*field[c] = gw__user_days_intern(s, c, t, strlen(t)))) return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  x->currency = s->currency;
  x->day = pg_i64(r, i, 2);
  x->scale = (int)pg_i64(r, i, 5);
  x->count = pg_i64(r, i, 6);
  x->purchases = pg_i64(r, i, 7);
  x->spend = pg_i64(r, i, 8);
  x->refund = pg_i64(r, i, 9);
  s->n++;
  return FC_OK;
}

#define UD_READ_SQL(T)                                                                                     \
  "SELECT partner_id, user_id, day, transaction_type, category, scale, n,"                                 \
  " purchases, spend, refund FROM " T " WHERE tenant_id = $1 AND currency = $2 AND day >= $3 AND day < $4" \
  " AND ($5 = '' OR partner_id = $5)"

/* With a zone: only while it is the tenant's stored one (one snapshot:
 * the zone change re-sums the rows in its own transaction). */
static int zone_holds(PGconn *c, const char *tenant, const char *zone, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  PGresult *r = pg_exec(c, "SELECT time_zone FROM tenant_time_zones WHERE tenant_id = $1", &a, "time zone", err);
  if (!r) return pg_failed(err);
  int same = PQntuples(r) == 1 && !strcmp(pg_text(r, 0, 0), zone);
  PQclear(r);
  return same ? FC_OK : fc_err_set(err, FC_ENOTFOUND, "no local-day customer rollups for zone %s", zone);
}

static int user_days_fn(PGconn *c, void *arg, fc_err *err) {
  user_days_args *d = arg;
  pg_args a = {0};
  int rc = d->zone ? zone_holds(c, d->tenant, d->zone, err) : FC_OK;
  if (rc != FC_OK) return rc;
  pg_arg_text(&a, d->tenant), pg_arg_text(&a, d->currency);
  pg_arg_i64(&a, d->from_day), pg_arg_i64(&a, d->to_day);
  pg_arg_text(&a, d->partner ? d->partner : "");
  PGresult *r = pg_exec(c, d->zone ? UD_READ_SQL("txn_user_local_daily") : UD_READ_SQL("txn_user_daily"), &a,
                        "user rollups", err);
  if (!r) return pg_failed(err);
  int n = PQntuples(r);
  gw_user_days *out = d->out;
  if (n > 0 && !(out->rows = malloc((size_t)n * sizeof *out->rows))) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  for (int i = 0; i < n && rc == FC_OK; i++) rc = push(out, r, i, err);
  PQclear(r);
  return rc;
}

int gw_pg_load_user_days(gw_pg *pg, const char *tenant, const char *zone, const char *currency, const char *partner,
                         int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err) {
  user_days_args d = {tenant, zone, currency, partner, from_day, to_day, out};
  int rc = pg_run(pg, 1, user_days_fn, &d, err);
  if (rc != FC_OK) gw_user_days_free(out);
  return rc;
}

typedef struct version_args {
  const char *tenant;
  int64_t *out;
} version_args;

static int version_fn(PGconn *c, void *arg, fc_err *err) {
  version_args *d = arg;
  pg_args a = {0};
  pg_arg_text(&a, d->tenant);
  PGresult *r =
      pg_exec(c, "SELECT v FROM txn_user_daily_versions WHERE tenant_id = $1", &a, "user rollup versions", err);
  if (!r) return pg_failed(err);
  *d->out = PQntuples(r) > 0 ? pg_i64(r, 0, 0) : 0; /* no row: never changed since the table came */
  PQclear(r);
  return FC_OK;
}

int gw_pg_user_days_version(gw_pg *pg, const char *tenant, int64_t *out, fc_err *err) {
  version_args d = {tenant, out};
  return pg_run(pg, 1, version_fn, &d, err);
}

int gw__pg_user_days_bump(PGconn *c, const char *tenant, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  PGresult *r = pg_exec(c,
                        "INSERT INTO txn_user_daily_versions VALUES ($1, 1)"
                        " ON CONFLICT (tenant_id) DO UPDATE SET v = txn_user_daily_versions.v + 1",
                        &a, "user rollup versions", err);
  if (!r) return pg_failed(err);
  PQclear(r);
  return FC_OK;
}
