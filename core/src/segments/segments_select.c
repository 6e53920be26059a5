/* segments_select.c: the selection of transactions or day rows that pass
 * the filters, their strings ranked once (so sorting compares integers),
 * and their order by (partner, user, day, type, category, scale), in which
 * rows of one key are merged as they are folded (segments_features.c). */
#include "segments_select.h"
#include "internal.h"
#include "pool.h"

#include <string.h>

#define DAY FC__SEG_DAY

#define CMP_FIELD(f) \
  if (x->f != y->f) return x->f < y->f ? -1 : 1

int fc__seg_cmp_key(const grp *x, const grp *y) {
  CMP_FIELD(partner);
  CMP_FIELD(user);
  CMP_FIELD(day);
  CMP_FIELD(type);
  CMP_FIELD(cat);
  CMP_FIELD(scale);
  return 0;
}

static int cmp_grp(const void *a, const void *b) {
  const grp *x = a, *y = b;
  int c = fc__seg_cmp_key(x, y);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

int fc__seg_same_user(const grp *a, const grp *b) { return a->partner == b->partner && a->user == b->user; }

void fc__seg_sel_free(sel *s) {
  fc__free(s->g);
  fc__free(s->perm);
  fc__free(s->user_start);
  fc__free((void *)s->partner);
  fc__free((void *)s->user);
  fc__free((void *)s->type);
  fc__free((void *)s->cat);
  memset(s, 0, sizeof *s);
}

static int sel_alloc(sel *s, size_t n) {
  size_t m = n ? n : 1;
  memset(s, 0, sizeof *s);
  s->g = fc__mallocarray(m, sizeof *s->g);
  s->partner = fc__mallocarray(m, sizeof *s->partner);
  s->user = fc__mallocarray(m, sizeof *s->user);
  s->type = fc__mallocarray(m, sizeof *s->type);
  s->cat = fc__mallocarray(m, sizeof *s->cat);
  return s->g && s->partner && s->user && s->type && s->cat ? FC_OK : FC_ENOMEM;
}

static void sel_add(sel *s, const char *partner, const char *user, const char *type, const char *cat, int64_t day,
                    int scale, int64_t count, int64_t purchases, int64_t spend, int64_t refund) {
  grp *g = &s->g[s->n];
  memset(g, 0, sizeof *g);
  g->day = day;
  g->scale = scale;
  g->i = s->base + s->n;
  g->count = count;
  g->purchases = purchases;
  g->spend = spend;
  g->refund = refund;
  s->partner[s->n] = partner;
  s->user[s->n] = user;
  s->type[s->n] = type && type[0] ? type : "purchase";
  s->cat[s->n++] = cat && cat[0] ? cat : NULL;
}

static int currency_differs(const char *what, size_t i, const char *id, const char *ccy, const char *first,
                            fc_err *err) {
  return fc__err(err, FC_EINVAL,
                 "%s %zu (%s): currency %s differs from %s; segment one currency at a time "
                 "(filter by partner)",
                 what, i, id, ccy, first);
}

static int same_text(const char *a, const char *b) { return a == b || strcmp(a, b) == 0; } /* stores share one copy */

/* The currency check both inputs share. */
static int same_currency(sel *s, const char *ccy, const char *what, size_t i, const char *id, fc_err *err) {
  if (s->n == 0) {
    s->currency = ccy;
    return FC_OK;
  }
  return same_text(ccy, s->currency) ? FC_OK : currency_differs(what, i, id, ccy, s->currency, err);
}

static int is_refund(const fc_transaction *t) {
  return t->amount < 0 || (t->transaction_type && strcmp(t->transaction_type, "refund") == 0);
}

/* Selects the transactions that pass the filters, one group each. */
int fc__seg_select_txns(const fc_transaction *tx, size_t n, const fc_segments_params *p, sel *s, fc_err *err) {
  if (n > 0 && tx == NULL) return fc__err(err, FC_EINVAL, "transactions: NULL array");
  if (sel_alloc(s, n) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const fc_transaction *t = &tx[i];
    const char *id = t->id ? t->id : "no id";
    int refund = is_refund(t), bought = !refund && t->amount > 0;
    if (!t->partner_id || !t->partner_id[0] || !t->user_id || !t->user_id[0])
      return fc__err(err, FC_EINVAL, "transaction %zu (%s): missing partner_id or user_id", i, id);
    if (t->scale < 0 || t->scale > 9)
      return fc__err(err, FC_EINVAL, "transaction %zu (%s): scale %d outside [0, 9]", i, id, t->scale);
    if (p->partner_id && strcmp(p->partner_id, t->partner_id) != 0) continue;
    if (t->action_date < p->from || t->action_date >= p->to) continue;
    if (same_currency(s, t->currency, "transaction", i, id, err) != FC_OK) return err->code;
    sel_add(s, t->partner_id, t->user_id, t->transaction_type, t->category, fc__seg_day_of(t->action_date), t->scale, 1,
            bought, bought ? t->amount : 0, refund ? (t->amount < 0 ? -t->amount : t->amount) : 0);
  }
  return FC_OK;
}

/* Selects the day rows that pass the filters (from/to on midnights). */
/* One day row: checked, and selected when it passes the filters. i: its
 * index over all pieces (for messages). */
static int select_day(const fc_seg_day *r, size_t i, int64_t lo, int64_t hi, const fc_segments_params *p, sel *s,
                      fc_err *err) {
  if (!r->partner_id || !r->partner_id[0] || !r->user_id || !r->user_id[0])
    return fc__err(err, FC_EINVAL, "day row %zu: missing partner_id or user_id", i);
  if (r->scale < 0 || r->scale > 9 || r->count < 1 || r->purchases < 0 || r->purchases > r->count || r->spend < 0 ||
      r->refund < 0)
    return fc__err(err, FC_EINVAL, "day row %zu (%s): scale, count or sums out of range", i, r->user_id);
  if (p->partner_id && strcmp(p->partner_id, r->partner_id) != 0) return FC_OK;
  if (r->day < lo || r->day >= hi) return FC_OK;
  int rc = same_currency(s, r->currency ? r->currency : "", "day row", i, r->user_id, err);
  if (rc != FC_OK) return rc;
  sel_add(s, r->partner_id, r->user_id, r->transaction_type, r->category, r->day, r->scale, r->count, r->purchases,
          r->spend, r->refund);
  return FC_OK;
}

/* The day rows in SELECT_CHUNKS ranges of the input side by side: each
 * range selects into the selection's arrays from its own first row on
 * (a range keeps at most its rows), remembering its first selected row,
 * that row's currency and its first error; the ranges are then joined in
 * input order, so the selection, and the first error in row order, are
 * those of one pass. */
#define SELECT_CHUNKS 8

typedef struct chunk {
  size_t lo, hi; /* input rows [lo, hi) over all pieces */
  sel view;      /* into the selection's arrays from lo; view.n: selected */
  size_t first;  /* input index of the first selected row */
  size_t err_at; /* input index of the first error (SIZE_MAX: none) */
  fc_err err;
} chunk;

typedef struct day_select {
  const fc_seg_day *const *parts;
  const size_t *counts;
  size_t n_parts;
  int64_t lo, hi; /* days */
  const fc_segments_params *p;
  chunk c[SELECT_CHUNKS];
} day_select;

static void select_chunk(void *arg, size_t k) {
  day_select *ds = arg;
  chunk *c = &ds->c[k];
  size_t at = 0; /* the input index of parts[piece][0] */
  for (size_t piece = 0; piece < ds->n_parts && at < c->hi; at += ds->counts[piece++])
    for (size_t i = c->lo > at ? c->lo - at : 0; i < ds->counts[piece] && at + i < c->hi; i++) {
      size_t before = c->view.n;
      if (select_day(&ds->parts[piece][i], at + i, ds->lo, ds->hi, ds->p, &c->view, &c->err) != FC_OK) {
        c->err_at = at + i;
        return;
      }
      if (before == 0 && c->view.n == 1) c->first = at + i;
    }
}

static void view_of(sel *s, size_t from, sel *v) {
  memset(v, 0, sizeof *v);
  v->g = s->g + from;
  v->partner = s->partner + from;
  v->user = s->user + from;
  v->type = s->type + from;
  v->cat = s->cat + from;
  v->base = from;
}

/* Moves range c's rows down to place `to` of the selection. */
static void move_chunk(sel *s, const chunk *c, size_t to) {
  size_t m = c->view.n;
  if (to == c->lo || m == 0) return;
  memmove(s->g + to, s->g + c->lo, m * sizeof *s->g);
  memmove(s->partner + to, s->partner + c->lo, m * sizeof *s->partner);
  memmove(s->user + to, s->user + c->lo, m * sizeof *s->user);
  memmove(s->type + to, s->type + c->lo, m * sizeof *s->type);
  memmove(s->cat + to, s->cat + c->lo, m * sizeof *s->cat);
  for (size_t j = 0; j < m; j++) s->g[to + j].i = to + j;
}

/* Joins the ranges in input order; the first error in row order wins. */
static int join_chunks(day_select *ds, sel *s, fc_err *err) {
  for (int k = 0; k < SELECT_CHUNKS; k++) {
    chunk *c = &ds->c[k];
    int failed = c->err_at != SIZE_MAX; /* a range stops at its first error: its rows selected come before */
    if (failed && c->view.n == 0) return fc__err(err, c->err.code, "%s", c->err.msg);
    if (c->view.n > 0 && s->n > 0 && !same_text(c->view.currency, s->currency))
      return currency_differs("day row", c->first, s->user[c->lo], c->view.currency, s->currency, err);
    if (failed) return fc__err(err, c->err.code, "%s", c->err.msg);
    if (c->view.n > 0 && s->n == 0) s->currency = c->view.currency;
    move_chunk(s, c, s->n);
    s->n += c->view.n;
  }
  return FC_OK;
}

int fc__seg_select_days(const fc_seg_day *const *parts, const size_t *counts, size_t n_parts,
                        const fc_segments_params *p, sel *s, fc_err *err) {
  int64_t lo = p->from == INT64_MIN ? INT64_MIN : fc__seg_day_of(p->from);
  int64_t hi = p->to == INT64_MAX ? INT64_MAX : fc__seg_day_of(p->to);
  size_t n = 0, at = 0;
  for (size_t k = 0; k < n_parts; k++) {
    if (counts[k] > 0 && parts[k] == NULL) return fc__err(err, FC_EINVAL, "day rows: NULL array");
    n += counts[k];
  }
  if ((p->from != INT64_MIN && p->from % DAY != 0) || (p->to != INT64_MAX && p->to % DAY != 0))
    return fc__err(err, FC_EINVAL, "day rows: from and to must fall on midnights (UTC)");
  if (sel_alloc(s, n) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
  if (p->parallel.run != NULL) {
    day_select *ds = fc__calloc(1, sizeof *ds);
    int rc;
    if (ds == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    *ds = (day_select){parts, counts, n_parts, lo, hi, p, {{0}}};
    for (size_t k = 0; k < SELECT_CHUNKS; k++) {
      chunk *c = &ds->c[k];
      c->lo = n * k / SELECT_CHUNKS;
      c->hi = n * (k + 1) / SELECT_CHUNKS;
      c->err_at = SIZE_MAX;
      view_of(s, c->lo, &c->view);
    }
    p->parallel.run(p->parallel.ctx, SELECT_CHUNKS, select_chunk, ds);
    rc = join_chunks(ds, s, err);
    fc__free(ds);
    return rc;
  }
  for (size_t k = 0; k < n_parts; k++)
    for (size_t i = 0; i < counts[k]; i++, at++) {
      int rc = select_day(&parts[k][i], at, lo, hi, p, s, err);
      if (rc != FC_OK) return rc;
    }
  return FC_OK;
}

/* ---- ranking strings ---- */

typedef struct named {
  const char *s;
  size_t id;
} named;

static int cmp_named(const void *a, const void *b) { return strcmp(((const named *)a)->s, ((const named *)b)->s); }

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* A direct-mapped memo of pointers already ranked: a store hands out each
 * distinct string once (the gateway's rollup reads), so most rows are
 * ranked by their pointer without hashing the string; rows whose strings
 * are all separate copies only miss it. */
#define PTR_MEMO 65536
typedef struct ptr_memo {
  const char *p;
  int32_t id;
} ptr_memo;

/* rank[i] = the place of s[i] among the distinct strings of s[0..n-1] in
 * strcmp order (-1 for NULL); with names, *names (allocated) are those
 * strings in that order; *count their number. */
static int rank_strings(const char **s, size_t n, int32_t *rank, const char ***names, size_t *count) {
  fc__map m;
  named *dist = fc__mallocarray(n ? n : 1, sizeof *dist);
  ptr_memo *memo = fc__calloc(PTR_MEMO, sizeof *memo);
  size_t *place = NULL, nd = 0;
  int rc = dist && memo ? FC_OK : FC_ENOMEM;
  fc__map_init(&m);
  for (size_t i = 0; i < n && rc == FC_OK; i++) {
    size_t v;
    ptr_memo *pm;
    if (!s[i]) {
      rank[i] = -1;
      continue;
    }
    if (i > 0 && s[i - 1] == s[i]) { /* the same pointer: the same string */
      rank[i] = rank[i - 1];
      continue;
    }
    pm = &memo[(size_t)(mix64((uint64_t)(uintptr_t)s[i]) & (PTR_MEMO - 1))];
    if (pm->p == s[i]) {
      rank[i] = pm->id;
      continue;
    }
    if ((v = fc__map_get(&m, s[i])) == SIZE_MAX) {
      dist[nd].s = s[i];
      dist[nd].id = v = nd;
      nd++;
      rc = fc__map_put(&m, s[i], v);
    }
    rank[i] = (int32_t)v;
    pm->p = s[i];
    pm->id = (int32_t)v;
  }
  fc__map_free(&m);
  fc__free(memo);
  if (rc == FC_OK && (place = fc__mallocarray(nd ? nd : 1, sizeof *place)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK && names && (*names = fc__mallocarray(nd ? nd : 1, sizeof **names)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK) {
    qsort(dist, nd, sizeof *dist, cmp_named);
    for (size_t a = 0; a < nd; a++) {
      place[dist[a].id] = a;
      if (names) (*names)[a] = dist[a].s;
    }
    for (size_t i = 0; i < n; i++)
      if (rank[i] >= 0) rank[i] = (int32_t)place[rank[i]];
    *count = nd;
  }
  fc__free(dist);
  fc__free(place);
  return rc;
}

/* ---- sorting by user ---- */

typedef struct pairkey {
  uint64_t key; /* partner rank << 32 | user rank */
  size_t id;
} pairkey;

static int cmp_pairkey(const void *a, const void *b) {
  uint64_t x = ((const pairkey *)a)->key, y = ((const pairkey *)b)->key;
  return (x > y) - (x < y);
}

static uint64_t pair_of(const grp *g) { return (uint64_t)g->partner << 32 | g->user; }

/* rank_users for few partners x users: (partner, user) indexes an array
 * directly, whose order is the pairs' order. np * nus <= 4 * n + 65536. */
static int rank_users_direct(const grp *g, size_t n, size_t nus, size_t cells, size_t *rank, size_t *count) {
  size_t *place = fc__mallocarray(cells ? cells : 1, sizeof *place), nd = 0;
  if (place == NULL) return FC_ENOMEM;
  for (size_t c = 0; c < cells; c++) place[c] = 0;
  for (size_t i = 0; i < n; i++) place[(size_t)g[i].partner * nus + g[i].user] = 1;
  for (size_t c = 0; c < cells; c++) place[c] = place[c] ? nd++ : SIZE_MAX;
  for (size_t i = 0; i < n; i++) rank[i] = place[(size_t)g[i].partner * nus + g[i].user];
  *count = nd;
  fc__free(place);
  return FC_OK;
}

/* rank[i] = the place of row i's (partner, user) among the distinct pairs
 * in (partner, user) order; *count their number. np and nus: how many
 * distinct partners and users there are (the ranks' bounds). */
static int rank_users(const grp *g, size_t n, size_t np, size_t nus, size_t *rank, size_t *count) {
  size_t cap = 64, nd = 0;
  if (nus && np <= (4 * n + 65536) / nus) return rank_users_direct(g, n, nus, np * nus, rank, count);
  while (cap < 2 * n) cap *= 2;
  uint64_t *slot_key = fc__mallocarray(cap, sizeof *slot_key);
  size_t *slot_id = fc__mallocarray(cap, sizeof *slot_id), *place = NULL;
  pairkey *dist = fc__mallocarray(n ? n : 1, sizeof *dist);
  int rc = slot_key && slot_id && dist ? FC_OK : FC_ENOMEM;
  for (size_t j = 0; rc == FC_OK && j < cap; j++) slot_id[j] = SIZE_MAX;
  for (size_t i = 0; rc == FC_OK && i < n; i++) {
    uint64_t k = pair_of(&g[i]);
    size_t j = (size_t)mix64(k) & (cap - 1);
    while (slot_id[j] != SIZE_MAX && slot_key[j] != k) j = (j + 1) & (cap - 1);
    if (slot_id[j] == SIZE_MAX) {
      slot_key[j] = k;
      slot_id[j] = nd;
      dist[nd].key = k;
      dist[nd].id = nd;
      nd++;
    }
    rank[i] = slot_id[j];
  }
  if (rc == FC_OK && (place = fc__mallocarray(nd ? nd : 1, sizeof *place)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK) {
    qsort(dist, nd, sizeof *dist, cmp_pairkey);
    for (size_t a = 0; a < nd; a++) place[dist[a].id] = a;
    for (size_t i = 0; i < n; i++) rank[i] = place[rank[i]];
    *count = nd;
  }
  fc__free(slot_key);
  fc__free(slot_id);
  fc__free(dist);
  fc__free(place);
  return rc;
}

/* Sorts one user's rows g[perm[a..b)] by cmp_grp through a copy (C has no
 * qsort with a context); perm gets their selection indices back. */
static int sort_user_rows(const grp *g, size_t *perm, size_t a, size_t b) {
  grp *tmp = fc__mallocarray(b - a, sizeof *tmp);
  if (tmp == NULL) return FC_ENOMEM;
  for (size_t k = a; k < b; k++) tmp[k - a] = g[perm[k]];
  qsort(tmp, b - a, sizeof *tmp, cmp_grp);
  for (size_t k = a; k < b; k++) perm[k] = tmp[k - a].i;
  fc__free(tmp);
  return FC_OK;
}

int fc__seg_sort_user(sel *s, size_t u) {
  size_t a = s->user_start[u], b = s->user_start[u + 1], k = a + 1;
  while (k < b && cmp_grp(&s->g[s->perm[k - 1]], &s->g[s->perm[k]]) < 0) k++;
  return k < b ? sort_user_rows(s->g, s->perm, a, b) : FC_OK;
}

/* s->perm: the groups by user, from a stable counting sort by user
 * (s->user_start: where each user's rows begin); each user's rows are put
 * in cmp_grp order afterwards (fc__seg_sort_user), where they are not in
 * order already (rows come in time order from a store or a partner's
 * export). The rows themselves stay put: moving a million 64-byte rows (and
 * the pages of a second copy) cost more than everything else before
 * clustering. */
static int sort_groups(sel *s, size_t np, size_t nus) {
  size_t n = s->n, nu = 0;
  size_t *rank = fc__mallocarray(n ? n : 1, sizeof *rank), *start = NULL;
  int rc;
  s->perm = fc__mallocarray(n ? n : 1, sizeof *s->perm);
  rc = rank && s->perm ? rank_users(s->g, n, np, nus, rank, &nu) : FC_ENOMEM;
  if (rc == FC_OK && (start = fc__calloc(nu + 2, sizeof *start)) == NULL) rc = FC_ENOMEM;
  if (rc == FC_OK) {
    for (size_t i = 0; i < n; i++) start[rank[i] + 2]++;
    for (size_t u = 0; u < nu; u++) start[u + 2] += start[u + 1];
    for (size_t i = 0; i < n; i++) s->perm[start[rank[i] + 1]++] = i; /* start[u + 1]: user u's next place */
    s->n_users = nu;
    s->user_start = start; /* now user u begins at start[u] */
    start = NULL;
  }
  fc__free(rank);
  fc__free(start);
  return rc;
}

/* The four string columns (partner, user, type, category) ranked apart,
 * each its own task: each writes its own field of the groups. */
typedef struct column_ranks {
  sel *s;
  fc_segments_result *r;
  size_t distinct[4];
  int rc[4];
} column_ranks;

static void rank_column(void *arg, size_t c) {
  column_ranks *cr = arg;
  sel *s = cr->s;
  const char **const cols[4] = {s->partner, s->user, s->type, s->cat};
  int32_t *rank = fc__mallocarray(s->n ? s->n : 1, sizeof *rank);
  if (rank == NULL) {
    cr->rc[c] = FC_ENOMEM;
    return;
  }
  cr->rc[c] = rank_strings((const char **)cols[c], s->n, rank,
                           c == 2   ? &cr->r->types
                           : c == 3 ? &cr->r->categories
                                    : NULL,
                           &cr->distinct[c]);
  for (size_t i = 0; i < s->n && cr->rc[c] == FC_OK; i++) {
    grp *g = &s->g[i]; /* g->i == i */
    if (c == 0) g->partner = (uint32_t)rank[i];
    else if (c == 1) g->user = (uint32_t)rank[i];
    else if (c == 2) g->type = (uint32_t)rank[i];
    else g->cat = rank[i];
  }
  fc__free(rank);
}

/* Ranks the selection's strings (types and categories become the result's
 * names) and orders the groups (s->perm); rows of one key are merged as
 * they are folded (build_users). */
int fc__seg_order_groups(sel *s, fc_segments_result *r, fc_parallel par) {
  column_ranks cr = {s, r, {0, 0, 0, 0}, {FC_OK, FC_OK, FC_OK, FC_OK}};
  if (par.run != NULL) par.run(par.ctx, 4, rank_column, &cr);
  else
    for (size_t c = 0; c < 4; c++) rank_column(&cr, c);
  for (int c = 0; c < 4; c++)
    if (cr.rc[c] != FC_OK) return cr.rc[c];
  r->n_types = cr.distinct[2];
  r->n_categories = cr.distinct[3];
  return sort_groups(s, cr.distinct[0], cr.distinct[1]);
}
