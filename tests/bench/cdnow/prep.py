"""prep.py: CDNOW daily revenue (sum of dollar_value per day) as a long-form
series CSV for floatcast and R. Usage: prep.py CDNOW_master.txt OUT.csv.
The file's first line is a header; days without purchases count as 0."""
import datetime
import sys

rev = {}
with open(sys.argv[1]) as f:
    next(f)
    for line in f:
        parts = line.split()
        if len(parts) != 4:
            continue
        d = datetime.date(int(parts[1][:4]), int(parts[1][4:6]), int(parts[1][6:]))
        rev[d] = rev.get(d, 0.0) + float(parts[3])
first, last = min(rev), max(rev)
with open(sys.argv[2], "w") as out:
    out.write("series_id,timestamp,value\n")
    d = first
    while d <= last:
        out.write("cdnow,%sT00:00:00Z,%.2f\n" % (d.isoformat(), rev.get(d, 0.0)))
        d += datetime.timedelta(days=1)
