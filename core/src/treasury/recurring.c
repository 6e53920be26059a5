/* recurring.c: recurring-payment detection per account pair. */
#include "fc/recurring.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const fc_transfer *tr;
} ref;

static int cmp_pair_time(const void *a, const void *b) {
  const fc_transfer *x = ((const ref *)a)->tr, *y = ((const ref *)b)->tr;
  int c;
  if ((c = strcmp(x->tenant_id, y->tenant_id)) != 0) return c;
  if ((c = strcmp(x->from_account_id, y->from_account_id)) != 0) return c;
  if ((c = strcmp(x->to_account_id, y->to_account_id)) != 0) return c;
  if ((c = strcmp(x->currency, y->currency)) != 0) return c;
  if (x->created_at != y->created_at) return x->created_at < y->created_at ? -1 : 1;
  return strcmp(x->id, y->id);
}

static int same_pair(const fc_transfer *x, const fc_transfer *y) {
  return strcmp(x->tenant_id, y->tenant_id) == 0 && strcmp(x->from_account_id, y->from_account_id) == 0 &&
         strcmp(x->to_account_id, y->to_account_id) == 0 && strcmp(x->currency, y->currency) == 0;
}

/* Mean and population standard deviation. */
static void moments(const double *v, size_t n, double *mean, double *sd) {
  double m = 0, ss = 0;
  for (size_t i = 0; i < n; i++) m += v[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
  *mean = m;
  *sd = sqrt(ss / (double)n);
}

int fc_recurring_detect(const fc_treasury *t, const char *tenant, fc_recurring **out, size_t *n_out, fc_err *err) {
  const fc_transfer *tr;
  size_t n = fc_treasury_transfers(t, &tr), m = 0, n_res = 0, cap_res = 0;
  ref *refs = fc__mallocarray(n, sizeof *refs);
  double *amounts = fc__mallocarray(n, sizeof *amounts), *gaps = fc__mallocarray(n, sizeof *gaps);
  fc_recurring *res = NULL;
  int rc = FC_OK;
  *out = NULL;
  *n_out = 0;
  if (!refs || !amounts || !gaps) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    if (tr[i].status == FC_TRANSFER_COMPLETED && (tenant == NULL || strcmp(tr[i].tenant_id, tenant) == 0))
      refs[m++].tr = &tr[i];
  qsort(refs, m, sizeof *refs, cmp_pair_time);
  for (size_t i = 0; i < m;) {
    size_t j = i + 1, k;
    double mean_amt, sd_amt, mean_gap, sd_gap;
    while (j < m && same_pair(refs[i].tr, refs[j].tr)) j++;
    k = j - i;
    if (k >= 3) {
      for (size_t q = 0; q < k; q++) {
        amounts[q] = fc_money_to_double(refs[i + q].tr->amount, refs[i + q].tr->scale);
        if (q > 0) gaps[q - 1] = (double)(refs[i + q].tr->created_at - refs[i + q - 1].tr->created_at) / 3600.0;
      }
      moments(amounts, k, &mean_amt, &sd_amt);
      moments(gaps, k - 1, &mean_gap, &sd_gap);
      if (mean_amt > 0 && sd_amt / mean_amt < 0.1 && sd_gap < 24.0) {
        fc_recurring *r;
        void *v = res;
        if (fc__grow(&v, &cap_res, n_res + 1, sizeof *res) != FC_OK) {
          rc = fc__err(err, FC_ENOMEM, "out of memory");
          goto done;
        }
        res = v;
        r = &res[n_res++];
        memset(r, 0, sizeof *r);
        r->from_account_id = refs[i].tr->from_account_id;
        r->to_account_id = refs[i].tr->to_account_id;
        memcpy(r->currency, refs[i].tr->currency, FC_CCY_MAX);
        r->direction = fc_treasury_direction(t, refs[i].tr);
        r->count = k;
        r->mean_amount = mean_amt;
        r->amount_cv = sd_amt / mean_amt;
        r->mean_interval_hours = mean_gap;
        r->std_interval_hours = sd_gap;
        r->last_at = refs[j - 1].tr->created_at;
        r->next_expected_at = r->last_at + (int64_t)llround(mean_gap * 3600.0);
      }
    }
    i = j;
  }
  *out = res;
  *n_out = n_res;
  res = NULL;
done:
  fc__free(res);
  fc__free(refs);
  fc__free(amounts);
  fc__free(gaps);
  return rc;
}

void fc_recurring_free(fc_recurring *r) { fc__free(r); }
