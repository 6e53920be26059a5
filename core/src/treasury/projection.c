/* projection.c: the Tier-1 rule projection, depletion, rebalancing, JSON. */
#include "fc/projection.h"
#include "fc/time.h"
#include "internal.h"
#include "projection_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CCY 64
static const int depletion_hours[4] = {24, 48, 72, 96};

fc_projection_params fc_projection_defaults(void) {
  fc_projection_params p;
  memset(&p, 0, sizeof p);
  p.now = FC_TIME_NONE;
  p.horizon_hours = 48;
  p.risk_medium = 0.1;
  p.risk_high = 0.5;
  p.lead_hours = 12;
  return p;
}

/* ---- "CODE=value" lists: floors and exchange rates ---- */

/* Number of decimals written in a decimal text (at most FC_SCALE_MAX + 1,
 * so that too many still fails to parse). */
static int written_decimals(const char *v, size_t len) {
  const char *dot = memchr(v, '.', len);
  return dot ? (int)FC__MIN(len - (size_t)(dot - v) - 1, (size_t)FC_SCALE_MAX + 1) : 0;
}

/* Checks a whole floors spec ("USDC=25000,*=0") before any currency reads
 * it: every code is '*' or a known currency, every amount a decimal in that
 * currency's scale, no empty item. */
static int check_floors(const char *spec, const fc_currencies *ccy, fc_err *err) {
  const char *p = spec;
  int rc;
  if (spec == NULL) return FC_OK;
  while (*p) {
    size_t n = strcspn(p, "=,"), vlen;
    const char *v;
    char code[FC_CCY_MAX];
    int scale;
    int64_t val;
    if (p[n] != '=' || n == 0 || n >= FC_CCY_MAX)
      return fc__err(err, FC_EPARSE, "floors '%.60s': want CODE=AMOUNT[,CODE=AMOUNT]", spec);
    memcpy(code, p, n);
    code[n] = '\0';
    v = p + n + 1;
    vlen = strcspn(v, ",");
    if (strcmp(code, "*") == 0) {
      scale = FC__MIN(written_decimals(v, vlen), FC_SCALE_MAX);
    } else if ((scale = fc_currencies_scale(ccy, code)) < 0) {
      return fc__err(err, FC_ECURRENCY, "floors '%.60s': unknown currency '%s'", spec, code);
    }
    if ((rc = fc_money_parse(v, vlen, scale, &val, err)) != FC_OK)
      return fc__err_prefix(err, rc, "floor of %s: ", code);
    if (val < 0)
      return fc__err(err, FC_ERANGE, "floor of %s: %.*s is negative; a floor is the least balance to keep (0 or more)",
                     code, (int)FC__MIN(vlen, 40), v);
    p = v + vlen;
    if (*p == ',' && *++p == '\0')
      return fc__err(err, FC_EPARSE, "floors '%.60s': empty item after the last comma", spec);
  }
  return FC_OK;
}

/* The floor of ccy in a spec that check_floors accepted: its own item, else
 * '*', else 0. */
static int floor_for(const char *spec, const char *ccy, int scale, int64_t *out, fc_err *err) {
  const char *p = spec;
  int found_star = 0, rc;
  int64_t star = 0;
  *out = 0;
  if (spec == NULL) return FC_OK;
  while (*p) {
    size_t n = strcspn(p, "="), vlen;
    const char *v = p + n + 1;
    vlen = strcspn(v, ",");
    if ((n == 1 && p[0] == '*') || (strlen(ccy) == n && strncmp(p, ccy, n) == 0)) {
      int64_t val;
      if ((rc = fc_money_parse(v, vlen, scale, &val, err)) != FC_OK)
        return fc__err_prefix(err, rc, "floor of %.*s for %s: ", (int)n, p, ccy);
      if (p[0] != '*') {
        *out = val;
        return FC_OK;
      }
      found_star = 1;
      star = val;
    }
    p = v + vlen;
    if (*p == ',') p++;
  }
  if (found_star) *out = star;
  return FC_OK;
}

typedef fc__fx_rate fx_rate;

int fc__parse_fx(const char *spec, fx_rate *out, size_t cap, size_t *n, fc_err *err) {
  const char *p = spec ? spec : "USD/USDC=1,USD/USDT=1,EUR/EURC=1";
  *n = 0;
  while (*p) {
    size_t a = strcspn(p, "/=,"), b;
    char num[64];
    char *end;
    fx_rate r;
    if (p[a] != '/' || a == 0 || a >= FC_CCY_MAX) goto bad;
    b = strcspn(p + a + 1, "=,");
    if (p[a + 1 + b] != '=' || b == 0 || b >= FC_CCY_MAX) goto bad;
    memcpy(r.from, p, a);
    r.from[a] = '\0';
    memcpy(r.to, p + a + 1, b);
    r.to[b] = '\0';
    p += a + b + 2;
    a = strcspn(p, ",");
    if (a == 0 || a >= sizeof num) goto bad;
    memcpy(num, p, a);
    num[a] = '\0';
    r.rate = strtod(num, &end);
    if (*end != '\0' || !(r.rate > 0) || !isfinite(r.rate)) goto bad;
    if (*n < cap) out[(*n)++] = r;
    p += a;
    if (*p == ',') p++;
  }
  return FC_OK;
bad:
  return fc__err(err, FC_EPARSE, "fx '%.60s': want FROM/TO=RATE[,FROM/TO=RATE] with RATE > 0", spec);
}

/* Units of `to` that one unit of `from` buys; 0 when no rate is known. */
double fc__fx_lookup(const fx_rate *r, size_t n, const char *from, const char *to) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(r[i].from, from) == 0 && strcmp(r[i].to, to) == 0) return r[i].rate;
    if (strcmp(r[i].from, to) == 0 && strcmp(r[i].to, from) == 0) return 1.0 / r[i].rate;
  }
  return 0.0;
}

/* ---- per-currency rule ---- */

/* Position of c in list (of n), trying *hint first; SIZE_MAX if absent. */
static size_t ccy_index(char (*list)[FC_CCY_MAX], size_t n, const char *c, size_t *hint) {
  if (*hint < n && strcmp(list[*hint], c) == 0) return *hint;
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], c) == 0) return *hint = i;
  return SIZE_MAX;
}

static int add_ccy(char (*list)[FC_CCY_MAX], size_t *n, const char *c, size_t *hint) {
  if (ccy_index(list, *n, c, hint) != SIZE_MAX) return FC_OK;
  if (*n >= MAX_CCY) return FC_ERANGE;
  memcpy(list[*n], c, FC_CCY_MAX);
  *hint = (*n)++;
  return FC_OK;
}

static int cmp_ccy(const void *a, const void *b) { return strcmp(a, b); }

static int cmp_runway(const void *a, const void *b) {
  const fc_stream_runway *x = a, *y = b;
  if (x->runway.hours_until_depleted != y->runway.hours_until_depleted)
    return x->runway.hours_until_depleted < y->runway.hours_until_depleted ? -1 : 1;
  if (x->runway.status != y->runway.status) return x->runway.status < y->runway.status ? -1 : 1;
  return strcmp(x->stream.id, y->stream.id);
}

static size_t hour_bucket(int64_t at, int64_t now) {
  int64_t d = at - now;
  return d <= 0 ? 1 : (size_t)((d + 3599) / 3600);
}

/* a + b clamped to the int64 range (recommendation arithmetic, where a
 * clamped need simply becomes a partial move). */
static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (fc_money_add(a, b, &r) == FC_OK) return r;
  return b > 0 ? INT64_MAX : INT64_MIN;
}
static int64_t sat_sub(int64_t a, int64_t b) {
  return b == INT64_MIN ? sat_add(sat_add(a, INT64_MAX), 1) : sat_add(a, -b);
}

static int overflow(fc_err *err, const char *ccy, const char *what) {
  return fc__err(err, FC_ERANGE, "%s: %s exceed the int64 range of minor units", ccy, what);
}

/* Hourly sums of one currency, filled by one pass over the tenant's data:
 * out_h/in_h[k] what falls in hour k, drain_cum[k] the streams' drain over
 * the first k hours. */
typedef struct {
  int64_t *out_h, *in_h, *drain_cum;
} ccy_sums;

/* Buckets the tenant's pending transfers scheduled in [now, end] by
 * currency and hour, in one pass over all transfers. */
static int bucket_transfers(const fc_treasury *t, const char *tenant, const fc_projection_params *p, fc_projection *pr,
                            char (*ccys)[FC_CCY_MAX], ccy_sums *sums, fc_err *err) {
  const fc_transfer *tr;
  size_t nt = fc_treasury_transfers(t, &tr), hint = 0;
  int64_t end = p->now + (int64_t)p->horizon_hours * 3600;
  for (size_t i = 0; i < nt; i++) {
    fc_currency_projection *cp;
    size_t c, k;
    int dir;
    if (tr[i].status != FC_TRANSFER_PENDING || tr[i].scheduled_for == FC_TIME_NONE || tr[i].scheduled_for < p->now ||
        tr[i].scheduled_for > end || strcmp(tr[i].tenant_id, tenant) != 0)
      continue;
    if ((c = ccy_index(ccys, pr->n_currencies, tr[i].currency, &hint)) == SIZE_MAX) continue;
    if ((dir = fc_treasury_direction(t, &tr[i])) == 0) continue;
    cp = &pr->currencies[c];
    k = hour_bucket(tr[i].scheduled_for, p->now);
    if (dir < 0 && (fc_money_add(sums[c].out_h[k], tr[i].amount, &sums[c].out_h[k]) ||
                    fc_money_add(cp->scheduled_out, tr[i].amount, &cp->scheduled_out)))
      return overflow(err, cp->currency, "scheduled outflows");
    if (dir > 0 && (fc_money_add(sums[c].in_h[k], tr[i].amount, &sums[c].in_h[k]) ||
                    fc_money_add(cp->scheduled_in, tr[i].amount, &cp->scheduled_in)))
      return overflow(err, cp->currency, "scheduled inflows");
  }
  return FC_OK;
}

/* Adds one stream's cumulative drain to drain_cum[1..H]. Once the stream
 * has drained all it holds, the rest of the horizon drains the same. */
static int add_stream_drain(const fc_stream *st, const fc_projection_params *p, int64_t *drain_cum, size_t H) {
  int64_t d = 0, left = st->funded_amount - st->total_streamed;
  for (size_t k = 1; k <= H; k++) {
    if (d < left || k == 1) d = fc_stream_drain(st, p->now, (int64_t)k * 3600);
    if (d == 0 && st->status != FC_STREAM_ACTIVE) return FC_OK;
    if (fc_money_add(drain_cum[k], d, &drain_cum[k]) != FC_OK) return FC_ERANGE;
  }
  return FC_OK;
}

static int collect_streams(const fc_treasury *t, const char *tenant, const fc_projection_params *p,
                           fc_currency_projection *cp, int64_t *drain_cum, fc_err *err) {
  const fc_stream *st;
  size_t ns = fc_treasury_streams(t, &st), H = (size_t)p->horizon_hours;
  for (size_t i = 0; i < ns; i++)
    if (strcmp(st[i].currency, cp->currency) == 0 && strcmp(st[i].tenant_id, tenant) == 0) cp->n_streams++;
  cp->streams = fc__calloc(cp->n_streams, sizeof *cp->streams);
  if (cp->streams == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  cp->n_streams = 0;
  for (size_t i = 0; i < ns; i++) {
    if (strcmp(st[i].currency, cp->currency) != 0 || strcmp(st[i].tenant_id, tenant) != 0) continue;
    {
      /* The answer keeps its own copy of the stream, so it outlives the
       * treasury (a what-if copy, say) it was computed from. */
      fc_stream_runway *sr = &cp->streams[cp->n_streams];
      char *id = fc__malloc(strlen(st[i].id) + 1), *ten = fc__malloc(strlen(st[i].tenant_id) + 1);
      if (id == NULL || ten == NULL) {
        fc__free(id);
        fc__free(ten);
        return fc__err(err, FC_ENOMEM, "out of memory");
      }
      sr->stream = st[i];
      sr->stream.id = strcpy(id, st[i].id);
      sr->stream.tenant_id = strcpy(ten, st[i].tenant_id);
      fc_runway_compute(&st[i], p->now, &sr->runway);
      cp->n_streams++;
    }
    if (add_stream_drain(&st[i], p, drain_cum, H) != FC_OK) return overflow(err, cp->currency, "stream drains");
  }
  qsort(cp->streams, cp->n_streams, sizeof *cp->streams, cmp_runway);
  return FC_OK;
}

/* Balance, streams, path, depletion and risk of one currency whose
 * scheduled transfers are already in sums. */
static int project_currency(const fc_treasury *t, const char *tenant, const fc_projection_params *p,
                            fc_currency_projection *cp, ccy_sums *sums, fc_err *err) {
  const fc_account *acc;
  size_t na = fc_treasury_accounts(t, &acc), H = (size_t)p->horizon_hours;
  int64_t cum_out = 0, cum_in = 0;
  int rc;
  cp->scale = fc_currencies_scale(fc_treasury_currencies(t), cp->currency);
  cp->n_path = H + 1;
  if ((cp->path = fc__calloc(H + 1, sizeof *cp->path)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < na; i++)
    if (strcmp(acc[i].tenant_id, tenant) == 0 && strcmp(acc[i].currency, cp->currency) == 0 &&
        fc_money_add(cp->balance, acc[i].balance_available, &cp->balance) != FC_OK)
      return overflow(err, cp->currency, "account balances");
  if ((rc = collect_streams(t, tenant, p, cp, sums->drain_cum, err)) != FC_OK) return rc;
  cp->stream_drain = sums->drain_cum[H];
  for (size_t k = 0; k <= H; k++) {
    fc_path_point *pt = &cp->path[k];
    int64_t bal;
    /* cum_out and cum_in stay within the checked totals. */
    cum_out += sums->out_h[k];
    cum_in += sums->in_h[k];
    if (fc_money_add(cp->balance, cum_in, &bal) || fc_money_add(bal, -cum_out, &bal) ||
        fc_money_add(bal, -sums->drain_cum[k], &bal))
      return overflow(err, cp->currency, "projected balances");
    pt->hour = (int)k;
    pt->at = p->now + (int64_t)k * 3600;
    pt->balance = bal;
    pt->p10 = pt->p50 = pt->p90 = fc_money_to_double(bal, cp->scale);
    pt->p2_5 = pt->p97_5 = pt->p50;
    pt->scheduled_out = fc_money_to_double(sums->out_h[k], cp->scale);
    pt->scheduled_in = fc_money_to_double(sums->in_h[k], cp->scale);
    pt->stream_drain = fc_money_to_double(k ? sums->drain_cum[k] - sums->drain_cum[k - 1] : 0, cp->scale);
  }
  cp->projected = cp->path[H].balance;
  /* Depletion against the floor, at hours (0, H]. */
  if ((rc = floor_for(p->floors, cp->currency, cp->scale, &cp->floor, err)) != FC_OK) return rc;
  cp->expected_at = FC_TIME_NONE;
  for (size_t k = 1; k <= H; k++)
    if (cp->path[k].balance < cp->floor) {
      cp->expected_at = cp->path[k].at;
      break;
    }
  for (int j = 0; j < 4; j++) {
    size_t h = (size_t)depletion_hours[j];
    if (h > H) {
      cp->p_below[j] = NAN;
      continue;
    }
    cp->p_below[j] = cp->expected_at != FC_TIME_NONE && cp->expected_at <= p->now + (int64_t)h * 3600;
  }
  cp->p_horizon = cp->expected_at != FC_TIME_NONE ? 1.0 : 0.0;
  {
    /* Risk reads the 48 h probability, or the whole horizon when shorter. */
    double p48 = H >= 48 ? cp->p_below[1] : (cp->expected_at != FC_TIME_NONE ? 1.0 : 0.0);
    cp->risk = p48 >= p->risk_high ? "high" : p48 >= p->risk_medium ? "medium" : "low";
  }
  for (int j = 0; j < 4; j++) cp->p_raw[j] = NAN;
  for (int j = 0; j < 3; j++)
    cp->breach_hours[j] = cp->expected_at == FC_TIME_NONE ? NAN : (double)((cp->expected_at - p->now) / 3600);
  {
    fc__driver_set ds;
    int64_t end = cp->expected_at != FC_TIME_NONE ? cp->expected_at : p->now + (int64_t)H * 3600;
    fc__drivers_init(&ds);
    fc__drivers_known(t, tenant, p->now, end, cp, &ds);
    fc__drivers_finish(&ds, cp);
  }
  cp->model_name = "rule";
  cp->model_version = 0;
  return FC_OK;
}

/* ---- rebalancing ---- */

static int64_t min_balance(const fc_currency_projection *c) {
  int64_t m = c->path[0].balance;
  for (size_t k = 1; k < c->n_path; k++) m = FC__MIN(m, c->path[k].balance);
  return m;
}

/* v rounded up to a multiple of unit (> 0), for v >= 0, clamped. */
static int64_t ceil_to(int64_t v, int64_t unit) {
  int64_t q = v / unit + (v % unit != 0);
  return q > INT64_MAX / unit ? INT64_MAX : q * unit;
}

/* Minor units of `from` (scale from_scale) that buy need_units of the
 * target at rate; INT64_MAX when beyond int64. */
static int64_t source_amount(double need_units, double rate, int from_scale) {
  double x = ceil(need_units / rate * (double)fc_pow10(from_scale));
  return x < 9.0e18 ? (int64_t)x : INT64_MAX;
}

/* For each currency that breaks its floor, the source with the most room
 * above its own floor (over its whole path, so that moving the money at
 * any hour keeps it above) covers the shortfall plus a margin. A source's
 * room is used up as it is handed out, so several deficits never draw the
 * same money twice. */
static int recommend(fc_projection *pr, const fc_projection_params *p, fc_err *err) {
  fx_rate fx[32];
  size_t nfx, n = pr->n_currencies;
  int64_t surplus[MAX_CCY];
  int rc = fc__parse_fx(p->fx, fx, 32, &nfx, err);
  if (rc != FC_OK) return rc;
  pr->recommendations = fc__calloc(n, sizeof *pr->recommendations);
  if (pr->recommendations == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) surplus[i] = sat_sub(min_balance(&pr->currencies[i]), pr->currencies[i].floor);
  for (size_t i = 0; i < n; i++) {
    fc_currency_projection *c = &pr->currencies[i];
    int64_t need, shortfall, unit = 100 * fc_pow10(c->scale);
    double best_cover = 0;
    size_t best = SIZE_MAX;
    if (c->expected_at == FC_TIME_NONE) continue;
    /* Shortfall plus a 10 % margin on the horizon's gross outflows, rounded
     * up to a whole hundred units. */
    shortfall = sat_sub(c->floor, min_balance(c));
    need = ceil_to(sat_add(shortfall, sat_add(c->scheduled_out, c->stream_drain) / 10), unit);
    for (size_t j = 0; j < n; j++) {
      double rate, cover;
      if (j == i || surplus[j] <= 0) continue;
      rate = fc__fx_lookup(fx, nfx, pr->currencies[j].currency, c->currency);
      if (rate <= 0) continue;
      cover = fc_money_to_double(surplus[j], pr->currencies[j].scale) * rate;
      if (cover > best_cover) best_cover = cover, best = j;
    }
    if (best == SIZE_MAX) continue;
    {
      fc_currency_projection *s = &pr->currencies[best];
      fc_recommendation *r = &pr->recommendations[pr->n_recommendations++];
      double rate = fc__fx_lookup(fx, nfx, s->currency, c->currency);
      int64_t amount = source_amount(fc_money_to_double(need, c->scale), rate, s->scale);
      int full = amount <= surplus[best];
      char when[FC_TIME_STR], fl[FC_MONEY_STR_MAX], sh[FC_MONEY_STR_MAX];
      int64_t by = fc_time_floor(c->expected_at - (int64_t)p->lead_hours * 3600, 3600);
      if (!full) amount = surplus[best];
      surplus[best] -= amount;
      memcpy(r->from_currency, s->currency, FC_CCY_MAX);
      memcpy(r->to_currency, c->currency, FC_CCY_MAX);
      r->amount = amount;
      r->from_scale = s->scale;
      r->by = by < pr->as_of ? pr->as_of : by;
      r->p_before = 1.0;
      r->p_after = full ? 0.0 : 1.0;
      r->target = NAN;
      fc_time_format(c->expected_at, when);
      fc_money_format(c->floor, c->scale, fl, sizeof fl);
      fc_money_format(shortfall, c->scale, sh, sizeof sh);
      snprintf(r->reason, sizeof r->reason,
               full ? "P(%s below floor within %dh) falls from 1.00 to 0.00: it would fall below %s at %s "
                      "(shortfall %s)"
                    : "P(%s below floor within %dh) stays 1.00 with partial cover: it falls below %s at %s "
                      "(shortfall %s) and no single currency can cover it",
               c->currency, pr->horizon_hours, fl, when, sh);
    }
  }
  return FC_OK;
}

/* ---- entry point ---- */

int fc__resolve_tenant(const fc_treasury *t, const char *want, const char **out, fc_err *err) {
  const char *list[2];
  size_t n = fc_treasury_tenants(t, list, 2);
  if (want != NULL) {
    const char *all[1];
    size_t total = fc_treasury_tenants(t, all, 0);
    const char **names = fc__mallocarray(total, sizeof *names);
    if (names == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    fc_treasury_tenants(t, names, total);
    for (size_t i = 0; i < total; i++)
      if (strcmp(names[i], want) == 0) {
        *out = names[i];
        fc__free(names);
        return FC_OK;
      }
    fc__free(names);
    return fc__err(err, FC_ENOTFOUND, "no data for tenant '%.80s'", want);
  }
  if (n == 0) return fc__err(err, FC_ETOOSHORT, "no accounts, transfers or streams loaded");
  if (n > 1) return fc__err(err, FC_EINVAL, "the data holds several tenants: name one");
  *out = list[0];
  return FC_OK;
}

int fc_project_rule(const fc_treasury *t, const fc_projection_params *p, fc_projection **out, fc_err *err) {
  char ccys[MAX_CCY][FC_CCY_MAX];
  size_t n_ccy = 0, hint = 0;
  const char *tenant = NULL;
  fc_projection *pr;
  ccy_sums sums[MAX_CCY];
  int64_t *work = NULL;
  int rc;
  *out = NULL;
  if (p->now == FC_TIME_NONE) return fc__err(err, FC_EINVAL, "the projection needs 'now'");
  if (p->horizon_hours < FC_HORIZON_MIN || p->horizon_hours > FC_HORIZON_MAX)
    return fc__err(err, FC_ERANGE, "horizon %d hours is outside %d..%d", p->horizon_hours, FC_HORIZON_MIN,
                   FC_HORIZON_MAX);
  if (p->now < FC_TIME_MIN || p->now > FC_TIME_MAX - (int64_t)p->horizon_hours * 3600)
    return fc__err(err, FC_ERANGE, "as_of plus %d hours must lie in years 0001..9999", p->horizon_hours);
  if ((rc = fc__resolve_tenant(t, p->tenant_id, &tenant, err)) != FC_OK) return rc;
  if ((rc = check_floors(p->floors, fc_treasury_currencies(t), err)) != FC_OK) return rc;
  {
    const fc_account *a;
    const fc_transfer *tr;
    const fc_stream *s;
    size_t na = fc_treasury_accounts(t, &a), nt = fc_treasury_transfers(t, &tr);
    size_t ns = fc_treasury_streams(t, &s);
    for (size_t i = 0; i < na && rc == FC_OK; i++)
      if (strcmp(a[i].tenant_id, tenant) == 0) rc = add_ccy(ccys, &n_ccy, a[i].currency, &hint);
    for (size_t i = 0; i < ns && rc == FC_OK; i++)
      if (strcmp(s[i].tenant_id, tenant) == 0) rc = add_ccy(ccys, &n_ccy, s[i].currency, &hint);
    for (size_t i = 0; i < nt && rc == FC_OK; i++)
      if (tr[i].status == FC_TRANSFER_PENDING && strcmp(tr[i].tenant_id, tenant) == 0)
        rc = add_ccy(ccys, &n_ccy, tr[i].currency, &hint);
    if (rc != FC_OK) return fc__err(err, FC_ERANGE, "more than %d currencies", MAX_CCY);
  }
  if (p->currency != NULL) {
    size_t i = 0;
    if (fc_currencies_scale(fc_treasury_currencies(t), p->currency) < 0)
      return fc__err(err, FC_ECURRENCY, "unknown currency '%.20s'", p->currency);
    while (i < n_ccy && strcmp(ccys[i], p->currency) != 0) i++;
    if (i == n_ccy) return fc__err(err, FC_ENOTFOUND, "tenant '%.80s' holds no %s", tenant, p->currency);
    memcpy(ccys[0], ccys[i], FC_CCY_MAX);
    n_ccy = 1;
  }
  qsort(ccys, n_ccy, FC_CCY_MAX, cmp_ccy);
  pr = fc__calloc(1, sizeof *pr);
  if (pr == NULL || (pr->currencies = fc__calloc(n_ccy, sizeof *pr->currencies)) == NULL ||
      (work = fc__calloc(n_ccy * 3 * ((size_t)p->horizon_hours + 1), sizeof *work)) == NULL) {
    if (pr) fc__free(pr->currencies);
    fc__free(pr);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  snprintf(pr->tenant_id, sizeof pr->tenant_id, "%s", tenant);
  pr->as_of = p->now;
  pr->horizon_hours = p->horizon_hours;
  pr->method = "rule";
  pr->n_currencies = n_ccy;
  for (size_t i = 0; i < n_ccy; i++) {
    size_t len = (size_t)p->horizon_hours + 1;
    memcpy(pr->currencies[i].currency, ccys[i], FC_CCY_MAX);
    sums[i].out_h = work + 3 * i * len;
    sums[i].in_h = sums[i].out_h + len;
    sums[i].drain_cum = sums[i].in_h + len;
  }
  rc = bucket_transfers(t, tenant, p, pr, ccys, sums, err);
  for (size_t i = 0; i < n_ccy && rc == FC_OK; i++)
    rc = project_currency(t, tenant, p, &pr->currencies[i], &sums[i], err);
  fc__free(work);
  if (rc == FC_OK) rc = recommend(pr, p, err);
  if (rc != FC_OK) {
    fc_projection_destroy(pr);
    return rc;
  }
  *out = pr;
  return FC_OK;
}

void fc_projection_destroy(fc_projection *p) {
  if (p == NULL) return;
  for (size_t i = 0; i < p->n_currencies; i++) {
    for (size_t j = 0; j < p->currencies[i].n_streams; j++) {
      fc__free((char *)p->currencies[i].streams[j].stream.id);
      fc__free((char *)p->currencies[i].streams[j].stream.tenant_id);
    }
    fc__free(p->currencies[i].path);
    fc__free(p->currencies[i].streams);
    fc__free(p->currencies[i].model_extra);
  }
  fc__free(p->currencies);
  fc__free(p->recommendations);
  fc__free(p);
}

/* ---- JSON ---- */

static void money_str(fc_jw *w, int64_t v, int scale) {
  char s[FC_MONEY_STR_MAX];
  fc_money_format(v, scale, s, sizeof s);
  fc_jw_str(w, s);
}

static void time_str(fc_jw *w, int64_t t) {
  char s[FC_TIME_STR];
  if (t == FC_TIME_NONE) {
    fc_jw_null(w);
    return;
  }
  fc_time_format(t, s);
  fc_jw_str(w, s);
}

const char *const fc_path_fields[10] = {"p10",          "p50",          "p90",           "scheduled_out",
                                        "scheduled_in", "stream_drain", "predicted_out", "predicted_in",
                                        "p2_5",         "p97_5"};

static void write_drivers(fc_jw *w, const fc_currency_projection *c) {
  fc_jw_array(w);
  for (size_t i = 0; i < c->n_drivers; i++) {
    const fc_driver *d = &c->drivers[i];
    fc_jw_object(w);
    fc_jw_key(w, "kind"), fc_jw_str(w, d->kind);
    fc_jw_key(w, "id"), fc_jw_str(w, d->id[0] ? d->id : NULL);
    fc_jw_key(w, "amount"), money_str(w, d->amount, c->scale);
    fc_jw_key(w, "at"), time_str(w, d->at);
    fc_jw_key(w, "share"), fc_jw_fixed(w, d->share, 3);
    fc_jw_key(w, "text"), fc_jw_str(w, d->text);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

int fc_projection_write_drivers(const fc_currency_projection *c, fc_buf *b) {
  fc_jw w;
  fc_jw_init(&w, b);
  write_drivers(&w, c);
  return fc_jw_finish(&w);
}

/* A probability with three decimals (null when NAN): 0.005 steps matter
 * for alert thresholds. */
static void json_prob(fc_jw *w, double v) {
  if (isnan(v)) fc_jw_null(w);
  else fc_jw_fixed(w, v, 3);
}

/* {"24h":p,"48h":p,...} over the depletion horizons. */
static void json_probs(fc_jw *w, const double *p) {
  fc_jw_object(w);
  for (int j = 0; j < 4; j++) {
    char key[8];
    snprintf(key, sizeof key, "%dh", depletion_hours[j]);
    fc_jw_key(w, key), json_prob(w, p[j]);
  }
  fc_jw_end(w);
}

static void write_stream(fc_jw *w, const fc_stream_runway *sr, int scale) {
  const fc_runway *r = &sr->runway;
  char rate[FC_DECIMAL_STR_MAX];
  /* As many decimals as the answer always had (scale + 6), more when the
   * rate has more: the printed rate is the exact one. */
  if (fc_decimal_format(sr->stream.flow_rate, FC__MIN(scale + FC_RATE_EXTRA_DIGITS, FC_DECIMAL_DIGITS_MAX), rate,
                        sizeof rate) < 0)
    rate[0] = '\0';
  fc_jw_object(w);
  fc_jw_key(w, "id"), fc_jw_str(w, sr->stream.id);
  fc_jw_key(w, "status"), fc_jw_str(w, fc_stream_status_name(sr->stream.status));
  fc_jw_key(w, "flow_rate_per_second"), fc_jw_str(w, rate);
  fc_jw_key(w, "remaining"), money_str(w, r->remaining, scale);
  fc_jw_key(w, "hours_until_depleted");
  if (isfinite(r->hours_until_depleted)) fc_jw_fixed(w, r->hours_until_depleted, 2);
  else fc_jw_null(w);
  fc_jw_key(w, "runway_status"), fc_jw_str(w, fc_runway_status_name(r->status));
  fc_jw_key(w, "seconds_since_last_pause");
  if (r->seconds_since_last_pause >= 0) fc_jw_int(w, (long long)r->seconds_since_last_pause);
  else fc_jw_null(w);
  fc_jw_end(w);
}

static void write_rule(fc_jw *w, const fc_currency_projection *c) {
  fc_jw_key(w, "rule"), fc_jw_object(w);
  fc_jw_key(w, "scheduled_outflows"), money_str(w, c->scheduled_out, c->scale);
  fc_jw_key(w, "scheduled_inflows"), money_str(w, c->scheduled_in, c->scale);
  fc_jw_key(w, "stream_drain"), money_str(w, c->stream_drain, c->scale);
  fc_jw_key(w, "projected_balance"), money_str(w, c->projected, c->scale);
  fc_jw_end(w);
}

static void write_path(fc_jw *w, const fc_currency_projection *c) {
  fc_jw_key(w, "path"), fc_jw_array(w);
  for (size_t k = 0; k < c->n_path; k++) {
    const fc_path_point *pt = &c->path[k];
    const double v[] = {pt->p10,          pt->p50,           pt->p90,          pt->scheduled_out, pt->scheduled_in,
                        pt->stream_drain, pt->predicted_out, pt->predicted_in, pt->p2_5,          pt->p97_5};
    fc_jw_object(w);
    fc_jw_key(w, "hour"), fc_jw_int(w, pt->hour);
    fc_jw_key(w, "at"), time_str(w, pt->at);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) fc_jw_key(w, fc_path_fields[i]), fc_jw_fixed(w, v[i], c->scale);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

static void write_depletion(fc_jw *w, const fc_currency_projection *c) {
  static const char *q[3] = {"p10", "p50", "p90"};
  fc_jw_key(w, "depletion"), fc_jw_object(w);
  fc_jw_key(w, "floor"), money_str(w, c->floor, c->scale);
  fc_jw_key(w, "probability"), json_probs(w, c->p_below);
  fc_jw_key(w, "expected_at"), time_str(w, c->expected_at);
  fc_jw_key(w, "risk"), fc_jw_str(w, c->risk);
  fc_jw_key(w, "probability_raw");
  if (isnan(c->p_raw[1]) && isnan(c->p_raw[0])) fc_jw_null(w);
  else json_probs(w, c->p_raw);
  fc_jw_key(w, "time_to_breach_hours"), fc_jw_object(w);
  for (int j = 0; j < 3; j++) {
    fc_jw_key(w, q[j]);
    if (isnan(c->breach_hours[j])) fc_jw_null(w);
    else fc_jw_fixed(w, c->breach_hours[j], 0);
  }
  fc_jw_end(w);
  fc_jw_key(w, "drivers"), write_drivers(w, c);
  fc_jw_end(w);
}

int fc__model_extra_set(fc_currency_projection *cp, fc_jw *w) {
  fc_buf *b = w->b;
  int rc = fc_jw_finish(w);
  fc_buf_putc(b, '\0');
  if (rc == FC_OK && fc_buf_failed(b)) rc = FC_ENOMEM;
  if (rc != FC_OK) {
    fc_buf_free(b);
    return rc;
  }
  cp->model_extra = b->data; /* the buffer's storage is fc__malloc'd: fc_projection_destroy frees it */
  return FC_OK;
}

static void write_model(fc_jw *w, const fc_currency_projection *c) {
  fc_jw_key(w, "model"), fc_jw_object(w);
  fc_jw_key(w, "name"), fc_jw_str(w, c->model_name);
  fc_jw_key(w, "version"), fc_jw_int(w, c->model_version);
  fc_jw_key(w, "backtest"), fc_jw_object(w);
  fc_jw_key(w, "mae_48h");
  if (c->has_backtest) fc_jw_fixed(w, c->backtest_mae_48h, c->scale);
  else fc_jw_null(w);
  fc_jw_key(w, "coverage_80");
  if (c->has_backtest) fc_jw_fixed(w, c->backtest_coverage_80, 3);
  else fc_jw_null(w);
  fc_jw_end(w);
  /* The method's own members, written when it ran (projection.h). */
  if (c->model_extra) fc_jw_members(w, c->model_extra);
  fc_jw_end(w);
}

static void write_currency(fc_jw *w, const fc_currency_projection *c) {
  fc_jw_object(w);
  fc_jw_key(w, "currency"), fc_jw_str(w, c->currency);
  fc_jw_key(w, "current_balance"), money_str(w, c->balance, c->scale);
  write_rule(w, c);
  write_path(w, c);
  write_depletion(w, c);
  fc_jw_key(w, "streams"), fc_jw_array(w);
  for (size_t i = 0; i < c->n_streams; i++) write_stream(w, &c->streams[i], c->scale);
  fc_jw_end(w);
  write_model(w, c);
  fc_jw_end(w);
}

static void write_recommendation(fc_jw *w, const fc_recommendation *r) {
  fc_jw_object(w);
  fc_jw_key(w, "from_currency"), fc_jw_str(w, r->from_currency);
  fc_jw_key(w, "to_currency"), fc_jw_str(w, r->to_currency);
  fc_jw_key(w, "amount"), money_str(w, r->amount, r->from_scale);
  fc_jw_key(w, "by"), time_str(w, r->by);
  fc_jw_key(w, "reason"), fc_jw_str(w, r->reason);
  fc_jw_key(w, "probability_before"), json_prob(w, r->p_before);
  fc_jw_key(w, "probability_after"), json_prob(w, r->p_after);
  fc_jw_key(w, "target_probability"), json_prob(w, r->target);
  fc_jw_end(w);
}

int fc_projection_write_json(const fc_projection *p, fc_buf *b) {
  fc_jw w;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "tenant_id"), fc_jw_str(&w, p->tenant_id);
  fc_jw_key(&w, "as_of"), time_str(&w, p->as_of);
  fc_jw_key(&w, "horizon_hours"), fc_jw_int(&w, p->horizon_hours);
  fc_jw_key(&w, "method"), fc_jw_str(&w, p->method);
  fc_jw_key(&w, "currencies"), fc_jw_array(&w);
  for (size_t i = 0; i < p->n_currencies; i++) write_currency(&w, &p->currencies[i]);
  fc_jw_end(&w);
  fc_jw_key(&w, "recommendations"), fc_jw_array(&w);
  for (size_t i = 0; i < p->n_recommendations; i++) write_recommendation(&w, &p->recommendations[i]);
  fc_jw_end(&w);
  fc_jw_end(&w);
  fc_buf_putc(b, '\n');
  return fc_jw_finish(&w);
}
