/* auth.c: the key and tier registry and request admission. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <uv.h>

#include "fail.h"
#include "fc/status.h"

typedef struct key_entry {
  gw_key_info info;
  int used; /* slot in use */
} key_entry;

/* The limits' state is the tenant's, shared by all its keys. */
typedef struct tenant_entry {
  char name[FC_TEXT_MAX + 1];
  gw_gcra gcra;
  gw_quota quota;
  int used; /* slot in use */
} tenant_entry;

struct gw_auth {
  uv_mutex_t lock;
  unsigned char admin_hash[GW_SHA256_LEN];
  int has_admin;
  gw_tier *tiers;
  size_t n_tiers, cap_tiers;
  key_entry *keys; /* open addressing by id, power-of-two capacity */
  size_t n_keys, cap_keys;
  tenant_entry *tenants; /* open addressing by name, power-of-two capacity */
  size_t n_tenants, cap_tenants;
  gw_addr_limiter *anon;
  gw_rate_policy anon_policy;
  int shared; /* limits are applied by the caller (gw_auth_set_shared) */
};

static uint64_t hash_id(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

gw_auth *gw_auth_create(const char *admin_key, gw_rate_policy anon) {
  gw_auth *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->cap_keys = 64;
  a->keys = calloc(a->cap_keys, sizeof *a->keys);
  a->cap_tenants = 16;
  a->tenants = calloc(a->cap_tenants, sizeof *a->tenants);
  a->anon_policy = anon;
  a->anon = gw_addr_limiter_create(65536, anon);
  if (!a->keys || !a->tenants || !a->anon || uv_mutex_init(&a->lock) != 0) {
    gw_addr_limiter_destroy(a->anon);
    free(a->tenants);
    free(a->keys);
    free(a);
    return NULL;
  }
  if (admin_key && admin_key[0]) {
    gw_sha256(admin_key, strlen(admin_key), a->admin_hash);
    a->has_admin = 1;
  }
  return a;
}

void gw_auth_destroy(gw_auth *a) {
  if (!a) return;
  uv_mutex_destroy(&a->lock);
  gw_addr_limiter_destroy(a->anon);
  free(a->tiers);
  free(a->keys);
  free(a->tenants);
  free(a);
}

static key_entry *find_key(gw_auth *a, const char *id) {
  size_t mask = a->cap_keys - 1;
  for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask) {
    if (!a->keys[i].used) return NULL;
    if (strcmp(a->keys[i].info.id, id) == 0) return &a->keys[i];
  }
}

static key_entry *insert_slot(key_entry *keys, size_t cap, const char *id) {
  size_t mask = cap - 1;
  for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask)
    if (!keys[i].used || strcmp(keys[i].info.id, id) == 0) return &keys[i];
}

static int grow_keys(gw_auth *a) {
  size_t cap = a->cap_keys * 2;
  key_entry *k = calloc(cap, sizeof *k);
  if (!k) return FC_ENOMEM;
  for (size_t i = 0; i < a->cap_keys; i++)
    if (a->keys[i].used) *insert_slot(k, cap, a->keys[i].info.id) = a->keys[i];
  free(a->keys);
  a->keys = k;
  a->cap_keys = cap;
  return FC_OK;
}

static tenant_entry *find_tenant(gw_auth *a, const char *name) {
  size_t mask = a->cap_tenants - 1;
  for (size_t i = hash_id(name) & mask;; i = (i + 1) & mask) {
    if (!a->tenants[i].used) return NULL;
    if (strcmp(a->tenants[i].name, name) == 0) return &a->tenants[i];
  }
}

static tenant_entry *tenant_slot(tenant_entry *t, size_t cap, const char *name) {
  size_t mask = cap - 1;
  for (size_t i = hash_id(name) & mask;; i = (i + 1) & mask)
    if (!t[i].used || strcmp(t[i].name, name) == 0) return &t[i];
}

/* The tenant's entry, made at rest when missing; NULL only without memory.
 * Called with the lock held, from key registration (not from admission,
 * which never allocates). */
static tenant_entry *add_tenant(gw_auth *a, const char *name) {
  tenant_entry *e = find_tenant(a, name);
  if (e) return e;
  if ((a->n_tenants + 1) * 2 > a->cap_tenants) {
    size_t cap = a->cap_tenants * 2;
    tenant_entry *t = calloc(cap, sizeof *t);
    if (!t) return NULL;
    for (size_t i = 0; i < a->cap_tenants; i++)
      if (a->tenants[i].used) *tenant_slot(t, cap, a->tenants[i].name) = a->tenants[i];
    free(a->tenants);
    a->tenants = t;
    a->cap_tenants = cap;
  }
  e = tenant_slot(a->tenants, a->cap_tenants, name);
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  e->used = 1;
  e->quota.month = -1;
  a->n_tenants++;
  return e;
}

int gw_auth_put_key(gw_auth *a, const gw_key_info *info) {
  int rc = FC_OK;
  uv_mutex_lock(&a->lock);
  key_entry *e = find_key(a, info->id);
  if (!add_tenant(a, info->tenant)) rc = FC_ENOMEM;
  if (rc == FC_OK && !e && (a->n_keys + 1) * 2 > a->cap_keys) rc = grow_keys(a);
  if (rc == FC_OK) {
    if (!e) {
      e = insert_slot(a->keys, a->cap_keys, info->id);
      memset(e, 0, sizeof *e);
      e->used = 1;
      a->n_keys++;
    }
    e->info = *info;
  }
  uv_mutex_unlock(&a->lock);
  return rc;
}

int gw_auth_put_tier(gw_auth *a, const gw_tier *t) {
  int rc = FC_OK;
  uv_mutex_lock(&a->lock);
  size_t i = 0;
  while (i < a->n_tiers && strcmp(a->tiers[i].name, t->name) != 0) i++;
  if (i == a->n_tiers) {
    if (a->n_tiers == a->cap_tiers) {
      size_t cap = a->cap_tiers ? a->cap_tiers * 2 : 8;
      gw_tier *v = realloc(a->tiers, cap * sizeof *v);
      if (!v) rc = FC_ENOMEM;
      else a->tiers = v, a->cap_tiers = cap;
    }
    if (rc == FC_OK) a->n_tiers++;
  }
  if (rc == FC_OK) a->tiers[i] = *t;
  uv_mutex_unlock(&a->lock);
  return rc;
}

static const gw_tier *tier_locked(gw_auth *a, const char *name) {
  for (size_t i = 0; i < a->n_tiers; i++)
    if (strcmp(a->tiers[i].name, name) == 0) return &a->tiers[i];
  return NULL;
}

int gw_auth_set_quota_used(gw_auth *a, const char *tenant, int64_t month, int64_t used) {
  uv_mutex_lock(&a->lock);
  tenant_entry *e = add_tenant(a, tenant);
  if (e) {
    e->quota.month = month;
    e->quota.used = used;
  }
  uv_mutex_unlock(&a->lock);
  return e ? FC_OK : FC_ENOMEM;
}

int gw_key_parse(const char *s, char id[GW_KEY_ID_LEN + 1]) {
  if (strlen(s) != GW_KEY_LEN || strncmp(s, "fc_", 3) != 0 || s[3 + GW_KEY_ID_LEN] != '_') return 0;
  for (size_t i = 3; i < GW_KEY_LEN; i++) {
    char c = s[i];
    if (i == 3 + GW_KEY_ID_LEN) continue;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  memcpy(id, s + 3, GW_KEY_ID_LEN);
  id[GW_KEY_ID_LEN] = '\0';
  return 1;
}

int gw_key_generate(char id[GW_KEY_ID_LEN + 1], char key[GW_KEY_LEN + 1], unsigned char hash[GW_SHA256_LEN]) {
  unsigned char rnd[GW_KEY_ID_LEN / 2 + 24];
  size_t got = 0;
  while (got < sizeof rnd) {
    ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
    if (n <= 0) return FC_EUNSUPPORTED;
    got += (size_t)n;
  }
  char idhex[GW_KEY_ID_LEN + 1], sec[49];
  gw_hex(rnd, GW_KEY_ID_LEN / 2, idhex);
  gw_hex(rnd + GW_KEY_ID_LEN / 2, 24, sec);
  snprintf(key, GW_KEY_LEN + 1, "fc_%s_%s", idhex, sec);
  memcpy(id, idhex, GW_KEY_ID_LEN + 1);
  gw_sha256(key, strlen(key), hash);
  return FC_OK;
}

/* "Bearer X" (scheme case-insensitive): X, or NULL. */
static const char *bearer(const char *h) {
  if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
  h += 7;
  while (*h == ' ') h++;
  return *h ? h : NULL;
}

static int anon_admit(gw_auth *a, const char *peer_ip, int64_t mono_ns, gw_response *res, fc_buf *hdr) {
  gw_rate_result r;
  gw_addr_limiter_take(a->anon, peer_ip, mono_ns, &r);
  gw_rate_headers(&r, a->anon_policy.rate_milli, 0, 0, 0, r.allowed ? 0 : r.retry_after, hdr);
  if (r.allowed) return 0;
  return gw_fail(res, GW_ERATE, "too many requests from this address; retry after %lld s", (long long)r.retry_after);
}

int gw_fail_limit(gw_response *res, const gw_tier *t, const gw_rate_result *rate, int quota) {
  if (!rate->allowed)
    return gw_fail(res, GW_ERATE, "rate limit of tier '%s' exceeded (burst %lld); retry after %lld s", t->name,
                   (long long)t->rate.burst, (long long)rate->retry_after);
  if (quota == GW_QUOTA_EXHAUSTED)
    return gw_fail(res, GW_EQUOTA, "monthly quota of tier '%s' (%lld calls) is used up", t->name,
                   (long long)t->monthly_quota);
  return gw_fail(res, GW_EQUOTA_HELD,
                 "the rest of the monthly quota of tier '%s' (%lld calls) is held by calls in progress; retry "
                 "after 1 s",
                 t->name, (long long)t->monthly_quota);
}

/* A partner call's limits: the key's tier over the tenant's state; called
 * with the lock held. */
static int partner_admit(tenant_entry *e, const gw_tier *t, int64_t mono_ns, int64_t unix_s, gw_call *call,
                         gw_response *res, fc_buf *hdr) {
  gw_rate_result r;
  int64_t month = gw_month_of(unix_s);
  int64_t month_end = gw_month_start(month + 1) - unix_s;
  gw_gcra_take(&e->gcra, t->rate, mono_ns, &r);
  int quota = r.allowed ? gw_quota_take(&e->quota, t->monthly_quota, month) : GW_QUOTA_OK;
  if (e->quota.month != month) { /* first call of a month, refused by the rate */
    e->quota.month = month;
    e->quota.used = 0;
  }
  int64_t retry = !r.allowed                    ? r.retry_after
                  : quota == GW_QUOTA_EXHAUSTED ? month_end
                  : quota == GW_QUOTA_PENDING   ? 1
                                                : 0;
  gw_rate_headers(&r, t->rate.rate_milli, t->monthly_quota, e->quota.used + e->quota.pending, month_end, retry, hdr);
  if (!r.allowed || quota != GW_QUOTA_OK) return gw_fail_limit(res, t, &r, quota);
  call->quota_month = month;
  return 0;
}

/* digest = SHA-256(key), from the memo when it holds the same key. The
 * memo's key came from the same client, so comparing against it leaks
 * nothing and need not be constant-time. */
static void key_digest(gw_auth_memo *memo, const char *key, unsigned char *digest) {
  size_t n = strlen(key);
  if (memo && n <= GW_KEY_LEN && memcmp(memo->key, key, n + 1) == 0) {
    memcpy(digest, memo->digest, GW_SHA256_LEN);
    return;
  }
  gw_sha256(key, n, digest);
  if (memo && n <= GW_KEY_LEN) {
    memcpy(memo->key, key, n + 1);
    memcpy(memo->digest, digest, GW_SHA256_LEN);
  }
}

/* A key that admits nobody: none presented, a revoked one, or one that
 * is not a key of this gateway. */
static int key_refusal(gw_response *res, const char *key, int revoked) {
  if (!key) return gw_fail(res, GW_ENO_KEY, "missing Authorization: Bearer API key");
  if (revoked) return gw_fail(res, GW_EREVOKED_KEY, "this API key has been revoked");
  return gw_fail(res, GW_EBAD_KEY, "invalid API key");
}

int gw_auth_take_anon(gw_auth *a, const char *peer_ip, int64_t mono_ns, gw_response *res, fc_buf *hdr) {
  uv_mutex_lock(&a->lock);
  int st = anon_admit(a, peer_ip, mono_ns, res, hdr);
  uv_mutex_unlock(&a->lock);
  return st;
}

int gw_auth_admit(gw_auth *a, gw_auth_memo *memo, const char *authorization, const char *peer_ip, int need,
                  int64_t mono_ns, int64_t unix_s, gw_call *call, gw_response *res, fc_buf *hdr) {
  const char *key = need == GW_AUTH_NONE ? NULL : bearer(authorization);
  unsigned char digest[GW_SHA256_LEN];
  char id[GW_KEY_ID_LEN + 1];
  int st = 0;
  call->caller = GW_CALLER_ANON;
  call->quota_month = -1;
  call->tenant[0] = call->key_id[0] = '\0';
  if (key) key_digest(memo, key, digest);
  uv_mutex_lock(&a->lock);
  if (need == GW_AUTH_NONE) {
    st = anon_admit(a, peer_ip, mono_ns, res, hdr);
  } else if (key && a->has_admin && gw_ct_equal(digest, a->admin_hash, GW_SHA256_LEN)) {
    call->caller = GW_CALLER_ADMIN;
    st = anon_admit(a, peer_ip, mono_ns, res, hdr);
    if (st == 0 && need == GW_AUTH_PARTNER)
      st = gw_fail(res, GW_EFORBIDDEN, "the admin key has no tenant; call with a partner key");
  } else {
    key_entry *e = key && gw_key_parse(key, id) ? find_key(a, id) : NULL;
    int match = e && gw_ct_equal(digest, e->info.hash, GW_SHA256_LEN);
    const gw_tier *t = match ? tier_locked(a, e->info.tier) : NULL;
    tenant_entry *te = t ? find_tenant(a, e->info.tenant) : NULL; /* put_key made it */
    if (!match || e->info.revoked || !t || !te) {
      st = anon_admit(a, peer_ip, mono_ns, res, hdr);
      if (st == 0) st = key_refusal(res, key, match && e->info.revoked);
    } else {
      call->caller = GW_CALLER_PARTNER;
      snprintf(call->tenant, sizeof call->tenant, "%s", e->info.tenant);
      memcpy(call->key_id, e->info.id, sizeof call->key_id);
      call->tier = *t;
      st = a->shared ? 0 : partner_admit(te, t, mono_ns, unix_s, call, res, hdr);
      if (st == 0 && need == GW_AUTH_ADMIN) st = gw_fail(res, GW_EFORBIDDEN, "this endpoint needs the admin key");
    }
  }
  uv_mutex_unlock(&a->lock);
  return st;
}

int gw_auth_admit_key(gw_auth *a, const char *key_id, const char *peer_ip, int64_t mono_ns, int64_t unix_s,
                      gw_call *call, gw_response *res, fc_buf *hdr) {
  int st;
  call->caller = GW_CALLER_ANON;
  call->quota_month = -1;
  call->tenant[0] = call->key_id[0] = '\0';
  uv_mutex_lock(&a->lock);
  key_entry *e = find_key(a, key_id);
  const gw_tier *t = e && !e->info.revoked ? tier_locked(a, e->info.tier) : NULL;
  tenant_entry *te = t ? find_tenant(a, e->info.tenant) : NULL;
  if (!te) {
    st = anon_admit(a, peer_ip, mono_ns, res, hdr);
    if (st == 0)
      st =
          gw_fail(res, GW_ESESSION_REVOKED, "the API key this session was opened with has been revoked; sign in again");
  } else {
    call->caller = GW_CALLER_PARTNER;
    snprintf(call->tenant, sizeof call->tenant, "%s", e->info.tenant);
    memcpy(call->key_id, e->info.id, sizeof call->key_id);
    call->tier = *t;
    /* With shared limits the server asks Redis next, as for a key. */
    st = a->shared ? 0 : partner_admit(te, t, mono_ns, unix_s, call, res, hdr);
  }
  uv_mutex_unlock(&a->lock);
  return st;
}

void gw_auth_set_shared(gw_auth *a, int on) {
  uv_mutex_lock(&a->lock);
  a->shared = on;
  uv_mutex_unlock(&a->lock);
}

static int64_t share(int64_t v, int divisor) { return v / divisor > 0 ? v / divisor : 1; }

int gw_auth_limit_local(gw_auth *a, gw_call *call, int divisor, int64_t mono_ns, int64_t unix_s, gw_response *res,
                        fc_buf *hdr) {
  gw_tier t = call->tier;
  if (divisor < 1) divisor = 1;
  t.rate.rate_milli = share(t.rate.rate_milli, divisor);
  t.rate.burst = share(t.rate.burst, divisor);
  if (t.monthly_quota > 0) t.monthly_quota = share(t.monthly_quota, divisor);
  uv_mutex_lock(&a->lock);
  tenant_entry *te = find_tenant(a, call->tenant);
  int st = te ? partner_admit(te, &t, mono_ns, unix_s, call, res, hdr) : gw_fail(res, GW_EBAD_KEY, "invalid API key");
  uv_mutex_unlock(&a->lock);
  return st;
}

void gw_auth_settle(gw_auth *a, const gw_call *call, int status) {
  if (call->caller != GW_CALLER_PARTNER || call->quota_month < 0) return;
  uv_mutex_lock(&a->lock);
  tenant_entry *e = find_tenant(a, call->tenant);
  if (e) gw_quota_settle(&e->quota, call->quota_month, status >= 200 && status < 300);
  uv_mutex_unlock(&a->lock);
}

void gw_auth_refund(gw_auth *a, const char *tenant, int64_t month) {
  uv_mutex_lock(&a->lock);
  tenant_entry *e = find_tenant(a, tenant);
  if (e) gw_quota_refund(&e->quota, month);
  uv_mutex_unlock(&a->lock);
}
