#!/usr/bin/python3
"""Gateway benchmark: floatcast-gateway versus nginx, same run, loopback.

floatcast: GET /v1/reports/treasury/projection?horizon=1&currency=EUR with
a partner key (Authorization: Bearer), rate-limited by GCRA (a tier at 10^7
requests/s so nothing is refused), metered durably (each answer waits for
its usage record's group commit in SQLite WAL) and served from the
per-tenant cache. nginx: the same number of body bytes as a static file
behind limit_req keyed on the Authorization header (rate 10^7 r/s, as in
toolchain.md), access log off. Each is loaded with wrk -t2 -c64 for
saturation, then paced to half of floatcast's saturated rate (pace.lua)
for the latency at that load. Prints a side-by-side table.

Usage: run_bench.py --gateway build/bin/floatcast-gateway [--seconds 8]
"""
import argparse
import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

ADMIN = "bench-admin-key"
HERE = os.path.dirname(os.path.abspath(__file__))


def wrk(url, key, seconds, conns, pace_ms=None):
    env = dict(os.environ)
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency",
           "-H", "Authorization: Bearer " + key]
    if pace_ms is not None:
        env["PACE_MS"] = "%.3f" % pace_ms
        cmd += ["-s", os.path.join(HERE, "pace.lua")]
    out = subprocess.run(cmd + [url], stdout=subprocess.PIPE, env=env, check=True).stdout.decode()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def lat(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat("50"), "p99": lat("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def start_gateway(path, tmp):
    env = dict(os.environ, FLOATCAST_ADMIN_KEY=ADMIN)
    db = os.path.join(tmp, "bench.db")
    proc = subprocess.Popen([path, "--listen", "127.0.0.1:0", "--db", db, "--quiet",
                             "--seed-demo"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env)
    select.select([proc.stdout], [], [], 60)
    port = int(proc.stdout.readline().decode().rsplit(":", 1)[1].strip("/\n"))
    proc.stdout.readline()
    c = http.client.HTTPConnection("127.0.0.1", port)

    def req(method, p, body=None, key=ADMIN):
        c.request(method, p, body=json.dumps(body) if body else None,
                  headers={"Authorization": "Bearer " + key})
        r = c.getresponse()
        return r, r.read()
    req("PUT", "/v1/admin/tiers/bench", {"rate_per_second": 1e7, "burst": 10000000,
        "monthly_quota": 0, "max_horizon_hours": 720, "max_history_days": 365,
        "granularities": ["day", "hour"]})
    req("POST", "/v1/admin/tenants", {"id": "bench", "name": "Bench"})
    _, k = req("POST", "/v1/admin/keys", {"tenant_id": "demo", "tier": "bench"})
    key = json.loads(k)["key"]
    target = "/v1/reports/treasury/projection?horizon=1&currency=EUR"
    r, body = req("GET", target, key=key)
    assert r.status == 200, body
    r, body2 = req("GET", target, key=key)
    assert r.getheader("X-Cache") == "hit" and body2 == body
    c.close()
    return proc, port, key, target, body, db


def start_nginx(tmp, body):
    with open(os.path.join(tmp, "bench.json"), "wb") as f:
        f.write(body)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1; pid %(t)s/nginx.pid; error_log %(t)s/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path %(t)s; proxy_temp_path %(t)s; fastcgi_temp_path %(t)s;
  uwsgi_temp_path %(t)s; scgi_temp_path %(t)s;
  limit_req_zone $http_authorization zone=perkey:1m rate=10000000r/s;
  server { listen 127.0.0.1:18481; default_type application/json;
    location = /bench.json { limit_req zone=perkey burst=1000000 nodelay; root %(t)s; } } }
""" % {"t": tmp})
    proc = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;", "-e",
                             os.path.join(tmp, "startup.log")])
    time.sleep(0.5)
    return proc, "http://127.0.0.1:18481/bench.json"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--seconds", type=int, default=8)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fc-gw-bench-")
    gw, port, key, target, body, db = start_gateway(a.gateway, tmp)
    ngx, nurl = start_nginx(tmp, body)
    load = open("/proc/loadavg").read().split()[:3]
    try:
        gurl = "http://127.0.0.1:%d%s" % (port, target)
        g = wrk(gurl, key, a.seconds, 64)
        n = wrk(nurl, key, a.seconds, 64)
        half = g["rps"] / 2
        conns = 32
        pace = conns * 1000.0 / half  # ms between requests on one connection
        gh = wrk(gurl, key, a.seconds, conns, pace)
        nh = wrk(nurl, key, a.seconds, conns, pace)
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait()
        ngx.send_signal(signal.SIGQUIT)
        ngx.wait()
    import sqlite3
    con = sqlite3.connect(db)
    metered = con.execute("SELECT sum(calls) FROM usage WHERE endpoint='projection'").fetchone()[0]
    con.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print("body %d bytes; loadavg at start %s; metered projection calls %d" %
          (len(body), " ".join(load), metered))
    print("| case | floatcast rps | p50 ms | p99 ms | non-2xx | nginx rps | p50 ms | p99 ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, x, y in [("saturation, wrk -t2 -c64", g, n),
                       ("paced to %.0f rps, -c%d" % (half, conns), gh, nh)]:
        print("| %s | %.0f | %.2f | %.2f | %d | %.0f | %.2f | %.2f | %.2f |" %
              (name, x["rps"], x["p50"], x["p99"], x["non2xx"], y["rps"], y["p50"], y["p99"],
               x["rps"] / y["rps"]))


if __name__ == "__main__":
    main()
