#!/usr/bin/python3
"""score_cli.py: scores `floatcast forecast --format m4` output on M4.

    score_cli.py TRAIN.csv TEST.csv FORECAST.csv [NAIVE2_SMAPE NAIVE2_MASE]

FORECAST.csv is the CLI's CSV (series_id,step,timestamp,mean,lo80,hi80,
lo95,hi95). Prints mean sMAPE, mean MASE (seasonal scale 24, as m4_bench),
OWA against the given Naive2 figures (default: the M4 Hourly reference
18.383 / 2.395, which floatcast's naive2 reproduces) and the 80 / 95 %
coverage, so an end-to-end CLI run can be checked against the bench row.
"""
import csv
import sys

M = 24


def read_m4(path):
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        return {r[0]: [float(x) for x in r[1:] if x != ""] for r in rows}


def main():
    if len(sys.argv) not in (4, 6):
        sys.exit(__doc__)
    train, test = read_m4(sys.argv[1]), read_m4(sys.argv[2])
    n2s, n2m = (float(sys.argv[4]), float(sys.argv[5])) if len(sys.argv) == 6 else (18.383, 2.395)
    fc = {}
    with open(sys.argv[3], newline="") as f:
        for r in csv.DictReader(f):
            fc.setdefault(r["series_id"], []).append(r)
    if set(fc) != set(test):
        sys.exit("score_cli: the forecast's series are not the test set's (%d against %d)" % (len(fc), len(test)))
    sm = ma = c80 = c95 = 0.0
    for sid, actual in test.items():
        rows = sorted(fc[sid], key=lambda r: int(r["step"]))
        if len(rows) != len(actual):
            sys.exit("score_cli: %s has %d steps, the test %d" % (sid, len(rows), len(actual)))
        y = train[sid]
        scale = sum(abs(y[t] - y[t - M]) for t in range(M, len(y))) / (len(y) - M)
        mean = [float(r["mean"]) for r in rows]
        sm += 200.0 / len(actual) * sum(abs(a - f) / (abs(a) + abs(f)) for a, f in zip(actual, mean) if abs(a) + abs(f))
        ma += sum(abs(a - f) for a, f in zip(actual, mean)) / len(actual) / scale
        c80 += sum(float(r["lo80"]) <= a <= float(r["hi80"]) for a, r in zip(actual, rows)) / len(actual)
        c95 += sum(float(r["lo95"]) <= a <= float(r["hi95"]) for a, r in zip(actual, rows)) / len(actual)
    n = len(test)
    sm, ma = sm / n, ma / n
    print("series %d sMAPE %.3f MASE %.3f OWA %.3f cov80 %.3f cov95 %.3f" %
          (n, sm, ma, 0.5 * (sm / n2s + ma / n2m), c80 / n, c95 / n))


if __name__ == "__main__":
    main()
