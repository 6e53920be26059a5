/* fuzz_records.c: libFuzzer entry point for every reader of untrusted
 * bytes: CSV and JSON batches of each record kind, plain JSON documents,
 * ISO timestamps, decimals, time-series sets, boosted-tree model files and
 * fitted forecasting models (first byte 6), numeric CSV tables of the
 * boosted trees (first byte 7).
 * The first byte picks the target so one
 * corpus covers them all. Any crash, leak or sanitizer report is a bug; the
 * inputs that found one are kept in regression/ and replayed by ctest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc.h"
#include "fc/gbdt.h"
#include "fc/model.h"
#include "fc/tsread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  unsigned sel = size ? data[0] : 0;
  fc_err err;
  if (size == 0) return 0;
  if (sel == 6) { /* a fitted forecasting model: refuse damage; a loaded model must forecast */
    fc_model *m = NULL;
    if (fc_model_load(s, n, &m, &err) == FC_OK) {
      fc_forecast f;
      double lv[2] = {80, 95};
      if (fc_forecast_init(&f, 30, lv, 2, &err) == FC_OK) {
        (void)fc_model_forecast(m, &f, &err);
        fc_forecast_free(&f);
      }
      fc_model_destroy(m);
    }
    return 0;
  }
  if (sel == 7) { /* a numeric table (table.h): read it, gather its columns backwards */
    fc_table t;
    if (fc_table_read(s, n, &t, &err) == FC_OK) {
      const char *names[8];
      size_t k = t.ncol < 8 ? t.ncol : 8;
      double *x = NULL;
      for (size_t i = 0; i < k; i++) names[i] = t.names[t.ncol - 1 - i];
      if (fc_table_gather(&t, names, k, &x, &err) == FC_OK) free(x);
      fc_table_free(&t);
    }
    return 0;
  }
  switch (sel % 6) {
  case 0: { /* a batch of one record kind, CSV or JSON */
    fc_batch *b = NULL;
    fc_load_report rep;
    fc_record_kind kind = (fc_record_kind)((sel / 4) % 5);
    fc_format fmt = (sel / 20) % 2 ? FC_FORMAT_JSON : FC_FORMAT_CSV;
    if (fc_batch_parse(kind, fmt, s, n, NULL, &b, &rep, &err) == FC_OK) {
      /* A batch that reads must also load into a treasury and project. */
      if (kind <= FC_RECORD_LEDGER) {
        fc_treasury *t = fc_treasury_create(NULL);
        fc_projection_params p = fc_projection_defaults();
        fc_projection *pr = NULL;
        if (t && fc_treasury_add_batch(t, b, &err) == FC_OK) {
          p.now = 1764590400;
          const char *ten[1];
          if (fc_treasury_tenants(t, ten, 1) >= 1) p.tenant_id = ten[0];
          if (fc_project_rule(t, &p, &pr, &err) == FC_OK) {
            fc_buf out;
            fc_buf_init(&out);
            fc_projection_write_json(pr, &out);
            fc_buf_free(&out);
            fc_projection_destroy(pr);
          }
        }
        fc_treasury_destroy(t);
      }
      fc_batch_destroy(b);
    }
    break;
  }
  case 1: {
    fc_json_doc *d = NULL;
    if (fc_json_parse(s, n, &d, &err) == FC_OK) fc_json_doc_destroy(d);
    break;
  }
  case 2: {
    int64_t t;
    char out[FC_TIME_STR];
    if (fc_time_parse(s, n, &t, &err) == FC_OK) fc_time_format(t, out);
    break;
  }
  case 4: { /* a model file: load must refuse damage; a loaded model must predict */
    fc_gbdt *m = NULL;
    if (fc_gbdt_load(s, n, &m, &err) == FC_OK) {
      size_t nf = fc_gbdt_num_features(m);
      double x[64], y;
      for (size_t i = 0; i < 64; i++) x[i] = (double)i - 3.5;
      if (nf <= 64) fc_gbdt_predict(m, x, 1, nf, NULL, &y, &err);
      fc_gbdt_destroy(m);
    }
    break;
  }
  case 5: { /* time-series sets, long form or M4 wide form */
    fc_series_set set;
    memset(&set, 0, sizeof set);
    if (((sel / 6) % 2 ? fc_m4_parse(s, n, &set, &err) : fc_long_parse(s, n, &set, &err)) == FC_OK)
      fc_series_set_free(&set);
    break;
  }
  default: {
    int64_t v;
    char out[FC_MONEY_STR_MAX];
    int scale = (int)((sel / 4) % 13);
    if (fc_money_parse(s, n, scale, &v, &err) == FC_OK) fc_money_format(v, scale, out, sizeof out);
    { /* the same text as an exact rate: it must format and multiply without fault */
      fc_decimal d;
      char rate[FC_DECIMAL_STR_MAX];
      if (fc_decimal_parse(s, n, &d, &err) == FC_OK) {
        if (fc_decimal_format(d, scale, rate, sizeof rate) < 0) __builtin_trap();
        (void)fc_decimal_mul(d, 86400, scale, &v);
        (void)fc_decimal_mul(d, INT64_MAX, scale, &v);
      }
    }
    break;
  }
  }
  return 0;
}
