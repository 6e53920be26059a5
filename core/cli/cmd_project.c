/* cmd_project.c: floatcast project --data DIR [--now TS] [--horizon H] ... */
#include "cli.h"
#include "fc/project.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: floatcast project --data DIR [--now TS] [--horizon 48] [--method rule|ml|gbdt] [--json]\n"
    "                         [--tenant T] [--currency C] [--floors CCY=AMT,...] [--fx A/B=RATE,...]\n"
    "                         [--scenario FILE] [--seed N] [--paths N] [--target P] [--output FILE]\n"
    "Projects each currency's balance hour by hour (../shared/spec/projection.md).\n"
    "  --now      as-of time (ISO 8601 UTC); default: the hour after the newest transfer\n"
    "  --horizon  hours ahead, 1..720 (default 48)\n"
    "  --method   rule (balance - scheduled - stream drain), ml (known flows exact plus simulated\n"
    "             unscheduled flows: calibrated depletion probabilities, band, time to breach,\n"
    "             drivers, path-based rebalancing) or gbdt (the earlier cash-flow-tree band)\n"
    "  --seed     seed of the simulation (default 0); --paths simulated paths (default 1000)\n"
    "  --target   rebalancing aims below this P(breach within the horizon) (default 0.05)\n"
    "  --floors   depletion floors, e.g. USDC=25000,*=0 (default 0)\n"
    "  --fx       exchange rates for recommendations (default USD/USDC=1,USD/USDT=1,EUR/EURC=1)\n"
    "  --scenario what-if changes (JSON, see core/include/fc/whatif.h) applied to a copy of the data\n"
    "  --json     print the JSON answer (default: a table)\n";

static void print_table(const fc_projection *p) {
  char when[FC_TIME_STR];
  fc_time_format(p->as_of, when);
  printf("tenant %s, as of %s, horizon %dh, method %s\n\n", p->tenant_id, when, p->horizon_hours, p->method);
  printf("%-6s %22s %20s %20s %22s  %-6s %s\n", "ccy", "balance", "scheduled out", "stream drain",
         "projected", "risk", "below floor at");
  for (size_t i = 0; i < p->n_currencies; i++) {
    const fc_currency_projection *c = &p->currencies[i];
    char b[FC_MONEY_STR_MAX], so[FC_MONEY_STR_MAX], sd[FC_MONEY_STR_MAX], pj[FC_MONEY_STR_MAX];
    fc_money_format(c->balance, c->scale, b, sizeof b);
    fc_money_format(c->scheduled_out, c->scale, so, sizeof so);
    fc_money_format(c->stream_drain, c->scale, sd, sizeof sd);
    fc_money_format(c->projected, c->scale, pj, sizeof pj);
    fc_time_format(c->expected_at, when);
    printf("%-6s %22s %20s %20s %22s  %-6s %s\n", c->currency, b, so, sd, pj, c->risk,
           c->expected_at == FC_TIME_NONE ? "-" : when);
  }
  if (strcmp(p->method, "rule") != 0) {
    /* The model's band at the horizon, beside the rule's exact figure above. */
    printf("\n%-6s %22s %22s %22s  %s\n", "ccy", "p10", "p50", "p90", "P(below floor) 24h/48h");
    for (size_t i = 0; i < p->n_currencies; i++) {
      const fc_currency_projection *c = &p->currencies[i];
      const fc_path_point *last = &c->path[c->n_path - 1];
      printf("%-6s %22.*f %22.*f %22.*f  ", c->currency, c->scale, last->p10, c->scale, last->p50, c->scale,
             last->p90);
      for (int j = 0; j < 2; j++) {
        if (isnan(c->p_below[j])) printf("%s-", j ? "/" : "");
        else printf("%s%.2f", j ? "/" : "", c->p_below[j]);
      }
      printf("\n");
    }
  }
  for (size_t i = 0; i < p->n_recommendations; i++) {
    const fc_recommendation *r = &p->recommendations[i];
    char amt[FC_MONEY_STR_MAX];
    fc_money_format(r->amount, r->from_scale, amt, sizeof amt);
    fc_time_format(r->by, when);
    printf("\nrecommend: move %s %s to %s by %s\n  %s\n", amt, r->from_currency, r->to_currency, when, r->reason);
  }
}

int cmd_project(int argc, char **argv) {
  fc_project_request req = fc_project_defaults();
  fc_projection_params p = req.p;
  const char *dir = NULL, *method = "rule", *output = "-", *scenario = NULL, *v;
  int json = 0, bad = 0, rc;
  fc_treasury *t;
  fc_projection *proj;
  fc_err err;
  for (int i = 1; i < argc; i++) {
    long n;
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if ((v = cli_flag(argc, argv, &i, "--data", &bad))) {
      dir = v;
    } else if ((v = cli_flag(argc, argv, &i, "--now", &bad))) {
      if (cli_parse_time("project", "--now", v, &p.now)) return 1;
    } else if ((v = cli_flag(argc, argv, &i, "--horizon", &bad))) {
      if (cli_parse_long(v, FC_HORIZON_MIN, FC_HORIZON_MAX, &n))
        return cli_fail("project", "--horizon: want whole hours in %d..%d, got '%s'", FC_HORIZON_MIN,
                        FC_HORIZON_MAX, v);
      p.horizon_hours = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--method", &bad))) {
      method = v;
    } else if ((v = cli_flag(argc, argv, &i, "--tenant", &bad))) {
      p.tenant_id = v;
    } else if ((v = cli_flag(argc, argv, &i, "--currency", &bad))) {
      p.currency = v;
    } else if ((v = cli_flag(argc, argv, &i, "--floors", &bad))) {
      p.floors = v;
    } else if ((v = cli_flag(argc, argv, &i, "--fx", &bad))) {
      p.fx = v;
    } else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) {
      output = v;
    } else if ((v = cli_flag(argc, argv, &i, "--scenario", &bad))) {
      scenario = v;
    } else if ((v = cli_flag(argc, argv, &i, "--seed", &bad))) {
      if (cli_parse_long(v, 0, 2147483647L, &n)) return cli_fail("project", "--seed: want a whole number >= 0, got '%s'", v);
      req.seed = (uint64_t)n;
    } else if ((v = cli_flag(argc, argv, &i, "--paths", &bad))) {
      if (cli_parse_long(v, FC_PROJECT_PATHS_MIN, FC_PROJECT_PATHS_MAX, &n))
        return cli_fail("project", "--paths: want %d..%d, got '%s'", FC_PROJECT_PATHS_MIN, FC_PROJECT_PATHS_MAX, v);
      req.paths = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--target", &bad))) {
      char *end;
      double d = strtod(v, &end);
      if (*end != '\0' || !(d > 0 && d < 1)) return cli_fail("project", "--target: want a probability in (0, 1), got '%s'", v);
      req.target_probability = d;
    } else if (!bad) {
      fprintf(stderr, "floatcast project: unknown option '%s'\n%s", argv[i], usage);
      return 2;
    }
    if (bad) return 2;
  }
  if (dir == NULL) {
    fputs(usage, stderr);
    return 2;
  }
  fc_err_clear(&err);
  if (fc_project_method_parse(method, &req.method, &err) != FC_OK) return cli_fail("project", "--method: %s", err.msg);
  if (cli_load_treasury("project", dir, &t)) return 1;
  if (p.now == FC_TIME_NONE && (p.now = fc_treasury_default_now(t, p.tenant_id)) == FC_TIME_NONE) {
    fc_treasury_destroy(t);
    return cli_fail("project", "%s holds no transfers to take the as-of time from: pass --now TS", dir);
  }
  req.p = p;
  {
    fc_buf sc;
    fc_buf_init(&sc);
    if (scenario != NULL && cli_read_file(scenario, &sc) != 0) {
      fc_buf_free(&sc);
      fc_treasury_destroy(t);
      return 1;
    }
    req.scenario = scenario != NULL ? sc.data : NULL;
    req.scenario_len = sc.len;
    rc = fc_project(t, &req, &proj, &err);
    fc_buf_free(&sc);
  }
  if (rc != FC_OK) {
    fc_treasury_destroy(t);
    return cli_fail_err("project", NULL, rc, &err);
  }
  if (json) {
    fc_buf out;
    fc_buf_init(&out);
    rc = fc_projection_write_json(proj, &out) == FC_OK && cli_write_file(output, out.data, out.len) == 0 ? 0 : 1;
    fc_buf_free(&out);
  } else {
    print_table(proj);
    rc = 0;
  }
  fc_projection_destroy(proj);
  fc_treasury_destroy(t);
  return rc;
}
