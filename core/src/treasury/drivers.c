/* drivers.c: what pushes a currency toward its floor (projection.h's
 * fc_driver), for the rule and the simulated projection alike. */
#include "fc/runway.h"
#include "fc/time.h"
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

void fc__drivers_known(const fc_treasury *t, const char *tenant, int64_t now, int64_t end,
                       const fc_currency_projection *cp, fc__driver_set *s) {
  const fc_transfer *tr;
  const fc_stream *st;
  size_t nt = fc_treasury_transfers(t, &tr), ns = fc_treasury_streams(t, &st);
  char amt[FC_MONEY_STR_MAX], when[FC_TIME_STR], text[200];
  for (size_t i = 0; i < nt; i++) {
    if (tr[i].status != FC_TRANSFER_PENDING || tr[i].scheduled_for == FC_TIME_NONE || tr[i].scheduled_for < now ||
        tr[i].scheduled_for > end || strcmp(tr[i].currency, cp->currency) != 0 ||
        strcmp(tr[i].tenant_id, tenant) != 0 || fc_treasury_direction(t, &tr[i]) >= 0)
      continue;
    fc_money_format(tr[i].amount, cp->scale, amt, sizeof amt);
    fc_time_format(tr[i].scheduled_for, when);
    snprintf(text, sizeof text, "scheduled transfer %.60s of %s %s at %s", tr[i].id, amt, cp->currency, when);
    fc__drivers_add(s, "scheduled_transfer", tr[i].id, tr[i].amount, tr[i].scheduled_for, text);
  }
  for (size_t i = 0; i < ns; i++) {
    fc_runway rw;
    int64_t d;
    if (strcmp(st[i].currency, cp->currency) != 0 || strcmp(st[i].tenant_id, tenant) != 0) continue;
    if ((d = fc_stream_drain(&st[i], now, end - now)) <= 0) continue;
    fc_runway_compute(&st[i], now, &rw);
    fc_money_format(d, cp->scale, amt, sizeof amt);
    if (rw.hours_until_depleted * 3600.0 < (double)(end - now))
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
