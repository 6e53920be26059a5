/* model_io.c: the versioned, checksummed byte format of fitted models
 * (layout in model.h), the bounded reader the models' state loaders use,
 * and the table of state writers/readers per model-table row. */
#include <math.h>
#include <string.h>

#include "fc/buf.h"
#include "fc/model.h"
#include "internal.h"
#include "model_internal.h"

static const char MAGIC[8] = {'F', 'C', 'M', 'O', 'D', 'E', 'L', '\n'};
#define HEADER    24 /* magic, version, flags, body length */
#define MAX_DEPTH 2  /* a model may hold one nested model (MSTL) */

typedef struct serializer {
  const fc_model_def *def;
  fc__state_save save;
  fc__state_load load;
} serializer;

static const serializer table[] = {
    {&fc__model_naive, fc__naive_save, fc__naive_load},       {&fc__model_snaive, fc__naive_save, fc__naive_load},
    {&fc__model_naive2, fc__naive_save, fc__naive_load},      {&fc__model_theta, fc__theta_save, fc__theta_load},
    {&fc__model_otheta, fc__theta_save, fc__theta_load},      {&fc__model_ets, fc__ets_save, fc__ets_load},
    {&fc__model_mstl, fc__mstl_save, fc__mstl_load},          {&fc__model_arima, fc__arima_save, fc__arima_load},
    {&fc__model_prophet, fc__prophet_save, fc__prophet_load}, {&fc__model_neural, fc__neural_save, fc__neural_load},
};

static const serializer *find(const fc_model_def *def) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].def == def) return &table[i];
  return NULL;
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

void fc__put_u64(fc_buf *b, uint64_t v) {
  unsigned char x[8];
  for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
  fc_buf_append(b, x, 8);
}

void fc__put_f64(fc_buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  fc__put_u64(b, u);
}

void fc__put_f64s(fc_buf *b, const double *v, size_t n) {
  for (size_t i = 0; i < n; i++) fc__put_f64(b, v[i]);
}

static uint64_t get_bytes(fc__rd *r, size_t k) {
  uint64_t v = 0;
  if (r->bad || r->len - r->pos < k) {
    r->bad = 1;
    return 0;
  }
  for (size_t i = 0; i < k; i++) v |= (uint64_t)r->p[r->pos + i] << (8 * i);
  r->pos += k;
  return v;
}

uint64_t fc__get_u64(fc__rd *r) { return get_bytes(r, 8); }

double fc__get_f64(fc__rd *r) {
  uint64_t u = get_bytes(r, 8);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

size_t fc__get_count(fc__rd *r, size_t lo, size_t hi) {
  uint64_t v = get_bytes(r, 8);
  if (r->bad || v < lo || v > hi) {
    r->bad = 1;
    return lo;
  }
  return (size_t)v;
}

double *fc__get_f64s(fc__rd *r, size_t n) {
  double *v;
  if (r->bad || (r->len - r->pos) / 8 < n || !(v = fc__mallocarray(n, sizeof *v))) {
    r->bad = 1;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i] = fc__get_f64(r))) {
      fc__free(v);
      r->bad = 1;
      return NULL;
    }
  return v;
}

void fc__model_body_save(const fc_model *m, fc_buf *b) {
  const fc_model_def *def = fc__model_def(m);
  const char *name = fc_model_name(m);
  size_t len = strlen(name);
  fc_buf_putc(b, (char)len);
  fc_buf_append(b, name, len);
  fc_buf_putc(b, (char)fc__model_nonneg(m));
  fc__put_f64(b, fc__model_constant(m));
  if (def) find(def)->save(fc__model_state(m), b);
}

int fc__model_body_load(fc__rd *r, int depth, fc_model **out) {
  char name[64];
  size_t len = (size_t)get_bytes(r, 1);
  const fc_model_def *def = NULL;
  const serializer *ser = NULL;
  void *state = NULL;
  int nonneg, rc;
  double constant;
  *out = NULL;
  if (r->bad || depth > MAX_DEPTH || len == 0 || len >= sizeof name || r->len - r->pos < len) return FC_ECORRUPT;
  memcpy(name, r->p + r->pos, len);
  name[len] = '\0';
  r->pos += len;
  nonneg = (int)get_bytes(r, 1);
  constant = fc__get_f64(r);
  if (r->bad || nonneg > 1 || !isfinite(constant)) return FC_ECORRUPT;
  if (strcmp(name, "constant") != 0) {
    if (!(def = fc_model_find(name)) || !(ser = find(def))) return FC_ECORRUPT;
    if (depth == MAX_DEPTH && def == &fc__model_mstl) return FC_ECORRUPT;
    if ((rc = ser->load(r, &state))) return rc;
  }
  if (!(*out = fc__model_make(def, state, constant, nonneg))) {
    if (def) def->destroy(state);
    return FC_ENOMEM;
  }
  return FC_OK;
}

int fc_model_save(const fc_model *m, fc_buf *out, fc_err *err) {
  size_t start, body;
  uint64_t sum;
  if (m == NULL || out == NULL) return fc__err(err, FC_EINVAL, "model save: NULL argument");
  if (fc__model_def(m) && !find(fc__model_def(m)))
    return fc__err(err, FC_EUNSUPPORTED, "model save: %s has no serializer", fc_model_name(m));
  start = out->len;
  fc_buf_append(out, MAGIC, 8);
  fc__put_u64(out, FC_MODEL_FORMAT_VERSION); /* u32 version, u32 flags 0 */
  fc__put_u64(out, 0);                       /* body length, patched below */
  body = out->len;
  fc__model_body_save(m, out);
  if (fc_buf_failed(out)) return fc__err(err, FC_ENOMEM, "model save: out of memory");
  {
    uint64_t bl = (uint64_t)(out->len - body);
    for (int i = 0; i < 8; i++) out->data[start + 16 + i] = (char)(unsigned char)(bl >> (8 * i));
  }
  sum = fnv1a((const unsigned char *)out->data + start, out->len - start);
  fc__put_u64(out, sum);
  return fc_buf_failed(out) ? fc__err(err, FC_ENOMEM, "model save: out of memory") : FC_OK;
}

int fc_model_load(const void *data, size_t len, fc_model **out, fc_err *err) {
  fc__rd r;
  uint64_t version, body, sum;
  int rc;
  if (out == NULL || (data == NULL && len > 0)) return fc__err(err, FC_EINVAL, "model load: NULL argument");
  *out = NULL;
  memset(&r, 0, sizeof r);
  r.p = data;
  r.len = len;
  if (len < HEADER + 8 || memcmp(data, MAGIC, 8) != 0)
    return fc__err(err, FC_ECORRUPT, "model load: not a floatcast model (bad magic or too short)");
  r.pos = 8;
  version = fc__get_u64(&r);
  if ((version & 0xffffffffu) != FC_MODEL_FORMAT_VERSION || (version >> 32) != 0)
    return fc__err(err, FC_ECORRUPT, "model load: format version %u, expected %d", (unsigned)(version & 0xffffffffu),
                   FC_MODEL_FORMAT_VERSION);
  body = fc__get_u64(&r);
  if (body != len - HEADER - 8)
    return fc__err(err, FC_ECORRUPT, "model load: body length %llu does not match %zu bytes", (unsigned long long)body,
                   len);
  r.pos = len - 8;
  sum = fc__get_u64(&r);
  if (sum != fnv1a(data, len - 8)) return fc__err(err, FC_ECORRUPT, "model load: checksum mismatch (damaged file)");
  r.len = len - 8;
  r.pos = HEADER;
  if ((rc = fc__model_body_load(&r, 1, out)) != FC_OK || r.pos != r.len) {
    fc_model_destroy(*out);
    *out = NULL;
    if (rc == FC_ENOMEM) return fc__err(err, rc, "model load: out of memory");
    return fc__err(err, FC_ECORRUPT, "model load: invalid model contents");
  }
  return FC_OK;
}
