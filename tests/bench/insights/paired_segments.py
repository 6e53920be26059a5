#!/usr/bin/python3
"""Cold segments through the API, rollups vs raw rows, paired: one gateway
reading the per-customer rollups and one with --no-rollup-reads serve the
same database file, and requests alternate between them so both meet the
same machine load (bench.py measures its two columns minutes apart). Then
the other insights of bench.py from the rollups node.

Usage: paired_segments.py GATEWAY DB RUNS
DB: a database bench.py filled (tenant "big"), e.g. a copy kept from its run;
the start back-fills txn_user_daily of an older file (bench.spawn waits 120 s).
Stdlib only."""
import json
import os
import sys
import time

import bench


def main():
    gw, db, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("load before:", os.getloadavg(), flush=True)
    pa, porta = bench.spawn(gw, db)
    st, d = bench.Client(porta, bench.ADMIN).call(
        "POST", "/v1/admin/keys", json.dumps({"tenant_id": "big", "tier": "bench"}))
    assert st == 201, d
    key = json.loads(d)["key"]
    pb, portb = bench.spawn(gw, db, "--no-rollup-reads")  # reads the new key at its start

    def call(port, path):  # a connection per request: the other node's turn outlasts the idle timeout
        return bench.Client(port, key).call("GET", path)

    try:
        path = "/v1/insights/segments"
        res = {"rollups": [], "raw": [], "others": {}}
        for port in (porta, portb):
            st, d = call(port, path)  # warm-up: page cache
            assert st == 200, d[:300]
        for r in range(runs):
            pair = (("rollups", porta), ("raw", portb))
            for name, port in pair if r % 2 == 0 else pair[::-1]:
                t = time.perf_counter()
                st, d = call(port, path)
                ms = (time.perf_counter() - t) * 1000
                assert st == 200, d[:300]
                res[name].append(ms)
                print("%s %.0f ms (load %.1f)" % (name, ms, os.getloadavg()[0]), flush=True)
        full = path + "?include_users=1"
        print("same answer (include_users=1):", call(porta, full)[1] == call(portb, full)[1], flush=True)
        for name, p in bench.QUERIES:
            if p == path:
                continue
            v = []
            for _ in range(runs):
                t = time.perf_counter()
                st, d = call(porta, p)
                v.append((time.perf_counter() - t) * 1000)
                assert st == 200, d[:300]
            res["others"][name] = (bench.pct(v, 50), bench.pct(v, 95))
            print("%s (rollups): p50 %.0f / p95 %.0f ms" % ((name,) + res["others"][name]), flush=True)
        for name in ("rollups", "raw"):
            print("segments %s: p50 %.0f / p95 %.0f ms" % (name, bench.pct(res[name], 50),
                                                          bench.pct(res[name], 95)))
        print("load after:", os.getloadavg())
    finally:
        bench.stop(pa)
        bench.stop(pb)


if __name__ == "__main__":
    main()
