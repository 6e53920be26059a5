#!/usr/bin/python3
"""Browser sessions and the treasury snapshot over loopback.

POST /v1/sessions with a partner key sets an HttpOnly, SameSite=Strict
cookie (Secure behind a proxy saying https); with the cookie a browser
reads its own tenant (never another's), runs what-ifs (JSON or
X-Requested-With only: the CSRF check), and is refused admin endpoints,
ingestion and opening further sessions. A session ends on DELETE
/v1/sessions, when its key is revoked, and when it expires (a gateway
with --session-ttl 1, polled until the cookie is refused); its calls are
metered under the key and draw on the tenant's rate limit. Sessions
survive a restart (only the token's digest is stored). The snapshot
holds the tenant's records in the canonical formats, and the CLI given
them as files answers what the projection endpoint answers.

Reuses test_metered.py's helpers. Nothing waits for a fixed time.

Usage: test_sessions.py --gateway PATH --cli PATH [unittest args]. Stdlib only.
"""
import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402
import test_metered as tm  # noqa: E402
from test_metered import G, admin, call, make_key, make_tier  # noqa: E402

CLI = None


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-sessions-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], G["demo"] = tm.spawn(
        G["db"], ["--anon-rate", "100000", "--anon-burst", "100000"], seed=True)
    make_tier("wide", 100000, 100000)
    make_tier("tight", 0.001, 4)
    for t in ("acme", "slow"):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": t, "name": t.title()})
        assert r.status == 201, doc
    G["acme"] = make_key("acme", "wide")
    r, doc = call("POST", "/v1/accounts", G["acme"]["key"],
                  [{"id": "acme-op", "tenant_id": "acme", "currency": "EUR",
                    "balance_available": "12.34"}])
    assert r.status == 200, doc


def tearDownModule():
    tm.tearDownModule()


def open_session(key, headers=None, port=None):
    """(response, body, cookie header value 'fc_session=...')."""
    r, doc = call("POST", "/v1/sessions", key, port=port, headers=headers)
    cookie = None
    sc = r.getheader("Set-Cookie") or ""
    if sc.startswith("fc_session="):
        cookie = sc.split(";", 1)[0]
    return r, doc, cookie


def with_cookie(method, path, cookie, body=None, headers=None, port=None):
    h = {"Cookie": cookie}
    h.update(headers or {})
    return call(method, path, body=body, headers=h, port=port)


class Sessions(unittest.TestCase):
    def test_cookie_attributes_and_token_not_in_body(self):
        r, doc, cookie = open_session(G["demo"])
        self.assertEqual(r.status, 201, doc)
        sc = r.getheader("Set-Cookie")
        for attr in ("Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=1800"):
            self.assertIn(attr, sc)
        self.assertNotIn("Secure", sc)  # plain HTTP, no proxy said https
        token = cookie.split("=", 1)[1]
        self.assertRegex(token, r"^fs_[0-9a-f]{12}_[0-9a-f]{48}$")
        self.assertNotIn(token, json.dumps(doc))
        self.assertEqual(doc["tenant_id"], "demo")
        self.assertEqual(doc["ttl_seconds"], 1800)
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        # Only the digest is stored.
        row = gwdb.sql(G["db"], "SELECT token_sha256 FROM sessions WHERE id = ?",
                       (doc["session_id"],))[0]
        self.assertEqual(row[0], hashlib.sha256(token.encode()).hexdigest())
        for h in ({"X-Forwarded-Proto": "https"}, {"Forwarded": "for=1.2.3.4;proto=https"}):
            r, _, _ = open_session(G["demo"], headers=h)
            self.assertIn("; Secure", r.getheader("Set-Cookie"), h)
        r, _, _ = open_session(G["demo"], headers={"X-Forwarded-Proto": "http"})
        self.assertNotIn("Secure", r.getheader("Set-Cookie"))

    def test_bad_bodies_refused(self):
        for body in ('{"ttl": 5}', "[]", "nonsense"):
            r, doc = call("POST", "/v1/sessions", G["demo"], body=body)
            self.assertEqual(r.status, 400, body)
            self.assertIsNone(r.getheader("Set-Cookie"))
        r, doc = call("POST", "/v1/sessions")
        self.assertEqual(r.status, 401, doc)

    def test_reads_own_tenant_only(self):
        _, _, demo = open_session(G["demo"])
        _, _, acme = open_session(G["acme"]["key"])
        r, snap = with_cookie("GET", "/v1/treasury/snapshot", acme)
        self.assertEqual(r.status, 200, snap)
        self.assertEqual(snap["tenant_id"], "acme")
        self.assertEqual([a["id"] for a in snap["accounts"]], ["acme-op"])
        self.assertEqual(snap["accounts"][0]["balance_available"], "12.34")
        r, snap = with_cookie("GET", "/v1/treasury/snapshot", demo)
        self.assertEqual(snap["tenant_id"], "demo")
        self.assertTrue(all(a["tenant_id"] == "demo" for a in snap["accounts"]))
        # The usage endpoint names no other tenant either.
        r, doc = with_cookie("GET", "/v1/usage?tenant=demo", acme)
        self.assertEqual(r.status, 403, doc)
        # acme's key with demo's cookie is acme: the key wins, and cannot end demo's session.
        r, doc = call("DELETE", "/v1/sessions", G["acme"]["key"], headers={"Cookie": demo})
        self.assertEqual((r.status, doc["revoked"]), (200, 0))
        r, doc = with_cookie("GET", "/v1/treasury/snapshot", demo)
        self.assertEqual((r.status, doc["tenant_id"]), (200, "demo"))

    def test_projection_and_what_if_with_cookie(self):
        _, _, cookie = open_session(G["demo"])
        q = "/v1/reports/treasury/projection?currency=USDC&horizon=24"
        r, by_cookie = with_cookie("GET", q, cookie)
        self.assertEqual(r.status, 200, by_cookie)
        r, by_key = call("GET", q, G["demo"])
        self.assertEqual(by_cookie, by_key)
        body = {"now": "2025-12-01T12:00:00Z", "horizon": 24, "currency": "USDC"}
        # CSRF: a state-changing cookie call must be JSON or carry X-Requested-With.
        r, doc = with_cookie("POST", "/v1/what-if", cookie, body)
        self.assertEqual(r.status, 403, doc)
        self.assertEqual(doc["error"]["code"], "csrf_check")
        r, doc = with_cookie("POST", "/v1/what-if", cookie, body,
                             {"Content-Type": "text/plain"})
        self.assertEqual(r.status, 403, doc)
        r, doc = with_cookie("POST", "/v1/what-if", cookie, body,
                             {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, doc)
        r, doc = with_cookie("POST", "/v1/what-if", cookie, body, {"X-Requested-With": "fetch"})
        self.assertEqual(r.status, 200, doc)

    def test_no_admin_no_ingestion_no_new_session(self):
        _, _, cookie = open_session(G["demo"])
        json_h = {"Content-Type": "application/json"}
        for method, path, body in [
                ("GET", "/v1/admin/tenants", None),
                ("GET", "/v1/admin/keys", None),
                ("POST", "/v1/admin/tenants", {"id": "evil", "name": "Evil"}),
                ("DELETE", "/v1/admin/keys/" + G["acme"]["id"], None),
                ("POST", "/v1/accounts", [{"id": "x", "tenant_id": "demo", "currency": "USD",
                                           "balance_available": "1"}]),
                ("POST", "/v1/models/retrain", {}),
                ("POST", "/v1/sessions", None)]:
            r, doc = with_cookie(method, path, cookie, body, json_h)
            self.assertEqual(r.status, 403, (method, path, doc))
            self.assertEqual(doc["error"]["code"], "session_not_allowed")
        r, doc = admin("GET", "/v1/admin/tenants")
        self.assertNotIn("evil", [t["id"] for t in doc["tenants"]])
        r, snap = call("GET", "/v1/treasury/snapshot", G["demo"])
        self.assertNotIn("x", [a["id"] for a in snap["accounts"]])
        # The static page and health need no session and ignore the cookie.
        r, doc = with_cookie("GET", "/healthz", cookie)
        self.assertEqual(r.status, 200)

    def test_bad_cookies(self):
        for c in ("fc_session=garbage", "fc_session=fs_000000000000_" + "0" * 48,
                  "other=1; fc_session=fs_zz"):
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", c)
            self.assertEqual(r.status, 401, c)
            self.assertEqual(doc["error"]["code"], "invalid_session")
            self.assertIn("Max-Age=0", r.getheader("Set-Cookie"))
        # A right id with a wrong secret.
        _, _, cookie = open_session(G["demo"])
        forged = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
        r, doc = with_cookie("GET", "/v1/treasury/snapshot", forged)
        self.assertEqual(r.status, 401, doc)
        # Another cookie first, ours second: still found.
        r, doc = with_cookie("GET", "/v1/treasury/snapshot", "theme=dark; " + cookie)
        self.assertEqual(r.status, 200, doc)

    def test_delete_ends_session(self):
        _, _, cookie = open_session(G["demo"])
        r, doc = with_cookie("DELETE", "/v1/sessions", cookie)
        self.assertEqual(r.status, 403, doc)  # CSRF check applies to DELETE too
        r, doc = with_cookie("DELETE", "/v1/sessions", cookie,
                             headers={"X-Requested-With": "fetch"})
        self.assertEqual((r.status, doc["revoked"]), (200, 1))
        self.assertIn("Max-Age=0", r.getheader("Set-Cookie"))
        r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie)
        self.assertEqual(r.status, 401, doc)
        self.assertEqual(doc["error"]["code"], "invalid_session")

    def test_key_delete_ends_its_sessions(self):
        k = make_key("acme", "wide")
        cookies = [open_session(k["key"])[2] for _ in range(2)]
        _, _, other = open_session(G["acme"]["key"])
        r, doc = call("DELETE", "/v1/sessions", k["key"])
        self.assertEqual((r.status, doc["revoked"]), (200, 2))
        for c in cookies:
            self.assertEqual(with_cookie("GET", "/v1/treasury/snapshot", c)[0].status, 401)
        self.assertEqual(with_cookie("GET", "/v1/treasury/snapshot", other)[0].status, 200)

    def test_key_revocation_ends_sessions(self):
        k = make_key("acme", "wide")
        _, _, cookie = open_session(k["key"])
        self.assertEqual(with_cookie("GET", "/v1/treasury/snapshot", cookie)[0].status, 200)
        r, doc = admin("DELETE", "/v1/admin/keys/" + k["id"])
        self.assertEqual(r.status, 200, doc)
        r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie)
        self.assertEqual(r.status, 401, doc)
        self.assertEqual(doc["error"]["code"], "session_revoked")

    def test_metered_and_limited_as_the_key(self):
        """Tier 'tight': burst 4, one token per 1000 s. Opening the session
        takes one, two cookie calls two, the key one: then the tenant's
        burst is spent for cookie and key alike."""
        k = make_key("slow", "tight")
        r, _, cookie = open_session(k["key"])
        self.assertEqual(r.status, 201)
        for _ in range(2):
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie)
            self.assertEqual(r.status, 200, doc)
            self.assertIn('"burst";q=4', r.getheader("RateLimit-Policy"))
        self.assertEqual(call("GET", "/v1/treasury/snapshot", k["key"])[0].status, 200)
        r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie)
        self.assertEqual((r.status, doc["error"]["code"]), (429, "rate_limited"))
        r, doc = call("GET", "/v1/treasury/snapshot", k["key"])
        self.assertEqual(r.status, 429)
        # Metered under the key (answers are written after their record commits).
        rows = dict(gwdb.sql(
            G["db"], "SELECT endpoint || '/' || status_class, sum(calls) FROM usage"
            " WHERE key_id = ? GROUP BY 1", (k["id"],)))
        self.assertEqual(rows, {"session_create/2": 1, "treasury_snapshot/2": 3,
                                "treasury_snapshot/4": 2})


class Snapshot(unittest.TestCase):
    def test_snapshot_shape_and_refusals(self):
        r, snap = call("GET", "/v1/treasury/snapshot", G["demo"])
        self.assertEqual(r.status, 200, snap)
        self.assertEqual(snap["as_of"], "2025-12-01T12:00:00Z")
        self.assertIn("USDC=6", snap["currencies"].split(","))
        pending = [t for t in snap["transfers"] if t["status"] == "pending"]
        self.assertTrue(pending and any("scheduled_for" in t for t in pending))
        self.assertTrue(any(t["status"] == "completed" for t in snap["transfers"]))
        self.assertTrue(snap["streams"])
        usdc = [a for a in snap["accounts"] if a["currency"] == "USDC"]
        self.assertTrue(all(len(a["balance_available"].split(".")[1]) == 6 for a in usdc))
        r, doc = call("GET", "/v1/treasury/snapshot?tenant=acme", G["demo"])
        self.assertEqual(r.status, 400, doc)
        r, doc = call("GET", "/v1/treasury/snapshot")
        self.assertEqual(r.status, 401, doc)

    def test_snapshot_projects_as_the_gateway(self):
        """The snapshot written to canonical CSV files and projected by the
        CLI (the core the WASM module is built from) equals the gateway's
        projection for the same now, horizon and method."""
        r, snap = call("GET", "/v1/treasury/snapshot", G["demo"])
        d = tempfile.mkdtemp(dir=G["tmp"])
        files = {}
        for kind in ("accounts", "transfers", "streams"):
            rows = snap[kind]
            cols = sorted({c for row in rows for c in row})
            files[kind] = os.path.join(d, kind + ".csv")
            with open(files[kind], "w", newline="") as f:
                w = csv.DictWriter(f, cols)
                w.writeheader()
                for row in rows:
                    w.writerow({c: ("true" if v is True else v) for c, v in row.items()})
        for method in ("rule", "ml"):
            q = "/v1/reports/treasury/projection?horizon=48&method=%s&now=%s" % (
                method, snap["as_of"])
            r, gw = call("GET", q, G["demo"])
            self.assertEqual(r.status, 200, gw)
            out = subprocess.run(
                [CLI, "project", "--data", d, "--now", snap["as_of"],
                 "--horizon", "48", "--method", method, "--json"],
                capture_output=True, check=True, timeout=600)
            self.assertEqual(json.loads(out.stdout), gw, method)


class SecondNode(unittest.TestCase):
    @unittest.skipUnless(gwdb.is_pg(), "a database two nodes share: PostgreSQL")
    def test_session_opened_on_one_node_works_on_another(self):
        """A node that does not hold a cookie's session looks it up in the
        database (a browser's next call may reach another node at once); a
        session ended there is refused there, and an unknown one stays
        unknown. (Other nodes forgetting it within 1 s needs the shared key
        generation: the multi-node suite.)"""
        k = make_key("acme", "wide")  # before: without Redis a node learns keys at start
        proc, port, _ = tm.spawn(G["db"])
        try:
            r, doc, cookie = open_session(k["key"])
            self.assertEqual(r.status, 201, doc)
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie, port=port)
            self.assertEqual((r.status, doc.get("tenant_id")), (200, "acme"), doc)
            bogus = cookie[:-6] + "000000"
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", bogus, port=port)
            self.assertEqual((r.status, doc["error"]["code"]), (401, "invalid_session"))
            r, doc = with_cookie("DELETE", "/v1/sessions", cookie, port=port,
                                 headers={"X-Requested-With": "fetch"})
            self.assertEqual((r.status, doc), (200, {"revoked": 1}))
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie, port=port)
            self.assertEqual((r.status, doc["error"]["code"]), (401, "invalid_session"))
            # A key's DELETE on the second node counts the first node's sessions.
            open_session(k["key"])
            r, doc = call("DELETE", "/v1/sessions", k["key"], port=port)
            self.assertEqual((r.status, doc), (200, {"revoked": 1}))
        finally:
            self.assertEqual(tm.stop(proc), 0)

    @unittest.skipUnless(gwdb.is_pg(), "a database two nodes share: PostgreSQL")
    def test_unknown_cookies_are_limited_per_address(self):
        """Each unknown cookie costs the node a database read, so the read is
        charged to the address as a call without a key, before it is made,
        and the 401 that follows is charged as ever: with a burst of 5
        (refilling at 0.01/s) two unknown cookies get their 401, then 429s
        come without a lookup. Without the charge, five would get a 401."""
        proc, port, _ = tm.spawn(G["db"], extra=("--anon-burst", "5", "--anon-rate", "0.01"))
        try:
            codes = []
            for i in range(12):
                bogus = "fs_%012x_%048x" % (0xabc000 + i, i + 7)  # well formed, never issued
                r, doc = with_cookie("GET", "/v1/treasury/snapshot", "fc_session=" + bogus, port=port)
                codes.append((r.status, doc["error"]["code"]))
            self.assertIn((429, "rate_limited"), codes, codes)
            self.assertLessEqual(sum(1 for c in codes if c[0] == 401), 3, codes)
        finally:
            self.assertEqual(tm.stop(proc), 0)


class Restart(unittest.TestCase):
    def test_sessions_survive_restart_and_expire(self):
        """A session outlives a restart (the registry is rebuilt from the
        digests); with --session-ttl 1 a session expires: polled, with a
        deadline of minutes."""
        db = os.path.join(G["tmp"], "restart.db")
        env = tm.ENV
        proc, port, _ = tm.spawn(db)
        try:
            def adm(method, path, body=None):
                return call(method, path, tm.ADMIN, body, port=port)
            adm("POST", "/v1/admin/tenants", {"id": "r", "name": "R"})
            r, k = adm("POST", "/v1/admin/keys", {"tenant_id": "r", "tier": "pro"})
            self.assertEqual(r.status, 201, k)
            _, _, cookie = open_session(k["key"], port=port)
            self.assertEqual(tm.stop(proc), 0)
            proc, port, _ = tm.spawn(db, ["--session-ttl", "1"], env=env)
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", cookie, port=port)
            self.assertEqual((r.status, doc["tenant_id"]), (200, "r"))  # 30 min TTL kept
            r, doc, short = open_session(k["key"], port=port)
            self.assertIn("Max-Age=1", r.getheader("Set-Cookie"))
            deadline = time.monotonic() + 300
            while True:
                r, doc = with_cookie("GET", "/v1/treasury/snapshot", short, port=port)
                if r.status != 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # polling interval, not an expectation
            self.assertEqual((r.status, doc["error"]["code"]), (401, "session_expired"))
            r, doc = with_cookie("GET", "/v1/treasury/snapshot", short, port=port)
            self.assertEqual(r.status, 401)  # forgotten: now unknown
        finally:
            if proc.poll() is None:
                self.assertEqual(tm.stop(proc), 0)
            with open(db + ".stderr", errors="replace") as f:
                err = f.read()
            self.assertNotIn("Sanitizer", err)


# Last (classes run by name): SIGTERM, exit 0, no sanitizer report.
ZShutdown = tm.ZShutdown


def main():
    global CLI
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--cli", required=True)
    tm.ARGS, rest = ap.parse_known_args()
    CLI = tm.ARGS.cli
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
