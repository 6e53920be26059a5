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

/* End day of snapshot j of the window (the last is the reference day). */
static int64_t snapshot_end(const window *wd, int j) {
  double len = (double)(wd->ref - wd->start + 1) / wd->n;
  if (j == wd->n - 1) return wd->ref;
  return wd->start + (int64_t)floor((double)(j + 1) * len) - 1;
}

/* Features of every user as of every snapshot end (users with no activity
 * yet are skipped): rows (scaled), the owning user and the snapshot. */
static int snapshot_rows(const fc_segments_result *r, const work *w, const window *wd, double **rows, size_t **owner,
                         int **snap, size_t *m, fc_err *err) {
  size_t nu = r->n_users, dd = FC_SEGF_COUNT, cap = nu * (size_t)wd->n;
  fc_user_features f;
  *rows = fc__mallocarray(cap * dd, sizeof **rows);
  *owner = fc__mallocarray(cap, sizeof **owner);
  *snap = fc__mallocarray(cap, sizeof **snap);
  *m = 0;
  if (!*rows || !*owner || !*snap) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t u = 0; u < nu; u++) {
    const dayagg *d = w->days + w->user_day[u];
    size_t nd = w->user_day[u + 1] - w->user_day[u];
    for (int j = 0; j < wd->n; j++) {
      window at = *wd;
      size_t upto = 0;
      at.ref = snapshot_end(wd, j);
      while (upto < nd && d[upto].day <= at.ref) upto++;
      if (upto == 0) continue;
      fc__seg_user_features(d, upto, &at, &f, *rows + *m * dd, NULL, 0);
      (*owner)[*m] = u;
      (*snap)[(*m)++] = j;
    }
  }
  return fc_scaler_apply(&w->scaler, *rows, *m, err);
}

int fc__seg_membership(fc_segments_result *r, const work *w, const fit *f, const fc_segments_params *p, fc_err *err) {
  window wd = fc__seg_analysis_window(w, p);
  size_t m = 0, *owner = NULL, cols;
  int *snap = NULL, *lab = NULL, rc;
  double *rows = NULL, *wsum = NULL;
  r->n_member_cols = cols = r->n_segments + (p->method == FC_SEG_DBSCAN);
  r->membership = fc__calloc(r->n_users * cols, sizeof *r->membership);
  r->previous = fc__mallocarray(r->n_users, sizeof *r->previous);
  r->moving = fc__calloc(r->n_users, 1);
  wsum = fc__calloc(r->n_users, sizeof *wsum);
  if (!r->membership || !r->previous || !r->moving || !wsum) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = snapshot_rows(r, w, &wd, &rows, &owner, &snap, &m, err)) != FC_OK) goto done;
  if ((lab = fc__mallocarray(m, sizeof *lab)) == NULL) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  if (p->method == FC_SEG_KMEANS) fc_kmeans_assign(f->km.centers, f->km.k, FC_SEGF_COUNT, rows, m, lab, NULL);
  else if ((rc = fc_dbscan_predict(r->scaled, r->n_users, FC_SEGF_COUNT, &f->db, rows, m, lab, err)) != FC_OK)
    goto done;
  for (size_t u = 0; u < r->n_users; u++) r->previous[u] = -2;
  for (size_t a = 0; a < m; a++) { /* rows of a user come in snapshot order */
    size_t u = owner[a], col = lab[a] < 0 ? r->n_segments : (size_t)lab[a];
    double age = (double)(wd.ref - snapshot_end(&wd, snap[a]));
    double wt = pow(0.5, age / p->half_life_days);
    r->membership[u * cols + col] += wt;
    wsum[u] += wt;
    if (snap[a] < wd.n - 1) r->previous[u] = lab[a];
  }
  for (size_t u = 0; u < r->n_users; u++) {
    for (size_t c = 0; c < cols; c++) r->membership[u * cols + c] /= wsum[u];
    r->moving[u] = r->previous[u] != -2 && r->previous[u] != r->segment[u];
  }
done:
  fc__free(rows);
  fc__free(owner);
  fc__free(snap);
  fc__free(lab);
  fc__free(wsum);
  return rc;
}
