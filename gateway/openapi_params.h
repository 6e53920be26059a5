/* openapi_params.h: the OpenAPI document's query parameters of the routes
 * that read an option table (the projection's fc_project_optable, the
 * insights' gw_insight_optable), written from the tables: each route's
 * list of query parameters is the table entries it reads, in table order;
 * a parameter's description is the entry's help, and its schema's type,
 * minimum, maximum, enum and default are the ranges, words and defaults the
 * parsers use. Everything else in the document (the routes, answers, a
 * parameter's pattern or examples) stays hand-written in gateway/openapi.json.
 *
 * The build runs openapi_gen.c over the hand-written file and embeds its
 * output, so the served document always follows the tables; the committed
 * file is kept equal to that output (ctest gateway_openapi_tables). */
#ifndef GW_OPENAPI_PARAMS_H
#define GW_OPENAPI_PARAMS_H

#include <jansson.h>

#include "fc/status.h"

/* Rewrites doc's table-derived query parameters in place (adding,
 * updating and dropping parameters; components referred to by $ref are
 * updated where they stand). FC_EINVAL naming the route when doc lacks a
 * route or its GET operation; FC_ENOMEM. */
int gw_openapi_params_apply(json_t *doc, fc_err *err);

#endif /* GW_OPENAPI_PARAMS_H */
