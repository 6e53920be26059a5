"""compare.py: two variants of the ml method on the same worlds, paired.

Usage: compare.py WORLDS A.jsonl[:METHOD] B.jsonl[:METHOD] [BASELINE.jsonl[:METHOD]]

A and B are bench_risk answers (single look, method ml) of two builds on the
same worlds and seed, so the simulations share their random numbers where the
models agree (common random numbers): the differences are far less noisy than
either score. Per regime: AUC and Brier at 24/48/72/96 h, recall at FPR 10 %
(48 h), B - A (and B - the baseline) with 95 % intervals from 1000 bootstrap
draws of tenants (seed 1), and p10-p90 coverage per horizon bucket. Only the
currencies every file answers are scored. A change worth keeping wins here on
the validation split beyond its interval, then on the test split once.

A file's answers of one method are read: ml for A and B, baseline for the
third, unless FILE:METHOD names another (oracle_variants.py writes one method
per variant into one file)."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score import BUCKETS, HS, fast_auc, fast_recall_at_fpr  # noqa: E402
from world import list_worlds  # noqa: E402


def single_look(path, method=None):
    out = {}
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            if r["status"] == "ok" and r["k"] == 0 and "p10" in r and (method is None or r["method"] == method):
                out[(r["tenant"], r["currency"])] = r
    return out


def spec(arg, method):
    """FILE or FILE:METHOD -> (file, method)."""
    path, sep, m = arg.rpartition(":")
    return (path, m) if sep and m and not os.path.exists(arg) else (arg, method)


def score(kind, p, y, w):
    if kind == "auc":
        return fast_auc(p, y, w)
    if kind == "brier":
        return -float((w * (p - y) ** 2).sum() / w.sum())  # higher is better, like the others
    return fast_recall_at_fpr(p, y, w, 0.10)


def compare(truth, runs, reg, rng, draws=1000):
    tenants = sorted(tn for tn, t in truth.items() if t["regime"] == reg)
    us = [(tn, c) for tn in tenants for c in truth[tn]["currencies"]
          if all((tn, c["currency"]) in r for r in runs.values())]
    if not us:
        return
    tenants = sorted({tn for tn, _ in us})
    tix = {tn: i for i, tn in enumerate(tenants)}
    ut = np.array([tix[tn] for tn, _ in us])
    W = np.stack([np.bincount(rng.integers(0, len(tenants), len(tenants)), minlength=len(tenants))[ut]
                  for _ in range(draws)]).astype(float)
    one = np.ones(len(us))
    print("\n%s: %d currencies of %d tenants" % (reg, len(us), len(tenants)))
    print("| metric | A | B | baseline | B - A | B - baseline |")
    print("|---|---|---|---|---|---|")
    for kind in ("auc", "brier", "rec"):
        for j, h in enumerate(HS):
            if kind == "rec" and h != 48:
                continue
            y = np.array([(np.array(c["path"][1:h + 1]) < c["floor"]).any() for _, c in us])
            P = {m: np.array([r[(tn, c["currency"])]["p"][j] for tn, c in us], float) for m, r in runs.items()}

            def diff(m1, m2):
                d = [score(kind, P[m1], y, w) - score(kind, P[m2], y, w) for w in W]
                lo, hi = np.percentile(d, [2.5, 97.5])
                return "%+.4f [%+.4f, %+.4f]" % (score(kind, P[m1], y, one) - score(kind, P[m2], y, one), lo, hi)
            name = {"auc": "AUC %dh", "brier": "Brier %dh", "rec": "recall @FPR10%% (%dh)"}[kind] % h
            print("| %s | %.4f | %.4f | %s | %s | %s |" % (
                name, abs(score(kind, P["A"], y, one)), abs(score(kind, P["B"], y, one)),
                "%.4f" % abs(score(kind, P["baseline"], y, one)) if "baseline" in P else "-", diff("B", "A"),
                diff("B", "baseline") if "baseline" in P else "-"))
    for lo, hi in BUCKETS:
        cov = {m: np.mean([r[(tn, c["currency"])]["p10"][k] - 1e-9 <= c["path"][k] / 10 ** c["scale"]
                           <= r[(tn, c["currency"])]["p90"][k] + 1e-9 for tn, c in us for k in range(lo, hi + 1)])
               for m, r in runs.items() if m != "baseline"}
        print("| cov %d-%dh | %.3f | %.3f | | %+.3f | |" % (lo, hi, cov["A"], cov["B"], cov["B"] - cov["A"]))


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    truth = {}
    for w in list_worlds(sys.argv[1]):
        p = os.path.join(w, "truth.json")
        if os.path.exists(p):
            with open(p) as fh:
                t = json.load(fh)
            truth[t["tenant"]] = t
    runs = {"A": single_look(*spec(sys.argv[2], "ml")), "B": single_look(*spec(sys.argv[3], "ml"))}
    if len(sys.argv) == 5:
        runs["baseline"] = single_look(*spec(sys.argv[4], "baseline"))
    rng = np.random.default_rng(1)
    for reg in ("edge", "spread"):
        compare(truth, runs, reg, rng)


if __name__ == "__main__":
    main()
