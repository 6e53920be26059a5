/* segments_features.c: the selected rows folded into daily aggregates per
 * user (rows of one key merged first, exactly, in minor units), and every
 * feature computed from those, so a long history costs one pass and the
 * same sums give the same answer from transactions or day rows. */
#include "segments_features.h"
#include "internal.h"
#include "segments_select.h"

#include <math.h>
#include <string.h>

/* Month (1..12) of a day number (Hinnant's civil_from_days). */
static int month_of_day(int64_t z) {
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  return (int)(mp < 10 ? mp + 3 : mp - 9);
}

void fc__seg_work_free(work *w) {
  fc__free(w->days);
  fc__free(w->user_day);
  fc__free(w->ucat_off);
  fc__free(w->ucat_id);
  fc__free(w->ucat_spend);
  fc_scaler_free(&w->scaler);
  memset(w, 0, sizeof *w);
}

static double pow10i(int s) {
  double v = 1;
  while (s-- > 0) v *= 10;
  return v;
}

static int check_params(const fc_segments_params *p, fc_err *err) {
  if (p->from >= p->to) return fc__err(err, FC_EINVAL, "empty date range (from >= to)");
  if (p->method != FC_SEG_KMEANS && p->method != FC_SEG_DBSCAN)
    return fc__err(err, FC_EINVAL, "unknown method %d", (int)p->method);
  if (p->k < 0 || (p->k == 0 && (p->k_min < 2 || p->k_max < p->k_min)))
    return fc__err(err, FC_EINVAL, "k = %d or k range [%d, %d] invalid", p->k, p->k_min, p->k_max);
  if (p->n_windows < 2 || p->n_windows > 366)
    return fc__err(err, FC_EINVAL, "n_windows = %d outside [2, 366]", p->n_windows);
  if (!(p->half_life_days > 0) || !isfinite(p->half_life_days))
    return fc__err(err, FC_EINVAL, "half_life_days must be positive and finite");
  if (!(p->trend_threshold >= 0) || !isfinite(p->trend_threshold))
    return fc__err(err, FC_EINVAL, "trend_threshold must be >= 0 and finite");
  if (p->select_sample != 0 && p->select_sample < 100)
    return fc__err(err, FC_EINVAL, "select_sample = %zu: 0 or at least 100", p->select_sample);
  return FC_OK;
}

/* A range of users folded on its own (fold_part): its days (written into
 * the shared days array from where its users' rows begin, which no other
 * range reaches: a user has no more days than rows), and its own day and
 * category offsets and category arrays, joined in order afterwards. */
typedef struct fold {
  sel *s; /* its users' parts of s->perm get sorted */
  fc_segments_result *r;
  size_t u0, u1;            /* users [u0, u1) */
  dayagg *days;             /* the shared array from s->user_start[u0] */
  size_t n_days;            /* this range's */
  int64_t day_min, day_max; /* this range's (n_days > 0) */
  size_t *user_day;         /* u1 - u0 + 1, from 0 */
  size_t *ucat_off;         /* u1 - u0 + 1, from 0 */
  int *ucat_id;             /* this range's */
  double *ucat_spend;
  size_t cat_cap;
  int rc;
} fold;

static void fold_free(fold *f) {
  fc__free(f->user_day);
  fc__free(f->ucat_off);
  fc__free(f->ucat_id);
  fc__free(f->ucat_spend);
}

/* Adds spend v of category cat to user u's (u local to the range). */
static int fold_category(fold *f, size_t u, int32_t cat, double v) {
  size_t c = f->ucat_off[u];
  while (c < f->ucat_off[u + 1] && f->ucat_id[c] != cat) c++;
  if (c == f->ucat_off[u + 1]) {
    size_t before = f->cat_cap;
    if (fc__grow((void **)&f->ucat_id, &f->cat_cap, c + 1, sizeof *f->ucat_id) != FC_OK) return FC_ENOMEM;
    if (f->cat_cap != before) {
      double *ns = fc__reallocarray(f->ucat_spend, f->cat_cap, sizeof *ns);
      if (ns == NULL) return FC_ENOMEM;
      f->ucat_spend = ns;
    }
    f->ucat_id[c] = cat;
    f->ucat_spend[c] = 0;
    f->ucat_off[u + 1]++;
  }
  f->ucat_spend[c] += v;
  return FC_OK;
}

/* Folds one group into user u's days, type counts and category spend (u:
 * the range's own index; gu: the user's). */
static int fold_group(const grp *x, fold *f, size_t u, size_t gu, int first) {
  fc_segments_result *r = f->r;
  double unit = pow10i(x->scale), v = (double)x->spend / unit;
  dayagg *dg;
  if (first || f->days[f->n_days - 1].day != x->day) {
    dg = &f->days[f->n_days++];
    memset(dg, 0, sizeof *dg);
    dg->day = x->day;
  }
  dg = &f->days[f->n_days - 1];
  dg->count += (size_t)x->count;
  dg->purchases += (size_t)x->purchases;
  dg->spend += v;
  dg->refund += (double)x->refund / unit;
  r->type_share[gu * r->n_types + x->type] += (double)x->count;
  if (x->cat < 0 || x->spend <= 0) return FC_OK;
  return fold_category(f, u, x->cat, v);
}

/* Folds one user's groups in perm order, merging the rows of one key first
 * (their sums are exact integers; summed as doubles one by one they would
 * depend on how a store split them). */
static int fold_user(fold *f, size_t gu) {
  const sel *s = f->s;
  size_t u = gu - f->u0, a = s->user_start[gu], b = s->user_start[gu + 1];
  grp cur = s->g[s->perm[a]];
  f->r->users[gu].partner_id = s->partner[cur.i];
  f->r->users[gu].user_id = s->user[cur.i];
  f->ucat_off[u + 1] = f->ucat_off[u];
  for (size_t q = a + 1; q <= b; q++) {
    const grp *x = q < b ? &s->g[s->perm[q]] : NULL;
    if (x && fc__seg_cmp_key(&cur, x) == 0) {
      cur.count += x->count;
      cur.purchases += x->purchases;
      cur.spend += x->spend;
      cur.refund += x->refund;
      continue;
    }
    if (fold_group(&cur, f, u, gu, f->n_days == f->user_day[u]) != FC_OK) return FC_ENOMEM;
    if (x) cur = *x;
  }
  f->user_day[u + 1] = f->n_days;
  if (f->user_day[u] == 0 || f->days[f->user_day[u]].day < f->day_min) f->day_min = f->days[f->user_day[u]].day;
  if (f->user_day[u] == 0 || f->days[f->n_days - 1].day > f->day_max) f->day_max = f->days[f->n_days - 1].day;
  return FC_OK;
}

/* Task: puts each user's rows of the range in order, then folds them. */
static void fold_part(void *arg, size_t part) {
  fold *f = (fold *)arg + part;
  size_t m = f->u1 - f->u0 + 1;
  f->user_day = fc__calloc(m, sizeof *f->user_day);
  f->ucat_off = fc__calloc(m, sizeof *f->ucat_off);
  f->rc = f->user_day && f->ucat_off ? FC_OK : FC_ENOMEM;
  for (size_t u = f->u0; u < f->u1 && f->rc == FC_OK; u++) {
    f->rc = fc__seg_sort_user(f->s, u);
    if (f->rc == FC_OK) f->rc = fold_user(f, u);
  }
}

/* Joins the ranges in order: days moved down behind the previous range's,
 * offsets shifted, categories concatenated. */
static int join_parts(fold *parts, size_t np, work *w) {
  size_t n_cats = 0, at = 0;
  for (size_t p = 0; p < np; p++) n_cats += parts[p].ucat_off[parts[p].u1 - parts[p].u0];
  w->ucat_id = fc__mallocarray(n_cats ? n_cats : 1, sizeof *w->ucat_id);
  w->ucat_spend = fc__mallocarray(n_cats ? n_cats : 1, sizeof *w->ucat_spend);
  if (!w->ucat_id || !w->ucat_spend) return FC_ENOMEM;
  w->n_days = 0;
  for (size_t p = 0; p < np; p++) {
    fold *f = &parts[p];
    size_t nc = f->ucat_off[f->u1 - f->u0];
    memmove(w->days + w->n_days, f->days, f->n_days * sizeof *w->days);
    for (size_t u = f->u0; u < f->u1; u++) {
      w->user_day[u + 1] = w->n_days + f->user_day[u - f->u0 + 1];
      w->ucat_off[u + 1] = at + f->ucat_off[u - f->u0 + 1];
    }
    if (f->n_days > 0 && (w->n_days == 0 || f->day_min < w->day_min)) w->day_min = f->day_min;
    if (f->n_days > 0 && (w->n_days == 0 || f->day_max > w->day_max)) w->day_max = f->day_max;
    if (nc) memcpy(w->ucat_id + at, f->ucat_id, nc * sizeof *w->ucat_id);
    if (nc) memcpy(w->ucat_spend + at, f->ucat_spend, nc * sizeof *w->ucat_spend);
    w->n_days += f->n_days;
    at += nc;
  }
  return FC_OK;
}

/* Folds every user's groups into w's daily aggregates and r's users and
 * type counts: FEATURE_PARTS ranges of users side by side through the
 * caller's parallel-for. Each user is folded alone and the ranges joined
 * in order, so any schedule gives the same arrays. */
#define FEATURE_PARTS 8

static int build_users(sel *s, work *w, fc_segments_result *r, const fc_parallel *par, fc_err *err) {
  size_t nu = s->n_users;
  fold parts[FEATURE_PARTS];
  int rc = FC_OK;
  r->n_users = nu;
  r->users = fc__calloc(nu ? nu : 1, sizeof *r->users);
  r->type_share = fc__calloc(nu * r->n_types + 1, sizeof *r->type_share);
  w->days = fc__mallocarray(s->n ? s->n : 1, sizeof *w->days);
  w->user_day = fc__calloc(nu + 1, sizeof *w->user_day);
  w->ucat_off = fc__calloc(nu + 1, sizeof *w->ucat_off);
  if (!r->users || !r->type_share || !w->days || !w->user_day || !w->ucat_off)
    return fc__err(err, FC_ENOMEM, "out of memory");
  memset(parts, 0, sizeof parts);
  for (size_t p = 0; p < FEATURE_PARTS; p++) {
    parts[p].s = s;
    parts[p].r = r;
    parts[p].u0 = nu * p / FEATURE_PARTS;
    parts[p].u1 = nu * (p + 1) / FEATURE_PARTS;
    parts[p].days = w->days + s->user_start[parts[p].u0];
  }
  if (par->run != NULL) par->run(par->ctx, FEATURE_PARTS, fold_part, parts);
  else
    for (size_t p = 0; p < FEATURE_PARTS; p++) fold_part(parts, p);
  for (size_t p = 0; p < FEATURE_PARTS && rc == FC_OK; p++) rc = parts[p].rc;
  if (rc == FC_OK) rc = join_parts(parts, FEATURE_PARTS, w);
  for (size_t p = 0; p < FEATURE_PARTS; p++) fold_free(&parts[p]);
  return rc == FC_OK ? FC_OK : fc__err(err, FC_ENOMEM, "out of memory");
}

/* Relative least-squares slope of spend per window, from the user's first
 * window to the last, clipped to [-1, 1]; 0 with fewer than 2 windows. */
static double spend_trend(const dayagg *d, size_t nd, const window *wd) {
  double s[366], len = (double)(wd->ref - wd->start + 1) / wd->n, sbar = 0, wbar = 0;
  double num = 0, den = 0, slope;
  int first = wd->n, m;
  for (int w = 0; w < wd->n; w++) s[w] = 0; /* not all 366: this runs per user and snapshot */
  for (size_t i = 0; i < nd; i++) {
    int w = (int)floor((double)(d[i].day - wd->start) / len);
    if (w >= wd->n) w = wd->n - 1;
    if (w < 0) w = 0;
    s[w] += d[i].spend;
    if (w < first) first = w;
  }
  m = wd->n - first;
  if (m < 2) return 0;
  for (int w = first; w < wd->n; w++) sbar += s[w], wbar += w;
  sbar /= m;
  wbar /= m;
  if (!(sbar > 0)) return 0;
  for (int w = first; w < wd->n; w++) {
    num += (w - wbar) * (s[w] - sbar);
    den += (w - wbar) * (w - wbar);
  }
  slope = num / den / sbar;
  return slope > 1 ? 1 : (slope < -1 ? -1 : slope);
}

static void interval_stats(const dayagg *d, size_t nd, double tenure, double *mean, double *cv) {
  double s = 0, ss = 0;
  if (nd < 2) {
    *mean = tenure;
    *cv = 0;
    return;
  }
  for (size_t i = 1; i < nd; i++) s += (double)(d[i].day - d[i - 1].day);
  *mean = s / (double)(nd - 1);
  for (size_t i = 1; i < nd; i++) {
    double e = (double)(d[i].day - d[i - 1].day) - *mean;
    ss += e * e;
  }
  *cv = *mean > 0 ? sqrt(ss / (double)(nd - 1)) / *mean : 0;
}

/* Features of one user from its days up to wd->ref (nd > 0 of them), into
 * f and the feature row x. median_buf holds nd doubles (NULL with full 0).
 * With full 0 only
 * what x needs: no calendar shares, no median (snapshots, one per user and
 * window, are clustered, not shown). */
void fc__seg_user_features(const dayagg *d, size_t nd, const window *wd, fc_user_features *f, double *x,
                           double *median_buf, int full) {
  double refund = 0;
  size_t spent_days = 0;
  memset(f->month_share, 0, sizeof f->month_share);
  memset(f->quarter_share, 0, sizeof f->quarter_share);
  f->n_txn = f->n_purchases = 0;
  f->total = 0;
  f->median_daily = 0;
  for (size_t i = 0; i < nd; i++) {
    f->n_txn += d[i].count;
    f->n_purchases += d[i].purchases;
    f->total += d[i].spend;
    refund += d[i].refund;
    if (!full) continue;
    int mo = month_of_day(d[i].day);
    f->month_share[mo - 1] += d[i].spend;
    f->quarter_share[(mo - 1) / 3] += d[i].spend;
    if (d[i].spend > 0) median_buf[spent_days++] = d[i].spend;
  }
  if (full) {
    for (int m = 0; m < 12; m++) f->month_share[m] = f->total > 0 ? f->month_share[m] / f->total : 0;
    for (int q = 0; q < 4; q++) f->quarter_share[q] = f->total > 0 ? f->quarter_share[q] / f->total : 0;
    qsort(median_buf, spent_days, sizeof *median_buf, fc__cmp_double);
    f->median_daily = spent_days == 0
                          ? 0
                          : (spent_days % 2 ? median_buf[spent_days / 2]
                                            : 0.5 * (median_buf[spent_days / 2 - 1] + median_buf[spent_days / 2]));
  }
  f->active_days = nd;
  f->mean_amount = f->n_purchases ? f->total / (double)f->n_purchases : 0;
  f->tenure_days = (double)(wd->ref - d[0].day + 1);
  f->recency_days = (double)(wd->ref - d[nd - 1].day);
  f->freq30 = 30.0 * (double)f->n_txn / (f->tenure_days > 30 ? f->tenure_days : 30);
  f->refund_share = refund + f->total > 0 ? refund / (refund + f->total) : 0;
  interval_stats(d, nd, f->tenure_days, &f->interval_mean, &f->interval_cv);
  f->trend_slope = spend_trend(d, nd, wd);
  f->trend = f->trend_slope < -wd->thr  ? FC_TREND_DECLINING
             : f->trend_slope > wd->thr ? FC_TREND_GROWING
                                        : FC_TREND_STABLE;
  x[FC_SEGF_TOTAL] = f->total;
  x[FC_SEGF_MEAN_AMOUNT] = f->mean_amount;
  x[FC_SEGF_FREQ30] = f->freq30;
  x[FC_SEGF_RECENCY] = f->recency_days;
  x[FC_SEGF_TENURE] = f->tenure_days;
  x[FC_SEGF_INTERVAL_MEAN] = f->interval_mean;
  x[FC_SEGF_INTERVAL_CV] = f->interval_cv;
  x[FC_SEGF_TREND] = f->trend_slope;
  x[FC_SEGF_REFUND_SHARE] = f->refund_share;
}

/* The user's top 3 categories by spend. */
static void user_top_categories(const work *w, size_t u, int top[3]) {
  top[0] = top[1] = top[2] = -1;
  for (int slot = 0; slot < 3; slot++) {
    double best = -1;
    for (size_t c = w->ucat_off[u]; c < w->ucat_off[u + 1]; c++) {
      int taken = 0;
      for (int s = 0; s < slot; s++) taken |= top[s] == w->ucat_id[c];
      if (!taken && w->ucat_spend[c] > best) best = w->ucat_spend[c], top[slot] = w->ucat_id[c];
    }
  }
}

window fc__seg_analysis_window(const work *w, const fc_segments_params *p) {
  window wd;
  wd.start = p->from != INT64_MIN ? fc__seg_day_of(p->from) : w->day_min;
  wd.ref = p->to != INT64_MAX ? fc__seg_day_of(p->to - 1) : w->day_max;
  wd.n = p->n_windows;
  wd.thr = p->trend_threshold;
  return wd;
}

/* Users' features in FEATURE_PARTS ranges of users, each its own task:
 * every user's row is computed alone, so any schedule writes the same. */

typedef struct feature_part {
  const work *w;
  fc_segments_result *r;
  window wd;
  int rc;
} feature_part;

static void features_of_part(void *arg, size_t part) {
  feature_part *fp = (feature_part *)arg + part;
  const work *w = fp->w;
  fc_segments_result *r = fp->r;
  size_t nu = r->n_users, dd = FC_SEGF_COUNT, lo = nu * part / FEATURE_PARTS, hi = nu * (part + 1) / FEATURE_PARTS;
  size_t most = 1;
  for (size_t u = lo; u < hi; u++)
    if (w->user_day[u + 1] - w->user_day[u] > most) most = w->user_day[u + 1] - w->user_day[u];
  double *buf = fc__mallocarray(most, sizeof *buf); /* the median's days */
  if (buf == NULL) {
    fp->rc = FC_ENOMEM;
    return;
  }
  for (size_t u = lo; u < hi; u++) {
    const dayagg *d = w->days + w->user_day[u];
    double *ts = r->type_share + u * r->n_types;
    fc__seg_user_features(d, w->user_day[u + 1] - w->user_day[u], &fp->wd, &r->users[u], r->features + u * dd, buf, 1);
    user_top_categories(w, u, r->users[u].top_categories);
    for (size_t t = 0; t < r->n_types; t++) ts[t] /= (double)r->users[u].n_txn;
  }
  fc__free(buf);
}

static int features_all(work *w, fc_segments_result *r, const fc_segments_params *p, fc_err *err) {
  static const unsigned char log_cols[FC_SEGF_COUNT] = {1, 1, 1, 0, 0, 1, 0, 0, 0};
  feature_part parts[FEATURE_PARTS];
  size_t nu = r->n_users, dd = FC_SEGF_COUNT;
  int rc;
  parts[0].w = w;
  parts[0].r = r;
  parts[0].wd = fc__seg_analysis_window(w, p);
  r->start_day = parts[0].wd.start;
  r->ref_day = parts[0].wd.ref;
  r->features = fc__mallocarray(nu * dd, sizeof *r->features);
  r->scaled = fc__mallocarray(nu * dd, sizeof *r->scaled);
  if (!r->features || !r->scaled) return fc__err(err, FC_ENOMEM, "out of memory");
  for (int i = 0; i < FEATURE_PARTS; i++) parts[i] = parts[0], parts[i].rc = FC_OK;
  if (p->parallel.run != NULL) p->parallel.run(p->parallel.ctx, FEATURE_PARTS, features_of_part, parts);
  else
    for (size_t i = 0; i < FEATURE_PARTS; i++) features_of_part(parts, i);
  for (int i = 0; i < FEATURE_PARTS; i++)
    if (parts[i].rc != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  memcpy(r->scaled, r->features, nu * dd * sizeof *r->scaled);
  rc = fc_scaler_fit(&w->scaler, p->scaling, r->features, nu, dd, log_cols, err);
  if (rc == FC_OK) rc = fc_scaler_apply(&w->scaler, r->scaled, nu, err);
  return rc;
}

int fc__seg_features_pipeline(input in, const fc_segments_params *p, work *w, fc_segments_result *r, fc_err *err) {
  sel s;
  int rc;
  memset(r, 0, sizeof *r);
  memset(&s, 0, sizeof s);
  r->silhouette = NAN;
  r->method = p->method;
  if ((rc = check_params(p, err)) != FC_OK) return rc;
  rc = in.parts ? fc__seg_select_days(in.parts, in.counts, in.n_parts, p, &s, err)
                : fc__seg_select_txns(in.tx, in.n, p, &s, err);
  if (rc == FC_OK && s.n == 0)
    rc = fc__err(err, FC_EINVAL, "no transactions%s%s in the date range (of %zu %s given)",
                 p->partner_id ? " for partner " : "", p->partner_id ? p->partner_id : "", in.n,
                 in.parts ? "day rows" : "");
  if (rc == FC_OK && fc__seg_order_groups(&s, r, p->parallel) != FC_OK) rc = fc__err(err, FC_ENOMEM, "out of memory");
  if (rc == FC_OK) rc = build_users(&s, w, r, &p->parallel, err);
  fc__seg_sel_free(&s);
  return rc == FC_OK ? features_all(w, r, p, err) : rc;
}

int fc_segments_features(const fc_transaction *txns, size_t n, fc_segments_params p, fc_segments_result *out,
                         fc_err *err) {
  work w;
  int rc;
  memset(&w, 0, sizeof w);
  rc = fc__seg_features_pipeline((input){txns, NULL, NULL, 0, n}, &p, &w, out, err);
  fc__seg_work_free(&w);
  return rc;
}
