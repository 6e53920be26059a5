/* handlers_usage.c: GET /v1/usage?tenant=&from=&to=&granularity=day|hour.
 *
 * The admin key reads any tenant (or all, without tenant=); a partner key
 * reads only its own tenant (tenant= absent or equal, else 403). from and
 * to are dates or ISO 8601 times, [from, to); defaults: the start of the
 * current month to the end of the current hour. Rows are grouped by
 * period, tenant, key, endpoint and status class; counts come from the
 * committed usage table, the same numbers billing exports.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "handlers.h"
#include "ratelimit.h"

#include "fc/time.h"

GW_HANDLER(gw_handle_usage) {
  char key[32], val[FC_TEXT_MAX + 1], tenant[FC_TEXT_MAX + 1] = "";
  int64_t now = (int64_t)time(NULL), from = gw_month_start(gw_month_of(now));
  int64_t to = now - now % 3600 + 3600, total = 0;
  int by_hour = 0, has_tenant = 0, seen = 0, r;
  const char *cur = req->query;
  fc_err err;
  while ((r = gw_query_next(&cur, key, sizeof key, val, sizeof val)) == 1) {
    int bit = strcmp(key, "tenant") == 0        ? 1
              : strcmp(key, "from") == 0        ? 2
              : strcmp(key, "to") == 0          ? 4
              : strcmp(key, "granularity") == 0 ? 8
                                                : 0;
    if (!bit || (seen & bit)) return gw_fail(res, GW_EPARAM, "unknown or repeated parameter '%s'", key);
    seen |= bit;
    if (bit == 1) {
      snprintf(tenant, sizeof tenant, "%s", val);
      has_tenant = 1;
    } else if (bit == 2 || bit == 4) {
      int64_t *t = bit == 2 ? &from : &to;
      if (fc_time_parse(val, strlen(val), t, &err) != FC_OK) return gw_fail(res, GW_EPARAM, "%s: %s", key, err.msg);
    } else if (strcmp(val, "hour") == 0 || strcmp(val, "day") == 0) {
      by_hour = val[0] == 'h';
    } else {
      return gw_fail(res, GW_EPARAM, "granularity: expected day or hour");
    }
  }
  if (r < 0) return gw_fail(res, GW_EPARAM, "malformed query string");
  if (to <= from) return gw_fail(res, GW_EPARAM, "to must be after from");
  if (call->caller == GW_CALLER_PARTNER) {
    if (has_tenant && strcmp(tenant, call->tenant) != 0)
      return gw_fail(res, GW_EFORBIDDEN, "a key reads only its own tenant's usage");
    snprintf(tenant, sizeof tenant, "%s", call->tenant);
    has_tenant = 1;
  }
  char f[FC_TIME_STR], t[FC_TIME_STR];
  fc_time_format(from, f);
  fc_time_format(to, t);
  fc_buf rows;
  fc_buf_init(&rows);
  fc_err_clear(&err);
  int rc = gw_db_usage_write(app->db, has_tenant ? tenant : NULL, from, to, by_hour, 0, &rows, &total, &err);
  if (rc == FC_OK) {
    res->status = 200;
    res->content_type = "application/json";
    fc_buf_puts(&res->body, "{\"tenant\":");
    if (has_tenant) fc_buf_json_str(&res->body, tenant);
    else fc_buf_puts(&res->body, "null");
    fc_buf_printf(&res->body,
                  ",\"from\":\"%s\",\"to\":\"%s\",\"granularity\":\"%s\","
                  "\"total_calls\":%lld,\"rows\":",
                  f, t, by_hour ? "hour" : "day", (long long)total);
    fc_buf_append(&res->body, rows.data, rows.len);
    fc_buf_putc(&res->body, '}');
    gw_response_header(res, "Cache-Control", "no-store");
  } else {
    rc = gw_fail_err(res, rc, &err);
  }
  fc_buf_free(&rows);
  return rc;
}
