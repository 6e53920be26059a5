/* test_whatif.c: scenarios change a copy, project it, and refuse mistakes. */
#include "runner.h"

#include "fc.h"

static const char accounts[] = "id,tenant_id,currency,balance_available\n"
                               "op,t1,USD,10000.00\n"
                               "w,t1,USDC,1000.000000\n";
static const char transfers[] =
    "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n"
    "h1,t1,op,ext,USD,100.00,completed,2025-11-30T10:15:00Z,\n"
    "p1,t1,op,ext,USD,1000.00,pending,2025-11-30T00:00:00Z,2025-12-01T18:00:00Z\n"
    "p2,t1,w,ext,USDC,600.000000,pending,2025-11-30T00:00:00Z,2025-12-02T00:00:00Z\n";
/* 0.0025 USDC/s = 9 USDC/h with 300 left. */
static const char streams[] =
    "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at\n"
    "s1,t1,USDC,0.0025,1000.000000,700.000000,active,2025-11-01T00:00:00Z\n"
    "s2,t1,USDC,0.001,1000.000000,0,paused,2025-11-01T00:00:00Z\n";

static fc_treasury *load(void) {
  fc_treasury *t = fc_treasury_create(NULL);
  if (fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, accounts, strlen(accounts), NULL, NULL) ||
      fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, transfers, strlen(transfers), NULL, NULL) ||
      fc_treasury_load(t, FC_RECORD_STREAMS, FC_FORMAT_CSV, streams, strlen(streams), NULL, NULL)) {
    fc_treasury_destroy(t);
    return NULL;
  }
  return t;
}

static fc_projection_params params(void) {
  fc_projection_params p = fc_projection_defaults();
  fc_time_parse("2025-12-01T12:00:00Z", 20, &p.now, NULL);
  return p;
}

static int project(const fc_treasury *t, const char *scenario, fc_projection **out, fc_err *e) {
  fc_projection_params p = params();
  return fc_whatif_project(t, scenario, strlen(scenario), &p, out, e);
}

TEST(empty_scenario_is_the_baseline) {
  fc_treasury *t = load();
  fc_projection *a, *b;
  fc_projection_params p = params();
  fc_buf ja, jb;
  ASSERT(t != NULL);
  ASSERT_OK(fc_project_rule(t, &p, &a, NULL));
  ASSERT_OK(project(t, "{}", &b, NULL));
  fc_buf_init(&ja);
  fc_buf_init(&jb);
  fc_projection_write_json(a, &ja);
  fc_projection_write_json(b, &jb);
  ASSERT_STR_EQ(ja.data, jb.data);
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_projection_destroy(a);
  fc_projection_destroy(b);
  fc_treasury_destroy(t);
}

TEST(changes_apply_to_a_copy) {
  fc_treasury *t = load();
  fc_projection *pr;
  fc_err e;
  /* Cancel the USDC payout, pause s1, resume s2 at a new rate, add a USD payment. */
  const char *sc =
      "{\"cancel_transfers\":[\"p2\"],\"pause_streams\":[\"s1\"],\"resume_streams\":[\"s2\"],"
      "\"stream_rates\":{\"s2\":\"0.0005\"},"
      "\"transfers\":[{\"id\":\"x1\",\"from_account_id\":\"op\",\"to_account_id\":\"vendor\",\"currency\":\"USD\","
      "\"amount\":\"2500.00\",\"status\":\"pending\",\"created_at\":\"2025-12-01T12:00:00Z\","
      "\"scheduled_for\":\"2025-12-02T09:00:00Z\"}]}";
  ASSERT_OK(project(t, sc, &pr, &e));
  /* USD: 10000 - 1000 - 2500. USDC: 1000 - 0.0005*172800 = 913.6. */
  ASSERT_INT_EQ(pr->currencies[0].projected, 650000);
  ASSERT_INT_EQ(pr->currencies[1].projected, 913600000);
  fc_projection_destroy(pr);
  /* The base is unchanged. */
  ASSERT_INT_EQ(fc_treasury_find_transfer(t, "t1", "p2")->status, FC_TRANSFER_PENDING);
  ASSERT_INT_EQ(fc_treasury_find_stream(t, "t1", "s1")->status, FC_STREAM_ACTIVE);
  ASSERT(fc_treasury_find_transfer(t, "t1", "x1") == NULL);
  fc_treasury_destroy(t);
}

TEST(stream_rates_to_18_decimals) {
  fc_treasury *t = load();
  fc_projection *pr;
  fc_buf b;
  fc_err e;
  /* s1 at 1000 a 30-day month: 0.000385802469135802 USDC/s x 172800 s =
   * 66.666666666666585 -> 66.666667; USDC: 1000 - 600 - 66.666667. */
  ASSERT_OK(project(t, "{\"stream_rates\":{\"s1\":\"0.000385802469135802\"}}", &pr, &e));
  ASSERT_INT_EQ(pr->currencies[1].stream_drain, 66666667);
  ASSERT_INT_EQ(pr->currencies[1].projected, 333333333);
  fc_buf_init(&b);
  ASSERT_OK(fc_projection_write_json(pr, &b));
  ASSERT_CONTAINS(b.data, "\"flow_rate_per_second\":\"0.000385802469135802\"");
  fc_buf_free(&b);
  fc_projection_destroy(pr);
  /* A JSON number is read from its exact text too. */
  ASSERT_OK(project(t, "{\"stream_rates\":{\"s1\":0.000385802469135802}}", &pr, &e));
  ASSERT_INT_EQ(pr->currencies[1].stream_drain, 66666667);
  fc_projection_destroy(pr);
  ASSERT_INT_EQ(project(t, "{\"stream_rates\":{\"s1\":\"0.0003858024691358024\"}}", &pr, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "scenario stream_rates: s1: '0.0003858024691358024' has more than 18 decimals");
  ASSERT_INT_EQ(project(t, "{\"stream_rates\":{\"s1\":\"1234567890.0000000001\"}}", &pr, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "more than 18 significant digits");
  ASSERT_INT_EQ(project(t, "{\"stream_rates\":{\"s1\":1e-4}}", &pr, &e), FC_EPARSE);
  fc_treasury_destroy(t);
}

TEST(mistakes_are_errors) {
  fc_treasury *t = load();
  fc_projection *pr;
  fc_err e;
  ASSERT_INT_EQ(project(t, "{\"pause_stream\":[\"s1\"]}", &pr, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "unknown member 'pause_stream'");
  ASSERT_INT_EQ(project(t, "{\"pause_streams\":[\"nope\"]}", &pr, &e), FC_ENOTFOUND);
  ASSERT_CONTAINS(e.msg, "scenario pause_streams: no stream 'nope'");
  ASSERT_INT_EQ(project(t, "{\"cancel_transfers\":[\"h1\"]}", &pr, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "only pending ones");
  ASSERT_INT_EQ(project(t, "{\"stream_rates\":{\"s1\":\"-1\"}}", &pr, &e), FC_ERANGE);
  ASSERT_INT_EQ(project(t, "{\"stream_rates\":{\"s1\":\"fast\"}}", &pr, &e), FC_EPARSE);
  ASSERT_INT_EQ(project(t, "{\"transfers\":[{\"id\":\"x\",\"amount\":\"1\"}]}", &pr, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "scenario transfers: index 0:");
  ASSERT_INT_EQ(project(t,
                        "{\"transfers\":[{\"id\":\"x\",\"tenant_id\":\"t2\",\"from_account_id\":\"op\","
                        "\"to_account_id\":\"v\",\"currency\":\"USD\",\"amount\":\"1\",\"status\":\"pending\","
                        "\"created_at\":\"2025-12-01\"}]}",
                        &pr, &e),
                FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "is not the scenario's tenant");
  ASSERT_INT_EQ(project(t, "[1]", &pr, &e), FC_EPARSE);
  ASSERT_INT_EQ(project(t, "{", &pr, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "scenario: JSON at byte");
  ASSERT(pr == NULL);
  fc_treasury_destroy(t);
}

TEST(projection_outlives_the_scenario_copy) {
  /* Stream rows in the answer are the projection's own copies: writing
   * JSON after the scenario's treasury is gone must be safe (ASan checks). */
  fc_treasury *t = load();
  fc_projection *pr;
  fc_buf b;
  ASSERT_OK(project(t,
                    "{\"streams\":[{\"id\":\"s9\",\"currency\":\"USDC\",\"flow_rate_per_second\":\"0.01\","
                    "\"funded_amount\":\"10\",\"total_streamed\":\"0\",\"status\":\"active\","
                    "\"started_at\":\"2025-11-30\"}]}",
                    &pr, NULL));
  fc_treasury_destroy(t);
  fc_buf_init(&b);
  ASSERT_OK(fc_projection_write_json(pr, &b));
  ASSERT_CONTAINS(b.data, "\"id\":\"s9\"");
  ASSERT_CONTAINS(b.data, "\"runway_status\":\"critical\"");
  fc_buf_free(&b);
  fc_projection_destroy(pr);
}

TEST_LIST(T(empty_scenario_is_the_baseline), T(changes_apply_to_a_copy), T(stream_rates_to_18_decimals),
          T(mistakes_are_errors), T(projection_outlives_the_scenario_copy))
