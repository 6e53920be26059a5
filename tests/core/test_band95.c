/* test_band95.c: the 95 % intervals of the cash-flow predictor (quantile
 * trees at 0.025 / 0.975, band95) and of the treasury projection's path
 * (p2_5 / p97_5: ml from its simulated paths, gbdt from its normal band,
 * the rule the balance). On a history whose generating process is known
 * (Poisson outflows, business hours busier), held out at rolling origins:
 * the 95 % band contains the 80 % one, covers at least the floor measured
 * for this deterministic history, and asking for it changes nothing else. */
#include "runner.h"

#include "../../core/src/base/detmath.h"
#include "fc.h"
#include "fc/cashflow.h"
#include "fc/project.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR    3600
#define NOW     1764590400 /* 2025-12-01T12:00:00Z, a Monday */
#define BALANCE 500000.0

/* Outflows of 50..150 USD, Poisson per hour: 3 an hour 9:00-17:00 on
 * weekdays, 0.5 otherwise; `days` days before NOW; one account. */
static fc_treasury *history(int days, uint64_t seed) {
  fc_treasury *t = fc_treasury_create(NULL);
  fc_buf a, tr;
  fc_rng r;
  int id = 0;
  fc_rng_seed(&r, seed);
  fc_buf_init(&a), fc_buf_init(&tr);
  fc_buf_printf(&a, "id,tenant_id,currency,balance_available\nop,t1,USD,%.2f\n", BALANCE);
  fc_buf_puts(&tr, "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n");
  for (int64_t at = NOW - (int64_t)days * 86400; at < NOW; at += HOUR) {
    int hod = (int)((at / HOUR) % 24), busy = fc_iso_dow(at) <= 5 && hod >= 9 && hod < 17;
    int n = fc__dpoisson(&r, busy ? 3.0 : 0.5);
    for (int j = 0; j < n; j++) {
      char when[FC_TIME_STR];
      fc_time_format(at + 60 * (j + 1), when); /* never on an hour's edge */
      fc_buf_printf(&tr, "o%d,t1,op,ext,USD,%.2f,completed,%s,\n", id++, 50.0 + 100.0 * fc_rng_uniform(&r), when);
    }
  }
  if (fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, a.data, a.len, NULL, NULL) != FC_OK ||
      fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, tr.data, tr.len, NULL, NULL) != FC_OK) {
    fc_treasury_destroy(t);
    t = NULL;
  }
  fc_buf_free(&a), fc_buf_free(&tr);
  return t;
}

static fc_cashflow_params usd(int64_t now, int band95) {
  fc_cashflow_params p = fc_cashflow_defaults();
  p.now = now;
  p.tenant_id = "t1";
  p.currency = "USD";
  p.band95 = band95;
  return p;
}

static int same(const double *a, const double *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

TEST(cash_flow_95_covers_more_and_changes_nothing_else) {
  fc_treasury *t = history(35, 11);
  size_t in80 = 0, in95 = 0, n = 0;
  ASSERT(t != NULL);
  /* Four rolling origins, 48 held-out hours each. */
  for (int j = 0; j < 4; j++) {
    fc_cashflow_params p = usd(NOW - (48 + 24 * j) * HOUR, 1), p0 = usd(p.now, 0);
    fc_cashflow *c, *c0;
    double out[48], in[48];
    ASSERT_OK(fc_cashflow_predict(t, &p, &c, NULL));
    ASSERT_OK(fc_cashflow_predict(t, &p0, &c0, NULL));
    ASSERT_INT_EQ(c->method, FC_CASHFLOW_GBDT);
    ASSERT(c0->out.p2_5 == NULL && c0->out.p97_5 == NULL);
    /* The 95 % pair is trained after the four with seeds of its own. */
    ASSERT(same(c->out.p10, c0->out.p10, 48) && same(c->out.p50, c0->out.p50, 48));
    ASSERT(same(c->out.p90, c0->out.p90, 48) && same(c->out.mean, c0->out.mean, 48));
    ASSERT_OK(fc_cashflow_actuals(t, "t1", "USD", p.now, HOUR, 48, out, in, NULL));
    for (int h = 0; h < 48; h++, n++) {
      ASSERT(c->out.p2_5[h] >= 0 && c->out.p2_5[h] <= c->out.p10[h] && c->out.p97_5[h] >= c->out.p90[h]);
      in80 += out[h] >= c->out.p10[h] && out[h] <= c->out.p90[h];
      in95 += out[h] >= c->out.p2_5[h] && out[h] <= c->out.p97_5[h];
    }
    /* No inflows in the history: nothing learned, all zero. */
    ASSERT(c->in.p2_5[0] == 0 && c->in.p97_5[47] == 0);
    fc_cashflow_destroy(c);
    fc_cashflow_destroy(c0);
  }
  printf("  held-out coverage: 80 %% band %.3f, 95 %% band %.3f over %zu hours\n", (double)in80 / (double)n,
         (double)in95 / (double)n, n);
  ASSERT(in95 > in80);
  ASSERT((double)in95 / (double)n >= 0.90);
  fc_treasury_destroy(t);
}

TEST(cash_flow_95_json_only_when_asked_and_seasonal_fallback_has_it) {
  fc_treasury *t = history(10, 5);
  fc_cashflow_params p = usd(NOW, 1);
  fc_cashflow *c;
  fc_buf b;
  ASSERT(t != NULL);
  p.min_history = 100000; /* the seasonal-naive quantiles */
  ASSERT_OK(fc_cashflow_predict(t, &p, &c, NULL));
  ASSERT_INT_EQ(c->method, FC_CASHFLOW_SEASONAL);
  for (int h = 0; h < 48; h++) ASSERT(c->out.p2_5[h] <= c->out.p10[h] && c->out.p97_5[h] >= c->out.p90[h]);
  /* A busy hour's empirical 97.5 % quantile lies above its 90 %. */
  {
    int wider = 0;
    for (int h = 0; h < 48; h++) wider += c->out.p97_5[h] > c->out.p90[h];
    ASSERT(wider > 0);
  }
  fc_buf_init(&b);
  ASSERT_OK(fc_cashflow_write_json(c, &b));
  ASSERT(strstr(b.data, "\"p2_5\":") != NULL && strstr(b.data, "\"p97_5\":") != NULL);
  fc_cashflow_destroy(c);
  fc_buf_reset(&b);
  p.band95 = 0;
  ASSERT_OK(fc_cashflow_predict(t, &p, &c, NULL));
  ASSERT_OK(fc_cashflow_write_json(c, &b));
  ASSERT(strstr(b.data, "\"p2_5\":") == NULL);
  fc_cashflow_destroy(c);
  fc_buf_free(&b);
  fc_treasury_destroy(t);
}

static int project(const fc_treasury *t, fc_project_method m, int64_t now, fc_projection **out) {
  fc_project_request r = fc_project_defaults();
  fc_err e;
  int rc;
  r.method = m;
  r.p.now = now;
  r.p.horizon_hours = 48;
  r.paths = 2000;
  r.seed = 9;
  rc = fc_project(t, &r, out, &e);
  if (rc != FC_OK) fprintf(stderr, "fc_project: %s\n", e.msg);
  return rc;
}

/* Completed outflows in (from, to]: the realized cumulative flow is minus it. */
static double outflows(const fc_treasury *t, int64_t from, int64_t to) {
  const fc_transfer *tr;
  size_t n = fc_treasury_transfers(t, &tr);
  double s = 0;
  for (size_t i = 0; i < n; i++)
    if (tr[i].created_at > from && tr[i].created_at <= to) s += fc_money_to_double(tr[i].amount, tr[i].scale);
  return s;
}

TEST(ml_95_band_is_the_paths_quantiles_and_covers) {
  fc_treasury *t = history(42, 3);
  size_t in80 = 0, in95 = 0, n = 0;
  ASSERT(t != NULL);
  for (int j = 0; j < 4; j++) {
    int64_t origin = NOW - (48 + 24 * j) * HOUR;
    fc_projection *pr;
    const fc_currency_projection *c;
    ASSERT_OK(project(t, FC_PROJECT_ML, origin, &pr));
    c = &pr->currencies[0];
    ASSERT_STR_EQ(c->model_name, "flow-sim");
    ASSERT(c->path[0].p2_5 == BALANCE && c->path[0].p97_5 == BALANCE);
    for (size_t k = 1; k < c->n_path; k++, n++) {
      const fc_path_point *pt = &c->path[k];
      double y = BALANCE - outflows(t, origin, origin + (int64_t)k * HOUR);
      ASSERT(pt->p2_5 <= pt->p10 && pt->p10 <= pt->p50 && pt->p50 <= pt->p90 && pt->p90 <= pt->p97_5);
      in80 += y >= pt->p10 && y <= pt->p90;
      in95 += y >= pt->p2_5 && y <= pt->p97_5;
    }
    {
      /* Hour 48: the cumulative outflow is a sum of Poisson counts of
       * known means times amounts of mean 100, sd 28.9; the band must be
       * of that width, not the 80 % one's nor a multiple of it. */
      const fc_path_point *pt = &c->path[48];
      double lam = 0, width;
      for (int k = 0; k < 48; k++) {
        int64_t at = origin + k * HOUR;
        int hod = (int)((at / HOUR) % 24);
        lam += fc_iso_dow(at) <= 5 && hod >= 9 && hod < 17 ? 3.0 : 0.5;
      }
      width = 2 * 1.96 * sqrt(lam * (100.0 * 100.0 + 28.87 * 28.87));
      printf("  origin -%dh: 95 %% width %.0f (%.2f x the Poisson sum's %.0f), 80 %% width %.0f\n", 48 + 24 * j,
             pt->p97_5 - pt->p2_5, (pt->p97_5 - pt->p2_5) / width, width, pt->p90 - pt->p10);
      ASSERT(pt->p97_5 - pt->p2_5 > 1.2 * (pt->p90 - pt->p10));
      ASSERT(pt->p97_5 - pt->p2_5 > 0.7 * width && pt->p97_5 - pt->p2_5 < 2.0 * width);
    }
    fc_projection_destroy(pr);
  }
  printf("  realized balance coverage: 80 %% band %.3f, 95 %% band %.3f over %zu hours\n", (double)in80 / (double)n,
         (double)in95 / (double)n, n);
  ASSERT(in95 >= in80);
  ASSERT((double)in95 / (double)n >= 0.85);
  fc_treasury_destroy(t);
}

TEST(gbdt_95_band_is_its_normal_band_and_rule_is_the_balance) {
  fc_treasury *t = history(35, 4);
  fc_projection *g, *r;
  ASSERT(t != NULL);
  ASSERT_OK(project(t, FC_PROJECT_GBDT, NOW, &g));
  ASSERT_OK(project(t, FC_PROJECT_RULE, NOW, &r));
  for (size_t k = 1; k < g->currencies[0].n_path; k++) {
    const fc_path_point *pt = &g->currencies[0].path[k], *q = &r->currencies[0].path[k];
    double band = pt->p90 - pt->p50;
    ASSERT(band > 0);
    ASSERT_NEAR((pt->p97_5 - pt->p50) / band, 1.959963984540054 / 1.2815515655446004, 1e-9);
    ASSERT_NEAR((pt->p50 - pt->p2_5) / band, 1.959963984540054 / 1.2815515655446004, 1e-9);
    ASSERT(q->p2_5 == q->p50 && q->p97_5 == q->p50);
  }
  {
    fc_buf b;
    fc_buf_init(&b);
    ASSERT_OK(fc_projection_write_json(r, &b));
    ASSERT(strstr(b.data, "\"predicted_in\":0.00,\"p2_5\":500000.00,\"p97_5\":500000.00}") != NULL);
    fc_buf_free(&b);
  }
  fc_projection_destroy(g);
  fc_projection_destroy(r);
  fc_treasury_destroy(t);
}

TEST_LIST(T(cash_flow_95_covers_more_and_changes_nothing_else),
          T(cash_flow_95_json_only_when_asked_and_seasonal_fallback_has_it),
          T(ml_95_band_is_the_paths_quantiles_and_covers), T(gbdt_95_band_is_its_normal_band_and_rule_is_the_balance))
