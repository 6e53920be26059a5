/* json_body.h: a request body that goes to the core, read once by the
 * core's strict reader (fc/json.h).
 *
 * The gateway has two JSON readers and each has its place (docs/
 * ARCHITECTURE.md): jansson for the small bodies the gateway interprets
 * itself (admin changes, settings, webhooks, experiments), the core's
 * strict reader for the bodies the core consumes, so that such a body is
 * parsed once and its numbers keep their exact text. gw_body_object parses
 * such a body and holds it to the rules the jansson bodies follow: one
 * object, no key twice in any object, no NUL in a string or a key (400
 * invalid_json otherwise; the reader itself refuses the NUL). A view (gw_json_view) is an object made of
 * some members of another, for handing part of a body to the core without
 * copying or reparsing it; gw_json_write writes a value back as compact
 * JSON, numbers as they were sent.
 */
#ifndef GW_JSON_BODY_H
#define GW_JSON_BODY_H

#include "http.h"

#include "fc/buf.h"
#include "fc/json.h"

/* Parses req's body into *doc (destroy with fc_json_doc_destroy) and its
 * root object into *root; 0, or GW_EJSON recorded in res (fail.h) naming
 * what is wrong ("body: ...") with *doc NULL. */
int gw_body_object(const gw_request *req, fc_json_doc **doc, const fc_json **root, gw_response *res);

#define GW_JSON_VIEW_MAX 16

/* An object of up to GW_JSON_VIEW_MAX members of other objects, in the
 * order added; valid while their document lives. */
typedef struct gw_json_view {
  fc_json obj;
  fc_json members[GW_JSON_VIEW_MAX];
} gw_json_view;

void gw_json_view_init(gw_json_view *v);
/* Adds member m (a child of an object); -1 when the view is full. */
int gw_json_view_add(gw_json_view *v, const fc_json *m);

/* v as compact JSON: members in their order, strings escaped as jansson
 * escapes them, numbers in their source text. */
void gw_json_write(fc_buf *b, const fc_json *v);

#endif /* GW_JSON_BODY_H */
