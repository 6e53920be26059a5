/* flowsim_band.c: the 95 % band of the ml projection, read off the same
 * simulated paths as its p10/p50/p90 (flowsim.c), so the 2.5 % and 97.5 %
 * bounds are the model's own quantiles, not a widened 80 % band. The band
 * scale (calibrated per horizon bucket on rolling origins for p10-p90) is
 * already applied to the paths, so the 95 % band is scaled alike; its own
 * coverage is measured by the gateway on realized balances
 * (performance.h), not calibrated here. */
#include "flowsim_band.h"

#include <stdlib.h>

#include "fc/money.h"
#include "internal.h"

/* The q-quantile (R type 7) of sorted v[0..n). */
static double sorted_quantile(const double *v, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  double hi = i + 1 < n ? v[i + 1] : v[i];
  return v[i] + (pos - (double)i) * (hi - v[i]);
}

int fc__flowsim_band95(const double *C, int paths, int H, fc_currency_projection *cp) {
  size_t n = paths > 0 ? (size_t)paths : 0;
  double *col;
  if (n == 0 || H <= 0) return FC_OK; /* nothing simulated: the rule's bounds stay */
  if ((col = fc__mallocarray(n, sizeof *col)) == NULL) return FC_ENOMEM;
  for (int k = 1; k <= H && (size_t)k < cp->n_path; k++) {
    fc_path_point *pt = &cp->path[k];
    double base = fc_money_to_double(pt->balance, cp->scale), lo, hi;
    for (size_t p = 0; p < n; p++) col[p] = C[p * (size_t)H + (size_t)(k - 1)];
    qsort(col, n, sizeof *col, fc__cmp_double);
    lo = base + sorted_quantile(col, n, 0.025);
    hi = base + sorted_quantile(col, n, 0.975);
    /* the same sample's quantiles are ordered; this only absorbs rounding
     * between the two ways p10/p90 and these are computed */
    pt->p2_5 = lo < pt->p10 ? lo : pt->p10;
    pt->p97_5 = hi > pt->p90 ? hi : pt->p90;
  }
  fc__free(col);
  return FC_OK;
}
