/* recurring.h: recurring payments between a pair of accounts.
 *
 * The seed's definition, kept exactly: for each (from, to) account pair of
 * a tenant with at least 3 completed transfers (same currency), the pair is
 * recurring when the amounts' coefficient of variation is below 0.1 and the
 * standard deviation of the hours between consecutive transfers is below
 * 24. Standard deviations are population ones (numpy's default).
 */
#ifndef FC_RECURRING_H
#define FC_RECURRING_H

#include <stddef.h>
#include <stdint.h>

#include "fc/money.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_recurring {
  const char *from_account_id; /* strings point into the treasury */
  const char *to_account_id;
  char currency[FC_CCY_MAX];
  int direction; /* -1 outflow, +1 inflow, 0 internal/unrelated (see treasury.h) */
  size_t count;
  double mean_amount; /* currency units */
  double amount_cv;
  double mean_interval_hours;
  double std_interval_hours;
  int64_t last_at;
  int64_t next_expected_at; /* last_at + mean interval */
} fc_recurring;

/* Finds the recurring pairs of tenant (NULL = every tenant); *out is
 * allocated (free with fc_recurring_free), sorted by from, to, currency. */
int fc_recurring_detect(const fc_treasury *t, const char *tenant, fc_recurring **out, size_t *n, fc_err *err);
void fc_recurring_free(fc_recurring *r);

#ifdef __cplusplus
}
#endif
#endif /* FC_RECURRING_H */
