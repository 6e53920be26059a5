/* segments_labels.c: segment metrics and human labels from how a segment's
 * averages compare with all users', and membership: snapshots of each
 * user's features at the end of every window, scaled with the scaler
 * fitted on the final features and assigned to the fitted clusters. */
#include "segments_labels.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- segment metrics and labels ---- */

static void top3(const double *v, size_t m, int top[3]) {
  top[0] = top[1] = top[2] = -1;
  for (int slot = 0; slot < 3; slot++) {
    double best = 0;
    for (size_t c = 0; c < m; c++) {
      int taken = 0;
      for (int s = 0; s < slot; s++) taken |= top[s] == (int)c;
      if (!taken && v[c] > best) best = v[c], top[slot] = (int)c;
    }
  }
}

/* Means over users with weight 1 (population: every user, seg == -9). */
static void segment_means(const fc_segments_result *r, int seg, fc_segment *s) {
  size_t m = 0, declining = 0;
  memset(s, 0, sizeof *s);
  for (size_t u = 0; u < r->n_users; u++) {
    const fc_user_features *f = &r->users[u];
    if (seg != -9 && r->segment[u] != seg) continue;
    m++;
    s->avg_total += f->total;
    s->avg_amount += f->mean_amount;
    s->avg_freq30 += f->freq30;
    s->avg_recency_days += f->recency_days;
    s->avg_tenure_days += f->tenure_days;
    s->avg_refund_share += f->refund_share;
    declining += f->trend == FC_TREND_DECLINING;
  }
  s->size = m;
  if (m == 0) return;
  s->avg_total /= (double)m;
  s->avg_amount /= (double)m;
  s->avg_freq30 /= (double)m;
  s->avg_recency_days /= (double)m;
  s->avg_tenure_days /= (double)m;
  s->avg_refund_share /= (double)m;
  s->declining_share = (double)declining / (double)m;
}

/* A label from how the segment's averages compare with all users': the
 * first rule that holds wins. */
static const char *label_for(const fc_segment *s, const fc_segment *all, double window_days) {
  if (s->avg_total >= 2.0 * all->avg_total && s->avg_recency_days <= 1.25 * all->avg_recency_days)
    return "High Spenders";
  if (s->avg_tenure_days <= 0.25 * window_days && s->avg_tenure_days <= 0.5 * all->avg_tenure_days) return "New";
  if (s->declining_share >= 0.5 || s->avg_recency_days >= 1.5 * all->avg_recency_days) return "Declining / At risk";
  if (s->avg_freq30 >= 1.5 * all->avg_freq30 && s->avg_recency_days <= all->avg_recency_days) return "Loyal Regulars";
  if (s->avg_amount <= 0.7 * all->avg_amount) return "Budget-Conscious";
  if (s->avg_total >= 1.5 * all->avg_total) return "Valuable Customers";
  return "Occasional Buyers";
}

/* Accumulates category spend and type counts of each segment. */
static int segment_tops(fc_segments_result *r, const work *w) {
  size_t k = r->n_segments;
  double *cat = fc__calloc(k * r->n_categories, sizeof *cat);
  double *typ = fc__calloc(k * r->n_types, sizeof *typ);
  if (!cat || !typ) {
    fc__free(cat);
    fc__free(typ);
    return FC_ENOMEM;
  }
  for (size_t u = 0; u < r->n_users; u++) {
    int s = r->segment[u];
    if (s < 0) continue;
    for (size_t c = w->ucat_off[u]; c < w->ucat_off[u + 1]; c++)
      cat[(size_t)s * r->n_categories + (size_t)w->ucat_id[c]] += w->ucat_spend[c];
    for (size_t t = 0; t < r->n_types; t++)
      typ[(size_t)s * r->n_types + t] += r->type_share[u * r->n_types + t] * (double)r->users[u].n_txn;
  }
  for (size_t s = 0; s < k; s++) {
    top3(cat + s * r->n_categories, r->n_categories, r->segments[s].top_categories);
    top3(typ + s * r->n_types, r->n_types, r->segments[s].top_types);
  }
  fc__free(cat);
  fc__free(typ);
  return FC_OK;
}

/* A spend level for telling apart segments that share a label. */
static const char *spend_level(const fc_segment *s, const fc_segment *all) {
  double ratio = all->avg_total > 0 ? s->avg_total / all->avg_total : 1;
  return ratio < 0.5 ? "low spend"
         : ratio < 1 ? "below-average spend"
         : ratio < 2 ? "above-average spend"
                     : "high spend";
}

/* Labels every segment; segments sharing a rule's label are told apart by
 * spend level, then by number, so labels are unique. */
static void label_segments(fc_segments_result *r, const fc_segment *all) {
  double window_days = (double)(r->ref_day - r->start_day + 1);
  for (size_t s = 0; s < r->n_segments; s++) {
    const char *base = label_for(&r->segments[s], all, window_days);
    size_t same = 0;
    for (size_t t = 0; t < r->n_segments; t++) same += strcmp(label_for(&r->segments[t], all, window_days), base) == 0;
    if (same > 1)
      snprintf(r->segments[s].label, sizeof r->segments[s].label, "%s (%s)", base, spend_level(&r->segments[s], all));
    else snprintf(r->segments[s].label, sizeof r->segments[s].label, "%s", base);
  }
  for (size_t s = 0; s < r->n_segments; s++) {
    int dup = 1;
    char keep[64];
    for (size_t t = 0; t < s; t++) dup += strcmp(r->segments[t].label, r->segments[s].label) == 0;
    if (dup == 1) continue;
    memcpy(keep, r->segments[s].label, sizeof keep);
    snprintf(r->segments[s].label, sizeof r->segments[s].label, "%.50s %d", keep, dup);
  }
}

int fc__seg_describe(fc_segments_result *r, const work *w) {
  fc_segment all;
  r->n_segments = (size_t)r->k;
  r->segments = fc__calloc(r->n_segments, sizeof *r->segments);
  if (r->segments == NULL) return FC_ENOMEM;
  segment_means(r, -9, &all);
  for (size_t s = 0; s < r->n_segments; s++) {
    segment_means(r, (int)s, &r->segments[s]);
    r->segments[s].id = (int)s;
  }
  label_segments(r, &all);
  return segment_tops(r, w);
}

/* ---- membership ---- */

/* k-means' snapshot rows per batch of a part: far more than one user's
 * (at most 366 windows), small enough to stay in cache. */
#define MEMBER_BATCH 2048

/* End day of snapshot j of the window (the last is the reference day). */
static int64_t snapshot_end(const window *wd, int j) {
  double len = (double)(wd->ref - wd->start + 1) / wd->n;
  if (j == wd->n - 1) return wd->ref;
  return wd->start + (int64_t)floor((double)(j + 1) * len) - 1;
}

/* Where each user's snapshot rows begin (a user has one as of every
 * snapshot end on or after its first day), the rows' age weights (one per
 * snapshot), and the result's arrays. */
int fc__seg_membership_begin(fc_segments_result *r, const work *w, const fc_segments_params *p, member_work *mw,
                             fc_err *err) {
  size_t nu = r->n_users;
  memset(mw, 0, sizeof *mw);
  mw->wd = fc__seg_analysis_window(w, p);
  r->n_member_cols = mw->cols = (size_t)r->k + (p->method == FC_SEG_DBSCAN);
  r->membership = fc__calloc(nu * mw->cols, sizeof *r->membership);
  r->previous = fc__mallocarray(nu, sizeof *r->previous);
  r->moving = fc__calloc(nu, 1);
  mw->first = fc__mallocarray(nu + 1, sizeof *mw->first);
  mw->weight = fc__mallocarray((size_t)mw->wd.n, sizeof *mw->weight);
  mw->end = fc__mallocarray((size_t)mw->wd.n, sizeof *mw->end);
  if (!r->membership || !r->previous || !r->moving || !mw->first || !mw->weight || !mw->end)
    return fc__err(err, FC_ENOMEM, "out of memory");
  for (int j = 0; j < mw->wd.n; j++) {
    mw->end[j] = snapshot_end(&mw->wd, j);
    mw->weight[j] = pow(0.5, (double)(mw->wd.ref - mw->end[j]) / p->half_life_days);
  }
  mw->first[0] = 0;
  for (size_t u = 0; u < nu; u++) {
    int64_t day0 = w->days[w->user_day[u]].day;
    size_t rows = 0;
    for (int j = 0; j < mw->wd.n; j++) rows += day0 <= mw->end[j];
    mw->first[u + 1] = mw->first[u] + rows;
  }
  mw->m = mw->first[nu];
  if (p->method == FC_SEG_DBSCAN && (mw->rows = fc__mallocarray(mw->m * FC_SEGF_COUNT + 1, sizeof *mw->rows)) == NULL)
    return fc__err(err, FC_ENOMEM, "out of memory");
  mw->snap = fc__mallocarray(mw->m + 1, sizeof *mw->snap);
  mw->lab = fc__mallocarray(mw->m + 1, sizeof *mw->lab);
  if (!mw->snap || !mw->lab) return fc__err(err, FC_ENOMEM, "out of memory");
  return FC_OK;
}

/* Scales the rows [a0, a) (their features in x) and, for k-means, assigns
 * them to the fitted centres. */
static int scale_and_assign(const work *w, const fit *f, const fc_segments_params *p, member_work *mw, double *x,
                            size_t a0, size_t a, fc_err *err) {
  int rc = fc_scaler_apply(&w->scaler, x, a - a0, err);
  if (rc == FC_OK && p->method == FC_SEG_KMEANS)
    fc_kmeans_assign(f->km.centers, f->km.k, FC_SEGF_COUNT, x, a - a0, mw->lab + a0, NULL);
  return rc;
}

/* Features of the users of part `part` (of FC__SEG_MEMBER_PARTS) as of
 * every snapshot end, scaled and, for k-means, assigned to the fitted
 * centres: every row is computed alone, so any schedule writes the same.
 * k-means needs only the labels: the rows pass through a small buffer in
 * batches (no array of every user's snapshots to fault in); DBSCAN's
 * prediction takes them all at the end (mw->rows). */
void fc__seg_membership_part(const fc_segments_result *r, const work *w, const fit *f, const fc_segments_params *p,
                             member_work *mw, size_t part) {
  size_t nu = r->n_users, dd = FC_SEGF_COUNT, lo = nu * part / FC__SEG_MEMBER_PARTS;
  size_t hi = nu * (part + 1) / FC__SEG_MEMBER_PARTS, a0 = mw->first[lo], a = a0;
  size_t cap = mw->rows ? SIZE_MAX : MEMBER_BATCH; /* x holds rows [a0, a) */
  double *x = mw->rows ? mw->rows + a0 * dd : fc__mallocarray(cap * dd, sizeof *x);
  fc_user_features uf;
  int rc = x ? FC_OK : fc__err(&mw->err[part], FC_ENOMEM, "out of memory");
  for (size_t u = lo; u < hi && rc == FC_OK; u++) {
    const dayagg *d = w->days + w->user_day[u];
    size_t nd = w->user_day[u + 1] - w->user_day[u];
    if (a - a0 + (size_t)mw->wd.n > cap) { /* the batch is full: its labels */
      rc = scale_and_assign(w, f, p, mw, x, a0, a, &mw->err[part]);
      a0 = a;
    }
    for (int j = 0; j < mw->wd.n; j++) {
      window at = mw->wd;
      size_t upto = 0;
      at.ref = mw->end[j];
      while (upto < nd && d[upto].day <= at.ref) upto++;
      if (upto == 0) continue;
      fc__seg_user_features(d, upto, &at, &uf, x + (a - a0) * dd, NULL, 0);
      mw->snap[a++] = j;
    }
  }
  if (rc == FC_OK) rc = scale_and_assign(w, f, p, mw, x, a0, a, &mw->err[part]);
  if (!mw->rows) fc__free(x);
  mw->rc[part] = rc;
}

/* r->membership, r->previous and r->moving from the parts' rows: each
 * user's labels weighted by age, in snapshot order. */
int fc__seg_membership_end(fc_segments_result *r, const fit *f, const fc_segments_params *p, member_work *mw,
                           fc_err *err) {
  size_t cols = mw->cols, segs = (size_t)r->k;
  double wsum;
  int rc;
  for (size_t part = 0; part < FC__SEG_MEMBER_PARTS; part++)
    if (mw->rc[part] != FC_OK) return fc__err(err, mw->rc[part], "%s", mw->err[part].msg);
  if (p->method == FC_SEG_DBSCAN &&
      (rc = fc_dbscan_predict(r->scaled, r->n_users, FC_SEGF_COUNT, &f->db, mw->rows, mw->m, mw->lab, err)) != FC_OK)
    return rc;
  for (size_t u = 0; u < r->n_users; u++) {
    r->previous[u] = -2;
    wsum = 0;
    for (size_t a = mw->first[u]; a < mw->first[u + 1]; a++) { /* in snapshot order */
      size_t col = mw->lab[a] < 0 ? segs : (size_t)mw->lab[a];
      double wt = mw->weight[mw->snap[a]];
      r->membership[u * cols + col] += wt;
      wsum += wt;
      if (mw->snap[a] < mw->wd.n - 1) r->previous[u] = mw->lab[a];
    }
    for (size_t c = 0; c < cols; c++) r->membership[u * cols + c] /= wsum;
    r->moving[u] = r->previous[u] != -2 && r->previous[u] != r->segment[u];
  }
  return FC_OK;
}

void fc__seg_membership_free(member_work *mw) {
  fc__free(mw->first);
  fc__free(mw->weight);
  fc__free(mw->end);
  fc__free(mw->rows);
  fc__free(mw->snap);
  fc__free(mw->lab);
  memset(mw, 0, sizeof *mw);
}
