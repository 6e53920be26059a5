/* conformal.c: locally scaled split-conformal interval calibration. */
#include "fc/conformal.h"
#include "fc/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void fc_conformal_free(fc_conformal *c) {
  if (c == NULL) return;
  fc__free(c->step_rms);
  memset(c, 0, sizeof *c);
}

static double scale_of(const fc_conformal *c, double sd, size_t i) { return sd > 0 ? sd : c->step_rms[i]; }

int fc_conformal_fit(const fc_backtest_result *bt, const double *levels, size_t nlevels, fc_conformal *out,
                     fc_err *err) {
  size_t h, n;
  double *scores;
  memset(out, 0, sizeof *out);
  if (bt == NULL || bt->norigins == 0 || bt->horizon == 0) return fc__err(err, FC_EINVAL, "conformal: empty backtest");
  if (nlevels > FC_MAX_LEVELS) return fc__err(err, FC_EINVAL, "conformal: too many levels");
  h = bt->horizon;
  n = bt->norigins * h;
  out->step_rms = fc__calloc(h, sizeof *out->step_rms);
  scores = fc__mallocarray(n, sizeof *scores);
  if (!out->step_rms || !scores) {
    fc__free(scores);
    fc_conformal_free(out);
    return fc__err(err, FC_ENOMEM, "conformal: out of memory");
  }
  out->horizon = h;
  out->nlevels = nlevels;
  for (size_t i = 0; i < h; i++) {
    for (size_t k = 0; k < bt->norigins; k++) {
      double e = bt->actual[k * h + i] - bt->mean[k * h + i];
      out->step_rms[i] += e * e;
    }
    out->step_rms[i] = sqrt(out->step_rms[i] / (double)bt->norigins);
  }
  for (size_t k = 0; k < bt->norigins; k++)
    for (size_t i = 0; i < h; i++) {
      double s = scale_of(out, bt->sd[k * h + i], i), e = fabs(bt->actual[k * h + i] - bt->mean[k * h + i]);
      scores[k * h + i] = s > 0 ? e / s : 0;
    }
  qsort(scores, n, sizeof *scores, fc__cmp_double);
  double ms = 0;
  for (size_t i = 0; i < n; i++) ms += scores[i] * scores[i];
  ms = sqrt(ms / (double)n);
  for (size_t l = 0; l < nlevels; l++) {
    double r = ceil((double)(n + 1) * levels[l] / 100.0);
    size_t idx = r < 1 ? 0 : (size_t)r - 1;
    if (!(levels[l] > 0 && levels[l] < 100)) {
      fc__free(scores);
      fc_conformal_free(out);
      return fc__err(err, FC_EINVAL, "conformal: level %g not in (0, 100)", levels[l]);
    }
    out->levels[l] = levels[l];
    if (idx < n) {
      out->mult[l] = scores[idx];
    } else {
      /* Fewer scores than the level's rank needs (a few months of history:
       * 3 scores cannot place a 95 % bound): the largest score, or the
       * level's normal quantile of the scores' RMS if wider, so the 95 %
       * band is not the 80 % band again. */
      double z = fc_normal_quantile(0.5 + levels[l] / 200.0) * ms;
      out->mult[l] = z > scores[n - 1] ? z : scores[n - 1];
    }
  }
  fc__free(scores);
  return FC_OK;
}

int fc_conformal_apply(const fc_conformal *c, fc_forecast *f, int nonneg, fc_err *err) {
  if (f->h > c->horizon)
    return fc__err(err, FC_EINVAL, "conformal: forecast horizon %zu exceeds the calibrated %zu", f->h, c->horizon);
  if (f->nlevels != c->nlevels) return fc__err(err, FC_EINVAL, "conformal: level count differs");
  for (size_t l = 0; l < f->nlevels; l++) {
    if (f->levels[l] != c->levels[l]) return fc__err(err, FC_EINVAL, "conformal: levels differ");
    for (size_t i = 0; i < f->h; i++) {
      double w = c->mult[l] * scale_of(c, f->sd[i], i);
      f->lo[l * f->h + i] = f->mean[i] - w;
      f->hi[l * f->h + i] = f->mean[i] + w;
      if (nonneg) f->lo[l * f->h + i] = FC__MAX(f->lo[l * f->h + i], 0.0);
    }
  }
  return FC_OK;
}
