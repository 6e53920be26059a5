#!/usr/bin/python3
"""combine.py: tries ensemble combinations offline on an m4_bench dump.

    m4_bench TRAIN TEST [--validate] --dump D dump@24,168+arima+neural ...
    combine.py D.K NAIVE2_SMAPE NAIVE2_MASE [SCHEME...]

The dump holds, per series, every member's rolling-origin backtest and its
forecast (m4_bench.c, dump_series), so a combination rule is a few lines
here instead of a 400-CPU-second bench run per rule. The rules mirror
core/src/forecast/ensemble.c: validation MASE per member, weights, hold-out
weights per origin for the calibration, conformal multipliers with the
narrowing kept at 0.7, bounds clamped at 0 for a non-negative history. The
scheme "w2top3" (1/MASE^2 over the best 3) must reproduce the C row of
`weighted@24,168+arima+neural` on the same data: the check that this file
and ensemble.c agree.

SCHEME: w<p>top<k> (weights 1/MASE^p over the best k; p = 0 is the equal
mean of the best k), med<k> (the median of the best k), sh<l>top<k>
(1/MASE^2 weights shrunk to equal by l in [0, 1]), sel (the best alone),
auto<p> (per series w<p> over all members or sel, whichever did better on
the origins held out of their own weights: ensemble.c's `choose`).
The OWA uses the naive2 row of the same bench run (pass its sMAPE, MASE).
"""
import math
import statistics
import sys

H = 48
NARROW = 0.7
LEVELS = (80.0, 95.0)
Z = {lv: statistics.NormalDist().inv_cdf(0.5 + lv / 200.0) for lv in LEVELS}


def nums(line):
    return [float(x) for x in line.split()]


def read_dump(path):
    """Yields (actual, nonneg, scale, members); a member is None (failed)
    or a dict of norigins, bt_actual, bt_mean, bt_sd, mean, sd."""
    with open(path) as f:
        lines = iter(f.read().split("\n"))
    for line in lines:
        if not line:
            continue
        assert line.startswith("A "), line[:20]
        actual = nums(line[2:])
        _, nonneg, scale, nm = next(lines).split()
        members = []
        for _ in range(int(nm)):
            _, status, no = next(lines).split()
            if status != "ok":
                members.append(None)
                continue
            rows = [nums(next(lines)) for _ in range(5)]
            members.append(dict(norigins=int(no), bt_actual=rows[0], bt_mean=rows[1], bt_sd=rows[2],
                                mean=rows[3], sd=rows[4]))
        yield actual, int(nonneg) == 1, float(scale), members


def parse(scheme):
    """(kind, power, k, shrink) of a scheme name."""
    if scheme == "sel":
        return ("mean", 2.0, 1, 0.0)
    if scheme.startswith("med"):
        return ("median", 0.0, int(scheme[3:]), 0.0)
    if scheme.startswith("sh"):
        lam, k = scheme[2:].split("top")
        return ("mean", 2.0, int(k), float(lam))
    p, k = scheme[1:].split("top")
    return ("mean", float(p), int(k), 0.0)


def weights(v, rule):
    """ensemble.c's chosen_weights generalised: the best k by v get
    1/v^power (shrunk toward equal by `shrink`), normalised."""
    kind, power, k, shrink = rule
    order = sorted((j for j in range(len(v)) if math.isfinite(v[j])), key=lambda j: (v[j], j))[:k]
    w = [0.0] * len(v)
    if not order:
        return w
    for j in order:
        w[j] = 1.0 / max(v[j] ** power, 1e-12) if power else 1.0
    tot = sum(w)
    w = [x / tot for x in w]
    if shrink:
        w = [(1 - shrink) * x + (shrink / len(order) if x else 0.0) for x in w]
    return w


def combine_at(w, means, kind):
    """The combined value at one step: weighted mean or median of the used
    members' values."""
    if kind == "median":
        return statistics.median(m for wj, m in zip(w, means) if wj)
    return sum(wj * m for wj, m in zip(w, means) if wj)


def conformal(actual, mean, sd, no):
    """ensemble.c's calibrate: multipliers per level (narrowing kept in
    part) and the per-step RMS used where sd is 0."""
    n = no * H
    rms = [math.sqrt(sum((actual[k * H + i] - mean[k * H + i]) ** 2 for k in range(no)) / no) for i in range(H)]
    scores = []
    for k in range(no):
        for i in range(H):
            s = sd[k * H + i] if sd[k * H + i] > 0 else rms[i]
            e = abs(actual[k * H + i] - mean[k * H + i])
            scores.append(e / s if s > 0 else 0.0)
    scores.sort()
    ms = math.sqrt(sum(x * x for x in scores) / n)
    mult = {}
    for lv in LEVELS:
        r = math.ceil((n + 1) * lv / 100.0)
        idx = 0 if r < 1 else r - 1
        m = scores[idx] if idx < n else max(Z[lv] * ms, scores[-1])
        if m < Z[lv]:
            m = Z[lv] + NARROW * (m - Z[lv])
        mult[lv] = m
    return mult, rms


def forecast(members, nonneg, scale, rule):
    """The combined forecast: mean[h], lo/hi per level."""
    kind = rule[0]
    v = [float("nan")] * len(members)
    for j, m in enumerate(members):
        if m is not None:
            e = sum(abs(a - b) for a, b in zip(m["bt_actual"], m["bt_mean"]))
            v[j] = e / len(m["bt_actual"]) / scale if scale > 0 else float("nan")
    ok = [j for j in range(len(v)) if math.isfinite(v[j])]
    if not ok:
        raise ValueError("no member validated")
    if len({members[j]["norigins"] for j in ok}) > 1:
        rule = ("mean", 2.0, 1, 0.0)  # origins differ: select, as ensemble.c
        kind = "mean"
    w = weights(v, rule)
    used = [j for j in range(len(w)) if w[j]]
    mean = [combine_at(w, [members[j]["mean"][i] if w[j] else 0 for j in range(len(w))], kind) for i in range(H)]
    sd = [sum(w[j] * members[j]["sd"][i] for j in used) for i in range(H)]
    if nonneg:
        mean = [max(x, 0.0) for x in mean]
    # hold-out weights per origin, the combined backtest, its conformal step
    no = members[used[0]]["norigins"]
    tot = {j: sum(abs(a - b) for a, b in zip(members[j]["bt_actual"], members[j]["bt_mean"])) for j in ok}
    bt_mean, bt_sd = [0.0] * (no * H), [0.0] * (no * H)
    for k in range(no):
        wk = w
        if no >= 2:
            part = [float("nan")] * len(v)
            for j in ok:
                m = members[j]
                ek = sum(abs(m["bt_actual"][k * H + i] - m["bt_mean"][k * H + i]) for i in range(H))
                part[j] = (tot[j] - ek) / ((no - 1) * H)
            wk = weights(part, rule)
        for i in range(H):
            x = k * H + i
            bt_mean[x] = combine_at(wk, [members[j]["bt_mean"][x] if wk[j] else 0 for j in range(len(w))], kind)
            bt_sd[x] = sum(w[j] * members[j]["bt_sd"][x] for j in used)
    mult, rms = conformal(members[used[0]]["bt_actual"], bt_mean, bt_sd, no)
    bounds = {}
    for lv in LEVELS:
        lo, hi = [], []
        for i in range(H):
            s = sd[i] if sd[i] > 0 else rms[i]
            half = mult[lv] * s
            lo.append(max(mean[i] - half, 0.0) if nonneg else mean[i] - half)
            hi.append(mean[i] + half)
        bounds[lv] = (lo, hi)
    return mean, bounds, w, holdout_mae(members, bt_mean, no)


def holdout_mae(members, bt_mean, no):
    """MAE of the combined backtest means made with each origin held out of
    the weights: how the rule itself did on the validation origins."""
    actual = next(m for m in members if m is not None)["bt_actual"]
    return sum(abs(a - b) for a, b in zip(actual, bt_mean)) / (no * H)


def forecast_meta(members, nonneg, scale, scheme):
    """"auto<p>": per series, the best member alone or 1/MASE^p over all,
    whichever did better on the validation origins with each origin held
    out of its own weights."""
    a = forecast(members, nonneg, scale, parse("sel"))
    b = forecast(members, nonneg, scale, parse("w%stop%d" % (scheme[4:], len(members))))
    return b if b[3] < a[3] else a


def score(path, schemes, n2_smape, n2_mase):
    acc = {s: [0.0, 0.0, 0.0, 0.0, 0] for s in schemes}
    for actual, nonneg, scale, members in read_dump(path):
        for s in schemes:
            if s.startswith("auto"):
                mean, bounds, _, _ = forecast_meta(members, nonneg, scale, s)
            else:
                mean, bounds, _, _ = forecast(members, nonneg, scale, parse(s))
            a = acc[s]
            a[0] += 200.0 / H * sum(abs(x - f) / (abs(x) + abs(f)) for x, f in zip(actual, mean) if abs(x) + abs(f) > 0)
            a[1] += sum(abs(x - f) for x, f in zip(actual, mean)) / H / scale
            for c, lv in ((2, 80.0), (3, 95.0)):
                lo, hi = bounds[lv]
                a[c] += sum(1 for x, l, u in zip(actual, lo, hi) if l <= x <= u) / H
            a[4] += 1
    print("%-12s %6s %8s %8s %7s %7s %7s" % ("scheme", "n", "sMAPE", "MASE", "OWA", "cov80", "cov95"))
    for s in schemes:
        a = acc[s]
        n = a[4]
        sm, ma = a[0] / n, a[1] / n
        owa = 0.5 * (sm / n2_smape + ma / n2_mase)
        print("%-12s %6d %8.3f %8.3f %7.3f %7.3f %7.3f" % (s, n, sm, ma, owa, a[2] / n, a[3] / n))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    score(sys.argv[1], sys.argv[4:] or ["w2top3"], float(sys.argv[2]), float(sys.argv[3]))
