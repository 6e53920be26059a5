/* cmd_usage.c: floatcast usage export --db PATH --from T --to T [...]
 *
 * Billing's usage export. The usage table lives in the gateway's SQLite
 * database, and only the gateway links SQLite (the command line stays
 * dependency-free, like the core), so this subcommand runs
 * floatcast-gateway's own `usage export` from the same directory with the
 * same arguments: one implementation, two names. */
#define _POSIX_C_SOURCE 200809L /* readlink, execv */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "usage: floatcast usage export --db PATH --from T --to T [--tenant ID]\n"
                            "                              [--granularity day|hour] [--format csv|json]\n"
                            "Writes the committed usage counts (one row per key, tenant, endpoint, status class and\n"
                            "period) from the gateway's database; runs floatcast-gateway's usage export.\n";

/* The directory of this executable (from /proc, else argv[0]). */
static int self_dir(const char *argv0, char *out, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", out, cap - 1);
  char *slash;
  if (n > 0) {
    out[n] = '\0';
  } else {
    if (strlen(argv0) >= cap) return -1;
    strcpy(out, argv0);
  }
  slash = strrchr(out, '/');
  if (slash == NULL) return -1;
  *slash = '\0';
  return 0;
}

int cmd_usage(int argc, char **argv) {
  char dir[4096], gw[4096 + 32];
  char **args;
  if (argc < 2 || strcmp(argv[1], "export") != 0) {
    fputs(usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  if (argc == 2) { /* usage export without its required options */
    fputs(usage, stderr);
    return 2;
  }
  for (int i = 2; i < argc; i++) /* usage export --help: answered here, no gateway needed */
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    }
  if (self_dir(argv[-1], dir, sizeof dir) != 0) return cli_fail("usage", "cannot find my own directory");
  snprintf(gw, sizeof gw, "%s/floatcast-gateway", dir);
  if (access(gw, X_OK) != 0)
    return cli_fail("usage", "%s: %s (the usage export needs the gateway binary beside floatcast)", gw,
                    strerror(errno));
  /* argv[0] is "usage": pass "usage export ..." on unchanged. */
  args = calloc((size_t)argc + 2, sizeof *args);
  if (args == NULL) return cli_fail("usage", "out of memory");
  args[0] = gw;
  for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
  execv(gw, args);
  free(args);
  return cli_fail("usage", "%s: %s", gw, strerror(errno));
}
