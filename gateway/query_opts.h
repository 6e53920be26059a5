/* query_opts.h: the gateway's adapter of the core's option tables
 * (fc/options.h, fc/optables.h) to a query string: the same names, ranges
 * and messages the CLI and the WASM module read from the same table. */
#ifndef GW_QUERY_OPTS_H
#define GW_QUERY_OPTS_H

#include "http.h"

#include "fc/options.h"
#include "fc/records.h"

/* Room for the decoded values: text options may point into it, so it
 * lives as long as the option struct is used. A value may be as long as
 * the core's longest text field (a partner id) and one byte more, so that
 * one just too long reaches its option and is refused by name. */
#define GW_QUERY_OPTS_MAX 32
typedef struct gw_query_store {
  char val[GW_QUERY_OPTS_MAX][FC_TEXT_MAX + 2];
} gw_query_store;

/* Reads query through t's query-side entries (FC_OPT_JSON) into base (which
 * starts from the operation's defaults), each name at most once; bit i of
 * *seen is set for t->opts[i] given. 0, or GW_EPARAM recorded in res
 * (fail.h): an unknown or repeated name, a malformed query, or a bad
 * value ("horizon: want whole hours in 1..720, got \"0\""). */
int gw_query_options(const char *query, const fc_opt_table *t, void *base, gw_query_store *store, unsigned *seen,
                     gw_response *res);
/* Whether the entry named name was in the query read into seen. */
int gw_query_given(const fc_opt_table *t, unsigned seen, const char *name);

#endif /* GW_QUERY_OPTS_H */
