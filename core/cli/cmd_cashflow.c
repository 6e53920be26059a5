/* cmd_cashflow.c: floatcast cashflow --data DIR [--now TS] [--horizon 48] [--json]:
 * predicted outflows and inflows (p10/p50/p90, mean) per step and currency,
 * with the method used and the features' importance. */
#include "cli.h"
#include "fc/cashflow.h"
#include "fc/flows.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: floatcast cashflow --data DIR [--now TS] [--horizon 48] [--json] [--tenant T]\n"
    "                          [--currency C] [--granularity hour|day] [--seed S] [--output FILE]\n"
    "Predicts each currency's unscheduled outflows and inflows for the next steps as p10/p50/p90\n"
    "with gradient-boosted quantile trees (direct multi-horizon), falling back to seasonal-naive\n"
    "statistics or to no predicted flow when the history is too short (the answer says which).\n"
    "  --data      the treasury directory: accounts.csv, transfers.csv, streams.csv\n"
    "  --json      print JSON (default: a table); --output FILE writes it there\n";

static void print_table(const fc_cashflow *c) {
  char at[FC_TIME_STR];
  printf("%s %s: %s (%s)\n", c->tenant_id, c->currency, fc_cashflow_method_name(c->method), c->message);
  printf("%-21s %12s %12s %12s %12s %12s %12s\n", "step start", "out p10", "out p50", "out p90", "in p10", "in p50",
         "in p90");
  for (int h = 0; h < c->horizon; h++) {
    fc_time_format(c->now + (int64_t)h * c->step, at);
    printf("%-21s %12.2f %12.2f %12.2f %12.2f %12.2f %12.2f\n", at, c->out.p10[h], c->out.p50[h], c->out.p90[h],
           c->in.p10[h], c->in.p50[h], c->in.p90[h]);
  }
  for (size_t k = 0; k < c->n_features && k < 5; k++)
    printf("%s%s %.3f", k ? ", " : "importance (outflow gain share): ", c->out.importance[k].feature,
           c->out.importance[k].share);
  printf("\n\n");
}

/* The tenant's account currencies, each once, in first-seen order. */
static size_t tenant_currencies(const fc_treasury *t, const char *tenant, const char **out, size_t cap) {
  const fc_account *a;
  size_t na = fc_treasury_accounts(t, &a), n = 0;
  for (size_t i = 0; i < na; i++) {
    size_t j = 0;
    if (strcmp(a[i].tenant_id, tenant) != 0) continue;
    while (j < n && strcmp(out[j], a[i].currency) != 0) j++;
    if (j == n && n < cap) out[n++] = a[i].currency;
  }
  return n;
}

static int run(const fc_treasury *t, fc_cashflow_params *p, const char *ccy, int json, const char *output) {
  const char *list[64], *tenants[2];
  size_t n, nt = fc_treasury_tenants(t, tenants, 2);
  fc_buf out;
  int rc = 0;
  if (p->tenant_id == NULL) {
    if (nt != 1) return cli_fail("cashflow", nt ? "the data holds several tenants: name one with --tenant" : "no data");
    p->tenant_id = tenants[0];
  }
  if (p->now == FC_TIME_NONE) p->now = fc_treasury_default_now(t, p->tenant_id);
  if (p->now == FC_TIME_NONE) return cli_fail("cashflow", "no transfers to take 'now' from: give --now");
  n = ccy ? (list[0] = ccy, 1) : tenant_currencies(t, p->tenant_id, list, 64);
  if (n == 0) return cli_fail("cashflow", "tenant '%s' has no accounts: name a --currency", p->tenant_id);
  fc_buf_init(&out);
  if (json) fc_buf_puts(&out, "{\"forecasts\":[");
  for (size_t i = 0; i < n && rc == 0; i++) {
    fc_cashflow *c;
    fc_err err;
    int r;
    fc_err_clear(&err);
    p->currency = list[i];
    if ((r = fc_cashflow_predict(t, p, &c, &err)) != FC_OK) {
      rc = cli_fail_err("cashflow", list[i], r, &err);
      break;
    }
    if (json) {
      if (i) fc_buf_putc(&out, ',');
      fc_cashflow_write_json(c, &out);
      if (out.len && out.data[out.len - 1] == '\n') out.len--;
    } else {
      print_table(c);
    }
    fc_cashflow_destroy(c);
  }
  if (json && rc == 0) {
    fc_buf_puts(&out, "]}\n");
    rc = fc_buf_failed(&out)                         ? cli_fail("cashflow", "out of memory")
         : cli_write_file(output, out.data, out.len) ? 1
                                                     : 0;
  }
  fc_buf_free(&out);
  return rc;
}

int cmd_cashflow(int argc, char **argv) {
  const fc_cashflow_params defaults = fc_cashflow_defaults();
  fc_cashflow_params p = defaults;
  const cli_command c = {"cashflow", usage, &fc_cashflow_optable, &defaults, "--data", NULL, 0};
  cli_io io = {NULL, "-", 0, NULL, 0};
  int rc;
  fc_treasury *t;
  if ((rc = cli_parse_io(argc, argv, &c, &p, &io)) >= 0) return rc;
  if (cli_load_treasury("cashflow", io.input, &t)) return 1;
  rc = run(t, &p, p.currency, io.json, io.output);
  fc_treasury_destroy(t);
  return rc;
}
