/* records.c: schemas of the canonical formats and the batch reader.
 *
 * Both CSV rows and JSON objects are first turned into a `row`: one slot
 * per schema column holding the field's text (or "absent"). One builder per
 * record kind then validates the slots and fills the struct, so every
 * format goes through the same checks.
 */
#include "fc/records.h"
#include "fc/csv.h"
#include "fc/json.h"
#include "fc/time.h"
#include "internal.h"
#include "pool.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROWS 1000000
#define MAX_COLS 12

typedef enum { TEXT, OPT_TEXT, DECIMAL, RATE, TIME, OPT_TIME, INT, BOOL, ENUM, CCY } col_type;

typedef struct {
  const char *name;
  col_type type;
  int required;
} column;

typedef struct {
  const char *text[MAX_COLS];
  size_t len[MAX_COLS];
  int present[MAX_COLS];
  fc_json_type jtype[MAX_COLS]; /* JSON type, or FC_JSON_STRING for CSV */
} row;

static const column account_cols[] = {{"id", TEXT, 1},
                                      {"tenant_id", TEXT, 1},
                                      {"currency", CCY, 1},
                                      {"balance_available", DECIMAL, 1},
                                      {"allow_overdraft", BOOL, 0},
                                      {NULL, TEXT, 0}};
enum { A_ID, A_TENANT, A_CCY, A_BALANCE, A_OVERDRAFT };

static const column transfer_cols[] = {{"id", TEXT, 1},
                                       {"tenant_id", TEXT, 1},
                                       {"from_account_id", OPT_TEXT, 0},
                                       {"to_account_id", OPT_TEXT, 0},
                                       {"currency", CCY, 1},
                                       {"amount", DECIMAL, 1},
                                       {"status", ENUM, 1},
                                       {"created_at", TIME, 1},
                                       {"scheduled_for", OPT_TIME, 0},
                                       {NULL, TEXT, 0}};
enum { T_ID, T_TENANT, T_FROM, T_TO, T_CCY, T_AMOUNT, T_STATUS, T_CREATED, T_SCHEDULED };

static const column stream_cols[] = {{"id", TEXT, 1},
                                     {"tenant_id", TEXT, 1},
                                     {"currency", CCY, 1},
                                     {"flow_rate_per_second", RATE, 1},
                                     {"funded_amount", DECIMAL, 1},
                                     {"total_streamed", DECIMAL, 1},
                                     {"status", ENUM, 1},
                                     {"started_at", TIME, 1},
                                     {"cancelled_at", OPT_TIME, 0},
                                     {"total_paused_seconds", INT, 0},
                                     {"last_pause_at", OPT_TIME, 0},
                                     {NULL, TEXT, 0}};
enum {
  S_ID,
  S_TENANT,
  S_CCY,
  S_RATE,
  S_FUNDED,
  S_STREAMED,
  S_STATUS,
  S_STARTED,
  S_CANCELLED,
  S_PAUSED_SECS,
  S_LAST_PAUSE
};

static const column ledger_cols[] = {
    {"account_id", TEXT, 1}, {"at", TIME, 1}, {"balance", DECIMAL, 1}, {NULL, TEXT, 0}};
enum { L_ACCOUNT, L_AT, L_BALANCE };

static const column txn_cols[] = {{"id", TEXT, 1},           {"partner_id", TEXT, 1}, {"user_id", TEXT, 1},
                                  {"action_date", TIME, 1},  {"amount", DECIMAL, 1},  {"transaction_type", TEXT, 1},
                                  {"category", OPT_TEXT, 0}, {"currency", CCY, 0},    {NULL, TEXT, 0}};
enum { X_ID, X_PARTNER, X_USER, X_DATE, X_AMOUNT, X_TYPE, X_CATEGORY, X_CCY };

static const column *schema_of(fc_record_kind k) {
  switch (k) {
  case FC_RECORD_ACCOUNTS: return account_cols;
  case FC_RECORD_TRANSFERS: return transfer_cols;
  case FC_RECORD_STREAMS: return stream_cols;
  case FC_RECORD_LEDGER: return ledger_cols;
  case FC_RECORD_TRANSACTIONS: return txn_cols;
  }
  return NULL;
}

static size_t record_size(fc_record_kind k) {
  switch (k) {
  case FC_RECORD_ACCOUNTS: return sizeof(fc_account);
  case FC_RECORD_TRANSFERS: return sizeof(fc_transfer);
  case FC_RECORD_STREAMS: return sizeof(fc_stream);
  case FC_RECORD_LEDGER: return sizeof(fc_ledger_entry);
  case FC_RECORD_TRANSACTIONS: return sizeof(fc_transaction);
  }
  return 0;
}

const char *fc_record_kind_name(fc_record_kind k) {
  switch (k) {
  case FC_RECORD_ACCOUNTS: return "accounts";
  case FC_RECORD_TRANSFERS: return "transfers";
  case FC_RECORD_STREAMS: return "streams";
  case FC_RECORD_LEDGER: return "ledger";
  case FC_RECORD_TRANSACTIONS: return "transactions";
  }
  return "unknown";
}

int fc_record_kind_parse(const char *name, fc_record_kind *out) {
  for (int k = FC_RECORD_ACCOUNTS; k <= FC_RECORD_TRANSACTIONS; k++)
    if (strcmp(name, fc_record_kind_name((fc_record_kind)k)) == 0) {
      *out = (fc_record_kind)k;
      return FC_OK;
    }
  return FC_ENOTFOUND;
}

const char *fc_transfer_status_name(fc_transfer_status s) {
  static const char *names[] = {"pending", "completed", "failed", "cancelled"};
  return (unsigned)s < 4 ? names[s] : "unknown";
}

const char *fc_stream_status_name(fc_stream_status s) {
  static const char *names[] = {"active", "paused", "cancelled"};
  return (unsigned)s < 3 ? names[s] : "unknown";
}

struct fc_batch {
  fc_record_kind kind;
  const char *default_tenant; /* fills a missing tenant_id/partner_id (JSON sources only) */
  int strict;                 /* unknown JSON fields are errors */
  size_t n, cap;
  void *recs;
  fc__pool pool;
  fc__map ids; /* "tenant\x1fid" -> row, for duplicates within the batch */
};

/* ---- field conversion: each returns FC_OK or fills err ---- */

typedef struct {
  fc_batch *b;
  const fc_currencies *ccy;
  const column *cols;
  const row *r;
  fc_err *err;
} ctx;

static int field_err(ctx *c, int i, int code, const char *why) {
  return fc__err(c->err, code, "%s: %s", c->cols[i].name, why);
}

static int need_string(ctx *c, int i) {
  if (c->r->jtype[i] != FC_JSON_STRING)
    return fc__err(c->err, FC_EPARSE, "%s: expected a string, got %s", c->cols[i].name,
                   fc_json_type_name(c->r->jtype[i]));
  return FC_OK;
}

static int get_text(ctx *c, int i, const char **out) {
  const char *s = c->r->text[i];
  size_t n = c->r->len[i];
  if (!c->r->present[i] || n == 0) {
    if (c->cols[i].type == OPT_TEXT) {
      *out = "";
      return FC_OK;
    }
    return field_err(c, i, FC_EPARSE, "missing");
  }
  if (need_string(c, i) != FC_OK) return c->err ? c->err->code : FC_EPARSE;
  if (n > FC_TEXT_MAX) return field_err(c, i, FC_ERANGE, "longer than 256 bytes");
  if (!fc_utf8_valid(s, n)) return field_err(c, i, FC_EPARSE, "not valid UTF-8");
  for (size_t k = 0; k < n; k++)
    if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) return field_err(c, i, FC_EPARSE, "control character in text");
  *out = fc__pool_strndup(&c->b->pool, s, n);
  return *out ? FC_OK : field_err(c, i, FC_ENOMEM, "out of memory");
}

static int get_currency(ctx *c, int i, char out[FC_CCY_MAX], int *scale) {
  const char *s = c->r->text[i];
  size_t n = c->r->len[i];
  int sc;
  if (!c->r->present[i] || n == 0) return field_err(c, i, FC_EPARSE, "missing");
  if (need_string(c, i) != FC_OK) return c->err ? c->err->code : FC_EPARSE;
  if (n >= FC_CCY_MAX) return field_err(c, i, FC_ECURRENCY, "not a currency code");
  memcpy(out, s, n);
  out[n] = '\0';
  sc = fc_currencies_scale(c->ccy, out);
  if (sc < 0) return fc__err(c->err, FC_ECURRENCY, "%s: unknown currency '%s'", c->cols[i].name, out);
  *scale = sc;
  return FC_OK;
}

static int get_decimal(ctx *c, int i, int scale, int64_t *out) {
  int rc;
  if (!c->r->present[i] || c->r->len[i] == 0) return field_err(c, i, FC_EPARSE, "missing");
  if (c->r->jtype[i] != FC_JSON_STRING && c->r->jtype[i] != FC_JSON_NUMBER)
    return fc__err(c->err, FC_EPARSE, "%s: expected a decimal, got %s", c->cols[i].name,
                   fc_json_type_name(c->r->jtype[i]));
  rc = fc_money_parse(c->r->text[i], c->r->len[i], scale, out, c->err);
  if (rc != FC_OK) fc__err_prefix(c->err, rc, "%s: ", c->cols[i].name);
  return rc;
}

/* A rate per second: an exact decimal of its own precision (money.h), not
 * an amount in the currency's scale. */
static int get_rate(ctx *c, int i, fc_decimal *out) {
  int rc;
  if (!c->r->present[i] || c->r->len[i] == 0) return field_err(c, i, FC_EPARSE, "missing");
  if (c->r->jtype[i] != FC_JSON_STRING && c->r->jtype[i] != FC_JSON_NUMBER)
    return fc__err(c->err, FC_EPARSE, "%s: expected a decimal, got %s", c->cols[i].name,
                   fc_json_type_name(c->r->jtype[i]));
  rc = fc_decimal_parse(c->r->text[i], c->r->len[i], out, c->err);
  if (rc != FC_OK) fc__err_prefix(c->err, rc, "%s: ", c->cols[i].name);
  return rc;
}

static int get_time(ctx *c, int i, int64_t *out) {
  int rc;
  if (!c->r->present[i] || c->r->len[i] == 0) {
    if (c->cols[i].type == OPT_TIME) {
      *out = FC_TIME_NONE;
      return FC_OK;
    }
    return field_err(c, i, FC_EPARSE, "missing");
  }
  if (need_string(c, i) != FC_OK) return c->err ? c->err->code : FC_EPARSE;
  rc = fc_time_parse(c->r->text[i], c->r->len[i], out, c->err);
  if (rc != FC_OK) fc__err_prefix(c->err, rc, "%s: ", c->cols[i].name);
  return rc;
}

static int get_int(ctx *c, int i, int64_t lo, int64_t hi, int64_t *out) {
  const char *s = c->r->text[i];
  size_t n = c->r->len[i];
  int64_t v = 0;
  if (!c->r->present[i] || n == 0) {
    *out = 0;
    return FC_OK;
  }
  if (c->r->jtype[i] != FC_JSON_STRING && c->r->jtype[i] != FC_JSON_NUMBER)
    return field_err(c, i, FC_EPARSE, "expected an integer");
  for (size_t k = 0; k < n; k++) {
    if (s[k] < '0' || s[k] > '9' || k >= 15) return field_err(c, i, FC_EPARSE, "not a whole number of seconds");
    v = v * 10 + (s[k] - '0');
  }
  if (v < lo || v > hi) return field_err(c, i, FC_ERANGE, "out of range");
  *out = v;
  return FC_OK;
}

static int get_bool(ctx *c, int i, int *out) {
  const char *s = c->r->text[i];
  if (!c->r->present[i] || c->r->len[i] == 0) {
    *out = 0;
    return FC_OK;
  }
  if (c->r->jtype[i] == FC_JSON_TRUE || strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0) {
    *out = 1;
    return FC_OK;
  }
  if (c->r->jtype[i] == FC_JSON_FALSE || strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0) {
    *out = 0;
    return FC_OK;
  }
  return field_err(c, i, FC_EPARSE, "expected true or false");
}

static int get_enum(ctx *c, int i, const char *const *names, int n, int *out) {
  if (!c->r->present[i] || c->r->len[i] == 0) return field_err(c, i, FC_EPARSE, "missing");
  if (need_string(c, i) != FC_OK) return c->err ? c->err->code : FC_EPARSE;
  for (int k = 0; k < n; k++)
    if (strcmp(c->r->text[i], names[k]) == 0) {
      *out = k;
      return FC_OK;
    }
  return fc__err(c->err, FC_EPARSE, "%s: unknown value '%.40s'", c->cols[i].name, c->r->text[i]);
}

/* ---- one builder per kind ---- */

static int build_account(ctx *c, fc_account *a) {
  int rc;
  memset(a, 0, sizeof *a);
  if ((rc = get_text(c, A_ID, &a->id)) || (rc = get_text(c, A_TENANT, &a->tenant_id)) ||
      (rc = get_currency(c, A_CCY, a->currency, &a->scale)) ||
      (rc = get_decimal(c, A_BALANCE, a->scale, &a->balance_available)) ||
      (rc = get_bool(c, A_OVERDRAFT, &a->allow_overdraft)))
    return rc;
  if (a->balance_available < 0 && !a->allow_overdraft)
    return fc__err(c->err, FC_ERANGE, "balance_available: negative, but the account does not allow overdraft");
  return FC_OK;
}

static int build_transfer(ctx *c, fc_transfer *t) {
  static const char *const statuses[] = {"pending", "completed", "failed", "cancelled"};
  int rc, st = 0;
  memset(t, 0, sizeof *t);
  if ((rc = get_text(c, T_ID, &t->id)) || (rc = get_text(c, T_TENANT, &t->tenant_id)) ||
      (rc = get_text(c, T_FROM, &t->from_account_id)) || (rc = get_text(c, T_TO, &t->to_account_id)) ||
      (rc = get_currency(c, T_CCY, t->currency, &t->scale)) || (rc = get_decimal(c, T_AMOUNT, t->scale, &t->amount)) ||
      (rc = get_enum(c, T_STATUS, statuses, 4, &st)) || (rc = get_time(c, T_CREATED, &t->created_at)) ||
      (rc = get_time(c, T_SCHEDULED, &t->scheduled_for)))
    return rc;
  t->status = (fc_transfer_status)st;
  if (t->amount <= 0) return fc__err(c->err, FC_ERANGE, "amount: must be greater than 0");
  if (t->from_account_id[0] == '\0' && t->to_account_id[0] == '\0')
    return fc__err(c->err, FC_EPARSE, "from_account_id and to_account_id are both empty");
  if (strcmp(t->from_account_id, t->to_account_id) == 0)
    return fc__err(c->err, FC_EPARSE, "from_account_id equals to_account_id");
  return FC_OK;
}

static int build_stream(ctx *c, fc_stream *s) {
  static const char *const statuses[] = {"active", "paused", "cancelled"};
  int rc, st = 0;
  memset(s, 0, sizeof *s);
  if ((rc = get_text(c, S_ID, &s->id)) || (rc = get_text(c, S_TENANT, &s->tenant_id)) ||
      (rc = get_currency(c, S_CCY, s->currency, &s->scale)) || (rc = get_rate(c, S_RATE, &s->flow_rate)) ||
      (rc = get_decimal(c, S_FUNDED, s->scale, &s->funded_amount)) ||
      (rc = get_decimal(c, S_STREAMED, s->scale, &s->total_streamed)) ||
      (rc = get_enum(c, S_STATUS, statuses, 3, &st)) || (rc = get_time(c, S_STARTED, &s->started_at)) ||
      (rc = get_time(c, S_CANCELLED, &s->cancelled_at)) ||
      (rc = get_int(c, S_PAUSED_SECS, 0, INT64_C(100) * 365 * 86400, &s->total_paused_seconds)) ||
      (rc = get_time(c, S_LAST_PAUSE, &s->last_pause_at)))
    return rc;
  s->status = (fc_stream_status)st;
  if (s->flow_rate.units < 0) return fc__err(c->err, FC_ERANGE, "flow_rate_per_second: negative");
  if (s->funded_amount < 0) return fc__err(c->err, FC_ERANGE, "funded_amount: negative");
  if (s->total_streamed < 0) return fc__err(c->err, FC_ERANGE, "total_streamed: negative");
  if (s->cancelled_at != FC_TIME_NONE && s->cancelled_at < s->started_at)
    return fc__err(c->err, FC_ERANGE, "cancelled_at: before started_at");
  return FC_OK;
}

static int build_ledger(ctx *c, fc_ledger_entry *l) {
  int rc;
  int64_t check;
  memset(l, 0, sizeof *l);
  /* The account's currency decides the scale later; here the text only has
   * to be a decimal of at most FC_SCALE_MAX decimals, checked at its own
   * number of decimals so that large balances stay within range. */
  const char *dot = c->r->present[L_BALANCE] ? memchr(c->r->text[L_BALANCE], '.', c->r->len[L_BALANCE]) : NULL;
  int decimals =
      dot ? (int)FC__MIN(c->r->len[L_BALANCE] - (size_t)(dot - c->r->text[L_BALANCE]) - 1, (size_t)FC_SCALE_MAX) : 0;
  if ((rc = get_text(c, L_ACCOUNT, &l->account_id)) || (rc = get_time(c, L_AT, &l->at)) ||
      (rc = get_decimal(c, L_BALANCE, decimals, &check)))
    return rc;
  l->balance = fc__pool_strndup(&c->b->pool, c->r->text[L_BALANCE], c->r->len[L_BALANCE]);
  return l->balance ? FC_OK : fc__err(c->err, FC_ENOMEM, "out of memory");
}

static int build_transaction(ctx *c, fc_transaction *x) {
  int rc;
  memset(x, 0, sizeof *x);
  if ((rc = get_text(c, X_ID, &x->id)) || (rc = get_text(c, X_PARTNER, &x->partner_id)) ||
      (rc = get_text(c, X_USER, &x->user_id)) || (rc = get_time(c, X_DATE, &x->action_date)) ||
      (rc = get_text(c, X_TYPE, &x->transaction_type)) || (rc = get_text(c, X_CATEGORY, &x->category)))
    return rc;
  if (c->r->present[X_CCY] && c->r->len[X_CCY] > 0) {
    if ((rc = get_currency(c, X_CCY, x->currency, &x->scale)) != FC_OK) return rc;
  } else {
    memcpy(x->currency, "USD", 4);
    x->scale = fc_currencies_scale(c->ccy, "USD");
    if (x->scale < 0) x->scale = 2;
  }
  return get_decimal(c, X_AMOUNT, x->scale, &x->amount);
}

/* Builds the record for row r and appends it to the batch. */
static int add_row(fc_batch *b, const fc_currencies *ccy, const row *r, fc_err *err) {
  ctx c = {b, ccy, schema_of(b->kind), r, err};
  union {
    fc_account a;
    fc_transfer t;
    fc_stream s;
    fc_ledger_entry l;
    fc_transaction x;
  } rec;
  size_t size = record_size(b->kind);
  const char *tenant = "", *id = NULL;
  int rc;
  void *recs = b->recs;
  switch (b->kind) {
  case FC_RECORD_ACCOUNTS:
    rc = build_account(&c, &rec.a);
    tenant = rec.a.tenant_id, id = rec.a.id;
    break;
  case FC_RECORD_TRANSFERS:
    rc = build_transfer(&c, &rec.t);
    tenant = rec.t.tenant_id, id = rec.t.id;
    break;
  case FC_RECORD_STREAMS:
    rc = build_stream(&c, &rec.s);
    tenant = rec.s.tenant_id, id = rec.s.id;
    break;
  case FC_RECORD_LEDGER: rc = build_ledger(&c, &rec.l); break;
  case FC_RECORD_TRANSACTIONS:
    rc = build_transaction(&c, &rec.x);
    tenant = rec.x.partner_id, id = rec.x.id;
    break;
  default: rc = fc__err(err, FC_EINVAL, "unknown record kind");
  }
  if (rc != FC_OK) return rc;
  if (id != NULL) {
    char key[2 * FC_TEXT_MAX + 2];
    fc__pair_key(key, sizeof key, tenant, id);
    if (fc__map_get(&b->ids, key) != SIZE_MAX)
      return fc__err(err, FC_EDUP, "id '%.60s' appears twice in this batch", id);
    if (fc__map_put(&b->ids, key, b->n) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  }
  if (fc__grow(&recs, &b->cap, b->n + 1, size) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  b->recs = recs;
  memcpy((char *)b->recs + b->n * size, &rec, size);
  b->n++;
  return FC_OK;
}

/* ---- error collection ---- */

typedef struct {
  fc_load_report *report;
  fc_err *err;
  int first_code;
  size_t n_errors, n_rows;
  char first[FC_ERR_MSG_MAX];
} collector;

enum { AT_NONE, AT_LINE, AT_INDEX };

static void copy_text(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Records one bad row: where_kind says whether `where` is a line number,
 * an array index, or already part of the message. */
static void collect(collector *co, int where_kind, size_t where, const fc_err *row_err) {
  char msg[FC_ERR_MSG_MAX];
  if (where_kind == AT_NONE) copy_text(msg, sizeof msg, row_err->msg);
  else {
    char prefix[48];
    snprintf(prefix, sizeof prefix, where_kind == AT_LINE ? "line %zu: " : "index %zu: ", where);
    copy_text(msg, sizeof msg, prefix);
    copy_text(msg + strlen(msg), sizeof msg - strlen(msg), row_err->msg);
  }
  if (co->n_errors == 0) {
    co->first_code = row_err->code;
    memcpy(co->first, msg, sizeof msg);
  }
  co->n_errors++;
  if (co->report && co->report->n_listed < FC_REPORT_MAX) {
    size_t k = co->report->n_listed++;
    co->report->errors[k].row = where;
    copy_text(co->report->errors[k].msg, sizeof co->report->errors[k].msg, msg);
  }
}

/* Row-level failures continue the scan so that every bad row is reported;
 * out-of-memory stops it. */
static int row_failed(collector *co, int where_kind, size_t where, const fc_err *row_err) {
  collect(co, where_kind, where, row_err);
  return row_err->code == FC_ENOMEM ? FC_ENOMEM : FC_OK;
}

/* ---- CSV ---- */

static int header_index(const column *cols, const char *name, size_t len) {
  /* Trim spaces; names compare case-insensitively. */
  while (len && (*name == ' ' || *name == '\t')) name++, len--;
  while (len && (name[len - 1] == ' ' || name[len - 1] == '\t')) len--;
  for (int i = 0; cols[i].name; i++) {
    size_t n = strlen(cols[i].name);
    if (n != len) continue;
    size_t k = 0;
    for (; k < n; k++) {
      char a = name[k], b = cols[i].name[k];
      if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
      if (a != b) break;
    }
    if (k == n) return i;
  }
  return -1;
}

static int parse_csv(fc_batch *b, const fc_currencies *ccy, const char *data, size_t len, collector *co) {
  fc_csv csv;
  fc_err e;
  int map[MAX_COLS * 8], nmap, rc;
  const column *cols = schema_of(b->kind);
  fc_csv_init(&csv, data, len);
  rc = fc_csv_next(&csv, &e);
  if (rc <= 0) {
    fc_csv_free(&csv);
    if (rc == 0) return fc__err(co->err, FC_ETOOSHORT, "empty %s CSV: no header row", fc_record_kind_name(b->kind));
    return fc__err(co->err, rc, "%s", e.msg);
  }
  nmap = (int)fc_csv_nfields(&csv);
  if (nmap > (int)(sizeof map / sizeof map[0])) {
    fc_csv_free(&csv);
    return fc__err(co->err, FC_ERANGE, "line 1: too many columns (%d)", nmap);
  }
  {
    int seen[MAX_COLS] = {0};
    for (int f = 0; f < nmap; f++) {
      size_t n;
      const char *name = fc_csv_field(&csv, (size_t)f, &n);
      map[f] = header_index(cols, name, n);
      if (map[f] >= 0 && seen[map[f]]++) {
        fc_csv_free(&csv);
        return fc__err(co->err, FC_EPARSE, "line 1: column '%s' appears twice", cols[map[f]].name);
      }
    }
    for (int i = 0; cols[i].name; i++)
      if (cols[i].required && !seen[i]) {
        fc_csv_free(&csv);
        return fc__err(co->err, FC_EPARSE, "line 1: missing column '%s'", cols[i].name);
      }
  }
  while ((rc = fc_csv_next(&csv, &e)) == 1) {
    row r;
    memset(&r, 0, sizeof r);
    co->n_rows++;
    if (co->n_rows > MAX_ROWS) {
      fc_csv_free(&csv);
      return fc__err(co->err, FC_ERANGE, "more than %d rows in one batch", MAX_ROWS);
    }
    if ((int)fc_csv_nfields(&csv) != nmap) {
      fc__err(&e, FC_EPARSE, "%zu fields, but the header has %d", fc_csv_nfields(&csv), nmap);
      if (row_failed(co, AT_LINE, csv.record_line, &e) != FC_OK) break;
      continue;
    }
    fc_err_clear(&e);
    for (int f = 0; f < nmap && e.code == FC_OK; f++) {
      if (map[f] < 0) continue;
      r.text[map[f]] = fc_csv_field(&csv, (size_t)f, &r.len[map[f]]);
      r.present[map[f]] = 1;
      r.jtype[map[f]] = FC_JSON_STRING;
      /* Fields are compared as C strings: a NUL would cut them short. */
      if (memchr(r.text[map[f]], '\0', r.len[map[f]]) != NULL)
        fc__err(&e, FC_EPARSE, "%s: NUL byte in the field", cols[map[f]].name);
    }
    if ((e.code != FC_OK || add_row(b, ccy, &r, &e) != FC_OK) && row_failed(co, AT_LINE, csv.record_line, &e) != FC_OK)
      break;
  }
  fc_csv_free(&csv);
  if (rc < 0) collect(co, AT_NONE, csv.line, &e); /* a broken quote: the rest is unreadable */
  return FC_OK;
}

/* ---- JSON ---- */

static int json_row(fc_batch *b, const fc_currencies *ccy, const fc_json *obj, fc_err *e) {
  const column *cols = schema_of(b->kind);
  row r;
  memset(&r, 0, sizeof r);
  if (obj->type != FC_JSON_OBJECT)
    return fc__err(e, FC_EPARSE, "expected an object, got %s", fc_json_type_name(obj->type));
  for (const fc_json *m = obj->child; m; m = m->next) {
    int i = header_index(cols, m->key, m->key_len);
    if (i < 0) {
      /* Ignored, as unknown CSV columns are, unless the caller asked for
       * strictness (an API wants a misspelt field to fail, not vanish). */
      if (b->strict) return fc__err(e, FC_EPARSE, "unknown field '%.60s'", m->key);
      continue;
    }
    if (r.present[i]) return fc__err(e, FC_EPARSE, "field '%s' appears twice", cols[i].name);
    if (m->type == FC_JSON_NULL) continue;
    if (m->type == FC_JSON_ARRAY || m->type == FC_JSON_OBJECT)
      return fc__err(e, FC_EPARSE, "%s: expected a scalar, got %s", cols[i].name, fc_json_type_name(m->type));
    r.present[i] = 1;
    r.jtype[i] = m->type;
    r.text[i] = m->type == FC_JSON_TRUE ? "true" : m->type == FC_JSON_FALSE ? "false" : m->text;
    r.len[i] = strlen(r.text[i]);
    if (m->type == FC_JSON_STRING) r.len[i] = m->len;
  }
  /* Column 1 is the tenant (partner for transactions) in every kind but the ledger. */
  if (b->default_tenant != NULL && b->kind != FC_RECORD_LEDGER && !r.present[1]) {
    r.present[1] = 1;
    r.jtype[1] = FC_JSON_STRING;
    r.text[1] = b->default_tenant;
    r.len[1] = strlen(b->default_tenant);
  }
  return add_row(b, ccy, &r, e);
}

/* Reads every element of a JSON array as one row. */
static int json_array_rows(fc_batch *b, const fc_currencies *ccy, const fc_json *arr, collector *co) {
  size_t idx = 0;
  fc_err e;
  for (const fc_json *v = arr->child; v; v = v->next, idx++) {
    co->n_rows++;
    if (co->n_rows > MAX_ROWS) return fc__err(co->err, FC_ERANGE, "more than %d rows in one batch", MAX_ROWS);
    fc_err_clear(&e);
    if (json_row(b, ccy, v, &e) != FC_OK && row_failed(co, AT_INDEX, idx, &e) != FC_OK) break;
  }
  return FC_OK;
}

static int parse_json(fc_batch *b, const fc_currencies *ccy, const char *data, size_t len, collector *co) {
  size_t i = 0;
  fc_err e;
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')) i++;
  if (i == len) return fc__err(co->err, FC_ETOOSHORT, "empty %s body", fc_record_kind_name(b->kind));
  if (data[i] == '[') {
    fc_json_doc *doc;
    int rc = fc_json_parse(data, len, &doc, co->err);
    if (rc != FC_OK) return rc;
    rc = json_array_rows(b, ccy, fc_json_root(doc), co);
    fc_json_doc_destroy(doc);
    return rc;
  }
  /* NDJSON: one object per non-blank line. */
  {
    size_t line = 1, start = 0;
    while (start < len) {
      const char *nl = memchr(data + start, '\n', len - start);
      size_t end = nl ? (size_t)(nl - data) : len, k = start;
      while (k < end && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r')) k++;
      if (k < end) {
        fc_json_doc *doc;
        co->n_rows++;
        if (co->n_rows > MAX_ROWS) return fc__err(co->err, FC_ERANGE, "more than %d rows in one batch", MAX_ROWS);
        fc_err_clear(&e);
        if (fc_json_parse(data + start, end - start, &doc, &e) == FC_OK) {
          json_row(b, ccy, fc_json_root(doc), &e);
          fc_json_doc_destroy(doc);
        }
        if (e.code != FC_OK && row_failed(co, AT_LINE, line, &e) != FC_OK) break;
      }
      start = end + 1;
      line++;
    }
  }
  return FC_OK;
}

/* Where a batch's rows come from: bytes in a format, or a parsed JSON array. */
typedef struct {
  fc_format fmt;
  const char *data;
  size_t len;
  const fc_json *array;
  const char *default_tenant;
  int strict;
} source;

static int batch_build(fc_record_kind kind, const source *src, const fc_currencies *ccy, fc_batch **out,
                       fc_load_report *report, fc_err *err) {
  fc_format fmt = src->fmt;
  const char *data = src->data;
  size_t len = src->len;
  fc_batch *b;
  fc_currencies *own = NULL;
  collector co;
  int rc;
  *out = NULL;
  if (report) memset(report, 0, sizeof *report);
  if (schema_of(kind) == NULL) return fc__err(err, FC_EINVAL, "unknown record kind");
  if (data == NULL && len > 0) return fc__err(err, FC_EINVAL, "no data");
  if (ccy == NULL) {
    own = fc_currencies_create();
    if (own == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    ccy = own;
  }
  b = fc__calloc(1, sizeof *b);
  if (b == NULL) {
    fc_currencies_destroy(own);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  b->kind = kind;
  b->default_tenant = src->default_tenant;
  b->strict = src->strict;
  fc__pool_init(&b->pool);
  fc__map_init(&b->ids);
  memset(&co, 0, sizeof co);
  co.report = report;
  co.err = err;
  if (src->array != NULL) rc = json_array_rows(b, ccy, src->array, &co);
  else if (fmt == FC_FORMAT_CSV) rc = parse_csv(b, ccy, data ? data : "", len, &co);
  else rc = parse_json(b, ccy, data ? data : "", len, &co);
  fc_currencies_destroy(own);
  if (report) {
    report->n_rows = co.n_rows;
    report->n_errors = co.n_errors;
  }
  if (rc == FC_OK && co.n_errors > 0) {
    if (co.n_errors > 1) rc = fc__err(err, co.first_code, "%s (and %zu more bad rows)", co.first, co.n_errors - 1);
    else rc = fc__err(err, co.first_code, "%s", co.first);
  }
  if (rc != FC_OK) {
    fc_batch_destroy(b);
    return rc;
  }
  fc__map_free(&b->ids); /* only needed while reading */
  *out = b;
  return FC_OK;
}

int fc_batch_parse(fc_record_kind kind, fc_format fmt, const char *data, size_t len, const fc_currencies *ccy,
                   fc_batch **out, fc_load_report *report, fc_err *err) {
  source src = {fmt, data, len, NULL, NULL, 0};
  return batch_build(kind, &src, ccy, out, report, err);
}

int fc_batch_parse_strict(fc_record_kind kind, fc_format fmt, const char *data, size_t len, const fc_currencies *ccy,
                          fc_batch **out, fc_load_report *report, fc_err *err) {
  source src = {fmt, data, len, NULL, NULL, 1};
  return batch_build(kind, &src, ccy, out, report, err);
}

int fc_batch_from_json(fc_record_kind kind, const fc_json *array, const fc_currencies *ccy, const char *default_tenant,
                       fc_batch **out, fc_load_report *report, fc_err *err) {
  source src = {FC_FORMAT_JSON, NULL, 0, array, default_tenant, 0};
  *out = NULL;
  if (report) memset(report, 0, sizeof *report);
  if (array == NULL || array->type != FC_JSON_ARRAY)
    return fc__err(err, FC_EPARSE, "%s: expected an array of objects", fc_record_kind_name(kind));
  return batch_build(kind, &src, ccy, out, report, err);
}

void fc_batch_destroy(fc_batch *b) {
  if (b == NULL) return;
  fc__free(b->recs);
  fc__pool_free(&b->pool);
  fc__map_free(&b->ids);
  fc__free(b);
}

fc_record_kind fc_batch_kind(const fc_batch *b) { return b->kind; }
size_t fc_batch_count(const fc_batch *b) { return b->n; }
#define FC__BATCH_GETTER(fn, type, k) \
  const type *fn(const fc_batch *b) { return b->kind == k ? (const type *)b->recs : NULL; }
FC__BATCH_GETTER(fc_batch_accounts, fc_account, FC_RECORD_ACCOUNTS)
FC__BATCH_GETTER(fc_batch_transfers, fc_transfer, FC_RECORD_TRANSFERS)
FC__BATCH_GETTER(fc_batch_streams, fc_stream, FC_RECORD_STREAMS)
FC__BATCH_GETTER(fc_batch_ledger, fc_ledger_entry, FC_RECORD_LEDGER)
FC__BATCH_GETTER(fc_batch_transactions, fc_transaction, FC_RECORD_TRANSACTIONS)
