#!/usr/bin/python3
"""Cold segments through the API, rollups vs raw rows, paired: one gateway
reading the per-customer rollups and one with --no-rollup-reads serve the
same database file, and requests alternate between them so both meet the
same machine load (bench.py measures its two columns minutes apart). Then
the other insights of bench.py from the rollups node.

Usage: paired_segments.py GATEWAY DB RUNS [GATEWAY_B]
With GATEWAY_B the second node is that build, also reading the rollups
(a before/after of two builds on the same file and under the same load),
instead of GATEWAY with --no-rollup-reads. Both run with --segments-memo 0
(every answer computed), so GATEWAY_B must know the flag (a build from
before it cannot be the B side).
DB: a database bench.py filled (tenant "big"), e.g. a copy kept from its run;
the start back-fills txn_user_daily of an older file (bench.spawn waits 120 s).
Stdlib only."""
import json
import os
import sys
import time

import bench


def cpu_seconds(pid):
    """user + system CPU time of a process so far (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def main():
    gw, db, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    gw_b = sys.argv[4] if len(sys.argv) > 4 else None
    print("load before:", os.getloadavg(), flush=True)
    cold = ("--segments-memo", "0")  # every answer computed, none kept (kept_segments.py)
    pa, porta = bench.spawn(gw, db, *cold)
    st, d = bench.Client(porta, bench.ADMIN).call(
        "POST", "/v1/admin/keys", json.dumps({"tenant_id": "big", "tier": "bench"}))
    assert st == 201, d
    key = json.loads(d)["key"]
    # Reads the new key at its start.
    pb, portb = bench.spawn(gw_b, db, *cold) if gw_b else bench.spawn(gw, db, "--no-rollup-reads", *cold)
    other = "B" if gw_b else "raw"

    def call(port, path):  # a connection per request: the other node's turn outlasts the idle timeout
        return bench.Client(port, key).call("GET", path)

    try:
        path = "/v1/insights/segments"
        res = {"rollups": [], other: [], "others": {}, "cpu": {"rollups": [], other: []}}
        pids = {"rollups": pa.pid, other: pb.pid}
        for port in (porta, portb):
            st, d = call(port, path)  # warm-up: page cache
            assert st == 200, d[:300]
        for r in range(runs):
            pair = (("rollups", porta), (other, portb))
            for name, port in pair if r % 2 == 0 else pair[::-1]:
                c0, t = cpu_seconds(pids[name]), time.perf_counter()
                st, d = call(port, path)
                ms = (time.perf_counter() - t) * 1000
                cpu = cpu_seconds(pids[name]) - c0  # the node serves nothing else meanwhile
                assert st == 200, d[:300]
                res[name].append(ms)
                res["cpu"][name].append(cpu)
                print("%s %.0f ms, node CPU %.2f s (load %.1f)" % (name, ms, cpu, os.getloadavg()[0]),
                      flush=True)
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
        for name in ("rollups", other):
            print("segments %s: p50 %.0f / p95 %.0f ms, node CPU p50 %.2f s" % (
                name, bench.pct(res[name], 50), bench.pct(res[name], 95), bench.pct(res["cpu"][name], 50)))
        print("load after:", os.getloadavg())
    finally:
        bench.stop(pa)
        bench.stop(pb)


if __name__ == "__main__":
    main()
