/* db_user_days.h: per-customer daily rollups of a tenant's transactions,
 * kept by ingestion, from which segments are computed without reading the
 * raw rows.
 *
 * Table txn_user_daily holds per (tenant, currency, partner, user, UTC day,
 * transaction type, category) exactly what core/segments folds a
 * transaction into (fc_seg_day): the number of transactions, how many are
 * purchases (not refunds, amount > 0) and the sums of their amounts and of
 * the refunds' |amount| in minor units. Like txn_daily (db_rollups.h) it
 * changes in the ingesting SQL transaction: db_rollups.c's hooks feed
 * every created row (+1), every updated row's old values (-1) and new ones
 * (+1) into a per-batch delta map, applied as one upsert per distinct key
 * (re-sent rows cancel out; a key whose count reaches 0 is deleted). A file
 * from before the table is back-filled when the schema is created. On
 * PostgreSQL a trigger keeps the same table (pg.c's migration_user_daily).
 *
 * A key is per day, so from/to on midnights select exact sums; segments of
 * a day range never see rows outside it.
 *
 * A tenant with a time zone (db_tz.h) also has txn_user_local_daily: the
 * same rows with day its local day, so that its segments (computed over
 * wall times) read rollups too. Kept by the same batches (db_tz.c's
 * local-day hooks feed a second delta map; PostgreSQL: the local-day
 * trigger, migration_user_local_daily), re-summed in the transaction that
 * sets or changes the zone, which also bumps the tenant's version.
 *
 * SQLite reads neither table row by row: db_user_packs.c keeps both packed
 * per (tenant, UTC or local, currency, day), one blob of fixed records
 * whose strings are ids of a per-tenant dictionary (txn_user_names), each
 * day a batch changed re-packed from its rollup rows in the batch's
 * transaction, a tenant's local packs rebuilt with its zone. A read of a
 * million customer days is then a thousand blobs and the tenant's names,
 * not a million rows of four strings to intern. PostgreSQL reads the rows.
 */
#ifndef GW_DB_USER_DAYS_H
#define GW_DB_USER_DAYS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "fc/segments.h"

/* One distinct string of a set: its text (in the set's blocks) and length. */
typedef struct gw_user_str {
  const char *s;
  size_t len;
} gw_user_str;

/* The columns of a row, for gw__user_days_intern. */
enum { GW_UD_PARTNER, GW_UD_USER, GW_UD_TYPE, GW_UD_CATEGORY, GW_UD_COLS };
#define GW_UD_RECENT 8

/* A tenant's customer days in one currency: rows[0..n), then more[0..n_more), with their strings
 * owned by the set: each distinct string once, strings[0..n_strings), its
 * text in blocks that never move (the rows point into them). slot: a hash
 * table of str_cap entries, each the string's hash (high 32 bits) and
 * index + 1 (low 32; 0: empty), 8 bytes so that the table of a tenant's
 * customers stays in cache. recent: per column the indices + 1 of the last
 * few distinct strings it gave (partners, types and categories are few).
 * currency points at the set's copy. */
typedef struct gw_user_days {
  fc_seg_day *rows;
  size_t n;
  fc_seg_day *more; /* a split read's later days, after rows (joining them copied 40 MB) */
  size_t n_more;
  gw_user_str *strings;
  size_t n_strings, strings_cap;
  uint64_t *slot;
  size_t str_cap;
  char **blocks;
  size_t n_blocks;
  char *block_at, *block_end; /* the free part of the last block */
  uint32_t recent[GW_UD_COLS][GW_UD_RECENT];
  char currency[FC_CCY_MAX];
} gw_user_days;

/* The rows of (tenant, currency) with from_day <= day < to_day (SQLite:
 * from the day packs), of one
 * partner when partner is not NULL. With a zone (not NULL or ""), the
 * rows of txn_user_local_daily, whose days are the tenant's local days
 * (db_tz.h), only while the tenant's stored zone is that zone: else
 * FC_ENOTFOUND (the caller folds raw rows). */
int gw_db_load_user_days(gw_db *db, const char *tenant, const char *zone, const char *currency, const char *partner,
                         int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err);
void gw_user_days_free(gw_user_days *s);

/* fc_segments_run_day_parts over the set's rows and more, in that order. */
int gw_user_days_segments(const gw_user_days *s, fc_segments_params p, fc_segments_result *out, fc_err *err);

/* The tenant's version of its rows in txn_user_daily: a counter bumped in
 * every ingesting transaction that changed them (0 before the first), so
 * an answer computed from them stays valid while it holds. Read it before
 * the rows. PostgreSQL: the store bumps it per batch too
 * (pg.c's put_batch, migration_user_daily_versions). */
int gw_db_user_days_version(gw_db *db, const char *tenant, int64_t *out, fc_err *err);

/* For the engines' readers: the set's one copy of t[0..len) as column col
 * (GW_UD_*) of a row (NULL when out of memory). */
const char *gw__user_days_intern(gw_user_days *s, int col, const char *t, size_t len);

#endif /* GW_DB_USER_DAYS_H */
