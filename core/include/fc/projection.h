/* projection.h: the treasury float projection (docs/spec/projection.md).
 *
 * The Tier-1 rule, per currency of a tenant:
 *   projected = balance - pending outflows scheduled in [now, now+H]
 *               + pending inflows scheduled in [now, now+H]
 *               - sum over active streams of min(remaining, rate x H h)
 * both window ends inclusive (the seed's SQL BETWEEN), each stream's drain
 * the exact rate x seconds rounded half-even to the minor unit once. The
 * hourly path carries the same quantities hour by hour (differences of
 * cumulative drains, so they add up exactly), so path[H] equals the
 * projected balance: hour k (k >= 1) holds what falls in
 * (now+(k-1)h, now+kh], hour 1 also what falls exactly at now.
 *
 * Depletion compares the path with a floor per currency; with the rule the
 * probabilities are 0 or 1. Rebalancing recommendations move money from a
 * currency with room above its floor to one that breaks its floor, through
 * configured exchange rates (stablecoin pegs by default).
 */
#ifndef FC_PROJECTION_H
#define FC_PROJECTION_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/money.h"
#include "fc/runway.h"
#include "fc/status.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_HORIZON_MIN 1
#define FC_HORIZON_MAX 720

typedef struct fc_projection_params {
  int64_t now;           /* as_of; required */
  int horizon_hours;     /* 48 (1..720) */
  const char *tenant_id; /* NULL: the only tenant in the data */
  const char *currency;  /* NULL: every currency of the tenant */
  /* Floors "USDC=25000,USD=10000" or "*=0" (decimal per currency scale);
   * NULL: 0 for every currency. */
  const char *floors;
  /* Exchange rates "USD/USDC=1,EUR/EURC=1": 1 FROM buys RATE TO; each pair
   * works both ways. NULL: the stablecoin pegs USD/USDC, USD/USDT, EUR/EURC. */
  const char *fx;
  double risk_medium; /* P(48h) at or above which risk is medium: 0.1 */
  double risk_high;   /* ... high: 0.5 */
  int lead_hours;     /* recommend moving money this long before the breach: 12 */
} fc_projection_params;

fc_projection_params fc_projection_defaults(void);

typedef struct fc_path_point {
  int hour;
  int64_t at;
  int64_t balance;      /* rule balance, minor units */
  double p10, p50, p90; /* currency units */
  double scheduled_out, scheduled_in, stream_drain, predicted_out, predicted_in;
  /* The 95 % band (currency units): the rule's equals the balance; ml's
   * the simulated paths' 0.025 / 0.975 quantiles; gbdt's the same normal
   * approximation as its p10/p90 at 1.96 sigma. p2_5 <= p10, p97_5 >= p90. */
  double p2_5, p97_5;
} fc_path_point;

/* The JSON names of a path point's figures in the order above, p10 to
 * predicted_in then p2_5 and p97_5 (added after the fields projection.md
 * had first): the projection's "path" rows and the gateway's recorded
 * paths (p10, p50, p90: the first three) write them through this one list
 * (fc_buf_json_fields). */
extern const char *const fc_path_fields[10];

typedef struct fc_stream_runway {
  fc_stream stream; /* a copy: its id and tenant_id are owned by the projection,
                     * which therefore outlives the treasury it came from */
  fc_runway runway;
} fc_stream_runway;

/* What pushes a currency toward its floor within the risk window: a
 * scheduled transfer, a stream, a recurring payment, the usual unscheduled
 * flows, an unseen month end. amount is the expected outflow it brings in
 * the window (minor units; inflows offset, negative); share its part of
 * all expected outflows there. */
typedef struct fc_driver {
  const char *kind;         /* "scheduled_transfer", "stream", "recurring_payment", "unscheduled_outflows",
                       "unscheduled_inflows", "month_end" (static strings) */
  char id[FC_TEXT_MAX + 1]; /* transfer, stream or counterparty id; "" for the others */
  int64_t amount;
  int64_t at; /* when it falls (first occurrence), FC_TIME_NONE for spread flows */
  double share;
  char text[200];
} fc_driver;

#define FC_DRIVERS_MAX 5

typedef struct fc_currency_projection {
  char currency[FC_CCY_MAX];
  int scale;
  int64_t balance; /* sum of the tenant's accounts in this currency */
  int64_t scheduled_out, scheduled_in, stream_drain, projected;
  size_t n_path; /* horizon + 1 */
  fc_path_point *path;
  int64_t floor;
  double p_below[4]; /* 24h, 48h, 72h, 96h; NAN beyond the horizon */
  /* P(below the floor within the whole horizon), whatever its length
   * (the gateway's alerts read it for 1..96 h); not written in the JSON. */
  double p_horizon;
  int64_t expected_at; /* first hour below the floor, FC_TIME_NONE if none */
  const char *risk;    /* "low", "medium", "high" */
  /* ml: the simulated share of paths below the floor before calibration
   * (p_below is after it); NAN when not simulated. */
  double p_raw[4];
  /* Hours after as_of by which P(breached) reaches 0.1, 0.5 and 0.9; NAN
   * when it does not within the horizon (the rule: all three the first
   * hour below the floor). */
  double breach_hours[3];
  size_t n_drivers;
  fc_driver drivers[FC_DRIVERS_MAX]; /* largest first */
  size_t n_streams;
  fc_stream_runway *streams;
  const char *model_name;
  int model_version;
  /* Backtest figures written under model.backtest when has_backtest is set
   * (null otherwise): mean absolute error of the 48 h path and the p10-p90
   * band's coverage (projection_ml.h says how they are measured). */
  int has_backtest;
  double backtest_mae_48h, backtest_coverage_80;
  /* The method's own members of "model" ("method", "message", its
   * calibration ...: docs/spec/projection.md), written by fc_jw as one
   * object whose members fc_jw_members adds after "backtest"; NULL for
   * none. Owned, freed by fc_projection_destroy. */
  char *model_extra;
} fc_currency_projection;

typedef struct fc_recommendation {
  char from_currency[FC_CCY_MAX];
  char to_currency[FC_CCY_MAX];
  int64_t amount; /* in from_currency minor units */
  int from_scale;
  int64_t by;
  char reason[256];
  /* P(to_currency below its floor within the horizon) before and after
   * the move, and the target the amount was chosen for (ml); the rule's
   * are 1, 0 (or 1 for a partial cover) and NAN. */
  double p_before, p_after, target;
} fc_recommendation;

typedef struct fc_projection {
  char tenant_id[FC_TEXT_MAX + 1];
  int64_t as_of;
  int horizon_hours;
  const char *method; /* "rule" or "ml" */
  size_t n_currencies;
  fc_currency_projection *currencies; /* sorted by code */
  size_t n_recommendations;
  fc_recommendation *recommendations;
} fc_projection;

/* The rule projection. Errors: no tenant / several tenants and none named
 * (FC_EINVAL), unknown tenant or currency (FC_ENOTFOUND), bad floors or fx
 * spec (FC_EPARSE), horizon out of range (FC_ERANGE). */
int fc_project_rule(const fc_treasury *t, const fc_projection_params *p, fc_projection **out, fc_err *err);
void fc_projection_destroy(fc_projection *p);
/* Appends the projection as JSON (projection.md). FC_ENOMEM on failure. */
int fc_projection_write_json(const fc_projection *p, fc_buf *out);
/* Appends one currency's depletion drivers as the JSON array the
 * projection's "drivers" field holds (the gateway's alerts reuse it). */
int fc_projection_write_drivers(const fc_currency_projection *c, fc_buf *out);
/* Appends the rule kit of t at p->now (p->tenant_id, else the only tenant),
 * as JSON: what the rule projection's floor-dependent parts (depletion,
 * drivers, recommendations) read besides the answer itself, so that a caller
 * holding a rule answer can work them out for another floor or a shifted
 * path (the Treasury page does, web/ruleshift.js). It does not depend on the
 * floors or the horizon:
 *   {"as_of": ISO,
 *    "transfers": [{currency, id, amount, at, text}]  the pending outflows
 *        scheduled at or after now, in the data's order ("amount": minor
 *        units as a decimal string; "at": epoch seconds; "text": the
 *        driver's text),
 *    "streams": [{currency, id, name, rate_units, rate_decimals, scale,
 *        begin, remaining, dry_hours, dry_text}]  the streams that drain,
 *        in the data's order: drain over a window of k hours from now is
 *        min(remaining, rate x (now + k h - begin)) rounded half-even to the
 *        scale (0 when not positive); "name" is the id as the text cuts it;
 *        from a window of dry_hours on (null: none within 720 h) the text
 *        adds "and runs dry after <dry_text> h"}
 * Errors: no 'now' (FC_EINVAL), the tenant as fc_project_rule. */
int fc_projection_write_rule_kit(const fc_treasury *t, const fc_projection_params *p, fc_buf *out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_PROJECTION_H */
