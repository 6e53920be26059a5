/* db_rollups.c: the txn_daily rollup (db_rollups.h): its schema and
 * back-fill, the per-batch deltas db.c's upsert feeds, their application
 * in the batch's transaction, the read path and the audit. */
#include "db_rollups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define DAY 86400

/* The day of an action_date in SQL, floored for times before 1970 (C and
 * SQL both truncate the division toward zero). */
#define SQL_DAY "((action_date - (((action_date % 86400) + 86400) % 86400)) / 86400)"

static const char create_sql[] = "CREATE TABLE txn_daily ("
                                 " tenant_id TEXT NOT NULL, partner_id TEXT NOT NULL, currency TEXT NOT NULL,"
                                 " day INTEGER NOT NULL, transaction_type TEXT NOT NULL, scale INTEGER NOT NULL,"
                                 " n INTEGER NOT NULL, amount INTEGER NOT NULL,"
                                 " PRIMARY KEY (tenant_id, partner_id, currency, day, transaction_type));"
                                 "CREATE INDEX txn_daily_by_day ON txn_daily (tenant_id, day);";

static const char backfill_sql[] =
    "INSERT INTO txn_daily (tenant_id, partner_id, currency, day, transaction_type, scale, n, amount)"
    " SELECT tenant_id, partner_id, currency, " SQL_DAY ", transaction_type, max(scale), count(*),"
    " sum(amount) FROM transactions"
    " GROUP BY tenant_id, partner_id, currency, " SQL_DAY ", transaction_type;";

const char gw__rollup_probe_sql[] =
    "SELECT partner_id, currency, scale, action_date, amount, transaction_type, user_id, category"
    " FROM transactions"
    " WHERE tenant_id = ?1 AND id = ?2";

int gw__rollups_schema(sqlite3 *c, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int exists = 0, rc = FC_OK;
  if (sqlite3_prepare_v2(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'txn_daily'", -1, &st,
                         NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "rollups schema");
  if (sqlite3_step(st) == SQLITE_ROW) exists = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  /* A new table: a file from before it gets its transactions summed. */
  if (!exists) rc = gw__exec(c, create_sql, "rollups schema", err);
  if (!exists && rc == FC_OK) rc = gw__exec(c, backfill_sql, "rollups back-fill", err);
  return rc == FC_OK ? gw__user_days_schema(c, err) : rc;
}

/* ---- per-batch deltas ------------------------------------------------------ */

typedef struct delta {
  char *partner, *currency, *type; /* NULL: empty slot */
  int64_t day, n, amount;
  int scale;
  uint64_t hash;
} delta;

struct gw_rollup {
  delta *slot;
  size_t cap, used;
  int failed;
  gw_user_deltas *users; /* the per-customer rollup's (db_user_days.h) */
};

gw_rollup *gw__rollup_create(void) {
  gw_rollup *r = calloc(1, sizeof *r);
  if (r && (!(r->slot = calloc(r->cap = 256, sizeof *r->slot)) || !(r->users = gw__user_deltas_create(NULL)))) {
    free(r->slot);
    free(r);
    return NULL;
  }
  return r;
}

void gw__rollup_destroy(gw_rollup *r) {
  if (!r) return;
  for (size_t i = 0; i < r->cap; i++) {
    free(r->slot[i].partner);
    free(r->slot[i].currency);
    free(r->slot[i].type);
  }
  free(r->slot);
  gw__user_deltas_destroy(r->users);
  free(r);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h;
}

static uint64_t key_hash(const char *partner, const char *currency, int64_t day, const char *type) {
  uint64_t h = 14695981039346656037ull;
  h = fnv(h, partner, strlen(partner) + 1);
  h = fnv(h, currency, strlen(currency) + 1);
  h = fnv(h, &day, sizeof day);
  return fnv(h, type, strlen(type) + 1);
}

static delta *find(delta *slot, size_t cap, uint64_t h, const char *partner, const char *currency, int64_t day,
                   const char *type) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    delta *d = &slot[i];
    if (!d->partner || (d->hash == h && d->day == day && !strcmp(d->partner, partner) &&
                        !strcmp(d->currency, currency) && !strcmp(d->type, type)))
      return d;
  }
}

/* Doubles the map: 0, or FC_ENOMEM (the caller marks the batch failed). */
static int grow(gw_rollup *r) {
  size_t cap = r->cap * 2;
  delta *slot = calloc(cap, sizeof *slot);
  if (!slot) return FC_ENOMEM;
  for (size_t i = 0; i < r->cap; i++)
    if (r->slot[i].partner) {
      delta *d = &r->slot[i];
      *find(slot, cap, d->hash, d->partner, d->currency, d->day, d->type) = *d;
    }
  free(r->slot);
  r->slot = slot;
  r->cap = cap;
  return FC_OK;
}

/* Adds sign x (one transaction) to its key's delta. */
static void add(gw_rollup *r, const char *partner, const char *currency, int scale, int64_t action_date, int64_t amount,
                const char *type, int sign) {
  int64_t day = action_date / DAY - (action_date % DAY < 0);
  if (r->failed) return;
  if ((r->used + 1) * 2 > r->cap && grow(r) != 0) {
    r->failed = 1;
    return;
  }
  uint64_t h = key_hash(partner, currency, day, type);
  delta *d = find(r->slot, r->cap, h, partner, currency, day, type);
  if (!d->partner) {
    d->partner = strdup(partner);
    d->currency = strdup(currency);
    d->type = strdup(type);
    if (!d->partner || !d->currency || !d->type) {
      r->failed = 1; /* the slot is freed with the map */
      return;
    }
    d->hash = h;
    d->day = day;
    r->used++;
  }
  d->scale = scale;
  d->n += sign;
  d->amount += sign * amount; /* |amount| < 2^62 (money.h), a batch < 2^20 rows */
}

void gw__rollup_new(gw_rollup *r, const fc_transaction *x) {
  add(r, x->partner_id, x->currency, x->scale, x->action_date, x->amount, x->transaction_type, 1);
  gw__user_deltas_new(r->users, x);
}

void gw__rollup_old(gw_rollup *r, sqlite3_stmt *probe) {
  const char *partner = (const char *)sqlite3_column_text(probe, 0);
  const char *currency = (const char *)sqlite3_column_text(probe, 1);
  const char *type = (const char *)sqlite3_column_text(probe, 5);
  add(r, partner ? partner : "", currency ? currency : "", sqlite3_column_int(probe, 2), sqlite3_column_int64(probe, 3),
      sqlite3_column_int64(probe, 4), type ? type : "", -1);
  gw__user_deltas_old(r->users, probe);
}

/* One daily key's delta into a txn_daily-shaped table (the UTC rollups here,
 * the local-day ones in db_tz.c): the upsert, then for a negative count the
 * delete of the row whose count reached 0 (both statements take the key as
 * ?1-?5; the upsert also scale, n, amount as ?6-?8). */
int gw__daily_apply(sqlite3_stmt *up, sqlite3_stmt *del, const char *tenant, const char *partner, const char *currency,
                    int64_t day, const char *type, int scale, int64_t n, int64_t amount) {
  sqlite3_stmt *sts[2] = {up, del};
  for (int k = 0; k < (n < 0 ? 2 : 1); k++) {
    sqlite3_stmt *st = sts[k];
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, partner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, day);
    sqlite3_bind_text(st, 5, type, -1, SQLITE_STATIC);
    if (k == 0) {
      sqlite3_bind_int(st, 6, scale);
      sqlite3_bind_int64(st, 7, n);
      sqlite3_bind_int64(st, 8, amount);
    }
    int rc = gw__step_done(st);
    if (rc != FC_OK) return rc;
  }
  return FC_OK;
}

int gw__rollup_apply(gw_rollup *r, sqlite3 *c, const char *tenant, fc_err *err) {
  static const char upsert[] =
      "INSERT INTO txn_daily (tenant_id, partner_id, currency, day, transaction_type, scale, n, amount)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
      " ON CONFLICT (tenant_id, partner_id, currency, day, transaction_type) DO UPDATE SET"
      " n = txn_daily.n + excluded.n, amount = txn_daily.amount + excluded.amount,"
      " scale = excluded.scale";
  static const char drop[] = "DELETE FROM txn_daily WHERE tenant_id = ?1 AND partner_id = ?2 AND currency = ?3"
                             " AND day = ?4 AND transaction_type = ?5 AND n = 0";
  sqlite3_stmt *up = NULL, *del = NULL;
  int rc = FC_OK;
  if (r->failed) return fc_err_set(err, FC_ENOMEM, "rollups: out of memory");
  if (sqlite3_prepare_v2(c, upsert, -1, &up, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c, drop, -1, &del, NULL) != SQLITE_OK)
    rc = gw__sql_err(c, err, "rollups");
  for (size_t i = 0; rc == FC_OK && i < r->cap; i++) {
    const delta *d = &r->slot[i];
    if (!d->partner || (d->n == 0 && d->amount == 0)) continue; /* re-sent rows cancel out */
    if (gw__daily_apply(up, del, tenant, d->partner, d->currency, d->day, d->type, d->scale, d->n, d->amount) != 0)
      rc = gw__sql_err(c, err, "rollups");
  }
  sqlite3_finalize(up);
  sqlite3_finalize(del);
  return rc == FC_OK ? gw__user_deltas_apply(r->users, c, tenant, err) : rc;
}

/* ---- reads ----------------------------------------------------------------- */

void gw_daily_set_free(gw_daily_set *s) {
  gw_txn_set_free(&s->rows);
  free(s->counts);
  s->counts = NULL;
}

/* Keeps a copy of a column's text in the set. */
static const char *keep(gw_txn_set *s, size_t *cap, const unsigned char *t) {
  char *copy = strdup(t ? (const char *)t : "");
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

/* Appends one day's row; 0, or FC_ENOMEM. Partner and currency strings
 * repeat from row to row, so the previous row's are reused. */
static int push(gw_daily_set *out, size_t *cap, size_t *scap, sqlite3_stmt *st, fc_err *err) {
  gw_txn_set *s = &out->rows;
  if (s->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 512;
    fc_transaction *v = realloc(s->v, nc * sizeof *v);
    size_t *cn = v ? realloc(out->counts, nc * sizeof *cn) : NULL;
    if (v) s->v = v;
    if (!cn) return fc_err_set(err, FC_ENOMEM, "out of memory");
    out->counts = cn;
    *cap = nc;
  }
  fc_transaction *x = &s->v[s->n], *prev = s->n ? &s->v[s->n - 1] : NULL;
  const unsigned char *partner = sqlite3_column_text(st, 0);
  memset(x, 0, sizeof *x);
  x->partner_id =
      prev && partner && !strcmp(prev->partner_id, (const char *)partner) ? prev->partner_id : keep(s, scap, partner);
  x->id = x->user_id = x->transaction_type = x->category = "";
  if (!x->partner_id) return fc_err_set(err, FC_ENOMEM, "out of memory");
  snprintf(x->currency, sizeof x->currency, "%s", (const char *)sqlite3_column_text(st, 1));
  x->scale = sqlite3_column_int(st, 2);
  x->action_date = sqlite3_column_int64(st, 3) * DAY;
  out->counts[s->n] = (size_t)sqlite3_column_int64(st, 4);
  x->amount = sqlite3_column_int64(st, 5);
  s->n++;
  return FC_OK;
}

int gw_db_load_daily(gw_db *db, const char *tenant, int64_t since_day, gw_daily_set *out, fc_err *err) {
  GW_PG(db, gw_pg_load_daily(pg_, tenant, since_day, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  size_t cap = 0, scap = 0;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  memset(out, 0, sizeof *out);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT partner_id, currency, max(scale), day, sum(n), sum(amount)"
                         " FROM txn_daily WHERE tenant_id = ?1 AND day >= ?2"
                         " GROUP BY day, partner_id, currency ORDER BY day, partner_id, currency",
                         -1, &st, NULL) != SQLITE_OK)
    rc = gw__sql_err(c, err, "rollups");
  if (rc == FC_OK) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_day);
  }
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) rc = push(out, &cap, &scap, st, err);
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "rollups");
  sqlite3_finalize(st);
  gw__release(db, c);
  if (rc != FC_OK) gw_daily_set_free(out);
  return rc;
}
