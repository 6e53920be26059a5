/* tz.c: TZif parsing, the POSIX TZ footer rule, instant <-> wall time
 * (tz.h), and the per-process cache of zones by name. */
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "fc/time.h"

#ifndef GW_TZ_DIR
#define GW_TZ_DIR "/usr/share/zoneinfo"
#endif
#define DAY      86400
#define TZIF_MAX (1u << 20) /* real files are < 4 kB; anything bigger is not one */

/* One POSIX rule date: Jn (1..365, no Feb 29), n (0..365) or Mm.w.d. */
typedef struct rule_date {
  char kind;    /* 'J', 'n' or 'M' */
  int a, b, c;  /* J/n: a = day; M: a = month, b = week, c = weekday */
  int32_t time; /* seconds after local midnight, may be negative or > 24 h */
} rule_date;

typedef struct posix_rule {
  int present;              /* a footer was given */
  int32_t std_off, dst_off; /* seconds east of UTC */
  int has_dst, has_rules;
  rule_date start, end;
} posix_rule;

struct gw_tz {
  char name[GW_TZ_NAME_MAX + 1];
  size_t n;          /* transitions */
  int64_t *at;       /* transition instants, ascending */
  int32_t *off;      /* offset from at[i] on */
  int32_t first_off; /* before the first transition (time type 0) */
  posix_rule rule;
  int utc;
};

/* ---- the POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3") ------------------------ */

static const char *skip_name(const char *s) {
  if (*s == '<') {
    while (*s && *s != '>') s++;
    return *s == '>' ? s + 1 : NULL;
  }
  const char *b = s;
  while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) s++;
  return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; seconds in *out. */
static const char *parse_hms(const char *s, int max_h, int32_t *out) {
  int sign = 1, part[3] = {0, 0, 0};
  if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
  for (int i = 0; i < 3; i++) {
    if (i && *s != ':') break;
    if (i) s++;
    if (*s < '0' || *s > '9') return NULL;
    int v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 3) v = v * 10 + (*s++ - '0'), digits++;
    part[i] = v;
  }
  if (part[0] > max_h || part[1] > 59 || part[2] > 59) return NULL;
  *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
  return s;
}

static const char *parse_int(const char *s, int lo, int hi, int *out) {
  int v = 0, digits = 0;
  while (*s >= '0' && *s <= '9' && digits < 4) v = v * 10 + (*s++ - '0'), digits++;
  if (!digits || v < lo || v > hi) return NULL;
  *out = v;
  return s;
}

static const char *parse_date(const char *s, rule_date *d) {
  d->time = 7200; /* 02:00 by default */
  if (*s == 'M') {
    d->kind = 'M';
    if (!(s = parse_int(s + 1, 1, 12, &d->a)) || *s++ != '.' || !(s = parse_int(s, 1, 5, &d->b)) || *s++ != '.' ||
        !(s = parse_int(s, 0, 6, &d->c)))
      return NULL;
  } else if (*s == 'J') {
    d->kind = 'J';
    if (!(s = parse_int(s + 1, 1, 365, &d->a))) return NULL;
  } else {
    d->kind = 'n';
    if (!(s = parse_int(s, 0, 365, &d->a))) return NULL;
  }
  if (*s == '/') s = parse_hms(s + 1, 167, &d->time); /* RFC 8536: -167..167 hours */
  return s;
}

/* FC_OK, or FC_EPARSE for a footer this reader does not understand. POSIX offsets
 * count west of UTC, hence the minus signs. */
static int parse_rule(const char *s, posix_rule *r) {
  int32_t v;
  memset(r, 0, sizeof *r);
  if (!*s) return FC_OK; /* an empty footer: no rule, the last transition holds */
  if (!(s = skip_name(s)) || !(s = parse_hms(s, 24, &v))) return FC_EPARSE;
  r->present = 1;
  r->std_off = r->dst_off = -v;
  if (!*s) return FC_OK;
  if (!(s = skip_name(s))) return FC_EPARSE;
  r->has_dst = 1;
  r->dst_off = r->std_off + 3600;
  if (*s && *s != ',') {
    if (!(s = parse_hms(s, 24, &v))) return FC_EPARSE;
    r->dst_off = -v;
  }
  if (!*s) return FC_EPARSE; /* DST without rules: POSIX's US default, never in TZif footers */
  if (*s++ != ',' || !(s = parse_date(s, &r->start)) || *s++ != ',' || !(s = parse_date(s, &r->end)) || *s)
    return FC_EPARSE;
  r->has_rules = 1;
  return FC_OK;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* The local day number of rule date d in year y. */
static int64_t rule_day(const rule_date *d, int y) {
  int64_t jan1 = fc_days_from_civil(y, 1, 1);
  if (d->kind == 'n') return jan1 + d->a;
  if (d->kind == 'J') return jan1 + d->a - 1 + (is_leap(y) && d->a >= 60);
  /* Mm.w.d: weekday d of week w (5: the last) of month m. 1970-01-01 was a Thursday (4). */
  int64_t first = fc_days_from_civil(y, d->a, 1);
  int wd = (int)(((first + 4) % 7 + 7) % 7);
  int64_t day = first + (d->c - wd + 7) % 7 + (int64_t)(d->b - 1) * 7;
  int next_y = d->a == 12 ? y + 1 : y, next_m = d->a == 12 ? 1 : d->a + 1;
  while (day >= fc_days_from_civil(next_y, next_m, 1)) day -= 7;
  return day;
}

static int32_t rule_offset(const posix_rule *r, int64_t t) {
  if (!r->has_rules) return r->std_off;
  int y, m, d;
  fc_civil_from_days((t + r->std_off) / DAY - ((t + r->std_off) % DAY < 0), &y, &m, &d);
  /* The start is given in standard time, the end in daylight time. */
  int64_t start = rule_day(&r->start, y) * DAY + r->start.time - r->std_off;
  int64_t end = rule_day(&r->end, y) * DAY + r->end.time - r->dst_off;
  int dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

typedef struct header {
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} header;

/* FC_OK, or FC_EPARSE for a header that is not TZif or that this reader
 * refuses (leap seconds, counts beyond its bounds). */
static int read_header(const unsigned char *b, size_t n, header *h) {
  if (n < 44 || memcmp(b, "TZif", 4) != 0) return FC_EPARSE;
  h->isutcnt = be32(b + 20);
  h->isstdcnt = be32(b + 24);
  h->leapcnt = be32(b + 28);
  h->timecnt = be32(b + 32);
  h->typecnt = be32(b + 36);
  h->charcnt = be32(b + 40);
  return h->typecnt == 0 || h->leapcnt != 0 /* "right/" zones count leap seconds: not civil time */ ||
                 h->timecnt > TZIF_MAX || h->typecnt > 256 || h->charcnt > TZIF_MAX || h->leapcnt > TZIF_MAX ||
                 h->isutcnt > 256 || h->isstdcnt > 256
             ? FC_EPARSE
             : FC_OK;
}

/* Bytes of a data block with times of tsize bytes. */
static size_t block_len(const header *h, size_t tsize) {
  return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt + (size_t)h->leapcnt * (tsize + 4) +
         h->isstdcnt + h->isutcnt;
}

static int bad(fc_err *err, const char *name, const char *what) {
  return fc_err_set(err, FC_EPARSE, "time zone %s: not a TZif file (%s)", name, what);
}

/* Fills z's transitions from the block at p (times of tsize bytes). */
static int read_block(gw_tz *z, const header *h, const unsigned char *p, size_t tsize, fc_err *err) {
  const unsigned char *idx = p + (size_t)h->timecnt * tsize, *types = idx + h->timecnt;
  z->at = malloc((h->timecnt ? h->timecnt : 1) * sizeof *z->at);
  z->off = malloc((h->timecnt ? h->timecnt : 1) * sizeof *z->off);
  if (!z->at || !z->off) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < h->timecnt; i++) {
    if (idx[i] >= h->typecnt) return bad(err, z->name, "a transition's type is out of range");
    z->at[i] = tsize == 8 ? be64(p + (size_t)i * 8) : (int32_t)be32(p + (size_t)i * 4);
    z->off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
    if (i && z->at[i] <= z->at[i - 1]) return bad(err, z->name, "transitions out of order");
    if (z->off[i] < -26 * 3600 || z->off[i] > 26 * 3600) return bad(err, z->name, "an offset beyond 26 hours");
  }
  z->n = h->timecnt;
  z->first_off = (int32_t)be32(types);
  return FC_OK;
}

static int all_utc(const gw_tz *z) {
  if (z->first_off != 0 || (z->rule.present && (z->rule.std_off != 0 || z->rule.has_dst))) return 0;
  for (size_t i = 0; i < z->n; i++)
    if (z->off[i] != 0) return 0;
  return 1;
}

int gw_tz_parse(const unsigned char *b, size_t n, const char *name, gw_tz **out, fc_err *err) {
  header h;
  *out = NULL;
  gw_tz *z = calloc(1, sizeof *z);
  if (!z) return fc_err_set(err, FC_ENOMEM, "out of memory");
  snprintf(z->name, sizeof z->name, "%s", name);
  int rc = FC_OK;
  if (read_header(b, n, &h) != FC_OK || block_len(&h, 4) > n - 44) {
    rc = bad(err, z->name, "header");
  } else if (b[4] == 0) {
    rc = read_block(z, &h, b + 44, 4, err); /* version 1: 32-bit times, no footer */
  } else {
    /* Version 2+: skip the 32-bit block; the 64-bit one and the footer follow. */
    const unsigned char *p = b + 44 + block_len(&h, 4);
    size_t left = n - 44 - block_len(&h, 4);
    if (read_header(p, left, &h) != FC_OK || block_len(&h, 8) > left - 44) {
      rc = bad(err, z->name, "second header");
    } else {
      const unsigned char *foot = p + 44 + block_len(&h, 8), *end = b + n;
      char rule[128];
      size_t len = 0;
      rc = read_block(z, &h, p + 44, 8, err);
      if (rc == FC_OK && (foot >= end || *foot != '\n')) rc = bad(err, z->name, "footer");
      for (foot++; rc == FC_OK && foot < end && *foot != '\n' && len < sizeof rule - 1;) rule[len++] = (char)*foot++;
      rule[len] = '\0';
      if (rc == FC_OK && (foot >= end || parse_rule(rule, &z->rule) != FC_OK))
        rc = fc_err_set(err, FC_EPARSE, "time zone %s: footer rule '%s' not understood", z->name, rule);
    }
  }
  if (rc != FC_OK) {
    gw_tz_free(z);
    return rc;
  }
  z->utc = all_utc(z);
  *out = z;
  return FC_OK;
}

void gw_tz_free(gw_tz *z) {
  if (!z) return;
  free(z->at);
  free(z->off);
  free(z);
}

const char *gw_tz_name(const gw_tz *z) { return z->name; }
int gw_tz_is_utc(const gw_tz *z) { return z->utc; }

int32_t gw_tz_offset(const gw_tz *z, int64_t t) {
  if (z->n == 0) return z->rule.present ? rule_offset(&z->rule, t) : z->first_off;
  if (t < z->at[0]) return z->first_off;
  if (t >= z->at[z->n - 1] && z->rule.present) return rule_offset(&z->rule, t);
  size_t lo = 0, hi = z->n; /* the last transition at or before t */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (z->at[mid] <= t) lo = mid;
    else hi = mid;
  }
  return z->off[lo];
}

int64_t gw_tz_wall(const gw_tz *z, int64_t t) { return t + gw_tz_offset(z, t); }

int64_t gw_tz_local_day(const gw_tz *z, int64_t t) {
  int64_t w = gw_tz_wall(z, t);
  return w / DAY - (w % DAY < 0);
}

int64_t gw_tz_instant(const gw_tz *z, int64_t wall) {
  /* The offsets a day before and after bracket any one transition. */
  int64_t a = wall - gw_tz_offset(z, wall - DAY), b = wall - gw_tz_offset(z, wall + DAY);
  int ok_a = gw_tz_wall(z, a) == wall, ok_b = gw_tz_wall(z, b) == wall;
  if (ok_a && ok_b) return a < b ? a : b;
  if (ok_a) return a;
  if (ok_b) return b;
  /* A gap: the first instant after it, between b and a. */
  int64_t lo = b < a ? b : a, hi = b < a ? a : b;
  int32_t before = gw_tz_offset(z, lo);
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (gw_tz_offset(z, mid) == before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/* ---- zones by name --------------------------------------------------------------- */

static uv_once_t cache_once = UV_ONCE_INIT;
static uv_mutex_t cache_lock;
static gw_tz **cache;
static size_t cache_n, cache_cap;

static void cache_init(void) { uv_mutex_init(&cache_lock); }

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > GW_TZ_NAME_MAX || s[0] == '/' || s[0] == '.' || strstr(s, "..") || strstr(s, "//") ||
      s[n - 1] == '/')
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '/' || *s == '_' ||
          *s == '+' || *s == '-'))
      return 0;
  return 1;
}

/* The file's bytes; FC_ENOTFOUND when it cannot be read as a file. */
static int read_zone_file(const char *name, unsigned char **buf, size_t *n, fc_err *err) {
  char path[sizeof GW_TZ_DIR + GW_TZ_NAME_MAX + 2];
  snprintf(path, sizeof path, "%s/%s", GW_TZ_DIR, name);
  FILE *f = fopen(path, "rb");
  *buf = f ? malloc(TZIF_MAX) : NULL;
  *n = *buf ? fread(*buf, 1, TZIF_MAX, f) : 0;
  int rc = !f                     ? fc_err_set(err, FC_ENOTFOUND, "unknown time zone '%s'", name)
           : !*buf                ? fc_err_set(err, FC_ENOMEM, "out of memory")
           : ferror(f) || *n == 0 ? fc_err_set(err, FC_ENOTFOUND, "unknown time zone '%s'", name)
                                  : FC_OK;
  if (f) fclose(f);
  return rc;
}

static int cache_add(gw_tz *z) {
  if (cache_n == cache_cap) {
    size_t cap = cache_cap ? 2 * cache_cap : 16;
    gw_tz **v = realloc(cache, cap * sizeof *v);
    if (!v) return FC_ENOMEM;
    cache = v;
    cache_cap = cap;
  }
  cache[cache_n++] = z;
  return FC_OK;
}

int gw_tz_get(const char *name, const gw_tz **out, fc_err *err) {
  *out = NULL;
  if (!valid_name(name))
    return fc_err_set(err, FC_EINVAL, "'%.80s' is not a time zone name (e.g. Europe/Berlin)", name);
  uv_once(&cache_once, cache_init);
  uv_mutex_lock(&cache_lock);
  for (size_t i = 0; i < cache_n && !*out; i++)
    if (!strcmp(cache[i]->name, name)) *out = cache[i];
  uv_mutex_unlock(&cache_lock);
  if (*out) return FC_OK;
  unsigned char *buf = NULL;
  size_t n = 0;
  gw_tz *z = NULL;
  int rc = read_zone_file(name, &buf, &n, err);
  if (rc == FC_OK && (rc = gw_tz_parse(buf, n, name, &z, err)) == FC_EPARSE)
    rc = fc_err_set(err, FC_ENOTFOUND, "unknown time zone '%s' (%s)", name, err->msg);
  free(buf);
  if (rc != FC_OK) return rc;
  uv_mutex_lock(&cache_lock);
  const gw_tz *had = NULL; /* another thread may have loaded it meanwhile */
  for (size_t i = 0; i < cache_n && !had; i++)
    if (!strcmp(cache[i]->name, name)) had = cache[i];
  if (!had && (rc = cache_add(z)) != FC_OK) fc_err_set(err, rc, "out of memory");
  uv_mutex_unlock(&cache_lock);
  if (had || rc != FC_OK) gw_tz_free(z);
  *out = had ? had : rc == FC_OK ? z : NULL;
  return rc;
}
