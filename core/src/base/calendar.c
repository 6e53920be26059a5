/* calendar.c: calendar features of a UTC timestamp. */
#include "fc/calendar.h"
#include "fc/time.h"

fc_calendar_params fc_calendar_defaults(void) {
  fc_calendar_params p;
  p.utc_offset_minutes = 0;
  p.business_start_hour = 9;
  p.business_end_hour = 17;
  p.month_end_days = 3;
  return p;
}

int fc_iso_dow(int64_t t) {
  /* 1970-01-01 was a Thursday (ISO 4). */
  int64_t days = fc_time_floor(t, 86400) / 86400;
  int64_t w = (days + 3) % 7;
  if (w < 0) w += 7;
  return (int)w + 1;
}

const char *fc_week_period_name(fc_week_period w) {
  switch (w) {
  case FC_WEEK_START: return "week_start";
  case FC_MID_WEEK: return "mid_week";
  case FC_WEEKEND: return "weekend";
  }
  return "unknown";
}

void fc_calendar_features(int64_t t, fc_calendar_params p, fc_calendar *out) {
  int64_t days = fc_time_floor(t, 86400) / 86400;
  int64_t local = t + (int64_t)p.utc_offset_minutes * 60;
  int local_hour = (int)((local - fc_time_floor(local, 86400)) / 3600);
  int local_dow = fc_iso_dow(local);

  fc_civil_from_days(days, &out->year, &out->month, &out->day_of_month);
  out->days_in_month = fc_days_in_month(out->year, out->month);
  out->hour = (int)((t - days * 86400) / 3600);
  out->iso_dow = fc_iso_dow(t);
  out->is_business_hours = local_dow <= 5 && local_hour >= p.business_start_hour && local_hour < p.business_end_hour;
  out->is_month_end = out->day_of_month > out->days_in_month - p.month_end_days;
  out->week_period = out->iso_dow <= 2 ? FC_WEEK_START : out->iso_dow <= 4 ? FC_MID_WEEK : FC_WEEKEND;
}
