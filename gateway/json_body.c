/* json_body.c: see json_body.h. */
#include "json_body.h"

#include <stdlib.h>
#include <string.h>

#include "fail.h"

static int key_order(const void *a, const void *b) {
  const fc_json *x = *(const fc_json *const *)a, *y = *(const fc_json *const *)b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* The first key an object holds twice (sorted, so a large object costs
 * n log n), or NULL; *oom when the sort could not be made. */
static const fc_json *twice_in(const fc_json *obj, int *oom) {
  const fc_json *dup = NULL;
  if (obj->n < 2) return NULL;
  const fc_json **keys = malloc(obj->n * sizeof *keys);
  if (!keys) {
    *oom = 1;
    return NULL;
  }
  size_t n = 0;
  for (const fc_json *m = obj->child; m && n < obj->n; m = m->next) keys[n++] = m;
  qsort(keys, n, sizeof *keys, key_order);
  for (size_t i = 1; i < n && !dup; i++)
    if (key_order(&keys[i - 1], &keys[i]) == 0) dup = keys[i];
  free(keys);
  return dup;
}

/* What jansson (JSON_REJECT_DUPLICATES) refused and the core's reader
 * lets through: a key twice in an object, at any depth. 0, or GW_EJSON /
 * GW_EOOM recorded in res. (The reader refuses \u0000 itself.) */
static int check_value(const fc_json *v, gw_response *res) {
  int oom = 0;
  if (v->type == FC_JSON_OBJECT) {
    const fc_json *dup = twice_in(v, &oom);
    if (oom) return gw_fail(res, GW_EOOM, "out of memory");
    if (dup) return gw_fail(res, GW_EJSON, "body: duplicate object key '%s'", dup->key);
  }
  for (const fc_json *c = v->child; c; c = c->next) {
    int rc = check_value(c, res);
    if (rc != 0) return rc;
  }
  return 0;
}

int gw_body_object(const gw_request *req, fc_json_doc **doc, const fc_json **root, gw_response *res) {
  fc_err err;
  fc_err_clear(&err);
  *doc = NULL;
  *root = NULL;
  int rc = fc_json_parse(req->body.data ? req->body.data : "", req->body.len, doc, &err);
  if (rc == FC_ENOMEM) return gw_fail(res, GW_EOOM, "out of memory");
  if (rc != FC_OK) return gw_fail(res, GW_EJSON, "body: %s", err.msg[0] ? err.msg : fc_strerror(rc));
  const fc_json *r = fc_json_root(*doc);
  if (r->type != FC_JSON_OBJECT) rc = gw_fail(res, GW_EJSON, "body: expected a JSON object");
  else rc = check_value(r, res);
  if (rc != 0) {
    fc_json_doc_destroy(*doc);
    *doc = NULL;
    return rc;
  }
  *root = r;
  return 0;
}

void gw_json_view_init(gw_json_view *v) {
  memset(v, 0, sizeof *v);
  v->obj.type = FC_JSON_OBJECT;
}

int gw_json_view_add(gw_json_view *v, const fc_json *m) {
  if (v->obj.n >= GW_JSON_VIEW_MAX) return -1;
  fc_json *slot = &v->members[v->obj.n];
  *slot = *m;
  slot->next = NULL;
  if (v->obj.n > 0) v->members[v->obj.n - 1].next = slot;
  else v->obj.child = slot;
  v->obj.n++;
  return 0;
}

/* A string with jansson's escapes: the two-letter ones for \b \f \n \r \t,
 * \u00XX (upper-case hex) for other control characters, UTF-8 and DEL as
 * they are. */
static void write_string(fc_buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  size_t run = 0;
  fc_buf_putc(b, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = c == '"'    ? "\\\""
                      : c == '\\' ? "\\\\"
                      : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t"
                                  : NULL;
    if (!esc && c >= 0x20) {
      run++;
      continue;
    }
    fc_buf_append(b, s + i - run, run);
    run = 0;
    if (esc) {
      fc_buf_puts(b, esc);
    } else {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      fc_buf_append(b, e, 6);
    }
  }
  fc_buf_append(b, s + len - run, run);
  fc_buf_putc(b, '"');
}

void gw_json_write(fc_buf *b, const fc_json *v) {
  switch (v->type) {
  case FC_JSON_NULL: fc_buf_puts(b, "null"); break;
  case FC_JSON_FALSE: fc_buf_puts(b, "false"); break;
  case FC_JSON_TRUE: fc_buf_puts(b, "true"); break;
  case FC_JSON_NUMBER: fc_buf_append(b, v->text, v->len); break;
  case FC_JSON_STRING: write_string(b, v->text, v->len); break;
  case FC_JSON_ARRAY:
  case FC_JSON_OBJECT:
    fc_buf_putc(b, v->type == FC_JSON_ARRAY ? '[' : '{');
    for (const fc_json *c = v->child; c; c = c->next) {
      if (c != v->child) fc_buf_putc(b, ',');
      if (v->type == FC_JSON_OBJECT) {
        write_string(b, c->key, c->key_len);
        fc_buf_putc(b, ':');
      }
      gw_json_write(b, c);
    }
    fc_buf_putc(b, v->type == FC_JSON_ARRAY ? ']' : '}');
    break;
  }
}
