/* pg_scenarios.c: the saved scenarios table in PostgreSQL (its migration
 * in pg.c), the same contract as db_scenarios.c. A write first takes a
 * transaction-scoped advisory lock on the tenant's scenarios, so the cap
 * and the unique name are checked and written as one step across nodes
 * (the UNIQUE constraint is the backstop); names sort byte-wise (COLLATE
 * "C") as in SQLite. */
#include <stdio.h>
#include <string.h>

#include "pg_internal.h"
#include "scenarios.h"

static const char cols[] = "SELECT id, tenant_id, name, scenario, created_at, updated_at FROM treasury_scenarios ";

static void row(const PGresult *r, int i, void *out) {
  gw_scenario *s = out;
  snprintf(s->id, sizeof s->id, "%s", pg_text(r, i, 0));
  snprintf(s->tenant, sizeof s->tenant, "%s", pg_text(r, i, 1));
  snprintf(s->name, sizeof s->name, "%s", pg_text(r, i, 2));
  snprintf(s->scenario, sizeof s->scenario, "%s", pg_text(r, i, 3));
  s->created_at = pg_i64(r, i, 4);
  s->updated_at = pg_i64(r, i, 5);
}

static int lock_tenant(PGconn *c, const char *tenant, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  return pg_do(c, "SELECT pg_advisory_xact_lock(hashtext('fc:scenarios:' || $1))", &a, "scenarios", err);
}

/* The first integer of a query's first row. */
static int one_i64(PGconn *c, const char *sql, const pg_args *a, int64_t *n, fc_err *err) {
  PGresult *r = pg_exec(c, sql, a, "scenarios", err);
  if (!r) return pg_failed(err);
  *n = PQntuples(r) > 0 ? pg_i64(r, 0, 0) : 0;
  PQclear(r);
  return FC_OK;
}

/* FC_EDUP when another scenario of the tenant (not id) is called name. */
static int name_free(PGconn *c, const char *tenant, const char *name, const char *id, fc_err *err) {
  pg_args a = {0};
  int64_t n = 0;
  pg_arg_text(&a, tenant), pg_arg_text(&a, name), pg_arg_text(&a, id ? id : "");
  int rc = one_i64(c, "SELECT count(*) FROM treasury_scenarios WHERE tenant_id = $1 AND name = $2 AND id <> $3", &a, &n,
                   err);
  if (rc == FC_OK && n > 0) rc = fc_err_set(err, FC_EDUP, "a saved scenario is already called '%s'", name);
  return rc;
}

static int get_on(PGconn *c, const char *tenant, const char *id, gw_scenario *out, fc_err *err) {
  char sql[256];
  pg_args a = {0};
  pg_arg_text(&a, tenant), pg_arg_text(&a, id);
  snprintf(sql, sizeof sql, "%sWHERE tenant_id = $1 AND id = $2", cols);
  int rc = pg_query_row(c, sql, &a, "scenarios", row, out, err);
  return rc == FC_ENOTFOUND ? fc_err_set(err, FC_ENOTFOUND, "no saved scenario '%s'", id) : rc;
}

static int insert_fn(PGconn *c, void *arg, fc_err *err) {
  const gw_scenario *s = arg;
  pg_args a = {0};
  int64_t n = 0;
  int rc = lock_tenant(c, s->tenant, err);
  pg_arg_text(&a, s->tenant);
  if (rc == FC_OK) rc = one_i64(c, "SELECT count(*) FROM treasury_scenarios WHERE tenant_id = $1", &a, &n, err);
  if (rc == FC_OK && n >= GW_SCENARIOS_MAX)
    rc = fc_err_set(err, FC_ERANGE, "this tenant has %d saved scenarios, the most kept; delete one first",
                    GW_SCENARIOS_MAX);
  if (rc == FC_OK) rc = name_free(c, s->tenant, s->name, NULL, err);
  if (rc != FC_OK) return rc;
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, s->id), pg_arg_text(&a, s->tenant), pg_arg_text(&a, s->name);
  pg_arg_text(&a, s->scenario), pg_arg_i64(&a, s->created_at), pg_arg_i64(&a, s->updated_at);
  return pg_do(c,
               "INSERT INTO treasury_scenarios (id, tenant_id, name, scenario, created_at, updated_at)"
               " VALUES ($1, $2, $3, $4, $5, $6)",
               &a, "scenarios", err);
}

int gw_pg_scenario_insert(gw_pg *pg, const gw_scenario *s, fc_err *err) {
  return pg_run(pg, 0, insert_fn, (void *)s, err);
}

typedef struct update_args {
  const char *tenant, *id, *name, *scenario;
  int64_t now;
  gw_scenario *out;
} update_args;

static int update_fn(PGconn *c, void *arg, fc_err *err) {
  update_args *u = arg;
  int rc = lock_tenant(c, u->tenant, err);
  if (rc == FC_OK) rc = get_on(c, u->tenant, u->id, NULL, err);
  if (rc == FC_OK && u->name) rc = name_free(c, u->tenant, u->name, u->id, err);
  if (rc != FC_OK) return rc;
  /* NULL keeps a column as it is. */
  pg_args a = {0};
  pg_arg_text(&a, u->tenant), pg_arg_text(&a, u->id), pg_arg_text(&a, u->name);
  pg_arg_text(&a, u->scenario), pg_arg_i64(&a, u->now);
  rc = pg_do(c,
             "UPDATE treasury_scenarios SET name = coalesce($3, name), scenario = coalesce($4, scenario),"
             " updated_at = $5 WHERE tenant_id = $1 AND id = $2",
             &a, "scenarios", err);
  return rc == FC_OK ? get_on(c, u->tenant, u->id, u->out, err) : rc;
}

int gw_pg_scenario_update(gw_pg *pg, const char *tenant, const char *id, const char *name, const char *scenario,
                          int64_t now, gw_scenario *out, fc_err *err) {
  update_args u = {tenant, id, name, scenario, now, out};
  return pg_run(pg, 0, update_fn, &u, err);
}

typedef struct get_args {
  const char *tenant, *id;
  gw_scenario *out;
} get_args;

static int get_fn(PGconn *c, void *arg, fc_err *err) {
  get_args *g = arg;
  return get_on(c, g->tenant, g->id, g->out, err);
}

int gw_pg_scenario_get(gw_pg *pg, const char *tenant, const char *id, gw_scenario *out, fc_err *err) {
  get_args g = {tenant, id, out};
  return pg_run(pg, 1, get_fn, &g, err);
}

static int delete_fn(PGconn *c, void *arg, fc_err *err) {
  get_args *g = arg;
  pg_args a = {0};
  pg_arg_text(&a, g->tenant), pg_arg_text(&a, g->id);
  PGresult *r = pg_exec(c, "DELETE FROM treasury_scenarios WHERE tenant_id = $1 AND id = $2", &a, "scenarios", err);
  if (!r) return pg_failed(err);
  int rc = strcmp(PQcmdTuples(r), "0") != 0 ? FC_OK : fc_err_set(err, FC_ENOTFOUND, "no saved scenario '%s'", g->id);
  PQclear(r);
  return rc;
}

int gw_pg_scenario_delete(gw_pg *pg, const char *tenant, const char *id, fc_err *err) {
  get_args g = {tenant, id, NULL};
  return pg_run(pg, 0, delete_fn, &g, err);
}

static void list_row(const PGresult *r, int i, fc_buf *out) {
  gw_scenario s;
  row(r, i, &s);
  gw_scenario_json(&s, out);
}

int gw_pg_scenarios_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  return pg_list_tenant_json(pg, cols, tenant, "name COLLATE \"C\", id", "scenarios", list_row, out, count, err);
}
