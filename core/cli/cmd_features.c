/* cmd_features.c: floatcast features --data DIR: flows, velocity,
 * recurring payments, stream runway and calendar features as JSON. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: floatcast features --data DIR [--tenant T] [--currency C] [--now TS]\n"
    "                          [--granularity hour|day] [--utc-offset MINUTES] [--output FILE]\n"
    "Prints, as JSON: per currency the outflow/inflow series with velocity features, the recurring\n"
    "payments, each stream's runway and the calendar features of every bucket.\n";

/* One bucket: its flows, velocity and calendar features. */
static void write_bucket(fc_jw *w, const fc_flow_series *s, const fc_velocity *v, size_t i, int scale,
                         fc_calendar_params cal) {
  char at[FC_TIME_STR], o[FC_MONEY_STR_MAX], in[FC_MONEY_STR_MAX];
  fc_calendar c;
  fc_time_format(v->at, at);
  fc_money_format(s->outflow[i], scale, o, sizeof o);
  fc_money_format(s->inflow[i], scale, in, sizeof in);
  fc_calendar_features(v->at, cal, &c);
  fc_jw_object(w);
  fc_jw_key(w, "at"), fc_jw_str(w, at);
  fc_jw_key(w, "outflow"), fc_jw_str(w, o);
  fc_jw_key(w, "inflow"), fc_jw_str(w, in);
  fc_jw_key(w, "out_count"), fc_jw_int(w, s->out_count[i]);
  fc_jw_key(w, "in_count"), fc_jw_int(w, s->in_count[i]);
  fc_jw_key(w, "mean_size"), fc_jw_fixed(w, v->mean_size, 6);
  fc_jw_key(w, "std_size"), fc_jw_fixed(w, v->std_size, 6);
  fc_jw_key(w, "avg_volume_window"), fc_jw_fixed(w, v->avg_volume_window, 6);
  fc_jw_key(w, "avg_count_window"), fc_jw_fixed(w, v->avg_count_window, 6);
  fc_jw_key(w, "hour"), fc_jw_int(w, c.hour);
  fc_jw_key(w, "iso_dow"), fc_jw_int(w, c.iso_dow);
  fc_jw_key(w, "day_of_month"), fc_jw_int(w, c.day_of_month);
  fc_jw_key(w, "business_hours"), fc_jw_bool(w, c.is_business_hours);
  fc_jw_key(w, "month_end"), fc_jw_bool(w, c.is_month_end);
  fc_jw_key(w, "week_period"), fc_jw_str(w, fc_week_period_name(c.week_period));
  fc_jw_end(w);
}

static void write_series(fc_jw *w, const fc_treasury *t, const char *tenant, const char *ccy, int64_t step,
                         fc_calendar_params cal) {
  fc_flow_series s;
  fc_velocity *vel;
  fc_err err;
  int scale = fc_currencies_scale(fc_treasury_currencies(t), ccy);
  if (fc_flows_build(t, tenant, ccy, step, FC_TIME_NONE, FC_TIME_NONE, &s, &err) != FC_OK) {
    fc_jw_object(w);
    fc_jw_key(w, "currency"), fc_jw_str(w, ccy);
    fc_jw_key(w, "series"), fc_jw_array(w), fc_jw_end(w);
    fc_jw_key(w, "note"), fc_jw_str(w, err.msg);
    fc_jw_end(w);
    return;
  }
  vel = calloc(s.n ? s.n : 1, sizeof *vel);
  if (vel == NULL) {
    fc_flow_series_free(&s);
    return;
  }
  fc_velocity_compute(&s, step == FC_STEP_HOUR ? 24 : 7, vel);
  fc_jw_object(w);
  fc_jw_key(w, "currency"), fc_jw_str(w, ccy);
  fc_jw_key(w, "step_seconds"), fc_jw_int(w, (long long)step);
  fc_jw_key(w, "series"), fc_jw_array(w);
  for (size_t i = 0; i < s.n; i++) write_bucket(w, &s, &vel[i], i, scale, cal);
  fc_jw_end(w);
  fc_jw_end(w);
  free(vel);
  fc_flow_series_free(&s);
}

/* Each currency of the tenant's accounts once, in first-seen order. */
static void write_currencies(fc_jw *w, const fc_treasury *t, const char *tenant, const char *ccy, int64_t step,
                             fc_calendar_params cal) {
  const fc_account *a;
  size_t na = fc_treasury_accounts(t, &a);
  fc_jw_key(w, "currencies"), fc_jw_array(w);
  for (size_t i = 0; i < na; i++) {
    int seen = 0;
    if (strcmp(a[i].tenant_id, tenant) != 0 || (ccy && strcmp(a[i].currency, ccy) != 0)) continue;
    for (size_t j = 0; j < i; j++)
      if (strcmp(a[j].tenant_id, tenant) == 0 && strcmp(a[j].currency, a[i].currency) == 0) seen = 1;
    if (!seen) write_series(w, t, tenant, a[i].currency, step, cal);
  }
  fc_jw_end(w);
}

static void write_recurring(fc_jw *w, const fc_recurring *r, size_t n) {
  fc_jw_key(w, "recurring"), fc_jw_array(w);
  for (size_t i = 0; i < n; i++) {
    char last[FC_TIME_STR], next[FC_TIME_STR];
    fc_time_format(r[i].last_at, last);
    fc_time_format(r[i].next_expected_at, next);
    fc_jw_object(w);
    fc_jw_key(w, "from_account_id"), fc_jw_str(w, r[i].from_account_id);
    fc_jw_key(w, "to_account_id"), fc_jw_str(w, r[i].to_account_id);
    fc_jw_key(w, "currency"), fc_jw_str(w, r[i].currency);
    fc_jw_key(w, "direction"), fc_jw_int(w, r[i].direction);
    fc_jw_key(w, "count"), fc_jw_int(w, (long long)r[i].count);
    fc_jw_key(w, "mean_amount"), fc_jw_fixed(w, r[i].mean_amount, 6);
    fc_jw_key(w, "amount_cv"), fc_jw_fixed(w, r[i].amount_cv, 6);
    fc_jw_key(w, "mean_interval_hours"), fc_jw_fixed(w, r[i].mean_interval_hours, 4);
    fc_jw_key(w, "std_interval_hours"), fc_jw_fixed(w, r[i].std_interval_hours, 4);
    fc_jw_key(w, "last_at"), fc_jw_str(w, last);
    fc_jw_key(w, "next_expected_at"), fc_jw_str(w, next);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

static void write_streams(fc_jw *w, const fc_treasury *t, const char *tenant, const char *ccy, int64_t now) {
  const fc_stream *s;
  size_t ns = fc_treasury_streams(t, &s);
  fc_jw_key(w, "streams"), fc_jw_array(w);
  for (size_t i = 0; i < ns; i++) {
    fc_runway r;
    char rem[FC_MONEY_STR_MAX];
    if (strcmp(s[i].tenant_id, tenant) != 0 || (ccy && strcmp(s[i].currency, ccy) != 0)) continue;
    fc_runway_compute(&s[i], now, &r);
    fc_money_format(r.remaining, s[i].scale, rem, sizeof rem);
    fc_jw_object(w);
    fc_jw_key(w, "id"), fc_jw_str(w, s[i].id);
    fc_jw_key(w, "currency"), fc_jw_str(w, s[i].currency);
    fc_jw_key(w, "remaining"), fc_jw_str(w, rem);
    fc_jw_key(w, "flow_per_hour"), fc_jw_fixed(w, r.flow_per_hour, 6);
    fc_jw_key(w, "hours_until_depleted"), fc_jw_fixed(w, r.hours_until_depleted, 2); /* null when infinite */
    fc_jw_key(w, "runway_status"), fc_jw_str(w, fc_runway_status_name(r.status));
    fc_jw_key(w, "seconds_since_last_pause");
    if (r.seconds_since_last_pause >= 0) fc_jw_int(w, (long long)r.seconds_since_last_pause);
    else fc_jw_null(w);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

int cmd_features(int argc, char **argv) {
  const char *dir = NULL, *tenant = NULL, *ccy = NULL, *output = "-", *v;
  int64_t now = FC_TIME_NONE, step = FC_STEP_HOUR;
  fc_calendar_params cal = fc_calendar_defaults();
  int bad = 0, rc = 0;
  fc_treasury *t;
  fc_recurring *rec;
  size_t nrec;
  char at[FC_TIME_STR];
  fc_err err;
  fc_buf b;
  fc_jw w;
  for (int i = 1; i < argc; i++) {
    long n;
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if ((v = cli_flag(argc, argv, &i, "--data", &bad))) {
      dir = v;
    } else if ((v = cli_flag(argc, argv, &i, "--tenant", &bad))) {
      tenant = v;
    } else if ((v = cli_flag(argc, argv, &i, "--currency", &bad))) {
      ccy = v;
    } else if ((v = cli_flag(argc, argv, &i, "--now", &bad))) {
      if (cli_parse_time("features", "--now", v, &now)) return 1;
    } else if ((v = cli_flag(argc, argv, &i, "--granularity", &bad))) {
      if (strcmp(v, "hour") == 0) step = FC_STEP_HOUR;
      else if (strcmp(v, "day") == 0) step = FC_STEP_DAY;
      else return cli_fail("features", "--granularity: want hour or day, got '%s'", v);
    } else if ((v = cli_flag(argc, argv, &i, "--utc-offset", &bad))) {
      if (cli_parse_long(v, -840, 840, &n)) return cli_fail("features", "--utc-offset: want minutes in -840..840");
      cal.utc_offset_minutes = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) {
      output = v;
    } else if (!bad) {
      fprintf(stderr, "floatcast features: unknown option '%s'\n%s", argv[i], usage);
      return 2;
    }
    if (bad) return 2;
  }
  if (dir == NULL) {
    fputs(usage, stderr);
    return 2;
  }
  if (cli_load_treasury("features", dir, &t)) return 1;
  if (tenant == NULL) {
    const char *names[2];
    size_t n = fc_treasury_tenants(t, names, 2);
    if (n != 1) {
      fc_treasury_destroy(t);
      return cli_fail("features", n ? "the data holds several tenants: name one with --tenant" : "no data");
    }
    tenant = names[0];
  }
  if (now == FC_TIME_NONE) now = fc_treasury_default_now(t, tenant);
  if ((rc = fc_recurring_detect(t, tenant, &rec, &nrec, &err)) != FC_OK) {
    fc_treasury_destroy(t);
    return cli_fail_err("features", NULL, rc, &err);
  }
  fc_buf_init(&b);
  fc_time_format(now, at);
  fc_jw_init(&w, &b);
  fc_jw_object(&w);
  fc_jw_key(&w, "tenant_id"), fc_jw_str(&w, tenant);
  fc_jw_key(&w, "as_of"), fc_jw_str(&w, at);
  write_currencies(&w, t, tenant, ccy, step, cal);
  write_recurring(&w, rec, nrec);
  write_streams(&w, t, tenant, ccy, now);
  fc_jw_end(&w);
  fc_buf_putc(&b, '\n');
  fc_recurring_free(rec);
  rc = fc_jw_finish(&w) != FC_OK               ? cli_fail("features", "out of memory")
       : cli_write_file(output, b.data, b.len) ? 1
                                               : 0;
  fc_buf_free(&b);
  fc_treasury_destroy(t);
  return rc;
}
