/* cmd_demo.c: floatcast demo --out DIR [--seed S] [--tenant T] [--now TS] [--days N]
 *             [--transaction-days N] */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: floatcast demo --out DIR [--seed 42] [--tenant demo] [--now 2025-12-01T12:00:00Z] [--days 11]\n"
    "                      [--transaction-days 180]\n"
    "Writes DIR/accounts.csv, transfers.csv and streams.csv for a realistic demo tenant, and\n"
    "DIR/transactions.csv: its customers' purchases and refunds (for segments and revenue forecasts).\n";

int cmd_demo(int argc, char **argv) {
  fc_demo_params p = fc_demo_defaults();
  const char *out = NULL, *v;
  fc_buf a, t, s, x;
  fc_err err;
  int bad = 0, rc, tx_days = 180;
  for (int i = 1; i < argc; i++) {
    long n;
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if ((v = cli_flag(argc, argv, &i, "--out", &bad))) {
      out = v;
    } else if ((v = cli_flag(argc, argv, &i, "--seed", &bad))) {
      if (cli_parse_long(v, 0, 2147483647L, &n)) return cli_fail("demo", "--seed: want a whole number >= 0");
      p.seed = (uint64_t)n;
    } else if ((v = cli_flag(argc, argv, &i, "--tenant", &bad))) {
      p.tenant_id = v;
    } else if ((v = cli_flag(argc, argv, &i, "--now", &bad))) {
      if (cli_parse_time("demo", "--now", v, &p.now)) return 1;
    } else if ((v = cli_flag(argc, argv, &i, "--days", &bad))) {
      if (cli_parse_long(v, 1, 400, &n)) return cli_fail("demo", "--days: want 1..400");
      p.history_days = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--transaction-days", &bad))) {
      if (cli_parse_long(v, 30, 730, &n)) return cli_fail("demo", "--transaction-days: want 30..730");
      tx_days = (int)n;
    } else if (!bad) {
      fprintf(stderr, "floatcast demo: unknown option '%s'\n%s", argv[i], usage);
      return 2;
    }
    if (bad) return 2;
  }
  if (out == NULL) {
    fputs(usage, stderr);
    return 2;
  }
  if (mkdir(out, 0755) != 0 && errno != EEXIST) return cli_fail("demo", "%s: %s", out, strerror(errno));
  fc_buf_init(&a);
  fc_buf_init(&t);
  fc_buf_init(&s);
  fc_buf_init(&x);
  rc = fc_demo_generate(&p, &a, &t, &s, &err);
  if (rc == FC_OK) rc = fc_demo_transactions(&p, tx_days, &x, &err);
  if (rc == FC_OK) {
    char path[4096];
    snprintf(path, sizeof path, "%s/accounts.csv", out);
    rc = cli_write_file(path, a.data, a.len);
    snprintf(path, sizeof path, "%s/transfers.csv", out);
    if (rc == 0) rc = cli_write_file(path, t.data, t.len);
    snprintf(path, sizeof path, "%s/streams.csv", out);
    if (rc == 0) rc = cli_write_file(path, s.data, s.len);
    snprintf(path, sizeof path, "%s/transactions.csv", out);
    if (rc == 0) rc = cli_write_file(path, x.data, x.len);
    rc = rc ? 1 : 0;
  } else {
    rc = cli_fail_err("demo", NULL, rc, &err);
  }
  fc_buf_free(&a);
  fc_buf_free(&t);
  fc_buf_free(&s);
  fc_buf_free(&x);
  return rc;
}
