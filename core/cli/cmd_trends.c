/* cmd_trends.c: floatcast trends --input transactions.csv: revenue trend,
 * changepoints, weekday and month-of-year seasonality, anomalies and
 * highlights (trends.h), as JSON or the highlights as sentences. */
#include "cli.h"

#include "fc/json.h"
#include "fc/trends.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: floatcast trends --input transactions.csv [--granularity day|week|month]\n"
    "                        [--partner P] [--currency C] [--from D] [--to D]\n"
    "                        [--utc-offset +HH:MM] [--k 3] [--json] [--output FILE]\n"
    "Revenue (signed amounts) per local calendar day, week (from Monday) or month, decomposed\n"
    "robustly: the trend and its changepoints, the day-of-week and month-of-year pattern, the\n"
    "anomalies outside a --k robust sigma band and highlights in words. Weeks or months cut by\n"
    "the range are left out. --from is inclusive; --to is exclusive, except that a date alone\n"
    "(YYYY-MM-DD, local at --utc-offset) includes that whole day. --json prints the whole\n"
    "answer (the gateway's GET /v1/insights/trends result); otherwise the highlights.\n";

typedef struct opts {
  const char *input, *output, *from, *to;
  int json;
  fc_trends_params p;
} opts;

static int parse_flag(int argc, char **argv, int *i, opts *o, int *bad) {
  const char *v;
  if ((v = cli_flag(argc, argv, i, "--input", bad))) o->input = v;
  else if ((v = cli_flag(argc, argv, i, "--output", bad))) o->output = v;
  else if ((v = cli_flag(argc, argv, i, "--partner", bad))) o->p.partner_id = v;
  else if ((v = cli_flag(argc, argv, i, "--currency", bad))) o->p.currency = v;
  else if ((v = cli_flag(argc, argv, i, "--from", bad))) o->from = v;
  else if ((v = cli_flag(argc, argv, i, "--to", bad))) o->to = v;
  else if ((v = cli_flag(argc, argv, i, "--granularity", bad))) {
    fc_err err;
    if (fc_freq_parse(v, &o->p.freq, &err) != FC_OK || o->p.freq == FC_FREQ_HOUR)
      return cli_fail("trends", "--granularity: want day, week or month, got '%s'", v);
  } else if ((v = cli_flag(argc, argv, i, "--utc-offset", bad))) {
    fc_err err;
    if (fc_trends_parse_offset(v, &o->p.utc_offset_minutes, &err) != FC_OK)
      return cli_fail("trends", "--utc-offset: %s", err.msg);
  } else if ((v = cli_flag(argc, argv, i, "--k", bad))) {
    char *end;
    o->p.k = strtod(v, &end);
    if (*end || !(o->p.k > 0) || !isfinite(o->p.k)) return cli_fail("trends", "--k: want a number > 0");
  } else if (!*bad) {
    fprintf(stderr, "floatcast trends: unknown option '%s'\n%s", argv[*i], usage);
    return 2;
  }
  return *bad ? 2 : -1;
}

/* Parses the options; returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, opts *o) {
  int bad = 0, rc;
  fc_err err;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0) o->json = 1;
    else if ((rc = parse_flag(argc, argv, &i, o, &bad)) >= 0) return rc;
  }
  if (o->input == NULL) {
    fputs(usage, stderr);
    return 2;
  }
  /* Dates alone are local days, so the bounds wait for --utc-offset. */
  if (o->from && fc_trends_parse_bound(o->from, 0, o->p.utc_offset_minutes, &o->p.from, &err))
    return cli_fail("trends", "--from: %s", err.msg);
  if (o->to && fc_trends_parse_bound(o->to, 1, o->p.utc_offset_minutes, &o->p.to, &err))
    return cli_fail("trends", "--to: %s", err.msg);
  return -1;
}

static int load(const char *path, fc_batch **out) {
  fc_buf data;
  fc_load_report rep;
  fc_err err;
  int rc;
  fc_buf_init(&data);
  if (cli_read_file(path, &data) != 0) {
    fc_buf_free(&data);
    return 1;
  }
  fc_err_clear(&err);
  rc = fc_batch_parse(FC_RECORD_TRANSACTIONS, FC_FORMAT_CSV, data.data, data.len, NULL, out, &rep,
                      &err);
  fc_buf_free(&data);
  if (rc == FC_OK) return 0;
  cli_fail_err("trends", path, rc, &err);
  for (size_t i = 1; i < rep.n_listed; i++) fprintf(stderr, "  %s\n", rep.errors[i].msg);
  if (rep.n_errors > rep.n_listed) fprintf(stderr, "  ... %zu bad rows in all\n", rep.n_errors);
  return 1;
}

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
    fc_buf_printf(b, "%s revenue by %s: %zu buckets, %zu transactions, %zu anomalies\n",
                  t->currency, fc_freq_name(t->freq), t->n, t->rows, t->nanomalies);
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
  opts o;
  fc_batch *batch = NULL;
  fc_trends t;
  fc_buf b;
  fc_err err;
  int rc;
  memset(&o, 0, sizeof o);
  o.output = "-";
  o.p = fc_trends_defaults();
  if ((rc = parse(argc, argv, &o)) >= 0) return rc;
  if (load(o.input, &batch)) return 1;
  fc_err_clear(&err);
  rc = fc_trends_run(fc_batch_transactions(batch), fc_batch_count(batch), &o.p, &t, &err);
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
  rc = fc_buf_failed(&b) ? cli_fail("trends", "out of memory")
                         : (cli_write_file(o.output, b.data, b.len) != 0);
  fc_buf_free(&b);
  fc_trends_free(&t);
  fc_batch_destroy(batch);
  return rc;
}
