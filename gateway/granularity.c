/* granularity.c: the names of the GW_GRAN_* bits (auth.h), apart from the
 * keys and tiers so that the OpenAPI generator (openapi_gen.c) can name a
 * route's granularities without linking the gateway. */
#include <string.h>

#include "auth.h"

static const char *const gran_names[GW_GRAN_COUNT] = {"hour", "day", "week", "month", "quarter"};

unsigned gw_granularity_bit(const char *name) {
  for (int i = 0; i < GW_GRAN_COUNT; i++)
    if (strcmp(name, gran_names[i]) == 0) return 1u << i;
  return 0;
}

const char *gw_granularity_name(int i) { return i >= 0 && i < GW_GRAN_COUNT ? gran_names[i] : ""; }
