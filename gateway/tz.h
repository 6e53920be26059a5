/* tz.h: IANA time zones read from the system's TZif files (RFC 8536).
 *
 * The core has no time-zone database and only knows fixed offsets; the
 * gateway maps instants to a tenant's local wall-clock time with these
 * functions and hands the core local times. localtime_r with TZ set would
 * do it too, but TZ is process-global and not thread-safe, and insights
 * run on several pool threads at once; a gw_tz is immutable once parsed,
 * so threads share it without locks.
 *
 * A zone is its transitions (the 64-bit body of a version 2+ file, else
 * the 32-bit one) and, after the last transition, the file's POSIX TZ
 * footer rule (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"), so that "slim" files
 * with few transitions answer correctly for every future year.
 *
 * "Wall time" below is the local date and time counted in seconds as if
 * it were UTC: wall = t + offset(t). A local day is floor(wall / 86400);
 * it has 23 or 25 hours of instants across a DST change.
 */
#ifndef GW_TZ_H
#define GW_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "fc/status.h"

#define GW_TZ_NAME_MAX 64

typedef struct gw_tz gw_tz;

/* Parses TZif bytes b[0..n) of the zone called name. FC_EPARSE naming the
 * defect for bytes that are not a TZif file. */
int gw_tz_parse(const unsigned char *b, size_t n, const char *name, gw_tz **out, fc_err *err);
void gw_tz_free(gw_tz *z);

/* The zone called name ("UTC", "Europe/Berlin", "Asia/Kathmandu") from
 * the zoneinfo directory (GW_TZ_DIR, /usr/share/zoneinfo), parsed once per
 * process and kept until exit (a zone is a few kB; tenants share them).
 * FC_EINVAL for a name that is not a zone name (empty, too long, "..",
 * a leading '/', characters outside [A-Za-z0-9/_+-]); FC_ENOTFOUND for a
 * name without a readable TZif file. Any thread. */
int gw_tz_get(const char *name, const gw_tz **out, fc_err *err);

const char *gw_tz_name(const gw_tz *z);
/* 1 when the zone is UTC at every instant (UTC, Etc/UTC, Etc/GMT...). */
int gw_tz_is_utc(const gw_tz *z);
/* Seconds east of UTC at instant t. */
int32_t gw_tz_offset(const gw_tz *z, int64_t t);
/* Wall time of instant t. */
int64_t gw_tz_wall(const gw_tz *z, int64_t t);
/* The local day (days since 1970-01-01 on the local calendar) of t. */
int64_t gw_tz_local_day(const gw_tz *z, int64_t t);
/* The instant whose wall time is wall: the earlier one when the wall time
 * occurs twice (a clock set back), and the instant the clock jumps when it
 * never occurs (a gap: 02:30 on a spring-forward day is the instant of
 * 03:00), so the start of a local day is the first instant of that day. */
int64_t gw_tz_instant(const gw_tz *z, int64_t wall);

#endif /* GW_TZ_H */
