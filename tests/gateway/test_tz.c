/* test_tz.c: the TZif reader and wall-time mapping (tz.h) against known
 * instants (a Berlin DST week, Kathmandu's +05:45, a southern zone), the
 * footer rule alone, and glibc's localtime_r over 1990-2060 in several
 * zones (single-threaded here, so TZ may be set). */
#define _DEFAULT_SOURCE
#include "runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tz.h"
#include "fc/time.h"

static int64_t at(const char *iso) {
  int64_t t;
  fc_err err;
  if (fc_time_parse(iso, strlen(iso), &t, &err) != FC_OK) abort();
  return t;
}

static const gw_tz *zone(const char *name) {
  const gw_tz *z = NULL;
  fc_err err;
  if (gw_tz_get(name, &z, &err) != FC_OK) abort();
  return z;
}

TEST(berlin_dst_week) {
  const gw_tz *z = zone("Europe/Berlin");
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-03-29T00:59:59Z")), 3600);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-03-29T01:00:00Z")), 7200);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-10-25T00:59:59Z")), 7200);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-10-25T01:00:00Z")), 3600);
  /* Local midnights: the 29th of March has 23 hours, the 25th of October 25. */
  int64_t d29 = fc_days_from_civil(2026, 3, 29) * 86400, d25 = fc_days_from_civil(2026, 10, 25) * 86400;
  ASSERT(gw_tz_instant(z, d29) == at("2026-03-28T23:00:00Z"));
  ASSERT(gw_tz_instant(z, d29 + 86400) - gw_tz_instant(z, d29) == 23 * 3600);
  ASSERT(gw_tz_instant(z, d25 + 86400) - gw_tz_instant(z, d25) == 25 * 3600);
  /* A gap (02:30 never happens on the 29th): the instant the clock jumps. */
  ASSERT(gw_tz_instant(z, d29 + 9000) == at("2026-03-29T01:00:00Z"));
  /* An overlap (02:30 twice on the 25th): the earlier. */
  ASSERT(gw_tz_instant(z, d25 + 9000) == at("2026-10-25T00:30:00Z"));
  ASSERT(gw_tz_local_day(z, at("2026-03-28T22:59:59Z")) == d29 / 86400 - 1);
  ASSERT(gw_tz_local_day(z, at("2026-03-28T23:00:00Z")) == d29 / 86400);
  /* Beyond the file's transitions: the footer's rule. */
  ASSERT_INT_EQ(gw_tz_offset(z, at("2100-07-01T00:00:00Z")), 7200);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2100-12-01T00:00:00Z")), 3600);
  ASSERT(!gw_tz_is_utc(z));
}

TEST(kathmandu_and_utc) {
  const gw_tz *k = zone("Asia/Kathmandu");
  ASSERT_INT_EQ(gw_tz_offset(k, at("2026-06-01T00:00:00Z")), 5 * 3600 + 45 * 60);
  ASSERT(gw_tz_instant(k, fc_days_from_civil(2026, 6, 1) * 86400) == at("2026-05-31T18:15:00Z"));
  ASSERT(gw_tz_is_utc(zone("UTC")));
  ASSERT(gw_tz_is_utc(zone("Etc/UTC")));
  ASSERT_INT_EQ(gw_tz_offset(zone("UTC"), at("2026-06-01T00:00:00Z")), 0);
}

TEST(names_refused) {
  const gw_tz *z = NULL;
  fc_err err;
  const char *bad[] = {"",        "../etc/passwd",  "/etc/localtime", "Europe/../UTC",
                       "Europe/", "Europe//Berlin", "Europe/Berlin ", "a\\b",
                       ".hidden"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) ASSERT_INT_EQ(gw_tz_get(bad[i], &z, &err), FC_EINVAL);
  ASSERT_INT_EQ(gw_tz_get("Mars/Olympus_Mons", &z, &err), FC_ENOTFOUND);
  ASSERT_CONTAINS(err.msg, "Mars/Olympus_Mons");
  ASSERT_INT_EQ(gw_tz_get("Europe", &z, &err), FC_ENOTFOUND); /* a directory */
  ASSERT(z == NULL);
}

/* A version 2 file without transitions: only the footer decides. */
static size_t footer_only(unsigned char *b, const char *rule) {
  size_t n = 0;
  for (int part = 0; part < 2; part++) {
    memset(b + n, 0, 44);
    memcpy(b + n, "TZif2", 5);
    b[n + 39] = 1; /* typecnt */
    b[n + 43] = 4; /* charcnt */
    n += 44;
    memset(b + n, 0, 6 + 4); /* one type: offset 0, "UTC\0" */
    memcpy(b + n + 6, "UTC", 4);
    n += 10;
  }
  n += (size_t)sprintf((char *)b + n, "\n%s\n", rule);
  return n;
}

TEST(footer_rules) {
  unsigned char b[256];
  gw_tz *z = NULL;
  fc_err err;
  ASSERT_OK(gw_tz_parse(b, footer_only(b, "CET-1CEST,M3.5.0,M10.5.0/3"), "x", &z, &err));
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-03-29T00:59:59Z")), 3600);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-03-29T01:00:00Z")), 7200);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-10-25T01:00:00Z")), 3600);
  gw_tz_free(z);
  /* Southern hemisphere: daylight time spans the new year. */
  ASSERT_OK(gw_tz_parse(b, footer_only(b, "AEST-10AEDT,M10.1.0,M4.1.0/3"), "y", &z, &err));
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-01-15T00:00:00Z")), 11 * 3600);
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-07-15T00:00:00Z")), 10 * 3600);
  gw_tz_free(z);
  ASSERT_OK(gw_tz_parse(b, footer_only(b, "<+0545>-5:45"), "z", &z, &err));
  ASSERT_INT_EQ(gw_tz_offset(z, at("2026-01-15T00:00:00Z")), 20700);
  gw_tz_free(z);
  ASSERT_INT_EQ(gw_tz_parse(b, footer_only(b, "CET-1CEST,M13.5.0,M10.5.0"), "w", &z, &err), FC_EPARSE);
  ASSERT_INT_EQ(gw_tz_parse((const unsigned char *)"TZif", 4, "v", &z, &err), FC_EPARSE);
  size_t n = footer_only(b, "UTC0");
  for (size_t cut = 0; cut < n - 1; cut++) /* every truncation is refused, never read past */
    ASSERT_INT_EQ(gw_tz_parse(b, cut, "t", &z, &err), FC_EPARSE);
}

TEST(agrees_with_glibc) {
  const char *zones[] = {"Europe/Berlin",     "America/New_York", "Australia/Sydney",  "Asia/Kathmandu",
                         "America/Sao_Paulo", "Pacific/Chatham",  "Africa/Casablanca", "Australia/Lord_Howe"};
  for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
    const gw_tz *z = zone(zones[i]);
    setenv("TZ", zones[i], 1);
    tzset();
    size_t wrong = 0;
    for (int64_t t = at("1990-01-01T00:00:00Z"); t < at("2060-01-01T00:00:00Z"); t += 26017) {
      time_t tt = (time_t)t;
      struct tm tm;
      localtime_r(&tt, &tm);
      if (tm.tm_gmtoff != gw_tz_offset(z, t)) wrong++;
    }
    ASSERT_INT_EQ(wrong, 0);
  }
}

TEST_LIST(T(berlin_dst_week), T(kathmandu_and_utc), T(names_refused), T(footer_rules), T(agrees_with_glibc));
