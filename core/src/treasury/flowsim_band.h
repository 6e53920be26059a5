/* flowsim_band.h: the ml projection's 95 % band from its simulated paths
 * (flowsim_band.c); internal to the core, called by flowsim.c. */
#ifndef FC_FLOWSIM_BAND_H
#define FC_FLOWSIM_BAND_H

#include "fc/projection.h"

/* q025 / q975 hold, for hours k = 1..H at index k-1, the 0.025 / 0.975
 * quantiles (linear interpolation, as the p10/p90) of the simulated
 * cumulative unscheduled flow, already scaled by the calibration's band
 * scale: sets each path point k of cp's p2_5 / p97_5 to the point's
 * known-flow balance plus them, kept outside p10..p90 (set before). */
void fc__flowsim_band95(const double *q025, const double *q975, int H, fc_currency_projection *cp);

#endif /* FC_FLOWSIM_BAND_H */
