#!/usr/bin/python3
"""Writes the small inputs of the native/WASM parity goldens (run once; the
outputs are committed): seg_txns.csv (partner transactions), ts_hourly.csv
(two hourly series, long form) and gbdt_train.csv / gbdt_test.csv (a numeric
table with a categorical column and missing values). Deterministic.

  /usr/bin/python3 tests/golden/make_inputs.py tests/golden
"""
import math, os, random, sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__)
r = random.Random(5)

# Four behaviour groups of 12 users over 2024 (see tests/core/test_segments.c).
rows, n = [], 0
def tx(user, day, cents, kind, cat):
    global n
    n += 1
    sign = "-" if cents < 0 else ""
    rows.append("t%05d,p1,%s,2024-%02d-%02d,%s%d.%02d,%s,%s" % (
        n, user, *divmod_month(day), sign, abs(cents) // 100, abs(cents) % 100, kind, cat))
MONTHS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
def divmod_month(day):
    m = 0
    while day >= MONTHS[m]:
        day -= MONTHS[m]
        m += 1
    return m + 1, day + 1
def shopper(user, lo, hi, every, cents, cat):
    d = lo + r.randrange(3)
    while d < hi:
        tx(user, d, cents + r.randrange(cents // 5 + 1), "purchase", cat)
        d += every + r.randrange(3) - 1
u = 0
for grp in range(4):
    for i in range(12):
        user = "u%03d" % u
        u += 1
        if grp == 0: shopper(user, 0, 364, 7, 50000, "electronics")
        elif grp == 1: shopper(user, 0, 364, 60, 3000, "books")
        elif grp == 2:
            shopper(user, 0, 182, 7, 8000, "grocery")
            tx(user, 20, -2000, "refund", "grocery")
        else: shopper(user, 334, 364, 2, 2500, "grocery")
with open(os.path.join(out, "seg_txns.csv"), "w") as f:
    f.write("id,partner_id,user_id,action_date,amount,transaction_type,category\n")
    f.write("\n".join(rows) + "\n")

# Two hourly series of 10 days: daily cycle, a trend, noise; ISO times.
with open(os.path.join(out, "ts_hourly.csv"), "w") as f:
    f.write("series_id,timestamp,value\n")
    for sid, level, amp in (("H1", 500.0, 120.0), ("H2", 80.0, 30.0)):
        for t in range(240):
            v = level + 0.3 * t + amp * math.sin(2 * math.pi * t / 24) + r.gauss(0, amp / 10)
            f.write("%s,2024-03-%02dT%02d:00:00Z,%.3f\n" % (sid, 1 + t // 24, t % 24, v))

# y = 3 x1 - 2 x2^2 + effect[cat] + noise; x3 is pure noise; some x1 missing.
effect = [0.0, 4.0, -3.0, 1.5, 8.0]
def table(path, m):
    with open(os.path.join(out, path), "w") as f:
        f.write("x1,x2,x3,cat,y\n")
        for i in range(m):
            x1, x2, x3, c = r.uniform(-2, 2), r.uniform(-1, 1), r.gauss(0, 1), r.randrange(5)
            y = 3 * (x1 if x1 == x1 else 0) - 2 * x2 * x2 + effect[c] + r.gauss(0, 0.3)
            s1 = "" if r.random() < 0.05 else "%.6f" % x1
            f.write("%s,%.6f,%.6f,%d,%.6f\n" % (s1, x2, x3, c, y))
table("gbdt_train.csv", 400)
table("gbdt_test.csv", 60)
