#!/usr/bin/python3
"""Segments kept until the rows change (gateway/segmemo.h), on bench.py's
database: what a partner waits for with --segments-memo (the default).

Usage: kept_segments.py GATEWAY DB RUNS [BATCH_ROWS]
One node with the answer cache off (cache_ttl_seconds 0) on a copy of a
database bench.py filled (tenant "big"), then:
  1. the first GET /v1/insights/segments: computed (cold), its wall time;
  2. RUNS more: kept answers (X-Segments-Answer: kept), p50 / p95;
  3. RUNS rounds of: ingest BATCH_ROWS new transactions of existing
     customers (1,000), then poll the registry until the job after it has
     finished (it recomputes the kept answer before retraining), timing the
     ingestion's answer, the wait until the job finished, and the next
     GET, which must be kept and must differ from the answer before;
  4. RUNS rounds of: ingest, then GET at once (kept, computed, or waiting
     for the refresh that computes it), then the job's end before the next.
Every timing is wall time on the client; the load average is printed beside
each. Stdlib only."""
import json
import os
import random
import sys
import time

import bench


def get(port, key, path):
    t = time.perf_counter()
    c = bench.Client(port, key)
    c.c.request("GET", path, headers={"Authorization": "Bearer " + key})
    r = c.c.getresponse()
    d = r.read()
    ms = (time.perf_counter() - t) * 1000
    assert r.status == 200, d[:300]
    return ms, r.getheader("X-Segments-Answer"), d


def last_job(port, key):
    st, d = bench.Client(port, key).call("GET", "/v1/models")
    assert st == 200, d[:300]
    return (json.loads(d)["retraining"]["last"] or {}).get("job_id", 0)


def batch(rng, n, tag):
    """n purchases of existing customers (bench.py's) on days inside the
    three years, so the default range stays put."""
    rows = []
    for i in range(n):
        day = 1 + rng.randrange(1090)
        rows.append(json.dumps({"id": "kept-%s-%d" % (tag, i), "partner_id": rng.choice(bench.PARTNERS),
                                "user_id": "c%05d" % rng.randrange(20000),
                                "action_date": time.strftime("%Y-%m-%dT12:00:00Z",
                                                             time.gmtime(1672531200 + day * 86400)),
                                "amount": "%.2f" % rng.uniform(5, 200), "transaction_type": "purchase",
                                "category": rng.choice(bench.CATEGORIES), "currency": "USD"}))
    return "\n".join(rows)


def main():
    gw, db, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    path = "/v1/insights/segments"
    proc, port = bench.spawn(gw, db)
    try:
        st, d = bench.Client(port, bench.ADMIN).call(
            "POST", "/v1/admin/keys", json.dumps({"tenant_id": "big", "tier": "bench"}))
        assert st == 201, d
        key = json.loads(d)["key"]
        ms, how, before = get(port, key, path)
        print("first: %s %.0f ms (load %.1f)" % (how, ms, os.getloadavg()[0]), flush=True)
        kept = []
        for _ in range(runs):
            ms, how, d = get(port, key, path)
            assert how == "kept" and d == before, how
            kept.append(ms)
        print("kept: p50 %.0f / p95 %.0f ms over %d (load %.1f)" % (
            bench.pct(kept, 50), bench.pct(kept, 95), runs, os.getloadavg()[0]), flush=True)
        rng = random.Random(3)
        after = []
        for r in range(runs):
            t = time.perf_counter()
            st, d = bench.Client(port, key).call("POST", "/v1/transactions", batch(rng, n, r), "application/x-ndjson")
            ingest_ms = (time.perf_counter() - t) * 1000
            assert st == 200, d[:300]
            job = json.loads(d)["retrain_job"]
            while last_job(port, key) < job:
                time.sleep(0.1)
            wait_ms = (time.perf_counter() - t) * 1000 - ingest_ms
            ms, how, d = get(port, key, path)
            assert how == "kept" and d != before, how
            before = d
            after.append(ms)
            print("round %d: ingest %.0f ms, job done %.0f ms later, then GET %s %.0f ms (load %.1f)" % (
                r, ingest_ms, wait_ms, how, ms, os.getloadavg()[0]), flush=True)
        print("after ingestion, once the job finished: p50 %.0f / p95 %.0f ms" % (
            bench.pct(after, 50), bench.pct(after, 95)))
        # 4. The same without waiting for the job: the GET at once after
        # the ingestion's answer finds the answer kept, waits for the
        # refresh computing it, or computes it (the refresh has not begun).
        at_once = []
        for r in range(runs):
            st, d = bench.Client(port, key).call("POST", "/v1/transactions", batch(rng, n, "now%d" % r),
                                                 "application/x-ndjson")
            assert st == 200, d[:300]
            job = json.loads(d)["retrain_job"]
            ms, how, d = get(port, key, path)
            assert d != before
            before = d
            at_once.append(ms)
            print("at once %d: GET %s %.0f ms (load %.1f)" % (r, how, ms, os.getloadavg()[0]), flush=True)
            while last_job(port, key) < job:  # the next round starts from a quiet node
                time.sleep(0.1)
        print("at once after ingestion: p50 %.0f / p95 %.0f ms" % (bench.pct(at_once, 50), bench.pct(at_once, 95)))
    finally:
        bench.stop(proc)


if __name__ == "__main__":
    main()
