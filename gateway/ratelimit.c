/* ratelimit.c: GCRA, monthly quotas, the per-address table and headers. */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/time.h"

#define UNIT           ((__int128)1000000000000LL) /* one request, in scaled units */
#define NS_PER_S_MILLI ((__int128)1000000000LL)    /* ns per s; x rate_milli per second */

static int64_t ceil_div(__int128 a, __int128 b) { return (int64_t)((a + b - 1) / b); }

void gw_gcra_take(gw_gcra *st, gw_rate_policy p, int64_t now_ns, gw_rate_result *out) {
  if (p.rate_milli < 1) p.rate_milli = 1;
  if (p.burst < 1) p.burst = 1;
  if (st->rate_milli != p.rate_milli) {
    if (st->rate_milli > 0) st->tat = st->tat / st->rate_milli * p.rate_milli;
    st->rate_milli = p.rate_milli;
  }
  __int128 now = (__int128)now_ns * p.rate_milli;
  __int128 tau = (__int128)(p.burst - 1) * UNIT;
  __int128 per_second = NS_PER_S_MILLI * p.rate_milli;
  __int128 tat = st->tat > now ? st->tat : now;
  out->limit = p.burst;
  out->retry_after = 0;
  if (tat - now > tau) {
    out->allowed = 0;
    out->remaining = 0;
    out->retry_after = ceil_div(tat - tau - now, per_second);
    if (out->retry_after < 1) out->retry_after = 1;
  } else {
    out->allowed = 1;
    tat += UNIT;
    st->tat = tat;
  }
  if (out->allowed) {
    __int128 room = tau + UNIT - (tat - now);
    out->remaining = room > 0 ? (int64_t)(room / UNIT) : 0;
  }
  out->reset_s = ceil_div(tat - now, per_second);
}

int64_t gw_month_of(int64_t unix_s) {
  int y, m, d;
  fc_civil_from_days(unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400), &y, &m, &d);
  return (int64_t)(y - 1970) * 12 + (m - 1);
}

int64_t gw_month_start(int64_t month) {
  int y = 1970 + (int)(month / 12), m = (int)(month % 12) + 1;
  return fc_days_from_civil(y, m, 1) * 86400;
}

int gw_quota_take(gw_quota *q, int64_t limit, int64_t month) {
  if (q->month != month) {
    q->month = month;
    q->used = 0;
  }
  if (limit > 0 && q->used >= limit) return GW_QUOTA_EXHAUSTED;
  if (limit > 0 && q->used + q->pending >= limit) return GW_QUOTA_PENDING;
  q->pending++;
  return GW_QUOTA_OK;
}

void gw_quota_settle(gw_quota *q, int64_t month, int billable) {
  if (q->pending > 0) q->pending--;
  if (billable && q->month == month) q->used++;
}

void gw_quota_refund(gw_quota *q, int64_t month) {
  if (q->month == month && q->used > 0) q->used--;
}

/* ---- per-address table (open addressing, linear probing) ---- */

#define ADDR_MAX 64
#define PROBE    8

typedef struct slot {
  char addr[ADDR_MAX]; /* "" = free */
  gw_gcra g;
  int64_t last_ns;
} slot;

struct gw_addr_limiter {
  size_t cap, used;
  gw_rate_policy p;
  slot *slots;
};

gw_addr_limiter *gw_addr_limiter_create(size_t capacity, gw_rate_policy p) {
  gw_addr_limiter *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->cap = capacity < PROBE ? PROBE : capacity;
  l->p = p;
  if (!(l->slots = calloc(l->cap, sizeof *l->slots))) {
    free(l);
    return NULL;
  }
  return l;
}

void gw_addr_limiter_destroy(gw_addr_limiter *l) {
  if (!l) return;
  free(l->slots);
  free(l);
}

size_t gw_addr_limiter_size(const gw_addr_limiter *l) { return l->used; }

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* An entry whose TAT is in the past is equivalent to a fresh one. */
static int at_rest(const slot *s, int64_t now_ns) {
  return s->g.tat <= (__int128)now_ns * (s->g.rate_milli > 0 ? s->g.rate_milli : 1);
}

static void sweep(gw_addr_limiter *l, int64_t now_ns) {
  /* Rebuild without the entries at rest, so probe runs stay unbroken. */
  slot *old = l->slots;
  slot *fresh = calloc(l->cap, sizeof *fresh);
  if (!fresh) return;
  l->slots = fresh;
  l->used = 0;
  for (size_t i = 0; i < l->cap; i++) {
    if (!old[i].addr[0] || at_rest(&old[i], now_ns)) continue;
    size_t h = fnv(old[i].addr) % l->cap;
    for (size_t k = 0; k < l->cap; k++) {
      slot *s = &fresh[(h + k) % l->cap];
      if (!s->addr[0]) {
        *s = old[i];
        l->used++;
        break;
      }
    }
  }
  free(old);
}

static slot *find_slot(gw_addr_limiter *l, const char *addr, int64_t now_ns) {
  size_t h = fnv(addr) % l->cap;
  slot *oldest = NULL;
  for (size_t k = 0; k < l->cap; k++) {
    slot *s = &l->slots[(h + k) % l->cap];
    if (!s->addr[0]) {
      if (l->used * 4 >= l->cap * 3 && k == 0) {
        sweep(l, now_ns);
        return find_slot(l, addr, now_ns);
      }
      snprintf(s->addr, sizeof s->addr, "%s", addr);
      l->used++;
      return s;
    }
    if (strcmp(s->addr, addr) == 0) return s;
    if (!oldest || s->last_ns < oldest->last_ns) oldest = s;
    if (k + 1 >= PROBE && l->used * 4 >= l->cap * 3) break;
  }
  sweep(l, now_ns);
  if (l->used * 4 < l->cap * 3) return find_slot(l, addr, now_ns);
  /* Everything is busy: reuse the least recent slot of the run. */
  memset(&oldest->g, 0, sizeof oldest->g);
  snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
  return oldest;
}

void gw_addr_limiter_take(gw_addr_limiter *l, const char *addr, int64_t now_ns, gw_rate_result *out) {
  slot *s = find_slot(l, addr, now_ns);
  s->last_ns = now_ns;
  gw_gcra_take(&s->g, l->p, now_ns, out);
}

/* text[i] then vals[i] in decimal, for each i < n:
 * a header field assembled without printf (these go on every answer). */
static void put_fields(fc_buf *out, const char *const *text, const int64_t *vals, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fc_buf_puts(out, text[i]);
    fc_buf_put_int(out, (long long)vals[i]);
  }
}

void gw_rate_headers(const gw_rate_result *r, int64_t rate_milli, int64_t quota_limit, int64_t quota_used,
                     int64_t quota_reset_s, int64_t retry_after, fc_buf *out) {
  int64_t window = (r->limit * 1000 + rate_milli - 1) / (rate_milli > 0 ? rate_milli : 1);
  if (window < 1) window = 1;
  int64_t left = quota_limit - quota_used;
  if (left < 0) left = 0;
  static const char *const policy[] = {"RateLimit-Policy: \"burst\";q=", ";w="};
  static const char *const state[] = {"\r\nRateLimit: \"burst\";r=", ";t="};
  static const char *const monthly_state[] = {", \"monthly\";r=", ";t="};
  static const char *const legacy[] = {
      "\r\nX-RateLimit-Limit: ", "\r\nX-RateLimit-Remaining: ", "\r\nX-RateLimit-Reset: "};
  put_fields(out, policy, (int64_t[]){r->limit, window}, 2);
  if (quota_limit > 0) {
    fc_buf_puts(out, ", \"monthly\";q=");
    fc_buf_put_int(out, (long long)quota_limit);
    fc_buf_puts(out, ";w=2592000");
  }
  put_fields(out, state, (int64_t[]){r->remaining, r->reset_s}, 2);
  if (quota_limit > 0) put_fields(out, monthly_state, (int64_t[]){left, quota_reset_s}, 2);
  put_fields(out, legacy, (int64_t[]){r->limit, r->remaining, r->reset_s}, 3);
  fc_buf_puts(out, "\r\n");
  if (retry_after > 0) {
    fc_buf_puts(out, "Retry-After: ");
    fc_buf_put_int(out, (long long)retry_after);
    fc_buf_puts(out, "\r\n");
  }
}
