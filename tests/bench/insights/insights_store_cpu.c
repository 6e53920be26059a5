/* insights_store_cpu DB FILE...: the CPU time of gw_db_store_batches (the
 * ingestion's SQL transaction, rollups included) for NDJSON files of
 * transactions stored as tenant "big", one batch per file. The HTTP and
 * parsing costs are left out, and so is the retraining a gateway would
 * queue, so that the store's own cost can be compared between builds on a
 * loaded machine. */
#define _GNU_SOURCE /* clock_gettime; pthread types in uv.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "fc/records.h"

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int store_file(gw_db *db, const char *path, size_t *rows, double *spent) {
  static char buf[2 << 20];
  fc_batch *b = NULL;
  fc_load_report rep;
  gw_store_counts n;
  fc_err err;
  FILE *f = fopen(path, "rb");
  if (!f) return fprintf(stderr, "%s: cannot open\n", path), -1;
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  if (fc_batch_parse(FC_RECORD_TRANSACTIONS, FC_FORMAT_JSON, buf, len, NULL, &b, &rep, &err) != FC_OK)
    return fprintf(stderr, "%s: %s\n", path, err.msg), -1;
  const fc_batch *bs[1] = {b};
  memset(&n, 0, sizeof n);
  double t0 = cpu_seconds();
  int rc = gw_db_store_batches(db, "big", bs, 1, &n, &err);
  *spent += cpu_seconds() - t0;
  *rows += fc_batch_count(b);
  fc_batch_destroy(b);
  if (rc != FC_OK) return fprintf(stderr, "%s: %s\n", path, err.msg), -1;
  return 0;
}

int main(int argc, char **argv) {
  gw_db *db;
  fc_err err;
  double spent = 0;
  size_t rows = 0;
  if (argc < 3) return fprintf(stderr, "usage: insights_store_cpu DB FILE.ndjson...\n"), 2;
  if (gw_db_open(argv[1], 0, &db, &err) != FC_OK) return fprintf(stderr, "%s\n", err.msg), 1;
  gw_db_tenant_create(db, "big", "Big", 0, &err); /* may exist already */
  for (int i = 2; i < argc; i++)
    if (store_file(db, argv[i], &rows, &spent) != 0) return 1;
  printf("%zu rows stored in %.2f s CPU: %.0f rows per CPU second\n", rows, spent,
         spent > 0 ? (double)rows / spent : 0.0);
  gw_db_close(db);
  return 0;
}
