/* json.c: recursive-descent JSON parser into an arena of nodes. Node and
 * string storage come from chunks owned by the document, so destroying a
 * document is a walk over a few chunks. */
#include "fc/json.h"
#include "internal.h"

#include <string.h>

#define MAX_DEPTH 64
#define CHUNK     16384

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  /* memory follows, aligned for fc_json */
  union {
    fc_json node;
    double align;
  } mem[];
} chunk;

struct fc_json_doc {
  chunk *chunks;
  fc_json *root;
};

typedef struct {
  const char *p, *start, *end;
  fc_json_doc *doc;
  fc_err *err;
  int depth;
} parser;

static void *arena_alloc(fc_json_doc *d, size_t n) {
  chunk *c = d->chunks;
  n = (n + sizeof(double) - 1) & ~(sizeof(double) - 1);
  if (c == NULL || c->cap - c->used < n) {
    size_t cap = n > CHUNK ? n : CHUNK;
    c = fc__malloc(sizeof(chunk) + cap);
    if (c == NULL) return NULL;
    c->next = d->chunks;
    c->used = 0;
    c->cap = cap;
    d->chunks = c;
  }
  {
    void *p = (char *)c->mem + c->used;
    c->used += n;
    return p;
  }
}

static int fail(parser *ps, int code, const char *what) {
  return fc__err(ps->err, code, "JSON at byte %zu: %s", (size_t)(ps->p - ps->start), what);
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

int fc_utf8_valid(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *e = p + len;
  while (p < e) {
    unsigned c = *p;
    size_t n;
    unsigned cp;
    if (c < 0x80) {
      p++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
    else return 0;
    if ((size_t)(e - p) <= n) return 0;
    for (size_t k = 1; k <= n; k++) {
      if ((p[k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    p += n + 1;
  }
  return 1;
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Parses a string at ps->p (which is '"'); decoded text into *out. */
static int parse_string(parser *ps, const char **out, size_t *out_len) {
  const char *s = ++ps->p, *q = s;
  char *buf, *o;
  /* Find the closing quote first: the decoded text is never longer. */
  while (q < ps->end && *q != '"') {
    if ((unsigned char)*q < 0x20) {
      ps->p = q;
      return fail(ps, FC_EPARSE, "control character in a string");
    }
    if (*q == '\\' && q + 1 < ps->end) q++; /* never step past the end */
    q++;
  }
  if (q >= ps->end) return fail(ps, FC_EPARSE, "string never closed");
  if (!fc_utf8_valid(s, (size_t)(q - s))) return fail(ps, FC_EPARSE, "invalid UTF-8 in a string");
  buf = o = arena_alloc(ps->doc, (size_t)(q - s) + 1);
  if (buf == NULL) return fail(ps, FC_ENOMEM, "out of memory");
  while (ps->p < q) {
    char c = *ps->p++;
    unsigned cp, lo;
    if (c != '\\') {
      *o++ = c;
      continue;
    }
    c = *ps->p++;
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u':
      if (q - ps->p < 4 || hex4(ps->p, &cp) != 0) return fail(ps, FC_EPARSE, "bad \\u escape");
      ps->p += 4;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(ps, FC_EPARSE, "lone low surrogate");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) != 0 || lo < 0xDC00 ||
            lo > 0xDFFF)
          return fail(ps, FC_EPARSE, "unpaired surrogate");
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      if (cp == 0) return fail(ps, FC_EPARSE, "\\u0000 is not allowed in text");
      o += put_utf8(o, cp);
      break;
    default: return fail(ps, FC_EPARSE, "bad escape");
    }
  }
  *o = '\0';
  ps->p = q + 1;
  *out = buf;
  *out_len = (size_t)(o - buf);
  return FC_OK;
}

static int parse_number(parser *ps, fc_json *v) {
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end) return fail(ps, FC_EPARSE, "bad number");
  if (*ps->p == '0') {
    ps->p++;
  } else if (*ps->p >= '1' && *ps->p <= '9') {
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  } else {
    return fail(ps, FC_EPARSE, "bad number");
  }
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, FC_EPARSE, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, FC_EPARSE, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  v->type = FC_JSON_NUMBER;
  v->len = (size_t)(ps->p - s);
  {
    char *t = arena_alloc(ps->doc, v->len + 1);
    if (t == NULL) return fail(ps, FC_ENOMEM, "out of memory");
    memcpy(t, s, v->len);
    t[v->len] = '\0';
    v->text = t;
  }
  return FC_OK;
}

static int parse_value(parser *ps, fc_json *v);

static int parse_container(parser *ps, fc_json *v, int is_object) {
  fc_json **tail = &v->child;
  char close = is_object ? '}' : ']';
  v->type = is_object ? FC_JSON_OBJECT : FC_JSON_ARRAY;
  if (++ps->depth > MAX_DEPTH) return fail(ps, FC_ERANGE, "nested deeper than 64");
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    ps->depth--;
    return FC_OK;
  }
  for (;;) {
    fc_json *c = arena_alloc(ps->doc, sizeof *c);
    int rc;
    if (c == NULL) return fail(ps, FC_ENOMEM, "out of memory");
    memset(c, 0, sizeof *c);
    skip_ws(ps);
    if (is_object) {
      if (ps->p >= ps->end || *ps->p != '"') return fail(ps, FC_EPARSE, "expected a member name");
      if ((rc = parse_string(ps, &c->key, &c->key_len)) != FC_OK) return rc;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') return fail(ps, FC_EPARSE, "expected ':'");
      ps->p++;
    }
    if ((rc = parse_value(ps, c)) != FC_OK) return rc;
    *tail = c;
    tail = &c->next;
    v->n++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      ps->depth--;
      return FC_OK;
    }
    return fail(ps, FC_EPARSE, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int literal(parser *ps, const char *word, fc_json_type t, fc_json *v) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, FC_EPARSE, "unexpected character");
  ps->p += n;
  v->type = t;
  return FC_OK;
}

static int parse_value(parser *ps, fc_json *v) {
  skip_ws(ps);
  if (ps->p >= ps->end) return fail(ps, FC_EPARSE, "unexpected end of input");
  switch (*ps->p) {
  case '{': return parse_container(ps, v, 1);
  case '[': return parse_container(ps, v, 0);
  case '"': v->type = FC_JSON_STRING; return parse_string(ps, &v->text, &v->len);
  case 't': return literal(ps, "true", FC_JSON_TRUE, v);
  case 'f': return literal(ps, "false", FC_JSON_FALSE, v);
  case 'n': return literal(ps, "null", FC_JSON_NULL, v);
  case 'N':
  case 'I': return fail(ps, FC_EPARSE, "NaN and Infinity are not JSON numbers");
  default:
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
    return fail(ps, FC_EPARSE, "unexpected character");
  }
}

int fc_json_parse(const char *data, size_t len, fc_json_doc **out, fc_err *err) {
  parser ps;
  fc_json_doc *d = fc__calloc(1, sizeof *d);
  int rc;
  *out = NULL;
  if (d == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  ps.p = ps.start = data;
  ps.end = data + len;
  ps.doc = d;
  ps.err = err;
  ps.depth = 0;
  d->root = arena_alloc(d, sizeof *d->root);
  if (d->root == NULL) {
    fc_json_doc_destroy(d);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  memset(d->root, 0, sizeof *d->root);
  rc = parse_value(&ps, d->root);
  if (rc == FC_OK) {
    skip_ws(&ps);
    if (ps.p != ps.end) rc = fail(&ps, FC_EPARSE, "text after the JSON value");
  }
  if (rc != FC_OK) {
    fc_json_doc_destroy(d);
    return rc;
  }
  *out = d;
  return FC_OK;
}

void fc_json_doc_destroy(fc_json_doc *d) {
  if (d == NULL) return;
  while (d->chunks) {
    chunk *c = d->chunks;
    d->chunks = c->next;
    fc__free(c);
  }
  fc__free(d);
}

const fc_json *fc_json_root(const fc_json_doc *d) { return d->root; }

const fc_json *fc_json_get(const fc_json *obj, const char *key) {
  const fc_json *c;
  if (obj == NULL || obj->type != FC_JSON_OBJECT) return NULL;
  for (c = obj->child; c; c = c->next)
    if (strcmp(c->key, key) == 0) return c;
  return NULL;
}

const char *fc_json_type_name(fc_json_type t) {
  switch (t) {
  case FC_JSON_NULL: return "null";
  case FC_JSON_FALSE:
  case FC_JSON_TRUE: return "boolean";
  case FC_JSON_NUMBER: return "number";
  case FC_JSON_STRING: return "string";
  case FC_JSON_ARRAY: return "array";
  case FC_JSON_OBJECT: return "object";
  }
  return "unknown";
}
