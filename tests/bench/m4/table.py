"""table.py: side-by-side table of floatcast and R on M4 Hourly.

Reads the per-series CSVs of m4_bench and r_forecast.R and the timing
lines of m4_bench's summaries; OWA of every row is computed against
floatcast's Naive2 on the same series."""
import csv
import sys
from collections import defaultdict


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


def secs_from(txt):
    out = {}
    for line in open(txt):
        p = line.split()
        if len(p) >= 9 and p[0] != "model":
            out[p[0]] = float(p[8])
    return out


def row(name, per, series, n2, secs):
    got = [per[s] for s in series if s in per]
    if len(got) != len(series):
        return None
    mean = lambda k: sum(float(r[k]) for r in got) / len(got)
    sm, ms = mean("smape"), mean("mase")
    s2 = sum(float(n2[s]["smape"]) for s in series) / len(series)
    m2 = sum(float(n2[s]["mase"]) for s in series) / len(series)
    owa = 0.5 * (sm / s2 + ms / m2)
    return "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.4f |" % (
        name, len(got), sm, ms, owa, mean("cov80"), mean("cov95"), mean("msis"),
        secs, secs / len(got))


def main():
    fa, fs, rr = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
    ta, ts = secs_from(sys.argv[4]), secs_from(sys.argv[5])
    rsecs = {m: sum(float(r["secs"]) for r in per.values()) for m, per in rr.items()}
    hdr = "| model | series | sMAPE | MASE | OWA | cov80 | cov95 | MSIS95 | wall s | s/series |\n|---|---|---|---|---|---|---|---|---|---|"
    allser = sorted(fa["naive2"], key=lambda s: int(s[1:]))
    sub = sorted(fs["naive2"], key=lambda s: int(s[1:]))
    print("\nAll 414 series (floatcast with 2 threads; R single-threaded)\n" + hdr)
    for m in fa:
        print(row("floatcast " + m, fa[m], allser, fa["naive2"], ta.get(m, float("nan"))))
    for m in ("R snaive", "R thetaf"):
        if m in rr:
            print(row(m, rr[m], allser, fa["naive2"], rsecs[m]))
    print("\nSubset: %d series (%s), all single-threaded\n" % (len(sub), ",".join(sub)) + hdr)
    for m in fs:
        print(row("floatcast " + m, fs[m], sub, fs["naive2"], ts.get(m, float("nan"))))
    for m in ("R snaive", "R thetaf", "R ets", "R auto.arima", "R prophet"):
        if m in rr:
            r = row(m, rr[m], sub, fs["naive2"], sum(float(rr[m][s]["secs"]) for s in sub))
            print(r)


main()
