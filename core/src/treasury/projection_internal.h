/* projection_internal.h: pieces of the rule projection that the simulated
 * projection (flowsim.c) shares; not installed. */
#ifndef FC_PROJECTION_INTERNAL_H
#define FC_PROJECTION_INTERNAL_H

#include "fc/projection.h"

typedef struct fc__fx_rate {
  char from[FC_CCY_MAX], to[FC_CCY_MAX];
  double rate;
} fc__fx_rate;

/* "USD/USDC=1,..." (NULL: the stablecoin pegs) into out (at most cap). */
int fc__parse_fx(const char *spec, fc__fx_rate *out, size_t cap, size_t *n, fc_err *err);
/* Units of `to` one unit of `from` buys (either direction of a pair); 0
 * when no rate is known. */
double fc__fx_lookup(const fc__fx_rate *r, size_t n, const char *from, const char *to);

/* The tenant a projection is about: want (which must hold data), or the
 * only tenant of t. *out points into t. */
int fc__resolve_tenant(const fc_treasury *t, const char *want, const char **out, fc_err *err);

/* Finishes w, a writer of one object into its own fc_buf, and hands the
 * text to cp->model_extra (projection.h); frees the buffer on failure
 * (FC_EINVAL for a writer misused, FC_ENOMEM). */
int fc__model_extra_set(fc_currency_projection *cp, fc_jw *w);

/* Driver candidates of one currency; the largest FC__DRIVERS_KEEP are
 * kept while they are added. */
#define FC__DRIVERS_KEEP 16
typedef struct fc__driver_set {
  fc_driver d[FC__DRIVERS_KEEP];
  size_t n;
  int64_t total_out; /* every expected outflow added, kept or not */
} fc__driver_set;

void fc__drivers_init(fc__driver_set *s);
/* Adds a candidate; amount in minor units (an outflow: > 0). */
void fc__drivers_add(fc__driver_set *s, const char *kind, const char *id, int64_t amount, int64_t at, const char *text);
/* The known flows of cp's currency in (now, end]: each pending scheduled
 * outflow and each stream's drain. */
void fc__drivers_known(const fc_treasury *t, const char *tenant, int64_t now, int64_t end,
                       const fc_currency_projection *cp, fc__driver_set *s);
/* Sorts, keeps the top FC_DRIVERS_MAX in cp->drivers with their shares. */
void fc__drivers_finish(fc__driver_set *s, fc_currency_projection *cp);

#endif
