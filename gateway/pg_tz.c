/* pg_tz.c: the PostgreSQL engine's tenant time zones and local-day
 * rollups (db_tz.h). migration_time_zones (pg.c) creates the tables and
 * the trigger that keeps txn_local_daily on ingestion; the same rows, order
 * and strings as db_tz.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_tz.h"
#include "pg_internal.h"

typedef struct zone_args {
  const char *tenant;
  char *name;
} zone_args;

static int zone_fn(PGconn *c, void *arg, fc_err *err) {
  zone_args *z = arg;
  pg_args a = {0};
  pg_arg_text(&a, z->tenant);
  PGresult *r = pg_exec(c, "SELECT time_zone FROM tenant_time_zones WHERE tenant_id = $1", &a, "time zone", err);
  if (!r) return pg_failed(err);
  z->name[0] = '\0';
  if (PQntuples(r) == 1) snprintf(z->name, GW_TZ_NAME_MAX + 1, "%s", pg_text(r, 0, 0));
  PQclear(r);
  return FC_OK;
}

int gw_pg_tenant_zone(gw_pg *pg, const char *tenant, char *name, fc_err *err) {
  zone_args z = {tenant, name};
  return pg_run(pg, 1, zone_fn, &z, err);
}

typedef struct set_args {
  const char *tenant;
  const gw_tz *z;
} set_args;

/* Ingestion's trigger reads the zone of each row's tenant: the table lock
 * waits for batches in flight and holds new ones until this transaction
 * has committed, so no row is summed into the old zone's days after the
 * rebuild read the transactions. Zone changes are rare admin calls; the
 * lock lasts as long as one tenant's re-sum. */
#define ZONE_PARAM "$2"
/* The customers' local days of tenant $1 in zone $2 (txn_user_local_daily). */
static const char user_sums_sql[] =
    "INSERT INTO txn_user_local_daily " PG_ULD_SUMS(ZONE_PARAM) " WHERE t.tenant_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7";

static int set_fn(PGconn *c, void *arg, fc_err *err) {
  set_args *s = arg;
  pg_args a = {0}, t = {0};
  pg_arg_text(&t, s->tenant);
  int rc = pg_do(c, "LOCK TABLE transactions IN SHARE ROW EXCLUSIVE MODE", NULL, "time zone", err);
  PGresult *r = rc == FC_OK ? pg_exec(c, "SELECT 1 FROM tenants WHERE id = $1", &t, "time zone", err) : NULL;
  if (rc == FC_OK && !r) return pg_failed(err);
  int known = r && PQntuples(r) == 1;
  PQclear(r);
  if (rc == FC_OK && !known) return fc_err_set(err, FC_ENOTFOUND, "no tenant '%s'", s->tenant);
  if (rc == FC_OK) rc = pg_do(c, "DELETE FROM tenant_time_zones WHERE tenant_id = $1", &t, "time zone", err);
  if (rc == FC_OK) rc = pg_do(c, "DELETE FROM txn_local_daily WHERE tenant_id = $1", &t, "time zone", err);
  if (rc == FC_OK) rc = pg_do(c, "DELETE FROM txn_user_local_daily WHERE tenant_id = $1", &t, "time zone", err);
  /* A segments answer kept for the old zone's days no longer holds. */
  if (rc == FC_OK) rc = gw__pg_user_days_bump(c, s->tenant, err);
  if (rc != FC_OK || gw_tz_is_utc(s->z)) return rc;
  pg_arg_text(&a, s->tenant), pg_arg_text(&a, gw_tz_name(s->z));
  rc = pg_do(c,
             "INSERT INTO tenant_time_zones (tenant_id, time_zone, updated_at)"
             " VALUES ($1, $2, extract(epoch FROM now())::bigint)",
             &a, "time zone", err);
  if (rc == FC_OK)
    rc = pg_do(c,
               "INSERT INTO txn_local_daily SELECT tenant_id, partner_id, currency,"
               " txn_local_day(action_date, $2) AS d, transaction_type, max(scale), count(*), sum(amount)"
               " FROM transactions WHERE tenant_id = $1"
               " GROUP BY tenant_id, partner_id, currency, d, transaction_type",
               &a, "local-day rollups", err);
  if (rc == FC_OK) rc = pg_do(c, user_sums_sql, &a, "local-day rollups", err);
  return rc;
}

int gw_pg_tenant_zone_set(gw_pg *pg, const char *tenant, const gw_tz *z, fc_err *err) {
  set_args s = {tenant, z};
  return pg_run(pg, 0, set_fn, &s, err);
}

typedef struct local_args {
  const char *tenant, *zone;
  int64_t since_day;
  gw_daily_set *out;
} local_args;

static int local_fn(PGconn *c, void *arg, fc_err *err) {
  local_args *d = arg;
  char stored[GW_TZ_NAME_MAX + 1];
  zone_args z = {d->tenant, stored};
  int rc = zone_fn(c, &z, err);
  if (rc != FC_OK) return rc;
  if (strcmp(stored, d->zone) != 0) return fc_err_set(err, FC_ENOTFOUND, "no local-day rollups for zone %s", d->zone);
  return pg_daily_read(c, "txn_local_daily", "local-day rollups", d->tenant, d->since_day, d->out, err);
}

int gw_pg_load_local_daily(gw_pg *pg, const char *tenant, const char *zone, int64_t since_day, gw_daily_set *out,
                           fc_err *err) {
  local_args d = {tenant, zone, since_day, out};
  memset(out, 0, sizeof *out);
  int rc = pg_run(pg, 1, local_fn, &d, err);
  if (rc != FC_OK) gw_daily_set_free(out);
  return rc;
}
