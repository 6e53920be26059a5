"""oracle_variants.py: where the gap between a learner and oracle-est lives.

Usage: oracle_variants.py WORLDS OUT.jsonl [--jobs 2] [--tenants N] [--variants est,shape,...]

oracle-est (gen.py estimated_oracle) knows every hidden parameter of a world
but the two flow levels per direction. Each variant here takes ONE more piece
of knowledge away and replaces it by what a learner sees in the history:

  est          oracle-est itself, with this script's simulator (the paired reference)
  rec_seen     recurring payments: only series seen >= 2 times in the history
               are projected (on their true cadence and jitter); the rest are
               unknown, and their past payments join the flow levels as
               ordinary events. Announced (pending) payments stay exact.
  rec_unsched  as rec_seen, but scheduled series (completed with scheduled_for
               in the history) are never projected beyond what is pending:
               what ml does today (it drops scheduled history, flowsim.c extract)
  shape        hour-of-week intensity estimated from the history's counts,
               shrunk as ml does (hour of week -> day type x hour of day ->
               day type -> overall), instead of the true hour and weekday shape
  monthend     month-end boosts unknown: each path draws them from the
               generator's prior (intensity x U(1.1, 2), x U(1, 1.5) more at a
               quarter end, amounts x U(1, 1.5)); the levels are estimated
               with the prior's means
  dayeff       the day effect's log-sd estimated from the whole days' count
               dispersion (moments, shrunk like ml's) instead of known
  amounts      amounts lognormal with the history's mean and sd of log amounts
               (variance shrunk like ml's), no separate large-payment tail
  all          every one of the above at once (rec_unsched, shape, monthend,
               dayeff, amounts): a learner of the oracle's own model class

The worlds are not regenerated on disk: each tenant's generator is re-run in
memory with its seed (the world's files go to a temporary directory and are
deleted), which gives back the hidden parameters; each currency's balance,
breach hour and stored oracle-est probabilities are checked against
truth.json. Every variant of a currency draws from the same seed (common random
numbers) so compare.py's paired differences against `est` are sharp:

  compare.py WORLDS OUT.jsonl:est OUT.jsonl:shape ml.jsonl:ml

Output lines are bench_risk's (single look, k = 0): tenant, currency, method
(the variant), status, p (24/48/72/96 h), p10/p50/p90 (hours 0..96)."""
import argparse
import calendar
import json
import math
import os
import shutil
import sys
import tempfile
import zlib
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402
from world import list_worlds  # noqa: E402

DAY, LOOK_H = gen.DAY, gen.LOOK_H
VARIANTS = ["est", "rec_seen", "rec_unsched", "shape", "monthend", "dayeff", "amounts", "all", "shape_sep"]
ALL = {"rec_unsched", "shape", "monthend", "dayeff", "amounts"}
ME_PRIOR = {"int": (1.1, 2.0), "qe": (1.0, 1.5), "amt": (1.0, 1.5)}  # gen.sample_direction's ranges
# ml's shrinkage (flowsim.c), so that `shape` and `dayeff` estimate as ml does
DAYTYPE_PRIOR_HOURS, LEVEL1_PRIOR_HOURS, LEVEL2_PRIOR_HOURS, SHAPE_PRIOR_EVENTS = 6.0, 3.0, 2.0, 2.0
SEP_SHAPE_PRIOR, SEP_DAY_PHI, WEEKDAY_TAU2 = 4.0, 0.15, (0.02, 0.05)
DISPERSION_PRIOR, LOGVAR_PRIOR, LOGVAR_PRIOR_N = 0.1, 0.8, 3.0


def hour_info(hours, me_days):
    how = np.empty(len(hours), int)
    me = np.zeros(len(hours), bool)
    qe = np.zeros(len(hours), bool)
    cache = {}
    for i, t in enumerate(hours):
        d = int(t // DAY)
        if d not in cache:
            dt = gen.day_date(d)
            to_end = calendar.monthrange(dt.year, dt.month)[1] - dt.day
            cache[d] = (dt.weekday(), to_end < me_days, dt.month in (3, 6, 9, 12))
        wd, m, q = cache[d]
        how[i] = wd * 24 + (t % DAY) // 3600
        me[i], qe[i] = m, m and q
    return how, me, qe


def base_rate(P, how):
    """Per-hour intensity outside month ends, for n_bd = P['n_bd']."""
    if "how_rate" in P:
        return P["n_bd"] * P["how_rate"][how]
    return P["n_bd"] * P["hod"][how % 24] * P["dow"][how // 24]


def me_factors(P, me, qe):
    """(intensity, amount) multipliers per hour from P's month-end parameters."""
    fi = np.where(me, P["me_int"] * np.where(qe, P["qe"], 1.0), 1.0)
    fa = np.where(me, P["me_amt"], 1.0)
    return fi, fa


def est_shape(how_h, me_h, times_h):
    """ml's hour-of-week rates (flowsim.c fit_dir, without the tenant's pooled
    shape: a per-direction hour shape instead) from event hours `times_h`
    (indices into the history's hours) outside month ends; relative rates."""
    e2 = np.bincount(how_h[~me_h], minlength=168).astype(float)
    ok = ~me_h[times_h]
    n2 = np.bincount(how_h[times_h[ok]], minlength=168).astype(float)
    wk = np.arange(168) >= 120
    N, E = n2.sum(), e2.sum()
    r0 = N / E if E > 0 else 0.0
    ndt = np.array([n2[~wk].sum(), n2[wk].sum()])
    edt = np.array([e2[~wk].sum(), e2[wk].sum()])
    rdt = (ndt + DAYTYPE_PRIOR_HOURS * r0) / (edt + DAYTYPE_PRIOR_HOURS)
    n1, e1 = np.zeros((2, 24)), np.zeros((2, 24))
    for h in range(168):
        n1[int(wk[h]), h % 24] += n2[h]
        e1[int(wk[h]), h % 24] += e2[h]
    shp = np.ones((2, 24))
    for dt in range(2):
        n, e = n1[dt].sum(), e1[dt].sum()
        r = n / e if e > 0 else 0.0
        if r > 0:
            shp[dt] = (n1[dt] + SHAPE_PRIOR_EVENTS) / (e1[dt] * r + SHAPE_PRIOR_EVENTS)
            shp[dt] /= shp[dt].mean()
    rate = np.empty(168)
    for h in range(168):
        dt, hd = int(wk[h]), h % 24
        l1 = (n1[dt, hd] + LEVEL1_PRIOR_HOURS * rdt[dt] * shp[dt, hd]) / (e1[dt, hd] + LEVEL1_PRIOR_HOURS)
        rate[h] = (n2[h] + LEVEL2_PRIOR_HOURS * l1) / (e2[h] + LEVEL2_PRIOR_HOURS)
    m = rate.mean()
    return rate / m if m > 0 else np.ones(168)


def est_shape_sep(how_h, me_h, times_h, hist_h):
    """A separable estimate, as the world's process is built: an hour-of-day
    shape per day type (the weekend's shrunk toward the weekdays') times a
    rate per weekday, shrunk toward its day type's by empirical Bayes
    (precision of the weekday's days, count noise plus the day effect's,
    against a prior spread of weekday rates WEEKDAY_TAU2)."""
    e2 = np.bincount(how_h[~me_h], minlength=168).astype(float)
    ok = ~me_h[times_h]
    n2 = np.bincount(how_h[times_h[ok]], minlength=168).astype(float)
    wk = np.arange(168) >= 120
    n1, e1 = np.zeros((2, 24)), np.zeros((2, 24))
    for h in range(168):
        n1[int(wk[h]), h % 24] += n2[h]
        e1[int(wk[h]), h % 24] += e2[h]
    shp = np.ones((2, 24))
    for dt in (0, 1):
        n, e = n1[dt].sum(), e1[dt].sum()
        r = n / e if e > 0 else 0.0
        if r > 0:
            prior = shp[0] if dt == 1 else np.ones(24)
            shp[dt] = (n1[dt] + SEP_SHAPE_PRIOR * prior) / (e1[dt] * r + SEP_SHAPE_PRIOR)
            shp[dt] /= shp[dt].mean()
    N, E = n2.sum(), e2.sum()
    r0 = N / E if E > 0 else 0.0
    rdt = [(n2[wk == bool(dt)].sum() + DAYTYPE_PRIOR_HOURS * r0) / (e2[wk == bool(dt)].sum() + DAYTYPE_PRIOR_HOURS)
           for dt in (0, 1)]
    rate = np.empty(168)
    for wd in range(7):
        dt = int(wd >= 5)
        sl = slice(wd * 24, wd * 24 + 24)
        x = float((e2[sl] * shp[dt]).sum()) * rdt[dt]  # the weekday's expected count at its day type's rate
        n = float(n2[sl].sum())
        days = float(e2[sl].sum()) / 24.0
        m = rdt[dt] * 24.0  # events a day
        if x > 0 and m > 0:
            prec = days / (1.0 / m + SEP_DAY_PHI)
            w = prec / (prec + 1.0 / WEEKDAY_TAU2[dt])
            f = (1 - w) + w * n / x
        else:
            f = 1.0
        rate[sl] = rdt[dt] * f * shp[dt]
    mm = rate.mean()
    return rate / mm if mm > 0 else np.ones(168)


def est_dayeff(lam_h, hist_h, times_h):
    """The day effect's log-sd from whole UTC days' counts against lam_h
    (flowsim.c fit_dir's moments and shrinkage)."""
    days = hist_h // DAY
    full = [d for d in np.unique(days) if (days == d).sum() == 24]
    num = den = 0.0
    ev_days = days[times_h]
    for d in full:
        e = float(lam_h[days == d].sum())
        o = float((ev_days == d).sum())
        num += (o - e) ** 2 - o
        den += e * e
    phi = min(max(num / den if den > 0 else 0.0, 0.0), 2.0)
    phi = (len(full) * phi + 5.0 * DISPERSION_PRIOR) / (len(full) + 5.0)
    return math.sqrt(math.log1p(phi))


def simulate(rng, dirs, hours, paths):
    """gen.unscheduled_paths with per-path month-end draws where a direction
    has me_prior set; otherwise the same process."""
    W = len(hours)
    U = np.zeros((paths, W))
    for d, P in dirs.items():
        how, me, qe = hour_info(hours, P["me_days"])
        lam0 = base_rate(P, how)
        ud, inv = np.unique(hours // DAY, return_inverse=True)
        if P.get("me_prior"):
            mi = rng.uniform(*ME_PRIOR["int"], (paths, 1)) * np.where(qe, rng.uniform(*ME_PRIOR["qe"], (paths, 1)), 1)
            fi = np.where(me[None, :], mi, 1.0)
            fa = np.where(me[None, :], rng.uniform(*ME_PRIOR["amt"], (paths, 1)), 1.0)
        else:
            f1, f2 = me_factors(P, me, qe)
            fi, fa = np.broadcast_to(f1, (paths, W)), np.broadcast_to(f2, (paths, W))
        eff = np.exp(rng.normal(-P["sigma_day"] ** 2 / 2, P["sigma_day"], (paths, len(ud))))[:, inv]
        n = rng.poisson(lam0[None, :] * fi * eff).ravel()
        flat = np.repeat(np.arange(paths * W), n)
        a = gen.amounts(rng, P, len(flat)) * np.ravel(fa)[flat]
        U += d * np.bincount(flat, weights=a, minlength=paths * W).reshape(paths, W)
    return U


def variant(name, tid, ccy, dirs, occ, ev, now0, t_start, paths, B0, floor, unit, drain_cum):
    on = ALL if name == "all" else {name}
    rng = np.random.default_rng(zlib.crc32(("oracle-variants/%s/%s" % (tid, ccy)).encode()))
    hist_h = np.arange(t_start, now0, 3600, dtype=np.int64)
    # Which recurring series a learner knows: seen >= 2 times before now0.
    seen = {}
    for o in occ:
        if t_start <= o["T"] < now0:
            seen[o["cp"]] = seen.get(o["cp"], 0) + 1
    sched_cp = {o["cp"] for o in occ if o["sched"]}
    known = {o["cp"] for o in occ}
    if on & {"rec_seen", "rec_unsched"}:
        known = {cp for cp, n in seen.items() if n >= 2 and ("rec_unsched" not in on or cp not in sched_cp)}
    occ_v = [o for o in occ if o["cp"] in known or (o["sched"] and o["ann"] <= now0)]
    P_est = {}
    for d, P in dirs.items():
        picked = [e for e in ev if t_start <= e[0] < now0 and e[2] == "completed" and e[4] is None
                  and e[3] not in known and (e[1] > 0) == (d > 0)]
        amts = np.array([abs(e[1]) for e in picked], float)
        times_h = np.array([(e[0] - t_start) // 3600 for e in picked], int)
        Q = dict(P)
        how_h, me_h, qe_h = hour_info(hist_h, P["me_days"])
        if "monthend" in on:
            Q.update(me_prior=True, me_int=float(np.mean(ME_PRIOR["int"])), qe=float(np.mean(ME_PRIOR["qe"])),
                     me_amt=float(np.mean(ME_PRIOR["amt"])))
        if "shape" in on:
            Q["how_rate"] = est_shape(how_h, me_h, times_h)
        if "shape_sep" in on:
            Q["how_rate"] = est_shape_sep(how_h, me_h, times_h, hist_h)
        fi, fa = me_factors(Q, me_h, qe_h)
        lam1 = base_rate(dict(Q, n_bd=1.0), how_h) * fi
        Q["n_bd"] = max(len(amts), 0.5) / max(float(lam1.sum()), 1e-9)
        amul = fa[times_h] if len(times_h) else np.ones(1)
        if "amounts" in on and len(amts):
            la = np.log(amts / amul)
            ss = float(((la - la.mean()) ** 2).sum())
            Q.update(mu=float(la.mean()), s=math.sqrt((ss + LOGVAR_PRIOR_N * LOGVAR_PRIOR) /
                                                      (len(la) - 1 + LOGVAR_PRIOR_N)), p_big=0.0)
        else:
            tail = 1 + P["p_big"] * (P["big"] - 1)
            mean_amt = (float(np.mean(amts)) if len(amts) else math.exp(P["mu"] + P["s"] ** 2 / 2) * tail) / tail
            mean_amt /= float(np.mean(fa)) if len(fa) else 1.0
            Q["mu"] = math.log(max(mean_amt, 1e-9)) - P["s"] ** 2 / 2
        if "dayeff" in on:
            Q["sigma_day"] = est_dayeff(lam1 * Q["n_bd"], hist_h, times_h)
        P_est[d] = Q
    F = simulate(rng, P_est, np.arange(now0, now0 + LOOK_H * 3600, 3600, dtype=np.int64), paths)
    F -= np.diff(drain_cum[:LOOK_H + 1])[None, :]
    gen.add_recurring(rng, F, occ_v, now0)
    bal = B0 + np.cumsum(F, axis=1)
    q = np.quantile(bal, [0.1, 0.5, 0.9], axis=0)
    runmin = np.minimum.accumulate(bal, axis=1)
    return {"p": [float(np.mean(runmin[:, h - 1] < floor)) for h in (24, 48, 72, 96)],
            "p10": [B0 / unit] + list(q[0] / unit), "p50": [B0 / unit] + list(q[1] / unit),
            "p90": [B0 / unit] + list(q[2] / unit)}


CAPTURED = []
CHOSEN = list(VARIANTS)
ORIGINAL = gen.estimated_oracle


def capture(tid, ccy, dirs, occ, ev, streams, now0, t_start, paths, B0, floor, unit, drain_cum):
    out = ORIGINAL(tid, ccy, dirs, occ, ev, streams, now0, t_start, paths, B0, floor, unit, drain_cum)
    res = {v: variant(v, tid, ccy, dirs, occ, ev, now0, t_start, paths, B0, floor, unit, drain_cum)
           for v in CHOSEN}
    CAPTURED.append((ccy, B0, out, res))
    return out


def one_world(args):
    wdir = args
    with open(os.path.join(wdir, "truth.json")) as fh:
        truth = json.load(fh)
    split, seed = truth["split"], truth["seed"]
    tmp = tempfile.mkdtemp(prefix="oracle-variants-")
    CAPTURED.clear()
    gen.estimated_oracle = capture
    try:
        gen.make_tenant((split, seed - gen.SPLIT_BASE[split], tmp, truth["paths"]))
    finally:
        shutil.rmtree(tmp)
    lines = []
    by_ccy = {c["currency"]: c for c in truth["currencies"]}
    for ccy, B0, out, res in CAPTURED:
        t = by_ccy[ccy]
        if B0 != t["balance0"] or out["p"] != t["oracle_est"]["p"]:
            raise SystemExit("oracle_variants: %s %s does not regenerate as stored" % (truth["tenant"], ccy))
        for v, r in res.items():
            lines.append(json.dumps({"tenant": truth["tenant"], "currency": ccy, "method": v, "status": "ok",
                                     "k": 0, **r}))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("worlds")
    ap.add_argument("out")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--tenants", type=int, default=0, help="the first N worlds only (0: all)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of: " + ", ".join(VARIANTS))
    a = ap.parse_args()
    CHOSEN[:] = a.variants.split(",")
    if set(CHOSEN) - set(VARIANTS):
        sys.exit("oracle_variants: unknown variant(s) %s" % ", ".join(sorted(set(CHOSEN) - set(VARIANTS))))
    worlds = list_worlds(a.worlds)
    if a.tenants:
        worlds = worlds[:a.tenants]
    n = 0
    with Pool(a.jobs) as pool, open(a.out, "w") as fh:
        for lines in pool.imap(one_world, worlds, chunksize=1):
            fh.write("".join(line + "\n" for line in lines))
            n += 1
    print("oracle_variants: %d worlds, %d variants, into %s" % (n, len(CHOSEN), a.out))


if __name__ == "__main__":
    main()
