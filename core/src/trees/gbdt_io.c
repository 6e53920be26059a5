/* gbdt_io.c: the binary model format and the JSON dump.
 *
 * Binary layout (all integers and doubles little-endian, doubles as their
 * IEEE-754 bits so a model round-trips exactly):
 *
 *   "FCGBDT\r\n"  u32 version  u32 flags (0)  u64 payload_len
 *   payload:
 *     u64 nfeat  u32 objective  f64 alpha huber_delta tweedie_power
 *     f64 base_score learning_rate
 *     nfeat x { u8 categorical  u32 name_len  name bytes }
 *     u64 ntrees  u64 ncat
 *     ntrees x { u32 nnodes  u32 nleaves }
 *     all nodes  x { f64 thr  i32 feat left right  u32 meta  f64 gain count }
 *     all leaves x { f64 value count }
 *     ncat x 4 x u64 category bitsets
 *   u64 FNV-1a 64 of everything before it
 *
 * The loader checks the checksum first, then every count against the bytes
 * left, then that each tree is a proper binary tree (children after their
 * parent, every child referenced once, nleaves = nnodes + 1), so no input
 * can make it or a later prediction read out of bounds or loop.
 */
#include "gbdt_internal.h"
#include "internal.h"

#include <math.h>
#include <string.h>

static const char MAGIC[8] = {'F', 'C', 'G', 'B', 'D', 'T', '\r', '\n'};

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* ---------------------------------------------------------- writing */

static void put_u64(fc_buf *b, uint64_t v) {
  uint8_t x[8];
  for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
  fc_buf_append(b, x, 8);
}

static void put_u32(fc_buf *b, uint32_t v) {
  uint8_t x[4];
  for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
  fc_buf_append(b, x, 4);
}

static void put_f64(fc_buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  put_u64(b, u);
}

int fc_gbdt_save(const fc_gbdt *m, fc_buf *out, fc_err *err) {
  size_t start, nn, nl;
  uint64_t sum;
  if (m == NULL || out == NULL) return fc__err(err, FC_EINVAL, "gbdt save: NULL argument");
  nn = m->node_begin[m->ntrees];
  nl = m->leaf_begin[m->ntrees];
  start = out->len;
  fc_buf_append(out, MAGIC, 8);
  put_u32(out, FC_GBDT_FORMAT_VERSION);
  put_u32(out, 0);
  put_u64(out, 0); /* payload length, patched below */
  put_u64(out, m->nfeat);
  put_u32(out, (uint32_t)m->objective);
  put_f64(out, m->alpha);
  put_f64(out, m->huber_delta);
  put_f64(out, m->tweedie_power);
  put_f64(out, m->base_score);
  put_f64(out, m->learning_rate);
  for (size_t f = 0; f < m->nfeat; f++) {
    size_t len = strlen(m->names[f]);
    fc_buf_putc(out, (char)m->is_cat[f]);
    put_u32(out, (uint32_t)len);
    fc_buf_append(out, m->names[f], len);
  }
  put_u64(out, m->ntrees);
  put_u64(out, m->ncat);
  for (size_t t = 0; t < m->ntrees; t++) {
    put_u32(out, m->node_begin[t + 1] - m->node_begin[t]);
    put_u32(out, m->leaf_begin[t + 1] - m->leaf_begin[t]);
  }
  for (size_t i = 0; i < nn; i++) {
    const fc__gbdt_node *n = &m->nodes[i];
    put_f64(out, n->thr);
    put_u32(out, (uint32_t)n->feat);
    put_u32(out, (uint32_t)n->left);
    put_u32(out, (uint32_t)n->right);
    put_u32(out, n->meta);
    put_f64(out, m->node_gain[i]);
    put_f64(out, m->node_count[i]);
  }
  for (size_t i = 0; i < nl; i++) {
    put_f64(out, m->leaf_value[i]);
    put_f64(out, m->leaf_count[i]);
  }
  for (size_t i = 0; i < m->ncat * FC__CAT_WORDS; i++) put_u64(out, m->cat_bits[i]);
  if (fc_buf_failed(out)) return fc__err(err, FC_ENOMEM, "gbdt save: out of memory");
  {
    uint64_t plen = out->len - start - 24;
    for (int i = 0; i < 8; i++) out->data[start + 16 + (size_t)i] = (char)(uint8_t)(plen >> (8 * i));
  }
  sum = fnv1a((const uint8_t *)out->data + start, out->len - start);
  put_u64(out, sum);
  if (fc_buf_failed(out)) return fc__err(err, FC_ENOMEM, "gbdt save: out of memory");
  return FC_OK;
}

/* ---------------------------------------------------------- reading */

typedef struct reader {
  const uint8_t *p;
  size_t left;
  int bad;
} reader;

static uint64_t get_u64(reader *r) {
  uint64_t v = 0;
  if (r->left < 8) {
    r->bad = 1;
    return 0;
  }
  for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
  r->p += 8;
  r->left -= 8;
  return v;
}

static uint32_t get_u32(reader *r) {
  uint32_t v = 0;
  if (r->left < 4) {
    r->bad = 1;
    return 0;
  }
  for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[i] << (8 * i);
  r->p += 4;
  r->left -= 4;
  return v;
}

static double get_f64(reader *r) {
  uint64_t u = get_u64(r);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

/* True when n records of size bytes fit in what is left. */
static int fits(const reader *r, uint64_t n, size_t size) { return !r->bad && n <= r->left / size; }

#define CORRUPT(...) fc__err(err, FC_ECORRUPT, "gbdt load: " __VA_ARGS__)

static int read_header(reader *r, const void *data, size_t len, fc_err *err) {
  uint64_t plen, sum;
  uint32_t version;
  const uint8_t *b = data;
  if (data == NULL || len < 32) return CORRUPT("%zu bytes is too short for a model", len);
  if (memcmp(b, MAGIC, 8) != 0) return CORRUPT("not a floatcast gbdt model (bad magic)");
  r->p = b + 8;
  r->left = len - 8;
  r->bad = 0;
  version = get_u32(r);
  (void)get_u32(r);
  plen = get_u64(r);
  if (plen != len - 32)
    return CORRUPT("payload length %llu does not match the %zu bytes given", (unsigned long long)plen, len);
  {
    reader tail = {b + len - 8, 8, 0};
    sum = get_u64(&tail);
  }
  if (sum != fnv1a(b, len - 8)) return CORRUPT("checksum mismatch");
  if (version != FC_GBDT_FORMAT_VERSION)
    return fc__err(err, version > FC_GBDT_FORMAT_VERSION ? FC_EUNSUPPORTED : FC_ECORRUPT,
                   "gbdt load: format version %u (this build reads %d)", version, FC_GBDT_FORMAT_VERSION);
  r->left -= 8; /* the checksum is not payload */
  return FC_OK;
}

static int read_features(reader *r, fc_gbdt *m, fc_err *err) {
  for (size_t f = 0; f < m->nfeat; f++) {
    uint8_t cat;
    uint32_t len;
    char *name;
    if (!fits(r, 1, 5)) return CORRUPT("truncated feature table");
    cat = r->p[0];
    r->p++;
    r->left--;
    len = get_u32(r);
    if (cat > 1 || !fits(r, len, 1)) return CORRUPT("feature %zu: bad name or flag", f);
    if ((name = fc__malloc((size_t)len + 1)) == NULL) return fc__err(err, FC_ENOMEM, "gbdt load: out of memory");
    memcpy(name, r->p, len);
    name[len] = '\0';
    r->p += len;
    r->left -= len;
    fc__free(m->names[f]);
    m->names[f] = name;
    m->is_cat[f] = cat;
  }
  return FC_OK;
}

/* Checks tree t: a binary tree whose children come after their parent. */
static int check_tree(const fc_gbdt *m, size_t t, uint8_t *seen, fc_err *err) {
  uint32_t nn = m->node_begin[t + 1] - m->node_begin[t];
  uint32_t nl = m->leaf_begin[t + 1] - m->leaf_begin[t];
  const fc__gbdt_node *nodes = m->nodes + m->node_begin[t];
  if (nl != nn + 1) return CORRUPT("tree %zu: %u nodes but %u leaves", t, nn, nl);
  memset(seen, 0, (size_t)nn + nl);
  for (uint32_t i = 0; i < nn; i++) {
    const fc__gbdt_node *n = &nodes[i];
    int32_t kids[2];
    kids[0] = n->left;
    kids[1] = n->right;
    if (n->feat < 0 || (size_t)n->feat >= m->nfeat) return CORRUPT("tree %zu: bad feature", t);
    if ((n->meta & FC__NODE_CAT) && (n->meta & FC__NODE_DEFAULT_LEFT)) return CORRUPT("tree %zu: bad flags", t);
    if ((n->meta & FC__NODE_CAT) && (size_t)(n->meta >> 2) >= m->ncat) return CORRUPT("tree %zu: bad category set", t);
    if (!(n->meta & FC__NODE_CAT) && (n->meta >> 2) != 0) return CORRUPT("tree %zu: bad flags", t);
    for (int k = 0; k < 2; k++) {
      int32_t c = kids[k];
      size_t slot;
      if (c >= 0) {
        if ((uint32_t)c <= i || (uint32_t)c >= nn) return CORRUPT("tree %zu: bad child", t);
        slot = (size_t)c;
      } else {
        if ((uint32_t)~c >= nl) return CORRUPT("tree %zu: bad leaf", t);
        slot = nn + (size_t)(uint32_t)~c;
      }
      if (seen[slot]++) return CORRUPT("tree %zu: a child is shared", t);
    }
  }
  return FC_OK;
}

static int read_trees(reader *r, fc_gbdt *m, fc_err *err) {
  uint64_t ntrees = get_u64(r), ncat = get_u64(r), nn = 0, nl = 0;
  uint8_t *seen;
  int rc = FC_OK;
  if (!fits(r, ntrees, 8)) return CORRUPT("truncated tree table");
  if ((m->node_begin = fc__mallocarray((size_t)ntrees + 1, sizeof *m->node_begin)) == NULL ||
      (m->leaf_begin = fc__mallocarray((size_t)ntrees + 1, sizeof *m->leaf_begin)) == NULL)
    return fc__err(err, FC_ENOMEM, "gbdt load: out of memory");
  m->cap_trees = (size_t)ntrees + 1;
  m->node_begin[0] = m->leaf_begin[0] = 0;
  for (uint64_t t = 0; t < ntrees; t++) {
    nn += get_u32(r);
    nl += get_u32(r);
    if (nn > UINT32_MAX || nl > UINT32_MAX) return CORRUPT("too many nodes");
    m->node_begin[t + 1] = (uint32_t)nn;
    m->leaf_begin[t + 1] = (uint32_t)nl;
  }
  m->ntrees = (size_t)ntrees;
  if (!fits(r, nn, 40) || !fits(r, nl, 16) || nn * 40 + nl * 16 > r->left || !fits(r, ncat, 8 * FC__CAT_WORDS) ||
      r->left - nn * 40 - nl * 16 != ncat * 8 * FC__CAT_WORDS)
    return CORRUPT("the node, leaf and category counts do not match the size");
  m->ncat = (size_t)ncat;
  if (fc__gbdt_reserve(m, 0, 0, 0) != FC_OK) /* sizes come from the tables just read */
    return fc__err(err, FC_ENOMEM, "gbdt load: out of memory");
  for (size_t i = 0; i < nn; i++) {
    fc__gbdt_node *n = &m->nodes[i];
    n->thr = get_f64(r);
    n->feat = (int32_t)get_u32(r);
    n->left = (int32_t)get_u32(r);
    n->right = (int32_t)get_u32(r);
    n->meta = get_u32(r);
    m->node_gain[i] = get_f64(r);
    m->node_count[i] = get_f64(r);
  }
  for (size_t i = 0; i < nl; i++) {
    m->leaf_value[i] = get_f64(r);
    m->leaf_count[i] = get_f64(r);
  }
  for (size_t i = 0; i < m->ncat * FC__CAT_WORDS; i++) m->cat_bits[i] = get_u64(r);
  if (r->bad || r->left != 0) return CORRUPT("trailing or missing bytes");
  if ((seen = fc__malloc((size_t)nn + (size_t)nl + 1)) == NULL)
    return fc__err(err, FC_ENOMEM, "gbdt load: out of memory");
  for (size_t t = 0; t < m->ntrees && rc == FC_OK; t++) rc = check_tree(m, t, seen, err);
  fc__free(seen);
  if (rc == FC_OK && fc__gbdt_finalize(m) != FC_OK) rc = fc__err(err, FC_ENOMEM, "gbdt load: out of memory");
  return rc;
}

int fc_gbdt_load(const void *data, size_t len, fc_gbdt **out, fc_err *err) {
  reader r = {NULL, 0, 0};
  fc_gbdt *m = NULL;
  uint64_t nfeat;
  uint32_t obj;
  int rc;
  if (out == NULL) return fc__err(err, FC_EINVAL, "gbdt load: NULL argument");
  *out = NULL;
  if ((rc = read_header(&r, data, len, err)) != FC_OK) return rc;
  nfeat = get_u64(&r);
  obj = get_u32(&r);
  if (nfeat == 0 || !fits(&r, nfeat, 5)) return CORRUPT("bad feature count");
  if (obj > FC_GBDT_TWEEDIE) return CORRUPT("unknown objective %u", obj);
  if ((rc = fc__gbdt_model_new(&m, (size_t)nfeat, err)) != FC_OK) return rc;
  m->objective = (fc_gbdt_objective)obj;
  m->alpha = get_f64(&r);
  m->huber_delta = get_f64(&r);
  m->tweedie_power = get_f64(&r);
  m->base_score = get_f64(&r);
  m->learning_rate = get_f64(&r);
  /* read_trees rebuilds the tree tables; drop the empty ones. */
  fc__free(m->node_begin);
  fc__free(m->leaf_begin);
  m->node_begin = m->leaf_begin = NULL;
  if (r.bad) rc = CORRUPT("truncated header");
  else if ((rc = read_features(&r, m, err)) == FC_OK) rc = read_trees(&r, m, err);
  if (rc == FC_OK && m->node_begin == NULL) rc = CORRUPT("truncated");
  if (rc != FC_OK) {
    fc_gbdt_destroy(m);
    return rc;
  }
  *out = m;
  return FC_OK;
}

/* ------------------------------------------------------------- JSON */

typedef struct jitem {
  const char *text; /* non-NULL: literal to emit */
  int32_t ref;      /* else: node (>= 0) or ~leaf to emit */
} jitem;

static void json_leaf(fc_buf *b, const fc_gbdt *m, size_t t, uint32_t leaf) {
  size_t g = m->leaf_begin[t] + leaf;
  fc_jw w;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "leaf"), fc_jw_int(&w, leaf);
  fc_jw_key(&w, "value"), fc_jw_num(&w, m->leaf_value[g]);
  fc_jw_key(&w, "count"), fc_jw_num(&w, m->leaf_count[g]);
  fc_jw_end(&w);
}

static void json_categories(fc_jw *w, const fc_gbdt *m, const fc__gbdt_node *n) {
  const uint64_t *bits = m->cat_bits + (size_t)(n->meta >> 2) * FC__CAT_WORDS;
  fc_jw_key(w, "categories_left"), fc_jw_array(w);
  for (int c = 0; c < 64 * FC__CAT_WORDS; c++)
    if ((bits[c >> 6] >> (c & 63)) & 1u) fc_jw_int(w, c);
  fc_jw_end(w);
}

/* A split node's object up to its "left" key. Trees nest deeper than the
 * JSON writer's stack, so the node's own writer stops there and the walk
 * (json_tree) writes the children and closes the object. */
static void json_node_head(fc_buf *b, const fc_gbdt *m, size_t t, int32_t i) {
  size_t g = m->node_begin[t] + (size_t)i;
  const fc__gbdt_node *n = &m->nodes[g];
  fc_jw w;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "split"), fc_jw_str(&w, m->names[n->feat]);
  fc_jw_key(&w, "feature"), fc_jw_int(&w, n->feat);
  if (n->meta & FC__NODE_CAT) {
    json_categories(&w, m, n);
  } else {
    fc_jw_key(&w, "threshold"), fc_jw_num(&w, n->thr);
    fc_jw_key(&w, "missing"), fc_jw_str(&w, (n->meta & FC__NODE_DEFAULT_LEFT) ? "left" : "right");
  }
  fc_jw_key(&w, "gain"), fc_jw_num(&w, m->node_gain[g]);
  fc_jw_key(&w, "count"), fc_jw_num(&w, m->node_count[g]);
  fc_jw_key(&w, "left");
}

/* Writes tree t depth-first with an explicit stack (no recursion, so a deep
 * chain of splits cannot exhaust the C stack). */
static int json_tree(fc_buf *b, const fc_gbdt *m, size_t t, jitem *stack) {
  size_t sp = 0;
  uint32_t nn = m->node_begin[t + 1] - m->node_begin[t];
  stack[sp].text = NULL;
  stack[sp++].ref = nn > 0 ? 0 : -1;
  while (sp > 0) {
    jitem it = stack[--sp];
    if (it.text) {
      fc_buf_puts(b, it.text);
    } else if (it.ref < 0) {
      json_leaf(b, m, t, (uint32_t)~it.ref);
    } else {
      const fc__gbdt_node *n = &m->nodes[m->node_begin[t] + (size_t)it.ref];
      json_node_head(b, m, t, it.ref);
      stack[sp].text = "}";
      stack[sp++].ref = 0;
      stack[sp].text = NULL;
      stack[sp++].ref = n->right;
      stack[sp].text = ",\"right\":"; /* the one key the walk writes: after the left subtree */
      stack[sp++].ref = 0;
      stack[sp].text = NULL;
      stack[sp++].ref = n->left;
    }
  }
  return FC_OK;
}

/* format, version, the objective and its parameter, link, base score,
 * learning rate and the features. */
static void json_head(fc_jw *w, const fc_gbdt *m) {
  fc_jw_key(w, "format"), fc_jw_str(w, "floatcast-gbdt");
  fc_jw_key(w, "version"), fc_jw_int(w, FC_GBDT_FORMAT_VERSION);
  fc_jw_key(w, "objective"), fc_jw_str(w, fc_gbdt_objective_name(m->objective));
  if (m->objective == FC_GBDT_QUANTILE) fc_jw_key(w, "alpha"), fc_jw_num(w, m->alpha);
  else if (m->objective == FC_GBDT_HUBER) fc_jw_key(w, "huber_delta"), fc_jw_num(w, m->huber_delta);
  else if (m->objective == FC_GBDT_TWEEDIE) fc_jw_key(w, "tweedie_power"), fc_jw_num(w, m->tweedie_power);
  fc_jw_key(w, "link");
  fc_jw_str(w, (m->objective == FC_GBDT_POISSON || m->objective == FC_GBDT_TWEEDIE) ? "log" : "identity");
  fc_jw_key(w, "base_score"), fc_jw_num(w, m->base_score);
  fc_jw_key(w, "learning_rate"), fc_jw_num(w, m->learning_rate);
  fc_jw_key(w, "features"), fc_jw_array(w);
  for (size_t f = 0; f < m->nfeat; f++) {
    fc_jw_object(w);
    fc_jw_key(w, "name"), fc_jw_str(w, m->names[f]);
    fc_jw_key(w, "categorical"), fc_jw_bool(w, m->is_cat[f]);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

int fc_gbdt_dump_json(const fc_gbdt *m, fc_buf *b, fc_err *err) {
  size_t maxn = 0;
  jitem *stack;
  fc_jw w;
  if (m == NULL || b == NULL) return fc__err(err, FC_EINVAL, "gbdt dump: NULL argument");
  for (size_t t = 0; t < m->ntrees; t++) maxn = FC__MAX(maxn, (size_t)(m->node_begin[t + 1] - m->node_begin[t]));
  if ((stack = fc__mallocarray(3 * maxn + 4, sizeof *stack)) == NULL)
    return fc__err(err, FC_ENOMEM, "gbdt dump: out of memory");
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  json_head(&w, m);
  fc_jw_key(&w, "num_trees"), fc_jw_int(&w, (long long)m->ntrees);
  fc_jw_key(&w, "trees"), fc_jw_array(&w);
  for (size_t t = 0; t < m->ntrees; t++) {
    fc_jw_value(&w); /* each tree on its own line */
    fc_buf_putc(b, '\n');
    json_tree(b, m, t, stack);
  }
  fc_jw_end(&w);
  fc_jw_end(&w);
  fc_buf_putc(b, '\n');
  fc__free(stack);
  if (fc_jw_finish(&w) != FC_OK) return fc__err(err, FC_ENOMEM, "gbdt dump: out of memory");
  return FC_OK;
}
