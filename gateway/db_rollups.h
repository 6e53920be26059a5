/* db_rollups.h: daily rollups of a tenant's transactions, kept by
 * ingestion, so that insights read O(days) rows instead of O(transactions).
 *
 * Table txn_daily holds per (tenant, partner, currency, UTC day,
 * transaction type) the number of transactions and the sum of their
 * amounts in minor units (day = floor(action_date / 86400)). It changes in
 * the same SQL transaction as the transactions it sums (db.c's upsert
 * calls the hooks below): a created row adds itself, an updated row
 * subtracts its old values and adds its new ones, an unchanged (re-sent)
 * row cancels out; a key whose count reaches 0 is deleted. The deltas of a
 * batch are summed in memory first, so a batch costs one upsert per
 * distinct key it touches, not per row. Only plain portable SQL is used
 * (INSERT ... ON CONFLICT DO UPDATE, DELETE), which PostgreSQL reads as
 * SQLite does. A file from before the table is back-filled from its
 * transactions when the schema is created.
 *
 * On PostgreSQL a trigger on transactions keeps the same table (pg.c's
 * migration 3) and pg_rollups.c reads it.
 *
 * Per-user rollups are not kept: segments fold per (user, day, category),
 * which for their customers is about as many rows as the transactions.
 */
#ifndef GW_DB_ROLLUPS_H
#define GW_DB_ROLLUPS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* A tenant's daily totals with day >= since_day, summed over transaction
 * types, as pseudo-transactions the core sums like raw ones: partner_id,
 * currency, scale, action_date = the day's 00:00 UTC, amount = the day's
 * sum (id, user_id, type and category ""); counts[i] the transactions
 * rows.v[i] stands for. Oldest first. */
typedef struct gw_daily_set {
  gw_txn_set rows;
  size_t *counts;
} gw_daily_set;
int gw_db_load_daily(gw_db *db, const char *tenant, int64_t since_day, gw_daily_set *out, fc_err *err);
void gw_daily_set_free(gw_daily_set *s);

/* Whether insights read the rollups (default 1; the --no-rollup-reads
 * flag of the benchmark's "before" runs turns it off). Maintenance on
 * ingestion never stops. */
void gw_db_set_rollup_reads(gw_db *db, int on);
int gw_db_rollup_reads(gw_db *db);

#endif /* GW_DB_ROLLUPS_H */
