#!/usr/bin/python3
"""Segments answers of two builds on one database, byte for byte: each
GATEWAY serves DB (tenant "big" of bench.py, every answer computed:
--segments-memo 0, no answer cache) in turn, and the bodies of segments
with users, over the whole history and with from/to/partner filters, are
compared. Prints each query and whether the two builds' bytes are equal;
exits 1 if any differs.

Usage: same_segments.py GATEWAY_A GATEWAY_B DB
Stdlib only."""
import json
import sys

import bench

QUERIES = ["/v1/insights/segments?include_users=1",
           "/v1/insights/segments?include_users=1&from=2024-03-01&to=2025-06-15",
           "/v1/insights/segments?include_users=1&partner=p2",
           "/v1/insights/segments?include_users=1&partner=p4&from=2023-07-04&to=2025-12-01",
           "/v1/insights/segments?include_users=1&history_days=200"]


def answers(gateway, db):
    proc, port = bench.spawn(gateway, db, "--segments-memo", "0")
    try:
        st, d = bench.Client(port, bench.ADMIN).call(
            "POST", "/v1/admin/keys", json.dumps({"tenant_id": "big", "tier": "bench"}))
        assert st == 201, d
        c = bench.Client(port, json.loads(d)["key"])
        out = []
        for q in QUERIES:
            st, body = c.call("GET", q)
            assert st == 200, (q, body[:300])
            out.append(body)
        return out
    finally:
        bench.stop(proc)


def main():
    a, b, db = sys.argv[1:4]
    same = True
    for q, x, y in zip(QUERIES, answers(a, db), answers(b, db)):
        print("%s: %d bytes, %s" % (q, len(x), "same" if x == y else "DIFFERENT"), flush=True)
        same = same and x == y
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
