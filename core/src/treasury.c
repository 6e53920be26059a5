/* treasury.c: the in-memory treasury data set, keyed by (tenant, id).
 *
 * Upserts copy strings into the treasury's pool. A replaced record's old
 * strings stay in the pool until the treasury is destroyed: replacements
 * are rare (status changes), and a pool never fragments. */
#include "fc/treasury.h"
#include "fc/time.h"
#include "internal.h"
#include "pool.h"

#include <string.h>

typedef struct {
  void *v;
  size_t n, cap, size;
  fc__map ids;
} table;

struct fc_treasury {
  fc_currencies *ccy;
  fc__pool pool;
  table accounts, transfers, streams, ledger;
  const char **tenants;
  size_t n_tenants, cap_tenants;
  fc__map tenant_ids;
};

static void table_init(table *t, size_t size) {
  memset(t, 0, sizeof *t);
  t->size = size;
  fc__map_init(&t->ids);
}

static void table_free(table *t) {
  fc__free(t->v);
  fc__map_free(&t->ids);
}

fc_treasury *fc_treasury_create(const fc_currencies *ccy) {
  fc_treasury *t = fc__calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->ccy = ccy ? fc_currencies_clone(ccy) : fc_currencies_create();
  if (t->ccy == NULL) {
    fc__free(t);
    return NULL;
  }
  fc__pool_init(&t->pool);
  table_init(&t->accounts, sizeof(fc_account));
  table_init(&t->transfers, sizeof(fc_transfer));
  table_init(&t->streams, sizeof(fc_stream));
  table_init(&t->ledger, sizeof(fc_ledger_entry));
  fc__map_init(&t->tenant_ids);
  return t;
}

void fc_treasury_destroy(fc_treasury *t) {
  if (t == NULL) return;
  fc_currencies_destroy(t->ccy);
  fc__pool_free(&t->pool);
  table_free(&t->accounts);
  table_free(&t->transfers);
  table_free(&t->streams);
  table_free(&t->ledger);
  fc__free(t->tenants);
  fc__map_free(&t->tenant_ids);
  fc__free(t);
}

const fc_currencies *fc_treasury_currencies(const fc_treasury *t) { return t->ccy; }

static const char *dup(fc_treasury *t, const char *s) {
  return fc__pool_strndup(&t->pool, s ? s : "", s ? strlen(s) : 0);
}

static int note_tenant(fc_treasury *t, const char *tenant) {
  void *v = t->tenants;
  if (fc__map_get(&t->tenant_ids, tenant) != SIZE_MAX) return FC_OK;
  if (fc__grow(&v, &t->cap_tenants, t->n_tenants + 1, sizeof *t->tenants) != FC_OK) return FC_ENOMEM;
  t->tenants = v;
  t->tenants[t->n_tenants] = tenant;
  if (fc__map_put(&t->tenant_ids, tenant, t->n_tenants) != FC_OK) return FC_ENOMEM;
  t->n_tenants++;
  return FC_OK;
}

/* Reserves the slot for (tenant, id): the existing one or a new one. */
static void *slot(table *tb, const char *tenant, const char *id) {
  char key[2 * FC_TEXT_MAX + 2];
  size_t i;
  void *v = tb->v;
  fc__pair_key(key, sizeof key, tenant, id);
  i = fc__map_get(&tb->ids, key);
  if (i != SIZE_MAX) return (char *)tb->v + i * tb->size;
  if (fc__grow(&v, &tb->cap, tb->n + 1, tb->size) != FC_OK) return NULL;
  tb->v = v;
  if (fc__map_put(&tb->ids, key, tb->n) != FC_OK) return NULL;
  return (char *)tb->v + tb->n++ * tb->size;
}

static int check_common(const fc_treasury *t, const char *id, const char *tenant,
                        const char *ccy, int scale, fc_err *err) {
  if (id == NULL || id[0] == '\0' || strlen(id) > FC_TEXT_MAX)
    return fc__err(err, FC_EINVAL, "id: missing or longer than %d bytes", FC_TEXT_MAX);
  if (tenant == NULL || tenant[0] == '\0' || strlen(tenant) > FC_TEXT_MAX)
    return fc__err(err, FC_EINVAL, "tenant_id: missing or longer than %d bytes", FC_TEXT_MAX);
  if (ccy != NULL && fc_currencies_scale(t->ccy, ccy) != scale)
    return fc__err(err, FC_ECURRENCY, "currency '%s' unknown or with another scale", ccy);
  return FC_OK;
}

int fc_treasury_put_account(fc_treasury *t, const fc_account *a, fc_err *err) {
  fc_account *s;
  int rc = check_common(t, a->id, a->tenant_id, a->currency, a->scale, err);
  if (rc) return rc;
  if (a->balance_available < -FC_MONEY_ABS_MAX || a->balance_available > FC_MONEY_ABS_MAX)
    return fc__err(err, FC_ERANGE, "account %s: balance out of range", a->id);
  if ((s = slot(&t->accounts, a->tenant_id, a->id)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  *s = *a;
  s->id = dup(t, a->id);
  s->tenant_id = dup(t, a->tenant_id);
  if (!s->id || !s->tenant_id || note_tenant(t, s->tenant_id)) return fc__err(err, FC_ENOMEM, "out of memory");
  return FC_OK;
}

int fc_treasury_put_transfer(fc_treasury *t, const fc_transfer *tr, fc_err *err) {
  fc_transfer *s;
  int rc = check_common(t, tr->id, tr->tenant_id, tr->currency, tr->scale, err);
  if (rc) return rc;
  if (tr->amount <= 0 || tr->amount > FC_MONEY_ABS_MAX)
    return fc__err(err, FC_ERANGE, "transfer %s: amount out of range", tr->id);
  if ((s = slot(&t->transfers, tr->tenant_id, tr->id)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  *s = *tr;
  s->id = dup(t, tr->id);
  s->tenant_id = dup(t, tr->tenant_id);
  s->from_account_id = dup(t, tr->from_account_id);
  s->to_account_id = dup(t, tr->to_account_id);
  if (!s->id || !s->tenant_id || !s->from_account_id || !s->to_account_id || note_tenant(t, s->tenant_id))
    return fc__err(err, FC_ENOMEM, "out of memory");
  return FC_OK;
}

int fc_treasury_put_stream(fc_treasury *t, const fc_stream *st, fc_err *err) {
  fc_stream *s;
  int rc = check_common(t, st->id, st->tenant_id, st->currency, st->scale, err);
  if (rc) return rc;
  if (st->flow_rate < 0 || st->funded_amount < 0 || st->total_streamed < 0)
    return fc__err(err, FC_ERANGE, "stream %s: negative rate or amount", st->id);
  if ((s = slot(&t->streams, st->tenant_id, st->id)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  *s = *st;
  s->id = dup(t, st->id);
  s->tenant_id = dup(t, st->tenant_id);
  if (!s->id || !s->tenant_id || note_tenant(t, s->tenant_id)) return fc__err(err, FC_ENOMEM, "out of memory");
  return FC_OK;
}

static int put_ledger(fc_treasury *t, const fc_ledger_entry *l, fc_err *err) {
  fc_ledger_entry *s;
  char at[FC_TIME_STR];
  fc_time_format(l->at, at);
  if ((s = slot(&t->ledger, l->account_id, at)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  s->account_id = dup(t, l->account_id);
  s->at = l->at;
  s->balance = dup(t, l->balance);
  return s->account_id && s->balance ? FC_OK : fc__err(err, FC_ENOMEM, "out of memory");
}

int fc_treasury_add_batch(fc_treasury *t, const fc_batch *b, fc_err *err) {
  size_t n = fc_batch_count(b);
  int rc = FC_OK;
  /* Validation happened when the batch was read; what can fail here is
   * memory, so reserve first and the batch then applies as a whole. */
  table *tb = NULL;
  switch (fc_batch_kind(b)) {
  case FC_RECORD_ACCOUNTS: tb = &t->accounts; break;
  case FC_RECORD_TRANSFERS: tb = &t->transfers; break;
  case FC_RECORD_STREAMS: tb = &t->streams; break;
  case FC_RECORD_LEDGER: tb = &t->ledger; break;
  default: return fc__err(err, FC_EINVAL, "a treasury holds no %s", fc_record_kind_name(fc_batch_kind(b)));
  }
  {
    void *v = tb->v;
    if (fc__grow(&v, &tb->cap, tb->n + n, tb->size) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
    tb->v = v;
  }
  for (size_t i = 0; i < n && rc == FC_OK; i++) {
    switch (fc_batch_kind(b)) {
    case FC_RECORD_ACCOUNTS: rc = fc_treasury_put_account(t, &fc_batch_accounts(b)[i], err); break;
    case FC_RECORD_TRANSFERS: rc = fc_treasury_put_transfer(t, &fc_batch_transfers(b)[i], err); break;
    case FC_RECORD_STREAMS: rc = fc_treasury_put_stream(t, &fc_batch_streams(b)[i], err); break;
    default: rc = put_ledger(t, &fc_batch_ledger(b)[i], err); break;
    }
  }
  return rc;
}

int fc_treasury_load(fc_treasury *t, fc_record_kind kind, fc_format fmt, const char *data,
                     size_t len, fc_load_report *report, fc_err *err) {
  fc_batch *b;
  int rc = fc_batch_parse(kind, fmt, data, len, t->ccy, &b, report, err);
  if (rc != FC_OK) return rc;
  rc = fc_treasury_add_batch(t, b, err);
  fc_batch_destroy(b);
  return rc;
}

size_t fc_treasury_accounts(const fc_treasury *t, const fc_account **out) {
  *out = t->accounts.v;
  return t->accounts.n;
}
size_t fc_treasury_transfers(const fc_treasury *t, const fc_transfer **out) {
  *out = t->transfers.v;
  return t->transfers.n;
}
size_t fc_treasury_streams(const fc_treasury *t, const fc_stream **out) {
  *out = t->streams.v;
  return t->streams.n;
}
size_t fc_treasury_ledger(const fc_treasury *t, const fc_ledger_entry **out) {
  *out = t->ledger.v;
  return t->ledger.n;
}

size_t fc_treasury_tenants(const fc_treasury *t, const char **out, size_t cap) {
  for (size_t i = 0; i < t->n_tenants && i < cap; i++) out[i] = t->tenants[i];
  return t->n_tenants;
}

static const void *find(const table *tb, const char *tenant, const char *id) {
  char key[2 * FC_TEXT_MAX + 2];
  size_t i;
  if (id == NULL || id[0] == '\0' || tenant == NULL) return NULL;
  fc__pair_key(key, sizeof key, tenant, id);
  i = fc__map_get(&tb->ids, key);
  return i == SIZE_MAX ? NULL : (const char *)tb->v + i * tb->size;
}

const fc_account *fc_treasury_find_account(const fc_treasury *t, const char *tenant, const char *id) {
  return find(&t->accounts, tenant, id);
}
const fc_transfer *fc_treasury_find_transfer(const fc_treasury *t, const char *tenant, const char *id) {
  return find(&t->transfers, tenant, id);
}
const fc_stream *fc_treasury_find_stream(const fc_treasury *t, const char *tenant, const char *id) {
  return find(&t->streams, tenant, id);
}

fc_treasury *fc_treasury_clone(const fc_treasury *t) {
  fc_treasury *c = fc_treasury_create(t->ccy);
  int rc = c ? FC_OK : FC_ENOMEM;
  /* Puts keep first-seen order, so the copy iterates like the original. */
  for (size_t i = 0; i < t->accounts.n && rc == FC_OK; i++)
    rc = fc_treasury_put_account(c, (const fc_account *)t->accounts.v + i, NULL);
  for (size_t i = 0; i < t->transfers.n && rc == FC_OK; i++)
    rc = fc_treasury_put_transfer(c, (const fc_transfer *)t->transfers.v + i, NULL);
  for (size_t i = 0; i < t->streams.n && rc == FC_OK; i++)
    rc = fc_treasury_put_stream(c, (const fc_stream *)t->streams.v + i, NULL);
  for (size_t i = 0; i < t->ledger.n && rc == FC_OK; i++)
    rc = put_ledger(c, (const fc_ledger_entry *)t->ledger.v + i, NULL);
  if (rc != FC_OK) {
    fc_treasury_destroy(c);
    return NULL;
  }
  return c;
}

int fc_treasury_direction(const fc_treasury *t, const fc_transfer *tr) {
  int from = fc_treasury_find_account(t, tr->tenant_id, tr->from_account_id) != NULL;
  int to = fc_treasury_find_account(t, tr->tenant_id, tr->to_account_id) != NULL;
  if (from && !to) return -1;
  if (to && !from) return 1;
  return 0;
}

int64_t fc_treasury_default_now(const fc_treasury *t, const char *tenant) {
  int64_t newest = INT64_MIN;
  const fc_transfer *tr = t->transfers.v;
  for (size_t i = 0; i < t->transfers.n; i++)
    if (tenant == NULL || strcmp(tr[i].tenant_id, tenant) == 0) newest = FC__MAX(newest, tr[i].created_at);
  return newest == INT64_MIN ? FC_TIME_NONE : fc_time_floor(newest, 3600) + 3600;
}
