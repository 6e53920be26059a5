/* cmd_segment.c: floatcast segment --input transactions.csv: customer
 * segments of a partner's users (k-means or DBSCAN), as JSON or a table. */
#include "cli.h"

#include "fc/segments.h"

#include "cli_progress.h"

#include <string.h>

static const char usage[] = "usage: floatcast segment --input transactions.csv [options] [--json] [--output FILE]\n"
                            "Segments the users of the transactions (one partner with --partner) from their spending\n"
                            "features. --json prints the segments, every user's segment and membership probabilities;\n"
                            "otherwise a table of the segments. --output FILE writes there instead of stdout.\n"
                            "\n" CLI_PROGRESS_USAGE;

static void table(const fc_segments_result *r, fc_buf *b) {
  fc_buf_printf(b, "%zu users, method %s, k %d, silhouette %.4f\n", r->n_users,
                r->method == FC_SEG_KMEANS ? "kmeans" : "dbscan", r->k, r->silhouette);
  if (r->k_scores)
    for (int k = r->k_min; k <= r->k_max; k++)
      fc_buf_printf(b, "  k=%d silhouette %.4f%s\n", k, r->k_scores[k - r->k_min], k == r->k ? "  <- chosen" : "");
  fc_buf_printf(b, "%-3s %-44s %8s %12s %10s %10s %10s %9s  %s\n", "id", "label", "size", "avg_spend", "avg_txn",
                "freq_30d", "recency_d", "declining", "top categories");
  for (size_t s = 0; s < r->n_segments; s++) {
    const fc_segment *g = &r->segments[s];
    fc_buf_printf(b, "%-3d %-44s %8zu %12.2f %10.2f %10.3f %10.1f %8.1f%% ", g->id, g->label, g->size, g->avg_total,
                  g->avg_amount, g->avg_freq30, g->avg_recency_days, 100 * g->declining_share);
    for (int c = 0; c < 3 && g->top_categories[c] >= 0; c++)
      fc_buf_printf(b, "%s%s", c ? ", " : " ", r->categories[g->top_categories[c]]);
    fc_buf_putc(b, '\n');
  }
}

int cmd_segment(int argc, char **argv) {
  fc_segments_params p = fc_segments_defaults(), d = p;
  const cli_command c = {"segment", usage, &fc_segments_optable, &d, NULL, NULL, 1};
  cli_io o = {NULL, "-", 0, NULL, CLI_PROGRESS_AUTO};
  cli_progress progress;
  fc_batch *batch = NULL;
  fc_segments_result r;
  fc_buf b;
  fc_err err;
  int rc;
  if ((rc = cli_parse_io(argc, argv, &c, &p, &o)) >= 0) return rc;
  if (cli_load_transactions("segment", o.input, &batch)) return 1;
  fc_err_clear(&err);
  cli_progress_start(&progress, "segment", "", 0, o.progress);
  p.progress = cli_progress_fraction;
  p.user_data = &progress;
  rc = fc_segments_run(fc_batch_transactions(batch), fc_batch_count(batch), p, &r, &err);
  cli_progress_end(&progress);
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
  rc = fc_buf_failed(&b) ? cli_fail("segment", "out of memory") : (cli_write_file(o.output, b.data, b.len) != 0);
  fc_buf_free(&b);
  fc_segments_result_free(&r);
  fc_batch_destroy(batch);
  return rc;
}
