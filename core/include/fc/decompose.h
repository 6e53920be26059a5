/* decompose.h: trend, seasonal components, changepoints and anomaly flags
 * of a history ("trend analysis").
 *
 * Two decompositions of y = trend + sum of seasonal rows + remainder:
 *  - FC_DECOMPOSE_MSTL: MSTL (mstl.h) at the given periods (without
 *    periods, the freq's default periods, freq.h: hour 24,168; day 7; week
 *    52; month 12); one row per period, all zero when the history is
 *    shorter than two of its cycles. By default (robust = 1) each STL run
 *    is FC_STL_ROBUST_REFIT (mstl.h): R's 15 bisquare reweighting
 *    iterations find the gross outliers, and a least-squares refit
 *    without them gives the components. An isolated spike such as a
 *    holiday peak then stays in its own remainder instead of leaking into
 *    the seasonal value of its phase in neighbouring cycles and the trend
 *    around it, which gave its neighbours remainders of the opposite sign
 *    and flagged them too; ordinary points keep plain STL's remainders,
 *    so the band is as wide as without the spike (R's robust fit alone
 *    would shrink the MAD and flag many ordinary points). robust = 0 is
 *    plain MSTL, as the "mstl" forecasting model uses; the robust fit
 *    costs about 15 times as much. Changepoints come from a Prophet-style
 *    piecewise-linear fit (prophet.h, no seasonality) of the MSTL trend
 *    with sigma fixed at the RMS remainder (the data's noise), solved
 *    exactly (lasso.h). A lone period of 1 (R's frequency of a
 *    non-seasonal series) means no season: no seasonal rows, the trend a
 *    local loess (11 steps, as MSTL's when no period fits) and the rest
 *    remainder.
 *  - FC_DECOMPOSE_PROPHET: the Prophet-style model's in-sample fit; one
 *    row per component (prophet.h names: season_P, holidays,
 *    business_hours, month_end, regressors), remainder = y - fit, and the
 *    changepoints of its trend. Without periods (or with the lone period
 *    1) its seasonalities are automatic (they need a calendar step:
 *    fc_decompose_set_series gives it from the times, or from the freq).
 * A changepoint is reported where the fitted rate change is at least
 * changepoint_threshold in Prophet's scaled units (|delta| >= 0.01, as
 * Prophet's changepoint plot).
 *
 * Anomalies: the band is expected = y - remainder plus, with
 * FC_ANOMALY_ROBUST, median(remainder) -/+ k robust sigmas (1.4826 MAD of
 * the remainder, so a few spikes do not widen it), or with
 * FC_ANOMALY_INTERVAL the model's own in-sample interval at `level`
 * (expected -/+ z sigma, sigma the Prophet fit's noise sd or the RMS MSTL
 * remainder). A history point outside the band is an anomaly. A remainder
 * whose robust spread is 0 (an exact fit) flags nothing.
 */
#ifndef FC_DECOMPOSE_H
#define FC_DECOMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/freq.h"
#include "fc/model.h"
#include "fc/prophet.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_DECOMPOSE_MAX_COMP (FC_PROPHET_MAX_SEASONS + 4)

enum { FC_DECOMPOSE_MSTL = 0, FC_DECOMPOSE_PROPHET = 1 };
enum { FC_ANOMALY_ROBUST = 0, FC_ANOMALY_INTERVAL = 1 };

typedef struct fc_decompose_params {
  int method;                     /* FC_DECOMPOSE_MSTL (default) or _PROPHET */
  size_t periods[FC_MAX_PERIODS]; /* ascending, in steps */
  size_t nperiods;                /* MSTL needs >= 1 ({1}: none), or a freq */
  fc_freq freq;                   /* FC_FREQ_NONE (default), or the step of
                                      timestamped input: MSTL's periods when
                                      nperiods is 0, Prophet's step */
  int robust;                     /* MSTL: robust (1, default) or plain STL */
  /* Prophet settings (timestamps, holidays, regressors, ...); when its
   * nseasons is 0 and periods are given, the periods become its seasons. */
  fc_prophet_params prophet;
  int anomaly;                  /* FC_ANOMALY_ROBUST (default) or _INTERVAL */
  double k;                     /* robust sigmas (3) */
  double level;                 /* interval level in percent (99) */
  double changepoint_threshold; /* 0.01 */
} fc_decompose_params;

fc_decompose_params fc_decompose_defaults(void);

typedef struct fc_decomposition {
  size_t n, ncomp;
  char names[FC_DECOMPOSE_MAX_COMP][24];
  double *y, *trend, *seasonal; /* seasonal: ncomp rows of n */
  double *remainder, *lower, *upper;
  unsigned char *anomaly; /* 1 = outside [lower, upper] */
  size_t nanomalies;
  size_t *changepoints; /* ascending history indices */
  double *rate_change;  /* trend slope change per step at each */
  size_t nchangepoints;
  double sigma;   /* the band's scale (robust sigma or model sigma) */
  int64_t *times; /* n epoch seconds, set by fc_decompose_set_series for
                     timestamped input; NULL otherwise */
} fc_decomposition;

/* Decomposes y[0..n) into *out (free with fc_decomposition_free).
 * FC_EINVAL: NaN/Inf, a constant history, MSTL without periods or freq,
 * an unknown freq, bad k or level; FC_ETOOSHORT: shorter than two cycles
 * of the first period (MSTL) or FC_PROPHET_MIN_N (Prophet). */
int fc_decompose(const double *y, size_t n, const fc_decompose_params *p, fc_decomposition *out, fc_err *err);
void fc_decomposition_free(fc_decomposition *d);

/* Decomposes series s of a set as `floatcast decompose` does (shared with
 * the WASM module): timestamped series give Prophet its calendar (t0 = the
 * first time, step = fc_freq_seconds(p->freq) with a freq, else the first
 * difference; automatic seasonalities when p has no periods) and
 * out->times a copy of the times for the writers. */
struct fc_series_set;
int fc_decompose_set_series(const struct fc_series_set *set, size_t s, const fc_decompose_params *p,
                            fc_decomposition *out, fc_err *err);

/* CSV rows "id,step,timestamp,y,trend,<one column per component>,
 * remainder,lower,upper,anomaly,changepoint" (step counts from 1;
 * timestamp empty when times is NULL, else times[i] formatted ISO 8601).
 * With header = 1 the header line comes first. */
void fc_decomposition_write_csv(const fc_decomposition *d, const char *id, const int64_t *times, int header,
                                fc_buf *out);
/* One JSON object: {"series_id", "n", "sigma", "components": [names],
 * "timestamp" (when times is given), "y", "trend", "seasonal": {name:
 * [...]}, "remainder", "lower", "upper", "anomalies": [indices],
 * "changepoints": [{"index", "timestamp", "rate_change"}]}; indices count
 * from 0. */
void fc_decomposition_write_json(const fc_decomposition *d, const char *id, const int64_t *times, fc_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_DECOMPOSE_H */
