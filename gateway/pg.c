/* pg.c: the PostgreSQL engine's pool, migrations, statement helpers and
 * the canonical records (accounts, transfers, streams, transactions).
 *
 * Connections are opened on demand and kept in a small free list guarded
 * by a mutex, like db.c's; a thread borrows one for one transaction. A
 * connection that is broken or left inside a transaction is closed rather
 * than pooled. Rows keep a `seq` identity so a tenant loads in first-seen
 * order, as SQLite's rowid gives.
 */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "fc/time.h"

#define POOL_MAX 8

struct gw_pg {
  char *uri;
  uv_mutex_t lock;
  size_t n_idle;
  PGconn *idle[POOL_MAX];
};

/* Migration 1: the schema of SQLite's user_version 6, with the
 * immutability rules as plpgsql triggers. Integers are bigint (epoch
 * seconds, minor units); a row's seq keeps its first-seen order. */
static const char migration_1[] =
    "CREATE TABLE accounts ("
    " seq bigint GENERATED ALWAYS AS IDENTITY, tenant_id text NOT NULL, id text NOT NULL,"
    " currency text NOT NULL, scale integer NOT NULL, balance_available bigint NOT NULL,"
    " allow_overdraft integer NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, id));"
    "CREATE TABLE transfers ("
    " seq bigint GENERATED ALWAYS AS IDENTITY, tenant_id text NOT NULL, id text NOT NULL,"
    " from_account_id text NOT NULL, to_account_id text NOT NULL, currency text NOT NULL,"
    " scale integer NOT NULL, amount bigint NOT NULL, status text NOT NULL,"
    " created_at bigint NOT NULL, scheduled_for bigint, PRIMARY KEY (tenant_id, id));"
    "CREATE INDEX transfers_by_time ON transfers (tenant_id, created_at);"
    "CREATE TABLE streams ("
    " seq bigint GENERATED ALWAYS AS IDENTITY, tenant_id text NOT NULL, id text NOT NULL,"
    " currency text NOT NULL, scale integer NOT NULL, flow_rate bigint NOT NULL,"
    " flow_rate_decimals integer NOT NULL, funded_amount bigint NOT NULL,"
    " total_streamed bigint NOT NULL, status text NOT NULL, started_at bigint NOT NULL,"
    " cancelled_at bigint, total_paused_seconds bigint NOT NULL DEFAULT 0,"
    " last_pause_at bigint, PRIMARY KEY (tenant_id, id));"
    "CREATE TABLE transactions ("
    " seq bigint GENERATED ALWAYS AS IDENTITY, tenant_id text NOT NULL, id text NOT NULL,"
    " partner_id text NOT NULL, user_id text NOT NULL, action_date bigint NOT NULL,"
    " currency text NOT NULL, scale integer NOT NULL, amount bigint NOT NULL,"
    " transaction_type text NOT NULL, category text NOT NULL, PRIMARY KEY (tenant_id, id));"
    "CREATE INDEX transactions_by_time ON transactions (tenant_id, action_date);"
    "CREATE TABLE tiers ("
    " name text PRIMARY KEY, rate_milli bigint NOT NULL, burst bigint NOT NULL,"
    " monthly_quota bigint NOT NULL, max_horizon_hours integer NOT NULL,"
    " max_history_days integer NOT NULL, granularities integer NOT NULL,"
    " max_concurrent integer NOT NULL);"
    "CREATE TABLE tenants (id text PRIMARY KEY, name text NOT NULL, created_at bigint NOT NULL);"
    "CREATE TABLE api_keys ("
    " id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id),"
    " tier text NOT NULL REFERENCES tiers (name), hash bytea NOT NULL,"
    " created_at bigint NOT NULL, revoked_at bigint);"
    "CREATE TABLE seeded_keys (id text PRIMARY KEY);"
    "CREATE TABLE usage ("
    " tenant_id text NOT NULL, key_id text NOT NULL, endpoint text NOT NULL,"
    " status_class integer NOT NULL, hour bigint NOT NULL, calls bigint NOT NULL,"
    " bytes bigint NOT NULL, compute_us bigint NOT NULL,"
    " PRIMARY KEY (tenant_id, key_id, endpoint, status_class, hour));"
    /* A month is closed (no insert or update) from one hour after it ends,
     * in UTC whatever the session's time zone. */
    "CREATE FUNCTION usage_open_from() RETURNS bigint LANGUAGE sql STABLE AS"
    " $$ SELECT extract(epoch FROM date_trunc('month',"
    " (now() AT TIME ZONE 'UTC') - interval '1 hour'))::bigint $$;"
    "CREATE FUNCTION usage_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP IN ('DELETE', 'TRUNCATE') THEN RAISE EXCEPTION 'usage is never deleted'; END IF;"
    " IF TG_OP = 'UPDATE' THEN"
    "  IF (new.tenant_id, new.key_id, new.endpoint, new.status_class, new.hour)"
    "     IS DISTINCT FROM (old.tenant_id, old.key_id, old.endpoint, old.status_class, old.hour)"
    "     OR new.calls < old.calls OR new.bytes < old.bytes OR new.compute_us < old.compute_us"
    "  THEN RAISE EXCEPTION 'usage only grows'; END IF;"
    "  IF old.hour < usage_open_from() THEN RAISE EXCEPTION 'usage period is closed'; END IF;"
    " ELSIF new.hour < usage_open_from() THEN RAISE EXCEPTION 'usage period is closed'; END IF;"
    " RETURN new; END $$;"
    "CREATE TRIGGER usage_guard BEFORE INSERT OR UPDATE OR DELETE ON usage"
    " FOR EACH ROW EXECUTE FUNCTION usage_guard();"
    "CREATE TRIGGER usage_never_truncated BEFORE TRUNCATE ON usage"
    " FOR EACH STATEMENT EXECUTE FUNCTION usage_guard();"
    "CREATE TABLE model_versions ("
    " tenant_id text NOT NULL, kind text NOT NULL, currency text NOT NULL,"
    " granularity text NOT NULL, version bigint NOT NULL, created_at bigint NOT NULL,"
    " trained_from bigint NOT NULL, trained_through bigint NOT NULL,"
    " \"rows\" bigint NOT NULL, points bigint NOT NULL, config text NOT NULL,"
    " metrics text NOT NULL, evaluation text NOT NULL, model bytea,"
    " status text NOT NULL CHECK (status IN ('champion', 'rejected', 'retired')),"
    " reason text NOT NULL, job_id bigint NOT NULL, retired_at bigint, retired_by bigint,"
    " series_sha256 text,"
    " PRIMARY KEY (tenant_id, kind, currency, granularity, version));"
    "CREATE FUNCTION model_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP IN ('DELETE', 'TRUNCATE') THEN"
    "  RAISE EXCEPTION 'model versions are never deleted'; END IF;"
    " IF NOT (old.status = 'champion' AND new.status = 'retired'"
    "  AND new.retired_at IS NOT NULL AND new.retired_by IS NOT NULL"
    "  AND (new.tenant_id, new.kind, new.currency, new.granularity, new.version,"
    "   new.created_at, new.trained_from, new.trained_through, new.\"rows\", new.points,"
    "   new.config, new.metrics, new.evaluation, new.model, new.reason, new.job_id,"
    "   new.series_sha256) IS NOT DISTINCT FROM (old.tenant_id, old.kind, old.currency,"
    "   old.granularity, old.version, old.created_at, old.trained_from, old.trained_through,"
    "   old.\"rows\", old.points, old.config, old.metrics, old.evaluation, old.model,"
    "   old.reason, old.job_id, old.series_sha256))"
    " THEN RAISE EXCEPTION 'a model version only changes from champion to retired'; END IF;"
    " RETURN new; END $$;"
    "CREATE TRIGGER model_versions_guard BEFORE UPDATE OR DELETE ON model_versions"
    " FOR EACH ROW EXECUTE FUNCTION model_versions_guard();"
    "CREATE TRIGGER model_versions_never_truncated BEFORE TRUNCATE ON model_versions"
    " FOR EACH STATEMENT EXECUTE FUNCTION model_versions_guard();";

/* Migration 2: browser sessions (db_sessions.h), as SQLite's table. */
static const char migration_2[] = "CREATE TABLE sessions ("
                                  " id text PRIMARY KEY, tenant_id text NOT NULL, key_id text NOT NULL,"
                                  " token_sha256 text NOT NULL, created_at bigint NOT NULL, expires_at bigint NOT NULL,"
                                  " revoked_at bigint);"
                                  "CREATE INDEX sessions_by_key ON sessions (key_id);";

/* Migration 3: the insights' daily rollups (db_rollups.h). A trigger
 * keeps them in the ingesting transaction: a created row adds itself, an
 * updated one moves its old values out and its new ones in (the upsert
 * only updates a row that changed, so a re-sent row fires nothing), and a
 * key whose count reaches 0 is deleted. Per row rather than per distinct
 * key of a batch as on SQLite: simpler, and no client can bypass it. The
 * transactions already stored are summed once. */
static const char migration_3[] =
    "CREATE TABLE txn_daily ("
    " tenant_id text NOT NULL, partner_id text NOT NULL, currency text NOT NULL,"
    " day bigint NOT NULL, transaction_type text NOT NULL, scale integer NOT NULL,"
    " n bigint NOT NULL, amount bigint NOT NULL,"
    " PRIMARY KEY (tenant_id, partner_id, currency, day, transaction_type));"
    "CREATE INDEX txn_daily_by_day ON txn_daily (tenant_id, day);"
    /* floor(t / 86400): % and / truncate toward zero, as in C. */
    "CREATE FUNCTION txn_day(t bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS"
    " $$ SELECT (t - ((t % 86400) + 86400) % 86400) / 86400 $$;"
    "CREATE FUNCTION txn_daily_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP = 'UPDATE' THEN"
    "  UPDATE txn_daily SET n = n - 1, amount = amount - old.amount"
    "   WHERE (tenant_id, partner_id, currency, day, transaction_type) ="
    "   (old.tenant_id, old.partner_id, old.currency, txn_day(old.action_date), old.transaction_type);"
    "  DELETE FROM txn_daily"
    "   WHERE (tenant_id, partner_id, currency, day, transaction_type) ="
    "   (old.tenant_id, old.partner_id, old.currency, txn_day(old.action_date), old.transaction_type)"
    "   AND n = 0;"
    " END IF;"
    " INSERT INTO txn_daily VALUES (new.tenant_id, new.partner_id, new.currency,"
    "  txn_day(new.action_date), new.transaction_type, new.scale, 1, new.amount)"
    "  ON CONFLICT (tenant_id, partner_id, currency, day, transaction_type) DO UPDATE SET"
    "  n = txn_daily.n + 1, amount = txn_daily.amount + excluded.amount, scale = excluded.scale;"
    " RETURN NULL; END $$;"
    "CREATE TRIGGER txn_daily_keep AFTER INSERT OR UPDATE ON transactions"
    " FOR EACH ROW EXECUTE FUNCTION txn_daily_keep();"
    "INSERT INTO txn_daily SELECT tenant_id, partner_id, currency, txn_day(action_date),"
    " transaction_type, max(scale), count(*), sum(amount) FROM transactions"
    " GROUP BY tenant_id, partner_id, currency, txn_day(action_date), transaction_type;";

/* Migration 4: served predictions, their realized steps and depletion
 * outcomes (db_perf.h), as SQLite's tables. */
static const char migration_4[] =
    "CREATE TABLE predictions ("
    " id text PRIMARY KEY, tenant_id text NOT NULL, kind text NOT NULL, currency text NOT NULL,"
    " granularity text NOT NULL, model_source text NOT NULL, model_version bigint NOT NULL,"
    " origin bigint NOT NULL, step bigint NOT NULL, horizon integer NOT NULL,"
    " served_at bigint NOT NULL, points text NOT NULL, extra text,"
    " UNIQUE (tenant_id, kind, currency, granularity, model_source, model_version, origin, horizon));"
    "CREATE TABLE prediction_realized ("
    " prediction_id text NOT NULL, step integer NOT NULL, at bigint NOT NULL,"
    " actual double precision NOT NULL, mean double precision NOT NULL,"
    " lo double precision NOT NULL, hi double precision NOT NULL,"
    " PRIMARY KEY (prediction_id, step));"
    "CREATE TABLE prediction_brier ("
    " prediction_id text NOT NULL, hours integer NOT NULL, p double precision NOT NULL,"
    " outcome integer NOT NULL, PRIMARY KEY (prediction_id, hours));";

/* Migration 5: A/B experiments (experiments.h), as SQLite's table. */
static const char migration_5[] =
    "CREATE TABLE experiments ("
    " id text PRIMARY KEY, tenant_id text NOT NULL, kind text NOT NULL, currency text NOT NULL,"
    " champion text NOT NULL, challenger text NOT NULL, mode text NOT NULL,"
    " share double precision NOT NULL, created_at bigint NOT NULL);";

/* Migration: saved what-if scenarios (scenarios.h), as SQLite's table. */
static const char migration_scenarios[] =
    "CREATE TABLE treasury_scenarios ("
    " id text PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, scenario text NOT NULL,"
    " created_at bigint NOT NULL, updated_at bigint NOT NULL, UNIQUE (tenant_id, name));";

/* Alert settings, webhooks, alerts and the webhook outbox (pg_alerts.h),
 * as SQLite's tables (db_alerts.c), plus the outbox's claim: the node
 * delivering a row (claimed_by) until claimed_until, in the database's
 * clock (ms), after which another node may take it. */
static const char migration_alerts[] =
    "CREATE TABLE treasury_settings ("
    " tenant_id text PRIMARY KEY, floors text NOT NULL,"
    " alert_probability double precision NOT NULL, alert_horizon_hours integer NOT NULL,"
    " updated_at bigint NOT NULL);"
    "CREATE TABLE webhooks ("
    " id text PRIMARY KEY, tenant_id text NOT NULL, url text NOT NULL, events integer NOT NULL,"
    " secret text NOT NULL, created_at bigint NOT NULL, deleted_at bigint);"
    "CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id);"
    "CREATE TABLE alerts ("
    " id text PRIMARY KEY, tenant_id text NOT NULL, kind text NOT NULL, subject text NOT NULL,"
    " opened_at bigint NOT NULL, closed_at bigint, probability double precision NOT NULL,"
    " last_probability double precision NOT NULL, last_evaluated_at bigint NOT NULL,"
    " payload text NOT NULL);"
    /* One open episode per (tenant, kind, subject), whichever node opens it. */
    "CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant_id, kind, subject)"
    " WHERE closed_at IS NULL;"
    "CREATE INDEX alerts_by_tenant ON alerts (tenant_id, opened_at);"
    "CREATE TABLE webhook_outbox ("
    " event_id text NOT NULL, webhook_id text NOT NULL, tenant_id text NOT NULL,"
    " created_ms bigint NOT NULL, next_ms bigint NOT NULL, attempts integer NOT NULL,"
    " status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),"
    " delivered_ms bigint, last_error text, claimed_by text, claimed_until bigint,"
    " PRIMARY KEY (event_id, webhook_id));"
    "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_ms) WHERE status = 'pending';"
    "CREATE INDEX webhook_outbox_by_webhook ON webhook_outbox (webhook_id, status);"
    "CREATE TABLE webhook_deliveries ("
    " event_id text NOT NULL, webhook_id text NOT NULL, attempt integer NOT NULL,"
    " at_ms bigint NOT NULL, status_code integer, error text,"
    " duration_ms double precision NOT NULL,"
    " PRIMARY KEY (event_id, webhook_id, attempt));"
    "CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, at_ms);";

/* The per-customer daily rollups of segments (db_user_days.h), kept by a
 * trigger as migration 3 keeps txn_daily: a created row adds itself, an
 * updated one moves its old values out and its new ones in, a key whose
 * count reaches 0 is deleted; the transactions already stored are summed
 * once. Refund and purchase as core/segments reads them (fc_seg_day). */
#define UD_KEY "(tenant_id, currency, day, partner_id, user_id, transaction_type, category)"
#define UD_OLD                                                                           \
  "(old.tenant_id, old.currency, txn_day(old.action_date), old.partner_id, old.user_id," \
  " old.transaction_type, old.category)"
static const char migration_user_daily[] =
    "CREATE TABLE txn_user_daily ("
    " tenant_id text NOT NULL, currency text NOT NULL, partner_id text NOT NULL,"
    " user_id text NOT NULL, day bigint NOT NULL, transaction_type text NOT NULL,"
    " category text NOT NULL, scale integer NOT NULL, n bigint NOT NULL,"
    " purchases bigint NOT NULL, spend bigint NOT NULL, refund bigint NOT NULL,"
    " PRIMARY KEY " UD_KEY ");"
    "CREATE FUNCTION txn_bought(amount bigint, type text) RETURNS boolean LANGUAGE sql IMMUTABLE AS"
    " $$ SELECT amount > 0 AND type <> 'refund' $$;"
    "CREATE FUNCTION txn_refund(amount bigint, type text) RETURNS boolean LANGUAGE sql IMMUTABLE AS"
    " $$ SELECT amount < 0 OR type = 'refund' $$;"
    "CREATE FUNCTION txn_user_daily_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP = 'UPDATE' THEN"
    "  UPDATE txn_user_daily SET n = n - 1,"
    "   purchases = purchases - CASE WHEN txn_bought(old.amount, old.transaction_type) THEN 1 ELSE 0 END,"
    "   spend = spend - CASE WHEN txn_bought(old.amount, old.transaction_type) THEN old.amount ELSE 0 END,"
    "   refund = refund - CASE WHEN txn_refund(old.amount, old.transaction_type) THEN abs(old.amount) ELSE 0 END"
    "   WHERE " UD_KEY " = " UD_OLD ";"
    "  DELETE FROM txn_user_daily WHERE " UD_KEY " = " UD_OLD " AND n = 0;"
    " END IF;"
    " INSERT INTO txn_user_daily VALUES (new.tenant_id, new.currency, new.partner_id, new.user_id,"
    "  txn_day(new.action_date), new.transaction_type, new.category, new.scale, 1,"
    "  CASE WHEN txn_bought(new.amount, new.transaction_type) THEN 1 ELSE 0 END,"
    "  CASE WHEN txn_bought(new.amount, new.transaction_type) THEN new.amount ELSE 0 END,"
    "  CASE WHEN txn_refund(new.amount, new.transaction_type) THEN abs(new.amount) ELSE 0 END)"
    "  ON CONFLICT " UD_KEY " DO UPDATE SET n = txn_user_daily.n + 1,"
    "  purchases = txn_user_daily.purchases + excluded.purchases,"
    "  spend = txn_user_daily.spend + excluded.spend,"
    "  refund = txn_user_daily.refund + excluded.refund, scale = excluded.scale;"
    " RETURN NULL; END $$;"
    "CREATE TRIGGER txn_user_daily_keep AFTER INSERT OR UPDATE ON transactions"
    " FOR EACH ROW EXECUTE FUNCTION txn_user_daily_keep();"
    "INSERT INTO txn_user_daily SELECT tenant_id, currency, partner_id, user_id, txn_day(action_date),"
    " transaction_type, category, max(scale), count(*),"
    " sum(CASE WHEN txn_bought(amount, transaction_type) THEN 1 ELSE 0 END),"
    " sum(CASE WHEN txn_bought(amount, transaction_type) THEN amount ELSE 0 END),"
    " sum(CASE WHEN txn_refund(amount, transaction_type) THEN abs(amount) ELSE 0 END)"
    " FROM transactions"
    " GROUP BY tenant_id, currency, partner_id, user_id, txn_day(action_date), transaction_type, category;";

/* Migration 6: MASE and 95 % coverage among the realized figures
 * (db_perf.h): the realized steps gain their 95 % bounds and the MASE
 * scale, NULL for the steps realized before. */
static const char migration_realized_mase_coverage95[] =
    "ALTER TABLE prediction_realized ADD COLUMN lo95 double precision,"
    " ADD COLUMN hi95 double precision, ADD COLUMN scale double precision;";

/* Tenant time zones and their local-day rollups (db_tz.h): txn_daily's
 * columns with day the tenant's local day, kept by a trigger for tenants
 * with a zone (none: the trigger only looks). txn_local_day is the wall
 * clock's date in zone tz, PostgreSQL's reading of the same tzdata. No
 * back-fill: no tenant has a zone before this migration. */
#define LD_KEY "(tenant_id, partner_id, currency, day, transaction_type)"
/* The local-day trigger's work once it knows the zone tz (NULL: none);
 * migration_time_zones and migration_local_daily_zone_once share it. */
#define LD_KEEP_REST                                                                                        \
  " IF tz IS NULL THEN RETURN NULL; END IF;"                                                                \
  " IF TG_OP = 'UPDATE' THEN"                                                                               \
  "  UPDATE txn_local_daily SET n = n - 1, amount = amount - old.amount"                                    \
  "   WHERE " LD_KEY " = (old.tenant_id, old.partner_id, old.currency,"                                     \
  "   txn_local_day(old.action_date, tz), old.transaction_type);"                                           \
  "  DELETE FROM txn_local_daily"                                                                           \
  "   WHERE " LD_KEY " = (old.tenant_id, old.partner_id, old.currency,"                                     \
  "   txn_local_day(old.action_date, tz), old.transaction_type) AND n = 0;"                                 \
  " END IF;"                                                                                                \
  " INSERT INTO txn_local_daily VALUES (new.tenant_id, new.partner_id, new.currency,"                       \
  "  txn_local_day(new.action_date, tz), new.transaction_type, new.scale, 1, new.amount)"                   \
  "  ON CONFLICT " LD_KEY " DO UPDATE SET"                                                                  \
  "  n = txn_local_daily.n + 1, amount = txn_local_daily.amount + excluded.amount, scale = excluded.scale;" \
  " RETURN NULL; END $$;"
static const char migration_time_zones[] =
    "CREATE TABLE tenant_time_zones ("
    " tenant_id text PRIMARY KEY, time_zone text NOT NULL, updated_at bigint NOT NULL);"
    "CREATE TABLE txn_local_daily ("
    " tenant_id text NOT NULL, partner_id text NOT NULL, currency text NOT NULL,"
    " day bigint NOT NULL, transaction_type text NOT NULL, scale integer NOT NULL,"
    " n bigint NOT NULL, amount bigint NOT NULL,"
    " PRIMARY KEY " LD_KEY ");"
    "CREATE INDEX txn_local_daily_by_day ON txn_local_daily (tenant_id, day);"
    "CREATE FUNCTION txn_local_day(t bigint, tz text) RETURNS bigint LANGUAGE sql STABLE AS"
    " $$ SELECT floor(extract(epoch FROM (to_timestamp(t) AT TIME ZONE tz)) / 86400)::bigint $$;"
    "CREATE FUNCTION txn_local_daily_keep() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE tz text; BEGIN"
    " SELECT time_zone INTO tz FROM tenant_time_zones WHERE tenant_id = new.tenant_id;" LD_KEEP_REST
    "CREATE TRIGGER txn_local_daily_keep AFTER INSERT OR UPDATE ON transactions"
    " FOR EACH ROW EXECUTE FUNCTION txn_local_daily_keep();";

/* Migration: the order of alert evaluations across nodes (pg_alerts.c).
 * An evaluation takes a ticket from the sequence before it reads a tenant;
 * a subject's watermark is the newest ticket that judged it, raised in the
 * transaction that opens or closes its episode, so an evaluation of older
 * data that finishes last, on whichever node, writes nothing. IF NOT
 * EXISTS: a database taken back to an older version by dropping the later
 * migrations' objects (test_insights.py) may still hold these. */
static const char migration_alert_watermarks[] =
    "CREATE SEQUENCE IF NOT EXISTS alert_evaluation_tickets;"
    "CREATE TABLE IF NOT EXISTS alert_watermarks (tenant_id text NOT NULL, kind text NOT NULL,"
    " subject text NOT NULL, ticket bigint NOT NULL, PRIMARY KEY (tenant_id, kind, subject));";

/* The tenant's version of its txn_user_daily rows (db_user_days.h),
 * bumped by the store once per batch that created or updated any of its
 * transactions, in the batch's transaction (gw__pg_user_days_bump), so a
 * kept segments answer (segmemo.h) is never served after a commit that may
 * change it. IF NOT EXISTS: test_insights.py takes a database back to an
 * older version by dropping later migrations' objects. */
static const char migration_user_daily_versions[] =
    "CREATE TABLE IF NOT EXISTS txn_user_daily_versions (tenant_id text PRIMARY KEY, v bigint NOT NULL);";

/* The local-day trigger without a lookup per row: the store names the
 * ingesting tenant and its zone ('-': none) once per call in the
 * transaction's settings floatcast.tz_tenant and floatcast.tz (pg.c's
 * zone_once, after taking the transactions table's ROW EXCLUSIVE lock, so
 * that a zone change, which takes SHARE ROW EXCLUSIVE, cannot commit
 * between that read and the rows); a row of another tenant, or a writer
 * that set nothing, looks the zone up as before. */
static const char migration_local_daily_zone_once[] =
    "CREATE OR REPLACE FUNCTION txn_local_daily_keep() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE tz text; BEGIN"
    " IF current_setting('floatcast.tz_tenant', true) = new.tenant_id THEN"
    "  tz := nullif(current_setting('floatcast.tz', true), '-');"
    " ELSE"
    "  SELECT time_zone INTO tz FROM tenant_time_zones WHERE tenant_id = new.tenant_id;"
    " END IF;" LD_KEEP_REST;

/* The customers' local days (db_user_days.h): txn_user_daily's columns
 * with day the tenant's local day, kept by the local-day trigger beside
 * txn_local_daily (the same zone, read once per call as before), and
 * summed once for the tenants that have a zone. */
#define ULD_BOUGHT_OLD "CASE WHEN txn_bought(old.amount, old.transaction_type) THEN "
#define ULD_REFUND_OLD "CASE WHEN txn_refund(old.amount, old.transaction_type) THEN "
#define ULD_BOUGHT_NEW "CASE WHEN txn_bought(new.amount, new.transaction_type) THEN "
#define ULD_REFUND_NEW "CASE WHEN txn_refund(new.amount, new.transaction_type) THEN "
#define ULD_OLD                                                                                    \
  "(old.tenant_id, old.currency, txn_local_day(old.action_date, tz), old.partner_id, old.user_id," \
  " old.transaction_type, old.category)"
#define ULD_KEEP                                                                                         \
  " IF tz IS NOT NULL AND TG_OP = 'UPDATE' THEN"                                                         \
  "  UPDATE txn_user_local_daily SET n = n - 1,"                                                         \
  "   purchases = purchases - " ULD_BOUGHT_OLD "1 ELSE 0 END,"                                           \
  "   spend = spend - " ULD_BOUGHT_OLD "old.amount ELSE 0 END,"                                          \
  "   refund = refund - " ULD_REFUND_OLD "abs(old.amount) ELSE 0 END"                                    \
  "   WHERE " UD_KEY " = " ULD_OLD ";"                                                                   \
  "  DELETE FROM txn_user_local_daily WHERE " UD_KEY " = " ULD_OLD " AND n = 0;"                         \
  " END IF;"                                                                                             \
  " IF tz IS NOT NULL THEN"                                                                              \
  "  INSERT INTO txn_user_local_daily VALUES (new.tenant_id, new.currency, new.partner_id, new.user_id," \
  "   txn_local_day(new.action_date, tz), new.transaction_type, new.category, new.scale, 1,"             \
  "   " ULD_BOUGHT_NEW "1 ELSE 0 END, " ULD_BOUGHT_NEW "new.amount ELSE 0 END,"                          \
  "   " ULD_REFUND_NEW "abs(new.amount) ELSE 0 END)"                                                     \
  "   ON CONFLICT " UD_KEY " DO UPDATE SET n = txn_user_local_daily.n + 1,"                              \
  "   purchases = txn_user_local_daily.purchases + excluded.purchases,"                                  \
  "   spend = txn_user_local_daily.spend + excluded.spend,"                                              \
  "   refund = txn_user_local_daily.refund + excluded.refund, scale = excluded.scale;"                   \
  " END IF;"
#define ULD_STORED_ZONE "z.time_zone"
static const char migration_user_local_daily[] =
    "CREATE TABLE txn_user_local_daily ("
    " tenant_id text NOT NULL, currency text NOT NULL, partner_id text NOT NULL,"
    " user_id text NOT NULL, day bigint NOT NULL, transaction_type text NOT NULL,"
    " category text NOT NULL, scale integer NOT NULL, n bigint NOT NULL,"
    " purchases bigint NOT NULL, spend bigint NOT NULL, refund bigint NOT NULL,"
    " PRIMARY KEY " UD_KEY ");"
    "CREATE OR REPLACE FUNCTION txn_local_daily_keep() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE tz text; BEGIN"
    " IF current_setting('floatcast.tz_tenant', true) = new.tenant_id THEN"
    "  tz := nullif(current_setting('floatcast.tz', true), '-');"
    " ELSE"
    "  SELECT time_zone INTO tz FROM tenant_time_zones WHERE tenant_id = new.tenant_id;"
    " END IF;" ULD_KEEP LD_KEEP_REST "INSERT INTO txn_user_local_daily " PG_ULD_SUMS(
        ULD_STORED_ZONE) " JOIN tenant_time_zones z ON z.tenant_id = t.tenant_id GROUP BY 1, 2, 3, 4, 5, 6, 7;";

/* The rollups kept per statement instead of per row (ingestion in
 * batches: pg.c's put_txns inserts a batch's rows in one statement): two
 * statement-level triggers with transition tables, the inserted rows (nt)
 * and an update's old (ot) and new rows, whose signed sums (+1 new, -1
 * old) go into each rollup table as one upsert per distinct key; a key
 * whose count reaches 0 is deleted. The local days' zone as before: the
 * store's setting for its tenant, else the tenant's stored zone. IF
 * EXISTS / OR REPLACE: a test takes a database back to an older version
 * and applies the migrations after it again. */
#define RK_COLS "tenant_id, partner_id, user_id, action_date, currency, scale, amount, transaction_type, category"
#define RK_NEW  "SELECT " RK_COLS ", 1 AS s FROM nt"
#define RK_OLD  " UNION ALL SELECT " RK_COLS ", -1 FROM ot"
#define RK_SRC(ROWS)                                                                   \
  " (SELECT r.*, CASE WHEN current_setting('floatcast.tz_tenant', true) = r.tenant_id" \
  " THEN nullif(current_setting('floatcast.tz', true), '-')"                           \
  " ELSE (SELECT time_zone FROM tenant_time_zones z WHERE z.tenant_id = r.tenant_id) END AS tz FROM (" ROWS ") r) d"
/* The scale of a key's new rows (-1: only old ones: the stored one stays). */
#define RK_SCALE         " coalesce(max(scale) FILTER (WHERE s = 1), -1)"
#define RK_KEEP_SCALE(T) " scale = CASE WHEN excluded.scale < 0 THEN " T ".scale ELSE excluded.scale END"
#define RK_BOUGHT        "CASE WHEN txn_bought(amount, transaction_type) THEN "
#define RK_REFUND        "CASE WHEN txn_refund(amount, transaction_type) THEN "
/* txn_daily (DAY: txn_day) or txn_local_daily (txn_local_day with tz). */
#define RK_DAILY(T, DAY, SRC, WHERE)                                                                    \
  " INSERT INTO " T " AS t SELECT tenant_id, partner_id, currency, " DAY ", transaction_type," RK_SCALE \
  ", sum(s), sum(s * amount) FROM" SRC WHERE " GROUP BY 1, 2, 3, 4, 5"                                  \
  " HAVING sum(s) <> 0 OR sum(s * amount) <> 0"                                                         \
  " ON CONFLICT (tenant_id, partner_id, currency, day, transaction_type) DO UPDATE SET"                 \
  " n = t.n + excluded.n, amount = t.amount + excluded.amount," RK_KEEP_SCALE("t") ";"
#define RK_DAILY_DROP(T, DAY, SRC, WHERE)                                                                        \
  " DELETE FROM " T " t WHERE t.n = 0 AND (t.tenant_id, t.partner_id, t.currency, t.day, t.transaction_type) IN" \
  " (SELECT tenant_id, partner_id, currency, " DAY ", transaction_type FROM" SRC WHERE " AND s < 0);"
/* txn_user_daily or txn_user_local_daily. */
#define RK_USERS(T, DAY, SRC, WHERE)                                                                          \
  " INSERT INTO " T " AS t SELECT tenant_id, currency, partner_id, user_id, " DAY ", transaction_type,"       \
  " category," RK_SCALE ", sum(s), sum(" RK_BOUGHT "s ELSE 0 END), sum(" RK_BOUGHT "s * amount ELSE 0 END),"  \
  " sum(" RK_REFUND "s * abs(amount) ELSE 0 END) FROM" SRC WHERE " GROUP BY 1, 2, 3, 4, 5, 6, 7"              \
  " HAVING sum(s) <> 0 OR sum(s * amount) <> 0"                                                               \
  " ON CONFLICT " UD_KEY " DO UPDATE SET n = t.n + excluded.n, purchases = t.purchases + excluded.purchases," \
  " spend = t.spend + excluded.spend, refund = t.refund + excluded.refund," RK_KEEP_SCALE("t") ";"
#define RK_USERS_DROP(T, DAY, SRC, WHERE)                                                            \
  " DELETE FROM " T " t WHERE t.n = 0 AND (t.tenant_id, t.currency, t.day, t.partner_id, t.user_id," \
  " t.transaction_type, t.category) IN (SELECT tenant_id, currency, " DAY ", partner_id, user_id,"   \
  " transaction_type, category FROM" SRC WHERE " AND s < 0);"
#define RK_UTC   "txn_day(action_date)"
#define RK_LOCAL "txn_local_day(action_date, tz)"
#define RK_ALL(SRC)                                                   \
  RK_DAILY("txn_daily", RK_UTC, SRC, " WHERE true")                   \
  RK_USERS("txn_user_daily", RK_UTC, SRC, " WHERE true")              \
  RK_DAILY("txn_local_daily", RK_LOCAL, SRC, " WHERE tz IS NOT NULL") \
  RK_USERS("txn_user_local_daily", RK_LOCAL, SRC, " WHERE tz IS NOT NULL")
#define RK_DROPS(SRC)                                                      \
  RK_DAILY_DROP("txn_daily", RK_UTC, SRC, " WHERE true")                   \
  RK_USERS_DROP("txn_user_daily", RK_UTC, SRC, " WHERE true")              \
  RK_DAILY_DROP("txn_local_daily", RK_LOCAL, SRC, " WHERE tz IS NOT NULL") \
  RK_USERS_DROP("txn_user_local_daily", RK_LOCAL, SRC, " WHERE tz IS NOT NULL")
static const char migration_rollups_per_statement[] =
    "DROP TRIGGER IF EXISTS txn_daily_keep ON transactions;"
    "DROP TRIGGER IF EXISTS txn_user_daily_keep ON transactions;"
    "DROP TRIGGER IF EXISTS txn_local_daily_keep ON transactions;"
    "DROP FUNCTION IF EXISTS txn_daily_keep(), txn_user_daily_keep(), txn_local_daily_keep();"
    "CREATE OR REPLACE FUNCTION txn_rollups_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP = 'UPDATE' THEN" RK_ALL(RK_SRC(RK_NEW RK_OLD)) RK_DROPS(RK_SRC(RK_NEW RK_OLD)) " ELSE" RK_ALL(
        RK_SRC(RK_NEW)) " END IF;"
                        " RETURN NULL; END $$;"
                        "DROP TRIGGER IF EXISTS txn_rollups_inserted ON transactions;"
                        "DROP TRIGGER IF EXISTS txn_rollups_updated ON transactions;"
                        "CREATE TRIGGER txn_rollups_inserted AFTER INSERT ON transactions REFERENCING NEW TABLE AS nt"
                        " FOR EACH STATEMENT EXECUTE FUNCTION txn_rollups_keep();"
                        "CREATE TRIGGER txn_rollups_updated AFTER UPDATE ON transactions REFERENCING OLD TABLE AS ot "
                        "NEW TABLE AS nt"
                        " FOR EACH STATEMENT EXECUTE FUNCTION txn_rollups_keep();";

/* The migrations in order: migrations[i] brings the database to version
 * i + 1. Append only; a released migration never changes. */
static const char *const migrations[] = {migration_1,
                                         migration_2,
                                         migration_3,
                                         migration_4,
                                         migration_5,
                                         migration_scenarios,
                                         migration_alerts,
                                         migration_user_daily,
                                         migration_realized_mase_coverage95,
                                         migration_time_zones,
                                         migration_alert_watermarks,
                                         migration_user_daily_versions,
                                         migration_local_daily_zone_once,
                                         migration_user_local_daily,
                                         migration_rollups_per_statement};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- statements ---- */

void pg_arg_text(pg_args *a, const char *s) {
  a->v[a->n] = s;
  a->len[a->n] = 0;
  a->fmt[a->n++] = 0;
}

void pg_arg_i64(pg_args *a, int64_t v) {
  snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)v);
  pg_arg_text(a, a->num[a->n]);
}

void pg_arg_time(pg_args *a, int64_t t) {
  if (t == FC_TIME_NONE) pg_arg_text(a, NULL);
  else pg_arg_i64(a, t);
}

void pg_arg_bytes(pg_args *a, const void *p, size_t n) {
  a->v[a->n] = p;
  a->len[a->n] = (int)n;
  a->fmt[a->n++] = 1;
}

int pg_fail(PGconn *c, fc_err *err, const char *what, const PGresult *r) {
  const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (!msg) msg = c ? PQerrorMessage(c) : "no connection";
  /* libpq's messages end with a newline. */
  size_t n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) n--;
  /* A server that is down, restarting or went away mid-call: the call was
   * aborted, not wrong (answered 503, worth a retry). */
  int code = !c || PQstatus(c) != CONNECTION_OK ? FC_EABORTED : FC_ECORRUPT;
  return fc_err_set(err, code, "postgresql: %s: %.*s", what, (int)n, msg);
}

PGresult *pg_exec(PGconn *c, const char *sql, const pg_args *a, const char *what, fc_err *err) {
  PGresult *r = a ? PQexecParams(c, sql, a->n, NULL, a->v, a->len, a->fmt, 0)
                  : PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
  ExecStatusType s = PQresultStatus(r);
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return r;
  pg_fail(c, err, what, r);
  PQclear(r);
  return NULL;
}

int pg_do(PGconn *c, const char *sql, const pg_args *a, const char *what, fc_err *err) {
  PGresult *r = pg_exec(c, sql, a, what, err);
  PQclear(r);
  return r ? FC_OK : pg_failed(err);
}

int64_t pg_i64(const PGresult *r, int row, int col) { return strtoll(PQgetvalue(r, row, col), NULL, 10); }

const char *pg_text(const PGresult *r, int row, int col) { return PQgetvalue(r, row, col); /* "" for NULL */ }

int pg_null(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col); }

int64_t pg_time(const PGresult *r, int row, int col) {
  return pg_null(r, row, col) ? FC_TIME_NONE : pg_i64(r, row, col);
}

void pg_json_time(fc_buf *out, const PGresult *r, int row, int col) {
  char ts[FC_TIME_STR];
  if (pg_null(r, row, col)) {
    fc_buf_puts(out, "null");
    return;
  }
  fc_time_format(pg_i64(r, row, col), ts);
  fc_buf_printf(out, "\"%s\"", ts);
}

/* ---- pool ---- */

static int open_conn(const char *uri, PGconn **out, fc_err *err) {
  /* libpq waits for ever on an unreachable host by default, and a thread
   * of the pool with it: 5 s unless the URI says otherwise (its own
   * parameters, expanded after, win). */
  static const char *const keys[] = {"connect_timeout", "dbname", NULL};
  const char *values[] = {"5", uri, NULL};
  PGconn *c = PQconnectdbParams(keys, values, 1);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    int rc = pg_fail(c, err, "connect", NULL);
    PQfinish(c);
    *out = NULL;
    return rc;
  }
  *out = c;
  return FC_OK;
}

/* *fresh = 1 when the connection was just opened (not a pooled one that a
 * server restart may have broken). */
int pg_acquire(gw_pg *pg, PGconn **out, int *fresh, fc_err *err) {
  uv_mutex_lock(&pg->lock);
  *out = pg->n_idle > 0 ? pg->idle[--pg->n_idle] : NULL;
  uv_mutex_unlock(&pg->lock);
  *fresh = *out == NULL;
  return *out ? FC_OK : open_conn(pg->uri, out, err);
}

/* A broken connection usually means the server restarted: every pooled
 * connection is then as stale, so all go. */
static void drop_idle(gw_pg *pg) {
  uv_mutex_lock(&pg->lock);
  while (pg->n_idle > 0) PQfinish(pg->idle[--pg->n_idle]);
  uv_mutex_unlock(&pg->lock);
}

void pg_release(gw_pg *pg, PGconn *c) {
  if (PQstatus(c) != CONNECTION_OK) drop_idle(pg);
  if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
    uv_mutex_lock(&pg->lock);
    if (pg->n_idle < POOL_MAX) {
      pg->idle[pg->n_idle++] = c;
      c = NULL;
    }
    uv_mutex_unlock(&pg->lock);
  }
  PQfinish(c); /* a no-op for NULL */
}

int pg_run(gw_pg *pg, int ro, pg_fn fn, void *arg, fc_err *err) {
  const char *begin = ro ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
  PGconn *c = NULL;
  int rc = FC_ECORRUPT;
  for (int attempt = 0; attempt < 2; attempt++) {
    int fresh;
    rc = pg_acquire(pg, &c, &fresh, err);
    if (rc != FC_OK) return rc;
    rc = pg_do(c, begin, NULL, "begin", err);
    if (rc == FC_OK || fresh || PQstatus(c) == CONNECTION_OK) break;
    PQfinish(c);
    c = NULL;
    drop_idle(pg);
  }
  if (!c) return rc;
  if (rc == FC_OK) rc = fn(c, arg, err);
  if (rc == FC_OK) rc = pg_do(c, "COMMIT", NULL, "commit", err);
  if (rc != FC_OK && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
    PGresult *r = PQexec(c, "ROLLBACK");
    PQclear(r);
  }
  if (PQstatus(c) != CONNECTION_OK) drop_idle(pg);
  pg_release(pg, c);
  return rc;
}

/* ---- migrations ---- */

static int migrate(PGconn *c, void *arg, fc_err *err) {
  (void)arg;
  /* One node migrates at a time; the others then find it done. */
  int rc = pg_do(c, "SELECT pg_advisory_xact_lock(7239001)", NULL, "migration lock", err);
  if (rc == FC_OK)
    rc = pg_do(c,
               "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
               " applied_at timestamptz NOT NULL DEFAULT now())",
               NULL, "schema_migrations", err);
  PGresult *r = rc == FC_OK
                    ? pg_exec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, "schema version", err)
                    : NULL;
  if (!r) return pg_failed(err);
  int have = (int)pg_i64(r, 0, 0);
  PQclear(r);
  if (have > N_MIGRATIONS)
    return fc_err_set(err, FC_EUNSUPPORTED, "postgresql: the schema is at version %d, newer than this gateway's %d",
                      have, N_MIGRATIONS);
  for (int v = have + 1; v <= N_MIGRATIONS && rc == FC_OK; v++) {
    /* PQexec: a migration is several statements without parameters. */
    PGresult *m = PQexec(c, migrations[v - 1]);
    if (PQresultStatus(m) != PGRES_COMMAND_OK) rc = pg_fail(c, err, "migration", m);
    PQclear(m);
    pg_args a = {0};
    pg_arg_i64(&a, v);
    if (rc == FC_OK)
      rc = pg_do(c, "INSERT INTO schema_migrations (version) VALUES ($1::integer)", &a, "migration", err);
  }
  return rc;
}

int gw_pg_open(const char *uri, gw_pg **out, fc_err *err) {
  *out = NULL;
  gw_pg *pg = calloc(1, sizeof *pg);
  if (!pg || !(pg->uri = strdup(uri))) {
    free(pg);
    return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  if (uv_mutex_init(&pg->lock) != 0) {
    free(pg->uri);
    free(pg);
    return fc_err_set(err, FC_ENOMEM, "cannot create a mutex");
  }
  int rc = pg_run(pg, 0, migrate, NULL, err);
  if (rc != FC_OK) {
    gw_pg_close(pg);
    return rc;
  }
  *out = pg;
  return FC_OK;
}

void gw_pg_close(gw_pg *pg) {
  if (!pg) return;
  drop_idle(pg);
  uv_mutex_destroy(&pg->lock);
  free(pg->uri);
  free(pg);
}

/* ---- records ---- */

static int is_empty_fn(PGconn *c, void *arg, fc_err *err) {
  PGresult *r = pg_exec(c,
                        "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM transfers)"
                        " OR EXISTS (SELECT 1 FROM streams)",
                        NULL, "is empty", err);
  if (!r) return pg_failed(err);
  *(int *)arg = strcmp(pg_text(r, 0, 0), "t") != 0;
  PQclear(r);
  return FC_OK;
}

int gw_pg_is_empty(gw_pg *pg, int *empty, fc_err *err) { return pg_run(pg, 1, is_empty_fn, empty, err); }

/* An upsert writes only when some column differs (the WHERE), and
 * RETURNING says whether the row was inserted (xmax = 0) or updated; no
 * row back means present and equal: unchanged. */
static const char *upsert_sql(fc_record_kind k) {
  switch (k) {
  case FC_RECORD_ACCOUNTS:
    return "INSERT INTO accounts AS t (tenant_id, id, currency, scale, balance_available,"
           " allow_overdraft) VALUES ($1, $2, $3, $4, $5, $6)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET currency = excluded.currency,"
           " scale = excluded.scale, balance_available = excluded.balance_available,"
           " allow_overdraft = excluded.allow_overdraft"
           " WHERE (t.currency, t.scale, t.balance_available, t.allow_overdraft) IS DISTINCT FROM"
           " (excluded.currency, excluded.scale, excluded.balance_available,"
           " excluded.allow_overdraft) RETURNING (xmax = 0)";
  case FC_RECORD_TRANSFERS:
    return "INSERT INTO transfers AS t (tenant_id, id, from_account_id, to_account_id,"
           " currency, scale, amount, status, created_at, scheduled_for)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET from_account_id = excluded.from_account_id,"
           " to_account_id = excluded.to_account_id, currency = excluded.currency,"
           " scale = excluded.scale, amount = excluded.amount, status = excluded.status,"
           " created_at = excluded.created_at, scheduled_for = excluded.scheduled_for"
           " WHERE (t.from_account_id, t.to_account_id, t.currency, t.scale, t.amount, t.status,"
           " t.created_at, t.scheduled_for) IS DISTINCT FROM (excluded.from_account_id,"
           " excluded.to_account_id, excluded.currency, excluded.scale, excluded.amount,"
           " excluded.status, excluded.created_at, excluded.scheduled_for) RETURNING (xmax = 0)";
  case FC_RECORD_STREAMS:
    return "INSERT INTO streams AS t (tenant_id, id, currency, scale, flow_rate, funded_amount,"
           " total_streamed, status, started_at, cancelled_at, total_paused_seconds,"
           " last_pause_at, flow_rate_decimals)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET currency = excluded.currency,"
           " scale = excluded.scale, flow_rate = excluded.flow_rate,"
           " flow_rate_decimals = excluded.flow_rate_decimals,"
           " funded_amount = excluded.funded_amount, total_streamed = excluded.total_streamed,"
           " status = excluded.status, started_at = excluded.started_at,"
           " cancelled_at = excluded.cancelled_at,"
           " total_paused_seconds = excluded.total_paused_seconds,"
           " last_pause_at = excluded.last_pause_at"
           " WHERE (t.currency, t.scale, t.flow_rate, t.flow_rate_decimals, t.funded_amount,"
           " t.total_streamed, t.status, t.started_at, t.cancelled_at, t.total_paused_seconds,"
           " t.last_pause_at) IS DISTINCT FROM (excluded.currency, excluded.scale,"
           " excluded.flow_rate, excluded.flow_rate_decimals, excluded.funded_amount,"
           " excluded.total_streamed, excluded.status, excluded.started_at,"
           " excluded.cancelled_at, excluded.total_paused_seconds, excluded.last_pause_at)"
           " RETURNING (xmax = 0)";
  default: return NULL;
  }
}

/* The arguments of row i of batch b (accounts, transfers, streams). */
static void row_args(const fc_batch *b, fc_record_kind kind, size_t i, pg_args *a) {
  memset(a, 0, sizeof *a);
  if (kind == FC_RECORD_ACCOUNTS) {
    const fc_account *x = &fc_batch_accounts(b)[i];
    pg_arg_text(a, x->tenant_id), pg_arg_text(a, x->id), pg_arg_text(a, x->currency);
    pg_arg_i64(a, x->scale), pg_arg_i64(a, x->balance_available), pg_arg_i64(a, x->allow_overdraft);
  } else if (kind == FC_RECORD_TRANSFERS) {
    const fc_transfer *x = &fc_batch_transfers(b)[i];
    pg_arg_text(a, x->tenant_id), pg_arg_text(a, x->id), pg_arg_text(a, x->from_account_id);
    pg_arg_text(a, x->to_account_id), pg_arg_text(a, x->currency), pg_arg_i64(a, x->scale);
    pg_arg_i64(a, x->amount), pg_arg_text(a, fc_transfer_status_name(x->status));
    pg_arg_i64(a, x->created_at), pg_arg_time(a, x->scheduled_for);
  } else if (kind == FC_RECORD_STREAMS) {
    const fc_stream *x = &fc_batch_streams(b)[i];
    pg_arg_text(a, x->tenant_id), pg_arg_text(a, x->id), pg_arg_text(a, x->currency);
    pg_arg_i64(a, x->scale), pg_arg_i64(a, x->flow_rate.units), pg_arg_i64(a, x->funded_amount);
    pg_arg_i64(a, x->total_streamed), pg_arg_text(a, fc_stream_status_name(x->status));
    pg_arg_i64(a, x->started_at), pg_arg_time(a, x->cancelled_at);
    pg_arg_i64(a, x->total_paused_seconds), pg_arg_time(a, x->last_pause_at);
    pg_arg_i64(a, x->flow_rate.decimals);
  }
}

/* A batch of transactions in one statement: the rows as arrays (unnest),
 * upserted as one row at a time would be, the rollups kept by the
 * statement's triggers once (migration_rollups_per_statement). A batch
 * holds each id once (fc_batch_parse refuses a repeat); were one repeated,
 * the statement would fail ("cannot affect row a second time") and the
 * transaction store nothing. */
static const char txn_batch_sql[] =
    "INSERT INTO transactions AS t (tenant_id, id, partner_id, user_id, action_date,"
    " currency, scale, amount, transaction_type, category)"
    " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],"
    " $7::integer[], $8::bigint[], $9::text[], $10::text[])"
    " ON CONFLICT (tenant_id, id) DO UPDATE SET partner_id = excluded.partner_id,"
    " user_id = excluded.user_id, action_date = excluded.action_date,"
    " currency = excluded.currency, scale = excluded.scale, amount = excluded.amount,"
    " transaction_type = excluded.transaction_type, category = excluded.category"
    " WHERE (t.partner_id, t.user_id, t.action_date, t.currency, t.scale, t.amount,"
    " t.transaction_type, t.category) IS DISTINCT FROM (excluded.partner_id,"
    " excluded.user_id, excluded.action_date, excluded.currency, excluded.scale,"
    " excluded.amount, excluded.transaction_type, excluded.category)"
    " RETURNING (xmax = 0)";

#define TXN_ARRAYS 9

/* Appends s to an array literal's elements ("..." with \ and " escaped;
 * NULL: NULL). */
static void array_text(fc_buf *b, const char *s) {
  if (b->len > 1) fc_buf_putc(b, ',');
  if (!s) {
    fc_buf_puts(b, "NULL");
    return;
  }
  fc_buf_putc(b, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') fc_buf_putc(b, '\\');
    fc_buf_putc(b, *p);
  }
  fc_buf_putc(b, '"');
}

static void array_int(fc_buf *b, int64_t v) {
  if (b->len > 1) fc_buf_putc(b, ',');
  fc_buf_put_int(b, v);
}

/* The batch's columns as the statement's array literals, NUL-terminated. */
static void txn_arrays(const fc_transaction *x, size_t n, fc_buf *col) {
  for (int k = 0; k < TXN_ARRAYS; k++) fc_buf_putc(&col[k], '{');
  for (size_t i = 0; i < n; i++) {
    array_text(&col[0], x[i].id), array_text(&col[1], x[i].partner_id), array_text(&col[2], x[i].user_id);
    array_int(&col[3], x[i].action_date), array_text(&col[4], x[i].currency), array_int(&col[5], x[i].scale);
    array_int(&col[6], x[i].amount), array_text(&col[7], x[i].transaction_type);
    array_text(&col[8], x[i].category ? x[i].category : "");
  }
  for (int k = 0; k < TXN_ARRAYS; k++) fc_buf_append(&col[k], "}", 2);
}

static int put_txns(PGconn *c, const char *tenant, const fc_batch *b, gw_store_counts *n, fc_err *err) {
  size_t rows = fc_batch_count(b);
  fc_buf col[TXN_ARRAYS];
  pg_args a = {0};
  int rc = FC_OK;
  for (int k = 0; k < TXN_ARRAYS; k++) fc_buf_init(&col[k]);
  txn_arrays(fc_batch_transactions(b), rows, col);
  pg_arg_text(&a, tenant);
  for (int k = 0; k < TXN_ARRAYS; k++) {
    if (fc_buf_failed(&col[k])) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
    pg_arg_text(&a, col[k].data);
  }
  PGresult *res = rc == FC_OK ? PQexecParams(c, txn_batch_sql, a.n, NULL, a.v, a.len, a.fmt, 0) : NULL;
  if (rc == FC_OK && PQresultStatus(res) != PGRES_TUPLES_OK) rc = pg_fail(c, err, "insert", res);
  for (int i = 0; rc == FC_OK && i < PQntuples(res); i++)
    if (!strcmp(pg_text(res, i, 0), "t")) n->created++;
    else n->updated++;
  if (rc == FC_OK) n->unchanged += rows - (size_t)PQntuples(res);
  PQclear(res);
  for (int k = 0; k < TXN_ARRAYS; k++) fc_buf_free(&col[k]);
  return rc;
}

/* One batch: transactions in one statement (put_txns), other
 * records through their upsert prepared once (unnamed), run per row. */
static int put_batch(PGconn *c, const char *tenant, const fc_batch *b, gw_store_counts *n, fc_err *err) {
  fc_record_kind kind = fc_batch_kind(b);
  const char *sql = upsert_sql(kind);
  if (kind == FC_RECORD_TRANSACTIONS) {
    size_t changed = n->created + n->updated;
    if (!tenant) return fc_err_set(err, FC_EINVAL, "transactions need a tenant");
    int rc = put_txns(c, tenant, b, n, err);
    /* Once per batch, not per row. */
    return rc == FC_OK && n->created + n->updated > changed ? gw__pg_user_days_bump(c, tenant, err) : rc;
  }
  if (!sql) return fc_err_set(err, FC_EUNSUPPORTED, "storing %s records is not supported", fc_record_kind_name(kind));
  PGresult *p = PQprepare(c, "", sql, 0, NULL);
  int rc = PQresultStatus(p) == PGRES_COMMAND_OK ? FC_OK : pg_fail(c, err, "insert", p);
  PQclear(p);
  size_t rows = fc_batch_count(b);
  for (size_t i = 0; i < rows && rc == FC_OK; i++) {
    pg_args a;
    row_args(b, kind, i, &a);
    PGresult *r = PQexecPrepared(c, "", a.n, a.v, a.len, a.fmt, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) rc = pg_fail(c, err, "insert", r);
    else if (PQntuples(r) == 0) n->unchanged++;
    else if (!strcmp(pg_text(r, 0, 0), "t")) n->created++;
    else n->updated++;
    PQclear(r);
  }
  return rc;
}

typedef struct store_args {
  const char *tenant;
  const fc_batch *const *batches;
  size_t n;
  gw_store_counts got;
} store_args;

/* The tenant's zone, read once for the local-day trigger (see
 * migration_local_daily_zone_once), in this transaction's settings. */
static int zone_once(PGconn *c, const char *tenant, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  int rc = pg_do(c, "LOCK TABLE transactions IN ROW EXCLUSIVE MODE", NULL, "time zone", err);
  if (rc == FC_OK)
    rc = pg_do(c,
               "SELECT set_config('floatcast.tz_tenant', $1, true), set_config('floatcast.tz',"
               " coalesce((SELECT time_zone FROM tenant_time_zones WHERE tenant_id = $1), '-'), true)",
               &a, "time zone", err);
  return rc;
}

static int store_fn(PGconn *c, void *arg, fc_err *err) {
  store_args *s = arg;
  int rc = FC_OK;
  int zone_read = 0;
  memset(&s->got, 0, sizeof s->got);
  for (size_t i = 0; i < s->n && rc == FC_OK; i++) {
    if (!zone_read && s->tenant && fc_batch_kind(s->batches[i]) == FC_RECORD_TRANSACTIONS) {
      zone_read = 1;
      rc = zone_once(c, s->tenant, err);
    }
    if (rc == FC_OK) rc = put_batch(c, s->tenant, s->batches[i], &s->got, err);
  }
  return rc;
}

int gw_pg_store_batches(gw_pg *pg, const char *tenant, const fc_batch *const *batches, size_t n,
                        gw_store_counts *counts, fc_err *err) {
  store_args s = {tenant, batches, n, {0, 0, 0}};
  int rc = pg_run(pg, 0, store_fn, &s, err);
  if (rc == FC_OK && counts) *counts = s.got;
  return rc;
}

typedef struct default_args {
  char *out;
  size_t cap;
} default_args;

static int default_fn(PGconn *c, void *arg, fc_err *err) {
  default_args *d = arg;
  PGresult *r = pg_exec(c,
                        "SELECT tenant_id FROM accounts GROUP BY tenant_id"
                        " ORDER BY tenant_id <> 'demo', tenant_id COLLATE \"C\" LIMIT 2",
                        NULL, "tenants", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  if (PQntuples(r) == 0) {
    rc = fc_err_set(err, FC_ENOTFOUND, "the database holds no accounts");
  } else {
    snprintf(d->out, d->cap, "%s", pg_text(r, 0, 0));
    if (PQntuples(r) > 1 && strcmp(d->out, "demo") != 0)
      rc = fc_err_set(err, FC_EINVAL, "several tenants hold data and none is \"demo\"");
  }
  PQclear(r);
  return rc;
}

int gw_pg_default_tenant(gw_pg *pg, char *out, size_t cap, fc_err *err) {
  default_args d = {out, cap};
  return pg_run(pg, 1, default_fn, &d, err);
}

static int transfer_status(const char *s) {
  for (int k = FC_TRANSFER_PENDING; k <= FC_TRANSFER_CANCELLED; k++)
    if (strcmp(s, fc_transfer_status_name((fc_transfer_status)k)) == 0) return k;
  return -1;
}

static int stream_status(const char *s) {
  for (int k = FC_STREAM_ACTIVE; k <= FC_STREAM_CANCELLED; k++)
    if (strcmp(s, fc_stream_status_name((fc_stream_status)k)) == 0) return k;
  return -1;
}

static int row_account(const PGresult *r, int i, fc_treasury *t, fc_err *err) {
  fc_account a;
  memset(&a, 0, sizeof a);
  a.tenant_id = pg_text(r, i, 0);
  a.id = pg_text(r, i, 1);
  snprintf(a.currency, sizeof a.currency, "%s", pg_text(r, i, 2));
  a.scale = (int)pg_i64(r, i, 3);
  a.balance_available = pg_i64(r, i, 4);
  a.allow_overdraft = (int)pg_i64(r, i, 5);
  return fc_treasury_put_account(t, &a, err);
}

static int row_transfer(const PGresult *r, int i, fc_treasury *t, fc_err *err) {
  fc_transfer x;
  memset(&x, 0, sizeof x);
  x.tenant_id = pg_text(r, i, 0);
  x.id = pg_text(r, i, 1);
  x.from_account_id = pg_text(r, i, 2);
  x.to_account_id = pg_text(r, i, 3);
  snprintf(x.currency, sizeof x.currency, "%s", pg_text(r, i, 4));
  x.scale = (int)pg_i64(r, i, 5);
  x.amount = pg_i64(r, i, 6);
  int s = transfer_status(pg_text(r, i, 7));
  if (s < 0) return fc_err_set(err, FC_ECORRUPT, "transfer %s: bad status in database", x.id);
  x.status = (fc_transfer_status)s;
  x.created_at = pg_i64(r, i, 8);
  x.scheduled_for = pg_time(r, i, 9);
  return fc_treasury_put_transfer(t, &x, err);
}

static int row_stream(const PGresult *r, int i, fc_treasury *t, fc_err *err) {
  fc_stream x;
  memset(&x, 0, sizeof x);
  x.tenant_id = pg_text(r, i, 0);
  x.id = pg_text(r, i, 1);
  snprintf(x.currency, sizeof x.currency, "%s", pg_text(r, i, 2));
  x.scale = (int)pg_i64(r, i, 3);
  x.flow_rate.units = pg_i64(r, i, 4);
  x.flow_rate.decimals = (int)pg_i64(r, i, 12);
  x.funded_amount = pg_i64(r, i, 5);
  x.total_streamed = pg_i64(r, i, 6);
  int s = stream_status(pg_text(r, i, 7));
  if (s < 0) return fc_err_set(err, FC_ECORRUPT, "stream %s: bad status in database", x.id);
  x.status = (fc_stream_status)s;
  x.started_at = pg_i64(r, i, 8);
  x.cancelled_at = pg_time(r, i, 9);
  x.total_paused_seconds = pg_i64(r, i, 10);
  x.last_pause_at = pg_time(r, i, 11);
  return fc_treasury_put_stream(t, &x, err);
}

typedef int (*row_fn)(const PGresult *r, int i, fc_treasury *t, fc_err *err);

static int load_table(PGconn *c, const char *sql, const char *tenant, row_fn fn, fc_treasury *t, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  PGresult *r = pg_exec(c, sql, &a, "load", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  for (int i = 0; i < PQntuples(r) && rc == FC_OK; i++) rc = fn(r, i, t, err);
  PQclear(r);
  return rc;
}

typedef struct load_args {
  const char *tenant;
  fc_treasury *t;
} load_args;

/* One REPEATABLE READ snapshot: the three tables agree. */
static int load_fn(PGconn *c, void *arg, fc_err *err) {
  load_args *l = arg;
  int rc = load_table(c,
                      "SELECT tenant_id, id, currency, scale, balance_available, allow_overdraft"
                      " FROM accounts WHERE tenant_id = $1 ORDER BY seq",
                      l->tenant, row_account, l->t, err);
  if (rc == FC_OK)
    rc = load_table(c,
                    "SELECT tenant_id, id, from_account_id, to_account_id, currency, scale, amount,"
                    " status, created_at, scheduled_for FROM transfers WHERE tenant_id = $1"
                    " ORDER BY seq",
                    l->tenant, row_transfer, l->t, err);
  if (rc == FC_OK)
    rc = load_table(c,
                    "SELECT tenant_id, id, currency, scale, flow_rate, funded_amount, total_streamed,"
                    " status, started_at, cancelled_at, total_paused_seconds, last_pause_at,"
                    " flow_rate_decimals FROM streams WHERE tenant_id = $1 ORDER BY seq",
                    l->tenant, row_stream, l->t, err);
  return rc;
}

int gw_pg_load_tenant(gw_pg *pg, const char *tenant, fc_treasury *t, fc_err *err) {
  load_args l = {tenant, t};
  return pg_run(pg, 1, load_fn, &l, err);
}
