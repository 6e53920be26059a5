/* segments.c: features per (partner, user), clustering into segments,
 * human labels, recency-weighted membership and the JSON answer.
 *
 * Transactions (or day rows a store kept, fc_seg_day) are summed exactly
 * per (partner, user, day, type, category) in minor units, with strings
 * ranked once so the sort compares integers, then folded into daily
 * aggregates; every feature is computed from those, so a long history costs
 * one pass, and the same sums give the same answer from either input. Membership snapshots recompute a user's features as of the end
 * of each window from the same aggregates, scale them with the scaler
 * fitted on the final features and assign them to the fitted clusters.
 */
#include "fc/segments.h"
#include "fc/dbscan.h"
#include "fc/kmeans.h"
#include "fc/rng.h"
#include "internal.h"
#include "pool.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400

fc_segments_params fc_segments_defaults(void) {
  fc_segments_params p;
  memset(&p, 0, sizeof p);
  p.partner_id = NULL;
  p.from = INT64_MIN;
  p.to = INT64_MAX;
  p.method = FC_SEG_KMEANS;
  p.k = 0;
  p.k_min = 2;
  p.k_max = 8;
  p.n_init = 10;
  p.seed = 0;
  p.silhouette_sample = 5000;
  p.select_sample = 3000;
  p.eps = 0;
  p.min_pts = 5;
  p.scaling = FC_SCALE_ZSCORE;
  p.n_windows = 4;
  p.half_life_days = 90;
  p.trend_threshold = 0.15;
  return p;
}

const char *fc_trend_name(fc_trend t) {
  switch (t) {
  case FC_TREND_GROWING: return "growing";
  case FC_TREND_DECLINING: return "declining";
  default: return "stable";
  }
}

static const char *const feature_names[FC_SEGF_COUNT] = {"total_spend",  "mean_amount", "frequency_30d",
                                                         "recency_days", "tenure_days", "interval_mean_days",
                                                         "interval_cv",  "trend",       "refund_share"};

const char *fc_segments_feature_name(int col) { return col >= 0 && col < FC_SEGF_COUNT ? feature_names[col] : ""; }

/* ---- days and calendar ---- */

static int64_t day_of(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

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

/* ---- day groups ---- */

/* A selected row (a transaction, or a fc_seg_day) with its strings as
 * ranks in strcmp order, so that sorting compares integers; after the sort,
 * rows of one key are merged into one group. */
typedef struct grp {
  uint32_t partner, user, type;
  int32_t cat; /* -1: none */
  int64_t day;
  int scale;
  size_t i; /* selection index of its (first) row: its strings */
  int64_t count, purchases, spend, refund;
} grp;

#define CMP_FIELD(f) \
  if (x->f != y->f) return x->f < y->f ? -1 : 1

static int cmp_key(const grp *x, const grp *y) {
  CMP_FIELD(partner);
  CMP_FIELD(user);
  CMP_FIELD(day);
  CMP_FIELD(type);
  CMP_FIELD(cat);
  CMP_FIELD(scale);
  return 0;
}

static int cmp_grp(const void *a, const void *b) {
  const grp *x = a, *y = b;
  int c = cmp_key(x, y);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int same_user(const grp *a, const grp *b) { return a->partner == b->partner && a->user == b->user; }

/* The selection: groups and, by selection index, their strings. */
typedef struct sel {
  grp *g;
  size_t n;
  size_t *perm;   /* n: the groups in cmp_grp order (order_groups) */
  size_t n_users; /* distinct (partner, user) */
  const char **partner, **user, **type, **cat;
  const char *currency; /* of the first selected row */
} sel;

static void sel_free(sel *s) {
  fc__free(s->g);
  fc__free(s->perm);
  fc__free((void *)s->partner);
  fc__free((void *)s->user);
  fc__free((void *)s->type);
  fc__free((void *)s->cat);
  memset(s, 0, sizeof *s);
}

static int sel_alloc(sel *s, size_t n) {
  size_t m = n ? n : 1;
  memset(s, 0, sizeof *s);
  s->g = fc__mallocarray(m, sizeof *s->g);
  s->partner = fc__mallocarray(m, sizeof *s->partner);
  s->user = fc__mallocarray(m, sizeof *s->user);
  s->type = fc__mallocarray(m, sizeof *s->type);
  s->cat = fc__mallocarray(m, sizeof *s->cat);
  return s->g && s->partner && s->user && s->type && s->cat ? FC_OK : FC_ENOMEM;
}

static void sel_add(sel *s, const char *partner, const char *user, const char *type, const char *cat, int64_t day,
                    int scale, int64_t count, int64_t purchases, int64_t spend, int64_t refund) {
  grp *g = &s->g[s->n];
  memset(g, 0, sizeof *g);
  g->day = day;
  g->scale = scale;
  g->i = s->n;
  g->count = count;
  g->purchases = purchases;
  g->spend = spend;
  g->refund = refund;
  s->partner[s->n] = partner;
  s->user[s->n] = user;
  s->type[s->n] = type && type[0] ? type : "purchase";
  s->cat[s->n++] = cat && cat[0] ? cat : NULL;
}

/* The currency check both inputs share. */
static int same_currency(sel *s, const char *ccy, const char *what, size_t i, const char *id, fc_err *err) {
  if (s->n == 0) {
    s->currency = ccy;
    return FC_OK;
  }
  if (ccy == s->currency || strcmp(ccy, s->currency) == 0) return FC_OK; /* stores share one copy */
  return fc__err(err, FC_EINVAL,
                 "%s %zu (%s): currency %s differs from %s; segment one currency at a time "
                 "(filter by partner)",
                 what, i, id, ccy, s->currency);
}

static int is_refund(const fc_transaction *t) {
  return t->amount < 0 || (t->transaction_type && strcmp(t->transaction_type, "refund") == 0);
}

/* Selects the transactions that pass the filters, one group each. */
static int select_txns(const fc_transaction *tx, size_t n, const fc_segments_params *p, sel *s, fc_err *err) {
  if (n > 0 && tx == NULL) return fc__err(err, FC_EINVAL, "transactions: NULL array");
  if (sel_alloc(s, n) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const fc_transaction *t = &tx[i];
    const char *id = t->id ? t->id : "no id";
    int refund = is_refund(t), bought = !refund && t->amount > 0;
    if (!t->partner_id || !t->partner_id[0] || !t->user_id || !t->user_id[0])
      return fc__err(err, FC_EINVAL, "transaction %zu (%s): missing partner_id or user_id", i, id);
    if (t->scale < 0 || t->scale > 9)
      return fc__err(err, FC_EINVAL, "transaction %zu (%s): scale %d outside [0, 9]", i, id, t->scale);
    if (p->partner_id && strcmp(p->partner_id, t->partner_id) != 0) continue;
    if (t->action_date < p->from || t->action_date >= p->to) continue;
    if (same_currency(s, t->currency, "transaction", i, id, err) != FC_OK) return err->code;
    sel_add(s, t->partner_id, t->user_id, t->transaction_type, t->category, day_of(t->action_date), t->scale, 1, bought,
            bought ? t->amount : 0, refund ? (t->amount < 0 ? -t->amount : t->amount) : 0);
  }
  return FC_OK;
}

/* Selects the day rows that pass the filters (from/to on midnights). */
static int select_days(const fc_seg_day *d, size_t n, const fc_segments_params *p, sel *s, fc_err *err) {
  int64_t lo = p->from == INT64_MIN ? INT64_MIN : day_of(p->from);
  int64_t hi = p->to == INT64_MAX ? INT64_MAX : day_of(p->to);
  if (n > 0 && d == NULL) return fc__err(err, FC_EINVAL, "day rows: NULL array");
  if ((p->from != INT64_MIN && p->from % DAY != 0) || (p->to != INT64_MAX && p->to % DAY != 0))
    return fc__err(err, FC_EINVAL, "day rows: from and to must fall on midnights (UTC)");
  if (sel_alloc(s, n) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const fc_seg_day *r = &d[i];
    if (!r->partner_id || !r->partner_id[0] || !r->user_id || !r->user_id[0])
      return fc__err(err, FC_EINVAL, "day row %zu: missing partner_id or user_id", i);
    if (r->scale < 0 || r->scale > 9 || r->count < 1 || r->purchases < 0 || r->purchases > r->count || r->spend < 0 ||
        r->refund < 0)
      return fc__err(err, FC_EINVAL, "day row %zu (%s): scale, count or sums out of range", i, r->user_id);
    if (p->partner_id && strcmp(p->partner_id, r->partner_id) != 0) continue;
    if (r->day < lo || r->day >= hi) continue;
    if (same_currency(s, r->currency ? r->currency : "", "day row", i, r->user_id, err) != FC_OK) return err->code;
    sel_add(s, r->partner_id, r->user_id, r->transaction_type, r->category, r->day, r->scale, r->count, r->purchases,
            r->spend, r->refund);
  }
  return FC_OK;
}

/* ---- ranking strings ---- */

typedef struct named {
  const char *s;
  size_t id;
} named;

static int cmp_named(const void *a, const void *b) { return strcmp(((const named *)a)->s, ((const named *)b)->s); }

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* A direct-mapped memo of pointers already ranked: a store hands out each
 * distinct string once (the gateway's rollup reads), so most rows are
 * ranked by their pointer without hashing the string; rows whose strings
 * are all separate copies only miss it. */
#define PTR_MEMO 65536
typedef struct ptr_memo {
  const char *p;
  int32_t id;
} ptr_memo;

/* rank[i] = the place of s[i] among the distinct strings of s[0..n-1] in
 * strcmp order (-1 for NULL); with names, *names (allocated) are those
 * strings in that order; *count their number. */
static int rank_strings(const char **s, size_t n, int32_t *rank, const char ***names, size_t *count) {
  fc__map m;
  named *dist = fc__mallocarray(n ? n : 1, sizeof *dist);
  ptr_memo *memo = fc__calloc(PTR_MEMO, sizeof *memo);
  size_t *place = NULL, nd = 0;
  int rc = dist && memo ? FC_OK : FC_ENOMEM;
  fc__map_init(&m);
  for (size_t i = 0; i < n && rc == FC_OK; i++) {
    size_t v;
    ptr_memo *pm;
    if (!s[i]) {
      rank[i] = -1;
      continue;
    }
    if (i > 0 && s[i - 1] == s[i]) { /* the same pointer: the same string */
      rank[i] = rank[i - 1];
      continue;
    }
    pm = &memo[(size_t)(mix64((uint64_t)(uintptr_t)s[i]) & (PTR_MEMO - 1))];
    if (pm->p == s[i]) {
      rank[i] = pm->id;
      continue;
    }
    if ((v = fc__map_get(&m, s[i])) == SIZE_MAX) {
      dist[nd].s = s[i];
      dist[nd].id = v = nd;
      nd++;
      rc = fc__map_put(&m, s[i], v);
    }
    rank[i] = (int32_t)v;
    pm->p = s[i];
    pm->id = (int32_t)v;
  }
  fc__map_free(&m);
  fc__free(memo);
  if (rc == FC_OK && (place = fc__mallocarray(nd ? nd : 1, sizeof *place)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK && names && (*names = fc__mallocarray(nd ? nd : 1, sizeof **names)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK) {
    qsort(dist, nd, sizeof *dist, cmp_named);
    for (size_t a = 0; a < nd; a++) {
      place[dist[a].id] = a;
      if (names) (*names)[a] = dist[a].s;
    }
    for (size_t i = 0; i < n; i++)
      if (rank[i] >= 0) rank[i] = (int32_t)place[rank[i]];
    *count = nd;
  }
  fc__free(dist);
  fc__free(place);
  return rc;
}

/* ---- sorting by user ---- */

typedef struct pairkey {
  uint64_t key; /* partner rank << 32 | user rank */
  size_t id;
} pairkey;

static int cmp_pairkey(const void *a, const void *b) {
  uint64_t x = ((const pairkey *)a)->key, y = ((const pairkey *)b)->key;
  return (x > y) - (x < y);
}

static uint64_t pair_of(const grp *g) { return (uint64_t)g->partner << 32 | g->user; }

/* rank_users for few partners x users: (partner, user) indexes an array
 * directly, whose order is the pairs' order. np * nus <= 4 * n + 65536. */
static int rank_users_direct(const grp *g, size_t n, size_t nus, size_t cells, size_t *rank, size_t *count) {
  size_t *place = fc__mallocarray(cells ? cells : 1, sizeof *place), nd = 0;
  if (place == NULL) return FC_ENOMEM;
  for (size_t c = 0; c < cells; c++) place[c] = 0;
  for (size_t i = 0; i < n; i++) place[(size_t)g[i].partner * nus + g[i].user] = 1;
  for (size_t c = 0; c < cells; c++) place[c] = place[c] ? nd++ : SIZE_MAX;
  for (size_t i = 0; i < n; i++) rank[i] = place[(size_t)g[i].partner * nus + g[i].user];
  *count = nd;
  fc__free(place);
  return FC_OK;
}

/* rank[i] = the place of row i's (partner, user) among the distinct pairs
 * in (partner, user) order; *count their number. np and nus: how many
 * distinct partners and users there are (the ranks' bounds). */
static int rank_users(const grp *g, size_t n, size_t np, size_t nus, size_t *rank, size_t *count) {
  size_t cap = 64, nd = 0;
  if (nus && np <= (4 * n + 65536) / nus) return rank_users_direct(g, n, nus, np * nus, rank, count);
  while (cap < 2 * n) cap *= 2;
  uint64_t *slot_key = fc__mallocarray(cap, sizeof *slot_key);
  size_t *slot_id = fc__mallocarray(cap, sizeof *slot_id), *place = NULL;
  pairkey *dist = fc__mallocarray(n ? n : 1, sizeof *dist);
  int rc = slot_key && slot_id && dist ? FC_OK : FC_ENOMEM;
  for (size_t j = 0; rc == FC_OK && j < cap; j++) slot_id[j] = SIZE_MAX;
  for (size_t i = 0; rc == FC_OK && i < n; i++) {
    uint64_t k = pair_of(&g[i]);
    size_t j = (size_t)mix64(k) & (cap - 1);
    while (slot_id[j] != SIZE_MAX && slot_key[j] != k) j = (j + 1) & (cap - 1);
    if (slot_id[j] == SIZE_MAX) {
      slot_key[j] = k;
      slot_id[j] = nd;
      dist[nd].key = k;
      dist[nd].id = nd;
      nd++;
    }
    rank[i] = slot_id[j];
  }
  if (rc == FC_OK && (place = fc__mallocarray(nd ? nd : 1, sizeof *place)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK) {
    qsort(dist, nd, sizeof *dist, cmp_pairkey);
    for (size_t a = 0; a < nd; a++) place[dist[a].id] = a;
    for (size_t i = 0; i < n; i++) rank[i] = place[rank[i]];
    *count = nd;
  }
  fc__free(slot_key);
  fc__free(slot_id);
  fc__free(dist);
  fc__free(place);
  return rc;
}

/* Sorts one user's rows g[perm[a..b)] by cmp_grp through a copy (C has no
 * qsort with a context); perm gets their selection indices back. */
static int sort_user_rows(const grp *g, size_t *perm, size_t a, size_t b) {
  grp *tmp = fc__mallocarray(b - a, sizeof *tmp);
  if (tmp == NULL) return FC_ENOMEM;
  for (size_t k = a; k < b; k++) tmp[k - a] = g[perm[k]];
  qsort(tmp, b - a, sizeof *tmp, cmp_grp);
  for (size_t k = a; k < b; k++) perm[k] = tmp[k - a].i;
  fc__free(tmp);
  return FC_OK;
}

/* s->perm: the groups' order by cmp_grp, from a stable counting sort by
 * user, then each user's rows sorted where they are not in order already
 * (rows come in time order from a store or a partner's export). The rows
 * themselves stay put: moving a million 64-byte rows (and the pages of a
 * second copy) cost more than everything else before clustering. */
static int sort_groups(sel *s, size_t np, size_t nus) {
  size_t n = s->n, nu = 0;
  size_t *rank = fc__mallocarray(n ? n : 1, sizeof *rank), *start = NULL;
  int rc;
  s->perm = fc__mallocarray(n ? n : 1, sizeof *s->perm);
  rc = rank && s->perm ? rank_users(s->g, n, np, nus, rank, &nu) : FC_ENOMEM;
  if (rc == FC_OK && (start = fc__calloc(nu + 1, sizeof *start)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK) {
    for (size_t i = 0; i < n; i++) start[rank[i] + 1]++;
    for (size_t u = 0; u < nu; u++) start[u + 1] += start[u];
    for (size_t i = 0; i < n; i++) s->perm[start[rank[i]]++] = i;
    for (size_t u = 0, a = 0; u < nu && rc == FC_OK; a = start[u++]) {
      size_t b = start[u], k = a + 1;
      while (k < b && cmp_grp(&s->g[s->perm[k - 1]], &s->g[s->perm[k]]) < 0) k++;
      if (k < b) rc = sort_user_rows(s->g, s->perm, a, b);
    }
    s->n_users = nu;
  }
  fc__free(rank);
  fc__free(start);
  return rc;
}

/* Ranks the selection's strings (types and categories become the result's
 * names) and orders the groups (s->perm); rows of one key are merged as
 * they are folded (build_users). */
static int order_groups(sel *s, fc_segments_result *r) {
  int32_t *rank = fc__mallocarray(s->n ? s->n : 1, sizeof *rank);
  const char **const cols[4] = {s->partner, s->user, s->type, s->cat};
  size_t distinct[4] = {0, 0, 0, 0};
  int rc = rank ? FC_OK : FC_ENOMEM;
  for (int c = 0; c < 4 && rc == FC_OK; c++) {
    rc = rank_strings((const char **)cols[c], s->n, rank,
                      c == 2   ? &r->types
                      : c == 3 ? &r->categories
                               : NULL,
                      &distinct[c]);
    for (size_t i = 0; i < s->n && rc == FC_OK; i++) {
      grp *g = &s->g[i]; /* g->i == i */
      if (c == 0) g->partner = (uint32_t)rank[i];
      else if (c == 1) g->user = (uint32_t)rank[i];
      else if (c == 2) g->type = (uint32_t)rank[i];
      else g->cat = rank[i];
    }
  }
  fc__free(rank);
  if (rc != FC_OK) return rc;
  r->n_types = distinct[2];
  r->n_categories = distinct[3];
  return sort_groups(s, distinct[0], distinct[1]);
}

/* ---- daily aggregates ---- */

typedef struct dayagg {
  int64_t day;
  size_t count, purchases;
  double spend, refund;
} dayagg;

/* Everything the pipeline keeps besides the result. */
typedef struct work {
  dayagg *days;
  size_t n_days;
  size_t *user_day; /* n_users + 1 offsets into days */
  size_t *ucat_off; /* n_users + 1 offsets into ucat_* */
  int *ucat_id;
  double *ucat_spend;
  fc_scaler scaler;
} work;

static void work_free(work *w) {
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

/* Folds one group into the user's days, type counts and category spend. */
static int fold_group(const grp *x, work *w, fc_segments_result *r, size_t u, int first, size_t *cat_cap) {
  double unit = pow10i(x->scale), v = (double)x->spend / unit;
  dayagg *dg;
  if (first || w->days[w->n_days - 1].day != x->day) {
    dg = &w->days[w->n_days++];
    memset(dg, 0, sizeof *dg);
    dg->day = x->day;
  }
  dg = &w->days[w->n_days - 1];
  dg->count += (size_t)x->count;
  dg->purchases += (size_t)x->purchases;
  dg->spend += v;
  dg->refund += (double)x->refund / unit;
  r->type_share[u * r->n_types + x->type] += (double)x->count;
  if (x->cat < 0 || x->spend <= 0) return FC_OK;
  size_t c = w->ucat_off[u];
  while (c < w->ucat_off[u + 1] && w->ucat_id[c] != x->cat) c++;
  if (c == w->ucat_off[u + 1]) {
    size_t before = *cat_cap;
    if (fc__grow((void **)&w->ucat_id, cat_cap, c + 1, sizeof *w->ucat_id) != FC_OK) return FC_ENOMEM;
    if (*cat_cap != before) {
      double *ns = fc__reallocarray(w->ucat_spend, *cat_cap, sizeof *ns);
      if (ns == NULL) return FC_ENOMEM;
      w->ucat_spend = ns;
    }
    w->ucat_id[c] = x->cat;
    w->ucat_spend[c] = 0;
    w->ucat_off[u + 1]++;
  }
  w->ucat_spend[c] += v;
  return FC_OK;
}

/* Folds every user's groups in s->perm order, merging the rows of one key
 * first (their sums are exact integers; summed as doubles one by one they
 * would depend on how a store split them). */
static int build_users(const sel *s, work *w, fc_segments_result *r, fc_err *err) {
  size_t nu = s->n_users, cat_cap = 0, u = 0;
  grp cur;
  r->n_users = nu;
  r->users = fc__calloc(nu ? nu : 1, sizeof *r->users);
  r->type_share = fc__calloc(nu * r->n_types + 1, sizeof *r->type_share);
  w->days = fc__mallocarray(s->n ? s->n : 1, sizeof *w->days);
  w->user_day = fc__calloc(nu + 1, sizeof *w->user_day);
  w->ucat_off = fc__calloc(nu + 1, sizeof *w->ucat_off);
  if (!r->users || !r->type_share || !w->days || !w->user_day || !w->ucat_off)
    return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t q = 0; q <= s->n; q++) {
    const grp *x = q < s->n ? &s->g[s->perm[q]] : NULL;
    int first;
    if (q > 0 && x && cmp_key(&cur, x) == 0) {
      cur.count += x->count;
      cur.purchases += x->purchases;
      cur.spend += x->spend;
      cur.refund += x->refund;
      continue;
    }
    if (q > 0) { /* cur is complete: fold it */
      first = w->n_days == w->user_day[u];
      if (first) {
        r->users[u].partner_id = s->partner[cur.i];
        r->users[u].user_id = s->user[cur.i];
        w->ucat_off[u + 1] = w->ucat_off[u];
      }
      if (fold_group(&cur, w, r, u, first, &cat_cap) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
      w->user_day[u + 1] = w->n_days;
      if (x && !same_user(&cur, x)) u++;
    }
    if (x) cur = *x;
  }
  return FC_OK;
}

/* ---- features ---- */

typedef struct window {
  int64_t start, ref; /* inclusive days */
  int n;              /* windows */
  double thr;
} window;

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
static void user_features(const dayagg *d, size_t nd, const window *wd, fc_user_features *f, double *x,
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

static window analysis_window(const work *w, const fc_segments_params *p) {
  window wd;
  wd.start = p->from != INT64_MIN ? day_of(p->from) : w->days[0].day;
  wd.ref = p->to != INT64_MAX ? day_of(p->to - 1) : w->days[0].day;
  if (p->from == INT64_MIN || p->to == INT64_MAX)
    for (size_t i = 0; i < w->n_days; i++) {
      if (p->from == INT64_MIN && w->days[i].day < wd.start) wd.start = w->days[i].day;
      if (p->to == INT64_MAX && w->days[i].day > wd.ref) wd.ref = w->days[i].day;
    }
  wd.n = p->n_windows;
  wd.thr = p->trend_threshold;
  return wd;
}

static int features_all(work *w, fc_segments_result *r, const fc_segments_params *p, fc_err *err) {
  static const unsigned char log_cols[FC_SEGF_COUNT] = {1, 1, 1, 0, 0, 1, 0, 0, 0};
  window wd = analysis_window(w, p);
  size_t nu = r->n_users, dd = FC_SEGF_COUNT;
  double *buf = fc__mallocarray(w->n_days, sizeof *buf);
  int rc;
  r->start_day = wd.start;
  r->ref_day = wd.ref;
  r->features = fc__mallocarray(nu * dd, sizeof *r->features);
  r->scaled = fc__mallocarray(nu * dd, sizeof *r->scaled);
  if (!buf || !r->features || !r->scaled) {
    fc__free(buf);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  for (size_t u = 0; u < nu; u++) {
    const dayagg *d = w->days + w->user_day[u];
    double *ts = r->type_share + u * r->n_types;
    user_features(d, w->user_day[u + 1] - w->user_day[u], &wd, &r->users[u], r->features + u * dd, buf, 1);
    user_top_categories(w, u, r->users[u].top_categories);
    for (size_t t = 0; t < r->n_types; t++) ts[t] /= (double)r->users[u].n_txn;
  }
  fc__free(buf);
  memcpy(r->scaled, r->features, nu * dd * sizeof *r->scaled);
  rc = fc_scaler_fit(&w->scaler, p->scaling, r->features, nu, dd, log_cols, err);
  if (rc == FC_OK) rc = fc_scaler_apply(&w->scaler, r->scaled, nu, err);
  return rc;
}

/* The pipeline's input: transactions or day rows. */
typedef struct input {
  const fc_transaction *tx;
  const fc_seg_day *days;
  size_t n;
} input;

static int features_pipeline(input in, const fc_segments_params *p, work *w, fc_segments_result *r, fc_err *err) {
  sel s;
  int rc;
  memset(r, 0, sizeof *r);
  memset(&s, 0, sizeof s);
  r->silhouette = NAN;
  r->method = p->method;
  if ((rc = check_params(p, err)) != FC_OK) return rc;
  rc = in.days ? select_days(in.days, in.n, p, &s, err) : select_txns(in.tx, in.n, p, &s, err);
  if (rc == FC_OK && s.n == 0)
    rc = fc__err(err, FC_EINVAL, "no transactions%s%s in the date range (of %zu %s given)",
                 p->partner_id ? " for partner " : "", p->partner_id ? p->partner_id : "", in.n,
                 in.days ? "day rows" : "");
  if (rc == FC_OK && order_groups(&s, r) != FC_OK) rc = fc__err(err, FC_ENOMEM, "out of memory");
  if (rc == FC_OK) rc = build_users(&s, w, r, err);
  sel_free(&s);
  return rc == FC_OK ? features_all(w, r, p, err) : rc;
}

int fc_segments_features(const fc_transaction *txns, size_t n, fc_segments_params p, fc_segments_result *out,
                         fc_err *err) {
  work w;
  int rc;
  memset(&w, 0, sizeof w);
  rc = features_pipeline((input){txns, NULL, n}, &p, &w, out, err);
  work_free(&w);
  return rc;
}

/* ---- clustering ---- */

typedef struct fit {
  fc_kmeans_result km;
  fc_dbscan_result db;
} fit;

/* The caller's progress callback seen through a sub-range: the clustering
 * takes fractions [CLUSTER_LO, CLUSTER_HI] of the whole run. */
#define CLUSTER_LO 0.1
#define CLUSTER_HI 0.9

static int cluster_progress(const char *stage, double f, void *user_data) {
  const fc_segments_params *p = user_data;
  return p->progress(stage, CLUSTER_LO + (CLUSTER_HI - CLUSTER_LO) * f, p->user_data);
}

/* Reports a stage boundary; FC_EABORTED (with the message) on a stop. */
static int report(const fc_segments_params *p, const char *stage, double f, fc_err *err) {
  if (p->progress != NULL && p->progress(stage, f, p->user_data) != 0)
    return fc__err(err, FC_EABORTED, "segments: aborted");
  return FC_OK;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* k = auto for many users: the silhouette's choice among the k-means fits
 * of a seeded sample of p->select_sample users (in user order), then the
 * chosen fit's centres refined by one k-means run on every user. Fitting
 * every k ten times on every user cost seconds at 100,000 users; a
 * silhouette is itself a sampled estimate, and the refinement makes the
 * final clusters those of all users. */
static int kmeans_auto_sampled(fc_segments_result *r, const fc_segments_params *p, fc_kmeans_auto_params ap,
                               fc_kmeans_result *km, fc_err *err) {
  size_t nu = r->n_users, dd = FC_SEGF_COUNT, m = p->select_sample;
  size_t *idx = fc__mallocarray(nu, sizeof *idx);
  double *xs = fc__mallocarray(m * dd, sizeof *xs);
  fc_kmeans_result pick;
  fc_rng rng;
  int rc;
  memset(&pick, 0, sizeof pick);
  if (!idx || !xs) {
    fc__free(idx);
    fc__free(xs);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < nu; i++) idx[i] = i;
  fc_rng_seed(&rng, p->seed);
  for (size_t a = 0; a < m; a++) { /* partial Fisher-Yates */
    size_t b = a + (size_t)fc_rng_below(&rng, nu - a), t = idx[a];
    idx[a] = idx[b];
    idx[b] = t;
  }
  qsort(idx, m, sizeof *idx, cmp_size);
  for (size_t a = 0; a < m; a++) memcpy(xs + a * dd, r->scaled + idx[a] * dd, dd * sizeof *xs);
  if (ap.k_max > (int)m - 1) ap.k_max = (int)m - 1;
  rc = fc_kmeans_auto(xs, m, dd, ap, &pick, r->k_scores, err);
  if (rc == FC_OK) {
    fc_kmeans_params kp = ap.base;
    kp.k = pick.k;
    kp.init = pick.centers;
    kp.progress = NULL;
    rc = fc_kmeans_fit(r->scaled, nu, dd, kp, km, err);
  }
  fc_kmeans_result_free(&pick);
  fc__free(idx);
  fc__free(xs);
  return rc;
}

static int cluster_kmeans(fc_segments_result *r, const fc_segments_params *p, fit *f, fc_err *err) {
  size_t nu = r->n_users, dd = FC_SEGF_COUNT;
  int rc;
  if (p->k == 0) {
    fc_kmeans_auto_params ap = fc_kmeans_auto_defaults();
    int top = p->k_max < (int)nu - 1 ? p->k_max : (int)nu - 1;
    if (top < p->k_min) return fc__err(err, FC_EINVAL, "k=auto needs more than %d users, have %zu", p->k_min, nu);
    ap.k_min = p->k_min;
    ap.k_max = top;
    ap.sample = p->silhouette_sample;
    ap.base.n_init = p->n_init;
    ap.base.seed = p->seed;
    if (p->progress != NULL) {
      ap.base.progress = cluster_progress;
      ap.base.user_data = (void *)p;
    }
    r->k_min = ap.k_min;
    r->k_max = ap.k_max;
    r->k_scores = fc__mallocarray((size_t)(top - p->k_min + 1), sizeof *r->k_scores);
    if (r->k_scores == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    rc = p->select_sample && nu > p->select_sample ? kmeans_auto_sampled(r, p, ap, &f->km, err)
                                                   : fc_kmeans_auto(r->scaled, nu, dd, ap, &f->km, r->k_scores, err);
  } else {
    fc_kmeans_params kp = fc_kmeans_defaults();
    kp.k = p->k;
    kp.n_init = p->n_init;
    kp.seed = p->seed;
    if (p->progress != NULL) {
      kp.progress = cluster_progress;
      kp.user_data = (void *)p;
    }
    rc = fc_kmeans_fit(r->scaled, nu, dd, kp, &f->km, err);
  }
  if (rc != FC_OK) return fc__err_prefix(err, rc, "segments: %zu users: ", nu);
  r->k = f->km.k;
  memcpy(r->segment, f->km.labels, nu * sizeof *r->segment);
  if (r->k >= 2 &&
      fc_silhouette_sample(r->scaled, nu, dd, r->segment, p->silhouette_sample, p->seed, &r->silhouette, NULL) != FC_OK)
    r->silhouette = NAN;
  return FC_OK;
}

static int cluster_dbscan(fc_segments_result *r, const fc_segments_params *p, fit *f, fc_err *err) {
  fc_dbscan_params dp = fc_dbscan_defaults();
  size_t nu = r->n_users;
  int rc;
  dp.eps = p->eps;
  dp.min_pts = p->min_pts;
  dp.seed = p->seed;
  if (p->progress != NULL) {
    dp.progress = cluster_progress;
    dp.user_data = (void *)p;
  }
  rc = fc_dbscan_fit(r->scaled, nu, FC_SEGF_COUNT, dp, &f->db, err);
  if (rc != FC_OK) return fc__err_prefix(err, rc, "segments: %zu users: ", nu);
  r->k = f->db.n_clusters;
  r->eps = f->db.eps;
  memcpy(r->segment, f->db.labels, nu * sizeof *r->segment);
  if (fc_silhouette_sample(r->scaled, nu, FC_SEGF_COUNT, r->segment, p->silhouette_sample, p->seed, &r->silhouette,
                           NULL) != FC_OK)
    r->silhouette = NAN;
  return FC_OK;
}

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

static int describe_segments(fc_segments_result *r, const work *w) {
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
      user_features(d, upto, &at, &f, *rows + *m * dd, NULL, 0);
      (*owner)[*m] = u;
      (*snap)[(*m)++] = j;
    }
  }
  return fc_scaler_apply(&w->scaler, *rows, *m, err);
}

static int membership(fc_segments_result *r, const work *w, const fit *f, const fc_segments_params *p, fc_err *err) {
  window wd = analysis_window(w, p);
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

static int run_pipeline(input in, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  work w;
  fit f;
  int rc;
  memset(&w, 0, sizeof w);
  memset(&f, 0, sizeof f);
  if ((rc = features_pipeline(in, &p, &w, out, err)) != FC_OK) goto done;
  if ((rc = report(&p, "features", CLUSTER_LO, err)) != FC_OK) goto done;
  if (out->n_users < 2) {
    rc = fc__err(err, FC_EINVAL, "segments need at least 2 users, have %zu", out->n_users);
    goto done;
  }
  out->segment = fc__mallocarray(out->n_users, sizeof *out->segment);
  if (out->segment == NULL) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  rc = p.method == FC_SEG_KMEANS ? cluster_kmeans(out, &p, &f, err) : cluster_dbscan(out, &p, &f, err);
  if (rc != FC_OK) goto done;
  if (describe_segments(out, &w) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  rc = membership(out, &w, &f, &p, err);
  if (rc == FC_OK) rc = report(&p, "membership", 1.0, err);
done:
  fc_kmeans_result_free(&f.km);
  fc_dbscan_result_free(&f.db);
  work_free(&w);
  return rc;
}

int fc_segments_run(const fc_transaction *txns, size_t n, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  return run_pipeline((input){txns, NULL, n}, p, out, err);
}

int fc_segments_run_days(const fc_seg_day *rows, size_t n, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  return run_pipeline((input){NULL, rows, n}, p, out, err);
}

void fc_segments_result_free(fc_segments_result *r) {
  if (r == NULL) return;
  fc__free(r->users);
  fc__free(r->features);
  fc__free(r->scaled);
  fc__free(r->segment);
  fc__free(r->segments);
  fc__free(r->membership);
  fc__free(r->previous);
  fc__free(r->moving);
  fc__free((void *)r->types);
  fc__free((void *)r->categories);
  fc__free(r->type_share);
  fc__free(r->k_scores);
  memset(r, 0, sizeof *r);
}

/* ---- JSON ---- */

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
