/* flowmodels.c: per-tenant fitted flow models with reference counts. */
#include "flowmodels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "db.h"
#include "fc/time.h"

/* A kept model; `refs` counts the cache's own reference and every handed
 * out one, so a replaced model lives until its last reader releases it. */
typedef struct entry {
  char tenant[FC_TEXT_MAX + 1];
  fc_flowsim *model;
  int refs;
  int kept; /* still the tenant's current model */
} entry;

/* Path stores kept idle at most. Each holds, per currency of the last
 * projection it served, paths x hours doubles (0.8 MB for 1,000 x 96 h):
 * a what-if after another re-reads the top one, so a few serve the reuse
 * and more would only hold memory. */
#define IDLE_PATHS 4

struct gw_flowmodels {
  uv_mutex_t lock;
  entry **e;
  size_t n, cap;
  fc_flowsim_cache *idle[IDLE_PATHS]; /* last returned on top: the likeliest to hold the next what-if's paths */
  int n_idle;
  uint64_t fits, hits, misses, path_reuses, path_sims;
};

int gw_flowmodels_create(gw_flowmodels **out) {
  gw_flowmodels *f = calloc(1, sizeof *f);
  *out = NULL;
  if (f == NULL) return FC_ENOMEM;
  if (uv_mutex_init(&f->lock) != 0) {
    free(f);
    return FC_ENOMEM;
  }
  *out = f;
  return FC_OK;
}

static void entry_free(entry *x) {
  fc_flowsim_destroy(x->model);
  free(x);
}

void gw_flowmodels_destroy(gw_flowmodels *f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->n; i++) entry_free(f->e[i]);
  for (int i = 0; i < f->n_idle; i++) fc_flowsim_cache_destroy(f->idle[i]);
  free(f->e);
  uv_mutex_destroy(&f->lock);
  free(f);
}

/* Drops one reference of e[i] (under the lock); frees it at zero. */
static void unref_at(gw_flowmodels *f, size_t i) {
  entry *x = f->e[i];
  if (--x->refs > 0) return;
  entry_free(x);
  f->e[i] = f->e[--f->n];
}

const fc_flowsim *gw_flowmodels_get(gw_flowmodels *f, const char *tenant, const fc_treasury *t, int64_t now) {
  entry *found = NULL;
  if (f == NULL) return NULL;
  uv_mutex_lock(&f->lock);
  for (size_t i = 0; i < f->n && !found; i++)
    if (f->e[i]->kept && strcmp(f->e[i]->tenant, tenant) == 0) found = f->e[i];
  if (found) found->refs++;
  uv_mutex_unlock(&f->lock);
  /* Matching reads the treasury: outside the lock. */
  if (found && fc_flowsim_matches(found->model, t, tenant, now)) {
    uv_mutex_lock(&f->lock);
    f->hits++;
    uv_mutex_unlock(&f->lock);
    return found->model;
  }
  uv_mutex_lock(&f->lock);
  f->misses++;
  uv_mutex_unlock(&f->lock);
  if (found) gw_flowmodels_release(f, found->model);
  return NULL;
}

void gw_flowmodels_release(gw_flowmodels *f, const fc_flowsim *m) {
  int held = 0;
  if (m == NULL) return;
  if (f != NULL) {
    uv_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n && !held; i++)
      if (f->e[i]->model == m) {
        unref_at(f, i);
        held = 1;
      }
    uv_mutex_unlock(&f->lock);
  }
  /* A model fitted for one request and never kept. */
  if (!held) fc_flowsim_destroy((fc_flowsim *)m);
}

/* Keeps m as the tenant's model, replacing (and unreferencing) the old. */
static int put(gw_flowmodels *f, const char *tenant, fc_flowsim *m) {
  entry *x = calloc(1, sizeof *x);
  if (x == NULL) return FC_ENOMEM;
  snprintf(x->tenant, sizeof x->tenant, "%s", tenant);
  x->model = m;
  x->refs = 1;
  x->kept = 1;
  uv_mutex_lock(&f->lock);
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 8;
    entry **e = realloc(f->e, cap * sizeof *e);
    if (e == NULL) {
      uv_mutex_unlock(&f->lock);
      free(x);
      return FC_ENOMEM;
    }
    f->e = e, f->cap = cap;
  }
  for (size_t i = 0; i < f->n; i++)
    if (f->e[i]->kept && strcmp(f->e[i]->tenant, tenant) == 0) {
      f->e[i]->kept = 0;
      unref_at(f, i);
      break;
    }
  f->e[f->n++] = x;
  f->fits++;
  uv_mutex_unlock(&f->lock);
  return FC_OK;
}

int gw_flowmodels_acquire(gw_flowmodels *f, const char *tenant, const fc_treasury *t, int64_t now,
                          const fc_flowsim **out, fc_err *err) {
  fc_flowsim_params p = fc_flowsim_defaults();
  fc_flowsim *m;
  int rc;
  if ((*out = gw_flowmodels_get(f, tenant, t, now)) != NULL) return FC_OK;
  p.now = now;
  p.tenant_id = tenant;
  if ((rc = fc_flowsim_fit(t, &p, &m, err)) != FC_OK) return rc;
  if (f != NULL && now == fc_treasury_default_now(t, tenant) && put(f, tenant, m) == FC_OK) {
    /* Kept: the caller's reference is a second one. */
    uv_mutex_lock(&f->lock);
    f->e[f->n - 1]->refs++;
    uv_mutex_unlock(&f->lock);
  }
  *out = m;
  return FC_OK;
}

int gw_flowmodels_refresh(gw_flowmodels *f, gw_db *db, const char *tenant, fc_err *err) {
  fc_treasury *t = fc_treasury_create(NULL);
  fc_flowsim_params p = fc_flowsim_defaults();
  fc_flowsim *m = NULL;
  int rc = t ? gw_db_load_tenant(db, tenant, t, err) : FC_ENOMEM;
  if (rc == FC_OK && (p.now = fc_treasury_default_now(t, tenant)) == FC_TIME_NONE) rc = FC_ENOTFOUND;
  p.tenant_id = tenant;
  if (rc == FC_OK) rc = fc_flowsim_fit(t, &p, &m, err);
  if (rc == FC_OK && (rc = put(f, tenant, m)) != FC_OK) fc_flowsim_destroy(m);
  fc_treasury_destroy(t);
  return rc;
}

/* A path store for one projection: an idle one, else a new one (NULL
 * when out of memory: the projection simulates without). */
static fc_flowsim_cache *borrow_paths(gw_flowmodels *f) {
  fc_flowsim_cache *c = NULL;
  uv_mutex_lock(&f->lock);
  if (f->n_idle > 0) c = f->idle[--f->n_idle];
  uv_mutex_unlock(&f->lock);
  return c != NULL ? c : fc_flowsim_cache_create();
}

/* Takes c back, counting what it did since it was lent. */
static void return_paths(gw_flowmodels *f, fc_flowsim_cache *c, uint64_t hits0, uint64_t misses0) {
  uint64_t hits, misses;
  if (c == NULL) return;
  fc_flowsim_cache_stats(c, &hits, &misses);
  uv_mutex_lock(&f->lock);
  f->path_reuses += hits - hits0;
  f->path_sims += misses - misses0;
  if (f->n_idle < IDLE_PATHS) f->idle[f->n_idle++] = c, c = NULL;
  uv_mutex_unlock(&f->lock);
  fc_flowsim_cache_destroy(c);
}

int gw_flowmodels_project(gw_flowmodels *f, const char *tenant, const fc_treasury *t, fc_project_request *req,
                          fc_projection **out, fc_err *err) {
  uint64_t hits0 = 0, misses0 = 0;
  int rc;
  if (req->method != FC_PROJECT_ML) return fc_project(t, req, out, err);
  if ((rc = gw_flowmodels_acquire(f, tenant, t, req->p.now, &req->model, err)) != FC_OK) return rc;
  req->sim_cache = f != NULL ? borrow_paths(f) : NULL;
  fc_flowsim_cache_stats(req->sim_cache, &hits0, &misses0);
  rc = fc_project(t, req, out, err);
  if (f != NULL) return_paths(f, req->sim_cache, hits0, misses0);
  req->sim_cache = NULL;
  gw_flowmodels_release(f, req->model);
  req->model = NULL;
  return rc;
}

void gw_flowmodels_get_stats(gw_flowmodels *f, gw_flowmodels_stats *s) {
  uv_mutex_lock(&f->lock);
  s->fits = f->fits, s->hits = f->hits, s->misses = f->misses;
  s->path_reuses = f->path_reuses, s->path_sims = f->path_sims;
  uv_mutex_unlock(&f->lock);
}

void gw_flowmodels_write_metrics(gw_flowmodels *f, fc_buf *out) {
  gw_flowmodels_stats s;
  gw_flowmodels_get_stats(f, &s);
  fc_buf_printf(out,
                "# HELP floatcast_flow_models_total Treasury flow models: kept (fitted at a tenant's "
                "default now), reused by a projection, fitted for one projection.\n"
                "# TYPE floatcast_flow_models_total counter\n"
                "floatcast_flow_models_total{outcome=\"kept\"} %llu\n"
                "floatcast_flow_models_total{outcome=\"reused\"} %llu\n"
                "floatcast_flow_models_total{outcome=\"fitted\"} %llu\n"
                "# HELP floatcast_flow_paths_total Simulated path sets of one currency: re-read from a "
                "kept path store (a what-if or floor change of the same model) or simulated.\n"
                "# TYPE floatcast_flow_paths_total counter\n"
                "floatcast_flow_paths_total{outcome=\"reused\"} %llu\n"
                "floatcast_flow_paths_total{outcome=\"simulated\"} %llu\n",
                (unsigned long long)s.fits, (unsigned long long)s.hits, (unsigned long long)s.misses,
                (unsigned long long)s.path_reuses, (unsigned long long)s.path_sims);
}
