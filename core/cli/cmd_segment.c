/* cmd_segment.c: floatcast segment --input transactions.csv: customer
 * segments of a partner's users (k-means or DBSCAN), as JSON or a table. */
#include "cli.h"

#include "fc/segments.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: floatcast segment --input transactions.csv [--partner P] [--from D --to D]\n"
    "                         [--method kmeans|dbscan] [--k auto|N] [--seed S] [--json]\n"
    "                         [--eps E] [--min-pts N] [--windows N] [--half-life DAYS]\n"
    "                         [--output FILE]\n"
    "Segments the users of the transactions (one partner with --partner) from their spending\n"
    "features. --from is inclusive; --to is exclusive, except that a date alone (YYYY-MM-DD)\n"
    "includes that whole day. --k auto picks k in 2..8 by silhouette. --json prints the segments,\n"
    "every user's segment and membership probabilities; otherwise a table of the segments.\n";

typedef struct opts {
  const char *input, *output;
  int json;
  fc_segments_params p;
} opts;

/* Parses the options; returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, opts *o) {
  const char *v;
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    long n;
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(argv[i], "--json") == 0) {
      o->json = 1;
    } else if ((v = cli_flag(argc, argv, &i, "--input", &bad))) {
      o->input = v;
    } else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) {
      o->output = v;
    } else if ((v = cli_flag(argc, argv, &i, "--partner", &bad))) {
      o->p.partner_id = v;
    } else if ((v = cli_flag(argc, argv, &i, "--from", &bad))) {
      if (cli_parse_time("segment", "--from", v, &o->p.from)) return 1;
    } else if ((v = cli_flag(argc, argv, &i, "--to", &bad))) {
      if (cli_parse_time("segment", "--to", v, &o->p.to)) return 1;
      if (strlen(v) == 10) o->p.to += 86400; /* a date alone: through its end */
    } else if ((v = cli_flag(argc, argv, &i, "--method", &bad))) {
      if (strcmp(v, "kmeans") == 0) o->p.method = FC_SEG_KMEANS;
      else if (strcmp(v, "dbscan") == 0) o->p.method = FC_SEG_DBSCAN;
      else return cli_fail("segment", "--method: want kmeans or dbscan, got '%s'", v);
    } else if ((v = cli_flag(argc, argv, &i, "--k", &bad))) {
      if (strcmp(v, "auto") == 0) o->p.k = 0;
      else if (cli_parse_long(v, 1, 1000, &n)) return cli_fail("segment", "--k: want auto or 1..1000");
      else o->p.k = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--seed", &bad))) {
      if (cli_parse_long(v, 0, 2147483647L, &n)) return cli_fail("segment", "--seed: want 0..2^31-1");
      o->p.seed = (uint64_t)n;
    } else if ((v = cli_flag(argc, argv, &i, "--min-pts", &bad))) {
      if (cli_parse_long(v, 1, 100000, &n)) return cli_fail("segment", "--min-pts: want 1..100000");
      o->p.min_pts = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--windows", &bad))) {
      if (cli_parse_long(v, 2, 366, &n)) return cli_fail("segment", "--windows: want 2..366");
      o->p.n_windows = (int)n;
    } else if ((v = cli_flag(argc, argv, &i, "--eps", &bad))) {
      char *end;
      o->p.eps = strtod(v, &end);
      if (*end || !isfinite(o->p.eps)) return cli_fail("segment", "--eps: want a number");
    } else if ((v = cli_flag(argc, argv, &i, "--half-life", &bad))) {
      char *end;
      o->p.half_life_days = strtod(v, &end);
      if (*end || !(o->p.half_life_days > 0)) return cli_fail("segment", "--half-life: want days > 0");
    } else if (!bad) {
      fprintf(stderr, "floatcast segment: unknown option '%s'\n%s", argv[i], usage);
      return 2;
    }
    if (bad) return 2;
  }
  if (o->input == NULL) {
    fputs(usage, stderr);
    return 2;
  }
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
  cli_fail_err("segment", path, rc, &err);
  for (size_t i = 1; i < rep.n_listed; i++) fprintf(stderr, "  %s\n", rep.errors[i].msg);
  if (rep.n_errors > rep.n_listed) fprintf(stderr, "  ... %zu bad rows in all\n", rep.n_errors);
  return 1;
}

static void table(const fc_segments_result *r, fc_buf *b) {
  fc_buf_printf(b, "%zu users, method %s, k %d, silhouette %.4f\n", r->n_users,
                r->method == FC_SEG_KMEANS ? "kmeans" : "dbscan", r->k, r->silhouette);
  if (r->k_scores)
    for (int k = r->k_min; k <= r->k_max; k++)
      fc_buf_printf(b, "  k=%d silhouette %.4f%s\n", k, r->k_scores[k - r->k_min],
                    k == r->k ? "  <- chosen" : "");
  fc_buf_printf(b, "%-3s %-44s %8s %12s %10s %10s %10s %9s  %s\n", "id", "label", "size",
                "avg_spend", "avg_txn", "freq_30d", "recency_d", "declining", "top categories");
  for (size_t s = 0; s < r->n_segments; s++) {
    const fc_segment *g = &r->segments[s];
    fc_buf_printf(b, "%-3d %-44s %8zu %12.2f %10.2f %10.3f %10.1f %8.1f%% ", g->id, g->label,
                  g->size, g->avg_total, g->avg_amount, g->avg_freq30, g->avg_recency_days,
                  100 * g->declining_share);
    for (int c = 0; c < 3 && g->top_categories[c] >= 0; c++)
      fc_buf_printf(b, "%s%s", c ? ", " : " ", r->categories[g->top_categories[c]]);
    fc_buf_putc(b, '\n');
  }
}

int cmd_segment(int argc, char **argv) {
  opts o;
  fc_batch *batch = NULL;
  fc_segments_result r;
  fc_buf b;
  fc_err err;
  int rc;
  memset(&o, 0, sizeof o);
  o.output = "-";
  o.p = fc_segments_defaults();
  if ((rc = parse(argc, argv, &o)) >= 0) return rc;
  if (load(o.input, &batch)) return 1;
  fc_err_clear(&err);
  rc = fc_segments_run(fc_batch_transactions(batch), fc_batch_count(batch), o.p, &r, &err);
  if (rc != FC_OK) {
    fc_segments_result_free(&r);
    fc_batch_destroy(batch);
    return cli_fail_err("segment", o.input, rc, &err);
  }
  fc_buf_init(&b);
  if (o.json) {
    fc_segments_write_json(&r, 1, &b);
    fc_buf_putc(&b, '\n');
  } else {
    table(&r, &b);
  }
  rc = fc_buf_failed(&b) ? cli_fail("segment", "out of memory")
                         : (cli_write_file(o.output, b.data, b.len) != 0);
  fc_buf_free(&b);
  fc_segments_result_free(&r);
  fc_batch_destroy(batch);
  return rc;
}
