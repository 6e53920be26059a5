/* query_opts.c: see query_opts.h. */
#include "query_opts.h"

#include <string.h>

#include "fail.h"

/* The index of o in t (t holds o). */
static size_t index_of(const fc_opt_table *t, const fc_opt *o) { return (size_t)(o - t->opts); }

int gw_query_options(const char *query, const fc_opt_table *t, void *base, gw_query_store *store, unsigned *seen,
                     gw_response *res) {
  const char *cur = query;
  char key[64];
  int r;
  *seen = 0;
  for (;;) {
    char val[sizeof store->val[0]];
    const fc_opt *o;
    fc_err err;
    if ((r = gw_query_next(&cur, key, sizeof key, val, sizeof val)) != 1) break;
    o = fc_opt_find(t, key, strlen(key), FC_OPT_JSON);
    size_t i = o ? index_of(t, o) : GW_QUERY_OPTS_MAX;
    if (i >= GW_QUERY_OPTS_MAX || (*seen & (1u << i)))
      return gw_fail(res, GW_EPARAM, "unknown or repeated parameter '%s'", key);
    *seen |= 1u << i;
    memcpy(store->val[i], val, sizeof val);
    fc_err_clear(&err);
    if (fc_opt_set(o, base, store->val[i], &err) != FC_OK) return gw_fail(res, GW_EPARAM, "%s: %s", key, err.msg);
  }
  if (r < 0) return gw_fail(res, GW_EPARAM, "malformed query string");
  return 0;
}

int gw_query_given(const fc_opt_table *t, unsigned seen, const char *name) {
  const fc_opt *o = fc_opt_find(t, name, strlen(name), FC_OPT_JSON);
  return o != NULL && index_of(t, o) < GW_QUERY_OPTS_MAX && (seen & (1u << index_of(t, o))) != 0;
}
