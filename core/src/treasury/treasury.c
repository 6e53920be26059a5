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

/* ---- lookups ----
 *
 * A map entry may point at or past a table's end: it is left over from a
 * batch that was rolled back. Lookups therefore check that the record at
 * the index really has the key, and treat anything else as absent. */

static int record_has(fc_record_kind kind, const void *rec, const char *tenant, const char *id) {
  switch (kind) {
  case FC_RECORD_ACCOUNTS: {
    const fc_account *a = rec;
    return strcmp(a->tenant_id, tenant) == 0 && strcmp(a->id, id) == 0;
  }
  case FC_RECORD_TRANSFERS: {
    const fc_transfer *x = rec;
    return strcmp(x->tenant_id, tenant) == 0 && strcmp(x->id, id) == 0;
  }
  case FC_RECORD_STREAMS: {
    const fc_stream *x = rec;
    return strcmp(x->tenant_id, tenant) == 0 && strcmp(x->id, id) == 0;
  }
  default: {
    const fc_ledger_entry *l = rec;
    char at[FC_TIME_STR];
    fc_time_format(l->at, at);
    return strcmp(l->account_id, tenant) == 0 && strcmp(at, id) == 0;
  }
  }
}

/* The (tenant, id) pair that keys a record; a ledger entry is keyed by
 * (account, time) and belongs to no tenant (*is_tenant = 0). */
static void record_key(fc_record_kind kind, const void *rec, char at[FC_TIME_STR], const char **tenant, const char **id,
                       int *is_tenant) {
  *is_tenant = 1;
  switch (kind) {
  case FC_RECORD_ACCOUNTS: *tenant = ((const fc_account *)rec)->tenant_id, *id = ((const fc_account *)rec)->id; break;
  case FC_RECORD_TRANSFERS:
    *tenant = ((const fc_transfer *)rec)->tenant_id, *id = ((const fc_transfer *)rec)->id;
    break;
  case FC_RECORD_STREAMS: *tenant = ((const fc_stream *)rec)->tenant_id, *id = ((const fc_stream *)rec)->id; break;
  default:
    fc_time_format(((const fc_ledger_entry *)rec)->at, at);
    *tenant = ((const fc_ledger_entry *)rec)->account_id, *id = at, *is_tenant = 0;
  }
}

static size_t table_find(const table *tb, fc_record_kind kind, const char *tenant, const char *id) {
  char key[2 * FC_TEXT_MAX + 2];
  size_t i = fc__map_get(&tb->ids, fc__pair_key(key, sizeof key, tenant, id));
  if (i >= tb->n || !record_has(kind, (const char *)tb->v + i * tb->size, tenant, id)) return SIZE_MAX;
  return i;
}

static int note_tenant(fc_treasury *t, const char *tenant) {
  void *v = t->tenants;
  size_t i = fc__map_get(&t->tenant_ids, tenant);
  if (i < t->n_tenants && strcmp(t->tenants[i], tenant) == 0) return FC_OK;
  if (fc__grow(&v, &t->cap_tenants, t->n_tenants + 1, sizeof *t->tenants) != FC_OK) return FC_ENOMEM;
  t->tenants = v;
  t->tenants[t->n_tenants] = tenant;
  if (fc__map_put(&t->tenant_ids, tenant, t->n_tenants) != FC_OK) return FC_ENOMEM;
  t->n_tenants++;
  return FC_OK;
}

/* ---- validation: what a batch row is checked for, for records that come
 * from elsewhere (the gateway's database) ---- */

static int check_common(const fc_treasury *t, const char *id, const char *tenant, const char *ccy, int scale,
                        fc_err *err) {
  if (id == NULL || id[0] == '\0' || strlen(id) > FC_TEXT_MAX)
    return fc__err(err, FC_EINVAL, "id: missing or longer than %d bytes", FC_TEXT_MAX);
  if (tenant == NULL || tenant[0] == '\0' || strlen(tenant) > FC_TEXT_MAX)
    return fc__err(err, FC_EINVAL, "tenant_id: missing or longer than %d bytes", FC_TEXT_MAX);
  if (ccy != NULL && fc_currencies_scale(t->ccy, ccy) != scale)
    return fc__err(err, FC_ECURRENCY, "%.80s: currency '%s' unknown or with another scale", id, ccy);
  return FC_OK;
}

static int in_range(int64_t v) { return v >= -FC_MONEY_ABS_MAX && v <= FC_MONEY_ABS_MAX; }

static int check_record(const fc_treasury *t, fc_record_kind kind, const void *rec, fc_err *err) {
  int rc;
  switch (kind) {
  case FC_RECORD_ACCOUNTS: {
    const fc_account *a = rec;
    if ((rc = check_common(t, a->id, a->tenant_id, a->currency, a->scale, err))) return rc;
    if (!in_range(a->balance_available)) return fc__err(err, FC_ERANGE, "account %.80s: balance out of range", a->id);
    return FC_OK;
  }
  case FC_RECORD_TRANSFERS: {
    const fc_transfer *x = rec;
    if ((rc = check_common(t, x->id, x->tenant_id, x->currency, x->scale, err))) return rc;
    if (x->amount <= 0 || x->amount > FC_MONEY_ABS_MAX)
      return fc__err(err, FC_ERANGE, "transfer %.80s: amount out of range", x->id);
    if (x->created_at < FC_TIME_MIN || x->created_at > FC_TIME_MAX ||
        (x->scheduled_for != FC_TIME_NONE && (x->scheduled_for < FC_TIME_MIN || x->scheduled_for > FC_TIME_MAX)))
      return fc__err(err, FC_ERANGE, "transfer %.80s: time outside years 0001..9999", x->id);
    return FC_OK;
  }
  case FC_RECORD_STREAMS: {
    const fc_stream *x = rec;
    if ((rc = check_common(t, x->id, x->tenant_id, x->currency, x->scale, err))) return rc;
    if (!fc_decimal_valid(x->flow_rate) || x->flow_rate.units < 0)
      return fc__err(err, FC_ERANGE, "stream %.80s: flow rate negative or beyond %d decimals / %d significant digits",
                     x->id, FC_DECIMAL_DIGITS_MAX, FC_DECIMAL_DIGITS_MAX);
    if (x->funded_amount < 0 || x->total_streamed < 0 || !in_range(x->funded_amount) || !in_range(x->total_streamed))
      return fc__err(err, FC_ERANGE, "stream %.80s: amount negative or out of range", x->id);
    if (x->started_at < FC_TIME_MIN || x->started_at > FC_TIME_MAX)
      return fc__err(err, FC_ERANGE, "stream %.80s: started_at outside years 0001..9999", x->id);
    return FC_OK;
  }
  case FC_RECORD_LEDGER: {
    const fc_ledger_entry *l = rec;
    if (l->account_id == NULL || l->account_id[0] == '\0' || l->balance == NULL)
      return fc__err(err, FC_EINVAL, "ledger entry without an account or a balance");
    return FC_OK;
  }
  default: return fc__err(err, FC_EINVAL, "a treasury holds no %s", fc_record_kind_name(kind));
  }
}

/* Points rec's strings at copies in the treasury's pool. */
static int own_strings(fc_treasury *t, fc_record_kind kind, void *rec) {
  switch (kind) {
  case FC_RECORD_ACCOUNTS: {
    fc_account *a = rec;
    return (a->id = dup(t, a->id)) && (a->tenant_id = dup(t, a->tenant_id)) ? FC_OK : FC_ENOMEM;
  }
  case FC_RECORD_TRANSFERS: {
    fc_transfer *x = rec;
    return (x->id = dup(t, x->id)) && (x->tenant_id = dup(t, x->tenant_id)) &&
                   (x->from_account_id = dup(t, x->from_account_id)) && (x->to_account_id = dup(t, x->to_account_id))
               ? FC_OK
               : FC_ENOMEM;
  }
  case FC_RECORD_STREAMS: {
    fc_stream *x = rec;
    return (x->id = dup(t, x->id)) && (x->tenant_id = dup(t, x->tenant_id)) ? FC_OK : FC_ENOMEM;
  }
  default: {
    fc_ledger_entry *l = rec;
    return (l->account_id = dup(t, l->account_id)) && (l->balance = dup(t, l->balance)) ? FC_OK : FC_ENOMEM;
  }
  }
}

static table *table_of(fc_treasury *t, fc_record_kind kind) {
  switch (kind) {
  case FC_RECORD_ACCOUNTS: return &t->accounts;
  case FC_RECORD_TRANSFERS: return &t->transfers;
  case FC_RECORD_STREAMS: return &t->streams;
  case FC_RECORD_LEDGER: return &t->ledger;
  default: return NULL;
  }
}

/* Upserts n records of one kind, all or nothing. Every record is checked
 * and its strings copied before the treasury changes; new records are then
 * appended (a failure there rolls the tables back to their old ends), and
 * only then are existing records replaced, which cannot fail. */
static int apply(fc_treasury *t, fc_record_kind kind, const void *recs, size_t n, fc_err *err) {
  table *tb = table_of(t, kind);
  char *copy;
  size_t old_n, old_tenants, *where = NULL;
  int rc = FC_OK;
  if (tb == NULL) return fc__err(err, FC_EINVAL, "a treasury holds no %s", fc_record_kind_name(kind));
  if (n == 0) return FC_OK; /* an empty batch (header only) holds no array at all */
  for (size_t i = 0; i < n; i++)
    if ((rc = check_record(t, kind, (const char *)recs + i * tb->size, err)) != FC_OK) return rc;
  if ((copy = fc__mallocarray(n, tb->size)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  memcpy(copy, recs, n * tb->size);
  for (size_t i = 0; i < n && rc == FC_OK; i++) rc = own_strings(t, kind, copy + i * tb->size);
  {
    void *v = tb->v;
    if (rc == FC_OK && (rc = fc__grow(&v, &tb->cap, tb->n + n, tb->size)) == FC_OK) tb->v = v;
  }
  /* where[i]: the existing slot record i replaces, SIZE_MAX when new. */
  if (rc == FC_OK && (where = fc__mallocarray(n, sizeof *where)) == NULL) rc = FC_ENOMEM;
  old_n = tb->n;
  old_tenants = t->n_tenants;
  for (size_t i = 0; i < n && rc == FC_OK; i++) {
    const char *tenant, *id;
    char at[FC_TIME_STR], key[2 * FC_TEXT_MAX + 2];
    int is_tenant;
    record_key(kind, copy + i * tb->size, at, &tenant, &id, &is_tenant);
    if ((where[i] = table_find(tb, kind, tenant, id)) != SIZE_MAX) continue;
    if ((rc = fc__map_put(&tb->ids, fc__pair_key(key, sizeof key, tenant, id), tb->n)) != FC_OK) break;
    memcpy((char *)tb->v + tb->n++ * tb->size, copy + i * tb->size, tb->size);
    if (is_tenant) rc = note_tenant(t, tenant);
  }
  if (rc != FC_OK) {
    tb->n = old_n;
    t->n_tenants = old_tenants;
    fc__free(copy);
    fc__free(where);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++)
    if (where[i] != SIZE_MAX) memcpy((char *)tb->v + where[i] * tb->size, copy + i * tb->size, tb->size);
  fc__free(copy);
  fc__free(where);
  return FC_OK;
}

int fc_treasury_put_account(fc_treasury *t, const fc_account *a, fc_err *err) {
  return apply(t, FC_RECORD_ACCOUNTS, a, 1, err);
}

int fc_treasury_put_transfer(fc_treasury *t, const fc_transfer *tr, fc_err *err) {
  return apply(t, FC_RECORD_TRANSFERS, tr, 1, err);
}

int fc_treasury_put_stream(fc_treasury *t, const fc_stream *st, fc_err *err) {
  return apply(t, FC_RECORD_STREAMS, st, 1, err);
}

int fc_treasury_add_batch(fc_treasury *t, const fc_batch *b, fc_err *err) {
  const void *recs = NULL;
  switch (fc_batch_kind(b)) {
  case FC_RECORD_ACCOUNTS: recs = fc_batch_accounts(b); break;
  case FC_RECORD_TRANSFERS: recs = fc_batch_transfers(b); break;
  case FC_RECORD_STREAMS: recs = fc_batch_streams(b); break;
  case FC_RECORD_LEDGER: recs = fc_batch_ledger(b); break;
  default: break;
  }
  return apply(t, fc_batch_kind(b), recs, fc_batch_count(b), err);
}

int fc_treasury_load(fc_treasury *t, fc_record_kind kind, fc_format fmt, const char *data, size_t len,
                     fc_load_report *report, fc_err *err) {
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

static const void *find(const table *tb, fc_record_kind kind, const char *tenant, const char *id) {
  size_t i;
  if (id == NULL || id[0] == '\0' || tenant == NULL) return NULL;
  i = table_find(tb, kind, tenant, id);
  return i == SIZE_MAX ? NULL : (const char *)tb->v + i * tb->size;
}

const fc_account *fc_treasury_find_account(const fc_treasury *t, const char *tenant, const char *id) {
  return find(&t->accounts, FC_RECORD_ACCOUNTS, tenant, id);
}
const fc_transfer *fc_treasury_find_transfer(const fc_treasury *t, const char *tenant, const char *id) {
  return find(&t->transfers, FC_RECORD_TRANSFERS, tenant, id);
}
const fc_stream *fc_treasury_find_stream(const fc_treasury *t, const char *tenant, const char *id) {
  return find(&t->streams, FC_RECORD_STREAMS, tenant, id);
}

/* c's table of kind becomes a copy of src: the records in their order
 * (the copy iterates like the original), their strings in c's pool, the
 * id map slot for slot. The records were checked when they came in, so
 * nothing is checked or looked up again (a what-if copies the whole
 * history for every answer). */
static int table_clone(fc_treasury *c, fc_record_kind kind, const table *src) {
  table *tb = table_of(c, kind);
  if (src->n > 0) {
    if ((tb->v = fc__mallocarray(src->n, src->size)) == NULL) return FC_ENOMEM;
    memcpy(tb->v, src->v, src->n * src->size);
    tb->n = tb->cap = src->n;
    for (size_t i = 0; i < src->n; i++)
      if (own_strings(c, kind, (char *)tb->v + i * tb->size) != FC_OK) return FC_ENOMEM;
  }
  return fc__map_clone(&tb->ids, &src->ids);
}

fc_treasury *fc_treasury_clone(const fc_treasury *t) {
  fc_treasury *c = fc_treasury_create(t->ccy);
  int rc = c == NULL ? FC_ENOMEM : FC_OK;
  if (rc == FC_OK) rc = table_clone(c, FC_RECORD_ACCOUNTS, &t->accounts);
  if (rc == FC_OK) rc = table_clone(c, FC_RECORD_TRANSFERS, &t->transfers);
  if (rc == FC_OK) rc = table_clone(c, FC_RECORD_STREAMS, &t->streams);
  if (rc == FC_OK) rc = table_clone(c, FC_RECORD_LEDGER, &t->ledger);
  if (rc == FC_OK && t->n_tenants > 0) {
    if ((c->tenants = fc__mallocarray(t->n_tenants, sizeof *c->tenants)) == NULL) rc = FC_ENOMEM;
    for (size_t i = 0; i < t->n_tenants && rc == FC_OK; i++, c->n_tenants++, c->cap_tenants++)
      if ((c->tenants[i] = dup(c, t->tenants[i])) == NULL) rc = FC_ENOMEM;
  }
  if (rc == FC_OK) rc = fc__map_clone(&c->tenant_ids, &t->tenant_ids);
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
