/* degradation.c: a champion's realized error against its validation. */
#include "degradation.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db_alerts.h"
#include "db_perf.h"
#include "registry.h"
#include "webhooks.h"

#include "fc/flows.h"
#include "fc/metrics.h"
#include "fc/time.h"

typedef struct judged {
  const char *currency, *gran;
  int64_t step;
  gw_model_version champ;
  double val_mase, val_cov, mase, mae, cov;
  size_t n;
} judged;

/* The series' MASE scale over its history up to origin. */
static int mase_scale(const gw_txn_set *all, judged *j, int64_t origin, double *scale, fc_err *err) {
  gw_txn_set one;
  double *y = NULL;
  size_t n = 0;
  int64_t first = 0, last = 0;
  memset(&one, 0, sizeof one);
  one.v = malloc((all->n ? all->n : 1) * sizeof *one.v);
  if (!one.v) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < all->n; i++)
    if (!strcmp(all->v[i].currency, j->currency)) one.v[one.n++] = all->v[i];
  int rc = gw_revenue_series(&one, j->step, &y, &n, &first, &last, err);
  if (rc == FC_OK && origin >= first && origin < last) n = (size_t)((origin - first) / j->step) + 1;
  if (rc == FC_OK) rc = fc_mase_scale(y, n, j->step == FC_STEP_DAY ? 7 : 24, scale, err);
  free(y);
  free(one.v);
  return rc;
}

/* The champion's validation figures from its registry metrics. */
static int validation(judged *j) {
  json_t *m = json_loads(j->champ.metrics ? j->champ.metrics : "", 0, NULL);
  json_t *mase = json_object_get(m, "mase"), *cov = json_object_get(m, "coverage80");
  int ok = json_is_number(mase) && json_number_value(mase) > 0;
  j->val_mase = ok ? json_number_value(mase) : NAN;
  j->val_cov = json_is_number(cov) ? json_number_value(cov) : NAN;
  json_decref(m);
  return ok;
}

static void payload(fc_buf *b, const char *id, const char *tenant, const judged *j, int64_t now, uint64_t job,
                    int by_error, int by_cov) {
  char ts[FC_TIME_STR];
  fc_time_format(now, ts);
  fc_buf_puts(b, "{\"id\":");
  fc_buf_json_str(b, id);
  fc_buf_printf(b, ",\"type\":\"model.degraded\",\"created_at\":\"%s\",\"tenant_id\":", ts);
  fc_buf_json_str(b, tenant);
  fc_buf_puts(b, ",\"data\":{\"kind\":\"revenue\",\"currency\":");
  fc_buf_json_str(b, j->currency);
  fc_buf_printf(b, ",\"granularity\":\"%s\",\"model_version\":%lld,\"config\":", j->gran, (long long)j->champ.version);
  fc_buf_json_str(b, j->champ.config);
  fc_buf_puts(b, ",\"validation\":{\"mase\":");
  fc_buf_json_num(b, j->val_mase);
  fc_buf_puts(b, ",\"coverage_80\":");
  if (isnan(j->val_cov)) fc_buf_puts(b, "null");
  else fc_buf_json_num(b, j->val_cov);
  fc_buf_printf(b, "},\"realized\":{\"n\":%zu,\"mae\":", j->n);
  fc_buf_json_num(b, j->mae);
  fc_buf_puts(b, ",\"mase\":");
  fc_buf_json_num(b, j->mase);
  fc_buf_puts(b, ",\"coverage_80\":");
  fc_buf_json_num(b, j->cov);
  fc_buf_printf(b, "},\"factor\":%.15g,\"coverage_floor\":%.15g,\"reasons\":[", GW_DEGRADE_FACTOR,
                0.8 - GW_DEGRADE_COVERAGE_BAND);
  if (by_error) fc_buf_puts(b, "\"realized MASE above factor x validation MASE\"");
  if (by_cov) fc_buf_printf(b, "%s\"p10-p90 coverage below the band\"", by_error ? "," : "");
  fc_buf_puts(b, "],\"retrain_job\":");
  if (job) fc_buf_printf(b, "%llu}}", (unsigned long long)job);
  else fc_buf_puts(b, "null}}");
}

/* Opens the series' episode (and queues its retraining) unless open. */
static int raise_alert(gw_db *db, struct gw_registry *reg, struct gw_webhooks *hooks, const char *tenant,
                       const char *subject, const judged *j, int by_error, int by_cov, const char **status,
                       fc_err *err) {
  int open = 0, opened = 0;
  char id[GW_EVENT_ID_MAX];
  uint64_t job = 0;
  fc_buf body;
  int rc = gw_db_alert_is_open(db, tenant, "model.degraded", subject, &open, err);
  *status = "open"; /* already alerted: nothing more sent or queued */
  if (rc != FC_OK || open) return rc;
  if (gw_random_token("evt_", 16, id, sizeof id) != 0) return fc_err_set(err, FC_EUNSUPPORTED, "no system randomness");
  if (reg) {
    gw_retrain_opts o = gw_retrain_defaults();
    snprintf(o.currency, sizeof o.currency, "%s", j->currency);
    o.granularities = gw_granularity_bit(j->gran);
    job = gw_registry_request(reg, tenant, &o);
  }
  fc_buf_init(&body);
  payload(&body, id, tenant, j, (int64_t)time(NULL), job, by_error, by_cov);
  rc = fc_buf_failed(&body) ? fc_err_set(err, FC_ENOMEM, "out of memory")
                            : gw_db_alert_open(db, 0, tenant, "model.degraded", subject, id, j->mase, body.data,
                                               (int64_t)time(NULL), &opened, err);
  fc_buf_free(&body);
  if (rc == FC_OK && opened) {
    *status = "opened";
    if (hooks) gw_webhooks_wake(hooks);
  }
  return rc;
}

/* One series: judge its champion; *status says what happened. */
static int judge(gw_db *db, struct gw_registry *reg, struct gw_webhooks *hooks, const char *tenant,
                 const gw_txn_set *all, judged *j, const char **status, fc_err *err) {
  gw_realized w[GW_DEGRADE_WINDOW];
  int64_t origin;
  double scale = NAN, ae = 0, in = 0;
  char subject[64];
  int closed = 0, rc;
  *status = "no champion";
  rc = gw_db_model_champion(db, tenant, "revenue", j->currency, j->gran, &j->champ, err);
  if (rc == FC_ENOTFOUND) return FC_OK;
  if (rc != FC_OK) return rc;
  rc = gw_db_realized_window(db, tenant, "revenue", j->currency, j->gran, "champion", j->champ.version,
                             GW_DEGRADE_WINDOW, w, &j->n, &origin, err);
  *status = "too few realized steps";
  if (rc != FC_OK || j->n < GW_DEGRADE_MIN_STEPS || !validation(j)) return rc;
  if (mase_scale(all, j, origin, &scale, err) != FC_OK) {
    *status = "no MASE scale for this history";
    return FC_OK;
  }
  for (size_t i = 0; i < j->n; i++) {
    ae += fabs(w[i].actual - w[i].mean);
    in += w[i].actual >= w[i].lo && w[i].actual <= w[i].hi;
  }
  j->mae = ae / (double)j->n;
  j->mase = j->mae / scale;
  j->cov = in / (double)j->n;
  int by_error = j->mase > GW_DEGRADE_FACTOR * j->val_mase, by_cov = j->cov < 0.8 - GW_DEGRADE_COVERAGE_BAND;
  snprintf(subject, sizeof subject, "revenue:%s:%s", j->currency, j->gran);
  if (by_error || by_cov) return raise_alert(db, reg, hooks, tenant, subject, j, by_error, by_cov, status, err);
  rc = gw_db_alert_close(db, 0, tenant, "model.degraded", subject, j->mase, (int64_t)time(NULL), &closed, err);
  *status = closed ? "closed" : "healthy";
  return rc;
}

int gw_degradation_check(gw_db *db, struct gw_registry *registry, struct gw_webhooks *hooks, const char *tenant,
                         const gw_txn_set *all, fc_buf *result, fc_err *err) {
  int rc = FC_OK, first = 1;
  fc_buf_putc(result, '[');
  for (size_t i = 0; rc == FC_OK && i < all->n; i++) {
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++) seen = !strcmp(all->v[k].currency, all->v[i].currency);
    for (int g = 0; !seen && rc == FC_OK && g < 2; g++) {
      judged j;
      const char *status = "";
      memset(&j, 0, sizeof j);
      j.currency = all->v[i].currency;
      j.gran = g ? "hour" : "day";
      j.step = g ? FC_STEP_HOUR : FC_STEP_DAY;
      j.mase = j.val_mase = j.cov = NAN;
      rc = judge(db, registry, hooks, tenant, all, &j, &status, err);
      if (rc == FC_OK && j.champ.version) {
        fc_buf_printf(result, "%s{\"currency\":", first ? "" : ",");
        fc_buf_json_str(result, j.currency);
        fc_buf_printf(result, ",\"granularity\":\"%s\",\"version\":%lld,\"n\":%zu,\"realized_mase\":", j.gran,
                      (long long)j.champ.version, j.n);
        if (isnan(j.mase)) fc_buf_puts(result, "null");
        else fc_buf_json_num(result, j.mase);
        fc_buf_puts(result, ",\"validation_mase\":");
        if (isnan(j.val_mase)) fc_buf_puts(result, "null");
        else fc_buf_json_num(result, j.val_mase);
        fc_buf_puts(result, ",\"coverage_80\":");
        if (isnan(j.cov)) fc_buf_puts(result, "null");
        else fc_buf_json_num(result, j.cov);
        fc_buf_printf(result, ",\"status\":\"%s\"}", status);
        first = 0;
      }
      gw_model_version_free(&j.champ);
    }
  }
  fc_buf_putc(result, ']');
  return rc;
}
