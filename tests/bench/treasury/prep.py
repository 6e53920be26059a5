"""prep.py: the hourly treasury-outflow set from floatcast's demo generator,
in M4 format (train.csv, test.csv) so m4_bench and the R scripts read it.

Usage: prep.py FLOATCAST OUTDIR [TENANTS] [DAYS]

Tenant k (k = 0 .. TENANTS-1, default 25) is `floatcast demo --seed k+1
--days DAYS` (default 42) with its history ending at 2025-01-06T00:00Z plus
11k days plus 7k mod 24 hours, so the held-out windows fall on different
weekdays, hours and days of the month (month-ends and the vendor payments
on the 1st included). Each tenant gives one series per currency (USD,
EUR, GBP, USDC): the hourly sum of its completed transfers from one of its
accounts to an outside account, in currency units; hours without such
transfers count 0 (internal USDC top-ups and failed, cancelled and
pending transfers are left out). The last 48 hours are the test set.
Series ids are CURRENCY-TENANT (USD-1, EUR-1, ..., USDC-25) in tenant-major
order; OUTDIR/series.csv maps each id to its seed, currency, history end
and share of zero hours."""
import csv
import datetime
import os
import subprocess
import sys

H = 48
CURRENCIES = ("USD", "EUR", "GBP", "USDC")
EPOCH = datetime.datetime(2025, 1, 6, tzinfo=datetime.timezone.utc)


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def hourly_outflows(transfers_csv, accounts, start, hours):
    """Per currency, a list of `hours` hourly outflow sums from `start`."""
    out = {c: [0.0] * hours for c in CURRENCIES}
    with open(transfers_csv) as f:
        for r in csv.DictReader(f):
            if r["status"] != "completed" or r["from_account_id"] not in accounts:
                continue
            if r["to_account_id"] in accounts or r["currency"] not in out:
                continue
            k = int((parse_time(r["created_at"]) - start).total_seconds()) // 3600
            if 0 <= k < hours:
                out[r["currency"]][k] += float(r["amount"])
    return out


def write_m4(path, rows, width):
    with open(path, "w") as f:
        f.write(",".join('"V%d"' % (i + 1) for i in range(width + 1)) + "\n")
        for sid, vals in rows:
            f.write('"%s",' % sid + ",".join("%.2f" % v for v in vals) + "\n")


def main():
    fc, out = sys.argv[1], sys.argv[2]
    tenants = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    days = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    hours = days * 24
    os.makedirs(out, exist_ok=True)
    train, test, meta = [], [], []
    for k in range(tenants):
        now = EPOCH + datetime.timedelta(days=11 * k, hours=(7 * k) % 24)
        d = os.path.join(out, "tenant%02d" % (k + 1))
        subprocess.run([fc, "demo", "--out", d, "--seed", str(k + 1), "--tenant", "t%d" % (k + 1),
                        "--days", str(days), "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ")], check=True)
        with open(os.path.join(d, "accounts.csv")) as f:
            accounts = {r["id"] for r in csv.DictReader(f)}
        series = hourly_outflows(os.path.join(d, "transfers.csv"), accounts,
                                 now - datetime.timedelta(days=days), hours)
        for c in CURRENCIES:
            sid = "%s-%d" % (c, k + 1)
            train.append((sid, series[c][:-H]))
            test.append((sid, series[c][-H:]))
            zeros = sum(v == 0 for v in series[c]) / hours
            meta.append((sid, k + 1, c, now.strftime("%Y-%m-%dT%H:%M:%SZ"), "%.3f" % zeros))
    write_m4(os.path.join(out, "train.csv"), train, hours - H)
    write_m4(os.path.join(out, "test.csv"), test, H)
    with open(os.path.join(out, "series.csv"), "w") as f:
        f.write("id,seed,currency,history_end,zero_share\n")
        for m in meta:
            f.write(",".join(str(x) for x in m) + "\n")


main()
