/* parity_dump.c: the native side of the WASM parity check.
 *
 * Prints the projection of the demo tenant (seed, horizon and method from
 * argv; 42, 48 and rule by default) as the core's JSON, going through the
 * same steps as the WASM module's fc_wasm_project: demo CSV text ->
 * fc_treasury_load -> fc_project -> fc_projection_write_json. Its outputs
 * are the golden files tests/golden/demo_rule_48h.json and
 * demo_ml_48h.json (method ml, seed 0, 1000 paths), which the WASM test
 * must equal byte for byte. Regenerate them with
 *   build/bin/fc_parity_dump > tests/golden/demo_rule_48h.json
 *   build/bin/fc_parity_dump 42 48 ml > tests/golden/demo_ml_48h.json
 */
#include <stdio.h>
#include <stdlib.h>

#include "fc/demo.h"
#include "fc/project.h"
#include "fc/treasury.h"

static int fail(const char *what, const fc_err *err) {
  fprintf(stderr, "fc_parity_dump: %s: %s\n", what, err->msg);
  return 1;
}

int main(int argc, char **argv) {
  fc_demo_params dp = fc_demo_defaults();
  fc_project_request req = fc_project_defaults();
  fc_buf acc, tr, st, out;
  fc_treasury *t = NULL;
  fc_projection *proj = NULL;
  fc_err err;
  int rc;

  if (argc > 1) dp.seed = strtoull(argv[1], NULL, 10);
  if (argc > 2) req.p.horizon_hours = atoi(argv[2]);
  if (argc > 3 && fc_project_method_parse(argv[3], &req.method, &err) != 0) return fail("method", &err);
  req.p.now = dp.now;
  fc_buf_init(&acc);
  fc_buf_init(&tr);
  fc_buf_init(&st);
  fc_buf_init(&out);
  rc = fc_demo_generate(&dp, &acc, &tr, &st, &err);
  if (rc != 0) return fail("demo", &err);
  t = fc_treasury_create(NULL);
  if (t == NULL) return 1;
  rc = fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, acc.data, acc.len, NULL, &err);
  if (rc == 0) rc = fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, tr.data, tr.len, NULL, &err);
  if (rc == 0) rc = fc_treasury_load(t, FC_RECORD_STREAMS, FC_FORMAT_CSV, st.data, st.len, NULL, &err);
  if (rc == 0) rc = fc_project(t, &req, &proj, &err);
  if (rc != 0) return fail("project", &err);
  if (fc_projection_write_json(proj, &out) != 0) return 1;
  fwrite(out.data, 1, out.len, stdout);
  fc_projection_destroy(proj);
  fc_treasury_destroy(t);
  fc_buf_free(&acc);
  fc_buf_free(&tr);
  fc_buf_free(&st);
  fc_buf_free(&out);
  return 0;
}
