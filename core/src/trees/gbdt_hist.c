/* gbdt_hist.c: gradient histograms of a leaf (by row chunks or by feature;
 * the larger child as parent minus the smaller) and the best split of a
 * leaf, numeric and categorical
 */
#include "fc/gbdt.h"
#include "gbdt_train.h"
#include "internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------- histograms */

/* The row numbers of L's positions. */
const uint32_t *fc__gbdt_leaf_rows(const trainer *t, const leaf_state *L) {
  return L->buf < 0 ? t->idx : t->oi[L->buf];
}

/* Chunk c of nch equal position ranges of L. */
static void chunk_of(const leaf_state *L, int nch, int c, size_t *a, size_t *b) {
  size_t m = L->end - L->begin;
  *a = L->begin + m * (size_t)c / (size_t)nch;
  *b = L->begin + m * (size_t)(c + 1) / (size_t)nch;
}

typedef struct hist_job {
  const leaf_state *L;
  hbin *hist;
  int nchunks;
  hbin *part[HIST_MAX_CHUNKS]; /* chunk histograms; part[0] is hist */
} hist_job;

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* A deep leaf's rows are sparse in memory: fetch this far ahead. */
enum { AHEAD = 16 };

#if defined(__GNUC__) || defined(__clang__)
/* Two doubles added lane by lane: the same IEEE sums as two scalar adds, in
 * one instruction where the target has 128-bit vectors. */
typedef double v2d __attribute__((vector_size(16), aligned(8)));
#define ADD_PAIR(e, a, b)                \
  do {                                   \
    v2d *pair_ = (v2d *)(void *)&(e)->g; \
    *pair_ += (v2d){(a), (b)};           \
  } while (0)
#else
#define ADD_PAIR(e, a, b) ((e)->g += (a), (e)->h += (b))
#endif

/* Adds one row's gradient pair to features feats[k0..k1) of hist. With a
 * constant hessian of 1 (l2, l1, huber, quantile) h accumulates the row
 * count and hist_features copies it into c: the same sums, one add fewer. */
static inline void hist_row(const trainer *t, hbin *hist, const uint8_t *row, double g, double h, int k0, int k1) {
  const int *fl = t->feats;
  const size_t *foff = t->foff;
  if (t->unit_hessian) {
    for (int k = k0; k < k1; k++) ADD_PAIR(hist + foff[k] + row[fl[k]], g, 1.0);
  } else {
    for (int k = k0; k < k1; k++) {
      hbin *e = hist + foff[k] + row[fl[k]];
      ADD_PAIR(e, g, h);
      e->c += 1.0;
    }
  }
}

/* Histogram of features feats[k0..k1) over positions [a, b) of the
 * leaf's rows, in ascending row order, into zeroed bins of hist. */
static void hist_rows(trainer *t, const leaf_state *L, size_t a, size_t b, hbin *hist, int k0, int k1) {
  const uint32_t *idx = fc__gbdt_leaf_rows(t, L);
  size_t F = t->F;
  if (t->unit_hessian && k0 == 0 && k1 == t->nfeats && (size_t)t->nfeats == F) {
    /* Every feature (feats[k] == k): the common case, one load fewer per bin. */
    const size_t *foff = t->foff;
    for (size_t i = a; i < b; i++) {
      uint32_t r = idx[i];
      const uint8_t *row = t->bins + (size_t)r * F;
      double g = t->grad[r];
      if (i + AHEAD < b) {
        PREFETCH(t->bins + (size_t)idx[i + AHEAD] * F);
        PREFETCH(&t->grad[idx[i + AHEAD]]);
      }
      for (size_t k = 0; k < F; k++) ADD_PAIR(hist + foff[k] + row[k], g, 1.0);
    }
    return;
  }
  for (size_t i = a; i < b; i++) {
    uint32_t r = idx[i];
    if (i + AHEAD < b) {
      PREFETCH(t->bins + (size_t)idx[i + AHEAD] * F);
      PREFETCH(&t->grad[idx[i + AHEAD]]);
    }
    hist_row(t, hist, t->bins + (size_t)r * F, t->grad[r], t->unit_hessian ? 1.0 : t->hess[r], k0, k1);
  }
}

static void zero_hist(const trainer *t, hbin *hist, int k0, int k1) {
  for (int k = k0; k < k1; k++) memset(hist + t->foff[k], 0, ((size_t)t->nvb[t->feats[k]] + 1) * sizeof *hist);
}

/* With unit hessians h holds the count: copy it into c. */
static void finish_hist(const trainer *t, hbin *hist, int k0, int k1) {
  if (!t->unit_hessian) return;
  for (int k = k0; k < k1; k++) {
    hbin *e = hist + t->foff[k];
    for (int b = 0; b <= t->nvb[t->feats[k]]; b++) e[b].c = e[b].h;
  }
}

/* Small leaves: features feats[k0..k1), all rows, one pass. */
static void hist_features(trainer *t, int k0, int k1, void *arg) {
  const hist_job *hj = arg;
  zero_hist(t, hj->hist, k0, k1);
  hist_rows(t, hj->L, hj->L->begin, hj->L->end, hj->hist, k0, k1);
  finish_hist(t, hj->hist, k0, k1);
}

/* Large leaves: row chunks [c0, c1) of hj->nchunks, chunk c into part[c]. */
static void hist_chunks(trainer *t, int c0, int c1, void *arg) {
  const hist_job *hj = arg;
  for (int c = c0; c < c1; c++) {
    size_t a, b;
    chunk_of(hj->L, hj->nchunks, c, &a, &b);
    zero_hist(t, hj->part[c], 0, t->nfeats);
    hist_rows(t, hj->L, a, b, hj->part[c], 0, t->nfeats);
  }
}

/* Sums the chunk histograms into part[0] in chunk order, features [k0, k1). */
static void hist_reduce(trainer *t, int k0, int k1, void *arg) {
  const hist_job *hj = arg;
  hbin *out = hj->part[0];
  for (int k = k0; k < k1; k++) {
    size_t o = t->foff[k], nb = (size_t)t->nvb[t->feats[k]] + 1;
    for (int c = 1; c < hj->nchunks; c++) {
      const hbin *in = hj->part[c] + o;
      for (size_t b = 0; b < nb; b++) {
        ADD_PAIR(out + o + b, in[b].g, in[b].h);
        out[o + b].c += in[b].c;
      }
    }
  }
  finish_hist(t, out, k0, k1);
}

/* A leaf of at least 2 * HIST_CHUNK rows is summed in nchunks =
 * min(HIST_MAX_CHUNKS, 2^floor(log2(rows / HIST_CHUNK))) equal row chunks
 * whose histograms are then added in chunk order; smaller leaves in one
 * pass split by feature. The choice depends on the row count alone, never
 * on the thread count, so every thread count gives the same sums; chunks
 * spare each thread from gathering every row of a large leaf. */
void fc__gbdt_build_hist(trainer *t, const leaf_state *L, hbin *hist) {
  hist_job hj;
  size_t m = L->end - L->begin;
  hj.L = L;
  hj.hist = hist;
  hj.nchunks = 1;
  while (hj.nchunks < HIST_MAX_CHUNKS && m >= (size_t)2 * hj.nchunks * HIST_CHUNK) hj.nchunks *= 2;
  if (hj.nchunks == 1) {
    fc__gbdt_parallel_for(t, t->nfeats, (double)m * t->nfeats, hist_features, &hj);
    return;
  }
  hj.part[0] = hist;
  for (int c = 1; c < hj.nchunks; c++) hj.part[c] = t->chunk_hist[c - 1];
  fc__gbdt_parallel_for(t, hj.nchunks, (double)m * t->nfeats, hist_chunks, &hj);
  fc__gbdt_parallel_for(t, t->nfeats, (double)hj.nchunks * (double)t->total_bins, hist_reduce, &hj);
}

void fc__gbdt_subtract_hist(const trainer *t, hbin *parent, const hbin *child) {
  for (int k = 0; k < t->nfeats; k++) {
    int f = t->feats[k];
    hbin *a = parent + t->off[f];
    const hbin *b = child + t->off[f];
    for (int i = 0; i <= t->nvb[f]; i++) {
      a[i].g -= b[i].g;
      a[i].h -= b[i].h;
      a[i].c -= b[i].c;
    }
  }
}

/* ---------------------------------------------------- split finding */

static double soft(double g, double l1) { return g > l1 ? g - l1 : (g < -l1 ? g + l1 : 0.0); }

static double leaf_score(const fc_gbdt_params *p, double g, double h) {
  double s = soft(g, p->lambda_l1);
  return s * s / (h + p->lambda_l2);
}

double fc__gbdt_leaf_output(const fc_gbdt_params *p, double g, double h) {
  return -soft(g, p->lambda_l1) / (h + p->lambda_l2);
}

static int admissible(const fc_gbdt_params *p, double c, double h) {
  return c >= p->min_data_in_leaf && h >= p->min_sum_hessian_in_leaf;
}

static void scan_numeric(const trainer *t, const leaf_state *L, int f, const hbin *h, split_info *best) {
  const fc_gbdt_params *p = &t->p;
  int nv = t->nvb[f];
  const hbin *miss = &h[nv];
  double sp = leaf_score(p, L->g, L->h);
  for (int dir = 0; dir < 2; dir++) { /* 0: missing goes right, 1: left */
    double gl = 0, hl = 0, cl = 0;
    if (dir == 1) {
      if (miss->c == 0) break;
      gl = miss->g;
      hl = miss->h;
      cl = miss->c;
    }
    for (int b = 0; b < nv; b++) {
      double gr, hr, cr, gain;
      gl += h[b].g;
      hl += h[b].h;
      cl += h[b].c;
      if (h[b].c == 0 || !admissible(p, cl, hl)) continue;
      gr = L->g - gl;
      hr = L->h - hl;
      cr = L->c - cl;
      if (!admissible(p, cr, hr)) break;
      gain = leaf_score(p, gl, hl) + leaf_score(p, gr, hr) - sp;
      if (gain > best->gain) {
        best->gain = gain;
        best->feat = f;
        best->bin = b;
        best->is_cat = 0;
        best->default_left = miss->c > 0 ? dir : cl >= cr;
        best->lg = gl;
        best->lh = hl;
        best->lc = cl;
      }
    }
  }
}

typedef struct cat_key {
  double key;
  int bin;
} cat_key;

static int cmp_cat(const void *a, const void *b) {
  const cat_key *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->bin - y->bin;
}

/* LightGBM-style: categories ordered by g / (h + cat_smooth); the best
 * prefix of that order (from either end, at most 32 categories) goes left,
 * missing and unseen categories go right. */
static void scan_categorical(const trainer *t, const leaf_state *L, int f, const hbin *h, split_info *best) {
  const fc_gbdt_params *p = &t->p;
  cat_key keys[256];
  int nk = 0, nv = t->nvb[f];
  double sp = leaf_score(p, L->g, L->h);
  for (int b = 0; b < nv; b++)
    if (h[b].c > 0) {
      keys[nk].key = h[b].g / (h[b].h + p->cat_smooth);
      keys[nk++].bin = b;
    }
  if (nk < 2) return;
  qsort(keys, (size_t)nk, sizeof keys[0], cmp_cat);
  for (int dir = 0; dir < 2; dir++) {
    double gl = 0, hl = 0, cl = 0;
    for (int i = 0; i < nk - 1 && i < 32; i++) {
      int b = keys[dir ? nk - 1 - i : i].bin;
      double gr, hr, cr, gain;
      gl += h[b].g;
      hl += h[b].h;
      cl += h[b].c;
      if (!admissible(p, cl, hl)) continue;
      gr = L->g - gl;
      hr = L->h - hl;
      cr = L->c - cl;
      if (!admissible(p, cr, hr)) break;
      gain = leaf_score(p, gl, hl) + leaf_score(p, gr, hr) - sp;
      if (gain > best->gain) {
        best->gain = gain;
        best->feat = f;
        best->is_cat = 1;
        best->default_left = 0;
        best->lg = gl;
        best->lh = hl;
        best->lc = cl;
        memset(best->bits, 0, sizeof best->bits);
        for (int j = 0; j <= i; j++) {
          int c = keys[dir ? nk - 1 - j : j].bin;
          best->bits[c >> 6] |= (uint64_t)1 << (c & 63);
        }
      }
    }
  }
}

void fc__gbdt_find_best(const trainer *t, leaf_state *L) {
  const fc_gbdt_params *p = &t->p;
  L->best.feat = -1;
  L->best.gain = p->min_gain_to_split > 0 ? p->min_gain_to_split : 0.0;
  if (p->max_depth > 0 && L->depth >= p->max_depth) return;
  if (L->c < 2.0 * p->min_data_in_leaf) return;
  for (int k = 0; k < t->nfeats; k++) {
    int f = t->feats[k];
    if (t->d->is_cat[f]) scan_categorical(t, L, f, L->hist + t->off[f], &L->best);
    else scan_numeric(t, L, f, L->hist + t->off[f], &L->best);
  }
}
