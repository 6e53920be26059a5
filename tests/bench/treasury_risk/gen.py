"""gen.py: treasury worlds from a known generating process, with the oracle.

Usage: gen.py --split test|validation --out DIR [--tenants 120] [--paths 2000] [--jobs 2]

Tenant i of a split is seeded with SPLIT_BASE[split] + i (the two splits never
share a seed) and written to DIR/<tenant>/ (world.py lists the files). Every
currency of a tenant follows its own hidden process, per direction (in, out):

  unscheduled  Poisson events with an hour-of-week intensity: an hour-of-day
               profile (business-hours bump over a night floor; flatter for
               USDC), a factor per weekday, a weekend factor (some tenants'
               weekend inflows are near zero), month-end boosts of intensity
               and amount over the last 2-3 days of a month (more at a
               quarter end), and a lognormal day effect per day (mean 1,
               sd 0.15-0.6 on the log scale: overdispersion). Amounts are
               lognormal (log sd 0.6-1.2) and a few (0-3 %) are 5-20x larger.
               Some events also leave a `failed` transfer that moves nothing.
  recurring    payroll (weekly or biweekly Friday, or the last business day
               of the month), 0-3 monthly vendors, a monthly client retainer
               (inflow), a daily business-day sweep (in or out) at a fixed
               hour; amounts jitter (log sd 0.03-0.1). Scheduled ones are
               announced 1.5-6 days ahead (pending with scheduled_for, then
               completed with scheduled_for set); unscheduled ones are plain
               completed transfers to the same counterparty whose day
               (+-1 business day) and hour jitter.
  streams      0-3 outgoing payment streams, some running dry inside the
               horizon, some paused or cancelled; rates rounded to scale+6
               decimals (what the core accepts today).

now0 falls on any weekday and hour, with extra weight on Saturdays and on
1-3 days before a month end. Balances: regime `edge` (even tenants) puts the
balance above the floor by U(0.5, 1.5) x the median 48 h net need (the drop
of the running minimum of the oracle's cumulative flows), so about half
deplete; `spread` (odd tenants) by 0.8-10 x that need, mostly safe. Floors
are 0 or a positive amount.

The oracle knows every hidden parameter and the state at now' = now0 + k h:
balance, announced scheduled transfers (exact), which recurring payments
have already happened, and the streams. It does not know the current day's
effect (nor uses today's events to guess it). It simulates the process
forward over `paths` joint paths and reports first-passage probabilities
P(balance < floor at some hour in (0, h]) for h = 24/48/72/96 and the
p10/p50/p90 band at k = 0, and P(48 h) at every k = 0..95 (the episodes).
Common random numbers are used across k, which is exact in distribution
because the unscheduled flows of disjoint days are independent."""
import argparse
import calendar
import datetime
import json
import math
import os
import sys
import time
import zlib
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import SCALES, iso, money  # noqa: E402

SPLIT_BASE = {"test": 100000, "validation": 200000}
FUT_H = 150  # hours of realised future after now0
TRUTH_H = 144  # realised path length written
EP_K = 96  # episode re-projections at now0 + k h, k < EP_K
EP_W = 48  # the episode's P(breach within 48 h)
LOOK_H = 96  # single look horizon
DAY = 86400
EPOCH = datetime.date(1970, 1, 1)


def day_date(day):
    return EPOCH + datetime.timedelta(days=int(day))


def is_bd(day):
    return day_date(day).weekday() < 5


def next_bd(day, step=1):
    day += step
    while not is_bd(day):
        day += step
    return day


def lu(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


# ---- the hidden process of one currency ----

def sample_direction(rng, ccy, out, volume):
    n_bd = lu(rng, 4, 60) if out else lu(rng, 2, 40)
    night = rng.uniform(0.3, 0.8) if ccy == "USDC" else rng.uniform(0.03, 0.3)
    peak, width = rng.uniform(9, 15), rng.uniform(2, 4.5)
    h = np.arange(24)
    hod = night + np.exp(-0.5 * ((h - peak) / width) ** 2)
    hod /= hod.sum()
    dow = list(rng.uniform(0.8, 1.25, 5))
    if ccy == "USDC":
        wk = rng.uniform(0.4, 1.0)
    elif not out and rng.uniform() < 0.4:
        wk = 0.01  # weekend inflows near zero
    else:
        wk = rng.uniform(0.05, 0.5)
    dow += [wk, wk * rng.uniform(0.5, 1.0)]
    s = rng.uniform(0.6, 1.2)
    p_big, big = rng.uniform(0, 0.03), rng.uniform(5, 20)
    mean_amt = volume / n_bd / (1 + p_big * (big - 1))
    return {"n_bd": n_bd, "hod": hod, "dow": np.array(dow), "me_days": int(rng.choice([2, 3])),
            "me_int": rng.uniform(1.1, 2.0), "me_amt": rng.uniform(1.0, 1.5), "qe": rng.uniform(1.0, 1.5),
            "sigma_day": rng.uniform(0.15, 0.6), "mu": math.log(mean_amt) - s * s / 2, "s": s,
            "p_big": p_big, "big": big, "p_fail": rng.uniform(0, 0.05)}


def intensity(P, hours):
    """Per hour start (epoch seconds): event intensity without the day effect,
    and the amount multiplier."""
    days = hours // DAY
    lam = np.empty(len(hours))
    amul = np.ones(len(hours))
    cache = {}
    for i, (t, d) in enumerate(zip(hours, days)):
        if d not in cache:
            dt = day_date(d)
            to_end = calendar.monthrange(dt.year, dt.month)[1] - dt.day
            f, a = P["dow"][dt.weekday()], 1.0
            if to_end < P["me_days"]:
                f *= P["me_int"] * (P["qe"] if dt.month in (3, 6, 9, 12) else 1.0)
                a = P["me_amt"]
            cache[d] = (f, a)
        f, a = cache[d]
        lam[i] = P["n_bd"] * P["hod"][(t % DAY) // 3600] * f
        amul[i] = a
    return lam, amul


def amounts(rng, P, n):
    a = rng.lognormal(P["mu"], P["s"], n)
    return a * np.where(rng.uniform(size=n) < P["p_big"], P["big"], 1.0)


def sample_recurring(rng, ccy, volume, day_lo, day_hi):
    """Recurring payments as occurrences: dir, nominal amount (minor), log sd,
    scheduled, counterparty, candidate times and their probabilities."""
    occ = []
    days = range(day_lo, day_hi + 1)

    def add(kind, d, amount, sigma, sched, cp, day, hour, minute, jitter_day, jitter_hours):
        if sched:
            times, probs = [day * DAY + hour * 3600 + minute * 60 + 7], [1.0]
        else:
            opts = [(day, 0.8)] if not jitter_day else [(next_bd(day, -1), 0.1), (day, 0.8), (next_bd(day), 0.1)]
            times, probs = [], []
            for dd, pd in opts:
                for hh in range(hour, hour + jitter_hours):
                    times.append(dd * DAY + hh * 3600 + minute * 60 + 11)
                    probs.append(pd / jitter_hours)
            probs = list(np.array(probs) / sum(probs))
        occ.append({"kind": kind, "dir": d, "amount": amount, "sigma": sigma, "sched": sched, "cp": cp,
                    "times": np.array(times, dtype=np.int64), "probs": np.array(probs)})

    if rng.uniform() < (0.3 if ccy == "USDC" else 0.65):
        freq = rng.choice(["weekly", "biweekly", "monthend"])
        amt = volume * {"weekly": rng.uniform(0.5, 1.5), "biweekly": rng.uniform(1, 3),
                        "monthend": rng.uniform(2, 5)}[freq]
        sched = rng.uniform() < 0.7
        hour, minute, phase = int(rng.integers(8, 12)), int(rng.integers(1, 59)), int(rng.integers(0, 2))
        for d in days:
            dt = day_date(d)
            if freq == "monthend":
                last = d + calendar.monthrange(dt.year, dt.month)[1] - dt.day
                hit = d == (last if is_bd(last) else next_bd(last, -1))
            else:
                hit = dt.weekday() == 4 and (freq == "weekly" or (d // 7) % 2 == phase)
            if hit:
                add("payroll", -1, amt, 0.03, sched, "ext-payroll", d, hour, minute, True, 3)
    for v in range(int(rng.choice([0, 1, 1, 2, 3]))):
        dom, amt = int(rng.integers(1, 29)), volume * rng.uniform(0.2, 1.5)
        sched = rng.uniform() < 0.5
        hour, minute = int(rng.integers(8, 16)), int(rng.integers(1, 59))
        for d in days:
            if day_date(d).day == dom:
                dd = d if sched or is_bd(d) else next_bd(d)
                add("vendor", -1, amt, 0.1, sched, "ext-vendor-%d" % v, dd, hour, minute, True, 6)
    if rng.uniform() < 0.35:
        dom, amt = int(rng.integers(1, 29)), volume * rng.uniform(0.5, 3)
        sched = rng.uniform() < 0.5
        hour, minute = int(rng.integers(9, 15)), int(rng.integers(1, 59))
        for d in days:
            if day_date(d).day == dom:
                dd = d if sched or is_bd(d) else next_bd(d)
                add("retainer", 1, amt, 0.05, sched, "ext-client-0", dd, hour, minute, True, 4)
    if rng.uniform() < 0.45:
        d_sw, amt = int(rng.choice([-1, 1])), volume * rng.uniform(0.1, 0.5)
        hour, minute = int(rng.integers(16, 19)), int(rng.integers(1, 59))
        for d in days:
            if is_bd(d):
                add("sweep", d_sw, amt, 0.1, False, "ext-sweep", d, hour, minute, False, 1)
    return occ


def sample_streams(rng, tid, ccy, scale, volume, now0, t_start):
    out = []
    n = int(rng.choice([0, 1, 2, 3] if ccy == "USDC" else [0, 0, 0, 1, 2]))
    for j in range(n):
        per_hour = volume / 24 * rng.uniform(0.02, 0.25)  # minor units per hour
        rate = int(round(per_hour / 3600 * 10 ** 6))  # 10^-(scale+6) units per second
        if rate <= 0:
            continue
        started = int(t_start - rng.uniform(1, 60) * DAY)
        u = rng.uniform()
        status = "active" if u < 0.75 else "paused" if u < 0.95 else "cancelled"
        paused_s = int(rng.uniform(0, 5) * DAY) if rng.uniform() < 0.3 else 0
        last_pause = None
        if status == "paused":
            last_pause = int(now0 - rng.uniform(1, 200) * 3600)
        streamed = rate * max(0, now0 - started - paused_s) // 10 ** 6
        left_h = rng.uniform(6, 90) if rng.uniform() < 0.35 else rng.uniform(200, 2000)
        funded = streamed + int(rate * left_h * 3600 // 10 ** 6)
        out.append({"id": "%s-st-%s-%d" % (tid, ccy, j), "currency": ccy, "scale": scale, "rate": rate,
                    "funded": funded, "streamed": streamed, "status": status, "started_at": started,
                    "cancelled_at": int(now0 - rng.uniform(1, 100) * 3600) if status == "cancelled" else None,
                    "paused_s": paused_s, "last_pause_at": last_pause})
    return out


def drain(s, now, seconds):
    begin, end = max(now, s["started_at"]), now + seconds
    if s["status"] != "active" or end <= begin:
        return 0
    q, r = divmod(s["rate"] * (end - begin), 10 ** 6)
    if 2 * r > 10 ** 6 or (2 * r == 10 ** 6 and q % 2):
        q += 1
    return min(q, max(0, s["funded"] - s["streamed"]))


# ---- one tenant ----

def choose_now(rng):
    d = (datetime.date(2025, 1, 6) - EPOCH).days + int(rng.integers(0, 330))
    u = rng.uniform()
    if u < 0.3:  # 1-3 days before a month end
        dt = day_date(d)
        d += calendar.monthrange(dt.year, dt.month)[1] - dt.day - int(rng.integers(1, 4))
    elif u < 0.5:  # a Saturday
        d += (5 - day_date(d).weekday()) % 7
    return d * DAY + int(rng.integers(0, 24)) * 3600


def unscheduled_paths(rng, dirs, hours, paths):
    """Signed unscheduled flows per path (rows) and hour (columns) from hour
    starts `hours`: Poisson counts of the intensity times a day effect per
    path and day, amounts from the direction's distribution."""
    W = len(hours)
    U = np.zeros((paths, W))
    for d, P in dirs.items():
        lam, amul = intensity(P, hours)
        ud, inv = np.unique(hours // DAY, return_inverse=True)
        eff = np.exp(rng.normal(-P["sigma_day"] ** 2 / 2, P["sigma_day"], (paths, len(ud))))[:, inv]
        n = rng.poisson(lam[None, :] * eff).ravel()
        flat = np.repeat(np.arange(paths * W), n)
        a = amounts(rng, P, len(flat)) * np.tile(amul, paths)[flat]
        U += d * np.bincount(flat, weights=a, minlength=paths * W).reshape(paths, W)
    return U


def add_recurring(rng, F, occ, nowk):
    """Adds the recurring payments still to come after nowk to F (paths x
    hours from nowk): announced ones exactly, the others at a time and amount
    drawn per path from their jitter."""
    paths, W = F.shape
    for o in occ:
        if o["T"] < nowk:
            continue
        if o["sched"] and o["ann"] <= nowk:
            j = (o["T"] - nowk) // 3600
            if j < W:
                F[:, j] += o["dir"] * o["A"]
            continue
        p = o["probs"] * (o["times"] >= nowk)
        if p.sum() <= 0:
            continue
        j = (o["times"][rng.choice(len(p), size=paths, p=p / p.sum())] - nowk) // 3600
        a = o["amount"] * np.exp(rng.normal(-o["sigma"] ** 2 / 2, o["sigma"], paths))
        m = j < W
        np.add.at(F, (np.nonzero(m)[0], j[m]), o["dir"] * a[m])


def simulate_currency(rng, tid, ccy, regime, now0, t_start, paths):
    scale = SCALES[ccy]
    unit = 10 ** scale
    volume = lu(rng, 2e3, 2e6) * unit  # daily outflow volume, minor units
    dirs = {-1: sample_direction(rng, ccy, True, volume),
            1: sample_direction(rng, ccy, False, volume * rng.uniform(0.75, 1.1))}
    t_end = now0 + FUT_H * 3600
    occ = sample_recurring(rng, ccy, volume, t_start // DAY - 3, t_end // DAY + 3)
    streams = sample_streams(rng, tid, ccy, scale, volume, now0, t_start)
    floor = 0 if rng.uniform() < 0.6 else int(round(volume * rng.uniform(0.2, 2) / unit)) * unit

    # Realised world: events (time, signed minor amount, status, counterparty, scheduled_for, announced_at).
    hours = np.arange(t_start, t_end, 3600, dtype=np.int64)
    ev = []
    for d, P in dirs.items():
        lam, amul = intensity(P, hours)
        days = hours // DAY
        ud, inv = np.unique(days, return_inverse=True)
        eff = np.exp(rng.normal(-P["sigma_day"] ** 2 / 2, P["sigma_day"], len(ud)))[inv]
        n = rng.poisson(lam * eff)
        idx = np.repeat(np.arange(len(hours)), n)
        amt = np.maximum(1, np.round(amounts(rng, P, len(idx)) * amul[idx])).astype(np.int64)
        tt = hours[idx] + rng.integers(1, 3600, len(idx))
        cps = rng.integers(0, 40, len(idx))
        for t, a, c in zip(tt, amt, cps):
            ev.append((int(t), d * int(a), "completed", "ext-%s-%d" % ("cust" if d > 0 else "sup", c), None, None))
        nf = rng.poisson(lam * P["p_fail"])
        idx = np.repeat(np.arange(len(hours)), nf)
        amt = np.maximum(1, np.round(amounts(rng, P, len(idx)))).astype(np.int64)
        tt = hours[idx] + rng.integers(1, 3600, len(idx))
        for t, a in zip(tt, amt):
            ev.append((int(t), d * int(a), "failed", "ext-%s-x" % ("cust" if d > 0 else "sup"), None, None))
    for o in occ:
        k = rng.choice(len(o["times"]), p=o["probs"])
        o["T"] = int(o["times"][k])
        o["A"] = max(1, int(round(o["amount"] * math.exp(rng.normal(-o["sigma"] ** 2 / 2, o["sigma"])))))
        o["ann"] = o["T"] - int(rng.uniform(1.5, 6) * DAY) if o["sched"] else None
        if t_start <= o["T"] < t_end:
            ev.append((o["T"], o["dir"] * o["A"], "completed", o["cp"], o["T"] if o["sched"] else None, o["ann"]))
    ev.sort(key=lambda e: e[0])

    drain_cum = np.array([sum(drain(s, now0, h * 3600) for s in streams) for h in range(FUT_H + 1)], dtype=np.int64)
    done = [e for e in ev if e[2] == "completed"]
    fut = np.array([(e[0], e[1]) for e in done if e[0] >= now0] or np.zeros((0, 2)), dtype=np.int64).reshape(-1, 2)
    R = np.array([fut[fut[:, 0] < now0 + k * 3600, 1].sum() - drain_cum[k] for k in range(TRUTH_H + 1)], dtype=np.int64)
    hist_net = np.zeros((now0 - t_start) // 3600)
    for e in done:
        if e[0] < now0:
            hist_net[(e[0] - t_start) // 3600] += e[1]

    # Oracle: unscheduled flows on M paths over hours [now0, now0 + EP_K + EP_W).
    t_oracle, c_oracle = time.perf_counter(), time.process_time()
    W_all = EP_K + EP_W
    oh = np.arange(now0, now0 + W_all * 3600, 3600, dtype=np.int64)
    U = unscheduled_paths(rng, dirs, oh, paths)

    def window_flows(k, W):
        F = U[:, k:k + W].copy()
        F -= np.diff(drain_cum[k:k + W + 1])[None, :]
        add_recurring(rng, F, occ, now0 + k * 3600)
        return F

    C0 = np.cumsum(window_flows(0, LOOK_H), axis=1)  # balance change at hours 1..96 from now0
    minc = [C0[:, :EP_W].min(axis=1)]
    t_look, c_look = time.perf_counter() - t_oracle, time.process_time() - c_oracle
    for k in range(1, EP_K):
        minc.append(np.cumsum(window_flows(k, EP_W), axis=1).min(axis=1))
    t_oracle, c_oracle = time.perf_counter() - t_oracle, time.process_time() - c_oracle

    # Balance from the regime and the 48 h need.
    need = -minc[0]
    N = float(np.median(need))
    if N < 0.05 * volume:
        N = max(float(np.quantile(need, 0.9)), 0.25 * volume)
    factor = rng.uniform(0.5, 1.5) if regime == "edge" else lu(rng, 0.8, 10)
    B0 = floor + int(math.ceil(N * factor / unit)) * unit
    B = B0 + R
    breach = next((k for k in range(1, TRUTH_H + 1) if B[k] < floor), None)
    bal0 = B0 + C0  # paths x 96
    q = np.quantile(bal0, [0.1, 0.5, 0.9], axis=0)
    runmin = np.minimum.accumulate(bal0, axis=1)
    oracle = {
        "p": [float(np.mean(runmin[:, h - 1] < floor)) for h in (24, 48, 72, 96)],
        "p10": [B0 / unit] + list(q[0] / unit), "p50": [B0 / unit] + list(q[1] / unit),
        "p90": [B0 / unit] + list(q[2] / unit),
        "p48_by_hour": [float(np.mean(B[k] + minc[k] < floor)) for k in range(EP_K)],
    }
    oracle_est = estimated_oracle(tid, ccy, dirs, occ, ev, streams, now0, t_start, paths, B0, floor, unit,
                                  drain_cum)
    truth = {"oracle_ms_look": t_look * 1e3, "oracle_ms_episode": (t_oracle - t_look) / (EP_K - 1) * 1e3,
             "oracle_cpu_ms_look": c_look * 1e3, "oracle_cpu_ms_episode": (c_oracle - c_look) / (EP_K - 1) * 1e3,
             "currency": ccy, "scale": scale, "floor": floor, "balance0": B0, "need48": N / unit,
             "breach_hour": breach, "path": [int(x) for x in B], "oracle": oracle, "oracle_est": oracle_est,
             "hist_mean_abs_hourly": float(np.mean(np.abs(hist_net))) / unit,
             "hidden": {"volume": volume / unit, "regime_factor": factor,
                        **{("out" if d < 0 else "in") + "_" + key: round(float(P[key]), 4)
                           for d, P in dirs.items() for key in ("n_bd", "sigma_day", "s", "p_big")},
                        "weekend_in": round(float(dirs[1]["dow"][5]), 4),
                        "recurring": sorted({"%s%s" % (o["kind"], "*" if o["sched"] else "") for o in occ})}}
    return truth, ev, streams, B0, floor


def estimated_oracle(tid, ccy, dirs, occ, ev, streams, now0, t_start, paths, B0, floor, unit, drain_cum):
    """The oracle's simulation with the two levels a learner must estimate from
    the history -- events per business day and the mean amount, per direction --
    replaced by their moment estimates from the history's unscheduled completed
    transfers; every other hidden parameter (hour and weekday shapes, month
    ends, day-effect spread, amount spread and tail, the recurring payments and
    their dates) stays the truth. No method that learns from the same history
    can expect to rank better than this, so it is the fair ceiling (the oracle
    knows the levels exactly). Its own random stream: the worlds do not change."""
    rng = np.random.default_rng(zlib.crc32(("oracle-est/%s/%s" % (tid, ccy)).encode()))
    hist_h = np.arange(t_start, now0, 3600, dtype=np.int64)
    recurring_cps = {o["cp"] for o in occ}
    P_est = {}
    for d, P in dirs.items():
        amts = [abs(e[1]) for e in ev if t_start <= e[0] < now0 and e[2] == "completed" and e[4] is None
                and e[3] not in recurring_cps and (e[1] > 0) == (d > 0)]
        lam1, amul = intensity(dict(P, n_bd=1.0), hist_h)
        n_bd = max(len(amts), 0.5) / max(float(lam1.sum()), 1e-9)
        tail = 1 + P["p_big"] * (P["big"] - 1)
        mean_amt = (float(np.mean(amts)) if amts else math.exp(P["mu"] + P["s"] ** 2 / 2) * tail) / tail
        mean_amt /= float(np.mean(amul)) if len(amul) else 1.0
        P_est[d] = dict(P, n_bd=n_bd, mu=math.log(max(mean_amt, 1e-9)) - P["s"] ** 2 / 2)
    F = unscheduled_paths(rng, P_est, np.arange(now0, now0 + LOOK_H * 3600, 3600, dtype=np.int64), paths)
    F -= np.diff(drain_cum[:LOOK_H + 1])[None, :]
    add_recurring(rng, F, occ, now0)
    bal = B0 + np.cumsum(F, axis=1)
    q = np.quantile(bal, [0.1, 0.5, 0.9], axis=0)
    runmin = np.minimum.accumulate(bal, axis=1)
    return {"p": [float(np.mean(runmin[:, h - 1] < floor)) for h in (24, 48, 72, 96)],
            "p10": [B0 / unit] + list(q[0] / unit), "p50": [B0 / unit] + list(q[1] / unit),
            "p90": [B0 / unit] + list(q[2] / unit)}


def make_tenant(args):
    split, i, out, paths = args
    seed = SPLIT_BASE[split] + i
    rng = np.random.default_rng(seed)
    tid = "%s%03d" % (split[0], i)
    regime = "edge" if i % 2 == 0 else "spread"
    n_ccy = int(rng.choice([1, 2, 2, 3, 3, 4]))
    ccys = ["USD"] + list(rng.choice(["EUR", "USDC", "GBP"], n_ccy - 1, replace=False)) if rng.uniform() < 0.8 \
        else list(rng.choice(["USD", "EUR", "USDC", "GBP"], n_ccy, replace=False))
    ccys = sorted(set(ccys))
    now0 = choose_now(rng)
    hist_days = int(rng.integers(7, 36))
    t_start = now0 - hist_days * DAY
    d = os.path.join(out, tid)
    os.makedirs(d, exist_ok=True)
    acc_rows, tr_rows, st_rows, truths, floors = [], [], [], [], []
    n = 0
    for ccy in ccys:
        truth, ev, streams, B0, floor = simulate_currency(rng, tid, ccy, regime, now0, t_start, paths)
        sc = SCALES[ccy]
        acc = "%s-op-%s" % (tid, ccy)
        if ccy == "USD" and rng.uniform() < 0.3:  # a reserve account that never moves
            res = int(B0 * rng.uniform(0.1, 0.4)) // 10 ** sc * 10 ** sc
            acc_rows.append("%s-res-USD,%s,USD,%s,true" % (tid, tid, money(res, sc)))
            B0 -= res
        acc_rows.append("%s,%s,%s,%s,true" % (acc, tid, ccy, money(B0, sc)))
        for t, a, status, cp, sf, ann in ev:
            n += 1
            fr, to = (cp, acc) if a > 0 else (acc, cp)
            tr_rows.append("%s-%d,%s,%s,%s,%s,%s,%s,%s,%s,%s" % (
                tid, n, tid, fr, to, ccy, money(abs(a), sc), status, iso(t), iso(sf) if sf else "",
                iso(ann) if ann else ""))
        for s in streams:
            st_rows.append("%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s" % (
                s["id"], tid, ccy, money(s["rate"], sc + 6), money(s["funded"], sc), money(s["streamed"], sc),
                s["status"], iso(s["started_at"]), iso(s["cancelled_at"]) if s["cancelled_at"] else "",
                s["paused_s"], iso(s["last_pause_at"]) if s["last_pause_at"] else ""))
        truths.append(truth)
        floors.append("%s=%s" % (ccy, money(floor, sc)))
    tr_rows.sort(key=lambda r: r.split(",")[7])
    with open(os.path.join(d, "accounts.csv"), "w") as f:
        f.write("id,tenant_id,currency,balance_available,allow_overdraft\n" + "\n".join(acc_rows) + "\n")
    with open(os.path.join(d, "transfers.csv"), "w") as f:
        f.write("id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for,"
                "announced_at\n" + "\n".join(tr_rows) + "\n")
    with open(os.path.join(d, "streams.csv"), "w") as f:
        f.write("id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at,"
                "cancelled_at,total_paused_seconds,last_pause_at\n" + "".join(r + "\n" for r in st_rows))
    with open(os.path.join(d, "meta.csv"), "w") as f:
        f.write("key,value\ntenant,%s\nnow0,%s\nfloors,\"%s\"\nregime,%s\nsplit,%s\nseed,%d\nhist_days,%d\n" % (
            tid, iso(now0), ",".join(floors), regime, split, seed, hist_days))
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump({"tenant": tid, "now0": iso(now0), "regime": regime, "split": split, "seed": seed,
                   "hist_days": hist_days, "paths": paths, "currencies": truths}, f)
    return tid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=sorted(SPLIT_BASE), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tenants", type=int, default=120)
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    if a.paths < 2000:
        print("gen.py: note: fewer than 2000 oracle paths", file=sys.stderr)
    work = [(a.split, i, a.out, a.paths) for i in range(a.tenants)]
    with Pool(a.jobs) as p:
        done = p.map(make_tenant, work, chunksize=1)
    print("gen.py: %d %s worlds in %s" % (len(done), a.split, a.out))


if __name__ == "__main__":
    main()
