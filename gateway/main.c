/* main.c: floatcast-gateway's config and flags, startup and clean
 * shutdown, and the `usage export` subcommand.
 *
 *   floatcast-gateway [--config FILE] [--listen HOST:PORT] [--db PATH]
 *                     [--web DIR] [--seed-demo] [--quiet] [--idle-timeout MS]
 *                     [--request-timeout MS] [--max-connections N]
 *                     [--header-timeout MS] [--max-connections-per-address N]
 *                     [--anon-rate R] [--anon-burst B] [--cache-ttl S]
 *                     [--sync normal|full] [--checkpoint-ms MS] [--checkpoint-pages N]
 *                     [--webhook-allow CIDR,...] [--alert-period-ms MS]
 *                     [--webhook-lease-ms MS] [--webhook-ca FILE]
 *   floatcast-gateway usage export --db PATH --from T --to T [--tenant ID]
 *                     [--granularity day|hour] [--format csv|json]
 *
 * The config file is a JSON object with the same settings (listen, db,
 * web, admin_key, anon_rate, anon_burst, cache_ttl_seconds, sync,
 * checkpoint_ms, checkpoint_pages) and
 * "tiers": {name: {tier fields as PUT /v1/admin/tiers}}; flags override
 * it. The admin key comes from FLOATCAST_ADMIN_KEY, else the config.
 * The usage export lives in this binary rather than in the `floatcast`
 * CLI because the CLI links only the core, which has no SQLite.
 *
 * --listen defaults to 127.0.0.1:8080 (port 0 picks a free one); --db to
 * floatcast.db; without --web no static files are served. --seed-demo
 * stores the demo tenant (gw_db_seed_demo) when the database is empty.
 * Once listening, the first line on stdout is "listening on http://H:P/",
 * and every tenant with transactions gets a retraining job that skips the
 * series whose champion model already covers their data (registry.h).
 * SIGINT or SIGTERM drains the server, closes every handle and frees
 * everything, so a sanitizer run ends with no leak.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <math.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "auth.h"
#include "cache.h"
#include "db.h"
#include "db_rollups.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif
#include "metering.h"
#include "alerts.h"
#include "netpolicy.h"
#include "performance.h"
#include "experiments.h"
#include "webhooks.h"
#include "metrics.h"
#include "flowmodels.h"
#include "gate.h"
#include "handlers.h"
#include "registry.h"
#include "segmemo.h"
#include "server.h"
#include "db_sessions.h"
#include "sessions.h"

#include "fc/time.h"

/* Below the automatic checkpoint's backstop (gw_meter_defaults). */
#define CHECKPOINT_PAGES_MAX 16384

typedef struct options {
  char host[64];
  int port;
  const char *db_path;
  const char *web_dir;
  int seed_demo;
  int quiet;
  int no_rollup_reads; /* insights recompute from raw rows (benchmark "before") */
  long segments_memo;  /* kept segments answers (segmemo.h); 0: none */
  long idle_ms, request_ms, max_conns, header_ms, max_per_addr;
  long compute_queue, queue_ms; /* the gate in front of the thread pool (gate.h) */
  double anon_rate;
  long anon_burst, cache_ttl_s;
  long session_ttl_s; /* lifetime of a browser session (sessions.h) */
  int sync_full;
  int single_process; /* --db-single-process: SQLite's unix-excl VFS (db.h) */
  long checkpoint_ms;
  long checkpoint_pages; /* WAL size at which a busy writer's WAL is copied back */
  const char *admin_key;
  const char *redis_url; /* limits shared by several nodes (shared.h) */
  int fallback_local;
  long nodes;
  json_t *config;             /* the --config document, kept for its strings and tiers */
  gw_netpolicy webhook_allow; /* exceptions to the refused webhook targets (netpolicy.h) */
  long alert_period_ms;       /* re-evaluation of every tenant's alerts (alerts.h) */
  long webhook_lease_ms;      /* a node's claim on the outbox rows it sends (webhooks.h) */
  const char *webhook_ca;     /* extra CAs trusted for https:// webhooks (tls.h) */
} options;

static void usage(FILE *f) {
  fprintf(f, "usage: floatcast-gateway [--listen HOST:PORT] [--db PATH] [--web DIR]\n"
             "                         [--seed-demo] [--quiet] [--idle-timeout MS]\n"
             "                         [--request-timeout MS] [--max-connections N]\n"
             "  --listen HOST:PORT  address to serve on (127.0.0.1:8080; port 0: any free)\n"
             "  --db PATH|URI       SQLite database, created if missing (floatcast.db), or\n"
             "                      postgresql://USER@HOST:PORT/DB (shared by several nodes)\n"
             "  --redis URL         redis://HOST:PORT: rate limits, quotas, revocations and\n"
             "                      cache generations shared by every node\n"
             "  --limits-fallback closed|local  Redis unreachable: refuse partner calls\n"
             "                      (503, closed) or admit under r/N, b/N per node (local)\n"
             "  --nodes N           N of the local fallback (1)\n"
             "  --web DIR           directory of static files (the Treasury page)\n"
             "  --seed-demo         store the demo tenant when the database is empty\n"
             "  --quiet             no access log\n"
             "  --no-rollup-reads   insights read raw transactions, not the daily rollups\n"
             "  --segments-memo N   segments answers kept until their customers' rows\n"
             "                      change, recomputed after ingestion (8; 0: none)\n"
             "  --idle-timeout MS   close a keep-alive connection idle this long (5000)\n"
             "  --request-timeout MS  answer 408 to a request not received whole in this\n"
             "                      time from its first byte (10000)\n"
             "  --max-connections N open connections at most; more are closed at once (1024)\n"
             "  --header-timeout MS close a connection whose request head is not complete\n"
             "                      this long after it opened or the request began (5000)\n"
             "  --max-connections-per-address N  open connections from one client address\n"
             "                      at most; more are closed at once (64; 0: no cap)\n"
             "  --config FILE       JSON config (listen, db, web, admin_key, anon_rate,\n"
             "                      anon_burst, cache_ttl_seconds, sync, db_single_process,\n"
             "                      tiers); flags win\n"
             "  --anon-rate R       requests/s per address without a valid key (20)\n"
             "  --anon-burst B      their burst (40)\n"
             "  --cache-ttl S       seconds an insight answer is cached (300)\n"
             "  --session-ttl S     seconds a browser session lives (1800)\n"
             "  --sync normal|full  usage commits survive a crash (normal) or power loss (full)\n"
             "  --db-single-process this process alone opens the SQLite file (locked for\n"
             "                      others, usage export included, while it runs): no\n"
             "                      file locking per transaction\n"
             "  --checkpoint-ms MS  how often the WAL checkpoint thread looks at the WAL (100);\n"
             "                      0: SQLite checkpoints inside the usage commits instead\n"
             "  --checkpoint-pages N  WAL pages at which it copies the WAL back (8192; an\n"
             "                      idle writer's from an eighth of that)\n"
             "  --compute-queue N   thread-pool calls that may wait for a thread (256); more:\n"
             "                      503 overloaded\n"
             "  --queue-timeout MS  longest wait for a thread; then 503 overloaded (5000)\n"
             "  --webhook-allow CIDR,...  webhook targets allowed although private,\n"
             "                      loopback or link-local (e.g. 127.0.0.1/32)\n"
             "  --alert-period-ms MS  re-evaluate every tenant's depletion alerts this often\n"
             "                      besides after each ingestion (3600000: hourly)\n"
             "  --webhook-lease-ms MS  on PostgreSQL, how long a node holds the webhook\n"
             "                      deliveries it took before another node may send them\n"
             "                      (60000; at least 1000; timeouts are capped at a third)\n"
             "  --webhook-ca FILE   PEM CA certificates trusted for https:// webhooks besides\n"
             "                      the system store (a private CA)\n"
             "usage: floatcast-gateway usage export --db PATH --from T --to T [--tenant ID]\n"
             "                         [--granularity day|hour] [--format csv|json]\n");
}

/* "HOST:PORT", "[::1]:PORT": FC_OK, or FC_EINVAL for anything else. */
static int parse_listen(const char *s, options *o) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s) return FC_EINVAL;
  const char *h = s;
  size_t hn = (size_t)(colon - s);
  if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
    h++;
    hn -= 2;
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (hn == 0 || hn >= sizeof o->host || *end != '\0' || colon[1] == '\0' || port < 0 || port > 65535) return FC_EINVAL;
  memcpy(o->host, h, hn);
  o->host[hn] = '\0';
  o->port = (int)port;
  return FC_OK;
}

static const char *flag_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "floatcast-gateway: %s needs a value\n", name);
    exit(2);
  }
  return argv[++*i];
}

/* A whole number in 1..3600000 (milliseconds, or a count): FC_OK, or
 * FC_ERANGE after saying so on stderr. */
static int parse_ms(const char *flag, const char *v, long *out) {
  char *end;
  long ms = strtol(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || *end != '\0' || ms < 1 || ms > 3600000) {
    fprintf(stderr, "floatcast-gateway: %s: expected a whole number in 1..3600000\n", flag);
    return FC_ERANGE;
  }
  *out = ms;
  return FC_OK;
}

/* Applies the config file's settings; flags parsed later override them. */
static int load_config(const char *path, options *o) {
  json_error_t je;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!j || !json_is_object(j)) {
    fprintf(stderr, "floatcast-gateway: --config %s: %s (line %d)\n", path, j ? "expected a JSON object" : je.text,
            je.line);
    json_decref(j);
    return 2;
  }
  const char *k;
  json_t *v;
  json_object_foreach(j, k, v) {
    int ok = 1;
    if (!strcmp(k, "listen")) ok = json_is_string(v) && parse_listen(json_string_value(v), o) == FC_OK;
    else if (!strcmp(k, "db")) ok = json_is_string(v) && (o->db_path = json_string_value(v));
    else if (!strcmp(k, "web")) ok = json_is_string(v) && (o->web_dir = json_string_value(v));
    else if (!strcmp(k, "admin_key")) ok = json_is_string(v) && (o->admin_key = json_string_value(v));
    else if (!strcmp(k, "anon_rate")) ok = json_is_number(v) && (o->anon_rate = json_number_value(v)) >= 0.001;
    else if (!strcmp(k, "anon_burst")) ok = json_is_integer(v) && (o->anon_burst = (long)json_integer_value(v)) >= 1;
    else if (!strcmp(k, "cache_ttl_seconds"))
      ok = json_is_integer(v) && (o->cache_ttl_s = (long)json_integer_value(v)) >= 0;
    else if (!strcmp(k, "sync")) ok = json_is_string(v) && (o->sync_full = !strcmp(json_string_value(v), "full"), 1);
    else if (!strcmp(k, "db_single_process")) ok = json_is_boolean(v) && (o->single_process = json_is_true(v), 1);
    else if (!strcmp(k, "checkpoint_ms"))
      ok = json_is_integer(v) && (o->checkpoint_ms = (long)json_integer_value(v)) >= 0 && o->checkpoint_ms <= 3600000;
    else if (!strcmp(k, "checkpoint_pages"))
      ok = json_is_integer(v) && (o->checkpoint_pages = (long)json_integer_value(v)) >= 1 &&
           o->checkpoint_pages <= CHECKPOINT_PAGES_MAX;
    else if (!strcmp(k, "tiers")) ok = json_is_object(v);
    else ok = 0;
    if (!ok) {
      fprintf(stderr, "floatcast-gateway: --config %s: bad or unknown setting '%s'\n", path, k);
      json_decref(j);
      return 2;
    }
  }
  o->config = j;
  return 0;
}

/* The number of request threads (pool.h), the size libuv gives its own
 * pool (background jobs): UV_THREADPOOL_SIZE clamped to 1..1024, else 4. */
static unsigned pool_threads(void) {
  const char *v = getenv("UV_THREADPOOL_SIZE");
  long n = v && *v ? strtol(v, NULL, 10) : 4;
  return n < 1 ? 1u : n > 1024 ? 1024u : (unsigned)n;
}

static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  strcpy(o->host, "127.0.0.1");
  o->port = 8080;
  o->db_path = "floatcast.db";
  o->idle_ms = 5000;
  o->request_ms = 10000;
  o->max_conns = 1024;
  o->header_ms = 5000;
  o->max_per_addr = 64;
  o->anon_rate = 20;
  o->anon_burst = 40;
  o->cache_ttl_s = 300;
  o->segments_memo = 8;
  o->session_ttl_s = GW_SESSION_TTL_DEFAULT;
  o->checkpoint_ms = 100;
  o->checkpoint_pages = gw_meter_defaults().checkpoint_frames;
  o->compute_queue = 256;
  o->queue_ms = 5000;
  o->alert_period_ms = 3600000;
  o->webhook_lease_ms = 60000;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--config") == 0 && load_config(argv[i + 1], o) != 0) return 2;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = flag_value(argc, argv, &i, "--config"))) {
      continue;
    } else if ((v = flag_value(argc, argv, &i, "--anon-rate"))) {
      char *end;
      o->anon_rate = strtod(v, &end);
      if (*end || !(o->anon_rate >= 0.001 && o->anon_rate <= 1e9)) {
        fprintf(stderr, "floatcast-gateway: --anon-rate: expected a number in 0.001..1e9\n");
        return 2;
      }
    } else if ((v = flag_value(argc, argv, &i, "--anon-burst"))) {
      if (parse_ms("--anon-burst", v, &o->anon_burst) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--cache-ttl"))) {
      if (parse_ms("--cache-ttl", v, &o->cache_ttl_s) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--session-ttl"))) {
      if (parse_ms("--session-ttl", v, &o->session_ttl_s) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--sync"))) {
      if (strcmp(v, "full") && strcmp(v, "normal")) {
        fprintf(stderr, "floatcast-gateway: --sync: expected normal or full\n");
        return 2;
      }
      o->sync_full = !strcmp(v, "full");
    } else if ((v = flag_value(argc, argv, &i, "--checkpoint-ms"))) {
      if (strcmp(v, "0") != 0 && parse_ms("--checkpoint-ms", v, &o->checkpoint_ms) != 0) return 2;
      if (strcmp(v, "0") == 0) o->checkpoint_ms = 0;
    } else if ((v = flag_value(argc, argv, &i, "--checkpoint-pages"))) {
      if (parse_ms("--checkpoint-pages", v, &o->checkpoint_pages) != 0) return 2;
      if (o->checkpoint_pages > CHECKPOINT_PAGES_MAX) {
        fprintf(stderr, "floatcast-gateway: --checkpoint-pages: at most %d (the in-commit backstop is above)\n",
                CHECKPOINT_PAGES_MAX);
        return 2;
      }
    } else if ((v = flag_value(argc, argv, &i, "--compute-queue"))) {
      if (strcmp(v, "0") == 0) o->compute_queue = 0;
      else if (parse_ms("--compute-queue", v, &o->compute_queue) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--queue-timeout"))) {
      if (parse_ms("--queue-timeout", v, &o->queue_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--alert-period-ms"))) {
      if (parse_ms("--alert-period-ms", v, &o->alert_period_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--webhook-lease-ms"))) {
      if (parse_ms("--webhook-lease-ms", v, &o->webhook_lease_ms) != 0) return 2;
      if (o->webhook_lease_ms < 1000) {
        fprintf(stderr, "floatcast-gateway: --webhook-lease-ms: at least 1000 (a delivery's timeouts "
                        "are a third of it)\n");
        return 2;
      }
    } else if ((v = flag_value(argc, argv, &i, "--webhook-ca"))) {
      o->webhook_ca = v;
    } else if ((v = flag_value(argc, argv, &i, "--webhook-allow"))) {
      fc_err err;
      if (gw_netpolicy_parse(v, &o->webhook_allow, &err) != FC_OK) {
        fprintf(stderr, "floatcast-gateway: --webhook-allow: %s\n", err.msg);
        return 2;
      }
    } else if ((v = flag_value(argc, argv, &i, "--listen"))) {
      if (parse_listen(v, o) != 0) {
        fprintf(stderr, "floatcast-gateway: --listen: expected HOST:PORT, got '%s'\n", v);
        return 2;
      }
    } else if ((v = flag_value(argc, argv, &i, "--db"))) {
      o->db_path = v;
    } else if ((v = flag_value(argc, argv, &i, "--redis"))) {
      o->redis_url = v;
    } else if ((v = flag_value(argc, argv, &i, "--limits-fallback"))) {
      if (strcmp(v, "closed") && strcmp(v, "local")) {
        fprintf(stderr, "floatcast-gateway: --limits-fallback: expected closed or local\n");
        return 2;
      }
      o->fallback_local = !strcmp(v, "local");
    } else if ((v = flag_value(argc, argv, &i, "--nodes"))) {
      if (parse_ms("--nodes", v, &o->nodes) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--web"))) {
      o->web_dir = v;
    } else if ((v = flag_value(argc, argv, &i, "--idle-timeout"))) {
      if (parse_ms("--idle-timeout", v, &o->idle_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--request-timeout"))) {
      if (parse_ms("--request-timeout", v, &o->request_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--max-connections"))) {
      if (parse_ms("--max-connections", v, &o->max_conns) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--header-timeout"))) {
      if (parse_ms("--header-timeout", v, &o->header_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--max-connections-per-address"))) {
      if (strcmp(v, "0") == 0) o->max_per_addr = 0;
      else if (parse_ms("--max-connections-per-address", v, &o->max_per_addr) != 0) return 2;
    } else if (strcmp(argv[i], "--db-single-process") == 0) {
      o->single_process = 1;
    } else if (strcmp(argv[i], "--seed-demo") == 0) {
      o->seed_demo = 1;
    } else if (strcmp(argv[i], "--quiet") == 0) {
      o->quiet = 1;
    } else if (strcmp(argv[i], "--no-rollup-reads") == 0) {
      o->no_rollup_reads = 1;
    } else if ((v = flag_value(argc, argv, &i, "--segments-memo"))) {
      if (strcmp(v, "0") == 0) o->segments_memo = 0;
      else if (parse_ms("--segments-memo", v, &o->segments_memo) != 0) return 2;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "floatcast-gateway: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  return 0;
}

/* Opens the store (and seeds the demo tenant when asked); FC_OK, or the
 * store's status after saying why on stderr. */
static int open_db(const options *o, gw_db **db) {
  fc_err err;
  int empty = 0;
  fc_err_clear(&err);
  int flags = (o->sync_full ? GW_DB_SYNC_FULL : 0) | (o->single_process ? GW_DB_SINGLE_PROCESS : 0);
  int rc = gw_db_open(o->db_path, flags, db, &err);
  if (rc == FC_OK) gw_db_set_rollup_reads(*db, !o->no_rollup_reads);
  if (rc == FC_OK && o->seed_demo) rc = gw_db_is_empty(*db, &empty, &err);
  if (rc == FC_OK && o->seed_demo && empty) {
    rc = gw_db_seed_demo(*db, &err);
    if (rc == FC_OK) fprintf(stderr, "floatcast-gateway: stored the demo tenant in %s\n", o->db_path);
  }
  if (rc != FC_OK) {
    fprintf(stderr, "floatcast-gateway: %s: %s\n", o->db_path, err.msg[0] ? err.msg : fc_strerror(rc));
    gw_db_close(*db);
    *db = NULL;
  }
  return rc;
}

/* The tiers every database starts with (kept if already defined):
 * free: daily and weekly, 30-day horizon; pro: hourly to quarterly, 90
 * days; enterprise: every granularity, a year. */
#define GW_GRAN_CALENDAR (GW_GRAN_DAY | GW_GRAN_WEEK | GW_GRAN_MONTH | GW_GRAN_QUARTER)
static const gw_tier default_tiers[] = {
    {"free", {5000, 10}, 10000, 720, 90, GW_GRAN_DAY | GW_GRAN_WEEK, 1},
    {"pro", {50000, 100}, 1000000, 2160, 365, GW_GRAN_HOUR | GW_GRAN_CALENDAR, 2},
    {"enterprise", {1000000, 2000}, 0, 8760, 3650, GW_GRAN_HOUR | GW_GRAN_CALENDAR, 4},
};

/* A tier object of the config file (fields as PUT /v1/admin/tiers):
 * FC_OK, or FC_EINVAL for a value that is not one. */
static int config_tier(const char *name, json_t *v, gw_tier *t) {
  json_t *g = json_object_get(v, "granularities"), *x;
  size_t i;
  memset(t, 0, sizeof *t);
  if (!json_is_object(v) || strlen(name) >= sizeof t->name || !json_is_array(g)) return FC_EINVAL;
  snprintf(t->name, sizeof t->name, "%s", name);
  json_array_foreach(g, i, x) t->granularities |= json_is_string(x) ? gw_granularity_bit(json_string_value(x)) : 0;
  t->rate.rate_milli = llround(json_number_value(json_object_get(v, "rate_per_second")) * 1000.0);
  t->rate.burst = json_integer_value(json_object_get(v, "burst"));
  t->monthly_quota = json_integer_value(json_object_get(v, "monthly_quota"));
  t->max_horizon_hours = (int)json_integer_value(json_object_get(v, "max_horizon_hours"));
  t->max_history_days = (int)json_integer_value(json_object_get(v, "max_history_days"));
  json_t *mc = json_object_get(v, "max_concurrent");
  t->max_concurrent = mc ? (int)json_integer_value(mc) : GW_TIER_MAX_CONCURRENT;
  return t->rate.rate_milli >= 1 && t->rate.burst >= 1 && t->monthly_quota >= 0 && t->max_horizon_hours >= 1 &&
                 t->max_history_days >= 1 && t->granularities && t->max_concurrent >= 1 && t->max_concurrent <= 1024
             ? FC_OK
             : FC_EINVAL;
}

static int put_tier_cb(const gw_tier *t, void *arg) { return gw_auth_put_tier(arg, t); }
static int put_key_cb(const gw_key_info *k, void *arg) { return gw_auth_put_key(arg, k); }

typedef struct quota_ctx {
  gw_auth *auth;
  int64_t month;
} quota_ctx;

static void quota_cb(const char *tenant, int64_t calls, void *arg) {
  quota_ctx *q = arg;
  (void)gw_auth_set_quota_used(q->auth, tenant, q->month, calls);
}

/* Tiers (defaults, then the config's), keys and this month's quota use
 * from the database into the registry. */
static int load_registry(const options *o, gw_db *db, gw_auth *auth, fc_err *err) {
  int rc = FC_OK;
  for (size_t i = 0; rc == FC_OK && i < sizeof default_tiers / sizeof default_tiers[0]; i++)
    rc = gw_db_tier_add_missing(db, &default_tiers[i], err);
  json_t *tiers = o->config ? json_object_get(o->config, "tiers") : NULL, *v;
  const char *name;
  json_object_foreach(tiers, name, v) {
    gw_tier t;
    if (rc != FC_OK) break;
    if (config_tier(name, v, &t) != FC_OK) return fc_err_set(err, FC_EINVAL, "config: bad tier '%s'", name);
    rc = gw_db_tier_put(db, &t, err);
  }
  if (rc == FC_OK) rc = gw_db_tiers_each(db, put_tier_cb, auth, err);
  if (rc == FC_OK) rc = gw_db_keys_each(db, put_key_cb, auth, err);
  quota_ctx q = {auth, gw_month_of((int64_t)time(NULL))};
  if (rc == FC_OK) rc = gw_db_usage_served_since(db, gw_month_start(q.month), quota_cb, &q, err);
  return rc;
}

static int put_session_cb(const gw_session_info *s, void *arg) { return gw_sessions_put(arg, s, (int64_t)time(NULL)); }

/* The browser sessions still live, from the database (sessions.h). */
static int load_sessions(const options *o, gw_app *app, fc_err *err) {
  app->sessions = gw_sessions_create(o->session_ttl_s);
  if (!app->sessions) return fc_err_set(err, FC_ENOMEM, "sessions: out of memory");
  return gw_db_sessions_load(app->db, (int64_t)time(NULL), put_session_cb, app->sessions, err);
}

/* --seed-demo: the demo tenant exists, and a fresh "pro" key replaces the
 * keys earlier starts seeded (a key is shown once, so each start issues one
 * to show); keys an admin issued for the demo tenant stay valid. */
static int seed_demo_key(gw_db *db, gw_auth *auth, char key[GW_KEY_LEN + 1], fc_err *err) {
  gw_key_info k;
  int exists = 0;
  int64_t now = (int64_t)time(NULL);
  int rc = gw_db_tenant_exists(db, "demo", &exists, err);
  if (rc == FC_OK && !exists) rc = gw_db_tenant_create(db, "demo", "Demo tenant", now, err);
  memset(&k, 0, sizeof k);
  if (rc == FC_OK && gw_key_generate(k.id, key, k.hash) != FC_OK)
    rc = fc_err_set(err, FC_EUNSUPPORTED, "no system randomness");
  snprintf(k.tenant, sizeof k.tenant, "demo");
  snprintf(k.tier, sizeof k.tier, "pro");
  if (rc == FC_OK) rc = gw_db_key_insert_seeded(db, &k, now, err);
  if (rc == FC_OK) rc = gw_db_keys_each(db, put_key_cb, auth, err);
  return rc;
}

typedef struct runtime {
  uv_signal_t sigint, sigterm;
  gw_server *server;
  gw_meter *meter;
  gw_registry *registry;
  gw_webhooks *webhooks;
  gw_alerts *alerts;
  gw_perf *perf;
  gw_app *app;
} runtime;

static void on_signal(uv_signal_t *h, int signum) {
  runtime *rt = h->data;
  fprintf(stderr, "floatcast-gateway: signal %d, shutting down\n", signum);
  uv_close((uv_handle_t *)&rt->sigint, NULL);
  uv_close((uv_handle_t *)&rt->sigterm, NULL);
  gw_registry_stop(rt->registry); /* a running job finishes; none starts */
  gw_alerts_stop(rt->alerts);
  gw_webhooks_stop(rt->webhooks); /* rows in flight stay pending: sent after the next start */
  gw_server_shutdown(rt->server);
}

/* Every connection is gone: commit what metering holds and stop it. */
static void on_drained(void *arg) {
  runtime *rt = arg;
  gw_meter_stop(rt->meter);
#ifdef FC_WITH_REDIS
  gw_shared_close(rt->app->shared); /* settlements were sent before this */
#endif
}

/* Startup: a job per tenant with transactions, for stale series only,
 * and one per tenant with transfers, for its treasury flow model. */
static void retrain_at_start(const char *tenant, void *arg) {
  gw_retrain_opts ro = gw_retrain_defaults();
  ro.only_stale = 1;
  gw_registry_request(arg, tenant, &ro);
}

static void fit_flows_at_start(const char *tenant, void *arg) {
  gw_retrain_opts ro = gw_retrain_defaults();
  ro.what = GW_RETRAIN_TREASURY;
  gw_registry_request(arg, tenant, &ro);
}

/* After a treasury refit: depletion alerts, then the cash-flow forecasts
 * realized against the new transfers. */
static void treasury_hooks(const char *tenant, fc_buf *result, void *arg) {
  runtime *rt = arg;
  if (rt->alerts) gw_alerts_registry_hook(tenant, result, rt->alerts);
  if (rt->perf) gw_perf_treasury_hook(tenant, result, rt->perf);
}

/* After an ingestion, before the revenue retraining: the tenant's kept
 * segments answers recomputed (segmemo.h), first, so that the next request
 * finds them soonest (the realization loads every transaction again), then
 * the served forecasts realized against the new transactions. */
static void revenue_hooks(const char *tenant, fc_buf *result, void *arg) {
  runtime *rt = arg;
  if (rt->app->segmemo) gw_segments_refresh(rt->app, tenant);
  if (rt->perf) gw_perf_registry_hook(tenant, result, rt->perf);
}

/* The webhook dispatcher and the alert evaluations (after each flow-model
 * refit, and hourly). 1 with err set when they cannot start. */
static int start_alerting(uv_loop_t *loop, const options *o, gw_app *app, runtime *rt, fc_err *err) {
  gw_webhooks_params wp = gw_webhooks_defaults();
  wp.policy = &o->webhook_allow;
  wp.lease_ms = (uint64_t)o->webhook_lease_ms;
  wp.ca_file = o->webhook_ca;
  app->webhook_policy = &o->webhook_allow;
  if (gw_webhooks_start(loop, app->db, wp, &rt->webhooks, err) != FC_OK) return 1;
  if (gw_alerts_create(loop, app->db, app->flowmodels, rt->webhooks, (uint64_t)o->alert_period_ms, &rt->alerts, err) !=
      FC_OK)
    return 1;
  rt->perf = app->perf;
  app->webhooks = rt->webhooks;
  app->alerts = rt->alerts;
  gw_registry_on_treasury(rt->registry, treasury_hooks, rt);
  if (app->perf) gw_perf_set_actions(app->perf, rt->registry, rt->webhooks);
  gw_registry_on_revenue(rt->registry, revenue_hooks, rt);
  return 0;
}

/* --redis: limits shared by every node, asked of Redis per partner call. */
static int start_shared(const options *o, uv_loop_t *loop, gw_app *app, fc_err *err) {
  if (!o->redis_url) return FC_OK;
#ifdef FC_WITH_REDIS
  gw_shared_params sp;
  sp.url = o->redis_url;
  /* A reservation outlives any call of a live node; a dead node's go
   * after this. */
  sp.hold_ms = o->request_ms + o->queue_ms + 60000;
  sp.fallback_local = o->fallback_local;
  sp.nodes = o->nodes > 0 ? (int)o->nodes : 1;
  int rc = gw_shared_create(loop, &sp, app->db, app->auth, gw_server_shared_verdict, &app->shared, err);
  if (rc == FC_OK) gw_auth_set_shared(app->auth, 1);
  if (rc == FC_OK && app->sessions) gw_shared_set_sessions(app->shared, app->sessions);
  /* The --seed-demo key (and the revocation of the previous one) is only
   * in the database so far: the key generation tells the other nodes now,
   * as an admin's key change does. Without Redis they find it in their
   * periodic reload (1 s while Redis is down, 5 s otherwise). */
  if (rc == FC_OK && o->seed_demo && gw_shared_keys_changed(app->shared, NULL) != FC_OK)
    fprintf(stderr, "floatcast-gateway: --seed-demo: Redis unreachable: the other nodes learn the "
                    "demo key from the database within 5 s\n");
  return rc;
#else
  (void)loop;
  (void)app;
  return fc_err_set(err, FC_EUNSUPPORTED, "--redis: this gateway was built without hiredis (install libhiredis-dev)");
#endif
}

static int serve(const options *o, gw_app *app, const char *demo_key) {
  uv_loop_t loop;
  runtime rt;
  fc_err err;
  gw_server_config cfg = gw_server_defaults();
  cfg.host = o->host;
  cfg.port = o->port;
  cfg.access_log = !o->quiet;
  cfg.idle_ms = (uint64_t)o->idle_ms;
  cfg.request_ms = (uint64_t)o->request_ms;
  cfg.max_connections = (unsigned)o->max_conns;
  cfg.max_per_address = (unsigned)o->max_per_addr;
  cfg.header_ms = (uint64_t)o->header_ms;
  cfg.queue_ms = (uint64_t)o->queue_ms;
  cfg.on_drained = on_drained;
  cfg.drained_arg = &rt;
  if (uv_loop_init(&loop) != 0) return 1;
  fc_err_clear(&err);
  rt.registry = NULL;
  rt.webhooks = NULL;
  rt.alerts = NULL;
  rt.perf = NULL;
  if (gw_registry_create(&loop, app->db, app->cache, app->flowmodels, &rt.registry, &err) != FC_OK) {
    fprintf(stderr, "floatcast-gateway: %s\n", err.msg);
    uv_loop_close(&loop);
    return 1;
  }
  gw_meter_params mp = gw_meter_defaults();
  mp.checkpoint_ms = (uint64_t)o->checkpoint_ms;
  mp.checkpoint_frames = (int)o->checkpoint_pages;
  if (gw_meter_start(&loop, app->db, mp, gw_server_metered, NULL, &rt.meter, &err) != FC_OK) {
    fprintf(stderr, "floatcast-gateway: %s\n", err.msg);
    gw_registry_stop(rt.registry);
    uv_run(&loop, UV_RUN_DEFAULT); /* closes a half-started meter's handle */
    gw_meter_destroy(rt.meter);
    gw_registry_destroy(rt.registry);
    uv_loop_close(&loop);
    return 1;
  }
  app->meter = rt.meter;
  app->registry = rt.registry;
  rt.app = app;
  /* Only a malformed URL fails, before the shared state opened a handle. */
  int setup_rc = start_shared(o, &loop, app, &err) == FC_OK ? start_alerting(&loop, o, app, &rt, &err) : 1;
  int rc = setup_rc == 0 ? gw_server_start(&loop, &cfg, app, &rt.server) : UV_EINVAL;
  if (rc != 0) {
    if (setup_rc != 0) fprintf(stderr, "floatcast-gateway: %s\n", err.msg);
    else fprintf(stderr, "floatcast-gateway: cannot listen on %s:%d: %s\n", o->host, o->port, uv_strerror(rc));
#ifdef FC_WITH_REDIS
    gw_shared_close(app->shared);
#endif
    gw_meter_stop(rt.meter);
    gw_registry_stop(rt.registry);
    gw_alerts_stop(rt.alerts);
    gw_webhooks_stop(rt.webhooks);
    uv_run(&loop, UV_RUN_DEFAULT);
    gw_alerts_destroy(rt.alerts);
    gw_webhooks_destroy(rt.webhooks);
    app->alerts = NULL;
    app->webhooks = NULL;
    gw_meter_destroy(rt.meter);
    gw_registry_destroy(rt.registry);
    app->registry = NULL;
#ifdef FC_WITH_REDIS
    gw_shared_free(app->shared);
    app->shared = NULL;
#endif
    uv_loop_close(&loop);
    return 1;
  }
  uv_signal_init(&loop, &rt.sigint);
  uv_signal_init(&loop, &rt.sigterm);
  rt.sigint.data = rt.sigterm.data = &rt;
  uv_signal_start(&rt.sigint, on_signal, SIGINT);
  uv_signal_start(&rt.sigterm, on_signal, SIGTERM);
  int v6 = strchr(o->host, ':') != NULL;
  printf("listening on http://%s%s%s:%d/\n", v6 ? "[" : "", o->host, v6 ? "]" : "", gw_server_port(rt.server));
  if (demo_key) printf("demo key (tenant demo, tier pro): %s\n", demo_key);
  if (app->web_root)
    printf("Treasury page: http://%s%s%s:%d/%s\n", v6 ? "[" : "", o->host, v6 ? "]" : "", gw_server_port(rt.server),
           demo_key ? " (sign in with the demo key above)" : "");
  fflush(stdout);
  if (gw_db_transaction_tenants(app->db, retrain_at_start, rt.registry, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: startup retraining: %s\n", err.msg);
  if (gw_db_treasury_tenants(app->db, fit_flows_at_start, rt.registry, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: startup flow models: %s\n", err.msg);
  uv_run(&loop, UV_RUN_DEFAULT);
#ifdef FC_WITH_REDIS
  gw_shared_free(app->shared);
  app->shared = NULL;
#endif
  gw_server_destroy(rt.server);
  gw_alerts_destroy(rt.alerts);
  gw_webhooks_destroy(rt.webhooks);
  app->alerts = NULL;
  app->webhooks = NULL;
  gw_meter_destroy(rt.meter);
  gw_registry_destroy(rt.registry);
  app->meter = NULL;
  app->registry = NULL;
  rc = uv_loop_close(&loop);
  if (rc != 0) fprintf(stderr, "floatcast-gateway: loop closed with live handles\n");
  return rc != 0;
}

/* floatcast-gateway usage export ...: the committed usage table as CSV
 * (or JSON rows) on stdout, for billing. */
static int usage_export(int argc, char **argv) {
  const char *db_path = NULL, *from_s = NULL, *to_s = NULL, *tenant = NULL, *gran = "day", *format = "csv";
  for (int i = 3; i < argc; i++) {
    const char *v;
    if ((v = flag_value(argc, argv, &i, "--db"))) db_path = v;
    else if ((v = flag_value(argc, argv, &i, "--from"))) from_s = v;
    else if ((v = flag_value(argc, argv, &i, "--to"))) to_s = v;
    else if ((v = flag_value(argc, argv, &i, "--tenant"))) tenant = v;
    else if ((v = flag_value(argc, argv, &i, "--granularity"))) gran = v;
    else if ((v = flag_value(argc, argv, &i, "--format"))) format = v;
    else {
      fprintf(stderr, "floatcast-gateway usage export: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  int64_t from, to, total = 0;
  fc_err err;
  fc_err_clear(&err);
  if (!db_path || !from_s || !to_s || (strcmp(gran, "day") && strcmp(gran, "hour")) ||
      (strcmp(format, "csv") && strcmp(format, "json")) ||
      fc_time_parse(from_s, strlen(from_s), &from, &err) != FC_OK ||
      fc_time_parse(to_s, strlen(to_s), &to, &err) != FC_OK || to <= from) {
    fprintf(stderr,
            "floatcast-gateway usage export: need --db, --from < --to (dates or ISO "
            "times), --granularity day|hour, --format csv|json%s%s\n",
            err.msg[0] ? ": " : "", err.msg);
    return 2;
  }
  gw_db *db = NULL;
  fc_buf out;
  fc_buf_init(&out);
  int rc = gw_db_open(db_path, 0, &db, &err);
  if (rc == FC_OK) rc = gw_db_usage_write(db, tenant, from, to, gran[0] == 'h', format[0] == 'c', &out, &total, &err);
  if (rc == FC_OK && format[0] == 'j') fc_buf_putc(&out, '\n');
  if (rc == FC_OK && !fc_buf_failed(&out)) fwrite(out.data, 1, out.len, stdout);
  else fprintf(stderr, "floatcast-gateway usage export: %s\n", err.msg[0] ? err.msg : "out of memory");
  fc_buf_free(&out);
  gw_db_close(db);
  return rc == FC_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  options o;
  gw_app app;
  gw_metrics metrics;
  char web_root[PATH_MAX], demo_key[GW_KEY_LEN + 1];
  fc_err err;
  memset(&app, 0, sizeof app);
  memset(&metrics, 0, sizeof metrics);
  if (argc >= 3 && !strcmp(argv[1], "usage") && !strcmp(argv[2], "export")) return usage_export(argc, argv);
  int rc = parse_args(argc, argv, &o);
  if (rc != 0) {
    json_decref(o.config);
    return rc;
  }
  signal(SIGPIPE, SIG_IGN); /* a peer that went away is an error code, not a kill */
  json_object_seed(0);      /* seed jansson's hash once, before worker threads use it */
  if (o.web_dir) {
    struct stat st;
    if (!realpath(o.web_dir, web_root) || stat(web_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
      fprintf(stderr, "floatcast-gateway: --web %s: not a directory\n", o.web_dir);
      json_decref(o.config);
      return 1;
    }
    app.web_root = web_root;
  }
  const char *admin = getenv("FLOATCAST_ADMIN_KEY");
  gw_rate_policy anon = {llround(o.anon_rate * 1000.0), o.anon_burst};
  app.auth = gw_auth_create(admin && admin[0] ? admin : o.admin_key, anon);
  app.cache = gw_cache_create(10000, (uint64_t)o.cache_ttl_s * 1000);
  app.segmemo = gw_segmemo_create((size_t)o.segments_memo);
  app.metrics = &metrics;
  gw_gate gate;
  gw_gate_init(&gate, pool_threads(), (unsigned)o.compute_queue);
  app.gate = &gate;
  fc_err_clear(&err);
  /* rc is the exit status from here: 1 when the gateway could not start. */
  rc = !app.auth || !app.cache || gw_flowmodels_create(&app.flowmodels) != FC_OK || open_db(&o, &app.db) != FC_OK;
  if (rc == 0 && load_registry(&o, app.db, app.auth, &err) != FC_OK) rc = 1;
  if (rc == 0 && (gw_perf_create(app.db, &app.perf) != FC_OK || gw_perf_refresh_metrics(app.perf, &err) != FC_OK))
    rc = 1;
  if (rc == 0 && o.seed_demo && seed_demo_key(app.db, app.auth, demo_key, &err) != FC_OK) rc = 1;
  if (rc == 0 && load_sessions(&o, &app, &err) != FC_OK) rc = 1;
  /* The first experiment: rule vs ml treasury projections, in shadow. */
  if (rc == 0 && o.seed_demo && gw_experiments_seed_demo(app.db, &err) != FC_OK) rc = 1;
  if (rc == 0) rc = serve(&o, &app, o.seed_demo ? demo_key : NULL);
  else if (err.msg[0]) fprintf(stderr, "floatcast-gateway: %s\n", err.msg);
  gw_db_close(app.db);
  gw_cache_destroy(app.cache);
  gw_segmemo_destroy(app.segmemo);
  gw_flowmodels_destroy(app.flowmodels);
  gw_perf_destroy(app.perf);
  gw_auth_destroy(app.auth);
  gw_sessions_destroy(app.sessions);
  json_decref(o.config);
  return rc;
}
