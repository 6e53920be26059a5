/* test_auth.c: SHA-256 against the FIPS 180-4 vectors, constant-time
 * equality, key generation and parsing, and request admission. */
#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cache.h"
#include "db.h"
#include "fail.h"
#include "metering.h"
#include "sha256.h"

static void hex_of(const char *msg, size_t n, char out[65]) {
  unsigned char d[GW_SHA256_LEN];
  gw_sha256(msg, n, d);
  gw_hex(d, GW_SHA256_LEN, out);
}

TEST(sha256_vectors) {
  char h[65];
  hex_of("", 0, h);
  ASSERT_STR_EQ(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hex_of("abc", 3, h);
  ASSERT_STR_EQ(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  hex_of(two, strlen(two), h);
  ASSERT_STR_EQ(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* One million 'a', fed in uneven pieces. */
  gw_sha256_ctx s;
  unsigned char d[GW_SHA256_LEN];
  char a[997];
  memset(a, 'a', sizeof a);
  gw_sha256_init(&s);
  size_t left = 1000000;
  while (left) {
    size_t n = left < sizeof a ? left : sizeof a;
    gw_sha256_update(&s, a, n);
    left -= n;
  }
  gw_sha256_final(&s, d);
  gw_hex(d, GW_SHA256_LEN, h);
  ASSERT_STR_EQ(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ct_equal) {
  unsigned char a[32], b[32];
  memset(a, 7, sizeof a);
  memcpy(b, a, sizeof a);
  ASSERT_INT_EQ(gw_ct_equal(a, b, 32), 1);
  b[31] ^= 1;
  ASSERT_INT_EQ(gw_ct_equal(a, b, 32), 0);
  b[31] ^= 1;
  b[0] ^= 0x80;
  ASSERT_INT_EQ(gw_ct_equal(a, b, 32), 0);
}

TEST(keys) {
  char id[GW_KEY_ID_LEN + 1], key[GW_KEY_LEN + 1], id2[GW_KEY_ID_LEN + 1], h[65];
  unsigned char hash[GW_SHA256_LEN], again[GW_SHA256_LEN];
  ASSERT_OK(gw_key_generate(id, key, hash));
  ASSERT_INT_EQ(strlen(key), GW_KEY_LEN);
  ASSERT_INT_EQ(gw_key_parse(key, id2), 1);
  ASSERT_STR_EQ(id, id2);
  gw_sha256(key, strlen(key), again);
  ASSERT_INT_EQ(gw_ct_equal(hash, again, GW_SHA256_LEN), 1);
  gw_hex(hash, GW_SHA256_LEN, h);
  ASSERT(strstr(key, h) == NULL); /* the hash is not in the key text */
  char bad[GW_KEY_LEN + 1];
  memcpy(bad, key, sizeof bad);
  bad[20] = 'G';
  ASSERT_INT_EQ(gw_key_parse(bad, id2), 0);
  ASSERT_INT_EQ(gw_key_parse("fc_short", id2), 0);
  ASSERT_INT_EQ(gw_key_parse("", id2), 0);
  char other[GW_KEY_LEN + 1];
  ASSERT_OK(gw_key_generate(id2, other, again));
  ASSERT(strcmp(other, key) != 0);
}

/* Admission through the registry: valid, wrong secret, revoked, admin. */
TEST(admission) {
  gw_rate_policy anon = {1000, 2};
  gw_auth *a = gw_auth_create("admin-secret", anon);
  gw_tier t;
  gw_key_info k;
  char key[GW_KEY_LEN + 1], hdr_auth[GW_KEY_LEN + 16];
  gw_call call;
  gw_response res;
  fc_buf hdr;
  gw_auth_memo memo; /* one connection's: a changed key is hashed again */
  memset(&memo, 0, sizeof memo);
  memset(&t, 0, sizeof t);
  memset(&k, 0, sizeof k);
  snprintf(t.name, sizeof t.name, "tiny");
  t.rate = (gw_rate_policy){1000, 3};
  t.monthly_quota = 4;
  t.max_horizon_hours = 24;
  t.max_history_days = 30;
  t.granularities = GW_GRAN_DAY;
  ASSERT_OK(gw_auth_put_tier(a, &t));
  ASSERT_OK(gw_key_generate(k.id, key, k.hash));
  snprintf(k.tenant, sizeof k.tenant, "acme");
  snprintf(k.tier, sizeof k.tier, "tiny");
  ASSERT_OK(gw_auth_put_key(a, &k));
  gw_response_init(&res);
  fc_buf_init(&hdr);
  snprintf(hdr_auth, sizeof hdr_auth, "Bearer %s", key);
  int64_t now = 1764547200 + 100, mono = 1000000000000LL;
  int ok = 0, limited = 0;
  for (int i = 0; i < 10; i++) {
    gw_response_reset(&res);
    int st = gw_auth_admit(a, &memo, hdr_auth, "1.2.3.4", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr);
    ok += st == 0;
    limited += st == GW_ERATE;
    if (st == 0) ASSERT_STR_EQ(call.tenant, "acme");
    gw_auth_settle(a, &call, 200); /* served: its quota unit is used */
  }
  ASSERT_INT_EQ(ok, 3); /* the burst */
  ASSERT_INT_EQ(limited, 7);
  /* Later: one more is within the rate but the quota (4) ends it. */
  ASSERT_INT_EQ(
      gw_auth_admit(a, NULL, hdr_auth, "1.2.3.4", GW_AUTH_PARTNER, mono + 10000000000LL, now, &call, &res, &hdr), 0);
  gw_auth_settle(a, &call, 200);
  gw_response_reset(&res);
  ASSERT_INT_EQ(
      gw_auth_admit(a, NULL, hdr_auth, "1.2.3.4", GW_AUTH_PARTNER, mono + 20000000000LL, now, &call, &res, &hdr),
      GW_EQUOTA);
  ASSERT_CONTAINS(res.fail.msg, "monthly quota of tier 'tiny' (4 calls) is used up");
  /* A wrong secret with the right id is refused. */
  char forged[GW_KEY_LEN + 16];
  snprintf(forged, sizeof forged, "%s", hdr_auth);
  forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == '0' ? '1' : '0';
  gw_response_reset(&res);
  ASSERT_INT_EQ(gw_auth_admit(a, &memo, forged, "5.6.7.8", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr), GW_EBAD_KEY);
  /* Revoked. */
  k.revoked = 1;
  ASSERT_OK(gw_auth_put_key(a, &k));
  gw_response_reset(&res);
  ASSERT_INT_EQ(
      gw_auth_admit(a, &memo, hdr_auth, "5.6.7.9", GW_AUTH_PARTNER, mono + 30000000000LL, now, &call, &res, &hdr),
      GW_EREVOKED_KEY);
  /* Written as a client sees it: 401 with the Bearer challenge. */
  gw_response_fail(&res, GW_EREVOKED_KEY);
  ASSERT_INT_EQ(res.status, 401);
  ASSERT_CONTAINS(res.body.data, "\"revoked_key\"");
  ASSERT_CONTAINS(res.headers.data, "WWW-Authenticate: Bearer realm=\"floatcast\"\r\n");
  /* The admin key: admin routes yes, partner routes no. */
  gw_response_reset(&res);
  ASSERT_INT_EQ(gw_auth_admit(a, NULL, "Bearer admin-secret", "9.9.9.9", GW_AUTH_ADMIN, mono, now, &call, &res, &hdr),
                0);
  ASSERT_INT_EQ(call.caller, GW_CALLER_ADMIN);
  gw_response_reset(&res);
  ASSERT_INT_EQ(gw_auth_admit(a, NULL, "Bearer admin-secret", "9.9.9.9", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr),
                GW_EFORBIDDEN);
  gw_response_reset(&res);
  ASSERT_INT_EQ(gw_auth_admit(a, &memo, "Bearer admin-secreT", "9.9.9.8", GW_AUTH_ADMIN, mono, now, &call, &res, &hdr),
                GW_EBAD_KEY);
  gw_response_reset(&res);
  ASSERT_INT_EQ(gw_auth_admit(a, NULL, NULL, "9.9.9.7", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr), GW_ENO_KEY);
  fc_buf_free(&hdr);
  gw_response_free(&res);
  gw_auth_destroy(a);
}

/* Test helpers: a key of `tenant` in `tier`, registered; its header. */
static void add_key(gw_auth *a, const char *tenant, const char *tier, gw_key_info *k, char hdr[GW_KEY_LEN + 16]) {
  char key[GW_KEY_LEN + 1];
  memset(k, 0, sizeof *k);
  if (gw_key_generate(k->id, key, k->hash) != FC_OK) abort();
  snprintf(k->tenant, sizeof k->tenant, "%s", tenant);
  snprintf(k->tier, sizeof k->tier, "%s", tier);
  if (gw_auth_put_key(a, k) != FC_OK) abort();
  snprintf(hdr, GW_KEY_LEN + 16, "Bearer %s", key);
}

static int admit_at(gw_auth *a, const char *hdr, int64_t mono, int64_t now, gw_call *call, char code[32]) {
  gw_response res;
  fc_buf h;
  gw_response_init(&res);
  fc_buf_init(&h);
  int st = gw_auth_admit(a, NULL, hdr, "1.2.3.4", GW_AUTH_PARTNER, mono, now, call, &res, &h);
  if (st != 0) { /* the answer a client gets */
    gw_response_fail(&res, st);
    st = res.status;
  }
  const char *c = res.body.data ? strstr(res.body.data, "\"code\":\"") : NULL;
  snprintf(code, 32, "%.*s", c ? (int)strcspn(c + 8, "\"") : 0, c ? c + 8 : "");
  fc_buf_free(&h);
  gw_response_free(&res);
  return st;
}

/* Limits are the tenant's: a rotated key (the old one revoked, a new id)
 * or a second key of the same tenant gets neither a fresh burst nor a
 * fresh month; another tenant is untouched. */
TEST(tenant_limits_shared) {
  gw_auth *a = gw_auth_create(NULL, (gw_rate_policy){1000, 100});
  gw_tier t;
  gw_key_info k1, k2, k3;
  char h1[GW_KEY_LEN + 16], h2[GW_KEY_LEN + 16], h3[GW_KEY_LEN + 16], code[32];
  gw_call call;
  memset(&t, 0, sizeof t);
  snprintf(t.name, sizeof t.name, "small");
  t.rate = (gw_rate_policy){1000, 3}; /* 1/s, burst 3 */
  t.monthly_quota = 5;
  t.max_horizon_hours = t.max_history_days = 1;
  t.granularities = GW_GRAN_DAY;
  ASSERT_OK(gw_auth_put_tier(a, &t));
  add_key(a, "acme", "small", &k1, h1);
  int64_t now = 1764547200 + 100, mono = 1000000000000LL, s = 1000000000LL;
  for (int i = 0; i < 3; i++) {
    ASSERT_INT_EQ(admit_at(a, h1, mono, now, &call, code), 0);
    gw_auth_settle(a, &call, 200);
  }
  ASSERT_INT_EQ(admit_at(a, h1, mono, now, &call, code), 429);
  ASSERT_STR_EQ(code, "rate_limited");
  /* Rotation: k1 revoked, k2 issued for the same tenant. */
  k1.revoked = 1;
  ASSERT_OK(gw_auth_put_key(a, &k1));
  add_key(a, "acme", "small", &k2, h2);
  ASSERT_INT_EQ(admit_at(a, h2, mono, now, &call, code), 429);
  ASSERT_STR_EQ(code, "rate_limited");
  add_key(a, "acme", "small", &k3, h3);
  ASSERT_INT_EQ(admit_at(a, h3, mono, now, &call, code), 429);
  ASSERT_STR_EQ(code, "rate_limited");
  /* Later the rate admits again, and the quota (5) counts all keys. */
  ASSERT_INT_EQ(admit_at(a, h2, mono + 10 * s, now, &call, code), 0);
  gw_auth_settle(a, &call, 200);
  ASSERT_INT_EQ(admit_at(a, h3, mono + 20 * s, now, &call, code), 0);
  gw_auth_settle(a, &call, 200);
  ASSERT_INT_EQ(admit_at(a, h2, mono + 30 * s, now, &call, code), 429);
  ASSERT_STR_EQ(code, "quota_exceeded");
  /* Another tenant has its own. */
  gw_key_info kb;
  char hb[GW_KEY_LEN + 16];
  add_key(a, "beta", "small", &kb, hb);
  ASSERT_INT_EQ(admit_at(a, hb, mono + 30 * s, now, &call, code), 0);
  ASSERT_STR_EQ(call.tenant, "beta");
  /* The month's use restored at start is the tenant's. */
  ASSERT_OK(gw_auth_set_quota_used(a, "beta", gw_month_of(now), 5));
  ASSERT_INT_EQ(admit_at(a, hb, mono + 40 * s, now, &call, code), 429);
  ASSERT_STR_EQ(code, "quota_exceeded");
  gw_auth_destroy(a);
}

/* A call refused only because others hold the rest of the quota is a
 * 429 quota_pending with Retry-After: 1, not quota_exceeded with the time
 * to the month's end; a settled 4xx frees its unit. */
TEST(quota_pending_while_in_flight) {
  gw_auth *a = gw_auth_create(NULL, (gw_rate_policy){1000, 100});
  gw_tier t;
  gw_key_info k;
  char h[GW_KEY_LEN + 16];
  gw_call held[2], call;
  gw_response res;
  fc_buf hdr;
  memset(&t, 0, sizeof t);
  snprintf(t.name, sizeof t.name, "q2");
  t.rate = (gw_rate_policy){1000000, 1000};
  t.monthly_quota = 2;
  t.max_horizon_hours = t.max_history_days = 1;
  t.granularities = GW_GRAN_DAY;
  ASSERT_OK(gw_auth_put_tier(a, &t));
  add_key(a, "acme", "q2", &k, h);
  gw_response_init(&res);
  fc_buf_init(&hdr);
  int64_t now = 1764547200 + 100, mono = 1000000000000LL;
  for (int i = 0; i < 2; i++)
    ASSERT_INT_EQ(gw_auth_admit(a, NULL, h, "1.2.3.4", GW_AUTH_PARTNER, mono, now, &held[i], &res, &hdr), 0);
  fc_buf_reset(&hdr);
  ASSERT_INT_EQ(gw_auth_admit(a, NULL, h, "1.2.3.4", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr), GW_EQUOTA_HELD);
  ASSERT_CONTAINS(hdr.data, "Retry-After: 1\r\n");
  gw_auth_settle(a, &call, 429); /* refused at admission: changes nothing */
  gw_auth_settle(a, &held[0], 400);
  gw_response_reset(&res);
  ASSERT_INT_EQ(gw_auth_admit(a, NULL, h, "1.2.3.4", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr), 0);
  gw_auth_settle(a, &call, 200);
  gw_auth_settle(a, &held[1], 200);
  gw_response_reset(&res);
  fc_buf_reset(&hdr);
  ASSERT_INT_EQ(gw_auth_admit(a, NULL, h, "1.2.3.4", GW_AUTH_PARTNER, mono, now, &call, &res, &hdr), GW_EQUOTA);
  ASSERT(strstr(hdr.data, "Retry-After: 1\r\n") == NULL);
  fc_buf_free(&hdr);
  gw_response_free(&res);
  gw_auth_destroy(a);
}

TEST(metering_aggregate) {
  gw_meter_rec r[5];
  const gw_meter_rec *scratch[5];
  gw_usage_row rows[5];
  memset(r, 0, sizeof r);
  for (int i = 0; i < 5; i++) {
    snprintf(r[i].tenant, sizeof r[i].tenant, "%s", i == 3 ? "b" : "a");
    snprintf(r[i].key_id, sizeof r[i].key_id, "k1");
    snprintf(r[i].endpoint, sizeof r[i].endpoint, "projection");
    r[i].status_class = i == 4 ? 4 : 2;
    r[i].at = 1764547200 + (i == 2 ? 3600 : 10 * i);
    r[i].bytes = 100 + i;
    r[i].compute_us = 1000;
  }
  size_t n = gw_meter_aggregate(r, 5, scratch, rows);
  ASSERT_INT_EQ(n, 4);
  /* a/k1/projection/2 in hour 0: records 0 and 1. */
  ASSERT_STR_EQ(rows[0].tenant, "a");
  ASSERT_INT_EQ(rows[0].status_class, 2);
  ASSERT_INT_EQ(rows[0].hour, 1764547200);
  ASSERT_INT_EQ(rows[0].calls, 2);
  ASSERT_INT_EQ(rows[0].bytes, 201);
  ASSERT_INT_EQ(rows[0].compute_us, 2000);
  ASSERT_INT_EQ(rows[1].hour, 1764547200 + 3600);
  ASSERT_INT_EQ(rows[1].calls, 1);
  ASSERT_INT_EQ(rows[2].status_class, 4);
  ASSERT_STR_EQ(rows[3].tenant, "b");
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) total += rows[i].calls;
  ASSERT_INT_EQ(total, 5); /* every call counted once */
}

/* The metering writer sends an answer only once its record is committed:
 * a record of a closed month (refused by the usage triggers) sends
 * nothing and comes back failed; a committed one's answer is on the
 * socket, and counted, when done() runs. */
typedef struct meter_seen {
  int calls, ok[2];
  void *owner[2];
} meter_seen;

static void meter_done(void *owner, int ok, void *arg) {
  meter_seen *s = arg;
  if (s->calls < 2) {
    s->owner[s->calls] = owner;
    s->ok[s->calls] = ok;
  }
  s->calls++;
}

/* Submits one record with answer a and runs the loop until it is back. */
static int meter_one(uv_loop_t *loop, gw_meter *m, meter_seen *seen, int64_t at, gw_meter_answer *a) {
  gw_meter_rec r;
  int before = seen->calls;
  memset(&r, 0, sizeof r);
  snprintf(r.tenant, sizeof r.tenant, "t");
  snprintf(r.key_id, sizeof r.key_id, "k");
  snprintf(r.endpoint, sizeof r.endpoint, "projection");
  r.status_class = 2;
  r.at = at;
  r.bytes = (int64_t)(a->head_len + a->body_len);
  r.owner = a;
  r.answer = a;
  int rc = gw_meter_submit(m, &r);
  while (rc == FC_OK && seen->calls == before) uv_run(loop, UV_RUN_ONCE); /* the async wakes it */
  return rc;
}

TEST(metering_sends_only_committed_answers) {
  char dir[] = "/tmp/fc-meter-XXXXXX", path[64], got[64];
  ASSERT(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/m.db", dir);
  gw_db *db = NULL;
  gw_meter *m = NULL;
  fc_err err;
  uv_loop_t loop;
  meter_seen seen = {0, {0, 0}, {NULL, NULL}};
  int sv[3][2];
  int64_t calls = -1;
  fc_err_clear(&err);
  ASSERT_OK(gw_db_open(path, 0, &db, &err));
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(gw_meter_start(&loop, db, gw_meter_defaults(), meter_done, &seen, &m, &err));
  for (int i = 0; i < 3; i++) ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]));
  gw_meter_answer closed = {sv[0][0], "HTTP/1.1 200 OK\r\n\r\n", "{}", 19, 2, 0, 0, 0};
  gw_meter_answer good = closed, held = closed;
  good.fd = sv[1][0];
  held.fd = sv[2][0];
  held.held = 1;
  /* 1970 is a closed month: the commit fails, nothing may leave. */
  ASSERT_OK(meter_one(&loop, m, &seen, 0, &closed));
  ASSERT_INT_EQ(seen.ok[0], 0);
  ASSERT(seen.owner[0] == &closed);
  ASSERT_INT_EQ(closed.sent, 0);
  ASSERT_INT_EQ(recv(sv[0][1], got, sizeof got, MSG_DONTWAIT), -1);
  ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
  ASSERT_OK(meter_one(&loop, m, &seen, (int64_t)time(NULL), &good));
  ASSERT_INT_EQ(seen.ok[1], 1);
  ASSERT_INT_EQ(good.sent, 21);
  ASSERT_INT_EQ(recv(sv[1][1], got, sizeof got, MSG_DONTWAIT), 21);
  ASSERT(memcmp(got, "HTTP/1.1 200 OK\r\n\r\n{}", 21) == 0);
  ASSERT_OK(gw_db_usage_calls(db, "t", "k", 2, &calls, &err));
  ASSERT_INT_EQ(calls, 1);
  /* The commit told the checkpointer how large the WAL is now. */
  gw_meter_stats st;
  gw_meter_get_stats(m, &st);
  ASSERT(st.wal_frames > 0);
  /* Held (its owner waits for the shared quota count): committed, and
   * left for the owner to send. */
  ASSERT_OK(meter_one(&loop, m, &seen, (int64_t)time(NULL), &held));
  ASSERT_INT_EQ(seen.calls, 3);
  ASSERT_INT_EQ(held.sent, 0);
  ASSERT_INT_EQ(recv(sv[2][1], got, sizeof got, MSG_DONTWAIT), -1);
  ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
  ASSERT_OK(gw_db_usage_calls(db, "t", "k", 2, &calls, &err));
  ASSERT_INT_EQ(calls, 2);
  /* Taken back without the loop's turn: the client has its answer (the
   * writer sent it after the commit), so the record is ready for the loop
   * to take when the client's next request comes. */
  gw_meter_answer again = good;
  again.sent = 0;
  gw_meter_rec r;
  memset(&r, 0, sizeof r);
  snprintf(r.tenant, sizeof r.tenant, "t");
  snprintf(r.key_id, sizeof r.key_id, "k");
  snprintf(r.endpoint, sizeof r.endpoint, "projection");
  r.status_class = 2;
  r.at = (int64_t)time(NULL);
  r.owner = r.answer = &again;
  ASSERT_INT_EQ(gw_meter_take_back(m), 0); /* nothing out */
  ASSERT_OK(gw_meter_submit(m, &r));
  struct pollfd pfd = {sv[1][1], POLLIN, 0};
  ASSERT_INT_EQ(poll(&pfd, 1, 60000), 1); /* generous: a busy machine */
  ASSERT_INT_EQ(recv(sv[1][1], got, sizeof got, 0), 21);
  for (int tries = 0; tries < 6000 && !gw_meter_take_back(m); tries++) uv_sleep(10);
  ASSERT_INT_EQ(seen.calls, 4);
  ASSERT_INT_EQ(gw_meter_take_back(m), 0); /* handed back once */
  gw_meter_stop(m);
  uv_run(&loop, UV_RUN_DEFAULT); /* closes the meter's async handle */
  gw_meter_destroy(m);
  ASSERT_OK(uv_loop_close(&loop));
  gw_db_close(db);
  for (int i = 0; i < 3; i++) close(sv[i][0]), close(sv[i][1]);
  static const char *const files[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char f[80];
    snprintf(f, sizeof f, "%s%s", path, files[i]);
    unlink(f); /* the WAL files may be gone already */
  }
  ASSERT_OK(rmdir(dir));
}

TEST(metering_checkpoint_due) {
  /* Nothing committed since the last checkpoint: never. */
  ASSERT_INT_EQ(gw_meter_checkpoint_due(7, 7, 7, 9000, 8192), 0);
  ASSERT_INT_EQ(gw_meter_checkpoint_due(7, 6, 7, 9000, 8192), 0);
  /* Busy (commits since the last look) below the threshold: not yet, so
   * the WAL is not restarted, with its header's fsync, under load. */
  ASSERT_INT_EQ(gw_meter_checkpoint_due(9, 8, 7, 8191, 8192), 0);
  ASSERT_INT_EQ(gw_meter_checkpoint_due(9, 8, 7, 8192, 8192), 1);
  /* Idle for a whole period with an eighth of that to copy: now; with
   * less, not (each call of a sparse client would restart the WAL). */
  ASSERT_INT_EQ(gw_meter_checkpoint_due(9, 9, 7, 1024, 8192), 1);
  ASSERT_INT_EQ(gw_meter_checkpoint_due(9, 9, 7, 1023, 8192), 0);
  /* A threshold of one page: every look that finds a commit, as a
   * checkpoint on a clock would. */
  ASSERT_INT_EQ(gw_meter_checkpoint_due(9, 8, 7, 1, 1), 1);
}

TEST(cache_generations_and_ttl) {
  gw_cache *c = gw_cache_create(2, 1000);
  fc_buf body;
  int st;
  const char *ct;
  fc_buf_init(&body);
  fc_buf_puts(&body, "{\"x\":1}");
  uint64_t g = gw_cache_gen(c, "a");
  gw_cache_put(c, "a", "a|q1", g, 0, 200, "application/json", &body);
  ASSERT(gw_cache_get(c, "a", "a|q1", 10, &st, &ct) != NULL);
  ASSERT(gw_cache_get(c, "b", "b|q1", 10, &st, &ct) == NULL);
  ASSERT(gw_cache_get(c, "a", "a|q1", 1000, &st, &ct) == NULL); /* expired */
  gw_cache_put(c, "a", "a|q1", g, 2000, 200, "application/json", &body);
  gw_cache_invalidate(c, "a");
  ASSERT(gw_cache_get(c, "a", "a|q1", 2001, &st, &ct) == NULL); /* new data */
  /* An answer computed before the ingestion is never stored. */
  gw_cache_put(c, "a", "a|q1", g, 2002, 200, "application/json", &body);
  ASSERT(gw_cache_get(c, "a", "a|q1", 2003, &st, &ct) == NULL);
  gw_cache_stats s;
  gw_cache_get_stats(c, &s);
  ASSERT_INT_EQ(s.hits, 1);
  ASSERT_INT_EQ(s.misses, 4);
  fc_buf_free(&body);
  gw_cache_destroy(c);
}

TEST_LIST(T(sha256_vectors), T(ct_equal), T(keys), T(admission), T(tenant_limits_shared),
          T(quota_pending_while_in_flight), T(metering_aggregate), T(metering_sends_only_committed_answers),
          T(metering_checkpoint_due), T(cache_generations_and_ttl))
