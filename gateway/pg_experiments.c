/* pg_experiments.c: A/B experiments in PostgreSQL (migration 5) and the
 * per-prediction rows of their reports, the same contract as
 * db_experiments.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments.h"
#include "pg_internal.h"

static const char cols[] = "SELECT id, tenant_id, kind, currency, champion, challenger, mode, share, created_at"
                           " FROM experiments ";

static void row(const PGresult *r, int i, void *out) {
  gw_experiment *e = out;
  memset(e, 0, sizeof *e);
  snprintf(e->id, sizeof e->id, "%s", pg_text(r, i, 0));
  snprintf(e->tenant, sizeof e->tenant, "%s", pg_text(r, i, 1));
  snprintf(e->kind, sizeof e->kind, "%s", pg_text(r, i, 2));
  snprintf(e->currency, sizeof e->currency, "%s", pg_text(r, i, 3));
  snprintf(e->champion, sizeof e->champion, "%s", pg_text(r, i, 4));
  snprintf(e->challenger, sizeof e->challenger, "%s", pg_text(r, i, 5));
  snprintf(e->mode, sizeof e->mode, "%s", pg_text(r, i, 6));
  e->share = strtod(pg_text(r, i, 7), NULL);
  e->created_at = pg_i64(r, i, 8);
}

typedef struct one_args {
  const char *where;
  int n;
  const char *const *args;
  gw_experiment *out;
} one_args;

static int one_fn(PGconn *c, void *arg, fc_err *err) {
  one_args *o = arg;
  char sql[512];
  pg_args a = {0};
  for (int i = 0; i < o->n; i++) pg_arg_text(&a, o->args[i]);
  snprintf(sql, sizeof sql, "%s%s", cols, o->where);
  int rc = pg_query_row(c, sql, &a, "experiments", row, o->out, err);
  return rc == FC_ENOTFOUND ? fc_err_set(err, FC_ENOTFOUND, "no such experiment") : rc;
}

int gw_pg_experiment_for(gw_pg *pg, const char *tenant, const char *kind, const char *currency, gw_experiment *out,
                         fc_err *err) {
  const char *args[3] = {tenant, kind, currency ? currency : ""};
  /* A currency's own experiment first, then the all-currency one. */
  one_args o = {"WHERE tenant_id = $1 AND kind = $2 AND (currency = $3 OR currency = '' OR $3 = '')"
                " ORDER BY CASE WHEN currency = $3 THEN 0 ELSE 1 END, created_at LIMIT 1",
                3, args, out};
  return pg_run(pg, 1, one_fn, &o, err);
}

int gw_pg_experiment_get(gw_pg *pg, const char *tenant, const char *id, gw_experiment *out, fc_err *err) {
  const char *args[2] = {tenant, id};
  one_args o = {"WHERE tenant_id = $1 AND id = $2", 2, args, out};
  return pg_run(pg, 1, one_fn, &o, err);
}

/* The check and the insert under a lock of the tenant's experiments (held
 * to the end of the transaction): two nodes creating overlapping
 * experiments at once cannot both pass the check, as SQLite's one writer
 * guarantees. */
static int insert_fn(PGconn *c, void *arg, fc_err *err) {
  const gw_experiment *e = arg;
  pg_args a = {0};
  pg_arg_text(&a, e->tenant);
  int rc = pg_do(c, "SELECT pg_advisory_xact_lock(hashtext('fc:experiments:' || $1))", &a, "experiments", err);
  if (rc != FC_OK) return rc;
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, e->tenant), pg_arg_text(&a, e->kind), pg_arg_text(&a, e->currency);
  PGresult *r = pg_exec(c,
                        "SELECT count(*) FROM experiments WHERE tenant_id = $1 AND kind = $2"
                        " AND (currency = $3 OR currency = '' OR $3 = '')",
                        &a, "experiments", err);
  if (!r) return pg_failed(err);
  if (pg_i64(r, 0, 0) > 0)
    rc = fc_err_set(err, FC_EDUP, "an experiment on %s projections%s%s already runs for this tenant", e->kind,
                    e->currency[0] ? " in " : "", e->currency);
  PQclear(r);
  if (rc != FC_OK) return rc;
  char share[32];
  snprintf(share, sizeof share, "%.17g", e->share);
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, e->id), pg_arg_text(&a, e->tenant), pg_arg_text(&a, e->kind);
  pg_arg_text(&a, e->currency), pg_arg_text(&a, e->champion), pg_arg_text(&a, e->challenger);
  pg_arg_text(&a, e->mode), pg_arg_text(&a, share), pg_arg_i64(&a, e->created_at);
  return pg_do(c,
               "INSERT INTO experiments (id, tenant_id, kind, currency, champion, challenger, mode,"
               " share, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
               &a, "experiments", err);
}

int gw_pg_experiment_insert(gw_pg *pg, const gw_experiment *e, fc_err *err) {
  return pg_run(pg, 0, insert_fn, (void *)e, err);
}

static void list_row(const PGresult *r, int i, fc_buf *out) {
  gw_experiment e;
  row(r, i, &e);
  gw_experiment_json(&e, out);
}

int gw_pg_experiments_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  return pg_list_tenant_json(pg, cols, tenant, "created_at, id", "experiments", list_row, out, count, err);
}

/* db_experiments.c's report rows: per arm and per prediction, the mean
 * absolute error over its realized hours and the 48 h Brier term. */
static const char report_sql[] =
    "SELECT p.kind, p.currency, p.origin, avg(abs(r.actual - r.mean)), count(*),"
    " avg(CASE WHEN r.actual >= r.lo AND r.actual <= r.hi THEN 1.0::float8 ELSE 0.0::float8 END),"
    " (SELECT (b.p - b.outcome) * (b.p - b.outcome) FROM prediction_brier b"
    "  WHERE b.prediction_id = p.id AND b.hours = 48)"
    " FROM predictions p JOIN prediction_realized r ON r.prediction_id = p.id"
    " WHERE p.tenant_id = $1 AND p.kind IN ($2, $3) AND ($4 = '' OR p.currency = $4)"
    " AND p.served_at >= $5"
    " GROUP BY p.id, p.kind, p.currency, p.origin, p.horizon"
    " ORDER BY p.currency, p.origin, p.horizon, p.kind";

/* Revenue and cash flow: the arms are model sources of the same kinds. */
static const char source_sql[] =
    "SELECT p.model_source, p.currency, p.origin, avg(abs(r.actual - r.mean)), count(*),"
    " avg(CASE WHEN r.actual >= r.lo AND r.actual <= r.hi THEN 1.0::float8 ELSE 0.0::float8 END),"
    " NULL, p.kind || '/' || p.granularity, p.horizon"
    " FROM predictions p JOIN prediction_realized r ON r.prediction_id = p.id"
    " WHERE p.tenant_id = $1 AND p.kind IN ($2, $3) AND p.model_source IN ($4, $5, $6)"
    " AND ($7 = '' OR p.currency = $7) AND p.served_at >= $8"
    " GROUP BY p.id, p.kind, p.granularity, p.model_source, p.currency, p.origin, p.horizon"
    " ORDER BY p.currency, p.kind, p.granularity, p.origin, p.horizon, p.model_source";

typedef struct report_args {
  const gw_experiment *e;
  gw_arm_pred **out;
  size_t *n;
} report_args;

static int report_fn(PGconn *c, void *arg, fc_err *err) {
  report_args *ra = arg;
  const gw_experiment *e = ra->e;
  char kc[32], kh[32];
  gw_arm_sources s;
  int by_source = gw_experiment_sources(e, &s);
  pg_args a = {0};
  if (by_source) {
    snprintf(kh, sizeof kh, "%s", s.challenger);
    pg_arg_text(&a, e->tenant), pg_arg_text(&a, s.kind[0]), pg_arg_text(&a, s.kind[1] ? s.kind[1] : s.kind[0]);
    pg_arg_text(&a, s.champion[0]), pg_arg_text(&a, s.champion[1] ? s.champion[1] : s.champion[0]);
    pg_arg_text(&a, s.challenger), pg_arg_text(&a, e->currency), pg_arg_i64(&a, e->created_at);
  } else {
    snprintf(kc, sizeof kc, "treasury_%s", e->champion);
    snprintf(kh, sizeof kh, "treasury_%s", e->challenger);
    pg_arg_text(&a, e->tenant), pg_arg_text(&a, kc), pg_arg_text(&a, kh);
    pg_arg_text(&a, e->currency), pg_arg_i64(&a, e->created_at);
  }
  PGresult *r = pg_exec(c, by_source ? source_sql : report_sql, &a, "experiments", err);
  if (!r) return pg_failed(err);
  int rows = PQntuples(r), rc = FC_OK;
  if (rows > 0 && !(*ra->out = calloc((size_t)rows, sizeof **ra->out)))
    rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  for (int i = 0; i < rows && rc == FC_OK; i++) {
    gw_arm_pred *p = &(*ra->out)[(*ra->n)++];
    snprintf(p->currency, sizeof p->currency, "%s", pg_text(r, i, 1));
    p->challenger = !strcmp(pg_text(r, i, 0), kh);
    p->origin = pg_i64(r, i, 2);
    p->mae = strtod(pg_text(r, i, 3), NULL);
    p->hours = (size_t)pg_i64(r, i, 4);
    p->coverage = strtod(pg_text(r, i, 5), NULL);
    p->has_brier = !pg_null(r, i, 6);
    p->brier = p->has_brier ? strtod(pg_text(r, i, 6), NULL) : 0;
    if (by_source) {
      snprintf(p->group, sizeof p->group, "%s", pg_text(r, i, 7));
      p->horizon = (int)pg_i64(r, i, 8);
    }
  }
  PQclear(r);
  return rc;
}

int gw_pg_experiment_predictions(gw_pg *pg, const gw_experiment *e, gw_arm_pred **out, size_t *n, fc_err *err) {
  report_args ra = {e, out, n};
  *out = NULL;
  *n = 0;
  int rc = pg_run(pg, 1, report_fn, &ra, err);
  if (rc != FC_OK) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}
