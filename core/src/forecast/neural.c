/* neural.c: the N-BEATS-style global forecaster (neural.h).
 *
 * Weights live in one float array: per block, per layer the transposed
 * weight matrix WT (in x out, row i = the weights leaving input i) then the
 * bias; then the backcast head (hidden x L, bias L) and the forecast head
 * (hidden x H*Q, bias H*Q). The transposed layout makes the forward pass
 * and the weight gradient axpy loops over the output, and the input
 * gradient a dot product summed in eight fixed lanes: both vectorise
 * without reassociating a sum, so every build adds in the same order.
 *
 * A batch is processed in chunks of p.chunk windows, each chunk on its own
 * workspace and gradient buffer; buffers are added in chunk order. */
#include "fc/neural.h"

#include <math.h>
#include <string.h>

#include "fc/rng.h"
#include "internal.h"
#include "neural_internal.h"

static const double quantile_levels[FC_NEURAL_NQ] = {0.5, 0.1, 0.9, 0.025, 0.975};

const double *fc_neural_quantiles(void) { return quantile_levels; }

fc_neural_params fc_neural_defaults(void) {
  fc_neural_params p;
  memset(&p, 0, sizeof p);
  p.input = 168;
  p.horizon = 48;
  p.blocks = 3;
  p.layers = 2;
  p.hidden = 128;
  p.batch = 256;
  p.chunk = 16;
  p.steps = 2000;
  p.eval_every = 100;
  p.patience = 4;
  p.lr = 1e-3;
  p.clip = 1.0;
  p.seed = 42;
  p.members = 2;
  p.arch = FC_NEURAL_NBEATS;
  p.patch = 24;
  p.calendar = FC_NEURAL_CAL_NONE;
  p.cal_periods[0] = 24;
  p.cal_periods[1] = 168;
  return p;
}

/* ---- shape ---- */

static size_t layer_in(const fc_neural_params *p, size_t l) { return l == 0 ? p->input : p->hidden; }

/* One-hot categories of the calendar inputs: P1 + P2 / P1, or none. */
static size_t ncat(const fc_neural_params *p) {
  return p->calendar ? p->cal_periods[0] + p->cal_periods[1] / p->cal_periods[0] : 0;
}

static size_t block_size(const fc_neural_params *p, size_t hq) {
  size_t s = 0;
  for (size_t l = 0; l < p->layers; l++) s += (layer_in(p, l) + 1) * p->hidden;
  return s + (p->hidden + 1) * p->input + (p->hidden + 1) * hq + ncat(p) * p->hidden;
}

/* Offsets inside block b: layer l's WT, the backcast head, the forecast head. */
static size_t off_layer(const fc_neural *m, size_t b, size_t l) {
  size_t o = b * block_size(&m->p, m->hq);
  for (size_t k = 0; k < l; k++) o += (layer_in(&m->p, k) + 1) * m->p.hidden;
  return o;
}
static size_t off_back(const fc_neural *m, size_t b) { return off_layer(m, b, m->p.layers); }
static size_t off_fore(const fc_neural *m, size_t b) { return off_back(m, b) + (m->p.hidden + 1) * m->p.input; }
/* The calendar categories' rows into the first layer (after the heads, so
 * that a net without them keeps the layout of the nets saved before). */
static size_t off_cal(const fc_neural *m, size_t b) { return off_fore(m, b) + (m->p.hidden + 1) * m->hq; }

static int check_calendar(const fc_neural_params *p, fc_err *err) {
  const size_t *c = p->cal_periods;
  if (p->calendar == FC_NEURAL_CAL_NONE) return FC_OK;
  if (p->calendar != FC_NEURAL_CAL_CLOCK && p->calendar != FC_NEURAL_CAL_PHASE)
    return fc__err(err, FC_EINVAL, "neural: calendar must be FC_NEURAL_CAL_NONE, _CLOCK or _PHASE");
  if (p->arch != FC_NEURAL_NBEATS) return fc__err(err, FC_EINVAL, "neural: calendar inputs are the block stack's");
  if (p->calendar == FC_NEURAL_CAL_CLOCK && (c[0] != 24 || c[1] != 168))
    return fc__err(err, FC_EINVAL, "neural: the clock's calendar periods are 24 and 168 (hours)");
  if (c[0] < 2 || c[1] <= c[0] || c[1] % c[0] || c[1] > 100000)
    return fc__err(err, FC_EINVAL, "neural: calendar periods P1 >= 2, P2 a larger multiple of P1, P2 <= 100000");
  return FC_OK;
}

static int check_params(const fc_neural_params *p, fc_err *err) {
  if (p->input < 2 || p->horizon < 1 || p->blocks < 1 || p->layers < 1 || p->hidden < 1)
    return fc__err(err, FC_EINVAL, "neural: input >= 2, horizon, blocks, layers, hidden >= 1");
  if (p->input > 100000 || p->horizon > 100000 || p->blocks > 64 || p->layers > 64 || p->hidden > 65536)
    return fc__err(err, FC_EINVAL, "neural: shape too large");
  if (p->chunk < 1 || p->batch < p->chunk || p->batch % p->chunk)
    return fc__err(err, FC_EINVAL, "neural: batch must be a positive multiple of chunk");
  if (p->members < 1 || p->members > 64) return fc__err(err, FC_EINVAL, "neural: members in 1..64");
  if (!(p->lr > 0) || !(p->clip >= 0) || p->eval_every < 1)
    return fc__err(err, FC_EINVAL, "neural: lr > 0, clip >= 0, eval_every >= 1");
  if (p->arch != FC_NEURAL_NBEATS && p->arch != FC_NEURAL_LSTM)
    return fc__err(err, FC_EINVAL, "neural: arch must be FC_NEURAL_NBEATS or FC_NEURAL_LSTM");
  if (p->arch == FC_NEURAL_LSTM) {
    const char *why;
    if (fc__lstm_check(p, &why)) return fc__err(err, FC_EINVAL, "%s", why);
  }
  return check_calendar(p, err);
}

/* Weights of one member of either architecture. */
static size_t net_nparams(const fc_neural_params *p, size_t hq) {
  return p->arch == FC_NEURAL_LSTM ? fc__lstm_nparams(p, hq) : p->blocks * block_size(p, hq);
}

static fc_neural *alloc_net(const fc_neural_params *p, fc_err *err) {
  fc_neural *m = fc__calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->p = *p;
  m->hq = p->horizon * FC_NEURAL_NQ;
  m->nparams = net_nparams(p, m->hq);
  m->w = fc__mallocarray(m->nparams * p->members, sizeof *m->w);
  if (m->w == NULL) {
    fc__free(m);
    fc__err(err, FC_ENOMEM, "neural: out of memory");
    return NULL;
  }
  return m;
}

/* Uniform(-a, a) with a = sqrt(6 / fan_in) for the ReLU layers (He), a
 * tenth of sqrt(3 / fan_in) for the heads so the untrained stack starts near
 * the zero forecast (the normalised window's level); biases 0. */
static void init_weights(fc_neural *m, uint64_t seed) {
  fc_rng r;
  const fc_neural_params *p = &m->p;
  fc_rng_seed(&r, seed);
  if (p->arch == FC_NEURAL_LSTM) {
    fc__lstm_init(m->w, p, m->hq, &r);
    return;
  }
  memset(m->w, 0, m->nparams * sizeof *m->w);
  for (size_t b = 0; b < p->blocks; b++) {
    for (size_t l = 0; l <= p->layers + 1; l++) {
      size_t in = l < p->layers ? layer_in(p, l) : p->hidden;
      size_t out = l < p->layers ? p->hidden : (l == p->layers ? p->input : m->hq);
      size_t o = l < p->layers ? off_layer(m, b, l) : (l == p->layers ? off_back(m, b) : off_fore(m, b));
      double a = l < p->layers ? sqrt(6.0 / (double)in) : 0.1 * sqrt(3.0 / (double)in);
      for (size_t i = 0; i < in * out; i++) m->w[o + i] = (float)(a * (2.0 * fc_rng_uniform(&r) - 1.0));
    }
  }
}

/* Member k's seed: the first member keeps p.seed. */
static uint64_t member_seed(const fc_neural_params *p, size_t k) {
  return p->seed + 0x632be59bd9b4e019ull * (uint64_t)k;
}

int fc_neural_create(const fc_neural_params *p, fc_neural **out, fc_err *err) {
  int rc;
  *out = NULL;
  if ((rc = check_params(p, err))) return rc;
  if ((*out = alloc_net(p, err)) == NULL) return fc__err(err, FC_ENOMEM, "neural: out of memory");
  for (size_t k = 0; k < p->members; k++) {
    fc_neural v = member_view(*out, k);
    init_weights(&v, member_seed(p, k));
  }
  return FC_OK;
}

void fc_neural_destroy(fc_neural *m) {
  if (m == NULL) return;
  fc__free(m->w);
  fc__free(m);
}

size_t fc_neural_input(const fc_neural *m) { return m->p.input; }
size_t fc_neural_horizon(const fc_neural *m) { return m->p.horizon; }
size_t fc_neural_series_used(const fc_neural *m) { return m->used; }
size_t fc_neural_steps(const fc_neural *m, size_t *best_step) {
  if (best_step) *best_step = m->best_step;
  return m->steps;
}
size_t fc_neural_nparams(const fc_neural *m) { return m->nparams; }
int fc_neural_calendar(const fc_neural *m, size_t periods[2]) {
  if (periods && m->p.calendar) memcpy(periods, m->p.cal_periods, 2 * sizeof *periods);
  return m->p.calendar;
}
float *fc_neural_weights(fc_neural *m) { return m->w; }

/* ---- windows ---- */

/* Mean absolute value of the input part; 1 for a window of zeros. */
static double window_scale(const double *w, size_t L) {
  double s = 0;
  for (size_t i = 0; i < L; i++) s += fabs(w[i]);
  s /= (double)L;
  return s > 0 && isfinite(s) ? s : 1.0;
}

/* 1970-01-05, a Monday, 00:00 UTC: the clock's hours count from it. */
#define MONDAY_EPOCH (4 * 86400)

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* The two categories of a first target at pos (neural.h: CLOCK epoch
 * seconds, PHASE an index). */
static void cal_codes(const fc_neural_params *p, int64_t pos, size_t *code) {
  int64_t u = p->calendar == FC_NEURAL_CAL_CLOCK ? floor_div(pos - MONDAY_EPOCH, 3600) : pos;
  int64_t P1 = (int64_t)p->cal_periods[0], P2 = (int64_t)p->cal_periods[1];
  int64_t w = u - floor_div(u, P2) * P2; /* u mod P2, in [0, P2) */
  code[0] = (size_t)(w % P1);
  code[1] = (size_t)(w / P1);
}

/* Where value i of a series on clock c sits: CLOCK its epoch second, PHASE i. */
static int64_t position(const fc_neural_params *p, const fc_neural_clock *c, size_t i) {
  return p->calendar == FC_NEURAL_CAL_CLOCK ? c->t0 + (int64_t)i * c->step : (int64_t)i;
}

/* A clock a CLOCK net can read (or, with need 0, any clock or none). */
static int clock_ok(const fc_neural_clock *c, int need) {
  if (c == NULL) return !need;
  if (c->t0 < -1000000000000LL || c->t0 > 1000000000000LL || c->step < 0 || c->step > 100000000) return 0;
  return !need || c->step > 0;
}

/* Normalised inputs (and targets if t) of S windows, with their calendar
 * categories from pos when the net reads them. */
static void load_windows(const fc_neural *m, const double *const *win, const int64_t *pos, size_t S, workspace *ws,
                         int targets) {
  size_t L = m->p.input, H = m->p.horizon;
  float *x = ws->x, *t = targets ? ws->t : NULL;
  if (m->p.calendar)
    for (size_t s = 0; s < S; s++) cal_codes(&m->p, pos[s], ws->cal + 2 * s);
  for (size_t s = 0; s < S; s++) {
    double sc = window_scale(win[s], L);
    for (size_t i = 0; i < L; i++) x[s * L + i] = (float)(win[s][i] / sc - 1.0);
    if (t)
      for (size_t i = 0; i < H; i++) t[s * H + i] = (float)(win[s][L + i] / sc - 1.0);
  }
}

/* ---- forward and backward over one chunk ---- */

static float *hbuf(const fc_neural *m, const workspace *ws, size_t S, size_t b, size_t l) {
  return ws->h + ((b * m->p.layers + l) * S) * m->p.hidden;
}

/* Adds to block b's first layer's output h (before its ReLU, which this
 * then applies) the rows of the windows' calendar categories: one-hot
 * inputs, so their rows are added as they are. */
static void add_calendar(const fc_neural *m, const workspace *ws, size_t S, size_t b, float *h) {
  size_t Hd = m->p.hidden, P1 = m->p.cal_periods[0];
  const float *rows = m->w + off_cal(m, b);
  for (size_t s = 0; s < S; s++) {
    axpy(h + s * Hd, rows + ws->cal[2 * s] * Hd, 1.0f, Hd);
    axpy(h + s * Hd, rows + (P1 + ws->cal[2 * s + 1]) * Hd, 1.0f, Hd);
  }
  for (size_t k = 0; k < S * Hd; k++) h[k] = h[k] > 0.0f ? h[k] : 0.0f;
}

/* Block b's layers with the calendar rows in the first (a path of its
 * own: the calendar-less loop in forward stays as it compiled before
 * them); returns the last layer's output. */
FC_NEURAL_WIDE static const float *layers_cal(const fc_neural *m, workspace *ws, size_t S, size_t b, const float *in) {
  for (size_t l = 0; l < m->p.layers; l++) {
    float *h = hbuf(m, ws, S, b, l);
    dense_fwd(m->w + off_layer(m, b, l), layer_in(&m->p, l), m->p.hidden, in, S, h, l > 0);
    if (l == 0) add_calendar(m, ws, S, b, h); /* then its ReLU */
    in = h;
  }
  return in;
}

/* The gradient of block b's calendar rows, given gh, the first layer's
 * (masked) output gradient. */
static void first_layer_cal_bwd(const fc_neural *m, const workspace *ws, size_t S, size_t b, const float *gh,
                                float *grad) {
  size_t Hd = m->p.hidden, P1 = m->p.cal_periods[0];
  float *g = grad + off_cal(m, b);
  for (size_t s = 0; s < S; s++) {
    axpy(g + ws->cal[2 * s] * Hd, gh + s * Hd, 1.0f, Hd);
    axpy(g + (P1 + ws->cal[2 * s + 1]) * Hd, gh + s * Hd, 1.0f, Hd);
  }
}

/* ws->x[0] holds the inputs; fills the blocks' inputs, activations and the
 * summed forecast. The last block's backcast feeds nothing and is skipped. */
FC_NEURAL_WIDE static void forward(const fc_neural *m, workspace *ws, size_t S) {
  const fc_neural_params *p = &m->p;
  size_t L = p->input, Hd = p->hidden;
  if (p->arch == FC_NEURAL_LSTM) {
    fc__lstm_forward(m, ws->lstm, ws->x, S, ws->out);
    return;
  }
  memset(ws->out, 0, S * m->hq * sizeof *ws->out);
  for (size_t b = 0; b < p->blocks; b++) {
    const float *xb = ws->x + b * S * L;
    const float *in = xb;
    if (p->calendar) in = layers_cal(m, ws, S, b, in);
    else
      for (size_t l = 0; l < p->layers; l++) {
        float *h = hbuf(m, ws, S, b, l);
        dense_fwd(m->w + off_layer(m, b, l), layer_in(p, l), Hd, in, S, h, 1);
        in = h;
      }
    /* forecast head, added into out */
    dense_fwd(m->w + off_fore(m, b), Hd, m->hq, in, S, ws->gout, 0);
    for (size_t k = 0; k < S * m->hq; k++) ws->out[k] += ws->gout[k];
    if (b + 1 < p->blocks) {
      float *xn = ws->x + (b + 1) * S * L;
      dense_fwd(m->w + off_back(m, b), Hd, L, in, S, ws->gx, 0);
      for (size_t k = 0; k < S * L; k++) xn[k] = xb[k] - ws->gx[k];
    }
  }
}

/* Pinball loss of the chunk (summed in double); with gout, its gradient
 * scaled by 1/denom. */
static double pinball(const fc_neural *m, workspace *ws, size_t S, double denom, int grad) {
  size_t H = m->p.horizon;
  double loss = 0;
  for (size_t s = 0; s < S; s++)
    for (size_t k = 0; k < FC_NEURAL_NQ; k++) {
      double tau = quantile_levels[k];
      for (size_t i = 0; i < H; i++) {
        size_t o = s * m->hq + k * H + i;
        double u = (double)ws->t[s * H + i] - (double)ws->out[o];
        loss += u >= 0 ? tau * u : (tau - 1.0) * u;
        if (grad) ws->gout[o] = (float)((u >= 0 ? -tau : 1.0 - tau) / denom);
      }
    }
  return loss;
}

static void relu_mask(float *g, const float *h, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (!(h[k] > 0.0f)) g[k] = 0.0f;
}

/* Adds the chunk's gradient (of the loss scaled by 1/denom, gout set) to
 * ws->grad. gx carries the gradient with respect to the next block's input;
 * block b's input gets it directly (the residual) plus through its layers. */
FC_NEURAL_WIDE static void backward(const fc_neural *m, workspace *ws, size_t S) {
  const fc_neural_params *p = &m->p;
  size_t L = p->input, Hd = p->hidden;
  if (p->arch == FC_NEURAL_LSTM) {
    fc__lstm_backward(m, ws->lstm, S, ws->gout, ws->grad);
    return;
  }
  memset(ws->gx, 0, S * L * sizeof *ws->gx);
  for (size_t bb = p->blocks; bb-- > 0;) {
    const float *hl = hbuf(m, ws, S, bb, p->layers - 1);
    memset(ws->gh, 0, S * Hd * sizeof *ws->gh);
    dense_bwd(m->w + off_fore(m, bb), Hd, m->hq, hl, S, ws->gout, ws->grad + off_fore(m, bb), ws->gh);
    if (bb + 1 < p->blocks) { /* backcast: x_{b+1} = x_b - B, so dB = -dx_{b+1} */
      for (size_t k = 0; k < S * L; k++) ws->gx2[k] = -ws->gx[k];
      dense_bwd(m->w + off_back(m, bb), Hd, L, hl, S, ws->gx2, ws->grad + off_back(m, bb), ws->gh);
    }
    relu_mask(ws->gh, hl, S * Hd);
    for (size_t l = p->layers; l-- > 0;) {
      const float *in = l ? hbuf(m, ws, S, bb, l - 1) : ws->x + bb * S * L;
      size_t nin = layer_in(p, l);
      float *gin = l ? ws->gh2 : (bb ? ws->gx2 : NULL);
      if (gin) memset(gin, 0, S * nin * sizeof *gin);
      dense_bwd(m->w + off_layer(m, bb, l), nin, Hd, in, S, ws->gh, ws->grad + off_layer(m, bb, l), gin);
      if (l == 0 && p->calendar) first_layer_cal_bwd(m, ws, S, bb, ws->gh, ws->grad);
      if (l) {
        relu_mask(ws->gh2, in, S * Hd);
        memcpy(ws->gh, ws->gh2, S * Hd * sizeof *ws->gh);
      } else if (bb) {
        for (size_t k = 0; k < S * L; k++) ws->gx[k] += ws->gx2[k];
      }
    }
  }
}

/* ---- workspaces and batches ---- */

static void ws_free(workspace *ws) {
  fc__free(ws->x);
  fc__free(ws->h);
  fc__free(ws->out);
  fc__free(ws->t);
  fc__free(ws->gx);
  fc__free(ws->gx2);
  fc__free(ws->gh);
  fc__free(ws->gh2);
  fc__free(ws->gout);
  fc__free(ws->grad);
  fc__free(ws->cal);
  fc__lstm_ws_free(ws->lstm);
  memset(ws, 0, sizeof *ws);
}

static int ws_init(const fc_neural *m, size_t S, int grad, workspace *ws) {
  const fc_neural_params *p = &m->p;
  memset(ws, 0, sizeof *ws);
  ws->x = fc__mallocarray((p->blocks + 1) * S, p->input * sizeof(float));
  ws->h = fc__mallocarray(p->blocks * p->layers * S, p->hidden * sizeof(float));
  ws->out = fc__mallocarray(S, m->hq * sizeof(float));
  ws->t = fc__mallocarray(S, p->horizon * sizeof(float));
  ws->gx = fc__mallocarray(S, p->input * sizeof(float));
  ws->gx2 = fc__mallocarray(S, p->input * sizeof(float));
  ws->gh = fc__mallocarray(S, p->hidden * sizeof(float));
  ws->gh2 = fc__mallocarray(S, p->hidden * sizeof(float));
  ws->gout = fc__mallocarray(S, m->hq * sizeof(float));
  if (grad) ws->grad = fc__mallocarray(m->nparams, sizeof(float));
  /* The calendar's buffers (here, valid_pos, batch_pos) only for nets that
   * read them: a calendar-less net's workspaces then sit on the heap as in
   * the builds before them, which trained on 4 % less CPU for the same
   * instructions (docs/benchmarks.md, session 11). */
  if (p->calendar) ws->cal = fc__mallocarray(2 * S, sizeof *ws->cal);
  if (p->arch == FC_NEURAL_LSTM && (ws->lstm = fc__lstm_ws_new(p, S)) == NULL) {
    ws_free(ws);
    return FC_ENOMEM;
  }
  if (!ws->x || !ws->h || !ws->out || !ws->t || !ws->gx || !ws->gx2 || !ws->gh || !ws->gh2 || !ws->gout ||
      (p->calendar && !ws->cal) || (grad && !ws->grad)) {
    ws_free(ws);
    return FC_ENOMEM;
  }
  return FC_OK;
}

typedef struct batch_job {
  const fc_neural *m;
  const double *const *win;
  const int64_t *pos; /* each window's first target (calendar inputs) */
  size_t count;       /* windows */
  size_t chunk;
  double denom;  /* count * H * Q */
  workspace *ws; /* one per chunk */
  int grad;
} batch_job;

static void chunk_task(void *arg, size_t c) {
  batch_job *j = arg;
  workspace *ws = &j->ws[c];
  size_t first = c * j->chunk, S = j->count - first < j->chunk ? j->count - first : j->chunk;
  load_windows(j->m, j->win + first, j->pos ? j->pos + first : NULL, S, ws, 1);
  forward(j->m, ws, S);
  ws->loss = pinball(j->m, ws, S, j->denom, j->grad);
  if (j->grad) {
    memset(ws->grad, 0, j->m->nparams * sizeof *ws->grad);
    backward(j->m, ws, S);
  }
}

static void run_chunks(const fc_neural_params *p, size_t n, batch_job *j) {
  if (p->parallel) p->parallel(p->parallel_ctx, n, chunk_task, j);
  else
    for (size_t c = 0; c < n; c++) chunk_task(j, c);
}

static size_t nchunks_of(size_t count, size_t chunk) { return (count + chunk - 1) / chunk; }

/* Mean pinball loss of count windows on the prepared workspaces (nchunks of
 * them); the chunk gradients stay in the workspaces. */
static double batch_loss(const fc_neural *m, const double *const *win, const int64_t *pos, size_t count, workspace *ws,
                         int grad) {
  batch_job j;
  size_t nc = nchunks_of(count, m->p.chunk);
  double loss = 0;
  j.m = m;
  j.win = win;
  j.pos = pos;
  j.count = count;
  j.chunk = m->p.chunk;
  j.denom = (double)count * (double)m->hq;
  j.ws = ws;
  j.grad = grad;
  run_chunks(&m->p, nc, &j);
  for (size_t c = 0; c < nc; c++) loss += ws[c].loss;
  return loss / j.denom;
}

static workspace *ws_array(const fc_neural *m, size_t n, int grad) {
  workspace *ws = fc__calloc(n ? n : 1, sizeof *ws);
  if (ws == NULL) return NULL;
  for (size_t c = 0; c < n; c++)
    if (ws_init(m, m->p.chunk, grad, &ws[c])) {
      while (c-- > 0) ws_free(&ws[c]);
      fc__free(ws);
      return NULL;
    }
  return ws;
}

static void ws_array_free(workspace *ws, size_t n) {
  if (ws == NULL) return;
  for (size_t c = 0; c < n; c++) ws_free(&ws[c]);
  fc__free(ws);
}

double fc_neural_loss(const fc_neural *m, const double *const *windows, const int64_t *pos, size_t count, float *grad) {
  size_t nc = nchunks_of(count, m->p.chunk);
  workspace *ws;
  double loss;
  if (count == 0 || (m->p.calendar && pos == NULL)) return NAN;
  if ((ws = ws_array(m, nc, grad != NULL)) == NULL) return NAN;
  loss = batch_loss(m, windows, pos, count, ws, grad != NULL);
  if (grad) {
    memset(grad, 0, m->nparams * sizeof *grad);
    for (size_t c = 0; c < nc; c++) axpy(grad, ws[c].grad, 1.0f, m->nparams);
  }
  ws_array_free(ws, nc);
  return loss;
}

/* ---- training ---- */

/* The series' windows: training origins, validation windows. */
typedef struct sampler {
  const double *const *y;
  const fc_neural_clock *clocks; /* per series, or NULL */
  const fc_neural_params *p;
  size_t *idx;  /* usable series */
  size_t *nwin; /* training windows of each usable series */
  size_t nused;
  const double **valid;
  int64_t *valid_pos; /* their first targets' positions (calendar inputs; else NULL) */
  size_t nvalid;
} sampler;

static void sampler_free(sampler *s) {
  fc__free(s->idx);
  fc__free(s->nwin);
  fc__free(s->valid);
  fc__free(s->valid_pos);
  memset(s, 0, sizeof *s); /* trainer_free may call it again */
}

/* A series of n >= L + 2H keeps its last window for validation and trains
 * on the windows ending before it; n in [L + H, L + 2H) trains only;
 * shorter series are left out. */
static const fc_neural_clock *clock_of(const sampler *s, size_t k) { return s->clocks ? &s->clocks[k] : NULL; }

static int sampler_init(sampler *s, const double *const *y, const size_t *n, const fc_neural_clock *clocks, size_t ns,
                        const fc_neural_params *p, fc_err *err) {
  size_t L = p->input, H = p->horizon;
  memset(s, 0, sizeof *s);
  s->y = y;
  s->clocks = clocks;
  s->p = p;
  s->idx = fc__mallocarray(ns ? ns : 1, sizeof *s->idx);
  s->nwin = fc__mallocarray(ns ? ns : 1, sizeof *s->nwin);
  s->valid = fc__mallocarray(ns ? ns : 1, sizeof *s->valid);
  if (p->calendar) s->valid_pos = fc__mallocarray(ns ? ns : 1, sizeof *s->valid_pos);
  if (!s->idx || !s->nwin || !s->valid || (p->calendar && !s->valid_pos)) {
    sampler_free(s);
    return fc__err(err, FC_ENOMEM, "neural: out of memory");
  }
  for (size_t k = 0; k < ns; k++) {
    size_t len = n[k];
    if (y[k] == NULL && len) {
      sampler_free(s);
      return fc__err(err, FC_EINVAL, "neural: series %zu is NULL", k);
    }
    if (!clock_ok(clock_of(s, k), p->calendar == FC_NEURAL_CAL_CLOCK)) {
      const char *why = clock_ok(clock_of(s, k), 0)
                            ? "no times, and the net reads the hour and weekday of its forecasts"
                            : "times out of range";
      sampler_free(s);
      return fc__err(err, FC_EINVAL, "neural: series %zu: %s", k, why);
    }
    for (size_t i = 0; i < len; i++)
      if (!isfinite(y[k][i])) {
        sampler_free(s);
        return fc__err(err, FC_EINVAL, "neural: series %zu: value %zu is not finite", k, i);
      }
    if (len < L + H) continue;
    if (len >= L + 2 * H) {
      if (p->calendar) s->valid_pos[s->nvalid] = position(p, clock_of(s, k), len - H);
      s->valid[s->nvalid++] = y[k] + len - H - L;
      len -= H;
    }
    s->idx[s->nused] = k;
    s->nwin[s->nused++] = len - L - H + 1;
  }
  if (s->nused == 0) {
    sampler_free(s);
    return fc__err(err, FC_ETOOSHORT,
                   "neural: no series has the %zu values one training window needs (input %zu + horizon %zu)", L + H, L,
                   H);
  }
  return FC_OK;
}

/* A training window and, into pos (given with calendar inputs only), its
 * first target's position. */
static const double *sample_window(const sampler *s, fc_rng *r, int64_t *pos) {
  size_t k = (size_t)fc_rng_below(r, s->nused), o = (size_t)fc_rng_below(r, s->nwin[k]);
  if (pos) *pos = position(s->p, clock_of(s, s->idx[k]), o + s->p->input);
  return s->y[s->idx[k]] + o;
}

/* Adam state and the update, sliced over the weights so the caller's
 * parallel-for may run slices at once; each slice adds the chunk gradients
 * in chunk order. */
#define NSLICE 16
typedef struct adam_job {
  fc_neural *m;
  workspace *ws;
  size_t nchunks;
  float *g, *mom, *vel;
  double sq[NSLICE];
  float scale; /* clip factor */
  float lr_t;  /* lr * sqrt(1 - b2^t) / (1 - b1^t) */
  int phase;   /* 0: sum gradients and squares, 1: update */
} adam_job;

static void adam_slice(void *arg, size_t sl) {
  adam_job *j = arg;
  size_t n = j->m->nparams, a = n * sl / NSLICE, b = n * (sl + 1) / NSLICE;
  if (j->phase == 0) {
    double sq = 0;
    memcpy(j->g + a, j->ws[0].grad + a, (b - a) * sizeof *j->g);
    for (size_t c = 1; c < j->nchunks; c++) axpy(j->g + a, j->ws[c].grad + a, 1.0f, b - a);
    for (size_t i = a; i < b; i++) sq += (double)j->g[i] * (double)j->g[i];
    j->sq[sl] = sq;
    return;
  }
  for (size_t i = a; i < b; i++) {
    float g = j->g[i] * j->scale;
    j->mom[i] = 0.9f * j->mom[i] + 0.1f * g;
    j->vel[i] = 0.999f * j->vel[i] + 0.001f * g * g;
    j->m->w[i] -= j->lr_t * j->mom[i] / (sqrtf(j->vel[i]) + 1e-8f);
  }
}

static void run_slices(const fc_neural_params *p, adam_job *j) {
  if (p->parallel) p->parallel(p->parallel_ctx, NSLICE, adam_slice, j);
  else
    for (size_t s = 0; s < NSLICE; s++) adam_slice(j, s);
}

typedef struct trainer {
  fc_neural *m;
  sampler smp;
  workspace *ws, *vws;
  size_t nchunks, nvchunks;
  const double **batch;
  int64_t *batch_pos;
  float *best;
  adam_job aj;
} trainer;

static void trainer_free(trainer *t) {
  sampler_free(&t->smp);
  ws_array_free(t->ws, t->nchunks);
  ws_array_free(t->vws, t->nvchunks);
  fc__free(t->batch);
  fc__free(t->batch_pos);
  fc__free(t->best);
  fc__free(t->aj.g);
  fc__free(t->aj.mom);
  fc__free(t->aj.vel);
}

/* One Adam step on a fresh batch; returns the batch loss. */
static double train_step(trainer *t, fc_rng *r, double *b1t, double *b2t, double lr_scale) {
  fc_neural *m = t->m;
  double loss, norm = 0;
  for (size_t i = 0; i < m->p.batch; i++)
    t->batch[i] = sample_window(&t->smp, r, t->batch_pos ? &t->batch_pos[i] : NULL);
  loss = batch_loss(m, t->batch, t->batch_pos, m->p.batch, t->ws, 1);
  t->aj.phase = 0;
  run_slices(&m->p, &t->aj);
  for (size_t s = 0; s < NSLICE; s++) norm += t->aj.sq[s];
  norm = sqrt(norm);
  t->aj.scale = m->p.clip > 0 && norm > m->p.clip ? (float)(m->p.clip / norm) : 1.0f;
  *b1t *= 0.9;
  *b2t *= 0.999;
  t->aj.lr_t = (float)(m->p.lr * lr_scale * sqrt(1.0 - *b2t) / (1.0 - *b1t));
  t->aj.phase = 1;
  run_slices(&m->p, &t->aj);
  return loss;
}

static int trainer_init(trainer *t, const double *const *y, const size_t *n, const fc_neural_clock *clocks, size_t ns,
                        const fc_neural_params *p, fc_err *err) {
  int rc;
  memset(t, 0, sizeof *t);
  if ((rc = check_params(p, err))) return rc;
  if ((rc = sampler_init(&t->smp, y, n, clocks, ns, p, err))) return rc;
  {
    fc_neural_params one = *p;
    one.members = 1;
    if ((rc = fc_neural_create(&one, &t->m, err))) return rc;
  }
  t->m->used = t->smp.nused;
  t->nchunks = p->batch / p->chunk;
  t->nvchunks = nchunks_of(t->smp.nvalid, p->chunk);
  t->ws = ws_array(t->m, t->nchunks, 1);
  t->vws = ws_array(t->m, t->nvchunks, 0);
  t->batch = fc__mallocarray(p->batch, sizeof *t->batch);
  if (p->calendar) t->batch_pos = fc__mallocarray(p->batch, sizeof *t->batch_pos);
  t->best = fc__mallocarray(t->m->nparams, sizeof *t->best);
  t->aj.g = fc__mallocarray(t->m->nparams, sizeof(float));
  t->aj.mom = fc__calloc(t->m->nparams, sizeof(float));
  t->aj.vel = fc__calloc(t->m->nparams, sizeof(float));
  t->aj.m = t->m;
  t->aj.ws = t->ws;
  t->aj.nchunks = t->nchunks;
  if (!t->ws || !t->vws || !t->batch || (p->calendar && !t->batch_pos) || !t->best || !t->aj.g || !t->aj.mom ||
      !t->aj.vel)
    return fc__err(err, FC_ENOMEM, "neural: out of memory for training");
  return FC_OK;
}

/* Trains one net (p.members ignored) from p.seed. */
static int train_one(const double *const *y, const size_t *n, const fc_neural_clock *clocks, size_t nseries,
                     const fc_neural_params *p, fc_neural **out, fc_err *err) {
  trainer t;
  fc_rng r;
  double b1t = 1, b2t = 1, best = INFINITY, run = 0, lr_scale = 1;
  size_t bad = 0, since = 0;
  int rc;
  *out = NULL;
  if ((rc = trainer_init(&t, y, n, clocks, nseries, p, err))) {
    fc_neural_destroy(t.m);
    trainer_free(&t);
    return rc;
  }
  fc_rng_seed(&r, p->seed ^ 0x9e3779b97f4a7c15ull);
  memcpy(t.best, t.m->w, t.m->nparams * sizeof *t.best);
  for (size_t step = 1; step <= p->steps; step++) {
    run += train_step(&t, &r, &b1t, &b2t, lr_scale);
    since++;
    t.m->steps = step;
    if (step % p->eval_every && step != p->steps) continue;
    {
      double v =
          t.smp.nvalid ? batch_loss(t.m, t.smp.valid, t.smp.valid_pos, t.smp.nvalid, t.vws, 0) : run / (double)since;
      if (p->progress && p->progress(step, p->steps, run / (double)since, t.smp.nvalid ? v : NAN, p->user_data)) {
        fc_neural_destroy(t.m);
        trainer_free(&t);
        return fc__err(err, FC_EABORTED, "neural: training aborted at step %zu", step);
      }
      run = 0;
      since = 0;
      if (v < best) {
        best = v;
        bad = 0;
        t.m->best_step = step;
        memcpy(t.best, t.m->w, t.m->nparams * sizeof *t.best);
      } else if (++bad >= p->patience && p->patience) {
        break;
      } else { /* a plateau: smaller steps from here */
        lr_scale *= 0.5;
      }
    }
  }
  memcpy(t.m->w, t.best, t.m->nparams * sizeof *t.best);
  *out = t.m;
  t.m = NULL;
  trainer_free(&t);
  return FC_OK;
}

int fc_neural_train(const double *const *y, const size_t *n, size_t nseries, const fc_neural_params *p, fc_neural **out,
                    fc_err *err) {
  return fc_neural_train_cal(y, n, NULL, nseries, p, out, err);
}

int fc_neural_train_cal(const double *const *y, const size_t *n, const fc_neural_clock *clocks, size_t nseries,
                        const fc_neural_params *p, fc_neural **out, fc_err *err) {
  fc_neural *m, *one;
  int rc;
  *out = NULL;
  if (y == NULL || n == NULL) return fc__err(err, FC_EINVAL, "neural: no series");
  if ((rc = fc_neural_create(p, &m, err))) return rc;
  for (size_t k = 0; k < p->members; k++) {
    fc_neural_params pk = *p;
    pk.seed = member_seed(p, k);
    if ((rc = train_one(y, n, clocks, nseries, &pk, &one, err))) {
      fc_neural_destroy(m);
      return rc;
    }
    memcpy(m->w + k * m->nparams, one->w, m->nparams * sizeof *m->w);
    m->used = one->used;
    m->steps += one->steps;
    m->best_step = one->best_step;
    fc_neural_destroy(one);
  }
  *out = m;
  return FC_OK;
}

/* ---- forecasting ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int fc_neural_forecast(const fc_neural *m, const double *y, size_t n, size_t h, double *q, fc_err *err) {
  return fc_neural_forecast_cal(m, y, n, NULL, h, q, err);
}

int fc_neural_forecast_cal(const fc_neural *m, const double *y, size_t n, const fc_neural_clock *clock, size_t h,
                           double *q, fc_err *err) {
  size_t L, H;
  workspace ws;
  const double *win;
  double sc, *sum = NULL;
  int64_t pos = 0;
  static const size_t order[FC_NEURAL_NQ] = {3, 1, 0, 2, 4}; /* levels ascending */
  if (m == NULL || q == NULL || (y == NULL && n)) return fc__err(err, FC_EINVAL, "neural: NULL argument");
  if (!clock_ok(clock, m->p.calendar == FC_NEURAL_CAL_CLOCK))
    return fc__err(err, FC_EINVAL, "neural: %s",
                   clock_ok(clock, 0) ? "the net reads the hour and weekday of its forecasts; the series has no times"
                                      : "times out of range");
  if (m->p.calendar) pos = position(&m->p, clock, n);
  L = m->p.input;
  H = m->p.horizon;
  if (h < 1 || h > H) return fc__err(err, FC_EINVAL, "neural: horizon %zu beyond the trained %zu", h, H);
  if (n < L) return fc__err(err, FC_ETOOSHORT, "neural: the net reads the last %zu values; the series has %zu", L, n);
  win = y + n - L;
  for (size_t i = 0; i < L; i++)
    if (!isfinite(win[i])) return fc__err(err, FC_EINVAL, "neural: value %zu is not finite", n - L + i);
  if (ws_init(m, 1, 0, &ws) || (sum = fc__calloc(m->hq, sizeof *sum)) == NULL) {
    ws_free(&ws);
    return fc__err(err, FC_ENOMEM, "neural: out of memory");
  }
  for (size_t k = 0; k < m->p.members; k++) { /* the members' mean, in member order */
    fc_neural v = member_view(m, k);
    load_windows(&v, &win, &pos, 1, &ws, 0);
    forward(&v, &ws, 1);
    for (size_t o = 0; o < m->hq; o++) sum[o] += (double)ws.out[o];
  }
  sc = window_scale(win, L);
  for (size_t i = 0; i < h; i++) {
    double v[FC_NEURAL_NQ];
    for (size_t k = 0; k < FC_NEURAL_NQ; k++) v[k] = (sum[k * H + i] / (double)m->p.members + 1.0) * sc;
    qsort(v, FC_NEURAL_NQ, sizeof v[0], cmp_double);
    for (size_t k = 0; k < FC_NEURAL_NQ; k++) q[order[k] * h + i] = v[k];
  }
  fc__free(sum);
  ws_free(&ws);
  return FC_OK;
}

int fc_neural_forecast_fill(const fc_neural *m, const double *y, size_t n, const fc_neural_clock *clock, int nonneg,
                            fc_forecast *f, fc_err *err) {
  double *q;
  size_t h = f->h;
  double z80 = fc_normal_quantile(0.9);
  int rc;
  if ((q = fc__mallocarray(h, FC_NEURAL_NQ * sizeof *q)) == NULL)
    return fc__err(err, FC_ENOMEM, "neural: out of memory");
  if ((rc = fc_neural_forecast_cal(m, y, n, clock, h, q, err))) {
    fc__free(q);
    return rc;
  }
  for (size_t i = 0; i < h; i++) {
    f->mean[i] = q[i];
    f->sd[i] = (q[2 * h + i] - q[1 * h + i]) / (2 * z80);
  }
  fc_forecast_normal_bounds(f, 0);
  for (size_t k = 0; k < f->nlevels; k++) {
    size_t lo = f->levels[k] == 80 ? 1 : f->levels[k] == 95 ? 3 : 0;
    if (lo == 0) continue;
    memcpy(f->lo + k * h, q + lo * h, h * sizeof *q);
    memcpy(f->hi + k * h, q + (lo + 1) * h, h * sizeof *q);
  }
  if (nonneg) {
    for (size_t i = 0; i < h; i++) f->mean[i] = f->mean[i] > 0 ? f->mean[i] : 0;
    for (size_t i = 0; i < h * f->nlevels; i++) {
      f->lo[i] = f->lo[i] > 0 ? f->lo[i] : 0;
      f->hi[i] = f->hi[i] > 0 ? f->hi[i] : 0;
    }
  }
  fc__free(q);
  return FC_OK;
}

/* ---- bytes ---- */

static const char magic[8] = {'F', 'C', 'N', 'E', 'U', 'R', 'A', 'L'};
#define NSHAPE 6

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void put_le(fc_buf *b, uint64_t v, int bytes) {
  unsigned char c[8];
  for (int i = 0; i < bytes; i++) c[i] = (unsigned char)(v >> (8 * i));
  fc_buf_append(b, c, (size_t)bytes);
}

static uint64_t get_le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Version 1 for a net without calendar inputs (the bytes of the builds
 * before them); 2 adds calendar, P1, P2 to the shape. */
static size_t shape_words(uint32_t version) { return version >= 2 ? NSHAPE + 3 : NSHAPE; }

int fc_neural_save(const fc_neural *m, fc_buf *out, fc_err *err) {
  int lstm = m->p.arch == FC_NEURAL_LSTM;
  uint32_t version = m->p.calendar ? 2 : 1;
  size_t start = out->len, nw = shape_words(version),
         shape[NSHAPE + 3] = {m->p.input,         m->p.horizon, lstm ? m->p.patch : m->p.blocks, m->p.layers,
                              m->p.hidden,        m->p.members, (size_t)m->p.calendar,           m->p.cal_periods[0],
                              m->p.cal_periods[1]};
  fc_buf_append(out, magic, sizeof magic);
  put_le(out, version, 4);
  put_le(out, (uint64_t)m->p.arch, 4);
  put_le(out, 4 * nw + 4 * (uint64_t)m->nparams * m->p.members, 8);
  for (size_t k = 0; k < nw; k++) put_le(out, shape[k], 4);
  for (size_t i = 0; i < m->nparams * m->p.members; i++) {
    uint32_t bits;
    memcpy(&bits, &m->w[i], 4);
    put_le(out, bits, 4);
  }
  if (fc_buf_failed(out)) return fc__err(err, FC_ENOMEM, "neural save: out of memory");
  put_le(out, fnv1a((const unsigned char *)out->data + start, out->len - start), 8);
  return fc_buf_failed(out) ? fc__err(err, FC_ENOMEM, "neural save: out of memory") : FC_OK;
}

/* The shape words of p (after the header) into np. */
static void read_shape(const unsigned char *p, uint32_t version, fc_neural_params *np) {
  np->input = get_le(p, 4);
  np->horizon = get_le(p + 4, 4);
  np->blocks = get_le(p + 8, 4);
  np->layers = get_le(p + 12, 4);
  np->hidden = get_le(p + 16, 4);
  np->members = get_le(p + 20, 4);
  if (np->arch == FC_NEURAL_LSTM) { /* the blocks slot holds the patch */
    np->patch = np->blocks;
    np->blocks = 1;
  }
  if (version >= 2) {
    np->calendar = (int)get_le(p + 24, 4);
    np->cal_periods[0] = get_le(p + 28, 4);
    np->cal_periods[1] = get_le(p + 32, 4);
  }
}

int fc_neural_load(const void *data, size_t len, fc_neural **out, fc_err *err) {
  const unsigned char *p = data;
  fc_neural_params np = fc_neural_defaults();
  uint64_t body, nw;
  uint32_t version;
  fc_neural *m;
  *out = NULL;
  if (data == NULL || len < 24 + 4 * NSHAPE + 8 || memcmp(p, magic, sizeof magic))
    return fc__err(err, FC_ECORRUPT, "neural load: not a floatcast net");
  version = (uint32_t)get_le(p + 8, 4);
  if (version < 1 || version > FC_NEURAL_FORMAT_VERSION)
    return fc__err(err, FC_ECORRUPT, "neural load: format version %u (this build reads 1 to %d)", (unsigned)version,
                   FC_NEURAL_FORMAT_VERSION);
  if (get_le(p + 12, 4) > FC_NEURAL_LSTM) return fc__err(err, FC_ECORRUPT, "neural load: unknown architecture");
  nw = shape_words(version);
  body = get_le(p + 16, 8);
  if (body != len - 32 || body < 4 * nw) return fc__err(err, FC_ECORRUPT, "neural load: wrong length");
  if (get_le(p + len - 8, 8) != fnv1a(p, len - 8)) return fc__err(err, FC_ECORRUPT, "neural load: checksum mismatch");
  np.arch = (int)get_le(p + 12, 4);
  read_shape(p + 24, version, &np);
  if (check_params(&np, NULL) || (version >= 2 && np.calendar == FC_NEURAL_CAL_NONE))
    return fc__err(err, FC_ECORRUPT, "neural load: bad shape");
  if (np.members * net_nparams(&np, np.horizon * FC_NEURAL_NQ) != (body - 4 * nw) / 4 || (body - 4 * nw) % 4)
    return fc__err(err, FC_ECORRUPT, "neural load: weight count does not match the shape");
  if ((m = alloc_net(&np, err)) == NULL) return fc__err(err, FC_ENOMEM, "neural load: out of memory");
  for (size_t i = 0; i < m->nparams * np.members; i++) {
    uint32_t bits = (uint32_t)get_le(p + 24 + 4 * nw + 4 * i, 4);
    memcpy(&m->w[i], &bits, 4);
    if (!isfinite(m->w[i])) {
      fc_neural_destroy(m);
      return fc__err(err, FC_ECORRUPT, "neural load: weight %zu is not finite", i);
    }
  }
  *out = m;
  return FC_OK;
}
