/* test_segmemo.c: kept segments answers (segmemo.h) without a gateway:
 * served only under the version they were kept under, the least recently
 * used replaced when full, a request's newer range replacing its older
 * one, the replays a refresh gets, and a miss waiting for the same answer
 * being computed. */
#include "runner.h"

#include <string.h>

#include <uv.h>

#include "segmemo.h"

static gw_tier tier_named(const char *name, int history) {
  gw_tier t;
  memset(&t, 0, sizeof t);
  strcpy(t.name, name);
  t.max_history_days = history;
  return t;
}

static void put(gw_segmemo *m, const char *tenant, const char *key, int64_t v, const char *query, const char *body) {
  gw_tier t = tier_named("pro", 365);
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_puts(&b, body);
  gw_segmemo_put(m, tenant, key, v, &t, query, &b);
  fc_buf_free(&b);
}

/* The kept body of (tenant, key) at version v into out ("" when none). */
static int got(gw_segmemo *m, const char *tenant, const char *key, int64_t v, char *out, size_t cap) {
  fc_buf b;
  fc_buf_init(&b);
  int hit = gw_segmemo_get(m, tenant, key, v, &b);
  snprintf(out, cap, "%.*s", (int)b.len, b.len ? b.data : "");
  fc_buf_free(&b);
  return hit;
}

TEST(served_only_under_its_version_and_tenant) {
  gw_segmemo *m = gw_segmemo_create(4);
  char s[64];
  ASSERT(m != NULL);
  ASSERT(gw_segmemo_create(0) == NULL); /* 0: nothing kept */
  put(m, "acme", "USD\n\n1/0", 3, "currency=USD", "{\"k\":2}");
  ASSERT_INT_EQ(got(m, "acme", "USD\n\n1/0", 3, s, sizeof s), 1);
  ASSERT_STR_EQ(s, "{\"k\":2}");
  ASSERT_INT_EQ(got(m, "acme", "USD\n\n1/0", 4, s, sizeof s), 0); /* the rows changed since */
  ASSERT_STR_EQ(s, "");
  ASSERT_INT_EQ(got(m, "other", "USD\n\n1/0", 3, s, sizeof s), 0);
  ASSERT_INT_EQ(got(m, "acme", "EUR\n\n1/0", 3, s, sizeof s), 0);
  /* Kept again under the new version: the old answer is gone. */
  put(m, "acme", "USD\n\n1/0", 4, "currency=USD", "{\"k\":3}");
  ASSERT_INT_EQ(got(m, "acme", "USD\n\n1/0", 3, s, sizeof s), 0);
  ASSERT_INT_EQ(got(m, "acme", "USD\n\n1/0", 4, s, sizeof s), 1);
  ASSERT_STR_EQ(s, "{\"k\":3}");
  gw_segmemo_destroy(m);
}

TEST(full_replaces_the_least_recently_used) {
  gw_segmemo *m = gw_segmemo_create(2);
  char s[64];
  put(m, "t", "a", 1, "q=a", "A");
  put(m, "t", "b", 1, "q=b", "B");
  ASSERT_INT_EQ(got(m, "t", "a", 1, s, sizeof s), 1); /* a used after b */
  put(m, "t", "c", 1, "q=c", "C");
  ASSERT_INT_EQ(got(m, "t", "b", 1, s, sizeof s), 0);
  ASSERT_INT_EQ(got(m, "t", "a", 1, s, sizeof s), 1);
  ASSERT_INT_EQ(got(m, "t", "c", 1, s, sizeof s), 1);
  gw_segmemo_destroy(m);
}

TEST(a_request_whose_range_moved_replaces_its_answer) {
  gw_segmemo *m = gw_segmemo_create(4);
  gw_segmemo_replay r[4];
  char s[64];
  put(m, "t", "range-1", 1, "include_users=1", "old");
  put(m, "t", "other", 1, "currency=EUR", "eur");
  put(m, "u", "range-1", 1, "include_users=1", "u's");
  /* The same query resolved to a later range after an ingestion. */
  put(m, "t", "range-2", 2, "include_users=1", "new");
  ASSERT_INT_EQ(got(m, "t", "range-1", 1, s, sizeof s), 0);
  ASSERT_INT_EQ(got(m, "t", "range-2", 2, s, sizeof s), 1);
  ASSERT_STR_EQ(s, "new");
  ASSERT_INT_EQ(got(m, "u", "range-1", 1, s, sizeof s), 1); /* another tenant's stays */
  /* The refresh replays each of t's requests once, with its tier. */
  ASSERT_INT_EQ((int)gw_segmemo_replays(m, "t", r, 4), 2);
  ASSERT(!strcmp(r[0].query, "include_users=1") || !strcmp(r[1].query, "include_users=1"));
  ASSERT(!strcmp(r[0].query, "currency=EUR") || !strcmp(r[1].query, "currency=EUR"));
  ASSERT_STR_EQ(r[0].tier.name, "pro");
  ASSERT_INT_EQ((int)gw_segmemo_replays(m, "t", r, 1), 1); /* at most max */
  ASSERT_INT_EQ((int)gw_segmemo_replays(m, "nobody", r, 4), 0);
  /* A query too long to replay is not kept. */
  char longq[1100];
  memset(longq, 'x', sizeof longq - 1);
  longq[sizeof longq - 1] = '\0';
  put(m, "t", "long", 1, longq, "L");
  ASSERT_INT_EQ(got(m, "t", "long", 1, s, sizeof s), 0);
  gw_segmemo_destroy(m);
}

typedef struct waiter {
  gw_segmemo *m;
  uint64_t wait_ms;
  int claimed, hit;
  char body[64];
} waiter;

static void wait_then_get(void *arg) {
  waiter *w = arg;
  w->claimed = gw_segmemo_claim(w->m, "t", "k", 5, w->wait_ms);
  w->hit = got(w->m, "t", "k", 5, w->body, sizeof w->body);
}

/* Polls until n callers wait in gw_segmemo_claim. */
static void until_waiting(gw_segmemo *m, int n) {
  while (gw_segmemo_waiting(m) != n) uv_sleep(1);
}

TEST(a_miss_waits_for_the_same_answer_being_computed) {
  gw_segmemo *m = gw_segmemo_create(4);
  waiter w = {m, 60000, -1, -1, ""};
  uv_thread_t th;
  ASSERT_INT_EQ(gw_segmemo_claim(m, "t", "k", 5, 60000), 1); /* this one computes */
  /* Other keys, versions and tenants are not held up. */
  ASSERT_INT_EQ(gw_segmemo_claim(m, "t", "k", 6, 60000), 1);
  ASSERT_INT_EQ(gw_segmemo_claim(m, "u", "k", 5, 60000), 1);
  ASSERT_INT_EQ(uv_thread_create(&th, wait_then_get, &w), 0);
  until_waiting(m, 1);
  put(m, "t", "k", 5, "q=k", "K");
  gw_segmemo_release(m, "t", "k", 5);
  ASSERT_INT_EQ(uv_thread_join(&th), 0);
  ASSERT_INT_EQ(w.claimed, 0);
  ASSERT_INT_EQ(w.hit, 1);
  ASSERT_STR_EQ(w.body, "K");
  /* Released: the next miss of it computes. */
  ASSERT_INT_EQ(gw_segmemo_claim(m, "t", "k", 5, 60000), 1);
  gw_segmemo_release(m, "t", "k", 5);
  gw_segmemo_destroy(m);
}

TEST(a_claim_released_without_an_answer_or_too_slow) {
  gw_segmemo *m = gw_segmemo_create(4);
  waiter w = {m, 60000, -1, -1, ""};
  uv_thread_t th;
  ASSERT_INT_EQ(gw_segmemo_claim(m, "t", "k", 5, 60000), 1);
  ASSERT_INT_EQ(uv_thread_create(&th, wait_then_get, &w), 0);
  until_waiting(m, 1);
  gw_segmemo_release(m, "t", "k", 5); /* the computation failed: nothing kept */
  ASSERT_INT_EQ(uv_thread_join(&th), 0);
  ASSERT_INT_EQ(w.claimed, 0);
  ASSERT_INT_EQ(w.hit, 0); /* the waiter computes it itself */
  /* A claim held past the wait: the waiter gives up and computes. */
  ASSERT_INT_EQ(gw_segmemo_claim(m, "t", "k", 5, 60000), 1);
  ASSERT_INT_EQ(gw_segmemo_claim(m, "t", "k", 5, 20), 0);
  gw_segmemo_release(m, "t", "k", 5);
  gw_segmemo_destroy(m);
}

TEST_LIST(T(served_only_under_its_version_and_tenant), T(full_replaces_the_least_recently_used),
          T(a_request_whose_range_moved_replaces_its_answer), T(a_miss_waits_for_the_same_answer_being_computed),
          T(a_claim_released_without_an_answer_or_too_slow));
