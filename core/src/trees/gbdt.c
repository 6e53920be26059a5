/* gbdt.c: datasets and training of histogram-based gradient-boosted trees.
 *
 * Training bins every feature once (uint8 codes, row-major so one row's codes
 * share a cache line for histograms, and a column-major copy for partitions),
 * then per round computes gradient/hessian pairs and grows one tree
 * leaf-wise (binning in gbdt_bins.c, objectives in gbdt_objective.c, histograms and
 * splits in gbdt_hist.c, tree growth in gbdt_grow.c). Each leaf owns a contiguous range of a row-index array; a split
 * partitions that range stably (rows stay in ascending order). Only the
 * smaller child's histogram is built from rows; the larger child's is the
 * parent's minus it. Work is spread over the caller's parallel-for (the
 * params' parallel, in `threads` parts; see parallel_for) in ways that
 * never change a sum: partitions and score
 * updates by position chunks, binning by feature and row chunk, histograms
 * by fixed row chunks or by feature (see build_hist). The model does not
 * depend on the number of threads.
 *
 * Leaf values are -T(G) / (H + lambda_l2) with T the L1 soft threshold; for
 * l1 and quantile they are then refit, as LightGBM does, to the median or
 * alpha-percentile of the leaf's residuals. Scores start at the mean (l2),
 * the median (l1, huber), the alpha-quantile (quantile) or log of the mean
 * (poisson, tweedie).
 */
#include "fc/gbdt.h"
#include "fc/rng.h"
#include "gbdt_internal.h"
#include "gbdt_train.h"
#include "internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ data */

fc_gbdt_params fc_gbdt_defaults(void) {
  fc_gbdt_params p;
  memset(&p, 0, sizeof p);
  p.objective = FC_GBDT_L2;
  p.alpha = 0.5;
  p.huber_delta = 1.0;
  p.tweedie_power = 1.5;
  p.rounds = 100;
  p.learning_rate = 0.1;
  p.num_leaves = 31;
  p.max_depth = -1;
  p.min_data_in_leaf = 20;
  p.min_sum_hessian_in_leaf = 1e-3;
  p.max_bin = 255;
  p.bagging_fraction = 1.0;
  p.feature_fraction = 1.0;
  p.cat_smooth = 10.0;
  p.threads = 1;
  return p;
}

int fc_gbdt_data_create(const double *x, size_t nrow, size_t ncol, const double *y, fc_gbdt_data **out, fc_err *err) {
  fc_gbdt_data *d;
  *out = NULL;
  if (nrow == 0) return fc__err(err, FC_EINVAL, "gbdt data: the table has no rows");
  if (ncol == 0) return fc__err(err, FC_EINVAL, "gbdt data: the table has no feature columns");
  if (x == NULL) return fc__err(err, FC_EINVAL, "gbdt data: NULL features");
  if (nrow > SIZE_MAX / ncol) return fc__err(err, FC_EINVAL, "gbdt data: table too large");
  for (size_t i = 0; i < nrow * ncol; i++)
    if (isinf(x[i]))
      return fc__err(err, FC_EINVAL, "gbdt data: row %zu, column %zu: infinite feature value", i / ncol, i % ncol);
  if (y)
    for (size_t i = 0; i < nrow; i++)
      if (!isfinite(y[i]))
        return fc__err(err, FC_EINVAL, "gbdt data: row %zu: target is %s", i, isnan(y[i]) ? "NaN" : "infinite");
  d = fc__calloc(1, sizeof *d);
  if (d == NULL || (d->is_cat = fc__calloc(ncol, 1)) == NULL) {
    fc__free(d);
    return fc__err(err, FC_ENOMEM, "gbdt data: out of memory");
  }
  d->x = x;
  d->y = y;
  d->nrow = nrow;
  d->ncol = ncol;
  *out = d;
  return FC_OK;
}

void fc_gbdt_data_destroy(fc_gbdt_data *d) {
  if (d == NULL) return;
  if (d->names)
    for (size_t i = 0; i < d->ncol; i++) fc__free(d->names[i]);
  fc__free(d->names);
  fc__free(d->is_cat);
  fc__free(d);
}

int fc_gbdt_data_set_categorical(fc_gbdt_data *d, size_t col, int is_cat, fc_err *err) {
  if (d == NULL || col >= d->ncol) return fc__err(err, FC_EINVAL, "gbdt data: no column %zu", col);
  d->is_cat[col] = is_cat != 0;
  return FC_OK;
}

int fc_gbdt_data_set_names(fc_gbdt_data *d, const char *const *names, fc_err *err) {
  char **nn;
  if (d == NULL || names == NULL) return fc__err(err, FC_EINVAL, "gbdt data: NULL names");
  nn = fc__calloc(d->ncol, sizeof *nn);
  if (nn == NULL) return fc__err(err, FC_ENOMEM, "gbdt data: out of memory");
  for (size_t i = 0; i < d->ncol; i++) {
    size_t n = names[i] ? strlen(names[i]) : 0;
    nn[i] = fc__malloc(n + 1);
    if (nn[i] == NULL) {
      for (size_t j = 0; j < i; j++) fc__free(nn[j]);
      fc__free(nn);
      return fc__err(err, FC_ENOMEM, "gbdt data: out of memory");
    }
    if (n) memcpy(nn[i], names[i], n);
    nn[i][n] = '\0';
  }
  if (d->names)
    for (size_t i = 0; i < d->ncol; i++) fc__free(d->names[i]);
  fc__free(d->names);
  d->names = nn;
  return FC_OK;
}

enum { MAX_PARTS = 64 };

/* One parallel step: fn over items [0, nk) in nt contiguous parts. */
typedef struct step_job {
  trainer *t;
  feat_fn fn;
  void *arg;
  int nk, nt;
} step_job;

static void step_part(void *a, size_t i) {
  const step_job *j = a;
  int k0 = (int)((long long)j->nk * (long long)i / j->nt);
  int k1 = (int)((long long)j->nk * (long long)(i + 1) / j->nt);
  j->fn(j->t, k0, k1, j->arg);
}

/* Runs fn over items [0, nk) split into contiguous parts, one task of the
 * caller's parallel-for each. Small jobs (work below a threshold) run on
 * the calling thread alone. The split never changes what fn computes for
 * an item. */
void fc__gbdt_parallel_for(trainer *t, int nk, double work, feat_fn fn, void *arg) {
  step_job j;
  int nt = t->nt < nk ? t->nt : nk;
  if (work < 32768.0 || nt < 2) {
    fn(t, 0, nk, arg);
    return;
  }
  j.t = t;
  j.fn = fn;
  j.arg = arg;
  j.nk = nk;
  j.nt = nt;
  t->p.parallel.run(t->p.parallel.ctx, (size_t)nt, step_part, &j);
}

/* ------------------------------------------------------------ train */

static int check_params(const fc_gbdt_params *p, fc_err *err) {
#define BAD(cond, ...) \
  if (cond) return fc__err(err, FC_EINVAL, "gbdt train: " __VA_ARGS__)
  BAD((unsigned)p->objective > FC_GBDT_TWEEDIE, "unknown objective %d", (int)p->objective);
  BAD(!(p->alpha > 0.0 && p->alpha < 1.0), "alpha must be in (0, 1), got %g", p->alpha);
  BAD(!(p->huber_delta > 0.0 && isfinite(p->huber_delta)), "huber_delta must be positive");
  BAD(!(p->tweedie_power > 1.0 && p->tweedie_power < 2.0), "tweedie_power must be in (1, 2)");
  BAD(p->rounds < 1, "rounds must be >= 1, got %d", p->rounds);
  BAD(!(p->learning_rate > 0.0 && isfinite(p->learning_rate)), "learning_rate must be positive");
  BAD(p->num_leaves < 2 || p->num_leaves > 131072, "num_leaves must be in 2..131072, got %d", p->num_leaves);
  BAD(p->min_data_in_leaf < 1, "min_data_in_leaf must be >= 1");
  BAD(!(p->min_sum_hessian_in_leaf >= 0.0), "min_sum_hessian_in_leaf must be >= 0");
  BAD(!(p->min_gain_to_split >= 0.0), "min_gain_to_split must be >= 0");
  BAD(!(p->lambda_l1 >= 0.0 && p->lambda_l2 >= 0.0), "lambda_l1 and lambda_l2 must be >= 0");
  BAD(p->max_bin < 2 || p->max_bin > 255, "max_bin must be in 2..255, got %d", p->max_bin);
  BAD(!(p->bagging_fraction > 0.0 && p->bagging_fraction <= 1.0), "bagging_fraction must be in (0, 1]");
  BAD(p->bagging_freq < 0, "bagging_freq must be >= 0");
  BAD(!(p->feature_fraction > 0.0 && p->feature_fraction <= 1.0), "feature_fraction must be in (0, 1]");
  BAD(!(p->cat_smooth >= 0.0), "cat_smooth must be >= 0");
  BAD(p->early_stopping_rounds < 0, "early_stopping_rounds must be >= 0");
#undef BAD
  return FC_OK;
}

static int check_data(const fc_gbdt_data *train, const fc_gbdt_data *valid, fc_gbdt_params p, fc_err *err) {
  if (train == NULL) return fc__err(err, FC_EINVAL, "gbdt train: NULL training data");
  if (train->y == NULL) return fc__err(err, FC_EINVAL, "gbdt train: the training data has no target");
  if (train->nrow < 2) return fc__err(err, FC_EINVAL, "gbdt train: need at least 2 rows, got %zu", train->nrow);
  if (train->nrow > UINT32_MAX) return fc__err(err, FC_EINVAL, "gbdt train: more than 2^32-1 rows");
  if (valid && (valid->ncol != train->ncol || valid->y == NULL))
    return fc__err(err, FC_EINVAL, "gbdt train: the validation set needs a target and %zu columns (has %zu)",
                   train->ncol, valid->ncol);
  if (p.early_stopping_rounds > 0 && valid == NULL)
    return fc__err(err, FC_EINVAL, "gbdt train: early stopping needs a validation set");
  if (p.objective == FC_GBDT_POISSON || p.objective == FC_GBDT_TWEEDIE)
    for (int s = 0; s < 2; s++) {
      const fc_gbdt_data *d = s ? valid : train;
      for (size_t r = 0; d && r < d->nrow; r++)
        if (d->y[r] < 0)
          return fc__err(err, FC_EINVAL, "gbdt train: %s row %zu: %s needs a target >= 0, got %g",
                         s ? "validation" : "training", r, fc_gbdt_objective_name(p.objective), d->y[r]);
    }
  return FC_OK;
}

static void trainer_free(trainer *t) {
  if (t->ub)
    for (size_t f = 0; f < t->F; f++) fc__free(t->ub[f]);
  fc__free(t->ub);
  if (t->pool)
    for (int i = 0; i < t->p.num_leaves; i++) fc__free(t->pool[i]);
  fc__free(t->pool);
  if (t->chunk_hist)
    for (int i = 0; i < HIST_MAX_CHUNKS - 1; i++) fc__free(t->chunk_hist[i]);
  fc__free(t->chunk_hist);
  fc__free(t->bins);
  fc__free(t->nvb);
  fc__free(t->off);
  fc__free(t->usable);
  fc__free(t->feats);
  fc__free(t->foff);
  fc__free(t->grad);
  fc__free(t->hess);
  fc__free(t->score);
  fc__free(t->idx);
  fc__free(t->oi[0]);
  fc__free(t->oi[1]);
  fc__free(t->cols);
  fc__free(t->inbag);
  fc__free(t->leaves);
  fc__free(t->work);
}

static int trainer_alloc(trainer *t) {
  size_t n = t->n, F = t->F;
  int ok;
  t->bins = fc__mallocarray(n, F);
  t->cols = fc__mallocarray(n, F);
  t->nvb = fc__calloc(F, sizeof *t->nvb);
  t->off = fc__calloc(F, sizeof *t->off);
  t->usable = fc__calloc(F, sizeof *t->usable);
  t->feats = fc__calloc(F, sizeof *t->feats);
  t->foff = fc__calloc(F, sizeof *t->foff);
  t->ub = fc__calloc(F, sizeof *t->ub);
  t->grad = fc__mallocarray(n, sizeof *t->grad);
  t->hess = fc__mallocarray(n, sizeof *t->hess);
  t->score = fc__mallocarray(n, sizeof *t->score);
  t->idx = fc__mallocarray(n, sizeof *t->idx);
  t->oi[0] = fc__mallocarray(n, sizeof **t->oi);
  t->oi[1] = fc__mallocarray(n, sizeof **t->oi);
  t->work = fc__mallocarray(n, sizeof *t->work);
  t->leaves = fc__calloc((size_t)t->p.num_leaves, sizeof *t->leaves);
  t->pool = fc__calloc((size_t)t->p.num_leaves, sizeof *t->pool);
  ok = t->bins && t->nvb && t->off && t->usable && t->feats && t->foff && t->ub && t->grad && t->hess && t->score &&
       t->idx && t->oi[0] && t->oi[1] && t->cols && t->work && t->leaves && t->pool;
  for (size_t f = 0; ok && f < F; f++) ok = (t->ub[f] = fc__mallocarray((size_t)t->p.max_bin, sizeof **t->ub)) != NULL;
  if (ok && t->p.bagging_freq > 0 && t->p.bagging_fraction < 1.0) ok = (t->inbag = fc__malloc(n)) != NULL;
  return ok ? FC_OK : FC_ENOMEM;
}

static int alloc_pool(trainer *t) {
  for (int i = 0; i < t->p.num_leaves; i++)
    if ((t->pool[i] = fc__mallocarray(t->total_bins, sizeof(hbin))) == NULL) return FC_ENOMEM;
  if (t->n < (size_t)2 * HIST_CHUNK) return FC_OK; /* no leaf is ever chunked */
  if ((t->chunk_hist = fc__calloc(HIST_MAX_CHUNKS - 1, sizeof *t->chunk_hist)) == NULL) return FC_ENOMEM;
  for (int i = 0; i < HIST_MAX_CHUNKS - 1; i++)
    if ((t->chunk_hist[i] = fc__mallocarray(t->total_bins, sizeof(hbin))) == NULL) return FC_ENOMEM;
  return FC_OK;
}

static int copy_meta(fc_gbdt *m, const fc_gbdt_data *d, const fc_gbdt_params *p, double base) {
  m->objective = p->objective;
  m->alpha = p->alpha;
  m->huber_delta = p->huber_delta;
  m->tweedie_power = p->tweedie_power;
  m->learning_rate = p->learning_rate;
  m->base_score = base;
  memcpy(m->is_cat, d->is_cat, d->ncol);
  if (d->names)
    for (size_t i = 0; i < d->ncol; i++)
      if (fc__gbdt_set_name(m, i, d->names[i]) != FC_OK) return FC_ENOMEM;
  return FC_OK;
}

/* Runs the boosting rounds with optional validation and early stopping. */
static int boost(trainer *t, fc_gbdt *m, const fc_gbdt_data *valid, fc_err *err) {
  const fc_gbdt_params *p = &t->p;
  double *vscore = NULL, best = HUGE_VAL;
  size_t *ncat_after = fc__calloc((size_t)p->rounds + 1, sizeof *ncat_after);
  int best_round = 0, rc = FC_OK;
  if (ncat_after == NULL || (valid && (vscore = fc__mallocarray(valid->nrow, sizeof *vscore)) == NULL)) {
    fc__free(ncat_after);
    return fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  }
  for (size_t r = 0; valid && r < valid->nrow; r++) vscore[r] = m->base_score;
  for (int round = 1; round <= p->rounds; round++) {
    double tl = NAN, vl = NAN;
    fc__gbdt_set_rows(t, t->inbag && (round - 1) % p->bagging_freq == 0);
    fc__gbdt_gradients(t);
    if ((rc = fc__gbdt_grow_tree(t, m)) != FC_OK) {
      rc = fc__err(err, rc, "gbdt train: out of memory");
      break;
    }
    ncat_after[round] = m->ncat;
    if (valid) {
      for (size_t r = 0; r < valid->nrow; r++)
        vscore[r] += fc__gbdt_tree_value(m, m->ntrees - 1, valid->x + r * valid->ncol);
      vl = fc__gbdt_mean_loss(p, valid->y, vscore, valid->nrow);
      if (vl < best) {
        best = vl;
        best_round = round;
      }
    }
    if (p->progress) {
      tl = fc__gbdt_mean_loss(p, t->d->y, t->score, t->n);
      if (p->progress(round, p->rounds, tl, vl, p->user_data) != 0) {
        rc = fc__err(err, FC_EABORTED, "gbdt train: aborted by the caller at round %d", round);
        break;
      }
    }
    if (p->early_stopping_rounds > 0 && round - best_round >= p->early_stopping_rounds) break;
  }
  if (rc == FC_OK && p->early_stopping_rounds > 0 && best_round > 0) {
    m->ntrees = (size_t)best_round;
    m->ncat = ncat_after[best_round];
  }
  if (rc == FC_OK && fc__gbdt_finalize(m) != FC_OK) rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  fc__free(vscore);
  fc__free(ncat_after);
  return rc;
}

int fc_gbdt_train(const fc_gbdt_data *train, const fc_gbdt_data *valid, fc_gbdt_params p, fc_gbdt **out, fc_err *err) {
  trainer t;
  fc_gbdt *m = NULL;
  double base = 0.0;
  int rc;
  *out = NULL;
  if ((rc = check_params(&p, err)) != FC_OK) return rc;
  if ((rc = check_data(train, valid, p, err)) != FC_OK) return rc;
  memset(&t, 0, sizeof t);
  t.p = p;
  t.d = train;
  t.n = train->nrow;
  t.F = train->ncol;
  t.nt = p.parallel.run == NULL || p.threads < 1 ? 1 : FC__MIN(p.threads, MAX_PARTS);
  t.unit_hessian = p.objective != FC_GBDT_POISSON && p.objective != FC_GBDT_TWEEDIE;
  fc_rng_seed(&t.rng, p.seed);
  if (trainer_alloc(&t) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
    goto done;
  }
  if ((rc = fc__gbdt_build_bins(&t, err)) != FC_OK) goto done;
  if (alloc_pool(&t) != FC_OK || fc__gbdt_model_new(&m, t.F, err) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
    goto done;
  }
  if ((rc = fc__gbdt_initial_score(&t, &base, err)) != FC_OK) goto done;
  if (copy_meta(m, train, &p, base) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
    goto done;
  }
  for (size_t r = 0; r < t.n; r++) t.score[r] = base;
  rc = boost(&t, m, valid, err);
done:
  trainer_free(&t);
  if (rc != FC_OK) {
    fc_gbdt_destroy(m);
    return rc;
  }
  *out = m;
  return FC_OK;
}
