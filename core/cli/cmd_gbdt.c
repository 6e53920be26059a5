/* cmd_gbdt.c: floatcast gbdt train | predict | importance | dump.
 *
 * Tables are numeric CSV files with a header row (read with fc/table.h, as
 * the WASM module reads them): an empty field, NA, NaN or nan is a missing
 * value; anything else must be a finite number. Training uses every column
 * except the target as a feature, in header order; prediction finds the
 * model's features by name, so the prediction table may carry extra columns
 * (such as the target) in any order.
 */
#define _POSIX_C_SOURCE 200809L /* strdup, strtok_r */
#include "cli.h"
#include "cli_parallel.h"

#include "fc/gbdt.h"
#include "fc/table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads a numeric CSV table (fc/table.h) from path; prints the reason and
 * returns 1 on error. */
static int read_table(const char *cmd, const char *path, fc_table *t) {
  fc_buf raw;
  fc_err err;
  int rc;
  memset(t, 0, sizeof *t);
  fc_buf_init(&raw);
  if (cli_read_file(path, &raw) != 0) return 1;
  rc = fc_table_read(raw.data, raw.len, t, &err);
  fc_buf_free(&raw);
  return rc == FC_OK ? 0 : cli_fail_err(cmd, path, rc, &err);
}

/* Copies columns names[0..nf) of t into x (row-major) and column target
 * into y. */
static int split_table(const char *cmd, const char *path, const fc_table *t, const char *target,
                       const char *const *names, size_t nf, double **x, double **y) {
  long tc = fc_table_column(t, target);
  fc_err err;
  int rc;
  if (tc < 0) return cli_fail(cmd, "%s: no column named \"%s\"", path, target);
  if ((rc = fc_table_gather(t, names, nf, x, &err)) != FC_OK) return cli_fail_err(cmd, path, rc, &err);
  if ((*y = malloc(t->nrow * sizeof **y)) == NULL) return cli_fail(cmd, "out of memory");
  for (size_t r = 0; r < t->nrow; r++) (*y)[r] = t->v[r * t->ncol + (size_t)tc];
  return 0;
}

static int progress_print(int round, int rounds, double tl, double vl, void *ud) {
  (void)ud;
  fprintf(stderr, "round %d/%d: train loss %.6g", round, rounds, tl);
  if (!isnan(vl)) fprintf(stderr, ", valid loss %.6g", vl);
  fputc('\n', stderr);
  return 0;
}

static const char usage_train[] =
    "usage: floatcast gbdt train --input TABLE.csv --target COL --output MODEL [options]\n"
    "                            [--valid FILE] [--verbose]\n"
    "Fits gradient-boosted trees on a numeric CSV table (every column but the target is a\n"
    "feature, in header order). --valid FILE is a table with the same columns for early\n"
    "stopping; --verbose prints each round's losses to stderr.\n";

static int help_train(FILE *f) {
  fc_gbdt_train_options d = fc_gbdt_train_options_defaults();
  return cli_help(f, usage_train, &fc_gbdt_train_optable, &d);
}

/* Parses gbdt train's options (the table's, then the CLI's own); returns
 * -1 to go on, else the exit code. */
static int parse_train(int argc, char **argv, fc_gbdt_train_options *o, const char **input, const char **output,
                       const char **valid) {
  const char *v;
  int bad = 0, rc;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) return help_train(stdout);
    if (strcmp(argv[i], "--verbose") == 0) o->p.progress = progress_print;
    else if ((v = cli_flag(argc, argv, &i, "--input", &bad))) *input = v;
    else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) *output = v;
    else if ((v = cli_flag(argc, argv, &i, "--valid", &bad))) *valid = v;
    else if (bad) return 2;
    else if ((rc = cli_opt(argc, argv, &i, "gbdt train", &fc_gbdt_train_optable, o)) > 0) return rc;
    else if (rc < 0) {
      fprintf(stderr, "floatcast gbdt train: unknown option %s\n", argv[i]);
      return help_train(stderr);
    }
  }
  return *input && o->target && *output ? -1 : help_train(stderr);
}

/* Marks the comma-separated columns of list categorical. */
static int mark_categorical(const char *cmd, fc_gbdt_data *d, const fc_table *t, const char *target, const char *list) {
  char *copy = strdup(list), *save = NULL;
  long tc = fc_table_column(t, target);
  int rc = 0;
  if (copy == NULL) return cli_fail(cmd, "out of memory");
  for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    long c = fc_table_column(t, tok);
    if (c < 0 || c == tc) rc = cli_fail(cmd, "--categorical: \"%s\" is not a feature column", tok);
    else fc_gbdt_data_set_categorical(d, (size_t)(c > tc ? c - 1 : c), 1, NULL);
  }
  free(copy);
  return rc;
}

static int gbdt_train(int argc, char **argv) {
  const char *cmd = "gbdt train", *input = NULL, *output = NULL, *valid = NULL, *target, *cats;
  fc_gbdt_train_options o = fc_gbdt_train_options_defaults();
  fc_table tt = {0}, vt = {0};
  double *x = NULL, *y = NULL, *vx = NULL, *vy = NULL;
  const char **names = NULL;
  size_t nf = 0;
  fc_gbdt_data *d = NULL, *dv = NULL;
  fc_gbdt *m = NULL;
  fc_buf out;
  fc_err err;
  int rc;
  if ((rc = parse_train(argc, argv, &o, &input, &output, &valid)) >= 0) return rc;
  o.p.parallel.run = cli_parallel_for; /* --threads of them */
  o.p.parallel.ctx = &o.p.threads;
  rc = 1;
  target = o.target;
  cats = o.categorical;
  if (read_table(cmd, input, &tt)) goto done;
  if (fc_table_column(&tt, target) < 0) {
    cli_fail(cmd, "%s: no column named \"%s\"", input, target);
    goto done;
  }
  if (tt.ncol < 2) {
    cli_fail(cmd, "%s: no feature columns besides the target", input);
    goto done;
  }
  nf = tt.ncol - 1;
  if ((names = malloc(nf * sizeof *names)) == NULL) goto done;
  for (size_t c = 0, k = 0; c < tt.ncol; c++)
    if (strcmp(tt.names[c], target) != 0) names[k++] = tt.names[c];
  if (split_table(cmd, input, &tt, target, names, nf, &x, &y)) goto done;
  if (valid && (read_table(cmd, valid, &vt) || split_table(cmd, valid, &vt, target, names, nf, &vx, &vy))) goto done;
  if (fc_gbdt_data_create(x, tt.nrow, nf, y, &d, &err) ||
      (valid && fc_gbdt_data_create(vx, vt.nrow, nf, vy, &dv, &err))) {
    cli_fail_err(cmd, d ? valid : input, err.code, &err);
    goto done;
  }
  fc_gbdt_data_set_names(d, names, NULL);
  if (cats && mark_categorical(cmd, d, &tt, target, cats)) goto done;
  if (fc_gbdt_train(d, dv, o.p, &m, &err)) {
    cli_fail_err(cmd, input, err.code, &err);
    goto done;
  }
  fc_buf_init(&out);
  if (fc_gbdt_save(m, &out, &err)) {
    cli_fail_err(cmd, output, err.code, &err);
  } else if (cli_write_file(output, out.data, out.len) == 0) {
    fprintf(stderr, "floatcast %s: %zu trees on %zu rows x %zu features -> %s\n", cmd, fc_gbdt_num_trees(m), tt.nrow,
            nf, output);
    rc = 0;
  }
  fc_buf_free(&out);
done:
  fc_gbdt_destroy(m);
  fc_gbdt_data_destroy(d);
  fc_gbdt_data_destroy(dv);
  free(x), free(y), free(vx), free(vy);
  free(names);
  fc_table_free(&tt);
  fc_table_free(&vt);
  return rc;
}

static int load_model(const char *cmd, const char *path, fc_gbdt **m) {
  fc_buf raw;
  fc_err err;
  int rc = 0;
  fc_buf_init(&raw);
  if (cli_read_file(path, &raw) != 0) return 1;
  if (fc_gbdt_load(raw.data, raw.len, m, &err)) rc = cli_fail_err(cmd, path, err.code, &err);
  fc_buf_free(&raw);
  return rc;
}

static const char usage_predict[] = "usage: floatcast gbdt predict --model MODEL --input TABLE.csv --output PRED.csv\n"
                                    "\n"
                                    "  --model MODEL     a model written by gbdt train\n"
                                    "  --input FILE      numeric CSV with a column for each of the model's features\n"
                                    "  --output FILE     one 'prediction' column, rows in input order (- for stdout)\n"
                                    "  --help            this text\n";

static const char usage_inspect[] = "usage: floatcast gbdt %s --model MODEL\n"
                                    "\n"
                                    "  --model MODEL     a model written by gbdt train\n"
                                    "  --help            this text\n"
                                    "\n"
                                    "%s\n";

/* The model's feature columns of t, by name, into x (row-major). */
static int feature_columns(const char *cmd, const char *path, const fc_gbdt *m, const fc_table *t, double **x) {
  size_t nf = fc_gbdt_num_features(m);
  const char **names = malloc((nf ? nf : 1) * sizeof *names);
  fc_err err;
  int rc;
  if (names == NULL) return cli_fail(cmd, "out of memory");
  for (size_t f = 0; f < nf; f++) names[f] = fc_gbdt_feature_name(m, f);
  rc = fc_table_gather(t, names, nf, x, &err);
  free(names);
  return rc == FC_OK ? 0 : cli_fail_err(cmd, path, rc, &err);
}

static int gbdt_predict(int argc, char **argv) {
  const char *cmd = "gbdt predict", *model = NULL, *input = NULL, *output = NULL, *v;
  fc_gbdt *m = NULL;
  fc_table t = {0};
  double *x = NULL, *pred = NULL;
  size_t nf;
  fc_buf out;
  int threads = 2; /* rows in blocks over two threads; the answer does not depend on it */
  const fc_parallel par = {cli_parallel_for, &threads};
  fc_err err;
  int bad = 0, rc = 1;
  for (int i = 1; i < argc && !bad; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage_predict, stdout);
      return 0;
    }
    if ((v = cli_flag(argc, argv, &i, "--model", &bad))) model = v;
    else if ((v = cli_flag(argc, argv, &i, "--input", &bad))) input = v;
    else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) output = v;
    else if (!bad) {
      fprintf(stderr, "floatcast %s: unknown option %s\n", cmd, argv[i]);
      bad = 1;
    }
  }
  if (bad || !model || !input || !output) {
    fputs(usage_predict, stderr);
    return 2;
  }
  if (load_model(cmd, model, &m) || read_table(cmd, input, &t)) goto done;
  if (feature_columns(cmd, input, m, &t, &x)) goto done;
  nf = fc_gbdt_num_features(m);
  if ((pred = malloc(t.nrow * sizeof *pred)) == NULL) {
    cli_fail(cmd, "out of memory");
    goto done;
  }
  if (fc_gbdt_predict(m, x, t.nrow, nf, &par, pred, &err)) {
    cli_fail_err(cmd, input, err.code, &err);
    goto done;
  }
  fc_buf_init(&out);
  fc_buf_puts(&out, "prediction\n");
  for (size_t r = 0; r < t.nrow; r++) fc_buf_printf(&out, "%.17g\n", pred[r]);
  if (!fc_buf_failed(&out) && cli_write_file(output, out.data, out.len) == 0) rc = 0;
  fc_buf_free(&out);
done:
  fc_gbdt_destroy(m);
  fc_table_free(&t);
  free(x), free(pred);
  return rc;
}

/* importance prints "feature,splits,gain" sorted by gain (ties by name order);
 * dump prints the JSON description. */
static int gbdt_inspect(int argc, char **argv, int dump) {
  const char *cmd = dump ? "gbdt dump" : "gbdt importance", *model = NULL, *v;
  fc_gbdt *m = NULL;
  fc_buf out;
  fc_err err;
  const char *what = dump ? "Writes the model (trees, splits, leaf values) as readable JSON."
                          : "Writes feature,splits,gain as CSV, by gain descending.";
  int bad = 0, rc = 1;
  for (int i = 1; i < argc && !bad; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      printf(usage_inspect, cmd + 5, what);
      return 0;
    }
    if ((v = cli_flag(argc, argv, &i, "--model", &bad))) model = v;
    else if (!bad) {
      fprintf(stderr, "floatcast %s: unknown option %s\n", cmd, argv[i]);
      bad = 1;
    }
  }
  if (bad || !model) {
    fprintf(stderr, usage_inspect, cmd + 5, what);
    return 2;
  }
  if (load_model(cmd, model, &m)) return 1;
  fc_buf_init(&out);
  if (dump) {
    if (fc_gbdt_dump_json(m, &out, &err) == 0) rc = 0;
  } else {
    size_t nf = fc_gbdt_num_features(m), *order = malloc(nf * sizeof *order);
    double *gain = malloc(nf * sizeof *gain), *split = malloc(nf * sizeof *split);
    if (order && gain && split && !fc_gbdt_importance(m, FC_GBDT_IMPORTANCE_GAIN, gain, &err) &&
        !fc_gbdt_importance(m, FC_GBDT_IMPORTANCE_SPLIT, split, &err)) {
      for (size_t i = 0; i < nf; i++) order[i] = i;
      for (size_t i = 1; i < nf; i++) /* stable insertion sort, gain descending */
        for (size_t j = i; j > 0 && gain[order[j]] > gain[order[j - 1]]; j--) {
          size_t tmp = order[j];
          order[j] = order[j - 1];
          order[j - 1] = tmp;
        }
      fc_buf_puts(&out, "feature,splits,gain\n");
      for (size_t i = 0; i < nf; i++)
        fc_buf_printf(&out, "%s,%.0f,%.6g\n", fc_gbdt_feature_name(m, order[i]), split[order[i]], gain[order[i]]);
      rc = 0;
    }
    free(order), free(gain), free(split);
  }
  if (rc == 0 && (fc_buf_failed(&out) || cli_write_file("-", out.data, out.len) != 0)) rc = 1;
  fc_buf_free(&out);
  fc_gbdt_destroy(m);
  return rc;
}

int cmd_gbdt(int argc, char **argv) {
  const char *sub = argc > 1 ? argv[1] : "";
  if (strcmp(sub, "train") == 0) return gbdt_train(argc - 1, argv + 1);
  if (strcmp(sub, "predict") == 0) return gbdt_predict(argc - 1, argv + 1);
  if (strcmp(sub, "importance") == 0) return gbdt_inspect(argc - 1, argv + 1, 0);
  if (strcmp(sub, "dump") == 0) return gbdt_inspect(argc - 1, argv + 1, 1);
  fprintf(strcmp(sub, "--help") == 0 ? stdout : stderr,
          "usage: floatcast gbdt train|predict|importance|dump [options]\n"
          "  train       fit gradient-boosted trees on a numeric CSV table\n"
          "  predict     write one 'prediction' column, rows in input order\n"
          "  importance  feature importance (split count and gain) as CSV\n"
          "  dump        the model as readable JSON\n");
  return strcmp(sub, "--help") == 0 ? 0 : 2;
}
