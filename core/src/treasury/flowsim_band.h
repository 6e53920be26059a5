/* flowsim_band.h: the ml projection's 95 % band from its simulated paths
 * (flowsim_band.c); internal to the core, called by flowsim.c. */
#ifndef FC_FLOWSIM_BAND_H
#define FC_FLOWSIM_BAND_H

#include "fc/projection.h"

/* C holds paths x H cumulative unscheduled flows (row p, column k-1 the
 * flow by hour k), already scaled by the calibration's band scale: sets
 * each path point k (1..H) of cp's p2_5 / p97_5 to the point's known-flow
 * balance plus the 0.025 / 0.975 quantile of column k-1 (linear
 * interpolation, as the p10/p90), kept outside p10..p90. FC_ENOMEM. */
int fc__flowsim_band95(const double *C, int paths, int H, fc_currency_projection *cp);

#endif /* FC_FLOWSIM_BAND_H */
