"""score.py: sMAPE, MASE (scale: in-sample seasonal naive at lag M), 95 %
coverage of forecasts against the held-out tail. Usage:
score.py SERIES.csv H M NAME:FORECAST.csv ... (forecast CSVs in floatcast's
output format: series_id,step,timestamp,mean,lo80,hi80,lo95,hi95)."""
import csv
import sys

vals = [float(r["value"]) for r in csv.DictReader(open(sys.argv[1]))]
h, m = int(sys.argv[2]), int(sys.argv[3])
train, test = vals[:-h], vals[-h:]
scale = sum(abs(train[t] - train[t - m]) for t in range(m, len(train))) / (len(train) - m)
print("| model | sMAPE | MASE | cov95 | wall s |")
print("|---|---|---|---|---|")
for arg in sys.argv[4:]:
    name, path, secs = arg.split(":")
    rows = list(csv.DictReader(open(path)))
    f = [float(r["mean"]) for r in rows]
    lo = [float(r["lo95"]) for r in rows]
    hi = [float(r["hi95"]) for r in rows]
    smape = sum(200 * abs(y - p) / (abs(y) + abs(p)) if abs(y) + abs(p) > 0 else 0
                for y, p in zip(test, f)) / h
    mase = sum(abs(y - p) for y, p in zip(test, f)) / h / scale
    cov = sum(l <= y <= u for y, l, u in zip(test, lo, hi)) / h
    print("| %s | %.3f | %.3f | %.3f | %s |" % (name, smape, mase, cov, secs))
