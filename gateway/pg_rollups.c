/* pg_rollups.c: reads of the daily rollups in PostgreSQL (db_rollups.h;
 * pg_daily_read serves the local-day rollups of pg_tz.c too);
 * migration 3's trigger keeps them. Same rows, order and strings as
 * db_rollups.c's read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

#define DAY 86400

/* A copy of s kept in the set (freed with it); NULL when out of memory. */
static const char *keep(gw_txn_set *s, size_t *cap, const char *t) {
  char *copy = strdup(t);
  if (!copy) return NULL;
  if (s->n_strings == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    char **v = realloc(s->strings, nc * sizeof *v);
    if (!v) {
      free(copy);
      return NULL;
    }
    s->strings = v;
    *cap = nc;
  }
  s->strings[s->n_strings++] = copy;
  return copy;
}

/* Row i as a pseudo-transaction; partner strings repeat from row to row,
 * so the previous row's is reused. 0, or FC_ENOMEM. */
static int push(gw_daily_set *out, size_t *scap, const PGresult *r, int i, fc_err *err) {
  gw_txn_set *s = &out->rows;
  fc_transaction *x = &s->v[s->n], *prev = s->n ? &s->v[s->n - 1] : NULL;
  const char *partner = pg_text(r, i, 0);
  memset(x, 0, sizeof *x);
  x->partner_id = prev && !strcmp(prev->partner_id, partner) ? prev->partner_id : keep(s, scap, partner);
  x->id = x->user_id = x->transaction_type = x->category = "";
  if (!x->partner_id) return fc_err_set(err, FC_ENOMEM, "out of memory");
  snprintf(x->currency, sizeof x->currency, "%s", pg_text(r, i, 1));
  x->scale = (int)pg_i64(r, i, 2);
  x->action_date = pg_i64(r, i, 3) * DAY;
  out->counts[s->n] = (size_t)pg_i64(r, i, 4);
  x->amount = pg_i64(r, i, 5);
  s->n++;
  return FC_OK;
}

typedef struct daily_args {
  const char *tenant;
  int64_t since_day;
  gw_daily_set *out;
} daily_args;

int pg_daily_read(PGconn *c, const char *table, const char *what, const char *tenant, int64_t since_day,
                  gw_daily_set *out, fc_err *err) {
  char sql[320];
  pg_args a = {0};
  pg_arg_text(&a, tenant), pg_arg_i64(&a, since_day);
  /* COLLATE "C": SQLite's byte order, so both engines list alike. */
  snprintf(sql, sizeof sql,
           "SELECT partner_id, currency, max(scale), day, sum(n), sum(amount)"
           " FROM %s WHERE tenant_id = $1 AND day >= $2"
           " GROUP BY day, partner_id, currency"
           " ORDER BY day, partner_id COLLATE \"C\", currency COLLATE \"C\"",
           table);
  PGresult *r = pg_exec(c, sql, &a, what, err);
  if (!r) return pg_failed(err);
  int rc = FC_OK, n = PQntuples(r);
  size_t scap = 0;
  if (n > 0) {
    out->rows.v = malloc((size_t)n * sizeof *out->rows.v);
    out->counts = malloc((size_t)n * sizeof *out->counts);
    if (!out->rows.v || !out->counts) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  for (int i = 0; i < n && rc == FC_OK; i++) rc = push(out, &scap, r, i, err);
  PQclear(r);
  return rc;
}

static int daily_fn(PGconn *c, void *arg, fc_err *err) {
  daily_args *d = arg;
  return pg_daily_read(c, "txn_daily", "rollups", d->tenant, d->since_day, d->out, err);
}

int gw_pg_load_daily(gw_pg *pg, const char *tenant, int64_t since_day, gw_daily_set *out, fc_err *err) {
  daily_args d = {tenant, since_day, out};
  memset(out, 0, sizeof *out);
  int rc = pg_run(pg, 1, daily_fn, &d, err);
  if (rc != FC_OK) gw_daily_set_free(out);
  return rc;
}
