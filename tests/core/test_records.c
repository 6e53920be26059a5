/* test_records.c: every canonical format, CSV and JSON, good and bad rows. */
#include "runner.h"

#include "fc/records.h"
#include "fc/time.h"

static const char transfers_csv[] =
    "status,id,tenant_id,from_account_id,to_account_id,currency,amount,created_at,scheduled_for,extra\n"
    "completed,t1,acme,a1,ext,USD,1250.75,2025-12-18T14:03:00Z,,ignored\n"
    "pending,t2,acme,a2,ext,USDC,\"0.000001\",2025-12-18,2025-12-19T09:00:00Z,\n";

static int parse(fc_record_kind k, fc_format f, const char *s, fc_batch **b, fc_load_report *r, fc_err *e) {
  return fc_batch_parse(k, f, s, strlen(s), NULL, b, r, e);
}

TEST(transfers_csv_any_column_order) {
  fc_batch *b;
  const fc_transfer *t;
  ASSERT_OK(parse(FC_RECORD_TRANSFERS, FC_FORMAT_CSV, transfers_csv, &b, NULL, NULL));
  ASSERT_INT_EQ(fc_batch_count(b), 2);
  t = fc_batch_transfers(b);
  ASSERT_STR_EQ(t[0].id, "t1");
  ASSERT_INT_EQ(t[0].amount, 125075);
  ASSERT_INT_EQ(t[0].status, FC_TRANSFER_COMPLETED);
  ASSERT_INT_EQ(t[0].scheduled_for, FC_TIME_NONE);
  ASSERT_INT_EQ(t[1].amount, 1);
  ASSERT_INT_EQ(t[1].scale, 6);
  ASSERT_INT_EQ(t[1].created_at, 1766016000);
  ASSERT(fc_batch_accounts(b) == NULL);
  fc_batch_destroy(b);
}

TEST(bad_rows_reported_and_nothing_loaded) {
  const char *csv = "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n"
                    "t1,acme,a1,ext,USD,10.00,completed,2025-12-18T00:00:00Z\n"
                    "t2,acme,a1,ext,USD,-5.00,completed,2025-12-18T00:00:00Z\n"
                    "t3,acme,a1,ext,XXX,5.00,completed,2025-12-18T00:00:00Z\n"
                    "t4,acme,a1,ext,USD,5.001,completed,2025-12-18T00:00:00Z\n"
                    "t5,acme,a1,ext,USD,5.00,shipped,2025-12-18T00:00:00Z\n"
                    "t6,acme,a1,ext,USD,5.00,completed,2025-02-30T00:00:00Z\n"
                    "t1,acme,a1,ext,USD,5.00,completed,2025-12-18T00:00:00Z\n"
                    "t8,acme,a1,ext,USD,5.00,completed\n"
                    "t9,acme,a1,ext,USD,NaN,completed,2025-12-18T00:00:00Z\n"
                    "t10,acme,a1,ext,USD,99999999999999999999,completed,2025-12-18T00:00:00Z\n";
  fc_batch *b = (fc_batch *)1;
  fc_load_report r;
  fc_err e;
  ASSERT(parse(FC_RECORD_TRANSFERS, FC_FORMAT_CSV, csv, &b, &r, &e) < 0);
  ASSERT(b == NULL);
  ASSERT_INT_EQ(r.n_rows, 10);
  ASSERT_INT_EQ(r.n_errors, 9);
  ASSERT_STR_EQ(r.errors[0].msg, "line 3: amount: must be greater than 0");
  ASSERT_STR_EQ(r.errors[1].msg, "line 4: currency: unknown currency 'XXX'");
  ASSERT_CONTAINS(r.errors[2].msg, "line 5: amount: '5.001' has more than 2 decimals");
  ASSERT_STR_EQ(r.errors[3].msg, "line 6: status: unknown value 'shipped'");
  ASSERT_CONTAINS(r.errors[4].msg, "line 7: created_at:");
  ASSERT_CONTAINS(r.errors[5].msg, "line 8: id 't1' appears twice");
  ASSERT_CONTAINS(r.errors[6].msg, "line 9: 7 fields, but the header has 8");
  ASSERT_CONTAINS(r.errors[7].msg, "line 10: amount:");
  ASSERT_CONTAINS(r.errors[8].msg, "line 11: amount:");
  ASSERT_CONTAINS(e.msg, "line 3: amount: must be greater than 0 (and 8 more bad rows)");
}

TEST(missing_column_and_empty) {
  fc_batch *b;
  fc_err e;
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, "id,tenant_id,currency\n", &b, NULL, &e), FC_EPARSE);
  ASSERT_STR_EQ(e.msg, "line 1: missing column 'balance_available'");
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, "", &b, NULL, &e), FC_ETOOSHORT);
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, "id,id,tenant_id,currency,balance_available\n", &b, NULL, &e),
                FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "appears twice");
  /* A header alone is a valid empty batch. */
  ASSERT_OK(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, "id,tenant_id,currency,balance_available\n", &b, NULL, &e));
  ASSERT_INT_EQ(fc_batch_count(b), 0);
  fc_batch_destroy(b);
}

TEST(accounts_overdraft) {
  fc_batch *b;
  fc_err e;
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, "id,tenant_id,currency,balance_available\na,t,USD,-1.00\n", &b,
                      NULL, &e),
                FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "does not allow overdraft");
  ASSERT_OK(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV,
                  "id,tenant_id,currency,balance_available,allow_overdraft\na,t,USD,-1.00,true\n", &b, NULL, &e));
  ASSERT_INT_EQ(fc_batch_accounts(b)[0].balance_available, -100);
  fc_batch_destroy(b);
}

TEST(streams_rates_keep_precision) {
  fc_batch *b;
  fc_err e;
  const char *csv = "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at,"
                    "cancelled_at,total_paused_seconds,last_pause_at\n"
                    "s1,t,USD,0.00038500,1000.00,10.00,active,2025-12-01T00:00:00Z,,3600,2025-12-02T00:00:00Z\n";
  ASSERT_OK(parse(FC_RECORD_STREAMS, FC_FORMAT_CSV, csv, &b, NULL, &e));
  ASSERT_INT_EQ(fc_batch_streams(b)[0].flow_rate.units, 385); /* 0.000385 USD/s, normalised */
  ASSERT_INT_EQ(fc_batch_streams(b)[0].flow_rate.decimals, 6);
  ASSERT_INT_EQ(fc_batch_streams(b)[0].total_paused_seconds, 3600);
  fc_batch_destroy(b);
  ASSERT_INT_EQ(parse(FC_RECORD_STREAMS, FC_FORMAT_CSV,
                      "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at,"
                      "total_paused_seconds\ns1,t,USD,-1,1000.00,10.00,active,2025-12-01,5\n",
                      &b, NULL, &e),
                FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "flow_rate_per_second: negative");
  ASSERT_INT_EQ(parse(FC_RECORD_STREAMS, FC_FORMAT_CSV,
                      "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at,"
                      "total_paused_seconds\ns1,t,USD,1,1000.00,10.00,active,2025-12-01,-5\n",
                      &b, NULL, &e),
                FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "total_paused_seconds: not a whole number");
}

/* Per-second rates are never short decimals: 1000.00 USD a 30-day month is
 * 0.000385802469135802... USD/s. Up to 18 decimals are held exactly,
 * whatever the currency's scale; beyond, the row is refused, not rounded. */
TEST(streams_rates_to_18_decimals) {
  static const char head[] =
      "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at\n";
  char csv[512];
  fc_batch *b;
  fc_err e;
  const fc_stream *s;
  snprintf(csv, sizeof csv,
           "%ss1,t,USD,0.000385802469135802,1000.00,0,active,2025-12-01\n"
           "s2,t,USD,0.0012942240,1000.00,0,active,2025-12-01\n"
           "s3,t,USDC,0.123456789012345678,1000,0,active,2025-12-01\n",
           head);
  ASSERT_OK(parse(FC_RECORD_STREAMS, FC_FORMAT_CSV, csv, &b, NULL, &e));
  s = fc_batch_streams(b);
  ASSERT_INT_EQ(s[0].flow_rate.units, INT64_C(385802469135802));
  ASSERT_INT_EQ(s[0].flow_rate.decimals, 18);
  ASSERT_INT_EQ(s[1].flow_rate.units, 1294224); /* "has more than 8 decimals" before */
  ASSERT_INT_EQ(s[1].flow_rate.decimals, 9);
  ASSERT_INT_EQ(s[2].flow_rate.units, INT64_C(123456789012345678));
  ASSERT_INT_EQ(s[2].flow_rate.decimals, 18);
  fc_batch_destroy(b);
  /* JSON: a string or a number, the same exact text. */
  ASSERT_OK(parse(FC_RECORD_STREAMS, FC_FORMAT_JSON,
                  "[{\"id\":\"s\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"flow_rate_per_second\":"
                  "0.000385802469135802,\"funded_amount\":\"1\",\"total_streamed\":\"0\",\"status\":\"active\","
                  "\"started_at\":\"2025-12-01\"}]",
                  &b, NULL, &e));
  ASSERT_INT_EQ(fc_batch_streams(b)[0].flow_rate.units, INT64_C(385802469135802));
  fc_batch_destroy(b);
  /* 19 decimals. */
  snprintf(csv, sizeof csv, "%ss1,t,USD,0.0003858024691358024,1000.00,0,active,2025-12-01\n", head);
  ASSERT_INT_EQ(parse(FC_RECORD_STREAMS, FC_FORMAT_CSV, csv, &b, NULL, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "line 2: flow_rate_per_second: '0.0003858024691358024' has more than 18 decimals");
  ASSERT(b == NULL);
  /* More significant digits than an exact rate holds. */
  snprintf(csv, sizeof csv, "%ss1,t,USD,1000.000000000000000001,1000.00,0,active,2025-12-01\n", head);
  ASSERT_INT_EQ(parse(FC_RECORD_STREAMS, FC_FORMAT_CSV, csv, &b, NULL, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "flow_rate_per_second: '1000.000000000000000001' has more than 18 significant digits");
  /* Garbage, exponents and negatives stay refused. */
  {
    const char *bad[] = {"1e-4", "NaN", "fast", "-0.000385802469135802", ".5", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      snprintf(csv, sizeof csv, "%ss1,t,USD,%s,1000.00,0,active,2025-12-01\n", head, bad[i]);
      if (parse(FC_RECORD_STREAMS, FC_FORMAT_CSV, csv, &b, NULL, &e) == FC_OK) FC__FAIL("'%s' accepted", bad[i]);
      ASSERT_CONTAINS(e.msg, "flow_rate_per_second");
    }
  }
}

TEST(json_array_and_ndjson) {
  const char *arr = "[{\"id\":\"a\",\"tenant_id\":\"t\",\"currency\":\"USDC\",\"balance_available\":\"1250000.000000\","
                    "\"unknown\":{\"x\":1}},"
                    " {\"id\":\"b\",\"tenant_id\":\"t\",\"currency\":\"EUR\",\"balance_available\":10.5}]";
  const char *nd = "{\"id\":\"a\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"1.00\"}\n"
                   "\n"
                   "{\"id\":\"b\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"2.00\"}\r\n";
  fc_batch *b;
  ASSERT_OK(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, arr, &b, NULL, NULL));
  ASSERT_INT_EQ(fc_batch_count(b), 2);
  ASSERT_INT_EQ(fc_batch_accounts(b)[0].balance_available, INT64_C(1250000000000));
  ASSERT_INT_EQ(fc_batch_accounts(b)[1].balance_available, 1050);
  fc_batch_destroy(b);
  ASSERT_OK(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, nd, &b, NULL, NULL));
  ASSERT_INT_EQ(fc_batch_count(b), 2);
  fc_batch_destroy(b);
}

TEST(strict_json_refuses_unknown_fields) {
  const char *arr = "[{\"id\":\"a\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"1.00\","
                    "\"balanse\":\"2.00\"}]";
  fc_batch *b;
  fc_load_report r;
  fc_err e;
  ASSERT_INT_EQ(fc_batch_parse_strict(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, arr, strlen(arr), NULL, &b, &r, &e),
                FC_EPARSE);
  ASSERT_STR_EQ(r.errors[0].msg, "index 0: unknown field 'balanse'");
  ASSERT_OK(fc_batch_parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, arr, strlen(arr), NULL, &b, NULL, &e));
  fc_batch_destroy(b);
}

TEST(json_wrong_types) {
  const char *arr =
      "[{\"id\":7,\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"1\"},"
      " {\"id\":\"b\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":[1]},"
      " {\"id\":\"c\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":1e400},"
      " 42,"
      " {\"id\":\"e\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":true},"
      " {\"id\":\"f\",\"tenant_id\":\"t\",\"currency\":\"USD\"},"
      " {\"id\":\"g\",\"id\":\"g2\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"1\"},"
      " {\"id\":\"h\\u0001\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"1\"}]";
  fc_batch *b;
  fc_load_report r;
  fc_err e;
  ASSERT(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, arr, &b, &r, &e) < 0);
  ASSERT_INT_EQ(r.n_errors, 8);
  ASSERT_STR_EQ(r.errors[0].msg, "index 0: id: expected a string, got number");
  ASSERT_STR_EQ(r.errors[1].msg, "index 1: balance_available: expected a scalar, got array");
  ASSERT_CONTAINS(r.errors[2].msg, "index 2: balance_available: '1e400' is not a plain decimal");
  ASSERT_STR_EQ(r.errors[3].msg, "index 3: expected an object, got number");
  ASSERT_STR_EQ(r.errors[4].msg, "index 4: balance_available: expected a decimal, got boolean");
  ASSERT_STR_EQ(r.errors[5].msg, "index 5: balance_available: missing");
  ASSERT_STR_EQ(r.errors[6].msg, "index 6: field 'id' appears twice");
  ASSERT_STR_EQ(r.errors[7].msg, "index 7: id: control character in text");
  /* Malformed JSON as a whole, and a bad NDJSON line. */
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, "[{\"id\":", &b, &r, &e), FC_EPARSE);
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON,
                      "{\"id\":\"a\",\"tenant_id\":\"t\",\"currency\":\"USD\",\"balance_available\":\"1\"}\n{oops}\n",
                      &b, &r, &e),
                FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "line 2: JSON at byte 1");
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_JSON, "  \n", &b, &r, &e), FC_ETOOSHORT);
}

TEST(transactions_and_ledger) {
  const char *tx = "id,partner_id,user_id,action_date,amount,transaction_type,category\n"
                   "x1,p,u1,2025-01-02,-19.99,refund,music\n"
                   "x2,p,u1,2025-01-03T10:00:00Z,5.00,purchase,\n";
  fc_batch *b;
  ASSERT_OK(parse(FC_RECORD_TRANSACTIONS, FC_FORMAT_CSV, tx, &b, NULL, NULL));
  ASSERT_INT_EQ(fc_batch_transactions(b)[0].amount, -1999);
  ASSERT_STR_EQ(fc_batch_transactions(b)[0].category, "music");
  ASSERT_STR_EQ(fc_batch_transactions(b)[1].category, "");
  ASSERT_STR_EQ(fc_batch_transactions(b)[1].currency, "USD");
  fc_batch_destroy(b);
  ASSERT_OK(parse(FC_RECORD_LEDGER, FC_FORMAT_CSV, "account_id,at,balance\na1,2025-12-01,100.25\n", &b, NULL, NULL));
  ASSERT_STR_EQ(fc_batch_ledger(b)[0].balance, "100.25");
  fc_batch_destroy(b);
}

TEST(long_text_rejected) {
  char csv[1200];
  fc_batch *b;
  fc_err e;
  int n = snprintf(csv, sizeof csv, "id,tenant_id,currency,balance_available\n");
  memset(csv + n, 'x', 300);
  snprintf(csv + n + 300, sizeof csv - (size_t)n - 300, ",t,USD,1.00\n");
  ASSERT_INT_EQ(fc_batch_parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, csv, strlen(csv), NULL, &b, NULL, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "longer than 256 bytes");
}

/* A ledger balance is checked as a decimal, not squeezed into 12 decimals:
 * 250,000.00 is an ordinary balance. */
TEST(ledger_accepts_large_balances) {
  fc_batch *b;
  fc_err e;
  ASSERT_OK(parse(FC_RECORD_LEDGER, FC_FORMAT_CSV,
                  "account_id,at,balance\na1,2025-12-01,250000.00\na1,2025-12-02,-98765432109.123456\n", &b, NULL, &e));
  ASSERT_STR_EQ(fc_batch_ledger(b)[0].balance, "250000.00");
  fc_batch_destroy(b);
  ASSERT_INT_EQ(parse(FC_RECORD_LEDGER, FC_FORMAT_CSV, "account_id,at,balance\na1,2025-12-01,1e5\n", &b, NULL, &e),
                FC_EPARSE);
  ASSERT_INT_EQ(
      parse(FC_RECORD_LEDGER, FC_FORMAT_CSV, "account_id,at,balance\na1,2025-12-01,0.0000000000001\n", &b, NULL, &e),
      FC_EPARSE);
}

/* A NUL byte inside a CSV field must not cut the field short: "pending\0x"
 * is not the status pending, "USD\0x" not the currency USD. */
TEST(nul_bytes_in_fields_rejected) {
  static const char head[] = "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n";
  static const char row1[] = "t1,acme,a1,ext,USD,1.00,pending\0junk,2025-12-18\n";
  static const char row2[] = "t1,acme,a1,ext,USD\0xx,1.00,pending,2025-12-18\n";
  char csv[256];
  fc_batch *b;
  fc_err e;
  size_t n = sizeof head - 1;
  memcpy(csv, head, n);
  memcpy(csv + n, row1, sizeof row1 - 1);
  ASSERT(fc_batch_parse(FC_RECORD_TRANSFERS, FC_FORMAT_CSV, csv, n + sizeof row1 - 1, NULL, &b, NULL, &e) < 0);
  ASSERT_CONTAINS(e.msg, "line 2");
  memcpy(csv + n, row2, sizeof row2 - 1);
  ASSERT(fc_batch_parse(FC_RECORD_TRANSFERS, FC_FORMAT_CSV, csv, n + sizeof row2 - 1, NULL, &b, NULL, &e) < 0);
  ASSERT_CONTAINS(e.msg, "line 2");
}

/* Old Mac files end lines with a lone CR: rows still get their line numbers,
 * blank lines included. */
TEST(cr_only_line_endings) {
  const char *csv = "id,tenant_id,currency,balance_available\r\ra1,t,USD,1.00\r\ra2,t,USD,x\r";
  fc_batch *b;
  fc_load_report r;
  fc_err e;
  ASSERT_INT_EQ(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, csv, &b, &r, &e), FC_EPARSE);
  ASSERT_INT_EQ(r.n_errors, 1);
  ASSERT_INT_EQ(r.errors[0].row, 5);
  ASSERT_OK(parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, "id,tenant_id,currency,balance_available\r", &b, &r, &e));
  ASSERT_INT_EQ(fc_batch_count(b), 0); /* header only: an empty batch */
  fc_batch_destroy(b);
}

TEST_LIST(T(ledger_accepts_large_balances), T(nul_bytes_in_fields_rejected), T(cr_only_line_endings),
          T(transfers_csv_any_column_order), T(bad_rows_reported_and_nothing_loaded), T(missing_column_and_empty),
          T(accounts_overdraft), T(streams_rates_keep_precision), T(streams_rates_to_18_decimals),
          T(json_array_and_ndjson), T(strict_json_refuses_unknown_fields), T(json_wrong_types),
          T(transactions_and_ledger), T(long_text_rejected))
