/* flowsim_band.c: the 95 % band of the ml projection, read off the same
 * simulated paths as its p10/p50/p90 (flowsim.c), so the 2.5 % and 97.5 %
 * bounds are the model's own quantiles, not a widened 80 % band. The band
 * scale (calibrated per horizon bucket on rolling origins for p10-p90) is
 * already applied to the paths, so the 95 % band is scaled alike; its own
 * coverage is measured by the gateway on realized balances
 * (performance.h), not calibrated here. */
#include "flowsim_band.h"

#include "fc/money.h"

void fc__flowsim_band95(const double *q025, const double *q975, int H, fc_currency_projection *cp) {
  for (int k = 1; k <= H && (size_t)k < cp->n_path; k++) {
    fc_path_point *pt = &cp->path[k];
    double base = fc_money_to_double(pt->balance, cp->scale);
    double lo = base + q025[k - 1], hi = base + q975[k - 1];
    /* the same sample's quantiles are ordered; this only absorbs rounding
     * between the two ways p10/p90 and these are computed */
    pt->p2_5 = lo < pt->p10 ? lo : pt->p10;
    pt->p97_5 = hi > pt->p90 ? hi : pt->p90;
  }
}
