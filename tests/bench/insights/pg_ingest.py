#!/usr/bin/python3
"""PostgreSQL ingestion through the API, two builds alternating: the first
BODIES of bench.py's NDJSON batches (its 1M-row tenant, oldest first) into
a fresh database per round, the tenant with a zone (Europe/Berlin: the
local-day rollups kept too) or without, rows/s from the first batch sent
to the last answer. The cluster is gwdb's (initdb on loopback, fsync off).

Usage: pg_ingest.py GATEWAY_A GATEWAY_B [ROUNDS [BODIES [PORT]]]
Stdlib only."""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gateway"))
import bench  # noqa: E402
import gwdb  # noqa: E402


def spawn(gateway, uri, tmp):
    conf = os.path.join(tmp, "conf.json")
    with open(conf, "w") as f:
        json.dump({"cache_ttl_seconds": 0}, f)
    err = open(os.path.join(tmp, "stderr"), "ab")
    env = dict(os.environ, FLOATCAST_ADMIN_KEY=bench.ADMIN)
    proc = subprocess.Popen([gateway, "--listen", "127.0.0.1:0", "--db", uri, "--quiet", "--config", conf],
                            stdout=subprocess.PIPE, stderr=err, env=env)
    err.close()
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError("gateway did not start: %r" % line)
    return proc, int(line.rsplit(":", 1)[1].strip("/\n"))


def one(gateway, cluster, bodies, zone, tmp):
    proc, port = spawn(gateway, cluster.uri(cluster.new_db()), tmp)
    try:
        key = bench.setup_tenant(port)
        if zone:
            st, d = bench.Client(port, bench.ADMIN).call("PUT", "/v1/admin/tenants/big/time-zone",
                                                         json.dumps({"time_zone": zone}))
            assert st == 200, d
        c = bench.Client(port, key)
        rows = 0
        t0 = time.perf_counter()
        for b in bodies:
            st, d = c.call("POST", "/v1/transactions", b, "application/x-ndjson")
            assert st == 200, d[:300]
            doc = json.loads(d)
            rows += doc["created"] + doc["updated"] + doc["unchanged"]
        return rows / (time.perf_counter() - t0), rows
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=600)
        proc.stdout.close()


def main():
    a, b = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    n_bodies = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    if len(sys.argv) > 5:
        gwdb.free_port = lambda: int(sys.argv[5])
    bodies = []
    for body in bench.batches(1000000):
        bodies.append(body)
        if len(bodies) == n_bodies:
            break
    cluster = gwdb.Cluster()
    tmp = tempfile.mkdtemp(prefix="fc-pg-ingest-")
    got = {}
    try:
        for r in range(rounds):
            for zone in ("Europe/Berlin", None):
                order = [("A", a), ("B", b)] if r % 2 == 0 else [("B", b), ("A", a)]
                for name, gw in order:
                    rps, rows = one(gw, cluster, bodies, zone, tmp)
                    got.setdefault((name, zone), []).append(rps)
                    print("round %d %s zone %s: %d rows, %.0f rows/s (load %.1f)"
                          % (r, name, zone, rows, rps, os.getloadavg()[0]), flush=True)
    finally:
        cluster.destroy()
        shutil.rmtree(tmp, ignore_errors=True)
    for (name, zone), v in sorted(got.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print("%s zone %s: %s rows/s, median %.0f" % (name, zone, " / ".join("%.0f" % x for x in v),
                                                      sorted(v)[len(v) // 2]))


if __name__ == "__main__":
    main()
