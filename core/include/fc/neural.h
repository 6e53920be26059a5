/* neural.h: a global neural forecaster trained across many series.
 *
 * The net is an N-BEATS-style stack (Oreshkin et al. 2020, "generic"
 * blocks): each block is a few fully connected ReLU layers over its input
 * window, with two linear heads, a backcast of the window and a forecast of
 * the horizon. The next block sees the window minus this block's backcast;
 * the forecast is the sum of the blocks' forecasts. The heads give the
 * horizon's quantiles at FC_NEURAL_NQ levels (fc_neural_quantiles: the
 * median first), trained with the pinball loss, so intervals come from the
 * model (and the ensemble's conformal step may then calibrate them).
 *
 * Windows are normalised per window: the input's last L values divided by
 * their mean absolute value, minus 1 (a window of zeros uses scale 1); the
 * targets take the same scale, and forecasts are scaled back. One net is
 * trained on the windows of every series, so it learns shapes shared by
 * the series rather than any one level.
 *
 * Training: Adam on mini-batches of (series, origin) pairs drawn with a
 * seeded fc_rng (a series uniformly, then an origin uniformly in it);
 * gradients clipped to a global L2 norm; early stopping on validation
 * windows taken from the end of each training series (its last `horizon`
 * values, never seen as a target in training), the best net kept; each
 * evaluation without improvement halves the step size.
 * Arithmetic is float32 (parameters, activations, gradients); losses and
 * norms are summed in double.
 *
 * Determinism: a batch is cut into fixed chunks whose gradients are
 * computed independently and added in chunk order, so results depend on
 * the data, the parameters and the seed only, never on the thread count or
 * on how the caller's parallel-for schedules the chunks. The core has no
 * threads: the caller may pass a parallel-for (fc_parallel_for) that runs
 * the chunks on its own threads (the CLI and the benchmark use pthreads;
 * NULL runs them in order on the calling thread). The same bytes come out
 * natively and in WASM (no FMA contraction: C11 without -ffast-math).
 *
 * Errors: a series with NaN/Inf is FC_EINVAL naming it; when no series is
 * long enough for one training window (input + horizon values)
 * FC_ETOOSHORT; shorter series are left out of training and reported in
 * the count fc_neural_series_used. Forecasting needs at least `input`
 * finite values (FC_ETOOSHORT / FC_EINVAL) and h <= the trained horizon
 * (FC_EINVAL: "horizon H beyond the trained Ht"). A constant window is not
 * an error (it normalises to zeros); the model table's row forecasts a
 * constant history as that constant, as for every model (model.h).
 */
#ifndef FC_NEURAL_H
#define FC_NEURAL_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/model.h"
#include "fc/status.h"
#include "fc/parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_NEURAL_NQ             5
#define FC_NEURAL_FORMAT_VERSION 2

enum { FC_NEURAL_NBEATS = 0, FC_NEURAL_LSTM = 1 };

/* Calendar inputs (fc_neural_params.calendar), two categories of the
 * first forecast step read beside each block's window as one-hot vectors
 * into its first layer (the steps after it follow at the series' step, so
 * the first step's calendar fixes every target's and the window's):
 *  - FC_NEURAL_CAL_CLOCK: its hour of day (24) and day of week (7, Monday
 *    first), UTC, from the series' clock (fc_neural_clock below): for
 *    series with timestamps;
 *  - FC_NEURAL_CAL_PHASE: for series without times, its index u from the
 *    series' first value: u mod P1 (P1 categories) and (u mod P2) / P1
 *    (P2 / P1 categories), cal_periods = {P1, P2} (24, 168 for hours).
 * CLOCK is PHASE over the hours since a Monday 00:00 UTC, with {24, 168}. */
enum { FC_NEURAL_CAL_NONE = 0, FC_NEURAL_CAL_CLOCK = 1, FC_NEURAL_CAL_PHASE = 2 };

/* Where a series sits in time: value i at epoch second t0 + i * step
 * (step 0: no times). Read by nets with FC_NEURAL_CAL_CLOCK only; |t0| <=
 * 1e12 and step <= 1e8 (FC_EINVAL otherwise). */
typedef struct fc_neural_clock {
  int64_t t0, step;
} fc_neural_clock;

/* The quantile levels of the heads, in output order:
 * 0.5, 0.1, 0.9, 0.025, 0.975 (median, the 80 % and the 95 % bands). */
const double *fc_neural_quantiles(void);

/* A task of the caller's parallel-for (fc_parallel_for, parallel.h). */
typedef fc_parallel_task fc_neural_task;

/* Called after each early-stopping evaluation; nonzero aborts training
 * (FC_EABORTED, no model). Runs on the calling thread. */
typedef int (*fc_neural_progress_fn)(size_t step, size_t steps, double train_loss, double valid_loss, void *user_data);

typedef struct fc_neural_params {
  size_t input;      /* L: window length, >= 2 */
  size_t horizon;    /* H: steps forecast, >= 1 */
  size_t blocks;     /* stacked blocks, >= 1 */
  size_t layers;     /* ReLU layers per block, >= 1 */
  size_t hidden;     /* width of those layers, >= 1 */
  size_t batch;      /* windows per step, a multiple of chunk */
  size_t chunk;      /* windows per independently summed chunk */
  size_t steps;      /* maximum Adam steps */
  size_t eval_every; /* steps between validation evaluations */
  size_t patience;   /* evaluations without improvement before stopping */
  double lr;         /* Adam step size */
  double clip;       /* global gradient-norm bound; 0 = none */
  uint64_t seed;
  /* Nets trained from seeds seed, seed + c, seed + 2c, ... one after the
   * other; forecasts are the mean of their quantile outputs. */
  size_t members; /* 1..64 */
  /* FC_NEURAL_NBEATS (the block stack above) or FC_NEURAL_LSTM: one LSTM
   * layer of `hidden` cells reading the window `patch` values at a time
   * (input / patch steps, input a multiple of patch), its last state into
   * the same linear quantile head; blocks and layers are then unused.
   * Same windows, loss, training loop and byte format (neural_lstm.c). */
  int arch;
  size_t patch;             /* LSTM: values per step (24 for hourly: a day a step) */
  int calendar;             /* FC_NEURAL_CAL_*: inputs beside the window (the block stack only) */
  size_t cal_periods[2];    /* P1 < P2, P2 a multiple of P1; CLOCK: 24, 168 */
  fc_parallel_for parallel; /* NULL = chunks in order on this thread */
  void *parallel_ctx;
  fc_neural_progress_fn progress; /* may be NULL */
  void *user_data;
} fc_neural_params;

/* L 168, H 48, 3 blocks of 2 layers of 128, batch 256 in chunks of 16,
 * up to 2000 steps, evaluation every 100 with patience 4, lr 1e-3, clip 1,
 * seed 42, 2 members (M4 Hourly: OWA 0.485 against one net's 0.512, for
 * twice the training), serial. */
fc_neural_params fc_neural_defaults(void);

typedef struct fc_neural fc_neural;

/* A net with freshly initialised weights (seeded), untrained. */
int fc_neural_create(const fc_neural_params *p, fc_neural **out, fc_err *err);
void fc_neural_destroy(fc_neural *m);

/* Trains a net on series y[s][0..n[s]) (s < nseries). */
int fc_neural_train(const double *const *y, const size_t *n, size_t nseries, const fc_neural_params *p, fc_neural **out,
                    fc_err *err);
/* The same with each series' clock (clocks[s]; NULL = none): a net with
 * FC_NEURAL_CAL_CLOCK needs every series' times (FC_EINVAL naming the
 * first series without). */
int fc_neural_train_cal(const double *const *y, const size_t *n, const fc_neural_clock *clocks, size_t nseries,
                        const fc_neural_params *p, fc_neural **out, fc_err *err);
/* The net's calendar inputs (FC_NEURAL_CAL_*) and, if any, their periods. */
int fc_neural_calendar(const fc_neural *m, size_t periods[2]);

size_t fc_neural_input(const fc_neural *m);
size_t fc_neural_horizon(const fc_neural *m);
/* Series with at least one training window in the last training. */
size_t fc_neural_series_used(const fc_neural *m);
/* Adam steps taken (all members) and the step whose weights the last
 * member kept. */
size_t fc_neural_steps(const fc_neural *m, size_t *best_step);

/* Writes the h (<= horizon) x FC_NEURAL_NQ quantile forecasts of the
 * series y[0..n) into q (q[k*h + i]: level k, step i), sorted across the
 * levels at each step so that they never cross. */
int fc_neural_forecast(const fc_neural *m, const double *y, size_t n, size_t h, double *q, fc_err *err);
/* The same for a series on clock (NULL = none; a net with
 * FC_NEURAL_CAL_CLOCK needs one with step > 0: FC_EINVAL "no times"). */
int fc_neural_forecast_cal(const fc_neural *m, const double *y, size_t n, const fc_neural_clock *clock, size_t h,
                           double *q, fc_err *err);

/* Fills f (initialized with its h and levels): mean = the median, levels
 * 80 and 95 from the quantile heads, other levels mean -/+ z sd where sd
 * is the 80 % band's half-width over z(0.9); sd likewise. nonneg clamps
 * at 0 as fc_forecast_normal_bounds does. */
int fc_neural_forecast_fill(const fc_neural *m, const double *y, size_t n, const fc_neural_clock *clock, int nonneg,
                            fc_forecast *f, fc_err *err);

/* Direct access to the first member's weights and loss, for the gradient
 * check and tooling: nparams floats (one member's), and the mean pinball loss (returned) of count
 * raw windows y[c][0..input+horizon) (normalised as in training) with the
 * gradient of that mean written to grad (nparams; may be NULL). pos[c]
 * is where window c's first target sits (CLOCK: its epoch second; PHASE:
 * its index in the series); NULL without calendar inputs (NaN with). */
size_t fc_neural_nparams(const fc_neural *m);
float *fc_neural_weights(fc_neural *m);
double fc_neural_loss(const fc_neural *m, const double *const *windows, const int64_t *pos, size_t count, float *grad);

/* Byte format: "FCNEURAL" u32 version u32 arch (0 = N-BEATS, so nets saved
 * before the LSTM keep their bytes), u64 body length, body (the
 * shape as u32s: input, horizon, blocks (the LSTM's patch), layers, hidden, members;
 * version 2 only: calendar, P1, P2; then
 * the weights as float32 bits, little-endian), u64
 * FNV-1a 64 of everything before it. A net without calendar inputs is
 * written as version 1, the bytes of builds before them, which read it;
 * version 2 (calendar inputs: each block's rows of their one-hot
 * categories after its forecast head) is refused by those builds as an
 * unsupported version. A loaded net forecasts bit-identically;
 * fc_neural_load answers FC_ECORRUPT for anything else (a newer version
 * named as such). */
int fc_neural_save(const fc_neural *m, fc_buf *out, fc_err *err);
int fc_neural_load(const void *data, size_t len, fc_neural **out, fc_err *err);

/* The net as a model of the model table's "neural" row (model.h) with no
 * history, holding a copy of net: fc_model_save writes it in the model
 * byte format (the row's state embeds the net's bytes above), so one file
 * format carries every model; fc_model_forecast on it is FC_ETOOSHORT (no
 * history), callers forecast series with fc_neural_of(m). */
int fc_neural_model(const fc_neural *net, fc_model **out, fc_err *err);
/* The net of a "neural" model (fitted, loaded or made above), borrowed
 * from m; NULL for any other model and for the constant fallback. */
const fc_neural *fc_neural_of(const fc_model *m);

#ifdef __cplusplus
}
#endif
#endif /* FC_NEURAL_H */
