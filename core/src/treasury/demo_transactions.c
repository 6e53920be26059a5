/* demo_transactions.c: the demo tenant's partner transactions.
 *
 * Each customer has a kind, a first and last active day and a purchase
 * rate; every day draws a purchase with that rate (higher on weekends,
 * slowly growing over the period), at a time of day from a daytime
 * profile, of an amount around the kind's median. Only fc_rng uniforms,
 * products and sums are used (no exp/log), so the bytes are the same in
 * every build. */
#include "fc/demo.h"
#include "fc/money.h"
#include "fc/rng.h"
#include "fc/time.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define CUSTOMERS 600

typedef struct kind {
  const char *name;
  double share;           /* of the customers */
  double per_day;         /* purchase probability per day while active */
  double median;          /* amount in currency units */
  int first_lo, first_hi; /* first active day, counted back from now */
  int last;               /* last active day counted back (0 = still active) */
} kind;

/* Days count back from now: first_lo..first_hi is when they started. */
static const kind kinds[] = {
    {"loyal", 0.15, 0.30, 55.0, 400, 730, 0},
    {"regular", 0.30, 0.09, 40.0, 200, 730, 0},
    {"big_spender", 0.12, 0.025, 260.0, 200, 730, 0},
    {"declining", 0.15, 0.18, 45.0, 300, 730, 60},
    {"new", 0.18, 0.15, 35.0, 7, 45, 0},
    {"one_time", 0.10, 0.0, 70.0, 1, 730, 0},
};

static const char *const categories[] = {"groceries",     "electronics", "travel", "dining",
                                         "subscriptions", "fashion",     "home"};

/* A time of day with a daytime peak: the mean of three uniforms bunches
 * the draws around 14:00, spread 07:00-21:00. */
static int64_t time_of_day(fc_rng *r) {
  double u = (fc_rng_uniform(r) + fc_rng_uniform(r) + fc_rng_uniform(r)) / 3.0;
  return (int64_t)((7.0 + 14.0 * u) * 3600.0);
}

/* An amount around median with a right tail, in cents. */
static int64_t draw_amount(fc_rng *r, double median) {
  double u = fc_rng_uniform(r), v = fc_rng_uniform(r);
  double x = median * (0.45 + 1.1 * u) * (1.0 + 2.5 * v * v * v * v);
  int64_t cents = (int64_t)(x * 100.0 + 0.5);
  return cents < 100 ? 100 : cents;
}

static void row(fc_buf *b, const char *tenant, size_t *n, const char *user, int64_t at, int64_t cents, const char *type,
                const char *category) {
  char ts[FC_TIME_STR], amt[FC_MONEY_STR_MAX];
  fc_time_format(at, ts);
  fc_money_format(cents, 2, amt, sizeof amt);
  fc_buf_printf(b, "tx-%06zu,", ++*n);
  fc_buf_csv_field(b, tenant);
  fc_buf_printf(b, ",%s,%s,%s,%s,%s\n", user, ts, amt, type, category);
}

static const kind *pick_kind(fc_rng *r) {
  double u = fc_rng_uniform(r), acc = 0;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    if (u < (acc += kinds[k].share)) return &kinds[k];
  return &kinds[0];
}

int fc_demo_transactions(const fc_demo_params *p, int days, fc_buf *out, fc_err *err) {
  const char *tenant = p->tenant_id ? p->tenant_id : "demo";
  int64_t today = fc_time_floor(p->now, 86400);
  size_t n = 0;
  fc_rng r;
  if (days < 30 || days > 730) return fc__err(err, FC_ERANGE, "transaction days %d outside 30..730", days);
  fc_rng_seed(&r, p->seed ^ 0x7472616e73616374ULL); /* its own stream: the transfers stay as they were */
  fc_buf_puts(out, "id,partner_id,user_id,action_date,amount,transaction_type,category\n");
  /* Day by day, so ids and rows are in time order. Each customer's kind,
   * window and category come from a per-customer generator. */
  {
    const kind *kind_of[CUSTOMERS];
    int first[CUSTOMERS], last[CUSTOMERS], cat[CUSTOMERS], once[CUSTOMERS];
    for (int c = 0; c < CUSTOMERS; c++) {
      kind_of[c] = pick_kind(&r);
      first[c] =
          kind_of[c]->first_lo + (int)fc_rng_below(&r, (uint64_t)(kind_of[c]->first_hi - kind_of[c]->first_lo + 1));
      if (first[c] > days) first[c] = days - (int)fc_rng_below(&r, 20);
      last[c] = kind_of[c]->last;
      cat[c] = (int)fc_rng_below(&r, sizeof categories / sizeof categories[0]);
      once[c] = kind_of[c]->per_day == 0.0 ? first[c] : -1;
    }
    for (int back = days; back >= 1; back--) {
      int64_t day = today - (int64_t)back * 86400;
      int dow = (int)(((day / 86400) % 7 + 7 + 3) % 7); /* 0 = Monday (1970-01-01 was a Thursday) */
      double season = dow >= 5 ? 1.3 : 1.0, growth = 1.0 + 0.25 * (double)(days - back) / (double)days;
      for (int c = 0; c < CUSTOMERS; c++) {
        const kind *k = kind_of[c];
        char user[16];
        int buys;
        if (back > first[c] || back <= last[c]) continue;
        buys = once[c] == back || fc_rng_uniform(&r) < k->per_day * season * growth;
        if (!buys) continue;
        snprintf(user, sizeof user, "u%04d", c + 1);
        {
          int64_t at = day + time_of_day(&r), cents = draw_amount(&r, k->median);
          const char *category = fc_rng_uniform(&r) < 0.8
                                     ? categories[cat[c]]
                                     : categories[fc_rng_below(&r, sizeof categories / sizeof categories[0])];
          row(out, tenant, &n, user, at, cents, "purchase", category);
          /* ~3 % come back within a week (if that is still before now). */
          if (fc_rng_uniform(&r) < 0.03) {
            int64_t back_at = at + (int64_t)(1 + fc_rng_below(&r, 6)) * 86400;
            if (back_at < today) row(out, tenant, &n, user, back_at, -cents, "refund", category);
          }
        }
      }
    }
  }
  return fc_buf_failed(out) ? fc__err(err, FC_ENOMEM, "out of memory") : FC_OK;
}
