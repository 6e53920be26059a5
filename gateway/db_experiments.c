/* db_experiments.c: the experiments table and the per-prediction rows
 * an experiment's report is computed from (experiments.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "experiments.h"

static const char exp_schema[] =
    "CREATE TABLE IF NOT EXISTS experiments ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, currency TEXT NOT NULL,"
    " champion TEXT NOT NULL, challenger TEXT NOT NULL, mode TEXT NOT NULL,"
    " share DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL);";

int gw__experiments_schema(sqlite3 *c, fc_err *err) { return gw__exec(c, exp_schema, "experiments schema", err); }

static const char cols[] = "SELECT id, tenant_id, kind, currency, champion, challenger, mode, share, created_at"
                           " FROM experiments ";

static void row(sqlite3_stmt *st, gw_experiment *e) {
  const unsigned char *t;
  memset(e, 0, sizeof *e);
#define COPY(field, i)                                                   \
  do {                                                                   \
    t = sqlite3_column_text(st, i);                                      \
    snprintf(e->field, sizeof e->field, "%s", t ? (const char *)t : ""); \
  } while (0)
  COPY(id, 0);
  COPY(tenant, 1);
  COPY(kind, 2);
  COPY(currency, 3);
  COPY(champion, 4);
  COPY(challenger, 5);
  COPY(mode, 6);
#undef COPY
  e->share = sqlite3_column_double(st, 7);
  e->created_at = sqlite3_column_int64(st, 8);
}

/* The first row of cols + where (texts bound in order); FC_ENOTFOUND. */
static int one(gw_db *db, const char *where, int n, const char *const *args, gw_experiment *out, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  char sql[512];
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  snprintf(sql, sizeof sql, "%s%s", cols, where);
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "experiments");
  } else {
    for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) row(st, out);
    else if (r == SQLITE_DONE) rc = fc_err_set(err, FC_ENOTFOUND, "no such experiment");
    else rc = gw__sql_err(c, err, "experiments");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_experiment_for(gw_db *db, const char *tenant, const char *kind, const char *currency, gw_experiment *out,
                         fc_err *err) {
  GW_PG(db, gw_pg_experiment_for(pg_, tenant, kind, currency, out, err));
  const char *args[3] = {tenant, kind, currency ? currency : ""};
  /* A currency's own experiment first, then the all-currency one. */
  return one(db,
             "WHERE tenant_id = ?1 AND kind = ?2 AND (currency = ?3 OR currency = '' OR ?3 = '')"
             " ORDER BY CASE WHEN currency = ?3 THEN 0 ELSE 1 END, created_at LIMIT 1",
             3, args, out, err);
}

int gw_db_experiment_get(gw_db *db, const char *tenant, const char *id, gw_experiment *out, fc_err *err) {
  GW_PG(db, gw_pg_experiment_get(pg_, tenant, id, out, err));
  const char *args[2] = {tenant, id};
  return one(db, "WHERE tenant_id = ?1 AND id = ?2", 2, args, out, err);
}

static int insert_txn(sqlite3 *c, void *arg, fc_err *err) {
  const gw_experiment *e = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c,
                         "SELECT count(*) FROM experiments WHERE tenant_id = ?1 AND kind = ?2"
                         " AND (currency = ?3 OR currency = '' OR ?3 = '')",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "experiments");
  sqlite3_bind_text(st, 1, e->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, e->currency, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) rc = gw__sql_err(c, err, "experiments");
  else if (sqlite3_column_int64(st, 0) > 0)
    rc = fc_err_set(err, FC_EDUP, "an experiment on %s projections%s%s already runs for this tenant", e->kind,
                    e->currency[0] ? " in " : "", e->currency);
  sqlite3_finalize(st);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO experiments (id, tenant_id, kind, currency, champion, challenger, mode,"
                         " share, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "experiments");
  const char *t[7] = {e->id, e->tenant, e->kind, e->currency, e->champion, e->challenger, e->mode};
  for (int i = 0; i < 7; i++) sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 8, e->share);
  sqlite3_bind_int64(st, 9, e->created_at);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "experiments");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_experiment_insert(gw_db *db, const gw_experiment *e, fc_err *err) {
  GW_PG(db, gw_pg_experiment_insert(pg_, e, err));
  return gw__in_txn(db, insert_txn, (void *)e, err);
}

static void list_row(sqlite3_stmt *st, fc_buf *out) {
  gw_experiment e;
  row(st, &e);
  gw_experiment_json(&e, out);
}

int gw_db_experiments_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_experiments_write_json(pg_, tenant, out, count, err));
  char sql[256];
  snprintf(sql, sizeof sql, "%sWHERE tenant_id = ?1 ORDER BY created_at, id", cols);
  return gw__list_json(db, sql, tenant, NULL, 0, "experiments", list_row, out, count, err);
}

/* Per arm and per prediction: the mean absolute error over its realized
 * hours, and the 48 h Brier term when known. */
static const char report_sql[] =
    "SELECT p.kind, p.currency, p.origin, avg(abs(r.actual - r.mean)), count(*),"
    " avg(CASE WHEN r.actual >= r.lo AND r.actual <= r.hi THEN 1.0 ELSE 0.0 END),"
    " (SELECT (b.p - b.outcome) * (b.p - b.outcome) FROM prediction_brier b"
    "  WHERE b.prediction_id = p.id AND b.hours = 48)"
    " FROM predictions p JOIN prediction_realized r ON r.prediction_id = p.id"
    " WHERE p.tenant_id = ?1 AND p.kind IN (?2, ?3) AND (?4 = '' OR p.currency = ?4)"
    " AND p.served_at >= ?5"
    " GROUP BY p.id, p.kind, p.currency, p.origin, p.horizon ORDER BY p.currency, p.origin, p.horizon, p.kind";

/* Revenue and cash flow (experiments.h): the arms are model sources of
 * the same kinds; no Brier. */
static const char source_sql[] =
    "SELECT p.model_source, p.currency, p.origin, avg(abs(r.actual - r.mean)), count(*),"
    " avg(CASE WHEN r.actual >= r.lo AND r.actual <= r.hi THEN 1.0 ELSE 0.0 END),"
    " NULL, p.kind || '/' || p.granularity, p.horizon"
    " FROM predictions p JOIN prediction_realized r ON r.prediction_id = p.id"
    " WHERE p.tenant_id = ?1 AND p.kind IN (?2, ?3) AND p.model_source IN (?4, ?5, ?6)"
    " AND (?7 = '' OR p.currency = ?7) AND p.served_at >= ?8"
    " GROUP BY p.id, p.kind, p.granularity, p.model_source, p.currency, p.origin, p.horizon"
    " ORDER BY p.currency, p.kind, p.granularity, p.origin, p.horizon, p.model_source";

/* The arms' query, prepared and bound into *st; 0, or why not. */
static int bind_query(sqlite3 *c, const gw_experiment *e, sqlite3_stmt **st, char kc[32], char kh[32], fc_err *err) {
  gw_arm_sources a;
  if (gw_experiment_sources(e, &a)) {
    if (sqlite3_prepare_v2(c, source_sql, -1, st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "experiments");
    const char *t[7] = {e->tenant,
                        a.kind[0],
                        a.kind[1] ? a.kind[1] : a.kind[0],
                        a.champion[0],
                        a.champion[1] ? a.champion[1] : a.champion[0],
                        a.challenger,
                        e->currency};
    for (int i = 0; i < 7; i++) sqlite3_bind_text(*st, i + 1, t[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(*st, 8, e->created_at);
    snprintf(kh, 32, "%s", a.challenger);
    return FC_OK;
  }
  snprintf(kc, 32, "treasury_%s", e->champion);
  snprintf(kh, 32, "treasury_%s", e->challenger);
  if (sqlite3_prepare_v2(c, report_sql, -1, st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "experiments");
  const char *t[4] = {e->tenant, kc, kh, e->currency};
  for (int i = 0; i < 4; i++) sqlite3_bind_text(*st, i + 1, t[i], -1, SQLITE_STATIC);
  sqlite3_bind_int64(*st, 5, e->created_at);
  return FC_OK;
}

int gw_db_experiment_predictions(gw_db *db, const gw_experiment *e, gw_arm_pred **out, size_t *n, fc_err *err) {
  GW_PG(db, gw_pg_experiment_predictions(pg_, e, out, n, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  char kc[32], kh[32];
  size_t cap = 0;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *out = NULL;
  *n = 0;
  if (rc != FC_OK) return rc;
  if ((rc = bind_query(c, e, &st, kc, kh, err)) == FC_OK) {
    while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
      if (*n == cap) {
        gw_arm_pred *nv = realloc(*out, (cap = cap ? 2 * cap : 64) * sizeof **out);
        if (!nv) {
          rc = fc_err_set(err, FC_ENOMEM, "out of memory");
          break;
        }
        *out = nv;
      }
      gw_arm_pred *p = &(*out)[(*n)++];
      memset(p, 0, sizeof *p);
      snprintf(p->currency, sizeof p->currency, "%s", (const char *)sqlite3_column_text(st, 1));
      p->challenger = !strcmp((const char *)sqlite3_column_text(st, 0), kh);
      p->origin = sqlite3_column_int64(st, 2);
      p->mae = sqlite3_column_double(st, 3);
      p->hours = (size_t)sqlite3_column_int64(st, 4);
      p->coverage = sqlite3_column_double(st, 5);
      p->has_brier = sqlite3_column_type(st, 6) != SQLITE_NULL;
      p->brier = p->has_brier ? sqlite3_column_double(st, 6) : 0;
      if (sqlite3_column_count(st) > 7) {
        snprintf(p->group, sizeof p->group, "%s", (const char *)sqlite3_column_text(st, 7));
        p->horizon = sqlite3_column_int(st, 8);
      }
    }
    if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "experiments");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  if (rc != FC_OK) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}
