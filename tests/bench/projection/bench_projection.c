/* bench_projection.c: times fc_project_rule on a large synthetic tenant.
 *
 * Builds a treasury in memory with fc_treasury_put_* (no CSV parsing, so
 * only the projection is timed): N transfers over 6 currencies, a third of
 * them pending and scheduled around now, and S streams. Prints the load
 * time, the median of 5 projection runs at horizon H, and a checksum of
 * the projected balances so that runs before and after a change can be
 * compared. Usage: bench_projection [N=1000000] [S=1000] [H=96]. */
#define _POSIX_C_SOURCE 199309L
#include "fc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  static const char *ccy[6] = {"USD", "EUR", "GBP", "USDC", "USDT", "EURC"};
  static const int scale[6] = {2, 2, 2, 6, 6, 6};
  long n = argc > 1 ? atol(argv[1]) : 1000000, ns = argc > 2 ? atol(argv[2]) : 1000;
  int h = argc > 3 ? atoi(argv[3]) : 96;
  int64_t now = INT64_C(1764590400); /* 2025-12-01T12:00:00Z */
  fc_treasury *t = fc_treasury_create(NULL);
  fc_rng rng;
  fc_err err;
  double t0, runs[5];
  int64_t checksum = 0;
  fc_rng_seed(&rng, 7);
  t0 = seconds();
  for (int c = 0; c < 6; c++) {
    char id[32];
    fc_account a;
    memset(&a, 0, sizeof a);
    snprintf(id, sizeof id, "acc-%s", ccy[c]);
    a.id = id;
    a.tenant_id = "big";
    strcpy(a.currency, ccy[c]);
    a.scale = scale[c];
    a.balance_available = INT64_C(50000000) * fc_pow10(scale[c]);
    if (fc_treasury_put_account(t, &a, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  }
  for (long i = 0; i < n; i++) {
    char id[32], acc[32], ext[32];
    int c = (int)(i % 6);
    fc_transfer tr;
    memset(&tr, 0, sizeof tr);
    snprintf(id, sizeof id, "t%ld", i);
    snprintf(acc, sizeof acc, "acc-%s", ccy[c]);
    snprintf(ext, sizeof ext, "ext-%ld", i % 5000);
    tr.id = id;
    tr.tenant_id = "big";
    tr.from_account_id = fc_rng_uniform(&rng) < 0.5 ? acc : ext;
    tr.to_account_id = tr.from_account_id == acc ? ext : acc;
    strcpy(tr.currency, ccy[c]);
    tr.scale = scale[c];
    tr.amount = 1 + (int64_t)(fc_rng_uniform(&rng) * 1e5) * fc_pow10(scale[c]);
    if (i % 3 == 0) {
      tr.status = FC_TRANSFER_PENDING;
      tr.created_at = now - (int64_t)(fc_rng_uniform(&rng) * 86400 * 30);
      tr.scheduled_for = now - 3600 + (int64_t)(fc_rng_uniform(&rng) * 3600 * (h + 10));
    } else {
      tr.status = FC_TRANSFER_COMPLETED;
      tr.created_at = now - (int64_t)(fc_rng_uniform(&rng) * 86400 * 300);
      tr.scheduled_for = FC_TIME_NONE;
    }
    if (fc_treasury_put_transfer(t, &tr, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  }
  for (long i = 0; i < ns; i++) {
    char id[32];
    int c = (int)(i % 6);
    fc_stream s;
    memset(&s, 0, sizeof s);
    snprintf(id, sizeof id, "s%ld", i);
    s.id = id;
    s.tenant_id = "big";
    strcpy(s.currency, ccy[c]);
    s.scale = scale[c];
    s.flow_rate.units = 1 + (int64_t)(fc_rng_uniform(&rng) * 1000); /* 0.001 .. 1.000 per second */
    s.flow_rate.decimals = 3;
    s.funded_amount = (int64_t)(1000 + fc_rng_uniform(&rng) * 900000) * fc_pow10(scale[c]);
    s.total_streamed = (int64_t)(fc_rng_uniform(&rng) * 1000) * fc_pow10(scale[c]);
    s.status = i % 5 == 3 ? FC_STREAM_PAUSED : i % 5 == 4 ? FC_STREAM_CANCELLED : FC_STREAM_ACTIVE;
    s.started_at = now - 86400 * (1 + (int64_t)(fc_rng_uniform(&rng) * 60));
    s.cancelled_at = s.last_pause_at = FC_TIME_NONE;
    if (fc_treasury_put_stream(t, &s, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  }
  printf("tenant: %ld transfers, %ld streams, built in %.3f s\n", n, ns, seconds() - t0);
  for (int r = 0; r < 5; r++) {
    fc_projection_params p = fc_projection_defaults();
    fc_projection *pr;
    p.now = now;
    p.horizon_hours = h;
    t0 = seconds();
    if (fc_project_rule(t, &p, &pr, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    runs[r] = seconds() - t0;
    if (r == 0)
      for (size_t k = 0; k < pr->n_currencies; k++) checksum += pr->currencies[k].projected;
    fc_projection_destroy(pr);
  }
  qsort(runs, 5, sizeof runs[0], cmp_double);
  printf("fc_project_rule H=%d: median %.4f s (min %.4f, max %.4f); checksum %lld\n", h, runs[2], runs[0], runs[4],
         (long long)checksum);
  fc_treasury_destroy(t);
  return 0;
}
