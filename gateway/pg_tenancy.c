/* pg_tenancy.c: tiers, tenants, API keys, usage and partner transactions
 * in PostgreSQL, the same contract as db_tenancy.c. Every call is one
 * transaction (pg_run); reads take one snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

#include "fc/time.h"

/* ---- tiers ---- */

typedef struct tier_args {
  const gw_tier *t;
  int only_missing;
} tier_args;

static int tier_fn(PGconn *c, void *arg, fc_err *err) {
  const tier_args *p = arg;
  const gw_tier *t = p->t;
  pg_args a = {0};
  pg_arg_text(&a, t->name), pg_arg_i64(&a, t->rate.rate_milli), pg_arg_i64(&a, t->rate.burst);
  pg_arg_i64(&a, t->monthly_quota), pg_arg_i64(&a, t->max_horizon_hours);
  pg_arg_i64(&a, t->max_history_days), pg_arg_i64(&a, (int64_t)t->granularities);
  pg_arg_i64(&a, t->max_concurrent);
  return pg_do(c,
               p->only_missing ? "INSERT INTO tiers VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                                 " ON CONFLICT (name) DO NOTHING"
                               : "INSERT INTO tiers VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                                 " ON CONFLICT (name) DO UPDATE SET rate_milli = excluded.rate_milli,"
                                 " burst = excluded.burst, monthly_quota = excluded.monthly_quota,"
                                 " max_horizon_hours = excluded.max_horizon_hours,"
                                 " max_history_days = excluded.max_history_days,"
                                 " granularities = excluded.granularities,"
                                 " max_concurrent = excluded.max_concurrent",
               &a, "tier", err);
}

int gw_pg_tier_put(gw_pg *pg, const gw_tier *t, int only_missing, fc_err *err) {
  tier_args p = {t, only_missing};
  return pg_run(pg, 0, tier_fn, &p, err);
}

typedef struct each_args {
  void *fn, *arg;
  const char *text;
  int n_rows;
} each_args;

static int tiers_fn(PGconn *c, void *arg, fc_err *err) {
  each_args *e = arg;
  PGresult *r = pg_exec(c,
                        "SELECT name, rate_milli, burst, monthly_quota, max_horizon_hours,"
                        " max_history_days, granularities, max_concurrent FROM tiers ORDER BY name",
                        NULL, "tiers", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  for (int i = 0; i < PQntuples(r) && rc == FC_OK; i++) {
    gw_tier t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", pg_text(r, i, 0));
    t.rate.rate_milli = pg_i64(r, i, 1);
    t.rate.burst = pg_i64(r, i, 2);
    t.monthly_quota = pg_i64(r, i, 3);
    t.max_horizon_hours = (int)pg_i64(r, i, 4);
    t.max_history_days = (int)pg_i64(r, i, 5);
    t.granularities = (unsigned)pg_i64(r, i, 6);
    t.max_concurrent = (int)pg_i64(r, i, 7);
    rc = ((gw_tier_fn)e->fn)(&t, e->arg);
  }
  PQclear(r);
  return rc;
}

int gw_pg_tiers_each(gw_pg *pg, gw_tier_fn fn, void *arg, fc_err *err) {
  each_args e = {(void *)fn, arg, NULL, 0};
  return pg_run(pg, 1, tiers_fn, &e, err);
}

/* ---- tenants ---- */

typedef struct tenant_args {
  const char *id, *name;
  int64_t now;
  int exists;
} tenant_args;

static int tenant_create_fn(PGconn *c, void *arg, fc_err *err) {
  tenant_args *t = arg;
  pg_args a = {0};
  pg_arg_text(&a, t->id), pg_arg_text(&a, t->name), pg_arg_i64(&a, t->now);
  PGresult *r = pg_exec(c, "INSERT INTO tenants VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", &a, "tenant", err);
  if (!r) return pg_failed(err);
  int created = atoi(PQcmdTuples(r)) > 0;
  PQclear(r);
  return created ? FC_OK : fc_err_set(err, FC_EDUP, "tenant '%s' exists", t->id);
}

int gw_pg_tenant_create(gw_pg *pg, const char *id, const char *name, int64_t now, fc_err *err) {
  tenant_args t = {id, name, now, 0};
  return pg_run(pg, 0, tenant_create_fn, &t, err);
}

static int tenant_exists_fn(PGconn *c, void *arg, fc_err *err) {
  tenant_args *t = arg;
  pg_args a = {0};
  pg_arg_text(&a, t->id);
  PGresult *r = pg_exec(c, "SELECT 1 FROM tenants WHERE id = $1", &a, "tenant", err);
  if (!r) return pg_failed(err);
  t->exists = PQntuples(r) > 0;
  PQclear(r);
  return FC_OK;
}

int gw_pg_tenant_exists(gw_pg *pg, const char *id, int *exists, fc_err *err) {
  tenant_args t = {id, NULL, 0, 0};
  int rc = pg_run(pg, 1, tenant_exists_fn, &t, err);
  *exists = t.exists;
  return rc;
}

/* ---- listings ---- */

/* A listing with one text parameter (NULL: SQL NULL, typed, so every
 * listing has its $1). */
static int write_rows(gw_pg *pg, const char *sql, const char *arg1, pg_row_json_fn row, fc_buf *out, size_t *count,
                      fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, arg1);
  return pg_list_json(pg, sql, &a, "list", row, out, count, err);
}

static void tenant_row(const PGresult *r, int i, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  fc_buf_json_str(out, pg_text(r, i, 0));
  fc_buf_puts(out, ",\"name\":");
  fc_buf_json_str(out, pg_text(r, i, 1));
  fc_buf_puts(out, ",\"created_at\":");
  pg_json_time(out, r, i, 2);
  fc_buf_printf(out, ",\"keys\":%lld,\"active_keys\":%lld}", (long long)pg_i64(r, i, 3), (long long)pg_i64(r, i, 4));
}

int gw_pg_tenants_write_json(gw_pg *pg, fc_buf *out, size_t *count, fc_err *err) {
  /* $1 is unused but typed, so one helper serves every listing. */
  return write_rows(pg,
                    "SELECT t.id, t.name, t.created_at,"
                    " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id),"
                    " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id"
                    "  AND k.revoked_at IS NULL)"
                    " FROM tenants t WHERE $1::text IS NULL ORDER BY t.id COLLATE \"C\"",
                    NULL, tenant_row, out, count, err);
}

/* Never the hash: a listing shows what a key is, not what proves it. */
static void key_row(const PGresult *r, int i, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  fc_buf_json_str(out, pg_text(r, i, 0));
  fc_buf_printf(out, ",\"prefix\":\"fc_%s_\",\"tenant_id\":", pg_text(r, i, 0));
  fc_buf_json_str(out, pg_text(r, i, 1));
  fc_buf_puts(out, ",\"tier\":");
  fc_buf_json_str(out, pg_text(r, i, 2));
  fc_buf_puts(out, ",\"created_at\":");
  pg_json_time(out, r, i, 3);
  fc_buf_printf(out, ",\"revoked\":%s,\"revoked_at\":", pg_null(r, i, 4) ? "false" : "true");
  pg_json_time(out, r, i, 4);
  fc_buf_puts(out, ",\"last_used_hour\":");
  pg_json_time(out, r, i, 5);
  fc_buf_putc(out, '}');
}

int gw_pg_keys_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  return write_rows(pg,
                    "SELECT k.id, k.tenant_id, k.tier, k.created_at, k.revoked_at,"
                    " (SELECT max(u.hour) FROM usage u WHERE u.tenant_id = k.tenant_id"
                    "  AND u.key_id = k.id)"
                    " FROM api_keys k WHERE $1::text IS NULL OR k.tenant_id = $1"
                    " ORDER BY k.tenant_id COLLATE \"C\", k.created_at, k.id COLLATE \"C\"",
                    tenant, key_row, out, count, err);
}

/* ---- keys ---- */

typedef struct key_args {
  const gw_key_info *k;
  const char *old_id;
  int seeded;
  int64_t now;
} key_args;

static int key_insert_fn(PGconn *c, void *arg, fc_err *err) {
  const key_args *kn = arg;
  const gw_key_info *k = kn->k;
  pg_args a = {0};
  pg_arg_text(&a, k->tenant), pg_arg_text(&a, k->tier);
  PGresult *r = pg_exec(c,
                        "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1),"
                        " EXISTS (SELECT 1 FROM tiers WHERE name = $2)",
                        &a, "key", err);
  if (!r) return pg_failed(err);
  int tenant_ok = !strcmp(pg_text(r, 0, 0), "t"), tier_ok = !strcmp(pg_text(r, 0, 1), "t");
  PQclear(r);
  if (!tenant_ok) return fc_err_set(err, FC_ENOTFOUND, "no tenant '%s'", k->tenant);
  if (!tier_ok) return fc_err_set(err, FC_ENOTFOUND, "no tier '%s'", k->tier);
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, k->id), pg_arg_text(&a, k->tenant), pg_arg_text(&a, k->tier);
  pg_arg_bytes(&a, k->hash, GW_SHA256_LEN), pg_arg_i64(&a, kn->now);
  int rc = pg_do(c, "INSERT INTO api_keys VALUES ($1, $2, $3, $4, $5, NULL)", &a, "key", err);
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, k->id), pg_arg_i64(&a, kn->now);
  if (rc == FC_OK && kn->seeded)
    rc = pg_do(c,
               "UPDATE api_keys SET revoked_at = $2 WHERE revoked_at IS NULL AND id IN"
               " (SELECT id FROM seeded_keys) AND id <> $1",
               &a, "key", err);
  if (rc == FC_OK && kn->seeded) {
    pg_args one = {0};
    pg_arg_text(&one, k->id);
    rc = pg_do(c, "INSERT INTO seeded_keys VALUES ($1)", &one, "key", err);
  }
  if (rc == FC_OK && kn->old_id) {
    memset(&a, 0, sizeof a);
    pg_arg_text(&a, kn->old_id), pg_arg_i64(&a, kn->now);
    rc = pg_do(c, "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", &a, "key", err);
  }
  return rc;
}

int gw_pg_key_insert(gw_pg *pg, const gw_key_info *k, const char *old_id, int seeded, int64_t now, fc_err *err) {
  key_args kn = {k, old_id, seeded, now};
  return pg_run(pg, 0, key_insert_fn, &kn, err);
}

static void row_key(const PGresult *r, int i, gw_key_info *k) {
  memset(k, 0, sizeof *k);
  snprintf(k->id, sizeof k->id, "%s", pg_text(r, i, 0));
  snprintf(k->tenant, sizeof k->tenant, "%s", pg_text(r, i, 1));
  snprintf(k->tier, sizeof k->tier, "%s", pg_text(r, i, 2));
  size_t n = 0;
  unsigned char *h = PQunescapeBytea((const unsigned char *)pg_text(r, i, 3), &n);
  if (h && n == GW_SHA256_LEN) memcpy(k->hash, h, GW_SHA256_LEN);
  PQfreemem(h);
  k->revoked = !pg_null(r, i, 4);
}

static int keys_fn(PGconn *c, void *arg, fc_err *err) {
  each_args *e = arg;
  pg_args a = {0};
  pg_arg_text(&a, e->text);
  PGresult *r = pg_exec(c,
                        "SELECT id, tenant_id, tier, hash, revoked_at FROM api_keys"
                        " WHERE $1::text IS NULL OR id = $1",
                        &a, "keys", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  e->n_rows = PQntuples(r);
  for (int i = 0; i < PQntuples(r) && rc == FC_OK; i++) {
    gw_key_info k;
    row_key(r, i, &k);
    rc = ((gw_key_fn)e->fn)(&k, e->arg);
  }
  PQclear(r);
  return rc;
}

int gw_pg_keys_each(gw_pg *pg, gw_key_fn fn, void *arg, fc_err *err) {
  each_args e = {(void *)fn, arg, NULL, 0};
  return pg_run(pg, 1, keys_fn, &e, err);
}

static int copy_key(const gw_key_info *k, void *arg) {
  *(gw_key_info *)arg = *k;
  return FC_OK;
}

int gw_pg_key_get(gw_pg *pg, const char *id, gw_key_info *out, fc_err *err) {
  each_args e = {(void *)copy_key, out, id, 0};
  int rc = pg_run(pg, 1, keys_fn, &e, err);
  if (rc == FC_OK && e.n_rows == 0) rc = fc_err_set(err, FC_ENOTFOUND, "no key '%s'", id);
  return rc;
}

typedef struct key_change {
  const char *id, *tier;
  int64_t now;
} key_change;

static int key_tier_fn(PGconn *c, void *arg, fc_err *err) {
  const key_change *kc = arg;
  pg_args a = {0};
  pg_arg_text(&a, kc->tier);
  PGresult *r = pg_exec(c, "SELECT 1 FROM tiers WHERE name = $1", &a, "tier", err);
  if (!r) return pg_failed(err);
  int found = PQntuples(r) > 0;
  PQclear(r);
  if (!found) return fc_err_set(err, FC_ENOTFOUND, "no tier '%s'", kc->tier);
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, kc->id), pg_arg_text(&a, kc->tier);
  r = pg_exec(c, "UPDATE api_keys SET tier = $2 WHERE id = $1", &a, "key", err);
  if (!r) return pg_failed(err);
  int changed = atoi(PQcmdTuples(r)) > 0;
  PQclear(r);
  return changed ? FC_OK : fc_err_set(err, FC_ENOTFOUND, "no key '%s'", kc->id);
}

int gw_pg_key_set_tier(gw_pg *pg, const char *id, const char *tier, fc_err *err) {
  key_change kc = {id, tier, 0};
  return pg_run(pg, 0, key_tier_fn, &kc, err);
}

static int key_revoke_fn(PGconn *c, void *arg, fc_err *err) {
  const key_change *kc = arg;
  pg_args a = {0};
  pg_arg_text(&a, kc->id), pg_arg_i64(&a, kc->now);
  PGresult *r = pg_exec(c, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1", &a, "key", err);
  if (!r) return pg_failed(err);
  int changed = atoi(PQcmdTuples(r)) > 0;
  PQclear(r);
  return changed ? FC_OK : fc_err_set(err, FC_ENOTFOUND, "no key '%s'", kc->id);
}

int gw_pg_key_revoke(gw_pg *pg, const char *id, int64_t now, fc_err *err) {
  key_change kc = {id, NULL, now};
  return pg_run(pg, 0, key_revoke_fn, &kc, err);
}

/* ---- usage ---- */

typedef struct usage_args {
  const gw_usage_row *rows;
  size_t n;
} usage_args;

/* A text as an SQL literal appended to b (PQescapeLiteral: quotes, and
 * the connection's encoding). */
static int put_literal(PGconn *c, fc_buf *b, const char *s) {
  char *lit = PQescapeLiteral(c, s, strlen(s));
  if (!lit) return -1;
  fc_buf_puts(b, lit);
  PQfreemem(lit);
  return 0;
}

/* The metering writer's group commit: every row in one transaction, all
 * or none, sent as one multi-statement simple query (PostgreSQL runs it
 * as one implicit transaction), so a batch costs one round trip whatever
 * its size: the answers of the batch wait for it. Not retried: a stale
 * pooled connection fails before anything ran (those answers get 503 and
 * count nowhere; the pool is then dropped), and a server lost mid-commit
 * leaves the outcome unknown, where counting a call that was not answered
 * is the allowed error, never the reverse. */
static int usage_add_on(PGconn *c, const usage_args *u, fc_err *err) {
  fc_buf sql;
  fc_buf_init(&sql);
  int bad = 0;
  for (size_t i = 0; i < u->n && !bad; i++) {
    const gw_usage_row *x = &u->rows[i];
    fc_buf_puts(&sql, "INSERT INTO usage AS u VALUES (");
    bad |= put_literal(c, &sql, x->tenant);
    fc_buf_putc(&sql, ',');
    bad |= put_literal(c, &sql, x->key_id);
    fc_buf_putc(&sql, ',');
    bad |= put_literal(c, &sql, x->endpoint);
    fc_buf_printf(&sql, ",%d,%lld,%lld,%lld,%lld)", x->status_class, (long long)x->hour, (long long)x->calls,
                  (long long)x->bytes, (long long)x->compute_us);
    fc_buf_puts(&sql, " ON CONFLICT (tenant_id, key_id, endpoint, status_class, hour) DO UPDATE"
                      " SET calls = u.calls + excluded.calls, bytes = u.bytes + excluded.bytes,"
                      " compute_us = u.compute_us + excluded.compute_us;");
  }
  int rc = FC_OK;
  if (bad || fc_buf_failed(&sql)) {
    rc = bad ? pg_fail(c, err, "usage", NULL) : fc_err_set(err, FC_ENOMEM, "out of memory");
  } else if (u->n > 0) {
    PGresult *r = PQexec(c, sql.data);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = pg_fail(c, err, "usage", r);
    PQclear(r);
  }
  fc_buf_free(&sql);
  return rc;
}

int gw_pg_usage_add(gw_pg *pg, const gw_usage_row *rows, size_t n, fc_err *err) {
  usage_args u = {rows, n};
  PGconn *c;
  int fresh;
  int rc = pg_acquire(pg, &c, &fresh, err);
  if (rc != FC_OK) return rc;
  rc = usage_add_on(c, &u, err);
  pg_release(pg, c);
  return rc;
}

typedef struct served_args {
  int64_t since;
  gw_usage_tenant_fn fn;
  void *arg;
} served_args;

static int served_fn(PGconn *c, void *arg, fc_err *err) {
  served_args *s = arg;
  pg_args a = {0};
  pg_arg_i64(&a, s->since);
  PGresult *r = pg_exec(c,
                        "SELECT tenant_id, sum(calls) FROM usage WHERE status_class = 2"
                        " AND hour >= $1 GROUP BY tenant_id",
                        &a, "usage", err);
  if (!r) return pg_failed(err);
  for (int i = 0; i < PQntuples(r); i++) s->fn(pg_text(r, i, 0), pg_i64(r, i, 1), s->arg);
  PQclear(r);
  return FC_OK;
}

int gw_pg_usage_served_since(gw_pg *pg, int64_t since, gw_usage_tenant_fn fn, void *arg, fc_err *err) {
  served_args s = {since, fn, arg};
  return pg_run(pg, 1, served_fn, &s, err);
}

typedef struct calls_args {
  const char *tenant, *key_id;
  int status_class;
  int64_t out;
} calls_args;

static int calls_fn(PGconn *c, void *arg, fc_err *err) {
  calls_args *q = arg;
  pg_args a = {0};
  pg_arg_text(&a, q->tenant), pg_arg_text(&a, q->key_id), pg_arg_i64(&a, q->status_class);
  PGresult *r = pg_exec(c,
                        "SELECT coalesce(sum(calls), 0) FROM usage WHERE"
                        " ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR key_id = $2)"
                        " AND ($3::integer = 0 OR status_class = $3)",
                        &a, "usage", err);
  if (!r) return pg_failed(err);
  q->out = pg_i64(r, 0, 0);
  PQclear(r);
  return FC_OK;
}

int gw_pg_usage_calls(gw_pg *pg, const char *tenant, const char *key_id, int status_class, int64_t *out, fc_err *err) {
  calls_args q = {tenant, key_id, status_class, 0};
  int rc = pg_run(pg, 1, calls_fn, &q, err);
  if (rc == FC_OK) *out = q.out;
  return rc;
}

typedef struct write_args {
  const char *tenant;
  int64_t from, to;
  int by_hour, csv;
  fc_buf *out;
  int64_t total;
} write_args;

/* The same rows and text as db_tenancy.c's gw_db_usage_write. Ordering by
 * the "C" collation: byte order, as SQLite sorts. */
static int usage_write_fn(PGconn *c, void *arg, fc_err *err) {
  write_args *w = arg;
  pg_args a = {0};
  pg_arg_text(&a, w->tenant), pg_arg_i64(&a, w->from), pg_arg_i64(&a, w->to);
  pg_arg_i64(&a, w->by_hour ? 3600 : 86400);
  PGresult *r = pg_exec(c,
                        "SELECT hour - hour % $4::bigint AS period, tenant_id, key_id, endpoint,"
                        " status_class, sum(calls), sum(bytes), sum(compute_us) FROM usage"
                        " WHERE ($1::text IS NULL OR tenant_id = $1) AND hour >= $2 AND hour < $3"
                        " GROUP BY period, tenant_id, key_id, endpoint, status_class"
                        " ORDER BY period, tenant_id COLLATE \"C\", key_id COLLATE \"C\","
                        " endpoint COLLATE \"C\", status_class",
                        &a, "usage", err);
  if (!r) return pg_failed(err);
  fc_buf *out = w->out;
  if (w->csv) fc_buf_puts(out, "period,tenant_id,key_id,endpoint,status_class,calls,bytes,compute_ms\n");
  else fc_buf_putc(out, '[');
  for (int i = 0; i < PQntuples(r); i++) {
    char period[FC_TIME_STR];
    fc_time_format(pg_i64(r, i, 0), period);
    if (!w->by_hour) period[10] = '\0';
    const char *ten = pg_text(r, i, 1), *key = pg_text(r, i, 2), *ep = pg_text(r, i, 3);
    int cls = (int)pg_i64(r, i, 4);
    long long calls = pg_i64(r, i, 5), bytes = pg_i64(r, i, 6);
    double ms = (double)pg_i64(r, i, 7) / 1000.0;
    w->total += calls;
    if (w->csv) {
      fc_buf_printf(out, "%s,", period);
      fc_buf_csv_field(out, ten);
      fc_buf_printf(out, ",%s,%s,%dxx,%lld,%lld,%.3f\n", key, ep, cls, calls, bytes, ms);
    } else {
      fc_buf_printf(out, "%s{\"period\":\"%s\",\"tenant_id\":", i ? "," : "", period);
      fc_buf_json_str(out, ten);
      fc_buf_printf(out,
                    ",\"key_id\":\"%s\",\"endpoint\":\"%s\",\"status_class\":\"%dxx\","
                    "\"calls\":%lld,\"bytes\":%lld,\"compute_ms\":%.3f}",
                    key, ep, cls, calls, bytes, ms);
    }
  }
  if (!w->csv) fc_buf_putc(out, ']');
  PQclear(r);
  return FC_OK;
}

int gw_pg_usage_write(gw_pg *pg, const char *tenant, int64_t from, int64_t to, int by_hour, int csv, fc_buf *out,
                      int64_t *total, fc_err *err) {
  write_args w = {tenant, from, to, by_hour, csv, out, 0};
  int rc = pg_run(pg, 1, usage_write_fn, &w, err);
  *total = w.total;
  return rc;
}

/* ---- transactions ---- */

static char *keep(gw_txn_set *s, size_t *cap, const char *t) {
  char *copy = strdup(t);
  if (!copy) return NULL;
  if (s->n_strings == *cap) {
    size_t nc = *cap ? *cap * 2 : 256;
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

typedef struct txn_args {
  const char *tenant;
  int64_t since;
  gw_txn_set *out;
} txn_args;

static int load_txn_fn(PGconn *c, void *arg, fc_err *err) {
  txn_args *t = arg;
  gw_txn_set *out = t->out;
  pg_args a = {0};
  pg_arg_text(&a, t->tenant), pg_arg_i64(&a, t->since);
  PGresult *r = pg_exec(c,
                        "SELECT id, partner_id, user_id, action_date, currency, scale, amount,"
                        " transaction_type, category FROM transactions"
                        " WHERE tenant_id = $1 AND action_date >= $2 ORDER BY action_date, seq",
                        &a, "transactions", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  size_t rows = (size_t)PQntuples(r), scap = 0;
  out->v = rows ? calloc(rows, sizeof *out->v) : NULL;
  if (rows && !out->v) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  for (int i = 0; rc == FC_OK && (size_t)i < rows; i++) {
    fc_transaction *x = &out->v[i];
    x->id = keep(out, &scap, pg_text(r, i, 0));
    x->partner_id = keep(out, &scap, pg_text(r, i, 1));
    x->user_id = keep(out, &scap, pg_text(r, i, 2));
    x->action_date = pg_i64(r, i, 3);
    snprintf(x->currency, sizeof x->currency, "%s", pg_text(r, i, 4));
    x->scale = (int)pg_i64(r, i, 5);
    x->amount = pg_i64(r, i, 6);
    x->transaction_type = keep(out, &scap, pg_text(r, i, 7));
    x->category = keep(out, &scap, pg_text(r, i, 8));
    if (!x->id || !x->partner_id || !x->user_id || !x->transaction_type || !x->category)
      rc = fc_err_set(err, FC_ENOMEM, "out of memory");
    else out->n++;
  }
  PQclear(r);
  return rc;
}

int gw_pg_load_transactions(gw_pg *pg, const char *tenant, int64_t since, gw_txn_set *out, fc_err *err) {
  memset(out, 0, sizeof *out);
  txn_args t = {tenant, since, out};
  int rc = pg_run(pg, 1, load_txn_fn, &t, err);
  if (rc != FC_OK) gw_txn_set_free(out);
  return rc;
}
