/* cmd_version.c: floatcast version. */
#include "cli.h"

#include <string.h>

#include "fc/version.h"

int cmd_version(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
    fputs("usage: floatcast version\n\nPrints the version (floatcast X.Y.Z).\n", stdout);
    return 0;
  }
  if (argc >= 2) {
    fprintf(stderr, "floatcast version: unknown option '%s'\nusage: floatcast version\n", argv[1]);
    return 2;
  }
  printf("floatcast %s\n", FC_VERSION_STRING);
  return 0;
}
