/* whatif.h: treasury scenarios ("what if we pay this, pause that?").
 *
 * A scenario is a JSON object of changes applied to a copy of a treasury
 * before projecting it, so the treasurer's data is never touched:
 *
 *   {
 *     "transfers": [ transfer rows ],     added, or replacing the same id
 *     "streams":   [ stream rows ],       added, or replacing the same id
 *     "accounts":  [ account rows ],      e.g. a balance as it will be
 *     "cancel_transfers": ["tr-1", ...],  pending transfers that will not happen
 *     "pause_streams":    ["st-1", ...],
 *     "resume_streams":   ["st-2", ...],
 *     "stream_rates":     {"st-3": "0.05", ...}   new flow rate per second (exact, <= 18 decimals)
 *   }
 *
 * Rows are the canonical formats (records.h) and go through the same
 * validation; tenant_id may be left out and is then the scenario's tenant.
 * Every member is optional; an unknown member is an error (a typo must not
 * silently project the baseline). Ids that do not exist are errors too.
 */
#ifndef FC_WHATIF_H
#define FC_WHATIF_H

#include <stddef.h>

#include "fc/projection.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Applies the scenario (JSON text) for `tenant` to a copy of base and
 * returns the copy in *out (destroy with fc_treasury_destroy). tenant NULL:
 * the only tenant of base. On any error *out is NULL and base is unchanged. */
int fc_whatif_apply(const fc_treasury *base, const char *tenant, const char *scenario_json, size_t len,
                    fc_treasury **out, fc_err *err);

/* The same for an already parsed scenario object (e.g. a member of a
 * request's options). */
struct fc_json;
int fc_whatif_apply_value(const fc_treasury *base, const char *tenant, const struct fc_json *scenario,
                          fc_treasury **out, fc_err *err);

/* fc_whatif_apply + fc_project_rule with params p (p->tenant_id is the
 * scenario's tenant). */
int fc_whatif_project(const fc_treasury *base, const char *scenario_json, size_t len, const fc_projection_params *p,
                      fc_projection **out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_WHATIF_H */
