/* handlers_openapi.c: GET /v1/openapi.json, the API's OpenAPI 3.1
 * description. The document is gateway/openapi.json, embedded into the
 * binary at build time (embed.cmake), so it is answered on the loop from
 * memory and always matches the build. It must name every route of
 * router.c (tests/gateway/test_api.py checks that). Anyone may read it:
 * it describes the API, it holds no data.
 */
#include "handlers.h"

extern const char gw_openapi_json[];
extern const size_t gw_openapi_json_len;

GW_HANDLER(gw_handle_openapi) {
  (void)app;
  (void)call;
  (void)req;
  res->status = 200;
  res->content_type = "application/json";
  fc_buf_append(&res->body, gw_openapi_json, gw_openapi_json_len);
  gw_response_header(res, "Cache-Control", "no-cache");
  return 0;
}
