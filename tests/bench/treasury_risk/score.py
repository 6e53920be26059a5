"""score.py: scores rule, gbdt, ml, the baseline and the oracle side by side.

Usage: score.py WORLDS RESULTS.jsonl... [--md OUT.md]

The unit is one currency of one tenant. Outcome at horizon h: the realised
balance path (truth.json) falls below the floor at some hour in (0, h].

Single look (now0): per regime and h = 24/48/72/96, ROC AUC (midranks),
Brier score, recall at FPR <= 10 % and FPR at recall >= 95 % (best
threshold on the predicted P(h), chosen on these data: an ROC operating
point, not a tuned policy); a 10-bin reliability table of P(48 h); p10-p90
coverage of the realised balance per horizon bucket (1-12, 13-24, 25-48,
49-96 h); the mean over hours 1..48 of |p50 - realised balance| divided by
the history's mean absolute hourly net flow (sMAE48); wall time per tenant.

Episodes: re-projections at now0 + k h with P(breach within 48 h). A
currency breaching at hour b <= 96 is a positive; it counts as caught by a
threshold when some k <= b - 12 has P >= threshold (lead = b - first such
k). Breaches before hour 12 cannot be caught 12 h ahead by anyone and are
left out of recall (counted). A currency that does not breach within 96 h
is a negative; an alert at any k <= 48 (whose 48 h window lies inside the
observed 96 h) is a false positive. Per method and regime: recall, FPR,
threshold and median lead at the best threshold with FPR <= 10 % and
<= 20 %, and whether the oracle reaches recall >= 95 % at FPR <= 10 %.

Paired differences: ml minus the baseline, the estimated oracle and the oracle
on the single look's AUC, Brier and recall at FPR 10 %, with 95 % intervals
from a paired bootstrap over tenants (a tenant's currencies share its
calendar and are resampled together; 2000 draws, seed 1). A difference whose
interval holds 0 is one these worlds cannot tell from chance."""
import json
import os
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import list_worlds  # noqa: E402

# ml-raw: ml's probabilities before its calibration (p_raw), same band.
# oracle-est: the true process with the flow levels estimated from the
# history (gen.py estimated_oracle): the fair ceiling for a learner.
METHODS = ["rule", "gbdt", "ml", "ml-raw", "baseline", "oracle-est", "oracle"]
HS = (24, 48, 72, 96)
BUCKETS = ((1, 12), (13, 24), (25, 48), (49, 96))


def auc(p, y):
    p, y = np.asarray(p, float), np.asarray(y, bool)
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sp = p[order]
    i = 0
    while i < len(sp):
        j = i
        while j + 1 < len(sp) and sp[j + 1] == sp[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def fast_auc(p, y, w):
    """AUC with midranks, each unit weighted w (bootstrap multiplicities)."""
    order = np.argsort(p, kind="mergesort")
    p, y, w = p[order], y[order], w[order]
    wp, wn = w * y, w * ~y
    npos, nneg = wp.sum(), wn.sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    # Negatives strictly below each unit, plus half of the ties.
    starts = np.r_[True, p[1:] != p[:-1]]
    grp = np.cumsum(starts) - 1
    neg_grp = np.bincount(grp, weights=wn)
    below = np.r_[0.0, np.cumsum(neg_grp)[:-1]]
    return float((wp * (below[grp] + 0.5 * neg_grp[grp])).sum() / (npos * nneg))


def fast_recall_at_fpr(p, y, w, fpr_max):
    """Best recall over thresholds (alert when p >= t) with weighted FPR <= fpr_max."""
    order = np.argsort(-p, kind="mergesort")
    p, y, w = p[order], y[order], w[order]
    npos, nneg = (w * y).sum(), (w * ~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    last = np.r_[p[1:] != p[:-1], True]  # a threshold admits whole tie groups
    tp, fp = np.cumsum(w * y)[last] / npos, np.cumsum(w * ~y)[last] / nneg
    ok = fp <= fpr_max + 1e-12
    return float(tp[ok].max()) if ok.any() else 0.0


def roc_points(p, y):
    """(threshold, recall, fpr) for every distinct threshold (alert when p >= t)."""
    p, y = np.asarray(p, float), np.asarray(y, bool)
    out = []
    for t in sorted(set(p.tolist()), reverse=True) + [float("inf")]:
        a = p >= t
        out.append((t, a[y].mean() if y.any() else float("nan"), a[~y].mean() if (~y).any() else float("nan")))
    return out


def recall_at_fpr(p, y, fpr_max):
    pts = [r for r in roc_points(p, y) if r[2] <= fpr_max + 1e-12]
    return max(pts, key=lambda r: (r[1], r[0])) if pts else (float("nan"),) * 3


def fpr_at_recall(p, y, rec_min):
    pts = [r for r in roc_points(p, y) if r[1] >= rec_min - 1e-12]
    return min(r[2] for r in pts) if pts else float("nan")


def f(x, d=3):
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else ("%.*f" % (d, x))


def load(worlds, results):
    truth = {}
    for w in list_worlds(worlds):
        with open(os.path.join(w, "truth.json")) as fh:
            t = json.load(fh)
        truth[t["tenant"]] = t
    look = defaultdict(dict)  # (method) -> {(tenant, ccy): row}
    ep = defaultdict(lambda: defaultdict(dict))  # method -> (tenant, ccy) -> {k: p48}
    # method or method/ep -> {(tenant, now): [wall ms, cpu ms]} of one call for the whole tenant
    calls = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    notes = {}

    def timing(m, key, r, per_currency):
        c = calls[m][key]
        if per_currency:  # baseline and oracle time each currency: add up
            c[0] += r["ms"]
            c[1] += r.get("cpu_ms", r["ms"])
        else:  # one fc_project call covers every currency
            c[:] = [r["ms"], r.get("cpu_ms", r["ms"])]

    for path in results:
        with open(path) as fh:
            for line in fh:
                r = json.loads(line)
                m = r["method"]
                if r["status"] != "ok":
                    notes[m] = "%s: %s" % (r["status"], r.get("msg", ""))
                    continue
                key = (r["tenant"], r["currency"])
                if "p_raw" in r:
                    raw = dict(r, method=m + "-raw", p=r["p_raw"])
                    if "p10" in raw and raw["k"] == 0:
                        look[m + "-raw"][key] = raw
                    elif "p10" not in raw:
                        ep[m + "-raw"][key][raw["k"]] = raw["p"][1]
                if "p10" in r and r["k"] == 0:
                    look[m][key] = r
                    timing(m, (r["tenant"], "look"), r, m == "baseline")
                elif "p10" not in r:
                    ep[m][key][r["k"]] = r["p"][1]
                    timing(m + "/ep", (r["tenant"], r["k"]), r, m == "baseline")
    for t in truth.values():
        for c in t["currencies"]:
            key = (t["tenant"], c["currency"])
            o = c["oracle"]
            look["oracle"][key] = {"p": o["p"], "p10": o["p10"], "p50": o["p50"], "p90": o["p90"]}
            ep["oracle"][key] = dict(enumerate(o["p48_by_hour"]))
            if "oracle_est" in c:
                e = c["oracle_est"]
                look["oracle-est"][key] = {"p": e["p"], "p10": e["p10"], "p50": e["p50"], "p90": e["p90"]}
            timing("oracle", (t["tenant"], "look"), {"ms": c["oracle_ms_look"], "cpu_ms": c["oracle_cpu_ms_look"]}, True)
            timing("oracle/ep", (t["tenant"], 0), {"ms": c["oracle_ms_episode"], "cpu_ms": c["oracle_cpu_ms_episode"]}, True)
    return truth, look, ep, calls, notes


def single_look(truth, look, calls, notes, out):
    units = [(t["tenant"], c, t["regime"]) for t in truth.values() for c in t["currencies"]]
    for reg in ("edge", "spread"):
        us = [(tn, c) for tn, c, r in units if r == reg]
        ys = {h: np.array([(np.array(c["path"][1:h + 1]) < c["floor"]).any() for _, c in us]) for h in HS}
        out.append("\n### Single look at now0, regime `%s` (%d currencies, breach rate 24/48/72/96 h: %s)\n" % (
            reg, len(us), " / ".join(f(ys[h].mean(), 2) for h in HS)))
        out.append("| method | AUC 24h | AUC 48h | AUC 72h | AUC 96h | Brier 24h | Brier 48h | Brier 72h | Brier 96h "
                   "| recall @FPR10% (48h) | FPR @recall95% (48h) | cov 1-12h | cov 13-24h | cov 25-48h | cov 49-96h "
                   "| sMAE48 | ms/tenant (wall / cpu) |")
        out.append("|" + "---|" * 17)
        for m in METHODS:
            rows = [look[m].get((tn, c["currency"])) for tn, c in us]
            if not any(rows) and m == "ml-raw":
                continue
            if not any(rows):
                out.append("| %s | %s |" % (m, notes.get(m, "no results")) + " |" * 15)
                continue
            ok = [i for i, r in enumerate(rows) if r]
            cells = []
            ps = {h: np.array([rows[i]["p"][j] for i in ok]) for j, h in enumerate(HS)}
            for h in HS:
                cells.append(f(auc(ps[h], ys[h][ok])))
            for h in HS:
                cells.append(f(float(np.mean((ps[h] - ys[h][ok]) ** 2))))
            cells.append(f(recall_at_fpr(ps[48], ys[48][ok], 0.10)[1]))
            cells.append(f(fpr_at_recall(ps[48], ys[48][ok], 0.95)))
            for lo, hi in BUCKETS:
                cov = []
                for i in ok:
                    c, r = us[i][1], rows[i]
                    sc = 10 ** c["scale"]
                    for k in range(lo, hi + 1):
                        cov.append(r["p10"][k] - 1e-9 <= c["path"][k] / sc <= r["p90"][k] + 1e-9)
                cells.append(f(float(np.mean(cov)), 2))
            smae = [np.mean([abs(rows[i]["p50"][k] - us[i][1]["path"][k] / 10 ** us[i][1]["scale"])
                             for k in range(1, 49)]) / max(us[i][1]["hist_mean_abs_hourly"], 1e-9) for i in ok]
            cells.append(f(float(np.mean(smae)), 1))
            tenants = {tn for tn, _ in [us[i] for i in ok]}
            ms = [calls[m][(tn, "look")] for tn in tenants if (tn, "look") in calls[m]]
            cells.append("%s / %s" % (f(float(np.mean([x[0] for x in ms])), 0), f(float(np.mean([x[1] for x in ms])), 0))
                         if ms else "-")
            out.append("| %s%s | %s |" % (m, "" if len(ok) == len(us) else " (%d)" % len(ok), " | ".join(cells)))
    # Reliability of P(48 h), both regimes pooled.
    allu = [(t["tenant"], c) for t in truth.values() for c in t["currencies"]]
    y48 = np.array([(np.array(c["path"][1:49]) < c["floor"]).any() for _, c in allu])
    out.append("\n### Reliability of P(48 h) at now0, both regimes (%d currencies): observed breach rate (n) per "
               "predicted-probability bin\n" % len(allu))
    out.append("| method | " + " | ".join("%.1f-%.1f" % (b / 10, (b + 1) / 10) for b in range(10)) + " |")
    out.append("|" + "---|" * 11)
    for m in METHODS:
        idx = [i for i, (tn, c) in enumerate(allu) if (tn, c["currency"]) in look[m]]
        if not idx:
            continue
        p = np.array([look[m][(allu[i][0], allu[i][1]["currency"])]["p"][1] for i in idx])
        y = y48[idx]
        b = np.minimum((p * 10).astype(int), 9)
        out.append("| %s | " % m + " | ".join(
            ("%s (%d)" % (f(float(y[b == j].mean()), 2), (b == j).sum())) if (b == j).any() else "-"
            for j in range(10)) + " |")


def paired(truth, look, out, draws=2000):
    out.append("\n### ml against the others on the single look: paired differences, 95 % bootstrap intervals over "
               "tenants\n")
    out.append("Positive is ml better (higher AUC or recall, lower Brier); an interval holding 0 is not a difference "
               "these worlds can show.\n")
    out.append("| regime | metric | ml | ml - baseline | ml - oracle-est | ml - oracle |")
    out.append("|" + "---|" * 6)
    rng = np.random.default_rng(1)
    for reg in ("edge", "spread"):
        tenants = sorted(tn for tn, t in truth.items() if t["regime"] == reg)
        us = [(tn, c) for tn in tenants for c in truth[tn]["currencies"]
              if all((tn, c["currency"]) in look[m] for m in ("ml", "baseline", "oracle"))]
        if not us:
            continue
        others = [m for m in ("baseline", "oracle-est", "oracle")
                  if all((tn, c["currency"]) in look[m] for tn, c in us)]
        tix = {tn: i for i, tn in enumerate(tenants)}
        unit_t = np.array([tix[tn] for tn, _ in us])
        W = np.stack([np.bincount(rng.integers(0, len(tenants), len(tenants)), minlength=len(tenants))[unit_t]
                      for _ in range(draws)]).astype(float)
        metrics = [("AUC %dh" % h, j, h, "auc") for j, h in enumerate(HS)] + \
                  [("Brier %dh" % h, j, h, "brier") for j, h in enumerate(HS)] + [("recall @FPR10% (48h)", 1, 48, "rec")]
        for name, j, h, kind in metrics:
            y = np.array([(np.array(c["path"][1:h + 1]) < c["floor"]).any() for _, c in us])
            ps = {m: np.array([look[m][(tn, c["currency"])]["p"][j] for tn, c in us], float) for m in ["ml"] + others}

            def score(m, w):
                if kind == "auc":
                    return fast_auc(ps[m], y, w)
                if kind == "brier":
                    return -float((w * (ps[m] - y) ** 2).sum() / w.sum())
                return fast_recall_at_fpr(ps[m], y, w, 0.10)
            one = np.ones(len(us))
            cells = [f(abs(score("ml", one)))]
            for m in ("baseline", "oracle-est", "oracle"):
                if m not in others:
                    cells.append("-")
                    continue
                d = np.array([score("ml", w) - score(m, w) for w in W])
                lo, hi = np.percentile(d, [2.5, 97.5])
                cells.append("%+.3f [%+.3f, %+.3f]" % (score("ml", one) - score(m, one), lo, hi))
            out.append("| %s | %s | %s |" % (reg, name, " | ".join(cells)))


def episodes(truth, ep, calls, out):
    out.append("\n### Episodes: hourly re-projection, alert when P(breach within 48 h) >= threshold, caught when "
               "alerted >= 12 h before the breach\n")
    out.append("| regime | method | every | positives (early) | negatives | recall @FPR<=10% | FPR | thr | median lead h "
               "| recall @FPR<=20% | FPR | thr | median lead h | ms/call (wall / cpu) |")
    out.append("|" + "---|" * 14)
    verdict = []
    for reg in ("edge", "spread"):
        for m in METHODS + ["oracle, all worlds"]:
            em = "oracle" if m == "oracle, all worlds" else m
            if not ep.get(em):
                continue
            # The oracle row uses the baseline's episode currencies (the same units), the last row every world.
            units = [(t["tenant"], c) for t in truth.values() if t["regime"] == reg for c in t["currencies"]
                     if (t["tenant"], c["currency"]) in ep[em] and (m != "oracle" or (t["tenant"], c["currency"]) in
                                                                      ep.get("baseline", {}))]
            if not units:
                continue
            pos, neg, early, leads_by = [], [], 0, []
            for tn, c in units:
                s = ep[em][(tn, c["currency"])]
                b = c["breach_hour"]
                if b is not None and b <= 96:
                    if b < 12:
                        early += 1
                        continue
                    ks = sorted(k for k in s if k <= b - 12)
                    pos.append((max(s[k] for k in ks) if ks else 0.0, [(k, s[k]) for k in ks], b))
                else:
                    ks = [k for k in s if k <= 48]
                    neg.append(max(s[k] for k in ks) if ks else 0.0)
            ks_all = sorted({k for tn, c in units for k in ep[em][(tn, c["currency"])]})
            every = ks_all[1] - ks_all[0] if len(ks_all) > 1 else 0
            sc = np.array([p[0] for p in pos] + neg)
            y = np.array([True] * len(pos) + [False] * len(neg))
            cells = []
            for fmax in (0.10, 0.20):
                thr, rec, fpr = recall_at_fpr(sc, y, fmax)
                leads = [b - min(k for k, v in ser if v >= thr) for _, ser, b in pos
                         if any(v >= thr for _, v in ser)] if not np.isnan(thr) else []
                cells += [f(rec, 2), f(fpr, 2), f(thr, 2), f(float(np.median(leads)), 0) if leads else "-"]
                if em == "oracle" and fmax == 0.10:
                    verdict.append("%s, %s: recall %s at FPR %s: recall >= 95 %% at FPR <= 10 %% is %s" % (
                        reg, m, f(rec, 2), f(fpr, 2),
                        "untestable (no positives)" if not pos else "reachable" if rec >= 0.95 else "NOT reachable"))
            ms = [v for (tn, k), v in calls[em + "/ep"].items() if tn in {u[0] for u in units}]
            out.append("| %s | %s | %s h | %d (%d) | %d | %s | %s |" % (
                reg, m, every, len(pos), early, len(neg), " | ".join(cells),
                "%s / %s" % (f(float(np.mean([x[0] for x in ms])), 1), f(float(np.mean([x[1] for x in ms])), 1))
                if ms else "-"))
    out.append("")
    out.extend("- " + v for v in verdict)


def main():
    args = sys.argv[1:]
    md = None
    if "--md" in args:
        i = args.index("--md")
        md = args[i + 1]
        del args[i:i + 2]
    truth, look, ep, calls, notes = load(args[0], args[1:])
    out = ["## Treasury depletion risk (%d tenants, split %s, oracle %d paths)" % (
        len(truth), ",".join(sorted({t["split"] for t in truth.values()})),
        min(t["paths"] for t in truth.values()))]
    for m, n in sorted(notes.items()):
        out.append("\nNote: method %s skipped (%s)." % (m, n))
    single_look(truth, look, calls, notes, out)
    if look.get("ml") and look.get("baseline"):
        paired(truth, look, out)
    episodes(truth, ep, calls, out)
    text = "\n".join(out) + "\n"
    print(text)
    if md:
        with open(md, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
