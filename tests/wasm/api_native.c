/* api_native.c: the WASM export layer (wasm/api.c, api_analytics.c) built
 * natively, so that the native and sanitizer builds check its memory use.
 *
 *   fc_api_native GOLDEN_DIR
 * runs every analytics export on the golden inputs of tests/golden/parity.sh
 * and on bad inputs: the segment answers must equal the CLI's goldens byte
 * for byte, the others must succeed, and every bad input must give a
 * negative status with an error envelope naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/status.h"

typedef struct fc_wasm_out {
  char *data;
  size_t len;
} fc_wasm_out;

int fc_wasm_segment(const char *txns, size_t txns_len, int txns_fmt, const char *opts, size_t opts_len,
                    fc_wasm_out *out);
int fc_wasm_trends(const char *txns, size_t txns_len, int txns_fmt, const char *opts, size_t opts_len,
                   fc_wasm_out *out);
int fc_wasm_forecast(const char *series, size_t series_len, const char *opts, size_t opts_len, fc_wasm_out *out);
int fc_wasm_backtest(const char *series, size_t series_len, const char *opts, size_t opts_len, fc_wasm_out *out);
int fc_wasm_gbdt_train(const char *table, size_t table_len, const char *opts, size_t opts_len, fc_wasm_out *out);
int fc_wasm_gbdt_predict(const unsigned char *model, size_t model_len, const char *table, size_t table_len,
                         fc_wasm_out *out);
int fc_wasm_rule_kit(const char *accounts, size_t accounts_len, int accounts_fmt, const char *transfers,
                     size_t transfers_len, int transfers_fmt, const char *streams, size_t streams_len, int streams_fmt,
                     const char *opts, size_t opts_len, void *cache, fc_wasm_out *out);
void fc_wasm_free(void *p);

static const char *dir;
static int failures;

static char *slurp(const char *name, size_t *len) {
  char path[4096];
  FILE *f;
  char *buf;
  long n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(1);
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* Checks rc against want (0, or < 0 for "fails") and the answer against
 * expect (exact bytes, with the CLI's newline) or against a substring. */
static void check(const char *what, int rc, fc_wasm_out *out, int want_ok, const char *expect, const char *contains) {
  int ok = want_ok ? rc == 0 : rc < 0;
  if (ok && expect != NULL) ok = out->len + 1 == strlen(expect) && memcmp(out->data, expect, out->len) == 0;
  if (ok && contains != NULL) ok = out->data != NULL && strstr(out->data, contains) != NULL;
  printf("%s - %s\n", ok ? "ok" : "not ok", what);
  if (!ok) {
    fprintf(stderr, "  rc %d, answer: %.300s\n", rc, out->data ? out->data : "(null)");
    failures++;
  }
  fc_wasm_free(out->data);
  memset(out, 0, sizeof *out);
}

#define OPTS(s) s, strlen(s)

int main(int argc, char **argv) {
  size_t nt, ns, ntr, nte, nm;
  char *txns, *series, *train, *test, *model, *g;
  fc_wasm_out out = {0};
  size_t ng;
  if (argc != 2) return fprintf(stderr, "usage: fc_api_native GOLDEN_DIR\n"), 2;
  dir = argv[1];
  txns = slurp("seg_txns.csv", &nt);
  series = slurp("ts_hourly.csv", &ns);
  train = slurp("gbdt_train.csv", &ntr);
  test = slurp("gbdt_test.csv", &nte);
  model = slurp("gbdt_model.bin", &nm);

  g = slurp("seg_kmeans4.json", &ng);
  check("segment k=4", fc_wasm_segment(txns, nt, 0, OPTS("{\"k\":4,\"seed\":3}"), &out), &out, 1, g, NULL);
  free(g);
  g = slurp("seg_dbscan.json", &ng);
  check("segment dbscan", fc_wasm_segment(txns, nt, 0, OPTS("{\"method\":\"dbscan\",\"min_pts\":4}"), &out), &out, 1, g,
        NULL);
  free(g);
  check("segment bad option", fc_wasm_segment(txns, nt, 0, OPTS("{\"k\":\"x\"}"), &out), &out, 0, NULL, "options: k:");
  /* The options come from the core's tables (fc/optables.h), as the CLI's:
   * the same ranges and messages, under the JSON names. */
  check("segment windows out of range", fc_wasm_segment(txns, nt, 0, OPTS("{\"windows\":1}"), &out), &out, 0, NULL,
        "options: windows: 1 is outside 2..366");
  check("segment half_life_days of the wrong type",
        fc_wasm_segment(txns, nt, 0, OPTS("{\"half_life_days\":\"90\"}"), &out), &out, 0, NULL,
        "options: half_life_days: expected a number, got string");
  check("segment CLI spelling is not a JSON name", fc_wasm_segment(txns, nt, 0, OPTS("{\"half-life\":9}"), &out), &out,
        0, NULL, "options: unknown key \\\"half-life\\\"");
  check("gbdt rounds out of range", fc_wasm_gbdt_train(train, ntr, OPTS("{\"target\":\"y\",\"rounds\":0}"), &out), &out,
        0, NULL, "options: rounds: 0 is outside 1..1000000");
  check("gbdt threads is the CLI's alone",
        fc_wasm_gbdt_train(train, ntr, OPTS("{\"target\":\"y\",\"threads\":2}"), &out), &out, 0, NULL,
        "options: unknown key \\\"threads\\\"");
  check("segment bad row",
        fc_wasm_segment(OPTS("id,partner_id,user_id,action_date,amount,transaction_type\n"
                             "1,p,u,2024-01-01,zz,purchase\n"),
                        0, "", 0, &out),
        &out, 0, NULL, "\"rows\":[{\"row\":");
  g = slurp("tr_trends.json", &ng);
  check("trends week",
        fc_wasm_trends(txns, nt, 0,
                       OPTS("{\"granularity\":\"week\",\"partner\":\"p1\","
                            "\"from\":\"2024-02-01\",\"utc_offset\":\"-05:00\"}"),
                       &out),
        &out, 1, g, NULL);
  free(g);
  check("trends bad granularity", fc_wasm_trends(txns, nt, 0, OPTS("{\"granularity\":\"hour\"}"), &out), &out, 0, NULL,
        "granularity: want day, week or month");
  check("trends bad offset", fc_wasm_trends(txns, nt, 0, OPTS("{\"utc_offset\":\"+15:00\"}"), &out), &out, 0, NULL,
        "at most 14:00");
  check("trends from after to",
        fc_wasm_trends(txns, nt, 0, OPTS("{\"from\":\"2024-05-01\",\"to\":\"2024-04-01\"}"), &out), &out, 0, NULL,
        "from >= to");
  check("forecast auto", fc_wasm_forecast(series, ns, OPTS("{\"horizon\":24,\"season\":24}"), &out), &out, 1, NULL,
        "\"intervals\":[{\"level\":80");
  check("forecast season 1 (no season)",
        fc_wasm_forecast(series, ns, OPTS("{\"horizon\":2,\"season\":1,\"freq\":\"hour\",\"model\":\"ets\"}"), &out),
        &out, 1, NULL, "\"mean\":[");
  check("forecast season [1,24] refused", fc_wasm_forecast(series, ns, OPTS("{\"horizon\":2,\"season\":[1,24]}"), &out),
        &out, 0, NULL, "whole numbers >= 2");
  check("forecast bad levels",
        fc_wasm_forecast(series, ns, OPTS("{\"horizon\":2,\"levels\":[1,2,3,4,5,6,7,8,9]}"), &out), &out, 0, NULL,
        "at most 8 values");
  check("backtest",
        fc_wasm_backtest(series, ns, OPTS("{\"horizon\":24,\"season\":24,\"model\":\"snaive\",\"origins\":2}"), &out),
        &out, 1, NULL, "\"all\":{\"series\":2");
  check("backtest too short", fc_wasm_backtest(series, ns, OPTS("{\"horizon\":200,\"model\":\"naive\"}"), &out), &out,
        0, NULL, "too short");
  check("gbdt train",
        fc_wasm_gbdt_train(train, ntr, OPTS("{\"target\":\"y\",\"rounds\":5,\"categorical\":[\"cat\"]}"), &out), &out,
        1, NULL, "\"trees\":5");
  check("gbdt train bad table", fc_wasm_gbdt_train("a,y\n1\n", 6, OPTS("{\"target\":\"y\"}"), &out), &out, 0, NULL,
        "1 fields, the header has 2");
  check("gbdt predict", fc_wasm_gbdt_predict((const unsigned char *)model, nm, test, nte, &out), &out, 1, NULL,
        "{\"predictions\":[");
  check("gbdt predict truncated model", fc_wasm_gbdt_predict((const unsigned char *)model, nm / 2, test, nte, &out),
        &out, 0, NULL, "ECORRUPT");
  /* The rule kit of a small tenant, with a scenario's payment (its own
   * outflow in the kit, after the data's) and with a scenario the core refuses. */
  {
    static const char acc[] = "id,tenant_id,currency,balance_available\na1,t,USD,100.00\n";
    static const char tr[] =
        "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n"
        "p1,t,a1,x,USD,5.00,pending,2025-01-01T00:00:00Z,2025-01-02T03:00:00Z\n";
    static const char st[] =
        "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at\n"
        "s1,t,USD,0.01,50,0,active,2025-01-01T00:00:00Z\n";
    const char *pay =
        "{\"now\":\"2025-01-02T00:00:00Z\",\"scenario\":{\"transfers\":[{\"id\":\"w1\",\"from_account_id\":\"a1\","
        "\"to_account_id\":\"y\",\"currency\":\"USD\",\"amount\":\"7\",\"status\":\"pending\","
        "\"created_at\":\"2025-01-02T00:00:00Z\",\"scheduled_for\":\"2025-01-02T05:00:00Z\"}]}}";
    const char *bad = "{\"now\":\"2025-01-02T00:00:00Z\",\"scenario\":{\"cancel_transfers\":[\"nope\"]}}";
    check("rule_kit: the data's outflow, then the scenario's",
          fc_wasm_rule_kit(acc, strlen(acc), 0, tr, strlen(tr), 0, st, strlen(st), 0, OPTS(pay), NULL, &out), &out, 1,
          NULL,
          "\"id\":\"p1\",\"amount\":\"500\",\"at\":1735786800,\"text\":\"scheduled transfer p1 of 5.00 USD at "
          "2025-01-02T03:00:00Z\"},{\"currency\":\"USD\",\"id\":\"w1\"");
    check("rule_kit: a scenario naming no transfer is refused",
          fc_wasm_rule_kit(acc, strlen(acc), 0, tr, strlen(tr), 0, st, strlen(st), 0, OPTS(bad), NULL, &out), &out, 0,
          NULL, "ENOTFOUND");
    check("rule_kit: now is required",
          fc_wasm_rule_kit(acc, strlen(acc), 0, tr, strlen(tr), 0, st, strlen(st), 0, OPTS("{}"), NULL, &out), &out, 0,
          NULL, "now");
  }
  free(txns);
  free(series);
  free(train);
  free(test);
  free(model);
  return failures != 0;
}
