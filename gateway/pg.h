/* pg.h: the gateway's PostgreSQL engine, the second implementation of
 * db.h's contract (built when libpq is found: FC_WITH_PG).
 *
 * gw_db_open hands a libpq URI (postgresql://USER@HOST:PORT/DB) to
 * gw_pg_open, and every gw_db_* function dispatches to its gw_pg_* twin
 * here; the SQLite functions stay where they are. The guarantees are
 * db.h's: usage only grows and closed months are immutable, model
 * versions are immutable (triggers in the database, so no client can
 * break them), ingestion is idempotent by (tenant, id) with created /
 * updated / unchanged counts, and the schema moves by numbered migrations
 * (table schema_migrations) applied under an advisory lock, so nodes
 * starting together migrate once. Connections come from a small pool; a
 * connection found broken (a restarted server) is dropped, and a call
 * whose first statement failed on a stale connection is retried once on a
 * fresh one. Failures return FC_ECORRUPT with the server's message, or
 * FC_EABORTED when the server cannot be reached (answered 503).
 */
#ifndef GW_PG_H
#define GW_PG_H

#include <string.h>

#include "db.h"
#include "db_perf.h"
#include "db_rollups.h"
#include "db_user_days.h"
#include "db_sessions.h"
#include "experiments.h"
#include "scenarios.h"
#include "track.h"

typedef struct gw_pg gw_pg;

/* 1 when s names a PostgreSQL database (postgresql:// or postgres://);
 * inline so a build without libpq still recognises (and refuses) one. */
static inline int gw_pg_is_uri(const char *s) {
  return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}
int gw_pg_open(const char *uri, gw_pg **out, fc_err *err);
void gw_pg_close(gw_pg *pg);

int gw_pg_is_empty(gw_pg *pg, int *empty, fc_err *err);
int gw_pg_store_batches(gw_pg *pg, const char *tenant, const fc_batch *const *batches, size_t n,
                        gw_store_counts *counts, fc_err *err);
int gw_pg_default_tenant(gw_pg *pg, char *out, size_t cap, fc_err *err);
int gw_pg_load_tenant(gw_pg *pg, const char *tenant, fc_treasury *t, fc_err *err);

/* pg_tenancy.c */
int gw_pg_tier_put(gw_pg *pg, const gw_tier *t, int only_missing, fc_err *err);
int gw_pg_tiers_each(gw_pg *pg, gw_tier_fn fn, void *arg, fc_err *err);
int gw_pg_tenant_create(gw_pg *pg, const char *id, const char *name, int64_t now, fc_err *err);
int gw_pg_tenant_exists(gw_pg *pg, const char *id, int *exists, fc_err *err);
/* old_id: revoked in the same transaction (rotation); seeded: a
 * --seed-demo key (revokes the earlier seeded keys). */
int gw_pg_key_insert(gw_pg *pg, const gw_key_info *k, const char *old_id, int seeded, int64_t now, fc_err *err);
int gw_pg_key_get(gw_pg *pg, const char *id, gw_key_info *out, fc_err *err);
int gw_pg_key_set_tier(gw_pg *pg, const char *id, const char *tier, fc_err *err);
int gw_pg_key_revoke(gw_pg *pg, const char *id, int64_t now, fc_err *err);
int gw_pg_tenants_write_json(gw_pg *pg, fc_buf *out, size_t *count, fc_err *err);
int gw_pg_keys_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err);
int gw_pg_keys_each(gw_pg *pg, gw_key_fn fn, void *arg, fc_err *err);
int gw_pg_usage_add(gw_pg *pg, const gw_usage_row *rows, size_t n, fc_err *err);
int gw_pg_usage_served_since(gw_pg *pg, int64_t since, gw_usage_tenant_fn fn, void *arg, fc_err *err);
int gw_pg_usage_write(gw_pg *pg, const char *tenant, int64_t from, int64_t to, int by_hour, int csv, fc_buf *out,
                      int64_t *total, fc_err *err);
int gw_pg_usage_calls(gw_pg *pg, const char *tenant, const char *key_id, int status_class, int64_t *out, fc_err *err);
int gw_pg_load_transactions(gw_pg *pg, const char *tenant, int64_t since, gw_txn_set *out, fc_err *err);

/* pg_lease.c (lease.h): *got = 1 and *conn the session holding the
 * advisory lock `name`, or *got = 0 when another session holds it. */
int gw_pg_lease_try(gw_pg *pg, const char *name, void **conn, int *got, fc_err *err);
void gw_pg_lease_release(gw_pg *pg, void *conn);

/* pg_models.c */
int gw_pg_model_insert(gw_pg *pg, gw_model_version *v, fc_err *err);
int gw_pg_model_champion(gw_pg *pg, const char *tenant, const char *kind, const char *currency, const char *granularity,
                         gw_model_version *out, fc_err *err);
int gw_pg_models_write_json(gw_pg *pg, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, fc_buf *out, size_t *count, fc_err *err);
int gw_pg_transaction_tenants(gw_pg *pg, gw_tenant_fn fn, void *arg, fc_err *err);
int gw_pg_treasury_tenants(gw_pg *pg, gw_tenant_fn fn, void *arg, fc_err *err);

/* pg_rollups.c (db_rollups.h; migration 3's trigger keeps them) */
int gw_pg_load_daily(gw_pg *pg, const char *tenant, int64_t since_day, gw_daily_set *out, fc_err *err);

/* pg_user_days.c (db_user_days.h; migration_user_daily's trigger keeps them) */
int gw_pg_load_user_days(gw_pg *pg, const char *tenant, const char *zone, const char *currency, const char *partner,
                         int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err);
/* the store bumps it per batch (gw__pg_user_days_bump) */
int gw_pg_user_days_version(gw_pg *pg, const char *tenant, int64_t *out, fc_err *err);

/* pg_perf.c (db_perf.h) */
int gw_pg_prediction_insert(gw_pg *pg, const gw_prediction *p, int *stored, fc_err *err);
int gw_pg_predictions_each(gw_pg *pg, const char *tenant, const char *kind, gw_prediction_fn fn, void *arg,
                           fc_err *err);
int gw_pg_realized_put(gw_pg *pg, const char *prediction_id, const gw_realized *r, size_t n, fc_err *err);
int gw_pg_realized_window(gw_pg *pg, const char *tenant, const char *kind, const char *currency,
                          const char *granularity, const char *source, int64_t version, size_t max, gw_realized *out,
                          size_t *n, int64_t *origin, fc_err *err);
int gw_pg_brier_put(gw_pg *pg, const char *prediction_id, int hours, double p, int outcome, fc_err *err);
int gw_pg_brier_write(gw_pg *pg, const char *tenant, const char *kind, const char *currency, int prom, fc_buf *out,
                      size_t *count, fc_err *err);
int gw_pg_calibration_write(gw_pg *pg, const char *tenant, const char *kind, const char *currency, fc_buf *out,
                            size_t *count, fc_err *err);
int gw_pg_performance_write(gw_pg *pg, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, int prom, fc_buf *out, size_t *count, fc_err *err);

/* pg_experiments.c (experiments.h) */
int gw_pg_experiment_for(gw_pg *pg, const char *tenant, const char *kind, const char *currency, gw_experiment *out,
                         fc_err *err);
int gw_pg_experiment_get(gw_pg *pg, const char *tenant, const char *id, gw_experiment *out, fc_err *err);
int gw_pg_experiment_insert(gw_pg *pg, const gw_experiment *e, fc_err *err);
int gw_pg_experiments_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err);
int gw_pg_experiment_predictions(gw_pg *pg, const gw_experiment *e, gw_arm_pred **out, size_t *n, fc_err *err);

/* pg_scenarios.c (scenarios.h) */
int gw_pg_scenario_insert(gw_pg *pg, const gw_scenario *s, fc_err *err);
int gw_pg_scenario_update(gw_pg *pg, const char *tenant, const char *id, const char *name, const char *scenario,
                          int64_t now, gw_scenario *out, fc_err *err);
int gw_pg_scenario_get(gw_pg *pg, const char *tenant, const char *id, gw_scenario *out, fc_err *err);
int gw_pg_scenario_delete(gw_pg *pg, const char *tenant, const char *id, fc_err *err);
int gw_pg_scenarios_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err);

/* pg_track.c (track.h) */
int gw_pg_track_each(gw_pg *pg, const char *tenant, const char *kind, const char *currency, size_t limit,
                     gw_track_fn fn, void *arg, fc_err *err);

/* pg_sessions.c (db_sessions.h) */
int gw_pg_session_insert(gw_pg *pg, const gw_session_info *s, fc_err *err);
int gw_pg_session_revoke(gw_pg *pg, const char *id, int64_t now, size_t *n, fc_err *err);
int gw_pg_sessions_revoke_key(gw_pg *pg, const char *key_id, int64_t now, size_t *n, fc_err *err);
int gw_pg_session_get(gw_pg *pg, const char *id, int64_t now, gw_session_info *out, int *found, fc_err *err);
int gw_pg_sessions_load(gw_pg *pg, int64_t now, gw_session_fn fn, void *arg, fc_err *err);

#endif /* GW_PG_H */
