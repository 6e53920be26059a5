/* projection.c: the Tier-1 rule projection, depletion, rebalancing, JSON. */
#include "fc/projection.h"
#include "fc/time.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CCY 64
static const int depletion_hours[4] = {24, 48, 72, 96};

fc_projection_params fc_projection_defaults(void) {
  fc_projection_params p;
  memset(&p, 0, sizeof p);
  p.now = FC_TIME_NONE;
  p.horizon_hours = 48;
  p.risk_medium = 0.1;
  p.risk_high = 0.5;
  p.lead_hours = 12;
  return p;
}

/* ---- "CODE=value" lists: floors and exchange rates ---- */

/* Finds the floor of ccy in spec ("USDC=25000,*=0"); 0 when not named. */
static int floor_for(const char *spec, const char *ccy, int scale, int64_t *out, fc_err *err) {
  const char *p = spec;
  int found_star = 0;
  int64_t star = 0;
  *out = 0;
  if (spec == NULL) return FC_OK;
  while (*p) {
    size_t n = strcspn(p, "="), vlen;
    const char *v;
    if (p[n] != '=' || n == 0 || n >= FC_CCY_MAX)
      return fc__err(err, FC_EPARSE, "floors '%.60s': want CODE=AMOUNT[,CODE=AMOUNT]", spec);
    v = p + n + 1;
    vlen = strcspn(v, ",");
    if ((n == 1 && p[0] == '*') || (strlen(ccy) == n && strncmp(p, ccy, n) == 0)) {
      int64_t val;
      if (fc_money_parse(v, vlen, scale, &val, err) != FC_OK)
        return fc__err_prefix(err, "floor of %.*s: ", (int)n, p);
      if (p[0] == '*') {
        found_star = 1;
        star = val;
      } else {
        *out = val;
        return FC_OK;
      }
    }
    p = v + vlen;
    if (*p == ',') p++;
  }
  if (found_star) *out = star;
  return FC_OK;
}

typedef struct {
  char from[FC_CCY_MAX], to[FC_CCY_MAX];
  double rate;
} fx_rate;

static int parse_fx(const char *spec, fx_rate *out, size_t cap, size_t *n, fc_err *err) {
  const char *p = spec ? spec : "USD/USDC=1,USD/USDT=1,EUR/EURC=1";
  *n = 0;
  while (*p) {
    size_t a = strcspn(p, "/=,"), b;
    char num[64];
    char *end;
    fx_rate r;
    if (p[a] != '/' || a == 0 || a >= FC_CCY_MAX) goto bad;
    b = strcspn(p + a + 1, "=,");
    if (p[a + 1 + b] != '=' || b == 0 || b >= FC_CCY_MAX) goto bad;
    memcpy(r.from, p, a);
    r.from[a] = '\0';
    memcpy(r.to, p + a + 1, b);
    r.to[b] = '\0';
    p += a + b + 2;
    a = strcspn(p, ",");
    if (a == 0 || a >= sizeof num) goto bad;
    memcpy(num, p, a);
    num[a] = '\0';
    r.rate = strtod(num, &end);
    if (*end != '\0' || !(r.rate > 0) || !isfinite(r.rate)) goto bad;
    if (*n < cap) out[(*n)++] = r;
    p += a;
    if (*p == ',') p++;
  }
  return FC_OK;
bad:
  return fc__err(err, FC_EPARSE, "fx '%.60s': want FROM/TO=RATE[,FROM/TO=RATE] with RATE > 0", spec);
}

/* Units of `to` that one unit of `from` buys; 0 when no rate is known. */
static double fx_lookup(const fx_rate *r, size_t n, const char *from, const char *to) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(r[i].from, from) == 0 && strcmp(r[i].to, to) == 0) return r[i].rate;
    if (strcmp(r[i].from, to) == 0 && strcmp(r[i].to, from) == 0) return 1.0 / r[i].rate;
  }
  return 0.0;
}

/* ---- per-currency rule ---- */

static int add_ccy(char (*list)[FC_CCY_MAX], size_t *n, const char *c) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp(list[i], c) == 0) return FC_OK;
  if (*n >= MAX_CCY) return FC_ERANGE;
  memcpy(list[(*n)++], c, FC_CCY_MAX);
  return FC_OK;
}

static int cmp_ccy(const void *a, const void *b) { return strcmp(a, b); }

static int cmp_runway(const void *a, const void *b) {
  const fc_stream_runway *x = a, *y = b;
  if (x->runway.hours_until_depleted != y->runway.hours_until_depleted)
    return x->runway.hours_until_depleted < y->runway.hours_until_depleted ? -1 : 1;
  if (x->runway.status != y->runway.status) return x->runway.status < y->runway.status ? -1 : 1;
  return strcmp(x->stream.id, y->stream.id);
}

static size_t hour_bucket(int64_t at, int64_t now) {
  int64_t d = at - now;
  return d <= 0 ? 1 : (size_t)((d + 3599) / 3600);
}

static int project_currency(const fc_treasury *t, const char *tenant, const fc_projection_params *p,
                            fc_currency_projection *cp, fc_err *err) {
  const fc_account *acc;
  const fc_transfer *tr;
  const fc_stream *st;
  size_t na = fc_treasury_accounts(t, &acc), nt = fc_treasury_transfers(t, &tr);
  size_t ns = fc_treasury_streams(t, &st), H = (size_t)p->horizon_hours;
  int64_t end = p->now + (int64_t)H * 3600;
  int64_t *out_h = NULL, *in_h = NULL, *drain_cum = NULL;
  int rc = FC_OK;

  cp->scale = fc_currencies_scale(fc_treasury_currencies(t), cp->currency);
  cp->n_path = H + 1;
  cp->path = fc__calloc(H + 1, sizeof *cp->path);
  out_h = fc__calloc(H + 1, sizeof *out_h);
  in_h = fc__calloc(H + 1, sizeof *in_h);
  drain_cum = fc__calloc(H + 1, sizeof *drain_cum);
  if (!cp->path || !out_h || !in_h || !drain_cum) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < na; i++)
    if (strcmp(acc[i].tenant_id, tenant) == 0 && strcmp(acc[i].currency, cp->currency) == 0 &&
        fc_money_add(cp->balance, acc[i].balance_available, &cp->balance) != FC_OK) {
      rc = fc__err(err, FC_ERANGE, "%s balance overflows", cp->currency);
      goto done;
    }
  /* Scheduled pending transfers in [now, end], both ends inclusive. */
  for (size_t i = 0; i < nt; i++) {
    int dir;
    size_t k;
    if (tr[i].status != FC_TRANSFER_PENDING || tr[i].scheduled_for == FC_TIME_NONE ||
        tr[i].scheduled_for < p->now || tr[i].scheduled_for > end ||
        strcmp(tr[i].tenant_id, tenant) != 0 || strcmp(tr[i].currency, cp->currency) != 0)
      continue;
    dir = fc_treasury_direction(t, &tr[i]);
    k = hour_bucket(tr[i].scheduled_for, p->now);
    if (dir < 0) out_h[k] += tr[i].amount, cp->scheduled_out += tr[i].amount;
    if (dir > 0) in_h[k] += tr[i].amount, cp->scheduled_in += tr[i].amount;
  }
  /* Streams: runway for every one, drain for the active ones. */
  for (size_t i = 0; i < ns; i++)
    if (strcmp(st[i].tenant_id, tenant) == 0 && strcmp(st[i].currency, cp->currency) == 0) cp->n_streams++;
  cp->streams = fc__calloc(cp->n_streams, sizeof *cp->streams);
  if (cp->streams == NULL) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  cp->n_streams = 0;
  for (size_t i = 0; i < ns; i++) {
    if (strcmp(st[i].tenant_id, tenant) != 0 || strcmp(st[i].currency, cp->currency) != 0) continue;
    {
      fc_stream_runway *sr = &cp->streams[cp->n_streams];
      char *id = fc__malloc(strlen(st[i].id) + 1), *ten = fc__malloc(strlen(st[i].tenant_id) + 1);
      if (id == NULL || ten == NULL) {
        fc__free(id);
        fc__free(ten);
        rc = fc__err(err, FC_ENOMEM, "out of memory");
        goto done;
      }
      sr->stream = st[i];
      sr->stream.id = strcpy(id, st[i].id);
      sr->stream.tenant_id = strcpy(ten, st[i].tenant_id);
      fc_runway_compute(&st[i], p->now, &sr->runway);
      cp->n_streams++;
    }
    for (size_t k = 1; k <= H; k++) drain_cum[k] += fc_stream_drain(&st[i], p->now, (int64_t)k * 3600);
  }
  qsort(cp->streams, cp->n_streams, sizeof *cp->streams, cmp_runway);
  cp->stream_drain = drain_cum[H];
  cp->projected = cp->balance - cp->scheduled_out + cp->scheduled_in - cp->stream_drain;

  {
    int64_t bal = cp->balance, cum_out = 0, cum_in = 0;
    for (size_t k = 0; k <= H; k++) {
      fc_path_point *pt = &cp->path[k];
      cum_out += out_h[k];
      cum_in += in_h[k];
      bal = cp->balance - cum_out + cum_in - drain_cum[k];
      pt->hour = (int)k;
      pt->at = p->now + (int64_t)k * 3600;
      pt->balance = bal;
      pt->p10 = pt->p50 = pt->p90 = fc_money_to_double(bal, cp->scale);
      pt->scheduled_out = fc_money_to_double(out_h[k], cp->scale);
      pt->scheduled_in = fc_money_to_double(in_h[k], cp->scale);
      pt->stream_drain = fc_money_to_double(k ? drain_cum[k] - drain_cum[k - 1] : 0, cp->scale);
    }
  }
  /* Depletion against the floor. */
  if ((rc = floor_for(p->floors, cp->currency, cp->scale, &cp->floor, err)) != FC_OK) goto done;
  cp->expected_at = FC_TIME_NONE;
  for (size_t k = 1; k <= H; k++)
    if (cp->path[k].balance < cp->floor) {
      cp->expected_at = cp->path[k].at;
      break;
    }
  for (int j = 0; j < 4; j++) {
    size_t h = (size_t)depletion_hours[j];
    if (h > H) {
      cp->p_below[j] = NAN;
      continue;
    }
    cp->p_below[j] = cp->expected_at != FC_TIME_NONE && cp->expected_at <= p->now + (int64_t)h * 3600;
  }
  {
    /* Risk reads the 48 h probability, or the whole horizon when shorter. */
    double p48 = H >= 48 ? cp->p_below[1] : (cp->expected_at != FC_TIME_NONE ? 1.0 : 0.0);
    cp->risk = p48 >= p->risk_high ? "high" : p48 >= p->risk_medium ? "medium" : "low";
  }
  cp->model_name = "rule";
  cp->model_version = 0;
done:
  fc__free(out_h);
  fc__free(in_h);
  fc__free(drain_cum);
  return rc;
}

/* ---- rebalancing ---- */

static int64_t min_balance(const fc_currency_projection *c) {
  int64_t m = c->path[0].balance;
  for (size_t k = 1; k < c->n_path; k++) m = FC__MIN(m, c->path[k].balance);
  return m;
}

static int64_t ceil_to(int64_t v, int64_t unit) { return (v + unit - 1) / unit * unit; }

static int recommend(fc_projection *pr, const fc_projection_params *p, fc_err *err) {
  fx_rate fx[32];
  size_t nfx, n = pr->n_currencies;
  int64_t surplus[MAX_CCY];
  int rc = parse_fx(p->fx, fx, 32, &nfx, err);
  if (rc != FC_OK) return rc;
  pr->recommendations = fc__calloc(n, sizeof *pr->recommendations);
  if (pr->recommendations == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) surplus[i] = min_balance(&pr->currencies[i]) - pr->currencies[i].floor;
  for (size_t i = 0; i < n; i++) {
    fc_currency_projection *c = &pr->currencies[i];
    int64_t need, unit = 100 * fc_pow10(c->scale), gross;
    double best_cover = 0;
    size_t best = SIZE_MAX;
    if (c->expected_at == FC_TIME_NONE) continue;
    /* Shortfall plus a 10 % margin on the horizon's gross outflows, rounded
     * up to a whole hundred units. */
    gross = c->scheduled_out + c->stream_drain;
    need = ceil_to(c->floor - min_balance(c) + gross / 10, unit);
    for (size_t j = 0; j < n; j++) {
      double rate, cover;
      if (j == i || surplus[j] <= 0) continue;
      rate = fx_lookup(fx, nfx, pr->currencies[j].currency, c->currency);
      if (rate <= 0) continue;
      cover = fc_money_to_double(surplus[j], pr->currencies[j].scale) * rate;
      if (cover > best_cover) best_cover = cover, best = j;
    }
    if (best == SIZE_MAX) continue;
    {
      fc_currency_projection *s = &pr->currencies[best];
      fc_recommendation *r = &pr->recommendations[pr->n_recommendations++];
      double rate = fx_lookup(fx, nfx, s->currency, c->currency);
      double need_units = fc_money_to_double(need, c->scale);
      int64_t amount = (int64_t)ceil(need_units / rate * (double)fc_pow10(s->scale));
      int full = amount <= surplus[best];
      char when[FC_TIME_STR], fl[FC_MONEY_STR_MAX], sh[FC_MONEY_STR_MAX];
      int64_t by = fc_time_floor(c->expected_at - (int64_t)p->lead_hours * 3600, 3600);
      if (!full) amount = surplus[best];
      surplus[best] -= amount;
      memcpy(r->from_currency, s->currency, FC_CCY_MAX);
      memcpy(r->to_currency, c->currency, FC_CCY_MAX);
      r->amount = amount;
      r->from_scale = s->scale;
      r->by = by < pr->as_of ? pr->as_of : by;
      fc_time_format(c->expected_at, when);
      fc_money_format(c->floor, c->scale, fl, sizeof fl);
      fc_money_format(c->floor - min_balance(c), c->scale, sh, sizeof sh);
      snprintf(r->reason, sizeof r->reason,
               full ? "P(%s below floor within %dh) falls from 1.00 to 0.00: it would fall below %s at %s "
                      "(shortfall %s)"
                    : "P(%s below floor within %dh) stays 1.00 with partial cover: it falls below %s at %s "
                      "(shortfall %s) and no single currency can cover it",
               c->currency, pr->horizon_hours, fl, when, sh);
    }
  }
  return FC_OK;
}

/* ---- entry point ---- */

static int resolve_tenant(const fc_treasury *t, const char *want, const char **out, fc_err *err) {
  const char *list[2];
  size_t n = fc_treasury_tenants(t, list, 2);
  if (want != NULL) {
    const char *all[1];
    size_t total = fc_treasury_tenants(t, all, 0);
    const char **names = fc__mallocarray(total, sizeof *names);
    if (names == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    fc_treasury_tenants(t, names, total);
    for (size_t i = 0; i < total; i++)
      if (strcmp(names[i], want) == 0) {
        *out = names[i];
        fc__free(names);
        return FC_OK;
      }
    fc__free(names);
    return fc__err(err, FC_ENOTFOUND, "no data for tenant '%.80s'", want);
  }
  if (n == 0) return fc__err(err, FC_ETOOSHORT, "no accounts, transfers or streams loaded");
  if (n > 1) return fc__err(err, FC_EINVAL, "the data holds several tenants: name one");
  *out = list[0];
  return FC_OK;
}

int fc_project_rule(const fc_treasury *t, const fc_projection_params *p, fc_projection **out,
                    fc_err *err) {
  char ccys[MAX_CCY][FC_CCY_MAX];
  size_t n_ccy = 0;
  const char *tenant = NULL;
  fc_projection *pr;
  int rc;
  *out = NULL;
  if (p->now == FC_TIME_NONE) return fc__err(err, FC_EINVAL, "the projection needs 'now'");
  if (p->horizon_hours < FC_HORIZON_MIN || p->horizon_hours > FC_HORIZON_MAX)
    return fc__err(err, FC_ERANGE, "horizon %d hours is outside %d..%d", p->horizon_hours, FC_HORIZON_MIN,
                   FC_HORIZON_MAX);
  if ((rc = resolve_tenant(t, p->tenant_id, &tenant, err)) != FC_OK) return rc;
  {
    const fc_account *a;
    const fc_transfer *tr;
    const fc_stream *s;
    size_t na = fc_treasury_accounts(t, &a), nt = fc_treasury_transfers(t, &tr);
    size_t ns = fc_treasury_streams(t, &s);
    for (size_t i = 0; i < na && rc == FC_OK; i++)
      if (strcmp(a[i].tenant_id, tenant) == 0) rc = add_ccy(ccys, &n_ccy, a[i].currency);
    for (size_t i = 0; i < ns && rc == FC_OK; i++)
      if (strcmp(s[i].tenant_id, tenant) == 0) rc = add_ccy(ccys, &n_ccy, s[i].currency);
    for (size_t i = 0; i < nt && rc == FC_OK; i++)
      if (strcmp(tr[i].tenant_id, tenant) == 0 && tr[i].status == FC_TRANSFER_PENDING)
        rc = add_ccy(ccys, &n_ccy, tr[i].currency);
    if (rc != FC_OK) return fc__err(err, FC_ERANGE, "more than %d currencies", MAX_CCY);
  }
  if (p->currency != NULL) {
    size_t i = 0;
    if (fc_currencies_scale(fc_treasury_currencies(t), p->currency) < 0)
      return fc__err(err, FC_ECURRENCY, "unknown currency '%.20s'", p->currency);
    while (i < n_ccy && strcmp(ccys[i], p->currency) != 0) i++;
    if (i == n_ccy) return fc__err(err, FC_ENOTFOUND, "tenant '%.80s' holds no %s", tenant, p->currency);
    memcpy(ccys[0], ccys[i], FC_CCY_MAX);
    n_ccy = 1;
  }
  qsort(ccys, n_ccy, FC_CCY_MAX, cmp_ccy);
  pr = fc__calloc(1, sizeof *pr);
  if (pr == NULL || (pr->currencies = fc__calloc(n_ccy, sizeof *pr->currencies)) == NULL) {
    fc__free(pr);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  snprintf(pr->tenant_id, sizeof pr->tenant_id, "%s", tenant);
  pr->as_of = p->now;
  pr->horizon_hours = p->horizon_hours;
  pr->method = "rule";
  pr->n_currencies = n_ccy;
  for (size_t i = 0; i < n_ccy && rc == FC_OK; i++) {
    memcpy(pr->currencies[i].currency, ccys[i], FC_CCY_MAX);
    rc = project_currency(t, tenant, p, &pr->currencies[i], err);
  }
  if (rc == FC_OK) rc = recommend(pr, p, err);
  if (rc != FC_OK) {
    fc_projection_destroy(pr);
    return rc;
  }
  *out = pr;
  return FC_OK;
}

void fc_projection_destroy(fc_projection *p) {
  if (p == NULL) return;
  for (size_t i = 0; i < p->n_currencies; i++) {
    for (size_t j = 0; j < p->currencies[i].n_streams; j++) {
      fc__free((char *)p->currencies[i].streams[j].stream.id);
      fc__free((char *)p->currencies[i].streams[j].stream.tenant_id);
    }
    fc__free(p->currencies[i].path);
    fc__free(p->currencies[i].streams);
    fc__free(p->currencies[i].model_extra);
  }
  fc__free(p->currencies);
  fc__free(p->recommendations);
  fc__free(p);
}

/* ---- JSON ---- */

static void money_str(fc_buf *b, int64_t v, int scale) {
  char s[FC_MONEY_STR_MAX];
  fc_money_format(v, scale, s, sizeof s);
  fc_buf_json_str(b, s);
}

static void time_str(fc_buf *b, int64_t t) {
  char s[FC_TIME_STR];
  if (t == FC_TIME_NONE) {
    fc_buf_puts(b, "null");
    return;
  }
  fc_time_format(t, s);
  fc_buf_json_str(b, s);
}

static void write_stream(fc_buf *b, const fc_stream_runway *sr, int scale) {
  const fc_runway *r = &sr->runway;
  char rate[FC_MONEY_STR_MAX];
  fc_money_format(sr->stream.flow_rate, scale + FC_RATE_EXTRA_DIGITS, rate, sizeof rate);
  fc_buf_puts(b, "{\"id\":");
  fc_buf_json_str(b, sr->stream.id);
  fc_buf_puts(b, ",\"status\":");
  fc_buf_json_str(b, fc_stream_status_name(sr->stream.status));
  fc_buf_puts(b, ",\"flow_rate_per_second\":");
  fc_buf_json_str(b, rate);
  fc_buf_puts(b, ",\"remaining\":");
  money_str(b, r->remaining, scale);
  fc_buf_puts(b, ",\"hours_until_depleted\":");
  if (isfinite(r->hours_until_depleted)) fc_buf_json_fixed(b, r->hours_until_depleted, 2);
  else fc_buf_puts(b, "null");
  fc_buf_puts(b, ",\"runway_status\":");
  fc_buf_json_str(b, fc_runway_status_name(r->status));
  fc_buf_puts(b, ",\"seconds_since_last_pause\":");
  if (r->seconds_since_last_pause >= 0) fc_buf_printf(b, "%lld", (long long)r->seconds_since_last_pause);
  else fc_buf_puts(b, "null");
  fc_buf_putc(b, '}');
}

static void write_currency(fc_buf *b, const fc_currency_projection *c) {
  fc_buf_puts(b, "{\"currency\":");
  fc_buf_json_str(b, c->currency);
  fc_buf_puts(b, ",\"current_balance\":");
  money_str(b, c->balance, c->scale);
  fc_buf_puts(b, ",\"rule\":{\"scheduled_outflows\":");
  money_str(b, c->scheduled_out, c->scale);
  fc_buf_puts(b, ",\"scheduled_inflows\":");
  money_str(b, c->scheduled_in, c->scale);
  fc_buf_puts(b, ",\"stream_drain\":");
  money_str(b, c->stream_drain, c->scale);
  fc_buf_puts(b, ",\"projected_balance\":");
  money_str(b, c->projected, c->scale);
  fc_buf_puts(b, "},\"path\":[");
  for (size_t k = 0; k < c->n_path; k++) {
    const fc_path_point *pt = &c->path[k];
    if (k) fc_buf_putc(b, ',');
    fc_buf_printf(b, "{\"hour\":%d,\"at\":", pt->hour);
    time_str(b, pt->at);
    fc_buf_puts(b, ",\"p10\":");
    fc_buf_json_fixed(b, pt->p10, c->scale);
    fc_buf_puts(b, ",\"p50\":");
    fc_buf_json_fixed(b, pt->p50, c->scale);
    fc_buf_puts(b, ",\"p90\":");
    fc_buf_json_fixed(b, pt->p90, c->scale);
    fc_buf_puts(b, ",\"scheduled_out\":");
    fc_buf_json_fixed(b, pt->scheduled_out, c->scale);
    fc_buf_puts(b, ",\"scheduled_in\":");
    fc_buf_json_fixed(b, pt->scheduled_in, c->scale);
    fc_buf_puts(b, ",\"stream_drain\":");
    fc_buf_json_fixed(b, pt->stream_drain, c->scale);
    fc_buf_puts(b, ",\"predicted_out\":");
    fc_buf_json_fixed(b, pt->predicted_out, c->scale);
    fc_buf_puts(b, ",\"predicted_in\":");
    fc_buf_json_fixed(b, pt->predicted_in, c->scale);
    fc_buf_putc(b, '}');
  }
  fc_buf_puts(b, "],\"depletion\":{\"floor\":");
  money_str(b, c->floor, c->scale);
  fc_buf_puts(b, ",\"probability\":{");
  for (int j = 0; j < 4; j++) {
    fc_buf_printf(b, "%s\"%dh\":", j ? "," : "", depletion_hours[j]);
    if (isnan(c->p_below[j])) fc_buf_puts(b, "null");
    else fc_buf_json_fixed(b, c->p_below[j], 2);
  }
  fc_buf_puts(b, "},\"expected_at\":");
  time_str(b, c->expected_at);
  fc_buf_puts(b, ",\"risk\":");
  fc_buf_json_str(b, c->risk);
  fc_buf_puts(b, "},\"streams\":[");
  for (size_t i = 0; i < c->n_streams; i++) {
    if (i) fc_buf_putc(b, ',');
    write_stream(b, &c->streams[i], c->scale);
  }
  fc_buf_puts(b, "],\"model\":{\"name\":");
  fc_buf_json_str(b, c->model_name);
  fc_buf_printf(b, ",\"version\":%d,\"backtest\":{\"mae_48h\":", c->model_version);
  if (c->has_backtest) {
    fc_buf_json_fixed(b, c->backtest_mae_48h, c->scale);
    fc_buf_puts(b, ",\"coverage_80\":");
    fc_buf_json_fixed(b, c->backtest_coverage_80, 3);
  } else {
    fc_buf_puts(b, "null,\"coverage_80\":null");
  }
  fc_buf_putc(b, '}');
  if (c->model_extra) fc_buf_puts(b, c->model_extra);
  fc_buf_puts(b, "}}");
}

int fc_projection_write_json(const fc_projection *p, fc_buf *b) {
  fc_buf_puts(b, "{\"tenant_id\":");
  fc_buf_json_str(b, p->tenant_id);
  fc_buf_puts(b, ",\"as_of\":");
  time_str(b, p->as_of);
  fc_buf_printf(b, ",\"horizon_hours\":%d,\"method\":", p->horizon_hours);
  fc_buf_json_str(b, p->method);
  fc_buf_puts(b, ",\"currencies\":[");
  for (size_t i = 0; i < p->n_currencies; i++) {
    if (i) fc_buf_putc(b, ',');
    write_currency(b, &p->currencies[i]);
  }
  fc_buf_puts(b, "],\"recommendations\":[");
  for (size_t i = 0; i < p->n_recommendations; i++) {
    const fc_recommendation *r = &p->recommendations[i];
    if (i) fc_buf_putc(b, ',');
    fc_buf_puts(b, "{\"from_currency\":");
    fc_buf_json_str(b, r->from_currency);
    fc_buf_puts(b, ",\"to_currency\":");
    fc_buf_json_str(b, r->to_currency);
    fc_buf_puts(b, ",\"amount\":");
    money_str(b, r->amount, r->from_scale);
    fc_buf_puts(b, ",\"by\":");
    time_str(b, r->by);
    fc_buf_puts(b, ",\"reason\":");
    fc_buf_json_str(b, r->reason);
    fc_buf_putc(b, '}');
  }
  fc_buf_puts(b, "]}\n");
  return fc_buf_failed(b) ? FC_ENOMEM : FC_OK;
}
