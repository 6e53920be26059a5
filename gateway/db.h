/* db.h: the gateway's SQLite store, the only layer that knows SQL.
 *
 * Tables accounts, transfers and streams hold the canonical records keyed
 * by (tenant_id, id), amounts as integer minor units with their scale, and
 * timestamps as epoch seconds (NULL for "none"). The database runs in WAL
 * mode so readers on the thread pool never block a writer. A gw_db is safe
 * to use from several threads: each call borrows a connection from a small
 * pool. Storage failures return FC_ECORRUPT with SQLite's message in err.
 */
#ifndef GW_DB_H
#define GW_DB_H

#include <stddef.h>
#include <stdint.h>

#include "fc/records.h"
#include "fc/status.h"
#include "fc/treasury.h"

typedef struct gw_db gw_db;

/* Opens (creating if needed) the database at path and its schema. */
int gw_db_open(const char *path, gw_db **out, fc_err *err);
void gw_db_close(gw_db *db);

/* *empty = 1 when no table holds a row. */
int gw_db_is_empty(gw_db *db, int *empty, fc_err *err);
/* Upserts every record of an accounts, transfers or streams batch in one
 * transaction: all rows or none. Other kinds: FC_EUNSUPPORTED. */
int gw_db_store_batch(gw_db *db, const fc_batch *b, fc_err *err);
/* Several batches in one transaction (the demo tenant's three files). */
int gw_db_store_batches(gw_db *db, const fc_batch *const *batches, size_t n, fc_err *err);
/* The tenant to answer for when the request names none: the only tenant
 * with accounts, else "demo" if present. FC_ENOTFOUND when there is no
 * data, FC_EINVAL when several tenants exist and none is "demo". */
int gw_db_default_tenant(gw_db *db, char *out, size_t cap, fc_err *err);
/* Puts every account, transfer and stream of tenant into t. */
int gw_db_load_tenant(gw_db *db, const char *tenant, fc_treasury *t, fc_err *err);

#endif /* GW_DB_H */
