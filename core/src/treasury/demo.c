/* demo.c: the demo tenant generator.
 *
 * A mid-size payments company with USD, EUR, GBP and USDC accounts. Its
 * history has the shapes the models should find: a business-hours
 * intraday profile, quieter weekends, a month-end surge, a daily sweep and
 * a six-hourly cloud bill (both recurring), weekly payroll, monthly
 * vendors on the 1st. Pending scheduled payouts and ~35 streams drive USDC
 * below zero within two days, so the page shows a depletion and a USD to
 * USDC rebalancing recommendation.
 */
#include "fc/demo.h"
#include "fc/calendar.h"
#include "fc/money.h"
#include "fc/rng.h"
#include "fc/time.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fc_demo_params fc_demo_defaults(void) {
  fc_demo_params p;
  p.seed = 42;
  p.tenant_id = "demo";
  p.now = INT64_C(1764590400); /* 2025-12-01T12:00:00Z */
  p.history_days = 11;
  return p;
}

typedef struct {
  int64_t at, sched;
  int64_t amount;
  const char *from, *to, *ccy, *status;
  char from_buf[32], to_buf[32];
} demo_tr;

typedef struct {
  demo_tr *v;
  size_t n, cap;
  int failed;
} tr_list;

static demo_tr *push(tr_list *l) {
  void *v = l->v;
  if (l->failed || fc__grow(&v, &l->cap, l->n + 1, sizeof *l->v) != FC_OK) {
    l->failed = 1;
    return NULL;
  }
  l->v = v;
  memset(&l->v[l->n], 0, sizeof *l->v);
  l->v[l->n].status = "completed";
  l->v[l->n].sched = FC_TIME_NONE;
  return &l->v[l->n++];
}

static int scale_of(const char *ccy) { return strcmp(ccy, "USDC") == 0 ? 6 : 2; }

/* A log-normal amount with the given median in currency units, in minor units. */
static int64_t amount(fc_rng *r, double median, double sigma, const char *ccy) {
  double units = median * exp(sigma * fc_rng_normal(r));
  return (int64_t)llround(units * 100.0) * (scale_of(ccy) == 6 ? 10000 : 1);
}

/* Relative activity by hour of day (UTC) and weekday. */
static double intensity(int64_t t) {
  static const double hour_w[24] = {0.15, 0.1, 0.1,  0.1, 0.15, 0.25, 0.45, 0.7,  1.0, 1.35, 1.6, 1.7,
                                    1.65, 1.7, 1.75, 1.6, 1.4,  1.1,  0.85, 0.65, 0.5, 0.4,  0.3, 0.2};
  fc_calendar c;
  double w;
  fc_calendar_features(t, fc_calendar_defaults(), &c);
  w = hour_w[c.hour] * (c.iso_dow >= 6 ? 0.4 : 1.0);
  if (c.is_month_end) w *= 1.8;
  return w;
}

static void flow(tr_list *l, fc_rng *r, int64_t start, int64_t end, double per_day, const char *acct,
                 const char *ext_prefix, int n_ext, int outflow, double median, const char *ccy) {
  for (int64_t h = start; h < end; h += 3600) {
    /* Poisson arrivals per hour by inversion; the mean follows the profile. */
    double lambda = per_day / 24.0 * intensity(h) / 0.86, u = fc_rng_uniform(r), p = exp(-lambda), cdf = p;
    int k = 0;
    while (u > cdf && k < 200) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    for (int i = 0; i < k; i++) {
      demo_tr *t = push(l);
      if (t == NULL) return;
      t->at = h + (int64_t)fc_rng_below(r, 3600);
      t->amount = amount(r, median, 0.9, ccy);
      t->ccy = ccy;
      snprintf(outflow ? t->to_buf : t->from_buf, 32, "%s-%03d", ext_prefix, (int)fc_rng_below(r, (uint64_t)n_ext));
      /* NULL names the row's own buffer: rows move when the list grows. */
      if (outflow) t->from = acct, t->to = NULL;
      else t->to = acct, t->from = NULL;
      /* A few payments fail or are cancelled, as in any real ledger. */
      if (fc_rng_uniform(r) < 0.015) t->status = fc_rng_uniform(r) < 0.7 ? "failed" : "cancelled";
    }
  }
}

static void fixed(tr_list *l, int64_t at, const char *from, const char *to, const char *ccy, int64_t minor,
                  const char *status, int64_t sched) {
  demo_tr *t = push(l);
  if (t == NULL) return;
  t->at = at;
  t->from = from;
  t->to = to;
  t->ccy = ccy;
  t->amount = minor;
  t->status = status;
  t->sched = sched;
}

static int cmp_tr(const void *a, const void *b) {
  const demo_tr *x = a, *y = b;
  if (x->at != y->at) return x->at < y->at ? -1 : 1;
  return x->amount < y->amount ? -1 : x->amount > y->amount;
}

static void money(fc_buf *b, int64_t v, int scale) {
  char s[FC_MONEY_STR_MAX];
  fc_money_format(v, scale, s, sizeof s);
  fc_buf_puts(b, s);
}

static void stamp(fc_buf *b, int64_t t) {
  char s[FC_TIME_STR];
  fc_time_format(t, s);
  fc_buf_puts(b, s);
}

#define UNITS(x, ccy) ((int64_t)(x) * (scale_of(ccy) == 6 ? 1000000 : 100))

static void write_accounts(fc_buf *b, const char *tenant) {
  static const struct {
    const char *id, *ccy;
    int64_t units;
  } acc[] = {{"acc-usd-operating", "USD", 2450000}, {"acc-usd-payroll", "USD", 380000},
             {"acc-eur-operating", "EUR", 610000},  {"acc-gbp-operating", "GBP", 240000},
             {"acc-usdc-treasury", "USDC", 180000}, {"acc-usdc-payouts", "USDC", 40000}};
  fc_buf_puts(b, "id,tenant_id,currency,balance_available\n");
  for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++) {
    fc_buf_printf(b, "%s,%s,%s,", acc[i].id, tenant, acc[i].ccy);
    money(b, UNITS(acc[i].units, acc[i].ccy), scale_of(acc[i].ccy));
    fc_buf_putc(b, '\n');
  }
}

static void history(tr_list *l, fc_rng *r, int64_t start, int64_t now) {
  int64_t day0 = fc_time_floor(start, 86400);
  flow(l, r, start, now, 150, "acc-usd-operating", "ext-merchant", 240, 1, 1800, "USD");
  flow(l, r, start, now, 90, "acc-usd-operating", "ext-customer", 400, 0, 3100, "USD");
  flow(l, r, start, now, 30, "acc-eur-operating", "ext-supplier-eu", 60, 1, 2400, "EUR");
  flow(l, r, start, now, 25, "acc-eur-operating", "ext-client-eu", 90, 0, 2900, "EUR");
  flow(l, r, start, now, 14, "acc-gbp-operating", "ext-supplier-uk", 40, 1, 1900, "GBP");
  flow(l, r, start, now, 12, "acc-gbp-operating", "ext-client-uk", 50, 0, 2300, "GBP");
  flow(l, r, start, now, 28, "acc-usdc-payouts", "ext-wallet", 300, 1, 1400, "USDC");
  for (int64_t d = day0; d < now; d += 86400) {
    fc_calendar c;
    fc_calendar_features(d, fc_calendar_defaults(), &c);
    /* Daily 02:00 sweep of excess USD to the bank: about 50k, +-1 %. */
    if (d + 2 * 3600 >= start && d + 2 * 3600 < now) {
      /* Draw in statement order: C leaves the order of argument evaluation
       * open, and gcc and clang differ, which would split native from WASM. */
      int64_t jitter = (int64_t)fc_rng_below(r, 300);
      int64_t noise = (int64_t)(fc_rng_normal(r) * 50000.0);
      fixed(l, d + 2 * 3600 + jitter, "acc-usd-operating", "ext-sweep-bank", "USD", UNITS(50000, "USD") + noise,
            "completed", FC_TIME_NONE);
    }
    /* Daily 06:00 USDC top-up of the payout wallet from treasury (internal). */
    if (d + 6 * 3600 >= start && d + 6 * 3600 < now)
      fixed(l, d + 6 * 3600, "acc-usdc-treasury", "acc-usdc-payouts", "USDC", UNITS(30000, "USDC"), "completed",
            FC_TIME_NONE);
    /* Cloud bill every six hours: exactly 125.00. */
    for (int k = 0; k < 4; k++) {
      int64_t at = d + k * 6 * 3600 + 900;
      if (at >= start && at < now)
        fixed(l, at, "acc-usd-operating", "ext-cloud-provider", "USD", UNITS(125, "USD"), "completed", FC_TIME_NONE);
    }
    /* Friday 15:00 payroll. */
    if (c.iso_dow == 5 && d + 15 * 3600 >= start && d + 15 * 3600 < now)
      fixed(l, d + 15 * 3600, "acc-usd-payroll", "ext-payroll-provider", "USD", UNITS(265000, "USD"), "completed",
            FC_TIME_NONE);
    /* Vendors on the 1st at 09:00. */
    if (c.day_of_month == 1 && d + 9 * 3600 < now) {
      fixed(l, d + 9 * 3600, "acc-usd-operating", "ext-vendor-rent", "USD", UNITS(84000, "USD"), "completed",
            FC_TIME_NONE);
      fixed(l, d + 9 * 3600 + 60, "acc-eur-operating", "ext-vendor-eu-lease", "EUR", UNITS(36500, "EUR"), "completed",
            FC_TIME_NONE);
    }
  }
}

static void scheduled(tr_list *l, fc_rng *r, int64_t now) {
  static const struct {
    int hours;
    const char *from, *to, *ccy;
    int64_t units;
  } s[] = {
      {6, "acc-usdc-payouts", "ext-wallet-batch-a", "USDC", 60000},
      {21, "acc-usdc-treasury", "ext-wallet-batch-b", "USDC", 85000},
      {22, "acc-usd-operating", "ext-vendor-batch", "USD", 320000},
      {23, "acc-eur-operating", "ext-supplier-eu-batch", "EUR", 140000},
      {28, "ext-acquirer", "acc-usd-operating", "USD", 210000},
      {32, "acc-usdc-treasury", "ext-wallet-batch-c", "USDC", 40000},
      {44, "acc-usdc-treasury", "ext-wallet-batch-d", "USDC", 55000},
      {46, "acc-usd-operating", "ext-tax-authority", "USD", 180000},
      {48, "acc-gbp-operating", "ext-supplier-uk-batch", "GBP", 65000},
      {70, "ext-client-eu-batch", "acc-eur-operating", "EUR", 95000},
      {75, "acc-usd-payroll", "ext-payroll-provider", "USD", 265000},
      {90, "acc-usdc-treasury", "ext-wallet-batch-e", "USDC", 30000},
      {130, "acc-usd-operating", "ext-vendor-batch-2", "USD", 150000},
  };
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
    fixed(l, now - 3600 * (int64_t)(1 + fc_rng_below(r, 48)), s[i].from, s[i].to, s[i].ccy, UNITS(s[i].units, s[i].ccy),
          "pending", now + (int64_t)s[i].hours * 3600);
  /* Pending with no schedule: the rule leaves these out. */
  fixed(l, now - 7200, "acc-usd-operating", "ext-merchant-review", "USD", UNITS(12500, "USD"), "pending", FC_TIME_NONE);
}

static void write_transfers(fc_buf *b, tr_list *l, const char *tenant) {
  qsort(l->v, l->n, sizeof *l->v, cmp_tr);
  fc_buf_puts(b, "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n");
  for (size_t i = 0; i < l->n; i++) {
    const demo_tr *t = &l->v[i];
    fc_buf_printf(b, "tr-%06zu,%s,%s,%s,%s,", i + 1, tenant, t->from ? t->from : t->from_buf, t->to ? t->to : t->to_buf,
                  t->ccy);
    money(b, t->amount, scale_of(t->ccy));
    fc_buf_printf(b, ",%s,", t->status);
    stamp(b, t->at);
    fc_buf_putc(b, ',');
    if (t->sched != FC_TIME_NONE) stamp(b, t->sched);
    fc_buf_putc(b, '\n');
  }
}

static void write_streams(fc_buf *b, fc_rng *r, const char *tenant, int64_t now) {
  /* Target runway in hours for each stream: a spread from critical to healthy. */
  static const double runway_h[] = {6,   14,  20,  30,  41,  55,   66,   80,   100, 130, 160, 200,
                                    260, 340, 420, 500, 650, 800,  1000, 1300, 18,  36,  60,  90,
                                    150, 240, 400, 720, 900, 1200, 45,   110,  300, 75,  28};
  size_t n = sizeof runway_h / sizeof runway_h[0];
  fc_buf_puts(b, "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at,"
                 "cancelled_at,total_paused_seconds,last_pause_at\n");
  for (size_t i = 0; i < n; i++) {
    const char *ccy = i % 3 == 2 ? "USD" : "USDC";
    int scale = scale_of(ccy);
    /* Rates from 0.002 to 0.12 per second, in units of 10^-(scale+6). */
    int64_t rate = (int64_t)(2000 + fc_rng_below(r, 118000)) * fc_pow10(scale + 6 - 6);
    double rate_units = (double)rate / (double)fc_pow10(scale + 6);
    int64_t remaining = (int64_t)llround(rate_units * runway_h[i] * 3600.0 * (double)fc_pow10(scale));
    int64_t streamed =
        (int64_t)llround(rate_units * (double)(200000 + fc_rng_below(r, 1500000)) * (double)fc_pow10(scale));
    int64_t started = now - 86400 * (int64_t)(3 + fc_rng_below(r, 60));
    const char *status = i == 7 || i == 19 || i == 26 ? "paused" : i == 12 || i == 29 ? "cancelled" : "active";
    fc_buf_printf(b, "st-%03zu,%s,%s,", i + 1, tenant, ccy);
    money(b, rate, scale + 6);
    fc_buf_putc(b, ',');
    money(b, streamed + remaining, scale);
    fc_buf_putc(b, ',');
    money(b, streamed, scale);
    fc_buf_printf(b, ",%s,", status);
    stamp(b, started);
    fc_buf_putc(b, ',');
    if (strcmp(status, "cancelled") == 0) stamp(b, now - 86400);
    if (strcmp(status, "paused") == 0 || i % 5 == 1) {
      int64_t paused_at = now - 3600 * (int64_t)(2 + fc_rng_below(r, 100));
      fc_buf_printf(b, ",%d,", 3600 * (int)(1 + fc_rng_below(r, 30)));
      stamp(b, paused_at);
    } else {
      fc_buf_puts(b, ",0,");
    }
    fc_buf_putc(b, '\n');
  }
}

int fc_demo_generate(const fc_demo_params *p, fc_buf *accounts, fc_buf *transfers, fc_buf *streams, fc_err *err) {
  fc_rng r;
  tr_list l = {0};
  const char *tenant = p->tenant_id ? p->tenant_id : "demo";
  int64_t now = fc_time_floor(p->now, 3600), start;
  if (p->history_days < 1 || p->history_days > 400)
    return fc__err(err, FC_ERANGE, "history_days %d outside 1..400", p->history_days);
  start = now - (int64_t)p->history_days * 86400;
  fc_rng_seed(&r, p->seed);
  history(&l, &r, start, now);
  scheduled(&l, &r, now);
  if (l.failed) {
    fc__free(l.v);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  write_accounts(accounts, tenant);
  write_transfers(transfers, &l, tenant);
  write_streams(streams, &r, tenant, now);
  fc__free(l.v);
  if (fc_buf_failed(accounts) || fc_buf_failed(transfers) || fc_buf_failed(streams))
    return fc__err(err, FC_ENOMEM, "out of memory");
  return FC_OK;
}
