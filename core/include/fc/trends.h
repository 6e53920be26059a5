/* trends.h: trend analysis of a partner's revenue ("seasonal trends and
 * anomalies"), shared by `floatcast trends`, the WASM module and the
 * gateway's GET /v1/insights/trends.
 *
 * Transactions (records.h) are selected by partner, currency and date
 * range [from, to), summed into revenue (signed amounts, exact minor
 * units) per local calendar bucket: days, weeks starting on Monday, or
 * calendar months, in the time zone utc_offset_minutes east of UTC. Only
 * complete buckets are analysed: the range runs from the first selected
 * day (the day of `from` when given) to the last (the day before `to`),
 * and a week or month that the range cuts is left out (a half month would
 * read as a dip), which the answer counts as partial_buckets.
 *
 * The series goes through the robust decomposition (decompose.h: MSTL with
 * the robust-then-refit STL, 3 robust sigma anomaly band, Prophet-style
 * changepoints of the trend) at the bucket's season: 7 for days, 52 for
 * weeks, 12 for months, when the series holds four cycles, else none (the
 * trend a local loess; with fewer cycles STL's line through each phase's
 * few points absorbs a spike into the season). From it:
 *  - trend: its first and last value, the change in percent, and the
 *    changepoints with their date, slope change and direction;
 *  - seasonality by day of week (day buckets, four weeks or more): per
 *    weekday the mean seasonal value, in currency units and in percent of
 *    the mean bucket revenue; and by month of year when the range holds 48
 *    complete months: the same from the decomposition of the monthly series
 *    (the month buckets' own for month granularity);
 *  - anomalies: every bucket outside the band, with its date, revenue, the
 *    expected value, size (revenue - expected), z (size in robust sigmas),
 *    revenue / trend, and direction (above or below);
 *  - highlights: the weekday and month-of-year peak and trough (when at
 *    least 5 % from the mean), the overall trend, each changepoint and the
 *    three largest anomalies, as data with a plain-language "text" beside
 *    ("peak on Fridays, +38 % against the weekly mean"; "December 2025
 *    revenue 2.1x trend").
 * Deterministic: the same bytes natively and in WASM.
 */
#ifndef FC_TRENDS_H
#define FC_TRENDS_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/decompose.h"
#include "fc/freq.h"
#include "fc/money.h"
#include "fc/records.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fewest complete buckets analysed. */
#define FC_TRENDS_MIN_BUCKETS 4

typedef struct fc_trends_params {
  fc_freq freq;           /* FC_FREQ_DAY (default), FC_FREQ_WEEK or FC_FREQ_MONTH */
  const char *partner_id; /* only this partner; NULL: every partner */
  const char *currency;   /* NULL or "": the one currency of the selected rows */
  int64_t from, to;       /* keep action_date in [from, to) (default: everything) */
  int utc_offset_minutes; /* local calendar, -840..840 (default 0, UTC) */
  double k;               /* anomaly band in robust sigmas (3) */
  /* NULL, or counts[i] = how many transactions v[i] stands for: rows that
   * are already daily totals (the gateway's rollups) count as those
   * transactions in the answer's counts; their sums are summed as any. */
  const size_t *counts;
} fc_trends_params;

fc_trends_params fc_trends_defaults(void);

typedef struct fc_trends_anomaly {
  size_t index;
  double value, expected, trend, size, z, ratio; /* ratio: value / trend, NaN when trend <= 0 */
  int above;                                     /* 1: above the band, 0: below */
} fc_trends_anomaly;

/* Seasonal profile of one period: effect[i] in currency units, percent[i]
 * against the mean bucket revenue of that series. */
typedef struct fc_trends_season {
  int present;
  size_t count; /* 7 weekdays (Monday first) or 12 months (January first) */
  double mean;  /* mean bucket revenue of the series it comes from */
  double effect[12], percent[12];
  int peak, trough; /* indices */
} fc_trends_season;

typedef struct fc_trends {
  fc_freq freq;
  char currency[FC_CCY_MAX];
  int scale;
  int utc_offset_minutes;
  size_t rows;            /* transactions in the analysed buckets */
  size_t partial_buckets; /* cut buckets left out at the ends */
  size_t n;               /* buckets */
  int64_t *day;           /* n local day numbers (days since 1970-01-01) of each bucket's first day */
  int64_t *revenue;       /* n sums in minor units */
  size_t *count;          /* n transaction counts */
  fc_decomposition d;     /* of revenue in currency units */
  fc_trends_season weekday, month;
  fc_trends_anomaly *anomalies; /* d.nanomalies, in date order */
  size_t nanomalies;
} fc_trends;

/* Analyses transactions v[0..n) into *out (free with fc_trends_free).
 * FC_EINVAL: a bad parameter (freq, offset, k, from >= to), several
 * currencies without p.currency, a constant series; FC_ENOTFOUND: no
 * transaction selected; FC_ETOOSHORT: fewer than FC_TRENDS_MIN_BUCKETS
 * complete buckets; FC_ERANGE: a bucket sum overflows int64. */
int fc_trends_run(const fc_transaction *v, size_t n, const fc_trends_params *p, fc_trends *out, fc_err *err);
void fc_trends_free(fc_trends *t);

/* Revenue per complete local bucket as fc_trends_run sums it, without
 * the analysis: the selection of p (freq may also be FC_FREQ_QUARTER,
 * three calendar months from January, April, July, October), day[i] the
 * local day number of bucket i's first day, exact sums and counts. n may
 * be 0 (every bucket cut). FC_EINVAL / FC_ENOTFOUND / FC_ERANGE as
 * fc_trends_run. The revenue forecast of the gateway's week, month and
 * quarter granularities reads this. */
typedef struct fc_trends_series {
  char currency[FC_CCY_MAX];
  int scale;
  size_t n, rows, partial_buckets;
  int64_t *day, *revenue;
  size_t *count;
} fc_trends_series;
int fc_trends_series_build(const fc_transaction *v, size_t n, const fc_trends_params *p, fc_trends_series *out,
                           fc_err *err);
void fc_trends_series_free(fc_trends_series *s);
/* The local day number of the first day of the bucket k steps after the
 * one starting on local day `day` (f day, week, month or quarter). */
int64_t fc_trends_bucket_day(fc_freq f, int64_t day, int64_t k);

/* A time zone offset "Z", "+HH:MM" or "-HH:MM" (at most 14:00) in minutes
 * east of UTC; FC_EINVAL naming the text otherwise. */
int fc_trends_parse_offset(const char *s, int *minutes, fc_err *err);
/* A from/to bound as the CLI, WASM and gateway read it: an ISO 8601 time,
 * or a date alone (YYYY-MM-DD), which is local midnight at the offset and,
 * for `to` (is_to = 1), takes in that whole day (the next midnight). */
int fc_trends_parse_bound(const char *s, int is_to, int utc_offset_minutes, int64_t *out, fc_err *err);

/* One JSON object: {"currency","granularity","utc_offset_minutes",
 * "transactions","partial_buckets","buckets":{"start":[dates],"revenue":
 * [exact decimal strings],"count","trend","seasonal","expected","lower",
 * "upper"},"trend":{"start","end","change_percent","changepoints":[{"date",
 * "index","rate_change","direction"}]},"seasonality":{"day_of_week",
 * "month_of_year"} (each null or {"mean","peak","trough","effects":[{name,
 * "effect","percent"}]}),"sigma","anomalies":[...],"highlights":[{"kind",
 * ...fields, "text"}]}. Dates are local YYYY-MM-DD (a bucket's first day). */
void fc_trends_write_json(const fc_trends *t, fc_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_TRENDS_H */
