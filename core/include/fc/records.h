/* records.h: the canonical record types and the batch reader.
 *
 * Every input format of docs/spec/formats.md (accounts, transfers,
 * streams, ledger snapshots, partner transactions) has one plain struct
 * here and one schema. A batch is read from CSV (header row, any column
 * order, unknown columns ignored, RFC 4180 quoting) or from JSON (an array
 * of objects, or NDJSON: one object per line) through the same per-field
 * validation, so the CLI, the gateway and the WASM module accept exactly
 * the same rows.
 *
 * A batch is all or nothing: if any row is bad, fc_batch_parse returns an
 * error, reports every bad row (up to FC_REPORT_MAX) with its position
 * ("line 7" in CSV and NDJSON, "index 3" in a JSON array) and reason, and
 * yields no records. Ids must be unique within a batch.
 */
#ifndef FC_RECORDS_H
#define FC_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "fc/money.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest id, tenant, account or category text accepted (bytes). */
#define FC_TEXT_MAX          256
/* A stream's flow rate is written with at least this many decimals beyond
 * its currency's scale (more when the rate has more), so answers keep the
 * form they had when rates were held in 10^-(scale+6) units. */
#define FC_RATE_EXTRA_DIGITS 6

typedef enum fc_record_kind {
  FC_RECORD_ACCOUNTS,
  FC_RECORD_TRANSFERS,
  FC_RECORD_STREAMS,
  FC_RECORD_LEDGER,
  FC_RECORD_TRANSACTIONS
} fc_record_kind;

typedef enum fc_format {
  FC_FORMAT_CSV,
  FC_FORMAT_JSON /* a JSON array of objects, or NDJSON */
} fc_format;

/* Name used in messages and URLs: "accounts", "transfers", ... */
const char *fc_record_kind_name(fc_record_kind k);
/* Parses "accounts" etc.; FC_ENOTFOUND if unknown. */
int fc_record_kind_parse(const char *name, fc_record_kind *out);

typedef struct fc_account {
  const char *id;
  const char *tenant_id;
  char currency[FC_CCY_MAX];
  int scale;
  int64_t balance_available; /* minor units */
  int allow_overdraft;       /* optional column; a negative balance needs it */
} fc_account;

typedef enum fc_transfer_status {
  FC_TRANSFER_PENDING,
  FC_TRANSFER_COMPLETED,
  FC_TRANSFER_FAILED,
  FC_TRANSFER_CANCELLED
} fc_transfer_status;

typedef struct fc_transfer {
  const char *id;
  const char *tenant_id;
  const char *from_account_id; /* "" when absent */
  const char *to_account_id;   /* "" when absent */
  char currency[FC_CCY_MAX];
  int scale;
  int64_t amount; /* minor units, > 0 */
  fc_transfer_status status;
  int64_t created_at;
  int64_t scheduled_for; /* FC_TIME_NONE when absent */
} fc_transfer;

typedef enum fc_stream_status { FC_STREAM_ACTIVE, FC_STREAM_PAUSED, FC_STREAM_CANCELLED } fc_stream_status;

typedef struct fc_stream {
  const char *id;
  const char *tenant_id;
  char currency[FC_CCY_MAX];
  int scale;
  fc_decimal flow_rate;   /* currency units per second, exact to 18 decimals, >= 0 */
  int64_t funded_amount;  /* minor units */
  int64_t total_streamed; /* minor units */
  fc_stream_status status;
  int64_t started_at;
  int64_t cancelled_at;         /* FC_TIME_NONE when absent */
  int64_t total_paused_seconds; /* 0 when absent */
  int64_t last_pause_at;        /* FC_TIME_NONE when absent */
} fc_stream;

typedef struct fc_ledger_entry {
  const char *account_id;
  int64_t at;
  const char *balance; /* decimal text: the account's currency decides its scale */
} fc_ledger_entry;

typedef struct fc_transaction {
  const char *id;
  const char *partner_id;
  const char *user_id;
  int64_t action_date;
  char currency[FC_CCY_MAX]; /* optional column; default USD (scale 2) */
  int scale;
  int64_t amount; /* minor units, signed: refunds negative */
  const char *transaction_type;
  const char *category; /* "" when absent */
} fc_transaction;

const char *fc_transfer_status_name(fc_transfer_status s);
const char *fc_stream_status_name(fc_stream_status s);

/* Where bad rows are listed. row is the 1-based line (CSV, NDJSON) or the
 * 0-based index (JSON array); msg starts with "line N: " or "index N: ". */
#define FC_REPORT_MAX 50
typedef struct fc_load_report {
  size_t n_rows;   /* rows read (good and bad) */
  size_t n_errors; /* bad rows, possibly more than listed */
  size_t n_listed;
  struct {
    size_t row;
    char msg[240];
  } errors[FC_REPORT_MAX];
} fc_load_report;

typedef struct fc_batch fc_batch;

/* Reads a batch of `kind` records. ccy decides which currencies exist and
 * their scales (NULL: the default table). On a bad row: FC_EPARSE (or the
 * row's own code), *out = NULL, report (may be NULL) lists the bad rows and
 * err holds the first with a count of the rest. Limits: 1,000,000 rows,
 * FC_TEXT_MAX bytes per text field. */
int fc_batch_parse(fc_record_kind kind, fc_format fmt, const char *data, size_t len, const fc_currencies *ccy,
                   fc_batch **out, fc_load_report *report, fc_err *err);
/* The same from an already parsed JSON array (e.g. one member of a larger
 * request document); rows are named by their index in that array. A row
 * without tenant_id (partner_id for transactions) gets default_tenant when
 * that is not NULL. */
struct fc_json;
int fc_batch_from_json(fc_record_kind kind, const struct fc_json *array, const fc_currencies *ccy,
                       const char *default_tenant, fc_batch **out, fc_load_report *report, fc_err *err);
/* fc_batch_parse, except that a JSON object's unknown field is an error
 * (CSV columns are still matched by name and others ignored). */
int fc_batch_parse_strict(fc_record_kind kind, fc_format fmt, const char *data, size_t len, const fc_currencies *ccy,
                          fc_batch **out, fc_load_report *report, fc_err *err);
void fc_batch_destroy(fc_batch *b);

fc_record_kind fc_batch_kind(const fc_batch *b);
size_t fc_batch_count(const fc_batch *b);
/* The records, or NULL when the batch holds another kind. Strings point
 * into the batch and live as long as it. */
const fc_account *fc_batch_accounts(const fc_batch *b);
const fc_transfer *fc_batch_transfers(const fc_batch *b);
const fc_stream *fc_batch_streams(const fc_batch *b);
const fc_ledger_entry *fc_batch_ledger(const fc_batch *b);
const fc_transaction *fc_batch_transactions(const fc_batch *b);

#ifdef __cplusplus
}
#endif
#endif /* FC_RECORDS_H */
