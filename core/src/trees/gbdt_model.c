/* gbdt_model.c: the trained ensemble: allocation, flattened-tree prediction,
 * feature importance and accessors.
 *
 * Prediction walks rows in blocks of 64 and, within a block, tree by tree,
 * so one tree's nodes stay in cache while the block's rows pass through it.
 * Each row's raw score is summed as base + tree 0 + tree 1 + ... in that
 * order, exactly as training accumulates its scores, so a model predicts
 * its own training rows bit-identically to the scores training saw.
 */
#include "gbdt_internal.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const objective_names[] = {"l2", "l1", "huber", "quantile", "poisson", "tweedie"};

const char *fc_gbdt_objective_name(fc_gbdt_objective o) {
  if ((unsigned)o >= sizeof objective_names / sizeof objective_names[0]) return "unknown";
  return objective_names[o];
}

int fc_gbdt_objective_parse(const char *name, fc_gbdt_objective *out) {
  for (size_t i = 0; i < sizeof objective_names / sizeof objective_names[0]; i++)
    if (name && strcmp(name, objective_names[i]) == 0) {
      *out = (fc_gbdt_objective)i;
      return FC_OK;
    }
  return FC_EINVAL;
}

int fc__gbdt_model_new(fc_gbdt **out, size_t nfeat, fc_err *err) {
  fc_gbdt *m = fc__calloc(1, sizeof *m);
  *out = NULL;
  if (m == NULL) return fc__err(err, FC_ENOMEM, "gbdt: out of memory");
  m->nfeat = nfeat;
  m->is_cat = fc__calloc(nfeat, 1);
  m->names = fc__calloc(nfeat, sizeof *m->names);
  m->node_begin = fc__calloc(1, sizeof *m->node_begin);
  m->leaf_begin = fc__calloc(1, sizeof *m->leaf_begin);
  m->cap_trees = 1;
  if (!m->is_cat || !m->names || !m->node_begin || !m->leaf_begin) {
    fc_gbdt_destroy(m);
    return fc__err(err, FC_ENOMEM, "gbdt: out of memory");
  }
  for (size_t i = 0; i < nfeat; i++) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "f%zu", i);
    if (fc__gbdt_set_name(m, i, tmp) != FC_OK) {
      fc_gbdt_destroy(m);
      return fc__err(err, FC_ENOMEM, "gbdt: out of memory");
    }
  }
  *out = m;
  return FC_OK;
}

int fc__gbdt_set_name(fc_gbdt *m, size_t i, const char *name) {
  size_t n = strlen(name);
  char *s = fc__malloc(n + 1);
  if (s == NULL) return FC_ENOMEM;
  memcpy(s, name, n + 1);
  fc__free(m->names[i]);
  m->names[i] = s;
  return FC_OK;
}

int fc__gbdt_reserve(fc_gbdt *m, size_t nodes, size_t leaves, size_t cats) {
  size_t nn = m->node_begin[m->ntrees] + nodes, nl = m->leaf_begin[m->ntrees] + leaves;
  size_t cap;
  void *p;
  if (m->ntrees + 2 > m->cap_trees) {
    cap = m->cap_trees;
    p = m->node_begin;
    if (fc__grow(&p, &cap, m->ntrees + 2, sizeof *m->node_begin)) return FC_ENOMEM;
    m->node_begin = p;
    cap = m->cap_trees;
    p = m->leaf_begin;
    if (fc__grow(&p, &cap, m->ntrees + 2, sizeof *m->leaf_begin)) return FC_ENOMEM;
    m->leaf_begin = p;
    m->cap_trees = cap;
  }
  if (nn > m->cap_nodes) {
    cap = m->cap_nodes;
    p = m->nodes;
    if (fc__grow(&p, &cap, nn, sizeof *m->nodes)) return FC_ENOMEM;
    m->nodes = p;
    cap = m->cap_nodes;
    p = m->node_gain;
    if (fc__grow(&p, &cap, nn, sizeof *m->node_gain)) return FC_ENOMEM;
    m->node_gain = p;
    cap = m->cap_nodes;
    p = m->node_count;
    if (fc__grow(&p, &cap, nn, sizeof *m->node_count)) return FC_ENOMEM;
    m->node_count = p;
    m->cap_nodes = cap;
  }
  if (nl > m->cap_leaves) {
    cap = m->cap_leaves;
    p = m->leaf_value;
    if (fc__grow(&p, &cap, nl, sizeof *m->leaf_value)) return FC_ENOMEM;
    m->leaf_value = p;
    cap = m->cap_leaves;
    p = m->leaf_count;
    if (fc__grow(&p, &cap, nl, sizeof *m->leaf_count)) return FC_ENOMEM;
    m->leaf_count = p;
    m->cap_leaves = cap;
  }
  if (m->ncat + cats > m->cap_cat) {
    cap = m->cap_cat;
    p = m->cat_bits;
    if (fc__grow(&p, &cap, m->ncat + cats, FC__CAT_WORDS * sizeof *m->cat_bits)) return FC_ENOMEM;
    m->cat_bits = p;
    m->cap_cat = cap;
  }
  return FC_OK;
}

static void free_full(fc_gbdt *m) {
  fc__free(m->full_begin);
  fc__free(m->full_leaf_begin);
  fc__free(m->full_thr);
  fc__free(m->full_leaf);
  fc__free(m->full_feat);
  m->full_begin = m->full_leaf_begin = m->full_feat = NULL;
  m->full_thr = m->full_leaf = NULL;
}

void fc_gbdt_destroy(fc_gbdt *m) {
  if (m == NULL) return;
  if (m->names)
    for (size_t i = 0; i < m->nfeat; i++) fc__free(m->names[i]);
  fc__free(m->names);
  fc__free(m->is_cat);
  fc__free(m->node_begin);
  fc__free(m->leaf_begin);
  fc__free(m->nodes);
  fc__free(m->node_gain);
  fc__free(m->node_count);
  fc__free(m->leaf_value);
  fc__free(m->leaf_count);
  fc__free(m->cat_bits);
  fc__free(m->depth);
  fc__free(m->walk);
  free_full(m);
  fc__free(m);
}

/* Follows one tree from its root to a leaf; returns the global leaf index. */
static inline size_t leaf_of(const fc_gbdt *m, size_t t, const double *x) {
  const fc__gbdt_node *nodes = m->nodes + m->node_begin[t];
  int32_t c = m->node_begin[t + 1] > m->node_begin[t] ? 0 : -1;
  while (c >= 0) {
    const fc__gbdt_node *n = &nodes[c];
    double v = x[n->feat];
    if (n->meta & FC__NODE_CAT) {
      const uint64_t *bits = m->cat_bits + (size_t)(n->meta >> 2) * FC__CAT_WORDS;
      int left = 0;
      if (v >= 0.0 && v <= FC_GBDT_MAX_CATEGORY && v == floor(v)) {
        unsigned k = (unsigned)v;
        left = (int)((bits[k >> 6] >> (k & 63)) & 1u);
      }
      c = left ? n->left : n->right;
    } else if (v <= n->thr) {
      c = n->left;
    } else if (v != v) {
      c = (n->meta & FC__NODE_DEFAULT_LEFT) ? n->left : n->right;
    } else {
      c = n->right;
    }
  }
  return m->leaf_begin[t] + (size_t)~c;
}

double fc__gbdt_tree_value(const fc_gbdt *m, size_t t, const double *x) { return m->leaf_value[leaf_of(m, t, x)]; }

double fc__gbdt_raw_row(const fc_gbdt *m, size_t ntrees, const double *x) {
  double s = m->base_score;
  for (size_t t = 0; t < ntrees; t++) s += m->leaf_value[leaf_of(m, t, x)];
  return s;
}

double fc__gbdt_link(const fc_gbdt *m, double raw) {
  return (m->objective == FC_GBDT_POISSON || m->objective == FC_GBDT_TWEEDIE) ? exp(raw) : raw;
}

/* Writes the subtree at child reference c of tree t into complete-tree
 * slot i at level lev (of D): a split is copied, a leaf above level D
 * becomes a pass-through split over copies of itself. */
static void fill_full(fc_gbdt *m, size_t t, int32_t c, uint32_t i, uint32_t lev, uint32_t D) {
  uint32_t nb = m->full_begin[t], inner = (1u << D) - 1u;
  if (lev == D) {
    m->full_leaf[m->full_leaf_begin[t] + (i - inner)] = m->leaf_value[m->leaf_begin[t] + (size_t)~c];
    return;
  }
  if (c >= 0) {
    const fc__gbdt_node *n = &m->nodes[m->node_begin[t] + (size_t)c];
    m->full_thr[nb + i] = n->thr;
    m->full_feat[nb + i] = (uint32_t)n->feat | ((n->meta & FC__NODE_DEFAULT_LEFT) ? 1u << 31 : 0u);
    fill_full(m, t, n->left, 2 * i + 1, lev + 1, D);
    fill_full(m, t, n->right, 2 * i + 2, lev + 1, D);
  } else {
    m->full_thr[nb + i] = 0.0;
    m->full_feat[nb + i] = 0;
    fill_full(m, t, c, 2 * i + 1, lev + 1, D);
    fill_full(m, t, c, 2 * i + 2, lev + 1, D);
  }
}

/* Builds the complete-tree copies (see fc_gbdt); needs depth[] and has_cat. */
static int build_full(fc_gbdt *m) {
  size_t nn = 0, nl = 0;
  free_full(m);
  m->full_begin = fc__calloc(m->ntrees + 1, sizeof *m->full_begin);
  m->full_leaf_begin = fc__calloc(m->ntrees + 1, sizeof *m->full_leaf_begin);
  if (m->full_begin == NULL || m->full_leaf_begin == NULL) return FC_ENOMEM;
  for (size_t t = 0; t < m->ntrees; t++) {
    uint32_t D = m->depth[t];
    int full = !m->has_cat && D <= FC__FULL_MAX_DEPTH;
    nn += full ? ((size_t)1 << D) - 1 : 0;
    nl += full ? (size_t)1 << D : 0;
    if (nl > UINT32_MAX) return FC_ENOMEM;
    m->full_begin[t + 1] = (uint32_t)nn;
    m->full_leaf_begin[t + 1] = (uint32_t)nl;
  }
  m->full_thr = fc__mallocarray(nn + 1, sizeof *m->full_thr);
  m->full_feat = fc__mallocarray(nn + 1, sizeof *m->full_feat);
  m->full_leaf = fc__mallocarray(nl + 1, sizeof *m->full_leaf);
  if (m->full_thr == NULL || m->full_feat == NULL || m->full_leaf == NULL) return FC_ENOMEM;
  for (size_t t = 0; t < m->ntrees; t++)
    if (m->full_leaf_begin[t + 1] > m->full_leaf_begin[t])
      fill_full(m, t, m->node_begin[t + 1] > m->node_begin[t] ? 0 : -1, 0, 0, m->depth[t]);
  return FC_OK;
}

int fc__gbdt_finalize(fc_gbdt *m) {
  size_t nn = m->node_begin[m->ntrees];
  uint32_t *d = fc__calloc(m->ntrees, sizeof *d), *level = fc__calloc(nn, sizeof *level);
  fc__gbdt_node *walk = fc__mallocarray(nn + m->leaf_begin[m->ntrees], sizeof *walk);
  if (d == NULL || level == NULL || walk == NULL) {
    fc__free(d);
    fc__free(level);
    fc__free(walk);
    return FC_ENOMEM;
  }
  m->has_cat = 0;
  for (size_t t = 0; t < m->ntrees; t++) {
    uint32_t b = m->node_begin[t], e = m->node_begin[t + 1];
    /* Children follow their parent, so one forward pass sets every level. */
    for (uint32_t i = b; i < e; i++) {
      const fc__gbdt_node *n = &m->nodes[i];
      uint32_t here = (i == b ? 0 : level[i]) + 1;
      if (here > d[t]) d[t] = here;
      if (n->left >= 0) level[b + (uint32_t)n->left] = here;
      if (n->right >= 0) level[b + (uint32_t)n->right] = here;
      if (n->meta & FC__NODE_CAT) m->has_cat = 1;
    }
  }
  for (size_t t = 0; t < m->ntrees; t++) {
    uint32_t nb = m->node_begin[t], n = m->node_begin[t + 1] - nb;
    uint32_t nl = m->leaf_begin[t + 1] - m->leaf_begin[t];
    fc__gbdt_node *w = walk + nb + m->leaf_begin[t];
    for (uint32_t i = 0; i < n; i++) {
      w[i] = m->nodes[nb + i];
      if (w[i].left < 0) w[i].left = (int32_t)n + ~w[i].left;
      if (w[i].right < 0) w[i].right = (int32_t)n + ~w[i].right;
    }
    for (uint32_t k = 0; k < nl; k++) {
      fc__gbdt_node *leaf = &w[n + k];
      leaf->thr = 0.0;
      leaf->feat = 0;
      leaf->left = leaf->right = (int32_t)(n + k);
      leaf->meta = 0;
    }
  }
  fc__free(level);
  fc__free(m->depth);
  fc__free(m->walk);
  m->depth = d;
  m->walk = walk;
  return build_full(m);
}

typedef struct predict_job {
  const fc_gbdt *m;
  const double *x;
  size_t begin, end;
  double *out;
} predict_job;

enum { BLOCK = 64 };

/* One step down a numeric split, without a data-dependent branch: NaN
 * compares false and takes the default direction. */
static inline int32_t step_numeric(const fc__gbdt_node *n, double v) {
  int32_t left = (v <= n->thr) | ((v != v) & (int32_t)(n->meta & FC__NODE_DEFAULT_LEFT));
  return n->right ^ ((n->left ^ n->right) & -left); /* a mask, not a branch */
}

/* Adds tree t's leaf values to out[0..nr) for rows x[0..nr). All rows of the
 * block descend together for depth[t] levels (a row already at a leaf stays
 * there), so the rows' independent loads overlap instead of each row
 * waiting on its own chain of mispredicted branches. */
static void add_tree_block(const fc_gbdt *m, size_t t, const double *x, size_t nr, double *out) {
  const fc__gbdt_node *w = m->walk + m->node_begin[t] + m->leaf_begin[t];
  const double *leaves = m->leaf_value + m->leaf_begin[t];
  int32_t nn = (int32_t)(m->node_begin[t + 1] - m->node_begin[t]);
  size_t nf = m->nfeat;
  int32_t cur[BLOCK];
  for (size_t r = 0; r < nr; r++) cur[r] = 0;
  for (uint32_t level = 0; level < m->depth[t]; level++) {
    int32_t inner = 0; /* negative while some row is still at a split */
    for (size_t r = 0; r < nr; r++) {
      const fc__gbdt_node *n = &w[cur[r]];
      cur[r] = step_numeric(n, x[r * nf + (size_t)n->feat]);
      inner |= cur[r] - nn;
    }
    if (inner >= 0) break; /* every row of the block is at a leaf */
  }
  for (size_t r = 0; r < nr; r++) out[r] += leaves[cur[r] - nn];
}

/* Adds complete tree t's leaf values to out[0..nr) for rows x[0..nr):
 * every row takes exactly depth[t] steps, each computing its child's index
 * from a compare (NaN compares false and follows bit 31). */
static void add_full_block(const fc_gbdt *m, size_t t, const double *x, size_t nr, double *out) {
  const double *thr = m->full_thr + m->full_begin[t];
  const uint32_t *feat = m->full_feat + m->full_begin[t];
  const double *leaves = m->full_leaf + m->full_leaf_begin[t];
  uint32_t D = m->depth[t], inner = (1u << D) - 1u;
  size_t nf = m->nfeat;
  uint32_t cur[BLOCK];
  for (size_t r = 0; r < nr; r++) cur[r] = 0;
  for (uint32_t level = 0; level < D; level++)
    for (size_t r = 0; r < nr; r++) {
      uint32_t i = cur[r], fw = feat[i];
      double v = x[r * nf + (fw & 0x7fffffffu)];
      uint32_t left = (uint32_t)(v <= thr[i]) | ((uint32_t)(v != v) & (fw >> 31));
      cur[r] = 2 * i + 2 - left;
    }
  for (size_t r = 0; r < nr; r++) out[r] += leaves[cur[r] - inner];
}

static void predict_range(const predict_job *j) {
  const fc_gbdt *m = j->m;
  size_t nf = m->nfeat;
  for (size_t b = j->begin; b < j->end; b += BLOCK) {
    size_t e = FC__MIN(b + BLOCK, j->end);
    for (size_t r = b; r < e; r++) j->out[r] = m->base_score;
    for (size_t t = 0; t < m->ntrees; t++) {
      if (m->has_cat) /* categorical splits take the general walk */
        for (size_t r = b; r < e; r++) j->out[r] += m->leaf_value[leaf_of(m, t, j->x + r * nf)];
      else if (m->full_leaf_begin[t + 1] > m->full_leaf_begin[t])
        add_full_block(m, t, j->x + b * nf, e - b, j->out + b);
      else add_tree_block(m, t, j->x + b * nf, e - b, j->out + b);
    }
    for (size_t r = b; r < e; r++) j->out[r] = fc__gbdt_link(m, j->out[r]);
  }
}

/* Rows per task of the caller's parallel-for: small tables run here. */
enum { PREDICT_ROWS_PER_PART = 4096, PREDICT_MAX_PARTS = 64 };

typedef struct predict_parts {
  predict_job all; /* begin 0, end nrow */
  size_t n;        /* parts */
} predict_parts;

static void predict_part(void *arg, size_t i) {
  const predict_parts *pp = arg;
  predict_job j = pp->all;
  size_t nrow = pp->all.end;
  j.begin = nrow * i / pp->n;
  j.end = nrow * (i + 1) / pp->n;
  predict_range(&j);
}

int fc_gbdt_predict(const fc_gbdt *m, const double *x, size_t nrow, size_t ncol, const fc_parallel *par, double *out,
                    fc_err *err) {
  predict_parts pp;
  if (m == NULL || (nrow > 0 && (x == NULL || out == NULL)))
    return fc__err(err, FC_EINVAL, "gbdt predict: NULL argument");
  if (ncol != m->nfeat)
    return fc__err(err, FC_EINVAL, "gbdt predict: the table has %zu feature columns, the model %zu", ncol, m->nfeat);
  pp.all.m = m;
  pp.all.x = x;
  pp.all.out = out;
  pp.all.begin = 0;
  pp.all.end = nrow;
  pp.n = FC__MIN(nrow / PREDICT_ROWS_PER_PART, (size_t)PREDICT_MAX_PARTS);
  /* Each row's prediction is its own: the parts never change a bit. */
  if (par == NULL || par->run == NULL || pp.n < 2) predict_range(&pp.all);
  else par->run(par->ctx, pp.n, predict_part, &pp);
  return FC_OK;
}

size_t fc_gbdt_num_features(const fc_gbdt *m) { return m ? m->nfeat : 0; }
size_t fc_gbdt_num_trees(const fc_gbdt *m) { return m ? m->ntrees : 0; }
fc_gbdt_objective fc_gbdt_model_objective(const fc_gbdt *m) { return m->objective; }

const char *fc_gbdt_feature_name(const fc_gbdt *m, size_t i) { return (m && i < m->nfeat) ? m->names[i] : NULL; }

int fc_gbdt_importance(const fc_gbdt *m, fc_gbdt_importance_type type, double *out, fc_err *err) {
  size_t nn;
  if (m == NULL || out == NULL) return fc__err(err, FC_EINVAL, "gbdt importance: NULL argument");
  if (type != FC_GBDT_IMPORTANCE_SPLIT && type != FC_GBDT_IMPORTANCE_GAIN)
    return fc__err(err, FC_EINVAL, "gbdt importance: unknown type %d", (int)type);
  for (size_t f = 0; f < m->nfeat; f++) out[f] = 0.0;
  nn = m->node_begin[m->ntrees];
  for (size_t i = 0; i < nn; i++) out[m->nodes[i].feat] += type == FC_GBDT_IMPORTANCE_SPLIT ? 1.0 : m->node_gain[i];
  return FC_OK;
}
