"""table.py: side-by-side table of floatcast and R on an M4-format set.

Usage: table.py FC_ALL.csv FC_SUB.csv R.csv FC_ALL.txt FC_SUB.txt [R2.csv ...]

Reads the per-series CSVs of m4_bench and of the R scripts (r_forecast.R,
r_prophet.R: one row per model and series with wall and CPU seconds) and
the timing columns of m4_bench's summaries. Every row's OWA is computed
against floatcast's Naive2 on the same series. R rows go in the all-series
table when R ran on every series, in the subset table when it ran on every
subset series. The last lines give R's per-series time over floatcast's for
the pairs (R ets, ets) and (R auto.arima, arima) on the subset, by wall and
by CPU time. When series ids have the form GROUP-N (the treasury set:
USD-1, EUR-1, ...), a last table gives each all-series row's OWA and 95 %
coverage per group."""
import csv
import sys
from collections import defaultdict

PAIRS = (("R ets", "ets"), ("R auto.arima", "arima"), ("R prophet", "prophet@24,168"))


def load(path):
    """Per-series rows by model. A model name may hold commas ("mstl@24,168"):
    m4_bench quotes it, and unquoted extra leading fields are joined back."""
    rows = defaultdict(dict)
    with open(path) as f:
        rd = csv.reader(f)
        hdr = next(rd)
        for r in rd:
            extra = len(r) - len(hdr)
            if extra > 0:
                r = [",".join(r[: extra + 1])] + r[extra + 1:]
            d = dict(zip(hdr, r))
            rows[d["model"]][d["series"]] = d
    return rows


def times_from(txt):
    """(wall s, CPU s) per model from an m4_bench summary."""
    out = {}
    for line in open(txt):
        p = line.split()
        if len(p) >= 10 and p[0] not in ("model", "#"):  # "#" lines: the net's training
            out[p[0]] = (float(p[8]), float(p[9]))
    return out


def series_key(s):
    digits = "".join(c for c in s if c.isdigit())
    return (int(digits) if digits else 0, s)


def row(name, per, series, n2, wall, cpu):
    got = [per[s] for s in series if s in per]
    if len(got) != len(series):
        return None
    mean = lambda k: sum(float(r[k]) for r in got) / len(got)
    sm, ms = mean("smape"), mean("mase")
    s2 = sum(float(n2[s]["smape"]) for s in series) / len(series)
    m2 = sum(float(n2[s]["mase"]) for s in series) / len(series)
    owa = 0.5 * (sm / s2 + ms / m2)
    return "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.4f | %.4f |" % (
        name, len(got), sm, ms, owa, mean("cov80"), mean("cov95"), mean("msis"),
        wall, wall / len(got), cpu / len(got))


def r_times(per, series):
    wall = sum(float(per[s]["secs"]) for s in series)
    cpu = sum(float(per[s].get("cpu", per[s]["secs"])) for s in series)
    return wall, cpu


def group_table(models, series, n2):
    """OWA and cov95 per id group (the part before '-') for every model
    that ran on all of `series`; models: name -> per-series rows."""
    groups = sorted({s.split("-")[0] for s in series})
    print("\nOWA / cov95 by group (id prefix), all series\n| model | " +
          " | ".join("%s (%d)" % (g, sum(s.split("-")[0] == g for s in series)) for g in groups) +
          " |\n|---|" + "---|" * len(groups))
    for name, per in models:
        if not all(s in per for s in series):
            continue
        cells = []
        for g in groups:
            ser = [s for s in series if s.split("-")[0] == g]
            mean = lambda rows, k: sum(float(rows[s][k]) for s in ser) / len(ser)
            owa = 0.5 * (mean(per, "smape") / mean(n2, "smape") + mean(per, "mase") / mean(n2, "mase"))
            cells.append("%.3f / %.3f" % (owa, mean(per, "cov95")))
        print("| %s | %s |" % (name, " | ".join(cells)))


def main():
    fa, fs = load(sys.argv[1]), load(sys.argv[2])
    ta, ts = times_from(sys.argv[4]), times_from(sys.argv[5])
    rr = {}
    for path in [sys.argv[3]] + sys.argv[6:]:
        rr.update(load(path))
    hdr = ("| model | series | sMAPE | MASE | OWA | cov80 | cov95 | MSIS95 | wall s | wall s/series"
           " | CPU s/series |\n|---|---|---|---|---|---|---|---|---|---|---|")
    allser = sorted(fa["naive2"], key=series_key)
    sub = sorted(fs["naive2"], key=series_key)
    nan = (float("nan"), float("nan"))
    print("\nAll %d series (floatcast with 2 worker threads; R single-threaded)\n" % len(allser) + hdr)
    for m in fa:
        print(row("floatcast " + m, fa[m], allser, fa["naive2"], *ta.get(m, nan)))
    for m, per in rr.items():
        if all(s in per for s in allser):
            print(row(m, per, allser, fa["naive2"], *r_times(per, allser)))
    print("\nSubset: %d series (%s), all single-threaded\n" % (len(sub), ",".join(sub)) + hdr)
    for m in fs:
        print(row("floatcast " + m, fs[m], sub, fs["naive2"], *ts.get(m, nan)))
    for m, per in rr.items():
        if all(s in per for s in sub):
            print(row(m, per, sub, fs["naive2"], *r_times(per, sub)))
    print("\nPer-series time, R over floatcast, same subset, single-threaded:")
    for rname, fname in PAIRS:
        if rname in rr and fname in ts and all(s in rr[rname] for s in sub):
            rw, rc = r_times(rr[rname], sub)
            fw, fc = ts[fname]
            print("- %s / floatcast %s: %.0fx by wall time (%.3f s vs %.4f s), %.0fx by CPU time"
                  " (%.3f s vs %.4f s)" % (rname, fname, rw / max(fw, 1e-9), rw / len(sub),
                                          fw / len(sub), rc / max(fc, 1e-9), rc / len(sub),
                                          fc / len(sub)))
    if all("-" in s for s in allser):
        group_table([("floatcast " + m, fa[m]) for m in fa] + list(rr.items()), allser, fa["naive2"])


main()
