/* drivers.c: what pushes a currency toward its floor (projection.h's
 * fc_driver), for the rule and the simulated projection alike. */
#include "fc/runway.h"
#include "fc/time.h"
#include "internal.h"
#include "projection_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fc__drivers_init(fc__driver_set *s) { memset(s, 0, sizeof *s); }

static size_t smallest(const fc__driver_set *s) {
  size_t m = 0;
  for (size_t i = 1; i < s->n; i++)
    if (s->d[i].amount < s->d[m].amount) m = i;
  return m;
}

void fc__drivers_add(fc__driver_set *s, const char *kind, const char *id, int64_t amount, int64_t at,
                     const char *text) {
  fc_driver *d;
  if (amount <= 0) return;
  s->total_out += amount;
  if (s->n < FC__DRIVERS_KEEP) {
    d = &s->d[s->n++];
  } else {
    size_t m = smallest(s);
    if (s->d[m].amount >= amount) return;
    d = &s->d[m];
  }
  d->kind = kind;
  snprintf(d->id, sizeof d->id, "%s", id ? id : "");
  d->amount = amount;
  d->at = at;
  d->share = 0;
  snprintf(d->text, sizeof d->text, "%s", text);
}

/* A scheduled transfer's driver text (the rule kit writes the same). */
static void transfer_text(const fc_transfer *tr, int scale, char *text, size_t cap) {
  char amt[FC_MONEY_STR_MAX], when[FC_TIME_STR];
  fc_money_format(tr->amount, scale, amt, sizeof amt);
  fc_time_format(tr->scheduled_for, when);
  snprintf(text, cap, "scheduled transfer %.60s of %s %s at %s", tr->id, amt, tr->currency, when);
}

/* Whether a pending transfer of the tenant is an outflow scheduled at or
 * after now, which makes it a driver of a window that reaches its time. */
static int scheduled_outflow(const fc_treasury *t, const fc_transfer *tr, const char *tenant, int64_t now) {
  return tr->status == FC_TRANSFER_PENDING && tr->scheduled_for != FC_TIME_NONE && tr->scheduled_for >= now &&
         strcmp(tr->tenant_id, tenant) == 0 && fc_treasury_direction(t, tr) < 0;
}

/* The stream's text says it runs dry when its runway ends inside the
 * window; this compares in doubles, as the text always has. */
static int runs_dry_within(double hours_until_depleted, int64_t window) {
  return hours_until_depleted * 3600.0 < (double)window;
}

void fc__drivers_known(const fc_treasury *t, const char *tenant, int64_t now, int64_t end,
                       const fc_currency_projection *cp, fc__driver_set *s) {
  const fc_transfer *tr;
  const fc_stream *st;
  size_t nt = fc_treasury_transfers(t, &tr), ns = fc_treasury_streams(t, &st);
  char amt[FC_MONEY_STR_MAX], text[200];
  for (size_t i = 0; i < nt; i++) {
    if (!scheduled_outflow(t, &tr[i], tenant, now) || tr[i].scheduled_for > end ||
        strcmp(tr[i].currency, cp->currency) != 0)
      continue;
    transfer_text(&tr[i], cp->scale, text, sizeof text);
    fc__drivers_add(s, "scheduled_transfer", tr[i].id, tr[i].amount, tr[i].scheduled_for, text);
  }
  for (size_t i = 0; i < ns; i++) {
    fc_runway rw;
    int64_t d;
    if (strcmp(st[i].currency, cp->currency) != 0 || strcmp(st[i].tenant_id, tenant) != 0) continue;
    if ((d = fc_stream_drain(&st[i], now, end - now)) <= 0) continue;
    fc_runway_compute(&st[i], now, &rw);
    fc_money_format(d, cp->scale, amt, sizeof amt);
    if (runs_dry_within(rw.hours_until_depleted, end - now))
      snprintf(text, sizeof text, "stream %.60s drains %s %s and runs dry after %.0f h", st[i].id, amt, cp->currency,
               rw.hours_until_depleted);
    else snprintf(text, sizeof text, "stream %.60s drains %s %s", st[i].id, amt, cp->currency);
    fc__drivers_add(s, "stream", st[i].id, d, FC_TIME_NONE, text);
  }
}

static int by_amount_desc(const void *a, const void *b) {
  const fc_driver *x = a, *y = b;
  if (x->amount != y->amount) return x->amount > y->amount ? -1 : 1;
  return strcmp(x->id, y->id);
}

void fc__drivers_finish(fc__driver_set *s, fc_currency_projection *cp) {
  qsort(s->d, s->n, sizeof s->d[0], by_amount_desc);
  cp->n_drivers = s->n < FC_DRIVERS_MAX ? s->n : FC_DRIVERS_MAX;
  for (size_t i = 0; i < cp->n_drivers; i++) {
    cp->drivers[i] = s->d[i];
    cp->drivers[i].share = s->total_out > 0 ? (double)s->d[i].amount / (double)s->total_out : 0;
  }
}

/* ---- the rule kit ---- */

/* The fewest whole hours of a window in which runs_dry_within holds; -1
 * when no horizon is that long. */
static int dry_hours(double hours_until_depleted) {
  const double x = hours_until_depleted * 3600.0;
  int k;
  if (!(x < 3600.0 * (FC_HORIZON_MAX + 1))) return -1;
  k = x > 3600.0 ? (int)(x / 3600.0) : 1;
  while (k > 1 && runs_dry_within(hours_until_depleted, (int64_t)(k - 1) * 3600)) k--;
  while (!runs_dry_within(hours_until_depleted, (int64_t)k * 3600)) k++;
  return k;
}

static void kit_int64(fc_jw *w, const char *key, int64_t v) {
  char s[24];
  snprintf(s, sizeof s, "%lld", (long long)v);
  fc_jw_key(w, key), fc_jw_str(w, s);
}

static void kit_transfers(fc_jw *w, const fc_treasury *t, const char *tenant, int64_t now) {
  const fc_transfer *tr;
  size_t nt = fc_treasury_transfers(t, &tr);
  char text[200];
  fc_jw_key(w, "transfers"), fc_jw_array(w);
  for (size_t i = 0; i < nt; i++) {
    int scale = fc_currencies_scale(fc_treasury_currencies(t), tr[i].currency);
    if (!scheduled_outflow(t, &tr[i], tenant, now) || scale < 0) continue;
    transfer_text(&tr[i], scale, text, sizeof text);
    fc_jw_object(w);
    fc_jw_key(w, "currency"), fc_jw_str(w, tr[i].currency);
    fc_jw_key(w, "id"), fc_jw_str(w, tr[i].id);
    kit_int64(w, "amount", tr[i].amount);
    fc_jw_key(w, "at"), fc_jw_int(w, (long long)tr[i].scheduled_for);
    fc_jw_key(w, "text"), fc_jw_str(w, text);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

/* Only streams that can drain: the others are never drivers. */
static void kit_streams(fc_jw *w, const fc_treasury *t, const char *tenant, int64_t now) {
  const fc_stream *st;
  size_t ns = fc_treasury_streams(t, &st);
  fc_jw_key(w, "streams"), fc_jw_array(w);
  for (size_t i = 0; i < ns; i++) {
    fc_runway rw;
    char name[64], dry[32];
    int k;
    if (strcmp(st[i].tenant_id, tenant) != 0 || st[i].status != FC_STREAM_ACTIVE || st[i].flow_rate.units <= 0)
      continue;
    fc_runway_compute(&st[i], now, &rw);
    k = dry_hours(rw.hours_until_depleted);
    snprintf(name, sizeof name, "%.60s", st[i].id);
    snprintf(dry, sizeof dry, "%.0f", k > 0 ? rw.hours_until_depleted : 0.0);
    fc_jw_object(w);
    fc_jw_key(w, "currency"), fc_jw_str(w, st[i].currency);
    fc_jw_key(w, "id"), fc_jw_str(w, st[i].id);
    fc_jw_key(w, "name"), fc_jw_str(w, name);
    kit_int64(w, "rate_units", st[i].flow_rate.units);
    fc_jw_key(w, "rate_decimals"), fc_jw_int(w, st[i].flow_rate.decimals);
    fc_jw_key(w, "scale"), fc_jw_int(w, st[i].scale);
    fc_jw_key(w, "begin"), fc_jw_int(w, (long long)FC__MAX(now, st[i].started_at));
    kit_int64(w, "remaining", rw.remaining);
    fc_jw_key(w, "dry_hours");
    if (k > 0) fc_jw_int(w, k);
    else fc_jw_null(w);
    fc_jw_key(w, "dry_text"), fc_jw_str(w, k > 0 ? dry : NULL);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

int fc_projection_write_rule_kit(const fc_treasury *t, const fc_projection_params *p, fc_buf *b, fc_err *err) {
  const char *tenant;
  char asof[FC_TIME_STR];
  fc_jw w;
  int rc;
  if (p->now == FC_TIME_NONE) return fc__err(err, FC_EINVAL, "the rule kit needs 'now'");
  if ((rc = fc__resolve_tenant(t, p->tenant_id, &tenant, err)) != FC_OK) return rc;
  fc_time_format(p->now, asof);
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "as_of"), fc_jw_str(&w, asof);
  kit_transfers(&w, t, tenant, p->now);
  kit_streams(&w, t, tenant, p->now);
  fc_jw_end(&w);
  rc = fc_jw_finish(&w);
  return rc == FC_OK ? FC_OK : fc__err(err, rc, "rule kit: out of memory");
}
