/* experiments.c: the split hash, the paired report and the demo's
 * experiment; storage in db_experiments.c. */
#include "experiments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sha256.h"
#include "webhooks.h"

#include "fc/time.h"

void gw_experiment_json(const gw_experiment *e, fc_buf *out) {
  char ts[FC_TIME_STR];
  fc_time_format(e->created_at, ts);
  fc_buf_puts(out, "{\"id\":");
  fc_buf_json_str(out, e->id);
  fc_buf_puts(out, ",\"kind\":");
  fc_buf_json_str(out, e->kind);
  fc_buf_puts(out, ",\"currency\":");
  if (e->currency[0]) fc_buf_json_str(out, e->currency);
  else fc_buf_puts(out, "null");
  fc_buf_printf(out,
                ",\"champion\":\"%s\",\"challenger\":\"%s\",\"mode\":\"%s\",\"share\":%.15g,"
                "\"created_at\":\"%s\"}",
                e->champion, e->challenger, e->mode, e->share, ts);
}

int gw_experiment_split_arm(const gw_experiment *e, const char *tenant, const char *key_id) {
  /* SHA-256 of "experiment/tenant/key": stable across restarts and nodes,
   * independent between experiments. */
  unsigned char d[GW_SHA256_LEN];
  gw_sha256_ctx s;
  uint64_t v = 0;
  gw_sha256_init(&s);
  gw_sha256_update(&s, e->id, strlen(e->id));
  gw_sha256_update(&s, "/", 1);
  gw_sha256_update(&s, tenant, strlen(tenant));
  gw_sha256_update(&s, "/", 1);
  gw_sha256_update(&s, key_id, strlen(key_id));
  gw_sha256_final(&s, d);
  for (int i = 0; i < 8; i++) v = v << 8 | d[i];
  return (double)(v >> 11) / 9007199254740992.0 < e->share;
}

int gw_experiment_sources(const gw_experiment *e, gw_arm_sources *out) {
  memset(out, 0, sizeof *out);
  if (!strcmp(e->kind, "revenue")) {
    /* The served forecast is recorded as "champion" or, when the champion
     * does not cover the history, "refit" (handlers_insights.c). */
    out->kind[0] = "revenue";
    out->champion[0] = "champion";
    out->champion[1] = "refit";
    out->challenger = "snaive";
    return 1;
  }
  if (!strcmp(e->kind, "cash_flow")) {
    out->kind[0] = "cash_flow_out";
    out->kind[1] = "cash_flow_in";
    out->champion[0] = "gbdt";
    out->challenger = "seasonal";
    return 1;
  }
  return 0;
}

typedef struct arm {
  size_t n, hours;
  double mae_sum, cov_sum, brier_sum;
  size_t n_brier;
} arm;

static void arm_json(fc_buf *out, const char *name, const char *method, const arm *a) {
  fc_buf_printf(out, "\"%s\":{\"method\":\"%s\",\"predictions\":%zu,\"realized_hours\":%zu,\"mae\":", name, method,
                a->n, a->hours);
  if (a->n) fc_buf_json_num(out, a->mae_sum / (double)a->n);
  else fc_buf_puts(out, "null");
  fc_buf_puts(out, ",\"coverage_80\":");
  if (a->n) fc_buf_json_num(out, a->cov_sum / (double)a->n);
  else fc_buf_puts(out, "null");
  fc_buf_printf(out, ",\"brier_48h_n\":%zu,\"brier_48h\":", a->n_brier);
  if (a->n_brier) fc_buf_json_num(out, a->brier_sum / (double)a->n_brier);
  else fc_buf_puts(out, "null");
  fc_buf_putc(out, '}');
}

/* The pairs' difference (champion MAE - challenger MAE). */
static void difference_json(fc_buf *out, const gw_arm_pred *v, size_t n) {
  double sum = 0, sq = 0;
  size_t k = 0;
  /* Rows come ordered by currency, origin and horizon: a pair is two
   * adjacent rows of the same currency and origin, one per arm. */
  for (size_t i = 0; i + 1 < n; i++)
    if (v[i].challenger != v[i + 1].challenger && !strcmp(v[i].currency, v[i + 1].currency) &&
        !strcmp(v[i].group, v[i + 1].group) && v[i].origin == v[i + 1].origin && v[i].horizon == v[i + 1].horizon) {
      const gw_arm_pred *a = v[i].challenger ? &v[i + 1] : &v[i], *b = v[i].challenger ? &v[i] : &v[i + 1];
      double d = a->mae - b->mae;
      i++;
      sum += d;
      sq += d * d;
      k++;
    }
  fc_buf_printf(out,
                "\"difference\":{\"measure\":\"champion MAE - challenger MAE per paired prediction\","
                "\"pairs\":%zu,\"mean\":",
                k);
  if (!k) {
    fc_buf_puts(out, "null,\"ci95\":null,\"significant\":false,\"verdict\":\"no paired realized predictions yet\"}");
    return;
  }
  double mean = sum / (double)k;
  fc_buf_json_num(out, mean);
  if (k < 2) {
    fc_buf_puts(out, ",\"ci95\":null,\"significant\":false,\"verdict\":\"one pair: no interval yet\"}");
    return;
  }
  double var = (sq - (double)k * mean * mean) / (double)(k - 1),
         half = 1.96 * sqrt(var > 0 ? var : 0) / sqrt((double)k);
  int sig = mean - half > 0 || mean + half < 0;
  fc_buf_puts(out, ",\"ci95\":[");
  fc_buf_json_num(out, mean - half);
  fc_buf_putc(out, ',');
  fc_buf_json_num(out, mean + half);
  fc_buf_printf(out, "],\"significant\":%s,\"verdict\":\"%s\"}", sig ? "true" : "false",
                !sig       ? "no significant difference"
                : mean > 0 ? "the challenger is more accurate"
                           : "the champion is more accurate");
}

int gw_experiment_report(gw_db *db, const gw_experiment *e, fc_buf *out, fc_err *err) {
  arm arms[2];
  gw_arm_pred *v = NULL;
  size_t n = 0;
  int rc = gw_db_experiment_predictions(db, e, &v, &n, err);
  if (rc != FC_OK) return rc;
  memset(arms, 0, sizeof arms);
  for (size_t i = 0; i < n; i++) {
    arm *a = &arms[v[i].challenger];
    a->n++;
    a->mae_sum += v[i].mae;
    a->hours += v[i].hours;
    a->cov_sum += v[i].coverage;
    if (v[i].has_brier) {
      a->brier_sum += v[i].brier;
      a->n_brier++;
    }
  }
  fc_buf_puts(out, "{\"experiment\":");
  gw_experiment_json(e, out);
  fc_buf_puts(out, ",\"arms\":{");
  arm_json(out, "champion", e->champion, &arms[0]);
  fc_buf_putc(out, ',');
  arm_json(out, "challenger", e->challenger, &arms[1]);
  fc_buf_puts(out, "},");
  difference_json(out, v, n);
  fc_buf_putc(out, '}');
  free(v);
  return FC_OK;
}

int gw_experiments_seed_demo(gw_db *db, fc_err *err) {
  gw_experiment e;
  int rc = gw_db_experiment_for(db, "demo", "treasury", NULL, &e, err);
  if (rc != FC_ENOTFOUND) return rc;
  memset(&e, 0, sizeof e);
  if (gw_random_token("exp_", 12, e.id, sizeof e.id) != 0) return fc_err_set(err, FC_EUNSUPPORTED, "no randomness");
  snprintf(e.tenant, sizeof e.tenant, "demo");
  snprintf(e.kind, sizeof e.kind, "treasury");
  snprintf(e.champion, sizeof e.champion, "rule");
  snprintf(e.challenger, sizeof e.challenger, "ml");
  snprintf(e.mode, sizeof e.mode, "shadow");
  e.share = 0;
  e.created_at = 0; /* from the start: every recorded projection of the demo counts */
  fc_err_clear(err);
  return gw_db_experiment_insert(db, &e, err);
}
