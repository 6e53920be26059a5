/* main.c: floatcast-gateway's flags, startup and clean shutdown.
 *
 *   floatcast-gateway [--listen HOST:PORT] [--db PATH] [--web DIR]
 *                     [--seed-demo] [--quiet] [--idle-timeout MS]
 *                     [--request-timeout MS] [--max-connections N]
 *
 * --listen defaults to 127.0.0.1:8080 (port 0 picks a free one); --db to
 * floatcast.db; without --web no static files are served. --seed-demo
 * stores the demo tenant (fc_demo_generate) when the database is empty.
 * Once listening, the first line on stdout is "listening on http://H:P/".
 * SIGINT or SIGTERM drains the server, closes every handle and frees
 * everything, so a sanitizer run ends with no leak.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <uv.h>

#include "db.h"
#include "server.h"

#include "fc/demo.h"
#include "fc/records.h"

typedef struct options {
  char host[64];
  int port;
  const char *db_path;
  const char *web_dir;
  int seed_demo;
  int quiet;
  long idle_ms, request_ms, max_conns;
} options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: floatcast-gateway [--listen HOST:PORT] [--db PATH] [--web DIR]\n"
          "                         [--seed-demo] [--quiet] [--idle-timeout MS]\n"
          "                         [--request-timeout MS] [--max-connections N]\n"
          "  --listen HOST:PORT  address to serve on (127.0.0.1:8080; port 0: any free)\n"
          "  --db PATH           SQLite database, created if missing (floatcast.db)\n"
          "  --web DIR           directory of static files (the Treasury page)\n"
          "  --seed-demo         store the demo tenant when the database is empty\n"
          "  --quiet             no access log\n"
          "  --idle-timeout MS   close a keep-alive connection idle this long (5000)\n"
          "  --request-timeout MS  answer 408 to a request not received whole in this\n"
          "                      time from its first byte (10000)\n"
          "  --max-connections N open connections at most; more are closed at once (1024)\n");
}

/* "HOST:PORT", "[::1]:PORT". */
static int parse_listen(const char *s, options *o) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s) return -1;
  const char *h = s;
  size_t hn = (size_t)(colon - s);
  if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
    h++;
    hn -= 2;
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (hn == 0 || hn >= sizeof o->host || *end != '\0' || colon[1] == '\0' || port < 0 ||
      port > 65535)
    return -1;
  memcpy(o->host, h, hn);
  o->host[hn] = '\0';
  o->port = (int)port;
  return 0;
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

/* A whole number in 1..3600000 (milliseconds, or a count). */
static int parse_ms(const char *flag, const char *v, long *out) {
  char *end;
  long ms = strtol(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || *end != '\0' || ms < 1 || ms > 3600000) {
    fprintf(stderr, "floatcast-gateway: %s: expected a whole number in 1..3600000\n", flag);
    return -1;
  }
  *out = ms;
  return 0;
}

static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  strcpy(o->host, "127.0.0.1");
  o->port = 8080;
  o->db_path = "floatcast.db";
  o->idle_ms = 5000;
  o->request_ms = 10000;
  o->max_conns = 1024;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = flag_value(argc, argv, &i, "--listen"))) {
      if (parse_listen(v, o) != 0) {
        fprintf(stderr, "floatcast-gateway: --listen: expected HOST:PORT, got '%s'\n", v);
        return 2;
      }
    } else if ((v = flag_value(argc, argv, &i, "--db"))) {
      o->db_path = v;
    } else if ((v = flag_value(argc, argv, &i, "--web"))) {
      o->web_dir = v;
    } else if ((v = flag_value(argc, argv, &i, "--idle-timeout"))) {
      if (parse_ms("--idle-timeout", v, &o->idle_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--request-timeout"))) {
      if (parse_ms("--request-timeout", v, &o->request_ms) != 0) return 2;
    } else if ((v = flag_value(argc, argv, &i, "--max-connections"))) {
      if (parse_ms("--max-connections", v, &o->max_conns) != 0) return 2;
    } else if (strcmp(argv[i], "--seed-demo") == 0) {
      o->seed_demo = 1;
    } else if (strcmp(argv[i], "--quiet") == 0) {
      o->quiet = 1;
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

/* Generates, parses and stores the demo tenant in one transaction. */
static int seed_demo(gw_db *db, fc_err *err) {
  fc_demo_params p = fc_demo_defaults();
  fc_buf text[3];
  fc_batch *batch[3] = {NULL, NULL, NULL};
  static const fc_record_kind kinds[3] = {FC_RECORD_ACCOUNTS, FC_RECORD_TRANSFERS,
                                          FC_RECORD_STREAMS};
  for (int k = 0; k < 3; k++) fc_buf_init(&text[k]);
  int rc = fc_demo_generate(&p, &text[0], &text[1], &text[2], err);
  for (int k = 0; k < 3 && rc == FC_OK; k++)
    rc = fc_batch_parse(kinds[k], FC_FORMAT_CSV, text[k].data, text[k].len, NULL, &batch[k],
                        NULL, err);
  if (rc == FC_OK) rc = gw_db_store_batches(db, (const fc_batch *const *)batch, 3, err);
  for (int k = 0; k < 3; k++) {
    fc_batch_destroy(batch[k]);
    fc_buf_free(&text[k]);
  }
  return rc;
}

static int open_db(const options *o, gw_db **db) {
  fc_err err;
  int empty = 0;
  fc_err_clear(&err);
  int rc = gw_db_open(o->db_path, db, &err);
  if (rc == FC_OK && o->seed_demo) rc = gw_db_is_empty(*db, &empty, &err);
  if (rc == FC_OK && o->seed_demo && empty) {
    rc = seed_demo(*db, &err);
    if (rc == FC_OK) fprintf(stderr, "floatcast-gateway: stored the demo tenant in %s\n", o->db_path);
  }
  if (rc != FC_OK) {
    fprintf(stderr, "floatcast-gateway: %s: %s\n", o->db_path, err.msg[0] ? err.msg : fc_strerror(rc));
    gw_db_close(*db);
    *db = NULL;
    return -1;
  }
  return 0;
}

typedef struct runtime {
  uv_signal_t sigint, sigterm;
  gw_server *server;
} runtime;

static void on_signal(uv_signal_t *h, int signum) {
  runtime *rt = h->data;
  fprintf(stderr, "floatcast-gateway: signal %d, shutting down\n", signum);
  uv_close((uv_handle_t *)&rt->sigint, NULL);
  uv_close((uv_handle_t *)&rt->sigterm, NULL);
  gw_server_shutdown(rt->server);
}

static int serve(const options *o, gw_app *app) {
  uv_loop_t loop;
  runtime rt;
  gw_server_config cfg = gw_server_defaults();
  cfg.host = o->host;
  cfg.port = o->port;
  cfg.access_log = !o->quiet;
  cfg.idle_ms = (uint64_t)o->idle_ms;
  cfg.request_ms = (uint64_t)o->request_ms;
  cfg.max_connections = (unsigned)o->max_conns;
  if (uv_loop_init(&loop) != 0) return 1;
  int rc = gw_server_start(&loop, &cfg, app, &rt.server);
  if (rc != 0) {
    fprintf(stderr, "floatcast-gateway: cannot listen on %s:%d: %s\n", o->host, o->port,
            uv_strerror(rc));
    uv_loop_close(&loop);
    return 1;
  }
  uv_signal_init(&loop, &rt.sigint);
  uv_signal_init(&loop, &rt.sigterm);
  rt.sigint.data = rt.sigterm.data = &rt;
  uv_signal_start(&rt.sigint, on_signal, SIGINT);
  uv_signal_start(&rt.sigterm, on_signal, SIGTERM);
  int v6 = strchr(o->host, ':') != NULL;
  printf("listening on http://%s%s%s:%d/\n", v6 ? "[" : "", o->host, v6 ? "]" : "",
         gw_server_port(rt.server));
  if (app->web_root)
    printf("Treasury page: http://%s%s%s:%d/\n", v6 ? "[" : "", o->host, v6 ? "]" : "",
           gw_server_port(rt.server));
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  gw_server_destroy(rt.server);
  rc = uv_loop_close(&loop);
  if (rc != 0) fprintf(stderr, "floatcast-gateway: loop closed with live handles\n");
  return rc != 0;
}

int main(int argc, char **argv) {
  options o;
  gw_app app = {NULL, NULL};
  char web_root[PATH_MAX];
  int rc = parse_args(argc, argv, &o);
  if (rc != 0) return rc;
  signal(SIGPIPE, SIG_IGN); /* a peer that went away is an error code, not a kill */
  json_object_seed(0);      /* seed jansson's hash once, before worker threads use it */
  if (o.web_dir) {
    struct stat st;
    if (!realpath(o.web_dir, web_root) || stat(web_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
      fprintf(stderr, "floatcast-gateway: --web %s: not a directory\n", o.web_dir);
      return 1;
    }
    app.web_root = web_root;
  }
  if (open_db(&o, &app.db) != 0) return 1;
  rc = serve(&o, &app);
  gw_db_close(app.db);
  return rc;
}
