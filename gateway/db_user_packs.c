/* db_user_packs.c: the customer days packed per day (db_user_days.h,
 * SQLite only): per (tenant, UTC or local days, currency, day) one blob of
 * fixed records, the day's rows of txn_user_daily (or of
 * txn_user_local_daily) with their strings as ids of a per-tenant
 * dictionary, so that segments read about a thousand blobs instead of a
 * million rows of four strings each. A pack is rebuilt from its rollup
 * rows whenever a batch changed that day, in the batch's transaction: the
 * packs are exactly the rollup table, also after re-sent and updated rows
 * and zone changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_user_days.h"
#include "parallel.h"

/* Names never leave the dictionary: an id stays valid in every pack that
 * holds it, and ids are dense from 0, so a read keeps them in an array. */
static const char schema_sql[] =
    "CREATE TABLE txn_user_names (tenant_id TEXT NOT NULL, id INTEGER NOT NULL, text TEXT NOT NULL,"
    " PRIMARY KEY (tenant_id, id)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX txn_user_names_by_text ON txn_user_names (tenant_id, text);"
    /* A rowid table: a pack is tens of kilobytes, and WITHOUT ROWID is
     * meant for small rows. */
    "CREATE TABLE txn_user_packs (tenant_id TEXT NOT NULL, local INTEGER NOT NULL, currency TEXT NOT NULL,"
    " day INTEGER NOT NULL, rows BLOB NOT NULL, UNIQUE (tenant_id, local, currency, day));";

/* A record: partner, user, type and category ids and the scale (4 bytes
 * each), then count, purchases, spend and refund (8 bytes each), little
 * endian. */
#define REC 52

/* The rollup rows in pack order (tenant, currency, day, then the key's
 * strings: the tables' primary key order). */
#define PACK_COLS                                                                               \
  "SELECT tenant_id, currency, day, partner_id, user_id, transaction_type, category, scale, n," \
  " purchases, spend, refund FROM "
#define PACK_ORDER " ORDER BY tenant_id, currency, day, partner_id, user_id, transaction_type, category"

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, int64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)((uint64_t)v >> (8 * i));
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t get64(const unsigned char *p) { return (int64_t)((uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32); }

/* ---- writing packs ----------------------------------------------------------- */

typedef struct name_slot {
  char *text; /* NULL: empty */
  uint32_t id;
} name_slot;

/* The statements and state of one batch's (or one rebuild's) packs. */
typedef struct packer {
  sqlite3 *c;
  sqlite3_stmt *find, *add, *next, *put;
  int local;
  char *tenant, *currency; /* of the pack being built (copies) */
  int64_t day, next_id;    /* next_id: -1 until read for the tenant */
  unsigned char *buf;
  size_t len, cap;
  name_slot *slot; /* the tenant's names seen, by text */
  size_t slot_cap, slot_used;
} packer;

static uint64_t fnv(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static name_slot *slot_of(name_slot *slot, size_t cap, const char *t) {
  size_t j = (size_t)fnv(t) & (cap - 1);
  while (slot[j].text && strcmp(slot[j].text, t) != 0) j = (j + 1) & (cap - 1);
  return &slot[j];
}

static void names_clear(packer *p) {
  for (size_t i = 0; i < p->slot_cap; i++) free(p->slot[i].text);
  if (p->slot) memset(p->slot, 0, p->slot_cap * sizeof *p->slot); /* none before the first name */
  p->slot_used = 0;
  p->next_id = -1;
}

static int names_grow(packer *p) {
  size_t cap = p->slot_cap ? p->slot_cap * 2 : 1024;
  name_slot *slot = calloc(cap, sizeof *slot);
  if (!slot) return FC_ENOMEM;
  for (size_t i = 0; i < p->slot_cap; i++)
    if (p->slot[i].text) *slot_of(slot, cap, p->slot[i].text) = p->slot[i];
  free(p->slot);
  p->slot = slot;
  p->slot_cap = cap;
  return FC_OK;
}

/* The tenant's next free id (its dictionary's largest + 1). */
static int read_next_id(packer *p) {
  sqlite3_reset(p->next);
  sqlite3_bind_text(p->next, 1, p->tenant, -1, SQLITE_STATIC);
  if (sqlite3_step(p->next) != SQLITE_ROW) return FC_ECORRUPT;
  p->next_id = sqlite3_column_int64(p->next, 0);
  sqlite3_reset(p->next);
  return FC_OK;
}

/* *id: t's id in the tenant's dictionary, added if new. */
static int name_id(packer *p, const char *t, uint32_t *id) {
  if ((p->slot_used + 1) * 2 > p->slot_cap && names_grow(p) != FC_OK) return FC_ENOMEM;
  name_slot *s = slot_of(p->slot, p->slot_cap, t);
  if (s->text) {
    *id = s->id;
    return FC_OK;
  }
  sqlite3_reset(p->find);
  sqlite3_bind_text(p->find, 1, p->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(p->find, 2, t, -1, SQLITE_STATIC);
  int r = sqlite3_step(p->find);
  if (r == SQLITE_ROW) *id = (uint32_t)sqlite3_column_int64(p->find, 0);
  sqlite3_reset(p->find);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return FC_ECORRUPT;
  if (r == SQLITE_DONE) {
    if (p->next_id < 0 && read_next_id(p) != FC_OK) return FC_ECORRUPT;
    if (p->next_id >= (int64_t)UINT32_MAX) return FC_ERANGE;
    *id = (uint32_t)p->next_id++;
    sqlite3_reset(p->add);
    sqlite3_bind_text(p->add, 1, p->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(p->add, 2, *id);
    sqlite3_bind_text(p->add, 3, t, -1, SQLITE_STATIC);
    if (gw__step_done(p->add) != 0) return FC_ECORRUPT;
  }
  if (!(s->text = strdup(t))) return FC_ENOMEM;
  s->id = *id;
  p->slot_used++;
  return FC_OK;
}

/* Writes the pack built so far (none for an empty day). */
static int flush(packer *p) {
  if (!p->tenant || p->len == 0) return FC_OK;
  sqlite3_reset(p->put);
  sqlite3_bind_text(p->put, 1, p->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int(p->put, 2, p->local);
  sqlite3_bind_text(p->put, 3, p->currency, -1, SQLITE_STATIC);
  sqlite3_bind_int64(p->put, 4, p->day);
  sqlite3_bind_blob(p->put, 5, p->buf, (int)p->len, SQLITE_STATIC);
  p->len = 0;
  return gw__step_done(p->put) == 0 ? FC_OK : FC_ECORRUPT;
}

static const char *text(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t ? t : "";
}

/* Starts the pack of the row's (tenant, currency, day) when it is not the
 * one being built; a new tenant has its own names. */
static int pack_of_row(packer *p, sqlite3_stmt *st) {
  const char *tenant = text(st, 0), *ccy = text(st, 1);
  int64_t day = sqlite3_column_int64(st, 2);
  int same_tenant = p->tenant && !strcmp(p->tenant, tenant);
  if (same_tenant && !strcmp(p->currency, ccy) && p->day == day) return FC_OK;
  int rc = flush(p);
  if (rc != FC_OK) return rc;
  if (!same_tenant) {
    free(p->tenant);
    if (!(p->tenant = strdup(tenant))) return FC_ENOMEM;
    names_clear(p);
  }
  free(p->currency);
  if (!(p->currency = strdup(ccy))) return FC_ENOMEM;
  p->day = day;
  return FC_OK;
}

/* Appends the row to its day's pack. */
static int pack_row(packer *p, sqlite3_stmt *st) {
  uint32_t id[4];
  int rc = pack_of_row(p, st);
  for (int i = 0; i < 4 && rc == FC_OK; i++) rc = name_id(p, text(st, 3 + i), &id[i]);
  if (rc != FC_OK) return rc;
  if (p->len + REC > p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64 * REC;
    unsigned char *b = realloc(p->buf, cap);
    if (!b) return FC_ENOMEM;
    p->buf = b;
    p->cap = cap;
  }
  unsigned char *r = p->buf + p->len;
  for (int i = 0; i < 4; i++) put32(r + 4 * i, id[i]);
  put32(r + 16, (uint32_t)sqlite3_column_int(st, 7));
  for (int i = 0; i < 4; i++) put64(r + 20 + 8 * i, sqlite3_column_int64(st, 8 + i));
  p->len += REC;
  return FC_OK;
}

/* Packs every row st gives (PACK_COLS, in PACK_ORDER). */
static int pack_rows(packer *p, sqlite3_stmt *st) {
  int rc = FC_OK, r;
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) rc = pack_row(p, st);
  if (rc == FC_OK && r != SQLITE_DONE) rc = FC_ECORRUPT;
  return rc == FC_OK ? flush(p) : rc;
}

static void packer_free(packer *p) {
  if (p->slot) names_clear(p);
  free(p->slot);
  free(p->tenant);
  free(p->currency);
  free(p->buf);
  sqlite3_finalize(p->find);
  sqlite3_finalize(p->add);
  sqlite3_finalize(p->next);
  sqlite3_finalize(p->put);
}

static int packer_init(packer *p, sqlite3 *c, int local) {
  memset(p, 0, sizeof *p);
  p->c = c;
  p->local = local;
  p->next_id = -1;
  if (sqlite3_prepare_v2(c, "SELECT id FROM txn_user_names WHERE tenant_id = ?1 AND text = ?2", -1, &p->find, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(c, "INSERT INTO txn_user_names VALUES (?1, ?2, ?3)", -1, &p->add, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c, "SELECT coalesce(max(id) + 1, 0) FROM txn_user_names WHERE tenant_id = ?1", -1, &p->next,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c, "INSERT INTO txn_user_packs VALUES (?1, ?2, ?3, ?4, ?5)", -1, &p->put, NULL) != SQLITE_OK)
    return FC_ECORRUPT;
  return FC_OK;
}

static const char *rollup_table(int local) { return local ? "txn_user_local_daily" : "txn_user_daily"; }

/* Packs the rows of sql (PACK_COLS ... PACK_ORDER over table local's),
 * tenant bound to ?1 when not NULL. */
static int pack_query(sqlite3 *c, int local, const char *where, const char *tenant, fc_err *err) {
  char sql[512];
  packer p;
  sqlite3_stmt *st = NULL;
  snprintf(sql, sizeof sql, PACK_COLS "%s%s" PACK_ORDER, rollup_table(local), where);
  int rc = packer_init(&p, c, local);
  if (rc == FC_OK && sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) rc = FC_ECORRUPT;
  if (rc == FC_OK && tenant) sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  if (rc == FC_OK) rc = pack_rows(&p, st);
  sqlite3_finalize(st);
  packer_free(&p);
  if (rc == FC_ECORRUPT) return gw__sql_err(c, err, "customer day packs");
  return rc == FC_OK ? FC_OK : fc_err_set(err, rc, "customer day packs: %s", fc_status_name(rc));
}

int gw__user_packs_schema(sqlite3 *c, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int exists = 0, local = 0;
  if (sqlite3_prepare_v2(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    return gw__sql_err(c, err, "customer day packs schema");
  sqlite3_bind_text(st, 1, "txn_user_packs", -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) exists = sqlite3_column_int(st, 0);
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, "txn_user_local_daily", -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) local = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (exists) return FC_OK;
  /* A file from before the packs: every tenant's rollup rows packed. */
  int rc = gw__exec(c, schema_sql, "customer day packs schema", err);
  if (rc == FC_OK) rc = pack_query(c, 0, "", NULL, err);
  return rc == FC_OK && local ? pack_query(c, 1, "", NULL, err) : rc;
}

int gw__user_packs_tenant(sqlite3 *c, const char *tenant, int local, fc_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, "DELETE FROM txn_user_packs WHERE tenant_id = ?1 AND local = ?2", -1, &st, NULL) !=
      SQLITE_OK)
    return gw__sql_err(c, err, "customer day packs");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, local);
  int rc = gw__step_done(st) == 0 ? FC_OK : gw__sql_err(c, err, "customer day packs");
  sqlite3_finalize(st);
  return rc == FC_OK ? pack_query(c, local, " WHERE tenant_id = ?1", tenant, err) : rc;
}

struct gw_user_packs {
  packer p;
  sqlite3_stmt *rows, *drop;
};

gw_user_packs *gw__user_packs_begin(sqlite3 *c, int local, fc_err *err) {
  char sql[512];
  gw_user_packs *u = calloc(1, sizeof *u);
  if (!u) {
    fc_err_set(err, FC_ENOMEM, "customer day packs: out of memory");
    return NULL;
  }
  snprintf(sql, sizeof sql, PACK_COLS "%s WHERE tenant_id = ?1 AND currency = ?2 AND day = ?3" PACK_ORDER,
           rollup_table(local));
  if (packer_init(&u->p, c, local) != FC_OK || sqlite3_prepare_v2(c, sql, -1, &u->rows, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c,
                         "DELETE FROM txn_user_packs WHERE tenant_id = ?1 AND local = ?2 AND currency = ?3"
                         " AND day = ?4",
                         -1, &u->drop, NULL) != SQLITE_OK) {
    gw__sql_err(c, err, "customer day packs");
    gw__user_packs_end(u);
    return NULL;
  }
  return u;
}

int gw__user_packs_day(gw_user_packs *u, const char *tenant, const char *currency, int64_t day, fc_err *err) {
  sqlite3_reset(u->drop);
  sqlite3_bind_text(u->drop, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int(u->drop, 2, u->p.local);
  sqlite3_bind_text(u->drop, 3, currency, -1, SQLITE_STATIC);
  sqlite3_bind_int64(u->drop, 4, day);
  int rc = gw__step_done(u->drop) == 0 ? FC_OK : FC_ECORRUPT;
  if (rc == FC_OK) {
    sqlite3_reset(u->rows);
    sqlite3_bind_text(u->rows, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(u->rows, 2, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(u->rows, 3, day);
    rc = pack_rows(&u->p, u->rows);
    sqlite3_reset(u->rows);
  }
  if (rc == FC_ECORRUPT) return gw__sql_err(u->p.c, err, "customer day packs");
  return rc == FC_OK ? FC_OK : fc_err_set(err, rc, "customer day packs: %s", fc_status_name(rc));
}

void gw__user_packs_end(gw_user_packs *u) {
  if (!u) return;
  packer_free(&u->p);
  sqlite3_finalize(u->rows);
  sqlite3_finalize(u->drop);
  free(u);
}

/* ---- reading packs ------------------------------------------------------------- */

/* A tenant's dictionary: name[id], each text once in the set's blocks. */
typedef struct names {
  const char **name;
  size_t n;
} names;

static int load_names(sqlite3 *c, const char *tenant, gw_user_days *out, names *nm, fc_err *err) {
  sqlite3_stmt *st = NULL;
  size_t cap = 0;
  int rc = FC_OK, r;
  memset(nm, 0, sizeof *nm);
  if (sqlite3_prepare_v2(c, "SELECT id, text FROM txn_user_names WHERE tenant_id = ?1 ORDER BY id", -1, &st, NULL) !=
      SQLITE_OK)
    return gw__sql_err(c, err, "customer day packs");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_int64(st, 0) != (int64_t)nm->n) {
      rc = fc_err_set(err, FC_ECORRUPT, "customer day packs: the names' ids are not dense");
      break;
    }
    if (nm->n == cap) {
      cap = cap ? cap * 2 : 4096;
      const char **v = realloc(nm->name, cap * sizeof *v);
      if (!v) {
        rc = fc_err_set(err, FC_ENOMEM, "out of memory");
        break;
      }
      nm->name = v;
    }
    const char *t = (const char *)sqlite3_column_text(st, 1);
    if (!(nm->name[nm->n++] = gw__user_days_intern(out, GW_UD_USER, t ? t : "", (size_t)sqlite3_column_bytes(st, 1))))
      rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "customer day packs");
  sqlite3_finalize(st);
  return rc;
}

/* Where a read puts its rows: one array of one day range. */
typedef struct pack_read {
  const names *nm;
  int64_t partner; /* the filter's id; -1: every partner; -2: a partner without rows */
  const char *ccy;
  fc_seg_day *rows;
  size_t n, cap;
  int stale; /* a pack held an id beyond the names read */
} pack_read;

/* Appends a pack's records; FC_ECORRUPT for a malformed pack or an id the
 * dictionary read does not know (it was read in another snapshot). */
static int decode(pack_read *pr, int64_t day, const unsigned char *b, size_t len) {
  if (len % REC) return FC_ECORRUPT;
  size_t k = len / REC;
  if (pr->n + k > pr->cap) {
    size_t cap = pr->cap ? pr->cap * 2 : 4096;
    while (cap < pr->n + k) cap *= 2;
    fc_seg_day *v = realloc(pr->rows, cap * sizeof *v);
    if (!v) return FC_ENOMEM;
    pr->rows = v;
    pr->cap = cap;
  }
  for (size_t i = 0; i < k; i++, b += REC) {
    uint32_t id[4] = {get32(b), get32(b + 4), get32(b + 8), get32(b + 12)};
    if (pr->partner != -1 && (int64_t)id[0] != pr->partner) continue;
    if (id[0] >= pr->nm->n || id[1] >= pr->nm->n || id[2] >= pr->nm->n || id[3] >= pr->nm->n) {
      pr->stale = 1;
      return FC_ECORRUPT;
    }
    fc_seg_day *x = &pr->rows[pr->n++];
    x->partner_id = pr->nm->name[id[0]];
    x->user_id = pr->nm->name[id[1]];
    x->transaction_type = pr->nm->name[id[2]];
    x->category = pr->nm->name[id[3]];
    x->currency = pr->ccy;
    x->day = day;
    x->scale = (int)get32(b + 16);
    x->count = get64(b + 20);
    x->purchases = get64(b + 28);
    x->spend = get64(b + 36);
    x->refund = get64(b + 44);
  }
  return FC_OK;
}

/* ?1..?5 of the two reads below: tenant, local, currency, [from_day, to_day). */
static void bind_range(sqlite3_stmt *st, const char *tenant, int local, const char *currency, int64_t from_day,
                       int64_t to_day) {
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, local);
  sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, from_day);
  sqlite3_bind_int64(st, 5, to_day);
}

/* The packs of (tenant, local, currency) with from_day <= day < to_day
 * into pr, on connection c. */
static int read_packs(sqlite3 *c, const char *tenant, int local, const char *currency, int64_t from_day, int64_t to_day,
                      pack_read *pr, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = FC_OK, r;
  if (sqlite3_prepare_v2(c,
                         "SELECT day, rows FROM txn_user_packs WHERE tenant_id = ?1 AND local = ?2 AND currency = ?3"
                         " AND day >= ?4 AND day < ?5 ORDER BY day",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "customer day packs");
  bind_range(st, tenant, local, currency, from_day, to_day);
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
    rc = decode(pr, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "customer day packs");
  else if (rc != FC_OK) rc = fc_err_set(err, rc, "customer day packs: %s", fc_status_name(rc));
  sqlite3_finalize(st);
  return rc;
}

/* The filter's partner id among the names (-2: none has that text). */
static int64_t partner_id(const names *nm, const char *partner) {
  if (!partner) return -1;
  for (size_t i = 0; i < nm->n; i++)
    if (!strcmp(nm->name[i], partner)) return (int64_t)i;
  return -2;
}

/* The first and last day of the packs in [from_day, to_day) (*first >
 * *last when there are none). */
static int pack_ends(sqlite3 *c, const char *tenant, int local, const char *currency, int64_t from_day, int64_t to_day,
                     int64_t *first, int64_t *last, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  *first = 1, *last = 0;
  if (sqlite3_prepare_v2(c,
                         "SELECT min(day), max(day) FROM txn_user_packs WHERE tenant_id = ?1 AND local = ?2"
                         " AND currency = ?3 AND day >= ?4 AND day < ?5",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "customer day packs");
  bind_range(st, tenant, local, currency, from_day, to_day);
  if (sqlite3_step(st) != SQLITE_ROW) rc = gw__sql_err(c, err, "customer day packs");
  else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
    *first = sqlite3_column_int64(st, 0);
    *last = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  return rc;
}

/* The whole read in one snapshot on one connection. */
static int read_whole(gw_db *db, const char *tenant, int local, const char *currency, const char *partner,
                      int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err) {
  sqlite3 *c;
  names nm;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_exec(c, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) rc = gw__sql_err(c, err, "customer day packs");
  if (rc == FC_OK) rc = load_names(c, tenant, out, &nm, err);
  if (rc == FC_OK) {
    pack_read pr = {&nm, partner_id(&nm, partner), out->currency, NULL, 0, 0, 0};
    if (pr.partner != -2) rc = read_packs(c, tenant, local, currency, from_day, to_day, &pr, err);
    out->rows = pr.rows;
    out->n = pr.n;
  }
  free(nm.name);
  sqlite3_exec(c, "COMMIT", NULL, NULL, NULL);
  gw__release(db, c);
  return rc;
}

/* One of the two day ranges of a split read, on its own connection. */
typedef struct half {
  gw_db *db;
  const char *tenant, *currency;
  int local;
  int64_t from_day, to_day;
  pack_read pr;
  int rc;
  fc_err err;
} half;

static void read_half(void *arg, size_t i) {
  half *h = (half *)arg + i;
  sqlite3 *c;
  if ((h->rc = gw__acquire(h->db, &c, &h->err)) != FC_OK) return;
  h->rc = read_packs(c, h->tenant, h->local, h->currency, h->from_day, h->to_day, &h->pr, &h->err);
  gw__release(h->db, c);
}

/* The names, then the days' two halves side by side on two connections
 * (decoding is most of a read). *torn: a batch or a zone change came
 * between (the tenant's version moved, or a pack holds an id the names
 * did not), out left empty for a read in one snapshot. */
static int read_split(gw_db *db, const char *tenant, int local, const char *currency, const char *partner,
                      int64_t from_day, int64_t to_day, gw_user_days *out, int *torn, fc_err *err) {
  sqlite3 *c;
  names nm = {NULL, 0};
  int64_t v0 = 0, v1 = 0, first = 1, last = 0;
  half h[2];
  int rc = gw_db_user_days_version(db, tenant, &v0, err);
  *torn = 0;
  if (rc == FC_OK && (rc = gw__acquire(db, &c, err)) == FC_OK) {
    rc = load_names(c, tenant, out, &nm, err);
    if (rc == FC_OK) rc = pack_ends(c, tenant, local, currency, from_day, to_day, &first, &last, err);
    gw__release(db, c);
  }
  int64_t mid = first + (last - first + 1) / 2;
  pack_read pr = {&nm, partner_id(&nm, partner), out->currency, NULL, 0, 0, 0};
  for (int i = 0; i < 2; i++) {
    half x = {db, tenant, currency, local, i ? mid : from_day, i ? to_day : mid, pr, FC_OK, {0}};
    h[i] = x;
  }
  if (rc == FC_OK && pr.partner != -2) {
    fc_parallel par = gw_parallel_request();
    par.run(par.ctx, 2, read_half, h);
    for (int i = 0; i < 2 && rc == FC_OK; i++)
      if (h[i].pr.stale) *torn = 1;
      else if (h[i].rc != FC_OK) rc = fc_err_set(err, h[i].rc, "%s", h[i].err.msg);
  }
  if (rc == FC_OK) rc = gw_db_user_days_version(db, tenant, &v1, err);
  *torn = *torn || v0 != v1;
  if (rc == FC_OK && !*torn) {
    out->rows = h[0].pr.rows, out->n = h[0].pr.n;
    out->more = h[1].pr.rows, out->n_more = h[1].pr.n;
  } else {
    free(h[0].pr.rows);
    free(h[1].pr.rows);
  }
  free(nm.name);
  return rc;
}

int gw__user_packs_load(gw_db *db, const char *tenant, int local, const char *currency, const char *partner,
                        int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err) {
  fc_parallel par = gw_parallel_request();
  int torn = 1, rc = FC_OK;
  if (*(const int *)par.ctx >= 2)
    rc = read_split(db, tenant, local, currency, partner, from_day, to_day, out, &torn, err);
  if (rc == FC_OK && torn) {
    char ccy[FC_CCY_MAX];
    memcpy(ccy, out->currency, sizeof ccy);
    gw_user_days_free(out);
    memcpy(out->currency, ccy, sizeof ccy);
    rc = read_whole(db, tenant, local, currency, partner, from_day, to_day, out, err);
  }
  return rc;
}
