/* db_tz.h: a tenant's stored time zone and its local-day rollups.
 *
 * Table tenant_time_zones holds at most one IANA zone name per tenant
 * (none: UTC). Insights without an explicit utc_offset follow it (tz.h),
 * and so do the retraining jobs (registry.h).
 *
 * Local-day rollups: table txn_local_daily has txn_daily's columns, with
 * day the tenant's local day (gw_tz_local_day) instead of the UTC day,
 * for tenants whose zone is not UTC. Why a second table rather than
 * UTC-hour rollups summed into local days: offsets such as +05:45
 * (Asia/Kathmandu) or +05:30 cut UTC hours, so only rows keyed by the
 * local day itself stay exact for every zone; and txn_daily stays as it
 * is (other readers and the UTC tenants keep it). The price: setting or
 * changing a zone re-sums the tenant's transactions into the new local
 * days, in the same SQL transaction as the zone itself, so readers see
 * either the old zone with its rows or the new zone with its rows.
 *
 * Kept on ingestion in the batch's transaction: on SQLite by db.c's upsert
 * through the hooks in db_internal.h (old rows out, new rows in, summed
 * per key before one upsert each); on PostgreSQL by a trigger that reads
 * the tenant's zone (PostgreSQL's own zone data, which on Debian is the
 * same system tzdata the gateway reads).
 */
#ifndef GW_DB_TZ_H
#define GW_DB_TZ_H

#include <stdint.h>

#include "db.h"
#include "db_rollups.h"
#include "tz.h"

/* The tenant's zone name into name[GW_TZ_NAME_MAX + 1]; "" when none is
 * stored (UTC). */
int gw_db_tenant_zone(gw_db *db, const char *tenant, char *name, fc_err *err);
/* Stores zone z for tenant (a UTC zone removes the row) and rebuilds the
 * tenant's txn_local_daily and txn_user_local_daily (db_user_days.h) rows
 * in the same transaction, bumping its customer days' version (a kept
 * segments answer was of the old zone's days). FC_ENOTFOUND for an
 * unknown tenant. */
int gw_db_tenant_zone_set(gw_db *db, const char *tenant, const gw_tz *z, fc_err *err);
/* As gw_db_load_daily (db_rollups.h) from txn_local_daily: action_date is
 * the local day's wall midnight (day * 86400, wall time, tz.h). Only when
 * the stored zone is still `zone` (checked in the same read), else
 * FC_ENOTFOUND: the caller then reads raw rows. */
int gw_db_load_local_daily(gw_db *db, const char *tenant, const char *zone, int64_t since_day, gw_daily_set *out,
                           fc_err *err);

/* The PostgreSQL engine's (pg_tz.c; migration_time_zones keeps the rows). */
typedef struct gw_pg gw_pg;
int gw_pg_tenant_zone(gw_pg *pg, const char *tenant, char *name, fc_err *err);
int gw_pg_tenant_zone_set(gw_pg *pg, const char *tenant, const gw_tz *z, fc_err *err);
int gw_pg_load_local_daily(gw_pg *pg, const char *tenant, const char *zone, int64_t since_day, gw_daily_set *out,
                           fc_err *err);

#endif /* GW_DB_TZ_H */
