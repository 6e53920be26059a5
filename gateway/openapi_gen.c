/* openapi_gen.c: writes the OpenAPI document the gateway serves: the
 * hand-written gateway/openapi.json with the query parameters of the
 * routes that read an option table written from the tables
 * (openapi_params.h). Run by the build (gateway/CMakeLists.txt).
 *
 *   gw-openapi IN OUT     the document into OUT
 *   gw-openapi --check IN exit 1 when IN is not what the tables make of it,
 *                         so the committed file and the served one are one
 *   gw-openapi --write IN rewrite IN from the tables (after a table change)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi_params.h"

/* The layout of the committed file, which jansson writes byte for byte. */
#define DOC_FLAGS (JSON_INDENT(1) | JSON_REAL_PRECISION(15))

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *s = NULL;
  long n = -1;
  if (f && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
    *len = fread(s, 1, (size_t)n, f);
    s[*len] = '\0';
  }
  if (f) fclose(f);
  return s;
}

/* The generated document's text (with a final newline), or NULL. */
static char *generate(const char *in, const char *text, size_t len) {
  json_error_t jerr;
  fc_err err;
  fc_err_clear(&err);
  json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  char *out = NULL;
  if (!doc) fprintf(stderr, "gw-openapi: %s:%d: %s\n", in, jerr.line, jerr.text);
  else if (gw_openapi_params_apply(doc, &err) != FC_OK) fprintf(stderr, "gw-openapi: %s: %s\n", in, err.msg);
  else if ((out = json_dumps(doc, DOC_FLAGS)) != NULL) {
    size_t n = strlen(out);
    char *nl = realloc(out, n + 2);
    if (!nl) free(out);
    out = nl;
    if (out) memcpy(out + n, "\n", 2);
  }
  json_decref(doc);
  return out;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  int ok = f && fputs(text, f) >= 0;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok) fprintf(stderr, "gw-openapi: cannot write %s\n", path);
  return ok ? 0 : 1;
}

/* Where IN and its generated text first differ, for the message. */
static void report_drift(const char *in, const char *text, const char *gen) {
  size_t i = 0, line = 1;
  for (; text[i] && text[i] == gen[i]; i++) line += text[i] == '\n';
  fprintf(stderr,
          "gw-openapi: %s differs from what the option tables make of it, from line %zu; "
          "rewrite it with `gw-openapi --write %s` (or change the table, not the file)\n",
          in, line, in);
}

int main(int argc, char **argv) {
  int check = argc == 3 && !strcmp(argv[1], "--check"), rewrite = argc == 3 && !strcmp(argv[1], "--write");
  if (argc != 3) {
    fprintf(stderr, "usage: gw-openapi IN OUT | --check IN | --write IN\n");
    return 2;
  }
  const char *in = check || rewrite ? argv[2] : argv[1];
  size_t len = 0;
  char *text = read_all(in, &len), *gen = NULL;
  int rc = 1;
  if (!text) fprintf(stderr, "gw-openapi: cannot read %s\n", in);
  else if ((gen = generate(in, text, len)) == NULL) rc = 1;
  else if (check) rc = strcmp(text, gen) == 0 ? 0 : (report_drift(in, text, gen), 1);
  else rc = write_file(rewrite ? in : argv[2], gen);
  free(text);
  free(gen);
  return rc;
}
