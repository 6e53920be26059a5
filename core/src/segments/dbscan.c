/* dbscan.c: exact DBSCAN over a k-d tree, the k-distance knee for eps, and
 * assignment of new points to fitted clusters.
 *
 * The k-d tree splits at the median of the widest dimension down to leaves
 * of LEAF points and keeps each node's bounding box, so a range query skips
 * boxes farther than eps and takes boxes wholly inside eps without looking
 * at their points. Each point is range-queried at most once: a point waiting
 * in the expansion queue is marked so it is never queued twice. Every node
 * also counts its points that are still open (unseen or noise); once a query
 * has found min_pts neighbours it skips subtrees with none open, because
 * labelled points cannot change any more. The labels are the same as
 * without that pruning.
 */
#include "fc/dbscan.h"
#include "fc/rng.h"
#include "internal.h"
#include "vec.h"

#include <math.h>
#include <string.h>

#define LEAF   16
#define TICK   4096 /* range queries between progress reports */
#define QUEUED (-3)
#define UNSEEN (-2)

fc_dbscan_params fc_dbscan_defaults(void) {
  fc_dbscan_params p;
  p.eps = 0;
  p.min_pts = 5;
  p.knee_sample = 10000;
  p.seed = 0;
  p.progress = NULL;
  p.user_data = NULL;
  return p;
}

/* Progress of one fit: the knee search takes [0, knee) of the range and
 * the clustering the rest; done counts the range queries. */
typedef struct ticker {
  fc_progress_fn fn;
  void *user_data;
  double lo, span;
  size_t done, n;
} ticker;

/* Counts one query; nonzero when the caller asks to stop. */
static int tick(ticker *tk, const char *stage) {
  if (tk == NULL || tk->fn == NULL || ++tk->done % TICK != 0) return 0;
  return tk->fn(stage, tk->lo + tk->span * (double)tk->done / (double)tk->n, tk->user_data) != 0;
}

typedef struct node {
  size_t lo, hi;   /* points idx[lo..hi) */
  int left, right; /* children, -1 for a leaf */
} node;

typedef struct kdtree {
  size_t n, d;
  double *pts; /* n x d in tree order */
  size_t *idx; /* tree position -> caller's point index */
  node *nodes;
  double *box; /* per node: d minima then d maxima */
  size_t n_nodes, cap;
} kdtree;

static void tree_free(kdtree *t) {
  fc__free(t->pts);
  fc__free(t->idx);
  fc__free(t->nodes);
  fc__free(t->box);
  memset(t, 0, sizeof *t);
}

/* Reorders idx[lo..hi) so that idx[k] holds the point with the k-th
 * smallest coordinate dim, smaller ones before it, larger after. */
static void select_kth(size_t *idx, const double *x, size_t d, size_t dim, size_t lo, size_t hi, size_t k) {
  while (hi - lo > 8) {
    size_t mid = lo + (hi - lo) / 2, i = lo, j = hi - 1, t;
    double a = x[idx[lo] * d + dim], b = x[idx[mid] * d + dim], c = x[idx[hi - 1] * d + dim];
    double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    for (;;) { /* Hoare partition */
      while (x[idx[i] * d + dim] < pivot) i++;
      while (x[idx[j] * d + dim] > pivot) j--;
      if (i >= j) break;
      t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      i++;
      j--;
    }
    if (k <= j) hi = j + 1;
    else lo = j + 1;
  }
  for (size_t a = lo + 1; a < hi; a++) { /* short range: insertion sort */
    size_t v = idx[a], b = a;
    for (; b > lo && x[idx[b - 1] * d + dim] > x[v * d + dim]; b--) idx[b] = idx[b - 1];
    idx[b] = v;
  }
}

static int new_node(kdtree *t, size_t lo, size_t hi) {
  size_t cap = t->cap;
  if (fc__grow((void **)&t->nodes, &t->cap, t->n_nodes + 1, sizeof *t->nodes) != FC_OK) return -1;
  if (t->cap != cap) {
    double *nb = fc__reallocarray(t->box, t->cap, 2 * t->d * sizeof *nb);
    if (nb == NULL) return -1;
    t->box = nb;
  }
  t->nodes[t->n_nodes].lo = lo;
  t->nodes[t->n_nodes].hi = hi;
  t->nodes[t->n_nodes].left = t->nodes[t->n_nodes].right = -1;
  return (int)t->n_nodes++;
}

static int build(kdtree *t, const double *x, size_t lo, size_t hi) {
  size_t d = t->d, dim = 0;
  double *mn, *mx, width = -1;
  int id = new_node(t, lo, hi), l, r;
  if (id < 0) return -1;
  mn = t->box + (size_t)id * 2 * d;
  mx = mn + d;
  for (size_t j = 0; j < d; j++) mn[j] = INFINITY, mx[j] = -INFINITY;
  for (size_t i = lo; i < hi; i++)
    for (size_t j = 0; j < d; j++) {
      double v = x[t->idx[i] * d + j];
      if (v < mn[j]) mn[j] = v;
      if (v > mx[j]) mx[j] = v;
    }
  for (size_t j = 0; j < d; j++)
    if (mx[j] - mn[j] > width) width = mx[j] - mn[j], dim = j;
  if (hi - lo <= LEAF || width <= 0) return id;
  select_kth(t->idx, x, d, dim, lo, hi, lo + (hi - lo) / 2);
  if ((l = build(t, x, lo, lo + (hi - lo) / 2)) < 0) return -1;
  if ((r = build(t, x, lo + (hi - lo) / 2, hi)) < 0) return -1;
  t->nodes[id].left = l;
  t->nodes[id].right = r;
  return id;
}

/* Builds a tree over the points x[sel[i]] (sel NULL: all n points). */
static int tree_build(kdtree *t, const double *x, size_t n, size_t d, const size_t *sel) {
  memset(t, 0, sizeof *t);
  t->n = n;
  t->d = d;
  t->idx = fc__mallocarray(n, sizeof *t->idx);
  t->pts = fc__mallocarray(n * d, sizeof *t->pts);
  if (!t->idx || !t->pts) goto fail;
  for (size_t i = 0; i < n; i++) t->idx[i] = sel ? sel[i] : i;
  if (build(t, x, 0, n) < 0) goto fail;
  for (size_t i = 0; i < n; i++) memcpy(t->pts + i * d, x + t->idx[i] * d, d * sizeof *x);
  return FC_OK;
fail:
  tree_free(t);
  return FC_ENOMEM;
}

static double box_min2(const kdtree *t, int id, const double *q) {
  const double *mn = t->box + (size_t)id * 2 * t->d, *mx = mn + t->d;
  double s = 0;
  for (size_t j = 0; j < t->d; j++) {
    double e = q[j] < mn[j] ? mn[j] - q[j] : (q[j] > mx[j] ? q[j] - mx[j] : 0);
    s += e * e;
  }
  return s;
}

static double box_max2(const kdtree *t, int id, const double *q) {
  const double *mn = t->box + (size_t)id * 2 * t->d, *mx = mn + t->d;
  double s = 0;
  for (size_t j = 0; j < t->d; j++) {
    double a = fabs(q[j] - mn[j]), b = fabs(q[j] - mx[j]), e = a > b ? a : b;
    s += e * e;
  }
  return s;
}

/* A growable list of point indices. */
typedef struct list {
  size_t *v, len, cap;
} list;

static int list_push(list *l, size_t x) {
  if (l->len == l->cap && fc__grow((void **)&l->v, &l->cap, l->len + 1, sizeof *l->v) != FC_OK) return FC_ENOMEM;
  l->v[l->len++] = x;
  return FC_OK;
}

/* A max-heap of the k smallest squared distances seen, with their points. */
typedef struct heap {
  double *v;
  size_t *who;
  size_t len, k;
} heap;

static void heap_offer(heap *h, double e, size_t who) {
  size_t i;
  if (h->len == h->k) {
    if (e >= h->v[0]) return;
    i = 0; /* replace the top and sift down */
    for (;;) {
      size_t l = 2 * i + 1, r = l + 1, m = i;
      double vm = e;
      if (l < h->len && h->v[l] > vm) m = l, vm = h->v[l];
      if (r < h->len && h->v[r] > vm) m = r;
      if (m == i) break;
      h->v[i] = h->v[m];
      h->who[i] = h->who[m];
      i = m;
    }
  } else {
    i = h->len++;
    while (i > 0 && h->v[(i - 1) / 2] < e) {
      h->v[i] = h->v[(i - 1) / 2];
      h->who[i] = h->who[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  }
  h->v[i] = e;
  h->who[i] = who;
}

static void knn(const kdtree *t, int id, const double *q, heap *h) {
  const node *nd = &t->nodes[id];
  if (h->len == h->k && box_min2(t, id, q) >= h->v[0]) return;
  if (nd->left < 0) {
    for (size_t i = nd->lo; i < nd->hi; i++) heap_offer(h, fc__dist2(t->pts + i * t->d, q, t->d), t->idx[i]);
    return;
  }
  if (box_min2(t, nd->left, q) <= box_min2(t, nd->right, q)) {
    knn(t, nd->left, q, h);
    knn(t, nd->right, q, h);
  } else {
    knn(t, nd->right, q, h);
    knn(t, nd->left, q, h);
  }
}

static int check_matrix(const double *x, size_t n, size_t d, fc_err *err) {
  if (x == NULL || n == 0 || d == 0) return fc__err(err, FC_EINVAL, "empty data (%zu points x %zu features)", n, d);
  for (size_t i = 0; i < n * d; i++)
    if (!isfinite(x[i])) return fc__err(err, FC_EINVAL, "point %zu, feature %zu: value is not finite", i / d, i % d);
  return FC_OK;
}

/* Index of the knee of the ascending curve v[0..m-1]. */
static size_t knee_index(const double *v, size_t m) {
  double span = v[m - 1] - v[0], best = -INFINITY;
  size_t arg = m - 1;
  if (m < 3 || !(span > 0)) return m - 1;
  for (size_t i = 0; i < m; i++) {
    double gap = (double)i / (double)(m - 1) - (v[i] - v[0]) / span;
    if (gap > best) best = gap, arg = i;
  }
  return arg;
}

static int knee_eps(const double *x, size_t n, size_t d, int k, size_t sample, uint64_t seed, double *eps, ticker *tk,
                    fc_err *err) {
  kdtree t;
  heap h;
  double *kd;
  size_t m = sample < n ? sample : n, *pick = NULL;
  int rc = check_matrix(x, n, d, err);
  if (rc != FC_OK) return rc;
  if (k < 1 || (size_t)k >= n || m == 0)
    return fc__err(err, FC_EINVAL, "k-distance needs 1 <= k < %zu points and a sample (k = %d)", n, k);
  if (tree_build(&t, x, n, d, NULL) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  h.k = (size_t)k + 1; /* the point itself comes first */
  h.v = fc__mallocarray(h.k, sizeof *h.v);
  h.who = fc__mallocarray(h.k, sizeof *h.who);
  kd = fc__mallocarray(m, sizeof *kd);
  if (m < n) pick = fc__mallocarray(n, sizeof *pick);
  if (!h.v || !h.who || !kd || (m < n && !pick)) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  if (pick) { /* seeded sample without replacement */
    fc_rng r;
    fc_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) pick[i] = i;
    for (size_t a = 0; a < m; a++) {
      size_t b = a + (size_t)fc_rng_below(&r, n - a), s = pick[a];
      pick[a] = pick[b];
      pick[b] = s;
    }
  }
  if (tk != NULL) tk->n = m;
  for (size_t a = 0; a < m; a++) {
    h.len = 0;
    knn(&t, 0, x + (pick ? pick[a] : a) * d, &h);
    kd[a] = sqrt(h.v[0]);
    if (tick(tk, "dbscan knee")) {
      rc = fc__err(err, FC_EABORTED, "dbscan: aborted");
      goto done;
    }
  }
  qsort(kd, m, sizeof *kd, fc__cmp_double);
  *eps = kd[knee_index(kd, m)];
  if (!(*eps > 0))
    rc = fc__err(err, FC_EINVAL,
                 "k-distance knee is 0 (%zu of the sampled points have %d identical "
                 "neighbours); give eps explicitly",
                 m, k);
done:
  fc__free(h.v);
  fc__free(h.who);
  fc__free(kd);
  fc__free(pick);
  tree_free(&t);
  return rc;
}

int fc_dbscan_knee_eps(const double *x, size_t n, size_t d, int k, size_t sample, uint64_t seed, double *eps,
                       fc_err *err) {
  return knee_eps(x, n, d, k, sample, seed, eps, NULL, err);
}

/* Per node, how many of its points are still open (unseen or noise: the
 * only ones an expansion can still take), so that queries skip subtrees
 * that are fully labelled once they know a point is a core point. */
typedef struct openset {
  size_t *open; /* per node */
  int *parent;  /* per node, -1 for the root */
  int *leaf;    /* per caller's point: its leaf */
} openset;

static void openset_free(openset *o) {
  fc__free(o->open);
  fc__free(o->parent);
  fc__free(o->leaf);
}

static int openset_init(openset *o, const kdtree *t) {
  o->open = fc__mallocarray(t->n_nodes, sizeof *o->open);
  o->parent = fc__mallocarray(t->n_nodes, sizeof *o->parent);
  o->leaf = fc__mallocarray(t->n, sizeof *o->leaf);
  if (!o->open || !o->parent || !o->leaf) return FC_ENOMEM;
  o->parent[0] = -1;
  for (size_t id = 0; id < t->n_nodes; id++) {
    const node *nd = &t->nodes[id];
    o->open[id] = nd->hi - nd->lo;
    if (nd->left >= 0) {
      o->parent[nd->left] = o->parent[nd->right] = (int)id;
    } else {
      for (size_t i = nd->lo; i < nd->hi; i++) o->leaf[t->idx[i]] = (int)id;
    }
  }
  return FC_OK;
}

static int is_open(int label) { return label == UNSEEN || label == FC_DBSCAN_NOISE; }

/* Gives open point p a closed label (a cluster, or QUEUED). */
static void close_point(openset *o, int *labels, size_t p, int label) {
  labels[p] = label;
  for (int id = o->leaf[p]; id >= 0; id = o->parent[id]) o->open[id]--;
}

/* Appends every open point of node id (all within eps). */
static int collect_open(const kdtree *t, const openset *o, const int *labels, int id, list *out) {
  int stack[256], top = 0;
  stack[top++] = id;
  while (top > 0) {
    const node *nd = &t->nodes[stack[--top]];
    if (o->open[nd - t->nodes] == 0) continue;
    if (nd->left >= 0) {
      stack[top++] = nd->left;
      stack[top++] = nd->right;
      continue;
    }
    for (size_t i = nd->lo; i < nd->hi; i++)
      if (is_open(labels[t->idx[i]]) && list_push(out, t->idx[i]) != FC_OK) return FC_ENOMEM;
  }
  return FC_OK;
}

/* Counts the points within eps of q (exactly while fewer than min_pts; past
 * that, fully labelled subtrees are skipped) and appends the open ones. */
static int dense_query(const kdtree *t, const openset *o, const int *labels, const double *q, double eps2,
                       size_t min_pts, list *out, size_t *count) {
  int stack[256], top = 0;
  *count = 0;
  stack[top++] = 0;
  while (top > 0) {
    int id = stack[--top];
    const node *nd = &t->nodes[id];
    if ((o->open[id] == 0 && *count >= min_pts) || box_min2(t, id, q) > eps2) continue;
    if (box_max2(t, id, q) <= eps2) {
      *count += nd->hi - nd->lo;
      if (collect_open(t, o, labels, id, out) != FC_OK) return FC_ENOMEM;
    } else if (nd->left < 0) {
      for (size_t i = nd->lo; i < nd->hi; i++) {
        if (!fc__dist2_within(t->pts + i * t->d, q, t->d, eps2)) continue;
        ++*count;
        if (is_open(labels[t->idx[i]]) && list_push(out, t->idx[i]) != FC_OK) return FC_ENOMEM;
      }
    } else {
      stack[top++] = nd->left;
      stack[top++] = nd->right;
    }
  }
  return FC_OK;
}

/* Takes the open neighbours in nb into cluster c: noise becomes border,
 * unseen points are queued for expansion. */
static int absorb(openset *o, int *labels, const list *nb, int c, list *queue) {
  for (size_t a = 0; a < nb->len; a++) {
    size_t s = nb->v[a];
    if (labels[s] == FC_DBSCAN_NOISE) {
      close_point(o, labels, s, c);
    } else if (labels[s] == UNSEEN) {
      close_point(o, labels, s, QUEUED);
      if (list_push(queue, s) != FC_OK) return FC_ENOMEM;
    }
  }
  return FC_OK;
}

/* Grows cluster c from its first core point, whose neighbours are in nb. */
static int expand(const kdtree *t, openset *o, const double *x, double eps2, size_t min_pts, int c, fc_dbscan_result *r,
                  list *queue, list *nb, ticker *tk) {
  size_t head = 0, count;
  queue->len = 0;
  if (absorb(o, r->labels, nb, c, queue) != FC_OK) return FC_ENOMEM;
  while (head < queue->len) {
    size_t q = queue->v[head++];
    r->labels[q] = c;
    nb->len = 0;
    if (dense_query(t, o, r->labels, x + q * t->d, eps2, min_pts, nb, &count) != FC_OK) return FC_ENOMEM;
    if (tick(tk, "dbscan")) return FC_EABORTED;
    if (count < min_pts) continue;
    r->core[q] = 1;
    if (absorb(o, r->labels, nb, c, queue) != FC_OK) return FC_ENOMEM;
  }
  return FC_OK;
}

static int run(const double *x, size_t n, size_t d, size_t min_pts, fc_dbscan_result *r, ticker *tk, fc_err *err) {
  kdtree t;
  openset o = {0};
  list queue = {0}, nb = {0};
  double eps2 = r->eps * r->eps;
  size_t count;
  int rc = FC_OK;
  if (tree_build(&t, x, n, d, NULL) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  if (openset_init(&o, &t) != FC_OK) rc = FC_ENOMEM;
  for (size_t i = 0; i < n; i++) r->labels[i] = UNSEEN;
  for (size_t i = 0; i < n && rc == FC_OK; i++) {
    if (r->labels[i] != UNSEEN) continue;
    nb.len = 0;
    if (dense_query(&t, &o, r->labels, x + i * d, eps2, min_pts, &nb, &count) != FC_OK) {
      rc = FC_ENOMEM;
      break;
    }
    if (tick(tk, "dbscan")) {
      rc = FC_EABORTED;
      break;
    }
    if (count < min_pts) {
      r->labels[i] = FC_DBSCAN_NOISE; /* still open: a later cluster may take it as border */
      continue;
    }
    close_point(&o, r->labels, i, r->n_clusters);
    r->core[i] = 1;
    rc = expand(&t, &o, x, eps2, min_pts, r->n_clusters++, r, &queue, &nb, tk);
  }
  for (size_t i = 0; i < n; i++) r->n_noise += r->labels[i] == FC_DBSCAN_NOISE;
  fc__free(queue.v);
  fc__free(nb.v);
  openset_free(&o);
  tree_free(&t);
  if (rc == FC_EABORTED) return fc__err(err, rc, "dbscan: aborted");
  return rc == FC_OK ? FC_OK : fc__err(err, rc, "dbscan: out of memory");
}

int fc_dbscan_fit(const double *x, size_t n, size_t d, fc_dbscan_params p, fc_dbscan_result *out, fc_err *err) {
  ticker tk = {p.progress, p.user_data, 0, 1, 0, n};
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = check_matrix(x, n, d, err)) != FC_OK) return rc;
  if (p.min_pts < 1) return fc__err(err, FC_EINVAL, "min_pts = %d, must be >= 1", p.min_pts);
  if (!isfinite(p.eps)) return fc__err(err, FC_EINVAL, "eps is not finite");
  out->eps = p.eps;
  if (p.eps <= 0) {
    if (p.min_pts < 2 || (size_t)p.min_pts > n)
      return fc__err(err, FC_EINVAL, "eps from the knee needs 2 <= min_pts <= %zu points", n);
    tk.span = 0.3; /* the knee's k-nearest-neighbour queries cost about as much as */
    rc = knee_eps(x, n, d, p.min_pts - 1, p.knee_sample, p.seed, &out->eps, &tk, err);
    if (rc != FC_OK) return rc;
    tk.lo = 0.3; /* ... a third of the clustering's range queries */
    tk.span = 0.7;
    tk.done = 0;
    tk.n = n;
  }
  out->n = n;
  out->labels = fc__mallocarray(n, sizeof *out->labels);
  out->core = fc__calloc(n, 1);
  if (!out->labels || !out->core) return fc__err(err, FC_ENOMEM, "dbscan: out of memory");
  rc = run(x, n, d, (size_t)p.min_pts, out, &tk, err);
  if (rc == FC_OK && tk.fn != NULL && tk.fn("dbscan", 1.0, tk.user_data) != 0)
    rc = fc__err(err, FC_EABORTED, "dbscan: aborted");
  return rc;
}

void fc_dbscan_result_free(fc_dbscan_result *r) {
  if (r == NULL) return;
  fc__free(r->labels);
  fc__free(r->core);
  memset(r, 0, sizeof *r);
}

int fc_dbscan_predict(const double *x, size_t n, size_t d, const fc_dbscan_result *r, const double *y, size_t m,
                      int *labels, fc_err *err) {
  kdtree t;
  heap h;
  double v;
  size_t who, *sel, n_core = 0;
  int rc;
  if (r == NULL || r->labels == NULL || r->n != n)
    return fc__err(err, FC_EINVAL, "dbscan predict: result does not match the %zu points", n);
  if ((rc = check_matrix(y, m, d, err)) != FC_OK) return rc;
  for (size_t i = 0; i < n; i++) n_core += r->core[i];
  if (n_core == 0) {
    for (size_t i = 0; i < m; i++) labels[i] = FC_DBSCAN_NOISE;
    return FC_OK;
  }
  if ((sel = fc__mallocarray(n_core, sizeof *sel)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  n_core = 0;
  for (size_t i = 0; i < n; i++)
    if (r->core[i]) sel[n_core++] = i;
  rc = tree_build(&t, x, n_core, d, sel);
  fc__free(sel);
  if (rc != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  h.k = 1;
  h.v = &v;
  h.who = &who;
  for (size_t i = 0; i < m; i++) {
    h.len = 0;
    knn(&t, 0, y + i * d, &h);
    labels[i] = v <= r->eps * r->eps ? r->labels[who] : FC_DBSCAN_NOISE;
  }
  tree_free(&t);
  return FC_OK;
}
