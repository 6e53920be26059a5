/* cmd_version.c: floatcast version. */
#include "cli.h"

#include "fc/version.h"

int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("floatcast %s\n", FC_VERSION_STRING);
  return 0;
}
