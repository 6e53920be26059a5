/* db_user_days.c: the txn_user_daily rollup (db_user_days.h): its schema
 * and back-fill, the per-batch deltas db_rollups.c's hooks feed, their
 * application in the batch's transaction, and the read. */
#include "db_user_days.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_tz.h"

#define DAY        86400
#define SQL_DAY    "((action_date - (((action_date % 86400) + 86400) % 86400)) / 86400)"
/* What core/segments calls a refund and a purchase (fc_seg_day). */
#define SQL_REFUND "(amount < 0 OR transaction_type = 'refund')"
#define SQL_BOUGHT "(amount > 0 AND transaction_type <> 'refund')"

/* txn_user_daily's columns, and txn_user_local_daily's (the same with day
 * the tenant's local day, db_tz.h). */
#define UD_TABLE_SQL(T)                                                                       \
  "CREATE TABLE " T " ("                                                                      \
  " tenant_id TEXT NOT NULL, currency TEXT NOT NULL, partner_id TEXT NOT NULL,"               \
  " user_id TEXT NOT NULL, day INTEGER NOT NULL, transaction_type TEXT NOT NULL,"             \
  " category TEXT NOT NULL, scale INTEGER NOT NULL, n INTEGER NOT NULL,"                      \
  " purchases INTEGER NOT NULL, spend INTEGER NOT NULL, refund INTEGER NOT NULL,"             \
  " PRIMARY KEY (tenant_id, currency, day, partner_id, user_id, transaction_type, category))" \
  " WITHOUT ROWID;"
/* Day first in the key: a batch (a partner's export, in time order)
 * touches a few days, so its upserts land in a few B-tree pages; user
 * first made every batch rewrite pages all over the table (5x the store's
 * CPU). */
static const char create_sql[] = UD_TABLE_SQL("txn_user_daily");

/* The sums of one key from the transactions, day as D (a SQL expression). */
#define UD_SUMS_SQL(D)                                                                                        \
  "SELECT tenant_id, currency, partner_id, user_id, " D ", transaction_type, category, max(scale), count(*)," \
  " sum(CASE WHEN " SQL_BOUGHT " THEN 1 ELSE 0 END),"                                                         \
  " sum(CASE WHEN " SQL_BOUGHT " THEN amount ELSE 0 END),"                                                    \
  " sum(CASE WHEN " SQL_REFUND " THEN abs(amount) ELSE 0 END) FROM transactions"
static const char backfill_sql[] =
    "INSERT INTO txn_user_daily " UD_SUMS_SQL(SQL_DAY) " GROUP BY tenant_id, currency, partner_id, user_id, " SQL_DAY
                                                       ", transaction_type, category;";

/* One counter per tenant, bumped in every ingesting transaction that
 * changed txn_user_daily: what a precomputed segments answer is keyed by
 * (segmemo.h), visible to every process on the file. */
static const char versions_sql[] = "CREATE TABLE IF NOT EXISTS txn_user_daily_versions ("
                                   " tenant_id TEXT PRIMARY KEY, v INTEGER NOT NULL);";

int gw__user_days_schema(sqlite3 *c, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int exists = 0;
  int rc = gw__exec(c, versions_sql, "user rollups schema", err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                         " AND name = 'txn_user_daily'",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "user rollups schema");
  if (sqlite3_step(st) == SQLITE_ROW) exists = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (exists) return FC_OK;
  rc = gw__exec(c, create_sql, "user rollups schema", err);
  return rc == FC_OK ? gw__exec(c, backfill_sql, "user rollups back-fill", err) : rc;
}

int gw__user_local_days_create(sqlite3 *c, int *created, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int exists = 0;
  if (sqlite3_prepare_v2(c,
                         "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                         " AND name = 'txn_user_local_daily'",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "local-day user rollups schema");
  if (sqlite3_step(st) == SQLITE_ROW) exists = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  *created = !exists;
  return exists ? FC_OK : gw__exec(c, UD_TABLE_SQL("txn_user_local_daily"), "local-day user rollups schema", err);
}

/* gw_local_day: the SQL function db_tz.c registers for the tenant's zone. */
#define SQL_LOCAL_DAY "gw_local_day(action_date)"

int gw__user_local_days_fill(sqlite3 *c, const char *tenant, fc_err *err) {
  static const char sql[] = "INSERT INTO txn_user_local_daily " UD_SUMS_SQL(
      SQL_LOCAL_DAY) " WHERE tenant_id = ?1"
                     " GROUP BY currency, partner_id, user_id, " SQL_LOCAL_DAY ", transaction_type, category";
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "local-day user rollups");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  if (gw__step_done(st) != 0) rc = gw__sql_err(c, err, "local-day user rollups");
  sqlite3_finalize(st);
  return rc;
}

/* ---- per-batch deltas ------------------------------------------------------ */

/* key: partner, currency, user, type, category, each NUL-terminated. */
typedef struct udelta {
  char *key; /* NULL: empty slot */
  size_t key_len;
  int64_t day, n, purchases, spend, refund;
  int scale;
  uint64_t hash;
} udelta;

struct gw_user_deltas {
  udelta *slot;
  size_t cap, used;
  int failed;
  const gw_tz *z; /* NULL: UTC days into txn_user_daily; else z's local days into txn_user_local_daily */
};

gw_user_deltas *gw__user_deltas_create(const gw_tz *z) {
  gw_user_deltas *r = calloc(1, sizeof *r);
  if (r && !(r->slot = calloc(r->cap = 1024, sizeof *r->slot))) {
    free(r);
    return NULL;
  }
  if (r) r->z = z;
  return r;
}

void gw__user_deltas_destroy(gw_user_deltas *r) {
  if (!r) return;
  for (size_t i = 0; i < r->cap; i++) free(r->slot[i].key);
  free(r->slot);
  free(r);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h;
}

static udelta *find(udelta *slot, size_t cap, uint64_t h, const char *key, size_t len, int64_t day) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    udelta *d = &slot[i];
    if (!d->key || (d->hash == h && d->day == day && d->key_len == len && !memcmp(d->key, key, len))) return d;
  }
}

/* Doubles the map: 0, or FC_ENOMEM (the caller marks the batch failed). */
static int grow(gw_user_deltas *r) {
  size_t cap = r->cap * 2;
  udelta *slot = calloc(cap, sizeof *slot);
  if (!slot) return FC_ENOMEM;
  for (size_t i = 0; i < r->cap; i++)
    if (r->slot[i].key) {
      udelta *d = &r->slot[i];
      *find(slot, cap, d->hash, d->key, d->key_len, d->day) = *d;
    }
  free(r->slot);
  r->slot = slot;
  r->cap = cap;
  return FC_OK;
}

/* Adds sign x (one transaction) to its key's delta. */
static void add(gw_user_deltas *r, const char *const str[5], int scale, int64_t action_date, int64_t amount, int sign) {
  char key[5 * (FC_TEXT_MAX + 1)];
  size_t len = 0;
  int64_t day = r->z ? gw_tz_local_day(r->z, action_date) : action_date / DAY - (action_date % DAY < 0);
  int refund = amount < 0 || !strcmp(str[3], "refund"), bought = !refund && amount > 0;
  if (r->failed) return;
  for (int i = 0; i < 5; i++) {
    size_t l = strlen(str[i]) + 1;
    if (len + l > sizeof key) {
      r->failed = 1;
      return;
    }
    memcpy(key + len, str[i], l);
    len += l;
  }
  if ((r->used + 1) * 2 > r->cap && grow(r) != 0) {
    r->failed = 1;
    return;
  }
  uint64_t h = fnv(fnv(14695981039346656037ull, key, len), &day, sizeof day);
  udelta *d = find(r->slot, r->cap, h, key, len, day);
  if (!d->key) {
    if (!(d->key = malloc(len))) {
      r->failed = 1;
      return;
    }
    memcpy(d->key, key, len);
    d->key_len = len;
    d->hash = h;
    d->day = day;
    r->used++;
  }
  d->scale = scale;
  d->n += sign;
  d->purchases += sign * bought;
  d->spend += bought ? sign * amount : 0;
  d->refund += refund ? sign * (amount < 0 ? -amount : amount) : 0;
}

void gw__user_deltas_new(gw_user_deltas *r, const fc_transaction *x) {
  const char *s[5] = {x->partner_id, x->currency, x->user_id, x->transaction_type, x->category ? x->category : ""};
  add(r, s, x->scale, x->action_date, x->amount, 1);
}

static const char *col(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t ? t : "";
}

void gw__user_deltas_old(gw_user_deltas *r, sqlite3_stmt *probe) {
  const char *s[5] = {col(probe, 0), col(probe, 1), col(probe, 6), col(probe, 5), col(probe, 7)};
  add(r, s, sqlite3_column_int(probe, 2), sqlite3_column_int64(probe, 3), sqlite3_column_int64(probe, 4), -1);
}

static int apply_one(sqlite3_stmt *st, const udelta *d, const char *tenant, int with_values) {
  const char *k = d->key;
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  for (int i = 0; i < 5; i++) { /* partner, currency, user, type, category */
    static const int param[5] = {3, 2, 4, 6, 7};
    sqlite3_bind_text(st, param[i], k, -1, SQLITE_STATIC);
    k += strlen(k) + 1;
  }
  sqlite3_bind_int64(st, 5, d->day);
  if (with_values) {
    sqlite3_bind_int(st, 8, d->scale);
    sqlite3_bind_int64(st, 9, d->n);
    sqlite3_bind_int64(st, 10, d->purchases);
    sqlite3_bind_int64(st, 11, d->spend);
    sqlite3_bind_int64(st, 12, d->refund);
  }
  return gw__step_done(st);
}

/* Key order of the table (day, then the strings), so that the upserts
 * walk its B-tree forward. */
static int cmp_delta(const void *a, const void *b) {
  const udelta *x = *(const udelta *const *)a, *y = *(const udelta *const *)b;
  if (x->day != y->day) return x->day < y->day ? -1 : 1;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

int gw__user_days_bump(sqlite3 *c, const char *tenant, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO txn_user_daily_versions VALUES (?1, 1)"
                         " ON CONFLICT (tenant_id) DO UPDATE SET v = v + 1",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "user rollup versions");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  if (gw__step_done(st) != 0) rc = gw__sql_err(c, err, "user rollup versions");
  sqlite3_finalize(st);
  return rc;
}

/* A key's delta into table T, and the delete of a key emptied. */
#define UD_UPSERT_SQL(T)                                                                     \
  "INSERT INTO " T " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"             \
  " ON CONFLICT (tenant_id, currency, day, partner_id, user_id, transaction_type, category)" \
  " DO UPDATE SET n = " T ".n + excluded.n,"                                                 \
  " purchases = " T ".purchases + excluded.purchases,"                                       \
  " spend = " T ".spend + excluded.spend,"                                                   \
  " refund = " T ".refund + excluded.refund, scale = excluded.scale"
#define UD_DROP_SQL(T)                                                           \
  "DELETE FROM " T " WHERE tenant_id = ?1 AND currency = ?2 AND partner_id = ?3" \
  " AND user_id = ?4 AND day = ?5 AND transaction_type = ?6 AND category = ?7 AND n = 0"

/* The currency of a delta's key (its second string). */
static const char *key_currency(const udelta *d) { return d->key + strlen(d->key) + 1; }

/* Day, then currency: the (currency, day) packs a batch changed, each once. */
static int cmp_pack(const void *a, const void *b) {
  const udelta *x = *(const udelta *const *)a, *y = *(const udelta *const *)b;
  if (x->day != y->day) return x->day < y->day ? -1 : 1;
  return strcmp(key_currency(x), key_currency(y));
}

/* Rebuilds the day packs (db_user_packs.c) of the days the deltas
 * order[0..m) changed, from the rollup rows they were just applied to. */
static int repack_days(sqlite3 *c, int local, const char *tenant, const udelta **order, size_t m, fc_err *err) {
  gw_user_packs *u;
  int rc = FC_OK;
  if (m == 0) return FC_OK;
  if (!(u = gw__user_packs_begin(c, local, err))) return err ? err->code : FC_ECORRUPT;
  qsort(order, m, sizeof *order, cmp_pack);
  for (size_t i = 0; i < m && rc == FC_OK; i++)
    if (i == 0 || cmp_pack(&order[i - 1], &order[i]) != 0)
      rc = gw__user_packs_day(u, tenant, key_currency(order[i]), order[i]->day, err);
  gw__user_packs_end(u);
  return rc;
}

int gw__user_deltas_apply(gw_user_deltas *r, sqlite3 *c, const char *tenant, fc_err *err) {
  const char *upsert = r->z ? UD_UPSERT_SQL("txn_user_local_daily") : UD_UPSERT_SQL("txn_user_daily");
  const char *drop = r->z ? UD_DROP_SQL("txn_user_local_daily") : UD_DROP_SQL("txn_user_daily");
  sqlite3_stmt *up = NULL, *del = NULL;
  const udelta **order = NULL;
  size_t m = 0;
  int rc = FC_OK;
  if (r->failed || !(order = malloc((r->used ? r->used : 1) * sizeof *order)))
    return fc_err_set(err, FC_ENOMEM, "user rollups: out of memory");
  for (size_t i = 0; i < r->cap; i++) {
    const udelta *d = &r->slot[i];
    if (d->key && (d->n || d->purchases || d->spend || d->refund)) /* re-sent rows cancel out */
      order[m++] = d;
  }
  qsort(order, m, sizeof *order, cmp_delta);
  if (sqlite3_prepare_v2(c, upsert, -1, &up, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c, drop, -1, &del, NULL) != SQLITE_OK)
    rc = gw__sql_err(c, err, "user rollups");
  for (size_t i = 0; rc == FC_OK && i < m; i++)
    if (apply_one(up, order[i], tenant, 1) != 0 || (order[i]->n < 0 && apply_one(del, order[i], tenant, 0) != 0))
      rc = gw__sql_err(c, err, "user rollups");
  if (rc == FC_OK) rc = repack_days(c, r->z != NULL, tenant, order, m, err);
  free(order);
  sqlite3_finalize(up);
  sqlite3_finalize(del);
  /* The version counts txn_user_daily's changes: a local-day delta comes
   * from the same rows, in the same transaction. */
  return rc == FC_OK && m > 0 && !r->z ? gw__user_days_bump(c, tenant, err) : rc;
}

int gw_db_user_days_version(gw_db *db, const char *tenant, int64_t *out, fc_err *err) {
  GW_PG(db, gw_pg_user_days_version(pg_, tenant, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r;
  if (rc != FC_OK) return rc;
  *out = 0; /* no row: never changed since the table came */
  if (sqlite3_prepare_v2(c, "SELECT v FROM txn_user_daily_versions WHERE tenant_id = ?1", -1, &st, NULL) != SQLITE_OK)
    rc = gw__sql_err(c, err, "user rollup versions");
  if (rc == FC_OK) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    if ((r = sqlite3_step(st)) == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "user rollup versions");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* ---- reads ----------------------------------------------------------------- */

void gw_user_days_free(gw_user_days *s) {
  for (size_t i = 0; i < s->n_blocks; i++) free(s->blocks[i]);
  free(s->blocks);
  free(s->strings);
  free(s->slot);
  free(s->rows);
  free(s->more);
  memset(s, 0, sizeof *s);
}

int gw_user_days_segments(const gw_user_days *s, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  const fc_seg_day *parts[2] = {s->rows, s->more};
  size_t counts[2] = {s->n, s->n_more};
  return fc_segments_run_day_parts(parts, counts, 2, p, out, err);
}

/* Doubles the string slots: 0, or FC_ENOMEM. */
static int slot_grow(gw_user_days *s) {
  size_t cap = s->str_cap ? s->str_cap * 2 : 1024;
  uint64_t *slot = calloc(cap, sizeof *slot);
  if (!slot) return FC_ENOMEM;
  for (size_t i = 0; i < s->str_cap; i++) {
    if (!s->slot[i]) continue;
    size_t j = (s->slot[i] >> 32) & (cap - 1);
    while (slot[j]) j = (j + 1) & (cap - 1);
    slot[j] = s->slot[i];
  }
  free(s->slot);
  s->slot = slot;
  s->str_cap = cap;
  return FC_OK;
}

#define BLOCK (64 * 1024)

/* A stable copy of t[0..len) in the set's blocks. */
static const char *block_copy(gw_user_days *s, const char *t, size_t len) {
  if ((size_t)(s->block_end - s->block_at) < len + 1) {
    size_t size = len + 1 > BLOCK ? len + 1 : BLOCK;
    char **blocks = realloc(s->blocks, (s->n_blocks + 1) * sizeof *blocks);
    if (!blocks) return NULL;
    s->blocks = blocks;
    if (!(s->block_at = blocks[s->n_blocks] = malloc(size))) return NULL;
    s->n_blocks++;
    s->block_end = s->block_at + size;
  }
  char *at = s->block_at;
  memcpy(at, t, len);
  at[len] = 0;
  s->block_at += len + 1;
  return at;
}

/* a[0..len) == b[0..len): strings here are a few bytes, shorter than the
 * call to memcmp. */
static int same_bytes(const char *a, const char *b, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

/* The index + 1 of t[0..len) among the set's strings, added if new; 0 when
 * out of memory. */
static uint32_t intern_index(gw_user_days *s, const char *t, size_t len) {
  if (((s->n_strings + 1) * 2 > s->str_cap && slot_grow(s) != 0) || s->n_strings >= UINT32_MAX - 1) return 0;
  uint32_t h = (uint32_t)(fnv(14695981039346656037ull, t, len) >> 16);
  size_t j = h & (s->str_cap - 1);
  for (; s->slot[j]; j = (j + 1) & (s->str_cap - 1)) {
    uint32_t k = (uint32_t)s->slot[j];
    const gw_user_str *e = &s->strings[k - 1];
    if ((uint32_t)(s->slot[j] >> 32) == h && e->len == len && same_bytes(e->s, t, len)) return k;
  }
  if (s->n_strings == s->strings_cap) {
    size_t cap = s->strings_cap ? s->strings_cap * 2 : 1024;
    gw_user_str *v = realloc(s->strings, cap * sizeof *v);
    if (!v) return 0;
    s->strings = v;
    s->strings_cap = cap;
  }
  gw_user_str *e = &s->strings[s->n_strings];
  if (!(e->s = block_copy(s, t, len))) return 0;
  e->len = len;
  s->slot[j] = (uint64_t)h << 32 | (uint32_t)(++s->n_strings);
  return (uint32_t)s->n_strings;
}

/* A million rows repeat a few partners, types and categories and about a
 * hundredth as many users: the column's last few strings are looked at
 * before the hash (a user rarely repeats from one row to the next, so
 * that column goes to the hash at once). */
const char *gw__user_days_intern(gw_user_days *s, int col, const char *t, size_t len) {
  uint32_t *recent = s->recent[col], k;
  if (col != GW_UD_USER)
    for (int i = 0; i < GW_UD_RECENT && recent[i]; i++) {
      const gw_user_str *e = &s->strings[recent[i] - 1];
      if (e->len == len && same_bytes(e->s, t, len)) return e->s;
    }
  if (!(k = intern_index(s, t, len))) return NULL;
  if (col != GW_UD_USER) {
    memmove(recent + 1, recent, (GW_UD_RECENT - 1) * sizeof *recent);
    recent[0] = k;
  }
  return s->strings[k - 1].s;
}

/* The rows of one table (local: txn_user_local_daily) from its day packs
 * (db_user_packs.c). */
static int load_table(gw_db *db, int local, const char *tenant, const char *currency, const char *partner,
                      int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err) {
  return gw__user_packs_load(db, tenant, local, currency, partner, from_day, to_day, out, err);
}

/* A zone change re-sums txn_user_local_daily and bumps the tenant's
 * version in one transaction: the same version before and after the read,
 * with the zone checked in between, means the rows are that zone's. Read
 * again when an ingestion or a zone change came between. */
static int load_local(gw_db *db, const char *tenant, const char *zone, const char *currency, const char *partner,
                      int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err) {
  char stored[GW_TZ_NAME_MAX + 1];
  for (int attempt = 0; attempt < 3; attempt++) {
    int64_t v0 = 0, v1 = 0;
    int rc = gw_db_user_days_version(db, tenant, &v0, err);
    if (rc == FC_OK) rc = gw_db_tenant_zone(db, tenant, stored, err);
    if (rc == FC_OK && strcmp(stored, zone) != 0)
      return fc_err_set(err, FC_ENOTFOUND, "no local-day customer rollups for zone %s", zone);
    if (rc == FC_OK) rc = load_table(db, 1, tenant, currency, partner, from_day, to_day, out, err);
    if (rc == FC_OK) rc = gw_db_user_days_version(db, tenant, &v1, err);
    if (rc != FC_OK || v0 == v1) return rc;
    gw_user_days_free(out);
    snprintf(out->currency, sizeof out->currency, "%s", currency);
  }
  return fc_err_set(err, FC_ENOTFOUND, "local-day customer rollups changed during three reads");
}

int gw_db_load_user_days(gw_db *db, const char *tenant, const char *zone, const char *currency, const char *partner,
                         int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->currency, sizeof out->currency, "%s", currency);
  if (zone && !zone[0]) zone = NULL;
  GW_PG(db, gw_pg_load_user_days(pg_, tenant, zone, currency, partner, from_day, to_day, out, err));
  int rc = zone ? load_local(db, tenant, zone, currency, partner, from_day, to_day, out, err)
                : load_table(db, 0, tenant, currency, partner, from_day, to_day, out, err);
  if (rc != FC_OK) gw_user_days_free(out);
  return rc;
}
