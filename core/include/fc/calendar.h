/* calendar.h: the calendar features the treasury models use.
 *
 * Hour of day, ISO day of week, day of month and month-end are read in UTC;
 * business hours are 09:00-17:00 (end exclusive) Monday-Friday in a
 * configurable UTC offset, because a treasury team works in its own time
 * zone. Month-end is the last `month_end_days` (3) days of the real month,
 * leap years included. Week period: week_start Mon-Tue, mid_week Wed-Thu,
 * weekend Fri-Sun.
 */
#ifndef FC_CALENDAR_H
#define FC_CALENDAR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_calendar_params {
  int utc_offset_minutes;  /* business-hours time zone, -840..840 */
  int business_start_hour; /* 9 */
  int business_end_hour;   /* 17, exclusive */
  int month_end_days;      /* 3 */
} fc_calendar_params;

fc_calendar_params fc_calendar_defaults(void);

typedef enum fc_week_period {
  FC_WEEK_START = 0, /* Monday, Tuesday */
  FC_MID_WEEK = 1,   /* Wednesday, Thursday */
  FC_WEEKEND = 2     /* Friday, Saturday, Sunday */
} fc_week_period;

typedef struct fc_calendar {
  int year, month, day_of_month, days_in_month;
  int hour;    /* 0..23, UTC */
  int iso_dow; /* 1 = Monday .. 7 = Sunday, UTC */
  int is_business_hours;
  int is_month_end;
  fc_week_period week_period;
} fc_calendar;

void fc_calendar_features(int64_t t, fc_calendar_params p, fc_calendar *out);
/* "week_start", "mid_week" or "weekend". */
const char *fc_week_period_name(fc_week_period w);
/* ISO day of week (1 = Monday) of a UTC time. */
int fc_iso_dow(int64_t t);

#ifdef __cplusplus
}
#endif
#endif /* FC_CALENDAR_H */
