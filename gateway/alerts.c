/* alerts.c: evaluation of a tenant's depletion risk against its settings,
 * and the hourly re-evaluation of every tenant that has settings. */
#include "alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db_alerts.h"
#include "flowmodels.h"
#include "webhooks.h"

#include "fc/money.h"
#include "fc/project.h"
#include "fc/time.h"

struct gw_alerts {
  uv_loop_t *loop;
  gw_db *db;
  struct gw_flowmodels *flows;
  gw_webhooks *hooks;
  uv_timer_t hourly;
  uv_work_t work;
  int hourly_running, stopped;
  uv_mutex_t lock;
  uint64_t evaluations, opened;
  /* Evaluations of one tenant overlap (the periodic run, the one after
   * each refit): each takes a ticket before it reads anything, and judges
   * only if no evaluation that read later has judged the tenant already.
   * Else a slow evaluation of the data before an ingestion would close the
   * episode the ingestion's evaluation opened, and the next one would open
   * a second alert for one breach. tickets under lock; judged under
   * judging, held while judging so that the check and the writes are one
   * step. On PostgreSQL the tickets come from the database (shared by
   * every node) and each write compares its ticket with the subject's
   * stored watermark too: this table alone is one process's view. */
  uint64_t tickets;
  uv_mutex_t judging;
  struct judged {
    char *tenant;
    uint64_t ticket;
  } * judged;
  size_t n_judged, cap_judged;
  /* FC_ALERTS_TEST_HOLD_MS: the periodic run says so on stderr and waits
   * this long between projecting and judging, so that a test can make an
   * ingestion land inside the window (test_alerts.py, StaleEvaluation).
   * 0 otherwise. */
  unsigned hold_ms;
};

/* "USDC=25000.00,USD=100.00" from the stored {"USDC":"25000.00",...}. */
static int floors_spec(const char *floors_json, fc_buf *spec, fc_err *err) {
  json_error_t je;
  json_t *j = json_loads(floors_json, 0, &je), *v;
  const char *k;
  if (!json_is_object(j)) {
    json_decref(j);
    return fc_err_set(err, FC_ECORRUPT, "stored floors are not a JSON object");
  }
  json_object_foreach(j, k, v) {
    if (spec->len) fc_buf_putc(spec, ',');
    fc_buf_printf(spec, "%s=%s", k, json_string_value(v) ? json_string_value(v) : "0");
  }
  json_decref(j);
  return FC_OK;
}

static int has_floor(const char *floors_json, const char *ccy) {
  json_t *j = json_loads(floors_json, 0, NULL);
  int yes = json_object_get(j, ccy) != NULL;
  json_decref(j);
  return yes;
}

static void iso(fc_buf *b, int64_t t) {
  char ts[FC_TIME_STR];
  if (t == FC_TIME_NONE) {
    fc_buf_puts(b, "null");
    return;
  }
  fc_time_format(t, ts);
  fc_buf_printf(b, "\"%s\"", ts);
}

static void money(fc_buf *b, int64_t v, int scale) {
  char s[FC_MONEY_STR_MAX];
  if (fc_money_format(v, scale, s, sizeof s) < 0) fc_buf_puts(b, "null");
  else fc_buf_printf(b, "\"%s\"", s);
}

/* The event body of a depletion alert (webhooks.h describes the
 * delivery; docs in gateway/README.md). */
static void depletion_payload(fc_buf *b, const char *id, const char *tenant, int64_t now, const gw_alert_settings *s,
                              const fc_projection *pr, const fc_currency_projection *c) {
  static const char *q[3] = {"p10", "p50", "p90"};
  fc_buf_puts(b, "{\"id\":");
  fc_buf_json_str(b, id);
  fc_buf_puts(b, ",\"type\":\"depletion.alert\",\"created_at\":");
  iso(b, now);
  fc_buf_puts(b, ",\"tenant_id\":");
  fc_buf_json_str(b, tenant);
  fc_buf_puts(b, ",\"data\":{\"currency\":");
  fc_buf_json_str(b, c->currency);
  fc_buf_puts(b, ",\"probability\":");
  fc_buf_json_fixed(b, c->p_horizon, 4);
  /* %.15g: the threshold as the partner wrote it (0.3, not 0.2999...). */
  fc_buf_printf(b, ",\"threshold\":%.15g", s->probability);
  fc_buf_printf(b, ",\"horizon_hours\":%d,\"as_of\":", s->horizon_hours);
  iso(b, pr->as_of);
  fc_buf_puts(b, ",\"floor\":");
  money(b, c->floor, c->scale);
  fc_buf_puts(b, ",\"balance\":");
  money(b, c->balance, c->scale);
  fc_buf_puts(b, ",\"expected_at\":");
  iso(b, c->expected_at);
  /* The breach time range: the hours by which P(breached) reaches 0.1,
   * 0.5 and 0.9, and the same as times. */
  fc_buf_puts(b, ",\"time_to_breach_hours\":{");
  for (int j = 0; j < 3; j++) {
    fc_buf_printf(b, "%s\"%s\":", j ? "," : "", q[j]);
    if (isnan(c->breach_hours[j])) fc_buf_puts(b, "null");
    else fc_buf_json_fixed(b, c->breach_hours[j], 0);
  }
  fc_buf_puts(b, "},\"breach_window\":{");
  for (int j = 0; j < 3; j++) {
    fc_buf_printf(b, "%s\"%s\":", j ? "," : "", q[j]);
    iso(b, isnan(c->breach_hours[j]) ? FC_TIME_NONE : pr->as_of + (int64_t)c->breach_hours[j] * 3600);
  }
  fc_buf_puts(b, "},\"drivers\":");
  fc_projection_write_drivers(c, b);
  fc_buf_puts(b, ",\"model\":{\"method\":\"ml\",\"name\":");
  fc_buf_json_str(b, c->model_name ? c->model_name : "");
  fc_buf_printf(b, ",\"version\":%d}}}", c->model_version);
}

/* One currency's outcome: open, keep or close its episode (or nothing,
 * when another node's evaluation of later data judged it already: stored
 * is the database's ticket, 0 on SQLite). */
static int judge(gw_alerts *a, const char *tenant, int64_t stored, int64_t now, const gw_alert_settings *s,
                 const fc_projection *pr, const fc_currency_projection *c, fc_buf *result, fc_err *err) {
  const char *status;
  int rc, changed = 0;
  double p = isnan(c->p_horizon) ? 0.0 : c->p_horizon;
  if (p >= s->probability) {
    char id[GW_EVENT_ID_MAX];
    fc_buf body;
    if (gw_random_token("evt_", 16, id, sizeof id) != 0)
      return fc_err_set(err, FC_EUNSUPPORTED, "no system randomness");
    fc_buf_init(&body);
    depletion_payload(&body, id, tenant, now, s, pr, c);
    rc = fc_buf_failed(&body) ? fc_err_set(err, FC_ENOMEM, "out of memory")
                              : gw_db_alert_open(a->db, stored, tenant, "depletion.alert", c->currency, id, p,
                                                 body.data, now, &changed, err);
    fc_buf_free(&body);
    status = changed < 0 ? "superseded" : changed ? "opened" : "open";
    if (rc == FC_OK && changed > 0) {
      uv_mutex_lock(&a->lock);
      a->opened++;
      uv_mutex_unlock(&a->lock);
      if (a->hooks) gw_webhooks_wake(a->hooks);
    }
  } else {
    rc = gw_db_alert_close(a->db, stored, tenant, "depletion.alert", c->currency, p, now, &changed, err);
    status = changed < 0 ? "superseded" : changed ? "closed" : "below";
  }
  if (rc == FC_OK && result) {
    fc_buf_puts(result, result->data[result->len - 1] == '[' ? "{\"currency\":" : ",{\"currency\":");
    fc_buf_json_str(result, c->currency);
    fc_buf_puts(result, ",\"probability\":");
    fc_buf_json_fixed(result, p, 4);
    fc_buf_printf(result, ",\"status\":\"%s\"}", status);
  }
  return rc;
}

/* Whether the evaluation holding ticket may judge tenant into *turn: 1
 * (recorded as the newest to judge it), 0 when one that read later has
 * judged it already. 0, or FC_ENOMEM. Under judging. */
static int take_turn(gw_alerts *a, const char *tenant, uint64_t ticket, int *turn, fc_err *err) {
  size_t i = 0;
  while (i < a->n_judged && strcmp(a->judged[i].tenant, tenant) != 0) i++;
  if (i == a->n_judged) {
    if (a->n_judged == a->cap_judged) {
      size_t cap = a->cap_judged ? 2 * a->cap_judged : 16;
      struct judged *v = realloc(a->judged, cap * sizeof *v);
      if (!v) return fc_err_set(err, FC_ENOMEM, "out of memory");
      a->judged = v;
      a->cap_judged = cap;
    }
    if (!(a->judged[i].tenant = strdup(tenant))) return fc_err_set(err, FC_ENOMEM, "out of memory");
    a->judged[i].ticket = 0;
    a->n_judged++;
  }
  *turn = ticket >= a->judged[i].ticket;
  if (*turn) a->judged[i].ticket = ticket;
  return FC_OK;
}

/* A currency this evaluation may not judge: a newer one judged it. */
static void superseded(const fc_currency_projection *c, fc_buf *result) {
  double p = isnan(c->p_horizon) ? 0.0 : c->p_horizon;
  if (!result) return;
  fc_buf_puts(result, result->data[result->len - 1] == '[' ? "{\"currency\":" : ",{\"currency\":");
  fc_buf_json_str(result, c->currency);
  fc_buf_puts(result, ",\"probability\":");
  fc_buf_json_fixed(result, p, 4);
  fc_buf_puts(result, ",\"status\":\"superseded\"}");
}

/* Judges every currency with a floor, unless an evaluation that read the
 * tenant after this one did already. */
static int judge_all(gw_alerts *a, const char *tenant, uint64_t ticket, int64_t stored, const gw_alert_settings *s,
                     const fc_projection *pr, fc_buf *result, fc_err *err) {
  int turn = 0;
  uv_mutex_lock(&a->judging);
  int rc = take_turn(a, tenant, ticket, &turn, err);
  for (size_t i = 0; rc == FC_OK && i < pr->n_currencies; i++) {
    if (!has_floor(s->floors, pr->currencies[i].currency)) continue;
    if (turn) rc = judge(a, tenant, stored, (int64_t)time(NULL), s, pr, &pr->currencies[i], result, err);
    else superseded(&pr->currencies[i], result);
  }
  uv_mutex_unlock(&a->judging);
  return rc;
}

static int project(gw_alerts *a, const char *tenant, const fc_treasury *t, int64_t now, const gw_alert_settings *s,
                   const char *floors, fc_projection **pr, fc_err *err) {
  fc_project_request req = fc_project_defaults();
  req.p.now = now;
  req.p.horizon_hours = s->horizon_hours;
  req.p.tenant_id = tenant;
  req.p.floors = floors;
  req.method = FC_PROJECT_ML;
  return gw_flowmodels_project(a->flows, tenant, t, &req, pr, err);
}

static int evaluate(gw_alerts *a, const char *tenant, int periodic, fc_buf *result, fc_err *err) {
  gw_alert_settings s;
  fc_treasury *t = NULL;
  fc_projection *pr = NULL;
  fc_buf floors;
  int64_t now, shared = 0;
  uint64_t ticket;
  /* Before the settings and the data are read. */
  int rc = gw_db_alert_ticket(a->db, &shared, err);
  if (rc != FC_OK) return rc;
  uv_mutex_lock(&a->lock);
  ticket = shared > 0 ? (uint64_t)shared : ++a->tickets;
  uv_mutex_unlock(&a->lock);
  rc = gw_db_settings_get(a->db, tenant, &s, err);
  if (rc == FC_ENOTFOUND && result) fc_buf_puts(result, "{\"currencies\":[]}");
  if (rc == FC_ENOTFOUND) return FC_OK;
  if (rc != FC_OK) return rc;
  fc_buf_init(&floors);
  if (result) fc_buf_puts(result, "{\"currencies\":[");
  rc = floors_spec(s.floors, &floors, err);
  if (rc == FC_OK && !(t = fc_treasury_create(NULL))) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  if (rc == FC_OK) rc = gw_db_load_tenant(a->db, tenant, t, err);
  now = rc == FC_OK ? fc_treasury_default_now(t, tenant) : FC_TIME_NONE;
  if (rc == FC_OK && now != FC_TIME_NONE && floors.len) rc = project(a, tenant, t, now, &s, floors.data, &pr, err);
  if (periodic && a->hold_ms && pr) {
    /* The line tells the test the data is read; the thread pool waits. */
    fprintf(stderr, "floatcast-gateway: alerts: holding %s for %u ms (FC_ALERTS_TEST_HOLD_MS)\n", tenant, a->hold_ms);
    uv_sleep(a->hold_ms);
    fprintf(stderr, "floatcast-gateway: alerts: released %s\n", tenant);
  }
  if (rc == FC_OK && pr) rc = judge_all(a, tenant, ticket, shared, &s, pr, result, err);
  if (result) fc_buf_puts(result, "]}");
  uv_mutex_lock(&a->lock);
  a->evaluations++;
  uv_mutex_unlock(&a->lock);
  fc_projection_destroy(pr);
  fc_treasury_destroy(t);
  fc_buf_free(&floors);
  gw_alert_settings_free(&s);
  return rc;
}

int gw_alerts_evaluate(gw_alerts *a, const char *tenant, fc_buf *result, fc_err *err) {
  return evaluate(a, tenant, 0, result, err);
}

void gw_alerts_registry_hook(const char *tenant, fc_buf *result, void *arg) {
  fc_err err;
  fc_buf out;
  fc_err_clear(&err);
  fc_buf_init(&out);
  if (gw_alerts_evaluate(arg, tenant, &out, &err) == FC_OK) {
    fc_buf_puts(result, ",\"alerts\":");
    fc_buf_append(result, out.data, out.len);
  } else {
    fc_buf_puts(result, ",\"alerts_error\":");
    fc_buf_json_str(result, err.msg);
  }
  fc_buf_free(&out);
}

/* ---- the hourly run ---- */

static void evaluate_cb(const char *tenant, void *arg) {
  fc_err err;
  fc_err_clear(&err);
  if (evaluate(arg, tenant, 1, NULL, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: alerts for %s: %s\n", tenant, err.msg);
}

static void hourly_work(uv_work_t *w) {
  gw_alerts *a = w->data;
  fc_err err;
  fc_err_clear(&err);
  if (gw_db_settings_tenants(a->db, evaluate_cb, a, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: hourly alerts: %s\n", err.msg);
}

static void hourly_done(uv_work_t *w, int status) {
  gw_alerts *a = w->data;
  (void)status;
  a->hourly_running = 0;
}

static void on_hour(uv_timer_t *h) {
  gw_alerts *a = h->data;
  if (a->hourly_running || a->stopped) return;
  a->work.data = a;
  if (uv_queue_work(a->loop, &a->work, hourly_work, hourly_done) == 0) a->hourly_running = 1;
}

int gw_alerts_create(uv_loop_t *loop, gw_db *db, struct gw_flowmodels *flows, struct gw_webhooks *hooks,
                     uint64_t period_ms, gw_alerts **out, fc_err *err) {
  gw_alerts *a = calloc(1, sizeof *a);
  *out = NULL;
  if (!a) return fc_err_set(err, FC_ENOMEM, "out of memory");
  if (uv_mutex_init(&a->lock) != 0) {
    free(a);
    return fc_err_set(err, FC_ENOMEM, "cannot create a mutex");
  }
  if (uv_mutex_init(&a->judging) != 0) {
    uv_mutex_destroy(&a->lock);
    free(a);
    return fc_err_set(err, FC_ENOMEM, "cannot create a mutex");
  }
  a->loop = loop;
  a->db = db;
  a->flows = flows;
  a->hooks = hooks;
  if (getenv("FC_ALERTS_TEST_HOLD_MS")) a->hold_ms = (unsigned)strtoul(getenv("FC_ALERTS_TEST_HOLD_MS"), NULL, 10);
  uv_timer_init(loop, &a->hourly);
  a->hourly.data = a;
  if (period_ms == 0) period_ms = GW_ALERTS_PERIOD_MS;
  uv_timer_start(&a->hourly, on_hour, period_ms, period_ms);
  *out = a;
  return FC_OK;
}

void gw_alerts_stop(gw_alerts *a) {
  if (!a || a->stopped) return;
  a->stopped = 1;
  uv_close((uv_handle_t *)&a->hourly, NULL);
}

void gw_alerts_destroy(gw_alerts *a) {
  if (!a) return;
  for (size_t i = 0; i < a->n_judged; i++) free(a->judged[i].tenant);
  free(a->judged);
  uv_mutex_destroy(&a->judging);
  uv_mutex_destroy(&a->lock);
  free(a);
}

void gw_alerts_stats(gw_alerts *a, uint64_t *evaluations, uint64_t *opened) {
  uv_mutex_lock(&a->lock);
  *evaluations = a->evaluations;
  *opened = a->opened;
  uv_mutex_unlock(&a->lock);
}
