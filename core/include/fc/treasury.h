/* treasury.h: one tenant set's accounts, transfers and streams.
 *
 * An fc_treasury is the in-memory data set the treasury features and the
 * projection read. Records are added in batches (records.h); adding a
 * record whose (tenant, id) already exists replaces it, so re-sending the
 * same data is idempotent and a transfer's status can move from pending to
 * completed. A batch applies entirely or not at all.
 */
#ifndef FC_TREASURY_H
#define FC_TREASURY_H

#include <stddef.h>
#include <stdint.h>

#include "fc/money.h"
#include "fc/records.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_treasury fc_treasury;

/* ccy: currency table (copied; NULL = defaults). NULL on out of memory. */
fc_treasury *fc_treasury_create(const fc_currencies *ccy);
void fc_treasury_destroy(fc_treasury *t);

/* Upserts every record of an accounts/transfers/streams/ledger batch. */
int fc_treasury_add_batch(fc_treasury *t, const fc_batch *b, fc_err *err);
/* Upserts one record, copying its strings (the gateway rebuilds a data set
 * from its database this way). The record is validated as a batch row is. */
int fc_treasury_put_account(fc_treasury *t, const fc_account *a, fc_err *err);
int fc_treasury_put_transfer(fc_treasury *t, const fc_transfer *tr, fc_err *err);
int fc_treasury_put_stream(fc_treasury *t, const fc_stream *s, fc_err *err);
/* fc_batch_parse + fc_treasury_add_batch. */
int fc_treasury_load(fc_treasury *t, fc_record_kind kind, fc_format fmt, const char *data, size_t len,
                     fc_load_report *report, fc_err *err);

const fc_currencies *fc_treasury_currencies(const fc_treasury *t);
size_t fc_treasury_accounts(const fc_treasury *t, const fc_account **out);
size_t fc_treasury_transfers(const fc_treasury *t, const fc_transfer **out);
size_t fc_treasury_streams(const fc_treasury *t, const fc_stream **out);
size_t fc_treasury_ledger(const fc_treasury *t, const fc_ledger_entry **out);

/* Tenant ids present, in first-seen order (at most cap written); returns
 * the number of distinct tenants. */
size_t fc_treasury_tenants(const fc_treasury *t, const char **out, size_t cap);
/* A deep copy (what-if scenarios change a copy); NULL on out of memory. */
fc_treasury *fc_treasury_clone(const fc_treasury *t);
/* The transfer / stream of (tenant, id), or NULL. */
const fc_transfer *fc_treasury_find_transfer(const fc_treasury *t, const char *tenant, const char *id);
const fc_stream *fc_treasury_find_stream(const fc_treasury *t, const char *tenant, const char *id);
/* The account of (tenant, id), or NULL. */
const fc_account *fc_treasury_find_account(const fc_treasury *t, const char *tenant, const char *id);

/* The default "now" for a tenant's data (NULL: every tenant): the start of
 * the hour after its newest transfer was created, so that the whole
 * history lies before it. FC_TIME_NONE when there are no transfers. */
int64_t fc_treasury_default_now(const fc_treasury *t, const char *tenant);

/* Direction of a transfer for its tenant: +1 inflow (to one of the tenant's
 * accounts), -1 outflow (from one), 0 internal (between two of its own) or
 * unrelated (neither account is the tenant's). */
int fc_treasury_direction(const fc_treasury *t, const fc_transfer *tr);

#ifdef __cplusplus
}
#endif
#endif /* FC_TREASURY_H */
