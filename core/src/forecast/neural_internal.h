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

#if defined(__GNUC__) || defined(__clang__)
/* Eight floats as one value (the GCC/Clang vector extension): one AVX2
 * register, two SSE ones, eight scalars in WASM without SIMD. Only
 * element-wise arithmetic is done on it, so the bits are the same on each. */
typedef float fc_v8 __attribute__((vector_size(32)));
#define V8_LD(v, p) memcpy(&(v), (p), sizeof(fc_v8))
#define V8_ST(p, v) memcpy((p), &(v), sizeof(fc_v8))

/* One output of one window: bias, then the inputs' terms in input order,
 * skipping zero inputs (as the tiles do, so every element is the same sum). */
static inline float dense_one(const float *wt, size_t in, size_t out, const float *x, size_t o) {
  float acc = wt[in * out + o];
  for (size_t i = 0; i < in; i++)
    if (x[i] != 0.0f) acc += x[i] * wt[i * out + o];
  return acc;
}

/* Y (S x out) = X (S x in) W + bias, then ReLU if relu. Four windows by
 * sixteen outputs stay in registers across all the inputs, so each weight
 * row is loaded once per four windows and Y is written once: a few times
 * faster than one axpy per (input, window), and the same sum per element
 * (bias first, inputs in order, zero inputs skipped). */
FC_NEURAL_KERNEL void dense_fwd(const float *wt, size_t in, size_t out, const float *x, size_t S, float *y, int relu) {
  const float *bias = wt + in * out;
  size_t s = 0, o16 = out - out % 16;
  for (; s + 4 <= S; s += 4) {
    const float *xs = x + s * in;
    for (size_t o = 0; o < o16; o += 16) {
      fc_v8 a[4][2], w0, w1;
      V8_LD(w0, bias + o), V8_LD(w1, bias + o + 8);
      for (int k = 0; k < 4; k++) a[k][0] = w0, a[k][1] = w1;
      for (size_t i = 0; i < in; i++) {
        V8_LD(w0, wt + i * out + o), V8_LD(w1, wt + i * out + o + 8);
        for (int k = 0; k < 4; k++) {
          float xi = xs[k * in + i];
          if (xi != 0.0f) a[k][0] += xi * w0, a[k][1] += xi * w1;
        }
      }
      for (int k = 0; k < 4; k++) V8_ST(y + (s + k) * out + o, a[k][0]), V8_ST(y + (s + k) * out + o + 8, a[k][1]);
    }
    for (size_t o = o16; o < out; o++)
      for (size_t k = 0; k < 4; k++) y[(s + k) * out + o] = dense_one(wt, in, out, xs + k * in, o);
  }
  for (; s < S; s++)
    for (size_t o = 0; o < out; o++) y[s * out + o] = dense_one(wt, in, out, x + s * in, o);
  if (relu)
    for (size_t k = 0; k < S * out; k++) y[k] = y[k] > 0.0f ? y[k] : 0.0f;
}

/* Given gY (S x out), adds the weight and bias gradients to g (same layout
 * as wt) and, if gx, adds gY W^T to gx (S x in). The weight gradient in
 * tiles of four rows by sixteen columns held across the windows (each
 * element summed over the windows in order, zero inputs skipped, as one
 * axpy per (row, window) did); gx as dot8 sums it, eight lanes then the
 * lanes in order. */
FC_NEURAL_KERNEL void dense_bwd(const float *wt, size_t in, size_t out, const float *x, size_t S, const float *gy,
                                float *g, float *gx) {
  float *gb = g + in * out;
  size_t i = 0, o16 = out - out % 16, o8 = out - out % 8;
  for (size_t s = 0; s < S; s++) axpy(gb, gy + s * out, 1.0f, out);
  for (; i + 4 <= in; i += 4) {
    for (size_t o = 0; o < o16; o += 16) {
      fc_v8 a[4][2], g0, g1;
      for (int k = 0; k < 4; k++) V8_LD(a[k][0], g + (i + k) * out + o), V8_LD(a[k][1], g + (i + k) * out + o + 8);
      for (size_t s = 0; s < S; s++) {
        const float *xs = x + s * in + i;
        V8_LD(g0, gy + s * out + o), V8_LD(g1, gy + s * out + o + 8);
        for (int k = 0; k < 4; k++)
          if (xs[k] != 0.0f) a[k][0] += xs[k] * g0, a[k][1] += xs[k] * g1;
      }
      for (int k = 0; k < 4; k++) V8_ST(g + (i + k) * out + o, a[k][0]), V8_ST(g + (i + k) * out + o + 8, a[k][1]);
    }
    for (size_t k = 0; k < 4; k++)
      for (size_t s = 0; s < S; s++) {
        float xi = x[s * in + i + k];
        if (xi != 0.0f) axpy(g + (i + k) * out + o16, gy + s * out + o16, xi, out - o16);
      }
  }
  for (; i < in; i++)
    for (size_t s = 0; s < S; s++) {
      float xi = x[s * in + i];
      if (xi != 0.0f) axpy(g + i * out, gy + s * out, xi, out);
    }
  if (gx)
    for (size_t s = 0; s < S; s++)
      for (size_t r = 0; r < in; r++) {
        const float *wr = wt + r * out, *gs = gy + s * out;
        fc_v8 acc = {0, 0, 0, 0, 0, 0, 0, 0}, wv, gv;
        for (size_t o = 0; o < o8; o += 8) {
          V8_LD(wv, wr + o), V8_LD(gv, gs + o);
          acc += wv * gv;
        }
        for (size_t o = o8, k = 0; o < out; o++, k++) acc[k] += wr[o] * gs[o];
        gx[s * in + r] += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      }
}
#else
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

#endif

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
