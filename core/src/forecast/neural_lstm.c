/* neural_lstm.c: the LSTM encoder of FC_NEURAL_LSTM (neural.h), built for a
 * comparison with the N-BEATS stack (docs/benchmarks.md) on the same windows, loss,
 * training loop and byte format (neural.c runs both).
 *
 * The normalised window of L values is read P at a time (a day of hours a
 * step for hourly data), T = L / P steps of one LSTM layer of Hd cells:
 *   z = x_t Wx + b + h_{t-1} Wh,  i f o = sigmoid, g = tanh (z's quarters)
 *   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
 * and the last state h_T goes through the same linear quantile head as a
 * block's forecast head. Reading patches rather than single hours keeps
 * the recurrence to 7 steps for a weekly window: 168 dependent steps per
 * window would cost about 24x the work of a block stack of the same width.
 *
 * Weights of one member: Wx transposed with its bias ((P + 1) x 4Hd, the
 * gates in the order i, f, g, o), Wh transposed (Hd x 4Hd), the head
 * ((Hd + 1) x H*Q). The sums use the dense kernels of neural_internal.h
 * (fixed order) and the gates fc__dexp (same bits natively and in WASM),
 * so training keeps neural.c's determinism across thread counts and
 * builds. */
#include <math.h>

#include "detmath.h"
#include "internal.h"
#include "neural_internal.h"

struct lstm_ws {
  size_t S, T;
  float *xp;      /* T x S x P: the window's patches */
  float *gate;    /* T x S x 4Hd: gates after their activations */
  float *c, *h;   /* (T + 1) x S x Hd; step 0 is zeros */
  float *tc;      /* T x S x Hd: tanh(c_t) */
  float *dz;      /* S x 4Hd */
  float *dh, *dc; /* S x Hd */
};

size_t fc__lstm_nparams(const fc_neural_params *p, size_t hq) {
  size_t G = 4 * p->hidden;
  return (p->patch + 1) * G + p->hidden * G + (p->hidden + 1) * hq;
}

int fc__lstm_check(const fc_neural_params *p, const char **why) {
  if (p->patch < 1 || p->patch > p->input || p->input % p->patch) {
    *why = "neural: the LSTM's input must be a positive multiple of its patch";
    return 1;
  }
  return 0;
}

static size_t off_wh(const fc_neural_params *p) { return (p->patch + 1) * 4 * p->hidden; }
static size_t off_head(const fc_neural_params *p) { return off_wh(p) + p->hidden * 4 * p->hidden; }

/* Uniform(-1/sqrt(Hd), 1/sqrt(Hd)) for the recurrence (the usual LSTM
 * start), forget-gate biases 1 so early training keeps the state; the
 * head as a block's: a tenth of sqrt(3 / Hd), biases 0. */
void fc__lstm_init(float *w, const fc_neural_params *p, size_t hq, fc_rng *r) {
  size_t Hd = p->hidden, G = 4 * Hd, head = off_head(p);
  double a = 1.0 / sqrt((double)Hd), ah = 0.1 * sqrt(3.0 / (double)Hd);
  memset(w, 0, fc__lstm_nparams(p, hq) * sizeof *w);
  for (size_t i = 0; i < p->patch * G; i++) w[i] = (float)(a * (2.0 * fc_rng_uniform(r) - 1.0));
  for (size_t k = 0; k < Hd; k++) w[p->patch * G + Hd + k] = 1.0f;
  for (size_t i = 0; i < Hd * G; i++) w[off_wh(p) + i] = (float)(a * (2.0 * fc_rng_uniform(r) - 1.0));
  for (size_t i = 0; i < Hd * hq; i++) w[head + i] = (float)(ah * (2.0 * fc_rng_uniform(r) - 1.0));
}

void fc__lstm_ws_free(lstm_ws *ws) {
  if (ws == NULL) return;
  fc__free(ws->xp);
  fc__free(ws->gate);
  fc__free(ws->c);
  fc__free(ws->h);
  fc__free(ws->tc);
  fc__free(ws->dz);
  fc__free(ws->dh);
  fc__free(ws->dc);
  fc__free(ws);
}

lstm_ws *fc__lstm_ws_new(const fc_neural_params *p, size_t S) {
  lstm_ws *ws = fc__calloc(1, sizeof *ws);
  size_t Hd = p->hidden, T = p->input / p->patch;
  if (ws == NULL) return NULL;
  ws->S = S;
  ws->T = T;
  ws->xp = fc__mallocarray(T * S, p->patch * sizeof(float));
  ws->gate = fc__mallocarray(T * S, 4 * Hd * sizeof(float));
  ws->c = fc__calloc((T + 1) * S * Hd, sizeof(float));
  ws->h = fc__calloc((T + 1) * S * Hd, sizeof(float));
  ws->tc = fc__mallocarray(T * S, Hd * sizeof(float));
  ws->dz = fc__mallocarray(S, 4 * Hd * sizeof(float));
  ws->dh = fc__mallocarray(S, Hd * sizeof(float));
  ws->dc = fc__mallocarray(S, Hd * sizeof(float));
  if (!ws->xp || !ws->gate || !ws->c || !ws->h || !ws->tc || !ws->dz || !ws->dh || !ws->dc) {
    fc__lstm_ws_free(ws);
    return NULL;
  }
  return ws;
}

static float sigmoid(float x) { return (float)(1.0 / (1.0 + fc__dexp(-(double)x))); }
static float tanh_d(float x) { return (float)(2.0 / (1.0 + fc__dexp(-2.0 * (double)x)) - 1.0); }

/* Step t's gates from the patch and the previous state, then the state. */
static void step_fwd(const fc_neural *m, lstm_ws *ws, size_t t, size_t S) {
  size_t Hd = m->p.hidden, G = 4 * Hd, P = m->p.patch;
  const float *wh = m->w + off_wh(&m->p), *hp = ws->h + t * S * Hd, *cp = ws->c + t * S * Hd;
  float *z = ws->gate + t * S * G, *hn = ws->h + (t + 1) * S * Hd, *cn = ws->c + (t + 1) * S * Hd;
  float *tc = ws->tc + t * S * Hd;
  dense_fwd(m->w, P, G, ws->xp + t * S * P, S, z, 0);
  for (size_t i = 0; i < Hd; i++)
    for (size_t s = 0; s < S; s++) {
      float hv = hp[s * Hd + i];
      if (hv != 0.0f) axpy(z + s * G, wh + i * G, hv, G);
    }
  for (size_t s = 0; s < S; s++) {
    float *zs = z + s * G;
    for (size_t k = 0; k < Hd; k++) {
      float ig = sigmoid(zs[k]), fg = sigmoid(zs[Hd + k]), gg = tanh_d(zs[2 * Hd + k]);
      float og = sigmoid(zs[3 * Hd + k]), c = fg * cp[s * Hd + k] + ig * gg;
      zs[k] = ig, zs[Hd + k] = fg, zs[2 * Hd + k] = gg, zs[3 * Hd + k] = og;
      cn[s * Hd + k] = c;
      tc[s * Hd + k] = tanh_d(c);
      hn[s * Hd + k] = og * tc[s * Hd + k];
    }
  }
}

void fc__lstm_forward(const fc_neural *m, lstm_ws *ws, const float *x, size_t S, float *out) {
  size_t L = m->p.input, P = m->p.patch, T = ws->T, Hd = m->p.hidden;
  for (size_t t = 0; t < T; t++)
    for (size_t s = 0; s < S; s++) memcpy(ws->xp + (t * S + s) * P, x + s * L + t * P, P * sizeof *x);
  memset(ws->h, 0, S * Hd * sizeof *ws->h); /* h_0 = c_0 = 0 */
  memset(ws->c, 0, S * Hd * sizeof *ws->c);
  for (size_t t = 0; t < T; t++) step_fwd(m, ws, t, S);
  dense_fwd(m->w + off_head(&m->p), Hd, m->hq, ws->h + T * S * Hd, S, out, 0);
}

/* Back through step t: dh, dc hold the gradients of h_{t+1}, c_{t+1} and
 * leave with those of h_t, c_t; the weight gradients go into grad. */
static void step_bwd(const fc_neural *m, lstm_ws *ws, size_t t, size_t S, float *grad) {
  size_t Hd = m->p.hidden, G = 4 * Hd, P = m->p.patch;
  const float *wh = m->w + off_wh(&m->p), *z = ws->gate + t * S * G, *cp = ws->c + t * S * Hd;
  const float *tc = ws->tc + t * S * Hd, *hp = ws->h + t * S * Hd;
  float *gwh = grad + off_wh(&m->p);
  for (size_t s = 0; s < S; s++) {
    const float *zs = z + s * G;
    float *d = ws->dz + s * G;
    for (size_t k = 0; k < Hd; k++) {
      float ig = zs[k], fg = zs[Hd + k], gg = zs[2 * Hd + k], og = zs[3 * Hd + k];
      float th = tc[s * Hd + k], dh = ws->dh[s * Hd + k];
      float dc = ws->dc[s * Hd + k] + dh * og * (1.0f - th * th);
      d[k] = dc * gg * ig * (1.0f - ig);
      d[Hd + k] = dc * cp[s * Hd + k] * fg * (1.0f - fg);
      d[2 * Hd + k] = dc * ig * (1.0f - gg * gg);
      d[3 * Hd + k] = dh * th * og * (1.0f - og);
      ws->dc[s * Hd + k] = dc * fg;
    }
  }
  dense_bwd(m->w, P, G, ws->xp + t * S * P, S, ws->dz, grad, NULL);
  for (size_t i = 0; i < Hd; i++)
    for (size_t s = 0; s < S; s++) {
      float hv = hp[s * Hd + i];
      if (hv != 0.0f) axpy(gwh + i * G, ws->dz + s * G, hv, G);
    }
  for (size_t s = 0; s < S; s++)
    for (size_t i = 0; i < Hd; i++) ws->dh[s * Hd + i] = dot8(wh + i * G, ws->dz + s * G, G);
}

void fc__lstm_backward(const fc_neural *m, lstm_ws *ws, size_t S, const float *gout, float *grad) {
  size_t Hd = m->p.hidden, T = ws->T, head = off_head(&m->p);
  memset(ws->dh, 0, S * Hd * sizeof *ws->dh);
  memset(ws->dc, 0, S * Hd * sizeof *ws->dc);
  dense_bwd(m->w + head, Hd, m->hq, ws->h + T * S * Hd, S, gout, grad + head, ws->dh);
  for (size_t t = T; t-- > 0;) step_bwd(m, ws, t, S, grad);
}
