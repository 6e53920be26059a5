/* neural_internal.h: what neural.c (the N-BEATS stack, training,
 * bytes) and neural_lstm.c (the LSTM encoder of FC_NEURAL_LSTM) share: the
 * net, a chunk's workspace and the dense kernels. */
#ifndef FC_NEURAL_INTERNAL_H
#define FC_NEURAL_INTERNAL_H

#include <string.h>

#include "fc/neural.h"
#include "fc/rng.h"

typedef struct lstm_ws lstm_ws;

typedef struct workspace {
  float *x;        /* (blocks + 1) x S x L: each block's input window */
  float *h;        /* blocks x layers x S x hidden: ReLU outputs */
  float *out;      /* S x HQ: summed forecast heads */
  float *t;        /* S x H: targets */
  float *gx, *gx2; /* S x L */
  float *gh, *gh2; /* S x hidden */
  float *gout;     /* S x HQ */
  float *grad;     /* nparams (training chunks only) */
  size_t *cal;     /* S x 2: the calendar categories of each window (calendar inputs only) */
  lstm_ws *lstm;   /* FC_NEURAL_LSTM: the recurrence's states */
  double loss;
} workspace;

struct fc_neural {
  fc_neural_params p;
  size_t nparams, hq; /* nparams: one member's weights */
  float *w;           /* p.members x nparams; the passes read the first */
  size_t used, steps, best_step;
};

/* A view of member k: the same net reading that member's weights. */
static inline fc_neural member_view(const fc_neural *m, size_t k) {
  fc_neural v = *m;
  v.w = m->w + k * m->nparams;
  return v;
}

/* ---- kernels ---- */

/* The dense kernels inlined at every call, as GCC chose before the
 * calendar inputs grew neural.c past its inlining budget: out of line,
 * training took 12 % more CPU (interleaved A/B runs, docs/benchmarks.md).
 * Inlining does not change the order of any sum, so the bytes are the same. */
#if defined(__GNUC__)
#define FC_NEURAL_KERNEL static inline __attribute__((always_inline))
#else
#define FC_NEURAL_KERNEL static inline
#endif

/* The passes that hold the dense kernels, compiled twice on x86-64: for
 * the baseline ISA and for AVX2, chosen once at load by the CPU (GCC's
 * target_clones). The kernels' sums are element-wise or in fixed lanes and
 * this is ISO C (-ffp-contract=off, and AVX2 without FMA), so eight lanes
 * instead of four change the speed, not one bit of any result: native and
 * WASM still agree. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#define FC_NEURAL_WIDE __attribute__((target_clones("avx2", "default")))
#else
#define FC_NEURAL_WIDE
#endif

static inline void axpy(float *y, const float *x, float a, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* Dot product in eight fixed lanes, then the lanes in order: the same sum
 * whether or not the compiler vectorises it. */
static inline float dot8(const float *a, const float *b, size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
  for (int k = 0; i < n; i++, k++) acc[k] += a[i] * b[i];
  s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  return s;
}

/* Y (S x out) = X (S x in) W + bias, then ReLU if relu. */
FC_NEURAL_KERNEL void dense_fwd(const float *wt, size_t in, size_t out, const float *x, size_t S, float *y, int relu) {
  const float *bias = wt + in * out;
  for (size_t s = 0; s < S; s++) memcpy(y + s * out, bias, out * sizeof *y);
  for (size_t i = 0; i < in; i++)
    for (size_t s = 0; s < S; s++) {
      float xi = x[s * in + i];
      if (xi != 0.0f) axpy(y + s * out, wt + i * out, xi, out);
    }
  if (relu)
    for (size_t k = 0; k < S * out; k++) y[k] = y[k] > 0.0f ? y[k] : 0.0f;
}

/* Given gY (S x out), adds the weight and bias gradients to g (same layout
 * as wt) and, if gx, adds gY W^T to gx (S x in). */
FC_NEURAL_KERNEL void dense_bwd(const float *wt, size_t in, size_t out, const float *x, size_t S, const float *gy,
                                float *g, float *gx) {
  float *gb = g + in * out;
  for (size_t s = 0; s < S; s++) axpy(gb, gy + s * out, 1.0f, out);
  for (size_t i = 0; i < in; i++)
    for (size_t s = 0; s < S; s++) {
      float xi = x[s * in + i];
      if (xi != 0.0f) axpy(g + i * out, gy + s * out, xi, out);
    }
  if (gx)
    for (size_t s = 0; s < S; s++)
      for (size_t i = 0; i < in; i++) gx[s * in + i] += dot8(wt + i * out, gy + s * out, out);
}

/* ---- the LSTM (neural_lstm.c) ---- */

/* Weights of one LSTM member; FC_EINVAL text in *why when the shape is not
 * one (input not a multiple of patch). */
size_t fc__lstm_nparams(const fc_neural_params *p, size_t hq);
int fc__lstm_check(const fc_neural_params *p, const char **why);
void fc__lstm_init(float *w, const fc_neural_params *p, size_t hq, fc_rng *r);
lstm_ws *fc__lstm_ws_new(const fc_neural_params *p, size_t S);
void fc__lstm_ws_free(lstm_ws *ws);
/* x: S x input normalised windows; writes out (S x hq). */
void fc__lstm_forward(const fc_neural *m, lstm_ws *ws, const float *x, size_t S, float *out);
/* gout: S x hq; adds the weight gradient to grad. */
void fc__lstm_backward(const fc_neural *m, lstm_ws *ws, size_t S, const float *gout, float *grad);

#endif /* FC_NEURAL_INTERNAL_H */
