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
    "Projects each currency's balance hour by hour (docs/spec/projection.md).\n"
    "  --data     the treasury directory: accounts.csv, transfers.csv, streams.csv (ledger.csv optional)\n"
    "  --scenario what-if changes (JSON, see core/include/fc/whatif.h) applied to a copy of the data\n"
    "  --json     print the JSON answer (default: a table); --output FILE writes it there\n";

static void print_table(const fc_projection *p) {
  char when[FC_TIME_STR];
  fc_time_format(p->as_of, when);
  printf("tenant %s, as of %s, horizon %dh, method %s\n\n", p->tenant_id, when, p->horizon_hours, p->method);
  printf("%-6s %22s %20s %20s %22s  %-6s %s\n", "ccy", "balance", "scheduled out", "stream drain", "projected", "risk",
         "below floor at");
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
      printf("%-6s %22.*f %22.*f %22.*f  ", c->currency, c->scale, last->p10, c->scale, last->p50, c->scale, last->p90);
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
  const fc_project_request defaults = fc_project_defaults();
  fc_project_request req = defaults;
  const cli_command c = {"project", usage, &fc_project_optable, &defaults, "--data", "--scenario", 0};
  cli_io io = {NULL, "-", 0, NULL, 0};
  const char *dir, *output, *scenario;
  int rc;
  fc_treasury *t;
  fc_projection *proj;
  fc_err err;
  if ((rc = cli_parse_io(argc, argv, &c, &req, &io)) >= 0) return rc;
  dir = io.input, output = io.output, scenario = io.extra;
  fc_err_clear(&err);
  if (cli_load_treasury("project", dir, &t)) return 1;
  if (req.p.now == FC_TIME_NONE && (req.p.now = fc_treasury_default_now(t, req.p.tenant_id)) == FC_TIME_NONE) {
    fc_treasury_destroy(t);
    return cli_fail("project", "%s holds no transfers to take the as-of time from: pass --now TS", dir);
  }
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
  if (io.json) {
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
