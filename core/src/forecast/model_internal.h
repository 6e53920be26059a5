/* model_internal.h: what the forecasting models share behind model.h; not
 * installed. The rows of the model table, the fitted handle's parts, and
 * the model byte format's writer and bounds-checked reader (model_io.c),
 * which every model's save/load uses. */
#ifndef FC_MODEL_INTERNAL_H
#define FC_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fc/model.h"

/* The model-specific state behind a fitted handle and its table row (NULL
 * for the constant-history fallback). */
const void *fc__model_state(const fc_model *m);
const fc_model_def *fc__model_def(const fc_model *m);

/* Internal access to the model table rows. */
extern const fc_model_def fc__model_naive;
extern const fc_model_def fc__model_snaive;
extern const fc_model_def fc__model_naive2;
extern const fc_model_def fc__model_theta;
extern const fc_model_def fc__model_otheta;
extern const fc_model_def fc__model_ets;
extern const fc_model_def fc__model_mstl;
extern const fc_model_def fc__model_arima;
extern const fc_model_def fc__model_prophet;
extern const fc_model_def fc__model_neural;

/* Model serialization (model_io.c). Writers append little-endian bytes to
 * an fc_buf; the reader never reads past its end: a short or invalid read
 * sets bad and yields 0, so a loader checks r->bad once at the end. */
typedef struct fc_buf fc_buf;
typedef struct fc__rd {
  const unsigned char *p;
  size_t len, pos;
  int bad;
} fc__rd;

void fc__put_u64(fc_buf *b, uint64_t v);
void fc__put_f64(fc_buf *b, double v);
void fc__put_f64s(fc_buf *b, const double *v, size_t n);
uint64_t fc__get_u64(fc__rd *r);
double fc__get_f64(fc__rd *r);
/* A count in [lo, hi] (else bad). */
size_t fc__get_count(fc__rd *r, size_t lo, size_t hi);
/* n finite doubles into a new array (NULL and bad on a short read, a
 * non-finite value or no memory). */
double *fc__get_f64s(fc__rd *r, size_t n);

/* A model's state writer and reader: load returns FC_OK with a new state,
 * or FC_ECORRUPT / FC_ENOMEM with nothing allocated. */
typedef void (*fc__state_save)(const void *state, fc_buf *b);
typedef int (*fc__state_load)(fc__rd *r, void **state);

void fc__naive_save(const void *state, fc_buf *b);
int fc__naive_load(fc__rd *r, void **state);
void fc__theta_save(const void *state, fc_buf *b);
int fc__theta_load(fc__rd *r, void **state);
void fc__ets_save(const void *state, fc_buf *b);
int fc__ets_load(fc__rd *r, void **state);
void fc__mstl_save(const void *state, fc_buf *b);
int fc__mstl_load(fc__rd *r, void **state);
void fc__arima_save(const void *state, fc_buf *b);
int fc__arima_load(fc__rd *r, void **state);
void fc__prophet_save(const void *state, fc_buf *b);
int fc__prophet_load(fc__rd *r, void **state);
void fc__neural_save(const void *state, fc_buf *b);
int fc__neural_load(fc__rd *r, void **state);

/* A nested model (MSTL's adjusted-series model) inside a model body. */
void fc__model_body_save(const fc_model *m, fc_buf *b);
int fc__model_body_load(fc__rd *r, int depth, fc_model **out);

/* Handle from parts (model_io.c): def NULL means the constant fallback. */
fc_model *fc__model_make(const fc_model_def *def, void *state, double constant, int nonneg);
double fc__model_constant(const fc_model *m);
int fc__model_nonneg(const fc_model *m);

#endif /* FC_MODEL_INTERNAL_H */
