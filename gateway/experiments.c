/* experiments.c: experiments in SQLite, the split hash and the paired
 * report. */
#include "experiments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"
#include "sha256.h"
#include "webhooks.h"

#include "fc/time.h"

static const char exp_schema[] =
    "CREATE TABLE IF NOT EXISTS experiments ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, currency TEXT NOT NULL,"
    " champion TEXT NOT NULL, challenger TEXT NOT NULL, mode TEXT NOT NULL,"
    " share DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL);";

int gw__experiments_schema(sqlite3 *c) { return sqlite3_exec(c, exp_schema, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1; }

static const char cols[] = "SELECT id, tenant_id, kind, currency, champion, challenger, mode, share, created_at"
                           " FROM experiments ";

static void row(sqlite3_stmt *st, gw_experiment *e) {
  const unsigned char *t;
  memset(e, 0, sizeof *e);
#define COPY(field, i) \
  t = sqlite3_column_text(st, i); \
  snprintf(e->field, sizeof e->field, "%s", t ? (const char *)t : "");
  COPY(id, 0) COPY(tenant, 1) COPY(kind, 2) COPY(currency, 3) COPY(champion, 4) COPY(challenger, 5) COPY(mode, 6)
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

int gw_db_experiment_for(gw_db *db, const char *tenant, const char *kind, const char *currency,
                         gw_experiment *out, fc_err *err) {
  const char *args[3] = {tenant, kind, currency ? currency : ""};
  /* A currency's own experiment first, then the all-currency one. */
  return one(db,
             "WHERE tenant_id = ?1 AND kind = ?2 AND (currency = ?3 OR currency = '' OR ?3 = '')"
             " ORDER BY CASE WHEN currency = ?3 THEN 0 ELSE 1 END, created_at LIMIT 1",
             3, args, out, err);
}

int gw_db_experiment_get(gw_db *db, const char *tenant, const char *id, gw_experiment *out, fc_err *err) {
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
  return gw__in_txn(db, insert_txn, (void *)e, err);
}

void gw_experiment_json(const gw_experiment *e, fc_buf *out) {
  char ts[FC_TIME_STR];
  fc_time_format(e->created_at, ts);
  fc_buf_puts(out, "{\"id\":");
  fc_buf_json_str(out, e->id);
  fc_buf_puts(out, ",\"kind\":");
  fc_buf_json_str(out, e->kind);
  fc_buf_puts(out, ",\"currency\":");
  if (e->currency[0]) fc_buf_json_str(out, e->currency);
  else fc_buf_puts(out, "null");
  fc_buf_printf(out, ",\"champion\":\"%s\",\"challenger\":\"%s\",\"mode\":\"%s\",\"share\":%.15g,"
                     "\"created_at\":\"%s\"}",
                e->champion, e->challenger, e->mode, e->share, ts);
}

int gw_db_experiments_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  char sql[256];
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *count = 0;
  if (rc != FC_OK) return rc;
  snprintf(sql, sizeof sql, "%sWHERE tenant_id = ?1 ORDER BY created_at, id", cols);
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "experiments");
  } else {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    fc_buf_putc(out, '[');
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
      gw_experiment e;
      row(st, &e);
      if ((*count)++) fc_buf_putc(out, ',');
      gw_experiment_json(&e, out);
    }
    fc_buf_putc(out, ']');
    if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "experiments");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_experiment_split_arm(const gw_experiment *e, const char *tenant, const char *key_id) {
  /* SHA-256 of "experiment/tenant/key": stable across restarts and nodes,
   * independent between experiments. */
  unsigned char d[GW_SHA256_LEN];
  gw_sha256_ctx s;
  uint64_t v = 0;
  gw_sha256_init(&s);
  gw_sha256_update(&s, e->id, strlen(e->id));
  gw_sha256_update(&s, "/", 1);
  gw_sha256_update(&s, tenant, strlen(tenant));
  gw_sha256_update(&s, "/", 1);
  gw_sha256_update(&s, key_id, strlen(key_id));
  gw_sha256_final(&s, d);
  for (int i = 0; i < 8; i++) v = v << 8 | d[i];
  return (double)(v >> 11) / 9007199254740992.0 < e->share;
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

typedef struct arm {
  size_t n, hours;
  double mae_sum, cov_sum, brier_sum;
  size_t n_brier;
} arm;

typedef struct pred {
  char currency[FC_CCY_MAX];
  int64_t origin;
  int challenger;
  double mae;
} pred;

static void arm_json(fc_buf *out, const char *name, const char *method, const arm *a) {
  fc_buf_printf(out, "\"%s\":{\"method\":\"%s\",\"predictions\":%zu,\"realized_hours\":%zu,\"mae\":", name,
                method, a->n, a->hours);
  if (a->n) fc_buf_json_num(out, a->mae_sum / (double)a->n);
  else fc_buf_puts(out, "null");
  fc_buf_puts(out, ",\"coverage_80\":");
  if (a->n) fc_buf_json_num(out, a->cov_sum / (double)a->n);
  else fc_buf_puts(out, "null");
  fc_buf_printf(out, ",\"brier_48h_n\":%zu,\"brier_48h\":", a->n_brier);
  if (a->n_brier) fc_buf_json_num(out, a->brier_sum / (double)a->n_brier);
  else fc_buf_puts(out, "null");
  fc_buf_putc(out, '}');
}

/* The pairs' difference (champion MAE - challenger MAE). */
static void difference_json(fc_buf *out, const pred *v, size_t n) {
  double sum = 0, sq = 0;
  size_t k = 0;
  /* Rows come ordered by currency, origin and horizon: a pair is two
   * adjacent rows of the same currency and origin, one per arm. */
  for (size_t i = 0; i + 1 < n; i++)
    if (v[i].challenger != v[i + 1].challenger && !strcmp(v[i].currency, v[i + 1].currency) &&
        v[i].origin == v[i + 1].origin) {
      const pred *a = v[i].challenger ? &v[i + 1] : &v[i], *b = v[i].challenger ? &v[i] : &v[i + 1];
      double d = a->mae - b->mae;
      i++;
      sum += d;
      sq += d * d;
      k++;
    }
  fc_buf_printf(out, "\"difference\":{\"measure\":\"champion MAE - challenger MAE per paired prediction\","
                     "\"pairs\":%zu,\"mean\":", k);
  if (!k) {
    fc_buf_puts(out, "null,\"ci95\":null,\"significant\":false,\"verdict\":\"no paired realized predictions yet\"}");
    return;
  }
  double mean = sum / (double)k;
  fc_buf_json_num(out, mean);
  if (k < 2) {
    fc_buf_puts(out, ",\"ci95\":null,\"significant\":false,\"verdict\":\"one pair: no interval yet\"}");
    return;
  }
  double var = (sq - (double)k * mean * mean) / (double)(k - 1), half = 1.96 * sqrt(var > 0 ? var : 0) / sqrt((double)k);
  int sig = mean - half > 0 || mean + half < 0;
  fc_buf_puts(out, ",\"ci95\":[");
  fc_buf_json_num(out, mean - half);
  fc_buf_putc(out, ',');
  fc_buf_json_num(out, mean + half);
  fc_buf_printf(out, "],\"significant\":%s,\"verdict\":\"%s\"}", sig ? "true" : "false",
                !sig ? "no significant difference" : mean > 0 ? "the challenger is more accurate" : "the champion is more accurate");
}

int gw_experiment_report(gw_db *db, const gw_experiment *e, fc_buf *out, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  char kc[24], kh[24];
  arm arms[2];
  pred *v = NULL;
  size_t n = 0, cap = 0;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  if (rc != FC_OK) return rc;
  memset(arms, 0, sizeof arms);
  snprintf(kc, sizeof kc, "treasury_%s", e->champion);
  snprintf(kh, sizeof kh, "treasury_%s", e->challenger);
  if (sqlite3_prepare_v2(c, report_sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "experiments");
  } else {
    const char *t[4] = {e->tenant, kc, kh, e->currency};
    for (int i = 0; i < 4; i++) sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, e->created_at);
    while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
      int ch = !strcmp((const char *)sqlite3_column_text(st, 0), kh);
      arm *a = &arms[ch];
      if (n == cap) {
        pred *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
        if (!nv) {
          rc = fc_err_set(err, FC_ENOMEM, "out of memory");
          break;
        }
        v = nv;
      }
      snprintf(v[n].currency, sizeof v[n].currency, "%s", (const char *)sqlite3_column_text(st, 1));
      v[n].origin = sqlite3_column_int64(st, 2);
      v[n].mae = sqlite3_column_double(st, 3);
      v[n].challenger = ch;
      n++;
      a->n++;
      a->mae_sum += sqlite3_column_double(st, 3);
      a->hours += (size_t)sqlite3_column_int64(st, 4);
      a->cov_sum += sqlite3_column_double(st, 5);
      if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
        a->brier_sum += sqlite3_column_double(st, 6);
        a->n_brier++;
      }
    }
    if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "experiments");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  if (rc == FC_OK) {
    fc_buf_puts(out, "{\"experiment\":");
    gw_experiment_json(e, out);
    fc_buf_puts(out, ",\"arms\":{");
    arm_json(out, "champion", e->champion, &arms[0]);
    fc_buf_putc(out, ',');
    arm_json(out, "challenger", e->challenger, &arms[1]);
    fc_buf_puts(out, "},");
    difference_json(out, v, n);
    fc_buf_putc(out, '}');
  }
  free(v);
  return rc;
}

int gw_experiments_seed_demo(gw_db *db, fc_err *err) {
  gw_experiment e;
  int rc = gw_db_experiment_for(db, "demo", "treasury", NULL, &e, err);
  if (rc != FC_ENOTFOUND) return rc;
  memset(&e, 0, sizeof e);
  if (gw_random_token("exp_", 12, e.id, sizeof e.id) != 0) return fc_err_set(err, FC_EUNSUPPORTED, "no randomness");
  snprintf(e.tenant, sizeof e.tenant, "demo");
  snprintf(e.kind, sizeof e.kind, "treasury");
  snprintf(e.champion, sizeof e.champion, "rule");
  snprintf(e.challenger, sizeof e.challenger, "ml");
  snprintf(e.mode, sizeof e.mode, "shadow");
  e.share = 0;
  e.created_at = 0; /* from the start: every recorded projection of the demo counts */
  fc_err_clear(err);
  return gw_db_experiment_insert(db, &e, err);
}
