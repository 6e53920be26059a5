/* cmd_trends.c: floatcast trends --input transactions.csv: revenue trend,
 * changepoints, weekday and month-of-year seasonality, anomalies and
 * highlights (trends.h), as JSON or the highlights as sentences. */
#include "cli.h"

#include "fc/json.h"
#include "fc/trends.h"

#include <string.h>

static const char usage[] =
    "usage: floatcast trends --input transactions.csv [options] [--json] [--output FILE]\n"
    "Revenue (signed amounts) per local calendar day, week (from Monday) or month, decomposed\n"
    "robustly: the trend and its changepoints, the day-of-week and month-of-year pattern, the\n"
    "anomalies outside a --k robust sigma band and highlights in words. Weeks or months cut by\n"
    "the range are left out. --json prints the whole answer (the gateway's\n"
    "GET /v1/insights/trends result); otherwise the highlights.\n";

/* The highlights' sentences, one a line, under a one-line summary; the
 * texts come from the JSON writer so both say the same. */
static int sentences(const fc_trends *t, fc_buf *b) {
  fc_buf j;
  fc_json_doc *doc = NULL;
  fc_err err;
  int rc;
  fc_buf_init(&j);
  fc_trends_write_json(t, &j);
  rc = fc_buf_failed(&j) ? FC_ENOMEM : fc_json_parse(j.data, j.len, &doc, &err);
  if (rc == FC_OK) {
    const fc_json *h = fc_json_get(fc_json_root(doc), "highlights");
    fc_buf_printf(b, "%s revenue by %s: %zu buckets, %zu transactions, %zu anomalies\n", t->currency,
                  fc_freq_name(t->freq), t->n, t->rows, t->nanomalies);
    for (const fc_json *x = h ? h->child : NULL; x; x = x->next) {
      const fc_json *text = fc_json_get(x, "text");
      if (text && text->type == FC_JSON_STRING) fc_buf_printf(b, "  %s\n", text->text);
    }
  }
  fc_json_doc_destroy(doc);
  fc_buf_free(&j);
  return rc;
}

int cmd_trends(int argc, char **argv) {
  fc_trends_options opt = fc_trends_options_defaults(), d = opt;
  const cli_command c = {"trends", usage, &fc_trends_optable, &d, NULL, NULL, 0};
  cli_io o = {NULL, "-", 0, NULL, 0};
  fc_batch *batch = NULL;
  fc_trends t;
  fc_buf b;
  fc_err err;
  int rc;
  if ((rc = cli_parse_io(argc, argv, &c, &opt, &o)) >= 0) return rc;
  /* Dates alone are local days, so the bounds wait for --utc-offset. */
  if (fc_trends_options_finish(&opt, &err) != FC_OK) return cli_fail("trends", "--%s", err.msg);
  if (cli_load_transactions("trends", o.input, &batch)) return 1;
  fc_err_clear(&err);
  rc = fc_trends_run(fc_batch_transactions(batch), fc_batch_count(batch), &opt.p, &t, &err);
  if (rc != FC_OK) {
    fc_batch_destroy(batch);
    return cli_fail_err("trends", o.input, rc, &err);
  }
  fc_buf_init(&b);
  if (o.json) {
    fc_trends_write_json(&t, &b);
    fc_buf_putc(&b, '\n');
  } else if (sentences(&t, &b) != FC_OK) {
    fc_buf_free(&b);
    fc_trends_free(&t);
    fc_batch_destroy(batch);
    return cli_fail("trends", "out of memory");
  }
  rc = fc_buf_failed(&b) ? cli_fail("trends", "out of memory") : (cli_write_file(o.output, b.data, b.len) != 0);
  fc_buf_free(&b);
  fc_trends_free(&t);
  fc_batch_destroy(batch);
  return rc;
}
