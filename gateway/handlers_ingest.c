/* handlers_ingest.c: POST /v1/{transactions,transfers,streams,accounts}.
 *
 * The body is a JSON array of objects or NDJSON in the canonical formats,
 * read by the core's fc_batch_parse, the one validator every format goes
 * through: a bad batch is refused whole (422) with every bad row's index
 * (array) or line (NDJSON) and reason. Rows of accounts, transfers and
 * streams carry a tenant_id, which must be the key's tenant: a row naming
 * another tenant refuses the batch (403, rows listed), so a key can never
 * write into another tenant. Partner transactions carry no tenant_id and
 * are stored under the key's tenant. A good batch is upserted by
 * (tenant, id) in one transaction -- sending it again changes nothing --
 * and the answer counts its rows as created, updated and unchanged
 * (gw_store_counts; "stored" is their sum, kept for older clients). When a
 * row was created or updated, the tenant's cached insights are dropped and
 * its retraining is queued once the batch has committed (registry.h:
 * revenue models for transactions, the flow model for treasury rows); the
 * answer's retrain_job is that job's id. A batch that changed nothing
 * queues nothing and answers "retrain_job": null. Bodies are limited to 1 MiB
 * by the HTTP reader (413); JSON that does not parse, nesting deeper than
 * the core's 64 levels included, is a 400 invalid_body.
 */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "db.h"
#include "handlers.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif
#include "registry.h"

static int kind_of_path(const char *path, fc_record_kind *kind) {
  return fc_record_kind_parse(path + strlen("/v1/"), kind) == FC_OK;
}

static const char *row_tenant(const fc_batch *b, size_t i) {
  switch (fc_batch_kind(b)) {
  case FC_RECORD_ACCOUNTS: return fc_batch_accounts(b)[i].tenant_id;
  case FC_RECORD_TRANSFERS: return fc_batch_transfers(b)[i].tenant_id;
  case FC_RECORD_STREAMS: return fc_batch_streams(b)[i].tenant_id;
  default: return NULL;
  }
}

/* Lists rows whose tenant_id is not the caller's; 1 when there are any. */
static int foreign_rows(const fc_batch *b, const char *tenant, fc_load_report *rep) {
  memset(rep, 0, sizeof *rep);
  rep->n_rows = fc_batch_count(b);
  for (size_t i = 0; i < rep->n_rows; i++) {
    const char *t = row_tenant(b, i);
    if (!t || strcmp(t, tenant) == 0) continue;
    if (rep->n_listed < FC_REPORT_MAX) {
      rep->errors[rep->n_listed].row = i;
      snprintf(rep->errors[rep->n_listed].msg, sizeof rep->errors[0].msg, "row %zu: tenant_id is not this key's tenant",
               i);
      rep->n_listed++;
    }
    rep->n_errors++;
  }
  return rep->n_errors > 0;
}

GW_HANDLER(gw_handle_ingest) {
  fc_record_kind kind;
  fc_batch *b = NULL;
  fc_load_report rep;
  fc_err err;
  if (!kind_of_path(req->path, &kind)) return gw_fail(res, GW_ENOTFOUND, "no record kind at %s", req->path);
  fc_err_clear(&err);
  memset(&rep, 0, sizeof rep);
  int rc = fc_batch_parse_strict(kind, FC_FORMAT_JSON, req->body.data ? req->body.data : "", req->body.len, NULL, &b,
                                 &rep, &err);
  if (rc != FC_OK) {
    if (rep.n_listed > 0) return gw_fail_rows(res, GW_EROWS, err.msg, &rep);
    /* Malformed, or nested deeper than the core's limit (FC_ERANGE): a
     * 400 either way. 413 means size, and the HTTP reader has already
     * refused bodies over GW_MAX_BODY; the core's other FC_ERANGE here,
     * a batch over its row limit, cannot come from a body that small. */
    return gw_fail(res, GW_EBODY, "%s", err.msg[0] ? err.msg : fc_strerror(rc));
  }
  if (foreign_rows(b, call->tenant, &rep)) {
    fc_batch_destroy(b);
    return gw_fail_rows(res, GW_ETENANT_ROWS, "rows name another tenant than the key's; nothing stored", &rep);
  }
  gw_store_counts n;
  rc = gw_db_store_batch(app->db, call->tenant, b, &n, &err);
  if (rc == FC_OK) {
    int changed = n.created + n.updated > 0;
    unsigned long long job = 0;
    if (changed) gw_cache_invalidate(app->cache, call->tenant);
    /* Queued before the bump below: a retry after a failed bump stores
     * nothing new, so it would queue nothing. */
    if (app->registry && changed) {
      /* Transactions retrain the revenue models of the day and the
       * calendar grids (each its own champion), so that week, month and
       * quarter forecasts answer from the registry, not a refit; the
       * registry merges the requests that arrive while a job waits, so a
       * stream of batches trains once per wait. Treasury rows refit the
       * flow model that method=ml projections reuse. */
      gw_retrain_opts o = gw_retrain_defaults();
      o.what = kind == FC_RECORD_TRANSACTIONS ? GW_RETRAIN_REVENUE : GW_RETRAIN_TREASURY;
      if (kind == FC_RECORD_TRANSACTIONS) o.granularities |= GW_GRAN_WEEK | GW_GRAN_MONTH | GW_GRAN_QUARTER;
      job = (unsigned long long)gw_registry_request(app->registry, call->tenant, &o);
    }
#ifdef FC_WITH_REDIS
    /* Other nodes key their cached insights by the tenant's shared
     * generation. Bumped after every store, changed or not, so that a
     * retry of a batch whose bump failed (503 below) still bumps. */
    if (app->shared && gw_shared_bump_cache(app->shared, call->tenant) != FC_OK) {
      fc_batch_destroy(b);
      return gw_fail(res, GW_ERETRY,
                     "stored (%zu created, %zu updated, %zu unchanged), but the other nodes' "
                     "cached insights could not be invalidated (the shared store is "
                     "unreachable); retrying the same request is safe: ingestion is idempotent "
                     "and the retry invalidates them",
                     n.created, n.updated, n.unchanged);
    }
#endif
    res->status = 200;
    res->content_type = "application/json";
    fc_buf_printf(&res->body, "{\"kind\":\"%s\",\"tenant_id\":", fc_record_kind_name(kind));
    fc_buf_json_str(&res->body, call->tenant);
    fc_buf_printf(&res->body, ",\"stored\":%zu,\"created\":%zu,\"updated\":%zu,\"unchanged\":%zu", fc_batch_count(b),
                  n.created, n.updated, n.unchanged);
    if (app->registry && !changed) fc_buf_puts(&res->body, ",\"retrain_job\":null");
    else if (app->registry) fc_buf_printf(&res->body, ",\"retrain_job\":%llu", job);
    fc_buf_putc(&res->body, '}');
  } else {
    rc = gw_fail_err(res, rc, &err);
  }
  fc_batch_destroy(b);
  return rc;
}
