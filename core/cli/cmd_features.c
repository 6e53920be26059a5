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

static void write_series(fc_buf *b, const fc_treasury *t, const char *tenant, const char *ccy, int64_t step,
                         fc_calendar_params cal) {
  fc_flow_series s;
  fc_velocity *vel;
  fc_err err;
  int scale = fc_currencies_scale(fc_treasury_currencies(t), ccy);
  if (fc_flows_build(t, tenant, ccy, step, FC_TIME_NONE, FC_TIME_NONE, &s, &err) != FC_OK) {
    fc_buf_puts(b, "{\"currency\":");
    fc_buf_json_str(b, ccy);
    fc_buf_puts(b, ",\"series\":[],\"note\":");
    fc_buf_json_str(b, err.msg);
    fc_buf_putc(b, '}');
    return;
  }
  vel = calloc(s.n ? s.n : 1, sizeof *vel);
  if (vel == NULL) {
    fc_flow_series_free(&s);
    return;
  }
  fc_velocity_compute(&s, step == FC_STEP_HOUR ? 24 : 7, vel);
  fc_buf_puts(b, "{\"currency\":");
  fc_buf_json_str(b, ccy);
  fc_buf_printf(b, ",\"step_seconds\":%lld,\"series\":[", (long long)step);
  for (size_t i = 0; i < s.n; i++) {
    char at[FC_TIME_STR], o[FC_MONEY_STR_MAX], in[FC_MONEY_STR_MAX];
    fc_calendar c;
    fc_time_format(vel[i].at, at);
    fc_money_format(s.outflow[i], scale, o, sizeof o);
    fc_money_format(s.inflow[i], scale, in, sizeof in);
    fc_calendar_features(vel[i].at, cal, &c);
    fc_buf_printf(b,
                  "%s{\"at\":\"%s\",\"outflow\":\"%s\",\"inflow\":\"%s\",\"out_count\":%u,\"in_count\":%u,"
                  "\"mean_size\":%.6f,\"std_size\":%.6f,\"avg_volume_window\":%.6f,\"avg_count_window\":%.6f,"
                  "\"hour\":%d,\"iso_dow\":%d,\"day_of_month\":%d,\"business_hours\":%s,\"month_end\":%s,"
                  "\"week_period\":\"%s\"}",
                  i ? "," : "", at, o, in, s.out_count[i], s.in_count[i], vel[i].mean_size, vel[i].std_size,
                  vel[i].avg_volume_window, vel[i].avg_count_window, c.hour, c.iso_dow, c.day_of_month,
                  c.is_business_hours ? "true" : "false", c.is_month_end ? "true" : "false",
                  fc_week_period_name(c.week_period));
  }
  fc_buf_puts(b, "]}");
  free(vel);
  fc_flow_series_free(&s);
}

int cmd_features(int argc, char **argv) {
  const char *dir = NULL, *tenant = NULL, *ccy = NULL, *output = "-", *v;
  int64_t now = FC_TIME_NONE, step = FC_STEP_HOUR;
  fc_calendar_params cal = fc_calendar_defaults();
  int bad = 0, rc = 0;
  fc_treasury *t;
  fc_buf b;
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
  fc_buf_init(&b);
  fc_buf_puts(&b, "{\"tenant_id\":");
  fc_buf_json_str(&b, tenant);
  {
    char at[FC_TIME_STR];
    fc_time_format(now, at);
    fc_buf_printf(&b, ",\"as_of\":\"%s\",\"currencies\":[", at);
  }
  {
    /* Currencies of the tenant's accounts, in first-seen order. */
    const fc_account *a;
    size_t na = fc_treasury_accounts(t, &a), written = 0;
    for (size_t i = 0; i < na; i++) {
      int seen = 0;
      if (strcmp(a[i].tenant_id, tenant) != 0 || (ccy && strcmp(a[i].currency, ccy) != 0)) continue;
      for (size_t j = 0; j < i; j++)
        if (strcmp(a[j].tenant_id, tenant) == 0 && strcmp(a[j].currency, a[i].currency) == 0) seen = 1;
      if (seen) continue;
      if (written++) fc_buf_putc(&b, ',');
      write_series(&b, t, tenant, a[i].currency, step, cal);
    }
  }
  fc_buf_puts(&b, "],\"recurring\":[");
  {
    fc_recurring *r;
    size_t n;
    fc_err err;
    if ((rc = fc_recurring_detect(t, tenant, &r, &n, &err)) != FC_OK) {
      fc_buf_free(&b);
      fc_treasury_destroy(t);
      return cli_fail_err("features", NULL, rc, &err);
    }
    for (size_t i = 0; i < n; i++) {
      char last[FC_TIME_STR], next[FC_TIME_STR];
      fc_time_format(r[i].last_at, last);
      fc_time_format(r[i].next_expected_at, next);
      fc_buf_printf(&b, "%s{\"from_account_id\":", i ? "," : "");
      fc_buf_json_str(&b, r[i].from_account_id);
      fc_buf_puts(&b, ",\"to_account_id\":");
      fc_buf_json_str(&b, r[i].to_account_id);
      fc_buf_printf(&b,
                    ",\"currency\":\"%s\",\"direction\":%d,\"count\":%zu,\"mean_amount\":%.6f,\"amount_cv\":%.6f,"
                    "\"mean_interval_hours\":%.4f,\"std_interval_hours\":%.4f,\"last_at\":\"%s\","
                    "\"next_expected_at\":\"%s\"}",
                    r[i].currency, r[i].direction, r[i].count, r[i].mean_amount, r[i].amount_cv,
                    r[i].mean_interval_hours, r[i].std_interval_hours, last, next);
    }
    fc_recurring_free(r);
  }
  fc_buf_puts(&b, "],\"streams\":[");
  {
    const fc_stream *s;
    size_t ns = fc_treasury_streams(t, &s), w = 0;
    for (size_t i = 0; i < ns; i++) {
      fc_runway r;
      char rem[FC_MONEY_STR_MAX];
      if (strcmp(s[i].tenant_id, tenant) != 0 || (ccy && strcmp(s[i].currency, ccy) != 0)) continue;
      fc_runway_compute(&s[i], now, &r);
      fc_money_format(r.remaining, s[i].scale, rem, sizeof rem);
      fc_buf_printf(&b, "%s{\"id\":", w++ ? "," : "");
      fc_buf_json_str(&b, s[i].id);
      fc_buf_printf(&b, ",\"currency\":\"%s\",\"remaining\":\"%s\",\"flow_per_hour\":%.6f,\"hours_until_depleted\":",
                    s[i].currency, rem, r.flow_per_hour);
      if (isfinite(r.hours_until_depleted)) fc_buf_printf(&b, "%.2f", r.hours_until_depleted);
      else fc_buf_puts(&b, "null");
      fc_buf_printf(&b, ",\"runway_status\":\"%s\",\"seconds_since_last_pause\":", fc_runway_status_name(r.status));
      if (r.seconds_since_last_pause >= 0) fc_buf_printf(&b, "%lld}", (long long)r.seconds_since_last_pause);
      else fc_buf_puts(&b, "null}");
    }
  }
  fc_buf_puts(&b, "]}\n");
  rc = fc_buf_failed(&b) ? cli_fail("features", "out of memory") : cli_write_file(output, b.data, b.len) ? 1 : 0;
  fc_buf_free(&b);
  fc_treasury_destroy(t);
  return rc;
}
