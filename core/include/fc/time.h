/* time.h: ISO 8601 UTC timestamps <-> epoch seconds.
 *
 * Accepted: "2025-12-18T14:03:00Z", the same with a fraction of a second
 * (dropped: the models work in seconds), with a numeric offset ("+02:00",
 * "-0530"; converted to UTC), with a space for the T, without seconds, or a
 * date alone ("2025-12-18" = midnight UTC). A date-time without a zone is
 * read as UTC, as the formats spec says all timestamps are UTC. Years are
 * 0001..9999; Feb 29 exists only in leap years; 24:00 and leap seconds are
 * rejected.
 */
#ifndef FC_TIME_H
#define FC_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "No timestamp" (an optional column left empty). */
#define FC_TIME_NONE INT64_MIN
/* The instants this module reads and writes: 0001-01-01T00:00:00Z and
 * 9999-12-31T23:59:59Z. */
#define FC_TIME_MIN  INT64_C(-62135596800)
#define FC_TIME_MAX  INT64_C(253402300799)
/* "2025-12-18T14:03:00Z" plus NUL. */
#define FC_TIME_STR  21

int fc_time_parse(const char *s, size_t len, int64_t *out, fc_err *err);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ"; FC_TIME_NONE gives "". */
void fc_time_format(int64_t t, char out[FC_TIME_STR]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t fc_days_from_civil(int y, int m, int d);
void fc_civil_from_days(int64_t days, int *y, int *m, int *d);
int fc_is_leap_year(int y);
int fc_days_in_month(int y, int m);
/* Floor division of t by step (step > 0), for bucketing negative times too. */
int64_t fc_time_floor(int64_t t, int64_t step);

#ifdef __cplusplus
}
#endif
#endif /* FC_TIME_H */
