/* handlers_performance.c: GET /v1/models/performance: the realized error
 * of served forecasts (performance.h) per tenant, series, model version
 * and horizon bucket. A partner key reads its own tenant (tenant= another:
 * 403); the admin key any tenant or, without tenant=, all. */
#include <stdio.h>
#include <string.h>

#include "db_perf.h"
#include "handlers.h"

static int valid_code(const char *s) {
  size_t n = strlen(s);
  if (n < 3 || n > 11) return 0;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return 0;
  return 1;
}

/* 0 when the filters are valid; else a 400 naming the bad one. */
static int check_filters(char args[4][FC_TEXT_MAX + 1], int seen, gw_response *res) {
  static const char *const kinds[] = {
      "revenue", "cash_flow_out", "cash_flow_in", "treasury_rule", "treasury_ml", "treasury_gbdt", NULL};
  int known = 0;
  for (int i = 0; kinds[i]; i++) known |= (seen & 2) && !strcmp(args[1], kinds[i]);
  if ((seen & 2) && !known)
    return gw_fail(res, GW_EPARAM,
                   "kind: expected revenue, cash_flow_out, cash_flow_in, treasury_rule, treasury_ml or "
                   "treasury_gbdt");
  if ((seen & 4) && !valid_code(args[2]))
    return gw_fail(res, GW_EPARAM, "currency: expected a code of 3..11 upper-case letters or digits");
  if ((seen & 8) && strcmp(args[3], "day") && strcmp(args[3], "hour"))
    return gw_fail(res, GW_EPARAM, "granularity: expected day or hour");
  return 0;
}

GW_HANDLER(gw_handle_models_performance) {
  char key[32], val[FC_TEXT_MAX + 1], args[4][FC_TEXT_MAX + 1];
  static const char *const names[4] = {"tenant", "kind", "currency", "granularity"};
  const char *cur = req->query, *a[4];
  int seen = 0, r;
  fc_buf rows;
  size_t count = 0;
  fc_err err;
  while ((r = gw_query_next(&cur, key, sizeof key, val, sizeof val)) == 1) {
    int k = 0;
    while (k < 4 && strcmp(key, names[k]) != 0) k++;
    if (k == 4 || (seen & (1 << k)) || val[0] == '\0')
      return gw_fail(res, GW_EPARAM, "unknown, repeated or empty parameter '%s'", key);
    seen |= 1 << k;
    snprintf(args[k], sizeof args[k], "%s", val);
  }
  if (r < 0) return gw_fail(res, GW_EPARAM, "malformed query string");
  if (call->caller == GW_CALLER_PARTNER) {
    if ((seen & 1) && strcmp(args[0], call->tenant) != 0)
      return gw_fail(res, GW_EFORBIDDEN, "a key reads only its own tenant's performance");
    snprintf(args[0], sizeof args[0], "%s", call->tenant);
    seen |= 1;
  }
  if ((r = check_filters(args, seen, res)) != 0) return r;
  for (int k = 0; k < 4; k++) a[k] = seen & (1 << k) ? args[k] : NULL;
  fc_buf_init(&rows);
  fc_err_clear(&err);
  fc_buf brier, calib;
  size_t n_brier = 0, n_calib = 0;
  fc_buf_init(&brier);
  fc_buf_init(&calib);
  int rc = gw_db_performance_write(app->db, a[0], a[1], a[2], a[3], 0, &rows, &count, &err);
  /* Depletion probabilities are hourly projections': no granularity but
   * hour has any. */
  if (rc == FC_OK && (!a[3] || !strcmp(a[3], "hour")))
    rc = gw_db_brier_write(app->db, a[0], a[1], a[2], 0, &brier, &n_brier, &err);
  else if (rc == FC_OK) fc_buf_puts(&brier, "[]");
  if (rc == FC_OK && (!a[3] || !strcmp(a[3], "hour")))
    rc = gw_db_calibration_write(app->db, a[0], a[1], a[2], &calib, &n_calib, &err);
  else if (rc == FC_OK) fc_buf_puts(&calib, "[]");
  if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
    fc_buf_puts(&res->body, "{\"tenant_id\":");
    if (a[0]) fc_buf_json_str(&res->body, a[0]);
    else fc_buf_puts(&res->body, "null");
    fc_buf_printf(&res->body, ",\"count\":%zu,\"performance\":", count);
    fc_buf_append(&res->body, rows.data, rows.len);
    fc_buf_puts(&res->body, ",\"depletion\":");
    fc_buf_append(&res->body, brier.data, brier.len);
    fc_buf_puts(&res->body, ",\"calibration\":");
    fc_buf_append(&res->body, calib.data, calib.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&rows);
  fc_buf_free(&brier);
  fc_buf_free(&calib);
  return rc;
}
