/* db_tz.c: SQLite side of db_tz.h: the tenant_time_zones and
 * txn_local_daily tables, the rebuild when a zone is set, the per-batch
 * deltas db.c's upsert feeds, and the read. */
#include "db_tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define DAY 86400

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS tenant_time_zones ("
    " tenant_id TEXT PRIMARY KEY, time_zone TEXT NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS txn_local_daily ("
    " tenant_id TEXT NOT NULL, partner_id TEXT NOT NULL, currency TEXT NOT NULL,"
    " day INTEGER NOT NULL, transaction_type TEXT NOT NULL, scale INTEGER NOT NULL,"
    " n INTEGER NOT NULL, amount INTEGER NOT NULL,"
    " PRIMARY KEY (tenant_id, partner_id, currency, day, transaction_type));"
    "CREATE INDEX IF NOT EXISTS txn_local_daily_by_day ON txn_local_daily (tenant_id, day);";

static int rebuild(sqlite3 *c, const char *tenant, const gw_tz *z, int daily, fc_err *err);

/* The tables, and a file's first txn_user_local_daily back-filled for the
 * tenants that already have a zone. */
int gw__tz_schema(sqlite3 *c, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int created = 0, r = SQLITE_DONE;
  int rc = gw__exec(c, schema_sql, "time zone schema", err);
  if (rc == FC_OK) rc = gw__user_local_days_create(c, &created, err);
  if (rc != FC_OK || !created) return rc;
  if (sqlite3_prepare_v2(c, "SELECT tenant_id, time_zone FROM tenant_time_zones", -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "time zone schema");
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    const gw_tz *z = NULL;
    /* A stored zone the system no longer knows fails the open rather than
     * leave its tenant's local days empty. */
    rc = gw_tz_get((const char *)sqlite3_column_text(st, 1), &z, err);
    if (rc == FC_OK) rc = rebuild(c, (const char *)sqlite3_column_text(st, 0), z, 0, err);
  }
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "time zone schema");
  sqlite3_finalize(st);
  return rc;
}

/* The stored zone of tenant (a connection already held); "" when none. */
static int zone_of(sqlite3 *c, const char *tenant, char *name, fc_err *err) {
  sqlite3_stmt *st = NULL;
  name[0] = '\0';
  if (sqlite3_prepare_v2(c, "SELECT time_zone FROM tenant_time_zones WHERE tenant_id = ?1", -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "time zone");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) snprintf(name, GW_TZ_NAME_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return r == SQLITE_ROW || r == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "time zone");
}

int gw_db_tenant_zone(gw_db *db, const char *tenant, char *name, fc_err *err) {
  GW_PG(db, gw_pg_tenant_zone(pg_, tenant, name, err));
  sqlite3 *c;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  rc = zone_of(c, tenant, name, err);
  gw__release(db, c);
  return rc;
}

/* gw_local_day(action_date): the local day in the zone given as the
 * function's user data, so that SQL sums by the same day C computes. */
static void local_day_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_result_int64(ctx, gw_tz_local_day(sqlite3_user_data(ctx), sqlite3_value_int64(argv[0])));
}

/* The tenant's local-day rows of z from its transactions: the customers'
 * (txn_user_local_daily), and with daily also txn_local_daily's. */
static int rebuild(sqlite3 *c, const char *tenant, const gw_tz *z, int daily, fc_err *err) {
  static const char sum_sql[] =
      "INSERT INTO txn_local_daily (tenant_id, partner_id, currency, day, transaction_type, scale, n, amount)"
      " SELECT tenant_id, partner_id, currency, gw_local_day(action_date) AS d, transaction_type,"
      " max(scale), count(*), sum(amount) FROM transactions WHERE tenant_id = ?1"
      " GROUP BY partner_id, currency, d, transaction_type";
  sqlite3_stmt *st = NULL;
  if (sqlite3_create_function(c, "gw_local_day", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, (void *)z, local_day_fn, NULL,
                              NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "time zone");
  int rc =
      !daily || sqlite3_prepare_v2(c, sum_sql, -1, &st, NULL) == SQLITE_OK ? FC_OK : gw__sql_err(c, err, "time zone");
  if (rc == FC_OK && daily) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "time zone");
  }
  sqlite3_finalize(st);
  if (rc == FC_OK) rc = gw__user_local_days_fill(c, tenant, err);
  /* Unregistered again: a pooled connection keeps no pointer it does not need. */
  sqlite3_create_function(c, "gw_local_day", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
  return rc;
}

static int exec_bound(sqlite3 *c, const char *sql, const char *tenant, const char *zone, fc_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "time zone");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  if (zone) sqlite3_bind_text(st, 2, zone, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  int rc = r == SQLITE_DONE || r == SQLITE_ROW ? FC_OK : gw__sql_err(c, err, "time zone");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_tenant_zone_set(gw_db *db, const char *tenant, const gw_tz *z, fc_err *err) {
  GW_PG(db, gw_pg_tenant_zone_set(pg_, tenant, z, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_exec(c, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "time zone");
    gw__release(db, c);
    return rc;
  }
  int known = 0;
  if (sqlite3_prepare_v2(c, "SELECT 1 FROM tenants WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    known = sqlite3_step(st) == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  if (!known) {
    rc = fc_err_set(err, FC_ENOTFOUND, "no tenant '%s'", tenant);
  } else {
    rc = exec_bound(c, "DELETE FROM tenant_time_zones WHERE tenant_id = ?1", tenant, NULL, err);
    if (rc == FC_OK) rc = exec_bound(c, "DELETE FROM txn_local_daily WHERE tenant_id = ?1", tenant, NULL, err);
    if (rc == FC_OK) rc = exec_bound(c, "DELETE FROM txn_user_local_daily WHERE tenant_id = ?1", tenant, NULL, err);
    if (rc == FC_OK)
      rc = exec_bound(c, "DELETE FROM txn_user_packs WHERE tenant_id = ?1 AND local = 1", tenant, NULL, err);
    /* A segments answer kept for the old zone's days no longer holds. */
    if (rc == FC_OK) rc = gw__user_days_bump(c, tenant, err);
    if (rc == FC_OK && !gw_tz_is_utc(z))
      rc = exec_bound(c,
                      "INSERT INTO tenant_time_zones (tenant_id, time_zone, updated_at)"
                      " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))",
                      tenant, gw_tz_name(z), err);
    if (rc == FC_OK && !gw_tz_is_utc(z)) rc = rebuild(c, tenant, z, 1, err);
    if (rc == FC_OK && !gw_tz_is_utc(z)) rc = gw__user_packs_tenant(c, tenant, 1, err);
  }
  if (rc == FC_OK && sqlite3_exec(c, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = gw__sql_err(c, err, "time zone");
  if (rc != FC_OK) sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
  gw__release(db, c);
  return rc;
}

/* ---- per-batch deltas (db_internal.h) ----------------------------------------------- */

typedef struct local_delta {
  const char *partner, *currency, *type; /* the batch's strings, or owned copies (old rows) */
  int64_t day, n, amount;
  int scale, owned;
} local_delta;

struct gw_local_days {
  const gw_tz *z;
  local_delta *v;
  size_t n, cap;
  int failed;
  gw_user_deltas *users; /* the customers' local days (txn_user_local_daily) */
};

int gw__local_days_begin(sqlite3 *c, const char *tenant, gw_local_days **out, fc_err *err) {
  char name[GW_TZ_NAME_MAX + 1];
  const gw_tz *z = NULL;
  *out = NULL;
  int rc = zone_of(c, tenant, name, err);
  if (rc != FC_OK || !name[0]) return rc;
  /* A stored name always loaded once; failing now (a zone file removed
   * from the system) must not lose the batch's local days silently. */
  if ((rc = gw_tz_get(name, &z, err)) != FC_OK) return rc;
  if (gw_tz_is_utc(z)) return FC_OK;
  if (!(*out = calloc(1, sizeof **out)) || !((*out)->users = gw__user_deltas_create(z))) {
    free(*out);
    *out = NULL;
    return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  (*out)->z = z;
  return FC_OK;
}

static void push(gw_local_days *l, const char *partner, const char *currency, const char *type, int scale, int64_t at,
                 int64_t amount, int sign, int owned) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    local_delta *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->failed = 1;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  local_delta *d = &l->v[l->n++];
  d->partner = partner;
  d->currency = currency;
  d->type = type;
  d->day = gw_tz_local_day(l->z, at);
  d->n = sign;
  d->amount = sign * amount;
  d->scale = scale;
  d->owned = owned;
}

void gw__local_days_new(gw_local_days *l, const fc_transaction *x) {
  if (l && !l->failed)
    push(l, x->partner_id, x->currency, x->transaction_type, x->scale, x->action_date, x->amount, 1, 0);
  if (l) gw__user_deltas_new(l->users, x);
}

void gw__local_days_old(gw_local_days *l, sqlite3_stmt *probe) {
  if (l) gw__user_deltas_old(l->users, probe);
  if (!l || l->failed) return;
  const char *s[3] = {(const char *)sqlite3_column_text(probe, 0), (const char *)sqlite3_column_text(probe, 1),
                      (const char *)sqlite3_column_text(probe, 5)};
  char *copy[3];
  for (int i = 0; i < 3; i++) copy[i] = strdup(s[i] ? s[i] : "");
  if (!copy[0] || !copy[1] || !copy[2]) {
    for (int i = 0; i < 3; i++) free(copy[i]);
    l->failed = 1;
    return;
  }
  size_t before = l->n;
  push(l, copy[0], copy[1], copy[2], sqlite3_column_int(probe, 2), sqlite3_column_int64(probe, 3),
       sqlite3_column_int64(probe, 4), -1, 1);
  if (l->n == before)
    for (int i = 0; i < 3; i++) free(copy[i]);
}

static int cmp_delta(const void *pa, const void *pb) {
  const local_delta *a = pa, *b = pb;
  int r = strcmp(a->partner, b->partner);
  if (!r) r = strcmp(a->currency, b->currency);
  if (!r) r = (a->day > b->day) - (a->day < b->day);
  if (!r) r = strcmp(a->type, b->type);
  return r;
}

int gw__local_days_apply(gw_local_days *l, sqlite3 *c, const char *tenant, fc_err *err) {
  static const char upsert[] =
      "INSERT INTO txn_local_daily (tenant_id, partner_id, currency, day, transaction_type, scale, n, amount)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
      " ON CONFLICT (tenant_id, partner_id, currency, day, transaction_type) DO UPDATE SET"
      " n = txn_local_daily.n + excluded.n, amount = txn_local_daily.amount + excluded.amount,"
      " scale = excluded.scale";
  static const char drop[] = "DELETE FROM txn_local_daily WHERE tenant_id = ?1 AND partner_id = ?2 AND currency = ?3"
                             " AND day = ?4 AND transaction_type = ?5 AND n = 0";
  sqlite3_stmt *up = NULL, *del = NULL;
  if (!l) return FC_OK;
  if (l->failed) return fc_err_set(err, FC_ENOMEM, "local-day rollups: out of memory");
  /* Stable order: an old row (-1) sorts by key with the new ones, and the
   * last scale seen per key is the new row's, as txn_daily keeps it. */
  qsort(l->v, l->n, sizeof *l->v, cmp_delta);
  int rc = sqlite3_prepare_v2(c, upsert, -1, &up, NULL) != SQLITE_OK ||
                   sqlite3_prepare_v2(c, drop, -1, &del, NULL) != SQLITE_OK
               ? gw__sql_err(c, err, "local-day rollups")
               : FC_OK;
  for (size_t i = 0; rc == FC_OK && i < l->n;) {
    local_delta sum = l->v[i];
    size_t j = i + 1;
    for (; j < l->n && cmp_delta(&l->v[i], &l->v[j]) == 0; j++) {
      sum.n += l->v[j].n;
      sum.amount += l->v[j].amount;
      if (l->v[j].n > 0) sum.scale = l->v[j].scale;
    }
    if ((sum.n != 0 || sum.amount != 0) && gw__daily_apply(up, del, tenant, sum.partner, sum.currency, sum.day,
                                                           sum.type, sum.scale, sum.n, sum.amount) != 0)
      rc = gw__sql_err(c, err, "local-day rollups");
    i = j;
  }
  sqlite3_finalize(up);
  sqlite3_finalize(del);
  return rc == FC_OK ? gw__user_deltas_apply(l->users, c, tenant, err) : rc;
}

void gw__local_days_destroy(gw_local_days *l) {
  if (!l) return;
  gw__user_deltas_destroy(l->users);
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].owned) {
      free((char *)l->v[i].partner);
      free((char *)l->v[i].currency);
      free((char *)l->v[i].type);
    }
  free(l->v);
  free(l);
}

/* ---- reads ---------------------------------------------------------------------------- */

/* Appends one row as a pseudo-transaction (as db_rollups.c's read does);
 * 0, or FC_ENOMEM. */
static int push_row(gw_daily_set *out, size_t *cap, sqlite3_stmt *st, fc_err *err) {
  gw_txn_set *s = &out->rows;
  if (s->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 512;
    fc_transaction *v = realloc(s->v, nc * sizeof *v);
    if (v) s->v = v;
    size_t *cn = v ? realloc(out->counts, nc * sizeof *cn) : NULL;
    if (!cn) return fc_err_set(err, FC_ENOMEM, "out of memory");
    out->counts = cn;
    *cap = nc;
  }
  fc_transaction *x = &s->v[s->n], *prev = s->n ? &s->v[s->n - 1] : NULL;
  const char *partner = (const char *)sqlite3_column_text(st, 0);
  memset(x, 0, sizeof *x);
  x->id = x->user_id = x->transaction_type = x->category = "";
  if (prev && partner && !strcmp(prev->partner_id, partner)) {
    x->partner_id = prev->partner_id;
  } else {
    char *copy = strdup(partner ? partner : "");
    char **strings = copy ? realloc(s->strings, (s->n_strings + 1) * sizeof *strings) : NULL;
    if (!strings) {
      free(copy);
      return fc_err_set(err, FC_ENOMEM, "out of memory");
    }
    s->strings = strings;
    s->strings[s->n_strings++] = copy;
    x->partner_id = copy;
  }
  snprintf(x->currency, sizeof x->currency, "%s", (const char *)sqlite3_column_text(st, 1));
  x->scale = sqlite3_column_int(st, 2);
  x->action_date = sqlite3_column_int64(st, 3) * DAY;
  out->counts[s->n] = (size_t)sqlite3_column_int64(st, 4);
  x->amount = sqlite3_column_int64(st, 5);
  s->n++;
  return FC_OK;
}

int gw_db_load_local_daily(gw_db *db, const char *tenant, const char *zone, int64_t since_day, gw_daily_set *out,
                           fc_err *err) {
  GW_PG(db, gw_pg_load_local_daily(pg_, tenant, zone, since_day, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  char stored[GW_TZ_NAME_MAX + 1];
  size_t cap = 0;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  memset(out, 0, sizeof *out);
  if (rc != FC_OK) return rc;
  /* One read transaction: the zone and its rows from the same snapshot. */
  if (sqlite3_exec(c, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) rc = gw__sql_err(c, err, "local-day rollups");
  if (rc == FC_OK) rc = zone_of(c, tenant, stored, err);
  if (rc == FC_OK && strcmp(stored, zone) != 0)
    rc = fc_err_set(err, FC_ENOTFOUND, "no local-day rollups for zone %s", zone);
  if (rc == FC_OK && sqlite3_prepare_v2(c,
                                        "SELECT partner_id, currency, max(scale), day, sum(n), sum(amount)"
                                        " FROM txn_local_daily WHERE tenant_id = ?1 AND day >= ?2"
                                        " GROUP BY day, partner_id, currency ORDER BY day, partner_id, currency",
                                        -1, &st, NULL) != SQLITE_OK)
    rc = gw__sql_err(c, err, "local-day rollups");
  if (rc == FC_OK) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_day);
  }
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) rc = push_row(out, &cap, st, err);
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "local-day rollups");
  sqlite3_finalize(st);
  sqlite3_exec(c, "COMMIT", NULL, NULL, NULL);
  gw__release(db, c);
  if (rc != FC_OK) gw_daily_set_free(out);
  return rc;
}
