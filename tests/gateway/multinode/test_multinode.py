#!/usr/bin/env python3
"""Several gateway nodes on one PostgreSQL and one Redis behind nginx.

Starts a PostgreSQL cluster (initdb in a temp dir, run as the unprivileged
`postgres` user when we are root, which PostgreSQL refuses), redis-server
(append-only file fsynced on every write, so a restart keeps the limits'
state), three floatcast-gateway nodes sharing both, and nginx as a
round-robin load balancer in front; then checks what one node alone cannot
show: exact burst and tenant quota across nodes, revocations and new keys
seen everywhere within 1 s, no stale cached insight after an ingestion
through another node, kill -9 of a node under load (nothing served goes
unmetered; over-count at most the calls in flight), Redis and PostgreSQL
restarted under load. Every wait polls; every server started is stopped,
also on failure. Exits 77 (ctest: skipped) only when the servers cannot
be installed, saying why.
"""
import argparse
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import gwdb  # noqa: E402
import test_metered as tm  # noqa: E402

ADMIN = tm.ADMIN
ARGS = None
S = {"nodes": [None, None, None], "procs": []}  # servers and their state
PACKAGES = {"redis-server": "redis-server", "nginx": "nginx-light", "initdb": "postgresql"}


def have(tool):
    if tool == "initdb":
        return gwdb.pg_bin() is not None
    return shutil.which(tool) or os.path.exists("/usr/sbin/" + tool)


def ensure_packages():
    """Installs what is missing (as .ci/deps.sh would); returns why not when
    that is impossible, else None."""
    missing = sorted({PACKAGES[t] for t in PACKAGES if not have(t)})
    if not missing:
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "missing %s and cannot install them (not root or no apt-get)" % " ".join(missing)
    out = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if out.returncode != 0 or any(not have(t) for t in PACKAGES):
        return "apt-get install %s failed: %s" % (" ".join(missing),
                                                    out.stdout.decode(errors="replace")[-400:])
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(what, done, deadline=60.0, every=0.01):
    end = time.monotonic() + deadline
    while True:
        v = done()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("still waiting after %.1f s for %s" % (deadline, what))
        time.sleep(every)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ---- servers ----

def start_redis():
    d = S["redis_dir"]
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    p = subprocess.Popen([exe, "--port", str(S["redis_port"]), "--bind", "127.0.0.1",
                          "--dir", d, "--save", "", "--appendonly", "yes",
                          "--appendfsync", "always", "--daemonize", "no", "--protected-mode", "no"],
                         stdout=open(os.path.join(d, "redis.log"), "ab"), stderr=subprocess.STDOUT)
    S["redis"] = p
    poll("redis to listen", lambda: port_open(S["redis_port"]))


def stop_redis():
    p = S.get("redis")
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def node_cmd(i):
    return [ARGS.gateway, "--listen", "127.0.0.1:%d" % S["node_ports"][i], "--db", S["uri"],
            "--redis", "redis://127.0.0.1:%d" % S["redis_port"], "--quiet",
            "--anon-rate", "100000", "--anon-burst", "100000", "--request-timeout", "60000",
            # Behind a balancer every connection comes from its address.
            "--max-connections-per-address", "0"] + \
        (S.get("extra", []) if i == 3 else [])


def start_node(i):
    err = open(os.path.join(S["tmp"], "node%d.stderr" % i), "ab")
    p = subprocess.Popen(node_cmd(i), stdout=subprocess.PIPE, stderr=err,
                         env=dict(os.environ, FLOATCAST_ADMIN_KEY=ADMIN))
    err.close()
    line = p.stdout.readline().decode()
    if not line.startswith("listening on"):
        p.kill()
        raise RuntimeError("node %d did not start: %r\n%s" % (i, line, node_log(i)))
    S["nodes"][i] = p
    # Admitting needs Redis reachable and the quotas reconciled.
    poll("node %d's shared limits" % i,
         lambda: metric(S["node_ports"][i], 'floatcast_limits_mode{mode="shared"}') == 1)
    return p


def node_log(i):
    with open(os.path.join(S["tmp"], "node%d.stderr" % i), errors="replace") as f:
        return f.read()


def stop_node(i, sig=signal.SIGTERM):
    p = S["nodes"][i]
    if p and p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p:
        p.stdout.close()
    S["nodes"][i] = None
    return p.returncode if p else None


def start_nginx():
    d = os.path.join(S["tmp"], "nginx")
    os.makedirs(d, exist_ok=True)
    ups = "".join("server 127.0.0.1:%d;" % p for p in S["node_ports"])
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
daemon off; master_process off; worker_processes 1;
error_log %(d)s/error.log; pid %(d)s/nginx.pid;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fcgi; uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
  upstream gw { %(ups)s keepalive 64; keepalive_timeout 4s; }
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://gw; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_read_timeout 120s;
    }
  }
}
""" % {"d": d, "ups": ups, "port": S["lb_port"]})
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    S["nginx"] = subprocess.Popen([exe, "-e", os.path.join(d, "startup.log"), "-c", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    poll("nginx to listen", lambda: port_open(S["lb_port"]))


def cleanup():
    for i in range(len(S["nodes"])):
        try:
            stop_node(i, signal.SIGKILL)
        except Exception:  # noqa: BLE001 - cleanup goes on
            pass
    for name in ("nginx",):
        p = S.get(name)
        if p and p.poll() is None:
            p.terminate()
            p.wait()
    stop_redis()
    if S.get("pg"):
        S["pg"].destroy()
        S["pg"] = None
    if S.get("tmp") and not os.environ.get("FC_KEEP_TMP"):
        shutil.rmtree(S["tmp"], ignore_errors=True)


# ---- HTTP ----

def call(method, path, key=None, body=None, port=None):
    return tm.call(method, path, key, body, port=port or S["lb_port"])


def admin(method, path, body=None, port=None):
    return call(method, path, ADMIN, body, port=port or S["node_ports"][0])


def metric(port, series):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def redis_get(key):
    """GET key as an int (0 when missing), by RESP over a socket."""
    with socket.create_connection(("127.0.0.1", S["redis_port"]), timeout=10) as c:
        c.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key.encode()))
        data = b""
        # "$-1\r\n" (none), or "$<n>\r\n<value>\r\n".
        while not (data.startswith(b"$-1\r\n") or data.count(b"\r\n") >= 2):
            more = c.recv(4096)
            assert more, "redis closed the connection: %r" % data
            data += more
    return 0 if data.startswith(b"$-1") else int(data.split(b"\r\n")[1])


def tenant_with_key(name, tier):
    r, doc = admin("POST", "/v1/admin/tenants", {"id": name, "name": name})
    assert r.status == 201, doc
    r, doc = admin("POST", "/v1/admin/keys", {"tenant_id": name, "tier": tier})
    assert r.status == 201, doc
    return doc


def tier(name, rate, burst, quota=0):
    r, doc = admin("PUT", "/v1/admin/tiers/" + name,
                   {"rate_per_second": rate, "burst": burst, "monthly_quota": quota,
                    "max_horizon_hours": 2160, "max_history_days": 365,
                    "granularities": ["day", "hour"]})
    assert r.status == 200, doc


def known_everywhere(key):
    """Waits until every node answers key (a new key reaches a node within
    1 s; the tests that follow want it known)."""
    for p in S["node_ports"]:
        poll("key known on :%d" % p, lambda p=p: call("GET", "/v1/usage", key, port=p)[0].status == 200,
             deadline=5)


def served_in_db(sql, args=()):
    return gwdb.sql(S["dbpath"], sql, args)[0][0] or 0


def hammer(key, n_clients, n_each, path="/v1/usage", port=None):
    """n_clients threads, each n_each calls on one keep-alive connection;
    returns the status counts."""
    counts, lock = {}, threading.Lock()
    go = threading.Event()

    def client():
        c = http.client.HTTPConnection("127.0.0.1", port or S["lb_port"], timeout=120)
        go.wait()
        for _ in range(n_each):
            try:
                c.request("GET", path, headers={"Authorization": "Bearer " + key})
                r = c.getresponse()
                r.read()
                st = r.status
            except (OSError, http.client.HTTPException):
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port or S["lb_port"], timeout=120)
                st = 0
            with lock:
                counts[st] = counts.get(st, 0) + 1
        c.close()

    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(300)
    return counts


def setUpModule():
    S["tmp"] = tempfile.mkdtemp(prefix="fc-multinode-")
    os.chmod(S["tmp"], 0o755)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *a: (cleanup(), os._exit(143)))
    S["pg"] = gwdb.Cluster(prefix="fc-mn-pg-")
    S["dbname"] = S["pg"].new_db()
    S["uri"] = S["pg"].uri(S["dbname"])
    # gwdb.sql() reads this database by a path name of our choosing.
    gwdb.ENGINE = "postgresql"
    gwdb._CLUSTER.append(S["pg"])
    S["dbpath"] = os.path.join(S["tmp"], "shared.db")
    S["pg"].dbs[S["dbpath"]] = S["dbname"]
    S["redis_dir"] = os.path.join(S["tmp"], "redis")
    os.makedirs(S["redis_dir"])
    S["redis_port"], S["lb_port"] = free_port(), free_port()
    S["node_ports"] = [free_port() for _ in range(3)]
    start_redis()
    for i in range(3):
        start_node(i)
    start_nginx()
    tier("wide", 100000, 100000)


def tearDownModule():
    for i in range(3):
        if S["nodes"][i]:
            rc = stop_node(i)
            log = node_log(i)
            assert rc == 0, "node %d exited %s\n%s" % (i, rc, log[-2000:])
            assert "Sanitizer" not in log and "runtime error" not in log, log[-4000:]
    cleanup()


class A_Limits(unittest.TestCase):
    def test_burst_is_exact_across_nodes(self):
        # One token per 1000 s: no token comes back while 200 clients race.
        tier("b50", 0.001, 50)
        k = tenant_with_key("burst", "b50")["key"]
        known_everywhere(k)  # a new key takes up to 1 s to reach a node: 3 of the 50
        counts = hammer(k, 200, 1)
        self.assertEqual(counts.get(200, 0), 47, counts)
        self.assertEqual(counts.get(429, 0), 153, counts)
        self.assertEqual(served_in_db("SELECT sum(calls) FROM usage WHERE tenant_id = 'burst'"
                                      " AND status_class = 2"), 50)

    def test_quota_is_exact_across_nodes_rotation_and_second_key(self):
        tier("q30", 100000, 100000, quota=30)
        first = tenant_with_key("quota", "q30")
        known_everywhere(first["key"])  # 3 calls
        counts = hammer(first["key"], 3, 3)  # 9 more, spread over the nodes
        self.assertEqual(counts, {200: 9})
        r, rot = admin("POST", "/v1/admin/keys/%s/rotate" % first["id"], port=S["node_ports"][1])
        self.assertEqual(r.status, 201, rot)
        r, second = admin("POST", "/v1/admin/keys", {"tenant_id": "quota", "tier": "q30"},
                          port=S["node_ports"][2])
        self.assertEqual(r.status, 201, second)
        known_everywhere(rot["key"])  # 3 calls
        known_everywhere(second["key"])  # 3 calls
        self.assertEqual(call("GET", "/v1/usage", first["key"])[0].status, 401)
        got = {}
        lock = threading.Lock()

        def run(key):
            c = hammer(key, 10, 3)
            with lock:
                for s, n in c.items():
                    got[s] = got.get(s, 0) + n
        ts = [threading.Thread(target=run, args=(k,)) for k in (rot["key"], second["key"])]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(got.get(200, 0), 30 - 12 - 6, got)  # the quota, over all keys and nodes
        self.assertEqual(served_in_db("SELECT sum(calls) FROM usage WHERE tenant_id = 'quota'"
                                      " AND status_class = 2"), 30)


    def test_next_call_after_the_last_2xx_is_quota_exceeded_on_every_node(self):
        """A 2xx's unit is counted in Redis before its answer leaves: the
        client's next call, sent to another node the moment the month's
        last 2xx is read, is told quota_exceeded, never quota_pending."""
        rounds = 60
        tier("q5", 100000, 100000, quota=5)
        keys = [tenant_with_key("spent-%d" % i, "q5")["key"] for i in range(rounds)]
        for k in keys:
            known_everywhere(k)  # 3 calls of each key's 5
        wrong = []
        for i, k in enumerate(keys):
            a, b = S["node_ports"][i % 3], S["node_ports"][(i + 1) % 3]
            statuses, last = tm.last_2xx_then_next(k, 2, a, b)
            self.assertEqual(statuses, [200, 200], i)
            if last != (429, "quota_exceeded"):
                wrong.append((i, last))
        self.assertEqual(wrong, [], "%d of %d rounds" % (len(wrong), rounds))
        self.assertEqual(served_in_db("SELECT sum(calls) FROM usage WHERE tenant_id LIKE 'spent-%'"
                                      " AND status_class = 2"), 5 * rounds)


class B_Keys(unittest.TestCase):
    def test_revoked_everywhere_within_1s(self):
        k = tenant_with_key("revoke", "wide")
        known_everywhere(k["key"])
        r, doc = admin("DELETE", "/v1/admin/keys/" + k["id"])
        t0 = time.monotonic()
        self.assertEqual(r.status, 200, doc)
        for p in S["node_ports"]:
            poll("revoked on :%d" % p,
                 lambda p=p: call("GET", "/v1/usage", k["key"], port=p)[0].status == 401,
                 deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
        self.assertLess(time.monotonic() - t0, 1.0)
        # And refused at once: the shared check needs no reload.
        for p in S["node_ports"]:
            r, doc = call("GET", "/v1/usage", k["key"], port=p)
            self.assertEqual((r.status, doc["error"]["code"]), (401, "revoked_key"))

    def test_new_key_everywhere_within_1s(self):
        admin("POST", "/v1/admin/tenants", {"id": "fresh", "name": "fresh"})
        r, k = admin("POST", "/v1/admin/keys", {"tenant_id": "fresh", "tier": "wide"},
                     port=S["node_ports"][2])
        t0 = time.monotonic()
        self.assertEqual(r.status, 201, k)
        for p in S["node_ports"]:
            poll("new key on :%d" % p,
                 lambda p=p: call("GET", "/v1/usage", k["key"], port=p)[0].status == 200,
                 deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
        self.assertLess(time.monotonic() - t0, 1.0)

    def test_seed_demo_key_everywhere_within_1s(self):
        """A node started with --seed-demo issues a demo key (revoking the
        previous one): every node takes the new key and refuses the old one
        within 1 s of the node's start, as for an admin's key change."""
        S["node_ports"].append(free_port())
        S["nodes"].append(None)
        i = len(S["nodes"]) - 1
        S["extra"] = ["--seed-demo"]
        keys = []
        try:
            for _ in range(2):
                p = start_node(i)
                line = p.stdout.readline().decode()
                t0 = time.monotonic()
                self.assertTrue(line.startswith("demo key"), line)
                keys.append(line.split()[-1])
                for q in S["node_ports"][:i]:
                    poll("the demo key on :%d" % q,
                         lambda q=q: call("GET", "/v1/usage", keys[-1], port=q)[0].status == 200,
                         deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
                    if len(keys) == 2:
                        poll("the previous demo key refused on :%d" % q,
                             lambda q=q: call("GET", "/v1/usage", keys[0], port=q)[0].status == 401,
                             deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
                self.assertLess(time.monotonic() - t0, 1.0)
                self.assertEqual(stop_node(i), 0)
        finally:
            stop_node(i)
            S["nodes"].pop()
            S["node_ports"].pop()
            S["extra"] = []

    def test_tier_changes_everywhere_within_1s(self):
        # The burst a node applies shows in RateLimit-Policy ("burst";q=B).
        tier("t10", 1000, 10)
        tier("t20", 1000, 20)
        k = tenant_with_key("tierchg", "t10")
        known_everywhere(k["key"])

        def everywhere(what, q):
            t0 = time.monotonic()
            for p in S["node_ports"]:
                poll("%s on :%d" % (what, p),
                     lambda p=p: '"burst";q=%d;' % q in
                     (call("GET", "/v1/usage", k["key"], port=p)[0].getheader("RateLimit-Policy") or ""),
                     deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
            self.assertLess(time.monotonic() - t0, 1.0)
        r, doc = admin("PATCH", "/v1/admin/keys/" + k["id"], {"tier": "t20"}, port=S["node_ports"][1])
        self.assertEqual(r.status, 200, doc)
        everywhere("the key's new tier", 20)
        tier("t20", 1000, 30)  # the tier itself changed, through node 0
        everywhere("the tier's new burst", 30)


def with_cookie(method, path, cookie, port):
    return tm.call(method, path, headers={"Cookie": cookie, "X-Requested-With": "fetch"},
                   port=port)


class B_Sessions(unittest.TestCase):
    def test_session_works_on_every_node_and_ends_everywhere_within_1s(self):
        k = tenant_with_key("browse", "wide")
        known_everywhere(k["key"])
        r, doc = tm.call("POST", "/v1/sessions", k["key"], port=S["node_ports"][0])
        self.assertEqual(r.status, 201, doc)
        cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        # At once on the others: a node that does not know the cookie
        # looks it up in the database.
        for p in S["node_ports"]:
            r, doc = with_cookie("GET", "/v1/usage", cookie, p)
            self.assertEqual(r.status, 200, (p, doc))
        r, doc = with_cookie("DELETE", "/v1/sessions", cookie, S["node_ports"][1])
        t0 = time.monotonic()
        self.assertEqual((r.status, doc), (200, {"revoked": 1}))
        for p in S["node_ports"]:
            poll("session ended on :%d" % p,
                 lambda p=p: with_cookie("GET", "/v1/usage", cookie, p)[0].status == 401,
                 deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
        self.assertLess(time.monotonic() - t0, 1.0)
        # A key's DELETE ends its sessions opened on any node, everywhere.
        cookies = []
        for p in S["node_ports"]:
            r, doc = tm.call("POST", "/v1/sessions", k["key"], port=p)
            self.assertEqual(r.status, 201, doc)
            cookies.append(r.getheader("Set-Cookie").split(";", 1)[0])
        r, doc = tm.call("DELETE", "/v1/sessions", k["key"], port=S["node_ports"][2])
        t0 = time.monotonic()
        self.assertEqual((r.status, doc), (200, {"revoked": 3}))  # counted in the database
        for p in S["node_ports"]:
            for c in cookies:
                poll("key's sessions ended on :%d" % p,
                     lambda p=p, c=c: with_cookie("GET", "/v1/usage", c, p)[0].status == 401,
                     deadline=max(0.0, 1.0 - (time.monotonic() - t0)) + 0.001)
        self.assertLess(time.monotonic() - t0, 1.0)


class C_Cache(unittest.TestCase):
    def test_no_stale_insight_after_ingestion_elsewhere(self):
        k = tenant_with_key("cachet", "wide")["key"]
        rows = tm.transactions(7, days=90)
        r, doc = call("POST", "/v1/transactions", k, rows[: len(rows) // 2], port=S["node_ports"][0])
        self.assertEqual(r.status, 200, doc)
        known_everywhere(k)
        path = "/v1/insights/revenue-forecast?horizon=7&granularity=day"
        b = S["node_ports"][1]
        r1, f1 = call("GET", path, k, port=b)
        self.assertEqual(r1.status, 200, f1)
        r2, f2 = call("GET", path, k, port=b)
        self.assertEqual(r2.getheader("X-Cache"), "hit")
        r, doc = call("POST", "/v1/transactions", k, rows[len(rows) // 2:], port=S["node_ports"][0])
        self.assertEqual((r.status, doc["created"]), (200, len(rows) - len(rows) // 2))
        r3, f3 = call("GET", path, k, port=b)
        self.assertEqual(r3.status, 200, f3)
        self.assertNotEqual(r3.getheader("X-Cache"), "hit")
        self.assertNotEqual(f3["forecast"], f1["forecast"])


class D_Crash(unittest.TestCase):
    def test_kill9_under_load_meters_every_served_call(self):
        keys = [tenant_with_key("crash%d" % i, "wide") for i in range(2)]
        received = {k["id"]: 0 for k in keys}
        stop = threading.Event()
        lock = threading.Lock()
        n_clients = 8

        def client(k):
            c = http.client.HTTPConnection("127.0.0.1", S["lb_port"], timeout=60)
            while not stop.is_set():
                try:
                    c.request("GET", "/v1/usage", headers={"Authorization": "Bearer " + k["key"]})
                    r = c.getresponse()
                    r.read()
                    if 200 <= r.status < 300:
                        with lock:
                            received[k["id"]] += 1
                except (OSError, http.client.HTTPException):
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", S["lb_port"], timeout=60)
            c.close()

        threads = [threading.Thread(target=client, args=(keys[i % 2],)) for i in range(n_clients)]
        for t in threads:
            t.start()
        kills = 0
        try:
            for _ in range(3):
                before = sum(received.values())
                poll("load before a kill", lambda: sum(received.values()) >= before + 40)
                stop_node(2, signal.SIGKILL)
                kills += 1
                before = sum(received.values())
                poll("load with a node dead", lambda: sum(received.values()) >= before + 40)
                start_node(2)
        finally:
            stop.set()
            for t in threads:
                t.join(120)
        total = sum(received.values())
        metered = 0
        for k in keys:
            m = served_in_db("SELECT coalesce(sum(calls), 0) FROM usage WHERE key_id = ?"
                             " AND status_class = 2", (k["id"],))
            self.assertGreaterEqual(m, received[k["id"]], "a served call went unmetered")
            metered += m
        # A killed node may have committed calls whose answers died with it:
        # at most one per client connection in flight at each kill.
        self.assertLessEqual(metered, total + n_clients * kills)


class E_Restarts(unittest.TestCase):
    def test_redis_restart_under_load_admits_no_more_than_the_limits(self):
        tier("r5", 2, 10)  # 2/s, burst 10
        k = tenant_with_key("rrestart", "r5")["key"]
        known_everywhere(k)  # 3 calls
        t0 = time.monotonic()
        counts, lock, stop = {}, threading.Lock(), threading.Event()

        def client():
            while not stop.is_set():
                try:
                    r, _ = call("GET", "/v1/usage", k)
                    st = r.status
                except OSError:
                    st = 0
                with lock:
                    counts[st] = counts.get(st, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            poll("429s before the restart", lambda: counts.get(429, 0) > 20)
            stop_redis()
            poll("503s while Redis is down", lambda: counts.get(503, 0) > 5)
            start_redis()
            n = counts.get(200, 0)
            poll("200s after the restart", lambda: counts.get(200, 0) > n, deadline=30)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        elapsed = time.monotonic() - t0
        # GCRA: at most burst + rate x elapsed over any window.
        allowed = 10 + 2 * elapsed
        served = served_in_db("SELECT sum(calls) FROM usage WHERE tenant_id = 'rrestart'"
                              " AND status_class = 2")
        self.assertLessEqual(served, allowed + 3, (served, elapsed, counts))
        self.assertEqual(served, counts.get(200, 0) + 3)
        self.assertEqual(set(counts) - {200, 429, 503}, set(), counts)
        for p in S["node_ports"]:  # every node back on shared limits (reconciled)
            poll("shared limits back on :%d" % p,
                 lambda p=p: metric(p, 'floatcast_limits_mode{mode="shared"}') == 1, deadline=30)

    def test_local_fallback_admits_this_nodes_share(self):
        # A fourth node that, with Redis down, admits under r/N, b/N (N = 3).
        tier("b30", 0.001, 30)
        k = tenant_with_key("fallback", "b30")["key"]
        bump = tenant_with_key("bumpfail", "wide")["key"]
        S["node_ports"].append(free_port())
        S["nodes"].append(None)
        i = len(S["nodes"]) - 1
        S["extra"] = ["--limits-fallback", "local", "--nodes", "3"]
        try:
            start_node(i)
            stop_redis()
            port = S["node_ports"][i]
            poll("the fallback in force", lambda: metric(port, 'floatcast_limits_mode{mode="local_fallback"}') == 1)
            counts = hammer(k, 20, 2, port=port)
            self.assertEqual(counts.get(200, 0), 10, counts)  # burst 30 over 3 nodes
            self.assertEqual(counts.get(429, 0), 30, counts)
            self.assertIn("admitted under per-node limits", node_log(i))
            # The other nodes refuse meanwhile (the default, closed).
            r, doc = call("GET", "/v1/usage", k, port=S["node_ports"][0])
            self.assertEqual((r.status, doc["error"]["code"], r.getheader("Retry-After")),
                             (503, "limits_unavailable", "1"))
            # Ingestion admitted here commits, then cannot bump the tenant's
            # shared cache generation: 503 saying the rows are stored and a
            # retry is safe; they are in the database.
            rows = tm.transactions(11, days=60)
            r, doc = call("POST", "/v1/transactions", bump, rows, port=port)
            self.assertEqual((r.status, doc["error"]["code"], r.getheader("Retry-After")),
                             (503, "unavailable", "1"), doc)
            self.assertIn("stored (%d created, 0 updated, 0 unchanged)" % len(rows),
                          doc["error"]["message"])
            self.assertIn("retrying the same request is safe", doc["error"]["message"])
            self.assertEqual(served_in_db("SELECT count(*) FROM transactions WHERE tenant_id ="
                                          " 'bumpfail'"), len(rows))
            start_redis()
            poll("shared limits back", lambda: metric(port, 'floatcast_limits_mode{mode="shared"}') == 1)
            gen = redis_get("fc:cg:bumpfail")
            # The retry changes nothing and bumps the generation.
            r, doc = call("POST", "/v1/transactions", bump, rows, port=port)
            self.assertEqual((r.status, doc["created"], doc["unchanged"], doc["retrain_job"]),
                             (200, 0, len(rows), None), doc)
            self.assertEqual(redis_get("fc:cg:bumpfail"), gen + 1)
            # The first attempt queued the retraining its rows need.
            poll("the first attempt's retraining",
                 lambda: call("GET", "/v1/models", bump, port=port)[1]["count"] > 0, deadline=300)
        finally:
            if not (S.get("redis") and S["redis"].poll() is None):
                start_redis()
            stop_node(i)
            S["nodes"].pop()
            S["node_ports"].pop()
            S["extra"] = []
        for p in S["node_ports"]:
            poll("shared limits back on :%d" % p,
                 lambda p=p: metric(p, 'floatcast_limits_mode{mode="shared"}') == 1)

    def test_hung_redis_is_down_not_a_hang(self):
        # Redis stopped (SIGSTOP: the connection stays open, nothing is
        # answered): a call gets 503 within a few seconds, not never.
        k = tenant_with_key("hung", "wide")["key"]
        known_everywhere(k)
        port = S["node_ports"][1]
        S["redis"].send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r, doc = tm.call("GET", "/v1/usage", k, port=port)
            self.assertEqual((r.status, doc["error"]["code"]), (503, "limits_unavailable"))
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            S["redis"].send_signal(signal.SIGCONT)
        for p in S["node_ports"]:
            poll("shared limits back on :%d" % p,
                 lambda p=p: metric(p, 'floatcast_limits_mode{mode="shared"}') == 1, deadline=30)
        self.assertEqual(call("GET", "/v1/usage", k, port=port)[0].status, 200)

    def test_postgresql_restart_503_while_down_nothing_lost(self):
        k = tenant_with_key("pgrestart", "wide")
        known_everywhere(k["key"])
        counts, lock, stop = {}, threading.Lock(), threading.Event()

        def client():
            while not stop.is_set():
                try:
                    r, _ = call("GET", "/v1/usage", k["key"])
                    st = r.status
                except OSError:
                    st = 0
                with lock:
                    counts[st] = counts.get(st, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            poll("load before the restart", lambda: counts.get(200, 0) > 30)
            S["pg"].stop("fast")
            poll("503s while PostgreSQL is down", lambda: counts.get(503, 0) > 5)
            before = counts.get(200, 0)
            S["pg"].start()
            poll("200s again", lambda: counts.get(200, 0) > before + 10, deadline=60)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        m = served_in_db("SELECT sum(calls) FROM usage WHERE key_id = ? AND status_class = 2",
                         (k["id"],))
        # Every 200 was committed first (+3: known_everywhere's); a commit
        # whose answer PostgreSQL's shutdown cut off may count as well.
        self.assertGreaterEqual(m, counts.get(200, 0) + 3, counts)
        self.assertLessEqual(m, counts.get(200, 0) + 3 + 4, counts)
        self.assertEqual(set(counts) - {200, 503}, set(), counts)


    def test_postgresql_down_a_2xx_not_recorded_gives_its_unit_back(self):
        """With PostgreSQL down a cached insight is still a 2xx, whose
        usage record then cannot commit: answered 503, and the quota unit
        counted in Redis before the answer could leave comes back, so the
        month's count in Redis equals the 2xx the database committed."""
        tier("q10k", 100000, 100000, quota=10000)
        k = tenant_with_key("refund", "q10k")["key"]
        port = S["node_ports"][1]
        known_everywhere(k)
        r, doc = call("POST", "/v1/transactions", k, tm.transactions(5, days=60), port=port)
        self.assertEqual(r.status, 200, doc)
        # The ingestion's retraining job bumps the cache generation when it
        # is done: wait for it, then for a cached answer.
        def job_done():
            r, doc = call("GET", "/v1/models", k, port=port)
            st = doc["retraining"] if r.status == 200 else {}
            return st.get("last") and not st.get("running") and not st.get("queued")
        poll("the ingestion's job", job_done, deadline=240, every=0.5)
        path = "/v1/insights/revenue-forecast?horizon=7&granularity=day"
        poll("a cached insight", lambda: call("GET", path, k, port=port)[0].getheader("X-Cache") == "hit",
             deadline=60, every=0.2)
        t = time.gmtime()
        count = "fc:qu:refund:%d" % ((t.tm_year - 1970) * 12 + t.tm_mon - 1)
        before = redis_get(count)
        S["pg"].stop("fast")
        try:
            for _ in range(5):
                r, doc = call("GET", path, k, port=port)
                self.assertEqual((r.status, doc["error"]["code"]), (503, "unavailable"), doc)
                # A cached 2xx whose record failed, not a handler's 503.
                self.assertIn("usage could not be recorded", doc["error"]["message"])
        finally:
            S["pg"].start()
        # Each spent unit comes back (the refund may reach Redis just after the 503).
        poll("the units back in Redis", lambda: redis_get(count) == before, deadline=10)
        poll("service back", lambda: call("GET", path, k, port=port)[0].status == 200, deadline=60)
        served = served_in_db("SELECT sum(calls) FROM usage WHERE tenant_id = 'refund' AND status_class = 2")
        self.assertEqual(redis_get(count), served)


class F_Retrain(unittest.TestCase):
    def test_retraining_job_runs_once_across_nodes(self):
        k = tenant_with_key("train", "wide")["key"]
        r, doc = call("POST", "/v1/transactions", k, tm.transactions(11, days=120),
                      port=S["node_ports"][0])
        self.assertEqual(r.status, 200, doc)

        def last_job(port):
            r, doc = call("GET", "/v1/models", k, port=port)
            st = doc["retraining"] if r.status == 200 else {}
            return st.get("last") if st and not st.get("running") and not st.get("queued") else None
        poll("the ingestion's job", lambda: last_job(S["node_ports"][0]), deadline=240)
        # A corrected amount makes every series stale without a job: the
        # restarted nodes' startup jobs (only_stale) all find work, at once.
        gwdb.sql(S["dbpath"], "UPDATE transactions SET amount = amount + 100000 WHERE seq ="
                              " (SELECT max(seq) FROM transactions WHERE tenant_id = 'train')")
        before = served_in_db("SELECT count(*) FROM model_versions WHERE tenant_id = 'train'")
        for i in range(3):
            self.assertEqual(stop_node(i), 0)
        ts = [threading.Thread(target=start_node, args=(i,)) for i in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        lasts = [poll("node %d's startup job" % i, lambda p=p: last_job(p), deadline=240)
                 for i, p in enumerate(S["node_ports"])]
        outcomes = [[x["outcome"] for x in last["series"]] for last in lasts]
        trained = [o for o in outcomes if any(x != "up_to_date" for x in o)]
        self.assertEqual(len(trained), 1, outcomes)  # one node trained, the others found it done
        rows = gwdb.sql(S["dbpath"], "SELECT currency, granularity, count(*),"
                                     " sum(CASE WHEN status = 'champion' THEN 1 ELSE 0 END)"
                                     " FROM model_versions WHERE tenant_id = 'train'"
                                     " GROUP BY currency, granularity")
        self.assertTrue(rows)
        for ccy, gran, n, champions in rows:
            self.assertEqual(champions, 1, rows)  # one champion per series, as ever
        after = served_in_db("SELECT count(*) FROM model_versions WHERE tenant_id = 'train'")
        # One job: at most a challenger and a champion per series.
        self.assertGreater(after, before)
        self.assertLessEqual(after - before, 2 * len(rows), (before, after, outcomes))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ARGS, rest = ap.parse_known_args()
    tm.ARGS = ARGS
    why = ensure_packages()
    if why:
        print("SKIPPED multinode: " + why, flush=True)
        sys.exit(77)
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
