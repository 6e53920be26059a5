/* segments_json.c: the segmentation answer (fc_segments_write_json). */
#include "fc/segments.h"

#include <stdio.h>

static void json_names(fc_jw *w, const char **names, const int idx[3]) {
  fc_jw_array(w);
  for (int i = 0; i < 3; i++)
    if (idx[i] >= 0) fc_jw_str(w, names[idx[i]]);
  fc_jw_end(w);
}

static void json_segment(fc_jw *w, const fc_segments_result *r, const fc_segment *s) {
  fc_jw_object(w);
  fc_jw_key(w, "id"), fc_jw_int(w, s->id);
  fc_jw_key(w, "label"), fc_jw_str(w, s->label);
  fc_jw_key(w, "size"), fc_jw_int(w, (long long)s->size);
  fc_jw_key(w, "metrics"), fc_jw_object(w);
  fc_jw_key(w, "avg_spend"), fc_jw_fixed(w, s->avg_total, 2);
  fc_jw_key(w, "avg_transaction_amount"), fc_jw_fixed(w, s->avg_amount, 2);
  fc_jw_key(w, "frequency_30d"), fc_jw_fixed(w, s->avg_freq30, 4);
  fc_jw_key(w, "recency_days"), fc_jw_fixed(w, s->avg_recency_days, 1);
  fc_jw_key(w, "tenure_days"), fc_jw_fixed(w, s->avg_tenure_days, 1);
  fc_jw_key(w, "refund_share"), fc_jw_fixed(w, s->avg_refund_share, 4);
  fc_jw_key(w, "declining_share"), fc_jw_fixed(w, s->declining_share, 4);
  fc_jw_key(w, "top_types"), json_names(w, r->types, s->top_types);
  fc_jw_end(w);
  fc_jw_key(w, "top_categories"), json_names(w, r->categories, s->top_categories);
  fc_jw_end(w);
}

static void json_user(fc_jw *w, const fc_segments_result *r, size_t u) {
  const fc_user_features *f = &r->users[u];
  fc_jw_object(w);
  fc_jw_key(w, "user_id"), fc_jw_str(w, f->user_id);
  fc_jw_key(w, "partner_id"), fc_jw_str(w, f->partner_id);
  fc_jw_key(w, "segment"), fc_jw_int(w, r->segment[u]);
  fc_jw_key(w, "membership"), fc_jw_object(w);
  for (size_t c = 0; c < r->n_member_cols; c++) {
    double pr = r->membership[u * r->n_member_cols + c];
    char key[24];
    if (pr <= 0) continue;
    snprintf(key, sizeof key, "%d", c < r->n_segments ? (int)c : -1); /* the last column: noise */
    fc_jw_key(w, key), fc_jw_fixed(w, pr, 4);
  }
  fc_jw_end(w);
  fc_jw_key(w, "declining"), fc_jw_bool(w, f->trend == FC_TREND_DECLINING);
  fc_jw_key(w, "trend"), fc_jw_str(w, fc_trend_name(f->trend));
  fc_jw_key(w, "moving"), fc_jw_bool(w, r->moving[u]);
  if (r->moving[u]) fc_jw_key(w, "previous_segment"), fc_jw_int(w, r->previous[u]);
  fc_jw_end(w);
}

void fc_segments_write_json(const fc_segments_result *r, int include_users, fc_buf *b) {
  size_t noise = 0;
  fc_jw w;
  for (size_t u = 0; u < r->n_users; u++) noise += r->segment[u] < 0;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "segments"), fc_jw_array(&w);
  for (size_t s = 0; s < r->n_segments; s++) json_segment(&w, r, &r->segments[s]);
  fc_jw_end(&w);
  if (include_users) {
    fc_jw_key(&w, "users"), fc_jw_array(&w);
    for (size_t u = 0; u < r->n_users; u++) json_user(&w, r, u);
    fc_jw_end(&w);
  }
  fc_jw_key(&w, "method"), fc_jw_str(&w, r->method == FC_SEG_KMEANS ? "kmeans" : "dbscan");
  fc_jw_key(&w, "k"), fc_jw_int(&w, r->k);
  fc_jw_key(&w, "silhouette"), fc_jw_num(&w, r->silhouette);
  fc_jw_key(&w, "n_users"), fc_jw_int(&w, (long long)r->n_users);
  fc_jw_key(&w, "noise"), fc_jw_int(&w, (long long)noise);
  if (r->method == FC_SEG_DBSCAN) fc_jw_key(&w, "eps"), fc_jw_num(&w, r->eps);
  if (r->k_scores) {
    fc_jw_key(&w, "k_selection"), fc_jw_array(&w);
    for (int k = r->k_min; k <= r->k_max; k++) {
      fc_jw_object(&w);
      fc_jw_key(&w, "k"), fc_jw_int(&w, k);
      fc_jw_key(&w, "silhouette"), fc_jw_num(&w, r->k_scores[k - r->k_min]);
      fc_jw_end(&w);
    }
    fc_jw_end(&w);
  }
  fc_jw_end(&w);
}
