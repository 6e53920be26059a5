/* gbdt_grow.c: one tree grown leaf-wise: stable row partitions, leaf values
 * and refits, feature sampling, score updates; bagging rows per round
 */
#include "fc/gbdt.h"
#include "gbdt_train.h"
#include "internal.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* --------------------------------------------------------- tree growth */

/* Whether a row with code b for the split's feature goes left. */
static inline int code_left(const trainer *t, const split_info *s, int b) {
  if (s->is_cat) return (int)((s->bits[b >> 6] >> (b & 63)) & 1u);
  if (b == t->nvb[s->feat]) return s->default_left;
  return b <= s->bin;
}

typedef struct part_job {
  const leaf_state *L;
  size_t nleft;    /* rows that go left: the split's exact count */
  size_t mid;      /* chunk 0 is [begin, mid), chunk 1 [mid, end) */
  size_t lefts[2]; /* left rows found in each chunk (a check) */
} part_job;

/* Chunks [c0, c1) of at most two: chunk 0 walks its rows forward, writing
 * left rows up from L's begin and right rows up from begin + nleft; chunk 1
 * walks backward, writing left rows down from begin + nleft and right rows
 * down from end. Both keep rows in ascending order, their regions are
 * disjoint, and neither needs the other's counts. */
static void split_rows(trainer *t, int c0, int c1, void *arg) {
  part_job *pj = arg;
  const leaf_state *L = pj->L;
  const split_info *s = &L->best;
  const uint8_t *col = t->cols + (size_t)s->feat * t->n;
  const uint32_t *rows = fc__gbdt_leaf_rows(t, L);
  uint32_t *out = t->oi[L->buf == 0 ? 1 : 0];
  for (int c = c0; c < c1; c++) {
    if (c == 0) {
      size_t lo = L->begin, ro = L->begin + pj->nleft;
      for (size_t i = L->begin; i < pj->mid; i++) {
        uint32_t r = rows[i];
        size_t left = (size_t)code_left(t, s, col[r]);
        out[left ? lo : ro] = r; /* a select, not a branch */
        lo += left;
        ro += 1 - left;
      }
      pj->lefts[0] = lo - L->begin;
    } else {
      size_t lo = L->begin + pj->nleft, ro = L->end; /* one past the next slot */
      for (size_t i = L->end; i-- > pj->mid;) {
        uint32_t r = rows[i];
        size_t left = (size_t)code_left(t, s, col[r]);
        lo -= left;
        ro -= 1 - left;
        out[left ? lo : ro] = r;
      }
      pj->lefts[1] = L->begin + pj->nleft - lo;
    }
  }
}

/* Stable partition of L's rows into the other buffer; returns the number
 * that go left. The left count is known before the pass (the split's row
 * count, exact in a double), so a large leaf splits into two chunks, one
 * per thread, with no counting pass; the result does not depend on it. */
static size_t partition(trainer *t, const leaf_state *L) {
  part_job pj;
  size_t m = L->end - L->begin;
  int nch = (t->nt > 1 && m >= 16384) ? 2 : 1;
  pj.L = L;
  pj.nleft = (size_t)L->best.lc;
  pj.mid = nch == 2 ? L->begin + m / 2 : L->end;
  pj.lefts[1] = 0;
  fc__gbdt_parallel_for(t, nch, (double)m * 4, split_rows, &pj);
  assert(pj.lefts[0] + pj.lefts[1] == pj.nleft);
  return pj.nleft;
}

/* Refit for l1/quantile: the percentile of y - score over the leaf's rows. */
static double refit_leaf(trainer *t, const leaf_state *L, double alpha) {
  size_t n = L->end - L->begin;
  const uint32_t *rows = fc__gbdt_leaf_rows(t, L) + L->begin;
  for (size_t i = 0; i < n; i++) t->work[i] = t->d->y[rows[i]] - t->score[rows[i]];
  return fc__gbdt_percentile(t->work, n, alpha);
}

/* Splits leaf li into li (left) and nl (right), writing node k. */
static void split_leaf(trainer *t, fc_gbdt *m, int li, int nl, int k) {
  leaf_state *L = &t->leaves[li], *R = &t->leaves[nl];
  split_info s = L->best;
  fc__gbdt_node *nodes = m->nodes + m->node_begin[m->ntrees];
  size_t gk = m->node_begin[m->ntrees] + (size_t)k;
  size_t nleft = partition(t, L);
  int dest = L->buf == 0 ? 1 : 0;
  hbin *parent = L->hist, *fresh = t->pool[nl];

  nodes[k].feat = s.feat;
  nodes[k].left = ~li;
  nodes[k].right = ~nl;
  if (s.is_cat) {
    memcpy(m->cat_bits + m->ncat * FC__CAT_WORDS, s.bits, sizeof s.bits);
    nodes[k].thr = 0.0;
    nodes[k].meta = (uint32_t)(m->ncat++ << 2) | FC__NODE_CAT;
  } else {
    nodes[k].thr = t->ub[s.feat][s.bin];
    nodes[k].meta = s.default_left ? FC__NODE_DEFAULT_LEFT : 0u;
  }
  m->node_gain[gk] = s.gain;
  m->node_count[gk] = L->c;
  if (L->parent >= 0) {
    if (L->is_left) nodes[L->parent].left = k;
    else nodes[L->parent].right = k;
  }

  *R = *L;
  R->begin = L->begin + nleft;
  R->g = L->g - s.lg;
  R->h = L->h - s.lh;
  R->c = L->c - s.lc;
  L->end = L->begin + nleft;
  L->g = s.lg;
  L->h = s.lh;
  L->c = s.lc;
  L->depth++;
  R->depth = L->depth;
  L->parent = R->parent = k;
  L->buf = R->buf = dest;
  L->is_left = 1;
  R->is_left = 0;

  /* Build the smaller child from rows; the larger is parent minus it. */
  if (L->end - L->begin <= R->end - R->begin) {
    fc__gbdt_build_hist(t, L, fresh);
    fc__gbdt_subtract_hist(t, parent, fresh);
    L->hist = fresh;
    R->hist = parent;
  } else {
    fc__gbdt_build_hist(t, R, fresh);
    fc__gbdt_subtract_hist(t, parent, fresh);
    R->hist = fresh;
    L->hist = parent;
  }
  fc__gbdt_find_best(t, L);
  fc__gbdt_find_best(t, R);
}

static void choose_features(trainer *t) {
  int k = t->nusable;
  memcpy(t->feats, t->usable, (size_t)k * sizeof *t->feats);
  if (t->p.feature_fraction < 1.0) {
    int want = (int)(t->p.feature_fraction * t->nusable + 0.5);
    if (want < 1) want = 1;
    for (int i = 0; i < want; i++) { /* partial Fisher-Yates */
      int j = i + (int)fc_rng_below(&t->rng, (uint64_t)(k - i));
      int tmp = t->feats[i];
      t->feats[i] = t->feats[j];
      t->feats[j] = tmp;
    }
    k = want;
    for (int i = 1; i < k; i++) /* ascending, so histogram order is fixed */
      for (int j = i; j > 0 && t->feats[j - 1] > t->feats[j]; j--) {
        int tmp = t->feats[j];
        t->feats[j] = t->feats[j - 1];
        t->feats[j - 1] = tmp;
      }
  }
  t->nfeats = k;
  for (int i = 0; i < k; i++) t->foff[i] = t->off[t->feats[i]];
}

typedef struct score_job {
  int nl;
  const double *values; /* the tree's leaf values */
} score_job;

enum { SCORE_CHUNKS = 64 };

/* Adds each leaf's value to the scores of its rows at positions in chunks
 * [k0, k1) of SCORE_CHUNKS; every row gets exactly one add. */
static void add_leaf_values(trainer *t, int k0, int k1, void *arg) {
  const score_job *sj = arg;
  size_t p0 = t->nbag * (size_t)k0 / SCORE_CHUNKS, p1 = t->nbag * (size_t)k1 / SCORE_CHUNKS;
  for (int i = 0; i < sj->nl; i++) {
    const leaf_state *L = &t->leaves[i];
    const uint32_t *rows = fc__gbdt_leaf_rows(t, L);
    size_t a = FC__MAX(L->begin, p0), b = FC__MIN(L->end, p1);
    for (size_t j = a; j < b; j++) t->score[rows[j]] += sj->values[i];
  }
}

/* Grows one tree into m (as tree m->ntrees) and adds it to the scores. */
int fc__gbdt_grow_tree(trainer *t, fc_gbdt *m) {
  const fc_gbdt_params *p = &t->p;
  int nl = 1, nnodes = 0;
  leaf_state *root = &t->leaves[0];
  size_t lb;
  if (fc__gbdt_reserve(m, (size_t)p->num_leaves - 1, (size_t)p->num_leaves, (size_t)p->num_leaves - 1) != FC_OK)
    return FC_ENOMEM;
  choose_features(t);
  memset(root, 0, sizeof *root);
  root->begin = 0;
  root->end = t->nbag;
  root->parent = -1;
  root->buf = -1;
  root->hist = t->pool[0];
  for (size_t i = 0; i < t->nbag; i++) {
    uint32_t r = t->idx[i];
    root->g += t->grad[r];
    root->h += t->hess[r];
  }
  root->c = (double)t->nbag;
  fc__gbdt_build_hist(t, root, root->hist);
  fc__gbdt_find_best(t, root);
  while (nl < p->num_leaves) {
    int pick = -1;
    for (int i = 0; i < nl; i++)
      if (t->leaves[i].best.feat >= 0 && (pick < 0 || t->leaves[i].best.gain > t->leaves[pick].best.gain)) pick = i;
    if (pick < 0) break;
    split_leaf(t, m, pick, nl, nnodes);
    nnodes++;
    nl++;
  }
  lb = m->leaf_begin[m->ntrees];
  for (int i = 0; i < nl; i++) {
    leaf_state *L = &t->leaves[i];
    double v = fc__gbdt_leaf_output(p, L->g, L->h);
    if (p->objective == FC_GBDT_L1 || p->objective == FC_GBDT_QUANTILE)
      v = refit_leaf(t, L, p->objective == FC_GBDT_L1 ? 0.5 : p->alpha);
    m->leaf_value[lb + (size_t)i] = p->learning_rate * v;
    m->leaf_count[lb + (size_t)i] = L->c;
  }
  m->node_begin[m->ntrees + 1] = m->node_begin[m->ntrees] + (uint32_t)nnodes;
  m->leaf_begin[m->ntrees + 1] = m->leaf_begin[m->ntrees] + (uint32_t)nl;
  m->ntrees++;
  /* In-bag rows take their leaf's value directly; out-of-bag rows walk the tree. */
  {
    score_job sj;
    sj.nl = nl;
    sj.values = m->leaf_value + lb;
    fc__gbdt_parallel_for(t, SCORE_CHUNKS, (double)t->nbag, add_leaf_values, &sj);
  }
  if (t->inbag)
    for (size_t r = 0; r < t->n; r++)
      if (!t->inbag[r]) t->score[r] += fc__gbdt_tree_value(m, m->ntrees - 1, t->d->x + r * t->F);
  return FC_OK;
}

/* Sets this round's rows in ascending order (a tree's partitions permute
 * idx): every row without bagging; with bagging, a fresh Bernoulli draw with
 * bagging_fraction when redraw is set, else the previous round's rows. */
void fc__gbdt_set_rows(trainer *t, int redraw) {
  t->nbag = 0;
  if (t->inbag == NULL) {
    for (size_t r = 0; r < t->n; r++) t->idx[r] = (uint32_t)r;
    t->nbag = t->n;
    return;
  }
  for (size_t r = 0; r < t->n; r++) {
    if (redraw) t->inbag[r] = fc_rng_uniform(&t->rng) < t->p.bagging_fraction;
    if (t->inbag[r]) t->idx[t->nbag++] = (uint32_t)r;
  }
  if (t->nbag == 0) { /* keep at least one row */
    t->inbag[0] = 1;
    t->idx[t->nbag++] = 0;
  }
}
