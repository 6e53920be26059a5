/* freq.h: the calendar frequency of a timestamped series (hour, day, week,
 * month, quarter) and the grid of times it implies.
 *
 * A series with a frequency is observed on a grid anchored at its first
 * time: hour, day and week grids step by 3600, 86400 and 604800 seconds;
 * the month grid steps by calendar months, keeping the anchor's time of
 * day and day of month, clamped to shorter months (an anchor on Jan 31
 * gives Feb 28/29, Mar 31, Apr 30, ...); an anchor on the last day of its
 * month (e.g. Feb 28 of a common year) makes every point a month end. The
 * quarter grid steps by three calendar months the same way.
 *
 * Default seasonal periods by frequency, in steps: hour 24 and 168 (day
 * and week), day 7, week 52, month 12, quarter 4.
 */
#ifndef FC_FREQ_H
#define FC_FREQ_H

#include <stddef.h>
#include <stdint.h>

#include "fc/model.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_freq {
  FC_FREQ_NONE = 0, /* step-indexed, or the step is taken from the data */
  FC_FREQ_HOUR,
  FC_FREQ_DAY,
  FC_FREQ_WEEK,
  FC_FREQ_MONTH,
  FC_FREQ_QUARTER
} fc_freq;

/* "hour", "day", "week", "month" or "quarter" (FC_EINVAL otherwise, named
 * in err). */
int fc_freq_parse(const char *name, fc_freq *out, fc_err *err);
/* The name fc_freq_parse reads; "none" for FC_FREQ_NONE. */
const char *fc_freq_name(fc_freq f);
/* Writes the default seasonal periods (see above) and returns how many. */
size_t fc_freq_periods(fc_freq f, size_t periods[FC_MAX_PERIODS]);
/* Seconds per step for models that need a fixed step: 3600, 86400,
 * 604800, and for month the mean Julian month, 365.25 / 12 days (2629800
 * s, so that a year is exactly 12 steps), for quarter three of those;
 * 0 for FC_FREQ_NONE. */
int64_t fc_freq_seconds(fc_freq f);
/* The k-th grid point after anchor (k >= 0). FC_ERANGE past the years
 * 0001..9999; FC_EINVAL for FC_FREQ_NONE. */
int fc_freq_add(int64_t anchor, fc_freq f, int64_t k, int64_t *out);
/* The k >= 0 with fc_freq_add(anchor, f, k) == t, or FC_EINVAL when t is
 * before the anchor or off its grid. */
int fc_freq_index(int64_t anchor, fc_freq f, int64_t t, int64_t *k);

#ifdef __cplusplus
}
#endif
#endif /* FC_FREQ_H */
