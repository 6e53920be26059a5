/* db_scenarios.c: the saved scenarios table in SQLite (scenarios.h). The
 * checks before a write (the per-tenant cap, a name taken) run inside the
 * writing BEGIN IMMEDIATE transaction: SQLite's one writer makes them
 * race-free. */
#include <stdio.h>
#include <string.h>

#include "db_internal.h"
#include "scenarios.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS treasury_scenarios ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, scenario TEXT NOT NULL,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (tenant_id, name));";

int gw__scenarios_schema(sqlite3 *c, fc_err *err) { return gw__exec(c, schema, "scenarios schema", err); }

static const char cols[] = "SELECT id, tenant_id, name, scenario, created_at, updated_at FROM treasury_scenarios ";

static void row(sqlite3_stmt *st, gw_scenario *s) {
  const unsigned char *t;
#define COPY(field, i)                                                   \
  do {                                                                   \
    t = sqlite3_column_text(st, i);                                      \
    snprintf(s->field, sizeof s->field, "%s", t ? (const char *)t : ""); \
  } while (0)
  COPY(id, 0);
  COPY(tenant, 1);
  COPY(name, 2);
  COPY(scenario, 3);
#undef COPY
  s->created_at = sqlite3_column_int64(st, 4);
  s->updated_at = sqlite3_column_int64(st, 5);
}

/* Prepares sql and binds the texts in order; NULL after setting err. */
static sqlite3_stmt *prepare(sqlite3 *c, const char *sql, int n, const char *const *texts, fc_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    gw__sql_err(c, err, "scenarios");
    return NULL;
  }
  for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
  return st;
}

/* The tenant's row id into *out (out may be NULL: existence only). */
static int get_on(sqlite3 *c, const char *tenant, const char *id, gw_scenario *out, fc_err *err) {
  char sql[256];
  const char *t[2] = {tenant, id};
  snprintf(sql, sizeof sql, "%sWHERE tenant_id = ?1 AND id = ?2", cols);
  sqlite3_stmt *st = prepare(c, sql, 2, t, err);
  if (!st) return FC_ECORRUPT;
  int r = sqlite3_step(st), rc = FC_OK;
  if (r == SQLITE_ROW && out) row(st, out);
  else if (r == SQLITE_DONE) rc = fc_err_set(err, FC_ENOTFOUND, "no saved scenario '%s'", id);
  else if (r != SQLITE_ROW) rc = gw__sql_err(c, err, "scenarios");
  sqlite3_finalize(st);
  return rc;
}

/* One integer from a query on the tenant (and a second text). */
static int count_on(sqlite3 *c, const char *sql, const char *tenant, const char *text, int64_t *n, fc_err *err) {
  const char *t[2] = {tenant, text};
  sqlite3_stmt *st = prepare(c, sql, text ? 2 : 1, t, err);
  if (!st) return FC_ECORRUPT;
  int rc = sqlite3_step(st) == SQLITE_ROW ? FC_OK : gw__sql_err(c, err, "scenarios");
  if (rc == FC_OK) *n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc;
}

/* FC_EDUP when another scenario of the tenant (not id) is called name. */
static int name_free(sqlite3 *c, const char *tenant, const char *name, const char *id, fc_err *err) {
  const char *t[3] = {tenant, name, id ? id : ""};
  sqlite3_stmt *st = prepare(c,
                             "SELECT count(*) FROM treasury_scenarios WHERE tenant_id = ?1 AND name = ?2"
                             " AND id <> ?3",
                             3, t, err);
  if (!st) return FC_ECORRUPT;
  int rc = sqlite3_step(st) == SQLITE_ROW ? FC_OK : gw__sql_err(c, err, "scenarios");
  if (rc == FC_OK && sqlite3_column_int64(st, 0) > 0)
    rc = fc_err_set(err, FC_EDUP, "a saved scenario is already called '%s'", name);
  sqlite3_finalize(st);
  return rc;
}

static int insert_txn(sqlite3 *c, void *arg, fc_err *err) {
  const gw_scenario *s = arg;
  int64_t n = 0;
  int rc = count_on(c, "SELECT count(*) FROM treasury_scenarios WHERE tenant_id = ?1", s->tenant, NULL, &n, err);
  if (rc == FC_OK && n >= GW_SCENARIOS_MAX)
    rc = fc_err_set(err, FC_ERANGE, "this tenant has %d saved scenarios, the most kept; delete one first",
                    GW_SCENARIOS_MAX);
  if (rc == FC_OK) rc = name_free(c, s->tenant, s->name, NULL, err);
  if (rc != FC_OK) return rc;
  const char *t[4] = {s->id, s->tenant, s->name, s->scenario};
  sqlite3_stmt *st = prepare(c,
                             "INSERT INTO treasury_scenarios (id, tenant_id, name, scenario, created_at,"
                             " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                             4, t, err);
  if (!st) return FC_ECORRUPT;
  sqlite3_bind_int64(st, 5, s->created_at);
  sqlite3_bind_int64(st, 6, s->updated_at);
  rc = sqlite3_step(st) == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "scenarios");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_scenario_insert(gw_db *db, const gw_scenario *s, fc_err *err) {
  GW_PG(db, gw_pg_scenario_insert(pg_, s, err));
  return gw__in_txn(db, insert_txn, (void *)s, err);
}

typedef struct update_arg {
  const char *tenant, *id, *name, *scenario;
  int64_t now;
  gw_scenario *out;
} update_arg;

/* One column of the row set to a text, and updated_at. */
static int set_text(sqlite3 *c, const update_arg *u, const char *sql, const char *v, fc_err *err) {
  const char *t[3] = {u->tenant, u->id, v};
  sqlite3_stmt *st = prepare(c, sql, 3, t, err);
  if (!st) return FC_ECORRUPT;
  sqlite3_bind_int64(st, 4, u->now);
  int rc = sqlite3_step(st) == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "scenarios");
  sqlite3_finalize(st);
  return rc;
}

static int update_txn(sqlite3 *c, void *arg, fc_err *err) {
  update_arg *u = arg;
  int rc = get_on(c, u->tenant, u->id, NULL, err);
  if (rc == FC_OK && u->name) rc = name_free(c, u->tenant, u->name, u->id, err);
  if (rc == FC_OK && u->name)
    rc = set_text(c, u, "UPDATE treasury_scenarios SET name = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2",
                  u->name, err);
  if (rc == FC_OK && u->scenario)
    rc = set_text(c, u,
                  "UPDATE treasury_scenarios SET scenario = ?3, updated_at = ?4"
                  " WHERE tenant_id = ?1 AND id = ?2",
                  u->scenario, err);
  return rc == FC_OK ? get_on(c, u->tenant, u->id, u->out, err) : rc;
}

int gw_db_scenario_update(gw_db *db, const char *tenant, const char *id, const char *name, const char *scenario,
                          int64_t now, gw_scenario *out, fc_err *err) {
  GW_PG(db, gw_pg_scenario_update(pg_, tenant, id, name, scenario, now, out, err));
  update_arg u = {tenant, id, name, scenario, now, out};
  return gw__in_txn(db, update_txn, &u, err);
}

int gw_db_scenario_get(gw_db *db, const char *tenant, const char *id, gw_scenario *out, fc_err *err) {
  GW_PG(db, gw_pg_scenario_get(pg_, tenant, id, out, err));
  sqlite3 *c;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  rc = get_on(c, tenant, id, out, err);
  gw__release(db, c);
  return rc;
}

typedef struct delete_arg {
  const char *tenant, *id;
} delete_arg;

static int delete_txn(sqlite3 *c, void *arg, fc_err *err) {
  delete_arg *d = arg;
  const char *t[2] = {d->tenant, d->id};
  sqlite3_stmt *st = prepare(c, "DELETE FROM treasury_scenarios WHERE tenant_id = ?1 AND id = ?2", 2, t, err);
  if (!st) return FC_ECORRUPT;
  int rc = sqlite3_step(st) == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "scenarios");
  sqlite3_finalize(st);
  if (rc == FC_OK && sqlite3_changes(c) == 0) rc = fc_err_set(err, FC_ENOTFOUND, "no saved scenario '%s'", d->id);
  return rc;
}

int gw_db_scenario_delete(gw_db *db, const char *tenant, const char *id, fc_err *err) {
  GW_PG(db, gw_pg_scenario_delete(pg_, tenant, id, err));
  delete_arg d = {tenant, id};
  return gw__in_txn(db, delete_txn, &d, err);
}

static void list_row(sqlite3_stmt *st, fc_buf *out) {
  gw_scenario s;
  row(st, &s);
  gw_scenario_json(&s, out);
}

int gw_db_scenarios_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_scenarios_write_json(pg_, tenant, out, count, err));
  char sql[256];
  snprintf(sql, sizeof sql, "%sWHERE tenant_id = ?1 ORDER BY name, id", cols);
  return gw__list_json(db, sql, tenant, NULL, 0, "scenarios", list_row, out, count, err);
}
