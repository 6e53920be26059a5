/* cli_data.c: loading a treasury data directory (accounts.csv,
 * transfers.csv, streams.csv, optional ledger.csv) and a transactions file. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int load_one(fc_treasury *t, const char *cmd, const char *dir, const char *name, fc_record_kind kind,
                    int optional) {
  char path[4096];
  fc_buf data;
  fc_load_report rep;
  fc_err err;
  struct stat st;
  int rc;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (optional && stat(path, &st) != 0 && errno == ENOENT) return 0;
  fc_buf_init(&data);
  if (cli_read_file(path, &data) != 0) {
    fc_buf_free(&data);
    return -1;
  }
  fc_err_clear(&err);
  rc = fc_treasury_load(t, kind, FC_FORMAT_CSV, data.data, data.len, &rep, &err);
  fc_buf_free(&data);
  if (rc != FC_OK) {
    cli_fail_err(cmd, path, rc, &err);
    for (size_t i = 1; i < rep.n_listed; i++) fprintf(stderr, "  %s\n", rep.errors[i].msg);
    if (rep.n_errors > rep.n_listed) fprintf(stderr, "  ... %zu bad rows in all\n", rep.n_errors);
    fprintf(stderr, "floatcast %s: nothing was loaded from %s\n", cmd, path);
    return -1;
  }
  return 0;
}

int cli_load_treasury(const char *cmd, const char *dir, fc_treasury **out) {
  fc_treasury *t = fc_treasury_create(NULL);
  *out = NULL;
  if (t == NULL) return cli_fail(cmd, "out of memory");
  if (load_one(t, cmd, dir, "accounts.csv", FC_RECORD_ACCOUNTS, 0) ||
      load_one(t, cmd, dir, "transfers.csv", FC_RECORD_TRANSFERS, 0) ||
      load_one(t, cmd, dir, "streams.csv", FC_RECORD_STREAMS, 0) ||
      load_one(t, cmd, dir, "ledger.csv", FC_RECORD_LEDGER, 1)) {
    fc_treasury_destroy(t);
    return 1;
  }
  *out = t;
  return 0;
}

int cli_parse_time(const char *cmd, const char *flag, const char *s, int64_t *out) {
  fc_err err;
  int rc = fc_time_parse(s, strlen(s), out, &err);
  if (rc != FC_OK) return cli_fail_err(cmd, flag, rc, &err);
  return 0;
}

int cli_load_transactions(const char *cmd, const char *path, fc_batch **out) {
  fc_buf data;
  fc_load_report rep;
  fc_err err;
  int rc;
  fc_buf_init(&data);
  if (cli_read_file(path, &data) != 0) {
    fc_buf_free(&data);
    return 1;
  }
  fc_err_clear(&err);
  rc = fc_batch_parse(FC_RECORD_TRANSACTIONS, FC_FORMAT_CSV, data.data, data.len, NULL, out, &rep, &err);
  fc_buf_free(&data);
  if (rc == FC_OK) return 0;
  cli_fail_err(cmd, path, rc, &err);
  for (size_t i = 1; i < rep.n_listed; i++) fprintf(stderr, "  %s\n", rep.errors[i].msg);
  if (rep.n_errors > rep.n_listed) fprintf(stderr, "  ... %zu bad rows in all\n", rep.n_errors);
  return 1;
}
