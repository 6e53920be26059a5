#!/usr/bin/python3
"""Multi-node gateway benchmark: the per-request cost of shared state.

Same call as run_bench.py (an authenticated, rate-limited, metered, cached
GET /v1/reports/treasury/projection?horizon=1&currency=EUR), in one run:
  1. one node on SQLite (the default deployment);
  2. one node on PostgreSQL + Redis (--db postgresql://..., --redis);
  3. three such nodes behind nginx (round robin, keepalive upstream);
  4. nginx alone serving the same body (limit_req keyed on the key).
Each with wrk -t2 -c64 for --seconds. For the shared cases it also counts
Redis commands (INFO commandstats: EVAL and EVALSHA calls) and PostgreSQL transactions
(pg_stat_database.xact_commit) per answered request. Two cores cannot show
scaling: read the per-request costs, not the three-node throughput.

Usage: multinode_bench.py --gateway build/bin/floatcast-gateway [--seconds 8]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "gateway"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "gateway", "multinode"))
import gwdb  # noqa: E402
import run_bench as rb  # noqa: E402
import test_multinode as mn  # noqa: E402


def redis_evals(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "commandstats"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return sum(int(m.group(1)) for m in re.finditer(r"cmdstat_eval(?:sha)?:calls=(\d+)", out))


def pg_commits(cluster, db):
    # Statistics reach pg_stat_database within about a second: poll until
    # two reads a moment apart agree.
    q = "SELECT xact_commit FROM pg_stat_database WHERE datname = '%s'" % db
    last = None
    while True:
        v = int(cluster.psql("postgres", "SELECT pg_stat_clear_snapshot(); " + q).split()[-1])
        if v == last:
            return v
        last = v
        time.sleep(0.5)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--seconds", type=int, default=8)
    args = ap.parse_args()
    for tool in ("wrk", "nginx", "redis-server", "redis-cli"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit("multinode_bench: needs %s (.ci/deps.sh bench wrk nginx-light redis-server)" % tool)
    tmp = tempfile.mkdtemp(prefix="fc-mnbench-")
    os.chmod(tmp, 0o755)
    rows = []
    mn.ARGS = args
    mn.S.update(tmp=tmp, redis_dir=os.path.join(tmp, "redis"), redis_port=free_port(),
                lb_port=free_port(), node_ports=[free_port() for _ in range(3)])
    os.makedirs(mn.S["redis_dir"])
    procs = []
    try:
        # 1. SQLite, one node.
        p, port, key, target, body, _ = rb.start_gateway(args.gateway, tmp)
        procs.append(p)
        r = rb.measured(lambda: rb.wrk("http://127.0.0.1:%d%s" % (port, target), key, args.seconds, 64),
                        [p.pid])
        rows.append(("1 node, SQLite", r, None, None))
        p.terminate()
        p.wait()
        # 2 and 3. PostgreSQL + Redis.
        mn.S["pg"] = gwdb.Cluster(prefix="fc-mnbench-pg-")
        mn.S["dbname"] = mn.S["pg"].new_db()
        mn.S["uri"] = mn.S["pg"].uri(mn.S["dbname"])
        # The demo tenant, stored by one seeding start before the nodes.
        seed = subprocess.Popen([args.gateway, "--listen", "127.0.0.1:0", "--db", mn.S["uri"],
                                 "--seed-demo", "--quiet"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        assert seed.stdout.readline().startswith(b"listening on")
        seed.terminate()
        seed.wait()
        seed.stdout.close()
        mn.start_redis()
        for i in range(3):
            mn.start_node(i)
        mn.tier("bench", 1e7, 10000000)
        r0, doc = mn.admin("POST", "/v1/admin/keys", {"tenant_id": "demo", "tier": "bench"})
        if r0.status != 201:
            raise SystemExit("the demo tenant is missing: %s" % doc)
        key = doc["key"]
        mn.start_nginx()
        pids = [n.pid for n in mn.S["nodes"]]
        for name, port in (("1 node, PostgreSQL + Redis", mn.S["node_ports"][0]),
                           ("3 nodes + nginx, PostgreSQL + Redis", mn.S["lb_port"])):
            url = "http://127.0.0.1:%d%s" % (port, target)
            mn.poll("a cached answer", lambda: mn.call("GET", target, key, port=port)[0].status == 200)
            e0, c0 = redis_evals(mn.S["redis_port"]), pg_commits(mn.S["pg"], mn.S["dbname"])
            r = rb.measured(lambda: rb.wrk(url, key, args.seconds, 64),
                            pids + ([mn.S["nginx"].pid] if "nginx" in name else []))
            n = r["rps"] * args.seconds
            e1, c1 = redis_evals(mn.S["redis_port"]), pg_commits(mn.S["pg"], mn.S["dbname"])
            rows.append((name, r, (e1 - e0) / n, (c1 - c0) / n))
        # 4. nginx alone.
        ng, url = rb.start_nginx(tmp, body)
        procs.append(ng)
        r = rb.measured(lambda: rb.wrk(url, key, args.seconds, 64), [ng.pid])
        rows.append(("nginx alone (static body, limit_req)", r, None, None))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
        mn.cleanup()
    print("| case (wrk -t2 -c64, %d s) | requests/s | p50 ms | p99 ms | non-2xx | server CPU s |"
          " Redis scripts / request | PostgreSQL commits / request |" % args.seconds)
    print("|---|---|---|---|---|---|---|---|")
    for name, r, ev, pc in rows:
        print("| %s | %.0f | %.2f | %.2f | %d | %.1f | %s | %s |" % (
            name, r["rps"], r["p50"], r["p99"], r["non2xx"], r["cpu"],
            "%.2f" % ev if ev is not None else "-", "%.3f" % pc if pc is not None else "-"))
    print("load average at the end: %s" % open("/proc/loadavg").read().split()[0])


if __name__ == "__main__":
    main()
