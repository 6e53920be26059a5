#!/usr/bin/python3
"""What a tenant's time zone costs: ingestion with local-day rollups, the
re-sum when the zone changes, and cold insights in a zone.

Two tenants in one SQLite database get the same rows (bench.py's
generator: three years, weekly and yearly pattern, 4 % refunds), "utc"
without a zone and "ber" in Europe/Berlin (set before ingestion, so its
batches also keep txn_local_daily). Their batches alternate, each POST
timed on its own, so both see the same machine load; rows/s per tenant is
rows over the sum of its POSTs' wall times. Then, once retraining has
finished, the zone change Europe/Berlin -> America/New_York (a re-sum of
all of ber's rows in one transaction) is timed, and cold (cache TTL 0)
p50/p95 of trends, forecasts and segments for both tenants, and for ber again with
--no-rollup-reads (raw rows mapped to wall time).

Usage: bench_tz.py --gateway build/bin/floatcast-gateway [--rows 200000]
                   [--runs 9]
Stdlib only; prints a markdown table with the load average.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

QUERIES = [
    ("trends day", "/v1/insights/trends?granularity=day"),
    ("trends month", "/v1/insights/trends?granularity=month"),
    ("revenue-forecast day (h=30)", "/v1/insights/revenue-forecast?granularity=day&horizon=30"),
    ("revenue-forecast month (h=12)", "/v1/insights/revenue-forecast?granularity=month&horizon=12"),
    ("segments", "/v1/insights/segments"),
]
COLD = ("--segments-memo", "0")  # every segments answer computed, none kept


def setup(port):
    a = bench.Client(port, bench.ADMIN)
    tier = {"rate_per_second": 100000, "burst": 100000, "monthly_quota": 0, "max_horizon_hours": 8760,
            "max_history_days": 3650, "granularities": ["hour", "day", "week", "month", "quarter"],
            "max_concurrent": 4}
    st, d = a.call("PUT", "/v1/admin/tiers/bench", json.dumps(tier))
    assert st == 200, d
    keys = {}
    for t in ("utc", "ber"):
        st, d = a.call("POST", "/v1/admin/tenants", json.dumps({"id": t, "name": t}))
        assert st == 201, d
        st, d = a.call("POST", "/v1/admin/keys", json.dumps({"tenant_id": t, "tier": "bench"}))
        assert st == 201, d
        keys[t] = json.loads(d)["key"]
    st, d = a.call("PUT", "/v1/admin/tenants/ber/time-zone", json.dumps({"time_zone": "Europe/Berlin"}))
    assert st == 200, d
    return a, keys


def idle(c):
    end = time.time() + 3600
    while time.time() < end:
        r = json.loads(c.call("GET", "/v1/models")[1])["retraining"]
        if r["running"] is None and r["queued"] is None:
            return
        time.sleep(0.5)


def cold(port, keys, runs):
    out = {}
    for t, key in keys.items():
        c = bench.Client(port, key)
        times = {n: [] for n, _ in QUERIES}
        for n, p in QUERIES:
            st, d = c.call("GET", p)
            assert st == 200, (t, p, d[:300])
        for _ in range(runs):
            for n, p in QUERIES:
                t0 = time.perf_counter()
                st, d = c.call("GET", p)
                times[n].append((time.perf_counter() - t0) * 1000)
                assert st == 200, (t, p, d[:300])
        out[t] = {n: (bench.pct(v, 50), bench.pct(v, 95)) for n, v in times.items()}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fc-bench-tz-")
    db = os.path.join(tmp, "tz.db")
    res = {"load_before": os.getloadavg()}
    try:
        bodies = list(bench.batches(a.rows))
        proc, port = bench.spawn(a.gateway, db)
        try:
            admin, keys = setup(port)
            clients = {t: bench.Client(port, k) for t, k in keys.items()}
            spent = {t: 0.0 for t in keys}
            for i, b in enumerate(bodies):
                for t in (("utc", "ber") if i % 2 == 0 else ("ber", "utc")):
                    t0 = time.perf_counter()
                    st, d = clients[t].call("POST", "/v1/transactions", b, "application/x-ndjson")
                    spent[t] += time.perf_counter() - t0
                    assert st == 200, d[:300]
            res["ingest_rows_per_s"] = {t: a.rows / s for t, s in spent.items()}
            clients = {t: bench.Client(port, k) for t, k in keys.items()}
            idle(clients["utc"])
            idle(clients["ber"])
            admin = bench.Client(port, bench.ADMIN)  # the first one idled out during ingestion
            t0 = time.perf_counter()
            st, d = admin.call("PUT", "/v1/admin/tenants/ber/time-zone", json.dumps({"time_zone": "America/New_York"}))
            res["zone_change_s"] = time.perf_counter() - t0
            assert st == 200, d
            idle(clients["ber"])
        finally:
            bench.stop(proc)
        proc, port = bench.spawn(a.gateway, db, *COLD)
        try:
            res["cold"] = cold(port, keys, a.runs)
        finally:
            bench.stop(proc)
        proc, port = bench.spawn(a.gateway, db, "--no-rollup-reads", *COLD)
        try:
            res["cold_raw"] = cold(port, {"ber": keys["ber"]}, a.runs)
        finally:
            bench.stop(proc)
        res["load_after"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res))
    ing = res["ingest_rows_per_s"]
    print("%d rows per tenant: ingestion %.0f rows/s without a zone, %.0f rows/s in Europe/Berlin;"
          " zone change (re-sum of %d rows) %.2f s" % (a.rows, ing["utc"], ing["ber"], a.rows, res["zone_change_s"]))
    print("| cold request, %d runs each | UTC tenant p50 / p95 ms | zoned, local-day rollups | zoned, raw rows |"
          % a.runs)
    print("|---|---|---|---|")
    for n, _ in QUERIES:
        u, z, r = res["cold"]["utc"][n], res["cold"]["ber"][n], res["cold_raw"]["ber"][n]
        print("| %s | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f |" % (n, u[0], u[1], z[0], z[1], r[0], r[1]))
    print("load average before / after: %s / %s" % (res["load_before"], res["load_after"]))


if __name__ == "__main__":
    main()
