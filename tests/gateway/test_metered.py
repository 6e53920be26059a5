#!/usr/bin/python3
"""The metered multi-tenant gateway over loopback.

Starts floatcast-gateway with an admin key and a temporary SQLite file,
creates tiers, tenants and keys through the admin API, and checks: exact
rate limits (a burst of 30 at rate 0.001/s, burst 5 admits exactly 5), the
limit headers on every answer, 429 with Retry-After, monthly quotas, per-address limits without a key; revocation and
rotation; tier capabilities (403 naming the limit); ingestion (JSON array,
NDJSON, idempotent by id, every bad row reported, tenant mismatch refused,
nothing stored on refusal); insights with the cache and its invalidation;
tenant isolation on every endpoint; usage through GET /v1/usage and
`usage export` equal to the calls made, immutable closed periods; a bad
input corpus (each a 4xx, the server up, nothing lost); and the kill -9
crash test: concurrent clients, several random kill instants, metered >=
2xx received and <= received + in flight, PRAGMA integrity_check ok.

Nothing here depends on how fast the machine is: the exact-limit tests use
rates so slow (one token per 1000 s) that no token comes back while they
run, background work is waited for by polling /metrics, and the load
tests run until their clients have N answers (with a deadline of
minutes), never for a fixed time. A busy machine makes them slower, not
different.

Usage: test_metered.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import csv
import datetime
import http.client
import io
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402
from httpraw import read_response  # noqa: E402

ARGS = None
ADMIN = "test-admin-key-0123456789"
ENV = dict(os.environ, FLOATCAST_ADMIN_KEY=ADMIN)
G = {}


def spawn(db, extra=(), seed=False, quiet=True, env=ENV):
    """Starts a gateway on db; returns (proc, port, demo key or None)."""
    err = open(db + ".stderr", "ab")
    cmd = [ARGS.gateway, "--listen", "127.0.0.1:0", "--db", gwdb.arg(db)] + list(extra)
    if quiet:
        cmd.append("--quiet")
    if seed:
        cmd.append("--seed-demo")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
    err.close()
    # A deadline against a hang, not an expectation: PostgreSQL's migrations
    # and the demo seed took over 60 s at load 28 on two cores.
    ready, _, _ = select.select([proc.stdout], [], [], 600)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError("gateway did not start: %r %s" % (line, open(db + ".stderr").read()))
    key = proc.stdout.readline().decode().split()[-1] if seed else None
    return proc, int(line.rsplit(":", 1)[1].strip("/\n")), key


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=60)
    proc.stdout.close()
    return rc


# FC_API_RECORD=FILE: every exchange through call() is appended to FILE as
# one JSON line, so tests/gateway/openapi/check.mjs can hold each answer the
# suites received against gateway/openapi.json. One lock: the load tests
# call from many threads, and a line must never interleave with another.
RECORD = os.environ.get("FC_API_RECORD")
RECORD_LOCK = threading.Lock()


def record(method, path, r, data, layer=None):
    """layer "http": an answer the HTTP reader gave before routing (the
    checker holds it to x-unmatched-responses.request)."""
    if not RECORD:
        return
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError:
        body = None  # the checker refuses an undecodable JSON answer
    rec = {"method": method, "path": path, "status": r.status,
           "content_type": r.getheader("Content-Type", ""),
           "body": body, "test": os.path.basename(sys.argv[0])}
    if layer:
        rec["layer"] = layer
    line = json.dumps(rec) + "\n"
    with RECORD_LOCK:
        os.makedirs(os.path.dirname(os.path.abspath(RECORD)), exist_ok=True)
        with open(RECORD, "a") as f:
            f.write(line)


def call(method, path, key=None, body=None, port=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port or G["port"], timeout=timeout)
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    record(method, path, r, data)
    doc = None
    if r.getheader("Content-Type", "").startswith("application/json") and data:
        doc = json.loads(data)
    return r, doc


def admin(method, path, body=None):
    return call(method, path, ADMIN, body)


def make_tier(name, rate, burst, quota=0, horizon=2160, history=365, gran=("day", "hour")):
    r, doc = admin("PUT", "/v1/admin/tiers/" + name,
                   {"rate_per_second": rate, "burst": burst, "monthly_quota": quota,
                    "max_horizon_hours": horizon, "max_history_days": history,
                    "granularities": list(gran)})
    assert r.status == 200, doc
    return doc


def make_key(tenant, tier):
    r, doc = admin("POST", "/v1/admin/keys", {"tenant_id": tenant, "tier": tier})
    assert r.status == 201, doc
    return doc


def new_tenant(name):
    """A tenant of its own: limits are per tenant, so a test of exact limits
    must not share one with other tests' keys."""
    r, doc = admin("POST", "/v1/admin/tenants", {"id": name, "name": name})
    assert r.status == 201, doc
    return name


def transactions(tenant_seed, days=120, users=24, currency="USD"):
    """Deterministic partner transactions: daily purchases and refunds."""
    rng = random.Random(tenant_seed)
    start = datetime.date(2025, 6, 1)
    rows = []
    for d in range(days):
        day = start + datetime.timedelta(days=d)
        for u in range(users):
            if rng.random() < 0.25 + 0.02 * (u % 5):
                amt = round(rng.uniform(5, 80) * (1 + (u % 3)), 2)
                rows.append({"id": "t-%d-%d-%d" % (tenant_seed, d, u), "partner_id": "p1",
                             "user_id": "u%d" % u, "action_date": day.isoformat(),
                             "amount": "%.2f" % amt, "currency": currency,
                             "transaction_type": "purchase",
                             "category": ["food", "travel", "games"][u % 3]})
    return rows


def wait_for(what, done, deadline=120.0):
    """Polls done() every 20 ms until it is true; fails naming what after
    deadline seconds. Readiness by polling, never by a fixed sleep."""
    end = time.monotonic() + deadline
    while not done():
        if time.monotonic() > end:
            raise AssertionError("still waiting after %.0f s for %s" % (deadline, what))
        time.sleep(0.02)


def scrape(port=None):
    """GET /metrics as {series: value}."""
    c = http.client.HTTPConnection("127.0.0.1", port or G["port"], timeout=60)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1])
            for l in text.splitlines() if l and not l.startswith("#")}


def db_count_in(db, sql, args=()):
    return gwdb.sql(db, sql, args)[0][0]


def db_count(sql, args=()):
    return gwdb.sql(G["db"], sql, args)[0][0]


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-metered-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    # Checkpoints from one WAL page on, as on a clock: the stage test waits for one.
    G["proc"], G["port"], G["demo"] = spawn(G["db"], ["--anon-rate", "100000", "--anon-burst",
                                                       "100000", "--checkpoint-pages", "1"], seed=True)
    # One token per 1000 s: however slow the machine, none comes back while
    # a test counts its 200s and 429s.
    make_tier("tiny", 0.001, 5)
    make_tier("quota7", 1000, 1000, quota=7)
    make_tier("capped", 1000, 1000, horizon=24, history=30, gran=("day",))
    make_tier("wide", 100000, 100000)
    for t in ("acme", "beta"):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": t, "name": t.title()})
        assert r.status == 201, doc
    G["a"] = make_key("acme", "wide")["key"]
    G["b"] = make_key("beta", "wide")["key"]
    r, doc = call("POST", "/v1/transactions", G["a"], transactions(1))
    assert r.status == 200, doc


def tearDownModule():
    if G.get("proc") and G["proc"].poll() is None:
        G["proc"].kill()
        G["proc"].wait()
        G["proc"].stdout.close()
    shutil.rmtree(G["tmp"], ignore_errors=True)


LIMIT_HEADERS = ("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                 "X-RateLimit-Reset")


class Limits(unittest.TestCase):
    def test_burst_admits_exactly_b(self):
        key = make_key(new_tenant("burst-b"), "tiny")["key"]  # 0.001/s, burst 5
        statuses, remaining = [], []
        for _ in range(30):
            r, doc = call("GET", "/v1/usage", key)
            statuses.append(r.status)
            for h in LIMIT_HEADERS:
                self.assertIsNotNone(r.getheader(h), h)
            remaining.append(int(r.getheader("X-RateLimit-Remaining")))
            if r.status == 429:
                self.assertEqual(doc["error"]["code"], "rate_limited")
                self.assertGreaterEqual(int(r.getheader("Retry-After")), 1)
                self.assertLessEqual(int(r.getheader("Retry-After")), 1000)
        self.assertEqual(statuses, [200] * 5 + [429] * 25)
        self.assertEqual(remaining[:5], [4, 3, 2, 1, 0])
        self.assertEqual(r.getheader("X-RateLimit-Limit"), "5")
        self.assertIn('"burst";q=5;w=5000', r.getheader("RateLimit-Policy"))

    def test_quota_exact(self):
        key = make_key(new_tenant("quota-7"), "quota7")
        got = [call("GET", "/v1/usage", key["key"])[0] for _ in range(10)]
        self.assertEqual([r.status for r in got], [200] * 7 + [429] * 3)
        self.assertIn('"monthly";r=0;', got[-1].getheader("RateLimit"))
        self.assertGreater(int(got[-1].getheader("Retry-After")), 0)

    def test_headers_on_every_answer(self):
        for path, key in [("/healthz", None), ("/metrics", None), ("/v1/nope", None),
                          ("/v1/usage", None), ("/v1/usage", "fc_bad"), ("/v1/usage", G["a"])]:
            r, _ = call("GET", path, key)
            for h in LIMIT_HEADERS:
                self.assertIsNotNone(r.getheader(h), (path, h))

    def test_per_address_limit(self):
        db = os.path.join(G["tmp"], "anon.db")
        proc, port, _ = spawn(db, ["--anon-rate", "0.001", "--anon-burst", "3"])
        try:
            got = [call("GET", "/healthz", port=port)[0].status for _ in range(6)]
            self.assertEqual(got, [200, 200, 200, 429, 429, 429])
            r, doc = call("GET", "/v1/usage", "fc_guess", port=port)  # key guessing too
            self.assertEqual(r.status, 429)
            self.assertIsNotNone(r.getheader("Retry-After"))
        finally:
            self.assertEqual(stop(proc), 0)


class Admin(unittest.TestCase):
    def test_auth_required(self):
        r, doc = call("POST", "/v1/admin/tenants", None, {"id": "x", "name": "x"})
        self.assertEqual(r.status, 401)
        self.assertIn("Bearer", r.getheader("WWW-Authenticate"))
        r, doc = call("POST", "/v1/admin/tenants", G["a"], {"id": "x", "name": "x"})
        self.assertEqual(r.status, 403)
        r, doc = call("GET", "/v1/reports/treasury/projection", ADMIN)
        self.assertEqual(r.status, 403)

    def test_validation(self):
        cases = [("PUT", "/v1/admin/tiers/bad", {"rate_per_second": 1}, 400),
                 ("PUT", "/v1/admin/tiers/bad", {"rate_per_second": "1", "burst": 1,
                  "monthly_quota": 0, "max_horizon_hours": 1, "max_history_days": 1,
                  "granularities": ["day"]}, 400),
                 ("PUT", "/v1/admin/tiers/bad", {"rate_per_second": 1, "burst": 1,
                  "monthly_quota": 0, "max_horizon_hours": 1, "max_history_days": 1,
                  "granularities": ["fortnight"]}, 400),
                 ("PUT", "/v1/admin/tiers/b%2Fd", None, 400),
                 ("POST", "/v1/admin/tenants", {"id": "acme", "name": "dup"}, 409),
                 ("POST", "/v1/admin/tenants", {"id": "../x", "name": "x"}, 400),
                 ("POST", "/v1/admin/tenants", {"id": "x", "name": "x", "extra": 1}, 400),
                 ("POST", "/v1/admin/keys", {"tenant_id": "nobody", "tier": "wide"}, 404),
                 ("POST", "/v1/admin/keys", {"tenant_id": "acme", "tier": "gold"}, 404),
                 ("PATCH", "/v1/admin/keys/000000000000", {"tier": "wide"}, 404),
                 ("DELETE", "/v1/admin/keys/zzz", None, 404)]
        for method, path, body, want in cases:
            with self.subTest(path=path, body=body):
                r, doc = admin(method, path, body)
                self.assertEqual(r.status, want, doc)
                self.assertIn("message", doc["error"])

    def test_revoke_rotate_and_tier_change(self):
        k = make_key("acme", "wide")
        self.assertEqual(call("GET", "/v1/usage", k["key"])[0].status, 200)
        # Stored as a hash only: the key text is nowhere in the database.
        self.assertNotIn(k["key"].encode(), gwdb.dump(G["db"]))
        r, doc = admin("PATCH", "/v1/admin/keys/" + k["id"], {"tier": "capped"})
        self.assertEqual((r.status, doc["tier"]), (200, "capped"))
        r, doc = call("GET", "/v1/reports/treasury/projection?horizon=48", k["key"])
        self.assertEqual(r.status, 403)
        r, doc = admin("POST", "/v1/admin/keys/%s/rotate" % k["id"])
        self.assertEqual(r.status, 201, doc)
        fresh = doc["key"]
        r, doc = call("GET", "/v1/usage", k["key"])
        self.assertEqual((r.status, doc["error"]["code"]), (401, "revoked_key"))
        self.assertEqual(call("GET", "/v1/usage", fresh)[0].status, 200)
        r, doc = admin("DELETE", "/v1/admin/keys/" + fresh[3:15])
        self.assertEqual((r.status, doc["revoked"]), (200, True))
        r, doc = call("GET", "/v1/usage", fresh)
        self.assertEqual((r.status, doc["error"]["code"]), (401, "revoked_key"))
        # Same id, wrong secret: refused like any unknown key.
        forged = fresh[:-4] + ("0000" if not fresh.endswith("0000") else "1111")
        self.assertEqual(call("GET", "/v1/usage", forged)[1]["error"]["code"], "invalid_key")


class Capabilities(unittest.TestCase):
    def test_403_names_the_limit(self):
        k = make_key("acme", "capped")["key"]
        cases = [("/v1/reports/treasury/projection?horizon=48", "max_horizon_hours"),
                 ("/v1/insights/revenue-forecast?granularity=hour", "granularities"),
                 ("/v1/insights/revenue-forecast?horizon=2", "max_horizon_hours"),
                 ("/v1/insights/revenue-forecast?horizon=1&history_days=60", "max_history_days"),
                 ("/v1/insights/segments?history_days=31", "max_history_days")]
        for path, limit in cases:
            with self.subTest(path=path):
                r, doc = call("GET", path, k)
                self.assertEqual(r.status, 403, doc)
                self.assertEqual(doc["error"]["code"], "tier_limit")
                self.assertIn(limit, doc["error"]["message"])
                self.assertIn("capped", doc["error"]["message"])
        r, doc = call("POST", "/v1/what-if", k, {"horizon": 48})
        self.assertEqual(r.status, 403)
        self.assertIn("max_horizon_hours", doc["error"]["message"])
        self.assertEqual(call("GET", "/v1/insights/revenue-forecast?horizon=1", k)[0].status, 200)


class Ingestion(unittest.TestCase):
    def test_idempotent_json_and_ndjson(self):
        rows = transactions(7, days=10, users=5)
        before = db_count("SELECT count(*) FROM transactions WHERE tenant_id = 'acme'")
        r, doc = call("POST", "/v1/transactions", G["a"], rows)
        self.assertEqual((r.status, doc["stored"]), (200, len(rows)))
        nd = "\n".join(json.dumps(x) for x in rows) + "\n"
        r, doc = call("POST", "/v1/transactions", G["a"], nd)
        self.assertEqual(r.status, 200)
        after = db_count("SELECT count(*) FROM transactions WHERE tenant_id = 'acme'")
        self.assertEqual(after, before + len(rows))

    def test_bad_rows_reported_and_nothing_stored(self):
        before = db_count("SELECT count(*) FROM transactions")
        rows = transactions(8, days=3, users=4)
        rows[1]["amount"] = "abc"
        rows[3]["action_date"] = "2025-02-30"
        del rows[4]["user_id"]
        r, doc = call("POST", "/v1/transactions", G["a"], rows)
        self.assertEqual(r.status, 422, doc)
        self.assertEqual([e["row"] for e in doc["error"]["rows"]], [1, 3, 4])
        nd = "\n".join(json.dumps(x) for x in rows)
        r, doc = call("POST", "/v1/transactions", G["a"], nd)
        self.assertEqual([e["row"] for e in doc["error"]["rows"]], [2, 4, 5])  # NDJSON lines
        self.assertEqual(db_count("SELECT count(*) FROM transactions"), before)

    def test_tenant_mismatch(self):
        rows = [{"id": "acc-x", "tenant_id": "acme", "currency": "USD",
                 "balance_available": "10.00"},
                {"id": "acc-y", "tenant_id": "beta", "currency": "USD",
                 "balance_available": "10.00"}]
        r, doc = call("POST", "/v1/accounts", G["b"], rows)
        self.assertEqual((r.status, doc["error"]["code"]), (403, "tenant_mismatch"))
        self.assertEqual([e["row"] for e in doc["error"]["rows"]], [0])
        self.assertEqual(db_count("SELECT count(*) FROM accounts WHERE id IN ('acc-x','acc-y')"), 0)


class Rates(unittest.TestCase):
    """Stream rates to 18 decimals survive SQLite exactly (issue: rates)."""
    MONTHLY = "0.000385802469135802"  # 1000.00 USD per 30-day month, per second
    QUERY = "/v1/reports/treasury/projection?now=2025-12-01T12:00:00Z&horizon=48"

    @staticmethod
    def stream(tenant, rate, sid="m1"):
        return [{"id": sid, "tenant_id": tenant, "currency": "USD", "flow_rate_per_second": rate,
                 "funded_amount": "5000.00", "total_streamed": "0.00", "status": "active",
                 "started_at": "2025-11-01T00:00:00Z"}]

    def test_rate_18_decimals_round_trips(self):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": "rates", "name": "Rates"})
        self.assertEqual(r.status, 201, doc)
        k = make_key("rates", "wide")["key"]
        r, doc = call("POST", "/v1/accounts", k, [{"id": "op", "tenant_id": "rates", "currency": "USD",
                                                    "balance_available": "10000.00"}])
        self.assertEqual(r.status, 200, doc)
        r, doc = call("POST", "/v1/streams", k, self.stream("rates", self.MONTHLY))
        self.assertEqual(r.status, 200, doc)
        row = gwdb.sql(G["db"], "SELECT flow_rate, flow_rate_decimals FROM streams"
                                " WHERE tenant_id = 'rates'")
        self.assertEqual(row, [(385802469135802, 18)])
        r, doc = call("GET", self.QUERY, k)
        self.assertEqual(r.status, 200, doc)
        usd = doc["currencies"][0]
        self.assertEqual(usd["streams"][0]["flow_rate_per_second"], self.MONTHLY)
        # 0.000385802469135802 x 172800 s = 66.66666666666654 -> 66.67, rounded once.
        self.assertEqual(usd["rule"]["stream_drain"], "66.67")
        self.assertAlmostEqual(sum(p["stream_drain"] for p in usd["path"]), 66.67, places=9)
        # 19 decimals: refused with the limit named, nothing stored.
        r, doc = call("POST", "/v1/streams", k, self.stream("rates", "0.0003858024691358024", "m2"))
        self.assertEqual(r.status, 422, doc)
        self.assertIn("has more than 18 decimals", doc["error"]["rows"][0]["message"])
        self.assertEqual(db_count("SELECT count(*) FROM streams WHERE tenant_id = 'rates'"), 1)

    @gwdb.sqlite_only("a version 4 SQLite file")
    def test_version4_file_migrates(self):
        # A file written when rates were counts of 10^-(scale+6) units: the
        # count stays, its decimals (scale + 6) become a column, the value
        # and the answer are unchanged, and new rows take 18 decimals.
        db = os.path.join(G["tmp"], "v4.db")
        con = sqlite3.connect(db)
        con.executescript(
            "CREATE TABLE streams (tenant_id TEXT NOT NULL, id TEXT NOT NULL, currency TEXT NOT NULL,"
            " scale INTEGER NOT NULL, flow_rate INTEGER NOT NULL, funded_amount INTEGER NOT NULL,"
            " total_streamed INTEGER NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL,"
            " cancelled_at INTEGER, total_paused_seconds INTEGER NOT NULL DEFAULT 0,"
            " last_pause_at INTEGER, UNIQUE (tenant_id, id));"
            "CREATE TABLE accounts (tenant_id TEXT NOT NULL, id TEXT NOT NULL, currency TEXT NOT NULL,"
            " scale INTEGER NOT NULL, balance_available INTEGER NOT NULL,"
            " allow_overdraft INTEGER NOT NULL DEFAULT 0, UNIQUE (tenant_id, id));"
            "INSERT INTO accounts VALUES ('old', 'op', 'USD', 2, 1000000, 0);"
            # 0.00038500 USD/s and 0.001234 USDC/s, as version 4 stored them.
            "INSERT INTO streams VALUES ('old', 's1', 'USD', 2, 38500, 500000, 0, 'active',"
            " 1761955200, NULL, 0, NULL);"
            "INSERT INTO streams VALUES ('old', 's2', 'USDC', 6, 1234000000, 500000000, 0, 'paused',"
            " 1761955200, NULL, 0, NULL);"
            "PRAGMA user_version = 4;")
        con.close()
        proc, port, _ = spawn(db)
        try:
            def acall(method, path, key, body=None):
                return call(method, path, key, body, port=port)
            r, doc = acall("POST", "/v1/admin/tenants", ADMIN, {"id": "old", "name": "Old"})
            self.assertEqual(r.status, 201, doc)
            r, doc = acall("PUT", "/v1/admin/tiers/wide", ADMIN,
                           {"rate_per_second": 1000, "burst": 1000, "monthly_quota": 0,
                            "max_horizon_hours": 2160, "max_history_days": 365,
                            "granularities": ["day", "hour"]})
            self.assertEqual(r.status, 200, doc)
            r, doc = acall("POST", "/v1/admin/keys", ADMIN, {"tenant_id": "old", "tier": "wide"})
            self.assertEqual(r.status, 201, doc)
            k = doc["key"]
            r, doc = acall("GET", self.QUERY, k)
            self.assertEqual(r.status, 200, doc)
            rates = {s["id"]: s["flow_rate_per_second"] for c in doc["currencies"] for s in c["streams"]}
            self.assertEqual(rates, {"s1": "0.00038500", "s2": "0.001234000000"})
            # 0.000385 x 172800 = 66.528 -> 66.53
            self.assertEqual(doc["currencies"][0]["rule"]["stream_drain"], "66.53")
            r, doc = acall("POST", "/v1/streams", k, self.stream("old", self.MONTHLY, "s3"))
            self.assertEqual(r.status, 200, doc)
        finally:
            self.assertEqual(stop(proc), 0)
        con = sqlite3.connect(db)
        try:
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 6)
            self.assertEqual(con.execute("SELECT id, flow_rate, flow_rate_decimals FROM streams"
                                         " ORDER BY rowid").fetchall(),
                             [("s1", 38500, 8), ("s2", 1234000000, 12), ("s3", 385802469135802, 18)])
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            con.close()


class Insights(unittest.TestCase):
    def test_forecast_segments_cache(self):
        path = "/v1/insights/revenue-forecast?horizon=7&granularity=day"
        r, doc = call("GET", path, G["a"])
        self.assertEqual(r.status, 200, doc)
        self.assertEqual(len(doc["forecast"]), 7)
        self.assertEqual(doc["tenant_id"], "acme")
        for p in doc["forecast"]:
            self.assertLessEqual(p["lo95"], p["lo80"])
            self.assertLessEqual(p["lo80"], p["mean"])
            self.assertLessEqual(p["mean"], p["hi80"])
        r2, doc2 = call("GET", path, G["a"])
        self.assertEqual(r2.getheader("X-Cache"), "hit")
        self.assertEqual(doc2, doc)
        # New data invalidates the tenant's cache.
        call("POST", "/v1/transactions", G["a"], transactions(9, days=5, users=3))
        r3, doc3 = call("GET", path, G["a"])
        self.assertIsNone(r3.getheader("X-Cache"))
        r, doc = call("GET", "/v1/insights/segments", G["a"])
        self.assertEqual(r.status, 200, doc)
        self.assertGreaterEqual(len(doc["result"]["segments"]), 2)
        _, m = call("GET", "/metrics")  # text, not JSON
        c = http.client.HTTPConnection("127.0.0.1", G["port"], timeout=30)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        hits = [l for l in text.splitlines() if l.startswith("floatcast_cache_hits_total")]
        self.assertGreaterEqual(int(hits[0].split()[1]), 1)
        self.assertIn("floatcast_metering_lag_seconds_count", text)
        self.assertIn('floatcast_request_duration_seconds_bucket{le="+Inf"}', text)

    def test_stage_histograms_and_background_checkpoint(self):
        for _ in range(5):
            self.assertEqual(call("GET", "/v1/usage", G["a"])[0].status, 200)
        # The checkpointer wakes every 100 ms once a batch committed: wait
        # until it has run, however long the machine takes to schedule it.
        wait_for("a WAL checkpoint",
                 lambda: scrape().get("floatcast_wal_checkpoint_seconds_count", 0) >= 1)
        # The loop counts an answer an instant after the writer sent it.
        wait_for("the five held answers counted",
                 lambda: scrape().get('floatcast_request_stage_seconds_count{stage="metering"}', 0) >= 5)
        m = scrape()

        def value(series):
            self.assertIn(series, m)
            return m[series]
        total = value('floatcast_request_duration_seconds_bucket{le="+Inf"}')
        # Every dispatched request passes receive and process; partner calls
        # are held for metering, so that stage counts at least these five.
        self.assertGreaterEqual(value('floatcast_request_stage_seconds_count{stage="process"}'), 5)
        self.assertLessEqual(value('floatcast_request_stage_seconds_count{stage="process"}'), total)
        self.assertGreaterEqual(value('floatcast_request_stage_seconds_count{stage="metering"}'), 5)
        self.assertGreaterEqual(value("floatcast_metering_commit_seconds_count"), 1)
        self.assertEqual(value("floatcast_metering_batch_records_sum"),
                         value('floatcast_metering_records_total{state="committed"}') +
                         value('floatcast_metering_records_total{state="failed"}'))
        self.assertGreaterEqual(value("floatcast_wal_checkpoint_seconds_count"), 1)
        self.assertEqual(value("floatcast_wal_checkpoint_failures_total"), 0)
        self.assertGreaterEqual(value("floatcast_loop_busy_seconds_count"), 1)

    def test_metrics_count_requests_and_429s(self):
        before = scrape()
        key = make_key(new_tenant("metrics-429"), "tiny")["key"]  # burst 5
        got = [call("GET", "/v1/usage", key)[0].status for _ in range(7)]
        self.assertEqual(got, [200] * 5 + [429] * 2)
        ok = 'floatcast_requests_total{route="usage",code="2xx"}'
        limited = 'floatcast_requests_total{route="usage",code="4xx"}'
        # The metering writer sends a partner call's answer; the loop counts
        # it when the record comes back, an instant later: poll.
        wait_for("the last answers counted",
                 lambda: scrape().get(limited, 0) - before.get(limited, 0) >= 2)
        after = scrape()
        self.assertEqual(after["floatcast_rate_limited_total"] -
                         before.get("floatcast_rate_limited_total", 0), 2)
        self.assertEqual(after[ok] - before.get(ok, 0), 5)
        self.assertEqual(after[limited] - before.get(limited, 0), 2)
        # The admin call that made the key is counted too, but not metered.
        self.assertGreaterEqual(after['floatcast_metering_records_total{state="committed"}'] -
                                before['floatcast_metering_records_total{state="committed"}'], 7)

    def test_cash_flow_and_what_if(self):
        r, doc = call("GET", "/v1/insights/cash-flow?horizon=3", G["demo"])
        self.assertEqual(r.status, 200, doc)
        self.assertTrue(any("steps" in c and len(c["steps"]) == 3 for c in doc["currencies"]))
        for c in doc["currencies"]:
            for st in c.get("steps", []):
                self.assertLessEqual(st["outflow"]["p10"], st["outflow"]["p90"])
        base = {"now": "2025-12-01T12:00:00Z", "horizon": 24, "currency": "USDC"}
        r, plain = call("POST", "/v1/what-if", G["demo"], base)
        self.assertEqual(r.status, 200, plain)
        r, paused = call("POST", "/v1/what-if", G["demo"], dict(base, pause_streams=["st-002"]))
        self.assertEqual(r.status, 200, paused)
        bal = lambda d: float(d["projection"]["currencies"][0]["rule"]["projected_balance"])
        self.assertGreater(bal(paused), bal(plain))
        extra = [{"id": "wf-1", "tenant_id": "demo", "from_account_id": "acc-usdc-treasury", "to_account_id": "x",
                  "currency": "USDC", "amount": "1000.00", "status": "pending",
                  "created_at": "2025-12-01T00:00:00Z",
                  "scheduled_for": "2025-12-01T20:00:00Z"}]
        r, more = call("POST", "/v1/what-if", G["demo"], dict(base, transfers=extra))
        self.assertEqual(r.status, 200, more)
        self.assertEqual(len(more["scenario"]["transfers"]), 1)
        self.assertAlmostEqual(bal(plain) - bal(more), 1000.0, places=6)
        r, ml = call("POST", "/v1/what-if", G["demo"], dict(base, method="ml", cancel_transfers=["nope"]))
        self.assertEqual(r.status, 404, ml)
        self.assertIn("no transfer 'nope'", ml["error"]["message"])
        r, doc = call("POST", "/v1/what-if", G["demo"], dict(base, colour="red"))
        self.assertEqual((r.status, doc["error"]["code"]), (400, "unknown_field"))


class Isolation(unittest.TestCase):
    def test_tenant_b_never_sees_a(self):
        b = G["b"]
        for path in ["/v1/insights/revenue-forecast", "/v1/insights/segments",
                     "/v1/reports/treasury/projection", "/v1/insights/cash-flow"]:
            with self.subTest(path=path):
                r, doc = call("GET", path, b)
                self.assertEqual(r.status, 404, doc)
                self.assertNotIn("acme", json.dumps(doc))
        r, doc = call("POST", "/v1/what-if", b, {"pause_streams": ["st-002"],
                                                  "now": "2025-12-01T12:00:00Z"})
        self.assertIn(r.status, (404,))
        r, doc = call("GET", "/v1/usage?tenant=acme", b)
        self.assertEqual(r.status, 403)
        r, doc = call("GET", "/v1/usage", b)
        self.assertTrue(all(x["tenant_id"] == "beta" for x in doc["rows"]))
        r, doc = call("POST", "/v1/transfers", b, [{"id": "t", "tenant_id": "acme",
                      "from_account_id": "a", "to_account_id": "", "currency": "USD",
                      "amount": "1.00", "status": "completed",
                      "created_at": "2025-12-01T00:00:00Z"}])
        self.assertEqual(r.status, 403)
        # Same transaction ids in two tenants stay two records.
        rows = transactions(1, days=2, users=3)
        self.assertEqual(call("POST", "/v1/transactions", b, rows)[0].status, 200)
        self.assertEqual(db_count("SELECT count(*) FROM transactions WHERE id = ? AND "
                                  "tenant_id IN ('acme','beta')", (rows[0]["id"],)), 2)


class Usage(unittest.TestCase):
    def test_counts_equal_calls_and_export(self):
        k = make_key("beta", "wide")
        n_ok, n_bad = 0, 0
        for i in range(12):
            r, _ = call("GET", "/v1/usage" if i % 3 else "/v1/usage?bogus=1", k["key"])
            n_ok += r.status == 200
            n_bad += r.status == 400
        r, doc = admin("GET", "/v1/usage?tenant=beta&granularity=hour")
        mine = [x for x in doc["rows"] if x["key_id"] == k["id"]]
        self.assertEqual(sum(x["calls"] for x in mine if x["status_class"] == "2xx"), n_ok)
        self.assertEqual(sum(x["calls"] for x in mine if x["status_class"] == "4xx"), n_bad)
        self.assertTrue(all(x["bytes"] > 0 for x in mine))
        today = datetime.datetime.now(datetime.timezone.utc).date()
        out = subprocess.run([ARGS.gateway, "usage", "export", "--db", gwdb.arg(G["db"]), "--from",
                              today.isoformat(), "--to",
                              (today + datetime.timedelta(days=1)).isoformat(), "--format", "csv",
                              "--tenant", "beta"], check=True, stdout=subprocess.PIPE).stdout
        rows = list(csv.DictReader(io.StringIO(out.decode())))
        self.assertEqual(sum(int(x["calls"]) for x in rows if x["key_id"] == k["id"]), n_ok + n_bad)
        # The same export under the floatcast command: `floatcast usage export`.
        cli = os.path.join(os.path.dirname(ARGS.gateway), "floatcast")
        if os.path.exists(cli):
            same = subprocess.run([cli, "usage", "export", "--db", gwdb.arg(G["db"]), "--from", today.isoformat(),
                                   "--to", (today + datetime.timedelta(days=1)).isoformat(), "--format", "csv",
                                   "--tenant", "beta"], check=True, stdout=subprocess.PIPE).stdout
            self.assertEqual(same, out)

    def test_closed_periods_immutable(self):
        old = int(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
        before = db_count("SELECT sum(calls) FROM usage")
        self.assertGreater(before, 0)
        self.assertRegex(gwdb.sql_fails(G["db"], "INSERT INTO usage VALUES ('x','k','e',2,?,1,1,1)",
                                        (old,)) or "", "closed")
        self.assertRegex(gwdb.sql_fails(G["db"], "DELETE FROM usage") or "", "never deleted")
        self.assertRegex(gwdb.sql_fails(G["db"], "UPDATE usage SET calls = calls - 1") or "",
                         "only grows")
        if gwdb.is_pg():
            self.assertRegex(gwdb.sql_fails(G["db"], "TRUNCATE usage") or "", "never deleted")
        self.assertGreaterEqual(db_count("SELECT sum(calls) FROM usage"), before)


    @gwdb.sqlite_only("plants a row by dropping a SQLite trigger that each start recreates")
    def test_closed_row_never_updated_after_restart(self):
        """A row of a closed month (planted with the trigger dropped, as a
        month that closed while the gateway ran would hold) cannot grow once
        the gateway has restored its schema."""
        db = os.path.join(G["tmp"], "closed.db")
        proc, _, _ = spawn(db)
        self.assertEqual(stop(proc), 0)
        old = int(datetime.datetime(2024, 3, 5, 10, tzinfo=datetime.timezone.utc).timestamp())
        con = sqlite3.connect(db)
        con.execute("DROP TRIGGER usage_closed_insert")
        con.execute("INSERT INTO usage VALUES ('t','k','usage',2,?,3,10,5)", (old,))
        con.commit()
        con.close()
        proc, _, _ = spawn(db)  # recreates the trigger
        self.assertEqual(stop(proc), 0)
        con = sqlite3.connect(db)
        try:
            for sql in ("UPDATE usage SET calls = calls + 1",
                        "INSERT INTO usage VALUES ('t','k','usage',2,?,1,1,1) ON CONFLICT DO "
                        "UPDATE SET calls = calls + 1"):
                with self.assertRaisesRegex(sqlite3.DatabaseError, "closed"):
                    con.execute(sql, (old,) if "?" in sql else ())
            self.assertEqual(con.execute("SELECT calls FROM usage").fetchone()[0], 3)
        finally:
            con.close()


class BadInput(unittest.TestCase):
    def test_corpus(self):
        before = db_count("SELECT count(*) FROM transactions")
        ok_row = transactions(3, days=1, users=8)[0]
        corpus = [
            b"", b"   ", b"{", b"[", b"[1,2", b"nul", b'{"id": 1}', b"[[]]", b"[null]",
            json.dumps([dict(ok_row, amount=True)]).encode(),
            json.dumps([dict(ok_row, amount=["1"])]).encode(),
            json.dumps([dict(ok_row, amount="NaN")]).encode(),
            b'[{"id":"x","partner_id":"p","user_id":"u","action_date":"2025-01-01",'
            b'"amount":NaN,"transaction_type":"purchase"}]',
            json.dumps([dict(ok_row, amount="1e400")]).encode(),
            json.dumps([dict(ok_row, amount="99999999999999999999999")]).encode(),
            b'[{"id":"\xff\xfe","partner_id":"p","user_id":"u","action_date":"2025-01-01",'
            b'"amount":"1.00","transaction_type":"purchase"}]',
            json.dumps([dict(ok_row, id="a" * 300)]).encode(),
            json.dumps([dict(ok_row), dict(ok_row)]).encode(),  # duplicate id in a batch
            b"[" + b"[" * 5000 + b"]" * 5000 + b"]",
            json.dumps([dict(ok_row, action_date="../../etc/passwd")]).encode(),
        ]
        for body in corpus:
            with self.subTest(body=body[:60]):
                r, doc = call("POST", "/v1/transactions", G["a"], body)
                self.assertGreaterEqual(r.status, 400)
                self.assertLess(r.status, 500, doc)
                self.assertIn("message", doc["error"])
        r, doc = call("POST", "/v1/transactions", G["a"], b"[" + b" " * (2 * 1024 * 1024) + b"]")
        self.assertEqual(r.status, 413)
        for body in [b"{", b"[]", b'{"horizon": "48"}', b'{"horizon": 1e999}',
                     b'{"pause_streams": [1]}', b'{"now": "yesterday"}']:
            with self.subTest(what_if=body):
                r, doc = call("POST", "/v1/what-if", G["demo"], body)
                self.assertIn(r.status, (400, 404, 422), doc)
        for path in ["/v1/admin/keys/..%2f..%2fetc", "/v1/admin/keys/%00",
                     "/v1/insights/segments/../../admin"]:
            r, doc = admin("DELETE" if "keys" in path else "GET", path)
            self.assertIn(r.status, (400, 404, 405))
        # An unknown field in a JSON record is a typo the API refuses (the
        # core's strict mode), naming the row and the field; nothing is stored.
        r, doc = call("POST", "/v1/transactions", G["a"], [ok_row, dict(ok_row, id="x2", colour="red")])
        self.assertEqual(r.status, 422, doc)
        self.assertIn("index 1: unknown field 'colour'", json.dumps(doc))
        self.assertEqual(db_count("SELECT count(*) FROM transactions"), before)
        self.assertEqual(call("GET", "/healthz")[0].status, 200)

    def test_chunked_trailers_do_not_kill_the_server(self):
        # Trailer fields once left a NULL header name that admission's
        # Authorization lookup read: this one request killed the gateway
        # (found by fuzz_http). A key sent only as a trailer is not a key.
        for auth in (b"", b"Authorization: Bearer " + G["demo"].encode() + b"\r\n"):
            s = socket.create_connection(("127.0.0.1", G["port"]), timeout=30)
            try:
                s.sendall(b"POST /v1/what-if HTTP/1.1\r\nHost: h\r\n" + auth +
                          b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
                          b"X-Trailer: y\r\nAuthorization: Bearer " + G["demo"].encode() +
                          b"\r\n\r\n")
                head = s.recv(65536).split(b"\r\n")[0]
            finally:
                s.close()
            self.assertEqual(head, b"HTTP/1.1 200 OK" if auth else b"HTTP/1.1 401 Unauthorized")
            self.assertEqual(call("GET", "/healthz")[0].status, 200)


def raw_pipeline(requests, port=None):
    """Sends the requests back to back on one connection and reads as many
    answers: [(status, headers (lower-case names), parsed JSON body)]."""
    s = socket.create_connection(("127.0.0.1", port or G["port"]), timeout=60)
    f = s.makefile("rb")
    try:
        s.sendall(b"".join(requests))
        out = []
        for _ in requests:
            r = read_response(f)
            if r is None:
                break
            status, headers, body = r
            out.append((status, headers, json.loads(body) if body else None))
        return out
    finally:
        f.close()
        s.close()


def get_req(path, key=None, extra=b""):
    auth = b"Authorization: Bearer " + key.encode() + b"\r\n" if key else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + auth + extra + b"\r\n"


def usage_by_class(key_id):
    return dict(gwdb.sql(G["db"], "SELECT status_class, sum(calls) FROM usage WHERE key_id = ?"
                                  " GROUP BY status_class", (key_id,)))


class QueryEncoding(unittest.TestCase):
    def test_invalid_utf8_parameter_is_a_kept_alive_400(self):
        # A parameter decoding to bytes that are not UTF-8 once made the error
        # message unencodable: 503 "out of memory", the connection closed with
        # the pipelined requests behind it, and a 5xx metered.
        k = make_key("acme", "wide")
        bad = [("/v1/insights/segments?currency=%ff", "currency"),
               ("/v1/usage?from=%ff", "from"),
               ("/v1/usage?%ff=1", "%ff"),
               ("/v1/reports/treasury/projection?currency=%c3%28", "currency"),
               ("/v1/models?kind=ok&currency=%ed%a0%80", "currency")]
        answers = raw_pipeline([get_req(p, k["key"]) for p, _ in bad] +
                               [get_req("/v1/usage", k["key"])])
        self.assertEqual([a[0] for a in answers], [400] * len(bad) + [200])
        for (path, name), (status, headers, doc) in zip(bad, answers):
            with self.subTest(path=path):
                self.assertEqual(doc["error"]["code"], "invalid_parameter")
                self.assertIn(name, doc["error"]["message"].lower())
                self.assertEqual(headers["connection"], "keep-alive")
        self.assertEqual(usage_by_class(k["id"]), {4: len(bad), 2: 1})


class DuplicateAuthorization(unittest.TestCase):
    def test_two_authorization_headers_are_a_400_without_key_lookup(self):
        k = make_key(new_tenant("dup-auth"), "tiny")  # burst 5: its policy would show in the headers
        a_before = usage_by_class(G["a"][3:15])
        for other in (k["key"], "fc_bad", G["a"]):
            with self.subTest(other=other[:6]):
                extra = b"Authorization: Bearer " + other.encode() + b"\r\n"
                (status, headers, doc), = raw_pipeline([get_req("/v1/usage", k["key"], extra)])
                self.assertEqual(status, 400, doc)
                self.assertEqual(doc["error"]["code"], "duplicate_header")
                self.assertIn("authorization", doc["error"]["message"].lower())
                self.assertNotEqual(headers["x-ratelimit-limit"], "5")
        self.assertEqual(usage_by_class(k["id"]), {})
        self.assertEqual(usage_by_class(G["a"][3:15]), a_before)
        # The key itself still has its whole burst.
        r, _ = call("GET", "/v1/usage", k["key"])
        self.assertEqual((r.status, r.getheader("X-RateLimit-Remaining")), (200, "4"))


class JsonDepth(unittest.TestCase):
    def test_too_deep_is_a_400_not_a_413(self):
        # The code ingestion gives malformed JSON ('{' is read as one bad row).
        malformed = call("POST", "/v1/transactions", G["a"], b"[1,")[1]["error"]["code"]
        self.assertEqual(malformed, "invalid_body")
        for depth in (65, 100, 5000):
            with self.subTest(depth=depth):
                body = b"[" * depth + b"]" * depth
                r, doc = call("POST", "/v1/transactions", G["a"], body)
                self.assertEqual((r.status, doc["error"]["code"]), (400, malformed), doc)
                self.assertIn("nest", doc["error"]["message"])
        r, doc = call("POST", "/v1/what-if", G["demo"], b'{"floors":' + b"[" * 3000 + b"]" * 3000 + b"}")
        self.assertEqual((r.status, doc["error"]["code"]), (400, "invalid_json"), doc)
        big = b"[" + b" " * (GW_MAX_BODY + 1) + b"]"
        self.assertEqual(call("POST", "/v1/transactions", G["a"], big)[0].status, 413)


GW_MAX_BODY = 1024 * 1024


class TenantLimits(unittest.TestCase):
    """Limits belong to the tenant: neither a rotation nor a second key
    hands back the burst or the month's quota."""

    def test_rotation_and_second_key_keep_the_burst(self):
        new_tenant("rot-burst")
        make_tier("slow3", 0.01, 3)  # one call per 100 s, burst 3
        k1 = make_key("rot-burst", "slow3")
        self.assertEqual([call("GET", "/v1/usage", k1["key"])[0].status for _ in range(4)],
                         [200, 200, 200, 429])
        r, k2 = admin("POST", "/v1/admin/keys/%s/rotate" % k1["id"])
        self.assertEqual(r.status, 201, k2)
        r, doc = call("GET", "/v1/usage", k2["key"])
        self.assertEqual((r.status, doc["error"]["code"]), (429, "rate_limited"))
        k3 = make_key("rot-burst", "slow3")
        r, doc = call("GET", "/v1/usage", k3["key"])
        self.assertEqual((r.status, doc["error"]["code"]), (429, "rate_limited"))

    def test_rotation_and_second_key_share_the_quota(self):
        new_tenant("rot-quota")
        make_tier("q3", 1000, 1000, quota=3)
        k1 = make_key("rot-quota", "q3")
        self.assertEqual([call("GET", "/v1/usage", k1["key"])[0].status for _ in range(2)],
                         [200, 200])
        r, k2 = admin("POST", "/v1/admin/keys/%s/rotate" % k1["id"])
        self.assertEqual(r.status, 201, k2)
        r, _ = call("GET", "/v1/usage", k2["key"])
        self.assertEqual(r.status, 200)
        self.assertEqual(limit_headers(r)["monthly"][0], 0)
        # The last 2xx was counted before it was sent: exhausted at once.
        r, doc = call("GET", "/v1/usage", k2["key"])
        self.assertEqual((r.status, doc["error"]["code"]), (429, "quota_exceeded"))
        k3 = make_key("rot-quota", "q3")
        r, doc = call("GET", "/v1/usage", k3["key"])
        self.assertEqual((r.status, doc["error"]["code"]), (429, "quota_exceeded"))
        self.assertEqual(db_count("SELECT sum(calls) FROM usage WHERE tenant_id = 'rot-quota'"
                                  " AND status_class = 2"), 3)


def keepalive_call(conn, method, path, key):
    """One call on an open keep-alive connection (http.client reconnects it
    if the server closed it); returns (response, document)."""
    conn.request(method, path, headers={"Authorization": "Bearer " + key})
    r = conn.getresponse()
    data = r.read()
    record(method, path, r, data)
    doc = json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/json") else None
    return r, doc


def last_2xx_then_next(key, n, port_a, port_b, path="/v1/usage"):
    """n calls on a connection to port_a, each answer read before the next
    call, then one on a connection to port_b opened beforehand, sent the
    moment the n-th answer is read: it reaches the server while the n-th
    answer's usage record may still be on its way back to the loop (or,
    with several nodes, on another node). Returns (the n statuses, the last
    call's status and error code)."""
    a = http.client.HTTPConnection("127.0.0.1", port_a, timeout=60)
    b = http.client.HTTPConnection("127.0.0.1", port_b, timeout=60)
    a.connect()
    b.connect()
    try:
        statuses = [keepalive_call(a, "GET", path, key)[0].status for _ in range(n)]
        r, doc = keepalive_call(b, "GET", path, key)
        return statuses, (r.status, doc["error"]["code"] if doc and "error" in doc else None)
    finally:
        a.close()
        b.close()


class QuotaSpentWhenAnswered(unittest.TestCase):
    """A 2xx's quota unit counts as spent before its answer leaves: a client
    that has read the month's last 2xx is told quota_exceeded by its very
    next call, never quota_pending (retry in a second). Many rounds, one
    tenant each, so a narrow window between sending an answer and counting
    it would be hit: the code that counted a 2xx only once its record came
    back to the loop, after the writer had sent it, failed 3 runs of 3
    (18 of 150 rounds in one, on a loaded machine)."""

    ROUNDS = 150

    def test_next_call_after_the_last_2xx_is_quota_exceeded(self):
        make_tier("q2", 100000, 100000, quota=2)
        keys = [make_key(new_tenant("spent-%d" % i), "q2")["key"] for i in range(self.ROUNDS)]
        wrong = []
        for i, k in enumerate(keys):
            statuses, last = last_2xx_then_next(k, 2, G["port"], G["port"])
            self.assertEqual(statuses, [200, 200], i)
            if last != (429, "quota_exceeded"):
                wrong.append((i, last))
        self.assertEqual(wrong, [], "%d of %d rounds" % (len(wrong), self.ROUNDS))
        self.assertEqual(db_count("SELECT sum(calls) FROM usage WHERE tenant_id LIKE 'spent-%'"
                                  " AND status_class = 2"), 2 * self.ROUNDS)


def concurrently(n, fn):
    """Runs fn(i) in n threads released together; returns the results."""
    gate = threading.Barrier(n)
    out = [None] * n

    def run(i):
        gate.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


class QuotaInFlight(unittest.TestCase):
    """Requests in flight reserve a quota unit; one refused only because of
    them is told to retry in a second (quota_pending), never that the month
    is used up, and no more 2xx are served than the quota."""

    def test_in_flight_reservations_are_not_an_exhausted_month(self):
        new_tenant("pending")
        quota, n = 20, 40
        make_tier("q20", 100000, 100000, quota=quota)
        k = make_key("pending", "q20")

        def bad(_):
            r, doc = call("GET", "/v1/usage?bogus=1", k["key"])
            return r.status, doc["error"]["code"], r.getheader("Retry-After")

        for status, code, retry in concurrently(n, bad):
            self.assertIn((status, code), [(400, "invalid_parameter"), (429, "quota_pending")])
            if status == 429:
                self.assertEqual(retry, "1")

        def good(_):
            for _ in range(600):  # a generous deadline: 600 retries
                r, doc = call("GET", "/v1/usage", k["key"])
                if r.status != 429 or doc["error"]["code"] != "quota_pending":
                    return r.status, doc["error"]["code"] if r.status != 200 else None, \
                        (r.getheader("Retry-After"), limit_headers(r)["monthly"][1])
                self.assertEqual(r.getheader("Retry-After"), "1")
                time.sleep(0.05)
            return None

        got = concurrently(n, good)
        self.assertEqual(sum(1 for g in got if g and g[0] == 200), quota, got)
        exhausted = [g for g in got if g and g[0] == 429]
        self.assertEqual(len(exhausted), n - quota, got)
        for _, code, (retry, month_end) in exhausted:
            self.assertEqual(code, "quota_exceeded")
            self.assertEqual(int(retry), month_end)  # the month's end, not a second
        self.assertEqual(db_count("SELECT sum(calls) FROM usage WHERE tenant_id = 'pending'"
                                  " AND status_class = 2"), quota)


def limit_headers(r):
    """The burst and monthly parts of RateLimit, as {name: (remaining, reset)}."""
    parts = {}
    for item in r.getheader("RateLimit").split(", "):
        name, rest = item.split(";", 1)
        kv = dict(x.split("=") for x in rest.split(";"))
        parts[name.strip('"')] = (int(kv["r"]), int(kv["t"]))
    return parts


class ReadWhileMetered(unittest.TestCase):
    def test_requests_arriving_while_the_last_is_metered_are_all_answered_in_order(self):
        """A request that arrives while its connection's previous call is out
        for metering (its record not yet back, or back but not yet taken by
        the loop) is read at once and served when the record comes back:
        each pair here goes as two writes, the second straight after the
        first, before any answer is read. Every answer must come, in order
        (X-Request-Id), and every call be metered once."""
        key = make_key(new_tenant("read-while-metered"), "wide")
        s = socket.create_connection(("127.0.0.1", G["port"]), timeout=60)
        f = s.makefile("rb")

        def req(rid):
            return ("GET /v1/usage HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
                    "X-Request-Id: %s\r\n\r\n" % (key["key"], rid)).encode()

        def answer():
            status, headers, _ = read_response(f)
            return status, headers.get("x-request-id")
        try:
            got = []
            for i in range(40):
                s.sendall(req("rwm-%d-a" % i))
                s.sendall(req("rwm-%d-b" % i))
                got += [answer(), answer()]
        finally:
            f.close()
            s.close()
        self.assertEqual(got, [(200, "rwm-%d-%s" % (i, x)) for i in range(40) for x in "ab"])
        wait_for("80 calls metered", lambda: usage_by_class(key["id"]).get(2, 0) == 80)


class PoolHandBack(unittest.TestCase):
    def test_many_connections_pipelining_pool_calls_are_all_answered_in_order(self):
        """Offloaded calls (GET /v1/usage runs on the gateway's request
        threads) from 32 connections at once, each pipelining 10: every
        answer comes, in its connection's order (X-Request-Id), every call is
        metered once, and the handlers came back to the loop through the
        gateway's own pool (pool.h), counted in /metrics: as many jobs as
        calls at least, in no more wake-ups than jobs."""
        key = make_key(new_tenant("pool-hand-back"), "wide")
        conns, depth = 32, 10
        before = scrape()
        results = [None] * conns

        def client(n):
            s = socket.create_connection(("127.0.0.1", G["port"]), timeout=60)
            f = s.makefile("rb")
            try:
                s.sendall(b"".join(get_req("/v1/usage", key["key"], b"X-Request-Id: pool-%d-%d\r\n" % (n, i))
                                   for i in range(depth)))
                got = []
                for _ in range(depth):
                    r = read_response(f)
                    got.append(r and (r[0], r[1].get("x-request-id")))
                results[n] = got
            finally:
                f.close()
                s.close()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n in range(conns):
            self.assertEqual(results[n], [(200, "pool-%d-%d" % (n, i)) for i in range(depth)])
        after = scrape()
        jobs = after["floatcast_pool_jobs_total"] - before.get("floatcast_pool_jobs_total", 0)
        wakeups = after["floatcast_pool_wakeups_total"] - before.get("floatcast_pool_wakeups_total", 0)
        self.assertGreaterEqual(jobs, conns * depth)
        self.assertGreaterEqual(wakeups, 1)
        self.assertLessEqual(wakeups, jobs)
        wait_for("%d calls metered" % (conns * depth),
                 lambda: usage_by_class(key["id"]).get(2, 0) == conns * depth)


class HeldAnswers(unittest.TestCase):
    def test_clients_resetting_while_held_never_get_or_cause_a_wrong_answer(self):
        """The metering writer sends a committed answer on its connection's
        socket (metering.h), so that socket must stay open while the record
        is out even when the client resets it meanwhile: were it closed, a
        new connection could get its fd and the writer would send it a
        stranger's answer. Clients that send a metered call and reset at
        once race clients on keep-alive connections whose every answer must
        carry the X-Request-Id they sent. The keep-alive connections are
        open (one answer each) before the resets start: the resetters may
        reach the per-address cap, and a connection refused there is not
        what this checks."""
        stop, wrong, resets = threading.Event(), [], [0]
        head = ("GET /v1/usage HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n\r\n" % G["a"]).encode()

        def resetter():
            for _ in range(200):
                if stop.is_set():
                    break
                try:
                    s = socket.create_connection(("127.0.0.1", G["port"]), timeout=60)
                except OSError:
                    continue
                try:
                    s.sendall(head)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    resets[0] += 1
                except OSError:
                    pass  # refused at the per-address cap
                s.close()  # RST: the answer, if any, is being held or sent

        def ask(c, rid):
            c.request("GET", "/v1/usage", headers={"Authorization": "Bearer " + G["a"], "X-Request-Id": rid})
            r = c.getresponse()
            r.read()
            if r.status != 200 or r.getheader("X-Request-Id") != rid:
                wrong.append((rid, r.status, r.getheader("X-Request-Id")))

        def checker(n, c):
            try:
                for i in range(1, 60):
                    ask(c, "check-%d-%d" % (n, i))
            except Exception as e:  # a kept-alive connection is never dropped
                wrong.append(("check-%d" % n, repr(e)))
            c.close()
        conns = [http.client.HTTPConnection("127.0.0.1", G["port"], timeout=60) for _ in range(4)]
        for n, c in enumerate(conns):
            ask(c, "check-%d-0" % n)
        resetters = [threading.Thread(target=resetter) for _ in range(2)]
        checkers = [threading.Thread(target=checker, args=(n, c)) for n, c in enumerate(conns)]
        sent0 = scrape().get("floatcast_metering_send_seconds_count", 0)
        for t in resetters + checkers:
            t.start()
        for t in checkers:
            t.join()
        stop.set()
        for t in resetters:
            t.join()
        self.assertEqual(wrong, [])
        self.assertGreater(resets[0], 0)
        # The writer sent the answers (the checkers' at least).
        self.assertGreaterEqual(scrape()["floatcast_metering_send_seconds_count"] - sent0, 1)
        self.assertEqual(call("GET", "/v1/usage", G["a"])[0].status, 200)  # still serving


class Restart(unittest.TestCase):
    """The monthly quota lives in the usage table, so it survives a clean
    restart and a kill -9 alike; the burst allowance is in memory and starts
    full again."""

    def test_quota_and_headers_survive_restart_and_kill(self):
        db = os.path.join(G["tmp"], "restart.db")
        proc, port, demo1 = spawn(db, seed=True)
        try:
            r, doc = call("PUT", "/v1/admin/tiers/q5", ADMIN, port=port,
                          body={"rate_per_second": 1000, "burst": 50, "monthly_quota": 5,
                                "max_horizon_hours": 720, "max_history_days": 365,
                                "granularities": ["day"]})
            self.assertEqual(r.status, 200, doc)
            r, key = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": "demo", "tier": "q5"},
                          port=port)
            self.assertEqual(r.status, 201, key)
            path = "/v1/reports/treasury/projection?horizon=6"
            monthly = []
            for _ in range(2):
                r, _ = call("GET", path, key["key"], port=port)
                self.assertEqual(r.status, 200)
                monthly.append(limit_headers(r)["monthly"][0])
            # A refused call (400) gives its quota unit back, before and after.
            self.assertEqual(call("GET", path + "&bogus=1", key["key"], port=port)[0].status, 400)
            self.assertEqual(monthly, [4, 3])
            self.assertEqual(stop(proc), 0)

            proc, port, demo2 = spawn(db, seed=True)  # --seed-demo reissues only the demo key
            r, doc = call("GET", path, demo1, port=port)
            self.assertEqual((r.status, doc["error"]["code"]), (401, "revoked_key"))
            # The admin-issued key's call comes first: the burst state is the
            # tenant's, and a call with the demo key (tier pro, 50/s) before it
            # would hold 20 ms of it, so "full" would depend on how fast the
            # machine answers (it failed whenever the answer took < 20 ms).
            r, _ = call("GET", path, key["key"], port=port)
            self.assertEqual(r.status, 200, "an admin-issued key of the demo tenant stays valid")
            h = limit_headers(r)
            # The quota is the tenant's: the 2 calls before the restart are used.
            self.assertEqual(h["monthly"][0], 2, "the quota used before the restart is kept")
            self.assertEqual(h["burst"][0], 49, "the burst starts full after a restart")
            self.assertEqual(r.getheader("X-RateLimit-Remaining"), "49")
            self.assertIn('"monthly";q=5;w=2592000', r.getheader("RateLimit-Policy"))
            self.assertGreater(h["monthly"][1], 0)
            # The demo key's call (same tenant) uses the fourth unit.
            self.assertEqual(call("GET", path, demo2, port=port)[0].status, 200)
            proc.kill()  # SIGKILL: the answered call was committed before it was sent
            proc.wait()
            proc.stdout.close()

            proc, port, _ = spawn(db)
            got = [call("GET", path, key["key"], port=port) for _ in range(3)]
            self.assertEqual([x[0].status for x in got], [200, 429, 429])
            self.assertEqual([limit_headers(x[0])["monthly"][0] for x in got], [0, 0, 0])
            self.assertEqual(got[2][1]["error"]["code"], "quota_exceeded")
            month_end = limit_headers(got[2][0])["monthly"][1]
            self.assertEqual(int(got[2][0].getheader("Retry-After")), month_end)
            self.assertEqual(stop(proc), 0)
            proc = None
            served = db_count_in(db, "SELECT sum(calls) FROM usage WHERE tenant_id = 'demo' AND "
                                 "status_class = 2")
            self.assertEqual(served, 5)  # the tenant's quota, over both its keys
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
                proc.stdout.close()


class GracefulShutdown(unittest.TestCase):
    """SIGTERM under load: requests in progress are answered, their usage is
    committed before they are, and the access log holds one structured
    line per request."""

    def test_sigterm_under_load_flushes_metering(self):
        db = os.path.join(G["tmp"], "drain.db")
        # The four clients are one tenant's four projections in flight: a
        # pool of 8 threads lets one tenant run up to 7 heavy calls, and
        # max_concurrent 4 admits all four (every answer here is a 200).
        proc, port, _ = spawn(db, ["--anon-rate", "100000", "--anon-burst", "100000"], seed=True,
                              quiet=False, env=dict(ENV, UV_THREADPOOL_SIZE="8"))
        make = lambda m, p, b: call(m, p, ADMIN, b, port=port)
        self.assertEqual(make("PUT", "/v1/admin/tiers/flood", {
            "rate_per_second": 1e6, "burst": 1000000, "monthly_quota": 0,
            "max_horizon_hours": 720, "max_history_days": 365,
            "granularities": ["day"], "max_concurrent": 4})[0].status, 200)
        r, key = make("POST", "/v1/admin/keys", {"tenant_id": "demo", "tier": "flood"})
        self.assertEqual(r.status, 201)
        received = [0]
        lock = threading.Lock()
        started = threading.Barrier(5)

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            started.wait()
            try:
                while True:
                    conn.request("GET", "/v1/reports/treasury/projection?horizon=6",
                                 headers={"Authorization": "Bearer " + key["key"]})
                    r = conn.getresponse()
                    r.read()
                    self.assertEqual(r.status, 200)
                    with lock:
                        received[0] += 1
                    if r.getheader("Connection") == "close":
                        return
            except (OSError, http.client.HTTPException):
                return  # the drain closed this idle connection
            finally:
                conn.close()
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        started.wait()
        # Under load means with requests in progress: signal once the four
        # clients have had 20 answers, however long that takes.
        wait_for("20 answers before SIGTERM", lambda: received[0] >= 20 or
                 not any(t.is_alive() for t in threads))
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(120)
            self.assertFalse(t.is_alive(), "a client still waits for an answer")
        self.assertEqual(proc.wait(timeout=60), 0)
        proc.stdout.close()
        self.assertGreaterEqual(received[0], 20)
        metered = db_count_in(db, "SELECT coalesce(sum(calls), 0) FROM usage WHERE key_id = ? "
                              "AND status_class = 2", (key["id"],))
        self.assertEqual(metered, received[0], "every answered call and only those is counted")
        with open(db + ".stderr", errors="replace") as f:
            lines = [json.loads(l) for l in f if l.startswith("{")]
        mine = [x for x in lines if x.get("key") == key["id"]]
        self.assertEqual(len(mine), received[0])
        for x in mine:
            self.assertEqual(set(x) - {"cache"}, {"ts", "peer", "method", "target", "route",
                                                  "status", "bytes", "ms", "tenant", "key",
                                                  "request_id"})
            self.assertRegex(x["request_id"], r"^[0-9a-f]{32}$")
            self.assertEqual((x["method"], x["route"], x["status"], x["tenant"]),
                             ("GET", "projection", 200, "demo"))
            self.assertRegex(x["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertRegex(x["peer"], r"^127\.0\.0\.1:\d+$")
            self.assertGreater(x["bytes"], 0)
        self.assertTrue(any(x.get("cache") == "hit" for x in mine))
        self.assertTrue(any(x.get("caller") == "admin" for x in lines))


class Checkpoints(unittest.TestCase):
    def test_sparse_calls_do_not_checkpoint_after_each(self):
        """A complete checkpoint makes the next usage commit start the WAL over
        and fsync its new header, which holds that call. A gateway serving a
        call now and then checkpointed in every gap (on a 100 ms clock), so
        almost every call paid that fsync; now a small WAL waits. A gateway
        told to copy from one page on does checkpoint, and shows when the
        checkpointer has had its looks."""
        gws = {}
        try:
            for name, extra in (("default", []), ("witness", ["--checkpoint-pages", "1"])):
                db = os.path.join(G["tmp"], "ckpt-%s.db" % name)
                proc, port, _ = spawn(db, extra)
                gws[name] = (proc, port)
                self.assertEqual(call("PUT", "/v1/admin/tiers/ck", ADMIN, {
                    "rate_per_second": 1000, "burst": 1000, "monthly_quota": 0,
                    "max_horizon_hours": 24, "max_history_days": 30, "granularities": ["day"]},
                    port=port)[0].status, 200)
                self.assertEqual(call("POST", "/v1/admin/tenants", ADMIN, {"id": "ck", "name": "ck"},
                                      port=port)[0].status, 201)
                r, doc = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": "ck", "tier": "ck"},
                              port=port)
                self.assertEqual(r.status, 201, doc)
                gws[name] += (doc["key"],)
            for _ in range(5):
                for proc, port, key in gws.values():
                    self.assertEqual(call("GET", "/v1/usage", key, port=port)[0].status, 200)
                _, wport, _ = gws["witness"]
                seen = scrape(wport).get("floatcast_wal_checkpoint_seconds_count", 0)
                wait_for("the witness's checkpoint after a call",
                         lambda: scrape(wport).get("floatcast_wal_checkpoint_seconds_count", 0) > seen)
            m = scrape(gws["default"][1])
            self.assertGreaterEqual(m["floatcast_metering_commit_seconds_count"], 5)
            self.assertLess(m["floatcast_wal_frames"], 1024)  # an idle writer's WAL is copied from 1024
            self.assertEqual(m.get("floatcast_wal_checkpoint_seconds_count", 0), 0)
        finally:
            for g in gws.values():
                self.assertEqual(stop(g[0]), 0)


class Config(unittest.TestCase):
    def test_config_file_and_flags(self):
        db = os.path.join(G["tmp"], "config.db")
        cfg = os.path.join(G["tmp"], "gw.json")
        with open(cfg, "w") as f:
            json.dump({"admin_key": "config-admin-key", "anon_rate": 0.1, "anon_burst": 2,
                       "checkpoint_ms": 50, "checkpoint_pages": 64, "cache_ttl_seconds": 60,
                       "tiers": {"cfgtier": {"rate_per_second": 3, "burst": 4,
                                             "monthly_quota": 9, "max_horizon_hours": 24,
                                             "max_history_days": 10,
                                             "granularities": ["day"]}}}, f)
        env = {k: v for k, v in ENV.items() if k != "FLOATCAST_ADMIN_KEY"}
        # Flags win over the file: burst 3 at 1000/s (a window of 1 s), not 2 at 0.1/s.
        proc, port, _ = spawn(db, ["--config", cfg, "--anon-burst", "3", "--anon-rate", "1000"],
                              seed=True, env=env)
        try:
            r, _ = call("GET", "/healthz", port=port)
            self.assertEqual(r.getheader("RateLimit-Policy"), '"burst";q=3;w=1')
            self.assertEqual(call("GET", "/v1/usage", ADMIN, port=port)[0].status, 401)
            r, doc = call("POST", "/v1/admin/keys", "config-admin-key",
                          {"tenant_id": "demo", "tier": "cfgtier"}, port=port)
            self.assertEqual(r.status, 201, doc)
            r, doc = call("GET", "/v1/reports/treasury/projection?horizon=48", doc["key"],
                          port=port)
            self.assertEqual((r.status, doc["error"]["code"]), (403, "tier_limit"))
            self.assertIn("max_horizon_hours", doc["error"]["message"])
            self.assertIn('"monthly";q=9', r.getheader("RateLimit-Policy"))
            self.assertIn('"burst";q=4', r.getheader("RateLimit-Policy"))
        finally:
            self.assertEqual(stop(proc), 0)
        proc, port, _ = spawn(db, ["--config", cfg], env=env)  # the file's own values
        try:
            r, _ = call("GET", "/healthz", port=port)
            self.assertEqual(r.getheader("RateLimit-Policy"), '"burst";q=2;w=20')
        finally:
            self.assertEqual(stop(proc), 0)
        for bad in ({"listen": 5}, {"tiers": {"x": {"burst": 1}}}, {"colour": "red"},
                    {"checkpoint_ms": -1}, {"checkpoint_pages": 0}, {"checkpoint_pages": 16385}):
            with open(cfg, "w") as f:
                json.dump(bad, f)
            out = subprocess.run([ARGS.gateway, "--config", cfg, "--db", gwdb.arg(db), "--listen",
                                  "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=env, timeout=60)
            self.assertNotEqual(out.returncode, 0, bad)
            self.assertIn(b"config", out.stderr, bad)


class SingleProcess(unittest.TestCase):
    @gwdb.sqlite_only("SQLite's single-process mode (--db-single-process)")
    def test_single_process_mode_shuts_out_other_processes_and_meters_exactly(self):
        """--db-single-process: the gateway's connections share the WAL-index
        in memory behind one lock on the file (SQLite's unix-excl VFS), so
        another process cannot read the file while it runs (the mode is
        real, not a no-op), and every call is still metered exactly."""
        db = os.path.join(G["tmp"], "single.db")
        proc, port, _ = spawn(db, ["--db-single-process"], seed=True)
        n = 40
        try:
            r, doc = call("PUT", "/v1/admin/tiers/wide", ADMIN, {
                "rate_per_second": 100000, "burst": 100000, "monthly_quota": 0, "max_horizon_hours": 720,
                "max_history_days": 365, "granularities": ["day"]}, port=port)
            self.assertEqual(r.status, 200, doc)
            r, key = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": "demo", "tier": "wide"}, port=port)
            self.assertEqual(r.status, 201, key)
            for i in range(n):  # cached and computed answers, and pool calls
                path = "/v1/usage" if i % 2 else "/v1/reports/treasury/projection?horizon=%d" % (1 + i % 3)
                r, doc = call("GET", path, key["key"], port=port)
                self.assertEqual(r.status, 200, doc)
            con = sqlite3.connect(db, timeout=0)
            try:
                with self.assertRaises(sqlite3.OperationalError) as cm:
                    con.execute("SELECT count(*) FROM usage").fetchone()
            finally:
                con.close()
            self.assertIn("locked", str(cm.exception))
            out = subprocess.run([ARGS.gateway, "usage", "export", "--db", db, "--from", "2000-01-01",
                                  "--to", "2100-01-01"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=120)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn(b"locked", out.stderr)
        finally:
            self.assertEqual(stop(proc), 0)
        # The lock ends with the process: the file is readable, the counts exact.
        self.assertEqual(db_count_in(db, "SELECT sum(calls) FROM usage WHERE key_id = ? AND status_class = 2",
                                     (key["id"],)), n)
        self.assertEqual(db_count_in(db, "PRAGMA integrity_check"), "ok")

    def test_single_process_mode_is_refused_for_postgresql(self):
        out = subprocess.run([ARGS.gateway, "--db", "postgresql://fc@127.0.0.1:1/none", "--db-single-process",
                              "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=ENV, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"single-process mode is for an SQLite file", out.stderr)


class Crash(unittest.TestCase):
    def test_zz_kill9_loses_nothing_counts_nothing_twice(self):
        self.kill9_lives("crash.db", [])

    @gwdb.sqlite_only("SQLite's single-process mode (--db-single-process)")
    def test_zz_kill9_single_process_loses_nothing_counts_nothing_twice(self):
        """The WAL-index lives in memory in this mode: each start after a
        kill -9 rebuilds it from the WAL, which must hold every answered call."""
        self.kill9_lives("crash-single.db", ["--db-single-process"])

    def kill9_lives(self, name, mode):
        db = os.path.join(G["tmp"], name)
        proc, port, _ = spawn(db, ["--anon-rate", "100000", "--anon-burst", "100000"] + mode, seed=True)
        state = {"port": port}
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def adm(method, path, body):
            c.request(method, path, body=json.dumps(body),
                      headers={"Authorization": "Bearer " + ADMIN})
            r = c.getresponse()
            return r.status, json.loads(r.read())
        adm("PUT", "/v1/admin/tiers/flood", {"rate_per_second": 1e6, "burst": 1000000,
            "monthly_quota": 0, "max_horizon_hours": 720, "max_history_days": 365,
            "granularities": ["day"]})
        keys = [adm("POST", "/v1/admin/keys", {"tenant_id": "demo", "tier": "flood"})[1]
                for _ in range(2)]
        c.close()
        received = {k["id"]: 0 for k in keys}
        in_flight = [0]
        lock = threading.Lock()
        running = threading.Event()
        done = threading.Event()

        def client(key):
            conn = None
            while not done.is_set():
                if not running.is_set():
                    time.sleep(0.01)
                    continue
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", state["port"], timeout=60)
                    conn.request("GET", "/v1/reports/treasury/projection?horizon=6",
                                 headers={"Authorization": "Bearer " + key["key"]})
                    r = conn.getresponse()
                    r.read()
                    if 200 <= r.status < 300:
                        with lock:
                            received[key["id"]] += 1
                except (OSError, http.client.HTTPException):
                    with lock:
                        in_flight[0] += 1  # sent, never answered: at most one per client
                    conn = None
                    time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(keys[i % 2],)) for i in range(6)]
        for t in threads:
            t.start()
        rng = random.Random(4)
        served = lambda: sum(received.values())
        want = 0
        try:
            for _ in range(3):
                # Each life of the gateway serves a random number of answers
                # (not a random time: a slow machine would serve next to
                # none), then dies by SIGKILL with requests in flight.
                want = served() + rng.randint(15, 40)
                running.set()
                wait_for("%d answers before the kill" % want, lambda: served() >= want,
                         deadline=180)
                proc.kill()  # SIGKILL at a random instant
                proc.wait()
                proc.stdout.close()
                running.clear()
                proc, port, _ = spawn(db, ["--anon-rate", "100000", "--anon-burst", "100000"] + mode)
                state["port"] = port
        finally:
            done.set()
            for t in threads:
                t.join()
        self.assertEqual(stop(proc), 0)
        if not gwdb.is_pg():
            self.assertEqual(db_count_in(db, "PRAGMA integrity_check"), "ok")
        total_received = sum(received.values())
        self.assertGreaterEqual(total_received, want)
        metered_all = 0
        for k in keys:
            m = db_count_in(db, "SELECT coalesce(sum(calls),0) FROM usage WHERE key_id = ? AND "
                            "status_class = 2", (k["id"],))
            self.assertGreaterEqual(m, received[k["id"]], "a served call was lost")
            metered_all += m
        self.assertLessEqual(metered_all, total_received + in_flight[0],
                             "counted more than served plus in flight")


class ZShutdown(unittest.TestCase):
    def test_zz_clean_exit(self):
        proc = G["proc"]
        self.assertEqual(stop(proc), 0)
        with open(G["db"] + ".stderr", errors="replace") as f:
            err = f.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)
        if not gwdb.is_pg():
            self.assertEqual(db_count("PRAGMA integrity_check"), "ok")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ARGS, rest = ap.parse_known_args()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
