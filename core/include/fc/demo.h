/* demo.h: a realistic demo tenant in the canonical CSV formats.
 *
 * Deterministic for a seed: hour-of-day and day-of-week profiles,
 * month-end spikes, weekly payroll, daily sweeps, monthly vendors, customer
 * receipts, pending scheduled transfers and ~35 payment streams with
 * varied runway, sized like the seed's tenant (~3,500 transfers over 11
 * days). The CLI writes the buffers to files; the page can call it too.
 */
#ifndef FC_DEMO_H
#define FC_DEMO_H

#include <stdint.h>

#include "fc/buf.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_demo_params {
  uint64_t seed;         /* 42 */
  const char *tenant_id; /* "demo" */
  int64_t now;           /* end of history: 2025-12-01T12:00:00Z */
  int history_days;      /* 11 */
} fc_demo_params;

fc_demo_params fc_demo_defaults(void);

/* Appends accounts.csv, transfers.csv and streams.csv to the three buffers. */
int fc_demo_generate(const fc_demo_params *p, fc_buf *accounts, fc_buf *transfers, fc_buf *streams, fc_err *err);

/* Appends transactions.csv (docs/spec/formats.md, partner_id = the tenant): `days`
 * days (30..730) of the tenant's customers' purchases and refunds up to
 * p->now, from p->seed. About 600 customers in six kinds the segmentation
 * should tell apart: loyal frequent buyers, regulars, occasional big
 * spenders, customers who stop buying about 60 days before now, new
 * customers of the last 45 days, and one-time buyers. Revenue grows
 * slowly, weekends sell 30 % more, ~3 % of purchases are refunded a few
 * days later. Uses no libm function, so native and WASM agree. */
int fc_demo_transactions(const fc_demo_params *p, int days, fc_buf *out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_DEMO_H */
