#!/usr/bin/python3
"""Partner insights at scale: ingestion throughput and cold insight latency.

A tenant with 1,000,000 transactions over three years (2023-01-01 ..
2025-12-31), 20,000 customers, five partners, purchases with a weekly and
a yearly pattern and 4 % refunds, USD. The rows go through the API as
NDJSON batches of just under the 1 MiB body limit, one connection, as a
partner would send them; rows/s counts from the first batch sent to the
last answer (each answer waits for its SQLite commit, rollups included,
and ingestion also queues the retraining jobs, which run on the thread
pool meanwhile). Then, after the retraining has finished, the cold
(cache_ttl_seconds 0: no answer is cached) latency of GET /v1/insights/
revenue-forecast at day, week, month and quarter, trends at day, week and
month, and segments (20,000 customers), each `--runs` times in a round
robin, p50 and p95 of the client's wall time. The same database is then
served again with --no-rollup-reads (insights from the raw rows: the
"before") and measured the same way. With --before-gateway (a build
without rollups) ingestion is also run through that binary into a fresh
database, for the ingestion "before".

Usage: bench.py --gateway build/bin/floatcast-gateway [--before-gateway B]
                [--rows 1000000] [--runs 15] [--out results.json]
Prints a markdown table. Stdlib only.
"""
import argparse
import datetime
import http.client
import json
import math
import os
import random
import select
import shutil
import signal
import subprocess
import tempfile
import time

ADMIN = "bench-admin-key-insights"
MAX_BODY = 1024 * 1024
PARTNERS = ["p1", "p2", "p3", "p4", "p5"]
CATEGORIES = ["food", "fashion", "travel", "electronics", "home", "games"]
WEEK = [0.9, 0.85, 0.9, 1.0, 1.35, 1.25, 0.75]


def spawn(gateway, db, *flags):
    err = open(db + ".stderr", "ab")
    env = dict(os.environ, FLOATCAST_ADMIN_KEY=ADMIN)
    conf = db + ".conf.json"
    with open(conf, "w") as f:
        json.dump({"cache_ttl_seconds": 0}, f)  # every answer cold (the flag's minimum is 1 s)
    proc = subprocess.Popen([gateway, "--listen", "127.0.0.1:0", "--db", db, "--quiet",
                             "--config", conf, *flags], stdout=subprocess.PIPE, stderr=err, env=env)
    err.close()
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError("gateway did not start: %r" % line)
    return proc, int(line.rsplit(":", 1)[1].strip("/\n"))


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=600)
    proc.stdout.close()


class Client:
    def __init__(self, port, key):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        self.key = key

    def call(self, method, path, body=None, ctype="application/json"):
        h = {"Authorization": "Bearer " + self.key}
        if body is not None:
            h["Content-Type"] = ctype
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        return r.status, data


def setup_tenant(port):
    a = Client(port, ADMIN)
    tier = {"rate_per_second": 100000, "burst": 100000, "monthly_quota": 0, "max_horizon_hours": 8760,
            "max_history_days": 3650, "granularities": ["hour", "day", "week", "month", "quarter"],
            "max_concurrent": 4}
    st, d = a.call("PUT", "/v1/admin/tiers/bench", json.dumps(tier))
    assert st == 200, d
    st, d = a.call("POST", "/v1/admin/tenants", json.dumps({"id": "big", "name": "Big"}))
    assert st == 201, d
    st, d = a.call("POST", "/v1/admin/keys", json.dumps({"tenant_id": "big", "tier": "bench"}))
    assert st == 201, d
    return json.loads(d)["key"]


def batches(rows_total, seed=11):
    """NDJSON bodies of at most MAX_BODY bytes, oldest first."""
    rng = random.Random(seed)
    start = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
    days = 1096
    # Daily volume follows the weekly and yearly pattern; the day of each
    # row is drawn from that weight, then sorted, as a partner's export.
    w = []
    for d in range(days):
        day = start + datetime.timedelta(days=d)
        w.append(WEEK[day.weekday()] * (1 + 0.3 * math.cos(2 * math.pi * (d - 355) / 365.25)) *
                 (1 + d / days))
    total = sum(w)
    counts = [int(rows_total * x / total) for x in w]
    counts[-1] += rows_total - sum(counts)
    body, size, i = [], 0, 0
    for d, n in enumerate(counts):
        day = start + datetime.timedelta(days=d)
        for k in range(n):
            ts = day + datetime.timedelta(seconds=rng.randrange(86400))
            refund = rng.random() < 0.04
            cents = rng.randrange(500, 20000)
            line = json.dumps({"id": "t%07d" % i, "partner_id": rng.choice(PARTNERS),
                               "user_id": "c%05d" % rng.randrange(20000),
                               "action_date": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "amount": "%s%d.%02d" % ("-" if refund else "", cents // 100, cents % 100),
                               "transaction_type": "refund" if refund else "purchase",
                               "category": rng.choice(CATEGORIES), "currency": "USD"},
                              separators=(",", ":")) + "\n"
            i += 1
            if size + len(line) > MAX_BODY - 64:
                yield "".join(body).encode()
                body, size = [], 0
            body.append(line)
            size += len(line)
    if body:
        yield "".join(body).encode()


def ingest(gateway, db, rows):
    bodies = list(batches(rows))
    proc, port = spawn(gateway, db)
    try:
        key = setup_tenant(port)
        c = Client(port, key)
        t0 = time.perf_counter()
        for b in bodies:
            st, d = c.call("POST", "/v1/transactions", b, "application/x-ndjson")
            assert st == 200, d[:300]
        secs = time.perf_counter() - t0
        # Let the queued retraining finish before anything is timed.
        end = time.time() + 3600
        while time.time() < end:
            st, d = c.call("GET", "/v1/models")
            r = json.loads(d)["retraining"]
            if r["running"] is None and r["queued"] is None:
                break
            time.sleep(0.5)
    finally:
        stop(proc)
    return key, rows / secs, len(bodies), secs


QUERIES = [
    ("revenue-forecast day (h=30)", "/v1/insights/revenue-forecast?granularity=day&horizon=30"),
    ("revenue-forecast week (h=13)", "/v1/insights/revenue-forecast?granularity=week&horizon=13"),
    ("revenue-forecast month (h=12)", "/v1/insights/revenue-forecast?granularity=month&horizon=12"),
    ("revenue-forecast quarter (h=4)", "/v1/insights/revenue-forecast?granularity=quarter&horizon=4"),
    ("trends day", "/v1/insights/trends?granularity=day"),
    ("trends week", "/v1/insights/trends?granularity=week"),
    ("trends month", "/v1/insights/trends?granularity=month"),
    ("segments (20,000 customers)", "/v1/insights/segments"),
]


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, math.ceil(p / 100 * len(v)) - 1))]


def measure(gateway, db, key, runs, *flags):
    proc, port = spawn(gateway, db, *flags)
    times = {name: [] for name, _ in QUERIES}
    try:
        c = Client(port, key)
        for name, path in QUERIES:  # one warm-up each: page cache, not answers
            st, d = c.call("GET", path)
            assert st == 200, (path, d[:300])
        for _ in range(runs):
            for name, path in QUERIES:
                t0 = time.perf_counter()
                st, d = c.call("GET", path)
                times[name].append((time.perf_counter() - t0) * 1000)
                assert st == 200, (path, d[:300])
    finally:
        stop(proc)
    return {n: (pct(v, 50), pct(v, 95)) for n, v in times.items()}


def ingest_rounds(a):
    tmp = tempfile.mkdtemp(prefix="fc-bench-insights-")
    got = {"rollups": [], "no rollups": []}
    try:
        for r in range(a.ingest_rounds):
            order = [("rollups", a.gateway), ("no rollups", a.before_gateway)]
            for name, gw in order if r % 2 == 0 else order[::-1]:
                db = os.path.join(tmp, "r%d.db" % r)
                _, rps, nb, secs = ingest(gw, db, a.rows)
                got[name].append(rps)
                print("round %d %s: %.0f rows/s (%.1f s, load %.1f)" % (r, name, rps, secs, os.getloadavg()[0]),
                      flush=True)
                for f in os.listdir(tmp):
                    os.remove(os.path.join(tmp, f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, v in got.items():
        print("%s: median %.0f rows/s over %d rounds" % (name, sorted(v)[len(v) // 2], len(v)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--before-gateway")
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--out")
    ap.add_argument("--ingest-rounds", type=int, default=0,
                    help="only ingestion: this many rounds alternating the two gateways (needs "
                         "--before-gateway), each into a fresh database, so that both see the same "
                         "machine load")
    a = ap.parse_args()
    if a.ingest_rounds:
        return ingest_rounds(a)
    tmp = tempfile.mkdtemp(prefix="fc-bench-insights-")
    res = {"rows": a.rows, "load_before": os.getloadavg()}
    try:
        db = os.path.join(tmp, "big.db")
        key, rps, nb, secs = ingest(a.gateway, db, a.rows)
        res["ingest"] = {"rows_per_s": rps, "batches": nb, "seconds": secs}
        print("ingest (rollups): %.0f rows/s, %d batches, %.1f s" % (rps, nb, secs), flush=True)
        if a.before_gateway:
            db0 = os.path.join(tmp, "before.db")
            _, rps0, nb0, secs0 = ingest(a.before_gateway, db0, a.rows)
            res["ingest_before"] = {"rows_per_s": rps0, "batches": nb0, "seconds": secs0}
            print("ingest (no rollups): %.0f rows/s, %.1f s" % (rps0, secs0), flush=True)
            os.remove(db0)
        # Cold: segments answers kept until the rows change (--segments-memo,
        # kept_segments.py measures them) would make every run after the
        # warm-up a kept one.
        res["after"] = measure(a.gateway, db, key, a.runs, "--segments-memo", "0")
        print("after done", flush=True)
        res["before"] = measure(a.gateway, db, key, a.runs, "--no-rollup-reads", "--segments-memo", "0")
        res["load_after"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    print("| cold request, %d runs each | raw rows p50 / p95 ms | rollups p50 / p95 ms |" % a.runs)
    print("|---|---|---|")
    for name, _ in QUERIES:
        b, r = res["before"][name], res["after"][name]
        print("| %s | %.0f / %.0f | %.0f / %.0f |" % (name, b[0], b[1], r[0], r[1]))
    print("load average before / after: %s / %s" % (res["load_before"], res["load_after"]))


if __name__ == "__main__":
    main()
