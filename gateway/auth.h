/* auth.h: tenants' API keys, tiers, and the admission of a request.
 *
 * A partner key reads "fc_<id>_<secret>": <id> is 12 hex digits, public,
 * used to find the key; <secret> is 48 hex digits from the system's
 * randomness. Only SHA-256(key) is stored; a presented key is hashed and
 * compared with the stored digest in constant time, so the comparison
 * leaks nothing about the secret. The admin key (FLOATCAST_ADMIN_KEY or
 * the config) is kept as its digest too.
 *
 * gw_auth is the in-memory registry the loop consults on every request:
 * tiers by name, keys by id, and per tenant its GCRA state and month's
 * quota use. Limits belong to the tenant, not to a key: all of a tenant's
 * keys draw on one burst and one monthly quota, so rotating a key or
 * issuing another hands back neither. Each call is judged by the policy of
 * the tier of the key it presents (keys of one tenant may differ in tier),
 * applied to the tenant's shared state.
 * Admin handlers on the thread pool update it after writing the database;
 * one mutex guards it (held for a hash lookup and a few integer steps).
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "metering.h"
#include "ratelimit.h"
#include "sha256.h"

#include "fc/records.h"

#define GW_KEY_ID_LEN          12
#define GW_KEY_LEN             (3 + GW_KEY_ID_LEN + 1 + 48)
#define GW_TIER_NAME_MAX       64
/* max_concurrent of a tier that does not name one (config, PUT, older files). */
#define GW_TIER_MAX_CONCURRENT 2

/* Forecast and analysis granularities a tier may use (bits; the values
 * are stored in tiers.granularities, so they never change). */
enum { GW_GRAN_HOUR = 1, GW_GRAN_DAY = 2, GW_GRAN_WEEK = 4, GW_GRAN_MONTH = 8, GW_GRAN_QUARTER = 16 };
#define GW_GRAN_COUNT 5

typedef struct gw_tier {
  char name[GW_TIER_NAME_MAX];
  gw_rate_policy rate;
  int64_t monthly_quota;  /* calls per calendar month (UTC); 0: none */
  int max_horizon_hours;  /* longest forecast or projection horizon */
  int max_history_days;   /* longest history analysed */
  unsigned granularities; /* GW_GRAN_* bits */
  int max_concurrent;     /* heavy calls of one tenant in flight at once (gate.h) */
} gw_tier;

typedef struct gw_key_info {
  char id[GW_KEY_ID_LEN + 1];
  char tenant[FC_TEXT_MAX + 1];
  char tier[GW_TIER_NAME_MAX];
  unsigned char hash[GW_SHA256_LEN];
  int revoked;
} gw_key_info;

/* What a route demands. */
enum { GW_AUTH_NONE, GW_AUTH_PARTNER, GW_AUTH_ADMIN, GW_AUTH_ANY };
/* Who called. */
enum { GW_CALLER_ANON, GW_CALLER_PARTNER, GW_CALLER_ADMIN };

typedef struct gw_call {
  int caller;
  char tenant[FC_TEXT_MAX + 1]; /* partner calls */
  char key_id[GW_KEY_ID_LEN + 1];
  gw_tier tier;
  int64_t quota_month;         /* month a quota unit was taken in; -1: none */
  char param[FC_TEXT_MAX + 1]; /* the '*' segment of the route, decoded */
} gw_call;

typedef struct gw_auth gw_auth;

/* admin_key NULL or "": no admin endpoints. anon limits unauthenticated
 * requests per client address. */
gw_auth *gw_auth_create(const char *admin_key, gw_rate_policy anon);
void gw_auth_destroy(gw_auth *a);

/* Adds or replaces a tier / key (any thread). */
int gw_auth_put_tier(gw_auth *a, const gw_tier *t);
int gw_auth_put_key(gw_auth *a, const gw_key_info *k);
/* Sets a tenant's quota use for `month` (startup, from the usage table). */
int gw_auth_set_quota_used(gw_auth *a, const char *tenant, int64_t month, int64_t used);

/* The last key presented on a connection and its SHA-256, so a keep-alive
 * client's calls hash their key once. Only the digest is remembered: the
 * key is looked up, compared and checked for revocation on every call.
 * Zero-initialise; one per connection. */
typedef struct gw_auth_memo {
  char key[GW_KEY_LEN + 1];
  unsigned char digest[GW_SHA256_LEN];
} gw_auth_memo;

/* Admission answers as fail.h says: 0 to proceed, or a negative GW_E*
 * status recorded in res with gw_fail (the caller writes the answer with
 * gw_response_fail): GW_ENO_KEY, GW_EBAD_KEY, GW_EREVOKED_KEY (401),
 * GW_EFORBIDDEN (403), GW_ERATE, GW_EQUOTA, GW_EQUOTA_HELD (429). */

/* Charges one call to peer_ip's limit for callers without a valid key
 * (--anon-rate/--anon-burst): 0 when within it, else GW_ERATE.
 * For work an unauthenticated request would cost before it is known to be
 * anyone's (a session cookie looked up in the database). */
int gw_auth_take_anon(gw_auth *a, const char *peer_ip, int64_t mono_ns, gw_response *res, fc_buf *hdr);
/* Admits a request: reads the Authorization header, verifies the key,
 * applies the limits (per tenant, or per address when no valid key is
 * presented) and fills call. Always appends the rate-limit headers to hdr.
 * Returns 0 to proceed, or the refusal's status. mono_ns is a monotonic
 * clock, unix_s the wall clock. memo may be NULL. */
int gw_auth_admit(gw_auth *a, gw_auth_memo *memo, const char *authorization, const char *peer_ip, int need,
                  int64_t mono_ns, int64_t unix_s, gw_call *call, gw_response *res, fc_buf *hdr);
/* Admits a call as the key key_id (a session opened with it, sessions.h):
 * the key must still be valid; then as gw_auth_admit for a partner call.
 * GW_ESESSION_REVOKED (401) when the key has been revoked. */
int gw_auth_admit_key(gw_auth *a, const char *key_id, const char *peer_ip, int64_t mono_ns, int64_t unix_s,
                      gw_call *call, gw_response *res, fc_buf *hdr);
/* Once per admitted call, when its outcome is final: status is the
 * answer's, 2xx only if its usage record committed (pass 0 for a call
 * that was not answered or not metered). Frees the call's quota
 * reservation and counts it when billable (quotas count served calls).
 * Calls refused at admission (quota_month < 0) are ignored. */
void gw_auth_settle(gw_auth *a, const gw_call *call, int status);
/* A call settled as billable (a 2xx, counted before its usage record
 * committed so that its answer never leaves before the count) whose record
 * then failed: its unit of `month` comes back. */
void gw_auth_refund(gw_auth *a, const char *tenant, int64_t month);

/* Shared mode (several nodes, shared.h): gw_auth_admit verifies the key
 * and revocation but applies no limits; the caller asks Redis. */
void gw_auth_set_shared(gw_auth *a, int on);
/* The local limits of a partner call that gw_auth_admit admitted in
 * shared mode, at 1/divisor of the tier's rate, burst and monthly quota
 * (each at least 1): this node's share while the shared store is down.
 * Returns 0 or a 429 status as gw_auth_admit does. */
int gw_auth_limit_local(gw_auth *a, gw_call *call, int divisor, int64_t mono_ns, int64_t unix_s, gw_response *res,
                        fc_buf *hdr);

/* Records why a partner call over its tier's limits is refused, the
 * rate first (GW_ERATE), then a used-up monthly quota (GW_EQUOTA), else a
 * quota held by calls in flight (GW_EQUOTA_HELD); returns that status.
 * quota is a GW_QUOTA_* value. The one wording of these refusals, for
 * local limits and for the shared store's verdicts (shared.h). */
int gw_fail_limit(gw_response *res, const gw_tier *t, const gw_rate_result *rate, int quota);

/* Makes a new key: id, full key text (GW_KEY_LEN + 1 bytes) and its hash.
 * FC_EUNSUPPORTED when the system has no randomness. */
int gw_key_generate(char id[GW_KEY_ID_LEN + 1], char key[GW_KEY_LEN + 1], unsigned char hash[GW_SHA256_LEN]);
/* 1 when s has the shape of a partner key; copies its id. */
int gw_key_parse(const char *s, char id[GW_KEY_ID_LEN + 1]);
/* Granularity name ("hour", "day", "week", "month", "quarter") to its
 * bit, 0 if unknown; gw_granularity_name is the name of the i-th bit
 * (i < GW_GRAN_COUNT, finest first). */
unsigned gw_granularity_bit(const char *name);
const char *gw_granularity_name(int i);

#endif /* GW_AUTH_H */
